/*
 * A main() for the fuzz targets without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once per file named on the command line.  Used
 * by run.sh --valgrind-corpus to replay corpora in a plain (gcc, no
 * sanitizer) build under valgrind, which sees misuse inside the
 * uninstrumented libraries (jansson, libyaml) that ASan misses.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_file.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
main(int argc, char **argv)
{
    char     *text;
    uint8_t  *buf;
    size_t    n;
    int       i;

    for (i = 1; i < argc; i++) {
        text = fz_read_file(argv[i], &n);
        if (text == NULL) {
            return 2;
        }

        /* exactly n bytes, as libFuzzer gives them (1 if empty): valgrind
         * sees a read past them */
        buf = malloc(n ? n : 1);
        if (buf == NULL) {
            perror(argv[i]);
            free(text);
            return 2;
        }

        memcpy(buf, text, n);
        free(text);

        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
    }

    return 0;
}
