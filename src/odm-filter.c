/* libodm: checked filters. A service that builds a filter from request data must not
 * let that data run JavaScript on the server ($where, $function, $accumulator) or probe
 * fields the collection does not have. odm_filter_check refuses both before anything is
 * sent; the find, count and update calls run it when asked (checked_filter). */
#include "odm-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FILTER_DEPTH_MAX 100

static const char *const js_operators[] = {"$where", "$function", "$accumulator", NULL};

/* Query operators a field condition may use. */
static const char *const field_operators[] = {
   "$eq",     "$ne",         "$gt",        "$gte",       "$lt",     "$lte",  "$in",     "$nin",
   "$exists", "$type",       "$regex",     "$options",   "$not",    "$size", "$all",    "$elemMatch",
   "$mod",    "$bitsAllSet", "$bitsAnySet", "$bitsAllClear", "$bitsAnyClear", "$near", "$nearSphere",
   "$geoWithin", "$geoIntersects", "$maxDistance", "$minDistance", NULL};

/* Top-level operators a filter may use. */
static const char *const top_operators[] = {"$and", "$or", "$nor", "$expr", "$comment", "$text", NULL};

static bool
listed (const char *const *list, const char *k)
{
   for (; *list; list++) {
      if (!strcmp (*list, k)) {
         return true;
      }
   }
   return false;
}

static bool
digits (const char *s, size_t n)
{
   size_t i;
   if (!n) {
      return false;
   }
   for (i = 0; i < n; i++) {
      if (s[i] < '0' || s[i] > '9') {
         return false;
      }
   }
   return true;
}

/* Whether PATH names something in D, as a query sees it: arrays are looked through
 * ("attachments.url"), indexes are allowed ("tags.0"), anything goes below a mixed value.
 * *OBJ receives the object an array-of-subdocuments path ends on (for $elemMatch). */
static bool
query_path_field (const odm_object_desc_t *d, const char *path, const odm_object_desc_t **obj,
                  const odm_field_t **field, bool *element)
{
   const char *seg = path;
   const odm_field_t *f = NULL;
   *obj = NULL;
   *field = NULL;
   *element = false;
   if (!strcmp (path, ODM_VERSION_KEY)) {
      return true;
   }
   while (*seg) {
      size_t n = strcspn (seg, ".");
      uint32_t i;
      *element = false;
      if (f && (f->flags & ODM_F_ARRAY) && digits (seg, n)) {
         /* an index into the array: stay on the element type */
         *element = true;
      } else {
         if (!d || n == 0) {
            return false;
         }
         f = NULL;
         for (i = 0; i < d->field_count && !f; i++) {
            if (d->fields[i].name_len == n && !memcmp (d->fields[i].name, seg, n)) {
               f = &d->fields[i];
            }
         }
         if (!f) {
            return false;
         }
         if (f->kind == ODM_KIND_MIXED) {
            return true; /* anything below: *FIELD stays NULL */
         }
         d = f->kind == ODM_KIND_OBJECT ? f->object : NULL;
      }
      seg += n;
      if (*seg == '.') {
         seg++;
      }
   }
   *obj = f && f->kind == ODM_KIND_OBJECT ? f->object : NULL;
   *field = f;
   return f != NULL;
}

const odm_field_t *
odm_schema_path (const odm_schema_t *schema, const char *path)
{
   const odm_object_desc_t *obj;
   const odm_field_t *f;
   bool element;
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !path) {
      return NULL;
   }
   return query_path_field (schema->root, path, &obj, &f, &element) ? f : NULL;
}

/* ------------------------------------------------------------------ value types */

static const char *
kind_name (uint32_t kind)
{
   switch (kind) {
   case ODM_KIND_STRING: return "a string";
   case ODM_KIND_NUMBER: return "a number";
   case ODM_KIND_BOOL: return "a boolean";
   case ODM_KIND_DATE: return "a date";
   case ODM_KIND_OID: return "an ObjectId";
   case ODM_KIND_OBJECT: return "a subdocument";
   default: return "any value";
   }
}

static bool
is_number (bson_type_t t)
{
   return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 || t == BSON_TYPE_DOUBLE || t == BSON_TYPE_DECIMAL128;
}

/* Whether V can equal one value of F's (element) type; null matches absent and null. */
static bool
scalar_fits (const odm_field_t *f, const bson_value_t *v)
{
   bson_type_t t = v->value_type;
   if (t == BSON_TYPE_NULL) {
      return true;
   }
   switch (f->kind) {
   case ODM_KIND_STRING: return t == BSON_TYPE_UTF8 || t == BSON_TYPE_REGEX;
   case ODM_KIND_NUMBER: return is_number (t);
   case ODM_KIND_BOOL: return t == BSON_TYPE_BOOL;
   case ODM_KIND_DATE: return t == BSON_TYPE_DATE_TIME;
   case ODM_KIND_OID: return t == BSON_TYPE_OID;
   case ODM_KIND_OBJECT: return t == BSON_TYPE_DOCUMENT;
   default: return true;
   }
}

/* A string value outside an enum field's values matches nothing: refused. */
static bool
enum_fits (const odm_field_t *f, const bson_value_t *v)
{
   uint32_t i;
   if (!(f->flags & ODM_F_ENUM) || v->value_type != BSON_TYPE_UTF8 || !f->enum_values) {
      return true;
   }
   for (i = 0; i < f->enum_count; i++) {
      if (strlen (f->enum_values[i]) == v->value.v_utf8.len &&
          !memcmp (f->enum_values[i], v->value.v_utf8.str, v->value.v_utf8.len)) {
         return true;
      }
   }
   return false;
}

/* Whether V fits F as a query value: a value of its type, or for an array field (not
 * addressed by index) also an array of such values (a whole-array match). */
static bool
value_fits (const odm_field_t *f, bool element, const bson_value_t *v)
{
   bson_t arr;
   bson_iter_t it;
   if (!f || f->kind == ODM_KIND_MIXED || scalar_fits (f, v)) {
      return true;
   }
   if (!(f->flags & ODM_F_ARRAY) || element || v->value_type != BSON_TYPE_ARRAY ||
       !bson_init_static (&arr, v->value.v_doc.data, v->value.v_doc.data_len) || !bson_iter_init (&it, &arr)) {
      return false;
   }
   while (bson_iter_next (&it)) {
      if (!scalar_fits (f, bson_iter_value (&it))) {
         return false;
      }
   }
   return true;
}

static void
type_violation (odm_violations_t *out, odm_path_t *path, bool *ok, const char *fmt, ...) BSON_GNUC_PRINTF (4, 5);

static void
type_violation (odm_violations_t *out, odm_path_t *path, bool *ok, const char *fmt, ...)
{
   char msg[256];
   va_list ap;
   va_start (ap, fmt);
   vsnprintf (msg, sizeof msg, fmt, ap);
   va_end (ap);
   odm_violations_add (out, path->buf, "type", msg);
   *ok = false;
}

/* An equality value (or one $in/$nin/$all element, one $eq/$ne value) against F. */
static void
check_value (const odm_field_t *f, bool element, const bson_value_t *v, odm_path_t *path, odm_violations_t *out,
             bool *ok)
{
   if (!value_fits (f, element, v)) {
      type_violation (out, path, ok, "the field holds %s%s; this value can never match", kind_name (f->kind),
                      (f->flags & ODM_F_ARRAY) && !element ? " (or an array of them)" : "");
   } else if (f && !enum_fits (f, v)) {
      odm_violations_add (out, path->buf, ODM_FIELD_RULE_NAME (enum), "not one of the field's values; it can never match");
      *ok = false;
   }
}

/* odm_path_push of key K, shown with '?' for bytes that are not UTF-8: paths end up in
 * messages printed as JSON, and a filter from request data may carry any bytes. */
static size_t
push_key (odm_path_t *path, const char *k)
{
   size_t n = strlen (k), old;
   char *shown;
   if (bson_utf8_validate (k, n, false)) {
      return odm_path_push (path, k, n);
   }
   shown = odm_utf8_clean (k);
   old = odm_path_push (path, shown, strlen (shown));
   bson_free (shown);
   return old;
}

/* Each element of the array V (for $in, $nin, $all). */
static void
check_each (const odm_field_t *f, bool element, const bson_value_t *v, odm_path_t *path, odm_violations_t *out,
            bool *ok)
{
   bson_t arr;
   bson_iter_t it;
   if (v->value_type != BSON_TYPE_ARRAY) {
      type_violation (out, path, ok, "expected an array of values");
      return;
   }
   if (!bson_init_static (&arr, v->value.v_doc.data, v->value.v_doc.data_len) || !bson_iter_init (&it, &arr)) {
      return;
   }
   while (bson_iter_next (&it)) {
      size_t old = push_key (path, bson_iter_key (&it));
      check_value (f, element, bson_iter_value (&it), path, out, ok);
      odm_path_pop (path, old);
   }
}

/* Any JavaScript operator anywhere in V (inside $expr, $elemMatch, ...). */
static void
scan_js (const bson_value_t *v, odm_path_t *path, odm_violations_t *out, bool *ok, int depth)
{
   bson_t sub;
   bson_iter_t it;
   if (v->value_type != BSON_TYPE_DOCUMENT && v->value_type != BSON_TYPE_ARRAY) {
      return;
   }
   if (depth > FILTER_DEPTH_MAX) {
      odm_violations_add (out, path->buf, "depth", "the filter nests deeper than 100 levels");
      *ok = false;
      return;
   }
   if (!bson_init_static (&sub, v->value.v_doc.data, v->value.v_doc.data_len) || !bson_iter_init (&it, &sub)) {
      return;
   }
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      size_t old = push_key (path, k);
      if (listed (js_operators, k)) {
         odm_violations_add (out, path->buf, "operator", "server-side JavaScript is refused in a checked filter");
         *ok = false;
      } else {
         scan_js (bson_iter_value (&it), path, out, ok, depth + 1);
      }
      odm_path_pop (path, old);
   }
}

static void check_doc (const odm_object_desc_t *d, const bson_t *filter, odm_path_t *path, odm_violations_t *out,
                       bool *ok, int depth);

static bool
whole_non_negative (const bson_value_t *v)
{
   switch (v->value_type) {
   case BSON_TYPE_INT32: return v->value.v_int32 >= 0;
   case BSON_TYPE_INT64: return v->value.v_int64 >= 0;
   case BSON_TYPE_DOUBLE: return v->value.v_double >= 0 && v->value.v_double <= 9007199254740992.0 &&
                                 (double) (int64_t) v->value.v_double == v->value.v_double;
   default: return false;
   }
}

/* The operators of the document IT holds, applied to F (NULL or mixed: types unchecked;
 * ELEMENT: F's path addresses one element of an array field). */
static void
check_ops (const odm_object_desc_t *obj, const odm_field_t *f, bool element, bson_iter_t *it, odm_path_t *path,
           odm_violations_t *out, bool *ok, int depth)
{
   bson_iter_t ops;
   bool typed = f && f->kind != ODM_KIND_MIXED;
   bool is_array = typed && (f->flags & ODM_F_ARRAY) && !element;
   if (depth > FILTER_DEPTH_MAX) {
      odm_violations_add (out, path->buf, "depth", "the filter nests deeper than 100 levels");
      *ok = false;
      return;
   }
   if (!bson_iter_recurse (it, &ops)) {
      return;
   }
   while (bson_iter_next (&ops)) {
      const char *op = bson_iter_key (&ops);
      const bson_value_t *v = bson_iter_value (&ops);
      size_t old = push_key (path, op);
      if (listed (js_operators, op)) {
         odm_violations_add (out, path->buf, "operator", "server-side JavaScript is refused in a checked filter");
         *ok = false;
      } else if (!listed (field_operators, op)) {
         odm_violations_add (out, path->buf, "operator", "unknown query operator");
         *ok = false;
      } else if (!strcmp (op, "$elemMatch")) {
         bson_t sub;
         const uint8_t *data;
         uint32_t len;
         if (typed && !(f->flags & ODM_F_ARRAY)) {
            type_violation (out, path, ok, "$elemMatch needs an array field; this one holds %s", kind_name (f->kind));
         } else if (!BSON_ITER_HOLDS_DOCUMENT (&ops)) {
            type_violation (out, path, ok, "$elemMatch takes a document");
         } else {
            bson_iter_document (&ops, &len, &data);
            if (bson_init_static (&sub, data, len)) {
               bson_iter_t first;
               bool conditions =
                  bson_iter_init (&first, &sub) && bson_iter_next (&first) && bson_iter_key (&first)[0] == '$';
               if (obj && !conditions) {
                  check_doc (obj, &sub, path, out, ok, depth + 1);
               } else if (typed && conditions) {
                  check_ops (obj, f, true, &ops, path, out, ok, depth + 1);
               } else {
                  scan_js (v, path, out, ok, depth + 1);
               }
            }
         }
      } else if (!typed) {
         scan_js (v, path, out, ok, depth + 1);
      } else if (!strcmp (op, "$eq") || !strcmp (op, "$ne")) {
         check_value (f, element, v, path, out, ok);
      } else if (!strcmp (op, "$gt") || !strcmp (op, "$gte") || !strcmp (op, "$lt") || !strcmp (op, "$lte")) {
         if (f->kind == ODM_KIND_BOOL || f->kind == ODM_KIND_OBJECT) {
            type_violation (out, path, ok, "%s does not order %s", op, kind_name (f->kind));
         } else if (v->value_type == BSON_TYPE_NULL || !scalar_fits (f, v) || v->value_type == BSON_TYPE_REGEX) {
            type_violation (out, path, ok, "%s needs %s here", op, kind_name (f->kind));
         }
      } else if (!strcmp (op, "$in") || !strcmp (op, "$nin")) {
         check_each (f, element, v, path, out, ok);
      } else if (!strcmp (op, "$all")) {
         if (!is_array) {
            type_violation (out, path, ok, "$all needs an array field");
         } else {
            check_each (f, true, v, path, out, ok);
         }
      } else if (!strcmp (op, "$exists")) {
         if (v->value_type != BSON_TYPE_BOOL) {
            type_violation (out, path, ok, "$exists takes true or false");
         }
      } else if (!strcmp (op, "$regex")) {
         if (f->kind != ODM_KIND_STRING) {
            type_violation (out, path, ok, "$regex needs a string field; this one holds %s", kind_name (f->kind));
         } else if (v->value_type != BSON_TYPE_UTF8 && v->value_type != BSON_TYPE_REGEX) {
            type_violation (out, path, ok, "$regex takes a string or a regular expression");
         }
      } else if (!strcmp (op, "$options")) {
         if (v->value_type != BSON_TYPE_UTF8) {
            type_violation (out, path, ok, "$options takes a string");
         }
      } else if (!strcmp (op, "$size")) {
         if (!is_array) {
            type_violation (out, path, ok, "$size needs an array field; this one holds %s", kind_name (f->kind));
         } else if (!whole_non_negative (v)) {
            type_violation (out, path, ok, "$size takes a whole number from 0");
         }
      } else if (!strcmp (op, "$not")) {
         if (BSON_ITER_HOLDS_DOCUMENT (&ops)) {
            check_ops (obj, f, element, &ops, path, out, ok, depth + 1);
         } else if (v->value_type != BSON_TYPE_REGEX || f->kind != ODM_KIND_STRING) {
            type_violation (out, path, ok, "$not takes operators (or a regular expression on a string field)");
         }
      } else if (!strcmp (op, "$mod")) {
         bson_iter_t m;
         int count = 0;
         bool numbers = true;
         if (f->kind != ODM_KIND_NUMBER) {
            type_violation (out, path, ok, "$mod needs a number field");
         } else if (!BSON_ITER_HOLDS_ARRAY (&ops) || !bson_iter_recurse (&ops, &m)) {
            type_violation (out, path, ok, "$mod takes [divisor, remainder]");
         } else {
            while (bson_iter_next (&m)) {
               count++;
               numbers = numbers && is_number (bson_iter_type (&m));
            }
            if (count != 2 || !numbers) {
               type_violation (out, path, ok, "$mod takes [divisor, remainder]");
            }
         }
      } else {
         scan_js (v, path, out, ok, depth + 1);
      }
      odm_path_pop (path, old);
   }
}

static void
check_condition (const odm_object_desc_t *d, const char *field, bson_iter_t *it, odm_path_t *path,
                 odm_violations_t *out, bool *ok, int depth)
{
   const odm_object_desc_t *obj;
   const odm_field_t *f;
   bool element;
   bson_iter_t ops;
   if (!query_path_field (d, field, &obj, &f, &element)) {
      odm_violations_add (out, path->buf, "unknown", "no such path in the schema");
      *ok = false;
      return;
   }
   if (!BSON_ITER_HOLDS_DOCUMENT (it) || !bson_iter_recurse (it, &ops) || !bson_iter_next (&ops) ||
       bson_iter_key (&ops)[0] != '$') {
      check_value (f, element, bson_iter_value (it), path, out, ok); /* an equality */
      if (!f || f->kind == ODM_KIND_MIXED) {
         scan_js (bson_iter_value (it), path, out, ok, depth + 1);
      }
      return;
   }
   check_ops (obj, f, element, it, path, out, ok, depth + 1);
}

static void
check_doc (const odm_object_desc_t *d, const bson_t *filter, odm_path_t *path, odm_violations_t *out, bool *ok,
           int depth)
{
   bson_iter_t it;
   if (depth > FILTER_DEPTH_MAX) {
      odm_violations_add (out, path->buf, "depth", "the filter nests deeper than 100 levels");
      *ok = false;
      return;
   }
   if (!bson_iter_init (&it, filter)) {
      odm_violations_add (out, path->buf, "bson", "the filter is not valid BSON");
      *ok = false;
      return;
   }
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      size_t old = push_key (path, k);
      if (k[0] != '$') {
         check_condition (d, k, &it, path, out, ok, depth);
      } else if (listed (js_operators, k)) {
         odm_violations_add (out, path->buf, "operator", "server-side JavaScript is refused in a checked filter");
         *ok = false;
      } else if (!listed (top_operators, k)) {
         odm_violations_add (out, path->buf, "operator", "unknown query operator");
         *ok = false;
      } else if (!strcmp (k, "$and") || !strcmp (k, "$or") || !strcmp (k, "$nor")) {
         bson_iter_t arr;
         if (!BSON_ITER_HOLDS_ARRAY (&it) || !bson_iter_recurse (&it, &arr)) {
            odm_violations_add (out, path->buf, "type", "expected an array of filters");
            *ok = false;
         } else {
            while (bson_iter_next (&arr)) {
               size_t o2 = push_key (path, bson_iter_key (&arr));
               if (BSON_ITER_HOLDS_DOCUMENT (&arr)) {
                  bson_t sub;
                  const uint8_t *data;
                  uint32_t len;
                  bson_iter_document (&arr, &len, &data);
                  if (bson_init_static (&sub, data, len)) {
                     check_doc (d, &sub, path, out, ok, depth + 1);
                  }
               } else {
                  odm_violations_add (out, path->buf, "type", "expected a filter document");
                  *ok = false;
               }
               odm_path_pop (path, o2);
            }
         }
      } else {
         scan_js (bson_iter_value (&it), path, out, ok, depth + 1);
      }
      odm_path_pop (path, old);
   }
}

bool
odm_filter_check (const odm_schema_t *schema, const bson_t *filter, odm_violations_t *violations)
{
   odm_violations_t local;
   odm_violations_t *out = violations ? violations : &local;
   odm_path_t path;
   bool ok = true;
   odm_violations_init (out);
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC) {
      odm_violations_add (out, "", "argument", "schema is NULL or not a libodm schema");
      ok = false;
   } else if (filter) {
      odm_path_init (&path);
      check_doc (schema->root, filter, &path, out, &ok, 0);
   }
   if (out == &local) {
      odm_violations_cleanup (&local);
   }
   return ok;
}

/* ------------------------------------------------------------------ sorts, projections */

static bool
is_one (const bson_value_t *v, bool minus_ok)
{
   double x;
   switch (v->value_type) {
   case BSON_TYPE_INT32: x = v->value.v_int32; break;
   case BSON_TYPE_INT64: x = (double) v->value.v_int64; break;
   case BSON_TYPE_DOUBLE: x = v->value.v_double; break;
   default: return false;
   }
   return x == 1 || (minus_ok && x == -1);
}

/* Whether V is {$meta: "textScore"} (or another $meta): allowed in sorts and projections. */
static bool
is_meta (const bson_value_t *v)
{
   bson_t d;
   bson_iter_t it;
   return v->value_type == BSON_TYPE_DOCUMENT && bson_init_static (&d, v->value.v_doc.data, v->value.v_doc.data_len) &&
          bson_iter_init_find (&it, &d, "$meta") && BSON_ITER_HOLDS_UTF8 (&it);
}

bool
odm_sort_check (const odm_schema_t *schema, const bson_t *sort, odm_violations_t *violations)
{
   odm_violations_t local;
   odm_violations_t *out = violations ? violations : &local;
   bool ok = true;
   bson_iter_t it;
   odm_violations_init (out);
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC) {
      odm_violations_add (out, "", "argument", "schema is NULL or not a libodm schema");
      ok = false;
   } else if (sort && !bson_iter_init (&it, sort)) {
      odm_violations_add (out, "", "bson", "the sort is not valid BSON");
      ok = false;
   } else if (sort) {
      while (bson_iter_next (&it)) {
         const char *k = bson_iter_key (&it);
         const odm_object_desc_t *obj;
         const odm_field_t *f;
         bool element;
         if (!query_path_field (schema->root, k, &obj, &f, &element)) {
            odm_violations_add (out, k, "unknown", "no such path in the schema");
            ok = false;
         } else if (!is_one (bson_iter_value (&it), true) && !is_meta (bson_iter_value (&it))) {
            odm_violations_add (out, k, "type", "a sort direction is 1, -1 or {$meta: ...}");
            ok = false;
         }
      }
   }
   if (out == &local) {
      odm_violations_cleanup (&local);
   }
   return ok;
}

bool
odm_projection_check (const odm_schema_t *schema, const bson_t *projection, odm_violations_t *violations)
{
   odm_violations_t local;
   odm_violations_t *out = violations ? violations : &local;
   bool ok = true;
   int include = -1; /* unknown, 0 exclude, 1 include: one style per projection, as MongoDB wants */
   bson_iter_t it;
   odm_violations_init (out);
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC) {
      odm_violations_add (out, "", "argument", "schema is NULL or not a libodm schema");
      ok = false;
   } else if (projection && !bson_iter_init (&it, projection)) {
      odm_violations_add (out, "", "bson", "the projection is not valid BSON");
      ok = false;
   } else if (projection) {
      while (bson_iter_next (&it)) {
         const char *k = bson_iter_key (&it);
         const bson_value_t *v = bson_iter_value (&it);
         const odm_object_desc_t *obj;
         const odm_field_t *f;
         bool element;
         int style;
         if (!query_path_field (schema->root, k, &obj, &f, &element)) {
            odm_violations_add (out, k, "unknown", "no such path in the schema");
            ok = false;
            continue;
         }
         if (v->value_type == BSON_TYPE_DOCUMENT) {
            bson_t d;
            bson_iter_t op;
            if (!is_meta (v) && bson_init_static (&d, v->value.v_doc.data, v->value.v_doc.data_len) &&
                bson_iter_init (&op, &d) && bson_iter_next (&op) && strcmp (bson_iter_key (&op), "$slice") != 0 &&
                strcmp (bson_iter_key (&op), "$elemMatch") != 0) {
               odm_violations_add (out, k, "operator", "a projection operator is $slice, $elemMatch or $meta");
               ok = false;
            }
            continue;
         }
         if (v->value_type == BSON_TYPE_BOOL) {
            style = v->value.v_bool ? 1 : 0;
         } else if (is_one (v, false)) {
            style = 1;
         } else if ((v->value_type == BSON_TYPE_INT32 && v->value.v_int32 == 0) ||
                    (v->value_type == BSON_TYPE_INT64 && v->value.v_int64 == 0) ||
                    (v->value_type == BSON_TYPE_DOUBLE && v->value.v_double == 0)) {
            style = 0;
         } else {
            odm_violations_add (out, k, "type", "a projection value is 1, 0, true or false");
            ok = false;
            continue;
         }
         if (!strcmp (k, "_id")) {
            continue; /* _id may be excluded from an inclusion */
         }
         if (include >= 0 && include != style) {
            odm_violations_add (out, k, "projection", "a projection either includes or excludes fields, not both");
            ok = false;
         }
         include = style;
      }
   }
   if (out == &local) {
      odm_violations_cleanup (&local);
   }
   return ok;
}
