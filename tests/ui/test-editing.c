/* test-editing.c: editing that does what it says: a block dropped from the
 * palette onto a wire is spliced into it (the wire lights up while the drag
 * is over it), undone in one step. */
#include <gtk/gtk.h>
#include <string.h>

#include "ll-canvas-geometry.h"
#include "ui-harness.h"

static LlWindow *win;

static LlDocument *doc(void) { return ll_window_get_document(win); }
static LlGraph *graph(void) { return ll_document_get_spec(doc())->graph; }

/* The middle of the wire into block to (its only input), in widget
 * coordinates: halfway along the curve the canvas draws. */
static void wire_middle(const char *from, const char *to, double *wx, double *wy)
{
  double fx, fy, tx, ty;
  g_assert_true(ll_document_get_position(doc(), from, &fx, &fy));
  g_assert_true(ll_document_get_position(doc(), to, &tx, &ty));
  ll_canvas_to_widget(ll_window_get_canvas(win), (fx + tx) / 2 + LL_BLOCK_W / 2,
                      (fy + LL_BLOCK_H + ty) / 2, wx, wy);
}

static gboolean drop(GtkDropTarget *t, const char *type, double x, double y)
{
  GValue v = G_VALUE_INIT;
  g_value_init(&v, G_TYPE_STRING);
  g_value_set_string(&v, type);
  gboolean ok = FALSE;
  g_signal_emit_by_name(t, "drop", &v, x, y, &ok);
  g_value_unset(&v);
  return ok;
}

static void test_drop_on_edge(void)
{
  ll_ui_open_preset(win, "tiny-cnn");
  ll_ui_spin(200);
  LlCanvas *canvas = ll_window_get_canvas(win);
  GtkDropTarget *t = ll_ui_drop_target(GTK_WIDGET(canvas));
  g_assert_nonnull(t);
  guint n0 = graph()->blocks->len;
  double x, y;
  wire_middle("drop1", "conv2", &x, &y);

  /* dragging over the wire lights it up; leaving puts it out */
  GdkDragAction action = 0;
  g_signal_emit_by_name(t, "motion", x, y, &action);
  int input = -1;
  g_assert_cmpstr(ll_canvas_get_drop_edge(canvas, &input), ==, "conv2");
  g_assert_cmpint(input, ==, 0);
  ll_ui_spin(100);
  ll_ui_screenshot(GTK_WIDGET(canvas), "editing-drop-edge.png");
  g_signal_emit_by_name(t, "leave");
  g_assert_null(ll_canvas_get_drop_edge(canvas, NULL));
  /* over a block there is no wire */
  double bx, by;
  ll_document_get_position(doc(), "conv2", &bx, &by);
  ll_canvas_to_widget(canvas, bx + LL_BLOCK_W / 2, by + LL_BLOCK_H / 2, &bx, &by);
  g_signal_emit_by_name(t, "motion", bx, by, &action);
  g_assert_null(ll_canvas_get_drop_edge(canvas, NULL));

  /* the drop splices: the new block reads drop1, conv2 reads the new block */
  g_signal_emit_by_name(t, "motion", x, y, &action);
  g_assert_true(drop(t, "ReLU", x, y));
  g_assert_null(ll_canvas_get_drop_edge(canvas, NULL));
  g_assert_cmpuint(graph()->blocks->len, ==, n0 + 1);
  g_autofree char *added = g_strdup(ll_canvas_get_primary(canvas));
  LlBlock *b = ll_graph_find(graph(), added);
  g_assert_nonnull(b);
  g_assert_cmpstr(b->desc->type, ==, "ReLU");
  g_assert_cmpint(b->n_inputs, ==, 1);
  g_assert_cmpstr(b->input_names[0], ==, "drop1");
  g_assert_cmpstr(ll_graph_find(graph(), "conv2")->input_names[0], ==, added);
  g_assert_null(ll_document_get_error(doc()));
  /* it takes conv2's place, and conv2 moves down: no overlap */
  double ax, ay, cx, cy;
  ll_document_get_position(doc(), added, &ax, &ay);
  ll_document_get_position(doc(), "conv2", &cx, &cy);
  g_assert_cmpfloat(cy - ay, >=, LL_BLOCK_H);

  /* one undo step takes it all back */
  g_action_group_activate_action(G_ACTION_GROUP(win), "undo", NULL);
  g_assert_cmpuint(graph()->blocks->len, ==, n0);
  g_assert_null(ll_graph_find(graph(), added));
  g_assert_cmpstr(ll_graph_find(graph(), "conv2")->input_names[0], ==, "drop1");

  /* a block that takes no input cannot go into a wire: said, nothing changes */
  wire_middle("drop1", "conv2", &x, &y);
  g_assert_false(drop(t, "Input", x, y));
  g_assert_cmpuint(graph()->blocks->len, ==, n0);
  g_assert_cmpstr(ll_graph_find(graph(), "conv2")->input_names[0], ==, "drop1");
  g_assert_nonnull(strstr(ll_window_get_notice(win), "cannot go into"));
}

int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "editing")))
    return 77;
  g_test_add_func("/ui/editing/drop-on-edge", test_drop_on_edge);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}
