/* The generated tables against the seed's measured counts (shared/docs/seed-notes.md),
 * the registry, and the index merge. */
#include "test-util.h"

#include <string.h>

START_TEST (test_registry)
{
   size_t n, i;
   const odm_schema_t *const *all = odm_schemas (&n);
   ck_assert_uint_eq (n, 29);
   ck_assert_uint_eq (ODM_COLLECTION_COUNT, 29);
   for (i = 0; i < n; i++) {
      ck_assert_uint_eq (all[i]->magic, ODM_SCHEMA_MAGIC);
      ck_assert_uint_eq (all[i]->abi, ODM_CODEGEN_ABI);
      ck_assert_ptr_eq (odm_schema_find (all[i]->collection), all[i]);
      if (i) {
         ck_assert_int_lt (strcmp (all[i - 1]->collection, all[i]->collection), 0);
      }
   }
   ck_assert_ptr_null (odm_schema_find ("nope"));
   ck_assert_ptr_null (odm_schema_find (NULL));
   ck_assert_ptr_eq (odm_schema_find ("chat_sessions"), &odm_chat_session_schema);
}
END_TEST

START_TEST (test_seed_counts)
{
   size_t n, i, j;
   const odm_schema_t *const *all = odm_schemas (&n);
   unsigned paths = 0, declared = 0, distinct = 0, dup = 0, prefix = 0, aggs = 0, unique = 0;
   for (i = 0; i < n; i++) {
      paths += all[i]->path_count;
      aggs += all[i]->aggregation_count;
      for (j = 0; j < all[i]->index_count; j++) {
         const odm_index_t *ix = &all[i]->indexes[j];
         declared += ix->declared;
         distinct++;
         dup += ix->declared - 1;
         prefix += ix->prefix_of >= 0;
         unique += ix->declared_unique;
      }
   }
   ck_assert_uint_eq (paths, 471);
   ck_assert_uint_eq (aggs, 98);
   ck_assert_uint_eq (declared, 161);
   ck_assert_uint_eq (distinct, 147);
   ck_assert_uint_eq (dup, 14);
   ck_assert_uint_eq (prefix, 2);
   ck_assert_uint_eq (unique, 35);
}
END_TEST

static const odm_index_t *
find_index (const odm_schema_t *s, const char *name)
{
   uint32_t i;
   for (i = 0; i < s->index_count; i++) {
      if (strcmp (s->indexes[i].name, name) == 0) {
         return &s->indexes[i];
      }
   }
   return NULL;
}

START_TEST (test_index_merge)
{
   const odm_index_t *ix;
   /* Declared unique on the field and again without options: unique wins (seed-notes 6). */
   ix = find_index (&odm_chat_session_schema, "sessionId_1");
   ck_assert_ptr_nonnull (ix);
   ck_assert (ix->unique);
   ck_assert_uint_eq (ix->declared, 2);
   ck_assert_str_eq (ix->keys_json, "{ \"sessionId\" : 1 }");

   ix = find_index (&odm_user_favorite_schema, "userId_1_itemType_1");
   ck_assert_ptr_nonnull (ix);
   ck_assert_int_ge (ix->prefix_of, 0);
   ck_assert_str_eq (odm_user_favorite_schema.indexes[ix->prefix_of].name, "userId_1_itemType_1_itemId_1");

   ix = find_index (&odm_agent_personalization_schema, "userId_1");
   ck_assert_ptr_nonnull (ix);
   ck_assert_str_eq (odm_agent_personalization_schema.indexes[ix->prefix_of].name, "userId_1_agentId_1");

   ix = find_index (&odm_community_like_schema, "userId_1_targetType_1_targetId_1");
   ck_assert (ix && ix->unique);
}
END_TEST

START_TEST (test_spec_json_embedded)
{
   size_t n, i;
   const odm_schema_t *const *all = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      bson_error_t err;
      bson_t *b = bson_new_from_json ((const uint8_t *) all[i]->spec_json, -1, &err);
      bson_iter_t it;
      ck_assert_msg (b != NULL, "%s: %s", all[i]->collection, err.message);
      ck_assert (bson_iter_init_find (&it, b, "collection"));
      ck_assert_str_eq (bson_iter_utf8 (&it, NULL), all[i]->collection);
      bson_destroy (b);
   }
}
END_TEST

/* Every literal default of every spec is what init puts in the struct. */
static void
check_defaults (const char *coll, bson_iter_t *fields, const odm_object_desc_t *d, const void *obj)
{
   while (bson_iter_next (fields)) {
      bson_iter_t f, k;
      const char *name = NULL, *type = NULL;
      const odm_field_t *fd = NULL;
      uint32_t i;
      bson_iter_recurse (fields, &f);
      ck_assert (bson_iter_find (&f, "name"));
      name = bson_iter_utf8 (&f, NULL);
      bson_iter_recurse (fields, &f);
      ck_assert (bson_iter_find (&f, "type"));
      type = bson_iter_utf8 (&f, NULL);
      for (i = 0; i < d->field_count; i++) {
         if (strcmp (d->fields[i].name, name) == 0) {
            fd = &d->fields[i];
         }
      }
      ck_assert_msg (fd != NULL, "%s: %s not generated", coll, name);
      if (strcmp (type, "object") == 0) {
         bson_iter_recurse (fields, &f);
         ck_assert (bson_iter_find (&f, "fields") && bson_iter_recurse (&f, &k));
         check_defaults (coll, &k, fd->object, odm_field_value (fd, obj));
         continue;
      }
      if (strcmp (type, "array") == 0) {
         size_t count;
         ck_assert_msg (odm_field_state (fd, obj) == ODM_PRESENT, "%s.%s: array default []", coll, name);
         odm_field_array (fd, obj, &count);
         ck_assert_uint_eq (count, 0);
         continue;
      }
      bson_iter_recurse (fields, &f);
      if (!bson_iter_find (&f, "default")) {
         ck_assert_msg (odm_field_state (fd, obj) == ODM_ABSENT, "%s.%s has no default", coll, name);
         continue;
      }
      ck_assert_msg (odm_field_state (fd, obj) == ODM_PRESENT, "%s.%s default not applied", coll, name);
      if (BSON_ITER_HOLDS_UTF8 (&f) && strcmp (type, "date") == 0) {
         ck_assert_str_eq (bson_iter_utf8 (&f, NULL), "now");
         ck_assert (*(const int64_t *) odm_field_value (fd, obj) == 1234);
      } else if (BSON_ITER_HOLDS_UTF8 (&f)) {
         ck_assert_str_eq (*(char *const *) odm_field_value (fd, obj), bson_iter_utf8 (&f, NULL));
      } else if (BSON_ITER_HOLDS_BOOL (&f)) {
         ck_assert (*(const bool *) odm_field_value (fd, obj) == bson_iter_bool (&f));
      } else {
         ck_assert (*(const double *) odm_field_value (fd, obj) == bson_iter_as_double (&f));
      }
   }
}

START_TEST (test_defaults_match_specs)
{
   size_t n;
   const odm_schema_t *s = odm_schemas (&n)[_i];
   void *doc = bson_malloc0 (s->root->size);
   bson_t *spec = bson_new_from_json ((const uint8_t *) s->spec_json, -1, NULL);
   bson_iter_t it, fields;
   odm_init_at (s, doc, 1234);
   ck_assert (bson_iter_init_find (&it, spec, "fields") && bson_iter_recurse (&it, &fields));
   check_defaults (s->collection, &fields, s->root, doc);
   bson_destroy (spec);
   odm_cleanup (s, doc);
   bson_free (doc);
}
END_TEST

/* The key patterns and pipelines odmgen writes as BSON bytes (read in place by the runtime)
 * are the documents their JSON text says, for every shipped index and analytic. */
START_TEST (test_generated_bson_matches_json)
{
   size_t n, i, j, indexes = 0, pipelines = 0;
   const odm_schema_t *const *all = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      for (j = 0; j < all[i]->index_count; j++) {
         const odm_index_t *ix = &all[i]->indexes[j];
         bson_t b, *want = odm_test_json (ix->keys_json);
         ck_assert_msg (ix->keys_bson && bson_init_static (&b, ix->keys_bson, ix->keys_bson_len), "%s %s",
                        all[i]->collection, ix->name);
         ck_assert_msg (bson_equal (&b, want), "%s %s", all[i]->collection, ix->name);
         bson_destroy (want);
         indexes++;
      }
      for (j = 0; j < all[i]->analytics_count; j++) {
         const odm_aggregation_t *a = all[i]->analytics[j];
         bson_t b, *want = odm_test_json (a->pipeline_json);
         ck_assert_msg (a->pipeline_bson && bson_init_static (&b, a->pipeline_bson, a->pipeline_bson_len), "%s %s",
                        all[i]->collection, a->c_name);
         ck_assert_msg (bson_equal (&b, want), "%s %s", all[i]->collection, a->c_name);
         bson_destroy (want);
         pipelines++;
      }
   }
   ck_assert_uint_gt (indexes, 29);
   ck_assert_uint_gt (pipelines, 0);
}
END_TEST

/* A NULL where the API wants a pointer is refused, never dereferenced: false, NULL, 0 or
 * absent comes back, with ODM_ERROR_INVALID_ARGUMENT when the function reports errors,
 * and the cleanup functions take NULL as nothing to do. One call per public function that
 * crashed (or aborted in libbson) on a NULL before, and the generated wrappers'. */
START_TEST (test_null_arguments)
{
   const odm_schema_t *s = &odm_chat_session_schema;
   const odm_aggregation_t *agg = s->analytics_count ? s->analytics[0] : NULL;
   odm_chat_session_t doc;
   odm_chat_session_view_t cv;
   odm_violations_t v;
   bson_error_t e;
   bson_t b = BSON_INITIALIZER, upd = BSON_INITIALIZER;
   void *rows = (void *) &b;
   size_t n = 7;
   int64_t ms = 5;
   bool found = true;

   ck_assert_ptr_nonnull (agg);
   memset (&e, 0, sizeof e);
   ck_assert (!odm_aggregation_pipeline (agg, NULL, NULL, &e));
   ck_assert_uint_eq (e.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert (!odm_aggregate (NULL, s, agg, NULL, NULL, NULL, &e));
   ck_assert_uint_eq (e.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert (!odm_aggregate (NULL, s, agg, NULL, &rows, &n, &e));
   ck_assert_ptr_null (rows);
   ck_assert_uint_eq (n, 0);
   ck_assert (!odm_row_to_bson (agg, &doc, NULL));
   ck_assert (!odm_parse_date ("2024-01-02", NULL));
   ck_assert (odm_parse_date ("2024-01-02", &ms) && ms == INT64_C (1704153600000));

   ck_assert_ptr_null (odm_client_db_name (NULL));
   ck_assert_ptr_null (odm_client_pool (NULL));
   ck_assert_ptr_null (odm_client_uri (NULL));
   e.code = 0;
   ck_assert (!odm_client_ping (NULL, &e));
   ck_assert_uint_eq (e.code, ODM_ERROR_INVALID_ARGUMENT);
   e.code = 0;
   ck_assert (!odm_find_by_id (NULL, s, NULL, &doc, &found, &e));
   ck_assert (!found);
   ck_assert_uint_eq (e.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert (!odm_cursor_after (NULL, NULL));

   e.code = 0;
   ck_assert (!odm_update_apply (s, &b, &upd, NULL, NULL, &v, &e));
   ck_assert_uint_eq (e.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert_uint_eq (v.count, 0);
   odm_violations_cleanup (&v);
   {
      /* options the size check refuses, with no ERROR to keep the reason in */
      odm_update_opts_t bad;
      bson_t out;
      memset (&bad, 0, sizeof bad);
      ck_assert (!odm_update_apply (s, &b, &upd, &bad, &out, NULL, NULL));
      bson_destroy (&out);
   }

   odm_violations_init (&v);
   ck_assert (!odm_check_keys (NULL, &v));
   ck_assert_uint_eq (v.count, 1);
   ck_assert_str_eq (v.items[0].rule, "argument");
   ck_assert (!odm_violations_append_bson (&v, NULL, "v"));
   ck_assert (!odm_violations_append_bson (&v, &b, NULL));
   ck_assert (odm_violations_append_bson (NULL, &b, "none")); /* no violations: an empty array */
   odm_violations_cleanup (&v);

   odm_init (NULL, &doc);
   odm_init (s, NULL);
   odm_init_at (NULL, NULL, 0);
   ck_assert_uint_eq (odm_field_state (NULL, &doc), ODM_ABSENT);
   ck_assert_uint_eq (odm_field_state (&s->root->fields[0], NULL), ODM_ABSENT);
   ck_assert_ptr_null (odm_field_value (NULL, &doc));
   ck_assert_ptr_null (odm_field_array (NULL, NULL, NULL));
   n = 7;
   ck_assert_ptr_null (odm_field_array (&s->root->fields[4], &doc, &n)); /* name: not an array */
   ck_assert_uint_eq (n, 0);
   ck_assert (!odm_copy (s, NULL, &doc));
   ck_assert (!odm_copy (s, &doc, NULL));

   /* generated wrappers: a NULL view, value or element */
   ck_assert (!odm_chat_session_view (NULL, &b, 0, &e));
   ck_assert_uint_eq (odm_chat_session_view_name (NULL, NULL, NULL), ODM_ABSENT);
   ck_assert_uint_eq (odm_chat_session_view_settings (NULL, NULL), ODM_ABSENT);
   ck_assert (odm_chat_session_view (&cv, &b, 0, &e));
   ck_assert_uint_eq (odm_chat_session_view_settings (&cv, NULL), ODM_ABSENT);
   odm_chat_session_init (&doc);
   odm_chat_session_set_userId (&doc, NULL);
   ck_assert_uint_eq (doc.has_userId, ODM_ABSENT);
   odm_chat_session_add_tags (&doc, NULL);
   ck_assert_uint_eq (doc.tags.count, 0);
   odm_chat_session_cleanup (&doc);
   bson_destroy (&b);
   bson_destroy (&upd);
}
END_TEST

Suite *
schema_suite (void)
{
   Suite *s = suite_create ("schema");
   TCase *tc = tcase_create ("schema");
   size_t n;
   odm_schemas (&n);
   tcase_add_test (tc, test_registry);
   tcase_add_test (tc, test_null_arguments);
   tcase_add_test (tc, test_seed_counts);
   tcase_add_test (tc, test_index_merge);
   tcase_add_test (tc, test_spec_json_embedded);
   tcase_add_test (tc, test_generated_bson_matches_json);
   tcase_add_loop_test (tc, test_defaults_match_specs, 0, (int) n);
   suite_add_tcase (s, tc);
   return s;
}
