/* cub/device/device_radix_sort.cuh (cuda-on-cpu): CUB's stable radix sort of
 * (key, value) pairs by the key bits [begin_bit, end_bit), served by
 * std::stable_sort on the CPU. As CUB's: the first call (temp NULL) asks for
 * the temporary storage, the second sorts in stream order; the storage the
 * caller provides is used (an index per pair), so a short one shows. */
#pragma once

#include <algorithm>
#include <cstdint>

#include "../../cuda_runtime.h"

namespace cub {

struct DeviceRadixSort {
  template <class K, class V>
  static cudaError_t SortPairs(void *temp, size_t &temp_bytes, const K *keys_in, K *keys_out,
                               const V *values_in, V *values_out, int n, int begin_bit = 0,
                               int end_bit = (int)sizeof(K) * 8, cudaStream_t stream = 0)
  {
    if (int e = ll_cuda_on_cpu::injected("SortPairs"))
      return ll_cuda_on_cpu::note((hipError_t)e);
    size_t need = (size_t)(n > 0 ? n : 1) * sizeof(std::uint32_t);
    if (!temp) {
      temp_bytes = need;
      return cudaSuccess;
    }
    if (temp_bytes < need || n < 0 || begin_bit < 0 || end_bit > (int)sizeof(K) * 8 ||
        begin_bit > end_bit)
      return ll_cuda_on_cpu::note(hipErrorInvalidValue);
    hipError_t e = hipStreamSynchronize(stream);
    if (e != hipSuccess)
      return ll_cuda_on_cpu::note(e);
    typedef typename std::make_unsigned<K>::type U;
    const int bits = end_bit - begin_bit;
    const U mask = bits >= (int)sizeof(U) * 8 ? (U)~(U)0 : (U)(((U)1 << bits) - 1);
    auto key = [&](std::uint32_t i) { return (U)((U)keys_in[i] >> begin_bit) & mask; };
    std::uint32_t *order = (std::uint32_t *)temp;
    for (int i = 0; i < n; i++)
      order[i] = (std::uint32_t)i;
    std::stable_sort(order, order + n,
                     [&](std::uint32_t a, std::uint32_t b) { return key(a) < key(b); });
    for (int i = 0; i < n; i++) {
      keys_out[i] = keys_in[order[i]];
      values_out[i] = values_in[order[i]];
    }
    return cudaSuccess;
  }
};

} // namespace cub
