/* spec-check.c: whether a graph can train on its losses and data (see
 * ll_spec_check_losses in spec.h), and which blocks dangle. */
#include "spec.h"

#include <string.h>

static const LlFieldInfo *find_field(const LlFieldInfo *fields, int n, const char *name)
{
  for (int i = 0; i < n; i++)
    if (!strcmp(fields[i].name, name))
      return &fields[i];
  return NULL;
}

/* Without the data: "x" is what the Input bound to it reads; "label" (for
 * cross-entropy) one class index per sample, of classes not known yet.
 * Other fields: unknown. */
static gboolean guess_field(const LlSpec *s, const char *name, LlFieldInfo *out)
{
  if (!strcmp(name, "label")) {
    *out = (LlFieldInfo){.name = "label", .shape = ll_shape_make(1, (int[]){1}), .classes = -1};
    return TRUE;
  }
  if (strcmp(name, "x"))
    return FALSE;
  for (guint i = 0; i < s->graph->blocks->len; i++) {
    const LlBlock *b = g_ptr_array_index(s->graph->blocks, i);
    const char *field = g_hash_table_lookup(s->bindings, b->name);
    if (b->desc->max_inputs == 0 && (!field || !strcmp(field, "x")) && b->out_shape.rank > 0) {
      *out = (LlFieldInfo){.name = "x", .shape = b->out_shape, .classes = 0};
      return TRUE;
    }
  }
  return FALSE;
}

/* Dimensions of a shape that are larger than 1. */
static int wide_dims(const LlShape *s)
{
  int n = 0;
  for (int i = 0; i < s->rank; i++)
    n += s->d[i] > 1;
  return n;
}

static gboolean is_linear(const LlBlock *b) { return !strcmp(b->desc->type, "Linear"); }

static void mismatch(GError **error, const LlBlock *b, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void mismatch(GError **error, const LlBlock *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISMATCH, "block \"%s\" (%s): %s", b->name,
              b->desc->type, msg);
}

/* One loss against its head and target field (f NULL: the field is not known). */
static gboolean check_loss(const LlLossSpec *ls, const LlBlock *head, const LlFieldInfo *f,
                           GError **error)
{
  const char *kind = ll_loss_kind_names[ls->kind];
  char hs[64], ts[64];
  ll_shape_format(&head->out_shape, hs, sizeof hs);
  size_t hsize = ll_shape_size(&head->out_shape);
  gboolean logits = ls->kind == LL_LOSS_CROSS_ENTROPY || ls->kind == LL_LOSS_BCE_LOGITS;
  if (logits && (!strcmp(head->desc->type, "Softmax") || !strcmp(head->desc->type, "Sigmoid"))) {
    mismatch(error, head,
             "%s takes raw scores (logits) and applies %s itself: delete %s and make its input "
             "the loss's output",
             kind, ls->kind == LL_LOSS_CROSS_ENTROPY ? "softmax" : "the sigmoid", head->name);
    return FALSE;
  }
  if (ls->kind == LL_LOSS_CROSS_ENTROPY) {
    /* a field of one value per sample may be class indices of a count the
     * data does not say (npy labels): only features are refused */
    if (f && f->classes == 0 && ll_shape_size(&f->shape) != 1) {
      mismatch(error, head,
               "cross_entropy needs class indices as its target, but \"%s\" holds values of "
               "shape %s: use mse, or a class target such as \"label\"",
               ls->target, ll_shape_format(&f->shape, ts, sizeof ts));
      return FALSE;
    }
    if (f && ll_shape_size(&f->shape) != 1) {
      mismatch(error, head,
               "cross_entropy needs one class index per sample, but \"%s\" has shape %s", ls->target,
               ll_shape_format(&f->shape, ts, sizeof ts));
      return FALSE;
    }
    int classes = f && f->classes > 0 ? f->classes : -1;
    g_autofree char *want =
        classes > 0 ? g_strdup_printf("(%d) for %d classes", classes, classes) : g_strdup("(classes)");
    if (wide_dims(&head->out_shape) > 1) {
      /* a Linear acts on the last dimension: the rest must be flattened first */
      if (is_linear(head))
        mismatch(error, head,
                 "outputs %s but cross_entropy needs one score per class, %s: insert Flatten "
                 "before %s",
                 hs, want, head->name);
      else
        mismatch(error, head,
                 "outputs %s but cross_entropy needs one score per class, %s: add Flatten and "
                 "Linear after %s",
                 hs, want, head->name);
      return FALSE;
    }
    /* classes come from the labels seen (max + 1 for IDX, NPY, CSV): a lower
     * bound, so a tiny CSV of one class may feed a two-class head. Fewer
     * scores than classes cannot train; more can (the extra never wins). */
    if (classes > 0 && hsize < (size_t)classes) {
      if (is_linear(head))
        mismatch(error, head,
                 "outputs %zu scores but target \"%s\" has %d classes: out_features must be %d for "
                 "%d classes",
                 hsize, ls->target, classes, classes, classes);
      else
        mismatch(error, head,
                 "outputs %zu scores but target \"%s\" has %d classes: end with Linear "
                 "(out_features %d)",
                 hsize, ls->target, classes, classes);
      return FALSE;
    }
    return TRUE;
  }
  if (!f)
    return TRUE;
  size_t tsize = ll_shape_size(&f->shape);
  ll_shape_format(&f->shape, ts, sizeof ts);
  if (ls->kind == LL_LOSS_BCE_LOGITS) {
    if (f->classes > 2) {
      mismatch(error, head,
               "bce_logits needs targets of 0 or 1, but \"%s\" has %d classes: use cross_entropy "
               "with out_features %d",
               ls->target, f->classes, f->classes);
      return FALSE;
    }
    if (hsize != tsize) {
      if (is_linear(head) && tsize == (size_t)f->shape.d[f->shape.rank - 1])
        mismatch(error, head,
                 "bce_logits needs one logit per target value: outputs %s but target \"%s\" has "
                 "shape %s: out_features must be %zu",
                 hs, ls->target, ts, tsize);
      else
        mismatch(error, head,
                 "bce_logits needs one logit per target value: outputs %s but target \"%s\" has "
                 "shape %s",
                 hs, ls->target, ts);
      return FALSE;
    }
    return TRUE;
  }
  /* mse, l1: the target's shape, value for value */
  if (hsize != tsize) {
    if (is_linear(head) && f->shape.rank == 1)
      mismatch(error, head,
               "%s compares with target \"%s\" of shape %s but the block outputs %s: out_features "
               "must be %d",
               kind, ls->target, ts, hs, f->shape.d[0]);
    else
      mismatch(error, head, "%s compares with target \"%s\" of shape %s but the block outputs %s",
               kind, ls->target, ts, hs);
    return FALSE;
  }
  if (!ll_shape_equal(&head->out_shape, &f->shape) && wide_dims(&head->out_shape) > 1 &&
      wide_dims(&f->shape) > 1) {
    /* same size, other layout: the values would be compared out of place */
    mismatch(error, head,
             "%s compares with target \"%s\" of shape %s but the block outputs %s: add Reshape "
             "(shape %s) after %s",
             kind, ls->target, ts, hs, ts, head->name);
    return FALSE;
  }
  return TRUE;
}

gboolean ll_spec_check_losses(const LlSpec *s, const LlFieldInfo *fields, int n_fields,
                              const LlBlock **block, GError **error)
{
  g_return_val_if_fail(s->graph->inferred, FALSE);
  if (block)
    *block = NULL;
  /* a spec that names no loss gets the default one: check that */
  g_autoptr(GPtrArray) losses = g_ptr_array_new();
  LlLossSpec implied = {0};
  g_autofree char *implied_output = NULL, *implied_target = NULL;
  if (s->losses->len == 0) {
    if (!ll_spec_default_loss(s, &implied_output, &implied_target, &implied.kind, error))
      return FALSE;
    implied.output = implied_output;
    implied.target = implied_target;
    g_ptr_array_add(losses, &implied);
  }
  for (guint i = 0; i < s->losses->len; i++)
    g_ptr_array_add(losses, g_ptr_array_index(s->losses, i));
  for (guint i = 0; i < losses->len; i++) {
    const LlLossSpec *ls = g_ptr_array_index(losses, i);
    LlBlock *head = ll_graph_find(s->graph, ls->output);
    if (!head) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISMATCH,
                  "losses[%u].output: there is no block \"%s\"", i, ls->output);
      return FALSE;
    }
    if (block)
      *block = head;
    LlFieldInfo guess;
    const LlFieldInfo *f = fields ? find_field(fields, n_fields, ls->target) : NULL;
    if (fields && !f) {
      GString *list = g_string_new(NULL);
      for (int k = 0; k < n_fields; k++)
        g_string_append_printf(list, "%s%s", k ? ", " : "", fields[k].name);
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISMATCH,
                  "losses[%u].target: the data has no field \"%s\" (fields: %s)", i, ls->target,
                  list->str);
      g_string_free(list, TRUE);
      return FALSE;
    }
    /* a label's shape is known to be (1) only where it is a class index */
    if (!fields && (ls->kind == LL_LOSS_CROSS_ENTROPY || strcmp(ls->target, "label")) &&
        guess_field(s, ls->target, &guess))
      f = &guess;
    if (!check_loss(ls, head, f, error))
      return FALSE;
  }
  if (block)
    *block = NULL;
  return TRUE;
}

GPtrArray *ll_spec_output_blocks(const LlSpec *s)
{
  GPtrArray *out = g_ptr_array_new();
  LlGraph *g = s->graph;
  for (guint k = 0; k < s->losses->len; k++) {
    LlBlock *b = ll_graph_find(g, ((const LlLossSpec *)g_ptr_array_index(s->losses, k))->output);
    if (b && !g_ptr_array_find(out, b, NULL))
      g_ptr_array_add(out, b);
  }
  for (guint i = 0; !s->losses->len && i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->desc->max_inputs > 0 && b->n_consumers == 0)
      g_ptr_array_add(out, b);
  }
  return out;
}

GPtrArray *ll_spec_dangling_blocks(const LlSpec *s)
{
  GPtrArray *out = g_ptr_array_new();
  LlGraph *g = s->graph;
  /* with no loss named, a single head is the output (ll_spec_add_default_loss) */
  int heads = 0;
  for (guint i = 0; i < g->blocks->len; i++) {
    const LlBlock *b = g_ptr_array_index(g->blocks, i);
    heads += b->desc->max_inputs > 0 && b->n_consumers == 0;
  }
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g_ptr_array_index(g->blocks, i);
    if (b->desc->max_inputs == 0 || b->n_consumers > 0)
      continue;
    gboolean used = s->losses->len == 0 && heads == 1;
    for (guint k = 0; !used && k < s->losses->len; k++)
      used = !g_strcmp0(((const LlLossSpec *)g_ptr_array_index(s->losses, k))->output, b->name);
    used |= !g_strcmp0(s->embedding_block, b->name);
    if (!used)
      g_ptr_array_add(out, b);
  }
  return out;
}
