/* The public verification page (see verify.h, docs/signing.md).
 *
 * What it shows is public by design — anyone holding a guarantee (the
 * beneficiary, a court, the trading centre) must be able to check it — so it
 * shows only what is printed on the guarantee itself and the status, never
 * the bidder's personal data (legal representative, ID number, phones,
 * accounts), which the store also holds. Nothing here writes to the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"
#include "baohan/body.h"
#include "institution.h"
#include "multipart.h"
#include "web.h"
#include "banned.h"

#define NO_MAX 64 /* a guarantee number (docgen's BH__DOC_ID_MAX) */

void bh_verify_url(const bh_config *c, const char *baohanno, char *out, size_t n)
{
    size_t len = c->public_url ? strlen(c->public_url) : 0;
    while (len > 0 && c->public_url[len - 1] == '/')
        len--;
    snprintf(out, n, "%.*s%s?no=%s", (int)len, c->public_url ? c->public_url : "",
             BH_VERIFY_PATH, baohanno);
}

/* A guarantee number as typed: trimmed; letters, digits and - _ . / only,
 * which is all a number may hold, so nothing else reaches the store. */
static int clean_no(const char *in, size_t len, char out[NO_MAX + 1])
{
    while (len > 0 && (*in == ' ' || *in == '\t')) {
        in++;
        len--;
    }
    while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t' || in[len - 1] == '\r' ||
                       in[len - 1] == '\n'))
        len--;
    if (len == 0 || len > NO_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              strchr("-_./", c)))
            return 0;
        out[i] = c;
    }
    out[len] = '\0';
    return 1;
}

/* The number a guarantee names itself by, for an upload whose number was
 * not typed: docgen titles every guarantee "投标保函 <number>", which cairo
 * writes as /Title <FEFF…> (UTF-16BE hex). The number only says which
 * stored file to compare the upload with; the comparison decides. */
static int number_in_file(const char *pdf, size_t len, char out[NO_MAX + 1])
{
    static const char tag[] = "/Title <FEFF629568074FDD51FD0020"; /* 投标保函 + space */
    const size_t tag_len = sizeof tag - 1;
    for (size_t i = 0; i + tag_len <= len; i++) {
        if (pdf[i] != '/' || memcmp(pdf + i, tag, tag_len) != 0)
            continue;
        char no[NO_MAX + 1];
        size_t n = 0, k = i + tag_len;
        /* ASCII only: "00" and the character's two hex digits. */
        while (k + 4 <= len && n < NO_MAX && memcmp(pdf + k, "00", 2) == 0) {
            unsigned v = 0;
            for (int j = 2; j < 4; j++) {
                char c = pdf[k + (size_t)j];
                int x = bh_hex_digit((unsigned char)c);
                if (x < 0)
                    return 0;
                v = v * 16 + (unsigned)x;
            }
            no[n++] = (char)v;
            k += 4;
        }
        return k < len && pdf[k] == '>' && clean_no(no, n, out);
    }
    return 0;
}

/* ---- what a number shows ---- */

typedef struct found {
    const char *no;
    bh_app app;
    bh_file file;
    int have_app, have_file;
} found;

static void found_release(found *f)
{
    if (f->have_app)
        bh_app_release(&f->app);
    if (f->have_file)
        bh_file_release(&f->file);
}

/* Only guarantees that were issued exist for the public; an application
 * that never got its number is "not found" like a number never given. */
static int was_issued(bh_app_state s)
{
    return s == BH_APP_ISSUED || s == BH_APP_QUIT_REQUESTED || s == BH_APP_QUIT ||
           s == BH_APP_CLAIMED;
}

static bh_err read_found(bh_tx *tx, void *ctx)
{
    found *f = ctx;
    bh_err err = bh_tx_app_by_baohanno(tx, f->no, &f->app);
    if (err)
        return err;
    f->have_app = 1;
    if (!was_issued(f->app.state))
        return BH_ENOTFOUND;
    err = bh_tx_file_by_kind(tx, f->app.id, "guarantee", &f->file);
    if (!err)
        f->have_file = 1;
    return err;
}

static bh_err lookup(const bh_verify *v, const char *no, found *f)
{
    memset(f, 0, sizeof *f);
    f->no = no;
    return bh_store_read(v->store, read_found, f);
}

static void status_of(const found *f, int64_t valid_to, int64_t now, const char **label,
                      const char **cls)
{
    *cls = "state";
    switch (f->app.state) {
    case BH_APP_ISSUED:
        if (valid_to && now > valid_to) {
            *label = "已过有效期";
        } else {
            *label = "有效";
            *cls = "state done";
        }
        break;
    case BH_APP_QUIT_REQUESTED:
        *label = "有效（退保申请处理中）";
        break;
    case BH_APP_QUIT:
        *label = "已撤回（已退保），不再有效";
        break;
    case BH_APP_CLAIMED:
        *label = "已索赔";
        break;
    default:
        *label = "未知";
    }
}

static void date_text(int64_t at, char out[BH_TIME_TEXT_LEN + 1])
{
    if (at > 0)
        bh_time_format(at, out);
    else
        out[0] = '\0';
}

static void render_facts(bh_html *h, const bh_verify *v, const found *f)
{
    bh_msg *req = NULL;
    if (f->app.request_json &&
        bh_msg_parse(f->app.request_json, strlen(f->app.request_json), BH_MSG_MAX_REQUEST,
                     BH_PARSE_ALLOW_NESTED, &req, NULL) != BH_OK)
        req = NULL;
    int64_t valid_to = 0;
    if (!req || bh_validity_end(req, &valid_to) != BH_OK)
        valid_to = 0;
    const char *label, *cls;
    status_of(f, valid_to, bh_time_now(), &label, &cls);
    char from[BH_TIME_TEXT_LEN + 1], to[BH_TIME_TEXT_LEN + 1], validity[64];
    date_text(f->app.issued_at, from);
    date_text(valid_to, to);
    snprintf(validity, sizeof validity, "%s 至 %s", from, to);

    bh_html_raw(h, "<section>\n<h2>保函信息</h2>\n<table>\n");
    bh_web_row(h, "保函编号", f->app.baohanno);
    bh_html_rawf(h, "<tr><th>状态</th><td><span class=\"%s\">", cls);
    bh_html_text(h, label);
    bh_html_raw(h, "</span></td></tr>\n");
    bh_web_row(h, "投标人（被保证人）", f->app.biddername);
    bh_web_row(h, "受益人（招标人）", req ? bh_msg_text(req, "zbr") : NULL);
    bh_web_row(h, "项目名称", req ? bh_msg_text(req, "projectname") : NULL);
    bh_web_row(h, "标段名称", req ? bh_msg_text(req, "biaoduanname") : NULL);
    bh_web_money_row(h, "担保金额", f->app.bzjamount_fen);
    bh_web_row(h, "保函有效期", valid_to ? validity : NULL);
    bh_web_row(h, "出函机构", v->config->inst_name);
    bh_web_row(h, "出函时间", from);
    bh_html_raw(h, "</table>\n</section>\n");
    bh_msg_free(req);
}

/* ---- forms ---- */

static void render_forms(bh_html *h, const char *no)
{
    bh_html_raw(h, "<section>\n<h2>按保函编号查询</h2>\n<form method=\"get\">\n"
                   "<div class=\"field\">\n<label for=\"q-no\">保函编号</label>\n"
                   "<input type=\"text\" id=\"q-no\" name=\"no\" maxlength=\"64\" required "
                   "value=\"");
    bh_html_text(h, no);
    bh_html_raw(h, "\">\n</div>\n<button type=\"submit\">查询</button>\n</form>\n</section>\n");
    bh_html_raw(h, "<section>\n<h2>核验保函文件</h2>\n"
                   "<p>上传您持有的保函 PDF 文件，核验它是否为本机构出具的原件、是否被修改，"
                   "以及其数字签名是否有效。</p>\n"
                   "<form method=\"post\" enctype=\"multipart/form-data\" "
                   "accept-charset=\"utf-8\">\n"
                   "<div class=\"field\">\n<label for=\"u-no\">保函编号（可不填，"
                   "以文件所载编号为准）</label>\n"
                   "<input type=\"text\" id=\"u-no\" name=\"no\" maxlength=\"64\" "
                   "value=\"");
    bh_html_text(h, no);
    bh_html_raw(h, "\">\n</div>\n<div class=\"field\">\n<label for=\"u-pdf\">保函文件（PDF）"
                   "</label>\n<input type=\"file\" id=\"u-pdf\" name=\"pdf\" "
                   "accept=\".pdf,application/pdf\" required>\n</div>\n"
                   "<button type=\"submit\">核验</button>\n</form>\n</section>\n");
}

static void page_begin(bh_html *h)
{
    bh_html_begin(h, "保函验真");
    bh_html_raw(h, "<h1>保函验真</h1>\n");
}

static void page_end(bh_html *h)
{
    bh_html_raw(h, "<footer>本页面仅显示保函载明的信息，不显示任何个人信息。</footer>\n");
    bh_html_end(h);
}

static void finish_page(bh_http_response *resp, bh_html *h)
{
    if (h->err)
        bh_web_message_page(resp, 500, NULL, "系统繁忙", "暂时无法处理您的请求，请稍后刷新重试。");
}

static void not_found_section(bh_html *h, const char *no)
{
    bh_html_raw(h, "<section class=\"errors\">\n<h2>未找到该保函</h2>\n<p>本机构没有出具编号为“");
    bh_html_text(h, no);
    bh_html_raw(h, "”的保函。请核对保函上的编号；若编号无误，该保函并非本机构出具，"
                   "请向出具机构核实。</p>\n</section>\n");
}

/* ---- GET ---- */

static void handle_get(const bh_verify *v, const bh_http_request *req, bh_http_response *resp)
{
    char no[NO_MAX + 1] = "";
    bh_buf q;
    bh_buf_init(&q, 4 * NO_MAX);
    int asked = req->query && *req->query &&
                bh_form_field(req->query, strlen(req->query), "no", &q) == BH_OK;
    int valid = asked && clean_no(q.data ? q.data : "", q.len, no);
    bh_buf_release(&q);

    bh_buf_reset(&resp->body);
    bh_html h = {&resp->body, BH_OK};
    found f;
    bh_err err = valid ? lookup(v, no, &f) : BH_ENOTFOUND;
    if (err && err != BH_ENOTFOUND) {
        if (valid)
            found_release(&f);
        bh_web_message_page(resp, 500, NULL, "系统繁忙", "暂时无法处理您的请求，请稍后刷新重试。");
        return;
    }
    bh_web_page_headers(resp, asked && err ? 404 : 200, NULL);
    page_begin(&h);
    if (asked && !valid) {
        bh_html_raw(&h, "<section class=\"errors\">\n<h2>保函编号格式不正确</h2>\n"
                        "<p>保函编号由字母、数字和 - _ . / 组成，最长 64 个字符。</p>\n"
                        "</section>\n");
    } else if (asked && err) {
        not_found_section(&h, no);
    } else if (asked) {
        render_facts(&h, v, &f);
    }
    render_forms(&h, no);
    page_end(&h);
    if (valid)
        found_release(&f);
    finish_page(resp, &h);
    snprintf(resp->note, sizeof resp->note, "verify %s %s", valid ? no : "-",
             !asked ? "form" : !valid ? "malformed" : err ? "not found" : "shown");
}

/* ---- POST: a file to check ---- */

static void verdict(bh_html *h, int genuine, const bh_pdf_check *c)
{
    bh_html_rawf(h, "<section class=\"%s\">\n<h2>核验结果：%s</h2>\n<table>\n",
                 genuine && bh_pdf_check_valid(c) ? "pay" : "errors",
                 genuine ? "真实有效的保函原件" : "不是本机构出具的保函原件");
    bh_web_row(h, "文件比对",
               genuine ? "与本机构存档的已签名保函文件完全一致，未被修改"
                       : "与本机构存档的保函文件不一致：该文件不是原件，或已被修改");
    const char *sig = !c->found                ? "文件中没有数字签名"
                      : !c->intact             ? "签名无效：文件在签名后被修改"
                      : !c->whole_file         ? "签名未覆盖整个文件：签名后又被追加了内容"
                      : !c->in_validity        ? "签名无效：签名时签名证书不在有效期内"
                      : c->chain_checked && !c->trusted ? "签名完整，但签名证书不是本机构的证书"
                                                        : "签名有效";
    bh_web_row(h, "数字签名", sig);
    if (c->found && c->signer[0])
        bh_web_row(h, "签名人", c->signer);
    if (c->found && c->signing_time[0])
        bh_web_row(h, "签名时间", c->signing_time);
    bh_html_raw(h, "</table>\n</section>\n");
}

static void handle_post(const bh_verify *v, const bh_http_request *req, bh_http_response *resp)
{
    bh_mp_form form = {NULL, 0};
    bh_mp_limits lim = {8, BH_VERIFY_MAX_PDF, 8192};
    bh_diag d = BH_DIAG_INIT;
    const bh_mp_part *pdf = NULL, *no_part = NULL;
    char no[NO_MAX + 1] = "";
    bh_err err = BH_EFORMAT;
    if (bh_web_media_type_is(req->content_type, "multipart/form-data"))
        err = bh_multipart_parse(req->content_type, req->body ? req->body : "",
                                 req->body ? req->body_len : 0, &lim, &form, &d);
    bh_diag_release(&d);
    if (!err) {
        pdf = bh_multipart_get(&form, "pdf");
        no_part = bh_multipart_get(&form, "no");
    }
    if (err == BH_ETOOBIG || (pdf && pdf->len > BH_VERIFY_MAX_PDF)) {
        bh_web_message_page(resp, 413, NULL, "文件过大", "保函文件不应超过 4 MB，请确认上传的文件。");
        snprintf(resp->note, sizeof resp->note, "verify - too large");
        goto out;
    }
    /* The number may be left out: the file says which guarantee it claims
     * to be. A number typed is taken as typed. */
    int typed = 0;
    for (size_t i = 0; no_part && i < no_part->len && !typed; i++)
        typed = !strchr(" \t\r\n", no_part->data[i]);
    if (err || !pdf || !pdf->filename || pdf->len == 0 ||
        !(typed ? clean_no(no_part->data, no_part->len, no)
                : number_in_file(pdf->data, pdf->len, no))) {
        bh_web_message_page(resp, 400, NULL, "无法核验",
                            "请选择保函 PDF 文件（若文件中读不出保函编号，请一并填写编号）后重新提交。");
        snprintf(resp->note, sizeof resp->note, "verify - malformed upload");
        goto out;
    }

    found f;
    err = lookup(v, no, &f);
    if (err && err != BH_ENOTFOUND) {
        found_release(&f);
        bh_web_message_page(resp, 500, NULL, "系统繁忙", "暂时无法处理您的请求，请稍后刷新重试。");
        goto out;
    }
    /* An unknown number is told as such: the upload (a public one, up to
     * 4 MB) is hashed and its signature checked only for a guarantee we
     * issued. */
    char sm3[BH_SM3_HEX_LEN + 1] = "";
    bh_pdf_check c;
    memset(&c, 0, sizeof c);
    bh_err herr = err ? BH_OK : bh_sm3_hex(pdf->data, pdf->len, sm3);
    bh_err verr = err || herr ? BH_OK
                              : bh_pdf_verify(pdf->data, pdf->len, v->config->sign_chain, &c, NULL);
    if (herr || verr) {
        found_release(&f);
        bh_web_message_page(resp, 500, NULL, "系统繁忙", "暂时无法处理您的请求，请稍后刷新重试。");
        goto out;
    }
    int genuine = !err && f.have_file && f.file.sm3 && strcmp(f.file.sm3, sm3) == 0 &&
                  f.file.size == (int64_t)pdf->len;

    bh_buf_reset(&resp->body);
    bh_web_page_headers(resp, err ? 404 : 200, NULL);
    bh_html h = {&resp->body, BH_OK};
    page_begin(&h);
    if (err) {
        not_found_section(&h, no);
    } else {
        verdict(&h, genuine, &c);
        render_facts(&h, v, &f);
    }
    render_forms(&h, no);
    page_end(&h);
    finish_page(resp, &h);
    if (err)
        snprintf(resp->note, sizeof resp->note, "verify %s unknown number", no);
    else
        snprintf(resp->note, sizeof resp->note, "verify %s file %s, signature %s", no,
                 genuine ? "genuine" : "NOT genuine",
                 bh_pdf_check_valid(&c) ? "valid" : "invalid");
    found_release(&f);
out:
    bh_multipart_release(&form);
}

int bh_verify_handle(const bh_verify *v, const bh_http_request *req, bh_http_response *resp)
{
    if (!req->path || strcmp(req->path, BH_VERIFY_PATH) != 0)
        return 0;
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        handle_get(v, req, resp);
    } else if (strcmp(req->method, "POST") == 0) {
        handle_post(v, req, resp);
    } else {
        bh_web_message_page(resp, 405, "Allow: GET, HEAD, POST\r\n", "不支持的请求",
                            "请在浏览器中打开本页面。");
        snprintf(resp->note, sizeof resp->note, "verify - method not allowed");
    }
    return 1;
}
