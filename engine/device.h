/* device.h: choosing the compute device, and the CUDA backend module.
 *
 * The CPU backend is linked in. The CUDA backend is a module, libll-cuda.so,
 * loaded with dlopen() the first time a GPU is asked for, so the layerlab
 * binary starts and trains on the CPU on machines with no NVIDIA driver or no
 * CUDA libraries. The module is looked up, in order:
 *   1. $LAYERLAB_CUDA_MODULE, when set (a path to libll-cuda.so);
 *   2. the build tree, when the running program is inside it (uninstalled);
 *   3. $libdir/layerlab/libll-cuda.so as installed.
 * A build without nvcc (or -Dcuda=disabled) has only 1. */
#pragma once

#include <glib.h>

#include "block.h" /* LlBackend; errors are in LL_GRAPH_ERROR */

G_BEGIN_DECLS

/* Lists the devices this build can use now: "cpu: 16 cores (OpenBLAS)",
 * "cuda:0: NVIDIA H100 80GB HBM3, 79.2 GiB, sm_90". */
GPtrArray *ll_devices_list(void);
/* Why no GPU is listed (the module is missing, no driver, no device), or NULL
 * when at least one is. Free with g_free. */
char *ll_devices_cuda_note(void);

/* Picks a backend for "auto", "cpu", "ref" (the double-precision reference,
 * kernels/ref), "cuda", "cuda:N" (NULL means "auto").
 * "auto" takes GPU 0 when it can be opened and falls back to the CPU, never
 * failing; "cuda" fails with the reason when there is no usable GPU. */
const LlBackend *ll_device_backend(const char *device, GError **error);
/* The same; when "auto" falls back to the CPU, *note (if note is not NULL)
 * gets the reason, else NULL. */
const LlBackend *ll_device_backend_full(const char *device, char **note, GError **error);

/* Turns a failure the backend recorded (take_error) into an error; TRUE when
 * there was none. Call it at step boundaries, after a download. */
gboolean ll_device_check(const LlBackend *be, GError **error);

/* The path the CUDA module is (or would be) loaded from, or NULL when this
 * build has none and $LAYERLAB_CUDA_MODULE is unset. */
const char *ll_device_cuda_module_path(void);

/* The nice value of a thread whose work the window waits for least: a
 * window's training run, t-SNE, dataset loading, exports. */
#define LL_BACKGROUND_NICE 10

/* Lowers the calling thread's CPU priority to LL_BACKGROUND_NICE (Linux: per
 * thread; threads it starts later inherit it), so the window's main loop
 * gets a core first when both want one. Lasting: an unprivileged process
 * cannot raise it again, so call it only on threads that do background work
 * for the rest of their life (GLib's worker pool, which in LayerLab serves
 * only such work). Does nothing elsewhere or when already that low. */
void ll_thread_yield_to_ui(void);

G_END_DECLS
