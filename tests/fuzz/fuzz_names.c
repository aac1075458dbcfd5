/*
 * libFuzzer target: the names kubengx makes (generator/names.c) are
 * injective.  The input is split into two tuples, each of namespace,
 * name, port (a name, or a number when it starts with "#"), balancing
 * method and hash key; when the tuples differ, their upstream names must
 * differ (also without case, as nginx compares upstream names), and so
 * must the certificate file names of (namespace, name).  Names must stay
 * within [a-z0-9_.-] and the certificate limit.
 *
 * Input: fields separated by "\n": ns1 name1 port1 method1 key1 ns2
 * name2 port2 method2 key2.  Method: "" (round robin), "ewma",
 * "least_conn", "hash" (with the key).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escape.h"
#include "model.h"


#define FN_FIELDS  10


typedef struct {
    const char  *ns;
    const char  *name;
    const char  *port_name;     /* NULL: a number */
    int          port;
    const char  *balance;
    const char  *hash_by;
} fn_tuple_t;


static void
fn_tuple(fn_tuple_t *t, char **f)
{
    static const char  *methods[] = { "ewma", "least_conn", "hash", NULL };
    int                 i;

    t->ns = f[0];
    t->name = f[1];

    if (f[2][0] == '#') {
        t->port_name = NULL;
        t->port = atoi(f[2] + 1) & 0xffff;
    } else {
        t->port_name = f[2];
        t->port = 0;
    }

    t->balance = NULL;
    t->hash_by = NULL;

    for (i = 0; methods[i]; i++) {
        if (strcmp(f[3], methods[i]) == 0) {
            t->balance = methods[i];
        }
    }

    if (t->balance && strcmp(t->balance, "hash") == 0) {
        t->hash_by = f[4];
    }
}


static int
fn_same(const fn_tuple_t *a, const fn_tuple_t *b)
{
    if (strcmp(a->ns, b->ns) != 0 || strcmp(a->name, b->name) != 0) {
        return 0;
    }

    /* an empty port name is the number (kngx_name_upstream) */
    if ((a->port_name && a->port_name[0]) != (b->port_name && b->port_name[0])
        || (a->port_name && a->port_name[0]
            && strcmp(a->port_name, b->port_name) != 0)
        || (!(a->port_name && a->port_name[0]) && a->port != b->port))
    {
        return 0;
    }

    if ((a->balance == NULL) != (b->balance == NULL)
        || (a->balance && strcmp(a->balance, b->balance) != 0))
    {
        return 0;
    }

    return (a->hash_by == NULL) == (b->hash_by == NULL)
           && (a->hash_by == NULL || strcmp(a->hash_by, b->hash_by) == 0);
}


static void
fn_check_chars(const char *s)
{
    for ( /* void */ ; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
              || *s == '_' || *s == '-' || *s == '.'))
        {
            abort();
        }
    }
}


static int
fn_upstream(const fn_tuple_t *t, char *out, size_t size)
{
    char  variant[KNGX_NAME_SIZE * 4];

    if (kngx_name_variant(variant, sizeof(variant), t->balance, t->hash_by)
        != 0)
    {
        return -1;
    }

    return kngx_name_upstream(out, size, t->ns, t->name, t->port_name,
                              t->port, variant);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char  a_name[KNGX_NAME_SIZE * 8], b_name[KNGX_NAME_SIZE * 8];
    char        *buf, *f[FN_FIELDS], *p;
    fn_tuple_t   a, b;
    int          i, ra, rb;

    buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data, size);
    buf[size] = '\0';

    p = buf;
    for (i = 0; i < FN_FIELDS; i++) {
        f[i] = p;
        p = strchr(p, '\n');
        if (p) {
            *p++ = '\0';
        } else {
            p = f[i] + strlen(f[i]);
        }
    }

    fn_tuple(&a, f);
    fn_tuple(&b, f + 5);

    /* upstream names */

    ra = fn_upstream(&a, a_name, sizeof(a_name));
    rb = fn_upstream(&b, b_name, sizeof(b_name));

    if (ra == 0) {
        fn_check_chars(a_name);
    }

    if (ra == 0 && rb == 0 && strcasecmp(a_name, b_name) == 0
        && !fn_same(&a, &b))
    {
        abort();        /* two inputs, one name */
    }

    /* the dispatch upstream of a variant is never a Service's */
    if (ra == 0 && strncmp(a_name, KNGX_DISPATCH_NAME,
                           sizeof(KNGX_DISPATCH_NAME) - 1) == 0
        && a_name[sizeof(KNGX_DISPATCH_NAME) - 1] == '_'
        && a_name[sizeof(KNGX_DISPATCH_NAME)] == '_')
    {
        abort();
    }

    /* certificate file names */

    ra = kngx_name_cert(a_name, sizeof(a_name), a.ns, a.name);
    rb = kngx_name_cert(b_name, sizeof(b_name), b.ns, b.name);

    if (ra != 0 || rb != 0) {
        abort();        /* always fits */
    }

    fn_check_chars(a_name);

    if (strlen(a_name) > KNGX_NAME_CERT_MAX) {
        abort();
    }

    if (strcmp(a_name, b_name) == 0
        && (strcmp(a.ns, b.ns) != 0 || strcmp(a.name, b.name) != 0))
    {
        abort();
    }

    free(buf);

    return 0;
}
