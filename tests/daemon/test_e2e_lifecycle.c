/* Black-box: baohand as its own process, driven over HTTP through every path
 * of an application's life — apply, the bidder's page, payment, approval,
 * the notice (checked by a receiver that verifies its signature),
 * getbaohaninfo with its files, withdrawal, rejection, give-up, claims — and
 * the refusals of PROTOCOL.md §8, each leaving the store unchanged. */
#include "e2e.h"
#include "web.h"

#define BIDDER "福建省漳州市恒泰建设工程有限公司"
#define ID_CARD E2E_ID_CARD

static e2e_daemon daemon_;
static e2e_receiver receiver;
static bh_buf out;
static int serial;

static const char tiny_png[] = "\x89PNG\r\n\x1A\n\0\0\0\rIHDR";

/* The example application with a fresh applyno. */
static bh_msg *application(char applyno[32])
{
    snprintf(applyno, 32, "E2E%d%04d", (int)getpid(), ++serial);
    bh_msg *m = load_example("baohanapply");
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    return m;
}

/* Applies; returns the Payurl (static storage) or "" on failure. */
static const char *apply(const char *applyno_in, char applyno[32])
{
    static char payurl[256];
    bh_msg *m = application(applyno);
    if (applyno_in)
        snprintf(applyno, 32, "%s", applyno_in);
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    bh_msg *answer = NULL;
    CHECK_EQ(e2e_call(&daemon_, "baohanapply", m, &answer), 1);
    const bh_field *url = answer ? bh_msg_get_nocase(answer, "payurl") : NULL;
    snprintf(payurl, sizeof payurl, "%s", url ? url->value : "");
    bh_msg_free(answer);
    bh_msg_free(m);
    return payurl;
}

/* The application's id, from the admin list. */
static int64_t app_id(const char *applyno)
{
    return e2e_app_id(&daemon_, "/admin/applications?limit=1000", applyno, &out);
}

static size_t application_count(void)
{
    CHECK_EQ(e2e_admin(&daemon_, "GET", "/admin/applications?limit=10000", NULL, &out), 200);
    size_t n = 0;
    for (const char *p = out.data; (p = strstr(p, "\"applyno\":")); p++)
        n++;
    return n;
}

/* A field of the application as the admin API shows it. */
static const char *app_field(int64_t id, const char *key)
{
    char path[64];
    snprintf(path, sizeof path, "/admin/applications/%lld", (long long)id);
    return e2e_app_field(&daemon_, path, key, &out);
}

static long admin_post(int64_t id, const char *verb, const char *json)
{
    char path[96];
    snprintf(path, sizeof path, "/admin/applications/%lld/%s", (long long)id, verb);
    return e2e_admin(&daemon_, "POST", path, json, &out);
}

static long pay(int64_t id, const char *account, const char *amount)
{
    bh_buf b64, json;
    bh_buf_init(&b64, 4096);
    bh_buf_init(&json, 8192);
    CHECK_EQ(bh_base64_encode(tiny_png, sizeof tiny_png - 1, &b64), BH_OK);
    CHECK_EQ(bh_buf_addf(&json,
                         "{\"payername\":\"%s\",\"payeraccount\":\"%s\",\"amount\":\"%s\","
                         "\"paytype\":\"银行转账\",\"proof\":\"%s\"}",
                         BIDDER, account, amount, b64.data),
             BH_OK);
    long status = admin_post(id, "payment", json.data);
    if (status != 200 && strcmp(account, E2E_ACCOUNT) == 0 && strcmp(amount, "300.00") == 0)
        fprintf(stderr, "  payment refused: %s\n", out.data);
    bh_buf_release(&b64);
    bh_buf_release(&json);
    return status;
}

/* apply → form → payment → approve: the guarantee number. */
static const char *issue(char applyno[32], int64_t *id)
{
    const char *payurl = apply(NULL, applyno);
    CHECK_EQ(e2e_submit_form(payurl), 303);
    *id = app_id(applyno);
    CHECK_EQ(pay(*id, E2E_ACCOUNT, "300.00"), 200);
    CHECK_EQ(admin_post(*id, "approve", NULL), 200);
    CHECK_STR(app_field(*id, "state"), "issued");
    return app_field(*id, "baohanno");
}

static bh_msg *followup(const char *applyno, const char *baohanno)
{
    bh_msg *m = bh_msg_new();
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    if (baohanno)
        CHECK_EQ(bh_msg_set_str(m, "baohanno", baohanno), BH_OK);
    return m;
}

static void test_apply_is_idempotent(void)
{
    char applyno[32], again[32];
    char payurl[256];
    snprintf(payurl, sizeof payurl, "%s", apply(NULL, applyno));
    CHECK(strncmp(payurl, daemon_.url, strlen(daemon_.url)) == 0);
    CHECK(strstr(payurl, "/pay/") != NULL);
    /* 12 hex digits of time, then 128 random bits */
    CHECK_EQ(strlen(strstr(payurl, "/pay/") + 5), BH_PAY_TOKEN_LEN);
    CHECK_STR(apply(applyno, again), payurl);          /* a retry: the same Payurl */

    /* A retry whose fields come in another order is the same request. */
    bh_msg *m = application(again);
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    move_to_end(m, "biddername");
    bh_msg *answer = NULL;
    CHECK_EQ(e2e_call(&daemon_, "baohanapply", m, &answer), 1);
    const bh_field *url = answer ? bh_msg_get_nocase(answer, "payurl") : NULL;
    CHECK_STR(url ? url->value : "", payurl);
    bh_msg_free(answer);
    bh_msg_free(m);

    m = application(again);
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "bzjamount", "1.00"), BH_OK);
    answer = NULL;
    CHECK_EQ(e2e_call(&daemon_, "baohanapply", m, &answer), 0);
    const char *message = answer ? bh_msg_text(answer, "message") : NULL;
    CHECK(message && strstr(message, "applyno"));
    bh_msg_free(answer);
    bh_msg_free(m);
}

static char seen_token[BH_PAY_TOKEN_LEN + 1];

static void test_page_shows_the_application(void)
{
    char applyno[32];
    const char *payurl = apply(NULL, applyno);
    snprintf(seen_token, sizeof seen_token, "%s", strrchr(payurl, '/') + 1);
    bh_buf page;
    bh_buf_init(&page, 1 << 20);
    CHECK_EQ(e2e_http("GET", payurl, NULL, NULL, 0, NULL, &page), 200);
    CHECK(page.data && strstr(page.data, "漳州市芗城区九龙江西岸道路提升工程")); /* decrypted */
    CHECK(page.data && (strstr(page.data, "200000.00") || strstr(page.data, "200,000.00")));
    CHECK(page.data && strstr(page.data, "人民币贰拾万元整"));
    bh_buf_release(&page);
}

static void test_issue_notice_and_info(void)
{
    char applyno[32];
    int64_t id;
    const char *payurl = apply(NULL, applyno);
    CHECK_EQ(e2e_submit_form(payurl), 303);
    id = app_id(applyno);
    CHECK_STR(app_field(id, "state"), "submitted");

    /* payment refused unless from the declared basic account, for the premium */
    CHECK_EQ(pay(id, "6222000000000000000", "300.00"), 400);
    CHECK(strstr(out.data, "payeraccount") != NULL);
    CHECK_EQ(pay(id, E2E_ACCOUNT, "299.99"), 400);
    CHECK(strstr(out.data, "amount") != NULL);
    CHECK_STR(app_field(id, "state"), "submitted");
    CHECK_EQ(pay(id, E2E_ACCOUNT, "300.00"), 200);
    CHECK_STR(app_field(id, "state"), "paid");

    CHECK_EQ(admin_post(id, "approve", NULL), 200);
    CHECK_STR(app_field(id, "state"), "issued");
    char baohanno[64];
    snprintf(baohanno, sizeof baohanno, "%s", app_field(id, "baohanno"));
    CHECK(strncmp(baohanno, "BH20", 4) == 0);

    e2e_notice n;
    CHECK_EQ(e2e_notices(&receiver, "baohannotice", applyno, 10000, &n), 1);
    CHECK_STR(n.applystatus, "1");
    CHECK_STR(n.baohanno, baohanno);

    /* getbaohaninfo: the data object, its files as served, their MD5s */
    bh_msg *req = followup(applyno, baohanno), *answer = NULL;
    CHECK_EQ(e2e_call(&daemon_, "getbaohaninfo", req, &answer), 1);
    const bh_field *data = answer ? bh_msg_get(answer, "data") : NULL;
    CHECK(data && data->type == BH_JOBJECT);
    bh_msg *dm = NULL;
    if (data)
        CHECK_EQ(bh_msg_parse(data->value, data->value_len, data->value_len, 0, &dm, NULL), BH_OK);
    bh_diag diag = BH_DIAG_INIT;
    CHECK_EQ(bh_validate(bh_iface_find("getbaohaninfo"), BH_PART_RESPONSE, answer, &diag), BH_OK);
    for (size_t i = 0; i < diag.count; i++)
        fprintf(stderr, "  %s: %s\n", diag.items[i].field, diag.items[i].message);
    bh_diag_release(&diag);
    if (dm) {
        CHECK_STR(bh_msg_text(dm, "payeraccount"), E2E_ACCOUNT);
        CHECK_STR(bh_msg_text(dm, "payername"), BIDDER);
        CHECK_STR(bh_msg_text(dm, "cost"), "300.00");
        CHECK_STR(bh_msg_text(dm, "bidderpersoncard"), ID_CARD);
        static const char *const pairs[][2] = {
            {"baohanurl", "guaranteemd5"},
            {"orderurl", "ordermd5"},
            {"qualficationfileurl", "qualficationfilemd5"},
            {"businesslicenseurl", "businesslicensemd5"},
            {"guaranteexmlurl", "guaranteexmlmd5"},
            {"payfileurl", NULL},
        };
        bh_buf file, decoded;
        bh_buf_init(&file, 64 << 20);
        bh_buf_init(&decoded, 64 << 20);
        for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
            bh_buf_reset(&file);
            CHECK_EQ(e2e_http("GET", bh_msg_text(dm, pairs[i][0]), NULL, NULL, 0, NULL, &file),
                     200);
            char md5[33];
            CHECK_EQ(bh_md5_hex(file.data, file.len, md5), BH_OK);
            if (pairs[i][1])
                CHECK_STR(bh_msg_text(dm, pairs[i][1]), md5);
            if (i == 0) {
                const char *b64 = bh_msg_text(dm, "baohanfile");
                CHECK_EQ(bh_base64_decode(b64, strlen(b64), &decoded), BH_OK);
                CHECK(decoded.len == file.len && memcmp(decoded.data, file.data, file.len) == 0);
                CHECK(file.len > 4 && memcmp(file.data, "%PDF", 4) == 0);
            }
        }
        bh_buf_release(&file);
        bh_buf_release(&decoded);
    }
    bh_msg_free(dm);
    bh_msg_free(answer);
    bh_msg_free(req);

    /* the wrong baohanno is refused */
    req = followup(applyno, "BH-NOT-IT");
    CHECK_EQ(e2e_call(&daemon_, "getbaohaninfo", req, NULL), 0);
    bh_msg_free(req);

    /* withdrawal: quitapply (idempotent), approval, quitnotice */
    req = followup(applyno, baohanno);
    CHECK_EQ(bh_msg_set_str(req, "reason", "招标项目终止，申请退保"), BH_OK);
    CHECK_EQ(e2e_call(&daemon_, "quitapply", req, NULL), 1);
    CHECK_EQ(e2e_call(&daemon_, "quitapply", req, NULL), 1);
    CHECK_STR(app_field(id, "state"), "quit_requested");
    CHECK_EQ(admin_post(id, "withdrawal", "{\"decision\":\"approve\"}"), 200);
    CHECK_STR(app_field(id, "state"), "quit");
    CHECK_EQ(e2e_notices(&receiver, "quitnotice", applyno, 10000, &n), 1);
    CHECK_STR(n.baohanno, baohanno);
    CHECK_EQ(e2e_call(&daemon_, "quitapply", req, NULL), 1); /* answered as the first was */
    bh_msg_free(req);
    /* a claim on a withdrawn guarantee is refused */
    req = load_example("claimsnotice");
    CHECK_EQ(bh_msg_set_str(req, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(req, "baohanno", baohanno), BH_OK);
    CHECK_EQ(e2e_call(&daemon_, "claimsnotice", req, NULL), 0);
    bh_msg_free(req);
}

static void test_reject(void)
{
    char applyno[32];
    const char *payurl = apply(NULL, applyno);
    CHECK_EQ(e2e_submit_form(payurl), 303);
    int64_t id = app_id(applyno);
    CHECK_EQ(admin_post(id, "reject", "{}"), 400); /* a reason is required */
    CHECK_EQ(admin_post(id, "reject", "{\"reason\":\"投标人资信不符合承保条件\"}"), 200);
    CHECK_STR(app_field(id, "state"), "rejected");
    e2e_notice n;
    CHECK_EQ(e2e_notices(&receiver, "baohannotice", applyno, 10000, &n), 1);
    CHECK_STR(n.applystatus, "0");
    CHECK_EQ(admin_post(id, "approve", NULL), 409);
}

static void test_giveup(void)
{
    char applyno[32];
    apply(NULL, applyno);
    bh_msg *req = followup(applyno, NULL);
    CHECK_EQ(e2e_call(&daemon_, "giveupnotice", req, NULL), 1);
    CHECK_EQ(e2e_call(&daemon_, "giveupnotice", req, NULL), 1);
    CHECK_STR(app_field(app_id(applyno), "state"), "given_up");
    bh_msg_free(req);

    int64_t id;
    issue(applyno, &id);
    req = followup(applyno, NULL);
    CHECK_EQ(e2e_call(&daemon_, "giveupnotice", req, NULL), 0); /* after issue: quitapply */
    CHECK_STR(app_field(id, "state"), "issued");
    bh_msg_free(req);
}

static void test_claims(void)
{
    char applyno[32], baohanno[64];
    int64_t id;
    snprintf(baohanno, sizeof baohanno, "%s", issue(applyno, &id));
    bh_msg *req = load_example("claimsnotice");
    CHECK_EQ(bh_msg_set_str(req, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(req, "baohanno", baohanno), BH_OK);
    CHECK_EQ(e2e_call(&daemon_, "claimsnotice", req, NULL), 1);
    CHECK_EQ(e2e_call(&daemon_, "claimsnotice", req, NULL), 1);
    CHECK_STR(app_field(id, "state"), "claimed");
    CHECK_EQ(bh_msg_set_str(req, "Reason", "另一个理由"), BH_OK);
    CHECK_EQ(e2e_call(&daemon_, "claimsnotice", req, NULL), 0);
    bh_msg_free(req);
    CHECK_EQ(admin_post(id, "claim-paid",
                        "{\"amount\":\"200000.00\",\"account\":\"35050166010700001234\"}"),
             200);
    CHECK_EQ(admin_post(id, "claim-paid",
                        "{\"amount\":\"200000.00\",\"account\":\"35050166010700001234\"}"),
             409);
}

/* A request as raw JSON text to an interface; returns the answer's code. */
static int raw_call(const char *iface, const char *content_type, const char *body, char *message,
                    size_t n)
{
    char url[128];
    snprintf(url, sizeof url, "%s/%s", daemon_.url, iface);
    bh_buf answer;
    bh_buf_init(&answer, 1 << 20);
    long status = e2e_http("POST", url, content_type, body, strlen(body), NULL, &answer);
    bh_msg *m = NULL;
    int code = -1;
    if (bh_msg_parse(answer.data ? answer.data : "", answer.len, answer.len, 0, &m, NULL) ==
        BH_OK) {
        const char *c = bh_msg_text(m, "code");
        code = c ? atoi(c) : -1;
        snprintf(message, n, "%s", bh_msg_text(m, "message") ? bh_msg_text(m, "message") : "");
    }
    CHECK(status == 200 || status == 413 || status == 405);
    bh_msg_free(m);
    bh_buf_release(&answer);
    return code;
}

/* A sealed baohanapply as JSON text, after `tamper` changed the wire message. */
static char *sealed(const char *applyno, const char *field, const char *value, int resign,
                    int64_t at)
{
    bh_credentials c = e2e_creds();
    bh_msg *m = load_example("baohanapply"), *wire = NULL;
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_seal(bh_iface_find("baohanapply"), &c, m, at, &wire, NULL), BH_OK);
    if (field && value)
        CHECK_EQ(bh_msg_set_str(wire, field, value), BH_OK);
    else if (field)
        bh_msg_remove(wire, field);
    if (resign)
        CHECK_EQ(bh_sign_apply(wire, E2E_APPSECRET), BH_OK);
    bh_buf json;
    bh_buf_init(&json, 1 << 20);
    CHECK_EQ(bh_msg_to_json(wire, 0, &json), BH_OK);
    bh_msg_free(m);
    bh_msg_free(wire);
    return bh_buf_detach(&json, NULL);
}

static void test_bad_input_changes_nothing(void)
{
    size_t before = application_count();
    char msg[2048];
    int64_t now = bh_time_now();
    struct {
        const char *what, *field, *value;
        int resign;
        int64_t at;
        const char *expect;
    } cases[] = {
        {"bad signature", "bzjamount", "1.00", 0, now, "sign"},
        {"stale timestamp", NULL, NULL, 1, now - 3600, "timestamp"},
        {"unknown appkey", "appkey", "NOBODY", 1, now, "appkey"},
        {"missing field", "projectname", NULL, 1, now, "projectname"},
        {"undecryptable", "zbr", "AAAAAAAAAAAAAAAAAAAAAA==", 1, now, "zbr"},
        {"too many decimals", "bzjamount", "1.001", 1, now, "bzjamount"},
        {"bad credit code", "biddercode", "91350602MA2Y3K7P17", 1, now, "biddercode"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char applyno[32];
        snprintf(applyno, sizeof applyno, "BAD%d%zu", (int)getpid(), i);
        char *body = sealed(applyno, cases[i].field, cases[i].value, cases[i].resign, cases[i].at);
        CHECK_EQ(raw_call("baohanapply", "application/json", body, msg, sizeof msg), 0);
        if (!strstr(msg, cases[i].expect))
            fprintf(stderr, "  %s: message does not name %s: %s\n", cases[i].what, cases[i].expect,
                    msg);
        CHECK(strstr(msg, cases[i].expect) != NULL);
        free(body);
    }
    CHECK_EQ(raw_call("baohanapply", "application/json", "{\"appkey\":", msg, sizeof msg), 0);
    CHECK(strstr(msg, "JSON") != NULL);
    CHECK_EQ(raw_call("baohanapply", "application/json", "{\"a\":1,\"a\":2}", msg, sizeof msg), 0);
    /* an oversized body: 413 with the protocol's shape */
    size_t big = 2u << 20;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    huge[big] = '\0';
    CHECK_EQ(raw_call("baohanapply", "application/json", huge, msg, sizeof msg), 0);
    free(huge);
    CHECK_EQ(application_count(), before);
}

static void test_form_body_and_replay(void)
{
    char applyno[32];
    snprintf(applyno, sizeof applyno, "FORM%d", (int)getpid());
    char *json = sealed(applyno, NULL, NULL, 0, bh_time_now());
    bh_buf form;
    bh_buf_init(&form, 1 << 20);
    CHECK_EQ(bh_buf_addstr(&form, "requestData="), BH_OK);
    for (const char *p = json; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            CHECK_EQ(bh_buf_addch(&form, (char)c), BH_OK);
        else
            CHECK_EQ(bh_buf_addf(&form, "%%%02X", c), BH_OK);
    }
    char msg[1024];
    CHECK_EQ(
        raw_call("baohanapply", "application/x-www-form-urlencoded", form.data, msg, sizeof msg),
        1);
    /* the exact same signed request again: answered as the first */
    CHECK_EQ(raw_call("baohanapply", "application/json", json, msg, sizeof msg), 1);
    /* a client that does not percent-encode requestData: Base64 '+' must survive */
    char applyno2[40];
    snprintf(applyno2, sizeof applyno2, "RAWFORM%d", (int)getpid());
    char *json2 = sealed(applyno2, NULL, NULL, 0, bh_time_now());
    bh_buf raw;
    bh_buf_init(&raw, 1 << 20);
    CHECK_EQ(bh_buf_addf(&raw, "requestData=%s", json2), BH_OK);
    CHECK(strchr(json2, '+') != NULL); /* the example's ciphertexts contain '+' */
    CHECK_EQ(
        raw_call("baohanapply", "application/x-www-form-urlencoded", raw.data, msg, sizeof msg), 1);
    bh_buf_release(&raw);
    free(json2);
    bh_buf_release(&form);
    free(json);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bh_buf_init(&out, 64 << 20);
    e2e_receiver_start(&receiver, 0);
    e2e_daemon_start(&daemon_, receiver.port, NULL);
    RUN(test_apply_is_idempotent);
    RUN(test_page_shows_the_application);
    RUN(test_issue_notice_and_info);
    RUN(test_reject);
    RUN(test_giveup);
    RUN(test_claims);
    RUN(test_bad_input_changes_nothing);
    RUN(test_form_body_and_replay);
    CHECK_EQ(receiver.bad_signatures, 0);
    /* SIGTERM: a clean stop */
    int status = e2e_daemon_signal(&daemon_, SIGTERM);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the log shows each request but never a pay token, a secret or an ID number */
    char log_path[320];
    snprintf(log_path, sizeof log_path, "%s/baohand.log", daemon_.dir);
    char *log = check_read_file(log_path, NULL);
    CHECK(strstr(log, "POST /baohanapply 200") != NULL);
    CHECK(strstr(log, "/pay/") != NULL);
    CHECK(strlen(seen_token) == BH_PAY_TOKEN_LEN && strstr(log, seen_token) == NULL);
    CHECK(strstr(log, E2E_APPSECRET) == NULL);
    CHECK(strstr(log, E2E_TOKEN) == NULL);
    CHECK(strstr(log, ID_CARD) == NULL);
    free(log);
    e2e_daemon_cleanup(&daemon_);
    e2e_receiver_stop(&receiver);
    bh_buf_release(&out);
    curl_global_cleanup();
    return CHECK_DONE();
}
