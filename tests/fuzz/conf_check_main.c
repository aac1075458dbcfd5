/*
 * conf_check FILE...: the render target's config oracle (conf_check.h) as
 * a command, for tests/integration/test_conf_oracle.py.  For each file
 * that fails it prints "FILE: line N: REASON" and that line of the file;
 * exits 1 if any failed, 2 if a file could not be read, else 0.
 * conf_check --directives: the names in cc_dirs, one a line.
 *
 * Built by the test: gcc -O1 -o $BUILD/conf_check tests/fuzz/conf_check_main.c
 */

#include "conf_check.h"
#include "read_file.h"


static void
cc_print_line(const char *text, size_t len, const char *why)
{
    size_t       line, n, i;
    const char  *p, *e;

    if (sscanf(why, "line %zu:", &line) != 1) {
        return;
    }

    for (p = text, n = 1; n < line && p < text + len; p++) {
        if (*p == '\n') {
            n++;
        }
    }

    for (e = p, i = 0; e < text + len && *e != '\n' && i < 300; e++, i++) {
        /* void */
    }

    printf("    %.*s\n", (int) (e - p), p);
}


int
main(int argc, char **argv)
{
    char    *text, why[512];
    size_t   n;
    int      i, rc = 0;

    if (argc == 2 && strcmp(argv[1], "--directives") == 0) {
        for (i = 0; cc_dirs[i].name; i++) {
            printf("%s\n", cc_dirs[i].name);
        }
        return 0;
    }

    for (i = 1; i < argc; i++) {
        text = fz_read_file(argv[i], &n);
        if (text == NULL) {
            return 2;
        }

        if (cc_check(text, n, why, sizeof(why)) != 0) {
            printf("%s: %s\n", argv[i], why);
            cc_print_line(text, n, why);
            rc = 1;
        }

        free(text);
    }

    return rc;
}
