/* Gradient checks of the dense and activation blocks. */
#include "gradcheck.h"

#include <string.h>

static void test_linear(void)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  ll_gradcheck_block("Linear", "out_features=5", 1, (LlShape[]){SHAPE(7)}, &o);
  ll_gradcheck_block("Linear", "out_features=3;bias=false;init=xavier", 1, (LlShape[]){SHAPE(4, 6)},
                     &o);
}

static void check_act(gconstpointer data)
{
  LlGradOpts o = LL_GRAD_OPTS_DEFAULT;
  o.avoid_kinks = TRUE;
  const char *spec = data;
  g_auto(GStrv) p = g_strsplit(spec, "|", 2);
  ll_gradcheck_block(p[0], p[1] ? p[1] : "", 1, (LlShape[]){SHAPE(2, 3, 5)}, &o);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/blocks/linear/grad", test_linear);
  static const char *acts[] = {
      "ReLU", "LeakyReLU|negative_slope=0.1", "ELU|alpha=0.7", "GELU", "Sigmoid", "Tanh"};
  for (guint i = 0; i < G_N_ELEMENTS(acts); i++) {
    g_autofree char *type = g_strndup(acts[i], strcspn(acts[i], "|"));
    g_autofree char *lower = g_ascii_strdown(type, -1);
    g_autofree char *path = g_strdup_printf("/engine/blocks/%s/grad", lower);
    g_test_add_data_func(path, acts[i], check_act);
  }
  return g_test_run();
}
