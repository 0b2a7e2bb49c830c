/* The registry of schemas: the platform specification's collections, registered first,
 * plus every spec set a program registers (odmgen's odm_register_<set>). One list, owned
 * here, sorted by collection name; a collection or C name belongs to one schema only. */
#include "odm-private.h"

#include <pthread.h>
#include <string.h>

/* Written by odmgen --platform (odm-collections.c). */
extern const odm_schema_t *const odm_platform_schemas[];
extern const size_t odm_platform_schema_count;

typedef struct retired {
   struct retired *next;
   const odm_schema_t **list;
} retired_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* The current list and, in the same order, the set each schema came from. */
static const odm_schema_t **list;
static const char **sets;
static size_t count;
/* Lists handed out by odm_schemas() before a registration replaced them: kept (and
 * reachable) so that a caller still walking one never reads freed memory. */
static retired_t *retired;

static int
cmp_schema (const void *a, const void *b)
{
   return strcmp ((*(const odm_schema_t *const *) a)->collection, (*(const odm_schema_t *const *) b)->collection);
}

static ssize_t
index_of (const odm_schema_t *s)
{
   size_t i;
   for (i = 0; i < count; i++) {
      if (list[i] == s) {
         return (ssize_t) i;
      }
   }
   return -1;
}

/* Adds SCHEMAS; LOCK is held. */
static bool
add_locked (const char *set, const odm_schema_t *const *schemas, size_t n, bson_error_t *error)
{
   size_t i, j, added = 0, total;
   const odm_schema_t **nl;
   const char **ns;
   char *set_copy = NULL;

   if (!set || !*set || (n && !schemas)) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "odm_schemas_register: no set name or no schemas");
      return false;
   }
   for (i = 0; i < n; i++) {
      const odm_schema_t *s = schemas[i];
      if (!s || s->magic != ODM_SCHEMA_MAGIC || s->abi != ODM_CODEGEN_ABI) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL,
                        "set \"%s\": schema %zu is not a schema of this libodm (codegen ABI %d): regenerate it "
                        "with this libodm's odmgen",
                        set, i, ODM_CODEGEN_ABI);
         return false;
      }
      if (index_of (s) >= 0) {
         continue; /* registered before: harmless */
      }
      /* Against the registered schemas, then against the earlier ones of this call. */
      for (j = 0; j < count + i; j++) {
         const odm_schema_t *o = j < count ? list[j] : schemas[j - count];
         const char *oset = j < count ? sets[j] : set;
         if (o == s) {
            continue;
         }
         if (!strcmp (o->collection, s->collection)) {
            odm_set_error (error, ODM_ERROR_SCHEMA_CONFLICT, NULL,
                           "set \"%s\": collection \"%s\" is already defined by set \"%s\"", set, s->collection,
                           oset);
            return false;
         }
         if (!strcmp (o->c_name, s->c_name)) {
            odm_set_error (error, ODM_ERROR_SCHEMA_CONFLICT, NULL,
                           "set \"%s\": C name \"%s\" (collection \"%s\") is already used by collection \"%s\" "
                           "of set \"%s\"",
                           set, s->c_name, s->collection, o->collection, oset);
            return false;
         }
      }
      added++;
   }
   if (!added) {
      return true;
   }
   total = count + added;
   nl = bson_malloc (total * sizeof *nl);
   ns = bson_malloc (total * sizeof *ns);
   if (count) {
      memcpy (nl, list, count * sizeof *nl);
   }
   set_copy = bson_strdup (set);
   j = count;
   for (i = 0; i < n; i++) {
      if (index_of (schemas[i]) < 0) {
         size_t k;
         bool dup = false;
         for (k = count; k < j && !dup; k++) {
            dup = nl[k] == schemas[i];
         }
         if (!dup) {
            nl[j++] = schemas[i];
         }
      }
   }
   total = j;
   qsort (nl, total, sizeof *nl, cmp_schema);
   /* The set names follow their schemas through the sort. */
   for (i = 0; i < total; i++) {
      ssize_t old = index_of (nl[i]);
      ns[i] = old >= 0 ? sets[old] : set_copy;
   }
   if (list) {
      retired_t *r = bson_malloc (sizeof *r);
      r->list = list;
      r->next = retired;
      retired = r;
   }
   bson_free (sets);
   list = nl;
   sets = ns;
   count = total;
   return true;
}

static void
register_platform (void)
{
   bson_error_t error;
   pthread_mutex_lock (&lock);
   if (!add_locked ("platform", odm_platform_schemas, odm_platform_schema_count, &error)) {
      /* The shipped collections are checked by odmgen at build time: cannot happen. */
      fprintf (stderr, "libodm: %s\n", error.message);
      abort ();
   }
   pthread_mutex_unlock (&lock);
}

bool
odm_schemas_register (const char *set, const odm_schema_t *const *schemas, size_t n, bson_error_t *error)
{
   bool ok;
   pthread_once (&once, register_platform);
   pthread_mutex_lock (&lock);
   ok = add_locked (set, schemas, n, error);
   pthread_mutex_unlock (&lock);
   return ok;
}

const odm_schema_t *const *
odm_schemas (size_t *n)
{
   const odm_schema_t *const *r;
   pthread_once (&once, register_platform);
   pthread_mutex_lock (&lock);
   r = list;
   if (n) {
      *n = count;
   }
   pthread_mutex_unlock (&lock);
   return r;
}

const odm_schema_t *
odm_schema_find (const char *collection)
{
   const odm_schema_t *found = NULL;
   size_t lo = 0, hi;
   if (!collection) {
      return NULL;
   }
   pthread_once (&once, register_platform);
   pthread_mutex_lock (&lock);
   hi = count;
   while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      int r = strcmp (collection, list[mid]->collection);
      if (r == 0) {
         found = list[mid];
         break;
      }
      if (r < 0) {
         hi = mid;
      } else {
         lo = mid + 1;
      }
   }
   pthread_mutex_unlock (&lock);
   return found;
}

const char *
odm_schema_set (const odm_schema_t *schema)
{
   const char *r = NULL;
   ssize_t i;
   pthread_once (&once, register_platform);
   pthread_mutex_lock (&lock);
   i = index_of (schema);
   if (i >= 0) {
      r = sets[i];
   }
   pthread_mutex_unlock (&lock);
   return r;
}
