/* libodm: the pre-save path, struct -> struct: init and defaults, lowercase, the
 * schema's derivations, minimize, timestamps, the program's pre-save hooks, then the
 * validator (odm-validate.c). */
#include "odm-private.h"

#include <string.h>

/* ------------------------------------------------------------------- defaults */

/* Fills absent paths with their defaults; walks into nested objects and array elements.
 * IDS: also generate missing _id values (prepare, not init). Default strings come from
 * ARENA, or bson_strdup when it is NULL. */
void
odm_fill_defaults (const odm_object_desc_t *d, void *base, int64_t now, bool ids, odm_arena_t *arena)
{
   uint32_t i;
   if (!(d->flags & ODM_O_DEFAULTS)) {
      return; /* nothing to fill here or below */
   }
   if (d->defaults) {
      d->defaults (base, now, ids, arena); /* the same, as generated code */
      return;
   }
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t has;
      void *p;

      if (f->kind != ODM_KIND_OBJECT &&
          !(f->flags & (ODM_F_ARRAY | ODM_F_DEFAULT | ODM_F_DEFAULT_NOW | ODM_F_AUTO_ID))) {
         continue; /* nothing to fill */
      }
      has = odm_has_get (base, f);
      p = ODM_AT (base, f->offset);

      if (f->flags & ODM_F_ARRAY) {
         odm_array_view_t a = odm_array_get (base, f);
         if (has == ODM_ABSENT) {
            odm_has_set (base, f, ODM_PRESENT);
         }
         if (f->kind == ODM_KIND_OBJECT) {
            size_t k;
            for (k = 0; k < a.count; k++) {
               odm_fill_defaults (f->object, (char *) a.items + k * f->elem_size, now, ids, arena);
            }
         }
         continue;
      }
      if (f->kind == ODM_KIND_OBJECT) {
         if (has != ODM_NULL) {
            odm_fill_defaults (f->object, p, now, ids, arena);
         }
         continue;
      }
      if (has != ODM_ABSENT || (f->kind == ODM_KIND_STRING && *(char **) p)) {
         continue;
      }
      if (ids && (f->flags & ODM_F_AUTO_ID)) {
         odm_oid_new ((bson_oid_t *) p);
         odm_has_set (base, f, ODM_PRESENT);
      } else if (f->flags & ODM_F_DEFAULT_NOW) {
         *(int64_t *) p = now;
         odm_has_set (base, f, ODM_PRESENT);
      } else if (f->flags & ODM_F_DEFAULT) {
         switch (f->kind) {
         case ODM_KIND_STRING:
            *(char **) p = odm_arena_strdup (arena, f->dflt_string);
            break;
         case ODM_KIND_NUMBER:
            *(double *) p = f->dflt_number;
            break;
         case ODM_KIND_BOOL:
            *(bool *) p = f->dflt_bool;
            break;
         default:
            break;
         }
         odm_has_set (base, f, ODM_PRESENT);
      }
   }
}

void
odm_init_at (const odm_schema_t *schema, void *doc, int64_t now_ms)
{
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !doc) {
      return; /* nothing to initialise, or no size to know it by */
   }
   memset (doc, 0, schema->root->size);
   odm_fill_defaults (schema->root, doc, now_ms, false, NULL);
}

void
odm_init (const odm_schema_t *schema, void *doc)
{
   odm_init_at (schema, doc, odm_now_ms ());
}

/* ---------------------------------------------------------------- pre-save path */

static void
lowercase_object (const odm_object_desc_t *d, void *base, odm_arena_t *arena)
{
   uint32_t i;
   if (!(d->flags & ODM_O_LOWERCASE)) {
      return; /* nothing to lowercase here or below */
   }
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      size_t count = 1, k;
      char *items;
      if (f->kind != ODM_KIND_OBJECT && !(f->flags & ODM_F_LOWERCASE)) {
         continue;
      }
      if (f->flags & ODM_F_ARRAY) {
         items = odm_array_items (base, f, &count);
      } else {
         items = ODM_AT (base, f->offset);
      }
      for (k = 0; k < count; k++) {
         void *p = items + k * f->elem_size;
         if (f->kind == ODM_KIND_OBJECT) {
            lowercase_object (f->object, p, arena);
         } else if (*(char **) p && strstr (*(char **) p, "\xC4\xB0")) {
            /* U+0130 grows by one byte: a new string, from the arena when there is one
             * (the old one is then left there) */
            char *lower = odm_lowercase_in (arena, *(char **) p);
            if (!arena) {
               bson_free (*(char **) p);
            }
            *(char **) p = lower;
         } else {
            odm_lowercase_inplace (*(char **) p);
         }
      }
   }
}

/* Mongoose's `minimize` (on by default): a save stores no empty object. An empty object in a
 * mixed value is dropped (recursively: an object left empty by that is dropped too), objects
 * that are array elements are kept (emptied of their own empty objects), and a mixed field
 * or a nested object left empty is not stored at all. Unknown fields are kept as they are. */
#define MINIMIZE_MAX_DEPTH 200

static bool minimize_array (bson_iter_t *it, bson_t *out, int depth);

/* Copies the document at IT into OUT without its empty objects; false when nothing is left. */
static bool
minimize_doc (bson_iter_t *it, bson_t *out, int depth)
{
   bool any = false;
   while (bson_iter_next (it)) {
      bson_iter_t child;
      const char *key = bson_iter_key (it);
      int key_len = (int) bson_iter_key_len (it);
      if (depth < MINIMIZE_MAX_DEPTH && BSON_ITER_HOLDS_DOCUMENT (it) && bson_iter_recurse (it, &child)) {
         bson_t sub;
         bson_init (&sub);
         if (minimize_doc (&child, &sub, depth + 1)) {
            bson_append_document (out, key, key_len, &sub);
            any = true;
         }
         bson_destroy (&sub);
      } else if (depth < MINIMIZE_MAX_DEPTH && BSON_ITER_HOLDS_ARRAY (it) && bson_iter_recurse (it, &child)) {
         bson_t sub;
         bson_append_array_begin (out, key, key_len, &sub);
         minimize_array (&child, &sub, depth + 1);
         bson_append_array_end (out, &sub);
         any = true;
      } else {
         bson_append_iter (out, key, key_len, it);
         any = true;
      }
   }
   return any;
}

static bool
minimize_array (bson_iter_t *it, bson_t *out, int depth)
{
   while (bson_iter_next (it)) {
      bson_iter_t child;
      const char *key = bson_iter_key (it);
      int key_len = (int) bson_iter_key_len (it);
      if (BSON_ITER_HOLDS_DOCUMENT (it) && bson_iter_recurse (it, &child)) {
         bson_t sub;
         bson_init (&sub);
         minimize_doc (&child, &sub, depth + 1); /* kept even when left empty */
         bson_append_document (out, key, key_len, &sub);
         bson_destroy (&sub);
      } else if (BSON_ITER_HOLDS_ARRAY (it) && bson_iter_recurse (it, &child)) {
         bson_t sub;
         bson_append_array_begin (out, key, key_len, &sub);
         minimize_array (&child, &sub, depth + 1);
         bson_append_array_end (out, &sub);
      } else {
         bson_append_iter (out, key, key_len, it);
      }
   }
   return true;
}

/* Whether minimizing the document (IN_ARRAY false) or array at IT would change it: an empty
 * object that is not an array element, at a depth minimize_doc descends to. A corrupt
 * document says yes, for minimize_doc to handle it as before. Most mixed values hold no
 * empty object, and this read costs no copy. */
static bool
minimize_changes (bson_iter_t *it, bool in_array, int depth)
{
   while (bson_iter_next (it)) {
      bson_iter_t child;
      bool doc = BSON_ITER_HOLDS_DOCUMENT (it);
      if (!doc && !BSON_ITER_HOLDS_ARRAY (it)) {
         continue;
      }
      if (!in_array && depth >= MINIMIZE_MAX_DEPTH) {
         continue; /* minimize_doc copies it as it is (minimize_array has no limit) */
      }
      if (!bson_iter_recurse (it, &child)) {
         return true;
      }
      if (doc && !in_array) {
         uint32_t len;
         const uint8_t *data;
         bson_iter_document (it, &len, &data);
         if (len <= 5) {
            return true; /* an empty object: dropped */
         }
      }
      if (minimize_changes (&child, !doc, depth + 1)) {
         return true;
      }
   }
   return it->err_off != 0;
}

/* Minimizes mixed value V in place; false when it is an object left empty (to be dropped),
 * unless IN_ARRAY (array elements stay). The new bytes come from ARENA when it is not NULL
 * (and the old ones stay there), else from bson_malloc (and the old ones are freed). */
static bool
minimize_mixed (bson_value_t *v, bool in_array, odm_arena_t *arena)
{
   bson_t in, out;
   bson_iter_t it;
   bool keep;
   if (v->value_type != BSON_TYPE_DOCUMENT && v->value_type != BSON_TYPE_ARRAY) {
      return true;
   }
   if (!bson_init_static (&in, v->value.v_doc.data, v->value.v_doc.data_len) || !bson_iter_init (&it, &in)) {
      return true; /* not ours to judge here: validation and encode report it */
   }
   if (!minimize_changes (&it, v->value_type == BSON_TYPE_ARRAY, 1)) {
      /* nothing inside to drop: an object stays unless it is empty itself */
      return v->value_type == BSON_TYPE_ARRAY || in_array || v->value.v_doc.data_len > 5;
   }
   bson_iter_init (&it, &in);
   bson_init (&out);
   if (v->value_type == BSON_TYPE_ARRAY) {
      keep = minimize_array (&it, &out, 1);
   } else {
      keep = minimize_doc (&it, &out, 1) || in_array;
   }
   if (keep && out.len != v->value.v_doc.data_len) {
      if (!arena) {
         bson_free (v->value.v_doc.data);
      }
      v->value.v_doc.data_len = out.len;
      v->value.v_doc.data = arena ? odm_arena_alloc (arena, out.len, 8) : bson_malloc (out.len);
      memcpy (v->value.v_doc.data, bson_get_data (&out), out.len);
   }
   bson_destroy (&out);
   return keep;
}

static void
minimize_object (const odm_object_desc_t *d, void *base, odm_arena_t *arena)
{
   uint32_t i, n = d->minimize ? d->minimize_count : d->field_count;
   if (!(d->flags & ODM_O_MINIMIZE)) {
      return; /* no nested object or mixed value here or below */
   }
   for (i = 0; i < n; i++) {
      const odm_field_t *f = &d->fields[d->minimize ? d->minimize[i] : i];
      uint8_t *has = ODM_AT (base, f->presence);
      if (f->kind == ODM_KIND_MIXED) {
         if (f->flags & ODM_F_ARRAY) {
            size_t count, k;
            char *items = odm_array_items (base, f, &count);
            for (k = 0; k < count; k++) {
               minimize_mixed ((bson_value_t *) (items + k * f->elem_size), true, arena);
            }
         } else if (*has == ODM_PRESENT && !minimize_mixed (ODM_AT (base, f->offset), false, arena)) {
            if (!arena) {
               bson_value_destroy (ODM_AT (base, f->offset));
            }
            memset (ODM_AT (base, f->offset), 0, sizeof (bson_value_t));
            *has = ODM_ABSENT;
         }
      } else if (f->kind == ODM_KIND_OBJECT) {
         if (f->flags & ODM_F_ARRAY) {
            size_t count, k;
            char *items = odm_array_items (base, f, &count);
            for (k = 0; k < count; k++) {
               minimize_object (f->object, items + k * f->elem_size, arena);
            }
         } else {
            minimize_object (f->object, ODM_AT (base, f->offset), arena);
            if (*has == ODM_PRESENT) {
               *has = ODM_ABSENT; /* stored only if it holds something */
               if (odm_field_state (f, base) != ODM_ABSENT) {
                  *has = ODM_PRESENT;
               }
            }
         }
      }
   }
}

/* The pre-save path over checked arguments, into OUT (odm_violations_run); what it adds
 * comes from ARENA, or bson_malloc when it is NULL (odm_prepare). */
static bool
prepare_step (const odm_schema_t *schema, void *doc, odm_arena_t *arena, const odm_prepare_opts_t *opts,
              odm_violations_t *out)
{
   odm_rule_ctx_t ctx;

   ctx.opts = opts;
   ctx.now_ms = (opts && opts->now_ms) ? opts->now_ms : odm_now_ms ();
   ctx.out = out;

   odm_fill_defaults (schema->root, doc, ctx.now_ms, true, arena);
   lowercase_object (schema->root, doc, arena);
   if (schema->derive) {
      schema->derive (doc, &ctx); /* numbers, dates and booleans only: nothing to allocate */
   }
   minimize_object (schema->root, doc, arena);
   if (schema->created_at && !(opts && opts->is_update) && odm_has_get (doc, schema->created_at) != ODM_PRESENT) {
      *(int64_t *) ODM_AT (doc, schema->created_at->offset) = ctx.now_ms;
      odm_has_set (doc, schema->created_at, ODM_PRESENT);
   }
   if (schema->updated_at) {
      *(int64_t *) ODM_AT (doc, schema->updated_at->offset) = ctx.now_ms;
      odm_has_set (doc, schema->updated_at, ODM_PRESENT);
   }
   /* The program's pre-save hooks see the document as it will be saved, and what they
    * change is validated below. */
   odm_hooks_run (schema, ODM_HOOK_PRE_SAVE, doc, opts, ctx.now_ms, arena, out);
   return odm_validate_into (schema, doc, opts, out) && out->count == 0;
}

bool
odm_prepare (const odm_schema_t *schema, void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   return odm_violations_run (schema, doc, NULL, opts, out, prepare_step);
}

static bool
prepare_arena_step (const odm_schema_t *schema, void *doc, odm_arena_t *arena, const odm_prepare_opts_t *opts,
                    odm_violations_t *out)
{
   if (!arena) {
      odm_violations_add (out, "", "argument", "arena is NULL");
      return false;
   }
   return prepare_step (schema, doc, arena, opts, out);
}

bool
odm_prepare_arena (const odm_schema_t *schema, void *doc, odm_arena_t *arena, const odm_prepare_opts_t *opts,
                   odm_violations_t *out)
{
   return odm_violations_run (schema, doc, arena, opts, out, prepare_arena_step);
}
