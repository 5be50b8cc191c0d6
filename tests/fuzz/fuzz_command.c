/* fuzz_command.c — libFuzzer target for the command language (app.h): the
 * input's lines go through app_exec one by one — the tokenizer, the verb
 * table and every command's argument checks, `set` with its schedule and
 * augment texts, `strategy`, `freeze`, `lr`, `show` and `help`.
 *
 * Hermetic and fast: an input with a line whose verb reads or writes files
 * or starts training (load, train, step, eval, lr-find, save, export,
 * compare) is rejected whole, before anything runs.
 *
 * Two modes. Normally a fresh app without a model runs the lines, and the
 * commands that edit a plan must fail cleanly. An input whose first line is
 * "#plan" (a comment to app_exec) runs instead against an app that loaded
 * models/shapes-resnet.json (relative to the working directory: `make fuzz`
 * and `make test` run from the repository root) and a tiny shapes task once,
 * so freeze, lr, strategy and set edit a real plan; `reset`, which would
 * reload both, is rejected too, and the plan is put back after each input.
 *
 * Checks: a failed command leaves its status and a message in err; nothing
 * starts a session or a run folder; without a model every plan edit fails;
 * and the configuration as commands (app_config_text) replays — every line
 * succeeds in an app in the starting state, which then prints the same
 * configuration. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#ifndef FUZZ_FAIL   /* tests/test_fuzz_regress.c counts failures instead */
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

#define COMMAND_BYTES_MAX 16384
#define COMMAND_LINES_MAX 256
#define COMMAND_MODEL "models/shapes-resnet.json"
#define COMMAND_DATA "shapes:classes=0-3,shots=1,val=1,n=2,test=1"
#define COMMAND_PLAN_MARK "#plan"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void command_quiet(void *ctx, app_say_kind kind, const char *text)
{
    (void)ctx;
    (void)kind;
    (void)text;
}

/* The verb app_exec would read: the first word, blanks and quotes as its
 * tokenizer treats them ("" for an empty line or a comment). */
static void command_verb(const char *line, char *out, size_t cap)
{
    const char *p = line;
    size_t n = 0;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p == '"')
        for (p++; p[n] && p[n] != '"'; n++)
            ;
    else if (*p != '#')
        for (; p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != '\r' && p[n] != '\n'; n++)
            ;
    n = n < cap - 1 ? n : cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int command_is(const char *verb, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(verb, list[i]))
            return 1;
    return 0;
}

/* Verbs that touch files or start training; with a plan, reset reloads. */
static const char *const command_skipped[] = { "load", "train", "step", "eval", "lr-find", "save",
                                               "export", "compare", NULL };
static const char *const command_edits_plan[] = { "freeze", "unfreeze", "lr", "strategy",
                                                  "lr-decay", NULL };

/* ---- the app with a plan, loaded once, and its starting state ------------ */

typedef struct command_snapshot {
    app_settings set;
    char strategy_text[STRATEGY_TEXT_MAX];
    int train_bn;
    int nslice;
    int *frozen;
    float *lr;
    char *config;      /* app_config_text in this state */
} command_snapshot;

static app command_plan_app;
static command_snapshot command_start;

static void command_restore(app *a, const command_snapshot *s)
{
    a->set = s->set;
    memcpy(a->strategy_text, s->strategy_text, sizeof a->strategy_text);
    a->quit = 0;
    a->plan.train_bn = s->train_bn;
    for (int i = 0; i < s->nslice; i++) {
        a->plan.slice[i].frozen = s->frozen[i];
        a->plan.slice[i].lr = s->lr[i];
    }
    model_refresh(&a->plan);
}

static app *command_plan(void)
{
    static int loaded;
    app *a = &command_plan_app;
    if (loaded)
        return a;
    thaw_err err = { 0 };
    app_init(a, &(app_out){ .say = command_quiet }, 1);
    if (app_exec(a, "load model " COMMAND_MODEL, &err) ||
        app_exec(a, "load data " COMMAND_DATA, &err) || !a->have_plan) {
        fprintf(stderr, "fuzz_command: %s (run from the repository root)\n", err.msg);
        abort();
    }
    command_snapshot *s = &command_start;
    s->set = a->set;
    memcpy(s->strategy_text, a->strategy_text, sizeof s->strategy_text);
    s->train_bn = a->plan.train_bn;
    s->nslice = a->plan.nslice;
    s->frozen = malloc((size_t)s->nslice * sizeof *s->frozen + 1);
    s->lr = malloc((size_t)s->nslice * sizeof *s->lr + 1);
    s->config = app_config_text(a);
    if (!s->frozen || !s->lr || !s->config)
        abort();
    for (int i = 0; i < s->nslice; i++) {
        s->frozen[i] = a->plan.slice[i].frozen;
        s->lr[i] = a->plan.slice[i].lr;
    }
    loaded = 1;
    return a;
}

/* ---- running lines ----------------------------------------------------- */

/* Runs one line and checks how it ended. */
static void command_run(app *a, const char *line, int with_plan)
{
    thaw_err err = { 0 };
    char verb[32];
    command_verb(line, verb, sizeof verb);
    int rc = app_exec(a, line, &err);
    if (rc < 0 || rc >= THAW_STATUS_COUNT || (rc && (err.code != rc || !err.msg[0])))
        FUZZ_FAIL("'%s' returned %d with err %d '%s'", line, rc, err.code, err.msg);
    if (a->sess || a->run)
        FUZZ_FAIL("'%s' started a session or a run folder", line);
    if (!with_plan && (a->have_plan || (rc == THAW_OK && command_is(verb, command_edits_plan))))
        FUZZ_FAIL("'%s' succeeded without a model", line);
}

/* The configuration of a must replay in b, which starts as a did, to the
 * same configuration. Lines that load are left out with a plan: b has it. */
static void command_replay(app *a, app *b, int with_plan, const command_snapshot *start)
{
    char *config = app_config_text(a);
    if (!config) {
        FUZZ_FAIL("app_config_text failed");
        return;
    }
    if (with_plan)
        command_restore(b, start);
    char *copy = strdup(config);
    int replayed = copy != NULL;
    for (char *save, *l = copy ? strtok_r(copy, "\n", &save) : NULL; l && replayed;
         l = strtok_r(NULL, "\n", &save)) {
        if (with_plan && !strncmp(l, "load ", 5))
            continue;
        thaw_err err = { 0 };
        if (app_exec(b, l, &err) != THAW_OK) {
            FUZZ_FAIL("the configuration does not replay: '%s': %s", l, err.msg);
            replayed = 0;
        }
    }
    free(copy);
    char *again = replayed ? app_config_text(b) : NULL;
    if (replayed && (!again || strcmp(config, again)))
        FUZZ_FAIL("the configuration replays to another one:\n--- before:\n%s--- after:\n%s",
                  config, again ? again : "(none)");
    free(again);
    free(config);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[COMMAND_BYTES_MAX + 1];
    static app fresh, replay;
    char *line[COMMAND_LINES_MAX];
    int nline = 0;
    if (size > COMMAND_BYTES_MAX)
        return -1;
    memcpy(text, data, size);
    text[size] = '\0';
    int with_plan = !strncmp(text, COMMAND_PLAN_MARK "\n", sizeof COMMAND_PLAN_MARK);
    /* Every line is checked before any runs. */
    for (char *p = text, *end = text + size; p < end;) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol)
            *eol = '\0';
        if (nline == COMMAND_LINES_MAX)
            return -1;
        char verb[32];
        command_verb(p, verb, sizeof verb);
        if (command_is(verb, command_skipped) || (with_plan && !strcmp(verb, "reset")))
            return -1;
        line[nline++] = p;
        p = eol ? eol + 1 : end;
    }
    app *a = with_plan ? command_plan() : &fresh;
    if (!with_plan)
        app_init(a, &(app_out){ .say = command_quiet }, 1);
    for (int i = 0; i < nline; i++)
        command_run(a, line[i], with_plan);
    if (with_plan) {
        command_replay(a, a, 1, &command_start);
        command_restore(a, &command_start);
        char *now = app_config_text(a);
        if (!now || strcmp(now, command_start.config))
            FUZZ_FAIL("fuzz_command could not put the plan back:\n%s", now ? now : "(none)");
        free(now);
    } else {
        app_init(&replay, &(app_out){ .say = command_quiet }, 1);
        command_replay(a, &replay, 0, NULL);
        app_free(&replay);
        app_free(a);
    }
    return 0;
}
