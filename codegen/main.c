/* odmgen's command line: parse every spec, check them, emit them and their set. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_spec (const void *a, const void *b)
{
   return strcmp ((*(spec_t *const *) a)->collection, (*(spec_t *const *) b)->collection);
}

static const char usage_text[] =
   "usage: odmgen [--set NAME] OUTDIR SPEC.json...\n"
   "       odmgen --help | --version\n"
   "\n"
   "Generates C for the collections described by the SPEC.json files (docs/spec-format.md)\n"
   "into OUTDIR, as one spec set named NAME (snake_case; default \"app\"):\n"
   "  OUTDIR/NAME.h              includes every collection header of the set and declares\n"
   "                             bool odm_register_NAME (bson_error_t *error);\n"
   "  OUTDIR/NAME/COLLECTION.h   the structs, setters and typed wrappers of one collection\n"
   "  OUTDIR/COLLECTION.c        its descriptor tables, rules and derivations\n"
   "  OUTDIR/NAME.c              the set's schema list and odm_register_NAME\n"
   "Compile the .c files with the include path OUTDIR and link them with libodm\n"
   "(pkg-config --cflags --libs libodm). Call odm_register_NAME once before using the\n"
   "set through odm_schemas() / odm_schema_find(); the typed functions work without it.\n"
   "Registration fails, naming both sets, if a collection or C name is already taken\n"
   "(by the platform specification's 29 collections or by another set).\n"
   "\n"
   "  --set NAME   the set's name (its header, registration function and directory)\n"
   "  --platform   libodm's own build: the shipped collections (odm/gen/, odm/odm-collections.h)\n"
   "  --help       this text\n"
   "  --version    odmgen's version and codegen ABI\n"
   "\n"
   "Output depends only on the specs: same specs, same bytes; files are rewritten only when\n"
   "their content changes. Errors name the spec file, the JSON path in it and what is wrong,\n"
   "and exit with status 1; usage errors exit with status 2.\n";

int
main (int argc, char **argv)
{
   spec_t **specs;
   int i, n, first;
   const char *set = "app", *outdir;
   bool platform = false;
   char *path;

   for (first = 1; first < argc && argv[first][0] == '-'; first++) {
      if (!strcmp (argv[first], "--help") || !strcmp (argv[first], "-h")) {
         fputs (usage_text, stdout);
         return 0;
      } else if (!strcmp (argv[first], "--version")) {
         printf ("odmgen %s (codegen ABI %d)\n", ODMGEN_VERSION, ODMGEN_ABI);
         return 0;
      } else if (!strcmp (argv[first], "--platform")) {
         platform = true;
      } else if (!strcmp (argv[first], "--set") && first + 1 < argc) {
         set = argv[++first];
      } else if (!strncmp (argv[first], "--set=", 6)) {
         set = argv[first] + 6;
      } else if (!strcmp (argv[first], "--")) {
         first++;
         break;
      } else {
         fprintf (stderr, "odmgen: unknown option \"%s\"\n%s", argv[first], usage_text);
         return 2;
      }
   }
   if (argc - first < 2) {
      fputs (usage_text, stderr);
      return 2;
   }
   if (!platform && (!is_snake (set) || !strcmp (set, "platform") || !strcmp (set, "odm"))) {
      fprintf (stderr, "odmgen: --set \"%s\": a set name is snake_case and not \"platform\" or \"odm\"\n", set);
      return 2;
   }
   outdir = argv[first];
   n = argc - first - 1;
   hdr_dir = platform ? "odm/gen" : set;
   specs = bson_malloc0 ((size_t) n * sizeof *specs);
   path = fmt ("%s/%s", outdir, hdr_dir);
   mkdirs (path);
   bson_free (path);
   for (i = 0; i < n; i++) {
      specs[i] = bson_malloc0 (sizeof (spec_t));
      parse_spec (specs[i], argv[first + 1 + i]);
   }
   qsort (specs, (size_t) n, sizeof *specs, cmp_spec);
   check_set (specs, n, set, platform);
   for (i = 0; i < n; i++) {
      check_spec (specs[i]);
   }
   for (i = 0; i < n; i++) {
      cur_file = specs[i]->file;
      emit_header (specs[i], outdir);
      emit_source (specs[i], outdir);
   }
   if (platform) {
      emit_platform_set (specs, n, outdir);
   } else {
      emit_user_set (specs, n, set, outdir);
   }
   return 0;
}
