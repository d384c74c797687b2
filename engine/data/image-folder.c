/* image-folder.c: one subfolder per class holding PNG or JPEG files.
 *
 * Classes are the subfolders in byte order of their names; samples go class
 * by class, files in name order. Each image is converted to the requested
 * channels (1: luma, 3: RGB) and resized to (h, w): box-averaged by the
 * integer factor first when it shrinks by 2x or more (so fine detail does not
 * alias), then bilinear with half-pixel centres. Files whose names end in
 * .png, .jpg or .jpeg are read (the format is taken from the file's magic,
 * not the name); others and hidden files are ignored. Any file that cannot
 * be decoded fails the load, naming it and counting the others. */
#include "data-private.h"

#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

/* The largest image read: 33.5 M pixels holds a 24-megapixel photo. An image
 * is decoded, converted to floats and box-filtered whole before it is shrunk
 * to the dataset's size, so each pixel costs time and 13 bytes per channel:
 * 2^28 let a 690-byte PNG take 30 s and 3 GB to load. */
#define MAX_PIXELS (1u << 25)

/* A decoded image: (h, w, c) interleaved, c 1 or 3. */
typedef struct {
  int h, w, c;
  guint8 *px;
} Raw;

static gboolean decode_png(const guint8 *buf, size_t len, Raw *r, char **why)
{
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, buf, len)) {
    *why = g_strdup_printf("bad PNG (%s)", img.message);
    return FALSE;
  }
  if ((guint64)img.width * img.height > MAX_PIXELS) {
    *why = g_strdup_printf("PNG of %ux%u is too large", img.width, img.height);
    png_image_free(&img);
    return FALSE;
  }
  gboolean color = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
  /* Alpha is composited onto black, the value padding uses elsewhere. */
  img.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  r->w = (int)img.width;
  r->h = (int)img.height;
  r->c = color ? 3 : 1;
  r->px = g_try_malloc(PNG_IMAGE_SIZE(img));
  if (!r->px) {
    png_image_free(&img);
    *why = g_strdup("out of memory");
    return FALSE;
  }
  png_color black = {0, 0, 0};
  if (!png_image_finish_read(&img, &black, r->px, 0, NULL)) {
    *why = g_strdup_printf("bad PNG (%s)", img.message);
    g_clear_pointer(&r->px, g_free);
    png_image_free(&img);
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} JpegErr;

static void jpeg_on_error(j_common_ptr c)
{
  JpegErr *e = (JpegErr *)c->err;
  c->err->format_message(c, e->msg);
  longjmp(e->jump, 1);
}

/* Warnings (corrupt but recoverable data) are not printed; a decode that
 * libjpeg cannot finish still fails through jpeg_on_error. */
static void jpeg_quiet(j_common_ptr c) {}

/* Except a premature end of the data: libjpeg would fill the rest of the
 * image with grey, so a file of a few hundred bytes whose header claims
 * 16384 x 16384 pixels took minutes and gigabytes to decode (found by the
 * fuzz target image-folder). The file is cut short: an error, at once. */
static void jpeg_on_warning(j_common_ptr c, int level)
{
  if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF)
    jpeg_on_error(c);
}

static gboolean decode_jpeg(const guint8 *buf, size_t len, Raw *r, char **why)
{
  struct jpeg_decompress_struct cinfo;
  JpegErr err;
  /* Written after setjmp and read after longjmp: volatile. */
  guint8 *volatile px = NULL;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpeg_on_error;
  err.pub.output_message = jpeg_quiet;
  err.pub.emit_message = jpeg_on_warning;
  if (setjmp(err.jump)) {
    *why = g_strdup_printf("bad JPEG (%s)", err.msg);
    g_free(px);
    jpeg_destroy_decompress(&cinfo);
    return FALSE;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, buf, (unsigned long)len);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    *why = g_strdup("CMYK JPEGs are not supported");
    jpeg_destroy_decompress(&cinfo);
    return FALSE;
  }
  if ((guint64)cinfo.image_width * cinfo.image_height > MAX_PIXELS) {
    *why = g_strdup_printf("JPEG of %ux%u is too large", cinfo.image_width, cinfo.image_height);
    jpeg_destroy_decompress(&cinfo);
    return FALSE;
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  int c = cinfo.output_components, w = (int)cinfo.output_width, h = (int)cinfo.output_height;
  px = g_try_malloc((size_t)w * h * c);
  if (!px) {
    *why = g_strdup("out of memory");
    jpeg_destroy_decompress(&cinfo);
    return FALSE;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = px + (size_t)cinfo.output_scanline * w * c;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  *r = (Raw){.h = h, .w = w, .c = c, .px = px};
  return TRUE;
}

/* Converts to `channels` planes of floats (channels, h, w). */
static float *to_planes(const Raw *r, int channels)
{
  size_t hw = (size_t)r->h * r->w;
  float *f = g_try_new(float, hw *channels);
  if (!f)
    return NULL;
  for (size_t i = 0; i < hw; i++) {
    const guint8 *p = r->px + i * r->c;
    if (channels == r->c) {
      for (int ch = 0; ch < channels; ch++)
        f[ch * hw + i] = p[ch];
    } else if (channels == 1) { /* RGB -> luma (ITU-R BT.601) */
      f[i] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    } else { /* gray -> RGB */
      for (int ch = 0; ch < channels; ch++)
        f[ch * hw + i] = p[0];
    }
  }
  return f;
}

/* Resizes (c, h0, w0) floats to (c, h, w) bytes. */
static void resize_into(float *src, int c, int h0, int w0, int h, int w, guint8 *dst)
{
  int fy = h0 / h, fx = w0 / w;
  int f = MIN(fy, fx);
  float *box = NULL;
  if (f >= 2) {
    int hb = h0 / f, wb = w0 / f;
    box = g_new(float, (size_t)c *hb *wb);
    for (int ch = 0; ch < c; ch++)
      for (int y = 0; y < hb; y++)
        for (int x = 0; x < wb; x++) {
          float s = 0;
          for (int dy = 0; dy < f; dy++)
            for (int dx = 0; dx < f; dx++)
              s += src[((size_t)ch * h0 + y * f + dy) * w0 + x * f + dx];
          box[((size_t)ch * hb + y) * wb + x] = s / (float)(f * f);
        }
    src = box;
    h0 = hb;
    w0 = wb;
  }
  for (int ch = 0; ch < c; ch++) {
    const float *s = src + (size_t)ch * h0 * w0;
    for (int y = 0; y < h; y++) {
      float sy = ((float)y + 0.5f) * (float)h0 / (float)h - 0.5f;
      sy = CLAMP(sy, 0.0f, (float)(h0 - 1));
      int y0 = (int)sy, y1 = MIN(y0 + 1, h0 - 1);
      float ty = sy - (float)y0;
      for (int x = 0; x < w; x++) {
        float sx = ((float)x + 0.5f) * (float)w0 / (float)w - 0.5f;
        sx = CLAMP(sx, 0.0f, (float)(w0 - 1));
        int x0 = (int)sx, x1 = MIN(x0 + 1, w0 - 1);
        float tx = sx - (float)x0;
        float v = (1 - ty) * ((1 - tx) * s[y0 * w0 + x0] + tx * s[y0 * w0 + x1]) +
                  ty * ((1 - tx) * s[y1 * w0 + x0] + tx * s[y1 * w0 + x1]);
        v = CLAMP(v + 0.5f, 0.0f, 255.0f);
        dst[((size_t)ch * h + y) * w + x] = (guint8)v;
      }
    }
  }
  g_free(box);
}

static gboolean is_image_name(const char *name)
{
  g_autofree char *lower = g_ascii_strdown(name, -1);
  return g_str_has_suffix(lower, ".png") || g_str_has_suffix(lower, ".jpg") ||
         g_str_has_suffix(lower, ".jpeg");
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir that pass `keep` (hidden entries skipped). */
static GPtrArray *list_dir(const char *dir, gboolean want_dirs, GError **error)
{
  g_autoptr(GError) e = NULL;
  GDir *dh = g_dir_open(dir, 0, &e);
  if (!dh) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_IO, "%s: cannot open folder: %s", dir,
                e->message);
    return NULL;
  }
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while ((n = g_dir_read_name(dh))) {
    if (n[0] == '.')
      continue;
    g_autofree char *p = g_build_filename(dir, n, NULL);
    gboolean is_dir = g_file_test(p, G_FILE_TEST_IS_DIR);
    if (want_dirs ? is_dir : (!is_dir && is_image_name(n)))
      g_ptr_array_add(names, g_strdup(n));
  }
  g_dir_close(dh);
  g_ptr_array_sort(names, cmp_str);
  return names;
}

LlDataset *ll_dataset_load_image_folder(const char *dir, int channels, int h, int w, GError **error)
{
  if (channels != 1 && channels != 3) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG,
                "%s: channels is %d; image folders load as 1 (gray) or 3 (RGB)", dir, channels);
    return NULL;
  }
  if (h < 1 || w < 1 || h > 4096 || w > 4096) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG,
                "%s: image size %dx%d is out of range (1..4096)", dir, h, w);
    return NULL;
  }
  g_autoptr(GPtrArray) classes = list_dir(dir, TRUE, error);
  if (!classes)
    return NULL;
  if (classes->len == 0) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_FORMAT,
                "%s: has no class subfolders (expected one folder of images per class)", dir);
    return NULL;
  }
  GPtrArray *files = g_ptr_array_new_with_free_func(g_free); /* "class/file" */
  GArray *labels = g_array_new(FALSE, FALSE, sizeof(int));
  LlDataset *d = NULL;
  for (guint k = 0; k < classes->len; k++) {
    g_autofree char *cdir = g_build_filename(dir, classes->pdata[k], NULL);
    g_autoptr(GPtrArray) names = list_dir(cdir, FALSE, error);
    if (!names)
      goto out;
    for (guint i = 0; i < names->len; i++) {
      g_ptr_array_add(files, g_build_filename(classes->pdata[k], names->pdata[i], NULL));
      g_array_append_val(labels, k);
    }
  }
  if (files->len == 0) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_FORMAT,
                "%s: its %u class folders hold no .png or .jpg files", dir, classes->len);
    goto out;
  }
  {
    g_autofree char *name = g_path_get_basename(dir);
    d = ll_dataset_alloc(name, dir, files->len, ll_shape_make(3, (int[]){channels, h, w}), TRUE, 1,
                         dir, error);
  }
  if (!d)
    goto out;
  size_t size = ll_dataset_sample_size(d);
  char *first_bad = NULL;
  guint n_bad = 0;
  for (guint i = 0; i < files->len; i++) {
    g_autofree char *path = g_build_filename(dir, files->pdata[i], NULL);
    g_autofree char *why = NULL;
    g_autofree guint8 *buf = NULL;
    gsize len = 0;
    g_autoptr(GError) e = NULL;
    Raw r = {0};
    gboolean ok = FALSE;
    if (!g_file_get_contents(path, (char **)&buf, &len, &e))
      why = g_strdup_printf("cannot read: %s", e->message);
    else if (len >= 8 && png_sig_cmp(buf, 0, 8) == 0)
      ok = decode_png(buf, len, &r, &why);
    else if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
      ok = decode_jpeg(buf, len, &r, &why);
    else
      why = g_strdup("not a PNG or JPEG image");
    float *planes = ok ? to_planes(&r, channels) : NULL;
    g_free(r.px);
    if (ok && !planes) {
      ok = FALSE;
      why = g_strdup_printf("not enough memory for an image of %dx%d", r.w, r.h);
    }
    if (ok) {
      resize_into(planes, channels, r.h, r.w, h, w, d->u8 + i * size);
      g_free(planes);
    } else if (n_bad++ == 0) {
      first_bad = g_strdup_printf("%s: %s", (char *)files->pdata[i], why);
    }
    d->labels[i] = (float)g_array_index(labels, int, i);
  }
  if (n_bad) {
    if (n_bad > 1)
      g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_FORMAT,
                  "%s (and %u more unreadable files in %s)", first_bad, n_bad - 1, dir);
    else
      g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_FORMAT, "%s (in %s)", first_bad, dir);
    g_free(first_bad);
    g_clear_pointer(&d, ll_dataset_free);
    goto out;
  }
  d->n_classes = (int)classes->len;
  g_ptr_array_add(classes, NULL);
  d->class_names = g_strdupv((char **)classes->pdata);
out:
  g_ptr_array_unref(files);
  g_array_unref(labels);
  return d;
}
