/* json.h — strict reading of untrusted JSON on top of cJSON.
 *
 * cJSON accepts more than a loader should: invalid UTF-8, "\u0000" (which
 * truncates a string, so two keys can collide), nesting a thousand deep,
 * trailing garbage, duplicate keys (it keeps both; lookups see the first)
 * and numbers it reads through `valueint`, which saturates. These helpers
 * close each hole, and every error names the file, the path inside it
 * (`architecture.layers[2].stride`) and what was expected:
 *
 *     json_ctx c = { "m.json", &err };
 *     cJSON *root;
 *     if (json_parse(text, len, 32, &root, &c)) return err.code;
 *     static const char *const keys[] = { "width", "height", NULL };
 *     long long w = 28;
 *     if (json_keys(root, "", keys, &c) ||
 *         json_int(root, "", "width", 1, 4096, JSON_REQUIRED, &w, &c)) ...
 *     cJSON_Delete(root);
 *
 * Paths: "" is the top level; callers build child paths with json_at.
 */
#ifndef THAW_JSON_H
#define THAW_JSON_H

#include <stddef.h>

#include <cJSON.h>

#include "status.h"

typedef struct json_ctx {
    const char *file;   /* named first in every error */
    thaw_err *err;
} json_ctx;

enum json_flags {
    JSON_REQUIRED = 1,  /* a missing member is an error (else *out keeps its default) */
    JSON_LO_OPEN = 2,   /* the lower bound itself is out of range */
    JSON_HI_OPEN = 4,   /* the upper bound itself is out of range */
    JSON_NULLABLE = 8,  /* json_text: null reads as "" */
};

#define JSON_PATH_MAX 160

/* Checks the raw bytes before cJSON sees them: valid UTF-8 (no overlong
 * forms, surrogates or code points past U+10FFFF), no byte order mark, no
 * "\u0000" inside a string, and brackets nested at most max_depth deep.
 * THAW_EFORMAT naming the byte offset. */
int json_prescan(const char *text, size_t len, int max_depth, const json_ctx *c);

/* json_prescan, then parses exactly text[0, len): the root must be an
 * object, only whitespace may follow it, and no object anywhere may repeat a
 * key. *root is the caller's to cJSON_Delete. THAW_EFORMAT / THAW_ENOMEM.
 * The first call installs cJSON's allocator hooks for the whole process
 * (malloc and free, noting a failed allocation so that running out of
 * memory is THAW_ENOMEM, not a syntax error): hooks set before it are
 * replaced. */
int json_parse(const char *text, size_t len, int max_depth, cJSON **root, const json_ctx *c);

/* parent + ".key" (or "key" at the top level) into out, truncated to fit. */
const char *json_at(char *out, const char *parent, const char *key);
/* parent + "[i]" into out. */
const char *json_at_index(char *out, const char *parent, int i);

/* Checks that v is an object whose keys are all in the NULL-terminated list
 * `keys` (compared case-sensitively); the error lists the valid ones. */
int json_keys(const cJSON *v, const char *at, const char *const *keys, const json_ctx *c);

/* The member named key (case-sensitively), or NULL. */
const cJSON *json_get(const cJSON *obj, const char *key);

/* Value checks: v is the value found at path `at` (NULL when missing). Each
 * checks the JSON type, that numbers are finite, integers integral, and the
 * range [lo, hi] (bounds excluded with JSON_LO_OPEN / JSON_HI_OPEN). */
int json_int_value(const cJSON *v, const char *at, long long lo, long long hi, int flags,
                   long long *out, const json_ctx *c);
int json_num_value(const cJSON *v, const char *at, double lo, double hi, int flags,
                   double *out, const json_ctx *c);
/* A string of 1 to cap-1 bytes with no control characters (C0, DEL, C1),
 * copied into out. */
int json_text_value(const cJSON *v, const char *at, char *out, size_t cap, int flags,
                    const json_ctx *c);
/* An array of lo to hi elements; *n gets the count. */
int json_array_value(const cJSON *v, const char *at, int lo, int hi, int flags, int *n,
                     const json_ctx *c);

/* The same for the member obj[key], at path at.key. */
int json_int(const cJSON *obj, const char *at, const char *key, long long lo, long long hi,
             int flags, long long *out, const json_ctx *c);
int json_num(const cJSON *obj, const char *at, const char *key, double lo, double hi,
             int flags, double *out, const json_ctx *c);
int json_bool(const cJSON *obj, const char *at, const char *key, int flags, int *out,
              const json_ctx *c);
int json_text(const cJSON *obj, const char *at, const char *key, char *out, size_t cap,
              int flags, const json_ctx *c);

/* Writes root as indented JSON (two spaces; arrays of plain values on one
 * line; numbers in the shortest form that reads back exactly) into a fresh
 * NUL-terminated buffer the caller frees. Needs the "C" numeric locale. */
int json_print(const cJSON *root, char **out, size_t *len, thaw_err *err);

/* "a string", "null", "2.5", ...: what a value is, for error messages. */
const char *json_describe(const cJSON *v, char *buf, size_t cap);

#endif
