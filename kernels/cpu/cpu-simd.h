/* cpu-simd.h: portable 8-float vectors for the hot CPU kernels (internal to
 * kernels/cpu).
 *
 * The kernels are written once with GCC/Clang vector extensions and compiled
 * in several versions by LL_CPU_CLONES: AVX-512 (x86-64-v4), AVX2 + FMA
 * (x86-64-v3) and the baseline, picked at load time for the CPU at hand, so
 * one binary runs on any x86-64 and uses what the machine has. Eight lanes
 * suit all three: two SSE registers on the baseline, one YMM register with
 * AVX2, and AVX-512's 32 registers leave room for wider register blocks (on
 * AMD Zen 4, 512-bit operations issue as two 256-bit halves anyway). Helpers
 * here are always inlined into the cloned callers, so they take the caller's
 * instruction set. Multiply-adds contract to FMA (-ffp-contract=fast).
 * Write "vector * scalar" rather than building a splat: GCC then emits one
 * broadcast load. */
#pragma once

#include <string.h>

typedef float ll_v8 __attribute__((vector_size(32)));
typedef int ll_v8i __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define LL_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LL_CPU_CLONES
#endif

#define LL_INLINE static inline __attribute__((always_inline))

LL_INLINE ll_v8 ll_ld8(const float *p)
{
  ll_v8 v;
  memcpy(&v, p, sizeof v);
  return v;
}

LL_INLINE void ll_st8(float *p, ll_v8 v) { memcpy(p, &v, sizeof v); }

/* The even and the odd lanes of the 16 floats a, b (a[0], a[2], ... b[6];
 * a[1], ... b[7]): de-interleaving stride-2 rows. __builtin_shufflevector,
 * which GCC (12 on) and clang both have. */
LL_INLINE ll_v8 ll_even8(ll_v8 a, ll_v8 b)
{
  return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
}

LL_INLINE ll_v8 ll_odd8(ll_v8 a, ll_v8 b)
{
  return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15);
}

/* The sum of the lanes, in a fixed order. */
LL_INLINE float ll_hsum8(ll_v8 v)
{
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}
