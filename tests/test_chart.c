/* test_chart.c — braille charts as text: each dot's code point, lines,
 * gaps, the ASCII fallback, axis labels, the reference line and events,
 * smoothing, degenerate sizes, and golden renders of small charts (set
 * THAW_UPDATE_GOLDEN=1 to rewrite tests/data/golden/chart_small.txt after
 * an intended change, then look at it before committing it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "test.h"

#define GOLDEN_CHART "tests/data/golden/chart_small.txt"

enum { TEXT_CAP = 1 << 14 };

/* Renders ch at w × h into a fresh chart_cells; 0 when out of memory. */
static int render(chart_cells *c, const chart *ch, int w, int h, int utf8, int *flags)
{
    if (chart_cells_init(c, w, h) != THAW_OK)
        return 0;
    int f = chart_render(ch, c, utf8);
    if (flags)
        *flags = f;
    return 1;
}

/* Row `row` as text; four buffers in turn, so one message can show two rows. */
static const char *row_of(const chart_cells *c, int row)
{
    static char buf[4][TEXT_CAP];
    static int next;
    char *b = buf[next++ % 4];
    chart_row(c, row, b, TEXT_CAP);
    return b;
}

/* The colour indices of a row, one digit (or letter) per cell. */
static const char *colors_of(const chart_cells *c, int row)
{
    static char buf[TEXT_CAP];
    int n = 0;
    for (int col = 0; col < c->w && n + 1 < TEXT_CAP; col++)
        buf[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[c->color[row * c->w + col] % 36];
    buf[n] = '\0';
    return buf;
}

/* The whole chart, rows then colour rows, each line ending in "|\n" so
 * trailing blanks show. */
static void chart_text(char *out, size_t cap, const char *name, const chart_cells *c)
{
    size_t len = strlen(out);
    len += (size_t)snprintf(out + len, cap - len, "== %s %dx%d\n", name, c->w, c->h);
    for (int r = 0; r < c->h && len < cap; r++)
        len += (size_t)snprintf(out + len, cap - len, "%s|\n", row_of(c, r));
    for (int r = 0; r < c->h && len < cap; r++)
        len += (size_t)snprintf(out + len, cap - len, "%s|\n", colors_of(c, r));
}

/* ---- dots ---- */

/* One dot at each of a cell's 8 positions: a 1 × 2 chart (a title row and
 * one bare plot cell) with y fixed to 0..3, one dot per row, and a second
 * series far above the range that pins x to 0..1 and draws nothing. */
void test_chart_braille_dots(void)
{
    static const char *const want[2][4] = {
        { "⠁", "⠂", "⠄", "⡀" },   /* left column: bits 0, 1, 2, 6 */
        { "⠈", "⠐", "⠠", "⢀" },   /* right column: bits 3, 4, 5, 7 */
    };
    double pin_x[] = { 0, 1 }, pin_y[] = { 1e9, 1e9 };
    for (int col = 0; col < 2; col++)
        for (int row = 0; row < 4; row++) {
            double x[] = { col }, y[] = { 3 - row };
            chart_series s[] = { { .x = x, .y = y, .n = 1, .color = 7 }, { .x = pin_x, .y = pin_y, .n = 2 } };
            chart ch = { .series = s, .nseries = 2, .fixed_y = 1, .ymin = 0, .ymax = 3 };
            chart_cells c;
            CHECK(render(&c, &ch, 1, 2, 1, NULL));
            int ok = !strcmp(row_of(&c, 1), want[col][row]) && c.color[1] == 7;
            const char *got = row_of(&c, 1);
            unsigned cp = (unsigned)(got[0] & 0x0F) << 12 | (unsigned)(got[1] & 0x3F) << 6 | (got[2] & 0x3F);
            chart_cells_free(&c);
            CHECKF(ok, "dot (%d, %d) drew U+%04X", col, row, cp);
        }
    /* All eight at once: U+28FF. */
    double x[] = { 0, 0, 1, 1 }, y[] = { 0, 3, 3, 0 };
    chart_series s[] = { { .x = x, .y = y, .n = 4 } };
    chart ch = { .series = s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 3 };
    chart_cells c;
    CHECK(render(&c, &ch, 1, 2, 1, NULL));
    int ok = !strcmp(row_of(&c, 1), "⣿");
    chart_cells_free(&c);
    CHECK(ok);
}

/* A diagonal across 4 × 2 cells (8 × 8 dots): dot (i, i) for every i. */
void test_chart_braille_diagonal(void)
{
    double x[] = { 0, 7 }, y[] = { 7, 0 };
    chart_series s[] = { { .x = x, .y = y, .n = 2, .color = 5 } };
    chart ch = { .series = s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 7 };
    chart_cells c;
    CHECK(render(&c, &ch, 4, 3, 1, NULL));
    EXPECT(c.frame.axes == 0 && c.frame.x == 0 && c.frame.y == 1 && c.frame.w == 4 && c.frame.h == 2);
    EXPECTF(!strcmp(row_of(&c, 0), "    "), "[%s]", row_of(&c, 0));
    EXPECTF(!strcmp(row_of(&c, 1), "⠑⢄  "), "[%s]", row_of(&c, 1));
    EXPECTF(!strcmp(row_of(&c, 2), "  ⠑⢄"), "[%s]", row_of(&c, 2));
    EXPECT(!strcmp(colors_of(&c, 1), "5500") && !strcmp(colors_of(&c, 2), "0055"));
    /* ASCII: the top two dot rows '\'', the bottom two '.'. */
    chart_render(&ch, &c, 0);
    EXPECTF(!strcmp(row_of(&c, 1), "'.  ") && !strcmp(row_of(&c, 2), "  '."), "[%s] [%s]", row_of(&c, 1),
            row_of(&c, 2));
done:
    chart_cells_free(&c);
}

/* A NaN (in y or in x) breaks the line; a point with no finite neighbour
 * is one dot. 4 × 1 cells, 8 × 4 dots, y = 1 on dot row 2. */
void test_chart_nan_breaks_line(void)
{
    double x[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    double y[] = { 1, 1, 1, NAN, NAN, 1, 1, 1 };
    chart_series s[] = { { .x = x, .y = y, .n = 8 } };
    chart ch = { .series = s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 3 };
    chart_cells c;
    CHECK(render(&c, &ch, 4, 2, 1, NULL));
    EXPECTF(!strcmp(row_of(&c, 1), "⠤⠄⠠⠤"), "[%s]", row_of(&c, 1));

    double y2[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    s[0].y = y2;
    chart_render(&ch, &c, 1);
    EXPECTF(!strcmp(row_of(&c, 1), "⠤⠤⠤⠤"), "[%s]", row_of(&c, 1));

    /* A non-finite x breaks it too; points 4 and 6 stand alone. */
    double x3[] = { 0, 1, 2, INFINITY, 4, NAN, 6, NAN };
    double y3[] = { 1, 1, 1, 1, 0, 1, 3, 1 };
    s[0].x = x3;
    s[0].y = y3;
    chart_render(&ch, &c, 1);
    /* x spans 0 .. 6 now: dots at 0, 1.17 -> 1, 2.33 -> 2; alone: (4.67 -> 5, row 3), (7, row 0). */
    EXPECTF(!strcmp(row_of(&c, 1), "⠤⠄⢀⠈"), "[%s]", row_of(&c, 1));
done:
    chart_cells_free(&c);
}

/* The ASCII characters for each kind of cell: an event column (dots on
 * rows 0 and 2) ':', a steep line '|', a flat line on the top rows '\''
 * and on the bottom rows '.', nothing ' '. 4 × 2 cells, 8 × 8 dots. */
void test_chart_ascii_fallback(void)
{
    double x[] = { 0, 2, 3, 5 }, y[] = { 7, 7, 0, 0 }, ev[] = { 7 };
    chart_series s[] = { { .x = x, .y = y, .n = 4, .color = 4 } };
    chart ch = { .series = s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 7, .events = ev, .nevents = 1 };
    chart_cells c;
    CHECK(render(&c, &ch, 4, 3, 0, NULL));
    EXPECTF(!strcmp(row_of(&c, 1), "'| :"), "[%s]", row_of(&c, 1));
    EXPECTF(!strcmp(row_of(&c, 2), " |.:"), "[%s]", row_of(&c, 2));
    EXPECT(!strcmp(colors_of(&c, 1), "4401") && !strcmp(colors_of(&c, 2), "0441"));
    /* The same dots in braille. */
    chart_render(&ch, &c, 1);
    EXPECTF(!strcmp(row_of(&c, 1), "⠉⡇ ⠨"), "[%s]", row_of(&c, 1));
    EXPECTF(!strcmp(row_of(&c, 2), " ⢸⣀⠨"), "[%s]", row_of(&c, 2));
done:
    chart_cells_free(&c);
}

/* ---- axes ---- */

/* The label column of rows 1 .. h-3 (the plot rows), each row's text up to
 * and including the axis character, joined by '/'. */
static const char *labels_of(const chart_cells *c)
{
    static char out[TEXT_CAP];
    size_t len = 0;
    out[0] = '\0';
    for (int r = c->frame.y; r < c->frame.y + c->frame.h; r++) {
        for (int col = 0; col <= c->frame.label_w; col++) {
            const char *t = c->text[r * c->w + col];
            memcpy(out + len, t, strlen(t));
            len += strlen(t);
        }
        out[len++] = r + 1 < c->frame.y + c->frame.h ? '/' : '\0';
    }
    return out;
}

void test_chart_axis_labels(void)
{
    static const struct {
        double lo, hi, scale;
        const char *suffix;
        int h, label_w;
        const char *labels;
    } cases[] = {
        { 0, 1, 0, NULL, 8, 3, "1.0┤/   │/0.5┤/   │/  0┤" },
        { 0, 1, 100, "%", 8, 4, "100%┤/    │/ 50%┤/    │/  0%┤" },
        { 0, 1, 0, NULL, 14, 3, "1.0┤/   │/0.8┤/   │/0.6┤/   │/0.4┤/   │/0.2┤/   │/  0┤" },
        { -0.35, 0.2, 0, NULL, 8, 4, " 0.2┤/   0┤/    │/-0.2┤/    │" },
        { 0, 2500, 0, NULL, 6, 4, "2000┤/    │/   0┤" },
        { 1e-5, 4e-5, 0, NULL, 6, 5, "4e-05┤/2e-05┤/     │" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double x[] = { 0, 10 }, y[] = { cases[i].lo, cases[i].hi };
        chart_series s[] = { { .x = x, .y = y, .n = 2 } };
        chart ch = { .series = s, .nseries = 1, .fixed_y = 1, .ymin = cases[i].lo, .ymax = cases[i].hi,
                     .label_scale = cases[i].scale, .label_suffix = cases[i].suffix };
        chart_cells c;
        CHECK(render(&c, &ch, 30, cases[i].h, 1, NULL));
        int ok = c.frame.axes && c.frame.label_w == cases[i].label_w && !strcmp(labels_of(&c), cases[i].labels);
        char got[TEXT_CAP];
        snprintf(got, sizeof got, "%s", labels_of(&c));
        int label_w = c.frame.label_w;
        chart_cells_free(&c);
        CHECKF(ok, "case %zu: label_w %d, labels %s", i, label_w, got);
    }
}

/* x ticks are whole numbers, labels centred under a tick mark, as many as
 * fit with a space between. */
void test_chart_x_axis(void)
{
    double x[] = { 0, 2000 }, y[] = { 0, 1 };
    chart_series s[] = { { .x = x, .y = y, .n = 2 } };
    chart ch = { .series = s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 1 };
    chart_cells c;
    CHECK(render(&c, &ch, 40, 6, 1, NULL));
    EXPECTF(!strcmp(row_of(&c, 4), " └┬────────┬─────────┬────────┬────────┬"), "[%s]", row_of(&c, 4));
    EXPECTF(!strcmp(row_of(&c, 5), "  0       500       1000     1500   2000"), "[%s]", row_of(&c, 5));
    /* Two steps: never a fractional tick. */
    x[1] = 2;
    chart_render(&ch, &c, 0);
    EXPECTF(!strcmp(row_of(&c, 4), " ++------------------+-----------------+"), "[%s]", row_of(&c, 4));
    EXPECTF(!strcmp(row_of(&c, 5), "  0                  1                 2"), "[%s]", row_of(&c, 5));
done:
    chart_cells_free(&c);
}

/* A log axis: x holds log10 of the rate, the ticks are powers of ten. */
void test_chart_x_pow10(void)
{
    double x[] = { -7, 1 }, y[] = { 0, 1 };
    chart_series s[] = { { .x = x, .y = y, .n = 2 } };
    chart ch = { .series = s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 1, .x_pow10 = 1 };
    chart_cells c;
    CHECK(render(&c, &ch, 40, 6, 0, NULL));
    const char *labels = row_of(&c, 5);
    EXPECTF(strstr(labels, "1e-6") && strstr(labels, "1e-4") && strstr(labels, "0.01"), "[%s]", labels);
    for (const char *m = strchr(labels, '-'); m; m = strchr(m + 1, '-'))
        EXPECTF(m > labels && m[-1] == 'e', "a label not a power of ten: [%s]", labels);
    EXPECTF(!strstr(labels, ".5"), "a fractional power: [%s]", labels);
done:
    chart_cells_free(&c);
}

/* ---- the reference line, the region below it, events ---- */

void test_chart_reference_line(void)
{
    double x[] = { 0, 10, 20 }, y[] = { 0.1, 0.05, -0.1 };
    chart_series s[] = { { .name = "transfer", .x = x, .y = y, .n = 3, .color = CHART_COLOR_SERIES } };
    chart ch = { .title = "Δtransfer", .series = s, .nseries = 1, .has_ref = 1, .ref = 0 };
    chart_cells c;
    int flags;
    CHECK(render(&c, &ch, 24, 9, 1, &flags));
    EXPECT(flags == CHART_BELOW_REF);
    EXPECT(c.frame.axes && c.frame.label_w == 5);   /* "-0.1" and the marker cell */
    int col, ref_row;
    EXPECT(chart_cell_of(&c, 0, 0, &col, &ref_row) && col == c.frame.x);
    /* The zero row: one dot in every other cell where no series passes,
     * its tick labelled "0"; the rows below it have the axis in the below
     * colour. */
    EXPECTF(!strcmp(row_of(&c, ref_row), "    0┤⠁ ⠁ ⠁ ⠁ ⠁ ⠁ ⠑⠤⡁ ⠁ "), "[%s]", row_of(&c, ref_row));
    int dotted = 0;
    for (int k = c.frame.x; k < c.w; k += 2) {
        const char *t = c.text[ref_row * c.w + k];
        unsigned char color = c.color[ref_row * c.w + k];
        EXPECTF(color == CHART_COLOR_REF || color == CHART_COLOR_SERIES, "col %d colour %d", k, color);
        dotted += color == CHART_COLOR_REF && !strcmp(t, "⠁");
        EXPECT(!strcmp(c.text[ref_row * c.w + k + 1], " ") || c.color[ref_row * c.w + k + 1] == CHART_COLOR_SERIES);
    }
    EXPECTF(dotted == 7, "%d dotted cells", dotted);
    for (int r = c.frame.y; r < c.frame.y + c.frame.h; r++)
        EXPECTF(c.color[r * c.w + c.frame.label_w] == (r > ref_row ? CHART_COLOR_BELOW : CHART_COLOR_DEFAULT),
                "row %d", r);
    /* The ▼ on the row of the last value, in the label column's first cell. */
    int last_row;
    EXPECT(chart_cell_of(&c, 20, -0.1, &col, &last_row) && last_row > ref_row);
    EXPECT(!strcmp(c.text[last_row * c.w], "▼") && c.color[last_row * c.w] == CHART_COLOR_BELOW);
    for (int r = 0; r < c.h; r++)
        EXPECT(r == last_row || strcmp(c.text[r * c.w], "▼"));

    /* Above the line: no flag, no marker. */
    y[2] = 0.02;
    EXPECT(chart_render(&ch, &c, 1) == 0);
    for (int r = 0; r < c.h; r++)
        EXPECT(strcmp(c.text[r * c.w], "▼"));
    /* The flag does not depend on the size. */
    chart_cells tiny;
    y[2] = -0.3;
    EXPECT(render(&tiny, &ch, 0, 0, 1, &flags));
    chart_cells_free(&tiny);
    EXPECT(flags == CHART_BELOW_REF);
    /* A fixed range without ref: no line drawn; the flag still holds. */
    ch.fixed_y = 1;
    ch.ymin = 0.5;
    ch.ymax = 1;
    EXPECT(chart_render(&ch, &c, 1) == CHART_BELOW_REF);
    for (size_t i = 0; i < (size_t)c.w * c.h; i++)
        EXPECT(c.color[i] != CHART_COLOR_REF);
done:
    chart_cells_free(&c);
}

/* Events: a dotted column (dots on every other dot row) at the event's x,
 * in the event colour, through every plot row. */
void test_chart_events(void)
{
    double x[] = { 0, 100 }, y[] = { 1, 1 }, ev[] = { 25, 60, NAN, 250 };
    chart_series s[] = { { .x = x, .y = y, .n = 2, .color = CHART_COLOR_SERIES } };
    chart ch = { .title = "loss", .series = s, .nseries = 1, .events = ev, .nevents = 4 };
    chart_cells c;
    CHECK(render(&c, &ch, 40, 10, 1, NULL));
    /* The event at 250 widens x to 0 .. 250. */
    EXPECT(c.frame.x0 == 0 && c.frame.x1 == 250);
    for (int e = 0; e < 4; e++) {
        if (isnan(ev[e]))
            continue;
        int col, row;
        EXPECT(chart_cell_of(&c, ev[e], 1, &col, &row));
        for (int r = c.frame.y; r < c.frame.y + c.frame.h; r++) {
            const char *t = c.text[r * c.w + col];
            int ok = (!strcmp(t, "⠅") || !strcmp(t, "⠨")) && c.color[r * c.w + col] == CHART_COLOR_EVENT;
            EXPECTF(ok || (r == row && c.color[r * c.w + col] == CHART_COLOR_SERIES), "event %g row %d: %s", ev[e],
                    r, t);
        }
    }
    /* Nothing else has the event colour. */
    int n = 0;
    for (size_t i = 0; i < (size_t)c.w * c.h; i++)
        n += c.color[i] == CHART_COLOR_EVENT;
    EXPECTF(n == 3 * c.frame.h - 2, "%d event cells", n);
done:
    chart_cells_free(&c);
}

/* ---- smoothing ---- */

/* s(0) = y(0), s(i) = smooth·s(i−1) + (1 − smooth)·y(i): what is drawn,
 * what the range spans and what the last value is compared with. */
void test_chart_smoothing(void)
{
    double x[] = { 0, 1, 2, 3 }, y[] = { 0, 1, 1, 1 };
    chart_series s[] = { { .x = x, .y = y, .n = 4 } };
    chart ch = { .series = s, .nseries = 1, .smooth = 0.5, .has_ref = 1 };
    chart_cells c;
    CHECK(chart_cells_init(&c, 8, 3) == THAW_OK);
    /* Drawn: 0, 0.5, 0.75, 0.875. */
    ch.ref = 0.8751;
    EXPECT(chart_render(&ch, &c, 1) == CHART_BELOW_REF);
    ch.ref = 0.8749;
    EXPECT(chart_render(&ch, &c, 1) == 0);
    EXPECTF(fabs(c.frame.y1 - (0.875 + 0.05 * 0.875)) < 1e-12 && fabs(c.frame.y0 + 0.05 * 0.875) < 1e-12,
            "%g %g", c.frame.y0, c.frame.y1);
    /* Without smoothing the last value is 1. */
    ch.smooth = 0;
    ch.ref = 0.99;
    EXPECT(chart_render(&ch, &c, 1) == 0);
    ch.ref = 1.01;
    EXPECT(chart_render(&ch, &c, 1) == CHART_BELOW_REF);
    /* Out of (0, 1): no smoothing either. */
    ch.smooth = 1;
    EXPECT(chart_render(&ch, &c, 1) == CHART_BELOW_REF);
    /* The average skips a NaN and goes on: 0, -, 0.8 (smooth 0.2). */
    double y2[] = { 0, NAN, 1, NAN };
    s[0].y = y2;
    ch.smooth = 0.2;
    ch.ref = 0.8001;
    EXPECT(chart_render(&ch, &c, 1) == CHART_BELOW_REF);
    ch.ref = 0.7999;
    EXPECT(chart_render(&ch, &c, 1) == 0);

    /* The picture: y fixed 0 .. 1 on 4 × 8 dots, x on dot columns 0 .. 3;
     * smoothed, the points sit on dot rows 7, 3.5 -> 4, 1.75 -> 2,
     * 0.875 -> 1, instead of 7, 0, 0, 0. */
    chart_cells_free(&c);
    CHECK(chart_cells_init(&c, 2, 3) == THAW_OK);
    s[0].y = y;
    ch = (chart){ .series = s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 1, .smooth = 0.5 };
    chart_render(&ch, &c, 1);
    EXPECTF(!strcmp(row_of(&c, 1), " ⡔") && !strcmp(row_of(&c, 2), "⡜ "), "[%s] [%s]", row_of(&c, 1),
            row_of(&c, 2));
    ch.smooth = 0;
    chart_render(&ch, &c, 1);
    EXPECTF(!strcmp(row_of(&c, 1), "⢸⠉") && !strcmp(row_of(&c, 2), "⡇ "), "[%s] [%s]", row_of(&c, 1),
            row_of(&c, 2));
done:
    chart_cells_free(&c);
}

/* ---- title, legend, text ---- */

void test_chart_title_and_legend(void)
{
    double x[] = { 0, 1 }, y[] = { 0, 1 };
    chart_series s[] = { { .name = "train", .x = x, .y = y, .n = 2, .color = 4 },
                         { .name = NULL, .x = x, .y = y, .n = 2, .color = 6 },
                         { .name = "val", .x = x, .y = y, .n = 2, .color = 5 } };
    chart ch = { .title = "loss", .series = s, .nseries = 3 };
    chart_cells c;
    CHECK(render(&c, &ch, 16, 1, 1, NULL));
    EXPECTF(!strcmp(row_of(&c, 0), "loss  train  val"), "[%s]", row_of(&c, 0));
    EXPECT(!strcmp(colors_of(&c, 0), "0000004444400555"));
    chart_cells_free(&c);
    /* A legend entry that does not fit whole is left out; the title is cut. */
    CHECK(render(&c, &ch, 15, 1, 1, NULL));
    EXPECTF(!strcmp(row_of(&c, 0), "loss  train    "), "[%s]", row_of(&c, 0));
    chart_cells_free(&c);
    ch.title = "Δtransfer (+33.1 pts)";
    CHECK(render(&c, &ch, 12, 1, 1, NULL));
    EXPECTF(!strcmp(row_of(&c, 0), "Δtransfer (+"), "[%s]", row_of(&c, 0));
    /* ASCII: one '?' for each character that is not ASCII; control bytes
     * and broken UTF-8 are '?' in either mode. */
    chart_render(&ch, &c, 0);
    EXPECTF(!strcmp(row_of(&c, 0), "?transfer (+"), "[%s]", row_of(&c, 0));
    ch.title = "a\tb\xC3(\xE2\x82";
    chart_render(&ch, &c, 1);
    EXPECTF(!strcmp(row_of(&c, 0), "a?b?(??     "), "[%s]", row_of(&c, 0));
done:
    chart_cells_free(&c);
}

/* chart_row cuts at whole characters and writes "" for rows outside. */
void test_chart_row_buffer(void)
{
    double x[] = { 0, 7 }, y[] = { 7, 0 };
    chart_series s[] = { { .x = x, .y = y, .n = 2 } };
    chart ch = { .title = "ab", .series = s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 7 };
    chart_cells c;
    CHECK(render(&c, &ch, 4, 3, 1, NULL));
    char buf[CHART_ROW_BYTES(4)];
    EXPECT(chart_row(&c, 1, buf, sizeof buf) == 8 && !strcmp(buf, "⠑⢄  "));
    EXPECT(chart_row(&c, 1, buf, 6) == 3 && !strcmp(buf, "⠑"));
    EXPECT(chart_row(&c, 1, buf, 3) == 0 && !strcmp(buf, ""));
    EXPECT(chart_row(&c, 0, buf, 3) == 2 && !strcmp(buf, "ab"));
    EXPECT(chart_row(&c, 3, buf, sizeof buf) == 0 && !strcmp(buf, ""));
    EXPECT(chart_row(&c, -1, buf, sizeof buf) == 0 && !strcmp(buf, ""));
    EXPECT(chart_row(&c, 0, buf, 0) == 0);
done:
    chart_cells_free(&c);
}

/* ---- empty and degenerate ---- */

void test_chart_no_data(void)
{
    double x[] = { 0, 1 }, y[] = { NAN, INFINITY };
    chart_series s[] = { { .name = "val", .x = x, .y = y, .n = 2, .color = 5 }, { .name = "none" } };
    chart ch = { .title = "loss", .series = s, .nseries = 2, .has_ref = 1 };
    chart_cells c;
    int flags;
    CHECK(render(&c, &ch, 24, 7, 1, &flags));
    EXPECT(flags == CHART_NO_DATA);
    /* With nothing but the reference at 0, y spans -1 .. 1. */
    EXPECT(c.frame.y0 == -1 && c.frame.y1 == 1);
    EXPECTF(!strcmp(row_of(&c, 2), "   │      no data       "), "[%s]", row_of(&c, 2));
    EXPECTF(!strcmp(row_of(&c, 3), "  0┤⠁ ⠁ ⠁ ⠁ ⠁ ⠁ ⠁ ⠁ ⠁ ⠁ "), "[%s]", row_of(&c, 3));
    EXPECT(c.frame.x0 == 0 && c.frame.x1 == 1);
done:
    chart_cells_free(&c);
}

void test_chart_cells_init_errors(void)
{
    chart_cells c = { 0 };
    CHECK(chart_cells_init(&c, -1, 5) == THAW_EINVAL && c.text == NULL && c.w == 0);
    CHECK(chart_cells_init(&c, 5, CHART_MAX_SIDE + 1) == THAW_EINVAL);
    CHECK(chart_cells_init(&c, 0, 0) == THAW_OK && c.text == NULL);
    chart_cells_free(&c);
    chart_cells_free(&c);
    CHECK(chart_cells_init(&c, 3, 0) == THAW_OK && c.w == 3 && c.h == 0);
    chart_cells_free(&c);
}

/* Every size up to 14 × 12 with everything switched on: no crash (the
 * sanitizers watch), one character per cell, the plot inside the chart;
 * and what the smallest show. */
void test_chart_degenerate_sizes(void)
{
    double x[] = { 0, 1, 2, 3 }, y[] = { 0.5, NAN, -0.2, 0.3 }, ev[] = { 1.5 };
    chart_series s[] = { { .name = "transfer", .x = x, .y = y, .n = 4, .color = 4 } };
    chart ch = { .title = "Δtransfer", .series = s, .nseries = 1, .events = ev, .nevents = 1,
                 .has_ref = 1, .label_scale = 100, .label_suffix = "%", .smooth = 0.3 };
    for (int w = 0; w <= 14; w++)
        for (int h = 0; h <= 12; h++)
            for (int utf8 = 0; utf8 < 2; utf8++) {
                chart_cells c;
                CHECK(render(&c, &ch, w, h, utf8, NULL));
                int ok = 1;
                for (int i = 0; i < w * h; i++)
                    ok &= strlen(c.text[i]) >= 1 && strlen(c.text[i]) <= 3;
                const chart_frame *f = &c.frame;
                ok &= f->w == 0 || (f->x >= 0 && f->y >= 1 && f->x + f->w <= w && f->y + f->h <= h);
                ok &= (f->w > 0) == (w >= 1 && h >= 2);
                chart_cells_free(&c);
                CHECKF(ok, "%dx%d utf8 %d", w, h, utf8);
            }

    chart_cells c;
    CHECK(render(&c, &ch, 0, 0, 1, NULL));
    CHECK(c.frame.w == 0);
    chart_cells_free(&c);
    CHECK(render(&c, &ch, 1, 1, 1, NULL));
    int ok = !strcmp(row_of(&c, 0), "Δ");
    chart_cells_free(&c);
    CHECK(ok);
    CHECK(render(&c, &ch, 3, 2, 1, NULL));
    ok = !strcmp(row_of(&c, 0), "Δtr") && c.frame.axes == 0 && c.frame.h == 1;
    chart_cells_free(&c);
    CHECK(ok);
    /* Tall but too narrow for labels: a bare plot. */
    CHECK(render(&c, &ch, 6, 10, 1, NULL));
    ok = c.frame.axes == 0 && c.frame.w == 6 && c.frame.h == 9;
    chart_cells_free(&c);
    CHECK(ok);
}

/* ---- golden ---- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = malloc(TEXT_CAP);
    size_t n = s ? fread(s, 1, TEXT_CAP - 1, f) : 0;
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

/* Small charts as the screen will show them: loss with train (every 10
 * steps, smoothed) and val (every 50 steps, one evaluation missing), an
 * event; accuracy fixed to 0..100%; Δtransfer below its zero line; then the
 * loss chart again in ASCII. */
void test_chart_golden_small(void)
{
    enum { N = 61, NV = 13 };
    double step[N], train[N], acc[N], delta[N], val_step[NV], val[NV];
    for (int i = 0; i < N; i++) {
        step[i] = i * 10;
        train[i] = 2.3 * exp(-i / 15.0) + 0.15 * ((i * 7) % 5 - 2) / 2.0 + 0.2;
        acc[i] = 0.2 + 0.7 * (1 - exp(-i / 12.0));
        delta[i] = 0.12 - 0.004 * i;
    }
    for (int k = 0; k < NV; k++) {
        val_step[k] = k * 50;
        val[k] = k == 7 ? NAN : 2.0 * exp(-k / 4.0) + 0.35;
    }
    double events[] = { 250 };
    chart_series loss_s[] = { { .name = "train", .x = step, .y = train, .n = N, .color = CHART_COLOR_SERIES },
                              { .name = "val", .x = val_step, .y = val, .n = NV, .color = CHART_COLOR_SERIES + 1 } };
    chart loss = { .title = "loss", .series = loss_s, .nseries = 2, .events = events, .nevents = 1,
                   .smooth = 0.6 };
    chart_series acc_s[] = { { .name = "transfer", .x = step, .y = acc, .n = N, .color = CHART_COLOR_SERIES } };
    chart accuracy = { .title = "accuracy", .series = acc_s, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 1,
                       .label_scale = 100, .label_suffix = "%" };
    chart_series delta_s[] = { { .name = NULL, .x = step, .y = delta, .n = N, .color = CHART_COLOR_SERIES } };
    chart dt = { .title = "Δtransfer  -12.0 pts", .series = delta_s, .nseries = 1, .has_ref = 1, .ref = 0,
                 .label_scale = 100 };

    char *got = calloc(1, TEXT_CAP), *golden = NULL;
    chart_cells c = { 0 };
    EXPECT(got);
    EXPECT(chart_cells_init(&c, 30, 8) == THAW_OK);
    EXPECT(chart_render(&loss, &c, 1) == 0);
    chart_text(got, TEXT_CAP, "loss utf8", &c);
    EXPECT(chart_render(&accuracy, &c, 1) == 0);
    chart_text(got, TEXT_CAP, "accuracy utf8", &c);
    EXPECT(chart_render(&dt, &c, 1) == CHART_BELOW_REF);
    chart_text(got, TEXT_CAP, "delta utf8", &c);
    EXPECT(chart_render(&loss, &c, 0) == 0);
    chart_text(got, TEXT_CAP, "loss ascii", &c);

    const char *update = getenv("THAW_UPDATE_GOLDEN");
    if (update && !strcmp(update, "1")) {
        FILE *f = fopen(GOLDEN_CHART, "w");
        EXPECTF(f && fputs(got, f) >= 0 && fclose(f) == 0, "cannot write %s", GOLDEN_CHART);
    }
    golden = read_file(GOLDEN_CHART);
    EXPECTF(golden, "%s is missing (THAW_UPDATE_GOLDEN=1 writes it)", GOLDEN_CHART);
    EXPECTF(!strcmp(got, golden), "the charts differ from %s (THAW_UPDATE_GOLDEN=1 rewrites it):\n%s", GOLDEN_CHART,
            got);
done:
    chart_cells_free(&c);
    free(got);
    free(golden);
}
