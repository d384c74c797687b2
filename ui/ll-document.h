/* ll-document.h: the spec being edited, with undo and redo.
 *
 * Every edit of the graph goes through here: the document snapshots the
 * graph (its JSON, positions included) before the edit, applies it to the
 * LlSpec, then resolves and infers the graph again so the canvas and the
 * summary see shapes, or the block in error and its message, and checks
 * the losses against the graph and the data (ll_spec_check_losses). An edit that
 * leaves the graph invalid is still an edit (the user fixes it next, or
 * undoes it). Views listen to "changed"; "replaced" follows it when another
 * spec took the document's place (New, Open, a restored autosave). */
#pragma once

#include <gio/gio.h>

#include "spec.h"
#include "summary.h"

G_BEGIN_DECLS

#define LL_TYPE_DOCUMENT (ll_document_get_type())
G_DECLARE_FINAL_TYPE(LlDocument, ll_document, LL, DOCUMENT, GObject)

LlDocument *ll_document_new(void);
/* A new spec: the default training settings and one Input block. */
void ll_document_reset(LlDocument *doc);
gboolean ll_document_load_file(LlDocument *doc, const char *path, GError **error);
/* Takes the text of a spec (used by autosave restore and tests). */
gboolean ll_document_load_data(LlDocument *doc, const char *json, const char *display_name,
                               GError **error);
gboolean ll_document_save_file(LlDocument *doc, const char *path, GError **error);
const char *ll_document_get_path(LlDocument *doc); /* NULL until saved or opened */
/* Whether the document holds edits that no file has (the window asks Save /
 * Discard / Cancel before replacing or closing such a document). */
gboolean ll_document_get_modified(LlDocument *doc);
/* Marks edits no file has, e.g. a spec restored from the autosave. */
void ll_document_mark_modified(LlDocument *doc);
/* The edits are in a file that is not the spec's own (the study the spec
 * is the base of was saved): no longer modified. */
void ll_document_mark_saved(LlDocument *doc);
/* Removes the autosave (when autosave is on): saving, loading or resetting
 * the document does so itself; the window calls it when the user discards. */
void ll_document_forget_autosave(LlDocument *doc);

LlSpec *ll_document_get_spec(LlDocument *doc);
/* The graph's error (NULL when it infers), and the block it is about (may be NULL). */
const GError *ll_document_get_error(LlDocument *doc);
const char *ll_document_get_error_block(LlDocument *doc);
/* The summary of the graph; with an error, the blocks upstream of it keep
 * their figures (LlSummaryRow.status). NULL when no block is ordered. */
const LlSummary *ll_document_get_summary(LlDocument *doc);
/* Blocks whose output feeds nothing and is not an output (NULL-terminated,
 * NULL when none; only known while the graph has no error). */
const char *const *ll_document_get_dangling(LlDocument *doc);
/* Whether the loss check has the data's fields (read on a worker after the
 * data settings change); before, it checks what the graph alone says. */
gboolean ll_document_data_known(LlDocument *doc);

/* Edits (each one undoable). Names are block names. add_block connects the
 * new block after connect_from (may be NULL); when exactly one block reads
 * connect_from, the new block is spliced into that edge: the old consumer
 * reads the new block. */
char *ll_document_add_block(LlDocument *doc, const char *type, double x, double y,
                            const char *connect_from, GError **error);
/* Puts a new block into the edge that feeds input port input of block to
 * (a drop onto a wire): the new block reads what to read there, and to
 * reads the new block. One undoable edit; returns the new name. */
char *ll_document_splice_block(LlDocument *doc, const char *type, const char *to, int input,
                               GError **error);
gboolean ll_document_connect(LlDocument *doc, const char *from, const char *to, GError **error);
void ll_document_disconnect(LlDocument *doc, const char *to, int input);
void ll_document_delete_blocks(LlDocument *doc, const char *const *names);
gboolean ll_document_set_prop(LlDocument *doc, const char *block, const char *prop,
                              const char *value, GError **error);
void ll_document_set_frozen(LlDocument *doc, const char *block, gboolean frozen);
/* record.embedding_block, the block whose outputs a run records for the
 * t-SNE view (NULL: the engine's choice), as one undoable edit. */
void ll_document_set_embedding_block(LlDocument *doc, const char *block);
/* The weight (>= 0) of losses[index] in the summed loss, one undoable edit
 * (a run of changes to the same weight is one). */
gboolean ll_document_set_loss_weight(LlDocument *doc, guint index, double weight, GError **error);
/* One edit: entry (taken; may be NULL) replaces the spec's init_from entries
 * with the same checkpoint, or is appended; the blocks in freeze are frozen,
 * those in thaw not (both NULL-terminated, may be NULL). */
void ll_document_set_init_from(LlDocument *doc, LlInitFrom *entry, const char *const *freeze,
                               const char *const *thaw);
/* Moving is one edit from begin to end; set_position in between only redraws. */
void ll_document_begin_move(LlDocument *doc);
void ll_document_set_position(LlDocument *doc, const char *block, double x, double y);
void ll_document_end_move(LlDocument *doc);
gboolean ll_document_get_position(LlDocument *doc, const char *block, double *x, double *y);
/* Lays blocks out in layers by topological depth. */
void ll_document_auto_layout(LlDocument *doc);
/* Copy and paste: the blocks as graph JSON; pasting renames on clashes and
 * keeps connections among the pasted blocks. Returns the new names. */
char *ll_document_copy_blocks(LlDocument *doc, const char *const *names);
GStrv ll_document_paste_blocks(LlDocument *doc, const char *json, double dx, double dy,
                               GError **error);
/* Training settings changed from the training panel (not undoable). */
void ll_document_settings_changed(LlDocument *doc);

gboolean ll_document_can_undo(LlDocument *doc);
gboolean ll_document_can_redo(LlDocument *doc);
void ll_document_undo(LlDocument *doc);
void ll_document_redo(LlDocument *doc);

/* Where autosave writes: each document its own file, so that several
 * windows never overwrite each other's work:
 * $XDG_STATE_HOME/layerlab/autosave/<pid>-<uuid>.json */
char *ll_document_autosave_dir(void);
char *ll_document_autosave_path(LlDocument *doc);
/* The autosaves left by documents that are gone (a crash, a window closed
 * without the question): not this process's open documents, nor those of
 * another LayerLab that still runs. Newest first. */
GPtrArray *ll_document_list_autosaves(void);
/* Loads an autosave and takes its file over (marked modified). */
gboolean ll_document_restore_autosave(LlDocument *doc, const char *path, GError **error);

G_END_DECLS
