/* libodm: what every stage of the document path shares: dotted paths and errors, the
 * presence state of a field, field lookup and key sets, cleanup. The stages themselves,
 * in the order a document goes through them on its way to the server:
 *   odm-decode.c    bytes -> struct (one checked walk over the bytes)
 *   odm-prepare.c   init and defaults, lowercase, derivations, minimize, timestamps
 *   odm-validate.c  the validation walk and the violations it reports
 *   odm-encode.c    struct -> bytes */
#include "odm-private.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ paths */

void
odm_path_init (odm_path_t *p)
{
   p->buf[0] = '\0';
   p->len = 0;
}

size_t
odm_path_push (odm_path_t *p, const char *name, size_t name_len)
{
   size_t old = p->len;
   size_t sep = old ? 1u : 0u;

   if (old + sep >= sizeof p->buf - 1) {
      return old;
   }
   if (name_len > sizeof p->buf - 1 - old - sep) {
      /* truncated (known paths never are), never inside a UTF-8 character */
      name_len = odm_utf8_cut (name, name_len, sizeof p->buf - 1 - old - sep);
   }
   if (old) {
      p->buf[p->len++] = '.';
   }
   memcpy (p->buf + p->len, name, name_len);
   p->len += name_len;
   p->buf[p->len] = '\0';
   return old;
}

size_t
odm_path_push_index (odm_path_t *p, size_t index)
{
   char tmp[16];
   const char *key;
   size_t n = odm_index_key ((uint32_t) index, &key, tmp, sizeof tmp);
   return odm_path_push (p, key, n);
}

void
odm_path_pop (odm_path_t *p, size_t old_len)
{
   p->len = old_len;
   p->buf[old_len] = '\0';
}

size_t
odm_utf8_cut (const char *s, size_t len, size_t max)
{
   size_t n;
   if (len <= max) {
      return len;
   }
   n = max;
   /* Back over continuation bytes to the first byte of the character that would be cut. */
   while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80) {
      n--;
   }
   return n;
}

void
odm_copy_utf8 (char *dst, size_t cap, const char *src)
{
   size_t n;
   if (!cap) {
      return;
   }
   n = odm_utf8_cut (src, strlen (src), cap - 1);
   memmove (dst, src, n);
   dst[n] = '\0';
}

void
odm_set_error (bson_error_t *error, uint32_t code, const char *path, const char *fmt, ...)
{
   char msg[sizeof error->message];
   char *full;
   va_list ap;

   if (!error) {
      return;
   }
   va_start (ap, fmt);
   full = bson_strdupv_printf (fmt, ap);
   va_end (ap);
   odm_copy_utf8 (msg, sizeof msg, full);
   bson_free (full);
   error->domain = ODM_ERROR_DOMAIN;
   error->code = code;
   if (path && *path) {
      /* A path too long for the message keeps room for the message: the path is cut
       * (at a character boundary), so "path: message" still reads as one. */
      size_t room = sizeof error->message - 1 - 2, mlen = strlen (msg), plen = strlen (path);
      size_t keep = mlen < room / 2 ? room - mlen : room / 2;
      int pl = (int) odm_utf8_cut (path, plen, keep);
      full = bson_strdup_printf ("%.*s: %s", pl, path, msg);
      odm_copy_utf8 (error->message, sizeof error->message, full);
      bson_free (full);
   } else {
      odm_copy_utf8 (error->message, sizeof error->message, msg);
   }
}

void
odm_format_number (double v, char *buf, size_t size)
{
   int prec;
   for (prec = 6; prec <= 17; prec++) {
      snprintf (buf, size, "%.*g", prec, v);
      if (strtod (buf, NULL) == v) {
         return;
      }
   }
}

int64_t
odm_now_ms (void)
{
   struct timeval tv;
   gettimeofday (&tv, NULL);
   return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ------------------------------------------------------------------- field state */

static bool object_has_content (const odm_object_desc_t *d, const void *base);

void *
odm_array_items (const void *base, const odm_field_t *f, size_t *count)
{
   odm_array_view_t a = odm_array_get (base, f);
   *count = a.count;
   return a.items;
}

/* ODM_ABSENT, ODM_PRESENT or ODM_NULL, as the encoder will write the field. */
uint8_t
odm_field_state (const odm_field_t *f, const void *base)
{
   uint8_t has;

   if (!f || !base) {
      return ODM_ABSENT;
   }
   has = odm_has_get (base, f);

   if (f->flags & ODM_F_ARRAY) {
      if (odm_array_get (base, f).count > 0) {
         return ODM_PRESENT;
      }
      return has;
   }
   switch (f->kind) {
   case ODM_KIND_STRING:
      if (*(char *const *) ODM_AT_CONST (base, f->offset)) {
         return ODM_PRESENT;
      }
      return has == ODM_NULL ? ODM_NULL : ODM_ABSENT;
   case ODM_KIND_OBJECT:
      if (object_has_content (f->object, ODM_AT_CONST (base, f->offset))) {
         return ODM_PRESENT;
      }
      return has;
   case ODM_KIND_MIXED:
      if (has == ODM_PRESENT &&
          ((const bson_value_t *) ODM_AT_CONST (base, f->offset))->value_type == 0) {
         return ODM_ABSENT;
      }
      return has;
   default:
      return has;
   }
}

static bool
object_has_content (const odm_object_desc_t *d, const void *base)
{
   uint32_t i;
   if (*(bson_t *const *) ODM_AT_CONST (base, d->extra)) {
      return true;
   }
   for (i = 0; i < d->field_count; i++) {
      if (odm_field_state_fast (&d->fields[i], base) != ODM_ABSENT) {
         return true;
      }
   }
   return false;
}

const void *
odm_field_value (const odm_field_t *f, const void *obj)
{
   return f && obj ? ODM_AT_CONST (obj, f->offset) : NULL;
}

const void *
odm_field_array (const odm_field_t *f, const void *obj, size_t *count)
{
   odm_array_view_t a = {NULL, 0};
   if (f && obj && (f->flags & ODM_F_ARRAY)) {
      a = odm_array_get (obj, f);
   }
   if (count) {
      *count = a.count;
   }
   return a.items;
}

/* -------------------------------------------------------------------- cleanup */

static void cleanup_object (const odm_object_desc_t *d, void *base);

static void
cleanup_value (const odm_field_t *f, void *p)
{
   switch (f->kind) {
   case ODM_KIND_STRING:
      bson_free (*(char **) p);
      *(char **) p = NULL;
      break;
   case ODM_KIND_OBJECT:
      cleanup_object (f->object, p);
      break;
   case ODM_KIND_MIXED:
      if (((bson_value_t *) p)->value_type != 0) {
         bson_value_destroy ((bson_value_t *) p);
      }
      memset (p, 0, sizeof (bson_value_t));
      break;
   default:
      break;
   }
}

static void
cleanup_object (const odm_object_desc_t *d, void *base)
{
   uint32_t i;
   bson_t **extra = (bson_t **) ODM_AT (base, d->extra);

   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (f->flags & ODM_F_ARRAY) {
         odm_array_view_t a = odm_array_get (base, f);
         size_t k;
         for (k = 0; k < a.count; k++) {
            cleanup_value (f, (char *) a.items + k * f->elem_size);
         }
         bson_free (a.items);
         odm_array_set (base, f, NULL, 0);
      } else {
         cleanup_value (f, ODM_AT (base, f->offset));
      }
   }
   if (*extra) {
      bson_destroy (*extra);
      *extra = NULL;
   }
}

void
odm_cleanup (const odm_schema_t *schema, void *doc)
{
   if (!schema || !doc) {
      return;
   }
   cleanup_object (schema->root, doc);
   memset (doc, 0, schema->root->size);
}

void
odm_cleanup_desc (const odm_object_desc_t *d, void *doc)
{
   cleanup_object (d, doc);
   memset (doc, 0, d->size);
}

/* ------------------------------------------------------------ key sets, field lookup */

static uint64_t
key_hash (const char *k, uint32_t len)
{
   uint64_t h = UINT64_C (1469598103934665603); /* FNV-1a */
   uint32_t i;
   for (i = 0; i < len; i++) {
      h = (h ^ (unsigned char) k[i]) * UINT64_C (1099511628211);
   }
   return h;
}

/* Adds KEY; false when it was already there. */
bool
odm_keyset_add (odm_keyset_t *s, const char *key, uint32_t len)
{
   size_t i;
   if ((s->count + 1) * 2 > s->cap) {
      odm_keyset_t grown;
      grown.cap = s->cap ? s->cap * 2 : 16;
      grown.count = 0;
      grown.slots = bson_malloc0 (grown.cap * sizeof *grown.slots);
      for (i = 0; i < s->cap; i++) {
         if (s->slots[i].key) {
            odm_keyset_add (&grown, s->slots[i].key, s->slots[i].len);
         }
      }
      bson_free (s->slots);
      *s = grown;
   }
   for (i = (size_t) key_hash (key, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
      odm_keyset_slot_t *sl = &s->slots[i];
      if (!sl->key) {
         sl->key = key;
         sl->len = len;
         s->count++;
         return true;
      }
      if (sl->len == len && memcmp (sl->key, key, len) == 0) {
         return false;
      }
   }
}

void
odm_keyset_free (odm_keyset_t *s)
{
   bson_free (s->slots);
   s->slots = NULL;
   s->cap = s->count = 0;
}

/* The writer refuses these keys (odm_check_keys, rule "key": empty, '$' first, a '.'); at a
 * level that has a schema a dotted key would also read as a schema path
 * ("settings.temperature"). */
bool
odm_key_is_refused (const char *key, uint32_t len)
{
   return len == 0 || key[0] == '$' || memchr (key, '.', len) != NULL;
}

bool
odm_key_error (bson_error_t *error, const char *path, const odm_object_desc_t *d, const char *key, uint32_t len)
{
   const char *dot = memchr (key, '.', len);
   if (dot && dot > key && odm_find_field (d, &(uint32_t){0}, key, (uint32_t) (dot - key))) {
      odm_set_error (error, ODM_ERROR_KEY, path,
                     "a key may not contain '.' (this one names the schema path %s: nest it instead)", path);
   } else {
      odm_set_error (error, ODM_ERROR_KEY, path, "keys may not be empty, start with '$' or contain '.'");
   }
   return false;
}

/* VALUE in decimal, as an array key: bson_uint32_to_string's answer (its table below 1000),
 * without the snprintf it uses from 1000 on, which made every element beyond the
 * thousandth of a long array cost several times the first ones. */
size_t
odm_index_key (uint32_t value, const char **strptr, char *str, size_t size)
{
   char *p;
   if (value < 1000 || size < 11) {
      return bson_uint32_to_string (value, strptr, str, size);
   }
   p = str + 10;
   *p = '\0';
   do {
      *--p = (char) ('0' + value % 10);
      value /= 10;
   } while (value);
   *strptr = p;
   return (size_t) (str + 10 - p);
}

const odm_field_t *
odm_find_field (const odm_object_desc_t *d, uint32_t *next, const char *key, uint32_t key_len)
{
   uint32_t i;
   /* Documents usually come in spec order: try the field after the last one first. */
   if (*next < d->field_count) {
      const odm_field_t *f = &d->fields[*next];
      if (f->name_len == key_len && memcmp (f->name, key, key_len) == 0) {
         (*next)++;
         return f;
      }
   }
   /* then the fields after it (the ones between were absent), then those before it */
   for (i = *next + 1; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (f->name_len == key_len && memcmp (f->name, key, key_len) == 0) {
         *next = i + 1;
         return f;
      }
   }
   for (i = 0; i < *next && i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (f->name_len == key_len && memcmp (f->name, key, key_len) == 0) {
         *next = i + 1;
         return f;
      }
   }
   return NULL;
}

const char *
odm_error_code_str (uint32_t code)
{
   switch (code) {
#define ODM_ERROR_CASE_(name, num, text) \
   case num:                             \
      return text;
      ODM_ERROR_CODES (ODM_ERROR_CASE_)
#undef ODM_ERROR_CASE_
   default:
      return "unknown error code";
   }
}

/* ---------------------------------------------------------------- ObjectIds */

/* ObjectIds as MongoDB's drivers make them: 4 bytes of seconds, 5 random bytes, a 3-byte
 * counter from a random start. The random part and the counter are per thread (no shared
 * lock, no shared cache line), drawn again in a child after fork (a generation counter
 * bumped by a pthread_atfork handler, compared on each call: no getpid per ObjectId). */
static _Atomic uint32_t oid_generation = 1;
static pthread_once_t oid_once = PTHREAD_ONCE_INIT;

static void
oid_after_fork (void)
{
   oid_generation++;
}

static void
oid_register (void)
{
   pthread_atfork (NULL, NULL, oid_after_fork);
}

static _Thread_local struct {
   uint32_t generation;
   uint32_t counter;
   uint8_t random[5];
} oid_state;

static void
oid_seed (void)
{
   uint8_t r[8];
   if (getentropy (r, sizeof r) != 0) {
      /* no entropy source: the clock and the thread's address, mixed */
      uint64_t x = (uint64_t) odm_now_ms () ^ (uint64_t) (uintptr_t) &oid_state ^ ((uint64_t) getpid () << 32);
      x ^= x >> 33, x *= UINT64_C (0xff51afd7ed558ccd), x ^= x >> 33;
      memcpy (r, &x, sizeof r);
   }
   memcpy (oid_state.random, r, 5);
   oid_state.counter = (uint32_t) r[5] << 16 | (uint32_t) r[6] << 8 | r[7];
}

void
odm_oid_new (bson_oid_t *oid)
{
   uint32_t gen = oid_generation, t, c;
   if (oid_state.generation != gen) {
      pthread_once (&oid_once, oid_register);
      gen = oid_generation; /* a fork between the two reads is caught by the next call */
      oid_seed ();
      oid_state.generation = gen;
   }
   t = BSON_UINT32_TO_BE ((uint32_t) time (NULL));
   c = oid_state.counter++ & 0xFFFFFFu;
   memcpy (oid->bytes, &t, 4);
   memcpy (oid->bytes + 4, oid_state.random, 5);
   oid->bytes[9] = (uint8_t) (c >> 16);
   oid->bytes[10] = (uint8_t) (c >> 8);
   oid->bytes[11] = (uint8_t) c;
}

/* ------------------------------------------------------------------- arenas */

#define ODM_ARENA_FIRST 4096

static odm_arena_block_t *
arena_block (size_t size)
{
   odm_arena_block_t *b = bson_malloc (sizeof *b + size);
   b->next = NULL;
   b->size = size;
   return b;
}

odm_arena_t *
odm_arena_new (size_t first_block)
{
   odm_arena_t *a = bson_malloc (sizeof *a);
   a->total = first_block ? first_block : ODM_ARENA_FIRST;
   a->head = arena_block (a->total);
   a->used = 0;
   return a;
}

void
odm_arena_reset (odm_arena_t *a)
{
   if (!a) {
      return;
   }
   if (a->head->next) {
      /* several blocks: one block of their total size takes their place, so that the
       * same documents fit in one block next time */
      odm_arena_block_t *b = a->head, *next;
      for (; b; b = next) {
         next = b->next;
         bson_free (b);
      }
      a->head = arena_block (a->total);
   }
   a->used = 0;
}

void
odm_arena_destroy (odm_arena_t *a)
{
   odm_arena_block_t *b, *next;
   if (!a) {
      return;
   }
   for (b = a->head; b; b = next) {
      next = b->next;
      bson_free (b);
   }
   bson_free (a);
}

void *
odm_arena_grow (odm_arena_t *a, size_t n, size_t align)
{
   size_t size = a->head->size * 2;
   odm_arena_block_t *b;
   while (size < n + align) {
      size *= 2;
   }
   b = arena_block (size);
   b->next = a->head;
   a->head = b;
   a->total += size;
   a->used = 0;
   return odm_arena_alloc (a, n, align); /* fits: SIZE >= N + ALIGN */
}

char *
odm_arena_strdup (odm_arena_t *arena, const char *s)
{
   size_t n;
   char *copy;
   if (!arena || !s) {
      return bson_strdup (s); /* NULL for NULL */
   }
   n = strlen (s) + 1;
   copy = odm_arena_alloc (arena, n, 1);
   memcpy (copy, s, n);
   return copy;
}
