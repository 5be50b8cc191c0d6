/* app_settings.c — the settings `set` changes: one table that parses them,
 * lists them (`help set`, completion, the error for an unknown one), writes
 * them as config.thaw's `set` lines and turns them into command-line flags. */
#include "app_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numtext.h"

/* Room for any setting's value as text (a schedule, quoted). */
enum { SETTING_TEXT_MAX = SCHEDULE_TEXT_MAX + 64 };

typedef struct app_setting app_setting;

/* Reads v into s; THAW_EINVAL naming the setting when it cannot. */
typedef int (*setting_parse)(app_settings *s, const app_setting *d, const char *v, thaw_err *err);
/* The current value as `set` reads it back. */
typedef void (*setting_format)(const app_settings *s, const app_setting *d, char *out, size_t cap);

struct app_setting {
    const char *name;
    const char *value;          /* how a value reads, for help and usage: "N", "on|off", ... */
    const char *help;
    setting_parse parse;
    setting_format format;
    size_t off;                 /* the field within app_settings, for the generic kinds */
    double lo, hi;              /* the valid range of a number */
    int config;                 /* 10 * line + place in config.thaw's `set` lines; 0: not written */
    int bound;                  /* shapes the session itself: refused once it runs */
};

static void *field(app_settings *s, const app_setting *d) { return (char *)s + d->off; }
static const void *cfield(const app_settings *s, const app_setting *d) { return (const char *)s + d->off; }

static int out_of_range(const app_setting *d, const char *v, thaw_err *err)
{
    return thaw_fail(err, THAW_EINVAL, "set %s %s: not a number in range (see `help set`)", d->name, v);
}

static int parse_int_field(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    long n;
    if (!app_parse_int(v, (long)d->lo, (long)d->hi, &n))
        return out_of_range(d, v, err);
    *(int *)field(s, d) = (int)n;
    return THAW_OK;
}

static void format_int_field(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    snprintf(out, cap, "%d", *(const int *)cfield(s, d));
}

static int parse_float_field(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    double x;
    if (!app_parse_double(v, d->lo, d->hi, &x))
        return out_of_range(d, v, err);
    *(float *)field(s, d) = (float)x;
    return THAW_OK;
}

/* Every float in the shortest text that reads back as itself, so a run
 * replays exactly. */
static void format_float_field(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    num_shortest_float(out, cap, *(const float *)cfield(s, d));
}

static int parse_double_field(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    if (!app_parse_double(v, d->lo, d->hi, (double *)field(s, d)))
        return out_of_range(d, v, err);
    return THAW_OK;
}

static void format_double_field(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    snprintf(out, cap, "%.17g", *(const double *)cfield(s, d));
}

static int parse_on_off(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    int *b = field(s, d);
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes"))
        *b = 1;
    else if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no"))
        *b = 0;
    else
        return thaw_fail(err, THAW_EINVAL, "set %s %s: expected on or off", d->name, v);
    return THAW_OK;
}

static void format_on_off(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    snprintf(out, cap, "%s", *(const int *)cfield(s, d) ? "on" : "off");
}

static int parse_optimizer(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    (void)d;
    if (strcmp(v, "sgd") && strcmp(v, "adamw"))
        return thaw_fail(err, THAW_EINVAL, "set optimizer %s: expected sgd or adamw", v);
    s->sess.optimizer = strcmp(v, "sgd") ? OPTIM_ADAMW : OPTIM_SGD;
    if (s->sess.optimizer == OPTIM_ADAMW && s->sess.weight_decay == 5e-4f)
        s->sess.weight_decay = 0.01f;       /* AdamW's own default */
    return THAW_OK;
}

static void format_optimizer(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    (void)d;
    snprintf(out, cap, "%s", s->sess.optimizer == OPTIM_SGD ? "sgd" : "adamw");
}

/* A schedule without warmup= keeps the warm-up set before. */
static int parse_schedule(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    (void)d;
    double warm = s->sess.sched.warmup;
    if (schedule_parse(&s->sess.sched, v, err))
        return err->code;
    if (!strstr(v, "warmup"))
        s->sess.sched.warmup = warm;
    return THAW_OK;
}

static void format_schedule(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    (void)d;
    char text[SCHEDULE_TEXT_MAX];
    schedule_format(&s->sess.sched, text, sizeof text);
    snprintf(out, cap, "\"%s\"", text);
}

static int parse_augment(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    (void)d;
    return augment_parse(&s->aug, v, err) ? err->code : THAW_OK;
}

static void format_augment(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    (void)d;
    augment_format(&s->aug, out, cap);
}

/* The seed of the head, the baseline and the data cut, and the session's. */
static int parse_seed(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    long n;
    if (!app_parse_int(v, (long)d->lo, (long)d->hi, &n))
        return out_of_range(d, v, err);
    s->seed = s->sess.seed = (unsigned long long)n;
    return THAW_OK;
}

static void format_seed(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    (void)d;
    snprintf(out, cap, "%llu", s->seed);
}

static int parse_cache_mb(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    long n;
    if (!app_parse_int(v, (long)d->lo, (long)d->hi, &n))
        return out_of_range(d, v, err);
    s->sess.cache_bytes = (size_t)n << 20;
    return THAW_OK;
}

static void format_cache_mb(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    (void)d;
    snprintf(out, cap, "%zu", s->sess.cache_bytes >> 20);
}

/* The session's memory budget in MiB; 0 is no limit. */
static int parse_memory_mb(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    long n;
    if (!app_parse_int(v, (long)d->lo, (long)d->hi, &n))
        return out_of_range(d, v, err);
    s->sess.memory_bytes = (size_t)n << 20;
    return THAW_OK;
}

static void format_memory_mb(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    (void)d;
    snprintf(out, cap, "%zu", s->sess.memory_bytes >> 20);
}

static int parse_adapt(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    (void)d;
    return adapt_parse(&s->sess.adapt, v, err);
}

static void format_adapt(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    (void)d;
    char text[ADAPT_TEXT_MAX];
    adapt_format(&s->sess.adapt, text, sizeof text);
    snprintf(out, cap, "\"%s\"", text);
}

/* The source-domain spec; "auto" (or "") is the model's own data set. */
static int parse_source(app_settings *s, const app_setting *d, const char *v, thaw_err *err)
{
    (void)d;
    if (!strcmp(v, "auto"))
        v = "";
    if (strlen(v) >= sizeof s->source)
        return thaw_fail(err, THAW_EINVAL, "set source: a spec of %zu characters; expected at "
                         "most %zu", strlen(v), sizeof s->source - 1);
    if (strpbrk(v, "\"\r\n"))
        return thaw_fail(err, THAW_EINVAL, "set source: a spec cannot hold a double quote or a "
                         "line break");
    snprintf(s->source, sizeof s->source, "%s", v);
    return THAW_OK;
}

static void format_source(const app_settings *s, const app_setting *d, char *out, size_t cap)
{
    (void)d;
    snprintf(out, cap, "\"%s\"", s->source[0] ? s->source : "auto");
}

#define INT_FIELD parse_int_field, format_int_field
#define FLOAT_FIELD parse_float_field, format_float_field
#define ON_OFF parse_on_off, format_on_off
#define AT(member) offsetof(app_settings, member)

/* Every setting, in the order `help set` lists them:
 * X(name, value, help, parse and format, field, lo, hi, config, bound). */
#define APP_SETTINGS(X)                                                                           \
    X("epochs", "N", "train's default", INT_FIELD, AT(epochs), 1, 100000, 11, 0)                 \
    X("batch", "N", "images per step", INT_FIELD, AT(sess.batch), 1, 4096, 12, 0)                \
    X("lr", "X", "the head's rate (strategies spread it over the groups)", FLOAT_FIELD, AT(lr),  \
      1e-12, 100.0, 13, 0)                                                                        \
    X("scratch-lr", "X", "the baseline's rate", FLOAT_FIELD, AT(sess.scratch_lr), 1e-12, 100.0,  \
      14, 0)                                                                                      \
    X("optimizer", "sgd|adamw", "SGD with momentum, or AdamW", OWN(optimizer), 0, 0, 0, 20, 0)   \
    X("momentum", "X", "SGD's momentum", FLOAT_FIELD, AT(sess.momentum), 0.0, 0.999, 21, 0)      \
    X("wd", "X", "weight decay (AdamW's default is 0.01)", FLOAT_FIELD, AT(sess.weight_decay),   \
      0.0, 1.0, 22, 0)                                                                            \
    X("schedule", "TEXT", "constant|cosine|step [every=E gamma=G]|one-cycle [pct=P], any with "  \
      "warmup=EPOCHS", OWN(schedule), 0, 0, 0, 30, 0)                                             \
    X("warmup", "EPOCHS", "the schedule's linear warm-up", DOUBLE_FIELD, AT(sess.sched.warmup),  \
      0.0, 1000.0, 0, 0)                                                                          \
    X("early-stop", "N", "patience: evaluations without a better validation accuracy (0 = off)", \
      INT_FIELD, AT(sess.patience), 0, 100000, 31, 0)                                             \
    X("augment", "LIST", "shift[=N],flip,noise[=S] | none", OWN(augment), 0, 0, 0, 32, 1)         \
    X("seed", "N", "the head's and the baseline's initialisation, the data cut and order",       \
      OWN(seed), 0, 0, 2147483647.0, 10, 1)                                                       \
    X("baseline", "on|off", "train the scratch baseline beside the transfer", ON_OFF,            \
      AT(sess.baseline), 0, 0, 40, 1)                                                             \
    X("parallel", "on|off", "the baseline on a second thread", ON_OFF, AT(sess.parallel), 0, 0,  \
      41, 1)                                                                                      \
    X("train-bn", "on|off", "BatchNorm layers keep training inside frozen parts", ON_OFF,        \
      AT(train_bn), 0, 0, 42, 1)                                                                  \
    X("evals", "N", "evaluations per epoch", INT_FIELD, AT(sess.evals_per_epoch), 1, 1000, 43, 0) \
    X("cache-mb", "N", "the budget for cached features of the frozen prefix (MB)", OWN(cache_mb), \
      0, 0, 1 << 20, 44, 0)                                                                       \
    X("memory-mb", "N", "what training may hold: models, activations, images, cache (MB; 0 = "   \
      "no limit; default half the memory)", OWN(memory_mb), 0, 0, 1 << 24, 0, 0)                  \
    X("adapt", "TEXT", "domain adaptation: none (the target's labels alone) | source-only "      \
      "(the source's labels alone) | reweight [clip=C layer=L] | mmd [weight=W layer=L] | dann "   \
      "[weight=W layer=L] (source and target labels, the source weighted or aligned with the "     \
      "target's pool) | self-train [threshold=T every=E] (pseudo-labels on the pool) | oracle "    \
      "(the pool with its true labels)", OWN(adapt), 0, 0, 0, 50, 0)                               \
    X("source", "SPEC", "the labelled source-domain images of the target's classes that "        \
      "source-only, reweight, mmd and dann train on (auto: the model's own data set, 300 a "      \
      "class)", OWN(source), 0, 0, 0, 51, 1)

#define INT_FIELD parse_int_field, format_int_field
#define FLOAT_FIELD parse_float_field, format_float_field
#define DOUBLE_FIELD parse_double_field, format_double_field
#define ON_OFF parse_on_off, format_on_off
#define OWN(kind) parse_##kind, format_##kind
#define AT(member) offsetof(app_settings, member)
#define SETTING_ENTRY(name, value, help, parse_format, off, lo, hi, config, bound)                \
    { name, value, help, parse_format, off, lo, hi, config, bound },
#define SETTING_NAME(name, ...) name,

static const app_setting settings[] = { APP_SETTINGS(SETTING_ENTRY) };

enum { NSETTINGS = sizeof settings / sizeof settings[0] };

const char *const app_setting_names[NSETTINGS + 1] = { APP_SETTINGS(SETTING_NAME) NULL };

#undef INT_FIELD
#undef FLOAT_FIELD
#undef DOUBLE_FIELD
#undef ON_OFF
#undef OWN
#undef AT
#undef SETTING_ENTRY
#undef SETTING_NAME

static const app_setting *find_setting(const char *name)
{
    for (int i = 0; i < NSETTINGS; i++)
        if (!strcmp(name, settings[i].name))
            return &settings[i];
    return NULL;
}

void app_settings_default(app_settings *s)
{
    memset(s, 0, sizeof *s);
    sess_config_default(&s->sess);
    s->epochs = 10;
    s->lr = 0.01f;
    s->seed = 1;
    s->sess.parallel = sysconf(_SC_NPROCESSORS_ONLN) >= 2;   /* the baseline on the second core */
}

void app_settings_names(char *out, size_t cap, const char *sep)
{
    size_t n = 0;
    if (cap > 0)
        out[0] = '\0';
    for (int i = 0; i < NSETTINGS && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? sep : "", settings[i].name);
}

int app_settings_set(app_settings *s, const char *key, const char *value, thaw_err *err)
{
    const app_setting *d = find_setting(key);
    if (!d) {
        char names[512];
        app_settings_names(names, sizeof names, ", ");
        return thaw_fail(err, THAW_EINVAL, "set: unknown setting '%s'; the settings are %s", key, names);
    }
    return d->parse(s, d, value, err);
}

int app_setting_bound(const char *key)
{
    const app_setting *d = find_setting(key);
    return d && d->bound;
}

void app_settings_help(app *a)
{
    for (int i = 0; i < NSETTINGS; i++) {
        const app_setting *d = &settings[i];
        char now[SETTING_TEXT_MAX];
        d->format(&a->set, d, now, sizeof now);
        app_say(a, APP_INFO, "set %-10s %-9s %s (now %s)%s", d->name, d->value, d->help, now,
                d->bound ? "; before the first train" : "");
    }
}

int app_cmd_set(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc < 3 || argc % 2 == 0)
        return thaw_fail(err, THAW_EINVAL, "usage: set KEY VALUE [KEY VALUE...]");
    app_settings next = a->set;
    for (int i = 1; i < argc; i += 2) {
        if (a->sess && app_setting_bound(argv[i]))
            return thaw_fail(err, THAW_EINVAL, "set %s: this shapes the run itself; give it before "
                             "the first train, or `reset` and start again", argv[i]);
        int rc = app_settings_set(&next, argv[i], argv[i + 1], err);
        if (rc)
            return rc;
    }
    if (a->sess && memcmp(&next.sess, &a->set.sess, sizeof next.sess)) {
        int rc = app_control(a, (sess_ctl){ .op = SESS_CONFIGURE, .config = next.sess }, err);
        if (rc)
            return rc;
        if (a->batch)
            sess_wait(a->sess);
        else                             /* an evaluation may be running: the UI does not wait it out */
            sess_wait_ms(a->sess, APP_CALL_WAIT_MS);
    }
    strategy st;
    if (next.lr != a->set.lr && a->strategy_text[0] &&
        strategy_parse(&st, a->strategy_text, NULL) == THAW_OK && st.kind == STRAT_DISCRIMINATIVE &&
        st.lo > 0 && st.lo > next.lr)
        return thaw_fail(err, THAW_EINVAL, "set lr %g: below the lowest rate of the strategy in "
                         "force (%s); give the strategy again with a smaller lo first",
                         (double)next.lr, a->strategy_text);
    if (!a->sess && a->have_plan && next.lr != a->set.lr && !a->strategy_text[0])
        model_set_lr(&a->plan, a->plan.root, next.lr);
    if (!a->sess && a->have_plan)
        a->plan.train_bn = next.train_bn;
    a->set = next;
    return THAW_OK;
}

/* ---- flags ------------------------------------------------------------------ */

int app_setting_flag(int argc, char **argv, int *i, const char **key, const char **value)
{
    const char *name = argv[*i];
    if (strncmp(name, "--", 2))
        return 0;
    name += 2;
    int off = 0;
    const app_setting *d = find_setting(name);
    if (!d && !strncmp(name, "no-", 3)) {
        d = find_setting(name + 3);
        off = 1;
    }
    int on_off = d && d->parse == parse_on_off;
    if (!d || (off && !on_off))
        return 0;
    *key = d->name;
    if (on_off) {
        *value = off ? "off" : "on";
        return 1;
    }
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

void app_setting_flags_usage(char *out, size_t cap, const char *indent, int width)
{
    size_t n = 0;
    int col = (int)strlen(indent), first = 1;
    if (cap > 0)
        out[0] = '\0';
    for (int i = 0; i < NSETTINGS && n < cap; i++) {
        const app_setting *d = &settings[i];
        char one[64];
        int len = d->parse == parse_on_off ? snprintf(one, sizeof one, "[--[no-]%s]", d->name)
                                            : snprintf(one, sizeof one, "[--%s %s]", d->name, d->value);
        if (!first && col + 1 + len > width) {
            n += (size_t)snprintf(out + n, cap - n, "\n%s", indent);
            col = (int)strlen(indent);
        } else if (!first) {
            n += (size_t)snprintf(out + n, cap - n, " ");
            col++;
        }
        first = 0;
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s", one);
        col += len;
    }
}

/* ---- the configuration as commands ------------------------------------------- */
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    if (!*buf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (*len + (size_t)n + 1 > *cap) {
        size_t grown = 2 * (*cap + (size_t)n + 1);
        char *p = realloc(*buf, grown);
        if (!p) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = p;
        *cap = grown;
    }
    va_start(ap, fmt);
    vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
}

char *app_config_text(const app *a)
{
    size_t len = 0, cap = 1024;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    b[0] = '\0';
    locale_t old = app_enter_c();
    if (a->model_path[0])
        append(&b, &len, &cap, "load model \"%s\"\n", a->model_path);
    /* The settings on config.thaw's four `set` lines, in their places. */
    for (int line = 1; line <= 4; line++) {
        append(&b, &len, &cap, "set");
        for (int place = 0; place < 10; place++)
            for (int i = 0; i < NSETTINGS; i++)
                if (settings[i].config == 10 * line + place) {
                    char value[SETTING_TEXT_MAX];
                    settings[i].format(&a->set, &settings[i], value, sizeof value);
                    append(&b, &len, &cap, " %s %s", settings[i].name, value);
                }
        append(&b, &len, &cap, "\n");
    }
    if (a->data_spec[0])
        append(&b, &len, &cap, "load data \"%s\"\n", a->data_spec);
    if (a->strategy_text[0])
        append(&b, &len, &cap, "strategy %s\n", a->strategy_text);
    const model *m = app_current_model(a);
    if (m && !a->sess) {
        /* Every layer's state, so hand edits after the strategy replay too. */
        const layer *prev = NULL;
        for (int i = 0; i < m->nslice; i++) {
            const param_slice *p = &m->slice[i];
            if (p->kind == PARAM_STAT || p->owner == prev)
                continue;
            prev = p->owner;
            char lr[32];
            num_shortest_float(lr, sizeof lr, p->lr);
            append(&b, &len, &cap, "%s %s\nlr %s %s\n", p->frozen ? "freeze" : "unfreeze",
                   p->owner->path, p->owner->path, lr);
        }
    }
    app_leave_c(old);
    return b;
}
