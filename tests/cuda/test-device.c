/* test-device.c: device selection (engine/device.c) on whatever machine runs
 * it: with a GPU, "cuda" opens it; without one (or without the module),
 * "cuda" fails with the reason and "auto" falls back to the CPU, saying why.
 * The module path override is checked in subprocesses, since the module is
 * looked up once per process. */
#include <string.h>

#include "device.h"

static void test_cpu(void)
{
  GError *err = NULL;
  g_assert_true(ll_device_backend("cpu", &err) == ll_cpu_backend());
  g_assert_no_error(err);
  /* the CPU cannot fail, and has no error slot to ask */
  g_assert_true(ll_device_check(ll_cpu_backend(), &err));
  g_assert_no_error(err);
}

/* "ref" is the double-precision reference backend: always there, host
 * memory, no optional slot (the engine runs every block apart on it). */
static void test_ref(void)
{
  GError *err = NULL;
  const LlBackend *be = ll_device_backend("ref", &err);
  g_assert_no_error(err);
  g_assert_true(be == ll_ref_backend());
  g_assert_cmpstr(be->name, ==, "ref");
  g_assert_true(be->host_memory);
  g_assert_null(be->linear_forward);
  g_assert_null(be->batchnorm_relu_forward);
  g_assert_null(be->relu_dropout_forward);
  g_assert_true(ll_device_check(be, &err));
}

static void test_bad_names(void)
{
  const char *bad[] = {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda0", "CUDA", "REF", "ref0"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    GError *err = NULL;
    g_assert_null(ll_device_backend(bad[i], &err));
    g_assert_error(err, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE);
    g_assert_nonnull(strstr(err->message, bad[i]));
    g_error_free(err);
  }
}

static void test_auto_and_cuda(void)
{
  g_autoptr(GPtrArray) list = ll_devices_list();
  g_autofree char *note = ll_devices_cuda_note();
  g_assert_cmpuint(list->len, >=, 1);
  g_assert_true(g_str_has_prefix(list->pdata[0], "cpu: "));
  char *why = NULL;
  GError *err = NULL;
  const LlBackend *be = ll_device_backend_full("auto", &why, &err);
  g_assert_no_error(err);
  g_assert_nonnull(be);
  if (note) {
    /* no usable GPU here: one device listed, auto says why it took the CPU */
    g_test_message("no GPU: %s", note);
    g_assert_cmpuint(list->len, ==, 1);
    g_assert_true(be == ll_cpu_backend());
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, note));
    g_assert_null(ll_device_backend("cuda", &err));
    g_assert_error(err, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(err->message, note));
    g_assert_nonnull(strstr(err->message, "--device cpu"));
    g_clear_error(&err);
  } else if (be == ll_cpu_backend()) {
    /* a GPU is listed but the backend cannot use it: too old for the kernels */
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, "sm_"));
  } else {
    g_assert_cmpuint(list->len, >=, 2);
    g_assert_true(g_str_has_prefix(list->pdata[1], "cuda:0: "));
    g_assert_cmpstr(be->name, ==, "cuda");
    g_assert_null(why);
    g_assert_true(ll_device_backend("cuda:0", &err) == be);
    g_assert_no_error(err);
    /* a GPU index past the last fails, naming how many there are */
    g_autofree char *past = g_strdup_printf("cuda:%u", list->len - 1);
    g_assert_null(ll_device_backend(past, &err));
    g_assert_nonnull(strstr(err->message, "there is no GPU"));
    g_clear_error(&err);
  }
  g_free(why);
}

static void module_override_child(const char *path, const char *expect)
{
  g_setenv("LAYERLAB_CUDA_MODULE", path, TRUE);
  g_assert_cmpstr(ll_device_cuda_module_path(), ==, path);
  GError *err = NULL;
  g_assert_null(ll_device_backend("cuda", &err));
  g_assert_error(err, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(err->message, expect));
  g_error_free(err);
  char *why = NULL;
  g_assert_true(ll_device_backend_full(NULL, &why, NULL) == ll_cpu_backend());
  g_assert_nonnull(strstr(why, expect));
  g_free(why);
  g_autoptr(GPtrArray) list = ll_devices_list();
  g_assert_cmpuint(list->len, ==, 1);
}

static void test_module_missing(void)
{
  if (g_test_subprocess()) {
    module_override_child("/nonexistent/libll-cuda.so", "/nonexistent/libll-cuda.so");
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
}

static void test_module_foreign(void)
{
  if (g_test_subprocess()) {
    /* a library that loads but is not a backend module */
    module_override_child("libm.so.6", "is not a LayerLab CUDA backend module");
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/device/cpu", test_cpu);
  g_test_add_func("/engine/device/ref", test_ref);
  g_test_add_func("/engine/device/bad-names", test_bad_names);
  g_test_add_func("/engine/device/auto-and-cuda", test_auto_and_cuda);
  g_test_add_func("/engine/device/module-missing", test_module_missing);
  g_test_add_func("/engine/device/module-foreign", test_module_foreign);
  return g_test_run();
}
