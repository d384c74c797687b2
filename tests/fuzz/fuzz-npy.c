/* fuzz-npy: NPY datasets (features and labels) and the analysis NPY reader.
 * Input: features [SEP labels]. */
#include "analysis.h"
#include "data.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  const uint8_t *part[2];
  size_t len[2];
  int n = ll_fuzz_split(data, size, 2, part, len);
  g_autofree char *x = ll_fuzz_write("x.npy", part[0], len[0]);
  g_autofree char *y = n > 1 ? ll_fuzz_write("y.npy", part[1], len[1]) : NULL;
  GError *error = NULL;
  LlDataset *d = ll_dataset_load_npy(x, y, &error);
  g_assert((d == NULL) == (error != NULL));
  g_clear_error(&error);
  ll_dataset_free(d);
  int a = 0, b = 0;
  float *f = ll_npy_read_f32(x, &a, &b, &error);
  g_assert((f == NULL) == (error != NULL));
  g_clear_error(&error);
  g_free(f);
  ll_fuzz_reset();
  return 0;
}
