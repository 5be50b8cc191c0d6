/* task_impl.h — what task.c shares with task_text.c, the text sources. */
#ifndef THAW_TASK_IMPL_H
#define THAW_TASK_IMPL_H

#include "task.h"
#include "textsrc.h"

/* The folder to read: dir= when given, else $THAW_DATA/sub when THAW_DATA is
 * set (and, when there is a system location, that folder exists), else the
 * system location; THAW_ENOTFOUND when there is none. Into t->where. */
int task_pick_dir(task *t, const task_spec *sp, const char *sub, const char *system,
                  thaw_err *err);

/* A text source's loader: the documents of its training and test splits,
 * with the same classes. */
typedef int (*task_text_load)(task *t, const task_spec *sp, txt_set *train, txt_set *test,
                              thaw_err *err);
int task_load_textdir(task *, const task_spec *, txt_set *, txt_set *, thaw_err *);
int task_load_csv(task *, const task_spec *, txt_set *, txt_set *, thaw_err *);
int task_load_tsv(task *, const task_spec *, txt_set *, txt_set *, thaw_err *);
int task_load_jsonl(task *, const task_spec *, txt_set *, txt_set *, thaw_err *);
int task_load_spam(task *, const task_spec *, txt_set *, txt_set *, thaw_err *);
int task_load_brown(task *, const task_spec *, txt_set *, txt_set *, thaw_err *);
int task_load_topics(task *, const task_spec *, txt_set *, txt_set *, thaw_err *);

/* A text task's geometry: token ids 1x1xL, L the spec's len= (default
 * TASK_TEXT_LEN) or the model's input width; THAW_ESHAPE when g is a model
 * that does not read token ids, or whose width len= contradicts. */
int task_text_geom(ds_geom *out, const task_spec *sp, const ds_geom *g, thaw_err *err);

/* The labels and class names of docs as a ds_raw without images, for the cut. */
int task_text_raw(ds_raw *raw, const txt_set *docs, shape3 in, thaw_err *err);

/* The splits of a text task from the cut (mark, newlab as in task.c): the
 * vocabulary from the training split, every kept document encoded. */
int task_text_fill(task *t, const txt_set *train, const txt_set *test, const int *mark,
                   const int *newlab, thaw_err *err);

#endif
