/* csv.c: comma-separated tables with a header line.
 *
 * Every column but the label column is a numeric feature. Fields may be
 * quoted with double quotes ("" inside for a quote); blank lines are skipped;
 * CR-LF line ends are accepted. The label column decides the task: all
 * labels integers in 0..65535 gives classes (n_classes = max + 1); all
 * numbers otherwise gives regression (n_classes 0); any label that is not a
 * number makes the column categorical, classes being the distinct strings in
 * byte order (class_names). Errors give the line number (the header is line
 * 1) and the column. */
#include "data-private.h"

#include "untrusted.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Splits one line into fields (unquoted, trimmed). */
static GPtrArray *split_line(const char *s)
{
  GPtrArray *f = g_ptr_array_new_with_free_func(g_free);
  const char *p = s;
  for (;;) {
    GString *cell = g_string_new(NULL);
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '"') {
      p++;
      while (*p) {
        if (*p == '"' && p[1] == '"') {
          g_string_append_c(cell, '"');
          p += 2;
        } else if (*p == '"') {
          p++;
          break;
        } else {
          g_string_append_c(cell, *p++);
        }
      }
      while (*p && *p != ',')
        p++;
    } else {
      while (*p && *p != ',')
        g_string_append_c(cell, *p++);
    }
    g_ptr_array_add(f, g_strstrip(g_string_free(cell, FALSE)));
    if (*p != ',')
      break;
    p++;
  }
  return f;
}

static gboolean parse_number(const char *s, double *v)
{
  if (!*s)
    return FALSE;
  char *end;
  *v = g_ascii_strtod(s, &end);
  return *end == '\0' && end != s && isfinite(*v);
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

LlDataset *ll_dataset_load_csv(const char *path, const char *label_column, GError **error)
{
  size_t len = 0;
  g_autofree char *text = (char *)ll_data_read_file(path, &len, error);
  if (!text)
    return NULL;
  if (memchr(text, '\0', len)) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "holds NUL bytes, not a text file");
    return NULL;
  }
  text = g_realloc(text, len + 1);
  text[len] = '\0';
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_autoptr(GPtrArray) header = NULL;
  int header_line = 0;
  for (int i = 0; lines[i]; i++) {
    g_strchomp(lines[i]); /* drops the CR of CR-LF, and trailing spaces */
    if (!header && lines[i][0]) {
      header = split_line(lines[i]);
      header_line = i + 1;
    }
  }
  if (!header) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "is empty (no header line)");
    return NULL;
  }
  int ncol = (int)header->len;
  int lab = -1;
  if (!label_column) {
    lab = ncol - 1;
  } else {
    for (int c = 0; c < ncol; c++)
      if (strcmp(header->pdata[c], label_column) == 0)
        lab = c;
  }
  if (lab < 0) {
    g_ptr_array_add(header, NULL);
    g_autofree char *cols = g_strjoinv(", ", (char **)header->pdata);
    g_autofree char *shown = ll_excerpt(cols, -1);
    g_autofree char *want = ll_excerpt(label_column, -1);
    ll_data_error_file(error, LL_DATA_ERROR_CONFIG, path,
                       "has no column '%s' for the label (columns: %s)", want, shown);
    return NULL;
  }
  if (ncol < 2) {
    g_autofree char *shown = ll_excerpt(header->pdata[lab], -1);
    ll_data_error_file(error, LL_DATA_ERROR_CONFIG, path,
                       "has no feature columns besides the label '%s'", shown);
    return NULL;
  }
  int nf = ncol - 1;
  GArray *feat = g_array_new(FALSE, FALSE, sizeof(float));
  GPtrArray *labels = g_ptr_array_new_with_free_func(g_free);
  LlDataset *d = NULL;
  for (int i = header_line; lines[i]; i++) {
    if (!lines[i][0])
      continue;
    g_autoptr(GPtrArray) f = split_line(lines[i]);
    if ((int)f->len != ncol) {
      ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                         "line %d has %u fields but the header has %d", i + 1, f->len, ncol);
      goto out;
    }
    for (int c = 0; c < ncol; c++) {
      const char *cell = f->pdata[c];
      if (c == lab) {
        if (!*cell) {
          g_autofree char *col = ll_excerpt(header->pdata[c], -1);
          ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                             "line %d: the label column '%s' is empty", i + 1, col);
          goto out;
        }
        g_ptr_array_add(labels, g_strdup(cell));
        continue;
      }
      double v;
      if (!parse_number(cell, &v)) {
        g_autofree char *col = ll_excerpt(header->pdata[c], -1);
        g_autofree char *shown = ll_excerpt(cell, -1);
        ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path,
                           "line %d, column '%s': '%s' is not a number", i + 1, col, shown);
        goto out;
      }
      float fv = (float)v;
      g_array_append_val(feat, fv);
    }
  }
  if (labels->len == 0) {
    ll_data_error_file(error, LL_DATA_ERROR_FORMAT, path, "has a header but no data rows");
    goto out;
  }
  {
    char *name = g_path_get_basename(path);
    d = ll_dataset_alloc(name, path, labels->len, ll_shape_make(1, (int[]){nf}), FALSE, 1, path,
                         error);
    g_free(name);
  }
  if (!d)
    goto out;
  memcpy(d->f32, feat->data, (size_t)feat->len * sizeof(float));
  gboolean numeric = TRUE, integral = TRUE;
  double max = 0;
  for (guint i = 0; i < labels->len; i++) {
    double v;
    if (!parse_number(labels->pdata[i], &v)) {
      numeric = FALSE;
      break;
    }
    if (v < 0 || v > 65535 || v != floor(v))
      integral = FALSE;
    max = MAX(max, v);
    d->labels[i] = (float)v;
  }
  if (numeric) {
    d->n_classes = integral ? (int)max + 1 : 0;
  } else {
    /* Categorical: distinct strings in byte order are the classes. */
    GPtrArray *names = g_ptr_array_new();
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < labels->len; i++)
      if (g_hash_table_add(seen, labels->pdata[i]))
        g_ptr_array_add(names, labels->pdata[i]);
    g_ptr_array_sort(names, cmp_str);
    for (guint k = 0; k < names->len; k++)
      g_hash_table_insert(seen, names->pdata[k], GUINT_TO_POINTER(k));
    for (guint i = 0; i < labels->len; i++)
      d->labels[i] = (float)GPOINTER_TO_UINT(g_hash_table_lookup(seen, labels->pdata[i]));
    d->n_classes = (int)names->len;
    g_ptr_array_add(names, NULL);
    d->class_names = g_strdupv((char **)names->pdata);
    g_hash_table_unref(seen);
    g_ptr_array_unref(names);
  }
out:
  g_array_unref(feat);
  g_ptr_array_unref(labels);
  return d;
}
