/* A program's own rules: hooks and custom validators registered per schema at run time
 * (odm-hooks.h). The write paths call odm_hooks_run / odm_validators_run, which read the
 * registered table with one atomic load and take no lock. */
#include "odm-private.h"

#include <pthread.h>
#include <string.h>

typedef struct {
   odm_hook_kind_t kind;
   odm_hook_fn fn;
   void *user;
} hook_t;

typedef struct {
   const odm_field_t *const *segs; /* the fields along the path, root first */
   size_t n_segs;
   const char *rule, *message;
   odm_validator_fn fn;
   void *user;
} validator_t;

typedef struct {
   const odm_schema_t *schema;
   const hook_t *hooks; /* in the order added */
   size_t n_hooks;
   const validator_t *validators;
   size_t n_validators;
} entry_t;

/* What is registered, as an immutable table: a registration builds a new table (copying
 * the entries, and the one hook or validator array it grows) and publishes it with one
 * atomic store. The write paths read the current table with one atomic load and run its
 * arrays in place: no lock, no copy, so threads writing documents never wait on each
 * other here. Tables and arrays are never freed (registration is for the life of the
 * process, and a reader may still be walking an older table): each table keeps the one
 * before it reachable. */
typedef struct table {
   const entry_t *entries;
   size_t n;
   const struct table *older;
} table_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* registrations only */
static const table_t *current;                            /* __atomic_load_n / __atomic_store_n */

static const entry_t *
entry_of (const table_t *t, const odm_schema_t *schema)
{
   size_t i;
   for (i = 0; t && i < t->n; i++) {
      if (t->entries[i].schema == schema) {
         return &t->entries[i];
      }
   }
   return NULL;
}

static const table_t *
load_table (void)
{
   return __atomic_load_n (&current, __ATOMIC_ACQUIRE);
}

/* Publishes a table in which SCHEMA's entry has HOOK or VALIDATOR appended. Under LOCK. */
static void
publish_locked (const odm_schema_t *schema, const hook_t *hook, const validator_t *validator)
{
   const table_t *old = current;
   table_t *t = bson_malloc0 (sizeof *t);
   entry_t *entries, *e;
   size_t n = old ? old->n : 0, i;

   e = NULL;
   entries = bson_malloc0 ((n + 1) * sizeof *entries);
   for (i = 0; i < n; i++) {
      entries[i] = old->entries[i];
      if (entries[i].schema == schema) {
         e = &entries[i];
      }
   }
   if (!e) {
      e = &entries[n++];
      e->schema = schema;
   }
   if (hook) {
      hook_t *h = bson_malloc ((e->n_hooks + 1) * sizeof *h);
      if (e->n_hooks) {
         memcpy (h, e->hooks, e->n_hooks * sizeof *h);
      }
      h[e->n_hooks++] = *hook;
      e->hooks = h;
   }
   if (validator) {
      validator_t *v = bson_malloc ((e->n_validators + 1) * sizeof *v);
      if (e->n_validators) {
         memcpy (v, e->validators, e->n_validators * sizeof *v);
      }
      v[e->n_validators++] = *validator;
      e->validators = v;
   }
   t->entries = entries;
   t->n = n;
   t->older = old;
   __atomic_store_n (&current, t, __ATOMIC_RELEASE);
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
   if (!check_schema (schema, "odm_hook_add", error)) {
      return false;
   }
   if (!fn || kind < ODM_HOOK_PRE_VALIDATE || kind > ODM_HOOK_POST_SAVE) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "odm_hook_add: %s: no function, or an unknown hook kind %d",
                     schema->collection, (int) kind);
      return false;
   }
   hook_t h = {.kind = kind, .fn = fn, .user = user};
   pthread_mutex_lock (&lock);
   publish_locked (schema, &h, NULL);
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
   validator_t v;

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
   v.segs = segs;
   v.n_segs = n;
   v.rule = bson_strdup (rule ? rule : ODM_VALIDATE_RULE);
   v.message = bson_strdup (message);
   v.fn = fn;
   v.user = user;
   pthread_mutex_lock (&lock);
   publish_locked (schema, NULL, &v);
   pthread_mutex_unlock (&lock);
   return true;
}

bool
odm_schema_has_hooks (const odm_schema_t *schema)
{
   const entry_t *e;
   if (schema && schema->validator_count) {
      return true; /* the spec's own validators ("validate") */
   }
   e = entry_of (load_table (), schema);
   return e && (e->n_hooks || e->n_validators);
}

void
odm_hooks_run (const odm_schema_t *schema, odm_hook_kind_t kind, void *doc, const odm_prepare_opts_t *opts,
               int64_t now_ms, odm_arena_t *arena, odm_violations_t *out)
{
   /* The table read here stays valid while the hooks run, even if one registers more. */
   const entry_t *e = entry_of (load_table (), schema);
   size_t i;

   for (i = 0; e && i < e->n_hooks; i++) {
      if (e->hooks[i].kind != kind) {
         continue;
      }
      odm_hook_ctx_t ctx = {.schema = schema,
                            .kind = kind,
                            .opts = opts,
                            .is_update = opts && opts->is_update,
                            .now_ms = now_ms,
                            .out = kind == ODM_HOOK_POST_SAVE ? NULL : out,
                            .user = e->hooks[i].user,
                            .arena = arena};
      e->hooks[i].fn (doc, &ctx);
   }
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
   const entry_t *e = entry_of (load_table (), schema);
   size_t i;

   /* the spec's validators first, then the registered ones */
   for (i = 0; schema && i < schema->validator_count; i++) {
      const odm_spec_validator_t *sv = &schema->validators[i];
      validator_t va = {.segs = sv->segs, .n_segs = sv->n_segs, .rule = ODM_VALIDATE_RULE, .message = sv->message,
                        .fn = sv->fn};
      odm_path_t path;
      odm_path_init (&path);
      walk (&va, 0, doc, &path, out);
   }
   for (i = 0; e && i < e->n_validators; i++) {
      odm_path_t path;
      odm_path_init (&path);
      walk (&e->validators[i], 0, doc, &path, out);
   }
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
      odm_hooks_run (schema, ODM_HOOK_POST_SAVE, doc, &po, now_ms, NULL, NULL);
   }
   odm_cleanup (schema, doc);
   bson_free (doc);
}
