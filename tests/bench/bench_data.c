/* bench_data.c — `make bench`: how fast a task is cut from Fashion-MNIST.
 *
 * Times task_load on the full Fashion-MNIST files (60,000 gzipped training
 * images, and the 10,000 test images the task also reads) for a few specs:
 * the first load in the process (memory fresh from the system) and the
 * median of the loads after it. The last line is one JSON object with every
 * figure. Without the files (Debian's dataset-fashion-mnist) it says so and
 * exits 0.
 *
 * usage: thaw-bench-data [--runs N] [SPEC ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "task.h"

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { MAX_RUNS = 51, MAX_SPECS = 8 };

int main(int argc, char **argv)
{
    const char *specs[MAX_SPECS] = { "fashion:classes=5-9,shots=20,val=50", "fashion" };
    int nspec = 2, runs = 7, given = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atoi(argv[++i]);
            runs = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;
        } else if (nspec < MAX_SPECS || !given) {
            nspec = given ? nspec : 0;
            given = 1;
            specs[nspec++] = argv[i];
        }
    }
    double first[MAX_SPECS], median[MAX_SPECS];
    for (int s = 0; s < nspec; s++) {
        double t[MAX_RUNS + 1];
        for (int r = 0; r <= runs; r++) {
            thaw_err err = { 0 };
            task tk;
            double t0 = thaw_now_s();
            if (task_load(&tk, specs[s], NULL, 1, &err) != THAW_OK) {
                printf("bench_data: skipped: %s\n", err.msg);
                return 0;
            }
            t[r] = thaw_now_s() - t0;
            task_free(&tk);
        }
        first[s] = t[0];
        qsort(t + 1, (size_t)runs, sizeof t[0], by_value);
        median[s] = t[1 + runs / 2];
        printf("%-40s first load %.3f s, median of the next %d: %.3f s\n", specs[s], first[s],
               runs, median[s]);
    }
    printf("{\"bench\":\"data\",\"runs\":%d", runs);
    for (int s = 0; s < nspec; s++)
        printf(",\"%s\":{\"first_s\":%.4f,\"median_s\":%.4f}", specs[s], first[s], median[s]);
    printf("}\n");
    return 0;
}
