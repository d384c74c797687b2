/* json-writer.c: a small canonical JSON emitter. */
#include "json-writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ll_json_writer_init(LlJsonWriter *w)
{
  w->out = g_string_new(NULL);
  w->depth = 0;
  w->first = TRUE;
  w->inline_depth[0] = FALSE;
}

char *ll_json_writer_finish(LlJsonWriter *w)
{
  g_string_append_c(w->out, '\n');
  return g_string_free(w->out, FALSE);
}

/* The inline flag of the current depth; past the last slot everything is on
 * one line (files may nest deeper than 32: json-doc allows 128). */
static gboolean *inline_at(LlJsonWriter *w, int depth)
{
  int last = (int)G_N_ELEMENTS(w->inline_depth) - 1;
  return &w->inline_depth[CLAMP(depth, 0, last)];
}

static void newline(LlJsonWriter *w)
{
  g_string_append_c(w->out, '\n');
  for (int i = 0; i < w->depth; i++)
    g_string_append(w->out, "  ");
}

/* Before a value or key inside a container: separator and indentation. */
static void separate(LlJsonWriter *w)
{
  if (w->depth == 0)
    return;
  if (!w->first)
    g_string_append_c(w->out, ',');
  if (*inline_at(w, w->depth))
    g_string_append(w->out, w->first ? "" : " ");
  else
    newline(w);
  w->first = FALSE;
}

static gboolean after_key(LlJsonWriter *w)
{
  /* a key was just written: the value follows on the same line */
  return w->out->len >= 2 && w->out->str[w->out->len - 2] == ':' &&
         w->out->str[w->out->len - 1] == ' ';
}

static void before_value(LlJsonWriter *w)
{
  if (!after_key(w))
    separate(w);
}

static void open(LlJsonWriter *w, char c, gboolean inline_)
{
  before_value(w);
  g_string_append_c(w->out, c);
  w->depth++;
  gboolean deep = w->depth >= (int)G_N_ELEMENTS(w->inline_depth) - 1;
  *inline_at(w, w->depth) = deep || inline_ || *inline_at(w, w->depth - 1);
  w->first = TRUE;
}

static void close_(LlJsonWriter *w, char c)
{
  gboolean was_empty = w->first, was_inline = *inline_at(w, w->depth);
  w->depth--;
  if (!was_empty && !was_inline)
    newline(w);
  g_string_append_c(w->out, c);
  w->first = FALSE;
}

void ll_json_begin_object(LlJsonWriter *w) { open(w, '{', FALSE); }
void ll_json_end_object(LlJsonWriter *w) { close_(w, '}'); }
void ll_json_begin_array(LlJsonWriter *w, gboolean inline_) { open(w, '[', inline_); }
void ll_json_end_array(LlJsonWriter *w) { close_(w, ']'); }

static void append_string(GString *out, const char *s)
{
  g_string_append_c(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': g_string_append(out, "\\\""); break;
    case '\\': g_string_append(out, "\\\\"); break;
    case '\n': g_string_append(out, "\\n"); break;
    case '\r': g_string_append(out, "\\r"); break;
    case '\t': g_string_append(out, "\\t"); break;
    default:
      if (*p < 0x20)
        g_string_append_printf(out, "\\u%04x", *p);
      else
        g_string_append_c(out, (char)*p);
    }
  }
  g_string_append_c(out, '"');
}

void ll_json_key(LlJsonWriter *w, const char *key)
{
  separate(w);
  append_string(w->out, key);
  g_string_append(w->out, ": ");
}

void ll_json_string(LlJsonWriter *w, const char *s)
{
  before_value(w);
  if (s)
    append_string(w->out, s);
  else
    g_string_append(w->out, "null");
}

void ll_json_int(LlJsonWriter *w, int64_t v)
{
  before_value(w);
  g_string_append_printf(w->out, "%" G_GINT64_FORMAT, v);
}

char *ll_format_double(double v, char *buf, size_t len)
{
  if (!isfinite(v)) {
    g_strlcpy(buf, "null", len);
    return buf;
  }
  if (v == 0) /* -0 reads back as the integer 0: write it so, for a stable text */
    v = 0;
  /* g_ascii_formatd: '.' whatever the locale's decimal point (with ',' the
   * shortest form was never found, and 0.001 came out with 17 digits) */
  for (int p = 1; p <= 17; p++) {
    char fmt[8];
    g_snprintf(fmt, sizeof fmt, "%%.%dg", p);
    g_ascii_formatd(buf, (int)len, fmt, v);
    if (g_ascii_strtod(buf, NULL) == v)
      break;
  }
  return buf;
}

void ll_json_double(LlJsonWriter *w, double v)
{
  char buf[40];
  before_value(w);
  g_string_append(w->out, ll_format_double(v, buf, sizeof buf));
}

void ll_json_float(LlJsonWriter *w, double v)
{
  char buf[40];
  before_value(w);
  if (!isfinite(v)) {
    g_string_append(w->out, "null");
    return;
  }
  float f = (float)v;
  for (int p = 1; p <= 9; p++) {
    g_snprintf(buf, sizeof buf, "%.*g", p, (double)f);
    if ((float)g_ascii_strtod(buf, NULL) == f)
      break;
  }
  for (char *c = buf; *c; c++)
    if (*c == ',')
      *c = '.';
  g_string_append(w->out, buf);
}

void ll_json_bool(LlJsonWriter *w, gboolean v)
{
  before_value(w);
  g_string_append(w->out, v ? "true" : "false");
}

void ll_json_null(LlJsonWriter *w)
{
  before_value(w);
  g_string_append(w->out, "null");
}

void ll_json_write_node(LlJsonWriter *w, JsonNode *n)
{
  if (!n || JSON_NODE_HOLDS_NULL(n)) {
    ll_json_null(w);
  } else if (JSON_NODE_HOLDS_OBJECT(n)) {
    JsonObject *o = json_node_get_object(n);
    ll_json_begin_object(w);
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) {
      ll_json_key(w, l->data);
      ll_json_write_node(w, json_object_get_member(o, l->data));
    }
    ll_json_end_object(w);
  } else if (JSON_NODE_HOLDS_ARRAY(n)) {
    JsonArray *a = json_node_get_array(n);
    gboolean scalars = TRUE;
    for (guint i = 0; i < json_array_get_length(a); i++)
      scalars &= JSON_NODE_HOLDS_VALUE(json_array_get_element(a, i));
    ll_json_begin_array(w, scalars);
    for (guint i = 0; i < json_array_get_length(a); i++)
      ll_json_write_node(w, json_array_get_element(a, i));
    ll_json_end_array(w);
  } else {
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_STRING)
      ll_json_string(w, json_node_get_string(n));
    else if (t == G_TYPE_INT64)
      ll_json_int(w, json_node_get_int(n));
    else if (t == G_TYPE_BOOLEAN)
      ll_json_bool(w, json_node_get_boolean(n));
    else
      ll_json_double(w, json_node_get_double(n));
  }
}

char *ll_json_node_to_text(JsonNode *n, gboolean one_line)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  for (guint i = 0; one_line && i < G_N_ELEMENTS(w.inline_depth); i++)
    w.inline_depth[i] = TRUE;
  ll_json_write_node(&w, n);
  return ll_json_writer_finish(&w);
}

char *ll_json_node_to_line(JsonNode *n)
{
  char *text = ll_json_node_to_text(n, TRUE);
  size_t len = strlen(text);
  if (len && text[len - 1] == '\n')
    text[len - 1] = '\0';
  return text;
}
