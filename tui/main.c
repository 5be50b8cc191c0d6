/* main.c — thaw's command line. */
#include <stdio.h>
#include <string.h>

#include "gemm.h"
#include "model.h"

static void print_tree(const model *m, const layer *l, int depth)
{
    size_t params = 0;
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++)
        if (m->slice[s].kind != PARAM_STAT)
            params += m->slice[s].len;
    printf("%*s%-*s %-12s %4dx%-3dx%-3d %8zu\n", depth * 2, "", 20 - depth * 2,
           l->path[0] ? l->name : "model", l->ops->type, l->out.c, l->out.h, l->out.w, params);
    for (int i = 0; i < l->nchild; i++)
        print_tree(m, l->child[i], depth + 1);
}

int main(int argc, char **argv)
{
    thaw_err err = {0};
    if (thaw_threads_set(0) < 0) {
        fprintf(stderr, "thaw: THAW_THREADS must be a whole number from 1 to 256\n");
        return 2;
    }
    if (argc >= 2 && !strcmp(argv[1], "info")) {
        model m;
        if (model_build(&m, reference_net(1, 10, &err), (shape3){ 1, 28, 28 }, 1, &err) != THAW_OK) {
            fprintf(stderr, "thaw: %s\n", err.msg);
            return 1;
        }
        print_tree(&m, m.root, 0);
        model_free(&m);
        return 0;
    }
    fprintf(stderr, "usage: thaw info\n");
    return 2;
}
