/* event.h: what a trainer publishes (LlEvent) and the names of its metrics.
 *
 * Events are plain data: the training thread fills one, and every consumer
 * (the window, the command line, a study, the run recorder) reads it. */
#pragma once

#include "block.h" /* LlShape */

G_BEGIN_DECLS

typedef enum {
  LL_EVENT_STARTED,  /* run_id, message: device and data summary */
  LL_EVENT_BATCH,    /* epoch, step, loss (mean since the last batch event), lr */
  LL_EVENT_EPOCH,    /* epoch, metrics (train_loss, val_loss, val_accuracy, ...), ips, elapsed */
  LL_EVENT_EVAL,     /* the analysis payload: of the validation set after each epoch
                        (split "val", epoch set) and of the test set at the end ("test") */
  LL_EVENT_LOG,      /* message */
  LL_EVENT_FINISHED, /* metrics (test_loss, test_accuracy, ...), checkpoint */
  LL_EVENT_FAILED,   /* message */
  LL_EVENT_STOPPED,  /* stopped by the user; checkpoint */
} LlEventKind;

typedef struct {
  char *name;
  double value;
} LlMetric;

typedef struct {
  LlEventKind kind;
  char *run_id;
  int epoch; /* 1-based */
  int epochs;
  int64_t step; /* global, 1-based */
  int steps_per_epoch;
  double loss, lr;
  double images_per_second;
  double elapsed;  /* seconds since the run started */
  double eta;      /* seconds left, estimated */
  GArray *metrics; /* LlMetric */
  char *message;
  gboolean spec_mismatch; /* FAILED: the graph does not fit its losses or data */
  char *checkpoint;

  /* LL_EVENT_EVAL */
  char *split; /* "val" or "test" */
  int n_classes;
  char **class_names;              /* may be NULL */
  int64_t *confusion;              /* n_classes x n_classes, row = true class */
  double *precision, *recall, *f1; /* per class */
  int64_t *support;
  gboolean binary; /* the matrix is a one-logit BCE head's at threshold 0.5: class 1 is the
                    * positive class (logit > 0), and roc_auc is its ROC AUC (NAN when the
                    * split holds one class only) */
  double roc_auc;
  int n_recon; /* reconstruction samples */
  LlShape recon_shape;
  float *recon_input, *recon_output; /* n_recon x size */
  int *recon_index;                  /* n_recon: each sample's index (see from_test_set) */
  char *embed_block;                 /* the block the embeddings are the outputs of */
  int n_embed, embed_dim;            /* embeddings of record.embedding_block */
  float *embeddings;                 /* n_embed x embed_dim */
  int *embed_labels;
  int *embed_index; /* n_embed: each row's sample index in the dataset (see from_test_set) */
  /* per-sample predictions of the first classification head (test only); of a binary
   * head: class 1 when the logit is > 0, pred_conf the sigmoid probability of that class */
  int n_pred;
  int *pred_index; /* sample index in the dataset the split comes from */
  int *pred_true, *pred_class;
  float *pred_conf;       /* softmax probability of the predicted class */
  gboolean from_test_set; /* indices refer to the test dataset (else the training dataset) */
} LlEvent;

/* An event of that kind with no metrics yet (roc_auc NAN). */
LlEvent *ll_event_new(LlEventKind kind);
/* Appends the metric name = value. */
void ll_event_add_metric(LlEvent *e, const char *name, double value);
void ll_event_free(LlEvent *e);
/* A deep copy, for handing an event to another thread. */
LlEvent *ll_event_dup(const LlEvent *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlEvent, ll_event_free)
/* The metric's value, or NAN. */
double ll_event_metric(const LlEvent *e, const char *name);
/* Metric names. Every split's metrics are "<split>_<what>" (split train,
 * val or test): loss, accuracy (the first classification head), loss_<head>
 * (each loss's weighted value when there are several), and, in a graph with
 * several losses, each head's own metric under its name: <head>_accuracy
 * for a classification head (and for a regression head on an integer
 * target: the rounded prediction hits it), <head>_mse for a regression head.
 * A BCE head of 2 to 8 outputs (E8's queries) also gives each output's
 * accuracy as <head>.<entry>_accuracy, the entry named by the dataset
 * (LlDataset.label_names) or by its index. A binary head (BCE on one logit)
 * that the analysis shows adds precision, recall, f1 (of class 1 at
 * threshold 0.5) and auc (ROC AUC). */
/* Whether a larger value of the metric is better (accuracy, auc, f1,
 * precision, recall); else smaller is (losses, mse). */
gboolean ll_metric_higher_is_better(const char *name);
/* A binary head's report metrics, in this order: precision, recall, f1, auc. */
extern const char *const ll_binary_metric_names[4];
/* Splits a per-head metric name "<split>_<head>_<kind>" (kind accuracy or
 * mse; head not empty, so "test_accuracy" is none). Any out may be NULL
 * (g_free the others). */
gboolean ll_metric_parse_head(const char *name, char **split, char **head, char **kind);
/* Whether name is one of split's metrics that the per-head summaries show
 * (the panel, the Runs table, reports): a head's (ll_metric_parse_head) or a
 * binary head's precision, recall, f1 or auc. */
gboolean ll_metric_is_head_report(const char *name, const char *split);
/* A short label for such a metric, without its split: "sum accuracy", "sum
 * MSE", "ROC AUC", "F1" (g_free). */
char *ll_metric_label(const char *name);
/* Its value as the views show it: accuracies in percent ("97.12%"), the
 * rest with 4 significant digits (g_free). */
char *ll_metric_format(const char *name, double value);
/* "digit accuracy 97.12% · sum accuracy 88.00% · sum MSE 0.2131" of every
 * metric of e that ll_metric_is_head_report shows for split; NULL when none. */
char *ll_event_heads_text(const LlEvent *e, const char *split);

/* {"event":"epoch","epoch":1,...} on one line, without a newline. */
char *ll_event_to_json(const LlEvent *e);

G_END_DECLS
