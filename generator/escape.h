
/*
 * kubengx generator: validation of manifest values and quoting for nginx
 * text and for messages.
 */

#ifndef KNGX_ESCAPE_H
#define KNGX_ESCAPE_H

#include <stddef.h>

#include "model.h"


/*
 * A value for a message: "..." with \, " and non-printable bytes escaped
 * (\xNN), cut at 80 bytes with "...".  Returns one of 8 rotating static
 * buffers, so a few may be used in one printf.
 */
const char *kngx_msg_quote(const char *s);

/*
 * Whether s may go into an nginx double-quoted string as is after
 * kngx_ngx_quote(): printable ASCII only (0x20-0x7e), no "$" (variables
 * are expanded in some directives), no "{", "}", ";".
 */
int kngx_ngx_safe(const char *s);

/*
 * Write s as an nginx double-quoted string ("..." with \ and " escaped)
 * into out; returns the length, or -1 if it does not fit or s is not
 * kngx_ngx_safe().
 */
int kngx_ngx_quote(const char *s, char *out, size_t size);

/* a generated identifier from parts: [a-z0-9_], other bytes become '_' */
void kngx_ident(char *out, size_t size, const char *a, const char *b,
    const char *c);

/* DNS-1123 label/subdomain checks, for names used in file names */
int kngx_dns_label_ok(const char *s, size_t len);

#endif /* KNGX_ESCAPE_H */
