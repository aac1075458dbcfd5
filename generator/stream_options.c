
/*
 * kubengx generator: the stream options of `kubengx render` and `kubengx
 * controller` (read by cli/option_table.c) completed, and the lines of a
 * main config that load the stream modules and include the stream file.
 *
 * Load order (README.md, "TCP and UDP Services"): ngx_http_k8s_module.so,
 * then nginx's ngx_stream_module.so (Debian builds stream as a dynamic
 * module, libnginx-mod-stream), then ngx_stream_k8s_module.so, which
 * uses symbols of both.  Only --endpoints module needs the last one.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"


/*
 * After the options: the hop directory (default_dir when not given; an
 * error when neither), Debian's ngx_stream_module.so when it is there.
 */
int
kngx_stream_opts_finish(kngx_stream_opts_t *so, const char *default_dir,
    const char *cmd)
{
    static char  abs[PATH_MAX + 8];
    char         cwd[PATH_MAX];

    if (so->ngx_stream_module == NULL
        && access(KNGX_NGX_STREAM_MODULE, R_OK) == 0)
    {
        so->ngx_stream_module = KNGX_NGX_STREAM_MODULE;
    }

    if (!so->passthrough || so->hop_dir) {
        return 0;
    }

    if (default_dir == NULL
        || (default_dir[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL))
    {
        fprintf(stderr, "kubengx %s: --enable-ssl-passthrough needs "
                "--ssl-passthrough-dir DIR for its unix sockets\n", cmd);
        return -1;
    }

    if (default_dir[0] != '/') {
        snprintf(abs, sizeof(abs), "%s/%s", cwd, default_dir);
        default_dir = abs;
    }

    so->hop_dir = default_dir;

    return 0;
}


/* the https servers' hop: DIR/kubengx-https.sock */
const char *
kngx_stream_https_hop(const kngx_stream_opts_t *so, char *buf, size_t size)
{
    if (!so->passthrough) {
        return NULL;
    }

    snprintf(buf, size, "%s/" KNGX_HOP_HTTPS, so->hop_dir);

    return buf;
}


/*
 * For a main config: in loads the load_module lines that go after the
 * http module's (http_module: its path, NULL without the module), in
 * block "stream { include CONF; }".  -1 when they do not fit.
 */
int
kngx_stream_main_lines(const kngx_stream_opts_t *so, const char *http_module,
    const char *conf, char *loads, size_t lsize, char *block, size_t bsize)
{
    char  k8s[4200];
    int   n;

    loads[0] = '\0';
    block[0] = '\0';

    if (!kngx_stream_enabled(so)) {
        return 0;
    }

    k8s[0] = '\0';

    if (http_module
        && kngx_stream_module_path(http_module, k8s, sizeof(k8s)) != 0)
    {
        return -1;
    }

    n = snprintf(loads, lsize, "%s%s%s%s%s%s",
                 so->ngx_stream_module && so->ngx_stream_module[0]
                 ? "load_module " : "",
                 so->ngx_stream_module ? so->ngx_stream_module : "",
                 so->ngx_stream_module && so->ngx_stream_module[0]
                 ? ";\n" : "",
                 k8s[0] ? "load_module " : "", k8s, k8s[0] ? ";\n" : "");

    if (n < 0 || (size_t) n >= lsize) {
        return -1;
    }

    n = snprintf(block, bsize, "\nstream {\n    include %s;\n}\n", conf);

    return (n < 0 || (size_t) n >= bsize) ? -1 : 0;
}
