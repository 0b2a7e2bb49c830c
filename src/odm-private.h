/* libodm internals shared by the runtime's source files. Not installed. */
#ifndef ODM_PRIVATE_H
#define ODM_PRIVATE_H

#include <mongoc/mongoc.h>
#include <odm/odm.h>

/* Mongoose's versionKey: every libodm write increments it (docs/live.md). */
#define ODM_VERSION_KEY "__v"

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

/* Shortest "%g"-style text that reads back as V. */
void
odm_format_number (double v, char *buf, size_t size);

#define ODM_AT(base, off) ((void *) ((char *) (base) + (off)))
#define ODM_AT_CONST(base, off) ((const void *) ((const char *) (base) + (off)))

/* odm-doc.c: the walkers the validator shares. */
void
odm_fill_defaults (const odm_object_desc_t *d, void *base, int64_t now, bool ids);
void *
odm_array_items (const void *base, const odm_field_t *f, size_t *count);

/* Decode / encode / cleanup of any generated object type (documents, analytics rows). */
bool
odm_decode_desc (const odm_object_desc_t *d, const bson_t *in, void *doc, uint32_t flags, bson_error_t *error);
bool
odm_encode_desc (const odm_object_desc_t *d, const void *doc, bson_t *out);
void
odm_cleanup_desc (const odm_object_desc_t *d, void *doc);

/* odm-client.c: shared with the update and index code. */
mongoc_collection_t *
odm_client_collection (odm_client_t *client, const odm_schema_t *schema, mongoc_client_t **mc);
void
odm_client_release (odm_client_t *client, mongoc_collection_t *coll, mongoc_client_t *mc);
/* Turns a duplicate-key ERROR into ODM_ERROR_DUPLICATE_KEY plus "unique" violations on the
 * index's key paths, asking the server (COLL) which unique index holds DOC's keys when the
 * message names none. */
bool
odm_map_duplicate_doc (const odm_schema_t *schema, bson_error_t *error, odm_violations_t *v,
                       mongoc_collection_t *coll, const bson_t *doc);
/* odm_check_keys over what user data can reach in DOC: unknown fields and mixed values. */
bool
odm_check_doc_keys (const odm_schema_t *schema, const void *doc, odm_violations_t *violations);
/* {field: {$eq: value}} for every top-level field of STORED (FILTER initialised here). */
void
odm_conditional_filter (const bson_t *stored, bson_t *filter);

/* odm-hooks.c: the program's own rules (odm-hooks.h). Cheap when none are registered. */
void
odm_hooks_run (const odm_schema_t *schema, odm_hook_kind_t kind, void *doc, const odm_prepare_opts_t *opts,
               int64_t now_ms, odm_violations_t *out);
void
odm_validators_run (const odm_schema_t *schema, const void *doc, odm_violations_t *out);
/* Decodes STORED and runs SCHEMA's POST_SAVE hooks on it (nothing when there are none). */
void
odm_hooks_post_save_bson (const odm_schema_t *schema, const bson_t *stored, bool is_update, int64_t now_ms);

#endif /* ODM_PRIVATE_H */
