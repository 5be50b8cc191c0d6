/* paths.h — where thaw looks for the files a command names by a relative
 * path (models/..., examples/lessons/...), so the shipped models and lessons
 * are found from any working directory, installed or not.
 *
 * A relative path that does not exist in the working directory is looked
 * for, in order, under $THAW_HOME, beside the thaw binary (a build in the
 * repository), and in ../share/thaw beside it (make install's layout).
 *
 *     char where[PATHS_MAX];
 *     const char *f = paths_find("models/fashion-resnet.json", where, sizeof where);
 *     // f is the path as given if it exists here (or is absolute), else the
 *     // first place it exists, else the path as given (its error names it)
 */
#ifndef THAW_PATHS_H
#define THAW_PATHS_H

#include <stddef.h>

enum { PATHS_MAX = 4096 };

/* path itself, or where it was found (written to buf); never NULL. */
const char *paths_find(const char *path, char *buf, size_t cap);

#endif
