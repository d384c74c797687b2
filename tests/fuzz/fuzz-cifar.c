/* fuzz-cifar: CIFAR-10 and CIFAR-100 binary batches.
 * Input: flags byte, batch [SEP batch] [SEP fine_label_names.txt]; flag
 * bit 0 selects CIFAR-100 (2 label bytes). */
#include "data.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  if (size < 1)
    return 0;
  int label_bytes = 1 + (data[0] & 1);
  const uint8_t *part[3];
  size_t len[3];
  int n = ll_fuzz_split(data + 1, size - 1, 3, part, len);
  char *paths[3] = {NULL, NULL, NULL};
  paths[0] = ll_fuzz_write("data_batch_1.bin", part[0], len[0]);
  if (n > 1)
    paths[1] = ll_fuzz_write("data_batch_2.bin", part[1], len[1]);
  if (n > 2)
    g_free(ll_fuzz_write("fine_label_names.txt", part[2], len[2]));
  GError *error = NULL;
  LlDataset *d = ll_dataset_load_cifar((const char *const *)paths, label_bytes, &error);
  g_assert((d == NULL) == (error != NULL));
  g_clear_error(&error);
  ll_dataset_free(d);
  g_free(paths[0]);
  g_free(paths[1]);
  ll_fuzz_reset();
  return 0;
}
