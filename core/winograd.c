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

/* Copies plane src(H, W) into buf with a zero border: buf row r, column c
 * holds src(r - 1, c - 1); rows and columns reach 2·ceil(H/2) + 2 so the
 * last half tile reads zeros. Returns the buffer's row length. */
static int wino_pad_plane(float *buf, const float *src, int H, int W)
{
    int rows = 2 * ((H + 1) / 2) + 2, cols = 2 * ((W + 1) / 2) + 2;
    memset(buf, 0, (size_t)rows * cols * sizeof(float));
    for (int h = 0; h < H; h++)
        memcpy(buf + (size_t)(h + 1) * cols + 1, src + (size_t)h * W, (size_t)W * sizeof(float));
    return cols;
}

void wino_input(float *V, const float *x, int n, int C, int H, int W)
{
    int TH = (H + 1) / 2, TW = (W + 1) / 2, TI = TH * TW;
    size_t T = (size_t)n * TI, plane = wino_plane(C, (int)T);
    static _Thread_local float buf[(WINO_MAX_SIDE + 3) * (WINO_MAX_SIDE + 3)];
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            int ld = wino_pad_plane(buf, x + ((size_t)i * C + c) * H * W, H, W);
            float *vc = V + (size_t)c * T + (size_t)i * TI;
            for (int th = 0; th < TH; th++)
                for (int tw = 0; tw < TW; tw++) {
                    const float *d = buf + (size_t)2 * th * ld + 2 * tw;
                    float t[4][4];   /* Bᵀ·d, Bᵀ = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]] */
                    for (int b = 0; b < 4; b++) {
                        float d0 = d[b], d1 = d[ld + b], d2 = d[2 * ld + b], d3 = d[3 * ld + b];
                        t[0][b] = d0 - d2;
                        t[1][b] = d1 + d2;
                        t[2][b] = d2 - d1;
                        t[3][b] = d1 - d3;
                    }
                    float *v = vc + th * TW + tw;
                    for (int a = 0; a < 4; a++) {   /* (Bᵀ·d)·B */
                        v[(size_t)(a * 4 + 0) * plane] = t[a][0] - t[a][2];
                        v[(size_t)(a * 4 + 1) * plane] = t[a][1] + t[a][2];
                        v[(size_t)(a * 4 + 2) * plane] = t[a][2] - t[a][1];
                        v[(size_t)(a * 4 + 3) * plane] = t[a][1] - t[a][3];
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
            for (int th = 0; th < TH; th++)
                for (int tw = 0; tw < TW; tw++) {
                    const float *mt = mo + th * TW + tw;
                    float m[16];
                    for (int e = 0; e < 16; e++)
                        m[e] = mt[(size_t)e * plane];
                    float t[2][4];   /* Aᵀ·M, Aᵀ = [[1,1,1,0],[0,1,-1,-1]] */
                    for (int b = 0; b < 4; b++) {
                        t[0][b] = m[b] + m[4 + b] + m[8 + b];
                        t[1][b] = m[4 + b] - m[8 + b] - m[12 + b];
                    }
                    for (int a = 0; a < 2; a++) {
                        int h = 2 * th + a;
                        if (h >= H)
                            break;
                        float out[2] = { t[a][0] + t[a][1] + t[a][2], t[a][1] - t[a][2] - t[a][3] };
                        for (int b = 0; b < 2; b++) {
                            int w = 2 * tw + b;
                            if (w >= W)
                                break;
                            yo[h * W + w] = acc ? yo[h * W + w] + out[b] : out[b];
                        }
                    }
                }
        }
}

void wino_grad_output(float *Z, const float *dy, int n, int O, int H, int W)
{
    int TH = (H + 1) / 2, TW = (W + 1) / 2, TI = TH * TW;
    size_t T = (size_t)n * TI, plane = wino_plane(O, (int)T);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < O; o++) {
            const float *dyo = dy + ((size_t)i * O + o) * H * W;
            float *zo = Z + (size_t)o * T + (size_t)i * TI;
            for (int th = 0; th < TH; th++)
                for (int tw = 0; tw < TW; tw++) {
                    float g[2][2];
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++) {
                            int h = 2 * th + a, w = 2 * tw + b;
                            g[a][b] = h < H && w < W ? dyo[h * W + w] : 0.0f;
                        }
                    float t[4][2];   /* A·dy, A = [[1,0],[1,1],[1,-1],[0,-1]] */
                    for (int b = 0; b < 2; b++) {
                        t[0][b] = g[0][b];
                        t[1][b] = g[0][b] + g[1][b];
                        t[2][b] = g[0][b] - g[1][b];
                        t[3][b] = -g[1][b];
                    }
                    float *z = zo + th * TW + tw;
                    for (int a = 0; a < 4; a++) {   /* (A·dy)·Aᵀ */
                        z[(size_t)(a * 4 + 0) * plane] = t[a][0];
                        z[(size_t)(a * 4 + 1) * plane] = t[a][0] + t[a][1];
                        z[(size_t)(a * 4 + 2) * plane] = t[a][0] - t[a][1];
                        z[(size_t)(a * 4 + 3) * plane] = -t[a][1];
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
