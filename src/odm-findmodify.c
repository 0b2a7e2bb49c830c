/* libodm: findOneAndUpdate, findOneAndDelete and distinct, through the same checks as the
 * rest of the live layer. */
#include "odm-private.h"

#include <string.h>

#define FIND_MODIFY_ATTEMPTS 16

/* The first document matching FILTER, raw (NULL when none). */
static bool
read_one (odm_client_t *client, odm_session_t *session, const odm_schema_t *schema, const bson_t *filter,
          bson_t **out, bson_error_t *error)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll = odm_client_collection_for (client, session, schema, &mc);
   bson_t opts = BSON_INITIALIZER;
   mongoc_cursor_t *cur;
   const bson_t *d;
   bool ok;
   BSON_APPEND_INT32 (&opts, "limit", 1);
   odm_session_append (session, &opts);
   cur = mongoc_collection_find_with_opts (coll, filter, &opts, NULL);
   *out = mongoc_cursor_next (cur, &d) ? bson_copy (d) : NULL;
   ok = !mongoc_cursor_error (cur, error);
   mongoc_cursor_destroy (cur);
   bson_destroy (&opts);
   odm_client_release_for (client, session, coll, mc);
   if (!ok) {
      bson_destroy (*out);
      *out = NULL;
   }
   return ok;
}

bool
odm_find_one_and_update (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                         const bson_t *update, const odm_update_opts_t *opts, bool return_new, void *out,
                         bool *found, odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   odm_violations_t *v = violations ? violations : &local;
   odm_update_opts_t o;
   bson_t empty = BSON_INITIALIZER;
   int attempt;
   bool ok = false;

   odm_violations_init (v);
   if (found) {
      *found = false;
   }
   if (out && schema && schema->magic == ODM_SCHEMA_MAGIC) {
      memset (out, 0, schema->root->size);
   }
   if (!odm_opts_load (&o, sizeof o, opts, ODM_UPDATE_OPTS_MIN, "odm_update_opts_t", error) ||
       !odm_check_client_args (client, schema, error) || !odm_check_session (client, o.session, o.mongoc_opts, error)) {
      goto done;
   }
   if (!out || !update) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out or update is NULL");
      goto done;
   }
   if (o.upsert || o.multi) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "opts", "find_one_and_update updates one existing document: "
                                                                "no upsert, no multi (use odm_update)");
      goto done;
   }
   if (!filter) {
      filter = &empty;
   }
   if (o.checked_filter) {
      odm_violations_t fv;
      if (!odm_filter_check (schema, filter, &fv)) {
         odm_violations_to_error (&fv, error);
         odm_violations_cleanup (&fv);
         goto done;
      }
      odm_violations_cleanup (&fv);
      o.checked_filter = false;
   }
   if (!odm_update_plan (schema, update, NULL, NULL, v, error)) {
      goto done; /* refused before anything is read */
   }
   for (attempt = 0; attempt < FIND_MODIFY_ATTEMPTS; attempt++) {
      bson_t *before = NULL, guard = BSON_INITIALIZER, vc;
      bson_iter_t id, ver;
      int64_t matched = 0;
      if (!read_one (client, o.session, schema, filter, &before, error)) {
         goto done;
      }
      if (!before) {
         ok = true; /* nothing matched */
         goto done;
      }
      if (!bson_iter_init_find (&id, before, "_id")) {
         bson_destroy (before);
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "_id", "the stored document has no _id");
         goto done;
      }
      /* the update applies to this document in this version, or not at all */
      bson_append_iter (&guard, "_id", 3, &id);
      if (bson_iter_init_find (&ver, before, ODM_VERSION_KEY)) {
         bson_append_iter (&guard, ODM_VERSION_KEY, -1, &ver);
      } else {
         BSON_APPEND_DOCUMENT_BEGIN (&guard, ODM_VERSION_KEY, &vc);
         BSON_APPEND_BOOL (&vc, "$exists", false);
         bson_append_document_end (&guard, &vc);
      }
      odm_violations_cleanup (v);
      ok = odm_update (client, schema, &guard, update, &o, &matched, v, error);
      if (ok && matched == 1) {
         bson_t *after = NULL;
         if (found) {
            *found = true;
         }
         if (return_new) {
            bson_t by_id = BSON_INITIALIZER;
            bson_append_iter (&by_id, "_id", 3, &id);
            ok = read_one (client, o.session, schema, &by_id, &after, error);
            bson_destroy (&by_id);
            if (ok && !after) {
               ok = false;
               odm_set_error (error, ODM_ERROR_NOT_FOUND, NULL, "%s: the document was deleted right after the update",
                              schema->collection);
            }
         }
         if (ok) {
            ok = odm_from_bson (schema, return_new ? after : before, out, 0, error);
         }
         bson_destroy (after);
         bson_destroy (before);
         bson_destroy (&guard);
         goto done;
      }
      bson_destroy (before);
      bson_destroy (&guard);
      if (!ok) {
         goto done;
      }
      /* matched nothing: another write changed it since the read; read again */
   }
   ok = false;
   odm_set_error (error, ODM_ERROR_CONFLICT, NULL, "%s: the document kept changing (%d attempts)", schema->collection,
                  FIND_MODIFY_ATTEMPTS);
done:
   if (v == &local) {
      odm_violations_cleanup (&local);
   }
   return ok;
}

bool
odm_find_one_and_delete (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                         const odm_find_opts_t *opts, void *out, bool *found, bson_error_t *error)
{
   odm_find_opts_t o;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   mongoc_find_and_modify_opts_t *fm;
   bson_t reply, extra = BSON_INITIALIZER, empty = BSON_INITIALIZER;
   bson_iter_t it;
   bool ok;

   if (found) {
      *found = false;
   }
   if (out && schema && schema->magic == ODM_SCHEMA_MAGIC) {
      memset (out, 0, schema->root->size);
   }
   if (!odm_opts_load (&o, sizeof o, opts, ODM_FIND_OPTS_MIN, "odm_find_opts_t", error) ||
       !odm_check_client_args (client, schema, error) || !odm_check_session (client, o.session, o.mongoc_opts, error)) {
      return false;
   }
   if (!out) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out is NULL");
      return false;
   }
   if (o.checked_filter) {
      odm_violations_t fv;
      bool good = odm_filter_check (schema, filter, &fv) && odm_sort_check (schema, o.sort, &fv);
      if (!good) {
         odm_violations_to_error (&fv, error);
      }
      odm_violations_cleanup (&fv);
      if (!good) {
         return false;
      }
   }
   fm = mongoc_find_and_modify_opts_new ();
   mongoc_find_and_modify_opts_set_flags (fm, MONGOC_FIND_AND_MODIFY_REMOVE);
   if (o.sort) {
      mongoc_find_and_modify_opts_set_sort (fm, o.sort);
   }
   if (o.mongoc_opts) {
      bson_concat (&extra, o.mongoc_opts);
   }
   odm_session_append (o.session, &extra);
   mongoc_find_and_modify_opts_append (fm, &extra);
   coll = odm_client_collection_for (client, o.session, schema, &mc);
   ok = mongoc_collection_find_and_modify_with_opts (coll, filter ? filter : &empty, fm, &reply, error);
   odm_client_release_for (client, o.session, coll, mc);
   mongoc_find_and_modify_opts_destroy (fm);
   bson_destroy (&extra);
   if (ok && bson_iter_init_find (&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT (&it)) {
      const uint8_t *data;
      uint32_t len;
      bson_t doc;
      bson_iter_document (&it, &len, &data);
      if (found) {
         *found = true;
      }
      if (bson_init_static (&doc, data, len)) {
         ok = odm_from_bson (schema, &doc, out, o.decode_flags, error);
      }
   }
   bson_destroy (&reply);
   return ok;
}

bool
odm_distinct (odm_client_t *client, const odm_schema_t *schema, const char *path, const bson_t *filter,
              const odm_find_opts_t *opts, bson_t *values, bson_error_t *error)
{
   odm_find_opts_t o;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   bson_t cmd = BSON_INITIALIZER, copts = BSON_INITIALIZER, reply, probe = BSON_INITIALIZER, ex;
   odm_violations_t pv;
   bson_iter_t it;
   bool ok;

   if (values) {
      bson_init (values);
   }
   if (!odm_opts_load (&o, sizeof o, opts, ODM_FIND_OPTS_MIN, "odm_find_opts_t", error) ||
       !odm_check_client_args (client, schema, error) || !odm_check_session (client, o.session, o.mongoc_opts, error)) {
      return false;
   }
   if (!path || !values) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "path or values is NULL");
      return false;
   }
   /* the path is checked always (a misspelt one would return nothing), the filter when asked */
   BSON_APPEND_DOCUMENT_BEGIN (&probe, path, &ex);
   BSON_APPEND_BOOL (&ex, "$exists", true);
   bson_append_document_end (&probe, &ex);
   ok = odm_filter_check (schema, &probe, &pv) && (!o.checked_filter || odm_filter_check (schema, filter, &pv));
   if (!ok) {
      odm_violations_to_error (&pv, error);
   }
   odm_violations_cleanup (&pv);
   bson_destroy (&probe);
   if (!ok) {
      return false;
   }
   BSON_APPEND_UTF8 (&cmd, "distinct", schema->collection);
   BSON_APPEND_UTF8 (&cmd, "key", path);
   if (filter) {
      BSON_APPEND_DOCUMENT (&cmd, "query", filter);
   }
   if (o.mongoc_opts) {
      bson_concat (&copts, o.mongoc_opts);
   }
   odm_session_append (o.session, &copts);
   coll = odm_client_collection_for (client, o.session, schema, &mc);
   ok = mongoc_collection_read_command_with_opts (coll, &cmd, o.read_prefs, &copts, &reply, error);
   odm_client_release_for (client, o.session, coll, mc);
   if (ok && bson_iter_init_find (&it, &reply, "values") && BSON_ITER_HOLDS_ARRAY (&it)) {
      const uint8_t *data;
      uint32_t len;
      bson_t arr;
      bson_iter_array (&it, &len, &data);
      if (bson_init_static (&arr, data, len)) {
         bson_concat (values, &arr);
      }
   }
   bson_destroy (&reply);
   bson_destroy (&cmd);
   bson_destroy (&copts);
   return ok;
}
