/* spec.h: the spec file, a graph plus everything needed to train it, as
 * versioned JSON (format "layerlab-spec", version 1). docs/spec-format.md
 * documents every field. Loading reports errors with file:line:column and
 * the field; saving writes every field, so load(save(s)) == s exactly. */
#pragma once

#include "data.h"
#include "graph.h"
#include "json-doc.h"
#include "optimizer.h"
#include "schedule.h"

G_BEGIN_DECLS

#define LL_SPEC_FORMAT  "layerlab-spec"
#define LL_SPEC_VERSION 1

typedef enum {
  LL_DATASET_IDX_DIR,      /* a folder with the four IDX files (default: Fashion-MNIST) */
  LL_DATASET_IDX,          /* explicit IDX image and label files */
  LL_DATASET_CIFAR,        /* CIFAR-10/100 binary batches */
  LL_DATASET_IMAGE_FOLDER, /* one subfolder per class */
  LL_DATASET_NPY,
  LL_DATASET_CSV,
  LL_DATASET_SYNTHETIC,
} LlDatasetKind;
extern const char *const ll_dataset_kind_names[];

typedef struct {
  LlDatasetKind kind;
  char *path; /* idx-dir, image-folder (train), csv (train) */
  char *train_images, *train_labels, *test_images, *test_labels; /* idx, npy */
  char **train_files, **test_files;                              /* cifar */
  int label_bytes;               /* cifar: 1 (CIFAR-10) or 2 (CIFAR-100) */
  char *test_path;               /* image-folder, csv */
  char *label_column;            /* csv */
  int channels, height, width;   /* image-folder */
  LlSynthConfig synth;           /* synthetic (seed is the run seed + 1 unless set) */
  guint test_n;                  /* synthetic: test samples */
  guint limit_train, limit_test; /* use only the first N samples (0: all) */
} LlDatasetSpec;

typedef enum { LL_LOSS_CROSS_ENTROPY, LL_LOSS_BCE_LOGITS, LL_LOSS_MSE, LL_LOSS_L1 } LlLossKind;
extern const char *const ll_loss_kind_names[];

typedef struct {
  char *output; /* block whose output is the prediction */
  char *target; /* batch field: "label", "mapped", "x" (autoencoders), ... */
  LlLossKind kind;
  double weight;
  double label_smoothing; /* cross-entropy */
} LlLossSpec;

typedef struct {
  char *checkpoint; /* path, or "run:<id>" for a run's best checkpoint */
  char **blocks;    /* graph blocks to load (NULL: all that match) */
  GHashTable *map;  /* checkpoint block name -> graph block name, or NULL */
  gboolean reinit;  /* the "random encoder" control: keep the random init */
} LlInitFrom;

typedef struct {
  char *name;
  char *description;
  LlGraph *graph;
  GHashTable *positions; /* block name -> "x,y" canvas position (UI), may be empty */

  /* data */
  LlDatasetSpec dataset;
  double validation_split;
  LlPipelineConfig pipeline;
  GHashTable *bindings; /* Input block name -> batch field name */

  /* objective */
  GPtrArray *losses; /* LlLossSpec* */

  /* training */
  int epochs;
  int batch_size;
  uint64_t seed;
  char *device; /* "auto", "cpu", "cuda", "cuda:N" */
  int threads;  /* CPU threads (0: all cores) */
  LlOptimConfig optim;
  LlScheduleConfig schedule;
  gboolean early_stopping;
  char *es_metric; /* "val_loss", "val_accuracy" */
  int es_patience;
  double es_min_delta;
  gboolean es_restore_best;
  int checkpoint_every; /* epochs; 0: only the final and best */
  GPtrArray *init_from; /* LlInitFrom* */

  /* what the analysis views record */
  char *embedding_block; /* NULL: none */
  int embedding_samples;
  int reconstruction_samples;
} LlSpec;

/* The name of a spec that names itself nothing. */
#define LL_SPEC_DEFAULT_NAME "untitled"
/* The file format's defaults, for what a spec leaves out: Fashion-MNIST,
 * Adam lr 1e-3 at a constant rate, 10 epochs, batch 128. */
LlSpec *ll_spec_new(void);
/* The training settings of the spec the window's New makes: Adam at 0.01 on
 * a one-cycle schedule peaking at that rate, 3 epochs, batches of 128 (the
 * tiny CNN reaches 88.8 % on Fashion-MNIST with them; README.md, "Training
 * defaults"). A spec file that leaves them out keeps ll_spec_new's. */
void ll_spec_set_new_training(LlSpec *s);
void ll_spec_free(LlSpec *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlSpec, ll_spec_free)

LlSpec *ll_spec_load_file(const char *path, GError **error);
LlSpec *ll_spec_load_data(const char *data, gssize len, const char *display_name, GError **error);
/* For the window, which shows a graph with its mistakes marked: the same,
 * but a graph whose blocks all parse and which fails only its checks (an
 * unconnected port after a block was deleted, shapes that do not fit) still
 * loads as written, so a saved or autosaved draft always opens again. Such
 * an error goes to *graph_error (may be NULL). What is trained must load
 * with ll_spec_load_*. */
LlSpec *ll_spec_load_draft_file(const char *path, GError **graph_error, GError **error);
LlSpec *ll_spec_load_draft_data(const char *data, gssize len, const char *display_name,
                                GError **graph_error, GError **error);
/* Canonical JSON text (two-space indent, every field). */
char *ll_spec_to_json(const LlSpec *s);
gboolean ll_spec_save_file(const LlSpec *s, const char *path, GError **error);
/* SHA-256 of the canonical JSON, first 16 hex digits. */
char *ll_spec_hash(const LlSpec *s);

/* Loads the datasets a spec names; test is NULL when the source has none. */
gboolean ll_dataset_spec_open(const LlDatasetSpec *ds, uint64_t seed, LlDataset **train,
                              LlDataset **test, GError **error);

/* Whether the dataset gives labels (an npy dataset without train_labels
 * does not: its "label" field is all zeros). */
gboolean ll_dataset_spec_has_labels(const LlDatasetSpec *ds);
/* For a spec that names no loss (one built in the window, say): the loss of
 * its single head, guessed only where there is no doubt: cross-entropy
 * against "label" when the dataset has labels and the head's output is not
 * the input's shape; mean squared error against the input "x" (an
 * autoencoder) when the dataset has no labels and the output has the input's
 * shape. Appends it and returns a sentence saying what it chose; NULL with an
 * error asking for a loss otherwise (a head of the input's shape on labelled
 * data could be either), or when the graph has no head or several. */
char *ll_spec_add_default_loss(LlSpec *s, GError **error);
/* A loss of the given kind for the single head: against "x" for mse and l1,
 * "label" otherwise (the window's loss menu). FALSE as above without a head. */
gboolean ll_spec_add_loss(LlSpec *s, LlLossKind kind, GError **error);
/* The loss ll_spec_add_default_loss would add, without adding it. */
gboolean ll_spec_default_loss(const LlSpec *s, char **output, char **target, LlLossKind *kind,
                              GError **error);

/* Whether the graph can train on its losses: every loss (or the default
 * one, for a spec that names none) against its output block and target,
 * in shape, class count and value range. cross_entropy wants one score per
 * class (a vector of exactly the target's classes, no softmax before it),
 * bce_logits one logit per target value and targets of 0 or 1, mse and l1
 * the target's shape. fields (n_fields) are the data's batch fields
 * (ll_pipeline_get_fields); NULL when the data is not read yet: then "x"
 * has the shape of the Input that reads it and "label" is one class index
 * of unknown range, and what cannot be known is not checked. The graph must
 * be inferred. On a mismatch: FALSE, an LL_SPEC_ERROR_MISMATCH error that
 * names the block and the fix ("insert Flatten before linear1",
 * "out_features must be 10 for 10 classes"), and *block (may be NULL) the
 * block it is about. The trainer runs it before training; the window on
 * every edit. */
gboolean ll_spec_check_losses(const LlSpec *s, const LlFieldInfo *fields, int n_fields,
                              const LlBlock **block, GError **error);
/* Blocks whose output feeds nothing and is not an output: no loss reads it
 * and it is not the recorded embedding block (with no loss named, a single
 * head is the output). Input blocks are not counted. Needs resolve. The
 * array does not own the blocks. */
GPtrArray *ll_spec_dangling_blocks(const LlSpec *s);
/* The graph's outputs, as an exported model (ONNX, PyTorch) returns them:
 * the blocks the losses read, in the spec's order and each once; with no
 * loss named, every head (a block that feeds nothing, Inputs aside) in
 * topological order. Needs resolve. The array does not own the blocks. */
GPtrArray *ll_spec_output_blocks(const LlSpec *s);

/* "cross_entropy: logits vs label" for each loss, joined by "; " */
char *ll_spec_describe_losses(const LlSpec *s);

/* Builds the graph part only (used by spec loading and by the UI). */
gboolean ll_spec_parse_graph(const LlJsonDoc *doc, JsonObject *graph_obj, LlGraph *g,
                             GHashTable *positions, GError **error);
JsonNode *ll_spec_graph_to_json(LlGraph *g, GHashTable *positions);

/* training.init_from alone (used by the window's undo): the member
 * "init_from" of o (an array, or absent) parsed into s->init_from (appended;
 * the blocks it names must be in s->graph), and s->init_from as a JSON array. */
gboolean ll_spec_parse_init_from(const LlJsonDoc *doc, JsonObject *o, LlSpec *s, GError **error);
char *ll_spec_init_from_to_json(const LlSpec *s);
void ll_init_from_free(LlInitFrom *f);

G_END_DECLS
