/* The bidder's page against a real store in a temporary directory: what it
 * shows, what it refuses, what it stores. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "html.h"
#include "web.h"

#define TOKEN "0123456789abcdef0123456789abcdef"
#define TOKEN2 "fedcba9876543210fedcba9876543210"
#define PATH "/pay/" TOKEN
#define CARD "11010519491231002X"

static char tmpdir[] = "/tmp/bh_test_web_XXXXXX";
static bh_store *store;
static bh_config config;
static bh_web web;
static char *request_json;

/* ---- requests ----------------------------------------------------------- */

typedef struct result {
    int handled;
    bh_http_response resp;
} result;

static void call(const char *method, const char *path, const char *content_type, const char *body,
                 size_t len, result *r)
{
    memset(r, 0, sizeof *r);
    r->resp.status = 200;
    bh_buf_init(&r->resp.body, BH_BUF_MAX_DEFAULT);
    bh_http_request req = {
        method,           path,           "",  content_type ? content_type : "", "127.0.0.1",
        body ? body : "", body ? len : 0, NULL};
    r->handled = bh_web_handle(&web, &req, &r->resp);
}

static void release(result *r)
{
    bh_buf_release(&r->resp.body);
}

static const char *page(const result *r)
{
    return r->resp.body.data ? r->resp.body.data : "";
}

static int has(const result *r, const char *text)
{
    return strstr(page(r), text) != NULL;
}

static size_t count(const result *r, const char *text)
{
    size_t n = 0;
    for (const char *p = page(r); (p = strstr(p, text)); p += strlen(text))
        n++;
    return n;
}

/* A multipart/form-data body built part by part. */
#define BOUNDARY "----WebKitFormBoundary7MA4YWxkTrZu0gW"
static const char MP_TYPE[] = "multipart/form-data; boundary=" BOUNDARY;

static void mp_text(bh_buf *b, const char *name, const char *value)
{
    CHECK_EQ(bh_buf_addf(b,
                         "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                         "%s\r\n",
                         name, value),
             BH_OK);
}

static void mp_file(bh_buf *b, const char *name, const char *filename, const void *data, size_t len)
{
    CHECK_EQ(bh_buf_addf(b,
                         "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"; "
                         "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                         name, filename),
             BH_OK);
    CHECK_EQ(bh_buf_add(b, data, len), BH_OK);
    CHECK_EQ(bh_buf_addstr(b, "\r\n"), BH_OK);
}

static void mp_end(bh_buf *b)
{
    CHECK_EQ(bh_buf_addstr(b, "--" BOUNDARY "--\r\n"), BH_OK);
}

static const char *const KEYS[] = {
    "biddercontact",    "biddercontacttel", "bidderaddress", "bidderemail",  "bidderpersonname",
    "bidderpersoncard", "bidderpersontel",  "basicbank",     "basicaccount",
};

static const char *const GOOD[] = {
    "林建国",
    "0596-2031234",
    "福建省漳州市芗城区胜利西路 100 号",
    "lin@hengtai.example.cn",
    "陈志明",
    "11010519491231002x", /* lower-case x is accepted and stored as X */
    "+86 138 0596 1234",
    "中国工商银行股份有限公司漳州分行",
    "1407 0100 0920 0123 456", /* spaces are removed */
};

static void mp_good_fields(bh_buf *b)
{
    for (size_t i = 0; i < 9; i++)
        mp_text(b, KEYS[i], GOOD[i]);
}

/* Realistic-enough file contents: the magic bytes, then CRLFs and NULs. */
static const char PNG[] = "\x89PNG\r\n\x1A\n\0\0\0\rIHDR\r\n--not a boundary\r\n\0end";
static const char PDF[] = "%PDF-1.7\r\n%\xE2\xE3\xCF\xD3\r\n1 0 obj\r\n<<>>\r\nendobj\r\n\0%%EOF";
static const char TEXT[] = "just some notes, not a PDF at all\r\n";

/* ---- the store -------------------------------------------------------------- */

typedef struct find_ctx {
    const char *token;
    bh_app app;
    bh_file file[2];
    bh_err file_err[2];
} find_ctx;

static bh_err find_unit(bh_tx *tx, void *ctx)
{
    find_ctx *f = ctx;
    bh_err err = bh_tx_app_by_token(tx, f->token, &f->app);
    if (err)
        return err;
    f->file_err[0] = bh_tx_file_by_kind(tx, f->app.id, "qualification", &f->file[0]);
    f->file_err[1] = bh_tx_file_by_kind(tx, f->app.id, "business_license", &f->file[1]);
    return BH_OK;
}

static void find(const char *token, find_ctx *f)
{
    memset(f, 0, sizeof *f);
    f->token = token;
    CHECK_EQ(bh_store_read(store, find_unit, f), BH_OK);
}

static void find_release(find_ctx *f)
{
    bh_app_release(&f->app);
    for (int i = 0; i < 2; i++)
        if (f->file_err[i] == BH_OK)
            bh_file_release(&f->file[i]);
}

static bh_err insert_unit(bh_tx *tx, void *ctx)
{
    return bh_tx_app_insert(tx, ctx);
}

static void insert_app(const char *token, const char *applyno, const char *biddername,
                       const char *json)
{
    bh_app app;
    memset(&app, 0, sizeof app);
    app.appkey = "ZZGGZY";
    app.applyno = (char *)applyno;
    app.content_hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    app.state = BH_APP_APPLIED;
    app.pay_token = (char *)token;
    app.request_json = (char *)json;
    app.biddername = (char *)biddername;
    app.biddercode = "91350602MA2Y3K7P18";
    app.bzjamount_fen = 20000000;
    app.premium_fen = 30000;
    CHECK_EQ(bh_store_write(store, insert_unit, &app), BH_OK);
}

typedef struct state_ctx {
    const char *token;
    bh_app_state from, to;
} state_ctx;

static bh_err state_unit(bh_tx *tx, void *ctx)
{
    state_ctx *s = ctx;
    bh_app app;
    bh_err err = bh_tx_app_by_token(tx, s->token, &app);
    if (err)
        return err;
    app.state = s->to;
    err = bh_tx_app_update(tx, &app, s->from, bh_time_now());
    bh_app_release(&app);
    return err;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_get_shows_application(void)
{
    result r;
    call("GET", PATH, NULL, NULL, 0, &r);
    CHECK_EQ(r.handled, 1);
    CHECK_EQ(r.resp.status, 200);
    CHECK_STR(r.resp.content_type, "text/html; charset=utf-8");
    CHECK(strstr(r.resp.extra_headers, "Cache-Control: no-store\r\n") != NULL);
    CHECK(strstr(r.resp.extra_headers, "X-Content-Type-Options: nosniff\r\n") != NULL);
    CHECK(strstr(r.resp.extra_headers, "Referrer-Policy: no-referrer\r\n") != NULL);
    CHECK(strstr(r.resp.extra_headers, "Content-Security-Policy: default-src 'none'; "
                                       "style-src 'unsafe-inline'; form-action 'self'") != NULL);
    CHECK(strncmp(page(&r), "<!doctype html>", 15) == 0);
    CHECK(has(&r, "<html lang=\"zh-CN\">"));
    CHECK(has(&r, "<meta charset=\"utf-8\">"));
    /* The decrypted fields the bidder recognises. */
    CHECK(has(&r, "漳州市芗城区九龙江西岸道路提升工程"));
    CHECK(has(&r, "ZZGC-2026-0412"));
    CHECK(has(&r, "漳州市芗城区九龙江西岸道路提升工程施工第一标段"));
    CHECK(has(&r, "ZZGC-2026-0412-01"));
    CHECK(has(&r, "漳州市芗城区城市建设投资有限公司"));
    CHECK(has(&r, "福建省漳州市恒泰建设工程有限公司"));
    CHECK(has(&r, "91350602MA2Y3K7P18"));
    CHECK(has(&r, "ZZBH2026112800017"));
    CHECK(has(&r, "2026-12-21 09:30:00"));
    CHECK(has(&r, "90 天"));
    /* Amounts in figures and in capital numerals. */
    CHECK(has(&r, "200000.00 元"));
    CHECK(has(&r, "人民币贰拾万元整"));
    CHECK(has(&r, "300.00 元"));
    CHECK(has(&r, "人民币叁佰元整"));
    CHECK(has(&r, "待提交资料"));
    CHECK(has(&r, "恒泰保险漳州中心支公司"));
    /* The form: multipart, a label for every input. */
    CHECK(has(&r, "<form method=\"post\" enctype=\"multipart/form-data\""));
    for (size_t i = 0; i < 9; i++) {
        char label[64], input[64];
        snprintf(label, sizeof label, "<label for=\"f-%s\">", KEYS[i]);
        snprintf(input, sizeof input, "id=\"f-%s\" name=\"%s\"", KEYS[i], KEYS[i]);
        CHECK(has(&r, label));
        CHECK(has(&r, input));
    }
    CHECK(has(&r, "<label for=\"f-qualification\">资质文件</label>"));
    CHECK(has(&r, "<label for=\"f-business_license\">营业执照</label>"));
    CHECK(has(&r, "type=\"file\" id=\"f-qualification\" name=\"qualification\""));
    CHECK(count(&r, "<label") == count(&r, "<input"));
    /* No payment details before the form is in. */
    CHECK(!has(&r, "6225 0000 1111 2222"));
    CHECK(!has(&r, "<script"));
    release(&r);

    /* HEAD is GET without a body (the server drops it). */
    call("HEAD", PATH, NULL, NULL, 0, &r);
    CHECK_EQ(r.resp.status, 200);
    release(&r);
}

static void test_post_every_error(void)
{
    char long_address[400];
    memset(long_address, 'a', 301);
    long_address[301] = '\0';
    char long_name[400] = "";
    for (int i = 0; i < 101; i++)
        memcpy(long_name + i * 3, "陈", 3);
    long_name[303] = '\0';

    bh_buf b;
    bh_buf_init(&b, BH_BUF_MAX_DEFAULT);
    mp_text(&b, "biddercontact", "   ");                             /* required (blank) */
    mp_text(&b, "biddercontacttel", "12345");                        /* too few digits */
    mp_text(&b, "bidderaddress", long_address);                      /* over 300 */
    mp_text(&b, "bidderemail", "lin at hengtai.cn");                 /* no @, a space */
    mp_text(&b, "bidderpersonname", long_name);                      /* over 100 characters */
    mp_text(&b, "bidderpersoncard", "110105194912310021");           /* wrong check digit */
    mp_text(&b, "bidderpersontel", "tel:0596<b>");                   /* letters */
    mp_text(&b, "basicbank", "");                                    /* required */
    mp_text(&b, "basicaccount", "6222 02a1");                        /* a letter */
    mp_file(&b, "qualification", "资质.pdf", TEXT, sizeof TEXT - 1); /* not a PDF */
    mp_file(&b, "business_license", "", "", 0);                      /* none chosen */
    mp_end(&b);

    result r;
    call("POST", PATH, MP_TYPE, b.data, b.len, &r);
    CHECK_EQ(r.handled, 1);
    CHECK_EQ(r.resp.status, 422);
    CHECK(has(&r, "请修改以下 11 处后重新提交"));
    CHECK(has(&r, "请填写联系人"));
    CHECK(has(&r, "应有 7 到 20 位数字"));
    CHECK(has(&r, "不能超过 300 个字"));
    CHECK(has(&r, "电子邮箱格式不正确"));
    CHECK(has(&r, "不能超过 100 个字"));
    CHECK(has(&r, "身份证号校验位不正确"));
    CHECK(has(&r, "请填写基本户开户银行"));
    CHECK(has(&r, "账号应为 6 到 40 位数字"));
    CHECK(has(&r, "仅支持 PDF、JPEG 或 PNG 文件"));
    CHECK(has(&r, "请上传营业执照"));
    /* Each error sits beside its field. */
    CHECK(has(&r, "<p class=\"error\" id=\"e-bidderemail\">电子邮箱格式不正确"));
    CHECK(has(&r, "<p class=\"error\" id=\"e-qualification\">仅支持"));
    CHECK(has(&r, "<p class=\"error\" id=\"e-business_license\">请上传营业执照"));
    CHECK_EQ(count(&r, "aria-invalid=\"true\""), 11);
    /* The bidder's values come back, escaped; the ID number is their own input. */
    CHECK(has(&r, "value=\"lin at hengtai.cn\""));
    CHECK(has(&r, "value=\"tel:0596&lt;b&gt;\""));
    CHECK(has(&r, "value=\"110105194912310021\""));
    CHECK(!has(&r, "<b>"));
    release(&r);
    bh_buf_release(&b);

    /* Nothing changed in the store. */
    find_ctx f;
    find(TOKEN, &f);
    CHECK_EQ(f.app.state, BH_APP_APPLIED);
    CHECK(f.app.form_json == NULL);
    CHECK_EQ(f.file_err[0], BH_ENOTFOUND);
    CHECK_EQ(f.file_err[1], BH_ENOTFOUND);
    find_release(&f);
}

static void test_idcard_rules(void)
{
    static const struct {
        const char *card;
        const char *message; /* NULL: accepted (then another field fails) */
    } cases[] = {
        {"350602198507150019", NULL},
        {"11010519491231002X", NULL},
        {"35060219850715001", "身份证号应为 18 位"},
        {"3506021985071500199", "身份证号应为 18 位"},
        {"35060219850715001A", "最后一位为数字或 X"},
        {"3506021985X7150019", "最后一位为数字或 X"},
        {"350602198502300015", "出生日期无效"}, /* 30 February */
        {"350602198513010011", "出生日期无效"}, /* month 13 */
        {"350602198507150018", "校验位不正确"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bh_buf b;
        bh_buf_init(&b, 1 << 20);
        for (size_t k = 0; k < 9; k++)
            mp_text(&b, KEYS[k], k == 5 ? cases[i].card : k == 0 ? "" : GOOD[k]);
        mp_end(&b);
        result r;
        call("POST", PATH, MP_TYPE, b.data, b.len, &r);
        CHECK_EQ(r.resp.status, 422);
        int card_error = has(&r, "id=\"e-bidderpersoncard\"");
        if (cases[i].message) {
            CHECK(card_error);
            CHECK(has(&r, cases[i].message));
        } else {
            CHECK(!card_error);
        }
        if (card_error != (cases[i].message != NULL))
            fprintf(stderr, "  card case %zu: %s\n", i, cases[i].card);
        release(&r);
        bh_buf_release(&b);
    }
}

static void test_text_named_pdf_refused(void)
{
    bh_buf b;
    bh_buf_init(&b, BH_BUF_MAX_DEFAULT);
    mp_good_fields(&b);
    mp_file(&b, "qualification", "资质证书.pdf", TEXT, sizeof TEXT - 1);
    mp_file(&b, "business_license", "license.pdf", PDF, sizeof PDF - 1);
    mp_end(&b);
    result r;
    call("POST", PATH, MP_TYPE, b.data, b.len, &r);
    CHECK_EQ(r.resp.status, 422);
    CHECK(has(&r, "请修改以下 1 处后重新提交"));
    CHECK(has(&r, "<p class=\"error\" id=\"e-qualification\">仅支持 PDF、JPEG 或 PNG"));
    /* Every other value is kept for the next try. */
    CHECK(has(&r, "value=\"lin@hengtai.example.cn\""));
    CHECK(has(&r, "value=\"中国工商银行股份有限公司漳州分行\""));
    release(&r);
    bh_buf_release(&b);

    /* A file over the cap is refused beside its field. */
    char *big = calloc(1, BH_WEB_MAX_FILE + 1);
    CHECK(big != NULL);
    if (big) {
        memcpy(big, "%PDF-", 5);
        bh_buf_init(&b, BH_BUF_MAX_DEFAULT);
        mp_good_fields(&b);
        mp_file(&b, "qualification", "big.pdf", big, BH_WEB_MAX_FILE + 1);
        mp_file(&b, "business_license", "license.pdf", PDF, sizeof PDF - 1);
        mp_end(&b);
        call("POST", PATH, MP_TYPE, b.data, b.len, &r);
        CHECK_EQ(r.resp.status, 422);
        CHECK(has(&r, "<p class=\"error\" id=\"e-qualification\">文件超过 10 MB"));
        release(&r);
        bh_buf_release(&b);
        free(big);
    }

    /* A body that is not a form at all. */
    call("POST", PATH, MP_TYPE, "garbage", 7, &r);
    CHECK_EQ(r.resp.status, 400);
    CHECK(has(&r, "提交的表单无法识别"));
    CHECK(has(&r, "<form method=\"post\""));
    release(&r);
    call("POST", PATH, "application/json", "{}", 2, &r);
    CHECK_EQ(r.resp.status, 400);
    release(&r);

    find_ctx f;
    find(TOKEN, &f);
    CHECK_EQ(f.app.state, BH_APP_APPLIED);
    CHECK(f.app.form_json == NULL);
    CHECK_EQ(f.file_err[0], BH_ENOTFOUND);
    find_release(&f);
}

static void test_valid_post(void)
{
    bh_buf b;
    bh_buf_init(&b, BH_BUF_MAX_DEFAULT);
    mp_good_fields(&b);
    /* A PNG whose name says PDF: accepted, as what it is. */
    mp_file(&b, "qualification", "C:\\fakepath\\资质证书.pdf", PNG, sizeof PNG - 1);
    mp_file(&b, "business_license", "营业执照;.pdf", PDF, sizeof PDF - 1);
    mp_end(&b);
    result r;
    call("POST", PATH, MP_TYPE, b.data, b.len, &r);
    CHECK_EQ(r.resp.status, 303);
    CHECK(strstr(r.resp.extra_headers, "Location: https://bh.example.com/pay/" TOKEN "\r\n") !=
          NULL);
    CHECK(strstr(r.resp.extra_headers, "Cache-Control: no-store\r\n") != NULL);
    CHECK(strstr(r.resp.note, "submitted") != NULL);
    CHECK(strstr(r.resp.note, CARD) == NULL);
    release(&r);
    bh_buf_release(&b);

    find_ctx f;
    find(TOKEN, &f);
    CHECK_EQ(f.app.state, BH_APP_SUBMITTED);
    bh_msg *form = NULL;
    CHECK(f.app.form_json != NULL);
    if (f.app.form_json)
        CHECK_EQ(bh_msg_parse(f.app.form_json, strlen(f.app.form_json), BH_MSG_MAX_REQUEST, 0,
                              &form, NULL),
                 BH_OK);
    if (form) {
        CHECK_EQ(bh_msg_count(form), 9);
        for (size_t i = 0; i < 9; i++)
            CHECK_STR(bh_msg_at(form, i)->key, KEYS[i]);
        CHECK_STR(bh_msg_text(form, "biddercontact"), "林建国");
        CHECK_STR(bh_msg_text(form, "biddercontacttel"), "0596-2031234");
        CHECK_STR(bh_msg_text(form, "bidderaddress"), "福建省漳州市芗城区胜利西路 100 号");
        CHECK_STR(bh_msg_text(form, "bidderemail"), "lin@hengtai.example.cn");
        CHECK_STR(bh_msg_text(form, "bidderpersonname"), "陈志明");
        CHECK_STR(bh_msg_text(form, "bidderpersoncard"), CARD);
        CHECK_STR(bh_msg_text(form, "bidderpersontel"), "+86 138 0596 1234");
        CHECK_STR(bh_msg_text(form, "basicbank"), "中国工商银行股份有限公司漳州分行");
        CHECK_STR(bh_msg_text(form, "basicaccount"), "1407010009200123456");
    }
    bh_msg_free(form);

    char md5[BH_MD5_HEX_LEN + 1];
    CHECK_EQ(f.file_err[0], BH_OK);
    CHECK_EQ(f.file_err[1], BH_OK);
    if (f.file_err[0] == BH_OK) {
        CHECK_STR(f.file[0].content_type, "image/png");
        CHECK_STR(f.file[0].filename, "资质证书.png");
        CHECK_EQ(bh_md5_hex(PNG, sizeof PNG - 1, md5), BH_OK);
        CHECK_STR(f.file[0].md5, md5);
        CHECK_EQ(f.file[0].size, sizeof PNG - 1);
        bh_buf bytes;
        bh_buf_init(&bytes, BH_BUF_MAX_DEFAULT);
        CHECK_EQ(bh_store_file_read(store, &f.file[0], &bytes), BH_OK);
        CHECK(bytes.len == sizeof PNG - 1 && memcmp(bytes.data, PNG, bytes.len) == 0);
        bh_buf_release(&bytes);
    }
    if (f.file_err[1] == BH_OK) {
        CHECK_STR(f.file[1].content_type, "application/pdf");
        CHECK_STR(f.file[1].filename, "营业执照.pdf");
        CHECK_EQ(bh_md5_hex(PDF, sizeof PDF - 1, md5), BH_OK);
        CHECK_STR(f.file[1].md5, md5);
    }
    find_release(&f);
}

static void test_get_after_submit(void)
{
    result r;
    call("GET", PATH, NULL, NULL, 0, &r);
    CHECK_EQ(r.resp.status, 200);
    CHECK(has(&r, "已提交"));
    CHECK(has(&r, "<th>收款户名</th><td>恒泰保险漳州中心支公司</td>"));
    CHECK(has(&r, "<th>收款账号</th><td>6225 0000 1111 2222</td>"));
    CHECK(has(&r, "<th>开户行</th><td>招商银行漳州分行营业部</td>"));
    CHECK(
        has(&r, "<th>应付保费</th><td><span class=\"amount\">300.00 元</span>（人民币叁佰元整）"));
    CHECK(has(&r, "<th>付款附言</th><td><strong>ZZBH2026112800017</strong>"));
    CHECK(has(&r, "<strong>保费必须从投标人基本户（中国工商银行股份有限公司漳州分行 "
                  "1407010009200123456）转出，非基本户支付的保函在开标时会被认定为无效保函。"
                  "</strong>"));
    /* Stored details: the ID number only masked, never whole. */
    CHECK(has(&r, "110105********002X"));
    CHECK(!has(&r, CARD));
    CHECK(has(&r, "资质证书.png"));
    /* A correction form is still there (folded), without the ID number. */
    CHECK(has(&r, "<details>"));
    CHECK(has(&r, "<form method=\"post\""));
    CHECK(has(&r, "value=\"林建国\""));
    CHECK(has(&r, "name=\"bidderpersoncard\" maxlength=\"32\" autocomplete=\"off\" value=\"\""));
    release(&r);
}

static void test_resubmit(void)
{
    /* Text only (urlencoded), no ID number: files and the ID are kept. */
    bh_buf b;
    bh_buf_init(&b, 1 << 20);
    static const char *const enc[] = {
        "%E5%BC%A0%E4%B8%89",
        "0596-2031235",
        "address+2",
        "zhang%40hengtai.example.cn",
        "%E9%99%88%E5%BF%97%E6%98%8E",
        "",
        "13805961234",
        "bank",
        "140701000920012345",
    };
    for (size_t i = 0; i < 9; i++)
        CHECK_EQ(bh_buf_addf(&b, "%s%s=%s", i ? "&" : "", KEYS[i], enc[i]), BH_OK);
    result r;
    call("POST", PATH, "application/x-www-form-urlencoded; charset=UTF-8", b.data, b.len, &r);
    CHECK_EQ(r.resp.status, 303);
    CHECK(strstr(r.resp.extra_headers, "Location: https://bh.example.com/pay/" TOKEN "\r\n"));
    release(&r);

    /* A public_url too long for the header space: a relative Location, and
     * never a header cut in the middle. */
    char long_url[700] = "https://";
    memset(long_url + 8, 'a', 600);
    long_url[608] = '\0';
    config.public_url = long_url;
    call("POST", PATH, "application/x-www-form-urlencoded", b.data, b.len, &r);
    CHECK_EQ(r.resp.status, 303);
    CHECK(strstr(r.resp.extra_headers, "\r\nLocation: /pay/" TOKEN "\r\n"));
    CHECK(strstr(r.resp.extra_headers, "Cache-Control: no-store\r\n"));
    release(&r);
    config.public_url = "https://bh.example.com/";
    bh_buf_release(&b);

    find_ctx f;
    find(TOKEN, &f);
    CHECK_EQ(f.app.state, BH_APP_SUBMITTED);
    bh_msg *form = NULL;
    if (f.app.form_json && bh_msg_parse(f.app.form_json, strlen(f.app.form_json),
                                        BH_MSG_MAX_REQUEST, 0, &form, NULL) == BH_OK) {
        CHECK_STR(bh_msg_text(form, "biddercontact"), "张三");
        CHECK_STR(bh_msg_text(form, "bidderaddress"), "address 2");
        CHECK_STR(bh_msg_text(form, "bidderemail"), "zhang@hengtai.example.cn");
        CHECK_STR(bh_msg_text(form, "bidderpersoncard"), CARD);
        CHECK_STR(bh_msg_text(form, "basicaccount"), "140701000920012345");
    } else {
        CHECK(!"form_json unreadable");
    }
    bh_msg_free(form);
    char md5[BH_MD5_HEX_LEN + 1];
    CHECK_EQ(bh_md5_hex(PNG, sizeof PNG - 1, md5), BH_OK);
    CHECK(f.file_err[0] == BH_OK && strcmp(f.file[0].md5, md5) == 0);
    find_release(&f);

    /* A failed correction opens the folded form and shows the errors. */
    call("POST", PATH, "application/x-www-form-urlencoded", "biddercontact=", 14, &r);
    CHECK_EQ(r.resp.status, 422);
    CHECK(has(&r, "<details open>"));
    CHECK(has(&r, "请填写联系人"));
    CHECK(!has(&r, "请填写法定代表人身份证号")); /* kept: may stay empty */
    CHECK(!has(&r, "id=\"e-qualification\""));   /* kept: may stay empty */
    CHECK(has(&r, "收款账号"));                  /* the payment instructions stay on the page */
    CHECK(!has(&r, CARD));
    release(&r);
}

static void test_paid_shows_status_only(void)
{
    state_ctx s = {TOKEN, BH_APP_SUBMITTED, BH_APP_PAID};
    CHECK_EQ(bh_store_write(store, state_unit, &s), BH_OK);
    result r;
    call("GET", PATH, NULL, NULL, 0, &r);
    CHECK_EQ(r.resp.status, 200);
    CHECK(has(&r, "已付款"));
    CHECK(!has(&r, "<form"));
    CHECK(!has(&r, "<input"));
    CHECK(!has(&r, CARD));
    CHECK(has(&r, "漳州市芗城区九龙江西岸道路提升工程"));
    release(&r);

    /* A late POST changes nothing. */
    bh_buf b;
    bh_buf_init(&b, BH_BUF_MAX_DEFAULT);
    mp_good_fields(&b);
    mp_file(&b, "qualification", "q.pdf", PDF, sizeof PDF - 1);
    mp_file(&b, "business_license", "l.pdf", PDF, sizeof PDF - 1);
    mp_end(&b);
    call("POST", PATH, MP_TYPE, b.data, b.len, &r);
    CHECK_EQ(r.resp.status, 409);
    CHECK(!has(&r, "<form"));
    release(&r);
    bh_buf_release(&b);
    find_ctx f;
    find(TOKEN, &f);
    CHECK_EQ(f.app.state, BH_APP_PAID);
    CHECK(f.file_err[0] == BH_OK && strcmp(f.file[0].content_type, "image/png") == 0);
    find_release(&f);

    static const struct {
        bh_app_state from, to;
        const char *label;
    } steps[] = {
        {BH_APP_PAID, BH_APP_ISSUED, "已出函"},
        {BH_APP_ISSUED, BH_APP_QUIT_REQUESTED, "退保处理中"},
        {BH_APP_QUIT_REQUESTED, BH_APP_QUIT, "已退保"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        state_ctx st = {TOKEN, steps[i].from, steps[i].to};
        CHECK_EQ(bh_store_write(store, state_unit, &st), BH_OK);
        call("GET", PATH, NULL, NULL, 0, &r);
        CHECK(has(&r, steps[i].label));
        CHECK(!has(&r, "<form"));
        release(&r);
    }
}

static void test_tokens(void)
{
    result r;
    /* Well-formed but unknown. */
    call("GET", "/pay/00000000000000000000000000000000", NULL, NULL, 0, &r);
    CHECK_EQ(r.handled, 1);
    CHECK_EQ(r.resp.status, 404);
    CHECK(has(&r, "<!doctype html>"));
    CHECK(strstr(r.resp.extra_headers, "Referrer-Policy: no-referrer") != NULL);
    release(&r);
    call("POST", "/pay/00000000000000000000000000000000", MP_TYPE, "x", 1, &r);
    CHECK_EQ(r.resp.status, 404);
    release(&r);

    /* Malformed tokens are 404 without touching the store: with no store at
     * all, a lookup would be a 500. */
    bh_web saved = web;
    web.store = NULL;
    static const char *const bad[] = {
        "/pay/",
        "/pay/0123456789ABCDEF0123456789ABCDEF",
        "/pay/0123456789abcdef0123456789abcde",
        "/pay/0123456789abcdef0123456789abcdef0",
        "/pay/0123456789abcdef0123456789abcdeg",
        "/pay/0123456789ab0123456789abcdef0123456789abcdef0", /* 45 */
        "/pay/0123456789a0123456789abcdef0123456789abcdef",   /* 43 */
        "/pay/" TOKEN "/",
        "/pay/../admin",
        "/pay/" TOKEN "%00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        call("GET", bad[i], NULL, NULL, 0, &r);
        CHECK_EQ(r.handled, 1);
        CHECK_EQ(r.resp.status, 404);
        release(&r);
        call("POST", bad[i], MP_TYPE, "", 0, &r);
        CHECK_EQ(r.resp.status, 404);
        release(&r);
    }
    web = saved;

    /* Other methods. */
    call("PUT", PATH, NULL, NULL, 0, &r);
    CHECK_EQ(r.resp.status, 405);
    CHECK(strstr(r.resp.extra_headers, "Allow: GET, HEAD, POST\r\n") != NULL);
    release(&r);

    /* Not ours: the response is untouched. */
    static const char *const others[] = {"/pay", "/payx/" TOKEN, "/baohanapply", "/", "/pa"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        call("GET", others[i], NULL, NULL, 0, &r);
        CHECK_EQ(r.handled, 0);
        CHECK_EQ(r.resp.status, 200);
        CHECK_EQ(r.resp.body.len, 0);
        CHECK_STR(r.resp.extra_headers, "");
        release(&r);
    }
}

/* New tokens: 44 lower-case hex digits, time first, so that tokens made one
 * after another sort in that order (the store's index grows at its end), and
 * the random part differs. */
static void test_new_tokens(void)
{
    char a[BH_PAY_TOKEN_LEN + 1], b[BH_PAY_TOKEN_LEN + 1];
    CHECK_EQ(bh_web_new_token(a), BH_OK);
    struct timespec pause = {0, 2 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK_EQ(bh_web_new_token(b), BH_OK);
    CHECK_EQ(strlen(a), BH_PAY_TOKEN_LEN);
    CHECK_EQ(strspn(a, "0123456789abcdef"), BH_PAY_TOKEN_LEN);
    CHECK(strcmp(a, b) < 0);
    CHECK(strcmp(a + 12, b + 12) != 0);
    /* The time part is now, in milliseconds. */
    char ms[13];
    snprintf(ms, sizeof ms, "%.12s", a);
    long long t = strtoll(ms, NULL, 16);
    CHECK(t / 1000 >= bh_time_now() - 5 && t / 1000 <= bh_time_now());

    /* The page takes a new token as well-formed: without a store, a lookup
     * fails with 500, where a malformed token is a 404 before any lookup. */
    char path[64];
    snprintf(path, sizeof path, "/pay/%s", a);
    bh_web saved = web;
    web.store = NULL;
    result r;
    call("GET", path, NULL, NULL, 0, &r);
    CHECK_EQ(r.resp.status, 500);
    release(&r);
    web = saved;
}

static void test_escaping(void)
{
    static const char evil[] = "<script>alert(\"x\")</script>&'公司";
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(request_json, strlen(request_json), BH_MSG_MAX_REQUEST, 0, &m, NULL),
             BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "biddername", evil), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "projectname", "<img src=x onerror=alert(1)>"), BH_OK);
    bh_buf json;
    bh_buf_init(&json, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_msg_to_json(m, 0, &json), BH_OK);
    bh_msg_free(m);
    insert_app(TOKEN2, "ZZBH2026112800099", evil, json.data);
    bh_buf_release(&json);

    result r;
    call("GET", "/pay/" TOKEN2, NULL, NULL, 0, &r);
    CHECK_EQ(r.resp.status, 200);
    CHECK(!has(&r, "<script"));
    CHECK(!has(&r, "<img"));
    CHECK(has(&r, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;公司"));
    CHECK(has(&r, "&lt;img src=x onerror=alert(1)&gt;"));
    release(&r);

    /* The escaper itself: the five characters, invalid UTF-8, controls. */
    bh_buf out;
    bh_buf_init(&out, 1024);
    CHECK_EQ(bh_html_escape("a&b<c>d\"e'f", 11, &out), BH_OK);
    CHECK_STR(out.data, "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    bh_buf_reset(&out);
    CHECK_EQ(bh_html_escape("x\xC3(\x01y\xE4\xB8\xADz\xE4\xB8", 11, &out), BH_OK);
    CHECK_STR(out.data, "x\xEF\xBF\xBD(y\xE4\xB8\xADz\xEF\xBF\xBD\xEF\xBF\xBD");
    bh_buf_release(&out);
}

/* ---- setup ----------------------------------------------------------------------- */

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    char db[256], files[256];
    snprintf(db, sizeof db, "%s/baohan.db", tmpdir);
    snprintf(files, sizeof files, "%s/files", tmpdir);
    bh_diag d = BH_DIAG_INIT;
    if (bh_store_open(db, files, &store, &d) != BH_OK) {
        fprintf(stderr, "cannot open the store: %s\n", d.count ? d.items[0].message : "?");
        bh_diag_release(&d);
        remove_tree(tmpdir);
        return 2;
    }
    request_json = check_read_file(BH_SPEC_EXAMPLES_DIR "/baohanapply.plain.json", NULL);
    insert_app(TOKEN, "ZZBH2026112800017", "福建省漳州市恒泰建设工程有限公司", request_json);

    config.public_url = "https://bh.example.com/";
    config.inst_name = "恒泰保险漳州中心支公司";
    config.inst_bank = "招商银行漳州分行营业部";
    config.inst_account_name = "恒泰保险漳州中心支公司";
    config.inst_account_no = "6225 0000 1111 2222";
    web.store = store;
    web.config = &config;

    RUN(test_get_shows_application);
    RUN(test_post_every_error);
    RUN(test_idcard_rules);
    RUN(test_text_named_pdf_refused);
    RUN(test_valid_post);
    RUN(test_get_after_submit);
    RUN(test_resubmit);
    RUN(test_paid_shows_status_only);
    RUN(test_tokens);
    RUN(test_new_tokens);
    RUN(test_escaping);

    free(request_json);
    bh_store_close(store);
    remove_tree(tmpdir);
    return CHECK_DONE();
}
