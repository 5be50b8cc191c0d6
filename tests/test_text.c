/* test_text.c — the tokeniser on tricky text (URLs, numbers, contractions,
 * UTF-8, very long tokens), vocabularies and encoding with truncation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "text.h"

typedef struct joined {
    char out[1024];
    size_t at;
    int longest;
} joined;

/* Tokens joined by '|', a too-long one as <long:N>. */
static int join_token(void *ctx, const char *tok, size_t len)
{
    joined *j = ctx;
    if (j->at)
        j->out[j->at++] = '|';
    if (len > TXT_TOKEN_MAX)
        j->at += (size_t)snprintf(j->out + j->at, sizeof j->out - j->at, "<long:%zu>", len);
    else {
        memcpy(j->out + j->at, tok, len);
        j->at += len;
    }
    j->out[j->at] = '\0';
    return 0;
}

static int tokens_are(const char *text, const char *want)
{
    joined j = { .out = "" };
    size_t n = txt_tokenize(text, strlen(text), join_token, &j);
    size_t bars = 0;
    for (const char *p = j.out; *p; p++)
        bars += *p == '|';
    if (strcmp(j.out, want) || n != (j.at ? bars + 1 : 0)) {
        test_failed(__FILE__, __LINE__, "'%s' gives '%s' (%zu tokens), expected '%s'", text, j.out,
                    n, want);
        return 0;
    }
    return 1;
}

void test_text_tokens_words_and_punctuation(void)
{
    CHECK(tokens_are("Hello, World!", "hello|,|world|!"));
    CHECK(tokens_are("  The\tcat\r\nsat.  ", "the|cat|sat|."));
    CHECK(tokens_are("(well-known) \"quotes\"", "(|well-known|)|\"|quotes|\""));
    CHECK(tokens_are("Wait... what?!", "wait|...|what|?|!"));
    CHECK(tokens_are("a -- b - c---d", "a|--|b|-|c|--|d"));
    CHECK(tokens_are("", ""));
    CHECK(tokens_are(" \t\n", ""));
}

void test_text_tokens_contractions(void)
{
    CHECK(tokens_are("Don't you think it's John's?", "do|n't|you|think|it|'s|john|'s|?"));
    CHECK(tokens_are("We're, they've, I'll, he'd, I'm", "we|'re|,|they|'ve|,|i|'ll|,|he|'d|,|i|'m"));
    CHECK(tokens_are("O'Neil's rock'n'roll", "o'neil|'s|rock'n'roll"));
    CHECK(tokens_are("the dogs' bones 'quoted'", "the|dogs|'|bones|'|quoted|'"));
    CHECK(tokens_are("Brown's ``tagged'' 's", "brown|'s|`|`|tagged|'|'|'s"));
    /* Typographic apostrophes read as ASCII ones. */
    CHECK(tokens_are("don\xE2\x80\x99t \xE2\x80\x9Cso\xE2\x80\x9D", "do|n't|\"|so|\""));
}

void test_text_tokens_numbers(void)
{
    CHECK(tokens_are("Pi is 3.14, not 3,14159 or 1,000,000.",
                     "pi|is|3.14|,|not|3,14159|or|1,000,000|."));
    CHECK(tokens_are("At 10:30 it cost $5.99 (50% off)", "at|10:30|it|cost|$|5.99|(|50|%|off|)"));
    CHECK(tokens_are("-5 and 2. and .5 and 1-2", "-|5|and|2|.|and|.|5|and|1-2"));
    CHECK(tokens_are("version 2.0.1a", "version|2.0.1a"));
}

void test_text_tokens_urls(void)
{
    CHECK(tokens_are("See http://Example.com/a?b=c&d=e.", "see|http://example.com/a?b=c&d=e|."));
    CHECK(tokens_are("(https://x.org/p), www.spam.biz!", "(|https://x.org/p|)|,|www.spam.biz|!"));
    CHECK(tokens_are("<ftp://files.net/x.tar.gz>", "<|ftp://files.net/x.tar.gz|>"));
    /* A prefix alone is no URL. */
    CHECK(tokens_are("http:// and www.", "http|:|/|/|and|www|."));
    CHECK(tokens_are("mail me@home.net", "mail|me|@|home|.|net"));
}

void test_text_tokens_utf8(void)
{
    /* Latin, Greek and Cyrillic fold to lower case; other scripts stay. */
    CHECK(tokens_are("Na\xC3\xAFve CAF\xC3\x89 \xC3\x84RGER", "na\xC3\xAFve|caf\xC3\xA9|\xC3\xA4rger"));
    CHECK(tokens_are("\xCE\x91\xCE\x98\xCE\x97\xCE\x9D\xCE\x91 \xD0\x9C\xD0\x9E\xD0\xA1\xD0\x9A\xD0\x92\xD0\x90",
                     "\xCE\xB1\xCE\xB8\xCE\xB7\xCE\xBD\xCE\xB1|\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0"));
    CHECK(tokens_are("\xE6\x9D\xB1\xE4\xBA\xAC\xE3\x80\x82ok", "\xE6\x9D\xB1\xE4\xBA\xAC|\xE3\x80\x82|ok"));
    /* A dash and an ellipsis read as ASCII; guillemets stay their own token. */
    CHECK(tokens_are("yes\xE2\x80\x94no\xE2\x80\xA6 \xC2\xABoui\xC2\xBB", "yes|--|no|...|\xC2\xAB|oui|\xC2\xBB"));
    /* Malformed bytes separate like spaces; a no-break space too. */
    CHECK(tokens_are("ab\xFF" "cd\xC3" "ef\xC2\xA0gh \xED\xA0\x80x", "ab|cd|ef|gh|x"));
}

void test_text_tokens_very_long(void)
{
    char text[400];
    memset(text, 'a', 300);
    snprintf(text + 300, sizeof text - 300, " b %.*s", TXT_TOKEN_MAX, text);
    char want[128];
    snprintf(want, sizeof want, "<long:300>|b|%.*s", TXT_TOKEN_MAX, text);
    CHECK(tokens_are(text, want));
    /* A long URL is one token too. */
    char url[200] = "http://";
    memset(url + 7, 'x', 150);
    url[157] = '\0';
    CHECK(tokens_are(url, "<long:157>"));
}

/* Stops when the callback asks. */
static int stop_after_two(void *ctx, const char *tok, size_t len)
{
    (void)tok, (void)len;
    return ++*(int *)ctx == 2;
}

void test_text_tokens_stop(void)
{
    int seen = 0;
    size_t n = txt_tokenize("one two three four", 18, stop_after_two, &seen);
    CHECKF(n == 2 && seen == 2, "%zu tokens, %d seen", n, seen);
}

void test_text_vocab_and_encode(void)
{
    static const char *const docs[] = { "the cat sat on the mat", "The dog sat.", "a cat!" };
    size_t lens[3];
    for (int i = 0; i < 3; i++)
        lens[i] = strlen(docs[i]);
    txt_vocab v;
    thaw_err err = { 0 };
    CHECKF(txt_vocab_build(&v, docs, lens, 3, 5, 1, &err) == THAW_OK, "%s", err.msg);
    /* By count (the 3, cat 2, sat 2), ties in byte order, five words kept. */
    static const char *const want[] = { "<pad>", "<unk>", "the", "cat", "sat", "!", "." };
    int ok = v.n == 7;
    for (int i = 0; ok && i < 7; i++)
        ok = !strcmp(v.word[i], want[i]);
    float ids[6];
    size_t n = txt_encode(&v, "The cat ate the mat", 19, ids, 6);
    static const float ids_want[6] = { 2, 3, TXT_UNK, 2, TXT_UNK, TXT_PAD };
    int same = n == 5 && !memcmp(ids, ids_want, sizeof ids);
    size_t cut = txt_encode(&v, "the cat sat the cat sat the", 27, ids, 3);
    int truncated = cut == 7 && ids[0] == 2 && ids[1] == 3 && ids[2] == 4;
    int found = txt_vocab_find(&v, "cat", 3) == 3 && txt_vocab_find(&v, "dog", 3) == TXT_UNK &&
                txt_vocab_find(&v, "", 0) == TXT_UNK;
    int id = -1;
    int again = txt_vocab_add(&v, "cat", 3, &id, &err) == THAW_OK && id == 3 && v.n == 7;
    int bad = txt_vocab_add(&v, "a\nb", 3, NULL, &err) == THAW_EINVAL &&
              txt_vocab_add(&v, "", 0, NULL, &err) == THAW_EINVAL;
    txt_vocab_free(&v);
    CHECKF(ok, "the vocabulary's words are not by count");
    CHECK(same);
    CHECK(truncated);
    CHECK(found);
    CHECK(again);
    CHECK(bad);
}

/* Many words: the table grows and every id stays findable. */
void test_text_vocab_grows(void)
{
    txt_vocab v;
    thaw_err err = { 0 };
    CHECK(txt_vocab_init(&v, &err) == THAW_OK);
    char w[16];
    int ok = 1;
    for (int i = 0; i < 20000 && ok; i++) {
        int id;
        snprintf(w, sizeof w, "w%d", i);
        ok = txt_vocab_add(&v, w, strlen(w), &id, &err) == THAW_OK && id == i + TXT_SPECIAL;
    }
    for (int i = 0; i < 20000 && ok; i += 7) {
        snprintf(w, sizeof w, "w%d", i);
        ok = txt_vocab_find(&v, w, strlen(w)) == i + TXT_SPECIAL;
    }
    txt_vocab_free(&v);
    CHECKF(ok, "%s", err.msg);
}
