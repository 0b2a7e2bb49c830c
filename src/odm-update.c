/* libodm: operator updates that cannot bypass the rules and cannot lose a write.
 *
 * An update is parsed into items (one per operator field), each checked against the spec
 * (path, type, argument shape, depth). Then one of two paths runs (docs/live.md):
 *
 *  - direct: when every item touches only paths whose rules can be checked without the
 *    rest of the document (types, bounds, enums, lengths), the values are checked here and
 *    the update goes to the server as the operator update it is, in one round trip, with a
 *    filter that guards what only the stored value can tell ($inc n by 5 with max 100
 *    carries n <= 95). The server applies it atomically.
 *  - checked: otherwise each matching document is read, the update applied in memory, the
 *    pre-save path run on the result (cross-field rules, derivations), and only the paths
 *    that changed are written back, conditioned on the document's version key `__v` (and
 *    the rule inputs) being what was read. Retried when it changed.
 *
 * Every libodm write increments `__v`, Mongoose's versionKey, so libodm's guard and
 * Mongoose's see each other's writes. */
#include "odm-private.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ATTEMPTS 16
#define DEPTH_MAX 100         /* MongoDB's nesting limit; paths and values both */
#define VERSION_KEY "__v"

/* ------------------------------------------------------------- operators */

typedef enum {
   OP_SET = 1,
   OP_UNSET,
   OP_INC,
   OP_MUL,
   OP_MIN,
   OP_MAX,
   OP_PUSH,
   OP_ADDTOSET,
   OP_PULL,
   OP_POP,
   OP_CURRENTDATE,
   OP_SETONINSERT
} op_t;

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

typedef struct {
   const odm_field_t *field; /* the field the path ends on (or enters, for mixed) */
   bool in_mixed;            /* the path goes below a mixed field: anything goes */
   bool element;             /* the path ends on one element of an array ("tags.0") */
   bool in_array;            /* the path goes through an array index */
   bool required_in_doc;     /* the field is required where the path ends */
   bool version;             /* the path is __v */
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
   if (!strcmp (path, VERSION_KEY)) {
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
         if (!all_digits (seg, n)) {
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

static double
num (const bson_value_t *v)
{
   return v->value_type == BSON_TYPE_DOUBLE  ? v->value.v_double
          : v->value_type == BSON_TYPE_INT32 ? v->value.v_int32
          : v->value_type == BSON_TYPE_INT64 ? (double) v->value.v_int64
                                             : 0;
}

/* ------------------------------------------------------------- items */

typedef struct {
   op_t op;
   const char *path;   /* borrowed from the update document */
   bson_value_t arg;   /* borrowed view into the update document */
   resolved_t r;
   bool done;          /* consumed during one apply */
} item_t;

typedef struct {
   item_t *v;
   size_t n, cap;
} items_t;

static void
items_add (items_t *it, op_t op, const char *path, const bson_value_t *arg, const resolved_t *r)
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

static int
path_cmp (const char *a, const char *b)
{
   while (*a && *a == *b) {
      a++;
      b++;
   }
   return path_char (a) - path_char (b);
}

static int
item_cmp (const void *a, const void *b)
{
   return path_cmp (((const item_t *) a)->path, ((const item_t *) b)->path);
}

/* Whether path A is B or lies below B ("a.b" below "a"). */
static bool
path_within (const char *a, const char *b)
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
   if (strlen (path) >= ODM_PATH_MAX || path_segments (path) > DEPTH_MAX) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s: a path longer than %d levels or %d bytes",
                     op_name (op), DEPTH_MAX, ODM_PATH_MAX - 1);
      return false;
   }
   if (strchr (path, '$')) {
      odm_set_error (error, ODM_ERROR_UNSUPPORTED, path, "positional and filtered updates ($, $[], $[id]) are not supported");
      return false;
   }
   if (!value_depth_ok (val, DEPTH_MAX - (int) path_segments (path))) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "the value nests deeper than %d levels", DEPTH_MAX);
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
      if (!is_number (val) || (num (val) != 1 && num (val) != -1)) {
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
      if ((tf->flags & (ODM_F_CREATED_AT | ODM_F_UPDATED_AT)) && path_within (path, tf->name)) {
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
         items_add (items, op, path, val, &r);
      }
      return true;
   }
   if (r.in_mixed) {
      if (op == OP_SET || op == OP_SETONINSERT || op == OP_PUSH || op == OP_ADDTOSET) {
         check_value_keys (path, val, v);
      }
      items_add (items, op, path, val, &r);
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
         odm_violations_add (v, path, "required", "a required field cannot be set to null");
      }
      break;
   }
   case OP_UNSET:
      if (r.required_in_doc) {
         odm_violations_add (v, path, "required", "a required field cannot be unset");
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
   items_add (items, op, path, val, &r);
   return true;
}

/* Parses and checks UPDATE into ITEMS (sorted by path). Violations for what the spec
 * refuses; false with ERROR for arguments libodm refuses. */
static bool
check_update (const odm_schema_t *schema, const bson_t *update, items_t *items, odm_violations_t *v,
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
      if (!value_depth_ok (&whole, DEPTH_MAX + 2)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the update nests deeper than %d levels", DEPTH_MAX);
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
      qsort (items->v, items->n, sizeof *items->v, item_cmp);
   }
   for (i = 1; i < items->n; i++) {
      if (path_within (items->v[i].path, items->v[i - 1].path)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, items->v[i].path, "conflicts with %s %s in the same update",
                        op_name (items->v[i - 1].op), items->v[i - 1].path);
         return false;
      }
   }
   return true;
}

/* ------------------------------------------------------------- value sets (hashing) */

static bool
values_equal (const bson_value_t *a, const bson_value_t *b)
{
   if (is_number (a) && is_number (b)) {
      if (a->value_type == BSON_TYPE_INT64 && b->value_type == BSON_TYPE_INT64) {
         return a->value.v_int64 == b->value.v_int64;
      }
      return num (a) == num (b);
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

/* A hash consistent with values_equal: numbers by value, the rest by type and bytes. */
static uint64_t
value_hash (const bson_value_t *v)
{
   uint64_t h = 1469598103934665603ull;
   if (is_number (v)) {
      double d = num (v);
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
      if (values_equal (s->slot[i], v)) {
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
      if (values_equal (s->slot[i], v)) {
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

typedef struct {
   bool inserting;  /* apply $setOnInsert */
   int64_t now_ms;
   bson_error_t *error;
   const char *bad_path; /* set with ERROR */
} apply_ctx_t;

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
      out->value.v_double = mul ? num (cur) * num (a) : num (cur) + num (a);
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
      double x = num (a), y = num (b);
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
      if (!bson_iter_init_find (&ei, &e, bson_iter_key (&ci)) || !values_equal (bson_iter_value (&ei), bson_iter_value (&ci))) {
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
            bson_uint32_to_string (n++, &k, key, sizeof key);
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
            bson_uint32_to_string (n++, &k, key, sizeof key);
            bson_append_value (out_arr, k, -1, vv);
         }
      } else if (!dedupe || !vset_has (&seen, &single)) {
         bson_uint32_to_string (n++, &k, key, sizeof key);
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
               bson_uint32_to_string (n++, &k, key, sizeof key);
               bson_append_value (out_arr, k, -1, bson_iter_value (&el));
            }
         }
      }
      vset_destroy (&drop);
      return true;
   }
   case OP_POP:
      if (cur) {
         bool first = num (&item->arg) == -1;
         bson_iter_init (&el, &cur_doc);
         while (bson_iter_next (&el)) {
            bool keep = first ? i > 0 : i + 1 < total;
            i++;
            if (keep) {
               bson_uint32_to_string (n++, &k, key, sizeof key);
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

static bool apply_level (apply_ctx_t *c, const bson_t *src, bool is_array, item_t *items, size_t lo, size_t hi,
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
   if (depth >= DEPTH_MAX) {
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
      ok = apply_level (c, cur ? &sub : NULL, arr, items, g, ge, off + key_len + 1, &child, depth + 1);
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
   return all_digits (s, n) ? atoi (s) : -1;
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
static bool
apply_level (apply_ctx_t *c, const bson_t *src, bool is_array, item_t *items, size_t lo, size_t hi, size_t off,
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
static bool
apply_items (items_t *items, const bson_t *doc, bool inserting, int64_t now_ms, bson_t *out, bson_error_t *error)
{
   apply_ctx_t c = {.inserting = inserting, .now_ms = now_ms, .error = error};
   size_t i;
   for (i = 0; i < items->n; i++) {
      items->v[i].done = false;
   }
   bson_init (out);
   if (!apply_level (&c, doc, false, items->v, 0, items->n, 0, out, 0)) {
      bson_destroy (out);
      bson_init (out);
      return false;
   }
   return true;
}

/* ------------------------------------------------------------- rule inputs */

/* The paths that the schema's cross-field rules and derivations read or write, parsed
 * once from the spec: an update touching one of them takes the checked path. */
typedef struct sens {
   const odm_schema_t *schema;
   char **paths;
   size_t n;
   struct sens *next;
} sens_t;

static pthread_mutex_t sens_lock = PTHREAD_MUTEX_INITIALIZER;
static sens_t *sens_list;

static void
sens_collect (bson_iter_t *it, sens_t *s)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      if (BSON_ITER_HOLDS_UTF8 (it) && (!strcmp (k, "path") || !strcmp (k, "than") || !strcmp (k, "of") ||
                                        !strcmp (k, "from") || !strcmp (k, "to") || !strcmp (k, "paths"))) {
         s->paths = bson_realloc (s->paths, (s->n + 1) * sizeof *s->paths);
         s->paths[s->n++] = bson_strdup (bson_iter_utf8 (it, NULL));
      } else if (BSON_ITER_HOLDS_DOCUMENT (it) || BSON_ITER_HOLDS_ARRAY (it)) {
         bson_iter_t sub;
         bool paths_array = !strcmp (k, "paths") && BSON_ITER_HOLDS_ARRAY (it);
         if (bson_iter_recurse (it, &sub)) {
            if (paths_array) {
               while (bson_iter_next (&sub)) {
                  if (BSON_ITER_HOLDS_UTF8 (&sub)) {
                     s->paths = bson_realloc (s->paths, (s->n + 1) * sizeof *s->paths);
                     s->paths[s->n++] = bson_strdup (bson_iter_utf8 (&sub, NULL));
                  }
               }
            } else {
               sens_collect (&sub, s);
            }
         }
      }
   }
}

static const sens_t *
sens_get (const odm_schema_t *schema)
{
   sens_t *s;
   pthread_mutex_lock (&sens_lock);
   for (s = sens_list; s && s->schema != schema; s = s->next) {
   }
   if (!s) {
      bson_t *spec = schema->spec_json ? bson_new_from_json ((const uint8_t *) schema->spec_json, -1, NULL) : NULL;
      bson_iter_t it, sub;
      s = bson_malloc0 (sizeof *s);
      s->schema = schema;
      if (spec) {
         if (bson_iter_init_find (&it, spec, "rules") && bson_iter_recurse (&it, &sub)) {
            sens_collect (&sub, s);
         }
         if (bson_iter_init_find (&it, spec, "derive") && bson_iter_recurse (&it, &sub)) {
            sens_collect (&sub, s);
         }
         bson_destroy (spec);
      } else if (schema->rules || schema->derive) {
         /* no spec text: every path is a rule input */
         s->paths = bson_malloc (sizeof *s->paths);
         s->paths[0] = bson_strdup ("");
         s->n = 1;
      }
      s->next = sens_list;
      sens_list = s;
   }
   pthread_mutex_unlock (&sens_lock);
   return s;
}

/* PATH without its array indexes ("refunds.0.amount" -> "refunds.amount"). */
static void
strip_indexes (const char *path, char *out, size_t size)
{
   size_t o = 0;
   const char *seg = path;
   while (*seg && o + 1 < size) {
      size_t n = strcspn (seg, ".");
      if (!all_digits (seg, n)) {
         if (o && o + 1 < size) {
            out[o++] = '.';
         }
         if (o + n >= size) {
            n = size - o - 1;
         }
         memcpy (out + o, seg, n);
         o += n;
      }
      seg += n;
      if (*seg == '.') {
         seg++;
      }
   }
   out[o] = '\0';
}

static bool
related (const char *a, const char *b)
{
   return !*b || !*a || path_within (a, b) || path_within (b, a);
}

static bool
touches_rule_input (const sens_t *s, const char *path)
{
   char p[ODM_PATH_MAX];
   size_t i;
   strip_indexes (path, p, sizeof p);
   for (i = 0; i < s->n; i++) {
      if (related (p, s->paths[i])) {
         return true;
      }
   }
   return false;
}

/* ------------------------------------------------------------- planning */

typedef struct {
   odm_client_t *client;
   const odm_schema_t *schema;
   const bson_t *update;
   items_t items;
   const odm_update_opts_t *opts;
   int64_t now_ms;
   odm_violations_t *v;
   bson_error_t *error;
   mongoc_collection_t *coll;
   const char *updated_at; /* the schema's updatedAt field, or NULL */
   bool user_version;      /* the update itself changes __v */
   bool direct;            /* planned for the direct path */
   const char *why;        /* why not direct */
   bson_t guards;          /* the direct path's filter conditions */
   odm_update_result_t *result;
} upd_t;

static const char *
updated_at_field (const odm_schema_t *schema)
{
   uint32_t i;
   for (i = 0; i < schema->root->field_count; i++) {
      if (schema->root->fields[i].flags & ODM_F_UPDATED_AT) {
         return schema->root->fields[i].name;
      }
   }
   return NULL;
}

/* Whether the item can go to the server as it is; *WHY says why not. */
static bool
item_direct (const sens_t *s, const item_t *it, const char **why)
{
   const odm_field_t *f = it->r.field;
   if (it->r.version) {
      return true;
   }
   if (touches_rule_input (s, it->path)) {
      *why = "a cross-field rule or derivation reads this path";
      return false;
   }
   if (it->r.in_mixed) {
      return true;
   }
   if (it->r.in_array) {
      *why = "the path is inside an array";
      return false;
   }
   if (f->kind == ODM_KIND_OBJECT) {
      *why = "the value is a subdocument (defaults and ids below it)";
      return false;
   }
   if (f->flags & ODM_F_LOWERCASE) {
      *why = "the field is lowercased before saving";
      return false;
   }
   if (it->op == OP_UNSET && (f->flags & (ODM_F_DEFAULT | ODM_F_DEFAULT_NOW))) {
      *why = "the field has a default";
      return false;
   }
   if (it->op == OP_MUL && (f->flags & (ODM_F_MIN | ODM_F_MAX))) {
      *why = "$mul on a bounded field";
      return false;
   }
   if (it->op == OP_SETONINSERT) {
      *why = "$setOnInsert";
      return false;
   }
   return true;
}

/* The probe: a document holding only the values the update writes, decoded and validated;
 * violations at or below an item's path are the update's. */
static void
probe_values (upd_t *u)
{
   const odm_schema_t *s = u->schema;
   bson_t probe = BSON_INITIALIZER, built;
   items_t sets = {0};
   size_t i, k;
   void *doc;
   bson_error_t e;
   bool any = false;
   apply_ctx_t c = {.inserting = true, .now_ms = u->now_ms, .error = &e};

   for (i = 0; i < u->items.n; i++) {
      item_t *it = &u->items.v[i];
      if (it->r.version || it->r.in_mixed) {
         continue;
      }
      if (it->op == OP_SET || it->op == OP_MIN || it->op == OP_MAX || it->op == OP_PUSH || it->op == OP_ADDTOSET ||
          it->op == OP_CURRENTDATE) {
         item_t copy = *it;
         if (it->op == OP_MIN || it->op == OP_MAX) {
            copy.op = OP_SET;
         }
         items_add (&sets, copy.op, copy.path, &copy.arg, &copy.r);
         any = true;
      }
   }
   if (!any) {
      bson_free (sets.v);
      bson_destroy (&probe);
      return;
   }
   qsort (sets.v, sets.n, sizeof *sets.v, item_cmp);
   for (i = 0; i < sets.n; i++) {
      sets.v[i].done = false;
   }
   bson_init (&built);
   if (!apply_level (&c, &probe, false, sets.v, 0, sets.n, 0, &built, 0)) {
      odm_violations_add_error (u->v, &e);
      bson_destroy (&built);
      bson_destroy (&probe);
      bson_free (sets.v);
      return;
   }
   doc = bson_malloc0 (s->root->size);
   if (!odm_from_bson (s, &built, doc, ODM_DECODE_DEFAULT, &e)) {
      odm_violations_add_error (u->v, &e);
   } else {
      odm_violations_t pv;
      odm_prepare_opts_t po = {.is_update = true, .now_ms = u->now_ms};
      odm_validate (s, doc, &po, &pv);
      for (k = 0; k < pv.count; k++) {
         for (i = 0; i < sets.n; i++) {
            if (path_within (pv.items[k].path, sets.v[i].path)) {
               odm_violations_add (u->v, pv.items[k].path, pv.items[k].rule, pv.items[k].message);
               break;
            }
         }
      }
      odm_violations_cleanup (&pv);
   }
   odm_cleanup (s, doc);
   bson_free (doc);
   bson_destroy (&built);
   bson_destroy (&probe);
   bson_free (sets.v);
}

/* Filter conditions that make the server refuse what only the stored value can tell. */
static void
add_guards (upd_t *u)
{
   size_t i, n = 0;
   char key[16];
   bson_init (&u->guards);
   for (i = 0; i < u->items.n; i++) {
      const item_t *it = &u->items.v[i];
      const odm_field_t *f = it->r.field;
      bson_t cond, range, alt, a0, a1;
      double d, lo = -INFINITY, hi = INFINITY;
      bool absent_ok;
      if (it->op != OP_INC || it->r.version || it->r.in_mixed || !(f->flags & (ODM_F_MIN | ODM_F_MAX))) {
         continue;
      }
      d = num (&it->arg);
      if (f->flags & ODM_F_MIN) {
         lo = f->min - d;
      }
      if (f->flags & ODM_F_MAX) {
         hi = f->max - d;
      }
      absent_ok = (!(f->flags & ODM_F_MIN) || d >= f->min) && (!(f->flags & ODM_F_MAX) || d <= f->max);
      bson_snprintf (key, sizeof key, "%zu", n++);
      bson_append_document_begin (&u->guards, key, -1, &cond);
      if (absent_ok) {
         bson_append_array_begin (&cond, "$or", 3, &alt);
         bson_append_document_begin (&alt, "0", 1, &a0);
      }
      bson_append_document_begin (absent_ok ? &a0 : &cond, it->path, -1, &range);
      if (f->flags & ODM_F_MIN) {
         BSON_APPEND_DOUBLE (&range, "$gte", lo);
      }
      if (f->flags & ODM_F_MAX) {
         BSON_APPEND_DOUBLE (&range, "$lte", hi);
      }
      bson_append_document_end (absent_ok ? &a0 : &cond, &range);
      if (absent_ok) {
         bson_t ex;
         bson_append_document_end (&alt, &a0);
         bson_append_document_begin (&alt, "1", 1, &a1);
         bson_append_document_begin (&a1, it->path, -1, &ex);
         BSON_APPEND_BOOL (&ex, "$exists", false);
         bson_append_document_end (&a1, &ex);
         bson_append_document_end (&alt, &a1);
         bson_append_array_end (&cond, &alt);
      }
      bson_append_document_end (&u->guards, &cond);
   }
}

static void
plan (upd_t *u)
{
   const sens_t *s = sens_get (u->schema);
   size_t i;
   u->direct = true;
   u->why = NULL;
   if (odm_schema_has_hooks (u->schema)) {
      /* The program's hooks and validators (odm-hooks.h) see whole documents. */
      u->direct = false;
      u->why = "the schema has hooks or validators of the program (odm_hook_add, odm_validator_add)";
   }
   for (i = 0; i < u->items.n && u->direct; i++) {
      u->direct = item_direct (s, &u->items.v[i], &u->why);
   }
   for (i = 0; i < u->items.n; i++) {
      if (u->items.v[i].r.version) {
         u->user_version = true;
      }
   }
}

/* ------------------------------------------------------------- the write, direct */

/* UPDATE as sent: the caller's operators, plus updatedAt and the version increment. */
static void
direct_update_doc (upd_t *u, bson_t *out)
{
   bson_iter_t it;
   bool has_set = false, has_inc = false;
   bson_init (out);
   bson_iter_init (&it, u->update);
   while (bson_iter_next (&it)) {
      const char *op = bson_iter_key (&it);
      bson_t sub;
      bson_iter_t f;
      bson_append_document_begin (out, op, -1, &sub);
      bson_iter_recurse (&it, &f);
      while (bson_iter_next (&f)) {
         bson_append_iter (&sub, NULL, 0, &f);
      }
      if (!strcmp (op, "$set") && u->updated_at) {
         BSON_APPEND_DATE_TIME (&sub, u->updated_at, u->now_ms);
         has_set = true;
      }
      if (!strcmp (op, "$inc") && !u->user_version) {
         BSON_APPEND_INT32 (&sub, VERSION_KEY, 1);
         has_inc = true;
      }
      bson_append_document_end (out, &sub);
   }
   if (!has_set && u->updated_at) {
      bson_t sub;
      BSON_APPEND_DOCUMENT_BEGIN (out, "$set", &sub);
      BSON_APPEND_DATE_TIME (&sub, u->updated_at, u->now_ms);
      bson_append_document_end (out, &sub);
   }
   if (!has_inc && !u->user_version) {
      bson_t sub;
      BSON_APPEND_DOCUMENT_BEGIN (out, "$inc", &sub);
      BSON_APPEND_INT32 (&sub, VERSION_KEY, 1);
      bson_append_document_end (out, &sub);
   }
}

static void
and_filter (const bson_t *filter, const bson_t *guards, bson_t *out)
{
   bson_t arr, g;
   bson_iter_t it;
   uint32_t n = 1;
   char key[16];
   bson_init (out);
   if (bson_empty (guards)) {
      bson_concat (out, filter);
      return;
   }
   BSON_APPEND_ARRAY_BEGIN (out, "$and", &arr);
   BSON_APPEND_DOCUMENT (&arr, "0", filter);
   bson_iter_init (&it, guards);
   while (bson_iter_next (&it)) {
      const uint8_t *data;
      uint32_t len;
      bson_iter_document (&it, &len, &data);
      bson_init_static (&g, data, len);
      bson_snprintf (key, sizeof key, "%u", n++);
      BSON_APPEND_DOCUMENT (&arr, key, &g);
   }
   bson_append_array_end (out, &arr);
}

static int64_t
reply_count (const bson_t *reply, const char *name)
{
   bson_iter_t it;
   return bson_iter_init_find (&it, reply, name) ? bson_iter_as_int64 (&it) : 0;
}

static bool
is_duplicate (const bson_error_t *e)
{
   return odm_is_duplicate_key_error (e); /* domain and code */
}

/* Sends the update as it is. *HIT: whether a document matched filter and guards. */
static bool
direct_one (upd_t *u, const bson_t *filter, bool many, int64_t *matched, bool *hit)
{
   bson_t upd, cond, reply, opts = BSON_INITIALIZER;
   bool ok;
   direct_update_doc (u, &upd);
   and_filter (filter, &u->guards, &cond);
   if (u->opts && u->opts->mongoc_opts) {
      bson_concat (&opts, u->opts->mongoc_opts);
   }
   odm_session_append (u->opts ? u->opts->session : NULL, &opts);
   ok = many ? mongoc_collection_update_many (u->coll, &cond, &upd, &opts, &reply, u->error)
             : mongoc_collection_update_one (u->coll, &cond, &upd, &opts, &reply, u->error);
   *hit = false;
   if (ok) {
      int64_t m = reply_count (&reply, "matchedCount");
      *hit = m > 0;
      *matched += m;
      if (u->result) {
         u->result->modified += reply_count (&reply, "modifiedCount");
      }
   } else if (is_duplicate (u->error)) {
      /* the document the update would have made, for the duplicate-key report */
      bson_t *stored = NULL, made;
      mongoc_cursor_t *cur;
      const bson_t *d;
      bson_t fo = BSON_INITIALIZER;
      bson_error_t keep = *u->error, e2;
      BSON_APPEND_INT32 (&fo, "limit", 1);
      odm_session_append (u->opts ? u->opts->session : NULL, &fo);
      cur = mongoc_collection_find_with_opts (u->coll, filter, &fo, NULL);
      if (mongoc_cursor_next (cur, &d)) {
         stored = bson_copy (d);
      }
      mongoc_cursor_destroy (cur);
      bson_destroy (&fo);
      if (stored && apply_items (&u->items, stored, false, u->now_ms, &made, &e2)) {
         odm_map_duplicate_doc (u->schema, &keep, u->v, u->coll, &made);
         bson_destroy (&made);
      } else {
         odm_map_duplicate_doc (u->schema, &keep, u->v, u->coll, NULL);
      }
      *u->error = keep;
      bson_destroy (stored);
   }
   bson_destroy (&reply);
   bson_destroy (&opts);
   bson_destroy (&cond);
   bson_destroy (&upd);
   return ok;
}

/* ------------------------------------------------------------- the write, checked */

/* The pre-existing violations policy: a violation of the result blocks the update when the
 * stored document did not already have it, or when the update touches its path. */
static bool
blocking (const upd_t *u, const odm_violation_t *after, const odm_violations_t *before)
{
   size_t i;
   bool existed = false;
   char a[ODM_PATH_MAX], b[ODM_PATH_MAX];
   for (i = 0; i < before->count && !existed; i++) {
      existed = !strcmp (before->items[i].path, after->path) && !strcmp (before->items[i].rule, after->rule);
   }
   if (!existed) {
      return true;
   }
   strip_indexes (after->path, a, sizeof a);
   for (i = 0; i < u->items.n; i++) {
      strip_indexes (u->items.v[i].path, b, sizeof b);
      if (related (a, b)) {
         return true;
      }
   }
   return false;
}

/* Paths (top-down, no two nested) where A and B differ; arrays are compared whole.
 * A and B come from the same encoder, so their keys are in the same order with a few
 * added or removed: one walk over both, a lookup only where they step apart. */
static void
diff_add (char ***out, size_t *n, const char *path)
{
   *out = bson_realloc (*out, (*n + 1) * sizeof **out);
   (*out)[(*n)++] = bson_strdup (path);
}

static void
diff_paths (const bson_t *a, const bson_t *b, odm_path_t *prefix, char ***out, size_t *n, int depth)
{
   bson_iter_t ia, ib;
   bool ia_valid;
   if (!bson_iter_init (&ia, a) || !bson_iter_init (&ib, b)) {
      return;
   }
   ia_valid = bson_iter_next (&ia);
   while (bson_iter_next (&ib)) {
      const char *k = bson_iter_key (&ib);
      size_t old = odm_path_push (prefix, k, strlen (k));
      if (!ia_valid || strcmp (bson_iter_key (&ia), k) != 0) {
         bson_iter_t fa;
         if (!bson_iter_init_find (&fa, a, k)) {
            diff_add (out, n, prefix->buf); /* added */
            odm_path_pop (prefix, old);
            continue;
         }
         /* the A keys before K were removed */
         while (ia_valid && strcmp (bson_iter_key (&ia), k) != 0) {
            size_t o2;
            odm_path_pop (prefix, old);
            o2 = odm_path_push (prefix, bson_iter_key (&ia), strlen (bson_iter_key (&ia)));
            diff_add (out, n, prefix->buf);
            odm_path_pop (prefix, o2);
            old = odm_path_push (prefix, k, strlen (k));
            ia_valid = bson_iter_next (&ia);
         }
         if (!ia_valid) {
            ia = fa;
            ia_valid = true;
         }
      }
      if (BSON_ITER_HOLDS_DOCUMENT (&ia) && BSON_ITER_HOLDS_DOCUMENT (&ib) && depth < DEPTH_MAX) {
         bson_t sa, sb;
         const uint8_t *da, *db;
         uint32_t la, lb;
         bson_iter_document (&ia, &la, &da);
         bson_iter_document (&ib, &lb, &db);
         if (la != lb || memcmp (da, db, la) != 0) {
            bson_init_static (&sa, da, la);
            bson_init_static (&sb, db, lb);
            diff_paths (&sa, &sb, prefix, out, n, depth + 1);
         }
      } else if (bson_iter_type (&ia) != bson_iter_type (&ib) ||
                 !values_equal (bson_iter_value (&ia), bson_iter_value (&ib))) {
         diff_add (out, n, prefix->buf);
      }
      odm_path_pop (prefix, old);
      ia_valid = bson_iter_next (&ia);
   }
   while (ia_valid) {
      size_t old = odm_path_push (prefix, bson_iter_key (&ia), strlen (bson_iter_key (&ia)));
      diff_add (out, n, prefix->buf);
      odm_path_pop (prefix, old);
      ia_valid = bson_iter_next (&ia);
   }
}

static int
str_path_cmp (const void *a, const void *b)
{
   return path_cmp (*(const char *const *) a, *(const char *const *) b);
}

/* Builds {$set: {...}, $unset: {...}} from FINAL for PATHS (sorted, nested ones dropped). */
static void
diff_update (const bson_t *final, char **paths, size_t n, bool bump_version, bson_t *out)
{
   bson_t set = BSON_INITIALIZER, unset = BSON_INITIALIZER, inc;
   size_t i;
   const char *last = NULL;
   qsort (paths, n, sizeof *paths, str_path_cmp);
   for (i = 0; i < n; i++) {
      bson_iter_t root, v;
      if (last && path_within (paths[i], last)) {
         continue;
      }
      last = paths[i];
      bson_iter_init (&root, final);
      if (bson_iter_find_descendant (&root, paths[i], &v)) {
         bson_append_value (&set, paths[i], -1, bson_iter_value (&v));
      } else {
         BSON_APPEND_UTF8 (&unset, paths[i], "");
      }
   }
   bson_init (out);
   if (!bson_empty (&set)) {
      BSON_APPEND_DOCUMENT (out, "$set", &set);
   }
   if (!bson_empty (&unset)) {
      BSON_APPEND_DOCUMENT (out, "$unset", &unset);
   }
   if (bump_version) {
      BSON_APPEND_DOCUMENT_BEGIN (out, "$inc", &inc);
      BSON_APPEND_INT32 (&inc, VERSION_KEY, 1);
      bson_append_document_end (out, &inc);
   }
   bson_destroy (&set);
   bson_destroy (&unset);
}

static void
free_paths (char **p, size_t n)
{
   size_t i;
   for (i = 0; i < n; i++) {
      bson_free (p[i]);
   }
   bson_free (p);
}

/* In memory: applies the items to STORED (NULL: an upsert's insert branch, from BASE),
 * runs the pre-save path, and makes FINAL (the document to store) and the list of paths
 * that changed. Violations and ERROR as odm_update reports them. */
static bool
make_final (upd_t *u, const bson_t *stored, const bson_t *base, bson_t *final, char ***changed, size_t *nchanged)
{
   const odm_schema_t *s = u->schema;
   bson_t work, pre = BSON_INITIALIZER, post = BSON_INITIALIZER;
   void *doc = bson_malloc0 (s->root->size), *prev = NULL;
   odm_prepare_opts_t po = {.is_update = stored != NULL, .now_ms = u->now_ms};
   odm_violations_t local, before;
   bson_error_t e;
   bool ok = false;
   size_t i;

   bson_init (final);
   odm_violations_init (&local);
   odm_violations_init (&before);
   *changed = NULL;
   *nchanged = 0;
   /* a stored document (from the server or the caller) is walked only once its bytes are
    * known good: the decoder's check, iterative */
   if (stored && !odm_bson_check (stored, u->error)) {
      bson_init (&work);
      goto done;
   }
   if (!apply_items (&u->items, stored ? stored : base, stored == NULL, u->now_ms, &work, u->error)) {
      goto done_nowork;
   }
   if (!odm_from_bson (s, &work, doc, ODM_DECODE_DEFAULT, &e)) {
      odm_violations_add_error (u->v, &e);
      odm_violations_to_error (u->v, u->error);
      goto done;
   }
   if (stored) {
      prev = bson_malloc0 (s->root->size);
      if (odm_from_bson (s, stored, prev, ODM_DECODE_DEFAULT, &e)) {
         po.previous = prev;
      }
   }
   bson_destroy (&pre);
   if (!odm_to_bson (s, doc, &pre, u->error)) {
      goto done;
   }
   odm_prepare (s, doc, &po, &local);
   if (local.count && stored && po.previous) {
      odm_prepare_opts_t bo = {.is_update = true, .now_ms = u->now_ms, .previous = prev};
      odm_validate (s, prev, &bo, &before);
   }
   for (i = 0; i < local.count; i++) {
      if (!stored || blocking (u, &local.items[i], &before)) {
         odm_violations_add (u->v, local.items[i].path, local.items[i].rule, local.items[i].message);
      }
   }
   if (u->v->count) {
      odm_violations_to_error (u->v, u->error);
      goto done;
   }
   /* What remains are the stored document's own violations, untouched: reported, not blocking. */
   for (i = 0; i < local.count; i++) {
      odm_violations_add (u->v, local.items[i].path, local.items[i].rule, local.items[i].message);
   }
   if (!odm_check_doc_keys (s, doc, u->v)) {
      odm_violations_to_error (u->v, u->error);
      goto done;
   }
   bson_destroy (&post);
   if (!odm_to_bson (s, doc, &post, u->error)) {
      goto done;
   }
   if (!stored) {
      /* a new document: the encoding is the document */
      bson_destroy (final);
      bson_copy_to (&post, final);
      ok = true;
      goto done;
   }
   /* The pre-save path's own changes (derivations, updatedAt, defaults, lowercase), laid
    * over the applied update so that untouched fields keep their bytes. */
   {
      odm_path_t p;
      items_t extra = {0};
      char **pp = NULL;
      size_t np = 0, k;
      const sens_t *sn = sens_get (s);
      bool hooked = odm_schema_has_hooks (s); /* a pre-save hook's changes are written too */
      odm_path_init (&p);
      diff_paths (&pre, &post, &p, &pp, &np, 0);
      /* Only what the update touches, derivations and updatedAt: defaults, lowercasing and
       * minimizing of fields the update does not name leave the stored bytes alone. */
      for (k = 0; k < np; k++) {
         size_t j;
         bool keep = hooked || (u->updated_at && !strcmp (pp[k], u->updated_at)) || touches_rule_input (sn, pp[k]);
         for (j = 0; j < u->items.n && !keep; j++) {
            keep = related (pp[k], u->items.v[j].path);
         }
         if (!keep) {
            bson_free (pp[k]);
            memmove (&pp[k], &pp[k + 1], (np - k - 1) * sizeof *pp);
            np--;
            k--;
         }
      }
      for (k = 0; k < np; k++) {
         bson_iter_t root, v;
         resolved_t r = {0};
         bson_value_t nullv = {.value_type = BSON_TYPE_NULL};
         bson_iter_init (&root, &post);
         if (bson_iter_find_descendant (&root, pp[k], &v)) {
            items_add (&extra, OP_SET, pp[k], bson_iter_value (&v), &r);
         } else {
            items_add (&extra, OP_UNSET, pp[k], &nullv, &r);
         }
      }
      if (extra.n) {
         qsort (extra.v, extra.n, sizeof *extra.v, item_cmp);
         /* drop nested duplicates */
         for (k = 1; k < extra.n; k++) {
            if (path_within (extra.v[k].path, extra.v[k - 1].path)) {
               memmove (&extra.v[k], &extra.v[k + 1], (extra.n - k - 1) * sizeof *extra.v);
               extra.n--;
               k--;
            }
         }
      }
      bson_destroy (final);
      ok = apply_items (&extra, &work, false, u->now_ms, final, u->error);
      *changed = bson_malloc ((u->items.n + np + 1) * sizeof **changed);
      for (k = 0; k < u->items.n; k++) {
         (*changed)[(*nchanged)++] = bson_strdup (u->items.v[k].path);
      }
      for (k = 0; k < np; k++) {
         (*changed)[(*nchanged)++] = pp[k];
      }
      bson_free (pp);
      bson_free (extra.v);
   }
done:
   bson_destroy (&work);
done_nowork:
   bson_destroy (&pre);
   bson_destroy (&post);
   odm_violations_cleanup (&local);
   odm_violations_cleanup (&before);
   if (prev) {
      odm_cleanup (s, prev);
      bson_free (prev);
   }
   odm_cleanup (s, doc);
   bson_free (doc);
   return ok;
}

/* The guard of a checked write: the version read, and the rule inputs' values read. */
static void
version_guard (const odm_schema_t *schema, const bson_t *stored, bson_t *cond)
{
   bson_iter_t it;
   const sens_t *s = sens_get (schema);
   bson_init (cond);
   if (bson_iter_init_find (&it, stored, "_id")) {
      bson_append_iter (cond, "_id", 3, &it);
   }
   if (bson_iter_init_find (&it, stored, VERSION_KEY)) {
      bson_t eq;
      BSON_APPEND_DOCUMENT_BEGIN (cond, VERSION_KEY, &eq);
      bson_append_iter (&eq, "$eq", 3, &it);
      bson_append_document_end (cond, &eq);
   } else {
      bson_t ex;
      BSON_APPEND_DOCUMENT_BEGIN (cond, VERSION_KEY, &ex);
      BSON_APPEND_BOOL (&ex, "$exists", false);
      bson_append_document_end (cond, &ex);
   }
   /* Writers that do not version their writes (a Mongoose $set of a scalar) are seen
    * through the rule inputs: their top-level fields must still hold what was read. */
   if (bson_iter_init (&it, stored)) {
      while (bson_iter_next (&it)) {
         const char *k = bson_iter_key (&it);
         size_t i;
         bool input = false;
         if (!strcmp (k, "_id") || !strcmp (k, VERSION_KEY)) {
            continue;
         }
         for (i = 0; i < s->n && !input; i++) {
            input = path_within (s->paths[i], k) || !*s->paths[i];
         }
         if (input) {
            bson_t eq;
            BSON_APPEND_DOCUMENT_BEGIN (cond, k, &eq);
            bson_append_iter (&eq, "$eq", 3, &it);
            bson_append_document_end (cond, &eq);
         }
      }
   }
   {
      /* rule inputs the stored document lacks must still be absent */
      size_t i;
      for (i = 0; i < s->n; i++) {
         char top[ODM_PATH_MAX];
         bson_iter_t f;
         size_t n = strcspn (s->paths[i], ".");
         if (!n || n >= sizeof top) {
            continue;
         }
         memcpy (top, s->paths[i], n);
         top[n] = '\0';
         if (!bson_iter_init_find (&f, stored, top) && !bson_has_field (cond, top)) {
            bson_t ex;
            BSON_APPEND_DOCUMENT_BEGIN (cond, top, &ex);
            BSON_APPEND_BOOL (&ex, "$exists", false);
            bson_append_document_end (cond, &ex);
         }
      }
   }
}

static void
backoff (int attempt)
{
   struct timespec ts;
   long us = (long) (rand () % (200 * (attempt + 1))) + 50;
   ts.tv_sec = 0;
   ts.tv_nsec = us * 1000;
   nanosleep (&ts, NULL);
}

/* One upsert with no match: the insert branch as the server will build it. Returns
 * false with ERROR; *DONE false when someone inserted a match meanwhile. */
static bool upsert_insert (upd_t *u, const bson_t *filter, bool *done);

/* One document through the checked path. *MATCHED += 0/1. */
static bool
checked_one (upd_t *u, const bson_t *filter, int64_t *matched)
{
   int attempt;
   for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      bson_t opts = BSON_INITIALIZER, *stored = NULL, final, reply, cond, wupd, wopts = BSON_INITIALIZER;
      mongoc_cursor_t *cur;
      const bson_t *d;
      char **changed;
      size_t nchanged;
      bool ok;

      if (u->result) {
         u->result->attempts++;
      }
      if (attempt) {
         backoff (attempt);
      }
      BSON_APPEND_INT32 (&opts, "limit", 1);
      odm_session_append (u->opts ? u->opts->session : NULL, &opts);
      cur = mongoc_collection_find_with_opts (u->coll, filter, &opts, NULL);
      if (mongoc_cursor_next (cur, &d)) {
         stored = bson_copy (d);
      }
      ok = !mongoc_cursor_error (cur, u->error);
      mongoc_cursor_destroy (cur);
      bson_destroy (&opts);
      if (!ok) {
         bson_destroy (stored);
         return false;
      }
      if (!stored) {
         bool done = true;
         if (!u->opts || !u->opts->upsert) {
            return true;
         }
         if (!upsert_insert (u, filter, &done)) {
            return false;
         }
         if (done) {
            return true;
         }
         continue; /* someone inserted a match meanwhile: update it instead */
      }
      odm_violations_cleanup (u->v);
      odm_violations_init (u->v);
      if (!make_final (u, stored, NULL, &final, &changed, &nchanged)) {
         bson_destroy (stored);
         bson_destroy (&final);
         return false;
      }
      diff_update (&final, changed, nchanged, !u->user_version, &wupd);
      free_paths (changed, nchanged);
      version_guard (u->schema, stored, &cond);
      if (u->opts && u->opts->mongoc_opts) {
         bson_concat (&wopts, u->opts->mongoc_opts);
      }
      odm_session_append (u->opts ? u->opts->session : NULL, &wopts);
      ok = mongoc_collection_update_one (u->coll, &cond, &wupd, &wopts, &reply, u->error);
      bson_destroy (&cond);
      bson_destroy (&wupd);
      bson_destroy (&wopts);
      bson_destroy (stored);
      if (!ok) {
         bson_destroy (&reply);
         odm_map_duplicate_doc (u->schema, u->error, u->v, u->coll, &final);
         bson_destroy (&final);
         return false;
      }
      if (reply_count (&reply, "matchedCount") == 1) {
         odm_hooks_post_save_bson (u->schema, &final, true, u->now_ms);
      }
      bson_destroy (&final);
      if (reply_count (&reply, "matchedCount") == 1) {
         if (u->result) {
            u->result->modified += reply_count (&reply, "modifiedCount");
         }
         bson_destroy (&reply);
         (*matched)++;
         return true;
      }
      bson_destroy (&reply);
   }
   odm_set_error (u->error, ODM_ERROR_CONFLICT, NULL, "%s: the document kept changing during the update (%d attempts)",
                  u->schema->collection, MAX_ATTEMPTS);
   return false;
}

/* ------------------------------------------------------------- upserts */

/* The equality conditions the server copies from an upsert's filter into the new
 * document: top-level and dotted fields, $eq, $and and a one-branch $or. What the server
 * would build cannot be predicted from anything else that sets values ($in, $all,
 * several $or branches, $nor, $expr, $where): refused. */
static bool
upsert_equalities (const bson_t *filter, bson_t *base, bson_t *paths, int depth, bson_error_t *error)
{
   bson_iter_t it;
   if (depth > DEPTH_MAX) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the upsert filter nests deeper than %d levels", DEPTH_MAX);
      return false;
   }
   if (!bson_iter_init (&it, filter)) {
      odm_set_error (error, ODM_ERROR_CORRUPT_BSON, NULL, "the upsert filter is not valid BSON");
      return false;
   }
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      if (k[0] == '$') {
         bson_iter_t arr, br;
         uint32_t branches = 0;
         bool is_and = !strcmp (k, "$and"), is_or = !strcmp (k, "$or");
         if (!strcmp (k, "$comment")) {
            continue;
         }
         if ((!is_and && !is_or) || !BSON_ITER_HOLDS_ARRAY (&it) || !bson_iter_recurse (&it, &arr)) {
            odm_set_error (error, ODM_ERROR_UNSUPPORTED, NULL,
                           "upsert: the document the server would insert cannot be predicted from %s", k);
            return false;
         }
         br = arr;
         while (bson_iter_next (&br)) {
            branches++;
         }
         if (is_or && branches != 1) {
            odm_set_error (error, ODM_ERROR_UNSUPPORTED, NULL,
                           "upsert: the document the server would insert cannot be predicted from $or with %u branches",
                           branches);
            return false;
         }
         while (bson_iter_next (&arr)) {
            bson_t sub;
            const uint8_t *data;
            uint32_t len;
            if (!BSON_ITER_HOLDS_DOCUMENT (&arr)) {
               odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s takes an array of documents", k);
               return false;
            }
            bson_iter_document (&arr, &len, &data);
            bson_init_static (&sub, data, len);
            if (!upsert_equalities (&sub, base, paths, depth + 1, error)) {
               return false;
            }
         }
         continue;
      }
      {
         const bson_value_t *val = bson_iter_value (&it);
         bson_value_t eqv;
         bool equality = true;
         if (BSON_ITER_HOLDS_DOCUMENT (&it)) {
            bson_iter_t sub;
            bson_iter_recurse (&it, &sub);
            if (bson_iter_next (&sub) && bson_iter_key (&sub)[0] == '$') {
               equality = false;
               bson_iter_recurse (&it, &sub);
               while (bson_iter_next (&sub)) {
                  const char *o = bson_iter_key (&sub);
                  if (!strcmp (o, "$eq")) {
                     eqv = *bson_iter_value (&sub);
                     val = &eqv;
                     equality = true;
                  } else if (!strcmp (o, "$in") || !strcmp (o, "$all")) {
                     odm_set_error (error, ODM_ERROR_UNSUPPORTED, k,
                                    "upsert: the document the server would insert cannot be predicted from %s", o);
                     return false;
                  }
               }
            }
         }
         if (!equality) {
            continue;
         }
         if (bson_has_field (paths, k)) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, k, "upsert: the filter sets this path twice");
            return false;
         }
         BSON_APPEND_BOOL (paths, k, true);
         {
            items_t one = {0};
            resolved_t r = {0};
            bson_t next;
            bson_error_t e;
            items_add (&one, OP_SET, k, val, &r);
            if (!apply_items (&one, base, true, 0, &next, &e)) {
               bson_free (one.v);
               odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, k, "upsert: the filter's equalities conflict");
               return false;
            }
            bson_free (one.v);
            bson_reinit (base);
            bson_concat (base, &next);
            bson_destroy (&next);
         }
      }
   }
   return true;
}

static bool
upsert_insert (upd_t *u, const bson_t *filter, bool *done)
{
   bson_t base = BSON_INITIALIZER, fixed = BSON_INITIALIZER, final, up = BSON_INITIALIZER, soi,
          uopts = BSON_INITIALIZER, reply;
   char **changed = NULL;
   size_t nchanged = 0;
   bool ok = false;

   *done = true;
   if (!upsert_equalities (filter, &base, &fixed, 0, u->error)) {
      goto out;
   }
   odm_violations_cleanup (u->v);
   odm_violations_init (u->v);
   if (!make_final (u, NULL, &base, &final, &changed, &nchanged)) {
      bson_destroy (&final);
      goto out;
   }
   if (!bson_has_field (&final, VERSION_KEY)) {
      BSON_APPEND_INT32 (&final, VERSION_KEY, 0);
   }
   /* Every field, the filter's equalities too: servers differ in which equalities they
    * copy (FerretDB v1 takes none from $and), and setting them again changes nothing. */
   BSON_APPEND_DOCUMENT_BEGIN (&up, "$setOnInsert", &soi);
   bson_concat (&soi, &final);
   bson_append_document_end (&up, &soi);
   if (u->opts && u->opts->mongoc_opts) {
      bson_copy_to_excluding_noinit (u->opts->mongoc_opts, &uopts, "upsert", NULL);
   }
   BSON_APPEND_BOOL (&uopts, "upsert", true);
   odm_session_append (u->opts ? u->opts->session : NULL, &uopts);
   ok = mongoc_collection_update_one (u->coll, filter, &up, &uopts, &reply, u->error);
   if (!ok) {
      odm_map_duplicate_doc (u->schema, u->error, u->v, u->coll, &final);
   } else {
      *done = reply_count (&reply, "upsertedCount") == 1;
      if (*done && u->result) {
         u->result->upserted = true;
      }
      if (*done) {
         odm_hooks_post_save_bson (u->schema, &final, false, u->now_ms);
      }
   }
   bson_destroy (&reply);
   bson_destroy (&final);
out:
   free_paths (changed, nchanged);
   bson_destroy (&up);
   bson_destroy (&uopts);
   bson_destroy (&base);
   bson_destroy (&fixed);
   return ok;
}

/* ------------------------------------------------------------- entry points */

static bool
start (upd_t *u, const odm_schema_t *schema, const bson_t *update, const odm_update_opts_t *opts,
       odm_violations_t *violations, odm_violations_t *local, bson_error_t *error)
{
   memset (u, 0, sizeof *u);
   u->v = violations ? violations : local;
   odm_violations_init (u->v);
   bson_init (&u->guards);
   u->error = error;
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema is NULL or not a libodm schema");
      return false;
   }
   u->schema = schema;
   u->update = update;
   u->opts = opts;
   u->result = opts ? opts->result : NULL;
   if (u->result) {
      memset (u->result, 0, sizeof *u->result);
   }
   u->now_ms = opts && opts->now_ms ? opts->now_ms : odm_now_ms ();
   u->updated_at = updated_at_field (schema);
   if (!check_update (schema, update, &u->items, u->v, error)) {
      return false;
   }
   if (u->v->count) {
      odm_violations_to_error (u->v, error);
      return false;
   }
   plan (u);
   if (u->direct) {
      probe_values (u);
      if (u->v->count) {
         odm_violations_to_error (u->v, error);
         return false;
      }
      bson_destroy (&u->guards);
      add_guards (u);
   }
   return true;
}

static void
finish (upd_t *u, odm_violations_t *local)
{
   bson_free (u->items.v);
   bson_destroy (&u->guards);
   if (u->v == local) {
      odm_violations_cleanup (local);
   }
}

bool
odm_update_plan (const odm_schema_t *schema, const bson_t *update, odm_update_path_t *path, const char **why,
                 odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   upd_t u;
   bool ok = start (&u, schema, update, NULL, violations, &local, error);
   if (path) {
      *path = ok ? (u.direct ? ODM_UPDATE_DIRECT : ODM_UPDATE_CHECKED) : ODM_UPDATE_REFUSED;
   }
   if (why) {
      *why = ok && !u.direct ? u.why : NULL;
   }
   finish (&u, &local);
   return ok;
}

bool
odm_update_apply (const odm_schema_t *schema, const bson_t *stored, const bson_t *update,
                  const odm_update_opts_t *opts_in, bson_t *out, odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   upd_t u;
   bool ok = false;
   char **changed = NULL;
   size_t nchanged = 0;
   odm_update_opts_t o, *opts = &o;

   bson_init (out);
   if (!odm_opts_load (&o, sizeof o, opts_in, ODM_UPDATE_OPTS_MIN, "odm_update_opts_t", error)) {
      opts = NULL; /* start() fails below with the options error kept */
   }
   if (!opts || !start (&u, schema, update, opts, violations, &local, error)) {
      if (!opts) {
         bson_error_t keep = *error;
         memset (&u, 0, sizeof u);
         u.v = violations ? violations : &local;
         odm_violations_init (u.v);
         bson_init (&u.guards);
         *error = keep;
      }
      goto done;
   }
   if (!stored) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the stored document is NULL");
      goto done;
   }
   if (!odm_bson_check (stored, error)) {
      goto done;
   }
   bson_destroy (out);
   ok = make_final (&u, stored, NULL, out, &changed, &nchanged);
   if (ok && !u.user_version) {
      /* the version increment the write would carry */
      bson_iter_t it;
      bson_t next = BSON_INITIALIZER;
      int64_t ver = bson_iter_init_find (&it, out, VERSION_KEY) && BSON_ITER_HOLDS_NUMBER (&it) ? bson_iter_as_int64 (&it) : 0;
      bson_copy_to_excluding_noinit (out, &next, VERSION_KEY, NULL);
      if (bson_has_field (out, VERSION_KEY)) {
         BSON_APPEND_INT64 (&next, VERSION_KEY, ver + 1);
      } else {
         BSON_APPEND_INT32 (&next, VERSION_KEY, 1);
      }
      bson_destroy (out);
      bson_steal (out, &next);
   }
   free_paths (changed, nchanged);
done:
   finish (&u, &local);
   return ok;
}

bool
odm_update (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, const bson_t *update,
            const odm_update_opts_t *opts_in, int64_t *matched, odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   upd_t u;
   mongoc_client_t *mc;
   int64_t n = 0;
   bool ok;
   bson_t empty = BSON_INITIALIZER;
   odm_update_opts_t o, *opts = &o;
   bool opts_ok = odm_opts_load (&o, sizeof o, opts_in, ODM_UPDATE_OPTS_MIN, "odm_update_opts_t", error);
   bool upsert = o.upsert, multi = o.multi;

   if (matched) {
      *matched = 0;
   }
   if (!client || !opts_ok) {
      memset (&u, 0, sizeof u);
      u.v = violations ? violations : &local;
      odm_violations_init (u.v);
      bson_init (&u.guards);
      if (!client && opts_ok) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client is NULL");
      }
      finish (&u, &local);
      return false;
   }
   if (!start (&u, schema, update, opts, violations, &local, error)) {
      finish (&u, &local);
      return false;
   }
   if (!filter) {
      filter = &empty;
   }
   if (opts && opts->checked_filter) {
      odm_violations_t fv;
      if (!odm_filter_check (schema, filter, &fv)) {
         size_t i;
         for (i = 0; i < fv.count; i++) {
            odm_violations_add (u.v, fv.items[i].path, fv.items[i].rule, fv.items[i].message);
         }
         odm_violations_to_error (&fv, error);
         odm_violations_cleanup (&fv);
         bson_destroy (&empty);
         finish (&u, &local);
         return false;
      }
      odm_violations_cleanup (&fv);
   }
   if (!odm_check_session (client, o.session, o.mongoc_opts, error)) {
      bson_destroy (&empty);
      finish (&u, &local);
      return false;
   }
   u.client = client;
   u.coll = odm_client_collection_for (client, o.session, schema, &mc);
   if (u.result) {
      u.result->path = u.direct ? ODM_UPDATE_DIRECT : ODM_UPDATE_CHECKED;
      u.result->why = u.direct ? NULL : u.why;
   }

   if (u.direct && !upsert && (!multi || bson_empty (&u.guards))) {
      /* One round trip; the server applies it atomically. */
      bool hit;
      if (u.result) {
         u.result->attempts = 1;
      }
      ok = direct_one (&u, filter, multi, &n, &hit);
      if (ok && !hit && !bson_empty (&u.guards)) {
         /* Nothing matched filter and guards: no document, or the update would break a
          * bound. The checked path tells which, and reports the rule. */
         if (u.result) {
            u.result->path = ODM_UPDATE_CHECKED;
            u.result->why = "the direct update's guard did not match";
         }
         ok = checked_one (&u, filter, &n);
      }
   } else if (multi) {
      /* Every matching _id first, then each one on its own. */
      bson_t fopts = BSON_INITIALIZER, proj;
      mongoc_cursor_t *cur;
      const bson_t *d;
      bson_value_t *ids = NULL;
      size_t count = 0, cap = 0, i;
      BSON_APPEND_DOCUMENT_BEGIN (&fopts, "projection", &proj);
      BSON_APPEND_INT32 (&proj, "_id", 1);
      bson_append_document_end (&fopts, &proj);
      odm_session_append (o.session, &fopts);
      cur = mongoc_collection_find_with_opts (u.coll, filter, &fopts, NULL);
      while (mongoc_cursor_next (cur, &d)) {
         bson_iter_t it;
         if (bson_iter_init_find (&it, d, "_id")) {
            if (count == cap) {
               cap = cap ? cap * 2 : 16;
               ids = bson_realloc (ids, cap * sizeof *ids);
            }
            bson_value_copy (bson_iter_value (&it), &ids[count++]);
         }
      }
      ok = !mongoc_cursor_error (cur, error);
      mongoc_cursor_destroy (cur);
      bson_destroy (&fopts);
      for (i = 0; ok && i < count; i++) {
         bson_t one = BSON_INITIALIZER, and, a1;
         bool hit = false;
         BSON_APPEND_ARRAY_BEGIN (&one, "$and", &and);
         BSON_APPEND_DOCUMENT (&and, "0", filter);
         BSON_APPEND_DOCUMENT_BEGIN (&and, "1", &a1);
         bson_append_value (&a1, "_id", 3, &ids[i]);
         bson_append_document_end (&and, &a1);
         bson_append_array_end (&one, &and);
         if (u.direct) {
            ok = direct_one (&u, &one, false, &n, &hit);
         }
         if (ok && !hit) {
            ok = checked_one (&u, &one, &n);
         }
         bson_destroy (&one);
      }
      if (ok && count == 0 && upsert) {
         ok = checked_one (&u, filter, &n);
      }
      for (i = 0; i < count; i++) {
         bson_value_destroy (&ids[i]);
      }
      bson_free (ids);
   } else {
      /* Upserts read first (the insert branch is validated as a create); others take the
       * checked path. */
      ok = checked_one (&u, filter, &n);
   }
   odm_client_release_for (client, o.session, u.coll, mc);
   if (matched) {
      *matched = n;
   }
   if (u.result) {
      u.result->matched = n;
   }
   bson_destroy (&empty);
   finish (&u, &local);
   return ok;
}
