/* mf_load.c — building a model from its description, binding the weights
 * of a safetensors file to it, and loading a model file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "mf_impl.h"
#include "safetensors.h"
#include "transfer.h"

/* ---- building --------------------------------------------------------- */

layer *mf_build_layers(const mf_node *n, thaw_err *err)
{
    layer *l = layer_create(n->type, n->name[0] ? n->name : "model", n->hp, err);
    for (int i = 0; l && i <= n->nchild; i++) {
        const mf_node *cn = i < n->nchild ? &n->child[i] : n->side;
        layer *c = cn ? mf_build_layers(cn, err) : NULL;
        int rc = !cn ? THAW_OK : !c ? THAW_EINVAL
               : i < n->nchild ? layer_add(l, c, err) : layer_add_side(l, c, err);
        if (rc != THAW_OK) {
            layer_free(l);
            return NULL;
        }
    }
    return l;
}

int mf_build(model *m, const mf_meta *meta, unsigned long long seed, thaw_err *err)
{
    memset(m, 0, sizeof *m);
    uint64_t floats;
    thaw_err detail = { 0 };
    if (mf_param_count(meta->arch, &floats, &detail) != THAW_OK)
        return thaw_fail(err, THAW_EFORMAT, "%s: architecture: %s", meta->file, detail.msg);
    layer *root = mf_build_layers(meta->arch, &detail);
    if (!root)
        return thaw_fail(err, detail.code ? detail.code : THAW_ENOMEM, "%s: %s", meta->file,
                         detail.code ? detail.msg : "out of memory building the model");
    int rc = model_build(m, root, meta->input, seed, &detail);
    if (rc)
        return thaw_fail(err, rc, "%s: architecture: %s", meta->file, detail.msg);
    if (m->classes != meta->nclass) {
        rc = thaw_fail(err, THAW_ESHAPE, "%s: classes: %d names, but the architecture ends with "
                       "%d outputs; expected one name per output", meta->file, meta->nclass,
                       m->classes);
        model_free(m);
        return rc;
    }
    for (int i = 0; i < meta->nfrozen; i++) {
        layer *l = model_find(m, meta->frozen[i]);
        if (!l) {
            rc = thaw_fail(err, THAW_EFORMAT, "%s: frozen[%d]: the architecture has no layer '%s'",
                           meta->file, i, meta->frozen[i]);
            model_free(m);
            return rc;
        }
        model_freeze(m, l, 1);
    }
    return THAW_OK;
}

/* ---- weights ---------------------------------------------------------- */

static void mf_shape_text(char *out, size_t cap, int ndim, const uint64_t *dim)
{
    size_t used = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dim[i]);
    if (used < cap)
        snprintf(out + used, cap - used, "]");
}

/* Calls fn on every BatchNorm layer under l. */
static int mf_each_bn(layer *l, int (*fn)(layer *bn, void *ctx), void *ctx)
{
    if (layer_is_batchnorm(l))
        return fn(l, ctx);
    for (int i = 0; i < l->nchild; i++) {
        int rc = mf_each_bn(l->child[i], fn, ctx);
        if (rc)
            return rc;
    }
    return THAW_OK;
}

typedef struct mf_tracked_ctx {
    const st_file *f;
    const char *file;
    thaw_err *err;
    int found;        /* tracked tensors present */
    int apply;        /* second pass: set the counts */
} mf_tracked_ctx;

static int mf_tracked(layer *bn, void *ctx)
{
    mf_tracked_ctx *c = ctx;
    char name[ST_NAME_MAX];
    snprintf(name, sizeof name, "%s.num_batches_tracked", bn->path);
    const st_tensor *t = st_find(c->f, name);
    if (!t)
        return THAW_OK;
    c->found++;
    char shape[96];
    mf_shape_text(shape, sizeof shape, t->ndim, t->dim);
    if (t->dtype != ST_I64 || t->ndim != 0)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: '%s': %s %s; expected an I64 scalar (shape [])",
                         c->file, name, st_dtype_name(t->dtype), shape);
    int64_t v;
    st_get_i64(c->f, t, &v);
    if (v < 0)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: '%s': %lld; expected a count of at least 0",
                         c->file, name, (long long)v);
    if (c->apply)
        batchnorm2d_set_tracked(bn, v);
    return THAW_OK;
}

int mf_set_weights(model *m, const st_file *f, const char *file, thaw_err *err)
{
    size_t longest = 0;
    for (int s = 0; s < m->nslice; s++)
        longest = m->slice[s].len > longest ? m->slice[s].len : longest;
    float *tmp = malloc((longest ? longest : 1) * sizeof *tmp);
    if (!tmp)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory", file);
    int rc = THAW_OK;
    /* Pass 1 checks every tensor; pass 2 copies. */
    for (int pass = 0; pass < 2 && rc == THAW_OK; pass++) {
        for (int s = 0; s < m->nslice && rc == THAW_OK; s++) {
            const param_slice *ps = &m->slice[s];
            const st_tensor *t = st_find(f, ps->name);
            uint64_t want[PARAM_MAX_DIMS];
            for (int d = 0; d < ps->ndim; d++)
                want[d] = (uint64_t)ps->dim[d];
            char wshape[96], gshape[96];
            mf_shape_text(wshape, sizeof wshape, ps->ndim, want);
            if (!t) {
                rc = thaw_fail(err, THAW_EFORMAT, "%s: tensor '%s' is missing; the architecture "
                               "needs it, F32 %s", file, ps->name, wshape);
                break;
            }
            mf_shape_text(gshape, sizeof gshape, t->ndim, t->dim);
            int same = t->ndim == ps->ndim;
            for (int d = 0; d < ps->ndim && same; d++)
                same = t->dim[d] == want[d];
            if (t->dtype != ST_F32 || !same) {
                rc = thaw_fail(err, THAW_EFORMAT, "%s: '%s': %s %s; the architecture expects F32 %s",
                               file, ps->name, st_dtype_name(t->dtype), gshape, wshape);
                break;
            }
            float *dst = pass ? model_param(m, s) : tmp;
            st_get_f32(f, t, dst);
            for (size_t i = 0; i < ps->len && !pass; i++)
                if (!isfinite(dst[i])) {
                    rc = thaw_fail(err, THAW_ENONFINITE, "%s: '%s': element %zu is %s; expected "
                                   "finite values", file, ps->name, i, isnan(dst[i]) ? "NaN" : "Inf");
                    break;
                }
        }
        mf_tracked_ctx tc = { f, file, err, 0, pass };
        if (rc == THAW_OK)
            rc = mf_each_bn(m->root, mf_tracked, &tc);
        if (rc == THAW_OK && !pass && f->ntensor != m->nslice + tc.found) {
            /* Something in the file is neither a slice nor a count. */
            for (int i = 0; i < f->ntensor; i++) {
                const char *name = f->tensor[i].name;
                if (model_slice(m, name))
                    continue;
                const char *suffix = strstr(name, ".num_batches_tracked");
                if (suffix && !suffix[strlen(".num_batches_tracked")]) {
                    char path[ST_NAME_MAX];
                    snprintf(path, sizeof path, "%.*s", (int)(suffix - name), name);
                    layer *l = model_find(m, path);
                    if (l && layer_is_batchnorm(l))
                        continue;
                }
                rc = thaw_fail(err, THAW_EFORMAT, "%s: tensor '%s' is not part of the architecture; "
                               "expected only its parameters and statistics", file, name);
                break;
            }
        }
    }
    free(tmp);
    return rc;
}

/* ---- loading ---------------------------------------------------------- */

/* The node at a dotted path under n, or NULL. */
static mf_node *mf_find(mf_node *n, const char *path)
{
    while (n && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        mf_node *next = NULL;
        for (int i = 0; i < n->nchild && !next; i++)
            if (strlen(n->child[i].name) == len && !memcmp(n->child[i].name, path, len))
                next = &n->child[i];
        if (!next && n->side && strlen(n->side->name) == len && !memcmp(n->side->name, path, len))
            next = n->side;
        n = next;
        path += len + (dot != NULL);
    }
    return n;
}

static int mf_generic_classes(mf_meta *meta, int classes, thaw_err *err)
{
    char (*names)[MF_TEXT_MAX] = calloc((size_t)classes, sizeof *names);
    if (!names)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for %d class names", classes);
    for (int i = 0; i < classes; i++)
        snprintf(names[i], MF_TEXT_MAX, "%d", i);
    free(meta->class_name);
    meta->class_name = names;
    meta->nclass = classes;
    return THAW_OK;
}

/* Gives `from` (built from meta) a fresh head with `classes` outputs
 * (core/transfer.h) into m, and meta the new head's size and generic class
 * names. */
static int mf_new_head(mf_meta *meta, const model *from, model *m, int classes,
                       unsigned long long seed, thaw_err *err)
{
    if (classes > MF_CLASSES_MAX)
        return thaw_fail(err, THAW_EINVAL, "%d classes; expected at most %d", classes,
                         MF_CLASSES_MAX);
    thaw_err detail = { 0 };
    int rc = transfer_new_head(m, from, classes, seed, &detail);
    if (rc)
        return thaw_fail(err, rc, "%s: %s", meta->file, detail.msg);
    mf_node *head = mf_find(meta->arch, transfer_head(m)->path);
    head->hp[layer_hp_index(head->type, head->type->head)] = classes;
    if ((rc = mf_generic_classes(meta, classes, err)))
        model_free(m);
    return rc;
}

int mf_load(mf_meta *meta, model *m, const char *path, const mf_load_opts *opt, thaw_err *err)
{
    memset(meta, 0, sizeof *meta);
    memset(m, 0, sizeof *m);
    unsigned long long seed = opt ? opt->seed : 0;
    char *text;
    size_t len;
    int lock;
    /* The JSON and the weights it names are read under the folder's shared
     * lock, so a save by another process cannot come between them. */
    int rc = fio_lock(path, 0, &lock, err);
    if (rc)
        return rc;
    rc = fio_read(path, MF_JSON_MAX, &text, &len, err);
    if (rc) {
        fio_unlock(lock);
        return rc;
    }
    rc = mf_parse(meta, text, len, path, err);
    free(text);
    if (rc) {
        fio_unlock(lock);
        return rc;
    }
    char wpath[4096];
    const char *slash = strrchr(path, '/');
    int n = slash ? snprintf(wpath, sizeof wpath, "%.*s/%s", (int)(slash - path), path, meta->weights)
                  : snprintf(wpath, sizeof wpath, "%s", meta->weights);
    if (n < 0 || (size_t)n >= sizeof wpath) {
        fio_unlock(lock);
        mf_meta_free(meta);
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", path);
    }
    if (meta->vocab_name[0]) {
        char vpath[4096];
        n = slash ? snprintf(vpath, sizeof vpath, "%.*s/%s", (int)(slash - path), path, meta->vocab_name)
                  : snprintf(vpath, sizeof vpath, "%s", meta->vocab_name);
        rc = n < 0 || (size_t)n >= sizeof vpath
                 ? thaw_fail(err, THAW_EINVAL, "%s: the path is too long", path)
                 : fio_read(vpath, MF_VOCAB_BYTES_MAX, &meta->vocab, &meta->vocab_len, err);
        if (!rc)
            rc = mf_vocab_check(meta->vocab, meta->vocab_len, vpath, &meta->vocab_words, err);
        if (rc) {
            fio_unlock(lock);
            mf_meta_free(meta);
            return rc;
        }
    }
    st_file f;
    model a;
    rc = st_read(&f, wpath, err);
    fio_unlock(lock);
    if (rc) {
        mf_meta_free(meta);
        return rc;
    }
    if ((rc = mf_build(&a, meta, seed, err)) == THAW_OK) {
        rc = mf_set_weights(&a, &f, wpath, err);
        if (!rc && meta->vocab && (!a.seq || meta->vocab_words > a.slice[a.seq->slice0].dim[0]))
            rc = thaw_fail(err, THAW_EFORMAT, "%s: vocabulary: %d words, but %s", path,
                           meta->vocab_words, a.seq ? "the embedding has fewer rows"
                                                    : "the model has no embedding");
        if (rc)
            model_free(&a);
    }
    st_free(&f);
    if (rc == THAW_OK && opt && (opt->fresh_head || (opt->classes > 0 && opt->classes != a.classes))) {
        rc = mf_new_head(meta, &a, m, opt->classes > 0 ? opt->classes : a.classes, seed, err);
        model_free(&a);
    } else if (rc == THAW_OK) {
        *m = a;
    }
    if (rc)
        mf_meta_free(meta);
    return rc;
}

