
/*
 * Unit tests: generator/buf.c.  kngx_buf_cat() writes the bytes
 * kngx_buf_printf() writes with "%s" for each string (the renderers use
 * either for the same text), across the buffer's growth from empty and
 * past its first 64 KiB, the text always NUL-terminated; empty strings
 * add nothing; a buffer out of memory stays so and is not written.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "render.h"


static void
test_cat_is_printf(void **state)
{
    kngx_buf_t   a, b;
    char         piece[40];
    size_t       i;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));

    /* pieces of every length 0-39 until well past the first 64 KiB */
    for (i = 0; a.len < 300 * 1024; i++) {
        memset(piece, 'a' + (char) (i % 26), i % 40);
        piece[i % 40] = '\0';

        kngx_buf_cat(&a, "    location ", piece, " {\n", "", NULL);
        kngx_buf_printf(&b, "    location %s {\n", piece);

        assert_int_equal(a.len, b.len);
        assert_int_equal(a.data[a.len], '\0');
    }

    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(strlen(a.data), a.len);
    assert_int_equal(a.nomem, 0);

    kngx_buf_free(&a);
    kngx_buf_free(&b);
}


static void
test_cat_edges(void **state)
{
    kngx_buf_t  a;
    char        big[200 * 1024];

    memset(&a, 0, sizeof(a));

    /* nothing appended: no buffer needed */
    kngx_buf_cat(&a, NULL);
    assert_int_equal(a.len, 0);

    kngx_buf_cat(&a, "", "", NULL);
    assert_non_null(a.data);
    assert_int_equal(a.len, 0);
    assert_string_equal(a.data, "");

    /* one string larger than the buffer doubles to */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kngx_buf_cat(&a, "k", big, ";\n", NULL);
    assert_int_equal(a.len, sizeof(big) + 2);
    assert_true(a.cap > a.len);
    assert_memory_equal(a.data + 1, big, sizeof(big) - 1);
    assert_string_equal(a.data + sizeof(big), ";\n");

    kngx_buf_free(&a);

    /* out of memory stays out of memory: nothing more is written */
    memset(&a, 0, sizeof(a));
    a.nomem = 1;
    kngx_buf_cat(&a, "text", NULL);
    kngx_buf_printf(&a, "%s", "text");
    assert_null(a.data);
    assert_int_equal(a.len, 0);
    assert_int_equal(a.nomem, 1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_cat_is_printf),
        cmocka_unit_test(test_cat_edges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
