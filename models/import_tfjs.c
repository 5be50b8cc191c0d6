/* import_tfjs.c — TF.js layers models: model.json, its weights manifest and
 * shards, the class names, and the weights bound to the tree that
 * import_keras.c builds (see tfjs.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "import_impl.h"
#include "mf_impl.h"
#include "registry.h"

/* ---- the manifest ---------------------------------------------------------- */

static const char *const dtype_names[TFJS_DTYPES] = { "float32", "float16", "uint8", "uint16" };
static const int dtype_bytes[TFJS_DTYPES] = { 4, 2, 1, 2 };

void imp_manifest_free(imp_manifest *mf)
{
    for (int i = 0; i < mf->ng; i++)
        free(mf->g[i].data);
    free(mf->g);
    free(mf->w);
    free(mf->by_name);
    memset(mf, 0, sizeof *mf);
}

/* A shard's name: a plain file name in the model's folder, with an
 * optional "./" (TF.js' browser downloads write one). */
static const char *shard_name(const char *s)
{
    if (!strncmp(s, "./", 2))
        s += 2;
    if (!s[0] || s[0] == '.')
        return NULL;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return NULL;
    return s;
}

static int read_quantization(const cJSON *q, const char *at, imp_weight *w, const json_ctx *c)
{
    static const char *const keys[] = { "dtype", "scale", "min", "original_dtype", NULL };
    char dt[16], orig[16] = "float32";
    int rc;
    if ((rc = json_keys(q, at, keys, c)) ||
        (rc = json_text(q, at, "dtype", dt, sizeof dt, JSON_REQUIRED, c)) ||
        (rc = json_text(q, at, "original_dtype", orig, sizeof orig, 0, c)))
        return rc;
    if (strcmp(orig, "float32"))
        return thaw_fail(c->err, THAW_EINVAL, "%s: %s.original_dtype: '%s'; thaw imports float32 "
                         "weights", c->file, at, orig);
    for (int d = TFJS_F16; d < TFJS_DTYPES; d++)
        if (!strcmp(dt, dtype_names[d]))
            w->dtype = d;
    if (w->dtype == TFJS_F32)
        return thaw_fail(c->err, THAW_EINVAL, "%s: %s.dtype: '%s'; thaw reads the quantisation "
                         "types float16, uint8 and uint16", c->file, at, dt);
    int affine = w->dtype != TFJS_F16;
    if ((rc = json_num(q, at, "scale", -1e30, 1e30, affine ? JSON_REQUIRED : 0, &w->scale, c)) ||
        (rc = json_num(q, at, "min", -1e30, 1e30, affine ? JSON_REQUIRED : 0, &w->min, c)))
        return rc;
    if (!affine && (json_get(q, "scale") || json_get(q, "min")))
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: float16 takes no scale or min", c->file, at);
    return THAW_OK;
}

static int read_weight(const cJSON *e, const char *at, imp_weight *w, uint64_t max_floats,
                       const json_ctx *c)
{
    static const char *const keys[] = { "name", "shape", "dtype", "quantization", "group", NULL };
    char dt[16], grp[16] = "model", sub[JSON_PATH_MAX], el[JSON_PATH_MAX];
    int rc, n;
    if ((rc = json_keys(e, at, keys, c)) ||
        (rc = json_text(e, at, "name", w->name, sizeof w->name, JSON_REQUIRED, c)) ||
        (rc = json_text(e, at, "dtype", dt, sizeof dt, JSON_REQUIRED, c)) ||
        (rc = json_text(e, at, "group", grp, sizeof grp, 0, c)))
        return rc;
    if (strcmp(dt, "float32"))
        return thaw_fail(c->err, THAW_EINVAL, "%s: %s: weight '%s' is %s; thaw imports float32 "
                         "weights (stored as float32, float16, uint8 or uint16)", c->file, at,
                         w->name, dt);
    w->optimizer = !strcmp(grp, "optimizer");
    const cJSON *shape = json_get(e, "shape");
    json_at(sub, at, "shape");
    if ((rc = json_array_value(shape, sub, 0, TFJS_RANK_MAX, JSON_REQUIRED, &n, c)))
        return rc;
    w->ndim = n;
    w->count = 1;
    int i = 0;
    for (const cJSON *d = shape->child; d; d = d->next, i++) {
        long long v;
        if ((rc = json_int_value(d, json_at_index(el, sub, i), 0, (long long)max_floats,
                                 JSON_REQUIRED, &v, c)))
            return rc;
        w->dim[i] = (uint64_t)v;
        /* Both at most max_floats (< 2^32): the product cannot overflow before the check. */
        w->count *= w->dim[i];
        if (w->count > max_floats)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: weight '%s' has more than %llu "
                             "elements", c->file, sub, w->name, (unsigned long long)max_floats);
    }
    const cJSON *q = json_get(e, "quantization");
    return q ? read_quantization(q, json_at(sub, at, "quantization"), w, c) : THAW_OK;
}

int imp_weight_name_cmp(const void *a, const void *b, void *ctx)
{
    const imp_weight *w = ctx;
    return strcmp(w[*(const int *)a].name, w[*(const int *)b].name);
}

/* Reads the manifest (not yet the shards): every weight, its bytes and its
 * place in its group. */
static int read_manifest(imp_manifest *mf, const cJSON *v, uint64_t max_floats, tfjs_report *rep,
                         const json_ctx *c)
{
    static const char *const keys[] = { "paths", "weights", NULL };
    char el[JSON_PATH_MAX], sub[JSON_PATH_MAX], wat[JSON_PATH_MAX];
    int ng, rc, shards = 0, nw = 0;
    if ((rc = json_array_value(v, "weightsManifest", 1, TFJS_SHARDS_MAX, JSON_REQUIRED, &ng, c)))
        return rc;
    json_ctx quiet = { c->file, NULL };
    for (const cJSON *gv = v->child; gv; gv = gv->next) {
        int n = 0;
        json_array_value(json_get(gv, "weights"), "", 0, TFJS_WEIGHTS_MAX, 0, &n, &quiet);
        if ((nw += n) > TFJS_WEIGHTS_MAX)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: weightsManifest: more than %d weights",
                             c->file, TFJS_WEIGHTS_MAX);
    }
    mf->g = calloc((size_t)ng, sizeof *mf->g);
    mf->w = calloc((size_t)nw + 1, sizeof *mf->w);
    mf->by_name = calloc((size_t)nw + 1, sizeof *mf->by_name);
    if (!mf->g || !mf->w || !mf->by_name)
        return thaw_fail(c->err, THAW_ENOMEM, "%s: out of memory", c->file);
    mf->ng = ng;
    uint64_t total = 0;
    int gi = 0;
    for (const cJSON *gv = v->child; gv; gv = gv->next, gi++) {
        int np, n;
        json_at_index(el, "weightsManifest", gi);
        if ((rc = json_keys(gv, el, keys, c)) ||
            (rc = json_array_value(json_get(gv, "paths"), json_at(sub, el, "paths"), 0,
                                   TFJS_SHARDS_MAX, JSON_REQUIRED, &np, c)) ||
            (rc = json_array_value(json_get(gv, "weights"), json_at(wat, el, "weights"), 0,
                                   TFJS_WEIGHTS_MAX, JSON_REQUIRED, &n, c)))
            return rc;
        if ((shards += np) > TFJS_SHARDS_MAX)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: more than %d shards", c->file, sub,
                             TFJS_SHARDS_MAX);
        int i = 0;
        for (const cJSON *p = json_get(gv, "paths")->child; p; p = p->next, i++) {
            char name[TFJS_NAME_MAX], pat[JSON_PATH_MAX];
            if ((rc = json_text_value(p, json_at_index(pat, sub, i), name, sizeof name,
                                      JSON_REQUIRED, c)))
                return rc;
            if (!shard_name(name))
                return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: '%s'; expected a file name beside "
                                 "model.json (letters, digits, '_', '-', '.'; no folders, not "
                                 "starting with '.')", c->file, pat, name);
        }
        i = 0;
        for (const cJSON *e = json_get(gv, "weights")->child; e; e = e->next, i++) {
            imp_weight *w = &mf->w[mf->nw];
            char eat[JSON_PATH_MAX];
            if ((rc = read_weight(e, json_at_index(eat, wat, i), w, max_floats, c)))
                return rc;
            w->group = gi;
            w->offset = mf->g[gi].bytes;
            mf->g[gi].bytes += w->count * (uint64_t)dtype_bytes[w->dtype];
            if ((total += w->count) > max_floats)
                return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: more than %llu weight values in "
                                 "all", c->file, wat, (unsigned long long)max_floats);
            if (rep) {
                rep->by_dtype[w->dtype]++;
                rep->weights++;
                rep->values += w->count;
            }
            mf->by_name[mf->nw] = mf->nw;
            mf->nw++;
        }
    }
    if (rep)
        rep->shards = shards;
    qsort_r(mf->by_name, (size_t)mf->nw, sizeof *mf->by_name, imp_weight_name_cmp, mf->w);
    for (int i = 1; i < mf->nw; i++)
        if (!strcmp(mf->w[mf->by_name[i - 1]].name, mf->w[mf->by_name[i]].name))
            return thaw_fail(c->err, THAW_EFORMAT, "%s: weightsManifest: two weights are named "
                             "'%s'", c->file, mf->w[mf->by_name[i]].name);
    return THAW_OK;
}

/* Each group's shards, concatenated: exactly the bytes its weights need. */
static int read_shards(imp_manifest *mf, const cJSON *v, tfjs_read_fn read, void *ctx,
                       tfjs_report *rep, const json_ctx *c)
{
    int gi = 0;
    for (const cJSON *gv = v->child; gv; gv = gv->next, gi++) {
        imp_group *g = &mf->g[gi];
        uint64_t got = 0;
        if (!(g->data = malloc(g->bytes + 1)))
            return thaw_fail(c->err, THAW_ENOMEM, "%s: out of memory for %llu bytes of weights",
                             c->file, (unsigned long long)g->bytes);
        for (const cJSON *p = json_get(gv, "paths")->child; p; p = p->next) {
            const char *name = shard_name(p->valuestring);
            uint8_t *buf;
            size_t len;
            thaw_err why = { 0 };
            int rc = read(ctx, name, (size_t)(g->bytes - got), &buf, &len, &why);
            if (rc == THAW_EFORMAT)
                return thaw_fail(c->err, rc, "%s: weightsManifest[%d]: shard '%s' holds more than "
                                 "the %llu bytes the group's weights still need (%s)", c->file, gi,
                                 name, (unsigned long long)(g->bytes - got), why.msg);
            if (rc)
                return thaw_fail(c->err, rc, "%s: weightsManifest[%d]: shard '%s': %s", c->file,
                                 gi, name, why.msg);
            if (len)
                memcpy(g->data + got, buf, len);
            got += len;
            free(buf);
        }
        if (got != g->bytes)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: weightsManifest[%d]: its shards hold %llu "
                             "bytes; its weights need %llu", c->file, gi, (unsigned long long)got,
                             (unsigned long long)g->bytes);
        if (rep)
            rep->bytes += got;
    }
    return THAW_OK;
}

static float half_to_float(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY)
                                                       : ldexpf((float)(m | 1024), e - 25);
    return h & 0x8000 ? -v : v;
}

/* w's values as float32 into out; the index of the first that is not
 * finite, or -1. */
static long long decode(const imp_manifest *mf, const imp_weight *w, float *out)
{
    const uint8_t *p = mf->g[w->group].data + w->offset;
    long long bad = -1;
    for (uint64_t i = 0; i < w->count; i++) {
        float v;
        if (w->dtype == TFJS_F32) {
            uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                         (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
            memcpy(&v, &u, sizeof v);
        } else if (w->dtype == TFJS_F16) {
            v = half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        } else {
            unsigned q = w->dtype == TFJS_U8 ? p[i] : (unsigned)(p[2 * i] | p[2 * i + 1] << 8);
            v = (float)(q * w->scale + w->min);
        }
        if (!isfinite(v) && bad < 0)
            bad = (long long)i;
        out[i] = v;
    }
    return bad;
}

/* ---- binding the weights --------------------------------------------------- */

typedef struct imp_binder {
    const imp_graph *g;
    imp_manifest *mf;
    model *m;
    const json_ctx *c;
    int next;                   /* the next binding */
    float *tmp;                 /* room for the largest weight */
} imp_binder;

/* The weight VAR of Keras layer L: "L/VAR", or under the names of the
 * models around L ("outer/L/VAR"), outermost first. NULL when absent. */
static imp_weight *find_weight(imp_manifest *mf, const imp_layer *L, const char *var)
{
    const char *scope = L->scope;
    for (;;) {
        char name[3 * TFJS_NAME_MAX];
        snprintf(name, sizeof name, "%s%s/%s", scope, L->name, var);
        int lo = 0, hi = mf->nw - 1;
        while (lo <= hi) {
            int mid = (lo + hi) / 2, cmp = strcmp(mf->w[mf->by_name[mid]].name, name);
            if (cmp == 0)
                return &mf->w[mf->by_name[mid]];
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        if (!scope[0])
            return NULL;
        const char *slash = strchr(scope, '/');
        scope = slash ? slash + 1 : "";
    }
}

static void shape_text(char *out, size_t cap, int ndim, const uint64_t *dim)
{
    size_t used = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dim[i]);
    if (used < cap)
        snprintf(out + used, cap - used, "]");
}

/* Keras layer L's weight VAR of shape want (ndim dims), decoded into b->tmp;
 * NULL with err set when it is missing (unless optional), misshapen or not
 * finite. *absent tells an optional one that is missing. */
static const float *get_weight(imp_binder *b, const imp_layer *L, const char *var, int ndim,
                               const uint64_t *want, int optional, int *absent, int *rc)
{
    imp_weight *w = find_weight(b->mf, L, var);
    char ws[96], gs[96];
    *absent = 0;
    shape_text(ws, sizeof ws, ndim, want);
    if (!w || w->optimizer) {
        *absent = 1;
        if (!optional)
            *rc = thaw_fail(b->c->err, THAW_EFORMAT, "%s: the manifest has no weight '%s%s/%s' "
                            "(layer '%s' (%s) needs it, %s)", b->c->file, L->scope, L->name, var,
                            L->name, L->cls, ws);
        return NULL;
    }
    int same = w->ndim == ndim;
    for (int i = 0; i < ndim && same; i++)
        same = w->dim[i] == want[i];
    if (!same) {
        shape_text(gs, sizeof gs, w->ndim, w->dim);
        *rc = thaw_fail(b->c->err, THAW_EFORMAT, "%s: weight '%s' is %s; layer '%s' (%s) needs %s",
                        b->c->file, w->name, gs, L->name, L->cls, ws);
        return NULL;
    }
    if (w->used) {
        *rc = thaw_fail(b->c->err, THAW_EFORMAT, "%s: weight '%s' is used twice", b->c->file,
                        w->name);
        return NULL;
    }
    w->used = 1;
    long long bad = decode(b->mf, w, b->tmp);
    if (bad >= 0) {
        *rc = thaw_fail(b->c->err, THAW_ENONFINITE, "%s: weight '%s': element %lld is %s; "
                        "expected finite values", b->c->file, w->name, bad,
                        isnan(b->tmp[bad]) ? "NaN" : "Inf");
        return NULL;
    }
    return b->tmp;
}

/* The slice PATH.NAME of m, which the tree declared. */
static float *slice_of(imp_binder *b, const char *path, const char *name, size_t *len)
{
    char full[LAYER_PATH_MAX + 16];
    snprintf(full, sizeof full, "%s.%s", path, name);
    param_slice *s = model_slice(b->m, full);
    if (!s)
        return NULL;
    *len = s->len;
    return b->m->param + s->off;
}

/* The bias, when the layer has one (optional in BatchNorm-style absent
 * weights is not allowed: use_bias said it is there). */
static int bind_bias(imp_binder *b, const imp_layer *L, const char *path, float scale)
{
    size_t len;
    float *dst = slice_of(b, path, "bias", &len);
    if (!dst)
        return THAW_OK;
    uint64_t want[1] = { len };
    int absent, rc = THAW_OK;
    const float *src = get_weight(b, L, "bias", 1, want, 0, &absent, &rc);
    if (!src)
        return rc;
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i] * scale;
    return THAW_OK;
}

static int bind_leaf(imp_binder *b, const imp_bind *bd, const char *path)
{
    const imp_layer *L = &b->g->l[bd->layer];
    char full[LAYER_PATH_MAX + 16];
    snprintf(full, sizeof full, "%s.weight", path);
    param_slice *ws = model_slice(b->m, full);
    int rc = THAW_OK, absent;
    if (!ws)
        return thaw_fail(b->c->err, THAW_EINVAL, "%s: layer '%s' has no weight in thaw's tree",
                         b->c->file, L->name);
    float *dst = b->m->param + ws->off, s = bd->scale;
    const float *src;
    if (bd->kind == IMP_BIND_BN) {
        static const char *const keras[4] = { "gamma", "beta", "moving_mean", "moving_variance" };
        static const char *const thaw[4] = { "weight", "bias", "running_mean", "running_var" };
        const int present[4] = { L->scale, L->center, 1, 1 };
        for (int t = 0; t < 4; t++) {
            size_t len;
            float *d = slice_of(b, path, thaw[t], &len);
            if (!d)
                return thaw_fail(b->c->err, THAW_EINVAL, "%s: layer '%s' has no %s in thaw's tree",
                                 b->c->file, L->name, thaw[t]);
            uint64_t want[1] = { len };
            src = present[t] ? get_weight(b, L, keras[t], 1, want, 0, &absent, &rc) : NULL;
            if (present[t] && !src)
                return rc;
            for (size_t i = 0; i < len; i++)
                d[i] = src ? src[i] * (t < 2 ? s : 1.0f) : t == 0 ? s : 0.0f;
        }
        return THAW_OK;
    }
    int O = ws->dim[0];
    if (bd->kind == IMP_BIND_CONV) {
        int C = ws->dim[1], K = ws->dim[2];
        uint64_t want[4] = { (uint64_t)K, (uint64_t)K, (uint64_t)C, (uint64_t)O };
        if (!(src = get_weight(b, L, "kernel", 4, want, 0, &absent, &rc)))
            return rc;
        for (int o = 0; o < O; o++)
            for (int ch = 0; ch < C; ch++)
                for (int y = 0; y < K; y++)
                    for (int x = 0; x < K; x++)
                        dst[(((size_t)o * C + ch) * K + y) * K + x] =
                            src[(((size_t)y * K + x) * C + ch) * O + o] * s;
    } else if (bd->kind == IMP_BIND_DW) {
        int K = ws->dim[2], M = L->mult, C = O / M;
        uint64_t want[4] = { (uint64_t)K, (uint64_t)K, (uint64_t)C, (uint64_t)M };
        if (!(src = get_weight(b, L, "depthwise_kernel", 4, want, 0, &absent, &rc)))
            return rc;
        for (int ch = 0; ch < C; ch++)
            for (int q = 0; q < M; q++)
                for (int y = 0; y < K; y++)
                    for (int x = 0; x < K; x++)
                        dst[(((size_t)ch * M + q) * K + y) * K + x] =
                            src[(((size_t)y * K + x) * C + ch) * M + q] * s;
    } else if (bd->kind == IMP_BIND_CONV_LINEAR) {
        int C = ws->dim[1];
        uint64_t want[4] = { 1, 1, (uint64_t)C, (uint64_t)O };
        if (!(src = get_weight(b, L, "kernel", 4, want, 0, &absent, &rc)))
            return rc;
        for (int o = 0; o < O; o++)
            for (int ch = 0; ch < C; ch++)
                dst[(size_t)o * C + ch] = src[(size_t)ch * O + o] * s;
    } else {
        /* A dense layer after a flatten of an (H, W, C) map reads it in
         * Keras' order; thaw's vector is (C, H, W). */
        int I = ws->dim[1];
        shape3 f = b->g->l[L->in[0]].flat_from;
        uint64_t want[2] = { (uint64_t)I, (uint64_t)O };
        if (!(src = get_weight(b, L, "kernel", 2, want, 0, &absent, &rc)))
            return rc;
        for (int i = 0; i < I; i++) {
            int k = i;
            if (f.c) {
                int ch = i / (f.h * f.w), y = i / f.w % f.h, x = i % f.w;
                k = (y * f.w + x) * f.c + ch;
            }
            for (int o = 0; o < O; o++)
                dst[(size_t)o * I + i] = src[(size_t)k * O + o] * s;
        }
    }
    return bind_bias(b, L, path, s);
}

/* Walks the tree in the order import_keras.c emitted it (children, then
 * the side child), binding each leaf with parameters to the next binding. */
static int bind_tree(imp_binder *b, const mf_node *n, const char *path)
{
    if (n->type->count && n->type->count(n->hp) > 0) {
        if (b->next >= b->g->nbind)
            return thaw_fail(b->c->err, THAW_EINVAL, "%s: '%s' has no weights to take",
                             b->c->file, path);
        return bind_leaf(b, &b->g->bind[b->next++], path);
    }
    for (int i = 0; i <= n->nchild; i++) {
        const mf_node *c = i < n->nchild ? &n->child[i] : n->side;
        char sub[LAYER_PATH_MAX];
        if (!c)
            continue;
        snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", c->name);
        int rc = bind_tree(b, c, sub);
        if (rc)
            return rc;
    }
    return THAW_OK;
}

int imp_bind_weights(const imp_graph *g, const mf_node *root, imp_manifest *mf, model *m,
                        const json_ctx *c)
{
    uint64_t longest = 1;
    for (int i = 0; i < mf->nw; i++)
        longest = mf->w[i].count > longest ? mf->w[i].count : longest;
    imp_binder b = { g, mf, m, c, 0, malloc(sizeof(float) * (size_t)longest) };
    if (!b.tmp)
        return thaw_fail(c->err, THAW_ENOMEM, "%s: out of memory", c->file);
    int rc = bind_tree(&b, root, "");
    if (rc == THAW_OK && b.next != g->nbind)
        rc = thaw_fail(c->err, THAW_EINVAL, "%s: %d layers' weights have no place in the tree",
                       c->file, g->nbind - b.next);
    for (int i = 0; i < mf->nw && rc == THAW_OK; i++)
        if (!mf->w[i].used && !mf->w[i].optimizer)
            rc = thaw_fail(c->err, THAW_EFORMAT, "%s: weight '%s' belongs to no layer of the model",
                           c->file, mf->w[i].name);
    free(b.tmp);
    return rc;
}

/* ---- classes and input ------------------------------------------------------ */

/* Class names from a labels file: a JSON array of names, or an object
 * whose "labels" is one. */
int imp_read_labels(mf_meta *meta, const char *text, size_t len, const char *file, int want,
                       tfjs_report *rep, thaw_err *err)
{
    json_ctx c = { file, err };
    cJSON *root;
    int rc, n;
    if (len > TFJS_LABELS_MAX)
        return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes; expected at most %u", file, len,
                         TFJS_LABELS_MAX);
    /* A bare array is allowed here: wrapped, json_parse sees an object. */
    const char *p = text;
    while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p < text + len && *p == '[') {
        char *wrapped = malloc(len + 16);
        if (!wrapped)
            return thaw_fail(err, THAW_ENOMEM, "%s: out of memory", file);
        size_t w = (size_t)snprintf(wrapped, 16, "{\"labels\":");
        memcpy(wrapped + w, text, len);
        wrapped[w + len] = '}';
        rc = json_parse(wrapped, w + len + 1, 8, &root, &c);
        free(wrapped);
    } else {
        rc = json_parse(text, len, 8, &root, &c);
    }
    if (rc)
        return rc;
    const cJSON *list = json_get(root, "labels");
    if ((rc = json_array_value(list, "labels", 1, MF_CLASSES_MAX, JSON_REQUIRED, &n, &c)))
        goto done;
    if (n != want) {
        rc = thaw_fail(err, THAW_EINVAL, "%s: %d class names; the model has %d outputs", file, n,
                       want);
        goto done;
    }
    char (*names)[MF_TEXT_MAX] = calloc((size_t)n, sizeof *names);
    if (!names) {
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory", file);
        goto done;
    }
    int i = 0, renamed = 0;
    for (const cJSON *e = list->child; e && rc == THAW_OK; e = e->next, i++) {
        char el[JSON_PATH_MAX];
        rc = json_text_value(e, json_at_index(el, "labels", i), names[i], MF_TEXT_MAX,
                             JSON_REQUIRED, &c);
        int again = 1;
        for (const cJSON *f = list->child; f != e && rc == THAW_OK; f = f->next)
            again += !strcmp(f->valuestring, e->valuestring);
        if (rc == THAW_OK && again > 1) {
            char suffix[16];
            int k = snprintf(suffix, sizeof suffix, " (%d)", again);
            snprintf(names[i], MF_TEXT_MAX, "%.*s%s", MF_TEXT_MAX - 1 - k, e->valuestring, suffix);
            if (!renamed++)
                imp_note(rep, "class %d repeats the name '%.60s'; it is '%.60s'", i,
                         e->valuestring, names[i]);
        }
    }
    for (int a = 0; a < n && rc == THAW_OK; a++)
        for (int bb = 0; bb < a && rc == THAW_OK; bb++)
            if (!strcmp(names[a], names[bb]))
                rc = thaw_fail(err, THAW_EFORMAT, "%s: class %d: the name '%s' is taken", file, a,
                               names[a]);
    if (rc) {
        free(names);
        goto done;
    }
    free(meta->class_name);
    meta->class_name = names;
    meta->nclass = n;
done:
    cJSON_Delete(root);
    return rc;
}

void imp_start(mf_meta *meta, model *m, tfjs_report *rep, const char *file)
{
    memset(rep, 0, sizeof *rep);
    memset(meta, 0, sizeof *meta);
    memset(m, 0, sizeof *m);
    snprintf(meta->file, sizeof meta->file, "%s", file);
    meta->version = MF_VERSION;
    meta->prov.epochs = -1;
    meta->prov.seed = -1;
    meta->prov.test_accuracy = -1;
}

int imp_generic_classes(mf_meta *meta, int n, thaw_err *err)
{
    if (n > MF_CLASSES_MAX)
        return thaw_fail(err, THAW_EINVAL, "%s: the model has %d outputs; thaw models have at most "
                         "%d classes", meta->file, n, MF_CLASSES_MAX);
    if (!(meta->class_name = calloc((size_t)n, sizeof *meta->class_name)))
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        snprintf(meta->class_name[i], MF_TEXT_MAX, "%d", i);
    meta->nclass = n;
    return THAW_OK;
}

/* The input's normalisation: opts', the model's Rescaling, or MobileNet's. */
static int set_norm(mf_meta *meta, const imp_graph *g, const tfjs_opts *opt, thaw_err *err)
{
    int C = meta->input.c;
    if (g->rescale >= 0 && opt && opt->norm)
        return thaw_fail(err, THAW_EINVAL, "%s: the model rescales its input itself (layer '%s'); "
                         "give no mean and std", meta->file, g->l[g->rescale].name);
    for (int c = 0; c < C; c++) {
        if (g->rescale >= 0) {
            const imp_layer *R = &g->l[g->rescale];
            double scale = R->rs_scale[R->rs_n > 1 ? c : 0], offset = R->rs_offset[R->rs_n > 1 ? c : 0];
            if (!(scale > 0))
                return thaw_fail(err, THAW_EINVAL, "%s: layer '%s' (Rescaling) scales by %g; thaw's "
                                 "normalisation needs a positive scale", meta->file, R->name, scale);
            meta->std[c] = 1.0 / (255.0 * scale);
            meta->mean[c] = -offset * meta->std[c];
        } else if (opt && opt->norm) {
            meta->mean[c] = opt->mean[c], meta->std[c] = opt->std[c];
        } else {
            meta->mean[c] = 0.5, meta->std[c] = 0.5;
        }
        if (!(meta->std[c] > 0) || !(fabs(meta->mean[c]) <= 1e6) || !(meta->std[c] <= 1e6))
            return thaw_fail(err, THAW_EINVAL, "%s: channel %d: mean %g, std %g; expected a finite "
                             "mean and a positive std", meta->file, c, meta->mean[c], meta->std[c]);
    }
    if (g->rescale >= 0)
        imp_note(g->rep, "the input's Rescaling ('%s') is the normalisation: "
                 "mean %g, std %g on [0, 1]", g->l[g->rescale].name, meta->mean[0], meta->std[0]);
    else if (!(opt && opt->norm))
        imp_note(g->rep, "inputs are normalised as MobileNet's and Teachable Machine's are, "
                 "x/127.5 - 1: mean 0.5, std 0.5 on [0, 1]");
    return THAW_OK;
}

/* ---- the whole import ------------------------------------------------------- */

int tfjs_import_mem(mf_meta *meta, model *m, tfjs_report *rep, const char *json, size_t len,
                    const char *file, tfjs_read_fn read, void *ctx, const char *labels,
                    size_t labels_len, const char *labels_file, const tfjs_opts *opt,
                    thaw_err *err)
{
    tfjs_report own;
    rep = rep ? rep : &own;
    imp_start(meta, m, rep, file);
    json_ctx c = { file, err };
    uint64_t max_floats = opt && opt->max_floats && opt->max_floats < MF_PARAMS_MAX
                              ? opt->max_floats : MF_PARAMS_MAX;
    if (len > TFJS_JSON_MAX)
        return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes; expected at most %u", file, len,
                         TFJS_JSON_MAX);
    cJSON *root;
    int rc = json_parse(json, len, TFJS_DEPTH_MAX, &root, &c);
    if (rc)
        return rc;
    imp_graph g = { .c = c, .rep = rep };
    imp_manifest mf = { 0 };
    char fmt[32] = "layers-model", version[48] = "";
    const cJSON *topo = json_get(root, "modelTopology"), *man = json_get(root, "weightsManifest");
    const cJSON *kmodel = topo;
    const char *kat = "modelTopology";
    if ((rc = json_text(root, "", "format", fmt, sizeof fmt, 0, &c)))
        goto done;
    if (strcmp(fmt, "layers-model")) {
        rc = thaw_fail(err, THAW_EINVAL, "%s: format: '%s'; thaw imports TF.js layers models "
                       "(\"layers-model\"), not graph models", file, fmt);
        goto done;
    }
    if (!cJSON_IsObject(topo)) {
        rc = thaw_fail(err, THAW_EFORMAT, "%s: modelTopology: missing or not an object; expected a "
                       "TF.js layers model (model.json with modelTopology and weightsManifest)",
                       file);
        goto done;
    }
    if (!man) {
        rc = thaw_fail(err, THAW_EFORMAT, "%s: weightsManifest: missing; expected the list of "
                       "weight shards", file);
        goto done;
    }
    if (json_get(topo, "model_config")) {
        kmodel = json_get(topo, "model_config");
        kat = "modelTopology.model_config";
    }
    if ((rc = json_text(topo, "modelTopology", "keras_version", version, sizeof version, 0, &c)))
        goto done;
    g.keras3 = version[0] == '3' && version[1] == '.';
    if (opt && opt->input.c > 0)
        g.input_size = opt->input;
    if ((rc = imp_graph_read(&g, kmodel, kat)) ||
        (rc = read_manifest(&mf, man, max_floats, rep, &c)) ||
        (rc = read_shards(&mf, man, read, ctx, rep, &c)))
        goto done;
    char kind[sizeof rep->model];
    snprintf(kind, sizeof kind, "%s", rep->model);
    /* "Keras 2.1.4 functional model ...", "tfjs-layers 1.3.1 Sequential model ..." */
    int numeric = version[0] >= '0' && version[0] <= '9';
    snprintf(rep->model, sizeof rep->model, "%s%.24s %.60s",
             numeric ? "Keras " : version[0] ? "" : "Keras", version, kind);

    meta->input = g.l[g.input].out;
    meta->arch = g.root;
    g.root = NULL;
    const imp_layer *out = &g.l[g.output];
    int classes = out->out.c;
    if (out->out.h * out->out.w != 1) {
        rc = thaw_fail(err, THAW_EINVAL, "%s: the model's output is a %dx%d map of %d channels; "
                       "thaw models end in one score per class", file, out->out.h, out->out.w,
                       classes);
        goto done;
    }
    if ((rc = set_norm(meta, &g, opt, err)))
        goto done;
    if (labels)
        rc = imp_read_labels(meta, labels, labels_len, labels_file ? labels_file : "labels", classes,
                         rep, err);
    else
        rc = imp_generic_classes(meta, classes, err);
    if (rc || (rc = mf_build(m, meta, 1, err)))
        goto done;
    if ((rc = imp_bind_weights(&g, meta->arch, &mf, m, &c)))
        model_free(m);
done:
    if (rc)
        mf_meta_free(meta);
    imp_manifest_free(&mf);
    imp_graph_free(&g);
    cJSON_Delete(root);
    return rc;
}

/* The file at path into *text when it is JSON with "labels"; *text NULL
 * when it is absent, unreadable or holds no labels. Only running out of
 * memory is an error. */
static int labels_beside(const char *path, char **text, size_t *len, thaw_err *err)
{
    thaw_err quiet = { 0 };
    json_ctx c = { path, &quiet };
    cJSON *root;
    int rc = fio_read(path, TFJS_LABELS_MAX, text, len, &quiet);
    if (rc == THAW_OK && (rc = json_parse(*text, *len, 8, &root, &c)) == THAW_OK) {
        rc = json_get(root, "labels") ? THAW_OK : THAW_ENOTFOUND;
        cJSON_Delete(root);
    }
    if (rc) {
        free(*text);
        *text = NULL;
        *len = 0;
    }
    return rc == THAW_ENOMEM ? thaw_fail(err, rc, "%s", quiet.msg) : THAW_OK;
}

typedef struct imp_dir {
    char dir[4096];
} imp_dir;

static int read_beside(void *ctx, const char *name, size_t max, uint8_t **buf, size_t *len,
                       thaw_err *err)
{
    const imp_dir *d = ctx;
    char path[8192], *b;
    snprintf(path, sizeof path, "%s%s", d->dir, name);
    int rc = fio_read(path, max, &b, len, err);
    *buf = (uint8_t *)b;
    return rc;
}

int tfjs_import(mf_meta *meta, model *m, tfjs_report *rep, const char *path,
                const tfjs_opts *opt, thaw_err *err)
{
    memset(meta, 0, sizeof *meta);
    memset(m, 0, sizeof *m);
    imp_dir d;
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) + 1 : 0;
    if (n >= sizeof d.dir)
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", path);
    memcpy(d.dir, path, n);
    d.dir[n] = '\0';
    char *json, *labels = NULL, lpath[4200];
    size_t len, llen = 0;
    int rc = fio_read(path, TFJS_JSON_MAX, &json, &len, err);
    if (rc)
        return rc;
    const char *lfile = opt ? opt->labels : NULL;
    if (lfile) {
        rc = fio_read(lfile, TFJS_LABELS_MAX, &labels, &llen, err);
    } else {
        /* Teachable Machine's metadata.json, when it is there and has labels. */
        snprintf(lpath, sizeof lpath, "%smetadata.json", d.dir);
        rc = labels_beside(lpath, &labels, &llen, err);
        lfile = labels ? lpath : NULL;
    }
    if (rc == THAW_OK)
        rc = tfjs_import_mem(meta, m, rep, json, len, path, read_beside, &d, labels, llen, lfile,
                             opt, err);
    free(json);
    free(labels);
    return rc;
}
