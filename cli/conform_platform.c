/* baohan conform --role platform: a conformance suite for any implementation
 * of the platform side. The suite plays the institution: it serves the
 * institution's interfaces on --listen (the platform under test must have
 * that address as the URL of the institution whose credentials the suite
 * holds; conform_receiver.c), makes the platform send baohanapply,
 * getbaohaninfo, giveupnotice, quitapply and claimsnotice through its admin
 * API (or asks an operator to, with --wait), checks what arrives, and sends
 * baohannotice and quitnotice to the platform's BASE URL.
 *
 * The receiver answers every baohanapply with code 1 and a Payurl, even one
 * whose signature is wrong (that check fails on its own), so that one fault
 * in what the platform sends does not hide everything after it. The one
 * exception is the application the suite refuses on purpose. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conform_receiver.h"

/* ---- checks on what the platform sent ------------------------------------------------- */

#define R_SENT "PROTOCOL.md §1, §2: the platform POSTs each interface to <institution URL>/<name>"
#define R_SENTBODY "PROTOCOL.md §2: a flat JSON object, or requestData=<JSON> as a form body"
#define R_SENTKEY "PROTOCOL.md §3, §6: appkey is the one agreed with the institution"
#define R_SENTSIGN                                                                                 \
    "PROTOCOL.md §4: sign is SM3 of the fields sorted by byte value as key=value&…&appsecret="
#define R_SENTTIME "PROTOCOL.md §6: timestamp is the current China Standard Time (window 300 s)"
#define R_SENTDECRYPT "PROTOCOL.md §5: 密文 fields are SM4-ECB, PKCS#7, Base64 with the agreed key"
#define R_SENTFIELDS "PROTOCOL.md §7: every required field present, types and lengths as specified"
#define R_SENTSAME "PROTOCOL.md §7.1: the request carries the application's fields unchanged"
#define R_PAYURL "PROTOCOL.md §7.1: the platform keeps the Payurl the institution answered"
#define R_REFUSEDAPP "PROTOCOL.md §7.1, §2: code 0 from the institution: the application is refused"
#define R_CONTRA "PROTOCOL.md §8: a notice that contradicts what the platform knows is refused"
#define R_NOTICE "PROTOCOL.md §7.2: baohannotice of an application the platform sent: code 1"
#define R_NIDEMP "PROTOCOL.md §8 (idempotency): a repeated notice is answered as the first"
#define R_NCONFLICT "PROTOCOL.md §8: a notice that contradicts an accepted one is refused"
#define R_NEVER "PROTOCOL.md §8: a notice for an application the platform never sent is refused"
#define R_REPLAY "PROTOCOL.md §6: a replay of an idempotent request is answered as the first"
#define R_QUITSTATE "PROTOCOL.md §8 (state rules): quitnotice only after a quitapply"
#define R_QUITNO "PROTOCOL.md §8: quitnotice must name the guarantee's own baohanno"
#define R_QUIT "PROTOCOL.md §7.6, §8: quitnotice after quitapply: code 1, and again when repeated"

enum { S_ARRIVED, S_BODY, S_APPKEY, S_SIGN, S_TIME, S_DECRYPT, S_FIELDS, S_SAME, S_COUNT };

static const char *const sent_checks[S_COUNT][2] = {
    {"reached the institution's URL", R_SENT},
    {"a JSON object or a requestData form body", R_SENTBODY},
    {"appkey is the institution's", R_SENTKEY},
    {"signature verifies (SM3 over the byte-sorted string)", R_SENTSIGN},
    {"timestamp within 300 s of now", R_SENTTIME},
    {"every 密文 field decrypts", R_SENTDECRYPT},
    {"required fields present and valid", R_SENTFIELDS},
    {"the fields given to the admin API", R_SENTSAME},
};

/* Whether sent check `k` applies to `iface` (`given`: with fields to compare). */
static int sent_applies(int k, const char *iface, int given)
{
    const bh_iface *spec = bh_iface_find(iface);
    int encrypted = 0;
    for (size_t i = 0; spec && i < spec->nrequest; i++)
        encrypted |= (spec->request[i].flags & BH_F_ENCRYPTED) != 0;
    return (k != S_DECRYPT || encrypted) && (k != S_SAME || given);
}

static void sent_name(int k, const char *iface, char name[96])
{
    snprintf(name, 96, "%s sent: %s", iface, sent_checks[k][0]);
}

/* Records every sent check of `iface` as failed (got 0) or skipped. */
static void sent_not_run(conform *c, const char *iface, int given, int got, const char *why)
{
    char name[96];
    for (int k = 0; k < S_COUNT; k++) {
        if (!sent_applies(k, iface, given))
            continue;
        sent_name(k, iface, name);
        if (got < 0)
            conform_record_skip(c, name, sent_checks[k][1], why);
        else
            conform_record(c, name, 0, sent_checks[k][1], NULL, why);
    }
}

/* The first problem in `d` as "field: message". */
static void first_problem(const bh_diag *d, const char *what, char *why, size_t n)
{
    if (d->count && d->items[0].field && d->items[0].field[0])
        snprintf(why, n, "%s: %s: %s", what, d->items[0].field, d->items[0].message);
    else
        snprintf(why, n, "%s: %s", what, d->count ? d->items[0].message : "not valid");
}

/* Checks one request the platform sent. `given`: the plaintext fields the
 * admin API was given (compared); `want_applyno`/`want_baohanno`: what the
 * request must name (may be NULL). */
static void check_sent(conform *c, const char *iface, const rx *r, const bh_msg *given,
                       const char *want_baohanno)
{
    exchange e;
    conform_ex_init(&e);
    char name[96], why[400];
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    bh_msg *wire = NULL, *plain = NULL;
    bh_diag d = BH_DIAG_INIT;
    const bh_iface *spec = bh_iface_find(iface);
    if (bh_buf_add(&e.sent, r->body, r->len) || bh_buf_addstr(&e.body, r->answer))
        c->oom = 1;
    e.status = 200;

    sent_name(S_ARRIVED, iface, name);
    conform_record(c, name, 1, sent_checks[S_ARRIVED][1], &e, "");

    int body_ok = bh_body_json(r->content_type, r->body, r->len, &json, &d) == BH_OK &&
                  bh_msg_parse(json.data ? json.data : "", json.len, BH_MSG_MAX_REQUEST, 0, &wire,
                               &d) == BH_OK;
    if (!body_ok)
        first_problem(&d, "the body is not one flat JSON object", why, sizeof why);
    sent_name(S_BODY, iface, name);
    conform_record(c, name, body_ok, sent_checks[S_BODY][1], &e, why);
    bh_diag_release(&d);

    const char *appkey = wire ? bh_msg_text(wire, "appkey") : NULL;
    snprintf(why, sizeof why, "appkey is \"%s\", expected \"%s\"", appkey ? appkey : "(absent)",
             c->cred.appkey);
    sent_name(S_APPKEY, iface, name);
    conform_record(c, name, appkey && strcmp(appkey, c->cred.appkey) == 0, sent_checks[S_APPKEY][1],
                   &e, why);

    int sign_ok = wire && bh_sign_verify(wire, c->cred.appsecret, &d) == BH_OK;
    first_problem(&d, "the signature does not verify", why, sizeof why);
    sent_name(S_SIGN, iface, name);
    conform_record(c, name, sign_ok, sent_checks[S_SIGN][1], &e,
                   wire ? why : "the body is not a JSON object");
    bh_diag_release(&d);

    int time_ok = wire && bh_check_timestamp(wire, bh_time_now(), 300, &d) == BH_OK;
    first_problem(&d, "timestamp", why, sizeof why);
    sent_name(S_TIME, iface, name);
    conform_record(c, name, time_ok, sent_checks[S_TIME][1], &e,
                   wire ? why : "the body is not a JSON object");
    bh_diag_release(&d);

    int dec_ok = wire && bh_decrypt_fields(spec, &c->cred.key, wire, &plain, &d) == BH_OK;
    first_problem(&d, "does not decrypt", why, sizeof why);
    if (sent_applies(S_DECRYPT, iface, given != NULL)) {
        sent_name(S_DECRYPT, iface, name);
        conform_record(c, name, dec_ok, sent_checks[S_DECRYPT][1], &e,
                       wire ? why : "the body is not a JSON object");
    }
    bh_diag_release(&d);

    int fields_ok = plain && bh_validate(spec, BH_PART_REQUEST, plain, &d) == BH_OK;
    first_problem(&d, "invalid", why, sizeof why);
    if (!plain)
        snprintf(why, sizeof why, "no decrypted request to validate");
    const char *bno = plain ? bh_msg_text(plain, "baohanno") : NULL;
    if (fields_ok && want_baohanno && (!bno || strcmp(bno, want_baohanno) != 0)) {
        fields_ok = 0;
        snprintf(why, sizeof why, "baohanno is \"%s\", the guarantee's is \"%s\"",
                 bno ? bno : "(absent)", want_baohanno);
    }
    sent_name(S_FIELDS, iface, name);
    conform_record(c, name, fields_ok, sent_checks[S_FIELDS][1], &e, why);
    bh_diag_release(&d);

    if (given) {
        int same = plain != NULL;
        snprintf(why, sizeof why, "no decrypted request to compare");
        for (size_t i = 0; same && i < bh_msg_count(given); i++) {
            const bh_field *f = bh_msg_at(given, i);
            const char *got = bh_msg_text(plain, f->key);
            if (!got || strcmp(got, f->value) != 0) {
                same = 0;
                snprintf(why, sizeof why, "%s: given \"%.120s\", sent \"%.120s\"", f->key, f->value,
                         got ? got : "(absent)");
            }
        }
        sent_name(S_SAME, iface, name);
        conform_record(c, name, same, sent_checks[S_SAME][1], &e, why);
    }
    bh_msg_free(plain);
    bh_msg_free(wire);
    bh_buf_release(&json);
    conform_ex_release(&e);
}

/* ---- making the platform send ------------------------------------------------------- */

/* Tells the operator what to do (--wait); the deadline is shared by all waits. */
static int64_t operator_deadline(conform *c, const char *what)
{
    if (!c->deadline)
        c->deadline = bh_time_now() + c->wait;
    if (c->deadline > bh_time_now()) /* once it has passed, nothing more is asked */
        fprintf(stderr, "conform: waiting up to %lld s: %s\n",
                (long long)(c->deadline - bh_time_now()), what);
    return c->deadline;
}

/* An admin call that should answer {"ok":true,…}; 1, or 0 with `why`. */
static int admin_ok(conform *c, const char *path, const char *body, bh_msg **answer, char *why,
                    size_t wn)
{
    bh_buf raw;
    bh_buf_init(&raw, BH_BUF_MAX_DEFAULT);
    int status = 0;
    bh_msg *m = conform_admin_json(c, "POST", path, body, &status, &raw);
    const bh_field *ok = m ? bh_msg_get(m, "ok") : NULL;
    int good = status == 200 && ok && ok->type == BH_JTRUE;
    if (!good) {
        char shown[SHOW_MAX];
        bh_utf8_printable(raw.data ? raw.data : "", raw.len, shown, sizeof shown);
        snprintf(why, wn, "setup: POST %s answered %s%d %s", path, status ? "HTTP " : "no answer ",
                 status, shown);
        bh_msg_free(m);
        m = NULL;
    }
    *answer = m;
    bh_buf_release(&raw);
    return good;
}

/* Makes the platform send one new baohanapply and takes it from the receiver.
 * `refuse`: the receiver answers it code 0. Returns 1 (applyno, admin id when
 * known, the request in `*r` unless r is NULL), 0 (setup failed: `why`) or -1
 * (cannot run: `why`). `*given` (may be NULL) gets the fields the admin API
 * was given. */
static int obtain_app(conform *c, int refuse, char applyno[80], long long *id, rx *r,
                      bh_msg **given, char *why, size_t wn)
{
    pstate *s = c->role_state;
    rx tmp;
    rx *got = r ? r : &tmp;
    *id = 0;
    if (given)
        *given = NULL;
    if (!c->admin_url && !c->wait) {
        snprintf(why, wn, "needs the platform to send baohanapply: give --admin-url or --wait");
        return -1;
    }
    if (!c->admin_url) {
        char what[600];
        snprintf(what, sizeof what,
                 "make the platform send a new baohanapply (application %d of this run) to "
                 "%s/baohanapply",
                 ++s->nwanted, s->listen_url);
        if (!conform_rx_take(s, "baohanapply", NULL, operator_deadline(c, what), got)) {
            snprintf(why, wn, "no baohanapply reached %s within --wait %lld s", s->listen_url,
                     (long long)c->wait);
            return -1;
        }
        snprintf(applyno, 80, "%s", got->applyno);
        if (!r)
            free(tmp.body);
        return 1;
    }
    char id_applyno[64];
    conform_next_applyno(c, id_applyno);
    snprintf(applyno, 80, "%s", id_applyno);
    if (refuse) {
        pthread_mutex_lock(&s->mu);
        snprintf(s->refuse, sizeof s->refuse, "%s", applyno);
        pthread_mutex_unlock(&s->mu);
    }
    bh_msg *plain = conform_plain_for("baohanapply", applyno), *answer = NULL;
    bh_buf body;
    bh_buf_init(&body, BH_BUF_MAX_DEFAULT);
    int ok = plain && bh_buf_addch(&body, '{') == BH_OK &&
             conform_add_member(&body, "institution", c->institution, 0) &&
             bh_buf_addstr(&body, ",\"fields\":") == BH_OK &&
             bh_msg_to_json(plain, 0, &body) == BH_OK && bh_buf_addch(&body, '}') == BH_OK;
    if (!ok) {
        c->oom = 1;
        snprintf(why, wn, "out of memory");
    } else {
        ok = admin_ok(c, "/admin/platform/apply", body.data, &answer, why, wn);
    }
    bh_msg *app = ok ? conform_member_object(answer, "application") : NULL;
    const char *idtext = app ? bh_msg_text(app, "id") : NULL;
    if (ok && (!idtext || (*id = strtoll(idtext, NULL, 10)) <= 0)) {
        ok = 0;
        snprintf(why, wn, "setup: POST /admin/platform/apply answered no application.id");
    }
    if (ok && !conform_rx_take(s, "baohanapply", applyno, bh_time_now() + RX_WAIT, got)) {
        ok = 0;
        snprintf(why, wn,
                 "the admin API accepted application %s, but no baohanapply for it reached "
                 "%s/baohanapply",
                 applyno, s->listen_url);
    }
    if (ok && !r)
        free(tmp.body);
    if (ok && given) {
        *given = plain;
        plain = NULL;
    }
    bh_msg_free(app);
    bh_msg_free(answer);
    bh_msg_free(plain);
    bh_buf_release(&body);
    return ok;
}

/* ---- notices ------------------------------------------------------------------------- */

/* The guarantee number the suite gives `applyno`: "BH-<applyno>", or, when
 * that would be over 64 characters (a platform's own long applyno), "BH-"
 * and 32 hex digits of its SM3. */
static void baohanno_for(const char *applyno, char out[128])
{
    char h[BH_SM3_HEX_LEN + 1];
    if (strlen(applyno) <= 61 || bh_sm3_hex(applyno, strlen(applyno), h) != BH_OK)
        snprintf(out, 128, "BH-%s", applyno);
    else
        snprintf(out, 128, "BH-%.32s", h);
}

/* A plaintext notice: baohannotice (applystatus `status`) or quitnotice. */
static bh_msg *notice_plain(conform *c, const char *iface, const char *applyno,
                            const char *baohanno, const char *status)
{
    /* One generatetime for the run: a retry must carry the same content. */
    char now[BH_TIME_TEXT_LEN + 1];
    bh_time_format((int64_t)c->run_id, now);
    bh_msg *m = bh_msg_new();
    bh_err err = m ? bh_msg_set_str(m, "applyno", applyno) : BH_ENOMEM;
    err = err ? err : bh_msg_set_str(m, "baohanno", baohanno);
    if (strcmp(iface, "baohannotice") == 0) {
        err = err ? err : bh_msg_set_str(m, "instname", "一致性检查保险股份有限公司");
        err = err ? err : bh_msg_set_str(m, "generatetime", now);
        err = err ? err : bh_msg_set_str(m, "applystatus", status);
    }
    if (err) {
        c->oom = 1;
        bh_msg_free(m);
        return NULL;
    }
    return m;
}

/* Sends a notice; returns its code. */
static int send_notice(conform *c, const char *iface, const char *applyno, const char *baohanno,
                       const char *status, int64_t now, exchange *e)
{
    bh_msg *plain = notice_plain(c, iface, applyno, baohanno, status);
    int code = plain ? conform_send_plain(c, iface, plain, now, e) : -1;
    bh_msg_free(plain);
    return code;
}

/* The platform's conform_fresh_fn. A refusal check gets a notice for one
 * application the platform sent and nobody answered (made once); an accepting
 * check gets a new application each time. quitnotice: the guarantee quitapply
 * was sent for. */
static bh_msg *fresh_notice(conform *c, const char *name, const char *rule, const char *iface,
                            int64_t now, int accept)
{
    pstate *s = c->role_state;
    char applyno[80], baohanno[128], why[400];
    int got = 1;
    if (strcmp(iface, "quitnotice") == 0) {
        snprintf(applyno, sizeof applyno, "%s", s->quit_applyno);
        snprintf(baohanno, sizeof baohanno, "%s", s->quit_baohanno);
        if (!applyno[0]) {
            conform_record_skip(c, name, rule, "no quitapply was sent");
            return NULL;
        }
    } else if (accept) {
        long long id;
        got = obtain_app(c, 0, applyno, &id, NULL, NULL, why, sizeof why);
    } else {
        if (!s->neg_got) {
            long long id;
            s->neg_got =
                obtain_app(c, 0, s->neg_applyno, &id, NULL, NULL, s->neg_why, sizeof s->neg_why);
            s->neg_got = s->neg_got == 0 ? 2 : s->neg_got;
        }
        got = s->neg_got == 2 ? 0 : s->neg_got;
        snprintf(applyno, sizeof applyno, "%s", s->neg_applyno);
        snprintf(why, sizeof why, "%s", s->neg_why);
    }
    if (got != 1) {
        if (got < 0)
            conform_record_skip(c, name, rule, why);
        else
            conform_record(c, name, 0, rule, NULL, why);
        return NULL;
    }
    if (strcmp(iface, "quitnotice") != 0)
        baohanno_for(applyno, baohanno);
    bh_msg *plain = notice_plain(c, iface, applyno, baohanno, "1");
    bh_msg *wire = conform_seal_or_fail(c, name, rule, iface, plain, now);
    bh_msg_free(plain);
    return wire;
}

/* A notice for a new application, sent twice with the same signature:
 * both answered code 1. */
static void check_replay(conform *c)
{
    const char *name = "replay: the same signed baohannotice answered as the first";
    bh_msg *wire = fresh_notice(c, name, R_REPLAY, "baohannotice", bh_time_now(), 1);
    if (!wire)
        return;
    exchange e;
    conform_ex_init(&e);
    conform_post_msg(c, "baohannotice", wire, &e);
    if (conform_code_of(&e) != 1) {
        conform_record(c, name, 0, R_REPLAY, &e, "setup: the first notice was not accepted");
    } else {
        conform_post_msg(c, "baohannotice", wire, &e);
        conform_record(c, name, conform_code_of(&e) == 1, R_REPLAY, &e,
                       "expected code 1 again for the very same request");
    }
    conform_ex_release(&e);
    bh_msg_free(wire);
}

/* Records `names` (with their rules) as failed (got 0) or skipped. */
static void not_run(conform *c, const char *const (*names)[2], size_t n, int got, const char *why)
{
    for (size_t i = 0; i < n; i++) {
        if (got < 0)
            conform_record_skip(c, names[i][0], names[i][1], why);
        else
            conform_record(c, names[i][0], 0, names[i][1], NULL, why);
    }
}

static void app_path(char *out, size_t n, long long id, const char *tail)
{
    snprintf(out, n, "/admin/platform/applications/%lld%s", id, tail);
}

/* The application the receiver refuses: recorded as refused, a notice for it refused. */
static void check_refused(conform *c)
{
    static const char *const names[][2] = {
        {"baohanapply refused by the institution: recorded as refused (admin API)", R_REFUSEDAPP},
        {"baohannotice: application the institution refused, refused (admin API)", R_CONTRA},
    };
    char applyno[80], why[400], path[128], state[64], baohanno[128];
    long long id;
    int got = obtain_app(c, 1, applyno, &id, NULL, NULL, why, sizeof why);
    if (got != 1) {
        not_run(c, names, 2, got, why);
        return;
    }
    app_path(path, sizeof path, id, "");
    conform_admin_show(c, path, "state", state, sizeof state);
    snprintf(why, sizeof why, "GET %s: state is \"%s\", expected \"refused\"", path, state);
    conform_record(c, names[0][0], strcmp(state, "refused") == 0, names[0][1], NULL, why);
    exchange e;
    conform_ex_init(&e);
    baohanno_for(applyno, baohanno);
    int code = send_notice(c, "baohannotice", applyno, baohanno, "1", bh_time_now(), &e);
    conform_record(c, names[1][0], code == 0, names[1][1], &e, "expected code 0");
    conform_ex_release(&e);
}

/* Makes the platform send `iface` for the application `id`/`applyno`
 * (`baohanno`, may be NULL, for the operator's instructions): through the
 * admin API action of that name (`body` may be NULL), or by asking the
 * operator. 1 with the request in `*r` and, through the admin API, its
 * answer in `*answer` (may be NULL); 0 or -1 with `why`. */
static int obtain_call(conform *c, const char *iface, long long id, const char *applyno,
                       const char *baohanno, const char *body, rx *r, bh_msg **answer, char *why,
                       size_t wn)
{
    pstate *s = c->role_state;
    if (answer)
        *answer = NULL;
    if (!c->admin_url) {
        char what[700];
        snprintf(what, sizeof what, "make the platform send %s for application %s%s%s%s to %s/%s",
                 iface, applyno, baohanno ? " (guarantee " : "", baohanno ? baohanno : "",
                 baohanno ? ")" : "", s->listen_url, iface);
        if (conform_rx_take(s, iface, applyno, operator_deadline(c, what), r))
            return 1;
        snprintf(why, wn, "no %s for %s reached %s within --wait %lld s", iface, applyno,
                 s->listen_url, (long long)c->wait);
        return -1;
    }
    static const char *const verbs[][2] = {
        {"getbaohaninfo", "/getbaohaninfo"},
        {"giveupnotice", "/giveup"},
        {"quitapply", "/quitapply"},
        {"claimsnotice", "/claims"},
    };
    const char *verb = "";
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcmp(iface, verbs[i][0]) == 0)
            verb = verbs[i][1];
    char path[128];
    bh_msg *m = NULL;
    app_path(path, sizeof path, id, verb);
    if (!admin_ok(c, path, body, &m, why, wn))
        return 0;
    if (answer)
        *answer = m;
    else
        bh_msg_free(m);
    if (conform_rx_take(s, iface, applyno, bh_time_now() + RX_WAIT, r))
        return 1;
    snprintf(why, wn, "POST %s answered ok, but no %s for %s reached %s/%s", path, iface, applyno,
             s->listen_url, iface);
    if (answer) {
        bh_msg_free(*answer);
        *answer = NULL;
    }
    return 0;
}

/* What the platform recorded of one file check, by URL field. */
typedef struct file_checks {
    int ok[CONFORM_FILES]; /* 1 matched, 0 mismatch, -1 not checked */
    int others_bad;        /* checks of anything else (baohanfile) that failed */
    char bad[200];         /* the fields that failed */
} file_checks;

static bh_err file_check_item(const char *el, size_t len, void *ctx)
{
    file_checks *fc = ctx;
    bh_msg *m = NULL;
    if (bh_msg_parse(el, len, len, BH_PARSE_ALLOW_NESTED, &m, NULL) != BH_OK)
        return BH_OK; /* not an object: counts as no check */
    const char *field = bh_msg_text(m, "field");
    const bh_field *ok = bh_msg_get(m, "ok");
    int good = ok && ok->type == BH_JTRUE;
    int known = 0;
    for (size_t i = 0; field && i < CONFORM_FILES; i++)
        if (strcmp(field, conform_files[i][0]) == 0) {
            fc->ok[i] = good;
            known = 1;
        }
    fc->others_bad += !known && !good;
    if (!good) {
        size_t n = strlen(fc->bad);
        snprintf(fc->bad + n, sizeof fc->bad - n, "%s%s", n ? ", " : "", field ? field : "?");
    }
    bh_msg_free(m);
    return BH_OK;
}

/* application.file_checks of an admin answer; 0 when it has none. */
static int read_file_checks(const bh_msg *answer, file_checks *fc)
{
    memset(fc, 0, sizeof *fc);
    for (size_t i = 0; i < CONFORM_FILES; i++)
        fc->ok[i] = -1;
    bh_msg *app = conform_member_object(answer, "application");
    const bh_field *f = app ? bh_msg_get(app, "file_checks") : NULL;
    int have = f && f->type == BH_JARRAY &&
               bh_json_array_each(f->value, f->value_len, file_check_item, fc, NULL,
                                  "file_checks") == BH_OK;
    bh_msg_free(app);
    return have;
}

#define R_DOWNLOAD "PROTOCOL.md §7.3: the platform downloads every file URL of the answer"
#define R_FILECHECK "PROTOCOL.md §7.3: each file is checked against its MD5, baohanfile against it"
#define R_MISMATCH "PROTOCOL.md §7.3: a file that does not match its MD5 is recorded as a mismatch"

/* getbaohaninfo of an issued guarantee: what the platform sent, that it
 * downloaded every file and (admin API) found them matching; with `spoil`
 * the answer's ordermd5 is wrong and only that mismatch is checked. */
static void check_info(conform *c, long long id, const char *applyno, const char *baohanno,
                       int spoil)
{
    static const char *const names[][2] = {
        {"getbaohaninfo: the platform downloads every file URL", R_DOWNLOAD},
        {"getbaohaninfo: every file checked and found to match (admin API)", R_FILECHECK},
        {"getbaohaninfo: a file whose MD5 differs recorded as a mismatch (admin API)", R_MISMATCH},
    };
    pstate *s = c->role_state;
    char why[700];
    rx r;
    bh_msg *answer = NULL;
    if (spoil) {
        pthread_mutex_lock(&s->mu);
        snprintf(s->bad_md5, sizeof s->bad_md5, "%s", applyno);
        pthread_mutex_unlock(&s->mu);
    }
    int got =
        obtain_call(c, "getbaohaninfo", id, applyno, baohanno, NULL, &r, &answer, why, sizeof why);
    if (got != 1) {
        if (!spoil)
            sent_not_run(c, "getbaohaninfo", 0, got, why);
        not_run(c, names + (spoil ? 2 : 0), spoil ? 1 : c->admin_url ? 2 : 1, got, why);
        return;
    }
    if (!spoil) {
        check_sent(c, "getbaohaninfo", &r, NULL, baohanno);
        int n = conform_rx_downloads(s, applyno, bh_time_now() + RX_WAIT);
        snprintf(why, sizeof why, "%d of the %d file URLs of the answer were downloaded", n,
                 CONFORM_FILES);
        conform_record(c, names[0][0], n == CONFORM_FILES, names[0][1], NULL, why);
    }
    free(r.body);
    if (c->admin_url) {
        file_checks fc;
        int have = read_file_checks(answer, &fc), all = have && !fc.others_bad;
        for (size_t i = 0; i < CONFORM_FILES; i++)
            all = all && fc.ok[i] == (spoil && i == 1 ? 0 : 1);
        if (!have)
            snprintf(why, sizeof why, "the admin API's answer has no application.file_checks");
        else if (spoil)
            snprintf(why, sizeof why,
                     "ordermd5 was wrong: expected orderurl (only) not ok; not ok: %s",
                     fc.bad[0] ? fc.bad : "none");
        else
            snprintf(why, sizeof why, "every file matches, but the platform found not ok: %s",
                     fc.bad[0] ? fc.bad : "(a file was not checked)");
        conform_record(c, names[spoil ? 2 : 1][0], all, names[spoil ? 2 : 1][1], NULL, why);
    }
    bh_msg_free(answer);
}

/* A new application accepted by a notice (issued); 1, or 0/-1 with `why`. */
static int obtain_issued(conform *c, char applyno[80], long long *id, char baohanno[128], char *why,
                         size_t wn)
{
    int got = obtain_app(c, 0, applyno, id, NULL, NULL, why, wn);
    if (got != 1)
        return got;
    exchange e;
    conform_ex_init(&e);
    baohanno_for(applyno, baohanno);
    if (send_notice(c, "baohannotice", applyno, baohanno, "1", bh_time_now(), &e) != 1) {
        got = 0;
        snprintf(why, wn, "setup: the platform refused the baohannotice of application %s",
                 applyno);
    }
    conform_ex_release(&e);
    return got;
}

/* giveupnotice of a sent application, claimsnotice of an issued one, and
 * the getbaohaninfo whose MD5 is wrong: what the platform sends. */
static void check_giveup_claims(conform *c)
{
    char applyno[80], baohanno[128], why[700];
    long long id;
    rx r;
    int got = obtain_app(c, 0, applyno, &id, NULL, NULL, why, sizeof why);
    if (got == 1)
        got = obtain_call(c, "giveupnotice", id, applyno, NULL, NULL, &r, NULL, why, sizeof why);
    if (got == 1) {
        check_sent(c, "giveupnotice", &r, NULL, NULL);
        free(r.body);
    } else {
        sent_not_run(c, "giveupnotice", 0, got, why);
    }

    bh_msg *claim = bh_msg_new();
    bh_buf body;
    bh_buf_init(&body, BH_BUF_MAX_DEFAULT);
    if (!claim || conform_add_claim(claim) || bh_msg_to_json(claim, 0, &body))
        c->oom = 1;
    got = obtain_issued(c, applyno, &id, baohanno, why, sizeof why);
    if (got == 1)
        got = obtain_call(c, "claimsnotice", id, applyno, baohanno, body.data, &r, NULL, why,
                          sizeof why);
    if (got == 1) {
        check_sent(c, "claimsnotice", &r, c->admin_url ? claim : NULL, baohanno);
        free(r.body);
    } else {
        sent_not_run(c, "claimsnotice", c->admin_url != NULL, got, why);
    }
    bh_msg_free(claim);
    bh_buf_release(&body);

    if (!c->admin_url)
        return;
    got = obtain_issued(c, applyno, &id, baohanno, why, sizeof why);
    if (got == 1)
        check_info(c, id, applyno, baohanno, 1);
    else
        conform_record(c,
                       "getbaohaninfo: a file whose MD5 differs recorded as a mismatch (admin API)",
                       0, R_MISMATCH, NULL, why);
}

enum { M_PAYURL, M_HAPPY, M_RETRY, M_RETRY_EXTRA, M_CONFLICT, M_QUITEARLY, M_COUNT };

/* The main application: what the platform sent, its Payurl, the notice, its
 * retry and a contradicting one, a quitnotice before any quitapply; then
 * quitapply and the quitnotice checks. */
static void check_main(conform *c)
{
    static const char *const names[M_COUNT][2] = {
        {"baohanapply: the platform keeps the Payurl (admin API)", R_PAYURL},
        {"baohannotice: happy path (applystatus 1 with baohanno)", R_NOTICE},
        {"baohannotice: idempotent retry accepted", R_NIDEMP},
        {"baohannotice: retry with an unknown field added accepted", R_NIDEMP},
        {"baohannotice: same applyno, other baohanno refused", R_NCONFLICT},
        {"quitnotice: no quitapply sent refused", R_QUITSTATE},
    };
    pstate *s = c->role_state;
    char applyno[80], baohanno[128], why[700], path[128], text[1024], want[1024];
    long long id;
    rx r;
    bh_msg *given = NULL;
    int got = obtain_app(c, 0, applyno, &id, &r, &given, why, sizeof why);
    if (got != 1) {
        sent_not_run(c, "baohanapply", c->admin_url != NULL, got, why);
        not_run(c, names + (c->admin_url ? 0 : 1), M_COUNT - (c->admin_url ? 0 : 1), got, why);
        return;
    }
    check_sent(c, "baohanapply", &r, given, NULL);
    free(r.body);
    bh_msg_free(given);
    app_path(path, sizeof path, id, "");
    if (c->admin_url) {
        conform_admin_show(c, path, "payurl", text, sizeof text);
        bh_buf enc;
        bh_buf_init(&enc, sizeof want - 1);
        if (!conform_percent_encode(applyno, strlen(applyno), &enc))
            c->oom = 1;
        snprintf(want, sizeof want, "%s/pay/%s", s->listen_url, enc.data ? enc.data : "");
        bh_buf_release(&enc);
        snprintf(why, sizeof why,
                 "GET %s: payurl is \"%.150s\", the institution answered \"%.150s\"", path, text,
                 want);
        conform_record(c, names[M_PAYURL][0], strcmp(text, want) == 0, names[M_PAYURL][1], NULL,
                       why);
    }

    exchange e;
    conform_ex_init(&e);
    baohanno_for(applyno, baohanno);
    int64_t now = bh_time_now();
    int code = send_notice(c, "baohannotice", applyno, baohanno, "1", now - 10, &e);
    int ok = code == 1;
    snprintf(why, sizeof why, "expected code 1");
    if (ok && c->admin_url) {
        conform_admin_show(c, path, "baohanno", text, sizeof text);
        ok = strcmp(text, baohanno) == 0;
        snprintf(why, sizeof why, "code 1, but GET %s shows baohanno \"%.80s\", not \"%.80s\"",
                 path, text, baohanno);
    }
    conform_record(c, names[M_HAPPY][0], ok, names[M_HAPPY][1], &e, why);
    code = send_notice(c, "baohannotice", applyno, baohanno, "1", now, &e);
    conform_record(c, names[M_RETRY][0], code == 1, names[M_RETRY][1], &e,
                   "expected code 1 for the same notice again (new timestamp and sign)");
    /* An institution may add a signed field to its retry (§4: unknown
     * fields are signed, kept and ignored): the result is the same. */
    bh_msg *extra = notice_plain(c, "baohannotice", applyno, baohanno, "1");
    code = extra && bh_msg_set_str(extra, "platformcode", "P001") == BH_OK
               ? conform_send_plain(c, "baohannotice", extra, now, &e)
               : -1;
    bh_msg_free(extra);
    conform_record(c, names[M_RETRY_EXTRA][0], code == 1, names[M_RETRY_EXTRA][1], &e,
                   "expected code 1 for the same result again, with platformcode added");
    char other[140];
    snprintf(other, sizeof other, "%s-OTHER", baohanno);
    code = send_notice(c, "baohannotice", applyno, other, "1", now, &e);
    conform_record(c, names[M_CONFLICT][0], code == 0, names[M_CONFLICT][1], &e,
                   "expected code 0 for another baohanno");
    code = send_notice(c, "quitnotice", applyno, baohanno, NULL, now, &e);
    conform_record(c, names[M_QUITEARLY][0], code == 0, names[M_QUITEARLY][1], &e,
                   "expected code 0: no quitapply was sent for this guarantee");
    conform_ex_release(&e);

    /* quitapply → quitnotice */
    static const char *const quit_names[][2] = {
        {"quitnotice: without applyno", R_MISSING},
        {"quitnotice: without baohanno", R_MISSING},
        {"quitnotice: wrong baohanno refused", R_QUITNO},
        {"quitnotice: after quitapply accepted, repeat accepted", R_QUIT},
    };
    check_info(c, id, applyno, baohanno, 0);
    got = obtain_call(c, "quitapply", id, applyno, baohanno,
                      "{\"reason\":\"招标项目终止，申请退保（一致性检查）\"}", &r, NULL, why,
                      sizeof why);
    if (got != 1) {
        sent_not_run(c, "quitapply", 0, got, why);
        not_run(c, quit_names, 4, got, why);
        return;
    }
    check_sent(c, "quitapply", &r, NULL, baohanno);
    free(r.body);
    snprintf(s->quit_applyno, sizeof s->quit_applyno, "%s", applyno);
    snprintf(s->quit_baohanno, sizeof s->quit_baohanno, "%s", baohanno);
    conform_check_all_missing(c, "quitnotice");
    conform_ex_init(&e);
    now = bh_time_now();
    code = send_notice(c, "quitnotice", applyno, other, NULL, now, &e);
    conform_record(c, quit_names[2][0], code == 0, quit_names[2][1], &e, "expected code 0");
    code = send_notice(c, "quitnotice", applyno, baohanno, NULL, now - 5, &e);
    if (code != 1)
        conform_record(c, quit_names[3][0], 0, quit_names[3][1], &e,
                       "expected code 1 for the first quitnotice");
    else
        conform_record(c, quit_names[3][0],
                       send_notice(c, "quitnotice", applyno, baohanno, NULL, now, &e) == 1,
                       quit_names[3][1], &e, "expected code 1 for the repeated quitnotice");
    conform_ex_release(&e);
}

/* A rejection notice (applystatus 0) for a new application. */
static void check_rejection(conform *c)
{
    const char *name = "baohannotice: rejection (applystatus 0) accepted";
    char applyno[80], baohanno[128], why[400];
    long long id;
    int got = obtain_app(c, 0, applyno, &id, NULL, NULL, why, sizeof why);
    if (got != 1) {
        if (got < 0)
            conform_record_skip(c, name, R_NOTICE, why);
        else
            conform_record(c, name, 0, R_NOTICE, NULL, why);
        return;
    }
    exchange e;
    conform_ex_init(&e);
    baohanno_for(applyno, baohanno);
    int code = send_notice(c, "baohannotice", applyno, baohanno, "0", bh_time_now(), &e);
    conform_record(c, name, code == 1, R_NOTICE, &e, "expected code 1");
    conform_ex_release(&e);
}

static void check_never_sent(conform *c)
{
    const char *name = "baohannotice: never-sent application refused";
    char applyno[64], baohanno[128];
    conform_next_applyno(c, applyno);
    baohanno_for(applyno, baohanno);
    exchange e;
    conform_ex_init(&e);
    int code = send_notice(c, "baohannotice", applyno, baohanno, "1", bh_time_now(), &e);
    conform_record(c, name, code == 0, R_NEVER, &e, "expected code 0");
    conform_ex_release(&e);
}

static void check_types(conform *c)
{
    char longno[80];
    memset(longno, 'X', 65);
    longno[65] = '\0';
    conform_check_changed(c, "baohannotice: applystatus \"2\" refused", R_TYPES, "baohannotice",
                          "applystatus", "2", 0);
    conform_check_changed(c, "baohannotice: generatetime \"yesterday\" refused", R_TYPES,
                          "baohannotice", "generatetime", "yesterday", 0);
    conform_check_changed(c, "baohannotice: baohanno of 65 characters refused", R_TYPES,
                          "baohannotice", "baohanno", longno, 0);
}

int conform_platform(const cli_cmd *cmd, conform *c)
{
    static const char *const numbers[] = {"applystatus", "1", NULL};
    pstate s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    s.listen_url = c->listen_url;
    c->role_state = &s;
    c->fresh = fresh_notice;
    conform_http *h = NULL;
    unsigned port = 0;
    char why[300];
    if (conform_http_start(c->listen, BH_MSG_MAX_REQUEST, conform_rx_handle, &s, &h, &port, why,
                           sizeof why) != BH_OK) {
        cli_error(cmd, "--listen: %s", why);
        pthread_cond_destroy(&s.cv);
        pthread_mutex_destroy(&s.mu);
        return CLI_EXIT_USAGE;
    }
    /* With port 0 the address the platform must call is the bound port. */
    const char *colon = strrchr(c->listen, ':');
    pthread_mutex_lock(&s.mu); /* the receiver reads it */
    snprintf(c->listen_url, sizeof c->listen_url, "http://%.*s:%u",
             (int)(colon ? colon - c->listen : 0), c->listen, port);
    pthread_mutex_unlock(&s.mu);
    fprintf(stderr,
            "conform: playing the institution at %s (the platform must have it as the "
            "institution's URL)\n",
            c->listen_url);

    check_main(c);
    if (c->admin_url)
        check_refused(c);
    check_giveup_claims(c);
    check_rejection(c);
    check_never_sent(c);
    conform_check_all_missing(c, "baohannotice");
    conform_check_missing(c, "baohannotice", "appkey");
    conform_check_missing(c, "baohannotice", "timestamp");
    check_types(c);
    conform_check_signatures(c, "baohannotice");
    conform_check_unknown_field(c, "baohannotice", "platformcode", "P001", R_UNKNOWN);
    conform_check_unknown_field(c, "baohannotice", "Zextra", "Z", R_UNKNOWN_CASE);
    conform_check_numbers(c, "baohannotice", "baohannotice: applystatus as a JSON number accepted",
                          numbers);
    conform_check_form(c, "baohannotice");
    conform_check_transport(c, "baohannotice");
    check_replay(c);

    conform_http_stop(h);
    conform_rx_release(&s);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    c->role_state = NULL;
    return CLI_EXIT_OK;
}
