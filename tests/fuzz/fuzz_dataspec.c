/* fuzz_dataspec.c — libFuzzer target for the data-spec parser: parse the
 * input as a spec and check what came out against task.h's rules (a known
 * source, classes unique and in range, strings terminated, numbers in their
 * ranges). A spec of the built-in shapes set small enough to draw at once is
 * also loaded and its cut checked, so the fuzzer reaches the class
 * selection and the seeded draw without touching a file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

#ifndef FUZZ_FAIL   /* tests/test_fuzz_regress.c counts failures instead */
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

/* Longer than TASK_SPEC_MAX, so the length check is reached too. */
#define DATASPEC_BYTES_MAX (2 * TASK_SPEC_MAX)
/* shapes: n= and test= per class, and image side, the fuzzer may load */
#define DATASPEC_LOAD_PER_CLASS 12
#define DATASPEC_LOAD_SIDE 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dataspec_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void dataspec_check_spec(const task_spec *sp, const char *text)
{
    static const char *const sources[] = { "fashion", "mnist", "emnist", "cifar10", "folder",
                                           "shapes", "cvdigits", "skdigits", "textdir", "csv",
                                           "tsv", "jsonl", "spam", "brown", "topics" };
    int known = 0;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        known |= !strcmp(sp->source, sources[i]);
    if (!dataspec_terminated(sp->source, sizeof sp->source) || !known)
        FUZZ_FAIL("spec '%s': parsed to an unknown source", text);
    if (!dataspec_terminated(sp->dir, sizeof sp->dir) ||
        !dataspec_terminated(sp->testdir, sizeof sp->testdir) ||
        !dataspec_terminated(sp->split, sizeof sp->split) ||
        !dataspec_terminated(sp->file, sizeof sp->file) ||
        !dataspec_terminated(sp->testfile, sizeof sp->testfile) ||
        !dataspec_terminated(sp->textcol, sizeof sp->textcol) ||
        !dataspec_terminated(sp->labelcol, sizeof sp->labelcol))
        FUZZ_FAIL("spec '%s': a path or split is not terminated", text);
    if (sp->nclass_sel < 0 || sp->nclass_sel > DS_MAX_CLASSES)
        FUZZ_FAIL("spec '%s': %d classes selected", text, sp->nclass_sel);
    for (int i = 0; i < sp->nclass_sel && i < DS_MAX_CLASSES; i++) {
        if (sp->class_sel[i] < 0 || sp->class_sel[i] >= DS_MAX_CLASSES)
            FUZZ_FAIL("spec '%s': class %d out of range", text, sp->class_sel[i]);
        for (int j = 0; j < i; j++)
            if (sp->class_sel[j] == sp->class_sel[i])
                FUZZ_FAIL("spec '%s': class %d selected twice", text, sp->class_sel[i]);
    }
    if (sp->shots < 0 || sp->shots > DS_MAX_IMAGES || sp->val < 0 || sp->val > DS_MAX_IMAGES ||
        sp->n < 0 || sp->n > DS_MAX_IMAGES || sp->test < 0 || sp->test > DS_MAX_IMAGES)
        FUZZ_FAIL("spec '%s': a count out of range", text);
    if (sp->height < 0 || sp->height > DS_MAX_SIDE || sp->width < 0 || sp->width > DS_MAX_SIDE ||
        (sp->channels != 0 && sp->channels != 1 && sp->channels != 3))
        FUZZ_FAIL("spec '%s': a geometry out of range", text);
}

/* Loads a small shapes spec and checks the cut: labels in range, the
 * per-class counts adding up to each split. */
static void dataspec_load_shapes(const task_spec *sp, const char *text)
{
    if (strcmp(sp->source, "shapes") || sp->n < 1 || sp->n > DATASPEC_LOAD_PER_CLASS ||
        sp->test < 1 || sp->test > DATASPEC_LOAD_PER_CLASS || sp->height > DATASPEC_LOAD_SIDE ||
        sp->width > DATASPEC_LOAD_SIDE)
        return;
    task t;
    thaw_err err = { 0 };
    int rc = task_load(&t, text, NULL, 1, &err);
    if (rc != THAW_OK) {
        if (!err.msg[0] || err.code != rc)
            FUZZ_FAIL("spec '%s': task_load failed (%d) without a message", text, rc);
        return;
    }
    if (t.nclass < 1 || t.nclass > DS_MAX_CLASSES || (sp->nclass_sel && t.nclass != sp->nclass_sel))
        FUZZ_FAIL("spec '%s': %d classes loaded", text, t.nclass);
    for (int s = 0; s < TASK_SPLITS; s++) {
        long sum = 0;
        for (int k = 0; k < t.nclass; k++)
            sum += t.count[s * t.nclass + k];
        if (sum != t.split[s].n)
            FUZZ_FAIL("spec '%s': split %s holds %d images, its classes %ld", text,
                      task_split_names[s], t.split[s].n, sum);
        for (int i = 0; i < t.split[s].n; i++)
            if (t.split[s].y[i] < 0 || t.split[s].y[i] >= t.nclass)
                FUZZ_FAIL("spec '%s': split %s image %d has label %d", text, task_split_names[s],
                          i, t.split[s].y[i]);
    }
    for (int k = 0; k < t.nclass; k++)
        if (sp->shots && t.count[TASK_TRAIN * t.nclass + k] != sp->shots)
            FUZZ_FAIL("spec '%s': class %d has %d training images, not shots=%d", text, k,
                      t.count[TASK_TRAIN * t.nclass + k], sp->shots);
    task_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DATASPEC_BYTES_MAX)
        return -1;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    task_spec sp;
    thaw_err err = { 0 };
    int rc = task_spec_parse(&sp, text, &err);
    if (rc == THAW_OK)
        dataspec_check_spec(&sp, text), dataspec_load_shapes(&sp, text);
    else if (rc != THAW_EINVAL || err.code != rc || !err.msg[0])
        FUZZ_FAIL("spec '%s': failed with %d but err says %d '%s'", text, rc, err.code, err.msg);
    free(text);
    return 0;
}
