#include "gemm.h"

#include <blis.h>
#include <stdlib.h>

#include "status.h"

static int threads_in_force = 1;

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

int thaw_threads_set(int requested)
{
    int n = requested;
    if (n <= 0) {
        const char *env = getenv("THAW_THREADS");
        n = 1;
        if (env && *env) {
            char *end;
            long v = strtol(env, &end, 10);
            if (*end || v < 1 || v > 256)
                return -THAW_EINVAL;
            n = (int)v;
        }
    }
    threads_in_force = n;
    bli_thread_set_num_threads(n);
    return n;
}

int thaw_threads(void)
{
    return threads_in_force;
}

const char *gemm_kernel_name(void)
{
    return bli_arch_string(bli_arch_query_id());
}
