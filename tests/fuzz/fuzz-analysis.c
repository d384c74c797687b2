/* fuzz-analysis: a run folder's analysis files as `layerlab report`,
 * `export` and the window read them back. Input: flags byte (bit 0: the
 * payload is a validation epoch, epoch-001, instead of the test set), then
 * the JSON [SEP embed.npy [SEP embed-labels.npy [SEP predictions.npy]]]. */
#include "analysis.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  if (size < 1)
    return 0;
  const char *stem = data[0] & 1 ? "epoch-001" : "test";
  static const char *const suffix[] = {".json", "-embed.npy", "-embed-labels.npy",
                                       "-predictions.npy"};
  const uint8_t *part[4];
  size_t len[4];
  int n = ll_fuzz_split(data + 1, size - 1, 4, part, len);
  for (int i = 0; i < n; i++) {
    g_autofree char *name = g_strdup_printf("run/analysis/%s%s", stem, suffix[i]);
    g_free(ll_fuzz_write(name, part[i], len[i]));
  }
  g_autofree char *run = g_build_filename(ll_fuzz_dir(), "run", NULL);
  GError *error = NULL;
  GPtrArray *events = ll_analysis_load(run, &error);
  g_assert((events == NULL) == (error != NULL));
  g_clear_error(&error);
  if (events)
    g_ptr_array_unref(events);
  ll_fuzz_reset();
  return 0;
}
