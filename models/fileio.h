/* fileio.h — reading untrusted files with a size cap, and saving atomically.
 *
 *     char *buf; size_t len;
 *     if (fio_read("m.json", 1 << 20, &buf, &len, &err)) ... report err.msg ...
 *     ...
 *     free(buf);
 *
 *     const char *paths[] = { "m.safetensors", "m.json" };
 *     const void *bufs[] = { weights, json };
 *     size_t lens[] = { nweights, njson };
 *     fio_save(paths, bufs, lens, 2, &err);
 *
 * A save writes every file to a temporary name in its destination folder,
 * fsyncs and closes each, then renames them into place in the order given and
 * fsyncs the folders: a reader sees either the old file or the whole new one,
 * never a half-written one. Each temporary file is removed on failure; one
 * left by a process killed mid-save (".NAME.XXXXXX" beside NAME) is removed
 * by the next save of NAME, which assumes one writer per file.
 */
#ifndef THAW_FILEIO_H
#define THAW_FILEIO_H

#include <stddef.h>

#include "status.h"

/* Reads the whole regular file at path into a fresh buffer (one extra NUL
 * byte after the content; the caller frees it). THAW_EIO when the file
 * cannot be opened or read, is not a regular file (a FIFO, a device, a
 * folder) or changes size while being read; THAW_EFORMAT when it is larger
 * than max bytes, checked before anything is allocated. */
int fio_read(const char *path, size_t max, char **buf, size_t *len, thaw_err *err);

/* Removes the temporary files a killed save of path left beside it;
 * returns how many. */
int fio_clean_stale(const char *path);

/* Writes n files atomically, as described above. THAW_EIO naming the file
 * and the failing step (an fsync error is a failed save, never retried). */
int fio_save(const char *const *paths, const void *const *bufs, const size_t *lens, int n,
             thaw_err *err);

#endif
