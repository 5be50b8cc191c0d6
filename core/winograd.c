#include "winograd.h"

#include <string.h>

/* tmp = Gᵀ-style row transform of a 3-row kernel: G·g for G =
 * [[1,0,0],[½,½,½],[½,-½,½],[0,0,1]], as four rows. */
static void g_rows(float out[4], float a, float b, float c)
{
    out[0] = a;
    out[1] = 0.5f * (a + b + c);
    out[2] = 0.5f * (a - b + c);
    out[3] = c;
}

void wino_kernels(float *U, const float *w, int O, int C, int flip)
{
    size_t plane = (size_t)O * C;
    for (int o = 0; o < O; o++)
        for (int c = 0; c < C; c++) {
            const float *g = w + ((size_t)o * C + c) * 9;
            float k[9];
            for (int i = 0; i < 9; i++)
                k[i] = flip ? g[8 - i] : g[i];
            float t[4][3], u[4][4];
            for (int j = 0; j < 3; j++) {       /* G·g, column by column */
                float col[4];
                g_rows(col, k[j], k[3 + j], k[6 + j]);
                for (int i = 0; i < 4; i++)
                    t[i][j] = col[i];
            }
            for (int i = 0; i < 4; i++)         /* (G·g)·Gᵀ, row by row */
                g_rows(u[i], t[i][0], t[i][1], t[i][2]);
            size_t at = flip ? (size_t)c * O + o : (size_t)o * C + c;
            for (int e = 0; e < 16; e++)
                U[e * plane + at] = u[e / 4][e % 4];
        }
}

/* The transforms work a row of tiles at a time on a plane split into its
 * even and odd columns, so that every step is a loop over tile columns with
 * unit stride (which the compiler vectorises). For a plane with a one-pixel
 * zero border, padded column j = 2k holds even[k], j = 2k + 1 holds odd[k]. */
struct wino_rows {
    float even[WINO_MAX_SIDE + 4][WINO_HALF];
    float odd[WINO_MAX_SIDE + 4][WINO_HALF];
};

size_t wino_rows_floats(void)
{
    return (sizeof(wino_rows) + sizeof(float) - 1) / sizeof(float);
}

/* Splits plane src(H, W) with a zero border of `border` pixels on the top and
 * left (and zeros past the bottom and right) into rows 0 .. 2·TH + 1 of r. */
static void wino_split(wino_rows *r, const float *src, int H, int W, int border, int TH, int TW)
{
    int rows = 2 * TH + 2;
    for (int i = 0; i < rows; i++) {
        int h = i - border;
        float *restrict ev = r->even[i], *restrict od = r->odd[i];
        if (h < 0 || h >= H) {
            memset(ev, 0, (size_t)(TW + 1) * sizeof(float));
            memset(od, 0, (size_t)(TW + 1) * sizeof(float));
            continue;
        }
        const float *row = src + (size_t)h * W;
        for (int k = 0; k <= TW; k++) {
            int w0 = 2 * k - border, w1 = w0 + 1;
            ev[k] = w0 >= 0 && w0 < W ? row[w0] : 0.0f;
            od[k] = w1 >= 0 && w1 < W ? row[w1] : 0.0f;
        }
    }
}

void wino_input(float *V, wino_rows *r, const float *x, int n, int C, int H, int W)
{
    int TH = (H + 1) / 2, TW = (W + 1) / 2, TI = TH * TW;
    size_t T = (size_t)n * TI, plane = wino_plane(C, (int)T);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            wino_split(r, x + ((size_t)i * C + c) * H * W, H, W, 1, TH, TW);
            float *vc = V + (size_t)c * T + (size_t)i * TI;
            for (int th = 0; th < TH; th++) {
                /* Bᵀ·d down the four rows, Bᵀ = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]],
                 * for even and odd columns alike. */
                float te[4][WINO_HALF], to[4][WINO_HALF];
                const float *e0 = r->even[2 * th], *e1 = r->even[2 * th + 1];
                const float *e2 = r->even[2 * th + 2], *e3 = r->even[2 * th + 3];
                const float *o0 = r->odd[2 * th], *o1 = r->odd[2 * th + 1];
                const float *o2 = r->odd[2 * th + 2], *o3 = r->odd[2 * th + 3];
                for (int k = 0; k <= TW; k++) {
                    te[0][k] = e0[k] - e2[k];
                    te[1][k] = e1[k] + e2[k];
                    te[2][k] = e2[k] - e1[k];
                    te[3][k] = e1[k] - e3[k];
                    to[0][k] = o0[k] - o2[k];
                    to[1][k] = o1[k] + o2[k];
                    to[2][k] = o2[k] - o1[k];
                    to[3][k] = o1[k] - o3[k];
                }
                /* ·B across each tile's columns 2tw .. 2tw + 3. */
                for (int a = 0; a < 4; a++) {
                    float *restrict v0 = vc + (size_t)(4 * a + 0) * plane + th * TW;
                    float *restrict v1 = vc + (size_t)(4 * a + 1) * plane + th * TW;
                    float *restrict v2 = vc + (size_t)(4 * a + 2) * plane + th * TW;
                    float *restrict v3 = vc + (size_t)(4 * a + 3) * plane + th * TW;
                    const float *ev = te[a], *od = to[a];
                    for (int tw = 0; tw < TW; tw++) {
                        v0[tw] = ev[tw] - ev[tw + 1];
                        v1[tw] = od[tw] + ev[tw + 1];
                        v2[tw] = ev[tw + 1] - od[tw];
                        v3[tw] = od[tw] - od[tw + 1];
                    }
                }
            }
        }
}

void wino_output(float *y, const float *M, int n, int O, int H, int W, int acc)
{
    int TH = (H + 1) / 2, TW = (W + 1) / 2, TI = TH * TW;
    size_t T = (size_t)n * TI, plane = wino_plane(O, (int)T);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < O; o++) {
            float *yo = y + ((size_t)i * O + o) * H * W;
            const float *mo = M + (size_t)o * T + (size_t)i * TI;
            for (int th = 0; th < TH; th++) {
                /* Aᵀ·M down each tile, Aᵀ = [[1,1,1,0],[0,1,-1,-1]], then ·A across:
                 * out[a][0] = t0 + t1 + t2, out[a][1] = t1 - t2 - t3. */
                float out[2][2][WINO_HALF];
                const float *m[16];
                for (int e = 0; e < 16; e++)
                    m[e] = mo + (size_t)e * plane + th * TW;
                for (int tw = 0; tw < TW; tw++) {
                    float t[2][4];
                    for (int b = 0; b < 4; b++) {
                        t[0][b] = m[b][tw] + m[4 + b][tw] + m[8 + b][tw];
                        t[1][b] = m[4 + b][tw] - m[8 + b][tw] - m[12 + b][tw];
                    }
                    for (int a = 0; a < 2; a++) {
                        out[a][0][tw] = t[a][0] + t[a][1] + t[a][2];
                        out[a][1][tw] = t[a][1] - t[a][2] - t[a][3];
                    }
                }
                for (int a = 0; a < 2 && 2 * th + a < H; a++) {
                    float *restrict row = yo + (size_t)(2 * th + a) * W;
                    const float *ev = out[a][0], *od = out[a][1];
                    int full = W / 2;
                    if (acc) {
                        for (int tw = 0; tw < full; tw++) {
                            row[2 * tw] += ev[tw];
                            row[2 * tw + 1] += od[tw];
                        }
                        if (W & 1)
                            row[W - 1] += ev[full];
                    } else {
                        for (int tw = 0; tw < full; tw++) {
                            row[2 * tw] = ev[tw];
                            row[2 * tw + 1] = od[tw];
                        }
                        if (W & 1)
                            row[W - 1] = ev[full];
                    }
                }
            }
        }
}

void wino_grad_output(float *Z, wino_rows *r, const float *dy, int n, int O, int H, int W)
{
    int TH = (H + 1) / 2, TW = (W + 1) / 2, TI = TH * TW;
    size_t T = (size_t)n * TI, plane = wino_plane(O, (int)T);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < O; o++) {
            wino_split(r, dy + ((size_t)i * O + o) * H * W, H, W, 0, TH, TW);
            float *zo = Z + (size_t)o * T + (size_t)i * TI;
            for (int th = 0; th < TH; th++) {
                /* A·g·Aᵀ for each 2×2 block g, A = [[1,0],[1,1],[1,-1],[0,-1]]:
                 * down: t = (g0, g0 + g1, g0 - g1, -g1); across the same. */
                const float *g00 = r->even[2 * th], *g01 = r->odd[2 * th];
                const float *g10 = r->even[2 * th + 1], *g11 = r->odd[2 * th + 1];
                float *z[16];
                for (int e = 0; e < 16; e++)
                    z[e] = zo + (size_t)e * plane + th * TW;
                for (int tw = 0; tw < TW; tw++) {
                    float t[4][2] = {
                        { g00[tw], g01[tw] },
                        { g00[tw] + g10[tw], g01[tw] + g11[tw] },
                        { g00[tw] - g10[tw], g01[tw] - g11[tw] },
                        { -g10[tw], -g11[tw] },
                    };
                    for (int a = 0; a < 4; a++) {
                        z[4 * a + 0][tw] = t[a][0];
                        z[4 * a + 1][tw] = t[a][0] + t[a][1];
                        z[4 * a + 2][tw] = t[a][0] - t[a][1];
                        z[4 * a + 3][tw] = -t[a][1];
                    }
                }
            }
        }
}

void wino_kernel_grad(float *dw, const float *D, int O, int C)
{
    size_t plane = (size_t)O * C;
    for (int o = 0; o < O; o++)
        for (int c = 0; c < C; c++) {
            size_t at = (size_t)o * C + c;
            float d[4][4];
            for (int e = 0; e < 16; e++)
                d[e / 4][e % 4] = D[e * plane + at];
            float t[3][4];   /* Gᵀ·D, Gᵀ = [[1,½,½,0],[0,½,-½,0],[0,½,½,1]] */
            for (int b = 0; b < 4; b++) {
                t[0][b] = d[0][b] + 0.5f * (d[1][b] + d[2][b]);
                t[1][b] = 0.5f * (d[1][b] - d[2][b]);
                t[2][b] = 0.5f * (d[1][b] + d[2][b]) + d[3][b];
            }
            float *g = dw + at * 9;
            for (int a = 0; a < 3; a++) {   /* (Gᵀ·D)·G */
                g[a * 3 + 0] += t[a][0] + 0.5f * (t[a][1] + t[a][2]);
                g[a * 3 + 1] += 0.5f * (t[a][1] - t[a][2]);
                g[a * 3 + 2] += 0.5f * (t[a][1] + t[a][2]) + t[a][3];
            }
        }
}
