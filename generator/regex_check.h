
/*
 * kubengx generator: regular expressions from manifests, checked with
 * PCRE2, the library nginx compiles them with, before they reach the
 * config.
 */

#ifndef KNGX_REGEX_CHECK_H
#define KNGX_REGEX_CHECK_H


#define KNGX_REGEX_MAX  1024


/*
 * 0 when nginx would compile re (PCRE2, the options nginx uses; caseless
 * for "~*"), it is printable ASCII without spaces, at most KNGX_REGEX_MAX
 * bytes, and has no named groups (nginx turns each name into a variable,
 * which could clash with or overwrite another one); *groups: its capture
 * groups.  Else -1 and *why (valid until the next call).
 */
int kngx_regex_check(const char *re, int caseless, unsigned *groups,
    const char **why);


#endif /* KNGX_REGEX_CHECK_H */
