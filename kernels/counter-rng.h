/* counter-rng.h: a stateless, counter-based generator for dropout masks.
 *
 * Element i of a stream draws its bits from (seed, stream, i) alone, with no
 * state, so every element of a mask can be drawn independently and in any
 * order, on the CPU and on the GPU alike, and the same triple always gives
 * the same bits. The (seed, stream) pair is mixed once per call into a
 * 64-bit key (SplitMix64's finaliser); each element index then goes through
 * two keyed rounds of a 32-bit finaliser: 32-bit multiplies only, eight
 * lanes per AVX2 vector (a 64-bit multiply takes three instructions a lane
 * there: AVX2 has no 64-bit vector multiply).
 */
#pragma once

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define LL_HOST_DEVICE __host__ __device__
#else
#define LL_HOST_DEVICE
#endif

/* SplitMix64's finaliser: a well-mixed 64-bit hash. */
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

/* The two round keys of the indices whose high half is hi. */
static inline LL_HOST_DEVICE uint32_t ll_counter_k0(uint64_t key) { return (uint32_t)key; }
static inline LL_HOST_DEVICE uint32_t ll_counter_k1(uint64_t key, uint32_t hi)
{
  return (uint32_t)(key >> 32) + hi * 0x9e3779b9U;
}

/* ll_counter_bits24 of index hi:lo with the round keys of hi: loops over a
 * stretch of indices with one high half (ll_counter_stretch) run on 32-bit
 * lanes. */
static inline LL_HOST_DEVICE uint32_t ll_counter_bits24_split(uint32_t k0, uint32_t k1, uint32_t lo)
{
  return ll_counter_mix32(ll_counter_mix32(lo ^ k0) ^ k1) >> 8;
}

/* 24 random bits for element i of the stream with this key: u = bits / 2^24
 * is uniform in [0, 1). Within 2^32 elements each round is a bijection of
 * the index, so no two elements of a tensor draw the same 32-bit value; the
 * index's high half (tensors past 2^32 elements) is folded into the second
 * round's key. */
static inline LL_HOST_DEVICE uint32_t ll_counter_bits24(uint64_t key, uint64_t i)
{
  return ll_counter_bits24_split(ll_counter_k0(key), ll_counter_k1(key, (uint32_t)(i >> 32)),
                                 (uint32_t)i);
}

/* How many of the n indices from `at` on share its high half. */
static inline LL_HOST_DEVICE uint64_t ll_counter_stretch(uint64_t at, uint64_t n)
{
  uint64_t left = ((uint64_t)1 << 32) - (at & 0xffffffffULL);
  return n < left ? n : left;
}

/* A dropout mask with probability p: element i of stream (seed, stream) is
 * kept, and scaled by keep = 1 / (1 - p), when
 * ll_counter_bits24(key, i) >= threshold = ceil(p 2^24), which is u >= p
 * compared in integers; every backend draws the same mask. */
typedef struct {
  uint64_t key;
  uint32_t threshold;
  float keep;
} LlDropMask;

static inline LL_HOST_DEVICE LlDropMask ll_drop_mask(float p, uint64_t seed, uint64_t stream)
{
  float t = ceilf(p * 16777216.0f);
  LlDropMask m = {ll_counter_key(seed, stream), t <= 0.0f ? 0u : (uint32_t)t, 1.0f / (1.0f - p)};
  return m;
}
