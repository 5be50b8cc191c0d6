/* fileio.c — bounded reads and atomic saves (temporary file, fsync, rename,
 * fsync of the folder), see fileio.h. */
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int fio_read(const char *path, size_t max, char **buf, size_t *len, thaw_err *err)
{
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return thaw_fail(err, THAW_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return thaw_fail(err, THAW_EIO, "%s: cannot read: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return thaw_fail(err, THAW_EIO, "%s: not a regular file", path);
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
        close(fd);
        return thaw_fail(err, THAW_EFORMAT, "%s: %lld bytes; expected at most %zu",
                         path, (long long)st.st_size, max);
    }
    size_t size = (size_t)st.st_size;
    char *b = malloc(size + 1);
    if (!b) {
        close(fd);
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %zu bytes", path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, b + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            close(fd);
            return thaw_fail(err, THAW_EIO, "%s: cannot read: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    char extra;
    ssize_t more;
    while ((more = read(fd, &extra, 1)) < 0 && errno == EINTR)
        ;
    close(fd);
    if (got != size || more != 0) {
        free(b);
        return thaw_fail(err, THAW_EIO, "%s: the file changed size while being read", path);
    }
    b[size] = '\0';
    *buf = b;
    *len = size;
    return THAW_OK;
}

/* The folder a path lies in ("." for a bare name), into dir. */
static int fio_dir(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return snprintf(dir, cap, ".") >= (int)cap ? -1 : 0;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= cap)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

static int fio_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fio_fsync(int fd)
{
    int rc;
    while ((rc = fsync(fd)) != 0 && errno == EINTR)
        ;
    return rc;
}

int fio_clean_stale(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t nb = strlen(base);
    if (!*base || fio_dir(path, dir, sizeof dir) != 0)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *name = e->d_name;
        /* ".BASE.XXXXXX", as fio_stage names them */
        if (name[0] != '.' || strncmp(name + 1, base, nb) || name[1 + nb] != '.' ||
            strlen(name + 2 + nb) != 6)
            continue;
        char stale[PATH_MAX];
        int n = snprintf(stale, sizeof stale, "%s/%s", dir, name);
        if (n > 0 && (size_t)n < sizeof stale && unlink(stale) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

/* Writes buf to a fresh temporary file beside path, fsynced and closed;
 * its name goes into tmp. */
static int fio_stage(const char *path, const void *buf, size_t len, char *tmp, size_t cap,
                     thaw_err *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base || fio_dir(path, dir, sizeof dir) != 0)
        return thaw_fail(err, THAW_EINVAL, "%s: not a file name", path);
    int n = snprintf(tmp, cap, "%s/.%s.XXXXXX", dir, base);
    if (n < 0 || (size_t)n >= cap)
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return thaw_fail(err, THAW_EIO, "%s: cannot create a temporary file in %s: %s",
                         path, dir, strerror(e));
    }
    const char *step = NULL;
    if (fchmod(fd, 0644) != 0)
        step = "set the permissions of";
    else if (fio_write_all(fd, buf, len) != 0)
        step = "write";
    else if (fio_fsync(fd) != 0)
        step = "fsync";
    int e = errno;
    if (close(fd) != 0 && !step) {
        e = errno;
        step = "close";
    }
    if (step) {
        unlink(tmp);
        return thaw_fail(err, THAW_EIO, "%s: cannot %s the temporary file: %s", path, step,
                         strerror(e));
    }
    return THAW_OK;
}

int fio_lock(const char *path, int exclusive, int *fd, thaw_err *err)
{
    enum { FIO_LOCK_WAIT_MS = 10000, FIO_LOCK_POLL_MS = 5 };
    char dir[PATH_MAX];
    *fd = -1;
    if (fio_dir(path, dir, sizeof dir) != 0)
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", path);
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0 && !exclusive)
        return THAW_OK;               /* a reader goes on: its read says what is wrong */
    if (d < 0)
        return thaw_fail(err, THAW_EIO, "%s: cannot open its folder %s: %s", path, dir, strerror(errno));
    for (int waited = 0;; waited += FIO_LOCK_POLL_MS) {
        if (flock(d, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
            break;
        if (errno == EOPNOTSUPP || errno == ENOLCK || errno == EINVAL) {
            close(d);                 /* a file system without locks: go on without */
            return THAW_OK;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int e = errno;
            close(d);
            return thaw_fail(err, THAW_EIO, "%s: cannot lock its folder %s: %s", path, dir, strerror(e));
        }
        if (waited >= FIO_LOCK_WAIT_MS) {
            close(d);
            return thaw_fail(err, THAW_EIO, "%s: another process has been saving into %s for "
                             "%d s; try again", path, dir, FIO_LOCK_WAIT_MS / 1000);
        }
        struct timespec nap = { 0, FIO_LOCK_POLL_MS * 1000000L };
        nanosleep(&nap, NULL);
    }
    *fd = d;
    return THAW_OK;
}

void fio_unlock(int fd)
{
    if (fd >= 0)
        close(fd);                    /* closing the descriptor releases its flock */
}

int fio_save(const char *const *paths, const void *const *bufs, const size_t *lens, int n,
             thaw_err *err)
{
    int lock, rc = n >= 1 ? fio_lock(paths[0], 1, &lock, err) : THAW_OK;
    if (rc)
        return rc;
    rc = fio_save_locked(paths, bufs, lens, n, err);
    if (n >= 1)
        fio_unlock(lock);
    return rc;
}

int fio_save_locked(const char *const *paths, const void *const *bufs, const size_t *lens, int n,
                    thaw_err *err)
{
    enum { FIO_FILES_MAX = 8 };
    if (n < 1 || n > FIO_FILES_MAX)
        return thaw_fail(err, THAW_EINVAL, "saving %d files at once; expected 1 to %d",
                         n, FIO_FILES_MAX);
    char tmp[FIO_FILES_MAX][PATH_MAX];
    int rc = THAW_OK, staged = 0, renamed = 0;
    for (int i = 0; i < n; i++)
        fio_clean_stale(paths[i]);
    while (rc == THAW_OK && staged < n) {
        rc = fio_stage(paths[staged], bufs[staged], lens[staged], tmp[staged], PATH_MAX, err);
        staged += rc == THAW_OK;
    }
    while (rc == THAW_OK && renamed < n) {
        if (rename(tmp[renamed], paths[renamed]) != 0)
            rc = thaw_fail(err, THAW_EIO, "%s: cannot rename the temporary file into place: %s",
                           paths[renamed], strerror(errno));
        else
            renamed++;
    }
    for (int i = renamed; i < staged; i++)
        unlink(tmp[i]);
    if (rc != THAW_OK)
        return rc;
    for (int i = 0; i < n; i++) {
        char dir[PATH_MAX];
        if (i > 0) {
            char prev[PATH_MAX];
            if (fio_dir(paths[i - 1], prev, sizeof prev) == 0 && fio_dir(paths[i], dir, sizeof dir) == 0 &&
                !strcmp(prev, dir))
                continue;
        }
        if (fio_dir(paths[i], dir, sizeof dir) != 0)
            return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", paths[i]);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return thaw_fail(err, THAW_EIO, "%s: written, but its folder could not be opened to "
                             "fsync it (%s): the save may not survive a power loss", paths[i],
                             strerror(errno));
        int bad = fio_fsync(dfd) != 0;
        int e = errno;
        close(dfd);
        if (bad)
            return thaw_fail(err, THAW_EIO, "%s: written, but the fsync of its folder failed (%s): "
                             "the save may not survive a power loss", paths[i], strerror(e));
    }
    return THAW_OK;
}
