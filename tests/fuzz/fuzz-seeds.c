/* Writes the seed corpora of the libFuzzer harnesses and their dictionary from the
 * fixtures (tests/data/<collection>.{full,min}.json) and the schemas:
 *   fuzz_seeds DATA_DIR OUT_DIR DICT
 * creates OUT_DIR/<harness>/<name> (decode, validate, update, keys, filter, indexes, view) and the
 * dictionary DICT. tests/fuzz/corpus and tests/fuzz/odm.dict are this program's output;
 * regenerate them when the fixtures or the specs change:
 *   build-fuzz/tests/fuzz/fuzz_seeds tests/data tests/fuzz/corpus tests/fuzz/odm.dict */
#include "fuzz-common.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

static const char *out_dir, *dict_path;

static void
mkdir_or_die (const char *path)
{
   if (mkdir (path, 0777) != 0 && errno != EEXIST) {
      perror (path);
      exit (1);
   }
}

static void
write_seed (const char *harness, const char *name, uint8_t first, const void *a, size_t alen, const void *b,
            size_t blen)
{
   char path[1024];
   FILE *f;
   snprintf (path, sizeof path, "%s/%s/%s", out_dir, harness, name);
   if (!(f = fopen (path, "wb")) || fwrite (&first, 1, 1, f) != 1 || fwrite (a, 1, alen, f) != alen ||
       (blen && fwrite (b, 1, blen, f) != blen) || fclose (f) != 0) {
      perror (path);
      exit (1);
   }
}

static bson_t *
fixture (const char *data_dir, const char *collection, const char *variant)
{
   char path[1024];
   bson_error_t err;
   bson_json_reader_t *r;
   bson_t *b = bson_new ();
   snprintf (path, sizeof path, "%s/%s.%s.json", data_dir, collection, variant);
   if (!(r = bson_json_reader_new_from_file (path, &err)) || bson_json_reader_read (r, b, &err) != 1) {
      fprintf (stderr, "fuzz_seeds: %s: %s\n", path, err.message);
      exit (1);
   }
   bson_json_reader_destroy (r);
   return b;
}

/* An update touching every top-level field of FULL, operators chosen by type in turn. */
static void
combined_update (const bson_t *full, bson_t *update)
{
   static const char *const ops[] = {"$set", "$unset", "$inc", "$mul", "$min", "$max", "$push", "$addToSet",
                                     "$pull", "$pop", "$currentDate"};
   enum { SET, UNSET, INC, MUL, MIN, MAX, PUSH, ADD, PULL, POP, NOW, NOPS };
   bson_t parts[NOPS];
   bson_iter_t it;
   unsigned counter[4] = {0}, k;
   for (k = 0; k < NOPS; k++) {
      bson_init (&parts[k]);
   }
   bson_iter_init (&it, full);
   while (bson_iter_next (&it)) {
      const char *key = bson_iter_key (&it);
      if (!strcmp (key, "_id")) {
         continue;
      }
      if (BSON_ITER_HOLDS_NUMBER (&it)) {
         static const int cycle[] = {INC, MUL, MIN, MAX, SET};
         int op = cycle[counter[0]++ % 5];
         if (op == INC || op == MUL) {
            BSON_APPEND_INT32 (&parts[op], key, op == INC ? 1 : 2);
         } else {
            bson_append_iter (&parts[op], key, -1, &it);
         }
      } else if (BSON_ITER_HOLDS_ARRAY (&it)) {
         static const int cycle[] = {PUSH, ADD, PULL, POP};
         int op = cycle[counter[1]++ % 4];
         bson_iter_t el;
         if (!bson_iter_recurse (&it, &el) || !bson_iter_next (&el)) {
            bson_append_iter (&parts[SET], key, -1, &it);
         } else if (op == POP) {
            BSON_APPEND_INT32 (&parts[POP], key, 1);
         } else {
            bson_append_iter (&parts[op], key, -1, &el);
         }
      } else if (BSON_ITER_HOLDS_DATE_TIME (&it)) {
         if (counter[2]++ % 2) {
            BSON_APPEND_BOOL (&parts[NOW], key, true);
         } else {
            bson_append_iter (&parts[SET], key, -1, &it);
         }
      } else if (counter[3]++ % 4 == 3) {
         BSON_APPEND_UTF8 (&parts[UNSET], key, "");
      } else {
         bson_append_iter (&parts[SET], key, -1, &it);
      }
   }
   bson_init (update);
   for (k = 0; k < NOPS; k++) {
      if (!bson_empty (&parts[k])) {
         BSON_APPEND_DOCUMENT (update, ops[k], &parts[k]);
      }
      bson_destroy (&parts[k]);
   }
}

/* A filter over the first top-level fields of FULL with the common query operators. */
static void
operator_filter (const bson_t *full, bson_t *filter)
{
   static const char *const ops[] = {"$gte", "$in", "$exists", "$ne", "$regex"};
   bson_iter_t it;
   bson_t and, or, cond, arr;
   unsigned k = 0;
   bson_init (filter);
   BSON_APPEND_ARRAY_BEGIN (filter, "$and", &and);
   bson_iter_init (&it, full);
   while (bson_iter_next (&it) && k < 5) {
      const char *key = bson_iter_key (&it);
      char idx[16];
      bson_t one;
      if (!strcmp (key, "_id")) {
         continue;
      }
      bson_snprintf (idx, sizeof idx, "%u", k);
      BSON_APPEND_DOCUMENT_BEGIN (&and, idx, &one);
      BSON_APPEND_DOCUMENT_BEGIN (&one, key, &cond);
      switch (k) {
      case 1:
         BSON_APPEND_ARRAY_BEGIN (&cond, ops[k], &arr);
         bson_append_iter (&arr, "0", 1, &it);
         bson_append_array_end (&cond, &arr);
         break;
      case 2: BSON_APPEND_BOOL (&cond, ops[k], true); break;
      case 3: BSON_APPEND_NULL (&cond, ops[k]); break;
      case 4:
         BSON_APPEND_UTF8 (&cond, ops[k], "^a");
         BSON_APPEND_UTF8 (&cond, "$options", "i");
         break;
      default: bson_append_iter (&cond, ops[k], -1, &it); break;
      }
      bson_append_document_end (&one, &cond);
      bson_append_document_end (&and, &one);
      k++;
   }
   bson_append_array_end (filter, &and);
   BSON_APPEND_ARRAY_BEGIN (filter, "$or", &or);
   BSON_APPEND_DOCUMENT_BEGIN (&or, "0", &cond);
   BSON_APPEND_INT32 (&cond, "__v", 0);
   bson_append_document_end (&or, &cond);
   bson_append_array_end (filter, &or);
}

/* listIndexes as a server would answer for S: _id_ and every wanted index; with SKIP
 * (an index number) that one left out and an extra one added, FLIP one unique inverted. */
static void
listed_indexes (const odm_schema_t *s, int skip, int flip, bson_t *out)
{
   uint32_t i, k = 0;
   bson_t e, kd;
   char key[16];
   bson_init (out);
   BSON_APPEND_DOCUMENT_BEGIN (out, "0", &e);
   BSON_APPEND_INT32 (&e, "v", 2);
   BSON_APPEND_DOCUMENT_BEGIN (&e, "key", &kd);
   BSON_APPEND_INT32 (&kd, "_id", 1);
   bson_append_document_end (&e, &kd);
   BSON_APPEND_UTF8 (&e, "name", "_id_");
   bson_append_document_end (out, &e);
   for (i = 0; i < s->index_count; i++) {
      bson_t *keys;
      bool unique = s->indexes[i].unique != ((int) i == flip);
      if (!odm_index_wanted (&s->indexes[i]) || (int) i == skip) {
         continue;
      }
      keys = bson_new_from_json ((const uint8_t *) s->indexes[i].keys_json, -1, NULL);
      bson_snprintf (key, sizeof key, "%u", ++k);
      BSON_APPEND_DOCUMENT_BEGIN (out, key, &e);
      BSON_APPEND_INT32 (&e, "v", 2);
      BSON_APPEND_DOCUMENT (&e, "key", keys);
      BSON_APPEND_UTF8 (&e, "name", s->indexes[i].name);
      if (unique) {
         BSON_APPEND_BOOL (&e, "unique", true);
      }
      bson_append_document_end (out, &e);
      bson_destroy (keys);
   }
   if (skip >= 0) {
      bson_snprintf (key, sizeof key, "%u", ++k);
      BSON_APPEND_DOCUMENT_BEGIN (out, key, &e);
      BSON_APPEND_INT32 (&e, "v", 2);
      BSON_APPEND_DOCUMENT_BEGIN (&e, "key", &kd);
      BSON_APPEND_INT32 (&kd, "extraField", -1);
      bson_append_document_end (&e, &kd);
      BSON_APPEND_UTF8 (&e, "name", "extraField_-1");
      bson_append_document_end (out, &e);
   }
}

/* ------------------------------------------------------------------ dictionary */

static char **dict;
static size_t dict_n, dict_cap;

static void
dict_add (const char *word)
{
   size_t i;
   if (!word || !*word || strlen (word) > 64) {
      return;
   }
   for (i = 0; i < dict_n; i++) {
      if (!strcmp (dict[i], word)) {
         return;
      }
   }
   if (dict_n == dict_cap) {
      dict_cap = dict_cap ? dict_cap * 2 : 256;
      dict = realloc (dict, dict_cap * sizeof *dict);
   }
   dict[dict_n++] = strdup (word);
}

static void
dict_object (const odm_object_desc_t *d, int depth)
{
   uint32_t i, k;
   for (i = 0; i < d->field_count && depth < 8; i++) {
      const odm_field_t *f = &d->fields[i];
      dict_add (f->name);
      for (k = 0; k < f->enum_count; k++) {
         dict_add (f->enum_values[k]);
      }
      if (f->kind == ODM_KIND_OBJECT && f->object) {
         dict_object (f->object, depth + 1);
      }
   }
}

static void
dict_write (void)
{
   static const char *const fixed[] = {
      /* update operators and modifiers */
      "$set", "$unset", "$inc", "$mul", "$min", "$max", "$push", "$addToSet", "$pull", "$pop",
      "$currentDate", "$setOnInsert", "$rename", "$each", "$position", "$slice", "$sort", "$type",
      "$in", "$eq", "$ne", "$gt", "$lt", "$exists", "$", "$[]", "$[x]", ".0.", ".", "timestamp",
      /* query operators */
      "$gte", "$lte", "$nin", "$and", "$or", "$nor", "$not", "$expr", "$elemMatch", "$regex", "$all",
      "$size", "$mod", "$where", "$function", "$accumulator", "$comment", "$text", "__v",
      /* Extended JSON */
      "$oid", "$date", "$numberLong", "$numberInt", "$numberDouble", "$numberDecimal", "$binary",
      "$base64", "$subType", "$regularExpression", "$pattern", "$options", "$timestamp", "$symbol",
      "$code", "$scope", "$dbPointer", "$ref", "$id", "$minKey", "$maxKey", "$undefined", "$uuid",
      "Infinity", "-Infinity", "NaN", "true", "false", "null", "1e308", "-0", "9223372036854775807",
      "18446744073709551616", "1970-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z",
      "507f1f77bcf86cd799439011",
      /* index listings */
      "key", "name", "unique", "v", "_id_", "sparse", "partialFilterExpression", "2dsphere", "text",
      "hashed"};
   size_t i, k;
   FILE *f;
   for (i = 0; i < sizeof fixed / sizeof *fixed; i++) {
      dict_add (fixed[i]);
   }
   if (!(f = fopen (dict_path, "w"))) {
      perror (dict_path);
      exit (1);
   }
   fprintf (f, "# libFuzzer dictionary for the libodm harnesses, written by fuzz_seeds:\n"
               "# operators, Extended JSON keywords, the specs' field names and enum values.\n");
   for (i = 0; i < dict_n; i++) {
      fputc ('"', f);
      for (k = 0; dict[i][k]; k++) {
         unsigned char c = (unsigned char) dict[i][k];
         if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            fprintf (f, "\\x%02X", c);
         } else {
            fputc (c, f);
         }
      }
      fputs ("\"\n", f);
      free (dict[i]);
   }
   free (dict);
   fclose (f);
}

int
main (int argc, char **argv)
{
   static const char *const harnesses[] = {"decode", "validate", "update", "keys", "filter", "indexes", "view"};
   size_t n, i, h;
   const odm_schema_t *const *all = odm_schemas (&n);
   char dir[1024];

   if (argc != 4) {
      fprintf (stderr, "usage: fuzz_seeds DATA_DIR OUT_DIR DICT\n");
      return 2;
   }
   out_dir = argv[2];
   dict_path = argv[3];
   mkdir_or_die (out_dir);
   for (h = 0; h < sizeof harnesses / sizeof *harnesses; h++) {
      snprintf (dir, sizeof dir, "%s/%s", out_dir, harnesses[h]);
      mkdir_or_die (dir);
   }
   for (i = 0; i < n; i++) {
      const odm_schema_t *s = all[i];
      bson_t *full = fixture (argv[1], s->collection, "full");
      bson_t *min = fixture (argv[1], s->collection, "min");
      bson_t update, listed;
      char name[256], *j1, *j2, *lines;
      uint8_t b = (uint8_t) i;
      uint32_t k;

      dict_add (s->collection);
      dict_object (s->root, 0);

      snprintf (name, sizeof name, "%s-full", s->collection);
      write_seed ("decode", name, b, bson_get_data (full), full->len, NULL, 0);
      write_seed ("view", name, b, bson_get_data (full), full->len, NULL, 0);
      write_seed ("keys", name, b, bson_get_data (full), full->len, NULL, 0);
      snprintf (name, sizeof name, "%s-min", s->collection);
      write_seed ("decode", name, b, bson_get_data (min), min->len, NULL, 0);
      write_seed ("view", name, b, bson_get_data (min), min->len, NULL, 0);

      /* validate: the relaxed form of the full document, the canonical form of the minimal one */
      j1 = bson_as_relaxed_extended_json (full, NULL);
      j2 = bson_as_canonical_extended_json (min, NULL);
      lines = bson_strdup_printf ("%s\n%s\n", j1, j2);
      write_seed ("validate", s->collection, b, lines, strlen (lines), NULL, 0);
      bson_free (j1);
      bson_free (j2);
      bson_free (lines);

      /* update: every field of the full document touched; the minimal one completed */
      combined_update (full, &update);
      snprintf (name, sizeof name, "%s-ops", s->collection);
      write_seed ("update", name, b, bson_get_data (full), full->len, bson_get_data (&update), update.len);
      bson_destroy (&update);
      {
         bson_t set = BSON_INITIALIZER;
         bson_copy_to_excluding_noinit (full, &set, "_id", NULL);
         bson_init (&update);
         BSON_APPEND_DOCUMENT (&update, "$set", &set);
         snprintf (name, sizeof name, "%s-set", s->collection);
         write_seed ("update", name, b, bson_get_data (min), min->len, bson_get_data (&update), update.len);
         bson_destroy (&update);
         bson_destroy (&set);
      }

      /* filter: the minimal document as equalities; operators on the full one's fields */
      snprintf (name, sizeof name, "%s-eq", s->collection);
      write_seed ("filter", name, b, bson_get_data (min), min->len, NULL, 0);
      {
         bson_t f;
         operator_filter (full, &f);
         snprintf (name, sizeof name, "%s-ops", s->collection);
         write_seed ("filter", name, b, bson_get_data (&f), f.len, NULL, 0);
         bson_destroy (&f);
      }

      /* indexes: the exact listing, then one missing + one extra + one unique flipped */
      for (k = 0; k < 2; k++) {
         listed_indexes (s, k ? 0 : -1, k ? (int) s->index_count - 1 : -1, &listed);
         snprintf (name, sizeof name, "%s-%s", s->collection, k ? "drift" : "exact");
         write_seed ("indexes", name, (uint8_t) (i + (k ? 0 : n)), bson_get_data (&listed), listed.len, NULL, 0);
         bson_destroy (&listed);
      }
      bson_destroy (full);
      bson_destroy (min);
   }

   /* hand-made edge seeds */
   {
      static const char *const lines[] = {
         "{\"x\":\n\n{}{}\n[1]\n{\"a\":1},\n",
         "{\"userId\":{\"$oid\":\"507f1f77bcf86cd799439011\"},\"theme\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}\r\n",
         "{\"_id\":{\"$oid\":\"zzzz\"},\"createdAt\":{\"$date\":{}},\"n\":18446744073709551619}",
         "{\"a.b\":1,\"$x\":{\"$numberDecimal\":\"x\"},\"d\":{\"$date\":42}}\n"};
      const char *json = "{\"a.b\":1,\"$x\":{\"y.z\":[{\"$k\":1}]},\"ok\":{\"n\":1}}";
      bson_t *bad = bson_new_from_json ((const uint8_t *) json, -1, NULL);
      for (i = 0; i < sizeof lines / sizeof *lines; i++) {
         char name[32];
         snprintf (name, sizeof name, "edge-%zu", i);
         write_seed ("validate", name, (uint8_t) (i * 7), lines[i], strlen (lines[i]), NULL, 0);
      }
      write_seed ("keys", "edge-keys", 0, bson_get_data (bad), bad->len, NULL, 0);
      bson_destroy (bad);
      json = "{\"$where\":\"1\",\"$expr\":{\"$function\":{\"body\":\"x\"}},"
             "\"a\":{\"$elemMatch\":{\"b\":{\"$accumulator\":1}}},\"$nor\":[{\"c\":{\"$not\":{\"$gt\":1}}}]}";
      bad = bson_new_from_json ((const uint8_t *) json, -1, NULL);
      write_seed ("filter", "edge-js", 0, bson_get_data (bad), bad->len, NULL, 0);
      bson_destroy (bad);
   }
   dict_write ();
   return 0;
}
