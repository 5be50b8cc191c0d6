/* mf_impl.h — what the files of the model-file module share (mf_parse.c,
 * mf_v1.c, mf_print.c, mf_load.c, mf_save.c); not for callers. */
#ifndef THAW_MF_IMPL_H
#define THAW_MF_IMPL_H

#include "json.h"
#include "modelfile.h"

/* A plain file name ending in ".safetensors": never a path, so a model file
 * cannot point thaw at a file outside its own folder. */
int mf_weights_name_ok(const char *s);

/* Frees what n owns (not n itself). */
void mf_node_free(mf_node *n);

/* Version 1's residual block at `at` (v, its name already read into n)
 * as the general residual (mf_v1.c). */
int mf_v1_residual(mf_node *n, const cJSON *v, const char *at, const json_ctx *c);

#endif
