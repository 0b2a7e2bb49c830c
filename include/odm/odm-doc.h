/* libodm: the generic document API. Include <odm/odm.h>, not this file.
 *
 * Every function takes the collection's schema and a pointer to its generated struct.
 * The generated headers wrap them with typed names (odm_chat_session_from_bson, ...).
 *
 * Ownership, once for the whole library (README, "Rules of ownership"):
 *  - A document struct owns everything it points to (strings, arrays, unknown
 *    fields, mixed values), allocated with bson_malloc. odm_cleanup() frees it all and
 *    leaves the struct empty (as after a memset to 0); it is safe on an empty struct.
 *    The one exception is a document decoded into an arena (odm_from_bson_arena): the
 *    arena owns what it points to, and it is read-only: never odm_cleanup, a setter,
 *    odm_prepare or an assignment that frees (odm_prepare_arena prepares it in the
 *    arena); odm_copy makes an owning copy of it.
 *  - Output parameters (bson_t *out, odm_violations_t *out, a decoded struct) are
 *    initialised by the callee on success AND on failure, and the caller always cleans
 *    them up (bson_destroy, odm_violations_cleanup, odm_cleanup). A failed decode
 *    leaves the struct empty: nothing half-built reaches the caller. The one exception,
 *    odm_to_bson_into, writes into a bson_t the caller initialised, keeping its buffer.
 *  - Input pointers are borrowed for the duration of the call only. */
#if !defined(ODM_INSIDE) && !defined(ODM_COMPILATION)
#error "Only <odm/odm.h> can be included directly."
#endif

#ifndef ODM_DOC_H
#define ODM_DOC_H

#include <bson/bson.h>

#include "odm-error.h"
#include "odm-macros.h"
#include "odm-schema.h"

ODM_BEGIN_DECLS

/* Decoding flags. */
#define ODM_DECODE_DEFAULT 0u
#define ODM_DECODE_STRICT (1u << 0) /* a field not in the schema is an error instead of kept
                                     * (except the top-level version key __v) */

/* Zeroes DOC and applies the schema's defaults: literal defaults, "now" dates (at the
 * current time), and empty arrays (Mongoose gives every array path []). */
ODM_API void
odm_init (const odm_schema_t *schema, void *doc);

/* Same as odm_init with the clock fixed at NOW_MS. */
ODM_API void
odm_init_at (const odm_schema_t *schema, void *doc, int64_t now_ms);

/* Frees what DOC owns and zeroes it. */
ODM_API void
odm_cleanup (const odm_schema_t *schema, void *doc);

/* Encodes DOC into OUT (initialised here, always): fields in spec order, then unknown
 * fields kept by decode. Numbers are written as js-bson writes them: int32 when the value
 * is integral and fits, double otherwise. Refuses, with the path, exactly what
 * odm_from_bson refuses (nesting over 100 levels, invalid UTF-8 or NUL in a string-bearing
 * value, dates beyond JavaScript's +/-8.64e15 ms, unknown-field keys that are empty, start
 * with '$', contain '.', repeat or name a schema field): it never writes what it cannot
 * read back. On failure OUT is empty. */
ODM_API bool
odm_to_bson (const odm_schema_t *schema, const void *doc, bson_t *out, bson_error_t *error);

/* odm_to_bson into OUT, a bson_t the caller has already initialised (bson_init, or an
 * earlier odm_to_bson or odm_to_bson_into) and still destroys: OUT is reinitialised with
 * bson_reinit, which keeps its buffer, then written. A loop that encodes document after
 * document into one bson_t (and hands each to the driver, which copies it) allocates
 * nothing once that buffer is big enough. Refused (ODM_ERROR_INVALID_ARGUMENT) for a
 * bson_t whose buffer cannot grow: a static one (bson_init_static) or one being built
 * (a child of bson_append_document_begin). On failure OUT is empty. */
ODM_API bool
odm_to_bson_into (const odm_schema_t *schema, const void *doc, bson_t *out, bson_error_t *error);

/* Reads JSON (LEN bytes, need not be NUL-terminated) into OUT (initialised here, always):
 * exactly one JSON object in Extended JSON v2, canonical or relaxed, and nothing after it
 * but white space. Strict where libbson's reader repairs: a malformed wrapper ({"$oid":
 * "zz..."}, {"$date": {}}, {"$date": 42}, a bad $numberDecimal, extra keys) is an error
 * naming its path; an integer literal outside int64, or a number outside the double range,
 * is an error (never a different number); strings must be valid UTF-8 (no lone
 * surrogates); nesting deeper than 100 levels is refused before it is read. Errors have
 * code ODM_ERROR_JSON and read "path: message (at byte N)". */
ODM_API bool
odm_json_to_bson (const char *json, size_t len, bson_t *out, bson_error_t *error);

/* Decodes IN into DOC (initialised here, always; no defaults applied). Strict about
 * types: a wrong BSON type is an error naming the full path
 * ("settings.temperature: expected number, got string"). Unknown fields are kept
 * (re-encoded after the known ones, byte-exact) unless FLAGS has ODM_DECODE_STRICT; a key
 * beside the schema's fields that is empty, starts with '$' or contains '.' is refused
 * (ODM_ERROR_KEY), as every write refuses it. The whole input is checked first, without
 * recursion: nesting at most 100 levels, strict UTF-8 in every key and string-bearing
 * value, dates within JavaScript's range (docs/untrusted-input.md). */
ODM_API bool
odm_from_bson (const odm_schema_t *schema,
               const bson_t *in,
               void *doc,
               uint32_t flags,
               bson_error_t *error);

/* Arenas: memory for documents that are read and dropped (a page of results, a feed),
 * taken in large blocks and released all at once. odm_from_bson allocates each string and
 * array of the document on its own (one allocation each, a free each in odm_cleanup:
 * the setters and odm_cleanup free them one by one); odm_from_bson_arena takes them from
 * the arena, so that decoding a document allocates nothing once the arena's block is big
 * enough (a new block when it is not; odm_arena_reset keeps one block of the size the
 * last round needed).
 *
 * A document decoded into an arena points into it until odm_arena_reset or
 * odm_arena_destroy. Read it, validate it, encode it, odm_copy it, prepare it with
 * odm_prepare_arena; never odm_cleanup it, never pass it to odm_prepare or a setter, never
 * free or replace what it points to. An arena is not thread-safe: one per thread (no lock
 * is shared). odm_arena_t is declared in odm-schema.h. */

/* A new arena whose first block has FIRST_BLOCK bytes (0: 4 KB). */
ODM_API odm_arena_t *
odm_arena_new (size_t first_block);

/* Releases every document decoded into ARENA (their structs are left as they are: do not
 * read them after this), keeping memory for the next ones. */
ODM_API void
odm_arena_reset (odm_arena_t *arena);

ODM_API void
odm_arena_destroy (odm_arena_t *arena);

/* odm_from_bson, with the document's strings, arrays, mixed values and unknown fields in
 * ARENA (see above). Same checks, same errors; on failure DOC is zeroed and what was
 * taken from the arena stays there until the reset. */
ODM_API bool
odm_from_bson_arena (const odm_schema_t *schema,
                     const bson_t *in,
                     void *doc,
                     uint32_t flags,
                     odm_arena_t *arena,
                     bson_error_t *error);

/* Checks DOC against every rule of the schema: required, enum, min/max,
 * minlength/maxlength, lowercase, and the platform specification's cross-field rules. Returns true when
 * valid. OUT (initialised here) receives every violation, not just the first.
 * OPTS may be NULL (a create, at the current time). */
ODM_API bool
odm_validate (const odm_schema_t *schema,
              const void *doc,
              const odm_prepare_opts_t *opts,
              odm_violations_t *out);

/* The pre-save path: generates missing _ids, applies defaults to absent paths,
 * lowercases, runs the platform specification's derivations, sets timestamps, then validates.
 * Returns true when the document may be saved. */
ODM_API bool
odm_prepare (const odm_schema_t *schema,
             void *doc,
             const odm_prepare_opts_t *opts,
             odm_violations_t *out);

/* odm_prepare for a document decoded into ARENA (odm_from_bson_arena): the same steps, the
 * same checks and violations, but what they add to the document (a default string, a
 * lowercased copy, a mixed value rebuilt without its empty objects) is taken from ARENA
 * and nothing is freed, so the document stays the arena's. For the write path of a
 * service that receives documents, prepares them, encodes them and drops them: no
 * allocation per string. The program's pre-save hooks run on it with ctx->arena set
 * (odm-hooks.h): a hook that puts a string there takes it from odm_arena_strdup and
 * calls no setter (a setter frees what it replaces). A NULL ARENA is refused like a NULL
 * document (violation "argument"). */
ODM_API bool
odm_prepare_arena (const odm_schema_t *schema,
                   void *doc,
                   odm_arena_t *arena,
                   const odm_prepare_opts_t *opts,
                   odm_violations_t *out);

/* A copy of S taken from ARENA, or made with bson_strdup when ARENA is NULL (then the
 * document that holds it frees it); NULL when S is NULL. For what a pre-save hook puts in
 * a document that may be an arena's (ctx->arena), and for the generated defaults. */
ODM_API char *
odm_arena_strdup (odm_arena_t *arena, const char *s);

/* Copies SRC into DST (initialised here), which owns all it points to (also when SRC was
 * decoded into an arena). The copy goes through the encoder: false, with DST left empty,
 * when SRC holds what odm_to_bson refuses (a string that is not UTF-8, a NULL element in
 * an array of strings, a date out of range). */
ODM_API bool
odm_copy (const odm_schema_t *schema, const void *src, void *dst);

/* Reflection over a generated struct, for generic code (walkers, tools, tests).
 * OBJ points at the struct that holds field F (a document, nested object or element).
 * odm_field_state returns ODM_ABSENT, ODM_PRESENT or ODM_NULL, exactly as the encoder
 * would write the field. odm_field_value returns the address of a non-array value;
 * odm_field_array returns the items of an array field and stores its length in COUNT. */
ODM_API uint8_t
odm_field_state (const odm_field_t *f, const void *obj);

ODM_API const void *
odm_field_value (const odm_field_t *f, const void *obj);

ODM_API const void *
odm_field_array (const odm_field_t *f, const void *obj, size_t *count);

/* The current time in milliseconds since the Unix epoch. */
ODM_API int64_t
odm_now_ms (void);

ODM_END_DECLS

#endif /* ODM_DOC_H */
