/* Tests of lib/pdfsign.c and lib/pki.c on small hand-made PDFs: what signing
 * accepts and refuses, what verification finds, and the signer's checks.
 * (Real guarantees, checked with pdfsig, qpdf and openssl: test_e2e_signed.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baohan/baohan.h"
#include "check.h"

static char tmp[] = "/tmp/test_pdfsign.XXXXXX";
static char path_buf[4][512];

static const char *in_tmp(int slot, const char *name)
{
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", tmp, name);
    return path_buf[slot];
}

/* A PDF of the given objects ("<< ... >>" bodies, numbered from 1) with a
 * classic xref table and trailer (/Root 1 0 R). */
static void make_pdf(bh_buf *b, const char *const *objs, size_t n, const char *trailer_extra)
{
    size_t off[16];
    bh_buf_reset(b);
    CHECK_EQ(bh_buf_addstr(b, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), BH_OK);
    for (size_t i = 0; i < n; i++) {
        off[i] = b->len;
        CHECK_EQ(bh_buf_addf(b, "%zu 0 obj\n%s\nendobj\n", i + 1, objs[i]), BH_OK);
    }
    size_t xref = b->len;
    CHECK_EQ(bh_buf_addf(b, "xref\n0 %zu\n0000000000 65535 f \n", n + 1), BH_OK);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(bh_buf_addf(b, "%010zu 00000 n \n", off[i]), BH_OK);
    CHECK_EQ(bh_buf_addf(b, "trailer\n<< /Size %zu /Root 1 0 R %s>>\nstartxref\n%zu\n%%%%EOF\n",
                         n + 1, trailer_extra ? trailer_extra : "", xref),
             BH_OK);
}

static const char *const SIMPLE[] = {
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page % a comment, as cairo writes one\n /Parent 2 0 R "
    "/MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
    "<< /Length 0 >>\nstream\n\nendstream",
};

static bh_signer *signer;

static bh_pdf_sig_opts opts(void)
{
    static const char ap[] = "1 0 0 rg 0 0 10 10 re f";
    bh_pdf_sig_opts o = {{100, 100, 200, 200}, ap, sizeof ap - 1, "测试", "漳州", 1795000000};
    return o;
}

static bh_err sign(const bh_buf *in, bh_buf *out, bh_diag *d)
{
    bh_pdf_sig_opts o = opts();
    return bh_pdf_sign(in->data, in->len, signer, &o, out, d);
}

static int has(const bh_diag *d, const char *text)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->items[i].message, text))
            return 1;
    return 0;
}

static void test_sign_and_verify(void)
{
    bh_buf pdf, out;
    bh_buf_init(&pdf, 1 << 20);
    bh_buf_init(&out, 1 << 20);
    make_pdf(&pdf, SIMPLE, 4, "/Info 1 0 R ");
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_buf_addstr(&out, "kept:"), BH_OK);
    CHECK_EQ(sign(&pdf, &out, &d), BH_OK);
    CHECK_EQ(d.count, 0);
    /* Appended after what the buffer held; the original bytes unchanged. */
    CHECK(memcmp(out.data, "kept:", 5) == 0 && memcmp(out.data + 5, pdf.data, pdf.len) == 0);
    const char *signed_pdf = out.data + 5;
    size_t len = out.len - 5;
    CHECK(strstr(signed_pdf + pdf.len, "/SubFilter /adbe.pkcs7.detached") != NULL);
    CHECK(strstr(signed_pdf + pdf.len, "/FT /Sig") != NULL);
    CHECK(strstr(signed_pdf + pdf.len, "/SigFlags 3") != NULL);
    CHECK(strstr(signed_pdf + pdf.len, "/Annots [6 0 R]") != NULL);
    CHECK(strstr(signed_pdf + pdf.len, "/AcroForm 8 0 R") != NULL);
    CHECK(strstr(signed_pdf + pdf.len, "/M (D:20261118190640+08'00')") != NULL);
    CHECK(strstr(signed_pdf + pdf.len, "/Prev ") != NULL);
    CHECK(strstr(signed_pdf + pdf.len, "/Info 1 0 R") != NULL);
    CHECK(strstr(signed_pdf + pdf.len, "/Size 9 ") != NULL);

    bh_pdf_check c;
    CHECK_EQ(bh_pdf_verify(signed_pdf, len, in_tmp(0, "ec/ca.pem"), &c, &d), BH_OK);
    CHECK(c.found && c.whole_file && c.intact && c.chain_checked && c.trusted);
    CHECK(bh_pdf_check_valid(&c));
    CHECK_STR(c.problem, "");
    CHECK_STR(c.digest, "SHA256");
    CHECK_STR(c.signing_time, "2026-11-18 19:06:40 +08:00");
    CHECK(strstr(c.signer, "NOT FOR PRODUCTION") != NULL);

    /* Another CA: intact, not trusted. */
    CHECK_EQ(bh_pdf_verify(signed_pdf, len, in_tmp(0, "rsa/ca.pem"), &c, &d), BH_OK);
    CHECK(c.intact && !c.trusted && !bh_pdf_check_valid(&c));
    CHECK(strstr(c.problem, "does not chain") != NULL);

    /* Bytes appended after signing: not the whole file. */
    bh_buf more;
    bh_buf_init(&more, 1 << 20);
    CHECK_EQ(bh_buf_add(&more, signed_pdf, len), BH_OK);
    CHECK_EQ(bh_buf_addstr(&more, "% appended\n"), BH_OK);
    CHECK_EQ(bh_pdf_verify(more.data, more.len, NULL, &c, &d), BH_OK);
    CHECK(c.found && c.intact && !c.whole_file && !bh_pdf_check_valid(&c));
    CHECK(strstr(c.problem, "whole file") != NULL);

    /* One byte changed inside the signed range. */
    bh_buf_reset(&more);
    CHECK_EQ(bh_buf_add(&more, signed_pdf, len), BH_OK);
    more.data[20] ^= 1;
    CHECK_EQ(bh_pdf_verify(more.data, more.len, NULL, &c, &d), BH_OK);
    CHECK(c.found && !c.intact && !bh_pdf_check_valid(&c));

    /* A byte changed inside /Contents: in the zero padding after the DER,
     * and in the signer's certificate (its OU), which CMS_verify alone
     * lets pass when no CA is given. */
    const char *hole = NULL;
    for (size_t i = 0; i + 11 <= len; i++)
        if (memcmp(signed_pdf + i, "/Contents <", 11) == 0)
            hole = signed_pdf + i + 10;
    CHECK(hole != NULL);
    if (hole) {
        size_t at = (size_t)(hole - signed_pdf);
        size_t end = at + strcspn(hole, ">");
        bh_buf_reset(&more);
        CHECK_EQ(bh_buf_add(&more, signed_pdf, len), BH_OK);
        CHECK(more.data[end - 1] == '0');
        more.data[end - 1] = '1';
        CHECK_EQ(bh_pdf_verify(more.data, more.len, NULL, &c, &d), BH_OK);
        CHECK(c.found && !c.intact && !bh_pdf_check_valid(&c));
        CHECK(strstr(c.problem, "not zeros") != NULL);

        bh_buf_reset(&more);
        CHECK_EQ(bh_buf_add(&more, signed_pdf, len), BH_OK);
        const char *ou = "54455354204345525449464943415445"; /* "TEST CERTIFICATE" */
        char *o = NULL;
        for (size_t i = at; i + strlen(ou) <= end; i++)
            if (memcmp(more.data + i, ou, strlen(ou)) == 0)
                o = more.data + i;
        CHECK(o != NULL);
        if (o) {
            o[1] = '5'; /* 'T' -> 'U' */
            CHECK_EQ(bh_pdf_verify(more.data, more.len, NULL, &c, &d), BH_OK);
            CHECK(c.found && !c.intact && !bh_pdf_check_valid(&c));
            CHECK(strstr(c.problem, "certificate in the signature was changed") != NULL);
        }
    }

    /* A byte of each "TEST CA" in the signature (the signer's issuer name,
     * the embedded CA certificate's subject and issuer names): no signature
     * covers the embedded certificates, and the chain check uses the CA
     * file's copy, yet the file was changed — with a CA file or without. */
    int ca_names = 0, cert_changed = 0;
    for (size_t off = hole ? (size_t)(hole - signed_pdf) : len; off < len; off++) {
        if (memcmp(signed_pdf + off, "54455354204341", 14) != 0)
            continue;
        ca_names++;
        bh_buf_reset(&more);
        CHECK_EQ(bh_buf_add(&more, signed_pdf, len), BH_OK);
        more.data[off + 1] = '5'; /* 'T' -> 'U' */
        CHECK_EQ(bh_pdf_verify(more.data, more.len, NULL, &c, &d), BH_OK);
        CHECK(c.found && !c.intact && !bh_pdf_check_valid(&c));
        CHECK(strstr(c.problem, "was changed") != NULL);
        cert_changed += strstr(c.problem, "certificate in the signature was changed") != NULL;
        CHECK_EQ(bh_pdf_verify(more.data, more.len, in_tmp(0, "ec/ca.pem"), &c, &d), BH_OK);
        CHECK(c.found && !bh_pdf_check_valid(&c));
    }
    CHECK(ca_names >= 3);
    /* The signer's issuer no longer names the certificate the signer info
     * points to (the CMS check fails); the CA's own names are found here. */
    CHECK(cert_changed >= 2);

    /* An unknown digest among the SignedData's digestAlgorithms (the first
     * SHA-256 OID): invalid, and (under LeakSanitizer) nothing leaks. */
    bh_buf_reset(&more);
    CHECK_EQ(bh_buf_add(&more, signed_pdf, len), BH_OK);
    char *oid = hole ? strstr(more.data + (hole - signed_pdf), "0609608648016503040201") : NULL;
    CHECK(oid != NULL);
    if (oid) {
        memcpy(oid + 20, "7F", 2);
        CHECK_EQ(bh_pdf_verify(more.data, more.len, in_tmp(0, "ec/ca.pem"), &c, &d), BH_OK);
        CHECK(c.found && !bh_pdf_check_valid(&c));
    }

    /* A signed file is not signed again: it has an incremental update. */
    bh_buf again;
    bh_buf_init(&again, 1 << 20);
    bh_buf in = {(char *)signed_pdf, len, 0, len};
    bh_diag_release(&d);
    CHECK_EQ(sign(&in, &again, &d), BH_EFORMAT);
    CHECK(has(&d, "/Prev"));
    CHECK_EQ(again.len, 0);

    /* A signing time outside the certificate's validity is refused. */
    bh_pdf_sig_opts late = opts();
    late.signing_time = 4102444800; /* 2100 */
    bh_diag_release(&d);
    CHECK_EQ(bh_pdf_sign(pdf.data, pdf.len, signer, &late, &again, &d), BH_ERANGE);
    CHECK(has(&d, "not valid at the signing time"));
    CHECK_EQ(again.len, 0);

    /* No signature at all. */
    CHECK_EQ(bh_pdf_verify(pdf.data, pdf.len, NULL, &c, &d), BH_OK);
    CHECK(!c.found && !bh_pdf_check_valid(&c));

    bh_buf_release(&again);
    bh_buf_release(&more);
    bh_buf_release(&pdf);
    bh_buf_release(&out);
    bh_diag_release(&d);
}

/* SIMPLE into *pdf and, signed by `s` at `when`, into *out (both
 * initialised here). */
static void sign_simple(const bh_signer *s, int64_t when, bh_buf *pdf, bh_buf *out, bh_diag *d)
{
    bh_buf_init(pdf, 1 << 20);
    bh_buf_init(out, 1 << 20);
    make_pdf(pdf, SIMPLE, 4, NULL);
    bh_pdf_sig_opts o = opts();
    o.signing_time = when;
    CHECK_EQ(bh_pdf_sign(pdf->data, pdf->len, s, &o, out, d), BH_OK);
}

/* Replaces the CMS in the signed PDF `out` (its signature after `from`) by
 * one `openssl cms -sign` makes over the same byte range with the material
 * in `dir` and `extra` options. Returns whether it did. */
static int resign(bh_buf *out, size_t from, const char *dir, const char *extra)
{
    unsigned long r[4] = {0};
    const char *br = out->data ? strstr(out->data + from, "/ByteRange [") : NULL;
    CHECK(br && sscanf(br, "/ByteRange [%lu %lu %lu %lu", &r[0], &r[1], &r[2], &r[3]) == 4);
    if (!br || r[2] + r[3] != out->len)
        return 0;
    FILE *f = fopen(in_tmp(3, "range.bin"), "wb");
    CHECK(f != NULL);
    if (!f)
        return 0;
    CHECK(fwrite(out->data, 1, r[1], f) == r[1] && fwrite(out->data + r[2], 1, r[3], f) == r[3]);
    fclose(f);
    char cmd[2048], cert[64], key[64];
    snprintf(cert, sizeof cert, "%s/institution.pem", dir);
    snprintf(key, sizeof key, "%s/institution.key", dir);
    snprintf(cmd, sizeof cmd,
             "openssl cms -sign -binary -md sha256 -nosmimecap -signer %s -inkey %s %s "
             "-in %s -outform DER -out %s/other.der",
             in_tmp(0, cert), in_tmp(1, key), extra, in_tmp(3, "range.bin"), tmp);
    CHECK_EQ(system(cmd), 0);
    size_t der_len = 0;
    unsigned char *der = (unsigned char *)check_read_file(in_tmp(2, "other.der"), &der_len);
    CHECK(der && 2 * der_len <= r[2] - r[1] - 2);
    if (!der || 2 * der_len > r[2] - r[1] - 2) {
        free(der);
        return 0;
    }
    memset(out->data + r[1] + 1, '0', r[2] - r[1] - 2);
    for (size_t i = 0; i < der_len; i++) {
        static const char hex[] = "0123456789ABCDEF";
        out->data[r[1] + 1 + 2 * i] = hex[der[i] >> 4];
        out->data[r[1] + 2 + 2 * i] = hex[der[i] & 15];
    }
    free(der);
    return 1;
}

/* A certificate that has expired since it signed is not trusted, and the
 * problem says why. */
static void test_expired(void)
{
    bh_diag d = BH_DIAG_INIT;
    bh_signer *old = NULL;
    const int64_t y2010 = 1262304000, y2015 = 1420070400;
    CHECK_EQ(bh_pki_init(in_tmp(0, "old"), BH_KEY_EC, "旧机构", y2010, &d), BH_OK);
    CHECK_EQ(bh_signer_load(in_tmp(0, "old/institution.pem"), in_tmp(1, "old/institution.key"),
                            NULL, y2015, &old, &d),
             BH_OK);
    if (!old)
        return;
    bh_buf pdf, out;
    sign_simple(old, y2015, &pdf, &out, &d);
    bh_pdf_check c;
    CHECK_EQ(bh_pdf_verify(out.data, out.len, in_tmp(0, "old/ca.pem"), &c, &d), BH_OK);
    CHECK(c.intact && !c.trusted && !bh_pdf_check_valid(&c));
    CHECK(strstr(c.problem, "certificate has expired") != NULL);
    /* Without a CA file it verifies: it was made in 2015. */
    CHECK_EQ(bh_pdf_verify(out.data, out.len, NULL, &c, &d), BH_OK);
    CHECK(bh_pdf_check_valid(&c));
    /* Signed now, after the certificate expired (openssl signs with any
     * certificate): invalid, with or without a CA file. */
    if (resign(&out, pdf.len, "old", "")) {
        CHECK_EQ(bh_pdf_verify(out.data, out.len, NULL, &c, &d), BH_OK);
        CHECK(c.intact && !c.in_validity && !bh_pdf_check_valid(&c));
        CHECK(strstr(c.problem, "not valid at the signing time") != NULL);
    }
    bh_signer_free(old);
    bh_buf_release(&pdf);
    bh_buf_release(&out);
    bh_diag_release(&d);
}

/* Signatures made by other tools are read too: the CMS of `openssl cms
 * -sign` (signatureAlgorithm rsaEncryption, or RSASSA-PSS) put into the
 * placeholder of one of ours verifies. */
static void test_other_signers(void)
{
    static const char *const keyopts[] = {"", "-keyopt rsa_padding_mode:pss"};
    bh_signer *rsa = NULL;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_signer_load(in_tmp(0, "rsa/institution.pem"), in_tmp(1, "rsa/institution.key"),
                            in_tmp(2, "rsa/chain.pem"), bh_time_now(), &rsa, &d),
             BH_OK);
    if (!rsa)
        return;
    bh_buf pdf, out;
    sign_simple(rsa, bh_time_now(), &pdf, &out, &d);
    for (size_t k = 0; k < sizeof keyopts / sizeof *keyopts; k++) {
        if (!resign(&out, pdf.len, "rsa", keyopts[k]))
            continue;
        bh_pdf_check c;
        CHECK_EQ(bh_pdf_verify(out.data, out.len, in_tmp(0, "rsa/ca.pem"), &c, &d), BH_OK);
        CHECK(bh_pdf_check_valid(&c));
        if (!bh_pdf_check_valid(&c))
            fprintf(stderr, "  %s: %s\n", keyopts[k], c.problem);
    }
    bh_signer_free(rsa);
    bh_buf_release(&pdf);
    bh_buf_release(&out);
    bh_diag_release(&d);
}

/* The update's trailer repeats the original's /ID (PDF 32000 7.5.6). */
static void test_trailer_id(void)
{
    bh_buf pdf, out;
    bh_buf_init(&pdf, 1 << 20);
    bh_buf_init(&out, 1 << 20);
    make_pdf(&pdf, SIMPLE, 4, "/ID [<0A1B2C3D><4E5F6071>] ");
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(sign(&pdf, &out, &d), BH_OK);
    const char *trailer = out.data ? strstr(out.data + pdf.len, "trailer") : NULL;
    CHECK(trailer && strstr(trailer, "/ID [<0A1B2C3D><4E5F6071>]") != NULL);
    bh_pdf_check c;
    CHECK_EQ(bh_pdf_verify(out.data, out.len, NULL, &c, &d), BH_OK);
    CHECK(bh_pdf_check_valid(&c));
    bh_buf_release(&pdf);
    bh_buf_release(&out);
    bh_diag_release(&d);
}

/* A nested page tree is followed down to the first page. */
static void test_nested_pages(void)
{
    static const char *const nested[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Pages /Parent 2 0 R /Kids [4 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>",
    };
    bh_buf pdf, out;
    bh_buf_init(&pdf, 1 << 20);
    bh_buf_init(&out, 1 << 20);
    make_pdf(&pdf, nested, 4, NULL);
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(sign(&pdf, &out, &d), BH_OK);
    CHECK(out.data && strstr(out.data + pdf.len, "/P 4 0 R") != NULL);
    bh_pdf_check c;
    CHECK_EQ(bh_pdf_verify(out.data, out.len, NULL, &c, &d), BH_OK);
    CHECK(bh_pdf_check_valid(&c));
    bh_buf_release(&pdf);
    bh_buf_release(&out);
    bh_diag_release(&d);
}

/* What the signer does not understand it refuses, saying what, and leaves
 * the output as it was. */
static void expect_refused(const bh_buf *pdf, const char *why)
{
    bh_buf out;
    bh_buf_init(&out, 1 << 20);
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(sign(pdf, &out, &d), BH_EFORMAT);
    CHECK(has(&d, why));
    if (!has(&d, why))
        fprintf(stderr, "  expected a refusal naming \"%s\"\n", why);
    CHECK_EQ(out.len, 0);
    bh_buf_release(&out);
    bh_diag_release(&d);
}

static void test_refusals(void)
{
    bh_buf pdf;
    bh_buf_init(&pdf, 1 << 20);

    CHECK_EQ(bh_buf_addstr(&pdf, "not a pdf at all"), BH_OK);
    expect_refused(&pdf, "%PDF-1.");

    make_pdf(&pdf, SIMPLE, 4, NULL);
    pdf.len -= strlen("%%EOF\n");
    expect_refused(&pdf, "%%EOF");

    make_pdf(&pdf, SIMPLE, 4, NULL);
    char *sx = strstr(pdf.data, "startxref");
    memcpy(sx, "startxraf", 9);
    expect_refused(&pdf, "no startxref");

    /* A cross-reference stream where the table should be. */
    bh_buf_reset(&pdf);
    CHECK_EQ(bh_buf_addstr(&pdf, "%PDF-1.5\n1 0 obj\n<< /Type /XRef /Size 2 /W [1 2 1] >>\n"
                                 "stream\nxx\nendstream\nendobj\nstartxref\n9\n%%EOF\n"),
             BH_OK);
    expect_refused(&pdf, "cross-reference stream");

    static const char *const acro[] = {
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] >> >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R >>",
    };
    make_pdf(&pdf, acro, 3, NULL);
    expect_refused(&pdf, "/AcroForm");

    static const char *const annots[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /Annots [] >>",
    };
    make_pdf(&pdf, annots, 3, NULL);
    expect_refused(&pdf, "/Annots");

    static const char *const not_catalog[] = {
        "<< /Type /Pages /Kids [] /Count 0 >>",
    };
    make_pdf(&pdf, not_catalog, 1, NULL);
    expect_refused(&pdf, "/Catalog");

    make_pdf(&pdf, SIMPLE, 4, "/Encrypt 1 0 R ");
    expect_refused(&pdf, "encrypted");

    /* An xref entry pointing at the wrong object. */
    make_pdf(&pdf, SIMPLE, 4, NULL);
    char *entry = strstr(pdf.data, "0000000000 65535 f \n") + 20;
    memcpy(entry, "0000000002", 10);
    expect_refused(&pdf, "does not point at");

    bh_buf_release(&pdf);
}

static void test_signer_checks(void)
{
    bh_signer *s = NULL;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_signer_load(in_tmp(0, "nope.pem"), in_tmp(1, "ec/institution.key"), NULL,
                            bh_time_now(), &s, &d),
             BH_EIO);
    CHECK(s == NULL);
    bh_diag_release(&d);
    /* The key of another certificate. */
    CHECK_EQ(bh_signer_load(in_tmp(0, "ec/institution.pem"), in_tmp(1, "rsa/institution.key"),
                            NULL, bh_time_now(), &s, &d),
             BH_EFORMAT);
    CHECK(has(&d, "is not the key of the certificate"));
    bh_diag_release(&d);
    /* Outside the certificate's validity. */
    CHECK_EQ(bh_signer_load(in_tmp(0, "ec/institution.pem"), in_tmp(1, "ec/institution.key"),
                            NULL, 4102444800, &s, &d),
             BH_ERANGE);
    bh_diag_release(&d);
    /* Readable by others. */
    chmod(in_tmp(1, "ec/institution.key"), 0644);
    CHECK_EQ(bh_signer_load(in_tmp(0, "ec/institution.pem"), in_tmp(1, "ec/institution.key"),
                            NULL, bh_time_now(), &s, &d),
             BH_EFORMAT);
    CHECK(has(&d, "chmod 600"));
    chmod(in_tmp(1, "ec/institution.key"), 0600);
    bh_diag_release(&d);
    /* Weak or unsupported keys, made with the openssl command. */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey rsa:1024 -nodes -keyout rsa1024.key "
             "-out rsa1024.pem -subj /CN=weak -days 2 2>/dev/null && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
             "-keyout p384.key -out p384.pem -subj /CN=p384 -days 2 2>/dev/null && "
             "chmod 600 rsa1024.key p384.key",
             tmp);
    CHECK_EQ(system(cmd), 0);
    CHECK_EQ(bh_signer_load(in_tmp(0, "rsa1024.pem"), in_tmp(1, "rsa1024.key"), NULL,
                            bh_time_now(), &s, &d),
             BH_EFORMAT);
    CHECK(has(&d, "at least 2048 bits"));
    bh_diag_release(&d);
    CHECK_EQ(bh_signer_load(in_tmp(0, "p384.pem"), in_tmp(1, "p384.key"), NULL, bh_time_now(), &s,
                            &d),
             BH_EFORMAT);
    CHECK(has(&d, "P-256"));
    bh_diag_release(&d);
    /* SM2 loads, and says so. */
    CHECK_EQ(bh_signer_load(in_tmp(0, "sm2/institution.pem"), in_tmp(1, "sm2/institution.key"),
                            in_tmp(2, "sm2/chain.pem"), bh_time_now(), &s, &d),
             BH_OK);
    CHECK(s && bh_signer_alg(s) == BH_KEY_SM2);
    bh_signer_free(s);
    /* pki init never overwrites. */
    CHECK_EQ(bh_pki_init(in_tmp(0, "ec"), BH_KEY_EC, "x", bh_time_now(), &d), BH_EDUPKEY);
    /* The name is at most BH_PKI_NAME_MAX characters, not bytes: as many
     * Chinese characters (three bytes each) are fine, one more is not. */
    char name[(BH_PKI_NAME_MAX + 1) * 3 + 1] = "";
    for (int i = 0; i <= BH_PKI_NAME_MAX; i++)
        memcpy(name + 3 * i, "测", 4);
    CHECK_EQ(bh_pki_init(in_tmp(0, "long"), BH_KEY_EC, name, bh_time_now(), &d), BH_ETOOLONG);
    name[BH_PKI_NAME_MAX * 3] = '\0';
    CHECK_EQ(bh_pki_init(in_tmp(0, "long"), BH_KEY_EC, name, bh_time_now(), &d), BH_OK);
    bh_diag_release(&d);
}

int main(void)
{
    if (!mkdtemp(tmp))
        return 2;
    /* The material is valid from a day before the fixed signing time the
     * tests use (2026-11-18 11:06:40 UTC) for ten years. */
    static const struct {
        const char *dir;
        bh_key_alg alg;
    } sets[] = {{"ec", BH_KEY_EC}, {"rsa", BH_KEY_RSA}, {"sm2", BH_KEY_SM2}};
    bh_diag d = BH_DIAG_INIT;
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(bh_pki_init(in_tmp(0, sets[i].dir), sets[i].alg, "测试机构", 1794900000, &d),
                 BH_OK);
    CHECK_EQ(bh_signer_load(in_tmp(0, "ec/institution.pem"), in_tmp(1, "ec/institution.key"),
                            in_tmp(2, "ec/chain.pem"), bh_time_now(), &signer, &d),
             BH_OK);
    bh_diag_release(&d);
    if (!signer)
        return CHECK_DONE();
    RUN(test_sign_and_verify);
    RUN(test_trailer_id);
    RUN(test_expired);
    RUN(test_other_signers);
    RUN(test_nested_pages);
    RUN(test_refusals);
    RUN(test_signer_checks);
    bh_signer_free(signer);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return CHECK_DONE();
}
