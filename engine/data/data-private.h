/* data-private.h: helpers shared by the dataset loaders (not part of the
 * engine's API). */
#pragma once

#include "data.h"

G_BEGIN_DECLS

/* Sets an LL_DATA_ERROR whose message starts with the file's base name:
 * "train-labels-idx1-ubyte.gz: holds 59999 labels ...". */
void ll_data_error_file(GError **error, LlDataError code, const char *path, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* Reads a whole file, inflating it when it is gzip-compressed (zlib reads
 * plain files unchanged). *len receives the inflated size. */
guint8 *ll_data_read_file(const char *path, size_t *len, GError **error);

/* A zeroed dataset with room for n samples of `shape`: u8 when `bytes`,
 * else f32; labels n * label_dim. Returns NULL (and sets error) when the
 * sizes overflow or are absurd. */
LlDataset *ll_dataset_alloc(const char *name, const char *source, guint n, LlShape shape,
                            gboolean bytes, int label_dim, const char *path, GError **error);

/* Big-endian 32-bit read (IDX headers). */
static inline guint32 ll_read_be32(const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

/* SplitMix64 finaliser: a well-mixed 64-bit hash of x, used to derive
 * per-batch and per-sample seeds. */
static inline uint64_t ll_data_mix64(uint64_t x)
{
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

G_END_DECLS
