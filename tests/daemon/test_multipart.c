/* multipart/form-data parsing: boundaries, parts, binary content, refusals. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "multipart.h"

static const char CT[] = "multipart/form-data; boundary=----WebKitFormBoundaryX3a9";

/* Parses a body given as a C literal (`len` includes any NULs in it). */
static bh_err parse(const char *ct, const char *body, size_t len, const bh_mp_limits *lim,
                    bh_mp_form *form, bh_diag *d)
{
    return bh_multipart_parse(ct, body, len, lim, form, d);
}

static int part_is(const bh_mp_part *p, const char *data, size_t len)
{
    return p && p->len == len && memcmp(p->data, data, len) == 0;
}

static void test_well_formed(void)
{
    static const char body[] = "This preamble is ignored.\r\n"
                               "------WebKitFormBoundaryX3a9\r\n"
                               "Content-Disposition: form-data; name=\"biddercontact\"\r\n"
                               "\r\n"
                               "林建国\r\n"
                               "------WebKitFormBoundaryX3a9\r\n"
                               "content-disposition: form-data; name=empty\r\n"
                               "\r\n"
                               "\r\n"
                               "------WebKitFormBoundaryX3a9\r\n"
                               "Content-Disposition: form-data; name=\"qualification\"; "
                               "filename=\"资质 证书.pdf\"\r\n"
                               "Content-Type: application/pdf\r\n"
                               "\r\n"
                               "%PDF-1.7 body\r\n"
                               "------WebKitFormBoundaryX3a9--\r\n"
                               "and this epilogue too";
    bh_mp_form form;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(parse(CT, body, sizeof body - 1, NULL, &form, &d), BH_OK);
    CHECK_EQ(form.count, 3);
    const bh_mp_part *p = bh_multipart_get(&form, "biddercontact");
    CHECK(part_is(p, "林建国", strlen("林建国")));
    CHECK(p && p->filename == NULL && p->content_type == NULL);
    p = bh_multipart_get(&form, "empty");
    CHECK(p && p->len == 0);
    p = bh_multipart_get(&form, "qualification");
    CHECK(part_is(p, "%PDF-1.7 body", 13));
    CHECK_STR(p ? p->filename : NULL, "资质 证书.pdf");
    CHECK_STR(p ? p->content_type : NULL, "application/pdf");
    CHECK(bh_multipart_get(&form, "missing") == NULL);
    bh_multipart_release(&form);
    CHECK_EQ(form.count, 0);
    bh_diag_release(&d);

    /* No preamble: the body opens with the delimiter; an empty filename
     * (a file input left empty) is kept as "". */
    static const char body2[] = "--b\r\n"
                                "Content-Disposition: form-data; name=\"f\"; filename=\"\"\r\n"
                                "Content-Type: application/octet-stream\r\n"
                                "\r\n"
                                "\r\n"
                                "--b--";
    CHECK_EQ(parse("multipart/form-data;boundary=b", body2, sizeof body2 - 1, NULL, &form, &d),
             BH_OK);
    CHECK_EQ(form.count, 1);
    CHECK(form.count == 1 && form.parts[0].filename && form.parts[0].filename[0] == '\0' &&
          form.parts[0].len == 0);
    bh_multipart_release(&form);

    /* Transport padding after a delimiter, and a media type in upper case
     * with another parameter before the boundary. */
    static const char body3[] = "--b \t\r\n"
                                "Content-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
                                "--b\r\n"
                                "Content-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n"
                                "--b--\r\n";
    CHECK_EQ(parse("Multipart/Form-Data; charset=utf-8; boundary=b", body3, sizeof body3 - 1, NULL,
                   &form, &d),
             BH_OK);
    CHECK_EQ(form.count, 2);
    CHECK(part_is(bh_multipart_get(&form, "a"), "1", 1)); /* the first one wins */
    bh_multipart_release(&form);
    bh_diag_release(&d);
}

static void test_quoted_boundary(void)
{
    static const char body[] = "--simple boundary:(x)\r\n"
                               "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                               "value\r\n"
                               "--simple boundary:(x)--\r\n";
    bh_mp_form form;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(parse("multipart/form-data; boundary=\"simple boundary:(x)\"", body, sizeof body - 1,
                   NULL, &form, &d),
             BH_OK);
    CHECK(part_is(bh_multipart_get(&form, "a"), "value", 5));
    bh_multipart_release(&form);

    char boundary[BH_MP_BOUNDARY_MAX + 1];
    CHECK_EQ(bh_multipart_boundary("multipart/form-data; boundary=\"q\"", boundary, &d), BH_OK);
    CHECK_STR(boundary, "q");
    CHECK_EQ(bh_multipart_boundary("multipart/form-data; BOUNDARY=abc'+_-.", boundary, &d), BH_OK);
    CHECK_STR(boundary, "abc'+_-.");
    /* Characters that are separators in a header must be quoted. */
    CHECK_EQ(bh_multipart_boundary("multipart/form-data; boundary=a:b", boundary, &d), BH_EFORMAT);
    CHECK_EQ(bh_multipart_boundary("multipart/form-data; boundary=\"'()+_,-./:=?\"", boundary, &d),
             BH_OK);
    CHECK_STR(boundary, "'()+_,-./:=?");
    bh_diag_release(&d);
}

static void test_binary_content(void)
{
    /* A file holding CRLF, NULs, a lone "--", and text that starts like the
     * delimiter but is not it: all of it is content. */
    static const char content[] = "\x89PNG\r\n\x1A\n\0\0\r\n\r\n--\r\n-\r\n--boundar\0\r\n--X\r";
    size_t clen = sizeof content - 1;
    bh_buf body;
    bh_buf_init(&body, 4096);
    CHECK_EQ(bh_buf_addstr(&body, "--boundary\r\nContent-Disposition: form-data; name=\"f\"; "
                                  "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"),
             BH_OK);
    CHECK_EQ(bh_buf_add(&body, content, clen), BH_OK);
    CHECK_EQ(bh_buf_addstr(&body, "\r\n--boundary--\r\n"), BH_OK);

    bh_mp_form form;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(parse("multipart/form-data; boundary=boundary", body.data, body.len, NULL, &form, &d),
             BH_OK);
    CHECK_EQ(form.count, 1);
    CHECK(part_is(bh_multipart_get(&form, "f"), content, clen));
    bh_multipart_release(&form);

    /* Content ending in CRLF keeps it: only the CRLF right before the
     * delimiter belongs to the delimiter. */
    static const char body2[] = "--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n"
                                "line\r\n\r\n--b--";
    CHECK_EQ(parse("multipart/form-data; boundary=b", body2, sizeof body2 - 1, NULL, &form, &d),
             BH_OK);
    CHECK(part_is(bh_multipart_get(&form, "t"), "line\r\n", 6));
    bh_multipart_release(&form);
    bh_buf_release(&body);
    bh_diag_release(&d);
}

static void test_missing_final_boundary(void)
{
    bh_mp_form form;
    bh_diag d = BH_DIAG_INIT;
    static const char *const bodies[] = {
        /* the body stops inside a part */
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",
        /* a delimiter, but never the close delimiter */
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b",
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b\r\n",
        /* headers that never end */
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n",
        /* no delimiter at all */
        "just some text",
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        bh_err err =
            parse("multipart/form-data; boundary=b", bodies[i], strlen(bodies[i]), NULL, &form, &d);
        CHECK_EQ(err, BH_EFORMAT);
        CHECK(form.count == 0 && form.parts == NULL);
        bh_diag_release(&d);
    }
}

static void test_malformed(void)
{
    bh_mp_form form;
    bh_diag d = BH_DIAG_INIT;
    static const char *const bodies[] = {
        /* a delimiter followed by something other than CRLF or "--" */
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--bx\r\n\r\n--b--",
        /* a part without Content-Disposition, or without a name */
        "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--",
        "--b\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\nv\r\n--b--",
        "--b\r\n\r\nv\r\n--b--",
        /* not form-data */
        "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--b--",
        /* a header line without a colon, an LF-only header line */
        "--b\r\nContent-Disposition form-data\r\n\r\nv\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=\"a\"\nX: y\r\n\r\nv\r\n--b--",
        /* an unterminated quoted parameter, a parameter twice */
        "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nv\r\n--b--",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        bh_err err =
            parse("multipart/form-data; boundary=b", bodies[i], strlen(bodies[i]), NULL, &form, &d);
        if (err != BH_EFORMAT)
            fprintf(stderr, "body %zu accepted or wrong error\n", i);
        CHECK_EQ(err, BH_EFORMAT);
        CHECK(form.count == 0);
        bh_diag_release(&d);
    }
}

static void test_limits(void)
{
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=\"small\"\r\n\r\n"
                               "1234\r\n"
                               "--b\r\nContent-Disposition: form-data; name=\"big\"\r\n\r\n"
                               "123456789\r\n"
                               "--b--";
    bh_mp_form form;
    bh_diag d = BH_DIAG_INIT;
    bh_mp_limits lim = {10, 8, 1024};
    CHECK_EQ(parse("multipart/form-data; boundary=b", body, sizeof body - 1, &lim, &form, &d),
             BH_ETOOBIG);
    CHECK(bh_diag_find(&d, "big") != NULL); /* the oversize part is named */
    CHECK(form.count == 0);
    bh_diag_release(&d);

    lim.max_part = 9; /* exactly at the limit is fine */
    CHECK_EQ(parse("multipart/form-data; boundary=b", body, sizeof body - 1, &lim, &form, &d),
             BH_OK);
    bh_multipart_release(&form);

    lim.max_parts = 1;
    CHECK_EQ(parse("multipart/form-data; boundary=b", body, sizeof body - 1, &lim, &form, &d),
             BH_ETOOBIG);
    bh_diag_release(&d);

    lim.max_parts = 10;
    lim.max_header = 20; /* shorter than the Content-Disposition line */
    CHECK_EQ(parse("multipart/form-data; boundary=b", body, sizeof body - 1, &lim, &form, &d),
             BH_ETOOBIG);
    bh_diag_release(&d);
}

static void test_no_boundary(void)
{
    static const char body[] =
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--";
    char seventy_one[128];
    memset(seventy_one, 'x', 71);
    seventy_one[71] = '\0';
    char ct_long[200];
    snprintf(ct_long, sizeof ct_long, "multipart/form-data; boundary=%s", seventy_one);
    const char *const types[] = {
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"unterminated",
        "multipart/form-data; boundary=\"ends with space \"",
        "multipart/form-data; boundary=b; boundary=c",
        "multipart/form-data; boundary=a{b}",
        "multipart/mixed; boundary=b",
        "application/x-www-form-urlencoded",
        "multipart/form-datax; boundary=b",
        "",
        NULL,
        ct_long,
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        bh_mp_form form;
        bh_diag d = BH_DIAG_INIT;
        CHECK_EQ(parse(types[i], body, sizeof body - 1, NULL, &form, &d), BH_EFORMAT);
        CHECK(bh_diag_find(&d, "Content-Type") != NULL);
        CHECK(form.count == 0);
        bh_diag_release(&d);
    }
    /* 70 characters is the most RFC 2046 allows. */
    char boundary[BH_MP_BOUNDARY_MAX + 1];
    ct_long[strlen(ct_long) - 1] = '\0';
    CHECK_EQ(bh_multipart_boundary(ct_long, boundary, NULL), BH_OK);
    CHECK_EQ(strlen(boundary), 70);
}

int main(void)
{
    RUN(test_well_formed);
    RUN(test_quoted_boundary);
    RUN(test_binary_content);
    RUN(test_missing_final_boundary);
    RUN(test_malformed);
    RUN(test_limits);
    RUN(test_no_boundary);
    return CHECK_DONE();
}
