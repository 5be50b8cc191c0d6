/* test_models_io.c — loading, saving and re-heading model files: what a
 * file says arrives in the model, a save reloads bit for bit, saves are
 * atomic and refuse non-finite weights. */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "modelfile.h"
#include "safetensors.h"
#include "test.h"

#define TINY "tests/data/models/tiny.json"

static int load(mf_meta *meta, model *m, const char *path, const mf_load_opts *opt)
{
    thaw_err err = { 0 };
    if (mf_load(meta, m, path, opt, &err) != THAW_OK) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    return 1;
}

static int same_params(const model *a, const model *b)
{
    if (a->nslice != b->nslice)
        return 0;
    for (int s = 0; s < a->nslice; s++)
        if (strcmp(a->slice[s].name, b->slice[s].name) || a->slice[s].len != b->slice[s].len ||
            memcmp(model_param(a, s), model_param(b, s), a->slice[s].len * sizeof(float)) ||
            a->slice[s].frozen != b->slice[s].frozen)
            return 0;
    return 1;
}

/* A fresh folder for saves, and its cleanup. */
static int temp_dir(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, cap, "%s/thaw-models-XXXXXX", tmp);
    return mkdtemp(dir) != NULL;
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, ".."));
    if (d)
        closedir(d);
    return n;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

void test_mf_loads_everything_the_file_says(void)
{
    mf_meta meta;
    model m;
    if (!load(&meta, &m, TINY, NULL))
        return;
    int ok = meta.input.c == 2 && meta.input.h == 6 && meta.input.w == 6 && meta.mean[0] == 0.5 &&
             meta.mean[1] == 0.25 && meta.std[0] == 0.5 && meta.std[1] == 2 && meta.nclass == 3 &&
             !strcmp(meta.class_name[2], "star") && !strcmp(meta.prov.dataset, "shapes") &&
             meta.prov.ndataset_classes == 3 && meta.prov.dataset_classes[2] == 5 &&
             meta.prov.epochs == 3 && meta.prov.seed == 7 && meta.prov.test_accuracy == 0.875 &&
             meta.prov.finetuned_from[0] == '\0' && !strcmp(meta.weights, "tiny.safetensors") &&
             m.classes == 3;
    /* Frozen as listed: the stem (its BatchNorm too) and one conv of stage2. */
    ok = ok && model_slice(&m, "stem.0.weight")->frozen && model_slice(&m, "stem.1.bias")->frozen &&
         model_slice(&m, "stage2.conv1.weight")->frozen &&
         !model_slice(&m, "stage2.bn1.weight")->frozen && !model_slice(&m, "head.weight")->frozen;
    /* Weights and counts as in the file. */
    thaw_err err = { 0 };
    st_file f;
    ok = ok && st_read(&f, "tests/data/models/tiny.safetensors", &err) == THAW_OK;
    for (int s = 0; ok && s < m.nslice; s++) {
        const st_tensor *t = st_find(&f, m.slice[s].name);
        float *v = malloc(m.slice[s].len * sizeof *v);
        ok = t && v;
        if (ok) {
            st_get_f32(&f, t, v);
            ok = !memcmp(v, model_param(&m, s), m.slice[s].len * sizeof *v);
        }
        free(v);
    }
    if (f.tensor)
        st_free(&f);
    ok = ok && batchnorm2d_tracked(model_find(&m, "stage2.proj.1")) == 12;
    mf_meta_free(&meta);
    model_free(&m);
    CHECK(ok);
}

/* An unpadded header (unaligned data) and missing num_batches_tracked load. */
void test_mf_loads_unaligned_and_untracked(void)
{
    mf_meta a, b, c;
    model ma, mb, mc;
    if (!load(&a, &ma, TINY, NULL))
        return;
    int ok = load(&b, &mb, "tests/data/models/w_unaligned.json", NULL) &&
             load(&c, &mc, "tests/data/models/w_no_tracked.json", NULL);
    ok = ok && same_params(&ma, &mb) && same_params(&ma, &mc) &&
         batchnorm2d_tracked(model_find(&mc, "stem.1")) == 0 &&
         batchnorm2d_tracked(model_find(&mb, "stem.1")) == 12;
    mf_meta_free(&a), mf_meta_free(&b), mf_meta_free(&c);
    model_free(&ma), model_free(&mb), model_free(&mc);
    CHECK(ok);
}

void test_mf_save_reloads_identically(void)
{
    mf_meta meta, back;
    model m, mb;
    char dir[256], path[512];
    if (!load(&meta, &m, TINY, NULL))
        return;
    CHECK(temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/copy.json", dir);
    /* Change things a save must keep: weights, counts, freezing. */
    model_param(&m, 0)[0] = 0.125f;
    batchnorm2d_set_tracked(model_find(&m, "stage1.bn2"), 99);
    model_freeze(&m, model_find(&m, "stem"), 0);
    model_freeze(&m, model_find(&m, "stage1.bn1"), 1);
    thaw_err err = { 0 };
    int rc = mf_save(path, &meta, &m, &err);
    int files = count_files(dir);
    int ok = rc == THAW_OK && files == 2 && load(&back, &mb, path, NULL);
    if (ok) {
        ok = same_params(&m, &mb) && batchnorm2d_tracked(model_find(&mb, "stage1.bn2")) == 99 &&
             batchnorm2d_tracked(model_find(&mb, "stem.1")) == 12 &&
             !strcmp(back.weights, "copy.safetensors") && back.nfrozen == 2 &&
             !strcmp(back.frozen[0], "stage1.bn1") && !strcmp(back.frozen[1], "stage2.conv1") &&
             !strcmp(back.class_name[1], "square") && back.prov.test_accuracy == 0.875 &&
             back.std[1] == 2;
        mf_meta_free(&back);
        model_free(&mb);
    }
    remove_dir(dir);
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(rc == THAW_OK, "%s", err.msg);
    CHECKF(files == 2, "%d files after a save; expected the JSON and the weights only", files);
    CHECK(ok);
}

static int file_equals(const char *path, const char *want, size_t n)
{
    char *buf;
    size_t len;
    thaw_err err = { 0 };
    if (fio_read(path, 1 << 20, &buf, &len, &err))
        return 0;
    int same = len == n && !memcmp(buf, want, n);
    free(buf);
    return same;
}

/* A NaN weight: nothing written, the previous files untouched. */
void test_mf_save_refuses_nonfinite(void)
{
    mf_meta meta;
    model m;
    char dir[256], path[512], wpath[512];
    if (!load(&meta, &m, TINY, NULL))
        return;
    CHECK(temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/m.json", dir);
    snprintf(wpath, sizeof wpath, "%s/m.safetensors", dir);
    const char *paths[] = { path, wpath };
    const void *bufs[] = { "old json", "old weights" };
    size_t lens[] = { 8, 11 };
    thaw_err err = { 0 };
    int rc0 = fio_save(paths, bufs, lens, 2, &err);
    model_param(&m, 3)[1] = NAN;
    int rc = mf_save(path, &meta, &m, &err);
    model_param(&m, 3)[1] = INFINITY;
    thaw_err err2 = { 0 };
    int rc2 = mf_save(path, &meta, &m, &err2);
    int kept = file_equals(path, "old json", 8) && file_equals(wpath, "old weights", 11);
    int files = count_files(dir);
    remove_dir(dir);
    mf_meta_free(&meta);
    model_free(&m);
    CHECK(rc0 == THAW_OK);
    CHECKF(rc == THAW_ENONFINITE && strstr(err.msg, "element 1 is NaN"), "%s", err.msg);
    CHECKF(rc2 == THAW_ENONFINITE && strstr(err2.msg, "is Inf"), "%s", err2.msg);
    CHECK(kept);
    CHECKF(files == 2, "%d files; expected no temporary file left", files);
}

void test_mf_save_failures_leave_nothing(void)
{
    mf_meta meta, other;
    model m;
    char dir[256], path[512];
    if (!load(&meta, &m, TINY, NULL))
        return;
    CHECK(temp_dir(dir, sizeof dir));
    thaw_err err = { 0 };
    snprintf(path, sizeof path, "%s/absent/m.json", dir);
    int missing = mf_save(path, &meta, &m, &err);
    int said_folder = strstr(err.msg, "cannot open its folder") != NULL;
    snprintf(path, sizeof path, "%s/m.txt", dir);
    int not_json = mf_save(path, &meta, &m, &err);
    /* A description of another model. */
    thaw_err err3 = { 0 };
    snprintf(path, sizeof path, "%s/m.json", dir);
    int mismatch = mf_meta_reference(&other, (shape3){ 2, 6, 6 }, 3, &err3) ? -1
                                                                           : mf_save(path, &other, &m, &err3);
    mf_meta_free(&other);
    int files = count_files(dir);
    remove_dir(dir);
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(missing == THAW_EIO && said_folder, "%s", err.msg);
    CHECK(not_json == THAW_EINVAL);
    CHECKF(mismatch == THAW_EINVAL && strstr(err3.msg, "does not match"), "%s", err3.msg);
    CHECK(files == 0);
}

/* A new class count: a fresh, seeded head; everything else from the file. */
void test_mf_new_head(void)
{
    mf_meta base, a, b, c;
    model mbase, ma, mb, mc;
    mf_load_opts o1 = { .classes = 5, .seed = 11 }, o2 = { .classes = 5, .seed = 12 };
    if (!load(&base, &mbase, TINY, NULL))
        return;
    int ok = load(&a, &ma, TINY, &o1) && load(&b, &mb, TINY, &o1) && load(&c, &mc, TINY, &o2);
    if (ok) {
        ok = ma.classes == 5 && a.nclass == 5 && !strcmp(a.class_name[4], "4");
        param_slice *hw = model_slice(&ma, "head.weight");
        ok = ok && hw && hw->dim[0] == 5 && hw->dim[1] == 8 && !hw->frozen;
        for (int s = 0; ok && s < ma.nslice; s++) {
            const param_slice *ps = &ma.slice[s];
            int head = !strncmp(ps->name, "head.", 5);
            int same_file = ps->len == mbase.slice[s].len &&
                            !memcmp(model_param(&ma, s), model_param(&mbase, s), ps->len * sizeof(float));
            int same_seed = !memcmp(model_param(&ma, s), model_param(&mb, s), ps->len * sizeof(float));
            int other_seed = !memcmp(model_param(&ma, s), model_param(&mc, s), ps->len * sizeof(float));
            ok = head ? same_seed && !other_seed : same_file && ps->frozen == mbase.slice[s].frozen;
        }
        ok = ok && batchnorm2d_tracked(model_find(&ma, "stage2.bn2")) == 12;
        mf_meta_free(&a), mf_meta_free(&b), mf_meta_free(&c);
        model_free(&ma), model_free(&mb), model_free(&mc);
    }
    /* The same count as the file's keeps the file's head. */
    mf_load_opts same = { .classes = 3, .seed = 5 };
    mf_meta d;
    model md;
    ok = ok && load(&d, &md, TINY, &same) && same_params(&md, &mbase);
    if (md.root) {
        mf_meta_free(&d);
        model_free(&md);
    }
    /* fresh_head asks for a fresh head of the file's count: only the head differs. */
    mf_load_opts fresh = { .fresh_head = 1, .seed = 5 };
    ok = ok && load(&d, &md, TINY, &fresh) && md.classes == 3 && !strcmp(d.class_name[2], "2");
    for (int s = 0; ok && s < md.nslice; s++) {
        int as_file = !memcmp(model_param(&md, s), model_param(&mbase, s), md.slice[s].len * sizeof(float));
        ok = !strncmp(md.slice[s].name, "head.", 5) ? !as_file : as_file;
    }
    if (md.root) {
        mf_meta_free(&d);
        model_free(&md);
    }
    mf_meta_free(&base);
    model_free(&mbase);
    CHECK(ok);
}

/* JSON out, JSON in, JSON out: the same text. */
void test_mf_print_round_trip(void)
{
    mf_meta meta, back;
    model m;
    if (!load(&meta, &m, TINY, NULL))
        return;
    char *one = NULL, *two = NULL;
    size_t n1, n2;
    thaw_err err = { 0 };
    int ok = mf_print(&meta, &m, "tiny.safetensors", &one, &n1, &err) == THAW_OK &&
             mf_parse(&back, one, n1, "printed", &err) == THAW_OK;
    if (ok) {
        ok = mf_print(&back, NULL, "tiny.safetensors", &two, &n2, &err) == THAW_OK && n1 == n2 &&
             !memcmp(one, two, n1);
        mf_meta_free(&back);
    }
    free(one);
    free(two);
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(ok, "%s", err.msg);
}

/* The reference description builds exactly reference_net's parameters. */
void test_mf_reference_matches_reference_net(void)
{
    thaw_err err = { 0 };
    mf_meta meta;
    model a, b;
    CHECK(mf_meta_reference(&meta, (shape3){ 3, 32, 32 }, 7, &err) == THAW_OK);
    int rc = mf_build(&a, &meta, 1, &err);
    mf_meta_free(&meta);
    CHECKF(rc == THAW_OK, "%s", err.msg);
    rc = model_build(&b, mf_reference_net(3, 7, &err), (shape3){ 3, 32, 32 }, 1, &err);
    int same = rc == THAW_OK && a.nslice == b.nslice && a.nfloat == b.nfloat;
    for (int s = 0; same && s < a.nslice; s++) {
        same = !strcmp(a.slice[s].name, b.slice[s].name) && a.slice[s].ndim == b.slice[s].ndim &&
               a.slice[s].kind == b.slice[s].kind;
        for (int d = 0; same && d < a.slice[s].ndim; d++)
            same = a.slice[s].dim[d] == b.slice[s].dim[d];
    }
    /* Same seed, same tree: the same initial weights. */
    same = same && !memcmp(a.param, b.param, a.nfloat * sizeof(float));
    model_free(&a);
    if (rc == THAW_OK)
        model_free(&b);
    CHECK(same);
}

/* Each node builds a layer of its own type, children and side children
 * included (tiny.json, a version 1 file, uses every type version 1 had). */
static int types_match(const mf_node *n, const layer *l)
{
    if (n->type != l->ops || n->nchild + (n->side != NULL) != l->nchild)
        return 0;
    for (int i = 0; i < n->nchild; i++)
        if (!types_match(&n->child[i], l->child[i]))
            return 0;
    return !n->side || (l->child[n->nchild]->side && types_match(n->side, l->child[n->nchild]));
}

void test_mf_type_names_match_ops(void)
{
    mf_meta meta;
    model m;
    if (!load(&meta, &m, TINY, NULL))
        return;
    int ok = types_match(meta.arch, m.root);
    mf_meta_free(&meta);
    model_free(&m);
    CHECK(ok);
}

/* A save killed between creating its temporary file and the rename leaves
 * ".NAME.XXXXXX" behind; the next save of NAME removes it (and nothing
 * else). */
void test_mf_save_cleans_stale_temporaries(void)
{
    char dir[512], stale[600], other[600], path[600];
    mf_meta meta;
    model m;
    thaw_err err = {0};
    memset(&meta, 0, sizeof meta);
    memset(&m, 0, sizeof m);
    CHECK(temp_dir(dir, sizeof dir));
    snprintf(stale, sizeof stale, "%s/.net.safetensors.a1B2c3", dir);
    snprintf(other, sizeof other, "%s/.keep.json.a1B2c3", dir);
    snprintf(path, sizeof path, "%s/net.json", dir);
    FILE *f = fopen(stale, "w"), *g = fopen(other, "w");
    EXPECT(f && g);
    fclose(f);
    fclose(g);
    EXPECT(mf_meta_reference(&meta, (shape3){ 1, 8, 8 }, 3, &err) == THAW_OK);
    EXPECT(mf_build(&m, &meta, 1, &err) == THAW_OK);
    EXPECTF(mf_save(path, &meta, &m, &err) == THAW_OK, "%s", err.msg);
    EXPECT(access(stale, F_OK) != 0);
    EXPECT(access(other, F_OK) == 0);
    EXPECT(count_files(dir) == 3);
done:
    model_free(&m);
    mf_meta_free(&meta);
    remove_dir(dir);
}

/* Saves alternate the weights file, so a crash between writing the weights
 * and renaming the JSON leaves the old pair whole. */
void test_mf_save_alternates_weights(void)
{
    char dir[512], path[600], w0[600], w1[600];
    mf_meta meta, back;
    model a, b, m;
    thaw_err err = {0};
    memset(&meta, 0, sizeof meta);
    memset(&back, 0, sizeof back);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&m, 0, sizeof m);
    CHECK(temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/net.json", dir);
    snprintf(w0, sizeof w0, "%s/net.safetensors", dir);
    snprintf(w1, sizeof w1, "%s/net.1.safetensors", dir);
    EXPECT(mf_meta_reference(&meta, (shape3){ 1, 8, 8 }, 3, &err) == THAW_OK);
    EXPECT(mf_build(&a, &meta, 1, &err) == THAW_OK && mf_build(&b, &meta, 2, &err) == THAW_OK);
    EXPECTF(mf_save(path, &meta, &a, &err) == THAW_OK, "%s", err.msg);
    EXPECT(access(w0, F_OK) == 0 && access(w1, F_OK) != 0);
    EXPECTF(mf_save(path, &meta, &b, &err) == THAW_OK, "%s", err.msg);
    EXPECT(access(w0, F_OK) != 0 && access(w1, F_OK) == 0);
    EXPECT(load(&back, &m, path, NULL) && same_params(&m, &b));
    mf_meta_free(&back);
    model_free(&m);
    /* A save killed after its weights landed: the stray file changes nothing. */
    FILE *f = fopen(w0, "w");
    EXPECT(f);
    fputs("half a save", f);
    fclose(f);
    EXPECT(load(&back, &m, path, NULL) && same_params(&m, &b));
    mf_meta_free(&back);
    model_free(&m);
    EXPECTF(mf_save(path, &meta, &a, &err) == THAW_OK, "%s", err.msg);
    EXPECT(access(w0, F_OK) == 0 && access(w1, F_OK) != 0 && count_files(dir) == 2);
    EXPECT(load(&back, &m, path, NULL) && same_params(&m, &a));
done:
    mf_meta_free(&back);
    model_free(&m);
    model_free(&a);
    model_free(&b);
    mf_meta_free(&meta);
    remove_dir(dir);
}

/* One random printable UTF-8 character (1 to 4 bytes) into out; none of
 * the bytes in `avoid` (ASCII only). Returns its length. */
static int random_char(rng *r, char *out, const char *avoid)
{
    uint32_t cp;
    for (;;) {
        switch (rng_next(r) % 4) {
        case 0: cp = 0x20 + (uint32_t)(rng_next(r) % 0x5F); break;
        case 1: cp = 0xA0 + (uint32_t)(rng_next(r) % (0x800 - 0xA0)); break;
        case 2: cp = 0x800 + (uint32_t)(rng_next(r) % (0x10000 - 0x800)); break;
        default: cp = 0x10000 + (uint32_t)(rng_next(r) % 0x100000); break;
        }
        if ((cp >= 0xD800 && cp <= 0xDFFF) || (cp < 0x80 && strchr(avoid, (int)cp)))
            continue;
        break;
    }
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80)
        return o[0] = (unsigned char)cp, 1;
    if (cp < 0x800)
        return o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000)
        return o[0] = (unsigned char)(0xE0 | cp >> 12), o[1] = (unsigned char)(0x80 | (cp >> 6 & 63)),
               o[2] = (unsigned char)(0x80 | (cp & 63)), 3;
    return o[0] = (unsigned char)(0xF0 | cp >> 18), o[1] = (unsigned char)(0x80 | (cp >> 12 & 63)),
           o[2] = (unsigned char)(0x80 | (cp >> 6 & 63)), o[3] = (unsigned char)(0x80 | (cp & 63)), 4;
}

/* A random name of 1 to max bytes (often exactly max) by the rule for names. */
static void random_name(rng *r, char *out, size_t max, const char *avoid)
{
    size_t want = rng_next(r) % 2 ? max : 1 + rng_next(r) % max, n = 0;
    char c[4];
    while (n < want) {
        int k = random_char(r, c, n == 0 ? "." : avoid);
        if (n + (size_t)k > want)
            break;
        memcpy(out + n, c, (size_t)k);
        n += (size_t)k;
    }
    if (n == 0)
        out[n++] = 'x';
    out[n] = '\0';
}

/* Property: a model saved under any file name and class names that thaw
 * accepts loads back, with the same names; a file name one byte too long
 * is refused before anything is written. */
void test_mf_names_round_trip(void)
{
    enum { BASE_MAX = THAW_NAME_MAX - 14 };      /* NAME.1.safetensors fits */
    char dir[256], path[512], base[BASE_MAX + 2];
    mf_meta meta = { 0 }, back = { 0 };
    model m = { 0 }, mb = { 0 };
    thaw_err err = { 0 };
    int built = 0;
    rng r = rng_seeded(2024);
    EXPECT(temp_dir(dir, sizeof dir));
    EXPECTF(mf_meta_reference(&meta, (shape3){ 1, 8, 8 }, 3, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(mf_build(&m, &meta, 7, &err) == THAW_OK, "%s", err.msg);
    built = 1;
    for (int trial = 0; trial < 40; trial++) {
        random_name(&r, base, BASE_MAX, "/\\");
        for (int k = 0; k < meta.nclass; k++) {
            random_name(&r, meta.class_name[k], THAW_NAME_MAX, "");
            if (k && !strcmp(meta.class_name[k], meta.class_name[k - 1]))
                snprintf(meta.class_name[k], MF_TEXT_MAX, "c%d", k);
        }
        snprintf(path, sizeof path, "%s/%s.json", dir, base);
        EXPECTF(mf_save(path, &meta, &m, &err) == THAW_OK, "trial %d: %s", trial, err.msg);
        EXPECTF(mf_load(&back, &mb, path, NULL, &err) == THAW_OK, "trial %d: %s", trial, err.msg);
        int same = back.nclass == meta.nclass && same_params(&m, &mb);
        for (int k = 0; same && k < meta.nclass; k++)
            same = !strcmp(back.class_name[k], meta.class_name[k]);
        mf_meta_free(&back);
        model_free(&mb);
        EXPECTF(same, "trial %d: the names or weights came back different", trial);
        remove_dir(dir);
        EXPECT(mkdir(dir, 0700) == 0);
    }
    memset(base, 'n', BASE_MAX + 1);
    base[BASE_MAX + 1] = '\0';
    snprintf(path, sizeof path, "%s/%s.json", dir, base);
    EXPECT(mf_save(path, &meta, &m, &err) == THAW_EINVAL && strstr(err.msg, "at most 113 bytes"));
    EXPECT(count_files(dir) == 0);
    snprintf(meta.class_name[0], MF_TEXT_MAX, "bell\a");
    snprintf(path, sizeof path, "%s/ok.json", dir);
    EXPECT(mf_save(path, &meta, &m, &err) == THAW_EINVAL && strstr(err.msg, "class 0"));
    EXPECT(count_files(dir) == 0);
done:
    if (built)
        model_free(&m);
    mf_meta_free(&meta);
    remove_dir(dir);
}

/* Two processes save different models to one path as fast as they can
 * while this one loads it: every save succeeds, every load gives a whole,
 * matching pair (the weights the JSON's provenance says), and no temporary
 * file is left. */
static int saver(const char *path, mf_meta *meta, model *m, int which, double seconds)
{
    for (int s = 0; s < m->nslice; s++)
        for (size_t i = 0; i < m->slice[s].len; i++)
            model_param(m, s)[i] = (float)which;
    meta->prov.seed = which;
    double t0 = thaw_now_s();
    while (thaw_now_s() - t0 < seconds) {
        thaw_err err = { 0 };
        if (mf_save(path, meta, m, &err)) {
            fprintf(stderr, "saver %d: %s\n", which, err.msg);
            return 1;
        }
    }
    return 0;
}

void test_mf_two_savers_and_a_reader(void)
{
    mf_meta meta;
    model m;
    char dir[256], path[512];
    if (!load(&meta, &m, TINY, NULL))
        return;
    CHECK(temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/m.json", dir);
    thaw_err err = { 0 };
    int first = saver(path, &meta, &m, 1, 0.0) == 0 && mf_save(path, &meta, &m, &err) == THAW_OK;
    pid_t kid[2] = { -1, -1 };
    for (int k = 0; first && k < 2; k++)
        if ((kid[k] = fork()) == 0)
            _exit(saver(path, &meta, &m, k + 1, 1.0));
    long loads = 0, bad = 0, failed = 0;
    char why[512] = "";
    double t0 = thaw_now_s();
    while (first && thaw_now_s() - t0 < 1.0) {
        mf_meta back;
        model mb;
        if (mf_load(&back, &mb, path, NULL, &err)) {
            if (!failed++)
                snprintf(why, sizeof why, "%s", err.msg);
            continue;
        }
        loads++;
        int same = 1;
        for (int s = 0; s < mb.nslice; s++)
            for (size_t i = 0; i < mb.slice[s].len; i++)
                same &= model_param(&mb, s)[i] == (float)back.prov.seed;
        bad += !same;
        mf_meta_free(&back);
        model_free(&mb);
    }
    int savers_ok = 1;
    for (int k = 0; k < 2; k++) {
        int st = 0;
        if (kid[k] > 0 && (waitpid(kid[k], &st, 0) != kid[k] || !WIFEXITED(st) || WEXITSTATUS(st)))
            savers_ok = 0;
    }
    int files = count_files(dir);
    remove_dir(dir);
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(first, "%s", err.msg);
    CHECK(savers_ok);
    CHECKF(failed == 0 && bad == 0 && loads > 0, "%ld loads: %ld failed (%s), %ld mismatched pairs",
           loads, failed, why, bad);
    CHECKF(files == 2, "%d files left", files);
}
