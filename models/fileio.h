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
 * by the next save of NAME.
 *
 * Several processes. A save holds an exclusive flock(2) on the folder of its
 * first file while it works, so saves into one folder take turns, and a
 * temporary file found by a save's clean-up belongs to a save that died (a
 * dead process's lock is gone). A reader that needs several files to agree
 * (a model's JSON and its weights) holds a shared lock on the folder while
 * it reads them:
 *
 *     int lock;
 *     if (fio_lock("m.json", 0, &lock, &err)) ... err.msg ...
 *     ... read m.json and the weights it names ...
 *     fio_unlock(lock);
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

/* Writes n files atomically, as described above, under the folder lock.
 * THAW_EIO naming the file and the failing step (an fsync error is a failed
 * save, never retried), or naming the folder when it cannot be locked
 * within 10 s. */
int fio_save(const char *const *paths, const void *const *bufs, const size_t *lens, int n,
             thaw_err *err);

/* fio_save for a caller that holds the exclusive lock on the folder. */
int fio_save_locked(const char *const *paths, const void *const *bufs, const size_t *lens, int n,
                    thaw_err *err);

/* Locks the folder path lies in: exclusive (savers) or shared (readers),
 * waiting up to 10 s for another process's save. *fd gets the lock for
 * fio_unlock (-1 on a file system without locks: the caller goes on
 * unlocked, as a reader does whose folder cannot be opened: its read then
 * says what is wrong). THAW_EIO when a saver's folder cannot be opened, or
 * the folder stays locked. */
int fio_lock(const char *path, int exclusive, int *fd, thaw_err *err);
void fio_unlock(int fd);

#endif
