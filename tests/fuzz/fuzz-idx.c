/* fuzz-idx: IDX images and labels, plain and gzip-compressed.
 * Input: flags byte, images [SEP labels]; flag bit 0 gzips the images,
 * bit 1 the labels (so the IDX layer is fuzzed behind zlib too; raw gzip
 * bytes in the input fuzz zlib's own checks). */
#include "data.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  if (size < 1)
    return 0;
  int flags = data[0];
  const uint8_t *part[2];
  size_t len[2];
  int n = ll_fuzz_split(data + 1, size - 1, 2, part, len);
  g_autofree char *img = flags & 1 ? ll_fuzz_write_gz("images.gz", part[0], len[0])
                                   : ll_fuzz_write("images", part[0], len[0]);
  g_autofree char *lab = NULL;
  if (n > 1)
    lab = flags & 2 ? ll_fuzz_write_gz("labels.gz", part[1], len[1])
                    : ll_fuzz_write("labels", part[1], len[1]);
  else
    lab = g_strdup(img);
  GError *error = NULL;
  LlDataset *d = ll_dataset_load_idx(img, lab, &error);
  g_assert((d == NULL) == (error != NULL));
  g_clear_error(&error);
  ll_dataset_free(d);
  ll_fuzz_reset();
  return 0;
}
