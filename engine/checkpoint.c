/* checkpoint.c: safetensors writing (atomic) and reading (validated), and
 * loading into a graph by name with a report of what did not fit. */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "json-doc.h"

G_DEFINE_QUARK(ll - checkpoint - error - quark, ll_checkpoint_error)

/* The safetensors library refuses larger headers too. */
#define MAX_HEADER_BYTES (100u * 1000u * 1000u)
#define MAX_RANK         64
/* Names listed in one error message before "and N more". */
#define MAX_LISTED 12

static void ck_error(GError **error, LlCheckpointError code, const char *path, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static void ck_error(GError **error, LlCheckpointError code, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, LL_CHECKPOINT_ERROR, code, "checkpoint \"%s\": %s", path, msg);
}

/* ---- named tensors and reports ------------------------------------------------------- */

LlNamedTensor *ll_named_tensor_new(const char *name, const LlShape *shape, const float *data)
{
  LlNamedTensor *t = g_new0(LlNamedTensor, 1);
  size_t n = ll_shape_size(shape);
  t->name = g_strdup(name);
  t->shape = *shape;
  t->data = g_new0(float, n ? n : 1);
  if (data)
    memcpy(t->data, data, n * sizeof *data);
  return t;
}

void ll_named_tensor_free(LlNamedTensor *t)
{
  if (!t)
    return;
  g_free(t->name);
  g_free(t->data);
  g_free(t);
}

static void mismatch_free(gpointer p)
{
  LlShapeMismatch *m = p;
  g_free(m->name);
  g_free(m->file_name);
  g_free(m->file_shape);
  g_free(m->graph_shape);
  g_free(m);
}

void ll_load_report_init(LlLoadReport *r)
{
  r->loaded = g_ptr_array_new_with_free_func(g_free);
  r->missing = g_ptr_array_new_with_free_func(g_free);
  r->unexpected = g_ptr_array_new_with_free_func(g_free);
  r->mismatched = g_ptr_array_new_with_free_func(mismatch_free);
  r->skipped = g_ptr_array_new_with_free_func(g_free);
}

void ll_load_report_clear(LlLoadReport *r)
{
  g_clear_pointer(&r->loaded, g_ptr_array_unref);
  g_clear_pointer(&r->missing, g_ptr_array_unref);
  g_clear_pointer(&r->unexpected, g_ptr_array_unref);
  g_clear_pointer(&r->mismatched, g_ptr_array_unref);
  g_clear_pointer(&r->skipped, g_ptr_array_unref);
}

/* "a", "b", "c" and 3 more */
static void append_names(GString *s, GPtrArray *names)
{
  for (guint i = 0; i < names->len && i < MAX_LISTED; i++)
    g_string_append_printf(s, "%s\"%s\"", i ? ", " : "", (const char *)names->pdata[i]);
  if (names->len > MAX_LISTED)
    g_string_append_printf(s, " and %u more", names->len - MAX_LISTED);
}

static void append_mismatches(GString *s, GPtrArray *mm)
{
  for (guint i = 0; i < mm->len && i < MAX_LISTED; i++) {
    const LlShapeMismatch *m = mm->pdata[i];
    g_string_append_printf(s, "%s\"%s\" is %s in the file, %s in the graph", i ? ", " : "", m->name,
                           m->file_shape, m->graph_shape);
  }
  if (mm->len > MAX_LISTED)
    g_string_append_printf(s, " and %u more", mm->len - MAX_LISTED);
}

char *ll_load_report_format(const LlLoadReport *r)
{
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "loaded %u tensors", r->loaded->len);
  if (r->missing->len) {
    g_string_append(s, "\nmissing from the file: ");
    append_names(s, r->missing);
  }
  if (r->unexpected->len) {
    g_string_append(s, "\nnot in the graph: ");
    append_names(s, r->unexpected);
  }
  if (r->mismatched->len) {
    g_string_append(s, "\nshape mismatch: ");
    append_mismatches(s, r->mismatched);
  }
  if (r->skipped->len) {
    g_string_append(s, "\nskipped (block not selected): ");
    append_names(s, r->skipped);
  }
  return g_string_free(s, FALSE);
}

/* ---- byte order and dtypes ------------------------------------------------------------ */

typedef enum { DT_F32, DT_F16, DT_BF16, DT_F64 } Dtype;

static const struct {
  const char *name;
  Dtype dt;
  int size;
} dtypes[] = {
    {"F32", DT_F32, 4},
    {"F16", DT_F16, 2},
    {"BF16", DT_BF16, 2},
    {"F64", DT_F64, 8},
};

static int dtype_size(Dtype dt)
{
  for (guint i = 0; i < G_N_ELEMENTS(dtypes); i++)
    if (dtypes[i].dt == dt)
      return dtypes[i].size;
  return 0;
}

static float half_to_float(guint16 h)
{
  guint32 sign = (guint32)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0) {
    /* zero or subnormal: man * 2^-24 */
    float f = ldexpf((float)man, -24);
    return sign ? -f : f;
  }
  if (exp == 31)
    bits = sign | 0x7f800000u | (man << 13);
  else
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* n floats in place between host order and little-endian (its own inverse). */
static void floats_le(float *x, size_t n)
{
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
  guint32 *u = (guint32 *)x;
  for (size_t i = 0; i < n; i++)
    u[i] = GUINT32_SWAP_LE_BE(u[i]);
#else
  (void)x;
  (void)n;
#endif
}

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct {
  char *name;
  Dtype dtype;
  int rank;
  gint64 dims[MAX_RANK];
  guint64 begin, end; /* bytes from the start of the data section */
} Entry;

typedef struct {
  const char *path;
  GMappedFile *map;
  const guint8 *data; /* the data section */
  guint64 data_len;
  GPtrArray *entries;   /* Entry*, by begin */
  GHashTable *by_name;  /* name -> Entry* */
  GHashTable *metadata; /* char* -> char* */
} Ckpt;

static void entry_free(gpointer p)
{
  Entry *e = p;
  g_free(e->name);
  g_free(e);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Entry, entry_free)

static void ckpt_free(Ckpt *c)
{
  if (!c)
    return;
  if (c->map)
    g_mapped_file_unref(c->map);
  if (c->entries)
    g_ptr_array_unref(c->entries);
  if (c->by_name)
    g_hash_table_unref(c->by_name);
  if (c->metadata)
    g_hash_table_unref(c->metadata);
  g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Ckpt, ckpt_free)

static gboolean node_uint(JsonNode *n, guint64 *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
    return FALSE;
  gint64 v = json_node_get_int(n);
  if (v < 0)
    return FALSE;
  *out = (guint64)v;
  return TRUE;
}

static char *entry_shape_str(const Entry *e)
{
  GString *s = g_string_new("(");
  for (int i = 0; i < e->rank; i++)
    g_string_append_printf(s, i ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, e->dims[i]);
  g_string_append_c(s, ')');
  return g_string_free(s, FALSE);
}

static gboolean parse_metadata(Ckpt *c, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path, "\"__metadata__\" is not an object");
    return FALSE;
  }
  JsonObject *o = json_node_get_object(node);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    JsonNode *v = json_object_get_member(o, l->data);
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING) {
      ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
               "metadata \"%s\" is not a string (safetensors metadata maps strings to strings)",
               (const char *)l->data);
      return FALSE;
    }
    g_hash_table_insert(c->metadata, g_strdup(l->data), g_strdup(json_node_get_string(v)));
  }
  return TRUE;
}

static gboolean parse_entry(Ckpt *c, const char *name, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path, "tensor \"%s\": not an object", name);
    return FALSE;
  }
  JsonObject *o = json_node_get_object(node);
  JsonNode *dt = json_object_get_member(o, "dtype");
  JsonNode *shape = json_object_get_member(o, "shape");
  JsonNode *offs = json_object_get_member(o, "data_offsets");
  if (!dt || !JSON_NODE_HOLDS_VALUE(dt) || json_node_get_value_type(dt) != G_TYPE_STRING) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
             "tensor \"%s\": \"dtype\" is missing or not a string", name);
    return FALSE;
  }
  g_autoptr(Entry) e = g_new0(Entry, 1);
  const char *dts = json_node_get_string(dt);
  int dsize = 0;
  for (guint i = 0; i < G_N_ELEMENTS(dtypes); i++)
    if (!strcmp(dts, dtypes[i].name)) {
      e->dtype = dtypes[i].dt;
      dsize = dtypes[i].size;
    }
  if (!dsize) {
    ck_error(error, LL_CHECKPOINT_ERROR_UNSUPPORTED, c->path,
             "tensor \"%s\": dtype \"%s\" is not supported (LayerLab reads F32, and converts "
             "F16, BF16 and F64)",
             name, dts);
    return FALSE;
  }
  if (!shape || !JSON_NODE_HOLDS_ARRAY(shape)) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
             "tensor \"%s\": \"shape\" is missing or not an array", name);
    return FALSE;
  }
  JsonArray *sa = json_node_get_array(shape);
  guint rank = json_array_get_length(sa);
  if (rank > MAX_RANK) {
    ck_error(error, LL_CHECKPOINT_ERROR_UNSUPPORTED, c->path, "tensor \"%s\": rank %u is too large",
             name, rank);
    return FALSE;
  }
  guint64 count = 1;
  e->rank = (int)rank;
  for (guint i = 0; i < rank; i++) {
    guint64 d;
    if (!node_uint(json_array_get_element(sa, i), &d) || d > G_MAXINT64) {
      ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
               "tensor \"%s\": shape entry %u is not a non-negative integer", name, i);
      return FALSE;
    }
    e->dims[i] = (gint64)d;
    if (!g_uint64_checked_mul(&count, count, d)) {
      ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path, "tensor \"%s\": shape is too large",
               name);
      return FALSE;
    }
  }
  guint64 begin, end;
  JsonArray *oa = offs && JSON_NODE_HOLDS_ARRAY(offs) ? json_node_get_array(offs) : NULL;
  if (!oa || json_array_get_length(oa) != 2 || !node_uint(json_array_get_element(oa, 0), &begin) ||
      !node_uint(json_array_get_element(oa, 1), &end)) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
             "tensor \"%s\": \"data_offsets\" is not a pair of non-negative integers", name);
    return FALSE;
  }
  if (begin > end || end > c->data_len) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
             "tensor \"%s\": data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
             "] are out of range (the data section has %" G_GUINT64_FORMAT " bytes)",
             name, begin, end, c->data_len);
    return FALSE;
  }
  guint64 bytes;
  if (!g_uint64_checked_mul(&bytes, count, (guint64)dsize) || bytes != end - begin) {
    g_autofree char *s = entry_shape_str(e);
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
             "tensor \"%s\": shape %s of %s needs %" G_GUINT64_FORMAT
             " bytes, data_offsets give %" G_GUINT64_FORMAT,
             name, s, dts, count * (guint64)dsize, end - begin);
    return FALSE;
  }
  e->begin = begin;
  e->end = end;
  e->name = g_strdup(name);
  g_hash_table_insert(c->by_name, e->name, e);
  g_ptr_array_add(c->entries, g_steal_pointer(&e));
  return TRUE;
}

static gint entry_cmp(gconstpointer a, gconstpointer b)
{
  const Entry *x = *(Entry *const *)a, *y = *(Entry *const *)b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* Maps and validates the whole file: nothing is trusted past this point that
 * was not checked here. */
static Ckpt *ckpt_open(const char *path, GError **error)
{
  g_autoptr(Ckpt) c = g_new0(Ckpt, 1);
  c->path = path;
  c->entries = g_ptr_array_new_with_free_func(entry_free);
  c->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  c->metadata = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

  GError *local = NULL;
  c->map = g_mapped_file_new(path, FALSE, &local);
  if (!c->map) {
    ck_error(error, LL_CHECKPOINT_ERROR_IO, path, "cannot open: %s", local->message);
    g_error_free(local);
    return NULL;
  }
  const guint8 *bytes = (const guint8 *)g_mapped_file_get_contents(c->map);
  gsize len = g_mapped_file_get_length(c->map);
  if (len < 8) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, path,
             "the file is too short (%" G_GSIZE_FORMAT " bytes) to be a safetensors file", len);
    return NULL;
  }
  guint64 n;
  memcpy(&n, bytes, 8);
  n = GUINT64_FROM_LE(n);
  if (n > len - 8) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, path,
             "the header length %" G_GUINT64_FORMAT
             " reaches beyond the end of the file (%" G_GSIZE_FORMAT
             " bytes): truncated, or not a safetensors file",
             n, len);
    return NULL;
  }
  if (n > MAX_HEADER_BYTES) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, path,
             "the header length %" G_GUINT64_FORMAT " is larger than safetensors allows", n);
    return NULL;
  }
  if (n < 2 || bytes[8] != '{') {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, path,
             "the header is not a JSON object: not a safetensors file");
    return NULL;
  }
  c->data = bytes + 8 + n;
  c->data_len = len - 8 - n;

  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!ll_json_parser_load(parser, (const char *)bytes + 8, (gssize)n, "header", &local)) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, path, "the header is not valid JSON: %s",
             local->message);
    g_error_free(local);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, path, "the header is not a JSON object");
    return NULL;
  }
  JsonObject *obj = json_node_get_object(root);
  g_autoptr(GList) members = json_object_get_members(obj);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *node = json_object_get_member(obj, name);
    if (!strcmp(name, "__metadata__")) {
      if (!parse_metadata(c, node, error))
        return NULL;
    } else if (!parse_entry(c, name, node, error)) {
      return NULL;
    }
  }
  g_ptr_array_sort(c->entries, entry_cmp);
  guint64 reach = 0;
  const Entry *reacher = NULL;
  for (guint i = 0; i < c->entries->len; i++) {
    const Entry *e = c->entries->pdata[i];
    if (e->begin < reach && e->end > e->begin) {
      ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, path,
               "tensors \"%s\" and \"%s\" overlap in the data section", reacher->name, e->name);
      return NULL;
    }
    if (e->end > reach) {
      reach = e->end;
      reacher = e;
    }
  }
  return g_steal_pointer(&c);
}

/* count = number of elements of e; out holds them as floats */
static void entry_read(const Ckpt *c, const Entry *e, float *out)
{
  const guint8 *p = c->data + e->begin;
  size_t count = (size_t)((e->end - e->begin) / (guint64)dtype_size(e->dtype));
  switch (e->dtype) {
  case DT_F32:
    memcpy(out, p, count * sizeof(float));
    floats_le(out, count);
    break;
  case DT_F16:
  case DT_BF16:
    for (size_t i = 0; i < count; i++) {
      guint16 h;
      memcpy(&h, p + 2 * i, 2);
      h = GUINT16_FROM_LE(h);
      if (e->dtype == DT_F16) {
        out[i] = half_to_float(h);
      } else {
        guint32 bits = (guint32)h << 16;
        memcpy(&out[i], &bits, 4);
      }
    }
    break;
  case DT_F64:
    for (size_t i = 0; i < count; i++) {
      guint64 u;
      double d;
      memcpy(&u, p + 8 * i, 8);
      u = GUINT64_FROM_LE(u);
      memcpy(&d, &u, 8);
      out[i] = (float)d;
    }
    break;
  }
}

gboolean ll_checkpoint_read_metadata(const char *path, GHashTable **out, GError **error)
{
  g_autoptr(Ckpt) c = ckpt_open(path, error);
  if (!c)
    return FALSE;
  *out = g_hash_table_ref(c->metadata);
  return TRUE;
}

gboolean ll_checkpoint_list(const char *path, GPtrArray **names, GError **error)
{
  g_autoptr(Ckpt) c = ckpt_open(path, error);
  if (!c)
    return FALSE;
  *names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < c->entries->len; i++)
    g_ptr_array_add(*names, g_strdup(((Entry *)c->entries->pdata[i])->name));
  return TRUE;
}

gboolean ll_checkpoint_read_tensor(const char *path, const char *name, LlShape *shape, float **data,
                                   GError **error)
{
  g_autoptr(Ckpt) c = ckpt_open(path, error);
  if (!c)
    return FALSE;
  const Entry *e = g_hash_table_lookup(c->by_name, name);
  if (!e) {
    ck_error(error, LL_CHECKPOINT_ERROR_NOT_FOUND, path, "no tensor \"%s\"", name);
    return FALSE;
  }
  if (e->rank > LL_MAX_DIMS) {
    ck_error(error, LL_CHECKPOINT_ERROR_UNSUPPORTED, path,
             "tensor \"%s\": rank %d is more than LayerLab's %d dimensions", name, e->rank,
             LL_MAX_DIMS);
    return FALSE;
  }
  LlShape s = {.rank = e->rank};
  for (int i = 0; i < e->rank; i++) {
    if (e->dims[i] > G_MAXINT) {
      ck_error(error, LL_CHECKPOINT_ERROR_UNSUPPORTED, path,
               "tensor \"%s\": dimension %d is too large", name, i);
      return FALSE;
    }
    s.d[i] = (int)e->dims[i];
  }
  size_t count = ll_shape_size(&s);
  float *buf = g_try_new(float, count ? count : 1);
  if (!buf) {
    ck_error(error, LL_CHECKPOINT_ERROR_IO, path, "tensor \"%s\": out of memory", name);
    return FALSE;
  }
  entry_read(c, e, buf);
  *shape = s;
  *data = buf;
  return TRUE;
}

/* The names in the reserved metadata key, as a set. */
static gboolean extra_names(const Ckpt *c, GHashTable **out, GError **error)
{
  *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  const char *list = g_hash_table_lookup(c->metadata, LL_CHECKPOINT_EXTRA_KEY);
  if (!list)
    return TRUE;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  JsonNode *root = NULL;
  if (ll_json_parser_load(p, list, -1, LL_CHECKPOINT_EXTRA_KEY, NULL))
    root = json_parser_get_root(p);
  if (!root || !JSON_NODE_HOLDS_ARRAY(root)) {
    ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
             "metadata \"%s\" is not a JSON array of tensor names", LL_CHECKPOINT_EXTRA_KEY);
    g_clear_pointer(out, g_hash_table_unref);
    return FALSE;
  }
  JsonArray *a = json_node_get_array(root);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonNode *n = json_array_get_element(a, i);
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
      g_hash_table_add(*out, g_strdup(json_node_get_string(n)));
  }
  return TRUE;
}

static gboolean entry_fits(const Entry *e, const LlShape *s)
{
  if (e->rank != s->rank)
    return FALSE;
  for (int i = 0; i < e->rank; i++)
    if (e->dims[i] != s->d[i])
      return FALSE;
  return TRUE;
}

typedef struct {
  char *name; /* "block.param" */
  const LlBlock *block;
  LlParam *param;
  const Entry *entry; /* the file tensor that maps onto it, whatever the status */
  LlTransferStatus status;
} Target;

static void target_free(gpointer p)
{
  Target *t = p;
  g_free(t->name);
  g_free(t);
}

/* The one place where file tensors meet graph tensors (loading and the
 * preview both call it). Fills targets (Target*, one per graph tensor, in
 * graph order, each with its status), strays (const Entry*: file tensors
 * that name no graph tensor, in file order) and the report's missing,
 * unexpected, mismatched and skipped lists. Extra tensors are left out.
 * Fails only when two file tensors map onto one graph tensor. */
static gboolean match_tensors(const Ckpt *c, LlGraph *g, const LlLoadOptions *opts,
                              GPtrArray *targets, GPtrArray *strays, LlLoadReport *r,
                              GError **error)
{
  g_autoptr(GHashTable) extras = NULL;
  g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
  if (!extra_names(c, &extras, error))
    return FALSE;

  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g->order->pdata[i];
    gboolean taken = !opts->only_blocks || g_hash_table_contains(opts->only_blocks, b->name);
    for (int p = 0; p < b->n_params; p++) {
      Target *t = g_new0(Target, 1);
      t->name = g_strdup_printf("%s.%s", b->name, b->params[p].name);
      t->block = b;
      t->param = &b->params[p];
      t->status = taken ? LL_TRANSFER_MISSING : LL_TRANSFER_NOT_TAKEN;
      g_ptr_array_add(targets, t);
      g_hash_table_insert(by_name, t->name, t);
    }
  }

  /* split at the last dot, so that PyTorch's "layer1.0.conv1.weight" maps by
   * its block "layer1.0.conv1" */
  for (guint i = 0; i < c->entries->len; i++) {
    const Entry *e = c->entries->pdata[i];
    if (g_hash_table_contains(extras, e->name))
      continue;
    const char *dot = strrchr(e->name, '.');
    Target *t = NULL;
    if (dot && dot != e->name && dot[1]) {
      g_autofree char *fblock = g_strndup(e->name, (gsize)(dot - e->name));
      const char *gblock = opts->block_map ? g_hash_table_lookup(opts->block_map, fblock) : NULL;
      g_autofree char *gname = g_strconcat(gblock ? gblock : fblock, dot, NULL);
      t = g_hash_table_lookup(by_name, gname);
    }
    if (!t) {
      g_ptr_array_add(r->unexpected, g_strdup(e->name));
      g_ptr_array_add(strays, (gpointer)e);
      continue;
    }
    if (t->status == LL_TRANSFER_NOT_TAKEN) {
      g_ptr_array_add(r->skipped, g_strdup(e->name));
      if (!t->entry)
        t->entry = e;
      continue;
    }
    if (t->entry) {
      ck_error(error, LL_CHECKPOINT_ERROR_MISMATCH, c->path,
               "tensors \"%s\" and \"%s\" both map to the graph's \"%s\"", t->entry->name, e->name,
               t->name);
      return FALSE;
    }
    t->entry = e;
    if (entry_fits(e, &t->param->shape)) {
      t->status = LL_TRANSFER_MATCH;
      continue;
    }
    LlShapeMismatch *m = g_new0(LlShapeMismatch, 1);
    char buf[96];
    m->name = g_strdup(t->name);
    m->file_name = g_strdup(e->name);
    m->file_shape = entry_shape_str(e);
    m->graph_shape = g_strdup(ll_shape_format(&t->param->shape, buf, sizeof buf));
    g_ptr_array_add(r->mismatched, m);
    t->status = LL_TRANSFER_SHAPE_MISMATCH;
  }
  for (guint i = 0; i < targets->len; i++) {
    const Target *t = targets->pdata[i];
    if (t->status == LL_TRANSFER_MISSING)
      g_ptr_array_add(r->missing, g_strdup(t->name));
  }
  return TRUE;
}

/* Elements of the largest tensor that would be loaded. */
static size_t largest_match(const GPtrArray *targets)
{
  size_t most = 0;
  for (guint i = 0; i < targets->len; i++) {
    const Target *t = targets->pdata[i];
    if (t->status == LL_TRANSFER_MATCH)
      most = MAX(most, ll_shape_size(&t->param->shape));
  }
  return most;
}

/* Fails, naming the first such tensor, when a tensor that would be loaded
 * (status MATCH) holds a NaN or an infinity: weights like that come from a
 * run that diverged and give nothing but NaN losses. host: room for the
 * largest of them. */
static gboolean check_finite(const Ckpt *c, const GPtrArray *targets, float *host, GError **error)
{
  guint bad_tensors = 0;
  const Target *first = NULL;
  size_t first_bad = 0, first_n = 0;
  for (guint i = 0; i < targets->len; i++) {
    const Target *t = targets->pdata[i];
    if (t->status != LL_TRANSFER_MATCH)
      continue;
    size_t n = ll_shape_size(&t->param->shape), bad = 0;
    entry_read(c, t->entry, host);
    for (size_t k = 0; k < n; k++)
      bad += !isfinite(host[k]);
    if (bad && !bad_tensors++) {
      first = t;
      first_bad = bad;
      first_n = n;
    }
  }
  if (!bad_tensors)
    return TRUE;
  g_autofree char *more =
      bad_tensors > 1 ? g_strdup_printf(", and so do %u more tensors", bad_tensors - 1) : NULL;
  ck_error(error, LL_CHECKPOINT_ERROR_FORMAT, c->path,
           "tensor \"%s\" holds %zu NaN or infinite values (of %zu)%s: the weights are unusable "
           "(the run that wrote them diverged?)",
           first->entry->name, first_bad, first_n, more ? more : "");
  return FALSE;
}

gboolean ll_checkpoint_load(const char *path, LlGraph *g, const LlLoadOptions *opts,
                            LlLoadReport *report, GError **error)
{
  static const LlLoadOptions strict = {0};
  if (!opts)
    opts = &strict;
  LlLoadReport local_report;
  LlLoadReport *r = report ? report : &local_report;
  ll_load_report_init(r);
  gboolean ok = FALSE;
  g_autoptr(Ckpt) c = NULL;
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(target_free);
  g_autoptr(GPtrArray) strays = g_ptr_array_new();
  g_autofree float *host = NULL;

  if (!g->arena) {
    ck_error(error, LL_CHECKPOINT_ERROR_INVALID, path, "the graph is not compiled");
    goto out;
  }
  c = ckpt_open(path, error);
  if (!c || !match_tensors(c, g, opts, targets, strays, r, error))
    goto out;

  if (!opts->partial && (r->missing->len || r->unexpected->len || r->mismatched->len)) {
    GString *s = g_string_new("does not fit the graph (nothing was loaded):");
    if (r->missing->len) {
      g_string_append(s, " missing from the file: ");
      append_names(s, r->missing);
      g_string_append_c(s, ';');
    }
    if (r->unexpected->len) {
      g_string_append(s, " not in the graph: ");
      append_names(s, r->unexpected);
      g_string_append_c(s, ';');
    }
    if (r->mismatched->len) {
      g_string_append(s, " shape mismatch: ");
      append_mismatches(s, r->mismatched);
      g_string_append_c(s, ';');
    }
    g_string_truncate(s, s->len - 1);
    ck_error(error, LL_CHECKPOINT_ERROR_MISMATCH, path, "%s", s->str);
    g_string_free(s, TRUE);
    goto out;
  }

  size_t most = largest_match(targets);
  host = g_try_new(float, most ? most : 1);
  if (!host) {
    ck_error(error, LL_CHECKPOINT_ERROR_IO, path, "out of memory");
    goto out;
  }
  /* all checked before any is uploaded: a failed load loads nothing */
  if (!check_finite(c, targets, host, error))
    goto out;
  for (guint i = 0; i < targets->len; i++) {
    const Target *t = targets->pdata[i];
    if (t->status != LL_TRANSFER_MATCH)
      continue;
    entry_read(c, t->entry, host);
    g->be->upload(t->param->data, host, ll_shape_size(&t->param->shape));
    g_ptr_array_add(r->loaded, g_strdup(t->name));
  }
  if (g->be->synchronize)
    g->be->synchronize();
  ok = TRUE;
out:
  if (!report)
    ll_load_report_clear(&local_report);
  return ok;
}

/* ---- previewing a transfer --------------------------------------------------------------- */

const char *ll_transfer_status_to_string(LlTransferStatus s)
{
  switch (s) {
  case LL_TRANSFER_MATCH: return "match";
  case LL_TRANSFER_SHAPE_MISMATCH: return "shape mismatch";
  case LL_TRANSFER_MISSING: return "missing in file";
  case LL_TRANSFER_NOT_TAKEN: return "not taken";
  case LL_TRANSFER_NOT_IN_GRAPH: return "not in graph";
  }
  return "?";
}

void ll_transfer_row_free(LlTransferRow *row)
{
  if (!row)
    return;
  g_free(row->graph_name);
  g_free(row->graph_block);
  g_free(row->file_name);
  g_free(row->file_block);
  g_free(row->file_shape);
  g_free(row->graph_shape);
  g_free(row);
}

static char *file_block_of(const char *name)
{
  const char *dot = strrchr(name, '.');
  return dot && dot != name && dot[1] ? g_strndup(name, (gsize)(dot - name)) : g_strdup(name);
}

gboolean ll_checkpoint_preview(const char *path, LlGraph *g, const LlLoadOptions *opts,
                               GPtrArray **rows_out, GError **error)
{
  static const LlLoadOptions strict = {0};
  if (!opts)
    opts = &strict;
  *rows_out = NULL;
  if (!g->inferred) {
    ck_error(error, LL_CHECKPOINT_ERROR_INVALID, path,
             "the graph has no shapes yet (it does not infer)");
    return FALSE;
  }
  g_autoptr(Ckpt) c = ckpt_open(path, error);
  if (!c)
    return FALSE;
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(target_free);
  g_autoptr(GPtrArray) strays = g_ptr_array_new();
  LlLoadReport r;
  ll_load_report_init(&r);
  gboolean ok = match_tensors(c, g, opts, targets, strays, &r, error);
  ll_load_report_clear(&r);
  if (!ok)
    return FALSE;
  size_t most = largest_match(targets);
  g_autofree float *host = g_try_new(float, most ? most : 1);
  if (!host) {
    ck_error(error, LL_CHECKPOINT_ERROR_IO, path, "out of memory for a tensor of %zu floats", most);
    return FALSE;
  }
  if (!check_finite(c, targets, host, error))
    return FALSE;

  GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)ll_transfer_row_free);
  char buf[96];
  for (guint i = 0; i < targets->len; i++) {
    const Target *t = targets->pdata[i];
    LlTransferRow *row = g_new0(LlTransferRow, 1);
    row->graph_name = g_strdup(t->name);
    row->graph_block = g_strdup(t->block->name);
    row->graph_shape = g_strdup(ll_shape_format(&t->param->shape, buf, sizeof buf));
    if (t->entry) {
      row->file_name = g_strdup(t->entry->name);
      row->file_block = file_block_of(t->entry->name);
      row->file_shape = entry_shape_str(t->entry);
    }
    row->status = t->status;
    g_ptr_array_add(rows, row);
  }
  for (guint i = 0; i < strays->len; i++) {
    const Entry *e = strays->pdata[i];
    LlTransferRow *row = g_new0(LlTransferRow, 1);
    row->file_name = g_strdup(e->name);
    row->file_block = file_block_of(e->name);
    row->file_shape = entry_shape_str(e);
    row->status = LL_TRANSFER_NOT_IN_GRAPH;
    g_ptr_array_add(rows, row);
  }
  *rows_out = rows;
  return TRUE;
}

/* ---- writing ----------------------------------------------------------------------------- */

typedef struct {
  char *name;
  LlShape shape;
  const float *device; /* a graph tensor on g->be */
  const float *host;   /* or an extra tensor */
} Out;

static void out_free(gpointer p)
{
  Out *o = p;
  g_free(o->name);
  g_free(o);
}

static gboolean write_all(int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    p += w;
    n -= (size_t)w;
  }
  return TRUE;
}

static int str_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *build_header(GPtrArray *outs, GHashTable *metadata, GPtrArray *extra)
{
  g_autoptr(JsonBuilder) jb = json_builder_new_immutable();
  json_builder_begin_object(jb);

  /* metadata, keys sorted so that equal inputs give equal files */
  g_autoptr(GHashTable) meta = g_hash_table_new(g_str_hash, g_str_equal);
  if (metadata) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, metadata);
    while (g_hash_table_iter_next(&it, &k, &v))
      g_hash_table_insert(meta, k, v);
  }
  if (!g_hash_table_contains(meta, "format"))
    g_hash_table_insert(meta, "format", "pt");
  g_autofree char *extra_json = NULL;
  if (extra && extra->len) {
    g_autoptr(JsonBuilder) eb = json_builder_new_immutable();
    json_builder_begin_array(eb);
    for (guint i = 0; i < extra->len; i++)
      json_builder_add_string_value(eb, ((LlNamedTensor *)extra->pdata[i])->name);
    json_builder_end_array(eb);
    g_autoptr(JsonNode) en = json_builder_get_root(eb);
    extra_json = json_to_string(en, FALSE);
    g_hash_table_insert(meta, LL_CHECKPOINT_EXTRA_KEY, extra_json);
  }
  guint n_keys = 0;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array(meta, &n_keys);
  qsort(keys, n_keys, sizeof *keys, str_cmp);
  json_builder_set_member_name(jb, "__metadata__");
  json_builder_begin_object(jb);
  for (guint i = 0; i < n_keys; i++) {
    json_builder_set_member_name(jb, keys[i]);
    json_builder_add_string_value(jb, g_hash_table_lookup(meta, keys[i]));
  }
  json_builder_end_object(jb);

  guint64 off = 0;
  for (guint i = 0; i < outs->len; i++) {
    const Out *o = outs->pdata[i];
    guint64 bytes = (guint64)ll_shape_size(&o->shape) * sizeof(float);
    json_builder_set_member_name(jb, o->name);
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "dtype");
    json_builder_add_string_value(jb, "F32");
    json_builder_set_member_name(jb, "shape");
    json_builder_begin_array(jb);
    for (int d = 0; d < o->shape.rank; d++)
      json_builder_add_int_value(jb, o->shape.d[d]);
    json_builder_end_array(jb);
    json_builder_set_member_name(jb, "data_offsets");
    json_builder_begin_array(jb);
    json_builder_add_int_value(jb, (gint64)off);
    json_builder_add_int_value(jb, (gint64)(off + bytes));
    json_builder_end_array(jb);
    json_builder_end_object(jb);
    off += bytes;
  }
  json_builder_end_object(jb);
  g_autoptr(JsonNode) root = json_builder_get_root(jb);
  return json_to_string(root, FALSE);
}

static void sync_dir(const char *path)
{
  g_autofree char *dir = g_path_get_dirname(path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  /* some file systems refuse fsync on a directory; the rename stands anyway */
  (void)fsync(fd);
  close(fd);
}

static gboolean valid_tensor_name(const char *name)
{
  return name && *name && strcmp(name, "__metadata__") != 0 && g_utf8_validate(name, -1, NULL);
}

gboolean ll_checkpoint_save(const char *path, LlGraph *g, GHashTable *metadata, GPtrArray *extra,
                            GError **error)
{
  if (!g->arena) {
    ck_error(error, LL_CHECKPOINT_ERROR_INVALID, path, "the graph is not compiled");
    return FALSE;
  }
  if (metadata && g_hash_table_contains(metadata, LL_CHECKPOINT_EXTRA_KEY)) {
    ck_error(error, LL_CHECKPOINT_ERROR_INVALID, path, "metadata key \"%s\" is reserved",
             LL_CHECKPOINT_EXTRA_KEY);
    return FALSE;
  }
  if (metadata) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, metadata);
    while (g_hash_table_iter_next(&it, &k, &v))
      if (!k || !v || !g_utf8_validate(k, -1, NULL) || !g_utf8_validate(v, -1, NULL)) {
        ck_error(error, LL_CHECKPOINT_ERROR_INVALID, path,
                 "metadata keys and values must be UTF-8 strings");
        return FALSE;
      }
  }

  g_autoptr(GPtrArray) outs = g_ptr_array_new_with_free_func(out_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  size_t most = 0;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g->order->pdata[i];
    for (int p = 0; p < b->n_params; p++) {
      Out *o = g_new0(Out, 1);
      o->name = g_strdup_printf("%s.%s", b->name, b->params[p].name);
      o->shape = b->params[p].shape;
      o->device = b->params[p].data;
      most = MAX(most, ll_shape_size(&o->shape));
      g_ptr_array_add(outs, o);
      g_hash_table_add(seen, o->name);
    }
  }
  for (guint i = 0; extra && i < extra->len; i++) {
    const LlNamedTensor *t = extra->pdata[i];
    if (!valid_tensor_name(t->name) || g_hash_table_contains(seen, t->name) || t->shape.rank < 0 ||
        t->shape.rank > LL_MAX_DIMS) {
      ck_error(error, LL_CHECKPOINT_ERROR_INVALID, path,
               "extra tensor \"%s\": the name is empty, reserved or used twice, or the shape is "
               "invalid",
               t->name ? t->name : "");
      return FALSE;
    }
    Out *o = g_new0(Out, 1);
    o->name = g_strdup(t->name);
    o->shape = t->shape;
    o->host = t->data;
    g_ptr_array_add(outs, o);
    g_hash_table_add(seen, o->name);
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
    most = MAX(most, ll_shape_size(&o->shape));
#endif
  }

  g_autofree char *json = build_header(outs, metadata, extra);
  size_t jlen = strlen(json), hlen = (jlen + 7) & ~(size_t)7;
  g_autofree char *header = g_malloc(8 + hlen);
  guint64 le = GUINT64_TO_LE((guint64)hlen);
  memcpy(header, &le, 8);
  memcpy(header + 8, json, jlen);
  memset(header + 8 + jlen, ' ', hlen - jlen);

  g_autofree float *host = g_try_new(float, most ? most : 1);
  if (!host) {
    ck_error(error, LL_CHECKPOINT_ERROR_IO, path, "out of memory");
    return FALSE;
  }
  g_autofree char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
  int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) {
    int e = errno;
    g_autofree char *dir = g_path_get_dirname(path);
    ck_error(error, LL_CHECKPOINT_ERROR_IO, path, "cannot create a temporary file in \"%s\": %s",
             dir, g_strerror(e));
    return FALSE;
  }
  const char *what = "write";
  gboolean ok = write_all(fd, header, 8 + hlen);
  if (ok && g->be->synchronize)
    g->be->synchronize();
  for (guint i = 0; ok && i < outs->len; i++) {
    const Out *o = outs->pdata[i];
    size_t n = ll_shape_size(&o->shape);
    const float *src = o->host;
    if (o->device) {
      g->be->download(host, o->device, n);
      floats_le(host, n);
      src = host;
    } else if (G_BYTE_ORDER != G_LITTLE_ENDIAN) {
      memcpy(host, o->host, n * sizeof *host);
      floats_le(host, n);
      src = host;
    }
    ok = write_all(fd, src, n * sizeof(float));
  }
  if (ok && fsync(fd) != 0) {
    ok = FALSE;
    what = "sync";
  }
  int err = errno;
  if (close(fd) != 0 && ok) {
    ok = FALSE;
    what = "close";
    err = errno;
  }
  if (ok && g_rename(tmp, path) != 0) {
    ok = FALSE;
    what = "rename the temporary file over";
    err = errno;
  }
  if (!ok) {
    g_unlink(tmp);
    ck_error(error, LL_CHECKPOINT_ERROR_IO, path, "cannot %s the checkpoint: %s", what,
             g_strerror(err));
    return FALSE;
  }
  sync_dir(path);
  return TRUE;
}
