/* pipeline.c: from stored samples to float batches.
 *
 * Per sample, in this order: the raw values become floats (bytes as 0..255);
 * training batches get the geometric augmentations in raw space (random
 * crop after zero padding, horizontal flip, a small bilinear rotation, zero
 * = black outside the image), as torchvision does on PIL images before
 * ToTensor; then x = (raw - offset[c]) / scale[c] normalises each channel;
 * then cutout zeroes a square in normalised space (DeVries and Taylor: 0 is
 * the mean after standardising). The fields beyond x and label (synthetic
 * targets, and the rotation task, which also turns x) are the named dataset
 * transforms of engine/dataset-transforms.c, applied last in their order.
 *
 * Channels: images (C, H, W) normalise per plane; tables (F) and sequences
 * (T, F) per feature (the last dimension). Normalisation statistics come
 * from the stats indices only:
 *   none         offset 0, scale 1
 *   zero-one     bytes: offset 0, scale 255; floats: per-channel min and
 *                max - min (scale 1 when constant)
 *   standardize  per-channel mean and population std (std 1 when < 1e-8)
 *
 * Randomness: the rng's draws per sample are, in order and only for what is
 * enabled, crop (dy then dx), flip, rotation angle, cutout (centre y then
 * x), then the transforms' draws. Evaluation batches are not augmented. */
#include "data-private.h"

#include "dataset-transforms.h"

#include <math.h>
#include <string.h>

/* x and label come first; then the fields of the enabled transforms. */
enum { FIELD_X, FIELD_LABEL, MAX_FIELDS = 16, MAX_TRANSFORMS = 8 };

typedef struct {
  const char *name; /* static */
  LlShape shape;
  int classes;
} Field;

struct LlPipeline {
  const LlDataset *d;
  LlPipelineConfig c; /* label_map owned (a copy) */
  Field fields[MAX_FIELDS];
  int n_fields;
  /* the enabled transforms, and the position of each one's first field */
  const LlDatasetTransform *transforms[MAX_TRANSFORMS];
  int first_field[MAX_TRANSFORMS];
  int n_transforms;
  size_t size;             /* floats per sample of x */
  /* x's layout as (outer, channels, inner) */
  int outer, channels, inner;
  float *offset, *scale, *inv_scale; /* (channels) */
  gboolean image;                    /* rank 3 (C, H, W) */
};

void ll_pipeline_config_clear(LlPipelineConfig *c)
{
  if (!c)
    return;
  g_free(c->label_map);
  memset(c, 0, sizeof *c);
}

/* ---- batches ---- */

/* Batch fields live in host memory from the CPU backend's allocator:
 * zeroed, aligned, and on huge pages when large (a 1,024-sample batch of
 * images is 3 MiB). */
static void free_host(gpointer p) { ll_cpu_backend()->free(p); }

LlBatch *ll_batch_new(void)
{
  LlBatch *b = g_new0(LlBatch, 1);
  b->names = g_ptr_array_new_with_free_func(g_free);
  b->data = g_ptr_array_new_with_free_func(free_host);
  b->shapes = g_array_new(FALSE, FALSE, sizeof(LlShape));
  return b;
}

void ll_batch_free(LlBatch *b)
{
  if (!b)
    return;
  g_ptr_array_unref(b->names);
  g_ptr_array_unref(b->data);
  g_array_unref(b->shapes);
  g_free(b);
}

float *ll_batch_field(const LlBatch *b, const char *name, LlShape *shape)
{
  for (guint i = 0; i < b->names->len; i++)
    if (strcmp(b->names->pdata[i], name) == 0) {
      if (shape)
        *shape = g_array_index(b->shapes, LlShape, i);
      return b->data->pdata[i];
    }
  return NULL;
}

/* Gives the batch the pipeline's fields with room for at least n samples;
 * keeps the buffers when they already fit. */
static void batch_layout(const LlPipeline *p, LlBatch *b, int n)
{
  gboolean same = b->names->len == (guint)p->n_fields && b->capacity >= n;
  for (int i = 0; same && i < p->n_fields; i++)
    same = strcmp(b->names->pdata[i], p->fields[i].name) == 0 &&
           ll_shape_equal(&g_array_index(b->shapes, LlShape, i), &p->fields[i].shape);
  if (same)
    return;
  int cap = MAX(MAX(n, b->capacity), 1);
  g_ptr_array_set_size(b->names, 0);
  g_ptr_array_set_size(b->data, 0);
  g_array_set_size(b->shapes, 0);
  for (int i = 0; i < p->n_fields; i++) {
    const Field *f = &p->fields[i];
    g_ptr_array_add(b->names, g_strdup(f->name));
    float *buf = ll_cpu_backend()->alloc((size_t)cap * ll_shape_size(&f->shape) * sizeof(float));
    if (!buf)
      g_error("out of memory for a batch of %d samples", cap); /* as g_new0 would */
    g_ptr_array_add(b->data, buf);
    g_array_append_val(b->shapes, f->shape);
  }
  b->capacity = cap;
}

/* ---- construction ---- */

static gboolean config_error(GError **error, const LlDataset *d, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static gboolean config_error(GError **error, const LlDataset *d, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG, "%s: %s", d->name ? d->name : "data",
              msg);
  return FALSE;
}

static gboolean check_config(const LlDataset *d, const LlPipelineConfig *c, GError **error)
{
  char sh[64];
  ll_shape_format(&d->shape, sh, sizeof sh);
  gboolean image = d->shape.rank == 3;
  struct {
    const char *name;
    gboolean on;
  } aug[] = {{"crop_padding", c->crop_padding != 0},
             {"hflip", c->hflip},
             {"cutout", c->cutout != 0},
             {"rotate_degrees", c->rotate_degrees != 0}};
  for (guint i = 0; i < G_N_ELEMENTS(aug); i++)
    if (aug[i].on && !image)
      return config_error(error, d, "%s needs images (C, H, W) but the samples are %s", aug[i].name,
                          sh);
  if (c->normalize < LL_NORM_NONE || c->normalize > LL_NORM_STANDARDIZE)
    return config_error(error, d, "unknown normalisation %d", (int)c->normalize);
  int h = image ? d->shape.d[1] : 0, w = image ? d->shape.d[2] : 0;
  if (c->crop_padding < 0 || c->crop_padding > MAX(h, w))
    return config_error(error, d, "crop_padding is %d; it must be in 0..%d", c->crop_padding,
                        MAX(h, w));
  if (c->cutout < 0 || c->cutout > MAX(h, w))
    return config_error(error, d, "cutout is %d; it must be in 0..%d", c->cutout, MAX(h, w));
  if (!(c->rotate_degrees >= 0 && c->rotate_degrees <= 180))
    return config_error(error, d, "rotate_degrees is %g; it must be in 0..180", c->rotate_degrees);
  int n;
  const LlDatasetTransform *const *all = ll_dataset_transforms(&n);
  for (int t = 0; t < n; t++) {
    g_autofree char *why = all[t]->enabled(c) ? all[t]->check(d, c) : NULL;
    if (why)
      return config_error(error, d, "%s", why);
  }
  return TRUE;
}

static void add_field(LlPipeline *p, const char *name, LlShape shape, int classes)
{
  g_assert(p->n_fields < MAX_FIELDS);
  p->fields[p->n_fields++] = (Field){.name = name, .shape = shape, .classes = classes};
}

static float raw_at(const LlDataset *d, size_t i) { return d->u8 ? d->u8[i] : d->f32[i]; }

/* offset / scale per channel over the stats samples (all when NULL). */
static void compute_stats(LlPipeline *p, const GArray *stats)
{
  const LlDataset *d = p->d;
  int C = p->channels;
  guint ns = stats ? stats->len : d->n;
  for (int c = 0; c < C; c++) {
    p->offset[c] = 0.0f;
    p->scale[c] = 1.0f;
  }
  if (p->c.normalize == LL_NORM_NONE)
    return;
  if (p->c.normalize == LL_NORM_ZERO_ONE && d->u8) {
    for (int c = 0; c < C; c++)
      p->scale[c] = 255.0f;
    return;
  }
  if (C <= 0)
    return;
  double *a = g_new0(double, C), *b = g_new0(double, C);
  size_t *cnt = g_new0(size_t, C);
  gboolean minmax = p->c.normalize == LL_NORM_ZERO_ONE;
  for (int c = 0; c < C; c++) {
    a[c] = minmax ? INFINITY : 0.0;
    b[c] = minmax ? -INFINITY : 0.0;
  }
  /* Two passes for standardising (mean, then squared deviations), which
   * stays accurate for float data far from 0. */
  for (int pass = 0; pass < (minmax ? 1 : 2); pass++) {
    for (guint s = 0; s < ns; s++) {
      guint idx = stats ? g_array_index(stats, guint32, s) : s;
      if (idx >= d->n)
        continue;
      size_t base = (size_t)idx * p->size;
      for (int o = 0; o < p->outer; o++)
        for (int c = 0; c < C; c++) {
          size_t e = base + ((size_t)o * C + c) * p->inner;
          double acc = 0, lo = INFINITY, hi = -INFINITY;
          for (int i = 0; i < p->inner; i++) {
            double v = raw_at(d, e + i);
            if (minmax) {
              lo = MIN(lo, v);
              hi = MAX(hi, v);
            } else if (pass == 0) {
              acc += v;
            } else {
              acc += (v - a[c]) * (v - a[c]);
            }
          }
          if (minmax) {
            a[c] = MIN(a[c], lo);
            b[c] = MAX(b[c], hi);
          } else if (pass == 0) {
            a[c] += acc;
            cnt[c] += (size_t)p->inner;
          } else {
            b[c] += acc;
          }
        }
    }
    if (!minmax && pass == 0)
      for (int c = 0; c < C; c++)
        a[c] = cnt[c] ? a[c] / (double)cnt[c] : 0.0;
  }
  for (int c = 0; c < C; c++) {
    if (minmax) {
      if (isfinite(a[c]) && isfinite(b[c])) {
        p->offset[c] = (float)a[c];
        p->scale[c] = b[c] - a[c] > 0 ? (float)(b[c] - a[c]) : 1.0f;
      }
    } else {
      double sd = cnt[c] ? sqrt(b[c] / (double)cnt[c]) : 1.0;
      p->offset[c] = (float)a[c];
      p->scale[c] = sd > 1e-8 ? (float)sd : 1.0f;
    }
  }
  g_free(a);
  g_free(b);
  g_free(cnt);
}

LlPipeline *ll_pipeline_new(const LlDataset *d, const LlPipelineConfig *c,
                            const GArray *stats_indices, GError **error)
{
  g_return_val_if_fail(d != NULL && c != NULL, NULL);
  if (d->n == 0 || (!d->u8 && !d->f32) || !d->labels) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG, "%s: the dataset is empty",
                d->name ? d->name : "data");
    return NULL;
  }
  if (!check_config(d, c, error))
    return NULL;
  if (stats_indices && stats_indices->len == 0 && c->normalize != LL_NORM_NONE) {
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG,
                "%s: no samples to take normalisation statistics from", d->name);
    return NULL;
  }
  LlPipeline *p = g_new0(LlPipeline, 1);
  p->d = d;
  p->c = *c;
  p->c.label_map = c->label_map ? g_memdup2(c->label_map, sizeof(int) * c->n_label_map) : NULL;
  p->size = ll_dataset_sample_size(d);
  p->image = d->shape.rank == 3;
  if (p->image) {
    p->outer = 1;
    p->channels = d->shape.d[0];
    p->inner = d->shape.d[1] * d->shape.d[2];
  } else {
    p->channels = d->shape.d[d->shape.rank - 1];
    p->outer = (int)(p->size / (size_t)p->channels);
    p->inner = 1;
  }
  p->offset = g_new(float, p->channels);
  p->scale = g_new(float, p->channels);
  p->inv_scale = g_new(float, p->channels);
  compute_stats(p, stats_indices);
  for (int ch = 0; ch < p->channels; ch++)
    p->inv_scale[ch] = 1.0f / p->scale[ch];

  LlShape one = ll_shape_make(1, (int[]){1});
  add_field(p, "x", d->shape, 0);
  add_field(p, "label", ll_shape_make(1, (int[]){d->label_dim}), d->n_classes);
  int n;
  const LlDatasetTransform *const *all = ll_dataset_transforms(&n);
  for (int t = 0; t < n; t++) {
    if (!all[t]->enabled(&p->c))
      continue;
    g_assert(p->n_transforms < MAX_TRANSFORMS);
    p->transforms[p->n_transforms] = all[t];
    p->first_field[p->n_transforms++] = p->n_fields;
    for (int f = 0; f < all[t]->n_fields; f++)
      add_field(p, all[t]->fields[f], one, all[t]->classes(d, &p->c, f));
  }
  return p;
}

void ll_pipeline_free(LlPipeline *p)
{
  if (!p)
    return;
  g_free(p->c.label_map);
  g_free(p->offset);
  g_free(p->scale);
  g_free(p->inv_scale);
  g_free(p);
}

gboolean ll_pipeline_field_shape(const LlPipeline *p, const char *name, LlShape *shape)
{
  for (int i = 0; i < p->n_fields; i++)
    if (strcmp(p->fields[i].name, name) == 0) {
      if (shape)
        *shape = p->fields[i].shape;
      return TRUE;
    }
  return FALSE;
}

int ll_pipeline_field_classes(const LlPipeline *p, const char *name)
{
  for (int i = 0; i < p->n_fields; i++)
    if (strcmp(p->fields[i].name, name) == 0)
      return p->fields[i].classes;
  return -1;
}

int ll_pipeline_get_fields(const LlPipeline *p, LlFieldInfo *out, int max)
{
  int n = MIN(p->n_fields, max);
  for (int i = 0; i < n; i++)
    out[i] = (LlFieldInfo){
        .name = p->fields[i].name, .shape = p->fields[i].shape, .classes = p->fields[i].classes};
  return n;
}

char *ll_pipeline_field_list(const LlPipeline *p)
{
  GString *s = g_string_new(NULL);
  for (int i = 0; i < p->n_fields; i++) {
    char buf[64];
    g_string_append_printf(s, "%s%s %s", i ? ", " : "", p->fields[i].name,
                           ll_shape_format(&p->fields[i].shape, buf, sizeof buf));
  }
  return g_string_free(s, FALSE);
}

int ll_pipeline_norm_stats(const LlPipeline *p, const float **offset, const float **scale)
{
  if (offset)
    *offset = p->offset;
  if (scale)
    *scale = p->scale;
  return p->channels;
}

const LlDataset *ll_pipeline_dataset(const LlPipeline *p) { return p->d; }

/* ---- augmentation on one (C, H, W) float image; tmp has the same size ---- */

static void shift_zero_pad(float *x, float *tmp, int C, int H, int W, int dy, int dx)
{
  for (int c = 0; c < C; c++)
    for (int y = 0; y < H; y++)
      for (int xx = 0; xx < W; xx++) {
        int sy = y + dy, sx = xx + dx;
        tmp[((size_t)c * H + y) * W + xx] =
            sy >= 0 && sy < H && sx >= 0 && sx < W ? x[((size_t)c * H + sy) * W + sx] : 0.0f;
      }
  memcpy(x, tmp, sizeof(float) * C * H * W);
}

static void hflip(float *x, int C, int H, int W)
{
  for (int r = 0; r < C * H; r++) {
    float *row = x + (size_t)r * W;
    for (int i = 0, j = W - 1; i < j; i++, j--) {
      float t = row[i];
      row[i] = row[j];
      row[j] = t;
    }
  }
}

/* Rotation by deg about the image centre (counter-clockwise as displayed,
 * y pointing down), bilinear, zero outside. */
static void rotate_bilinear(float *x, float *tmp, int C, int H, int W, double deg)
{
  double a = deg * G_PI / 180.0, ca = cos(a), sa = sin(a);
  double cy = (H - 1) / 2.0, cx = (W - 1) / 2.0;
  for (int y = 0; y < H; y++)
    for (int xx = 0; xx < W; xx++) {
      double dy = y - cy, dx = xx - cx;
      double sx = ca * dx - sa * dy + cx, sy = sa * dx + ca * dy + cy;
      int x0 = (int)floor(sx), y0 = (int)floor(sy);
      float tx = (float)(sx - x0), ty = (float)(sy - y0);
      float w00 = (1 - tx) * (1 - ty), w01 = tx * (1 - ty), w10 = (1 - tx) * ty, w11 = tx * ty;
      gboolean in00 = y0 >= 0 && y0 < H && x0 >= 0 && x0 < W;
      gboolean in01 = y0 >= 0 && y0 < H && x0 + 1 >= 0 && x0 + 1 < W;
      gboolean in10 = y0 + 1 >= 0 && y0 + 1 < H && x0 >= 0 && x0 < W;
      gboolean in11 = y0 + 1 >= 0 && y0 + 1 < H && x0 + 1 >= 0 && x0 + 1 < W;
      for (int c = 0; c < C; c++) {
        const float *s = x + (size_t)c * H * W;
        float v = 0;
        if (in00)
          v += w00 * s[y0 * W + x0];
        if (in01)
          v += w01 * s[y0 * W + x0 + 1];
        if (in10)
          v += w10 * s[(y0 + 1) * W + x0];
        if (in11)
          v += w11 * s[(y0 + 1) * W + x0 + 1];
        tmp[((size_t)c * H + y) * W + xx] = v;
      }
    }
  memcpy(x, tmp, sizeof(float) * C * H * W);
}

static void cutout(float *x, int C, int H, int W, int side, int cy, int cx)
{
  int y0 = MAX(cy - side / 2, 0), y1 = MIN(cy - side / 2 + side, H);
  int x0 = MAX(cx - side / 2, 0), x1 = MIN(cx - side / 2 + side, W);
  for (int c = 0; c < C; c++)
    for (int y = y0; y < y1; y++)
      for (int xx = x0; xx < x1; xx++)
        x[((size_t)c * H + y) * W + xx] = 0.0f;
}

/* ---- filling ---- */

/* dst[i] = ((float)src[i] - off) * inv, in blocks of eight that the
 * compiler vectorises at -O2 as well. */
static void u8_normalise(float *restrict dst, const guint8 *restrict src, size_t n, float off,
                         float inv)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      dst[i + k] = ((float)src[i + k] - off) * inv;
  for (; i < n; i++)
    dst[i] = ((float)src[i] - off) * inv;
}

/* Samples [begin, end) of a batch laid out for them (indices are the
 * batch's, checked): the body of ll_pipeline_fill, where each sample depends
 * on its index alone when rng is NULL. */
static void fill_samples(const LlPipeline *p, const guint32 *indices, int begin, int end,
                         gboolean train, LlRng *rng, LlBatch *batch)
{
  const LlDataset *d = p->d;
  const LlPipelineConfig *c = &p->c;
  int C = p->image ? d->shape.d[0] : 0, H = p->image ? d->shape.d[1] : 0,
      W = p->image ? d->shape.d[2] : 0;
  float *tmp = g_new(float, p->size);
  float *X = batch->data->pdata[FIELD_X], *L = batch->data->pdata[FIELD_LABEL];
  int ld = d->label_dim;
  /* without augmentation between them, the conversion to float and the
   * normalisation run as one pass (the same arithmetic) */
  gboolean augment =
      train && p->image && (c->crop_padding > 0 || c->hflip || c->rotate_degrees > 0);
  for (int i = begin; i < end; i++) {
    guint32 idx = indices[i];
    float *x = X + (size_t)i * p->size;
    size_t base = (size_t)idx * p->size;
    gboolean normalised = FALSE;
    if (d->u8 && !augment) {
      for (int o = 0; o < p->outer; o++)
        for (int ch = 0; ch < p->channels; ch++) {
          size_t at = ((size_t)o * p->channels + ch) * p->inner;
          u8_normalise(x + at, d->u8 + base + at, (size_t)p->inner, p->offset[ch],
                       p->inv_scale[ch]);
        }
      normalised = TRUE;
    } else if (d->u8) {
      for (size_t e = 0; e < p->size; e++)
        x[e] = d->u8[base + e];
    } else {
      memcpy(x, d->f32 + base, sizeof(float) * p->size);
    }

    if (train && p->image) {
      if (c->crop_padding > 0) {
        int r = c->crop_padding;
        int dy = (int)ll_rng_below(rng, 2 * (uint64_t)r + 1) - r;
        int dx = (int)ll_rng_below(rng, 2 * (uint64_t)r + 1) - r;
        if (dy || dx)
          shift_zero_pad(x, tmp, C, H, W, dy, dx);
      }
      if (c->hflip && ll_rng_below(rng, 2))
        hflip(x, C, H, W);
      if (c->rotate_degrees > 0) {
        double deg = (2.0 * ll_rng_uniform(rng) - 1.0) * c->rotate_degrees;
        rotate_bilinear(x, tmp, C, H, W, deg);
      }
    }

    for (int o = 0; o < p->outer && !normalised; o++)
      for (int ch = 0; ch < p->channels; ch++) {
        float off = p->offset[ch], inv = p->inv_scale[ch];
        float *v = x + ((size_t)o * p->channels + ch) * p->inner;
        for (int e = 0; e < p->inner; e++)
          v[e] = (v[e] - off) * inv;
      }

    if (train && p->image && c->cutout > 0) {
      int cy = (int)ll_rng_below(rng, (uint64_t)H);
      int cx = (int)ll_rng_below(rng, (uint64_t)W);
      cutout(x, C, H, W, c->cutout, cy, cx);
    }

    const float *lab = d->labels + (size_t)idx * ld;
    memcpy(L + (size_t)i * ld, lab, sizeof(float) * ld);
    LlTransformSample ts = {.c = c,
                            .idx = idx,
                            .train = train,
                            .rng = rng,
                            .x = x,
                            .tmp = tmp,
                            .C = C,
                            .H = H,
                            .W = W,
                            .label = lab};
    for (int t = 0; t < p->n_transforms; t++) {
      float *out[2];
      for (int f = 0; f < p->transforms[t]->n_fields; f++)
        out[f] = (float *)batch->data->pdata[p->first_field[t] + f] + i;
      p->transforms[t]->apply(&ts, out);
    }
  }
  g_free(tmp);
}

/* Checks the indices and lays the batch out for n samples. */
static gboolean fill_prepare(const LlPipeline *p, const guint32 *indices, int n, LlBatch *batch)
{
  g_return_val_if_fail(p != NULL && batch != NULL && n >= 0 && (n == 0 || indices != NULL), FALSE);
  for (int i = 0; i < n; i++)
    g_return_val_if_fail(indices[i] < p->d->n, FALSE);
  batch_layout(p, batch, n);
  batch->n = n;
  return TRUE;
}

void ll_pipeline_fill(const LlPipeline *p, const guint32 *indices, int n, gboolean train,
                      LlRng *rng, LlBatch *batch)
{
  g_return_if_fail(!train || rng != NULL);
  if (fill_prepare(p, indices, n, batch))
    fill_samples(p, indices, 0, n, train, rng, batch);
}

typedef struct {
  const LlPipeline *p;
  const guint32 *indices;
  LlBatch *batch;
} FillPart;

static void fill_part(void *arg, int chunk, int begin, int end)
{
  const FillPart *f = arg;
  fill_samples(f->p, f->indices, begin, end, FALSE, NULL, f->batch);
}

/* Samples per piece of a parallel fill: a few hundred KiB of floats. */
#define FILL_GRAIN 64

void ll_pipeline_fill_eval(const LlPipeline *p, const guint32 *indices, int n, LlBatch *batch,
                           LlParallelFor par)
{
  if (!fill_prepare(p, indices, n, batch))
    return;
  if (!par) {
    fill_samples(p, indices, 0, n, FALSE, NULL, batch);
    return;
  }
  FillPart f = {.p = p, .indices = indices, .batch = batch};
  par(n, FILL_GRAIN, fill_part, &f);
}

LlPipeline *ll_pipeline_new_like(const LlPipeline *like, const LlDataset *d, GError **error)
{
  if (ll_dataset_sample_size(d) != like->size || d->label_dim != like->d->label_dim) {
    char a[64], b[64];
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_MISMATCH,
                "%s: samples of shape %s do not match the training data's %s", d->name,
                ll_shape_format(&d->shape, a, sizeof a),
                ll_shape_format(&like->d->shape, b, sizeof b));
    return NULL;
  }
  /* statistics from one sample only, then replaced by the training set's */
  g_autoptr(GArray) one = g_array_new(FALSE, FALSE, sizeof(guint32));
  guint32 zero = 0;
  g_array_append_val(one, zero);
  LlPipeline *p = ll_pipeline_new(d, &like->c, one, error);
  if (!p)
    return NULL;
  for (int ch = 0; ch < p->channels; ch++) {
    p->offset[ch] = like->offset[ch];
    p->scale[ch] = like->scale[ch];
    p->inv_scale[ch] = like->inv_scale[ch];
  }
  return p;
}
