
/*
 * kubengx generator: ingress-nginx's basic authentication annotations,
 * nginx's auth_basic module in each location of the Ingress:
 *
 *   auth-type          "basic" (required with auth-secret; "digest" has
 *                      no nginx module in Debian: the Ingress is not
 *                      served)
 *   auth-secret        "NAME" or "NS/NAME" of a Secret (any type) in the
 *                      Ingress's own namespace; another namespace's is
 *                      refused
 *   auth-secret-type   "auth-file" (default): the Secret's key "auth" is
 *                      an htpasswd file; "auth-map": each key is a user,
 *                      its value the password hash
 *   auth-realm         the realm ("" by default, as ingress-nginx):
 *                      printable ASCII without '"', '\' or '$', never
 *                      "off" (which would turn auth_basic off)
 *
 * The users are checked line by line and written normalized to a file
 * beside the certificates (output.c, mode 0600, the same atomic write):
 * NS_SECRET.auth for auth-file, NS_SECRET.authmap for auth-map (names.c's
 * cert base; "." never starts an escape with "a", so the names are
 * injective and never a certificate's).  A hash must be a format nginx
 * checks on Debian: nginx's own $apr1$, {PLAIN}, {SHA}, {SSHA}, and
 * crypt(3)'s (libxcrypt) $1$, $5$, $6$, $2a$/$2b$/$2y$ (bcrypt) and $y$
 * (yescrypt); a user with another (DES crypt, or none) is left out with a
 * warning.  A Secret that is missing, has no user left, or an
 * annotation that is incomplete refuses the Ingress (never served
 * without its authentication).  nginx answers 401 without the right
 * password.
 */

#include <stdio.h>
#include <string.h>

#include "annotations.h"
#include "escape.h"


typedef struct {
    unsigned          basic:1;
    unsigned          other:1;       /* another auth-type */
    unsigned          map:1;
    const char       *secret;        /* NAME */
    char              realm[256];
    kngx_ann_file_t   file;
} kngx_ann_auth_t;


static const char *const  kngx_auth_hashes[] = {
    "$apr1$", "{PLAIN}", "{SHA}", "{SSHA}", "$1$", "$5$", "$6$", "$2a$",
    "$2b$", "$2y$", "$y$", NULL
};


int
kngx_ann_secret_name(kngx_ann_ctx_t *ctx, const char *v, const char **name)
{
    const char  *slash, *why;

    slash = strchr(v, '/');
    if (slash) {
        if ((size_t) (slash - v) != strlen(ctx->ing->meta.ns)
            || strncmp(v, ctx->ing->meta.ns, slash - v) != 0)
        {
            ctx->why = "must name a Secret in the Ingress's own namespace, "
                       "not";
            return KNGX_ANN_BAD;
        }
        v = slash + 1;
    }

    if (kngx_name_check(KNGX_NAME_SUBDOMAIN, v, &why) != 0) {
        ctx->why = "must be a Secret name, not";
        return KNGX_ANN_BAD;
    }

    *name = v;
    return KNGX_ANN_OK;
}


static int
kngx_ann_auth_parse(kngx_ann_ctx_t *ctx, void *conf, int id, const char *v)
{
    kngx_ann_auth_t  *c = conf;
    const char       *s;

    switch (id) {

    case KNGX_AU_TYPE:
        c->basic = strcmp(v, "basic") == 0;
        c->other = !c->basic;
        if (c->other) {
            ctx->why = "must be \"basic\" (kubengx has no digest "
                       "authentication), not";
            return KNGX_ANN_BAD;
        }
        return KNGX_ANN_OK;

    case KNGX_AU_SECRET:
        return kngx_ann_secret_name(ctx, v, &c->secret);

    case KNGX_AU_SECRET_TYPE:
        if (strcmp(v, "auth-file") == 0 || strcmp(v, "auth-map") == 0) {
            c->map = v[5] == 'm';
            return KNGX_ANN_OK;
        }
        ctx->why = "must be \"auth-file\" or \"auth-map\", not";
        return KNGX_ANN_BAD;

    default:    /* KNGX_AU_REALM */
        for (s = v; *s; s++) {
            if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\'
                || *s == '$')
            {
                break;
            }
        }

        if (*s || strcmp(v, "off") == 0 || strlen(v) >= sizeof(c->realm)) {
            ctx->why = "must be printable ASCII without '\"', '\\', '$' "
                       "(at most 255 bytes), and not \"off\", not";
            return KNGX_ANN_BAD;
        }

        memcpy(c->realm, v, strlen(v) + 1);
        return KNGX_ANN_OK;
    }
}


/* whether "user:hash" (len bytes) is a line kubengx writes; why if not */
static int
kngx_ann_auth_line(const char *s, size_t len, const char **why)
{
    const char  *colon = memchr(s, ':', len);
    size_t       i, ulen;

    if (colon == NULL || colon == s) {
        *why = "is not USER:HASH";
        return 0;
    }

    ulen = (size_t) (colon - s);

    for (i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] > 0x7e) {
            *why = "holds spaces, control or non-ASCII bytes";
            return 0;
        }
    }

    for (i = 0; kngx_auth_hashes[i]; i++) {
        if (len - ulen - 1 > strlen(kngx_auth_hashes[i])
            && strncmp(colon + 1, kngx_auth_hashes[i],
                       strlen(kngx_auth_hashes[i])) == 0)
        {
            return 1;
        }
    }

    *why = "has a hash nginx does not check on Debian (DES crypt, none, "
           "or unknown): use bcrypt ($2y$), $6$, $5$, $apr1$ or {SHA}";
    return 0;
}


/* append a checked line; a warning naming user_for_msg for a bad one */
static int
kngx_ann_auth_add(kngx_ann_ctx_t *ctx, kngx_buf_t *b, const char *s,
    size_t len, const char *what)
{
    const char  *why;
    char         user[64];
    const char  *colon;
    size_t       ulen;

    if (kngx_ann_auth_line(s, len, &why)) {
        kngx_buf_printf(b, "%.*s\n", (int) len, s);
        return KNGX_ANN_OK;
    }

    colon = memchr(s, ':', len);
    ulen = colon ? (size_t) (colon - s) : 0;
    snprintf(user, sizeof(user), "%.*s", (int) (ulen < 40 ? ulen : 40), s);

    return kngx_ann_warn(ctx, "bad-annotation",
               "%s: the user %s %s; that user is left out", what,
               kngx_msg_quote(user), why) ? KNGX_ANN_NOMEM : KNGX_ANN_OK;
}


/* the users of sec into b */
static int
kngx_ann_auth_users(kngx_ann_ctx_t *ctx, const kngx_ann_auth_t *c,
    const kngx_secret_t *sec, kngx_buf_t *b)
{
    const char  *s, *e, *text = NULL;
    char         line[4096], what[300];
    size_t       i, len;
    int          rc;

    snprintf(what, sizeof(what), "Secret %s/%s", sec->meta.ns,
             sec->meta.name);

    for (i = 0; i < sec->ndata; i++) {
        if (c->map) {
            if (sec->data[i].value == NULL) {
                continue;
            }
            len = (size_t) snprintf(line, sizeof(line), "%s:%s",
                                    sec->data[i].key, sec->data[i].value);
            if (len >= sizeof(line)) {
                continue;
            }
            rc = kngx_ann_auth_add(ctx, b, line, len, what);
            if (rc != KNGX_ANN_OK) {
                return rc;
            }

        } else if (strcmp(sec->data[i].key, "auth") == 0) {
            text = sec->data[i].value;
        }
    }

    if (c->map || text == NULL) {
        return KNGX_ANN_OK;
    }

    for (s = text; *s; s = *e ? e + 1 : e) {
        e = strchr(s, '\n');
        if (e == NULL) {
            e = s + strlen(s);
        }

        len = (size_t) (e - s);
        if (len && s[len - 1] == '\r') {
            len--;
        }

        if (len == 0 || *s == '#') {
            continue;
        }

        rc = kngx_ann_auth_add(ctx, b, s, len, what);
        if (rc != KNGX_ANN_OK) {
            return rc;
        }
    }

    return KNGX_ANN_OK;
}


static int
kngx_ann_auth_finish(kngx_ann_ctx_t *ctx, void *conf)
{
    kngx_ann_auth_t      *c = conf;
    const kngx_secret_t  *sec;
    kngx_buf_t            b;
    char                  base[KNGX_NAME_CERT_MAX + 1], *name;
    int                   rc;

    if (!c->basic || c->secret == NULL) {
        ctx->why = "auth-type \"basic\" and auth-secret go together: "
                   "authentication is incomplete";
        return KNGX_ANN_BAD;
    }

    sec = ctx->model ? kngx_model_secret(ctx->model, ctx->ing->meta.ns,
                                         c->secret) : NULL;
    if (sec == NULL) {
        ctx->why = "auth-secret names a Secret that does not exist";
        ctx->key = KNGX_ANN_PREFIX "auth-secret";
        ctx->missing = 1;
        return KNGX_ANN_BAD;
    }

    memset(&b, 0, sizeof(b));

    rc = kngx_ann_auth_users(ctx, c, sec, &b);

    if (rc == KNGX_ANN_OK && b.len == 0 && !b.nomem) {
        ctx->why = c->map ? "auth-secret's Secret has no user"
                          : "auth-secret's Secret has no user in its key "
                            "\"auth\"";
        return KNGX_ANN_BAD;
    }

    if (rc != KNGX_ANN_OK || b.nomem
        || kngx_name_cert(base, sizeof(base), sec->meta.ns, sec->meta.name)
           != 0)
    {
        kngx_buf_free(&b);
        return rc == KNGX_ANN_OK ? KNGX_ANN_NOMEM : rc;
    }

    name = kube_arena_alloc(ctx->arena, strlen(base) + 9);
    c->file.data = kube_arena_alloc(ctx->arena, b.len + 1);

    if (name == NULL || c->file.data == NULL) {
        kngx_buf_free(&b);
        return KNGX_ANN_NOMEM;
    }

    snprintf(name, strlen(base) + 9, "%s%s", base,
             c->map ? ".authmap" : ".auth");
    memcpy((char *) c->file.data, b.data, b.len + 1);
    c->file.name = name;
    c->file.len = b.len;
    kngx_buf_free(&b);

    return KNGX_ANN_OK;
}


void
kngx_ann_auth_emit(kngx_buf_t *b, const kngx_ann_t *ann, const char *dir)
{
    const kngx_ann_auth_t  *c;

    c = ann ? ann->conf[kngx_ann_auth_family.index] : NULL;
    if (c == NULL || c->file.name == NULL) {
        return;
    }

    kngx_buf_printf(b, "        auth_basic \"%s\";\n"
                    "        auth_basic_user_file \"%s/%s\";\n",
                    c->realm, dir, c->file.name);
}


const kngx_ann_file_t *
kngx_ann_auth_file(const kngx_ann_t *ann)
{
    const kngx_ann_auth_t  *c;

    c = ann ? ann->conf[kngx_ann_auth_family.index] : NULL;

    return c && c->file.name ? &c->file : NULL;
}


const kngx_ann_family_t  kngx_ann_auth_family = {
    "auth", 9, sizeof(kngx_ann_auth_t),
    kngx_ann_auth_parse, kngx_ann_auth_finish, NULL, NULL
};
