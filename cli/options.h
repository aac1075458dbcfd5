
/*
 * kubengx CLI: the options of every subcommand, in one table
 * (option_table.c), read and documented by one parser (options.c).
 *
 * A row describes one option: its long name, whether it takes a value,
 * its short letter, the subcommands that take it (KNGX_CMD_* bits), its
 * --help group, value name and text, its default, and the field of
 * kngx_options_t it sets with which setter (option_table.c has them).
 * --help of a subcommand is printed from its rows, grouped in table
 * order, between the usage and epilog texts of its kngx_command_t.
 *
 * A new option: a row (and a field here when no field fits; a setter in
 * option_table.c when none fits).  An option of another subcommand too:
 * add its bit to the row's cmds (keeping the help text true for every
 * subcommand that takes it), or give it a row of its own with the other
 * meaning.  A new subcommand: a KNGX_CMD_* bit, its bit on the rows it
 * takes, and a kngx_command_t with its handler (cli/cmd_NAME.c, listed
 * in kubengx.c and kubengx.h).
 */

#ifndef KNGX_OPTIONS_H
#define KNGX_OPTIONS_H

#include <stddef.h>

#include "controller.h"
#include "model.h"
#include "render.h"
#include "stream.h"


/* the subcommands, as bits of kngx_option_t.cmds */
#define KNGX_CMD_RENDER      0x01u
#define KNGX_CMD_LINT        0x02u
#define KNGX_CMD_CONTROLLER  0x04u
#define KNGX_CMD_KUBECTL     0x08u      /* kubectl kubengx SUBCOMMAND */
#define KNGX_CMD_KUBECTL_LINT  0x10u    /* kubectl kubengx lint */
#define KNGX_CMD_MIGRATE     0x20u
#define KNGX_CMD_KUBECTL_MIGRATE  0x40u /* kubectl kubengx migrate */

#define KNGX_KUBECTL_SELECTOR                                                \
    "app.kubernetes.io/name=kubengx,app.kubernetes.io/component=controller"


typedef struct {
    const char         **items;
    size_t               n;
} kngx_strings_t;


/* what the options say; each subcommand reads the fields it takes */
typedef struct {
    /* render, lint: the input */
    kngx_strings_t       files;         /* -f, in order */
    const char          *ns;            /* of objects that name none */
    int                  verbose;

    /* render: where the config goes, and nginx -t before */
    const char          *output;        /* DIR or "-" */
    const char          *certs_path;
    int                  check;

    /* lint */
    int                  json;          /* --output json */
    int                  strict;        /* unknown fields are errors */

    /* migrate */
    const char          *from_class;
    const char          *write_dir;
    int                  ann_table;     /* --annotations */

    /* render, lint, controller: the config and its nginx -t */
    kngx_plan_opts_t     po;
    kngx_render_opts_t   ro;
    kngx_check_opts_t    co;

    /* render, controller: TCP/UDP services and passthrough */
    kngx_stream_opts_t   stream;

    /* the controller's own */
    kngx_ctl_conf_t      ctl;

    /* kubectl kubengx */
    struct {
        const char      *kubeconfig;
        const char      *context;
        const char      *ns;            /* of the controller pods */
        const char      *selector;
        const char      *pod;
        const char      *lease;
        int              metrics_port;
        int              status_port;
        const char      *target;        /* backends NS/SVC, or NULL */
    } kubectl;
} kngx_options_t;


typedef struct kngx_option_s  kngx_option_t;

/*
 * Read arg (NULL for an option without a value) into field.  NULL when
 * it is good; else why not, as it follows --NAME "ARG" in the message
 * ("is not one of ...", or ": ..."; buf, size: room to write it).
 */
typedef const char *(*kngx_option_set_pt)(const kngx_option_t *opt,
    const char *arg, void *field, char *buf, size_t size);

struct kngx_option_s {
    const char          *name;          /* "http-port" */
    int                  has_arg;       /* required_argument, no_argument */
    int                  letter;        /* 'f', or 0 */
    unsigned             cmds;          /* KNGX_CMD_* taking it */
    const char          *group;         /* --help heading, NULL: last */
    const char          *arg;           /* "PORT" in --help */
    const char          *def;           /* read by set before argv; NULL:
                                           the field's zero */
    size_t               offset;        /* of the field in kngx_options_t */
    kngx_option_set_pt   set;
    long                 min;           /* numbers; durations in ms */
    long                 max;
    const char          *help;
};

#define KNGX_FIELD(f)  offsetof(kngx_options_t, f)


typedef struct {
    const char          *name;          /* "render" */
    unsigned             cmd;           /* its KNGX_CMD_* bit */
    const char          *summary;       /* kubengx --help */
    const char          *usage;         /* --help before the options */
    const char          *epilog;        /* --help after them, or NULL */
    int                (*run)(kngx_options_t *o);  /* the exit code */
} kngx_command_t;


/* option_table.c */
extern const kngx_option_t  kngx_options[];

/* options.c */
/*
 * Defaults, then argv (argv[0]: the subcommand).  0: run the command;
 * 1: --help was printed; -1: bad usage (said on stderr).
 */
int kngx_options_read(const kngx_command_t *cmd, int argc, char **argv,
    kngx_options_t *o);
void kngx_options_free(kngx_options_t *o);

/*
 * --endpoints module without --module: the kubengx nginx module next to
 * the kubengx binary, in ../lib/nginx/modules/ from it, or in
 * /usr/lib/nginx/modules/; -1 if none is there.
 */
int kngx_options_module(kngx_options_t *o);

#endif /* KNGX_OPTIONS_H */
