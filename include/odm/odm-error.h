/* libodm: errors and validation reports. Include <odm/odm.h>, not this file. */
#if !defined(ODM_INSIDE) && !defined(ODM_COMPILATION)
#error "Only <odm/odm.h> can be included directly."
#endif

#ifndef ODM_ERROR_H
#define ODM_ERROR_H

#include <bson/bson.h>

#include "odm-macros.h"

ODM_BEGIN_DECLS

/* bson_error_t.domain of every error libodm reports itself. */
#define ODM_ERROR_DOMAIN 0x4f444du /* "ODM" */

/* X(name, code, description): one list, expanded into the enum and odm_error_code_str(). */
#define ODM_ERROR_CODES(X)                                                    \
   X (ODM_ERROR_NONE, 0, "no error")                                          \
   X (ODM_ERROR_INVALID_ARGUMENT, 1, "invalid argument")                      \
   X (ODM_ERROR_CORRUPT_BSON, 2, "input is not valid BSON")                   \
   X (ODM_ERROR_TYPE, 3, "a field has the wrong BSON type")                   \
   X (ODM_ERROR_UNKNOWN_FIELD, 4, "a field is not in the schema")             \
   X (ODM_ERROR_DUPLICATE_FIELD, 5, "a field appears twice")                  \
   X (ODM_ERROR_RANGE, 6, "a value cannot be represented")                    \
   X (ODM_ERROR_ENCODE, 7, "the document could not be encoded")               \
   X (ODM_ERROR_VALIDATION, 8, "the document breaks the schema's rules")      \
   X (ODM_ERROR_NO_MEMORY, 9, "out of memory")                                \
   X (ODM_ERROR_DUPLICATE_KEY, 10, "a unique index already has this key")     \
   X (ODM_ERROR_NOT_FOUND, 11, "no document matched")                         \
   X (ODM_ERROR_CONFLICT, 12, "the document changed while it was updated")    \
   X (ODM_ERROR_UNSUPPORTED, 13, "the update uses an operator libodm refuses") \
   X (ODM_ERROR_SERVER, 14, "the server or the driver reported an error")         \
   X (ODM_ERROR_KEY, 15, "a key is empty, starts with '$' or contains '.'")               \
   X (ODM_ERROR_JSON, 16, "the text is not one valid Extended JSON object")               \
   X (ODM_ERROR_SCHEMA_CONFLICT, 17, "two schema sets define the same collection or C name")

typedef enum {
#define ODM_ERROR_ENUM_(name, code, text) name = code,
   ODM_ERROR_CODES (ODM_ERROR_ENUM_)
#undef ODM_ERROR_ENUM_
} odm_error_code_t;

/* A short description of CODE; never NULL. */
ODM_API const char *
odm_error_code_str (uint32_t code);

/* One broken rule. `path` uses dots and array indexes ("attachments.0.url"),
 * `rule` is a stable name ("required", "enum", "min", "max", "minlength",
 * "maxlength", "after", "max_items", "pattern", ...), `message` is for people. */
typedef struct {
   char *path;
   const char *rule; /* static string */
   char *message;
} odm_violation_t;

/* A list of violations.
 * Ownership: functions that take an `odm_violations_t *out` initialise it themselves,
 * on success and on failure, and the caller always calls odm_violations_cleanup(). */
typedef struct {
   odm_violation_t *items;
   size_t count;
   size_t capacity;
} odm_violations_t;

ODM_API void
odm_violations_init (odm_violations_t *v);

ODM_API void
odm_violations_cleanup (odm_violations_t *v);

/* Appends a violation; copies path and message. */
ODM_API void
odm_violations_add (odm_violations_t *v, const char *path, const char *rule, const char *message);

/* Appends a decode ERROR (from odm_from_bson and friends, "path: message") as one
 * violation: its path, a rule named after the error ("type", "unknown", "duplicate",
 * "range", "bson", "key", "json"), and its message. Lets callers report every failure in one shape. */
ODM_API void
odm_violations_add_error (odm_violations_t *v, const bson_error_t *error);

/* Writes "path: message (rule)" lines, separated by "; ", into ERROR
 * (domain ODM_ERROR_DOMAIN, code ODM_ERROR_VALIDATION), truncated to fit. */
ODM_API void
odm_violations_to_error (const odm_violations_t *v, bson_error_t *error);

/* Appends the violations to DOC as an array of {path, rule, message} documents under KEY. */
ODM_API bool
odm_violations_append_bson (const odm_violations_t *v, bson_t *doc, const char *key);

ODM_END_DECLS

#endif /* ODM_ERROR_H */
