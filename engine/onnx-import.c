/* onnx-import.c: an ONNX model as a spec and a checkpoint.
 *
 * The nodes are read in order and each ONNX value is given a meaning: a
 * constant (an initializer, a Constant node), a block's output, or a step
 * of a pattern that several nodes make into one block: MatMul + Add (Linear
 * over sequences), Div, Erf, Add, Mul, Mul (GELU), Round, Clip, Cast,
 * Gather (Embedding), Transpose, LSTM, Squeeze (/ Gather), Transpose (a
 * batch-first recurrent layer), GlobalAveragePool + Flatten. A pending step
 * that something else reads becomes a block there where one fits (a MatMul
 * without its Add is a Linear without bias) and an error otherwise. Every
 * node that fits nothing is listed, by name and op type, in one error.
 *
 * A block is named as its last node, or as the graph output it computes.
 * When the model carries the spec LayerLab exported it with
 * (LL_ONNX_SPEC_KEY), a block of the same name, type and inputs takes from it
 * what ONNX does not hold (initialisation, a momentum or an epsilon written
 * exactly, BatchNorm without affine), and the spec keeps its data, losses and
 * training settings.
 *
 * The file is untrusted: its size is bounded, its nesting is checked by
 * walking the wire format with the schema's descriptors before protobuf-c
 * decodes it (whose recursion has no limit), and decoding draws from a
 * bounded allocator. Tensors are checked against their dims, and every
 * weight against the shape the graph infers. */
#include <math.h>

#include "checkpoint.h"
#include "onnx-private.h"
#include "recurrent.h"
#include "untrusted.h"

/* Nesting of messages in a file (a model, its graph, a node, an attribute,
 * a tensor is 5; subgraphs nest deeper, and are refused anyway). */
#define MAX_DEPTH 24
#define MAX_NODES 4096
#define MAX_RANK  8

/* ---- reading the file safely ---- */

static gboolean read_varint(const guint8 **p, const guint8 *end, guint64 *v)
{
  *v = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    guint8 byte = *(*p)++;
    *v |= (guint64)(byte & 0x7f) << shift;
    if (!(byte & 0x80))
      return TRUE;
  }
  return FALSE;
}

/* Walks a message's fields and recurses into the nested messages the schema
 * names, failing past MAX_DEPTH or on a malformed field. */
static gboolean check_wire(const guint8 *p, const guint8 *end, const ProtobufCMessageDescriptor *d,
                           int depth)
{
  if (depth > MAX_DEPTH)
    return FALSE;
  while (p < end) {
    guint64 tag, len;
    if (!read_varint(&p, end, &tag))
      return FALSE;
    switch (tag & 7) {
    case 0:
      if (!read_varint(&p, end, &len))
        return FALSE;
      break;
    case 1:
    case 5: {
      size_t n = (tag & 7) == 1 ? 8 : 4;
      if ((size_t)(end - p) < n)
        return FALSE;
      p += n;
      break;
    }
    case 2: {
      if (!read_varint(&p, end, &len) || len > (guint64)(end - p))
        return FALSE;
      const ProtobufCFieldDescriptor *f =
          d && tag >> 3 <= G_MAXUINT
              ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
              : NULL;
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
          !check_wire(p, p + len, f->descriptor, depth + 1))
        return FALSE;
      p += len;
      break;
    }
    default: /* groups: protobuf-c refuses them too */ return FALSE;
    }
  }
  return TRUE;
}

/* protobuf-c's allocations, refused past a budget. */
typedef struct {
  gsize used, budget;
} Budget;

static void *budget_alloc(void *data, size_t size)
{
  Budget *b = data;
  if (size > b->budget - b->used)
    return NULL;
  b->used += size;
  return g_try_malloc(size ? size : 1);
}

static void budget_free(void *data, void *p) { g_free(p); }

/* ---- values ---- */

typedef struct {
  int rank;
  int64_t d[MAX_RANK];
  size_t n;
  gboolean is_int;
  float *f;   /* n floats, or NULL */
  int64_t *i; /* n ints, or NULL */
} Const;

typedef enum {
  V_POISON, /* made by a node that could not be read: already reported */
  V_CONST,
  V_BLOCK,      /* b's output */
  V_INDEX,      /* b's output as embedding indices (Round, Clip, Cast of it) */
  V_TIME_MAJOR, /* b's output (N, T, F) as (T, N, F) */
  V_RNN_Y,      /* all hidden states (T, 1, N, H) of rnn */
  V_RNN_Y_SQ,   /* the same, (T, N, H) */
  V_RNN_YH,     /* the last hidden state (1, N, H) of rnn */
  V_MATMUL,     /* b's output times c, a Linear waiting for its bias */
  V_GAP,        /* GlobalAveragePool of b: (N, C, 1[, 1]) */
  V_GELU_DIV,   /* b / sqrt 2 */
  V_GELU_ERF,   /* erf(b / sqrt 2) */
  V_GELU_ADD,   /* 1 + erf(b / sqrt 2) */
  V_GELU_MUL,   /* b (1 + erf(b / sqrt 2)) */
  V_HALF,       /* b / 2 */
  V_PAD,        /* b padded with pad zeros on each side of each spatial dimension */
  V_SHAPE,      /* integers computed from a tensor's shape (the batch size) */
  V_ZEROS,      /* ConstantOfShape zeros of such a shape: an initial state */
} Kind;

/* A recurrent layer read from RNN/LSTM/GRU, its weights in LayerLab's
 * order, waiting to know whether all states or the last one are read. */
typedef struct {
  const char *type; /* "RNN", "LSTM", "GRU" */
  LlBlock *in;
  int hidden;
  gboolean relu;
  Const *w_ih, *w_hh, *b_ih, *b_hh; /* b_*: NULL without bias */
  char *name_hint;                  /* the recurrent node's name */
  LlBlock *made[2];                 /* the blocks made: [0] the last state, [1] all */
} Recurrent;

typedef struct {
  Kind kind;
  LlBlock *b;
  Const *c;
  Recurrent *rnn;
  int pad;         /* V_PAD */
  char *name_hint; /* V_MATMUL, V_GAP: the name the block gets when it is made */
} Value;

typedef struct {
  LlGraph *g;
  GHashTable *values;  /* ONNX value name -> Value* */
  GHashTable *outputs; /* graph output names (a set) */
  GHashTable *weights; /* "block.param" -> Const* (not owned) */
  GPtrArray *owned;    /* Value*, Const*, Recurrent*, strings: g_free'd, see free_all */
  GPtrArray *problems; /* char*: "node \"x\" (Op): why" */
  int64_t opset;
  const Onnx__NodeProto *node; /* the node being read */
} Importer;

static void *own(Importer *m, void *p)
{
  g_ptr_array_add(m->owned, p);
  return p;
}

static Value *new_value(Importer *m, Kind kind, LlBlock *b)
{
  Value *v = own(m, g_new0(Value, 1));
  v->kind = kind;
  v->b = b;
  return v;
}

#define IMPORT_ERROR(error, ...)                                                                   \
  g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_UNSUPPORTED, __VA_ARGS__)

static Const *new_const(Importer *m, int rank, const int64_t *d, gboolean is_int)
{
  Const *c = own(m, g_new0(Const, 1));
  c->rank = rank;
  c->n = 1;
  for (int i = 0; i < rank; i++) {
    c->d[i] = d[i];
    c->n *= (size_t)d[i];
  }
  c->is_int = is_int;
  if (is_int)
    c->i = own(m, g_new0(int64_t, c->n ? c->n : 1));
  else
    c->f = own(m, g_new0(float, c->n ? c->n : 1));
  return c;
}

/* A TensorProto as a constant: float (FLOAT, DOUBLE) or integer (INT64,
 * INT32), from raw_data or the typed fields, checked against its dims. */
static Const *read_tensor(Importer *m, const Onnx__TensorProto *t, GError **error)
{
  g_autofree char *name = ll_excerpt(t->name ? t->name : "", -1);
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    IMPORT_ERROR(
        error, "tensor \"%s\" keeps its data in another file, which LayerLab does not read", name);
    return NULL;
  }
  if (t->n_dims > MAX_RANK) {
    IMPORT_ERROR(error, "tensor \"%s\" has %zu dimensions", name, t->n_dims);
    return NULL;
  }
  guint64 n = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0 || (t->dims[i] && n > ((guint64)1 << 31) / (guint64)t->dims[i])) {
      IMPORT_ERROR(error, "tensor \"%s\" has dims out of range", name);
      return NULL;
    }
    n *= (guint64)t->dims[i];
  }
  int type = t->has_data_type ? t->data_type : 0;
  size_t elem;
  switch (type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: elem = 4; break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: elem = 8; break;
  default:
    IMPORT_ERROR(error, "tensor \"%s\" has data type %d; LayerLab reads float and integer tensors",
                 name, type);
    return NULL;
  }
  size_t typed = type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT    ? t->n_float_data
                 : type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32  ? t->n_int32_data
                 : type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ? t->n_double_data
                                                                 : t->n_int64_data;
  gboolean raw = t->has_raw_data;
  if (raw ? t->raw_data.len != n * elem : typed != n) {
    IMPORT_ERROR(error, "tensor \"%s\" holds %zu %s where its dims make %" G_GUINT64_FORMAT, name,
                 raw ? t->raw_data.len : typed, raw ? "bytes" : "values", raw ? n * elem : n);
    return NULL;
  }
  gboolean is_int =
      type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 || type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  Const *c = new_const(m, (int)t->n_dims, t->dims, is_int);
  const guint8 *r = t->raw_data.data;
  for (size_t i = 0; i < c->n; i++) {
    /* raw data is little-endian, as this machine's */
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
      float v;
      if (raw)
        memcpy(&v, r + 4 * i, 4);
      else
        v = t->float_data[i];
      c->f[i] = v;
      break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
      double v;
      if (raw)
        memcpy(&v, r + 8 * i, 8);
      else
        v = t->double_data[i];
      c->f[i] = (float)v;
      break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
      int32_t v;
      if (raw)
        memcpy(&v, r + 4 * i, 4);
      else
        v = t->int32_data[i];
      c->i[i] = v;
      break;
    }
    default: {
      int64_t v;
      if (raw)
        memcpy(&v, r + 8 * i, 8);
      else
        v = t->int64_data[i];
      c->i[i] = v;
    }
    }
  }
  for (size_t i = 0; !is_int && i < c->n; i++)
    if (!isfinite(c->f[i])) {
      IMPORT_ERROR(error, "tensor \"%s\" holds NaN or infinite values", name);
      return NULL;
    }
  return c;
}

/* ---- nodes: attributes and inputs ---- */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
      return n->attribute[i];
  return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def)
{
  const Onnx__AttributeProto *a = attr(n, name);
  return a && a->has_i ? a->i : def;
}

static float attr_float(const Onnx__NodeProto *n, const char *name, float def)
{
  const Onnx__AttributeProto *a = attr(n, name);
  return a && a->has_f ? a->f : def;
}

/* An INTS attribute; NULL (with *count 0) when absent. */
static const int64_t *attr_ints(const Onnx__NodeProto *n, const char *name, size_t *count)
{
  const Onnx__AttributeProto *a = attr(n, name);
  *count = a ? a->n_ints : 0;
  return a ? a->ints : NULL;
}

static gboolean attr_string_is(const Onnx__NodeProto *n, const char *name, const char *value,
                               gboolean if_absent)
{
  const Onnx__AttributeProto *a = attr(n, name);
  if (!a || !a->has_s)
    return if_absent;
  return a->s.len == strlen(value) && !memcmp(a->s.data, value, a->s.len);
}

static const char *input_name(const Onnx__NodeProto *n, size_t i)
{
  return i < n->n_input && n->input[i] && n->input[i][0] ? n->input[i] : NULL;
}

static Value *input(Importer *m, size_t i)
{
  const char *name = input_name(m->node, i);
  return name ? g_hash_table_lookup(m->values, name) : NULL;
}

/* Input i as a constant; NULL with an error when it is not one. */
static Const *input_const(Importer *m, size_t i, gboolean is_int, const char *what, GError **error)
{
  Value *v = input(m, i);
  if (!v || v->kind != V_CONST || v->c->is_int != is_int) {
    IMPORT_ERROR(error, "%s must be a constant %s tensor", what, is_int ? "integer" : "float");
    return NULL;
  }
  return v->c;
}

static void set_output(Importer *m, size_t i, Value *v)
{
  if (i < m->node->n_output && m->node->output[i] && m->node->output[i][0])
    g_hash_table_insert(m->values, m->node->output[i], v);
}

/* ---- blocks ---- */

/* A valid, unused block name from an ONNX name: letters, digits, '_' and
 * '-' kept, the rest made '_', at most 64 bytes. */
static char *block_name(Importer *m, const char *hint, const char *fallback)
{
  GString *s = g_string_new(NULL);
  for (const char *p = hint ? hint : ""; *p && s->len < 56; p++) {
    gboolean ok = g_ascii_isalnum(*p) || *p == '_' || *p == '-';
    if (ok)
      g_string_append_c(s, *p);
    else if (s->len && s->str[s->len - 1] != '_')
      g_string_append_c(s, '_');
  }
  while (s->len && s->str[s->len - 1] == '_')
    g_string_truncate(s, s->len - 1);
  if (!s->len)
    g_string_append(s, fallback);
  g_autofree char *base = g_string_free(s, FALSE);
  char *name = g_strdup(base);
  for (int k = 2; ll_graph_find(m->g, name); k++) {
    g_free(name);
    name = g_strdup_printf("%s_%d", base, k);
  }
  return name;
}

/* The name the block made by the current node gets: the graph output it
 * computes, else the node's name without a last "/<op type>" (as
 * torch.onnx.export and LayerLab name nodes: "/fc1/Gemm", "lstm/LSTM"),
 * else its output's. */
static char *node_name_hint(Importer *m)
{
  const Onnx__NodeProto *n = m->node;
  const char *out = n->n_output && n->output[0] ? n->output[0] : NULL;
  if (out && g_hash_table_contains(m->outputs, out))
    return g_strdup(out);
  const char *name = n->name && n->name[0] ? n->name : out;
  size_t len = name ? strlen(name) : 0, op = n->op_type ? strlen(n->op_type) : 0;
  if (op && len > op && name[len - op - 1] == '/' && !strcmp(name + len - op, n->op_type))
    len -= op + 1;
  return name ? g_strndup(name, len) : NULL;
}

static gboolean set_prop(LlBlock *b, const char *prop, LlPropValue v, GError **error)
{
  int idx;
  const LlPropDesc *d = ll_block_desc_prop(b->desc, prop, &idx);
  g_assert(d);
  v.type = d->type;
  return ll_block_set_prop_value(b, idx, &v, error);
}

#define SET_INT(blk, p, v, e)   set_prop(blk, p, (LlPropValue){.i = (v)}, e)
#define SET_FLOAT(blk, p, v, e) set_prop(blk, p, (LlPropValue){.f = (v)}, e)
#define SET_BOOL(blk, p, v, e)  set_prop(blk, p, (LlPropValue){.b = (v)}, e)

/* A block of type fed by inputs, named from hint (NULL: the node's). Its
 * properties are set by the caller, then block_done infers it. */
static LlBlock *add_block(Importer *m, const char *type, const char *hint, int n_in,
                          LlBlock *const *in)
{
  g_autofree char *own_hint = hint ? NULL : node_name_hint(m);
  g_autofree char *fallback = g_ascii_strdown(type, -1);
  g_autofree char *name = block_name(m, hint ? hint : own_hint, fallback);
  LlBlock *b = ll_graph_add(m->g, type, name, NULL);
  g_assert(b);
  for (int i = 0; i < n_in; i++)
    ll_block_connect(b, in[i]->name);
  return b;
}

/* Infers the graph with the new block; its shape must come out. */
static gboolean block_done(Importer *m, GError **error) { return ll_graph_infer(m->g, error); }

static void add_weight(Importer *m, const LlBlock *b, const char *param, Const *c)
{
  g_hash_table_insert(m->weights, own(m, g_strdup_printf("%s.%s", b->name, param)), c);
}

/* A (rows, cols) float constant transposed. */
static Const *transpose2(Importer *m, const Const *c)
{
  Const *t = new_const(m, 2, (int64_t[]){c->d[1], c->d[0]}, FALSE);
  for (int64_t r = 0; r < c->d[0]; r++)
    for (int64_t k = 0; k < c->d[1]; k++)
      t->f[k * c->d[0] + r] = c->f[r * c->d[1] + k];
  return t;
}

/* Per-sample rank of a block's output. */
static int rank_of(const LlBlock *b) { return b->out_shape.rank; }

static gboolean is_scalar(const Const *c, double v, double tol)
{
  return c && !c->is_int && c->n == 1 && fabs(c->f[0] - v) <= tol;
}

/* A Linear on b: weight (out, in), bias (out) or NULL. */
static LlBlock *make_linear(Importer *m, const char *hint, LlBlock *b, Const *w, Const *bias,
                            GError **error)
{
  int fin = b->out_shape.d[rank_of(b) - 1];
  if (w->rank != 2 || w->d[1] != fin || (bias && (int64_t)bias->n != w->d[0])) {
    IMPORT_ERROR(error, "the weight does not fit an input of %d features", fin);
    return NULL;
  }
  LlBlock *l = add_block(m, "Linear", hint, 1, &b);
  if (!SET_INT(l, "out_features", w->d[0], error) || !SET_BOOL(l, "bias", bias != NULL, error))
    return NULL;
  add_weight(m, l, "weight", w);
  if (bias)
    add_weight(m, l, "bias", bias);
  return block_done(m, error) ? l : NULL;
}

static LlBlock *make_gap(Importer *m, const char *hint, LlBlock *b, GError **error)
{
  LlBlock *p = add_block(m, "GlobalAvgPool", hint, 1, &b);
  return block_done(m, error) ? p : NULL;
}

/* The block of a recurrent layer that outputs all states (seq) or the last;
 * named from hint, or the current node when NULL. Made once. */
static LlBlock *make_recurrent(Importer *m, Recurrent *r, gboolean seq, const char *hint,
                               GError **error)
{
  if (r->made[seq])
    return r->made[seq];
  const Onnx__NodeProto *n = m->node;
  if (!hint && !(n->n_output && n->output[0] && g_hash_table_contains(m->outputs, n->output[0])))
    hint = r->name_hint; /* named as the layer, unless it computes a graph output */
  LlBlock *b = add_block(m, r->type, hint, 1, &r->in);
  if (!SET_INT(b, "hidden_size", r->hidden, error) ||
      !SET_BOOL(b, "return_sequences", seq, error) ||
      !SET_BOOL(b, "bias", r->b_ih != NULL, error) ||
      (!strcmp(r->type, "RNN") &&
       !set_prop(b, "nonlinearity", (LlPropValue){.choice = r->relu}, error)))
    return NULL;
  add_weight(m, b, "weight_ih", r->w_ih);
  add_weight(m, b, "weight_hh", r->w_hh);
  if (r->b_ih) {
    add_weight(m, b, "bias_ih", r->b_ih);
    add_weight(m, b, "bias_hh", r->b_hh);
  }
  r->made[seq] = b;
  return block_done(m, error) ? b : NULL;
}

/* The block a value stands for where a node reads it as a tensor: pending
 * patterns that are complete without their rest become blocks here. */
static LlBlock *as_block(Importer *m, Value *v, GError **error)
{
  if (!v) {
    IMPORT_ERROR(error, "reads a value that no earlier node or input makes");
    return NULL;
  }
  switch (v->kind) {
  case V_BLOCK: return v->b;
  case V_MATMUL: { /* a Linear without bias */
    LlBlock *b = make_linear(m, v->name_hint, v->b, v->c, NULL, error);
    if (b)
      *v = (Value){.kind = V_BLOCK, .b = b};
    return b;
  }
  case V_GAP: { /* (N, C, 1, 1): the pooled vector, reshaped */
    g_autofree char *pool_hint = g_strconcat(v->name_hint ? v->name_hint : "pool", "_flat", NULL);
    LlBlock *p = make_gap(m, pool_hint, v->b, error);
    if (!p)
      return NULL;
    LlBlock *r = add_block(m, "Reshape", v->name_hint, 1, &p);
    LlShape s = {.rank = rank_of(v->b), .d = {p->out_shape.d[0], 1, 1, 1}};
    if (!set_prop(r, "shape", (LlPropValue){.shape = s}, error) || !block_done(m, error))
      return NULL;
    *v = (Value){.kind = V_BLOCK, .b = r};
    return r;
  }
  case V_CONST:
    IMPORT_ERROR(error, "reads a constant where LayerLab needs a computed tensor");
    return NULL;
  case V_POISON:
    IMPORT_ERROR(error, "reads the output of a node that could not be imported");
    return NULL;
  default:
    IMPORT_ERROR(error, "reads an intermediate value of a pattern (a recurrent layer's states, "
                        "embedding indices or a GELU's parts) in a way no block computes");
    return NULL;
  }
}

static LlBlock *input_block(Importer *m, size_t i, GError **error)
{
  return as_block(m, input(m, i), error);
}

/* ---- the operators ---- */

/* The node's output is block b, just added: inferred here. */
static gboolean output_block(Importer *m, LlBlock *b, GError **error)
{
  set_output(m, 0, new_value(m, V_BLOCK, b));
  return block_done(m, error);
}

/* The node's output is block b, made and inferred (NULL: that failed). */
static gboolean output_made(Importer *m, LlBlock *b)
{
  if (b)
    set_output(m, 0, new_value(m, V_BLOCK, b));
  return b != NULL;
}

typedef gboolean (*OpFn)(Importer *m, GError **error);

static gboolean op_identity(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  if (!v) {
    IMPORT_ERROR(error, "has no input");
    return FALSE;
  }
  set_output(m, 0, v);
  return TRUE;
}

static gboolean op_constant(Importer *m, GError **error)
{
  const Onnx__AttributeProto *a = attr(m->node, "value");
  Const *c = NULL;
  if (a && a->t)
    c = read_tensor(m, a->t, error);
  else if ((a = attr(m->node, "value_float")) && a->has_f) {
    c = new_const(m, 0, NULL, FALSE);
    c->f[0] = a->f;
  } else if ((a = attr(m->node, "value_int")) && a->has_i) {
    c = new_const(m, 0, NULL, TRUE);
    c->i[0] = a->i;
  } else if ((a = attr(m->node, "value_ints"))) {
    c = new_const(m, 1, (int64_t[]){(int64_t)MIN(a->n_ints, (size_t)1 << 20)}, TRUE);
    memcpy(c->i, a->ints, c->n * sizeof *c->i);
  } else if ((a = attr(m->node, "value_floats"))) {
    c = new_const(m, 1, (int64_t[]){(int64_t)MIN(a->n_floats, (size_t)1 << 20)}, FALSE);
    memcpy(c->f, a->floats, c->n * sizeof *c->f);
  } else
    IMPORT_ERROR(error, "holds no value LayerLab reads");
  if (!c)
    return FALSE;
  Value *v = new_value(m, V_CONST, NULL);
  v->c = c;
  set_output(m, 0, v);
  return TRUE;
}

static gboolean op_activation(Importer *m, GError **error)
{
  static const struct {
    const char *op, *type, *prop;
    float def;
  } map[] = {{"Relu", "ReLU"},
             {"Sigmoid", "Sigmoid"},
             {"Tanh", "Tanh"},
             {"Elu", "ELU", "alpha", 1.0f},
             {"LeakyRelu", "LeakyReLU", "negative_slope", 0.01f}};
  LlBlock *x = input_block(m, 0, error);
  if (!x)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(map); i++)
    if (!strcmp(m->node->op_type, map[i].op)) {
      LlBlock *b = add_block(m, map[i].type, NULL, 1, &x);
      if (map[i].prop &&
          !SET_FLOAT(b, map[i].prop, attr_float(m->node, "alpha", map[i].def), error))
        return FALSE;
      return output_block(m, b, error);
    }
  g_assert_not_reached();
}

static gboolean op_softmax(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  if (!x)
    return FALSE;
  int64_t axis = attr_int(m->node, "axis", m->opset >= 13 ? -1 : 1);
  int rank = rank_of(x) + 1;
  if (axis < 0)
    axis += rank;
  /* before opset 13 the axis flattens everything after it: the same only
   * for the last axis */
  if (axis != rank - 1) {
    IMPORT_ERROR(error,
                 "axis %" G_GINT64_FORMAT " is not the last; LayerLab's Softmax normalises "
                 "the last dimension",
                 axis);
    return FALSE;
  }
  LlBlock *b = add_block(m, "Softmax", NULL, 1, &x);
  return output_block(m, b, error);
}

static gboolean op_dropout(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  if (!x)
    return FALSE;
  float p = attr_float(m->node, "ratio", 0.5f);
  if (input_name(m->node, 1)) {
    Const *r = input_const(m, 1, FALSE, "the ratio", error);
    if (!r || r->n != 1)
      return FALSE;
    p = r->f[0];
  }
  if (input_name(m->node, 2)) {
    Const *t = NULL;
    Value *v = input(m, 2);
    if (!v || v->kind != V_CONST || (t = v->c)->n != 1 || (t->is_int ? t->i[0] : t->f[0]) != 0) {
      IMPORT_ERROR(error, "runs in training mode");
      return FALSE;
    }
  }
  LlBlock *b = add_block(m, "Dropout", NULL, 1, &x);
  if (!SET_FLOAT(b, "p", p, error))
    return FALSE;
  return output_block(m, b, error);
}

static gboolean op_gemm(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  Const *w = x ? input_const(m, 1, FALSE, "B (the weight)", error) : NULL;
  if (!w)
    return FALSE;
  Const *bias = input_name(m->node, 2) ? input_const(m, 2, FALSE, "C (the bias)", error) : NULL;
  if (input_name(m->node, 2) && !bias)
    return FALSE;
  if (rank_of(x) != 1 || attr_int(m->node, "transA", 0) ||
      attr_float(m->node, "alpha", 1.0f) != 1.0f ||
      (bias && attr_float(m->node, "beta", 1.0f) != 1.0f) || w->rank != 2) {
    IMPORT_ERROR(error, "is not x W^T + b over feature vectors (transA, alpha or beta set)");
    return FALSE;
  }
  if (!attr_int(m->node, "transB", 0))
    w = transpose2(m, w);
  LlBlock *b = make_linear(m, NULL, x, w, bias, error);
  return output_made(m, b);
}

static gboolean op_matmul(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  Const *w = x ? input_const(m, 1, FALSE, "the second input (the weight)", error) : NULL;
  if (!w)
    return FALSE;
  if (w->rank != 2) {
    IMPORT_ERROR(error, "the weight is not a matrix");
    return FALSE;
  }
  Value *v = new_value(m, V_MATMUL, x);
  v->c = transpose2(m, w); /* (out, in) */
  v->name_hint = own(m, node_name_hint(m));
  set_output(m, 0, v);
  return TRUE;
}

/* Add and Sum of blocks; MatMul + bias; 1 + erf(...). */
static gboolean op_add(Importer *m, GError **error)
{
  Value *a = input(m, 0), *c = input(m, 1);
  gboolean sum = !strcmp(m->node->op_type, "Sum");
  if (!sum && a && c && (a->kind == V_CONST || c->kind == V_CONST)) {
    Value *v = a->kind == V_CONST ? c : a, *k = a->kind == V_CONST ? a : c;
    if (v->kind == V_MATMUL && !k->c->is_int && (int64_t)k->c->n == v->c->d[0]) {
      g_autofree char *hint = node_name_hint(m);
      LlBlock *b = make_linear(m, hint, v->b, v->c, k->c, error);
      return output_made(m, b);
    }
    if (v->kind == V_GELU_ERF && is_scalar(k->c, 1.0, 0)) {
      set_output(m, 0, new_value(m, V_GELU_ADD, v->b));
      return TRUE;
    }
    IMPORT_ERROR(error, "adds a constant, which LayerLab has no block for");
    return FALSE;
  }
  size_t n = m->node->n_input;
  if (n < 2 || n > LL_MAX_INPUTS) {
    IMPORT_ERROR(error, "sums %zu inputs; the Add block takes 2 to %d", n, LL_MAX_INPUTS);
    return FALSE;
  }
  LlBlock *in[LL_MAX_INPUTS];
  for (size_t i = 0; i < n; i++)
    if (!(in[i] = input_block(m, i, error)))
      return FALSE;
  for (size_t i = 1; i < n; i++)
    if (!ll_shape_equal(&in[i]->out_shape, &in[0]->out_shape)) {
      IMPORT_ERROR(error, "broadcasts between inputs of different shapes");
      return FALSE;
    }
  LlBlock *b = add_block(m, "Add", NULL, (int)n, in);
  return output_block(m, b, error);
}

/* GELU's x / sqrt 2 (Div, or Mul by 1 / sqrt 2), x (1 + erf), that times
 * 0.5, and x * 0.5 first. */
static gboolean op_mul_div(Importer *m, GError **error)
{
  Value *a = input(m, 0), *c = input(m, 1);
  gboolean div = !strcmp(m->node->op_type, "Div");
  if (a && c && (a->kind == V_CONST) != (c->kind == V_CONST) && (!div || c->kind == V_CONST)) {
    Value *v = a->kind == V_CONST ? c : a;
    Const *k = (a->kind == V_CONST ? a : c)->c;
    if (v->kind == V_BLOCK && (div ? is_scalar(k, G_SQRT2, 1e-6) : is_scalar(k, M_SQRT1_2, 1e-6))) {
      set_output(m, 0, new_value(m, V_GELU_DIV, v->b));
      return TRUE;
    }
    if (!div && v->kind == V_BLOCK && is_scalar(k, 0.5, 0)) {
      set_output(m, 0, new_value(m, V_HALF, v->b));
      return TRUE;
    }
    if (!div && v->kind == V_GELU_MUL && is_scalar(k, 0.5, 0)) {
      LlBlock *b = add_block(m, "GELU", NULL, 1, &v->b);
      return output_block(m, b, error);
    }
  }
  if (!div && a && c) { /* x (1 + erf(x / sqrt 2)), or (x / 2) (1 + erf(...)) */
    Value *add = a->kind == V_GELU_ADD ? a : c, *x = add == a ? c : a;
    if (add->kind == V_GELU_ADD && x->b == add->b && (x->kind == V_BLOCK || x->kind == V_HALF)) {
      if (x->kind == V_BLOCK) {
        set_output(m, 0, new_value(m, V_GELU_MUL, x->b));
        return TRUE;
      }
      LlBlock *b = add_block(m, "GELU", NULL, 1, &x->b);
      return output_block(m, b, error);
    }
  }
  IMPORT_ERROR(error, "is not part of a GELU, the only product LayerLab reads");
  return FALSE;
}

static gboolean op_erf(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  if (!v || v->kind != V_GELU_DIV) {
    IMPORT_ERROR(error, "is not part of a GELU (erf(x / sqrt 2))");
    return FALSE;
  }
  set_output(m, 0, new_value(m, V_GELU_ERF, v->b));
  return TRUE;
}

/* Round, Clip, Cast to an integer: indices for an embedding; Cast to float
 * of a tensor: nothing. */
static gboolean op_index(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  const char *op = m->node->op_type;
  if (!strcmp(op, "Cast")) {
    int64_t to = attr_int(m->node, "to", 0);
    if (to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && v && v->kind == V_BLOCK) {
      set_output(m, 0, v);
      return TRUE;
    }
    if (to != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && to != ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
      IMPORT_ERROR(error,
                   "casts to type %" G_GINT64_FORMAT "; LayerLab reads casts to integer "
                   "indices for an embedding",
                   to);
      return FALSE;
    }
  }
  if (!v || (v->kind != V_BLOCK && v->kind != V_INDEX)) {
    IMPORT_ERROR(error, "does not prepare embedding indices from a tensor");
    return FALSE;
  }
  set_output(m, 0, new_value(m, V_INDEX, v->b));
  return TRUE;
}

static gboolean op_gather(Importer *m, GError **error)
{
  Value *data = input(m, 0), *idx = input(m, 1);
  int64_t axis = attr_int(m->node, "axis", 0);
  if (data && data->kind == V_SHAPE) {
    set_output(m, 0, new_value(m, V_SHAPE, NULL));
    return TRUE;
  }
  if (data && idx && data->kind == V_RNN_YH && idx->kind == V_CONST && idx->c->is_int &&
      idx->c->rank == 0 && (idx->c->i[0] == 0 || idx->c->i[0] == -1) && axis == 0) {
    LlBlock *b = make_recurrent(m, data->rnn, FALSE, NULL, error); /* h_n[-1] */
    return output_made(m, b);
  }
  if (!data || data->kind != V_CONST || data->c->is_int || data->c->rank != 2 || axis != 0 ||
      !idx || idx->kind != V_INDEX) {
    IMPORT_ERROR(error, "is not an embedding lookup (rows of a constant table by indices)");
    return FALSE;
  }
  Const *w = data->c;
  LlBlock *b = add_block(m, "Embedding", NULL, 1, &idx->b);
  if (!SET_INT(b, "num_embeddings", w->d[0], error) || !SET_INT(b, "embedding_dim", w->d[1], error))
    return FALSE;
  add_weight(m, b, "weight", w);
  return output_block(m, b, error);
}

/* The axes of Squeeze, Unsqueeze or a reduction: an input from opset 13
 * (18 for reductions), an attribute before. */
static gboolean axes_of(Importer *m, int64_t *axes, size_t *n, int rank, GError **error)
{
  const int64_t *a;
  if (input_name(m->node, 1)) {
    Const *c = input_const(m, 1, TRUE, "the axes", error);
    if (!c)
      return FALSE;
    a = c->i;
    *n = c->n;
  } else
    a = attr_ints(m->node, "axes", n);
  if (*n > MAX_RANK) {
    IMPORT_ERROR(error, "names %zu axes", *n);
    return FALSE;
  }
  for (size_t i = 0; i < *n; i++) {
    axes[i] = a[i] < 0 ? a[i] + rank : a[i];
    if (axes[i] < 0 || axes[i] >= rank) {
      IMPORT_ERROR(error, "axis %" G_GINT64_FORMAT " is out of range", a[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/* The axes are exactly first .. first + count - 1, in any order. */
static gboolean axes_are(const int64_t *axes, size_t n, int first, int count)
{
  if (n != (size_t)count)
    return FALSE;
  guint seen = 0;
  for (size_t i = 0; i < n; i++)
    if (axes[i] >= first && axes[i] < first + count)
      seen |= 1u << (axes[i] - first);
  return seen == (1u << count) - 1;
}

static gboolean op_squeeze(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  int64_t axes[MAX_RANK];
  size_t n = 0;
  if (!v) {
    IMPORT_ERROR(error, "has no input");
    return FALSE;
  }
  int rank = v->kind == V_RNN_Y    ? 4
             : v->kind == V_RNN_YH ? 3
             : v->kind == V_GAP    ? rank_of(v->b) + 1
                                   : 0;
  if (rank && axes_of(m, axes, &n, rank, error)) {
    if (v->kind == V_RNN_Y && axes_are(axes, n, 1, 1)) {
      Value *s = new_value(m, V_RNN_Y_SQ, NULL);
      s->rnn = v->rnn;
      set_output(m, 0, s);
      return TRUE;
    }
    if (v->kind == V_RNN_YH && axes_are(axes, n, 0, 1)) {
      LlBlock *b = make_recurrent(m, v->rnn, FALSE, NULL, error);
      return output_made(m, b);
    }
    if (v->kind == V_GAP && axes_are(axes, n, 2, rank - 2)) {
      LlBlock *b = make_gap(m, NULL, v->b, error);
      return output_made(m, b);
    }
  }
  if (error && !*error)
    IMPORT_ERROR(error, "removes dimensions LayerLab does not read as a block "
                        "(it reads a recurrent layer's or a global pooling's)");
  return FALSE;
}

static gboolean op_transpose(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  size_t n;
  const int64_t *perm = attr_ints(m->node, "perm", &n);
  gboolean swap01 = n == 3 && perm[0] == 1 && perm[1] == 0 && perm[2] == 2;
  if (v && v->kind == V_CONST && !v->c->is_int && v->c->rank == 2 &&
      (!perm || (n == 2 && perm[0] == 1 && perm[1] == 0))) {
    Value *t = new_value(m, V_CONST, NULL);
    t->c = transpose2(m, v->c);
    set_output(m, 0, t);
    return TRUE;
  }
  if (v && swap01 && v->kind == V_RNN_Y_SQ) { /* (T, N, H) -> (N, T, H) */
    LlBlock *b = make_recurrent(m, v->rnn, TRUE, NULL, error);
    return output_made(m, b);
  }
  if (v && swap01 && v->kind == V_BLOCK && rank_of(v->b) == 2) { /* (N, T, F) -> (T, N, F) */
    set_output(m, 0, new_value(m, V_TIME_MAJOR, v->b));
    return TRUE;
  }
  IMPORT_ERROR(error, "permutes dimensions other than a sequence's batch and time, which "
                      "LayerLab reads only around a recurrent layer");
  return FALSE;
}

/* A zero initial state, or none. */
static gboolean zero_state(Importer *m, size_t i, GError **error)
{
  if (!input_name(m->node, i))
    return TRUE;
  Value *v = input(m, i);
  if (v && v->kind == V_ZEROS)
    return TRUE;
  if (v && v->kind == V_CONST && !v->c->is_int) {
    for (size_t k = 0; k < v->c->n; k++)
      if (v->c->f[k] != 0.0f)
        goto bad;
    return TRUE;
  }
bad:
  IMPORT_ERROR(error, "starts from an initial state other than zeros");
  return FALSE;
}

static gboolean op_recurrent(Importer *m, GError **error)
{
  const Onnx__NodeProto *n = m->node;
  const char *type = n->op_type;
  Value *x = input(m, 0);
  if (x && x->kind == V_RNN_Y_SQ) { /* another layer's states, still time-major */
    LlBlock *prev = make_recurrent(m, x->rnn, TRUE, x->rnn->name_hint, error);
    if (!prev)
      return FALSE;
    x = new_value(m, V_TIME_MAJOR, prev);
  }
  if (!x || x->kind != V_TIME_MAJOR) {
    IMPORT_ERROR(error, "reads a sequence other than a batch-first one transposed to time-major "
                        "(as torch.onnx.export writes batch_first layers)");
    return FALSE;
  }
  int gates;
  const int *perm = ll_onnx_gate_perm(type, &gates);
  int64_t h = attr_int(n, "hidden_size", 0);
  int f = x->b->out_shape.d[1];
  Const *w = input_const(m, 1, FALSE, "W", error);
  Const *r = w ? input_const(m, 2, FALSE, "R", error) : NULL;
  if (!r)
    return FALSE;
  Const *bias = NULL;
  if (input_name(n, 3) && !(bias = input_const(m, 3, FALSE, "B", error)))
    return FALSE;
  if (h < 1 || h > 1 << 16 || w->rank != 3 || w->d[0] != 1 || w->d[1] != gates * h ||
      w->d[2] != f || r->rank != 3 || r->d[0] != 1 || r->d[1] != gates * h || r->d[2] != h ||
      (bias && (bias->rank != 2 || bias->d[0] != 1 || bias->d[1] != 2 * gates * h))) {
    IMPORT_ERROR(error,
                 "has weights that do not fit one forward layer of hidden_size %" G_GINT64_FORMAT
                 " over %d features",
                 h, f);
    return FALSE;
  }
  if (!attr_string_is(n, "direction", "forward", TRUE) || attr(n, "clip") ||
      attr_int(n, "layout", 0) || attr_int(n, "input_forget", 0) || input_name(n, 4) ||
      input_name(n, 7) || (!strcmp(type, "GRU") && !attr_int(n, "linear_before_reset", 0))) {
    IMPORT_ERROR(error,
                 "is not a forward %s as PyTorch computes it (a direction, clip, layout, "
                 "sequence lengths, peepholes or GRU's linear_before_reset = 0)",
                 type);
    return FALSE;
  }
  if (!zero_state(m, 5, error) || !zero_state(m, 6, error))
    return FALSE;
  Recurrent *rec = own(m, g_new0(Recurrent, 1));
  rec->type = !strcmp(type, "LSTM") ? "LSTM" : !strcmp(type, "GRU") ? "GRU" : "RNN";
  rec->in = x->b;
  rec->hidden = (int)h;
  rec->name_hint = own(m, node_name_hint(m));
  const Onnx__AttributeProto *acts = attr(n, "activations");
  if (acts && acts->n_strings) {
    /* RNN: Tanh or Relu; the gated cells: their defaults only */
    static const char *const lstm_def[] = {"Sigmoid", "Tanh", "Tanh"}, *const gru_def[] = {
                                                                           "Sigmoid", "Tanh"};
    const char *const *def = rec->type[0] == 'L' ? lstm_def : gru_def;
    size_t n_def = rec->type[0] == 'L' ? 3 : 2;
    for (size_t i = 0; i < acts->n_strings; i++) {
      const ProtobufCBinaryData *s = &acts->strings[i];
      gboolean ok;
      if (rec->type[0] == 'R')
        ok = acts->n_strings == 1 &&
             ((s->len == 4 && !g_ascii_strncasecmp((char *)s->data, "Tanh", 4)) ||
              (s->len == 4 && !g_ascii_strncasecmp((char *)s->data, "Relu", 4)));
      else
        ok = i < n_def && s->len == strlen(def[i]) &&
             !g_ascii_strncasecmp((char *)s->data, def[i], s->len);
      if (!ok) {
        IMPORT_ERROR(error, "uses activations LayerLab's %s does not have", rec->type);
        return FALSE;
      }
    }
    rec->relu =
        rec->type[0] == 'R' && !g_ascii_strncasecmp((char *)acts->strings[0].data, "Relu", 4);
  }
  int gh = gates * (int)h;
  rec->w_ih = new_const(m, 2, (int64_t[]){gh, f}, FALSE);
  rec->w_hh = new_const(m, 2, (int64_t[]){gh, h}, FALSE);
  ll_onnx_permute_gates(w->f, rec->w_ih->f, gates, perm, (int)h, f, FALSE);
  ll_onnx_permute_gates(r->f, rec->w_hh->f, gates, perm, (int)h, (int)h, FALSE);
  if (bias) { /* B = [b_ih, b_hh] */
    rec->b_ih = new_const(m, 1, (int64_t[]){gh}, FALSE);
    rec->b_hh = new_const(m, 1, (int64_t[]){gh}, FALSE);
    ll_onnx_permute_gates(bias->f, rec->b_ih->f, gates, perm, (int)h, 1, FALSE);
    ll_onnx_permute_gates(bias->f + gh, rec->b_hh->f, gates, perm, (int)h, 1, FALSE);
  }
  Value *y = new_value(m, V_RNN_Y, NULL), *yh = new_value(m, V_RNN_YH, NULL);
  y->rnn = yh->rnn = rec;
  set_output(m, 0, y);
  set_output(m, 1, yh);
  return TRUE;
}

/* kernel, stride, padding and dilation of a square, symmetric window over
 * `dims` spatial dimensions; the kernel from kernel_shape or def. */
typedef struct {
  int k, s, p, d;
} Window;

static gboolean window_of(Importer *m, int dims, int def_kernel, Window *w, GError **error)
{
  const Onnx__NodeProto *n = m->node;
  size_t nk, ns, np, nd;
  const int64_t *k = attr_ints(n, "kernel_shape", &nk), *s = attr_ints(n, "strides", &ns);
  const int64_t *p = attr_ints(n, "pads", &np), *d = attr_ints(n, "dilations", &nd);
  if (!attr_string_is(n, "auto_pad", "NOTSET", TRUE) &&
      !attr_string_is(n, "auto_pad", "VALID", TRUE)) {
    IMPORT_ERROR(error, "pads automatically (auto_pad SAME_*), which LayerLab does not");
    return FALSE;
  }
  if ((k && nk != (size_t)dims) || (s && ns != (size_t)dims) || (p && np != 2 * (size_t)dims) ||
      (d && nd != (size_t)dims)) {
    IMPORT_ERROR(error, "has window attributes for another number of dimensions");
    return FALSE;
  }
  *w = (Window){.k = k ? (int)k[0] : def_kernel,
                .s = s ? (int)s[0] : 1,
                .p = p ? (int)p[0] : 0,
                .d = d ? (int)d[0] : 1};
  for (int i = 0; i < dims; i++)
    if ((k && k[i] != w->k) || (s && s[i] != w->s) || (d && d[i] != w->d) ||
        (p && (p[i] != w->p || p[i + dims] != w->p))) {
      IMPORT_ERROR(error, "has a window that differs between dimensions or sides (LayerLab's are "
                          "square and symmetric)");
      return FALSE;
    }
  return TRUE;
}

static gboolean op_conv(Importer *m, GError **error)
{
  gboolean transpose = !strcmp(m->node->op_type, "ConvTranspose");
  LlBlock *x = input_block(m, 0, error);
  Const *w = x ? input_const(m, 1, FALSE, "the weight", error) : NULL;
  if (!w)
    return FALSE;
  Const *bias = NULL;
  if (input_name(m->node, 2) && !(bias = input_const(m, 2, FALSE, "the bias", error)))
    return FALSE;
  int dims = rank_of(x) - 1;
  if (dims < 1 || dims > 2 || (transpose && dims != 2) || w->rank != dims + 2 ||
      (dims == 2 && w->d[2] != w->d[3])) {
    IMPORT_ERROR(error, "is not a 1-D or 2-D convolution with a square kernel (2-D only when "
                        "transposed)");
    return FALSE;
  }
  Window win;
  if (!window_of(m, dims, (int)w->d[2], &win, error))
    return FALSE;
  int64_t group = attr_int(m->node, "group", 1);
  size_t nop;
  const int64_t *op = attr_ints(m->node, "output_padding", &nop);
  if (win.k != w->d[2] || (transpose && (group != 1 || attr(m->node, "output_shape") ||
                                         (op && (nop != 2 || op[0] != op[1]))))) {
    IMPORT_ERROR(error, "has a kernel_shape other than its weight's, groups or output_shape when "
                        "transposed, or output padding that differs between dimensions");
    return FALSE;
  }
  int64_t oc = transpose ? w->d[1] : w->d[0];
  if (bias && (int64_t)bias->n != oc) {
    IMPORT_ERROR(error, "has a bias of %zu values for %" G_GINT64_FORMAT " channels", bias->n, oc);
    return FALSE;
  }
  LlBlock *b = add_block(m,
                         transpose   ? "ConvTranspose2d"
                         : dims == 2 ? "Conv2d"
                                     : "Conv1d",
                         NULL, 1, &x);
  if (!SET_INT(b, "out_channels", oc, error) || !SET_INT(b, "kernel", win.k, error) ||
      !SET_INT(b, "stride", win.s, error) || !SET_INT(b, "padding", win.p, error) ||
      !SET_INT(b, "dilation", win.d, error) || !SET_BOOL(b, "bias", bias != NULL, error) ||
      (transpose ? !SET_INT(b, "output_padding", op ? op[0] : 0, error)
                 : !SET_INT(b, "groups", group, error)))
    return FALSE;
  add_weight(m, b, "weight", w);
  if (bias)
    add_weight(m, b, "bias", bias);
  return output_block(m, b, error);
}

/* Zero padding of the spatial dimensions, symmetric: read by an average
 * pooling that counts it (as torch.onnx.export writes AvgPool2d). */
static gboolean op_pad(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  Const *pads = input_const(m, 1, TRUE, "the pads", error);
  if (!pads)
    return FALSE;
  gboolean ok = v && v->kind == V_BLOCK && rank_of(v->b) == 3 && pads->n == 8 &&
                attr_string_is(m->node, "mode", "constant", TRUE) && !input_name(m->node, 3);
  for (int i = 0; ok && i < 8; i++) /* (N, C, H, W) begins, then ends */
    ok = pads->i[i] == (i % 4 < 2 ? 0 : pads->i[2]);
  if (ok && input_name(m->node, 2)) {
    Value *c = input(m, 2);
    ok = c && c->kind == V_CONST && c->c->n == 1 &&
         (c->c->is_int ? c->c->i[0] == 0 : c->c->f[0] == 0.0f);
  }
  if (!ok || pads->i[2] > 512) {
    IMPORT_ERROR(error, "is not zero padding of an image, the same on every side");
    return FALSE;
  }
  Value *p = new_value(m, V_PAD, v->b);
  p->pad = (int)pads->i[2];
  set_output(m, 0, p);
  return TRUE;
}

static gboolean op_pool(Importer *m, GError **error)
{
  gboolean max = !strcmp(m->node->op_type, "MaxPool");
  Value *in = input(m, 0);
  int padded = 0;
  if (!max && in && in->kind == V_PAD) { /* the pad zeros count in the average */
    padded = in->pad;
    in = new_value(m, V_BLOCK, in->b);
  }
  LlBlock *x = as_block(m, in, error);
  if (!x)
    return FALSE;
  Window win;
  if (rank_of(x) != 3 || !attr(m->node, "kernel_shape") || !window_of(m, 2, 0, &win, error)) {
    if (error && !*error)
      IMPORT_ERROR(error, "is not a 2-D pooling with a kernel_shape");
    return FALSE;
  }
  if (attr_int(m->node, "ceil_mode", 0) || win.d != 1 || attr_int(m->node, "storage_order", 0) ||
      (m->node->n_output > 1 && m->node->output[1] && m->node->output[1][0]) ||
      (!max && win.p && !attr_int(m->node, "count_include_pad", 0))) {
    IMPORT_ERROR(error, "rounds up (ceil_mode), dilates, returns indices, or leaves padding out "
                        "of an average, which LayerLab's pooling does not");
    return FALSE;
  }
  if (padded && win.p) {
    IMPORT_ERROR(error, "pads what a Pad node padded already");
    return FALSE;
  }
  win.p += padded;
  LlBlock *b = add_block(m, max ? "MaxPool2d" : "AvgPool2d", NULL, 1, &x);
  if (!SET_INT(b, "kernel", win.k, error) ||
      !SET_INT(b, "stride", win.s == win.k ? 0 : win.s, error) ||
      !SET_INT(b, "padding", win.p, error))
    return FALSE;
  return output_block(m, b, error);
}

static gboolean op_global_pool(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  if (!x)
    return FALSE;
  if (rank_of(x) != 2 && rank_of(x) != 3) {
    IMPORT_ERROR(error, "pools an input that is not (C, L) or (C, H, W)");
    return FALSE;
  }
  Value *v = new_value(m, V_GAP, x);
  v->name_hint = own(m, node_name_hint(m));
  set_output(m, 0, v);
  return TRUE;
}

static gboolean op_reduce_mean(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  int64_t axes[MAX_RANK];
  size_t n;
  if (!x || !axes_of(m, axes, &n, rank_of(x) + 1, error))
    return FALSE;
  if ((rank_of(x) != 2 && rank_of(x) != 3) || !axes_are(axes, n, 2, rank_of(x) - 1) ||
      attr_int(m->node, "keepdims", 1)) {
    IMPORT_ERROR(error, "is not a mean over all positions without keepdims (a global average "
                        "pooling)");
    return FALSE;
  }
  LlBlock *b = make_gap(m, NULL, x, error);
  return output_made(m, b);
}

static gboolean op_flatten(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  if (attr_int(m->node, "axis", 1) != 1) {
    IMPORT_ERROR(error, "flattens from an axis other than 1 (the batch stays)");
    return FALSE;
  }
  if (v && v->kind == V_GAP) {
    LlBlock *b = make_gap(m, NULL, v->b, error);
    return output_made(m, b);
  }
  LlBlock *x = as_block(m, v, error);
  if (!x)
    return FALSE;
  LlBlock *b = add_block(m, "Flatten", NULL, 1, &x);
  return output_block(m, b, error);
}

static gboolean op_reshape(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  Const *shape = input_const(m, 1, TRUE, "the shape", error);
  if (!shape)
    return FALSE;
  if (shape->rank != 1 || shape->n < 2 || shape->n > LL_MAX_DIMS + 1 ||
      (shape->i[0] != 0 && shape->i[0] != -1) || attr_int(m->node, "allowzero", 0)) {
    IMPORT_ERROR(error,
                 "does not keep the batch as its first dimension (0 or -1) or gives more "
                 "than %d dimensions per sample",
                 LL_MAX_DIMS);
    return FALSE;
  }
  if (v && v->kind == V_GAP && shape->n == 2) {
    LlBlock *b = make_gap(m, NULL, v->b, error);
    return output_made(m, b);
  }
  LlBlock *x = as_block(m, v, error);
  if (!x)
    return FALSE;
  /* -1 in the sample's dimensions: what is left, with the batch kept (0) */
  int64_t size = (int64_t)ll_shape_size(&x->out_shape), known = 1;
  int unknown = -1;
  LlShape s = {.rank = (int)shape->n - 1};
  for (int i = 0; i < s.rank; i++) {
    int64_t d = shape->i[i + 1];
    if (d == -1 && unknown < 0 && shape->i[0] == 0)
      unknown = i;
    else if (d == 0 && i + 1 < x->out_shape.rank + 1)
      d = x->out_shape.d[i];
    else if (d < 1 || d > 1 << 20) {
      IMPORT_ERROR(error, "has a dimension %" G_GINT64_FORMAT " LayerLab cannot give a block", d);
      return FALSE;
    }
    if (i != unknown) {
      s.d[i] = (int)d;
      known *= d;
    }
  }
  if (unknown >= 0) {
    if (known < 1 || size % known) {
      IMPORT_ERROR(error, "cannot infer its -1 dimension");
      return FALSE;
    }
    s.d[unknown] = (int)(size / known);
  }
  LlBlock *b = add_block(m, "Reshape", NULL, 1, &x);
  if (!set_prop(b, "shape", (LlPropValue){.shape = s}, error))
    return FALSE;
  return output_block(m, b, error);
}

static gboolean op_concat(Importer *m, GError **error)
{
  size_t n = m->node->n_input;
  gboolean shape = FALSE, ints = TRUE;
  for (size_t i = 0; i < n; i++) {
    Value *v = input(m, i);
    shape |= v && v->kind == V_SHAPE;
    ints &= v && (v->kind == V_SHAPE || (v->kind == V_CONST && v->c->is_int));
  }
  if (shape && ints) { /* a shape made from the batch size */
    set_output(m, 0, new_value(m, V_SHAPE, NULL));
    return TRUE;
  }
  if (n < 1 || n > LL_MAX_INPUTS) {
    IMPORT_ERROR(error, "joins %zu inputs; Concat takes 2 to %d", n, LL_MAX_INPUTS);
    return FALSE;
  }
  LlBlock *in[LL_MAX_INPUTS];
  for (size_t i = 0; i < n; i++)
    if (!(in[i] = input_block(m, i, error)))
      return FALSE;
  if (n == 1) {
    set_output(m, 0, new_value(m, V_BLOCK, in[0]));
    return TRUE;
  }
  int64_t axis = attr_int(m->node, "axis", 1);
  if (axis < 0)
    axis += rank_of(in[0]) + 1;
  if (axis < 1 || axis > rank_of(in[0])) {
    IMPORT_ERROR(error, "joins along the batch or a dimension that does not exist");
    return FALSE;
  }
  LlBlock *b = add_block(m, "Concat", NULL, (int)n, in);
  if (!SET_INT(b, "axis", axis - 1, error))
    return FALSE;
  return output_block(m, b, error);
}

static gboolean op_batchnorm(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  if (!x)
    return FALSE;
  Const *p[4];
  static const char *const what[] = {"the scale", "the bias", "the mean", "the variance"};
  for (int i = 0; i < 4; i++)
    if (!(p[i] = input_const(m, i + 1, FALSE, what[i], error)))
      return FALSE;
  int c = x->out_shape.d[0];
  for (int i = 0; i < 4; i++)
    if ((int64_t)p[i]->n != c || p[i]->rank != 1) {
      IMPORT_ERROR(error, "has %s of %zu values for %d channels", what[i], p[i]->n, c);
      return FALSE;
    }
  if (attr_int(m->node, "training_mode", 0) ||
      (m->node->n_output > 1 && m->node->output[1] && m->node->output[1][0])) {
    IMPORT_ERROR(error, "runs in training mode");
    return FALSE;
  }
  int r = rank_of(x);
  LlBlock *b = add_block(m, r == 3 ? "BatchNorm2d" : "BatchNorm1d", NULL, 1, &x);
  /* ONNX weighs the running estimate, LayerLab the new batch */
  if (!SET_FLOAT(b, "eps", attr_float(m->node, "epsilon", 1e-5f), error) ||
      !SET_FLOAT(b, "momentum", 1.0 - attr_float(m->node, "momentum", 0.9f), error))
    return FALSE;
  static const char *const names[] = {"weight", "bias", "running_mean", "running_var"};
  for (int i = 0; i < 4; i++)
    add_weight(m, b, names[i], p[i]);
  return output_block(m, b, error);
}

/* Shape, and Unsqueeze of what it gives: the integers of an initial
 * state's shape, which depend on the batch. */
static gboolean op_shape(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  gboolean shape_op = !strcmp(m->node->op_type, "Shape");
  if (!v || (!shape_op && v->kind != V_SHAPE)) {
    IMPORT_ERROR(error, "adds a dimension, which LayerLab reads only in a shape computed for an "
                        "initial state");
    return FALSE;
  }
  set_output(m, 0, new_value(m, V_SHAPE, NULL));
  return TRUE;
}

static gboolean op_constant_of_shape(Importer *m, GError **error)
{
  Value *v = input(m, 0);
  const Onnx__AttributeProto *a = attr(m->node, "value");
  Const *c = a && a->t ? read_tensor(m, a->t, error) : NULL;
  if (a && a->t && !c)
    return FALSE;
  gboolean zero = !c || c->n == 1;
  if (c && c->n == 1)
    zero = c->is_int ? c->i[0] == 0 : c->f[0] == 0.0f;
  if (!v || (v->kind != V_SHAPE && v->kind != V_CONST) || !zero) {
    IMPORT_ERROR(error, "fills a tensor with other than zeros, which LayerLab reads only as a "
                        "recurrent layer's zero initial state");
    return FALSE;
  }
  set_output(m, 0, new_value(m, V_ZEROS, NULL));
  return TRUE;
}

/* LayerNormalization over trailing dimensions (opset 17), as PyTorch's
 * LayerNorm; no bias reads as zeros. */
static gboolean op_layernorm(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  Const *scale = x ? input_const(m, 1, FALSE, "the scale", error) : NULL;
  if (!scale)
    return FALSE;
  Const *bias = NULL;
  if (input_name(m->node, 2) && !(bias = input_const(m, 2, FALSE, "the bias", error)))
    return FALSE;
  int rank = rank_of(x) + 1;
  int64_t axis = attr_int(m->node, "axis", -1);
  if (axis < 0)
    axis += rank;
  int dims = (int)(rank - axis);
  gboolean ok = axis >= 1 && axis < rank && attr_int(m->node, "stash_type", 1) == 1 &&
                scale->rank == dims && (!bias || bias->n == scale->n);
  for (int i = 0; ok && i < dims; i++)
    ok = scale->d[i] == x->out_shape.d[axis - 1 + i];
  for (size_t i = 1; ok && i < m->node->n_output; i++)
    ok = !m->node->output[i] || !m->node->output[i][0];
  if (!ok) {
    IMPORT_ERROR(error, "does not normalise the trailing dimensions of each sample with a scale "
                        "of their shape");
    return FALSE;
  }
  if (!bias) {
    bias = new_const(m, scale->rank, scale->d, FALSE);
    memset(bias->f, 0, bias->n * sizeof *bias->f);
  }
  LlBlock *b = add_block(m, "LayerNorm", NULL, 1, &x);
  if (!SET_INT(b, "dims", dims, error) ||
      !SET_FLOAT(b, "eps", attr_float(m->node, "epsilon", 1e-5f), error))
    return FALSE;
  add_weight(m, b, "weight", scale);
  add_weight(m, b, "bias", bias);
  return output_block(m, b, error);
}

/* Resize of an image by an integer factor, as PyTorch's Upsample writes it:
 * nearest (asymmetric, floor) or bilinear (half_pixel, align_corners=False). */
static gboolean op_resize(Importer *m, GError **error)
{
  LlBlock *x = input_block(m, 0, error);
  if (!x)
    return FALSE;
  Const *sc = input_name(m->node, 2) ? input_const(m, 2, FALSE, "the scales", error) : NULL;
  if (input_name(m->node, 2) && !sc)
    return FALSE;
  gboolean nearest = attr_string_is(m->node, "mode", "nearest", TRUE);
  gboolean linear = attr_string_is(m->node, "mode", "linear", FALSE);
  gboolean ok = sc && rank_of(x) == 3 && sc->n == 4 && sc->f[0] == 1.0f && sc->f[1] == 1.0f &&
                sc->f[2] == sc->f[3] && sc->f[2] >= 1.0f && sc->f[2] <= 16.0f &&
                sc->f[2] == floorf(sc->f[2]) && !input_name(m->node, 3) &&
                !attr_int(m->node, "antialias", 0);
  if (ok && nearest)
    ok = attr_string_is(m->node, "coordinate_transformation_mode", "asymmetric", FALSE) &&
         attr_string_is(m->node, "nearest_mode", "floor", FALSE);
  else if (ok && linear)
    ok = attr_string_is(m->node, "coordinate_transformation_mode", "half_pixel", TRUE) ||
         attr_string_is(m->node, "coordinate_transformation_mode", "pytorch_half_pixel", FALSE);
  else
    ok = FALSE;
  if (!ok) {
    IMPORT_ERROR(error, "is not an image enlarged by an integer scale, nearest (asymmetric, "
                        "floor) or linear (half_pixel), as PyTorch's Upsample");
    return FALSE;
  }
  LlBlock *b = add_block(m, "Upsample", NULL, 1, &x);
  if (!SET_INT(b, "scale_factor", (int64_t)sc->f[2], error) ||
      !set_prop(b, "mode", (LlPropValue){.choice = linear}, error))
    return FALSE;
  return output_block(m, b, error);
}

static const struct {
  const char *op;
  OpFn fn;
} ops[] = {
    {"LayerNormalization", op_layernorm},
    {"Resize", op_resize},
    {"Shape", op_shape},
    {"Unsqueeze", op_shape},
    {"ConstantOfShape", op_constant_of_shape},
    {"Pad", op_pad},
    {"Identity", op_identity},
    {"Constant", op_constant},
    {"Relu", op_activation},
    {"Sigmoid", op_activation},
    {"Tanh", op_activation},
    {"Elu", op_activation},
    {"LeakyRelu", op_activation},
    {"Softmax", op_softmax},
    {"Dropout", op_dropout},
    {"Gemm", op_gemm},
    {"MatMul", op_matmul},
    {"Add", op_add},
    {"Sum", op_add},
    {"Mul", op_mul_div},
    {"Div", op_mul_div},
    {"Erf", op_erf},
    {"Round", op_index},
    {"Clip", op_index},
    {"Cast", op_index},
    {"Gather", op_gather},
    {"Squeeze", op_squeeze},
    {"Transpose", op_transpose},
    {"RNN", op_recurrent},
    {"LSTM", op_recurrent},
    {"GRU", op_recurrent},
    {"Conv", op_conv},
    {"ConvTranspose", op_conv},
    {"MaxPool", op_pool},
    {"AveragePool", op_pool},
    {"GlobalAveragePool", op_global_pool},
    {"ReduceMean", op_reduce_mean},
    {"Flatten", op_flatten},
    {"Reshape", op_reshape},
    {"Concat", op_concat},
    {"BatchNormalization", op_batchnorm},
};

/* ---- the model ---- */

static void problem(Importer *m, const Onnx__NodeProto *n, const char *why)
{
  g_autofree char *name = ll_excerpt(n->name && n->name[0] ? n->name : "(unnamed)", -1);
  g_autofree char *op = ll_excerpt(n->op_type ? n->op_type : "?", -1);
  g_ptr_array_add(m->problems, why ? g_strdup_printf("node \"%s\" (%s: %s)", name, op, why)
                                   : g_strdup_printf("node \"%s\" (%s)", name, op));
}

/* The graph's inputs that are not initializers: Input blocks, (N, shape). */
static gboolean add_inputs(Importer *m, const Onnx__GraphProto *graph, GError **error)
{
  for (size_t i = 0; i < graph->n_input; i++) {
    const Onnx__ValueInfoProto *vi = graph->input[i];
    if (!vi->name || g_hash_table_contains(m->values, vi->name))
      continue; /* an initializer listed as an input (IR < 4) */
    g_autofree char *shown = ll_excerpt(vi->name, -1);
    const Onnx__TypeProto__Tensor *t =
        vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            ? vi->type->tensor_type
            : NULL;
    const Onnx__TensorShapeProto *s = t ? t->shape : NULL;
    if (!s || s->n_dim < 2 || s->n_dim > LL_MAX_DIMS + 1) {
      IMPORT_ERROR(error,
                   "input \"%s\": not a tensor of a batch of samples with 1 to %d dimensions",
                   shown, LL_MAX_DIMS);
      return FALSE;
    }
    LlShape shape = {.rank = (int)s->n_dim - 1};
    for (int k = 0; k < shape.rank; k++) {
      const Onnx__TensorShapeProto__Dimension *d = s->dim[k + 1];
      if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
          d->dim_value < 1 || d->dim_value > 1 << 20) {
        IMPORT_ERROR(error,
                     "input \"%s\": dimension %d is not a fixed size (only the batch may vary)",
                     shown, k + 1);
        return FALSE;
      }
      shape.d[k] = (int)d->dim_value;
    }
    gboolean ints = t->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
                    t->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    if (!ints && t->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
      IMPORT_ERROR(error,
                   "input \"%s\": of type %d; LayerLab reads float inputs, and integer ones "
                   "as embedding indices",
                   shown, t->elem_type);
      return FALSE;
    }
    m->node = &(Onnx__NodeProto){.name = vi->name};
    LlBlock *b = add_block(m, "Input", vi->name, 0, NULL);
    if (!set_prop(b, "shape", (LlPropValue){.shape = shape}, error) || !block_done(m, error))
      return FALSE;
    g_hash_table_insert(m->values, vi->name, new_value(m, ints ? V_INDEX : V_BLOCK, b));
  }
  return TRUE;
}

/* Takes from the exported spec, block by block, what ONNX does not hold. */
static void take_from_spec(Importer *m, const LlSpec *from)
{
  for (guint i = 0; i < m->g->blocks->len; i++) {
    LlBlock *b = m->g->blocks->pdata[i];
    LlBlock *e = ll_graph_find(from->graph, b->name);
    gboolean same = e && e->desc == b->desc && e->n_inputs == b->n_inputs;
    for (int k = 0; same && k < b->n_inputs; k++)
      same = !strcmp(e->input_names[k], b->input_names[k]);
    if (!same)
      continue;
    b->frozen = e->frozen;
    for (int k = 0; k < b->desc->n_props; k++) {
      const LlPropDesc *d = &b->desc->props[k];
      LlPropValue *ours = &b->props[k], *theirs = &e->props[k];
      gboolean take = FALSE;
      if (!strcmp(d->name, "init"))
        take = TRUE;
      else if (d->type == LL_PROP_FLOAT && !strcmp(d->name, "momentum"))
        take = (float)(1.0 - ours->f) == (float)(1.0 - theirs->f);
      else if (d->type == LL_PROP_FLOAT)
        take = (float)ours->f == (float)theirs->f;
      else if (d->type == LL_PROP_INT && d->zero_is && theirs->i == 0) {
        int other;
        ll_block_desc_prop(b->desc, d->zero_is, &other);
        take = ours->i == b->props[other].i;
      } else if (d->type == LL_PROP_BOOL && !theirs->b &&
                 (!strcmp(d->name, "affine") || !strcmp(d->name, "elementwise_affine"))) {
        /* exported as scale 1 and shift 0 */
        g_autofree char *wn = g_strdup_printf("%s.weight", b->name);
        g_autofree char *bn = g_strdup_printf("%s.bias", b->name);
        Const *w = g_hash_table_lookup(m->weights, wn), *s = g_hash_table_lookup(m->weights, bn);
        take = w && s;
        for (size_t j = 0; take && j < w->n; j++)
          take = w->f[j] == 1.0f && s->f[j] == 0.0f;
        if (take) {
          g_hash_table_remove(m->weights, wn);
          g_hash_table_remove(m->weights, bn);
        }
      }
      if (take)
        *ours = *theirs;
    }
  }
  m->g->inferred = FALSE;
}

/* The spec around the graph: the exported spec's settings when the model
 * carries it, the defaults otherwise; its init_from names the checkpoint. */
static LlSpec *make_spec(Importer *m, LlSpec *from, const char *graph_name, const char *checkpoint)
{
  LlSpec *s = from ? from : ll_spec_new();
  ll_graph_free(s->graph);
  s->graph = g_steal_pointer(&m->g);
  if (!from && graph_name) {
    g_free(s->name);
    s->name = ll_excerpt(graph_name, -1);
  }
  for (guint i = s->losses->len; i-- > 0;) {
    const LlLossSpec *l = s->losses->pdata[i];
    if (!ll_graph_find(s->graph, l->output))
      g_ptr_array_remove_index(s->losses, i);
  }
  if (s->embedding_block && !ll_graph_find(s->graph, s->embedding_block))
    g_clear_pointer(&s->embedding_block, g_free);
  g_ptr_array_set_size(s->init_from, 0);
  if (checkpoint) {
    LlInitFrom *f = g_new0(LlInitFrom, 1);
    f->checkpoint = g_canonicalize_filename(checkpoint, NULL);
    g_ptr_array_add(s->init_from, f);
  }
  return s;
}

/* A constant fits a parameter of shape s: the same dims, or for a vector
 * (a bias) the same number of values ((1, N) from a Gemm's C). */
static gboolean fits(const Const *c, const LlShape *s)
{
  if (c->is_int || c->n != ll_shape_size(s))
    return FALSE;
  if (c->rank != s->rank)
    return s->rank == 1;
  for (int i = 0; i < s->rank; i++)
    if (c->d[i] != s->d[i])
      return FALSE;
  return TRUE;
}

/* The weights into a compiled copy of the graph, then to the checkpoint. */
static gboolean write_weights(Importer *m, LlSpec *s, const char *checkpoint, GError **error)
{
  LlGraph *g = s->graph;
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g->blocks->pdata[i];
    for (int k = 0; k < b->n_params; k++) {
      g_autofree char *name = g_strdup_printf("%s.%s", b->name, b->params[k].name);
      Const *c = g_hash_table_lookup(m->weights, name);
      if (!c || !fits(c, &b->params[k].shape)) {
        IMPORT_ERROR(error, "block \"%s\": the model holds no %s of shape %s", b->name,
                     b->params[k].name, ll_shape_format(&b->params[k].shape, (char[64]){0}, 64));
        return FALSE;
      }
    }
  }
  if (!checkpoint)
    return TRUE;
  if (!ll_graph_compile(g, ll_cpu_backend(), 1, error))
    return FALSE;
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g->blocks->pdata[i];
    for (int k = 0; k < b->n_params; k++) {
      g_autofree char *name = g_strdup_printf("%s.%s", b->name, b->params[k].name);
      Const *c = g_hash_table_lookup(m->weights, name);
      g->be->upload(b->params[k].data, c->f, c->n);
    }
  }
  g_autoptr(GHashTable) meta = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert(meta, "format", g_strdup("layerlab-checkpoint"));
  g_hash_table_insert(meta, "spec", ll_spec_to_json(s));
  g_hash_table_insert(meta, "spec_hash", ll_spec_hash(s));
  return ll_checkpoint_save(checkpoint, g, meta, NULL, error);
}

static LlSpec *import_model(const Onnx__ModelProto *model, const char *shown,
                            const char *checkpoint, GError **error)
{
  const Onnx__GraphProto *graph = model->graph;
  if (!graph) {
    IMPORT_ERROR(error, "%s: holds no graph", shown);
    return NULL;
  }
  if (graph->n_node > MAX_NODES) {
    IMPORT_ERROR(error, "%s: has %zu nodes; LayerLab imports at most %d", shown, graph->n_node,
                 MAX_NODES);
    return NULL;
  }
  Importer m = {
      .g = ll_graph_new(),
      .values = g_hash_table_new(g_str_hash, g_str_equal),
      .outputs = g_hash_table_new(g_str_hash, g_str_equal),
      .weights = g_hash_table_new(g_str_hash, g_str_equal),
      .owned = g_ptr_array_new_with_free_func(g_free),
      .problems = g_ptr_array_new_with_free_func(g_free),
  };
  LlSpec *spec = NULL, *from = NULL;
  GError *err = NULL;
  for (size_t i = 0; i < model->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = model->opset_import[i];
    if ((!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx")) && o->has_version)
      m.opset = o->version;
  }
  for (size_t i = 0; i < model->n_metadata_props; i++) {
    const Onnx__StringStringEntryProto *p = model->metadata_props[i];
    if (p->key && p->value && !strcmp(p->key, LL_ONNX_SPEC_KEY)) {
      g_clear_pointer(&from, ll_spec_free);
      from = ll_spec_load_data(p->value, -1, shown, NULL); /* a hint only: ignored if invalid */
    }
  }
  for (size_t i = 0; i < graph->n_output; i++)
    if (graph->output[i]->name)
      g_hash_table_add(m.outputs, graph->output[i]->name);
  for (size_t i = 0; i < graph->n_initializer; i++) {
    Const *c = read_tensor(&m, graph->initializer[i], &err);
    if (!c)
      goto fail;
    Value *v = new_value(&m, V_CONST, NULL);
    v->c = c;
    if (graph->initializer[i]->name)
      g_hash_table_insert(m.values, graph->initializer[i]->name, v);
  }
  if (!add_inputs(&m, graph, &err))
    goto fail;
  for (size_t i = 0; i < graph->n_node; i++) {
    const Onnx__NodeProto *n = graph->node[i];
    m.node = n;
    OpFn fn = NULL;
    gboolean std_domain = !n->domain || !n->domain[0] || !strcmp(n->domain, "ai.onnx");
    for (guint k = 0; std_domain && n->op_type && k < G_N_ELEMENTS(ops); k++)
      if (!strcmp(n->op_type, ops[k].op))
        fn = ops[k].fn;
    gboolean poisoned = FALSE;
    for (size_t k = 0; k < n->n_input; k++) {
      Value *v = n->input[k] && n->input[k][0] ? g_hash_table_lookup(m.values, n->input[k]) : NULL;
      poisoned |= v && v->kind == V_POISON;
    }
    GError *why = NULL;
    if (!fn)
      problem(&m, n, NULL);
    else if (!poisoned && !fn(&m, &why)) {
      problem(&m, n, why ? why->message : NULL);
      if (why && why->domain == LL_GRAPH_ERROR) { /* the graph does not infer: stop there */
        g_error_free(why);
        break;
      }
    }
    g_clear_error(&why);
    for (size_t k = 0; k < n->n_output; k++) /* what the node did not make: unusable */
      if (n->output[k] && n->output[k][0] && !g_hash_table_contains(m.values, n->output[k]))
        g_hash_table_insert(m.values, n->output[k], new_value(&m, V_POISON, NULL));
  }
  for (size_t i = 0; !m.problems->len && i < graph->n_output; i++) {
    const char *name = graph->output[i]->name ? graph->output[i]->name : "";
    m.node = &(Onnx__NodeProto){.name = (char *)name};
    Value *v = g_hash_table_lookup(m.values, name);
    GError *why = NULL;
    if (!as_block(&m, v, &why)) {
      g_autofree char *o = ll_excerpt(name, -1);
      g_ptr_array_add(m.problems, g_strdup_printf("output \"%s\": %s", o, why->message));
      g_error_free(why);
    }
  }
  if (m.problems->len) {
    g_ptr_array_add(m.problems, NULL);
    g_autofree char *list = g_strjoinv("; ", (char **)m.problems->pdata);
    IMPORT_ERROR(&err, "%s: %u %s LayerLab cannot import: %s", shown, m.problems->len - 1,
                 m.problems->len == 2 ? "node or output" : "nodes or outputs", list);
    goto fail;
  }
  if (!graph->n_output) {
    IMPORT_ERROR(&err, "%s: the graph has no output", shown);
    goto fail;
  }
  if (from)
    take_from_spec(&m, from);
  if (!ll_graph_infer(m.g, &err))
    goto fail;
  spec = make_spec(&m, g_steal_pointer(&from), graph->name, checkpoint);
  if (!write_weights(&m, spec, checkpoint, &err))
    g_clear_pointer(&spec, ll_spec_free);

fail:
  if (err)
    g_propagate_error(error, err);
  g_clear_pointer(&from, ll_spec_free);
  g_clear_pointer(&m.g, ll_graph_free);
  g_hash_table_unref(m.values);
  g_hash_table_unref(m.outputs);
  g_hash_table_unref(m.weights);
  g_ptr_array_unref(m.owned);
  g_ptr_array_unref(m.problems);
  return spec;
}

LlSpec *ll_onnx_import_data(const guint8 *data, gsize len, const char *display_name,
                            const char *checkpoint, GError **error)
{
  g_autofree char *shown = ll_excerpt(display_name, -1);
  if (len > LL_ONNX_MAX_FILE) {
    g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_FORMAT,
                "%s: larger than %" G_GSIZE_FORMAT " bytes", shown, (gsize)LL_ONNX_MAX_FILE);
    return NULL;
  }
  if (!check_wire(data, data + len, &onnx__model_proto__descriptor, 0)) {
    g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_FORMAT,
                "%s: not an ONNX model (malformed, or nested deeper than %d messages)", shown,
                MAX_DEPTH);
    return NULL;
  }
  /* decoding holds the bytes and the messages: twice the file and some */
  Budget budget = {.budget = 2 * len + ((gsize)64 << 20)};
  ProtobufCAllocator alloc = {
      .alloc = budget_alloc, .free = budget_free, .allocator_data = &budget};
  Onnx__ModelProto *model = onnx__model_proto__unpack(&alloc, len, data);
  if (!model) {
    g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_FORMAT,
                budget.used + 4096 >= budget.budget ? "%s: decoding it takes more memory than its "
                                                      "size justifies"
                                                    : "%s: not an ONNX model (it does not decode)",
                shown);
    return NULL;
  }
  LlSpec *spec = import_model(model, shown, checkpoint, error);
  onnx__model_proto__free_unpacked(model, &alloc);
  return spec;
}

LlSpec *ll_onnx_import(const char *path, const char *checkpoint, GError **error)
{
  GError *err = NULL;
  g_autoptr(GMappedFile) f = g_mapped_file_new(path, FALSE, &err);
  if (!f) {
    g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_IO, "%s", err->message);
    g_error_free(err);
    return NULL;
  }
  return ll_onnx_import_data((const guint8 *)g_mapped_file_get_contents(f),
                             g_mapped_file_get_length(f), path, checkpoint, error);
}
