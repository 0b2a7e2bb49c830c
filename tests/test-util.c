#include "test-util.h"

#include <stdio.h>
#include <string.h>

char *
odm_test_read_file (const char *path, size_t *len)
{
   FILE *f = fopen (path, "rb");
   char *s;
   long n;
   if (!f) {
      return NULL;
   }
   fseek (f, 0, SEEK_END);
   n = ftell (f);
   fseek (f, 0, SEEK_SET);
   s = bson_malloc ((size_t) n + 1);
   if (fread (s, 1, (size_t) n, f) != (size_t) n) {
      n = 0;
   }
   s[n] = '\0';
   fclose (f);
   if (len) {
      *len = (size_t) n;
   }
   return s;
}

bson_t *
odm_test_load_json (const char *name)
{
   char path[1024];
   size_t len;
   char *text;
   bson_error_t err;
   bson_t *b;

   snprintf (path, sizeof path, "%s/%s", ODM_TEST_DATA_DIR, name);
   text = odm_test_read_file (path, &len);
   if (!text) {
      return NULL;
   }
   b = bson_new_from_json ((const uint8_t *) text, (ssize_t) len, &err);
   bson_free (text);
   ck_assert_msg (b != NULL, "%s: %s", path, err.message);
   return b;
}

bool
odm_test_has_violation (const odm_violations_t *v, const char *path, const char *rule, const char *message)
{
   size_t i;
   for (i = 0; i < v->count; i++) {
      if (strcmp (v->items[i].path, path) == 0 && strcmp (v->items[i].rule, rule) == 0 &&
          (!message || strcmp (v->items[i].message, message) == 0)) {
         return true;
      }
   }
   return false;
}

void
odm_test_print_violations (const char *what, const odm_violations_t *v)
{
   size_t i;
   for (i = 0; i < v->count; i++) {
      fprintf (stderr, "%s: %s [%s] %s\n", what, v->items[i].path, v->items[i].rule, v->items[i].message);
   }
}
