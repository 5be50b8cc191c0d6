#include "gemm.h"

#include <blis.h>

void gemm(int ta, int tb, int m, int n, int k, float alpha,
          const float *a, int lda, const float *b, int ldb,
          float beta, float *c, int ldc)
{
    /* BLIS's typed API takes non-const pointers but does not write A or B. */
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha,
              (float *)a, ta ? 1 : lda, ta ? lda : 1,
              (float *)b, tb ? 1 : ldb, tb ? ldb : 1,
              &beta, c, ldc, 1);
}

const char *gemm_kernel_name(void)
{
    return bli_arch_string(bli_arch_query_id());
}
