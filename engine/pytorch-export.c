/* pytorch-export.c: model.py and weights.bin from a checkpoint (see
 * pytorch-export.h).
 *
 * Each block type has a writer that adds its module to Model.__init__ and
 * its step to Model.forward; the blocks are written in the graph's
 * topological order, which is also the order of the modules, of the
 * state_dict and of weights.bin. */
#include "pytorch-export.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "checkpoint.h"
#include "spec.h"

/* What a Python name of a block must not be: keywords, the names forward
 * uses besides the blocks' (self, torch), and torch.nn.Module's own
 * attributes, which a submodule of that name would hide or break; each
 * between spaces. */
static const char reserved_words[] =
    " False None True and as assert async await break class continue def del elif else "
    "except finally for from global if import in is lambda nonlocal not or pass raise return "
    "try while with yield self torch nn T_destination add_module apply bfloat16 buffers "
    "call_super_init children compile cpu cuda double dump_patches eval extra_repr float "
    "forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict "
    "modules mtia named_buffers named_children named_modules named_parameters parameters "
    "register_backward_hook register_buffer register_forward_hook register_forward_pre_hook "
    "register_full_backward_hook register_full_backward_pre_hook "
    "register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module "
    "register_parameter register_state_dict_post_hook register_state_dict_pre_hook "
    "requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train "
    "training type xpu zero_grad ";

typedef struct {
  LlSpec *spec;
  GHashTable *py;     /* LlBlock* -> its Python name: attribute, variable, argument */
  GString *init;      /* body of Model.__init__ */
  GString *forward;   /* body of Model.forward */
  GString *weights;   /* entries of WEIGHTS */
  GString *renamed;   /* entries of LAYERLAB_NAMES */
  GByteArray *data;   /* weights.bin */
  gboolean has_bn;    /* a BatchNorm's note goes into the docstring */
  gboolean has_embed; /* likewise an Embedding's */
} Writer;

/* ---- names and numbers ------------------------------------------------------------ */

static gboolean name_taken(GHashTable *used, const char *name)
{
  g_autofree char *word = g_strconcat(" ", name, " ", NULL);
  return strstr(reserved_words, word) || g_hash_table_contains(used, name);
}

/* Block names are 1-64 ASCII letters, digits, '_' and '-' (graph.c). Those
 * that are Python identifiers already keep their name, so the state_dict
 * keys are the checkpoint's; the others get the nearest free identifier:
 * '-' becomes '_', a leading digit or '_' gets a 'b' before it, and a name
 * still taken gets '_' appended. */
static GHashTable *python_names(LlGraph *g)
{
  GHashTable *py = g_hash_table_new_full(NULL, NULL, NULL, g_free);
  GHashTable *used = g_hash_table_new(g_str_hash, g_str_equal);
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < g->order->len; i++) {
      LlBlock *b = g_ptr_array_index(g->order, i);
      if (g_hash_table_contains(py, b))
        continue;
      gboolean plain = !g_ascii_isdigit(b->name[0]) && b->name[0] != '_' && !strchr(b->name, '-') &&
                       !name_taken(used, b->name);
      if (pass == 0 && !plain)
        continue;
      GString *s = g_string_new(NULL);
      if (g_ascii_isdigit(b->name[0]) || b->name[0] == '_')
        g_string_append_c(s, 'b');
      for (const char *p = b->name; *p; p++)
        g_string_append_c(s, *p == '-' ? '_' : *p);
      while (name_taken(used, s->str))
        g_string_append_c(s, '_');
      char *name = g_string_free(s, FALSE);
      g_hash_table_insert(py, b, name);
      g_hash_table_add(used, name);
    }
  g_hash_table_unref(used);
  return py;
}

static const char *py(const Writer *w, const LlBlock *b) { return g_hash_table_lookup(w->py, b); }

/* The shortest text that reads back as the same double, as Python's repr
 * writes it ("0.1", "1e-05"), with ".0" where it would read as an int. */
static void py_float(double v, char *buf, size_t len)
{
  for (int prec = 1; prec <= 17; prec++) {
    g_snprintf(buf, len, "%.*g", prec, v);
    if (g_ascii_strtod(buf, NULL) == v)
      break;
  }
  if (!strpbrk(buf, ".en"))
    g_strlcat(buf, ".0", len);
}

static const LlPropValue *prop(const LlBlock *b, const char *name)
{
  int idx = -1;
  const LlPropDesc *d = ll_block_desc_prop(b->desc, name, &idx);
  g_assert(d && idx >= 0); /* the writers name only properties their block type has */
  return &b->props[idx];
}

static int prop_i(const LlBlock *b, const char *name) { return (int)prop(b, name)->i; }
static gboolean prop_b(const LlBlock *b, const char *name) { return prop(b, name)->b; }

/* "(N, 8, 28, 28)": a block's output with the batch. */
static char *batch_shape(const LlShape *s)
{
  GString *t = g_string_new("(N");
  for (int i = 0; i < s->rank; i++)
    g_string_append_printf(t, ", %d", s->d[i]);
  g_string_append_c(t, ')');
  return g_string_free(t, FALSE);
}

/* "(8, 1, 3, 3)", "(8,)": a Python tuple. */
static char *py_tuple(const LlShape *s)
{
  GString *t = g_string_new("(");
  for (int i = 0; i < s->rank; i++)
    g_string_append_printf(t, "%s%d", i ? ", " : "", s->d[i]);
  g_string_append(t, s->rank == 1 ? ",)" : ")");
  return g_string_free(t, FALSE);
}

/* Text from the spec or the checkpoint, made safe inside a docstring. */
static char *doc_text(const char *s)
{
  GString *t = g_string_new(NULL);
  for (const char *p = s ? s : ""; *p; p++) {
    if (*p == '\\')
      g_string_append(t, "\\\\");
    else if (*p == '"')
      g_string_append_c(t, '\'');
    else
      g_string_append_c(t, (guchar)*p < 0x20 ? ' ' : *p);
  }
  return g_string_free(t, FALSE);
}

/* ---- what each block writes --------------------------------------------------------- */

/* self.NAME = <module> in __init__ (printf-style). */
static void module(Writer *w, const LlBlock *b, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void module(Writer *w, const LlBlock *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *m = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_string_append_printf(w->init, "        self.%s = %s\n", py(w, b), m);
  if (b->frozen && b->n_params)
    g_string_append_printf(w->init, "        self.%s.requires_grad_(False)  # frozen in the spec\n",
                           py(w, b));
}

/* NAME = <expr>  # (N, ...) in forward (printf-style). */
static void step(Writer *w, const LlBlock *b, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void step(Writer *w, const LlBlock *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *e = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *shape = batch_shape(&b->out_shape);
  g_string_append_printf(w->forward, "        %s = %s  # %s\n", py(w, b), e, shape);
}

/* The variable holding input k. */
static const char *in(const Writer *w, const LlBlock *b, int k) { return py(w, b->inputs[k]); }

/* self.NAME(input 0) */
static void call(Writer *w, const LlBlock *b) { step(w, b, "self.%s(%s)", py(w, b), in(w, b, 0)); }

static const char *no_bias(const LlBlock *b) { return prop_b(b, "bias") ? "" : ", bias=False"; }

static void write_linear(Writer *w, LlBlock *b)
{
  const LlShape *s = &b->in_shape[0];
  module(w, b, "nn.Linear(%d, %d%s)", s->d[s->rank - 1], prop_i(b, "out_features"), no_bias(b));
  call(w, b);
}

/* ", stride=2": a keyword argument where it differs from PyTorch's default. */
static void kwarg(GString *s, const char *name, int v, int def)
{
  if (v != def)
    g_string_append_printf(s, ", %s=%d", name, v);
}

static void write_conv(Writer *w, LlBlock *b)
{
  GString *a = g_string_new(NULL);
  g_string_append_printf(a, "%d, %d, kernel_size=%d", b->in_shape[0].d[0],
                         prop_i(b, "out_channels"), prop_i(b, "kernel"));
  kwarg(a, "stride", prop_i(b, "stride"), 1);
  kwarg(a, "padding", prop_i(b, "padding"), 0);
  kwarg(a, "dilation", prop_i(b, "dilation"), 1);
  kwarg(a, "groups", prop_i(b, "groups"), 1);
  module(w, b, "nn.Conv%dd(%s%s)", b->desc->variant, a->str, no_bias(b));
  g_string_free(a, TRUE);
  call(w, b);
}

static void write_conv_transpose(Writer *w, LlBlock *b)
{
  GString *a = g_string_new(NULL);
  g_string_append_printf(a, "%d, %d, kernel_size=%d", b->in_shape[0].d[0],
                         prop_i(b, "out_channels"), prop_i(b, "kernel"));
  kwarg(a, "stride", prop_i(b, "stride"), 1);
  kwarg(a, "padding", prop_i(b, "padding"), 0);
  kwarg(a, "output_padding", prop_i(b, "output_padding"), 0);
  kwarg(a, "dilation", prop_i(b, "dilation"), 1);
  module(w, b, "nn.ConvTranspose2d(%s%s)", a->str, no_bias(b));
  g_string_free(a, TRUE);
  call(w, b);
}

static void write_batchnorm(Writer *w, LlBlock *b)
{
  GString *a = g_string_new(NULL);
  g_string_append_printf(a, "%d", b->in_shape[0].d[0]);
  char num[32];
  double eps = prop(b, "eps")->f, momentum = prop(b, "momentum")->f;
  if (eps != 1e-5) {
    py_float(eps, num, sizeof num);
    g_string_append_printf(a, ", eps=%s", num);
  }
  if (momentum != 0.1) {
    py_float(momentum, num, sizeof num);
    g_string_append_printf(a, ", momentum=%s", num);
  }
  if (!prop_b(b, "affine"))
    g_string_append(a, ", affine=False");
  module(w, b, "nn.BatchNorm%dd(%s)", b->desc->variant, a->str);
  g_string_free(a, TRUE);
  g_string_append_printf(
      w->init, "        self.%s.register_buffer(\"num_batches_tracked\", None)\n", py(w, b));
  w->has_bn = TRUE;
  call(w, b);
}

/* ReLU, LeakyReLU, ELU, GELU, Sigmoid, Tanh: the module of the same name,
 * with its one property where it has one. */
static void write_activation(Writer *w, LlBlock *b)
{
  char num[32] = "";
  if (!strcmp(b->desc->type, "LeakyReLU"))
    py_float(prop(b, "negative_slope")->f, num, sizeof num);
  else if (!strcmp(b->desc->type, "ELU")) {
    py_float(prop(b, "alpha")->f, num, sizeof num);
    g_autofree char *arg = g_strconcat("alpha=", num, NULL);
    g_strlcpy(num, arg, sizeof num);
  }
  module(w, b, "nn.%s(%s)", b->desc->type, num);
  call(w, b);
}

/* nn.LayerNorm over the input's last dims dimensions (normalized_shape). */
static void write_layernorm(Writer *w, LlBlock *b)
{
  const LlShape *s = &b->in_shape[0];
  int dims = prop_i(b, "dims");
  GString *a = g_string_new("(");
  for (int i = s->rank - dims; i < s->rank; i++)
    g_string_append_printf(a, "%d%s", s->d[i], dims == 1 || i + 1 < s->rank ? ", " : "");
  g_string_append_c(a, ')');
  char num[32];
  double eps = prop(b, "eps")->f;
  if (eps != 1e-5) {
    py_float(eps, num, sizeof num);
    g_string_append_printf(a, ", eps=%s", num);
  }
  if (!prop_b(b, "elementwise_affine"))
    g_string_append(a, ", elementwise_affine=False");
  module(w, b, "nn.LayerNorm(%s)", a->str);
  g_string_free(a, TRUE);
  call(w, b);
}

/* nn.Upsample by an integer factor; bilinear with align_corners=False, as
 * the block computes it. */
static void write_upsample(Writer *w, LlBlock *b)
{
  int scale = prop_i(b, "scale_factor");
  if (prop(b, "mode")->choice == 1)
    module(w, b, "nn.Upsample(scale_factor=%d, mode=\"bilinear\", align_corners=False)", scale);
  else
    module(w, b, "nn.Upsample(scale_factor=%d, mode=\"nearest\")", scale);
  call(w, b);
}

static void write_dropout(Writer *w, LlBlock *b)
{
  char num[32];
  py_float(prop(b, "p")->f, num, sizeof num);
  module(w, b, "nn.Dropout(p=%s)", num);
  call(w, b);
}

static void write_softmax(Writer *w, LlBlock *b)
{
  module(w, b, "nn.Softmax(dim=-1)");
  call(w, b);
}

static void write_flatten(Writer *w, LlBlock *b)
{
  module(w, b, "nn.Flatten()");
  call(w, b);
}

static void write_reshape(Writer *w, LlBlock *b)
{
  GString *dims = g_string_new(NULL);
  for (int i = 0; i < b->out_shape.rank; i++)
    g_string_append_printf(dims, ", %d", b->out_shape.d[i]);
  step(w, b, "%s.reshape(-1%s)", in(w, b, 0), dims->str);
  g_string_free(dims, TRUE);
}

static void write_concat(Writer *w, LlBlock *b)
{
  GString *xs = g_string_new(NULL);
  for (int k = 0; k < b->n_inputs; k++)
    g_string_append_printf(xs, "%s%s", k ? ", " : "", in(w, b, k));
  step(w, b, "torch.cat([%s], dim=%d)", xs->str, prop_i(b, "axis") + 1);
  g_string_free(xs, TRUE);
}

static void write_add(Writer *w, LlBlock *b)
{
  GString *xs = g_string_new(NULL);
  for (int k = 0; k < b->n_inputs; k++)
    g_string_append_printf(xs, "%s%s", k ? " + " : "", in(w, b, k));
  step(w, b, "%s", xs->str);
  g_string_free(xs, TRUE);
}

/* MaxPool2d and AvgPool2d (whose padding counts in the mean: PyTorch's
 * default count_include_pad=True). A stride of 0 is the kernel size, as
 * PyTorch's default stride is. */
static void write_pool(Writer *w, LlBlock *b)
{
  int k = prop_i(b, "kernel"), s = prop_i(b, "stride");
  GString *a = g_string_new(NULL);
  g_string_append_printf(a, "%d", k);
  if (s && s != k)
    g_string_append_printf(a, ", stride=%d", s);
  kwarg(a, "padding", prop_i(b, "padding"), 0);
  module(w, b, "nn.%s(%s)", b->desc->type, a->str);
  g_string_free(a, TRUE);
  call(w, b);
}

static void write_global_avg_pool(Writer *w, LlBlock *b)
{
  step(w, b, "%s.mean(dim=%s)", in(w, b, 0), b->in_shape[0].rank == 3 ? "(2, 3)" : "2");
}

static void write_embedding(Writer *w, LlBlock *b)
{
  int v = prop_i(b, "num_embeddings");
  module(w, b, "nn.Embedding(%d, %d)", v, prop_i(b, "embedding_dim"));
  step(w, b, "self.%s(%s.round().clamp(0, %d).long())", py(w, b), in(w, b, 0), v - 1);
  w->has_embed = TRUE;
}

/* RNN, LSTM, GRU: one layer, batch-first, starting from zero states; the
 * last step alone unless return_sequences. */
static void write_recurrent(Writer *w, LlBlock *b)
{
  const char *nonlin = "";
  if (!strcmp(b->desc->type, "RNN") && prop(b, "nonlinearity")->choice == 1)
    nonlin = ", nonlinearity=\"relu\"";
  int t = b->in_shape[0].d[0], h = prop_i(b, "hidden_size");
  module(w, b, "nn.%s(%d, %d, batch_first=True%s%s)", b->desc->type, b->in_shape[0].d[1], h,
         no_bias(b), nonlin);
  if (prop_b(b, "return_sequences")) {
    step(w, b, "self.%s(%s)[0]", py(w, b), in(w, b, 0));
  } else {
    g_string_append_printf(w->forward, "        %s = self.%s(%s)[0]  # (N, %d, %d)\n", py(w, b),
                           py(w, b), in(w, b, 0), t, h);
    g_string_append_printf(w->forward, "        %s = %s[:, -1]  # the last step: (N, %d)\n",
                           py(w, b), py(w, b), h);
  }
}

typedef struct {
  const char *type;
  void (*write)(Writer *w, LlBlock *b);
  /* what PyTorch appends to each parameter's name (NULL: nothing) */
  const char *suffix;
} BlockWriter;

static const BlockWriter writers[] = {
    {"Linear", write_linear},
    {"Conv1d", write_conv},
    {"Conv2d", write_conv},
    {"ConvTranspose2d", write_conv_transpose},
    {"BatchNorm1d", write_batchnorm},
    {"BatchNorm2d", write_batchnorm},
    {"ReLU", write_activation},
    {"LeakyReLU", write_activation},
    {"ELU", write_activation},
    {"GELU", write_activation},
    {"Sigmoid", write_activation},
    {"Tanh", write_activation},
    {"Dropout", write_dropout},
    {"LayerNorm", write_layernorm},
    {"Upsample", write_upsample},
    {"Softmax", write_softmax},
    {"Flatten", write_flatten},
    {"Reshape", write_reshape},
    {"Concat", write_concat},
    {"Add", write_add},
    {"MaxPool2d", write_pool},
    {"AvgPool2d", write_pool},
    {"GlobalAvgPool", write_global_avg_pool},
    {"Embedding", write_embedding},
    /* torch.nn.RNN and its kin number their layers: weight_ih_l0 */
    {"RNN", write_recurrent, "_l0"},
    {"LSTM", write_recurrent, "_l0"},
    {"GRU", write_recurrent, "_l0"},
};

static const BlockWriter *writer_for(const LlBlock *b)
{
  for (guint i = 0; i < G_N_ELEMENTS(writers); i++)
    if (!strcmp(writers[i].type, b->desc->type))
      return &writers[i];
  return NULL;
}

/* ---- the file ----------------------------------------------------------------------- */

/* WEIGHTS entries and weights.bin for one block's parameters and buffers. */
static void add_weights(Writer *w, LlBlock *b, const BlockWriter *bw)
{
  const LlBackend *be = ll_cpu_backend();
  for (int k = 0; k < b->n_params; k++) {
    const LlParam *p = &b->params[k];
    g_autofree char *key =
        g_strdup_printf("%s.%s%s", py(w, b), p->name, bw->suffix ? bw->suffix : "");
    g_autofree char *ckpt = g_strdup_printf("%s.%s", b->name, p->name);
    g_autofree char *shape = py_tuple(&p->shape);
    g_string_append_printf(w->weights, "    (\"%s\", %s),\n", key, shape);
    if (strcmp(key, ckpt))
      g_string_append_printf(w->renamed, "    \"%s\": \"%s\",\n", key, ckpt);
    size_t n = ll_shape_size(&p->shape);
    float *buf = g_new(float, n ? n : 1);
    be->download(buf, p->data, n);
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
    for (size_t i = 0; i < n; i++) {
      guint32 u;
      memcpy(&u, &buf[i], 4);
      u = GUINT32_TO_LE(u);
      memcpy(&buf[i], &u, 4);
    }
#endif
    g_byte_array_append(w->data, (const guint8 *)buf, (guint)(n * sizeof(float)));
    g_free(buf);
  }
}

/* The inputs' paragraph of the docstring: what the data pipeline made of them. */
static const char *inputs_text(LlNormalize n)
{
  switch (n) {
  case LL_NORM_ZERO_ONE:
    return "Inputs, as LayerLab's data pipeline feeds them (normalize: zero-one, each\n"
           "channel scaled to 0..1: bytes by 1/255, other values by the training split's\n"
           "min and max):\n";
  case LL_NORM_STANDARDIZE:
    return "Inputs, as LayerLab's data pipeline feeds them (normalize: standardize, each\n"
           "channel by the training split's mean and standard deviation):\n";
  case LL_NORM_NONE:
  default: return "Inputs, as LayerLab's data pipeline feeds them (normalize: none, raw values):\n";
  }
}

static void append_io(GString *s, GPtrArray *blocks, const Writer *w)
{
  for (guint i = 0; i < blocks->len; i++) {
    const LlBlock *b = blocks->pdata[i];
    g_autofree char *shape = batch_shape(&b->out_shape);
    g_string_append_printf(s, "    %-14s %s\n", py(w, b), shape);
  }
}

static void append_names(GString *s, GPtrArray *blocks, const Writer *w, const char *sep)
{
  for (guint i = 0; i < blocks->len; i++)
    g_string_append_printf(s, "%s%s", i ? sep : "", py(w, blocks->pdata[i]));
}

/* {"image": (1, 28, 28), ...}: block names and per-sample shapes. */
static void append_shapes(GString *s, GPtrArray *blocks)
{
  g_string_append_c(s, '{');
  for (guint i = 0; i < blocks->len; i++) {
    const LlBlock *b = blocks->pdata[i];
    g_autofree char *shape = py_tuple(&b->out_shape);
    g_string_append_printf(s, "%s\"%s\": %s", i ? ", " : "", b->name, shape);
  }
  g_string_append(s, "}\n");
}

static char *model_py(Writer *w, GHashTable *meta, const char *checkpoint, GPtrArray *inputs,
                      GPtrArray *outputs)
{
  const LlSpec *s = w->spec;
  g_autofree char *name = doc_text(s->name);
  g_autofree char *hash = ll_spec_hash(s);
  g_autofree char *base = g_path_get_basename(checkpoint);
  g_autofree char *file = doc_text(base);
  const char *run = g_hash_table_lookup(meta, "run_id");
  g_autofree char *run_text = doc_text(run);
  const char *epoch = g_hash_table_lookup(meta, "epoch"),
             *steps = g_hash_table_lookup(meta, "step");
  g_autofree char *epoch_text = doc_text(epoch), *step_text = doc_text(steps);

  GString *o = g_string_new(NULL);
  g_string_append_printf(o, "\"\"\"The LayerLab model \"%s\" as a PyTorch module.\n\n", name);
  g_string_append(o, "Exported by `layerlab export --pytorch` from ");
  if (run)
    g_string_append_printf(o, "run %s,", run_text);
  g_string_append_printf(o, "\ncheckpoint %s", file);
  if (epoch && steps)
    g_string_append_printf(o, " (epoch %s, step %s)", epoch_text, step_text);
  g_string_append_printf(o, ", spec hash %s.\n\n", hash);
  g_string_append(
      o, "    import model\n    net = model.load()  # evaluation mode, trained weights\n    ");
  append_names(o, outputs, w, ", ");
  g_string_append(o, " = net(");
  append_names(o, inputs, w, ", ");
  g_string_append(o, ")\n\n");
  g_string_append(o, inputs_text(s->pipeline.normalize));
  append_io(o, inputs, w);
  g_string_append(o, "Outputs:\n");
  append_io(o, outputs, w);
  g_string_append(
      o, "\nweights.bin beside this file holds every tensor of WEIGHTS as little-endian\n"
         "float32, one after another; load() reads it with numpy (the safetensors\n"
         "package is not needed). Model() alone starts from PyTorch's initialisation.\n"
         "The state_dict keys are the LayerLab checkpoint's tensor names, except those\n"
         "listed in LAYERLAB_NAMES; layerlab_state_dict() gives the checkpoint's names.\n");
  if (w->has_bn)
    g_string_append(o,
                    "BatchNorm layers keep no num_batches_tracked buffer: LayerLab has none, and\n"
                    "with a momentum set PyTorch does not read it.\n");
  if (w->has_embed)
    g_string_append(o,
                    "Embedding indices arrive as floats; like LayerLab, forward rounds them and\n"
                    "clamps them into the table.\n");
  g_string_append(o, "\"\"\"\nimport math\nimport os\n\nimport numpy as np\nimport torch\n"
                     "from torch import nn\n\n");
  g_string_append(o, "# The spec's Input and output blocks in the order forward takes and returns\n"
                     "# them, with their shapes per sample (the batch dimension comes first).\n"
                     "INPUTS = ");
  append_shapes(o, inputs);
  g_string_append(o, "OUTPUTS = ");
  append_shapes(o, outputs);
  g_string_append(
      o, "\n# Each tensor's state_dict key and shape, in the order of weights.bin.\nWEIGHTS = [\n");
  g_string_append(o, w->weights->str);
  g_string_append(
      o, "]\n\n# Keys whose tensor has another name in the LayerLab checkpoint (PyTorch's\n"
         "# recurrent layers number theirs: weight_ih_l0 is LayerLab's weight_ih).\n"
         "LAYERLAB_NAMES = {\n");
  g_string_append(o, w->renamed->str);
  g_string_append(o, "}\n\n\nclass Model(nn.Module):\n");
  g_string_append_printf(o, "    \"\"\"%s\"\"\"\n\n", name);
  g_string_append(o, "    def __init__(self):\n        super().__init__()\n");
  g_string_append(o, w->init->len ? w->init->str : "        pass\n");
  g_string_append(o, "\n    def forward(self, ");
  append_names(o, inputs, w, ", ");
  g_string_append(o, "):\n");
  g_string_append(o, w->forward->str);
  g_string_append(o, "        return ");
  append_names(o, outputs, w, ", ");
  g_string_append(
      o, "\n\n\n"
         "def load(weights=None):\n"
         "    \"\"\"The model in evaluation mode with the exported weights loaded.\n\n"
         "    weights: the weights file (default: weights.bin beside this file).\n"
         "    \"\"\"\n"
         "    path = weights or os.path.join(os.path.dirname(os.path.abspath(__file__)), "
         "\"weights.bin\")\n"
         "    flat = np.fromfile(path, dtype=\"<f4\").astype(np.float32)\n"
         "    total = sum(math.prod(shape) for _, shape in WEIGHTS)\n"
         "    if flat.size != total:\n"
         "        raise ValueError(f\"{path}: {flat.size} floats, the model has {total}\")\n"
         "    model = Model()\n"
         "    state = model.state_dict()  # shares memory with the parameters and buffers\n"
         "    if sorted(state) != sorted(key for key, _ in WEIGHTS):\n"
         "        raise ValueError(\"the module's tensors are not those of WEIGHTS\")\n"
         "    offset = 0\n"
         "    for key, shape in WEIGHTS:\n"
         "        if tuple(state[key].shape) != shape:\n"
         "            raise ValueError(f\"{key}: {tuple(state[key].shape)} in the module, "
         "{shape} in WEIGHTS\")\n"
         "        n = math.prod(shape)\n"
         "        state[key].copy_(torch.from_numpy(flat[offset:offset + n].reshape(shape)))\n"
         "        offset += n\n"
         "    return model.eval()\n"
         "\n\n"
         "def layerlab_state_dict(model):\n"
         "    \"\"\"The module's tensors under the LayerLab checkpoint's names (to save with\n"
         "    safetensors.torch.save_file and load into LayerLab again).\"\"\"\n"
         "    return {LAYERLAB_NAMES.get(key, key): value for key, value in "
         "model.state_dict().items()}\n");
  return g_string_free(o, FALSE);
}

/* The checkpoint's spec, its graph compiled for one sample on the CPU with
 * the checkpoint's weights loaded (every tensor, checked). */
static LlSpec *open_checkpoint(const char *checkpoint, GHashTable **meta, GError **error)
{
  if (!ll_checkpoint_read_metadata(checkpoint, meta, error))
    return NULL;
  const char *json = g_hash_table_lookup(*meta, "spec");
  if (!json) {
    g_set_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_FORMAT,
                "checkpoint \"%s\" has no spec in its metadata (not written by LayerLab?)",
                checkpoint);
    return NULL;
  }
  g_autoptr(LlSpec) spec = ll_spec_load_data(json, -1, checkpoint, error);
  if (!spec || !ll_graph_compile(spec->graph, ll_cpu_backend(), 1, error) ||
      !ll_checkpoint_load(checkpoint, spec->graph, NULL, NULL, error))
    return NULL;
  return g_steal_pointer(&spec);
}

static gboolean write_files(const char *dir, const char *const *names, const char *const *data,
                            const gsize *lens, gboolean force, GPtrArray *written, GError **error)
{
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create \"%s\": %s", dir,
                g_strerror(e));
    return FALSE;
  }
  for (int i = 0; names[i]; i++) {
    g_autofree char *path = g_build_filename(dir, names[i], NULL);
    if (!force && g_file_test(path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK)) {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST, "%s already exists", path);
      return FALSE;
    }
  }
  for (int i = 0; names[i]; i++) {
    g_autofree char *path = g_build_filename(dir, names[i], NULL);
    if (!g_file_set_contents(path, data[i], (gssize)lens[i], error))
      return FALSE;
    if (written)
      g_ptr_array_add(written, g_steal_pointer(&path));
  }
  return TRUE;
}

gboolean ll_pytorch_export(const char *checkpoint, const char *dir, gboolean force,
                           GPtrArray *written, GError **error)
{
  g_autoptr(GHashTable) meta = NULL;
  g_autoptr(LlSpec) spec = open_checkpoint(checkpoint, &meta, error);
  if (!spec)
    return FALSE;
  LlGraph *g = spec->graph;
  /* weights.bin is built in memory, its length a guint */
  if ((g->n_params + g->n_buffers) > G_MAXUINT / sizeof(float)) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_MEMORY,
                "the model's %zu weights are more than the PyTorch export writes (4 GiB)",
                g->n_params + g->n_buffers);
    return FALSE;
  }
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (strcmp(b->desc->type, "Input") && !writer_for(b)) {
      g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNSUPPORTED,
                  "block \"%s\": the PyTorch export has no module for a %s block", b->name,
                  b->desc->type);
      return FALSE;
    }
  }
  g_autoptr(GPtrArray) inputs = ll_graph_inputs(g);
  g_autoptr(GPtrArray) outputs = ll_spec_output_blocks(spec);
  if (!outputs->len) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_CONNECTION,
                "the graph has no output: no loss names one and no block is a head");
    return FALSE;
  }
  Writer w = {
      .spec = spec,
      .py = python_names(g),
      .init = g_string_new(NULL),
      .forward = g_string_new(NULL),
      .weights = g_string_new(NULL),
      .renamed = g_string_new(NULL),
      .data = g_byte_array_new(),
  };
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    const BlockWriter *bw = writer_for(b);
    if (!bw)
      continue; /* an Input: an argument of forward */
    bw->write(&w, b);
    add_weights(&w, b, bw);
  }
  g_autofree char *code = model_py(&w, meta, checkpoint, inputs, outputs);
  const char *const names[] = {"model.py", "weights.bin", NULL};
  const char *const data[] = {code, (const char *)w.data->data};
  const gsize lens[] = {strlen(code), w.data->len};
  gboolean ok = write_files(dir, names, data, lens, force, written, error);
  g_hash_table_unref(w.py);
  g_string_free(w.init, TRUE);
  g_string_free(w.forward, TRUE);
  g_string_free(w.weights, TRUE);
  g_string_free(w.renamed, TRUE);
  g_byte_array_unref(w.data);
  return ok;
}
