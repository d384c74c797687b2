/* ll-transfer-dialog.h: "Initialise from Run": pick a finished run of the
 * store, tick the blocks of its checkpoint to load (each into a graph block
 * of the same name or one chosen from a list), freeze them or not, and see
 * tensor by tensor what matches (ll_checkpoint_preview, the load's own
 * matching). Apply writes training.init_from and the blocks' frozen flags
 * into the document as one undoable edit. */
#pragma once

#include <gtk/gtk.h>

#include "ll-document.h"

G_BEGIN_DECLS

#define LL_TYPE_TRANSFER_DIALOG (ll_transfer_dialog_get_type())
G_DECLARE_FINAL_TYPE(LlTransferDialog, ll_transfer_dialog, LL, TRANSFER_DIALOG, GtkWindow)

/* store_root: where runs are recorded (NULL: the XDG data dir). */
LlTransferDialog *ll_transfer_dialog_new(GtkWindow *parent, LlDocument *doc,
                                         const char *store_root);

/* For tests (the widgets call the same code). */
/* Runs shown (after the search), and the id of the one at a position. */
guint ll_transfer_dialog_get_n_runs(LlTransferDialog *self);
const char *ll_transfer_dialog_get_run_id(LlTransferDialog *self, guint position);
void ll_transfer_dialog_set_search(LlTransferDialog *self, const char *text);
/* Selects the run as a click would; FALSE when it is not listed. */
gboolean ll_transfer_dialog_select_run(LlTransferDialog *self, const char *id);
/* The checkpoint's blocks (NULL-terminated, g_strfreev). */
GStrv ll_transfer_dialog_get_blocks(LlTransferDialog *self);
/* A checkpoint block's row: take it, load it into target (NULL: none), freeze it. */
gboolean ll_transfer_dialog_get_block(LlTransferDialog *self, const char *block, gboolean *take,
                                      const char **target, gboolean *freeze);
gboolean ll_transfer_dialog_set_block(LlTransferDialog *self, const char *block, gboolean take,
                                      const char *target, gboolean freeze);
void ll_transfer_dialog_set_reinit(LlTransferDialog *self, gboolean reinit);
/* The preview of the current choice (LlTransferRow*; NULL before a run is chosen). */
GPtrArray *ll_transfer_dialog_get_rows(LlTransferDialog *self);
/* The message shown in the dialog (NULL when none). */
const char *ll_transfer_dialog_get_error(LlTransferDialog *self);
gboolean ll_transfer_dialog_can_apply(LlTransferDialog *self);
/* As the Apply button: writes the edit and closes; FALSE when it cannot. */
gboolean ll_transfer_dialog_apply(LlTransferDialog *self);

G_END_DECLS
