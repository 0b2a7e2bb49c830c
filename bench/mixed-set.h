/* bench: document sets shared by odm_bench and the Mongoose bench (bench/mongoose/).
 *
 * A set is a list of (collection, BSON document) pairs:
 *   full   tests/data/<collection>.full.json, one per collection
 *   min    tests/data/<collection>.min.json, one per collection
 *   mixed  a seeded, generated set of several thousand documents across all collections,
 *          with the sizes and string lengths of real platform data (names, descriptions,
 *          tags, nested objects, arrays of subdocuments, now and then non-ASCII text).
 *          Every document passes the pre-save path (odm_prepare) of its collection: the
 *          generator fills the generated struct from the descriptor tables, repairs what the
 *          spec's cross-field rules ask (dates in order, declared sizes, sums), and checks.
 * The same seed gives the same bytes on every machine (no clock, no process id, no
 * floating-point function of the platform's libm), so a dumped set (odm_bench --dump-set)
 * is what both benches read. */
#ifndef ODM_BENCH_MIXED_SET_H
#define ODM_BENCH_MIXED_SET_H

#include <stdio.h>

#include <odm/odm.h>

#define ODM_BENCH_SET_SEED UINT64_C (20240611)
#define ODM_BENCH_SET_MIXED_DOCS 5000
/* The clock every set is generated and prepared against (after every fixture date). */
#define ODM_BENCH_SET_NOW_MS INT64_C (1700100000000)

typedef struct {
   const odm_schema_t *schema;
   bson_t *doc; /* owned */
} odm_bench_set_item_t;

typedef struct {
   char name[16]; /* "full", "min", "mixed" */
   odm_bench_set_item_t *items;
   size_t count;
   size_t bytes; /* total BSON bytes */
} odm_bench_set_t;

/* Loads tests/data/<collection>.<VARIANT>.json of every schema from DIR. A missing fixture
 * is skipped; a fixture that does not decode and prepare is an error. */
bool
odm_bench_set_fixtures (odm_bench_set_t *set, const char *dir, const char *variant, bson_error_t *error);

/* Generates COUNT documents from SEED (see above). */
bool
odm_bench_set_mixed (odm_bench_set_t *set, uint64_t seed, size_t count, bson_error_t *error);

/* "full" and "min" from DIR, "mixed" generated with the default seed and size. */
bool
odm_bench_set_load (odm_bench_set_t *set, const char *name, const char *dir, bson_error_t *error);

/* Replaces every document by itself after odm_from_bson + odm_prepare (a create at NOW_MS)
 * + odm_to_bson; a document that breaks a rule is kept as prepared. */
bool
odm_bench_set_prepare (odm_bench_set_t *set, int64_t now_ms, bson_error_t *error);

/* Writes one line per document: {"collection": "...", "doc": <canonical Extended JSON>}. */
bool
odm_bench_set_dump (const odm_bench_set_t *set, FILE *out);

/* Reads a file written by odm_bench_set_dump; the set is named after the file
 * ("/tmp/mixed.jsonl" -> "mixed"). */
bool
odm_bench_set_read (odm_bench_set_t *set, const char *path, bson_error_t *error);

void
odm_bench_set_destroy (odm_bench_set_t *set);

#endif /* ODM_BENCH_MIXED_SET_H */
