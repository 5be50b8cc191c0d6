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


/* Every text the JSON will hold is one mf_parse takes back: class names
 * (unique) and the provenance's labels under the rule for names. */
static int mf_check_texts(const char *path, const mf_meta *meta, thaw_err *err)
{
    char q[192];
    for (int k = 0; k < meta->nclass; k++) {
        if (!utf8_name_ok(meta->class_name[k], THAW_NAME_MAX))
            return thaw_fail(err, THAW_EINVAL, "%s: not saved: class %d, '%s', is not 1 to %d bytes "
                             "of printable UTF-8", path, k, utf8_quote(q, sizeof q, meta->class_name[k]),
                             THAW_NAME_MAX);
        for (int j = 0; j < k; j++)
            if (!strcmp(meta->class_name[j], meta->class_name[k]))
                return thaw_fail(err, THAW_EINVAL, "%s: not saved: classes %d and %d are both '%s'",
                                 path, j, k, utf8_quote(q, sizeof q, meta->class_name[k]));
    }
    const char *label[] = { meta->prov.dataset, meta->prov.finetuned_from };
    for (int i = 0; i < 2; i++)
        if (label[i][0] && !utf8_name_ok(label[i], THAW_NAME_MAX))
            return thaw_fail(err, THAW_EINVAL, "%s: not saved: the provenance label '%s' is not "
                             "printable UTF-8", path, utf8_quote(q, sizeof q, label[i]));
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
    /* The weights' name goes into the JSON, under the rule for names. */
    if (!utf8_name_ok(wname[1], THAW_NAME_MAX)) {
        char q[192];
        return thaw_fail(err, THAW_EINVAL, "%s: a model's file name is at most %zu bytes of "
                         "printable UTF-8 before \".json\" (its weights' name, NAME.1.safetensors, "
                         "is written inside it)", utf8_quote(q, sizeof q, path),
                         THAW_NAME_MAX - strlen(".1.safetensors"));
    }
    int rc, lock = -1;
    if ((rc = mf_check_texts(path, meta, err)) || (rc = mf_check_describes(meta, m, err)))
        return rc;
    for (int s = 0; s < m->nslice; s++) {
        const float *p = model_param(m, s);
        for (size_t i = 0; i < m->slice[s].len; i++)
            if (!isfinite(p[i]))
                return thaw_fail(err, THAW_ENONFINITE, "%s: not saved: '%s' element %zu is %s",
                                 path, m->slice[s].name, i, isnan(p[i]) ? "NaN" : "Inf");
    }
    /* From reading which weights the JSON names to removing the old ones,
     * no other save into the folder runs, and no reader reads a pair. */
    if ((rc = fio_lock(path, 1, &lock, err)))
        return rc;
    rc = mf_current_weights(path, old, sizeof old);
    if (rc) {
        fio_unlock(lock);
        if (rc == THAW_ENOMEM)
            return thaw_fail(err, rc, "%s: out of memory reading the model it replaces", path);
        return thaw_fail(err, rc, "%s: exists but cannot be read, so it is not replaced", path);
    }
    int next = !strcmp(old, wname[0]);
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
    /* A text model's vocabulary goes beside, as NAME.vocab, in the same save. */
    char vpath[4096];
    mf_meta named = *meta;
    snprintf(vpath, sizeof vpath, "%.*s.vocab", (int)(n - ext), path);
    snprintf(named.vocab_name, sizeof named.vocab_name, "%s", meta->vocab ? vpath + dirlen : "");
    if ((rc = st_serialize(t, nt, &weights, &nweights, err)) ||
        (rc = mf_print(&named, m, wname[next], &json, &njson, err)))
        goto done;
    const char *paths[] = { wpath[next], meta->vocab ? vpath : path, path };
    const void *bufs[] = { weights, meta->vocab ? (const void *)meta->vocab : json, json };
    size_t lens[] = { nweights, meta->vocab ? meta->vocab_len : njson, njson };
    rc = fio_save_locked(paths, bufs, lens, meta->vocab ? 3 : 2, err);
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
    fio_unlock(lock);
    free(t);
    free(tracked);
    free(tname);
    free(weights);
    free(json);
    return rc;
}

