/* bench: odm_bench's document-set modes (set-bench.c), kept out of odm-bench.c.
 *
 *   odm_bench --dump-set full|min|mixed FILE   the set as Extended JSON lines, for bench/mongoose
 *   odm_bench --dump-prepared SET.jsonl FILE   the set after odm_prepare (a create, the bench's
 *                                              clock), which bench/mongoose compares with
 *                                              Mongoose's documents
 *   odm_bench --sets [--json] [--quick] [SET.jsonl ...]
 *                                              decode, and decode + prepare + encode, per set
 *                                              (full, min and mixed, or the dumped files),
 *                                              for libodm and the hand-written baselines
 *   odm_bench --scaling [--json] [--quick]     the same two operations on 1 KB, 64 KB and 1 MB
 *                                              strings and 10,000-element arrays, and on the
 *                                              mixed set with 1 and 2 threads */
#ifndef ODM_BENCH_SET_BENCH_H
#define ODM_BENCH_SET_BENCH_H

#include <stdbool.h>

/* True when ARGV[1] names one of the modes above. */
bool
odm_bench_set_mode (int argc, char **argv);

/* Runs that mode; returns the process exit code. */
int
odm_bench_set_main (int argc, char **argv, const char *data_dir);

#endif /* ODM_BENCH_SET_BENCH_H */
