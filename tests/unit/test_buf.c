/* Tests of lib/buf.c and lib/error.c: growth, the maximum (an over-limit
 * append changes nothing), detach, formatted appends longer than the internal
 * scratch space, and the problem list. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baohan/buf.h"
#include "baohan/error.h"
#include "check.h"

static void test_init_empty(void)
{
    bh_buf b;
    bh_buf_init(&b, 100);
    CHECK(b.data == NULL);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(b.cap, 0);
    CHECK_EQ(b.max, 100);
    bh_buf_release(&b); /* releasing an empty buffer is fine */
    bh_buf_reset(&b);
    CHECK_EQ(b.len, 0);
}

static void test_growth(void)
{
    bh_buf b;
    bh_buf_init(&b, BH_BUF_MAX_DEFAULT);
    /* byte by byte across several reallocations: contents and NUL hold */
    for (size_t i = 0; i < 10000; i++) {
        CHECK_EQ(bh_buf_addch(&b, (char)('a' + i % 26)), BH_OK);
        if (b.cap < b.len + 1 || b.data[b.len] != '\0') {
            CHECK(!"capacity or terminator broken");
            break;
        }
    }
    CHECK_EQ(b.len, 10000);
    size_t bad = 0;
    for (size_t i = 0; i < b.len; i++)
        bad += b.data[i] != (char)('a' + i % 26);
    CHECK_EQ(bad, 0);
    CHECK_EQ(strlen(b.data), 10000);

    /* one large append */
    static char big[200000];
    memset(big, 'z', sizeof big);
    CHECK_EQ(bh_buf_add(&b, big, sizeof big), BH_OK);
    CHECK_EQ(b.len, 210000);
    CHECK(b.cap >= b.len + 1);
    CHECK_EQ(b.data[209999], 'z');
    CHECK_EQ(b.data[210000], '\0');

    /* reset keeps the allocation */
    size_t cap = b.cap;
    char *data = b.data;
    bh_buf_reset(&b);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(b.cap, cap);
    CHECK(b.data == data);
    CHECK_STR(b.data, "");
    CHECK_EQ(bh_buf_addstr(&b, "again"), BH_OK);
    CHECK_STR(b.data, "again");

    /* release frees but keeps the maximum */
    bh_buf_release(&b);
    CHECK(b.data == NULL);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(b.max, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_buf_addstr(&b, "reused"), BH_OK);
    CHECK_STR(b.data, "reused");
    bh_buf_release(&b);
}

static void test_zero_length_add(void)
{
    bh_buf b;
    bh_buf_init(&b, 10);
    CHECK_EQ(bh_buf_add(&b, NULL, 0), BH_OK);
    CHECK_EQ(b.len, 0);
    CHECK(b.data != NULL);
    CHECK_STR(b.data, "");
    bh_buf_release(&b);
}

static void test_max(void)
{
    bh_buf b;
    bh_buf_init(&b, 10);
    CHECK_EQ(bh_buf_addstr(&b, "12345678"), BH_OK);
    char *data = b.data;
    size_t cap = b.cap;
    /* each over-limit append fails with the buffer untouched */
    CHECK_EQ(bh_buf_addstr(&b, "abc"), BH_ETOOBIG);
    CHECK_EQ(bh_buf_add(&b, "abc", SIZE_MAX), BH_ETOOBIG);
    CHECK_EQ(bh_buf_addf(&b, "%d", 123), BH_ETOOBIG);
    CHECK_EQ(bh_buf_addf(&b, "%300s", "x"), BH_ETOOBIG); /* the long path */
    CHECK_EQ(bh_buf_reserve(&b, 3), BH_ETOOBIG);
    CHECK_EQ(bh_buf_reserve(&b, SIZE_MAX), BH_ETOOBIG);
    CHECK_EQ(b.len, 8);
    CHECK(b.data == data);
    CHECK_EQ(b.cap, cap);
    CHECK_STR(b.data, "12345678");
    /* up to the maximum exactly is fine, one more is not */
    CHECK_EQ(bh_buf_addstr(&b, "9"), BH_OK);
    CHECK_EQ(bh_buf_addch(&b, '0'), BH_OK);
    CHECK_EQ(b.len, 10);
    CHECK_EQ(bh_buf_addch(&b, 'x'), BH_ETOOBIG);
    CHECK_EQ(bh_buf_add(&b, "", 0), BH_OK);
    CHECK_STR(b.data, "1234567890");
    CHECK(b.cap <= b.max + 1); /* never allocates beyond max + NUL */
    bh_buf_release(&b);

    /* a maximum of zero holds only the empty string */
    bh_buf z;
    bh_buf_init(&z, 0);
    CHECK_EQ(bh_buf_addch(&z, 'a'), BH_ETOOBIG);
    CHECK_EQ(z.len, 0);
    bh_buf_release(&z);
}

/* An unbounded buffer (max SIZE_MAX) must still refuse a request whose size,
 * plus the NUL, cannot be represented, instead of wrapping to a tiny one. */
static void test_unbounded_max(void)
{
    bh_buf b;
    bh_buf_init(&b, SIZE_MAX);
    CHECK_EQ(bh_buf_reserve(&b, SIZE_MAX), BH_ETOOBIG);
    CHECK_EQ(bh_buf_add(&b, "abc", 3), BH_OK);
    CHECK_EQ(bh_buf_reserve(&b, SIZE_MAX - 3), BH_ETOOBIG);
    CHECK_STR(b.data, "abc");
    bh_buf_release(&b);
}

static void test_addf(void)
{
    bh_buf b;
    bh_buf_init(&b, 1 << 20);
    CHECK_EQ(bh_buf_addf(&b, "%s=%d", "n", 42), BH_OK);
    CHECK_STR(b.data, "n=42");
    CHECK_EQ(bh_buf_addf(&b, "%s", ""), BH_OK);
    CHECK_EQ(b.len, 4);

    /* longer than the 256-byte scratch: formatted straight into the buffer */
    static char long_arg[5000];
    for (size_t i = 0; i < sizeof long_arg - 1; i++)
        long_arg[i] = (char)('A' + i % 26);
    long_arg[sizeof long_arg - 1] = '\0';
    CHECK_EQ(bh_buf_addf(&b, "[%s]", long_arg), BH_OK);
    CHECK_EQ(b.len, 4 + 2 + strlen(long_arg));
    CHECK(memcmp(b.data, "n=42[ABC", 8) == 0);
    CHECK_EQ(b.data[b.len - 1], ']');
    CHECK_EQ(b.data[b.len], '\0');
    CHECK(memcmp(b.data + 5, long_arg, strlen(long_arg)) == 0);

    /* lengths around the scratch size: 255, 256, 257 */
    for (int w = 254; w <= 258; w++) {
        bh_buf c;
        bh_buf_init(&c, 1000);
        CHECK_EQ(bh_buf_addf(&c, "%0*d", w, 7), BH_OK);
        CHECK_EQ(c.len, (size_t)w);
        CHECK_EQ(c.data[w - 1], '7');
        CHECK_EQ(c.data[0], '0');
        CHECK_EQ(strlen(c.data), (size_t)w);
        bh_buf_release(&c);
    }

    /* exactly to the maximum through the long path */
    bh_buf e;
    bh_buf_init(&e, 300);
    CHECK_EQ(bh_buf_addf(&e, "%300s", "x"), BH_OK);
    CHECK_EQ(e.len, 300);
    CHECK_EQ(e.data[299], 'x');
    bh_buf_release(&e);
    bh_buf_release(&b);
}

static void test_detach(void)
{
    bh_buf b;
    bh_buf_init(&b, 100);
    CHECK_EQ(bh_buf_addstr(&b, "hello"), BH_OK);
    size_t len = 0;
    char *s = bh_buf_detach(&b, &len);
    CHECK_STR(s, "hello");
    CHECK_EQ(len, 5);
    CHECK(b.data == NULL);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(b.cap, 0);
    CHECK_EQ(b.max, 100);
    free(s);

    /* an empty buffer yields an allocated "" */
    len = 99;
    s = bh_buf_detach(&b, &len);
    CHECK(s != NULL);
    CHECK_STR(s, "");
    CHECK_EQ(len, 0);
    free(s);

    /* `len` may be NULL; the buffer is reusable afterwards */
    CHECK_EQ(bh_buf_addstr(&b, "x"), BH_OK);
    s = bh_buf_detach(&b, NULL);
    CHECK_STR(s, "x");
    free(s);
    CHECK_EQ(bh_buf_addstr(&b, "y"), BH_OK);
    CHECK_STR(b.data, "y");
    bh_buf_release(&b);
}

static void test_wipe(void)
{
    bh_buf b;
    bh_buf_init(&b, 100);
    CHECK_EQ(bh_buf_addstr(&b, "secret"), BH_OK);
    bh_buf_wipe(&b);
    CHECK(b.data == NULL);
    CHECK_EQ(b.len, 0);
    bh_buf_wipe(&b); /* twice, and on an empty buffer */
    CHECK_EQ(bh_buf_addstr(&b, "again"), BH_OK);
    CHECK_STR(b.data, "again");
    bh_buf_release(&b);
}

static void test_read_file(void)
{
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f)
        return;
    /* more than one 64 KiB chunk */
    for (int i = 0; i < 100000; i++)
        fputc('0' + i % 10, f);
    rewind(f);
    bh_buf b;
    bh_buf_init(&b, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_buf_read_file(&b, f), BH_OK);
    CHECK_EQ(b.len, 100000);
    CHECK_EQ(b.data[99999], '9');
    CHECK_EQ(b.data[100000], '\0');
    bh_buf_release(&b);

    /* over the maximum */
    rewind(f);
    bh_buf_init(&b, 1000);
    CHECK_EQ(bh_buf_read_file(&b, f), BH_ETOOBIG);
    CHECK(b.len <= 1000);
    bh_buf_release(&b);
    fclose(f);
}

static void test_strerror(void)
{
    for (int e = 0; e < BH_ERR_COUNT_; e++) {
        const char *m = bh_strerror((bh_err)e);
        CHECK(m != NULL && m[0] != '\0');
        CHECK(strcmp(m, "unknown error") != 0);
    }
    CHECK_STR(bh_strerror(BH_OK), "success");
    CHECK_STR(bh_strerror(BH_EKEY), "invalid SM4 key");
    CHECK_STR(bh_strerror(BH_ERR_COUNT_), "unknown error");
    CHECK_STR(bh_strerror((bh_err)-1), "unknown error");
}

static void test_diag(void)
{
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_diag_first_code(&d), BH_OK);
    CHECK(bh_diag_find(&d, "x") == NULL);

    /* add returns the code, so it can end a function */
    CHECK_EQ(bh_diag_add(&d, BH_EFORMAT, "bzjamount", "more than %d decimals", 2), BH_EFORMAT);
    CHECK_EQ(bh_diag_add(&d, BH_EMISSING, NULL, "whole input"), BH_EMISSING);
    /* past the initial capacity of 8 */
    for (int i = 0; i < 20; i++)
        CHECK_EQ(bh_diag_add(&d, BH_ETOOLONG, "f", "field %d", i), BH_ETOOLONG);
    CHECK_EQ(d.count, 22);
    CHECK_EQ(d.dropped, 0);
    CHECK_EQ(bh_diag_first_code(&d), BH_EFORMAT);

    const bh_problem *p = bh_diag_find(&d, "bzjamount");
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ(p->code, BH_EFORMAT);
        CHECK_STR(p->message, "more than 2 decimals");
    }
    p = bh_diag_find(&d, ""); /* a NULL field is stored as "" */
    CHECK(p != NULL);
    if (p)
        CHECK_EQ(p->code, BH_EMISSING);
    p = bh_diag_find(&d, "f"); /* the first of several */
    CHECK(p != NULL);
    if (p)
        CHECK_STR(p->message, "field 0");
    CHECK(bh_diag_find(&d, "bzj") == NULL); /* exact names only */
    CHECK(bh_diag_find(&d, "BZJAMOUNT") == NULL);

    /* a very long message is cut, not overflowed */
    static char longmsg[2000];
    memset(longmsg, 'm', sizeof longmsg - 1);
    CHECK_EQ(bh_diag_add(&d, BH_EINVAL, "long", "%s", longmsg), BH_EINVAL);
    p = bh_diag_find(&d, "long");
    CHECK(p != NULL);
    if (p)
        CHECK(strlen(p->message) > 0 && strlen(p->message) < sizeof longmsg - 1);

    bh_diag_release(&d);
    CHECK_EQ(d.count, 0);
    CHECK(d.items == NULL);
    CHECK_EQ(bh_diag_first_code(&d), BH_OK);
    /* reusable after release */
    CHECK_EQ(bh_diag_add(&d, BH_EHEX, "k", "odd length"), BH_EHEX);
    CHECK_EQ(bh_diag_first_code(&d), BH_EHEX);
    bh_diag_release(&d);

    /* a NULL diag discards the problem but still returns the code */
    CHECK_EQ(bh_diag_add(NULL, BH_EJSON, "x", "y"), BH_EJSON);
    CHECK(bh_diag_find(NULL, "x") == NULL);
    CHECK_EQ(bh_diag_first_code(NULL), BH_OK);
    bh_diag_release(NULL);

    /* a problem dropped for lack of memory still makes the diag fail */
    bh_diag dropped = BH_DIAG_INIT;
    dropped.dropped = 1;
    CHECK_EQ(bh_diag_first_code(&dropped), BH_ENOMEM);
}

int main(void)
{
    RUN(test_init_empty);
    RUN(test_growth);
    RUN(test_zero_length_add);
    RUN(test_max);
    RUN(test_unbounded_max);
    RUN(test_addf);
    RUN(test_detach);
    RUN(test_wipe);
    RUN(test_read_file);
    RUN(test_strerror);
    RUN(test_diag);
    return CHECK_DONE();
}
