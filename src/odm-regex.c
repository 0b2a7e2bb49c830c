/* The "pattern" rule with a spec's own regular expression: PCRE2, set up to read
 * JavaScript's syntax the way JavaScript does in the common cases (odm-rules.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "odm-private.h"

#include "odm-regex-js.h"
#include <string.h>

static pcre2_code *
compile (const odm_regex_t *re)
{
   int err;
   PCRE2_SIZE off;
   return odm_regex_js_compile (re->source, re->flags, &err, &off);
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
      odm_violations_add (ctx->out, path, ODM_RULE_NAME (pattern), msg);
   }
}
