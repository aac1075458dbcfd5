
/*
 * kubengx migrate (migrate.c): what kubengx would do with the Ingresses
 * another controller (ingress-nginx) serves.  cli/cmd_migrate.c reads
 * the options.
 */

#ifndef KNGX_MIGRATE_H
#define KNGX_MIGRATE_H

#include <stddef.h>


/* the exit status */
#define KNGX_MIGRATE_OK      0      /* every Ingress would be served */
#define KNGX_MIGRATE_CLOSED  1      /* one would not (fails closed, or a
                                       bad value) */
#define KNGX_MIGRATE_USAGE   2      /* bad input or usage */


typedef struct {
    const char         **files;     /* FILE or "-" */
    size_t               nfiles;
    const char          *from_class;    /* the old controller's class */
    const char          *class_name;    /* kubengx's */
    const char          *dir;       /* --write DIR, or NULL */
    int                  table;     /* --annotations: print the table */
} kngx_migrate_opts_t;


int kngx_migrate(const kngx_migrate_opts_t *o);

#endif /* KNGX_MIGRATE_H */
