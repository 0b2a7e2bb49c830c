/* libodm: the live layer. Typed CRUD over libmongoc where every write path runs the
 * schema's pre-save path first, operator updates are applied and re-validated in memory,
 * and duplicate keys come back shaped like validation errors. */
#include "odm-private.h"

#include <string.h>

struct _odm_client_t {
   mongoc_uri_t *uri;
   mongoc_client_pool_t *pool;
   char *db;
};

struct _odm_session_t {
   odm_client_t *client;
   mongoc_client_t *mc;
   mongoc_client_session_t *cs;
};

struct _odm_cursor_t {
   odm_client_t *client;
   odm_session_t *session;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   mongoc_cursor_t *cursor;
   const odm_schema_t *schema;
   uint32_t flags;
   odm_bad_doc_policy_t on_bad_doc;
   bool failed;
   bson_error_t error;
   const bson_t *current;
   bool current_bad;
   bson_error_t current_error;
   odm_skipped_t *skipped;
   size_t nskipped, skipped_cap;
   bson_t *sort; /* the sort in force (for odm_cursor_after), or NULL */
   bson_t *projection; /* the find's projection, marked on every struct filled, or NULL */
   bson_t *last_after; /* odm_cursor_after of the last row returned (kept past the end) */
};

/* ------------------------------------------------------------------ client */

odm_client_t *
odm_client_new (const char *uri_string, bson_error_t *error)
{
   odm_client_t *c;
   mongoc_uri_t *uri;
   const char *db;

   mongoc_init ();
   if (!uri_string) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "URI is NULL");
      return NULL;
   }
   if (!(uri = mongoc_uri_new_with_error (uri_string, error))) {
      return NULL;
   }
   if (!mongoc_uri_has_option (uri, MONGOC_URI_SOCKETTIMEOUTMS)) {
      /* libmongoc waits 300 s on a frozen server; libodm's default bound (docs/live.md) */
      mongoc_uri_set_option_as_int32 (uri, MONGOC_URI_SOCKETTIMEOUTMS, ODM_DEFAULT_SOCKET_TIMEOUT_MS);
   }
   c = bson_malloc0 (sizeof *c);
   c->uri = uri;
   db = mongoc_uri_get_database (uri);
   c->db = bson_strdup (db && *db ? db : "odm");
   mongoc_uri_set_appname (uri, "libodm");
   c->pool = mongoc_client_pool_new (uri);
   mongoc_client_pool_set_error_api (c->pool, MONGOC_ERROR_API_VERSION_2);
   return c;
}

void
odm_client_destroy (odm_client_t *client)
{
   if (!client) {
      return;
   }
   mongoc_client_pool_destroy (client->pool);
   mongoc_uri_destroy (client->uri);
   bson_free (client->db);
   bson_free (client);
}

const char *
odm_client_db_name (const odm_client_t *client)
{
   return client ? client->db : NULL;
}

mongoc_client_pool_t *
odm_client_pool (odm_client_t *client)
{
   return client ? client->pool : NULL;
}

const mongoc_uri_t *
odm_client_uri (const odm_client_t *client)
{
   return client ? client->uri : NULL;
}

bool
odm_client_ping (odm_client_t *client, bson_error_t *error)
{
   mongoc_client_t *mc;
   bson_t cmd = BSON_INITIALIZER;
   bool ok;
   if (!client) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client is NULL");
      return false;
   }
   mc = mongoc_client_pool_pop (client->pool);
   BSON_APPEND_INT32 (&cmd, "ping", 1);
   ok = mongoc_client_command_simple (mc, client->db, &cmd, NULL, NULL, error);
   bson_destroy (&cmd);
   mongoc_client_pool_push (client->pool, mc);
   return ok;
}

mongoc_collection_t *
odm_client_collection (odm_client_t *client, const odm_schema_t *schema, mongoc_client_t **mc)
{
   *mc = mongoc_client_pool_pop (client->pool);
   return mongoc_client_get_collection (*mc, client->db, schema->collection);
}

void
odm_client_release (odm_client_t *client, mongoc_collection_t *coll, mongoc_client_t *mc)
{
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (client->pool, mc);
}

mongoc_collection_t *
odm_client_collection_for (odm_client_t *client, odm_session_t *session, const odm_schema_t *schema,
                           mongoc_client_t **mc)
{
   if (!session) {
      return odm_client_collection (client, schema, mc);
   }
   *mc = session->mc;
   return mongoc_client_get_collection (*mc, client->db, schema->collection);
}

void
odm_client_release_for (odm_client_t *client, odm_session_t *session, mongoc_collection_t *coll,
                        mongoc_client_t *mc)
{
   if (!session) {
      odm_client_release (client, coll, mc);
   } else {
      mongoc_collection_destroy (coll); /* the client stays with the session */
   }
}

/* ------------------------------------------------------------------ sessions */

odm_session_t *
odm_client_start_session (odm_client_t *client, const mongoc_session_opt_t *opts, bson_error_t *error)
{
   odm_session_t *s;
   mongoc_client_t *mc;
   mongoc_client_session_t *cs;
   if (!client) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client is NULL");
      return NULL;
   }
   mc = mongoc_client_pool_pop (client->pool);
   if (!(cs = mongoc_client_start_session (mc, opts, error))) {
      mongoc_client_pool_push (client->pool, mc);
      return NULL;
   }
   s = bson_malloc0 (sizeof *s);
   s->client = client;
   s->mc = mc;
   s->cs = cs;
   return s;
}

void
odm_session_end (odm_session_t *session)
{
   if (!session) {
      return;
   }
   mongoc_client_session_destroy (session->cs); /* aborts an open transaction */
   mongoc_client_pool_push (session->client->pool, session->mc);
   bson_free (session);
}

odm_client_t *
odm_session_client (odm_session_t *session)
{
   return session ? session->client : NULL;
}

mongoc_client_session_t *
odm_session_mongoc (odm_session_t *session)
{
   return session ? session->cs : NULL;
}

void
odm_session_append (const odm_session_t *session, bson_t *opts)
{
   if (session) {
      mongoc_client_session_append (session->cs, opts, NULL);
   }
}

bool
odm_check_session (odm_client_t *client, const odm_session_t *session, const bson_t *mongoc_opts,
                   bson_error_t *error)
{
   if (session && session->client != client) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "opts.session",
                     "the session was started by another odm_client_t");
      return false;
   }
   if (mongoc_opts && bson_has_field (mongoc_opts, "sessionId")) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "opts.mongoc_opts.sessionId",
                     "pass an odm_session_t in opts.session (a libmongoc session from another pooled client "
                     "fails with \"Invalid sessionId\")");
      return false;
   }
   return true;
}

typedef struct {
   odm_session_t *session;
   odm_transaction_fn fn;
   void *ctx;
} txn_ctx_t;

static bool
txn_body (mongoc_client_session_t *cs, void *ctx, bson_t **reply, bson_error_t *error)
{
   txn_ctx_t *t = ctx;
   bson_error_t local;
   bool ok;
   (void) cs;
   (void) reply;
   memset (&local, 0, sizeof local);
   ok = t->fn (t->session, t->ctx, error ? error : &local);
   if (!ok && error && !error->code && !error->domain) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the transaction body returned false without an error");
   }
   return ok;
}

bool
odm_with_transaction (odm_session_t *session, odm_transaction_fn fn, void *ctx,
                      const mongoc_transaction_opt_t *txn_opts, bson_error_t *error)
{
   txn_ctx_t t = {session, fn, ctx};
   bson_t reply;
   bool ok;
   if (!session || !fn) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "session or body is NULL");
      return false;
   }
   ok = mongoc_client_session_with_transaction (session->cs, txn_body, txn_opts, &t, &reply, error);
   bson_destroy (&reply);
   return ok;
}

bool
odm_check_client_args (odm_client_t *client, const odm_schema_t *schema, bson_error_t *error)
{
   if (!client || !schema || schema->magic != ODM_SCHEMA_MAGIC) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client or schema is NULL");
      return false;
   }
   return true;
}

/* ------------------------------------------------------------------ options structs */

bool
odm_opts_load (void *dst, size_t dst_size, const void *src, size_t min_size, const char *type, bson_error_t *error)
{
   size_t given, i;
   memset (dst, 0, dst_size);
   *(size_t *) dst = dst_size;
   if (!src) {
      return true;
   }
   given = *(const size_t *) src;
   if (given == 0) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "opts.size",
                     "%s was not initialised: start it with its _INIT macro (size = sizeof (%s))", type, type);
      return false;
   }
   if (given < min_size) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "opts.size", "%s has size %zu, below the smallest layout (%zu)",
                     type, given, min_size);
      return false;
   }
   if (given > dst_size) {
      /* a newer header: members this library does not know must be unset */
      for (i = dst_size; i < given; i++) {
         if (((const uint8_t *) src)[i]) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "opts.size",
                           "%s sets members this version of libodm does not know (size %zu, known %zu)", type, given,
                           dst_size);
            return false;
         }
      }
      given = dst_size;
   }
   memcpy ((char *) dst + sizeof (size_t), (const char *) src + sizeof (size_t), given - sizeof (size_t));
   return true;
}

bool
odm_server_error_is (const bson_error_t *e, uint32_t code)
{
   return e && (e->domain == MONGOC_ERROR_SERVER || e->domain == MONGOC_ERROR_WRITE_CONCERN) && e->code == code;
}

bool
odm_is_duplicate_key_error (const bson_error_t *e)
{
   if (!e || (e->domain != MONGOC_ERROR_SERVER && e->domain != MONGOC_ERROR_WRITE_CONCERN &&
              e->domain != MONGOC_ERROR_COLLECTION)) {
      return false;
   }
   return e->code == 11000 || e->code == 11001 || strstr (e->message, "E11000") || strstr (e->message, "duplicate key");
}

/* Appends the caller's libmongoc options to OPTS. */
static void
add_mongoc_opts (bson_t *opts, const bson_t *mongoc_opts)
{
   if (mongoc_opts) {
      bson_concat (opts, mongoc_opts);
   }
}

static bool
check_filter_opt (bool checked, const odm_schema_t *schema, const bson_t *filter, bson_error_t *error)
{
   odm_violations_t fv;
   bool ok;
   if (!checked) {
      return true;
   }
   ok = odm_filter_check (schema, filter, &fv);
   if (!ok) {
      odm_violations_to_error (&fv, error);
   }
   odm_violations_cleanup (&fv);
   return ok;
}

/* ------------------------------------------------------------------ key checks */

static void
check_keys_rec (const bson_t *doc, odm_path_t *path, odm_violations_t *v, bool *ok)
{
   bson_iter_t it;
   if (!bson_iter_init (&it, doc)) {
      return;
   }
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      size_t klen = strlen (k), old;
      if (!bson_utf8_validate (k, klen, false)) {
         /* the path names the key with '?' for the bytes that are not UTF-8 */
         char *shown = odm_utf8_clean (k);
         old = odm_path_push (path, shown, strlen (shown));
         bson_free (shown);
         odm_violations_add (v, path->buf, "key", "keys must be valid UTF-8");
         *ok = false;
      } else {
         old = odm_path_push (path, k, klen);
         if (k[0] == '$' || strchr (k, '.') || k[0] == '\0') {
            odm_violations_add (v, path->buf, "key", "keys may not be empty, start with '$' or contain '.'");
            *ok = false;
         }
      }
      if (BSON_ITER_HOLDS_DOCUMENT (&it) || BSON_ITER_HOLDS_ARRAY (&it)) {
         const uint8_t *data;
         uint32_t len;
         bson_t sub;
         if (BSON_ITER_HOLDS_DOCUMENT (&it)) {
            bson_iter_document (&it, &len, &data);
         } else {
            bson_iter_array (&it, &len, &data);
         }
         if (bson_init_static (&sub, data, len)) {
            check_keys_rec (&sub, path, v, ok);
         }
      }
      odm_path_pop (path, old);
   }
}

/* Only user data can carry a bad key: the schema's own names are fixed at generation.
 * So the walk visits the fields not in the schema (_extra) and mixed values only. */
static void
check_struct_keys (const odm_object_desc_t *d, const void *base, odm_path_t *path, odm_violations_t *v, bool *ok)
{
   uint32_t i;
   bson_t *const *extra = ODM_AT_CONST (base, d->extra);
   if (*extra) {
      check_keys_rec (*extra, path, v, ok);
   }
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      size_t count = 1, k, old;
      const char *items;
      if ((f->kind != ODM_KIND_OBJECT && f->kind != ODM_KIND_MIXED) || odm_field_state (f, base) != ODM_PRESENT) {
         continue;
      }
      old = odm_path_push (path, f->name, f->name_len);
      items = (f->flags & ODM_F_ARRAY) ? odm_field_array (f, base, &count) : odm_field_value (f, base);
      for (k = 0; k < count; k++) {
         const void *p = items + k * (f->flags & ODM_F_ARRAY ? f->elem_size : 0);
         size_t o2 = (f->flags & ODM_F_ARRAY) ? odm_path_push_index (path, k) : path->len;
         if (f->kind == ODM_KIND_OBJECT) {
            check_struct_keys (f->object, p, path, v, ok);
         } else {
            const bson_value_t *val = p;
            if (val->value_type == BSON_TYPE_DOCUMENT || val->value_type == BSON_TYPE_ARRAY) {
               bson_t sub;
               if (bson_init_static (&sub, val->value.v_doc.data, val->value.v_doc.data_len)) {
                  check_keys_rec (&sub, path, v, ok);
               }
            }
         }
         odm_path_pop (path, o2);
      }
      odm_path_pop (path, old);
   }
}

bool
odm_check_doc_keys (const odm_schema_t *schema, const void *doc, odm_violations_t *violations)
{
   odm_path_t path;
   bool ok = true;
   odm_path_init (&path);
   check_struct_keys (schema->root, doc, &path, violations, &ok);
   return ok;
}

bool
odm_check_keys (const bson_t *doc, odm_violations_t *violations)
{
   odm_path_t path;
   bool ok = true;
   if (!doc) {
      odm_violations_add (violations, "", "argument", "document is NULL");
      return false;
   }
   odm_path_init (&path);
   check_keys_rec (doc, &path, violations, &ok);
   return ok;
}

/* ------------------------------------------------------------------ errors */

/* Which unique index of SCHEMA already holds DOC's key values (another _id), asking the
 * server; NULL when none can be found. For servers whose message names no index. */
static const odm_index_t *
colliding_index (mongoc_collection_t *coll, const odm_schema_t *schema, const bson_t *doc)
{
   uint32_t i;
   bson_iter_t idit;
   if (!coll || !doc || !bson_iter_init_find (&idit, doc, "_id")) {
      return NULL;
   }
   for (i = 0; i < schema->index_count; i++) {
      const odm_index_t *ix = &schema->indexes[i];
      bson_t keys, filter = BSON_INITIALIZER, ne;
      bson_iter_t k, v;
      int64_t n;
      if (!ix->unique || !odm_index_keys (ix, &keys)) {
         continue;
      }
      bson_iter_init (&k, &keys);
      while (bson_iter_next (&k)) {
         bson_iter_t root;
         bson_iter_init (&root, doc);
         if (bson_iter_find_descendant (&root, bson_iter_key (&k), &v)) {
            bson_append_iter (&filter, bson_iter_key (&k), -1, &v);
         } else {
            BSON_APPEND_NULL (&filter, bson_iter_key (&k));
         }
      }
      BSON_APPEND_DOCUMENT_BEGIN (&filter, "_id", &ne);
      bson_append_iter (&ne, "$ne", 3, &idit);
      bson_append_document_end (&filter, &ne);
      n = mongoc_collection_count_documents (coll, &filter, NULL, NULL, NULL, NULL);
      bson_destroy (&filter);
      if (n > 0) {
         return ix;
      }
   }
   return NULL;
}

/* Maps a duplicate-key error of either test server or MongoDB to violations on the
 * index's key paths. COLL and DOC (the document that was written) let the index be found
 * when the server's message does not name it. Returns true when ERROR was a duplicate key. */
bool
odm_map_duplicate_doc (const odm_schema_t *schema, bson_error_t *error, odm_violations_t *v,
                       mongoc_collection_t *coll, const bson_t *doc)
{
   const char *msg = error->message, *p;
   char name[256] = "";
   uint32_t i;
   const odm_index_t *ix = NULL;

   if (!odm_is_duplicate_key_error (error)) {
      return false;
   }
   if ((p = strstr (msg, "index: "))) {
      size_t n = strcspn (p + 7, " ");
      bson_snprintf (name, sizeof name, "%.*s", (int) n, p + 7);
   }
   for (i = 0; i < schema->index_count && !ix && name[0]; i++) {
      if (schema->indexes[i].unique && !strcmp (schema->indexes[i].name, name)) {
         ix = &schema->indexes[i];
      }
   }
   if (!ix && strcmp (name, "_id_") != 0) {
      ix = colliding_index (coll, schema, doc);
   }
   if (ix) {
      bson_t keys;
      bson_iter_t it;
      char text[400];
      bson_snprintf (text, sizeof text, "another document has the same key for unique index %s", ix->name);
      if (odm_index_keys (ix, &keys) && bson_iter_init (&it, &keys)) {
         while (bson_iter_next (&it)) {
            odm_violations_add (v, bson_iter_key (&it), "unique", text);
         }
      }
   } else {
      odm_violations_add (v, strcmp (name, "_id_") == 0 ? "_id" : "", "unique", msg);
   }
   {
      char copy[sizeof error->message];
      bson_strncpy (copy, msg, sizeof copy);
      odm_set_error (error, ODM_ERROR_DUPLICATE_KEY, NULL, "%s: duplicate key (%s)", schema->collection,
                     ix ? ix->name : copy);
   }
   return true;
}

/* ------------------------------------------------------------------ encode for write */

static const odm_prepare_opts_t *
prep_opts (odm_prepare_opts_t *o, bool is_update, int64_t now_ms, const void *previous)
{
   o->is_update = is_update;
   o->now_ms = now_ms;
   o->previous = previous;
   return o;
}

/* Runs the pre-save path on DOC and encodes it into OUT (initialised here). Violation
 * paths get PREFIX ("3.") when non-NULL. */
bool
odm_prepare_encode (const odm_schema_t *schema, void *doc, const odm_prepare_opts_t *po, bson_t *out,
                    odm_violations_t *v, const char *prefix, bson_error_t *error)
{
   odm_violations_t local;
   size_t i;
   bool ok;

   bson_init (out);
   {
      bson_t *const *extra = ODM_AT_CONST (doc, schema->root->extra);
      if (*extra && bson_has_field (*extra, ODM_PROJECTION_KEY)) {
         const char *msg = "the document was loaded through a projection: writing it would erase what was not "
                           "loaded (load it whole, or change it with odm_update)";
         odm_violations_add (v, "", "projection", msg);
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s: %s", schema->collection, msg);
         return false;
      }
   }
   ok = odm_prepare (schema, doc, po, &local);
   if (ok) {
      bson_destroy (out);
      if (!odm_to_bson (schema, doc, out, error)) {
         odm_violations_cleanup (&local);
         return false;
      }
      ok = odm_check_doc_keys (schema, doc, &local);
   }
   for (i = 0; i < local.count; i++) {
      char path[ODM_PATH_MAX];
      bson_snprintf (path, sizeof path, "%s%s", prefix ? prefix : "", local.items[i].path);
      odm_violations_add (v, path, local.items[i].rule, local.items[i].message);
   }
   if (!ok) {
      odm_violations_to_error (&local, error);
   }
   odm_violations_cleanup (&local);
   return ok;
}

/* ------------------------------------------------------------------ version key */

/* DOC (a stack bson_t) with its version key set to VERSION (int32 when it fits, as
 * Mongoose writes it). */
static void
set_version (bson_t *doc, int64_t version)
{
   bson_t next = BSON_INITIALIZER;
   bson_copy_to_excluding_noinit (doc, &next, ODM_VERSION_KEY, NULL);
   if (version >= INT32_MIN && version <= INT32_MAX) {
      BSON_APPEND_INT32 (&next, ODM_VERSION_KEY, (int32_t) version);
   } else {
      BSON_APPEND_INT64 (&next, ODM_VERSION_KEY, version);
   }
   bson_destroy (doc);
   bson_steal (doc, &next);
}

/* DOC's version key: true with *V when it holds a number. */
static bool
get_version (const bson_t *doc, int64_t *v)
{
   bson_iter_t it;
   if (doc && bson_iter_init_find (&it, doc, ODM_VERSION_KEY) && BSON_ITER_HOLDS_NUMBER (&it)) {
      *v = bson_iter_as_int64 (&it);
      return true;
   }
   return false;
}

/* ------------------------------------------------------------------ insert */

bool
odm_insert_one (odm_client_t *client, const odm_schema_t *schema, void *doc, const odm_write_opts_t *opts,
                odm_violations_t *violations, bson_error_t *error)
{
   return odm_insert_many (client, schema, doc, 1, opts, violations, error);
}

/* ------------------------------------------------------------------ find */

odm_cursor_t *
odm_find (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, const odm_find_opts_t *opts_in,
          bson_error_t *error)
{
   odm_cursor_t *c;
   odm_find_opts_t o, *opts = &o;
   bson_t mopts = BSON_INITIALIZER, empty = BSON_INITIALIZER;
   bson_t *c_paged_filter = NULL, *c_sort = NULL;

   if (!odm_opts_load (&o, sizeof o, opts_in, ODM_FIND_OPTS_MIN, "odm_find_opts_t", error) ||
       !odm_check_client_args (client, schema, error) ||
       !odm_check_session (client, opts->session, opts->mongoc_opts, error) ||
       !check_filter_opt (opts->checked_filter, schema, filter, error)) {
      return NULL;
   }
   if (opts->checked_filter) {
      /* the sort and a projection given in mongoc_opts, checked the same way */
      odm_violations_t sv;
      bson_iter_t pj;
      bool good = odm_sort_check (schema, opts->sort, &sv);
      if (good && opts->projection) {
         odm_violations_cleanup (&sv);
         good = odm_projection_check (schema, opts->projection, &sv);
      }
      if (good && opts->mongoc_opts && bson_iter_init_find (&pj, opts->mongoc_opts, "projection") &&
          BSON_ITER_HOLDS_DOCUMENT (&pj)) {
         const uint8_t *data;
         uint32_t len;
         bson_t proj;
         bson_iter_document (&pj, &len, &data);
         if (bson_init_static (&proj, data, len)) {
            odm_violations_cleanup (&sv);
            good = odm_projection_check (schema, &proj, &sv);
         }
      }
      if (!good) {
         odm_violations_to_error (&sv, error);
      }
      odm_violations_cleanup (&sv);
      if (!good) {
         return NULL;
      }
   }
   if (opts->after && !opts->sort) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "opts.after", "paging after a row needs a sort");
      bson_destroy (&mopts);
      return NULL;
   }
   if (opts->after) {
      /* keyset paging: rows strictly after AFTER in the sort's order, _id breaking ties */
      bson_t *sort = bson_copy (opts->sort), keyset = BSON_INITIALIZER, or, *paged;
      bson_iter_t k;
      int clause = 0;
      bool tie = !bson_has_field (sort, "_id");
      if (tie) {
         BSON_APPEND_INT32 (sort, "_id", 1); /* the same tie-breaker as the first page's */
      }
      BSON_APPEND_ARRAY_BEGIN (&keyset, "$or", &or);
      bson_iter_init (&k, sort);
      while (bson_iter_next (&k)) {
         bson_iter_t v, prev;
         bson_t one, cmp;
         char key[16];
         const char *kp;
         if (tie && !strcmp (bson_iter_key (&k), "_id") && !bson_has_field (opts->after, "_id")) {
            break; /* an `after` built by hand without _id: ties are not broken */
         }
         if (!bson_iter_init_find (&v, opts->after, bson_iter_key (&k))) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "opts.after", "holds no value for the sort key %s",
                           bson_iter_key (&k));
            bson_destroy (sort);
            bson_destroy (&keyset);
            bson_destroy (&mopts);
            return NULL;
         }
         odm_index_key ((uint32_t) clause++, &kp, key, sizeof key);
         bson_append_document_begin (&or, kp, -1, &one);
         bson_iter_init (&prev, sort);
         while (bson_iter_next (&prev) && strcmp (bson_iter_key (&prev), bson_iter_key (&k)) != 0) {
            bson_iter_t pv;
            bson_iter_init_find (&pv, opts->after, bson_iter_key (&prev));
            bson_append_iter (&one, bson_iter_key (&prev), -1, &pv);
         }
         bson_append_document_begin (&one, bson_iter_key (&k), -1, &cmp);
         bson_append_iter (&cmp, bson_iter_as_int64 (&k) < 0 ? "$lt" : "$gt", 3, &v);
         bson_append_document_end (&one, &cmp);
         bson_append_document_end (&or, &one);
      }
      bson_append_array_end (&keyset, &or);
      paged = bson_new ();
      {
         bson_t and;
         BSON_APPEND_ARRAY_BEGIN (paged, "$and", &and);
         BSON_APPEND_DOCUMENT (&and, "0", filter ? filter : &empty);
         BSON_APPEND_DOCUMENT (&and, "1", &keyset);
         bson_append_array_end (paged, &and);
      }
      bson_destroy (&keyset);
      BSON_APPEND_DOCUMENT (&mopts, "sort", sort);
      c_paged_filter = paged;
      c_sort = sort;
   } else if (opts->sort) {
      /* _id breaks ties, so that the order is the same on every page (paging with after) */
      c_sort = bson_copy (opts->sort);
      if (!bson_has_field (c_sort, "_id")) {
         BSON_APPEND_INT32 (c_sort, "_id", 1);
      }
      BSON_APPEND_DOCUMENT (&mopts, "sort", c_sort);
   }
   if (opts->skip > 0) {
      BSON_APPEND_INT64 (&mopts, "skip", opts->skip);
   }
   if (opts->limit > 0) {
      BSON_APPEND_INT64 (&mopts, "limit", opts->limit);
   }
   if (opts->projection) {
      BSON_APPEND_DOCUMENT (&mopts, "projection", opts->projection);
   }
   add_mongoc_opts (&mopts, opts->mongoc_opts);
   odm_session_append (opts->session, &mopts);
   c = bson_malloc0 (sizeof *c);
   c->client = client;
   c->session = opts->session;
   c->schema = schema;
   c->flags = opts->decode_flags;
   c->on_bad_doc = opts->on_bad_doc;
   if (c->on_bad_doc > ODM_BAD_DOC_RAW) {
      c->on_bad_doc = ODM_BAD_DOC_STOP;
   }
   c->coll = odm_client_collection_for (client, c->session, schema, &c->mc);
   c->sort = c_sort;
   c->projection = opts->projection ? bson_copy (opts->projection) : NULL;
   c->cursor = mongoc_collection_find_with_opts (c->coll, c_paged_filter ? c_paged_filter : filter ? filter : &empty,
                                                 &mopts, opts->read_prefs);
   bson_destroy (c_paged_filter);
   bson_destroy (&mopts);
   bson_destroy (&empty);
   return c;
}

static void
build_after (const bson_t *sort, const bson_t *doc, bson_t *out);

/* How a cursor reads a document into OUT: a decoded struct or a view. CLEAR empties OUT. */
typedef struct {
   bool (*read) (odm_cursor_t *c, const bson_t *doc, void *out, bson_error_t *e);
   void (*clear) (odm_cursor_t *c, void *out);
} cursor_reader_t;

static bool
cursor_next (odm_cursor_t *c, void *out, const cursor_reader_t *r)
{
   const bson_t *doc;
   if (!c || c->failed) {
      if (c && out) {
         r->clear (c, out);
      }
      return false;
   }
   r->clear (c, out);
   c->current_bad = false;
   for (;;) {
      bson_error_t e;
      if (!mongoc_cursor_next (c->cursor, &doc)) {
         c->current = NULL;
         if (mongoc_cursor_error (c->cursor, &c->error)) {
            c->failed = true;
         }
         return false;
      }
      c->current = doc;
      if (c->sort) {
         bson_t tmp;
         bson_destroy (c->last_after);
         c->last_after = bson_new ();
         build_after (c->sort, doc, &tmp);
         bson_concat (c->last_after, &tmp);
         bson_destroy (&tmp);
      }
      if (r->read (c, doc, out, &e)) {
         return true;
      }
      r->clear (c, out); /* the read left it empty */
      switch (c->on_bad_doc) {
      case ODM_BAD_DOC_RAW:
         c->current_bad = true;
         c->current_error = e;
         return true;
      case ODM_BAD_DOC_SKIP: {
         bson_iter_t it;
         odm_skipped_t *sk;
         if (c->nskipped == c->skipped_cap) {
            c->skipped_cap = c->skipped_cap ? c->skipped_cap * 2 : 8;
            c->skipped = bson_realloc (c->skipped, c->skipped_cap * sizeof *c->skipped);
         }
         sk = &c->skipped[c->nskipped++];
         memset (sk, 0, sizeof *sk);
         sk->id.value_type = BSON_TYPE_EOD;
         if (bson_iter_init_find (&it, doc, "_id")) {
            bson_value_copy (bson_iter_value (&it), &sk->id);
         }
         sk->error = e;
         continue;
      }
      case ODM_BAD_DOC_STOP:
      default:
         c->error = e;
         c->failed = true;
         c->current = NULL;
         return false;
      }
   }
}

static bool
read_struct (odm_cursor_t *c, const bson_t *doc, void *out, bson_error_t *e)
{
   if (!odm_from_bson (c->schema, doc, out, c->flags, e)) {
      return false;
   }
   if (c->projection) {
      /* the struct says what it left out (odm_field_loaded) */
      bson_t **extra = ODM_AT (out, c->schema->root->extra);
      if (!*extra) {
         *extra = bson_new ();
      }
      BSON_APPEND_DOCUMENT (*extra, ODM_PROJECTION_KEY, c->projection);
   }
   return true;
}

static void
clear_struct (odm_cursor_t *c, void *out)
{
   memset (out, 0, c->schema->root->size);
}

bool
odm_cursor_next (odm_cursor_t *c, void *out)
{
   static const cursor_reader_t r = {read_struct, clear_struct};
   return cursor_next (c, out, &r);
}

static bool
read_view (odm_cursor_t *c, const bson_t *doc, void *out, bson_error_t *e)
{
   return odm_view_init_bson (out, c->schema, doc, c->flags, e);
}

static void
clear_view (odm_cursor_t *c, void *out)
{
   odm_view_init (out, c->schema, NULL, 0, 0, NULL); /* empty: every field absent */
}

bool
odm_cursor_next_view (odm_cursor_t *c, odm_view_t *view)
{
   static const cursor_reader_t r = {read_view, clear_view};
   if (!view) {
      return false;
   }
   return cursor_next (c, view, &r);
}

const bson_t *
odm_cursor_current (const odm_cursor_t *c)
{
   return c ? c->current : NULL;
}

bool
odm_cursor_current_bad (const odm_cursor_t *c, bson_error_t *error)
{
   if (c && c->current && c->current_bad) {
      if (error) {
         *error = c->current_error;
      }
      return true;
   }
   return false;
}

/* The sort-key values (and _id) of DOC into OUT (initialised here). */
static void
build_after (const bson_t *sort, const bson_t *doc, bson_t *out)
{
   bson_iter_t k, v;
   bson_init (out);
   if (sort && bson_iter_init (&k, sort)) {
      while (bson_iter_next (&k)) {
         bson_iter_t root;
         if (bson_iter_init (&root, doc) && bson_iter_find_descendant (&root, bson_iter_key (&k), &v)) {
            bson_append_iter (out, bson_iter_key (&k), -1, &v);
         } else {
            bson_append_null (out, bson_iter_key (&k), -1);
         }
      }
   }
   if (!bson_has_field (out, "_id") && bson_iter_init_find (&v, doc, "_id")) {
      bson_append_iter (out, "_id", 3, &v);
   }
}

bool
odm_cursor_after (const odm_cursor_t *c, bson_t *out)
{
   if (!out) {
      return false;
   }
   if (!c || !c->last_after) {
      bson_init (out);
      return false;
   }
   bson_copy_to (c->last_after, out);
   return true;
}

const odm_skipped_t *
odm_cursor_skipped (const odm_cursor_t *c, size_t *n)
{
   if (n) {
      *n = c ? c->nskipped : 0;
   }
   return c ? c->skipped : NULL;
}

bool
odm_cursor_error (const odm_cursor_t *c, bson_error_t *error)
{
   if (c && c->failed && error) {
      memcpy (error, &c->error, sizeof *error);
   }
   return c && c->failed;
}

void
odm_cursor_destroy (odm_cursor_t *c)
{
   if (!c) {
      return;
   }
   mongoc_cursor_destroy (c->cursor);
   odm_client_release_for (c->client, c->session, c->coll, c->mc);
   for (size_t i = 0; i < c->nskipped; i++) {
      if (c->skipped[i].id.value_type != BSON_TYPE_EOD) {
         bson_value_destroy (&c->skipped[i].id);
      }
   }
   bson_free (c->skipped);
   bson_destroy (c->sort);
   bson_destroy (c->last_after);
   bson_destroy (c->projection);
   bson_free (c);
}

bool
odm_find_one (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, void *out, bool *found,
              bson_error_t *error)
{
   return odm_find_one_with_opts (client, schema, filter, NULL, out, found, error);
}

bool
odm_find_one_with_opts (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                        const odm_find_opts_t *opts, void *out, bool *found, bson_error_t *error)
{
   odm_find_opts_t fo;
   odm_cursor_t *c;
   bool got, ok;

   if (found) {
      *found = false;
   }
   if (out && schema && schema->magic == ODM_SCHEMA_MAGIC) {
      memset (out, 0, schema->root->size);
   }
   if (!odm_opts_load (&fo, sizeof fo, opts, ODM_FIND_OPTS_MIN, "odm_find_opts_t", error)) {
      return false;
   }
   fo.limit = 1;
   if (!(c = odm_find (client, schema, filter, &fo, error))) {
      return false;
   }
   got = odm_cursor_next (c, out);
   ok = !odm_cursor_error (c, error);
   odm_cursor_destroy (c);
   if (found) {
      *found = got;
   }
   return ok;
}

bool
odm_find_by_id (odm_client_t *client, const odm_schema_t *schema, const bson_oid_t *id, void *out, bool *found,
                bson_error_t *error)
{
   bson_t filter = BSON_INITIALIZER;
   bool ok;
   if (!id) {
      if (found) {
         *found = false;
      }
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "id is NULL");
      return false;
   }
   BSON_APPEND_OID (&filter, "_id", id);
   ok = odm_find_one (client, schema, &filter, out, found, error);
   bson_destroy (&filter);
   return ok;
}

bool
odm_count (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, int64_t *count,
           bson_error_t *error)
{
   return odm_count_with_opts (client, schema, filter, NULL, count, error);
}

bool
odm_count_with_opts (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                     const odm_find_opts_t *opts_in, int64_t *count, bson_error_t *error)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   odm_find_opts_t o;
   bson_t empty = BSON_INITIALIZER, copts = BSON_INITIALIZER;
   int64_t n;
   if (count) {
      *count = 0;
   }
   if (!odm_opts_load (&o, sizeof o, opts_in, ODM_FIND_OPTS_MIN, "odm_find_opts_t", error) ||
       !odm_check_client_args (client, schema, error) || !odm_check_session (client, o.session, o.mongoc_opts, error) ||
       !check_filter_opt (o.checked_filter, schema, filter, error)) {
      return false;
   }
   if (o.skip > 0) {
      BSON_APPEND_INT64 (&copts, "skip", o.skip);
   }
   if (o.limit > 0) {
      BSON_APPEND_INT64 (&copts, "limit", o.limit);
   }
   add_mongoc_opts (&copts, o.mongoc_opts);
   odm_session_append (o.session, &copts);
   coll = odm_client_collection_for (client, o.session, schema, &mc);
   n = mongoc_collection_count_documents (coll, filter ? filter : &empty, &copts, o.read_prefs, NULL, error);
   odm_client_release_for (client, o.session, coll, mc);
   bson_destroy (&copts);
   if (count) {
      *count = n < 0 ? 0 : n;
   }
   return n >= 0;
}

/* ------------------------------------------------------------------ projections */

static bool
under (const char *path, const char *prefix)
{
   size_t n = strlen (prefix);
   return !strncmp (path, prefix, n) && (path[n] == '\0' || path[n] == '.');
}

odm_loaded_t
odm_field_loaded (const odm_schema_t *schema, const void *doc, const char *path)
{
   bson_t *const *extra;
   bson_iter_t it, p;
   bson_t proj;
   const uint8_t *data;
   uint32_t len;
   int include = -1;
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !doc || !path) {
      return ODM_LOADED;
   }
   extra = ODM_AT_CONST (doc, schema->root->extra);
   if (!*extra || !bson_iter_init_find (&it, *extra, ODM_PROJECTION_KEY) || !BSON_ITER_HOLDS_DOCUMENT (&it)) {
      return ODM_LOADED;
   }
   bson_iter_document (&it, &len, &data);
   if (!bson_init_static (&proj, data, len) || !bson_iter_init (&p, &proj)) {
      return ODM_LOADED;
   }
   /* the style: any non-_id key with a true value includes */
   while (bson_iter_next (&p)) {
      if (strcmp (bson_iter_key (&p), "_id") != 0 && !BSON_ITER_HOLDS_DOCUMENT (&p)) {
         include = bson_iter_as_bool (&p) ? 1 : 0;
      }
   }
   if (under (path, "_id")) {
      return bson_iter_init_find (&p, &proj, "_id") && !BSON_ITER_HOLDS_DOCUMENT (&p) && !bson_iter_as_bool (&p)
                ? ODM_NOT_LOADED
                : ODM_LOADED;
   }
   bson_iter_init (&p, &proj);
   if (include == 1) {
      odm_loaded_t r = ODM_NOT_LOADED;
      while (bson_iter_next (&p)) {
         const char *k = bson_iter_key (&p);
         if (!strcmp (k, "_id") || (!BSON_ITER_HOLDS_DOCUMENT (&p) && !bson_iter_as_bool (&p))) {
            continue;
         }
         if (under (path, k)) {
            return BSON_ITER_HOLDS_DOCUMENT (&p) ? ODM_PARTLY_LOADED : ODM_LOADED; /* $slice, $elemMatch */
         }
         if (under (k, path)) {
            r = ODM_PARTLY_LOADED;
         }
      }
      return r;
   }
   {
      odm_loaded_t r = ODM_LOADED;
      while (bson_iter_next (&p)) {
         const char *k = bson_iter_key (&p);
         bool excluded = BSON_ITER_HOLDS_DOCUMENT (&p) || !bson_iter_as_bool (&p);
         if (!excluded || !strcmp (k, "_id")) {
            continue;
         }
         if (under (path, k)) {
            return BSON_ITER_HOLDS_DOCUMENT (&p) ? ODM_PARTLY_LOADED : ODM_NOT_LOADED;
         }
         if (under (k, path)) {
            r = ODM_PARTLY_LOADED;
         }
      }
      return r;
   }
}

/* ------------------------------------------------------------------ save */

/* The stored document's top-level fields as an equality filter: a write conditioned on it
 * only happens if nobody changed the document since it was read. */
void
odm_conditional_filter (const bson_t *stored, bson_t *filter)
{
   bson_iter_t it;
   bson_init (filter);
   bson_iter_init (&it, stored);
   while (bson_iter_next (&it)) {
      bson_t eq;
      bson_append_document_begin (filter, bson_iter_key (&it), -1, &eq);
      bson_append_iter (&eq, "$eq", 3, &it);
      bson_append_document_end (filter, &eq);
   }
}

/* Reads the stored document with ID as BSON (NULL when absent). */
static bool
read_raw (mongoc_collection_t *coll, const odm_session_t *session, const bson_t *filter, bson_t **out,
          bson_error_t *error)
{
   bson_t opts = BSON_INITIALIZER;
   mongoc_cursor_t *cur;
   const bson_t *doc;
   bool ok;
   BSON_APPEND_INT32 (&opts, "limit", 1);
   odm_session_append (session, &opts);
   cur = mongoc_collection_find_with_opts (coll, filter, &opts, NULL);
   *out = NULL;
   if (mongoc_cursor_next (cur, &doc)) {
      *out = bson_copy (doc);
   }
   ok = !mongoc_cursor_error (cur, error);
   mongoc_cursor_destroy (cur);
   bson_destroy (&opts);
   return ok;
}

bool
odm_save (odm_client_t *client, const odm_schema_t *schema, void *doc, const odm_write_opts_t *opts_in,
          odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   odm_violations_t *v = violations ? violations : &local;
   odm_write_opts_t o, *opts = &o;
   const bson_oid_t *id;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   bson_t filter = BSON_INITIALIZER, *stored = NULL, enc, reply;
   void *previous = NULL;
   odm_prepare_opts_t po;
   bool ok = false;

   odm_violations_init (v);
   if (!odm_opts_load (&o, sizeof o, opts_in, ODM_WRITE_OPTS_MIN, "odm_write_opts_t", error) ||
       !odm_check_client_args (client, schema, error) || !odm_check_session (client, o.session, o.mongoc_opts, error)) {
      goto done;
   }
   if (!doc) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "doc is NULL");
      goto done;
   }
   if (*(const uint8_t *) ODM_AT_CONST (doc, schema->root->fields[0].presence) != ODM_PRESENT) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, "_id", "save needs a document with an _id");
      goto done;
   }
   id = ODM_AT_CONST (doc, schema->root->fields[0].offset);
   BSON_APPEND_OID (&filter, "_id", id);
   coll = odm_client_collection_for (client, o.session, schema, &mc);
   if (!read_raw (coll, o.session, &filter, &stored, error)) {
      odm_client_release_for (client, o.session, coll, mc);
      goto done;
   }
   if (!stored) {
      odm_client_release_for (client, o.session, coll, mc);
      odm_set_error (error, ODM_ERROR_NOT_FOUND, NULL, "%s: no document with this _id to save", schema->collection);
      goto done;
   }
   previous = bson_malloc0 (schema->root->size);
   if (!odm_from_bson (schema, stored, previous, 0, NULL)) {
      odm_cleanup (schema, previous);
      bson_free (previous);
      previous = NULL; /* a stored document we cannot read: rules run as without it */
   }
   if (!odm_prepare_encode (schema, doc, prep_opts (&po, true, opts ? opts->now_ms : 0, previous), &enc, v, NULL,
                            error)) {
      bson_destroy (&enc);
      odm_client_release_for (client, o.session, coll, mc);
      goto done;
   }
   {
      /* The guard: the version the caller's document was loaded with (its unknown field
       * __v), or else the one just read; the replacement carries the next version and the
       * stored createdAt (timestamps libodm manages cannot be moved by a save). */
      int64_t loaded = 0, ver = 0; /* set on every path that reads them; GCC -O3 cannot see it */
      bool has_loaded = get_version (&enc, &loaded), has_stored = get_version (stored, &ver);
      bson_t cond = BSON_INITIALIZER, vc;
      uint32_t i;
      if (has_loaded) {
         ver = loaded;
      }
      for (i = 0; i < schema->root->field_count; i++) {
         const odm_field_t *f = &schema->root->fields[i];
         bson_iter_t ct;
         if ((f->flags & ODM_F_CREATED_AT) && bson_iter_init_find (&ct, stored, f->name)) {
            bson_t next = BSON_INITIALIZER;
            bson_iter_t e2;
            bson_iter_init (&e2, &enc);
            while (bson_iter_next (&e2)) {
               if (!strcmp (bson_iter_key (&e2), f->name)) {
                  bson_append_iter (&next, f->name, -1, &ct);
               } else {
                  bson_append_iter (&next, NULL, 0, &e2);
               }
            }
            if (!bson_has_field (&next, f->name)) {
               bson_append_iter (&next, f->name, -1, &ct);
            }
            bson_destroy (&enc);
            bson_steal (&enc, &next);
         }
      }
      BSON_APPEND_OID (&cond, "_id", id);
      BSON_APPEND_DOCUMENT_BEGIN (&cond, ODM_VERSION_KEY, &vc);
      if (has_loaded || has_stored) {
         BSON_APPEND_INT64 (&vc, "$eq", ver);
      } else {
         BSON_APPEND_BOOL (&vc, "$exists", false);
      }
      bson_append_document_end (&cond, &vc);
      set_version (&enc, (has_loaded || has_stored) ? ver + 1 : 1);
      bson_t ropts = BSON_INITIALIZER;
      add_mongoc_opts (&ropts, opts->mongoc_opts);
      odm_session_append (o.session, &ropts);
      ok = mongoc_collection_replace_one (coll, &cond, &enc, &ropts, &reply, error);
      bson_destroy (&ropts);
      bson_destroy (&cond);
      if (!ok) {
         odm_map_duplicate_doc (schema, error, v, coll, &enc);
      } else {
         bson_iter_t it;
         if (bson_iter_init_find (&it, &reply, "matchedCount") && bson_iter_as_int64 (&it) == 0) {
            bson_t sopts = BSON_INITIALIZER;
            int64_t still;
            odm_session_append (o.session, &sopts);
            still = mongoc_collection_count_documents (coll, &filter, &sopts, NULL, NULL, NULL);
            bson_destroy (&sopts);
            if (still > 0) {
               odm_set_error (error, ODM_ERROR_CONFLICT, NULL,
                              "%s: the document changed since it was loaded (version %" PRId64 " is no longer "
                              "the stored one); reload it and save again",
                              schema->collection, ver);
            } else {
               odm_set_error (error, ODM_ERROR_NOT_FOUND, NULL, "%s: the document was deleted while saving",
                              schema->collection);
            }
            ok = false;
         } else {
            odm_hooks_post_save_bson (schema, &enc, true, po.now_ms ? po.now_ms : odm_now_ms ());
            /* the caller's document now holds the stored version */
            bson_t **extra = ODM_AT (doc, schema->root->extra);
            if (*extra || has_loaded) {
               if (!*extra) {
                  *extra = bson_new ();
               }
               bson_t *next = bson_new ();
               int64_t nv = (has_loaded || has_stored) ? ver + 1 : 1;
               bson_copy_to_excluding_noinit (*extra, next, ODM_VERSION_KEY, NULL);
               if (nv <= INT32_MAX) {
                  BSON_APPEND_INT32 (next, ODM_VERSION_KEY, (int32_t) nv);
               } else {
                  BSON_APPEND_INT64 (next, ODM_VERSION_KEY, nv);
               }
               bson_destroy (*extra);
               *extra = next;
            }
         }
      }
   }
   bson_destroy (&reply);
   bson_destroy (&enc);
   odm_client_release_for (client, o.session, coll, mc);
done:
   if (previous) {
      odm_cleanup (schema, previous);
      bson_free (previous);
   }
   bson_destroy (stored);
   bson_destroy (&filter);
   if (v == &local) {
      odm_violations_cleanup (&local);
   }
   return ok;
}

/* ------------------------------------------------------------------ delete */

bool
odm_delete (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, bool multi, int64_t *deleted,
            bson_error_t *error)
{
   odm_delete_opts_t o = ODM_DELETE_OPTS_INIT;
   o.multi = multi;
   return odm_delete_with_opts (client, schema, filter, &o, deleted, error);
}

bool
odm_delete_with_opts (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                      const odm_delete_opts_t *opts_in, int64_t *deleted, bson_error_t *error)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   odm_delete_opts_t o;
   bson_t reply, empty = BSON_INITIALIZER, dopts = BSON_INITIALIZER;
   bool ok;
   if (deleted) {
      *deleted = 0;
   }
   if (!odm_opts_load (&o, sizeof o, opts_in, ODM_DELETE_OPTS_MIN, "odm_delete_opts_t", error) ||
       !odm_check_client_args (client, schema, error) || !odm_check_session (client, o.session, o.mongoc_opts, error) ||
       !check_filter_opt (o.checked_filter, schema, filter, error)) {
      return false;
   }
   add_mongoc_opts (&dopts, o.mongoc_opts);
   odm_session_append (o.session, &dopts);
   coll = odm_client_collection_for (client, o.session, schema, &mc);
   if (o.multi) {
      ok = mongoc_collection_delete_many (coll, filter ? filter : &empty, &dopts, &reply, error);
   } else {
      ok = mongoc_collection_delete_one (coll, filter ? filter : &empty, &dopts, &reply, error);
   }
   bson_destroy (&dopts);
   if (ok && deleted) {
      bson_iter_t it;
      if (bson_iter_init_find (&it, &reply, "deletedCount")) {
         *deleted = bson_iter_as_int64 (&it);
      }
   }
   bson_destroy (&reply);
   odm_client_release_for (client, o.session, coll, mc);
   return ok;
}
