/* The institution role (see institution.h): the request pipeline for the
 * five interfaces it serves, the state machine, downloads, and the
 * operator's workflow. SQL stays in the store; documents come from docgen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docgen.h"
#include "filetype.h"
#include "institution.h"
#include "serve.h"
#include "verify.h"
#include "web.h"
#include "banned.h"

bh_err bh_premium(const bh_config *config, int64_t amount_fen, int64_t *premium_fen)
{
    int64_t p;
    bh_err err = bh_rate_apply(&config->premium_rate, amount_fen, &p);
    if (err)
        return err;
    *premium_fen = p < config->min_premium_fen ? config->min_premium_fen : p;
    return BH_OK;
}

/* ---- one request --------------------------------------------------------- */

/* What a new application needs, computed before its unit of work: the store
 * runs units one after another on one writer thread, so whatever is not
 * store work (JSON, randomness, arithmetic) is done on the request's own
 * thread. */
typedef struct apply_prep {
    int64_t amount_fen, premium_fen;
    char token[BH_PAY_TOKEN_LEN + 1];
    bh_buf json;
} apply_prep;

/* ---- the interfaces --------------------------------------------------------- */

static bh_err pay_url(const bh_config *c, const char *token, bh_buf *out)
{
    size_t n = strlen(c->public_url);
    while (n > 0 && c->public_url[n - 1] == '/')
        n--;
    bh_err err = bh_buf_add(out, c->public_url, n);
    if (!err)
        err = bh_buf_addf(out, "/pay/%s", token);
    return err;
}

static bh_err answer_payurl(bh_request *r, const char *token)
{
    bh_buf url;
    bh_buf_init(&url, 4096);
    bh_err err = pay_url(r->inst->config, token, &url);
    if (!err && !r->answer && !(r->answer = bh_msg_new()))
        err = BH_ENOMEM;
    if (!err)
        err = bh_msg_set_str(r->answer, "Payurl", url.data);
    bh_buf_release(&url);
    return err;
}

static bh_err apply_prepare(const bh_request *r, apply_prep *p)
{
    const char *amount = bh_msg_text(r->business, "bzjamount");
    bh_err err = bh_money_parse(amount, strlen(amount), &p->amount_fen, NULL, NULL);
    if (!err)
        err = bh_premium(r->inst->config, p->amount_fen, &p->premium_fen);
    if (!err)
        err = bh_web_new_token(p->token);
    if (!err)
        err = bh_msg_to_json(r->business, 0, &p->json);
    return err;
}

/* A baohanapply whose (appkey, applyno) is already stored: the same content
 * is a retry and gets the same answer; different content is refused. Both
 * hashes are made only here: a new application is stored with an empty
 * content_hash, as its request_json is the content the hash is of (see
 * unit_apply and bh_app_content_hash), so the common case never hashes.
 * This runs on the store's writer thread, for repeats only. */
static bh_err apply_again(bh_tx *tx, bh_request *r)
{
    bh_app app = {0};
    bh_err err = bh_tx_app_by_applyno(tx, r->appkey, r->applyno, &app);
    if (err)
        return err == BH_ENOTFOUND ? BH_EIO : err; /* the duplicate was not the applyno */
    char stored[BH_SM3_HEX_LEN + 1];
    err = bh_app_content_hash(&app, stored);
    if (!err)
        err = bh_req_hash(r);
    if (err) {
        bh_app_release(&app);
        return err;
    }
    if (strcmp(stored, r->hash) == 0) {
        bh_req_say(r, 1, BH_OK_MESSAGE);
        err = answer_payurl(r, app.pay_token);
    } else {
        bh_req_say(r, 0,
                   "applyno: %s was already applied for with different content; a new "
                   "application needs a new applyno",
                   r->applyno);
    }
    bh_app_release(&app);
    return err;
}

static bh_err unit_apply(bh_tx *tx, void *arg)
{
    bh_request *r = arg;
    const apply_prep *p = r->prep;
    /* Insert first, look up only when it is taken: a new application is the
     * common case, and this unit runs on the store's one writer thread. */
    bh_app app = {0};
    app.appkey = (char *)r->appkey;
    app.applyno = (char *)r->applyno;
    app.content_hash = ""; /* that of request_json: made when a repeat needs it */
    app.state = BH_APP_APPLIED;
    app.pay_token = (char *)p->token;
    app.request_json = p->json.data;
    app.biddername = (char *)bh_msg_text(r->business, "biddername");
    app.biddercode = (char *)bh_msg_text(r->business, "biddercode");
    app.bzjamount_fen = p->amount_fen;
    app.premium_fen = p->premium_fen;
    bh_err err = bh_tx_app_insert(tx, &app);
    if (err == BH_EDUPKEY) {
        err = apply_again(tx, r);
    } else if (!err) {
        bh_req_say(r, 1, BH_OK_MESSAGE);
        err = answer_payurl(r, p->token);
    }
    return err ? err : bh_req_audit_in(tx, r);
}

/* Looks the application up for a follow-up interface and checks baohanno
 * when the request carries one. Returns BH_ENOTFOUND (answered) when the
 * request must be refused. */
static bh_err find_for_followup(bh_tx *tx, bh_request *r, bh_app *app)
{
    bh_err err = bh_tx_app_by_applyno(tx, r->appkey, r->applyno, app);
    if (err == BH_ENOTFOUND) {
        bh_req_say(r, 0, "applyno: no application %s from this platform", r->applyno);
        return err;
    }
    if (err)
        return err;
    const char *baohanno = bh_msg_text(r->business, "baohanno");
    if (baohanno && (!app->baohanno || strcmp(app->baohanno, baohanno) != 0)) {
        bh_req_say(r, 0, "baohanno: %s is not the guarantee number of application %s", baohanno,
                   r->applyno);
        bh_app_release(app);
        return BH_ENOTFOUND;
    }
    return BH_OK;
}

/* The state changes of giveupnotice, quitapply and claimsnotice share one
 * shape: a repeat gets its first answer; otherwise the state must allow it. */
typedef bh_err (*followup_fn)(bh_tx *tx, bh_request *r, bh_app *app);

static bh_err run_followup(bh_tx *tx, bh_request *r, followup_fn fn)
{
    int answered;
    bh_err err = bh_req_repeat_answer(tx, r, &answered);
    if (err || answered)
        return err ? err : bh_req_audit_in(tx, r);
    bh_app app = {0};
    err = find_for_followup(tx, r, &app);
    if (err == BH_ENOTFOUND)
        return bh_req_audit_in(tx, r);
    if (err)
        return err;
    bh_app_state before = app.state;
    err = fn(tx, r, &app);
    if (!err && r->code == 1) {
        err = bh_tx_app_update(tx, &app, before, r->now);
        if (!err)
            err = bh_req_keep_answer(tx, r);
    }
    bh_app_release(&app);
    return err ? err : bh_req_audit_in(tx, r);
}

static const char *state_text(bh_app_state s)
{
    const char *name = bh_app_state_name(s);
    return name ? name : "unknown";
}

static bh_err giveup(bh_tx *tx, bh_request *r, bh_app *app)
{
    (void)tx;
    switch (app->state) {
    case BH_APP_APPLIED:
    case BH_APP_SUBMITTED:
    case BH_APP_PAID:
    case BH_APP_REJECTED:
        app->state = BH_APP_GIVEN_UP;
        bh_req_say(r, 1, BH_OK_MESSAGE);
        return BH_OK;
    case BH_APP_GIVEN_UP:
        bh_req_say(r, 1, BH_OK_MESSAGE);
        return BH_OK;
    default:
        bh_req_say(r, 0,
                   "applyno: the guarantee for %s is already issued (state %s); use quitapply to "
                   "withdraw it",
                   r->applyno, state_text(app->state));
        return BH_OK;
    }
}

static bh_err quit(bh_tx *tx, bh_request *r, bh_app *app)
{
    (void)tx;
    if (app->state == BH_APP_QUIT_REQUESTED) {
        bh_req_say(r, 0, "applyno: a withdrawal of %s is already pending", r->applyno);
        return BH_OK;
    }
    if (app->state != BH_APP_ISSUED) {
        bh_req_say(r, 0, "applyno: only an issued guarantee can be withdrawn (state of %s: %s)",
                   r->applyno, state_text(app->state));
        return BH_OK;
    }
    const char *reason = bh_msg_text(r->business, "reason");
    free(app->reason);
    app->reason = strdup(reason ? reason : "");
    if (!app->reason)
        return BH_ENOMEM;
    app->state = BH_APP_QUIT_REQUESTED;
    bh_req_say(r, 1, BH_OK_MESSAGE);
    return BH_OK;
}

static bh_err claim(bh_tx *tx, bh_request *r, bh_app *app)
{
    (void)tx;
    if (app->state == BH_APP_CLAIMED) {
        bh_req_say(r, 0, "applyno: a claim on %s is already recorded", r->applyno);
        return BH_OK;
    }
    if (app->state != BH_APP_ISSUED && app->state != BH_APP_QUIT_REQUESTED) {
        bh_req_say(r, 0,
                   "applyno: only an issued guarantee that is not withdrawn can be claimed "
                   "(state of %s: %s)",
                   r->applyno, state_text(app->state));
        return BH_OK;
    }
    char *claim_json = NULL;
    bh_err err = bh_msg_to_json_str(r->business, BH_MSG_MAX_REQUEST, &claim_json);
    if (!err) {
        free(app->claim_json);
        app->claim_json = claim_json;
        app->state = BH_APP_CLAIMED;
        bh_req_say(r, 1, BH_OK_MESSAGE);
    }
    return err;
}

static bh_err unit_giveup(bh_tx *tx, void *arg)
{
    return run_followup(tx, arg, giveup);
}

static bh_err unit_quit(bh_tx *tx, void *arg)
{
    return run_followup(tx, arg, quit);
}

static bh_err unit_claim(bh_tx *tx, void *arg)
{
    return run_followup(tx, arg, claim);
}

/* ---- getbaohaninfo ------------------------------------------------------------ */

/* The validity of the guarantee: from issue to bid opening + the bid validity
 * period (投标有效期 runs from the bid deadline, which is the opening). */
bh_err bh_validity_end(const bh_msg *request_fields, int64_t *end)
{
    const char *opening = bh_msg_text(request_fields, "kaibiaotime");
    const char *days = bh_msg_text(request_fields, "tbyxq");
    int64_t t;
    if (!opening || !days || bh_time_parse(opening, strlen(opening), &t, NULL, NULL))
        return BH_EFORMAT;
    *end = t + (int64_t)strtol(days, NULL, 10) * 86400;
    return BH_OK;
}

static bh_err parse_json_object(const char *json, bh_msg **out)
{
    *out = NULL;
    if (!json)
        return BH_ENOTFOUND;
    return bh_msg_parse(json, strlen(json), BH_MSG_MAX_REQUEST, 0, out, NULL);
}

static bh_err file_url(const bh_config *c, const bh_file *f, bh_buf *out)
{
    size_t n = strlen(c->public_url);
    while (n > 0 && c->public_url[n - 1] == '/')
        n--;
    bh_buf_reset(out);
    bh_err err = bh_buf_add(out, c->public_url, n);
    if (!err)
        err = bh_buf_addf(out, "%s%s", BH_FILES_PREFIX, f->token);
    return err;
}

/* Adds <url_key> and, when md5_key is not NULL, <md5_key> for the app's
 * file of `kind`. */
static bh_err add_file_fields(bh_tx *tx, const bh_request *r, int64_t app_id, const char *kind,
                              const char *url_key, const char *md5_key, bh_msg *data, bh_file *keep)
{
    bh_file f = {0};
    bh_buf url;
    bh_buf_init(&url, 4096);
    bh_err err = bh_tx_file_by_kind(tx, app_id, kind, &f);
    if (!err)
        err = file_url(r->inst->config, &f, &url);
    if (!err)
        err = bh_msg_set_str(data, url_key, url.data);
    if (!err && md5_key)
        err = bh_msg_set_str(data, md5_key, f.md5);
    bh_buf_release(&url);
    if (!err && keep)
        *keep = f;
    else
        bh_file_release(&f);
    return err;
}

typedef struct info_ctx {
    bh_request *r;
    bh_msg *data;
} info_ctx;

static bh_err set_from(bh_msg *data, const char *key, const bh_msg *src, const char *src_key)
{
    const char *v = src ? bh_msg_text(src, src_key) : NULL;
    return bh_msg_set_str(data, key, v ? v : "");
}

static bh_err read_info(bh_tx *tx, void *arg)
{
    info_ctx *ic = arg;
    bh_request *r = ic->r;
    bh_app app = {0};
    bh_err err = find_for_followup(tx, r, &app);
    if (err == BH_ENOTFOUND)
        return BH_OK;
    if (err)
        return err;
    if (app.state != BH_APP_ISSUED && app.state != BH_APP_QUIT_REQUESTED &&
        app.state != BH_APP_CLAIMED) {
        bh_req_say(r, 0, "applyno: no issued guarantee for %s (state %s)", r->applyno,
                   state_text(app.state));
        bh_app_release(&app);
        return BH_OK;
    }
    bh_msg *request_fields = NULL, *form = NULL, *payment = NULL;
    bh_msg *data = bh_msg_new();
    bh_file guarantee = {0};
    bh_buf bytes, b64;
    bh_buf_init(&bytes, (size_t)64 * 1024 * 1024);
    bh_buf_init(&b64, (size_t)96 * 1024 * 1024);
    char text[64], begin[BH_TIME_TEXT_LEN + 1], end[BH_TIME_TEXT_LEN + 1];
    int64_t end_at = 0;
    err = data ? BH_OK : BH_ENOMEM;
    if (!err)
        err = parse_json_object(app.request_json, &request_fields);
    if (!err)
        err = parse_json_object(app.form_json, &form);
    if (!err)
        err = parse_json_object(app.payment_json, &payment);
    if (!err)
        err = bh_validity_end(request_fields, &end_at);
    if (!err)
        err = add_file_fields(tx, r, app.id, "guarantee", "baohanurl", NULL, data, &guarantee);
    if (!err)
        err = bh_store_file_read(r->inst->store, &guarantee, &bytes);
    if (!err)
        err = bh_base64_encode(bytes.data, bytes.len, &b64);
    if (!err)
        err = bh_msg_set(data, "baohanfile", b64.data, b64.len, BH_JSTRING);
    if (!err)
        err = set_from(data, "payername", payment, "payername");
    if (!err)
        err = set_from(data, "payeraccount", payment, "payeraccount");
    if (!err)
        err = set_from(data, "rate", payment, "rate");
    if (!err) {
        bh_money_format(app.premium_fen, text);
        err = bh_msg_set_str(data, "cost", text);
    }
    if (!err)
        err = set_from(data, "paytype", payment, "paytype");
    bh_time_format(app.issued_at, begin);
    bh_time_format(end_at, end);
    if (!err) {
        char tbysq[64];
        snprintf(tbysq, sizeof tbysq, "%s至%s", begin, end);
        err = bh_msg_set_str(data, "tbysq", tbysq);
    }
    if (!err)
        err = bh_msg_set_str(data, "servicebegintime", begin);
    if (!err)
        err = bh_msg_set_str(data, "serviceendtime", end);
    static const char *const bidder_fields[] = {
        "biddercontact",    "biddercontacttel", "bidderaddress",   "bidderemail",
        "bidderpersonname", "bidderpersoncard", "bidderpersontel",
    };
    for (size_t i = 0; !err && i < sizeof bidder_fields / sizeof *bidder_fields; i++)
        err = set_from(data, bidder_fields[i], form, bidder_fields[i]);
    if (!err)
        err = add_file_fields(tx, r, app.id, "order", "orderurl", "ordermd5", data, NULL);
    if (!err)
        err = add_file_fields(tx, r, app.id, "qualification", "qualficationfileurl",
                              "qualficationfilemd5", data, NULL);
    if (!err)
        err = add_file_fields(tx, r, app.id, "business_license", "businesslicenseurl",
                              "businesslicensemd5", data, NULL);
    if (!err)
        err = bh_msg_set_str(data, "guaranteemd5", guarantee.md5);
    if (!err)
        err = add_file_fields(tx, r, app.id, "guarantee_xml", "guaranteexmlurl", "guaranteexmlmd5",
                              data, NULL);
    if (!err)
        err = add_file_fields(tx, r, app.id, "payment_proof", "payfileurl", NULL, data, NULL);
    if (!err) {
        bh_req_say(r, 1, BH_OK_MESSAGE);
        ic->data = data;
        data = NULL;
    }
    bh_buf_release(&bytes);
    bh_buf_release(&b64);
    bh_file_release(&guarantee);
    bh_msg_free(data);
    bh_msg_free(request_fields);
    bh_msg_free(form);
    bh_msg_free(payment);
    bh_app_release(&app);
    return err;
}

/* Reads the answer (blocking: files are read), then leaves the audit row as
 * the unit of work. */
static bh_err answer_info(bh_request *r)
{
    info_ctx ic = {r, NULL};
    bh_err err = bh_store_read(r->inst->store, read_info, &ic);
    if (!err && ic.data) {
        bh_buf json;
        bh_buf_init(&json, (size_t)128 * 1024 * 1024);
        err = bh_msg_to_json(ic.data, 0, &json);
        if (!err && !(r->answer = bh_msg_new()))
            err = BH_ENOMEM;
        if (!err)
            err = bh_msg_set(r->answer, "data", json.data, json.len, BH_JOBJECT);
        bh_buf_release(&json);
    }
    bh_msg_free(ic.data);
    if (!err)
        r->unit = bh_req_unit_audit;
    return err;
}

/* ---- downloads --------------------------------------------------------------- */

typedef struct download {
    const char *token;
    bh_file file;
    int found;
} download;

static bh_err read_download(bh_tx *tx, void *arg)
{
    download *dl = arg;
    bh_err err = bh_tx_file_by_token(tx, dl->token, &dl->file);
    dl->found = err == BH_OK;
    return err == BH_ENOTFOUND ? BH_OK : err;
}

static int is_token(const char *s)
{
    size_t n = strlen(s);
    return n == 32 && strspn(s, "0123456789abcdef") == n;
}

static int serve_file(bh_institution *inst, const bh_http_request *req, bh_http_response *resp)
{
    const char *token = req->path + strlen(BH_FILES_PREFIX);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        bh_http_reply(resp, 405, 0, "downloads are GET");
        return 1;
    }
    download dl = {token, {0}, 0};
    /* Only well-formed tokens reach the store. */
    bh_err err = is_token(token) ? bh_store_read(inst->store, read_download, &dl) : BH_OK;
    if (!err && dl.found) {
        bh_buf_reset(&resp->body);
        err = bh_store_file_read(inst->store, &dl.file, &resp->body);
        if (!err) {
            resp->content_type = "application/octet-stream";
            static const char *const types[] = {"application/pdf", "image/png", "image/jpeg",
                                                "application/xml"};
            for (size_t i = 0; i < sizeof types / sizeof *types; i++)
                if (strcmp(dl.file.content_type, types[i]) == 0)
                    resp->content_type = types[i];
            snprintf(resp->extra_headers, sizeof resp->extra_headers,
                     "Cache-Control: no-store\r\nX-Content-MD5: %s\r\n", dl.file.md5);
            snprintf(resp->note, sizeof resp->note, "download %s", dl.file.kind);
        }
    }
    if (err)
        bh_http_reply(resp, 500, 0, "internal error: the file cannot be read");
    else if (!dl.found)
        bh_http_reply(resp, 404, 0, "no such file");
    bh_file_release(&dl.file);
    return 1;
}

/* ---- the pipeline --------------------------------------------------------------- */

/* Releases a baohanapply's apply_prep (bh_request's prep_free). */
static void apply_prep_free(void *arg)
{
    apply_prep *p = arg;
    if (p) {
        bh_buf_release(&p->json);
        free(p);
    }
}

/* The institution's part of the pipeline (serve.h): each interface's unit. */
static bh_err dispatch(bh_request *r)
{
    const char *name = r->iface->name;
    if (strcmp(name, "getbaohaninfo") == 0)
        return answer_info(r);
    if (strcmp(name, "baohanapply") == 0) {
        apply_prep *p = calloc(1, sizeof *p);
        if (!p)
            return BH_ENOMEM;
        bh_buf_init(&p->json, BH_MSG_MAX_REQUEST);
        r->prep = p;
        r->prep_free = apply_prep_free;
        r->unit = unit_apply;
        return apply_prepare(r, p);
    }
    r->unit = strcmp(name, "giveupnotice") == 0 ? unit_giveup
              : strcmp(name, "quitapply") == 0  ? unit_quit
                                                : unit_claim;
    return bh_req_hash(r); /* their answers are kept by content */
}

int bh_institution_take(bh_institution *inst, bh_http_call *call)
{
    const bh_iface *iface =
        bh_served_iface(bh_http_call_request(call)->path, BH_SIDE_INSTITUTION);
    /* getbaohaninfo reads files: it stays with the blocking handler. */
    if (!iface || strcmp(iface->name, "getbaohaninfo") == 0)
        return 0;
    bh_request proto = {.inst = inst, .store = inst->store, .config = inst->config, .iface = iface};
    bh_serve_call(&proto, call, dispatch);
    return 1;
}

int bh_institution_handle(bh_institution *inst, const bh_http_request *req, bh_http_response *resp)
{
    if (strncmp(req->path, BH_FILES_PREFIX, strlen(BH_FILES_PREFIX)) == 0)
        return serve_file(inst, req, resp);
    const bh_iface *iface = bh_served_iface(req->path, BH_SIDE_INSTITUTION);
    if (!iface)
        return 0;
    bh_request r = {.inst = inst, .store = inst->store, .config = inst->config, .iface = iface};
    bh_serve(&r, req, resp, dispatch);
    return 1;
}

/* ---- the operator's workflow -------------------------------------------------- */

/* An operator's action: one unit of work on one application. */
typedef struct action {
    bh_institution *inst;
    int64_t app_id;
    int64_t now;
    bh_diag *d;
    const char *what; /* for the audit row */
    int notice_queued;
    int auto_issue; /* payment recorded and automatic underwriting applies */
    void *arg;
} action;

static bh_err audit_admin(bh_tx *tx, const action *a, const bh_app *app, const char *detail)
{
    bh_audit row = {a->now, "admin", a->what, app->appkey, app->applyno, -1, 0, detail};
    return bh_tx_audit_add(tx, &row);
}

static bh_err load_app(bh_tx *tx, action *a, bh_app *app)
{
    bh_err err = bh_tx_app_by_id(tx, a->app_id, app);
    if (err == BH_ENOTFOUND)
        bh_diag_add(a->d, err, "id", "no application %lld", (long long)a->app_id);
    return err;
}

static bh_err wrong_state(action *a, const bh_app *app, const char *needed)
{
    return bh_diag_add(a->d, BH_EINVAL, "state", "application %lld is %s; this needs %s",
                       (long long)app->id, state_text(app->state), needed);
}

/* Only the digits of an account number: banks print them with spaces. */
static void digits_only(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s && *s && i + 1 < n; s++)
        if (*s >= '0' && *s <= '9')
            out[i++] = *s;
    out[i] = '\0';
}

/* Serialises `m` into a new string for the store and frees `m`; `err` is
 * the outcome of building it, passed through. */
static bh_err take_json(bh_msg *m, bh_err err, char **out)
{
    if (!err)
        err = bh_msg_to_json_str(m, BH_MSG_MAX_REQUEST, out);
    bh_msg_free(m);
    return err;
}

static bh_err build_payment_json(const bh_config *c, const bh_payment *p, int64_t now, char **out)
{
    bh_msg *m = bh_msg_new();
    char amount[BH_MONEY_TEXT_MAX], rate[BH_RATE_TEXT_MAX], at[BH_TIME_TEXT_LEN + 1];
    bh_money_format(p->amount_fen, amount);
    bh_rate_format(&c->premium_rate, rate);
    bh_time_format(now, at);
    bh_err err = m ? bh_msg_set_str(m, "payername", p->payername) : BH_ENOMEM;
    if (!err)
        err = bh_msg_set_str(m, "payeraccount", p->payeraccount);
    if (!err)
        err = bh_msg_set_str(m, "amount", amount);
    if (!err)
        err = bh_msg_set_str(m, "paytype", p->paytype);
    if (!err)
        err = bh_msg_set_str(m, "rate", rate);
    if (!err)
        err = bh_msg_set_str(m, "paidat", at);
    return take_json(m, err, out);
}

static bh_err unit_payment(bh_tx *tx, void *arg)
{
    action *a = arg;
    const bh_payment *p = a->arg;
    bh_app app = {0};
    bh_msg *form = NULL;
    bh_err err = load_app(tx, a, &app);
    if (err)
        return err;
    if (app.state != BH_APP_SUBMITTED) {
        err = wrong_state(a, &app,
                          app.state == BH_APP_APPLIED
                              ? "submitted (the bidder has not completed the form and "
                                "declared the basic account yet)"
                              : "submitted");
        goto out;
    }
    if ((err = parse_json_object(app.form_json, &form)))
        goto out;
    char declared[64], paid[64];
    digits_only(bh_msg_text(form, "basicaccount"), declared, sizeof declared);
    digits_only(p->payeraccount, paid, sizeof paid);
    if (strcmp(declared, paid) != 0)
        err = bh_diag_add(a->d, BH_EINVAL, "payeraccount",
                          "is not the bidder's declared basic account (基本户); a premium paid "
                          "from another account makes the guarantee invalid");
    if (strcmp(p->payername, app.biddername) != 0)
        err = bh_diag_add(a->d, BH_EINVAL, "payername",
                          "must be the bidder's name exactly as applied (%s)", app.biddername);
    if (p->amount_fen != app.premium_fen) {
        char want[BH_MONEY_TEXT_MAX];
        bh_money_format(app.premium_fen, want);
        err = bh_diag_add(a->d, BH_EINVAL, "amount", "must be the premium, %s yuan", want);
    }
    if (err)
        goto out;
    const char *type = bh_sniff_type(p->proof, p->proof_len);
    char filename[128];
    snprintf(filename, sizeof filename, "%s-payment.%s", app.applyno, bh_type_extension(type));
    err = bh_tx_file_put(tx, app.id, "payment_proof", type, filename, p->proof, p->proof_len,
                         a->now, NULL);
    if (!err)
        err = build_payment_json(a->inst->config, p, a->now, &app.payment_json);
    if (!err) {
        app.state = BH_APP_PAID;
        err = bh_tx_app_update(tx, &app, BH_APP_SUBMITTED, a->now);
    }
    if (!err)
        err = audit_admin(tx, a, &app, "premium payment recorded");
    const bh_config *c = a->inst->config;
    a->auto_issue =
        c->underwriting == BH_UNDERWRITE_AUTO && app.bzjamount_fen <= c->auto_max_amount_fen;
out:
    bh_msg_free(form);
    bh_app_release(&app);
    return err;
}

static bh_err check_payment_input(const bh_payment *p, bh_diag *d)
{
    bh_err err = BH_OK;
    if (!p->payername || !*p->payername)
        err = bh_diag_add(d, BH_EMISSING, "payername", "required: the paying account's name");
    if (!p->payeraccount || !*p->payeraccount)
        err = bh_diag_add(d, BH_EMISSING, "payeraccount", "required: the paying account number");
    if (!p->paytype || !*p->paytype || bh_utf8_length(p->paytype, strlen(p->paytype)) > 50)
        err = bh_diag_add(d, BH_EMISSING, "paytype", "required, at most 50 characters");
    if (p->amount_fen <= 0)
        err = bh_diag_add(d, BH_ERANGE, "amount", "must be a positive amount");
    if (!p->proof || !bh_sniff_type(p->proof, p->proof_len))
        err = bh_diag_add(d, BH_EFORMAT, "proof",
                          "required: the bank's proof of payment as PDF, JPEG or PNG");
    return err;
}

bh_err bh_inst_record_payment(bh_institution *inst, int64_t app_id, const bh_payment *p, bh_diag *d)
{
    bh_err err = check_payment_input(p, d);
    if (err)
        return err;
    action a = {inst, app_id, bh_time_now(), d, "payment", 0, 0, (void *)p};
    err = bh_store_write(inst->store, unit_payment, &a);
    if (err) {
        if (!bh_diag_first_code(d))
            bh_diag_add(d, err, "", "cannot record the payment: %s", bh_strerror(err));
        return err;
    }
    /* Automatic underwriting: within the configured amount, issue at once. */
    if (a.auto_issue)
        return bh_inst_underwrite(inst, app_id, 1, NULL, d);
    return BH_OK;
}

/* ---- issuing ------------------------------------------------------------------ */

/* Expands the guarantee-number pattern: {yyyy} {yy} {MM} {dd} (CST, issue
 * date), {seq} and {seq:N} (zero-padded to N digits); other text is copied. */
static bh_err format_baohanno(const char *pattern, int64_t now, int64_t seq, bh_buf *out)
{
    char date[BH_TIME_TEXT_LEN + 1];
    bh_time_format(now, date); /* yyyy-MM-dd HH:mm:ss */
    bh_err err = BH_OK;
    for (const char *p = pattern; *p && !err;) {
        int width = 0;
        if (*p != '{') {
            err = bh_buf_addch(out, *p++);
        } else if (strncmp(p, "{yyyy}", 6) == 0) {
            err = bh_buf_add(out, date, 4);
            p += 6;
        } else if (strncmp(p, "{yy}", 4) == 0) {
            err = bh_buf_add(out, date + 2, 2);
            p += 4;
        } else if (strncmp(p, "{MM}", 4) == 0) {
            err = bh_buf_add(out, date + 5, 2);
            p += 4;
        } else if (strncmp(p, "{dd}", 4) == 0) {
            err = bh_buf_add(out, date + 8, 2);
            p += 4;
        } else if (strncmp(p, "{seq}", 5) == 0) {
            err = bh_buf_addf(out, "%lld", (long long)seq);
            p += 5;
        } else if (sscanf(p, "{seq:%2d}", &width) == 1 && width >= 1 && width <= 18 &&
                   strchr(p, '}')) {
            err = bh_buf_addf(out, "%0*lld", width, (long long)seq);
            p = strchr(p, '}') + 1;
        } else {
            err = BH_EFORMAT;
        }
    }
    return err;
}

/* The sequence restarts every year when the number shows the year. */
static void sequence_name(const char *pattern, int64_t now, char *out, size_t n)
{
    char date[BH_TIME_TEXT_LEN + 1];
    bh_time_format(now, date);
    if (strstr(pattern, "{yyyy}") || strstr(pattern, "{yy}"))
        snprintf(out, n, "baohanno-%.4s", date);
    else
        snprintf(out, n, "baohanno");
}

void bh_mask_id(const char *id, char *out, size_t n)
{
    size_t len = id ? strlen(id) : 0;
    if (len < 10) {
        snprintf(out, n, "****");
        return;
    }
    snprintf(out, n, "%.6s%.*s%s", id, (int)(len - 10), "********************************",
             id + len - 4);
}

typedef struct documents {
    bh_buf guarantee, order, xml;
} documents;

/* Replaces the guarantee PDF by its signed version: the stored file, its
 * MD5s and the Base64 copy getbaohaninfo returns are all of the signed one. */
static bh_err sign_guarantee(const bh_institution *inst, bh_buf *pdf, int64_t now, bh_diag *d)
{
    bh_buf signed_pdf;
    bh_buf_init(&signed_pdf, pdf->max);
    bh_err err = bh_doc_sign_guarantee(pdf->data, pdf->len, inst->signer, inst->config->inst_name,
                                       now, &signed_pdf, d);
    if (!err) {
        bh_buf_release(pdf);
        *pdf = signed_pdf;
    } else {
        bh_buf_release(&signed_pdf);
    }
    return err;
}

static bh_err build_documents(const bh_institution *inst, const bh_app *app, const char *baohanno,
                              int64_t now, documents *docs, bh_diag *d)
{
    bh_msg *req = NULL, *form = NULL;
    bh_err err = parse_json_object(app->request_json, &req);
    if (!err)
        err = parse_json_object(app->form_json, &form);
    int64_t end_at = 0;
    if (!err)
        err = bh_validity_end(req, &end_at);
    if (err) {
        bh_msg_free(req);
        bh_msg_free(form);
        return bh_diag_add(d, err, "", "the application's stored data is unreadable");
    }
    char issued[BH_TIME_TEXT_LEN + 1], valid_to[BH_TIME_TEXT_LEN + 1], card[64];
    char verify_url[BH_VERIFY_URL_MAX];
    bh_verify_url(inst->config, baohanno, verify_url, sizeof verify_url);
    bh_time_format(now, issued);
    bh_time_format(end_at, valid_to);
    bh_mask_id(bh_msg_text(form, "bidderpersoncard"), card, sizeof card);
    const char *days = bh_msg_text(req, "tbyxq");
    bh_guarantee_facts g = {
        .baohanno = baohanno,
        .applyno = app->applyno,
        .beneficiary = bh_msg_text(req, "zbr"),
        .beneficiary_code = bh_msg_text(req, "zbrorgnum"),
        .principal = app->biddername,
        .principal_code = app->biddercode,
        .project_name = bh_msg_text(req, "projectname"),
        .project_no = bh_msg_text(req, "projectno"),
        .section_name = bh_msg_text(req, "biaoduanname"),
        .section_no = bh_msg_text(req, "biaoduanno"),
        .amount_fen = app->bzjamount_fen,
        .premium_fen = app->premium_fen,
        .valid_from = issued,
        .valid_to = valid_to,
        .tbyxq_days = days ? atoi(days) : 0,
        .kaibiaotime = bh_msg_text(req, "kaibiaotime"),
        .issuer = inst->config->inst_name,
        .issue_time = issued,
        .verify_url = verify_url,
    };
    bh_applicant_details a = {
        .contact = bh_msg_text(form, "biddercontact"),
        .contact_tel = bh_msg_text(form, "biddercontacttel"),
        .address = bh_msg_text(form, "bidderaddress"),
        .email = bh_msg_text(form, "bidderemail"),
        .legal_person = bh_msg_text(form, "bidderpersonname"),
        .legal_person_tel = bh_msg_text(form, "bidderpersontel"),
        .legal_person_card_masked = card,
        .basic_account_bank = bh_msg_text(form, "basicbank"),
        .basic_account_no = bh_msg_text(form, "basicaccount"),
    };
    err = bh_doc_guarantee_pdf(&g, &docs->guarantee, d);
    if (!err && inst->signer)
        err = sign_guarantee(inst, &docs->guarantee, now, d);
    if (!err)
        err = bh_doc_application_pdf(&g, &a, &docs->order, d);
    if (!err)
        err = bh_doc_guarantee_xml(&g, &docs->xml, d);
    bh_msg_free(req);
    bh_msg_free(form);
    return err;
}

/* The baohannotice body (plaintext business fields). */
static bh_err notice_json(const bh_config *c, const bh_app *app, const char *status, int64_t now,
                          char **out)
{
    bh_msg *m = bh_msg_new();
    char at[BH_TIME_TEXT_LEN + 1];
    bh_time_format(now, at);
    bh_err err = m ? bh_msg_set_str(m, "applyno", app->applyno) : BH_ENOMEM;
    /* A refusal has no guarantee number, but the field is required: "无" (none). */
    if (!err)
        err = bh_msg_set_str(m, "baohanno", app->baohanno ? app->baohanno : "无");
    if (!err)
        err = bh_msg_set_str(m, "instname", c->inst_name);
    if (!err)
        err = bh_msg_set_str(m, "generatetime", at);
    if (!err)
        err = bh_msg_set_str(m, "applystatus", status);
    return take_json(m, err, out);
}

static bh_err queue_notice(bh_tx *tx, action *a, const bh_app *app, const char *iface,
                           const char *json)
{
    int64_t id;
    bh_err err = bh_tx_notice_add(tx, app->id, app->appkey, iface, json, a->now, &id);
    if (!err)
        a->notice_queued = 1;
    return err;
}

typedef struct issue {
    const char *baohanno;
    documents *docs;
    int64_t seq;
} issue;

static bh_err unit_reserve_number(bh_tx *tx, void *arg)
{
    action *a = arg;
    issue *is = a->arg;
    bh_app app = {0};
    bh_err err = load_app(tx, a, &app);
    if (!err && app.state != BH_APP_PAID)
        err = wrong_state(a, &app, "paid");
    char name[32];
    sequence_name(a->inst->config->baohanno_pattern, a->now, name, sizeof name);
    if (!err)
        err = bh_tx_next_seq(tx, name, &is->seq);
    bh_app_release(&app);
    return err;
}

static bh_err unit_issue(bh_tx *tx, void *arg)
{
    action *a = arg;
    issue *is = a->arg;
    bh_app app = {0};
    char *json = NULL;
    char name[160];
    bh_err err = load_app(tx, a, &app);
    if (!err && app.state != BH_APP_PAID)
        err = wrong_state(a, &app, "paid");
    snprintf(name, sizeof name, "%s.pdf", is->baohanno);
    if (!err)
        err = bh_tx_file_put(tx, app.id, "guarantee", "application/pdf", name,
                             is->docs->guarantee.data, is->docs->guarantee.len, a->now, NULL);
    snprintf(name, sizeof name, "%s-application.pdf", app.applyno);
    if (!err)
        err = bh_tx_file_put(tx, app.id, "order", "application/pdf", name, is->docs->order.data,
                             is->docs->order.len, a->now, NULL);
    snprintf(name, sizeof name, "%s.xml", is->baohanno);
    if (!err)
        err = bh_tx_file_put(tx, app.id, "guarantee_xml", "application/xml", name,
                             is->docs->xml.data, is->docs->xml.len, a->now, NULL);
    if (!err) {
        free(app.baohanno);
        app.baohanno = strdup(is->baohanno);
        app.state = BH_APP_ISSUED;
        app.issued_at = a->now;
        err = app.baohanno ? bh_tx_app_update(tx, &app, BH_APP_PAID, a->now) : BH_ENOMEM;
        if (err == BH_EDUPKEY)
            bh_diag_add(a->d, err, "baohanno", "guarantee number %s is already taken",
                        is->baohanno);
    }
    if (!err)
        err = notice_json(a->inst->config, &app, "1", a->now, &json);
    if (!err)
        err = queue_notice(tx, a, &app, "baohannotice", json);
    if (!err)
        err = audit_admin(tx, a, &app, "approved and issued");
    free(json);
    bh_app_release(&app);
    return err;
}

typedef struct fetch {
    action *a;
    bh_app app;
} fetch;

static bh_err read_app(bh_tx *tx, void *arg)
{
    fetch *f = arg;
    return load_app(tx, f->a, &f->app);
}

/* Approval: reserve the number, make the documents outside any unit of work
 * (no one waits behind them), then store them and issue in one unit, which
 * checks the state again: a concurrent change wins and nothing is issued. */
static bh_err approve(bh_institution *inst, action *a)
{
    issue is = {NULL, NULL, 0};
    documents docs;
    bh_buf number;
    fetch f = {a, {0}};
    bh_buf_init(&docs.guarantee, (size_t)48 * 1024 * 1024);
    bh_buf_init(&docs.order, (size_t)48 * 1024 * 1024);
    bh_buf_init(&docs.xml, (size_t)4 * 1024 * 1024);
    bh_buf_init(&number, 256);
    a->arg = &is;
    bh_err err = bh_store_write(inst->store, unit_reserve_number, a);
    if (!err && (err = format_baohanno(inst->config->baohanno_pattern, a->now, is.seq, &number)))
        bh_diag_add(a->d, err, "baohanno_pattern", "unknown {…} token in the pattern");
    if (!err)
        err = bh_store_read(inst->store, read_app, &f);
    if (!err)
        err = build_documents(inst, &f.app, number.data, a->now, &docs, a->d);
    if (!err) {
        is.baohanno = number.data;
        is.docs = &docs;
        err = bh_store_write(inst->store, unit_issue, a);
    }
    bh_app_release(&f.app);
    bh_buf_release(&docs.guarantee);
    bh_buf_release(&docs.order);
    bh_buf_release(&docs.xml);
    bh_buf_release(&number);
    return err;
}

static bh_err unit_reject(bh_tx *tx, void *arg)
{
    action *a = arg;
    bh_app app = {0};
    char *json = NULL;
    bh_err err = load_app(tx, a, &app);
    if (err)
        return err;
    bh_app_state before = app.state;
    if (before != BH_APP_APPLIED && before != BH_APP_SUBMITTED && before != BH_APP_PAID)
        err = wrong_state(a, &app, "applied, submitted or paid");
    if (!err) {
        free(app.reason);
        app.reason = strdup(a->arg);
        app.state = BH_APP_REJECTED;
        err = app.reason ? bh_tx_app_update(tx, &app, before, a->now) : BH_ENOMEM;
    }
    if (!err)
        err = notice_json(a->inst->config, &app, "0", a->now, &json);
    if (!err)
        err = queue_notice(tx, a, &app, "baohannotice", json);
    if (!err)
        err = audit_admin(tx, a, &app, "rejected");
    free(json);
    bh_app_release(&app);
    return err;
}

/* After an action: wake the outbox if it queued a notice; name a failure. */
static bh_err finish(bh_institution *inst, action *a, bh_err err)
{
    if (!err && a->notice_queued && inst->outbox)
        bh_outbox_kick(inst->outbox);
    if (err && !bh_diag_first_code(a->d))
        bh_diag_add(a->d, err, "", "%s failed: %s", a->what, bh_strerror(err));
    return err;
}

static int has_text(const char *s)
{
    return s && *s;
}

bh_err bh_inst_underwrite(bh_institution *inst, int64_t app_id, int approve_it, const char *reason,
                          bh_diag *d)
{
    action a = {inst, app_id, bh_time_now(), d, approve_it ? "approve" : "reject", 0, 0, NULL};
    if (approve_it)
        return finish(inst, &a, approve(inst, &a));
    if (!has_text(reason))
        return bh_diag_add(d, BH_EMISSING, "reason", "required to reject an application");
    a.arg = (void *)reason;
    return finish(inst, &a, bh_store_write(inst->store, unit_reject, &a));
}

typedef struct decision {
    int approve;
    const char *reason;
} decision;

static bh_err unit_withdrawal(bh_tx *tx, void *arg)
{
    action *a = arg;
    const decision *dec = a->arg;
    bh_app app = {0};
    bh_err err = load_app(tx, a, &app);
    if (err)
        return err;
    if (app.state != BH_APP_QUIT_REQUESTED)
        err = wrong_state(a, &app, "quit_requested");
    if (!err && dec->approve) {
        app.state = BH_APP_QUIT;
        err = bh_tx_app_update(tx, &app, BH_APP_QUIT_REQUESTED, a->now);
        char json[512];
        bh_buf body;
        bh_buf_init(&body, sizeof json);
        bh_msg *m = err ? NULL : bh_msg_new();
        if (!err && !m)
            err = BH_ENOMEM;
        if (!err)
            err = bh_msg_set_str(m, "applyno", app.applyno);
        if (!err)
            err = bh_msg_set_str(m, "baohanno", app.baohanno);
        if (!err)
            err = bh_msg_to_json(m, 0, &body);
        if (!err)
            err = queue_notice(tx, a, &app, "quitnotice", body.data);
        bh_buf_release(&body);
        bh_msg_free(m);
    } else if (!err) {
        free(app.reason);
        app.reason = strdup(dec->reason);
        app.state = BH_APP_ISSUED;
        err = app.reason ? bh_tx_app_update(tx, &app, BH_APP_QUIT_REQUESTED, a->now) : BH_ENOMEM;
    }
    if (!err)
        err = audit_admin(tx, a, &app, dec->approve ? "withdrawal approved" : "withdrawal refused");
    bh_app_release(&app);
    return err;
}

bh_err bh_inst_withdrawal(bh_institution *inst, int64_t app_id, int approve_it, const char *reason,
                          bh_diag *d)
{
    if (!approve_it && !has_text(reason))
        return bh_diag_add(d, BH_EMISSING, "reason", "required to refuse a withdrawal");
    decision dec = {approve_it, reason};
    action a = {inst, app_id, bh_time_now(), d, approve_it ? "withdraw" : "refuse-withdrawal",
                0,    0,      &dec};
    return finish(inst, &a, bh_store_write(inst->store, unit_withdrawal, &a));
}

typedef struct claim_payment {
    int64_t amount_fen;
    const char *account;
    const char *reference;
} claim_payment;

static bh_err unit_claim_paid(bh_tx *tx, void *arg)
{
    action *a = arg;
    const claim_payment *cp = a->arg;
    bh_app app = {0};
    bh_msg *claim_fields = NULL;
    char *claim_json = NULL;
    bh_err err = load_app(tx, a, &app);
    if (err)
        return err;
    if (app.state != BH_APP_CLAIMED)
        err = wrong_state(a, &app, "claimed");
    if (!err)
        err = parse_json_object(app.claim_json, &claim_fields);
    if (!err && bh_msg_get(claim_fields, "paidat"))
        err = bh_diag_add(a->d, BH_EINVAL, "state", "the claim on %s is already paid", app.applyno);
    char amount[BH_MONEY_TEXT_MAX], at[BH_TIME_TEXT_LEN + 1];
    bh_money_format(cp->amount_fen, amount);
    bh_time_format(a->now, at);
    if (!err)
        err = bh_msg_set_str(claim_fields, "paidamount", amount);
    if (!err)
        err = bh_msg_set_str(claim_fields, "paidaccount", cp->account);
    if (!err)
        err = bh_msg_set_str(claim_fields, "paidreference", cp->reference ? cp->reference : "");
    if (!err)
        err = bh_msg_set_str(claim_fields, "paidat", at);
    if (!err)
        err = bh_msg_to_json_str(claim_fields, BH_MSG_MAX_REQUEST, &claim_json);
    if (!err) {
        free(app.claim_json);
        app.claim_json = claim_json;
        err = bh_tx_app_update(tx, &app, BH_APP_CLAIMED, a->now);
    }
    if (!err)
        err = audit_admin(tx, a, &app, "claim paid");
    bh_msg_free(claim_fields);
    bh_app_release(&app);
    return err;
}

bh_err bh_inst_claim_paid(bh_institution *inst, int64_t app_id, int64_t amount_fen,
                          const char *account, const char *reference, bh_diag *d)
{
    if (amount_fen <= 0)
        return bh_diag_add(d, BH_ERANGE, "amount", "must be a positive amount");
    if (!has_text(account))
        return bh_diag_add(d, BH_EMISSING, "account", "required: the account paid to");
    claim_payment cp = {amount_fen, account, reference};
    action a = {inst, app_id, bh_time_now(), d, "claim-paid", 0, 0, &cp};
    return finish(inst, &a, bh_store_write(inst->store, unit_claim_paid, &a));
}
