/* export_pytorch.h — the Python text `thaw export pytorch` writes
 * (export_pytorch_text.c). */
#ifndef THAW_EXPORT_PYTORCH_H
#define THAW_EXPORT_PYTORCH_H

/* model.py's helpers: one Python function per layer type it can express,
 * named after the type, taking the hyper-parameters as keywords and the
 * children under the type's child keys. */
extern const char export_model_py[];

/* train.py, whole. */
extern const char export_train_py[];

#endif
