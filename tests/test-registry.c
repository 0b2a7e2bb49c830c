/* The runtime's registry of schemas (odm_schemas_register), and the rules of a program's
 * own: C hooks per schema, custom field validators, pattern rules, generated setters.
 * Registrations last as long as the process: every test here runs in a process of its own
 * (check's default fork mode; not with CK_FORK=no). */
#include "same-ids.h"
#include "test-util.h"

#include <golden.h>

#include <math.h>
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


/* ---------------------------------------------------------------- hooks */

typedef struct {
   int pre_validate, pre_save, post_save;
   bool last_is_update;
} counts_t;

static void
no_bob (void *doc, odm_hook_ctx_t *ctx)
{
   const odm_user_t *u = doc;
   counts_t *c = ctx->user;
   c->pre_validate++;
   ck_assert_int_eq (ctx->kind, ODM_HOOK_PRE_VALIDATE);
   ck_assert_ptr_eq (ctx->schema, &odm_user_schema);
   if (u->username && !strcmp (u->username, "bob")) {
      odm_violations_add (ctx->out, "username", "no_bob", "bob is taken, forever");
   }
}

static void
fill_display_name (void *doc, odm_hook_ctx_t *ctx)
{
   odm_user_t *u = doc;
   counts_t *c = ctx->user;
   c->pre_save++;
   c->last_is_update = ctx->is_update;
   if (!u->displayName && u->username) {
      odm_user_set_displayName (u, u->username);
   }
   if (u->username && !strcmp (u->username, "long")) {
      odm_user_set_displayName (u, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
   }
}

static void
user_valid (odm_user_t *u, const char *name)
{
   odm_user_init (u);
   odm_user_set_email (u, "a@b.co");
   odm_user_set_username (u, name);
}

START_TEST (test_hooks_prepare_validate)
{
   static counts_t c;
   odm_user_t u;
   odm_violations_t v;
   bson_error_t error;

   ck_assert (!odm_schema_has_hooks (&odm_user_schema));
   ck_assert (odm_hook_add (&odm_user_schema, ODM_HOOK_PRE_VALIDATE, no_bob, &c, &error));
   ck_assert (odm_hook_add (&odm_user_schema, ODM_HOOK_PRE_SAVE, fill_display_name, &c, &error));
   ck_assert (odm_schema_has_hooks (&odm_user_schema));
   ck_assert (!odm_schema_has_hooks (&odm_agent_schema));

   /* the typed wrappers run them: pre-save changes the document, then it is validated */
   user_valid (&u, "alice");
   ck_assert (odm_user_prepare (&u, NULL, &v));
   ck_assert_str_eq (u.displayName, "alice");
   ck_assert_int_eq (c.pre_save, 1);
   ck_assert_int_eq (c.pre_validate, 1);
   ck_assert (!c.last_is_update);
   odm_violations_cleanup (&v);
   odm_user_cleanup (&u);

   /* a pre-validate violation refuses, with the hook's path, rule and message */
   user_valid (&u, "bob");
   ck_assert (!odm_user_validate (&u, NULL, &v));
   ck_assert (odm_test_has_violation (&v, "username", "no_bob", "bob is taken, forever"));
   ck_assert_ptr_null (u.displayName); /* validate runs no pre-save hook */
   odm_violations_cleanup (&v);
   ck_assert (!odm_prepare (&odm_user_schema, &u, NULL, &v));
   ck_assert_uint_eq (v.count, 1);
   odm_violations_cleanup (&v);
   odm_user_cleanup (&u);

   /* what a pre-save hook writes is validated (maxlength 100) */
   user_valid (&u, "long");
   ck_assert (!odm_user_prepare (&u, NULL, &v));
   ck_assert (odm_test_has_violation (&v, "displayName", "maxlength", NULL));
   odm_violations_cleanup (&v);
   odm_user_cleanup (&u);

   ck_assert (!odm_hook_add (&odm_user_schema, (odm_hook_kind_t) 9, no_bob, NULL, &error));
   ck_assert (!odm_hook_add (NULL, ODM_HOOK_PRE_SAVE, no_bob, NULL, &error));
   ck_assert (!odm_hook_add (&odm_user_schema, ODM_HOOK_PRE_SAVE, NULL, NULL, &error));
}
END_TEST

/* odm-hooks.h's pattern: a pre-save hook that works on owned and arena documents alike. */
static void
display_name_either_way (void *doc, odm_hook_ctx_t *ctx)
{
   odm_user_t *u = doc;
   odm_arena_t **seen = ctx->user;
   *seen = ctx->arena;
   if (u->username) {
      char *name = odm_arena_strdup (ctx->arena, u->username);
      if (!ctx->arena) {
         bson_free (u->displayName);
      }
      u->displayName = name;
      u->has_displayName = ODM_PRESENT;
   }
}

/* A pre-save hook sees the arena of odm_prepare_arena (NULL under odm_prepare), and what it
 * takes from odm_arena_strdup is the arena's: the same prepared bytes both ways, nothing
 * leaked or freed twice (ASan and valgrind run this). */
START_TEST (test_hooks_arena)
{
   static odm_arena_t *seen;
   odm_arena_t *arena = odm_arena_new (0);
   bson_t *in = BCON_NEW ("email", "a@b.co", "username", "dora", "displayName", "old");
   odm_prepare_opts_t opts = {false, INT64_C (1767225600000), NULL};
   odm_user_t owned, in_arena;
   odm_violations_t v;
   bson_error_t error;
   bson_t a, b;

   ck_assert (odm_hook_add (&odm_user_schema, ODM_HOOK_PRE_SAVE, display_name_either_way, &seen, &error));
   ck_assert (odm_user_from_bson (in, &owned, 0, &error));
   seen = arena;
   ck_assert (odm_user_prepare (&owned, &opts, &v));
   odm_violations_cleanup (&v);
   ck_assert_ptr_null (seen);
   ck_assert_str_eq (owned.displayName, "dora");

   ck_assert (odm_from_bson_arena (&odm_user_schema, in, &in_arena, 0, arena, &error));
   ck_assert (odm_prepare_arena (&odm_user_schema, &in_arena, arena, &opts, &v));
   odm_violations_cleanup (&v);
   ck_assert_ptr_eq (seen, arena);
   ck_assert_str_eq (in_arena.displayName, "dora");
   odm_same_ids (odm_user_schema.root, &in_arena, &owned); /* each prepare made its own _id */
   ck_assert (odm_user_to_bson (&owned, &a, NULL) && odm_user_to_bson (&in_arena, &b, NULL));
   ck_assert (bson_equal (&a, &b));

   ck_assert_ptr_null (odm_arena_strdup (arena, NULL));
   bson_destroy (&a);
   bson_destroy (&b);
   odm_user_cleanup (&owned);
   odm_arena_destroy (arena);
   bson_destroy (in);
}
END_TEST

/* Operator updates: a schema with hooks takes the checked path, whose pre-save path runs
 * the hooks, and what a pre-save hook changes is written even where the update does not
 * reach. */
START_TEST (test_hooks_update)
{
   static counts_t c;
   bson_error_t error;
   odm_violations_t v;
   odm_update_path_t path;
   const char *why;
   bson_t *stored, *update, out;
   bson_iter_t it;
   bson_oid_t id;

   update = BCON_NEW ("$set", "{", "avatar", "x.png", "}");
   ck_assert (odm_update_plan (&odm_user_schema, update, &path, &why, &v, &error));
   ck_assert_int_eq (path, ODM_UPDATE_DIRECT);
   odm_violations_cleanup (&v);

   ck_assert (odm_hook_add (&odm_user_schema, ODM_HOOK_PRE_SAVE, fill_display_name, &c, &error));
   ck_assert (odm_hook_add (&odm_user_schema, ODM_HOOK_PRE_VALIDATE, no_bob, &c, &error));
   ck_assert (odm_update_plan (&odm_user_schema, update, &path, &why, &v, &error));
   ck_assert_int_eq (path, ODM_UPDATE_CHECKED);
   ck_assert (strstr (why, "hooks") != NULL);
   odm_violations_cleanup (&v);

   bson_oid_init (&id, NULL);
   stored = BCON_NEW ("_id", BCON_OID (&id), "email", "a@b.co", "username", "carol", "__v", BCON_INT32 (0));
   ck_assert_msg (odm_update_apply (&odm_user_schema, stored, update, NULL, &out, &v, &error), "%s", error.message);
   ck_assert (bson_iter_init_find (&it, &out, "displayName") && !strcmp (bson_iter_utf8 (&it, NULL), "carol"));
   ck_assert (bson_iter_init_find (&it, &out, "avatar"));
   ck_assert (c.last_is_update);
   bson_destroy (&out);
   odm_violations_cleanup (&v);
   bson_destroy (update);

   /* the pre-validate hook refuses an update that makes the username bob */
   update = BCON_NEW ("$set", "{", "username", "bob", "}");
   ck_assert (!odm_update_apply (&odm_user_schema, stored, update, NULL, &out, &v, &error));
   ck_assert (odm_test_has_violation (&v, "username", "no_bob", NULL));
   bson_destroy (&out);
   odm_violations_cleanup (&v);
   bson_destroy (update);
   bson_destroy (stored);
}
END_TEST

/* ---------------------------------------------------------------- validators */

static bool
no_digits (const bson_value_t *value, void *user)
{
   const char *s;
   ck_assert_int_eq (value->value_type, BSON_TYPE_UTF8);
   (*(int *) user)++;
   for (s = value->value.v_utf8.str; *s; s++) {
      if (*s >= '0' && *s <= '9') {
         return false;
      }
   }
   return true;
}

static bool
not_dark (const bson_value_t *value, void *user)
{
   (void) user;
   return strcmp (value->value.v_utf8.str, "dark") != 0;
}

START_TEST (test_validators)
{
   static int calls;
   odm_user_t u;
   odm_violations_t v;
   bson_error_t error;

   ck_assert (odm_validator_add (&odm_user_schema, "profile.skills", "no_digits", "skills are words", no_digits,
                                 &calls, &error));
   ck_assert (odm_validator_add (&odm_user_schema, "preferences.theme", NULL, "not dark", not_dark, NULL, &error));
   user_valid (&u, "dave");
   u.profile.skills.count = 3;
   u.profile.skills.items = bson_malloc0 (3 * sizeof (char *));
   u.profile.skills.items[0] = bson_strdup ("c");
   u.profile.skills.items[1] = bson_strdup ("c99");
   u.profile.skills.items[2] = bson_strdup ("go");
   ck_assert (!odm_user_validate (&u, NULL, &v));
   ck_assert_uint_eq (v.count, 1);
   ck_assert (odm_test_has_violation (&v, "profile.skills.1", "no_digits", "skills are words"));
   ck_assert_int_eq (calls, 3);
   odm_violations_cleanup (&v);
   /* present values are validated, default rule name "validate" */
   ck_assert_str_eq (u.preferences.theme, "auto"); /* the default; the setter frees it */
   odm_user_preferences_set_theme (&u.preferences, "dark");
   ck_assert (!odm_user_validate (&u, NULL, &v));
   ck_assert (odm_test_has_violation (&v, "preferences.theme", "validate", "not dark"));
   odm_violations_cleanup (&v);
   odm_user_cleanup (&u);

   ck_assert (!odm_validator_add (&odm_user_schema, "profile.nope", NULL, "m", not_dark, NULL, &error));
   ck_assert_str_eq (error.message, "profile.nope: odm_validator_add: users has no such path");
   ck_assert (!odm_validator_add (&odm_user_schema, "profile", NULL, "m", not_dark, NULL, &error));
   ck_assert_str_eq (error.message, "profile: odm_validator_add: users: a validator goes on a value, not on an object");
   ck_assert (!odm_validator_add (&odm_user_schema, "email", NULL, NULL, not_dark, NULL, &error));
}
END_TEST

/* ---------------------------------------------------------------- pattern */

static bool
matches (const char *re, uint32_t flags, const char *s)
{
   odm_regex_t r = {.source = re, .flags = flags};
   bool m = odm_regex_match (&r, s);
   odm_regex_t again = r; /* compiled once, reused */
   ck_assert_ptr_nonnull (r.compiled);
   ck_assert (odm_regex_match (&again, s) == m);
   ck_assert_ptr_eq (again.compiled, r.compiled);
   odm_regex_cleanup (&r);
   ck_assert_ptr_null (r.compiled);
   return m;
}

START_TEST (test_regex_js)
{
   ck_assert (matches ("^ORD-\\d{6}$", 0, "ORD-123456"));
   ck_assert (!matches ("^ORD-\\d{6}$", 0, "ORD-12345"));
   ck_assert (!matches ("^ORD-\\d{6}$", 0, "ORD-123456\n")); /* $ is the end only, as in JavaScript */
   ck_assert (!matches ("^\\d$", 0, "\xd9\xa3"));             /* \d is ASCII (ARABIC-INDIC THREE) */
   ck_assert (!matches ("^\\w+$", 0, "caf\xc3\xa9"));         /* \w is ASCII */
   ck_assert (matches ("^caf.$", 0, "caf\xc3\xa9"));          /* . is one code point */
   ck_assert (matches ("^abc$", ODM_REGEX_IGNORE_CASE, "ABC"));
   ck_assert (!matches ("^abc$", 0, "ABC"));
   ck_assert (matches ("^b$", ODM_REGEX_MULTILINE, "a\nb"));
   ck_assert (!matches ("a.b", 0, "a\nb"));
   ck_assert (matches ("a.b", ODM_REGEX_DOT_ALL, "a\nb"));
   ck_assert (matches ("^\\u0041$", 0, "A"));                 /* \uhhhh */
   ck_assert (matches ("^\\u{1F600}$", 0, "\xf0\x9f\x98\x80")); /* \u{...} */
   ck_assert (matches ("^(a)?b\\1$", 0, "b"));                /* unset group: matches empty */
   ck_assert (matches ("(?<y>\\d{4})-\\k<y>", 0, "2024-2024"));
   ck_assert (matches ("x", 0, "xyz"));                        /* test(), not a full match */
   {
      odm_regex_t bad = {.source = "(", .flags = 0};
      ck_assert (!odm_regex_match (&bad, "("));
   }
}
END_TEST

START_TEST (test_rule_regex)
{
   static odm_regex_t re = {.source = "^[A-Z]{3}$"};
   odm_violations_t v;
   odm_rule_ctx_t ctx = {.out = &v};
   odm_violations_init (&v);
   odm_rule_regex (&ctx, "code", "ABC", &re, "three capitals");
   odm_rule_regex (&ctx, "code", NULL, &re, "three capitals");
   odm_rule_regex (&ctx, "code", "", &re, "three capitals"); /* as Mongoose's match: "" passes */
   ck_assert_uint_eq (v.count, 0);
   odm_rule_regex (&ctx, "code", "ABCD", &re, "three capitals");
   ck_assert_uint_eq (v.count, 1);
   odm_regex_cleanup (&re);
   ck_assert (odm_test_has_violation (&v, "code", "pattern", "three capitals"));
   odm_violations_cleanup (&v);
}
END_TEST

/* ---------------------------------------------------------------- setters */

START_TEST (test_setters)
{
   odm_user_t u;
   odm_violations_t v;
   bson_t b;
   bson_error_t error;
   bson_iter_t it;

   user_valid (&u, "erin");
   /* a string with a default: the setter frees the default (ASan and valgrind check it) */
   ck_assert_str_eq (u.role, "user");
   odm_user_set_role (&u, "admin");
   odm_user_set_role (&u, "moderator");
   ck_assert_str_eq (u.role, "moderator");
   ck_assert_int_eq (u.has_role, ODM_PRESENT);
   odm_user_set_displayName (&u, NULL);
   ck_assert_ptr_null (u.displayName);
   ck_assert_int_eq (u.has_displayName, ODM_ABSENT);
   /* scalars get their flag, nested objects their own setters, arrays an _add_ */
   odm_user_set_lastLogin (&u, 1700000000000);
   ck_assert_int_eq (u.has_lastLogin, ODM_PRESENT);
   odm_user_preferences_set_notifications (&u.preferences, false);
   ck_assert_int_eq (u.preferences.has_notifications, ODM_PRESENT);
   odm_user_profile_add_skills (&u.profile, "c");
   odm_user_profile_add_skills (&u.profile, "sql");
   ck_assert_uint_eq (u.profile.skills.count, 2);
   ck_assert_str_eq (u.profile.skills.items[1], "sql");
   ck_assert (odm_user_prepare (&u, NULL, &v));
   odm_violations_cleanup (&v);
   ck_assert (odm_user_to_bson (&u, &b, &error));
   ck_assert (bson_iter_init_find (&it, &b, "lastLogin") && bson_iter_date_time (&it) == 1700000000000);
   ck_assert (bson_iter_init_find (&it, &b, "role") && !strcmp (bson_iter_utf8 (&it, NULL), "moderator"));
   bson_destroy (&b);
   odm_user_unset_lastLogin (&u);
   ck_assert_int_eq (u.lastLogin, 0);
   ck_assert_int_eq (u.has_lastLogin, ODM_ABSENT);
   ck_assert (odm_user_validate (&u, NULL, &v));
   odm_violations_cleanup (&v);
   odm_user_cleanup (&u);
}
END_TEST

/* A scalar written without its has_ flag would be dropped by the encoder: refused. */
START_TEST (test_scalar_without_flag)
{
   odm_user_t u;
   odm_violations_t v;
   odm_transaction_t t;

   user_valid (&u, "fred");
   u.lastLogin = 1700000000000; /* has_lastLogin stays ODM_ABSENT */
   u.preferences.notifications = true;
   u.preferences.has_notifications = ODM_ABSENT;
   ck_assert (!odm_user_validate (&u, NULL, &v));
   ck_assert_uint_eq (v.count, 2);
   ck_assert (odm_test_has_violation (&v, "lastLogin", "presence",
                                      "has a value but has_lastLogin is ODM_ABSENT, so it would not be written: "
                                      "use the setter (or set has_lastLogin = ODM_PRESENT)"));
   ck_assert (odm_test_has_violation (&v, "preferences.notifications", "presence", NULL));
   odm_violations_cleanup (&v);
   ck_assert (!odm_user_prepare (&u, NULL, &v)); /* and so no write path takes it */
   odm_violations_cleanup (&v);
   /* zero is indistinguishable from absent: absent it is */
   u.lastLogin = 0;
   u.preferences.notifications = false;
   ck_assert (odm_user_validate (&u, NULL, &v));
   odm_violations_cleanup (&v);
   odm_user_cleanup (&u);

   /* a mixed field's setter copies the value and frees the old one */
   odm_transaction_init (&t);
   {
      bson_value_t a = {.value_type = BSON_TYPE_INT32, .value.v_int32 = 7}, s;
      s.value_type = BSON_TYPE_UTF8;
      s.value.v_utf8.str = (char *) "seven";
      s.value.v_utf8.len = 5;
      odm_transaction_set_metadata (&t, &s);
      odm_transaction_set_metadata (&t, &a);
      ck_assert_int_eq (t.metadata.value_type, BSON_TYPE_INT32);
      odm_transaction_unset_metadata (&t);
      ck_assert_int_eq (t.metadata.value_type, BSON_TYPE_EOD);
   }
   odm_transaction_cleanup (&t);
}
END_TEST

/* Custom validators a spec names ("validate": {"fn", "message"}, tests/golden/widgets.json):
 * the program defines the functions; they run on every validation, through nested objects,
 * arrays of subdocuments and arrays of scalars, and report {path, "validate", message}. */
bool
widget_code_check (const bson_value_t *value, void *user)
{
   ck_assert_ptr_null (user);
   return value->value_type == BSON_TYPE_UTF8 && !strncmp (value->value.v_utf8.str, "W-", 2);
}

bool
widget_unit_check (const bson_value_t *value, void *user)
{
   const char *s = value->value.v_utf8.str;
   (void) user;
   return !strcmp (s, "mm") || !strcmp (s, "cm") || !strcmp (s, "m");
}

bool
widget_even_check (const bson_value_t *value, void *user)
{
   (void) user;
   return value->value_type == BSON_TYPE_DOUBLE && fmod (value->value.v_double, 2) == 0;
}

bool
widget_tag_check (const bson_value_t *value, void *user)
{
   const char *s;
   (void) user;
   for (s = value->value.v_utf8.str; *s; s++) {
      if (*s >= 'A' && *s <= 'Z') {
         return false;
      }
   }
   return true;
}

START_TEST (test_spec_validators)
{
   odm_widget_t w;
   odm_widget_part_t *p;
   odm_violations_t v;
   ck_assert_uint_eq (odm_widget_schema.validator_count, 4);
   ck_assert (odm_schema_has_hooks (&odm_widget_schema)); /* its updates take the checked path */
   odm_widget_init (&w);
   odm_widget_set_code (&w, "W-1");
   odm_widget_size_set_unit (&w.size, "cm");
   w.has_size = ODM_PRESENT;
   p = odm_widget_add_parts (&w);
   odm_widget_part_set_name (p, "axle");
   odm_widget_part_set_count (p, 2);
   odm_widget_add_tags (&w, "round");
   ck_assert (odm_widget_validate (&w, NULL, &v));
   ck_assert_uint_eq (v.count, 0);
   odm_violations_cleanup (&v);

   odm_widget_set_code (&w, "w-1"); /* the pattern rule (flag i) passes, the validator does not */
   odm_widget_size_set_unit (&w.size, "furlong");
   p = odm_widget_add_parts (&w);
   odm_widget_part_set_name (p, "wheel");
   odm_widget_part_set_count (p, 3);
   odm_widget_add_tags (&w, "Blue");
   ck_assert (!odm_widget_validate (&w, NULL, &v));
   ck_assert_uint_eq (v.count, 4);
   ck_assert (odm_test_has_violation (&v, "code", "validate", "No such widget code"));
   ck_assert (odm_test_has_violation (&v, "size.unit", "validate", "Not a unit of length"));
   ck_assert (odm_test_has_violation (&v, "parts.1.count", "validate", "Parts come in pairs"));
   ck_assert (odm_test_has_violation (&v, "tags.1", "validate", "Tags are lowercase"));
   odm_violations_cleanup (&v);

   /* absent and null values are the required rule's business, not the validator's */
   odm_widget_unset_code (&w);
   odm_widget_size_unset_unit (&w.size);
   ck_assert (!odm_widget_validate (&w, NULL, &v));
   ck_assert (odm_test_has_violation (&v, "code", "required", NULL));
   ck_assert (!odm_test_has_violation (&v, "code", "validate", NULL));
   ck_assert (!odm_test_has_violation (&v, "size.unit", "validate", NULL));
   odm_violations_cleanup (&v);
   odm_widget_cleanup (&w);
}
END_TEST

Suite *
registry_suite (void)
{
   Suite *s = suite_create ("registry");
   TCase *tc = tcase_create ("registry");
   tcase_add_test (tc, test_register_set);
   tcase_add_test (tc, test_register_conflicts);
   tcase_add_test (tc, test_hooks_prepare_validate);
   tcase_add_test (tc, test_hooks_update);
   tcase_add_test (tc, test_hooks_arena);
   tcase_add_test (tc, test_validators);
   tcase_add_test (tc, test_regex_js);
   tcase_add_test (tc, test_rule_regex);
   tcase_add_test (tc, test_setters);
   tcase_add_test (tc, test_scalar_without_flag);
   tcase_add_test (tc, test_spec_validators);
   suite_add_tcase (s, tc);
   return s;
}
