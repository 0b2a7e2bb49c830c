/* The runtime's UTF-8 validator (odm_utf8_valid, src/odm-decode.c: a table-driven
 * automaton with a word-at-a-time path for ASCII runs) against a plain reference checker
 * written from the definition, over every sequence of 1 to 3 bytes, every 4-byte
 * sequence that starts with a 4-byte lead, 4-byte sequences over every byte class, and
 * random buffers that mix ASCII runs (the fast path) with valid and invalid sequences at
 * every alignment; odm_utf16_length, which counts ASCII a word at a time; and
 * odm_index_key, the array keys, against libbson's bson_uint32_to_string; the byte scans
 * of odm-scan.h against plain loops. Its own
 * program (ctest "utf8"): it calls a function the library does not
 * export, so it links the static library. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "odm-private.h"
#include "odm-scan.h"

/* The definition (RFC 3629) read literally, one character at a time: the byte count from
 * the lead byte, continuation bytes 10xxxxxx, the shortest form, no surrogates, at most
 * U+10FFFF; and libodm's rule of no NUL. */
static bool
reference_valid (const unsigned char *s, size_t len)
{
   size_t i = 0;
   while (i < len) {
      unsigned char b = s[i];
      uint32_t cp, min;
      size_t need, k;
      if (b == 0) {
         return false;
      }
      if (b < 0x80) {
         i++;
         continue;
      }
      if ((b & 0xE0) == 0xC0) {
         need = 1, cp = b & 0x1F, min = 0x80;
      } else if ((b & 0xF0) == 0xE0) {
         need = 2, cp = b & 0x0F, min = 0x800;
      } else if ((b & 0xF8) == 0xF0) {
         need = 3, cp = b & 0x07, min = 0x10000;
      } else {
         return false;
      }
      if (len - i - 1 < need) {
         return false;
      }
      for (k = 1; k <= need; k++) {
         if ((s[i + k] & 0xC0) != 0x80) {
            return false;
         }
         cp = (cp << 6) | (s[i + k] & 0x3F);
      }
      if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
         return false;
      }
      i += need + 1;
   }
   return true;
}

static void
agree (const unsigned char *s, size_t len)
{
   bool want = reference_valid (s, len), got = odm_utf8_valid ((const char *) s, len);
   if (want != got) {
      char hex[3 * 64 + 1] = "";
      size_t i;
      for (i = 0; i < len && i < 64; i++) {
         snprintf (hex + 3 * i, 4, "%02X ", s[i]);
      }
      ck_abort_msg ("odm_utf8_valid says %d, the reference %d, on %zu bytes: %s", got, want, len, hex);
   }
}

START_TEST (test_utf8_exhaustive_short)
{
   unsigned char s[3] = {0, 0, 0};
   uint32_t v;
   agree (s, 0);
   for (v = 0; v < 0x100; v++) {
      s[0] = (unsigned char) v;
      agree (s, 1);
   }
   for (v = 0; v < 0x10000; v++) {
      s[0] = (unsigned char) (v >> 8), s[1] = (unsigned char) v;
      agree (s, 2);
   }
   for (v = 0; v < 0x1000000; v++) {
      s[0] = (unsigned char) (v >> 16), s[1] = (unsigned char) (v >> 8), s[2] = (unsigned char) v;
      agree (s, 3);
   }
}
END_TEST

/* One byte of each class the automaton tells apart, and its edges. */
static const unsigned char edges[] = {0x00, 0x01, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                      0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};

START_TEST (test_utf8_exhaustive_four)
{
   unsigned char s[4];
   uint32_t v;
   size_t a, b, c, d;
   /* every sequence with a 4-byte lead (F0-F7) */
   for (v = 0; v < 0x8000000u; v++) {
      s[0] = (unsigned char) (0xF0 | (v >> 24)), s[1] = (unsigned char) (v >> 16), s[2] = (unsigned char) (v >> 8),
      s[3] = (unsigned char) v;
      if ((s[1] & 0xC0) != 0x80 && (v & 0xFFFF) != 0) {
         v |= 0xFFFF; /* an invalid second byte: its first case stands for the rest */
         continue;
      }
      agree (s, 4);
   }
   /* every class in every position */
   for (a = 0; a < sizeof edges; a++) {
      for (b = 0; b < sizeof edges; b++) {
         for (c = 0; c < sizeof edges; c++) {
            for (d = 0; d < sizeof edges; d++) {
               s[0] = edges[a], s[1] = edges[b], s[2] = edges[c], s[3] = edges[d];
               agree (s, 4);
            }
         }
      }
   }
}
END_TEST

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t
next_rand (void)
{
   rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
   return (uint32_t) (rng >> 16);
}

/* Appends one piece: an ASCII run, a valid character of 2, 3 or 4 bytes, an edge byte. */
static size_t
piece (unsigned char *out, size_t room)
{
   static const char *const valid[] = {"\xC3\xA9", "\xDF\xBF", "\xE0\xA0\x80", "\xE2\x82\xAC", "\xED\x9F\xBF",
                                       "\xEE\x80\x80", "\xEF\xBF\xBD", "\xF0\x90\x80\x80", "\xF0\x9F\x98\x80",
                                       "\xF4\x8F\xBF\xBF"};
   uint32_t r = next_rand () % 10;
   size_t n, i;
   if (r < 5) {
      n = next_rand () % 40;
      n = n < room ? n : room;
      for (i = 0; i < n; i++) {
         out[i] = (unsigned char) (0x20 + next_rand () % 0x5F);
      }
      return n;
   }
   if (r < 9) {
      const char *v = valid[next_rand () % (sizeof valid / sizeof valid[0])];
      n = strlen (v);
      if (n > room) {
         return 0;
      }
      memcpy (out, v, n);
      return n;
   }
   if (room < 1) {
      return 0;
   }
   out[0] = edges[next_rand () % sizeof edges];
   return 1;
}

START_TEST (test_utf8_random)
{
   unsigned char buf[300];
   int round;
   for (round = 0; round < 200000; round++) {
      size_t len = 0, want = next_rand () % sizeof buf, off;
      while (len < want) {
         size_t n = piece (buf + len, want - len);
         if (!n && want - len < 4) {
            break;
         }
         len += n;
      }
      agree (buf, len);
      /* every start and end inside the buffer: the fast path at every alignment */
      off = next_rand () % (len + 1);
      agree (buf + off, len - off);
      agree (buf, off);
   }
}
END_TEST

/* A copy of LEN bytes at S in a heap block of exactly ROOM bytes, so that AddressSanitizer
 * reports any read past what a scan was allowed. */
static unsigned char *
exact_copy (const unsigned char *s, size_t len, size_t room)
{
   unsigned char *b = malloc (room ? room : 1);
   memset (b, 0x80, room); /* not ASCII: a scan that looked past LEN would say so */
   memcpy (b, s, len);
   return b;
}

/* The scans the walks share (odm-scan.h: sixteen bytes at a time, masked or overlapping
 * blocks near the end, word and byte loops when fewer bytes may be read) against plain
 * loops: every length up to past two blocks, every room from the length up, a bad byte (NUL,
 * non-ASCII, invalid UTF-8) at every position, and random mixes. */
START_TEST (test_scan_helpers)
{
   unsigned char buf[300];
   size_t len, room, bad, n;
   int round;
   for (len = 0; len <= 40; len++) {
      for (bad = 0; bad <= len; bad++) { /* bad == len: all ASCII */
         static const unsigned char kinds[] = {0x00, 0x80, 0xC3, 0xFF};
         size_t k;
         for (k = 0; k < sizeof kinds; k++) {
            memset (buf, 'a', len);
            if (bad < len) {
               buf[bad] = kinds[k];
            }
            for (room = len; room <= len + 20; room++) {
               unsigned char *b = exact_copy (buf, len, room);
               size_t want_ascii = bad < len ? bad : len;
               ck_assert_uint_eq (odm_scan_ascii (b, (uint32_t) len, (uint32_t) room), want_ascii);
               ck_assert_int_eq (odm_scan_text (b, (uint32_t) len, (uint32_t) room), reference_valid (b, len));
               free (b);
            }
         }
      }
   }
   /* the encoder's copy: exactly LEN + 1 bytes read (the string and its NUL, in a block of
    * that size) and written (into a block of that size), and "all ASCII" exactly when no
    * byte has its high bit set, a high byte at every position of every length */
   for (len = 0; len <= 40; len++) {
      for (bad = 0; bad <= len; bad++) { /* bad == len: all ASCII */
         unsigned char *src, *dst;
         memset (buf, 'c', len);
         buf[len] = 0;
         if (bad < len) {
            buf[bad] = 0xC3;
         }
         for (n = 0; n < len; n++) {
            buf[n] = (unsigned char) (buf[n] == 'c' ? 'a' + n % 26 : buf[n]);
         }
         src = exact_copy (buf, len + 1, len + 1);
         dst = malloc (len + 1);
         ck_assert (dst != NULL);
         memset (dst, 0xEE, len + 1);
         ck_assert_int_eq (odm_scan_copy_ascii (dst, src, len), bad == len);
         ck_assert (memcmp (dst, buf, len + 1) == 0);
         free (src);
         free (dst);
      }
   }
   /* key lengths: the NUL at every position, or none among AVAIL bytes */
   for (n = 0; n <= 40; n++) {
      size_t nul;
      for (nul = 0; nul <= n; nul++) { /* nul == n: no NUL */
         unsigned char *b;
         memset (buf, 'k', n);
         if (nul < n) {
            buf[nul] = 0;
         }
         b = exact_copy (buf, n, n);
         ck_assert_uint_eq (odm_scan_key_len (b, (uint32_t) n), nul);
         free (b);
      }
   }
   /* same bytes: a difference at every position of every length */
   for (n = 0; n <= 40; n++) {
      size_t at;
      unsigned char a[40], b[40];
      memset (a, 'n', n);
      memcpy (b, a, n);
      ck_assert (odm_scan_same (a, b, (uint32_t) n));
      for (at = 0; at < n; at++) {
         b[at] = 'm';
         ck_assert (!odm_scan_same (a, b, (uint32_t) n));
         b[at] = 'n';
      }
   }
   /* random mixes, every start, rooms from exact to a block more */
   for (round = 0; round < 20000; round++) {
      size_t want = next_rand () % 120, off;
      unsigned char *b;
      len = 0;
      while (len < want) {
         size_t p = piece (buf + len, want - len);
         if (!p && want - len < 4) {
            break;
         }
         len += p;
      }
      off = next_rand () % (len + 1);
      room = len - off + next_rand () % 17;
      b = exact_copy (buf + off, len - off, room);
      ck_assert_int_eq (odm_scan_text (b, (uint32_t) (len - off), (uint32_t) room), reference_valid (b, len - off));
      free (b);
   }
}
END_TEST

/* odm_utf16_length counts as JavaScript's .length does, whatever the mix of ASCII runs
 * (read a word at a time) and other characters, at every alignment. */
START_TEST (test_utf16_length_words)
{
   static const char *const pieces[] = {"a", "hello wo", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "0123456789abcdef"};
   static const size_t units[] = {1, 8, 1, 1, 2, 16};
   char buf[512];
   unsigned r = 12345;
   int round;
   ck_assert_uint_eq (odm_utf16_length (NULL), 0);
   ck_assert_uint_eq (odm_utf16_length (""), 0);
   for (round = 0; round < 2000; round++) {
      size_t len = 0, want = 0, lead = (size_t) round % 9, i;
      for (i = 0; i < lead; i++) {
         buf[len++] = 'x';
      }
      want = lead;
      while (len < 400) {
         size_t k;
         r = r * 1103515245u + 12345u;
         k = (r >> 16) % 6;
         memcpy (buf + len, pieces[k], strlen (pieces[k]));
         len += strlen (pieces[k]);
         want += units[k];
      }
      buf[len] = '\0';
      ck_assert_uint_eq (odm_utf16_length (buf), want);
   }
}
END_TEST

/* The array keys: what libbson writes, for 0 to 2,000,000 and around every power of ten. */
START_TEST (test_index_key)
{
   uint64_t v;
   uint32_t edge[] = {999, 1000, 1001, 9999, 10000, 99999, 100000, 999999999u, 1000000000u, 4294967295u};
   for (v = 0; v <= 2000000 + sizeof edge / sizeof edge[0]; v++) {
      uint32_t x = v <= 2000000 ? (uint32_t) v : edge[v - 2000001];
      char a[16], b[16];
      const char *ka, *kb;
      size_t la = odm_index_key (x, &ka, a, sizeof a), lb = bson_uint32_to_string (x, &kb, b, sizeof b);
      ck_assert_uint_eq (la, lb);
      ck_assert_uint_eq (strlen (ka), la);
      ck_assert_msg (memcmp (ka, kb, la) == 0, "key of %u: %s, libbson says %s", x, ka, kb);
   }
}
END_TEST

int
main (void)
{
   Suite *s = suite_create ("utf8");
   TCase *tc = tcase_create ("utf8");
   SRunner *sr;
   int failed;
   tcase_set_timeout (tc, 600);
   tcase_add_test (tc, test_utf8_exhaustive_short);
   tcase_add_test (tc, test_utf8_exhaustive_four);
   tcase_add_test (tc, test_utf8_random);
   tcase_add_test (tc, test_scan_helpers);
   tcase_add_test (tc, test_utf16_length_words);
   tcase_add_test (tc, test_index_key);
   suite_add_tcase (s, tc);
   sr = srunner_create (s);
   srunner_run_all (sr, CK_NORMAL);
   failed = srunner_ntests_failed (sr);
   srunner_free (sr);
   return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
