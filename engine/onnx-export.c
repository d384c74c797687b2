/* onnx-export.c: a spec's graph and its weights as an ONNX model (opset 17).
 *
 * Each block becomes one node, or a short chain of them, in the graph's
 * topological order; the node that produces the block's output carries the
 * block's name, and so does that output. Weights are initializers named as
 * in the checkpoint ("conv1.weight"), in LayerLab's layout wherever ONNX
 * takes it as is; the recurrent weights, whose gates ONNX orders otherwise
 * and stacks per direction, are written as "<block>.W", ".R" and ".B".
 * Helper constants and intermediate values are named "<block>/...". */
#include <math.h>

#include "checkpoint.h"
#include "onnx-private.h"
#include "recurrent.h"

typedef struct {
  GPtrArray *owned;  /* everything below, g_free'd at the end */
  GPtrArray *nodes;  /* Onnx__NodeProto* */
  GPtrArray *inits;  /* Onnx__TensorProto* */
  GPtrArray *inputs; /* Onnx__ValueInfoProto* */
  GPtrArray *outputs;
} Builder;

static void *own(Builder *o, void *p)
{
  g_ptr_array_add(o->owned, p);
  return p;
}

static char *own_printf(Builder *o, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static char *own_printf(Builder *o, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  return own(o, s);
}

#define MAX_ATTRS 8

/* A node op(inputs) -> outputs; "" stands for an optional input or output
 * left out. */
static Onnx__NodeProto *add_node(Builder *o, const char *op, const char *name, int n_in,
                                 const char *const *in, int n_out, const char *const *out)
{
  Onnx__NodeProto *n = own(o, g_new(Onnx__NodeProto, 1));
  onnx__node_proto__init(n);
  n->op_type = own(o, g_strdup(op));
  n->name = own(o, g_strdup(name));
  n->n_input = n_in;
  n->input = own(o, g_new0(char *, n_in + 1));
  for (int i = 0; i < n_in; i++)
    n->input[i] = own(o, g_strdup(in[i]));
  n->n_output = n_out;
  n->output = own(o, g_new0(char *, n_out + 1));
  for (int i = 0; i < n_out; i++)
    n->output[i] = own(o, g_strdup(out[i]));
  n->attribute = own(o, g_new0(Onnx__AttributeProto *, MAX_ATTRS));
  g_ptr_array_add(o->nodes, n);
  return n;
}

/* The common case: one output, named as the node. */
static Onnx__NodeProto *node1(Builder *o, const char *op, const char *name, int n_in,
                              const char *const *in)
{
  return add_node(o, op, name, n_in, in, 1, (const char *const[]){name});
}

static Onnx__AttributeProto *add_attr(Builder *o, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
  g_assert(n->n_attribute < MAX_ATTRS);
  Onnx__AttributeProto *a = own(o, g_new(Onnx__AttributeProto, 1));
  onnx__attribute_proto__init(a);
  a->name = own(o, g_strdup(name));
  a->has_type = TRUE;
  a->type = type;
  n->attribute[n->n_attribute++] = a;
  return a;
}

static void attr_int(Builder *o, Onnx__NodeProto *n, const char *name, int64_t v)
{
  Onnx__AttributeProto *a = add_attr(o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = TRUE;
  a->i = v;
}

static void attr_float(Builder *o, Onnx__NodeProto *n, const char *name, float v)
{
  Onnx__AttributeProto *a = add_attr(o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = TRUE;
  a->f = v;
}

static void attr_ints(Builder *o, Onnx__NodeProto *n, const char *name, int count, const int64_t *v)
{
  Onnx__AttributeProto *a = add_attr(o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = count;
  a->ints = own(o, g_memdup2(v, count * sizeof *v));
}

/* count copies of v */
static void attr_ints_fill(Builder *o, Onnx__NodeProto *n, const char *name, int count, int64_t v)
{
  int64_t vals[8];
  g_assert(count <= 8);
  for (int i = 0; i < count; i++)
    vals[i] = v;
  attr_ints(o, n, name, count, vals);
}

static const int64_t time_major_perm[] = {1, 0, 2}; /* (N, T, F) <-> (T, N, F) */

static void attr_string(Builder *o, Onnx__NodeProto *n, const char *name, const char *v)
{
  Onnx__AttributeProto *a = add_attr(o, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
  a->n_strings = 1;
  a->strings = own(o, g_new(ProtobufCBinaryData, 1));
  a->strings[0].data = own(o, g_strdup(v));
  a->strings[0].len = strlen(v);
}

/* An initializer of rank dims; data is copied. */
static void add_tensor(Builder *o, const char *name, int32_t type, int rank, const int64_t *dims,
                       const void *data, size_t bytes)
{
  Onnx__TensorProto *t = own(o, g_new(Onnx__TensorProto, 1));
  onnx__tensor_proto__init(t);
  t->name = own(o, g_strdup(name));
  t->has_data_type = TRUE;
  t->data_type = type;
  t->n_dims = rank;
  t->dims = own(o, g_memdup2(dims, sizeof *dims * (rank ? rank : 1)));
  t->has_raw_data = TRUE;
  t->raw_data.len = bytes;
  t->raw_data.data = own(o, g_memdup2(data, bytes ? bytes : 1));
  g_ptr_array_add(o->inits, t);
}

static void add_floats(Builder *o, const char *name, int rank, const int64_t *dims,
                       const float *data)
{
  size_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= (size_t)dims[i];
  add_tensor(o, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, data, n * sizeof *data);
}

static const char *add_scalar(Builder *o, const char *name, float v)
{
  add_floats(o, name, 0, NULL, &v);
  return name;
}

static const char *add_int64s(Builder *o, const char *name, int n, const int64_t *v)
{
  add_tensor(o, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, (int64_t[]){n}, v,
             (size_t)n * sizeof *v);
  return name;
}

/* A parameter under its checkpoint name, "block.param", in its own shape. */
static const char *add_param(Builder *o, const LlBlock *b, int index)
{
  const LlParam *p = &b->params[index];
  int64_t dims[LL_MAX_DIMS];
  for (int i = 0; i < p->shape.rank; i++)
    dims[i] = p->shape.d[i];
  char *name = own_printf(o, "%s.%s", b->name, p->name);
  add_floats(o, name, p->shape.rank, dims, p->data);
  return name;
}

/* A graph input or output: float, (N, shape). */
static Onnx__ValueInfoProto *value_info(Builder *o, const char *name, const LlShape *s)
{
  Onnx__TensorShapeProto *shape = own(o, g_new(Onnx__TensorShapeProto, 1));
  onnx__tensor_shape_proto__init(shape);
  shape->n_dim = s->rank + 1;
  shape->dim = own(o, g_new(Onnx__TensorShapeProto__Dimension *, s->rank + 1));
  for (int i = 0; i <= s->rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = own(o, g_new(Onnx__TensorShapeProto__Dimension, 1));
    onnx__tensor_shape_proto__dimension__init(d);
    if (i == 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = "N";
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = s->d[i - 1];
    }
    shape->dim[i] = d;
  }
  Onnx__TypeProto__Tensor *tt = own(o, g_new(Onnx__TypeProto__Tensor, 1));
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = TRUE;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = shape;
  Onnx__TypeProto *type = own(o, g_new(Onnx__TypeProto, 1));
  onnx__type_proto__init(type);
  type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tt;
  Onnx__ValueInfoProto *v = own(o, g_new(Onnx__ValueInfoProto, 1));
  onnx__value_info_proto__init(v);
  v->name = own(o, g_strdup(name));
  v->type = type;
  return v;
}

static const char *in0(const LlBlock *b) { return b->inputs[0]->name; }

/* kernel_shape, strides, pads, dilations of a square window over `dims`
 * spatial dimensions. */
static void window_attrs(Builder *o, Onnx__NodeProto *n, int dims, int k, int s, int p, int d)
{
  attr_ints_fill(o, n, "kernel_shape", dims, k);
  attr_ints_fill(o, n, "strides", dims, s);
  attr_ints_fill(o, n, "pads", 2 * dims, p);
  if (d)
    attr_ints_fill(o, n, "dilations", dims, d);
}

static void export_linear(Builder *o, const LlBlock *b)
{
  const char *w = add_param(o, b, 0), *bias = b->n_params > 1 ? add_param(o, b, 1) : NULL;
  if (b->in_shape[0].rank == 1) { /* (N, in): Gemm, as PyTorch writes nn.Linear */
    Onnx__NodeProto *n = node1(o, "Gemm", b->name, bias ? 3 : 2, (const char *[]){in0(b), w, bias});
    attr_int(o, n, "transB", 1);
    return;
  }
  /* (N, ..., in): MatMul by the transposed weight, then the bias */
  const char *wt = own_printf(o, "%s/weight_t", b->name);
  attr_ints(o, node1(o, "Transpose", wt, 1, &w), "perm", 2, (int64_t[]){1, 0});
  if (!bias) {
    node1(o, "MatMul", b->name, 2, (const char *[]){in0(b), wt});
    return;
  }
  const char *mm = own_printf(o, "%s/matmul", b->name);
  node1(o, "MatMul", mm, 2, (const char *[]){in0(b), wt});
  node1(o, "Add", b->name, 2, (const char *[]){mm, bias});
}

static void export_conv(Builder *o, const LlBlock *b, gboolean transpose)
{
  const char *w = add_param(o, b, 0), *bias = b->n_params > 1 ? add_param(o, b, 1) : NULL;
  Onnx__NodeProto *n = node1(o, transpose ? "ConvTranspose" : "Conv", b->name, bias ? 3 : 2,
                             (const char *[]){in0(b), w, bias});
  int dims = b->in_shape[0].rank - 1;
  /* the properties of Conv1d/2d: out, kernel, stride, padding, dilation,
   * groups; of ConvTranspose2d: out, kernel, stride, padding,
   * output_padding, dilation */
  window_attrs(o, n, dims, LL_PROP_I(b, 1), LL_PROP_I(b, 2), LL_PROP_I(b, 3),
               LL_PROP_I(b, transpose ? 5 : 4));
  if (transpose)
    attr_ints_fill(o, n, "output_padding", dims, LL_PROP_I(b, 4));
  attr_int(o, n, "group", transpose ? 1 : LL_PROP_I(b, 5));
}

static void export_batchnorm(Builder *o, const LlBlock *b)
{
  int c = b->in_shape[0].d[0];
  gboolean affine = LL_PROP_B(b, 2);
  const char *scale, *shift;
  if (affine) {
    scale = add_param(o, b, 0);
    shift = add_param(o, b, 1);
  } else { /* ONNX needs them: ones and zeros */
    float *ones = own(o, g_new(float, c)), *zeros = own(o, g_new0(float, c));
    for (int i = 0; i < c; i++)
      ones[i] = 1.0f;
    scale = own_printf(o, "%s/ones", b->name);
    shift = own_printf(o, "%s/zeros", b->name);
    add_floats(o, scale, 1, (int64_t[]){c}, ones);
    add_floats(o, shift, 1, (int64_t[]){c}, zeros);
  }
  int k = affine ? 2 : 0;
  const char *mean = add_param(o, b, k), *var = add_param(o, b, k + 1);
  Onnx__NodeProto *n =
      node1(o, "BatchNormalization", b->name, 5, (const char *[]){in0(b), scale, shift, mean, var});
  attr_float(o, n, "epsilon", LL_PROP_F(b, 1));
  /* ONNX weighs the running estimate, PyTorch and LayerLab the new batch */
  attr_float(o, n, "momentum", 1.0f - LL_PROP_F(b, 0));
}

/* LayerNormalization over the last `dims` dimensions (opset 17); without
 * elementwise_affine, a scale of ones and no bias. */
static void export_layernorm(Builder *o, const LlBlock *b)
{
  int dims = LL_PROP_I(b, 0);
  const char *scale, *shift = NULL;
  if (LL_PROP_B(b, 2)) {
    scale = add_param(o, b, 0);
    shift = add_param(o, b, 1);
  } else {
    const LlShape *in = &b->in_shape[0];
    int64_t d[LL_MAX_DIMS];
    size_t n = 1;
    for (int i = 0; i < dims; i++)
      n *= (size_t)(d[i] = in->d[in->rank - dims + i]);
    float *ones = own(o, g_new(float, n));
    for (size_t i = 0; i < n; i++)
      ones[i] = 1.0f;
    scale = own_printf(o, "%s/ones", b->name);
    add_floats(o, scale, dims, d, ones);
  }
  Onnx__NodeProto *n = node1(o, "LayerNormalization", b->name, shift ? 3 : 2,
                             (const char *[]){in0(b), scale, shift});
  attr_int(o, n, "axis", -dims);
  attr_float(o, n, "epsilon", LL_PROP_F(b, 1));
}

/* Resize by an integer factor as PyTorch's Upsample: nearest takes the
 * pixel at floor(y / s), bilinear samples at (y + 0.5) / s - 0.5. */
static void export_upsample(Builder *o, const LlBlock *b)
{
  float s = (float)LL_PROP_I(b, 0);
  gboolean bilinear = LL_PROP_C(b, 1) == 1;
  float scales[] = {1.0f, 1.0f, s, s};
  const char *sc = own_printf(o, "%s/scales", b->name);
  add_floats(o, sc, 1, (int64_t[]){4}, scales);
  Onnx__NodeProto *n = node1(o, "Resize", b->name, 3, (const char *[]){in0(b), "", sc});
  Onnx__AttributeProto *a;
  const char *mode = bilinear ? "linear" : "nearest";
  const char *ctm = bilinear ? "half_pixel" : "asymmetric";
  const char *keys[] = {"mode", "coordinate_transformation_mode", "nearest_mode"};
  const char *vals[] = {mode, ctm, "floor"};
  for (int i = 0; i < (bilinear ? 2 : 3); i++) {
    a = add_attr(o, n, keys[i], ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = TRUE;
    a->s.data = own(o, g_strdup(vals[i]));
    a->s.len = strlen(vals[i]);
  }
}

/* x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, as PyTorch writes it for opset < 20. */
static void export_gelu(Builder *o, const LlBlock *b)
{
  const char *n = b->name;
  const char *sqrt2 = add_scalar(o, own_printf(o, "%s/sqrt2", n), (float)G_SQRT2);
  const char *one = add_scalar(o, own_printf(o, "%s/one", n), 1.0f);
  const char *half = add_scalar(o, own_printf(o, "%s/half", n), 0.5f);
  const char *div = own_printf(o, "%s/div", n), *erf = own_printf(o, "%s/erf", n);
  const char *add = own_printf(o, "%s/add", n), *mul = own_printf(o, "%s/mul", n);
  node1(o, "Div", div, 2, (const char *[]){in0(b), sqrt2});
  node1(o, "Erf", erf, 1, &div);
  node1(o, "Add", add, 2, (const char *[]){erf, one});
  node1(o, "Mul", mul, 2, (const char *[]){in0(b), add});
  node1(o, "Mul", n, 2, (const char *[]){mul, half});
}

/* Indices are floats in LayerLab: rounded and clamped into the table as the
 * kernels do, then cast for Gather. */
static void export_embedding(Builder *o, const LlBlock *b)
{
  const char *w = add_param(o, b, 0);
  const char *lo = add_scalar(o, own_printf(o, "%s/min", b->name), 0.0f);
  const char *hi =
      add_scalar(o, own_printf(o, "%s/max", b->name), (float)(b->params[0].shape.d[0] - 1));
  const char *round = own_printf(o, "%s/round", b->name);
  const char *clip = own_printf(o, "%s/clip", b->name);
  const char *idx = own_printf(o, "%s/index", b->name);
  node1(o, "Round", round, 1, (const char *[]){in0(b)});
  node1(o, "Clip", clip, 3, (const char *[]){round, lo, hi});
  attr_int(o, node1(o, "Cast", idx, 1, &clip), "to", ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
  attr_int(o, node1(o, "Gather", b->name, 2, (const char *[]){w, idx}), "axis", 0);
}

/* x (N, T, F) -> (T, N, F) -> RNN/LSTM/GRU -> Y (T, 1, N, H) or Y_h (1, N, H)
 * -> (N, T, H) or (N, H), as PyTorch writes its batch-first layers. */
static void export_recurrent(Builder *o, const LlBlock *b)
{
  const char *type = b->desc->type;
  int gates, h = LL_PROP_I(b, LL_RNN_P_HIDDEN), f = b->in_shape[0].d[1];
  const int *perm = ll_onnx_gate_perm(type, &gates);
  gboolean seq = LL_PROP_B(b, LL_RNN_P_RETSEQ), bias = b->n_params > LL_RNN_B_IH;
  int gh = gates * h;

  float *w = own(o, g_new(float, (size_t)gh *f)), *r = own(o, g_new(float, (size_t)gh *h));
  ll_onnx_permute_gates(b->params[0].data, w, gates, perm, h, f, TRUE);
  ll_onnx_permute_gates(b->params[1].data, r, gates, perm, h, h, TRUE);
  const char *wn = own_printf(o, "%s.W", b->name), *rn = own_printf(o, "%s.R", b->name);
  add_floats(o, wn, 3, (int64_t[]){1, gh, f}, w);
  add_floats(o, rn, 3, (int64_t[]){1, gh, h}, r);
  const char *bn = "";
  if (bias) { /* B = [b_ih, b_hh] */
    float *bb = own(o, g_new(float, 2 * (size_t)gh));
    ll_onnx_permute_gates(b->params[2].data, bb, gates, perm, h, 1, TRUE);
    ll_onnx_permute_gates(b->params[3].data, bb + gh, gates, perm, h, 1, TRUE);
    bn = own_printf(o, "%s.B", b->name);
    add_floats(o, bn, 2, (int64_t[]){1, 2 * gh}, bb);
  }

  const char *xt = own_printf(o, "%s/time_major", b->name);
  attr_ints(o, node1(o, "Transpose", xt, 1, (const char *[]){in0(b)}), "perm", 3, time_major_perm);

  const char *y = own_printf(o, "%s/Y", b->name), *yh = own_printf(o, "%s/Y_h", b->name);
  const char *outs[] = {seq ? y : "", seq ? "" : yh};
  /* ONNX's RNN, LSTM and GRU are named as the blocks */
  Onnx__NodeProto *n = add_node(o, type, own_printf(o, "%s/%s", b->name, type), bias ? 4 : 3,
                                (const char *[]){xt, wn, rn, bn}, 2, outs);
  attr_int(o, n, "hidden_size", h);
  if (!strcmp(type, "GRU")) /* PyTorch applies r to (h W_hh^T + b_hh) */
    attr_int(o, n, "linear_before_reset", 1);
  if (!strcmp(type, "RNN")) /* nonlinearity: tanh, relu */
    attr_string(o, n, "activations", LL_PROP_C(b, LL_RNN_N_COMMON) ? "Relu" : "Tanh");

  if (seq) {
    const char *axes = add_int64s(o, own_printf(o, "%s/axis1", b->name), 1, (int64_t[]){1});
    const char *sq = own_printf(o, "%s/Y_squeezed", b->name);
    node1(o, "Squeeze", sq, 2, (const char *[]){y, axes});
    attr_ints(o, node1(o, "Transpose", b->name, 1, &sq), "perm", 3, time_major_perm);
  } else {
    const char *axes = add_int64s(o, own_printf(o, "%s/axis0", b->name), 1, (int64_t[]){0});
    node1(o, "Squeeze", b->name, 2, (const char *[]){yh, axes});
  }
}

/* One block; FALSE with an error naming it when ONNX has no counterpart. */
static gboolean export_block(Builder *o, const LlBlock *b, GError **error)
{
  const char *t = b->desc->type;
  const char *x = b->n_inputs ? in0(b) : NULL;
  static const struct {
    const char *type, *op;
  } unary[] = {{"ReLU", "Relu"},
               {"Sigmoid", "Sigmoid"},
               {"Tanh", "Tanh"},
               {"ELU", "Elu"},
               {"LeakyReLU", "LeakyRelu"}};
  for (guint i = 0; i < G_N_ELEMENTS(unary); i++)
    if (!strcmp(t, unary[i].type)) {
      Onnx__NodeProto *n = node1(o, unary[i].op, b->name, 1, &x);
      if (b->desc->n_props) /* ELU's alpha, LeakyReLU's negative_slope */
        attr_float(o, n, "alpha", LL_PROP_F(b, 0));
      return TRUE;
    }
  if (!strcmp(t, "Input"))
    g_ptr_array_add(o->inputs, value_info(o, b->name, &b->out_shape));
  else if (!strcmp(t, "Linear"))
    export_linear(o, b);
  else if (!strcmp(t, "Conv1d") || !strcmp(t, "Conv2d"))
    export_conv(o, b, FALSE);
  else if (!strcmp(t, "ConvTranspose2d"))
    export_conv(o, b, TRUE);
  else if (!strcmp(t, "BatchNorm1d") || !strcmp(t, "BatchNorm2d"))
    export_batchnorm(o, b);
  else if (!strcmp(t, "GELU"))
    export_gelu(o, b);
  else if (!strcmp(t, "LayerNorm"))
    export_layernorm(o, b);
  else if (!strcmp(t, "Upsample"))
    export_upsample(o, b);
  else if (!strcmp(t, "Softmax"))
    attr_int(o, node1(o, "Softmax", b->name, 1, &x), "axis", -1);
  else if (!strcmp(t, "Dropout")) /* the identity in inference; the ratio is kept */
    node1(o, "Dropout", b->name, 2,
          (const char *[]){x, add_scalar(o, own_printf(o, "%s/ratio", b->name), LL_PROP_F(b, 0))});
  else if (!strcmp(t, "Flatten"))
    attr_int(o, node1(o, "Flatten", b->name, 1, &x), "axis", 1);
  else if (!strcmp(t, "Reshape")) {
    const LlShape *s = &b->out_shape;
    int64_t dims[LL_MAX_DIMS + 1] = {-1};
    for (int i = 0; i < s->rank; i++)
      dims[i + 1] = s->d[i];
    const char *shape = add_int64s(o, own_printf(o, "%s/shape", b->name), s->rank + 1, dims);
    node1(o, "Reshape", b->name, 2, (const char *[]){x, shape});
  } else if (!strcmp(t, "Concat") || !strcmp(t, "Add")) {
    const char *ins[LL_MAX_INPUTS];
    for (int i = 0; i < b->n_inputs; i++)
      ins[i] = b->inputs[i]->name;
    if (!strcmp(t, "Concat"))
      attr_int(o, node1(o, "Concat", b->name, b->n_inputs, ins), "axis", LL_PROP_I(b, 0) + 1);
    else
      node1(o, b->n_inputs == 2 ? "Add" : "Sum", b->name, b->n_inputs, ins);
  } else if (!strcmp(t, "MaxPool2d") || !strcmp(t, "AvgPool2d")) {
    gboolean max = t[0] == 'M';
    int k = LL_PROP_I(b, 0), s = LL_PROP_I(b, 1) ? LL_PROP_I(b, 1) : k;
    Onnx__NodeProto *n = node1(o, max ? "MaxPool" : "AveragePool", b->name, 1, &x);
    window_attrs(o, n, 2, k, s, LL_PROP_I(b, 2), 0);
    if (!max) /* padding counts in the divisor, as in PyTorch */
      attr_int(o, n, "count_include_pad", 1);
  } else if (!strcmp(t, "GlobalAvgPool")) {
    const char *pooled = own_printf(o, "%s/pooled", b->name);
    node1(o, "GlobalAveragePool", pooled, 1, &x);
    attr_int(o, node1(o, "Flatten", b->name, 1, &pooled), "axis", 1);
  } else if (!strcmp(t, "Embedding"))
    export_embedding(o, b);
  else if (!strcmp(t, "RNN") || !strcmp(t, "LSTM") || !strcmp(t, "GRU"))
    export_recurrent(o, b);
  else {
    ll_block_error(error, b, LL_GRAPH_ERROR_UNSUPPORTED,
                   "a %s block cannot be exported to ONNX (LayerLab has no ONNX operator for it)",
                   t);
    return FALSE;
  }
  return TRUE;
}

gboolean ll_onnx_export_graph(const LlSpec *spec, LlGraph *g, GHashTable *metadata,
                              const char *path, GError **error)
{
  g_return_val_if_fail(g->be && g->be->host_memory, FALSE);
  Builder o = {
      .owned = g_ptr_array_new_with_free_func(g_free),
      .nodes = g_ptr_array_new(),
      .inits = g_ptr_array_new(),
      .inputs = g_ptr_array_new(),
      .outputs = g_ptr_array_new(),
  };
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < g->order->len; i++)
    ok = export_block(&o, g->order->pdata[i], error);
  g_autoptr(GPtrArray) outs = ll_spec_output_blocks(spec);
  for (guint i = 0; i < outs->len; i++) {
    const LlBlock *b = outs->pdata[i];
    g_ptr_array_add(o.outputs, value_info(&o, b->name, &b->out_shape));
  }
  if (ok && !outs->len) {
    g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_UNSUPPORTED,
                "the graph has no output block to export");
    ok = FALSE;
  }
  if (ok) {
    Onnx__GraphProto graph;
    onnx__graph_proto__init(&graph);
    graph.name = spec->name ? spec->name : LL_SPEC_DEFAULT_NAME;
    graph.n_node = o.nodes->len;
    graph.node = (Onnx__NodeProto **)o.nodes->pdata;
    graph.n_initializer = o.inits->len;
    graph.initializer = (Onnx__TensorProto **)o.inits->pdata;
    graph.n_input = o.inputs->len;
    graph.input = (Onnx__ValueInfoProto **)o.inputs->pdata;
    graph.n_output = o.outputs->len;
    graph.output = (Onnx__ValueInfoProto **)o.outputs->pdata;

    Onnx__OperatorSetIdProto opset;
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = TRUE;
    opset.version = LL_ONNX_OPSET;
    Onnx__OperatorSetIdProto *opsets[] = {&opset};

    g_autoptr(GPtrArray) props = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    if (metadata) {
      g_hash_table_iter_init(&it, metadata);
      while (g_hash_table_iter_next(&it, &k, &v)) {
        Onnx__StringStringEntryProto *e = own(&o, g_new(Onnx__StringStringEntryProto, 1));
        onnx__string_string_entry_proto__init(e);
        e->key = k;
        e->value = v;
        g_ptr_array_add(props, e);
      }
    }

    Onnx__ModelProto model;
    onnx__model_proto__init(&model);
    model.has_ir_version = TRUE;
    model.ir_version = 8; /* the IR of opset 17 */
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.producer_name = "LayerLab";
    model.producer_version = "";
    model.graph = &graph;
    model.n_metadata_props = props->len;
    model.metadata_props = (Onnx__StringStringEntryProto **)props->pdata;

    size_t len = onnx__model_proto__get_packed_size(&model);
    g_autofree guint8 *buf = g_try_malloc(len ? len : 1);
    if (!buf) {
      g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_IO, "no memory for a %zu-byte model", len);
      ok = FALSE;
    } else {
      onnx__model_proto__pack(&model, buf);
      GError *e = NULL;
      ok = g_file_set_contents_full(path, (const char *)buf, (gssize)len,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0644, &e);
      if (!ok) {
        g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_IO, "%s", e->message);
        g_error_free(e);
      }
    }
  }
  g_ptr_array_unref(o.nodes);
  g_ptr_array_unref(o.inits);
  g_ptr_array_unref(o.inputs);
  g_ptr_array_unref(o.outputs);
  g_ptr_array_unref(o.owned);
  return ok;
}

gboolean ll_onnx_export_checkpoint(const char *checkpoint, const char *path, GError **error)
{
  g_autoptr(GHashTable) meta = NULL;
  if (!ll_checkpoint_read_metadata(checkpoint, &meta, error))
    return FALSE;
  const char *spec_json = g_hash_table_lookup(meta, "spec");
  if (!spec_json) {
    g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_FORMAT,
                "%s: has no spec in its metadata (not written by LayerLab?)", checkpoint);
    return FALSE;
  }
  g_autoptr(LlSpec) spec = ll_spec_load_data(spec_json, -1, checkpoint, error);
  if (!spec || !ll_graph_compile(spec->graph, ll_cpu_backend(), 1, error) ||
      !ll_checkpoint_load(checkpoint, spec->graph, NULL, NULL, error))
    return FALSE;
  /* the checkpoint's keys, and the spec for an import to take back */
  g_autoptr(GHashTable) props = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert(props, LL_ONNX_SPEC_KEY, ll_spec_to_json(spec));
  g_hash_table_insert(props, "spec_hash", ll_spec_hash(spec));
  static const char *const copied[] = {"run_id", "epoch", "step"};
  for (guint i = 0; i < G_N_ELEMENTS(copied); i++) {
    const char *v = g_hash_table_lookup(meta, copied[i]);
    if (v)
      g_hash_table_insert(props, (char *)copied[i], g_strdup(v));
  }
  return ll_onnx_export_graph(spec, spec->graph, props, path, error);
}
