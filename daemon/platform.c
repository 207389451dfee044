/* The platform role (see platform.h): the notices it serves, through the
 * shared pipeline, and the calls it makes for the operator. SQL stays in the
 * store; the wire stays in libbaohan (bh_open, bh_client_call). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "institution.h"
#include "platform.h"
#include "serve.h"
#include "banned.h"

static const char *state_text(bh_papp_state s)
{
    const char *name = bh_papp_state_name(s);
    return name ? name : "unknown";
}

static bh_err set_text(char **slot, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return BH_ENOMEM;
    free(*slot);
    *slot = copy;
    return BH_OK;
}

/* ---- the notices it serves ------------------------------------------------------- */

/* Whether `baohanno` is the guarantee number the platform recorded. */
static int same_baohanno(const bh_papp *app, const char *baohanno)
{
    return baohanno && app->baohanno && strcmp(baohanno, app->baohanno) == 0;
}

/* baohannotice: the underwriting result of an application it sent. A
 * notice with the result already recorded is a retry even when its content
 * differs from the first (an unknown field added, another instname or
 * generatetime): `*again` is set, it is answered code 1 and changes
 * nothing. */
static bh_err take_baohannotice(bh_request *r, bh_papp *app, int *again)
{
    const char *status = bh_msg_text(r->business, "applystatus");
    const char *baohanno = bh_msg_text(r->business, "baohanno");
    int approved = status && strcmp(status, "1") == 0;
    if (!status || (!approved && strcmp(status, "0") != 0)) {
        bh_req_say(r, 0, "applystatus: must be 1 (approved) or 0 (not approved)");
        return BH_OK;
    }
    switch (app->state) {
    case BH_PAPP_SENDING:
    case BH_PAPP_SENT:
        if (approved && (!baohanno || !*baohanno || strcmp(baohanno, "无") == 0)) {
            bh_req_say(r, 0, "baohanno: an approved guarantee (applystatus 1) needs its number");
            return BH_OK;
        }
        app->state = approved ? BH_PAPP_ISSUED : BH_PAPP_REJECTED;
        bh_req_say(r, 1, BH_OK_MESSAGE);
        return approved ? set_text(&app->baohanno, baohanno) : BH_OK;
    case BH_PAPP_GIVEN_UP:
        /* A rejection that crossed the give-up on the wire: both say "no
         * guarantee"; recorded, the state stays. */
        if (!approved) {
            bh_req_say(r, 1, BH_OK_MESSAGE);
            return BH_OK;
        }
        bh_req_say(r, 0,
                   "applyno: %s was given up (giveupnotice accepted by the institution); it "
                   "cannot be issued",
                   r->applyno);
        return BH_OK;
    case BH_PAPP_REFUSED:
        bh_req_say(r, 0,
                   "applyno: the institution refused application %s (baohanapply answered "
                   "code 0); a notice for it contradicts that",
                   r->applyno);
        return BH_OK;
    case BH_PAPP_ISSUED:
    case BH_PAPP_QUIT_REQUESTED:
    case BH_PAPP_QUIT:
    case BH_PAPP_CLAIMED:
    case BH_PAPP_REJECTED:
        if (approved ? app->state != BH_PAPP_REJECTED && same_baohanno(app, baohanno)
                     : app->state == BH_PAPP_REJECTED) {
            *again = 1;
            bh_req_say(r, 1, BH_OK_MESSAGE);
            return BH_OK;
        }
        /* fall through */
    default:
        bh_req_say(r, 0,
                   "applyno: %s already has a different baohannotice (state %s); a second one "
                   "is refused",
                   r->applyno, state_text(app->state));
        return BH_OK;
    }
}

/* quitnotice: the withdrawal the platform asked for (quitapply) is done.
 * Once it is recorded, another quitnotice for the same guarantee is a
 * retry (`*again`), whatever else it carries. */
static bh_err take_quitnotice(bh_request *r, bh_papp *app, int *again)
{
    const char *baohanno = bh_msg_text(r->business, "baohanno");
    if (!same_baohanno(app, baohanno)) {
        bh_req_say(r, 0, "baohanno: %s is not the guarantee number of application %s",
                   baohanno ? baohanno : "", r->applyno);
        return BH_OK;
    }
    if (app->state == BH_PAPP_QUIT) {
        *again = 1;
        bh_req_say(r, 1, BH_OK_MESSAGE);
        return BH_OK;
    }
    if (app->state != BH_PAPP_QUIT_REQUESTED) {
        bh_req_say(r, 0, "applyno: no withdrawal of %s was requested (state %s)", r->applyno,
                   state_text(app->state));
        return BH_OK;
    }
    app->state = BH_PAPP_QUIT;
    bh_req_say(r, 1, BH_OK_MESSAGE);
    return BH_OK;
}

/* One unit: a repeat gets its first answer; otherwise the notice must fit
 * what the platform knows; accepted, it changes the state, is recorded once
 * and its answer is kept — all with the audit row. */
static bh_err unit_notice(bh_tx *tx, void *arg)
{
    bh_request *r = arg;
    int answered;
    bh_err err = bh_req_repeat_answer(tx, r, &answered);
    if (err || answered)
        return err ? err : bh_req_audit_in(tx, r);
    bh_papp app = {0};
    err = bh_tx_papp_by_applyno(tx, r->appkey, r->applyno, &app);
    if (err == BH_ENOTFOUND) {
        bh_req_say(r, 0, "applyno: no application %s was sent to this institution", r->applyno);
        return bh_req_audit_in(tx, r);
    }
    if (err)
        return err;
    bh_papp_state before = app.state;
    int again = 0;
    err = strcmp(r->iface->name, "baohannotice") == 0 ? take_baohannotice(r, &app, &again)
                                                      : take_quitnotice(r, &app, &again);
    char *json = NULL;
    int record = r->code == 1 && !again; /* a retry is kept as an answer only */
    if (!err && record)
        err = bh_msg_to_json_str(r->business, BH_MSG_MAX_REQUEST, &json);
    if (!err && record)
        err = bh_tx_papp_update(tx, &app, before, r->now);
    if (!err && record)
        err = bh_tx_pnotice_add(tx, app.id, r->iface->name, r->hash, json, r->now);
    if (!err && r->code == 1)
        err = bh_req_keep_answer(tx, r);
    free(json);
    bh_papp_release(&app);
    return err ? err : bh_req_audit_in(tx, r);
}

static bh_err dispatch(bh_request *r)
{
    r->unit = unit_notice;
    return bh_req_hash(r);
}

int bh_platform_take(bh_platform *p, bh_http_call *call)
{
    const bh_iface *iface = bh_served_iface(bh_http_call_request(call)->path, BH_SIDE_PLATFORM);
    if (!iface)
        return 0;
    bh_request proto = {.plat = p, .store = p->store, .config = p->config, .iface = iface};
    bh_serve_call(&proto, call, dispatch);
    return 1;
}

/* ---- the calls it makes ------------------------------------------------------------ */

/* One call to the institution about one application. */
typedef struct call call;
/* The state change an answer makes (the application as stored now). */
typedef bh_err (*record_fn)(bh_tx *tx, call *c, bh_papp *app);

struct call {
    bh_platform *p;
    const bh_iface *iface;
    int64_t id;
    bh_papp app; /* as read before the call */
    const bh_counterpart *cp;
    bh_msg *plain;    /* the business fields sent */
    bh_msg *response; /* the answer, or NULL when none came */
    int http_status;
    int64_t now;
    bh_buf detail; /* the audit row's text: masked */
    record_fn record;
    /* getbaohaninfo */
    char *info_json;
    bh_filecheck checks[8];
    size_t nchecks;
    bh_plat_answer *ans;
    bh_diag *d;
    /* quitapply: the guarantee is marked quit_requested before the call,
     * so a quitnotice the institution sends before it answers fits; a
     * refusal or no answer undoes the mark. */
    int mark_quit, marked;
};

static bh_err unit_load(bh_tx *tx, void *arg)
{
    call *c = arg;
    bh_papp_release(&c->app);
    bh_err err = bh_tx_papp_by_id(tx, c->id, &c->app);
    if (err == BH_ENOTFOUND)
        bh_diag_add(c->d, err, "id", "no application %lld", (long long)c->id);
    return err;
}

/* A text (string or number) field of an answer, its name matched without
 * regard to case (PROTOCOL.md §2: `Code` and `code` are the same field). */
static const char *answer_text(const bh_msg *m, const char *key)
{
    const bh_field *f = bh_msg_get(m, key);
    if (!f)
        f = bh_msg_get_nocase(m, key);
    return f && (f->type == BH_JSTRING || f->type == BH_JNUMBER) ? f->value : NULL;
}

/* The answer's `data` object (its name matched without regard to case),
 * with its field names in lower case, as PROTOCOL.md §7.3 writes them, so
 * the file checks and the ID number's masking find them however the
 * institution spelled them. NULL when there is no such object. */
static bh_msg *answer_data(const bh_msg *response)
{
    const bh_field *f = bh_msg_get(response, "data");
    if (!f)
        f = bh_msg_get_nocase(response, "data");
    bh_msg *raw = NULL, *data = NULL;
    if (!f || f->type != BH_JOBJECT ||
        bh_msg_parse(f->value, f->value_len, f->value_len, BH_PARSE_ALLOW_NESTED, &raw, NULL))
        return NULL;
    data = bh_msg_new();
    for (size_t i = 0; data && i < bh_msg_count(raw); i++) {
        const bh_field *g = bh_msg_at(raw, i);
        char key[128];
        size_t n = 0;
        for (; g->key[n] && n + 1 < sizeof key; n++)
            key[n] = g->key[n] >= 'A' && g->key[n] <= 'Z' ? (char)(g->key[n] + 32) : g->key[n];
        key[n] = '\0';
        if (bh_msg_set(data, key, g->value, g->value_len, g->type)) {
            bh_msg_free(data);
            data = NULL;
        }
    }
    bh_msg_free(raw);
    return data;
}

/* An answer's JSON for the audit row: the guarantee's Base64 left out, ID
 * numbers masked. */
static bh_err masked_answer(const bh_msg *response, bh_buf *out)
{
    bh_msg *copy = bh_msg_dup(response), *data = copy ? answer_data(copy) : NULL;
    bh_err err = copy ? BH_OK : BH_ENOMEM;
    if (!err && data) {
        /* The original goes, whatever the case of its name: only the
         * masked copy is written. */
        const bh_field *f = bh_msg_get_nocase(copy, "data");
        while (f && !err) {
            char key[128];
            snprintf(key, sizeof key, "%s", f->key);
            if (!bh_msg_remove(copy, key))
                err = BH_EINVAL;
            f = bh_msg_get_nocase(copy, "data");
        }
        bh_buf inner;
        bh_buf_init(&inner, (size_t)1 << 20);
        const char *card = bh_msg_text(data, "bidderpersoncard");
        char masked[64];
        bh_mask_id(card, masked, sizeof masked);
        if (card)
            err = bh_msg_set_str(data, "bidderpersoncard", masked);
        if (!err && bh_msg_get(data, "baohanfile"))
            err = bh_msg_set_str(data, "baohanfile", "(left out)");
        if (!err)
            err = bh_msg_to_json(data, 0, &inner);
        if (!err)
            err = bh_msg_set(copy, "data", inner.data, inner.len, BH_JOBJECT);
        bh_buf_release(&inner);
    }
    if (!err)
        err = bh_msg_to_json(copy, 0, out);
    bh_msg_free(data);
    bh_msg_free(copy);
    return err;
}

/* The audit detail, cut at a character boundary so it stays UTF-8. */
static void detail_limit(bh_buf *b, size_t max)
{
    if (b->len <= max)
        return;
    size_t n = max;
    while (n > 0 && ((unsigned char)b->data[n] & 0xC0) == 0x80)
        n--;
    b->len = n;
    b->data[n] = '\0';
    if (bh_buf_addstr(b, "…"))
        b->data[n] = '\0';
}

/* POSTs the sealed request and keeps the answer and the audit detail. */
static bh_err exchange(call *c)
{
    bh_credentials cred = {c->cp->appkey, c->cp->appsecret, c->cp->key};
    bh_client *client = bh_client_new(NULL);
    bh_buf wire;
    bh_buf_init(&wire, (size_t)4 * 1024 * 1024);
    bh_diag d = BH_DIAG_INIT;
    bh_err err = client ? BH_OK : BH_ENOMEM;
    if (!err)
        err = bh_client_call(client, c->cp->url, c->iface, &cred, c->plain, c->now, &c->response,
                             &c->http_status, &wire, &d);
    const char *cause = d.count ? d.items[0].message : bh_strerror(err);
    /* The detail is best effort: an audit row with a shorter text beats
     * none, so a failed append (over the cap) only loses text. */
    bh_err lost = bh_buf_addf(&c->detail, "POST %s/%s %s", c->cp->url, c->iface->name,
                              wire.data ? wire.data : "");
    if (err) {
        lost = lost ? lost : bh_buf_addf(&c->detail, " → no answer: %s", cause);
        bh_diag_add(c->d, err == BH_ENOMEM ? err : BH_EIO, "url", "%s to %s/%s: %s",
                    c->iface->name, c->cp->url, c->iface->name, cause);
        c->ans->code = -1;
        snprintf(c->ans->message, sizeof c->ans->message, "%s", cause);
    } else {
        const char *code = answer_text(c->response, "code");
        const char *message = answer_text(c->response, "message");
        c->ans->code = code && strcmp(code, "1") == 0 ? 1 : code && strcmp(code, "0") == 0 ? 0 : -1;
        snprintf(c->ans->message, sizeof c->ans->message, "%s", message ? message : "");
        lost = lost ? lost : bh_buf_addf(&c->detail, " → HTTP %d ", c->http_status);
        bh_buf answer;
        bh_buf_init(&answer, (size_t)1 << 20);
        if (!lost && masked_answer(c->response, &answer) == BH_OK)
            lost = bh_buf_add(&c->detail, answer.data, answer.len);
        bh_buf_release(&answer);
        if (c->http_status >= 500 && c->ans->code == 0) {
            /* A server fault (ours answers "internal error … nothing was
             * stored, please retry" with 500), not a refusal: recorded as
             * no answer, so sending again stays possible. */
            c->ans->code = -1;
            bh_diag_add(c->d, BH_EIO, "code",
                        "%s/%s answered HTTP %d, a server fault, not an answer (%s): nothing "
                        "changed, send it again",
                        c->cp->url, c->iface->name, c->http_status, c->ans->message);
            err = BH_EIO;
        } else if (c->ans->code < 0) {
            bh_diag_add(c->d, BH_EFORMAT, "code",
                        "the answer of %s/%s has no code 0 or 1 (HTTP %d)", c->cp->url,
                        c->iface->name, c->http_status);
            err = BH_EFORMAT;
        }
    }
    (void)lost;
    detail_limit(&c->detail, 8000);
    bh_diag_release(&d);
    bh_buf_release(&wire);
    bh_client_free(client);
    return err;
}

/* Marks an issued guarantee quit_requested before quitapply is sent. */
static bh_err unit_mark_quit(bh_tx *tx, void *arg)
{
    call *c = arg;
    bh_papp app = {0};
    bh_err err = bh_tx_papp_by_id(tx, c->id, &app);
    if (!err && app.state == BH_PAPP_ISSUED) {
        app.state = BH_PAPP_QUIT_REQUESTED;
        err = bh_tx_papp_update(tx, &app, BH_PAPP_ISSUED, bh_time_now());
        c->marked = !err;
    }
    bh_papp_release(&app);
    return err;
}

/* Undoes unit_mark_quit's mark when nothing else moved the state since. */
static bh_err unmark_quit(bh_tx *tx, call *c)
{
    bh_papp app = {0};
    bh_err err = bh_tx_papp_by_id(tx, c->id, &app);
    if (!err && app.state == BH_PAPP_QUIT_REQUESTED) {
        app.state = BH_PAPP_ISSUED;
        err = bh_tx_papp_update(tx, &app, BH_PAPP_QUIT_REQUESTED, c->now);
    }
    bh_papp_release(&app);
    return err;
}

/* The audit row of the call, and the answer's effect when one came. */
static bh_err unit_record(bh_tx *tx, void *arg)
{
    call *c = arg;
    bh_audit row = {c->now,         "out",           c->iface->name,  c->app.appkey,
                    c->app.applyno, c->ans->code,    c->http_status,  c->detail.data};
    bh_err err = bh_tx_audit_add(tx, &row);
    if (!err && c->marked && c->ans->code != 1)
        err = unmark_quit(tx, c);
    if (err || c->ans->code < 0)
        return err;
    bh_papp app = {0};
    err = bh_tx_papp_by_id(tx, c->id, &app);
    bh_papp_state before = app.state;
    if (!err) {
        app.last_code = c->ans->code;
        err = set_text(&app.last_message, c->ans->message);
    }
    if (!err && c->record)
        err = c->record(tx, c, &app);
    if (!err)
        err = bh_tx_papp_update(tx, &app, before, c->now);
    bh_papp_release(&app);
    return err;
}

/* Sends c->plain for the application c->app and records the outcome. A
 * call with no usable answer is audited, changes nothing else, and is an
 * error named in c->d. */
static bh_err send_call(call *c, bh_err (*after)(call *c))
{
    c->cp = bh_config_counterpart(c->p->config, c->app.appkey);
    if (!c->cp)
        return bh_diag_add(c->d, BH_EINVAL, "institution",
                           "%s (appkey %s) is no longer in the configuration", c->app.institution,
                           c->app.appkey);
    if (c->mark_quit) {
        bh_err err = bh_store_write(c->p->store, unit_mark_quit, c);
        if (err)
            return bh_diag_add(c->d, err, "", "the application cannot be marked: %s",
                               bh_strerror(err));
    }
    c->now = bh_time_now();
    bh_err sent = exchange(c);
    if (!sent && after)
        sent = after(c);
    bh_err err = bh_store_write(c->p->store, unit_record, c);
    if (err && !bh_diag_first_code(c->d))
        bh_diag_add(c->d, err, "", "the answer cannot be stored: %s", bh_strerror(err));
    return sent ? sent : err;
}

static void call_init(call *c, bh_platform *p, const char *iface, int64_t id, bh_plat_answer *ans,
                      bh_diag *d)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->iface = bh_iface_find(iface);
    c->id = id;
    c->ans = ans;
    c->d = d;
    ans->code = -1;
    ans->message[0] = '\0';
    bh_buf_init(&c->detail, (size_t)4 * 1024 * 1024);
}

static void call_release(call *c)
{
    bh_papp_release(&c->app);
    bh_msg_free(c->plain);
    bh_msg_free(c->response);
    bh_buf_release(&c->detail);
    free(c->info_json);
    for (size_t i = 0; i < c->nchecks; i++) {
        free(c->checks[i].url);
        free(c->checks[i].md5_expected);
        free(c->checks[i].md5_actual);
        free(c->checks[i].detail);
    }
}

/* The request's applyno (and baohanno when `with_baohanno`), then `extra`'s
 * fields. */
static bh_err build_plain(call *c, int with_baohanno, const bh_msg *extra)
{
    if (with_baohanno && !c->app.baohanno)
        return bh_diag_add(c->d, BH_EINVAL, "state",
                           "application %lld has no guarantee number yet (state %s)",
                           (long long)c->id, state_text(c->app.state));
    c->plain = bh_msg_new();
    bh_err err = c->plain ? bh_msg_set_str(c->plain, "applyno", c->app.applyno) : BH_ENOMEM;
    if (!err && with_baohanno)
        err = bh_msg_set_str(c->plain, "baohanno", c->app.baohanno);
    for (size_t i = 0; !err && extra && i < bh_msg_count(extra); i++) {
        const bh_field *f = bh_msg_at(extra, i);
        if (strcmp(f->key, "applyno") == 0 || strcmp(f->key, "baohanno") == 0 ||
            strcmp(f->key, "appkey") == 0 || strcmp(f->key, "timestamp") == 0 ||
            strcmp(f->key, "sign") == 0)
            continue; /* the platform's own record decides these */
        err = bh_msg_set(c->plain, f->key, f->value, f->value_len, f->type);
    }
    if (!err)
        err = bh_validate(c->iface, BH_PART_PLAIN_REQUEST, c->plain, c->d);
    return err;
}

/* Loads the application, builds the request, sends it, records it. */
static bh_err act(bh_platform *p, const char *iface, int64_t id, int with_baohanno,
                  const bh_msg *extra, record_fn record, bh_err (*after)(call *c),
                  bh_plat_answer *ans, bh_diag *d)
{
    call c;
    call_init(&c, p, iface, id, ans, d);
    c.record = record;
    /* The only call whose answer a notice can overtake (an institution that
     * withdraws at once); baohanapply has its `sending` state. */
    c.mark_quit = strcmp(iface, "quitapply") == 0;
    bh_err err = bh_store_read(p->store, unit_load, &c);
    if (!err)
        err = build_plain(&c, with_baohanno, extra);
    if (!err)
        err = send_call(&c, after);
    call_release(&c);
    return err;
}

/* ---- baohanapply ---- */

static bh_err record_apply(bh_tx *tx, call *c, bh_papp *app)
{
    (void)tx;
    if (c->ans->code == 0) {
        if (app->state == BH_PAPP_SENDING)
            app->state = BH_PAPP_REFUSED;
        return BH_OK;
    }
    const bh_field *url = bh_msg_get_nocase(c->response, "payurl");
    if (!url || url->type != BH_JSTRING || !*url->value)
        return set_text(&app->last_message,
                        "code 1 without a Payurl (PROTOCOL.md 7.1): the state is unchanged");
    if (app->state == BH_PAPP_SENDING || app->state == BH_PAPP_REFUSED ||
        app->state == BH_PAPP_SENT) {
        app->state = BH_PAPP_SENT;
        return set_text(&app->payurl, url->value);
    }
    /* The baohannotice overtook this answer (the institution notified
     * before it answered): the state stays, the Payurl is still its. */
    return app->payurl ? BH_OK : set_text(&app->payurl, url->value);
}

typedef struct new_app {
    call *c;
    const bh_counterpart *cp;
    const char *institution;
    const char *applyno;
    char hash[BH_SM3_HEX_LEN + 1];
    char *json;
} new_app;

/* Records a new application, or finds the same one to send again. */
static bh_err unit_new_app(bh_tx *tx, void *arg)
{
    new_app *n = arg;
    call *c = n->c;
    bh_papp app = {0};
    bh_err err = bh_tx_papp_by_applyno(tx, n->cp->appkey, n->applyno, &app);
    if (err == BH_OK) {
        if (strcmp(app.content_hash, n->hash) != 0)
            err = bh_diag_add(c->d, BH_EDUPKEY, "applyno",
                              "%s was already sent to %s with different content; a new "
                              "application needs a new applyno",
                              n->applyno, app.institution);
        else if (app.state != BH_PAPP_SENDING && app.state != BH_PAPP_SENT &&
                 app.state != BH_PAPP_REFUSED)
            err = bh_diag_add(c->d, BH_EINVAL, "state",
                              "application %lld (%s) is %s: baohanapply is behind it",
                              (long long)app.id, n->applyno, state_text(app.state));
        c->id = app.id;
        bh_papp_release(&app);
        return err;
    }
    if (err != BH_ENOTFOUND)
        return err;
    app.institution = (char *)n->institution;
    app.appkey = n->cp->appkey;
    app.applyno = (char *)n->applyno;
    app.content_hash = n->hash;
    app.state = BH_PAPP_SENDING;
    app.request_json = n->json;
    app.last_code = -1;
    err = bh_tx_papp_insert(tx, &app, bh_time_now());
    c->id = app.id;
    if (!err) {
        bh_audit row = {app.created_at, "admin", "baohanapply", app.appkey, app.applyno, -1, 0,
                        "application recorded"};
        err = bh_tx_audit_add(tx, &row);
    }
    return err;
}

bh_err bh_plat_apply(bh_platform *p, const char *institution, const bh_msg *fields, int64_t *id,
                     bh_plat_answer *ans, bh_diag *d)
{
    call c;
    call_init(&c, p, "baohanapply", 0, ans, d);
    c.record = record_apply;
    new_app n = {&c, bh_config_counterpart_named(p->config, institution), institution, NULL, {0}, NULL};
    bh_err err = BH_OK;
    if (!n.cp)
        err = bh_diag_add(d, BH_EINVAL, "institution",
                          institution ? "no [institution %s] in the configuration"
                                      : "required: the [institution NAME] to send to%s",
                          institution ? institution : "");
    static const char *const envelope[] = {"appkey", "timestamp", "sign"};
    for (size_t i = 0; !err && fields && i < 3; i++)
        if (bh_msg_get(fields, envelope[i]))
            err = bh_diag_add(d, BH_EINVAL, envelope[i],
                              "leave it out: the platform fills appkey, timestamp and sign");
    if (!err && !fields)
        err = bh_diag_add(d, BH_EMISSING, "fields", "required: the business fields of baohanapply");
    if (!err)
        err = bh_validate(c.iface, BH_PART_PLAIN_REQUEST, fields, d);
    if (!err) {
        n.applyno = bh_msg_text(fields, "applyno");
        err = bh_content_hash(fields, n.hash);
    }
    if (!err)
        err = bh_msg_to_json_str(fields, BH_MSG_MAX_REQUEST, &n.json);
    if (!err)
        err = bh_store_write(p->store, unit_new_app, &n);
    *id = c.id;
    if (!err)
        err = bh_store_read(p->store, unit_load, &c);
    if (!err && !(c.plain = bh_msg_dup(fields)))
        err = BH_ENOMEM;
    if (!err)
        err = send_call(&c, NULL);
    free(n.json);
    call_release(&c);
    return err;
}

/* ---- getbaohaninfo: the data and its files ---- */

/* The answer's file fields and the MD5 field that vouches for each. */
static const struct {
    const char *url, *md5;
} file_fields[] = {
    {"baohanurl", "guaranteemd5"},
    {"orderurl", "ordermd5"},
    {"qualficationfileurl", "qualficationfilemd5"},
    {"businesslicenseurl", "businesslicensemd5"},
    {"guaranteexmlurl", "guaranteexmlmd5"},
    {"payfileurl", NULL},
};

static bh_err check_add(call *c, const char *field, const char *url, const char *expected,
                        const char *actual, int ok, const char *detail)
{
    if (c->nchecks >= sizeof c->checks / sizeof *c->checks)
        return BH_ERANGE;
    bh_filecheck *f = &c->checks[c->nchecks++];
    memset(f, 0, sizeof *f);
    f->field = (char *)field; /* static: the names above */
    f->ok = ok;
    bh_err err = set_text(&f->url, url ? url : "");
    if (!err)
        err = set_text(&f->md5_expected, expected);
    if (!err)
        err = set_text(&f->md5_actual, actual);
    if (!err)
        err = set_text(&f->detail, detail);
    return err;
}

/* Downloads one file and checks it; the bytes stay in `bytes`. */
static bh_err check_file(call *c, bh_client *client, const bh_msg *data, const char *url_key,
                         const char *md5_key, bh_buf *bytes)
{
    const char *url = bh_msg_text(data, url_key);
    const char *expected = md5_key ? bh_msg_text(data, md5_key) : NULL;
    char actual[BH_MD5_HEX_LEN + 1], detail[600];
    bh_buf_reset(bytes);
    if (!url || !*url)
        return check_add(c, url_key, "", expected, NULL, 0, "no URL in the answer");
    int status = 0;
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_client_get(client, url, &status, bytes, &d);
    if (err || status != 200) {
        if (err)
            snprintf(detail, sizeof detail, "download failed: %s",
                     d.count ? d.items[0].message : bh_strerror(err));
        else
            snprintf(detail, sizeof detail, "download failed: HTTP %d", status);
        bh_diag_release(&d);
        bh_buf_reset(bytes);
        return check_add(c, url_key, url, expected, NULL, 0, detail);
    }
    bh_diag_release(&d);
    if ((err = bh_md5_hex(bytes->data, bytes->len, actual)))
        return err;
    if (md5_key && (!expected || strcasecmp(expected, actual) != 0)) {
        snprintf(detail, sizeof detail, "the MD5 of the %zu bytes served is not %s", bytes->len,
                 md5_key);
        return check_add(c, url_key, url, expected, actual, 0, detail);
    }
    if (!md5_key && bytes->len == 0)
        return check_add(c, url_key, url, NULL, actual, 0, "the file is empty");
    return check_add(c, url_key, url, expected, actual, 1, NULL);
}

/* The Base64 copy of the guarantee against guaranteemd5 and the bytes
 * served at baohanurl. */
static bh_err check_copy(call *c, const bh_msg *data, const bh_buf *served, int served_ok)
{
    const char *b64 = bh_msg_text(data, "baohanfile");
    const char *expected = bh_msg_text(data, "guaranteemd5");
    char actual[BH_MD5_HEX_LEN + 1];
    bh_buf bytes;
    bh_buf_init(&bytes, (size_t)64 * 1024 * 1024);
    bh_err err = BH_OK;
    if (!b64 || bh_base64_decode(b64, strlen(b64), &bytes) != BH_OK) {
        err = check_add(c, "baohanfile", "", expected, NULL, 0,
                        b64 ? "not valid Base64" : "missing in the answer");
    } else if (!(err = bh_md5_hex(bytes.data, bytes.len, actual))) {
        const char *why = !expected || strcasecmp(expected, actual) != 0
                              ? "the MD5 of the decoded copy is not guaranteemd5"
                          : !served_ok ? "baohanurl could not be checked against it"
                          : served->len != bytes.len || memcmp(served->data, bytes.data, bytes.len)
                              ? "the decoded copy differs from the file served at baohanurl"
                              : NULL;
        err = check_add(c, "baohanfile", "", expected, actual, why == NULL, why);
    }
    bh_buf_release(&bytes);
    return err;
}

/* After a getbaohaninfo answer with code 1: every file, then the data to keep. */
static bh_err fetch_files(call *c)
{
    if (c->ans->code != 1)
        return BH_OK;
    bh_msg *data = answer_data(c->response);
    if (!data)
        return bh_diag_add(c->d, BH_EFORMAT, "data",
                           "the answer has code 1 but no data object (PROTOCOL.md 7.3)");
    bh_client *client = bh_client_new(NULL);
    bh_buf bytes, guarantee;
    bh_buf_init(&bytes, (size_t)64 * 1024 * 1024);
    bh_buf_init(&guarantee, (size_t)64 * 1024 * 1024);
    bh_err err = client ? BH_OK : BH_ENOMEM;
    int guarantee_ok = 0;
    for (size_t i = 0; !err && i < sizeof file_fields / sizeof *file_fields; i++) {
        err = check_file(c, client, data, file_fields[i].url, file_fields[i].md5,
                         i == 0 ? &guarantee : &bytes);
        if (!err && i == 0)
            guarantee_ok = c->checks[c->nchecks - 1].md5_actual != NULL;
    }
    if (!err)
        err = check_copy(c, data, &guarantee, guarantee_ok);
    (void)bh_msg_remove(data, "baohanfile"); /* kept: its checks, not its megabytes */
    if (!err)
        err = bh_msg_to_json_str(data, BH_MSG_MAX_REQUEST, &c->info_json);
    bh_buf_release(&bytes);
    bh_buf_release(&guarantee);
    bh_client_free(client);
    bh_msg_free(data);
    return err;
}

/* The checks and the data were made before this unit (no network inside
 * a unit): it only stores them. */
static bh_err record_info(bh_tx *tx, call *c, bh_papp *app)
{
    if (c->ans->code != 1 || !c->info_json)
        return BH_OK;
    app->info_at = c->now;
    bh_err err = set_text(&app->info_json, c->info_json);
    if (!err)
        err = bh_tx_filecheck_replace(tx, app->id, c->checks, c->nchecks, c->now);
    return err;
}

bh_err bh_plat_getbaohaninfo(bh_platform *p, int64_t id, bh_plat_answer *ans, bh_diag *d)
{
    return act(p, "getbaohaninfo", id, 1, NULL, record_info, fetch_files, ans, d);
}

/* ---- giveupnotice, quitapply, claimsnotice ---- */

static bh_err record_giveup(bh_tx *tx, call *c, bh_papp *app)
{
    (void)tx;
    if (c->ans->code == 1 && (app->state == BH_PAPP_SENDING || app->state == BH_PAPP_SENT ||
                              app->state == BH_PAPP_REJECTED))
        app->state = BH_PAPP_GIVEN_UP;
    return BH_OK;
}

static bh_err record_quitapply(bh_tx *tx, call *c, bh_papp *app)
{
    (void)tx;
    if (c->ans->code == 1 && app->state == BH_PAPP_ISSUED)
        app->state = BH_PAPP_QUIT_REQUESTED;
    return BH_OK;
}

static bh_err record_claims(bh_tx *tx, call *c, bh_papp *app)
{
    (void)tx;
    if (c->ans->code == 1 &&
        (app->state == BH_PAPP_ISSUED || app->state == BH_PAPP_QUIT_REQUESTED))
        app->state = BH_PAPP_CLAIMED;
    return BH_OK;
}

bh_err bh_plat_giveup(bh_platform *p, int64_t id, bh_plat_answer *ans, bh_diag *d)
{
    return act(p, "giveupnotice", id, 0, NULL, record_giveup, NULL, ans, d);
}

bh_err bh_plat_quitapply(bh_platform *p, int64_t id, const bh_msg *extra, bh_plat_answer *ans,
                         bh_diag *d)
{
    return act(p, "quitapply", id, 1, extra, record_quitapply, NULL, ans, d);
}

bh_err bh_plat_claims(bh_platform *p, int64_t id, const bh_msg *extra, bh_plat_answer *ans,
                      bh_diag *d)
{
    /* PROTOCOL.md §7.7 writes it Reason; a `reason` would travel as an
     * unknown field the institution signs and ignores. */
    if (extra && bh_msg_get(extra, "reason") && !bh_msg_get(extra, "Reason")) {
        ans->code = -1;
        ans->message[0] = '\0';
        return bh_diag_add(d, BH_EINVAL, "reason",
                           "claimsnotice's reason is spelt Reason, capital R (PROTOCOL.md "
                           "7.7); a lower-case reason would not reach the institution as one");
    }
    return act(p, "claimsnotice", id, 1, extra, record_claims, NULL, ans, d);
}
