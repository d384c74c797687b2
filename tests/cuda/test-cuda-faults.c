/* test-cuda-faults.c: the CUDA backend's error paths, on the CUDA kernels run
 * on the CPU (cuda-on-cpu), whose runtime can be told to fail a chosen call
 * (kernels/cuda-on-cpu/cuda-on-cpu-hooks.h). A real GPU cannot be made to
 * fault on demand, so this exits 77 on any other backend.
 * - a launch is blamed only for its own error, not an earlier call's;
 * - a failed cudaMalloc that is not a full device reports its cause, up to
 *   the engine's compile error;
 * - a sticky fault (illegal address in a kernel) is reported as a lost
 *   context, and the next open resets the device so later runs work;
 * - a cuBLAS setup failure at open leaves no handle behind. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "cuda-on-cpu/cuda-on-cpu-hooks.h"
#include "parity-util.h"
#include "trainer.h"

/* CUDA's error numbers and a cuBLAS status, as the runtime reports them */
enum { ERR_INVALID_VALUE = 1, ERR_ILLEGAL_ADDRESS = 700, CUBLAS_INTERNAL_ERROR = 14 };

static LlCudaOnCpuInjectFn inject;
static LlCudaOnCpuCublasHandlesFn cublas_handles;

static gboolean load_hooks(void)
{
  void *h = dlopen(g_getenv("LAYERLAB_CUDA_MODULE"), RTLD_NOW | RTLD_LOCAL);
  g_assert_nonnull(h);
  inject = (LlCudaOnCpuInjectFn)dlsym(h, LL_CUDA_ON_CPU_INJECT_SYMBOL);
  cublas_handles = (LlCudaOnCpuCublasHandlesFn)dlsym(h, LL_CUDA_ON_CPU_CUBLAS_HANDLES_SYMBOL);
  return inject && cublas_handles;
}

/* The backend's pending error as a string ("" when none), cleared. */
static char *take_error(void)
{
  GError *err = NULL;
  if (ll_device_check(ll_test_dev, &err))
    return g_strdup("");
  char *m = g_strdup(err->message);
  g_error_free(err);
  return m;
}

/* Fails the test unless all n values of x (device) are v. */
static void expect_all(const float *x, size_t n, float v)
{
  g_autofree float *h = g_new(float, n);
  ll_test_dev->download(h, x, n);
  for (size_t i = 0; i < n; i++)
    if (h[i] != v) {
      g_test_fail_printf("element %zu of %zu: %g, not %g", i, n, h[i], v);
      return;
    }
}

static void test_launch_blames_itself(void)
{
  /* the zeroing memset inside alloc fails; the fill kernel after it runs */
  inject("cudaMemsetAsync", ERR_INVALID_VALUE, FALSE);
  float *x = ll_test_dev->alloc(64 * sizeof(float));
  g_assert_nonnull(x);
  ll_test_dev->fill(x, 1.5f, 64);
  expect_all(x, 64, 1.5f);
  g_autofree char *m = take_error();
  g_test_message("%s", m);
  g_assert_nonnull(strstr(m, "cudaMemsetAsync"));
  g_assert_null(strstr(m, "launch of"));
  g_assert_null(strstr(m, "later CUDA errors"));
  ll_test_dev->free(x);
  g_autofree char *none = take_error();
  g_assert_cmpstr(none, ==, "");
}

/* The backend again, as a new run opens it; fails the test if it cannot. */
static void reopen(void)
{
  GError *err = NULL;
  const LlBackend *be = ll_device_backend("cuda", &err);
  g_assert_no_error(err);
  g_assert_true(be == ll_test_dev);
}

static void check_works(void)
{
  float *y = ll_test_dev->alloc(1000 * sizeof(float));
  g_assert_nonnull(y);
  ll_test_dev->fill(y, 2.0f, 1000);
  ll_test_dev->scale(y, 0.25f, 1000);
  expect_all(y, 1000, 0.5f);
  g_autofree char *m = take_error();
  g_assert_cmpstr(m, ==, "");
  ll_test_dev->free(y);
}

static void test_sticky_fault_resets(void)
{
  float *x = ll_test_dev->alloc(1000 * sizeof(float));
  g_assert_nonnull(x);
  /* the fill kernel hits an illegal address: the context is lost */
  inject("launch", ERR_ILLEGAL_ADDRESS, TRUE);
  ll_test_dev->fill(x, 1.5f, 1000);
  float h[4];
  ll_test_dev->download(h, x, 4);
  g_autofree char *m = take_error();
  g_test_message("%s", m);
  g_assert_nonnull(strstr(m, "launch of fill_kernel"));
  g_assert_nonnull(strstr(m, "context is lost"));
  /* everything fails until the next run opens the backend */
  g_assert_null(ll_test_dev->alloc(16));
  g_autofree char *m2 = take_error();
  g_assert_nonnull(strstr(m2, "cudaMalloc"));
  reopen();
  /* x belonged to the lost context: freeing it is no error */
  ll_test_dev->free(x);
  check_works();
}

static void test_alloc_cause(void)
{
  /* a full device: NULL and nothing recorded (the engine says out of memory) */
  void *huge = ll_test_dev->alloc((size_t)1 << 50);
  g_assert_null(huge);
  g_autofree char *none = take_error();
  g_assert_cmpstr(none, ==, "");
  /* any other failure is recorded with its cause, and the engine's compile
   * reports it instead of "out of memory" */
  g_autofree char *preset =
      g_test_build_filename(G_TEST_DIST, "..", "resources", "presets", "tiny-cnn.json", NULL);
  GError *err = NULL;
  g_autoptr(LlSpec) spec = ll_spec_load_file(preset, &err);
  g_assert_no_error(err);
  g_assert_true(ll_graph_infer(spec->graph, &err));
  inject("cudaMalloc", ERR_ILLEGAL_ADDRESS, TRUE);
  g_assert_false(ll_graph_compile(spec->graph, ll_test_dev, 8, &err));
  g_assert_nonnull(err);
  g_test_message("%s", err->message);
  g_assert_null(strstr(err->message, "out of"));
  g_assert_nonnull(strstr(err->message, "cudaMalloc"));
  g_assert_nonnull(strstr(err->message, "context is lost"));
  g_clear_error(&err);
  reopen();
  g_assert_true(ll_graph_compile(spec->graph, ll_test_dev, 8, &err));
  g_assert_no_error(err);
  check_works();
}

/* The first open of the process, in a child: cublasSetStream fails. */
static void test_cublas_handle_not_leaked(void)
{
  if (g_test_subprocess()) {
    g_assert_cmpint(cublas_handles(), ==, 0);
    inject("cublasSetStream", CUBLAS_INTERNAL_ERROR, FALSE);
    GError *err = NULL;
    g_assert_null(ll_device_backend("cuda", &err));
    g_assert_nonnull(strstr(err->message, "cuBLAS"));
    g_clear_error(&err);
    g_assert_cmpint(cublas_handles(), ==, 0);
    g_assert_nonnull(ll_device_backend("cuda", &err));
    g_assert_cmpint(cublas_handles(), ==, 1);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  const char *want = g_getenv("LAYERLAB_TEST_BACKEND");
  if (!want || strcmp(want, "cuda-on-cpu")) {
    printf("# SKIP: faults can be injected only into the CUDA kernels run on the CPU\n");
    return 77;
  }
  /* the hooks first: the subprocess test must see the module before any open */
  const char *module = g_getenv("LAYERLAB_CUDA_MODULE");
  if (module && *module && !load_hooks()) {
    printf("not ok: %s has no test hooks\n", module);
    return 1;
  }
  g_test_add_func("/cuda-on-cpu/faults/cublas-handle", test_cublas_handle_not_leaked);
  if (!g_test_subprocess()) {
    if (!ll_test_open_backends())
      return 77;
    g_test_add_func("/cuda-on-cpu/faults/launch-blames-itself", test_launch_blames_itself);
    g_test_add_func("/cuda-on-cpu/faults/alloc-cause", test_alloc_cause);
    g_test_add_func("/cuda-on-cpu/faults/sticky-resets", test_sticky_fault_resets);
  }
  return g_test_run();
}
