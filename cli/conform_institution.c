/* baohan conform --role institution: a conformance suite that tests any
 * implementation of the institution side over the network, one independent check at a time, and
 * says for each failure what was sent, what came back and which rule of
 * PROTOCOL.md it breaks.
 *
 * Every check uses its own applyno ("CF<time>-<pid>-<n>"), so checks do not
 * depend on each other and reruns against the same server do not collide.
 * Broken requests are made by sealing a valid one and then changing the wire
 * message (and re-signing it where the point is not the signature). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

/* ---- building requests ------------------------------------------------------------ */

static const char *const apply_fields[][2] = {
    {"biddername", "福建省漳州市恒泰建设工程有限公司"},
    {"biddercode", "91350602MA2Y3K7P18"},
    {"biaoduanno", "ZZGC-2026-0412-01"},
    {"biaoduanname", "漳州市芗城区九龙江西岸道路提升工程施工第一标段"},
    {"bzjamount", "200000.00"},
    {"zbr", "漳州市芗城区城市建设投资有限公司"},
    {"zbrorgnum", "91350600154321876F"},
    {"approvalcode", "漳芗发改审〔2026〕118号"},
    {"projectcode", "2026-350602-48-01-012345"},
    {"projectno", "ZZGC-2026-0412"},
    {"projectname", "漳州市芗城区九龙江西岸道路提升工程"},
    {"reckonprice", "18650000.00"},
    {"tendererbankcode", "35050166010700001234"},
    {"tendereropenbank", "中国建设银行股份有限公司漳州芗城支行"},
    {"tendererbankaccount", "漳州市芗城区城市建设投资有限公司"},
    {"tenderercontact", "林建国"},
    {"tenderercontacttel", "0596-2031234"},
    {"citycode", "350602"},
    {"projecttype", "施工"},
    {"bzjendtime", NULL},  /* now + 20 days */
    {"kaibiaotime", NULL}, /* now + 23 days */
    {"tbyxq", "90"},
    {"tendernoticeurl", "https://ggzy.example.gov.cn/zbgg/2026/ZZGC-2026-0412.html"},
    {"tenderfileurl", "https://ggzy.example.gov.cn/zbwj/2026/ZZGC-2026-0412.zip"},
};

bh_msg *conform_plain_for(const char *iface, const char *applyno)
{
    bh_msg *m = bh_msg_new();
    bh_err err = m ? bh_msg_set_str(m, "applyno", applyno) : BH_ENOMEM;
    if (strcmp(iface, "baohanapply") == 0) {
        char t[BH_TIME_TEXT_LEN + 1];
        for (size_t i = 0; !err && i < sizeof apply_fields / sizeof apply_fields[0]; i++) {
            const char *v = apply_fields[i][1];
            if (!v) {
                int days = strcmp(apply_fields[i][0], "bzjendtime") == 0 ? 20 : 23;
                bh_time_format(bh_time_now() + (int64_t)days * 86400, t);
                v = t;
            }
            err = bh_msg_set_str(m, apply_fields[i][0], v);
        }
    } else if (strcmp(iface, "giveupnotice") != 0) {
        err = err ? err : bh_msg_set_str(m, "baohanno", "CF-NOT-ISSUED");
        if (strcmp(iface, "quitapply") == 0)
            err = err ? err : bh_msg_set_str(m, "reason", "conformance check");
        if (strcmp(iface, "claimsnotice") == 0) {
            err = err ? err : bh_msg_set_str(m, "applyusername", "张三");
            err = err ? err : bh_msg_set_str(m, "applyuserphone", "13800000000");
        }
    }
    if (err) {
        bh_msg_free(m);
        return NULL;
    }
    return m;
}

/* A fresh application in state applied; 0 (and a failed check) when the
 * server did not accept it. */
static int setup_applied(conform *c, const char *name, const char *rule, char applyno[64])
{
    conform_next_applyno(c, applyno);
    bh_msg *plain = conform_plain_for("baohanapply", applyno);
    exchange e;
    conform_ex_init(&e);
    int ok = conform_send_plain(c, "baohanapply", plain, bh_time_now(), &e) == 1;
    if (!ok)
        conform_record(c, name, 0, rule, &e,
                       "setup: a valid baohanapply was not accepted (code 1)");
    conform_ex_release(&e);
    bh_msg_free(plain);
    return ok;
}

/* ---- the checks --------------------------------------------------------------------- */

#define R_APPLY "PROTOCOL.md §7.1, §2: baohanapply answers code 1 and Payurl, an http(s) URL"
#define R_IDEMP "PROTOCOL.md §8 (idempotency): the same applyno and content get the same Payurl"
#define R_CONFLICT "PROTOCOL.md §8 (idempotency): the same applyno with other content is refused"
#define R_DECRYPT "PROTOCOL.md §5: a field that fails to decrypt is refused, the message naming it"
#define R_REPLAY "PROTOCOL.md §6: a replay of an idempotent request is answered as the first"
#define R_GIVEUP "PROTOCOL.md §8 (state rules): giveupnotice is accepted before issue, repeatable"
#define R_NOAPP "PROTOCOL.md §8 (state rules): a notice for an unknown application is refused"
#define R_NOTISSUED "PROTOCOL.md §8 (state rules): this interface needs an issued guarantee"
#define R_REJECTED "PROTOCOL.md §8 (state rules): quitapply only on an issued guarantee"

static void check_happy(conform *c)
{
    const char *name = "baohanapply: happy path";
    char applyno[64];
    conform_next_applyno(c, applyno);
    bh_msg *plain = conform_plain_for("baohanapply", applyno);
    exchange e;
    conform_ex_init(&e);
    int code = conform_send_plain(c, "baohanapply", plain, bh_time_now(), &e);
    const char *payurl = conform_text_nocase(&e, "Payurl");
    conform_record(c, name, code == 1 && conform_is_http_url(payurl), R_APPLY, &e,
                   code != 1 ? "expected code 1" : "expected Payurl, an http:// or https:// URL");
    conform_ex_release(&e);
    bh_msg_free(plain);
}

/* Sends the same content twice, 10 s apart (so timestamp and sign differ); `change`
 * makes the second one different business content. */
static void check_retry(conform *c, const char *name, const char *rule, int change)
{
    char applyno[64];
    conform_next_applyno(c, applyno);
    bh_msg *plain = conform_plain_for("baohanapply", applyno);
    exchange e1, e2;
    conform_ex_init(&e1);
    conform_ex_init(&e2);
    int64_t now = bh_time_now();
    int code1 = conform_send_plain(c, "baohanapply", plain, now - 10, &e1);
    char first[1024];
    const char *p1 = conform_text_nocase(&e1, "Payurl");
    snprintf(first, sizeof first, "%s", p1 ? p1 : "");
    if (code1 != 1) {
        conform_record(c, name, 0, rule, &e1,
                       "setup: the first baohanapply was not accepted (code 1)");
    } else {
        if (change && bh_msg_set_str(plain, "bzjamount", "300000.00"))
            c->oom = 1;
        int code2 = conform_send_plain(c, "baohanapply", plain, now, &e2);
        const char *p2 = conform_text_nocase(&e2, "Payurl");
        if (change)
            conform_record(c, name, code2 == 0, rule, &e2, "expected code 0 for other content");
        else
            conform_record(c, name, code2 == 1 && p2 && strcmp(p2, first) == 0, rule, &e2,
                           code2 != 1 ? "expected code 1 for the retry"
                                      : "expected the first Payurl");
    }
    conform_ex_release(&e1);
    conform_ex_release(&e2);
    bh_msg_free(plain);
}

/* The institution's conform_fresh_fn: every request gets a new applyno, so a
 * baohanapply is right whatever `accept` says, and a followup is refused. */
static bh_msg *fresh_wire(conform *c, const char *name, const char *rule, const char *iface,
                          int64_t now, int accept)
{
    (void)accept;
    char applyno[64];
    conform_next_applyno(c, applyno);
    bh_msg *plain = conform_plain_for(iface, applyno);
    bh_msg *wire = conform_seal_or_fail(c, name, rule, iface, plain, now);
    bh_msg_free(plain);
    return wire;
}

static void check_decrypt(conform *c)
{
    const char *name = "baohanapply: undecryptable projectname named";
    bh_msg *wire = fresh_wire(c, name, R_DECRYPT, "baohanapply", bh_time_now(), 0);
    if (!wire)
        return;
    /* Base64 of 3 bytes: no ciphertext is that long, whatever the key. */
    if (bh_msg_set_str(wire, "projectname", "AAAA") == BH_OK && conform_resign(c, wire))
        conform_expect_refusal(c, name, R_DECRYPT, "baohanapply", wire, "projectname");
    bh_msg_free(wire);
}

static void check_replay(conform *c)
{
    const char *name = "replay: the same signed request answered as the first";
    bh_msg *wire = fresh_wire(c, name, R_REPLAY, "baohanapply", bh_time_now(), 0);
    if (!wire)
        return;
    exchange e1, e2;
    conform_ex_init(&e1);
    conform_ex_init(&e2);
    conform_post_msg(c, "baohanapply", wire, &e1);
    if (conform_code_of(&e1) != 1) {
        conform_record(c, name, 0, R_REPLAY, &e1,
                       "setup: the first request was not accepted (code 1)");
    } else {
        conform_post_msg(c, "baohanapply", wire, &e2);
        const char *p1 = conform_text_nocase(&e1, "Payurl"),
                   *p2 = conform_text_nocase(&e2, "Payurl");
        conform_record(c, name, conform_code_of(&e2) == 1 && p1 && p2 && strcmp(p1, p2) == 0,
                       R_REPLAY, &e2,
                       "expected the first answer again: code 1 and the same Payurl");
    }
    conform_ex_release(&e1);
    conform_ex_release(&e2);
    bh_msg_free(wire);
}

static void check_states(conform *c)
{
    const char *name = "giveupnotice: never applied refused";
    bh_msg *wire = fresh_wire(c, name, R_NOAPP, "giveupnotice", bh_time_now(), 0);
    if (wire)
        conform_expect_refusal(c, name, R_NOAPP, "giveupnotice", wire, NULL);
    bh_msg_free(wire);

    static const char *const need_issue[] = {"quitapply", "claimsnotice", "getbaohaninfo"};
    for (size_t i = 0; i < sizeof need_issue / sizeof need_issue[0]; i++) {
        char n[96], applyno[64];
        snprintf(n, sizeof n, "%s: application not issued refused", need_issue[i]);
        if (!setup_applied(c, n, R_NOTISSUED, applyno))
            continue;
        bh_msg *plain = conform_plain_for(need_issue[i], applyno);
        wire = conform_seal_or_fail(c, n, R_NOTISSUED, need_issue[i], plain, bh_time_now());
        if (wire)
            conform_expect_refusal(c, n, R_NOTISSUED, need_issue[i], wire, NULL);
        bh_msg_free(wire);
        bh_msg_free(plain);
    }

    name = "giveupnotice: applied accepted, repeat accepted";
    char applyno[64];
    if (!setup_applied(c, name, R_GIVEUP, applyno))
        return;
    bh_msg *plain = conform_plain_for("giveupnotice", applyno);
    exchange e;
    conform_ex_init(&e);
    int64_t now = bh_time_now();
    if (conform_send_plain(c, "giveupnotice", plain, now - 5, &e) != 1)
        conform_record(c, name, 0, R_GIVEUP, &e, "expected code 1 for the first giveupnotice");
    else
        conform_record(c, name, conform_send_plain(c, "giveupnotice", plain, now, &e) == 1,
                       R_GIVEUP, &e, "expected code 1 for the repeated giveupnotice");
    conform_ex_release(&e);
    bh_msg_free(plain);
}

/* ---- with an admin API: a rejected application -------------------------------------- */

/* bh_json_array_each's callback for admin_find: the id of the element whose
 * applyno is wanted. */
struct wanted_app {
    const char *applyno;
    long long id;
};

static bh_err match_applyno(const char *element, size_t len, void *ctx)
{
    struct wanted_app *w = ctx;
    bh_msg *m = NULL;
    if (bh_msg_parse(element, len, len, BH_PARSE_ALLOW_NESTED, &m, NULL) == BH_OK) {
        const char *applyno = bh_msg_text(m, "applyno"), *id = bh_msg_text(m, "id");
        if (applyno && id && strcmp(applyno, w->applyno) == 0)
            w->id = strtoll(id, NULL, 10);
    }
    bh_msg_free(m);
    return BH_OK;
}

static long long admin_find(conform *c, const char *applyno)
{
    bh_buf raw;
    bh_buf_init(&raw, BH_BUF_MAX_DEFAULT);
    int status = 0;
    bh_msg *m = conform_admin_json(c, "GET", "/admin/applications?limit=10000", NULL, &status,
                                   &raw);
    const bh_field *apps = m ? bh_msg_get(m, "applications") : NULL;
    struct wanted_app w = {applyno, 0};
    if (status == 200 && apps && apps->type == BH_JARRAY &&
        bh_json_array_each(apps->value, apps->value_len, match_applyno, &w, NULL, "applications"))
        w.id = 0;
    bh_msg_free(m);
    bh_buf_release(&raw);
    return w.id;
}

static void check_rejected(conform *c)
{
    const char *name = "quitapply: rejected application refused (admin API)";
    char applyno[64], path[128];
    if (!setup_applied(c, name, R_REJECTED, applyno))
        return;
    long long id = admin_find(c, applyno);
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    snprintf(path, sizeof path, "/admin/applications/%lld/reject", id);
    if (id <= 0 ||
        conform_admin_call(c, "POST", path, "{\"reason\":\"conformance check\"}", &out) != 200) {
        conform_record(c, name, 0, R_REJECTED, NULL,
                       "setup: the admin API did not find or reject the application");
    } else {
        bh_msg *plain = conform_plain_for("quitapply", applyno);
        bh_msg *wire = conform_seal_or_fail(c, name, R_REJECTED, "quitapply", plain, bh_time_now());
        if (wire)
            conform_expect_refusal(c, name, R_REJECTED, "quitapply", wire, NULL);
        bh_msg_free(wire);
        bh_msg_free(plain);
    }
    bh_buf_release(&out);
}

/* ---- an issued guarantee: through the admin API, or an operator ------------------------ */

#define R_INFO                                                                                     \
    "PROTOCOL.md §7.3: getbaohaninfo of an issued guarantee: code 1, data with every field"
#define R_FILES "PROTOCOL.md §7.3: each file URL serves the file, its upper-case MD5 as in data"
#define R_B64 "PROTOCOL.md §7.3: baohanfile is the Base64 of the bytes served at baohanurl"
#define R_WRONGNO "PROTOCOL.md §8 (state rules): getbaohaninfo only when applyno and baohanno match"
#define R_LATEGIVEUP "PROTOCOL.md §8 (state rules): giveupnotice is refused after issue"
#define R_CLAIM "PROTOCOL.md §7.7, §8: claimsnotice on an issued guarantee accepted, repeat too"
#define R_CLAIMOTHER "PROTOCOL.md §8 (idempotency): another claim for the same applyno is refused"
#define R_QUITCLAIMED "PROTOCOL.md §8 (state rules): quitapply only on an issued guarantee"
#define R_QUIT "PROTOCOL.md §7.5, §8: quitapply on an issued guarantee accepted, repeat too"

/* The checks on the first issued guarantee, in order, then the one on the second. */
enum {
    IC_INFO,
    IC_FILE0, /* one per entry of conform_files */
    IC_B64 = IC_FILE0 + CONFORM_FILES,
    IC_WRONGNO,
    IC_GIVEUP,
    IC_CLAIM,
    IC_CLAIMOTHER,
    IC_QUITCLAIMED,
    IC_FIRST_COUNT,
    IC_QUIT = IC_FIRST_COUNT,
    IC_COUNT
};

static const char *const issued_checks[IC_COUNT][2] = {
    {"getbaohaninfo: issued guarantee, code 1 and a valid data object", R_INFO},
    {"getbaohaninfo: baohanurl downloads, its MD5 is guaranteemd5", R_FILES},
    {"getbaohaninfo: orderurl downloads, its MD5 is ordermd5", R_FILES},
    {"getbaohaninfo: qualficationfileurl downloads, its MD5 is qualficationfilemd5", R_FILES},
    {"getbaohaninfo: businesslicenseurl downloads, its MD5 is businesslicensemd5", R_FILES},
    {"getbaohaninfo: guaranteexmlurl downloads, its MD5 is guaranteexmlmd5", R_FILES},
    {"getbaohaninfo: payfileurl downloads", R_FILES},
    {"getbaohaninfo: baohanfile is the file at baohanurl", R_B64},
    {"getbaohaninfo: wrong baohanno refused", R_WRONGNO},
    {"giveupnotice: issued guarantee refused", R_LATEGIVEUP},
    {"claimsnotice: issued accepted, repeat accepted", R_CLAIM},
    {"claimsnotice: a different claim refused", R_CLAIMOTHER},
    {"quitapply: claimed guarantee refused", R_QUITCLAIMED},
    {"quitapply: issued accepted, repeat accepted", R_QUIT},
};

#define BASIC_ACCOUNT "6222020200112233445" /* the bidder's basic account, declared on the page */

static const char tiny_pdf[] = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/* The bidder completes the pay page: every detail, a PDF as the qualification
 * file and a PNG as the business licence. Returns the HTTP status (0: none). */
static int submit_page(conform *c, const char *payurl)
{
    static const char *const fields[][2] = {
        {"biddercontact", "王小明"},
        {"biddercontacttel", "13906951234"},
        {"bidderaddress", "福建省漳州市芗城区胜利西路1号"},
        {"bidderemail", "wang@example.com"},
        {"bidderpersonname", "陈大海"},
        {"bidderpersoncard", "350602198001011230"},
        {"bidderpersontel", "13800000000"},
        {"basicbank", "中国建设银行漳州分行"},
        {"basicaccount", BASIC_ACCOUNT},
    };
    static const char png[] = "\x89PNG\r\n\x1A\n\0\0\0\rIHDR";
    bh_buf body, page;
    bh_buf_init(&body, 1 << 20);
    bh_buf_init(&page, BH_BUF_MAX_DEFAULT);
    bh_err err = BH_OK;
    for (size_t i = 0; !err && i < sizeof fields / sizeof *fields; i++)
        err =
            bh_buf_addf(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
                        fields[i][0], fields[i][1]);
    if (!err)
        err = bh_buf_addstr(&body, "--XyZ\r\nContent-Disposition: form-data; "
                                   "name=\"qualification\"; filename=\"资质.pdf\"\r\n\r\n");
    if (!err)
        err = bh_buf_add(&body, tiny_pdf, sizeof tiny_pdf - 1);
    if (!err)
        err = bh_buf_addstr(&body, "\r\n--XyZ\r\nContent-Disposition: form-data; "
                                   "name=\"business_license\"; filename=\"license.png\"\r\n\r\n");
    if (!err)
        err = bh_buf_add(&body, png, sizeof png - 1);
    if (!err)
        err = bh_buf_addstr(&body, "\r\n--XyZ--\r\n");
    int status = 0;
    if (!err) {
        const char *headers[] = {"Content-Type: multipart/form-data; boundary=XyZ", NULL};
        bh_diag d = BH_DIAG_INIT;
        if (bh_client_request(c->client, "POST", payurl, headers, body.data, body.len, &status,
                              &page, &d) != BH_OK)
            status = 0;
        bh_diag_release(&d);
    } else {
        c->oom = 1;
    }
    bh_buf_release(&body);
    bh_buf_release(&page);
    return status;
}

/* A text field of the application `id` as the admin API shows it; 0 when absent. */
static int admin_show(conform *c, long long id, const char *key, char *out, size_t n)
{
    char path[96];
    snprintf(path, sizeof path, "/admin/applications/%lld", id);
    return conform_admin_show(c, path, key, out, n);
}

/* The payment of the premium `amount` from the declared basic account. */
static int admin_pay(conform *c, long long id, const char *amount)
{
    bh_buf b64, json, out;
    bh_buf_init(&b64, 4096);
    bh_buf_init(&json, 8192);
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    char path[96];
    snprintf(path, sizeof path, "/admin/applications/%lld/payment", id);
    int ok = bh_base64_encode(tiny_pdf, sizeof tiny_pdf - 1, &b64) == BH_OK &&
             bh_buf_addstr(&json, "{") == BH_OK &&
             conform_add_member(&json, "payername", apply_fields[0][1], 0) &&
             conform_add_member(&json, "payeraccount", BASIC_ACCOUNT, 1) &&
             conform_add_member(&json, "amount", amount, 1) &&
             conform_add_member(&json, "paytype", "银行转账", 1) &&
             conform_add_member(&json, "proof", b64.data, 1) && bh_buf_addch(&json, '}') == BH_OK;
    ok = ok && conform_admin_call(c, "POST", path, json.data, &out) == 200;
    bh_buf_release(&b64);
    bh_buf_release(&json);
    bh_buf_release(&out);
    return ok;
}

/* apply's Payurl → the page → payment → approval, through the admin API.
 * Returns 1 with the guarantee number, or 0 with the reason in `why`. */
static int admin_issue(conform *c, const char *applyno, const char *payurl, char baohanno[128],
                       char *why, size_t wn)
{
    char premium[64], path[96];
    int status = submit_page(c, payurl);
    if (status != 303 && (status < 200 || status > 299)) {
        snprintf(why, wn, "setup: the bidder's page at %.200s did not accept the form (HTTP %d)",
                 payurl, status);
        return 0;
    }
    long long id = admin_find(c, applyno);
    if (id <= 0) {
        snprintf(why, wn, "setup: the admin API does not list application %s", applyno);
        return 0;
    }
    if (!admin_show(c, id, "premium", premium, sizeof premium) || !admin_pay(c, id, premium)) {
        snprintf(why, wn, "setup: the admin API did not record the premium of application %lld",
                 id);
        return 0;
    }
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    snprintf(path, sizeof path, "/admin/applications/%lld/approve", id);
    status = conform_admin_call(c, "POST", path, NULL, &out);
    bh_buf_release(&out);
    if (status != 200 || !admin_show(c, id, "baohanno", baohanno, 128)) {
        snprintf(why, wn, "setup: the admin API did not approve application %lld (HTTP %d)", id,
                 status);
        return 0;
    }
    return 1;
}

/* getbaohaninfo of applyno/baohanno; returns its code. */
static int send_info(conform *c, const char *applyno, const char *baohanno, exchange *e)
{
    bh_msg *plain = bh_msg_new();
    if (!plain || bh_msg_set_str(plain, "applyno", applyno) ||
        bh_msg_set_str(plain, "baohanno", baohanno)) {
        c->oom = 1;
        bh_msg_free(plain);
        return -1;
    }
    int code = conform_send_plain(c, "getbaohaninfo", plain, bh_time_now(), e);
    bh_msg_free(plain);
    return code;
}

/* Without an admin API: asks the operator to issue the guarantee and polls
 * getbaohaninfo every 2 s (once the guarantee number has been given on
 * standard input) until code 1 or the deadline. Returns 1, or -1 on time out. */
static int wait_issue(conform *c, const char *applyno, const char *payurl, char baohanno[128])
{
    if (!c->deadline)
        c->deadline = bh_time_now() + c->wait;
    fprintf(stderr,
            "conform: waiting up to %lld s: complete the bidder's page at %s, record the premium, "
            "and approve application %s; then write its guarantee number (baohanno) on a line "
            "of standard input\n",
            (long long)(c->deadline - bh_time_now()), payurl, applyno);
    char line[128];
    size_t len = 0;
    baohanno[0] = '\0';
    for (;;) {
        int64_t left = c->deadline - bh_time_now();
        if (left <= 0)
            return -1;
        int ms = left < 2 ? (int)left * 1000 : 2000;
        struct pollfd p = {0, POLLIN, 0};
        if (c->stdin_open && !baohanno[0] && poll(&p, 1, ms) > 0) {
            ssize_t n = read(0, line + len, sizeof line - 1 - len);
            if (n <= 0)
                c->stdin_open = 0;
            else
                len += (size_t)n;
            line[len] = '\0';
            char *nl = strchr(line, '\n');
            if (nl || n <= 0 || len == sizeof line - 1) {
                if (nl)
                    *nl = '\0';
                line[strcspn(line, "\r \t")] = '\0';
                snprintf(baohanno, 128, "%s", line);
                len = 0;
                line[0] = '\0';
            }
        } else {
            struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (baohanno[0]) {
            exchange e;
            conform_ex_init(&e);
            int code = send_info(c, applyno, baohanno, &e);
            conform_ex_release(&e);
            if (code == 1)
                return 1;
        }
    }
}

/* A new application issued; 1 with applyno and baohanno, 0 (setup failed, `why`
 * says why) or -1 (the operator did not issue it in time). */
static int obtain_issued(conform *c, char applyno[64], char baohanno[128], char *why, size_t wn)
{
    conform_next_applyno(c, applyno);
    bh_msg *plain = conform_plain_for("baohanapply", applyno);
    exchange e;
    conform_ex_init(&e);
    int code = conform_send_plain(c, "baohanapply", plain, bh_time_now(), &e);
    const char *p = conform_text_nocase(&e, "Payurl");
    char payurl[1024];
    snprintf(payurl, sizeof payurl, "%s", p ? p : "");
    conform_ex_release(&e);
    bh_msg_free(plain);
    if (code != 1 || !conform_is_http_url(payurl)) {
        snprintf(why, wn, "setup: a valid baohanapply was not accepted (code 1 and a Payurl)");
        return 0;
    }
    if (c->admin_url)
        return admin_issue(c, applyno, payurl, baohanno, why, wn);
    int got = wait_issue(c, applyno, payurl, baohanno);
    if (got < 0)
        snprintf(why, wn, "application %s was not issued within --wait %lld s", applyno,
                 (long long)c->wait);
    return got;
}

/* Records checks [from, to) of issued_checks as failed (setup) or skipped. */
static void record_range(conform *c, int from, int to, int got, const char *why)
{
    for (int i = from; i < to; i++) {
        if (got < 0)
            conform_record_skip(c, issued_checks[i][0], issued_checks[i][1], why);
        else
            conform_record(c, issued_checks[i][0], 0, issued_checks[i][1], NULL, why);
    }
}

static void check_info(conform *c, const char *applyno, const char *baohanno)
{
    exchange e;
    conform_ex_init(&e);
    int code = send_info(c, applyno, baohanno, &e);
    const bh_field *data = e.answer ? bh_msg_get_nocase(e.answer, "data") : NULL;
    bh_diag d = BH_DIAG_INIT;
    char why[400];
    int ok = 0;
    if (code != 1)
        snprintf(why, sizeof why, "expected code 1");
    else if (!data || data->type != BH_JOBJECT)
        snprintf(why, sizeof why, "expected a data object");
    else if (bh_validate(bh_iface_find("getbaohaninfo"), BH_PART_RESPONSE, e.answer, &d) != BH_OK)
        snprintf(why, sizeof why, "data: %s: %s", d.count ? d.items[0].field : "",
                 d.count ? d.items[0].message : "not valid");
    else
        ok = 1;
    conform_record(c, issued_checks[IC_INFO][0], ok, R_INFO, &e, why);
    bh_diag_release(&d);

    bh_msg *dm = NULL;
    if (data && data->type == BH_JOBJECT &&
        bh_msg_parse(data->value, data->value_len, data->value_len, BH_PARSE_ALLOW_NESTED, &dm,
                     NULL) != BH_OK)
        dm = NULL;
    bh_buf file, guarantee, decoded;
    bh_buf_init(&file, (size_t)16 * 1024 * 1024);
    bh_buf_init(&guarantee, (size_t)16 * 1024 * 1024);
    bh_buf_init(&decoded, (size_t)16 * 1024 * 1024);
    int have_guarantee = 0;
    for (int i = 0; i < CONFORM_FILES; i++) {
        const char *name = issued_checks[IC_FILE0 + i][0];
        const char *url = dm ? bh_msg_text(dm, conform_files[i][0]) : NULL;
        const char *want = dm && conform_files[i][1] ? bh_msg_text(dm, conform_files[i][1]) : NULL;
        int status = 0;
        char md5[BH_MD5_HEX_LEN + 1] = "";
        bh_buf_reset(&file);
        if (!dm) {
            conform_record(c, name, 0, R_FILES, NULL, "no data object to read the URL from");
            continue;
        }
        if (!url || !*url) {
            snprintf(why, sizeof why, "data has no %s", conform_files[i][0]);
            conform_record(c, name, 0, R_FILES, NULL, why);
            continue;
        }
        bh_diag gd = BH_DIAG_INIT;
        bh_err err = bh_client_get(c->client, url, &status, &file, &gd);
        if (err)
            snprintf(why, sizeof why, "GET %s: no answer: %s", url,
                     gd.count ? gd.items[0].message : bh_strerror(err));
        bh_diag_release(&gd);
        if (err) {
            conform_record(c, name, 0, R_FILES, NULL, why);
            continue;
        }
        if (status == 200 && bh_md5_hex(file.data ? file.data : "", file.len, md5) != BH_OK)
            c->oom = 1;
        if (status != 200)
            snprintf(why, sizeof why, "GET %s: expected HTTP 200, got %d", url, status);
        else
            snprintf(why, sizeof why, "GET %s: %zu bytes with MD5 %s, but %s is \"%s\"", url,
                     file.len, md5, conform_files[i][1] ? conform_files[i][1] : "",
                     want ? want : "(absent)");
        conform_record(c, name,
                       status == 200 && (!conform_files[i][1] || (want && strcmp(want, md5) == 0)),
                       R_FILES, NULL, why);
        if (i == 0 && status == 200 && bh_buf_add(&guarantee, file.data, file.len) == BH_OK)
            have_guarantee = 1;
    }
    const char *b64 = dm ? bh_msg_text(dm, "baohanfile") : NULL;
    if (!b64)
        snprintf(why, sizeof why, "data has no baohanfile");
    else if (!have_guarantee)
        snprintf(why, sizeof why, "the file at baohanurl could not be downloaded");
    else if (bh_base64_decode(b64, strlen(b64), &decoded) != BH_OK)
        snprintf(why, sizeof why, "baohanfile is not Base64");
    else
        snprintf(why, sizeof why,
                 "baohanfile decodes to %zu bytes, baohanurl serves %zu other bytes", decoded.len,
                 guarantee.len);
    conform_record(c, issued_checks[IC_B64][0],
                   b64 && have_guarantee && decoded.len == guarantee.len &&
                       (decoded.len == 0 || memcmp(decoded.data, guarantee.data, decoded.len) == 0),
                   R_B64, NULL, why);
    bh_buf_release(&file);
    bh_buf_release(&guarantee);
    bh_buf_release(&decoded);
    bh_msg_free(dm);
    conform_ex_release(&e);
}

/* A followup request for an issued guarantee; NULL when out of memory. */
static bh_msg *followup(conform *c, const char *iface, const char *applyno, const char *baohanno)
{
    bh_msg *m = bh_msg_new();
    bh_err err = m ? bh_msg_set_str(m, "applyno", applyno) : BH_ENOMEM;
    if (baohanno)
        err = err ? err : bh_msg_set_str(m, "baohanno", baohanno);
    if (strcmp(iface, "quitapply") == 0)
        err = err ? err : bh_msg_set_str(m, "reason", "招标项目终止，申请退保（一致性检查）");
    if (strcmp(iface, "claimsnotice") == 0)
        err = err ? err : conform_add_claim(m);
    if (err) {
        c->oom = 1;
        bh_msg_free(m);
        return NULL;
    }
    return m;
}

/* Sends `plain` and expects `want`. */
static void expect_code(conform *c, int check, const char *iface, const bh_msg *plain, int want)
{
    exchange e;
    conform_ex_init(&e);
    int code = conform_send_plain(c, iface, plain, bh_time_now(), &e);
    conform_record(c, issued_checks[check][0], code == want, issued_checks[check][1], &e,
                   want ? "expected code 1" : "expected code 0");
    conform_ex_release(&e);
}

/* Sends `plain` twice, 5 s apart, and expects code 1 both times. */
static void expect_twice(conform *c, int check, const char *iface, const bh_msg *plain)
{
    exchange e;
    conform_ex_init(&e);
    int64_t now = bh_time_now();
    if (conform_send_plain(c, iface, plain, now - 5, &e) != 1)
        conform_record(c, issued_checks[check][0], 0, issued_checks[check][1], &e,
                       "expected code 1 for the first request");
    else
        conform_record(c, issued_checks[check][0],
                       conform_send_plain(c, iface, plain, now, &e) == 1, issued_checks[check][1],
                       &e, "expected code 1 for the repeated request");
    conform_ex_release(&e);
}

static void check_issued(conform *c)
{
    char applyno[64], baohanno[128], why[400];
    int got = obtain_issued(c, applyno, baohanno, why, sizeof why);
    if (got != 1) {
        record_range(c, 0, IC_COUNT, got, why);
        return;
    }
    check_info(c, applyno, baohanno);

    bh_msg *m = followup(c, "getbaohaninfo", applyno, "CF-NOT-IT");
    if (m)
        expect_code(c, IC_WRONGNO, "getbaohaninfo", m, 0);
    bh_msg_free(m);
    m = followup(c, "giveupnotice", applyno, NULL);
    if (m)
        expect_code(c, IC_GIVEUP, "giveupnotice", m, 0);
    bh_msg_free(m);
    m = followup(c, "claimsnotice", applyno, baohanno);
    if (m) {
        expect_twice(c, IC_CLAIM, "claimsnotice", m);
        if (bh_msg_set_str(m, "Reason", "另一个理由（一致性检查）") == BH_OK)
            expect_code(c, IC_CLAIMOTHER, "claimsnotice", m, 0);
        else
            c->oom = 1;
    }
    bh_msg_free(m);
    m = followup(c, "quitapply", applyno, baohanno);
    if (m)
        expect_code(c, IC_QUITCLAIMED, "quitapply", m, 0);
    bh_msg_free(m);

    got = obtain_issued(c, applyno, baohanno, why, sizeof why);
    if (got != 1) {
        record_range(c, IC_QUIT, IC_COUNT, got, why);
        return;
    }
    m = followup(c, "quitapply", applyno, baohanno);
    if (m)
        expect_twice(c, IC_QUIT, "quitapply", m);
    bh_msg_free(m);
}

/* ---- the suite ------------------------------------------------------------------------ */

static void check_types(conform *c)
{
    conform_check_changed(c, "baohanapply: bzjamount \"12.345\" refused", R_TYPES, "baohanapply",
                          "bzjamount", "12.345", 0);
    conform_check_changed(c, "baohanapply: tbyxq \"abc\" refused", R_TYPES, "baohanapply", "tbyxq",
                          "abc", 0);
    char longno[80];
    memset(longno, 'X', 65);
    longno[65] = '\0';
    memcpy(longno, "CF", 2);
    conform_check_changed(c, "baohanapply: applyno of 65 characters refused", R_TYPES,
                          "baohanapply", "applyno", longno, 0);
}

void conform_institution(conform *c)
{
    static const char *const ifaces[] = {"baohanapply", "giveupnotice", "quitapply", "claimsnotice",
                                         "getbaohaninfo"};
    static const char *const numbers[] = {"bzjamount", "200000.00", "tbyxq", "90", NULL};
    c->fresh = fresh_wire;
    check_happy(c);
    check_retry(c, "baohanapply: idempotent retry gets the same Payurl", R_IDEMP, 0);
    check_retry(c, "baohanapply: same applyno, other content refused", R_CONFLICT, 1);
    for (size_t k = 0; k < sizeof ifaces / sizeof ifaces[0]; k++)
        conform_check_all_missing(c, ifaces[k]);
    conform_check_missing(c, "baohanapply", "appkey");
    conform_check_missing(c, "baohanapply", "timestamp");
    check_types(c);
    check_decrypt(c);
    conform_check_signatures(c, "baohanapply");
    conform_check_unknown_field(c, "baohanapply", "platformcode", "P001", R_UNKNOWN);
    /* Sorts first by byte value, last without regard to case: a verifier that
     * sorts the wrong way computes another string and refuses it. */
    conform_check_unknown_field(c, "baohanapply", "Zextra", "Z", R_UNKNOWN_CASE);
    conform_check_numbers(c, "baohanapply",
                          "baohanapply: bzjamount and tbyxq as JSON numbers accepted", numbers);
    conform_check_form(c, "baohanapply");
    conform_check_transport(c, "baohanapply");
    check_replay(c);
    check_states(c);
    if (c->admin_url)
        check_rejected(c);
    if (c->admin_url || c->wait)
        check_issued(c);
}
