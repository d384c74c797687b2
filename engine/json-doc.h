/* json-doc.h: a parsed JSON document that remembers where each value was,
 * so errors about a spec's content can point at file:line:column.
 *
 * json-glib keeps no positions in its nodes; LlJsonDoc records them from the
 * parser's signals while parsing (the line and column where each object or
 * array starts, and where each scalar member ends). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define LL_SPEC_ERROR (ll_spec_error_quark())
GQuark ll_spec_error_quark(void);
typedef enum {
  LL_SPEC_ERROR_IO,
  LL_SPEC_ERROR_SYNTAX,  /* not JSON */
  LL_SPEC_ERROR_TYPE,    /* a field of the wrong JSON type */
  LL_SPEC_ERROR_VALUE,   /* a value out of range or not among the choices */
  LL_SPEC_ERROR_UNKNOWN, /* an unknown field */
  LL_SPEC_ERROR_MISSING, /* a required field is absent */
  LL_SPEC_ERROR_GRAPH,   /* the graph is not valid (message names the block) */
  LL_SPEC_ERROR_VERSION,
  LL_SPEC_ERROR_MISMATCH, /* the graph does not fit its losses or data (ll_spec_check_losses) */
} LlSpecError;

typedef struct {
  char *file; /* display name for errors */
  JsonParser *parser;
  JsonNode *root;
  GHashTable *positions; /* JsonNode*, JsonObject* or JsonArray* -> packed line, column */
} LlJsonDoc;

/* Every JSON text LayerLab reads goes through these bounds before json-glib
 * parses it (json-glib recurses once per nesting level, without limit, and a
 * string's \u0000 silently cuts it): at most LL_JSON_MAX_BYTES, nested at
 * most LL_JSON_MAX_DEPTH deep, no NUL character (raw or escaped). The text
 * is scanned once, strings and escapes respected; errors are
 * "name:line:column: nested deeper than N" (LL_SPEC_ERROR_SYNTAX). */
#define LL_JSON_MAX_DEPTH 128
#define LL_JSON_MAX_BYTES (64 * 1024 * 1024)
gboolean ll_json_check_bounds(const char *data, gssize len, const char *display_name,
                              GError **error);
/* Reads a JSON file of at most LL_JSON_MAX_BYTES (checked before reading). */
gboolean ll_json_read_file(const char *path, char **contents, gsize *len, GError **error);
/* json_parser_load_from_data after ll_json_check_bounds; errors name display_name. */
gboolean ll_json_parser_load(JsonParser *parser, const char *data, gssize len,
                             const char *display_name, GError **error);
gboolean ll_json_parser_load_file(JsonParser *parser, const char *path, GError **error);
/* json_from_string after the bounds: the root node, or NULL and the error. */
JsonNode *ll_json_from_string(const char *text, const char *display_name, GError **error);

LlJsonDoc *ll_json_doc_load_file(const char *path, GError **error);
LlJsonDoc *ll_json_doc_load_data(const char *data, gssize len, const char *display_name,
                                 GError **error);
void ll_json_doc_free(LlJsonDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlJsonDoc, ll_json_doc_free)

/* The position of a member of obj, or of obj itself when member is NULL. */
void ll_json_doc_position(const LlJsonDoc *doc, JsonObject *obj, const char *member, int *line,
                          int *col);

/* Sets error to "file:line:col: <what>: <message>" for obj.member. */
void ll_json_doc_error(const LlJsonDoc *doc, GError **error, LlSpecError code, JsonObject *obj,
                       const char *member, const char *fmt, ...) G_GNUC_PRINTF(6, 7);

/* Typed getters: absent members give the default; a member of the wrong type
 * or out of range is an error with its location. `where` prefixes the
 * message (e.g. "training.optimizer"). */
gboolean ll_json_get_int(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                         const char *member, int64_t def, int64_t min, int64_t max, int64_t *out,
                         GError **error);
gboolean ll_json_get_double(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                            const char *member, double def, double min, double max, double *out,
                            GError **error);
gboolean ll_json_get_bool(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                          const char *member, gboolean def, gboolean *out, GError **error);
/* Returns a newly allocated string (def copied when absent; may be NULL). */
gboolean ll_json_get_string(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                            const char *member, const char *def, char **out, GError **error);
/* An optional object member: *out is NULL when absent. */
gboolean ll_json_get_object(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                            const char *member, JsonObject **out, GError **error);
gboolean ll_json_get_array(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                           const char *member, JsonArray **out, GError **error);
/* A string member that must be one of choices (NULL-terminated); *out is the index. */
gboolean ll_json_get_choice(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                            const char *member, const char *const *choices, int def, int *out,
                            GError **error);
/* Rejects members not in the NULL-terminated list (catches typos). */
gboolean ll_json_check_members(const LlJsonDoc *doc, JsonObject *obj, const char *where,
                               const char *const *known, GError **error);

const char *ll_json_type_name(JsonNode *node);

G_END_DECLS
