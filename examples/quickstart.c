/* libodm quickstart: build a chat session and a user in memory, run the pre-save path
 * (defaults, derivations, timestamps, validation), encode to BSON, print canonical
 * Extended JSON, decode it back, and show what an invalid document reports.
 * No server needed. */
#include <odm/odm.h>

#include <stdio.h>
#include <stdlib.h>

static int
fail (const char *what, const bson_error_t *error)
{
   fprintf (stderr, "quickstart: %s: %s\n", what, error->message);
   return EXIT_FAILURE;
}

static void
print_violations (const char *what, const odm_violations_t *v)
{
   size_t i;
   printf ("%s: %zu violation(s)\n", what, v->count);
   for (i = 0; i < v->count; i++) {
      printf ("  %s [%s] %s\n", v->items[i].path, v->items[i].rule, v->items[i].message);
   }
}

int
main (void)
{
   odm_user_t user;
   odm_chat_session_t session, decoded;
   odm_violations_t violations;
   odm_prepare_opts_t create = {.is_update = false, .now_ms = 0 /* the clock */};
   bson_error_t error;
   bson_t bson;
   char *json;

   /* A user. init applies the schema's defaults (role "user", preferences.theme "auto", ...). */
   odm_user_init (&user);
   user.email = bson_strdup ("Ada.Lovelace@Example.com"); /* lowercased by prepare */
   user.username = bson_strdup ("ada_lovelace");
   user.displayName = bson_strdup ("Ada Lovelace");
   if (!odm_user_prepare (&user, &create, &violations)) {
      print_violations ("user", &violations);
      return EXIT_FAILURE;
   }
   odm_violations_cleanup (&violations);
   if (!odm_user_to_bson (&user, &bson, &error)) {
      return fail ("encode user", &error);
   }
   json = bson_as_canonical_extended_json (&bson, NULL);
   printf ("user: %s\n\n", json);
   bson_free (json);
   bson_destroy (&bson);

   /* A chat session for that user. */
   odm_chat_session_init (&session);
   session.sessionId = bson_strdup ("session-quickstart-1");
   bson_oid_copy (&user._id, &session.userId);
   session.has_userId = ODM_PRESENT;
   bson_oid_init_from_string (&session.agentId, "64b0000000000000000000b1");
   session.has_agentId = ODM_PRESENT;
   session.name = bson_strdup ("Planning the analytical engine");
   session.settings.temperature = 1.2;
   session.tags.items = bson_malloc (2 * sizeof (char *));
   session.tags.items[0] = bson_strdup ("history");
   session.tags.items[1] = bson_strdup ("math");
   session.tags.count = 2;
   if (!odm_chat_session_prepare (&session, &create, &violations)) {
      print_violations ("session", &violations);
      return EXIT_FAILURE;
   }
   odm_violations_cleanup (&violations);
   if (!odm_chat_session_to_bson (&session, &bson, &error)) {
      return fail ("encode session", &error);
   }
   json = bson_as_canonical_extended_json (&bson, NULL);
   printf ("chat session: %s\n\n", json);
   bson_free (json);

   /* Decode it back: the same document, field by field. */
   if (!odm_chat_session_from_bson (&bson, &decoded, ODM_DECODE_STRICT, &error)) {
      return fail ("decode session", &error);
   }
   printf ("decoded back: name=\"%s\" temperature=%g mode=%s tags=%zu\n\n", decoded.name,
           decoded.settings.temperature, decoded.settings.mode, decoded.tags.count);
   bson_destroy (&bson);

   /* Break three rules at once: every violation is reported, with its path and rule. */
   decoded.settings.temperature = 2.5;
   bson_free (decoded.settings.mode);
   decoded.settings.mode = bson_strdup ("turbo");
   bson_free (decoded.name);
   decoded.name = NULL;
   if (odm_chat_session_validate (&decoded, NULL, &violations)) {
      fprintf (stderr, "quickstart: an invalid session passed validation\n");
      return EXIT_FAILURE;
   }
   print_violations ("invalid session refused", &violations);
   odm_violations_cleanup (&violations);

   odm_chat_session_cleanup (&decoded);
   odm_chat_session_cleanup (&session);
   odm_user_cleanup (&user);
   return EXIT_SUCCESS;
}
