/* winograd.h — Winograd F(2×2, 3×3) for 3×3 stride-1 padding-1 convolutions
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
 *
 * Each 2×2 block of output comes from a 4×4 tile of input; in the transformed
 * domain the 9 multiply-adds per output and input channel become 4, and the
 * work is 16 independent GEMMs, one per tile element e:
 *
 *   forward   M[e](O,T) = U[e](O,C) · V[e](C,T)      U = G·g·Gᵀ,  V = Bᵀ·d·B,  y = Aᵀ·M·A
 *   dgrad     the same, on dy, with each kernel turned 180° and O, C swapped
 *   wgrad     D[e](O,C) += Z[e](O,T) · V[e](C,T)ᵀ     Z = A·dy·Aᵀ,  dW += Gᵀ·D·G
 *
 * T counts tiles over a chunk of images, t = image·tiles + row·cols + col;
 * matrix e of a transformed tensor starts e·wino_plane() floats in.
 * A plane's tiles cover ceil(P/2) × ceil(Q/2) blocks; a last half block reads
 * zeros past the edge and its extra outputs are dropped. The wgrad identity is
 * the adjoint of the forward one, so it is exact, not an approximation.
 *
 * Used by conv2d.c only.
 */
#ifndef THAW_WINOGRAD_H
#define THAW_WINOGRAD_H

#include <stddef.h>

/* Floats between the 16 matrices of a transformed tensor with `rows` rows
 * of T tiles. Padded so the 16 matrices never start a multiple of 4 KiB
 * apart: the transforms write all 16 at once, and such strides would land
 * every write in the same cache set. */
static inline size_t wino_plane(int rows, int T)
{
    return (size_t)rows * T + 32;
}

/* Largest plane side the transforms take. */
#define WINO_MAX_SIDE 256

/* Tiles per plane for an H×W output. */
static inline int wino_tiles(int H, int W)
{
    return ((H + 1) / 2) * ((W + 1) / 2);
}

/* U(16, O, C) from w(O, C, 3, 3); with flip, U(16, C, O) from the kernels
 * turned 180° (w'(c, o) = rot180(w(o, c))): the kernel of the data gradient. */
void wino_kernels(float *U, const float *w, int O, int C, int flip);

/* Scratch the data transforms work in: wino_rows_floats() floats, from the
 * caller's arena (float-aligned is enough). */
typedef struct wino_rows wino_rows;
size_t wino_rows_floats(void);
#define WINO_HALF (WINO_MAX_SIDE / 2 + 2)

/* V(16, C, T) from n images x(n, C, H, W), padding 1; H, W <= WINO_MAX_SIDE. */
void wino_input(float *V, wino_rows *r, const float *x, int n, int C, int H, int W);

/* y(n, O, H, W) = (or += when acc) the output transform of M(16, O, T). */
void wino_output(float *y, const float *M, int n, int O, int H, int W, int acc);

/* Z(16, O, T) from the output gradient dy(n, O, H, W). */
void wino_grad_output(float *Z, wino_rows *r, const float *dy, int n, int O, int H, int W);

/* dw(O, C, 3, 3) += Gᵀ·D·G for D(16, O, C). */
void wino_kernel_grad(float *dw, const float *D, int O, int C);

#endif
