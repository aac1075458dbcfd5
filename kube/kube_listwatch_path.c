/*
 * kubengx kube/: the request path of the list/watch machine: a list page
 * (limit, selectors, continue) or a watch (allowWatchBookmarks,
 * selectors, resourceVersion, timeoutSeconds, in client-go's order).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_listwatch_int.h"


size_t
kube_url_escape(char *dst, size_t size, const char *src)
{
    static const char  hex[] = "0123456789ABCDEF";
    unsigned char      c;
    size_t             n = 0;

    for (; *src; src++) {
        c = (unsigned char) *src;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~')
        {
            if (n + 1 < size) {
                dst[n] = (char) c;
            }
            n++;
            continue;
        }

        if (n + 3 < size) {
            dst[n] = '%';
            dst[n + 1] = hex[c >> 4];
            dst[n + 2] = hex[c & 0xf];
        }
        n += 3;
    }

    if (size) {
        dst[n < size ? n : size - 1] = '\0';
    }

    return n;
}


/* a growing string for the request path */
typedef struct {
    char    *p;
    size_t   len;
    size_t   cap;
    int      nomem;
} kube_lw_str_t;


static void
kube_lw_str_add(kube_lw_str_t *s, const char *data, size_t len)
{
    char    *np;
    size_t   cap;

    if (s->nomem) {
        return;
    }

    if (s->len + len + 1 > s->cap) {
        cap = s->cap ? s->cap : 256;
        while (cap < s->len + len + 1) {
            cap *= 2;
        }

        np = realloc(s->p, cap);
        if (np == NULL) {
            s->nomem = 1;
            return;
        }

        s->p = np;
        s->cap = cap;
    }

    memcpy(s->p + s->len, data, len);
    s->len += len;
    s->p[s->len] = '\0';
}


static void
kube_lw_str_cstr(kube_lw_str_t *s, const char *cstr)
{
    kube_lw_str_add(s, cstr, strlen(cstr));
}


static void
kube_lw_str_param(kube_lw_str_t *s, const char *name, const char *value)
{
    size_t  n;
    char   *tmp;

    kube_lw_str_cstr(s, s->p != NULL && strchr(s->p, '?') ? "&" : "?");
    kube_lw_str_cstr(s, name);
    kube_lw_str_add(s, "=", 1);

    n = kube_url_escape(NULL, 0, value);
    tmp = malloc(n + 1);
    if (tmp == NULL) {
        s->nomem = 1;
        return;
    }

    kube_url_escape(tmp, n + 1, value);
    kube_lw_str_add(s, tmp, n);
    free(tmp);
}


int
kube_lw_build_path(kube_lw_t *lw, int watch, unsigned timeout_s)
{
    char           num[32];
    kube_lw_str_t  s;

    memset(&s, 0, sizeof(s));

    kube_lw_str_cstr(&s, lw->api_prefix);

    if (lw->ns != NULL) {
        kube_lw_str_cstr(&s, "/namespaces/");
        if (!s.nomem) {
            /* namespaces are DNS labels; escape anything else anyway */
            char  tmp[256];

            if (kube_url_escape(tmp, sizeof(tmp), lw->ns) >= sizeof(tmp)) {
                s.nomem = 1;

            } else {
                kube_lw_str_cstr(&s, tmp);
            }
        }
    }

    kube_lw_str_add(&s, "/", 1);
    kube_lw_str_cstr(&s, lw->resource);

    if (!watch) {
        snprintf(num, sizeof(num), "%u", lw->conf.page_limit);
        kube_lw_str_param(&s, "limit", num);

        if (lw->label_selector) {
            kube_lw_str_param(&s, "labelSelector", lw->label_selector);
        }

        if (lw->field_selector) {
            kube_lw_str_param(&s, "fieldSelector", lw->field_selector);
        }

        if (lw->continue_token) {
            kube_lw_str_param(&s, "continue", lw->continue_token);
        }

    } else {
        /* the order client-go sends (url.Values sorts keys) */
        kube_lw_str_param(&s, "allowWatchBookmarks", "true");

        if (lw->field_selector) {
            kube_lw_str_param(&s, "fieldSelector", lw->field_selector);
        }

        if (lw->label_selector) {
            kube_lw_str_param(&s, "labelSelector", lw->label_selector);
        }

        kube_lw_str_param(&s, "resourceVersion", lw->rv);
        snprintf(num, sizeof(num), "%u", timeout_s);
        kube_lw_str_param(&s, "timeoutSeconds", num);
        kube_lw_str_param(&s, "watch", "true");
    }

    if (s.nomem) {
        free(s.p);
        return -1;
    }

    free(lw->path);
    lw->path = s.p;

    return 0;
}
