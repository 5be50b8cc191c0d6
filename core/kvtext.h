/* kvtext.h — the text form "NAME key=value key=value ...": schedules
 * ("step every=10 gamma=0.5"), strategies ("discriminative factor=3") and
 * the key=value words of commands ("lr-find steps=200") are read and written
 * by these, from a table of keys that says which field each sets and what
 * it accepts. Items are separated by spaces, tabs or commas.
 *
 *     static const kv_key keys[] = {
 *         { "every", offsetof(schedule, every), 0, KV_BIT(SCHED_STEP), 0, INFINITY, 1, 1, 0 },
 *     };
 *     static const kv_form form = { "schedule", names, NULL, SCHED_KIND_COUNT, keys, 1 };
 *     int kind;
 *     const char *rest;
 *     if (kv_parse_kind(&form, text, &kind, &rest, &err) ||
 *         kv_parse_keys(&form, kind, &s, rest, &err)) ... err.msg ...
 *
 * Errors name the form, the key and the range the value must be in. */
#ifndef THAW_KVTEXT_H
#define THAW_KVTEXT_H

#include <stddef.h>

#include "numtext.h"
#include "status.h"

#define KV_ALL (~0u)
#define KV_BIT(kind) (1u << (kind))

/* One key: the field it sets in the caller's struct (an int when integer,
 * else a double), the kinds that take it (a bit each), its range [lo, hi]
 * with each end open or closed, and whether a bare number stands for it. */
typedef struct kv_key {
    const char *name;
    size_t off;
    int integer;
    unsigned kinds;
    double lo, hi;
    int lo_open, hi_open;
    int bare;
} kv_key;

/* A text form: what it is called in messages, its kinds' names (and an
 * alias each, or NULL) and its keys, in the order kv_format_keys writes
 * them. A form without kinds (nkinds 0) is a list of key=value items only,
 * read as kind 0. */
typedef struct kv_form {
    const char *what;
    const char *const *names;
    const char *const *aliases;
    int nkinds;
    const kv_key *keys;
    int nkeys;
} kv_form;

/* The kind the first item of text names (text NULL reads as empty); *rest
 * is the text after it. THAW_EINVAL, listing the kinds, when there is none
 * or it is unknown. */
int kv_parse_kind(const kv_form *f, const char *text, int *kind, const char **rest, thaw_err *err);

/* The key=value items of text into obj, for kind: each key at most once,
 * its value a finite number in its range. obj is left partly written on
 * an error; parse into a copy. */
int kv_parse_keys(const kv_form *f, int kind, void *obj, const char *text, thaw_err *err);

/* " key=value" for every key of kind whose value in obj differs from its
 * value in def, shortest numbers, in table order. */
void kv_format_keys(const kv_form *f, int kind, const void *obj, const void *def, num_text *t);

/* THAW_EINVAL naming the first key of kind whose value in obj is out of its
 * range, for values set other than by kv_parse_keys. */
int kv_check_keys(const kv_form *f, int kind, const void *obj, thaw_err *err);

/* "a, b or c (or c2)": the kinds' names, for messages and help. */
void kv_kinds_text(const kv_form *f, char *out, size_t cap);

#endif
