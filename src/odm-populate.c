/* libodm: populate. The references of a whole page of rows are read in one query per
 * reference path ({_id: {$in: [...]}}), never one per row, and decoded into the referenced
 * collection's structs; a reference to nothing is reported, not an error. */
#include "odm-private.h"

#include <string.h>

/* The schema whose Mongoose model is MODEL. */
static const odm_schema_t *
schema_of_model (const char *model)
{
   size_t n, i;
   const odm_schema_t *const *all = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      if (!strcmp (all[i]->model, model)) {
         return all[i];
      }
   }
   return NULL;
}

/* The reference field PATH of D (through subdocuments, not arrays), or NULL; *CHAIN
 * receives the fields walked (at most 16). */
static const odm_field_t *
ref_field (const odm_object_desc_t *d, const char *path, const odm_field_t **chain, size_t *depth)
{
   const char *seg = path;
   const odm_field_t *f = NULL;
   *depth = 0;
   while (*seg) {
      size_t n = strcspn (seg, "."), i;
      if (!d || *depth == 16) {
         return NULL;
      }
      f = NULL;
      for (i = 0; i < d->field_count && !f; i++) {
         if (d->fields[i].name_len == n && !memcmp (d->fields[i].name, seg, n)) {
            f = &d->fields[i];
         }
      }
      if (!f || (f->flags & ODM_F_ARRAY)) {
         return NULL;
      }
      chain[(*depth)++] = f;
      d = f->kind == ODM_KIND_OBJECT ? f->object : NULL;
      seg += n;
      if (*seg == '.') {
         seg++;
      }
   }
   return f && f->kind == ODM_KIND_OID && f->ref ? f : NULL;
}

/* ROW's reference at CHAIN, or NULL when absent or null. */
static const bson_oid_t *
ref_of (const void *row, const odm_field_t *const *chain, size_t depth)
{
   const void *base = row;
   size_t i;
   for (i = 0; i < depth; i++) {
      if (odm_field_state (chain[i], base) != ODM_PRESENT) {
         return NULL;
      }
      base = odm_field_value (chain[i], base);
   }
   return base;
}

void
odm_populated_cleanup (odm_populated_t *p)
{
   size_t i;
   if (!p) {
      return;
   }
   for (i = 0; p->schema && i < p->count; i++) {
      odm_cleanup (p->schema, (char *) p->docs + i * p->schema->root->size);
   }
   bson_free (p->docs);
   bson_free (p->by_row);
   odm_violations_cleanup (&p->missing);
   memset (p, 0, sizeof *p);
}

bool
odm_populate (odm_client_t *client, const odm_schema_t *schema, const void *rows, size_t n, const char *path,
              const odm_find_opts_t *opts, odm_populated_t *out, bson_error_t *error)
{
   const odm_field_t *chain[16], *f;
   size_t depth, i, k, nids = 0, cap = 0;
   const odm_schema_t *target;
   odm_find_opts_t fo;
   bson_t filter = BSON_INITIALIZER, in, arr;
   odm_cursor_t *cur;
   bool ok;

   if (out) {
      memset (out, 0, sizeof *out);
      odm_violations_init (&out->missing);
   }
   if (!out || !odm_check_client_args (client, schema, error) || (n && !rows) || !path) {
      if (out && client && schema) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "rows, path or out is NULL");
      }
      return false;
   }
   if (!odm_opts_load (&fo, sizeof fo, opts, ODM_FIND_OPTS_MIN, "odm_find_opts_t", error)) {
      return false;
   }
   if (!(f = ref_field (schema->root, path, chain, &depth))) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path,
                     "not a reference: populate takes an ObjectId field with a ref, outside arrays");
      return false;
   }
   if (!(target = schema_of_model (f->ref))) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, path, "references model %s, which no collection has", f->ref);
      return false;
   }
   out->schema = target;
   out->by_row = bson_malloc0 ((n ? n : 1) * sizeof *out->by_row);
   if (n == 0) {
      bson_destroy (&filter);
      return true;
   }
   /* one query for the page: every distinct reference */
   BSON_APPEND_DOCUMENT_BEGIN (&filter, "_id", &in);
   BSON_APPEND_ARRAY_BEGIN (&in, "$in", &arr);
   for (i = 0; i < n; i++) {
      const bson_oid_t *id = ref_of ((const char *) rows + i * schema->root->size, chain, depth);
      bool seen = false;
      if (!id) {
         continue;
      }
      for (k = 0; k < i && !seen; k++) {
         const bson_oid_t *other = ref_of ((const char *) rows + k * schema->root->size, chain, depth);
         seen = other && bson_oid_equal (other, id);
      }
      if (!seen) {
         char key[16];
         const char *kp;
         odm_index_key ((uint32_t) nids++, &kp, key, sizeof key);
         BSON_APPEND_OID (&arr, kp, id);
      }
   }
   bson_append_array_end (&in, &arr);
   bson_append_document_end (&filter, &in);
   fo.sort = NULL;
   fo.skip = 0;
   fo.limit = 0;
   fo.after = NULL;
   fo.checked_filter = false;
   ok = true;
   if (nids) {
      if (!(cur = odm_find (client, target, &filter, &fo, error))) {
         bson_destroy (&filter);
         return false;
      }
      for (;;) {
         void *slot;
         if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            out->docs = bson_realloc (out->docs, cap * target->root->size);
         }
         slot = (char *) out->docs + out->count * target->root->size;
         if (!odm_cursor_next (cur, slot)) {
            break;
         }
         if (odm_cursor_current_bad (cur, NULL)) {
            continue; /* RAW: not decoded, so not populated */
         }
         out->count++;
      }
      ok = !odm_cursor_error (cur, error);
      odm_cursor_destroy (cur);
   }
   bson_destroy (&filter);
   if (!ok) {
      odm_populated_cleanup (out);
      odm_violations_init (&out->missing);
      return false;
   }
   for (i = 0; i < n; i++) {
      const bson_oid_t *id = ref_of ((const char *) rows + i * schema->root->size, chain, depth);
      if (!id) {
         continue;
      }
      for (k = 0; k < out->count && !out->by_row[i]; k++) {
         const void *doc = (const char *) out->docs + k * target->root->size;
         if (odm_field_state (&target->root->fields[0], doc) == ODM_PRESENT &&
             bson_oid_equal (odm_field_value (&target->root->fields[0], doc), id)) {
            out->by_row[i] = doc;
         }
      }
      if (!out->by_row[i]) {
         char p[ODM_PATH_MAX], msg[128], hex[25];
         bson_oid_to_string (id, hex);
         bson_snprintf (p, sizeof p, "%zu.%s", i, path);
         bson_snprintf (msg, sizeof msg, "no %s document has _id %s", f->ref, hex);
         odm_violations_add (&out->missing, p, "ref", msg);
      }
   }
   return true;
}
