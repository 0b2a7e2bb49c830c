/* Codec tests: every collection's full and minimal fixture round-trips byte-identical
 * through the generated tables; strict typing with full paths; unknown fields kept;
 * failed decodes leave nothing behind. */
#include "same-ids.h"
#include "test-util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

/* Every path of D is present in OBJ: scalars set, arrays non-empty, each element complete. */
static void
assert_all_present (const odm_object_desc_t *d, const void *obj, const char *coll, const char *path)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      char sub[512];
      snprintf (sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->name);
      ck_assert_msg (odm_field_state (f, obj) == ODM_PRESENT, "%s.full.json: %s is not set", coll, sub);
      if (f->flags & ODM_F_ARRAY) {
         size_t n, k;
         const char *items = odm_field_array (f, obj, &n);
         ck_assert_msg (n > 0, "%s.full.json: array %s is empty", coll, sub);
         for (k = 0; k < n && f->kind == ODM_KIND_OBJECT; k++) {
            assert_all_present (f->object, items + k * f->elem_size, coll, sub);
         }
      } else if (f->kind == ODM_KIND_OBJECT) {
         assert_all_present (f->object, odm_field_value (f, obj), coll, sub);
      }
   }
}

/* Exactly the required paths (and _id) of D are present in OBJ. */
static void
assert_only_required (const odm_object_desc_t *d, const void *obj, const char *coll, const char *path)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t st = odm_field_state (f, obj);
      char sub[512];
      snprintf (sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->name);
      if (f->kind == ODM_KIND_OBJECT && !(f->flags & ODM_F_ARRAY)) {
         assert_only_required (f->object, odm_field_value (f, obj), coll, sub);
      } else if ((f->flags & (ODM_F_REQUIRED | ODM_F_AUTO_ID))) {
         ck_assert_msg (st == ODM_PRESENT, "%s.min.json: required %s is missing", coll, sub);
      } else {
         ck_assert_msg (st == ODM_ABSENT, "%s.min.json: optional %s is set", coll, sub);
      }
   }
}

static void
assert_same_bson (const bson_t *a, const bson_t *b, const char *what)
{
   if (a->len != b->len || memcmp (bson_get_data (a), bson_get_data (b), a->len) != 0) {
      char *ja = bson_as_canonical_extended_json (a, NULL);
      char *jb = bson_as_canonical_extended_json (b, NULL);
      ck_abort_msg ("%s: BSON differs\n expected %s\n      got %s", what, ja, jb);
   }
}

/* File -> BSON -> struct -> BSON -> struct -> BSON, all byte-identical to the file. */
static void
roundtrip_fixture (const odm_schema_t *s, const char *variant)
{
   char name[256];
   bson_t *in, out1, out2;
   bson_error_t err;
   odm_violations_t v;
   void *doc = bson_malloc0 (s->root->size);
   void *doc2 = bson_malloc0 (s->root->size);

   snprintf (name, sizeof name, "%s.%s.json", s->collection, variant);
   in = odm_test_load_json (name);
   ck_assert_msg (in != NULL, "fixture tests/data/%s is missing", name);
   ck_assert_msg (odm_from_bson (s, in, doc, ODM_DECODE_STRICT, &err), "%s: %s", name, err.message);
   if (strcmp (variant, "full") == 0) {
      assert_all_present (s->root, doc, s->collection, "");
   } else {
      assert_only_required (s->root, doc, s->collection, "");
   }
   ck_assert_msg (odm_to_bson (s, doc, &out1, &err), "%s: %s", name, err.message);
   assert_same_bson (in, &out1, name);
   ck_assert_msg (odm_from_bson (s, &out1, doc2, ODM_DECODE_STRICT, &err), "%s: %s", name, err.message);
   ck_assert (odm_to_bson (s, doc2, &out2, &err));
   assert_same_bson (in, &out2, name);

   /* The fixtures are valid documents. */
   if (!odm_validate (s, doc, NULL, &v)) {
      odm_test_print_violations (name, &v);
   }
   ck_assert_msg (v.count == 0, "%s: %zu violations, first %s: %s", name, v.count, v.items[0].path,
                  v.items[0].message);
   odm_violations_cleanup (&v);

   bson_destroy (&out1);
   bson_destroy (&out2);
   bson_destroy (in);
   odm_cleanup (s, doc);
   odm_cleanup (s, doc2);
   bson_free (doc);
   bson_free (doc2);
}

START_TEST (test_roundtrip_full)
{
   size_t n;
   const odm_schema_t *const *all = odm_schemas (&n);
   roundtrip_fixture (all[_i], "full");
}
END_TEST

START_TEST (test_roundtrip_min)
{
   size_t n;
   const odm_schema_t *const *all = odm_schemas (&n);
   roundtrip_fixture (all[_i], "min");
}
END_TEST

/* A document past the encoder's scratch buffer (64 KB) is sized and written straight into
 * its output: every collection's full fixture, padded by an unknown field to sizes around
 * that limit and to 1 MB, encodes to the input's bytes; so does a mixed value that crosses
 * the limit inside it (transactions.metadata, sized by libbson's writer). */
START_TEST (test_encode_large_documents)
{
   size_t n;
   const odm_schema_t *s = odm_schemas (&n)[_i];
   char name[256];
   bson_t *fixture;
   size_t pad, base, i;
   char *text = bson_malloc (1200000);

   memset (text, 'p', 1200000);
   snprintf (name, sizeof name, "%s.full.json", s->collection);
   fixture = odm_test_load_json (name);
   ck_assert (fixture != NULL);
   base = fixture->len + 1 + 4 + 4 + 1; /* the padding field's type byte, key "zpad", length, NUL */
   for (i = 0; i <= 47; i++) { /* 47 sizes across the limit, 13 bytes apart; then 1 MB */
      bson_t *in = bson_copy (fixture), out;
      void *doc = bson_malloc0 (s->root->size);
      bson_error_t err;
      pad = i < 47 ? 65536 - base - 300 + 13 * i : 1048576 - base;
      text[pad] = '\0';
      bson_append_utf8 (in, "zpad", 4, text, (int) pad);
      text[pad] = 'p';
      ck_assert_msg (odm_from_bson (s, in, doc, ODM_DECODE_DEFAULT, &err), "%s: %s", name, err.message);
      ck_assert_msg (odm_to_bson (s, doc, &out, &err), "%s, %u bytes: %s", name, in->len, err.message);
      assert_same_bson (in, &out, name);
      bson_destroy (&out);
      bson_destroy (in);
      odm_cleanup (s, doc);
      bson_free (doc);
   }
   if (strcmp (s->collection, "transactions") == 0) {
      /* metadata (mixed) holds a document with a string that crosses the limit */
      bson_t *in = bson_new (), meta, out;
      bson_iter_t it;
      void *doc = bson_malloc0 (s->root->size);
      bson_error_t err;
      ck_assert (bson_iter_init (&it, fixture));
      while (bson_iter_next (&it)) {
         if (strcmp (bson_iter_key (&it), "metadata") == 0) {
            bson_append_document_begin (in, "metadata", 8, &meta);
            text[100000] = '\0';
            bson_append_utf8 (&meta, "note", 4, text, 100000);
            text[100000] = 'p';
            bson_append_document_end (in, &meta);
         } else {
            bson_append_iter (in, NULL, 0, &it);
         }
      }
      ck_assert_msg (odm_from_bson (s, in, doc, ODM_DECODE_STRICT, &err), "%s", err.message);
      ck_assert_msg (odm_to_bson (s, doc, &out, &err), "%s", err.message);
      assert_same_bson (in, &out, "transactions with a large metadata");
      bson_destroy (&out);
      bson_destroy (in);
      odm_cleanup (s, doc);
      bson_free (doc);
   }
   bson_destroy (fixture);
   bson_free (text);
}
END_TEST

/* Keys are matched to field names byte for byte, whatever path the match takes (generated
 * names are padded and compared 16 bytes at a time when the key has 16 readable bytes after
 * it): for every top-level field of every collection, a key one byte off the name (in its
 * first, middle or last byte), a prefix of it and the name with a byte more are unknown
 * fields to decode and to a view, at the start of the document and at its very end. (The
 * names themselves matching is what every fixture's round trip and view read show.) */
START_TEST (test_key_matching_exact)
{
   size_t n;
   const odm_schema_t *s = odm_schemas (&n)[_i];
   const odm_object_desc_t *d = s->root;
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      char key[64];
      int variant, at_end;
      if (f->name_len + 2 > sizeof key) {
         continue;
      }
      for (variant = 0; variant < 5; variant++) {
         uint32_t kl = f->name_len;
         memcpy (key, f->name, kl);
         switch (variant) {
         case 0: key[0] ^= 0x01; break;
         case 1: key[kl / 2] ^= 0x20; break;
         case 2: key[kl - 1] ^= 0x01; break;
         case 3: kl--; break;
         case 4: key[kl++] = 'x'; break;
         }
         key[kl] = '\0';
         if (kl == 0 || key[0] == '$' || memchr (key, '.', kl) || !strcmp (key, "__v")) { /* the version key: kept by strict decodes too */
            continue;
         }
         for (at_end = 0; at_end < 2; at_end++) {
            bson_t *in = bson_new ();
            void *doc = bson_malloc0 (d->size);
            bson_t **extra = (bson_t **) ((char *) doc + d->extra);
            bson_error_t err;
            odm_view_t view;
            bson_append_int32 (in, key, (int) kl, 7);
            if (!at_end) { /* an unknown number: the view's fast walk takes it */
               bson_append_int32 (in, "zzzzzzzzzzzzzzzzzzzz", -1, 8);
            }
            ck_assert_msg (odm_view_init_bson (&view, s, in, ODM_DECODE_DEFAULT, &err), "%s: %s", key, err.message);
            ck_assert_msg (odm_view_state (&view, i) == ODM_ABSENT, "%s.%s: the view read key \"%s\" as the field",
                           s->collection, f->name, key);
            ck_assert_msg (odm_from_bson (s, in, doc, ODM_DECODE_DEFAULT, &err), "%s: %s", key, err.message);
            ck_assert_msg (odm_field_state (f, doc) == ODM_ABSENT, "%s.%s: key \"%s\" read as the field",
                           s->collection, f->name, key);
            ck_assert_msg (*extra && bson_has_field (*extra, key), "%s: key \"%s\" not kept", s->collection, key);
            odm_cleanup (s, doc);
            ck_assert (!odm_from_bson (s, in, doc, ODM_DECODE_STRICT, &err));
            ck_assert_uint_eq (err.code, ODM_ERROR_UNKNOWN_FIELD);
            odm_cleanup (s, doc);
            bson_free (doc);
            bson_destroy (in);
         }
      }
   }
}
END_TEST

START_TEST (test_wrong_type_names_path)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t *b = BCON_NEW ("sessionId", "s1", "settings", "{", "temperature", BCON_UTF8 ("hot"), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.domain, ODM_ERROR_DOMAIN);
   ck_assert_uint_eq (err.code, ODM_ERROR_TYPE);
   ck_assert_str_eq (err.message, "settings.temperature: expected number, got string");
   /* A failed decode leaves the struct empty. */
   ck_assert_ptr_null (s.sessionId);
   ck_assert_uint_eq (s.has_sessionId, ODM_ABSENT);
   bson_destroy (b);

   b = BCON_NEW ("tags", "[", "a", BCON_INT32 (3), "]");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (err.message, "tags.1: expected string, got int");
   bson_destroy (b);

   b = BCON_NEW ("userId", "not-an-id");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (err.message, "userId: expected objectId, got string");
   bson_destroy (b);

   b = BCON_NEW ("stats", BCON_INT32 (1));
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (err.message, "stats: expected object, got int");
   bson_destroy (b);
}
END_TEST

START_TEST (test_decode_error_as_violation)
{
   odm_chat_session_t s;
   bson_error_t err;
   odm_violations_t v;
   bson_t *b = BCON_NEW ("settings", "{", "temperature", BCON_UTF8 ("hot"), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   odm_violations_init (&v);
   odm_violations_add_error (&v, &err);
   ck_assert_uint_eq (v.count, 1);
   ck_assert_str_eq (v.items[0].path, "settings.temperature");
   ck_assert_str_eq (v.items[0].rule, "type");
   ck_assert_str_eq (v.items[0].message, "expected number, got string");
   odm_violations_cleanup (&v);
   bson_destroy (b);
   /* A whole-input error has no path. */
   {
      uint8_t bad[] = {0x0c, 0, 0, 0, 0x02, 'a', 0, 0xff, 0xff, 0xff, 0x7f, 0};
      bson_t corrupt;
      odm_chat_session_t t;
      ck_assert (bson_init_static (&corrupt, bad, sizeof bad));
      ck_assert (!odm_chat_session_from_bson (&corrupt, &t, 0, &err));
      odm_violations_init (&v);
      odm_violations_add_error (&v, &err);
      ck_assert_str_eq (v.items[0].path, "");
      ck_assert_str_eq (v.items[0].rule, "bson");
      odm_violations_cleanup (&v);
   }
}
END_TEST

START_TEST (test_failed_decode_frees_partial)
{
   /* Strings and arrays decoded before the error must be released (ASan/valgrind check). */
   odm_chat_session_t s;
   bson_error_t err;
   bson_t *b = BCON_NEW ("sessionId", "s1", "name", "n", "tags", "[", "a", "b", "]", "settings", "{", "mode",
                         "fast", "maxTokens", BCON_BOOL (true), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (err.message, "settings.maxTokens: expected number, got bool");
   ck_assert_ptr_null (s.tags.items);
   ck_assert_ptr_null (s.settings.mode);
   bson_destroy (b);
}
END_TEST

START_TEST (test_unknown_fields_kept)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t out, *expected;
   bson_t *b = BCON_NEW ("sessionId", "s1", "legacy", BCON_INT32 (7), "settings", "{", "mode", "fast", "x", "y",
                         "}", "__v", BCON_INT32 (0));
   ck_assert (odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (s.settings.mode, "fast");
   ck_assert (odm_chat_session_to_bson (&s, &out, &err));
   /* Known fields in spec order, then unknown ones in input order, at each level. */
   expected = BCON_NEW ("sessionId", "s1", "settings", "{", "mode", "fast", "x", "y", "}", "legacy", BCON_INT32 (7),
                        "__v", BCON_INT32 (0));
   ck_assert (bson_equal (&out, expected));
   bson_destroy (&out);
   bson_destroy (expected);
   odm_chat_session_cleanup (&s);

   ck_assert (!odm_chat_session_from_bson (b, &s, ODM_DECODE_STRICT, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_UNKNOWN_FIELD);
   ck_assert_str_eq (err.message, "legacy: field is not in the schema of odm_chat_session_t");
   bson_destroy (b);
}
END_TEST

START_TEST (test_null_and_empty_roundtrip)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t out;
   bson_t *b = BCON_NEW ("description", BCON_NULL, "tags", "[", "]", "settings", "{", "}", "stats", BCON_NULL);
   ck_assert (odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (s.has_description, ODM_NULL);
   ck_assert_uint_eq (s.has_tags, ODM_PRESENT);
   ck_assert_uint_eq (s.tags.count, 0);
   ck_assert (odm_chat_session_to_bson (&s, &out, &err));
   ck_assert (bson_equal (&out, b));
   bson_destroy (&out);
   odm_chat_session_cleanup (&s);
   bson_destroy (b);
}
END_TEST

START_TEST (test_duplicate_and_corrupt)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t *b = BCON_NEW ("name", "a", "name", "b");
   uint8_t bad[] = {0x0c, 0, 0, 0, 0x02, 'a', 0, 0xff, 0xff, 0xff, 0x7f, 0};
   bson_t corrupt;

   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_DUPLICATE_FIELD);
   ck_assert_str_eq (err.message, "name: field appears twice");
   bson_destroy (b);

   ck_assert (bson_init_static (&corrupt, bad, sizeof bad));
   ck_assert (!odm_chat_session_from_bson (&corrupt, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_CORRUPT_BSON);

   /* Invalid UTF-8 in a string: truncated, overlong, surrogate, beyond U+10FFFF, NUL. */
   {
      static const char *const bad_utf8[] = {"\xc3\x28", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\0b", "\xe2\x82"};
      static const int lens[] = {2, 2, 3, 4, 3, 2};
      size_t i;
      for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
         b = bson_new ();
         bson_append_utf8 (b, "name", 4, bad_utf8[i], lens[i]);
         ck_assert_msg (!odm_chat_session_from_bson (b, &s, 0, &err), "bad UTF-8 case %zu accepted", i);
         ck_assert_uint_eq (err.code, ODM_ERROR_CORRUPT_BSON);
         bson_destroy (b);
      }
      b = bson_new ();
      bson_append_utf8 (b, "name", 4, "\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9", -1);
      ck_assert (odm_chat_session_from_bson (b, &s, 0, &err));
      odm_chat_session_cleanup (&s);
      bson_destroy (b);
   }
}
END_TEST

START_TEST (test_numbers)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t out;
   bson_iter_t it;
   bson_t *b = BCON_NEW ("settings", "{", "temperature", BCON_INT64 (1), "maxTokens", BCON_DOUBLE (2000.0), "}",
                         "stats", "{", "messageCount", BCON_DOUBLE (-0.0), "totalTokens", BCON_DOUBLE (3e9), "}");
   ck_assert (odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert (s.settings.temperature == 1.0);
   ck_assert (odm_chat_session_to_bson (&s, &out, &err));
   /* Written as js-bson writes JavaScript numbers: int32 when integral and in range. */
   ck_assert (bson_iter_init_find (&it, &out, "settings") && bson_iter_recurse (&it, &it));
   ck_assert (bson_iter_find (&it, "temperature") && BSON_ITER_HOLDS_INT32 (&it));
   ck_assert (bson_iter_find (&it, "maxTokens") && BSON_ITER_HOLDS_INT32 (&it));
   ck_assert (bson_iter_init_find (&it, &out, "stats") && bson_iter_recurse (&it, &it));
   ck_assert (bson_iter_find (&it, "messageCount") && BSON_ITER_HOLDS_DOUBLE (&it)); /* -0 */
   ck_assert (bson_iter_find (&it, "totalTokens") && BSON_ITER_HOLDS_DOUBLE (&it));
   bson_destroy (&out);
   odm_chat_session_cleanup (&s);
   bson_destroy (b);

   b = BCON_NEW ("stats", "{", "totalTokens", BCON_INT64 (INT64_C (1) << 60), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_RANGE);
   bson_destroy (b);
}
END_TEST

START_TEST (test_init_defaults)
{
   odm_chat_session_t s;
   odm_agent_personalization_t p;
   odm_chat_session_init (&s);
   ck_assert (s.settings.has_temperature && s.settings.temperature == 0.7);
   ck_assert (s.settings.has_maxTokens && s.settings.maxTokens == 2000);
   ck_assert_str_eq (s.settings.mode, "balanced");
   ck_assert (s.stats.has_messageCount && s.stats.messageCount == 0);
   ck_assert (s.stats.has_lastMessageAt && s.stats.lastMessageAt > 1700000000000);
   ck_assert (s.has_tags == ODM_PRESENT && s.tags.count == 0);
   ck_assert (!s.has__id && !s.has_createdAt && !s.sessionId);
   odm_chat_session_cleanup (&s);

   odm_agent_personalization_init (&p);
   ck_assert_str_eq (p.conversationStyle, "casual");
   ck_assert_str_eq (p.notifications.sound, "gentle");
   ck_assert (p.notifications.has_enabled && p.notifications.enabled);
   odm_agent_personalization_cleanup (&p);
}
END_TEST

/* The _id prepare generates: unique in a row, across threads and across fork (a child
 * that went on with its parent's random bytes and counter would make the parent's next
 * _id: the fork handler draws new ones). */
static bson_oid_t
new_id (void)
{
   odm_chat_session_t s;
   odm_violations_t v;
   bson_oid_t id;
   odm_chat_session_init (&s);
   odm_chat_session_prepare (&s, NULL, &v);
   odm_violations_cleanup (&v);
   ck_assert (s.has__id == ODM_PRESENT);
   bson_oid_copy (&s._id, &id);
   odm_chat_session_cleanup (&s);
   return id;
}

static void *
id_thread (void *arg)
{
   *(bson_oid_t *) arg = new_id ();
   return NULL;
}

START_TEST (test_oid_unique)
{
   bson_oid_t ids[1000], child, mine, theirs;
   int fds[2], status, i, j;
   pid_t pid;
   pthread_t th;

   for (i = 0; i < 1000; i++) {
      ids[i] = new_id ();
      for (j = 0; j < i; j++) {
         ck_assert (!bson_oid_equal (&ids[i], &ids[j]));
      }
   }
   ck_assert (pthread_create (&th, NULL, id_thread, &theirs) == 0);
   pthread_join (th, NULL);
   mine = new_id ();
   ck_assert (!bson_oid_equal (&mine, &theirs));

   ck_assert (pipe (fds) == 0);
   pid = fork ();
   ck_assert (pid >= 0);
   if (pid == 0) {
      bson_oid_t c = new_id ();
      _exit (write (fds[1], &c, sizeof c) == (ssize_t) sizeof c ? 0 : 1);
   }
   mine = new_id ();
   ck_assert (read (fds[0], &child, sizeof child) == (ssize_t) sizeof child);
   waitpid (pid, &status, 0);
   close (fds[0]);
   close (fds[1]);
   ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
   ck_assert_msg (!bson_oid_equal (&mine, &child), "a forked child made its parent's _id");
   ck_assert (memcmp (mine.bytes + 4, child.bytes + 4, 5) != 0);
}
END_TEST

/* Allocation counting for the arena test: libbson's allocator, counted. */
static size_t n_allocs;

static void *
count_malloc (size_t n)
{
   n_allocs++;
   return malloc (n);
}

static void *
count_calloc (size_t n, size_t size)
{
   n_allocs++;
   return calloc (n, size);
}

static void *
count_realloc (void *p, size_t n)
{
   n_allocs++;
   return realloc (p, n);
}

/* Documents decoded into an arena: the same document as odm_from_bson makes (same
 * encoding, same violations) for every fixture, one with a mixed value and unknown
 * fields too; no allocation at all once the arena's block is big enough; odm_copy makes
 * an owning copy that outlives the arena. */
START_TEST (test_arena_decode)
{
   const odm_schema_t *const *schemas;
   size_t n, i, v;
   odm_arena_t *arena = odm_arena_new (0);
   void *owned = NULL, *in_arena = NULL, *copy = NULL;
   static const char *const variants[] = {"full", "min"};
   bson_mem_vtable_t counting = {count_malloc, count_calloc, count_realloc, free, NULL, {0}};

   schemas = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      const odm_schema_t *s = schemas[i];
      owned = bson_realloc (owned, s->root->size);
      in_arena = bson_realloc (in_arena, s->root->size);
      copy = bson_realloc (copy, s->root->size);
      for (v = 0; v < 3; v++) {
         char name[128];
         bson_t *doc, a, b, c;
         bson_error_t err;
         odm_violations_t va, vb;
         size_t before, heap_allocs, arena_allocs;
         if (v < 2) {
            snprintf (name, sizeof name, "%s.%s.json", s->collection, variants[v]);
            doc = odm_test_load_json (name);
            if (!doc) {
               continue;
            }
         } else {
            bson_t *base;
            snprintf (name, sizeof name, "%s.full.json", s->collection);
            base = odm_test_load_json (name);
            if (!base) {
               continue;
            }
            doc = bson_copy (base);
            BCON_APPEND (doc, "extraText", BCON_UTF8 ("kept \xC3\xA9"), "extraDoc", "{", "a", "[", BCON_INT32 (1),
                         BCON_UTF8 ("two"), "]", "}", "__v", BCON_INT32 (3));
            bson_destroy (base);
         }
         ck_assert_msg (odm_from_bson (s, doc, owned, 0, &err), "%s: %s", name, err.message);
         ck_assert_msg (odm_from_bson_arena (s, doc, in_arena, 0, arena, &err), "%s: %s", name, err.message);
         ck_assert (odm_to_bson (s, owned, &a, NULL) && odm_to_bson (s, in_arena, &b, NULL));
         ck_assert_msg (bson_equal (&a, &b), "%s: the arena's document encodes differently", name);
         ck_assert_int_eq (odm_validate (s, owned, NULL, &va), odm_validate (s, in_arena, NULL, &vb));
         ck_assert_uint_eq (va.count, vb.count);
         odm_violations_cleanup (&va);
         odm_violations_cleanup (&vb);

         /* allocations: the owning decode, then the arena's once its block has grown */
         odm_cleanup (s, owned);
         bson_mem_set_vtable (&counting);
         before = n_allocs;
         ck_assert (odm_from_bson (s, doc, owned, 0, NULL));
         heap_allocs = n_allocs - before;
         odm_arena_reset (arena);
         before = n_allocs;
         ck_assert (odm_from_bson_arena (s, doc, in_arena, 0, arena, NULL));
         arena_allocs = n_allocs - before;
         bson_mem_restore_vtable ();
         if (v < 2) {
            ck_assert_msg (arena_allocs == 0, "%s: %zu allocations in the arena (%zu on the heap)", name, arena_allocs,
                           heap_allocs);
         } else {
            /* the unknown fields are gathered on the heap, then moved to the arena */
            ck_assert_msg (arena_allocs <= 2, "%s: %zu allocations in the arena", name, arena_allocs);
         }

         /* an owning copy outlives the arena */
         ck_assert (odm_copy (s, in_arena, copy));
         odm_arena_reset (arena);
         ck_assert (odm_to_bson (s, copy, &c, NULL));
         ck_assert_msg (bson_equal (&a, &c), "%s: the copy differs", name);
         odm_cleanup (s, copy);
         odm_cleanup (s, owned);
         bson_destroy (&a);
         bson_destroy (&b);
         bson_destroy (&c);
         bson_destroy (doc);
      }
   }
   /* a failed decode into an arena leaves the struct zeroed */
   {
      const odm_schema_t *s = odm_schema_find ("chat_sessions");
      bson_t *bad = odm_test_json ("{\"name\": 42}");
      unsigned char zero[2048] = {0};
      bson_error_t err;
      ck_assert (s->root->size <= sizeof zero);
      in_arena = bson_realloc (in_arena, s->root->size);
      ck_assert (!odm_from_bson_arena (s, bad, in_arena, 0, arena, &err));
      ck_assert_uint_eq (err.code, ODM_ERROR_TYPE);
      ck_assert (memcmp (in_arena, zero, s->root->size) == 0);
      bson_destroy (bad);
   }
   odm_arena_destroy (arena);
   bson_free (owned);
   bson_free (in_arena);
   bson_free (copy);
}
END_TEST

/* The clock of the prepares below: the fixtures' dates are valid then. */
static const odm_prepare_opts_t arena_opts = {false, INT64_C (1767225600000), NULL};

/* DOC prepared both ways, owning (odm_prepare) and in ARENA (odm_prepare_arena), at the
 * same time: the same answer, the same violations, the same bytes (the _ids each generates
 * made the same: same-ids.h). Returns the number of violations. */
static size_t
prepare_both (const odm_schema_t *s, const bson_t *doc, odm_arena_t *arena, const char *name)
{
   void *owned = bson_malloc0 (s->root->size), *in_arena = bson_malloc0 (s->root->size);
   odm_violations_t va, vb;
   bson_error_t err;
   bson_t a, b;
   bool oka, okb;
   size_t k, count;

   ck_assert_msg (odm_from_bson (s, doc, owned, 0, &err), "%s: %s", name, err.message);
   ck_assert_msg (odm_from_bson_arena (s, doc, in_arena, 0, arena, &err), "%s: %s", name, err.message);
   oka = odm_prepare (s, owned, &arena_opts, &va);
   okb = odm_prepare_arena (s, in_arena, arena, &arena_opts, &vb);
   ck_assert_msg (oka == okb, "%s: odm_prepare says %d, odm_prepare_arena %d", name, oka, okb);
   ck_assert_msg (va.count == vb.count, "%s: %zu violations, %zu in the arena", name, va.count, vb.count);
   for (k = 0; k < va.count; k++) {
      ck_assert_str_eq (va.items[k].path, vb.items[k].path);
      ck_assert_str_eq (va.items[k].rule, vb.items[k].rule);
   }
   odm_same_ids (s->root, in_arena, owned);
   ck_assert_msg (odm_to_bson (s, owned, &a, &err), "%s: %s", name, err.message);
   ck_assert_msg (odm_to_bson (s, in_arena, &b, &err), "%s: %s", name, err.message);
   ck_assert_msg (bson_equal (&a, &b), "%s: the arena's prepared document encodes differently", name);
   count = va.count;
   odm_violations_cleanup (&va);
   odm_violations_cleanup (&vb);
   bson_destroy (&a);
   bson_destroy (&b);
   odm_cleanup (s, owned);
   bson_free (owned);
   bson_free (in_arena); /* its strings are the arena's */
   return count;
}

/* The heap allocations of odm_prepare_arena on valid DOC decoded into ARENA, reset first:
 * its one block, grown by an earlier use of DOC, holds it all. */
static size_t
arena_prepare_heap_allocs (const odm_schema_t *s, const bson_t *doc, odm_arena_t *arena)
{
   bson_mem_vtable_t counting = {count_malloc, count_calloc, count_realloc, free, NULL, {0}};
   void *doc_struct = bson_malloc0 (s->root->size);
   odm_violations_t out;
   size_t before, allocs;

   odm_arena_reset (arena);
   ck_assert (odm_from_bson_arena (s, doc, doc_struct, 0, arena, NULL));
   bson_mem_set_vtable (&counting);
   before = n_allocs;
   ck_assert (odm_prepare_arena (s, doc_struct, arena, &arena_opts, &out));
   allocs = n_allocs - before;
   bson_mem_restore_vtable ();
   odm_violations_cleanup (&out);
   bson_free (doc_struct);
   odm_arena_reset (arena);
   return allocs;
}

/* odm_prepare_arena does what odm_prepare does, for every fixture and for the three places
 * the pre-save path makes new strings or values (a default, a lowercase that grows, a
 * mixed value rebuilt without its empty objects), taking them from the arena: no heap
 * allocation for a valid fixture once the arena's block is big enough, nothing freed that
 * the arena owns (ASan and valgrind run this), nothing leaked (the arena's document is
 * never cleaned up). A NULL arena is refused. */
START_TEST (test_arena_prepare)
{
   const odm_schema_t *const *schemas;
   size_t n, i, v;
   odm_arena_t *arena = odm_arena_new (0);
   static const char *const variants[] = {"full", "min"};
   size_t valid = 0;

   schemas = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      const odm_schema_t *s = schemas[i];
      for (v = 0; v < 2; v++) {
         char name[128];
         bson_t *doc;
         size_t allocs;
         snprintf (name, sizeof name, "%s.%s.json", s->collection, variants[v]);
         doc = odm_test_load_json (name);
         if (!doc) {
            continue;
         }
         if (prepare_both (s, doc, arena, name) == 0) {
            /* valid (at the prepares' time): nothing from the heap */
            allocs = arena_prepare_heap_allocs (s, doc, arena);
            ck_assert_msg (allocs == 0, "%s: odm_prepare_arena made %zu heap allocations", name, allocs);
            valid++;
         }
         odm_arena_reset (arena);
         bson_destroy (doc);
      }
   }
   ck_assert_uint_ge (valid, n); /* most fixtures are valid at OPTS' time */

   /* a default string (users' role, theme, language: absent in the minimal fixture) and a
    * lowercase that grows (U+0130 becomes two characters) */
   {
      const odm_schema_t *s = odm_schema_find ("users");
      bson_t *base = odm_test_load_json ("users.min.json");
      bson_t *doc = odm_test_fixture_with ("users", "{\"email\": \"\xC4\xB0NFO@EXAMPLE.COM\"}");
      ck_assert (base && doc);
      prepare_both (s, base, arena, "users.min.json");
      ck_assert_uint_eq (prepare_both (s, doc, arena, "users: email with U+0130"), 0);
      ck_assert_uint_eq (arena_prepare_heap_allocs (s, doc, arena), 0); /* the longer copy too */
      bson_destroy (doc);
      bson_destroy (base);
   }
   /* a mixed value that loses empty objects, and one that is left empty and dropped */
   {
      const odm_schema_t *s = odm_schema_find ("transactions");
      bson_t *doc = odm_test_fixture_with ("transactions", "{\"metadata\": {\"a\": {}, \"b\": {\"c\": {}, "
                                                           "\"d\": [{}, 1]}, \"e\": \"kept\"}}");
      bson_t *empty = odm_test_fixture_with ("transactions", "{\"metadata\": {\"a\": {\"b\": {}}}}");
      prepare_both (s, doc, arena, "transactions: metadata with empty objects");
      prepare_both (s, empty, arena, "transactions: metadata left empty");
      bson_destroy (doc);
      bson_destroy (empty);
   }
   /* an array element without its _id: each prepare gives it one (same-ids.h) */
   {
      const odm_schema_t *s = odm_schema_find ("community_posts");
      bson_t *doc = odm_test_fixture_with ("community_posts", "{\"attachments.0._id\": {\"$remove\": 1}}");
      prepare_both (s, doc, arena, "community_posts: an attachment without _id");
      bson_destroy (doc);
   }
   /* a NULL arena is refused */
   {
      const odm_schema_t *s = odm_schema_find ("chat_sessions");
      void *doc_struct = bson_malloc0 (s->root->size);
      odm_violations_t out;
      ck_assert (!odm_prepare_arena (s, doc_struct, NULL, NULL, &out));
      ck_assert_uint_eq (out.count, 1);
      ck_assert_str_eq (out.items[0].rule, "argument");
      odm_violations_cleanup (&out);
      ck_assert (!odm_prepare_arena (s, doc_struct, NULL, NULL, NULL));
      ck_assert (!odm_prepare_arena (NULL, doc_struct, arena, NULL, NULL));
      bson_free (doc_struct);
   }
   odm_arena_destroy (arena);
}
END_TEST

/* An arena whose first block is far too small: requests past the block's end (strings, a
 * mixed value, a string many times the block's size) come from new blocks, and the
 * document is the same as the owning decode's, fresh and after resets. */
START_TEST (test_arena_growth)
{
   const odm_schema_t *s = odm_schema_find ("chat_canvas_files");
   char *big = bson_malloc (100001), *edits;
   bson_t *doc, a, b;
   void *owned = bson_malloc0 (s->root->size), *in_arena = bson_malloc0 (s->root->size);
   size_t round;
   odm_arena_t *arena = odm_arena_new (16);
   memset (big, 'x', 100000);
   big[100000] = '\0';
   edits = bson_strdup_printf ("{\"content\": \"%s\"}", big);
   doc = odm_test_fixture_with ("chat_canvas_files", edits);
   bson_free (edits);
   ck_assert (odm_from_bson (s, doc, owned, 0, NULL));
   ck_assert_uint_eq (strlen (((odm_chat_canvas_file_t *) owned)->content), 100000);
   ck_assert (odm_to_bson (s, owned, &a, NULL));
   for (round = 0; round < 3; round++) { /* a fresh arena, then after resets (one block) */
      ck_assert (odm_from_bson_arena (s, doc, in_arena, 0, arena, NULL));
      ck_assert (odm_to_bson (s, in_arena, &b, NULL));
      ck_assert_msg (bson_equal (&a, &b), "round %zu: the arena's document differs", round);
      bson_destroy (&b);
      odm_arena_reset (arena);
   }
   bson_destroy (&a);
   odm_cleanup (s, owned);
   odm_arena_destroy (arena);
   bson_free (owned);
   bson_free (in_arena);
   bson_free (big);
   bson_destroy (doc);
}
END_TEST

/* odm_to_bson_into: the same bytes as odm_to_bson, written into a bson_t that keeps its
 * buffer (no allocation for the next document once it is big enough); refused, untouched,
 * for a bson_t that cannot grow; left empty when the document cannot be written. */
START_TEST (test_to_bson_into)
{
   const odm_schema_t *s = odm_schema_find ("chat_sessions");
   bson_t *full = odm_test_load_json ("chat_sessions.full.json");
   bson_t *min = odm_test_load_json ("chat_sessions.min.json");
   void *a = bson_malloc0 (s->root->size), *b = bson_malloc0 (s->root->size);
   bson_mem_vtable_t counting = {count_malloc, count_calloc, count_realloc, free, NULL, {0}};
   bson_t reused = BSON_INITIALIZER, fresh, st, parent, child;
   uint8_t fixed[16] = {5, 0, 0, 0, 0};
   bson_error_t err;
   size_t before;

   ck_assert (full && min);
   ck_assert (odm_from_bson (s, full, a, 0, NULL) && odm_from_bson (s, min, b, 0, NULL));
   ck_assert (odm_to_bson_into (s, a, &reused, &err));
   ck_assert (odm_to_bson (s, a, &fresh, NULL));
   ck_assert (bson_equal (&reused, &fresh));
   bson_destroy (&fresh);
   /* the smaller document into the same bson_t: nothing allocated */
   bson_mem_set_vtable (&counting);
   before = n_allocs;
   ck_assert (odm_to_bson_into (s, b, &reused, &err));
   ck_assert_uint_eq (n_allocs - before, 0);
   bson_mem_restore_vtable ();
   ck_assert (odm_to_bson (s, b, &fresh, NULL));
   ck_assert (bson_equal (&reused, &fresh));
   bson_destroy (&fresh);
   /* and the larger one again */
   ck_assert (odm_to_bson_into (s, a, &reused, &err));
   ck_assert (odm_to_bson (s, a, &fresh, NULL));
   ck_assert (bson_equal (&reused, &fresh));
   bson_destroy (&fresh);

   /* a document the encoder refuses: OUT left empty */
   bson_free (((odm_chat_session_t *) b)->name);
   ((odm_chat_session_t *) b)->name = bson_strdup ("bad \xff");
   ck_assert (!odm_to_bson_into (s, b, &reused, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_CORRUPT_BSON);
   ck_assert_uint_eq (reused.len, 5);
   bson_destroy (&reused);

   /* a static bson_t and a child are refused, their bytes as they were */
   ck_assert (bson_init_static (&st, fixed, 5));
   ck_assert (!odm_to_bson_into (s, a, &st, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert (fixed[0] == 5 && st.len == 5);
   bson_init (&parent);
   ck_assert (bson_append_document_begin (&parent, "x", 1, &child));
   ck_assert (!odm_to_bson_into (s, a, &child, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert (bson_append_document_end (&parent, &child));
   bson_destroy (&parent);
   ck_assert (!odm_to_bson_into (s, a, NULL, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_INVALID_ARGUMENT);

   odm_cleanup (s, a);
   odm_cleanup (s, b);
   bson_free (a);
   bson_free (b);
   bson_destroy (full);
   bson_destroy (min);
}
END_TEST

/* README, "Preparing received documents in an arena": the same code, run. */
static bool
accept_session (const bson_t *received, odm_arena_t *arena, bson_t *to_store, bson_error_t *error)
{
   odm_chat_session_t s;
   odm_violations_t v;
   bool ok;

   bson_init (to_store);
   if (!odm_from_bson_arena (&odm_chat_session_schema, received, &s, 0, arena, error)) {
      return false; /* "settings.temperature: expected number, got string" */
   }
   ok = odm_prepare_arena (&odm_chat_session_schema, &s, arena, NULL, &v);
   if (!ok) {
      odm_violations_to_error (&v, error); /* "name: is required (required); ..." */
   }
   odm_violations_cleanup (&v);
   if (ok) {
      bson_destroy (to_store);
      ok = odm_chat_session_to_bson (&s, to_store, error);
   }
   return ok;
}

START_TEST (test_readme_accept_session)
{
   odm_arena_t *arena = odm_arena_new (0);
   bson_t *full = odm_test_load_json ("chat_sessions.full.json");
   bson_t *nameless = odm_test_json ("{\"sessionId\": \"s1\"}");
   bson_t *bad = odm_test_json ("{\"name\": \"n\", \"settings\": {\"temperature\": \"hot\"}}");
   bson_t out;
   bson_error_t error;
   bson_iter_t it;

   ck_assert (full && nameless && bad);
   ck_assert_msg (accept_session (full, arena, &out, &error), "%s", error.message);
   ck_assert (bson_iter_init_find (&it, &out, "_id") && BSON_ITER_HOLDS_OID (&it));
   ck_assert (bson_iter_init_find (&it, &out, "updatedAt") && BSON_ITER_HOLDS_DATE_TIME (&it));
   bson_destroy (&out);
   odm_arena_reset (arena);

   ck_assert (!accept_session (nameless, arena, &out, &error));
   ck_assert_msg (strstr (error.message, "name: is required (required)") != NULL, "%s", error.message);
   ck_assert_uint_eq (out.len, 5); /* left empty */
   bson_destroy (&out);
   odm_arena_reset (arena);

   ck_assert (!accept_session (bad, arena, &out, &error));
   ck_assert_str_eq (error.message, "settings.temperature: expected number, got string");
   bson_destroy (&out);

   odm_arena_destroy (arena);
   bson_destroy (full);
   bson_destroy (nameless);
   bson_destroy (bad);
}
END_TEST

START_TEST (test_copy)
{
   odm_chat_session_t a, b;
   bson_t ba, bb;
   odm_chat_session_init (&a);
   a.sessionId = bson_strdup ("s");
   a.tags.items = bson_malloc (sizeof (char *));
   a.tags.items[0] = bson_strdup ("t");
   a.tags.count = 1;
   ck_assert (odm_copy (&odm_chat_session_schema, &a, &b));
   ck_assert (a.sessionId != b.sessionId);
   ck_assert (odm_chat_session_to_bson (&a, &ba, NULL) && odm_chat_session_to_bson (&b, &bb, NULL));
   ck_assert (bson_equal (&ba, &bb));
   bson_destroy (&ba);
   bson_destroy (&bb);
   odm_chat_session_cleanup (&a);
   odm_chat_session_cleanup (&b);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * BSON conformance: for every BSON type, valid values in a mixed field (and as an
 * unknown field) round-trip byte-exact; malformed ones are refused with the path. The
 * table is written here, in the spirit of MongoDB's BSON corpus (not copied from it).
 * Values are given as the element's type byte and value bytes, in hex. */

typedef struct {
   const char *what;
   uint8_t type;
   const char *hex; /* the value bytes */
} bson_case_t;

static const bson_case_t valid_cases[] = {
   {"double 1.5", 0x01, "000000000000F83F"},
   {"double -0.0", 0x01, "0000000000000080"},
   {"double NaN with payload", 0x01, "120000000000F87F"},
   {"double -Infinity", 0x01, "000000000000F0FF"},
   {"string", 0x02, "0700000068C3A96C6C6F00"},            /* "héllo" */
   {"string empty", 0x02, "0100000000"},
   {"string 4-byte character", 0x02, "05000000F09F988000"},
   {"document", 0x03, "0C0000001061000100000000"},
   {"document empty", 0x03, "0500000000"},
   {"array", 0x04, "150000001030000100000002310002000000780000"},
   {"binary generic", 0x05, "0300000000010203"},
   {"binary old (subtype 2)", 0x05, "0700000002030000000A0B0C"},
   {"binary uuid", 0x05, "1000000004000102030405060708090A0B0C0D0E0F"},
   {"binary user defined", 0x05, "0100000080FF"},
   {"undefined", 0x06, ""},
   {"objectId", 0x07, "0102030405060708090A0B0C"},
   {"bool true", 0x08, "01"},
   {"bool false", 0x08, "00"},
   {"date epoch", 0x09, "0000000000000000"},
   {"date min JavaScript", 0x09, "0000243DF74DE1FF"}, /* -8.64e15 */
   {"date max JavaScript", 0x09, "0000DCC208B21E00"}, /* +8.64e15 */
   {"null", 0x0A, ""},
   {"regex", 0x0B, "612E6200696D00"},                /* /a.b/im */
   {"regex all options", 0x0B, "7800696C6D73757800"}, /* /x/ilmsux */
   {"regex no options", 0x0B, "C3A90000"},
   {"dbpointer", 0x0C, "0500000064622E63000102030405060708090A0B0C"},
   {"code", 0x0D, "0400000078783D00"},
   {"symbol", 0x0E, "0400000073C3A900"},
   {"code with scope", 0x0F, "1800000004000000662829000C0000001078000100000000"},
   {"int32", 0x10, "FFFFFF7F"},
   {"timestamp", 0x11, "0100000002000000"},
   {"int64", 0x12, "FFFFFFFFFFFFFF7F"},
   {"decimal128 1", 0x13, "01000000000000000000000000004030"},
   {"decimal128 NaN", 0x13, "0000000000000000000000000000007C"},
   {"minKey", 0xFF, ""},
   {"maxKey", 0x7F, ""},
};

static const bson_case_t malformed_cases[] = {
   {"string not UTF-8", 0x02, "03000000C32800"},
   {"string overlong", 0x02, "03000000C08000"},
   {"string surrogate", 0x02, "04000000EDA08000"},
   {"string with NUL", 0x02, "0400000061006200"},
   {"string length past the end", 0x02, "FF0000006100"},
   {"string without its NUL", 0x02, "020000006161"},
   {"code not UTF-8", 0x0D, "03000000FFFE00"},
   {"code with NUL", 0x0D, "0400000061006200"},
   {"symbol not UTF-8", 0x0E, "03000000C32800"},
   {"symbol with NUL", 0x0E, "0400000061006200"},
   {"regex pattern not UTF-8", 0x0B, "FF0000"},
   {"regex options not UTF-8", 0x0B, "6100FF00"},
   {"regex options out of order", 0x0B, "61006D6900"},
   {"regex unknown option", 0x0B, "61007A00"},
   {"regex option twice", 0x0B, "6100696900"},
   {"dbpointer namespace not UTF-8", 0x0C, "03000000C328000102030405060708090A0B0C"},
   {"dbpointer namespace with NUL", 0x0C, "04000000610062000102030405060708090A0B0C"},
   {"code with scope: code not UTF-8", 0x0F, "180000000400000066FF29000C0000001078000100000000"},
   {"code with scope: code with NUL", 0x0F, "1800000004000000660029000C0000001078000100000000"},
   {"code with scope: scope string not UTF-8", 0x0F, "190000000200000066000F00000002780003000000C3280000"},
   {"code with scope: lengths disagree", 0x0F, "1900000004000000662829000C0000001078000100000000"},
   {"bool 2", 0x08, "02"},
   {"date past JavaScript's max", 0x09, "0100DCC208B21E00"},
   {"date before JavaScript's min", 0x09, "FFFF233DF74DE1FF"},
   {"date int64 max", 0x09, "FFFFFFFFFFFFFF7F"},
   {"binary old: inner length wrong", 0x05, "0700000002040000000A0B0C"},
   {"binary length past the end", 0x05, "FF000000000102"},
   {"document: string not UTF-8 inside", 0x03, "0E000000026100020000FF0000"},
   {"document: key not UTF-8", 0x03, "0C00000010FF000100000000"},
   {"document: not NUL-terminated", 0x03, "0C0000001061000100000001"},
   {"array: keys not 0, 1, ...", 0x04, "0C0000001031000100000000"},
   {"array: regex options out of order inside", 0x04, "0D0000000B300061006D690000"},
};

static size_t
hex_decode (const char *hex, uint8_t *out)
{
   size_t n = 0;
   for (; hex[0] && hex[1]; hex += 2) {
      unsigned v;
      sscanf (hex, "%2x", &v);
      out[n++] = (uint8_t) v;
   }
   return n;
}

/* A document {KEY: <TYPE, HEX>} as raw bytes in BUF; returns its length. */
static size_t
case_doc (const bson_case_t *c, const char *key, uint8_t *buf)
{
   size_t n = 4, klen = strlen (key);
   uint32_t total;
   buf[n++] = c->type;
   memcpy (buf + n, key, klen + 1);
   n += klen + 1;
   n += hex_decode (c->hex, buf + n);
   buf[n++] = 0;
   total = (uint32_t) n;
   memcpy (buf, &total, 4); /* little endian (as the test machines are) */
   return n;
}

START_TEST (test_conformance_valid_roundtrip)
{
   const char *const keys[] = {"metadata", "zz"}; /* a mixed field, an unknown field */
   size_t i, k;
   for (k = 0; k < 2; k++) {
      for (i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
         uint8_t buf[256];
         size_t n = case_doc (&valid_cases[i], keys[k], buf);
         bson_t in, out;
         bson_error_t err;
         odm_transaction_t t;
         ck_assert (bson_init_static (&in, buf, n));
         ck_assert_msg (odm_transaction_from_bson (&in, &t, 0, &err), "%s in %s refused: %s", valid_cases[i].what,
                        keys[k], err.message);
         ck_assert_msg (odm_transaction_to_bson (&t, &out, &err), "%s in %s not re-encoded: %s",
                        valid_cases[i].what, keys[k], err.message);
         ck_assert_msg (out.len == n && memcmp (bson_get_data (&out), buf, n) == 0, "%s in %s changed on the way",
                        valid_cases[i].what, keys[k]);
         bson_destroy (&out);
         odm_transaction_cleanup (&t);
      }
   }
}
END_TEST

START_TEST (test_conformance_malformed_refused)
{
   const char *const keys[] = {"metadata", "zz"};
   size_t i, k;
   for (k = 0; k < 2; k++) {
      for (i = 0; i < sizeof malformed_cases / sizeof malformed_cases[0]; i++) {
         uint8_t buf[256];
         size_t n = case_doc (&malformed_cases[i], keys[k], buf);
         bson_t in;
         bson_error_t err;
         odm_transaction_t t;
         /* bson_init_static itself refuses a few (a length that disagrees with the header). */
         if (!bson_init_static (&in, buf, n)) {
            continue;
         }
         ck_assert_msg (!odm_transaction_from_bson (&in, &t, 0, &err), "%s in %s accepted", malformed_cases[i].what,
                        keys[k]);
         ck_assert_uint_eq (err.domain, ODM_ERROR_DOMAIN);
         ck_assert_msg (strncmp (err.message, keys[k], strlen (keys[k])) == 0 || strncmp (err.message, "corrupt BSON", 12) == 0,
                        "%s in %s: the error names neither the path nor a structural fault: %s", malformed_cases[i].what, keys[k], err.message);
      }
   }
}
END_TEST

/* {a: {a: ... {a: 1}}} with DEPTH documents in all (the top-level one included). */
static bson_t *
nested_doc (size_t depth)
{
   size_t total = 12 + 8 * (depth - 1), o = 0, i;
   uint8_t *buf = bson_malloc (total);
   bson_t *b;
   for (i = 0; i + 1 < depth; i++) {
      uint32_t len = (uint32_t) (total - 8 * i);
      memcpy (buf + o, &len, 4);
      memcpy (buf + o + 4, "\x03" "a", 3);
      o += 7;
   }
   memcpy (buf + o, "\x0c\x00\x00\x00\x10" "a\x00\x01\x00\x00\x00\x00", 12);
   o += 12;
   memset (buf + o, 0, depth - 1);
   b = bson_new_from_data (buf, total);
   bson_free (buf);
   return b;
}

START_TEST (test_depth_bounded)
{
   odm_transaction_t t;
   bson_error_t err;
   bson_t *b;
   /* 100 levels (a key path of 100 components) is MongoDB's limit: accepted. */
   b = nested_doc (100);
   ck_assert_msg (odm_transaction_from_bson (b, &t, 0, &err), "%s", err.message);
   odm_transaction_cleanup (&t);
   bson_destroy (b);
   /* 101 refused, with the path of the level too many. */
   b = nested_doc (101);
   ck_assert (!odm_transaction_from_bson (b, &t, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_RANGE);
   ck_assert (strstr (err.message, "deeper than 100 levels"));
   bson_destroy (b);
   /* Deep enough to overflow a recursive walk (libbson's bson_validate): refused, no crash. */
   b = nested_doc (200000);
   ck_assert (!odm_transaction_from_bson (b, &t, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_RANGE);
   bson_destroy (b);
}
END_TEST

/* The encoder refuses exactly what the decoder refuses, with the path (issue 10 s5). */
/* The encoder writes a nested object marked present without looking for content in it, and
 * keeps no path until a document fails: the object rule (content, else the presence flag)
 * and the full path of an error inside arrays of subdocuments must come out as before. */
static bool
encoded_json_is (const odm_support_ticket_t *t, const char *want)
{
   bson_t out;
   bson_error_t err;
   char *json;
   bool ok;
   ck_assert_msg (odm_support_ticket_to_bson (t, &out, &err), "%s", err.message);
   json = bson_as_canonical_extended_json (&out, NULL);
   ok = strcmp (json, want) == 0;
   if (!ok) {
      fprintf (stderr, "encoded %s\n   want %s\n", json, want);
   }
   bson_free (json);
   bson_destroy (&out);
   return ok;
}

/* A NULL element in an array of strings (set through the struct: the setters append
 * none) cannot be stored, since decode refuses a null element of a typed array: validate
 * and prepare name it (rule "type"), encode refuses it with its path, odm_copy fails and
 * leaves its copy empty. Before, encode and odm_copy passed it to strlen. Both kinds of
 * array: one with rules (chat_sessions.tags, maxlength) and one with none, in a nested
 * object (agents.aiProvider.fallbacks), whose generated checks used to skip it. */
/* The encoder writes array keys by counting in decimal and strings by copying them in
 * blocks: for arrays of 0 to 10,001 strings (every length from 0 to 40, some with a
 * non-ASCII character), the bytes written are those libbson wrote (its keys from
 * bson_uint32_to_string); a string with a byte that is not UTF-8, at any position of any
 * length and in any element, is refused with the element's path. Each string lies in a
 * block of exactly its bytes, so that AddressSanitizer sees a read past it. */
START_TEST (test_encode_array_keys_and_strings)
{
   static const size_t counts[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 10001};
   size_t c, k;
   for (c = 0; c < sizeof counts / sizeof counts[0]; c++) {
      bson_t *in = bson_new (), arr, out;
      odm_chat_session_t s;
      bson_error_t err;
      char text[48];
      bson_append_array_begin (in, "tags", 4, &arr);
      for (k = 0; k < counts[c]; k++) {
         char kb[16];
         const char *key;
         size_t len = k % 41, kl = bson_uint32_to_string ((uint32_t) k, &key, kb, sizeof kb);
         memset (text, 'a' + (int) (k % 26), len);
         if (len >= 2 && k % 3 == 0) {
            memcpy (text + len / 2 - 1, "\xC3\xA9", 2); /* é */
         }
         bson_append_utf8 (&arr, key, (int) kl, text, (int) len);
      }
      bson_append_array_end (in, &arr);
      ck_assert (odm_chat_session_from_bson (in, &s, 0, &err));
      ck_assert_uint_eq (s.tags.count, counts[c]);
      for (k = 0; k < s.tags.count; k++) { /* each string in a block of its own size */
         size_t len = strlen (s.tags.items[k]);
         char *exact = bson_malloc (len + 1);
         memcpy (exact, s.tags.items[k], len + 1);
         bson_free (s.tags.items[k]);
         s.tags.items[k] = exact;
      }
      ck_assert_msg (odm_chat_session_to_bson (&s, &out, &err), "%s", err.message);
      assert_same_bson (in, &out, "tags");
      bson_destroy (&out);
      odm_chat_session_cleanup (&s);
      bson_destroy (in);
   }
   /* a bad byte at every position of every length up to 40, in element 12 */
   {
      size_t len, bad;
      for (len = 1; len <= 40; len++) {
         for (bad = 0; bad < len; bad++) {
            odm_chat_session_t s;
            bson_t out;
            bson_error_t err;
            odm_chat_session_init (&s);
            for (k = 0; k < 13; k++) {
               char *t = bson_malloc (len + 1);
               memset (t, 'x', len);
               t[len] = '\0';
               if (k == 12) {
                  t[bad] = (char) 0xFF;
               }
               odm_chat_session_add_tags (&s, t);
               bson_free (t);
            }
            ck_assert (!odm_chat_session_to_bson (&s, &out, &err));
            ck_assert_str_eq (err.message, "tags.12: string is not valid UTF-8");
            ck_assert_uint_eq (out.len, 5);
            bson_destroy (&out);
            odm_chat_session_cleanup (&s);
         }
      }
   }
}
END_TEST

START_TEST (test_null_string_element)
{
   odm_chat_session_t s, copy;
   odm_agent_t a;
   odm_violations_t v;
   bson_t out, *in;
   bson_error_t err;
   odm_prepare_opts_t opts = {0};

   opts.now_ms = INT64_C (1750000000000);
   in = odm_test_load_json ("chat_sessions.full.json");
   ck_assert (odm_chat_session_from_bson (in, &s, 0, &err));
   bson_destroy (in);
   ck_assert_uint_ge (s.tags.count, 2);
   bson_free (s.tags.items[1]);
   s.tags.items[1] = NULL;
   ck_assert (!odm_chat_session_validate (&s, &opts, &v));
   ck_assert (odm_test_has_violation (&v, "tags.1", "type", "is NULL: an array of strings holds strings"));
   ck_assert_uint_eq (v.count, 1);
   odm_violations_cleanup (&v);
   ck_assert (!odm_chat_session_prepare (&s, &opts, &v));
   ck_assert (odm_test_has_violation (&v, "tags.1", "type", NULL));
   odm_violations_cleanup (&v);
   ck_assert (!odm_chat_session_to_bson (&s, &out, &err));
   ck_assert_str_eq (err.message, "tags.1: expected string, got NULL");
   ck_assert_uint_eq (err.code, ODM_ERROR_TYPE);
   ck_assert_uint_eq (out.len, 5);
   bson_destroy (&out);
   memset (&copy, 0xAB, sizeof copy);
   ck_assert (!odm_copy (&odm_chat_session_schema, &s, &copy));
   ck_assert (!copy.sessionId && !copy.tags.items && copy.tags.count == 0); /* empty, safe to clean up */
   odm_chat_session_cleanup (&copy);
   odm_chat_session_cleanup (&s);

   in = odm_test_load_json ("agents.full.json");
   ck_assert (odm_agent_from_bson (in, &a, 0, &err));
   bson_destroy (in);
   odm_agent_aiProvider_add_fallbacks (&a.aiProvider, "x");
   odm_agent_aiProvider_add_fallbacks (&a.aiProvider, NULL); /* appends nothing */
   ck_assert (a.aiProvider.fallbacks.count >= 1);
   bson_free (a.aiProvider.fallbacks.items[0]);
   a.aiProvider.fallbacks.items[0] = NULL;
   ck_assert (!odm_agent_validate (&a, &opts, &v));
   ck_assert (odm_test_has_violation (&v, "aiProvider.fallbacks.0", "type", NULL));
   odm_violations_cleanup (&v);
   ck_assert (!odm_agent_to_bson (&a, &out, &err));
   ck_assert_str_eq (err.message, "aiProvider.fallbacks.0: expected string, got NULL");
   bson_destroy (&out);
   odm_agent_cleanup (&a);
}
END_TEST

/* A mixed value set by hand with its type but NULL where its bytes are due (a zeroed
 * bson_value_t given a type) is refused by the encoder with its path; libbson's appender
 * read the NULL (a document, array, regex, code, code with scope, DBPointer) or wrote a
 * string as null. The same value with its bytes set is written. */
START_TEST (test_mixed_null_pointers)
{
   static const bson_type_t types[] = {BSON_TYPE_UTF8,  BSON_TYPE_DOCUMENT,  BSON_TYPE_ARRAY,
                                       BSON_TYPE_REGEX, BSON_TYPE_DBPOINTER, BSON_TYPE_CODE,
                                       BSON_TYPE_SYMBOL, BSON_TYPE_CODEWSCOPE, BSON_TYPE_BINARY};
   odm_community_metrics_t m, copy;
   bson_t out;
   bson_error_t err;
   size_t i;

   for (i = 0; i < sizeof types / sizeof types[0]; i++) {
      memset (&m, 0, sizeof m);
      m.metrics.has_topCategories = ODM_PRESENT;
      m.metrics.topCategories.value_type = types[i];
      if (types[i] == BSON_TYPE_BINARY) {
         m.metrics.topCategories.value.v_binary.data_len = 4; /* four bytes due, none there */
      }
      ck_assert_msg (!odm_community_metrics_to_bson (&m, &out, &err), "type %d", (int) types[i]);
      ck_assert_str_eq (err.message, "metrics.topCategories: value is not valid BSON (a NULL where its bytes are due)");
      ck_assert_uint_eq (out.len, 5);
      bson_destroy (&out);
      ck_assert (!odm_copy (&odm_community_metrics_schema, &m, &copy));
   }
   m.metrics.topCategories.value_type = BSON_TYPE_UTF8;
   m.metrics.topCategories.value.v_utf8.str = (char *) "tech";
   m.metrics.topCategories.value.v_utf8.len = 4;
   ck_assert (odm_community_metrics_to_bson (&m, &out, &err));
   bson_destroy (&out);
}
END_TEST

/* An array whose count is not 0 but whose items are NULL (a struct filled by hand): every
 * walker reads it as empty, and validation, prepare and the encoder refuse it, naming it;
 * before, each of them (and cleanup) read through the NULL. An array of strings with
 * rules, one of ObjectIds with none, and one of subdocuments, whose defaults the
 * generated code fills element by element. */
START_TEST (test_dangling_array)
{
   odm_chat_session_t s, copy;
   odm_community_group_t g;
   odm_support_ticket_t t;
   odm_violations_t v;
   bson_t out;
   bson_error_t err;
   odm_prepare_opts_t opts = {0};

   opts.now_ms = INT64_C (1750000000000);
   odm_chat_session_init (&s);
   bson_free (s.tags.items);
   s.tags.items = NULL;
   s.tags.count = 3;
   ck_assert (!odm_chat_session_validate (&s, &opts, &v));
   ck_assert (odm_test_has_violation (&v, "tags", "type", "the array's count is 3 but its items are NULL"));
   odm_violations_cleanup (&v);
   ck_assert (!odm_chat_session_to_bson (&s, &out, &err));
   ck_assert_str_eq (err.message, "tags: the array's count is not 0 but its items are NULL");
   ck_assert_uint_eq (err.code, ODM_ERROR_INVALID_ARGUMENT);
   bson_destroy (&out);
   ck_assert (!odm_copy (&odm_chat_session_schema, &s, &copy));
   odm_chat_session_cleanup (&s);
   ck_assert_uint_eq (s.tags.count, 0);

   memset (&g, 0, sizeof g);
   g.moderators.count = 2;
   ck_assert (!odm_community_group_validate (&g, &opts, &v));
   ck_assert (odm_test_has_violation (&v, "moderators", "type", NULL));
   odm_violations_cleanup (&v);
   ck_assert (!odm_community_group_to_bson (&g, &out, &err));
   ck_assert_str_eq (err.message, "moderators: the array's count is not 0 but its items are NULL");
   bson_destroy (&out);
   odm_community_group_cleanup (&g);

   memset (&t, 0, sizeof t);
   t.conversation.count = 2;
   ck_assert (!odm_support_ticket_prepare (&t, &opts, &v));
   ck_assert (odm_test_has_violation (&v, "conversation", "type", NULL));
   odm_violations_cleanup (&v);
   odm_support_ticket_cleanup (&t);
}
END_TEST

START_TEST (test_encode_nested_presence_and_paths)
{
   odm_support_ticket_t t;
   odm_support_ticket_message_t *m;
   bson_t out;
   bson_error_t err;

   memset (&t, 0, sizeof t);
   t.ticketId = bson_strdup ("T");
   ck_assert (encoded_json_is (&t, "{ \"ticketId\" : \"T\" }"));
   t.has_metadata = ODM_NULL;
   ck_assert (encoded_json_is (&t, "{ \"ticketId\" : \"T\", \"metadata\" : null }"));
   t.has_metadata = ODM_PRESENT;
   ck_assert (encoded_json_is (&t, "{ \"ticketId\" : \"T\", \"metadata\" : {  } }"));
   t.has_metadata = ODM_ABSENT;
   t.metadata._extra = bson_new (); /* unknown fields, even none, make it present */
   ck_assert (encoded_json_is (&t, "{ \"ticketId\" : \"T\", \"metadata\" : {  } }"));
   bson_destroy (t.metadata._extra);
   t.metadata._extra = NULL;
   t.has_metadata = ODM_NULL; /* content wins over the flag */
   t.metadata.browser = bson_strdup ("b");
   ck_assert (encoded_json_is (&t, "{ \"ticketId\" : \"T\", \"metadata\" : { \"browser\" : \"b\" } }"));
   t.has_resolution = ODM_NULL;
   t.resolution.has_resolvedAt = ODM_NULL;
   ck_assert (encoded_json_is (&t, "{ \"ticketId\" : \"T\", \"metadata\" : { \"browser\" : \"b\" }, "
                                   "\"resolution\" : { \"resolvedAt\" : null } }"));
   t.resolution.has_resolvedAt = ODM_ABSENT;
   t.has_resolution = ODM_ABSENT;

   /* A string that is not UTF-8 two arrays down: the error names the whole path, OUT is empty. */
   t.conversation.items = bson_malloc0 (2 * sizeof *t.conversation.items);
   t.conversation.count = 2;
   m = &t.conversation.items[1];
   m->message = bson_strdup ("hello");
   m->attachments.items = bson_malloc0 (2 * sizeof *m->attachments.items);
   m->attachments.count = 2;
   m->attachments.items[0].name = bson_strdup ("a.txt");
   m->attachments.items[1].name = bson_strdup ("bad\xff");
   ck_assert (!odm_support_ticket_to_bson (&t, &out, &err));
   ck_assert_str_eq (err.message, "conversation.1.attachments.1.name: string is not valid UTF-8");
   ck_assert_uint_eq (out.len, 5);
   bson_destroy (&out);
   /* and a date out of range in a nested object after it is fixed */
   bson_free (m->attachments.items[1].name);
   m->attachments.items[1].name = bson_strdup ("b.txt");
   t.satisfaction.has_rating = ODM_PRESENT;
   t.satisfaction.rating = 5;
   t.resolution.resolvedAt = INT64_MIN;
   t.resolution.has_resolvedAt = ODM_PRESENT;
   ck_assert (!odm_support_ticket_to_bson (&t, &out, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_RANGE);
   ck_assert_msg (!strncmp (err.message, "resolution.resolvedAt: ", 23), "%s", err.message);
   bson_destroy (&out);
   t.resolution.has_resolvedAt = ODM_ABSENT;
   ck_assert (odm_support_ticket_to_bson (&t, &out, &err));
   bson_destroy (&out);
   odm_support_ticket_cleanup (&t);
}
END_TEST

START_TEST (test_encoder_refuses_what_decoder_refuses)
{
   size_t i;
   odm_transaction_t t;
   bson_t out, *deep;
   bson_error_t err;
   bson_iter_t it;

   /* Every malformed value of the table that libbson can hold as a bson_value_t. */
   for (i = 0; i < sizeof malformed_cases / sizeof malformed_cases[0]; i++) {
      uint8_t buf[256];
      size_t n = case_doc (&malformed_cases[i], "metadata", buf);
      bson_t in;
      if (!bson_init_static (&in, buf, n) || !bson_iter_init_find (&it, &in, "metadata")) {
         continue;
      }
      memset (&t, 0, sizeof t);
      bson_value_copy (bson_iter_value (&it), &t.metadata);
      t.has_metadata = ODM_PRESENT;
      ck_assert_msg (!odm_transaction_to_bson (&t, &out, &err), "encoder wrote %s", malformed_cases[i].what);
      ck_assert_msg (strncmp (err.message, "metadata", 8) == 0, "%s: %s", malformed_cases[i].what, err.message);
      ck_assert_uint_eq (out.len, 5); /* left empty */
      bson_destroy (&out);
      odm_transaction_cleanup (&t);
   }

   /* Nesting: a mixed value that makes the document 101 levels deep. */
   memset (&t, 0, sizeof t);
   deep = nested_doc (100);
   t.metadata.value_type = BSON_TYPE_DOCUMENT;
   t.metadata.value.v_doc.data_len = deep->len;
   t.metadata.value.v_doc.data = bson_malloc (deep->len);
   memcpy (t.metadata.value.v_doc.data, bson_get_data (deep), deep->len);
   t.has_metadata = ODM_PRESENT;
   ck_assert (!odm_transaction_to_bson (&t, &out, &err));
   ck_assert_msg (strstr (err.message, "deeper than 100 levels") && !strncmp (err.message, "metadata.a.a", 12), "%s",
                  err.message);
   bson_destroy (&out);
   odm_transaction_cleanup (&t);
   bson_destroy (deep);

   /* NUL inside a string of a mixed value. */
   memset (&t, 0, sizeof t);
   t.metadata.value_type = BSON_TYPE_UTF8;
   t.metadata.value.v_utf8.str = bson_malloc (4);
   memcpy (t.metadata.value.v_utf8.str, "a\0b", 4);
   t.metadata.value.v_utf8.len = 3;
   t.has_metadata = ODM_PRESENT;
   ck_assert (!odm_transaction_to_bson (&t, &out, &err));
   ck_assert_str_eq (err.message, "metadata: string is not valid UTF-8");
   bson_destroy (&out);
   odm_transaction_cleanup (&t);

   /* Invalid UTF-8 in a struct's string field, nested. */
   memset (&t, 0, sizeof t);
   t.transactionId = bson_strdup ("ok");
   t.paymentMethod.type = bson_strdup ("pay\xc3");
   ck_assert (!odm_transaction_to_bson (&t, &out, &err));
   ck_assert_str_eq (err.message, "paymentMethod.type: string is not valid UTF-8");
   bson_destroy (&out);
   odm_transaction_cleanup (&t);

   /* A date JavaScript cannot hold. */
   memset (&t, 0, sizeof t);
   t.createdAt = INT64_MAX;
   t.has_createdAt = ODM_PRESENT;
   ck_assert (!odm_transaction_to_bson (&t, &out, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_RANGE);
   ck_assert (!strncmp (err.message, "createdAt: ", 11));
   bson_destroy (&out);
   odm_transaction_cleanup (&t);

   /* Unknown fields: a key the decoder refuses, one named twice, one that is a schema field. */
   {
      const char *const bad[] = {"{\"a.b\": 1}", "{\"$x\": 1}", "{\"z\": 1, \"z\": 2}", "{\"type\": \"x\"}"};
      const uint32_t codes[] = {ODM_ERROR_KEY, ODM_ERROR_KEY, ODM_ERROR_DUPLICATE_FIELD, ODM_ERROR_DUPLICATE_FIELD};
      const char *const paths[] = {"a.b: ", "$x: ", "z: ", "type: "};
      for (i = 0; i < 4; i++) {
         memset (&t, 0, sizeof t);
         t._extra = bson_new_from_json ((const uint8_t *) bad[i], -1, NULL);
         ck_assert (t._extra);
         ck_assert_msg (!odm_transaction_to_bson (&t, &out, &err), "extra %s written", bad[i]);
         ck_assert_uint_eq (err.code, codes[i]);
         ck_assert_msg (!strncmp (err.message, paths[i], strlen (paths[i])), "%s", err.message);
         bson_destroy (&out);
         odm_transaction_cleanup (&t);
      }
   }
}
END_TEST

/* Keys the writer refuses are refused on decode too (issue 11 item 7), and duplicates are
 * found by exact bytes, not by a dotted lookup (item 8). */
START_TEST (test_decode_keys)
{
   odm_chat_session_t s;
   bson_error_t err;
   odm_violations_t v;
   bson_t *b = BCON_NEW ("name", "n", "settings.temperature", BCON_DOUBLE (1e9));
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_KEY);
   odm_violations_init (&v);
   odm_violations_add_error (&v, &err);
   ck_assert_str_eq (v.items[0].path, "settings.temperature");
   ck_assert_str_eq (v.items[0].rule, "key");
   odm_violations_cleanup (&v);
   bson_destroy (b);

   b = BCON_NEW ("$where", "1");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_KEY);
   bson_destroy (b);
   b = BCON_NEW ("settings", "{", "", BCON_INT32 (1), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_KEY);
   ck_assert_str_eq (err.message, "settings.: keys may not be empty, start with '$' or contain '.'");
   bson_destroy (b);

   /* {"zz": {"b": 1}, "zz.b": 2}: not a duplicate (the old dotted lookup said so), a key error */
   b = BCON_NEW ("zz", "{", "b", BCON_INT32 (1), "}", "zz.b", BCON_INT32 (2));
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_KEY);
   bson_destroy (b);

   /* {"zz": {"b": 1}, "zzb": 2} and other near names are fine; a true repeat is not */
   b = BCON_NEW ("zz", "{", "b", BCON_INT32 (1), "}", "zzb", BCON_INT32 (2), "z", BCON_INT32 (3));
   ck_assert_msg (odm_chat_session_from_bson (b, &s, 0, &err), "%s", err.message);
   odm_chat_session_cleanup (&s);
   bson_destroy (b);
   b = BCON_NEW ("zz", BCON_INT32 (1), "y", BCON_INT32 (2), "zz", BCON_INT32 (3));
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_DUPLICATE_FIELD);
   ck_assert_str_eq (err.message, "zz: field appears twice");
   bson_destroy (b);

   /* Many unknown fields: all kept, in order (the decode is linear: bench/ measures it). */
   {
      bson_t *many = bson_new (), out;
      int i;
      char key[32];
      for (i = 0; i < 5000; i++) {
         bson_snprintf (key, sizeof key, "k%d", i);
         BSON_APPEND_INT32 (many, key, i);
      }
      ck_assert (odm_chat_session_from_bson (many, &s, 0, &err));
      ck_assert (odm_chat_session_to_bson (&s, &out, &err));
      ck_assert (bson_equal (&out, many));
      bson_destroy (&out);
      odm_chat_session_cleanup (&s);
      BSON_APPEND_INT32 (many, "k4321", 0);
      ck_assert (!odm_chat_session_from_bson (many, &s, 0, &err));
      ck_assert_str_eq (err.message, "k4321: field appears twice");
      bson_destroy (many);
   }
}
END_TEST

/* Messages and paths are never cut inside a UTF-8 character (issue 11 item 1). */
START_TEST (test_messages_whole_characters)
{
   odm_chat_setting_t cs;
   odm_violations_t v;
   bson_error_t err;
   char theme[200], key[1200];
   size_t i, n = 0;
   bson_t *b;

   theme[n++] = 'a';
   for (i = 0; i < 40; i++) {
      theme[n++] = '\xc3';
      theme[n++] = '\xa9';
   }
   theme[n] = '\0';
   odm_chat_setting_init (&cs);
   bson_free (cs.theme);
   cs.theme = bson_strdup (theme);
   odm_chat_setting_validate (&cs, NULL, &v);
   ck_assert (odm_test_has_violation (&v, "theme", "enum", NULL));
   for (i = 0; i < v.count; i++) {
      ck_assert (bson_utf8_validate (v.items[i].message, strlen (v.items[i].message), false));
      ck_assert (bson_utf8_validate (v.items[i].path, strlen (v.items[i].path), false));
   }
   odm_violations_cleanup (&v);
   odm_chat_setting_cleanup (&cs);

   /* A long non-ASCII unknown key in an error message (strict) and in a path, cut at an
    * even and an odd byte offset: key is "x" + 550 x "ü", used from key + 1 and from key. */
   key[0] = 'x';
   for (n = 1; n < 1100; n += 2) {
      key[n] = '\xc3';
      key[n + 1] = '\xbc';
   }
   key[n] = '\0';
   for (i = 0; i < 2; i++) {
      b = bson_new ();
      bson_append_int32 (b, key + 1 - i, -1, 1);
      ck_assert (!odm_chat_setting_from_bson (b, &cs, ODM_DECODE_STRICT, &err));
      ck_assert_msg (bson_utf8_validate (err.message, strlen (err.message), false), "cut message at shift %zu", i);
      odm_violations_init (&v);
      odm_violations_add_error (&v, &err);
      ck_assert (bson_utf8_validate (v.items[0].path, strlen (v.items[0].path), false));
      ck_assert_uint_gt (strlen (v.items[0].path), 300);
      odm_violations_cleanup (&v);
      bson_destroy (b);
   }
   /* Violations joined into one error message are cut at a character boundary. */
   odm_violations_init (&v);
   for (i = 0; i < 3; i++) {
      odm_violations_add (&v, key + 1 + i % 2, "x", key + i % 2);
   }
   odm_violations_to_error (&v, &err);
   ck_assert (bson_utf8_validate (err.message, strlen (err.message), false));
   ck_assert_uint_gt (strlen (err.message), 400);
   odm_violations_cleanup (&v);
   /* A violation given invalid bytes comes out valid UTF-8. */
   odm_violations_init (&v);
   odm_violations_add (&v, "a\xff", "x", "m\xc3");
   ck_assert_str_eq (v.items[0].path, "a\xef\xbf\xbd");
   ck_assert_str_eq (v.items[0].message, "m\xef\xbf\xbd");
   odm_violations_cleanup (&v);
}
END_TEST

/* Extended JSON read strictly (issue 11 items 3, 4, 5). */
START_TEST (test_json_reader)
{
   static const char *const refused[] = {
      "{\"a\":1}{\"b\":2}", "{\"a\":1},", "{\"a\":1} x", "[1]", "", "{\"a\":01}", "{\"a\":1.}", "{\"a\":+1}",
      "{\"a\":18446744073709551619}", "{\"a\":-9223372036854775809}", "{\"a\":1e400}", "{\"a\":\"\\ud800\"}",
      "{\"a\":\"\x01\"}", "{\"a\\u0000\":1}", "{\"a\":{\"$oid\":\"zzzzzzzzzzzzzzzzzzzzzzzz\"}}",
      "{\"a\":{\"$oid\":\"507f1f77bcf86cd79943901\"}}", "{\"a\":{\"$date\":{}}}", "{\"a\":{\"$date\":42}}",
      "{\"a\":{\"$date\":\"2024-13-01T00:00:00Z\"}}", "{\"a\":{\"$date\":{\"$numberLong\":\"1x\"}}}",
      "{\"a\":{\"$numberDecimal\":\"abc\"}}", "{\"a\":{\"$numberDouble\":\"0x10\"}}", "{\"a\":{\"$numberInt\":\"1.0\"}}",
      "{\"a\":{\"$binary\":{\"base64\":\"AA=\",\"subType\":\"00\"}}}", "{\"a\":{\"$binary\":{\"base64\":\"AAAA\"}}}",
      "{\"a\":{\"$regularExpression\":{\"pattern\":\"a\",\"options\":\"ii\"}}}", "{\"a\":{\"$timestamp\":{\"t\":4294967296,\"i\":0}}}",
      "{\"a\":{\"$code\":1}}", "{\"a\":{\"$scope\":{}}}", "{\"a\":{\"$maxKey\":0}}", "{\"a\":{\"$oid\":\"507f1f77bcf86cd799439011\",\"b\":1}}",
   };
   static const char *const read_as[][2] = {
      {"{\"a\":2147483648}", "{ \"a\" : { \"$numberLong\" : \"2147483648\" } }"},
      {"{\"a\":-0}", "{ \"a\" : { \"$numberDouble\" : \"-0.0\" } }"},
      {"{\"a\":1.8446744073709552e19}", "{ \"a\" : { \"$numberDouble\" : \"18446744073709551616.0\" } }"},
      {" {\"a\":\"\\u00e9\\ud83d\\ude00\"} \r\n", "{ \"a\" : \"\xc3\xa9\xf0\x9f\x98\x80\" }"},
      {"{\"a\":{\"$date\":\"1970-01-01T01:00:00+01:00\"}}", "{ \"a\" : { \"$date\" : { \"$numberLong\" : \"0\" } } }"},
      {"{\"a\":{\"$regularExpression\":{\"options\":\"xi\",\"pattern\":\"p\"}}}",
       "{ \"a\" : { \"$regularExpression\" : { \"pattern\" : \"p\", \"options\" : \"ix\" } } }"},
      {"{\"a\":{\"$regex\":{\"$in\":[1]}}}", "{ \"a\" : { \"$regex\" : { \"$in\" : [ { \"$numberInt\" : \"1\" } ] } } }"},
   };
   size_t i;
   bson_t b;
   bson_error_t err;
   for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
      ck_assert_msg (!odm_json_to_bson (refused[i], strlen (refused[i]), &b, &err), "accepted %s", refused[i]);
      ck_assert_uint_eq (err.code, ODM_ERROR_JSON);
      ck_assert_uint_eq (b.len, 5);
      bson_destroy (&b);
   }
   ck_assert (!odm_json_to_bson ("{\"x\":{\"y\":[0,{\"$oid\":\"1\"}]}}", 29, &b, &err));
   ck_assert_msg (!strncmp (err.message, "x.y.1: $oid", 11), "%s", err.message);
   bson_destroy (&b);
   for (i = 0; i < sizeof read_as / sizeof read_as[0]; i++) {
      char *json;
      ck_assert_msg (odm_json_to_bson (read_as[i][0], strlen (read_as[i][0]), &b, &err), "%s: %s", read_as[i][0],
                     err.message);
      json = bson_as_canonical_extended_json (&b, NULL);
      ck_assert_str_eq (json, read_as[i][1]);
      bson_free (json);
      bson_destroy (&b);
   }
   /* Every fixture reads the same as through libbson's reader. */
   {
      size_t n;
      const odm_schema_t *const *all = odm_schemas (&n);
      for (i = 0; i < n; i++) {
         char path[512], *text;
         size_t len;
         bson_t *lib;
         snprintf (path, sizeof path, "%s/%s.full.json", ODM_TEST_DATA_DIR, all[i]->collection);
         text = odm_test_read_file (path, &len);
         ck_assert_msg (text, "%s", path);
         lib = bson_new_from_json ((const uint8_t *) text, (ssize_t) len, NULL);
         ck_assert_msg (odm_json_to_bson (text, len, &b, &err), "%s: %s", path, err.message);
         ck_assert_msg (bson_equal (lib, &b), "%s reads differently", path);
         bson_destroy (lib);
         bson_destroy (&b);
         bson_free (text);
      }
   }
}
END_TEST

/* Generated arithmetic is checked (issue 10 s2): dates far apart do not overflow. */
START_TEST (test_derive_checked)
{
   odm_webinar_registration_t w;
   odm_violations_t v;
   odm_prepare_opts_t opts = {.now_ms = 1750000000000};
   odm_webinar_registration_init (&w);
   w.attendance.joinedAt = INT64_MIN + 1;
   w.attendance.has_joinedAt = ODM_PRESENT;
   w.attendance.leftAt = INT64_MAX;
   w.attendance.has_leftAt = ODM_PRESENT;
   odm_webinar_registration_prepare (&w, &opts, &v);
   ck_assert (odm_test_has_violation (&v, "attendance.duration", "seconds_between", NULL));
   ck_assert_uint_ne (w.attendance.has_duration, ODM_PRESENT);
   odm_violations_cleanup (&v);
   w.attendance.joinedAt = 1000;
   w.attendance.leftAt = 62999;
   odm_webinar_registration_prepare (&w, &opts, &v);
   ck_assert (!odm_test_has_violation (&v, "attendance.duration", "seconds_between", NULL));
   ck_assert (w.attendance.has_duration == ODM_PRESENT && w.attendance.duration == 61);
   odm_violations_cleanup (&v);
   odm_webinar_registration_cleanup (&w);
}
END_TEST

/* odm_check_keys on keys that are not UTF-8 or are longer than a path holds: the key is
 * refused, and the path it reports is UTF-8 (it is printed as JSON), never cut inside a
 * character. Found by tests/fuzz/fuzz-keys.c. */
START_TEST (test_check_keys_utf8_paths)
{
   bson_t doc = BSON_INITIALIZER, sub;
   odm_violations_t v;
   char long_key[700];
   size_t i;

   memcpy (long_key, "$x", 2);
   for (i = 2; i + 2 < sizeof long_key; i += 2) {
      memcpy (long_key + i, "\xc3\xa9", 2); /* é */
   }
   long_key[i] = '\0';
   BSON_APPEND_INT32 (&doc, "ok\xff\xfe", 1);
   BSON_APPEND_DOCUMENT_BEGIN (&doc, "a", &sub);
   /* under "a.", the 511-byte path limit falls one byte into an é */
   BSON_APPEND_INT32 (&sub, long_key, 1);
   bson_append_int32 (&sub, "x.", 2, 1);
   bson_append_document_end (&doc, &sub);
   odm_violations_init (&v);
   ck_assert (!odm_check_keys (&doc, &v));
   ck_assert_uint_eq (v.count, 3);
   ck_assert_str_eq (v.items[0].path, "ok\xEF\xBF\xBD\xEF\xBF\xBD");
   ck_assert_str_eq (v.items[0].rule, "key");
   for (i = 0; i < v.count; i++) {
      ck_assert_msg (bson_utf8_validate (v.items[i].path, strlen (v.items[i].path), false), "path %zu is not UTF-8", i);
   }
   ck_assert (strncmp (v.items[1].path, "a.$x\xc3\xa9", 6) == 0);
   ck_assert_str_eq (v.items[2].path, "a.x.");
   odm_violations_cleanup (&v);
   bson_destroy (&doc);
}
END_TEST

/* odm_filter_check on a filter from request data whose keys are not UTF-8: the violation
 * paths are UTF-8 (bad bytes shown as U+FFFD). Found by tests/fuzz/fuzz-filter.c. */
START_TEST (test_filter_check_utf8_paths)
{
   bson_t f = BSON_INITIALIZER, sub, arr;
   odm_violations_t v;
   size_t i;

   BSON_APPEND_INT32 (&f, "st\xffus", 1);
   BSON_APPEND_DOCUMENT_BEGIN (&f, "status", &sub);
   BSON_APPEND_INT32 (&sub, "$e\xc3q", 1);
   bson_append_document_end (&f, &sub);
   BSON_APPEND_ARRAY_BEGIN (&f, "$or", &arr);
   BSON_APPEND_INT32 (&arr, "\xfe", 1);
   bson_append_array_end (&f, &arr);
   ck_assert (!odm_filter_check (odm_schema_find ("support_tickets"), &f, &v));
   ck_assert_uint_eq (v.count, 3);
   for (i = 0; i < v.count; i++) {
      ck_assert_msg (bson_utf8_validate (v.items[i].path, strlen (v.items[i].path), false), "path %zu is not UTF-8", i);
   }
   /* U+FFFD for each bad byte, as in every other report (odm_violations_add) */
   ck_assert_str_eq (v.items[0].path, "st\xEF\xBF\xBDus");
   ck_assert_str_eq (v.items[1].path, "status.$e\xEF\xBF\xBDq");
   ck_assert_str_eq (v.items[2].path, "$or.\xEF\xBF\xBD");
   odm_violations_cleanup (&v);
   bson_destroy (&f);
}
END_TEST

Suite *
codec_suite (void)
{
   Suite *s = suite_create ("codec");
   TCase *tc = tcase_create ("codec");
   size_t n;
   odm_schemas (&n);
   tcase_add_loop_test (tc, test_roundtrip_full, 0, (int) n);
   tcase_add_loop_test (tc, test_roundtrip_min, 0, (int) n);
   tcase_add_loop_test (tc, test_encode_large_documents, 0, (int) n);
   tcase_add_loop_test (tc, test_key_matching_exact, 0, (int) n);
   tcase_add_test (tc, test_wrong_type_names_path);
   tcase_add_test (tc, test_failed_decode_frees_partial);
   tcase_add_test (tc, test_decode_error_as_violation);
   tcase_add_test (tc, test_unknown_fields_kept);
   tcase_add_test (tc, test_null_and_empty_roundtrip);
   tcase_add_test (tc, test_duplicate_and_corrupt);
   tcase_add_test (tc, test_numbers);
   tcase_add_test (tc, test_init_defaults);
   tcase_add_test (tc, test_copy);
   tcase_add_test (tc, test_conformance_valid_roundtrip);
   tcase_add_test (tc, test_conformance_malformed_refused);
   tcase_add_test (tc, test_depth_bounded);
   tcase_add_test (tc, test_encoder_refuses_what_decoder_refuses);
   tcase_add_test (tc, test_encode_nested_presence_and_paths);
   tcase_add_test (tc, test_encode_array_keys_and_strings);
   tcase_add_test (tc, test_null_string_element);
   tcase_add_test (tc, test_mixed_null_pointers);
   tcase_add_test (tc, test_dangling_array);
   tcase_add_test (tc, test_decode_keys);
   tcase_add_test (tc, test_messages_whole_characters);
   tcase_add_test (tc, test_json_reader);
   tcase_add_test (tc, test_derive_checked);
   tcase_add_test (tc, test_oid_unique);
   tcase_add_test (tc, test_arena_decode);
   tcase_add_test (tc, test_arena_prepare);
   tcase_add_test (tc, test_arena_growth);
   tcase_add_test (tc, test_readme_accept_session);
   tcase_add_test (tc, test_to_bson_into);
   tcase_add_test (tc, test_check_keys_utf8_paths);
   tcase_add_test (tc, test_filter_check_utf8_paths);
   suite_add_tcase (s, tc);
   return s;
}
