/* bench: the zero-copy read that odm_bench_view and odm_bench --sets time. */
#include "view-read.h"

#include <string.h>

/* A number's bits, for the checksum: summing doubles would make every read wait on the
 * floating-point add before it (a chain of 4-cycle adds, a tenth of the whole read). */
static uint64_t
bits (double x)
{
   uint64_t u;
   memcpy (&u, &x, sizeof u);
   return u;
}

/* Reads every field of V and below through the accessors; a checksum of what it read. */
uint64_t
odm_bench_view_read_all (const odm_view_t *v)
{
   const odm_object_desc_t *d = v->desc;
   uint64_t sum = 0;
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (f->flags & ODM_F_ARRAY) {
         odm_view_array_t a;
         const char *s;
         uint32_t n;
         double x;
         bool b;
         int64_t ms;
         const bson_oid_t *oid;
         odm_view_t sub;
         bson_iter_t it;
         if (odm_view_array (v, i, &a) != ODM_PRESENT) {
            continue;
         }
         switch (f->kind) {
         case ODM_KIND_STRING:
            while (odm_view_next_string (&a, &s, &n)) {
               sum += n + (unsigned char) s[0];
            }
            break;
         case ODM_KIND_NUMBER:
            while (odm_view_next_number (&a, &x)) {
               sum += bits (x);
            }
            break;
         case ODM_KIND_BOOL:
            while (odm_view_next_bool (&a, &b)) {
               sum += b;
            }
            break;
         case ODM_KIND_DATE:
            while (odm_view_next_date (&a, &ms)) {
               sum += (uint64_t) ms;
            }
            break;
         case ODM_KIND_OID:
            while (odm_view_next_oid (&a, &oid)) {
               sum += oid->bytes[11];
            }
            break;
         case ODM_KIND_OBJECT:
            while (odm_view_next_object (&a, &sub)) {
               sum += odm_bench_view_read_all (&sub);
            }
            break;
         default:
            while (odm_view_next_mixed (&a, &it)) {
               sum += bson_iter_type (&it);
            }
            break;
         }
         continue;
      }
      switch (f->kind) {
      case ODM_KIND_STRING: {
         const char *s;
         uint32_t n = 0;
         if (odm_view_string (v, i, &s, &n) == ODM_PRESENT) {
            sum += n + (unsigned char) s[0];
         }
         break;
      }
      case ODM_KIND_NUMBER: {
         double x = 0;
         odm_view_number (v, i, &x);
         sum += bits (x);
         break;
      }
      case ODM_KIND_BOOL: {
         bool b = false;
         odm_view_bool (v, i, &b);
         sum += b;
         break;
      }
      case ODM_KIND_DATE: {
         int64_t ms = 0;
         odm_view_date (v, i, &ms);
         sum += (uint64_t) ms;
         break;
      }
      case ODM_KIND_OID: {
         const bson_oid_t *oid;
         if (odm_view_oid (v, i, &oid) == ODM_PRESENT) {
            sum += oid->bytes[11];
         }
         break;
      }
      case ODM_KIND_OBJECT: {
         odm_view_t sub;
         if (odm_view_object (v, i, &sub) == ODM_PRESENT) {
            sum += odm_bench_view_read_all (&sub);
         }
         break;
      }
      default: {
         bson_iter_t it;
         if (odm_view_mixed (v, i, &it) == ODM_PRESENT) {
            sum += bson_iter_type (&it);
         }
         break;
      }
      }
   }
   return sum;
}
