/* The operator's HTTP API (see admin.h). Thin: it parses, authenticates and
 * calls the institution's workflow; it holds no business rules. */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "banned.h"

/* Writes {"ok":false,"errors":[…]} from the problems in `d`. */
static void reply_problems(bh_http_response *resp, int status, const bh_diag *d)
{
    bh_buf *b = &resp->body;
    bh_buf_reset(b);
    resp->status = status;
    bh_err err = bh_buf_addstr(b, "{\"ok\":false,\"errors\":[");
    for (size_t i = 0; !err && i < d->count; i++) {
        err = bh_buf_addstr(b, i ? ",{\"field\":" : "{\"field\":");
        if (!err)
            err = bh_json_quote(d->items[i].field, strlen(d->items[i].field), b);
        if (!err)
            err = bh_buf_addstr(b, ",\"message\":");
        if (!err)
            err = bh_json_quote(d->items[i].message, strlen(d->items[i].message), b);
        if (!err)
            err = bh_buf_addch(b, '}');
    }
    if (!err)
        err = bh_buf_addstr(b, "]}");
    if (err)
        bh_http_reply(resp, 500, 0, "internal error");
}

static void reply_error(bh_http_response *resp, int status, const char *field, const char *message)
{
    bh_diag d = BH_DIAG_INIT;
    bh_diag_add(&d, BH_EINVAL, field, "%s", message);
    reply_problems(resp, status, &d);
    bh_diag_release(&d);
}

static void reply_ok(bh_http_response *resp, const char *extra_json)
{
    bh_buf_reset(&resp->body);
    resp->status = 200;
    if (bh_buf_addf(&resp->body, "{\"ok\":true%s%s}", extra_json ? "," : "",
                    extra_json ? extra_json : ""))
        bh_http_reply(resp, 500, 0, "internal error");
}

/* The status for a failed action: what kind of problem it was. */
static int status_of(const bh_diag *d)
{
    bh_err err = bh_diag_first_code(d);
    if (err == BH_ENOTFOUND)
        return 404;
    if (d->count && strcmp(d->items[0].field, "state") == 0)
        return 409;
    if (err == BH_ENOMEM || err == BH_EIO || err == BH_ECRYPTO)
        return 500;
    return 400;
}

static int authorised(const bh_institution *inst, const bh_http_request *req)
{
    const char *auth = bh_http_header(req, "Authorization");
    const char *token = inst->config->admin_token;
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !token)
        return 0;
    auth += 7;
    size_t n = strlen(token);
    return strlen(auth) == n && bh_ct_equal(auth, token, n);
}

/* ---- JSON for records --------------------------------------------------------- */

static bh_err add_text(bh_msg *m, const char *key, const char *value)
{
    return value ? bh_msg_set_str(m, key, value) : bh_msg_set(m, key, NULL, 0, BH_JNULL);
}

static bh_err add_int(bh_msg *m, const char *key, int64_t v)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%lld", (long long)v);
    return bh_msg_set(m, key, text, (size_t)n, BH_JNUMBER);
}

static bh_err add_money(bh_msg *m, const char *key, int64_t fen)
{
    char text[BH_MONEY_TEXT_MAX];
    bh_money_format(fen, text);
    return bh_msg_set_str(m, key, text);
}

static bh_err add_time(bh_msg *m, const char *key, int64_t t)
{
    char text[BH_TIME_TEXT_LEN + 1];
    if (t == 0)
        return bh_msg_set(m, key, NULL, 0, BH_JNULL);
    bh_time_format(t, text);
    return bh_msg_set_str(m, key, text);
}

/* A stored JSON object as a nested value, with the ID number masked. */
static bh_err add_object(bh_msg *m, const char *key, const char *json)
{
    if (!json)
        return bh_msg_set(m, key, NULL, 0, BH_JNULL);
    bh_msg *obj = NULL;
    bh_err err = bh_msg_parse(json, strlen(json), BH_MSG_MAX_REQUEST, 0, &obj, NULL);
    const char *card = err ? NULL : bh_msg_text(obj, "bidderpersoncard");
    if (card) {
        char masked[64];
        bh_mask_id(card, masked, sizeof masked);
        err = bh_msg_set_str(obj, "bidderpersoncard", masked);
    }
    bh_buf out;
    bh_buf_init(&out, BH_MSG_MAX_REQUEST);
    if (!err)
        err = bh_msg_to_json(obj, 0, &out);
    if (!err)
        err = bh_msg_set(m, key, out.data, out.len, BH_JOBJECT);
    bh_buf_release(&out);
    bh_msg_free(obj);
    return err;
}

static bh_err app_json(const bh_app *a, int full, bh_buf *out)
{
    bh_msg *m = bh_msg_new();
    bh_err err = m ? add_int(m, "id", a->id) : BH_ENOMEM;
    if (!err)
        err = add_text(m, "appkey", a->appkey);
    if (!err)
        err = add_text(m, "applyno", a->applyno);
    if (!err)
        err = add_text(m, "state", bh_app_state_name(a->state));
    if (!err)
        err = add_text(m, "biddername", a->biddername);
    if (!err)
        err = add_text(m, "biddercode", a->biddercode);
    if (!err)
        err = add_money(m, "bzjamount", a->bzjamount_fen);
    if (!err)
        err = add_money(m, "premium", a->premium_fen);
    if (!err)
        err = add_text(m, "baohanno", a->baohanno);
    if (!err)
        err = add_text(m, "reason", a->reason);
    if (!err)
        err = add_time(m, "created_at", a->created_at);
    if (!err)
        err = add_time(m, "updated_at", a->updated_at);
    if (!err)
        err = add_time(m, "issued_at", a->issued_at);
    if (!err && full)
        err = add_object(m, "request", a->request_json);
    if (!err && full)
        err = add_object(m, "form", a->form_json);
    if (!err && full)
        err = add_object(m, "payment", a->payment_json);
    if (!err && full)
        err = add_object(m, "claim", a->claim_json);
    if (!err)
        err = bh_msg_to_json(m, 0, out);
    bh_msg_free(m);
    return err;
}

static const char *notice_state_name(bh_notice_state s)
{
    return s == BH_NOTICE_DELIVERED ? "delivered" : s == BH_NOTICE_FLAGGED ? "flagged" : "pending";
}

static bh_err notice_json(const bh_notice *n, bh_buf *out)
{
    bh_msg *m = bh_msg_new();
    bh_msg *body = NULL;
    bh_err err = m ? add_int(m, "id", n->id) : BH_ENOMEM;
    if (!err)
        err = add_int(m, "app_id", n->app_id);
    if (!err)
        err = add_text(m, "iface", n->iface);
    if (!err)
        err = add_text(m, "appkey", n->appkey);
    if (!err && bh_msg_parse(n->plain_json, strlen(n->plain_json), BH_MSG_MAX_REQUEST, 0, &body,
                             NULL) == BH_OK)
        err = add_text(m, "applyno", bh_msg_text(body, "applyno"));
    if (!err)
        err = add_text(m, "state", notice_state_name(n->state));
    if (!err)
        err = add_int(m, "attempts", n->attempts);
    if (!err)
        err = add_time(m, "next_attempt_at", n->next_attempt_at);
    if (!err)
        err = add_text(m, "last_error", n->last_error);
    if (!err)
        err = add_time(m, "created_at", n->created_at);
    if (!err)
        err = add_time(m, "delivered_at", n->delivered_at);
    if (!err)
        err = bh_msg_to_json(m, 0, out);
    bh_msg_free(body);
    bh_msg_free(m);
    return err;
}

/* ---- query strings -------------------------------------------------------------- */

static int query_value(const char *query, const char *name, bh_buf *out)
{
    bh_buf_reset(out);
    return bh_form_field(query, strlen(query), name, out) == BH_OK && out->len > 0;
}

static int parse_count(const char *s, size_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || v < 0 || v > 10000)
        return 0;
    *out = (size_t)v;
    return 1;
}

/* "yyyy-MM-dd" or a full date-time, CST. */
static int parse_day(const char *s, int64_t *out)
{
    char full[BH_TIME_TEXT_LEN + 1];
    if (strlen(s) == 10)
        snprintf(full, sizeof full, "%s 00:00:00", s);
    else
        snprintf(full, sizeof full, "%s", s);
    return bh_time_parse(full, strlen(full), out, NULL, NULL) == BH_OK;
}

typedef struct listing {
    bh_app_filter filter;
    bh_app_state state;
    bh_app *apps;
    size_t count;
} listing;

static bh_err read_list(bh_tx *tx, void *arg)
{
    listing *l = arg;
    return bh_tx_app_list(tx, &l->filter, &l->apps, &l->count);
}

static void list_applications(bh_institution *inst, const bh_http_request *req,
                              bh_http_response *resp)
{
    listing l = {{0}, BH_APP_APPLIED, NULL, 0};
    bh_buf v, out;
    bh_buf_init(&v, 1024);
    bh_buf_init(&out, (size_t)64 * 1024 * 1024);
    const char *bad = NULL;
    if (query_value(req->query, "state", &v)) {
        if (bh_app_state_parse(v.data, &l.state))
            bad = "state";
        l.filter.state = &l.state;
    }
    if (query_value(req->query, "bidder", &v))
        l.filter.bidder = strdup(v.data);
    if (query_value(req->query, "from", &v) && !parse_day(v.data, &l.filter.created_from))
        bad = "from";
    if (query_value(req->query, "to", &v) && !parse_day(v.data, &l.filter.created_to))
        bad = "to";
    if (query_value(req->query, "limit", &v) && !parse_count(v.data, &l.filter.limit))
        bad = "limit";
    if (query_value(req->query, "offset", &v) && !parse_count(v.data, &l.filter.offset))
        bad = "offset";
    if (bad) {
        reply_error(resp, 400, bad,
                    "state: a state name; from/to: yyyy-MM-dd; limit/offset: 0..10000");
    } else if (bh_store_read(inst->store, read_list, &l)) {
        reply_error(resp, 500, "", "the store cannot be read");
    } else {
        bh_err err = bh_buf_addstr(&out, "\"applications\":[");
        for (size_t i = 0; !err && i < l.count; i++) {
            if (i)
                err = bh_buf_addch(&out, ',');
            if (!err)
                err = app_json(&l.apps[i], 0, &out);
        }
        if (!err)
            err = bh_buf_addch(&out, ']');
        if (err)
            reply_error(resp, 500, "", "the answer is too large");
        else
            reply_ok(resp, out.data);
    }
    bh_app_list_free(l.apps, l.count);
    free((char *)l.filter.bidder);
    bh_buf_release(&v);
    bh_buf_release(&out);
}

typedef struct one_app {
    int64_t id;
    bh_app app;
} one_app;

static bh_err read_one(bh_tx *tx, void *arg)
{
    one_app *o = arg;
    return bh_tx_app_by_id(tx, o->id, &o->app);
}

static void show_application(bh_institution *inst, int64_t id, bh_http_response *resp)
{
    one_app o = {id, {0}};
    bh_err err = bh_store_read(inst->store, read_one, &o);
    bh_buf out;
    bh_buf_init(&out, (size_t)8 * 1024 * 1024);
    if (err == BH_ENOTFOUND) {
        reply_error(resp, 404, "id", "no such application");
    } else if (err || bh_buf_addstr(&out, "\"application\":") || app_json(&o.app, 1, &out)) {
        reply_error(resp, 500, "", "the store cannot be read");
    } else {
        reply_ok(resp, out.data);
    }
    bh_app_release(&o.app);
    bh_buf_release(&out);
}

/* ---- actions ------------------------------------------------------------------- */

static int money_field(const bh_msg *m, const char *key, int64_t *fen, bh_diag *d)
{
    const char *text = bh_msg_text(m, key);
    if (!text) {
        bh_diag_add(d, BH_EMISSING, key, "required: an amount in yuan");
        return 0;
    }
    return bh_money_parse(text, strlen(text), fen, d, key) == BH_OK;
}

static bh_err do_payment(bh_institution *inst, int64_t id, const bh_msg *m, bh_diag *d)
{
    bh_payment p = {0};
    bh_buf proof;
    bh_buf_init(&proof, (size_t)16 * 1024 * 1024);
    p.payername = bh_msg_text(m, "payername");
    p.payeraccount = bh_msg_text(m, "payeraccount");
    p.paytype = bh_msg_text(m, "paytype");
    const char *b64 = bh_msg_text(m, "proof");
    if (b64 && bh_base64_decode(b64, strlen(b64), &proof) != BH_OK)
        bh_diag_add(d, BH_EBASE64, "proof", "must be Base64 of the proof file (at most 16 MiB)");
    p.proof = proof.data;
    p.proof_len = proof.len;
    bh_err err = d->count ? BH_EINVAL : BH_OK;
    if (!err && money_field(m, "amount", &p.amount_fen, d))
        err = bh_inst_record_payment(inst, id, &p, d);
    else if (!err)
        err = BH_EINVAL;
    bh_buf_release(&proof);
    return err;
}

static bh_err do_withdrawal(bh_institution *inst, int64_t id, const bh_msg *m, bh_diag *d)
{
    const char *decision = bh_msg_text(m, "decision");
    if (!decision || (strcmp(decision, "approve") && strcmp(decision, "refuse")))
        return bh_diag_add(d, BH_EFORMAT, "decision", "must be \"approve\" or \"refuse\"");
    return bh_inst_withdrawal(inst, id, strcmp(decision, "approve") == 0, bh_msg_text(m, "reason"),
                              d);
}

static bh_err do_claim_paid(bh_institution *inst, int64_t id, const bh_msg *m, bh_diag *d)
{
    int64_t fen;
    if (!money_field(m, "amount", &fen, d))
        return BH_EINVAL;
    return bh_inst_claim_paid(inst, id, fen, bh_msg_text(m, "account"), bh_msg_text(m, "reference"),
                              d);
}

static void act(bh_institution *inst, int64_t id, const char *verb, const bh_http_request *req,
                bh_http_response *resp)
{
    bh_diag d = BH_DIAG_INIT;
    bh_msg *m = NULL;
    const char *body = req->body_len ? req->body : "{}";
    size_t len = req->body_len ? req->body_len : 2;
    bh_err err = bh_msg_parse(body, len, len, 0, &m, &d);
    if (!err) {
        if (strcmp(verb, "payment") == 0)
            err = do_payment(inst, id, m, &d);
        else if (strcmp(verb, "approve") == 0)
            err = bh_inst_underwrite(inst, id, 1, NULL, &d);
        else if (strcmp(verb, "reject") == 0)
            err = bh_inst_underwrite(inst, id, 0, bh_msg_text(m, "reason"), &d);
        else if (strcmp(verb, "withdrawal") == 0)
            err = do_withdrawal(inst, id, m, &d);
        else if (strcmp(verb, "claim-paid") == 0)
            err = do_claim_paid(inst, id, m, &d);
        else
            err = bh_diag_add(&d, BH_ENOTFOUND, "path", "no such action: %s", verb);
    }
    if (err)
        reply_problems(resp, status_of(&d), &d);
    else
        show_application(inst, id, resp);
    bh_msg_free(m);
    bh_diag_release(&d);
}

typedef struct outbox_list {
    const bh_notice_state *state;
    bh_notice *list;
    size_t count;
} outbox_list;

static bh_err read_outbox(bh_tx *tx, void *arg)
{
    outbox_list *o = arg;
    return bh_tx_notice_list(tx, o->state, 1000, &o->list, &o->count);
}

static void list_outbox(bh_institution *inst, const bh_http_request *req, bh_http_response *resp)
{
    bh_notice_state state;
    outbox_list o = {NULL, NULL, 0};
    bh_buf v, out;
    bh_buf_init(&v, 64);
    bh_buf_init(&out, (size_t)16 * 1024 * 1024);
    if (query_value(req->query, "state", &v)) {
        state = strcmp(v.data, "delivered") == 0 ? BH_NOTICE_DELIVERED
                : strcmp(v.data, "flagged") == 0 ? BH_NOTICE_FLAGGED
                                                 : BH_NOTICE_PENDING;
        o.state = &state;
    }
    if (o.state && strcmp(v.data, notice_state_name(state)) != 0) {
        reply_error(resp, 400, "state", "must be pending, delivered or flagged");
    } else if (bh_store_read(inst->store, read_outbox, &o)) {
        reply_error(resp, 500, "", "the store cannot be read");
    } else {
        bh_err err = bh_buf_addstr(&out, "\"notices\":[");
        for (size_t i = 0; !err && i < o.count; i++) {
            if (i)
                err = bh_buf_addch(&out, ',');
            if (!err)
                err = notice_json(&o.list[i], &out);
        }
        if (!err)
            err = bh_buf_addch(&out, ']');
        if (err)
            reply_error(resp, 500, "", "the answer is too large");
        else
            reply_ok(resp, out.data);
    }
    bh_notice_list_free(o.list, o.count);
    bh_buf_release(&v);
    bh_buf_release(&out);
}

typedef struct retry {
    int64_t id;
} retry;

static bh_err unit_retry(bh_tx *tx, void *arg)
{
    return bh_tx_notice_retry(tx, ((retry *)arg)->id, bh_time_now());
}

static void retry_notice(bh_institution *inst, int64_t id, bh_http_response *resp)
{
    retry r = {id};
    bh_err err = bh_store_write(inst->store, unit_retry, &r);
    if (err == BH_ENOTFOUND) {
        reply_error(resp, 404, "id", "no such notice");
        return;
    }
    if (err) {
        reply_error(resp, 500, "", "the store cannot be written");
        return;
    }
    if (inst->outbox)
        bh_outbox_kick(inst->outbox);
    reply_ok(resp, NULL);
}

/* ---- routing --------------------------------------------------------------------- */

/* Parses "/PREFIX/ID" or "/PREFIX/ID/VERB"; returns 1 on a match. */
static int route(const char *path, const char *prefix, int64_t *id, const char **verb)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0 || path[n] < '0' || path[n] > '9')
        return 0;
    char *end;
    long long v = strtoll(path + n, &end, 10);
    if (v <= 0 || (*end && *end != '/'))
        return 0;
    *id = v;
    *verb = *end ? end + 1 : "";
    return 1;
}

void bh_admin_handle(bh_institution *inst, const bh_http_request *req, bh_http_response *resp)
{
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    int64_t id;
    const char *verb;
    if (get && strcmp(req->path, "/healthz") == 0) {
        reply_ok(resp, "\"status\":\"ok\"");
        return;
    }
    if (!authorised(inst, req)) {
        reply_error(resp, 401, "Authorization", "a valid bearer token is required");
        snprintf(resp->extra_headers, sizeof resp->extra_headers, "WWW-Authenticate: Bearer\r\n");
        return;
    }
    snprintf(resp->note, sizeof resp->note, "admin");
    if (get && strcmp(req->path, "/admin/applications") == 0)
        list_applications(inst, req, resp);
    else if (route(req->path, "/admin/applications/", &id, &verb) && get && !*verb)
        show_application(inst, id, resp);
    else if (route(req->path, "/admin/applications/", &id, &verb) && post && *verb)
        act(inst, id, verb, req, resp);
    else if (get && strcmp(req->path, "/admin/outbox") == 0)
        list_outbox(inst, req, resp);
    else if (route(req->path, "/admin/outbox/", &id, &verb) && post && strcmp(verb, "retry") == 0)
        retry_notice(inst, id, resp);
    else
        reply_error(resp, 404, "path", "no such endpoint");
}
