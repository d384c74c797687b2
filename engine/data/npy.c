/* npy.c: NumPy .npy arrays (format versions 1 to 3).
 *
 * The file is "\x93NUMPY", a major and minor version byte, the header length
 * (16-bit little-endian in version 1, 32-bit after), then a Python dict
 * literal {'descr': '<f4', 'fortran_order': False, 'shape': (n, F), } and
 * the data in C order. Features are float32, float64 or uint8 of rank 2
 * (n, F), 3 (n, T, F) or 4 (n, C, H, W); uint8 stays bytes, floats become
 * float32 and must be finite. Labels are rank 1 (n) or 2 (n, k): integer
 * labels of rank 1 are class indices (n_classes = max + 1), float labels are
 * regression targets (n_classes 0). Little-endian hosts only, as the engine. */
#include "data-private.h"

#include "untrusted.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  guint8 *buf;
  char kind; /* 'f', 'u', 'i' */
  int itemsize;
  int ndim;
  guint64 dims[8];
  guint64 count;
  const guint8 *data;
} Npy;

/* The value of 'key' in the header dict: points just past "'key':" and
 * spaces, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
  g_autofree char *k1 = g_strdup_printf("'%s'", key);
  g_autofree char *k2 = g_strdup_printf("\"%s\"", key);
  const char *p = strstr(h, k1);
  if (!p)
    p = strstr(h, k2);
  if (!p)
    return NULL;
  p += strlen(k1);
  while (*p == ' ')
    p++;
  if (*p != ':')
    return NULL;
  p++;
  while (*p == ' ')
    p++;
  return p;
}

static gboolean npy_read(const char *path, Npy *a, GError **error)
{
  memset(a, 0, sizeof *a);
  size_t len = 0;
  a->buf = ll_data_read_file(path, &len, error);
  if (!a->buf)
    return FALSE;
  const guint8 *b = a->buf;
  if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "wrong magic, not a .npy file");
    return FALSE;
  }
  int major = b[6];
  size_t hlen, hoff;
  if (major == 1) {
    hlen = b[8] | (size_t)b[9] << 8;
    hoff = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "truncated in its header");
      return FALSE;
    }
    hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    hoff = 12;
  } else {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "NPY format version %d is not supported",
                       major);
    return FALSE;
  }
  if (len - hoff < hlen) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "truncated in its header (%zu of %zu bytes)", len - hoff, hlen);
    return FALSE;
  }
  g_autofree char *h = g_strndup((const char *)b + hoff, hlen);
  const char *descr = dict_value(h, "descr");
  const char *fortran = dict_value(h, "fortran_order");
  const char *shape = dict_value(h, "shape");
  g_autofree char *shown = ll_excerpt(h, -1);
  if (!descr || !fortran || !shape) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "header lacks descr, fortran_order or shape: \"%s\"", shown);
    return FALSE;
  }
  if (*descr != '\'' && *descr != '"') {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "structured dtypes are not supported (only plain numbers)");
    return FALSE;
  }
  char q = *descr++;
  /* the value ends at its closing quote, then ',' or '}': a quote further on
   * ("'<f4, 'fortran_order'") is another string's */
  const char *end = strchr(descr, q);
  const char *after = end ? end + 1 : NULL;
  while (after && *after == ' ')
    after++;
  if (!end || (*after != ',' && *after != '}')) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "the header's descr has no closing quote: \"%s\"", shown);
    return FALSE;
  }
  g_autofree char *dt = g_strndup(descr, (gsize)(end - descr));
  /* '<f4', '|u1', ...: byte order, kind, item size */
  gboolean ok = strlen(dt) >= 3 && strchr("<|=", dt[0]) && strchr("fiu", dt[1]);
  if (ok) {
    a->kind = dt[1];
    a->itemsize = atoi(dt + 2);
    ok = a->itemsize == 1 || a->itemsize == 2 || a->itemsize == 4 || a->itemsize == 8;
    if (a->kind == 'f')
      ok = a->itemsize == 4 || a->itemsize == 8;
    if (a->itemsize > 1 && dt[0] == '|')
      ok = FALSE;
    if (strspn(dt + 2, "0123456789") != strlen(dt + 2)) /* "<f4 " */
      ok = FALSE;
  }
  if (!ok) {
    g_autofree char *dts = ll_excerpt(dt, -1);
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "dtype '%s' is not supported (little-endian floats and integers only)", dts);
    return FALSE;
  }
  if (g_str_has_prefix(fortran, "True")) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "is stored in Fortran order; save it with np.ascontiguousarray()");
    return FALSE;
  }
  g_autofree char *shown_shape = ll_excerpt(shape, -1);
  if (*shape != '(') {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "cannot read the shape \"%s\"",
                       shown_shape);
    return FALSE;
  }
  const char *p = shape + 1;
  a->count = 1;
  for (;;) {
    while (*p == ' ' || *p == ',')
      p++;
    if (*p == ')')
      break;
    char *e;
    guint64 v = g_ascii_strtoull(p, &e, 10);
    if (e == p || a->ndim == (int)G_N_ELEMENTS(a->dims)) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "cannot read the shape \"%s\"",
                         shown_shape);
      return FALSE;
    }
    a->dims[a->ndim++] = v;
    if (v == 0 || a->count > G_MAXUINT32 * (guint64)1024 / v) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "has an empty or absurd shape");
      return FALSE;
    }
    a->count *= v;
    p = e;
  }
  guint64 need = a->count * (guint64)a->itemsize, have = len - hoff - hlen;
  if (have < need) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "truncated: holds %" G_GUINT64_FORMAT
                       " data bytes but its shape needs %" G_GUINT64_FORMAT,
                       have, need);
    return FALSE;
  }
  if (have > need) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                       "has %" G_GUINT64_FORMAT " unexpected bytes after the data", have - need);
    return FALSE;
  }
  a->data = b + hoff + hlen;
  return TRUE;
}

static double npy_get(const Npy *a, guint64 i)
{
  const guint8 *p = a->data + i * a->itemsize;
  switch (a->kind) {
  case 'f':
    if (a->itemsize == 4) {
      float v;
      memcpy(&v, p, 4);
      return v;
    } else {
      double v;
      memcpy(&v, p, 8);
      return v;
    }
  case 'i':
    switch (a->itemsize) {
    case 1: return (gint8)p[0];
    case 2: {
      gint16 v;
      memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      gint32 v;
      memcpy(&v, p, 4);
      return v;
    }
    default: {
      gint64 v;
      memcpy(&v, p, 8);
      return (double)v;
    }
    }
  default:
    switch (a->itemsize) {
    case 1: return p[0];
    case 2: {
      guint16 v;
      memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      guint32 v;
      memcpy(&v, p, 4);
      return v;
    }
    default: {
      guint64 v;
      memcpy(&v, p, 8);
      return (double)v;
    }
    }
  }
}

LlDataset *ll_dataset_load_npy(const char *features_path, const char *labels_path, GError **error)
{
  Npy x, y;
  memset(&y, 0, sizeof y);
  LlDataset *d = NULL;
  if (!npy_read(features_path, &x, error))
    goto out;
  gboolean fok = (x.kind == 'f') || (x.kind == 'u' && x.itemsize == 1);
  if (!fok) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, features_path,
                       "features of dtype %c%d are not supported (float32, float64 or uint8)",
                       x.kind, x.itemsize);
    goto out;
  }
  if (x.ndim < 2 || x.ndim > 4) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, features_path,
                       "has %d dimensions; features are (n, F), (n, T, F) or (n, C, H, W)", x.ndim);
    goto out;
  }
  if (x.dims[0] > G_MAXUINT32 || x.count / x.dims[0] > G_MAXINT32) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, features_path, "is too large");
    goto out;
  }
  for (int i = 1; i < x.ndim; i++)
    if (x.dims[i] > G_MAXINT32) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, features_path, "is too large");
      goto out;
    }
  guint n = (guint)x.dims[0];
  int label_dim = 1;
  if (labels_path) {
    if (!npy_read(labels_path, &y, error))
      goto out;
    if (y.ndim < 1 || y.ndim > 2) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, labels_path,
                         "has %d dimensions; labels are (n) or (n, k)", y.ndim);
      goto out;
    }
    if (y.dims[0] != n) {
      ll_data_error_file(error, LL_DATA_ERROR_MISMATCH, labels_path,
                         "holds %" G_GUINT64_FORMAT " labels but the features file holds %u "
                         "samples",
                         y.dims[0], n);
      goto out;
    }
    if (y.ndim == 2) {
      if (y.dims[1] > 4096) {
        ll_data_error_file(error, LL_DATA_ERROR_FORMAT, labels_path, "has too many label columns");
        goto out;
      }
      label_dim = (int)y.dims[1];
    }
  }
  int dims[4];
  for (int i = 1; i < x.ndim; i++)
    dims[i - 1] = (int)x.dims[i];
  {
    char *name = g_path_get_basename(features_path);
    d = ll_dataset_alloc(name, features_path, n, ll_shape_make(x.ndim - 1, dims), x.kind == 'u',
                         label_dim, features_path, error);
    g_free(name);
  }
  if (!d)
    goto out;
  if (d->u8) {
    memcpy(d->u8, x.data, x.count);
  } else {
    size_t size = ll_dataset_sample_size(d);
    for (guint64 i = 0; i < x.count; i++) {
      double v = npy_get(&x, i);
      if (!isfinite(v)) {
        ll_data_error_file(error, LL_DATA_ERROR_FORMAT, features_path,
                           "sample %" G_GUINT64_FORMAT " holds a non-finite value", i / size);
        g_clear_pointer(&d, ll_dataset_free);
        goto out;
      }
      d->f32[i] = (float)v;
    }
  }
  if (labels_path) {
    gboolean classes = y.kind != 'f' && label_dim == 1;
    double max = 0;
    for (guint64 i = 0; i < y.count; i++) {
      double v = npy_get(&y, i);
      if (!isfinite(v)) {
        ll_data_error_file(error, LL_DATA_ERROR_LABEL, labels_path,
                           "the label of sample %" G_GUINT64_FORMAT " is not finite",
                           i / (guint64)label_dim);
        g_clear_pointer(&d, ll_dataset_free);
        goto out;
      }
      if (classes && (v < 0 || v > 65535)) {
        ll_data_error_file(error, LL_DATA_ERROR_LABEL, labels_path,
                           "label %g of sample %" G_GUINT64_FORMAT " is not a class index "
                           "(0..65535)",
                           v, i);
        g_clear_pointer(&d, ll_dataset_free);
        goto out;
      }
      d->labels[i] = (float)v;
      max = MAX(max, v);
    }
    d->n_classes = classes ? (int)max + 1 : 0;
  }
out:
  g_free(x.buf);
  g_free(y.buf);
  return d;
}
