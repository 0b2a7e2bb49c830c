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

Suite *
opts_suite (void)
{
   Suite *s = suite_create ("opts");
   TCase *tc = tcase_create ("opts");
   tcase_add_test (tc, test_opts_size_checked);
   tcase_add_test (tc, test_opts_newer_and_older_layouts);
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
   suite_add_tcase (s, tc);
   return s;
}
