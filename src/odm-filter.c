/* libodm: checked filters. A service that builds a filter from request data must not
 * let that data run JavaScript on the server ($where, $function, $accumulator) or probe
 * fields the collection does not have. odm_filter_check refuses both before anything is
 * sent; the find, count and update calls run it when asked (checked_filter). */
#include "odm-private.h"

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
query_path (const odm_object_desc_t *d, const char *path, const odm_object_desc_t **obj)
{
   const char *seg = path;
   const odm_field_t *f = NULL;
   *obj = NULL;
   if (!strcmp (path, "_id") || !strcmp (path, ODM_VERSION_KEY)) {
      return true;
   }
   while (*seg) {
      size_t n = strcspn (seg, ".");
      uint32_t i;
      if (f && (f->flags & ODM_F_ARRAY) && digits (seg, n)) {
         /* an index into the array: stay on the element type */
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
            return true;
         }
         d = f->kind == ODM_KIND_OBJECT ? f->object : NULL;
      }
      seg += n;
      if (*seg == '.') {
         seg++;
      }
   }
   *obj = f && f->kind == ODM_KIND_OBJECT ? f->object : NULL;
   return f != NULL;
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
      size_t old = odm_path_push (path, k, strlen (k));
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

static void
check_condition (const odm_object_desc_t *d, const char *field, bson_iter_t *it, odm_path_t *path,
                 odm_violations_t *out, bool *ok, int depth)
{
   const odm_object_desc_t *obj;
   bson_iter_t ops;
   if (!query_path (d, field, &obj)) {
      odm_violations_add (out, path->buf, "unknown", "no such path in the schema");
      *ok = false;
      return;
   }
   if (!BSON_ITER_HOLDS_DOCUMENT (it) || !bson_iter_recurse (it, &ops) || !bson_iter_next (&ops) ||
       bson_iter_key (&ops)[0] != '$') {
      return; /* an equality */
   }
   bson_iter_recurse (it, &ops);
   while (bson_iter_next (&ops)) {
      const char *op = bson_iter_key (&ops);
      size_t old = odm_path_push (path, op, strlen (op));
      if (listed (js_operators, op)) {
         odm_violations_add (out, path->buf, "operator", "server-side JavaScript is refused in a checked filter");
         *ok = false;
      } else if (!listed (field_operators, op)) {
         odm_violations_add (out, path->buf, "operator", "unknown query operator");
         *ok = false;
      } else if (!strcmp (op, "$elemMatch") && BSON_ITER_HOLDS_DOCUMENT (&ops)) {
         bson_t sub;
         const uint8_t *data;
         uint32_t len;
         bson_iter_document (&ops, &len, &data);
         if (bson_init_static (&sub, data, len)) {
            bson_iter_t first;
            bool conditions = bson_iter_init (&first, &sub) && bson_iter_next (&first) && bson_iter_key (&first)[0] == '$';
            if (obj && !conditions) {
               check_doc (obj, &sub, path, out, ok, depth + 1);
            } else {
               scan_js (bson_iter_value (&ops), path, out, ok, depth + 1);
            }
         }
      } else {
         scan_js (bson_iter_value (&ops), path, out, ok, depth + 1);
      }
      odm_path_pop (path, old);
   }
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
      size_t old = odm_path_push (path, k, strlen (k));
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
               size_t o2 = odm_path_push (path, bson_iter_key (&arr), strlen (bson_iter_key (&arr)));
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
