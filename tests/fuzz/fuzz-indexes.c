/* libFuzzer harness over the index-spec reading of `odm indexes diff`: the listIndexes
 * entries a server returns (name, key pattern, unique), compared with the collection's
 * merged index list; and the lint of that list.
 * Input: one byte choosing the collection (and whether the wanted indexes are listed
 * too), then a BSON document whose values are the listed index documents.
 * Promises checked: no crash, no leak; every difference is reported with a known rule and
 * UTF-8 text; when every wanted index is on the list, none is reported missing. */
#include "fuzz-common.h"

#include "odm-private.h"

#include <stdint.h>

#define H "indexes"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   const odm_schema_t *s;
   unsigned opt;
   bson_t in, listed = BSON_INITIALIZER;
   bson_iter_t it;
   odm_violations_t v;
   uint32_t k = 0, i;
   size_t j;

   if (size < 6) {
      return 0;
   }
   s = fuzz_schema (data[0], &opt);
   if (!bson_init_static (&in, data + 1, size - 1)) {
      return 0;
   }
   /* As given, corrupt or not. */
   odm_indexes_diff_listed (s, &in, &v);
   fuzz_check_violations (H, &v);
   odm_violations_cleanup (&v);
   if (!(opt & 1) || !bson_validate (&in, BSON_VALIDATE_NONE, NULL) || !bson_iter_init (&it, &in)) {
      return 0;
   }
   /* The same list with every wanted index appended. */
   while (bson_iter_next (&it)) {
      char key[16];
      bson_snprintf (key, sizeof key, "%u", k++);
      bson_append_iter (&listed, key, -1, &it);
   }
   for (i = 0; i < s->index_count; i++) {
      char key[16];
      bson_t entry, *keys;
      if (!odm_index_wanted (&s->indexes[i])) {
         continue;
      }
      if (!(keys = bson_new_from_json ((const uint8_t *) s->indexes[i].keys_json, -1, NULL))) {
         fuzz_fail (H, "a generated key pattern is not JSON", s->indexes[i].keys_json);
      }
      bson_snprintf (key, sizeof key, "%u", k++);
      BSON_APPEND_DOCUMENT_BEGIN (&listed, key, &entry);
      BSON_APPEND_UTF8 (&entry, "name", s->indexes[i].name);
      BSON_APPEND_DOCUMENT (&entry, "key", keys);
      if (s->indexes[i].unique) {
         BSON_APPEND_BOOL (&entry, "unique", true);
      }
      bson_append_document_end (&listed, &entry);
      bson_destroy (keys);
   }
   odm_indexes_diff_listed (s, &listed, &v);
   fuzz_check_violations (H, &v);
   for (j = 0; j < v.count; j++) {
      const char *r = v.items[j].rule;
      if (!strcmp (r, "missing")) {
         fuzz_fail (H, "a listed index is reported missing", v.items[j].message);
      }
      if (strcmp (r, "extra") && strcmp (r, "differs") && strcmp (r, "declared")) {
         fuzz_fail (H, "unknown rule", r);
      }
   }
   odm_violations_cleanup (&v);
   bson_destroy (&listed);

   odm_indexes_lint (s, &v);
   fuzz_check_violations (H, &v);
   odm_violations_cleanup (&v);
   return 0;
}
