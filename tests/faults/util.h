/* util.h — what thaw-faults and thaw-killsave share: a scratch folder, a
 * checkpoint's two files as bytes, and comparing weights.
 *
 *     char dir[FX_PATH_MAX];
 *     if (fx_tmpdir(dir, sizeof dir)) ... cannot test ...
 *     fx_ckpt a;
 *     fx_ckpt_read(&a, "DIR/ckpt.json");    // ckpt.json and ckpt.safetensors
 *     ...
 *     fx_ckpt_free(&a);
 *     fx_rmdir(dir);
 */
#ifndef THAW_FX_UTIL_H
#define THAW_FX_UTIL_H

#include <stddef.h>

#include "modelfile.h"

enum { FX_PATH_MAX = 1024 };

/* A fresh folder under $TMPDIR (or /tmp), its path into dir; 0 on success. */
int fx_tmpdir(char *dir, size_t cap);

/* Removes the files in dir (it holds no sub-folders), then dir. */
void fx_rmdir(const char *dir);

/* Files in dir whose names start with '.': fileio's temporary files. With
 * remove set, they are deleted too. */
int fx_temps(const char *dir, int remove);

/* Open file descriptors of this process. */
int fx_open_fds(void);

/* A checkpoint's files as bytes; a missing file is a NULL buffer. */
typedef struct fx_ckpt {
    char *json, *weights;
    size_t njson, nweights;
} fx_ckpt;

/* Reads path (a .json) and the .safetensors beside it into c. */
void fx_ckpt_read(fx_ckpt *c, const char *path);
int fx_ckpt_same(const fx_ckpt *a, const fx_ckpt *b);
void fx_ckpt_free(fx_ckpt *c);

/* 1 when a and b hold the same tensors with bit-identical values. */
int fx_same_params(const model *a, const model *b);

/* The .safetensors path beside a .json path. */
void fx_weights_path(char *out, size_t cap, const char *json);

#endif
