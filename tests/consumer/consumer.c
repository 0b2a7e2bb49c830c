/* An outside program built against an installed libodm (pkg-config and CMake). */
#include <odm/odm.h>

#include <stdio.h>

int
main (void)
{
   odm_chat_session_t s;
   odm_violations_t v;
   bson_t b;
   bson_error_t err;
   int rc;

   odm_chat_session_init (&s);
   s.sessionId = bson_strdup ("consumer");
   s.name = bson_strdup ("from an installed libodm");
   s.has_userId = s.has_agentId = ODM_PRESENT;
   if (!odm_chat_session_prepare (&s, NULL, &v) || !odm_chat_session_to_bson (&s, &b, &err)) {
      fprintf (stderr, "consumer: failed\n");
      return 1;
   }
   printf ("libodm %s: %u fields, %zu collections\n", ODM_VERSION_STRING, bson_count_keys (&b),
           (size_t) ODM_COLLECTION_COUNT);
   rc = bson_count_keys (&b) == 10 ? 0 : 1; /* _id, 4 set, tags, settings, stats, timestamps */
   bson_destroy (&b);
   odm_violations_cleanup (&v);
   odm_chat_session_cleanup (&s);
   return rc;
}
