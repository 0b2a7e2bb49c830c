/* libFuzzer harness over odm_update's check, apply and revalidate steps, through
 * odm_update_apply (no server): both the stored document and the update are fuzzed.
 * Input: one byte choosing the collection, then the stored document as BSON (its length
 * prefix tells where it ends), then the update document as BSON.
 * Promises checked: no crash, no leak; a refused update says why in UTF-8 (error and
 * violations); an accepted one has no violations, and the document it would store decodes
 * in the schema, validates, and carries no key that odm_check_keys refuses. */
#include "fuzz-common.h"

#include <stdint.h>

#define H "update"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   const odm_schema_t *s;
   uint32_t len;
   bson_t stored, update, out;
   odm_violations_t v;
   odm_update_opts_t opts = ODM_UPDATE_OPTS_INIT;
   bson_error_t err = {0};
   bool ok;

   if (size < 1 + 5 + 5) {
      return 0;
   }
   opts.now_ms = FUZZ_NOW_MS;
   s = fuzz_schema (data[0], NULL);
   memcpy (&len, data + 1, 4);
   len = BSON_UINT32_FROM_LE (len);
   if (len < 5 || len > size - 1 - 5) {
      return 0;
   }
   if (!bson_init_static (&stored, data + 1, len) ||
       !bson_init_static (&update, data + 1 + len, size - 1 - len)) {
      return 0;
   }
   ok = odm_update_apply (s, &stored, &update, &opts, &out, &v, &err);
   fuzz_check_violations (H, &v);
   if (!ok) {
      fuzz_check_error (H, &err);
   } else {
      void *doc = bson_malloc0 (s->root->size);
      odm_violations_t v2;
      if (v.count) {
         fuzz_fail (H, "accepted with violations", v.items[0].message);
      }
      if (!odm_from_bson (s, &out, doc, ODM_DECODE_DEFAULT, &err)) {
         fuzz_fail (H, "the updated document does not decode", err.message);
      }
      if (!odm_validate (s, doc, NULL, &v2)) {
         fuzz_fail (H, "the updated document does not validate", v2.count ? v2.items[0].message : NULL);
      }
      odm_violations_cleanup (&v2);
      if (!odm_check_keys (&out, &v2)) {
         fuzz_fail (H, "the updated document has a refused key", v2.count ? v2.items[0].path : NULL);
      }
      odm_violations_cleanup (&v2);
      odm_cleanup (s, doc);
      bson_free (doc);
   }
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   return 0;
}
