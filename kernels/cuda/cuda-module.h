/* cuda-module.h: the entry points of the CUDA backend module, libll-cuda.so.
 *
 * The layerlab binary never links CUDA: engine/device.c dlopen()s this
 * module when a GPU is asked for (or "auto" looks for one), so the binary
 * starts on machines with no NVIDIA driver, and a build without nvcc simply
 * has no module. The module links the CUDA runtime statically and cuBLAS
 * dynamically, and exports only these three symbols. Plain C. */
#pragma once

#include <stddef.h>

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module's LlBackend size: the loader refuses a module built against
 * another version of backend.h. */
typedef size_t (*LlCudaBackendAbiFn)(void);
#define LL_CUDA_BACKEND_ABI_SYMBOL "ll_cuda_backend_abi"
size_t ll_cuda_backend_abi(void);

/* Opens GPU `device` (once per process) and returns the backend table, or
 * NULL with a one-line reason in err. */
typedef const LlBackend *(*LlCudaBackendOpenFn)(int device, char *err, size_t errlen);
#define LL_CUDA_BACKEND_OPEN_SYMBOL "ll_cuda_backend_open"
const LlBackend *ll_cuda_backend_open(int device, char *err, size_t errlen);

/* The number of GPUs, with one line per GPU in names ("NVIDIA H100 80GB HBM3,
 * 79.2 GiB, sm_90"); 0 when there are none, -1 with the reason in names when
 * the driver is missing or too old. */
typedef int (*LlCudaDeviceCountFn)(char *names, size_t len);
#define LL_CUDA_DEVICE_COUNT_SYMBOL "ll_cuda_device_count"
int ll_cuda_device_count(char *names, size_t len);

#ifdef __cplusplus
}
#endif
