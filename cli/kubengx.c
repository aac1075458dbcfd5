
/*
 * kubengx: command-line entry point.  Finds the subcommand, reads its
 * options (options.c, from the one table in option_table.c) and runs its
 * handler.
 */

#include <stdio.h>
#include <string.h>

#include "kubengx.h"


static const kngx_command_t  *kngx_commands[] = {
    &kngx_cmd_render,
    &kngx_cmd_lint,
    &kngx_cmd_controller,
    NULL
};


static void
kngx_usage(FILE *out)
{
    const kngx_command_t  **cmd;

    fprintf(out,
        "Usage: kubengx COMMAND [OPTIONS]\n"
        "\n"
        "kubengx is a Kubernetes Ingress controller built from stock nginx\n"
        "and one nginx module.  It renders Ingress, Service, IngressClass,\n"
        "Secret and EndpointSlice manifests into nginx configuration.\n"
        "\n"
        "Commands:\n");

    for (cmd = kngx_commands; *cmd; cmd++) {
        fprintf(out, "  %-12s %s\n", (*cmd)->name, (*cmd)->summary);
    }

    fprintf(out,
        "\n"
        "Options:\n"
        "  -h, --help     show this help (COMMAND --help: the command's)\n"
        "  -V, --version  print the version and exit\n");
}


static int
kngx_run(const kngx_command_t *cmd, int argc, char **argv)
{
    kngx_options_t  o;
    int             rc;

    rc = kngx_options_read(cmd, argc, argv, &o);

    if (rc == 0) {
        rc = cmd->run(&o);

    } else {
        rc = rc > 0 ? KNGX_EXIT_OK : KNGX_EXIT_USAGE;
    }

    kngx_options_free(&o);

    return rc;
}


int
main(int argc, char **argv)
{
    const kngx_command_t  **cmd;

    if (argc < 2) {
        kngx_usage(stderr);
        return KNGX_EXIT_USAGE;
    }

    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "help") == 0)
    {
        kngx_usage(stdout);
        return 0;
    }

    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0
        || strcmp(argv[1], "version") == 0)
    {
        printf("kubengx %s\n", KUBENGX_VERSION);
        return 0;
    }

    for (cmd = kngx_commands; *cmd; cmd++) {
        if (strcmp(argv[1], (*cmd)->name) == 0) {
            return kngx_run(*cmd, argc - 1, argv + 1);
        }
    }

    fprintf(stderr, "kubengx: unknown command \"%s\"; see kubengx --help\n",
            argv[1]);
    return KNGX_EXIT_USAGE;
}
