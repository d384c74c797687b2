/* data.h: datasets, the batch pipeline and synthetic generators.
 *
 * A dataset is held in memory as it came (bytes for images, floats for
 * feature tables) and converted per batch. A batch is a set of named float
 * fields, each with a per-sample shape; the spec binds Input blocks and loss
 * targets to field names:
 *
 *   "x"        the features, normalised (images: (C, H, W) in [0,1] or
 *              standardised; tables: (F); sequences: (T, F))
 *   "label"    the class index (or regression value(s)), shape (label_dim)
 *
 * and the fields of the named dataset transforms the configuration enables
 * (engine/dataset-transforms.h): "mapped" (label_map), "rotation"
 * (rotation_task, which also turns x), "random" and "label_plus_random"
 * (random_field).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "block.h"
#include "rng.h"

G_BEGIN_DECLS

#define LL_DATA_ERROR (ll_data_error_quark())
GQuark ll_data_error_quark(void);
typedef enum {
  LL_DATA_ERROR_IO,       /* cannot open or read */
  LL_DATA_ERROR_FORMAT,   /* wrong magic, truncated, inconsistent */
  LL_DATA_ERROR_MISMATCH, /* counts or sizes that do not match */
  LL_DATA_ERROR_LABEL,    /* label out of range */
  LL_DATA_ERROR_CONFIG,   /* a setting that makes no sense for this data */
} LlDataError;

typedef struct {
  char *name;         /* "fashion-mnist", file name, generator name */
  char *source;       /* path or generator description, for the run record */
  guint n;            /* samples */
  LlShape shape;      /* per-sample features */
  guint8 *u8;         /* n * size bytes (images), or NULL */
  float *f32;         /* n * size floats (tables, sequences), or NULL */
  float *labels;      /* n * label_dim */
  int label_dim;      /* 1 for class labels */
  int n_classes;      /* 0 for regression targets */
  char **class_names; /* n_classes names, NULL-terminated, or NULL */
  char **label_names; /* label_dim names of a multi-label target's entries (E8's queries),
                       * NULL-terminated, or NULL */
} LlDataset;

void ll_dataset_free(LlDataset *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlDataset, ll_dataset_free)
size_t ll_dataset_sample_size(const LlDataset *d);
/* A short hex digest of the contents (features and labels). */
char *ll_dataset_fingerprint(const LlDataset *d);

/* Loaders. Each checks the file and names it and the fault in the error. */
/* IDX images + labels, plain or .gz (MNIST, Fashion-MNIST, KMNIST, EMNIST) */
LlDataset *ll_dataset_load_idx(const char *images_path, const char *labels_path, GError **error);
/* CIFAR-10 (label_bytes 1) or CIFAR-100 (2: coarse, fine; fine is used) binary batches */
LlDataset *ll_dataset_load_cifar(const char *const *paths, int label_bytes, GError **error);
/* One subfolder per class, PNG or JPEG, resized to (channels, h, w) */
LlDataset *ll_dataset_load_image_folder(const char *dir, int channels, int h, int w,
                                        GError **error);
/* NPY features (n, F) float32/float64/uint8; labels from a second NPY (n) */
LlDataset *ll_dataset_load_npy(const char *features_path, const char *labels_path, GError **error);
/* CSV with a header; label_column names the label column (others are features) */
LlDataset *ll_dataset_load_csv(const char *path, const char *label_column, GError **error);

/* A named dataset in a folder: "train" and "test" splits of the IDX layout
 * (train-images-idx3-ubyte[.gz], ...). */
gboolean ll_dataset_load_idx_dir(const char *dir, LlDataset **train, LlDataset **test,
                                 GError **error);
#define LL_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Synthetic data, deterministic in the seed. */
typedef enum {
  LL_SYNTH_BLOBS,       /* Gaussian blobs in `features` dims, n_classes classes */
  LL_SYNTH_SPIRALS,     /* 2-D interleaved spirals, n_classes arms */
  LL_SYNTH_CHANGEPOINT, /* E7: sequences (T, 1) whose distribution changes at a random step;
                         * label_dim T: per step, 1 once the change has happened */
  LL_SYNTH_SEQ_MEMORY,  /* E8: sequences of T one-hot symbols (T, vocab); label_dim 2:
                         * [did symbol q appear, did q then q+1 appear], q fixed per set */
} LlSynthKind;

typedef struct {
  LlSynthKind kind;
  guint n;
  int n_classes; /* blobs, spirals */
  int features;  /* blobs */
  int steps;     /* sequences: T */
  int vocab;     /* seq-memory */
  double noise;
  uint64_t seed;
} LlSynthConfig;

LlDataset *ll_dataset_synthesize(const LlSynthConfig *c, GError **error);

/* Seeded split of [0, n) into train / validation index lists (guint32
 * elements, each list sorted; round(n * val_fraction) go to validation). */
void ll_split_indices(guint n, double val_fraction, uint64_t seed, GArray **train, GArray **val);

typedef enum {
  LL_NORM_NONE,        /* raw values (bytes as 0..255) */
  LL_NORM_ZERO_ONE,    /* bytes / 255 */
  LL_NORM_STANDARDIZE, /* per channel mean / std of the training indices */
} LlNormalize;

typedef struct {
  LlNormalize normalize;
  /* augmentation, training batches only */
  int crop_padding;       /* random crop after zero padding by this many pixels (0 off) */
  gboolean hflip;         /* random horizontal flip */
  int cutout;             /* side of a random square set to 0 (0 off) */
  double rotate_degrees;  /* random rotation in [-r, r] (0 off) */
  gboolean rotation_task; /* rotate by k quarter turns, k uniform 0..3, field "rotation" = k */
  /* the dataset transforms (dataset-transforms.h) */
  int *label_map; /* label -> mapped label, n_label_map entries, or NULL */
  int n_label_map;
  gboolean random_field; /* produce "random" and "label_plus_random" */
  int random_min, random_max;
} LlPipelineConfig;

/* Frees label_map (g_malloc'd; ll_pipeline_new copies it) and zeroes c. */
void ll_pipeline_config_clear(LlPipelineConfig *c);

/* A batch: named fields of batch * field_size floats each. */
typedef struct {
  int n;            /* samples in this batch (the last may be short) */
  int capacity;     /* the batch size it was made for */
  GPtrArray *names; /* char* */
  GPtrArray *data;  /* float* */
  GArray *shapes;   /* LlShape, per sample */
} LlBatch;

LlBatch *ll_batch_new(void);
void ll_batch_free(LlBatch *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlBatch, ll_batch_free)
/* The field's data, or NULL. */
float *ll_batch_field(const LlBatch *b, const char *name, LlShape *shape);

/* The fields a pipeline produces and their per-sample shapes. */
typedef struct LlPipeline LlPipeline;

/* stats_indices (may be NULL: all) are the samples normalisation statistics
 * come from, so validation and test data do not leak into them. The
 * pipeline reads d (which must outlive it) and copies c. */
LlPipeline *ll_pipeline_new(const LlDataset *d, const LlPipelineConfig *c,
                            const GArray *stats_indices, GError **error);
void ll_pipeline_free(LlPipeline *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlPipeline, ll_pipeline_free)
/* A pipeline over another dataset of the same kind (the test set) that
 * uses like's configuration and normalisation statistics. */
LlPipeline *ll_pipeline_new_like(const LlPipeline *like, const LlDataset *d, GError **error);
/* Field names and shapes, for checking the spec's bindings before training. */
gboolean ll_pipeline_field_shape(const LlPipeline *p, const char *name, LlShape *shape);
char *ll_pipeline_field_list(const LlPipeline *p); /* "x (1, 28, 28), label (1), ..." */
/* The classes a classifier on this field needs (its largest value + 1):
 * label n_classes, mapped max(map) + 1, rotation 4, random random_max + 1,
 * label_plus_random n_classes + random_max; 0 for x and regression targets
 * (or a negative random_min); -1 when the pipeline has no such field. */
int ll_pipeline_field_classes(const LlPipeline *p, const char *name);
/* A batch field as a loss sees it: its per-sample shape and how many classes
 * its values index (0: not class indices; -1: not known yet). */
typedef struct {
  const char *name;
  LlShape shape;
  int classes;
} LlFieldInfo;
/* Every field's name, shape and classes, as ll_spec_check_losses takes them
 * (names are static strings); returns how many (at most max). */
int ll_pipeline_get_fields(const LlPipeline *p, LlFieldInfo *out, int max);
/* Normalisation as x = (raw - offset[c]) / scale[c]; returns the number of
 * channels (images: C; tables and sequences: the last dimension). For the
 * run record and for showing normalised samples as images. */
int ll_pipeline_norm_stats(const LlPipeline *p, const float **offset, const float **scale);
/* The dataset the pipeline reads (it must outlive the pipeline). */
const LlDataset *ll_pipeline_dataset(const LlPipeline *p);

/* Fills batch with samples indices[0..n): converts, normalises, augments
 * (when train), derives targets. rng drives augmentation and "random".
 * rng may be NULL when train is FALSE: evaluation batches take their
 * quarter turns (rotation task) from a hash of the sample index always, and
 * "random" from that hash when rng is NULL. Safe to call from several
 * threads on different batches. */
void ll_pipeline_fill(const LlPipeline *p, const guint32 *indices, int n, gboolean train,
                      LlRng *rng, LlBatch *batch);

/* Runs fn(arg, chunk, begin, end) over [0, n) cut into chunks of grain items,
 * possibly on several threads, and returns when all are done (a backend's
 * host_parallel_for). */
typedef void (*LlParallelFor)(int n, int grain,
                              void (*fn)(void *arg, int chunk, int begin, int end), void *arg);
/* An evaluation batch (train FALSE, rng NULL: every sample depends on its
 * index alone), its samples split over par when par is not NULL. */
void ll_pipeline_fill_eval(const LlPipeline *p, const guint32 *indices, int n, LlBatch *batch,
                           LlParallelFor par);

/* Iterates over an index list (guint32; NULL: every sample) in batches on a
 * loader thread that prepares the next batch while the current one trains.
 * Batch b of epoch e is the same whatever the timing: its augmentation rng
 * is seeded from (seed, e, b). */
typedef struct LlLoader LlLoader;
LlLoader *ll_loader_new(const LlPipeline *p, const GArray *indices, int batch, gboolean shuffle,
                        gboolean drop_last, gboolean train, uint64_t seed);
/* With on, no loader thread: each ll_loader_next fills its batch on the
 * caller's thread (the same batches), an evaluation batch's samples split
 * over par when it is not NULL (the backend's threads). For a consumer that
 * keeps every core busy itself, evaluation on the CPU, where a thread
 * filling the next batch only preempts one of its own. Before the first
 * epoch starts. */
void ll_loader_set_inline(LlLoader *l, gboolean on, LlParallelFor par);
/* Starts epoch `epoch` (shuffles with seed + epoch). */
void ll_loader_start_epoch(LlLoader *l, int epoch);
/* The next batch, or NULL at the end of the epoch. Owned by the loader,
 * valid until the next call (or ll_loader_start_epoch). Without a started
 * epoch, starts epoch 0. */
const LlBatch *ll_loader_next(LlLoader *l);
int ll_loader_batches_per_epoch(const LlLoader *l);
void ll_loader_free(LlLoader *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlLoader, ll_loader_free)

G_END_DECLS
