/* bench: what odm_bench and odm_bench_view share: allocation counting and fixture loading. */
#ifndef ODM_BENCH_UTIL_H
#define ODM_BENCH_UTIL_H

#include <odm/odm.h>

#include <stdint.h>

/* Allocations made through libbson (so by libodm) since odm_bench_count_allocations. */
extern uint64_t odm_bench_allocs;

/* Routes libbson's allocator through a counter of odm_bench_allocs (call it before any
 * allocation, at the start of main). */
void
odm_bench_count_allocations (void);

/* DIR/COLLECTION.VARIANT.json (Extended JSON) as a new bson_t; NULL when the file is
 * missing or is not valid Extended JSON (ERROR, when non-NULL, then says why). */
bson_t *
odm_bench_load_fixture (const char *dir, const char *collection, const char *variant, bson_error_t *error);

#endif
