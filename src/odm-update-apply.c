/* libodm: an operator update, in memory: parsed into items (one per operator field), each
 * checked against the spec (path, type, argument shape, depth), then applied to a stored
 * document in one walk over it. src/odm-update.c decides how the result is written. */
#include "odm-update-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- operators */


static const struct {
   const char *name;
   op_t op;
} op_names[] = {{"$set", OP_SET},       {"$unset", OP_UNSET},         {"$inc", OP_INC},
                {"$mul", OP_MUL},       {"$min", OP_MIN},             {"$max", OP_MAX},
                {"$push", OP_PUSH},     {"$addToSet", OP_ADDTOSET},   {"$pull", OP_PULL},
                {"$pop", OP_POP},       {"$currentDate", OP_CURRENTDATE}, {"$setOnInsert", OP_SETONINSERT}};

static const char *
op_name (op_t op)
{
   size_t i;
   for (i = 0; i < sizeof op_names / sizeof op_names[0]; i++) {
      if (op_names[i].op == op) {
         return op_names[i].name;
      }
   }
   return "?";
}

/* ------------------------------------------------------------- path resolution */


bool
odm_upd_all_digits (const char *s, size_t n)
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
   if (!strcmp (path, ODM_UPD_VERSION_KEY)) {
      r->version = true;
      return true;
   }
   while (*seg) {
      size_t n = strcspn (seg, ".");
      if (n == 0) {
         return false;
      }
      if (r->in_mixed) {
         /* below a mixed value */
      } else if (pending_index) {
         if (!odm_upd_all_digits (seg, n)) {
            return false;
         }
         pending_index = false;
         r->element = true;
         r->in_array = true;
         d = f->kind == ODM_KIND_OBJECT ? f->object : NULL;
      } else {
         uint32_t i;
         if (!d) {
            return false;
         }
         f = NULL;
         for (i = 0; i < d->field_count && !f; i++) {
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

static bool
is_number (const bson_value_t *v)
{
   return v->value_type == BSON_TYPE_DOUBLE || v->value_type == BSON_TYPE_INT32 || v->value_type == BSON_TYPE_INT64;
}

double
odm_upd_num (const bson_value_t *v)
{
   return v->value_type == BSON_TYPE_DOUBLE  ? v->value.v_double
          : v->value_type == BSON_TYPE_INT32 ? v->value.v_int32
          : v->value_type == BSON_TYPE_INT64 ? (double) v->value.v_int64
                                             : 0;
}

/* ------------------------------------------------------------- items */



void
odm_upd_items_add (items_t *it, op_t op, const char *path, const bson_value_t *arg, const resolved_t *r)
{
   if (it->n == it->cap) {
      it->cap = it->cap ? it->cap * 2 : 8;
      it->v = bson_realloc (it->v, it->cap * sizeof *it->v);
   }
   it->v[it->n].op = op;
   it->v[it->n].path = path;
   it->v[it->n].arg = *arg;
   it->v[it->n].r = *r;
   it->v[it->n].done = false;
   it->n++;
}

/* Order of path characters in which a segment's end comes first, then '.', so that
 * "a" < "a.b" < "a.c" < "a-b": every path is directly followed by the paths below it. */
static int
path_char (const char *p)
{
   return *p == '\0' ? -1 : *p == '.' ? 0 : (int) (unsigned char) *p + 1;
}

int
odm_upd_path_cmp (const char *a, const char *b)
{
   while (*a && *a == *b) {
      a++;
      b++;
   }
   return path_char (a) - path_char (b);
}

int
odm_upd_item_cmp (const void *a, const void *b)
{
   return odm_upd_path_cmp (((const item_t *) a)->path, ((const item_t *) b)->path);
}

/* Whether path A is B or lies below B ("a.b" below "a"). */
bool
odm_upd_path_within (const char *a, const char *b)
{
   size_t n = strlen (b);
   return !strncmp (a, b, n) && (a[n] == '\0' || a[n] == '.');
}

/* ------------------------------------------------------------- checking an update */

/* Depth of nested documents and arrays in V, stopping past LIMIT (no deep recursion). */
static bool
value_depth_ok (const bson_value_t *v, int budget)
{
   bson_t sub;
   bson_iter_t it;
   if (v->value_type != BSON_TYPE_DOCUMENT && v->value_type != BSON_TYPE_ARRAY) {
      return true;
   }
   if (budget <= 0) {
      return false;
   }
   if (!bson_init_static (&sub, v->value.v_doc.data, v->value.v_doc.data_len) || !bson_iter_init (&it, &sub)) {
      return false;
   }
   while (bson_iter_next (&it)) {
      if (!value_depth_ok (bson_iter_value (&it), budget - 1)) {
         return false;
      }
   }
   return true;
}

static size_t
path_segments (const char *p)
{
   size_t n = 1;
   for (; *p; p++) {
      n += *p == '.';
   }
   return n;
}

/* The shape of a $push/$addToSet argument: a value, or {$each: [...]} and nothing else.
 * Sets *EACH to the array when it is the latter. */
static bool
push_arg (op_t op, const char *path, const bson_value_t *arg, bson_value_t *each, bool *is_each, bson_error_t *error)
{
   bson_t sub;
   bson_iter_t it;
   *is_each = false;
   if (arg->value_type != BSON_TYPE_DOCUMENT) {
      return true;
   }
   if (!bson_init_static (&sub, arg->value.v_doc.data, arg->value.v_doc.data_len) || !bson_iter_init (&it, &sub)) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "malformed %s argument", op_name (op));
      return false;
   }
   if (!bson_iter_next (&it) || bson_iter_key (&it)[0] != '$') {
      return true; /* a document to add */
   }
   bson_iter_init (&it, &sub);
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      if (!strcmp (k, "$each")) {
         if (op == OP_PULL) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "$each is a modifier of $push and $addToSet, not $pull");
            return false;
         }
         if (!BSON_ITER_HOLDS_ARRAY (&it)) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "%s: $each takes an array", op_name (op));
            return false;
         }
         *each = *bson_iter_value (&it);
         *is_each = true;
      } else if (!strcmp (k, "$slice") || !strcmp (k, "$position") || !strcmp (k, "$sort")) {
         if (op != OP_PUSH) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "%s is a modifier of $push only", k);
            return false;
         }
         odm_set_error (error, ODM_ERROR_UNSUPPORTED, path, "$push supports {$each: [...]} only (no %s)", k);
         return false;
      } else if (op == OP_PULL) {
         odm_set_error (error, ODM_ERROR_UNSUPPORTED, path, "$pull supports equality only (no %s conditions)", k);
         return false;
      } else {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "unknown %s modifier %s", op_name (op), k);
         return false;
      }
   }
   if (!*is_each) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "%s: modifiers need $each", op_name (op));
      return false;
   }
   return true;
}

/* odm_check_keys over a document or array value written at PATH; violations under PATH. */
static void
check_value_keys (const char *path, const bson_value_t *val, odm_violations_t *v)
{
   bson_t sub;
   odm_violations_t kv;
   size_t k;
   if ((val->value_type != BSON_TYPE_DOCUMENT && val->value_type != BSON_TYPE_ARRAY) ||
       !bson_init_static (&sub, val->value.v_doc.data, val->value.v_doc.data_len)) {
      return;
   }
   odm_violations_init (&kv);
   odm_check_keys (&sub, &kv);
   for (k = 0; k < kv.count; k++) {
      char p2[ODM_PATH_MAX * 2];
      bson_snprintf (p2, sizeof p2, "%s.%s", path, kv.items[k].path);
      odm_violations_add (v, p2, kv.items[k].rule, kv.items[k].message);
   }
   odm_violations_cleanup (&kv);
}

/* Checks one operator's field against the spec and records it as an item. Adds
 * violations for what the spec refuses; returns false (ERROR set) for what libodm refuses
 * as an argument. */
static bool
check_op_field (const odm_schema_t *schema, op_t op, bson_iter_t *it, items_t *items, odm_violations_t *v,
                bson_error_t *error)
{
   const char *path = bson_iter_key (it);
   const bson_value_t *val = bson_iter_value (it);
   resolved_t r;
   const odm_field_t *f;
   bool on_array, is_each = false;
   bson_value_t each;
   char msg[256];
   uint32_t i;

   if (!*path || path[0] == '.' || strstr (path, "..") || path[strlen (path) - 1] == '.') {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s: an empty path or path segment", op_name (op));
      return false;
   }
   if (strlen (path) >= ODM_PATH_MAX || path_segments (path) > ODM_UPD_DEPTH_MAX) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s: a path longer than %d levels or %d bytes",
                     op_name (op), ODM_UPD_DEPTH_MAX, ODM_PATH_MAX - 1);
      return false;
   }
   if (strchr (path, '$')) {
      odm_set_error (error, ODM_ERROR_UNSUPPORTED, path, "positional and filtered updates ($, $[], $[id]) are not supported");
      return false;
   }
   if (!value_depth_ok (val, ODM_UPD_DEPTH_MAX - (int) path_segments (path))) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "the value nests deeper than %d levels", ODM_UPD_DEPTH_MAX);
      return false;
   }
   /* Argument shapes first: they hold whatever the path resolves to. */
   switch (op) {
   case OP_INC:
   case OP_MUL:
      if (!is_number (val)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "%s takes a number", op_name (op));
         return false;
      }
      break;
   case OP_POP:
      if (!is_number (val) || (odm_upd_num (val) != 1 && odm_upd_num (val) != -1)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "$pop takes 1 or -1");
         return false;
      }
      break;
   case OP_CURRENTDATE:
      if (val->value_type == BSON_TYPE_DOCUMENT) {
         bson_t sub;
         bson_iter_t t;
         if (!bson_init_static (&sub, val->value.v_doc.data, val->value.v_doc.data_len) ||
             !bson_iter_init_find (&t, &sub, "$type") || !BSON_ITER_HOLDS_UTF8 (&t) ||
             strcmp (bson_iter_utf8 (&t, NULL), "date") != 0 || bson_count_keys (&sub) != 1) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "$currentDate takes true or {$type: \"date\"}");
            return false;
         }
      } else if (val->value_type != BSON_TYPE_BOOL || !val->value.v_bool) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "$currentDate takes true or {$type: \"date\"}");
         return false;
      }
      break;
   case OP_PUSH:
   case OP_ADDTOSET:
   case OP_PULL:
      if (!push_arg (op, path, val, &each, &is_each, error)) {
         return false;
      }
      if (op == OP_PULL && val->value_type == BSON_TYPE_DOCUMENT) {
         bson_t cond;
         bson_iter_t ci, inner;
         if (bson_init_static (&cond, val->value.v_doc.data, val->value.v_doc.data_len) && bson_iter_init (&ci, &cond)) {
            while (bson_iter_next (&ci)) {
               if (BSON_ITER_HOLDS_DOCUMENT (&ci) && bson_iter_recurse (&ci, &inner) && bson_iter_next (&inner) &&
                   bson_iter_key (&inner)[0] == '$') {
                  odm_set_error (error, ODM_ERROR_UNSUPPORTED, path,
                                 "$pull supports equality only (no %s condition on %s)", bson_iter_key (&inner),
                                 bson_iter_key (&ci));
                  return false;
               }
            }
         }
      }
      break;
   default:
      break;
   }

   if (!strcmp (path, "_id") || !strncmp (path, "_id.", 4)) {
      odm_violations_add (v, path, "immutable", "_id cannot be changed");
      return true;
   }
   for (i = 0; i < schema->root->field_count; i++) {
      const odm_field_t *tf = &schema->root->fields[i];
      if ((tf->flags & (ODM_F_CREATED_AT | ODM_F_UPDATED_AT)) && odm_upd_path_within (path, tf->name)) {
         bson_snprintf (msg, sizeof msg, "%s is managed by libodm and cannot be changed by an update", tf->name);
         odm_violations_add (v, path, "immutable", msg);
         return true;
      }
   }
   if (!resolve (schema, path, &r)) {
      odm_violations_add (v, path, "unknown", "no such path in the schema");
      return true;
   }
   if (r.version) {
      if ((op != OP_SET && op != OP_INC && op != OP_MAX) || !is_number (val)) {
         odm_violations_add (v, path, "type", "the version key takes $set, $inc or $max of a number");
      } else {
         odm_upd_items_add (items, op, path, val, &r);
      }
      return true;
   }
   if (r.in_mixed) {
      if (op == OP_SET || op == OP_SETONINSERT || op == OP_PUSH || op == OP_ADDTOSET) {
         check_value_keys (path, val, v);
      }
      odm_upd_items_add (items, op, path, val, &r);
      return true;
   }
   f = r.field;
   on_array = (f->flags & ODM_F_ARRAY) && !r.element;

   switch (op) {
   case OP_SET:
   case OP_SETONINSERT: {
      bool ok = on_array ? (val->value_type == BSON_TYPE_ARRAY || val->value_type == BSON_TYPE_NULL) : fits (f->kind, val);
      if (!ok) {
         bson_snprintf (msg, sizeof msg, "expected %s%s", on_array ? "array of " : "", kind_word (f->kind));
         odm_violations_add (v, path, "type", msg);
      }
      check_value_keys (path, val, v);
      if (val->value_type == BSON_TYPE_NULL && r.required_in_doc) {
         odm_violations_add (v, path, ODM_FIELD_RULE_NAME (required), "a required field cannot be set to null");
      }
      break;
   }
   case OP_UNSET:
      if (r.required_in_doc) {
         odm_violations_add (v, path, ODM_FIELD_RULE_NAME (required), "a required field cannot be unset");
      } else if (r.element) {
         odm_violations_add (v, path, "type", "array elements cannot be unset (use $pull)");
      }
      break;
   case OP_INC:
   case OP_MUL:
      if (on_array || f->kind != ODM_KIND_NUMBER) {
         odm_violations_add (v, path, "type", "only numbers can be incremented or multiplied");
      }
      break;
   case OP_MIN:
   case OP_MAX:
      if (on_array || (f->kind != ODM_KIND_NUMBER && f->kind != ODM_KIND_DATE) || !fits (f->kind, val) ||
          val->value_type == BSON_TYPE_NULL) {
         odm_violations_add (v, path, "type", "expected a number or a date of the field's type");
      }
      break;
   case OP_CURRENTDATE:
      if (on_array || f->kind != ODM_KIND_DATE) {
         odm_violations_add (v, path, "type", "only dates can be set to the current date");
      }
      break;
   case OP_PUSH:
   case OP_ADDTOSET:
   case OP_PULL:
      if (!on_array) {
         odm_violations_add (v, path, "type", "not an array");
         break;
      }
      if (is_each) {
         bson_t arr;
         bson_iter_t e;
         if (bson_init_static (&arr, each.value.v_doc.data, each.value.v_doc.data_len) && bson_iter_init (&e, &arr)) {
            while (bson_iter_next (&e)) {
               if (!fits (f->kind, bson_iter_value (&e)) || BSON_ITER_HOLDS_NULL (&e)) {
                  bson_snprintf (msg, sizeof msg, "element %s: expected %s", bson_iter_key (&e), kind_word (f->kind));
                  odm_violations_add (v, path, "type", msg);
               }
            }
         }
      } else if (!fits (f->kind, val) || val->value_type == BSON_TYPE_NULL) {
         bson_snprintf (msg, sizeof msg, "expected %s", kind_word (f->kind));
         odm_violations_add (v, path, "type", msg);
      }
      break;
   case OP_POP:
      if (!on_array) {
         odm_violations_add (v, path, "type", "not an array");
      }
      break;
   }
   odm_upd_items_add (items, op, path, val, &r);
   return true;
}

/* Parses and checks UPDATE into ITEMS (sorted by path). Violations for what the spec
 * refuses; false with ERROR for arguments libodm refuses. */
bool
odm_upd_check_update (const odm_schema_t *schema, const bson_t *update, items_t *items, odm_violations_t *v,
                      bson_error_t *error)
{
   bson_iter_t it, fields;
   size_t i;
   if (!update || bson_empty (update)) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the update is empty");
      return false;
   }
   {
      /* depth first: libbson's own checks recurse without a bound */
      bson_value_t whole;
      whole.value_type = BSON_TYPE_DOCUMENT;
      whole.value.v_doc.data = (uint8_t *) bson_get_data (update);
      whole.value.v_doc.data_len = update->len;
      if (!value_depth_ok (&whole, ODM_UPD_DEPTH_MAX + 2)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the update nests deeper than %d levels", ODM_UPD_DEPTH_MAX);
         return false;
      }
   }
   /* the decoder's own byte check: strict UTF-8 without NUL in every key and string-bearing
    * value, dates in range; what the update writes is then readable */
   if (!odm_bson_check (update, error) || !bson_iter_init (&it, update)) {
      return false;
   }
   while (bson_iter_next (&it)) {
      const char *opk = bson_iter_key (&it);
      op_t op = 0;
      size_t k;
      for (k = 0; k < sizeof op_names / sizeof op_names[0] && !op; k++) {
         if (!strcmp (opk, op_names[k].name)) {
            op = op_names[k].op;
         }
      }
      if (opk[0] != '$') {
         odm_set_error (error, ODM_ERROR_UNSUPPORTED, NULL,
                        "replacement documents are not updates (field \"%s\"): use odm_save, or $set", opk);
         return false;
      }
      if (!op) {
         odm_set_error (error, ODM_ERROR_UNSUPPORTED, NULL, "update operator %s is not supported", opk);
         return false;
      }
      if (!BSON_ITER_HOLDS_DOCUMENT (&it) || !bson_iter_recurse (&it, &fields)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s: expected a document of paths", opk);
         return false;
      }
      if (!bson_iter_next (&fields)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s: no paths (an empty operator document)", opk);
         return false;
      }
      do {
         if (!check_op_field (schema, op, &fields, items, v, error)) {
            return false;
         }
      } while (bson_iter_next (&fields));
   }
   if (items->n) {
      qsort (items->v, items->n, sizeof *items->v, odm_upd_item_cmp);
   }
   for (i = 1; i < items->n; i++) {
      if (odm_upd_path_within (items->v[i].path, items->v[i - 1].path)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, items->v[i].path, "conflicts with %s %s in the same update",
                        op_name (items->v[i - 1].op), items->v[i - 1].path);
         return false;
      }
   }
   return true;
}

/* ------------------------------------------------------------- value sets (hashing) */

bool
odm_upd_values_equal (const bson_value_t *a, const bson_value_t *b)
{
   if (is_number (a) && is_number (b)) {
      if (a->value_type == BSON_TYPE_INT64 && b->value_type == BSON_TYPE_INT64) {
         return a->value.v_int64 == b->value.v_int64;
      }
      return odm_upd_num (a) == odm_upd_num (b);
   }
   if (a->value_type != b->value_type) {
      return false;
   }
   switch (a->value_type) {
   case BSON_TYPE_UTF8:
      return a->value.v_utf8.len == b->value.v_utf8.len &&
             !memcmp (a->value.v_utf8.str, b->value.v_utf8.str, a->value.v_utf8.len);
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY:
      return a->value.v_doc.data_len == b->value.v_doc.data_len &&
             !memcmp (a->value.v_doc.data, b->value.v_doc.data, a->value.v_doc.data_len);
   case BSON_TYPE_OID:
      return bson_oid_equal (&a->value.v_oid, &b->value.v_oid);
   case BSON_TYPE_BOOL:
      return a->value.v_bool == b->value.v_bool;
   case BSON_TYPE_DATE_TIME:
      return a->value.v_datetime == b->value.v_datetime;
   case BSON_TYPE_NULL:
   case BSON_TYPE_UNDEFINED:
   case BSON_TYPE_MINKEY:
   case BSON_TYPE_MAXKEY:
      return true;
   default: {
      bson_t wa = BSON_INITIALIZER, wb = BSON_INITIALIZER;
      bool eq;
      bson_append_value (&wa, "v", 1, a);
      bson_append_value (&wb, "v", 1, b);
      eq = bson_equal (&wa, &wb);
      bson_destroy (&wa);
      bson_destroy (&wb);
      return eq;
   }
   }
}

static uint64_t
fnv (uint64_t h, const void *data, size_t n)
{
   const uint8_t *p = data;
   size_t i;
   for (i = 0; i < n; i++) {
      h = (h ^ p[i]) * 1099511628211ull;
   }
   return h;
}

/* A hash consistent with odm_upd_values_equal: numbers by value, the rest by type and bytes. */
static uint64_t
value_hash (const bson_value_t *v)
{
   uint64_t h = 1469598103934665603ull;
   if (is_number (v)) {
      double d = odm_upd_num (v);
      if (d == 0) {
         d = 0; /* -0 == 0 */
      }
      if (d != d) {
         return 7;
      }
      return fnv (h ^ 1, &d, sizeof d);
   }
   h = fnv (h, &v->value_type, sizeof v->value_type);
   switch (v->value_type) {
   case BSON_TYPE_UTF8:
      return fnv (h, v->value.v_utf8.str, v->value.v_utf8.len);
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY:
      return fnv (h, v->value.v_doc.data, v->value.v_doc.data_len);
   case BSON_TYPE_OID:
      return fnv (h, v->value.v_oid.bytes, 12);
   case BSON_TYPE_BOOL:
      return fnv (h, &v->value.v_bool, 1);
   case BSON_TYPE_DATE_TIME:
      return fnv (h, &v->value.v_datetime, 8);
   default:
      return h;
   }
}

typedef struct {
   const bson_value_t **slot;
   size_t mask, n;
} vset_t;

static void
vset_init (vset_t *s, size_t expect)
{
   size_t cap = 16;
   while (cap < expect * 2 + 1) {
      cap *= 2;
   }
   s->slot = bson_malloc0 (cap * sizeof *s->slot);
   s->mask = cap - 1;
   s->n = 0;
}

static bool
vset_has (const vset_t *s, const bson_value_t *v)
{
   size_t i = (size_t) value_hash (v) & s->mask;
   while (s->slot[i]) {
      if (odm_upd_values_equal (s->slot[i], v)) {
         return true;
      }
      i = (i + 1) & s->mask;
   }
   return false;
}

/* Adds V (which must outlive the set) unless an equal value is there; returns whether added. */
static bool
vset_add (vset_t *s, const bson_value_t *v)
{
   size_t i;
   if (2 * (s->n + 1) > s->mask + 1) {
      vset_t bigger;
      size_t k;
      vset_init (&bigger, (s->mask + 1));
      for (k = 0; k <= s->mask; k++) {
         if (s->slot[k]) {
            size_t j = (size_t) value_hash (s->slot[k]) & bigger.mask;
            while (bigger.slot[j]) {
               j = (j + 1) & bigger.mask;
            }
            bigger.slot[j] = s->slot[k];
            bigger.n++;
         }
      }
      bson_free (s->slot);
      *s = bigger;
   }
   i = (size_t) value_hash (v) & s->mask;
   while (s->slot[i]) {
      if (odm_upd_values_equal (s->slot[i], v)) {
         return false;
      }
      i = (i + 1) & s->mask;
   }
   s->slot[i] = v;
   s->n++;
   return true;
}

static void
vset_destroy (vset_t *s)
{
   bson_free (s->slot);
}

/* ------------------------------------------------------------- applying items */


static bool
apply_fail (apply_ctx_t *c, const item_t *item, uint32_t code, const char *fmt, const char *a)
{
   odm_set_error (c->error, code, item->path, fmt, a);
   c->bad_path = item->path;
   return false;
}

/* $inc / $mul with MongoDB's type rules: int32 op int32 stays int32 unless it overflows
 * (then int64), int64 stays int64 (overflow is an error), anything with a double is double. */
static bool
arith (apply_ctx_t *c, const item_t *item, const bson_value_t *cur, bson_value_t *out)
{
   const bson_value_t *a = &item->arg;
   bson_value_t zero;
   bool mul = item->op == OP_MUL;
   if (!cur) {
      zero.value_type = a->value_type == BSON_TYPE_DOUBLE ? BSON_TYPE_DOUBLE : BSON_TYPE_INT32;
      zero.value.v_double = 0;
      if (zero.value_type == BSON_TYPE_INT32) {
         zero.value.v_int32 = 0;
      }
      cur = &zero;
   }
   if (!is_number (cur)) {
      return apply_fail (c, item, ODM_ERROR_TYPE, "%s needs a number, and the stored value is not one", op_name (item->op));
   }
   if (cur->value_type == BSON_TYPE_DOUBLE || a->value_type == BSON_TYPE_DOUBLE) {
      out->value_type = BSON_TYPE_DOUBLE;
      out->value.v_double = mul ? odm_upd_num (cur) * odm_upd_num (a) : odm_upd_num (cur) + odm_upd_num (a);
      return true;
   }
   {
      int64_t x = cur->value_type == BSON_TYPE_INT32 ? cur->value.v_int32 : cur->value.v_int64;
      int64_t y = a->value_type == BSON_TYPE_INT32 ? a->value.v_int32 : a->value.v_int64;
      int64_t r;
      bool both32 = cur->value_type == BSON_TYPE_INT32 && a->value_type == BSON_TYPE_INT32;
      if (mul ? __builtin_mul_overflow (x, y, &r) : __builtin_add_overflow (x, y, &r)) {
         return apply_fail (c, item, ODM_ERROR_RANGE, "%s overflows a 64-bit integer", op_name (item->op));
      }
      if (both32 && r >= INT32_MIN && r <= INT32_MAX) {
         out->value_type = BSON_TYPE_INT32;
         out->value.v_int32 = (int32_t) r;
      } else {
         out->value_type = BSON_TYPE_INT64;
         out->value.v_int64 = r;
      }
      return true;
   }
}

static int
cmp_order (const bson_value_t *a, const bson_value_t *b, bool *comparable)
{
   *comparable = true;
   if (is_number (a) && is_number (b)) {
      double x = odm_upd_num (a), y = odm_upd_num (b);
      return x < y ? -1 : x > y;
   }
   if (a->value_type == BSON_TYPE_DATE_TIME && b->value_type == BSON_TYPE_DATE_TIME) {
      return a->value.v_datetime < b->value.v_datetime ? -1 : a->value.v_datetime > b->value.v_datetime;
   }
   *comparable = false;
   return 0;
}

/* $pull with a document removes the elements that have its fields with equal values, in
 * any order and with other fields beside them, as MongoDB matches it. */
static bool
doc_matches (const bson_value_t *el, const bson_value_t *cond)
{
   bson_t e, c;
   bson_iter_t ci, ei;
   if (el->value_type != BSON_TYPE_DOCUMENT || cond->value_type != BSON_TYPE_DOCUMENT ||
       !bson_init_static (&e, el->value.v_doc.data, el->value.v_doc.data_len) ||
       !bson_init_static (&c, cond->value.v_doc.data, cond->value.v_doc.data_len) || !bson_iter_init (&ci, &c)) {
      return false;
   }
   while (bson_iter_next (&ci)) {
      if (!bson_iter_init_find (&ei, &e, bson_iter_key (&ci)) || !odm_upd_values_equal (bson_iter_value (&ei), bson_iter_value (&ci))) {
         return false;
      }
   }
   return true;
}

/* Array operators: builds the new array from CUR (NULL = absent) into OUT_ARR. */
static bool
apply_array (apply_ctx_t *c, const item_t *item, const bson_value_t *cur, bson_t *out_arr)
{
   bson_t cur_doc, arg_doc;
   bson_iter_t el;
   uint32_t n = 0, total = 0, i = 0;
   char key[16];
   const char *k;
   bson_value_t single = item->arg, each;
   bool is_each = false;
   bson_error_t ignored;

   if (cur && cur->value_type != BSON_TYPE_ARRAY) {
      return apply_fail (c, item, ODM_ERROR_TYPE, "%s needs an array, and the stored value is not one", op_name (item->op));
   }
   if (item->op != OP_POP) {
      push_arg (item->op, item->path, &item->arg, &each, &is_each, &ignored);
   }
   bson_init_static (&arg_doc, (const uint8_t *) "\5\0\0\0", 5);
   if (is_each && !bson_init_static (&arg_doc, each.value.v_doc.data, each.value.v_doc.data_len)) {
      return apply_fail (c, item, ODM_ERROR_CORRUPT_BSON, "%s: $each is not valid BSON", op_name (item->op));
   }
   if (cur) {
      if (!bson_init_static (&cur_doc, cur->value.v_doc.data, cur->value.v_doc.data_len) ||
          !bson_iter_init (&el, &cur_doc)) {
         return apply_fail (c, item, ODM_ERROR_CORRUPT_BSON, "%s: the stored array is not valid BSON", op_name (item->op));
      }
      while (bson_iter_next (&el)) {
         total++;
      }
   }
   switch (item->op) {
   case OP_PUSH:
   case OP_ADDTOSET: {
      vset_t seen;
      bool dedupe = item->op == OP_ADDTOSET;
      if (dedupe) {
         vset_init (&seen, total + 8);
      }
      if (cur) {
         bson_iter_init (&el, &cur_doc);
         while (bson_iter_next (&el)) {
            odm_index_key (n++, &k, key, sizeof key);
            bson_append_value (out_arr, k, -1, bson_iter_value (&el));
         }
         if (dedupe) {
            /* the stored elements, as views into CUR */
            bson_iter_init (&el, &cur_doc);
            while (bson_iter_next (&el)) {
               const bson_value_t *vv = bson_iter_value (&el);
               bson_value_t *copy = bson_malloc (sizeof *copy);
               *copy = *vv;
               if (!vset_add (&seen, copy)) {
                  bson_free (copy);
               }
            }
         }
      }
      if (is_each) {
         bson_iter_init (&el, &arg_doc);
         while (bson_iter_next (&el)) {
            const bson_value_t *vv = bson_iter_value (&el);
            if (dedupe) {
               bson_value_t *copy;
               if (vset_has (&seen, vv)) {
                  continue;
               }
               copy = bson_malloc (sizeof *copy);
               *copy = *vv;
               vset_add (&seen, copy);
            }
            odm_index_key (n++, &k, key, sizeof key);
            bson_append_value (out_arr, k, -1, vv);
         }
      } else if (!dedupe || !vset_has (&seen, &single)) {
         odm_index_key (n++, &k, key, sizeof key);
         bson_append_value (out_arr, k, -1, &single);
      }
      if (dedupe) {
         size_t s;
         for (s = 0; s <= seen.mask; s++) {
            bson_free ((void *) seen.slot[s]);
         }
         vset_destroy (&seen);
      }
      return true;
   }
   case OP_PULL: {
      vset_t drop;
      vset_init (&drop, 8);
      vset_add (&drop, &single); /* $pull takes one value ($each was refused by the check) */
      if (cur) {
         bson_iter_init (&el, &cur_doc);
         while (bson_iter_next (&el)) {
            if (!vset_has (&drop, bson_iter_value (&el)) && !doc_matches (bson_iter_value (&el), &single)) {
               odm_index_key (n++, &k, key, sizeof key);
               bson_append_value (out_arr, k, -1, bson_iter_value (&el));
            }
         }
      }
      vset_destroy (&drop);
      return true;
   }
   case OP_POP:
      if (cur) {
         bool first = odm_upd_num (&item->arg) == -1;
         bson_iter_init (&el, &cur_doc);
         while (bson_iter_next (&el)) {
            bool keep = first ? i > 0 : i + 1 < total;
            i++;
            if (keep) {
               odm_index_key (n++, &k, key, sizeof key);
               bson_append_value (out_arr, k, -1, bson_iter_value (&el));
            }
         }
      }
      return true;
   default:
      return true;
   }
}

/* Applies one item to the value CUR (NULL = absent) stored under KEY: appends the new
 * value to DST (or nothing, for a removal). */
static bool
apply_leaf (apply_ctx_t *c, const item_t *item, const char *key, size_t key_len, const bson_value_t *cur, bson_t *dst)
{
   bson_value_t nv;
   switch (item->op) {
   case OP_SETONINSERT:
      if (!c->inserting) {
         if (cur) {
            bson_append_value (dst, key, (int) key_len, cur);
         }
         return true;
      }
      /* fall through */
   case OP_SET:
      bson_append_value (dst, key, (int) key_len, &item->arg);
      return true;
   case OP_UNSET:
      return true;
   case OP_INC:
   case OP_MUL:
      if (!arith (c, item, cur, &nv)) {
         return false;
      }
      bson_append_value (dst, key, (int) key_len, &nv);
      return true;
   case OP_MIN:
   case OP_MAX: {
      bool comparable;
      int o;
      if (!cur || cur->value_type == BSON_TYPE_NULL) {
         bson_append_value (dst, key, (int) key_len, &item->arg);
         return true;
      }
      o = cmp_order (&item->arg, cur, &comparable);
      if (comparable && (item->op == OP_MIN ? o < 0 : o > 0)) {
         bson_append_value (dst, key, (int) key_len, &item->arg);
      } else {
         bson_append_value (dst, key, (int) key_len, cur);
      }
      return true;
   }
   case OP_CURRENTDATE:
      bson_append_date_time (dst, key, (int) key_len, c->now_ms);
      return true;
   case OP_PUSH:
   case OP_ADDTOSET:
   case OP_PULL:
   case OP_POP: {
      bson_t arr;
      bool ok;
      if (!cur && (item->op == OP_PULL || item->op == OP_POP)) {
         return true;
      }
      bson_append_array_begin (dst, key, (int) key_len, &arr);
      ok = apply_array (c, item, cur, &arr);
      bson_append_array_end (dst, &arr);
      return ok;
   }
   }
   return true;
}

/* Compares the segment of ITEM's path starting at OFF with KEY. */
static int
seg_cmp (const item_t *item, size_t off, const char *key, size_t key_len)
{
   const char *p = item->path + off;
   size_t i = 0;
   while (p[i] && p[i] != '.' && i < key_len && p[i] == key[i]) {
      i++;
   }
   {
      int a = (p[i] == '\0' || p[i] == '.') ? -1 : (int) (unsigned char) p[i] + 1;
      int b = i == key_len ? -1 : key[i] == '.' ? 0 : (int) (unsigned char) key[i] + 1;
      return a - b;
   }
}

static size_t
seg_len (const item_t *item, size_t off)
{
   return strcspn (item->path + off, ".");
}

/* The items [lo, hi) whose segment at OFF equals KEY: returns the first, sets *END. */
static size_t
find_group (item_t *items, size_t lo, size_t hi, size_t off, const char *key, size_t key_len, size_t *end)
{
   size_t a = lo, b = hi;
   while (a < b) {
      size_t m = a + (b - a) / 2;
      if (seg_cmp (&items[m], off, key, key_len) < 0) {
         a = m + 1;
      } else {
         b = m;
      }
   }
   *end = a;
   while (*end < hi && seg_cmp (&items[*end], off, key, key_len) == 0) {
      (*end)++;
   }
   return a;
}

bool odm_upd_apply_level (apply_ctx_t *c, const bson_t *src, bool is_array, item_t *items, size_t lo, size_t hi,
                         size_t off, bson_t *dst, int depth);

/* Applies the group [g, ge) (same segment KEY at OFF) to CUR (NULL = absent). */
static bool apply_group_ (apply_ctx_t *c, item_t *items, size_t g, size_t ge, size_t off, const char *key,
                          size_t key_len, const bson_value_t *cur, bson_t *dst, int depth);

static bool
apply_group (apply_ctx_t *c, item_t *items, size_t g, size_t ge, size_t off, const char *key, size_t key_len,
             const bson_value_t *cur, bson_t *dst, int depth)
{
   size_t k;
   bool ok = apply_group_ (c, items, g, ge, off, key, key_len, cur, dst, depth);
   for (k = g; k < ge; k++) {
      items[k].done = true;
   }
   return ok;
}

static bool
apply_group_ (apply_ctx_t *c, item_t *items, size_t g, size_t ge, size_t off, const char *key, size_t key_len,
              const bson_value_t *cur, bson_t *dst, int depth)
{
   size_t k;
   if (items[g].path[off + key_len] == '\0') {
      /* conflicts were refused: the path ending here is the group's only item */
      return apply_leaf (c, &items[g], key, key_len, cur, dst);
   }
   if (depth >= ODM_UPD_DEPTH_MAX) {
      return apply_fail (c, &items[g], ODM_ERROR_INVALID_ARGUMENT, "%s: the path is too deep", op_name (items[g].op));
   }
   if (cur && cur->value_type != BSON_TYPE_DOCUMENT && cur->value_type != BSON_TYPE_ARRAY) {
      /* removals below a scalar remove nothing; anything else cannot create a field there */
      if (items[g].op == OP_UNSET || items[g].op == OP_PULL || items[g].op == OP_POP ||
          (items[g].op == OP_SETONINSERT && !c->inserting)) {
         bson_append_value (dst, key, (int) key_len, cur);
         return true;
      }
      return apply_fail (c, &items[g], ODM_ERROR_TYPE, "cannot create a field inside a %s value",
                         cur->value_type == BSON_TYPE_NULL ? "null" : "non-object");
   }
   {
      bson_t child, sub;
      bool arr = cur && cur->value_type == BSON_TYPE_ARRAY;
      bool ok;
      bool any_creates = false;
      /* A removal below an absent parent creates nothing. */
      if (!cur) {
         for (k = g; k < ge && !any_creates; k++) {
            any_creates = items[k].op != OP_UNSET && items[k].op != OP_PULL && items[k].op != OP_POP &&
                          (items[k].op != OP_SETONINSERT || c->inserting);
         }
         if (!any_creates) {
            return true;
         }
      }
      if (cur) {
         bson_init_static (&sub, cur->value.v_doc.data, cur->value.v_doc.data_len);
      }
      if (arr) {
         bson_append_array_begin (dst, key, (int) key_len, &child);
      } else {
         bson_append_document_begin (dst, key, (int) key_len, &child);
      }
      ok = odm_upd_apply_level (c, cur ? &sub : NULL, arr, items, g, ge, off + key_len + 1, &child, depth + 1);
      if (arr) {
         bson_append_array_end (dst, &child);
      } else {
         bson_append_document_end (dst, &child);
      }
      return ok;
   }
}

static int
index_of (const char *s, size_t n)
{
   return odm_upd_all_digits (s, n) ? atoi (s) : -1;
}

/* qsort context for ordering new array elements by index (apply runs on one thread per
 * call, and the sort never re-enters). */
static __thread item_t *idx_items;
static __thread size_t idx_off;

static int
head_cmp (const void *a, const void *b)
{
   const item_t *x = &idx_items[*(const size_t *) a], *y = &idx_items[*(const size_t *) b];
   int ix = index_of (x->path + idx_off, seg_len (x, idx_off)), iy = index_of (y->path + idx_off, seg_len (y, idx_off));
   return (ix > iy) - (ix < iy);
}

/* One level: the fields of SRC (may be NULL) in order, with the items [lo, hi) whose
 * paths continue at OFF applied; new fields appended after. */
bool
odm_upd_apply_level (apply_ctx_t *c, const bson_t *src, bool is_array, item_t *items, size_t lo, size_t hi, size_t off,
                     bson_t *dst, int depth)
{
   bson_iter_t it;
   uint32_t count = 0;
   size_t k;

   if (src && bson_iter_init (&it, src)) {
      while (bson_iter_next (&it)) {
         const char *key = bson_iter_key (&it);
         size_t key_len = bson_iter_key_len (&it), ge;
         size_t g = find_group (items, lo, hi, off, key, key_len, &ge);
         count++;
         if (g == ge) {
            bson_append_iter (dst, key, (int) key_len, &it);
            continue;
         }
         if (!apply_group (c, items, g, ge, off, key, key_len, bson_iter_value (&it), dst, depth)) {
            return false;
         }
      }
   }
   if (is_array) {
      /* New elements: each index must be the next one (no padding past the end). */
      size_t *heads = NULL, nh = 0, h;
      bool ok = true;
      for (k = lo; k < hi; k++) {
         if (!items[k].done && (k == lo || seg_cmp (&items[k], off, items[k - 1].path + off, seg_len (&items[k - 1], off)) != 0)) {
            heads = bson_realloc (heads, (nh + 1) * sizeof *heads);
            heads[nh++] = k;
         }
      }
      if (nh > 1) {
         idx_items = items;
         idx_off = off;
         qsort (heads, nh, sizeof *heads, head_cmp);
      }
      for (h = 0; h < nh && ok; h++) {
         size_t g = heads[h], ge, kl = seg_len (&items[g], off);
         char key[16];
         if (items[g].done || index_of (items[g].path + off, kl) != (int) count) {
            continue;
         }
         find_group (items, lo, hi, off, items[g].path + off, kl, &ge);
         bson_snprintf (key, sizeof key, "%u", count);
         ok = apply_group (c, items, g, ge, off, key, strlen (key), NULL, dst, depth);
         count++;
      }
      bson_free (heads);
      if (!ok) {
         return false;
      }
      for (k = lo; k < hi; k++) {
         if (!items[k].done && items[k].op != OP_UNSET && items[k].op != OP_PULL && items[k].op != OP_POP &&
             (items[k].op != OP_SETONINSERT || c->inserting)) {
            return apply_fail (c, &items[k], ODM_ERROR_INVALID_ARGUMENT,
                               "%s: an array index past the end of the array (libodm appends at the end only; "
                               "MongoDB would pad with nulls)",
                               op_name (items[k].op));
         }
         items[k].done = true;
      }
      return true;
   }
   for (k = lo; k < hi; k++) {
      size_t ge, kl;
      if (items[k].done) {
         continue;
      }
      kl = seg_len (&items[k], off);
      find_group (items, lo, hi, off, items[k].path + off, kl, &ge);
      if (!apply_group (c, items, k, ge, off, items[k].path + off, kl, NULL, dst, depth)) {
         return false;
      }
      k = ge - 1;
   }
   return true;
}

/* Applies ITEMS to DOC into OUT (initialised here). */
bool
odm_upd_apply_items (items_t *items, const bson_t *doc, bool inserting, int64_t now_ms, bson_t *out, bson_error_t *error)
{
   apply_ctx_t c = {.inserting = inserting, .now_ms = now_ms, .error = error};
   size_t i;
   for (i = 0; i < items->n; i++) {
      items->v[i].done = false;
   }
   bson_init (out);
   if (!odm_upd_apply_level (&c, doc, false, items->v, 0, items->n, 0, out, 0)) {
      bson_destroy (out);
      bson_init (out);
      return false;
   }
   return true;
}

