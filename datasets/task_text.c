/* task_text.c — the text sources of data specs, and a text task's splits:
 * documents encoded as token ids (see task.h and textsrc.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_impl.h"

int task_text_geom(ds_geom *out, const task_spec *sp, const ds_geom *g, thaw_err *err)
{
    memset(out, 0, sizeof *out);
    if (g) {
        if (g->in.c != 1 || g->in.h != 1)
            return thaw_fail(err, THAW_ESHAPE, "%s is text: it needs a model that reads token ids "
                             "(input 1x1xL), and this one takes %dx%dx%d images", sp->source,
                             g->in.c, g->in.h, g->in.w);
        if (sp->len && sp->len != g->in.w)
            return thaw_fail(err, THAW_ESHAPE, "%s: len=%d, but the model reads %d tokens",
                             sp->source, sp->len, g->in.w);
        *out = *g;
        return THAW_OK;
    }
    out->in = (shape3){ 1, 1, sp->len ? sp->len : TASK_TEXT_LEN };
    out->mean[0] = 0.0f;
    out->std[0] = 1.0f;
    return ds_geom_check(out, err);
}

int task_text_raw(ds_raw *raw, const txt_set *docs, shape3 in, thaw_err *err)
{
    memset(raw, 0, sizeof *raw);
    raw->n = docs->n;
    raw->shape = in;
    raw->labels = malloc(sizeof(int) * (size_t)(docs->n ? docs->n : 1));
    if (!raw->labels)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for %d labels", docs->n);
    memcpy(raw->labels, docs->labels, sizeof(int) * (size_t)docs->n);
    return ds_raw_set_names(raw, (const char *const *)docs->name, docs->nclass, err);
}

/* Gives test the classes of train, matched by name. */
static int match_classes(txt_set *test, const txt_set *train, const char *where, thaw_err *err)
{
    int *map = malloc(sizeof(int) * (size_t)(test->nclass ? test->nclass : 1));
    if (!map)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (int c = 0; c < test->nclass; c++) {
        map[c] = -1;
        for (int k = 0; k < train->nclass; k++)
            if (!strcmp(test->name[c], train->name[k]))
                map[c] = k;
        if (map[c] < 0) {
            char q[96], w[256];
            thaw_fail(err, THAW_EFORMAT, "%s: the test split's class '%s' is not one of the "
                      "training split's", utf8_quote(w, sizeof w, where),
                      utf8_quote(q, sizeof q, test->name[c]));
            free(map);
            return THAW_EFORMAT;
        }
    }
    for (int i = 0; i < test->n; i++)
        test->labels[i] = map[test->labels[i]];
    free(map);
    char **names = calloc((size_t)(train->nclass ? train->nclass : 1), sizeof *names);
    int rc = names ? THAW_OK : thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (int k = 0; !rc && k < train->nclass; k++)
        if (!(names[k] = strdup(train->name[k])))
            rc = thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (int c = 0; c < test->nclass; c++)
        free(test->name[c]);
    free(test->name);
    test->name = names;
    test->nclass = names ? train->nclass : 0;
    return rc;
}

int task_load_textdir(task *t, const task_spec *sp, txt_set *train, txt_set *test, thaw_err *err)
{
    if (!sp->dir[0])
        return thaw_fail(err, THAW_EINVAL, "textdir: give dir=PATH, a folder with one sub-folder "
                         "of .txt files per class");
    snprintf(t->where, sizeof t->where, "%s", sp->dir);
    snprintf(t->source, sizeof t->source, "text folder");
    int rc = txt_load_dir(train, sp->dir, err);
    if (!rc && sp->testdir[0]) {
        rc = txt_load_dir(test, sp->testdir, err);
        if (!rc)
            rc = match_classes(test, train, sp->testdir, err);
    } else if (!rc) {
        rc = txt_set_holdout(train, test, TASK_TEXT_HOLDOUT, err);
    }
    return rc;
}

static int load_table(task *t, const task_spec *sp, int fmt, txt_set *train, txt_set *test,
                      thaw_err *err)
{
    static const char *const names[] = { "CSV", "TSV", "JSONL" };
    if (!sp->file[0])
        return thaw_fail(err, THAW_EINVAL, "%s: give file=PATH, a %s file with a text and a label "
                         "%s", sp->source, names[fmt], fmt == TXT_JSONL ? "member" : "column");
    const char *text = sp->textcol[0] ? sp->textcol : "text";
    const char *label = sp->labelcol[0] ? sp->labelcol : "label";
    snprintf(t->where, sizeof t->where, "%s", sp->file);
    snprintf(t->source, sizeof t->source, "%s table", names[fmt]);
    int rc = txt_load_table(train, sp->file, fmt, text, label, err);
    if (!rc && sp->testfile[0]) {
        rc = txt_load_table(test, sp->testfile, fmt, text, label, err);
        if (!rc)
            rc = match_classes(test, train, sp->testfile, err);
    } else if (!rc) {
        rc = txt_set_holdout(train, test, TASK_TEXT_HOLDOUT, err);
    }
    return rc;
}

int task_load_csv(task *t, const task_spec *sp, txt_set *train, txt_set *test, thaw_err *err)
{
    return load_table(t, sp, TXT_CSV, train, test, err);
}

int task_load_tsv(task *t, const task_spec *sp, txt_set *train, txt_set *test, thaw_err *err)
{
    return load_table(t, sp, TXT_TSV, train, test, err);
}

int task_load_jsonl(task *t, const task_spec *sp, txt_set *train, txt_set *test, thaw_err *err)
{
    return load_table(t, sp, TXT_JSONL, train, test, err);
}

int task_load_spam(task *t, const task_spec *sp, txt_set *train, txt_set *test, thaw_err *err)
{
    int rc = task_pick_dir(t, sp, "spam-assassin", "data/spam-assassin", err);
    if (rc)
        return rc;
    snprintf(t->source, sizeof t->source, "SpamAssassin public corpus");
    rc = txt_load_spam(train, t->where, sp->sets == 3, err);
    if (!rc)
        rc = txt_set_holdout(train, test, TASK_TEXT_HOLDOUT, err);
    return rc;
}

int task_load_brown(task *t, const task_spec *sp, txt_set *train, txt_set *test, thaw_err *err)
{
    int rc = task_pick_dir(t, sp, "brown", "data/brown", err);
    if (rc)
        return rc;
    int words = sp->words ? sp->words : TASK_BROWN_WORDS;
    snprintf(t->source, sizeof t->source, "Brown corpus, %d-word passages", words);
    rc = txt_load_brown(train, t->where, words, err);
    if (!rc)
        rc = txt_set_holdout(train, test, TASK_TEXT_HOLDOUT, err);
    return rc;
}

int task_load_topics(task *t, const task_spec *sp, txt_set *train, txt_set *test, thaw_err *err)
{
    snprintf(t->where, sizeof t->where, "built in");
    snprintf(t->source, sizeof t->source, "topics");
    return txt_make_topics(train, test, sp->n ? sp->n : 300, sp->test ? sp->test : 100, err);
}

/* ---- the splits ------------------------------------------------------------ */

int task_text_fill(task *t, const txt_set *train, const txt_set *test, const int *mark,
                   const int *newlab, thaw_err *err)
{
    size_t L = (size_t)t->geom.in.w, total = 0;
    int n[TASK_SPLITS] = { 0 }, cap = t->spec.test && strcmp(t->spec.source, "topics")
                                          ? t->spec.test : INT_MAX;
    int kept[DS_MAX_CLASSES] = { 0 }, ntrain = 0;
    for (int i = 0; i < train->n; i++)
        if (mark[i] >= 0)
            n[mark[i]]++;
    for (int i = 0; i < test->n; i++) {
        int y = newlab[test->labels[i]];
        if (y >= 0 && kept[y] < cap)
            n[TASK_TEST]++, kept[y]++;
    }
    for (int s = 0; s < TASK_SPLITS; s++)
        total += (size_t)n[s];
    if (!ds_mul(total ? total : 1, L, DS_MAX_FLOATS))
        return thaw_fail(err, THAW_EINVAL, "%s: %zu documents of %zu tokens need more than thaw's "
                         "limit of %zu floats", t->spec.source, total, L, DS_MAX_FLOATS);
    /* The vocabulary: the training split's words. */
    const char **docs = malloc(sizeof *docs * (size_t)(n[TASK_TRAIN] ? n[TASK_TRAIN] : 1));
    size_t *lens = malloc(sizeof *lens * (size_t)(n[TASK_TRAIN] ? n[TASK_TRAIN] : 1));
    t->count = calloc((size_t)TASK_SPLITS * (size_t)t->nclass, sizeof *t->count);
    int rc = docs && lens && t->count ? THAW_OK : thaw_fail(err, THAW_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < train->n; i++)
        if (mark[i] == TASK_TRAIN)
            docs[ntrain] = train->doc[i], lens[ntrain++] = train->len[i];
    if (!rc && !t->geom.vocab)
        rc = txt_vocab_build(&t->vocab, docs, lens, ntrain,
                             t->spec.vocab ? t->spec.vocab : TASK_TEXT_VOCAB, 1, err);
    const txt_vocab *v = task_words(t);
    free(docs);
    free(lens);
    for (int s = 0; !rc && s < TASK_SPLITS; s++) {
        if (!n[s])
            continue;
        t->split[s].x = ds_alloc(sizeof(float) * (size_t)n[s] * L);
        t->split[s].y = malloc(sizeof(int) * (size_t)n[s]);
        if (!t->split[s].x || !t->split[s].y)
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d %s documents",
                           t->spec.source, n[s], task_split_names[s]);
    }
    for (int i = 0; !rc && i < train->n; i++) {
        if (mark[i] < 0)
            continue;
        ds_split *sp = &t->split[mark[i]];
        int y = newlab[train->labels[i]];
        txt_encode(v, train->doc[i], train->len[i], sp->x + (size_t)sp->n * L, (int)L);
        sp->y[sp->n++] = y;
        t->count[mark[i] * t->nclass + y]++;
    }
    ds_split *ts = &t->split[TASK_TEST];
    for (int i = 0; !rc && i < test->n; i++) {
        int y = newlab[test->labels[i]];
        if (y < 0 || t->count[TASK_TEST * t->nclass + y] >= cap)
            continue;
        txt_encode(v, test->doc[i], test->len[i], ts->x + (size_t)ts->n * L, (int)L);
        ts->y[ts->n++] = y;
        t->count[TASK_TEST * t->nclass + y]++;
    }
    return rc;
}
