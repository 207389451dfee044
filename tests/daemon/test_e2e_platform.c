/* Black-box, two daemons: one institution baohand and one platform baohand
 * on loopback, each the other's counterpart. Every lifecycle path is driven
 * through the platform's admin API (and the institution's for the
 * operator's actions, the pay page for the bidder's), and after each step
 * both stores, as each admin API shows them, must agree: issue, reject,
 * give-up before and after issue, withdrawal, claim, getbaohaninfo with its
 * file checks (all good, then one file tampered with by a proxy between the
 * two), the platform stopped while notices queue at the institution, and
 * the platform's refusals of notices that do not fit what it sent. */
#include "e2e.h"

#define OTHER_APPKEY "FI002" /* a second institution the platform knows, the institution does not */

static e2e_daemon inst, plat;
static bh_buf out;
static int serial;

/* ---- a proxy between the platform and the institution --------------------------- */

/* Forwards every request to the institution. While `tamper` is set, the
 * getbaohaninfo answer's orderurl is pointed at the proxy, which serves that
 * file with its first byte changed: the platform must notice. */
typedef struct proxy {
    bh_http_server *server;
    char self[64];
    pthread_mutex_t mu;
    int tamper;
} proxy;

static proxy px;

static int proxy_tampering(void)
{
    pthread_mutex_lock(&px.mu);
    int t = px.tamper;
    pthread_mutex_unlock(&px.mu);
    return t;
}

/* Points data.orderurl at the proxy. */
static void redirect_order(bh_buf *body)
{
    bh_msg *m = NULL, *data = NULL;
    bh_buf inner, whole;
    bh_buf_init(&inner, (size_t)64 << 20);
    bh_buf_init(&whole, (size_t)64 << 20);
    const bh_field *f = NULL;
    if (bh_msg_parse(body->data, body->len, body->len, BH_PARSE_ALLOW_NESTED, &m, NULL) == BH_OK &&
        (f = bh_msg_get(m, "data")) &&
        bh_msg_parse(f->value, f->value_len, f->value_len, 0, &data, NULL) == BH_OK) {
        const char *url = bh_msg_text(data, "orderurl");
        char moved[512];
        snprintf(moved, sizeof moved, "%s%s", px.self, url ? url + strlen(inst.url) : "");
        CHECK_EQ(bh_msg_set_str(data, "orderurl", moved), BH_OK);
        CHECK_EQ(bh_msg_to_json(data, 0, &inner), BH_OK);
        CHECK_EQ(bh_msg_set(m, "data", inner.data, inner.len, BH_JOBJECT), BH_OK);
        CHECK_EQ(bh_msg_to_json(m, 0, &whole), BH_OK);
        bh_buf_reset(body);
        CHECK_EQ(bh_buf_add(body, whole.data, whole.len), BH_OK);
    }
    bh_msg_free(data);
    bh_msg_free(m);
    bh_buf_release(&inner);
    bh_buf_release(&whole);
}

static void proxy_handle(void *ctx, const bh_http_request *req, bh_http_response *resp)
{
    (void)ctx;
    char url[512], type[256];
    snprintf(url, sizeof url, "%s%s%s%s", inst.url, req->path, *req->query ? "?" : "", req->query);
    snprintf(type, sizeof type, "Content-Type: %s", req->content_type);
    const char *headers[] = {type, NULL};
    bh_client *c = bh_client_new(NULL);
    int status = 0;
    bh_buf_reset(&resp->body);
    bh_err err = bh_client_request(c, req->method, url, *req->content_type ? headers : NULL,
                                   req->body, req->body_len, &status, &resp->body, NULL);
    bh_client_free(c);
    if (err) {
        bh_http_reply(resp, 502, 0, "the proxy cannot reach the institution");
        return;
    }
    resp->status = status;
    if (proxy_tampering() && strstr(req->path, "/getbaohaninfo"))
        redirect_order(&resp->body);
    if (proxy_tampering() && strncmp(req->path, "/files/", 7) == 0 && resp->body.len > 0)
        resp->body.data[0] ^= 0x20;
}

/* ---- talking to both ------------------------------------------------------------- */

static bh_msg *parse_out(void)
{
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(out.data, out.len, out.len, BH_PARSE_ALLOW_NESTED, &m, NULL), BH_OK);
    return m;
}

static const char *pfield(int64_t id, const char *key)
{
    char path[96];
    snprintf(path, sizeof path, "/admin/platform/applications/%lld", (long long)id);
    return e2e_app_field(&plat, path, key, &out);
}

static const char *ifield(int64_t id, const char *key)
{
    char path[96];
    snprintf(path, sizeof path, "/admin/applications/%lld", (long long)id);
    return e2e_app_field(&inst, path, key, &out);
}

/* The platform's view of one application, whole (for "unchanged" checks). */
static char *pshow(int64_t id)
{
    char path[96];
    snprintf(path, sizeof path, "/admin/platform/applications/%lld", (long long)id);
    CHECK_EQ(e2e_admin(&plat, "GET", path, NULL, &out), 200);
    return strdup(out.data);
}

/* A platform action; returns the institution's code (-1 when refused). */
static int pact(int64_t id, const char *verb, const char *json)
{
    return e2e_plat_act(&plat, id, verb, json, &out);
}

static long iact(int64_t id, const char *verb, const char *json)
{
    char path[128];
    snprintf(path, sizeof path, "/admin/applications/%lld/%s", (long long)id, verb);
    long status = e2e_admin(&inst, "POST", path, json, &out);
    if (status != 200)
        fprintf(stderr, "  institution %s: HTTP %ld %s\n", verb, status, out.data);
    return status;
}

/* The platform sends a new application to `institution`: its id there. */
static int64_t papply(const char *institution, char applyno[32], int want_code)
{
    snprintf(applyno, 32, "PE2E%d%04d", (int)getpid(), ++serial);
    bh_msg *fields = load_example("baohanapply");
    CHECK_EQ(bh_msg_set_str(fields, "applyno", applyno), BH_OK);
    bh_buf body;
    bh_buf_init(&body, 1 << 20);
    CHECK_EQ(bh_buf_addf(&body, "{\"institution\":\"%s\",\"fields\":", institution), BH_OK);
    CHECK_EQ(bh_msg_to_json(fields, 0, &body), BH_OK);
    CHECK_EQ(bh_buf_addch(&body, '}'), BH_OK);
    CHECK_EQ(e2e_admin(&plat, "POST", "/admin/platform/apply", body.data, &out), 200);
    bh_msg *m = parse_out();
    const char *code = m ? bh_msg_text(m, "code") : NULL;
    CHECK_EQ(code ? atoi(code) : -1, want_code);
    bh_msg_free(m);
    int64_t id = atoll(e2e_out_app_field(&out, "id"));
    CHECK(id > 0);
    bh_buf_release(&body);
    bh_msg_free(fields);
    return id;
}

/* The institution's id of an application, from its admin list. */
static int64_t inst_id(const char *applyno)
{
    return e2e_app_id(&inst, "/admin/applications?limit=1000", applyno, &out);
}

/* Waits (polling, up to 60 s) until the platform shows `state`. */
static const char *wait_pstate(int64_t id, const char *state)
{
    const char *now = pfield(id, "state");
    for (int i = 0; i < 1200 && strcmp(now, state) != 0; i++) {
        e2e_sleep_ms(50);
        now = pfield(id, "state");
    }
    return now;
}

/* Both stores agree: the platform's state and the institution's (the
 * platform's "sent" covers applied, submitted and paid), and the guarantee
 * number. */
static void agree(int64_t pid, int64_t iid, const char *pstate, const char *istate)
{
    CHECK_STR(wait_pstate(pid, pstate), pstate);
    CHECK_STR(ifield(iid, "state"), istate);
    CHECK_STR(pfield(pid, "baohanno"), ifield(iid, "baohanno"));
    CHECK_STR(pfield(pid, "applyno"), ifield(iid, "applyno"));
}

static const char *PAYMENT =
    "{\"payername\":\"福建省漳州市恒泰建设工程有限公司\",\"payeraccount\":\"" E2E_ACCOUNT
    "\",\"amount\":\"300.00\",\"paytype\":\"银行转账\",\"proof\":\"iVBORw0KGgoAAAANSUhEUg==\"}";

/* apply → the bidder's form → payment: the application waits for underwriting. */
static int64_t to_paid(char applyno[32], int64_t *iid)
{
    int64_t pid = papply("fi", applyno, 1);
    CHECK_STR(pfield(pid, "state"), "sent");
    const char *payurl = pfield(pid, "payurl");
    CHECK(strncmp(payurl, inst.url, strlen(inst.url)) == 0);
    CHECK_EQ(e2e_submit_form(payurl), 303);
    *iid = inst_id(applyno);
    agree(pid, *iid, "sent", "submitted");
    CHECK_EQ(iact(*iid, "payment", PAYMENT), 200);
    agree(pid, *iid, "sent", "paid");
    return pid;
}

static int64_t to_issued(char applyno[32], int64_t *iid)
{
    int64_t pid = to_paid(applyno, iid);
    CHECK_EQ(iact(*iid, "approve", NULL), 200);
    agree(pid, *iid, "issued", "issued");
    CHECK(strlen(pfield(pid, "baohanno")) > 0);
    return pid;
}

/* How many times `needle` occurs in the platform's view of `pid`. */
static int pcount(int64_t pid, const char *needle)
{
    char *view = pshow(pid);
    int n = 0;
    for (const char *p = view; (p = strstr(p, needle)); p++)
        n++;
    free(view);
    return n;
}

/* A count from the platform's own store, read beside the running daemon. */
static long long pstore_count(const char *sql)
{
    return e2e_store_count(&plat, sql);
}

/* ---- the paths --------------------------------------------------------------------- */

static void test_issue_info_claim(void)
{
    char applyno[32];
    int64_t iid, pid = to_issued(applyno, &iid);
    CHECK_EQ(pcount(pid, "\"iface\":\"baohannotice\""), 1);

    /* getbaohaninfo: every file downloaded and checked. */
    CHECK_EQ(pact(pid, "getbaohaninfo", NULL), 1);
    CHECK_EQ(pcount(pid, "\"ok\":true,\"detail\""), 7);
    CHECK_EQ(pcount(pid, "\"ok\":false,\"detail\""), 0);
    CHECK_STR(pfield(pid, "state"), "issued");
    char *view = pshow(pid);
    CHECK(strstr(view, "\"field\":\"baohanurl\"") && strstr(view, "\"field\":\"baohanfile\"") &&
          strstr(view, "\"field\":\"payfileurl\""));
    CHECK(strstr(view, "\"payeraccount\":\"" E2E_ACCOUNT "\""));
    CHECK(!strstr(view, E2E_ID_CARD)); /* shown masked */
    free(view);
    /* Every call and its answer is audited, the ID number masked, the
     * guarantee's Base64 left out. */
    CHECK(pstore_count("SELECT count(*) FROM audit WHERE direction = 'out'"
                       " AND iface = 'getbaohaninfo' AND detail LIKE '%\"code\":1%'"
                       " AND detail LIKE '%350602********1230%'"
                       " AND detail LIKE '%\"baohanfile\":\"(left out)\"%'") >= 1);
    CHECK_EQ(pstore_count("SELECT count(*) FROM audit WHERE detail LIKE '%" E2E_ID_CARD "%'"), 0);
    CHECK(pstore_count("SELECT count(*) FROM audit WHERE direction = 'out' AND iface = "
                       "'baohanapply' AND code = 1") >= 1);
    CHECK(pstore_count("SELECT count(*) FROM audit WHERE direction = 'in' AND iface = "
                       "'baohannotice' AND code = 1") >= 1);

    /* A claim, then the institution pays it. */
    CHECK_EQ(pact(pid, "claims",
                  "{\"applyusername\":\"陈晓梅\",\"applyuserphone\":\"13906951234\","
                  "\"payeramount\":\"200000.00\",\"Reason\":\"中标人放弃中标\"}"),
             1);
    agree(pid, iid, "claimed", "claimed");
    CHECK_EQ(iact(iid, "claim-paid", "{\"amount\":\"200000.00\",\"account\":\"35050166010700001234\"}"),
             200);
    agree(pid, iid, "claimed", "claimed");
}

static void test_reject(void)
{
    char applyno[32];
    int64_t iid, pid = to_paid(applyno, &iid);
    CHECK_EQ(iact(iid, "reject", "{\"reason\":\"资料不全\"}"), 200);
    agree(pid, iid, "rejected", "rejected");
    CHECK_STR(pfield(pid, "baohanno"), "");
    CHECK_EQ(pcount(pid, "\"applystatus\":\"0\""), 1);
}

static void test_giveup(void)
{
    char applyno[32];
    /* Before issue: accepted on both sides. */
    int64_t pid = papply("fi", applyno, 1);
    int64_t iid = inst_id(applyno);
    CHECK_EQ(pact(pid, "giveup", NULL), 1);
    agree(pid, iid, "given_up", "given_up");
    CHECK_EQ(pact(pid, "giveup", NULL), 1); /* a repeat: same answer, nothing more */
    agree(pid, iid, "given_up", "given_up");

    /* After issue: the institution refuses, both stay issued. */
    pid = to_issued(applyno, &iid);
    CHECK_EQ(pact(pid, "giveup", NULL), 0);
    CHECK(strstr(out.data, "quitapply") != NULL);
    CHECK_STR(pfield(pid, "last_code"), "0");
    agree(pid, iid, "issued", "issued");
}

static void test_withdrawal(void)
{
    char applyno[32];
    int64_t iid, pid = to_issued(applyno, &iid);
    CHECK_EQ(pact(pid, "quitapply", "{\"reason\":\"项目终止，申请退保\"}"), 1);
    agree(pid, iid, "quit_requested", "quit_requested");
    CHECK_EQ(iact(iid, "withdrawal", "{\"decision\":\"approve\"}"), 200);
    agree(pid, iid, "quit", "quit");
    CHECK_EQ(pcount(pid, "\"iface\":\"quitnotice\""), 1);
    /* A claim on a withdrawn guarantee: refused by the institution. */
    CHECK_EQ(pact(pid, "claims", "{\"applyusername\":\"陈晓梅\",\"applyuserphone\":\"139\"}"), 0);
    agree(pid, iid, "quit", "quit");
}

static void test_tampered_file(void)
{
    char applyno[32];
    int64_t iid, pid = to_issued(applyno, &iid);
    pthread_mutex_lock(&px.mu);
    px.tamper = 1;
    pthread_mutex_unlock(&px.mu);
    CHECK_EQ(pact(pid, "getbaohaninfo", NULL), 1);
    pthread_mutex_lock(&px.mu);
    px.tamper = 0;
    pthread_mutex_unlock(&px.mu);
    /* The order form's bytes changed on the way: that check, and only that
     * one, fails, with both MD5s recorded. */
    CHECK_EQ(pcount(pid, "\"ok\":false,\"detail\""), 1);
    CHECK_EQ(pcount(pid, "\"ok\":true,\"detail\""), 6);
    char *view = pshow(pid);
    const char *order = strstr(view, "\"field\":\"orderurl\"");
    const char *bad = strstr(view, "\"ok\":false,\"detail\"");
    const char *next = order ? strstr(order + 1, "\"field\":") : NULL;
    CHECK(order && bad > order && (!next || bad < next));
    CHECK(order && strstr(order, "\"detail\":\"the MD5 of the") != NULL);
    CHECK(order && strstr(order, px.self) != NULL);
    free(view);
    agree(pid, iid, "issued", "issued");
    /* Fetched again without the tampering: all good, the last fetch wins. */
    CHECK_EQ(pact(pid, "getbaohaninfo", NULL), 1);
    CHECK_EQ(pcount(pid, "\"ok\":false,\"detail\""), 0);
}

/* The pending notices at the institution whose attempts failed. */
static int failed_pending(void)
{
    CHECK_EQ(e2e_admin(&inst, "GET", "/admin/outbox?state=pending", NULL, &out), 200);
    int n = 0;
    for (const char *p = out.data; (p = strstr(p, "\"last_error\":\"")); p++)
        n++;
    return n;
}

static void test_platform_down(void)
{
    char a[32], b[32];
    int64_t aiid, biid;
    int64_t apid = to_paid(a, &aiid);
    int64_t bpid = to_issued(b, &biid);
    CHECK_EQ(pact(bpid, "quitapply", "{\"reason\":\"项目终止\"}"), 1);
    agree(bpid, biid, "quit_requested", "quit_requested");

    CHECK(WIFEXITED(e2e_daemon_signal(&plat, SIGTERM)));
    CHECK_EQ(iact(aiid, "approve", NULL), 200);
    CHECK_EQ(iact(biid, "withdrawal", "{\"decision\":\"approve\"}"), 200);
    /* Both notices queue, and are really tried while the platform is away. */
    for (int i = 0; i < 600 && failed_pending() < 2; i++)
        e2e_sleep_ms(50);
    CHECK_EQ(failed_pending(), 2);

    e2e_daemon_run(&plat);
    agree(apid, aiid, "issued", "issued");
    agree(bpid, biid, "quit", "quit");
    for (int i = 0; i < 600 && failed_pending() > 0; i++)
        e2e_sleep_ms(50);
    CHECK_EQ(failed_pending(), 0);
    CHECK_EQ(pcount(apid, "\"iface\":\"baohannotice\""), 1);
    CHECK_EQ(pcount(bpid, "\"iface\":\"baohannotice\""), 1);
    CHECK_EQ(pcount(bpid, "\"iface\":\"quitnotice\""), 1);

    /* A redelivery (as after a lost answer) is answered as the first and
     * changes nothing. */
    char *before = pshow(bpid);
    bh_msg *n = load_example("quitnotice"), *answer = NULL;
    CHECK_EQ(bh_msg_set_str(n, "applyno", b), BH_OK);
    CHECK_EQ(bh_msg_set_str(n, "baohanno", pfield(bpid, "baohanno")), BH_OK);
    CHECK_EQ(e2e_call(&plat, "quitnotice", n, &answer), 1);
    char *after = pshow(bpid);
    CHECK_STR(after, before);
    free(before);
    free(after);
    bh_msg_free(answer);
    bh_msg_free(n);
}

/* ---- the platform's refusals ------------------------------------------------------- */

/* Sends a notice; checks code 0, the exact message, and that the platform's
 * view of `pid` (and its list) did not change. */
static void refused(const char *appkey, const char *iface, bh_msg *notice, int64_t pid,
                    const char *message)
{
    char *before = pshow(pid);
    CHECK_EQ(e2e_admin(&plat, "GET", "/admin/platform/applications?limit=10000", NULL, &out), 200);
    char *list_before = strdup(out.data);
    bh_msg *answer = NULL;
    CHECK_EQ(e2e_call_as(&plat, appkey, iface, notice, &answer), 0);
    const char *got = answer ? bh_msg_text(answer, "message") : NULL;
    CHECK_STR(got, message);
    char *after = pshow(pid);
    CHECK_STR(after, before);
    CHECK_EQ(e2e_admin(&plat, "GET", "/admin/platform/applications?limit=10000", NULL, &out), 200);
    CHECK_STR(out.data, list_before);
    free(before);
    free(after);
    free(list_before);
    bh_msg_free(answer);
}

static bh_msg *notice(const char *iface, const char *applyno, const char *baohanno,
                      const char *status)
{
    bh_msg *m = load_example(iface);
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "baohanno", baohanno), BH_OK);
    if (status)
        CHECK_EQ(bh_msg_set_str(m, "applystatus", status), BH_OK);
    return m;
}

static void test_refusals(void)
{
    char msg[512], applyno[32], other[32];
    int64_t iid, pid = to_issued(applyno, &iid);
    char baohanno[64];
    snprintf(baohanno, sizeof baohanno, "%s", pfield(pid, "baohanno"));

    /* Never sent. */
    bh_msg *m = notice("baohannotice", "NEVER-SENT-1", "BH1", "1");
    refused(E2E_APPKEY, "baohannotice", m, pid,
            "applyno: no application NEVER-SENT-1 was sent to this institution");
    bh_msg_free(m);
    /* Not a configured institution. */
    m = notice("baohannotice", applyno, baohanno, "1");
    refused("FI999", "baohannotice", m, pid, "appkey: unknown appkey: not a configured institution");
    bh_msg_free(m);
    /* A second, different baohannotice. */
    m = notice("baohannotice", applyno, "BH-OTHER-1", "1");
    snprintf(msg, sizeof msg,
             "applyno: %s already has a different baohannotice (state issued); a second one is "
             "refused",
             applyno);
    refused(E2E_APPKEY, "baohannotice", m, pid, msg);
    bh_msg_free(m);
    /* quitnotice without a quitapply, and with the wrong guarantee number. */
    m = notice("quitnotice", applyno, baohanno, NULL);
    snprintf(msg, sizeof msg, "applyno: no withdrawal of %s was requested (state issued)", applyno);
    refused(E2E_APPKEY, "quitnotice", m, pid, msg);
    bh_msg_free(m);
    m = notice("quitnotice", applyno, "BH-WRONG", NULL);
    snprintf(msg, sizeof msg, "baohanno: BH-WRONG is not the guarantee number of application %s",
             applyno);
    refused(E2E_APPKEY, "quitnotice", m, pid, msg);
    bh_msg_free(m);
    /* An approval of an application given up. */
    int64_t gpid = papply("fi", other, 1);
    CHECK_EQ(pact(gpid, "giveup", NULL), 1);
    m = notice("baohannotice", other, "BH-LATE-1", "1");
    snprintf(msg, sizeof msg,
             "applyno: %s was given up (giveupnotice accepted by the institution); it cannot be "
             "issued",
             other);
    refused(E2E_APPKEY, "baohannotice", m, gpid, msg);
    bh_msg_free(m);
    /* A rejection that crossed the give-up: accepted, recorded, the state stays. */
    m = notice("baohannotice", other, "无", "0");
    CHECK_EQ(e2e_call(&plat, "baohannotice", m, NULL), 1);
    CHECK_STR(pfield(gpid, "state"), "given_up");
    CHECK_EQ(pcount(gpid, "\"iface\":\"baohannotice\""), 1);
    bh_msg_free(m);
    /* An approval without a guarantee number. */
    char sent[32];
    int64_t spid = papply("fi", sent, 1);
    m = notice("baohannotice", sent, "无", "1");
    refused(E2E_APPKEY, "baohannotice", m, spid,
            "baohanno: an approved guarantee (applystatus 1) needs its number");
    bh_msg_free(m);

    /* Sent to another institution (which refused it: it does not know the
     * appkey): a notice from this one is one it never sent here, and one
     * from that one contradicts the refusal. */
    int64_t opid = papply("other", other, 0);
    CHECK_STR(pfield(opid, "state"), "refused");
    m = notice("baohannotice", other, "BH-X", "1");
    snprintf(msg, sizeof msg, "applyno: no application %s was sent to this institution", other);
    refused(E2E_APPKEY, "baohannotice", m, opid, msg);
    snprintf(msg, sizeof msg,
             "applyno: the institution refused application %s (baohanapply answered code 0); a "
             "notice for it contradicts that",
             other);
    refused(OTHER_APPKEY, "baohannotice", m, opid, msg);
    bh_msg_free(m);

    /* The same applyno to the same institution with other content. */
    bh_msg *fields = load_example("baohanapply");
    CHECK_EQ(bh_msg_set_str(fields, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(fields, "bzjamount", "1.00"), BH_OK);
    bh_buf body;
    bh_buf_init(&body, 1 << 20);
    CHECK_EQ(bh_buf_addstr(&body, "{\"institution\":\"fi\",\"fields\":"), BH_OK);
    CHECK_EQ(bh_msg_to_json(fields, 0, &body), BH_OK);
    CHECK_EQ(bh_buf_addch(&body, '}'), BH_OK);
    CHECK_EQ(e2e_admin(&plat, "POST", "/admin/platform/apply", body.data, &out), 409);
    CHECK(strstr(out.data, "\"error\":\"applyno: ") != NULL);
    bh_buf_release(&body);
    bh_msg_free(fields);
    /* An unknown institution, and bad fields: named, nothing sent. */
    CHECK_EQ(e2e_admin(&plat, "POST", "/admin/platform/apply",
                       "{\"institution\":\"nobody\",\"fields\":{\"applyno\":\"X\"}}", &out),
             400);
    CHECK(strstr(out.data, "\"field\":\"institution\"") != NULL);
    CHECK_EQ(e2e_admin(&plat, "POST", "/admin/platform/apply",
                       "{\"institution\":\"fi\",\"fields\":{\"applyno\":\"X\"}}", &out),
             400);
    CHECK(strstr(out.data, "\"field\":\"biddername\"") != NULL);
    agree(pid, iid, "issued", "issued");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bh_buf_init(&out, (size_t)64 << 20);
    pthread_mutex_init(&px.mu, NULL);
    e2e_daemon_prepare(&plat);
    /* The institution notifies the platform directly; the platform reaches
     * the institution through the proxy. */
    e2e_daemon_start(&inst, plat.port, NULL);
    bh_http_options o = {.listen = "127.0.0.1:0",
                         .max_body = 1 << 20,
                         .threads = 8,
                         .handler = proxy_handle,
                         .ctx = &px};
    if (bh_http_start(&o, &px.server, NULL) != BH_OK) {
        fprintf(stderr, "e2e: the proxy cannot listen\n");
        return 2;
    }
    snprintf(px.self, sizeof px.self, "http://127.0.0.1:%d", bh_http_port(px.server));
    char peers[512];
    snprintf(peers, sizeof peers, "fi %s %s other %s %s", E2E_APPKEY, px.self, OTHER_APPKEY,
             px.self);
    e2e_write_platform_config(&plat, peers);
    e2e_daemon_run(&plat);

    RUN(test_issue_info_claim);
    RUN(test_reject);
    RUN(test_giveup);
    RUN(test_withdrawal);
    RUN(test_tampered_file);
    RUN(test_platform_down);
    RUN(test_refusals);

    e2e_daemon_cleanup(&plat);
    e2e_daemon_cleanup(&inst);
    bh_http_stop(px.server);
    pthread_mutex_destroy(&px.mu);
    bh_buf_release(&out);
    curl_global_cleanup();
    return CHECK_DONE();
}
