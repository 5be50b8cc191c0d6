/* onnx.h — importing ONNX models (a torchvision network exported by
 * torch.onnx.export, say) into thaw. The file is parsed by protobuf-c with
 * C generated at build time from ONNX's own schema; the graph's nodes become
 * layers in the table import_keras.c builds thaw's tree from (residuals and
 * gates recognised there), and the initializers and Constant nodes their
 * weights. Reports, options and limits are the TF.js importer's (tfjs.h). */
#ifndef THAW_ONNX_H
#define THAW_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "tfjs.h"

#define ONNX_FILE_MAX ((size_t)MF_PARAMS_MAX * 4 + (64u << 20))   /* bytes of a .onnx file */

/* Imports the ONNX model in buf (len bytes; `file` names it in errors), the
 * class names from labels (labels_len bytes, named labels_file) or 0, 1, ...
 * Inputs are normalised by opt's mean and std, else ImageNet's (three
 * channels) or not at all. On success meta and m hold the model; on failure
 * both are empty and err says what in the file was wrong. */
int onnx_import_mem(mf_meta *meta, model *m, tfjs_report *rep, const uint8_t *buf, size_t len,
                    const char *file, const char *labels, size_t labels_len,
                    const char *labels_file, const tfjs_opts *opt, thaw_err *err);

/* onnx_import_mem on the file at path, and opt->labels when given. */
int onnx_import(mf_meta *meta, model *m, tfjs_report *rep, const char *path,
                const tfjs_opts *opt, thaw_err *err);

/* Exporting. The model's inference graph (BatchNorm kept as
 * BatchNormalization, dropout left out), opset 14, its input "input" of shape
 * (N, C, H, W) with N left open, its output the root's ((N, classes) after a
 * linear head), the weights as initializers named as PyTorch names them.
 * Text layers (embedding, conv1d, sequence pools) are refused naming the
 * layer: THAW_EINVAL; THAW_ENOMEM. *buf is malloc'd, the caller frees it. */
int onnx_export_mem(const mf_meta *meta, const model *m, uint8_t **buf, size_t *len, thaw_err *err);

/* onnx_export_mem into the file at path, atomically (fio_save): THAW_EIO too. */
int onnx_export(const mf_meta *meta, const model *m, const char *path, thaw_err *err);

#endif
