/* parity-util.c: see parity-util.h. */
#include "parity-util.h"

#include <stdio.h>
#include <stdlib.h>

const LlBackend *ll_test_dev, *ll_test_ref;
static GRand *rand_state;

static const char *g_getenv_or_empty(const char *name)
{
  const char *v = g_getenv(name);
  return v ? v : "";
}

gboolean ll_test_open_backends(void)
{
  ll_test_ref = ll_cpu_backend();
  rand_state = g_rand_new_with_seed(20240611);
  const char *self = g_getenv("LAYERLAB_PARITY_SELFTEST");
  if (self && !strcmp(self, "1")) {
    ll_test_dev = ll_cpu_backend();
    printf("# parity self-test: the CPU backend against itself (checks the harness only)\n");
    return TRUE;
  }
  /* cuda-on-cpu: the CUDA kernels run on the CPU (kernels/cuda-on-cpu), a
   * module the build names in LAYERLAB_CUDA_MODULE */
  const char *want = g_getenv("LAYERLAB_TEST_BACKEND");
  gboolean on_cpu = want && !strcmp(want, "cuda-on-cpu");
  if (on_cpu && !*g_getenv_or_empty("LAYERLAB_CUDA_MODULE")) {
    printf("# SKIP: built without -Dcuda-on-cpu=PATH (the HIP-CPU folder)\n");
    return FALSE;
  }
  GError *err = NULL;
  ll_test_dev = ll_device_backend("cuda", &err);
  if (!ll_test_dev) {
    printf("# SKIP: %s\n", err->message);
    g_error_free(err);
    /* a module built here that does not open is a failure, not a skip */
    g_assert_false(on_cpu);
    return FALSE;
  }
  g_assert_cmpstr(ll_test_dev->name, ==, on_cpu ? "cuda-on-cpu" : "cuda");
  printf("# testing %s against the CPU reference\n", ll_test_dev->device_name);
  return TRUE;
}

double test_uniform(float lo, float hi) { return g_rand_double_range(rand_state, lo, hi); }

static Mirror mirror_alloc(size_t n)
{
  Mirror m = {n, ll_test_ref->alloc(n * sizeof(float)), ll_test_dev->alloc(n * sizeof(float))};
  g_assert_nonnull(m.c);
  g_assert_nonnull(m.d);
  return m;
}

Mirror mirror_from(const float *host, size_t n)
{
  Mirror m = mirror_alloc(n);
  ll_test_ref->upload(m.c, host, n);
  ll_test_dev->upload(m.d, host, n);
  return m;
}

Mirror mirror_new(size_t n)
{
  /* alloc returns zeroed memory on both backends: that is part of what is tested */
  Mirror m = mirror_alloc(n);
  g_autofree float *h = g_new(float, n);
  ll_test_dev->download(h, m.d, n);
  for (size_t i = 0; i < n; i++)
    if (h[i] != 0.0f || m.c[i] != 0.0f) {
      g_test_fail_printf("alloc of %zu floats: element %zu is not zero", n, i);
      break;
    }
  return m;
}

Mirror mirror_rand(size_t n, float lo, float hi)
{
  g_autofree float *h = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    h[i] = (float)test_uniform(lo, hi);
  return mirror_from(h, n);
}

void mirror_free(Mirror *m)
{
  ll_test_ref->free(m->c);
  ll_test_dev->free(m->d);
  m->c = m->d = NULL;
}

double mirror_check(const char *what, const Mirror *m, double atol, double rtol)
{
  g_autofree float *h = g_new(float, m->n);
  ll_test_dev->download(h, m->d, m->n);
  device_check_no_error(what);
  double worst = 0.0;
  for (size_t i = 0; i < m->n; i++) {
    double ref = m->c[i], got = h[i];
    if (isnan(ref) || isinf(ref)) {
      if (isnan(ref) ? isnan(got) : got == ref)
        continue;
    } else {
      double diff = fabs(got - ref);
      if (diff <= atol + fabs(ref) * rtol) {
        worst = diff > worst ? diff : worst;
        continue;
      }
    }
    g_test_fail_printf("%s: element %zu of %zu: device %.9g, reference %.9g (atol %g, rtol %g)",
                       what, i, m->n, got, ref, atol, rtol);
    return INFINITY;
  }
  return worst;
}

void mirror_check_exact(const char *what, const Mirror *m)
{
  g_autofree float *h = g_new(float, m->n);
  ll_test_dev->download(h, m->d, m->n);
  device_check_no_error(what);
  for (size_t i = 0; i < m->n; i++)
    if (memcmp(&h[i], &m->c[i], sizeof(float))) {
      int32_t a, b;
      memcpy(&a, &h[i], 4);
      memcpy(&b, &m->c[i], 4);
      g_test_fail_printf("%s: element %zu of %zu differs: device %.9g (bits %d), reference "
                         "%.9g (bits %d)",
                         what, i, m->n, h[i], a, m->c[i], b);
      return;
    }
}

void device_check_no_error(const char *what)
{
  GError *err = NULL;
  if (!ll_device_check(ll_test_dev, &err)) {
    g_test_fail_printf("%s: %s", what, err->message);
    g_error_free(err);
  }
}
