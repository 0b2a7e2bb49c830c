/* odmgen's typed model of a spec, and what the stages share.
 *
 * The generator runs in stages over this model:
 *   parse.c     JSON spec -> spec_t (keys, types, field rules; errors name file and JSON path)
 *   check.c     semantic checks on the model: rule operands, pipeline slots, spec sets
 *   rules.c     THE rule-kind table: one row per kind of "rules"/"derive" (check + emit)
 *   emit_h.c    a collection's header (structs, path constants, setters, typed wrappers)
 *   emit_c.c    a collection's source (descriptors, rules, derivations, indexes, analytics)
 *   emit_set.c  a spec set's files (the platform's odm-collections.*, a user's SET.*)
 *   main.c      the command line
 * util.c holds the text helpers (output buffers, C literals, file writing). */
#ifndef ODMGEN_MODEL_H
#define ODMGEN_MODEL_H

#include <bson/bson.h>

#include <stdbool.h>
#include <stddef.h>

/* The codegen ABI (ODM_CODEGEN_ABI of the runtime): 2: BSON bytes of key patterns and
 * pipelines, sum_not_greater over offsets; 3: per-object validators (odm_object_desc_t.validate);
 * 4: the defaults take an arena (odm_arena_strdup). */
#define ODMGEN_ABI 4
#ifndef ODMGEN_VERSION
#define ODMGEN_VERSION "unknown"
#endif

/* A field's type (the spec's "type"); a parameter's type adds P_PERIOD. */
enum { K_STRING = 1, K_NUMBER, K_BOOL, K_DATE, K_OID, K_OBJECT, K_MIXED };
#define P_PERIOD 100
/* A field's "default". */
enum { D_NONE, D_NUMBER, D_STRING, D_BOOL, D_NOW };

/* A field's own messages ("messages": {"required": ...}), in ODM_FIELD_RULES order. */
#define N_FIELD_RULES 6

/* A growable output buffer (util.c: out ()). */
typedef struct {
   char *s;
   size_t len, cap;
} buf_t;

typedef struct object object_t;

typedef struct {
   char *name;
   char *cname;
   int kind;
   bool array;
   bool required, unique, lowercase, auto_id, created_at, updated_at;
   bool null_is_zero; /* the hook's range check reads null as 0 (JavaScript's < and >) */
   bool has_min, has_max, has_minlength, has_maxlength;
   double min, max;
   long minlength, maxlength;
   char **enums;
   size_t n_enums;
   int dflt;
   double dflt_number;
   char *dflt_string;
   bool dflt_bool;
   char *ref;
   char *msg[N_FIELD_RULES]; /* ODM_FIELD_RULES order: required, min, max, minlength, maxlength, enum */
   char *comment;
   char *validate_fn, *validate_msg; /* "validate": {"fn", "message"}: a function of the program's */
   object_t *object;
} field_t;

struct object {
   char *ctype; /* odm_chat_session_settings_t */
   char *stem;  /* odm_chat_session_settings */
   char *path;  /* settings (for comments) */
   field_t *fields;
   size_t n;
};

typedef struct {
   char *keys_json;
   char *name;
   bool unique;
   int declared;
   int declared_unique;
   int prefix_of;
   char *comment;
   char **key_paths;
   int *key_dirs;
   size_t n_keys;
} index_t;

typedef struct {
   char *name, *type, *doc, *dflt_string;
   double dflt_number;
   bool has_default, required;
   int kind; /* K_* or P_PERIOD */
} param_t;

typedef struct {
   char *name, *c_name, *doc, *where;
   bson_t *pipeline; /* {"pipeline": [...]} */
   char *pipeline_json;
   param_t *params;
   size_t n_params;
   object_t *row;
} agg_t;

typedef struct rule_kind rule_kind_t;

/* One entry of a spec's "rules" or "derive": its row of the rule-kind table, the spec's
 * object, and the C expressions the check stage resolved for the emit stage. */
typedef struct {
   const rule_kind_t *row;
   char *where;            /* "rules[3]" */
   bson_t *body;           /* the spec's object */
   char *path, *msg;       /* C literals of "path" and "message" */
   char *a, *ha;           /* the operands' value and has_ expressions */
   char *b, *hb;
   char *x, *hx;
   char *text;             /* row-specific C text: a number, a condition, regex flags */
   const field_t *elem;    /* sum_not_greater: the field summed over the subdocuments */
   const object_t *elem_object;
} rule_t;

/* A field's custom validator, found by the check stage: its dotted path and the descriptor
 * entries along it (C expressions: &odm_order_fields[2]). */
typedef struct {
   char *path;
   const field_t *field;
   char **segs;
   size_t n_segs;
} validator_t;

typedef struct {
   const char *file;
   char *collection, *model, *c_name;
   bool timestamps;
   object_t root;
   object_t **objects; /* all objects, children before parents */
   size_t n_objects;
   index_t *indexes;
   size_t n_indexes;
   char **aggregations;
   size_t n_aggregations;
   agg_t *aggs; /* the analytics declared as pipelines */
   size_t n_aggs;
   rule_t *rules, *derive;
   size_t n_rules, n_derive;
   validator_t *validators; /* the fields' "validate", in field order (depth first) */
   size_t n_validators;
   char *text;
   int path_count;
} spec_t;

/* The rule-kind table's row (rules.c). KIND is what a spec writes and what a violation
 * reports; PRIMITIVE is the runtime function the generated call names. */
struct rule_kind {
   const char *kind;
   bool derivation;          /* in "derive", not "rules" */
   const char *only_with;    /* the row applies when the object has this key ("pattern": "regex") */
   const char *const *keys;  /* the keys the kind reads */
   const char *primitive;
   int operand;              /* the operands' K_* where the kind takes one of several */
   void (*check) (const spec_t *sp, rule_t *r);
   void (*emit) (buf_t *out, const spec_t *sp, const rule_t *r);
};

/* ---- util.c */
extern const char *cur_file; /* the spec file errors name */
extern const char *hdr_dir;  /* where a collection's header goes under OUTDIR: "odm/gen" or the set */
void die (const char *where, const char *fmt, ...) __attribute__ ((noreturn, format (printf, 2, 3)));
char *xstrdup (const char *s);
char *fmt (const char *f, ...) __attribute__ ((format (printf, 1, 2)));
void out (buf_t *b, const char *f, ...) __attribute__ ((format (printf, 2, 3)));
char *cstr (const char *s);
char *ctext (const char *s);
char *num_text (double v, bool c_literal);
char *num (double v);
char *c_member (const char *name, const char *where);
bool is_snake (const char *s);
const char *want_utf8 (bson_iter_t *it, const char *where);
bool want_bool (bson_iter_t *it, const char *where);
double want_number (bson_iter_t *it, const char *where);
void want_array (bson_iter_t *it, bson_iter_t *child, const char *where);
void want_doc (bson_iter_t *it, bson_iter_t *child, const char *where);
const char *get_str (const bson_t *d, const char *key, const char *where);
double get_num (const bson_t *d, const char *key, const char *where);
void check_keys (const bson_t *d, const char *const *allowed, const char *where);
char *read_file (const char *path, size_t *len);
void write_if_changed (const char *path, const buf_t *content);
void mkdirs (const char *path);
const char *base_name (const char *p);

/* ---- model.c: building and reading the model */
object_t *new_object (const char *stem, const char *path);
void register_object (spec_t *sp, object_t *o);
void add_field (object_t *obj, const field_t *f);
int count_paths (const object_t *o);
const field_t *lookup_in (const spec_t *sp, const char *path, char **c_expr, char **c_has, const char *where,
                          bool through_arrays);
const field_t *lookup (const spec_t *sp, const char *path, char **c_expr, char **c_has, const char *where);

/* ---- parse.c */
void parse_spec (spec_t *sp, const char *file);

/* ---- check.c */
void check_spec (spec_t *sp);
void check_set (spec_t **specs, int n, const char *set, bool platform);

/* ---- rules.c */
extern const rule_kind_t rule_kinds[];
extern const size_t rule_kind_count;
const rule_kind_t *rule_kind_find (const char *kind, bool derivation, const bson_t *body);
extern const char *const field_rule_keys[N_FIELD_RULES];    /* "required", ..., "enum" */
extern const char *const field_rule_members[N_FIELD_RULES]; /* odm_messages_t: ..., "enumeration" */
unsigned regex_flag_bits (const char *flags, const char *where, char *names, size_t names_size);

/* ---- emit_h.c, emit_c.c, emit_set.c */
void emit_header (const spec_t *sp, const char *outdir);
void emit_source (const spec_t *sp, const char *outdir);
void emit_platform_set (spec_t **specs, int n, const char *outdir);
void emit_user_set (spec_t **specs, int n, const char *set, const char *outdir);

#endif
