/* Analytics verification harness.
 *
 * Each tests/analytics/<collection>.c defines `const odm_analytics_module_t
 * odm_analytics_<collection>`: a deterministic data set (built from a seeded PRNG into
 * the collection's generated structs) and, for each of the collection's analytics, cases
 * whose expected rows are computed in C from the same structs, independently of the
 * pipeline. The harness loads the data through libodm into a live server, runs each
 * case through the generated function's code path (odm_aggregate) and compares rows:
 * same number, same order, same fields, numbers equal within 1e-9 relative. It also runs
 * every analytic on an empty collection (no rows expected). */
#ifndef ODM_ANALYTICS_HARNESS_H
#define ODM_ANALYTICS_HARNESS_H

#include <mongoc/mongoc.h>
#include <odm/odm.h>

#include <stdbool.h>
#include <stdint.h>

/* Fixed clock of the data sets: 2024-01-01T00:00:00Z. */
#define ODM_AX_EPOCH INT64_C (1704067200000)
#define ODM_AX_DAY INT64_C (86400000)

typedef struct {
   uint64_t state;
} odm_ax_rng_t;

void
odm_ax_rng_seed (odm_ax_rng_t *r, uint64_t seed);
uint32_t
odm_ax_rng_next (odm_ax_rng_t *r);
/* Uniform integer in [lo, hi]. */
int64_t
odm_ax_rng_range (odm_ax_rng_t *r, int64_t lo, int64_t hi);

/* A deterministic ObjectId: 64b0 + 20 hex digits of N (so ids sort as N does). */
void
odm_ax_oid (bson_oid_t *oid, uint32_t n);

/* A case: run AGG with PARAMS (the generated params struct) and expect the rows EXPECT
 * writes into the BSON array ROWS (keys "0", "1", ...), in order. A case whose
 * expectation is no rows at all must say so with EXPECT_NONE (ODM_AX_NO_ROWS): an
 * expectation that comes out empty otherwise fails the case, since a filter that selects
 * nothing verifies nothing, and one with EXPECT_NONE that yields rows fails too. */
typedef struct {
   const char *label;
   const odm_aggregation_t *agg;
   const void *params;
   void (*expect) (const void *params, bson_t *rows);
   bool expect_none;
} odm_ax_case_t;

#define ODM_AX_NO_ROWS true

typedef struct {
   const odm_schema_t *schema;
   /* Builds the data set into a static array of structs and returns it (count in *N).
    * Called once; the structs stay alive for the expectations. */
   const void *(*dataset) (size_t *n);
   const odm_ax_case_t *cases;
   size_t case_count;
   /* Optional: whether document I of the data set is stored as written by another client
    * (its struct encoded as is, without the defaults and timestamps libodm's insert adds),
    * so that fields with defaults can be missing, as in data libodm did not write. */
   bool (*as_is) (size_t i);
} odm_analytics_module_t;

/* Appends {…} built by the caller as row I of ROWS. */
void
odm_ax_append_row (bson_t *rows, const bson_t *row);

/* Runs one case against CLIENT and asserts (check) the rows match. */
void
odm_ax_run_case (odm_client_t *client, const odm_analytics_module_t *m, const odm_ax_case_t *c);

/* Sorting helper for expectations: sorts N elements of SIZE by CMP (stable). */
void
odm_ax_sort (void *base, size_t n, size_t size, int (*cmp) (const void *, const void *));

int
odm_ax_cmp_double_desc (double a, double b);
int
odm_ax_cmp_oid (const bson_oid_t *a, const bson_oid_t *b);

/* Small pieces every expectation needs. The window is [from, to): from inclusive, to
 * exclusive, each bound only when set, as the pipelines' {"$param"} slots behave. */
bool
odm_ax_in_window (int64_t t, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to);
/* Row I is kept under a limit parameter (unset: every row). */
bool
odm_ax_within_limit (size_t i, uint8_t has_limit, double limit);
/* A string parameter filter: unset passes, set must equal V. */
bool
odm_ax_str_ok (uint8_t has, const char *want, const char *v);
/* The same for an ObjectId parameter. */
bool
odm_ax_oid_ok (uint8_t has, const bson_oid_t *want, const bson_oid_t *v);
/* Replaces the owned string *FIELD (e.g. a default put there by init) by a copy of VALUE. */
void
odm_ax_set_string (char **field, const char *value);

/* Makes the owned string *FIELD missing (STATE ODM_ABSENT) or an explicit null (ODM_NULL):
 * a string is present while its pointer is set, so the pointer goes. */
void
odm_ax_unset_string (char **field, uint8_t *has, uint8_t state);

/* $addToSet over ObjectIds: adds OID to the *N ids at SET unless it is there (SET has room). */
void
odm_ax_oid_set_add (bson_oid_t *set, size_t *n, const bson_oid_t *oid);

/* The same over strings (the pointers are kept, not copied). */
void
odm_ax_str_set_add (const char **set, size_t *n, const char *s);

/* Whether ITEMS[K] is the first of its value in the list ITEMS: a list that repeats a value
 * counts it once where the pipeline takes the list as a set. */
bool
odm_ax_first_of (char *const *items, size_t k);

/* One measure of a group, as $sum, $avg, $min and $max see it: how many values there are
 * (a missing or null one is not added, so N can be below the group's count), their sum,
 * the least and the greatest (meaningful once N > 0). Zeroes are an empty one. */
typedef struct {
   double n, sum, min, max;
} odm_ax_acc_t;

void
odm_ax_acc_add (odm_ax_acc_t *a, double v);

/* Appends KEY to ROW: the average of A, or null when A has no values (what $avg gives). */
void
odm_ax_append_avg (bson_t *row, const char *key, const odm_ax_acc_t *a);

/* Appends KEY to ROW: V when HAS, otherwise null (as $avg, $min or $max over no values). */
void
odm_ax_append_num_or_null (bson_t *row, const char *key, bool has, double v);

/* The key of a group of an expectation ($group's _id): an ObjectId, a string, two strings
 * (an _id object of two fields), or an ObjectId and a string. It is the first member of
 * each module's group struct, so that one find-or-add and one order serve every module.
 * A part the grouping does not use is the same in all its groups: the zero id, or null. */
typedef struct {
   bson_oid_t oid;
   char s[32], s2[32];
   /* S (S2) is null, as a missing or null field groups: not a string, so apart from "" */
   bool null, null2;
} odm_ax_key_t;

/* The group keyed OID, S and S2 (a NULL OID: the zero id; a NULL string: null) among the
 * *N groups of SIZE bytes at GROUPS, each starting with its odm_ax_key_t. When there is
 * none, a new one is added (GROUPS has room for it): a copy of BLANK with that key, or
 * zeroes with that key when BLANK is NULL. A BLANK is for groups that do not start at
 * zero, e.g. a first date at INT64_MAX for the first document's date to replace. */
void *
odm_ax_group_for (void *groups, size_t *n, size_t size, const void *blank, const bson_oid_t *oid, const char *s,
                  const char *s2);

/* MongoDB's order of two keys: by the id, then by each string, null before any string. */
int
odm_ax_key_cmp (const odm_ax_key_t *a, const odm_ax_key_t *b);

/* odm_ax_key_cmp over groups (each starting with its key), for odm_ax_sort. */
int
odm_ax_by_key (const void *a, const void *b);

/* Appends NAME to DOC: a key part, null when NULL is set (see odm_ax_key_t), else S. */
void
odm_ax_append_str_or_null (bson_t *doc, const char *name, bool null, const char *s);

/* $dateToString formats of the periods, computed in C (UTC). */
void
odm_ax_period (int64_t ms, const char *period, char *buf, size_t size);

#endif
