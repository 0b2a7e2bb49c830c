/* A program's own rules: hooks and custom validators registered per schema at run time
 * (odm-hooks.h). The write paths call odm_hooks_run / odm_validators_run; when nothing is
 * registered anywhere they return after one atomic load. */
#include "odm-private.h"

#include <pthread.h>
#include <string.h>

typedef struct {
   odm_hook_kind_t kind;
   odm_hook_fn fn;
   void *user;
} hook_t;

typedef struct {
   const odm_field_t **segs; /* the fields along the path, root first */
   size_t n_segs;
   char *rule, *message;
   odm_validator_fn fn;
   void *user;
} validator_t;

typedef struct {
   const odm_schema_t *schema;
   hook_t *hooks;
   size_t n_hooks;
   validator_t *validators;
   size_t n_validators;
} entry_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t *entries;
static size_t n_entries;
static int any; /* read with __atomic_load_n: whether anything was ever registered */

static entry_t *
entry_locked (const odm_schema_t *schema, bool create)
{
   size_t i;
   for (i = 0; i < n_entries; i++) {
      if (entries[i].schema == schema) {
         return &entries[i];
      }
   }
   if (!create) {
      return NULL;
   }
   entries = bson_realloc (entries, (n_entries + 1) * sizeof *entries);
   memset (&entries[n_entries], 0, sizeof *entries);
   entries[n_entries].schema = schema;
   return &entries[n_entries++];
}

static bool
check_schema (const odm_schema_t *schema, const char *what, bson_error_t *error)
{
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s: schema is NULL or not a libodm schema", what);
      return false;
   }
   return true;
}

bool
odm_hook_add (const odm_schema_t *schema, odm_hook_kind_t kind, odm_hook_fn fn, void *user, bson_error_t *error)
{
   entry_t *e;
   if (!check_schema (schema, "odm_hook_add", error)) {
      return false;
   }
   if (!fn || kind < ODM_HOOK_PRE_VALIDATE || kind > ODM_HOOK_POST_SAVE) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "odm_hook_add: %s: no function, or an unknown hook kind %d",
                     schema->collection, (int) kind);
      return false;
   }
   pthread_mutex_lock (&lock);
   e = entry_locked (schema, true);
   e->hooks = bson_realloc (e->hooks, (e->n_hooks + 1) * sizeof *e->hooks);
   e->hooks[e->n_hooks].kind = kind;
   e->hooks[e->n_hooks].fn = fn;
   e->hooks[e->n_hooks].user = user;
   e->n_hooks++;
   __atomic_store_n (&any, 1, __ATOMIC_RELEASE);
   pthread_mutex_unlock (&lock);
   return true;
}

bool
odm_validator_add (const odm_schema_t *schema, const char *path, const char *rule, const char *message,
                   odm_validator_fn fn, void *user, bson_error_t *error)
{
   const odm_object_desc_t *d;
   const odm_field_t **segs = NULL;
   size_t n = 0;
   const char *p, *dot;
   entry_t *e;
   validator_t *v;

   if (!check_schema (schema, "odm_validator_add", error)) {
      return false;
   }
   if (!path || !*path || !fn || !message) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "odm_validator_add: %s: a path, a function and a message "
                     "are required", schema->collection);
      return false;
   }
   d = schema->root;
   for (p = path; p; p = dot ? dot + 1 : NULL) {
      size_t len, i;
      const odm_field_t *f = NULL;
      dot = strchr (p, '.');
      len = dot ? (size_t) (dot - p) : strlen (p);
      for (i = 0; d && i < d->field_count; i++) {
         if (d->fields[i].name_len == len && !memcmp (d->fields[i].name, p, len)) {
            f = &d->fields[i];
         }
      }
      if (!f) {
         bson_free (segs);
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "odm_validator_add: %s has no such path",
                        schema->collection);
         return false;
      }
      segs = bson_realloc (segs, (n + 1) * sizeof *segs);
      segs[n++] = f;
      d = f->kind == ODM_KIND_OBJECT ? f->object : NULL;
   }
   if (segs[n - 1]->kind == ODM_KIND_OBJECT) {
      bson_free (segs);
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path,
                     "odm_validator_add: %s: a validator goes on a value, not on an object", schema->collection);
      return false;
   }
   pthread_mutex_lock (&lock);
   e = entry_locked (schema, true);
   e->validators = bson_realloc (e->validators, (e->n_validators + 1) * sizeof *e->validators);
   v = &e->validators[e->n_validators++];
   v->segs = segs;
   v->n_segs = n;
   v->rule = bson_strdup (rule ? rule : "validate");
   v->message = bson_strdup (message);
   v->fn = fn;
   v->user = user;
   __atomic_store_n (&any, 1, __ATOMIC_RELEASE);
   pthread_mutex_unlock (&lock);
   return true;
}

bool
odm_schema_has_hooks (const odm_schema_t *schema)
{
   entry_t *e;
   bool r;
   if (!__atomic_load_n (&any, __ATOMIC_ACQUIRE)) {
      return false;
   }
   pthread_mutex_lock (&lock);
   e = entry_locked (schema, false);
   r = e && (e->n_hooks || e->n_validators);
   pthread_mutex_unlock (&lock);
   return r;
}

void
odm_hooks_run (const odm_schema_t *schema, odm_hook_kind_t kind, void *doc, const odm_prepare_opts_t *opts,
               int64_t now_ms, odm_violations_t *out)
{
   hook_t *copy = NULL;
   size_t n = 0, i;
   entry_t *e;

   if (!__atomic_load_n (&any, __ATOMIC_ACQUIRE)) {
      return;
   }
   /* A copy, so that a hook may register hooks (or write) without deadlocking. */
   pthread_mutex_lock (&lock);
   e = entry_locked (schema, false);
   if (e && e->n_hooks) {
      copy = bson_malloc (e->n_hooks * sizeof *copy);
      for (i = 0; i < e->n_hooks; i++) {
         if (e->hooks[i].kind == kind) {
            copy[n++] = e->hooks[i];
         }
      }
   }
   pthread_mutex_unlock (&lock);
   for (i = 0; i < n; i++) {
      odm_hook_ctx_t ctx = {.schema = schema,
                            .kind = kind,
                            .opts = opts,
                            .is_update = opts && opts->is_update,
                            .now_ms = now_ms,
                            .out = kind == ODM_HOOK_POST_SAVE ? NULL : out,
                            .user = copy[i].user};
      copy[i].fn (doc, &ctx);
   }
   bson_free (copy);
}

/* The C value of field F at P as a BSON value; false when absent or null. */
static bool
as_value (const odm_field_t *f, const void *p, bool element, const void *obj, bson_value_t *v)
{
   if (!element && f->kind != ODM_KIND_STRING && f->kind != ODM_KIND_MIXED &&
       odm_field_state (f, obj) != ODM_PRESENT) {
      return false;
   }
   memset (v, 0, sizeof *v);
   switch (f->kind) {
   case ODM_KIND_STRING: {
      char *s = *(char *const *) p;
      if (!s || (!element && odm_field_state (f, obj) == ODM_NULL)) {
         return false;
      }
      v->value_type = BSON_TYPE_UTF8;
      v->value.v_utf8.str = s;
      v->value.v_utf8.len = (uint32_t) strlen (s);
      return true;
   }
   case ODM_KIND_NUMBER:
      v->value_type = BSON_TYPE_DOUBLE;
      v->value.v_double = *(const double *) p;
      return true;
   case ODM_KIND_BOOL:
      v->value_type = BSON_TYPE_BOOL;
      v->value.v_bool = *(const bool *) p;
      return true;
   case ODM_KIND_DATE:
      v->value_type = BSON_TYPE_DATE_TIME;
      v->value.v_datetime = *(const int64_t *) p;
      return true;
   case ODM_KIND_OID:
      v->value_type = BSON_TYPE_OID;
      bson_oid_copy ((const bson_oid_t *) p, &v->value.v_oid);
      return true;
   case ODM_KIND_MIXED:
      *v = *(const bson_value_t *) p;
      return v->value_type != BSON_TYPE_EOD && v->value_type != BSON_TYPE_NULL;
   default:
      return false;
   }
}

static void
check_value (const validator_t *va, const odm_field_t *f, const void *p, bool element, const void *obj,
             odm_path_t *path, odm_violations_t *out)
{
   bson_value_t v;
   if (as_value (f, p, element, obj, &v) && !va->fn (&v, va->user)) {
      odm_violations_add (out, path->buf, va->rule, va->message);
   }
}

static void
walk (const validator_t *va, size_t seg, const void *obj, odm_path_t *path, odm_violations_t *out)
{
   const odm_field_t *f = va->segs[seg];
   bool last = seg + 1 == va->n_segs;
   size_t old = odm_path_push (path, f->name, f->name_len);
   if (f->flags & ODM_F_ARRAY) {
      size_t count, k;
      const char *items = odm_array_items (obj, f, &count);
      for (k = 0; k < count; k++) {
         size_t o2 = odm_path_push_index (path, k);
         const void *elem = items + k * f->elem_size;
         if (last) {
            check_value (va, f, elem, true, obj, path, out);
         } else {
            walk (va, seg + 1, elem, path, out);
         }
         odm_path_pop (path, o2);
      }
   } else if (last) {
      check_value (va, f, ODM_AT_CONST (obj, f->offset), false, obj, path, out);
   } else if (odm_field_state (f, obj) != ODM_NULL) {
      walk (va, seg + 1, ODM_AT_CONST (obj, f->offset), path, out);
   }
   odm_path_pop (path, old);
}

void
odm_validators_run (const odm_schema_t *schema, const void *doc, odm_violations_t *out)
{
   validator_t *copy = NULL;
   size_t n = 0, i;
   entry_t *e;

   if (!__atomic_load_n (&any, __ATOMIC_ACQUIRE)) {
      return;
   }
   pthread_mutex_lock (&lock);
   e = entry_locked (schema, false);
   if (e && e->n_validators) {
      n = e->n_validators;
      copy = bson_malloc (n * sizeof *copy);
      memcpy (copy, e->validators, n * sizeof *copy);
   }
   pthread_mutex_unlock (&lock);
   for (i = 0; i < n; i++) {
      odm_path_t path;
      odm_path_init (&path);
      walk (&copy[i], 0, doc, &path, out);
   }
   bson_free (copy);
}

void
odm_hooks_post_save_bson (const odm_schema_t *schema, const bson_t *stored, bool is_update, int64_t now_ms)
{
   void *doc;
   bson_error_t e;
   odm_prepare_opts_t po = {.is_update = is_update, .now_ms = now_ms};
   if (!odm_schema_has_hooks (schema)) {
      return;
   }
   doc = bson_malloc0 (schema->root->size);
   if (odm_from_bson (schema, stored, doc, ODM_DECODE_DEFAULT, &e)) {
      odm_hooks_run (schema, ODM_HOOK_POST_SAVE, doc, &po, now_ms, NULL);
   }
   odm_cleanup (schema, doc);
   bson_free (doc);
}
