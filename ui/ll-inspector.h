/* ll-inspector.h: the selected block's properties, generated from its
 * LlBlockDesc: spin buttons (with the descriptor's range) for numbers, a
 * drop-down for choices, a switch for booleans, an entry for shapes, and a
 * "frozen" check. Text is validated as it is typed: an invalid value gets
 * the error style and its message and is not applied. */
#pragma once

#include <gtk/gtk.h>

#include "ll-document.h"

G_BEGIN_DECLS

#define LL_TYPE_INSPECTOR (ll_inspector_get_type())
G_DECLARE_FINAL_TYPE(LlInspector, ll_inspector, LL, INSPECTOR, GtkBox)

GtkWidget *ll_inspector_new(void);
void ll_inspector_set_document(LlInspector *self, LlDocument *doc);
/* Shows a block (NULL: none). */
void ll_inspector_set_block(LlInspector *self, const char *name);
/* The editor widget of a property (tests drive it), or NULL. */
GtkWidget *ll_inspector_get_editor(LlInspector *self, const char *prop);
/* The "Vary this..." button of a property ("type": an activation's type), or
 * NULL. It (and a right-click on the property) emits "vary" with the spec
 * path and the value now as JSON: the window adds a study axis for it. */
GtkWidget *ll_inspector_get_vary_button(LlInspector *self, const char *prop);
/* The message under the properties ("" when the last value was valid). */
const char *ll_inspector_get_message(LlInspector *self);

G_END_DECLS
