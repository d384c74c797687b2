/* json-doc.c: JSON with positions, and typed getters that report them. */
#include "json-doc.h"

#include "untrusted.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_QUARK(ll - spec - error - quark, ll_spec_error)

typedef struct {
  LlJsonDoc *doc;
  GArray *starts; /* packed positions of the objects and arrays being parsed */
} Tracker;

static guint64 pack(int line, int col) { return ((guint64)(guint)line << 32) | (guint)col; }

static guint64 current(JsonParser *p)
{
  return pack((int)json_parser_get_current_line(p), (int)json_parser_get_current_pos(p));
}

static void on_start(JsonParser *p, gpointer data)
{
  Tracker *t = data;
  guint64 pos = current(p);
  g_array_append_val(t->starts, pos);
}

static void record_start(Tracker *t, gpointer key)
{
  if (t->starts->len == 0)
    return;
  guint64 pos = g_array_index(t->starts, guint64, t->starts->len - 1);
  g_array_set_size(t->starts, t->starts->len - 1);
  g_hash_table_insert(t->doc->positions, key, g_memdup2(&pos, sizeof pos));
}

static void on_object_end(JsonParser *p, JsonObject *obj, gpointer data)
{
  record_start(data, obj);
}

static void on_array_end(JsonParser *p, JsonArray *arr, gpointer data) { record_start(data, arr); }

static void remember(Tracker *t, JsonNode *node, guint64 pos)
{
  if (!node)
    return;
  gpointer key = node;
  /* containers are located by where they start */
  if (JSON_NODE_HOLDS_OBJECT(node))
    key = json_node_get_object(node);
  else if (JSON_NODE_HOLDS_ARRAY(node))
    key = json_node_get_array(node);
  guint64 *known = g_hash_table_lookup(t->doc->positions, key);
  g_hash_table_insert(t->doc->positions, node, g_memdup2(known ? known : &pos, sizeof pos));
}

static void on_member(JsonParser *p, JsonObject *obj, const char *name, gpointer data)
{
  remember(data, json_object_get_member(obj, name), current(p));
}

static void on_element(JsonParser *p, JsonArray *arr, guint index, gpointer data)
{
  remember(data, json_array_get_element(arr, index), current(p));
}

static LlJsonDoc *doc_new(const char *display_name, Tracker *t)
{
  LlJsonDoc *doc = g_new0(LlJsonDoc, 1);
  doc->file = g_strdup(display_name);
  doc->parser = json_parser_new_immutable();
  doc->positions = g_hash_table_new_full(NULL, NULL, NULL, g_free);
  t->doc = doc;
  t->starts = g_array_new(FALSE, FALSE, sizeof(guint64));
  g_signal_connect(doc->parser, "object-start", G_CALLBACK(on_start), t);
  g_signal_connect(doc->parser, "array-start", G_CALLBACK(on_start), t);
  g_signal_connect(doc->parser, "object-end", G_CALLBACK(on_object_end), t);
  g_signal_connect(doc->parser, "array-end", G_CALLBACK(on_array_end), t);
  g_signal_connect(doc->parser, "object-member", G_CALLBACK(on_member), t);
  g_signal_connect(doc->parser, "array-element", G_CALLBACK(on_element), t);
  return doc;
}

/* json-glib's messages start "<data>:line:col": name the file instead. */
static void syntax_error(GError **error, const char *display_name, GError *perr)
{
  const char *msg = perr->message;
  if (g_str_has_prefix(msg, "<data>:"))
    msg += strlen("<data>:");
  g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX, "%s:%s", display_name, msg);
  g_error_free(perr);
}

static LlJsonDoc *doc_finish(LlJsonDoc *doc, Tracker *t, gboolean ok, GError *perr, GError **error)
{
  g_signal_handlers_disconnect_matched(doc->parser, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, t);
  g_array_unref(t->starts);
  if (!ok) {
    syntax_error(error, doc->file, perr);
    ll_json_doc_free(doc);
    return NULL;
  }
  doc->root = json_parser_get_root(doc->parser);
  if (!doc->root) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX, "%s:1:1: the file is empty", doc->file);
    ll_json_doc_free(doc);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT(doc->root)) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE, "%s:1:1: expected a JSON object, got %s",
                doc->file, ll_json_type_name(doc->root));
    ll_json_doc_free(doc);
    return NULL;
  }
  return doc;
}

gboolean ll_json_check_bounds(const char *data, gssize len, const char *display_name,
                              GError **error)
{
  size_t n = len < 0 ? strlen(data) : (size_t)len;
  if (n > LL_JSON_MAX_BYTES) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX,
                "%s: %zu bytes, more than the %d MiB LayerLab reads as JSON", display_name, n,
                LL_JSON_MAX_BYTES >> 20);
    return FALSE;
  }
  int depth = 0, line = 1, col = 0;
  gboolean in_string = FALSE, escaped = FALSE;
  /* json-glib reads "[1] [2]" as [2] and leaks [1]: one value per text */
  gboolean in_scalar = FALSE, ended = FALSE;
  for (size_t i = 0; i < n; i++) {
    guchar c = (guchar)data[i];
    if ((c & 0xc0) != 0x80) /* columns count characters, as json-glib's do */
      col++;
    gboolean space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (depth == 0 && !in_string) {
      if (space && in_scalar) {
        in_scalar = FALSE;
        ended = TRUE;
      } else if (!space && c != ']' && c != '}') {
        gboolean opens = c == '"' || c == '[' || c == '{';
        if (ended || (in_scalar && opens)) {
          g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX,
                      "%s:%d:%d: more text after the JSON value (one value per file)",
                      display_name, line, col);
          return FALSE;
        }
        in_scalar = !opens;
      }
    }
    if (c == '\n') {
      line++;
      col = 0;
    } else if (c == '\0') {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX,
                  "%s:%d:%d: a NUL byte (not JSON text)", display_name, line, col);
      return FALSE;
    } else if (in_string) {
      if (escaped) {
        escaped = FALSE;
        if (c == 'u' && n - i > 4 && !memcmp(data + i + 1, "0000", 4)) {
          g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                      "%s:%d:%d: a string holds \\u0000 (a NUL character, which would cut it)",
                      display_name, line, col - 1);
          return FALSE;
        }
      } else if (c == '\\') {
        escaped = TRUE;
      } else if (c == '"') {
        in_string = FALSE;
        ended = ended || depth == 0;
      }
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      if (++depth > LL_JSON_MAX_DEPTH) {
        g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX, "%s:%d:%d: nested deeper than %d",
                    display_name, line, col, LL_JSON_MAX_DEPTH);
        return FALSE;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      ended = --depth == 0;
    }
  }
  return TRUE;
}

gboolean ll_json_read_file(const char *path, char **contents, gsize *len, GError **error)
{
  GStatBuf st;
  if (g_stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > LL_JSON_MAX_BYTES) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX,
                "%s: %" G_GINT64_FORMAT " bytes, more than the %d MiB LayerLab reads as JSON", path,
                (gint64)st.st_size, LL_JSON_MAX_BYTES >> 20);
    return FALSE;
  }
  GError *ioerr = NULL;
  if (!g_file_get_contents(path, contents, len, &ioerr)) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_IO, "%s", ioerr->message);
    g_error_free(ioerr);
    return FALSE;
  }
  return TRUE;
}

gboolean ll_json_parser_load(JsonParser *parser, const char *data, gssize len,
                             const char *display_name, GError **error)
{
  if (!ll_json_check_bounds(data, len, display_name, error))
    return FALSE;
  GError *perr = NULL;
  if (json_parser_load_from_data(parser, data, len, &perr))
    return TRUE;
  syntax_error(error, display_name, perr);
  return FALSE;
}

gboolean ll_json_parser_load_file(JsonParser *parser, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len;
  return ll_json_read_file(path, &contents, &len, error) &&
         ll_json_parser_load(parser, contents, (gssize)len, path, error);
}

JsonNode *ll_json_from_string(const char *text, const char *display_name, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!ll_json_parser_load(parser, text, -1, display_name, error))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (!root) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX, "%s:1:1: no JSON value", display_name);
    return NULL;
  }
  return json_node_ref(root);
}

LlJsonDoc *ll_json_doc_load_data(const char *data, gssize len, const char *display_name,
                                 GError **error)
{
  if (!ll_json_check_bounds(data, len, display_name, error))
    return NULL;
  Tracker t;
  LlJsonDoc *doc = doc_new(display_name, &t);
  GError *perr = NULL;
  gboolean ok = json_parser_load_from_data(doc->parser, data, len, &perr);
  return doc_finish(doc, &t, ok, perr, error);
}

LlJsonDoc *ll_json_doc_load_file(const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len;
  if (!ll_json_read_file(path, &contents, &len, error))
    return NULL;
  if (!g_utf8_validate(contents, (gssize)len, NULL)) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX, "%s: not UTF-8 text", path);
    return NULL;
  }
  return ll_json_doc_load_data(contents, (gssize)len, path, error);
}

void ll_json_doc_free(LlJsonDoc *doc)
{
  if (!doc)
    return;
  g_clear_object(&doc->parser);
  g_hash_table_unref(doc->positions);
  g_free(doc->file);
  g_free(doc);
}

void ll_json_doc_position(const LlJsonDoc *doc, JsonObject *obj, const char *member, int *line,
                          int *col)
{
  gpointer key = obj;
  if (member && obj && json_object_has_member(obj, member))
    key = json_object_get_member(obj, member);
  guint64 *pos = key ? g_hash_table_lookup(doc->positions, key) : NULL;
  if (!pos && obj)
    pos = g_hash_table_lookup(doc->positions, obj);
  *line = pos ? (int)(*pos >> 32) : 0;
  *col = pos ? (int)(*pos & 0xffffffffu) : 0;
}

void ll_json_doc_error(const LlJsonDoc *doc, GError **error, LlSpecError code, JsonObject *obj,
                       const char *member, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  int line, col;
  ll_json_doc_position(doc, obj, member, &line, &col);
  g_set_error(error, LL_SPEC_ERROR, code, "%s:%d:%d: %s", doc->file, line, col, msg);
}

const char *ll_json_type_name(JsonNode *node)
{
  switch (JSON_NODE_TYPE(node)) {
  case JSON_NODE_OBJECT: return "an object";
  case JSON_NODE_ARRAY: return "an array";
  case JSON_NODE_NULL: return "null";
  case JSON_NODE_VALUE:
    switch (json_node_get_value_type(node)) {
    case G_TYPE_INT64: return "an integer";
    case G_TYPE_DOUBLE: return "a number";
    case G_TYPE_BOOLEAN: return "a boolean";
    case G_TYPE_STRING: return "a string";
    default: return "a value";
    }
  }
  return "a value";
}

#define WHERE(where, member)                                                                       \
  (where) && *(where) ? (where) : "", (where) && *(where) ? "." : "", (member)

static gboolean type_error(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                           const char *member, const char *expected, GError **error)
{
  JsonNode *n = json_object_get_member(obj, member);
  ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, obj, member, "%s%s%s: expected %s, got %s",
                    WHERE(where, member), expected, ll_json_type_name(n));
  return FALSE;
}

gboolean ll_json_get_int(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                         const char *member, int64_t def, int64_t min, int64_t max, int64_t *out,
                         GError **error)
{
  JsonNode *n = obj ? json_object_get_member(obj, member) : NULL;
  if (!n) {
    *out = def;
    return TRUE;
  }
  int64_t v;
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64)
    v = json_node_get_int(n);
  else if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_DOUBLE &&
           json_node_get_double(n) == floor(json_node_get_double(n)) &&
           fabs(json_node_get_double(n)) < 9e15)
    v = (int64_t)json_node_get_double(n);
  else
    return type_error(doc, obj, where, member, "an integer", error);
  if (v < min || v > max) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, obj, member,
                      "%s%s%s: %" G_GINT64_FORMAT " is out of range [%" G_GINT64_FORMAT
                      ", %" G_GINT64_FORMAT "]",
                      WHERE(where, member), v, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

gboolean ll_json_get_double(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                            const char *member, double def, double min, double max, double *out,
                            GError **error)
{
  JsonNode *n = obj ? json_object_get_member(obj, member) : NULL;
  if (!n) {
    *out = def;
    return TRUE;
  }
  GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    return type_error(doc, obj, where, member, "a number", error);
  double v = json_node_get_double(n);
  if (!(v >= min && v <= max)) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, obj, member,
                      "%s%s%s: %g is out of range [%g, %g]", WHERE(where, member), v, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

gboolean ll_json_get_bool(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                          const char *member, gboolean def, gboolean *out, GError **error)
{
  JsonNode *n = obj ? json_object_get_member(obj, member) : NULL;
  if (!n) {
    *out = def;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
    return type_error(doc, obj, where, member, "true or false", error);
  *out = json_node_get_boolean(n);
  return TRUE;
}

gboolean ll_json_get_string(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                            const char *member, const char *def, char **out, GError **error)
{
  JsonNode *n = obj ? json_object_get_member(obj, member) : NULL;
  if (!n) {
    *out = g_strdup(def);
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return type_error(doc, obj, where, member, "a string", error);
  *out = g_strdup(json_node_get_string(n));
  return TRUE;
}

gboolean ll_json_get_object(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                            const char *member, JsonObject **out, GError **error)
{
  JsonNode *n = obj ? json_object_get_member(obj, member) : NULL;
  *out = NULL;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return type_error(doc, obj, where, member, "an object", error);
  *out = json_node_get_object(n);
  return TRUE;
}

gboolean ll_json_get_array(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                           const char *member, JsonArray **out, GError **error)
{
  JsonNode *n = obj ? json_object_get_member(obj, member) : NULL;
  *out = NULL;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY(n))
    return type_error(doc, obj, where, member, "an array", error);
  *out = json_node_get_array(n);
  return TRUE;
}

gboolean ll_json_get_choice(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                            const char *member, const char *const *choices, int def, int *out,
                            GError **error)
{
  g_autofree char *s = NULL;
  if (!ll_json_get_string(doc, obj, where, member, NULL, &s, error))
    return FALSE;
  if (!s) {
    *out = def;
    return TRUE;
  }
  for (int i = 0; choices[i]; i++)
    if (g_ascii_strcasecmp(choices[i], s) == 0) {
      *out = i;
      return TRUE;
    }
  g_autofree char *list = g_strjoinv(", ", (char **)choices);
  g_autofree char *shown = ll_excerpt(s, -1);
  ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, obj, member,
                    "%s%s%s: \"%s\" is not one of: %s", WHERE(where, member), shown, list);
  return FALSE;
}

gboolean ll_json_check_members(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                               const char *const *known, GError **error)
{
  g_autoptr(GList) members = json_object_get_members(obj);
  for (GList *l = members; l; l = l->next) {
    const char *m = l->data;
    if (!g_strv_contains(known, m)) {
      g_autofree char *list = g_strjoinv(", ", (char **)known);
      g_autofree char *shown = ll_excerpt(m, -1);
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_UNKNOWN, obj, m,
                        "%s%sunknown field \"%s\" (known: %s)", where && *where ? where : "",
                        where && *where ? ": " : "", shown, list);
      return FALSE;
    }
  }
  return TRUE;
}
