/* For the tests, the fuzz harnesses and the bench, which prepare one input twice (owned and
 * in an arena) and compare the results: each odm_prepare gives every absent auto _id (the
 * root's, a subdocument's, an array element's) a new ObjectId of its own, so DST is given
 * SRC's before the two are encoded and compared. Header-only. */
#ifndef ODM_SAME_IDS_H
#define ODM_SAME_IDS_H

#include <odm/odm.h>

#include <string.h>

/* Copies the auto _id ObjectIds of the object of type D at SRC into the one at DST, at every
 * level: two structs decoded from the same bytes and prepared (same arrays, same counts). */
static inline void
odm_same_ids (const odm_object_desc_t *d, void *dst, const void *src)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (f->kind == ODM_KIND_OID && (f->flags & ODM_F_AUTO_ID) && !(f->flags & ODM_F_ARRAY)) {
         memcpy ((char *) dst + f->offset, (const char *) src + f->offset, sizeof (bson_oid_t));
      } else if (f->kind == ODM_KIND_OBJECT && (f->flags & ODM_F_ARRAY)) {
         size_t nd, ns, k;
         char *di = (char *) (uintptr_t) odm_field_array (f, dst, &nd);
         const char *si = (const char *) odm_field_array (f, src, &ns);
         for (k = 0; k < nd && k < ns; k++) {
            odm_same_ids (f->object, di + k * f->elem_size, si + k * f->elem_size);
         }
      } else if (f->kind == ODM_KIND_OBJECT) {
         odm_same_ids (f->object, (char *) dst + f->offset, (const char *) src + f->offset);
      }
   }
}

#endif /* ODM_SAME_IDS_H */
