/* libodm: the string rules (patterns, regular expressions, lengths, lowercase) and, in the
 * second part of this file, the rule primitives that generated code calls (not part of the
 * stable API). Include <odm/odm.h>, not this file. */
#if !defined(ODM_INSIDE) && !defined(ODM_COMPILATION)
#error "Only <odm/odm.h> can be included directly."
#endif

#ifndef ODM_RULES_H
#define ODM_RULES_H

#include <bson/bson.h>
#include <string.h>

#include "odm-macros.h"
#include "odm-schema.h"
#include "odm-vocabulary.h"

ODM_BEGIN_DECLS

typedef enum {
   ODM_PATTERN_EMAIL = 1, /* /^[^\s@]+@[^\s@]+\.[^\s@]+$/ */
   ODM_PATTERN_USERNAME,  /* /^[a-zA-Z0-9_]+$/ */
   ODM_PATTERN_SLUG       /* /^[a-z0-9-]+$/ */
} odm_pattern_t;

/* A spec's regular expression ({"kind": "pattern", "regex": ...}), compiled with PCRE2 on
 * first use. Generated code declares one per rule; the runtime owns `compiled`. */
typedef struct {
   const char *source; /* JavaScript syntax, without the slashes: "^ORD-\\d{6}$" */
   uint32_t flags;     /* ODM_REGEX_* */
   void *compiled;     /* runtime's: NULL until first use */
} odm_regex_t;

/* ODM_REGEX_IGNORE_CASE, ODM_REGEX_MULTILINE, ODM_REGEX_DOT_ALL: odm-vocabulary.h. */

/* Whether S matches RE as JavaScript's RE.test (S) does, in the common cases: PCRE2 with
 * UTF-8, `$` only at the end, \d and \w ASCII as in JavaScript, \uhhhh and \u{h...}
 * escapes, and a back reference to a group that did not match matching the empty string.
 * (Differences: \s also without Unicode spaces beyond Latin-1 is PCRE2's set; lookbehind
 * must have a bounded length.) False when RE does not compile. */
ODM_API bool
odm_regex_match (odm_regex_t *re, const char *s);

/* Frees RE's compiled form (for an odm_regex_t of your own that does not live as long as
 * the process; the generated ones do). RE can be used again: it recompiles. */
ODM_API void
odm_regex_cleanup (odm_regex_t *re);

/* Length of UTF-8 string S in UTF-16 code units (JavaScript's String.length). */
ODM_API size_t
odm_utf16_length (const char *s);

/* Whether S matches PATTERN exactly as the platform specification's JavaScript regular expression does
 * (\s is JavaScript's white space set, including the Unicode spaces). */
ODM_API bool
odm_pattern_match (odm_pattern_t pattern, const char *s);

/* Lowercases S in place the way JavaScript's toLowerCase() does in ASCII, Latin-1, Latin
 * Extended-A, Greek and Coptic, and Cyrillic (U+0000..U+017F, U+0370..U+04FF), except U+0130
 * (capital I with dot above), whose lowercase is one byte longer: it is left as it is. Greek
 * capital sigma always becomes small sigma (JavaScript picks final sigma at a word's end). */
ODM_API void
odm_lowercase_inplace (char *s);

/* The same lowercase as a new string (bson_free it), U+0130 included (to U+0069 U+0307, as
 * JavaScript does); NULL when S is NULL. The pre-save path uses this one. */
ODM_API char *
odm_lowercase (const char *s);

/* ==========================================================================================
 * For generated code only, not part of the stable API.
 *
 * The rule and derivation primitives the generated `<collection>_rules` and
 * `<collection>_derive` functions call: one per kind of ODM_RULE_KINDS / ODM_DERIVE_KINDS
 * (odm-vocabulary.h), each reporting its kind as the rule name. They are exported so that
 * generated code links (ODM_GENERATED_API), but their signatures follow the codegen ABI
 * (ODM_CODEGEN_ABI) and change with it: do not call them from your own code. The generated
 * rule functions are straight lines of these calls, so a breakpoint on a rule is a
 * breakpoint here. Each adds at most one violation to ctx->out. "has" arguments take the
 * generated has_<field> value (ODM_PRESENT counts as present; absent and null do not).
 * ========================================================================================== */

/* The field rules of F (required, presence, a null read as 0, min, max, lengths, enum; of
 * each element for arrays; of the nested object's fields for objects) in the object at OBJ,
 * reported with the path UP + F into OUT. The generated per-object validators
 * (odm_object_validate_fn) test each field inline and call this for a field whose test
 * fails, so that the table walker alone words the violations. */
ODM_GENERATED_API void
odm_validate_field (const odm_field_t *f, const void *obj, const odm_vframe_t *up, odm_violations_t *out);

/* A new ObjectId into OID: the generated defaults' auto _id. Thread-safe, no lock. */
ODM_GENERATED_API void
odm_oid_new (bson_oid_t *oid);

/* Whether any of the N bytes at P is non-zero: a scalar that holds a value. */
static inline bool
odm_nonzero (const void *p, size_t n)
{
   const unsigned char *b = (const unsigned char *) p;
   uint64_t w;
   uint32_t t;
   size_t i;
   if (n == 8) { /* a number or a date: one word */
      memcpy (&w, b, 8);
      return w != 0;
   }
   if (n == 12) { /* an ObjectId */
      memcpy (&w, b, 8);
      memcpy (&t, b + 8, 4);
      return (w | t) != 0;
   }
   for (i = 0; i < n; i++) {
      if (b[i]) {
         return true;
      }
   }
   return false;
}

/* min: fails when V is present and below MIN. */
ODM_GENERATED_API void
odm_rule_min (odm_rule_ctx_t *ctx, const char *path, uint8_t has, double v, double min, const char *msg);

/* max: fails when V is present and above MAX. */
ODM_GENERATED_API void
odm_rule_max (odm_rule_ctx_t *ctx, const char *path, uint8_t has, double v, double max, const char *msg);

/* after: fails when both dates are present and A <= B. */
ODM_GENERATED_API void
odm_rule_after (odm_rule_ctx_t *ctx, const char *path, uint8_t has_a, int64_t a, uint8_t has_b, int64_t b, const char *msg);

/* not_greater: fails when both numbers are present and A > B. */
ODM_GENERATED_API void
odm_rule_not_greater (odm_rule_ctx_t *ctx, const char *path, uint8_t has_a, double a, uint8_t has_b, double b, const char *msg);

/* max_items: fails when COUNT > MAX. */
ODM_GENERATED_API void
odm_rule_max_items (odm_rule_ctx_t *ctx, const char *path, size_t count, size_t max, const char *msg);

/* items_if_any: fails when COUNT != 0 and COUNT != N. */
ODM_GENERATED_API void
odm_rule_items_if_any (odm_rule_ctx_t *ctx, const char *path, size_t count, size_t n, const char *msg);

/* sum_not_greater: over the COUNT subdocuments at ITEMS (ELEM_SIZE bytes apart), the sum of
 * the double at VALUE_OFFSET of those whose presence byte at PRESENCE_OFFSET is ODM_PRESENT;
 * fails when COUNT > 0, THAN is present and the sum is greater than THAN. */
ODM_GENERATED_API void
odm_rule_sum_not_greater (odm_rule_ctx_t *ctx, const char *path, const void *items, size_t count, size_t elem_size,
                          size_t value_offset, size_t presence_offset, uint8_t has_than, double than, const char *msg);

/* pattern (with "regex"): fails when S is non-NULL, non-empty and does not match RE. */
ODM_GENERATED_API void
odm_rule_regex (odm_rule_ctx_t *ctx, const char *path, const char *s, odm_regex_t *re, const char *msg);

/* pattern (with "pattern"): fails when S is non-NULL, non-empty and does not match PATTERN. */
ODM_GENERATED_API void
odm_rule_pattern (odm_rule_ctx_t *ctx, const char *path, const char *s, odm_pattern_t pattern, const char *msg);

/* minlength: fails when S is non-NULL and shorter than MIN UTF-16 code units. */
ODM_GENERATED_API void
odm_rule_minlength (odm_rule_ctx_t *ctx, const char *path, const char *s, size_t min, const char *msg);

/* byte_length_equals: fails when S is non-NULL, SIZE is present and strlen(S) != SIZE. */
ODM_GENERATED_API void
odm_rule_byte_length_equals (odm_rule_ctx_t *ctx, const char *path, const char *s, uint8_t has_size, double size, const char *msg);

/* not_equal_id: fails when both are present and A equals ID. */
ODM_GENERATED_API void
odm_rule_not_equal_id (odm_rule_ctx_t *ctx, const char *path, uint8_t has_a, const bson_oid_t *a, uint8_t has_id, const bson_oid_t *id, const char *msg);

/* future_on_create: fails when V is present and not after now, on a create, or on an update
 * whose PREVIOUS value (NULL when the stored document is not known) differs from V. */
ODM_GENERATED_API void
odm_rule_future_on_create (odm_rule_ctx_t *ctx, const char *path, uint8_t has, int64_t v, const uint8_t *prev_has, const int64_t *prev, const char *msg);

/* requires: fails when COND holds and HAS is false. */
ODM_GENERATED_API void
odm_rule_requires (odm_rule_ctx_t *ctx, const char *path, bool cond, bool has, const char *msg);

/* now_when: when COND holds and the date is not present, *V = now and *HAS = present. */
ODM_GENERATED_API void
odm_derive_now_when (odm_rule_ctx_t *ctx, const char *path, bool cond, uint8_t *has, int64_t *v);

/* true_when: when COND holds, *V = true and *HAS = present. */
ODM_GENERATED_API void
odm_derive_true_when (odm_rule_ctx_t *ctx, const char *path, bool cond, uint8_t *has, bool *v);

/* count_of: when the objects holding the count are not null (HOLDER_NOT_NULL) and the array
 * is not null (HAS_OF), *V = COUNT and *HAS = present (a null array keeps the given count). */
ODM_GENERATED_API void
odm_derive_count_of (odm_rule_ctx_t *ctx, const char *path, bool holder_not_null, uint8_t has_of, size_t count,
                     uint8_t *has, double *v);

/* seconds_between: *OUT = floor ((TO - FROM) / 1000) seconds when both dates are present and
 * TO is after FROM (else nothing changes). The subtraction is checked: when it would overflow
 * int64 the field is left as it was and a violation (rule "seconds_between") names PATH. */
ODM_GENERATED_API void
odm_derive_seconds_between (odm_rule_ctx_t *ctx, const char *path, uint8_t has_from, int64_t from, uint8_t has_to,
                            int64_t to, double *out, uint8_t *has_out);

/* An operand that the platform's hook compares unguarded (`a > b`, `a <= b`): JavaScript
 * reads null as 0 there (the epoch for a date) and undefined as NaN (every comparison false).
 * The generated rules wrap such an operand's has/value pair with these, so that null takes
 * part as a present 0 and absent stays absent. */
#define ODM_JS_HAS(has) ((uint8_t) ((has) == ODM_NULL ? ODM_PRESENT : (has)))
#define ODM_JS_NUMBER(has, v) ((has) == ODM_NULL ? 0.0 : (v))
#define ODM_JS_DATE(has, v) ((has) == ODM_NULL ? INT64_C (0) : (v))

/* Whether S is non-NULL and equal to LITERAL (a `when` condition). */
ODM_GENERATED_API bool
odm_str_eq (const char *s, const char *literal);

ODM_END_DECLS

#endif /* ODM_RULES_H */
