/* baohan conform: a conformance suite that tests any implementation of the
 * institution side over the network, one independent check at a time, and
 * says for each failure what was sent, what came back and which rule of
 * PROTOCOL.md it breaks.
 *
 * Every check uses its own applyno ("CF<time>-<pid>-<n>"), so checks do not
 * depend on each other and reruns against the same server do not collide.
 * Broken requests are made by sealing a valid one and then changing the wire
 * message (and re-signing it where the point is not the signature). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define SHOW_MAX 300 /* bytes of a request or answer shown for a failure */

typedef struct result {
    char name[96];
    int pass;
    const char *rule;
    char why[400];
    char sent[SHOW_MAX + 8];
    char answer[SHOW_MAX + 320]; /* "HTTP 200 " or the transport failure, then the body */
} result;

typedef struct conform {
    bh_client *client;
    char url[1024];
    const char *admin_url, *admin_token;
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
    if (admin_call(c, "GET", "/admin/applications?state=applied&limit=10000", NULL, &out) == 200 &&
        out.data) {
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

static void print_table(const conform *c, size_t passed)
{
    for (size_t i = 0; i < c->count; i++) {
        const result *r = &c->results[i];
        printf("%s  %s\n", r->pass ? "PASS" : "FAIL", r->name);
        if (r->pass)
            continue;
        printf("      rule:   %s\n", r->rule);
        printf("      why:    %s\n", r->why);
        if (r->sent[0])
            printf("      sent:   %s\n", r->sent);
        if (r->answer[0])
            printf("      answer: %s\n", r->answer);
    }
    printf("%zu passed, %zu failed\n", passed, c->count - passed);
}

static int add_member(bh_buf *out, const char *key, const char *value, int comma)
{
    return bh_buf_addf(out, "%s\"%s\":", comma ? "," : "", key) == BH_OK &&
           bh_json_quote(value, strlen(value), out) == BH_OK;
}

static int print_json(const conform *c, size_t passed)
{
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    int ok = bh_buf_addstr(&out, "{\"role\":\"institution\"") == BH_OK &&
             add_member(&out, "url", c->url, 1) &&
             bh_buf_addf(&out, ",\"passed\":%zu,\"failed\":%zu,\"checks\":[", passed,
                         c->count - passed) == BH_OK;
    for (size_t i = 0; ok && i < c->count; i++) {
        const result *r = &c->results[i];
        ok = bh_buf_addstr(&out, i ? ",{" : "{") == BH_OK && add_member(&out, "name", r->name, 0) &&
             add_member(&out, "result", r->pass ? "PASS" : "FAIL", 1) &&
             add_member(&out, "rule", r->rule, 1);
        if (ok && !r->pass)
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

/* ---- the command ---------------------------------------------------------------------- */

static int run_conform(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_conform;
    const char *role = NULL, *url = NULL, *secret_flag = NULL, *key_flag = NULL;
    const char *appkey_flag = NULL, *admin_url = NULL, *admin_token = NULL;
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

    conform c;
    memset(&c, 0, sizeof c);
    snprintf(c.url, sizeof c.url, "%s", url);
    for (size_t n = strlen(c.url); n > 0 && c.url[n - 1] == '/'; n--)
        c.url[n - 1] = '\0';
    c.admin_url = admin_url;
    c.admin_token = admin_token;
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

    size_t passed = 0;
    for (size_t i = 0; i < c.count; i++)
        passed += c.results[i].pass != 0;
    if (c.oom) {
        rc = cli_internal(cmd, BH_ENOMEM);
    } else if (json ? !print_json(&c, passed) : (print_table(&c, passed), 0)) {
        rc = cli_internal(cmd, BH_ENOMEM);
    } else {
        rc = passed == c.count ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
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
    "                      [--key K] [--admin-url URL --admin-token T] [--json]\n",
    "Runs the conformance checks against the institution at BASE (POST\n"
    "BASE/INTERFACE): the happy path of baohanapply, idempotent retries, every\n"
    "required field missing in turn, wrong types and lengths, wrong, upper-case\n"
    "and missing signatures, unknown fields, JSON numbers, requestData form bodies,\n"
    "stale timestamps, an unknown appkey, undecryptable ciphertext, malformed JSON,\n"
    "a 2 MiB body, replays and the state rules. Each check uses its own applyno\n"
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
    "  --admin-url URL     baohand's admin API: also checks that quitapply is\n"
    "  --admin-token T     refused on a rejected application (the check rejects one)\n"
    "  --json              one JSON object: passed, failed and every check\n"
    "\n"
    "Exit status: 0 when every check passes; 1 when any fails; 2 for bad usage.\n"
    "\n"
    "Example:\n"
    "  BAOHAN_APPSECRET=… BAOHAN_SM4_KEY=… \\\n"
    "    baohan conform --role institution --url https://fi.example.com/api --appkey FI001\n",
    run_conform,
};
