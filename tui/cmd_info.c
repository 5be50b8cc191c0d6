/* cmd_info.c — `thaw info [MODEL.json]`: a model's layer tree (type, output
 * shape, parameters, trainable or frozen), totals, input and provenance. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "modelfile.h"
#include "paths.h"

typedef struct info_counts {
    size_t params, frozen, stats;
    unsigned long long macs;    /* multiply-adds per image */
} info_counts;

static info_counts info_count(const model *m, const layer *l)
{
    info_counts n = { 0 };
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++) {
        const param_slice *p = &m->slice[s];
        if (p->kind == PARAM_STAT) {
            n.stats += p->len;
            continue;
        }
        n.params += p->len;
        n.frozen += p->frozen ? p->len : 0;
        /* A weight meets each output position once: O·C·R·S per position for
         * a convolution, O·I for a linear layer (a 1×1 output). */
        if (p->kind == PARAM_WEIGHT && !p->row)   /* an embedding looks rows up */
            n.macs += (unsigned long long)p->len * (unsigned long long)l->out.h *
                      (unsigned long long)l->out.w;
    }
    for (int i = 0; i < l->nchild; i++) {
        info_counts c = info_count(m, l->child[i]);
        n.params += c.params;
        n.frozen += c.frozen;
        n.stats += c.stats;
        n.macs += c.macs;
    }
    return n;
}

static void info_tree(const model *m, const layer *l, int depth)
{
    info_counts n = info_count(m, l);
    char shape[48], count[32];
    if (l->out.h == 1 && l->out.w == 1)
        snprintf(shape, sizeof shape, "%d", l->out.c);
    else
        snprintf(shape, sizeof shape, "%dx%dx%d", l->out.c, l->out.h, l->out.w);
    const char *state = n.params == 0 ? "-" : n.frozen == 0 ? "yes" : n.frozen == n.params ? "frozen"
                                                                                         : "partly";
    int indent = depth * 2 < 20 ? depth * 2 : 20;
    cli_print(stdout, "%*s%-*s %-12s %-12s %12s  %s\n", indent, "", 24 - indent, l->path[0] ? l->name : "model",
              l->ops->type, shape, cli_grouped(count, sizeof count, n.params), state);
    for (int i = 0; i < l->nchild; i++)
        info_tree(m, l->child[i], depth + 1);
}

static void info_print(const mf_meta *meta, const model *m)
{
    cli_print(stdout, "%-24s %-12s %-12s %12s  %s\n", "layer", "type", "output", "params", "trainable");
    info_tree(m, m->root, 0);

    info_counts n = info_count(m, m->root);
    char a[32], b[32], c[32], d[32];
    cli_print(stdout, "\nparameters       %s (%s trainable, %s frozen)\n", cli_grouped(a, sizeof a, n.params),
              cli_grouped(b, sizeof b, n.params - n.frozen), cli_grouped(c, sizeof c, n.frozen));
    if (n.stats) {
        char e[32], f[32];
        cli_print(stdout, "statistics       %s (BatchNorm's running mean and variance; %s values "
                  "with the parameters, as Keras counts them)\n", cli_grouped(e, sizeof e, n.stats),
                  cli_grouped(f, sizeof f, n.params + n.stats));
    }
    cli_print(stdout, "multiply-adds    %s per %s\n", cli_grouped(d, sizeof d, n.macs),
              m->seq ? "document" : "image");
    if (meta->vocab)
        cli_print(stdout, "vocabulary       %s: %d words and <pad>, <unk>\n", meta->vocab_name,
                  meta->vocab_words - 2);
    cli_print(stdout, "input            %dx%dx%d, mean", meta->input.c, meta->input.h, meta->input.w);
    for (int i = 0; i < meta->input.c; i++)
        cli_print(stdout, " %g", meta->mean[i]);
    cli_print(stdout, ", std");
    for (int i = 0; i < meta->input.c; i++)
        cli_print(stdout, " %g", meta->std[i]);
    cli_print(stdout, "\n");
    char label[32];
    snprintf(label, sizeof label, "classes (%d)", meta->nclass);
    cli_print(stdout, "%-17s", label);
    int shown = meta->nclass > 20 ? 10 : meta->nclass;   /* ImageNet's thousand would fill pages */
    for (int i = 0; i < shown; i++)
        cli_print(stdout, "%s%s", i ? "; " : "", meta->class_name[i]);
    if (shown < meta->nclass)
        cli_print(stdout, "; ... and %d more", meta->nclass - shown);
    cli_print(stdout, "\n");

    const mf_provenance *pv = &meta->prov;
    cli_print(stdout, "trained on       %s", pv->dataset[0] ? pv->dataset : "(not recorded)");
    if (pv->ndataset_classes) {
        cli_print(stdout, ", classes");
        for (int i = 0; i < pv->ndataset_classes; i++)
            cli_print(stdout, " %d", pv->dataset_classes[i]);
    }
    if (pv->epochs >= 0)
        cli_print(stdout, ", %d epochs", pv->epochs);
    if (pv->seed >= 0)
        cli_print(stdout, ", seed %lld", pv->seed);
    cli_print(stdout, "\n");
    if (pv->test_accuracy >= 0)
        cli_print(stdout, "test accuracy    %.1f%%\n", 100.0 * pv->test_accuracy);
    cli_print(stdout, "fine-tuned from  %s\n", pv->finetuned_from[0] ? pv->finetuned_from : "- (trained from scratch)");
}

int cmd_info(int argc, char **argv)
{
    int help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (argc > 2 || help) {
        fprintf(help ? stdout : stderr, "usage: thaw info [MODEL.json]\n"
                "  the model's layer tree, output shapes, parameters, frozen layers, input,\n"
                "  classes and provenance (the built-in reference architecture without a file)\n");
        return help ? 0 : 2;
    }
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    int rc;
    char where[PATHS_MAX];
    const char *file = argc == 2 ? paths_find(argv[1], where, sizeof where) : NULL;
    if (file) {
        rc = mf_load(&meta, &m, file, NULL, &err);
    } else {
        rc = mf_meta_reference(&meta, (shape3){ 1, 28, 28 }, 10, &err);
        if (rc == THAW_OK && (rc = mf_build(&m, &meta, 1, &err)) != THAW_OK)
            mf_meta_free(&meta);
    }
    if (rc != THAW_OK) {
        cli_print(stderr, "thaw info: %s\n", err.msg);
        return 1;
    }
    if (file)
        cli_print(stdout, "%s: %s version %d, weights %s\n\n", file, MF_FORMAT, meta.version, meta.weights);
    else
        cli_print(stdout, "the built-in reference model (untrained); `thaw info MODEL.json` shows a model file\n\n");
    info_print(&meta, &m);
    mf_meta_free(&meta);
    model_free(&m);
    return 0;
}
