/* bench: hand-written libbson baselines for the generated codec.
 *
 * Each baseline works on the SAME generated struct as the descriptor-driven runtime
 * (odm_chat_session_t, ...) and does the same work, written out field by field the way
 * one would write it without a generator:
 *  - encode: the same fields in the same order, the same number rule (int32 when integral,
 *    in range and not -0, else double), the same presence rules (has_ flags, NULL strings,
 *    arrays and nested objects written when non-empty or has_ set, nulls), _extra last;
 *  - decode: bson_validate (BSON_VALIDATE_UTF8) first, the same type checks and error
 *    texts, strict UTF-8 on every string, duplicates refused, unknown fields kept in
 *    _extra (refused with ODM_DECODE_STRICT), a failed decode leaves the struct empty;
 *  - validate: the same rules, paths, rule names and messages, in the same order;
 *  - prepare: _ids, defaults, derivations, timestamps, then validate.
 * odm_bench checks the equivalence before it times anything.
 *
 * A baseline is compiled only when its collection's spec exists
 * (ODM_BENCH_HAVE_<COLLECTION>, set by bench/CMakeLists.txt). */
#ifndef ODM_BENCH_HANDWRITTEN_H
#define ODM_BENCH_HANDWRITTEN_H

#include <odm/odm.h>

typedef struct {
   const char *collection;
   /* Same contracts as odm_to_bson, odm_from_bson, odm_validate and odm_prepare;
    * DOC points at the collection's generated struct. */
   bool (*encode) (const void *doc, bson_t *out, bson_error_t *error);
   bool (*decode) (const bson_t *in, void *doc, uint32_t flags, bson_error_t *error);
   bool (*validate) (const void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out);
   bool (*prepare) (void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out);
} odm_bench_hand_t;

/* The baseline for COLLECTION, or NULL when there is none (or its spec is missing). */
const odm_bench_hand_t *
odm_bench_hand_find (const char *collection);

#endif /* ODM_BENCH_HANDWRITTEN_H */
