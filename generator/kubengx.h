
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

#define KNGX_COMMANDS


#endif /* KUBENGX_H */
