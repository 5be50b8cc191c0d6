/* text.c — the tokeniser, vocabularies and encoding; see text.h. */
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* ---- characters ----------------------------------------------------------- */

enum { CH_SPACE, CH_PUNCT, CH_WORD };
#define CP_BAD 0xFFFFFFFFu

/* The code point at s[i] (n bytes in all) and its length; a malformed byte
 * is CP_BAD, one byte long. */
static uint32_t cp_at(const unsigned char *s, size_t n, size_t i, size_t *len)
{
    size_t l = utf8_len(s + i, n - i);
    if (l == 0) {
        *len = 1;
        return CP_BAD;
    }
    *len = l;
    if (l == 1)
        return s[i];
    uint32_t cp = s[i] & (0x7F >> l);
    for (size_t k = 1; k < l; k++)
        cp = cp << 6 | (s[i + k] & 0x3F);
    return cp;
}

static int cp_class(uint32_t cp)
{
    if (cp == CP_BAD || cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000 || cp == 0xFEFF)
        return CH_SPACE;
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')
                   ? CH_WORD : CH_PUNCT;
    if ((cp >= 0xA1 && cp <= 0xBF && cp != 0xAA && cp != 0xB2 && cp != 0xB3 && cp != 0xB5 &&
         cp != 0xB9 && cp != 0xBA) ||
        cp == 0xD7 || cp == 0xF7 || (cp >= 0x2010 && cp <= 0x2027) ||
        (cp >= 0x2030 && cp <= 0x205E) || (cp >= 0x3001 && cp <= 0x303F) ||
        (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
        (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65))
        return CH_PUNCT;
    return CH_WORD;
}

/* Punctuation that reads as an ASCII character: typographic quotes and
 * hyphens. 0 for none. */
static char cp_ascii(uint32_t cp)
{
    if (cp < 0x80)
        return (char)cp;
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x201B || cp == 0x2032)
        return '\'';
    if (cp == 0x201C || cp == 0x201D || cp == 0x201E || cp == 0x201F || cp == 0x2033)
        return '"';
    if (cp == 0x2010 || cp == 0x2011)
        return '-';
    return 0;
}

/* Lower case for the Latin, Greek and Cyrillic letters. */
static uint32_t cp_lower(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp < 0xC0)
        return cp;
    if (cp <= 0xDE && cp != 0xD7)
        return cp + 32;
    if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177))
        return cp | 1;
    if (cp >= 0x139 && cp <= 0x148 && (cp & 1))
        return cp + 1;
    if (cp == 0x178)
        return 0xFF;
    if (cp >= 0x179 && cp <= 0x17E && (cp & 1))
        return cp + 1;
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
        return cp + 32;
    if (cp >= 0x410 && cp <= 0x42F)
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 80;
    return cp;
}

static size_t cp_put(unsigned char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- the tokeniser ------------------------------------------------------- */

typedef struct tok_state {
    const unsigned char *s;
    size_t n;
    txt_emit emit;
    void *ctx;
    size_t count;
    int stop;
    unsigned char buf[TXT_TOKEN_MAX + 4];
    size_t len;        /* the token's true length; min(len, TXT_TOKEN_MAX) bytes in buf */
} tok_state;

static void tok_put(tok_state *t, const void *bytes, size_t n)
{
    if (t->len < TXT_TOKEN_MAX) {
        size_t room = TXT_TOKEN_MAX - t->len;
        memcpy(t->buf + t->len, bytes, n < room ? n : room);
    }
    t->len += n;
}

static void tok_emit(tok_state *t, const void *tok, size_t len)
{
    if (t->stop || len == 0)
        return;
    t->count++;
    t->stop = t->emit(t->ctx, tok, len) != 0;
}

static int class_at(const tok_state *t, size_t i, uint32_t *cp, size_t *len)
{
    if (i >= t->n) {
        *cp = 0, *len = 0;
        return CH_SPACE;
    }
    *cp = cp_at(t->s, t->n, i, len);
    return cp_class(*cp);
}

static int is_digit(uint32_t cp)
{
    return cp >= '0' && cp <= '9';
}

/* The length of a URL's prefix at s[i], or 0. */
static size_t url_prefix(const tok_state *t, size_t i)
{
    static const char *const pre[] = { "http://", "https://", "ftp://", "www." };
    for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++) {
        size_t l = strlen(pre[k]), j = 0;
        while (j < l && i + j < t->n && (t->s[i + j] | 0x20) == (unsigned char)pre[k][j])
            j++;
        if (j == l && i + l < t->n && t->s[i + l] > ' ')
            return l;
    }
    return 0;
}

/* A URL from s[i]; returns where it ends. */
static size_t tok_url(tok_state *t, size_t i, size_t pre)
{
    size_t j = i, l;
    uint32_t cp;
    while (j < t->n && class_at(t, j, &cp, &l) != CH_SPACE)
        j += l;
    while (j > i + pre && strchr(".,;:!?)]}\"'>", t->s[j - 1]))
        j--;
    t->len = 0;
    for (size_t k = i; k < j; k += l) {
        unsigned char out[4];
        cp = cp_lower(cp_at(t->s, t->n, k, &l));
        tok_put(t, out, cp_put(out, cp));
    }
    tok_emit(t, t->buf, t->len);
    return j;
}

/* Emits the word in t->buf, splitting off a contraction. */
static void tok_word(tok_state *t)
{
    size_t n = t->len;
    const char *w = (const char *)t->buf;
    if (n > TXT_TOKEN_MAX) {
        tok_emit(t, w, n);
        return;
    }
    if (n > 3 && !memcmp(w + n - 3, "n't", 3)) {
        tok_emit(t, w, n - 3);
        tok_emit(t, "n't", 3);
        return;
    }
    const char *q = memchr(w, '\'', n), *last = NULL;
    for (; q; q = memchr(q + 1, '\'', n - (size_t)(q + 1 - w)))
        last = q;
    if (last && last > w) {
        static const char *const suffix[] = { "s", "re", "ve", "ll", "d", "m" };
        size_t sl = n - (size_t)(last + 1 - w);
        for (size_t k = 0; k < sizeof suffix / sizeof suffix[0]; k++)
            if (sl == strlen(suffix[k]) && !memcmp(last + 1, suffix[k], sl)) {
                tok_emit(t, w, (size_t)(last - w));
                tok_emit(t, last, sl + 1);
                return;
            }
    }
    tok_emit(t, w, n);
}

/* A word from s[i]; returns where it ends. */
static size_t tok_scan_word(tok_state *t, size_t i)
{
    uint32_t cp, prev = 0, next;
    size_t l, nl;
    t->len = 0;
    while (i < t->n) {
        int c = class_at(t, i, &cp, &l);
        if (c == CH_WORD) {
            unsigned char out[4];
            tok_put(t, out, cp_put(out, cp_lower(cp)));
            prev = cp;
            i += l;
            continue;
        }
        if (c != CH_PUNCT || !prev)
            break;
        int after = class_at(t, i + l, &next, &nl);
        char a = cp_ascii(cp);
        int join = after == CH_WORD &&
                   (a == '-' || a == '\'' ||
                    ((a == '.' || a == ',' || a == ':') && is_digit(prev) && is_digit(next)));
        if (!join)
            break;
        tok_put(t, &a, 1);
        i += l;   /* a word character follows: the loop takes it */
    }
    tok_word(t);
    return i;
}

/* Punctuation at s[i]; returns where it ends. */
static size_t tok_punct(tok_state *t, size_t i, uint32_t cp, size_t l)
{
    char a = cp_ascii(cp);
    if (cp == 0x2013 || cp == 0x2014 || cp == 0x2015) {
        tok_emit(t, "--", 2);
        return i + l;
    }
    if (cp == 0x2026) {
        tok_emit(t, "...", 3);
        return i + l;
    }
    if (a == '.' || a == '-') {
        size_t j = i, run = 0, jl;
        uint32_t c2;
        while (j < t->n && class_at(t, j, &c2, &jl) == CH_PUNCT && cp_ascii(c2) == a)
            j += jl, run++;
        if (a == '.')
            tok_emit(t, "....", run < 3 ? run : 3);
        else
            tok_emit(t, "--", run < 2 ? 1 : 2);
        return j;
    }
    if (a == '\'') {
        /* 's, 're, ... after a space: the contraction's own token. */
        static const char *const suffix[] = { "s", "re", "ve", "ll", "d", "m" };
        for (size_t k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
            size_t sl = strlen(suffix[k]), j = 0, nl;
            uint32_t c2;
            while (j < sl && i + l + j < t->n && (t->s[i + l + j] | 0x20) == suffix[k][j])
                j++;
            if (j == sl && class_at(t, i + l + sl, &c2, &nl) != CH_WORD) {
                char out[4] = { '\'' };
                memcpy(out + 1, suffix[k], sl);
                tok_emit(t, out, sl + 1);
                return i + l + sl;
            }
        }
    }
    if (a)
        tok_emit(t, &a, 1);
    else
        tok_emit(t, t->s + i, l);
    return i + l;
}

size_t txt_tokenize(const char *s, size_t n, txt_emit emit, void *ctx)
{
    tok_state t = { .s = (const unsigned char *)s, .n = n, .emit = emit, .ctx = ctx };
    size_t i = 0;
    while (i < n && !t.stop) {
        uint32_t cp;
        size_t l, pre;
        int c = class_at(&t, i, &cp, &l);
        if (c == CH_SPACE)
            i += l;
        else if ((pre = url_prefix(&t, i)) != 0)
            i = tok_url(&t, i, pre);
        else if (c == CH_PUNCT)
            i = tok_punct(&t, i, cp, l);
        else
            i = tok_scan_word(&t, i);
    }
    return t.count;
}

/* ---- vocabularies ------------------------------------------------------------ */

static uint64_t word_hash(const char *w, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 1099511628211ull;
    return h;
}

/* The slot holding w, or the empty slot where it would go. */
static size_t vocab_slot(const txt_vocab *v, const char *w, size_t n)
{
    size_t mask = v->cap - 1, i = (size_t)word_hash(w, n) & mask;
    while (v->slot[i]) {
        const char *x = v->word[v->slot[i] - 1];
        if (strlen(x) == n && !memcmp(x, w, n))
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static int vocab_grow(txt_vocab *v, thaw_err *err)
{
    size_t cap = v->cap ? v->cap * 2 : 1024;
    int *slot = calloc(cap, sizeof *slot);
    char **word = realloc(v->word, cap / 2 * sizeof *word);
    if (!slot || !word) {
        free(slot);
        if (word)
            v->word = word;
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a vocabulary of %d words", v->n);
    }
    free(v->slot);
    v->slot = slot, v->word = word, v->cap = cap;
    for (int id = 0; id < v->n; id++)
        v->slot[vocab_slot(v, v->word[id], strlen(v->word[id]))] = id + 1;
    return THAW_OK;
}

int txt_vocab_add(txt_vocab *v, const char *w, size_t len, int *id, thaw_err *err)
{
    if (len == 0 || len > TXT_TOKEN_MAX || memchr(w, '\0', len) || memchr(w, '\n', len) ||
        memchr(w, '\r', len))
        return thaw_fail(err, THAW_EINVAL, "a vocabulary word has 1 to %d bytes and no NUL or line "
                         "break", TXT_TOKEN_MAX);
    if (v->cap) {
        size_t s = vocab_slot(v, w, len);
        if (v->slot[s]) {
            if (id)
                *id = v->slot[s] - 1;
            return THAW_OK;
        }
    }
    if (v->n >= TXT_VOCAB_MAX)
        return thaw_fail(err, THAW_EINVAL, "a vocabulary holds at most %d words", TXT_VOCAB_MAX);
    if ((size_t)(v->n + 1) * 2 > v->cap && vocab_grow(v, err))
        return THAW_ENOMEM;
    char *copy = malloc(len + 1);
    if (!copy)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a vocabulary word");
    memcpy(copy, w, len);
    copy[len] = '\0';
    v->word[v->n] = copy;
    v->slot[vocab_slot(v, w, len)] = v->n + 1;
    if (id)
        *id = v->n;
    v->n++;
    return THAW_OK;
}

int txt_vocab_init(txt_vocab *v, thaw_err *err)
{
    memset(v, 0, sizeof *v);
    if (txt_vocab_add(v, "<pad>", 5, NULL, err) || txt_vocab_add(v, "<unk>", 5, NULL, err)) {
        txt_vocab_free(v);
        return THAW_ENOMEM;
    }
    return THAW_OK;
}

int txt_vocab_find(const txt_vocab *v, const char *w, size_t len)
{
    if (!v->cap || len == 0 || len > TXT_TOKEN_MAX)
        return TXT_UNK;
    size_t s = vocab_slot(v, w, len);
    return v->slot[s] ? v->slot[s] - 1 : TXT_UNK;
}

void txt_vocab_free(txt_vocab *v)
{
    for (int i = 0; i < v->n; i++)
        free(v->word[i]);
    free(v->word);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

int txt_vocab_parse(txt_vocab *v, const char *text, size_t len, const char *file, thaw_err *err)
{
    memset(v, 0, sizeof *v);
    int line = 0, rc = THAW_OK;
    for (size_t i = 0; i < len && !rc;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        int id = -1;
        line++;
        rc = txt_vocab_add(v, text + i, end - i, &id, err);
        if (rc == THAW_EINVAL)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: line %d: %s", file, line, err->msg);
        else if (!rc && id != line - 1)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: line %d: '%.*s' is listed twice", file, line,
                           (int)(end - i < 64 ? end - i : 64), text + i);
        i = end + 1;
    }
    if (!rc && (v->n < TXT_SPECIAL || strcmp(v->word[TXT_PAD], "<pad>") || strcmp(v->word[TXT_UNK], "<unk>")))
        rc = thaw_fail(err, THAW_EFORMAT, "%s: expected \"<pad>\" and \"<unk>\" on the first two "
                       "lines", file);
    if (rc)
        txt_vocab_free(v);
    return rc;
}

int txt_vocab_write(const txt_vocab *v, char **out, size_t *len, thaw_err *err)
{
    size_t n = 0;
    for (int i = 0; i < v->n; i++)
        n += strlen(v->word[i]) + 1;
    char *p = malloc(n ? n : 1);
    if (!p)
        return thaw_fail(err, THAW_ENOMEM, "out of memory writing a vocabulary");
    size_t o = 0;
    for (int i = 0; i < v->n; i++) {
        size_t l = strlen(v->word[i]);
        memcpy(p + o, v->word[i], l);
        o += l;
        p[o++] = '\n';
    }
    *out = p, *len = o;
    return THAW_OK;
}

typedef struct count_ctx {
    txt_vocab *v;
    long *count;
    size_t cap;
    thaw_err *err;
    int rc;
} count_ctx;

static int count_token(void *ctx, const char *tok, size_t len)
{
    count_ctx *c = ctx;
    int id;
    if (len > TXT_TOKEN_MAX)
        return 0;
    if ((c->rc = txt_vocab_add(c->v, tok, len, &id, c->err)) != THAW_OK)
        return 1;
    if ((size_t)id >= c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        long *grown = realloc(c->count, cap * sizeof *grown);
        if (!grown) {
            c->rc = thaw_fail(c->err, THAW_ENOMEM, "out of memory counting words");
            return 1;
        }
        memset(grown + c->cap, 0, (cap - c->cap) * sizeof *grown);
        c->count = grown, c->cap = cap;
    }
    c->count[id]++;
    return 0;
}

static int by_count(const void *a, const void *b, void *arg)
{
    const count_ctx *c = arg;
    int x = *(const int *)a, y = *(const int *)b;
    if (c->count[x] != c->count[y])
        return c->count[x] > c->count[y] ? -1 : 1;
    return strcmp(c->v->word[x], c->v->word[y]);
}

int txt_vocab_build(txt_vocab *v, const char *const *docs, const size_t *lens, int ndoc,
                    int max_words, int min_count, thaw_err *err)
{
    txt_vocab all;
    if (txt_vocab_init(&all, err))
        return THAW_ENOMEM;
    count_ctx c = { .v = &all, .err = err };
    for (int i = 0; i < ndoc && !c.rc; i++)
        txt_tokenize(docs[i], lens[i], count_token, &c);
    int nw = all.n - TXT_SPECIAL, *order = malloc((size_t)(nw > 0 ? nw : 1) * sizeof *order);
    int rc = c.rc ? c.rc : !order ? thaw_fail(err, THAW_ENOMEM, "out of memory") : THAW_OK;
    if (!rc)
        rc = txt_vocab_init(v, err);
    if (!rc) {
        for (int i = 0; i < nw; i++)
            order[i] = i + TXT_SPECIAL;
        qsort_r(order, (size_t)nw, sizeof *order, by_count, &c);
        for (int i = 0; i < nw && i < max_words && !rc; i++)
            if (c.count[order[i]] >= min_count)
                rc = txt_vocab_add(v, all.word[order[i]], strlen(all.word[order[i]]), NULL, err);
        if (rc)
            txt_vocab_free(v);
    }
    free(order);
    free(c.count);
    txt_vocab_free(&all);
    return rc;
}

/* ---- encoding ---------------------------------------------------------------- */

typedef struct encode_ctx {
    const txt_vocab *v;
    float *ids;
    int len, at;
} encode_ctx;

static int encode_token(void *ctx, const char *tok, size_t len)
{
    encode_ctx *e = ctx;
    if (e->at < e->len)
        e->ids[e->at] = (float)txt_vocab_find(e->v, tok, len);
    e->at++;
    return 0;
}

size_t txt_encode(const txt_vocab *v, const char *s, size_t n, float *ids, int len)
{
    encode_ctx e = { .v = v, .ids = ids, .len = len };
    size_t count = txt_tokenize(s, n, encode_token, &e);
    for (int i = e.at; i < len; i++)
        ids[i] = (float)TXT_PAD;
    return count;
}
