/* run-report.h: the figures of a finished run, headless (cairo + engine,
 * no GTK): curves from metrics.jsonl, the confusion matrix with its
 * report, reconstructions and the t-SNE of the recorded embeddings from
 * analysis/ (see engine/analysis.h), an architecture diagram and a spec
 * summary. Every figure carries the run id. Used by `layerlab report`,
 * `layerlab export` and the window's export actions. */
#pragma once

#include "confusion-plot.h"
#include "curve-plot.h"
#include "image-grid.h"
#include "run-store.h"
#include "scatter-plot.h"
#include "trainer.h"

G_BEGIN_DECLS

/* Reads run_dir/metrics.jsonl into a loss plot and an accuracy plot
 * (either may come back with no points). */
void ll_run_curves(const LlRunInfo *run, LlCurvePlot **loss, LlCurvePlot **accuracy);
/* Overlays several runs' curve of metric (e.g. "val_loss") on shared axes. */
LlCurvePlot *ll_runs_overlay(GPtrArray *runs, const char *metric);
/* Fills a grid with input | output | |error| rows of an EVAL payload. */
void ll_recon_grid_fill(LlImageGrid *g, const LlEvent *ev);
/* wide: three rows (input, output, error), a column per sample. */
void ll_recon_grid_fill_wide(LlImageGrid *g, const LlEvent *ev, gboolean wide);
/* PCA (to 50) then t-SNE of at most max_points embeddings of ev into xy (n, 2);
 * pca_only: the first two principal components. Returns n, or 0 (error set). */
int ll_embedding_layout(const LlEvent *ev, int max_points, gboolean pca_only, float **xy,
                        GError **error);
/* The classes the embedding's labels take: n_classes, or the largest label
 * + 1 when no head classifies; names from the payload where it has them. */
int ll_embedding_classes(const LlEvent *ev);
/* A layered drawing of the spec's graph: blocks as boxes by depth, edges as lines. */
void ll_architecture_draw(const char *spec_json, cairo_t *cr, double width, double height,
                          const char *run_id);

/* Every figure of the run into dir as format (png, svg, pdf); the paths
 * written are appended to written (may be NULL). */
gboolean ll_run_export_figures(const LlRunInfo *run, const char *dir, const char *format,
                               GPtrArray *written, GError **error);
/* The same; unless overwrite, a figure whose file exists is an error
 * (G_FILE_ERROR_EXIST) and the file is left as it was. */
gboolean ll_run_export_figures_full(const LlRunInfo *run, const char *dir, const char *format,
                                    gboolean overwrite, GPtrArray *written, GError **error);
/* A multi-page PDF report of one run (runs->len == 1) or a comparison. */
gboolean ll_run_report_pdf(GPtrArray *runs, const char *path, GError **error);
/* The words of the report's first page, a line each (the cells of a table
 * row joined by " | "): what a reader sees, for tests and text output. */
char *ll_run_report_first_page_text(GPtrArray *runs);
/* The same pages as PNGs, dir/report-pageN.png at dpi (paths appended to
 * written, may be NULL): to look at a report without a PDF viewer. */
gboolean ll_run_report_png(GPtrArray *runs, const char *dir, double dpi, GPtrArray *written,
                           GError **error);

G_END_DECLS
