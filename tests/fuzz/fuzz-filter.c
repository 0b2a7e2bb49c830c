/* libFuzzer harness over odm_filter_check, the check of filters built from request data
 * (odm_find, odm_count and odm_update with checked_filter, and the `odm` command).
 * Input: one byte choosing the collection, then the filter as BSON.
 * Promises checked: no crash, no leak, bounded recursion on any filter; the result says
 * "refused" exactly when there are violations, each with a known rule and UTF-8 text; a
 * filter that calls server-side JavaScript at its top level ($where) is always refused. */
#include "fuzz-common.h"

#include <stdint.h>

#define H "filter"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   const odm_schema_t *s;
   bson_t in;
   bson_iter_t it;
   odm_violations_t v;
   size_t i;
   bool ok;

   if (size < 6) {
      return 0;
   }
   s = fuzz_schema (data[0], NULL);
   if (!bson_init_static (&in, data + 1, size - 1)) {
      return 0;
   }
   ok = odm_filter_check (s, &in, &v);
   fuzz_check_violations (H, &v);
   if (ok != (v.count == 0)) {
      fuzz_fail (H, "the result and the violations disagree", NULL);
   }
   for (i = 0; i < v.count; i++) {
      const char *r = v.items[i].rule;
      if (strcmp (r, "operator") && strcmp (r, "unknown") && strcmp (r, "type") && strcmp (r, "depth") &&
          strcmp (r, "bson") && strcmp (r, "enum")) {
         fuzz_fail (H, "unknown rule", r);
      }
   }
   if (ok && fuzz_bson_ok (&in, 0) && bson_iter_init_find (&it, &in, "$where")) {
      fuzz_fail (H, "a $where filter was accepted", NULL);
   }
   odm_violations_cleanup (&v);
   return 0;
}
