/* schedule.h: learning-rate schedules, as a pure function of the step.
 *
 * The trainer asks for the rate of every step and passes it to
 * ll_optimizer_step(); nothing is stored, so a resumed run only needs its
 * step count. The epoch-based schedules (step, multistep, exponential)
 * change at epoch boundaries, like PyTorch's schedulers stepped once per
 * epoch; cosine and one-cycle change every step, like those stepped once per
 * batch.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  LL_SCHED_CONSTANT,
  LL_SCHED_STEP,        /* StepLR: base gamma^(epoch / step_size) */
  LL_SCHED_MULTISTEP,   /* MultiStepLR: base gamma^(milestones <= epoch) */
  LL_SCHED_EXPONENTIAL, /* ExponentialLR: base gamma^epoch */
  LL_SCHED_COSINE,      /* CosineAnnealingLR over total_steps down to min_lr */
  LL_SCHED_ONE_CYCLE,   /* OneCycleLR, two phases, cosine annealing */
} LlScheduleKind;

/* "constant", "step", "multistep", "exponential", "cosine", "one-cycle",
 * indexed by LlScheduleKind, NULL-terminated. */
extern const char *const ll_schedule_kind_names[];

const char *ll_schedule_kind_name(LlScheduleKind kind);
/* Case-insensitive; also accepts "one_cycle" and "onecycle". */
gboolean ll_schedule_kind_from_name(const char *name, LlScheduleKind *kind, GError **error);

#define LL_SCHED_MAX_MILESTONES 16

typedef struct {
  LlScheduleKind kind;
  int step_size;                           /* step: epochs between decays */
  double gamma;                            /* step, multistep, exponential */
  int milestones[LL_SCHED_MAX_MILESTONES]; /* multistep: epochs, increasing */
  int n_milestones;
  double min_lr;           /* cosine: eta_min */
  double max_lr;           /* one-cycle: the peak; <= 0: the optimizer's base lr */
  double pct_start;        /* one-cycle: fraction of the steps spent rising */
  double div_factor;       /* one-cycle: initial lr = max_lr / div_factor */
  double final_div_factor; /* one-cycle: final lr = initial lr / final_div_factor */
  int warmup_steps;        /* linear warm-up from 0 over these steps, on top of any schedule */
} LlScheduleConfig;

/* PyTorch's defaults where it has them: gamma 0.1 (step, multistep; 0.95 for
 * exponential, which PyTorch requires), step_size 10, min_lr 0, one-cycle
 * pct_start 0.3, div_factor 25, final_div_factor 1e4; no warm-up. */
LlScheduleConfig ll_schedule_config_default(LlScheduleKind kind);
/* Checks ranges; errors name the field. */
gboolean ll_schedule_config_validate(const LlScheduleConfig *c, GError **error);

/* The learning rate of optimizer step `step` (0 for the first batch of the
 * run) with steps_per_epoch batches per epoch and total_steps in the whole
 * run (cosine and one-cycle need it; past the end they hold their final
 * value). Warm-up multiplies by step / warmup_steps while step <
 * warmup_steps, so the first step's rate is 0 (the convention of
 * transformers' linear warm-up). */
double ll_schedule_lr(const LlScheduleConfig *c, double base_lr, int64_t step, int steps_per_epoch,
                      int64_t total_steps);

G_END_DECLS
