/* fuzz-graph.c: the checkpoint targets' graph. */
#include "fuzz-graph.h"

#include <stdio.h>
#include <stdlib.h>

#include "backend.h"

LlGraph *ll_fuzz_graph(void)
{
  static LlGraph *g;
  if (g)
    return g;
  static const char *const blocks[][4] = {
      {"Input", "x", NULL, "shape=6"},
      {"Linear", "fc", "x", "out_features=5"},
      {"BatchNorm1d", "bn", "fc", NULL},
      {"Linear", "head", "bn", "out_features=3"},
  };
  GError *error = NULL;
  g = ll_graph_new();
  for (size_t i = 0; i < G_N_ELEMENTS(blocks); i++) {
    LlBlock *b = ll_graph_add(g, blocks[i][0], blocks[i][1], &error);
    if (b && blocks[i][2])
      ll_block_connect(b, blocks[i][2]);
    if (b && blocks[i][3]) {
      g_auto(GStrv) kv = g_strsplit(blocks[i][3], "=", 2);
      ll_block_set_prop_string(b, kv[0], kv[1], &error);
    }
    if (error)
      break;
  }
  if (error || !ll_graph_resolve(g, &error) || !ll_graph_infer(g, &error) ||
      !ll_graph_compile(g, ll_cpu_backend(), 2, &error)) {
    fprintf(stderr, "ll_fuzz_graph: %s\n", error->message);
    abort();
  }
  return g;
}
