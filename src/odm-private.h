/* libodm internals shared by the runtime's source files. Not installed. */
#ifndef ODM_PRIVATE_H
#define ODM_PRIVATE_H

#include <mongoc/mongoc.h>
#include <odm/odm.h>

#include <stddef.h>
#include <string.h>

/* Mongoose's versionKey: every libodm write increments it (docs/live.md). */
#define ODM_VERSION_KEY "__v"

/* A struct filled through a projection carries it in its unknown fields under this key
 * (odm_field_loaded reads it; writes refuse such a struct). No stored field starts with $. */
#define ODM_PROJECTION_KEY "$projection"

/* A dotted path being built while walking a document ("attachments.0.url"). */
#define ODM_PATH_MAX 512
typedef struct {
   char buf[ODM_PATH_MAX];
   size_t len;
} odm_path_t;

void
odm_path_init (odm_path_t *p);
/* Appends ".name" (or "name" at the root); returns the length to restore with pop. */
size_t
odm_path_push (odm_path_t *p, const char *name, size_t name_len);
size_t
odm_path_push_index (odm_path_t *p, size_t index);
void
odm_path_pop (odm_path_t *p, size_t old_len);

/* Sets ERROR (domain ODM_ERROR_DOMAIN) with "path: message" when PATH is non-empty. */
void
odm_set_error (bson_error_t *error, uint32_t code, const char *path, const char *fmt, ...)
   BSON_GNUC_PRINTF (4, 5);

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no NUL. */
bool
odm_utf8_valid (const char *str, size_t len);
/* The longest prefix of S (LEN bytes) of at most MAX bytes that does not cut a character. */
size_t
odm_utf8_cut (const char *s, size_t len, size_t max);
/* Copies SRC into DST (CAP bytes with the NUL), cut at a character boundary when too long. */
void
odm_copy_utf8 (char *dst, size_t cap, const char *src);

/* For the few hot helpers with one or two callers that the compiler would leave out of line
 * once they grow (a call per element or value costs as much as the work). */
#if defined(__GNUC__) || defined(__clang__)
#define ODM_ALWAYS_INLINE inline __attribute__ ((always_inline))
#else
#define ODM_ALWAYS_INLINE inline
#endif

/* MongoDB's nesting limit: the top-level document is level 1, each embedded document or
 * array one more, so a key path has at most 100 components. */
#define ODM_MAX_DEPTH 100

/* The bytes of a value of BSON type T when its type fixes them (numbers, dates, ids,
 * booleans, timestamps, decimals), else 0. A table, not a switch: the walks over elements
 * call it for nearly every value, and a switch's jump table, whose target changes with
 * each type, is mispredicted about as often. */
static inline uint32_t
odm_bson_fixed_size (uint8_t t)
{
   static const uint8_t size[0x14] = {[BSON_TYPE_DOUBLE] = 8,    [BSON_TYPE_OID] = 12,  [BSON_TYPE_BOOL] = 1,
                                      [BSON_TYPE_DATE_TIME] = 8, [BSON_TYPE_INT32] = 4, [BSON_TYPE_TIMESTAMP] = 8,
                                      [BSON_TYPE_INT64] = 8,     [BSON_TYPE_DECIMAL128] = 16};
   return t < sizeof size ? size[t] : 0;
}
/* JavaScript's Date range: +/-8.64e15 ms around 1970 (ECMA-262 TimeClip). */
#define ODM_DATE_MAX_MS INT64_C (8640000000000000)
#define ODM_DATE_RANGE_MSG "date is outside JavaScript's range (+/-8.64e15 ms from 1970)"
static inline bool
odm_date_in_range (int64_t ms)
{
   return ms >= -ODM_DATE_MAX_MS && ms <= ODM_DATE_MAX_MS;
}

/* The byte check every decode runs first and every encode runs last, iteratively (no
 * recursion, so any input is safe): lengths; nesting at most ODM_MAX_DEPTH levels (BASE_DEPTH
 * levels already above DATA, whose path is BASE_PATH); every key, and every string-bearing
 * value (string, code, symbol, regex, DBPointer, code with scope), strict UTF-8 without NUL;
 * array keys 0, 1, ... (with ODM_CHECK_ARRAY_KEYS); regex options as libbson writes them; dates in JavaScript's range.
 * On failure ERROR names the path (codes ODM_ERROR_CORRUPT_BSON or ODM_ERROR_RANGE). */
#define ODM_CHECK_ARRAY_KEYS (1u << 0) /* arrays' keys must be "0", "1", ... */
#define ODM_CHECK_TOP_ARRAY (1u << 1)  /* DATA itself is an array */
bool
odm_bson_check_at (const uint8_t *data, size_t len, const char *base_path, int base_depth, uint32_t flags,
                   bson_error_t *error);
bool
odm_bson_check (const bson_t *doc, bson_error_t *error);

/* odm-json.c: ISO-8601 as Extended JSON writes dates (YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM)). */
bool
odm_parse_iso8601 (const char *s, int64_t *ms);

/* Shortest "%g"-style text that reads back as V. */
void
odm_format_number (double v, char *buf, size_t size);

#define ODM_AT(base, off) ((void *) ((char *) (base) + (off)))
#define ODM_AT_CONST(base, off) ((const void *) ((const char *) (base) + (off)))

/* ---- odm-common.c: what the stages share (decode, prepare, validate, encode). */

/* Arrays are generated as struct { T *items; size_t count; }; read them by bytes so no
 * aliasing rule is bent. */
typedef struct {
   void *items;
   size_t count;
} odm_array_view_t;

/* The items and count of array field F. A count without items (a struct filled by hand
 * with items NULL) reads as empty, so that no walker reads through the NULL; validation
 * and the encoder refuse such an array (odm_array_dangling). */
static inline odm_array_view_t
odm_array_get (const void *base, const odm_field_t *f)
{
   odm_array_view_t a;
   memcpy (&a.items, ODM_AT_CONST (base, f->offset), sizeof a.items);
   memcpy (&a.count, ODM_AT_CONST (base, f->offset + sizeof (void *)), sizeof a.count);
   if (!a.items) {
      a.count = 0;
   }
   return a;
}

/* The count array field F claims when its items are NULL, else 0. */
static inline size_t
odm_array_dangling (const void *base, const odm_field_t *f)
{
   void *items;
   size_t count;
   memcpy (&items, ODM_AT_CONST (base, f->offset), sizeof items);
   memcpy (&count, ODM_AT_CONST (base, f->offset + sizeof (void *)), sizeof count);
   return items ? 0 : count;
}

static inline void
odm_array_set (void *base, const odm_field_t *f, void *items, size_t count)
{
   memcpy (ODM_AT (base, f->offset), &items, sizeof items);
   memcpy (ODM_AT (base, f->offset + sizeof (void *)), &count, sizeof count);
}

/* The generated has_<field> member. */
static inline uint8_t
odm_has_get (const void *base, const odm_field_t *f)
{
   return *(const uint8_t *) ODM_AT_CONST (base, f->presence);
}

static inline void
odm_has_set (void *base, const odm_field_t *f, uint8_t v)
{
   *(uint8_t *) ODM_AT (base, f->presence) = v;
}

void *
odm_array_items (const void *base, const odm_field_t *f, size_t *count);

/* odm_field_state, inline for the kinds whose state is one read (arrays, strings,
 * scalars); nested objects and mixed values call it. */
static inline uint8_t
odm_field_state_fast (const odm_field_t *f, const void *base)
{
   if (f->flags & ODM_F_ARRAY) {
      return odm_array_get (base, f).count > 0 ? ODM_PRESENT : odm_has_get (base, f);
   }
   switch (f->kind) {
   case ODM_KIND_STRING:
      return *(char *const *) ODM_AT_CONST (base, f->offset) ? ODM_PRESENT
             : odm_has_get (base, f) == ODM_NULL              ? ODM_NULL
                                                              : ODM_ABSENT;
   case ODM_KIND_OBJECT:
   case ODM_KIND_MIXED:
      return odm_field_state (f, base);
   default:
      return odm_has_get (base, f);
   }
}

/* The field of D named KEY (exact bytes), or NULL. *NEXT is a hint: documents usually come
 * in spec order, so the field after the last one found is tried first. */
const odm_field_t *
odm_find_field (const odm_object_desc_t *d, uint32_t *next, const char *key, uint32_t key_len);

/* An array key ("0", "1", ...): bson_uint32_to_string's signature and result, in linear
 * time for any VALUE (SIZE >= 11 bytes). */
size_t
odm_index_key (uint32_t value, const char **strptr, char *str, size_t size);

/* The keys seen at one level, by exact bytes (no dotted lookup), in a hash table: checking
 * N keys costs O(N), whatever N is. Keys point into the input, which outlives the set.
 * Starts as {NULL, 0, 0}. */
typedef struct {
   const char *key;
   uint32_t len;
} odm_keyset_slot_t;

typedef struct {
   odm_keyset_slot_t *slots;
   size_t cap, count;
} odm_keyset_t;

/* Adds KEY; false when it was already there. */
bool
odm_keyset_add (odm_keyset_t *s, const char *key, uint32_t len);
void
odm_keyset_free (odm_keyset_t *s);

/* Keys the writer refuses beside the schema's fields (empty, '$' first, a '.'), and the
 * error for one (ODM_ERROR_KEY, naming the schema path a dotted key would read as). */
bool
odm_key_is_refused (const char *key, uint32_t len);
bool
odm_key_error (bson_error_t *error, const char *path, const odm_object_desc_t *d, const char *key, uint32_t len);

/* An arena (odm-common.c): blocks, the newest first, each filled from its start. */
typedef struct odm_arena_block {
   struct odm_arena_block *next;
   size_t size;
   max_align_t data[];
} odm_arena_block_t;

struct odm_arena {
   odm_arena_block_t *head; /* the block being filled; older ones follow */
   size_t used;             /* bytes of head->data in use */
   size_t total;            /* of all blocks */
};

/* odm_arena_alloc when the head block has no room: a new block of twice its size or more. */
void *
odm_arena_grow (odm_arena_t *arena, size_t n, size_t align);

/* N bytes from ARENA aligned to ALIGN (a power of two); never fails (bson_malloc aborts).
 * Inline: decode takes one per string, and the call cost as much as the rest. */
static inline void *
odm_arena_alloc (odm_arena_t *a, size_t n, size_t align)
{
   uintptr_t base = (uintptr_t) a->head->data;
   size_t at = (size_t) (((base + a->used + align - 1) & ~(uintptr_t) (align - 1)) - base);
   if (BSON_LIKELY (at <= a->head->size && n <= a->head->size - at)) {
      a->used = at + n;
      return (char *) a->head->data + at;
   }
   return odm_arena_grow (a, n, align);
}

/* ---- odm-decode.c */

/* Decode's checks of a value kept as raw bytes, on the element at AT (END: the terminator
 * of its document; PATH names the element; DEPTH: the level of its document). For the
 * encoder's mixed values. */
bool
odm_check_element (const uint8_t *at, const uint8_t *end, const char *path, int depth, bson_error_t *error);

/* Regex options libbson and MongoDB know, each at most once, in alphabetical order. */
bool
odm_regex_options_ok (const char *o);

/* ---- odm-prepare.c */

/* Fills absent paths with their defaults; IDS: also generate missing _id values; default
 * strings from ARENA (NULL: bson_strdup). */
void
odm_fill_defaults (const odm_object_desc_t *d, void *base, int64_t now, bool ids, odm_arena_t *arena);

/* ---- odm-validate.c */

/* odm_lowercase, its copy taken from ARENA (NULL: bson_malloc). */
char *
odm_lowercase_in (odm_arena_t *arena, const char *s);

/* The validator without the argument checks: pre-validate hooks, the field rules, the
 * schema's rules, the program's validators, into OUT (not initialised here). */
bool
odm_validate_into (const odm_schema_t *schema, const void *doc, const odm_prepare_opts_t *opts,
                   odm_violations_t *out);
/* Only the single-field rules (types are the decoder's; required, bounds, lengths, enums,
 * presence) of DOC, into OUT: what a direct update's probe document can be checked for. */
void
odm_validate_fields (const odm_schema_t *schema, const void *doc, odm_violations_t *out);

/* What odm_validate, odm_prepare and odm_prepare_arena share: OUT initialised (a local list,
 * freed, when it is NULL), the arguments checked (a refusal is the violation "argument"),
 * then STEP over them (ARENA passed on as it is: STEP checks it). Returns STEP's answer, or
 * false for bad arguments. */
typedef bool (*odm_checked_step_fn) (const odm_schema_t *schema, void *doc, odm_arena_t *arena,
                                     const odm_prepare_opts_t *opts, odm_violations_t *out);
bool
odm_violations_run (const odm_schema_t *schema, void *doc, odm_arena_t *arena, const odm_prepare_opts_t *opts,
                    odm_violations_t *out, odm_checked_step_fn step);

/* Decode / encode / cleanup of any generated object type (documents, analytics rows). */
bool
odm_decode_desc (const odm_object_desc_t *d, const bson_t *in, void *doc, uint32_t flags, bson_error_t *error);
/* The same into ARENA (NULL: each string and array on the heap, owned by DOC). */
bool
odm_decode_desc_in (const odm_object_desc_t *d, const bson_t *in, void *doc, uint32_t flags, odm_arena_t *arena,
                    bson_error_t *error);
bool
odm_encode_desc (const odm_object_desc_t *d, const void *doc, bson_t *out);
void
odm_cleanup_desc (const odm_object_desc_t *d, void *doc);

/* odm-client.c: shared with the update and index code. */
mongoc_collection_t *
odm_client_collection (odm_client_t *client, const odm_schema_t *schema, mongoc_client_t **mc);
void
odm_client_release (odm_client_t *client, mongoc_collection_t *coll, mongoc_client_t *mc);
/* The same with SESSION (may be NULL): its pinned client instead of one from the pool. */
mongoc_collection_t *
odm_client_collection_for (odm_client_t *client, odm_session_t *session, const odm_schema_t *schema,
                           mongoc_client_t **mc);
void
odm_client_release_for (odm_client_t *client, odm_session_t *session, mongoc_collection_t *coll,
                        mongoc_client_t *mc);
/* Appends SESSION's lsid to a libmongoc options document (nothing when SESSION is NULL). */
void
odm_session_append (const odm_session_t *session, bson_t *opts);
/* Whether SESSION (may be NULL) can be used with CLIENT, and MONGOC_OPTS carries no
 * libmongoc session of its own (ODM_ERROR_INVALID_ARGUMENT otherwise). */
bool
odm_check_session (odm_client_t *client, const odm_session_t *session, const bson_t *mongoc_opts,
                   bson_error_t *error);
/* Turns a duplicate-key ERROR into ODM_ERROR_DUPLICATE_KEY plus "unique" violations on the
 * index's key paths, asking the server (COLL) which unique index holds DOC's keys when the
 * message names none. */
bool
odm_map_duplicate_doc (const odm_schema_t *schema, bson_error_t *error, odm_violations_t *v,
                       mongoc_collection_t *coll, const bson_t *doc);
/* odm_check_keys over what user data can reach in DOC: unknown fields and mixed values. */
bool
odm_check_doc_keys (const odm_schema_t *schema, const void *doc, odm_violations_t *violations);
/* odm-validate.c: a copy of S (bson_free it) that is valid UTF-8, for messages and paths
 * built from outside bytes: each byte that starts no valid character becomes U+FFFD.
 * odm_violations_add applies it to every path and message; other reports call it. */
char *
odm_utf8_clean (const char *s);
/* {field: {$eq: value}} for every top-level field of STORED (FILTER initialised here). */
void
odm_conditional_filter (const bson_t *stored, bson_t *filter);

/* odm-hooks.c: the program's own rules (odm-hooks.h). Cheap when none are registered.
 * ARENA: odm_prepare_arena's, for the hooks' ctx->arena, or NULL. */
void
odm_hooks_run (const odm_schema_t *schema, odm_hook_kind_t kind, void *doc, const odm_prepare_opts_t *opts,
               int64_t now_ms, odm_arena_t *arena, odm_violations_t *out);
void
odm_validators_run (const odm_schema_t *schema, const void *doc, odm_violations_t *out);
/* Decodes STORED and runs SCHEMA's POST_SAVE hooks on it (nothing when there are none). */
void
odm_hooks_post_save_bson (const odm_schema_t *schema, const bson_t *stored, bool is_update, int64_t now_ms);
/* odm-index.c: odm_indexes_diff against LISTED, the values of which are listIndexes
 * entries as a server returns them (no server involved: fuzzing, tests). */
void
odm_indexes_diff_listed (const odm_schema_t *schema, const bson_t *listed, odm_violations_t *out);

/* Whether CLIENT and SCHEMA are usable (ODM_ERROR_INVALID_ARGUMENT otherwise). */
bool
odm_check_client_args (odm_client_t *client, const odm_schema_t *schema, bson_error_t *error);
/* Runs the pre-save path on DOC and encodes it into OUT (initialised here); violation paths
 * get PREFIX ("3.") when non-NULL. */
bool
odm_prepare_encode (const odm_schema_t *schema, void *doc, const odm_prepare_opts_t *po, bson_t *out,
                    odm_violations_t *v, const char *prefix, bson_error_t *error);

/* Options structs (odm-client.h, "Options structs"): copies the caller's SRC (NULL = all
 * defaults) into DST (DST_SIZE bytes, zeroed first, its size member set). Refuses a size
 * below MIN_SIZE (the first published layout: never raise it when appending members) and
 * a larger struct whose extra bytes are not all zero. TYPE names the struct in the error. */
bool
odm_opts_load (void *dst, size_t dst_size, const void *src, size_t min_size, const char *type,
               bson_error_t *error);
/* The first published layout of an options struct ends with member LAST. */
#define ODM_OPTS_MIN(type, last) (offsetof (type, last) + sizeof (((type *) 0)->last))
#define ODM_WRITE_OPTS_MIN ODM_OPTS_MIN (odm_write_opts_t, mongoc_opts)
#define ODM_FIND_OPTS_MIN ODM_OPTS_MIN (odm_find_opts_t, read_prefs)
#define ODM_UPDATE_OPTS_MIN ODM_OPTS_MIN (odm_update_opts_t, checked_filter)
#define ODM_DELETE_OPTS_MIN ODM_OPTS_MIN (odm_delete_opts_t, mongoc_opts)
#define ODM_AGGREGATE_OPTS_MIN ODM_OPTS_MIN (odm_aggregate_opts_t, read_prefs)

/* Errors are told apart by domain AND code. A server's error (libmongoc's error API 2):
 * domain MONGOC_ERROR_SERVER (or MONGOC_ERROR_WRITE_CONCERN) with the server's code. */
bool
odm_server_error_is (const bson_error_t *e, uint32_t code);
/* A duplicate-key error of MongoDB, mongo-java-server or FerretDB (code 11000/11001, or
 * a server error whose message says so). */
bool
odm_is_duplicate_key_error (const bson_error_t *e);

/* A generated index's key pattern and an analytic's pipeline, read in place from the BSON
 * bytes odmgen wrote (nothing parsed or allocated; bson_destroy on OUT is harmless). False
 * when the bytes are missing or not BSON. */
static inline bool
odm_index_keys (const odm_index_t *ix, bson_t *out)
{
   return ix->keys_bson && bson_init_static (out, ix->keys_bson, ix->keys_bson_len);
}

static inline bool
odm_aggregation_template (const odm_aggregation_t *agg, bson_t *out)
{
   return agg->pipeline_bson && bson_init_static (out, agg->pipeline_bson, agg->pipeline_bson_len);
}

#endif /* ODM_PRIVATE_H */
