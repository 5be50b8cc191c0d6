/* predict.c — an image as a model's input, its forward pass, its top
 * classes (predict.h). */
#include "predict.h"

#include <math.h>
#include <stdlib.h>

#include "ds.h"
#include "imgdir.h"

int predict_load(float *x, const mf_meta *meta, const char *path, thaw_err *err)
{
    ds_geom g = { .in = meta->input };
    if (meta->input.c != 1 && meta->input.c != 3)
        return thaw_fail(err, THAW_EINVAL, "%s: the model takes %d channels; thaw reads photos "
                         "for models of 1 or 3", meta->file, meta->input.c);
    for (int c = 0; c < meta->input.c; c++)
        g.mean[c] = (float)meta->mean[c], g.std[c] = (float)meta->std[c];
    uint8_t *buf;
    size_t len;
    int rc = ds_read_file(path, PREDICT_FILE_MAX, &buf, &len, err);
    if (rc)
        return rc;
    rc = imgdir_decode_input(x, &g, buf, len, path, err);
    free(buf);
    return rc;
}

int predict_run(model *m, const float *x, float *prob, thaw_err *err)
{
    int rc = model_prepare(m, 1, err);
    if (rc)
        return rc;
    model_predict(m, x, 1);
    const float *z = m->root->y;
    double top = z[0], sum = 0;
    for (int i = 1; i < m->classes; i++)
        top = z[i] > top ? z[i] : top;
    for (int i = 0; i < m->classes; i++)
        sum += exp(z[i] - top);
    for (int i = 0; i < m->classes; i++)
        prob[i] = (float)(exp(z[i] - top) / sum);
    return THAW_OK;
}

int predict_top(const float *prob, int n, predict_hit *top, int k)
{
    int got = 0;
    for (int i = 0; i < n; i++) {
        int at = got < k ? got++ : k;
        while (at > 0 && prob[i] > top[at - 1].p) {
            if (at < k)
                top[at] = top[at - 1];
            at--;
        }
        if (at < k)
            top[at] = (predict_hit){ i, prob[i] };
    }
    return got;
}
