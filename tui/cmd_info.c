/* cmd_info.c — `thaw info`: a model's layer tree with shapes and parameters. */
#include <stdio.h>

#include "commands.h"
#include "model.h"

static size_t own_params(const model *m, const layer *l)
{
    size_t n = 0;
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++)
        if (m->slice[s].kind != PARAM_STAT)
            n += m->slice[s].len;
    return n;
}

static void print_tree(const model *m, const layer *l, int depth)
{
    char shape[32];
    snprintf(shape, sizeof shape, "%dx%dx%d", l->out.c, l->out.h, l->out.w);
    printf("%*s%-*s %-12s %-12s %10zu\n", depth * 2, "", 24 - depth * 2,
           l->path[0] ? l->name : "model", l->ops->type, shape, own_params(m, l));
    for (int i = 0; i < l->nchild; i++)
        print_tree(m, l->child[i], depth + 1);
}

int cmd_info(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "thaw info: cannot open %s: model files are not supported yet; run "
                        "`thaw info` for the built-in reference model\n", argv[1]);
        return 2;
    }
    thaw_err err = {0};
    model m;
    if (model_build(&m, reference_net(1, 10, &err), (shape3){ 1, 28, 28 }, 1, &err) != THAW_OK) {
        fprintf(stderr, "thaw info: %s\n", err.msg);
        return 1;
    }
    printf("%-24s %-12s %-12s %10s\n", "layer", "type", "output", "params");
    print_tree(&m, m.root, 0);
    printf("total parameters: %zu (%zu trainable)\n", model_count(&m, 0), model_count(&m, 1));
    model_free(&m);
    return 0;
}
