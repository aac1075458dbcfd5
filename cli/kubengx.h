
/*
 * kubengx CLI: the subcommands and their exit codes.
 */

#ifndef KUBENGX_H
#define KUBENGX_H

#include "options.h"


#ifndef KUBENGX_VERSION
#define KUBENGX_VERSION  "unknown"
#endif

/* exit codes: 0 ok, 1 findings (lint errors), 2 bad input or usage */
#define KNGX_EXIT_OK        0
#define KNGX_EXIT_FINDINGS  1
#define KNGX_EXIT_USAGE     2


/*
 * The subcommands (cmd_render.c, cmd_lint.c, cmd_controller.c,
 * cmd_migrate.c), listed
 * in kubengx.c.  Each handler gets the options read (options.h) and
 * returns the process exit code.
 */
extern const kngx_command_t  kngx_cmd_render;
extern const kngx_command_t  kngx_cmd_lint;
extern const kngx_command_t  kngx_cmd_controller;
extern const kngx_command_t  kngx_cmd_migrate;

#endif /* KUBENGX_H */
