/* dataset.c: the dataset record, its fingerprint, seeded splits and the
 * helpers every loader shares (errors that name the file, reading plain or
 * gzipped files). */
#include "data-private.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

G_DEFINE_QUARK(ll - data - error - quark, ll_data_error)

void ll_data_error_file(GError **error, LlDataError code, const char *path, const char *fmt, ...)
{
  if (!error)
    return;
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *base = g_path_get_basename(path);
  g_set_error(error, LL_DATA_ERROR, code, "%s: %s", base, msg);
}

guint8 *ll_data_read_file(const char *path, size_t *len, GError **error)
{
  /* gzopen reads plain files transparently, so one path serves .gz and raw
   * IDX; fail fast on a missing file with the full path, which tells the
   * user where we looked. */
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_IO, "%s: no such file", path);
    return NULL;
  }
  gzFile f = gzopen(path, "rb");
  if (!f) {
    int e = errno;
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_IO, "%s: cannot open: %s", path,
                e ? g_strerror(e) : "out of memory");
    return NULL;
  }
  gzbuffer(f, 1 << 17);
  GByteArray *buf = g_byte_array_new();
  guint8 chunk[1 << 16];
  for (;;) {
    int got = gzread(f, chunk, sizeof chunk);
    if (got < 0)
      break;
    if (got == 0)
      break;
    if (buf->len > G_MAXINT32 - (guint)got) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "larger than 2 GiB, not supported");
      gzclose(f);
      g_byte_array_unref(buf);
      return NULL;
    }
    g_byte_array_append(buf, chunk, (guint)got);
  }
  int zerr = Z_OK;
  const char *zmsg = gzerror(f, &zerr);
  if (zerr != Z_OK && zerr != Z_STREAM_END) {
    /* zlib prefixes its message with the path, which we already give */
    if (zmsg && g_str_has_prefix(zmsg, path) && g_str_has_prefix(zmsg + strlen(path), ": "))
      zmsg += strlen(path) + 2;
    ll_data_error_file(error, zerr == Z_ERRNO ? LL_DATA_ERROR_IO : LL_DATA_ERROR_FORMAT, path,
                       "cannot read (%s)", zerr == Z_ERRNO ? g_strerror(errno) : zmsg);
    gzclose(f);
    g_byte_array_unref(buf);
    return NULL;
  }
  gzclose(f);
  *len = buf->len;
  if (buf->len == 0) { /* an empty array has no data pointer; callers need one */
    g_byte_array_unref(buf);
    return g_malloc0(1);
  }
  return g_byte_array_free(buf, FALSE);
}

LlDataset *ll_dataset_alloc(const char *name, const char *source, guint n, LlShape shape,
                            gboolean bytes, int label_dim, const char *path, GError **error)
{
  size_t size = ll_shape_size(&shape);
  size_t elem = bytes ? 1 : sizeof(float);
  if (n == 0 || size == 0 || label_dim <= 0 || size > G_MAXSIZE / elem / n) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "has no samples or an absurd size");
    return NULL;
  }
  LlDataset *d = g_new0(LlDataset, 1);
  d->name = g_strdup(name);
  d->source = g_strdup(source);
  d->n = n;
  d->shape = shape;
  d->label_dim = label_dim;
  if (bytes)
    d->u8 = g_try_malloc0((size_t)n * size);
  else
    d->f32 = g_try_malloc0_n((size_t)n * size, sizeof(float));
  d->labels = g_try_malloc0_n((size_t)n * (size_t)label_dim, sizeof(float));
  if ((!d->u8 && !d->f32) || !d->labels) {
    ll_data_error_file(error, LL_DATA_ERROR_IO, path, "not enough memory for %u samples", n);
    ll_dataset_free(d);
    return NULL;
  }
  return d;
}

void ll_dataset_free(LlDataset *d)
{
  if (!d)
    return;
  g_free(d->name);
  g_free(d->source);
  g_free(d->u8);
  g_free(d->f32);
  g_free(d->labels);
  g_strfreev(d->class_names);
  g_strfreev(d->label_names);
  g_free(d);
}

size_t ll_dataset_sample_size(const LlDataset *d) { return ll_shape_size(&d->shape); }

char *ll_dataset_fingerprint(const LlDataset *d)
{
  /* SHA-256 over the layout (n, shape, label_dim, storage kind) and the raw
   * contents, so the same data in another layout hashes differently. */
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  gint32 head[3 + LL_MAX_DIMS + 1] = {(gint32)d->n, d->shape.rank, d->label_dim};
  for (int i = 0; i < d->shape.rank && i < LL_MAX_DIMS; i++)
    head[3 + i] = d->shape.d[i];
  head[3 + LL_MAX_DIMS] = d->u8 ? 8 : 32;
  g_checksum_update(c, (const guchar *)head, sizeof head);
  size_t size = (size_t)d->n * ll_dataset_sample_size(d);
  if (d->u8)
    g_checksum_update(c, d->u8, (gssize)size);
  else if (d->f32)
    g_checksum_update(c, (const guchar *)d->f32, (gssize)(size * sizeof(float)));
  g_checksum_update(c, (const guchar *)d->labels,
                    (gssize)((size_t)d->n * (size_t)d->label_dim * sizeof(float)));
  char *hex = g_strndup(g_checksum_get_string(c), 16);
  g_checksum_free(c);
  return hex;
}

static int cmp_u32(gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;
  return x < y ? -1 : x > y;
}

void ll_split_indices(guint n, double val_fraction, uint64_t seed, GArray **train, GArray **val)
{
  /* A seeded permutation of [0, n); its first round(n * f) entries are the
   * validation set. Both lists are returned sorted (guint32 elements): the
   * loader shuffles per epoch anyway, and sorted lists read well in logs. */
  if (!(val_fraction >= 0.0))
    val_fraction = 0.0;
  if (val_fraction > 1.0)
    val_fraction = 1.0;
  guint n_val = (guint)(n * val_fraction + 0.5);
  if (n_val > n)
    n_val = n;
  guint32 *perm = g_new(guint32, MAX(n, 1));
  for (guint i = 0; i < n; i++)
    perm[i] = i;
  LlRng r;
  ll_rng_seed(&r, seed);
  ll_rng_shuffle_u32(&r, perm, n);
  GArray *v = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n_val);
  GArray *t = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n - n_val);
  g_array_append_vals(v, perm, n_val);
  g_array_append_vals(t, perm + n_val, n - n_val);
  g_array_sort(v, cmp_u32);
  g_array_sort(t, cmp_u32);
  g_free(perm);
  if (train)
    *train = t;
  else
    g_array_unref(t);
  if (val)
    *val = v;
  else
    g_array_unref(v);
}
