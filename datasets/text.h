/* text.h — text for thaw's models: the one tokeniser, a vocabulary, and a
 * document encoded as the token ids an embedding reads.
 *
 *     txt_vocab v;
 *     if (txt_vocab_build(&v, docs, lens, ndoc, 20000, 1, &err)) ... err.msg ...
 *     float ids[64];
 *     int n = txt_encode(&v, text, strlen(text), ids, 64);   // n tokens, first 64 kept
 *     txt_vocab_free(&v);
 *
 * Tokenisation (txt_tokenize), in the manner of the tokeniser GloVe's
 * vectors were trained on (the Stanford/Penn Treebank rules), lower case:
 *   - The text is UTF-8; a malformed byte separates tokens, like a space.
 *     Letters of the Latin, Greek and Cyrillic scripts are lower-cased;
 *     other scripts are kept as they are.
 *   - Spaces (ASCII, no-break, the Unicode spaces) and control characters
 *     separate tokens. A word is a run of letters, digits and any other
 *     character that is not punctuation (so "naïve" and "東京" are words).
 *   - Inside a word: a hyphen between two word characters joins
 *     ("well-known"), and '.', ',' and ':' between two digits join
 *     ("3.14", "1,000", "10:30").
 *   - Contractions split as GloVe's vocabulary has them: "don't" -> "do"
 *     "n't", "it's" -> "it" "'s", and so "'re", "'ve", "'ll", "'d", "'m";
 *     another apostrophe inside a word stays ("o'neil"); one at either end
 *     is a token of its own. Typographic quotes read as ASCII ones (’ as ',
 *     “ and ” as "), a dash (– —) as "--", an ellipsis (…) as "...".
 *   - Every other punctuation character is a token of its own, except that
 *     a run of dots is one token ("...") and a run of hyphens is "--".
 *   - A URL (from "http://", "https://", "ftp://" or "www." to the next
 *     space, less punctuation that ends a sentence or closes a bracket) is
 *     one token.
 *   - A token of more than TXT_TOKEN_MAX bytes is no word of any vocabulary:
 *     it is passed on with its true length (its first TXT_TOKEN_MAX bytes
 *     in the buffer) and encodes as the unknown word.
 *
 * Ids: 0 is padding (TXT_PAD, "<pad>"), 1 the unknown word (TXT_UNK,
 * "<unk>"), then the vocabulary's words. txt_encode keeps the first `len`
 * tokens (truncation at the end) and pads after them with 0, the embedding's
 * padding id, as floats (exact: ids are below 2^24).
 */
#ifndef THAW_TEXT_H
#define THAW_TEXT_H

#include <stddef.h>

#include "status.h"

enum { TXT_PAD = 0, TXT_UNK = 1, TXT_SPECIAL = 2 };
#define TXT_TOKEN_MAX 64
#define TXT_VOCAB_MAX (1 << 24)   /* ids exact in a float */
#define TXT_LEN_MAX 1024          /* tokens a model reads: its input width */

/* Receives one token: tok holds min(len, TXT_TOKEN_MAX) bytes (not
 * NUL-terminated), len is the token's length. Returns non-zero to stop. */
typedef int (*txt_emit)(void *ctx, const char *tok, size_t len);

/* Splits s (n bytes) into tokens by the rules above, in order. Returns the
 * number of tokens emitted. */
size_t txt_tokenize(const char *s, size_t n, txt_emit emit, void *ctx);

/* A vocabulary: word i has id i (words 0 and 1 are "<pad>" and "<unk>"). */
typedef struct txt_vocab {
    int n;
    char **word;          /* (n) NUL-terminated, owned */
    int *slot;            /* open addressing: id + 1, or 0 for empty */
    size_t cap;           /* slots, a power of two, at least 2·n */
} txt_vocab;

/* An empty vocabulary holding "<pad>" and "<unk>". THAW_ENOMEM. */
int txt_vocab_init(txt_vocab *v, thaw_err *err);

/* Adds word w (len bytes, 1..TXT_TOKEN_MAX, no NUL or line break) as the
 * next id, or finds it; the id is in *id when id is not NULL. THAW_EINVAL
 * for a word thaw cannot hold or past TXT_VOCAB_MAX words, THAW_ENOMEM. */
int txt_vocab_add(txt_vocab *v, const char *w, size_t len, int *id, thaw_err *err);

/* The id of word w (len bytes), or TXT_UNK. */
int txt_vocab_find(const txt_vocab *v, const char *w, size_t len);

/* The vocabulary of ndoc documents (docs[i] of lens[i] bytes): every token
 * seen at least min_count times, the most frequent first (ties in byte
 * order), at most max_words of them. THAW_ENOMEM. */
int txt_vocab_build(txt_vocab *v, const char *const *docs, const size_t *lens, int ndoc,
                    int max_words, int min_count, thaw_err *err);

/* A vocabulary from a vocabulary file's bytes (one word a line, "<pad>" and
 * "<unk>" first; models/modelfile.h): THAW_EFORMAT naming `file` and the
 * line of a word that is empty, too long or listed twice, THAW_ENOMEM. */
int txt_vocab_parse(txt_vocab *v, const char *text, size_t len, const char *file, thaw_err *err);

/* The vocabulary file's bytes (malloc'd). THAW_ENOMEM. */
int txt_vocab_write(const txt_vocab *v, char **out, size_t *len, thaw_err *err);

void txt_vocab_free(txt_vocab *v);

/* The ids of s (n bytes) into ids[0..len): the first len tokens, then
 * TXT_PAD. Returns the text's token count (more than len when it was cut). */
size_t txt_encode(const txt_vocab *v, const char *s, size_t n, float *ids, int len);

#endif
