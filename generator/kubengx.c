
/*
 * kubengx: command-line entry point.  Dispatches to the subcommands;
 * each subcommand lives in its own file and parses its own options.
 */

#include <stdio.h>
#include <string.h>

#include "kubengx.h"


static const kngx_command_t  kngx_commands[] = {
    KNGX_COMMANDS
    { NULL, NULL, NULL }
};


static void
kngx_usage(FILE *out)
{
    const kngx_command_t  *cmd;

    fprintf(out,
        "Usage: kubengx COMMAND [OPTIONS]\n"
        "\n"
        "kubengx is a Kubernetes Ingress controller built from stock nginx\n"
        "and one nginx module.  It renders Ingress, Service, IngressClass,\n"
        "Secret and EndpointSlice manifests into nginx configuration.\n"
        "\n"
        "Commands:\n");

    for (cmd = kngx_commands; cmd->name; cmd++) {
        fprintf(out, "  %-12s %s\n", cmd->name, cmd->summary);
    }

    fprintf(out,
        "\n"
        "Options:\n"
        "  -h, --help     show this help (COMMAND --help: the command's)\n"
        "  -V, --version  print the version and exit\n");
}


int
main(int argc, char **argv)
{
    const kngx_command_t  *cmd;

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

    for (cmd = kngx_commands; cmd->name; cmd++) {
        if (strcmp(argv[1], cmd->name) == 0) {
            return cmd->main(argc - 1, argv + 1);
        }
    }

    fprintf(stderr, "kubengx: unknown command \"%s\"; see kubengx --help\n",
            argv[1]);
    return KNGX_EXIT_USAGE;
}
