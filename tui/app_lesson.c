/* app_lesson.c — what lessons are made of (say, pause-for-key, expect,
 * if-quick), instructor mode (lock, hide), and the stepper that runs a
 * lesson's lines. */
#include "app_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metrics.h"
#include "paths.h"

const char *const app_parts[APP_PART_COUNT + 1] = {
#define APP_PART_NAME(part, name) [APP_PART_##part] = name,
    APP_PARTS(APP_PART_NAME)
#undef APP_PART_NAME
};

int app_cmd_say(app *a, int argc, char **argv, thaw_err *err)
{
    char text[2048];
    if (argc < 2 || !app_joined(argc, argv, 1, text, sizeof text))
        return thaw_fail(err, THAW_EINVAL, "usage: say TEXT (up to %zu characters)", sizeof text - 1);
    app_say(a, APP_SAY, "%s", text);
    return THAW_OK;
}

int app_cmd_pause_for_key(app *a, int argc, char **argv, thaw_err *err)
{
    (void)argv;
    if (argc != 1)
        return thaw_fail(err, THAW_EINVAL, "usage: pause-for-key");
    a->wait_key = !a->batch;
    return THAW_OK;
}

int app_cmd_expect(app *a, int argc, char **argv, thaw_err *err)
{
    double want;
    if (argc != 4 || !app_parse_double(argv[3], -1e30, 1e30, &want))
        return thaw_fail(err, THAW_EINVAL, "usage: expect METRIC OP VALUE (for example: expect "
                         "test_delta > 0.05)");
    int field = metric_find(argv[1]);
    if (field < 0) {
        char names[512];
        size_t n = 0;
        for (int i = 0; i < METRIC_COUNT && n < sizeof names; i++)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", metric_fields[i].name);
        return thaw_fail(err, THAW_EINVAL, "expect: unknown metric '%s'; metrics are the columns "
                         "of metrics.csv: %s", argv[1], names);
    }
    double got = metric_value(&a->last, field);
    const char *op = argv[2];
    int ok;
    if (!strcmp(op, "<"))
        ok = got < want;
    else if (!strcmp(op, "<="))
        ok = got <= want;
    else if (!strcmp(op, ">"))
        ok = got > want;
    else if (!strcmp(op, ">="))
        ok = got >= want;
    else
        return thaw_fail(err, THAW_EINVAL, "expect: operator '%s'; expected <, <=, > or >=", op);
    if (isnan(got) || a->nhistory == 0)       /* before any evaluation every column is unmeasured */
        return thaw_fail(err, THAW_EINVAL, "the lesson expected %s %s %g, but %s has not been "
                         "measured yet (train or eval first)", argv[1], op, want, argv[1]);
    if (!ok)
        return thaw_fail(err, THAW_EINVAL, "this run did not behave as the lesson expects: %s is "
                         "%.4g, expected %s %g", argv[1], got, op, want);
    app_say(a, APP_INFO, "as expected: %s = %.4g (%s %g)", argv[1], got, op, want);
    return THAW_OK;
}

int app_cmd_if_quick(app *a, int argc, char **argv, thaw_err *err)
{
    char line[TASK_SPEC_MAX];
    if (argc < 2 || !app_joined(argc, argv, 1, line, sizeof line))
        return thaw_fail(err, THAW_EINVAL, "usage: if-quick COMMAND (runs when THAW_QUICK=1)");
    const char *q = getenv("THAW_QUICK");
    if (!q || strcmp(q, "1"))
        return THAW_OK;
    return app_exec_lesson(a, line, err);
}

/* ---- instructor mode ------------------------------------------------------- */

/* Finds an item lock or hide can name: its bit, or -1 with why it cannot. */
typedef int (*item_find)(const char *name, char *why, size_t cap);

static int find_verb(const char *name, char *why, size_t cap)
{
    int v = app_verb_index(name);
    if (v < 0)
        snprintf(why, cap, "no command '%s'", name);
    else if (!strcmp(name, "unlock") || !strcmp(name, "quit") || !strcmp(name, "help"))
        snprintf(why, cap, "'%s' cannot be locked", name), v = -1;
    return v;
}

/* "type out params ...": the parts' names. */
static void parts_text(char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int p = 0; app_parts[p] && n < cap; p++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", p ? " " : "", app_parts[p]);
}

static int find_part(const char *name, char *why, size_t cap)
{
    for (int p = 0; app_parts[p]; p++)
        if (!strcmp(app_parts[p], name))
            return p;
    char parts[256];
    parts_text(parts, sizeof parts);
    snprintf(why, cap, "no part '%s'; parts are %s", name, parts);
    return -1;
}

/* lock/unlock, hide/unhide: sets (on) or clears the bit of every item named
 * in argv[1..]; "all" clears them all for the un- forms. */
static int set_bits(int argc, char **argv, int on, unsigned long long *bits, item_find find,
                    thaw_err *err)
{
    unsigned long long next = *bits;
    for (int i = 1; i < argc; i++) {
        char why[384];
        if (!on && !strcmp(argv[i], "all")) {
            next = 0;
            continue;
        }
        int k = find(argv[i], why, sizeof why);
        if (k < 0)
            return thaw_fail(err, THAW_EINVAL, "%s: %s", argv[0], why);
        next = on ? next | 1ull << k : next & ~(1ull << k);
    }
    *bits = next;
    return THAW_OK;
}

int app_cmd_lock(app *a, int argc, char **argv, thaw_err *err)
{
    int lock = !strcmp(argv[0], "lock");
    if (argc < 2)
        return thaw_fail(err, THAW_EINVAL, "usage: %s COMMAND...%s", argv[0], lock ? "" : " | all");
    return set_bits(argc, argv, lock, &a->locked, find_verb, err);
}

int app_cmd_hide(app *a, int argc, char **argv, thaw_err *err)
{
    int hide = !strcmp(argv[0], "hide");
    char parts[256];
    parts_text(parts, sizeof parts);
    if (argc < 2)
        return thaw_fail(err, THAW_EINVAL, "usage: %s PART... (%s)%s", argv[0], parts, hide ? "" : " | all");
    return set_bits(argc, argv, hide, &a->hidden, find_part, err);
}

/* ---- the lesson stepper ------------------------------------------------------ */

int app_read_line(FILE *f, char **line, size_t *cap, thaw_err *err)
{
    errno = 0;
    ssize_t n = getline(line, cap, f);
    if (n < 0)
        return errno == ENOMEM ? thaw_fail(err, THAW_ENOMEM, "out of memory for a line"), -1 : 0;
    size_t len = (size_t)n;
    if (len > 0 && (*line)[len - 1] == '\n')
        (*line)[--len] = '\0';
    if (len > 0 && (*line)[len - 1] == '\r')
        (*line)[--len] = '\0';
    if (memchr(*line, '\0', len))
        return thaw_fail(err, THAW_EINVAL, "the line holds a NUL byte (at character %zu); a "
                         "command file is text", strlen(*line) + 1), -1;
    if (len > APP_LINE_MAX)
        return thaw_fail(err, THAW_EINVAL, "the line is longer than %d characters", APP_LINE_MAX), -1;
    return 1;
}

int app_lesson_open(app_lesson *l, const char *path, thaw_err *err)
{
    memset(l, 0, sizeof *l);
    char where[PATHS_MAX];
    path = paths_find(path, where, sizeof where);
    snprintf(l->path, sizeof l->path, "%s", path);
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return thaw_fail(err, THAW_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        if (f != stdin)
            fclose(f);
        return thaw_fail(err, THAW_EIO, "%s is a folder; expected a file of commands (a lesson "
                         "or a run's session.thaw)", path);
    }
    char *line = NULL;
    size_t linecap = 0;
    int cap = 0, rc = THAW_OK, got;
    thaw_err why = {0};
    while (!rc && (got = app_read_line(f, &line, &linecap, &why)) != 0) {
        if (why.code == THAW_ENOMEM) {
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for line %d", path, l->nline + 1);
            break;
        }
        if (l->nline == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(l->line, (size_t)cap * sizeof *grown);
            if (!grown) {
                rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for line %d", path, l->nline + 1);
                break;
            }
            l->line = grown;
        }
        /* A line that cannot run stays as NULL with its reason: the step
         * that reaches it fails, after the lines before it ran. */
        l->line[l->nline] = got > 0 ? strdup(line) : NULL;
        if (got < 0 && !l->why[0])
            snprintf(l->why, sizeof l->why, "%s", why.msg), l->why_line = l->nline;
        if (got > 0 && !l->line[l->nline])
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for line %d", path, l->nline + 1);
        l->nline++;
        why = (thaw_err){ 0 };
    }
    free(line);
    if (!rc && ferror(f))
        rc = thaw_fail(err, THAW_EIO, "%s: cannot read line %d: %s", path, l->nline + 1, strerror(errno));
    if (f != stdin)
        fclose(f);
    if (rc)
        app_lesson_close(l);
    return rc;
}

app_lesson_state app_lesson_step(app_lesson *l, app *a, thaw_err *err)
{
    if (l->over || l->next >= l->nline || a->quit)
        return APP_LESSON_DONE;
    if (!a->batch && a->sess && sess_busy(a->sess))
        return APP_LESSON_BUSY;
    const char *line = l->line[l->next++];
    if (!line || app_exec_lesson(a, line, err)) {
        if (!line)
            thaw_fail(err, THAW_EINVAL, "%s", l->next - 1 == l->why_line ? l->why : "the line cannot run");
        l->over = 1;
        return APP_LESSON_FAILED;
    }
    if (a->wait_key) {
        a->wait_key = 0;
        return APP_LESSON_KEY;
    }
    return APP_LESSON_RAN;
}

void app_lesson_close(app_lesson *l)
{
    for (int i = 0; i < l->nline; i++)
        free(l->line[i]);
    free(l->line);
    memset(l, 0, sizeof *l);
}
