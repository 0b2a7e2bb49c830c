/* libFuzzer harness over every collection's decoder, validator, pre-save path and
 * encoder. Input: one byte choosing the collection, then BSON bytes.
 * Promises checked: no crash, no leak, no out-of-bounds read on any input; a decoded
 * document re-encodes, and decoding that encoding gives the same bytes again; a failed
 * decode leaves the struct zeroed; error messages and violations are valid UTF-8; decoding
 * into an arena accepts and refuses exactly the same inputs, with the same error, its
 * document encodes to the same bytes, and prepared in the arena (odm_prepare_arena) it
 * gives the same answer, violations and bytes as odm_prepare gives the owned one. */
#include "fuzz-common.h"
#include "../same-ids.h"

#include <stdint.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   size_t n;
   const odm_schema_t *const *all = odm_schemas (&n);
   const odm_schema_t *s;
   bson_t in;
   bson_error_t err = {0};
   void *doc, *doc2;
   uint32_t flags;

   if (size < 6) {
      return 0;
   }
   s = all[data[0] % n];
   flags = (data[0] / n) % 2 ? ODM_DECODE_STRICT : ODM_DECODE_DEFAULT;
   if (!bson_init_static (&in, data + 1, size - 1)) {
      return 0;
   }
   doc = malloc (s->root->size);
   doc2 = malloc (s->root->size);
   {
      /* the arena decode first: same verdict and error as the owning decode below */
      static odm_arena_t *arena;
      bson_error_t err_a = {0}, err_o = {0};
      bool ok_a, ok_o;
      if (!arena) {
         arena = odm_arena_new (0);
      }
      ok_a = odm_from_bson_arena (s, &in, doc2, flags, arena, &err_a);
      ok_o = odm_from_bson (s, &in, doc, flags, &err_o);
      if (ok_a != ok_o || (!ok_a && (err_a.code != err_o.code || strcmp (err_a.message, err_o.message) != 0))) {
         fprintf (stderr, "fuzz: %s: the arena decode says %d (%s), the owning one %d (%s)\n", s->collection, ok_a,
                  err_a.message, ok_o, err_o.message);
         abort ();
      }
      if (ok_a) {
         bson_t a, o;
         if (!odm_to_bson (s, doc2, &a, NULL) || !odm_to_bson (s, doc, &o, NULL) || !bson_equal (&a, &o)) {
            fprintf (stderr, "fuzz: %s: the arena's document encodes differently\n", s->collection);
            abort ();
         }
         bson_destroy (&a);
         bson_destroy (&o);
         {
            odm_prepare_opts_t popts = {.now_ms = FUZZ_NOW_MS};
            odm_violations_t va, vo;
            bool pa = odm_prepare_arena (s, doc2, arena, &popts, &va);
            bool po = odm_prepare (s, doc, &popts, &vo);
            bool ea, eo;
            if (pa != po || va.count != vo.count) {
               fprintf (stderr, "fuzz: %s: odm_prepare_arena says %d (%zu violations), odm_prepare %d (%zu)\n",
                        s->collection, pa, va.count, po, vo.count);
               abort ();
            }
            fuzz_check_violations ("prepare_arena", &va);
            odm_violations_cleanup (&va);
            odm_violations_cleanup (&vo);
            odm_same_ids (s->root, doc2, doc); /* each prepare made its own _ids */
            ea = odm_to_bson (s, doc2, &a, NULL);
            eo = odm_to_bson (s, doc, &o, NULL);
            if (ea != eo || (ea && !bson_equal (&a, &o))) {
               char *ja = ea ? bson_as_relaxed_extended_json (&a, NULL) : NULL;
               char *jo = eo ? bson_as_relaxed_extended_json (&o, NULL) : NULL;
               fprintf (stderr, "fuzz: %s: the arena's prepared document encodes differently:\n%s\n%s\n",
                        s->collection, ja ? ja : "(refused)", jo ? jo : "(refused)");
               abort ();
            }
            bson_destroy (&a);
            bson_destroy (&o);
         }
         odm_cleanup (s, doc);
      }
      odm_arena_reset (arena);
   }
   if (odm_from_bson (s, &in, doc, flags, &err)) {
      bson_t out1, out2;
      odm_violations_t v;
      odm_prepare_opts_t opts = {.now_ms = FUZZ_NOW_MS};

      odm_validate (s, doc, NULL, &v);
      fuzz_check_violations ("decode", &v);
      odm_violations_cleanup (&v);
      if (!odm_to_bson (s, doc, &out1, &err)) {
         fprintf (stderr, "fuzz: %s: encode failed: %s\n", s->collection, err.message);
         abort ();
      }
      if (!odm_from_bson (s, &out1, doc2, flags, &err)) {
         fprintf (stderr, "fuzz: %s: re-decode failed: %s\n", s->collection, err.message);
         if (getenv ("ODM_FUZZ_DUMP")) {
            size_t b;
            for (b = 0; b < in.len; b++) fprintf (stderr, "%02x", bson_get_data (&in)[b]);
            fprintf (stderr, "\n");
            for (b = 0; b < out1.len; b++) fprintf (stderr, "%02x", bson_get_data (&out1)[b]);
            fprintf (stderr, "\n");
         }
         abort (); /* what we encode, we decode */
      }
      if (!odm_to_bson (s, doc2, &out2, &err) || out1.len != out2.len ||
          memcmp (bson_get_data (&out1), bson_get_data (&out2), out1.len) != 0) {
         abort (); /* encode is stable */
      }
      bson_destroy (&out1);
      bson_destroy (&out2);
      odm_cleanup (s, doc2);
      odm_prepare (s, doc, &opts, &v);
      fuzz_check_violations ("decode", &v);
      odm_violations_cleanup (&v);
      if (!odm_to_bson (s, doc, &out1, &err)) {
         fprintf (stderr, "fuzz: %s: encode failed: %s\n", s->collection, err.message);
         abort ();
      }
      bson_destroy (&out1);
      odm_cleanup (s, doc);
   } else {
      /* A failed decode leaves the struct empty, and says why in UTF-8. */
      size_t i;
      fuzz_check_error ("decode", &err);
      for (i = 0; i < s->root->size; i++) {
         if (((unsigned char *) doc)[i] != 0) {
            abort ();
         }
      }
   }
   free (doc);
   free (doc2);
   return 0;
}
