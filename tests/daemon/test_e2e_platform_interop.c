/* Black-box: our platform role against an independent institution that
 * follows PROTOCOL.md but not our habits. The institution is a stub in this
 * process: it answers with field names in another case (§2: a client
 * matches them without regard to case), lower-case MD5s, and can notify the
 * platform before answering baohanapply (the notice overtakes the answer).
 * Its notices carry unknown, signed fields, which may differ between a
 * notice and its retry. */
#include "e2e.h"

static e2e_daemon plat;
static bh_buf out;
static int serial;

/* ---- the stub institution -------------------------------------------------------- */

static const char FILE_BYTES[] = "%PDF-1.4 a guarantee\n";

typedef struct stub {
    bh_http_server *server;
    char self[64];
    int capitalised;  /* answer Code, Message, Payurl, Data, and data's names capitalised */
    int notify_first; /* send baohannotice (approved) before answering baohanapply */
    char notify_applyno[64];
    int notified_code; /* the platform's answer to that notice */
    int quit_first;    /* send quitnotice before answering quitapply */
    int refuse_quit;   /* answer quitapply with code 0 */
    int server_fault;  /* answer HTTP 500 with code 0, as a server whose store failed */
} stub;

static stub st;

/* data for getbaohaninfo: every file is FILE_BYTES; the MD5s in lower case. */
static void stub_info(bh_msg *answer)
{
    char md5[BH_MD5_HEX_LEN + 1], url[128];
    CHECK_EQ(bh_md5_hex(FILE_BYTES, strlen(FILE_BYTES), md5), BH_OK);
    for (char *p = md5; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    snprintf(url, sizeof url, "%s/files/g.pdf", st.self);
    bh_buf b64, json;
    bh_buf_init(&b64, 1 << 20);
    bh_buf_init(&json, 1 << 20);
    CHECK_EQ(bh_base64_encode(FILE_BYTES, strlen(FILE_BYTES), &b64), BH_OK);
    const char *pairs[][2] = {
        {"BaohanUrl", url},
        {"BaohanFile", b64.data},
        {"GuaranteeMd5", md5},
        {"OrderUrl", url},
        {"OrderMd5", md5},
        {"QualficationFileUrl", url},
        {"QualficationFileMd5", md5},
        {"BusinessLicenseUrl", url},
        {"BusinessLicenseMd5", md5},
        {"GuaranteeXmlUrl", url},
        {"GuaranteeXmlMd5", md5},
        {"PayFileUrl", url},
        {"BidderPersonCard", E2E_ID_CARD},
        {"PayerName", "某某公司"},
    };
    bh_msg *data = bh_msg_new();
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s", pairs[i][0]);
        if (!st.capitalised)
            for (char *p = key; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p + 32);
        CHECK_EQ(bh_msg_set_str(data, key, pairs[i][1]), BH_OK);
    }
    CHECK_EQ(bh_msg_to_json(data, 0, &json), BH_OK);
    CHECK_EQ(bh_msg_set(answer, st.capitalised ? "Data" : "data", json.data, json.len, BH_JOBJECT),
             BH_OK);
    bh_msg_free(data);
    bh_buf_release(&b64);
    bh_buf_release(&json);
}

static bh_msg *approval(const char *applyno, const char *baohanno)
{
    bh_msg *m = load_example("baohannotice");
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "baohanno", baohanno), BH_OK);
    return m;
}

static void stub_handle(void *ctx, const bh_http_request *req, bh_http_response *resp)
{
    (void)ctx;
    bh_buf_reset(&resp->body);
    if (strncmp(req->path, "/files/", 7) == 0) {
        resp->content_type = "application/pdf";
        CHECK_EQ(bh_buf_addstr(&resp->body, FILE_BYTES), BH_OK);
        return;
    }
    const char *iface = strrchr(req->path, '/');
    iface = iface ? iface + 1 : "";
    bh_msg *wire = NULL;
    CHECK_EQ(bh_msg_parse(req->body, req->body_len, BH_MSG_MAX_REQUEST, 0, &wire, NULL), BH_OK);
    const char *applyno = wire ? bh_msg_text(wire, "applyno") : NULL;
    if (strcmp(iface, "baohanapply") == 0 && st.notify_first && applyno) {
        bh_msg *n = approval(applyno, "BH-RACE-1");
        st.notified_code = e2e_call(&plat, "baohannotice", n, NULL);
        bh_msg_free(n);
    }
    const char *baohanno = wire ? bh_msg_text(wire, "baohanno") : NULL;
    if (strcmp(iface, "quitapply") == 0 && st.quit_first && applyno && baohanno) {
        bh_msg *n = load_example("quitnotice");
        CHECK_EQ(bh_msg_set_str(n, "applyno", applyno), BH_OK);
        CHECK_EQ(bh_msg_set_str(n, "baohanno", baohanno), BH_OK);
        st.notified_code = e2e_call(&plat, "quitnotice", n, NULL);
        bh_msg_free(n);
    }
    if (st.server_fault) {
        bh_http_reply(resp, 500, 0, "internal error (I/O error); nothing was stored, please retry");
        bh_msg_free(wire);
        return;
    }
    int refuse = strcmp(iface, "quitapply") == 0 && st.refuse_quit;
    bh_msg *answer = bh_msg_new();
    CHECK_EQ(
        bh_msg_set(answer, st.capitalised ? "Code" : "code", refuse ? "0" : "1", 1, BH_JNUMBER),
        BH_OK);
    CHECK_EQ(bh_msg_set_str(answer, st.capitalised ? "Message" : "message", "成功"), BH_OK);
    if (strcmp(iface, "baohanapply") == 0)
        CHECK_EQ(bh_msg_set_str(answer, st.capitalised ? "PAYURL" : "Payurl",
                                "https://fi.example.com/pay/1"),
                 BH_OK);
    if (strcmp(iface, "getbaohaninfo") == 0)
        stub_info(answer);
    CHECK_EQ(bh_msg_to_json(answer, 0, &resp->body), BH_OK);
    bh_msg_free(answer);
    bh_msg_free(wire);
}

/* ---- the platform ---------------------------------------------------------------- */

static const char *pfield(int64_t id, const char *key)
{
    char path[96];
    snprintf(path, sizeof path, "/admin/platform/applications/%lld", (long long)id);
    return e2e_app_field(&plat, path, key, &out);
}

/* A platform action; returns the institution's code (-1 when refused). */
static int pact(int64_t id, const char *verb, const char *json)
{
    return e2e_plat_act(&plat, id, verb, json, &out);
}

/* POSTs the example application under a new applyno to the admin API;
 * returns the HTTP status. */
static long papply_status(char applyno[32])
{
    snprintf(applyno, 32, "PIOP%d%04d", (int)getpid(), ++serial);
    bh_msg *fields = load_example("baohanapply");
    CHECK_EQ(bh_msg_set_str(fields, "applyno", applyno), BH_OK);
    bh_buf body;
    bh_buf_init(&body, 1 << 20);
    CHECK_EQ(bh_buf_addstr(&body, "{\"institution\":\"fi\",\"fields\":"), BH_OK);
    CHECK_EQ(bh_msg_to_json(fields, 0, &body), BH_OK);
    CHECK_EQ(bh_buf_addch(&body, '}'), BH_OK);
    long status = e2e_admin(&plat, "POST", "/admin/platform/apply", body.data, &out);
    bh_buf_release(&body);
    bh_msg_free(fields);
    return status;
}

static int64_t papply(char applyno[32])
{
    CHECK_EQ(papply_status(applyno), 200);
    int64_t id = atoll(e2e_out_app_field(&out, "id"));
    CHECK(id > 0);
    return id;
}

/* How many notices the platform recorded for `id`. */
static int notices(int64_t id)
{
    pfield(id, "id");
    int n = 0;
    for (const char *p = out.data; (p = strstr(p, "\"iface\":\"")); p++)
        n++;
    return n;
}

/* ---- the checks ------------------------------------------------------------------ */

/* A retry of a notice may carry other unknown fields (or another
 * generatetime) than the first: it is the same notice, answered code 1,
 * recorded once. A different result is still refused. */
static void test_retry_with_other_fields(void)
{
    char applyno[32];
    int64_t id = papply(applyno);
    CHECK_STR(pfield(id, "state"), "sent");
    bh_msg *n = approval(applyno, "BH-IOP-1");
    CHECK_EQ(e2e_call(&plat, "baohannotice", n, NULL), 1);
    CHECK_EQ(bh_msg_set_str(n, "platformcode", "ZZ01"), BH_OK);
    CHECK_EQ(e2e_call(&plat, "baohannotice", n, NULL), 1);
    CHECK_EQ(bh_msg_set_str(n, "generatetime", "2026-11-28 15:42:11"), BH_OK);
    CHECK_EQ(e2e_call(&plat, "baohannotice", n, NULL), 1);
    CHECK_STR(pfield(id, "state"), "issued");
    CHECK_EQ(notices(id), 1);
    bh_msg *other = approval(applyno, "BH-IOP-OTHER");
    CHECK_EQ(e2e_call(&plat, "baohannotice", other, NULL), 0);
    CHECK_EQ(bh_msg_set_str(other, "baohanno", "无"), BH_OK);
    CHECK_EQ(bh_msg_set_str(other, "applystatus", "0"), BH_OK);
    CHECK_EQ(e2e_call(&plat, "baohannotice", other, NULL), 0);
    CHECK_STR(pfield(id, "baohanno"), "BH-IOP-1");

    CHECK_EQ(pact(id, "quitapply", "{\"reason\":\"项目终止\"}"), 1);
    bh_msg *q = load_example("quitnotice");
    CHECK_EQ(bh_msg_set_str(q, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(q, "baohanno", "BH-IOP-1"), BH_OK);
    CHECK_EQ(e2e_call(&plat, "quitnotice", q, NULL), 1);
    CHECK_EQ(bh_msg_set_str(q, "quittime", "2026-11-29 10:00:00"), BH_OK);
    CHECK_EQ(e2e_call(&plat, "quitnotice", q, NULL), 1);
    CHECK_STR(pfield(id, "state"), "quit");
    CHECK_EQ(notices(id), 2);
    /* The approval, delivered late again, is still the same notice. */
    CHECK_EQ(e2e_call(&plat, "baohannotice", n, NULL), 1);
    CHECK_STR(pfield(id, "state"), "quit");
    CHECK_EQ(bh_msg_set_str(q, "baohanno", "BH-IOP-WRONG"), BH_OK);
    CHECK_EQ(e2e_call(&plat, "quitnotice", q, NULL), 0);
    bh_msg_free(q);
    bh_msg_free(other);
    bh_msg_free(n);
}

/* Answers whose field names are in another case: Code, Message, PAYURL,
 * Data and its fields; MD5s in lower case. The platform reads them all; the
 * ID number is masked however its field was spelled. */
static void test_answer_case(void)
{
    st.capitalised = 1;
    char applyno[32];
    int64_t id = papply(applyno);
    CHECK_STR(e2e_out_app_field(&out, "last_code"), "1");
    CHECK_STR(pfield(id, "state"), "sent");
    CHECK_STR(pfield(id, "payurl"), "https://fi.example.com/pay/1");
    bh_msg *n = approval(applyno, "BH-IOP-2");
    CHECK_EQ(e2e_call(&plat, "baohannotice", n, NULL), 1);
    CHECK_EQ(pact(id, "getbaohaninfo", NULL), 1);
    pfield(id, "id");
    CHECK(strstr(out.data, "\"ok\":false") == NULL);
    CHECK(strstr(out.data, "\"ok\":true") != NULL);
    CHECK(strstr(out.data, E2E_ID_CARD) == NULL);
    CHECK_EQ(
        e2e_store_count(&plat, "SELECT count(*) FROM audit WHERE detail LIKE '%" E2E_ID_CARD "%'"),
        0);
    CHECK_EQ(e2e_store_count(&plat,
                             "SELECT count(*) FROM audit WHERE detail LIKE '%350602********1230%'"),
             1);
    bh_msg_free(n);
    st.capitalised = 0;
}

/* The institution notifies before it answers baohanapply: the notice is
 * accepted, and the answer that follows still records the Payurl without
 * undoing the issue. */
static void test_notice_overtakes_answer(void)
{
    st.notify_first = 1;
    char applyno[32];
    int64_t id = papply(applyno);
    st.notify_first = 0;
    CHECK_EQ(st.notified_code, 1);
    CHECK_STR(pfield(id, "state"), "issued");
    CHECK_STR(pfield(id, "baohanno"), "BH-RACE-1");
    CHECK_STR(pfield(id, "payurl"), "https://fi.example.com/pay/1");
}

/* The institution approves a withdrawal at once and sends quitnotice before
 * it answers quitapply: the notice is accepted, the guarantee is withdrawn.
 * A quitapply refused (code 0) leaves the guarantee issued. */
static void test_quitnotice_overtakes_answer(void)
{
    char applyno[32];
    int64_t id = papply(applyno);
    bh_msg *n = approval(applyno, "BH-IOP-Q1");
    CHECK_EQ(e2e_call(&plat, "baohannotice", n, NULL), 1);
    bh_msg_free(n);
    st.refuse_quit = 1;
    CHECK_EQ(pact(id, "quitapply", "{\"reason\":\"项目终止\"}"), 0);
    st.refuse_quit = 0;
    CHECK_STR(pfield(id, "state"), "issued");
    st.quit_first = 1;
    st.notified_code = -1;
    CHECK_EQ(pact(id, "quitapply", "{\"reason\":\"项目终止\"}"), 1);
    st.quit_first = 0;
    CHECK_EQ(st.notified_code, 1);
    CHECK_STR(pfield(id, "state"), "quit");
    CHECK_EQ(notices(id), 2);
}

/* An HTTP 500 with code 0 is a server fault, not a refusal: the
 * application stays `sending` (not `refused`), the operator is told, and
 * sending it again works. */
static void test_server_fault_is_not_a_refusal(void)
{
    char applyno[32];
    st.server_fault = 1;
    CHECK_EQ(papply_status(applyno), 502);
    CHECK(strstr(out.data, "HTTP 500") != NULL);
    st.server_fault = 0;
    int64_t id = e2e_app_id(&plat, "/admin/platform/applications?limit=1000", applyno, &out);
    CHECK_STR(pfield(id, "state"), "sending");
    serial--; /* the same applyno again */
    CHECK_EQ(papply(applyno), id);
    CHECK_STR(pfield(id, "state"), "sent");
    /* The same for an action: the guarantee stays issued. */
    bh_msg *n = approval(applyno, "BH-IOP-F1");
    CHECK_EQ(e2e_call(&plat, "baohannotice", n, NULL), 1);
    st.server_fault = 1;
    CHECK_EQ(pact(id, "quitapply", "{\"reason\":\"项目终止\"}"), -1);
    st.server_fault = 0;
    CHECK_STR(pfield(id, "state"), "issued");
    bh_msg_free(n);
}

/* claimsnotice's reason is `Reason` (PROTOCOL.md §7.7): a lower-case
 * `reason` would travel as an unknown field the institution ignores, so
 * the admin API refuses it, naming the right spelling, and sends nothing. */
static void test_claims_reason_spelling(void)
{
    char applyno[32];
    int64_t id = papply(applyno);
    bh_msg *n = approval(applyno, "BH-IOP-C1");
    CHECK_EQ(e2e_call(&plat, "baohannotice", n, NULL), 1);
    bh_msg_free(n);
    CHECK_EQ(pact(id, "claims",
                  "{\"applyusername\":\"陈晓梅\",\"applyuserphone\":\"13906951234\","
                  "\"reason\":\"拒签合同\"}"),
             -1);
    CHECK(strstr(out.data, "\"field\":\"reason\"") != NULL);
    CHECK(strstr(out.data, "Reason") != NULL);
    CHECK_STR(pfield(id, "state"), "issued");
    CHECK_EQ(pact(id, "claims",
                  "{\"applyusername\":\"陈晓梅\",\"applyuserphone\":\"13906951234\","
                  "\"Reason\":\"拒签合同\"}"),
             1);
    CHECK_STR(pfield(id, "state"), "claimed");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bh_buf_init(&out, (size_t)16 << 20);
    e2e_daemon_prepare(&plat);
    bh_http_options o = {.listen = "127.0.0.1:0",
                         .max_body = 1 << 20,
                         .threads = 4,
                         .handler = stub_handle,
                         .ctx = &st};
    if (bh_http_start(&o, &st.server, NULL) != BH_OK) {
        fprintf(stderr, "e2e: the stub institution cannot listen\n");
        return 2;
    }
    snprintf(st.self, sizeof st.self, "http://127.0.0.1:%d", bh_http_port(st.server));
    char peers[256];
    snprintf(peers, sizeof peers, "fi %s %s", E2E_APPKEY, st.self);
    e2e_write_platform_config(&plat, peers);
    e2e_daemon_run(&plat);

    RUN(test_retry_with_other_fields);
    RUN(test_answer_case);
    RUN(test_notice_overtakes_answer);
    RUN(test_quitnotice_overtakes_answer);
    RUN(test_server_fault_is_not_a_refusal);
    RUN(test_claims_reason_spelling);

    e2e_daemon_cleanup(&plat);
    bh_http_stop(st.server);
    bh_buf_release(&out);
    curl_global_cleanup();
    return CHECK_DONE();
}
