/* libodm: the byte scans the walks over stored BSON share (decode, odm-decode.c; the view's
 * check and tables, odm-view.c). Internal, inline: each runs once per element or string,
 * where a call costs as much as the work.
 *
 * Every function is told how many bytes it may read (AVAIL, ROOM) and reads no further. With
 * SSE2 they read sixteen bytes at a time when that many are there, so that short keys and
 * strings are handled without a loop that ends on a different byte each time (a mispredicted
 * branch each); without SSE2, or near the end of the input, they go word by word or byte by
 * byte with the same results. */
#ifndef ODM_SCAN_H
#define ODM_SCAN_H

#include "odm-private.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The length of the key at K, whose NUL is among the AVAIL bytes at K, or AVAIL when none
 * of them is a NUL. */
static inline uint32_t
odm_scan_key_len (const uint8_t *k, uint32_t avail)
{
   const uint8_t *nul;
#if defined(__SSE2__)
   if (avail >= 16) {
      __m128i x = _mm_loadu_si128 ((const __m128i *) (const void *) k);
      uint32_t m = (uint32_t) _mm_movemask_epi8 (_mm_cmpeq_epi8 (x, _mm_setzero_si128 ()));
      if (m) {
         return (uint32_t) __builtin_ctz (m);
      }
   }
#endif
   if (avail <= 16) { /* the last keys of a small object: fewer bytes than a call costs */
      uint32_t n = 0;
      while (n < avail && k[n]) {
         n++;
      }
      return n;
   }
   nul = memchr (k, 0, avail);
   return nul ? (uint32_t) (nul - k) : avail;
}

/* How many of the LEN bytes at S, from the first, are ASCII other than NUL: LEN when all are,
 * else the offset of the first that is not. ROOM (>= LEN) bytes at S may be read: the last
 * block of sixteen overlaps the one before it, and a string shorter than a block is read as
 * one block, masked. */
static inline uint32_t
odm_scan_ascii (const uint8_t *s, uint32_t len, uint32_t room)
{
   uint32_t j = 0;
#if defined(__SSE2__)
   const __m128i zero = _mm_setzero_si128 ();
   if (len < 16 && room >= 16) {
      __m128i x = _mm_loadu_si128 ((const __m128i *) (const void *) s);
      uint32_t m = (uint32_t) (_mm_movemask_epi8 (x) | _mm_movemask_epi8 (_mm_cmpeq_epi8 (x, zero))) |
                   (UINT32_C (1) << len); /* a stop at LEN itself */
      return (uint32_t) __builtin_ctz (m);
   }
   if (len >= 16) {
      uint32_t i = 0, m;
      for (; i + 16 < len; i += 16) {
         __m128i x = _mm_loadu_si128 ((const __m128i *) (const void *) (s + i));
         if ((m = (uint32_t) (_mm_movemask_epi8 (x) | _mm_movemask_epi8 (_mm_cmpeq_epi8 (x, zero))))) {
            return i + (uint32_t) __builtin_ctz (m);
         }
      }
      {
         __m128i x = _mm_loadu_si128 ((const __m128i *) (const void *) (s + len - 16));
         m = (uint32_t) (_mm_movemask_epi8 (x) | _mm_movemask_epi8 (_mm_cmpeq_epi8 (x, zero)));
         return m ? len - 16 + (uint32_t) __builtin_ctz (m) : len;
      }
   }
#else
   (void) room;
#endif
   {
      const uint64_t ones = UINT64_C (0x0101010101010101), highs = UINT64_C (0x8080808080808080);
      for (; j + 8 <= len; j += 8) {
         uint64_t w;
         memcpy (&w, s + j, sizeof w);
         /* a byte 0 borrows into its high bit; a byte >= 0x80 has it set */
         if (((w - ones) | w) & highs) {
            break;
         }
      }
      while (j < len && s[j] != 0 && s[j] < 0x80) {
         j++;
      }
      return j;
   }
}

/* Whether the LEN bytes at S (ROOM >= LEN of them readable) are valid UTF-8 without NUL: the
 * ASCII prefix here, the rest (from a character boundary) by odm_utf8_valid. */
static inline bool
odm_scan_text (const uint8_t *s, uint32_t len, uint32_t room)
{
   uint32_t a = odm_scan_ascii (s, len, room);
   return a == len || odm_utf8_valid ((const char *) s + a, len - a);
}

/* Copies the N bytes at S and the NUL after them (N + 1 bytes readable there) to DST (N + 1
 * bytes writable there), and returns whether the N bytes are all ASCII: the encoder's copy of
 * a string and the first half of its UTF-8 check in one pass, without a call to memcpy. */
static inline bool
odm_scan_copy_ascii (uint8_t *dst, const uint8_t *s, size_t n)
{
   const uint64_t highs = UINT64_C (0x8080808080808080);
#if defined(__SSE2__)
   if (n >= 16) {
      __m128i acc = _mm_setzero_si128 (), x;
      size_t i;
      for (i = 0; i + 16 < n; i += 16) {
         x = _mm_loadu_si128 ((const __m128i *) (const void *) (s + i));
         _mm_storeu_si128 ((__m128i *) (void *) (dst + i), x);
         acc = _mm_or_si128 (acc, x);
      }
      x = _mm_loadu_si128 ((const __m128i *) (const void *) (s + n - 16)); /* overlaps the last block */
      _mm_storeu_si128 ((__m128i *) (void *) (dst + n - 16), x);
      acc = _mm_or_si128 (acc, x);
      dst[n] = 0;
      return _mm_movemask_epi8 (acc) == 0;
   }
#endif
   if (n >= 8) {
      uint64_t x, acc = 0;
      size_t i;
      for (i = 0; i + 8 < n; i += 8) {
         memcpy (&x, s + i, 8);
         memcpy (dst + i, &x, 8);
         acc |= x;
      }
      memcpy (&x, s + n - 8, 8);
      memcpy (dst + n - 8, &x, 8);
      dst[n] = 0;
      return ((acc | x) & highs) == 0;
   }
   if (n >= 4) {
      uint32_t a, b;
      memcpy (&a, s, 4);
      memcpy (&b, s + n - 4, 4);
      memcpy (dst, &a, 4);
      memcpy (dst + n - 4, &b, 4);
      dst[n] = 0;
      return ((a | b) & UINT32_C (0x80808080)) == 0;
   }
   {
      uint8_t acc = 0;
      size_t i;
      for (i = 0; i < n; i++) {
         dst[i] = s[i];
         acc |= s[i];
      }
      dst[n] = 0;
      return acc < 0x80;
   }
}

/* Whether the N bytes at A and B are the same: names and keys are short, so a call to memcmp
 * costs more than the compare; overlapping loads cover every N without a byte loop. */
static inline bool
odm_scan_same (const uint8_t *a, const uint8_t *b, uint32_t n)
{
   if (n >= 8) {
      uint64_t x, y;
      uint32_t i;
      for (i = 0; i + 8 < n; i += 8) {
         memcpy (&x, a + i, 8);
         memcpy (&y, b + i, 8);
         if (x != y) {
            return false;
         }
      }
      memcpy (&x, a + n - 8, 8);
      memcpy (&y, b + n - 8, 8);
      return x == y;
   }
   if (n >= 4) {
      uint32_t w, x, y, z;
      memcpy (&w, a, 4);
      memcpy (&x, b, 4);
      memcpy (&y, a + n - 4, 4);
      memcpy (&z, b + n - 4, 4);
      return ((w ^ x) | (y ^ z)) == 0;
   }
   if (n == 0) {
      return true;
   }
   /* 1 to 3 bytes: the first, the middle and the last are all of them */
   return ((a[0] ^ b[0]) | (a[n / 2] ^ b[n / 2]) | (a[n - 1] ^ b[n - 1])) == 0;
}

/* The field of D whose name is the KL bytes at K (AVAIL bytes readable there), or NULL:
 * odm_find_field, inline. Tries *NEXT first (documents come in spec order), then the fields
 * after it (the ones between were absent), then those before it; *NEXT moves past the field
 * found. Lengths are compared first: most names differ there. Names odmgen padded
 * (ODM_O_PADDED_NAMES) are compared with a key shorter than 16 bytes in one masked 16-byte
 * step, without the branches on the length that odm_scan_same takes. */
static inline const odm_field_t *
odm_scan_field (const odm_object_desc_t *d, uint32_t *next, const uint8_t *k, uint32_t kl, uint32_t avail)
{
   uint32_t i, n = d->field_count;
#if defined(__SSE2__)
   if ((d->flags & ODM_O_PADDED_NAMES) && kl < 16 && avail >= 16) {
      const __m128i key = _mm_loadu_si128 ((const __m128i *) (const void *) k);
      const uint32_t want = (UINT32_C (1) << kl) - 1;
      for (i = *next; i < n; i++) {
         if (d->fields[i].name_len == kl &&
             ((uint32_t) _mm_movemask_epi8 (_mm_cmpeq_epi8 (
                 _mm_loadu_si128 ((const __m128i *) (const void *) d->fields[i].name), key)) & want) == want) {
            *next = i + 1;
            return &d->fields[i];
         }
      }
      for (i = 0; i < *next && i < n; i++) {
         if (d->fields[i].name_len == kl &&
             ((uint32_t) _mm_movemask_epi8 (_mm_cmpeq_epi8 (
                 _mm_loadu_si128 ((const __m128i *) (const void *) d->fields[i].name), key)) & want) == want) {
            *next = i + 1;
            return &d->fields[i];
         }
      }
      return NULL;
   }
#else
   (void) avail;
#endif
   for (i = *next; i < n; i++) {
      if (d->fields[i].name_len == kl && odm_scan_same ((const uint8_t *) d->fields[i].name, k, kl)) {
         *next = i + 1;
         return &d->fields[i];
      }
   }
   for (i = 0; i < *next && i < n; i++) {
      if (d->fields[i].name_len == kl && odm_scan_same ((const uint8_t *) d->fields[i].name, k, kl)) {
         *next = i + 1;
         return &d->fields[i];
      }
   }
   return NULL;
}

#if defined(__SSE2__)
/* The field of D (names padded: ODM_O_PADDED_NAMES) whose name and a NUL begin the 16 bytes
 * at K (all readable), or NULL: a key's field found without first finding the key's end.
 * Names of 15 bytes or more are left to odm_scan_field. Tries *NEXT first, then the fields
 * after it (documents come in spec order); *NEXT moves past the field found. */
static inline const odm_field_t *
odm_scan_field_nul (const odm_object_desc_t *d, uint32_t *next, const uint8_t *k)
{
   const __m128i key = _mm_loadu_si128 ((const __m128i *) (const void *) k);
   uint32_t i;
   for (i = *next; i < d->field_count; i++) {
      uint32_t nl = d->fields[i].name_len, want = (UINT32_C (2) << nl) - 1; /* the name and its NUL */
      if (nl < 15 && ((uint32_t) _mm_movemask_epi8 (_mm_cmpeq_epi8 (
                         _mm_loadu_si128 ((const __m128i *) (const void *) d->fields[i].name), key)) & want) == want) {
         *next = i + 1;
         return &d->fields[i];
      }
   }
   return NULL;
}
#endif

#endif /* ODM_SCAN_H */
