/* Shared helpers for the libodm test programs. */
#ifndef ODM_TEST_UTIL_H
#define ODM_TEST_UTIL_H

#include <check.h>
#include <mongoc/mongoc.h>
#include <odm/odm.h>

/* Reads tests/data/NAME (Extended JSON) into a new bson_t, or NULL when the file is absent. */
bson_t *
odm_test_load_json (const char *name);

/* Reads any file into a NUL-terminated buffer (bson_free it); NULL when absent. */
char *
odm_test_read_file (const char *path, size_t *len);

/* Whether VIOLATIONS has one at PATH with RULE (and, when MESSAGE is non-NULL, that message). */
bool
odm_test_has_violation (const odm_violations_t *v, const char *path, const char *rule, const char *message);

/* Prints the violations (to help when an assertion fails). */
void
odm_test_print_violations (const char *what, const odm_violations_t *v);

/* Copies SRC into DST with dotted PATH set to V (removed when V is NULL). */
void
odm_test_set_path (const bson_t *src, const char *path, const bson_value_t *v, bson_t *dst);

/* COLL's full fixture with EDITS (JSON: dotted path -> value, {"$remove": 1} removes). */
bson_t *
odm_test_fixture_with (const char *coll, const char *edits_json);

/* TEXT (relaxed Extended JSON) as a new bson_t; fails the test, naming TEXT, when it does not parse. */
bson_t *
odm_test_json (const char *text);

Suite *codec_suite (void);
Suite *live_suite (void);
Suite *analytics_suite (void);
Suite *params_suite (void);
Suite *rules_suite (void);
Suite *schema_suite (void);
Suite *hooks_suite (void);
Suite *update_suite (void);
Suite *registry_suite (void);
Suite *integrity_suite (void);
Suite *opts_suite (void);
Suite *layer_suite (void);
Suite *view_suite (void);
Suite *gencode_suite (void);

#endif
