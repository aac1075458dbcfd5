
/*
 * kubengx generator: the stream config of a model and plan (stream.h):
 * ConfigMap entries (stream_configmap.c), passthrough hosts
 * (stream_passthrough.c), text (stream_render.c).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "settings/settings.h"


int
kngx_stream_enabled(const kngx_stream_opts_t *so)
{
    return so->tcp_configmap || so->udp_configmap || so->passthrough;
}


kngx_stream_t *
kngx_stream_build(const kngx_model_t *m, const kngx_plan_t *p,
    const kngx_stream_opts_t *so, const kngx_render_opts_t *ro)
{
    kngx_stream_t          *s;
    const kngx_settings_t  *set;

    set = ro->settings ? ro->settings : kngx_settings_default();

    s = calloc(1, sizeof(kngx_stream_t));
    if (s == NULL) {
        return NULL;
    }

    s->arena = kube_arena_create(NULL, 0);
    if (s->arena == NULL) {
        free(s);
        return NULL;
    }

    if ((so->tcp_configmap
         && kngx_stream_configmap(s, m, so, set, so->tcp_configmap, 0) != 0)
        || (so->udp_configmap
            && kngx_stream_configmap(s, m, so, set, so->udp_configmap, 1)
               != 0)
        || kngx_stream_passthrough(s, p, so) != 0
        || kngx_stream_render(s, p, so, ro) != 0)
    {
        kngx_stream_free(s);
        return NULL;
    }

    kngx_diags_sort(&s->diags);

    return s;
}


void
kngx_stream_free(kngx_stream_t *s)
{
    if (s == NULL) {
        return;
    }

    free(s->entries);
    free(s->text);
    kngx_diags_free(&s->diags);
    kube_arena_destroy(s->arena);
    free(s);
}


void
kngx_stream_print_diags(const kngx_stream_t *s)
{
    size_t  i;

    for (i = 0; i < s->diags.n; i++) {
        kngx_diag_print(stderr, &s->diags.items[i]);
    }
}


/* DIR/ngx_stream_k8s_module.so for the http module DIR/NAME.so */
int
kngx_stream_module_path(const char *http_module, char *out, size_t size)
{
    const char  *slash = strrchr(http_module, '/');
    int          n;

    n = snprintf(out, size, "%.*s" KNGX_STREAM_MODULE_SO,
                 slash ? (int) (slash - http_module + 1) : 0, http_module);

    return (n < 0 || (size_t) n >= size) ? -1 : 0;
}
