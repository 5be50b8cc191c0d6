/* workbench.h — the curses workbench: the layer tree with freezing and
 * rates, live plots of loss, accuracy and Δtransfer, the status line, a `:`
 * command line (readline), help, and the views a key switches to. Every key
 * is a command of the language in app.h, so lessons and `thaw repl` can do
 * the same.
 *
 * Falls back to the line-mode prompt (`thaw repl`) when stdin or stdout is
 * not a terminal or TERM is unset, dumb or unknown. */
#ifndef THAW_WORKBENCH_H
#define THAW_WORKBENCH_H

typedef struct wb_opts {
    const char *model;       /* NULL: models/fashion-resnet.json */
    const char *data;        /* NULL: the default target (shapes when Fashion-MNIST is missing) */
    int contrast;            /* the high-contrast theme for projectors */
    const char *lesson;      /* a lesson file to step through (> advances), or NULL */
} wb_opts;

int workbench_main(const wb_opts *o);

#endif
