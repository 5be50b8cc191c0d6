/* app_impl.h — what the files of the app share and nobody else sees.
 *
 *   app.c           the state: locale, words and numbers, the model and data,
 *                   the session and its run folder, the verb table, app_exec
 *   app_verbs.c     the verbs that edit the plan and drive the session
 *   app_settings.c  the settings' table: set, help set, config.thaw, flags
 *   app_lesson.c    lessons and instructor mode; the lesson stepper
 *   app_pump.c      the session's events, and waiting for them in batch mode
 *
 * Every verb is `int app_cmd_NAME(app *, int argc, char **argv, thaw_err *)`:
 * argv[0] is the verb as typed; THAW_EINVAL with a usage message for
 * malformed arguments, otherwise the errors of what it runs.
 */
#ifndef THAW_APP_IMPL_H
#define THAW_APP_IMPL_H

#include <locale.h>

#include "app.h"

enum {
    APP_SOURCE_EVAL_MAX = 250,
    APP_DOMAIN_SHOTS = 300,     /* source-domain images a class, from the model's own data set */
    APP_LAYERS_MAX = 4096,
    APP_CALL_WAIT_MS = 500,     /* how long a save waits for the trainer outside batch mode */
};

/* ---- app.c ---- */

/* Switches this thread to the C locale; returns what app_leave_c restores. */
locale_t app_enter_c(void);
void app_leave_c(locale_t old);

void app_say(app *a, app_say_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* s as a whole number or a number in [lo, hi]; 0 when it is not one. */
int app_parse_double(const char *s, double lo, double hi, double *out);
int app_parse_int(const char *s, long lo, long hi, long *out);

/* words[from..argc) joined by single spaces; 0 when they do not fit in cap. */
int app_joined(int argc, char **argv, int from, char *out, size_t cap);

/* Appends a command line to the run's session.thaw. */
void app_log_command(app *a, const char *line);

/* The plan before the session, the session's model after; NULL before both. */
const model *app_current_model(const app *a);

/* THAW_EINVAL naming cmd, saying to stop first, while the session trains,
 * is paused or busy: what would replace the session waits for that. */
int app_need_idle(app *a, const char *cmd, thaw_err *err);

/* THAW_EINVAL naming cmd unless a plan (or a session) exists. */
int app_need_plan(app *a, const char *cmd, thaw_err *err);

/* Loads the task and the transferred model from model_path and data_spec. */
int app_build_plan(app *a, thaw_err *err);
void app_drop_plan(app *a);

/* Fills the model's provenance from the task and the settings. */
void app_provenance(app *a);

/* Starts the session and its run folder unless it runs already. */
int app_start_session(app *a, thaw_err *err);

int app_control(app *a, sess_ctl c, thaw_err *err);

/* Index of verb name in the verb table, -1 when there is none. */
int app_verb_index(const char *name);

/* ---- app_settings.c ---- */

/* 1 when key shapes the session itself (refused once it runs). */
int app_setting_bound(const char *key);

/* The settings' names separated by sep, into out (always terminated). */
void app_settings_names(char *out, size_t cap, const char *sep);

/* `help set`'s lines after the verb's own. */
void app_settings_help(app *a);

/* ---- app_pump.c ---- */

/* Batch mode: reports progress until the session settles. THAW_ENONFINITE
 * when the training diverged meanwhile: the session is then stopped (its
 * final evaluation and last checkpoint made from the last good weights). */
int app_settle(app *a, thaw_err *err);

/* ---- the verbs ---- */

#define APP_VERB_FN(fn) int fn(app *a, int argc, char **argv, thaw_err *err);
APP_VERB_FN(app_cmd_load) APP_VERB_FN(app_cmd_freeze) APP_VERB_FN(app_cmd_lr) APP_VERB_FN(app_cmd_lr_decay)
APP_VERB_FN(app_cmd_strategy) APP_VERB_FN(app_cmd_set) APP_VERB_FN(app_cmd_train) APP_VERB_FN(app_cmd_simple)
APP_VERB_FN(app_cmd_lr_find) APP_VERB_FN(app_cmd_save) APP_VERB_FN(app_cmd_export) APP_VERB_FN(app_cmd_overlay) APP_VERB_FN(app_cmd_show)
APP_VERB_FN(app_cmd_reset) APP_VERB_FN(app_cmd_help) APP_VERB_FN(app_cmd_say) APP_VERB_FN(app_cmd_pause_for_key)
APP_VERB_FN(app_cmd_expect) APP_VERB_FN(app_cmd_if_quick) APP_VERB_FN(app_cmd_lock) APP_VERB_FN(app_cmd_hide)
APP_VERB_FN(app_cmd_quit) APP_VERB_FN(app_cmd_predict) APP_VERB_FN(app_cmd_neighbours)
#undef APP_VERB_FN

/* `at STEP COMMAND`: runs COMMAND (a change to freezing or rates) so that
 * it applies once the run has taken STEP steps; before a session exists
 * the line waits for the next train, which calls app_flush_at. */
int app_cmd_at(app *a, int argc, char **argv, thaw_err *err);
int app_flush_at(app *a, thaw_err *err);

/* The session applied the change tagged tag at step: session.thaw gets its
 * line as `at STEP LINE`. */
void app_record_change(app *a, int tag, long step);

#endif
