
/*
 * kubengx CLI: shared declarations of the command-line tool.
 */

#ifndef KUBENGX_H
#define KUBENGX_H


#ifndef KUBENGX_VERSION
#define KUBENGX_VERSION  "unknown"
#endif

/* exit codes: 0 ok, 1 findings (lint errors), 2 bad input or usage */
#define KNGX_EXIT_OK        0
#define KNGX_EXIT_FINDINGS  1
#define KNGX_EXIT_USAGE     2


typedef struct {
    const char  *name;
    const char  *summary;
    int        (*main)(int argc, char **argv);
} kngx_command_t;


/*
 * The subcommands.  Each entry point takes argv with argv[0] being the
 * command name, and returns the process exit code.  Add a command by
 * declaring its entry point here and listing it in KNGX_COMMANDS.
 */

#define KNGX_COMMAND(name, summary, fn)  { name, summary, fn },

int kngx_render_main(int argc, char **argv);
int kngx_lint_main(int argc, char **argv);
int kngx_controller_main(int argc, char **argv);
int kngx_migrate_main(int argc, char **argv);

#define KNGX_COMMANDS                                                         \
    KNGX_COMMAND("render", "turn manifests into nginx config",               \
                 kngx_render_main)                                            \
    KNGX_COMMAND("lint", "check manifests for Ingress/Service mistakes",      \
                 kngx_lint_main)                                              \
    KNGX_COMMAND("controller", "watch the API, run and reload nginx",        \
                 kngx_controller_main)                                        \
    KNGX_COMMAND("migrate", "what kubengx does with ingress-nginx's Ingresses",\
                 kngx_migrate_main)                                           \
    /* one KNGX_COMMAND per line; keep the trailing backslashes */


#endif /* KUBENGX_H */
