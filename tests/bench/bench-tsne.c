/* bench-tsne: t-SNE on the first N Fashion-MNIST test images with
 * scikit-learn's settings (pixels in [0, 1], PCA to 50, perplexity 30,
 * init pca, learning rate auto, Barnes-Hut theta 0.5, 1000 iterations).
 * Not a test. Prints the time (PCA included, as the Python reference
 * times it) and the final KL divergence.
 *
 *   bench-tsne [n=5000] [threads=0 (all)] [method=barnes_hut|exact] [dir]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data.h"
#include "tsne.h"

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 5000;
  int threads = argc > 2 ? atoi(argv[2]) : 0;
  const char *method = argc > 3 ? argv[3] : "barnes_hut";
  const char *dir = argc > 4 ? argv[4] : LL_FASHION_MNIST_DIR;
  g_autoptr(GError) err = NULL;
  LlDataset *train = NULL, *test = NULL;
  if (!ll_dataset_load_idx_dir(dir, &train, &test, &err)) {
    fprintf(stderr, "bench-tsne: %s\n", err->message);
    return 1;
  }
  size_t size = ll_dataset_sample_size(test);
  n = CLAMP(n, 4, (int)test->n);
  float *x = g_new(float, (size_t)n *size);
  for (size_t i = 0; i < (size_t)n * size; i++)
    x[i] = test->u8[i] / 255.0f;

  LlTsneConfig c;
  ll_tsne_config_init(&c);
  c.threads = threads;
  c.method = strcmp(method, "exact") == 0 ? LL_TSNE_EXACT : LL_TSNE_BARNES_HUT;
  gint64 t0 = g_get_monotonic_time();
  clock_t c0 = clock();
  LlTsne *t = ll_tsne_new(x, n, (int)size, &c, &err);
  if (!t) {
    fprintf(stderr, "bench-tsne: %s\n", err->message);
    return 1;
  }
  gint64 t1 = g_get_monotonic_time();
  while (ll_tsne_step(t, 50) > 0) {
  }
  gint64 t2 = g_get_monotonic_time();
  double kl = ll_tsne_kl(t);
  gint64 t3 = g_get_monotonic_time();
  double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
  printf("layerlab TSNE n=%d %s seconds=%.2f cpu=%.2f kl=%.4f (setup %.2f s, %d iterations %.2f s, "
         "kl %.3f s, threads %d)\n",
         n, method, (t3 - t0) / 1e6, cpu, kl, (t1 - t0) / 1e6, ll_tsne_iter(t), (t2 - t1) / 1e6,
         (t3 - t2) / 1e6, threads);
  ll_tsne_free(t);
  g_free(x);
  ll_dataset_free(train);
  ll_dataset_free(test);
  return 0;
}
