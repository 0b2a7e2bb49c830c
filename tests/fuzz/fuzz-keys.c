/* libFuzzer harness over the key and filter checks: odm_check_keys on any BSON, the same
 * check on a decoded struct (odm_check_doc_keys, run before every write), and the
 * conditional filter odm_save and odm_update build from a stored document.
 * Input: one byte choosing the collection (and the decode mode), then BSON bytes.
 * Promises checked: no crash, no leak; odm_check_keys reports exactly the keys that are
 * empty, start with '$', contain '.' or are not valid UTF-8, at any depth, with UTF-8
 * paths; checking the struct agrees with checking its encoding; the filter has one
 * {$eq: value} per field. */
#include "fuzz-common.h"

#include "odm-private.h"

#include <stdint.h>

#define H "keys"

/* The reference count of refused keys, walked independently of the library. */
static size_t
bad_keys (const bson_t *b)
{
   bson_iter_t it;
   size_t n = 0;
   if (!bson_iter_init (&it, b)) {
      return 0;
   }
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      n += k[0] == '$' || k[0] == '\0' || strchr (k, '.') != NULL || !bson_utf8_validate (k, strlen (k), false);
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
            n += bad_keys (&sub);
         }
      }
   }
   return n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   const odm_schema_t *s;
   unsigned opt;
   bson_t in, filter;
   bson_iter_t it, f;
   odm_violations_t v;
   bson_error_t err = {0};
   bool ok;
   size_t fields = 0;
   void *doc;

   if (size < 6) {
      return 0;
   }
   s = fuzz_schema (data[0], &opt);
   if (!bson_init_static (&in, data + 1, size - 1)) {
      return 0;
   }
   /* Corrupt BSON: no crash, no read past the end. */
   odm_violations_init (&v);
   odm_check_keys (&in, &v);
   odm_violations_cleanup (&v);
   if (!fuzz_bson_ok (&in, 0)) {
      return 0;
   }

   odm_violations_init (&v);
   ok = odm_check_keys (&in, &v);
   fuzz_check_violations (H, &v);
   if (ok != (v.count == 0) || v.count != bad_keys (&in)) {
      fuzz_fail (H, "odm_check_keys does not report every refused key once", NULL);
   }
   odm_violations_cleanup (&v);

   odm_conditional_filter (&in, &filter);
   bson_iter_init (&it, &in);
   bson_iter_init (&f, &filter);
   while (bson_iter_next (&it)) {
      bson_iter_t eq;
      fields++;
      if (!bson_iter_next (&f) || strcmp (bson_iter_key (&it), bson_iter_key (&f)) != 0 ||
          !BSON_ITER_HOLDS_DOCUMENT (&f) || !bson_iter_recurse (&f, &eq) || !bson_iter_next (&eq) ||
          strcmp (bson_iter_key (&eq), "$eq") != 0 || bson_iter_type (&eq) != bson_iter_type (&it) ||
          bson_iter_next (&eq)) {
         fuzz_fail (H, "the conditional filter is not one {$eq: value} per field", bson_iter_key (&it));
      }
   }
   if (bson_iter_next (&f) || bson_count_keys (&filter) != fields) {
      fuzz_fail (H, "the conditional filter has extra fields", NULL);
   }
   bson_destroy (&filter);

   doc = bson_malloc0 (s->root->size);
   if (odm_from_bson (s, &in, doc, (opt & 1) ? ODM_DECODE_STRICT : ODM_DECODE_DEFAULT, &err)) {
      bson_t enc;
      odm_violations_t v2;
      bool ok2;
      odm_violations_init (&v);
      ok = odm_check_doc_keys (s, doc, &v);
      fuzz_check_violations (H, &v);
      if (!odm_to_bson (s, doc, &enc, &err)) {
         fuzz_fail (H, "a decoded document does not encode", err.message);
      }
      odm_violations_init (&v2);
      ok2 = odm_check_keys (&enc, &v2);
      if (ok != ok2 || v.count != v2.count) {
         fuzz_fail (H, "checking the struct and checking its encoding disagree", NULL);
      }
      odm_violations_cleanup (&v2);
      odm_violations_cleanup (&v);
      bson_destroy (&enc);
      odm_cleanup (s, doc);
   }
   bson_free (doc);
   return 0;
}
