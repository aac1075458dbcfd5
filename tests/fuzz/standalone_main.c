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


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
main(int argc, char **argv)
{
    FILE     *f;
    uint8_t  *buf;
    long      n;
    int       i;

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

        /* exactly n bytes, as libFuzzer gives them (1 if empty) */
        buf = malloc(n ? (size_t) n : 1);
        if (buf == NULL
            || (n && fread(buf, 1, (size_t) n, f) != (size_t) n))
        {
            perror(argv[i]);
            free(buf);
            fclose(f);
            return 2;
        }

        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t) n);
        free(buf);
    }

    return 0;
}
