/* Tests of daemon/docgen*.c: the guarantee and application PDFs are read back
 * with poppler's pdftotext and pdfinfo, the XML is validated against
 * share/baohan-guarantee.xsd with libxml2. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <pango/pangocairo.h>

#include "check.h"
#include "docgen.h"
#include "docgen_impl.h"

static char tmpdir[] = "/tmp/test_docgen.XXXXXX";

/* Leaks that are not ours, for the sanitizer runtime (these hooks are unused
 * in a build without it). Same entries and reasons as tests/lsan.supp; they
 * are built in so the test passes under ASan without extra environment:
 *   - cairo 1.16.0 loses one 768-byte array per font face embedded in a PDF,
 *     inside cairo_surface_finish() (a 20-line program with pango and no
 *     baohan code shows it);
 *   - fontconfig 2.14 loses 288 bytes once while parsing its configuration
 *     (FcInitLoadConfigAndFonts, run by pango in a helper thread).
 * Matching a function by name needs whole stacks, hence the slow unwinder:
 * with the fast one a stack stops at the first frame of a library built
 * without frame pointers, and only a match on the whole library would do,
 * which would also hide a cairo object we forgot to destroy. */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
    return "leak:cairo_surface_finish\nleak:FcInitLoadConfigAndFonts\n";
}

/* ---- Facts ---- */

/* The application of the protocol's example (tests/data/examples), plus what
 * the institution adds when it issues. */
static bh_msg *example;

static bh_guarantee_facts facts(void)
{
    int64_t amount = 0;
    const char *bzj = bh_msg_text(example, "bzjamount");
    if (!bzj || bh_money_parse(bzj, strlen(bzj), &amount, NULL, "bzjamount") != BH_OK)
        amount = -1;
    bh_guarantee_facts g = {
        .baohanno = "BH2026000123",
        .applyno = bh_msg_text(example, "applyno"),
        .beneficiary = bh_msg_text(example, "zbr"),
        .beneficiary_code = bh_msg_text(example, "zbrorgnum"),
        .principal = bh_msg_text(example, "biddername"),
        .principal_code = bh_msg_text(example, "biddercode"),
        .project_name = bh_msg_text(example, "projectname"),
        .project_no = bh_msg_text(example, "projectno"),
        .section_name = bh_msg_text(example, "biaoduanname"),
        .section_no = bh_msg_text(example, "biaoduanno"),
        .amount_fen = amount,
        .premium_fen = 140000, /* 0.7% */
        .valid_from = "2026-11-28 15:42:10",
        .valid_to = "2027-03-21 09:30:00", /* bid opening + 90 days */
        .tbyxq_days = atoi(bh_msg_text(example, "tbyxq")),
        .kaibiaotime = bh_msg_text(example, "kaibiaotime"),
        .issuer = "中国人民财产保险股份有限公司漳州市分公司",
        .issue_time = "2026-11-28 15:42:10",
        .verify_url = "https://fi.example.com/verify/BH2026000123?t=9f2c4b7a1e8d",
    };
    return g;
}

static bh_applicant_details applicant(void)
{
    bh_applicant_details a = {
        .contact = "林晓燕",
        .contact_tel = "13905961234",
        .address = "福建省漳州市芗城区胜利西路88号恒泰大厦12层",
        .email = "tender@hengtai.example.com",
        .legal_person = "陈国华",
        .legal_person_tel = "13805960001",
        .legal_person_card_masked = "350602********1234",
        .basic_account_bank = "中国工商银行股份有限公司漳州分行",
        .basic_account_no = "1410020109000123456",
    };
    return a;
}

/* ---- Helpers ---- */

static void write_file(const char *path, const bh_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

/* Runs a shell command and returns its standard output (malloc'd,
 * NUL-terminated, its length in *len). */
static char *run_len(const char *cmd, size_t *len)
{
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "cannot run %s\n", cmd);
        exit(2);
    }
    char *out = check_read_stream(p, len);
    int status = pclose(p);
    if (!out || status != 0) {
        fprintf(stderr, "command failed (%d): %s\n", status, cmd);
        exit(2);
    }
    return out;
}

static char *run(const char *cmd)
{
    size_t len;
    return run_len(cmd, &len);
}

/* Removes ASCII whitespace in place, so text wrapped or spread out by
 * pdftotext -layout can be searched as one string. */
static char *squeeze(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != ' ' && *r != '\n' && *r != '\t' && *r != '\f' && *r != '\r')
            *w++ = *r;
    }
    *w = '\0';
    return s;
}

static int only_space(const char *s)
{
    for (; *s; s++) {
        if (*s != ' ' && *s != '\n' && *s != '\f' && *s != '\t')
            return 0;
    }
    return 1;
}

#define CHECK_HAS(text, needle)                                                                    \
    do {                                                                                           \
        const char *check_n_ = (needle);                                                           \
        int check_ok_ = check_n_ && strstr((text), check_n_) != NULL;                              \
        if (!check_ok_)                                                                            \
            fprintf(stderr, "  missing: %s\n", check_n_ ? check_n_ : "(null)");                    \
        CHECK(check_ok_);                                                                          \
    } while (0)

/* The text of a PDF file (pdftotext -layout), whitespace removed. */
static char *pdf_text(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdftotext -layout -enc UTF-8 %s -", path);
    return squeeze(run(cmd));
}

/* The text inside a box given in millimetres from the page's top-left corner. */
static char *pdf_text_in(const char *path, double x, double y, double w, double h)
{
    const double mm = 72.0 / 25.4;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdftotext -r 72 -x %d -y %d -W %d -H %d -enc UTF-8 %s -",
             (int)(x * mm + 0.5), (int)(y * mm + 0.5), (int)(w * mm + 0.5), (int)(h * mm + 0.5),
             path);
    return run(cmd);
}

/* Whether a box (millimetres from the top-left corner) of page 1 is blank:
 * rendered in grey at 72 dpi, every pixel is white. Catches lines and fills
 * as well as text. */
static int area_blank(const char *path, double x, double y, double w, double h)
{
    const double mm = 72.0 / 25.4;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdftoppm -r 72 -gray -x %d -y %d -W %d -H %d %s",
             (int)(x * mm + 0.5), (int)(y * mm + 0.5), (int)(w * mm + 0.5), (int)(h * mm + 0.5),
             path);
    size_t len = 0;
    char *pgm = run_len(cmd, &len);
    int pw = 0, ph = 0, max = 0, header = 0;
    int blank = sscanf(pgm, "P5 %d %d %d%n", &pw, &ph, &max, &header) == 3 && max == 255 &&
                pw > 0 && ph > 0 && (size_t)header + 1 + (size_t)pw * (size_t)ph == len;
    for (size_t i = (size_t)header + 1; blank && i < len; i++)
        blank = (unsigned char)pgm[i] == 255;
    free(pgm);
    return blank;
}

/* Checks pdfinfo: one A4 page. Returns pdfinfo's output (malloc'd). */
static char *check_one_a4_page(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdfinfo -enc UTF-8 %s", path);
    char *info = run(cmd);
    const char *pages = strstr(info, "\nPages:");
    CHECK(pages != NULL);
    if (pages)
        CHECK_EQ(atoi(pages + 7), 1);
    const char *size = strstr(info, "\nPage size:");
    double w = 0, h = 0;
    CHECK(size && sscanf(size + 11, "%lf x %lf", &w, &h) == 2);
    CHECK(w > 594.5 && w < 596.0);
    CHECK(h > 841.0 && h < 842.5);
    return info;
}

static void path_in_tmp(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static xmlDocPtr validate(const char *xml, size_t len, int *valid);

/* ---- The guarantee PDF ---- */

static void test_guarantee_pdf(void)
{
    bh_guarantee_facts g = facts();
    bh_buf pdf;
    bh_diag d = BH_DIAG_INIT;
    bh_buf_init(&pdf, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_buf_addstr(&pdf, "prefix:"), BH_OK);
    CHECK_EQ(bh_doc_guarantee_pdf(&g, &pdf, &d), BH_OK);
    CHECK_EQ(d.count, 0);
    /* Appended after what the buffer held. */
    CHECK(pdf.len > 1000 && memcmp(pdf.data, "prefix:%PDF-", 12) == 0);

    bh_buf file = {pdf.data + 7, pdf.len - 7, 0, 0};
    char path[256];
    path_in_tmp(path, sizeof path, "guarantee.pdf");
    write_file(path, &file);

    char *t = pdf_text(path);
    CHECK_HAS(t, "投标保函");
    CHECK_HAS(t, "保函编号：BH2026000123");
    CHECK_HAS(t, "致：漳州市芗城区城市建设投资有限公司");
    CHECK_HAS(t, "福建省漳州市恒泰建设工程有限公司");
    CHECK_HAS(t, "91350602MA2Y3K7P18");
    CHECK_HAS(t, "91350600154321876F");
    CHECK_HAS(t, "漳州市芗城区九龙江西岸道路提升工程");
    CHECK_HAS(t, "ZZGC-2026-0412");
    CHECK_HAS(t, "漳州市芗城区九龙江西岸道路提升工程施工第一标段");
    CHECK_HAS(t, "ZZGC-2026-0412-01");
    CHECK_HAS(t, "ZZBH2026112800017");
    CHECK_HAS(t, "¥200,000.00");
    CHECK_HAS(t, "人民币贰拾万元整");
    CHECK_HAS(t, "见索即付");
    CHECK_HAS(t, "不可撤销");
    CHECK_HAS(t, "2026年11月28日15:42:10至2027年3月21日09:30:00"); /* validity */
    CHECK_HAS(t, "2026年12月21日09:30:00");                        /* bid opening */
    CHECK_HAS(t, "90日");
    CHECK_HAS(t, "出函机构：中国人民财产保险股份有限公司漳州市分公司");
    CHECK_HAS(t, "出函日期：2026年11月28日");
    CHECK_HAS(t, "https://fi.example.com/verify/BH2026000123?t=9f2c4b7a1e8d");
    free(t);

    /* The CJK font is embedded (as a subset) with its Unicode map, so the
     * document shows and extracts the same on any reader. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdffonts %s", path);
    char *fonts = run(cmd);
    CHECK_HAS(fonts, "NotoSerifCJKsc-Regular");
    CHECK_HAS(fonts, "NotoSerifCJKsc-Bold");
    int font_lines = 0, embedded = 0;
    for (char *line = strtok(fonts, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, " CID ")) {
            font_lines++;
            embedded += strstr(line, " yes yes yes ") != NULL;
        }
    }
    CHECK(font_lines >= 2);
    CHECK_EQ(embedded, font_lines);
    free(fonts);

    char *info = check_one_a4_page(path);
    CHECK_HAS(info, "Title:           投标保函 BH2026000123");
    CHECK_HAS(info, "Author:          中国人民财产保险股份有限公司漳州市分公司");
    CHECK_HAS(info, "Subject:         漳州市芗城区九龙江西岸道路提升工程");
    free(info);

    /* The areas reserved for the seal and the QR code are empty; the band
     * above the seal holds the issuer, which shows the cropping works. */
    char *seal = pdf_text_in(path, BH_DOC_SEAL_X_MM, BH_DOC_SEAL_Y_MM, BH_DOC_SEAL_SIZE_MM,
                             BH_DOC_SEAL_SIZE_MM);
    CHECK(only_space(seal));
    free(seal);
    char *qr =
        pdf_text_in(path, BH_DOC_QR_X_MM, BH_DOC_QR_Y_MM, BH_DOC_QR_SIZE_MM, BH_DOC_QR_SIZE_MM);
    CHECK(only_space(qr));
    free(qr);
    char *band = pdf_text_in(path, 70, BH_DOC_SEAL_Y_MM - 16, 120, 16);
    CHECK_HAS(squeeze(band), "出函日期：2026年11月28日");
    free(band);
    CHECK(area_blank(path, BH_DOC_SEAL_X_MM, BH_DOC_SEAL_Y_MM, BH_DOC_SEAL_SIZE_MM,
                     BH_DOC_SEAL_SIZE_MM));
    /* The QR code of the verification URL fills its area (as vectors: no
     * text there); test_pdfsign decodes it. */
    CHECK(!area_blank(path, BH_DOC_QR_X_MM, BH_DOC_QR_Y_MM, BH_DOC_QR_SIZE_MM, BH_DOC_QR_SIZE_MM));
    CHECK(!area_blank(path, 70, BH_DOC_SEAL_Y_MM - 16, 120, 16)); /* the method sees ink */

    bh_buf_release(&pdf);
    bh_diag_release(&d);
}

/* Without the optional facts the guarantee omits them. */
static void test_guarantee_pdf_optional(void)
{
    bh_guarantee_facts g = facts();
    g.beneficiary_code = NULL;
    g.verify_url = "";
    bh_buf pdf;
    bh_buf_init(&pdf, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_doc_guarantee_pdf(&g, &pdf, NULL), BH_OK);
    char path[256];
    path_in_tmp(path, sizeof path, "optional.pdf");
    write_file(path, &pdf);
    char *t = pdf_text(path);
    CHECK_HAS(t, "漳州市芗城区城市建设投资有限公司");
    CHECK(strstr(t, "91350600154321876F") == NULL);
    CHECK(strstr(t, "https://") == NULL);
    CHECK_HAS(t, "91350602MA2Y3K7P18"); /* the principal's code stays */
    free(t);
    bh_buf_release(&pdf);
}

/* Names at their longest still give one page with everything on it: the
 * flowing part is set in smaller type, nothing is cut off. */
static void test_guarantee_pdf_longest_facts(void)
{
    static char principal[200 * 3 + 1], project[300 * 3 + 1], section[300 * 3 + 1],
        beneficiary[200 * 3 + 1], issuer[200 * 3 + 1], no[101];
    const struct {
        char *buf;
        size_t chars;
        const char *first, *fill, *last;
    } longs[] = {
        {principal, 200, "甲", "建", "乙"}, {project, 300, "丙", "工", "丁"},
        {section, 300, "戊", "段", "己"},   {beneficiary, 200, "庚", "招", "辛"},
        {issuer, 200, "壬", "保", "癸"},
    };
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        char *p = longs[i].buf;
        for (size_t c = 0; c < longs[i].chars; c++, p += 3)
            memcpy(p,
                   c == 0                    ? longs[i].first
                   : c + 1 == longs[i].chars ? longs[i].last
                                             : longs[i].fill,
                   3);
        *p = '\0';
    }
    memset(no, 'N', 100);
    no[100] = '\0';

    bh_guarantee_facts g = facts();
    g.principal = principal;
    g.project_name = project;
    g.section_name = section;
    g.beneficiary = beneficiary;
    g.issuer = issuer;
    g.project_no = no;
    g.section_no = no;
    g.amount_fen = INT64_C(999999999999999);
    bh_buf pdf;
    bh_diag d = BH_DIAG_INIT;
    bh_buf_init(&pdf, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_doc_guarantee_pdf(&g, &pdf, &d), BH_OK);
    CHECK_EQ(d.count, 0);
    char path[256];
    path_in_tmp(path, sizeof path, "longest.pdf");
    write_file(path, &pdf);
    free(check_one_a4_page(path));
    char *t = pdf_text(path);
    /* First and last characters of each long name, the table's last row, the
     * issuer's date. */
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        CHECK_HAS(t, longs[i].first);
        CHECK_HAS(t, longs[i].last);
    }
    CHECK_HAS(t, "人民币玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分");
    CHECK_HAS(t, "保函有效期");
    CHECK_HAS(t, "出函日期：2026年11月28日");
    free(t);
    CHECK(area_blank(path, BH_DOC_SEAL_X_MM, BH_DOC_SEAL_Y_MM, BH_DOC_SEAL_SIZE_MM,
                     BH_DOC_SEAL_SIZE_MM));
    CHECK(!area_blank(path, BH_DOC_QR_X_MM, BH_DOC_QR_Y_MM, BH_DOC_QR_SIZE_MM, BH_DOC_QR_SIZE_MM));

    /* The XML of the longest facts is still valid. */
    bh_buf_reset(&pdf);
    CHECK_EQ(bh_doc_guarantee_xml(&g, &pdf, &d), BH_OK);
    int valid = 0;
    xmlDocPtr doc = validate(pdf.data, pdf.len, &valid);
    CHECK(valid);
    xmlFreeDoc(doc);

    bh_buf_reset(&pdf);
    bh_applicant_details a = applicant();
    CHECK_EQ(bh_doc_application_pdf(&g, &a, &pdf, &d), BH_OK);
    path_in_tmp(path, sizeof path, "longest-form.pdf");
    write_file(path, &pdf);
    free(check_one_a4_page(path));
    t = pdf_text(path);
    CHECK_HAS(t, "生成时间：2026年11月28日15:42:10");
    free(t);
    bh_buf_release(&pdf);
    bh_diag_release(&d);
}

/* ---- The application form ---- */

static void test_application_pdf(void)
{
    bh_guarantee_facts g = facts();
    bh_applicant_details a = applicant();
    bh_buf pdf;
    bh_diag d = BH_DIAG_INIT;
    bh_buf_init(&pdf, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_doc_application_pdf(&g, &a, &pdf, &d), BH_OK);
    CHECK_EQ(d.count, 0);
    char path[256];
    path_in_tmp(path, sizeof path, "application.pdf");
    write_file(path, &pdf);

    char *t = pdf_text(path);
    CHECK_HAS(t, "投标保函电子申请单");
    CHECK_HAS(t, "ZZBH2026112800017");
    CHECK_HAS(t, "BH2026000123");
    CHECK_HAS(t, "福建省漳州市恒泰建设工程有限公司");
    CHECK_HAS(t, "91350602MA2Y3K7P18");
    CHECK_HAS(t, "漳州市芗城区九龙江西岸道路提升工程施工第一标段");
    CHECK_HAS(t, "¥200,000.00");
    CHECK_HAS(t, "人民币贰拾万元整");
    CHECK_HAS(t, "林晓燕");
    CHECK_HAS(t, "13905961234");
    CHECK_HAS(t, "福建省漳州市芗城区胜利西路88号恒泰大厦12层");
    CHECK_HAS(t, "tender@hengtai.example.com");
    CHECK_HAS(t, "陈国华");
    CHECK_HAS(t, "13805960001");
    CHECK_HAS(t, "350602********1234");
    CHECK_HAS(t, "中国工商银行股份有限公司漳州分行");
    CHECK_HAS(t, "1410020109000123456");
    CHECK_HAS(t, "¥1,400.00");
    CHECK_HAS(t, "人民币壹仟肆佰元整");
    CHECK_HAS(t, "基本账户");
    /* No ID-card number anywhere: 17 digits and a check digit or X. The
     * longest digit run is the 19-digit account number, which is not one:
     * look for the ID's shape after the masked prefix instead. */
    CHECK(strstr(t, "35060219") == NULL);
    free(t);
    free(check_one_a4_page(path));

    /* Optional details missing: a dash, not "(null)". */
    a.email = NULL;
    a.address = "";
    a.legal_person_tel = NULL;
    bh_buf_reset(&pdf);
    CHECK_EQ(bh_doc_application_pdf(&g, &a, &pdf, &d), BH_OK);
    write_file(path, &pdf);
    t = pdf_text(path);
    CHECK_HAS(t, "电子邮箱—");
    CHECK(strstr(t, "null") == NULL);
    free(t);

    bh_buf_release(&pdf);
    bh_diag_release(&d);
}

static void test_application_refuses_full_id_number(void)
{
    static const char *const unmasked[] = {"350602198001011234", "35060219800101123X",
                                           "350602***1234", "3506 0219 8001 0112 34"};
    bh_guarantee_facts g = facts();
    for (size_t i = 0; i < sizeof unmasked / sizeof unmasked[0]; i++) {
        bh_applicant_details a = applicant();
        a.legal_person_card_masked = unmasked[i];
        bh_buf pdf;
        bh_diag d = BH_DIAG_INIT;
        bh_buf_init(&pdf, BH_BUF_MAX_DEFAULT);
        CHECK_EQ(bh_doc_application_pdf(&g, &a, &pdf, &d), BH_EFORMAT);
        CHECK_EQ(pdf.len, 0);
        const bh_problem *p = bh_diag_find(&d, "legal_person_card_masked");
        CHECK(p != NULL);
        if (p)
            CHECK(strstr(p->message, unmasked[i]) == NULL);
        bh_buf_release(&pdf);
        bh_diag_release(&d);
    }
}

/* ---- The XML ---- */

static xmlSchemaPtr schema;

static void load_schema(void)
{
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(BH_SHARE_DIR "/baohan-guarantee.xsd");
    schema = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaFreeParserCtxt(pc);
    if (!schema) {
        fprintf(stderr, "cannot load %s\n", BH_SHARE_DIR "/baohan-guarantee.xsd");
        exit(2);
    }
}

/* The broken documents below are expected to fail: keep libxml2 quiet. */
static void quiet(void *ctx, xmlErrorPtr error)
{
    (void)ctx;
    (void)error;
}

/* Parses and validates XML text; returns the document (NULL when not
 * well-formed) and sets *valid. */
static xmlDocPtr validate(const char *xml, size_t len, int *valid)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, "guarantee.xml", "UTF-8", XML_PARSE_NONET);
    *valid = 0;
    if (!doc)
        return NULL;
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    if (vc)
        xmlSchemaSetValidStructuredErrors(vc, quiet, NULL);
    *valid = vc && xmlSchemaValidateDoc(vc, doc) == 0;
    xmlSchemaFreeValidCtxt(vc);
    return doc;
}

/* The string value of an XPath expression (prefix g: is our namespace);
 * malloc'd, "" when nothing matches. */
static char *xpath(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "g", BAD_CAST "urn:baohan:guarantee:1");
    char full[512];
    snprintf(full, sizeof full, "string(%s)", expr);
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST full, ctx);
    char *s = NULL;
    if (r && r->type == XPATH_STRING && r->stringval) {
        size_t n = strlen((const char *)r->stringval);
        s = malloc(n + 1);
        if (s)
            memcpy(s, r->stringval, n + 1);
    }
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    return s;
}

#define CHECK_XPATH(doc, expr, want)                                                               \
    do {                                                                                           \
        char *check_x_ = xpath((doc), (expr));                                                     \
        CHECK_STR(check_x_, (want));                                                               \
        free(check_x_);                                                                            \
    } while (0)

static void test_guarantee_xml(void)
{
    bh_guarantee_facts g = facts();
    bh_buf xml;
    bh_diag d = BH_DIAG_INIT;
    bh_buf_init(&xml, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_doc_guarantee_xml(&g, &xml, &d), BH_OK);
    CHECK_EQ(d.count, 0);
    CHECK(xml.len > 0 && xml.data[xml.len - 1] == '\n');
    CHECK(strncmp(xml.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0);
    int valid = 0;
    xmlDocPtr doc = validate(xml.data, xml.len, &valid);
    CHECK(doc != NULL);
    CHECK(valid);
    if (doc) {
        CHECK_XPATH(doc, "/g:guarantee/@version", "1");
        CHECK_XPATH(doc, "/g:guarantee/g:baohanno", "BH2026000123");
        CHECK_XPATH(doc, "/g:guarantee/g:applyno", "ZZBH2026112800017");
        CHECK_XPATH(doc, "/g:guarantee/g:kind", "bid");
        CHECK_XPATH(doc, "/g:guarantee/g:issuer/g:name",
                    "中国人民财产保险股份有限公司漳州市分公司");
        CHECK_XPATH(doc, "/g:guarantee/g:issueTime", "2026-11-28T15:42:10+08:00");
        CHECK_XPATH(doc, "/g:guarantee/g:principal/g:name", "福建省漳州市恒泰建设工程有限公司");
        CHECK_XPATH(doc, "/g:guarantee/g:principal/g:creditCode", "91350602MA2Y3K7P18");
        CHECK_XPATH(doc, "/g:guarantee/g:beneficiary/g:name", "漳州市芗城区城市建设投资有限公司");
        CHECK_XPATH(doc, "/g:guarantee/g:beneficiary/g:creditCode", "91350600154321876F");
        CHECK_XPATH(doc, "/g:guarantee/g:project/g:no", "ZZGC-2026-0412");
        CHECK_XPATH(doc, "/g:guarantee/g:project/g:name", "漳州市芗城区九龙江西岸道路提升工程");
        CHECK_XPATH(doc, "/g:guarantee/g:project/g:section/g:no", "ZZGC-2026-0412-01");
        CHECK_XPATH(doc, "/g:guarantee/g:project/g:section/g:name",
                    "漳州市芗城区九龙江西岸道路提升工程施工第一标段");
        CHECK_XPATH(doc, "/g:guarantee/g:amount/@currency", "CNY");
        CHECK_XPATH(doc, "/g:guarantee/g:amount/@fen", "20000000");
        CHECK_XPATH(doc, "/g:guarantee/g:amount/g:figures", "200000.00");
        CHECK_XPATH(doc, "/g:guarantee/g:amount/g:words", "人民币贰拾万元整");
        CHECK_XPATH(doc, "/g:guarantee/g:premium/@fen", "140000");
        CHECK_XPATH(doc, "/g:guarantee/g:premium/g:figures", "1400.00");
        CHECK_XPATH(doc, "/g:guarantee/g:premium/g:words", "人民币壹仟肆佰元整");
        CHECK_XPATH(doc, "/g:guarantee/g:bidOpeningTime", "2026-12-21T09:30:00+08:00");
        CHECK_XPATH(doc, "/g:guarantee/g:bidValidityDays", "90");
        CHECK_XPATH(doc, "/g:guarantee/g:validity/g:from", "2026-11-28T15:42:10+08:00");
        CHECK_XPATH(doc, "/g:guarantee/g:validity/g:to", "2027-03-21T09:30:00+08:00");
        CHECK_XPATH(doc, "/g:guarantee/g:terms/@onFirstDemand", "true");
        CHECK_XPATH(doc, "/g:guarantee/g:terms/@irrevocable", "true");
        CHECK_XPATH(doc, "/g:guarantee/g:verifyUrl",
                    "https://fi.example.com/verify/BH2026000123?t=9f2c4b7a1e8d");
        xmlFreeDoc(doc);
    }

    /* Optional facts absent: their elements are left out, still valid.
     * Markup characters in a fact are escaped. */
    g.beneficiary_code = NULL;
    g.verify_url = NULL;
    g.project_name = "A&B <工程> \"一期\" 'X'";
    g.premium_fen = 0;
    bh_buf_reset(&xml);
    CHECK_EQ(bh_doc_guarantee_xml(&g, &xml, &d), BH_OK);
    doc = validate(xml.data, xml.len, &valid);
    CHECK(doc != NULL);
    CHECK(valid);
    if (doc) {
        CHECK_XPATH(doc, "count(/g:guarantee/g:beneficiary/g:creditCode)", "0");
        CHECK_XPATH(doc, "count(/g:guarantee/g:verifyUrl)", "0");
        CHECK_XPATH(doc, "/g:guarantee/g:project/g:name", "A&B <工程> \"一期\" 'X'");
        CHECK_XPATH(doc, "/g:guarantee/g:premium/g:words", "人民币零元整");
        xmlFreeDoc(doc);
    }

    /* A URL with a query of several parameters. */
    g.verify_url = "https://fi.example.com/v?no=BH2026000123&t=9f2c&x=%E9%AA%8C";
    bh_buf_reset(&xml);
    CHECK_EQ(bh_doc_guarantee_xml(&g, &xml, &d), BH_OK);
    doc = validate(xml.data, xml.len, &valid);
    CHECK(valid);
    if (doc) {
        CHECK_XPATH(doc, "/g:guarantee/g:verifyUrl",
                    "https://fi.example.com/v?no=BH2026000123&t=9f2c&x=%E9%AA%8C");
        xmlFreeDoc(doc);
    }
    bh_buf_release(&xml);
    bh_diag_release(&d);
}

/* Replaces the first `from` in `text` by `to` into a new string. */
static char *replaced(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    if (!at)
        return NULL;
    size_t head = (size_t)(at - text), flen = strlen(from), tlen = strlen(to);
    size_t tail = strlen(at + flen);
    char *s = malloc(head + tlen + tail + 1);
    if (!s)
        return NULL;
    memcpy(s, text, head);
    memcpy(s + head, to, tlen);
    memcpy(s + head + tlen, at + flen, tail + 1);
    return s;
}

/* The schema is strict: each of these edits of a valid document breaks it. */
static void test_schema_refuses_broken_documents(void)
{
    bh_guarantee_facts g = facts();
    bh_buf xml;
    bh_buf_init(&xml, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_doc_guarantee_xml(&g, &xml, NULL), BH_OK);
    static const char *const edits[][2] = {
        {"fen=\"20000000\"", "fen=\"0\""}, /* a guarantee of nothing */
        {"fen=\"20000000\"", "fen=\"-5\""},
        {"<figures>200000.00</figures>", "<figures>200000.0</figures>"},
        {"<figures>200000.00</figures>", "<figures>0200000.00</figures>"},
        {"<words>人民币贰拾万元整</words>", "<words>贰拾万元整</words>"},
        {"<words>人民币贰拾万元整</words>", "<words>人民币二十万元整</words>"},
        {"91350602MA2Y3K7P18", "91350602MA2Y3K7P1"},
        {"91350602MA2Y3K7P18", "91350602ma2y3k7p18"},
        {"91350602MA2Y3K7P18", "91350602MA2Y3K7PI8"}, /* I is not in the alphabet */
        {"2026-11-28T15:42:10+08:00", "2026-11-28T15:42:10Z"},
        {"2026-11-28T15:42:10+08:00", "2026-11-28 15:42:10"},
        {"<baohanno>BH2026000123</baohanno>", "<baohanno>BH 2026</baohanno>"},
        {"<baohanno>BH2026000123</baohanno>", "<baohanno></baohanno>"},
        {"<bidValidityDays>90</bidValidityDays>", "<bidValidityDays>0</bidValidityDays>"},
        {"<kind>bid</kind>", "<kind>performance</kind>"},
        {"version=\"1\"", "version=\"2\""},
        {"onFirstDemand=\"true\"", "onFirstDemand=\"false\""},
        {"<applyno>ZZBH2026112800017</applyno>\n", ""}, /* a required element missing */
        {"https://fi.example.com", "ftp://fi.example.com"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *broken = replaced(xml.data, edits[i][0], edits[i][1]);
        CHECK(broken != NULL);
        if (!broken)
            continue;
        int valid = 1;
        xmlDocPtr doc = validate(broken, strlen(broken), &valid);
        if (valid)
            fprintf(stderr, "  accepted: %s -> %s\n", edits[i][0], edits[i][1]);
        CHECK(!valid);
        xmlFreeDoc(doc);
        free(broken);
    }
    bh_buf_release(&xml);
}

/* ---- Refusals ---- */

typedef bh_err (*gen_fn)(const bh_guarantee_facts *g, bh_buf *out, bh_diag *d);

static bh_err gen_application(const bh_guarantee_facts *g, bh_buf *out, bh_diag *d)
{
    bh_applicant_details a = applicant();
    return bh_doc_application_pdf(g, &a, out, d);
}

static const struct {
    gen_fn fn;
    const char *name;
} generators[] = {
    {bh_doc_guarantee_pdf, "guarantee pdf"},
    {gen_application, "application pdf"},
    {bh_doc_guarantee_xml, "xml"},
};

/* Runs every generator on `g` expecting `code` with a problem about `field`,
 * and the output buffer left exactly as it was. */
static void expect_refused(const bh_guarantee_facts *g, bh_err code, const char *field)
{
    for (size_t i = 0; i < sizeof generators / sizeof generators[0]; i++) {
        bh_buf out;
        bh_diag d = BH_DIAG_INIT;
        bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
        CHECK_EQ(bh_buf_addstr(&out, "kept"), BH_OK);
        bh_err err = generators[i].fn(g, &out, &d);
        const bh_problem *p = bh_diag_find(&d, field);
        if (err != code || !p)
            fprintf(stderr, "  %s, field %s: got %s\n", generators[i].name, field,
                    bh_strerror(err));
        CHECK_EQ(err, code);
        CHECK(p != NULL);
        if (p)
            CHECK_EQ(p->code, code);
        CHECK_STR(out.data, "kept");
        bh_buf_release(&out);
        bh_diag_release(&d);
    }
}

static void test_refusals(void)
{
    bh_guarantee_facts g;
#define REFUSE(stmt, code, field)                                                                  \
    do {                                                                                           \
        g = facts();                                                                               \
        stmt;                                                                                      \
        expect_refused(&g, code, field);                                                           \
    } while (0)

    REFUSE(g.principal = NULL, BH_EMISSING, "principal");
    REFUSE(g.baohanno = "", BH_EMISSING, "baohanno");
    REFUSE(g.applyno = NULL, BH_EMISSING, "applyno");
    REFUSE(g.beneficiary = NULL, BH_EMISSING, "beneficiary");
    REFUSE(g.principal_code = NULL, BH_EMISSING, "principal_code");
    REFUSE(g.project_name = NULL, BH_EMISSING, "project_name");
    REFUSE(g.project_no = NULL, BH_EMISSING, "project_no");
    REFUSE(g.section_name = NULL, BH_EMISSING, "section_name");
    REFUSE(g.section_no = NULL, BH_EMISSING, "section_no");
    REFUSE(g.valid_from = NULL, BH_EMISSING, "valid_from");
    REFUSE(g.valid_to = NULL, BH_EMISSING, "valid_to");
    REFUSE(g.kaibiaotime = NULL, BH_EMISSING, "kaibiaotime");
    REFUSE(g.issuer = NULL, BH_EMISSING, "issuer");
    REFUSE(g.issue_time = NULL, BH_EMISSING, "issue_time");

    REFUSE(g.project_name = "九龙江\n西岸", BH_EFORMAT, "project_name");
    REFUSE(g.principal = "恒泰\t建设", BH_EFORMAT, "principal");
    REFUSE(g.issuer = "保险\xc2\x85公司", BH_EFORMAT, "issuer"); /* U+0085, a C1 control */
    REFUSE(g.beneficiary = "招标人\xef\xbf\xbe", BH_EFORMAT, "beneficiary"); /* U+FFFE */
    REFUSE(g.section_name = "标段\xff", BH_EUTF8, "section_name");
    REFUSE(g.principal_code = "91350602MA2Y3K7P1", BH_EFORMAT, "principal_code");
    REFUSE(g.beneficiary_code = "91350600154321876f", BH_EFORMAT, "beneficiary_code");
    REFUSE(g.baohanno = "BH 2026", BH_EFORMAT, "baohanno");
    REFUSE(g.baohanno = "-BH2026", BH_EFORMAT, "baohanno");
    REFUSE(g.baohanno = "保函2026", BH_EFORMAT, "baohanno");
    REFUSE(g.valid_to = "2027-02-29 09:30:00", BH_EFORMAT, "valid_to");
    REFUSE(g.kaibiaotime = "2026/12/21 09:30", BH_EFORMAT, "kaibiaotime");
    REFUSE(g.issue_time = "2026-11-28T15:42:10", BH_EFORMAT, "issue_time");
    REFUSE(g.valid_to = g.valid_from, BH_ERANGE, "valid_to");
    REFUSE(g.amount_fen = 0, BH_ERANGE, "amount_fen");
    REFUSE(g.amount_fen = -100, BH_ERANGE, "amount_fen");
    REFUSE(g.amount_fen = INT64_C(1000000000000000), BH_ERANGE, "amount_fen");
    REFUSE(g.premium_fen = -1, BH_ERANGE, "premium_fen");
    REFUSE(g.tbyxq_days = 0, BH_ERANGE, "tbyxq_days");
    REFUSE(g.tbyxq_days = 3651, BH_ERANGE, "tbyxq_days");
    REFUSE(g.verify_url = "javascript:alert(1)", BH_EFORMAT, "verify_url");
    REFUSE(g.verify_url = "https://fi.example.com/a b", BH_EFORMAT, "verify_url");
    REFUSE(g.verify_url = "https://fi.example.com/a<b>", BH_EFORMAT, "verify_url");
    REFUSE(g.verify_url = "https://fi.example.com/验真", BH_EFORMAT, "verify_url");
    REFUSE(g.verify_url = "https://", BH_EFORMAT, "verify_url");

    static char long_name[202 * 3 + 1];
    for (size_t i = 0; i < 201; i++)
        memcpy(long_name + 3 * i, "名", 3);
    REFUSE(g.principal = long_name, BH_ETOOLONG, "principal");
    REFUSE(g.applyno = "ZZBH2026112800017ZZBH2026112800017ZZBH2026112800017ZZBH2026112800",
           BH_ETOOLONG, "applyno");
#undef REFUSE

    /* Every bad field is reported, not only the first. */
    g = facts();
    g.principal = NULL;
    g.project_no = "";
    g.amount_fen = 0;
    g.valid_to = "tomorrow";
    bh_diag d = BH_DIAG_INIT;
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_doc_guarantee_pdf(&g, &out, &d), BH_EMISSING);
    CHECK(bh_diag_find(&d, "principal") != NULL);
    CHECK(bh_diag_find(&d, "project_no") != NULL);
    CHECK(bh_diag_find(&d, "amount_fen") != NULL);
    CHECK(bh_diag_find(&d, "valid_to") != NULL);
    CHECK_EQ(out.len, 0);
    bh_diag_release(&d);

    /* Caller mistakes. */
    g = facts();
    CHECK_EQ(bh_doc_guarantee_pdf(NULL, &out, NULL), BH_EINVAL);
    CHECK_EQ(bh_doc_guarantee_xml(NULL, &out, NULL), BH_EINVAL);
    CHECK_EQ(bh_doc_guarantee_pdf(&g, NULL, NULL), BH_EINVAL);
    CHECK_EQ(bh_doc_guarantee_xml(&g, NULL, NULL), BH_EINVAL);
    CHECK_EQ(bh_doc_application_pdf(&g, NULL, &out, NULL), BH_EINVAL);

    /* Required applicant details. */
    bh_applicant_details a = applicant();
    a.contact = NULL;
    a.basic_account_no = "";
    CHECK_EQ(bh_doc_application_pdf(&g, &a, &out, &d), BH_EMISSING);
    CHECK(bh_diag_find(&d, "contact") != NULL);
    CHECK(bh_diag_find(&d, "basic_account_no") != NULL);
    CHECK_EQ(out.len, 0);
    bh_diag_release(&d);
    bh_buf_release(&out);
}

/* A character no installed font has would print as an empty box: the PDFs
 * refuse it, naming the field; the XML, which shows no glyphs, takes it. */
static void test_unprintable_character(void)
{
    bh_guarantee_facts g = facts();
    g.principal = "福建省恒泰\xf4\x8f\xbf\xbd建设有限公司"; /* U+10FFFD, private use */
    bh_buf out;
    bh_diag d = BH_DIAG_INIT;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_doc_guarantee_pdf(&g, &out, &d), BH_EFORMAT);
    CHECK(bh_diag_find(&d, "principal") != NULL);
    CHECK_EQ(out.len, 0);
    bh_diag_release(&d);
    bh_applicant_details a = applicant();
    a.contact = "林\xf4\x8f\xbf\xbd";
    CHECK_EQ(bh_doc_application_pdf(&g, &a, &out, &d), BH_EFORMAT);
    CHECK(bh_diag_find(&d, "principal") != NULL);
    CHECK(bh_diag_find(&d, "contact") != NULL);
    bh_diag_release(&d);
    CHECK_EQ(bh_doc_guarantee_xml(&g, &out, &d), BH_OK);
    bh_buf_release(&out);
    bh_diag_release(&d);
}

/* A buffer too small for the document: refused, and left as it was. */
static void test_output_limit(void)
{
    bh_guarantee_facts g = facts();
    bh_buf out;
    bh_diag d = BH_DIAG_INIT;
    bh_buf_init(&out, 1000);
    CHECK_EQ(bh_buf_addstr(&out, "kept"), BH_OK);
    CHECK_EQ(bh_doc_guarantee_pdf(&g, &out, &d), BH_ETOOBIG);
    CHECK_STR(out.data, "kept");
    CHECK_EQ(bh_doc_guarantee_xml(&g, &out, &d), BH_ETOOBIG);
    CHECK_STR(out.data, "kept");
    CHECK(d.count >= 2);
    bh_buf_release(&out);
    bh_diag_release(&d);
}

/* Removes the temporary files, also when a broken fixture ends the run early
 * through exit(). */
/* The seal is paths only: no text operators, no resources; the signed
 * guarantee verifies and shows red where the seal is. (The signature itself
 * is checked with pdfsig, qpdf and openssl in test_e2e_signed.) */
static void test_signed_guarantee_seal(void)
{
    bh_buf ap;
    bh_buf_init(&ap, 1 << 22);
    CHECK_EQ(bh__doc_seal_appearance("中国人民财产保险股份有限公司漳州市分公司", &ap), BH_OK);
    CHECK(ap.len > 2000 && strncmp(ap.data, "q\n0.85 0.07 0.09 rg\n", 20) == 0);
    CHECK(ap.len > 4 && strcmp(ap.data + ap.len - 4, "f\nQ\n") == 0);
    CHECK(strstr(ap.data, " c\n") && strstr(ap.data, " l\n") && strstr(ap.data, "h\n"));
    CHECK(!strstr(ap.data, "BT") && !strstr(ap.data, "Tf") && !strstr(ap.data, "Do"));
    bh_buf_release(&ap);

    char pki[256];
    path_in_tmp(pki, sizeof pki, "pki");
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_pki_init(pki, BH_KEY_EC, "测试机构", bh_time_now(), &d), BH_OK);
    char cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/" BH_PKI_CERT, pki);
    snprintf(key, sizeof key, "%s/" BH_PKI_KEY, pki);
    bh_signer *signer = NULL;
    CHECK_EQ(bh_signer_load(cert, key, NULL, bh_time_now(), &signer, &d), BH_OK);
    bh_guarantee_facts g = facts();
    bh_buf pdf, signed_pdf;
    bh_buf_init(&pdf, BH_BUF_MAX_DEFAULT);
    bh_buf_init(&signed_pdf, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_doc_guarantee_pdf(&g, &pdf, &d), BH_OK);
    if (signer)
        CHECK_EQ(bh_doc_sign_guarantee(pdf.data, pdf.len, signer, g.issuer, bh_time_now(),
                                       &signed_pdf, &d),
                 BH_OK);
    bh_pdf_check c;
    CHECK_EQ(bh_pdf_verify(signed_pdf.data ? signed_pdf.data : "", signed_pdf.len, NULL, &c, &d),
             BH_OK);
    CHECK(bh_pdf_check_valid(&c));
    char path[256];
    path_in_tmp(path, sizeof path, "signed.pdf");
    write_file(path, &signed_pdf);
    CHECK(!area_blank(path, BH_DOC_SEAL_X_MM, BH_DOC_SEAL_Y_MM, BH_DOC_SEAL_SIZE_MM,
                      BH_DOC_SEAL_SIZE_MM));
    /* The seal holds no text: the name is outlines. */
    char *seal = pdf_text_in(path, BH_DOC_SEAL_X_MM, BH_DOC_SEAL_Y_MM, BH_DOC_SEAL_SIZE_MM,
                             BH_DOC_SEAL_SIZE_MM);
    CHECK(only_space(seal));
    free(seal);
    unlink(path);
    static const char *const files[] = {BH_PKI_CA_CERT, BH_PKI_CA_KEY, BH_PKI_CERT, BH_PKI_KEY,
                                        BH_PKI_CHAIN};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char f[320];
        snprintf(f, sizeof f, "%s/%s", pki, files[i]);
        unlink(f);
    }
    rmdir(pki);
    bh_signer_free(signer);
    bh_buf_release(&pdf);
    bh_buf_release(&signed_pdf);
    bh_diag_release(&d);
}

static void remove_tmpdir(void)
{
    static const char *const files[] = {"guarantee.pdf", "optional.pdf", "longest.pdf",
                                        "longest-form.pdf", "application.pdf"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        path_in_tmp(path, sizeof path, files[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int main(void)
{
    size_t len = 0;
    char *json = check_read_file(BH_SPEC_EXAMPLES_DIR "/baohanapply.plain.json", &len);
    if (bh_msg_parse(json, len, BH_MSG_MAX_REQUEST, 0, &example, NULL) != BH_OK) {
        fprintf(stderr, "cannot parse the example application\n");
        return 2;
    }
    free(json);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    atexit(remove_tmpdir);
    load_schema();

    RUN(test_guarantee_pdf);
    RUN(test_guarantee_pdf_optional);
    RUN(test_guarantee_pdf_longest_facts);
    RUN(test_application_pdf);
    RUN(test_application_refuses_full_id_number);
    RUN(test_guarantee_xml);
    RUN(test_schema_refuses_broken_documents);
    RUN(test_refusals);
    RUN(test_unprintable_character);
    RUN(test_output_limit);
    RUN(test_signed_guarantee_seal);

    /* The libraries' caches, so a leak checker sees only what is ours (see
     * tests/lsan.supp for what remains); the files go at exit. */
    bh_msg_free(example);
    xmlSchemaFree(schema);
    xmlCleanupParser();
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    return CHECK_DONE();
}
