
/*
 * kubengx generator: regular expressions checked with PCRE2 as nginx
 * 1.22 compiles them (src/core/ngx_regex.c: pcre2_compile() with
 * PCRE2_CASELESS for "~*" and nothing else), so that a regex nginx would
 * refuse never fails "nginx -t" for everyone.
 */

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "regex_check.h"


int
kngx_regex_check(const char *re, int caseless, unsigned *groups,
    const char **why)
{
    int                    rc;
    uint32_t               captures, names;
    PCRE2_SIZE             off;
    pcre2_code            *code;
    const unsigned char   *p;
    static char            msg[200];
    PCRE2_UCHAR            err[120];

    for (p = (const unsigned char *) re; *p; p++) {
        if (*p <= 0x20 || *p > 0x7e) {
            *why = "has a space, a control byte or a byte outside ASCII";
            return -1;
        }
    }

    if ((size_t) (p - (const unsigned char *) re) > KNGX_REGEX_MAX) {
        *why = "is longer than 1024 bytes";
        return -1;
    }

    code = pcre2_compile((PCRE2_SPTR) re, PCRE2_ZERO_TERMINATED,
                         caseless ? PCRE2_CASELESS : 0, &rc, &off, NULL);
    if (code == NULL) {
        if (pcre2_get_error_message(rc, err, sizeof(err)) < 0) {
            snprintf((char *) err, sizeof(err), "error %d", rc);
        }
        snprintf(msg, sizeof(msg), "is not a regex nginx compiles (PCRE2: "
                 "%s at offset %zu)", (char *) err, (size_t) off);
        *why = msg;
        return -1;
    }

    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures) != 0
        || pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &names) != 0)
    {
        pcre2_code_free(code);
        *why = "could not be inspected (PCRE2)";
        return -1;
    }

    pcre2_code_free(code);

    if (names) {
        *why = "has a named group, which nginx would make a variable "
               "(use an unnamed group and $1..$9)";
        return -1;
    }

    *groups = captures;

    return 0;
}
