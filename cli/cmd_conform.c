/* baohan conform: a conformance suite that tests any implementation of the
 * institution side over the network, one independent check at a time, and
 * says for each failure what was sent, what came back and which rule of
 * PROTOCOL.md it breaks.
 *
 * Every check uses its own applyno ("CF<time>-<pid>-<n>"), so checks do not
 * depend on each other and reruns against the same server do not collide.
 * Broken requests are made by sealing a valid one and then changing the wire
 * message (and re-signing it where the point is not the signature). */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define SHOW_MAX 300 /* bytes of a request or answer shown for a failure */

typedef struct result {
    char name[96];
    int pass;
    int skipped; /* not run: the guarantee it needs was not issued in time (`why` says) */
    const char *rule;
    char why[400];
    char sent[SHOW_MAX + 8];
    char answer[SHOW_MAX + 320]; /* "HTTP 200 " or the transport failure, then the body */
} result;

typedef struct conform {
    bh_client *client;
    char url[1024];
    const char *admin_url, *admin_token;
    int64_t wait;     /* --wait SECONDS, 0 when not given */
    int64_t deadline; /* when waiting for the operator ends, 0 before the first wait */
    int stdin_open;   /* standard input may still give a guarantee number */
    bh_credentials cred;
    long long run_id;
    long pid;
    int seq;
    result *results;
    size_t count, cap;
    int oom;
} conform;

/* One HTTP exchange and what came of it. */
typedef struct exchange {
    bh_buf sent; /* the request as it travelled (JSON), for showing */
    int status;
    bh_buf body;
    bh_msg *answer; /* the parsed answer, NULL when it is not a JSON object */
    char transport[256];
} exchange;

static void ex_init(exchange *e)
{
    bh_buf_init(&e->sent, (size_t)4 * 1024 * 1024);
    bh_buf_init(&e->body, BH_BUF_MAX_DEFAULT);
    e->status = 0;
    e->answer = NULL;
    e->transport[0] = '\0';
}

static void ex_release(exchange *e)
{
    bh_buf_release(&e->sent);
    bh_buf_release(&e->body);
    bh_msg_free(e->answer);
    e->answer = NULL;
}

/* The answer's code: 1, 0, or -1 when absent or neither. */
static int code_of(const exchange *e)
{
    const bh_field *f = e->answer ? bh_msg_get_nocase(e->answer, "code") : NULL;
    if (!f || (f->type != BH_JNUMBER && f->type != BH_JSTRING))
        return -1;
    return strcmp(f->value, "1") == 0 ? 1 : strcmp(f->value, "0") == 0 ? 0 : -1;
}

static const char *text_nocase(const exchange *e, const char *key)
{
    const bh_field *f = e->answer ? bh_msg_get_nocase(e->answer, key) : NULL;
    return f && (f->type == BH_JSTRING || f->type == BH_JNUMBER) ? f->value : NULL;
}

static void next_applyno(conform *c, char out[64])
{
    snprintf(out, 64, "CF%lld-%ld-%d", c->run_id, c->pid, ++c->seq);
}

/* Records one check's outcome; `e` (may be NULL) is shown when it failed. */
static void record(conform *c, const char *name, int pass, const char *rule, const exchange *e,
                   const char *why)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        result *r = realloc(c->results, cap * sizeof *r);
        if (!r) {
            c->oom = 1;
            return;
        }
        c->results = r;
        c->cap = cap;
    }
    result *r = &c->results[c->count++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->pass = pass;
    r->rule = rule;
    if (pass)
        return;
    bh_utf8_printable(why ? why : "", why ? strlen(why) : 0, r->why, sizeof r->why);
    if (!e)
        return;
    bh_utf8_printable(e->sent.data ? e->sent.data : "", e->sent.len, r->sent, SHOW_MAX);
    char head[300], body[SHOW_MAX];
    if (e->status == 0)
        snprintf(head, sizeof head, "no answer: %s", e->transport);
    else
        snprintf(head, sizeof head, "HTTP %d ", e->status);
    bh_utf8_printable(e->body.data ? e->body.data : "", e->body.len, body, sizeof body);
    snprintf(r->answer, sizeof r->answer, "%s%s", head, e->status ? body : "");
}

/* Records a check that was not run, and why. */
static void record_skip(conform *c, const char *name, const char *rule, const char *why)
{
    record(c, name, 0, rule, NULL, why);
    if (c->count && !c->oom)
        c->results[c->count - 1].skipped = 1;
}

/* Parses the answer body, if it is a JSON object. */
static void parse_answer(exchange *e)
{
    bh_diag d = BH_DIAG_INIT;
    if (e->body.len && bh_msg_parse(e->body.data, e->body.len, e->body.len, BH_PARSE_ALLOW_NESTED,
                                    &e->answer, &d) != BH_OK)
        e->answer = NULL;
    bh_diag_release(&d);
}

static void transport_note(exchange *e, const bh_diag *d, bh_err err)
{
    const char *why = d->count ? d->items[0].message : bh_strerror(err);
    snprintf(e->transport, sizeof e->transport, "%s", why);
}

/* POSTs `body` to URL/iface with the given content type. */
static void post_raw(conform *c, const char *iface, const char *content_type, const char *body,
                     size_t len, exchange *e)
{
    char url[1200], ct[128];
    snprintf(url, sizeof url, "%s/%s", c->url, iface);
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    const char *headers[] = {ct, NULL};
    bh_diag d = BH_DIAG_INIT;
    bh_buf_reset(&e->body);
    bh_msg_free(e->answer);
    e->answer = NULL;
    e->transport[0] = '\0';
    bh_err err =
        bh_client_request(c->client, "POST", url, headers, body, len, &e->status, &e->body, &d);
    if (err) {
        e->status = 0;
        transport_note(e, &d, err);
    } else {
        parse_answer(e);
    }
    bh_diag_release(&d);
}

/* POSTs a wire message as JSON; `e->sent` gets its text. */
static void post_msg(conform *c, const char *iface, const bh_msg *wire, exchange *e)
{
    bh_buf_reset(&e->sent);
    if (bh_msg_to_json(wire, 0, &e->sent)) {
        snprintf(e->transport, sizeof e->transport, "conform could not write the request");
        e->status = 0;
        return;
    }
    post_raw(c, iface, "application/json; charset=utf-8", e->sent.data, e->sent.len, e);
}

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

/* A valid plaintext request of `iface` for `applyno`; NULL when out of memory. */
static bh_msg *plain_for(const char *iface, const char *applyno)
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

/* Seals `plain` at time `now`; on failure records the check as failed. */
static bh_msg *seal_or_fail(conform *c, const char *name, const char *rule, const char *iface,
                            const bh_msg *plain, int64_t now)
{
    bh_msg *wire = NULL;
    bh_diag d = BH_DIAG_INIT;
    if (!plain || bh_seal(bh_iface_find(iface), &c->cred, plain, now, &wire, &d)) {
        char why[300];
        snprintf(why, sizeof why, "conform could not build the request: %s",
                 d.count ? d.items[0].message : "out of memory");
        record(c, name, 0, rule, NULL, why);
        wire = NULL;
    }
    bh_diag_release(&d);
    return wire;
}

/* Seals and sends a valid request; returns its code (-1 on any trouble). */
static int send_plain(conform *c, const char *iface, const bh_msg *plain, int64_t now, exchange *e)
{
    bh_msg *wire = NULL;
    bh_diag d = BH_DIAG_INIT;
    int code = -1;
    if (plain && !bh_seal(bh_iface_find(iface), &c->cred, plain, now, &wire, &d)) {
        post_msg(c, iface, wire, e);
        code = code_of(e);
    }
    bh_msg_free(wire);
    bh_diag_release(&d);
    return code;
}

/* A fresh application in state applied; 0 (and a failed check) when the
 * server did not accept it. */
static int setup_applied(conform *c, const char *name, const char *rule, char applyno[64])
{
    next_applyno(c, applyno);
    bh_msg *plain = plain_for("baohanapply", applyno);
    exchange e;
    ex_init(&e);
    int ok = send_plain(c, "baohanapply", plain, bh_time_now(), &e) == 1;
    if (!ok)
        record(c, name, 0, rule, &e, "setup: a valid baohanapply was not accepted (code 1)");
    ex_release(&e);
    bh_msg_free(plain);
    return ok;
}

static int is_word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

static int is_http_url(const char *s)
{
    return s && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
           strlen(s) > (s[4] == 's' ? 8u : 7u);
}

/* ---- the checks --------------------------------------------------------------------- */

#define R_APPLY "PROTOCOL.md §7.1, §2: baohanapply answers code 1 and Payurl, an http(s) URL"
#define R_IDEMP "PROTOCOL.md §8 (idempotency): the same applyno and content get the same Payurl"
#define R_CONFLICT "PROTOCOL.md §8 (idempotency): the same applyno with other content is refused"
#define R_MISSING "PROTOCOL.md §7, §8: a missing required field is refused, the message naming it"
#define R_TYPES "PROTOCOL.md §6, §8: a wrong type or length is refused (code 0)"
#define R_BADSIGN "PROTOCOL.md §4: a request whose signature does not match is refused"
#define R_UPPER "PROTOCOL.md §4: a verifier accepts upper- or lower-case hex"
#define R_NOSIGN "PROTOCOL.md §6: sign is required"
#define R_UNKNOWN "PROTOCOL.md §4 step 1: unknown fields are signed, kept and otherwise ignored"
#define R_NUMBERS "PROTOCOL.md §4 step 4: a JSON number is signed as its literal text"
#define R_FORM "PROTOCOL.md §2: a server accepts a requestData=<JSON> form body"
#define R_STALE "PROTOCOL.md §6: a timestamp outside the window (default 300 s) is refused"
#define R_APPKEY "PROTOCOL.md §6: an appkey that is not a configured counterpart is refused"
#define R_DECRYPT "PROTOCOL.md §5: a field that fails to decrypt is refused, the message naming it"
#define R_MALFORMED "PROTOCOL.md §2, §8: malformed JSON gets code 0 in a JSON body, HTTP 200 or 4xx"
#define R_OVERSIZE "PROTOCOL.md §2, §8: a body over the size limit is refused (code 0 or HTTP 413)"
#define R_REPLAY "PROTOCOL.md §6: a replay of an idempotent request is answered as the first"
#define R_GIVEUP "PROTOCOL.md §8 (state rules): giveupnotice is accepted before issue, repeatable"
#define R_NOAPP "PROTOCOL.md §8 (state rules): a notice for an unknown application is refused"
#define R_NOTISSUED "PROTOCOL.md §8 (state rules): this interface needs an issued guarantee"
#define R_REJECTED "PROTOCOL.md §8 (state rules): quitapply only on an issued guarantee"

static void check_happy(conform *c)
{
    const char *name = "baohanapply: happy path";
    char applyno[64];
    next_applyno(c, applyno);
    bh_msg *plain = plain_for("baohanapply", applyno);
    exchange e;
    ex_init(&e);
    int code = send_plain(c, "baohanapply", plain, bh_time_now(), &e);
    const char *payurl = text_nocase(&e, "Payurl");
    record(c, name, code == 1 && is_http_url(payurl), R_APPLY, &e,
           code != 1 ? "expected code 1" : "expected Payurl, an http:// or https:// URL");
    ex_release(&e);
    bh_msg_free(plain);
}

/* Sends the same content twice, 10 s apart (so timestamp and sign differ); `change`
 * makes the second one different business content. */
static void check_retry(conform *c, const char *name, const char *rule, int change)
{
    char applyno[64];
    next_applyno(c, applyno);
    bh_msg *plain = plain_for("baohanapply", applyno);
    exchange e1, e2;
    ex_init(&e1);
    ex_init(&e2);
    int64_t now = bh_time_now();
    int code1 = send_plain(c, "baohanapply", plain, now - 10, &e1);
    char first[1024];
    const char *p1 = text_nocase(&e1, "Payurl");
    snprintf(first, sizeof first, "%s", p1 ? p1 : "");
    if (code1 != 1) {
        record(c, name, 0, rule, &e1, "setup: the first baohanapply was not accepted (code 1)");
    } else {
        if (change && bh_msg_set_str(plain, "bzjamount", "300000.00"))
            c->oom = 1;
        int code2 = send_plain(c, "baohanapply", plain, now, &e2);
        const char *p2 = text_nocase(&e2, "Payurl");
        if (change)
            record(c, name, code2 == 0, rule, &e2, "expected code 0 for other content");
        else
            record(c, name, code2 == 1 && p2 && strcmp(p2, first) == 0, rule, &e2,
                   code2 != 1 ? "expected code 1 for the retry" : "expected the first Payurl");
    }
    ex_release(&e1);
    ex_release(&e2);
    bh_msg_free(plain);
}

/* Whether `message` names `field` as a word of its own (so "zbr" is not found in
 * "zbrorgnum"). */
static int names_field(const char *message, const char *field)
{
    size_t n = strlen(field);
    for (const char *p = message ? strstr(message, field) : NULL; p; p = strstr(p + 1, field)) {
        int before = p > message && is_word_char(p[-1]), after = is_word_char(p[n]);
        if (!before && !after)
            return 1;
    }
    return 0;
}

/* Sends `wire` and expects a refusal; with `field`, the message must name it. */
static void expect_refusal(conform *c, const char *name, const char *rule, const char *iface,
                           const bh_msg *wire, const char *field)
{
    exchange e;
    ex_init(&e);
    post_msg(c, iface, wire, &e);
    int code = code_of(&e);
    const char *message = text_nocase(&e, "message");
    char why[200];
    if (code != 0)
        snprintf(why, sizeof why, "expected code 0");
    else
        snprintf(why, sizeof why, "code 0, but the message does not name %s", field ? field : "");
    record(c, name, code == 0 && (!field || names_field(message, field)), rule, &e, why);
    ex_release(&e);
}

/* Sends `wire` and expects code 1. */
static void expect_accept(conform *c, const char *name, const char *rule, const char *iface,
                          const bh_msg *wire)
{
    exchange e;
    ex_init(&e);
    post_msg(c, iface, wire, &e);
    record(c, name, code_of(&e) == 1, rule, &e, "expected code 1");
    ex_release(&e);
}

/* A sealed valid request of `iface` with a fresh applyno; NULL after recording a failure. */
static bh_msg *fresh_wire(conform *c, const char *name, const char *rule, const char *iface,
                          int64_t now)
{
    char applyno[64];
    next_applyno(c, applyno);
    bh_msg *plain = plain_for(iface, applyno);
    bh_msg *wire = seal_or_fail(c, name, rule, iface, plain, now);
    bh_msg_free(plain);
    return wire;
}

static int resign(conform *c, bh_msg *wire)
{
    if (bh_sign_apply(wire, c->cred.appsecret) == BH_OK)
        return 1;
    c->oom = 1;
    return 0;
}

static void check_missing(conform *c, const char *iface, const char *field)
{
    char name[96];
    snprintf(name, sizeof name, "%s: without %s", iface, field);
    bh_msg *wire = fresh_wire(c, name, R_MISSING, iface, bh_time_now());
    if (!wire)
        return;
    bh_msg_remove(wire, field);
    if (strcmp(field, "sign") == 0 || resign(c, wire))
        expect_refusal(c, name, R_MISSING, iface, wire, field);
    bh_msg_free(wire);
}

static void check_all_missing(conform *c)
{
    static const char *const ifaces[] = {"baohanapply", "giveupnotice", "quitapply", "claimsnotice",
                                         "getbaohaninfo"};
    for (size_t k = 0; k < sizeof ifaces / sizeof ifaces[0]; k++) {
        const bh_iface *iface = bh_iface_find(ifaces[k]);
        if (!iface)
            continue;
        for (size_t i = 0; i < iface->nrequest; i++)
            if (iface->request[i].flags & BH_F_REQUIRED)
                check_missing(c, ifaces[k], iface->request[i].name);
    }
    check_missing(c, "baohanapply", "appkey");
    check_missing(c, "baohanapply", "timestamp");
}

/* baohanapply with one wire field replaced by `value` (re-signed); `accept` says whether
 * code 1 or code 0 is the right answer. */
static void check_changed(conform *c, const char *name, const char *rule, const char *field,
                          const char *value, int accept)
{
    bh_msg *wire = fresh_wire(c, name, rule, "baohanapply", bh_time_now());
    if (!wire)
        return;
    if (bh_msg_set_str(wire, field, value) == BH_OK && resign(c, wire)) {
        if (accept)
            expect_accept(c, name, rule, "baohanapply", wire);
        else
            expect_refusal(c, name, rule, "baohanapply", wire, NULL);
    }
    bh_msg_free(wire);
}

static void check_types(conform *c)
{
    check_changed(c, "baohanapply: bzjamount \"12.345\" refused", R_TYPES, "bzjamount", "12.345",
                  0);
    check_changed(c, "baohanapply: tbyxq \"abc\" refused", R_TYPES, "tbyxq", "abc", 0);
    char longno[80];
    memset(longno, 'X', 65);
    longno[65] = '\0';
    memcpy(longno, "CF", 2);
    check_changed(c, "baohanapply: applyno of 65 characters refused", R_TYPES, "applyno", longno,
                  0);
}

static void check_decrypt(conform *c)
{
    const char *name = "baohanapply: undecryptable projectname named";
    bh_msg *wire = fresh_wire(c, name, R_DECRYPT, "baohanapply", bh_time_now());
    if (!wire)
        return;
    /* Base64 of 3 bytes: no ciphertext is that long, whatever the key. */
    if (bh_msg_set_str(wire, "projectname", "AAAA") == BH_OK && resign(c, wire))
        expect_refusal(c, name, R_DECRYPT, "baohanapply", wire, "projectname");
    bh_msg_free(wire);
}

static void check_signatures(conform *c)
{
    const char *name = "signature: wrong signature refused";
    bh_msg *wire = fresh_wire(c, name, R_BADSIGN, "baohanapply", bh_time_now());
    if (wire) {
        char sig[BH_SM3_HEX_LEN + 1];
        const char *s = bh_msg_text(wire, "sign");
        snprintf(sig, sizeof sig, "%s", s ? s : "");
        sig[0] = sig[0] == '0' ? '1' : '0';
        if (bh_msg_set_str(wire, "sign", sig) == BH_OK)
            expect_refusal(c, name, R_BADSIGN, "baohanapply", wire, NULL);
        bh_msg_free(wire);
    }
    name = "signature: upper-case hex accepted";
    wire = fresh_wire(c, name, R_UPPER, "baohanapply", bh_time_now());
    if (wire) {
        char sig[BH_SM3_HEX_LEN + 1];
        const char *s = bh_msg_text(wire, "sign");
        snprintf(sig, sizeof sig, "%s", s ? s : "");
        for (char *p = sig; *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
        if (bh_msg_set_str(wire, "sign", sig) == BH_OK)
            expect_accept(c, name, R_UPPER, "baohanapply", wire);
        bh_msg_free(wire);
    }
    check_missing(c, "baohanapply", "sign");
}

static void check_unknown_field(conform *c)
{
    const char *name = "baohanapply: unknown field platformcode accepted";
    char applyno[64];
    next_applyno(c, applyno);
    bh_msg *plain = plain_for("baohanapply", applyno);
    if (plain && bh_msg_set_str(plain, "platformcode", "P001"))
        c->oom = 1;
    bh_msg *wire = seal_or_fail(c, name, R_UNKNOWN, "baohanapply", plain, bh_time_now());
    if (wire)
        expect_accept(c, name, R_UNKNOWN, "baohanapply", wire);
    bh_msg_free(wire);
    bh_msg_free(plain);
}

static void check_numbers(conform *c)
{
    const char *name = "baohanapply: bzjamount and tbyxq as JSON numbers accepted";
    bh_msg *wire = fresh_wire(c, name, R_NUMBERS, "baohanapply", bh_time_now());
    if (!wire)
        return;
    if (bh_msg_set(wire, "bzjamount", "200000.00", 9, BH_JNUMBER) == BH_OK &&
        bh_msg_set(wire, "tbyxq", "90", 2, BH_JNUMBER) == BH_OK && resign(c, wire))
        expect_accept(c, name, R_NUMBERS, "baohanapply", wire);
    bh_msg_free(wire);
}

static int percent_encode(const char *s, size_t len, bh_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
        bh_err err = plain ? bh_buf_addch(out, (char)ch)
                           : bh_buf_addf(out, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
        if (err)
            return 0;
    }
    return 1;
}

static void check_form(conform *c)
{
    const char *name = "baohanapply: requestData form body accepted";
    bh_msg *wire = fresh_wire(c, name, R_FORM, "baohanapply", bh_time_now());
    if (!wire)
        return;
    exchange e;
    ex_init(&e);
    bh_buf form;
    bh_buf_init(&form, (size_t)8 * 1024 * 1024);
    if (bh_msg_to_json(wire, 0, &e.sent) == BH_OK &&
        bh_buf_addstr(&form, "requestData=") == BH_OK &&
        percent_encode(e.sent.data, e.sent.len, &form)) {
        post_raw(c, "baohanapply", "application/x-www-form-urlencoded", form.data, form.len, &e);
        record(c, name, code_of(&e) == 1, R_FORM, &e, "expected code 1 (sent as a form body)");
    } else {
        c->oom = 1;
    }
    bh_buf_release(&form);
    ex_release(&e);
    bh_msg_free(wire);
}

static void check_stale(conform *c)
{
    const char *name = "timestamp: stale (now - 1 hour) refused";
    bh_msg *wire = fresh_wire(c, name, R_STALE, "baohanapply", bh_time_now() - 3600);
    if (wire)
        expect_refusal(c, name, R_STALE, "baohanapply", wire, NULL);
    bh_msg_free(wire);
}

static void check_appkey(conform *c)
{
    const char *name = "appkey: unknown appkey refused";
    bh_msg *wire = fresh_wire(c, name, R_APPKEY, "baohanapply", bh_time_now());
    if (!wire)
        return;
    if (bh_msg_set_str(wire, "appkey", "CF-NO-SUCH-APPKEY") == BH_OK && resign(c, wire))
        expect_refusal(c, name, R_APPKEY, "baohanapply", wire, NULL);
    bh_msg_free(wire);
}

static void check_malformed(conform *c)
{
    const char *name = "transport: malformed JSON refused";
    exchange e;
    ex_init(&e);
    static const char body[] = "{\"appkey\":\"FI001\",\"applyno\":";
    if (bh_buf_addstr(&e.sent, body) == BH_OK) {
        post_raw(c, "baohanapply", "application/json; charset=utf-8", body, sizeof body - 1, &e);
        int status_ok = e.status == 200 || (e.status >= 400 && e.status < 500);
        record(c, name, status_ok && code_of(&e) == 0, R_MALFORMED, &e,
               "expected HTTP 200 or 4xx and a JSON body with code 0");
    }
    ex_release(&e);
}

static void check_oversized(conform *c)
{
    const char *name = "transport: 2 MiB body refused";
    size_t pad = (size_t)2 * 1024 * 1024;
    bh_buf body;
    bh_buf_init(&body, pad + 1024);
    exchange e;
    ex_init(&e);
    bh_err err = bh_buf_addf(&body, "{\"appkey\":\"%s\",\"pad\":\"", c->cred.appkey);
    for (size_t i = 0; !err && i < pad / 64; i++)
        err = bh_buf_addstr(&body,
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    if (!err)
        err = bh_buf_addstr(&body, "\"}");
    if (!err)
        err = bh_buf_add(&e.sent, body.data, 200);
    if (!err)
        err = bh_buf_addstr(&e.sent, "… (2 MiB of \"a\")");
    if (!err) {
        post_raw(c, "baohanapply", "application/json; charset=utf-8", body.data, body.len, &e);
        record(c, name, e.status == 413 || (e.status != 0 && code_of(&e) == 0), R_OVERSIZE, &e,
               "expected HTTP 413, or code 0");
    } else {
        c->oom = 1;
    }
    bh_buf_release(&body);
    ex_release(&e);
}

static void check_replay(conform *c)
{
    const char *name = "replay: the same signed request answered as the first";
    bh_msg *wire = fresh_wire(c, name, R_REPLAY, "baohanapply", bh_time_now());
    if (!wire)
        return;
    exchange e1, e2;
    ex_init(&e1);
    ex_init(&e2);
    post_msg(c, "baohanapply", wire, &e1);
    if (code_of(&e1) != 1) {
        record(c, name, 0, R_REPLAY, &e1, "setup: the first request was not accepted (code 1)");
    } else {
        post_msg(c, "baohanapply", wire, &e2);
        const char *p1 = text_nocase(&e1, "Payurl"), *p2 = text_nocase(&e2, "Payurl");
        record(c, name, code_of(&e2) == 1 && p1 && p2 && strcmp(p1, p2) == 0, R_REPLAY, &e2,
               "expected the first answer again: code 1 and the same Payurl");
    }
    ex_release(&e1);
    ex_release(&e2);
    bh_msg_free(wire);
}

static void check_states(conform *c)
{
    const char *name = "giveupnotice: never applied refused";
    bh_msg *wire = fresh_wire(c, name, R_NOAPP, "giveupnotice", bh_time_now());
    if (wire)
        expect_refusal(c, name, R_NOAPP, "giveupnotice", wire, NULL);
    bh_msg_free(wire);

    static const char *const need_issue[] = {"quitapply", "claimsnotice", "getbaohaninfo"};
    for (size_t i = 0; i < sizeof need_issue / sizeof need_issue[0]; i++) {
        char n[96], applyno[64];
        snprintf(n, sizeof n, "%s: application not issued refused", need_issue[i]);
        if (!setup_applied(c, n, R_NOTISSUED, applyno))
            continue;
        bh_msg *plain = plain_for(need_issue[i], applyno);
        wire = seal_or_fail(c, n, R_NOTISSUED, need_issue[i], plain, bh_time_now());
        if (wire)
            expect_refusal(c, n, R_NOTISSUED, need_issue[i], wire, NULL);
        bh_msg_free(wire);
        bh_msg_free(plain);
    }

    name = "giveupnotice: applied accepted, repeat accepted";
    char applyno[64];
    if (!setup_applied(c, name, R_GIVEUP, applyno))
        return;
    bh_msg *plain = plain_for("giveupnotice", applyno);
    exchange e;
    ex_init(&e);
    int64_t now = bh_time_now();
    if (send_plain(c, "giveupnotice", plain, now - 5, &e) != 1)
        record(c, name, 0, R_GIVEUP, &e, "expected code 1 for the first giveupnotice");
    else
        record(c, name, send_plain(c, "giveupnotice", plain, now, &e) == 1, R_GIVEUP, &e,
               "expected code 1 for the repeated giveupnotice");
    ex_release(&e);
    bh_msg_free(plain);
}

/* ---- with an admin API: a rejected application -------------------------------------- */

static int admin_call(conform *c, const char *method, const char *path, const char *body,
                      bh_buf *out)
{
    char url[1200], auth[600];
    snprintf(url, sizeof url, "%s%s", c->admin_url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->admin_token);
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    int status = 0;
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_client_request(c->client, method, url, headers, body, body ? strlen(body) : 0,
                                   &status, out, &d);
    bh_diag_release(&d);
    bh_wipe(auth, sizeof auth);
    return err ? 0 : status;
}

/* The admin id of the application `applyno`, or 0. */
static long long admin_find(conform *c, const char *applyno)
{
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    long long id = 0;
    char needle[100];
    snprintf(needle, sizeof needle, "\"applyno\":\"%s\"", applyno);
    if (admin_call(c, "GET", "/admin/applications?limit=10000", NULL, &out) == 200 && out.data) {
        char *hit = strstr(out.data, needle);
        for (char *p = hit; p && p > out.data; p--)
            if (strncmp(p, "{\"id\":", 6) == 0) {
                id = strtoll(p + 6, NULL, 10);
                break;
            }
    }
    bh_buf_release(&out);
    return id;
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
    if (id <= 0 || admin_call(c, "POST", path, "{\"reason\":\"conformance check\"}", &out) != 200) {
        record(c, name, 0, R_REJECTED, NULL,
               "setup: the admin API did not find or reject the application");
    } else {
        bh_msg *plain = plain_for("quitapply", applyno);
        bh_msg *wire = seal_or_fail(c, name, R_REJECTED, "quitapply", plain, bh_time_now());
        if (wire)
            expect_refusal(c, name, R_REJECTED, "quitapply", wire, NULL);
        bh_msg_free(wire);
        bh_msg_free(plain);
    }
    bh_buf_release(&out);
}

/* ---- output --------------------------------------------------------------------------- */

static const char *verdict(const result *r)
{
    return r->pass ? "PASS" : r->skipped ? "SKIPPED" : "FAIL";
}

static void print_table(const conform *c, size_t passed, size_t skipped)
{
    for (size_t i = 0; i < c->count; i++) {
        const result *r = &c->results[i];
        printf("%s  %s\n", verdict(r), r->name);
        if (r->pass)
            continue;
        if (r->skipped) {
            printf("      why:    %s\n", r->why);
            continue;
        }
        printf("      rule:   %s\n", r->rule);
        printf("      why:    %s\n", r->why);
        if (r->sent[0])
            printf("      sent:   %s\n", r->sent);
        if (r->answer[0])
            printf("      answer: %s\n", r->answer);
    }
    printf("%zu passed, %zu failed, %zu skipped\n", passed, c->count - passed - skipped, skipped);
}

static int add_member(bh_buf *out, const char *key, const char *value, int comma)
{
    return bh_buf_addf(out, "%s\"%s\":", comma ? "," : "", key) == BH_OK &&
           bh_json_quote(value, strlen(value), out) == BH_OK;
}

static int print_json(const conform *c, size_t passed, size_t skipped)
{
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    int ok = bh_buf_addstr(&out, "{\"role\":\"institution\"") == BH_OK &&
             add_member(&out, "url", c->url, 1) &&
             bh_buf_addf(&out, ",\"passed\":%zu,\"failed\":%zu,\"skipped\":%zu,\"checks\":[",
                         passed, c->count - passed - skipped, skipped) == BH_OK;
    for (size_t i = 0; ok && i < c->count; i++) {
        const result *r = &c->results[i];
        ok = bh_buf_addstr(&out, i ? ",{" : "{") == BH_OK && add_member(&out, "name", r->name, 0) &&
             add_member(&out, "result", verdict(r), 1) && add_member(&out, "rule", r->rule, 1);
        if (ok && r->skipped)
            ok = add_member(&out, "why", r->why, 1);
        else if (ok && !r->pass)
            ok = add_member(&out, "why", r->why, 1) && add_member(&out, "sent", r->sent, 1) &&
                 add_member(&out, "answer", r->answer, 1);
        ok = ok && bh_buf_addch(&out, '}') == BH_OK;
    }
    ok = ok && bh_buf_addstr(&out, "]}") == BH_OK;
    if (ok)
        printf("%s\n", out.data);
    bh_buf_release(&out);
    return ok;
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
    IC_FILE0, /* one per entry of file_pairs */
    IC_B64 = IC_FILE0 + 6,
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

static const char *const file_pairs[6][2] = {
    {"baohanurl", "guaranteemd5"},
    {"orderurl", "ordermd5"},
    {"qualficationfileurl", "qualficationfilemd5"},
    {"businesslicenseurl", "businesslicensemd5"},
    {"guaranteexmlurl", "guaranteexmlmd5"},
    {"payfileurl", NULL},
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
    bh_buf body;
    bh_buf_init(&body, BH_BUF_MAX_DEFAULT);
    bh_msg *m = NULL, *app = NULL;
    const char *v = NULL;
    if (admin_call(c, "GET", path, NULL, &body) == 200 && body.data &&
        bh_msg_parse(body.data, body.len, body.len, BH_PARSE_ALLOW_NESTED, &m, NULL) == BH_OK) {
        const bh_field *f = bh_msg_get(m, "application");
        if (f && f->type == BH_JOBJECT &&
            bh_msg_parse(f->value, f->value_len, f->value_len, BH_PARSE_ALLOW_NESTED, &app, NULL) ==
                BH_OK)
            v = bh_msg_text(app, key);
    }
    snprintf(out, n, "%s", v ? v : "");
    bh_msg_free(app);
    bh_msg_free(m);
    bh_buf_release(&body);
    return out[0] != '\0';
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
             add_member(&json, "payername", apply_fields[0][1], 0) &&
             add_member(&json, "payeraccount", BASIC_ACCOUNT, 1) &&
             add_member(&json, "amount", amount, 1) &&
             add_member(&json, "paytype", "银行转账", 1) &&
             add_member(&json, "proof", b64.data, 1) && bh_buf_addch(&json, '}') == BH_OK;
    ok = ok && admin_call(c, "POST", path, json.data, &out) == 200;
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
    status = admin_call(c, "POST", path, NULL, &out);
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
    int code = send_plain(c, "getbaohaninfo", plain, bh_time_now(), e);
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
            ex_init(&e);
            int code = send_info(c, applyno, baohanno, &e);
            ex_release(&e);
            if (code == 1)
                return 1;
        }
    }
}

/* A new application issued; 1 with applyno and baohanno, 0 (setup failed, `why`
 * says why) or -1 (the operator did not issue it in time). */
static int obtain_issued(conform *c, char applyno[64], char baohanno[128], char *why, size_t wn)
{
    next_applyno(c, applyno);
    bh_msg *plain = plain_for("baohanapply", applyno);
    exchange e;
    ex_init(&e);
    int code = send_plain(c, "baohanapply", plain, bh_time_now(), &e);
    const char *p = text_nocase(&e, "Payurl");
    char payurl[1024];
    snprintf(payurl, sizeof payurl, "%s", p ? p : "");
    ex_release(&e);
    bh_msg_free(plain);
    if (code != 1 || !is_http_url(payurl)) {
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
            record_skip(c, issued_checks[i][0], issued_checks[i][1], why);
        else
            record(c, issued_checks[i][0], 0, issued_checks[i][1], NULL, why);
    }
}

static void check_info(conform *c, const char *applyno, const char *baohanno)
{
    exchange e;
    ex_init(&e);
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
    record(c, issued_checks[IC_INFO][0], ok, R_INFO, &e, why);
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
    for (int i = 0; i < 6; i++) {
        const char *name = issued_checks[IC_FILE0 + i][0];
        const char *url = dm ? bh_msg_text(dm, file_pairs[i][0]) : NULL;
        const char *want = dm && file_pairs[i][1] ? bh_msg_text(dm, file_pairs[i][1]) : NULL;
        int status = 0;
        char md5[BH_MD5_HEX_LEN + 1] = "";
        bh_buf_reset(&file);
        if (!dm) {
            record(c, name, 0, R_FILES, NULL, "no data object to read the URL from");
            continue;
        }
        if (!url || !*url) {
            snprintf(why, sizeof why, "data has no %s", file_pairs[i][0]);
            record(c, name, 0, R_FILES, NULL, why);
            continue;
        }
        bh_diag gd = BH_DIAG_INIT;
        bh_err err = bh_client_get(c->client, url, &status, &file, &gd);
        if (err)
            snprintf(why, sizeof why, "GET %s: no answer: %s", url,
                     gd.count ? gd.items[0].message : bh_strerror(err));
        bh_diag_release(&gd);
        if (err) {
            record(c, name, 0, R_FILES, NULL, why);
            continue;
        }
        if (status == 200 && bh_md5_hex(file.data ? file.data : "", file.len, md5) != BH_OK)
            c->oom = 1;
        if (status != 200)
            snprintf(why, sizeof why, "GET %s: expected HTTP 200, got %d", url, status);
        else
            snprintf(why, sizeof why, "GET %s: %zu bytes with MD5 %s, but %s is \"%s\"", url,
                     file.len, md5, file_pairs[i][1] ? file_pairs[i][1] : "",
                     want ? want : "(absent)");
        record(c, name, status == 200 && (!file_pairs[i][1] || (want && strcmp(want, md5) == 0)),
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
    record(c, issued_checks[IC_B64][0],
           b64 && have_guarantee && decoded.len == guarantee.len &&
               (decoded.len == 0 || memcmp(decoded.data, guarantee.data, decoded.len) == 0),
           R_B64, NULL, why);
    bh_buf_release(&file);
    bh_buf_release(&guarantee);
    bh_buf_release(&decoded);
    bh_msg_free(dm);
    ex_release(&e);
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
    if (strcmp(iface, "claimsnotice") == 0) {
        /* tests/data/examples/claimsnotice.plain.json */
        static const char *const claim[][2] = {
            {"payeraccount", "35050166010700001234"},
            {"payeramount", "200000.00"},
            {"filelist", "[{\"fileurl\":\"https://ggzy.example.gov.cn/claims/2026/0001/"
                         "suopei.pdf\"},{\"fileurl\":\"https://ggzy.example.gov.cn/claims/2026/"
                         "0001/zhengming.pdf\"}]"},
            {"applyusername", "陈晓梅"},
            {"applyuserphone", "13906951234"},
            {"Reason", "中标人放弃中标且拒绝签订合同"},
        };
        for (size_t i = 0; !err && i < sizeof claim / sizeof *claim; i++)
            err = bh_msg_set_str(m, claim[i][0], claim[i][1]);
    }
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
    ex_init(&e);
    int code = send_plain(c, iface, plain, bh_time_now(), &e);
    record(c, issued_checks[check][0], code == want, issued_checks[check][1], &e,
           want ? "expected code 1" : "expected code 0");
    ex_release(&e);
}

/* Sends `plain` twice, 5 s apart, and expects code 1 both times. */
static void expect_twice(conform *c, int check, const char *iface, const bh_msg *plain)
{
    exchange e;
    ex_init(&e);
    int64_t now = bh_time_now();
    if (send_plain(c, iface, plain, now - 5, &e) != 1)
        record(c, issued_checks[check][0], 0, issued_checks[check][1], &e,
               "expected code 1 for the first request");
    else
        record(c, issued_checks[check][0], send_plain(c, iface, plain, now, &e) == 1,
               issued_checks[check][1], &e, "expected code 1 for the repeated request");
    ex_release(&e);
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

/* ---- the command ---------------------------------------------------------------------- */

static int run_conform(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_conform;
    const char *role = NULL, *url = NULL, *secret_flag = NULL, *key_flag = NULL;
    const char *appkey_flag = NULL, *admin_url = NULL, *admin_token = NULL, *wait = NULL;
    int json = 0;
    size_t npos;
    const cli_opt opts[] = {
        {"role", &role, NULL},
        {"url", &url, NULL},
        {"appsecret", &secret_flag, NULL},
        {"key", &key_flag, NULL},
        {"appkey", &appkey_flag, NULL},
        {"admin-url", &admin_url, NULL},
        {"admin-token", &admin_token, NULL},
        {"wait", &wait, NULL},
        {"json", NULL, &json},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 0, NULL, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!role)
        return cli_usage_error(cmd, "--role is required (institution)");
    if (strcmp(role, "platform") == 0) {
        cli_error(cmd, "--role platform is not available yet: the platform role of baohand does "
                       "not exist, so there is nothing to check it against; use --role "
                       "institution");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(role, "institution") != 0)
        return cli_usage_error(cmd, "--role must be institution");
    if (!url || !*url)
        return cli_usage_error(cmd, "--url BASE is required (the institution's base URL)");
    if (!admin_url != !admin_token)
        return cli_usage_error(cmd, "--admin-url and --admin-token go together");
    long long wait_s = 0;
    if (wait) {
        char *end = NULL;
        wait_s = strtoll(wait, &end, 10);
        if (end == wait || *end || wait_s <= 0 || wait_s > 86400)
            return cli_usage_error(cmd, "--wait must be a number of seconds, 1 to 86400");
    }

    conform c;
    memset(&c, 0, sizeof c);
    snprintf(c.url, sizeof c.url, "%s", url);
    for (size_t n = strlen(c.url); n > 0 && c.url[n - 1] == '/'; n--)
        c.url[n - 1] = '\0';
    c.admin_url = admin_url;
    c.admin_token = admin_token;
    c.wait = wait_s;
    c.stdin_open = 1;
    if ((rc = cli_credentials(cmd, secret_flag, key_flag, appkey_flag, &c.cred)) != CLI_EXIT_OK)
        return rc;
    if (!c.cred.appkey) {
        bh_wipe(&c.cred.key, sizeof c.cred.key);
        return cli_usage_error(cmd, "the appkey is required: --appkey or $%s", CLI_ENV_APPKEY);
    }
    c.run_id = (long long)bh_time_now();
    c.pid = (long)getpid();
    const bh_client_options copts = {5000, 60000, (size_t)16 * 1024 * 1024, NULL};
    c.client = bh_client_new(&copts);
    if (!c.client) {
        bh_wipe(&c.cred.key, sizeof c.cred.key);
        return cli_internal(cmd, BH_ENOMEM);
    }

    check_happy(&c);
    check_retry(&c, "baohanapply: idempotent retry gets the same Payurl", R_IDEMP, 0);
    check_retry(&c, "baohanapply: same applyno, other content refused", R_CONFLICT, 1);
    check_all_missing(&c);
    check_types(&c);
    check_decrypt(&c);
    check_signatures(&c);
    check_unknown_field(&c);
    check_numbers(&c);
    check_form(&c);
    check_stale(&c);
    check_appkey(&c);
    check_malformed(&c);
    check_oversized(&c);
    check_replay(&c);
    check_states(&c);
    if (c.admin_url)
        check_rejected(&c);
    if (c.admin_url || c.wait)
        check_issued(&c);

    size_t passed = 0, skipped = 0;
    for (size_t i = 0; i < c.count; i++) {
        passed += c.results[i].pass != 0;
        skipped += c.results[i].skipped != 0;
    }
    if (c.oom) {
        rc = cli_internal(cmd, BH_ENOMEM);
    } else if (json ? !print_json(&c, passed, skipped) : (print_table(&c, passed, skipped), 0)) {
        rc = cli_internal(cmd, BH_ENOMEM);
    } else {
        /* Skipped checks are not failures, but --wait asked for them to run. */
        rc = passed + skipped == c.count && (!c.wait || !skipped) ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
    }
    bh_client_free(c.client);
    free(c.results);
    bh_wipe(&c.cred.key, sizeof c.cred.key);
    return rc;
}

const cli_cmd cli_cmd_conform = {
    "conform",
    "test an implementation of the protocol over the network (conformance suite)",
    "usage: baohan conform --role institution --url BASE [--appkey A] [--appsecret S]\n"
    "                      [--key K] [--admin-url URL --admin-token T] [--wait SECONDS]\n"
    "                      [--json]\n",
    "Runs the conformance checks against the institution at BASE (POST\n"
    "BASE/INTERFACE): the happy path of baohanapply, idempotent retries, every\n"
    "required field missing in turn, wrong types and lengths, wrong, upper-case\n"
    "and missing signatures, unknown fields, JSON numbers, requestData form bodies,\n"
    "stale timestamps, an unknown appkey, undecryptable ciphertext, malformed JSON,\n"
    "a 2 MiB body, replays and the state rules; with an issued guarantee (admin API\n"
    "or --wait) also getbaohaninfo, its files and MD5s, claimsnotice and quitapply.\n"
    "Each check uses its own applyno\n"
    "(CF<time>-<pid>-<n>), so reruns do not collide. Prints one line per check,\n"
    "PASS or FAIL; a failure shows the rule of PROTOCOL.md it breaks, the request\n"
    "sent and the answer (each cut to 300 bytes; secrets are never shown).\n"
    "\n"
    "Credentials are those the institution configured for the platform: options\n"
    "first, then $BAOHAN_APPKEY, $BAOHAN_APPSECRET and $BAOHAN_SM4_KEY.\n"
    "\n"
    "Options:\n"
    "  --role institution  the side under test (platform is not available yet)\n"
    "  --url BASE          the institution's base URL\n"
    "  --admin-url URL     baohand's admin API: the suite completes the bidder's page,\n"
    "  --admin-token T     records the premium and approves or rejects applications\n"
    "                      itself, and runs the checks that need an issued guarantee\n"
    "  --wait SECONDS      without an admin API: asks on stderr for an operator to\n"
    "                      issue each guarantee, reads its baohanno from stdin, polls\n"
    "                      getbaohaninfo every 2 s; on time out those checks are\n"
    "                      SKIPPED\n"
    "  --json              one JSON object: passed, failed and every check\n"
    "\n"
    "Exit status: 0 when no check fails (and, with --wait, none was skipped);\n"
    "1 otherwise; 2 for bad usage.\n"
    "\n"
    "Example:\n"
    "  BAOHAN_APPSECRET=… BAOHAN_SM4_KEY=… \\\n"
    "    baohan conform --role institution --url https://fi.example.com/api --appkey FI001\n",
    run_conform,
};
