/* cmd_import.c — `thaw import FILE --out MODEL.json`: a TF.js layers model
 * (models/tfjs.h) or an ONNX model (models/onnx.h, by the .onnx extension)
 * as a thaw model file, with what was read and adjusted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cli.h"
#include "commands.h"
#include "onnx.h"
#include "tfjs.h"

static const char usage_text[] =
    "usage: thaw import MODEL.json|MODEL.onnx --out OUT.json [--labels FILE] [--input CxHxW]\n"
    "                   [--mean M] [--std S]\n"
    "  reads a TF.js layers model (model.json and the weight shards beside it: a\n"
    "  Keras model converted by tensorflowjs_converter, Google's TF.js MobileNets,\n"
    "  a Teachable Machine image project) and writes OUT.json and OUT.safetensors.\n"
    "  --labels: the class names, a JSON list or an object with \"labels\" (default:\n"
    "  metadata.json beside MODEL.json when it has labels, else 0, 1, ...).\n"
    "  --input: the input size when the model leaves it open (or to change it).\n"
    "  --mean, --std: the normalisation of inputs in [0, 1], one value or one per\n"
    "  channel (default 0.5 and 0.5: x/127.5 - 1, as MobileNet expects).\n"
    "  MODEL.onnx: an ONNX model (torch.onnx.export of a torchvision network, say);\n"
    "  --labels names its classes, and --mean and --std default to ImageNet's\n"
    "  (0.485,0.456,0.406 and 0.229,0.224,0.225) for three channels.\n";

/* "0.5" or "0.5,0.4,0.3" into v; a single value fills every channel. */
static int parse_values(const char *s, double *v, int *n)
{
    char *end;
    *n = 0;
    for (;;) {
        if (*n == MF_CHANNELS_MAX)
            return 0;
        v[(*n)++] = strtod(s, &end);
        if (end == s)
            return 0;
        if (*end == '\0')
            break;
        if (*end != ',')
            return 0;
        s = end + 1;
    }
    for (int k = *n; *n == 1 && k < MF_CHANNELS_MAX; k++)
        v[k] = v[0];
    return 1;
}

static void print_report(const char *file, const tfjs_report *r, const mf_meta *meta,
                         const model *m)
{
    static const char *const dtypes[TFJS_DTYPES] = { "float32", "float16", "uint8", "uint16" };
    char a[32], b[32], c[32], d[32];
    size_t params = model_count(m, 0), all = 0;
    for (int i = 0; i < m->nslice; i++)
        all += m->slice[i].len;
    cli_print(stdout, "%s: %s\n", file, r->model);
    cli_print(stdout, "  read   %d %s; %d weights (", r->layers, r->shards ? "Keras layers" : "nodes",
              r->weights);
    for (int t = 0, first = 1; t < TFJS_DTYPES; t++)
        if (r->by_dtype[t]) {
            cli_print(stdout, "%s%s %d", first ? "" : ", ", dtypes[t], r->by_dtype[t]);
            first = 0;
        }
    if (r->shards)
        cli_print(stdout, ") in %d shards, %s bytes, %s values\n", r->shards,
                  cli_grouped(a, sizeof a, r->bytes), cli_grouped(b, sizeof b, r->values));
    else
        cli_print(stdout, ") in a file of %s bytes, %s values\n", cli_grouped(a, sizeof a, r->bytes),
                  cli_grouped(b, sizeof b, r->values));
    cli_print(stdout, "  built  %d blocks at the root; %s parameters and %s running statistics; input "
           "%dx%dx%d; %d classes (%s%s)\n", r->blocks, cli_grouped(c, sizeof c, params),
           cli_grouped(d, sizeof d, all - params), meta->input.c,
           meta->input.h, meta->input.w, meta->nclass, meta->class_name[0],
           meta->nclass > 1 ? ", ..." : "");
    for (int i = 0; i < r->nnotes; i++)
        cli_print(stdout, "  note   %s\n", r->notes[i]);
}

int cmd_import(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    tfjs_opts o = { 0 };
    int nmean = 0, nstd = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_print(stdout, "%s", usage_text);
            return 0;
        } else if (!strcmp(a, "--out") && v) {
            out = v;
        } else if (!strcmp(a, "--labels") && v) {
            o.labels = v;
        } else if (!strcmp(a, "--input") && v) {
            char x1, x2, extra;
            if (sscanf(v, "%d%c%d%c%d%c", &o.input.c, &x1, &o.input.h, &x2, &o.input.w, &extra) != 5 ||
                x1 != 'x' || x2 != 'x' || o.input.c < 1 || o.input.c > MF_CHANNELS_MAX ||
                o.input.h < 1 || o.input.h > MF_SIDE_MAX || o.input.w < 1 || o.input.w > MF_SIDE_MAX) {
                cli_print(stderr, "thaw import: --input %s: expected CxHxW, like 3x224x224\n", v);
                return 2;
            }
        } else if ((!strcmp(a, "--mean") || !strcmp(a, "--std")) && v) {
            int *n = a[2] == 'm' ? &nmean : &nstd;
            if (!parse_values(v, a[2] == 'm' ? o.mean : o.std, n)) {
                cli_print(stderr, "thaw import: %s %s: expected a number, or one per channel "
                                "separated by commas\n", a, v);
                return 2;
            }
        } else if (a[0] == '-' && a[1] == '-') {
            cli_print(stderr, "thaw import: %s: unknown option or missing value\n%s", a, usage_text);
            return 2;
        } else if (in) {
            cli_print(stderr, "thaw import: one model expected, got '%s' and '%s'\n", in, a);
            return 2;
        } else {
            in = a;
        }
        if (a[0] == '-' && a[1] == '-')
            i++;
    }
    size_t n = out ? strlen(out) : 0;
    if (!in || !out || n < 6 || strcmp(out + n - 5, ".json")) {
        cli_print(stderr, "%s%s", !in || !out ? "" : "thaw import: --out must name a .json file\n",
                usage_text);
        return 2;
    }
    if ((nmean > 0) != (nstd > 0)) {
        cli_print(stderr, "thaw import: give --mean and --std together\n");
        return 2;
    }
    o.norm = nmean > 0;
    thaw_err err = { 0 };
    tfjs_report rep;
    mf_meta meta;
    model m;
    double t0 = thaw_now_s();
    size_t inlen = strlen(in);
    int onnx = inlen > 5 && !strcmp(in + inlen - 5, ".onnx");
    if ((onnx ? onnx_import(&meta, &m, &rep, in, &o, &err)
              : tfjs_import(&meta, &m, &rep, in, &o, &err)) != THAW_OK) {
        cli_print(stderr, "thaw import: %s\n", err.msg);
        return 1;
    }
    double t1 = thaw_now_s();
    int rc = mf_save(out, &meta, &m, &err);
    if (rc == THAW_OK) {
        print_report(in, &rep, &meta, &m);
        cli_print(stdout, "wrote %s and its weights in %.2f s (reading %.2f s); `thaw info %s` shows the "
               "tree\n", out, thaw_now_s() - t0, t1 - t0, out);
    } else {
        cli_print(stderr, "thaw import: %s\n", err.msg);
    }
    mf_meta_free(&meta);
    model_free(&m);
    return rc == THAW_OK ? 0 : 1;
}
