/* block-io: one block's forward and backward, written out for a comparison
 * with PyTorch (tests/torch/test_blocks_torch.py).
 *
 *   block-io DIR BACKEND TYPE PROPS SHAPE BATCH SEED
 *
 * Builds Input "x" (SHAPE, e.g. "3,8,8") -> block "b" of TYPE with PROPS
 * ("name=value;name=value", or "" for the defaults), compiles it for BATCH
 * samples on BACKEND (ref or cpu), draws parameters and x from SEED, then
 * runs a training forward and a backward of a random dy. Writes
 * DIR/params.safetensors (the graph's checkpoint, as training saves it) and
 * float32 files DIR/x.bin, dy.bin, y.bin, dx.bin and grad-PARAM.bin. */
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "graph.h"

static int fail(const char *what, GError *error)
{
  fprintf(stderr, "block-io: %s: %s\n", what, error ? error->message : "failed");
  return 1;
}

static gboolean put(const char *dir, const char *name, const float *data, size_t n, GError **error)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  return g_file_set_contents(path, (const char *)data, (gssize)(n * sizeof(float)), error);
}

int main(int argc, char **argv)
{
  if (argc != 8) {
    fprintf(stderr, "usage: block-io DIR BACKEND TYPE PROPS SHAPE BATCH SEED\n");
    return 2;
  }
  const char *dir = argv[1], *type = argv[3], *props = argv[4];
  int batch = atoi(argv[6]);
  const LlBackend *be = !strcmp(argv[2], "ref") ? ll_ref_backend() : ll_cpu_backend();
  GError *error = NULL;
  g_autoptr(LlGraph) g = ll_graph_new();
  LlBlock *x = ll_graph_add(g, "Input", "x", &error);
  if (!x || !ll_block_set_prop_string(x, "shape", argv[5], &error))
    return fail("x", error);
  LlBlock *b = ll_graph_add(g, type, "b", &error);
  if (!b)
    return fail(type, error);
  ll_block_connect(b, "x");
  g_auto(GStrv) kv = g_strsplit(props, ";", -1);
  for (int i = 0; kv[i] && *kv[i]; i++) {
    g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
    if (!p[1] || !ll_block_set_prop_string(b, p[0], p[1], &error))
      return fail(kv[i], error);
  }
  g->grad_inputs = TRUE;
  if (!ll_graph_compile(g, be, batch, &error))
    return fail("compile", error);
  LlRng rng;
  ll_rng_seed(&rng, g_ascii_strtoull(argv[7], NULL, 10));
  ll_graph_init_params(g, &rng);
  /* away from the initial ones and zeros, so that a swapped weight and bias show */
  for (int p = 0; p < b->n_params; p++)
    for (size_t j = 0; j < ll_shape_size(&b->params[p].shape); j++)
      b->params[p].data[j] += (float)(0.5 * ll_rng_normal(&rng));
  size_t nx = (size_t)batch * ll_block_out_size(x), ny = (size_t)batch * ll_block_out_size(b);
  g_autofree float *xs = g_new(float, nx), *dys = g_new(float, ny);
  for (size_t i = 0; i < nx; i++)
    xs[i] = (float)(1.5 * ll_rng_normal(&rng) + 0.3);
  for (size_t i = 0; i < ny; i++)
    dys[i] = (float)ll_rng_normal(&rng);
  LlRunCtx ctx = {.be = be, .batch = batch, .training = TRUE, .seed = 1, .step = 1};
  ll_graph_feed(g, x, xs, batch);
  ll_graph_forward(g, &ctx);
  ll_graph_zero_grads(g, &ctx);
  be->upload(b->dout, dys, ny);
  ll_graph_backward(g, &ctx);
  g_autofree float *ys = g_new(float, ny), *dxs = g_new(float, nx);
  be->download(ys, b->out, ny);
  be->download(dxs, x->dout, nx);
  g_autofree char *ckpt = g_build_filename(dir, "params.safetensors", NULL);
  gboolean ok = ll_checkpoint_save(ckpt, g, NULL, NULL, &error) &&
                put(dir, "x.bin", xs, nx, &error) && put(dir, "dy.bin", dys, ny, &error) &&
                put(dir, "y.bin", ys, ny, &error) && put(dir, "dx.bin", dxs, nx, &error);
  for (int p = 0; ok && p < b->n_params; p++) {
    size_t n = ll_shape_size(&b->params[p].shape);
    g_autofree float *gr = g_new(float, n);
    be->download(gr, b->params[p].grad, n);
    g_autofree char *name = g_strdup_printf("grad-%s.bin", b->params[p].name);
    ok = put(dir, name, gr, n, &error);
  }
  return ok ? 0 : fail(dir, error);
}
