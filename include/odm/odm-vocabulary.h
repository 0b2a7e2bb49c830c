/* libodm: the words a spec and a violation share. Include <odm/odm.h>, not this file.
 *
 * One list of each, read by the generator (codegen/rules.c: one row per rule kind) and by
 * the runtime (src/odm-validate.c: one primitive per rule kind, reporting the kind's name),
 * so that the kind a spec writes is the rule name a violation reports. This header has no
 * dependencies: odmgen includes it as it is. */
#ifndef ODM_VOCABULARY_H
#define ODM_VOCABULARY_H

/* The kinds of a spec's "rules" (cross-field rules; docs/spec-format.md). */
#define ODM_RULE_KINDS(X)                                                                                         \
   X (min)                                                                                                        \
   X (max)                                                                                                        \
   X (after)                                                                                                      \
   X (not_greater)                                                                                                \
   X (max_items)                                                                                                  \
   X (items_if_any)                                                                                               \
   X (sum_not_greater)                                                                                            \
   X (pattern)                                                                                                    \
   X (minlength)                                                                                                  \
   X (byte_length_equals)                                                                                         \
   X (not_equal_id)                                                                                               \
   X (future_on_create)                                                                                           \
   X (requires)

/* The kinds of a spec's "derive" (pre-save derivations); a derivation that cannot be computed
 * reports its kind as the rule. */
#define ODM_DERIVE_KINDS(X)                                                                                       \
   X (now_when)                                                                                                   \
   X (true_when)                                                                                                  \
   X (count_of)                                                                                                   \
   X (seconds_between)

/* The rules a field states itself, as (rule name = the key of the field's "messages",
 * member of odm_messages_t that holds the message). */
#define ODM_FIELD_RULES(X)                                                                                        \
   X (required, required)                                                                                         \
   X (min, min)                                                                                                   \
   X (max, max)                                                                                                   \
   X (minlength, minlength)                                                                                       \
   X (maxlength, maxlength)                                                                                       \
   X (enum, enumeration)

/* The rule a custom validator reports: the field key a spec writes ("validate": {"fn",
 * "message"}), and odm_validator_add's default. */
#define ODM_VALIDATE_RULE "validate"

/* One constant per kind: ODM_RULE_min, ..., ODM_RULE_seconds_between. */
typedef enum {
#define ODM_VOCABULARY_X(k) ODM_RULE_##k,
   ODM_RULE_KINDS (ODM_VOCABULARY_X) ODM_DERIVE_KINDS (ODM_VOCABULARY_X)
#undef ODM_VOCABULARY_X
      ODM_RULE_KIND_COUNT
} odm_rule_kind_t;

/* The rule name a violation of kind K reports: "K" (a kind the lists lack does not compile). */
#define ODM_RULE_NAME(k) ((void) ODM_RULE_##k, #k)

/* One constant per field rule: ODM_FIELD_RULE_required, ..., ODM_FIELD_RULE_enum; and the
 * rule name a violation of it reports (a name the list lacks does not compile). */
typedef enum {
#define ODM_VOCABULARY_F(rule, member) ODM_FIELD_RULE_##rule,
   ODM_FIELD_RULES (ODM_VOCABULARY_F)
#undef ODM_VOCABULARY_F
      ODM_FIELD_RULE_COUNT
} odm_field_rule_t;
#define ODM_FIELD_RULE_NAME(r) ((void) ODM_FIELD_RULE_##r, #r)

/* A "pattern" rule's "flags": JavaScript's letter, the odm_regex_t flag it sets and the
 * PCRE2 option that flag means (u is implied: patterns are always Unicode). */
#define ODM_REGEX_IGNORE_CASE (1u << 0) /* /i */
#define ODM_REGEX_MULTILINE (1u << 1)   /* /m */
#define ODM_REGEX_DOT_ALL (1u << 2)     /* /s */
#define ODM_REGEX_LETTERS(X)                                                                                      \
   X ('i', ODM_REGEX_IGNORE_CASE, PCRE2_CASELESS)                                                                 \
   X ('m', ODM_REGEX_MULTILINE, PCRE2_MULTILINE)                                                                  \
   X ('s', ODM_REGEX_DOT_ALL, PCRE2_DOTALL)

#endif /* ODM_VOCABULARY_H */
