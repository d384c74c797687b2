/* schedule.c: learning-rate schedules in closed form (PyTorch's
 * _get_closed_form_lr where it has one, OneCycleLR's phase rule). */
#include "schedule.h"

#include <math.h>

#include "block.h" /* LL_GRAPH_ERROR */

const char *const ll_schedule_kind_names[] = {
    [LL_SCHED_CONSTANT] = "constant",
    [LL_SCHED_STEP] = "step",
    [LL_SCHED_MULTISTEP] = "multistep",
    [LL_SCHED_EXPONENTIAL] = "exponential",
    [LL_SCHED_COSINE] = "cosine",
    [LL_SCHED_ONE_CYCLE] = "one-cycle",
    NULL,
};

const char *ll_schedule_kind_name(LlScheduleKind kind)
{
  if ((unsigned)kind > LL_SCHED_ONE_CYCLE)
    return "?";
  return ll_schedule_kind_names[kind];
}

gboolean ll_schedule_kind_from_name(const char *name, LlScheduleKind *kind, GError **error)
{
  if (name) {
    for (int i = 0; ll_schedule_kind_names[i]; i++)
      if (!g_ascii_strcasecmp(name, ll_schedule_kind_names[i])) {
        *kind = (LlScheduleKind)i;
        return TRUE;
      }
    if (!g_ascii_strcasecmp(name, "one_cycle") || !g_ascii_strcasecmp(name, "onecycle")) {
      *kind = LL_SCHED_ONE_CYCLE;
      return TRUE;
    }
  }
  g_autofree char *list = g_strjoinv(", ", (char **)ll_schedule_kind_names);
  g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
              "unknown learning-rate schedule \"%s\": use one of %s", name ? name : "", list);
  return FALSE;
}

LlScheduleConfig ll_schedule_config_default(LlScheduleKind kind)
{
  return (LlScheduleConfig){
      .kind = kind,
      .step_size = 10,
      .gamma = kind == LL_SCHED_EXPONENTIAL ? 0.95 : 0.1,
      .pct_start = 0.3,
      .div_factor = 25.0,
      .final_div_factor = 1e4,
  };
}

static gboolean bad(GError **error, const LlScheduleConfig *c, const char *field, double v,
                    const char *why)
{
  g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE, "schedule \"%s\": %s = %g %s",
              ll_schedule_kind_name(c->kind), field, v, why);
  return FALSE;
}

gboolean ll_schedule_config_validate(const LlScheduleConfig *c, GError **error)
{
  if ((unsigned)c->kind > LL_SCHED_ONE_CYCLE) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE, "unknown schedule kind %d",
                (int)c->kind);
    return FALSE;
  }
  if (c->warmup_steps < 0)
    return bad(error, c, "warmup_steps", c->warmup_steps, "must not be negative");
  switch (c->kind) {
  case LL_SCHED_CONSTANT: break;
  case LL_SCHED_STEP:
    if (c->step_size < 1)
      return bad(error, c, "step_size", c->step_size, "must be at least 1 epoch");
    if (!isfinite(c->gamma) || c->gamma <= 0.0)
      return bad(error, c, "gamma", c->gamma, "must be positive");
    break;
  case LL_SCHED_EXPONENTIAL:
    if (!isfinite(c->gamma) || c->gamma <= 0.0)
      return bad(error, c, "gamma", c->gamma, "must be positive");
    break;
  case LL_SCHED_MULTISTEP:
    if (!isfinite(c->gamma) || c->gamma <= 0.0)
      return bad(error, c, "gamma", c->gamma, "must be positive");
    if (c->n_milestones < 1 || c->n_milestones > LL_SCHED_MAX_MILESTONES)
      return bad(error, c, "milestones", c->n_milestones, "entries: give 1 to 16 epochs");
    for (int i = 0; i < c->n_milestones; i++)
      if (c->milestones[i] < 0 || (i > 0 && c->milestones[i] <= c->milestones[i - 1]))
        return bad(error, c, "milestones", c->milestones[i],
                   "is out of order: epochs must be increasing and not negative");
    break;
  case LL_SCHED_COSINE:
    if (!isfinite(c->min_lr) || c->min_lr < 0.0)
      return bad(error, c, "min_lr", c->min_lr, "must not be negative");
    break;
  case LL_SCHED_ONE_CYCLE:
    if (!isfinite(c->max_lr) || c->max_lr < 0.0)
      return bad(error, c, "max_lr", c->max_lr, "must not be negative (0: the base lr)");
    if (!isfinite(c->pct_start) || c->pct_start <= 0.0 || c->pct_start >= 1.0)
      return bad(error, c, "pct_start", c->pct_start, "must lie in (0, 1)");
    if (!isfinite(c->div_factor) || c->div_factor <= 0.0)
      return bad(error, c, "div_factor", c->div_factor, "must be positive");
    if (!isfinite(c->final_div_factor) || c->final_div_factor <= 0.0)
      return bad(error, c, "final_div_factor", c->final_div_factor, "must be positive");
    break;
  }
  return TRUE;
}

/* from start at pct 0 to end at pct 1 along half a cosine */
static double anneal_cos(double start, double end, double pct)
{
  return end + (start - end) / 2.0 * (cos(M_PI * pct) + 1.0);
}

static double one_cycle(const LlScheduleConfig *c, double base_lr, int64_t step, int64_t total)
{
  double max_lr = c->max_lr > 0.0 ? c->max_lr : base_lr;
  double initial = max_lr / c->div_factor;
  double final = initial / c->final_div_factor;
  if (total < 1)
    total = 1;
  /* PyTorch's phase ends: the peak is reached at step pct_start total - 1 */
  double end1 = c->pct_start * (double)total - 1.0, end2 = (double)total - 1.0;
  double s = (double)(step < total - 1 ? step : total - 1);
  if (s <= end1)
    return end1 > 0.0 ? anneal_cos(initial, max_lr, s / end1) : max_lr;
  return end2 > end1 ? anneal_cos(max_lr, final, (s - end1) / (end2 - end1)) : final;
}

double ll_schedule_lr(const LlScheduleConfig *c, double base_lr, int64_t step, int steps_per_epoch,
                      int64_t total_steps)
{
  if (step < 0)
    step = 0;
  int64_t epoch = step / (steps_per_epoch > 0 ? steps_per_epoch : 1);
  double lr = base_lr;
  switch (c->kind) {
  case LL_SCHED_CONSTANT: break;
  case LL_SCHED_STEP:
    lr = base_lr * pow(c->gamma, (double)(epoch / (c->step_size > 0 ? c->step_size : 1)));
    break;
  case LL_SCHED_MULTISTEP: {
    int passed = 0;
    for (int i = 0; i < c->n_milestones && i < LL_SCHED_MAX_MILESTONES; i++)
      passed += c->milestones[i] <= epoch;
    lr = base_lr * pow(c->gamma, passed);
    break;
  }
  case LL_SCHED_EXPONENTIAL: lr = base_lr * pow(c->gamma, (double)epoch); break;
  case LL_SCHED_COSINE: {
    double t_max = (double)(total_steps > 0 ? total_steps : 1);
    double s = step < total_steps ? (double)step : t_max;
    lr = c->min_lr + (base_lr - c->min_lr) * (1.0 + cos(M_PI * s / t_max)) / 2.0;
    break;
  }
  case LL_SCHED_ONE_CYCLE: lr = one_cycle(c, base_lr, step, total_steps); break;
  }
  if (step < c->warmup_steps)
    lr *= (double)step / (double)c->warmup_steps;
  return lr;
}
