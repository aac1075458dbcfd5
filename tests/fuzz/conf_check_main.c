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
    FILE    *f;
    char    *text, why[512];
    long     n;
    int      i, rc = 0;

    if (argc == 2 && strcmp(argv[1], "--directives") == 0) {
        for (i = 0; cc_dirs[i].name; i++) {
            printf("%s\n", cc_dirs[i].name);
        }
        return 0;
    }

    for (i = 1; i < argc; i++) {
        f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 2;
        }

        if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
            || fseek(f, 0, SEEK_SET) != 0)
        {
            perror(argv[i]);
            fclose(f);
            return 2;
        }

        text = malloc((size_t) n + 1);
        if (text == NULL || fread(text, 1, (size_t) n, f) != (size_t) n) {
            perror(argv[i]);
            free(text);
            fclose(f);
            return 2;
        }
        fclose(f);

        if (cc_check(text, (size_t) n, why, sizeof(why)) != 0) {
            printf("%s: %s\n", argv[i], why);
            cc_print_line(text, (size_t) n, why);
            rc = 1;
        }

        free(text);
    }

    return rc;
}
