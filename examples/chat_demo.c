/* libodm chat demo, against a live server:
 *   MONGODB_URI=mongodb://127.0.0.1:27017/chat_demo ./chat_demo
 * Creates a user, an agent, two chat sessions and a feedback, shows an invalid write
 * being refused (nothing is sent), then lists the user's sessions by recency through the
 * {userId: 1, updatedAt: -1} index that odm_indexes_ensure created. */
#include <mongoc/mongoc.h>
#include <odm/odm.h>

#include <stdio.h>
#include <stdlib.h>

static int
die (const char *what, const bson_error_t *error)
{
   fprintf (stderr, "chat_demo: %s: %s\n", what, error->message);
   return EXIT_FAILURE;
}

int
main (void)
{
   const char *uri = getenv ("MONGODB_URI");
   odm_client_t *client;
   bson_error_t error;
   odm_violations_t v;
   odm_user_t user;
   odm_agent_t agent;
   odm_chat_session_t session;
   odm_chat_feedback_t feedback;
   odm_cursor_t *cursor;
   odm_find_opts_t find = ODM_FIND_OPTS_INIT;
   bson_t *filter, *sort, *projection, after;
   int pages;
   bson_oid_t user_id;
   int i, rc = EXIT_FAILURE;
   size_t k;
   const odm_schema_t *schemas[] = {&odm_user_schema, &odm_agent_schema, &odm_chat_session_schema,
                                    &odm_chat_feedback_schema};

   if (!uri) {
      fprintf (stderr, "chat_demo: set MONGODB_URI (see README: start a local server first)\n");
      return 2;
   }
   if (!(client = odm_client_new (uri, &error))) {
      return die ("client", &error);
   }
   for (k = 0; k < sizeof schemas / sizeof schemas[0]; k++) {
      if (!odm_indexes_ensure (client, schemas[k], NULL, &error)) {
         return die ("indexes", &error);
      }
   }

   odm_user_init (&user);
   user.email = bson_strdup ("Grace.Hopper@Example.com");
   user.username = bson_strdup ("grace_hopper");
   user.displayName = bson_strdup ("Grace Hopper");
   if (!odm_user_insert (client, &user, &v, &error)) {
      /* Run twice: the unique email index refuses the second user, shaped like a rule. */
      for (k = 0; k < v.count; k++) {
         printf ("user refused: %s [%s] %s\n", v.items[k].path, v.items[k].rule, v.items[k].message);
      }
      bool found;
      odm_violations_cleanup (&v);
      odm_user_cleanup (&user);
      if (!odm_user_find_by_email (client, "grace.hopper@example.com", &user, &found, &error) || !found) {
         return die ("find user", &error);
      }
   } else {
      odm_violations_cleanup (&v);
   }
   bson_oid_copy (&user._id, &user_id);
   printf ("user %s (%s)\n", user.username, user.email);

   odm_agent_init (&agent);
   agent.id = bson_strdup ("demo-coder");
   agent.name = bson_strdup ("Demo Coder");
   agent.systemPrompt = bson_strdup ("You are a careful programmer.");
   agent.welcomeMessage = bson_strdup ("Ready when you are.");
   if (!odm_agent_insert (client, &agent, &v, &error)) {
      bool found;
      if (error.code != ODM_ERROR_DUPLICATE_KEY) {
         return die ("agent", &error);
      }
      odm_agent_cleanup (&agent); /* second run: use the stored agent */
      if (!odm_agent_find_by_id (client, "demo-coder", &agent, &found, &error) || !found) {
         return die ("find agent", &error);
      }
   }
   odm_violations_cleanup (&v);

   for (i = 0; i < 2; i++) {
      odm_chat_session_init (&session);
      bson_oid_init (&session._id, NULL);
      session.has__id = ODM_PRESENT;
      session.sessionId = bson_strdup_printf ("demo-%d-%ld", i, (long) odm_now_ms ());
      bson_oid_copy (&user_id, &session.userId);
      session.has_userId = ODM_PRESENT;
      bson_oid_copy (&agent._id, &session.agentId);
      session.has_agentId = ODM_PRESENT;
      session.name = bson_strdup (i == 0 ? "Compiler notes" : "COBOL questions");
      if (!odm_chat_session_insert (client, &session, &v, &error)) {
         return die ("session", &error);
      }
      odm_violations_cleanup (&v);
      if (i == 1) {
         break; /* keep the last one for the feedback */
      }
      odm_chat_session_cleanup (&session);
   }

   odm_chat_feedback_init (&feedback);
   feedback.conversationId = bson_strdup (session.sessionId);
   bson_oid_copy (&user_id, &feedback.userId);
   feedback.has_userId = ODM_PRESENT;
   bson_oid_copy (&agent._id, &feedback.agentId);
   feedback.has_agentId = ODM_PRESENT;
   feedback.rating = 5;
   feedback.has_rating = ODM_PRESENT;
   if (!odm_chat_feedback_insert (client, &feedback, &v, &error)) {
      return die ("feedback", &error);
   }
   odm_violations_cleanup (&v);
   printf ("feedback %d/5 on %s\n", (int) feedback.rating, feedback.conversationId);

   /* An invalid write: refused before anything is sent. */
   feedback.rating = 7;
   bson_oid_init (&feedback._id, NULL);
   if (odm_chat_feedback_insert (client, &feedback, &v, &error)) {
      fprintf (stderr, "chat_demo: an invalid feedback was stored\n");
      return EXIT_FAILURE;
   }
   for (k = 0; k < v.count; k++) {
      printf ("refused: %s [%s] %s\n", v.items[k].path, v.items[k].rule, v.items[k].message);
   }
   odm_violations_cleanup (&v);

   /* The user's sessions, most recent first: only the fields the list shows (a projection,
    * checked against the spec with the filter and sort), two per page by `after` the last
    * row's updatedAt, each page's agents read in one query (populate). */
   filter = BCON_NEW (ODM_CHAT_SESSION_PATH_USER_ID, BCON_OID (&user_id));
   sort = BCON_NEW (ODM_CHAT_SESSION_PATH_UPDATED_AT, BCON_INT32 (-1));
   projection = BCON_NEW (ODM_CHAT_SESSION_PATH_SESSION_ID, BCON_INT32 (1), ODM_CHAT_SESSION_PATH_NAME,
                          BCON_INT32 (1), ODM_CHAT_SESSION_PATH_AGENT_ID, BCON_INT32 (1),
                          ODM_CHAT_SESSION_PATH_UPDATED_AT, BCON_INT32 (1));
   find.sort = sort;
   find.projection = projection;
   find.checked_filter = true;
   find.limit = 2;
   printf ("sessions of %s by recency:\n", user.username);
   for (pages = 0; pages < 5; pages++) {
      odm_chat_session_t page[2];
      odm_populated_t agents;
      size_t n = 0;
      find.after = pages ? &after : NULL;
      if (!(cursor = odm_find (client, &odm_chat_session_schema, filter, &find, &error))) {
         return die ("find", &error);
      }
      while (n < 2 && odm_cursor_next (cursor, &page[n])) {
         n++;
      }
      if (odm_cursor_error (cursor, &error)) {
         return die ("find", &error);
      }
      if (pages) {
         bson_destroy (&after);
      }
      odm_cursor_after (cursor, &after);
      odm_cursor_destroy (cursor);
      if (!n) {
         break;
      }
      if (!odm_populate (client, &odm_chat_session_schema, page, n, ODM_CHAT_SESSION_PATH_AGENT_ID, NULL, &agents,
                         &error)) {
         return die ("populate", &error);
      }
      for (k = 0; k < n; k++) {
         const odm_agent_t *a = agents.by_row[k];
         printf ("  page %d  %s  %-20s agent %s\n", pages + 1, page[k].sessionId, page[k].name,
                 a ? a->name : "(missing)");
         odm_chat_session_cleanup (&page[k]);
      }
      odm_populated_cleanup (&agents);
   }
   bson_destroy (&after);
   rc = EXIT_SUCCESS;

   bson_destroy (filter);
   bson_destroy (sort);
   bson_destroy (projection);
   odm_chat_feedback_cleanup (&feedback);
   odm_chat_session_cleanup (&session);
   odm_agent_cleanup (&agent);
   odm_user_cleanup (&user);
   odm_client_destroy (client);
   mongoc_cleanup ();
   return rc;
}
