/* Data-set tests (datasets/). */
