/* optimizer.c: optimizer state, the update step over merged parameter
 * segments, and global gradient-norm clipping. The arithmetic lives in the
 * backend's *_update slots; this file decides what they run over. */
#include "optimizer.h"

#include <math.h>
#include <string.h>

#define LL_OPT_MAX_STATE 2

const char *const ll_optim_kind_names[] = {
    [LL_OPT_SGD] = "sgd",         [LL_OPT_ADAM] = "adam",       [LL_OPT_ADAMW] = "adamw",
    [LL_OPT_RMSPROP] = "rmsprop", [LL_OPT_ADAGRAD] = "adagrad", NULL,
};

const char *ll_optim_kind_name(LlOptimKind kind)
{
  if ((unsigned)kind > LL_OPT_ADAGRAD)
    return "?";
  return ll_optim_kind_names[kind];
}

gboolean ll_optim_kind_from_name(const char *name, LlOptimKind *kind, GError **error)
{
  for (int i = 0; ll_optim_kind_names[i]; i++)
    if (name && !g_ascii_strcasecmp(name, ll_optim_kind_names[i])) {
      *kind = (LlOptimKind)i;
      return TRUE;
    }
  g_autofree char *list = g_strjoinv(", ", (char **)ll_optim_kind_names);
  g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
              "unknown optimizer \"%s\": use one of %s", name ? name : "", list);
  return FALSE;
}

LlOptimConfig ll_optim_config_default(LlOptimKind kind)
{
  LlOptimConfig c = {
      .kind = kind,
      .lr = 1e-3,
      .beta1 = 0.9,
      .beta2 = 0.999,
      .eps = 1e-8,
      .alpha = 0.99,
  };
  switch (kind) {
  case LL_OPT_SGD:
  case LL_OPT_ADAM: break;
  case LL_OPT_ADAMW: c.weight_decay = 1e-2; break;
  case LL_OPT_RMSPROP: c.lr = 1e-2; break;
  case LL_OPT_ADAGRAD:
    c.lr = 1e-2;
    c.eps = 1e-10;
    break;
  }
  return c;
}

static gboolean check_range(const LlOptimConfig *c, const char *field, double v, double lo,
                            double hi, gboolean hi_open, GError **error)
{
  if (isfinite(v) && v >= lo && (hi_open ? v < hi : v <= hi))
    return TRUE;
  g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
              "optimizer \"%s\": %s = %g is out of range [%g, %g%s", ll_optim_kind_name(c->kind),
              field, v, lo, hi, hi_open ? ")" : "]");
  return FALSE;
}

gboolean ll_optim_config_validate(const LlOptimConfig *c, GError **error)
{
  if ((unsigned)c->kind > LL_OPT_ADAGRAD) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE, "unknown optimizer kind %d",
                (int)c->kind);
    return FALSE;
  }
  if (!check_range(c, "lr", c->lr, 0.0, 1e6, FALSE, error) ||
      !check_range(c, "weight_decay", c->weight_decay, 0.0, 1e6, FALSE, error) ||
      !check_range(c, "clip_norm", c->clip_norm, 0.0, 1e30, FALSE, error))
    return FALSE;
  switch (c->kind) {
  case LL_OPT_SGD:
    if (!check_range(c, "momentum", c->momentum, 0.0, 1e6, FALSE, error) ||
        !check_range(c, "dampening", c->dampening, 0.0, 1.0, FALSE, error))
      return FALSE;
    if (c->nesterov && (c->momentum <= 0.0 || c->dampening != 0.0)) {
      g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
                  "optimizer \"sgd\": nesterov needs momentum > 0 and dampening = 0");
      return FALSE;
    }
    return TRUE;
  case LL_OPT_ADAM:
  case LL_OPT_ADAMW:
    return check_range(c, "beta1", c->beta1, 0.0, 1.0, TRUE, error) &&
           check_range(c, "beta2", c->beta2, 0.0, 1.0, TRUE, error) &&
           check_range(c, "eps", c->eps, 0.0, 1.0, FALSE, error);
  case LL_OPT_RMSPROP:
    return check_range(c, "momentum", c->momentum, 0.0, 1e6, FALSE, error) &&
           check_range(c, "alpha", c->alpha, 0.0, 1.0, FALSE, error) &&
           check_range(c, "eps", c->eps, 0.0, 1.0, FALSE, error);
  case LL_OPT_ADAGRAD: return check_range(c, "eps", c->eps, 0.0, 1.0, FALSE, error);
  }
  return TRUE;
}

/* A run of floats of g->params (and g->grads, and the state arrays) that
 * one kernel call updates. */
typedef struct {
  size_t off, n;
} Segment;

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

/* The trainable params of unfrozen blocks, in arena order, with adjacent
 * ones merged. Extents include each param's padding to 16 floats (zero in
 * data and grad), so consecutive params are adjacent. */
static GArray *collect_segments(LlGraph *g)
{
  GArray *segs = g_array_new(FALSE, FALSE, sizeof(Segment));
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    if (b->frozen)
      continue;
    for (int k = 0; k < b->n_params; k++) {
      const LlParam *p = &b->params[k];
      if (!p->trainable || !p->data)
        continue;
      Segment s = {(size_t)(p->data - g->params), align16(ll_shape_size(&p->shape))};
      Segment *last = segs->len ? &g_array_index(segs, Segment, segs->len - 1) : NULL;
      if (last && last->off + last->n == s.off)
        last->n += s.n;
      else
        g_array_append_val(segs, s);
    }
  }
  return segs;
}

/* scratch: one device float per segment */
static float clip_segments(LlGraph *g, const Segment *segs, guint n_segs, float *scratch,
                           float *host, float max_norm)
{
  const LlBackend *be = g->be;
  for (guint k = 0; k < n_segs; k++)
    be->sum_squares(g->grads + segs[k].off, segs[k].n, scratch + k);
  be->download(host, scratch, n_segs);
  double total = 0.0;
  for (guint k = 0; k < n_segs; k++)
    total += host[k];
  float norm = (float)sqrt(total);
  if (isfinite(norm) && norm > max_norm) {
    float coef = (float)(max_norm / ((double)norm + 1e-6));
    for (guint k = 0; k < n_segs; k++)
      be->scale(g->grads + segs[k].off, coef, segs[k].n);
  }
  return norm;
}

float ll_clip_grad_norm(LlGraph *g, float max_norm)
{
  g_return_val_if_fail(g && g->arena, 0.0f);
  g_autoptr(GArray) segs = collect_segments(g);
  if (segs->len == 0)
    return 0.0f;
  float *scratch = g->be->alloc(segs->len * sizeof(float));
  if (!scratch)
    return 0.0f;
  g_autofree float *host = g_new(float, segs->len);
  float norm = clip_segments(g, (Segment *)segs->data, segs->len, scratch, host, max_norm);
  g->be->free(scratch);
  return norm;
}

struct LlOptimizer {
  LlGraph *g;
  const LlBackend *be; /* owns the state; the graph must stay on it */
  LlOptimConfig cfg;
  size_t n_params;
  Segment *segs;
  guint n_segs;
  int n_state;
  const char *state_names[LL_OPT_MAX_STATE];
  float *state[LL_OPT_MAX_STATE]; /* device, (n_params) each */
  float *norm_scratch;            /* device, (n_segs) */
  float *norm_host;               /* (n_segs) */
  int64_t step;
  float last_norm;
};

static gboolean has_update_slot(const LlBackend *be, LlOptimKind kind, const char **slot)
{
  switch (kind) {
  case LL_OPT_SGD: *slot = "sgd_update"; return be->sgd_update != NULL;
  case LL_OPT_ADAM:
  case LL_OPT_ADAMW: *slot = "adam_update"; return be->adam_update != NULL;
  case LL_OPT_RMSPROP: *slot = "rmsprop_update"; return be->rmsprop_update != NULL;
  case LL_OPT_ADAGRAD: *slot = "adagrad_update"; return be->adagrad_update != NULL;
  }
  *slot = "?";
  return FALSE;
}

LlOptimizer *ll_optimizer_new(LlGraph *g, const LlOptimConfig *c, GError **error)
{
  if (!ll_optim_config_validate(c, error))
    return NULL;
  if (!g || !g->arena) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
                "optimizer \"%s\": the graph is not compiled", ll_optim_kind_name(c->kind));
    return NULL;
  }
  const char *slot;
  if (!has_update_slot(g->be, c->kind, &slot)) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNSUPPORTED,
                "optimizer \"%s\": the %s backend has no %s", ll_optim_kind_name(c->kind),
                g->be->name, slot);
    return NULL;
  }
  g_autoptr(GArray) segs = collect_segments(g);
  if (segs->len == 0) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
                "optimizer \"%s\": the graph has no trainable parameters (every block with "
                "parameters is frozen, or none has any)",
                ll_optim_kind_name(c->kind));
    return NULL;
  }

  LlOptimizer *o = g_new0(LlOptimizer, 1);
  o->g = g;
  o->be = g->be;
  o->cfg = *c;
  o->n_params = g->n_params;
  o->n_segs = segs->len;
  o->segs = (Segment *)g_array_steal(segs, NULL);
  o->last_norm = -1.0f;
  switch (c->kind) {
  case LL_OPT_SGD:
    if (c->momentum != 0.0)
      o->state_names[o->n_state++] = "momentum_buffer";
    break;
  case LL_OPT_ADAM:
  case LL_OPT_ADAMW:
    o->state_names[o->n_state++] = "exp_avg";
    o->state_names[o->n_state++] = "exp_avg_sq";
    break;
  case LL_OPT_RMSPROP:
    o->state_names[o->n_state++] = "square_avg";
    if (c->momentum > 0.0)
      o->state_names[o->n_state++] = "momentum_buffer";
    break;
  case LL_OPT_ADAGRAD: o->state_names[o->n_state++] = "sum"; break;
  }
  /* alloc returns zeroed memory: every state starts at 0, as in PyTorch */
  gboolean ok = TRUE;
  for (int i = 0; i < o->n_state && ok; i++)
    ok = (o->state[i] = g->be->alloc(o->n_params * sizeof(float))) != NULL;
  if (ok && c->clip_norm > 0.0) {
    o->norm_host = g_new(float, o->n_segs);
    ok = (o->norm_scratch = g->be->alloc(o->n_segs * sizeof(float))) != NULL;
  }
  if (!ok) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_MEMORY,
                "optimizer \"%s\": out of %s memory for its state (%.1f MiB)",
                ll_optim_kind_name(c->kind), g->be->name,
                o->n_state * o->n_params * 4.0 / 1048576.0);
    ll_optimizer_free(o);
    return NULL;
  }
  return o;
}

void ll_optimizer_free(LlOptimizer *o)
{
  if (!o)
    return;
  for (int i = 0; i < o->n_state; i++)
    if (o->state[i])
      o->be->free(o->state[i]);
  if (o->norm_scratch)
    o->be->free(o->norm_scratch);
  g_free(o->norm_host);
  g_free(o->segs);
  g_free(o);
}

const LlOptimConfig *ll_optimizer_config(const LlOptimizer *o) { return &o->cfg; }

void ll_optimizer_step(LlOptimizer *o, float lr)
{
  LlGraph *g = o->g;
  g_return_if_fail(g->arena && g->be == o->be && g->n_params == o->n_params);
  const LlBackend *be = o->be;
  const LlOptimConfig *c = &o->cfg;
  if (c->clip_norm > 0.0)
    o->last_norm =
        clip_segments(g, o->segs, o->n_segs, o->norm_scratch, o->norm_host, (float)c->clip_norm);
  gboolean first = o->step == 0;
  o->step++;
  for (guint k = 0; k < o->n_segs; k++) {
    size_t off = o->segs[k].off, n = o->segs[k].n;
    float *p = g->params + off;
    const float *grad = g->grads + off;
    float *s0 = o->n_state > 0 ? o->state[0] + off : NULL;
    float *s1 = o->n_state > 1 ? o->state[1] + off : NULL;
    switch (c->kind) {
    case LL_OPT_SGD:
      be->sgd_update(p, grad, s0, n, lr, (float)c->momentum, (float)c->dampening, c->nesterov,
                     (float)c->weight_decay, first);
      break;
    case LL_OPT_ADAM:
    case LL_OPT_ADAMW:
      be->adam_update(p, grad, s0, s1, n, lr, (float)c->beta1, (float)c->beta2, (float)c->eps,
                      (float)c->weight_decay, c->kind == LL_OPT_ADAMW, o->step);
      break;
    case LL_OPT_RMSPROP:
      be->rmsprop_update(p, grad, s0, s1, n, lr, (float)c->alpha, (float)c->eps,
                         (float)c->weight_decay, (float)c->momentum);
      break;
    case LL_OPT_ADAGRAD:
      be->adagrad_update(p, grad, s0, n, lr, (float)c->eps, (float)c->weight_decay);
      break;
    }
  }
}

float ll_optimizer_last_grad_norm(const LlOptimizer *o) { return o->last_norm; }

int64_t ll_optimizer_get_step(const LlOptimizer *o) { return o->step; }

void ll_optimizer_set_step(LlOptimizer *o, int64_t step)
{
  g_return_if_fail(step >= 0);
  o->step = step;
}

int ll_optimizer_n_state(const LlOptimizer *o) { return o->n_state; }

const char *ll_optimizer_state_name(const LlOptimizer *o, int i)
{
  g_return_val_if_fail(i >= 0 && i < o->n_state, NULL);
  return o->state_names[i];
}

void ll_optimizer_state_download(const LlOptimizer *o, int i, float *host)
{
  g_return_if_fail(i >= 0 && i < o->n_state);
  o->be->download(host, o->state[i], o->n_params);
}

void ll_optimizer_state_upload(LlOptimizer *o, int i, const float *host)
{
  g_return_if_fail(i >= 0 && i < o->n_state);
  o->be->upload(o->state[i], host, o->n_params);
}
