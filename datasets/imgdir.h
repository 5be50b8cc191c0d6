/* imgdir.h — image folders: one sub-folder per class, PNG and JPEG files.
 *
 *     photos/            classes are the sub-folders, sorted by name
 *       cat/  a.png b.jpg ...
 *       dog/  ...
 *
 *     ds_raw raw;
 *     if (imgdir_load(&raw, "photos", (shape3){ 3, 32, 32 }, NULL, &err))
 *         ... report err.msg: it names the folder or file and the problem ...
 *     ds_raw_free(&raw);
 *
 * Each image is decoded by stb_image (stb_image_impl.c: PNG and JPEG only),
 * converted to the requested channels by stb (grey is stb's luma), stretched
 * to the requested size (ds.h's resampler) and kept as 8-bit (c, h, w).
 *
 * What is read. Hidden entries (a leading '.') are skipped, and so are plain
 * files directly in the folder. In a class folder, files ending in .png,
 * .jpg or .jpeg (any case) are images; other files are ignored and counted
 * in the message when a class ends up with no images. Folders are read one
 * level deep only, so a symbolic link that loops cannot make the scan loop;
 * an entry that is not a regular file (a FIFO, a device) is an error and is
 * never opened for blocking reads.
 *
 * Strictness. An image that does not decode stops the load with an error
 * naming the file and stb's reason: a data set should not shrink silently.
 * Before decoding, stbi_info's declared size is checked: at most
 * IMG_MAX_SIDE a side and IMG_MAX_PIXELS in all (an image bomb — a small
 * file declaring a huge image — is refused before any pixel is allocated).
 */
#ifndef THAW_IMGDIR_H
#define THAW_IMGDIR_H

#include "ds.h"

enum { IMG_MAX_SIDE = 8192, IMG_MAX_PIXELS = 1 << 24 };
#define IMG_MAX_FILE_BYTES ((size_t)64 << 20)

/* stb_image's configuration, the same wherever its header is included.
 * stb's asserts are compiled out, as in a release build: a corrupt file can
 * reach one (fuzz_image reached the JPEG Huffman decoder's with a table no
 * DHT defined, which imgdir_info now refuses first), and a loader must
 * refuse bad input, not abort the program; ASan and the fuzz targets watch
 * memory safety instead. */
#define STBI_ASSERT(x) ((void)0)
/* Its allocations go through imgdir_stb_malloc and imgdir_stb_realloc
 * (stb_image_impl.c), which zero new blocks — 2.27 reads parts of its JPEG
 * state it never set when a file leaves them out (zero-initialised upstream
 * since 2.28) — and note a failure: stb reports running out of memory as a
 * failed decode, like a corrupt file, and imgdir_stb_ran_out tells the two
 * apart. */
#define STBI_MALLOC(sz) imgdir_stb_malloc(sz)
#define STBI_REALLOC(p, sz) imgdir_stb_realloc(p, sz)
#define STBI_FREE(p) free(p)
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS IMG_MAX_SIDE

void *imgdir_stb_malloc(size_t n);
void *imgdir_stb_realloc(void *p, size_t n);
/* 1 when an allocation of stb's failed on this thread since the last call. */
int imgdir_stb_ran_out(void);

/* Checks one PNG or JPEG held in memory without decoding its pixels, and
 * gives its declared width and height. Errors, THAW_EFORMAT: empty, larger
 * than IMG_MAX_FILE_BYTES, not a PNG or JPEG (a GIF, BMP, PSD... is named:
 * those decoders are compiled out), 0 pixels, over IMG_MAX_SIDE or
 * IMG_MAX_PIXELS, a corrupt header — including the PNG chunk lengths and
 * JPEG Huffman tables that Debian's stb_image 2.27 mishandles. */
int imgdir_info(const uint8_t *buf, size_t len, const char *name, int *w, int *h, thaw_err *err);

/* Decodes one PNG or JPEG held in memory into out, (to.c, to.h, to.w) 8-bit,
 * to.c 1 or 3; `name` is what errors call it. Errors: those of imgdir_info,
 * THAW_EFORMAT for corrupt or truncated image data, THAW_EINVAL (a bad
 * `to`), THAW_ENOMEM. */
int imgdir_decode(uint8_t *out, shape3 to, const uint8_t *buf, size_t len, const char *name,
                  thaw_err *err);

/* Decodes one PNG or JPEG held in memory at its own size, up to the limits
 * of imgdir_info (not DS_MAX_SIDE: an image that holds many samples, like
 * OpenCV's digits.png), into *px: (h, w, channels) interleaved, channels 1
 * or 3, the caller's to free(). The errors of imgdir_decode. */
int imgdir_decode_full(uint8_t **px, int *w, int *h, int channels, const uint8_t *buf,
                       size_t len, const char *name, thaw_err *err);

/* Decodes one PNG or JPEG held in memory, of any size up to the limits of
 * imgdir_info, as a model's input: g->in.c channels (grey repeated to RGB,
 * RGB to luma), resized to g->in.h x g->in.w (ds.h's resampler: bilinear
 * when enlarging, averaging when shrinking) and normalised by g's mean and
 * std, into out (c, h, w). Errors: those of imgdir_info, THAW_EFORMAT for
 * corrupt data, THAW_EINVAL (a bad g), THAW_ENOMEM. */
int imgdir_decode_input(float *out, const ds_geom *g, const uint8_t *buf, size_t len,
                        const char *name, thaw_err *err);

/* Loads a folder of class folders at geometry `to`. With `classes` NULL the
 * classes are the folder's own; otherwise (a test folder) each sub-folder
 * must be named like one of classes->name and takes its label, and out gets
 * the same class list. Errors: THAW_ENOTFOUND (no such folder), THAW_EFORMAT
 * (no class folders, a class with no images, an unknown class name, over
 * DS_MAX_CLASSES classes or DS_MAX_IMAGES images, an image that fails as in
 * imgdir_decode), THAW_EIO (unreadable entries), THAW_ENOMEM. On failure
 * *out is zeroed. */
int imgdir_load(ds_raw *out, const char *dir, shape3 to, const ds_raw *classes, thaw_err *err);

/* As imgdir_load, but lists the files only: out->pixels is NULL and each
 * image is read and decoded when asked for (ds_raw_image), so a task that
 * keeps five images a class decodes five. The errors of imgdir_load but
 * those of decoding, which come from ds_raw_image. */
int imgdir_open(ds_raw *out, const char *dir, shape3 to, const ds_raw *classes, thaw_err *err);

#endif
