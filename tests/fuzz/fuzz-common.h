/* Shared by the libFuzzer harnesses: choosing a schema from a byte and the promises every
 * harness checks about what libodm hands back (violations, error messages, JSON output).
 * A broken promise aborts, which libFuzzer (and fuzz_smoke) report as a crash. */
#ifndef ODM_FUZZ_COMMON_H
#define ODM_FUZZ_COMMON_H

#include <odm/odm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_NOW_MS 1750000000000ll

/* The schema chosen by byte B; *REST receives B / (number of schemas) for option bits. */
static inline const odm_schema_t *
fuzz_schema (uint8_t b, unsigned *rest)
{
   size_t n;
   const odm_schema_t *const *all = odm_schemas (&n);
   if (rest) {
      *rest = (unsigned) (b / n);
   }
   return all[b % n];
}

static inline void
fuzz_fail (const char *harness, const char *what, const char *detail)
{
   fprintf (stderr, "fuzz %s: %s%s%s\n", harness, what, detail ? ": " : "", detail ? detail : "");
   abort ();
}

static inline bool
fuzz_utf8 (const char *s)
{
   return s && bson_utf8_validate (s, strlen (s), false);
}

/* Whether B and every document and array in it are well-formed (bson_validate alone
 * lets a nested document with a bad terminator through, which libbson then cannot copy). */
static inline bool
fuzz_bson_ok (const bson_t *b, int depth)
{
   bson_iter_t it;
   if (depth > 200 || !bson_validate (b, BSON_VALIDATE_NONE, NULL) || !bson_iter_init (&it, b)) {
      return false;
   }
   while (bson_iter_next (&it)) {
      if (BSON_ITER_HOLDS_DOCUMENT (&it) || BSON_ITER_HOLDS_ARRAY (&it)) {
         const uint8_t *data;
         uint32_t len;
         bson_t sub;
         if (BSON_ITER_HOLDS_DOCUMENT (&it)) {
            bson_iter_document (&it, &len, &data);
         } else {
            bson_iter_array (&it, &len, &data);
         }
         if (!bson_init_static (&sub, data, len) || !fuzz_bson_ok (&sub, depth + 1)) {
            return false;
         }
      }
   }
   return true;
}

/* Every violation names a path and a rule, and its path and message are valid UTF-8 that
 * can be printed as JSON (odm validate prints them). */
static inline void
fuzz_check_violations (const char *harness, const odm_violations_t *v)
{
   size_t i;
   bson_t b = BSON_INITIALIZER;
   char *json;
   for (i = 0; i < v->count; i++) {
      if (!v->items[i].rule || !*v->items[i].rule) {
         fuzz_fail (harness, "violation without a rule", v->items[i].path);
      }
      if (!fuzz_utf8 (v->items[i].path)) {
         fuzz_fail (harness, "violation path is not valid UTF-8", v->items[i].message);
      }
      if (!fuzz_utf8 (v->items[i].message)) {
         fuzz_fail (harness, "violation message is not valid UTF-8", v->items[i].path);
      }
   }
   odm_violations_append_bson (v, &b, "errors");
   if (!(json = bson_as_canonical_extended_json (&b, NULL))) {
      fuzz_fail (harness, "violations cannot be printed as JSON", NULL);
   }
   bson_free (json);
   bson_destroy (&b);
}

/* An error message is text: valid UTF-8 (it ends up in logs and JSON). */
static inline void
fuzz_check_error (const char *harness, const bson_error_t *e)
{
   if (!bson_utf8_validate (e->message, strnlen (e->message, sizeof e->message), false)) {
      fuzz_fail (harness, "error message is not valid UTF-8", NULL);
   }
}

#endif /* ODM_FUZZ_COMMON_H */
