/* The live layer a service needs (issue 13): options structs that can grow, libmongoc
 * options on every call, bulk writes with per-document outcomes, sessions, cursors that
 * survive one bad document.
 *
 * Suite "opts" runs without a server (what is refused before anything is sent); suite
 * "layer" runs against a wire server (ODM_TEST_URI, as tests/test-live.c; its "outage"
 * case needs ODM_TEST_RESTART). */
#include "test-util.h"

#include <stdlib.h>
#include <string.h>

#define NOW INT64_C (1750000000000)

/* A client on a port nothing listens on: every call that reaches the network fails with
 * a libmongoc error, so an ODM_ERROR_DOMAIN error proves the call stopped before. */
static odm_client_t *
offline_client (void)
{
   bson_error_t err;
   odm_client_t *c = odm_client_new ("mongodb://127.0.0.1:1/odm?serverSelectionTimeoutMS=200", &err);
   ck_assert_msg (c != NULL, "%s", err.message);
   return c;
}

static void
expect_opts_error (const bson_error_t *err, const char *what)
{
   ck_assert_msg (err->domain == ODM_ERROR_DOMAIN && err->code == ODM_ERROR_INVALID_ARGUMENT,
                  "%s: domain %u code %u: %s", what, err->domain, err->code, err->message);
   ck_assert_msg (strstr (err->message, "opts.size") != NULL, "%s: the error does not name opts.size: %s", what,
                  err->message);
}

/* An options struct left at zero (size 0) is refused by every call that takes one, before
 * anything is sent; the _INIT macros and NULL are accepted. */
START_TEST (test_opts_size_checked)
{
   odm_client_t *c = offline_client ();
   const odm_schema_t *s = &odm_chat_session_schema;
   odm_find_opts_t fo;
   odm_write_opts_t wo;
   odm_update_opts_t uo;
   odm_delete_opts_t dopts;
   odm_chat_session_t doc;
   odm_violations_t v;
   bson_error_t err;
   bson_t out, *upd = BCON_NEW ("$set", "{", "name", "x", "}");
   bson_t *stored = odm_test_load_json ("chat_sessions.full.json");
   int64_t n;
   bool found;

   memset (&fo, 0, sizeof fo);
   memset (&wo, 0, sizeof wo);
   memset (&uo, 0, sizeof uo);
   memset (&dopts, 0, sizeof dopts);
   ck_assert (odm_find (c, s, NULL, &fo, &err) == NULL);
   expect_opts_error (&err, "odm_find");
   ck_assert (!odm_find_one_with_opts (c, s, NULL, &fo, &doc, &found, &err));
   expect_opts_error (&err, "odm_find_one_with_opts");
   ck_assert (!odm_count_with_opts (c, s, NULL, &fo, &n, &err));
   expect_opts_error (&err, "odm_count_with_opts");
   ck_assert (!odm_delete_with_opts (c, s, NULL, &dopts, &n, &err));
   expect_opts_error (&err, "odm_delete_with_opts");
   ck_assert (!odm_update (c, s, NULL, upd, &uo, &n, &v, &err));
   expect_opts_error (&err, "odm_update");
   odm_violations_cleanup (&v);
   ck_assert (!odm_update_apply (s, stored, upd, &uo, &out, &v, &err));
   expect_opts_error (&err, "odm_update_apply");
   bson_destroy (&out);
   odm_violations_cleanup (&v);
   odm_chat_session_init (&doc);
   ck_assert (!odm_insert_one (c, s, &doc, &wo, &v, &err));
   expect_opts_error (&err, "odm_insert_one");
   odm_violations_cleanup (&v);
   ck_assert (!odm_save (c, s, &doc, &wo, &v, &err));
   expect_opts_error (&err, "odm_save");
   odm_violations_cleanup (&v);
   odm_chat_session_cleanup (&doc);

   /* Initialised: the in-memory update runs. */
   uo = (odm_update_opts_t) ODM_UPDATE_OPTS_INIT;
   uo.now_ms = NOW;
   ck_assert_msg (odm_update_apply (s, stored, upd, &uo, &out, &v, &err), "%s", err.message);
   bson_destroy (&out);
   odm_violations_cleanup (&v);
   ck_assert_msg (odm_update_apply (s, stored, upd, NULL, &out, &v, &err), "%s", err.message);
   bson_destroy (&out);
   odm_violations_cleanup (&v);
   bson_destroy (upd);
   bson_destroy (stored);
   odm_client_destroy (c);
}
END_TEST

/* A caller built against a newer header passes a bigger struct: accepted when the members
 * this library does not know are zero, refused when one is set; a size below the first
 * layout is refused. */
START_TEST (test_opts_newer_and_older_layouts)
{
   struct {
      odm_update_opts_t known;
      uint64_t newer_member;
   } big;
   const odm_schema_t *s = &odm_chat_session_schema;
   bson_t out, *upd = BCON_NEW ("$set", "{", "name", "x", "}");
   bson_t *stored = odm_test_load_json ("chat_sessions.full.json");
   odm_violations_t v;
   bson_error_t err;

   memset (&big, 0, sizeof big);
   big.known.size = sizeof big;
   big.known.now_ms = NOW;
   ck_assert_msg (odm_update_apply (s, stored, upd, &big.known, &out, &v, &err), "%s", err.message);
   bson_destroy (&out);
   odm_violations_cleanup (&v);

   big.newer_member = 1;
   ck_assert (!odm_update_apply (s, stored, upd, &big.known, &out, &v, &err));
   expect_opts_error (&err, "newer layout with a member set");
   bson_destroy (&out);
   odm_violations_cleanup (&v);

   big.newer_member = 0;
   big.known.size = sizeof (size_t) + 1;
   ck_assert (!odm_update_apply (s, stored, upd, &big.known, &out, &v, &err));
   expect_opts_error (&err, "layout smaller than the first");
   bson_destroy (&out);
   odm_violations_cleanup (&v);
   bson_destroy (upd);
   bson_destroy (stored);
}
END_TEST

/* ------------------------------------------------------------------ checked queries */


/* A value of F's type (FITS) or of another (!FITS) appended as KEY. */
static void
append_typed (bson_t *b, const char *key, const odm_field_t *f, bool fits)
{
   bson_oid_t oid;
   bson_oid_init_from_string (&oid, "64b000000000000000000001");
   switch (f->kind) {
   case ODM_KIND_STRING:
      if (fits) {
         BSON_APPEND_UTF8 (b, key, (f->flags & ODM_F_ENUM) ? f->enum_values[0] : "x");
      } else {
         BSON_APPEND_INT32 (b, key, 5);
      }
      break;
   case ODM_KIND_NUMBER:
      if (fits) {
         BSON_APPEND_INT32 (b, key, 5);
      } else {
         BSON_APPEND_UTF8 (b, key, "five");
      }
      break;
   case ODM_KIND_BOOL:
      if (fits) {
         BSON_APPEND_BOOL (b, key, true);
      } else {
         BSON_APPEND_UTF8 (b, key, "true");
      }
      break;
   case ODM_KIND_DATE:
      if (fits) {
         BSON_APPEND_DATE_TIME (b, key, NOW);
      } else {
         BSON_APPEND_UTF8 (b, key, "2025-06-15");
      }
      break;
   case ODM_KIND_OID:
      if (fits) {
         BSON_APPEND_OID (b, key, &oid);
      } else {
         BSON_APPEND_UTF8 (b, key, "64b000000000000000000001");
      }
      break;
   case ODM_KIND_OBJECT:
      if (fits) {
         bson_t sub;
         BSON_APPEND_DOCUMENT_BEGIN (b, key, &sub);
         bson_append_document_end (b, &sub);
      } else {
         BSON_APPEND_UTF8 (b, key, "x");
      }
      break;
   default: BSON_APPEND_UTF8 (b, key, "anything"); break;
   }
}

/* Each index key is a path a real query uses: over every collection, each index's keys
 * pass as a filter (equality of the field's type, $exists, $in) and as a sort; a value of
 * another type, a misspelt path (in a filter and in a sort) fail before anything is sent. */
START_TEST (test_index_paths_checked)
{
   size_t n, i;
   const odm_schema_t *const *all = odm_schemas (&n);
   int checked = 0, typed = 0;
   for (i = 0; i < n; i++) {
      const odm_schema_t *s = all[i];
      uint32_t x;
      for (x = 0; x < s->index_count; x++) {
         bson_t *keys = odm_test_json (s->indexes[x].keys_json);
         bson_iter_t k;
         odm_violations_t v;
         ck_assert_msg (odm_sort_check (s, keys, &v), "%s: sort %s refused", s->collection, s->indexes[x].keys_json);
         odm_violations_cleanup (&v);
         bson_iter_init (&k, keys);
         while (bson_iter_next (&k)) {
            const char *path = bson_iter_key (&k);
            const odm_field_t *f = odm_schema_path (s, path);
            bson_t good = BSON_INITIALIZER, bad = BSON_INITIALIZER, exists = BSON_INITIALIZER, in, arr, sub;
            char typo[256];
            bson_t *typo_filter, *typo_sort;
            checked++;
            BSON_APPEND_DOCUMENT_BEGIN (&exists, path, &sub);
            BSON_APPEND_BOOL (&sub, "$exists", true);
            bson_append_document_end (&exists, &sub);
            ck_assert_msg (odm_filter_check (s, &exists, &v), "%s: %s $exists refused", s->collection, path);
            odm_violations_cleanup (&v);
            bson_snprintf (typo, sizeof typo, "%sx", path);
            typo_filter = BCON_NEW (typo, BCON_INT32 (1));
            typo_sort = BCON_NEW (typo, BCON_INT32 (1));
            if (f) {
               ck_assert_msg (!odm_filter_check (s, typo_filter, &v), "%s: misspelt %s accepted", s->collection, typo);
               ck_assert (odm_test_has_violation (&v, typo, "unknown", NULL));
               odm_violations_cleanup (&v);
               ck_assert_msg (!odm_sort_check (s, typo_sort, &v), "%s: sort on %s accepted", s->collection, typo);
               odm_violations_cleanup (&v);
            }
            if (f && f->kind != ODM_KIND_MIXED) {
               typed++;
               append_typed (&good, path, f, true);
               ck_assert_msg (odm_filter_check (s, &good, &v), "%s: %s of its own type refused", s->collection, path);
               odm_violations_cleanup (&v);
               BSON_APPEND_DOCUMENT_BEGIN (&good, "$or", &in);
               BSON_APPEND_DOCUMENT_BEGIN (&in, "0", &sub);
               BSON_APPEND_DOCUMENT_BEGIN (&sub, path, &arr);
               bson_append_document_end (&sub, &arr);
               bson_append_document_end (&in, &sub);
               bson_append_document_end (&good, &in);
               append_typed (&bad, path, f, false);
               ck_assert_msg (!odm_filter_check (s, &bad, &v), "%s: %s of another type accepted", s->collection, path);
               ck_assert_msg (odm_test_has_violation (&v, path, "type", NULL), "%s: no type violation at %s",
                              s->collection, path);
               odm_violations_cleanup (&v);
            }
            bson_destroy (typo_filter);
            bson_destroy (typo_sort);
            bson_destroy (&good);
            bson_destroy (&bad);
            bson_destroy (&exists);
         }
         bson_destroy (keys);
      }
   }
   ck_assert_int_gt (checked, 100);
   ck_assert_int_gt (typed, 100);
}
END_TEST

static void
expect_filter (const char *filter, bool accepted, const char *path, const char *rule)
{
   bson_t *f = odm_test_json (filter);
   odm_violations_t v;
   bool ok = odm_filter_check (&odm_chat_session_schema, f, &v);
   if (ok != accepted) {
      odm_test_print_violations (filter, &v);
   }
   ck_assert_msg (ok == accepted, "%s: %s", filter, accepted ? "refused" : "accepted");
   if (!accepted) {
      ck_assert_msg (odm_test_has_violation (&v, path, rule, NULL), "%s: no %s violation at %s", filter, rule, path);
   }
   odm_violations_cleanup (&v);
   bson_destroy (f);
}

/* Each operator's value against the field's type. */
START_TEST (test_filter_value_types)
{
   expect_filter ("{\"tags\": \"a\"}", true, NULL, NULL);
   expect_filter ("{\"tags\": [\"a\", \"b\"]}", true, NULL, NULL);
   expect_filter ("{\"tags\": null}", true, NULL, NULL);
   expect_filter ("{\"tags\": 5}", false, "tags", "type");
   expect_filter ("{\"tags\": {\"$in\": [\"a\", 5]}}", false, "tags.$in.1", "type");
   expect_filter ("{\"tags\": {\"$in\": \"a\"}}", false, "tags.$in", "type");
   expect_filter ("{\"tags\": {\"$size\": 2}}", true, NULL, NULL);
   expect_filter ("{\"tags\": {\"$size\": \"2\"}}", false, "tags.$size", "type");
   expect_filter ("{\"tags\": {\"$size\": -1}}", false, "tags.$size", "type");
   expect_filter ("{\"name\": {\"$size\": 2}}", false, "name.$size", "type");
   expect_filter ("{\"tags\": {\"$all\": [\"a\", \"b\"]}}", true, NULL, NULL);
   expect_filter ("{\"name\": {\"$all\": [\"a\"]}}", false, "name.$all", "type");
   expect_filter ("{\"tags\": {\"$elemMatch\": {\"$gte\": \"a\", \"$lt\": \"b\"}}}", true, NULL, NULL);
   expect_filter ("{\"tags\": {\"$elemMatch\": {\"$eq\": 5}}}", false, "tags.$elemMatch.$eq", "type");
   expect_filter ("{\"name\": {\"$elemMatch\": {\"$eq\": \"a\"}}}", false, "name.$elemMatch", "type");
   expect_filter ("{\"name\": {\"$regex\": \"^a\", \"$options\": \"i\"}}", true, NULL, NULL);
   {
      /* built with BCON: libbson's JSON reader turns {"$regex": "..."} into a regex value */
      bson_t *f = BCON_NEW ("settings.temperature", "{", "$regex", BCON_UTF8 ("1"), "}");
      bson_t *g = BCON_NEW ("name", "{", "$regex", BCON_UTF8 ("^a"), "$options", BCON_UTF8 ("i"), "}");
      bson_t *h = BCON_NEW ("tags", "{", "$elemMatch", "{", "$regex", BCON_UTF8 ("^a"), "}", "}");
      odm_violations_t v;
      ck_assert (!odm_filter_check (&odm_chat_session_schema, f, &v));
      ck_assert (odm_test_has_violation (&v, "settings.temperature.$regex", "type", NULL));
      odm_violations_cleanup (&v);
      ck_assert (odm_filter_check (&odm_chat_session_schema, g, &v));
      odm_violations_cleanup (&v);
      ck_assert (odm_filter_check (&odm_chat_session_schema, h, &v));
      odm_violations_cleanup (&v);
      bson_destroy (f);
      bson_destroy (g);
      bson_destroy (h);
   }
   expect_filter ("{\"name\": {\"$exists\": true}}", true, NULL, NULL);
   expect_filter ("{\"name\": {\"$exists\": 1}}", false, "name.$exists", "type");
   expect_filter ("{\"settings.temperature\": {\"$gte\": 0.5, \"$lt\": 2}}", true, NULL, NULL);
   expect_filter ("{\"settings.temperature\": {\"$gt\": \"five\"}}", false, "settings.temperature.$gt", "type");
   expect_filter ("{\"stats.lastMessageAt\": {\"$gt\": {\"$date\": \"2025-01-01T00:00:00Z\"}}}", true, NULL, NULL);
   expect_filter ("{\"stats.lastMessageAt\": {\"$gt\": \"2025-01-01\"}}", false, "stats.lastMessageAt.$gt", "type");
   expect_filter ("{\"settings\": {\"$gt\": {}}}", false, "settings.$gt", "type");
   expect_filter ("{\"userId\": {\"$oid\": \"64b000000000000000000001\"}}", true, NULL, NULL);
   expect_filter ("{\"userId\": \"64b000000000000000000001\"}", false, "userId", "type");
   expect_filter ("{\"_id\": \"not an oid\"}", false, "_id", "type");
   expect_filter ("{\"settings.mode\": \"creative\"}", true, NULL, NULL);
   expect_filter ("{\"settings.mode\": \"creatve\"}", false, "settings.mode", "enum");
   expect_filter ("{\"settings.mode\": {\"$nin\": [\"fast\", \"slow\"]}}", false, "settings.mode.$nin.1", "enum");
   expect_filter ("{\"settings.temperature\": {\"$not\": {\"$gt\": \"x\"}}}", false, "settings.temperature.$not.$gt",
                  "type");
   expect_filter ("{\"stats.messageCount\": {\"$mod\": [2, 0]}}", true, NULL, NULL);
   expect_filter ("{\"name\": {\"$mod\": [2, 0]}}", false, "name.$mod", "type");
   expect_filter ("{\"$or\": [{\"name\": \"a\"}, {\"stats.messageCount\": \"many\"}]}", false,
                  "$or.1.stats.messageCount", "type");
}
END_TEST

/* Sorts and projections are checked the same way; the generated path constants name the
 * paths (a typo in one is a compile error); a checked odm_find refuses a bad filter, sort
 * or projection before the network (the client points at a closed port). */
START_TEST (test_sort_projection_checked_before_sending)
{
   const odm_schema_t *s = &odm_chat_session_schema;
   odm_client_t *c = offline_client ();
   bson_t *sort = BCON_NEW (ODM_CHAT_SESSION_PATH_STATS_LAST_MESSAGE_AT, BCON_INT32 (-1),
                            ODM_CHAT_SESSION_PATH_UPDATED_AT, BCON_INT32 (1));
   bson_t *bad_sort = BCON_NEW ("updatedAt", BCON_UTF8 ("desc"));
   bson_t *proj = BCON_NEW ("projection", "{", ODM_CHAT_SESSION_PATH_NAME, BCON_INT32 (1),
                            ODM_CHAT_SESSION_PATH_SETTINGS_MODE, BCON_BOOL (true), "_id", BCON_INT32 (0), "}");
   bson_t *mixed_proj = BCON_NEW ("projection", "{", "name", BCON_INT32 (1), "tags", BCON_INT32 (0), "}");
   bson_t *typo_proj = BCON_NEW ("projection", "{", "nmae", BCON_INT32 (1), "}");
   bson_t *filter = BCON_NEW (ODM_CHAT_SESSION_PATH_SETTINGS_MODE, "coding");
   bson_t *typo = BCON_NEW ("stauts", "open");
   bson_t *wrong = BCON_NEW ("stats.messageCount", "five");
   odm_find_opts_t fo = ODM_FIND_OPTS_INIT;
   odm_violations_t v;
   bson_error_t err;
   bson_iter_t it;
   bson_t p;
   const uint8_t *data;
   uint32_t len;

   ck_assert (odm_sort_check (s, sort, &v));
   odm_violations_cleanup (&v);
   ck_assert (!odm_sort_check (s, bad_sort, &v));
   ck_assert (odm_test_has_violation (&v, "updatedAt", "type", NULL));
   odm_violations_cleanup (&v);
   bson_iter_init_find (&it, proj, "projection");
   bson_iter_document (&it, &len, &data);
   bson_init_static (&p, data, len);
   ck_assert (odm_projection_check (s, &p, &v));
   odm_violations_cleanup (&v);
   bson_iter_init_find (&it, mixed_proj, "projection");
   bson_iter_document (&it, &len, &data);
   bson_init_static (&p, data, len);
   ck_assert (!odm_projection_check (s, &p, &v));
   ck_assert (odm_test_has_violation (&v, "tags", "projection", NULL));
   odm_violations_cleanup (&v);

   fo.checked_filter = true;
   ck_assert (odm_find (c, s, typo, &fo, &err) == NULL);
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_VALIDATION && strstr (err.message, "stauts"),
                  "%s", err.message);
   ck_assert (odm_find (c, s, wrong, &fo, &err) == NULL);
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && strstr (err.message, "stats.messageCount"), "%s", err.message);
   fo.sort = bad_sort;
   ck_assert (odm_find (c, s, filter, &fo, &err) == NULL);
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && strstr (err.message, "updatedAt"), "%s", err.message);
   fo.sort = sort;
   fo.mongoc_opts = typo_proj;
   ck_assert (odm_find (c, s, filter, &fo, &err) == NULL);
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && strstr (err.message, "nmae"), "%s", err.message);
   {
      int64_t n;
      fo.mongoc_opts = NULL;
      ck_assert (!odm_count_with_opts (c, s, typo, &fo, &n, &err));
      ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && strstr (err.message, "stauts"), "%s", err.message);
   }

   bson_destroy (sort);
   bson_destroy (bad_sort);
   bson_destroy (proj);
   bson_destroy (mixed_proj);
   bson_destroy (typo_proj);
   bson_destroy (filter);
   bson_destroy (typo);
   bson_destroy (wrong);
   odm_client_destroy (c);
}
END_TEST

Suite *
opts_suite (void)
{
   Suite *s = suite_create ("opts");
   TCase *tc = tcase_create ("opts");
   tcase_add_test (tc, test_opts_size_checked);
   tcase_add_test (tc, test_opts_newer_and_older_layouts);
   tcase_add_test (tc, test_index_paths_checked);
   tcase_add_test (tc, test_filter_value_types);
   tcase_add_test (tc, test_sort_projection_checked_before_sending);
   suite_add_tcase (s, tc);
   return s;
}

/* ================================================================== live */

static odm_client_t *
connect_or_fail (void)
{
   const char *uri = getenv ("ODM_TEST_URI");
   bson_error_t err;
   odm_client_t *c;
   ck_assert_msg (uri && *uri, "ODM_TEST_URI is not set: live tests need a server (scripts/live-tests.sh starts them)");
   c = odm_client_new (uri, &err);
   ck_assert_msg (c != NULL, "%s: %s", uri, err.message);
   return c;
}

static void
drop (odm_client_t *c, const odm_schema_t *s)
{
   mongoc_client_t *mc = mongoc_client_pool_pop (odm_client_pool (c));
   mongoc_collection_t *coll = mongoc_client_get_collection (mc, odm_client_db_name (c), s->collection);
   bson_error_t err;
   mongoc_collection_drop (coll, &err); /* absent is fine */
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (odm_client_pool (c), mc);
}

/* The raw collection, for checking what the server holds (release with raw_release). */
static mongoc_collection_t *
raw_collection (odm_client_t *c, const odm_schema_t *s, mongoc_client_t **mc)
{
   *mc = mongoc_client_pool_pop (odm_client_pool (c));
   return mongoc_client_get_collection (*mc, odm_client_db_name (c), s->collection);
}

static void
raw_release (odm_client_t *c, mongoc_collection_t *coll, mongoc_client_t *mc)
{
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (odm_client_pool (c), mc);
}

static int64_t
raw_count (odm_client_t *c, const odm_schema_t *s, const bson_t *filter)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll = raw_collection (c, s, &mc);
   bson_t empty = BSON_INITIALIZER;
   bson_error_t err;
   int64_t n = mongoc_collection_count_documents (coll, filter ? filter : &empty, NULL, NULL, NULL, &err);
   ck_assert_msg (n >= 0, "count: %s", err.message);
   raw_release (c, coll, mc);
   return n;
}

/* A valid quick action (a small collection with one unique key, actionId). */
static void
quick_action (odm_chat_quick_action_t *qa, const char *prefix, int i)
{
   char id[64];
   odm_chat_quick_action_init (qa);
   bson_snprintf (id, sizeof id, "%s-%d", prefix, i);
   qa->actionId = bson_strdup (id);
   qa->label = bson_strdup ("label");
   qa->prompt = bson_strdup ("prompt");
   qa->category = bson_strdup ("general");
}

/* mongoc_opts reaches libmongoc on every call: an option libmongoc refuses makes each
 * call fail with libmongoc's error (so it was passed), and a valid one takes effect. */
START_TEST (test_mongoc_opts_reach_every_call)
{
   odm_client_t *c = connect_or_fail ();
   const odm_schema_t *s = &odm_chat_quick_action_schema;
   bson_t *bad = BCON_NEW ("writeConcern", "{", "w", BCON_UTF8 ("no-such-tag-mode"), "j", BCON_UTF8 ("x"), "}");
   bson_t *w1 = BCON_NEW ("writeConcern", "{", "w", BCON_INT32 (1), "}");
   bson_t *upd = BCON_NEW ("$set", "{", "label", "changed", "}");
   odm_write_opts_t wo = ODM_WRITE_OPTS_INIT;
   odm_update_opts_t uo = ODM_UPDATE_OPTS_INIT;
   odm_delete_opts_t dopts = ODM_DELETE_OPTS_INIT;
   odm_find_opts_t fo = ODM_FIND_OPTS_INIT;
   odm_chat_quick_action_t qa[10], row;
   odm_violations_t v;
   bson_error_t err;
   odm_cursor_t *cur;
   int64_t n;
   int i;

   drop (c, s);
   /* refused by libmongoc: the option went through */
   quick_action (&qa[0], "opts", 0);
   wo.mongoc_opts = bad;
   ck_assert (!odm_insert_one (c, s, &qa[0], &wo, &v, &err));
   ck_assert_msg (err.domain != ODM_ERROR_DOMAIN, "insert: %s", err.message);
   odm_violations_cleanup (&v);
   ck_assert_int_eq (raw_count (c, s, NULL), 0);
   odm_chat_quick_action_cleanup (&qa[0]);

   wo.mongoc_opts = w1;
   for (i = 0; i < 10; i++) {
      quick_action (&qa[i], "opts", i);
      ck_assert_msg (odm_insert_one (c, s, &qa[i], &wo, &v, &err), "%s", err.message);
      odm_violations_cleanup (&v);
   }
   uo.mongoc_opts = bad;
   ck_assert (!odm_update (c, s, NULL, upd, &uo, &n, &v, &err));
   ck_assert_msg (err.domain != ODM_ERROR_DOMAIN, "update: %s", err.message);
   odm_violations_cleanup (&v);
   uo.mongoc_opts = w1;
   ck_assert_msg (odm_update (c, s, NULL, upd, &uo, &n, &v, &err), "%s", err.message);
   ck_assert_int_eq (n, 1);
   odm_violations_cleanup (&v);
   wo.mongoc_opts = bad;
   ck_assert (!odm_save (c, s, &qa[3], &wo, &v, &err));
   ck_assert_msg (err.domain != ODM_ERROR_DOMAIN, "save: %s", err.message);
   odm_violations_cleanup (&v);
   dopts.mongoc_opts = bad;
   ck_assert (!odm_delete_with_opts (c, s, NULL, &dopts, &n, &err));
   ck_assert_msg (err.domain != ODM_ERROR_DOMAIN, "delete: %s", err.message);
   ck_assert_int_eq (raw_count (c, s, NULL), 10);

   /* reads: a skip given as a libmongoc option, and a count with a limit */
   bson_t *skip = BCON_NEW ("skip", BCON_INT64 (7));
   fo.mongoc_opts = skip;
   cur = odm_find (c, s, NULL, &fo, &err);
   ck_assert (cur);
   n = 0;
   while (odm_cursor_next (cur, &row)) {
      n++;
      odm_chat_quick_action_cleanup (&row);
   }
   ck_assert_msg (!odm_cursor_error (cur, &err), "%s", err.message);
   odm_cursor_destroy (cur);
   ck_assert_int_eq (n, 3);
   fo = (odm_find_opts_t) ODM_FIND_OPTS_INIT;
   fo.limit = 4;
   ck_assert_msg (odm_count_with_opts (c, s, NULL, &fo, &n, &err), "%s", err.message);
   ck_assert_int_eq (n, 4);
   fo.skip = 8;
   fo.limit = 0;
   ck_assert_msg (odm_count_with_opts (c, s, NULL, &fo, &n, &err), "%s", err.message);
   ck_assert_int_eq (n, 2);

   dopts.mongoc_opts = w1;
   dopts.multi = true;
   ck_assert_msg (odm_delete_with_opts (c, s, NULL, &dopts, &n, &err), "%s", err.message);
   ck_assert_int_eq (n, 10);
   for (i = 0; i < 10; i++) {
      odm_chat_quick_action_cleanup (&qa[i]);
   }
   bson_destroy (skip);
   bson_destroy (bad);
   bson_destroy (w1);
   bson_destroy (upd);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ bulk writes */

/* Whether the server holds a document with ID. */
static bool
stored_id (odm_client_t *c, const odm_schema_t *s, const bson_value_t *id)
{
   bson_t f = BSON_INITIALIZER;
   int64_t n;
   bson_append_value (&f, "_id", 3, id);
   n = raw_count (c, s, &f);
   bson_destroy (&f);
   return n == 1;
}

/* N quick actions at QA; the one at BAD (if < N) breaks a rule (no label). */
static void
quick_actions (odm_chat_quick_action_t *qa, size_t n, const char *prefix, size_t bad)
{
   size_t i;
   for (i = 0; i < n; i++) {
      quick_action (&qa[i], prefix, (int) i);
      if (i == bad) {
         bson_free (qa[i].label);
         qa[i].label = NULL;
      }
   }
}

static void
quick_actions_free (odm_chat_quick_action_t *qa, size_t n)
{
   size_t i;
   for (i = 0; i < n; i++) {
      odm_chat_quick_action_cleanup (&qa[i]);
   }
}

/* Ordered: one invalid document means nothing is sent; unordered: the valid ones are
 * stored. Every outcome says which, with the _id, checked against the server. */
START_TEST (test_insert_many_validation_outcomes)
{
   odm_client_t *c = connect_or_fail ();
   const odm_schema_t *s = &odm_chat_quick_action_schema;
   odm_chat_quick_action_t qa[6];
   odm_write_opts_t wo = ODM_WRITE_OPTS_INIT;
   odm_bulk_result_t r;
   odm_violations_t v;
   bson_error_t err;
   size_t i;

   drop (c, s);
   quick_actions (qa, 6, "val", 3);
   wo.result = &r;
   wo.now_ms = NOW;
   ck_assert (!odm_insert_many (c, s, qa, 6, &wo, &v, &err));
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_VALIDATION, "%s", err.message);
   ck_assert_msg (odm_test_has_violation (&v, "3.label", "required", NULL), "%s", err.message);
   ck_assert_int_eq (r.count, 6);
   ck_assert_int_eq (r.invalid, 1);
   ck_assert_int_eq (r.not_sent, 5);
   ck_assert_int_eq (r.items[3].status, ODM_OUTCOME_INVALID);
   ck_assert (odm_test_has_violation (&r.items[3].violations, "label", "required", NULL));
   for (i = 0; i < 6; i++) {
      ck_assert_int_eq (r.items[i].kind, ODM_OP_INSERT);
      ck_assert_int_eq (r.items[i].id.value_type, BSON_TYPE_OID);
   }
   ck_assert_int_eq (raw_count (c, s, NULL), 0);
   odm_bulk_result_cleanup (&r);
   odm_violations_cleanup (&v);
   quick_actions_free (qa, 6);

   quick_actions (qa, 6, "val", 3);
   wo.unordered = true;
   ck_assert (!odm_insert_many (c, s, qa, 6, &wo, &v, &err));
   ck_assert_int_eq (r.done, 5);
   ck_assert_int_eq (r.invalid, 1);
   for (i = 0; i < 6; i++) {
      ck_assert_int_eq (r.items[i].status, i == 3 ? ODM_OUTCOME_INVALID : ODM_OUTCOME_DONE);
      ck_assert_msg (stored_id (c, s, &r.items[i].id) == (i != 3), "document %zu", i);
   }
   ck_assert_int_eq (raw_count (c, s, NULL), 5);
   odm_bulk_result_cleanup (&r);
   odm_violations_cleanup (&v);
   quick_actions_free (qa, 6);
   odm_client_destroy (c);
}
END_TEST

/* A duplicate key in the middle of a batch: ordered stops there (the ones before are
 * stored, the ones after not sent), unordered stores every other one. The refused one
 * carries a "unique" violation on the index's key. */
START_TEST (test_insert_many_server_errors)
{
   odm_client_t *c = connect_or_fail ();
   const odm_schema_t *s = &odm_chat_quick_action_schema;
   odm_chat_quick_action_t qa[5];
   odm_write_opts_t wo = ODM_WRITE_OPTS_INIT;
   odm_bulk_result_t r;
   odm_violations_t v;
   bson_error_t err;
   size_t i;
   int round;

   for (round = 0; round < 2; round++) {
      bool unordered = round == 1;
      drop (c, s);
      ck_assert_msg (odm_indexes_ensure (c, s, NULL, &err), "%s", err.message);
      quick_actions (qa, 5, unordered ? "dupu" : "dupo", 5);
      bson_free (qa[2].actionId);
      qa[2].actionId = bson_strdup (qa[0].actionId);
      wo.result = &r;
      wo.unordered = unordered;
      wo.batch_size = 2; /* the duplicate is in the second request */
      ck_assert (!odm_insert_many (c, s, qa, 5, &wo, &v, &err));
      ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_DUPLICATE_KEY, "%u.%u %s", err.domain,
                     err.code, err.message);
      ck_assert_int_eq (r.items[2].status, ODM_OUTCOME_FAILED);
      ck_assert (odm_test_has_violation (&r.items[2].violations, "actionId", "unique", NULL));
      ck_assert (odm_test_has_violation (&v, "2.actionId", "unique", NULL));
      for (i = 0; i < 5; i++) {
         odm_outcome_status_t want = i < 2 ? ODM_OUTCOME_DONE
                                     : i == 2 ? ODM_OUTCOME_FAILED
                                     : unordered ? ODM_OUTCOME_DONE
                                                 : ODM_OUTCOME_NOT_SENT;
         ck_assert_msg (r.items[i].status == want, "%s: document %zu: status %d, want %d",
                        unordered ? "unordered" : "ordered", i, (int) r.items[i].status, (int) want);
         ck_assert_msg (stored_id (c, s, &r.items[i].id) == (want == ODM_OUTCOME_DONE), "document %zu", i);
      }
      odm_bulk_result_cleanup (&r);
      odm_violations_cleanup (&v);
      quick_actions_free (qa, 5);
   }
   odm_client_destroy (c);
}
END_TEST

/* odm_bulk: inserts, checked updates and deletes in order, each with its outcome; an
 * invalid update stops an ordered bulk before anything is sent. */
START_TEST (test_bulk_mixed)
{
   odm_client_t *c = connect_or_fail ();
   const odm_schema_t *s = &odm_chat_quick_action_schema;
   odm_chat_quick_action_t qa[3];
   odm_write_opts_t wo = ODM_WRITE_OPTS_INIT;
   odm_bulk_t *b;
   odm_bulk_result_t r;
   bson_error_t err;
   bson_t *f0 = BCON_NEW ("actionId", "mix-0"), *f1 = BCON_NEW ("actionId", "mix-1");
   bson_t *good = BCON_NEW ("$set", "{", "label", "renamed", "}");
   bson_t *typo = BCON_NEW ("$set", "{", "lable", "renamed", "}");
   bson_t *wrong = BCON_NEW ("$set", "{", "label", BCON_INT32 (5), "}");
   int round;

   for (round = 0; round < 2; round++) {
      bool unordered = round == 1;
      drop (c, s);
      quick_actions (qa, 3, "mix", 3);
      wo.unordered = unordered;
      b = odm_bulk_new (c, s, &wo, &err);
      ck_assert_msg (b, "%s", err.message);
      ck_assert (odm_bulk_insert (b, &qa[0], &err));
      ck_assert (odm_bulk_insert (b, &qa[1], &err));
      ck_assert (odm_bulk_update (b, f0, good, NULL, &err));
      ck_assert (!odm_bulk_update (b, f1, typo, NULL, &err));
      ck_assert_msg (strstr (err.message, "lable"), "%s", err.message);
      ck_assert (!odm_bulk_update (b, f1, wrong, NULL, &err));
      ck_assert (odm_bulk_delete (b, f1, false, &err));
      ck_assert (odm_bulk_insert (b, &qa[2], &err));
      ck_assert (!odm_bulk_execute (b, &r, &err));
      ck_assert_int_eq (r.count, 7);
      ck_assert_int_eq (r.items[3].status, ODM_OUTCOME_INVALID);
      ck_assert_int_eq (r.items[4].status, ODM_OUTCOME_INVALID);
      ck_assert (odm_test_has_violation (&r.items[3].violations, "lable", "unknown", NULL));
      if (!unordered) {
         ck_assert_int_eq (r.not_sent, 5);
         ck_assert_int_eq (raw_count (c, s, NULL), 0);
      } else {
         bson_t *renamed = BCON_NEW ("actionId", "mix-0", "label", "renamed");
         ck_assert_int_eq (r.done, 5);
         ck_assert_int_eq (r.items[0].status, ODM_OUTCOME_DONE);
         ck_assert_int_eq (r.items[2].kind, ODM_OP_UPDATE);
         ck_assert_int_eq (r.items[2].matched, 1);
         ck_assert_int_eq (r.items[2].modified, 1);
         ck_assert_int_eq (r.items[5].kind, ODM_OP_DELETE);
         ck_assert_int_eq (r.items[5].deleted, 1);
         ck_assert_int_eq (raw_count (c, s, NULL), 2);
         ck_assert_int_eq (raw_count (c, s, renamed), 1);
         ck_assert (stored_id (c, s, &r.items[6].id));
         bson_destroy (renamed);
      }
      /* a bulk runs once */
      ck_assert (!odm_bulk_execute (b, NULL, &err));
      odm_bulk_result_cleanup (&r);
      odm_bulk_destroy (b);
      quick_actions_free (qa, 3);
   }

   /* all valid, ordered: every operation DONE */
   drop (c, s);
   quick_actions (qa, 3, "mix", 3);
   wo.unordered = false;
   b = odm_bulk_new (c, s, &wo, &err);
   ck_assert (odm_bulk_insert (b, &qa[0], &err));
   ck_assert (odm_bulk_insert (b, &qa[1], &err));
   ck_assert (odm_bulk_update (b, f0, good, NULL, &err));
   ck_assert (odm_bulk_delete (b, f1, false, &err));
   ck_assert_msg (odm_bulk_execute (b, &r, &err), "%s", err.message);
   ck_assert_int_eq (r.done, 4);
   ck_assert_int_eq (raw_count (c, s, NULL), 1);
   odm_bulk_result_cleanup (&r);
   odm_bulk_destroy (b);
   quick_actions_free (qa, 3);

   bson_destroy (f0);
   bson_destroy (f1);
   bson_destroy (good);
   bson_destroy (typo);
   bson_destroy (wrong);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ outage */

typedef struct {
   const char *ctl;
   int inserts_started;
   int stop_at; /* the insert command (1-based) before which the server is stopped */
   bool stopped;
} outage_t;

static void
stop_before_insert (const mongoc_apm_command_started_t *event)
{
   outage_t *o = mongoc_apm_command_started_get_context (event);
   if (strcmp (mongoc_apm_command_started_get_command_name (event), "insert") != 0) {
      return;
   }
   if (++o->inserts_started == o->stop_at) {
      char cmd[2048];
      snprintf (cmd, sizeof cmd, "%s stop", o->ctl);
      ck_assert_int_eq (system (cmd), 0);
      o->stopped = true;
   }
}

/* 10,000 documents in requests of 500; the server is stopped just as the 9th request is
 * sent (from libmongoc's command-started event, in the inserting thread: no race). The
 * first 8 requests' documents are DONE, the 9th request's UNKNOWN (sent, no reply; asking
 * the server then fails too), the rest NOT_SENT. Once the server is back, odm_bulk_verify
 * asks it: nothing is UNKNOWN any more, and every outcome agrees with what the server
 * holds (FerretDB keeps its data over the restart; mongo-java-server is in memory and
 * comes back empty, which is checked instead). */
START_TEST (test_insert_many_cut_by_outage)
{
   const char *ctl = getenv ("ODM_TEST_RESTART");
   const char *srv = getenv ("ODM_TEST_SERVER");
   bool persistent = srv && strcmp (srv, "mongo-java-server") != 0;
   const odm_schema_t *s = &odm_chat_quick_action_schema;
   const size_t n = 10000, batch = 500;
   odm_chat_quick_action_t *qa = bson_malloc0 (n * sizeof *qa);
   odm_write_opts_t wo = ODM_WRITE_OPTS_INIT;
   mongoc_apm_callbacks_t *cbs = mongoc_apm_callbacks_new ();
   outage_t o = {ctl, 0, 9, false};
   odm_client_t *c;
   odm_bulk_result_t r;
   odm_violations_t v;
   bson_error_t err;
   char cmd[2048];
   size_t i;
   int tries;
   bool back = false;

   ck_assert_msg (ctl && *ctl, "ODM_TEST_RESTART is not set (scripts/live-tests.sh sets it)");
   c = connect_or_fail ();
   mongoc_apm_set_command_started_cb (cbs, stop_before_insert);
   ck_assert (mongoc_client_pool_set_apm_callbacks (odm_client_pool (c), cbs, &o));
   drop (c, s);
   quick_actions (qa, n, "outage", n);
   wo.result = &r;
   wo.batch_size = batch;
   ck_assert (!odm_insert_many (c, s, qa, n, &wo, &v, &err));
   ck_assert (o.stopped);
   ck_assert_msg (err.domain != ODM_ERROR_DOMAIN && err.message[0], "%u.%u %s", err.domain, err.code, err.message);
   ck_assert_int_eq (r.count, n);
   ck_assert_int_eq (r.done, 8 * batch);
   ck_assert_int_eq (r.unknown, batch);
   ck_assert_int_eq (r.not_sent, n - 9 * batch);
   for (i = 0; i < n; i++) {
      odm_outcome_status_t want = i < 8 * batch   ? ODM_OUTCOME_DONE
                                  : i < 9 * batch ? ODM_OUTCOME_UNKNOWN
                                                  : ODM_OUTCOME_NOT_SENT;
      ck_assert_msg (r.items[i].status == want, "document %zu: %d, want %d", i, (int) r.items[i].status, (int) want);
   }
   /* the server is away: verify fails and changes nothing */
   ck_assert (!odm_bulk_verify (c, s, &r, &err));
   ck_assert_int_eq (r.unknown, batch);

   snprintf (cmd, sizeof cmd, "%s start", ctl);
   ck_assert_int_eq (system (cmd), 0);
   for (tries = 0; tries < 40 && !back; tries++) {
      back = odm_client_ping (c, &err);
   }
   ck_assert_msg (back, "no recovery after restart: %s", err.message);
   ck_assert_msg (odm_bulk_verify (c, s, &r, &err), "%s", err.message);
   ck_assert_int_eq (r.unknown, 0);
   if (persistent) {
      int64_t held = raw_count (c, s, NULL);
      ck_assert_int_eq (held, (int64_t) r.done);
      for (i = 0; i < n; i += 7) { /* every 7th, and the boundaries below */
         ck_assert_msg (stored_id (c, s, &r.items[i].id) == (r.items[i].status == ODM_OUTCOME_DONE), "document %zu", i);
      }
      for (i = 8 * batch - 2; i < 9 * batch + 2; i++) {
         ck_assert_msg (stored_id (c, s, &r.items[i].id) == (r.items[i].status == ODM_OUTCOME_DONE), "document %zu", i);
      }
   } else {
      ck_assert_int_eq (raw_count (c, s, NULL), 0); /* in memory: the restart emptied it */
      for (i = 8 * batch; i < 9 * batch; i++) {
         ck_assert_int_eq (r.items[i].status, ODM_OUTCOME_NOT_SENT);
      }
   }
   odm_bulk_result_cleanup (&r);
   odm_violations_cleanup (&v);
   quick_actions_free (qa, n);
   bson_free (qa);
   odm_client_destroy (c);
   mongoc_apm_callbacks_destroy (cbs);
}
END_TEST

/* ------------------------------------------------------------------ sessions */

typedef struct {
   int commands, with_lsid, other_lsid, after_cluster_time;
   bson_t lsid;
   bool watching;
   char names[2048];
} watch_t;

static void
watch_commands (const mongoc_apm_command_started_t *event)
{
   watch_t *w = mongoc_apm_command_started_get_context (event);
   const char *name = mongoc_apm_command_started_get_command_name (event);
   const bson_t *cmd = mongoc_apm_command_started_get_command (event);
   bson_iter_t it, sub;
   if (!w->watching || !strcmp (name, "endSessions")) {
      return;
   }
   w->commands++;
   if (strlen (w->names) + strlen (name) + 2 < sizeof w->names) {
      strcat (w->names, name);
      strcat (w->names, " ");
   }
   if (bson_iter_init_find (&it, cmd, "lsid") && BSON_ITER_HOLDS_DOCUMENT (&it)) {
      const uint8_t *data;
      uint32_t len;
      bson_t got;
      bson_iter_document (&it, &len, &data);
      bson_init_static (&got, data, len);
      if (bson_equal (&got, &w->lsid)) {
         w->with_lsid++;
      } else {
         w->other_lsid++;
      }
   }
   if (bson_iter_init (&it, cmd) && bson_iter_find_descendant (&it, "readConcern.afterClusterTime", &sub)) {
      w->after_cluster_time++;
   }
}

/* mongo-java-server 1.47 reports no logicalSessionTimeoutMinutes, so libmongoc starts no
 * session on it; FerretDB v1 and MongoDB have sessions. */
static bool
server_has_sessions (const char *srv)
{
   return !srv || strcmp (srv, "mongo-java-server") != 0;
}

/* On a server without sessions, starting one fails with libmongoc's clear error (and
 * nothing leaks: the pinned client goes back to the pool). */
static bool
expect_no_sessions (odm_client_t *c, const char *srv)
{
   bson_error_t err;
   odm_session_t *sess;
   if (server_has_sessions (srv)) {
      return false;
   }
   sess = odm_client_start_session (c, NULL, &err);
   ck_assert_msg (sess == NULL, "%s started a session", srv);
   ck_assert_msg (err.domain != ODM_ERROR_DOMAIN && strstr (err.message, "sessions"), "%s", err.message);
   ck_assert (odm_client_ping (c, &err));
   return true;
}

/* Every call given the session runs on the session's one client with its lsid: insert,
 * find, find_one, count, update (both paths), save, delete, bulk, aggregate. The old way
 * (a libmongoc session in mongoc_opts) is refused with a message that says what to do. */
START_TEST (test_session_pins_one_client)
{
   const char *srv = getenv ("ODM_TEST_SERVER");
   const odm_schema_t *s = &odm_chat_quick_action_schema;
   mongoc_apm_callbacks_t *cbs = mongoc_apm_callbacks_new ();
   watch_t w;
   odm_client_t *c, *other;
   odm_session_t *sess;
   odm_write_opts_t wo = ODM_WRITE_OPTS_INIT;
   odm_find_opts_t fo = ODM_FIND_OPTS_INIT;
   odm_update_opts_t uo = ODM_UPDATE_OPTS_INIT;
   odm_delete_opts_t dopts = ODM_DELETE_OPTS_INIT;
   odm_chat_quick_action_t qa[3], row;
   odm_violations_t v;
   bson_error_t err;
   odm_cursor_t *cur;
   bson_t *f0 = BCON_NEW ("actionId", "sess-0"), *f2 = BCON_NEW ("actionId", "sess-2");
   bson_t *set = BCON_NEW ("$set", "{", "label", "in session", "}");
   bson_t *lowered = BCON_NEW ("$set", "{", "category", "Mixed Case", "}");
   bson_t *foreign;
   int64_t n, rows = 0;
   bool found;
   odm_bulk_t *b;
   odm_bulk_result_t r;

   memset (&w, 0, sizeof w);
   c = connect_or_fail ();
   mongoc_apm_set_command_started_cb (cbs, watch_commands);
   ck_assert (mongoc_client_pool_set_apm_callbacks (odm_client_pool (c), cbs, &w));
   drop (c, s);
   if (expect_no_sessions (c, srv)) {
      bson_destroy (f0);
      bson_destroy (f2);
      bson_destroy (set);
      bson_destroy (lowered);
      odm_client_destroy (c);
      mongoc_apm_callbacks_destroy (cbs);
      return;
   }
   sess = odm_client_start_session (c, NULL, &err);
   ck_assert_msg (sess != NULL, "%s: start session: %s", srv, err.message);
   bson_copy_to (mongoc_client_session_get_lsid (odm_session_mongoc (sess)), &w.lsid);
   w.watching = true;

   quick_actions (qa, 3, "sess", 3);
   wo.session = sess;
   fo.session = sess;
   uo.session = sess;
   dopts.session = sess;
   ck_assert_msg (odm_insert_one (c, s, &qa[0], &wo, &v, &err), "%s", err.message);
   odm_violations_cleanup (&v);
   ck_assert_msg (odm_insert_many (c, s, &qa[1], 2, &wo, &v, &err), "%s", err.message);
   odm_violations_cleanup (&v);
   cur = odm_find (c, s, NULL, &fo, &err);
   ck_assert (cur);
   while (odm_cursor_next (cur, &row)) {
      rows++;
      odm_chat_quick_action_cleanup (&row);
   }
   ck_assert_msg (!odm_cursor_error (cur, &err), "%s", err.message);
   odm_cursor_destroy (cur);
   ck_assert_int_eq (rows, 3);
   ck_assert_msg (odm_find_one_with_opts (c, s, f0, &fo, &row, &found, &err) && found, "%s", err.message);
   odm_chat_quick_action_cleanup (&row);
   ck_assert_msg (odm_count_with_opts (c, s, NULL, &fo, &n, &err), "%s", err.message);
   ck_assert_int_eq (n, 3);
   ck_assert_msg (odm_update (c, s, f0, set, &uo, &n, &v, &err), "%s", err.message); /* direct */
   odm_violations_cleanup (&v);
   ck_assert_msg (odm_update (c, s, f0, lowered, &uo, &n, &v, &err), "%s", err.message);
   odm_violations_cleanup (&v);
   bson_free (qa[1].label);
   qa[1].label = bson_strdup ("saved in session");
   ck_assert_msg (odm_save (c, s, &qa[1], &wo, &v, &err), "%s", err.message);
   odm_violations_cleanup (&v);
   b = odm_bulk_new (c, s, &wo, &err);
   ck_assert (odm_bulk_update (b, f2, set, NULL, &err));
   ck_assert (odm_bulk_delete (b, f2, false, &err));
   ck_assert_msg (odm_bulk_execute (b, &r, &err), "%s", err.message);
   odm_bulk_result_cleanup (&r);
   odm_bulk_destroy (b);
   ck_assert_msg (odm_delete_with_opts (c, s, f0, &dopts, &n, &err), "%s", err.message);
   ck_assert_int_eq (n, 1);
   w.watching = false;

   {
      /* Causal consistency: once the server reports an operationTime, libmongoc puts it in
       * every later read of the session as readConcern.afterClusterTime. FerretDB v1
       * reports none (docs/live.md says this stays untested on the servers here). */
      uint32_t ts = 0, inc = 0;
      mongoc_client_session_get_operation_time (odm_session_mongoc (sess), &ts, &inc);
      if (srv && !strcmp (srv, "ferretdb")) {
         ck_assert_int_eq (ts, 0);
         ck_assert_int_eq (w.after_cluster_time, 0);
      } else {
         ck_assert_msg (ts != 0 && w.after_cluster_time >= 3, "operationTime %u, %d reads after it", ts,
                        w.after_cluster_time);
      }
   }
   ck_assert_msg (w.commands >= 12, "%d commands: %s", w.commands, w.names);
   ck_assert_msg (w.with_lsid == w.commands && w.other_lsid == 0,
                  "%d of %d commands carried the session's lsid, %d another one: %s", w.with_lsid, w.commands,
                  w.other_lsid, w.names);

   /* a libmongoc session in mongoc_opts: refused, with the way to do it */
   foreign = bson_new ();
   ck_assert (mongoc_client_session_append (odm_session_mongoc (sess), foreign, &err));
   wo.session = NULL;
   wo.mongoc_opts = foreign;
   ck_assert (!odm_insert_one (c, s, &qa[2], &wo, &v, &err));
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_INVALID_ARGUMENT &&
                     strstr (err.message, "opts.session"),
                  "%s", err.message);
   odm_violations_cleanup (&v);
   bson_destroy (foreign);
   /* a session of another odm_client_t: refused */
   other = connect_or_fail ();
   fo.session = sess;
   ck_assert (odm_find (other, s, NULL, &fo, &err) == NULL);
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && strstr (err.message, "another odm_client_t"), "%s", err.message);
   odm_client_destroy (other);

   odm_session_end (sess);
   quick_actions_free (qa, 3);
   bson_destroy (f0);
   bson_destroy (f2);
   bson_destroy (set);
   bson_destroy (lowered);
   bson_destroy (&w.lsid);
   odm_client_destroy (c);
   mongoc_apm_callbacks_destroy (cbs);
}
END_TEST

typedef struct {
   const odm_schema_t *s;
   odm_chat_quick_action_t *qa;
   int calls;
} txn_t;

/* Inserts a valid document, then an invalid one: the second is refused before it is sent,
 * and the body returns that error. */
static bool
txn_body_refused (odm_session_t *session, void *ctx, bson_error_t *error)
{
   txn_t *t = ctx;
   odm_write_opts_t wo = ODM_WRITE_OPTS_INIT;
   odm_violations_t v;
   bool ok;
   t->calls++;
   wo.session = session;
   ok = odm_insert_one (odm_session_client (session), t->s, &t->qa[0], &wo, &v, error) &&
        odm_insert_one (odm_session_client (session), t->s, &t->qa[1], &wo, &v, error);
   odm_violations_cleanup (&v);
   return ok;
}

/* odm_with_transaction: on a server with transactions (MONGODB_URI on a replica set) the
 * refused write aborts the transaction and nothing is stored; mongo-java-server and
 * FerretDB v1 run no transactions, and what libmongoc says then is checked. */
START_TEST (test_with_transaction)
{
   const char *srv = getenv ("ODM_TEST_SERVER");
   odm_client_t *c = connect_or_fail ();
   const odm_schema_t *s = &odm_chat_quick_action_schema;
   odm_chat_quick_action_t qa[2];
   txn_t t = {s, qa, 0};
   odm_session_t *sess;
   bson_error_t err;
   bool ok;

   drop (c, s);
   if (expect_no_sessions (c, srv)) {
      odm_client_destroy (c);
      return;
   }
   quick_actions (qa, 2, "txn", 1); /* the second is invalid */
   sess = odm_client_start_session (c, NULL, &err);
   ck_assert_msg (sess, "%s", err.message);
   ok = odm_with_transaction (sess, txn_body_refused, &t, NULL, &err);
   ck_assert (!ok);
   ck_assert_int_eq (t.calls, 1);
   if (srv && !strcmp (srv, "ferretdb")) {
      /* FerretDB v1 refuses the first write of the transaction (it has none) */
      ck_assert_msg (err.domain == MONGOC_ERROR_SERVER && strstr (err.message, "startTransaction"), "%u.%u %s",
                     err.domain, err.code, err.message);
   } else {
      /* the valid first insert was sent inside the transaction; the invalid second one was
       * refused before sending, and the abort took the first one back */
      ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_VALIDATION, "%u.%u %s", err.domain,
                     err.code, err.message);
   }
   ck_assert_int_eq (raw_count (c, s, NULL), 0);
   odm_session_end (sess);
   quick_actions_free (qa, 2);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ bad documents */

/* Stores 11 transactions as another writer would, the first (smallest _id) with
 * fees.processing: "1.5" (a string where the spec has a number, which Mongoose casts). */
static void
store_eleven_one_bad (odm_client_t *c)
{
   const odm_schema_t *s = &odm_transaction_schema;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   bson_error_t err;
   int i;
   drop (c, s);
   coll = raw_collection (c, s, &mc);
   for (i = 0; i < 11; i++) {
      char edits[256];
      bson_t *doc;
      bson_snprintf (edits, sizeof edits, "{\"_id\": {\"$oid\": \"64b00000000000000000%04d\"}%s}", i,
                     i == 0 ? ", \"fees.processing\": \"1.5\"" : "");
      doc = odm_test_fixture_with ("transactions", edits);
      ck_assert_msg (mongoc_collection_insert_one (coll, doc, NULL, NULL, &err), "%s", err.message);
      bson_destroy (doc);
   }
   raw_release (c, coll, mc);
}

static odm_cursor_t *
find_by_id (odm_client_t *c, odm_bad_doc_policy_t policy)
{
   odm_find_opts_t fo = ODM_FIND_OPTS_INIT;
   bson_t *sort = BCON_NEW ("_id", BCON_INT32 (1));
   bson_error_t err;
   odm_cursor_t *cur;
   fo.sort = sort;
   fo.on_bad_doc = policy;
   cur = odm_find (c, &odm_transaction_schema, NULL, &fo, &err);
   ck_assert_msg (cur, "%s", err.message);
   bson_destroy (sort);
   return cur;
}

/* One document in a shape the spec refuses, first among 11: STOP ends the cursor with the
 * error naming the path (0 rows), SKIP returns the 10 others and reports the bad one's _id
 * and error, RAW hands it over as BSON and decodes the 10 others. */
START_TEST (test_cursor_bad_document_policies)
{
   odm_client_t *c = connect_or_fail ();
   odm_transaction_t row;
   odm_cursor_t *cur;
   bson_error_t err;
   const odm_skipped_t *sk;
   size_t nsk;
   int rows, bad;
   bson_oid_t first;

   bson_oid_init_from_string (&first, "64b000000000000000000000");
   store_eleven_one_bad (c);

   cur = find_by_id (c, ODM_BAD_DOC_STOP);
   rows = 0;
   while (odm_cursor_next (cur, &row)) {
      rows++;
      odm_transaction_cleanup (&row);
   }
   ck_assert_int_eq (rows, 0);
   ck_assert (odm_cursor_error (cur, &err));
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_TYPE && strstr (err.message, "fees.processing"),
                  "%s", err.message);
   odm_cursor_destroy (cur);

   cur = find_by_id (c, ODM_BAD_DOC_SKIP);
   rows = 0;
   while (odm_cursor_next (cur, &row)) {
      ck_assert (odm_cursor_current (cur) != NULL);
      rows++;
      odm_transaction_cleanup (&row);
   }
   ck_assert_msg (!odm_cursor_error (cur, &err), "%s", err.message);
   ck_assert_int_eq (rows, 10);
   sk = odm_cursor_skipped (cur, &nsk);
   ck_assert_int_eq (nsk, 1);
   ck_assert_int_eq (sk[0].id.value_type, BSON_TYPE_OID);
   ck_assert (bson_oid_equal (&sk[0].id.value.v_oid, &first));
   ck_assert_msg (sk[0].error.code == ODM_ERROR_TYPE && strstr (sk[0].error.message, "fees.processing"), "%s",
                  sk[0].error.message);
   odm_cursor_destroy (cur);

   cur = find_by_id (c, ODM_BAD_DOC_RAW);
   rows = bad = 0;
   while (odm_cursor_next (cur, &row)) {
      if (odm_cursor_current_bad (cur, &err)) {
         bson_iter_t it;
         const bson_t *raw = odm_cursor_current (cur);
         bad++;
         ck_assert (raw != NULL);
         ck_assert (bson_iter_init (&it, raw) && bson_iter_find_descendant (&it, "fees.processing", &it) &&
                    BSON_ITER_HOLDS_UTF8 (&it) && !strcmp (bson_iter_utf8 (&it, NULL), "1.5"));
         ck_assert (strstr (err.message, "fees.processing") != NULL);
         ck_assert (row.has__id == 0); /* zeroed */
      } else {
         rows++;
      }
      odm_transaction_cleanup (&row);
   }
   ck_assert_msg (!odm_cursor_error (cur, &err), "%s", err.message);
   ck_assert_int_eq (rows, 10);
   ck_assert_int_eq (bad, 1);
   ck_assert (odm_cursor_current (cur) == NULL);
   odm_cursor_destroy (cur);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ paging, populate */

static int agent_finds;

static void
count_agent_finds (const mongoc_apm_command_started_t *event)
{
   const bson_t *cmd = mongoc_apm_command_started_get_command (event);
   bson_iter_t it;
   if (!strcmp (mongoc_apm_command_started_get_command_name (event), "find") && bson_iter_init_find (&it, cmd, "find") &&
       BSON_ITER_HOLDS_UTF8 (&it) && !strcmp (bson_iter_utf8 (&it, NULL), "agents")) {
      agent_finds++;
   }
}

static void
raw_insert_json (odm_client_t *c, const char *coll, const char *edits)
{
   const odm_schema_t *s = odm_schema_find (coll);
   bson_t *doc = odm_test_fixture_with (coll, edits);
   mongoc_client_t *mc;
   mongoc_collection_t *col = raw_collection (c, s, &mc);
   bson_error_t err;
   ck_assert_msg (mongoc_collection_insert_one (col, doc, NULL, NULL, &err), "%s", err.message);
   raw_release (c, col, mc);
   bson_destroy (doc);
}

/* A user's sessions, newest first, three per page by `after` the last row's updatedAt (and
 * _id): every session once, in order, and a session inserted between two pages with a
 * newer updatedAt does not shift the next page. Each page's agents are read by one query
 * (populate), and a reference to a missing agent is reported. */
START_TEST (test_paging_after_and_populate)
{
   const odm_schema_t *s = &odm_chat_session_schema;
   mongoc_apm_callbacks_t *cbs = mongoc_apm_callbacks_new ();
   odm_client_t *c;
   odm_find_opts_t fo = ODM_FIND_OPTS_INIT;
   bson_t *sort = BCON_NEW (ODM_CHAT_SESSION_PATH_UPDATED_AT, BCON_INT32 (-1));
   bson_t *filter;
   bson_t after = BSON_INITIALIZER;
   bson_oid_t user;
   odm_chat_session_t page[3];
   int seen[8] = {0}, order[8], got = 0, pages = 0, missing = 0, populated = 0, i;
   bool have_after = false;

   c = connect_or_fail ();
   mongoc_apm_set_command_started_cb (cbs, count_agent_finds);
   ck_assert (mongoc_client_pool_set_apm_callbacks (odm_client_pool (c), cbs, NULL));
   drop (c, s);
   drop (c, &odm_agent_schema);
   bson_oid_init_from_string (&user, "64b0000000000000000000a1");
   filter = BCON_NEW (ODM_CHAT_SESSION_PATH_USER_ID, BCON_OID (&user));
   raw_insert_json (c, "agents", "{\"_id\": {\"$oid\": \"64b0000000000000000000b1\"}, \"agentId\": \"agent-a\"}");
   raw_insert_json (c, "agents", "{\"_id\": {\"$oid\": \"64b0000000000000000000b2\"}, \"agentId\": \"agent-b\"}");
   for (i = 0; i < 7; i++) {
      char edits[512];
      /* session i updated at minute i; agent b1 or b2, session 4's agent was deleted (b9) */
      bson_snprintf (edits, sizeof edits,
                     "{\"_id\": {\"$oid\": \"64b00000000000000000c00%d\"}, \"sessionId\": \"page-%d\", "
                     "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, "
                     "\"agentId\": {\"$oid\": \"64b0000000000000000000b%d\"}, "
                     "\"updatedAt\": {\"$date\": {\"$numberLong\": \"%" PRId64 "\"}}}",
                     i, i, i == 4 ? 9 : 1 + i % 2, NOW + i * 60000);
      raw_insert_json (c, "chat_sessions", edits);
   }
   fo.sort = sort;
   fo.limit = 3;
   fo.checked_filter = true;
   for (;;) {
      bson_error_t err;
      odm_cursor_t *cur;
      odm_populated_t pop;
      int n = 0, before;
      fo.after = have_after ? &after : NULL;
      cur = odm_find (c, s, filter, &fo, &err);
      ck_assert_msg (cur, "%s", err.message);
      while (n < 3 && odm_cursor_next (cur, &page[n])) {
         n++;
      }
      ck_assert_msg (!odm_cursor_error (cur, &err), "%s", err.message);
      if (n) {
         bson_destroy (&after);
         ck_assert (odm_cursor_after (cur, &after));
         have_after = true;
      }
      odm_cursor_destroy (cur);
      if (!n) {
         break;
      }
      pages++;
      before = agent_finds;
      ck_assert_msg (odm_populate (c, s, page, (size_t) n, ODM_CHAT_SESSION_PATH_AGENT_ID, NULL, &pop, &err), "%s",
                     err.message);
      ck_assert_int_eq (agent_finds - before, 1); /* one query for the page */
      ck_assert (pop.schema == &odm_agent_schema);
      for (i = 0; i < n; i++) {
         int idx = page[i].sessionId[5] - '0';
         ck_assert (idx >= 0 && idx < 7);
         seen[idx]++;
         order[got++] = idx;
         if (idx == 4) {
            ck_assert (pop.by_row[i] == NULL);
         } else {
            const odm_agent_t *a = pop.by_row[i];
            ck_assert_msg (a != NULL, "session %d: agent not populated", idx);
            ck_assert (bson_oid_equal (&a->_id, &page[i].agentId));
            populated++;
         }
         odm_chat_session_cleanup (&page[i]);
      }
      missing += (int) pop.missing.count;
      if (pop.missing.count) {
         ck_assert_str_eq (pop.missing.items[0].rule, "ref");
      }
      odm_populated_cleanup (&pop);
      if (pages == 1) {
         /* a newer session arrives between pages: it belongs before page 1, not in page 2 */
         raw_insert_json (c, "chat_sessions",
                          "{\"_id\": {\"$oid\": \"64b00000000000000000c007\"}, \"sessionId\": \"page-7\", "
                          "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, "
                          "\"agentId\": {\"$oid\": \"64b0000000000000000000b1\"}, "
                          "\"updatedAt\": {\"$date\": {\"$numberLong\": \"1760000000000\"}}}");
      }
   }
   ck_assert_int_eq (pages, 3);
   ck_assert_int_eq (got, 7);
   for (i = 0; i < 7; i++) {
      ck_assert_int_eq (seen[i], 1);
      ck_assert_int_eq (order[i], 6 - i); /* newest first */
   }
   ck_assert_int_eq (seen[7], 0);
   ck_assert_int_eq (missing, 1);
   ck_assert_int_eq (populated, 6);

   {
      /* after without a sort, or missing a sort key: refused */
      bson_error_t err;
      bson_t *partial = BCON_NEW ("_id", BCON_OID (&user));
      fo.sort = NULL;
      fo.after = &after;
      ck_assert (odm_find (c, s, filter, &fo, &err) == NULL);
      ck_assert (strstr (err.message, "opts.after") != NULL);
      fo.sort = sort;
      fo.after = partial;
      ck_assert (odm_find (c, s, filter, &fo, &err) == NULL);
      ck_assert_msg (strstr (err.message, "updatedAt") != NULL, "%s", err.message);
      bson_destroy (partial);
   }
   bson_destroy (&after);
   bson_destroy (sort);
   bson_destroy (filter);
   odm_client_destroy (c);
   mongoc_apm_callbacks_destroy (cbs);
}
END_TEST

/* ------------------------------------------------------------------ projections */

/* A projected struct says per path what was not loaded (distinct from absent and null),
 * and a write of it is refused before anything is sent: saving it would erase the rest. */
START_TEST (test_projection_not_loaded)
{
   const odm_schema_t *s = &odm_chat_session_schema;
   odm_client_t *c = connect_or_fail ();
   odm_find_opts_t fo = ODM_FIND_OPTS_INIT;
   bson_t *incl = BCON_NEW (ODM_CHAT_SESSION_PATH_NAME, BCON_INT32 (1), ODM_CHAT_SESSION_PATH_SETTINGS_MODE,
                            BCON_INT32 (1));
   bson_t *excl = BCON_NEW (ODM_CHAT_SESSION_PATH_TAGS, BCON_INT32 (0));
   bson_t *filter = BCON_NEW ("sessionId", "proj-0");
   bson_t *typo = BCON_NEW ("nmae", BCON_INT32 (1));
   odm_chat_session_t row, whole;
   odm_violations_t v;
   bson_error_t err;
   bool found;
   int64_t n;

   drop (c, s);
   raw_insert_json (c, "chat_sessions", "{\"sessionId\": \"proj-0\", \"description\": \"kept\", \"tags\": [\"a\"]}");
   fo.projection = incl;
   fo.checked_filter = true;
   ck_assert_msg (odm_find_one_with_opts (c, s, filter, &fo, &row, &found, &err) && found, "%s", err.message);
   ck_assert (row.name != NULL);
   ck_assert (row.description == NULL); /* reads as absent... */
   ck_assert_int_eq (odm_field_loaded (s, &row, "description"), ODM_NOT_LOADED); /* ...but was not loaded */
   ck_assert_int_eq (odm_field_loaded (s, &row, "name"), ODM_LOADED);
   ck_assert_int_eq (odm_field_loaded (s, &row, "_id"), ODM_LOADED);
   ck_assert_int_eq (odm_field_loaded (s, &row, "settings"), ODM_PARTLY_LOADED);
   ck_assert_int_eq (odm_field_loaded (s, &row, "settings.mode"), ODM_LOADED);
   ck_assert_int_eq (odm_field_loaded (s, &row, "settings.temperature"), ODM_NOT_LOADED);
   ck_assert_int_eq (odm_field_loaded (s, &row, "tags"), ODM_NOT_LOADED);
   /* writes of a partly loaded struct: refused, nothing sent */
   bson_free (row.name);
   row.name = bson_strdup ("renamed");
   ck_assert (!odm_save (c, s, &row, NULL, &v, &err));
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_INVALID_ARGUMENT &&
                     strstr (err.message, "projection"),
                  "%s", err.message);
   ck_assert (odm_test_has_violation (&v, "", "projection", NULL));
   odm_violations_cleanup (&v);
   ck_assert (!odm_insert_one (c, s, &row, NULL, &v, &err));
   ck_assert_int_eq (err.code, ODM_ERROR_INVALID_ARGUMENT);
   odm_violations_cleanup (&v);
   ck_assert_int_eq (raw_count (c, s, NULL), 1);
   ck_assert_msg (odm_find_one (c, s, filter, &whole, &found, &err) && found, "%s", err.message);
   ck_assert_str_eq (whole.description, "kept");
   ck_assert_str_ne (whole.name, "renamed");
   ck_assert_int_eq (odm_field_loaded (s, &whole, "description"), ODM_LOADED);
   odm_chat_session_cleanup (&whole);
   odm_chat_session_cleanup (&row);

   fo.projection = excl;
   ck_assert_msg (odm_find_one_with_opts (c, s, filter, &fo, &row, &found, &err) && found, "%s", err.message);
   ck_assert_int_eq (odm_field_loaded (s, &row, "tags"), ODM_NOT_LOADED);
   ck_assert_int_eq (odm_field_loaded (s, &row, "description"), ODM_LOADED);
   ck_assert_str_eq (row.description, "kept");
   odm_chat_session_cleanup (&row);

   /* a misspelt projection path fails before the server */
   fo.projection = typo;
   ck_assert (!odm_find_one_with_opts (c, s, filter, &fo, &row, &found, &err));
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && strstr (err.message, "nmae"), "%s", err.message);
   (void) n;
   bson_destroy (incl);
   bson_destroy (excl);
   bson_destroy (filter);
   bson_destroy (typo);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ find and modify */

/* findOneAndUpdate through odm_update's checks (before and after, a refused update
 * changes nothing), findOneAndDelete typed (and a bad stored document deleted all the
 * same, reported), distinct on a checked path. */
START_TEST (test_find_and_modify_distinct)
{
   const odm_schema_t *s = &odm_chat_session_schema;
   odm_client_t *c = connect_or_fail ();
   odm_update_opts_t uo = ODM_UPDATE_OPTS_INIT;
   odm_find_opts_t fo = ODM_FIND_OPTS_INIT;
   bson_t *f0 = BCON_NEW ("sessionId", "fm-0"), *none = BCON_NEW ("sessionId", "fm-none");
   bson_t *rename = BCON_NEW ("$set", "{", "name", "renamed", "}");
   bson_t *too_hot = BCON_NEW ("$set", "{", "settings.temperature", BCON_DOUBLE (5.0), "}");
   bson_t *sort = BCON_NEW ("updatedAt", BCON_INT32 (-1));
   bson_t values;
   odm_chat_session_t out;
   odm_transaction_t tx;
   odm_violations_t v;
   bson_error_t err;
   bson_iter_t it;
   bool found;
   int n = 0;

   drop (c, s);
   raw_insert_json (c, "chat_sessions", "{\"sessionId\": \"fm-0\", \"name\": \"first\", \"__v\": 0, "
                                        "\"updatedAt\": {\"$date\": \"2025-01-01T00:00:00Z\"}}");
   raw_insert_json (c, "chat_sessions", "{\"_id\": {\"$oid\": \"64b0000000000000000000f1\"}, \"sessionId\": \"fm-1\", "
                                        "\"settings.mode\": \"coding\", "
                                        "\"updatedAt\": {\"$date\": \"2025-02-01T00:00:00Z\"}}");
   uo.now_ms = NOW;
   ck_assert_msg (odm_find_one_and_update (c, s, f0, rename, &uo, false, &out, &found, &v, &err) && found, "%s",
                  err.message);
   ck_assert_str_eq (out.name, "first"); /* before */
   odm_chat_session_cleanup (&out);
   odm_violations_cleanup (&v);
   ck_assert_msg (odm_find_one_and_update (c, s, f0, rename, &uo, true, &out, &found, &v, &err) && found, "%s",
                  err.message);
   ck_assert_str_eq (out.name, "renamed"); /* after */
   odm_chat_session_cleanup (&out);
   odm_violations_cleanup (&v);
   ck_assert (!odm_find_one_and_update (c, s, f0, too_hot, &uo, true, &out, &found, &v, &err));
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_VALIDATION, "%s", err.message);
   ck_assert (odm_test_has_violation (&v, "settings.temperature", "max", NULL));
   odm_violations_cleanup (&v);
   ck_assert (odm_find_one_and_update (c, s, none, rename, &uo, true, &out, &found, &v, &err));
   ck_assert (!found);
   odm_violations_cleanup (&v);

   /* distinct: a checked path */
   ck_assert_msg (odm_distinct (c, s, ODM_CHAT_SESSION_PATH_SETTINGS_MODE, NULL, NULL, &values, &err), "%s",
                  err.message);
   bson_iter_init (&it, &values);
   while (bson_iter_next (&it)) {
      ck_assert (BSON_ITER_HOLDS_UTF8 (&it) && !strcmp (bson_iter_utf8 (&it, NULL), "coding"));
      n++;
   }
   ck_assert_int_eq (n, 1);
   bson_destroy (&values);
   ck_assert (!odm_distinct (c, s, "setings.mode", NULL, NULL, &values, &err));
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && strstr (err.message, "setings.mode"), "%s", err.message);
   bson_destroy (&values);

   /* findOneAndDelete: the most recently updated (the rename moved fm-0's updatedAt), typed */
   fo.sort = sort;
   ck_assert_msg (odm_find_one_and_delete (c, s, NULL, &fo, &out, &found, &err) && found, "%s", err.message);
   ck_assert_str_eq (out.sessionId, "fm-0");
   ck_assert_str_eq (out.name, "renamed");
   odm_chat_session_cleanup (&out);
   ck_assert_int_eq (raw_count (c, s, NULL), 1);
   /* a stored document that does not decode: deleted, and the decode error reported */
   store_eleven_one_bad (c);
   fo.sort = NULL;
   {
      bson_t *bad = BCON_NEW ("fees.processing", "1.5");
      ck_assert (!odm_find_one_and_delete (c, &odm_transaction_schema, bad, &fo, &tx, &found, &err));
      ck_assert (found);
      ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_TYPE, "%s", err.message);
      ck_assert_int_eq (raw_count (c, &odm_transaction_schema, NULL), 10);
      bson_destroy (bad);
   }
   bson_destroy (f0);
   bson_destroy (none);
   bson_destroy (rename);
   bson_destroy (too_hot);
   bson_destroy (sort);
   odm_client_destroy (c);
}
END_TEST

static void
quiet_log (mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
   (void) data;
   if (level > MONGOC_LOG_LEVEL_WARNING || strstr (message, "endSessions") || !strcmp (domain, "stream") ||
       !strcmp (domain, "monitor")) {
      return;
   }
   mongoc_log_default_handler (level, domain, message, NULL);
}

Suite *
layer_suite (void)
{
   Suite *s = suite_create ("layer");
   TCase *tc = tcase_create ("layer");
   mongoc_log_set_handler (quiet_log, NULL);
   tcase_set_timeout (tc, 120);
   tcase_add_test (tc, test_mongoc_opts_reach_every_call);
   tcase_add_test (tc, test_insert_many_validation_outcomes);
   tcase_add_test (tc, test_insert_many_server_errors);
   tcase_add_test (tc, test_bulk_mixed);
   tcase_add_test (tc, test_session_pins_one_client);
   tcase_add_test (tc, test_with_transaction);
   tcase_add_test (tc, test_cursor_bad_document_policies);
   tcase_add_test (tc, test_paging_after_and_populate);
   tcase_add_test (tc, test_projection_not_loaded);
   tcase_add_test (tc, test_find_and_modify_distinct);
   suite_add_tcase (s, tc);
   /* Its own case, excluded where the server cannot be restarted (CK_EXCLUDE_TCASES=outage). */
   tc = tcase_create ("outage");
   tcase_set_timeout (tc, 180);
   tcase_add_test (tc, test_insert_many_cut_by_outage);
   suite_add_tcase (s, tc);
   return s;
}
