/*
 * Reading a whole input file for the standalone drivers (standalone_main.c,
 * conf_check_main.c).  Header-only: one static function.
 */

#ifndef FZ_READ_FILE_H
#define FZ_READ_FILE_H

#include <stdio.h>
#include <stdlib.h>


/*
 * The bytes of path in a malloc()ed buffer of *len + 1 bytes (exactly the
 * file, then a NUL), or NULL after perror(path).
 */
static char *
fz_read_file(const char *path, size_t *len)
{
    FILE  *f;
    char  *buf;
    long   n;

    f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        perror(path);
        fclose(f);
        return NULL;
    }

    buf = malloc((size_t) n + 1);
    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        perror(path);
        free(buf);
        fclose(f);
        return NULL;
    }

    fclose(f);
    buf[n] = '\0';
    *len = (size_t) n;

    return buf;
}

#endif /* FZ_READ_FILE_H */
