/* bench: the zero-copy read of a document, shared by odm_bench_view and odm_bench --sets. */
#ifndef ODM_BENCH_VIEW_READ_H
#define ODM_BENCH_VIEW_READ_H

#include <odm/odm.h>

/* Reads every field of V and below through the view accessors (nested objects, array
 * elements, mixed values); a checksum of what it read, so that nothing is optimised away. */
uint64_t
odm_bench_view_read_all (const odm_view_t *v);

#endif
