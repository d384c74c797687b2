/* block.c: shapes, parameters and errors shared by every block type. */
#include "block.h"

#include <string.h>

G_DEFINE_QUARK(ll - graph - error - quark, ll_graph_error)

const char *const ll_init_choices[] = {"kaiming", "xavier", "zeros", "default", NULL};

LlInit ll_init_from_choice(int choice)
{
  switch (choice) {
  case 0: return LL_INIT_KAIMING;
  case 1: return LL_INIT_XAVIER;
  case 2: return LL_INIT_ZEROS;
  default: return LL_INIT_UNIFORM_FAN_IN;
  }
}

size_t ll_shape_size(const LlShape *s)
{
  size_t n = 1;
  for (int i = 0; i < s->rank; i++)
    n *= (size_t)s->d[i];
  return n;
}

LlShape ll_shape_make(int rank, const int *dims)
{
  LlShape s = {.rank = rank};
  for (int i = 0; i < rank && i < LL_MAX_DIMS; i++)
    s.d[i] = dims[i];
  return s;
}

char *ll_shape_format(const LlShape *s, char *buf, size_t len)
{
  size_t off = 0;
  off += (size_t)g_snprintf(buf + off, len - off, "(");
  for (int i = 0; i < s->rank && off < len; i++)
    off += (size_t)g_snprintf(buf + off, len - off, i ? ", %d" : "%d", s->d[i]);
  if (off < len)
    g_snprintf(buf + off, len - off, ")");
  return buf;
}

gboolean ll_shape_equal(const LlShape *a, const LlShape *b)
{
  if (a->rank != b->rank)
    return FALSE;
  for (int i = 0; i < a->rank; i++)
    if (a->d[i] != b->d[i])
      return FALSE;
  return TRUE;
}

int ll_block_add_param(LlBlock *b, const char *name, LlShape shape, LlInit init, int fan_in,
                       int fan_out, gboolean trainable)
{
  g_assert(b->n_params < LL_MAX_PARAMS);
  LlParam *p = &b->params[b->n_params];
  *p = (LlParam){.name = name,
                 .shape = shape,
                 .init = init,
                 .fan_in = fan_in,
                 .fan_out = fan_out,
                 .trainable = trainable};
  return b->n_params++;
}

LlParam *ll_block_param(LlBlock *b, const char *name)
{
  for (int i = 0; i < b->n_params; i++)
    if (strcmp(b->params[i].name, name) == 0)
      return &b->params[i];
  return NULL;
}

size_t ll_block_param_count(const LlBlock *b)
{
  size_t n = 0;
  for (int i = 0; i < b->n_params; i++)
    if (b->params[i].trainable)
      n += ll_shape_size(&b->params[i].shape);
  return n;
}

size_t ll_block_out_size(const LlBlock *b) { return ll_shape_size(&b->out_shape); }

void ll_block_rf_passthrough(LlBlock *b)
{
  if (b->n_inputs > 0 && b->inputs[0]) {
    b->rf = b->inputs[0]->rf;
    b->jump = b->inputs[0]->jump;
  } else {
    b->rf = 1;
    b->jump = 1;
  }
}

void ll_block_rf_merge(LlBlock *b)
{
  b->rf = 1;
  b->jump = 1;
  for (int k = 0; k < b->n_inputs; k++) {
    const LlBlock *in = b->inputs[k];
    if (b->rf != 0 && (in->rf == 0 || in->rf > b->rf))
      b->rf = in->rf;
    if (in->jump > b->jump)
      b->jump = in->jump;
  }
}

char *ll_block_format_zero(const LlBlock *b, int index, char *buf, size_t len)
{
  const LlPropDesc *d = &b->desc->props[index];
  int other;
  if (d->type != LL_PROP_INT || !d->zero_is || !ll_block_desc_prop(b->desc, d->zero_is, &other))
    return NULL;
  g_snprintf(buf, len, "%" G_GINT64_FORMAT " (= %s)", b->props[other].i, d->zero_is);
  return buf;
}

char *ll_block_format_prop(const LlBlock *b, int index, char *buf, size_t len)
{
  const LlPropDesc *d = &b->desc->props[index];
  const LlPropValue *v = &b->props[index];
  switch (d->type) {
  case LL_PROP_INT:
    if (v->i != 0 || !ll_block_format_zero(b, index, buf, len))
      g_snprintf(buf, len, "%" G_GINT64_FORMAT, v->i);
    break;
  case LL_PROP_FLOAT: g_snprintf(buf, len, "%g", v->f); break;
  case LL_PROP_BOOL: g_snprintf(buf, len, "%s", v->b ? "yes" : "no"); break;
  case LL_PROP_CHOICE: g_snprintf(buf, len, "%s", d->choices[v->choice]); break;
  case LL_PROP_SHAPE: ll_shape_format(&v->shape, buf, len); break;
  }
  return buf;
}

void ll_block_error(GError **error, const LlBlock *b, LlGraphError code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, LL_GRAPH_ERROR, code, "block \"%s\" (%s): %s", b->name, b->desc->type, msg);
}

const LlPropDesc *ll_block_desc_prop(const LlBlockDesc *d, const char *name, int *index)
{
  for (int i = 0; i < d->n_props; i++)
    if (strcmp(d->props[i].name, name) == 0) {
      if (index)
        *index = i;
      return &d->props[i];
    }
  return NULL;
}

const LlBlockDesc *ll_block_lookup(const char *type)
{
  int n;
  const LlBlockDesc *const *all = ll_block_registry(&n);
  for (int i = 0; i < n; i++)
    if (g_ascii_strcasecmp(all[i]->type, type) == 0)
      return all[i];
  return NULL;
}
