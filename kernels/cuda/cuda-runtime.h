/* cuda-runtime.h: the CUDA backend's process-wide state: the device, one
 * stream, the cuBLAS handle, scratch buffers and the first recorded error.
 *
 * The backend slots take no context argument (LlBackend is a plain table), so
 * one process drives one GPU through it: opening a second device while one is
 * open is refused. Plain C: no CUDA syntax (the stream is an opaque pointer). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Selects device, creates the stream and the cuBLAS handle (once); writes the
 * device's name into name. Returns false with a one-line reason in err. */
bool ll_cuda_runtime_open(int device, char *name, size_t name_len, char *err, size_t err_len);
/* The number of usable devices and their names, one per line ("NVIDIA H100
 * 80GB HBM3, 79.2 GiB, sm_90"), into names; -1 with the reason in names when
 * the driver or the runtime is missing. */
int ll_cuda_runtime_devices(char *names, size_t len);

/* Records "file:line: what: why" unless an error is already pending. */
void ll_cuda_record_error(const char *file, int line, const char *what, const char *why);
/* The LlBackend take_error slot: copies the pending error, clears it. */
bool ll_cuda_take_error(char *buf, size_t len);

/* Enter and leave a backend slot (see LlCudaScope in cuda-common.cuh); enter
 * returns the stream, as a cudaStream_t. */
#ifdef __CUDACC__
cudaStream_t ll_cuda_enter(void);
cublasHandle_t ll_cuda_cublas(void);
#endif
void ll_cuda_leave(void);

#ifdef __cplusplus
}
#endif
