/* fuzz-spec: spec files. What loads must print its summary and save to JSON
 * that loads again. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-util.h"
#include "spec.h"
#include "summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  GError *error = NULL;
  LlSpec *s = ll_spec_load_data((const char *)data, (gssize)size, "fuzz.json", &error);
  g_assert((s == NULL) == (error != NULL));
  g_clear_error(&error);
  if (!s)
    return 0;
  LlSummary *sum = ll_summary_new(s->graph);
  g_free(ll_summary_format_text(sum));
  g_free(ll_summary_format_json(sum));
  ll_summary_free(sum);
  g_free(ll_spec_hash(s));
  g_free(ll_spec_describe_losses(s));
  g_autofree char *json = ll_spec_to_json(s);
  LlSpec *again = ll_spec_load_data(json, -1, "saved.json", &error);
  if (!again) {
    fprintf(stderr, "a loaded spec does not load again after saving: %s\n%s\n", error->message,
            json);
    abort();
  }
  g_autofree char *json2 = ll_spec_to_json(again);
  g_assert_cmpstr(json, ==, json2);
  ll_spec_free(again);
  g_free(ll_spec_add_default_loss(s, &error));
  g_clear_error(&error);
  ll_spec_free(s);
  return 0;
}
