/* ll-analysis-view.h: the analysis views of one run, live while it trains
 * and for any finished run: confusion matrix with its report (click a cell
 * for a gallery of those test samples by confidence), reconstructions,
 * sample predictions and a t-SNE / PCA of the recorded embeddings (worker
 * thread, drawn as it optimises, pan / zoom / hover). An epoch scrubber
 * moves through the payloads; every view exports to PNG / SVG / PDF, and the
 * run's figures and PDF report export from here. GTK adapters over ui/plot. */
#pragma once

#include <gtk/gtk.h>

#include "run-store.h"
#include "trainer.h"

#include "image-grid.h"

G_BEGIN_DECLS

#define LL_TYPE_ANALYSIS_VIEW (ll_analysis_view_get_type())
G_DECLARE_FINAL_TYPE(LlAnalysisView, ll_analysis_view, LL, ANALYSIS_VIEW, GtkBox)

GtkWidget *ll_analysis_view_new(void);
/* Starts over for a run (live: payloads arrive with add_event). run_dir,
 * spec_json may be NULL (then no images, no figure export). */
void ll_analysis_view_set_run(LlAnalysisView *self, const char *run_id, const char *run_dir,
                              const char *spec_json);
/* The spec of the run shown, as given to ll_analysis_view_set_run (for tests). */
const char *ll_analysis_view_get_spec_json(LlAnalysisView *self);
/* No run: another document is open. */
void ll_analysis_view_clear(LlAnalysisView *self);
/* Takes ownership of an LL_EVENT_EVAL. Follows the newest unless the user
 * scrubbed back. The first payload picks the page: the confusion matrix
 * when it has one, else the reconstructions (an autoencoder's). */
void ll_analysis_view_add_event(LlAnalysisView *self, LlEvent *ev);
/* Loads a finished run's analysis/ folder. */
gboolean ll_analysis_view_load_run(LlAnalysisView *self, const LlRunInfo *run, GError **error);
/* Where runs are recorded (NULL: the XDG data dir), for export. */
void ll_analysis_view_set_store_root(LlAnalysisView *self, const char *root);

/* For tests: the pages are "confusion", "reconstructions", "predictions", "tsne". */
void ll_analysis_view_show_page(LlAnalysisView *self, const char *page);
const char *ll_analysis_view_get_page(LlAnalysisView *self);
guint ll_analysis_view_get_n_payloads(LlAnalysisView *self);
void ll_analysis_view_select_payload(LlAnalysisView *self, guint index);
/* Opens the gallery of cell (row, col) of the current payload; returns its images. */
int ll_analysis_view_open_cell(LlAnalysisView *self, int row, int col);
/* Starts the t-SNE (or PCA) of the current payload; TRUE once one has finished. */
void ll_analysis_view_run_tsne(LlAnalysisView *self, gboolean pca_only);
gboolean ll_analysis_view_tsne_done(LlAnalysisView *self);
/* The scrubber's label: which payload is shown ("validation set, epoch 3 of 10"). */
const char *ll_analysis_view_get_epoch_text(LlAnalysisView *self);
int ll_analysis_view_get_n_predictions_shown(LlAnalysisView *self);
gboolean ll_analysis_view_images_ready(LlAnalysisView *self);
/* For tests: payload index (NULL past the end), the payload the t-SNE shows,
 * hovering a t-SNE point (-1: none), and the grid a view shows: "gallery",
 * "predictions", "reconstructions" or "hover" (the hovered point's sample). */
const LlEvent *ll_analysis_view_get_payload(LlAnalysisView *self, guint index);
const LlEvent *ll_analysis_view_get_tsne_payload(LlAnalysisView *self);
void ll_analysis_view_hover_point(LlAnalysisView *self, int point);
LlImageGrid *ll_analysis_view_get_grid(LlAnalysisView *self, const char *which);
/* Writes the current page's figure (by extension): a PNG of width x height
 * pixels with text sized for dpi; SVG and PDF with the same layout. */
gboolean ll_analysis_view_export_current(LlAnalysisView *self, const char *path, double width,
                                         double height, double dpi, GError **error);

/* t-SNE of any block's outputs: a forward pass over the test set with the
 * run's saved weights, on a worker. */
void ll_analysis_view_embed_block(LlAnalysisView *self, const char *block);
gboolean ll_analysis_view_embedding_busy(LlAnalysisView *self);
/* Chooses the block the Embed button embeds (the picker's entry). */
void ll_analysis_view_set_embed_block(LlAnalysisView *self, const char *block);
/* The block the picker shows (NULL: none). */
const char *ll_analysis_view_get_embed_block(LlAnalysisView *self);
GtkWidget *ll_analysis_view_get_embed_button(LlAnalysisView *self);
/* The t-SNE page's "every N epochs" (0 reads "never"). */
GtkSpinButton *ll_analysis_view_get_every(LlAnalysisView *self);
/* The drawing area of the current page (the matrix on the confusion page). */
GtkWidget *ll_analysis_view_get_plot_area(LlAnalysisView *self);
/* The confusion page's figure (for tests: its report and binary lines). */
struct LlConfusionPlot *ll_analysis_view_get_confusion(LlAnalysisView *self);
/* The title of a page's figure ("confusion", "reconstructions", "tsne"). */
const char *ll_analysis_view_get_title(LlAnalysisView *self, const char *page);
/* The t-SNE page's status line. */
const char *ll_analysis_view_get_tsne_status(LlAnalysisView *self);

G_END_DECLS
