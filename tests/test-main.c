/* The libodm unit and integration suites, run by ctest as one program per suite
 * (`odm_tests SUITE`), or all at once with no argument. */
#include "test-util.h"

#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
   struct {
      const char *name;
      Suite *(*make) (void);
   } suites[] = {{"codec", codec_suite}, {"rules", rules_suite}, {"schema", schema_suite}, {"hooks", hooks_suite}, {"update", update_suite},
                 {"live", live_suite}, {"integrity", integrity_suite}, {"analytics", analytics_suite},
                 {"params", params_suite}, {"registry", registry_suite},
                 {"opts", opts_suite}, {"layer", layer_suite}, {"view", view_suite}, {"gencode", gencode_suite}};
   SRunner *sr = NULL;
   size_t i;
   int failed;

   for (i = 0; i < sizeof suites / sizeof suites[0]; i++) {
      /* The live, integrity, layer and analytics suites need a server: they run only when asked for by name. */
      if ((argc > 1 && strcmp (argv[1], suites[i].name) != 0) ||
          (argc == 1 && (!strcmp (suites[i].name, "live") || !strcmp (suites[i].name, "integrity") ||
                         !strcmp (suites[i].name, "layer") ||
                         !strcmp (suites[i].name, "analytics")))) {
         continue;
      }
      if (!sr) {
         sr = srunner_create (suites[i].make ());
      } else {
         srunner_add_suite (sr, suites[i].make ());
      }
   }
   if (!sr) {
      fprintf (stderr, "no suite named %s\n", argv[1]);
      return 2;
   }
   srunner_run_all (sr, CK_NORMAL);
   failed = srunner_ntests_failed (sr);
   srunner_free (sr);
   return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
