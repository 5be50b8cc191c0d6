/* test_models_shipped.c — the pretrained models in models/ load, describe
 * themselves, and do what their provenance says. */
#include <string.h>

#include "loss.h"
#include "modelfile.h"
#include "task.h"
#include "test.h"

void test_shipped_fashion_resnet(void)
{
    thaw_err err = {0};
    mf_meta meta;
    model m;
    CHECKF(mf_load(&meta, &m, "models/fashion-resnet.json", NULL, &err) == THAW_OK, "%s", err.msg);
    int ok = meta.nclass == 5 && !strcmp(meta.class_name[0], "T-shirt/top") &&
             !strcmp(meta.class_name[4], "Coat") && meta.input.c == 1 && meta.input.h == 28 &&
             meta.prov.ndataset_classes == 5 && meta.prov.dataset_classes[4] == 4 &&
             meta.prov.test_accuracy >= 0.896 && model_count(&m, 0) == 307429;
    double acc = meta.prov.test_accuracy;
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(ok, "fashion-resnet describes itself wrongly (recorded accuracy %.4f; PyTorch's "
           "reference reaches 0.896)", acc);
}

/* shapes-resnet classifies fresh synthetic test images as well as its file says. */
void test_shipped_shapes_resnet(void)
{
    thaw_err err = {0};
    mf_meta meta;
    model m;
    task t;
    CHECKF(mf_load(&meta, &m, "models/shapes-resnet.json", NULL, &err) == THAW_OK, "%s", err.msg);
    ds_geom g = { .in = meta.input };
    g.mean[0] = (float)meta.mean[0];
    g.std[0] = (float)meta.std[0];
    int loaded = task_load(&t, "shapes:n=1,test=25", &g, 1, &err) == THAW_OK;
    int ready = loaded && model_prepare(&m, 50, &err) == THAW_OK;
    long correct = 0, seen = 0;
    const ds_split *test = loaded ? &t.split[TASK_TEST] : NULL;
    size_t img = shape3_count(meta.input);
    for (int n; ready && (n = test->n - (int)seen < 50 ? test->n - (int)seen : 50) > 0; seen += n) {
        model_forward(&m, test->x + (size_t)seen * img, n, 0);
        correct += loss_correct(m.root->y, test->y + seen, n, m.classes);
    }
    if (loaded)
        task_free(&t);
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(ready, "%s", err.msg);
    CHECKF(seen == 200 && correct >= 190, "%ld of %ld test shapes right", correct, seen);
}
