/* rng.c: xoshiro256** (Blackman and Vigna), seeded through SplitMix64. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void ll_rng_seed(LlRng *r, uint64_t seed)
{
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ll_rng_next(LlRng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double ll_rng_uniform(LlRng *r) { return (double)(ll_rng_next(r) >> 11) * 0x1.0p-53; }

double ll_rng_normal(LlRng *r)
{
  double u1 = ll_rng_uniform(r), u2 = ll_rng_uniform(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}

uint64_t ll_rng_below(LlRng *r, uint64_t n)
{
  if (n <= 1)
    return 0;
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do
    x = ll_rng_next(r);
  while (x >= limit);
  return x % n;
}

void ll_rng_shuffle_u32(LlRng *r, uint32_t *v, size_t n)
{
  for (size_t i = n; i > 1; i--) {
    size_t j = ll_rng_below(r, i);
    uint32_t t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}
