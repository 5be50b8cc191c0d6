/* util.c — scratch folders, checkpoint bytes and weight comparison for the
 * fault programs (util.h). */
#include "util.h"

#include <cjson/cJSON.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fx_tmpdir(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(dir, cap, "%s/thaw-faults-XXXXXX", base && *base ? base : "/tmp");
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

/* Counts the entries of dir but "." and ".." that `want` accepts, deleting
 * them when remove is set. */
static int fx_each(const char *dir, int (*want)(const char *name), int remove)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !want(e->d_name))
            continue;
        n++;
        if (remove) {
            char path[FX_PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    return n;
}

static int fx_any(const char *name)
{
    (void)name;
    return 1;
}

static int fx_hidden(const char *name)
{
    return name[0] == '.';
}

void fx_rmdir(const char *dir)
{
    fx_each(dir, fx_any, 1);
    rmdir(dir);
}

int fx_temps(const char *dir, int remove)
{
    return fx_each(dir, fx_hidden, remove);
}

int fx_open_fds(void)
{
    /* opendir's own descriptor is among those listed. */
    return fx_each("/proc/self/fd", fx_any, 0) - 1;
}

static char *fx_slurp(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *bigger = realloc(b, cap *= 2);
            if (!bigger)
                free(b);
            b = bigger;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

void fx_weights_path(char *out, size_t cap, const char *json)
{
    /* The weights file the JSON names, beside it (saves alternate between
     * NAME.safetensors and NAME.1.safetensors). */
    size_t len = 0;
    char *text = fx_slurp(json, &len);
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "weights");
    const char *slash = strrchr(json, '/');
    int dir = slash ? (int)(slash - json) + 1 : 0;
    if (cJSON_IsString(w))
        snprintf(out, cap, "%.*s%s", dir, json, w->valuestring);
    else
        snprintf(out, cap, "%.*s.safetensors", (int)(strlen(json) - strlen(".json")), json);
    cJSON_Delete(root);
    free(text);
}

void fx_ckpt_read(fx_ckpt *c, const char *path)
{
    char w[FX_PATH_MAX];
    fx_weights_path(w, sizeof w, path);
    c->json = fx_slurp(path, &c->njson);
    c->weights = fx_slurp(w, &c->nweights);
}

static int fx_same_bytes(const char *a, size_t na, const char *b, size_t nb)
{
    if (!a || !b)
        return !a && !b;
    return na == nb && !memcmp(a, b, na);
}

int fx_ckpt_same(const fx_ckpt *a, const fx_ckpt *b)
{
    return fx_same_bytes(a->json, a->njson, b->json, b->njson) &&
           fx_same_bytes(a->weights, a->nweights, b->weights, b->nweights);
}

void fx_ckpt_free(fx_ckpt *c)
{
    free(c->json);
    free(c->weights);
    memset(c, 0, sizeof *c);
}

int fx_same_params(const model *a, const model *b)
{
    if (a->nslice != b->nslice)
        return 0;
    for (int s = 0; s < a->nslice; s++)
        if (strcmp(a->slice[s].name, b->slice[s].name) || a->slice[s].len != b->slice[s].len ||
            memcmp(model_param(a, s), model_param(b, s), a->slice[s].len * sizeof(float)))
            return 0;
    return 1;
}
