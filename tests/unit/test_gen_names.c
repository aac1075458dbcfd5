/*
 * Unit tests: generator/names.c, the names kubengx makes from namespace,
 * name and port.  Property: distinct inputs give distinct names (also
 * compared without case, as nginx compares upstream names), every name
 * decodes back to its parts, and every name fits its limits.  The inputs
 * are generated from pieces chosen to collide under a careless escape
 * ("a-b", "a_b", "a.b", prefixes, case, digits, the escape byte itself)
 * and names at every length limit.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "escape.h"
#include "model.h"


/* ---- a set of names ------------------------------------------------------- */

typedef struct {
    char   *name;
    char   *input;          /* what made it, for the failure message */
} entry_t;

typedef struct {
    entry_t  *items;
    size_t    size;         /* power of two */
    size_t    n;
} set_t;


static uint64_t
hash_lc(const char *s)
{
    uint64_t  h = 1469598103934665603ULL;

    for ( /* void */ ; *s; s++) {
        h = (h ^ (unsigned char) tolower((unsigned char) *s))
            * 1099511628211ULL;
    }

    return h;
}


static void
set_init(set_t *s, size_t size)
{
    s->items = calloc(size, sizeof(entry_t));
    assert_non_null(s->items);
    s->size = size;
    s->n = 0;
}


static void
set_free(set_t *s)
{
    size_t  i;

    for (i = 0; i < s->size; i++) {
        free(s->items[i].name);
        free(s->items[i].input);
    }

    free(s->items);
}


/* add name made from input; fail when another input made the same name
 * (without case); the same input twice is fine */
static void
set_add(set_t *s, const char *name, const char *input)
{
    size_t  j;

    assert_true(s->n * 2 < s->size);

    j = hash_lc(name) & (s->size - 1);

    while (s->items[j].name) {
        if (strcasecmp(s->items[j].name, name) == 0) {
            if (strcmp(s->items[j].input, input) != 0) {
                fail_msg("collision: %s and %s both give \"%s\"",
                         s->items[j].input, input, name);
            }
            return;
        }
        j = (j + 1) & (s->size - 1);
    }

    s->items[j].name = strdup(name);
    s->items[j].input = strdup(input);
    assert_non_null(s->items[j].name);
    assert_non_null(s->items[j].input);
    s->n++;
}


/* ---- decoding, the proof of reversibility --------------------------------- */

/* split name on "_" and undo ".hh"; returns the number of parts */
static int
decode(const char *name, char parts[][1300], int max)
{
    const char  *p;
    int          n = 0;
    size_t       k = 0;
    unsigned     v;

    parts[0][0] = '\0';

    for (p = name; *p; p++) {
        if (*p == '_') {
            parts[n][k] = '\0';
            if (++n == max) {
                return -1;
            }
            k = 0;
            continue;
        }

        if (*p == '.') {
            if (!isxdigit((unsigned char) p[1])
                || !isxdigit((unsigned char) p[2])
                || sscanf(p + 1, "%2x", &v) != 1)
            {
                return -1;
            }
            parts[n][k++] = (char) v;
            p += 2;
            continue;
        }

        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '-'))
        {
            return -1;
        }

        parts[n][k++] = *p;
    }

    parts[n][k] = '\0';

    return n + 1;
}


static int
all_digits(const char *s)
{
    if (*s == '\0') {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (!isdigit((unsigned char) *s)) {
            return 0;
        }
    }

    return 1;
}


/* the upstream name decodes to exactly its inputs */
static void
check_upstream_decodes(const char *name, const char *ns, const char *svc,
    const char *port_name, int port, const char *balance,
    const char *hash_by)
{
    static char  parts[6][1300];
    char         want[1300];
    const char  *p;
    size_t       len;
    int          n;

    n = decode(name, parts, 6);
    if (n != 3 && n != 5) {
        fail_msg("\"%s\" has %d parts", name, n);
    }

    assert_string_equal(parts[0], ns);
    assert_string_equal(parts[1], svc);

    if (port_name && port_name[0]) {
        assert_string_equal(parts[2], port_name);

        /* a name is never written as a number */
        p = strchr(strchr(name, '_') + 1, '_') + 1;
        len = strcspn(p, "_");
        snprintf(want, sizeof(want), "%.*s", (int) len, p);
        assert_false(all_digits(want));

    } else {
        snprintf(want, sizeof(want), "%d", port);
        assert_string_equal(parts[2], want);
    }

    if (balance == NULL && hash_by == NULL) {
        assert_int_equal(n, 3);
        return;
    }

    assert_int_equal(n, 5);
    assert_string_equal(parts[3], "");

    if (hash_by) {
        snprintf(want, sizeof(want), "lb-hash-%s", hash_by);
    } else {
        snprintf(want, sizeof(want), "lb-%s",
                 strcmp(balance, "least_conn") == 0 ? "least-conn"
                                                    : balance);
    }

    assert_string_equal(parts[4], want);
}


/* ---- the inputs ----------------------------------------------------------- */

static const char  *pieces[] = {
    "a", "b", "-", "_", ".", "A", "0", "8", "x", "2e", ".2e", "5f", "__",
    "lb", "web", NULL
};


/* every string of 1 to 3 pieces; returns the count, strings in out */
static size_t
gen_strings(char out[][16], size_t max)
{
    size_t  n = 0, i, j, k;

    for (i = 0; pieces[i]; i++) {
        snprintf(out[n++], 16, "%s", pieces[i]);

        for (j = 0; pieces[j]; j++) {
            snprintf(out[n++], 16, "%s%s", pieces[i], pieces[j]);

            for (k = 0; pieces[k] && n < max; k++) {
                snprintf(out[n++], 16, "%s%s%s", pieces[i], pieces[j],
                         pieces[k]);
            }
        }
    }

    assert_true(n <= max);

    return n;
}


static void
test_regressions(void **state)
{
    char  a[KNGX_NAME_SIZE], b[KNGX_NAME_SIZE + 32];

    (void) state;

    /* the collision of issue 13: team + a-web and team-a + web */
    assert_int_equal(kngx_name_upstream(a, sizeof(a), "team", "a-web", NULL,
                                        80, ""), 0);
    assert_int_equal(kngx_name_upstream(b, sizeof(b), "team-a", "web", NULL,
                                        80, ""), 0);
    assert_string_not_equal(a, b);
    assert_string_equal(a, "team_a-web_80");
    assert_string_equal(b, "team-a_web_80");

    assert_int_equal(kngx_name_cert(a, sizeof(a), "team", "a-tls"), 0);
    assert_int_equal(kngx_name_cert(b, sizeof(b), "team-a", "tls"), 0);
    assert_string_not_equal(a, b);

    /* a port named "80" is not port 80 */
    assert_int_equal(kngx_name_upstream(a, sizeof(a), "ns", "svc", "80", 0,
                                        ""), 0);
    assert_int_equal(kngx_name_upstream(b, sizeof(b), "ns", "svc", NULL, 80,
                                        ""), 0);
    assert_string_not_equal(a, b);
    assert_string_equal(a, "ns_svc_.380");

    /* the dispatch upstreams never meet a Service's */
    assert_int_equal(kngx_name_variant(a, sizeof(a), "ewma", NULL), 0);
    snprintf(b, sizeof(b), KNGX_DISPATCH_NAME "%s", a);
    assert_string_equal(b, "kubengx_dispatch__lb-ewma");
    assert_int_equal(kngx_name_upstream(a, sizeof(a), "kubengx", "dispatch",
                                        "lb-ewma", 0, ""), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(kngx_name_upstream(a, sizeof(a), "kubengx", "dispatch",
                                        NULL, 0, ""), 0);
    assert_string_not_equal(a, KNGX_DISPATCH_NAME);

    /* hash keys: the whole key, not a 32-bit digest of it */
    assert_int_equal(kngx_name_variant(a, sizeof(a), "hash",
                                       "$request_uri"), 0);
    assert_string_equal(a, "__lb-hash-.24request.5furi");
    assert_int_equal(kngx_name_variant(a, sizeof(a), "least_conn", NULL), 0);
    assert_string_equal(a, "__lb-least-conn");
    assert_int_equal(kngx_name_variant(a, sizeof(a), NULL, NULL), 0);
    assert_string_equal(a, "");

    /* a client certificate: a segment of its own after "__", so that a
     * CA name holding "-cc-" never reads as one */
    assert_int_equal(kngx_name_variant(a, sizeof(a), NULL, NULL), 0);
    assert_int_equal(kngx_name_variant_proto(a, sizeof(a), "https",
                                             "ca+ns_x"), 0);
    assert_int_equal(kngx_name_variant_cert(a, sizeof(a), "ns_c"), 0);
    assert_string_equal(a, "__p-https-ca-ca.2bns.5fx__cc-ns.5fc");
    assert_int_equal(kngx_name_variant(b, sizeof(b), NULL, NULL), 0);
    assert_int_equal(kngx_name_variant_proto(b, sizeof(b), "https",
                                             "ca+ns_x-cc-ns.5fc"), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(kngx_name_variant(b, sizeof(b), NULL, NULL), 0);
    assert_int_equal(kngx_name_variant_proto(b, sizeof(b), "https", NULL),
                     0);
    assert_int_equal(kngx_name_variant_cert(b, sizeof(b), "ns_c"), 0);
    assert_string_equal(b, "__p-https__cc-ns.5fc");
}


static void
test_upstream_names_injective(void **state)
{
    static char   strs[4096][16];
    static const char  *methods[] = { NULL, "ewma", "least_conn", "hash" };
    char          name[KNGX_NAME_SIZE + 32], variant[KNGX_NAME_SIZE];
    char          input[512];
    const char   *hash_by;
    set_t         set;
    size_t        n, i, j, m;
    int           port;

    (void) state;

    n = gen_strings(strs, 4096);
    set_init(&set, 1 << 21);

    /* namespace x Service over the generated strings; a few ports */
    for (i = 0; i < n; i += 3) {
        for (j = 0; j < n; j += 5) {
            port = (int) ((i + j) % 3);

            snprintf(input, sizeof(input), "(%s, %s, %s)", strs[i], strs[j],
                     port ? strs[(i * 7 + j) % n] : "80");
            assert_int_equal(kngx_name_upstream(name, sizeof(name), strs[i],
                                 strs[j], port ? strs[(i * 7 + j) % n] : NULL,
                                 80, ""), 0);
            set_add(&set, name, input);
            check_upstream_decodes(name, strs[i], strs[j],
                                   port ? strs[(i * 7 + j) % n] : NULL, 80,
                                   NULL, NULL);
        }
    }

    /* ports: every generated string as a name, and numbers */
    for (i = 0; i < n; i++) {
        snprintf(input, sizeof(input), "(ns, svc, name %s)", strs[i]);
        assert_int_equal(kngx_name_upstream(name, sizeof(name), "ns", "svc",
                                            strs[i], 0, ""), 0);
        set_add(&set, name, input);
    }

    for (port = 1; port <= 65535; port += 97) {
        snprintf(input, sizeof(input), "(ns, svc, number %d)", port);
        assert_int_equal(kngx_name_upstream(name, sizeof(name), "ns", "svc",
                                            NULL, port, ""), 0);
        set_add(&set, name, input);
    }

    /* methods and hash keys */
    for (i = 0; i < n; i += 2) {
        for (m = 0; m < 4; m++) {
            hash_by = methods[m] && strcmp(methods[m], "hash") == 0
                      ? strs[i] : NULL;
            assert_int_equal(kngx_name_variant(variant, sizeof(variant),
                                               methods[m], hash_by), 0);
            assert_int_equal(kngx_name_upstream(name, sizeof(name), "ns",
                                 strs[(i + m) % n], "http", 0, variant), 0);
            snprintf(input, sizeof(input), "(ns, %s, http, %s, %s)",
                     strs[(i + m) % n], methods[m] ? methods[m] : "rr",
                     hash_by ? hash_by : "-");
            set_add(&set, name, input);
            check_upstream_decodes(name, "ns", strs[(i + m) % n], "http", 0,
                                   methods[m], hash_by);

            /* the dispatch form of the same variant */
            snprintf(name, sizeof(name), KNGX_DISPATCH_NAME "%s", variant);
            snprintf(input, sizeof(input), "(dispatch, %s, %s)",
                     methods[m] ? methods[m] : "rr", hash_by ? hash_by : "-");
            set_add(&set, name, input);
        }
    }

    set_free(&set);
}


static void
test_names_at_length_limits(void **state)
{
    static const size_t  lens[] = { 1, 2, 15, 16, 62, 63, 64, 200, 252, 253,
                                    254 };
    char                 a[300], b[300], key[300];
    char                 name[KNGX_NAME_SIZE], variant[KNGX_NAME_SIZE];
    char                 input[700];
    set_t                set;
    size_t               i, j;
    const char          *p;

    (void) state;

    set_init(&set, 1 << 12);

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
            memset(a, 'a', lens[i]);
            a[lens[i]] = '\0';
            memset(b, 'b', lens[j]);
            b[lens[j]] = '\0';

            /* the last byte differs between variants: prefixes */
            assert_int_equal(kngx_name_cert(name, sizeof(name), a, b), 0);
            assert_true(strlen(name) <= KNGX_NAME_CERT_MAX);
            for (p = name; *p; p++) {
                assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz"
                                       "0123456789-._", *p));
            }
            snprintf(input, sizeof(input), "cert(%zu a, %zu b)", lens[i],
                     lens[j]);
            set_add(&set, name, input);

            b[lens[j] - 1] = '.';
            assert_int_equal(kngx_name_cert(name, sizeof(name), a, b), 0);
            assert_true(strlen(name) <= KNGX_NAME_CERT_MAX);
            snprintf(input, sizeof(input), "cert(%zu a, %zu b.)", lens[i],
                     lens[j]);
            set_add(&set, name, input);

            /* upstreams with the longest hash key */
            memset(key, 'k', 256);
            key[256] = '\0';
            key[0] = '$';
            key[lens[j] < 256 ? lens[j] : 255] = '_';
            assert_int_equal(kngx_name_variant(variant, sizeof(variant),
                                               "hash", key), 0);
            if (lens[i] <= 63 && lens[j] <= 63) {
                assert_int_equal(kngx_name_upstream(name, sizeof(name), a, b,
                                     b, 0, variant), 0);
                snprintf(input, sizeof(input), "up(%zu, %zu, key)",
                         lens[i], lens[j]);
                set_add(&set, name, input);
            }
        }
    }

    /* the worst case the plan can meet fits KNGX_NAME_SIZE: labels of 63
     * and a key of 256 bytes that all need escaping */
    memset(a, 'a', 63);
    a[63] = '\0';
    memset(key, '_', 256);
    key[256] = '\0';
    assert_int_equal(kngx_name_variant(variant, sizeof(variant), "hash", key),
                     0);
    assert_int_equal(kngx_name_upstream(name, sizeof(name), a, a, a, 0,
                                        variant), 0);

    /* a cut certificate name never equals the full name of other input */
    memset(a, 'a', 63);
    a[63] = '\0';
    memset(b, 'b', 253);
    b[253] = '\0';
    assert_int_equal(kngx_name_cert(name, sizeof(name), a, b), 0);
    assert_non_null(strstr(name, "__"));
    assert_int_equal(kngx_name_cert(name, sizeof(name), "team", "tls"), 0);
    assert_null(strstr(name, "__"));

    set_free(&set);
}


static void
test_cert_names_injective(void **state)
{
    static char   strs[4096][16];
    char          name[KNGX_NAME_SIZE], input[64];
    static char   parts[4][1300];
    set_t         set;
    size_t        n, i, j;

    (void) state;

    n = gen_strings(strs, 4096);
    set_init(&set, 1 << 21);

    for (i = 0; i < n; i += 2) {
        for (j = 0; j < n; j += 7) {
            assert_int_equal(kngx_name_cert(name, sizeof(name), strs[i],
                                            strs[j]), 0);
            snprintf(input, sizeof(input), "(%s, %s)", strs[i], strs[j]);
            set_add(&set, name, input);

            assert_int_equal(decode(name, parts, 4), 2);
            assert_string_equal(parts[0], strs[i]);
            assert_string_equal(parts[1], strs[j]);
        }
    }

    set_free(&set);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_regressions),
        cmocka_unit_test(test_upstream_names_injective),
        cmocka_unit_test(test_names_at_length_limits),
        cmocka_unit_test(test_cert_names_injective),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
