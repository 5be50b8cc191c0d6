/* stb_image_impl.c — the one translation unit that compiles stb_image, from
 * Debian's libstb-dev header, configured for untrusted files (reliability
 * checklist §2.1): PNG and JPEG only, no HDR or float paths, no stdio (thaw
 * reads files itself, with a size cap), and at most 8192 pixels a side.
 * Debian's prebuilt libstb, which has every format enabled, is not linked.
 * imgdir.c includes the header with the same settings from imgdir.h. */
#include "imgdir.h"

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
