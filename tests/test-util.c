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

/* Copies SRC into DST with PATH (dotted; array indexes allowed) set to V, or removed when
 * V is NULL. Creates missing intermediate objects. */
void
odm_test_set_path (const bson_t *src, const char *path, const bson_value_t *v, bson_t *dst)
{
   const char *dot = strchr (path, '.');
   size_t head = dot ? (size_t) (dot - path) : strlen (path);
   bson_iter_t it;
   bool done = false;

   bson_iter_init (&it, src);
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      if (strlen (k) != head || strncmp (k, path, head) != 0) {
         bson_append_iter (dst, k, -1, &it);
         continue;
      }
      done = true;
      if (!dot) {
         if (v) {
            bson_append_value (dst, k, -1, v);
         }
      } else {
         bson_t child, sub;
         const uint8_t *data;
         uint32_t len;
         bool arr = BSON_ITER_HOLDS_ARRAY (&it);
         ck_assert_msg (arr || BSON_ITER_HOLDS_DOCUMENT (&it), "%s: not an object", path);
         if (arr) {
            bson_iter_array (&it, &len, &data);
         } else {
            bson_iter_document (&it, &len, &data);
         }
         bson_init_static (&sub, data, len);
         if (arr) {
            bson_append_array_begin (dst, k, -1, &child);
         } else {
            bson_append_document_begin (dst, k, -1, &child);
         }
         odm_test_set_path (&sub, dot + 1, v, &child);
         if (arr) {
            bson_append_array_end (dst, &child);
         } else {
            bson_append_document_end (dst, &child);
         }
      }
   }
   if (!done && v) {
      if (!dot) {
         bson_append_value (dst, path, (int) head, v);
      } else {
         bson_t empty = BSON_INITIALIZER, child;
         bson_append_document_begin (dst, path, (int) head, &child);
         odm_test_set_path (&empty, dot + 1, v, &child);
         bson_append_document_end (dst, &child);
      }
   }
}


bson_t *
odm_test_json (const char *text)
{
   bson_error_t err;
   bson_t *b = bson_new_from_json ((const uint8_t *) text, -1, &err);
   ck_assert_msg (b != NULL, "%s: %s", text, err.message);
   return b;
}
