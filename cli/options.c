
/*
 * kubengx CLI: reading the options of option_table.c, and --help.
 *
 * kngx_options_read() gives every field its default (the rows' def, read
 * by their own setters), then reads argv with getopt_long over the rows
 * the subcommand takes.  A bad value, an unknown option or a stray
 * argument is a message naming the subcommand and the option, and exit
 * status 2 (KNGX_EXIT_USAGE); so are two of the ports nginx and the
 * controller listen on that are the same.
 */

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubengx.h"
#include "options.h"


#define KNGX_HELP_COLUMN  27            /* where the help texts start */
#define KNGX_HELP_WIDTH   79
#define KNGX_MODULE_SO    "ngx_http_k8s_module.so"


/* ---- --help -------------------------------------------------------------- */

/* text from column KNGX_HELP_COLUMN, wrapped at word boundaries (two
 * spaces between sentences stay two within a line) */

static void
kngx_help_text(FILE *out, const char *text, size_t col)
{
    const char  *w, *e;
    size_t       len, gap;

    for (w = text; *w; w = e) {
        for (gap = 0; *w == ' '; w++, gap++) { /* void */ }

        for (e = w; *e && *e != ' '; e++) { /* void */ }

        len = (size_t) (e - w);
        if (len == 0) {
            break;
        }

        if (col > KNGX_HELP_COLUMN && col + gap + len > KNGX_HELP_WIDTH) {
            fprintf(out, "\n%*s", KNGX_HELP_COLUMN, "");
            col = KNGX_HELP_COLUMN;

        } else if (col > KNGX_HELP_COLUMN) {
            fprintf(out, "%*s", (int) gap, "");
            col += gap;
        }

        fprintf(out, "%.*s", (int) len, w);
        col += len;
    }

    fputc('\n', out);
}


static void
kngx_help_option(FILE *out, const kngx_option_t *opt)
{
    char  lead[96];
    int   n;

    n = snprintf(lead, sizeof(lead), "  %c%c%s--%s%s%s",
                 opt->letter ? '-' : ' ', opt->letter ? opt->letter : ' ',
                 opt->letter ? ", " : "  ", opt->name,
                 opt->arg ? " " : "", opt->arg ? opt->arg : "");

    if (n + 1 > KNGX_HELP_COLUMN) {
        fprintf(out, "%s\n%*s", lead, KNGX_HELP_COLUMN, "");

    } else {
        fprintf(out, "%-*s", KNGX_HELP_COLUMN, lead);
    }

    kngx_help_text(out, opt->help, KNGX_HELP_COLUMN);
}


/* the groups in the order they first appear, then the rows without */

static void
kngx_help(FILE *out, const kngx_command_t *cmd)
{
    const kngx_option_t  *g, *opt, *prev;

    fputs(cmd->usage, out);

    for (g = kngx_options; g->name; g++) {
        if (!(g->cmds & cmd->cmd) || g->group == NULL) {
            continue;
        }

        for (prev = kngx_options; prev < g; prev++) {
            if ((prev->cmds & cmd->cmd) && prev->group
                && strcmp(prev->group, g->group) == 0)
            {
                break;
            }
        }

        if (prev < g) {
            continue;               /* the group is printed already */
        }

        fprintf(out, "\n%s:\n", g->group);

        for (opt = g; opt->name; opt++) {
            if ((opt->cmds & cmd->cmd) && opt->group
                && strcmp(opt->group, g->group) == 0)
            {
                kngx_help_option(out, opt);
            }
        }
    }

    fputc('\n', out);

    for (opt = kngx_options; opt->name; opt++) {
        if ((opt->cmds & cmd->cmd) && opt->group == NULL) {
            kngx_help_option(out, opt);
        }
    }

    if (cmd->epilog) {
        fprintf(out, "\n%s", cmd->epilog);
    }
}


/* ---- reading ------------------------------------------------------------- */

static int
kngx_option_set(const kngx_command_t *cmd, const kngx_option_t *opt,
    const char *arg, kngx_options_t *o)
{
    const char  *why;
    char         buf[256];

    why = opt->set(opt, arg, (char *) o + opt->offset, buf, sizeof(buf));
    if (why == NULL) {
        return 0;
    }

    if (arg) {
        fprintf(stderr, "kubengx %s: --%s \"%s\"%s%s\n", cmd->name,
                opt->name, arg, why[0] == ':' ? "" : " ", why);
    } else {
        fprintf(stderr, "kubengx %s: --%s: %s\n", cmd->name, opt->name, why);
    }

    return -1;
}


static int
kngx_options_defaults(const kngx_command_t *cmd, kngx_options_t *o)
{
    const kngx_option_t  *opt;

    memset(o, 0, sizeof(kngx_options_t));
    o->ro.version = KUBENGX_VERSION;
    o->ctl.leader.elect = 1;            /* --no-leader-elect: 0 */

    for (opt = kngx_options; opt->name; opt++) {
        if ((opt->cmds & cmd->cmd) && opt->def
            && kngx_option_set(cmd, opt, opt->def, o) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* getopt_long's view of the rows cmd takes; val: the row's index + 256 */

static void
kngx_options_getopt(const kngx_command_t *cmd, struct option *lo,
    char *so, size_t so_size)
{
    const kngx_option_t  *opt;
    size_t                n = 0, k = 0;

    so[k++] = ':';

    for (opt = kngx_options; opt->name; opt++) {
        if (!(opt->cmds & cmd->cmd)) {
            continue;
        }

        lo[n].name = opt->name;
        lo[n].has_arg = opt->has_arg;
        lo[n].flag = NULL;
        lo[n].val = 256 + (int) (opt - kngx_options);
        n++;

        if (opt->letter && k + 3 < so_size) {
            so[k++] = (char) opt->letter;
            if (opt->has_arg == required_argument) {
                so[k++] = ':';
            }
        }
    }

    memset(&lo[n], 0, sizeof(struct option));
    so[k] = '\0';
}


static const kngx_option_t *
kngx_options_find(const kngx_command_t *cmd, int c)
{
    const kngx_option_t  *opt;

    if (c >= 256) {
        return &kngx_options[c - 256];
    }

    for (opt = kngx_options; opt->name; opt++) {
        if ((opt->cmds & cmd->cmd) && opt->letter == c) {
            return opt;
        }
    }

    return NULL;
}


static int
kngx_options_argv(const kngx_command_t *cmd, int argc, char **argv,
    kngx_options_t *o, struct option *lo)
{
    const kngx_option_t  *opt;
    char                  so[128];
    int                   c;

    kngx_options_getopt(cmd, lo, so, sizeof(so));

    optind = 1;
    opterr = 0;

    while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        if (c == ':') {
            fprintf(stderr, "kubengx %s: %s needs a value; see kubengx %s "
                    "--help\n", cmd->name, argv[optind - 1], cmd->name);
            return -1;
        }

        opt = c == '?' ? NULL : kngx_options_find(cmd, c);

        if (opt == NULL) {
            fprintf(stderr, "kubengx %s: unknown option \"%s\"; see "
                    "kubengx %s --help\n", cmd->name, argv[optind - 1],
                    cmd->name);
            return -1;
        }

        if (opt->set == NULL) {
            kngx_help(stdout, cmd);     /* --help */
            return 1;
        }

        if (kngx_option_set(cmd, opt, opt->has_arg ? optarg : NULL, o) != 0)
        {
            return -1;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "kubengx %s: unexpected argument \"%s\"%s; see "
                "kubengx %s --help\n", cmd->name, argv[optind],
                (cmd->cmd & (KNGX_CMD_RENDER | KNGX_CMD_LINT))
                ? " (input files go after -f)" : "", cmd->name);
        return -1;
    }

    return 0;
}


/*
 * The ports of render and the controller serve one purpose each (0:
 * off); the TCP/UDP services ConfigMaps' ports are refused per entry
 * when they take one (stream.h, reserved).
 */
static int
kngx_options_ports(const kngx_command_t *cmd, const kngx_options_t *o)
{
    static const char  *names[] = {
        "--http-port", "--https-port", "--h2c-port", "--metrics-port",
        "--status-port"
    };

    int                 ports[5], ctl;
    size_t              i, j;

    ctl = (cmd->cmd & KNGX_CMD_CONTROLLER) != 0;

    ports[0] = o->ro.http_port;
    ports[1] = o->ro.https_port;
    ports[2] = o->ro.h2c_port;
    ports[3] = ctl ? o->ctl.http.port : 0;
    ports[4] = ctl ? o->ctl.nginx.status_port : 0;

    for (i = 0; i < 5; i++) {
        for (j = i + 1; j < 5; j++) {
            if (ports[i] != 0 && ports[i] == ports[j]) {
                fprintf(stderr, "kubengx %s: %s and %s are both %d: "
                        "give each its own port\n", cmd->name, names[i],
                        names[j], ports[i]);
                return -1;
            }
        }
    }

    return 0;
}


int
kngx_options_read(const kngx_command_t *cmd, int argc, char **argv,
    kngx_options_t *o)
{
    struct option  *lo;
    size_t          n;
    int             rc;

    if (kngx_options_defaults(cmd, o) != 0) {
        return -1;
    }

    for (n = 0; kngx_options[n].name; n++) { /* void */ }

    lo = calloc(n + 1, sizeof(struct option));
    if (lo == NULL) {
        fprintf(stderr, "kubengx %s: out of memory\n", cmd->name);
        return -1;
    }

    rc = kngx_options_argv(cmd, argc, argv, o, lo);

    free(lo);

    if (rc == 0 && (cmd->cmd & (KNGX_CMD_RENDER | KNGX_CMD_CONTROLLER))
        && kngx_options_ports(cmd, o) != 0)
    {
        return -1;
    }

    return rc;
}


void
kngx_options_free(kngx_options_t *o)
{
    free(o->files.items);
    o->files.items = NULL;
    o->files.n = 0;
}


/* ---- the module ---------------------------------------------------------- */

static const char *
kngx_module_find(char *buf, size_t size)
{
    char     exe[PATH_MAX];
    ssize_t  n;
    char    *slash;

    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, size, "%s/" KNGX_MODULE_SO, exe);
            if (access(buf, R_OK) == 0) {
                return buf;
            }
            snprintf(buf, size, "%s/../lib/nginx/modules/" KNGX_MODULE_SO,
                     exe);
            if (access(buf, R_OK) == 0) {
                return buf;
            }
        }
    }

    snprintf(buf, size, "/usr/lib/nginx/modules/" KNGX_MODULE_SO);
    return access(buf, R_OK) == 0 ? buf : NULL;
}


int
kngx_options_module(kngx_options_t *o)
{
    static char  buf[PATH_MAX + 64];

    if ((o->po.endpoints != KNGX_ENDPOINTS_MODULE && !o->po.metrics_routes)
        || o->co.module)
    {
        return 0;
    }

    o->co.module = kngx_module_find(buf, sizeof(buf));

    return o->co.module ? 0 : -1;
}
