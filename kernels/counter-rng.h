/* counter-rng.h: a stateless, counter-based uniform generator.
 *
 * u = f(seed, index) needs no state, so every element of a dropout mask (or
 * an augmentation) can be drawn independently and in any order, on the CPU
 * and on the GPU alike, and the same (seed, index) always gives the same
 * number. The mixing function is SplitMix64's finaliser applied twice.
 *
 * Dropout masks draw millions of numbers per step, and SplitMix64's 64-bit
 * multiplies take three instructions per lane in AVX2 (there is no 64-bit
 * vector multiply before AVX-512). They use ll_counter_key and
 * ll_counter_bits24 instead: the (seed, stream) pair is mixed once per call
 * into a 64-bit key, and each element index then goes through two keyed
 * rounds of a 32-bit finaliser: 32-bit multiplies only, eight lanes per
 * AVX2 vector.
 */
#pragma once

#include <math.h>
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

/* A bijection of 32-bit integers with low bias ("lowbias32", from Chris
 * Wellons' hash prospector): two multiplies, three xor-shifts. */
static inline LL_HOST_DEVICE uint32_t ll_counter_mix32(uint32_t x)
{
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  return x ^ (x >> 16);
}

/* The key of one stream of draws (a dropout block at one step). */
static inline LL_HOST_DEVICE uint64_t ll_counter_key(uint64_t seed, uint64_t stream)
{
  return ll_counter_mix(ll_counter_mix(seed + 0x9e3779b97f4a7c15ULL) ^ stream);
}

/* 24 random bits for element i of the stream with this key: u = bits / 2^24
 * is uniform in [0, 1). Within 2^32 elements each round is a bijection of
 * the index, so no two elements of a tensor draw the same 32-bit value; the
 * index's high half (tensors past 2^32 elements) is folded into the second
 * round's key. */
static inline LL_HOST_DEVICE uint32_t ll_counter_bits24_split(uint32_t k0, uint32_t k1, uint32_t lo)
{
  return ll_counter_mix32(ll_counter_mix32(lo ^ k0) ^ k1) >> 8;
}

/* The two round keys of indices whose high half is hi: loops over a stretch
 * of indices with one high half call ll_counter_bits24_split with the low
 * half, on 32-bit lanes. */
static inline LL_HOST_DEVICE uint32_t ll_counter_k0(uint64_t key) { return (uint32_t)key; }
static inline LL_HOST_DEVICE uint32_t ll_counter_k1(uint64_t key, uint32_t hi)
{
  return (uint32_t)(key >> 32) + hi * 0x9e3779b9U;
}

static inline LL_HOST_DEVICE uint32_t ll_counter_bits24(uint64_t key, uint64_t i)
{
  return ll_counter_bits24_split(ll_counter_k0(key), ll_counter_k1(key, (uint32_t)(i >> 32)),
                                 (uint32_t)i);
}

/* u = bits24 / 2^24 >= p exactly when bits24 >= this (ceil(p 2^24)): a
 * dropout mask compares integers, and every backend draws the same mask. */
static inline LL_HOST_DEVICE uint32_t ll_counter_threshold(float p)
{
  float t = ceilf(p * 16777216.0f);
  return t <= 0.0f ? 0u : (uint32_t)t;
}

/* Uniform in [0, 1) with 24 random bits. */
static inline LL_HOST_DEVICE float ll_counter_uniform(uint64_t seed, uint64_t index)
{
  uint64_t z = ll_counter_mix(seed + 0x9e3779b97f4a7c15ULL * (index + 1));
  z = ll_counter_mix(z ^ seed);
  return (float)(z >> 40) * (1.0f / 16777216.0f);
}
