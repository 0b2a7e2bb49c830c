/* libodm internals: what the update engine's two files share (src/odm-update-apply.c
 * parses, checks and applies an update in memory; src/odm-update.c plans it and writes it).
 * Not installed. */
#ifndef ODM_UPDATE_PRIVATE_H
#define ODM_UPDATE_PRIVATE_H

#include "odm-private.h"

#define ODM_UPD_DEPTH_MAX 100 /* MongoDB's nesting limit; paths and values both */
#define ODM_UPD_VERSION_KEY "__v"

typedef enum {
   OP_SET = 1,
   OP_UNSET,
   OP_INC,
   OP_MUL,
   OP_MIN,
   OP_MAX,
   OP_PUSH,
   OP_ADDTOSET,
   OP_PULL,
   OP_POP,
   OP_CURRENTDATE,
   OP_SETONINSERT
} op_t;

typedef struct {
   const odm_field_t *field; /* the field the path ends on (or enters, for mixed) */
   bool in_mixed;            /* the path goes below a mixed field: anything goes */
   bool element;             /* the path ends on one element of an array ("tags.0") */
   bool in_array;            /* the path goes through an array index */
   bool required_in_doc;     /* the field is required where the path ends */
   bool version;             /* the path is __v */
} resolved_t;

typedef struct {
   op_t op;
   const char *path;   /* borrowed from the update document */
   bson_value_t arg;   /* borrowed view into the update document */
   resolved_t r;
   bool done;          /* consumed during one apply */
} item_t;

typedef struct {
   item_t *v;
   size_t n, cap;
} items_t;

/* One apply: what the walk needs besides the items. */
typedef struct {
   bool inserting;  /* apply $setOnInsert */
   int64_t now_ms;
   bson_error_t *error;
   const char *bad_path; /* set with ERROR */
} apply_ctx_t;

bool
odm_upd_all_digits (const char *s, size_t n);

bool
odm_upd_apply_items (items_t *items, const bson_t *doc, bool inserting, int64_t now_ms, bson_t *out, bson_error_t *error);

bool
odm_upd_apply_level (apply_ctx_t *c, const bson_t *src, bool is_array, item_t *items, size_t lo, size_t hi, size_t off,
                     bson_t *dst, int depth);

bool
odm_upd_check_update (const odm_schema_t *schema, const bson_t *update, items_t *items, odm_violations_t *v,
                      bson_error_t *error);

int
odm_upd_item_cmp (const void *a, const void *b);

void
odm_upd_items_add (items_t *it, op_t op, const char *path, const bson_value_t *arg, const resolved_t *r);

double
odm_upd_num (const bson_value_t *v);

int
odm_upd_path_cmp (const char *a, const char *b);

bool
odm_upd_path_within (const char *a, const char *b);

bool
odm_upd_values_equal (const bson_value_t *a, const bson_value_t *b);

#endif /* ODM_UPDATE_PRIVATE_H */
