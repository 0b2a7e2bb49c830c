/* libodm: operator updates that cannot bypass the rules.
 *
 * An update is checked against the spec (paths, types, required fields), then for each
 * matching document: read, apply in memory, run the pre-save path on the result (so
 * cross-field rules and derivations hold), and write back conditioned on the document
 * being unchanged since it was read. Chosen over refusing cross-field updates because
 * it keeps every update the seed's platform needs ($set status, $push refunds) usable
 * while making it impossible to store a document the rules reject. */
#include "odm-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS 4

/* ------------------------------------------------------------- path resolution */

typedef struct {
   const odm_field_t *field; /* the field the path ends on (or enters, for mixed) */
   bool in_mixed;            /* the path goes below a mixed field: anything goes */
   bool element;             /* the path ends on one element of an array */
   bool required_in_doc;     /* the field is required where the path ends */
} resolved_t;

static bool
all_digits (const char *s, size_t n)
{
   size_t i;
   if (n == 0 || n > 9) {
      return false;
   }
   for (i = 0; i < n; i++) {
      if (s[i] < '0' || s[i] > '9') {
         return false;
      }
   }
   return true;
}

static bool
resolve (const odm_schema_t *schema, const char *path, resolved_t *r)
{
   const odm_object_desc_t *d = schema->root;
   const odm_field_t *f = NULL;
   bool pending_index = false;
   const char *seg = path;

   memset (r, 0, sizeof *r);
   while (*seg) {
      size_t n = strcspn (seg, ".");
      if (n == 0) {
         return false;
      }
      if (r->in_mixed) {
         /* below a mixed value */
      } else if (pending_index) {
         if (!all_digits (seg, n)) {
            return false;
         }
         pending_index = false;
         r->element = true;
         d = f->kind == ODM_KIND_OBJECT ? f->object : NULL;
      } else {
         uint32_t i;
         if (!d) {
            return false;
         }
         f = NULL;
         for (i = 0; i < d->field_count; i++) {
            if (d->fields[i].name_len == n && memcmp (d->fields[i].name, seg, n) == 0) {
               f = &d->fields[i];
            }
         }
         if (!f) {
            return false;
         }
         r->element = false;
         if (f->kind == ODM_KIND_MIXED && !(f->flags & ODM_F_ARRAY)) {
            r->in_mixed = true;
         } else if (f->flags & ODM_F_ARRAY) {
            pending_index = true;
         } else {
            d = f->kind == ODM_KIND_OBJECT ? f->object : NULL;
         }
      }
      seg += n;
      if (*seg == '.') {
         seg++;
         if (!*seg) {
            return false;
         }
      }
   }
   r->field = f;
   r->required_in_doc = f && !r->in_mixed && !r->element && (f->flags & ODM_F_REQUIRED);
   return f != NULL;
}

/* Whether V can be stored at a field of KIND (scalars; arrays and objects by type). */
static bool
fits (uint32_t kind, const bson_value_t *v)
{
   switch (v->value_type) {
   case BSON_TYPE_NULL:
      return true;
   case BSON_TYPE_UTF8:
      return kind == ODM_KIND_STRING || kind == ODM_KIND_MIXED;
   case BSON_TYPE_DOUBLE:
   case BSON_TYPE_INT32:
   case BSON_TYPE_INT64:
      return kind == ODM_KIND_NUMBER || kind == ODM_KIND_MIXED;
   case BSON_TYPE_BOOL:
      return kind == ODM_KIND_BOOL || kind == ODM_KIND_MIXED;
   case BSON_TYPE_DATE_TIME:
      return kind == ODM_KIND_DATE || kind == ODM_KIND_MIXED;
   case BSON_TYPE_OID:
      return kind == ODM_KIND_OID || kind == ODM_KIND_MIXED;
   case BSON_TYPE_DOCUMENT:
      return kind == ODM_KIND_OBJECT || kind == ODM_KIND_MIXED;
   default:
      return kind == ODM_KIND_MIXED;
   }
}

static const char *
kind_word (uint32_t kind)
{
   static const char *const w[] = {"?", "string", "number", "boolean", "date", "objectId", "object", "value"};
   return kind < 8 ? w[kind] : "?";
}

/* Checks one operator's field against the spec; adds violations. */
static bool
check_op_field (const odm_schema_t *schema, const char *op, bson_iter_t *it, odm_violations_t *v, bson_error_t *error)
{
   const char *path = bson_iter_key (it);
   const bson_value_t *val = bson_iter_value (it);
   resolved_t r;
   const odm_field_t *f;
   bool on_array;
   char msg[256];

   if (strchr (path, '$')) {
      odm_set_error (error, ODM_ERROR_UNSUPPORTED, path, "positional and filtered updates ($, $[], $[id]) are not supported");
      return false;
   }
   if (!strcmp (path, "_id") || !strncmp (path, "_id.", 4)) {
      odm_violations_add (v, path, "immutable", "_id cannot be changed");
      return true;
   }
   if (!resolve (schema, path, &r)) {
      odm_violations_add (v, path, "unknown", "no such path in the schema");
      return true;
   }
   if (r.in_mixed) {
      return true;
   }
   f = r.field;
   on_array = (f->flags & ODM_F_ARRAY) && !r.element;

   if (!strcmp (op, "$set") || !strcmp (op, "$setOnInsert")) {
      bool ok;
      if (on_array) {
         ok = val->value_type == BSON_TYPE_ARRAY || val->value_type == BSON_TYPE_NULL;
      } else {
         ok = fits (f->kind, val);
      }
      if (!ok) {
         bson_snprintf (msg, sizeof msg, "expected %s%s", on_array ? "array of " : "", kind_word (f->kind));
         odm_violations_add (v, path, "type", msg);
      }
      if (val->value_type == BSON_TYPE_DOCUMENT || val->value_type == BSON_TYPE_ARRAY) {
         bson_t sub;
         if (bson_init_static (&sub, val->value.v_doc.data, val->value.v_doc.data_len)) {
            odm_violations_t kv;
            size_t i;
            odm_violations_init (&kv);
            odm_check_keys (&sub, &kv);
            for (i = 0; i < kv.count; i++) {
               char p2[ODM_PATH_MAX];
               bson_snprintf (p2, sizeof p2, "%s.%s", path, kv.items[i].path);
               odm_violations_add (v, p2, kv.items[i].rule, kv.items[i].message);
            }
            odm_violations_cleanup (&kv);
         }
      }
   } else if (!strcmp (op, "$unset")) {
      if (r.required_in_doc) {
         odm_violations_add (v, path, "required", "a required field cannot be unset");
      } else if (r.element) {
         odm_violations_add (v, path, "type", "array elements cannot be unset (use $pull)");
      }
   } else if (!strcmp (op, "$inc") || !strcmp (op, "$mul")) {
      if (on_array || f->kind != ODM_KIND_NUMBER) {
         odm_violations_add (v, path, "type", "only numbers can be incremented or multiplied");
      } else if (!BSON_ITER_HOLDS_NUMBER (it)) {
         odm_violations_add (v, path, "type", "expected a number");
      }
   } else if (!strcmp (op, "$min") || !strcmp (op, "$max")) {
      if (on_array || (f->kind != ODM_KIND_NUMBER && f->kind != ODM_KIND_DATE) || !fits (f->kind, val) ||
          val->value_type == BSON_TYPE_NULL) {
         odm_violations_add (v, path, "type", "expected a number or a date of the field's type");
      }
   } else if (!strcmp (op, "$currentDate")) {
      if (on_array || f->kind != ODM_KIND_DATE) {
         odm_violations_add (v, path, "type", "only dates can be set to the current date");
      }
   } else if (!strcmp (op, "$push") || !strcmp (op, "$addToSet") || !strcmp (op, "$pull")) {
      if (!on_array) {
         odm_violations_add (v, path, "type", "not an array");
         return true;
      }
      if (val->value_type == BSON_TYPE_DOCUMENT) {
         bson_iter_t sub;
         bson_iter_recurse (it, &sub);
         if (bson_iter_next (&sub) && bson_iter_key (&sub)[0] == '$') {
            if (strcmp (op, "$pull") != 0 && !strcmp (bson_iter_key (&sub), "$each") && BSON_ITER_HOLDS_ARRAY (&sub) &&
                !bson_iter_next (&sub)) {
               bson_iter_t each;
               bson_iter_recurse (it, &sub);
               bson_iter_next (&sub);
               bson_iter_recurse (&sub, &each);
               while (bson_iter_next (&each)) {
                  if (!fits (f->kind, bson_iter_value (&each)) || BSON_ITER_HOLDS_NULL (&each)) {
                     bson_snprintf (msg, sizeof msg, "element %s: expected %s", bson_iter_key (&each), kind_word (f->kind));
                     odm_violations_add (v, path, "type", msg);
                  }
               }
               return true;
            }
            odm_set_error (error, ODM_ERROR_UNSUPPORTED, path,
                           "%s supports a value or {$each: [...]} only (no $position, $slice, $sort or conditions)", op);
            return false;
         }
      }
      if (!fits (f->kind, val) || val->value_type == BSON_TYPE_NULL) {
         bson_snprintf (msg, sizeof msg, "expected %s", kind_word (f->kind));
         odm_violations_add (v, path, "type", msg);
      }
   } else if (!strcmp (op, "$pop")) {
      if (!on_array) {
         odm_violations_add (v, path, "type", "not an array");
      } else if (!BSON_ITER_HOLDS_NUMBER (it) || (bson_iter_as_int64 (it) != 1 && bson_iter_as_int64 (it) != -1)) {
         odm_violations_add (v, path, "type", "$pop takes 1 or -1");
      }
   }
   return true;
}

static const char *const supported_ops[] = {"$set", "$unset", "$inc", "$mul", "$min", "$max", "$push", "$addToSet",
                                            "$pull", "$pop", "$currentDate", "$setOnInsert", NULL};

static bool
check_update (const odm_schema_t *schema, const bson_t *update, odm_violations_t *v, bson_error_t *error)
{
   bson_iter_t it, fields;
   if (!update || bson_empty (update)) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the update is empty");
      return false;
   }
   bson_iter_init (&it, update);
   while (bson_iter_next (&it)) {
      const char *op = bson_iter_key (&it);
      int i;
      bool known = false;
      for (i = 0; supported_ops[i] && !known; i++) {
         known = !strcmp (op, supported_ops[i]);
      }
      if (op[0] != '$') {
         odm_set_error (error, ODM_ERROR_UNSUPPORTED, op,
                        "replacement documents are not updates: use odm_save, or $set");
         return false;
      }
      if (!known) {
         odm_set_error (error, ODM_ERROR_UNSUPPORTED, NULL, "update operator %s is not supported", op);
         return false;
      }
      if (!BSON_ITER_HOLDS_DOCUMENT (&it) || !bson_iter_recurse (&it, &fields)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, op, "expected a document of paths");
         return false;
      }
      while (bson_iter_next (&fields)) {
         if (!check_op_field (schema, op, &fields, v, error)) {
            return false;
         }
      }
   }
   return true;
}

/* ------------------------------------------------------------- BSON surgery */

/* Copies SRC into DST with PATH set to V (removed when V is NULL). */
static void
set_path (const bson_t *src, const char *path, const bson_value_t *v, bson_t *dst, bool is_array)
{
   const char *dot = strchr (path, '.');
   size_t head = dot ? (size_t) (dot - path) : strlen (path);
   bson_iter_t it;
   bool done = false;
   uint32_t count = 0;

   if (bson_iter_init (&it, src)) {
      while (bson_iter_next (&it)) {
         const char *k = bson_iter_key (&it);
         count++;
         if (strlen (k) != head || strncmp (k, path, head) != 0) {
            bson_append_iter (dst, k, -1, &it);
            continue;
         }
         done = true;
         if (!dot) {
            if (v) {
               bson_append_value (dst, k, -1, v);
            }
         } else if (BSON_ITER_HOLDS_DOCUMENT (&it) || BSON_ITER_HOLDS_ARRAY (&it)) {
            bson_t child, sub;
            const uint8_t *data;
            uint32_t len;
            bool arr = BSON_ITER_HOLDS_ARRAY (&it);
            if (arr) {
               bson_iter_array (&it, &len, &data);
               bson_append_array_begin (dst, k, -1, &child);
            } else {
               bson_iter_document (&it, &len, &data);
               bson_append_document_begin (dst, k, -1, &child);
            }
            bson_init_static (&sub, data, len);
            set_path (&sub, dot + 1, v, &child, arr);
            if (arr) {
               bson_append_array_end (dst, &child);
            } else {
               bson_append_document_end (dst, &child);
            }
         } else if (v) {
            /* A scalar in the way: MongoDB refuses; the decode afterwards reports the type. */
            bson_t empty = BSON_INITIALIZER, child;
            bson_append_document_begin (dst, k, -1, &child);
            set_path (&empty, dot + 1, v, &child, false);
            bson_append_document_end (dst, &child);
         }
      }
   }
   if (!done && v) {
      char key[16];
      if (is_array) {
         /* Pad with nulls up to the index, as MongoDB does. */
         uint32_t want = (uint32_t) strtoul (path, NULL, 10);
         for (; count < want; count++) {
            bson_snprintf (key, sizeof key, "%u", count);
            bson_append_null (dst, key, -1);
         }
      }
      if (!dot) {
         bson_append_value (dst, path, (int) head, v);
      } else {
         bson_t empty = BSON_INITIALIZER, child;
         bson_append_document_begin (dst, path, (int) head, &child);
         set_path (&empty, dot + 1, v, &child, false);
         bson_append_document_end (dst, &child);
      }
   }
}

/* Replaces *DOC by a copy with PATH set to V (or removed). */
static void
doc_set (bson_t **doc, const char *path, const bson_value_t *v)
{
   bson_t *next = bson_new ();
   set_path (*doc, path, v, next, false);
   bson_destroy (*doc);
   *doc = next;
}

static bool
doc_get (const bson_t *doc, const char *path, bson_iter_t *out)
{
   bson_iter_t it;
   return bson_iter_init (&it, doc) && bson_iter_find_descendant (&it, path, out);
}

static bool
values_equal (const bson_value_t *a, const bson_value_t *b)
{
   bool an = a->value_type == BSON_TYPE_DOUBLE || a->value_type == BSON_TYPE_INT32 || a->value_type == BSON_TYPE_INT64;
   bool bn = b->value_type == BSON_TYPE_DOUBLE || b->value_type == BSON_TYPE_INT32 || b->value_type == BSON_TYPE_INT64;
   bson_t wa = BSON_INITIALIZER, wb = BSON_INITIALIZER;
   bool eq;
   if (an && bn) {
      double x = a->value_type == BSON_TYPE_DOUBLE ? a->value.v_double
                 : a->value_type == BSON_TYPE_INT32 ? a->value.v_int32
                                                    : (double) a->value.v_int64;
      double y = b->value_type == BSON_TYPE_DOUBLE ? b->value.v_double
                 : b->value_type == BSON_TYPE_INT32 ? b->value.v_int32
                                                    : (double) b->value.v_int64;
      return x == y;
   }
   if (a->value_type != b->value_type) {
      return false;
   }
   bson_append_value (&wa, "v", 1, a);
   bson_append_value (&wb, "v", 1, b);
   eq = bson_equal (&wa, &wb);
   bson_destroy (&wa);
   bson_destroy (&wb);
   return eq;
}

static double
as_double (const bson_iter_t *it)
{
   return bson_iter_as_double (it);
}

/* Applies an array operator to the array at PATH of *DOC. */
static void
apply_array (bson_t **doc, const char *op, const char *path, bson_iter_t *arg)
{
   bson_t arr = BSON_INITIALIZER;
   bson_iter_t cur, el;
   uint32_t n = 0, total = 0, i;
   bson_value_t nv;
   bson_t values = BSON_INITIALIZER; /* the operand values, as an array */
   bson_iter_t vi;

   /* Operand list: {$each: [...]} or a single value. */
   if (BSON_ITER_HOLDS_DOCUMENT (arg)) {
      bson_iter_t sub;
      bson_iter_recurse (arg, &sub);
      if (bson_iter_next (&sub) && !strcmp (bson_iter_key (&sub), "$each")) {
         const uint8_t *data;
         uint32_t len;
         bson_t each;
         bson_iter_array (&sub, &len, &data);
         bson_init_static (&each, data, len);
         bson_destroy (&values);
         bson_copy_to (&each, &values);
      } else {
         bson_append_value (&values, "0", 1, bson_iter_value (arg));
      }
   } else {
      bson_append_value (&values, "0", 1, bson_iter_value (arg));
   }

   if (doc_get (*doc, path, &cur) && BSON_ITER_HOLDS_ARRAY (&cur)) {
      bson_iter_recurse (&cur, &el);
      while (bson_iter_next (&el)) {
         total++;
      }
      bson_iter_recurse (&cur, &el);
   }
   i = 0;
   if (doc_get (*doc, path, &cur) && BSON_ITER_HOLDS_ARRAY (&cur)) {
      bson_iter_recurse (&cur, &el);
      while (bson_iter_next (&el)) {
         bool keep = true;
         char key[16];
         if (!strcmp (op, "$pull")) {
            bson_iter_init (&vi, &values);
            while (keep && bson_iter_next (&vi)) {
               keep = !values_equal (bson_iter_value (&el), bson_iter_value (&vi));
            }
         } else if (!strcmp (op, "$pop")) {
            keep = bson_iter_as_int64 (arg) == 1 ? i + 1 < total : i > 0;
         }
         i++;
         if (keep) {
            bson_snprintf (key, sizeof key, "%u", n++);
            bson_append_value (&arr, key, -1, bson_iter_value (&el));
         }
      }
   }
   if (!strcmp (op, "$push") || !strcmp (op, "$addToSet")) {
      bson_iter_init (&vi, &values);
      while (bson_iter_next (&vi)) {
         char key[16];
         if (!strcmp (op, "$addToSet")) {
            bool present = false;
            bson_iter_t again;
            bson_iter_init (&again, &arr);
            while (!present && bson_iter_next (&again)) {
               present = values_equal (bson_iter_value (&again), bson_iter_value (&vi));
            }
            if (present) {
               continue;
            }
         }
         bson_snprintf (key, sizeof key, "%u", n++);
         bson_append_value (&arr, key, -1, bson_iter_value (&vi));
      }
   }
   nv.value_type = BSON_TYPE_ARRAY;
   nv.value.v_doc.data = (uint8_t *) bson_get_data (&arr);
   nv.value.v_doc.data_len = arr.len;
   doc_set (doc, path, &nv);
   bson_destroy (&arr);
   bson_destroy (&values);
}

/* Applies UPDATE to *DOC. INSERTING: also $setOnInsert. */
static void
apply_update (bson_t **doc, const bson_t *update, bool inserting, int64_t now_ms)
{
   bson_iter_t it, f;
   bson_iter_init (&it, update);
   while (bson_iter_next (&it)) {
      const char *op = bson_iter_key (&it);
      bson_iter_recurse (&it, &f);
      while (bson_iter_next (&f)) {
         const char *path = bson_iter_key (&f);
         bson_iter_t cur;
         bool has = doc_get (*doc, path, &cur);
         bson_value_t nv;
         if (!strcmp (op, "$set") || (!strcmp (op, "$setOnInsert") && inserting)) {
            doc_set (doc, path, bson_iter_value (&f));
         } else if (!strcmp (op, "$unset")) {
            doc_set (doc, path, NULL);
         } else if (!strcmp (op, "$inc") || !strcmp (op, "$mul")) {
            double base = has && BSON_ITER_HOLDS_NUMBER (&cur) ? as_double (&cur) : 0;
            nv.value_type = BSON_TYPE_DOUBLE;
            nv.value.v_double = !strcmp (op, "$inc") ? base + as_double (&f) : base * as_double (&f);
            doc_set (doc, path, &nv);
         } else if (!strcmp (op, "$min") || !strcmp (op, "$max")) {
            bool replace = !has || BSON_ITER_HOLDS_NULL (&cur);
            if (!replace && BSON_ITER_HOLDS_DATE_TIME (&f) && BSON_ITER_HOLDS_DATE_TIME (&cur)) {
               int64_t a = bson_iter_date_time (&f), b = bson_iter_date_time (&cur);
               replace = !strcmp (op, "$min") ? a < b : a > b;
            } else if (!replace && BSON_ITER_HOLDS_NUMBER (&f) && BSON_ITER_HOLDS_NUMBER (&cur)) {
               double a = as_double (&f), b = as_double (&cur);
               replace = !strcmp (op, "$min") ? a < b : a > b;
            }
            if (replace) {
               doc_set (doc, path, bson_iter_value (&f));
            }
         } else if (!strcmp (op, "$currentDate")) {
            nv.value_type = BSON_TYPE_DATE_TIME;
            nv.value.v_datetime = now_ms;
            doc_set (doc, path, &nv);
         } else if (!strcmp (op, "$push") || !strcmp (op, "$addToSet") || !strcmp (op, "$pull") ||
                    !strcmp (op, "$pop")) {
            apply_array (doc, op, path, &f);
         }
      }
   }
}

/* The document an upsert starts from: FILTER's equality conditions. */
static bson_t *
upsert_base (const bson_t *filter)
{
   bson_t *doc = bson_new ();
   bson_iter_t it;
   if (!filter || !bson_iter_init (&it, filter)) {
      return doc;
   }
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      if (k[0] == '$') {
         continue;
      }
      if (BSON_ITER_HOLDS_DOCUMENT (&it)) {
         bson_iter_t sub;
         bson_iter_recurse (&it, &sub);
         if (bson_iter_next (&sub) && bson_iter_key (&sub)[0] == '$') {
            if (!strcmp (bson_iter_key (&sub), "$eq")) {
               doc_set (&doc, k, bson_iter_value (&sub));
            }
            continue;
         }
      }
      doc_set (&doc, k, bson_iter_value (&it));
   }
   return doc;
}

/* Flattens DOC into dotted leaf paths under PREFIX, skipping paths the filter sets. */
static void
flatten (const bson_t *doc, const char *prefix, const bson_t *filter, bson_t *out)
{
   bson_iter_t it;
   bson_iter_init (&it, doc);
   while (bson_iter_next (&it)) {
      char path[ODM_PATH_MAX];
      bson_iter_t fi;
      bool skip = false;
      bson_snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", bson_iter_key (&it));
      if (filter && bson_iter_init (&fi, filter)) {
         while (!skip && bson_iter_next (&fi)) {
            const char *fk = bson_iter_key (&fi);
            size_t fl = strlen (fk), pl = strlen (path);
            /* equal, or one is a prefix of the other at a dot */
            skip = (fl == pl && !strcmp (fk, path)) || (fl < pl && !strncmp (fk, path, fl) && path[fl] == '.') ||
                   (pl < fl && !strncmp (fk, path, pl) && fk[pl] == '.' && !BSON_ITER_HOLDS_DOCUMENT (&it));
         }
      }
      if (skip) {
         continue;
      }
      if (BSON_ITER_HOLDS_DOCUMENT (&it)) {
         const uint8_t *data;
         uint32_t len;
         bson_t sub;
         bson_iter_document (&it, &len, &data);
         bson_init_static (&sub, data, len);
         if (!bson_empty (&sub)) {
            flatten (&sub, path, filter, out);
            continue;
         }
      }
      bson_append_iter (out, path, -1, &it);
   }
}

/* ------------------------------------------------------------- the update */

typedef struct {
   odm_client_t *client;
   const odm_schema_t *schema;
   const bson_t *update;
   const odm_update_opts_t *opts;
   int64_t now_ms;
   odm_violations_t *v;
   bson_error_t *error;
   mongoc_collection_t *coll;
} upd_t;

/* Runs the pre-save path on NEWDOC (PREVIOUS may be NULL) and encodes it into OUT. */
static bool
revalidate (upd_t *u, const bson_t *newdoc, const bson_t *stored, bool is_update, bson_t *out)
{
   const odm_schema_t *s = u->schema;
   void *doc = bson_malloc0 (s->root->size), *prev = NULL;
   odm_prepare_opts_t po = {.is_update = is_update, .now_ms = u->now_ms};
   bson_error_t e;
   bool ok = false;

   bson_init (out);
   if (!odm_from_bson (s, newdoc, doc, ODM_DECODE_DEFAULT, &e)) {
      odm_violations_add_error (u->v, &e);
      goto done;
   }
   if (stored) {
      prev = bson_malloc0 (s->root->size);
      if (odm_from_bson (s, stored, prev, ODM_DECODE_DEFAULT, &e)) {
         po.previous = prev;
      }
   }
   {
      odm_violations_t local;
      size_t i;
      bool valid = odm_prepare (s, doc, &po, &local);
      for (i = 0; i < local.count; i++) {
         odm_violations_add (u->v, local.items[i].path, local.items[i].rule, local.items[i].message);
      }
      odm_violations_cleanup (&local);
      if (!valid) {
         goto done;
      }
   }
   bson_destroy (out);
   if (!odm_to_bson (s, doc, out, u->error)) {
      bson_init (out);
      goto done;
   }
   ok = odm_check_doc_keys (s, doc, u->v);
done:
   if (prev) {
      odm_cleanup (s, prev);
      bson_free (prev);
   }
   odm_cleanup (s, doc);
   bson_free (doc);
   return ok;
}

/* One document: read by FILTER, apply, revalidate, conditional replace. *MATCHED += 0/1. */
static bool
update_one_doc (upd_t *u, const bson_t *filter, int64_t *matched)
{
   int attempt;
   for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      bson_t opts = BSON_INITIALIZER, *stored = NULL, *work, enc, reply, cond;
      mongoc_cursor_t *cur;
      const bson_t *d;
      bool ok;

      BSON_APPEND_INT32 (&opts, "limit", 1);
      cur = mongoc_collection_find_with_opts (u->coll, filter, &opts, NULL);
      if (mongoc_cursor_next (cur, &d)) {
         stored = bson_copy (d);
      }
      ok = !mongoc_cursor_error (cur, u->error);
      mongoc_cursor_destroy (cur);
      bson_destroy (&opts);
      if (!ok) {
         return false;
      }
      if (!stored) {
         if (!u->opts || !u->opts->upsert) {
            return true;
         }
         /* The insert branch: filter equalities + the update + $setOnInsert, then the create
          * path (defaults, createdAt, required fields), sent as a $setOnInsert upsert. */
         work = upsert_base (filter);
         apply_update (&work, u->update, true, u->now_ms);
         if (!revalidate (u, work, NULL, false, &enc)) {
            bson_destroy (work);
            bson_destroy (&enc);
            odm_violations_to_error (u->v, u->error);
            return false;
         }
         {
            bson_t up = BSON_INITIALIZER, soi, uopts = BSON_INITIALIZER;
            bson_iter_t it;
            BSON_APPEND_DOCUMENT_BEGIN (&up, "$setOnInsert", &soi);
            flatten (&enc, "", filter, &soi);
            bson_append_document_end (&up, &soi);
            BSON_APPEND_BOOL (&uopts, "upsert", true);
            ok = mongoc_collection_update_one (u->coll, filter, &up, &uopts, &reply, u->error);
            bson_destroy (&up);
            bson_destroy (&uopts);
            bson_destroy (work);
            if (!ok) {
               bson_destroy (&reply);
               odm_map_duplicate_doc (u->schema, u->error, u->v, u->coll, &enc);
               bson_destroy (&enc);
               return false;
            }
            bson_destroy (&enc);
            if (bson_iter_init_find (&it, &reply, "upsertedCount") && bson_iter_as_int64 (&it) == 1) {
               bson_destroy (&reply);
               return true;
            }
            bson_destroy (&reply);
            continue; /* someone inserted a match meanwhile: update it instead */
         }
      }
      work = bson_copy (stored);
      apply_update (&work, u->update, false, u->now_ms);
      if (!revalidate (u, work, stored, true, &enc)) {
         bson_destroy (work);
         bson_destroy (stored);
         bson_destroy (&enc);
         if (u->v->count) {
            odm_violations_to_error (u->v, u->error);
         }
         return false;
      }
      odm_conditional_filter (stored, &cond);
      ok = mongoc_collection_replace_one (u->coll, &cond, &enc, NULL, &reply, u->error);
      bson_destroy (&cond);
      bson_destroy (work);
      bson_destroy (stored);
      if (!ok) {
         bson_destroy (&reply);
         odm_map_duplicate_doc (u->schema, u->error, u->v, u->coll, &enc);
         bson_destroy (&enc);
         return false;
      }
      bson_destroy (&enc);
      {
         bson_iter_t it;
         bool hit = bson_iter_init_find (&it, &reply, "matchedCount") && bson_iter_as_int64 (&it) == 1;
         bson_destroy (&reply);
         if (hit) {
            (*matched)++;
            return true;
         }
      }
   }
   odm_set_error (u->error, ODM_ERROR_CONFLICT, NULL, "%s: the document kept changing during the update",
                  u->schema->collection);
   return false;
}

bool
odm_update_apply (const odm_schema_t *schema, const bson_t *stored, const bson_t *update,
                  const odm_update_opts_t *opts, bson_t *out, odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   upd_t u;
   bson_t *work;
   bool ok = false;

   memset (&u, 0, sizeof u);
   u.v = violations ? violations : &local;
   odm_violations_init (u.v);
   bson_init (out);
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !stored) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema or stored document is NULL");
      goto done;
   }
   if (!check_update (schema, update, u.v, error)) {
      goto done;
   }
   if (u.v->count) {
      odm_violations_to_error (u.v, error);
      goto done;
   }
   u.schema = schema;
   u.update = update;
   u.opts = opts;
   u.now_ms = opts && opts->now_ms ? opts->now_ms : odm_now_ms ();
   u.error = error;
   work = bson_copy (stored);
   apply_update (&work, update, false, u.now_ms);
   bson_destroy (out);
   ok = revalidate (&u, work, stored, true, out);
   bson_destroy (work);
   if (!ok && u.v->count) {
      odm_violations_to_error (u.v, error);
   }
done:
   if (u.v == &local) {
      odm_violations_cleanup (&local);
   }
   return ok;
}

bool
odm_update (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, const bson_t *update,
            const odm_update_opts_t *opts, int64_t *matched, odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   upd_t u;
   mongoc_client_t *mc;
   int64_t n = 0;
   bool ok;
   bson_t empty = BSON_INITIALIZER;

   memset (&u, 0, sizeof u);
   u.v = violations ? violations : &local;
   odm_violations_init (u.v);
   if (matched) {
      *matched = 0;
   }
   if (!client || !schema || schema->magic != ODM_SCHEMA_MAGIC) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client or schema is NULL");
      ok = false;
      goto done;
   }
   if (!filter) {
      filter = &empty;
   }
   if (!check_update (schema, update, u.v, error)) {
      ok = false;
      goto done;
   }
   if (u.v->count) {
      odm_violations_to_error (u.v, error);
      ok = false;
      goto done;
   }
   u.client = client;
   u.schema = schema;
   u.update = update;
   u.opts = opts;
   u.now_ms = opts && opts->now_ms ? opts->now_ms : odm_now_ms ();
   u.error = error;
   u.coll = odm_client_collection (client, schema, &mc);

   if (opts && opts->multi) {
      /* Every matching _id first, then each one on its own. */
      bson_t fopts = BSON_INITIALIZER, proj;
      mongoc_cursor_t *cur;
      const bson_t *d;
      bson_oid_t *ids = NULL;
      size_t count = 0, cap = 0, i;
      BSON_APPEND_DOCUMENT_BEGIN (&fopts, "projection", &proj);
      BSON_APPEND_INT32 (&proj, "_id", 1);
      bson_append_document_end (&fopts, &proj);
      cur = mongoc_collection_find_with_opts (u.coll, filter, &fopts, NULL);
      while (mongoc_cursor_next (cur, &d)) {
         bson_iter_t it;
         if (bson_iter_init_find (&it, d, "_id") && BSON_ITER_HOLDS_OID (&it)) {
            if (count == cap) {
               cap = cap ? cap * 2 : 16;
               ids = bson_realloc (ids, cap * sizeof *ids);
            }
            bson_oid_copy (bson_iter_oid (&it), &ids[count++]);
         }
      }
      ok = !mongoc_cursor_error (cur, error);
      mongoc_cursor_destroy (cur);
      bson_destroy (&fopts);
      for (i = 0; ok && i < count; i++) {
         bson_t one = BSON_INITIALIZER, and, a1;
         BSON_APPEND_ARRAY_BEGIN (&one, "$and", &and);
         BSON_APPEND_DOCUMENT (&and, "0", filter);
         BSON_APPEND_DOCUMENT_BEGIN (&and, "1", &a1);
         BSON_APPEND_OID (&a1, "_id", &ids[i]);
         bson_append_document_end (&and, &a1);
         bson_append_array_end (&one, &and);
         ok = update_one_doc (&u, &one, &n);
         bson_destroy (&one);
      }
      if (ok && count == 0 && opts->upsert) {
         ok = update_one_doc (&u, filter, &n);
      }
      bson_free (ids);
   } else {
      ok = update_one_doc (&u, filter, &n);
   }
   odm_client_release (client, u.coll, mc);
   if (matched) {
      *matched = n;
   }
done:
   if (u.v == &local) {
      odm_violations_cleanup (&local);
   }
   bson_destroy (&empty);
   return ok;
}
