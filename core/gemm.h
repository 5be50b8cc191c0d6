/* gemm.h — the one place thaw calls BLIS's sgemm.
 *
 * Row-major: C(m×n) = alpha·op(A)·op(B) + beta·C, op(A) m×k, op(B) k×n. With
 * ta set, A is stored k×m (lda its row length) and used transposed; tb the
 * same for B. BLIS takes any row and column strides, so a transpose costs no
 * copy. BLIS itself runs single-threaded (thaw links Debian's serial
 * build): thaw's own workers (par.h) call it side by side. */
#ifndef THAW_GEMM_H
#define THAW_GEMM_H

void gemm(int ta, int tb, int m, int n, int k, float alpha,
          const float *a, int lda, const float *b, int ldb,
          float beta, float *c, int ldc);

/* The sgemm kernel BLIS chose for this processor ("zen3"). */
const char *gemm_kernel_name(void);

#endif
