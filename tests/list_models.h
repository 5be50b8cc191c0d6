/* Model-file tests (models/). */
