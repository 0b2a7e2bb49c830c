/* libodm: a program's own rules, registered at run time. Include <odm/odm.h>, not this file.
 *
 * Hooks (Mongoose's schema.pre / schema.post) and custom validators are attached to a
 * schema (shipped or generated for your own specs) and then run by every write path:
 * odm_prepare / odm_validate, the typed wrappers (odm_order_insert, ...), odm_insert_one,
 * odm_insert_many, odm_save, and odm_update with operator updates and upserts. An update
 * of a schema that has any hook or validator always takes the checked path (the stored
 * document is read, the update applied in memory, the pre-save path run, the result
 * written back if nobody changed it meanwhile), so hooks see whole documents.
 *
 * Order of the pre-save path (odm_prepare): _ids, defaults, lowercase, the spec's
 * derivations, timestamps, then the PRE_SAVE hooks, then validation: the PRE_VALIDATE
 * hooks, the spec's rules, the custom validators. Unlike Mongoose, a pre-save hook runs
 * before validation, so what it changes is validated too. odm_validate runs only the
 * validation part (PRE_VALIDATE hooks, rules, validators).
 *
 * Registration is for the life of the process (there is no removal) and thread-safe; a
 * hook runs on the thread of the call that writes. Hooks of one kind run in the order
 * they were added. */
#if !defined(ODM_INSIDE) && !defined(ODM_COMPILATION)
#error "Only <odm/odm.h> can be included directly."
#endif

#ifndef ODM_HOOKS_H
#define ODM_HOOKS_H

#include <bson/bson.h>

#include "odm-error.h"
#include "odm-macros.h"
#include "odm-schema.h"

ODM_BEGIN_DECLS

typedef enum {
   ODM_HOOK_PRE_VALIDATE = 1, /* before the rules; reads the document, may add violations */
   ODM_HOOK_PRE_SAVE,         /* before validation; may change the document, may add violations */
   ODM_HOOK_POST_SAVE         /* after a successful write; reads the document as stored */
} odm_hook_kind_t;

typedef struct {
   const odm_schema_t *schema;
   odm_hook_kind_t kind;
   const odm_prepare_opts_t *opts; /* the caller's (is_update, previous), or NULL */
   bool is_update;                 /* saving an existing document (save, operator update) */
   int64_t now_ms;                 /* the write's time, as defaults and timestamps use it */
   odm_violations_t *out;          /* PRE_*: odm_violations_add (ctx->out, path, rule, msg)
                                    * refuses the write; POST_SAVE: NULL */
   void *user;                     /* the context pointer given to odm_hook_add */
   odm_arena_t *arena;             /* PRE_SAVE from odm_prepare_arena: the arena DOC lives in;
                                    * otherwise NULL */
} odm_hook_ctx_t;

/* DOC is the schema's struct (odm_order_t *). Only a PRE_SAVE hook may change it. What it
 * puts there is owned as the rest of the document is: bson_malloc'd strings that the
 * document frees (the setters), or, when ctx->arena is set, the arena's: a string from
 * odm_arena_strdup (ctx->arena, ...), assigned with its has_ flag, no setter, nothing
 * freed. odm_arena_strdup with a NULL arena is bson_strdup, so one hook serves both:
 *
 *    char *name = odm_arena_strdup (ctx->arena, u->username);
 *    if (!ctx->arena) {
 *       bson_free (u->displayName);
 *    }
 *    u->displayName = name;
 *    u->has_displayName = ODM_PRESENT;
 */
typedef void (*odm_hook_fn) (void *doc, odm_hook_ctx_t *ctx);

/* Adds FN as a hook of KIND to SCHEMA, called with USER in ctx->user. */
ODM_API bool
odm_hook_add (const odm_schema_t *schema, odm_hook_kind_t kind, odm_hook_fn fn, void *user, bson_error_t *error);

/* A custom validator: VALUE is the field's value (never absent or null: those are the
 * `required` rule's business, as in Mongoose). Returns whether it is valid. */
typedef bool (*odm_validator_fn) (const bson_value_t *value, void *user);

/* Adds a validator on the dotted PATH of SCHEMA ("items.sku": through arrays of
 * subdocuments; on an array of scalars, each element is validated). A value it refuses is
 * reported as a violation {path: "items.1.sku", rule: RULE (default "validate"), message:
 * MESSAGE}. Fails when PATH names no field or an object. RULE and MESSAGE are copied. */
ODM_API bool
odm_validator_add (const odm_schema_t *schema,
                   const char *path,
                   const char *rule,
                   const char *message,
                   odm_validator_fn fn,
                   void *user,
                   bson_error_t *error);

/* Whether SCHEMA has any hook or validator (its updates then take the checked path). */
ODM_API bool
odm_schema_has_hooks (const odm_schema_t *schema);

ODM_END_DECLS

#endif /* ODM_HOOKS_H */
