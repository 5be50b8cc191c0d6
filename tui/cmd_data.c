/* cmd_data.c — `thaw data SPEC`: what a data spec yields.
 *
 * Loads the task the spec names (datasets/task.h) and prints its source, the
 * classes with their names and counts per split, the image geometry and the
 * training pixels' mean and std. Without options the images are made for the
 * reference model: 1x28x28, mean 0.286, std 0.353 (Fashion-MNIST's), unless
 * the spec's size= and channels= say otherwise; --input, --mean and --std
 * stand for a model's geometry instead, and the seed is 1 unless --seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "task.h"

/* "0.5" or "0.49,0.48,0.45" into v[0..2]; a single value fills all three. */
static int parse_floats(const char *s, float v[DS_MAX_CHANNELS])
{
    char *end;
    for (int c = 0; c < DS_MAX_CHANNELS; c++) {
        v[c] = strtof(s, &end);
        if (end == s)
            return 0;
        if (*end == '\0') {
            for (int k = c + 1; k < DS_MAX_CHANNELS; k++)
                v[k] = c == 0 ? v[0] : v[k];
            return c == 0 || c == DS_MAX_CHANNELS - 1;
        }
        if (*end != ',')
            return 0;
        s = end + 1;
    }
    return 0;
}

static void print_channels(const char *label, const float *v, int c)
{
    cli_print(stdout, "%s %.3f", label, (double)v[0]);
    for (int k = 1; k < c; k++)
        cli_print(stdout, ",%.3f", (double)v[k]);
}

static void print_task(const task *t, double secs)
{
    char q[256];
    const ds_geom *g = &t->geom;
    const char *item = t->text ? "documents" : "images";
    cli_print(stdout, "source    %s, %s\n", t->source, utf8_quote(q, sizeof q, t->where));
    if (t->text)
        cli_print(stdout, "          %d training and %d test documents, %d classes\n", t->source_n[0],
                  t->source_n[1], t->source_classes);
    else
        cli_print(stdout, "          %d training and %d test images of %dx%dx%d, %d classes\n",
                  t->source_n[0], t->source_n[1], t->native.c, t->native.h, t->native.w,
                  t->source_classes);
    cli_print(stdout, "cut       seed %llu: ", t->seed);
    if (t->spec.shots)
        cli_print(stdout, "%d shots and %d validation %s per class; the rest is the unlabelled pool\n",
               t->spec.shots, t->count[TASK_VAL * t->nclass], item);
    else if (t->spec.val_given && t->spec.val)
        cli_print(stdout, "%d validation %s per class; every other training %.*s trains\n", t->spec.val,
                  item, (int)strlen(item) - 1, item);
    else if (t->spec.val_given)
        cli_print(stdout, "every training image trains; no validation set (val=0)\n");
    else
        cli_print(stdout, "every training %.*s but the validation %s trains\n", (int)strlen(item) - 1,
                  item, item);
    if (!t->spec.val_given)
        cli_print(stdout, "          validation: no val= given, so %d per class by default (%s, at most %d; "
               "val=N sets it)\n", t->count[TASK_VAL * t->nclass],
               t->spec.shots ? "as many as the shots" : "a fifth of each class", TASK_DEFAULT_VAL_MAX);
    if (t->pool_cap)
        cli_print(stdout, "pool      %d unlabelled %s per class, as many as fit in %zu MiB at %dx%dx%d "
                  "(pool=P sets it)\n", t->pool_cap, item, TASK_POOL_AUTO_BYTES >> 20, g->in.c, g->in.h,
                  g->in.w);
    if (t->spec.test && strcmp(t->spec.source, "shapes"))
        cli_print(stdout, "test      the first %d test %s of each class\n", t->spec.test, item);
    if (t->text) {
        cli_print(stdout, "tokens    the first %d of each document (token ids as floats, 0 pads), in a "
                  "vocabulary of %d words %s\n", g->in.w, task_words(t)->n - TXT_SPECIAL,
                  g->vocab ? "(the model's)" : "from the training split");
    } else {
        cli_print(stdout, "images    %dx%dx%d float32, normalised with ", g->in.c, g->in.h, g->in.w);
        print_channels("mean", g->mean, g->in.c);
        print_channels(" std", g->std, g->in.c);
        cli_print(stdout, "\n");
    }
    cli_print(stdout, "classes   %d\n", t->nclass);
    cli_print(stdout, "  %5s %6s  %-20s", "label", "source", "name");
    for (int s = 0; s < TASK_SPLITS; s++)
        cli_print(stdout, " %7s", task_split_names[s]);
    cli_print(stdout, "\n");
    for (int k = 0; k < t->nclass; k++) {
        cli_print(stdout, "  %5d %6d  %-20s", k, t->orig[k], utf8_quote(q, 64, t->name[k]));
        for (int s = 0; s < TASK_SPLITS; s++)
            cli_print(stdout, " %7d", t->count[s * t->nclass + k]);
        cli_print(stdout, "\n");
    }
    cli_print(stdout, "  %5s %6s  %-20s", "", "", "total");
    for (int s = 0; s < TASK_SPLITS; s++)
        cli_print(stdout, " %7d", t->split[s].n);
    if (t->text) {
        for (int s = TASK_TRAIN; s <= TASK_TEST; s += TASK_TEST - TASK_TRAIN) {
            const ds_split *sp = &t->split[s];
            long tokens = 0, unknown = 0, full = 0;
            for (size_t i = 0; i < (size_t)sp->n * (size_t)g->in.w; i++) {
                tokens += sp->x[i] != TXT_PAD;
                unknown += sp->x[i] == TXT_UNK;
            }
            for (int i = 0; i < sp->n; i++)
                full += sp->x[((size_t)i + 1) * (size_t)g->in.w - 1] != TXT_PAD;
            cli_print(stdout, "%s%-5s     %.1f tokens a document, %.1f%% unknown, %ld of %d cut at %d\n",
                      s == TASK_TRAIN ? "\n" : "", task_split_names[s],
                      sp->n ? (double)tokens / sp->n : 0.0, tokens ? 100.0 * unknown / tokens : 0.0,
                      full, sp->n, g->in.w);
        }
    } else {
        float mean[DS_MAX_CHANNELS], std[DS_MAX_CHANNELS];
        task_pixel_stats(t, TASK_TRAIN, mean, std);
        cli_print(stdout, "\npixels    training images on the 0..1 scale: ");
        print_channels("mean", mean, g->in.c);
        print_channels(" std", std, g->in.c);
        cli_print(stdout, "\n");
    }
    cli_print(stdout, "loaded in %.2f s\n", secs);
}

static const char usage_more[] =
    "  e.g. thaw data fashion:classes=5-9,shots=20,val=50\n"
    "  SPEC is described in datasets/task.h. The images are made for a 1x28x28 input\n"
    "  normalised with mean 0.286 and std 0.353 (the reference model's), or the spec's\n"
    "  size= and channels=; --input, --mean and --std (one value or three) stand for a\n"
    "  model's geometry instead. The seed is 1 unless --seed or the spec's seed= says.\n";

int cmd_data(int argc, char **argv)
{
    const char *spec = NULL;
    unsigned long long seed = 1;
    ds_geom g = ds_geom_default();
    int fixed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!strcmp(a, "--help")) {
            cli_print(stdout, "usage: thaw data SPEC [--seed N] [--input CxHxW] [--mean M] [--std S]\n%s", usage_more);
            return 0;
        } else if (!strcmp(a, "--seed") && v) {
            seed = strtoull(v, &end, 10);
            if (end == v || *end || v[0] == '-') {
                cli_print(stderr, "thaw data: --seed %s: expected a whole number\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--input") && v) {
            char x1, x2, extra;
            if (sscanf(v, "%d%c%d%c%d%c", &g.in.c, &x1, &g.in.h, &x2, &g.in.w, &extra) != 5 ||
                x1 != 'x' || x2 != 'x') {
                cli_print(stderr, "thaw data: --input %s: expected CxHxW, like 3x32x32\n", v);
                return 2;
            }
            fixed = 1;
        } else if ((!strcmp(a, "--mean") || !strcmp(a, "--std")) && v) {
            if (!parse_floats(v, a[2] == 'm' ? g.mean : g.std)) {
                cli_print(stderr, "thaw data: %s %s: expected one number or three, comma-separated\n", a, v);
                return 2;
            }
            fixed = 1;
        } else if (a[0] == '-' && a[1] == '-') {
            cli_print(stderr, "thaw data: %s: unknown option or missing value (expected --seed N, "
                            "--input CxHxW, --mean M, --std S)\n", a);
            return 2;
        } else if (spec) {
            cli_print(stderr, "thaw data: one data spec expected, got '%s' and '%s'\n", spec, a);
            return 2;
        } else {
            spec = a;
        }
        if (a[0] == '-' && a[1] == '-')
            i++;
    }
    if (!spec) {
        cli_print(stderr, "usage: thaw data SPEC [--seed N] [--input CxHxW] [--mean M] [--std S]\n%s",
                  usage_more);
        return 2;
    }
    thaw_err err = { 0 };
    task t;
    double t0 = thaw_now_s();
    if (task_load(&t, spec, fixed ? &g : NULL, seed, &err) != THAW_OK) {
        cli_print(stderr, "thaw data: %s\n", err.msg);
        return 1;
    }
    print_task(&t, thaw_now_s() - t0);
    char polarity[256];
    if (app_polarity_text(&t, polarity, sizeof polarity))
        cli_print(stderr, "thaw data: warning: %s\n", polarity);
    task_free(&t);
    return 0;
}
