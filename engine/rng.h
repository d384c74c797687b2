/* rng.h: the run's seeded generator (xoshiro256**, seeded by SplitMix64).
 * One per run; the same seed gives the same stream on every machine. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct {
  uint64_t s[4];
} LlRng;

void ll_rng_seed(LlRng *r, uint64_t seed);
uint64_t ll_rng_next(LlRng *r);
/* [0, 1) */
double ll_rng_uniform(LlRng *r);
/* standard normal (Box-Muller) */
double ll_rng_normal(LlRng *r);
/* [0, n) without modulo bias */
uint64_t ll_rng_below(LlRng *r, uint64_t n);
/* Fisher-Yates */
void ll_rng_shuffle_u32(LlRng *r, uint32_t *v, size_t n);

G_END_DECLS
