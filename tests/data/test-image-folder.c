/* Image folders: PNG and JPEG files of different sizes and colour types,
 * resized to one shape; unreadable files and bad layouts. */
#include "data-test-util.h"

#include <stdio.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

/* (h, w, c) interleaved bytes to a PNG file (c 1: gray, 3: RGB, 4: RGBA). */
static void write_png(const char *path, const guint8 *px, int h, int w, int c)
{
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)w;
  img.height = (png_uint_32)h;
  img.format = c == 1 ? PNG_FORMAT_GRAY : c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
  g_assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

static void write_jpeg(const char *path, const guint8 *px, int h, int w, int c)
{
  struct jpeg_compress_struct ci;
  struct jpeg_error_mgr jerr;
  ci.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&ci);
  FILE *f = fopen(path, "wb");
  g_assert_nonnull(f);
  jpeg_stdio_dest(&ci, f);
  ci.image_width = (JDIMENSION)w;
  ci.image_height = (JDIMENSION)h;
  ci.input_components = c;
  ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, 100, TRUE);
  jpeg_start_compress(&ci, TRUE);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW row = (JSAMPROW)px + (size_t)ci.next_scanline * w * c;
    jpeg_write_scanlines(&ci, &row, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  fclose(f);
}

/* A uniform (h, w, c) image of colour col. */
static guint8 *uniform(int h, int w, int c, const guint8 *col)
{
  guint8 *px = g_new(guint8, (size_t)h * w * c);
  for (int i = 0; i < h * w; i++)
    memcpy(px + (size_t)i * c, col, c);
  return px;
}

static char *make_class(const char *dir, const char *name)
{
  char *p = g_build_filename(dir, name, NULL);
  g_assert_cmpint(g_mkdir(p, 0700), ==, 0);
  return p;
}

static void test_mixed(void)
{
  g_autofree char *dir = tmp_dir_new();
  g_autofree char *cat = make_class(dir, "cat");
  g_autofree char *dog = make_class(dir, "dog");
  g_autofree char *pa = g_build_filename(cat, "a.png", NULL);
  g_autofree char *pb = g_build_filename(cat, "b.JPG", NULL);
  g_autofree char *pc = g_build_filename(dog, "c.png", NULL);
  g_autofree char *pd = g_build_filename(dog, "d.jpeg", NULL);
  g_autofree guint8 *a = uniform(4, 4, 1, (guint8[]){200});
  g_autofree guint8 *b = uniform(16, 8, 3, (guint8[]){255, 0, 0});
  g_autofree guint8 *c = uniform(6, 3, 4, (guint8[]){10, 20, 30, 255});
  g_autofree guint8 *d = uniform(5, 7, 1, (guint8[]){90});
  write_png(pa, a, 4, 4, 1);
  write_jpeg(pb, b, 16, 8, 3);
  write_png(pc, c, 6, 3, 4);
  write_jpeg(pd, d, 5, 7, 1);
  g_free(write_file(dog, "notes.txt", "not an image", 12, FALSE));
  g_free(write_file(dir, ".hidden.png", "x", 1, FALSE));

  GError *err = NULL;
  g_autoptr(LlDataset) ds = ll_dataset_load_image_folder(dir, 3, 4, 4, &err);
  g_assert_no_error(err);
  g_assert_cmpuint(ds->n, ==, 4);
  g_assert_cmpint(ds->shape.d[0], ==, 3);
  g_assert_cmpint(ds->shape.d[1], ==, 4);
  g_assert_cmpint(ds->shape.d[2], ==, 4);
  g_assert_cmpint(ds->n_classes, ==, 2);
  g_assert_cmpstr(ds->class_names[0], ==, "cat");
  g_assert_cmpstr(ds->class_names[1], ==, "dog");
  float want_labels[] = {0, 0, 1, 1};
  /* expected colour per sample (JPEG is lossy: allow a few levels) */
  int want[4][3] = {{200, 200, 200}, {255, 0, 0}, {10, 20, 30}, {90, 90, 90}};
  for (int s = 0; s < 4; s++) {
    g_assert_cmpfloat(ds->labels[s], ==, want_labels[s]);
    for (int ch = 0; ch < 3; ch++)
      for (int k = 0; k < 16; k++) {
        int v = ds->u8[(size_t)s * 48 + ch * 16 + k];
        if (ABS(v - want[s][ch]) > 3)
          g_error("sample %d channel %d pixel %d is %d, want %d", s, ch, k, v, want[s][ch]);
      }
  }

  /* as gray: luma of red is 0.299 * 255 */
  g_autoptr(LlDataset) gray = ll_dataset_load_image_folder(dir, 1, 2, 2, &err);
  g_assert_no_error(err);
  g_assert_cmpint(gray->shape.d[0], ==, 1);
  g_assert_cmpint(ABS((int)gray->u8[4] - 76), <=, 3);
  g_assert_cmpint(ABS((int)gray->u8[8] - 18), <=, 1); /* 0.299*10 + 0.587*20 + 0.114*30 */
  tmp_dir_remove(dir);
}

static void test_resize(void)
{
  /* a 4x4 ramp v = 10 x shrunk 2x averages neighbouring pairs; enlarged
   * 4x8 it interpolates between columns */
  g_autofree char *dir = tmp_dir_new();
  g_autofree char *k = make_class(dir, "ramp");
  g_autofree char *p = g_build_filename(k, "r.png", NULL);
  guint8 px[16];
  for (int i = 0; i < 16; i++)
    px[i] = (guint8)(10 * (i % 4));
  write_png(p, px, 4, 4, 1);
  GError *err = NULL;
  g_autoptr(LlDataset) small = ll_dataset_load_image_folder(dir, 1, 2, 2, &err);
  g_assert_no_error(err);
  g_assert_cmpuint(small->u8[0], ==, 5);
  g_assert_cmpuint(small->u8[1], ==, 25);
  g_assert_cmpuint(small->u8[3], ==, 25);
  g_autoptr(LlDataset) wide = ll_dataset_load_image_folder(dir, 1, 4, 8, &err);
  g_assert_no_error(err);
  /* x' = 3: source x = 3.5 * 0.5 - 0.5 = 1.25 -> 12.5 rounded 13 */
  g_assert_cmpuint(wide->u8[3], ==, 13);
  g_assert_cmpuint(wide->u8[0], ==, 0);
  g_assert_cmpuint(wide->u8[7], ==, 30);
  tmp_dir_remove(dir);
}

static void test_malformed(void)
{
  GError *err = NULL;
  g_autofree char *dir = tmp_dir_new();
  /* no class folders */
  g_assert_null(ll_dataset_load_image_folder(dir, 3, 8, 8, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "has no class subfolders");
  /* class folders without images */
  g_autofree char *k = make_class(dir, "k");
  g_assert_null(ll_dataset_load_image_folder(dir, 3, 8, 8, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "hold no .png or .jpg files");
  /* one good image, a corrupt PNG and a text file named .jpg */
  g_autofree char *good = g_build_filename(k, "good.png", NULL);
  guint8 px[4] = {1, 2, 3, 4};
  write_png(good, px, 2, 2, 1);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(good, &bytes, &len, NULL));
  g_free(write_file(k, "broken.png", bytes, len / 2, FALSE));
  g_assert_null(ll_dataset_load_image_folder(dir, 1, 2, 2, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "k/broken.png: bad PNG");
  g_free(write_file(k, "text.jpg", "hello, world", 12, FALSE));
  g_assert_null(ll_dataset_load_image_folder(dir, 1, 2, 2, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "(and 1 more unreadable files");
  g_autofree char *bad_png = g_build_filename(k, "broken.png", NULL);
  g_unlink(bad_png);
  g_assert_null(ll_dataset_load_image_folder(dir, 1, 2, 2, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "k/text.jpg: not a PNG or JPEG image");
  /* a JPEG cut short */
  g_autofree guint8 *img = uniform(16, 16, 3, (guint8[]){1, 2, 3});
  g_autofree char *jp = g_build_filename(k, "text.jpg", NULL);
  write_jpeg(jp, img, 16, 16, 3);
  g_autofree char *jbytes = NULL;
  g_assert_true(g_file_get_contents(jp, &jbytes, &len, NULL));
  g_free(write_file(k, "text.jpg", jbytes, 40, FALSE));
  g_assert_null(ll_dataset_load_image_folder(dir, 1, 2, 2, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "k/text.jpg: bad JPEG");
  /* a JPEG cut short in its scan data is an error too (libjpeg filled the
   * rest with grey: a file of a few hundred bytes claiming 16384 x 16384
   * pixels decoded for minutes) */
  g_autofree guint8 *grad = g_new(guint8, 64 * 64 * 3);
  for (int i = 0; i < 64 * 64 * 3; i++)
    grad[i] = (guint8)(i * 7 + i / 192 * 13);
  write_jpeg(jp, grad, 64, 64, 3);
  g_clear_pointer(&jbytes, g_free);
  g_assert_true(g_file_get_contents(jp, &jbytes, &len, NULL));
  g_free(write_file(k, "text.jpg", jbytes, len - len / 4, FALSE));
  g_assert_null(ll_dataset_load_image_folder(dir, 1, 2, 2, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "k/text.jpg: bad JPEG (Premature end");
  /* a PNG claiming 6000 x 6000 pixels is refused from its header (decoded,
   * converted and filtered whole, such an image took 30 s and 3 GB) */
  g_unlink(jp);
  guint8 png[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D',
                             'R', 0, 0, 0x17, 0x70, 0, 0, 0x17, 0x70, 8, 0, 0, 0, 0};
  memcpy(png + 33, (guint8[]){0, 0, 0, 0, 'I', 'D', 'A', 'T'}, 8); /* an empty IDAT */
  for (int at = 12, n = 17; at < 41; at += n + 8, n = 4) { /* each chunk's CRC */
    guint32 crc = (guint32)crc32(0, png + at, (uInt)n);
    for (int b = 0; b < 4; b++)
      png[at + n + b] = (guint8)(crc >> (24 - 8 * b));
  }
  g_free(write_file(k, "huge.png", png, sizeof png, FALSE));
  g_assert_null(ll_dataset_load_image_folder(dir, 1, 2, 2, &err));
  assert_data_error(err, LL_DATA_ERROR_FORMAT, "k/huge.png: PNG of 6000x6000 is too large");
  /* settings */
  g_assert_null(ll_dataset_load_image_folder(dir, 2, 8, 8, &err));
  assert_data_error(err, LL_DATA_ERROR_CONFIG, "channels is 2");
  g_assert_null(ll_dataset_load_image_folder(dir, 3, 0, 8, &err));
  assert_data_error(err, LL_DATA_ERROR_CONFIG, "image size 0x8");
  g_assert_null(ll_dataset_load_image_folder("/nonexistent-ll", 3, 8, 8, &err));
  assert_data_error(err, LL_DATA_ERROR_IO, "/nonexistent-ll");
  tmp_dir_remove(dir);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/data/image-folder/mixed", test_mixed);
  g_test_add_func("/data/image-folder/resize", test_resize);
  g_test_add_func("/data/image-folder/malformed", test_malformed);
  return g_test_run();
}
