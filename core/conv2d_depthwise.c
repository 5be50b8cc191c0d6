/* conv2d_depthwise.c — depthwise convolution (G = C: MobileNet's) as direct
 * loops: with so little work per weight, a GEMM would not pay for its
 * copies.
 *
 * G = C: output channel o reads input channel o / M alone (M = O / C, the
 * depth multiplier) through its own R×R kernel. With so little work per
 * input value, what costs is the bookkeeping of borders and rows, so the
 * loops have none: the padded input plane is split into its s×s phases
 * (s the stride), each phase a plane xs[rp][ph](Hs, Wq) of the padded
 * input's rows s·r + rp and columns s·j + ph (zero where that is padding),
 * Wq = Q + (R-1)/s columns wide. Output (p, q) then reads, for tap (kr, ks),
 * phase (kr mod s, ks mod s) at row p + kr/s, column q + ks/s: with outputs
 * laid out Wq apart too, every tap is one fixed offset and a whole plane is
 * one unit-stride loop over P·Wq values per tap, which the compiler
 * vectorises (the Wq - Q extra columns of each row are computed and
 * dropped). The input gradient is the same loop the other way (a gather
 * from dy laid out Wq apart, its extra columns zero), merged back from the
 * phases; the weight gradient is one dot product per tap over the same
 * layout, summed in DW_LANES lanes so that it vectorises too. */
#include <string.h>

#include "conv2d_impl.h"

/* One group per input channel, each with its own O/C filters, as long as
 * the direct loops' tap tables hold the kernel (larger ones, which no
 * network uses depthwise, loop over the groups' GEMMs). */
#define DW_KERNEL_MAX 16
#define DW_STRIDE_MAX 8

int conv2d_depthwise(const conv2d *c)
{
    return c->groups > 1 && c->groups == c->cin && c->k <= DW_KERNEL_MAX &&
           c->stride <= DW_STRIDE_MAX;
}

#define DW_LANES 16

typedef struct dw_geom {
    int s, R, P, Q, Wq, Hs;
    size_t sub;       /* floats of one phase plane: Hs·Wq */
    size_t n;         /* outputs of a plane as laid out: P·Wq */
    size_t margin;    /* the largest tap offset: dy's zeros ahead of its plane */
} dw_geom;

static dw_geom dw_geometry(const conv2d *c)
{
    dw_geom g = { .s = c->stride, .R = c->k, .P = c->base.out.h, .Q = c->base.out.w };
    int t = (g.R - 1) / g.s;
    g.Wq = g.Q + t;
    g.Hs = g.P + t + 1;
    g.sub = (size_t)g.Hs * g.Wq;
    g.n = (size_t)g.P * g.Wq;
    g.margin = (size_t)t * g.Wq + (size_t)t;
    return g;
}

/* Scratch: the input's phases, the input gradient's, and dy (or y) laid
 * out Wq apart with its margin; each buffer DW_LANES floats longer, for the
 * lanes' last reads. */
static size_t dw_planes(const dw_geom *g)
{
    return (size_t)g->s * g->s * g->sub + DW_LANES;
}

static size_t dw_scratch(const dw_geom *g)
{
    return 2 * dw_planes(g) + g->margin + g->sub + DW_LANES;
}

/* Where tap (kr, ks) reads in the phases, from a plane's first output. */
static size_t dw_off(const dw_geom *g, int kr, int ks)
{
    return (size_t)((kr % g->s) * g->s + ks % g->s) * g->sub + (size_t)(kr / g->s) * g->Wq +
           (size_t)(ks / g->s);
}

/* The columns j of a phase row whose input columns s·j + ph - pl lie inside
 * [0, W) for every phase ph: [*ja, *jb). */
static void dw_inner(int *ja, int *jb, int W, const dw_geom *g, int pl)
{
    int s = g->s;
    *ja = (pl + s - 1) / s;
    *jb = W + pl - s >= 0 ? (W + pl - s) / s + 1 : 0;
    if (*jb > g->Wq)
        *jb = g->Wq;
    if (*ja > *jb)
        *ja = *jb;
}

/* x row xr's column w, zero outside [0, W). */
static float dw_at(const float *xr, int W, int w)
{
    return w >= 0 && w < W ? xr[w] : 0.0f;
}

/* xs(s, s, Hs, Wq) = the phases of x(H, W) padded by pt rows and pl columns:
 * each padded row is dealt out to its s column phases at once, so that at
 * stride 2 the loads are contiguous pairs. */
static void dw_split(float *restrict xs, const float *restrict x, int H, int W, const dw_geom *g,
                     int pt, int pl)
{
    int s = g->s, ja, jb;
    size_t sub = g->sub;
    dw_inner(&ja, &jb, W, g, pl);
    for (int rp = 0; rp < s; rp++)
        for (int r = 0; r < g->Hs; r++) {
            int h = r * s + rp - pt;
            float *restrict d = xs + (size_t)rp * s * sub + (size_t)r * g->Wq;   /* phase (rp, 0) */
            if (h < 0 || h >= H) {
                for (int ph = 0; ph < s; ph++)
                    memset(d + ph * sub, 0, (size_t)g->Wq * sizeof(float));
                continue;
            }
            const float *restrict xr = x + (size_t)h * W;
            for (int j = 0; j < ja; j++)
                for (int ph = 0; ph < s; ph++)
                    d[ph * sub + j] = dw_at(xr, W, s * j + ph - pl);
            if (s == 1) {
                memcpy(d + ja, xr + ja - pl, (size_t)(jb - ja) * sizeof(float));
            } else if (s == 2) {
                float *restrict ev = d, *restrict od = d + sub;
                const float *restrict xp = xr - pl + 2 * ja;
                for (int j = 0; j < jb - ja; j++) {
                    ev[ja + j] = xp[2 * j];
                    od[ja + j] = xp[2 * j + 1];
                }
            } else {
                for (int j = ja; j < jb; j++)
                    for (int ph = 0; ph < s; ph++)
                        d[ph * sub + j] = xr[s * j + ph - pl];
            }
            for (int j = jb; j < g->Wq; j++)
                for (int ph = 0; ph < s; ph++)
                    d[ph * sub + j] = dw_at(xr, W, s * j + ph - pl);
        }
}

/* dx(H, W) += the plane whose phases dxs holds (dw_split's adjoint). */
static void dw_merge(float *restrict dx, const float *restrict dxs, int H, int W, const dw_geom *g,
                     int pt, int pl)
{
    int s = g->s, ja, jb;
    size_t sub = g->sub;
    dw_inner(&ja, &jb, W, g, pl);
    for (int rp = 0; rp < s; rp++)
        for (int r = 0; r < g->Hs; r++) {
            int h = r * s + rp - pt;
            if (h < 0 || h >= H)
                continue;
            const float *restrict src = dxs + (size_t)rp * s * sub + (size_t)r * g->Wq;
            float *restrict dr = dx + (size_t)h * W;
            for (int j = 0; j < g->Wq; j++) {
                if (j == ja)
                    j = jb;       /* the inside columns come below */
                for (int ph = 0; ph < s && j < g->Wq; ph++) {
                    int w = s * j + ph - pl;
                    if (w >= 0 && w < W)
                        dr[w] += src[ph * sub + j];
                }
            }
            float *restrict dp = dr + s * ja - pl;
            if (s == 1) {
                for (int j = 0; j < jb - ja; j++)
                    dp[j] += src[ja + j];
            } else if (s == 2) {
                for (int j = 0; j < jb - ja; j++) {
                    dp[2 * j] += src[ja + j];
                    dp[2 * j + 1] += src[sub + ja + j];
                }
            } else {
                for (int j = 0; j < jb - ja; j++)
                    for (int ph = 0; ph < s; ph++)
                        dp[s * j + ph] += src[ph * sub + ja + j];
            }
        }
}

/* out[i] (+)= Σ_t w[t]·x[off[t] + i] for i < n, adding to out when acc. The
 * 3×3 kernel's nine taps go in one pass, so each output is written once;
 * other kernels take a pass per tap. */
static void dw_taps(float *restrict out, const float *restrict x, const size_t *off, const float *w,
                    int nt, size_t n, int acc)
{
    if (nt == 9) {
        const float *restrict x0 = x + off[0], *restrict x1 = x + off[1], *restrict x2 = x + off[2];
        const float *restrict x3 = x + off[3], *restrict x4 = x + off[4], *restrict x5 = x + off[5];
        const float *restrict x6 = x + off[6], *restrict x7 = x + off[7], *restrict x8 = x + off[8];
        float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
              w7 = w[7], w8 = w[8];
        for (size_t i = 0; i < n; i++) {
            float a = acc ? out[i] : 0.0f;
            a += w0 * x0[i] + w1 * x1[i] + w2 * x2[i] + w3 * x3[i] + w4 * x4[i] + w5 * x5[i] +
                 w6 * x6[i] + w7 * x7[i] + w8 * x8[i];
            out[i] = a;
        }
        return;
    }
    if (!acc)
        memset(out, 0, n * sizeof(float));
    for (int t = 0; t < nt; t++) {
        const float *restrict xt = x + off[t];
        float wt = w[t];
        for (size_t i = 0; i < n; i++)
            out[i] += wt * xt[i];
    }
}

/* Σ_i a[i]·b[i] for i < n, rounded up to whole lanes (both read past n,
 * and a is zero there). */
static float dw_dot(const float *restrict a, const float *restrict b, size_t n)
{
    float lane[DW_LANES] = { 0 };
    for (size_t i = 0; i < n; i += DW_LANES)
        for (int k = 0; k < DW_LANES; k++)
            lane[k] += a[i + k] * b[i + k];
    float s = 0.0f;
    for (int k = 0; k < DW_LANES; k++)
        s += lane[k];
    return s;
}

/* Σ a[i] for i < n, in lanes as dw_dot. */
static float dw_sum(const float *restrict a, size_t n)
{
    float lane[DW_LANES] = { 0 };
    for (size_t i = 0; i < n; i += DW_LANES)
        for (int k = 0; k < DW_LANES; k++)
            lane[k] += a[i + k];
    float s = 0.0f;
    for (int k = 0; k < DW_LANES; k++)
        s += lane[k];
    return s;
}

/* Images per task: the planes of one image are work enough. */
int dw_chunk_images(int batch)
{
    return conv_chunk_images(batch, batch);
}

size_t dw_scratch_floats(const conv2d *c)
{
    dw_geom g = dw_geometry(c);
    return dw_scratch(&g);
}

/* Each task's partial weight and bias gradients. */
size_t dw_shared_floats(const conv2d *c, int batch)
{
    int tasks = conv_tasks_max(batch, batch);
    return (size_t)tasks * ((size_t)c->cout * c->k * c->k + (size_t)c->cout);
}

static void dw_forward_task(void *ctx, int task, int worker)
{
    const conv_job *j = ctx;
    conv2d *c = j->c;
    layer *l = &c->base;
    model *m = j->m;
    dw_geom g = dw_geometry(c);
    int C = c->cin, O = c->cout, M = O / C, H = l->in.h, W = l->in.w, R = c->k;
    size_t HW = (size_t)H * W, PQ = (size_t)g.P * g.Q;
    const float *w = j->w, *bias = j->bias;                           /* (O, 1, R, R), (O) */
    float *xs = model_scratch(m, worker);                             /* (s, s, Hs, Wq) */
    float *yw = xs + dw_planes(&g);                                   /* (P, Wq) */
    size_t off[DW_KERNEL_MAX * DW_KERNEL_MAX];
    for (int t = 0; t < R * R; t++)
        off[t] = dw_off(&g, t / R, t % R);
    int b1 = (task + 1) * j->nb < j->batch ? (task + 1) * j->nb : j->batch;
    for (int b = task * j->nb; b < b1; b++)
        for (int ch = 0; ch < C; ch++) {
            dw_split(xs, j->x + ((size_t)b * C + ch) * HW, H, W, &g, c->pt, c->pl);
            for (int o = ch * M; o < (ch + 1) * M; o++) {
                const float *wo = w + (size_t)o * R * R;
                if (R == 3)
                    dw_taps(yw, xs, off, wo, 9, g.n, 0);
                else
                    for (int kr = 0; kr < R; kr++)
                        dw_taps(yw, xs, off + kr * R, wo + kr * R, R, g.n, kr > 0);
                float *yo = j->y + ((size_t)b * O + o) * PQ, bo = bias ? bias[o] : 0.0f;
                for (int p = 0; p < g.P; p++)
                    for (int q = 0; q < g.Q; q++)
                        yo[(size_t)p * g.Q + q] = yw[(size_t)p * g.Wq + q] + bo;
            }
        }
}

void conv2d_forward_depthwise(conv2d *c, model *m, const float *x, const float *w,
                              const float *bias, float *y, int batch)
{
    conv_job j = { .c = c, .m = m, .x = x, .w = w, .bias = bias, .y = y, .batch = batch,
                   .nb = dw_chunk_images(batch) };
    par_run(m->pool, conv_tasks(batch, j.nb), dw_forward_task, &j);
}

static void dw_backward_task(void *ctx, int task, int worker)
{
    const conv_job *j = ctx;
    conv2d *c = j->c;
    layer *l = &c->base;
    model *m = j->m;
    dw_geom g = dw_geometry(c);
    int C = c->cin, O = c->cout, M = O / C, H = l->in.h, W = l->in.w, R = c->k, s = g.s;
    size_t HW = (size_t)H * W, PQ = (size_t)g.P * g.Q, planes = dw_planes(&g);
    size_t nw = (size_t)O * R * R;
    int tasks = conv_tasks(j->batch, j->nb);
    float *dw = j->want_dw ? m->shared + (size_t)task * nw : NULL;
    float *db = j->want_db ? m->shared + (size_t)tasks * nw + (size_t)task * O : NULL;
    float *dx = j->dx;
    const float *w = model_param(m, l->slice0);
    float *xs = model_scratch(m, worker);            /* (s, s, Hs, Wq): x's phases */
    float *dxs = xs + planes;                        /* the same for dx */
    float *dyz = dxs + planes;                       /* margin zeros, then dy (P, Wq), zeros */
    float *dy0 = dyz + g.margin;
    memset(xs + planes - DW_LANES, 0, DW_LANES * sizeof(float));
    memset(dyz, 0, (g.margin + g.sub + DW_LANES) * sizeof(float));
    if (dw)
        memset(dw, 0, nw * sizeof(float));
    if (db)
        memset(db, 0, (size_t)O * sizeof(float));
    /* Where each tap reads x's phases; and for dx, the taps phase by phase
     * (those of phase f are tap[first[f] .. first[f + 1])) and where each
     * gathers from dy. */
    enum { TAPS = DW_KERNEL_MAX * DW_KERNEL_MAX };
    size_t off[TAPS], goff[TAPS];
    int tap[TAPS], first[DW_STRIDE_MAX * DW_STRIDE_MAX + 1], nt = 0;
    float wt[TAPS];
    for (int t = 0; t < R * R; t++)
        off[t] = dw_off(&g, t / R, t % R);
    for (int f = 0; f < s * s; f++) {
        first[f] = nt;
        for (int kr = f / s; kr < R; kr += s)
            for (int ks = f % s; ks < R; ks += s) {
                goff[nt] = g.margin - (size_t)(kr / s) * g.Wq - (size_t)(ks / s);
                tap[nt++] = kr * R + ks;
            }
    }
    first[s * s] = nt;
    int b1 = (task + 1) * j->nb < j->batch ? (task + 1) * j->nb : j->batch;
    for (int b = task * j->nb; b < b1; b++)
        for (int ch = 0; ch < C; ch++) {
            if (dw)
                dw_split(xs, j->x + ((size_t)b * C + ch) * HW, H, W, &g, c->pt, c->pl);
            for (int o = ch * M; o < (ch + 1) * M; o++) {
                const float *dyo = l->dy + ((size_t)b * O + o) * PQ;
                for (int p = 0; p < g.P; p++)
                    memcpy(dy0 + (size_t)p * g.Wq, dyo + (size_t)p * g.Q, (size_t)g.Q * sizeof(float));
                if (db)
                    db[o] += dw_sum(dy0, g.n);
                if (dw)
                    for (int t = 0; t < R * R; t++)
                        dw[(size_t)o * R * R + t] += dw_dot(dy0, xs + off[t], g.n);
                if (!dx)
                    continue;
                /* Each phase of dx gathers from dy through the taps that read it. */
                const float *wo = w + (size_t)o * R * R;
                for (int i = 0; i < nt; i++)
                    wt[i] = wo[tap[i]];
                for (int f = 0; f < s * s; f++) {
                    float *plane = dxs + (size_t)f * g.sub;
                    int k = first[f], n = first[f + 1] - k;
                    if (n)
                        dw_taps(plane, dyz, goff + k, wt + k, n, g.sub, o > ch * M);
                    else if (o == ch * M)
                        memset(plane, 0, g.sub * sizeof(float));
                }
            }
            if (!dx)
                continue;
            float *dxc = dx + ((size_t)b * C + ch) * HW;
            if (!j->acc)
                memset(dxc, 0, HW * sizeof(float));
            dw_merge(dxc, dxs, H, W, &g, c->pt, c->pl);
        }
}

void conv2d_backward_depthwise(conv2d *c, model *m, const float *x, float *dx, int acc,
                               float *dw, float *db, int batch)
{
    conv_job j = { .c = c, .m = m, .x = x, .dx = dx, .acc = acc, .want_dw = dw != NULL,
                   .want_db = db != NULL, .batch = batch, .nb = dw_chunk_images(batch) };
    int tasks = conv_tasks(batch, j.nb);
    size_t nw = (size_t)c->cout * c->k * c->k;
    par_run(m->pool, tasks, dw_backward_task, &j);
    if (dw)
        par_sum(m->pool, dw, m->shared, nw, tasks);
    if (db)
        par_sum(m->pool, db, m->shared + (size_t)tasks * nw, (size_t)c->cout, tasks);
}
