/* fuzz-onnx: ONNX models for `layerlab import`: the wire check, protobuf-c's
 * decoding under the allocation budget, every operator's reading and the
 * spec it makes (the weights are checked, not written). */
#include "fuzz-util.h"
#include "onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  GError *error = NULL;
  LlSpec *spec = ll_onnx_import_data(data, size, "fuzz.onnx", NULL, &error);
  if (spec) {
    g_free(ll_spec_to_json(spec));
    ll_spec_free(spec);
  }
  g_clear_error(&error);
  return 0;
}
