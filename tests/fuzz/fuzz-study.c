/* fuzz-study: study files. Input: the study [SEP spec.json, the file its
 * stages may name]. */
#include "fuzz-util.h"
#include "study.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  const uint8_t *part[2];
  size_t len[2];
  int n = ll_fuzz_split(data, size, 2, part, len);
  if (n > 1)
    g_free(ll_fuzz_write("spec.json", part[1], len[1]));
  GError *error = NULL;
  LlStudy *s = ll_study_load_data((const char *)part[0], (gssize)len[0], "study.json",
                                  ll_fuzz_dir(), &error);
  g_assert((s == NULL) == (error != NULL));
  g_clear_error(&error);
  if (s) {
    g_free(ll_study_outline(s));
    g_free(ll_study_to_json(s));
    g_free(ll_study_base_spec_json(s));
    ll_study_free(s);
  }
  ll_fuzz_reset();
  return 0;
}
