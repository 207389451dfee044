/* The bidder's page (see web.h): GET shows the application and, by state,
 * the form, the payment instructions or the status; POST validates the form
 * and stores it in one unit of work, then redirects (POST/redirect/GET).
 *
 * Privacy: the legal representative's ID number is echoed only into the
 * form's own input when re-showing what the bidder just typed; stored, it is
 * shown masked. Nothing here writes logs; the access-log note carries the
 * applyno and what happened, never form values. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web.h"
#include "baohan/body.h"
#include "filetype.h"
#include "html.h"
#include "multipart.h"
#include "banned.h"

#define ERR_TEXT 160

static const char HTML_TYPE[] = "text/html; charset=utf-8";

/* The headers of every page: the URL is a secret (no Referer, no caching),
 * nothing but inline style may load, and forms post only to us. */
static const char PAGE_HEADERS[] =
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'\r\n";

/* ---- the form's fields --------------------------------------------------- */

enum check { C_TEXT, C_PHONE, C_EMAIL, C_IDCARD, C_ACCOUNT };

typedef struct field_def {
    const char *key; /* input name and form_json key */
    const char *label;
    const char *input_type;   /* "text", "tel", "email" */
    const char *autocomplete; /* hint for browsers */
    size_t max_chars;         /* getbaohaninfo's limits (lib/schema_tables.c) */
    enum check check;
    const char *hint; /* shown under the input, or NULL */
} field_def;

static const field_def FIELDS[] = {
    {"biddercontact", "联系人", "text", "name", 100, C_TEXT, NULL},
    {"biddercontacttel", "联系电话", "tel", "tel", 50, C_PHONE, "手机或座机，如 0596-2031234"},
    {"bidderaddress", "地址", "text", "street-address", 300, C_TEXT, NULL},
    {"bidderemail", "电子邮箱", "email", "email", 100, C_EMAIL, NULL},
    {"bidderpersonname", "法定代表人姓名", "text", "off", 100, C_TEXT, NULL},
    {"bidderpersoncard", "法定代表人身份证号", "text", "off", 32, C_IDCARD,
     "18 位居民身份证号码，末位可为 X"},
    {"bidderpersontel", "法定代表人电话", "tel", "off", 50, C_PHONE, NULL},
    {"basicbank", "基本户开户银行", "text", "off", 200, C_TEXT,
     "与基本存款账户信息一致，如：中国建设银行股份有限公司漳州芗城支行"},
    {"basicaccount", "基本户账号", "text", "off", 64, C_ACCOUNT, "保费必须从此账户转出"},
};
#define NFIELDS (sizeof FIELDS / sizeof *FIELDS)
#define F_CARD 5 /* FIELDS[F_CARD] is the ID number: masked, never logged */

typedef struct file_def {
    const char *kind; /* input name and bh_file kind */
    const char *label;
} file_def;

static const file_def FILES[] = {
    {"qualification", "资质文件"},
    {"business_license", "营业执照"},
};
#define NFILES (sizeof FILES / sizeof *FILES)

/* What a POST carried, and what is wrong with it. */
typedef struct upload {
    const char *data; /* into the request body */
    size_t len;
    const char *content_type; /* by content: "application/pdf", … */
    char *filename;           /* cleaned, with the right extension (owned) */
} upload;

typedef struct submission {
    char *value[NFIELDS]; /* trimmed, normalised (owned); NULL when absent or unusable */
    char error[NFIELDS][ERR_TEXT];
    upload file[NFILES];
    char file_error[NFILES][ERR_TEXT];
    const char *general; /* a problem with the whole body, or NULL */
    int nerrors;
} submission;

static void submission_release(submission *s)
{
    if (s->value[F_CARD])
        bh_wipe(s->value[F_CARD], strlen(s->value[F_CARD]));
    for (size_t i = 0; i < NFIELDS; i++)
        free(s->value[i]);
    for (size_t i = 0; i < NFILES; i++)
        free(s->file[i].filename);
    memset(s, 0, sizeof *s);
}

/* ---- what the page shows ------------------------------------------------- */

typedef struct view {
    const char *token;
    bh_app app;
    int have_app;
    bh_file file[NFILES];
    int have_file[NFILES];
    bh_msg *req;  /* app.request_json parsed, or NULL */
    bh_msg *form; /* app.form_json parsed, or NULL */
} view;

static void view_release(view *v)
{
    if (v->have_app)
        bh_app_release(&v->app);
    for (size_t i = 0; i < NFILES; i++)
        if (v->have_file[i])
            bh_file_release(&v->file[i]);
    bh_msg_free(v->req);
    bh_msg_free(v->form);
    memset(v, 0, sizeof *v);
}

static bh_err read_view(bh_tx *tx, void *ctx)
{
    view *v = ctx;
    bh_err err = bh_tx_app_by_token(tx, v->token, &v->app);
    if (err)
        return err;
    v->have_app = 1;
    for (size_t i = 0; i < NFILES; i++) {
        err = bh_tx_file_by_kind(tx, v->app.id, FILES[i].kind, &v->file[i]);
        if (err == BH_OK)
            v->have_file[i] = 1;
        else if (err != BH_ENOTFOUND)
            return err;
    }
    return BH_OK;
}

static bh_msg *parse_json(const char *json)
{
    bh_msg *m = NULL;
    if (json && bh_msg_parse(json, strlen(json), BH_MSG_MAX_REQUEST, BH_PARSE_ALLOW_NESTED, &m,
                             NULL) != BH_OK)
        m = NULL;
    return m;
}

/* Loads the application with its files. BH_ENOTFOUND for an unknown token. */
static bh_err load_view(const bh_web *web, const char *token, view *v)
{
    memset(v, 0, sizeof *v);
    v->token = token;
    bh_err err = bh_store_read(web->store, read_view, v);
    if (err) {
        view_release(v);
        return err;
    }
    v->req = parse_json(v->app.request_json);
    v->form = parse_json(v->app.form_json);
    return BH_OK;
}

static const char *state_label(bh_app_state s)
{
    switch (s) {
    case BH_APP_APPLIED:
        return "待提交资料";
    case BH_APP_SUBMITTED:
        return "已提交";
    case BH_APP_PAID:
        return "已付款";
    case BH_APP_ISSUED:
        return "已出函";
    case BH_APP_REJECTED:
        return "已拒绝";
    case BH_APP_GIVEN_UP:
        return "已放弃";
    case BH_APP_QUIT_REQUESTED:
        return "退保处理中";
    case BH_APP_QUIT:
        return "已退保";
    case BH_APP_CLAIMED:
        return "已理赔";
    default:
        return "未知";
    }
}

static const char *state_explanation(bh_app_state s)
{
    switch (s) {
    case BH_APP_PAID:
        return "保费已到账，我们正在审核，审核通过后将出具保函并通知交易平台。";
    case BH_APP_ISSUED:
        return "保函已出具，并已通知交易平台。";
    case BH_APP_REJECTED:
        return "很抱歉，本次保函申请未通过审核。";
    case BH_APP_GIVEN_UP:
        return "本次保函申请已放弃。";
    case BH_APP_QUIT_REQUESTED:
        return "已收到退保申请，正在处理。";
    case BH_APP_QUIT:
        return "保函已退保。";
    case BH_APP_CLAIMED:
        return "已收到理赔通知，正在处理。";
    default:
        return "";
    }
}

static int form_open(bh_app_state s)
{
    return s == BH_APP_APPLIED || s == BH_APP_SUBMITTED;
}

/* "110101********1234": the first six and last four characters. */
static void mask_card(const char *card, char *out, size_t outsz)
{
    size_t n = card ? strlen(card) : 0;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outsz; i++)
        out[o++] = (n >= 10 && (i < 6 || i >= n - 4)) ? card[i] : '*';
    out[o] = '\0';
}

/* "3.5 MB", "120 KB" (integer arithmetic; for people, not machines). */
static void format_size(int64_t size, char out[32])
{
    if (size >= 1024 * 1024) {
        int64_t tenths = size * 10 / (1024 * 1024);
        snprintf(out, 32, "%lld.%lld MB", (long long)(tenths / 10), (long long)(tenths % 10));
    } else {
        snprintf(out, 32, "%lld KB", (long long)((size + 1023) / 1024));
    }
}

/* ---- HTML pieces ----------------------------------------------------------- */

static void row(bh_html *h, const char *label, const char *value)
{
    bh_html_raw(h, "<tr><th>");
    bh_html_text(h, label);
    bh_html_raw(h, "</th><td>");
    if (value && *value)
        bh_html_text(h, value);
    else
        bh_html_raw(h, "—");
    bh_html_raw(h, "</td></tr>\n");
}

/* "200000.00 元（人民币贰拾万元整）" */
static void money_cell(bh_html *h, int64_t fen, const char *cls)
{
    char text[BH_MONEY_TEXT_MAX];
    bh_money_format(fen, text);
    if (cls)
        bh_html_rawf(h, "<span class=\"%s\">", cls);
    bh_html_text(h, text);
    bh_html_raw(h, " 元");
    if (cls)
        bh_html_raw(h, "</span>");
    bh_buf cap;
    bh_buf_init(&cap, 256);
    if (bh_money_capital(fen, &cap) == BH_OK) {
        bh_html_raw(h, "（");
        bh_html_text(h, cap.data);
        bh_html_raw(h, "）");
    }
    bh_buf_release(&cap);
}

static void money_row(bh_html *h, const char *label, int64_t fen, const char *cls)
{
    bh_html_raw(h, "<tr><th>");
    bh_html_text(h, label);
    bh_html_raw(h, "</th><td>");
    money_cell(h, fen, cls);
    bh_html_raw(h, "</td></tr>\n");
}

static const char *req_text(const view *v, const char *key)
{
    return v->req ? bh_msg_text(v->req, key) : NULL;
}

static const char *form_text(const view *v, const char *key)
{
    return v->form ? bh_msg_text(v->form, key) : NULL;
}

static void render_application(bh_html *h, const bh_web *web, const view *v)
{
    const bh_app *a = &v->app;
    bh_html_raw(h, "<section>\n<h2>申请信息</h2>\n<table>\n");
    row(h, "申请编号", a->applyno);
    row(h, "项目名称", req_text(v, "projectname"));
    row(h, "项目编号", req_text(v, "projectno"));
    row(h, "标段名称", req_text(v, "biaoduanname"));
    row(h, "标段编号", req_text(v, "biaoduanno"));
    row(h, "招标人", req_text(v, "zbr"));
    row(h, "投标人", a->biddername ? a->biddername : req_text(v, "biddername"));
    row(h, "统一社会信用代码", a->biddercode ? a->biddercode : req_text(v, "biddercode"));
    money_row(h, "保证金金额", a->bzjamount_fen, NULL);
    row(h, "开标时间", req_text(v, "kaibiaotime"));
    const char *tbyxq = req_text(v, "tbyxq");
    bh_html_raw(h, "<tr><th>投标有效期</th><td>");
    if (tbyxq && *tbyxq) {
        bh_html_text(h, tbyxq);
        bh_html_raw(h, " 天");
    } else {
        bh_html_raw(h, "—");
    }
    bh_html_raw(h, "</td></tr>\n");
    money_row(h, "保费", a->premium_fen, NULL);
    if (web->config && web->config->inst_name)
        row(h, "出函机构", web->config->inst_name);
    bh_html_rawf(h, "<tr><th>状态</th><td><span class=\"state%s\">",
                 a->state == BH_APP_APPLIED ? "" : " done");
    bh_html_text(h, state_label(a->state));
    bh_html_raw(h, "</span></td></tr>\n</table>\n</section>\n");
}

static void render_payment(bh_html *h, const bh_web *web, const view *v)
{
    const bh_config *c = web->config;
    bh_html_raw(h, "<section class=\"pay\">\n<h2>已提交 · 请支付保费</h2>\n"
                   "<p>您的资料已提交。请通过银行转账按下列信息支付保费，"
                   "到账确认后我们将审核并出具保函。</p>\n<table>\n");
    row(h, "收款户名", c ? c->inst_account_name : NULL);
    row(h, "收款账号", c ? c->inst_account_no : NULL);
    row(h, "开户行", c ? c->inst_bank : NULL);
    money_row(h, "应付保费", v->app.premium_fen, "amount");
    bh_html_raw(h, "<tr><th>付款附言</th><td><strong>");
    bh_html_text(h, v->app.applyno);
    bh_html_raw(h, "</strong>（请在转账附言/用途中填写）</td></tr>\n</table>\n"
                   "<p class=\"warn\"><strong>保费必须从投标人基本户（");
    bh_html_text(h, form_text(v, "basicbank"));
    bh_html_raw(h, " ");
    bh_html_text(h, form_text(v, "basicaccount"));
    bh_html_raw(h, "）转出，非基本户支付的保函在开标时会被认定为无效保函。</strong></p>\n"
                   "<p>请支付准确金额，不要多付或少付。</p>\n</section>\n");
}

static void render_stored(bh_html *h, const view *v)
{
    bh_html_raw(h, "<section>\n<h2>已提交的资料</h2>\n<table>\n");
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *value = form_text(v, FIELDS[i].key);
        if (i == F_CARD) {
            char masked[64];
            mask_card(value, masked, sizeof masked);
            row(h, FIELDS[i].label, masked);
        } else {
            row(h, FIELDS[i].label, value);
        }
    }
    for (size_t i = 0; i < NFILES; i++) {
        bh_html_raw(h, "<tr><th>");
        bh_html_text(h, FILES[i].label);
        bh_html_raw(h, "</th><td>");
        if (v->have_file[i]) {
            char size[32];
            format_size(v->file[i].size, size);
            bh_html_text(h, v->file[i].filename);
            bh_html_raw(h, "（");
            bh_html_text(h, size);
            bh_html_raw(h, "）");
        } else {
            bh_html_raw(h, "—");
        }
        bh_html_raw(h, "</td></tr>\n");
    }
    bh_html_raw(h, "</table>\n</section>\n");
}

static void render_error_summary(bh_html *h, const submission *sub)
{
    bh_html_raw(h, "<section class=\"errors\" id=\"errors\">\n<h2>提交未成功</h2>\n");
    if (sub->general) {
        bh_html_raw(h, "<p class=\"error\">");
        bh_html_text(h, sub->general);
        bh_html_raw(h, "</p>\n");
    }
    if (sub->nerrors) {
        bh_html_rawf(h, "<p>请修改以下 %d 处后重新提交：</p>\n<ul>\n", sub->nerrors);
        for (size_t i = 0; i < NFIELDS; i++) {
            if (!sub->error[i][0])
                continue;
            bh_html_rawf(h, "<li><a href=\"#f-%s\">", FIELDS[i].key);
            bh_html_text(h, FIELDS[i].label);
            bh_html_raw(h, "</a>：");
            bh_html_text(h, sub->error[i]);
            bh_html_raw(h, "</li>\n");
        }
        for (size_t i = 0; i < NFILES; i++) {
            if (!sub->file_error[i][0])
                continue;
            bh_html_rawf(h, "<li><a href=\"#f-%s\">", FILES[i].kind);
            bh_html_text(h, FILES[i].label);
            bh_html_raw(h, "</a>：");
            bh_html_text(h, sub->file_error[i]);
            bh_html_raw(h, "</li>\n");
        }
        bh_html_raw(h, "</ul>\n");
    }
    bh_html_raw(h, "</section>\n");
}

static void field_error(bh_html *h, const char *id, const char *message)
{
    bh_html_rawf(h, "<p class=\"error\" id=\"e-%s\">", id);
    bh_html_text(h, message);
    bh_html_raw(h, "</p>\n");
}

/* The form: pre-filled with what was just sent (`sub`) or, when there is
 * none, with the stored details except the ID number. */
static void render_form(bh_html *h, const view *v, const submission *sub)
{
    int resubmit = v->app.state == BH_APP_SUBMITTED;
    bh_html_raw(h, "<form method=\"post\" enctype=\"multipart/form-data\" "
                   "accept-charset=\"utf-8\">\n");
    for (size_t i = 0; i < NFIELDS; i++) {
        const field_def *f = &FIELDS[i];
        const char *err = sub && sub->error[i][0] ? sub->error[i] : NULL;
        const char *value = NULL;
        if (sub)
            value = sub->value[i];
        else if (i != F_CARD)
            value = form_text(v, f->key);
        int keep_card = i == F_CARD && form_text(v, f->key) != NULL;
        bh_html_rawf(h, "<div class=\"field%s\">\n<label for=\"f-%s\">", err ? " invalid" : "",
                     f->key);
        bh_html_text(h, f->label);
        bh_html_rawf(h,
                     "</label>\n<input type=\"%s\" id=\"f-%s\" name=\"%s\" maxlength=\"%zu\" "
                     "autocomplete=\"%s\"%s",
                     f->input_type, f->key, f->key, f->max_chars, f->autocomplete,
                     keep_card ? "" : " required");
        if (err)
            bh_html_rawf(h, " aria-invalid=\"true\" aria-describedby=\"e-%s\"", f->key);
        bh_html_raw(h, " value=\"");
        bh_html_text(h, value);
        bh_html_raw(h, "\">\n");
        if (err)
            field_error(h, f->key, err);
        if (keep_card) {
            char masked[64];
            mask_card(form_text(v, f->key), masked, sizeof masked);
            bh_html_raw(h, "<p class=\"hint\">已保存：");
            bh_html_text(h, masked);
            bh_html_raw(h, "；留空则保持不变。</p>\n");
        } else if (f->hint) {
            bh_html_raw(h, "<p class=\"hint\">");
            bh_html_text(h, f->hint);
            bh_html_raw(h, "</p>\n");
        }
        bh_html_raw(h, "</div>\n");
    }
    for (size_t i = 0; i < NFILES; i++) {
        const char *err = sub && sub->file_error[i][0] ? sub->file_error[i] : NULL;
        bh_html_rawf(h, "<div class=\"field%s\">\n<label for=\"f-%s\">", err ? " invalid" : "",
                     FILES[i].kind);
        bh_html_text(h, FILES[i].label);
        bh_html_rawf(h,
                     "</label>\n<input type=\"file\" id=\"f-%s\" name=\"%s\" "
                     "accept=\".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png\"%s",
                     FILES[i].kind, FILES[i].kind, v->have_file[i] ? "" : " required");
        if (err)
            bh_html_rawf(h, " aria-invalid=\"true\" aria-describedby=\"e-%s\"", FILES[i].kind);
        bh_html_raw(h, ">\n");
        if (err)
            field_error(h, FILES[i].kind, err);
        bh_html_raw(h, "<p class=\"hint\">PDF、JPEG 或 PNG，不超过 10 MB");
        if (v->have_file[i]) {
            bh_html_raw(h, "；已上传：");
            bh_html_text(h, v->file[i].filename);
            bh_html_raw(h, "，不选择文件则保留");
        } else if (sub && !err && sub->nerrors) {
            bh_html_raw(h, "；请重新选择文件");
        }
        bh_html_raw(h, "。</p>\n</div>\n");
    }
    bh_html_rawf(h, "<button type=\"submit\">%s</button>\n</form>\n",
                 resubmit ? "提交修改" : "提交");
}

static void render_app_page(bh_html *h, const bh_web *web, const view *v, const submission *sub)
{
    bh_app_state s = v->app.state;
    bh_html_begin(h, "投标保函申请");
    bh_html_raw(h, "<h1>投标保函申请</h1>\n");
    int failed = sub && (sub->nerrors || sub->general);
    if (failed && form_open(s))
        render_error_summary(h, sub);
    if (s == BH_APP_SUBMITTED)
        render_payment(h, web, v);
    render_application(h, web, v);
    if (s == BH_APP_APPLIED) {
        bh_html_raw(h, "<section>\n<h2>第一步：填写投标人信息</h2>\n"
                       "<p>以下信息将用于出具保函并提供给交易平台，请如实填写。"
                       "所有项目均为必填。</p>\n");
        render_form(h, v, sub);
        bh_html_raw(h, "</section>\n<section>\n<h2>第二步：支付保费</h2>\n"
                       "<p>提交资料后，本页将显示收款账户、应付金额和付款附言。</p>\n"
                       "</section>\n");
    } else if (s == BH_APP_SUBMITTED) {
        render_stored(h, v);
        bh_html_raw(h, failed ? "<section>\n<details open>\n" : "<section>\n<details>\n");
        bh_html_raw(h, "<summary>修改已提交的资料</summary>\n"
                       "<p>付款前可修改资料；未选择的文件和留空的身份证号保持不变。</p>\n");
        render_form(h, v, sub);
        bh_html_raw(h, "</details>\n</section>\n");
    } else {
        bh_html_raw(h, "<section>\n<h2>当前状态：");
        bh_html_text(h, state_label(s));
        bh_html_raw(h, "</h2>\n<p>");
        bh_html_text(h, state_explanation(s));
        bh_html_raw(h, "</p>\n");
        if (v->app.baohanno && s != BH_APP_REJECTED) {
            bh_html_raw(h, "<p>保函编号：<strong>");
            bh_html_text(h, v->app.baohanno);
            bh_html_raw(h, "</strong></p>\n");
        }
        if (s == BH_APP_REJECTED && v->app.reason) {
            bh_html_raw(h, "<p>原因：");
            bh_html_text(h, v->app.reason);
            bh_html_raw(h, "</p>\n");
        }
        bh_html_raw(h, "</section>\n");
    }
    bh_html_raw(h, "<footer>本页面地址含有您的专属凭证，请勿转发给他人。</footer>\n");
    bh_html_end(h);
}

/* ---- responses -------------------------------------------------------------- */

/* Sets the status and the page's headers plus `extra` ("Name: value\r\n"
 * lines). Returns 0, with only the page's headers set, when `extra` does not
 * fit: a header is never cut in the middle. */
static int page_headers(bh_http_response *resp, int status, const char *extra)
{
    resp->status = status;
    resp->content_type = HTML_TYPE;
    int n = snprintf(resp->extra_headers, sizeof resp->extra_headers, "%s%s", PAGE_HEADERS,
                     extra ? extra : "");
    if (n >= 0 && (size_t)n < sizeof resp->extra_headers)
        return 1;
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "%s", PAGE_HEADERS);
    return 0;
}

/* A plain page with a title and one message (404, 405, 500, …). */
static void message_page(bh_http_response *resp, int status, const char *extra, const char *title,
                         const char *message)
{
    bh_buf_reset(&resp->body);
    page_headers(resp, status, extra);
    bh_html h = {&resp->body, BH_OK};
    bh_html_begin(&h, title);
    bh_html_raw(&h, "<h1>");
    bh_html_text(&h, title);
    bh_html_raw(&h, "</h1>\n<section>\n<p>");
    bh_html_text(&h, message);
    bh_html_raw(&h, "</p>\n</section>\n");
    bh_html_end(&h);
}

static void not_found(bh_http_response *resp)
{
    message_page(resp, 404, NULL, "页面不存在",
                 "链接无效。请从交易平台重新打开保函付款链接，并确认链接完整。");
}

static void server_error(bh_http_response *resp)
{
    message_page(resp, 500, NULL, "系统繁忙", "暂时无法处理您的请求，请稍后刷新重试。");
}

static void app_page(const bh_web *web, const view *v, const submission *sub, int status,
                     bh_http_response *resp)
{
    bh_buf_reset(&resp->body);
    page_headers(resp, status, NULL);
    bh_html h = {&resp->body, BH_OK};
    render_app_page(&h, web, v, sub);
    if (h.err)
        server_error(resp);
}

static void note(bh_http_response *resp, const view *v, const char *what)
{
    snprintf(resp->note, sizeof resp->note, "pay %s %s",
             v->have_app && v->app.applyno ? v->app.applyno : "-", what);
}

/* ---- validation ---------------------------------------------------------------- */

static int is_ascii_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims ASCII white space and U+3000 (the ideographic space an IME types)
 * from both ends, in place. */
static void trim(char *s)
{
    size_t n = strlen(s);
    size_t b = 0;
    for (;;) {
        if (b < n && is_ascii_space((unsigned char)s[b]))
            b++;
        else if (n - b >= 3 && memcmp(s + b, "\xE3\x80\x80", 3) == 0)
            b += 3;
        else
            break;
    }
    for (;;) {
        if (n > b && is_ascii_space((unsigned char)s[n - 1]))
            n--;
        else if (n - b >= 3 && memcmp(s + n - 3, "\xE3\x80\x80", 3) == 0)
            n -= 3;
        else
            break;
    }
    memmove(s, s + b, n - b);
    s[n - b] = '\0';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int check_phone(const char *s)
{
    size_t digits = 0;
    for (size_t i = 0; s[i]; i++) {
        if (is_digit((unsigned char)s[i]))
            digits++;
        else if (s[i] == '+' && i != 0)
            return 0;
        else if (s[i] != '+' && s[i] != '-' && s[i] != ' ')
            return 0;
    }
    return digits >= 7 && digits <= 20;
}

static int check_email(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@'))
        return 0;
    for (const char *p = s; *p; p++)
        if (is_ascii_space((unsigned char)*p) || *p == ',' || *p == ';' || *p == '<' || *p == '>')
            return 0;
    const char *domain = at + 1;
    const char *dot = strchr(domain, '.');
    size_t dlen = strlen(domain);
    return dot && dot != domain && domain[dlen - 1] != '.' && !strstr(domain, "..");
}

static int leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* GB 11643-1999 citizen identity number: 6-digit region (first digit 1..9),
 * 8-digit birth date, 3-digit sequence, check character by ISO 7064
 * MOD 11-2. Returns NULL when valid, else the message. */
static const char *check_idcard(const char *s)
{
    if (strlen(s) != 18)
        return "身份证号应为 18 位";
    for (int i = 0; i < 17; i++)
        if (!is_digit((unsigned char)s[i]))
            return "身份证号前 17 位应为数字，最后一位为数字或 X";
    if (!is_digit((unsigned char)s[17]) && s[17] != 'X')
        return "身份证号前 17 位应为数字，最后一位为数字或 X";
    if (s[0] == '0')
        return "身份证号的地区码无效";
    int y = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10 + (s[9] - '0');
    int m = (s[10] - '0') * 10 + (s[11] - '0');
    int dd = (s[12] - '0') * 10 + (s[13] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2099 || m < 1 || m > 12 || dd < 1 ||
        dd > mdays[m - 1] + (m == 2 && leap_year(y)))
        return "身份证号中的出生日期无效";
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (s[i] - '0') * weights[i];
    if ("10X98765432"[sum % 11] != s[17])
        return "身份证号校验位不正确，请核对";
    return NULL;
}

static void set_error(submission *sub, size_t i, const char *message)
{
    if (!sub->error[i][0])
        sub->nerrors++;
    snprintf(sub->error[i], ERR_TEXT, "%s", message);
}

static void set_too_long(submission *sub, size_t i)
{
    char msg[64];
    snprintf(msg, sizeof msg, "不能超过 %zu 个字", FIELDS[i].max_chars);
    set_error(sub, i, msg);
}

static void set_file_error(submission *sub, size_t i, const char *message)
{
    if (!sub->file_error[i][0])
        sub->nerrors++;
    snprintf(sub->file_error[i], ERR_TEXT, "%s", message);
}

/* Normalises and checks one text field. `keep` means an empty value keeps
 * what is stored (the ID number on re-submission). */
static void validate_field(submission *sub, size_t i, int keep)
{
    const field_def *f = &FIELDS[i];
    char *v = sub->value[i];
    if (sub->error[i][0])
        return; /* already refused while reading (too long, bad escape) */
    if (!v || !*v) {
        if (!keep) {
            char msg[64];
            snprintf(msg, sizeof msg, "请填写%s", f->label);
            set_error(sub, i, msg);
        }
        return;
    }
    size_t len = strlen(v);
    if (!bh_utf8_valid(v, len)) {
        set_error(sub, i, "含有无法识别的字符，请重新输入");
        free(sub->value[i]);
        sub->value[i] = NULL; /* not echoed: it would not survive the page */
        return;
    }
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)v[k];
        if (c < 0x20 || c == 0x7F) {
            set_error(sub, i, "含有控制字符，请重新输入");
            return;
        }
    }
    if (bh_utf8_length(v, len) > f->max_chars) {
        set_too_long(sub, i);
        return;
    }
    switch (f->check) {
    case C_TEXT:
        break;
    case C_PHONE:
        if (!check_phone(v))
            set_error(sub, i, "电话号码只能包含数字、“-”、“+”和空格，并应有 7 到 20 位数字");
        break;
    case C_EMAIL:
        if (!check_email(v))
            set_error(sub, i, "电子邮箱格式不正确，应类似 name@example.com");
        break;
    case C_IDCARD: {
        for (char *p = v; *p; p++)
            if (*p == 'x')
                *p = 'X';
        const char *msg = check_idcard(v);
        if (msg)
            set_error(sub, i, msg);
        break;
    }
    case C_ACCOUNT: {
        size_t o = 0, digits = 0;
        int bad = 0;
        for (size_t k = 0; v[k]; k++) {
            if (v[k] == ' ')
                continue;
            if (!is_digit((unsigned char)v[k]))
                bad = 1;
            digits++;
            v[o++] = v[k];
        }
        v[o] = '\0';
        if (bad || digits < 6 || digits > 40)
            set_error(sub, i, "账号应为 6 到 40 位数字（可含空格）");
        break;
    }
    }
}

/* A stored file name: the base name the bidder's computer had, without path,
 * quotes, backslashes or control characters, at most 80 characters, with
 * the extension of what the content really is. */
static char *clean_filename(const char *given, const char *label, const char *content_type)
{
    const char *ext = bh_type_extension(content_type);
    const char *base = given ? given : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    bh_buf b;
    bh_buf_init(&b, 1024);
    size_t n = strlen(base);
    if (!bh_utf8_valid(base, n))
        n = 0;
    /* Drop an extension of up to five ASCII letters or digits. */
    const char *dot = NULL;
    for (size_t i = 0; i < n; i++)
        if (base[i] == '.')
            dot = base + i;
    if (dot && dot != base && (size_t)(base + n - dot) <= 6) {
        int plain = 1;
        for (const char *p = dot + 1; p < base + n; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || is_digit(*p)))
                plain = 0;
        if (plain)
            n = (size_t)(dot - base);
    }
    bh_err err = BH_OK;
    size_t chars = 0;
    for (size_t i = 0; i < n && !err && chars < 80;) {
        unsigned char c = (unsigned char)base[i];
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (c >= 0x20 && c != 0x7F && c != '"' && c != ';')
            err = bh_buf_add(&b, base + i, len);
        i += len;
        chars++;
    }
    if (!err && b.len == 0)
        err = bh_buf_addstr(&b, label);
    if (!err)
        err = bh_buf_addf(&b, ".%s", ext);
    char *out = err ? NULL : bh_buf_detach(&b, NULL);
    bh_buf_release(&b);
    return out;
}

/* Checks one upload; `keep` means none is needed (one is stored). */
static bh_err validate_file(submission *sub, size_t i, const char *data, size_t len,
                            const char *filename, int keep)
{
    upload *u = &sub->file[i];
    int chosen = filename && (*filename || len);
    if (!chosen) {
        if (!keep) {
            char msg[64];
            snprintf(msg, sizeof msg, "请上传%s", FILES[i].label);
            set_file_error(sub, i, msg);
        }
        return BH_OK;
    }
    if (len == 0) {
        set_file_error(sub, i, "文件为空，请重新选择");
        return BH_OK;
    }
    if (len > BH_WEB_MAX_FILE) {
        set_file_error(sub, i, "文件超过 10 MB，请压缩后重新上传");
        return BH_OK;
    }
    const char *type = bh_sniff_type(data, len);
    if (!type) {
        set_file_error(sub, i, "仅支持 PDF、JPEG 或 PNG 文件（按文件内容识别，与文件名无关）");
        return BH_OK;
    }
    u->data = data;
    u->len = len;
    u->content_type = type;
    u->filename = clean_filename(filename, FILES[i].label, type);
    return u->filename ? BH_OK : BH_ENOMEM;
}

/* Copies a text value out of the body, refusing oversized ones without
 * copying them (they are not echoed back either). */
static bh_err take_value(submission *sub, size_t i, const char *data, size_t len)
{
    /* Four bytes a character at most, plus room for trimmed spaces. */
    if (len > FIELDS[i].max_chars * 4 + 64) {
        set_too_long(sub, i);
        return BH_OK;
    }
    char *v = malloc(len + 1);
    if (!v)
        return BH_ENOMEM;
    memcpy(v, data, len);
    v[len] = '\0';
    if (strlen(v) != len) {
        free(v);
        set_error(sub, i, "含有控制字符，请重新输入");
        return BH_OK;
    }
    trim(v);
    sub->value[i] = v;
    return BH_OK;
}

static int media_type_is(const char *ct, const char *type)
{
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(type);
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)ct[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != type[i])
            return 0;
    }
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

/* Reads the POST body into `sub` (values and files, with their problems).
 * BH_ENOMEM is the only failure; a malformed body sets sub->general. */
static bh_err read_submission(const bh_http_request *req, const view *v, submission *sub)
{
    const char *body = req->body ? req->body : "";
    size_t len = req->body ? req->body_len : 0;
    bh_err err = BH_OK;
    if (media_type_is(req->content_type, "multipart/form-data")) {
        bh_mp_form form;
        bh_mp_limits lim = {64, BH_WEB_MAX_BODY, 8192};
        bh_diag d = BH_DIAG_INIT;
        err = bh_multipart_parse(req->content_type, body, len, &lim, &form, &d);
        bh_diag_release(&d);
        if (err == BH_ENOMEM)
            return err;
        if (err) {
            sub->general = "提交的表单无法识别，请刷新页面后重新填写。";
            return BH_OK;
        }
        for (size_t i = 0; i < NFIELDS && !err; i++) {
            const bh_mp_part *p = bh_multipart_get(&form, FIELDS[i].key);
            if (p && !p->filename)
                err = take_value(sub, i, p->data, p->len);
        }
        for (size_t i = 0; i < NFILES && !err; i++) {
            const bh_mp_part *p = bh_multipart_get(&form, FILES[i].kind);
            int has = p && p->filename;
            err = validate_file(sub, i, has ? p->data : NULL, has ? p->len : 0,
                                has ? p->filename : NULL, v->have_file[i]);
        }
        bh_multipart_release(&form);
        return err;
    }
    if (media_type_is(req->content_type, "application/x-www-form-urlencoded")) {
        for (size_t i = 0; i < NFIELDS && !err; i++) {
            bh_buf value;
            bh_buf_init(&value, FIELDS[i].max_chars * 4 + 64);
            bh_err r = bh_form_field(body, len, FIELDS[i].key, &value);
            if (r == BH_OK)
                err = take_value(sub, i, value.data ? value.data : "", value.len);
            else if (r == BH_ETOOBIG)
                set_too_long(sub, i);
            else if (r == BH_EFORMAT)
                set_error(sub, i, "含有无法识别的字符，请重新输入");
            else if (r != BH_ENOTFOUND)
                err = r;
            bh_buf_release(&value);
        }
        /* No files in this encoding: only a re-submission can do without. */
        for (size_t i = 0; i < NFILES && !err; i++)
            err = validate_file(sub, i, NULL, 0, NULL, v->have_file[i]);
        return err;
    }
    sub->general = "提交的表单无法识别，请刷新页面后重新填写。";
    return BH_OK;
}

static void validate(submission *sub, const view *v)
{
    for (size_t i = 0; i < NFIELDS; i++)
        validate_field(sub, i, i == F_CARD && form_text(v, FIELDS[i].key) != NULL);
}

/* ---- shared with the verification page (verify.c) ---- */

int bh_web_page_headers(bh_http_response *resp, int status, const char *extra)
{
    return page_headers(resp, status, extra);
}

void bh_web_message_page(bh_http_response *resp, int status, const char *extra,
                         const char *title, const char *message)
{
    message_page(resp, status, extra, title, message);
}

void bh_web_row(bh_html *h, const char *label, const char *value)
{
    row(h, label, value);
}

void bh_web_money_row(bh_html *h, const char *label, int64_t fen)
{
    money_row(h, label, fen, NULL);
}

int bh_web_media_type_is(const char *content_type, const char *type)
{
    return media_type_is(content_type, type);
}

/* ---- storing a submission ----------------------------------------------------- */

typedef struct write_ctx {
    const char *token;
    const submission *sub;
    int64_t now;
    int conflict;       /* the application left applied/submitted meanwhile */
    bh_app_state state; /* what it was found in */
} write_ctx;

static bh_err build_form_json(const submission *sub, const char *stored_form, bh_buf *out)
{
    bh_msg *stored = parse_json(stored_form);
    bh_msg *m = bh_msg_new();
    bh_err err = m ? BH_OK : BH_ENOMEM;
    for (size_t i = 0; i < NFIELDS && !err; i++) {
        const char *value = sub->value[i];
        if ((!value || !*value) && stored)
            value = bh_msg_text(stored, FIELDS[i].key); /* the kept ID number */
        if (!value || !*value)
            err = BH_EINVAL; /* validation said it was stored: it changed meanwhile */
        else
            err = bh_msg_set_str(m, FIELDS[i].key, value);
    }
    if (!err)
        err = bh_msg_to_json(m, 0, out);
    bh_msg_free(m);
    bh_msg_free(stored);
    return err;
}

static bh_err write_unit(bh_tx *tx, void *ctx)
{
    write_ctx *w = ctx;
    bh_app app;
    bh_err err = bh_tx_app_by_token(tx, w->token, &app);
    if (err)
        return err;
    w->state = app.state;
    if (!form_open(app.state)) {
        w->conflict = 1;
        bh_app_release(&app);
        return BH_EINVAL;
    }
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    err = build_form_json(w->sub, app.form_json, &json);
    if (err == BH_EINVAL)
        w->conflict = 1;
    for (size_t i = 0; i < NFILES && !err; i++) {
        const upload *u = &w->sub->file[i];
        if (u->data)
            err = bh_tx_file_put(tx, app.id, FILES[i].kind, u->content_type, u->filename, u->data,
                                 u->len, w->now, NULL);
    }
    if (!err) {
        bh_app_state expected = app.state;
        free(app.form_json);
        app.form_json = bh_buf_detach(&json, NULL);
        if (!app.form_json)
            err = BH_ENOMEM;
        app.state = BH_APP_SUBMITTED;
        if (!err)
            err = bh_tx_app_update(tx, &app, expected, w->now);
    }
    bh_buf_wipe(&json);
    bh_app_release(&app);
    return err;
}

/* ---- the handler ------------------------------------------------------------------ */

static int valid_token(const char *t)
{
    size_t i = 0;
    for (; t[i]; i++)
        if (i >= BH_PAY_TOKEN_LEN ||
            !((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return 0;
    return i == BH_PAY_TOKEN_LEN || i == BH_PAY_TOKEN_LEN_RANDOM_ONLY;
}

bh_err bh_web_new_token(char out[BH_PAY_TOKEN_LEN + 1])
{
    uint8_t random[16];
    bh_err err = bh_random_bytes(random, sizeof random);
    if (err)
        return err;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    /* 12 hex digits hold milliseconds until the year 10889. */
    snprintf(out, BH_PAY_TOKEN_LEN - 32 + 1, "%012" PRIx64, ms & UINT64_C(0xFFFFFFFFFFFF));
    bh_hex_encode_to(random, sizeof random, 0, out + BH_PAY_TOKEN_LEN - 32);
    return BH_OK;
}

/* 303 See Other to the page itself: a reload then repeats the GET, not the
 * POST. Absolute under public_url (which may carry a path prefix). */
static void see_other(const bh_web *web, const char *token, bh_http_response *resp)
{
    const char *base = web->config && web->config->public_url ? web->config->public_url : "";
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    char url[sizeof resp->extra_headers];
    char location[sizeof resp->extra_headers + 16];
    int n = snprintf(url, sizeof url, "%.*s%s%s", (int)blen, base, BH_WEB_PREFIX, token);
    if (n >= 0 && (size_t)n < sizeof url) {
        snprintf(location, sizeof location, "Location: %s\r\n", url);
        if (!page_headers(resp, 303, location))
            n = -1;
    }
    if (n < 0 || (size_t)n >= sizeof url) {
        /* A public_url too long for the header space: a relative reference
         * is valid too (RFC 9110 §10.2.2). */
        snprintf(url, sizeof url, "%s%s", BH_WEB_PREFIX, token);
        snprintf(location, sizeof location, "Location: %s\r\n", url);
        page_headers(resp, 303, location);
    }
    bh_buf_reset(&resp->body);
    bh_html h = {&resp->body, BH_OK};
    bh_html_begin(&h, "已提交");
    bh_html_raw(&h, "<h1>已提交</h1>\n<section><p><a href=\"");
    bh_html_text(&h, url);
    bh_html_raw(&h, "\">查看付款信息</a></p></section>\n");
    bh_html_end(&h);
}

static void handle_get(const bh_web *web, const char *token, bh_http_response *resp)
{
    view v;
    bh_err err = load_view(web, token, &v);
    if (err == BH_ENOTFOUND) {
        not_found(resp);
        snprintf(resp->note, sizeof resp->note, "pay - unknown token");
        return;
    }
    if (err) {
        server_error(resp);
        snprintf(resp->note, sizeof resp->note, "pay - store error: %s", bh_strerror(err));
        return;
    }
    app_page(web, &v, NULL, 200, resp);
    note(resp, &v, bh_app_state_name(v.app.state));
    view_release(&v);
}

static void handle_post(const bh_web *web, const char *token, const bh_http_request *req,
                        bh_http_response *resp)
{
    view v;
    bh_err err = load_view(web, token, &v);
    if (err == BH_ENOTFOUND) {
        not_found(resp);
        snprintf(resp->note, sizeof resp->note, "pay - unknown token");
        return;
    }
    if (err) {
        server_error(resp);
        snprintf(resp->note, sizeof resp->note, "pay - store error: %s", bh_strerror(err));
        return;
    }
    if (!form_open(v.app.state)) {
        /* Paid or later: nothing to change here any more. */
        app_page(web, &v, NULL, 409, resp);
        note(resp, &v, "refused: form closed");
        view_release(&v);
        return;
    }
    submission sub;
    memset(&sub, 0, sizeof sub);
    err = read_submission(req, &v, &sub);
    if (!err && !sub.general)
        validate(&sub, &v);
    if (err) {
        server_error(resp);
        note(resp, &v, "out of memory");
    } else if (sub.general) {
        app_page(web, &v, &sub, 400, resp);
        note(resp, &v, "refused: malformed form");
    } else if (sub.nerrors) {
        app_page(web, &v, &sub, 422, resp);
        char what[64];
        snprintf(what, sizeof what, "refused: %d errors", sub.nerrors);
        note(resp, &v, what);
    } else {
        write_ctx w = {token, &sub, bh_time_now(), 0, v.app.state};
        err = bh_store_write(web->store, write_unit, &w);
        if (err == BH_OK) {
            see_other(web, token, resp);
            note(resp, &v, "submitted");
        } else if (w.conflict || err == BH_ENOTFOUND) {
            view_release(&v);
            if (load_view(web, token, &v) == BH_OK) {
                app_page(web, &v, NULL, 409, resp);
                note(resp, &v, "refused: state changed");
            } else {
                server_error(resp);
            }
        } else {
            server_error(resp);
            char what[96];
            snprintf(what, sizeof what, "store error: %s", bh_strerror(err));
            note(resp, &v, what);
        }
    }
    submission_release(&sub);
    view_release(&v);
}

int bh_web_handle(const bh_web *web, const bh_http_request *req, bh_http_response *resp)
{
    size_t plen = strlen(BH_WEB_PREFIX);
    if (!req->path || strncmp(req->path, BH_WEB_PREFIX, plen) != 0)
        return 0;
    const char *token = req->path + plen;
    int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    int post = strcmp(req->method, "POST") == 0;
    if (!valid_token(token)) {
        /* Anything but 32 lower-case hex digits never reaches the store. */
        not_found(resp);
        snprintf(resp->note, sizeof resp->note, "pay - malformed token");
        return 1;
    }
    if (!get && !post) {
        message_page(resp, 405, "Allow: GET, HEAD, POST\r\n", "不支持的请求",
                     "请在浏览器中打开本页面。");
        snprintf(resp->note, sizeof resp->note, "pay - method not allowed");
        return 1;
    }
    if (get)
        handle_get(web, token, resp);
    else
        handle_post(web, token, req, resp);
    return 1;
}
