/* libodm: the live layer on libmongoc. Include <odm/odm.h>, not this file.
 *
 * One odm_client_t per process (it owns a mongoc_client_pool_t and is thread-safe);
 * every function pops a client from the pool for the duration of the call.
 *
 * Every write runs the pre-save path (odm_prepare) first: an invalid document is refused
 * with its violations and nothing is sent. Errors (docs/errors.md lists every one; compare
 * error->domain AND error->code):
 *  - validation: returns false, domain ODM_ERROR_DOMAIN, code ODM_ERROR_VALIDATION,
 *    VIOLATIONS filled;
 *  - duplicate key: returns false, domain ODM_ERROR_DOMAIN, code ODM_ERROR_DUPLICATE_KEY,
 *    VIOLATIONS holds one violation per key path of the index (rule "unique"), naming it;
 *  - anything else from the driver or server: error as libmongoc reported it (its domains,
 *    MONGOC_ERROR_SERVER with the server's code, MONGOC_ERROR_STREAM, ...).
 * VIOLATIONS may be NULL; when given it is initialised here, always.
 *
 * Options structs. Every options struct below starts with `size`, the sizeof the struct
 * the caller was compiled with, so that members can be appended without breaking callers
 * built against an older header. Initialise it with the struct's macro and then set the
 * members you need:
 *
 *    odm_find_opts_t fo = ODM_FIND_OPTS_INIT;
 *    fo.limit = 20;
 *
 * or in one designated initialiser: {.size = sizeof (odm_find_opts_t), .limit = 20}.
 * A NULL options pointer means every default. A struct whose size is 0 (not initialised)
 * or smaller than the first published layout is refused with ODM_ERROR_INVALID_ARGUMENT
 * (path "opts.size"); a larger one (a newer header) is accepted when the members this
 * library does not know are all zero. Members are only ever appended.
 *
 * Every options struct also carries `mongoc_opts`, a BSON document of libmongoc options
 * passed through to the libmongoc call (writeConcern on writes; readConcern, collation,
 * hint, maxTimeMS, comment on reads), and reads take a mongoc_read_prefs_t. */
#if !defined(ODM_INSIDE) && !defined(ODM_COMPILATION)
#error "Only <odm/odm.h> can be included directly."
#endif

#ifndef ODM_CLIENT_H
#define ODM_CLIENT_H

#include <bson/bson.h>

#include "odm-error.h"
#include "odm-macros.h"
#include "odm-schema.h"
#include "odm-view.h"

ODM_BEGIN_DECLS

/* libmongoc's pool type, declared here so that this header does not pull in all of
 * <mongoc/mongoc.h> (include it yourself to use the pool). */
typedef struct _mongoc_client_pool_t mongoc_client_pool_t;
typedef struct _mongoc_uri_t mongoc_uri_t;
typedef struct _mongoc_read_prefs_t mongoc_read_prefs_t;

/* The socketTimeoutMS libodm sets when the URI gives none: how long one call waits on a
 * server that accepted the connection but stopped answering (libmongoc's own default is
 * 300 s). Give socketTimeoutMS in the URI to choose another bound (0 = wait forever). */
#define ODM_DEFAULT_SOCKET_TIMEOUT_MS 30000

typedef struct _odm_client_t odm_client_t;
typedef struct _odm_cursor_t odm_cursor_t;
typedef struct _odm_session_t odm_session_t;
typedef struct _mongoc_client_session_t mongoc_client_session_t;

/* Connects lazily to URI (replica sets and sharded clusters as libmongoc supports them).
 * The database is the URI's path ("mongodb://host/app") or "odm". The URI's
 * serverSelectionTimeoutMS bounds how long an unreachable server makes a call wait.
 * Returns NULL with ERROR set on a malformed URI. */
ODM_API odm_client_t *
odm_client_new (const char *uri, bson_error_t *error);

ODM_API void
odm_client_destroy (odm_client_t *client);

ODM_API const char *
odm_client_db_name (const odm_client_t *client);

/* The pool, for anything libodm does not wrap. */
ODM_API mongoc_client_pool_t *
odm_client_pool (odm_client_t *client);

/* The URI in force, with the options libodm set (see ODM_DEFAULT_SOCKET_TIMEOUT_MS). */
ODM_API const mongoc_uri_t *
odm_client_uri (const odm_client_t *client);

/* Runs {ping: 1}. */
ODM_API bool
odm_client_ping (odm_client_t *client, bson_error_t *error);

/* ------------------------------------------------------------------ sessions */

/* A session pins one pooled client for its whole life: every call given it (through the
 * `session` member of its options) runs on that client with the session's lsid, so reads
 * see the session's own writes (causal consistency, on by default) and a transaction
 * spans them. A mongoc_client_session_t from another client cannot be passed in
 * mongoc_opts (libmongoc fails with "Invalid sessionId"): libodm refuses a "sessionId" in
 * mongoc_opts. A session is used by one thread at a time. OPTS (may be NULL) are
 * libmongoc's session options (mongoc_session_opt_t), e.g. causal consistency off.
 * Returns NULL with ERROR set when the server does not support sessions. */
typedef struct _mongoc_session_opt_t mongoc_session_opt_t;

ODM_API odm_session_t *
odm_client_start_session (odm_client_t *client, const mongoc_session_opt_t *opts, bson_error_t *error);

/* Ends the session (aborting an open transaction) and returns its client to the pool. */
ODM_API void
odm_session_end (odm_session_t *session);

/* The odm_client_t that started SESSION. */
ODM_API odm_client_t *
odm_session_client (odm_session_t *session);

/* The libmongoc session, for what libodm does not wrap (it stays owned by SESSION). */
ODM_API mongoc_client_session_t *
odm_session_mongoc (odm_session_t *session);

/* The body of a transaction: runs libodm calls with SESSION in their options. Returns
 * false with ERROR set to abort. */
typedef bool (*odm_transaction_fn) (odm_session_t *session, void *ctx, bson_error_t *error);

/* Runs FN in a transaction over libmongoc's mongoc_client_session_with_transaction:
 * started, committed, retried as libmongoc retries (transient errors, unknown commit
 * results), aborted when FN returns false. Every write FN makes is validated before it is
 * sent, inside the transaction, so a refused write aborts the whole transaction. TXN_OPTS
 * (mongoc_transaction_opt_t *, may be NULL) set its read/write concern. Needs a server
 * with transactions (a replica set or sharded cluster, MongoDB 4.0+). */
typedef struct _mongoc_transaction_opt_t mongoc_transaction_opt_t;

ODM_API bool
odm_with_transaction (odm_session_t *session, odm_transaction_fn fn, void *ctx,
                      const mongoc_transaction_opt_t *txn_opts, bson_error_t *error);

/* ------------------------------------------------------------------ outcomes */

/* What happened to one document (or one operation) of a bulk write. */
typedef enum {
   ODM_OUTCOME_NOT_SENT = 0, /* never sent: an ordered bulk stopped before it (or nothing was sent) */
   ODM_OUTCOME_INVALID,      /* refused by libodm's checks before sending: violations say why */
   ODM_OUTCOME_DONE,         /* acknowledged by the server */
   ODM_OUTCOME_FAILED,       /* the server (or the driver) refused it: not written; error says why */
   ODM_OUTCOME_UNKNOWN       /* sent, and the reply was lost (the server went away): it may be
                              * stored; odm_bulk_verify asks the server */
} odm_outcome_status_t;

typedef enum { ODM_OP_INSERT = 0, ODM_OP_UPDATE, ODM_OP_DELETE } odm_op_kind_t;

typedef struct {
   odm_op_kind_t kind;
   odm_outcome_status_t status;
   bson_value_t id;              /* inserts: the document's _id (set once prepared); else BSON_TYPE_EOD */
   odm_violations_t violations;  /* INVALID: every broken rule; FAILED on a unique index: "unique" */
   bson_error_t error;           /* INVALID, FAILED, UNKNOWN: why (domain and code, docs/errors.md) */
   int64_t matched;              /* updates: documents matched */
   int64_t modified;             /* updates: documents modified */
   int64_t deleted;              /* deletes: documents deleted */
} odm_outcome_t;

/* The outcome of every operation of a bulk write, in the order they were given. */
typedef struct {
   odm_outcome_t *items;
   size_t count;
   size_t done, invalid, failed, unknown, not_sent; /* how many items have each status */
} odm_bulk_result_t;

/* Frees what a bulk result holds (and zeroes it). Safe on a zeroed result. */
ODM_API void
odm_bulk_result_cleanup (odm_bulk_result_t *result);

typedef struct {
   size_t size;               /* sizeof (odm_write_opts_t): use ODM_WRITE_OPTS_INIT */
   int64_t now_ms;            /* clock for defaults and timestamps; 0 = the real clock */
   const bson_t *mongoc_opts; /* passed to libmongoc (writeConcern, ...), or NULL */
   /* odm_insert_many and odm_bulk only: */
   bool unordered;            /* MongoDB's ordered:false: valid documents are sent even when
                               * others are invalid, and a server error does not stop the rest */
   size_t batch_size;         /* documents per request; 0 = 1000 */
   odm_bulk_result_t *result; /* per-document outcomes, when non-NULL (initialised by the call;
                               * odm_bulk_result_cleanup it) */
   odm_session_t *session;    /* run in this session (and its transaction, if one is open), or NULL */
} odm_write_opts_t;

#define ODM_WRITE_OPTS_INIT {.size = sizeof (odm_write_opts_t)}

/* Inserts DOC after odm_prepare (which fills _id, defaults, timestamps). */
ODM_API bool
odm_insert_one (odm_client_t *client, const odm_schema_t *schema, void *doc, const odm_write_opts_t *opts,
                odm_violations_t *violations, bson_error_t *error);

/* Inserts N structs stored contiguously at DOCS, in requests of OPTS->batch_size.
 * Every document is prepared first (its _id filled). Ordered (the default): if any is
 * invalid nothing is sent; a server error stops the rest. Unordered: the valid ones are
 * sent and every server error is reported. VIOLATIONS gathers every document's violations
 * with paths prefixed by its index ("3.name"). Returns true when every document was
 * stored. OPTS->result, when given, receives each document's outcome: its _id and DONE,
 * INVALID (violations), FAILED (the server's error; a duplicate key has "unique"
 * violations), NOT_SENT, or UNKNOWN when the server went away with the request in flight
 * (libodm then asks the server for those _ids once; if that fails too they stay UNKNOWN
 * and odm_bulk_verify can ask again later). */
ODM_API bool
odm_insert_many (odm_client_t *client, const odm_schema_t *schema, void *docs, size_t n,
                 const odm_write_opts_t *opts, odm_violations_t *violations, bson_error_t *error);

/* Resolves the UNKNOWN inserts of RESULT by asking the server which of their _ids it
 * holds: found ones become DONE, missing ones NOT_SENT (not stored). Call it once the
 * server is reachable again. Fails (RESULT unchanged) when the server cannot be asked. */
ODM_API bool
odm_bulk_verify (odm_client_t *client, const odm_schema_t *schema, odm_bulk_result_t *result, bson_error_t *error);

/* Finds one document; *FOUND tells whether one matched. OUT is initialised here, always. */
ODM_API bool
odm_find_one (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, void *out, bool *found,
              bson_error_t *error);

ODM_API bool
odm_find_by_id (odm_client_t *client, const odm_schema_t *schema, const bson_oid_t *id, void *out, bool *found,
                bson_error_t *error);

/* What a cursor does with a stored document it cannot decode into the struct (a field of
 * another type than the spec's, e.g. fees.processing: "1.5" written by another service). */
typedef enum {
   ODM_BAD_DOC_STOP = 0, /* the cursor ends there: odm_cursor_next returns false and
                          * odm_cursor_error gives the decode error (the default) */
   ODM_BAD_DOC_SKIP,     /* the document is skipped: odm_cursor_skipped lists each one's _id
                          * and error, and the cursor goes on */
   ODM_BAD_DOC_RAW       /* the document is handed over: odm_cursor_next returns true with OUT
                          * zeroed, odm_cursor_current_bad says so and odm_cursor_current
                          * gives its BSON */
} odm_bad_doc_policy_t;

typedef struct {
   size_t size;         /* sizeof (odm_find_opts_t): use ODM_FIND_OPTS_INIT */
   const bson_t *sort;  /* e.g. {updatedAt: -1}, or NULL; libodm appends {_id: 1} when it has no
                         * _id, so that ties come in the same order on every page */
   int64_t skip;
   int64_t limit;       /* 0 = no limit */
   uint32_t decode_flags;
   bool checked_filter; /* run odm_filter_check on FILTER first (for filters built from request data) */
   const bson_t *mongoc_opts;             /* merged into libmongoc's find/count options
                                           * (readConcern, collation, hint, maxTimeMS...), or NULL */
   const mongoc_read_prefs_t *read_prefs; /* NULL = the URI's */
   odm_session_t *session;                /* run in this session, or NULL */
   odm_bad_doc_policy_t on_bad_doc;       /* STOP (default), SKIP or RAW */
   const bson_t *after;                   /* paging by a sort key: the sort values of the last row
                                           * seen (odm_cursor_after builds it); rows after it in
                                           * SORT's order, whatever was inserted before it */
   const bson_t *projection;              /* Mongoose's select: {name: 1, "settings.mode": 1} or
                                           * {tags: 0}; the structs it fills are partly loaded
                                           * (odm_field_loaded) and cannot be saved or inserted */
} odm_find_opts_t;

#define ODM_FIND_OPTS_INIT {.size = sizeof (odm_find_opts_t)}

/* A typed cursor over FILTER. Returns NULL with ERROR set on bad arguments. */
ODM_API odm_cursor_t *
odm_find (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, const odm_find_opts_t *opts,
          bson_error_t *error);

/* Decodes the next document into OUT (initialised here, always). Returns false at the end
 * or on an error: odm_cursor_error tells which. */
ODM_API bool
odm_cursor_next (odm_cursor_t *cursor, void *out);

/* The zero-copy read (odm-view.h): makes VIEW (initialised here, always) read the next
 * document as the server sent it, checked as odm_view_init checks, without decoding it
 * into a struct and without allocating. The view borrows the cursor's current document:
 * it is valid until the next call on CURSOR or its destruction. Returns false at the end
 * or on an error, as odm_cursor_next; a document the view refuses is handled by the
 * find's on_bad_doc policy (ODM_BAD_DOC_RAW: true with VIEW empty). A projection's
 * fields left out read as absent. */
ODM_API bool
odm_cursor_next_view (odm_cursor_t *cursor, odm_view_t *view);

ODM_API bool
odm_cursor_error (const odm_cursor_t *cursor, bson_error_t *error);

/* The current document as the server sent it (valid until the next odm_cursor_next or
 * odm_cursor_destroy), or NULL before the first and after the last: Mongoose's lean(). */
ODM_API const bson_t *
odm_cursor_current (const odm_cursor_t *cursor);

/* With ODM_BAD_DOC_RAW: whether the current document could not be decoded (OUT was zeroed),
 * with the decode error in ERROR (may be NULL). */
ODM_API bool
odm_cursor_current_bad (const odm_cursor_t *cursor, bson_error_t *error);

/* The `after` document for the next page: the last row's values of the find's sort keys,
 * and its _id (the tie-breaker the next page's sort gets when SORT has none), kept after
 * the cursor ends. OUT is initialised here, always. False when the find had no sort or no
 * row came back. */
ODM_API bool
odm_cursor_after (const odm_cursor_t *cursor, bson_t *out);

/* A document a cursor skipped (ODM_BAD_DOC_SKIP). */
typedef struct {
   bson_value_t id; /* its _id (BSON_TYPE_EOD when it has none) */
   bson_error_t error;
} odm_skipped_t;

/* The documents skipped so far, in order; *N receives how many. Owned by the cursor. */
ODM_API const odm_skipped_t *
odm_cursor_skipped (const odm_cursor_t *cursor, size_t *n);

ODM_API void
odm_cursor_destroy (odm_cursor_t *cursor);

ODM_API bool
odm_count (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, int64_t *count,
           bson_error_t *error);

/* ------------------------------------------------------------------ projections */

/* Whether PATH of DOC (a SCHEMA struct) was loaded. A struct filled through a projection
 * (odm_find_opts_t.projection) knows which paths it left out: NOT_LOADED for them (their
 * members read as absent, but the stored document may hold values), PARTLY for a
 * subdocument some of whose fields were left out, LOADED otherwise (and for any struct not
 * filled through a projection). odm_save, odm_insert_one/many and odm_bulk_insert refuse a
 * partly loaded struct (ODM_ERROR_INVALID_ARGUMENT): writing it would erase what was not
 * loaded; use odm_update for partial changes. */
typedef enum { ODM_NOT_LOADED = 0, ODM_LOADED = 1, ODM_PARTLY_LOADED = 2 } odm_loaded_t;

ODM_API odm_loaded_t
odm_field_loaded (const odm_schema_t *schema, const void *doc, const char *path);

/* ------------------------------------------------------------------ populate */

/* The documents a page of rows references (Mongoose's populate). */
typedef struct {
   const odm_schema_t *schema; /* the referenced collection's */
   void *docs;                 /* COUNT structs of SCHEMA: the referenced documents found */
   size_t count;
   const void **by_row;        /* one pointer per row: its referenced document in DOCS, or NULL
                                * (no reference, or a missing one) */
   odm_violations_t missing;   /* one per row whose reference names no stored document:
                                * path "3.agentId", rule "ref" */
} odm_populated_t;

/* For N rows of SCHEMA stored contiguously at ROWS, reads the documents their reference
 * field PATH points to (an ObjectId field the spec marks `ref`, at the top level or inside
 * subdocuments, not inside arrays) in ONE query for the whole page ({_id: {$in: [...]}} on
 * the referenced collection), decoded into that collection's structs. OPTS (may be NULL)
 * gives the session, read preference, decode flags and bad-document policy of that query.
 * A reference to no stored document is reported in OUT->missing, not an error. OUT is
 * initialised here, always: odm_populated_cleanup it. */
ODM_API bool
odm_populate (odm_client_t *client, const odm_schema_t *schema, const void *rows, size_t n, const char *path,
              const odm_find_opts_t *opts, odm_populated_t *out, bson_error_t *error);

ODM_API void
odm_populated_cleanup (odm_populated_t *populated);

/* odm_find_one with options (OPTS->limit is ignored; sort and skip choose which one). */
ODM_API bool
odm_find_one_with_opts (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                        const odm_find_opts_t *opts, void *out, bool *found, bson_error_t *error);

/* Counts the documents matching FILTER with OPTS's skip, limit (a count with a limit stops
 * at the limit), checked_filter, mongoc_opts and read_prefs (sort and decode_flags are
 * ignored). */
ODM_API bool
odm_count_with_opts (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                     const odm_find_opts_t *opts, int64_t *count, bson_error_t *error);

/* Replaces the stored document with DOC's _id by DOC, after odm_prepare as an update
 * (the stored document is read first and given to the rules as `previous`). Fails with
 * ODM_ERROR_NOT_FOUND when no document has that _id. */
ODM_API bool
odm_save (odm_client_t *client, const odm_schema_t *schema, void *doc, const odm_write_opts_t *opts,
          odm_violations_t *violations, bson_error_t *error);

/* Which way an update went (docs/live.md, "Operator updates"). */
typedef enum {
   ODM_UPDATE_REFUSED = 0, /* refused before anything was sent */
   ODM_UPDATE_DIRECT,      /* sent as the operator update it is, rules guarded by the filter */
   ODM_UPDATE_CHECKED      /* read, applied in memory, validated whole, written conditionally */
} odm_update_path_t;

/* What odm_update did, when the caller asks (odm_update_opts_t.result). */
typedef struct {
   odm_update_path_t path;
   const char *why;   /* CHECKED: why not DIRECT (static text), else NULL */
   int attempts;      /* round trips of the checked path's read-write cycle (1 for DIRECT) */
   int64_t matched;
   int64_t modified;
   bool upserted;
} odm_update_result_t;

typedef struct {
   size_t size;                 /* sizeof (odm_update_opts_t): use ODM_UPDATE_OPTS_INIT */
   bool upsert;
   bool multi;                  /* update every matching document, not just one */
   int64_t now_ms;              /* clock for updatedAt and $currentDate; 0 = the real clock */
   const bson_t *mongoc_opts;   /* passed to libmongoc's update (writeConcern, ...), or NULL */
   odm_update_result_t *result; /* filled when non-NULL */
   bool checked_filter;         /* run odm_filter_check on FILTER first */
   odm_session_t *session;      /* run in this session (every read and write of the update), or NULL */
} odm_update_opts_t;

#define ODM_UPDATE_OPTS_INIT {.size = sizeof (odm_update_opts_t)}

/* Applies an operator update ($set, $unset, $inc, $mul, $min, $max, $push, $addToSet,
 * $pull, $pop, $currentDate, $setOnInsert) to the documents matching FILTER.
 * Every path is checked against the spec before anything is read: unknown paths, wrong
 * types, unsetting a required field are refused. Then each matching document is read,
 * the update applied to it in memory, the result run through odm_prepare (derivations,
 * updatedAt, every rule including cross-field ones), and written back only if the stored
 * document is still the one that was read (otherwise retried, then ODM_ERROR_CONFLICT).
 * With UPSERT and no match, the document built from FILTER's equality fields and the
 * update goes through the create path (defaults, createdAt, required fields).
 * MATCHED (may be NULL) receives how many documents matched; the modified count, the
 * path taken and the attempts are in OPTS->result when the caller gives one. */
ODM_API bool
odm_update (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, const bson_t *update,
            const odm_update_opts_t *opts, int64_t *matched, odm_violations_t *violations, bson_error_t *error);

/* Which path odm_update would take for UPDATE, without a server: DIRECT, CHECKED (with
 * *WHY, static text, saying why not direct) or REFUSED (returns false with ERROR and
 * VIOLATIONS set, as odm_update would). PATH and WHY may be NULL. */
ODM_API bool
odm_update_plan (const odm_schema_t *schema, const bson_t *update, odm_update_path_t *path, const char **why,
                 odm_violations_t *violations, bson_error_t *error);

/* The in-memory half of odm_update, no server involved: checks UPDATE against the spec,
 * applies it to STORED (one stored document) and runs the pre-save path on the result, as
 * odm_update does before writing. OUT (initialised here, always) receives the document
 * that would be stored. Returns false with ERROR (and VIOLATIONS) set when it would be
 * refused. */
ODM_API bool
odm_update_apply (const odm_schema_t *schema, const bson_t *stored, const bson_t *update,
                  const odm_update_opts_t *opts, bson_t *out, odm_violations_t *violations, bson_error_t *error);

ODM_API bool
odm_delete (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, bool multi,
            int64_t *deleted, bson_error_t *error);

typedef struct {
   size_t size;               /* sizeof (odm_delete_opts_t): use ODM_DELETE_OPTS_INIT */
   bool multi;                /* delete every matching document, not just one */
   bool checked_filter;       /* run odm_filter_check on FILTER first */
   const bson_t *mongoc_opts; /* passed to libmongoc's delete (writeConcern, collation...), or NULL */
   odm_session_t *session;    /* run in this session, or NULL */
} odm_delete_opts_t;

#define ODM_DELETE_OPTS_INIT {.size = sizeof (odm_delete_opts_t)}

/* odm_delete with options. DELETED (may be NULL) receives the server's deletedCount. */
ODM_API bool
odm_delete_with_opts (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                      const odm_delete_opts_t *opts, int64_t *deleted, bson_error_t *error);

/* ------------------------------------------------------------------ find and modify */

/* Mongoose's findOneAndUpdate: runs odm_update (every check, the direct or checked path) on
 * one document matching FILTER, and decodes into OUT (initialised here, always) the document
 * as it was before (RETURN_NEW false) or after (RETURN_NEW true). The document is read
 * first and updated under its version (`__v`): if another libodm or Mongoose versioned
 * write lands in between, it is read again (16 attempts, then ODM_ERROR_CONFLICT), so the
 * "before" returned is the one the update applied to. OPTS->upsert is refused (use
 * odm_update). *FOUND (may be NULL) tells whether a document matched. */
ODM_API bool
odm_find_one_and_update (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                         const bson_t *update, const odm_update_opts_t *opts, bool return_new, void *out,
                         bool *found, odm_violations_t *violations, bson_error_t *error);

/* Mongoose's findOneAndDelete: deletes one document matching FILTER (the first in
 * OPTS->sort's order) with the server's findAndModify and decodes it into OUT (initialised
 * here, always). OPTS (may be NULL): sort, checked_filter, session, mongoc_opts
 * (writeConcern...). When the deleted document cannot be decoded, returns false with the
 * decode error and *FOUND true: it is deleted all the same. */
ODM_API bool
odm_find_one_and_delete (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter,
                         const odm_find_opts_t *opts, void *out, bool *found, bson_error_t *error);

/* The distinct values of PATH (a path of the spec) among the documents matching FILTER,
 * into VALUES (initialised here, always) as an array document {"0": ..., "1": ...}.
 * OPTS (may be NULL): checked_filter, session, read_prefs, mongoc_opts. */
ODM_API bool
odm_distinct (odm_client_t *client, const odm_schema_t *schema, const char *path, const bson_t *filter,
              const odm_find_opts_t *opts, bson_t *values, bson_error_t *error);

/* A bulk of mixed operations on one collection (Mongoose's bulkWrite), run in the order
 * given by odm_bulk_execute. Inserts are prepared and validated when added; updates are
 * checked against the spec when added (odm_update_plan) and run through odm_update when
 * executed (its direct or checked path, one request each: the engine's guards need each
 * update's own matched count, which a bulk reply does not give); consecutive inserts go
 * in one request per batch_size documents; deletes are one request each. Ordered (the
 * default): nothing is sent when any operation is invalid, and the first failure stops
 * the rest; unordered: invalid operations are skipped and failures do not stop the rest. */
typedef struct _odm_bulk_t odm_bulk_t;

/* OPTS (may be NULL) is copied; its result member is ignored (see odm_bulk_execute). */
ODM_API odm_bulk_t *
odm_bulk_new (odm_client_t *client, const odm_schema_t *schema, const odm_write_opts_t *opts, bson_error_t *error);

/* Adds an insert of DOC: runs odm_prepare on it now (its _id is filled). Returns false when
 * DOC is invalid (the operation is kept, as INVALID, with its violations). */
ODM_API bool
odm_bulk_insert (odm_bulk_t *bulk, void *doc, bson_error_t *error);

/* Adds odm_update (FILTER, UPDATE, OPTS) (OPTS may be NULL; its result member is ignored,
 * the outcome has the counts). Returns false when UPDATE is refused by odm_update_plan (the
 * operation is kept, as INVALID). */
ODM_API bool
odm_bulk_update (odm_bulk_t *bulk, const bson_t *filter, const bson_t *update, const odm_update_opts_t *opts,
                 bson_error_t *error);

/* Adds a delete of one (or with MULTI every) document matching FILTER. */
ODM_API bool
odm_bulk_delete (odm_bulk_t *bulk, const bson_t *filter, bool multi, bson_error_t *error);

/* Runs the operations. RESULT (may be NULL; initialised here, always) receives one outcome
 * per operation in the order added. Returns true when every operation is DONE. A bulk runs
 * once. */
ODM_API bool
odm_bulk_execute (odm_bulk_t *bulk, odm_bulk_result_t *result, bson_error_t *error);

ODM_API void
odm_bulk_destroy (odm_bulk_t *bulk);

/* Checks FILTER against SCHEMA before it is sent, for filters that carry request data:
 * refuses server-side JavaScript anywhere ($where, $function, $accumulator, also inside
 * $expr and $elemMatch), unknown query operators, paths the collection does not have
 * (arrays are looked through as queries do: "attachments.url"; anything goes below a mixed
 * field), and values that can never match the field: an equality, $eq/$ne or a $in/$nin
 * element of another type than the field's (null always allowed; an array field also
 * takes an array of its element type), an enum field's value outside its enum, $gt/$gte/
 * $lt/$lte on a boolean or subdocument or with a value of another type, $exists other than
 * true/false, $regex on a non-string field, $size/$all on a non-array field or $size not a
 * whole number from 0, $elemMatch on a non-array field (its conditions checked against the
 * element type), $mod on a non-number field. Raw filters (checked_filter false) are sent
 * as given: the opt-out for what the checker does not model. One violation per problem
 * (rule "operator", "unknown", "type", "enum" or "depth"), the path naming the place in the
 * filter ("rating.$gt"). VIOLATIONS (may be NULL) is initialised here. */
ODM_API bool
odm_filter_check (const odm_schema_t *schema, const bson_t *filter, odm_violations_t *violations);

/* The field PATH names in SCHEMA as a query sees it (arrays looked through, "tags.0" an
 * element), or NULL when the schema has no such path or it lies below a mixed field. */
ODM_API const odm_field_t *
odm_schema_path (const odm_schema_t *schema, const char *path);

/* Checks a sort document: every key a path of SCHEMA, every direction 1, -1 or {$meta}.
 * One violation per problem (rule "unknown" or "type"), the path naming the key. */
ODM_API bool
odm_sort_check (const odm_schema_t *schema, const bson_t *sort, odm_violations_t *violations);

/* Checks a projection: every key a path of SCHEMA; values 1/0/true/false, all including or
 * all excluding (_id aside), or $slice, $elemMatch, $meta. Rules "unknown", "type",
 * "operator", "projection". */
ODM_API bool
odm_projection_check (const odm_schema_t *schema, const bson_t *projection, odm_violations_t *violations);

/* Checks every key of DOC (recursively) for being empty, a leading '$' or a '.', which user
 * data must not carry into a stored document, and for bytes that are not UTF-8. Adds one
 * violation (rule "key") per bad key; its path shows such bytes as '?'. */
ODM_API bool
odm_check_keys (const bson_t *doc, odm_violations_t *violations);

/* ------------------------------------------------------------------ indexes */

/* Whether the merged index IX is one libodm creates (prefix-redundant ones are not). */
ODM_API bool
odm_index_wanted (const odm_index_t *ix);

/* Creates the collection's wanted indexes that are missing. Idempotent. CREATED (may be
 * NULL) receives how many were created. */
ODM_API bool
odm_indexes_ensure (odm_client_t *client, const odm_schema_t *schema, int *created, bson_error_t *error);

/* Compares the live collection's indexes with the wanted ones. OUT (initialised here,
 * always) receives one line per difference: "missing NAME {keys}", "extra NAME {keys}",
 * "differs NAME: ..." as violations (path = index name, rule = missing|extra|differs).
 * A live index that the spec declares but libodm does not create (a prefix of another,
 * see odm_indexes_lint; Mongoose creates it) is listed with rule "declared": a note, not
 * drift. odm_indexes_drift counts the others. */
ODM_API bool
odm_indexes_diff (odm_client_t *client, const odm_schema_t *schema, odm_violations_t *out, bson_error_t *error);

/* How many of the violations of odm_indexes_diff are drift (rule missing, extra or differs). */
ODM_API size_t
odm_indexes_drift (const odm_violations_t *diff);

/* Reports what the platform specification declares twice and indexes that are prefixes of others. */
ODM_API void
odm_indexes_lint (const odm_schema_t *schema, odm_violations_t *out);

ODM_END_DECLS

#endif /* ODM_CLIENT_H */
