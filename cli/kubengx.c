
/*
 * kubengx: command-line entry point.  Finds the subcommand, reads its
 * options (options.c, from the one table in option_table.c) and runs its
 * handler.  Run as kubectl-kubengx (a link to kubengx that kubectl's
 * plugin discovery finds), the subcommands are the plugin's
 * (cmd_kubectl.h).
 */

#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "cmd_kubectl.h"
#include "kubengx.h"


static const kngx_command_t  *kngx_commands[] = {
    &kngx_cmd_render,
    &kngx_cmd_lint,
    &kngx_cmd_controller,
    &kngx_cmd_migrate,
    NULL
};


static const kngx_command_t  *kngx_kubectl_commands[] = {
    &kngx_kubectl_backends,
    &kngx_kubectl_conf,
    &kngx_kubectl_lint,
    &kngx_kubectl_migrate,
    &kngx_kubectl_status,
    NULL
};


static void
kngx_usage_commands(FILE *out, const kngx_command_t **cmd)
{
    for ( /* void */ ; *cmd; cmd++) {
        fprintf(out, "  %-12s %s\n", (*cmd)->name, (*cmd)->summary);
    }
}


static void
kngx_usage(FILE *out)
{
    fprintf(out,
        "Usage: kubengx COMMAND [OPTIONS]\n"
        "\n"
        "kubengx is a Kubernetes Ingress controller built from stock nginx\n"
        "and one nginx module.  It renders Ingress, Service, IngressClass,\n"
        "Secret and EndpointSlice manifests into nginx configuration.\n"
        "\n"
        "Commands:\n");

    kngx_usage_commands(out, kngx_commands);

    fprintf(out,
        "\n"
        "Options:\n"
        "  -h, --help     show this help (COMMAND --help: the command's)\n"
        "  -V, --version  print the version and exit\n");
}


/* target: kubectl kubengx backends' NS/SVC, or NULL */
static int
kngx_run(const kngx_command_t *cmd, int argc, char **argv,
    const char *target)
{
    kngx_options_t  o;
    int             rc;

    rc = kngx_options_read(cmd, argc, argv, &o);

    if (rc == 0) {
        o.kubectl.target = target;
        rc = cmd->run(&o);

    } else {
        rc = rc > 0 ? KNGX_EXIT_OK : KNGX_EXIT_USAGE;
    }

    kngx_options_free(&o);

    return rc;
}


static void
kngx_kubectl_usage(FILE *out)
{
    fprintf(out,
        "Usage: kubectl kubengx COMMAND [OPTIONS]\n"
        "\n"
        "kubengx's kubectl plugin: what the kubengx controllers of a cluster\n"
        "see and run, through your kubeconfig and the API server's pod proxy.\n"
        "\n"
        "Commands:\n");

    kngx_usage_commands(out, kngx_kubectl_commands);

    fprintf(out, "\nkubectl kubengx COMMAND --help: the command's options.\n");
}


/* kubectl kubengx COMMAND [NS/SVC] [OPTIONS] */
static int
kngx_kubectl(int argc, char **argv)
{
    const kngx_command_t  **cmd;
    const char             *target = NULL;

    if (argc < 2 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
    {
        kngx_kubectl_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? KNGX_EXIT_USAGE : KNGX_EXIT_OK;
    }

    for (cmd = kngx_kubectl_commands; *cmd; cmd++) {
        if (strcmp(argv[1], (*cmd)->name) == 0) {
            break;
        }
    }

    if (*cmd == NULL) {
        fprintf(stderr, "kubectl kubengx: unknown command \"%s\"; see "
                "kubectl kubengx --help\n", argv[1]);
        return KNGX_EXIT_USAGE;
    }

    /* backends' NS/SVC: the one argument that is not an option */
    if (*cmd == &kngx_kubectl_backends && argc > 2 && argv[2][0] != '-') {
        target = argv[2];
        argv[2] = argv[1];
        argc--;
        argv++;
    }

    return kngx_run(*cmd, argc - 1, argv + 1, target);
}


int
main(int argc, char **argv)
{
    const kngx_command_t  **cmd;

    if (argc > 0 && strcmp(basename(argv[0]), "kubectl-kubengx") == 0) {
        return kngx_kubectl(argc, argv);
    }

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
            return kngx_run(*cmd, argc - 1, argv + 1, NULL);
        }
    }

    fprintf(stderr, "kubengx: unknown command \"%s\"; see kubengx --help\n",
            argv[1]);
    return KNGX_EXIT_USAGE;
}
