/* ll-training-panel.h: the training settings of the spec (dataset,
 * optimizer and learning rate, epochs, batch size, seed, device, early
 * stopping) and the run controls (Start, Pause, Stop, which activate the
 * window's win.train-* actions) with a progress bar. */
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

G_END_DECLS
