/* graph.c: building, ordering, shape inference, memory planning and the
 * forward and backward passes of a block graph. */
#include "graph.h"

#include "batchnorm.h"
#include "device.h"
#include "untrusted.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void block_free(gpointer data)
{
  LlBlock *b = data;
  g_free(b->name);
  for (int i = 0; i < b->n_inputs; i++)
    g_free(b->input_names[i]);
  g_free(b);
}

LlGraph *ll_graph_new(void)
{
  LlGraph *g = g_new0(LlGraph, 1);
  g->blocks = g_ptr_array_new_with_free_func(block_free);
  g->order = g_ptr_array_new();
  return g;
}

static void drop_eval_arena(LlGraph *g)
{
  if (g->eval_arena)
    g->be->free(g->eval_arena);
  g->eval_arena = NULL;
  g->eval_batch = 0;
}

void ll_graph_free(LlGraph *g)
{
  if (!g)
    return;
  if (g->arena)
    g->be->free(g->arena);
  drop_eval_arena(g);
  g_ptr_array_unref(g->order);
  g_ptr_array_unref(g->blocks);
  g_free(g);
}

static gboolean valid_name(const char *name)
{
  if (!name || !*name || strlen(name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

LlBlock *ll_graph_find(LlGraph *g, const char *name)
{
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g_ptr_array_index(g->blocks, i);
    if (strcmp(b->name, name) == 0)
      return b;
  }
  return NULL;
}

static void set_default(LlPropValue *v, const LlPropDesc *d)
{
  v->type = d->type;
  switch (d->type) {
  case LL_PROP_INT: v->i = (int64_t)d->def; break;
  case LL_PROP_FLOAT: v->f = d->def; break;
  case LL_PROP_BOOL: v->b = d->def != 0.0; break;
  case LL_PROP_CHOICE: v->choice = (int)d->def; break;
  case LL_PROP_SHAPE: v->shape = d->def_shape; break;
  }
}

LlBlock *ll_graph_add(LlGraph *g, const char *type, const char *name, GError **error)
{
  const LlBlockDesc *d = ll_block_lookup(type);
  g_autofree char *shown = ll_excerpt(name ? name : "?", -1);
  if (!d) {
    g_autofree char *shown_type = ll_excerpt(type, -1);
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNKNOWN_BLOCK,
                "block \"%s\": unknown block type \"%s\" (`layerlab blocks` lists them)", shown,
                shown_type);
    return NULL;
  }
  if (!valid_name(name)) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
                "block name \"%s\" is not valid: use 1-64 letters, digits, '_' or '-'", shown);
    return NULL;
  }
  if (ll_graph_find(g, name)) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
                "block \"%s\": the name is used by another block", name);
    return NULL;
  }
  LlBlock *b = g_new0(LlBlock, 1);
  b->desc = d;
  b->name = g_strdup(name);
  for (int i = 0; i < d->n_props; i++)
    set_default(&b->props[i], &d->props[i]);
  g_ptr_array_add(g->blocks, b);
  g->inferred = FALSE;
  return b;
}

void ll_block_connect(LlBlock *b, const char *input_name)
{
  if (b->n_inputs < LL_MAX_INPUTS)
    b->input_names[b->n_inputs++] = g_strdup(input_name);
}

gboolean ll_block_set_prop_value(LlBlock *b, int index, const LlPropValue *v, GError **error)
{
  const LlPropDesc *d = &b->desc->props[index];
  LlPropValue nv = *v;
  nv.type = d->type;
  switch (d->type) {
  case LL_PROP_INT:
    if (nv.i < (int64_t)d->min || nv.i > (int64_t)d->max) {
      ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                     "property \"%s\" = %" G_GINT64_FORMAT " is out of range [%.0f, %.0f]", d->name,
                     nv.i, d->min, d->max);
      return FALSE;
    }
    break;
  case LL_PROP_FLOAT:
    if (!isfinite(nv.f) || nv.f < d->min || nv.f > d->max) {
      ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                     "property \"%s\" = %g is out of range [%g, %g]", d->name, nv.f, d->min,
                     d->max);
      return FALSE;
    }
    break;
  case LL_PROP_BOOL: break;
  case LL_PROP_CHOICE: {
    int n = 0;
    while (d->choices[n])
      n++;
    if (nv.choice < 0 || nv.choice >= n) {
      ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE, "property \"%s\": choice out of range",
                     d->name);
      return FALSE;
    }
    break;
  }
  case LL_PROP_SHAPE:
    if (nv.shape.rank < 1 || nv.shape.rank > LL_MAX_DIMS) {
      ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                     "property \"%s\" needs 1 to %d dimensions, got %d", d->name, LL_MAX_DIMS,
                     nv.shape.rank);
      return FALSE;
    }
    for (int i = 0; i < nv.shape.rank; i++)
      if (nv.shape.d[i] < d->min || nv.shape.d[i] > d->max) {
        ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE,
                       "property \"%s\": dimension %d = %d is out of range [%.0f, %.0f]", d->name,
                       i, nv.shape.d[i], d->min, d->max);
        return FALSE;
      }
    break;
  }
  b->props[index] = nv;
  return TRUE;
}

gboolean ll_block_set_prop_string(LlBlock *b, const char *prop, const char *value, GError **error)
{
  int idx;
  const LlPropDesc *d = ll_block_desc_prop(b->desc, prop, &idx);
  if (!d) {
    ll_block_error(error, b, LL_GRAPH_ERROR_UNKNOWN_PROPERTY, "unknown property \"%s\"", prop);
    return FALSE;
  }
  LlPropValue v = {.type = d->type};
  char *end = NULL;
  switch (d->type) {
  case LL_PROP_INT: v.i = g_ascii_strtoll(value, &end, 10); break;
  case LL_PROP_FLOAT: v.f = g_ascii_strtod(value, &end); break;
  case LL_PROP_BOOL:
    if (!g_ascii_strcasecmp(value, "true") || !strcmp(value, "1"))
      v.b = TRUE;
    else if (!g_ascii_strcasecmp(value, "false") || !strcmp(value, "0"))
      v.b = FALSE;
    else
      end = (char *)value;
    if (end != value)
      end = (char *)value + strlen(value);
    break;
  case LL_PROP_CHOICE:
    v.choice = -1;
    for (int i = 0; d->choices[i]; i++)
      if (!g_ascii_strcasecmp(d->choices[i], value))
        v.choice = i;
    if (v.choice < 0) {
      g_autofree char *list = g_strjoinv(", ", (char **)d->choices);
      ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE, "property \"%s\": \"%s\" is not one of %s",
                     prop, value, list);
      return FALSE;
    }
    end = (char *)value + strlen(value);
    break;
  case LL_PROP_SHAPE: {
    g_auto(GStrv) parts = g_strsplit_set(value, ",x ()[]", -1);
    v.shape.rank = 0;
    end = (char *)value + strlen(value);
    for (int i = 0; parts[i]; i++) {
      if (!*parts[i])
        continue;
      char *e;
      long x = strtol(parts[i], &e, 10);
      if (*e || v.shape.rank >= LL_MAX_DIMS) {
        end = (char *)value;
        break;
      }
      v.shape.d[v.shape.rank++] = (int)x;
    }
    break;
  }
  }
  if (!end || *end || end == value) {
    ll_block_error(error, b, LL_GRAPH_ERROR_BAD_VALUE, "property \"%s\": \"%s\" is not valid", prop,
                   value);
    return FALSE;
  }
  return ll_block_set_prop_value(b, idx, &v, error);
}

/* Checks b's input count and names and points b->inputs at them (NULL where
 * a name is wrong); counts consumers. */
static gboolean connect_inputs(LlGraph *g, LlBlock *b, GError **error)
{
  const LlBlockDesc *d = b->desc;
  gboolean ok = TRUE;
  if (b->n_inputs < d->min_inputs || b->n_inputs > d->max_inputs) {
    if (d->max_inputs == 0)
      ll_block_error(error, b, LL_GRAPH_ERROR_CONNECTION, "takes no inputs, but %d %s connected",
                     b->n_inputs, b->n_inputs == 1 ? "is" : "are");
    else if (b->n_inputs == 0)
      ll_block_error(error, b, LL_GRAPH_ERROR_CONNECTION,
                     "its input port is not connected (needs %d)", d->min_inputs);
    else
      ll_block_error(error, b, LL_GRAPH_ERROR_CONNECTION,
                     "has %d inputs connected; it takes %d to %d", b->n_inputs, d->min_inputs,
                     d->max_inputs);
    ok = FALSE;
  }
  for (int k = 0; k < b->n_inputs; k++) {
    LlBlock *src = ll_graph_find(g, b->input_names[k]);
    b->inputs[k] = src != b ? src : NULL;
    if (!src) {
      if (ok)
        ll_block_error(error, b, LL_GRAPH_ERROR_CONNECTION, "input %d names \"%s\", no such block",
                       k, b->input_names[k]);
      ok = FALSE;
    } else if (src == b) {
      if (ok)
        ll_block_error(error, b, LL_GRAPH_ERROR_CYCLE, "is connected to itself (a cycle)");
      ok = FALSE;
    } else {
      src->n_consumers++;
    }
  }
  return ok;
}

/* Orders blocks topologically (Kahn's algorithm, stable in insertion order);
 * a NULL input counts as ready. Returns whether every block was placed;
 * done[i] says which were. */
static gboolean order_blocks(LlGraph *g, gboolean *done)
{
  guint n = g->blocks->len;
  g_ptr_array_set_size(g->order, 0);
  gboolean progress = TRUE;
  while (g->order->len < n && progress) {
    progress = FALSE;
    for (guint i = 0; i < n; i++) {
      LlBlock *b = g_ptr_array_index(g->blocks, i);
      if (done[i])
        continue;
      gboolean ready = TRUE;
      for (int k = 0; ready && k < b->n_inputs; k++) {
        if (!b->inputs[k])
          continue;
        ready = FALSE;
        for (guint j = 0; j < g->order->len; j++)
          if (g_ptr_array_index(g->order, j) == b->inputs[k]) {
            ready = TRUE;
            break;
          }
      }
      if (ready) {
        done[i] = TRUE;
        g_ptr_array_add(g->order, b);
        progress = TRUE;
      }
    }
  }
  return g->order->len == n;
}

static void cycle_error(LlGraph *g, const gboolean *done, GError **error)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < g->blocks->len; i++)
    if (!done[i]) {
      LlBlock *b = g_ptr_array_index(g->blocks, i);
      if (!g->error_block)
        g->error_block = b;
      g_string_append_printf(s, "%s\"%s\"", s->len ? ", " : "", b->name);
    }
  g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_CYCLE,
              "the graph has a cycle through blocks %s", s->str);
  g_string_free(s, TRUE);
}

gboolean ll_graph_resolve(LlGraph *g, GError **error)
{
  guint n = g->blocks->len;
  g_ptr_array_set_size(g->order, 0);
  g->inferred = FALSE;
  if (n == 0) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_CONNECTION, "the graph has no blocks");
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    LlBlock *b = g_ptr_array_index(g->blocks, i);
    b->n_consumers = 0;
  }
  g->error_block = NULL;
  for (guint i = 0; i < n; i++) {
    LlBlock *b = g_ptr_array_index(g->blocks, i);
    g->error_block = b;
    if (!connect_inputs(g, b, error))
      return FALSE;
  }
  g->error_block = NULL;
  g_autofree gboolean *done = g_new0(gboolean, n);
  if (!order_blocks(g, done)) {
    cycle_error(g, done, error);
    g_ptr_array_set_size(g->order, 0);
    return FALSE;
  }
  return TRUE;
}

/* Shape inference of one block whose inputs are inferred. */
static gboolean infer_block(LlBlock *b, GError **error)
{
  for (int k = 0; k < b->n_inputs; k++)
    b->in_shape[k] = b->inputs[k]->out_shape;
  b->n_params = 0;
  b->saved_per_sample = b->saved_fixed = 0;
  b->flops = 0;
  b->rf = 0;
  b->jump = 1;
  memset(&b->out_shape, 0, sizeof b->out_shape);
  if (!b->desc->infer(b, error))
    return FALSE;
  size_t out = ll_shape_size(&b->out_shape);
  if (b->out_shape.rank < 1 || out == 0 || out > (size_t)1 << 30) {
    char buf[64];
    ll_block_error(error, b, LL_GRAPH_ERROR_SHAPE, "output shape %s is empty or too large",
                   ll_shape_format(&b->out_shape, buf, sizeof buf));
    return FALSE;
  }
  return TRUE;
}

gboolean ll_graph_infer(LlGraph *g, GError **error)
{
  if (g->order->len != g->blocks->len && !ll_graph_resolve(g, error))
    return FALSE;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    g->error_block = b;
    if (!infer_block(b, error))
      return FALSE;
    b->status = LL_BLOCK_OK;
  }
  g->error_block = NULL;
  g->inferred = TRUE;
  return TRUE;
}

gboolean ll_graph_infer_partial(LlGraph *g, GError **error)
{
  guint n = g->blocks->len;
  g->inferred = FALSE;
  g->error_block = NULL;
  if (n == 0) {
    g_ptr_array_set_size(g->order, 0);
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_CONNECTION, "the graph has no blocks");
    return FALSE;
  }
  GError *first = NULL;
  for (guint i = 0; i < n; i++) {
    LlBlock *b = g_ptr_array_index(g->blocks, i);
    b->n_consumers = 0;
    b->status = LL_BLOCK_OK;
    memset(&b->out_shape, 0, sizeof b->out_shape);
    b->n_params = 0;
    b->flops = 0;
  }
  for (guint i = 0; i < n; i++) {
    LlBlock *b = g_ptr_array_index(g->blocks, i);
    GError *e = NULL;
    if (!connect_inputs(g, b, &e)) {
      b->status = LL_BLOCK_FAILED;
      if (!first) {
        first = e;
        g->error_block = b;
      } else {
        g_error_free(e);
      }
    }
  }
  g_autofree gboolean *done = g_new0(gboolean, n);
  if (!order_blocks(g, done)) {
    GError *e = NULL;
    const LlBlock *eb = g->error_block;
    cycle_error(g, done, first ? &e : &first);
    if (e) {
      g_error_free(e);
      g->error_block = eb;
    }
    for (guint i = 0; i < n; i++)
      if (!done[i])
        ((LlBlock *)g_ptr_array_index(g->blocks, i))->status = LL_BLOCK_FAILED;
  }
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->status != LL_BLOCK_OK)
      continue;
    for (int k = 0; k < b->n_inputs; k++)
      if (!b->inputs[k] || b->inputs[k]->status != LL_BLOCK_OK)
        b->status = LL_BLOCK_DOWNSTREAM;
    if (b->status != LL_BLOCK_OK)
      continue;
    GError *e = NULL;
    if (!infer_block(b, &e)) {
      b->status = LL_BLOCK_FAILED;
      memset(&b->out_shape, 0, sizeof b->out_shape);
      b->n_params = 0;
      b->flops = 0;
      if (!first) {
        first = e;
        g->error_block = b;
      } else {
        g_error_free(e);
      }
    }
  }
  if (first) {
    g_propagate_error(error, first);
    return FALSE;
  }
  g->inferred = TRUE;
  return TRUE;
}

size_t ll_graph_param_count(LlGraph *g)
{
  size_t n = 0;
  for (guint i = 0; i < g->order->len; i++)
    n += ll_block_param_count(g_ptr_array_index(g->order, i));
  return n;
}

int64_t ll_graph_flops(LlGraph *g)
{
  int64_t n = 0;
  for (guint i = 0; i < g->order->len; i++)
    n += ((LlBlock *)g_ptr_array_index(g->order, i))->flops;
  return n;
}

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

static gboolean is_input(const LlBlock *b) { return b->desc->max_inputs == 0; }

/* Whether b's out is a buffer of its own, not its input's: a view's is its
 * input's, and so is a ReLU's that its Linear applies. */
static gboolean owns_out(const LlBlock *b) { return !b->desc->view && !b->relu_by_input; }

size_t ll_graph_activation_floats(LlGraph *g, int batch)
{
  size_t n = 0;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (owns_out(b))
      n += align16((size_t)batch * ll_block_out_size(b));
    n += align16(b->saved_fixed + (size_t)batch * b->saved_per_sample);
  }
  return n;
}

/* A view's out is its input's (placed before it: the order is topological),
 * and so is a ReLU's that its Linear applies. */
static void point_views(LlGraph *g)
{
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (!owns_out(b))
      b->out = b->inputs[0]->out;
  }
}

/* Points every block's out and saved into base: [outs][saved], in order. */
static void place_activations(LlGraph *g, float *base, int batch)
{
  float *op = base, *sp = base;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (owns_out(b))
      sp += align16((size_t)batch * ll_block_out_size(b));
  }
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (owns_out(b)) {
      b->out = op;
      op += align16((size_t)batch * ll_block_out_size(b));
    }
    b->saved = sp;
    sp += align16(b->saved_fixed + (size_t)batch * b->saved_per_sample);
  }
  point_views(g);
}

gboolean ll_graph_compile_eval(LlGraph *g, int batch, GError **error)
{
  g_return_val_if_fail(g->arena, FALSE);
  drop_eval_arena(g);
  size_t n = ll_graph_activation_floats(g, batch);
  if (!(g->eval_arena = g->be->alloc(n * sizeof(float)))) {
    /* a device that failed (a lost GPU context) says why; NULL alone is a full one */
    if (!ll_device_check(g->be, error))
      return FALSE;
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_MEMORY,
                "out of %s memory: inference at batch %d needs %.1f MiB", g->be->name, batch,
                n * 4.0 / 1048576.0);
    return FALSE;
  }
  g->eval_batch = batch;
  return TRUE;
}

void ll_graph_use_eval(LlGraph *g, gboolean on)
{
  g_return_if_fail(!on || g->eval_arena);
  if (on && g->eval_arena)
    place_activations(g, g->eval_arena, g->eval_batch);
  else
    place_activations(g, g->outs, g->batch);
}

/* Whether compile gives b a gradient buffer of its own: it runs backward
 * and its gradient is not read elsewhere (a view reads its input's; a fused
 * block's consumer reads the gradient at the end of its chain). */
static gboolean has_dout(const LlBlock *b)
{
  return b->needs_grad && !b->desc->view && !b->absorbed && !b->chain_end;
}

/* The block that reads b, when b has exactly one consumer. */
static LlBlock *only_consumer(LlGraph *g, LlBlock *b)
{
  if (b->n_consumers != 1)
    return NULL;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *c = g_ptr_array_index(g->order, i);
    for (int k = 0; k < c->n_inputs; k++)
      if (c->inputs[k] == b)
        return c;
  }
  return NULL;
}

/* A BatchNorm whose only consumer is a ReLU normalises, rectifies and (when
 * the ReLU is absorbed into a Dropout) drops in its own passes, each way:
 * the chain costs the batch norm's passes alone (LlBlock.chain_end). When
 * the BatchNorm is its input's only consumer, it writes that input's
 * gradient rather than adding to it (LlBlock.dout_written). */
static void chain_batchnorms(LlGraph *g, const LlBackend *be)
{
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    b->chain_end = NULL;
    b->chained = FALSE;
    b->dout_written = FALSE;
  }
  if (!g->fuse || !ll_backend_supports(be, LL_OP_BATCHNORM_RELU))
    return;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->desc->forward != ll_batchnorm_forward || b->keep_output)
      continue;
    LlBlock *r = only_consumer(g, b);
    if (!r || strcmp(r->desc->type, "ReLU"))
      continue;
    LlBlock *end = r->absorbed ? only_consumer(g, r) : r; /* the Dropout, or the ReLU */
    if (!end)
      continue;
    b->chain_end = end;
    end->chained = TRUE;
    LlBlock *x = b->inputs[0];
    x->dout_written = x->n_consumers == 1 && has_dout(x);
  }
}

/* A Linear whose only consumer is a ReLU applies it while its output is in
 * cache (backend linear_forward): one pass less each forward, and the ReLU
 * needs no buffer (LlBlock.applies_relu). */
static void fuse_linear_relus(LlGraph *g, const LlBackend *be)
{
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    b->applies_relu = FALSE;
    b->relu_by_input = FALSE;
  }
  if (!g->fuse || !ll_backend_supports(be, LL_OP_LINEAR_RELU))
    return;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (strcmp(b->desc->type, "Linear") || b->keep_output)
      continue;
    LlBlock *r = only_consumer(g, b);
    if (!r || strcmp(r->desc->type, "ReLU") || r->absorbed || r->chained)
      continue;
    b->applies_relu = TRUE;
    r->relu_by_input = TRUE;
  }
}

gboolean ll_graph_compile(LlGraph *g, const LlBackend *be, int batch, GError **error)
{
  if (!g->inferred && !ll_graph_infer(g, error))
    return FALSE;
  if (batch < 1) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE, "batch size must be positive");
    return FALSE;
  }
  if (g->arena) {
    g->be->free(g->arena);
    g->arena = NULL;
  }
  drop_eval_arena(g);
  g->be = be;
  g->batch = batch;

  /* which blocks run backward, and the saved state this backend needs */
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->desc->workspace)
      b->saved_fixed = b->desc->workspace(b, be);
    b->needs_grad = is_input(b) ? g->grad_inputs : (!b->frozen && ll_block_param_count(b) > 0);
    for (int k = 0; k < b->n_inputs; k++)
      b->needs_grad |= b->inputs[k]->needs_grad;
  }

  /* A ReLU whose only consumer is a Dropout runs inside it: one pass over
   * the tensor each way instead of two, and no dout of its own. */
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *d = g_ptr_array_index(g->order, i);
    d->absorbed = FALSE;
    if (!g->fuse || !ll_backend_supports(be, LL_OP_RELU_DROPOUT) ||
        strcmp(d->desc->type, "Dropout"))
      continue;
    LlBlock *r = d->inputs[0];
    r->absorbed = !strcmp(r->desc->type, "ReLU") && r->n_consumers == 1 && !r->keep_output;
  }
  chain_batchnorms(g, be);
  fuse_linear_relus(g, be);

  /* [params][buffers][grads][douts][outs][saved], each piece 64-byte aligned */
  size_t n_params = 0, n_buffers = 0, n_douts = 0, n_accumulated = 0;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    for (int p = 0; p < b->n_params; p++) {
      size_t sz = align16(ll_shape_size(&b->params[p].shape));
      if (b->params[p].trainable)
        n_params += sz;
      else
        n_buffers += sz;
    }
    if (has_dout(b)) {
      n_douts += align16((size_t)batch * ll_block_out_size(b));
      if (!b->dout_written)
        n_accumulated += align16((size_t)batch * ll_block_out_size(b));
    }
  }
  size_t total = 2 * n_params + n_buffers + n_douts + ll_graph_activation_floats(g, batch);
  g->arena = be->alloc(total * sizeof(float));
  if (!g->arena) {
    if (!ll_device_check(be, error))
      return FALSE;
    size_t free_bytes = be->mem_free ? be->mem_free() : 0;
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_MEMORY,
                "out of %s memory: the graph needs %.1f MiB for batch %d%s%s; reduce the batch "
                "size or the model",
                be->name, total * 4.0 / 1048576.0, batch, free_bytes ? ", free: " : "",
                free_bytes ? g_format_size(free_bytes) : "");
    return FALSE;
  }
  g->arena_floats = total;
  g->n_params = n_params;
  g->n_buffers = n_buffers;
  float *base = g->arena;
  /* the accumulated douts first, right after the grads: zero_grads clears
   * one stretch; the written ones after them */
  float *pp = base, *bp = base + n_params, *gp = bp + n_buffers, *dp = gp + n_params,
        *wp = dp + n_accumulated, *op = dp + n_douts;
  g->n_zeroed = n_params + n_accumulated;
  g->params = pp;
  g->grads = gp;
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    for (int p = 0; p < b->n_params; p++) {
      LlParam *prm = &b->params[p];
      size_t sz = align16(ll_shape_size(&prm->shape));
      if (prm->trainable) {
        prm->data = pp;
        prm->grad = gp;
        pp += sz;
        gp += sz;
      } else {
        prm->data = bp;
        prm->grad = NULL;
        bp += sz;
      }
    }
    b->dout = NULL;
    if (b->desc->view) {
      b->dout = b->inputs[0]->dout; /* NULL when the input needs no gradient */
    } else if (has_dout(b)) {
      float **at = b->dout_written ? &wp : &dp;
      b->dout = *at;
      *at += align16((size_t)batch * ll_block_out_size(b));
    }
  }
  g->outs = op;
  place_activations(g, op, batch);
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->desc->bind)
      b->desc->bind(b);
  }
  return TRUE;
}

static void init_param(LlParam *p, LlRng *rng, float *host, size_t n)
{
  double fan_in = p->fan_in > 0 ? p->fan_in : 1, fan_out = p->fan_out > 0 ? p->fan_out : 1;
  switch (p->init) {
  case LL_INIT_KAIMING: {
    double std = sqrt(2.0 / fan_in);
    for (size_t i = 0; i < n; i++)
      host[i] = (float)(std * ll_rng_normal(rng));
    break;
  }
  case LL_INIT_XAVIER: {
    double a = sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++)
      host[i] = (float)(a * (2.0 * ll_rng_uniform(rng) - 1.0));
    break;
  }
  case LL_INIT_ZEROS: memset(host, 0, n * sizeof *host); break;
  case LL_INIT_ONES:
    for (size_t i = 0; i < n; i++)
      host[i] = 1.0f;
    break;
  case LL_INIT_UNIFORM_FAN_IN: {
    double a = 1.0 / sqrt(fan_in);
    for (size_t i = 0; i < n; i++)
      host[i] = (float)(a * (2.0 * ll_rng_uniform(rng) - 1.0));
    break;
  }
  }
}

void ll_graph_init_params(LlGraph *g, LlRng *rng)
{
  g_return_if_fail(g->arena);
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    for (int p = 0; p < b->n_params; p++) {
      LlParam *prm = &b->params[p];
      size_t n = ll_shape_size(&prm->shape);
      g_autofree float *host = g_new(float, n);
      init_param(prm, rng, host, n);
      g->be->upload(prm->data, host, n);
    }
  }
}

GPtrArray *ll_graph_inputs(LlGraph *g)
{
  GPtrArray *a = g_ptr_array_new();
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g_ptr_array_index(g->blocks, i);
    if (is_input(b))
      g_ptr_array_add(a, b);
  }
  return a;
}

void ll_graph_feed(LlGraph *g, LlBlock *input, const float *data, int n)
{
  if (!g->be->host_memory) {
    g->be->upload(input->out, data, (size_t)n * ll_block_out_size(input));
    return;
  }
  input->out = (float *)data; /* read only: no block writes into its inputs */
  point_views(g);
}

void ll_graph_forward(LlGraph *g, const LlRunCtx *ctx)
{
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->desc->forward && !b->absorbed && !b->chained && !b->relu_by_input)
      b->desc->forward(b, ctx);
  }
}

void ll_graph_zero_grads(LlGraph *g, const LlRunCtx *ctx)
{
  /* grads and the accumulated douts are adjacent in the arena: one fill */
  ctx->be->fill(g->grads, 0.0f, g->n_zeroed);
}

void ll_graph_backward(LlGraph *g, const LlRunCtx *ctx)
{
  for (guint i = g->order->len; i-- > 0;) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->needs_grad && b->desc->backward && !b->absorbed && !b->chained)
      b->desc->backward(b, ctx);
  }
}
