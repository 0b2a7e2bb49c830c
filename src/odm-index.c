/* libodm: index synchronisation. The wanted set is the schema's merged index list (one per
 * key pattern, unique wins) less the indexes that are prefixes of another one: those add
 * write cost and serve no read the longer index does not (seed-notes item 6). */
#include "odm-private.h"

#include <string.h>

bool
odm_index_wanted (const odm_index_t *ix)
{
   return ix && ix->prefix_of < 0;
}

/* Whether key patterns A and B list the same paths in the same order with the same
 * directions (1 and 1.0 are the same direction). */
static bool
same_keys (const bson_t *a, const bson_t *b)
{
   bson_iter_t x, y;
   if (!bson_iter_init (&x, a) || !bson_iter_init (&y, b)) {
      return false;
   }
   for (;;) {
      bool nx = bson_iter_next (&x), ny = bson_iter_next (&y);
      if (nx != ny) {
         return false;
      }
      if (!nx) {
         return true;
      }
      if (strcmp (bson_iter_key (&x), bson_iter_key (&y)) != 0) {
         return false;
      }
      if (BSON_ITER_HOLDS_NUMBER (&x) != BSON_ITER_HOLDS_NUMBER (&y)) {
         return false;
      }
      if (BSON_ITER_HOLDS_NUMBER (&x) && ((bson_iter_as_double (&x) > 0) != (bson_iter_as_double (&y) > 0))) {
         return false;
      }
   }
}

typedef struct {
   char *name;
   bson_t *key; /* a pointer: a bson_t copied into a growing array must not move */
   bool unique;
} live_index_t;

/* One entry of listIndexes as the server sent it: name, key pattern, unique. */
static void
live_from_doc (const bson_t *d, live_index_t *li)
{
   bson_iter_t it;
   memset (li, 0, sizeof *li);
   li->name = odm_utf8_clean (bson_iter_init_find (&it, d, "name") && BSON_ITER_HOLDS_UTF8 (&it) ? bson_iter_utf8 (&it, NULL) : "");
   li->unique = bson_iter_init_find (&it, d, "unique") && bson_iter_as_bool (&it);
   if (bson_iter_init_find (&it, d, "key") && BSON_ITER_HOLDS_DOCUMENT (&it)) {
      const uint8_t *data;
      uint32_t len;
      bson_t tmp;
      bson_iter_document (&it, &len, &data);
      if (bson_init_static (&tmp, data, len)) {
         li->key = bson_copy (&tmp);
         return;
      }
   }
   li->key = bson_new ();
}

/* Lists the live indexes of the collection (none when it does not exist yet). */
static bool
list_live (odm_client_t *client, const odm_schema_t *schema, live_index_t **out, size_t *n, bson_error_t *error)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll = odm_client_collection (client, schema, &mc);
   mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts (coll, NULL);
   const bson_t *d;
   bson_error_t e;
   size_t cap = 0;
   bool ok = true;

   *out = NULL;
   *n = 0;
   while (mongoc_cursor_next (cur, &d)) {
      if (*n == cap) {
         cap = cap ? cap * 2 : 8;
         *out = bson_realloc (*out, cap * sizeof **out);
      }
      live_from_doc (d, &(*out)[(*n)++]);
   }
   if (mongoc_cursor_error (cur, &e)) {
      /* 26 NamespaceNotFound: no collection yet, so no index. */
      if (!odm_server_error_is (&e, 26) &&
          !(e.domain == MONGOC_ERROR_SERVER && (strstr (e.message, "ns does not exist") || strstr (e.message, "not found")))) {
         memcpy (error, &e, sizeof e);
         ok = false;
      }
   }
   mongoc_cursor_destroy (cur);
   odm_client_release (client, coll, mc);
   return ok;
}

static void
free_live (live_index_t *li, size_t n)
{
   size_t i;
   for (i = 0; i < n; i++) {
      bson_free (li[i].name);
      bson_destroy (li[i].key);
   }
   bson_free (li);
}

/* The key pattern as the generator wrote it in BSON: read in place, nothing parsed or
 * allocated (odm_index_keys, odm-private.h). */
static bson_t *
wanted_keys (const odm_index_t *ix, bson_t *storage)
{
   return odm_index_keys (ix, storage) ? storage : NULL;
}

bool
odm_indexes_ensure (odm_client_t *client, const odm_schema_t *schema, int *created, bson_error_t *error)
{
   live_index_t *live;
   size_t n, j;
   uint32_t i;
   bson_t cmd = BSON_INITIALIZER, arr;
   int count = 0;
   bool ok;

   if (created) {
      *created = 0;
   }
   if (!client || !schema) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client or schema is NULL");
      return false;
   }
   if (!list_live (client, schema, &live, &n, error)) {
      return false;
   }
   BSON_APPEND_UTF8 (&cmd, "createIndexes", schema->collection);
   BSON_APPEND_ARRAY_BEGIN (&cmd, "indexes", &arr);
   for (i = 0; i < schema->index_count; i++) {
      const odm_index_t *ix = &schema->indexes[i];
      bson_t *keys, storage;
      bool present = false;
      if (!odm_index_wanted (ix)) {
         continue;
      }
      keys = wanted_keys (ix, &storage);
      for (j = 0; j < n && !present; j++) {
         present = same_keys (keys, live[j].key);
      }
      if (!present) {
         char k[16];
         bson_t spec;
         bson_snprintf (k, sizeof k, "%d", count++);
         BSON_APPEND_DOCUMENT_BEGIN (&arr, k, &spec);
         BSON_APPEND_DOCUMENT (&spec, "key", keys);
         BSON_APPEND_UTF8 (&spec, "name", ix->name);
         if (ix->unique) {
            BSON_APPEND_BOOL (&spec, "unique", true);
         }
         bson_append_document_end (&arr, &spec);
      }
      bson_destroy (keys);
   }
   bson_append_array_end (&cmd, &arr);
   free_live (live, n);
   ok = true;
   if (count > 0) {
      mongoc_client_t *mc = mongoc_client_pool_pop (odm_client_pool (client));
      ok = mongoc_client_write_command_with_opts (mc, odm_client_db_name (client), &cmd, NULL, NULL, error);
      mongoc_client_pool_push (odm_client_pool (client), mc);
   }
   bson_destroy (&cmd);
   if (ok && created) {
      *created = count;
   }
   return ok;
}

/* The comparison half of odm_indexes_diff: LIVE as listed by the server. */
static void
diff_live (const odm_schema_t *schema, const live_index_t *live, size_t n, odm_violations_t *out)
{
   size_t j;
   uint32_t i;
   bool *matched;

   matched = bson_malloc0 ((n ? n : 1) * sizeof *matched);
   for (i = 0; i < schema->index_count; i++) {
      const odm_index_t *ix = &schema->indexes[i];
      bson_t *keys, storage;
      bool found = false;
      if (!odm_index_wanted (ix)) {
         /* Declared, but served by the longer index libodm creates in its place. Mongoose
          * creates it: on a collection Mongoose indexed, it is there and is not drift. */
         keys = wanted_keys (ix, &storage);
         for (j = 0; j < n; j++) {
            if (!matched[j] && same_keys (keys, live[j].key)) {
               char msg[400];
               matched[j] = true;
               bson_snprintf (msg, sizeof msg,
                              "%s %s is on the server: the spec declares it, merged into %s (a prefix of it), "
                              "which libodm creates in its place; not drift",
                              live[j].name, ix->keys_json, schema->indexes[ix->prefix_of].name);
               odm_violations_add (out, live[j].name, "declared", msg);
               break;
            }
         }
         bson_destroy (keys);
         continue;
      }
      keys = wanted_keys (ix, &storage);
      for (j = 0; j < n && !found; j++) {
         if (same_keys (keys, live[j].key)) {
            char msg[300];
            found = matched[j] = true;
            if (live[j].unique != ix->unique) {
               bson_snprintf (msg, sizeof msg, "%s %s is%s unique on the server, the spec says it is%s", ix->name,
                              ix->keys_json, live[j].unique ? "" : " not", ix->unique ? "" : " not");
               odm_violations_add (out, ix->name, "differs", msg);
            } else if (strcmp (live[j].name, ix->name) != 0) {
               bson_snprintf (msg, sizeof msg, "%s is named %s on the server", ix->name, live[j].name);
               odm_violations_add (out, ix->name, "differs", msg);
            }
         }
      }
      if (!found) {
         char msg[300];
         bson_snprintf (msg, sizeof msg, "%s %s%s is not on the server", ix->name, ix->keys_json,
                        ix->unique ? " (unique)" : "");
         odm_violations_add (out, ix->name, "missing", msg);
      }
      bson_destroy (keys);
   }
   for (j = 0; j < n; j++) {
      if (!matched[j] && strcmp (live[j].name, "_id_") != 0) {
         char *k = bson_as_relaxed_extended_json (live[j].key, NULL);
         char msg[300];
         bson_snprintf (msg, sizeof msg, "%s %s is on the server but not in the spec", live[j].name,
                        k ? k : "(a key pattern that cannot be written as JSON)");
         odm_violations_add (out, live[j].name, "extra", msg);
         bson_free (k);
      }
   }
   bson_free (matched);
}

bool
odm_indexes_diff (odm_client_t *client, const odm_schema_t *schema, odm_violations_t *out, bson_error_t *error)
{
   live_index_t *live;
   size_t n;

   odm_violations_init (out);
   if (!client || !schema) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client or schema is NULL");
      return false;
   }
   if (!list_live (client, schema, &live, &n, error)) {
      return false;
   }
   diff_live (schema, live, n, out);
   free_live (live, n);
   return true;
}

size_t
odm_indexes_drift (const odm_violations_t *diff)
{
   size_t i, n = 0;
   for (i = 0; diff && i < diff->count; i++) {
      n += strcmp (diff->items[i].rule, "declared") != 0;
   }
   return n;
}

void
odm_indexes_diff_listed (const odm_schema_t *schema, const bson_t *listed, odm_violations_t *out)
{
   live_index_t *live = NULL;
   size_t n = 0, cap = 0;
   bson_iter_t it;

   odm_violations_init (out);
   if (!schema || !listed || !bson_iter_init (&it, listed)) {
      return;
   }
   while (bson_iter_next (&it)) {
      const uint8_t *data;
      uint32_t len;
      bson_t d;
      if (!BSON_ITER_HOLDS_DOCUMENT (&it)) {
         continue;
      }
      bson_iter_document (&it, &len, &data);
      if (!bson_init_static (&d, data, len)) {
         continue;
      }
      if (n == cap) {
         cap = cap ? cap * 2 : 8;
         live = bson_realloc (live, cap * sizeof *live);
      }
      live_from_doc (&d, &live[n++]);
   }
   diff_live (schema, live, n, out);
   free_live (live, n);
}

void
odm_indexes_lint (const odm_schema_t *schema, odm_violations_t *out)
{
   uint32_t i;
   odm_violations_init (out);
   if (!schema) {
      return;
   }
   for (i = 0; i < schema->index_count; i++) {
      const odm_index_t *ix = &schema->indexes[i];
      char msg[400];
      if (ix->declared > 1) {
         bson_snprintf (msg, sizeof msg, "%s %s is declared %u times (%u unique); merged into one%s index",
                        ix->name, ix->keys_json, ix->declared, ix->declared_unique, ix->unique ? " unique" : "");
         odm_violations_add (out, ix->name, "duplicate", msg);
      }
      if (ix->prefix_of >= 0) {
         bson_snprintf (msg, sizeof msg, "%s is a prefix of %s: it serves no read the longer index does not, and "
                                         "costs every write; not created",
                        ix->name, schema->indexes[ix->prefix_of].name);
         odm_violations_add (out, ix->name, "prefix", msg);
      }
   }
}
