/* bench: the document sets of odm_bench and the Mongoose bench. See mixed-set.h.
 *
 * The mixed set is generated into the generated structs through the descriptor tables
 * (odm_field_t: kind, flags, bounds, enum values, offsets), so it follows every spec
 * without a line per collection: what a field holds is chosen from its type, its bounds
 * and its name (an "email" gets an address, a "description" a paragraph no longer than
 * its maxlength, a "tags" array short lowercase words). The spec's cross-field rules are
 * then read from the schema's own spec text and repaired (an end date after its start,
 * a declared byte size equal to the content's, refunds not above the amount), and each
 * document must pass odm_prepare before it is kept. Lengths follow real platform data:
 * a per-document "richness" decides how many optional paths are present and how long
 * the arrays are, most texts are a sentence or two and a few fill their maxlength. */
#include "mixed-set.h"
#include "../tests/same-ids.h"

#include <stdlib.h>
#include <string.h>

#define AT(base, off) ((void *) ((char *) (base) + (off)))

typedef struct {
   void *items;
   size_t count;
} gen_array_t;

/* ------------------------------------------------------------------ randomness */

typedef struct {
   uint64_t s;
   double richness; /* 0.25 .. 1: share of optional paths present, array lengths */
   int64_t created, updated;
   int64_t now_ms;
   uint32_t oid_counter;
} gen_t;

static uint64_t
rnd (gen_t *g)
{
   /* splitmix64 */
   uint64_t z = (g->s += UINT64_C (0x9E3779B97F4A7C15));
   z = (z ^ (z >> 30)) * UINT64_C (0xBF58476D1CE4E5B9);
   z = (z ^ (z >> 27)) * UINT64_C (0x94D049BB133111EB);
   return z ^ (z >> 31);
}

/* in [0, n) */
static uint64_t
below (gen_t *g, uint64_t n)
{
   return n ? rnd (g) % n : 0;
}

/* in [lo, hi] */
static int64_t
between (gen_t *g, int64_t lo, int64_t hi)
{
   return hi <= lo ? lo : lo + (int64_t) below (g, (uint64_t) (hi - lo) + 1);
}

/* in [0, 1) */
static double
unit (gen_t *g)
{
   return (double) (rnd (g) >> 11) * (1.0 / 9007199254740992.0);
}

static bool
chance (gen_t *g, double p)
{
   return unit (g) < p;
}

#define PICK(g, arr) ((arr)[below ((g), sizeof (arr) / sizeof (arr)[0])])

/* ------------------------------------------------------------------ vocabulary */

static const char *const words[] = {
   "the", "a", "and", "to", "of", "in", "for", "with", "on", "is", "this", "that", "we", "our", "your", "it", "be",
   "can", "will", "from", "by", "as", "at", "new", "more", "all", "agent", "chat", "session", "model", "prompt",
   "response", "user", "team", "project", "feature", "release", "update", "account", "billing", "invoice",
   "payment", "community", "post", "comment", "group", "event", "webinar", "support", "ticket", "issue", "bug",
   "fix", "error", "question", "answer", "data", "report", "analysis", "experiment", "result", "metric", "growth",
   "design", "review", "workflow", "automation", "integration", "api", "request", "service", "deployment",
   "pipeline", "database", "query", "index", "cache", "latency", "performance", "security", "privacy", "access",
   "settings", "profile", "dashboard", "notification", "email", "message", "history", "context", "token",
   "limit", "usage", "plan", "subscription", "trial", "customer", "client", "consultant", "meeting", "schedule",
   "calendar", "timezone", "language", "translation", "summary", "draft", "document", "file", "upload",
   "canvas", "code", "component", "function", "test", "coverage", "build", "version", "migration", "schema",
   "typescript", "python", "react", "node", "mongodb", "marketing", "sales", "product", "strategy", "roadmap",
   "launch", "onboarding", "tutorial", "guide", "tips", "best", "practices", "quick", "simple", "better",
   "faster", "clear", "helpful", "great", "thanks", "please", "after", "before", "since", "when", "how", "why",
   "what", "which", "every", "some", "many", "few", "first", "last", "next", "today", "week", "month", "year",
   "time", "work", "help", "need", "want", "use", "try", "make", "get", "see", "know", "think", "share", "learn",
   "improve", "explain", "compare", "generate", "write", "read", "create", "delete", "save", "load", "open",
   "close", "start", "stop", "run", "check", "change", "move", "keep", "show", "find", "ask", "tell"};

/* Lower-case only (prepare lowercases, and a lowercase field must stay the same). */
static const char *const intl_words[] = {"café", "naïve", "zürich", "são", "paulo", "größe", "déjà", "vu",
                                         "façade", "résumé", "日本語", "中文", "한국어", "😀", "🚀", "über",
                                         "piñata", "crème", "brûlée", "ελληνικά", "русский"};

static const char *const first_names[] = {"Ana", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hiro", "Isabel",
                                          "Jonas", "Kemal", "Lena", "Mateo", "Nora", "Olivia", "Pavel", "Quinn",
                                          "Rosa", "Sanjay", "Tomás", "Uma", "Victor", "Wen", "Yara", "Zoe"};
static const char *const last_names[] = {"Garcia", "Smith", "Müller", "Kowalski", "Nguyen", "Okafor", "Rossi",
                                         "Silva", "Tanaka", "Johansson", "Dubois", "Haddad", "Kim", "Patel",
                                         "O'Brien", "Novak", "Schmidt", "Andersen", "Fernández", "Lee"};
static const char *const tlds[] = {"com", "io", "dev", "org", "net", "co.uk", "de"};
static const char *const zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London",
                                    "America/Los_Angeles", "Australia/Sydney", "Asia/Kolkata"};
static const char *const currencies[] = {"usd", "eur", "gbp", "jpy", "cad"};
static const char *const languages[] = {"en", "de", "fr", "es", "ja", "typescript", "python", "javascript", "go",
                                        "markdown"};
static const char *const agents_ua[] = {
   "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
   "Safari/537.36",
   "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
   "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
   "Mobile/15E148 Safari/604.1",
   "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"};
static const char *const tokens[] = {"Chrome 120.0", "Firefox 121", "Safari 17", "macOS 14.0", "Windows 11",
                                     "Ubuntu 22.04", "iOS 17.1", "gpt-4", "claude-3", "stripe", "paypal", "card",
                                     "dark", "light", "system", "chime", "pdf", "markdown", "json", "csv",
                                     "nextjs", "express", "default", "web", "mobile", "newsletter", "google"};
static const char *const hosts[] = {"cdn", "www", "app", "files", "meet"};
static const char *const url_exts[] = {"png", "jpg", "pdf", "html", "webp"};
static const char *const file_exts[] = {".ts", ".py", ".md", ".png", ".pdf", ".json"};
static const char *const cities[] = {"Berlin", "São Paulo", "New York", "Tokyo", "Zürich",
                                     "Online", "London", "Lagos", "Bengaluru"};
static const char *const code_lines[] = {
   "import { useState, useEffect } from 'react';",
   "export function formatDate(value: Date): string {",
   "  return value.toISOString().slice(0, 10);",
   "}",
   "const items = await db.collection('sessions').find({ userId }).limit(50).toArray();",
   "  if (!response.ok) throw new Error(`request failed: ${response.status}`);",
   "def summarize(text: str, limit: int = 200) -> str:",
   "    return text[:limit].rsplit(' ', 1)[0] + '…'",
   "// TODO: cache the result per user",
   "  <Button variant=\"primary\" onClick={handleSave}>Save</Button>",
   "SELECT id, name, created_at FROM projects WHERE owner_id = $1 ORDER BY created_at DESC;",
   "  const total = invoices.reduce((sum, i) => sum + i.amount, 0);"};

/* ------------------------------------------------------------------ text */

/* UTF-16 code units of UTF-8 text S, as JavaScript's String.length counts. */
static size_t
utf16_len (const char *s)
{
   size_t n = 0;
   const unsigned char *p = (const unsigned char *) s;
   for (; *p; p++) {
      if ((*p & 0xC0) != 0x80) {
         n += *p >= 0xF0 ? 2 : 1;
      }
   }
   return n;
}

static void
lower_ascii (char *s)
{
   for (; *s; s++) {
      if (*s >= 'A' && *s <= 'Z') {
         *s = (char) (*s - 'A' + 'a');
      }
   }
}

/* Appends words to S until it holds at least TARGET and at most MAX UTF-16 units. */
static void
append_words (gen_t *g, bson_string_t *s, size_t target, size_t max, bool sentences, bool intl)
{
   size_t len = utf16_len (s->str), since_stop = 0;
   bool cap = sentences && len == 0;

   while (len < target) {
      const char *w = intl && chance (g, 0.04) ? PICK (g, intl_words) : PICK (g, words);
      size_t wl = utf16_len (w), sep = len ? 1 : 0;
      bool stop = sentences && since_stop > 6 && chance (g, 0.12);
      if (len + sep + wl + (stop ? 1 : 0) > max) {
         break;
      }
      if (sep) {
         bson_string_append_c (s, ' ');
      }
      if (cap && w[0] >= 'a' && w[0] <= 'z') {
         bson_string_append_c (s, (char) (w[0] - 'a' + 'A'));
         bson_string_append (s, w + 1);
      } else {
         bson_string_append (s, w);
      }
      cap = false;
      len += sep + wl;
      since_stop++;
      if (stop) {
         bson_string_append_c (s, '.');
         len++;
         since_stop = 0;
         cap = true;
      }
   }
   if (sentences && len > 0 && len < max && s->str[s->len - 1] != '.') {
      bson_string_append_c (s, '.');
   }
   while (len < target) { /* the words did not fit: pad with one-letter words */
      bson_string_append_c (s, len % 2 ? 'a' : ' ');
      len++;
   }
}

typedef enum {
   S_WORDS, S_TEXT, S_CODE, S_EMAIL, S_URL, S_ID, S_SLUG, S_USERNAME, S_PERSON, S_IP, S_UA, S_TZ, S_CURRENCY,
   S_LANG, S_COLOR, S_TIME, S_DIGITS4, S_HEX, S_PATH, S_FILENAME, S_ADDRESS, S_CITY, S_TOKEN, S_TAG
} skind_t;

static bool
name_is (const char *name, const char *const *list)
{
   for (; *list; list++) {
      if (strcmp (name, *list) == 0) {
         return true;
      }
   }
   return false;
}

static bool
ends_with (const char *s, const char *suffix)
{
   size_t a = strlen (s), b = strlen (suffix);
   return a >= b && strcmp (s + a - b, suffix) == 0;
}

static skind_t
classify (const odm_field_t *f)
{
   static const char *const text[] = {
      "description", "content", "message", "bio", "summary", "coverLetter", "systemPrompt", "prompt", "feedback",
      "notes", "observations", "hypothesis", "answer", "question", "reasoning", "details", "excerpt",
      "welcomeMessage", "comments", "suggestions", "client", "consultant", "hr", "internal", "clientFeedback",
      "consultantFeedback", "error", "cancelReason", "hiringManager", "agenda", "rules", NULL};
   static const char *const url[] = {"url", "avatar", "avatarUrl", "banner", "thumbnail", "website", "meetingLink",
                                     NULL};
   static const char *const tag[] = {"tags", "skills", "specialties", "favorites", "quickActions", "fallbacks",
                                     "dependencies", "rulesTriggered", NULL};
   static const char *const person[] = {"firstName", "lastName", "displayName", NULL};
   const char *n = f->name;

   if (strstr (n, "mail")) {
      return S_EMAIL;
   }
   if (name_is (n, url)) {
      return S_URL;
   }
   if (strcmp (n, "content") == 0 && !(f->flags & ODM_F_MAXLENGTH)) {
      return S_CODE;
   }
   if (name_is (n, text)) {
      return S_TEXT;
   }
   if (name_is (n, tag)) {
      return S_TAG;
   }
   if (name_is (n, person)) {
      return S_PERSON;
   }
   if (strcmp (n, "username") == 0) {
      return S_USERNAME;
   }
   if (strcmp (n, "slug") == 0) {
      return S_SLUG;
   }
   if (strcmp (n, "id") == 0 || ends_with (n, "Id")) {
      return S_ID;
   }
   if (strcmp (n, "ipAddress") == 0) {
      return S_IP;
   }
   if (strcmp (n, "userAgent") == 0) {
      return S_UA;
   }
   if (strcmp (n, "timezone") == 0) {
      return S_TZ;
   }
   if (strcmp (n, "currency") == 0) {
      return S_CURRENCY;
   }
   if (strcmp (n, "language") == 0) {
      return S_LANG;
   }
   if (strcmp (n, "color") == 0) {
      return S_COLOR;
   }
   if (strcmp (n, "time") == 0) {
      return S_TIME;
   }
   if (strcmp (n, "last4") == 0) {
      return S_DIGITS4;
   }
   if (strcmp (n, "checksum") == 0) {
      return S_HEX;
   }
   if (strcmp (n, "path") == 0) {
      return S_PATH;
   }
   if (strcmp (n, "filename") == 0) {
      return S_FILENAME;
   }
   if (strcmp (n, "address") == 0) {
      return S_ADDRESS;
   }
   if (strcmp (n, "location") == 0 || strcmp (n, "venue") == 0) {
      return S_CITY;
   }
   if (name_is (n, (const char *const[]){"title", "subject", "name", "label", "agentName", "customName", "company",
                                         "jobTitle", "specialty", "template", NULL})) {
      return S_WORDS;
   }
   return S_TOKEN;
}

static void
append_slug (gen_t *g, bson_string_t *s, int n)
{
   int i;
   for (i = 0; i < n; i++) {
      const char *w = PICK (g, words);
      if (i) {
         bson_string_append_c (s, '-');
      }
      bson_string_append (s, w);
   }
}

/* A value for string field F (or F's array element): NUL-terminated, bson_malloc'd. */
static char *
gen_string (gen_t *g, const odm_field_t *f)
{
   bson_string_t *s = bson_string_new (NULL);
   size_t maxl = (f->flags & ODM_F_MAXLENGTH) ? f->maxlength : 4000;
   size_t minl = (f->flags & ODM_F_MINLENGTH) ? f->minlength : 1;
   bool intl = chance (g, 0.15);

   if (f->flags & ODM_F_ENUM) {
      bson_string_append (s, f->enum_values[below (g, f->enum_count)]);
      return bson_string_free (s, false);
   }
   switch (classify (f)) {
   case S_TEXT: {
      /* most are a sentence or three, some fill a good part of their maxlength */
      size_t cap = maxl < 1000 ? maxl : 1000, lo = minl > 20 ? minl : 20, target;
      double u = unit (g);
      target = lo + (size_t) (u * u * u * u * (double) (cap > lo ? cap - lo : 0));
      if (target < lo) {
         target = lo;
      }
      append_words (g, s, target < 40 && cap >= 40 ? 40 : target, maxl, true, intl);
      break;
   }
   case S_CODE: {
      int lines = (int) between (g, 4, 60), i;
      for (i = 0; i < lines; i++) {
         bson_string_append (s, PICK (g, code_lines));
         bson_string_append_c (s, '\n');
      }
      break;
   }
   case S_EMAIL:
      bson_string_append_printf (s, "%s.%s%d@%s.%s", PICK (g, first_names), PICK (g, last_names),
                                 (int) below (g, 1000), PICK (g, words), PICK (g, tlds));
      break;
   case S_URL:
      bson_string_append_printf (s, "https://%s.example.%s/", PICK (g, hosts),
                                 PICK (g, tlds));
      append_slug (g, s, (int) between (g, 1, 3));
      bson_string_append_printf (s, "/%08" PRIx64 ".%s", rnd (g) & 0xffffffffu,
                                 PICK (g, url_exts));
      break;
   case S_ID:
      bson_string_append_printf (s, "%s-%013" PRId64 "-%06" PRIx64, f->name, g->created + (int64_t) below (g, 1000),
                                 rnd (g) & 0xffffffu);
      break;
   case S_SLUG:
      append_slug (g, s, (int) between (g, 2, 5));
      break;
   case S_USERNAME:
      bson_string_append_printf (s, "%s_%s%d", PICK (g, first_names), PICK (g, words), (int) below (g, 100));
      break;
   case S_PERSON:
      bson_string_append (s, strcmp (f->name, "lastName") == 0 ? PICK (g, last_names) : PICK (g, first_names));
      if (strcmp (f->name, "displayName") == 0) {
         bson_string_append_printf (s, " %s", PICK (g, last_names));
      }
      break;
   case S_IP:
      bson_string_append_printf (s, "%d.%d.%d.%d", (int) between (g, 11, 223), (int) below (g, 256),
                                 (int) below (g, 256), (int) between (g, 1, 254));
      break;
   case S_UA:
      bson_string_append (s, PICK (g, agents_ua));
      break;
   case S_TZ:
      bson_string_append (s, PICK (g, zones));
      break;
   case S_CURRENCY:
      bson_string_append (s, PICK (g, currencies));
      break;
   case S_LANG:
      bson_string_append (s, PICK (g, languages));
      break;
   case S_COLOR:
      bson_string_append_printf (s, "#%06" PRIx64, rnd (g) & 0xffffffu);
      break;
   case S_TIME:
      bson_string_append_printf (s, "%02d:%02d", (int) below (g, 24), (int) below (g, 4) * 15);
      break;
   case S_DIGITS4:
      bson_string_append_printf (s, "%04d", (int) below (g, 10000));
      break;
   case S_HEX:
      bson_string_append_printf (s, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, rnd (g), rnd (g),
                                 rnd (g), rnd (g));
      break;
   case S_PATH:
      bson_string_append (s, "/src/");
      append_slug (g, s, (int) between (g, 1, 3));
      bson_string_append (s, ".tsx");
      break;
   case S_FILENAME:
      append_slug (g, s, (int) between (g, 1, 3));
      bson_string_append (s, PICK (g, file_exts));
      break;
   case S_ADDRESS:
      bson_string_append_printf (s, "%d %s Street, %s", (int) between (g, 1, 999), PICK (g, last_names),
                                 PICK (g, zones));
      break;
   case S_CITY:
      bson_string_append (s, PICK (g, cities));
      break;
   case S_TAG:
      bson_string_append (s, PICK (g, words));
      if (chance (g, 0.3)) {
         bson_string_append_c (s, '-');
         bson_string_append (s, PICK (g, words));
      }
      break;
   case S_WORDS:
      append_words (g, s, (size_t) between (g, 8, maxl < 70 ? (int64_t) maxl : 70), maxl, false, intl);
      if (s->len > 0 && s->str[0] >= 'a' && s->str[0] <= 'z') {
         s->str[0] = (char) (s->str[0] - 'a' + 'A');
      }
      break;
   case S_TOKEN:
   default:
      bson_string_append (s, PICK (g, tokens));
      break;
   }
   if (utf16_len (s->str) < minl || utf16_len (s->str) > maxl) { /* a bound the heuristics missed */
      bson_string_truncate (s, 0);
      append_words (g, s, minl > 1 ? minl : 1, maxl, false, false);
   }
   if (f->flags & ODM_F_LOWERCASE) {
      lower_ascii (s->str);
   }
   return bson_string_free (s, false);
}

/* ------------------------------------------------------------------ numbers, dates */

static double
round_to (int64_t v, int64_t div)
{
   return (double) v / (double) div;
}

static double
gen_number (gen_t *g, const odm_field_t *f, size_t index)
{
   const char *n = f->name;
   bool has_min = f->flags & ODM_F_MIN, has_max = f->flags & ODM_F_MAX;

   if (strcmp (n, "coordinates") == 0) {
      return index == 0 ? round_to (between (g, -1800000, 1800000), 10000) : round_to (between (g, -900000, 900000), 10000);
   }
   if (has_min && has_max) {
      if (f->max - f->min <= 2) {
         return f->min + round_to (between (g, 0, (int64_t) ((f->max - f->min) * 10)), 10);
      }
      return (double) between (g, (int64_t) f->min, (int64_t) f->max);
   }
   if (has_max) {
      return (double) between (g, 0, (int64_t) f->max);
   }
   if (strstr (n, "ating")) {
      return (double) between (g, 1, 5);
   }
   if (strcmp (n, "salary") == 0) {
      return (double) between (g, 40, 250) * 1000;
   }
   if (strcmp (n, "amount") == 0 || strcmp (n, "price") == 0 || strcmp (n, "allocated") == 0 ||
       strcmp (n, "spent") == 0) {
      return round_to (between (g, 500, 500000), 100);
   }
   if (strcmp (n, "confidence") == 0 || strcmp (n, "rate") == 0) {
      return round_to (between (g, 0, 100), 100);
   }
   if (strncmp (n, "avg", 3) == 0) {
      return round_to (between (g, 0, 5000), 100);
   }
   if (strstr (n, "ize")) { /* size, totalSize: bytes */
      return (double) between (g, 200, 5 << 20);
   }
   if (strstr (n, "uration")) {
      return (double) between (g, 1, 7200000);
   }
   if (strcmp (n, "width") == 0 || strcmp (n, "height") == 0) {
      return (double) between (g, 64, 4096);
   }
   {
      /* counts: mostly small, a long tail */
      double u = unit (g);
      int64_t v = (int64_t) (u * u * u * 20000);
      return (double) (has_min && v < (int64_t) f->min ? (int64_t) f->min : v);
   }
}

static int64_t
gen_date (gen_t *g)
{
   return g->created + (int64_t) below (g, (uint64_t) (g->updated - g->created + 1));
}

static void
gen_oid (gen_t *g, bson_oid_t *oid)
{
   uint32_t secs = (uint32_t) (g->created / 1000);
   uint64_t r = rnd (g);
   int i;
   oid->bytes[0] = (uint8_t) (secs >> 24);
   oid->bytes[1] = (uint8_t) (secs >> 16);
   oid->bytes[2] = (uint8_t) (secs >> 8);
   oid->bytes[3] = (uint8_t) secs;
   for (i = 4; i < 9; i++) {
      oid->bytes[i] = (uint8_t) (r >> (8 * (i - 4)));
   }
   g->oid_counter++;
   oid->bytes[9] = (uint8_t) (g->oid_counter >> 16);
   oid->bytes[10] = (uint8_t) (g->oid_counter >> 8);
   oid->bytes[11] = (uint8_t) g->oid_counter;
}

static void
gen_mixed (gen_t *g, bson_value_t *v)
{
   bson_t d = BSON_INITIALIZER, arr, wrap = BSON_INITIALIZER;
   bson_iter_t it;
   int keys = (int) between (g, 1, 6), i;

   for (i = 0; i < keys; i++) {
      char key[32];
      snprintf (key, sizeof key, "%s%d", PICK (g, words), i);
      switch (below (g, 5)) {
      case 0:
         bson_append_int32 (&d, key, -1, (int32_t) below (g, 10000));
         break;
      case 1:
         bson_append_double (&d, key, -1, round_to (between (g, 0, 100000), 100));
         break;
      case 2:
         bson_append_bool (&d, key, -1, chance (g, 0.5));
         break;
      case 3:
         bson_append_array_begin (&d, key, -1, &arr);
         bson_append_utf8 (&arr, "0", 1, PICK (g, words), -1);
         bson_append_utf8 (&arr, "1", 1, PICK (g, words), -1);
         bson_append_array_end (&d, &arr);
         break;
      default:
         bson_append_utf8 (&d, key, -1, PICK (g, tokens), -1);
         break;
      }
   }
   bson_append_document (&wrap, "v", 1, &d); /* so that an iterator yields a document value */
   bson_iter_init (&it, &wrap);
   bson_iter_next (&it);
   bson_value_copy (bson_iter_value (&it), v);
   bson_destroy (&d);
   bson_destroy (&wrap);
}

/* ------------------------------------------------------------------ filling structs */

static void
fill_object (gen_t *g, const odm_object_desc_t *d, void *base, int depth);

static size_t
array_length (gen_t *g, const odm_field_t *f, int depth)
{
   const char *n = f->name;
   double r = g->richness;
   if (strcmp (n, "coordinates") == 0) {
      return 2;
   }
   if (f->kind == ODM_KIND_OBJECT) {
      int64_t most = depth > 0 ? 2 : (strcmp (n, "conversation") == 0 || strcmp (n, "messages") == 0) ? 10 : 5;
      return (size_t) between (g, 0, (int64_t) ((double) most * r + 0.5));
   }
   return (size_t) between (g, 0, (int64_t) (6 * r + 0.5));
}

static void
fill_scalar (gen_t *g, const odm_field_t *f, void *p, size_t index)
{
   switch ((odm_kind_t) f->kind) {
   case ODM_KIND_STRING:
      *(char **) p = gen_string (g, f);
      break;
   case ODM_KIND_NUMBER:
      *(double *) p = gen_number (g, f, index);
      break;
   case ODM_KIND_BOOL:
      *(bool *) p = chance (g, 0.5);
      break;
   case ODM_KIND_DATE:
      *(int64_t *) p = gen_date (g);
      break;
   case ODM_KIND_OID:
      gen_oid (g, (bson_oid_t *) p);
      break;
   case ODM_KIND_MIXED:
      gen_mixed (g, (bson_value_t *) p);
      break;
   case ODM_KIND_OBJECT:
   default:
      break;
   }
}

static void
fill_field (gen_t *g, const odm_field_t *f, void *base, int depth)
{
   void *p = AT (base, f->offset);
   size_t i, n;

   if (f->flags & ODM_F_ARRAY) {
      gen_array_t *a = p;
      n = array_length (g, f, depth);
      a->items = n ? bson_malloc0 (n * f->elem_size) : NULL;
      a->count = n;
      for (i = 0; i < n; i++) {
         void *e = (char *) a->items + i * f->elem_size;
         if (f->kind == ODM_KIND_OBJECT) {
            fill_object (g, f->object, e, depth + 1);
         } else {
            fill_scalar (g, f, e, i);
         }
      }
   } else if (f->kind == ODM_KIND_OBJECT) {
      /* present through its content: an object none of whose fields was drawn stays
       * absent, as Mongoose (minimize) never stores {} */
      fill_object (g, f->object, p, depth + 1);
      return;
   } else if (f->flags & ODM_F_CREATED_AT) {
      *(int64_t *) p = g->created;
   } else if (f->flags & ODM_F_UPDATED_AT) {
      *(int64_t *) p = g->updated;
   } else {
      fill_scalar (g, f, p, 0);
   }
   *(uint8_t *) AT (base, f->presence) = ODM_PRESENT;
}

static void
fill_object (gen_t *g, const odm_object_desc_t *d, void *base, int depth)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      bool always = (f->flags & (ODM_F_REQUIRED | ODM_F_AUTO_ID | ODM_F_CREATED_AT | ODM_F_UPDATED_AT)) != 0;
      if (always || chance (g, g->richness)) {
         fill_field (g, f, base, depth);
      }
   }
}

/* ------------------------------------------------------------------ rule repairs */

/* The field at dotted PATH below the root, through nested objects (not arrays); its
 * holding struct goes to *OBJ. */
static const odm_field_t *
locate (const odm_schema_t *schema, void *doc, const char *path, void **obj)
{
   const odm_object_desc_t *d = schema->root;
   void *base = doc;
   char part[128];

   for (;;) {
      const char *dot = strchr (path, '.');
      size_t len = dot ? (size_t) (dot - path) : strlen (path);
      const odm_field_t *f = NULL;
      uint32_t i;
      if (len >= sizeof part) {
         return NULL;
      }
      memcpy (part, path, len);
      part[len] = '\0';
      for (i = 0; i < d->field_count; i++) {
         if (strcmp (d->fields[i].name, part) == 0) {
            f = &d->fields[i];
         }
      }
      if (!f) {
         return NULL;
      }
      if (!dot) {
         *obj = base;
         return f;
      }
      if (f->kind != ODM_KIND_OBJECT || (f->flags & ODM_F_ARRAY)) {
         return NULL;
      }
      base = AT (base, f->offset); /* present through its content, if any */
      d = f->object;
      path = dot + 1;
   }
}

static bool
is_set (const odm_field_t *f, void *obj)
{
   return f && odm_field_state (f, obj) == ODM_PRESENT;
}

static void
set_present (const odm_field_t *f, void *obj)
{
   *(uint8_t *) AT (obj, f->presence) = ODM_PRESENT;
}

static const char *
rule_str (const bson_t *rule, const char *key)
{
   bson_iter_t it;
   return bson_iter_init_find (&it, rule, key) && BSON_ITER_HOLDS_UTF8 (&it) ? bson_iter_utf8 (&it, NULL) : NULL;
}

static void
repair (gen_t *g, const odm_schema_t *schema, void *doc, const bson_t *rule)
{
   const char *kind = rule_str (rule, "kind"), *path = rule_str (rule, "path"), *than = rule_str (rule, "than");
   void *po = NULL, *to = NULL;
   const odm_field_t *pf, *tf = NULL;

   if (!kind || !path || !(pf = locate (schema, doc, path, &po))) {
      return;
   }
   if (than) {
      tf = locate (schema, doc, than, &to);
   }
   if (strcmp (kind, "after") == 0 && tf && is_set (pf, po)) {
      int64_t *a = AT (po, pf->offset), *b = AT (to, tf->offset);
      if (!is_set (tf, to)) {
         *b = *a - between (g, 3600000, 30 * 86400000LL);
         set_present (tf, to);
      } else {
         *a = *b + between (g, 60000, 30 * 86400000LL);
      }
   } else if (strcmp (kind, "not_greater") == 0 && tf && is_set (pf, po)) {
      double *a = AT (po, pf->offset), *b = AT (to, tf->offset);
      if (!is_set (tf, to)) {
         *b = *a + (double) between (g, 0, 1000);
         set_present (tf, to);
      } else if (*a > *b) {
         *a = (double) (int64_t) (*b * unit (g));
      }
   } else if (strcmp (kind, "byte_length_equals") == 0 && tf) {
      if (is_set (pf, po)) {
         *(double *) AT (to, tf->offset) = (double) strlen (*(char **) AT (po, pf->offset));
         set_present (tf, to);
      }
   } else if (strcmp (kind, "sum_not_greater") == 0 && tf && (pf->flags & ODM_F_ARRAY) && pf->object) {
      const char *field = rule_str (rule, "field");
      gen_array_t *a = AT (po, pf->offset);
      double sum = 0;
      size_t i;
      uint32_t k;
      for (k = 0; field && k < pf->object->field_count; k++) {
         const odm_field_t *ef = &pf->object->fields[k];
         if (strcmp (ef->name, field) == 0) {
            for (i = 0; i < a->count; i++) {
               void *e = (char *) a->items + i * pf->elem_size;
               if (is_set (ef, e)) {
                  sum += *(double *) AT (e, ef->offset);
               }
            }
         }
      }
      if (!is_set (tf, to) || *(double *) AT (to, tf->offset) < sum) {
         *(double *) AT (to, tf->offset) = sum + round_to (between (g, 0, 10000), 100);
         set_present (tf, to);
      }
   } else if (strcmp (kind, "future_on_create") == 0 && is_set (pf, po)) {
      *(int64_t *) AT (po, pf->offset) = g->now_ms + between (g, 3600000, 60 * 86400000LL);
   } else if (strcmp (kind, "requires") == 0) {
      bson_iter_t it, w, ps;
      const char *wp = NULL, *eq = NULL;
      if (bson_iter_init_find (&it, rule, "when") && BSON_ITER_HOLDS_DOCUMENT (&it) && bson_iter_recurse (&it, &w)) {
         while (bson_iter_next (&w)) {
            if (BSON_ITER_HOLDS_UTF8 (&w)) {
               if (strcmp (bson_iter_key (&w), "path") == 0) {
                  wp = bson_iter_utf8 (&w, NULL);
               } else if (strcmp (bson_iter_key (&w), "equals") == 0) {
                  eq = bson_iter_utf8 (&w, NULL);
               }
            }
         }
      }
      if (wp && eq) {
         void *wo;
         const odm_field_t *wf = locate (schema, doc, wp, &wo);
         if (wf && wf->kind == ODM_KIND_STRING && is_set (wf, wo) && strcmp (*(char **) AT (wo, wf->offset), eq) == 0 &&
             bson_iter_init_find (&it, rule, "paths") && BSON_ITER_HOLDS_ARRAY (&it) && bson_iter_recurse (&it, &ps)) {
            while (bson_iter_next (&ps)) {
               void *qo;
               const odm_field_t *qf = BSON_ITER_HOLDS_UTF8 (&ps) ? locate (schema, doc, bson_iter_utf8 (&ps, NULL), &qo)
                                                                  : NULL;
               if (qf && qf->kind == ODM_KIND_NUMBER && !(qf->flags & ODM_F_ARRAY) && !is_set (qf, qo)) {
                  *(double *) AT (qo, qf->offset) = gen_number (g, qf, 0);
                  set_present (qf, qo);
               }
            }
         }
      }
   }
   /* min, minlength, max_items, items_if_any, pattern, not_equal_id: the generator
    * already stays inside them (checked by odm_prepare below). */
}

/* ------------------------------------------------------------------ the sets */

static void
set_push (odm_bench_set_t *set, const odm_schema_t *schema, bson_t *doc)
{
   if ((set->count & (set->count - 1)) == 0) {
      set->items = bson_realloc (set->items, (set->count ? set->count * 2 : 1) * sizeof *set->items);
   }
   set->items[set->count].schema = schema;
   set->items[set->count].doc = doc;
   set->count++;
   set->bytes += doc->len;
}

/* Relative frequency of a collection in the mixed set: how often a running platform
 * writes and reads it (a like or a chat session is common, a daily metric is rare). */
static unsigned
weight_of (const char *collection)
{
   static const struct {
      const char *name;
      unsigned weight;
   } w[] = {{"chat_sessions", 12}, {"community_likes", 10}, {"community_comments", 10}, {"community_posts", 8},
            {"chat_feedback", 6},  {"chat_canvas_history", 5}, {"transactions", 5}, {"support_tickets", 4},
            {"users", 4},          {"user_favorites", 4}, {"community_memberships", 4}, {"chat_canvas_files", 4},
            {"webinar_registrations", 3}, {"consultations", 3}, {"contact_messages", 3}, {"community_metrics", 1},
            {"agents", 1},         {"community_groups", 1}};
   size_t i;
   for (i = 0; i < sizeof w / sizeof w[0]; i++) {
      if (strcmp (w[i].name, collection) == 0) {
         return w[i].weight;
      }
   }
   return 2;
}

static bool
generate_one (gen_t *g, const odm_schema_t *schema, const bson_t *rules, bson_t **out, char *why, size_t why_len)
{
   void *doc = bson_malloc0 (schema->root->size), *copy = bson_malloc0 (schema->root->size);
   odm_prepare_opts_t opts = {false, g->now_ms, NULL};
   odm_violations_t v;
   bson_iter_t it;
   bson_t *b;
   bool ok;

   g->richness = 0.25 + 0.75 * unit (g);
   g->updated = g->now_ms - between (g, 86400000LL, 400 * 86400000LL);
   g->created = g->updated - between (g, 0, 90 * 86400000LL);
   fill_object (g, schema->root, doc, 0);
   if (rules && bson_iter_init (&it, rules)) {
      while (bson_iter_next (&it)) {
         uint32_t len;
         const uint8_t *data;
         bson_t rule;
         if (BSON_ITER_HOLDS_DOCUMENT (&it)) {
            bson_iter_document (&it, &len, &data);
            if (bson_init_static (&rule, data, len)) {
               repair (g, schema, doc, &rule);
            }
         }
      }
   }
   b = NULL;
   memset (&v, 0, sizeof v);
   ok = odm_copy (schema, doc, copy) && odm_prepare (schema, copy, &opts, &v);
   if (!ok && v.count) {
      snprintf (why, why_len, "%s: %s", v.items[0].path, v.items[0].message);
   }
   odm_violations_cleanup (&v);
   if (ok) {
      bson_t enc;
      ok = odm_to_bson (schema, doc, &enc, NULL);
      b = ok ? bson_copy (&enc) : NULL; /* a bson_new-style document, as the fixtures' */
      bson_destroy (&enc);
   }
   odm_cleanup (schema, doc);
   odm_cleanup (schema, copy);
   bson_free (doc);
   bson_free (copy);
   *out = b;
   return ok;
}

/* The spec's "rules" array, from the spec text compiled into the schema. */
static bson_t *
rules_of (const odm_schema_t *schema)
{
   bson_t *spec = schema->spec_json ? bson_new_from_json ((const uint8_t *) schema->spec_json, -1, NULL) : NULL;
   bson_t *rules = NULL;
   bson_iter_t it;
   if (spec && bson_iter_init_find (&it, spec, "rules") && BSON_ITER_HOLDS_ARRAY (&it)) {
      uint32_t len;
      const uint8_t *data;
      bson_iter_array (&it, &len, &data);
      rules = bson_new_from_data (data, len);
   }
   if (spec) {
      bson_destroy (spec);
   }
   return rules;
}

bool
odm_bench_set_mixed (odm_bench_set_t *set, uint64_t seed, size_t count, bson_error_t *error)
{
   const odm_schema_t *const *schemas;
   size_t n, i, k;
   unsigned total = 0, *cum;
   bson_t **rules;
   gen_t g;
   bool ok = true;

   memset (set, 0, sizeof *set);
   bson_strncpy (set->name, "mixed", sizeof set->name);
   memset (&g, 0, sizeof g);
   g.s = seed;
   g.now_ms = ODM_BENCH_SET_NOW_MS;
   schemas = odm_schemas (&n);
   cum = bson_malloc0 ((n + 1) * sizeof *cum);
   rules = bson_malloc0 ((n + 1) * sizeof *rules);
   for (i = 0; i < n; i++) {
      total += weight_of (schemas[i]->collection);
      cum[i] = total;
      rules[i] = rules_of (schemas[i]);
   }
   /* Every collection once first, then drawn by weight. */
   for (k = 0; ok && k < count; k++) {
      uint64_t pick = below (&g, total);
      char why[512] = "";
      bson_t *doc = NULL;
      int attempt;
      i = k < n ? k : 0;
      if (k >= n) {
         while (cum[i] <= pick) {
            i++;
         }
      }
      for (attempt = 0; attempt < 100 && !doc; attempt++) {
         generate_one (&g, schemas[i], rules[i], &doc, why, sizeof why);
      }
      if (!doc) {
         bson_set_error (error, 0, 1, "mixed set: cannot generate a valid %s document (%s)", schemas[i]->collection,
                         why);
         ok = false;
      } else {
         set_push (set, schemas[i], doc);
      }
   }
   for (i = 0; i < n; i++) {
      if (rules[i]) {
         bson_destroy (rules[i]);
      }
   }
   bson_free (rules);
   bson_free (cum);
   if (!ok) {
      odm_bench_set_destroy (set);
   }
   return ok;
}

bool
odm_bench_set_fixtures (odm_bench_set_t *set, const char *dir, const char *variant, bson_error_t *error)
{
   const odm_schema_t *const *schemas;
   size_t n, i;

   memset (set, 0, sizeof *set);
   bson_strncpy (set->name, variant, sizeof set->name);
   schemas = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      char path[1024];
      bson_json_reader_t *r;
      bson_t *b = bson_new ();
      void *doc;
      int rc;

      snprintf (path, sizeof path, "%s/%s.%s.json", dir, schemas[i]->collection, variant);
      if (!(r = bson_json_reader_new_from_file (path, NULL))) {
         bson_destroy (b);
         continue;
      }
      rc = bson_json_reader_read (r, b, error);
      bson_json_reader_destroy (r);
      if (rc != 1) {
         if (rc == 0) {
            bson_set_error (error, 0, 1, "%s: empty", path);
         }
         bson_destroy (b);
         odm_bench_set_destroy (set);
         return false;
      }
      doc = bson_malloc0 (schemas[i]->root->size);
      if (!odm_from_bson (schemas[i], b, doc, ODM_DECODE_DEFAULT, error)) {
         bson_free (doc);
         bson_destroy (b);
         odm_bench_set_destroy (set);
         return false;
      }
      odm_cleanup (schemas[i], doc);
      bson_free (doc);
      set_push (set, schemas[i], b);
   }
   return true;
}

bool
odm_bench_set_load (odm_bench_set_t *set, const char *name, const char *dir, bson_error_t *error)
{
   if (strcmp (name, "mixed") == 0) {
      return odm_bench_set_mixed (set, ODM_BENCH_SET_SEED, ODM_BENCH_SET_MIXED_DOCS, error);
   }
   if (strcmp (name, "full") == 0 || strcmp (name, "min") == 0) {
      return odm_bench_set_fixtures (set, dir, name, error);
   }
   memset (set, 0, sizeof *set);
   bson_set_error (error, 0, 1, "no document set named %s (full, min, mixed)", name);
   return false;
}

bool
odm_bench_set_read (odm_bench_set_t *set, const char *path, bson_error_t *error)
{
   bson_json_reader_t *r;
   bson_t line = BSON_INITIALIZER;
   const char *base = strrchr (path, '/');
   size_t n = 0;
   int rc;

   memset (set, 0, sizeof *set);
   bson_strncpy (set->name, base ? base + 1 : path, sizeof set->name);
   if (strchr (set->name, '.')) {
      *strchr (set->name, '.') = '\0';
   }
   if (!(r = bson_json_reader_new_from_file (path, error))) {
      bson_destroy (&line);
      return false;
   }
   while ((rc = bson_json_reader_read (r, &line, error)) == 1) {
      bson_iter_t it;
      const odm_schema_t *schema = NULL;
      uint32_t len;
      const uint8_t *data;
      n++;
      if (bson_iter_init_find (&it, &line, "collection") && BSON_ITER_HOLDS_UTF8 (&it)) {
         schema = odm_schema_find (bson_iter_utf8 (&it, NULL));
      }
      if (!schema || !bson_iter_init_find (&it, &line, "doc") || !BSON_ITER_HOLDS_DOCUMENT (&it)) {
         bson_set_error (error, 0, 1, "%s: document %zu: not {\"collection\": <a known collection>, \"doc\": {...}}",
                         path, n);
         rc = -1;
         break;
      }
      bson_iter_document (&it, &len, &data);
      set_push (set, schema, bson_new_from_data (data, len));
      bson_reinit (&line);
   }
   bson_json_reader_destroy (r);
   bson_destroy (&line);
   if (rc < 0) {
      odm_bench_set_destroy (set);
      return false;
   }
   return true;
}

bool
odm_bench_set_prepare (odm_bench_set_t *set, int64_t now_ms, bson_error_t *error)
{
   odm_prepare_opts_t opts = {false, now_ms, NULL};
   size_t i;

   odm_arena_t *arena = odm_arena_new (0);
   bool ok = true;

   set->bytes = 0;
   for (i = 0; i < set->count && ok; i++) {
      const odm_schema_t *schema = set->items[i].schema;
      void *doc = bson_malloc0 (schema->root->size), *in_arena = bson_malloc0 (schema->root->size);
      odm_violations_t v;
      bson_t out, out_arena;
      ok = odm_from_bson (schema, set->items[i].doc, doc, ODM_DECODE_DEFAULT, error) &&
           odm_from_bson_arena (schema, set->items[i].doc, in_arena, ODM_DECODE_DEFAULT, arena, error);
      if (ok) {
         odm_prepare (schema, doc, &opts, &v);
         odm_violations_cleanup (&v);
         odm_prepare_arena (schema, in_arena, arena, &opts, &v);
         odm_violations_cleanup (&v);
         odm_same_ids (schema->root, in_arena, doc); /* each prepare made its own _ids */
         ok = odm_to_bson (schema, doc, &out, error);
         ok = odm_to_bson (schema, in_arena, &out_arena, ok ? error : NULL) && ok; /* both initialise their OUT */
         if (ok && !bson_equal (&out, &out_arena)) {
            /* what adpe times must be what dpe times */
            bson_set_error (error, 0, 0, "document %zu (%s): odm_prepare_arena gives other bytes than odm_prepare", i,
                            schema->collection);
            ok = false;
         }
         if (ok) {
            bson_destroy (set->items[i].doc);
            set->items[i].doc = bson_copy (&out);
            set->bytes += out.len;
         }
         bson_destroy (&out);
         bson_destroy (&out_arena);
      }
      odm_cleanup (schema, doc);
      bson_free (doc);
      bson_free (in_arena);
      odm_arena_reset (arena);
   }
   odm_arena_destroy (arena);
   return ok;
}

bool
odm_bench_set_dump (const odm_bench_set_t *set, FILE *out)
{
   size_t i;
   for (i = 0; i < set->count; i++) {
      char *json = bson_as_canonical_extended_json (set->items[i].doc, NULL);
      if (!json) {
         return false;
      }
      fprintf (out, "{\"collection\": \"%s\", \"doc\": %s}\n", set->items[i].schema->collection, json);
      bson_free (json);
   }
   return !ferror (out);
}

void
odm_bench_set_destroy (odm_bench_set_t *set)
{
   size_t i;
   for (i = 0; i < set->count; i++) {
      bson_destroy (set->items[i].doc);
   }
   bson_free (set->items);
   memset (set, 0, sizeof *set);
}
