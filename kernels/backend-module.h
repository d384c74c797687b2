/* backend-module.h: the entry points of a backend built as a module that the
 * engine loads at run time (engine/device.c), today the CUDA backend,
 * libll-cuda.so, and its CPU build for tests, libll-cuda-on-cpu.so.
 *
 * The layerlab binary never links a device runtime: it dlopen()s the module
 * when a device is asked for (or "auto" looks for one), so the binary starts
 * on machines with no NVIDIA driver, and a build without nvcc simply has no
 * module. A module exports only these three symbols (its linker map says
 * so). Plain C, and nothing here is particular to one kind of device. */
#pragma once

#include <stddef.h>

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module's LlBackend size: the loader refuses a module built against
 * another version of backend.h. */
typedef size_t (*LlBackendModuleAbiFn)(void);
#define LL_BACKEND_MODULE_ABI_SYMBOL "ll_backend_module_abi"
size_t ll_backend_module_abi(void);

/* Opens device `device` (once per process) and returns the backend table,
 * or NULL with a one-line reason in err. */
typedef const LlBackend *(*LlBackendModuleOpenFn)(int device, char *err, size_t errlen);
#define LL_BACKEND_MODULE_OPEN_SYMBOL "ll_backend_module_open"
const LlBackend *ll_backend_module_open(int device, char *err, size_t errlen);

/* The number of devices, with one line per device in names ("NVIDIA H100
 * 80GB HBM3, 79.2 GiB, sm_90"); 0 when there are none, -1 with the reason in
 * names when the driver is missing or too old. */
typedef int (*LlBackendModuleDeviceCountFn)(char *names, size_t len);
#define LL_BACKEND_MODULE_DEVICE_COUNT_SYMBOL "ll_backend_module_device_count"
int ll_backend_module_device_count(char *names, size_t len);

#ifdef __cplusplus
}
#endif
