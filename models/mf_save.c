/* mf_save.c — writing a model file and its weights, atomically as a pair. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "mf_impl.h"
#include "safetensors.h"

/* meta must describe m exactly, or the saved pair would not load. */
static int mf_check_describes(const mf_meta *meta, const model *m, thaw_err *err)
{
    model check;
    thaw_err detail = { 0 };
    int rc = mf_build(&check, meta, 0, &detail);
    if (rc == THAW_ENOMEM)
        return thaw_fail(err, rc, "out of memory checking the model's description: %s", detail.msg);
    if (rc)
        return thaw_fail(err, THAW_EINVAL, "the model's description does not build: %s", detail.msg);
    int same = check.nslice == m->nslice && check.in.c == m->in.c && check.in.h == m->in.h &&
               check.in.w == m->in.w;
    for (int s = 0; s < m->nslice && same; s++) {
        const param_slice *a = &check.slice[s], *b = &m->slice[s];
        same = !strcmp(a->name, b->name) && a->ndim == b->ndim;
        for (int d = 0; d < a->ndim && same; d++)
            same = a->dim[d] == b->dim[d];
    }
    model_free(&check);
    if (!same)
        return thaw_fail(err, THAW_EINVAL, "the description (%s) does not match the model's "
                         "input or parameters", meta->file[0] ? meta->file : "architecture");
    return THAW_OK;
}


/* The weights file name the model JSON at path refers to now: "" when there
 * is no such JSON or it is not a model file. THAW_ENOMEM, or THAW_EIO when
 * the file exists but cannot be read. */
static int mf_current_weights(const char *path, char *out, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    mf_meta meta;
    out[0] = '\0';
    thaw_err e = {0};
    if (fio_read(path, MF_JSON_MAX, &text, &len, &e) != THAW_OK)
        return e.code == THAW_ENOMEM ? THAW_ENOMEM
             : access(path, F_OK) != 0 && errno == ENOENT ? THAW_OK : THAW_EIO;
    int rc = mf_parse(&meta, text, len, path, NULL);
    if (rc == THAW_OK) {
        snprintf(out, cap, "%s", meta.weights);
        mf_meta_free(&meta);
    }
    free(text);
    return rc == THAW_ENOMEM ? THAW_ENOMEM : THAW_OK;
}

int mf_save(const char *path, const mf_meta *meta, const model *m, thaw_err *err)
{
    size_t n = strlen(path), ext = strlen(".json");
    if (n <= ext || strcmp(path + n - ext, ".json"))
        return thaw_fail(err, THAW_EINVAL, "%s: expected a file name ending in \".json\"", path);
    /* The save takes effect when the JSON is renamed into place, so the new
     * weights never overwrite the ones the current JSON names: a save
     * alternates between NAME.safetensors and NAME.1.safetensors and removes
     * the old file afterwards. A crash at any moment leaves the old pair or
     * the new one. */
    char wpath[2][4096], old[MF_TEXT_MAX];
    if (n - ext + strlen(".1.safetensors") >= sizeof wpath[0])
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", path);
    snprintf(wpath[0], sizeof wpath[0], "%.*s.safetensors", (int)(n - ext), path);
    snprintf(wpath[1], sizeof wpath[1], "%.*s.1.safetensors", (int)(n - ext), path);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *wname[2] = { wpath[0] + dirlen, wpath[1] + dirlen };
    if (!mf_weights_name_ok(wname[0]))
        return thaw_fail(err, THAW_EINVAL, "%s: expected a file name not starting with '.'", path);
    int rc = mf_current_weights(path, old, sizeof old);
    if (rc == THAW_ENOMEM)
        return thaw_fail(err, rc, "%s: out of memory reading the model it replaces", path);
    if (rc)
        return thaw_fail(err, rc, "%s: exists but cannot be read, so it is not replaced", path);
    int next = !strcmp(old, wname[0]);
    rc = mf_check_describes(meta, m, err);
    if (rc)
        return rc;
    for (int s = 0; s < m->nslice; s++) {
        const float *p = model_param(m, s);
        for (size_t i = 0; i < m->slice[s].len; i++)
            if (!isfinite(p[i]))
                return thaw_fail(err, THAW_ENONFINITE, "%s: not saved: '%s' element %zu is %s",
                                 path, m->slice[s].name, i, isnan(p[i]) ? "NaN" : "Inf");
    }
    st_out *t = calloc((size_t)m->nslice * 2 + 1, sizeof *t);
    int64_t *tracked = calloc((size_t)m->nslice + 1, sizeof *tracked);
    char (*tname)[ST_NAME_MAX] = calloc((size_t)m->nslice + 1, sizeof *tname);
    uint8_t *weights = NULL;
    char *json = NULL;
    size_t nweights = 0, njson = 0;
    if (!t || !tracked || !tname) {
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    int nt = 0, nb = 0;
    for (int s = 0; s < m->nslice; s++) {
        const param_slice *ps = &m->slice[s];
        st_out *o = &t[nt++];
        o->name = ps->name;
        o->dtype = ST_F32;
        o->ndim = ps->ndim;
        for (int d = 0; d < ps->ndim; d++)
            o->dim[d] = (uint64_t)ps->dim[d];
        o->data = model_param(m, s);
        const layer *owner = ps->owner;
        if (layer_is_batchnorm(owner) && s == owner->slice0 + owner->nslice - 1) {
            tracked[nb] = batchnorm2d_tracked(owner);
            snprintf(tname[nb], ST_NAME_MAX, "%s.num_batches_tracked", owner->path);
            t[nt++] = (st_out){ .name = tname[nb], .dtype = ST_I64, .ndim = 0, .data = &tracked[nb] };
            nb++;
        }
    }
    if ((rc = st_serialize(t, nt, &weights, &nweights, err)) ||
        (rc = mf_print(meta, m, wname[next], &json, &njson, err)))
        goto done;
    const char *paths[] = { wpath[next], path };
    const void *bufs[] = { weights, json };
    size_t lens[] = { nweights, njson };
    rc = fio_save(paths, bufs, lens, 2, err);
    /* The weights file the JSON now positively does not name goes; when
     * that cannot be told, both stay. */
    char now[MF_TEXT_MAX];
    if (mf_current_weights(path, now, sizeof now) == THAW_OK) {
        if (!strcmp(now, wname[next]) && !strcmp(old, wname[!next]))
            unlink(wpath[!next]);
        else if (!strcmp(now, wname[!next]))
            unlink(wpath[next]);
    }
done:
    free(t);
    free(tracked);
    free(tname);
    free(weights);
    free(json);
    return rc;
}

