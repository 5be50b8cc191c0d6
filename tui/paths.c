/* paths.c — finding the shipped models and lessons from any working
 * directory (see paths.h). */
#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* dir/path into buf when it exists there. */
static int try_under(const char *dir, size_t ndir, const char *path, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%.*s/%s", (int)ndir, dir, path);
    return n > 0 && (size_t)n < cap && exists(buf);
}

const char *paths_find(const char *path, char *buf, size_t cap)
{
    if (!path[0] || path[0] == '/' || exists(path))
        return path;
    const char *home = getenv("THAW_HOME");
    if (home && home[0] && try_under(home, strlen(home), path, buf, cap))
        return buf;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return path;
    exe[n] = '\0';
    const char *slash = strrchr(exe, '/');
    size_t ndir = slash ? (size_t)(slash - exe) : 0;
    if (try_under(exe, ndir, path, buf, cap))
        return buf;
    char share[PATH_MAX + 32];
    snprintf(share, sizeof share, "%.*s/../share/thaw", (int)ndir, exe);
    if (try_under(share, strlen(share), path, buf, cap))
        return buf;
    return path;
}
