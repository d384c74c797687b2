/* parity-util.h: tensors mirrored on the CPU reference and the backend under
 * test, and the atol + |ref| * rtol comparison, for the CUDA parity tests. */
#pragma once

#include <glib.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "device.h"

/* The backend under test and the reference. */
extern const LlBackend *ll_test_dev, *ll_test_ref;

/* Opens the CUDA backend, or, with LAYERLAB_PARITY_SELFTEST=1, the CPU
 * backend against itself (checks the harness on a machine without a GPU).
 * Returns FALSE, having printed why, when there is no GPU: exit 77 then. */
gboolean ll_test_open_backends(void);

/* One logical tensor: c on the reference, d on the device, same contents. */
typedef struct {
  size_t n;
  float *c, *d;
} Mirror;

Mirror mirror_new(size_t n);                      /* zeros */
Mirror mirror_rand(size_t n, float lo, float hi); /* uniform */
Mirror mirror_from(const float *host, size_t n);
void mirror_free(Mirror *m);

/* Downloads m.d and compares it with m.c element by element; on the first
 * mismatch fails the test with what, the index and both values. Returns the
 * largest |dev - ref| seen. NaN matches NaN, inf matches the same inf. */
double mirror_check(const char *what, const Mirror *m, double atol, double rtol);
/* Bit-for-bit equality (masks, int32 argmax stored in float slots). */
void mirror_check_exact(const char *what, const Mirror *m);

/* Fails the test if the device recorded an error (take_error). */
void device_check_no_error(const char *what);

double test_uniform(float lo, float hi);
