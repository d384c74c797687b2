/* cuda-host-shared.cu: the headers the CUDA kernels share with the CPU
 * (counter-rng.h, index-math.h), compiled by nvcc, where they are
 * __host__ __device__, and exported as host functions so test-cuda-host.c
 * can compare them with gcc's build of the same headers. */
#include <stdint.h>

#include "counter-rng.h"
#include "index-math.h"

extern "C" {

uint32_t ll_test_nvcc_bits24(uint64_t seed, uint64_t stream, uint64_t index)
{
  return ll_counter_bits24(ll_counter_key(seed, stream), index);
}

int ll_test_nvcc_embedding_row(float v, int vocab) { return ll_embedding_row(v, vocab); }

void ll_test_nvcc_pool_window(int o, int k, int s, int p, int n, int *lo, int *hi)
{
  ll_pool_window(o, k, s, p, n, lo, hi);
}

void ll_test_nvcc_pool_covering(int i, int k, int s, int p, int on, int *lo, int *hi)
{
  ll_pool_covering(i, k, s, p, on, lo, hi);
}

int ll_test_nvcc_conv_tap_output(int i, int t, int s, int p, int d, int on)
{
  return ll_conv_tap_output(i, t, s, p, d, on);
}
}
