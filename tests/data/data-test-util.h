/* data-test-util.h: scratch folders and file writers for the data tests. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <zlib.h>

#include "data.h"

/* A fresh folder under the temp dir; remove it with tmp_dir_remove. */
static inline char *tmp_dir_new(void)
{
  GError *e = NULL;
  char *d = g_dir_make_tmp("ll-data-XXXXXX", &e);
  g_assert_no_error(e);
  return d;
}

static inline void tmp_dir_remove(const char *dir)
{
  GDir *dh = g_dir_open(dir, 0, NULL);
  if (!dh)
    return;
  const char *n;
  while ((n = g_dir_read_name(dh))) {
    char *p = g_build_filename(dir, n, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR))
      tmp_dir_remove(p);
    else
      g_unlink(p);
    g_free(p);
  }
  g_dir_close(dh);
  g_rmdir(dir);
}

/* Writes bytes to dir/name (gzipped when gz); returns the path. */
static inline char *write_file(const char *dir, const char *name, const void *data, size_t len,
                               gboolean gz)
{
  char *p = g_build_filename(dir, name, NULL);
  if (gz) {
    gzFile f = gzopen(p, "wb");
    g_assert_nonnull(f);
    if (len)
      g_assert_cmpint(gzwrite(f, data, (unsigned)len), ==, (int)len);
    g_assert_cmpint(gzclose(f), ==, Z_OK);
  } else {
    GError *e = NULL;
    g_file_set_contents(p, data, (gssize)len, &e);
    g_assert_no_error(e);
  }
  return p;
}

/* Asserts an LL_DATA_ERROR with `code` whose message holds `needle` (the
 * file's name), then clears it. */
#define assert_data_error(err, code, needle)                                                       \
  do {                                                                                             \
    g_assert_error((err), LL_DATA_ERROR, (gint)(code));                                            \
    if (!strstr((err)->message, (needle)))                                                         \
      g_error("error message \"%s\" does not name \"%s\"", (err)->message, (needle));              \
    if (g_test_verbose())                                                                          \
      g_printerr("  expected error: %s\n", (err)->message);                                        \
    g_clear_error(&(err));                                                                         \
  } while (0)

/* n images (c, h, w) of bytes from a seeded generator; label i mod classes. */
static inline LlDataset *test_images(guint n, int c, int h, int w, int classes, uint64_t seed)
{
  LlDataset *d = g_new0(LlDataset, 1);
  d->name = g_strdup("test-images");
  d->source = g_strdup("memory");
  d->n = n;
  d->shape = ll_shape_make(3, (int[]){c, h, w});
  size_t size = (size_t)c * h * w;
  d->u8 = g_malloc(n * size);
  LlRng r;
  ll_rng_seed(&r, seed);
  for (size_t i = 0; i < n * size; i++)
    d->u8[i] = (guint8)ll_rng_below(&r, 256);
  d->labels = g_new(float, n);
  for (guint i = 0; i < n; i++)
    d->labels[i] = (float)(i % (guint)classes);
  d->label_dim = 1;
  d->n_classes = classes;
  return d;
}
