/* JavaScript regular expressions on PCRE2, one way for both odmgen (which refuses a spec
 * whose pattern does not compile) and the runtime (src/odm-regex.c, which matches): the
 * same options, so a pattern the generator accepts is one the runtime compiles. Private. */
#ifndef ODM_REGEX_JS_H
#define ODM_REGEX_JS_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include <odm/odm-vocabulary.h>

/* Compiles SOURCE (JavaScript syntax) with FLAGS (ODM_REGEX_*): UTF-8, `$` only at the end,
 * \uhhhh and \u{h...} escapes, a back reference to an unset group matching "". NULL when it
 * does not compile (*ERR and *OFF say why and where). */
static inline pcre2_code *
odm_regex_js_compile (const char *source, uint32_t flags, int *err, PCRE2_SIZE *off)
{
   uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF;
   pcre2_compile_context *cc = pcre2_compile_context_create (NULL);
   pcre2_code *code;
   if (!cc) {
      *err = PCRE2_ERROR_NOMEMORY;
      *off = 0;
      return NULL;
   }
   pcre2_set_compile_extra_options (cc, PCRE2_EXTRA_ALT_BSUX);
#define ODM_REGEX_JS_X(letter, flag, option)                                                                     \
   if (flags & (flag)) {                                                                                          \
      opts |= (option);                                                                                           \
   }
   ODM_REGEX_LETTERS (ODM_REGEX_JS_X)
#undef ODM_REGEX_JS_X
   code = pcre2_compile ((PCRE2_SPTR) source, PCRE2_ZERO_TERMINATED, opts, err, off, cc);
   pcre2_compile_context_free (cc);
   return code;
}

#endif /* ODM_REGEX_JS_H */
