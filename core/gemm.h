/* gemm.h — the one place thaw calls BLIS's sgemm, and the thread count.
 *
 * Row-major: C(m×n) = alpha·op(A)·op(B) + beta·C, op(A) m×k, op(B) k×n. With
 * ta set, A is stored k×m (lda its row length) and used transposed; tb the
 * same for B. BLIS takes any row and column strides, so a transpose costs no
 * copy. */
#ifndef THAW_GEMM_H
#define THAW_GEMM_H

void gemm(int ta, int tb, int m, int n, int k, float alpha,
          const float *a, int lda, const float *b, int ldb,
          float beta, float *c, int ldc);

/* The number of threads BLIS may use, from one place: an explicit value
 * (from a command-line option) when > 0, else THAW_THREADS, else 1. Returns
 * the count now in force; THAW_EINVAL (negative) leaves it unchanged and is
 * returned when THAW_THREADS holds something other than a count in 1..256. */
int thaw_threads_set(int requested);
int thaw_threads(void);

/* The sgemm kernel BLIS chose for this processor ("zen3"). */
const char *gemm_kernel_name(void);

#endif
