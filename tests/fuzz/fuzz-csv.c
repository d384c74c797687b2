/* fuzz-csv: CSV tables. Input: the label column's name, a newline, then the
 * file. */
#include <string.h>

#include "data.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  const uint8_t *nl = memchr(data, '\n', size);
  if (!nl)
    return 0;
  g_autofree char *label = g_strndup((const char *)data, (gsize)(nl - data));
  g_autofree char *path = ll_fuzz_write("table.csv", nl + 1, size - (size_t)(nl + 1 - data));
  GError *error = NULL;
  LlDataset *d = ll_dataset_load_csv(path, label, &error);
  g_assert((d == NULL) == (error != NULL));
  g_clear_error(&error);
  ll_dataset_free(d);
  ll_fuzz_reset();
  return 0;
}
