/* Black-box: every issued guarantee is a signed PDF with the institution's
 * seal and a QR code to the public verification page.
 *
 * For each key type (RSA, ECDSA P-256, SM2) baohand runs with test material
 * from bh_pki_init, issues a guarantee (automatic underwriting), and the
 * guarantee fetched through getbaohaninfo (its Base64 copy, which must match
 * the download and the MD5) is checked by independent tools:
 *   - RSA and ECDSA: poppler's pdfsig says the signature is valid, the
 *     certificate untrusted without the CA and trusted once the test CA is in
 *     an NSS database made with certutil;
 *   - SM2 (NSS knows no SM2): openssl cms -verify over the byte range;
 *   - all: qpdf --check, baohan verify-pdf with and without --ca;
 *   - one byte changed: pdfsig, verify-pdf and the verification page all say
 *     it is not genuine;
 *   - the first page as PNG (pdftoppm): red seal pixels in the seal area,
 *     dark QR modules in the QR area, the QR decodes (zbarimg) to the
 *     verification URL; pdftotext holds the number, the parties, the amount in
 *     figures and in capital numerals and the validity;
 *   - the verification page shows the facts and the status and no personal
 *     data, and tells a genuine upload from a changed one. */
#include <cairo.h>

#include "e2e.h"

#define BIDDER "福建省漳州市恒泰建设工程有限公司"

static e2e_daemon daemon_;
static e2e_receiver receiver;
static bh_buf out;
static char tmp[] = "/tmp/test_e2e_signed.XXXXXX";

/* Runs a shell command; returns its exit status, its output (stdout and
 * stderr) in *output (malloc'd) when not NULL. */
static int sh(const char *cmd, char **output)
{
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) {
        fprintf(stderr, "cannot run %s\n", cmd);
        exit(2);
    }
    size_t len = 0;
    char *text = check_read_stream(p, &len);
    int status = pclose(p);
    if (output)
        *output = text ? text : strdup("");
    else
        free(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

#define CHECK_HAS(text, needle)                                                                    \
    do {                                                                                           \
        const char *h_ = (text);                                                                   \
        CHECK(h_ && strstr(h_, needle));                                                           \
        if (!h_ || !strstr(h_, needle))                                                            \
            fprintf(stderr, "  missing \"%s\" in:\n%s\n", needle, h_ ? h_ : "(null)");           \
    } while (0)

#define CHECK_LACKS(text, needle) CHECK((text) && !strstr((text), needle))

/* ---- issuing ---- */

/* Applies, submits, pays: automatic underwriting issues. Fills the number
 * and the guarantee PDF as getbaohaninfo returns it. */
static void issue(const char *applyno, char baohanno[64], bh_buf *pdf)
{
    int64_t id = e2e_apply_and_submit(&daemon_, applyno, "200000.00", &out);
    CHECK_EQ(e2e_pay(&daemon_, id, BIDDER, "300.00", &out), 200);
    CHECK(out.data && strstr(out.data, "\"state\":\"issued\""));
    const char *no = out.data ? strstr(out.data, "\"baohanno\":\"") : NULL;
    baohanno[0] = '\0';
    if (no)
        snprintf(baohanno, 64, "%.*s", (int)strcspn(no + 12, "\""), no + 12);
    CHECK(strncmp(baohanno, "BH20", 4) == 0);
    bh_msg *m, *answer = NULL;

    /* getbaohaninfo: the Base64 copy is the file served, and the MD5 is its. */
    m = bh_msg_new();
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "baohanno", baohanno), BH_OK);
    CHECK_EQ(e2e_call(&daemon_, "getbaohaninfo", m, &answer), 1);
    const bh_field *data = answer ? bh_msg_get(answer, "data") : NULL;
    bh_msg *dm = NULL;
    if (data)
        CHECK_EQ(bh_msg_parse(data->value, data->value_len, data->value_len, 0, &dm, NULL), BH_OK);
    const char *b64 = dm ? bh_msg_text(dm, "baohanfile") : NULL;
    CHECK(b64 != NULL);
    bh_buf_reset(pdf);
    if (b64)
        CHECK_EQ(bh_base64_decode(b64, strlen(b64), pdf), BH_OK);
    char md5[33] = "";
    CHECK_EQ(bh_md5_hex(pdf->data, pdf->len, md5), BH_OK);
    CHECK_STR(dm ? bh_msg_text(dm, "guaranteemd5") : NULL, md5);
    bh_buf served;
    bh_buf_init(&served, 64 << 20);
    CHECK_EQ(e2e_http("GET", dm ? bh_msg_text(dm, "baohanurl") : "", NULL, NULL, 0, NULL, &served),
             200);
    CHECK(served.len == pdf->len && memcmp(served.data, pdf->data, pdf->len) == 0);
    bh_buf_release(&served);
    bh_msg_free(dm);
    bh_msg_free(answer);
    bh_msg_free(m);
}

/* ---- checks on the file ---- */

static void check_pdfsig(const char *pdf, const char *nss, int trusted_expected)
{
    char cmd[1024], *o = NULL;
    if (nss)
        snprintf(cmd, sizeof cmd, "pdfsig -nssdir sql:%s %s", nss, pdf);
    else
        snprintf(cmd, sizeof cmd, "pdfsig %s", pdf);
    sh(cmd, &o);
    CHECK_HAS(o, "Signature Field Name: Signature1");
    CHECK_HAS(o, "NOT FOR PRODUCTION");
    CHECK_HAS(o, "Signature Type: adbe.pkcs7.detached");
    CHECK_HAS(o, "Total document signed");
    CHECK_HAS(o, "Signature Validation: Signature is Valid.");
    if (trusted_expected)
        CHECK_HAS(o, "Certificate Validation: Certificate is Trusted.");
    else
        CHECK_LACKS(o, "Certificate is Trusted.");
    free(o);
}

/* The byte range and the DER of /Contents into files, for openssl. */
static void split_signature(const bh_buf *pdf, const char *range_path, const char *der_path)
{
    const char *br = NULL; /* the last one; the file holds NULs, so no strstr */
    for (size_t i = 0; i + 10 <= pdf->len; i++)
        if (memcmp(pdf->data + i, "/ByteRange", 10) == 0)
            br = pdf->data + i;
    CHECK(br != NULL);
    unsigned long r[4] = {0};
    CHECK(br && sscanf(br, "/ByteRange [%lu %lu %lu %lu", &r[0], &r[1], &r[2], &r[3]) == 4);
    CHECK(r[0] == 0 && r[2] + r[3] == pdf->len && r[1] < r[2]);
    if (!(r[2] + r[3] == pdf->len && r[1] < r[2]))
        return;
    bh_buf range;
    bh_buf_init(&range, 64 << 20);
    CHECK_EQ(bh_buf_add(&range, pdf->data, r[1]), BH_OK);
    CHECK_EQ(bh_buf_add(&range, pdf->data + r[2], r[3]), BH_OK);
    write_bytes(range_path, range.data, range.len);
    bh_buf_release(&range);
    size_t hex_len = r[2] - r[1] - 2;
    unsigned char *der = malloc(hex_len / 2);
    for (size_t i = 0; i < hex_len / 2; i++) {
        unsigned v = 0;
        sscanf(pdf->data + r[1] + 1 + 2 * i, "%2x", &v);
        der[i] = (unsigned char)v;
    }
    write_bytes(der_path, der, hex_len / 2);
    free(der);
}

static int verify_pdf(const char *pdf, const char *ca, char **o)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s verify-pdf %s%s%s", BH_BAOHAN, pdf, ca ? " --ca " : "",
             ca ? ca : "");
    return sh(cmd, o);
}

/* Uploads `pdf` to the verification page for `no` (NULL: no number part),
 * expecting `status`; returns the page. */
static char *upload_status(const char *no, const bh_buf *pdf, int status)
{
    bh_buf body, page;
    bh_buf_init(&body, 64 << 20);
    bh_buf_init(&page, 1 << 20);
    if (no)
        CHECK_EQ(bh_buf_addf(&body,
                             "--B0undary\r\nContent-Disposition: form-data; name=\"no\"\r\n\r\n"
                             "%s\r\n",
                             no),
                 BH_OK);
    CHECK_EQ(bh_buf_addstr(&body, "--B0undary\r\nContent-Disposition: form-data; name=\"pdf\"; "
                                  "filename=\"g.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"),
             BH_OK);
    CHECK_EQ(bh_buf_add(&body, pdf->data, pdf->len), BH_OK);
    CHECK_EQ(bh_buf_addstr(&body, "\r\n--B0undary--\r\n"), BH_OK);
    char url[128];
    snprintf(url, sizeof url, "%s/verify", daemon_.url);
    CHECK_EQ(e2e_http("POST", url, "multipart/form-data; boundary=B0undary", body.data, body.len,
                      NULL, &page),
             status);
    bh_buf_release(&body);
    return bh_buf_detach(&page, NULL);
}

static char *upload(const char *no, const bh_buf *pdf)
{
    return upload_status(no, pdf, 200);
}

/* One byte of the page's content changed: a digit of the first xref
 * offset would be noticed by any reader; a byte in the middle of the
 * drawing is what a forger would change. */
static void tamper(const bh_buf *pdf, bh_buf *changed)
{
    bh_buf_reset(changed);
    CHECK_EQ(bh_buf_add(changed, pdf->data, pdf->len), BH_OK);
    changed->data[changed->len / 3] ^= 0x01;
}

/* ---- the page as rendered ---- */

#define DPI 150.0

typedef struct counts {
    long red, dark, all;
} counts;

/* Pixels of the PNG in a box given in millimetres from the top-left. */
static counts count_px(cairo_surface_t *img, double x_mm, double y_mm, double w_mm, double h_mm)
{
    counts c = {0, 0, 0};
    int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
    int stride = cairo_image_surface_get_stride(img);
    const unsigned char *data = cairo_image_surface_get_data(img);
    int x0 = (int)(x_mm * DPI / 25.4), y0 = (int)(y_mm * DPI / 25.4);
    int x1 = (int)((x_mm + w_mm) * DPI / 25.4), y1 = (int)((y_mm + h_mm) * DPI / 25.4);
    for (int y = y0; y < y1 && y < h; y++) {
        for (int x = x0; x < x1 && x < w; x++) {
            uint32_t px = *(const uint32_t *)(data + (size_t)y * (size_t)stride + (size_t)x * 4);
            int r = (px >> 16) & 255, g = (px >> 8) & 255, b = px & 255;
            c.all++;
            c.red += r > 150 && g < 100 && b < 100;
            c.dark += r < 90 && g < 90 && b < 90;
        }
    }
    return c;
}

static void check_rendering(const char *file, const char *baohanno)
{
    char cmd[1024], png_base[320], png[340], *o = NULL;
    snprintf(png_base, sizeof png_base, "%s/page", tmp);
    snprintf(cmd, sizeof cmd, "pdftoppm -png -r %d -f 1 -l 1 %s %s", (int)DPI, file, png_base);
    CHECK_EQ(sh(cmd, NULL), 0);
    snprintf(png, sizeof png, "%s-1.png", png_base);
    cairo_surface_t *img = cairo_image_surface_create_from_png(png);
    CHECK_EQ(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
    if (cairo_surface_status(img) == CAIRO_STATUS_SUCCESS) {
        /* The seal: red; the QR code: dark modules on white (about half);
         * nothing red anywhere above the seal. */
        counts seal = count_px(img, 140, 240, 45, 45);
        counts qr = count_px(img, 25 + 3, 260 + 3, 19, 19);
        counts top = count_px(img, 0, 0, 210, 230);
        CHECK(seal.red * 100 > seal.all * 8);
        CHECK(qr.dark * 100 > qr.all * 25 && qr.dark * 100 < qr.all * 75);
        CHECK_EQ(top.red, 0);
        CHECK(top.dark > 0);
    }
    cairo_surface_destroy(img);

    /* The QR code holds the verification URL. */
    snprintf(cmd, sizeof cmd, "(zbarimg --raw -q %s 2>/dev/null)", png);
    CHECK_EQ(sh(cmd, &o), 0);
    char want[256];
    snprintf(want, sizeof want, "%s/verify?no=%s\n", daemon_.url, baohanno);
    CHECK_STR(o, want);
    free(o);

    /* The text: number, parties, amount both ways, validity; none of it in
     * the seal, which is vector outlines. */
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 %s - | tr -d ' \\n\\f'", file);
    CHECK_EQ(sh(cmd, &o), 0);
    char line[128];
    snprintf(line, sizeof line, "保函编号：%s", baohanno);
    CHECK_HAS(o, line);
    CHECK_HAS(o, "致：漳州市芗城区城市建设投资有限公司");
    CHECK_HAS(o, BIDDER);
    CHECK_HAS(o, "¥200,000.00");
    CHECK_HAS(o, "人民币贰拾万元整");
    CHECK_HAS(o, "至2027年3月21日09:30:00");
    CHECK_HAS(o, "出函机构：" E2E_INSTNAME);
    free(o);
    snprintf(cmd, sizeof cmd, "pdftotext -r 72 -x %d -y %d -W %d -H %d -enc UTF-8 %s - | tr -d ' \\n\\f'",
             (int)(140 * 72 / 25.4), (int)(240 * 72 / 25.4), (int)(45 * 72 / 25.4),
             (int)(45 * 72 / 25.4), file);
    CHECK_EQ(sh(cmd, &o), 0);
    CHECK_STR(o, "");
    free(o);
}

/* ---- the verification page by number ---- */

static void check_page(const char *applyno, const char *baohanno)
{
    char url[256];
    bh_buf page;
    bh_buf_init(&page, 1 << 20);
    snprintf(url, sizeof url, "%s/verify?no=%s", daemon_.url, baohanno);
    CHECK_EQ(e2e_http("GET", url, NULL, NULL, 0, NULL, &page), 200);
    const char *p = page.data;
    CHECK_HAS(p, "保函验真");
    CHECK_HAS(p, baohanno);
    CHECK_HAS(p, "<span class=\"state done\">有效</span>");
    CHECK_HAS(p, BIDDER);
    CHECK_HAS(p, "漳州市芗城区城市建设投资有限公司");
    CHECK_HAS(p, "漳州市芗城区九龙江西岸道路提升工程");
    CHECK_HAS(p, "人民币贰拾万元整");
    CHECK_HAS(p, "2027-03-21 09:30:00");
    CHECK_HAS(p, E2E_INSTNAME);
    CHECK_LACKS(p, "<script");
    /* No personal data: the legal representative, ID number, phones, accounts. */
    CHECK_LACKS(p, E2E_ID_CARD);
    CHECK_LACKS(p, "陈大海");
    CHECK_LACKS(p, "13906951234");
    CHECK_LACKS(p, "13800000000");
    CHECK_LACKS(p, E2E_ACCOUNT);
    CHECK_LACKS(p, "wang@example.com");

    bh_buf_reset(&page);
    snprintf(url, sizeof url, "%s/verify?no=BH1999000001", daemon_.url);
    CHECK_EQ(e2e_http("GET", url, NULL, NULL, 0, NULL, &page), 404);
    CHECK_HAS(page.data, "未找到该保函");
    bh_buf_reset(&page);
    snprintf(url, sizeof url, "%s/verify?no=%%3Cscript%%3E", daemon_.url);
    CHECK_EQ(e2e_http("GET", url, NULL, NULL, 0, NULL, &page), 404);
    CHECK_HAS(page.data, "保函编号格式不正确");
    CHECK_LACKS(page.data, "<script>");
    bh_buf_reset(&page);
    snprintf(url, sizeof url, "%s/verify", daemon_.url);
    CHECK_EQ(e2e_http("GET", url, NULL, NULL, 0, NULL, &page), 200);
    CHECK_HAS(page.data, "enctype=\"multipart/form-data\"");
    bh_buf_reset(&page);
    CHECK_EQ(e2e_http("DELETE", url, NULL, NULL, 0, NULL, &page), 405);

    /* A claim: the status says so, and the claimant's details stay private. */
    bh_msg *claim = load_example("claimsnotice");
    CHECK_EQ(bh_msg_set_str(claim, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(claim, "baohanno", baohanno), BH_OK);
    CHECK_EQ(e2e_call(&daemon_, "claimsnotice", claim, NULL), 1);
    bh_msg_free(claim);
    bh_buf_reset(&page);
    snprintf(url, sizeof url, "%s/verify?no=%s", daemon_.url, baohanno);
    CHECK_EQ(e2e_http("GET", url, NULL, NULL, 0, NULL, &page), 200);
    CHECK_HAS(page.data, "<span class=\"state\">已索赔</span>");
    CHECK_LACKS(page.data, "陈晓梅");
    CHECK_LACKS(page.data, "13906951234");
    bh_buf_release(&page);
}

/* The page's status follows a withdrawal: pending while the operator decides,
 * then withdrawn. */
static void check_withdrawn_status(const char *tag)
{
    char applyno[64], baohanno[64], url[256], path[96];
    snprintf(applyno, sizeof applyno, "QUIT%s%d", tag, (int)getpid());
    bh_buf pdf, page;
    bh_buf_init(&pdf, 64 << 20);
    bh_buf_init(&page, 1 << 20);
    issue(applyno, baohanno, &pdf);
    int64_t id = e2e_app_id(&daemon_, "/admin/applications", applyno, &out);

    bh_msg *quit = bh_msg_new();
    CHECK_EQ(bh_msg_set_str(quit, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(quit, "baohanno", baohanno), BH_OK);
    CHECK_EQ(bh_msg_set_str(quit, "reason", "招标项目终止，申请退保"), BH_OK);
    CHECK_EQ(e2e_call(&daemon_, "quitapply", quit, NULL), 1);
    bh_msg_free(quit);
    snprintf(url, sizeof url, "%s/verify?no=%s", daemon_.url, baohanno);
    CHECK_EQ(e2e_http("GET", url, NULL, NULL, 0, NULL, &page), 200);
    CHECK_HAS(page.data, "有效（退保申请处理中）");

    snprintf(path, sizeof path, "/admin/applications/%lld/withdrawal", (long long)id);
    CHECK_EQ(e2e_admin(&daemon_, "POST", path, "{\"decision\":\"approve\"}", &out), 200);
    bh_buf_reset(&page);
    CHECK_EQ(e2e_http("GET", url, NULL, NULL, 0, NULL, &page), 200);
    CHECK_HAS(page.data, "已撤回（已退保），不再有效");
    CHECK_LACKS(page.data, "<span class=\"state done\">有效</span>");
    bh_buf_release(&page);
    bh_buf_release(&pdf);
}

static void check_one(bh_key_alg alg, const char *tag)
{
    char dir[256], ca[320], nss[320], file[320], bad[320], applyno[64], baohanno[64];
    snprintf(dir, sizeof dir, "%s/%s", tmp, tag);
    CHECK_EQ(mkdir(dir, 0700), 0);
    e2e_signing_alg = alg;
    e2e_daemon_start(&daemon_, receiver.port, "underwriting = auto\nauto_max_amount = 500000");
    snprintf(ca, sizeof ca, "%s/pki/ca.pem", daemon_.dir);
    snprintf(applyno, sizeof applyno, "SIGN%s%d", tag, (int)getpid());

    bh_buf pdf, changed;
    bh_buf_init(&pdf, 64 << 20);
    bh_buf_init(&changed, 64 << 20);
    issue(applyno, baohanno, &pdf);
    snprintf(file, sizeof file, "%s/guarantee.pdf", dir);
    snprintf(bad, sizeof bad, "%s/changed.pdf", dir);
    write_bytes(file, pdf.data, pdf.len);
    tamper(&pdf, &changed);
    write_bytes(bad, changed.data, changed.len);

    char cmd[2048], *o = NULL;
    /* qpdf finds no structural error. */
    snprintf(cmd, sizeof cmd, "qpdf --check %s", file);
    CHECK_EQ(sh(cmd, &o), 0);
    CHECK_HAS(o, "No syntax or stream encoding errors found");
    free(o);

    if (alg != BH_KEY_SM2) {
        check_pdfsig(file, NULL, 0);
        snprintf(nss, sizeof nss, "%s/nss", dir);
        CHECK_EQ(mkdir(nss, 0700), 0);
        snprintf(cmd, sizeof cmd, "certutil -N -d sql:%s --empty-password", nss);
        CHECK_EQ(sh(cmd, NULL), 0);
        snprintf(cmd, sizeof cmd, "certutil -A -d sql:%s -n baohan-test-ca -t CT,C,C -i %s", nss,
                 ca);
        CHECK_EQ(sh(cmd, NULL), 0);
        check_pdfsig(file, nss, 1);
        /* One byte changed: the digest no longer matches. */
        snprintf(cmd, sizeof cmd, "pdfsig -nssdir sql:%s %s", nss, bad);
        sh(cmd, &o);
        CHECK_LACKS(o, "Signature is Valid.");
        CHECK_HAS(o, "Digest Mismatch");
        free(o);
    } else {
        char range[320], der[320];
        snprintf(range, sizeof range, "%s/range.bin", dir);
        snprintf(der, sizeof der, "%s/sig.der", dir);
        split_signature(&pdf, range, der);
        snprintf(cmd, sizeof cmd,
                 "openssl cms -verify -binary -inform DER -in %s -content %s -CAfile %s "
                 "-out /dev/null",
                 der, range, ca);
        CHECK_EQ(sh(cmd, &o), 0);
        CHECK_HAS(o, "Verification successful");
        free(o);
        snprintf(cmd, sizeof cmd, "openssl cms -cmsout -print -inform DER -in %s", der);
        sh(cmd, &o);
        CHECK_HAS(o, "sm3");
        CHECK_HAS(o, "SM2-with-SM3");
        free(o);
        /* The same signature over a changed byte range fails. */
        split_signature(&changed, range, der);
        snprintf(cmd, sizeof cmd,
                 "openssl cms -verify -binary -inform DER -in %s -content %s -CAfile %s "
                 "-out /dev/null",
                 der, range, ca);
        CHECK(sh(cmd, NULL) != 0);
    }

    /* baohan verify-pdf: valid and trusted with the CA, intact without it,
     * invalid after the change, and a chain to another CA is not trusted. */
    CHECK_EQ(verify_pdf(file, ca, &o), 0);
    CHECK_HAS(o, "result:        VALID");
    CHECK_HAS(o, "chain:         trusted");
    CHECK_HAS(o, alg == BH_KEY_SM2 ? "digest:        SM3" : "digest:        SHA256");
    CHECK_HAS(o, "signer:        C = CN, O = " E2E_INSTNAME);
    CHECK_HAS(o, "signing time:  20");
    free(o);
    CHECK_EQ(verify_pdf(file, NULL, &o), 0);
    CHECK_HAS(o, "not checked");
    free(o);
    CHECK_EQ(verify_pdf(bad, ca, &o), 1);
    CHECK_HAS(o, "result:        INVALID");
    CHECK_HAS(o, "signature:     BROKEN");
    free(o);

    /* The verification page: the genuine file, and the changed one. */
    char *page = upload(baohanno, &pdf);
    CHECK_HAS(page, "核验结果：真实有效的保函原件");
    CHECK_HAS(page, "签名有效");
    free(page);
    page = upload(baohanno, &changed);
    CHECK_HAS(page, "核验结果：不是本机构出具的保函原件");
    CHECK_HAS(page, "签名无效");
    free(page);
    /* Without a number the file's own (its title) says which guarantee
     * to compare with; a file that names none is sent back. */
    page = upload(NULL, &pdf);
    CHECK_HAS(page, "核验结果：真实有效的保函原件");
    CHECK_HAS(page, baohanno);
    free(page);
    page = upload("  ", &changed);
    CHECK_HAS(page, "核验结果：不是本机构出具的保函原件");
    free(page);
    bh_buf plain = {(char *)"%PDF-1.4\n%%EOF\n", 15, 0, 15};
    page = upload_status(NULL, &plain, 400);
    CHECK_HAS(page, "请选择保函 PDF 文件");
    free(page);

    if (alg == BH_KEY_EC)
        check_rendering(file, baohanno);
    if (alg == BH_KEY_RSA)
        check_page(applyno, baohanno);
    if (alg == BH_KEY_EC)
        check_withdrawn_status(tag);

    bh_buf_release(&pdf);
    bh_buf_release(&changed);
    e2e_daemon_cleanup(&daemon_);
}

static void test_rsa(void)
{
    check_one(BH_KEY_RSA, "rsa");
}

static void test_ecdsa(void)
{
    check_one(BH_KEY_EC, "ec");
}

static void test_sm2(void)
{
    check_one(BH_KEY_SM2, "sm2");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 2;
    }
    bh_buf_init(&out, 64 << 20);
    e2e_receiver_start(&receiver, 0);
    RUN(test_rsa);
    RUN(test_ecdsa);
    RUN(test_sm2);
    CHECK_EQ(receiver.bad_signatures, 0);
    e2e_receiver_stop(&receiver);
    bh_buf_release(&out);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    curl_global_cleanup();
    return CHECK_DONE();
}
