/* onnx-missing.c: the ONNX calls of a build without protobuf-c or the ONNX
 * schema (see engine/meson.build): each says so. */
#include "onnx.h"

G_DEFINE_QUARK(ll - onnx - error - quark, ll_onnx_error)

gboolean ll_onnx_available(void) { return FALSE; }

static void unavailable(GError **error)
{
  g_set_error(error, LL_ONNX_ERROR, LL_ONNX_ERROR_UNAVAILABLE,
              "this build of LayerLab has no ONNX support (it was built without protobuf-c or "
              "the ONNX schema: install libprotobuf-c-dev, protobuf-c-compiler and libonnx-dev, "
              "then build again)");
}

gboolean ll_onnx_export_checkpoint(const char *checkpoint, const char *path, GError **error)
{
  unavailable(error);
  return FALSE;
}

gboolean ll_onnx_export_graph(const LlSpec *spec, LlGraph *g, GHashTable *metadata,
                              const char *path, GError **error)
{
  unavailable(error);
  return FALSE;
}

LlSpec *ll_onnx_import(const char *path, const char *checkpoint, GError **error)
{
  unavailable(error);
  return NULL;
}

LlSpec *ll_onnx_import_data(const guint8 *data, gsize len, const char *display_name,
                            const char *checkpoint, GError **error)
{
  unavailable(error);
  return NULL;
}
