/* predict.h — classifying photos with a model: an image file as the
 * model's input, the forward pass, and the classes it scores highest. The
 * front ends (thaw predict, the workbench's predict) print the result.
 *
 *     float *x = malloc(sizeof(float) * shape3_count(meta.input));
 *     float *p = malloc(sizeof(float) * m.classes);
 *     predict_hit top[5];
 *     if (predict_load(x, &meta, "cat.png", &err) || predict_run(&m, x, p, &err)) ... err.msg ...
 *     int n = predict_top(p, m.classes, top, 5);    // top[0].cls, top[0].p ...
 *
 *     char **f; int nf;                                // a folder: its images
 *     if (predict_files("photos", &f, &nf, &err)) ... err.msg ...
 *     ... predict_load(x, &meta, f[i], &err) ...
 *     predict_files_free(f, nf);
 */
#ifndef THAW_PREDICT_H
#define THAW_PREDICT_H

#include "modelfile.h"

#define PREDICT_FILE_MAX ((size_t)64 << 20)   /* bytes of an image file */

typedef struct predict_hit {
    int cls;
    float p;
} predict_hit;

/* The PNG or JPEG at path as meta's input into x (meta->input floats):
 * resized (bilinear), grey repeated to three channels, normalised per
 * channel. THAW_EINVAL when the model's input is not 1 or 3 channels; the
 * errors of reading and decoding (datasets/imgdir.h), naming the file. */
int predict_load(float *x, const mf_meta *meta, const char *path, thaw_err *err);

/* Runs m on one input x in evaluation mode; the softmax of its logits into
 * prob (m->classes floats); the logits stay in m->root->y. THAW_ENOMEM. */
int predict_run(model *m, const float *x, float *prob, thaw_err *err);

/* The image files path names, into *files (*n of them, each and the array
 * malloc'd; free with predict_files_free): path itself when it is not a
 * folder (predict_load then says what is wrong with it); for a folder, its
 * PNG and JPEG files (.png, .jpg, .jpeg in any case) and those of its
 * sub-folders one level deep (an image-folder data set: one sub-folder per
 * class), sorted by path, hidden entries skipped, at most PREDICT_FILES_MAX.
 * THAW_EINVAL naming a folder with no images or too many, THAW_EIO naming
 * one that cannot be read, THAW_ENOMEM. On failure *files is NULL. */
#define PREDICT_FILES_MAX 100000
int predict_files(const char *path, char ***files, int *n, thaw_err *err);
void predict_files_free(char **files, int n);

/* The k most probable classes, best first (ties: the lower class); returns
 * how many (at most n). */
int predict_top(const float *prob, int n, predict_hit *top, int k);

#endif
