/* app_pump.c — the session's events: progress, evaluations and changes
 * reported through the app's output, and batch mode's wait for the session
 * to settle. */
#include "app_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "runlog.h"

static void remember(app *a, const sess_eval *e)
{
    if (a->nhistory == a->caphistory) {
        int cap = a->caphistory ? 2 * a->caphistory : 64;
        sess_eval *grown = realloc(a->history, (size_t)cap * sizeof *grown);
        if (!grown)
            return;
        a->history = grown;
        a->caphistory = cap;
    }
    a->history[a->nhistory++] = *e;
}

static void report_eval(app *a, const sess_eval *e)
{
    if (isnan(e->val_acc)) {            /* a stop came first */
        app_say(a, APP_EVAL, "epoch %3d  step %ld  stopped before the evaluation", e->epoch, e->step);
        return;
    }
    char scratch[96] = "", test[128] = "", source[48] = "";
    if (!isnan(e->scratch_val_acc))
        snprintf(scratch, sizeof scratch, "  scratch %5.1f%%  delta %+5.1f", 100 * e->scratch_val_acc,
                 100 * e->delta);
    if (!isnan(e->test_acc))
        snprintf(test, sizeof test, isnan(e->scratch_test_acc) ? "  test %.1f%%" :
                 "  test %.1f%% (scratch %.1f%%, delta %+.1f)", 100 * e->test_acc,
                 100 * e->scratch_test_acc, 100 * e->test_delta);
    if (!isnan(e->source_acc) && !isnan(e->domain_gap))
        snprintf(source, sizeof source, "  source %.1f%%  gap %.2f", 100 * e->source_acc, e->domain_gap);
    else if (!isnan(e->source_acc))
        snprintf(source, sizeof source, "  source %.1f%%", 100 * e->source_acc);
    char pseudo[64] = "";
    if (e->pseudo_n > 0)
        snprintf(pseudo, sizeof pseudo, isnan(e->pseudo_acc) ? "  pseudo %d" : "  pseudo %d (%.1f%% right)",
                 e->pseudo_n, 100 * e->pseudo_acc);
    app_say(a, APP_EVAL, "epoch %3d  loss %.4f  val %5.1f%%%s%s%s%s  %.0f img/s", e->epoch, e->train_loss,
        100 * e->val_acc, scratch, test, source, pseudo, e->img_s);
}

/* One point of the lr-find curve; a point that finds no memory is left out
 * (the curve is drawn from the rest). */
static void lrfind_push(app *a, double rate, double loss)
{
    if (a->lrf_n == a->lrf_cap) {
        int cap = a->lrf_cap ? 2 * a->lrf_cap : 128;
        double *r = realloc(a->lrf_rate, (size_t)cap * sizeof *r);
        if (r)
            a->lrf_rate = r;
        double *l = r ? realloc(a->lrf_loss, (size_t)cap * sizeof *l) : NULL;
        if (l)
            a->lrf_loss = l;
        if (!r || !l)
            return;
        a->lrf_cap = cap;
    }
    a->lrf_rate[a->lrf_n] = rate;
    a->lrf_loss[a->lrf_n++] = loss;
}

/* The finished curve into the run folder, saying where. */
static void lrfind_save(app *a)
{
    if (!a->run)
        return;
    thaw_err err = { 0 };
    if (runlog_lrfind(a->run, a->lrf_rate, a->lrf_loss, a->lrf_n, a->lr_suggestion, &err))
        app_say(a, APP_WARN, "lr-find: the curve was not saved: %s", err.msg);
    else
        app_say(a, APP_INFO, "lr-find: the curve is in %s/lrfind.svg and lrfind.csv%s", runlog_dir(a->run),
                isfinite(a->lr_suggestion) ? "; lr-find apply takes the suggestion" : "");
}

int app_pump(app *a, int timeout_ms)
{
    if (!a->sess)
        return 0;
    int handled = 0;
    sess_event ev;
    locale_t old = app_enter_c();
    while (sess_poll(a->sess, &ev, handled ? 0 : timeout_ms)) {
        handled++;
        if (a->out.event)
            a->out.event(a->out.ctx, &ev);
        switch (ev.kind) {
        case SEV_STEP: {
            int per = (a->task.split[TASK_TRAIN].n + a->set.sess.batch - 1) / a->set.sess.batch;
            app_say(a, APP_PROGRESS, "epoch %d  step %ld (%d per epoch)  loss %.4f  lr %.3g", ev.epoch + 1,
                ev.step, per, ev.value, ev.value2);
            break;
        }
        case SEV_TESTING:
            a->testing_done = (int)ev.count;
            a->testing_total = (int)ev.value;
            app_say(a, APP_PROGRESS, "testing %d/%.0f", ev.count, ev.value);
            break;
        case SEV_EVAL:
            a->testing_done = a->testing_total = 0;
            a->last = ev.eval;
            if (ev.eval.final)
                a->final = ev.eval;
            remember(a, &ev.eval);
            report_eval(a, &ev.eval);
            break;
        case SEV_LRFIND:
            if (ev.count < 0) {
                a->lr_suggestion = ev.value;
                app_say(a, APP_INFO, "%s", ev.text);
                lrfind_save(a);
                a->lrf_done = 1;
            } else {
                lrfind_push(a, ev.value, ev.value2);
                app_say(a, a->verbose_lrfind ? APP_INFO : APP_PROGRESS, "lr-find  rate %.4g  loss %.4f",
                    ev.value, ev.value2);
            }
            break;
        case SEV_NONFINITE:
            a->diverged = 1;
            snprintf(a->diverged_text, sizeof a->diverged_text, "%s", ev.text);
            app_say(a, APP_WARN, "%s", ev.text);
            break;
        case SEV_ERROR:
            app_say(a, APP_WARN, "%s", ev.text);
            break;
        case SEV_CHANGE:
            app_record_change(a, ev.count, ev.step);
            app_say(a, APP_INFO, "step %ld: %s", ev.step, ev.text);
            break;
        case SEV_NOTE:
            app_say(a, APP_INFO, "%s", ev.text);
            break;
        case SEV_STATE:
            break;
        }
    }
    app_leave_c(old);
    app_report_failures(a);
    return handled;
}

void app_report_failures(app *a)
{
    char files[256], why[512];
    unsigned seq = a->run ? runlog_failures(a->run, files, sizeof files, why, sizeof why) : 0;
    if (seq == a->failures_seen)
        return;
    a->failures_seen = seq;
    if (files[0])
        app_say(a, APP_WARN, "not saved in %s: %s (the last error: %s)", runlog_dir(a->run), files, why);
    else
        app_say(a, APP_WARN, "not saved: %s", why);
}

int app_settle(app *a, thaw_err *err)
{
    if (!a->batch || !a->sess)
        return THAW_OK;
    int stopping = 0;
    a->diverged = 0;
    while (sess_busy(a->sess)) {
        app_pump(a, 20);               /* short: a stop signal is seen at once */
        if (a->stop && *a->stop && !stopping) {
            /* SIGINT, SIGTERM or SIGHUP: end the training the normal way, so
             * the final evaluation writes the last checkpoint. */
            stopping = 1;
            app_say(a, APP_WARN, "stopping: saving the last checkpoint");
            app_control(a, (sess_ctl){ .op = SESS_STOP, .count = 1 }, NULL);
        }
    }
    app_pump(a, 0);
    if (stopping)
        a->quit = a->stopped = 1;
    if (!a->diverged)
        return THAW_OK;
    /* A batch run that diverged ends there, with the last good weights as
     * its last checkpoint, and says so: nobody is there to resume it. */
    if (sess_state_now(a->sess) == SESS_PAUSED &&
        app_control(a, (sess_ctl){ .op = SESS_STOP }, NULL) == THAW_OK) {
        sess_wait(a->sess);
        app_pump(a, 0);
    }
    return thaw_fail(err, THAW_ENONFINITE, "training diverged (%s); the run stopped with the "
                     "last good weights: try a smaller rate", a->diverged_text);
}
