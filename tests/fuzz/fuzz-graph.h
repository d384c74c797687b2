/* fuzz-graph.h: the small compiled graph the checkpoint targets load into. */
#pragma once

#include "graph.h"

/* Input "x" (6) -> Linear "fc" (out 5) -> BatchNorm1d "bn" -> Linear "head"
 * (out 3), compiled for batch 2 on the CPU backend; built once. */
LlGraph *ll_fuzz_graph(void);
