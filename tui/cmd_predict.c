/* cmd_predict.c — `thaw predict MODEL IMAGE|FOLDER...`: the classes a model
 * gives each photo (each in a folder), the most probable first, with their probabilities. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "paths.h"
#include "predict.h"

#define PREDICT_TOP_MAX 100

static const char usage_text[] =
    "usage: thaw predict MODEL.json IMAGE|FOLDER... [--top N]\n"
    "  the model's N most probable classes (5 by default) for each PNG or JPEG image\n"
    "  (a folder: its images and its sub-folders', one level deep, by name),\n"
    "  resized to the model's input (bilinear), grey repeated to three channels,\n"
    "  normalised as the model file says.\n";

int cmd_predict(int argc, char **argv)
{
    const char *file = NULL;
    int top = 5, nimg = 0;
    char **img = calloc((size_t)argc + 1, sizeof *img);
    if (!img) {
        cli_print(stderr, "thaw predict: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_print(stdout, "%s", usage_text);
            free(img);
            return 0;
        } else if (!strcmp(argv[i], "--top") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || v < 1 || v > PREDICT_TOP_MAX) {
                cli_print(stderr, "thaw predict: --top %s: expected a whole number from 1 to %d\n",
                        argv[i], PREDICT_TOP_MAX);
                free(img);
                return 2;
            }
            top = (int)v;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            cli_print(stderr, "thaw predict: %s: unknown option or missing value\n%s", argv[i],
                    usage_text);
            free(img);
            return 2;
        } else if (!file) {
            file = argv[i];
        } else {
            img[nimg++] = argv[i];
        }
    }
    if (!file || !nimg) {
        cli_print(stderr, "%s", usage_text);
        free(img);
        return 2;
    }
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    char where[PATHS_MAX];
    if (mf_load(&meta, &m, paths_find(file, where, sizeof where), NULL, &err)) {
        cli_print(stderr, "thaw predict: %s\n", err.msg);
        free(img);
        return 1;
    }
    float *x = malloc(sizeof(float) * shape3_count(meta.input));
    float *p = malloc(sizeof(float) * (size_t)m.classes);
    predict_hit hits[PREDICT_TOP_MAX];
    int rc = x && p ? 0 : 1;
    if (rc)
        cli_print(stderr, "thaw predict: out of memory\n");
    for (int i = 0; i < nimg && !rc; i++) {
        char **f;
        int nf;
        if (predict_files(img[i], &f, &nf, &err)) {
            cli_print(stderr, "thaw predict: %s\n", err.msg);
            rc = 1;
            break;
        }
        for (int j = 0; j < nf && !rc; j++) {
            if (predict_load(x, &meta, f[j], &err) || predict_run(&m, x, p, &err)) {
                cli_print(stderr, "thaw predict: %s\n", err.msg);
                rc = 1;
                break;
            }
            int n = predict_top(p, m.classes, hits, top);
            cli_print(stdout, "%s\n", f[j]);
            for (int k = 0; k < n; k++)
                cli_print(stdout, "  %6.2f%%  %s\n", 100.0 * hits[k].p, meta.class_name[hits[k].cls]);
        }
        predict_files_free(f, nf);
    }
    free(x);
    free(p);
    free(img);
    mf_meta_free(&meta);
    model_free(&m);
    return rc;
}
