/* counter-rng.h: a stateless, counter-based uniform generator.
 *
 * u = f(seed, index) needs no state, so every element of a dropout mask (or
 * an augmentation) can be drawn independently and in any order, on the CPU
 * and on the GPU alike, and the same (seed, index) always gives the same
 * number. The mixing function is SplitMix64's finaliser applied twice.
 */
#pragma once

#include <stdint.h>

#if defined(__CUDACC__)
#define LL_HOST_DEVICE __host__ __device__
#else
#define LL_HOST_DEVICE
#endif

static inline LL_HOST_DEVICE uint64_t ll_counter_mix(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 random bits. */
static inline LL_HOST_DEVICE float ll_counter_uniform(uint64_t seed, uint64_t index)
{
  uint64_t z = ll_counter_mix(seed + 0x9e3779b97f4a7c15ULL * (index + 1));
  z = ll_counter_mix(z ^ seed);
  return (float)(z >> 40) * (1.0f / 16777216.0f);
}
