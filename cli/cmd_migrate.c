
/*
 * kubengx migrate: what kubengx would do with ingress-nginx's Ingresses
 * (generator/migrate.c).
 *
 * Exit codes: 0 every Ingress would be served, 1 one would not (fails
 * closed, or a bad value), 2 bad input or usage.
 */

#include "kubengx.h"
#include "migrate.h"


static int kngx_migrate_cmd(kngx_options_t *o);


const kngx_command_t  kngx_cmd_migrate = {
    "migrate", KNGX_CMD_MIGRATE,
    "what kubengx does with ingress-nginx's Ingresses",

"Usage: kubengx migrate -f FILE|- [-f ...] [OPTIONS]\n"
"       kubengx migrate --annotations\n"
"\n"
"What kubengx would do with the Ingresses ingress-nginx serves.  Input:\n"
"what `kubectl get ingress,service,secret,configmap -A -o yaml` prints\n"
"(a kind: List; plain manifests too).  For each Ingress of the old\n"
"class: the class change, and for each nginx.ingress.kubernetes.io/\n"
"annotation one\n"
"of honoured, honoured (different: how), handled elsewhere, not\n"
"supported, or not supported and failing closed (access control kubengx\n"
"does not implement: the Ingress would not be served); bad values; then\n"
"a summary table.  Each finding names the List item.\n",

"Exit status: 0 every Ingress would be served, 1 one would not (fails\n"
"closed or a bad value), 2 bad input or usage.\n",

    kngx_migrate_cmd
};


static int
kngx_migrate_cmd(kngx_options_t *o)
{
    kngx_migrate_opts_t  mo;

    mo.files = o->files.items;
    mo.nfiles = o->files.n;
    mo.from_class = o->from_class;
    mo.class_name = o->po.class_name;
    mo.dir = o->write_dir;
    mo.table = o->ann_table;

    return kngx_migrate(&mo);
}
