/* json-writer.h: writes readable, canonical JSON (two-space indent, numbers
 * in the shortest form that reads back to the same double). json-glib's
 * generator prints 17 significant digits (0.05 becomes 0.050000000000000003),
 * which is exact but not what a person wants to read in a spec file. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct {
  GString *out;
  int depth;
  gboolean first;            /* no member or element written yet at this depth */
  gboolean inline_depth[32]; /* arrays of scalars stay on one line */
} LlJsonWriter;

void ll_json_writer_init(LlJsonWriter *w);
char *ll_json_writer_finish(LlJsonWriter *w); /* returns the text, with a final newline */

void ll_json_begin_object(LlJsonWriter *w);
void ll_json_end_object(LlJsonWriter *w);
/* inline: all on one line (for short arrays of numbers) */
void ll_json_begin_array(LlJsonWriter *w, gboolean inline_);
void ll_json_end_array(LlJsonWriter *w);
void ll_json_key(LlJsonWriter *w, const char *key);
void ll_json_string(LlJsonWriter *w, const char *s); /* NULL writes null */
void ll_json_int(LlJsonWriter *w, int64_t v);
void ll_json_double(LlJsonWriter *w, double v);
/* For single-precision results (losses, metrics): the shortest form that
 * reads back to the same float, so 0.3156 is not printed as 0.31559619... */
void ll_json_float(LlJsonWriter *w, double v);
void ll_json_bool(LlJsonWriter *w, gboolean v);
void ll_json_null(LlJsonWriter *w);

/* A JSON tree, written as above. Use it (not json_to_string) for text that
 * is parsed again: json-glib 1.6's generator writes 1e-08 as "1e-08.0",
 * which no parser reads. one_line: no line breaks. */
void ll_json_write_node(LlJsonWriter *w, JsonNode *n);
char *ll_json_node_to_text(JsonNode *n, gboolean one_line);
/* The same on one line with no final newline: for snapshots, labels and
 * embedded JSON (checkpoint headers). Use it wherever json_to_string would
 * go. */
char *ll_json_node_to_line(JsonNode *n);

/* The shortest "%.Ng" form that reads back to v, into buf (at least 32 bytes). */
char *ll_format_double(double v, char *buf, size_t len);

G_END_DECLS
