/* bench: allocation counting and fixture loading (bench-util.h). */
#include "bench-util.h"

#include <stdio.h>
#include <stdlib.h>

uint64_t odm_bench_allocs;

static void *
count_malloc (size_t n)
{
   odm_bench_allocs++;
   return malloc (n);
}

static void *
count_calloc (size_t n, size_t size)
{
   odm_bench_allocs++;
   return calloc (n, size);
}

static void *
count_realloc (void *p, size_t n)
{
   odm_bench_allocs++;
   return realloc (p, n);
}

static void
count_free (void *p)
{
   free (p);
}

static void *
count_aligned_alloc (size_t alignment, size_t n)
{
   void *p = NULL;
   odm_bench_allocs++;
   if (alignment < sizeof (void *)) {
      alignment = sizeof (void *);
   }
   return posix_memalign (&p, alignment, n) == 0 ? p : NULL;
}

static const bson_mem_vtable_t counting_vtable = {
   count_malloc, count_calloc, count_realloc, count_free, count_aligned_alloc, {NULL, NULL, NULL}};

void
odm_bench_count_allocations (void)
{
   bson_mem_set_vtable (&counting_vtable);
}

bson_t *
odm_bench_load_fixture (const char *dir, const char *collection, const char *variant, bson_error_t *error)
{
   char path[1024];
   FILE *f;
   char *text;
   long n;
   bson_error_t local;
   bson_t *b;

   snprintf (path, sizeof path, "%s/%s.%s.json", dir, collection, variant);
   if (!(f = fopen (path, "rb"))) {
      if (error) {
         bson_set_error (error, 0, 0, "%s: cannot be opened", path);
      }
      return NULL;
   }
   fseek (f, 0, SEEK_END);
   n = ftell (f);
   fseek (f, 0, SEEK_SET);
   text = malloc (n > 0 ? (size_t) n + 1 : 1);
   if (n < 0 || fread (text, 1, (size_t) n, f) != (size_t) n) {
      n = 0;
   }
   text[n] = '\0';
   fclose (f);
   b = bson_new_from_json ((const uint8_t *) text, n, error ? error : &local);
   free (text);
   return b;
}
