/* The runtime's registry of schemas (odm_schemas_register), and the rules of a program's
 * own: C hooks per schema, custom field validators, pattern rules, generated setters. */
#include "test-util.h"

#include <string.h>

/* A schema of "another set": a copy of a shipped one under other names. */
static odm_schema_t
renamed (const odm_schema_t *from, const char *collection, const char *c_name)
{
   odm_schema_t s = *from;
   s.collection = collection;
   s.c_name = c_name;
   return s;
}

START_TEST (test_register_set)
{
   static odm_schema_t mine, other;
   const odm_schema_t *set[2];
   bson_error_t error;
   size_t n, i;
   const odm_schema_t *const *all;

   mine = renamed (&odm_user_schema, "my_users", "my_user");
   other = renamed (&odm_agent_schema, "aaa_agents", "aaa_agent");
   set[0] = &mine;
   set[1] = &other;
   ck_assert_msg (odm_schemas_register ("mine", set, 2, &error), "%s", error.message);
   all = odm_schemas (&n);
   ck_assert_uint_eq (n, ODM_COLLECTION_COUNT + 2);
   for (i = 1; i < n; i++) {
      ck_assert_int_lt (strcmp (all[i - 1]->collection, all[i]->collection), 0);
   }
   ck_assert_ptr_eq (all[0], &other);
   ck_assert_ptr_eq (odm_schema_find ("my_users"), &mine);
   ck_assert_ptr_eq (odm_schema_find ("users"), &odm_user_schema);
   ck_assert_str_eq (odm_schema_set (&mine), "mine");
   ck_assert_str_eq (odm_schema_set (&odm_user_schema), "platform");
   ck_assert_ptr_null (odm_schema_set (NULL));
   /* again: harmless, nothing added */
   ck_assert (odm_schemas_register ("mine", set, 2, &error));
   odm_schemas (&n);
   ck_assert_uint_eq (n, ODM_COLLECTION_COUNT + 2);
}
END_TEST

START_TEST (test_register_conflicts)
{
   static odm_schema_t same_coll, same_c, ok, stale;
   const odm_schema_t *set[2];
   bson_error_t error;
   size_t n;

   same_coll = renamed (&odm_user_schema, "users", "my_user");
   set[0] = &same_coll;
   ck_assert (!odm_schemas_register ("mine", set, 1, &error));
   ck_assert_uint_eq (error.domain, ODM_ERROR_DOMAIN);
   ck_assert_uint_eq (error.code, ODM_ERROR_SCHEMA_CONFLICT);
   ck_assert_str_eq (error.message, "set \"mine\": collection \"users\" is already defined by set \"platform\"");

   same_c = renamed (&odm_user_schema, "my_users", "user");
   set[0] = &same_c;
   ck_assert (!odm_schemas_register ("mine", set, 1, &error));
   ck_assert_uint_eq (error.code, ODM_ERROR_SCHEMA_CONFLICT);
   ck_assert_str_eq (error.message,
                     "set \"mine\": C name \"user\" (collection \"my_users\") is already used by collection \"users\" "
                     "of set \"platform\"");

   /* all or nothing: the good schema before the bad one is not registered either */
   ok = renamed (&odm_user_schema, "fine", "fine");
   set[0] = &ok;
   set[1] = &same_coll;
   ck_assert (!odm_schemas_register ("mine", set, 2, &error));
   ck_assert_ptr_null (odm_schema_find ("fine"));
   odm_schemas (&n);
   ck_assert_uint_eq (n, ODM_COLLECTION_COUNT);

   /* two schemas of one set that collide with each other */
   same_coll = renamed (&odm_user_schema, "fine", "fine2");
   ck_assert (!odm_schemas_register ("mine", set, 2, &error));
   ck_assert_str_eq (error.message, "set \"mine\": collection \"fine\" is already defined by set \"mine\"");

   stale = renamed (&odm_user_schema, "stale", "stale");
   stale.abi = ODM_CODEGEN_ABI + 1;
   set[0] = &stale;
   ck_assert (!odm_schemas_register ("old", set, 1, &error));
   ck_assert_uint_eq (error.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert (strstr (error.message, "regenerate it") != NULL);
   ck_assert (!odm_schemas_register (NULL, set, 1, &error));
   odm_schemas (&n);
   ck_assert_uint_eq (n, ODM_COLLECTION_COUNT);
}
END_TEST

Suite *
registry_suite (void)
{
   Suite *s = suite_create ("registry");
   TCase *tc = tcase_create ("registry");
   tcase_add_test (tc, test_register_set);
   tcase_add_test (tc, test_register_conflicts);
   suite_add_tcase (s, tc);
   return s;
}
