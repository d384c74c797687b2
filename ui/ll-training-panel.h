/* ll-training-panel.h: the training settings of the spec (dataset,
 * optimizer and learning rate, epochs, batch size, seed, device, early
 * stopping, each loss's weight when there are several) and the run
 * controls (Start, Pause, Stop, which activate the window's win.train-*
 * actions) with a progress bar and each head's latest metrics. */
#pragma once

#include <gtk/gtk.h>

#include "ll-document.h"

G_BEGIN_DECLS

#define LL_TYPE_TRAINING_PANEL (ll_training_panel_get_type())
G_DECLARE_FINAL_TYPE(LlTrainingPanel, ll_training_panel, LL, TRAINING_PANEL, GtkBox)

GtkWidget *ll_training_panel_new(void);
void ll_training_panel_set_document(LlTrainingPanel *self, LlDocument *doc);
/* The device the user picked ("cpu", "cuda:0"). */
const char *ll_training_panel_get_device(LlTrainingPanel *self);
void ll_training_panel_set_running(LlTrainingPanel *self, gboolean running, gboolean paused);
/* Why Start is disabled, or what it does. */
void ll_training_panel_set_start_tooltip(LlTrainingPanel *self, const char *text);
void ll_training_panel_set_progress(LlTrainingPanel *self, double fraction, const char *text);
void ll_training_panel_set_status(LlTrainingPanel *self, const char *text);
const char *ll_training_panel_get_progress_text(LlTrainingPanel *self);
/* Each head's latest metrics ("digit accuracy 97.12% · sum MSE 0.21"; NULL
 * or "" hides the line), and the line shown. */
void ll_training_panel_set_metrics(LlTrainingPanel *self, const char *text);
const char *ll_training_panel_get_metrics(LlTrainingPanel *self);
/* The weight spin button of losses[index] (shown when the spec has several
 * losses), else NULL. */
GtkSpinButton *ll_training_panel_get_loss_weight(LlTrainingPanel *self, guint index);

G_END_DECLS
