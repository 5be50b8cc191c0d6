/* predict.c — an image as a model's input, its forward pass, its top
 * classes (predict.h). */
#include "predict.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ds.h"
#include "imgdir.h"

int predict_load(float *x, const mf_meta *meta, const char *path, thaw_err *err)
{
    ds_geom g = { .in = meta->input };
    if (meta->input.c != 1 && meta->input.c != 3)
        return thaw_fail(err, THAW_EINVAL, "%s: the model takes %d channels; thaw reads photos "
                         "for models of 1 or 3", meta->file, meta->input.c);
    for (int c = 0; c < meta->input.c; c++)
        g.mean[c] = (float)meta->mean[c], g.std[c] = (float)meta->std[c];
    uint8_t *buf;
    size_t len;
    int rc = ds_read_file(path, PREDICT_FILE_MAX, &buf, &len, err);
    if (rc)
        return rc;
    rc = imgdir_decode_input(x, &g, buf, len, path, err);
    free(buf);
    return rc;
}

int predict_run(model *m, const float *x, float *prob, thaw_err *err)
{
    int rc = model_prepare(m, 1, err);
    if (rc)
        return rc;
    model_predict(m, x, 1);
    const float *z = m->root->y;
    double top = z[0], sum = 0;
    for (int i = 1; i < m->classes; i++)
        top = z[i] > top ? z[i] : top;
    for (int i = 0; i < m->classes; i++)
        sum += exp(z[i] - top);
    for (int i = 0; i < m->classes; i++)
        prob[i] = (float)(exp(z[i] - top) / sum);
    return THAW_OK;
}

int predict_top(const float *prob, int n, predict_hit *top, int k)
{
    int got = 0;
    for (int i = 0; i < n; i++) {
        int at = got < k ? got++ : k;
        while (at > 0 && prob[i] > top[at - 1].p) {
            if (at < k)
                top[at] = top[at - 1];
            at--;
        }
        if (at < k)
            top[at] = (predict_hit){ i, prob[i] };
    }
    return got;
}

typedef struct file_list {
    char **path;
    int n, cap;
} file_list;

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* Pushes path (malloc'd; l owns it, or frees it on failure). */
static int list_push(file_list *l, char *path, const char *root, thaw_err *err)
{
    if (!path)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for a file name", root);
    if (l->n == PREDICT_FILES_MAX) {
        free(path);
        return thaw_fail(err, THAW_EINVAL, "%s: more than %d images", root, PREDICT_FILES_MAX);
    }
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **grown = realloc(l->path, (size_t)cap * sizeof *grown);
        if (!grown) {
            free(path);
            return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d file names", root, cap);
        }
        l->path = grown;
        l->cap = cap;
    }
    l->path[l->n++] = path;
    return THAW_OK;
}

/* The images in dir into l; its sub-folders too when depth > 0. */
static int scan(file_list *l, const char *dir, int depth, const char *root, thaw_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return thaw_fail(err, THAW_EIO, "%s: cannot read the folder: %s", dir, strerror(errno));
    int rc = THAW_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
        char *full = malloc(len);
        if (!full) {
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for a file name", root);
            break;
        }
        snprintf(full, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (depth > 0)
                rc = scan(l, full, depth - 1, root, err);
            free(full);
        } else if (is_image_name(e->d_name)) {
            rc = list_push(l, full, root, err);
        } else {
            free(full);
        }
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void predict_files_free(char **files, int n)
{
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

int predict_files(const char *path, char ***files, int *n, thaw_err *err)
{
    *files = NULL;
    *n = 0;
    file_list l = { 0 };
    struct stat st;
    int rc;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = list_push(&l, strdup(path), path, err);
    } else {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        for (size_t k = strlen(dir); k > 1 && dir[k - 1] == '/'; k--)
            dir[k - 1] = '\0';
        rc = scan(&l, dir, 1, path, err);
        if (!rc && l.n == 0)
            rc = thaw_fail(err, THAW_EINVAL, "%s: no PNG or JPEG images in the folder or its sub-folders",
                           path);
    }
    if (rc) {
        predict_files_free(l.path, l.n);
        return rc;
    }
    qsort(l.path, (size_t)l.n, sizeof *l.path, by_path);
    *files = l.path;
    *n = l.n;
    return THAW_OK;
}
