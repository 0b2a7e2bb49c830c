/* Shared helpers for the libodm test programs. */
#ifndef ODM_TEST_UTIL_H
#define ODM_TEST_UTIL_H

#include <check.h>
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

Suite *codec_suite (void);
Suite *rules_suite (void);
Suite *schema_suite (void);
Suite *hooks_suite (void);

#endif
