/* json.c — strict JSON reading and a stable writer, see json.h. */
#include "json.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* json_prescan; *unclosed gets whether the text ends inside a string or
 * with brackets still open (then a parse error is a truncation). */
static int json_scan(const char *text, size_t len, int max_depth, int *unclosed, const json_ctx *c)
{
    const unsigned char *s = (const unsigned char *)text;
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: starts with a byte order mark; expected "
                         "plain UTF-8 JSON", c->file);
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(s + i, len - i);
        if (n == 0)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: byte %zu: not valid UTF-8", c->file, i);
        if (n > 1) {
            i += n;
            continue;
        }
        unsigned char b = s[i];
        if (in_string) {
            if (b == '"') {
                in_string = 0;
            } else if (b == '\\' && i + 1 < len) {
                if (s[i + 1] == 'u' && i + 5 < len && !memcmp(s + i + 2, "0000", 4))
                    return thaw_fail(c->err, THAW_EFORMAT, "%s: byte %zu: \\u0000 in a string; "
                                     "expected no NUL characters", c->file, i);
                i++;   /* the escaped byte is ASCII or cJSON rejects it */
            }
        } else if (b == '"') {
            in_string = 1;
        } else if (b == '{' || b == '[') {
            if (++depth > max_depth)
                return thaw_fail(c->err, THAW_EFORMAT, "%s: byte %zu: nested more than %d deep",
                                 c->file, i, max_depth);
        } else if (b == '}' || b == ']') {
            depth--;
        }
        i++;
    }
    *unclosed = in_string || depth > 0;
    return THAW_OK;
}

int json_prescan(const char *text, size_t len, int max_depth, const json_ctx *c)
{
    int unclosed;
    return json_scan(text, len, max_depth, &unclosed, c);
}

const char *json_at(char *out, const char *parent, const char *key)
{
    snprintf(out, JSON_PATH_MAX, "%s%s%s", parent, parent[0] ? "." : "", key);
    return out;
}

const char *json_at_index(char *out, const char *parent, int i)
{
    snprintf(out, JSON_PATH_MAX, "%s[%d]", parent, i);
    return out;
}

static const char *json_where(const char *at)
{
    return at[0] ? at : "top level";
}

static int json_key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Rejects a repeated key in any object of the tree under v. Sorting the keys
 * keeps this O(k log k) for a safetensors header with thousands of them. */
static int json_no_duplicates(const cJSON *v, const char *at, const json_ctx *c)
{
    int n = 0;
    for (const cJSON *e = v->child; e; e = e->next)
        n++;
    if (cJSON_IsObject(v) && n > 1) {
        const char **keys = malloc((size_t)n * sizeof *keys);
        if (!keys)
            return thaw_fail(c->err, THAW_ENOMEM, "%s: out of memory", c->file);
        int k = 0;
        for (const cJSON *e = v->child; e; e = e->next)
            keys[k++] = e->string;
        qsort(keys, (size_t)n, sizeof *keys, json_key_cmp);
        for (int i = 1; i < n; i++)
            if (!strcmp(keys[i - 1], keys[i])) {
                thaw_fail(c->err, THAW_EFORMAT, "%s: %s: duplicate key '%s'", c->file,
                          json_where(at), keys[i]);
                free(keys);
                return THAW_EFORMAT;
            }
        free(keys);
    }
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        char sub[JSON_PATH_MAX];
        int rc = json_no_duplicates(e, cJSON_IsObject(v) ? json_at(sub, at, e->string)
                                                         : json_at_index(sub, at, i), c);
        if (rc)
            return rc;
    }
    return THAW_OK;
}

/* cJSON returns NULL both for text it cannot parse and when an allocation
 * fails, so its allocator notes the failure: json_parse can then say that
 * memory ran out instead of blaming the file. Per thread, since loaders may
 * run on several. */
static _Thread_local int json_alloc_failed;

static void *json_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        json_alloc_failed = 1;
    return p;
}

static void json_set_hooks(void)
{
    cJSON_Hooks hooks = { .malloc_fn = json_malloc, .free_fn = free };
    cJSON_InitHooks(&hooks);
}

static pthread_once_t json_hooks_once = PTHREAD_ONCE_INIT;

static int json_is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

int json_parse(const char *text, size_t len, int max_depth, cJSON **root, const json_ctx *c)
{
    *root = NULL;
    int unclosed;
    int rc = json_scan(text, len, max_depth, &unclosed, c);
    if (rc)
        return rc;
    size_t lead = 0;
    while (lead < len && json_is_space(text[lead]))
        lead++;
    if (lead == len)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: empty; expected a JSON object", c->file);
    if (text[lead] != '{')
        return thaw_fail(c->err, THAW_EFORMAT, "%s: byte %zu: expected a JSON object starting "
                         "with '{'", c->file, lead);
    pthread_once(&json_hooks_once, json_set_hooks);
    json_alloc_failed = 0;
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!v && json_alloc_failed)
        return thaw_fail(c->err, THAW_ENOMEM, "%s: out of memory parsing the JSON (%zu bytes)",
                         c->file, len);
    if (!v) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
        int line = 1;
        for (size_t i = 0; i < at; i++)
            line += text[i] == '\n';
        if (unclosed)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: byte %zu: unexpected end of JSON (a "
                             "string or bracket is still open)", c->file, len);
        return thaw_fail(c->err, THAW_EFORMAT, "%s: byte %zu (line %d): not valid JSON here",
                         c->file, at, line);
    }
    for (const char *p = end; p < text + len; p++)
        if (!json_is_space(*p)) {
            cJSON_Delete(v);
            return thaw_fail(c->err, THAW_EFORMAT, "%s: byte %zu: text after the JSON object",
                             c->file, (size_t)(p - text));
        }
    if ((rc = json_no_duplicates(v, "", c)) != THAW_OK) {
        cJSON_Delete(v);
        return rc;
    }
    *root = v;
    return THAW_OK;
}

const char *json_describe(const cJSON *v, char *buf, size_t cap)
{
    if (!v)
        snprintf(buf, cap, "nothing");
    else if (cJSON_IsNumber(v))
        snprintf(buf, cap, "%.17g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(buf, cap, "a string");
    else if (cJSON_IsBool(v))
        snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, cap, "null");
    else if (cJSON_IsArray(v))
        snprintf(buf, cap, "an array");
    else
        snprintf(buf, cap, "an object");
    return buf;
}

const cJSON *json_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    for (const cJSON *e = obj->child; e; e = e->next)
        if (!strcmp(e->string, key))
            return e;
    return NULL;
}

int json_keys(const cJSON *v, const char *at, const char *const *keys, const json_ctx *c)
{
    char got[64];
    if (!cJSON_IsObject(v))
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: expected an object, got %s", c->file,
                         json_where(at), json_describe(v, got, sizeof got));
    for (const cJSON *e = v->child; e; e = e->next) {
        int known = 0;
        for (int k = 0; keys[k] && !known; k++)
            known = !strcmp(e->string, keys[k]);
        if (known)
            continue;
        char list[256] = "";
        size_t used = 0;
        for (int k = 0; keys[k] && used < sizeof list; k++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", keys[k]);
            used += w > 0 ? (size_t)w : 0;
        }
        char name[48];
        size_t n = 0;
        /* The key is valid UTF-8 (prescan); show only its printable ASCII. */
        for (const char *p = e->string; *p && n + 1 < sizeof name; p++)
            name[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
        name[n] = '\0';
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: unknown key '%s'; expected one of: %s",
                         c->file, json_where(at), name, list);
    }
    return THAW_OK;
}

static int json_missing(const char *at, const char *what, const json_ctx *c)
{
    return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: missing; expected %s", c->file, at, what);
}

int json_int_value(const cJSON *v, const char *at, long long lo, long long hi, int flags,
                   long long *out, const json_ctx *c)
{
    char what[96], got[64];
    snprintf(what, sizeof what, "an integer from %lld to %lld", lo, hi);
    if (!v)
        return flags & JSON_REQUIRED ? json_missing(at, what, c) : THAW_OK;
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    /* Compared as doubles first, so a huge value never reaches the cast. */
    if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: expected %s, got %s", c->file, at,
                         what, json_describe(v, got, sizeof got));
    *out = (long long)d;
    return THAW_OK;
}

int json_num_value(const cJSON *v, const char *at, double lo, double hi, int flags,
                   double *out, const json_ctx *c)
{
    char what[96], got[64];
    snprintf(what, sizeof what, "a number %s %g and %s %g", flags & JSON_LO_OPEN ? ">" : ">=", lo,
             flags & JSON_HI_OPEN ? "<" : "<=", hi);
    if (!v)
        return flags & JSON_REQUIRED ? json_missing(at, what, c) : THAW_OK;
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    int ok = isfinite(d) && (flags & JSON_LO_OPEN ? d > lo : d >= lo) &&
             (flags & JSON_HI_OPEN ? d < hi : d <= hi);
    if (!ok)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: expected %s, got %s", c->file, at,
                         what, json_describe(v, got, sizeof got));
    *out = d;
    return THAW_OK;
}

int json_text_value(const cJSON *v, const char *at, char *out, size_t cap, int flags,
                    const json_ctx *c)
{
    char what[96], got[64];
    snprintf(what, sizeof what, "a string of 1 to %zu bytes", cap - 1);
    if (!v)
        return flags & JSON_REQUIRED ? json_missing(at, what, c) : THAW_OK;
    if ((flags & JSON_NULLABLE) && cJSON_IsNull(v)) {
        out[0] = '\0';
        return THAW_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: expected %s, got %s", c->file, at,
                         what, json_describe(v, got, sizeof got));
    const unsigned char *s = (const unsigned char *)v->valuestring;
    size_t n = strlen(v->valuestring);
    if (n == 0 || n >= cap)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: expected %s, got %zu bytes", c->file,
                         at, what, n);
    size_t bad = utf8_bad_byte((const char *)s, n);
    if (bad < n)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: byte %zu is a control character or "
                         "not UTF-8; expected printable text", c->file, at, bad);
    memcpy(out, s, n + 1);
    return THAW_OK;
}

int json_array_value(const cJSON *v, const char *at, int lo, int hi, int flags, int *n,
                     const json_ctx *c)
{
    char got[64];
    if (!v) {
        if (flags & JSON_REQUIRED)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: missing; expected an array of %d "
                             "to %d elements", c->file, at, lo, hi);
        *n = 0;
        return THAW_OK;
    }
    if (!cJSON_IsArray(v))
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: expected an array, got %s", c->file, at,
                         json_describe(v, got, sizeof got));
    int count = 0;
    for (const cJSON *e = v->child; e; e = e->next)
        if (++count > hi)
            break;
    if (count < lo || count > hi)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: expected %d to %d elements, got %s%d",
                         c->file, at, lo, hi, count > hi ? "more than " : "", count > hi ? hi : count);
    *n = count;
    return THAW_OK;
}

int json_int(const cJSON *obj, const char *at, const char *key, long long lo, long long hi,
             int flags, long long *out, const json_ctx *c)
{
    char sub[JSON_PATH_MAX];
    return json_int_value(json_get(obj, key), json_at(sub, at, key), lo, hi, flags, out, c);
}

int json_num(const cJSON *obj, const char *at, const char *key, double lo, double hi,
             int flags, double *out, const json_ctx *c)
{
    char sub[JSON_PATH_MAX];
    return json_num_value(json_get(obj, key), json_at(sub, at, key), lo, hi, flags, out, c);
}

int json_bool(const cJSON *obj, const char *at, const char *key, int flags, int *out,
              const json_ctx *c)
{
    char sub[JSON_PATH_MAX], got[64];
    const cJSON *v = json_get(obj, key);
    json_at(sub, at, key);
    if (!v)
        return flags & JSON_REQUIRED ? json_missing(sub, "true or false", c) : THAW_OK;
    if (!cJSON_IsBool(v))
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: expected true or false, got %s", c->file,
                         sub, json_describe(v, got, sizeof got));
    *out = cJSON_IsTrue(v);
    return THAW_OK;
}

int json_text(const cJSON *obj, const char *at, const char *key, char *out, size_t cap,
              int flags, const json_ctx *c)
{
    char sub[JSON_PATH_MAX];
    return json_text_value(json_get(obj, key), json_at(sub, at, key), out, cap, flags, c);
}

/* ---- writing ---------------------------------------------------------- */

typedef struct json_buf {
    char *p;
    size_t len, cap;
    int failed;
} json_buf;

static void json_put(json_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void json_puts(json_buf *b, const char *s)
{
    json_put(b, s, strlen(s));
}

static void json_put_string(json_buf *b, const char *s)
{
    json_puts(b, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\', esc[1] = (char)ch, esc[2] = '\0';
            json_puts(b, esc);
        } else if (ch < 0x20 || ch == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            json_puts(b, esc);
        } else {
            json_put(b, s, 1);
        }
    }
    json_puts(b, "\"");
}

/* The shortest decimal form that reads back as the same double. */
static void json_put_number(json_buf *b, double d)
{
    char s[40];
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        snprintf(s, sizeof s, "%.0f", d);
    } else {
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(s, sizeof s, "%.*g", digits, d);
            if (strtod(s, NULL) == d)
                break;
        }
    }
    json_puts(b, s);
}

static int json_is_scalar(const cJSON *v)
{
    return !cJSON_IsArray(v) && !cJSON_IsObject(v);
}

static void json_put_value(json_buf *b, const cJSON *v, int depth)
{
    static const char pad[] = "                                                                ";
    int indent = 2 * (depth + 1) < (int)sizeof pad - 1 ? 2 * (depth + 1) : (int)sizeof pad - 1;
    if (cJSON_IsNumber(v)) {
        json_put_number(b, v->valuedouble);
    } else if (cJSON_IsString(v)) {
        json_put_string(b, v->valuestring ? v->valuestring : "");
    } else if (cJSON_IsBool(v)) {
        json_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        json_puts(b, "null");
    } else {
        int object = cJSON_IsObject(v), inline_ = !object;
        for (const cJSON *e = v->child; e && inline_; e = e->next)
            inline_ = json_is_scalar(e);
        json_puts(b, object ? "{" : "[");
        for (const cJSON *e = v->child; e; e = e->next) {
            if (inline_) {
                if (e != v->child)
                    json_puts(b, ", ");
            } else {
                json_puts(b, e != v->child ? ",\n" : "\n");
                json_put(b, pad, (size_t)indent);
            }
            if (object) {
                json_put_string(b, e->string);
                json_puts(b, ": ");
            }
            json_put_value(b, e, depth + 1);
        }
        if (!inline_ && v->child) {
            json_puts(b, "\n");
            json_put(b, pad, (size_t)(indent - 2));
        }
        json_puts(b, object ? "}" : "]");
    }
}

int json_print(const cJSON *root, char **out, size_t *len, thaw_err *err)
{
    json_buf b = {0};
    json_put_value(&b, root, 0);
    json_puts(&b, "\n");
    if (b.failed) {
        free(b.p);
        return thaw_fail(err, THAW_ENOMEM, "out of memory writing JSON");
    }
    *out = b.p;
    *len = b.len;
    return THAW_OK;
}
