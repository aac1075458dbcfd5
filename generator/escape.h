
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

/*
 * The same for a value that may hold "$", "{", "}", ";" (a rewrite's
 * replacement, a regex): printable ASCII, \ and " escaped; the caller
 * has checked its alphabet.  -1 if it does not fit or is not printable.
 */
int kngx_ngx_quote_vars(const char *s, char *out, size_t size);

/* DNS-1123 label check of s[0..len) */
int kngx_dns_label_ok(const char *s, size_t len);


/* ---- generated names (names.c) ------------------------------------------- */

#define KNGX_NAME_SIZE       1200   /* upstream names: the longest hash key
                                       escaped, with namespace, Service and
                                       port names, fits */
#define KNGX_NAME_CERT_MAX   200    /* certificate file base names (the
                                       file is NAME.pem, written through
                                       NAME.pem.tmp.PID) */

/*
 * "__lb-ewma", "__lb-least-conn", "__lb-hash-KEY" (escaped), or "" for
 * round robin (balance NULL), into out.  -1 if it does not fit.
 */
int kngx_name_variant(char *out, size_t size, const char *balance,
    const char *hash_by);

/* append "__p-PROTO" and, with ca, "-ca-CA" (escaped) to a variant */
int kngx_name_variant_proto(char *out, size_t size, const char *proto,
    const char *ca);

/* append "__cc-CERT" (escaped): a client certificate's own upstream */
int kngx_name_variant_cert(char *out, size_t size, const char *cert);

/* NS_SVC_PORT + variant; port_name NULL or "": the port number */
int kngx_name_upstream(char *out, size_t size, const char *ns,
    const char *svc, const char *port_name, int port, const char *variant);

/* the certificate file base name of Secret ns/name; size > CERT_MAX */
int kngx_name_cert(char *out, size_t size, const char *ns, const char *name);


typedef enum {
    KNGX_NAME_LABEL = 0,        /* DNS-1123 label: namespaces */
    KNGX_NAME_LABEL_1035,       /* DNS-1035 label: Services */
    KNGX_NAME_SUBDOMAIN,        /* DNS-1123 subdomain: most objects */
    KNGX_NAME_PORT              /* IANA service name: named ports */
} kngx_name_rule_e;

/* the API server's rule for a name; 0 ok, -1 with a static *why */
int kngx_name_check(kngx_name_rule_e rule, const char *s, const char **why);


/* ---- nginx variables (variables.c) --------------------------------------- */

/* whether nginx 1.22 (as Debian builds it) or our config defines it */
int kngx_ngx_variable_known(const char *name, size_t len);

/*
 * An upstream-hash-by key: $variables that nginx defines and literal
 * [A-Za-z0-9_.:/-], at most 256 bytes.  0 ok, -1 with *why.
 */
int kngx_hash_key_check(const char *key, const char **why);


/* ---- addresses (addr.c) -------------------------------------------------- */

/*
 * 1 if addr (struct in_addr / in6_addr bytes) is loopback, unspecified,
 * link-local, multicast, reserved or broadcast (IPv4-mapped IPv6 too).
 */
int kngx_addr_forbidden(int family, const void *addr);

/*
 * An ExternalName: a DNS name, not an IPv4 address in any spelling
 * inet_aton() reads, not localhost or *.localhost.  0 ok, -1 with *why.
 */
int kngx_external_name_check(const char *name, const char **why);


/* ---- the resolver (resolver.c) ------------------------------------------- */

/*
 * --resolver ADDR[,ADDR]: IP addresses with optional :PORT, written into
 * out as nginx's resolver arguments ("10.0.0.10 [fd00::1]:53").
 * 0 ok, -1 with *why.
 */
int kngx_resolver_parse(const char *flag, char *out, size_t size,
    const char **why);

/* the usable "nameserver" addresses of resolv.conf text; -1: none */
int kngx_resolv_conf_parse(const char *text, char *out, size_t size);
int kngx_resolv_conf_read(const char *path, char *out, size_t size);


/* ---- certificates (tls_check.c) ------------------------------------------ */

/*
 * Load tls.crt and tls.key as nginx loads the file kubengx writes for
 * them; 0 when nginx would accept them, else -1 and the reason in why.
 */
int kngx_tls_check(const char *cert, size_t cert_len, const char *key,
    size_t key_len, char *why, size_t size);

/*
 * Whether OpenSSL (and so nginx's ssl_ciphers, proxy_ssl_ciphers) takes
 * the cipher list v: 1 yes, 0 no (it selects no cipher), -1 out of
 * memory.  The caller checks its alphabet first.
 */
int kngx_tls_ciphers_ok(const char *v);

#endif /* KNGX_ESCAPE_H */
