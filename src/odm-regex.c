/* The "pattern" rule with a spec's own regular expression: PCRE2, set up to read
 * JavaScript's syntax the way JavaScript does in the common cases (odm-rules.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "odm-private.h"

#include <pcre2.h>
#include <string.h>

static pcre2_code *
compile (const odm_regex_t *re)
{
   int err;
   PCRE2_SIZE off;
   pcre2_code *code;
   pcre2_compile_context *cc = pcre2_compile_context_create (NULL);
   uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF;
   if (!cc) {
      return NULL;
   }
   /* \u{hhh} as well as \uhhhh (JavaScript's /u escapes) */
   pcre2_set_compile_extra_options (cc, PCRE2_EXTRA_ALT_BSUX);
   if (re->flags & ODM_REGEX_IGNORE_CASE) {
      opts |= PCRE2_CASELESS;
   }
   if (re->flags & ODM_REGEX_MULTILINE) {
      opts |= PCRE2_MULTILINE;
   }
   if (re->flags & ODM_REGEX_DOT_ALL) {
      opts |= PCRE2_DOTALL;
   }
   code = pcre2_compile ((PCRE2_SPTR) re->source, PCRE2_ZERO_TERMINATED, opts, &err, &off, cc);
   pcre2_compile_context_free (cc);
   return code;
}

bool
odm_regex_match (odm_regex_t *re, const char *s)
{
   pcre2_code *code;
   pcre2_match_data *md;
   int rc;
   if (!re || !re->source || !s) {
      return false;
   }
   code = __atomic_load_n ((pcre2_code **) &re->compiled, __ATOMIC_ACQUIRE);
   if (!code) {
      pcre2_code *mine = compile (re), *expected = NULL;
      if (!mine) {
         return false;
      }
      /* Another thread may have compiled it meanwhile: keep the first. The compiled code
       * lives as long as the process (one per pattern rule). */
      if (__atomic_compare_exchange_n ((pcre2_code **) &re->compiled, &expected, mine, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE)) {
         code = mine;
      } else {
         pcre2_code_free (mine);
         code = expected;
      }
   }
   md = pcre2_match_data_create_from_pattern (code, NULL);
   if (!md) {
      return false;
   }
   /* Invalid UTF-8 never reaches here (decode refuses it); PCRE2 would report it, not crash. */
   rc = pcre2_match (code, (PCRE2_SPTR) s, strlen (s), 0, 0, md, NULL);
   pcre2_match_data_free (md);
   return rc >= 0;
}

void
odm_regex_cleanup (odm_regex_t *re)
{
   if (re) {
      pcre2_code_free (__atomic_exchange_n ((pcre2_code **) &re->compiled, NULL, __ATOMIC_ACQ_REL));
   }
}

void
odm_rule_regex (odm_rule_ctx_t *ctx, const char *path, const char *s, odm_regex_t *re, const char *msg)
{
   /* As Mongoose's match validator: null and "" pass (required is another rule). */
   if (s && *s && !odm_regex_match (re, s)) {
      odm_violations_add (ctx->out, path, "pattern", msg);
   }
}
