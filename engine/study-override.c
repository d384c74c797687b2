/* study-override.c: editing a spec's JSON tree by path, and block groups
 * repeated for depth ablations. */
#include <string.h>

#include "study.h"

#include "json-writer.h"

/* json_node_copy shares objects and arrays; variants need their own trees. */
JsonNode *ll_json_node_dup(JsonNode *n)
{
  if (JSON_NODE_HOLDS_OBJECT(n)) {
    JsonObject *src = json_node_get_object(n), *dst = json_object_new();
    GList *members = json_object_get_members(src);
    for (GList *l = members; l; l = l->next)
      json_object_set_member(dst, l->data, ll_json_node_dup(json_object_get_member(src, l->data)));
    g_list_free(members);
    JsonNode *out = json_node_init_object(json_node_alloc(), dst);
    json_object_unref(dst);
    return out;
  }
  if (JSON_NODE_HOLDS_ARRAY(n)) {
    JsonArray *src = json_node_get_array(n), *dst = json_array_new();
    for (guint i = 0; i < json_array_get_length(src); i++)
      json_array_add_element(dst, ll_json_node_dup(json_array_get_element(src, i)));
    JsonNode *out = json_node_init_array(json_node_alloc(), dst);
    json_array_unref(dst);
    return out;
  }
  if (JSON_NODE_HOLDS_NULL(n))
    return json_node_init_null(json_node_alloc());
  GValue v = G_VALUE_INIT;
  json_node_get_value(n, &v);
  JsonNode *out = json_node_alloc();
  json_node_init(out, JSON_NODE_VALUE);
  json_node_set_value(out, &v);
  g_value_unset(&v);
  return out;
}

static gboolean set_in_object(JsonObject *o, char **parts, const char *path, JsonNode *value,
                              GError **error);

/* parts[0] is a block name (or "*") inside graph.blocks */
static gboolean set_in_blocks(JsonArray *blocks, char **parts, const char *path, JsonNode *value,
                              GError **error)
{
  if (!parts[0] || !parts[1]) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "override \"%s\": name a block and a field (graph.blocks.NAME.props.PROP)", path);
    return FALSE;
  }
  gboolean any = !strcmp(parts[0], "*");
  guint hits = 0;
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    JsonObject *b = json_array_get_object_element(blocks, i);
    if (!b)
      continue;
    const char *name = json_object_get_string_member_with_default(b, "name", "");
    if (any) {
      /* every block whose type has the property */
      const LlBlockDesc *d =
          ll_block_lookup(json_object_get_string_member_with_default(b, "type", ""));
      if (!d || strcmp(parts[1], "props") || !parts[2] || !ll_block_desc_prop(d, parts[2], NULL))
        continue;
    } else if (strcmp(name, parts[0])) {
      continue;
    }
    if (!set_in_object(b, parts + 1, path, value, error))
      return FALSE;
    hits++;
  }
  if (hits == 0) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                any ? "override \"%s\": no block has that property"
                    : "override \"%s\": the graph has no block named \"%s\"",
                path, parts[0]);
    return FALSE;
  }
  return TRUE;
}

static gboolean set_in_object(JsonObject *o, char **parts, const char *path, JsonNode *value,
                              GError **error)
{
  if (!parts[0] || !*parts[0]) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "override \"%s\": empty path part",
                path);
    return FALSE;
  }
  if (!parts[1]) {
    json_object_set_member(o, parts[0], ll_json_node_dup(value));
    return TRUE;
  }
  JsonNode *child = json_object_get_member(o, parts[0]);
  if (child && JSON_NODE_HOLDS_ARRAY(child) && !strcmp(parts[0], "blocks"))
    return set_in_blocks(json_node_get_array(child), parts + 1, path, value, error);
  if (child && !JSON_NODE_HOLDS_OBJECT(child)) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE,
                "override \"%s\": \"%s\" is %s, not an object", path, parts[0],
                ll_json_type_name(child));
    return FALSE;
  }
  if (!child) {
    child = json_node_init_object(json_node_alloc(), json_object_new());
    json_object_unref(json_node_get_object(child));
    json_object_set_member(o, parts[0], child);
  }
  return set_in_object(json_node_get_object(child), parts + 1, path, value, error);
}

gboolean ll_spec_json_set(JsonNode *root, const char *path, JsonNode *value, GError **error)
{
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE,
                "override \"%s\": the spec is not a "
                "JSON object",
                path);
    return FALSE;
  }
  g_auto(GStrv) parts = g_strsplit(path, ".", -1);
  static const char *const top[] = {"name",   "description", "graph",  "data", "inputs",
                                    "losses", "training",    "record", NULL};
  if (!parts[0] || !g_strv_contains(top, parts[0])) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_UNKNOWN,
                "override \"%s\": a spec has no field \"%s\" (graph, data, inputs, losses, "
                "training, record)",
                path, parts[0] ? parts[0] : "");
    return FALSE;
  }
  return set_in_object(json_node_get_object(root), parts, path, value, error);
}

char *ll_spec_json_override(const char *spec_json, const char *path, JsonNode *value,
                            GError **error)
{
  g_autoptr(JsonParser) p = json_parser_new();
  if (!ll_json_parser_load(p, spec_json, -1, "spec", error))
    return NULL;
  JsonNode *root = json_parser_get_root(p);
  if (!ll_spec_json_set(root, path, value, error))
    return NULL;
  return ll_json_node_to_text(root, FALSE);
}
