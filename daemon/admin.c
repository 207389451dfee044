/* The operator's HTTP API (see admin.h). Thin: it parses, authenticates and
 * calls the institution's workflow; it holds no business rules. */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "banned.h"

/* Appends the problems in `d` as [{"field":…,"message":…},…]. */
static bh_err problems_array(bh_buf *b, const bh_diag *d)
{
    bh_err err = bh_buf_addch(b, '[');
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
    return err ? err : bh_buf_addch(b, ']');
}

/* Writes {"ok":false,"errors":[…]} from the problems in `d`. */
/* {"ok":false,"error":"field: message","problems":[…],"errors":[…]}: the
 * first problem as one line, and every problem, under both names the two
 * roles' API pages document (docs/institution.md: errors, docs/platform.md:
 * error and problems). */
static void reply_problems(bh_http_response *resp, int status, const bh_diag *d)
{
    bh_buf *b = &resp->body;
    bh_buf first, list;
    bh_buf_init(&first, 2048);
    bh_buf_init(&list, BH_BUF_MAX_DEFAULT);
    bh_buf_reset(b);
    resp->status = status;
    bh_err err = d->count ? bh_buf_addf(&first, "%s%s%s", d->items[0].field,
                                        *d->items[0].field ? ": " : "", d->items[0].message)
                          : bh_buf_addstr(&first, "refused");
    if (!err)
        err = problems_array(&list, d);
    if (!err)
        err = bh_buf_addstr(b, "{\"ok\":false,\"error\":");
    if (!err)
        err = bh_json_quote(first.data, first.len, b);
    if (!err)
        err = bh_buf_addf(b, ",\"problems\":%s,\"errors\":%s}", list.data, list.data);
    if (err)
        bh_http_reply(resp, 500, 0, "internal error");
    bh_buf_release(&first);
    bh_buf_release(&list);
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

static int authorised(const bh_config *config, const bh_http_request *req)
{
    const char *auth = bh_http_header(req, "Authorization");
    const char *token = config->admin_token;
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

/* What both roles answer first: /healthz, then the bearer token. Returns 1
 * when the request is answered here. */
static int gate(const bh_config *config, const bh_http_request *req, bh_http_response *resp)
{
    if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/healthz") == 0) {
        reply_ok(resp, "\"status\":\"ok\"");
        return 1;
    }
    if (!authorised(config, req)) {
        reply_error(resp, 401, "Authorization", "a valid bearer token is required");
        snprintf(resp->extra_headers, sizeof resp->extra_headers, "WWW-Authenticate: Bearer\r\n");
        return 1;
    }
    snprintf(resp->note, sizeof resp->note, "admin");
    return 0;
}

void bh_admin_handle(bh_institution *inst, const bh_http_request *req, bh_http_response *resp)
{
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    int64_t id;
    const char *verb;
    if (gate(inst->config, req, resp))
        return;
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

/* ---- the platform role ---------------------------------------------------------------- */

static int plat_status_of(const bh_diag *d)
{
    bh_err err = bh_diag_first_code(d);
    if (err == BH_EDUPKEY)
        return 409;
    if (err == BH_EIO || (d->count && (strcmp(d->items[0].field, "code") == 0 ||
                                       strcmp(d->items[0].field, "data") == 0)))
        return 502; /* the institution did not answer, or not in the protocol's shape */
    return status_of(d);
}

static bh_err add_bool(bh_msg *m, const char *key, int v)
{
    return bh_msg_set(m, key, v ? "true" : "false", v ? 4 : 5, v ? BH_JTRUE : BH_JFALSE);
}

typedef struct plat_view {
    int64_t id;
    bh_papp app;
    bh_pnotice *notices;
    size_t nnotices;
    bh_filecheck *checks;
    size_t nchecks;
} plat_view;

static bh_err read_plat_view(bh_tx *tx, void *arg)
{
    plat_view *v = arg;
    bh_err err = bh_tx_papp_by_id(tx, v->id, &v->app);
    if (!err)
        err = bh_tx_pnotice_list(tx, v->id, &v->notices, &v->nnotices);
    if (!err)
        err = bh_tx_filecheck_list(tx, v->id, &v->checks, &v->nchecks);
    return err;
}

static void plat_view_release(plat_view *v)
{
    bh_papp_release(&v->app);
    bh_pnotice_list_free(v->notices, v->nnotices);
    bh_filecheck_list_free(v->checks, v->nchecks);
}

/* Appends a JSON array of `n` objects written by `one`. */
static bh_err json_array(bh_buf *out, size_t n, bh_err (*one)(const void *, size_t, bh_buf *),
                         const void *items)
{
    bh_err err = bh_buf_addch(out, '[');
    for (size_t i = 0; !err && i < n; i++) {
        if (i)
            err = bh_buf_addch(out, ',');
        if (!err)
            err = one(items, i, out);
    }
    return err ? err : bh_buf_addch(out, ']');
}

static bh_err notice_item(const void *items, size_t i, bh_buf *out)
{
    const bh_pnotice *n = &((const bh_pnotice *)items)[i];
    bh_msg *m = bh_msg_new();
    bh_err err = m ? add_int(m, "id", n->id) : BH_ENOMEM;
    if (!err)
        err = add_text(m, "iface", n->iface);
    if (!err)
        err = add_time(m, "received_at", n->received_at);
    if (!err)
        err = add_object(m, "fields", n->plain_json);
    if (!err)
        err = bh_msg_to_json(m, 0, out);
    bh_msg_free(m);
    return err;
}

static bh_err check_item(const void *items, size_t i, bh_buf *out)
{
    const bh_filecheck *f = &((const bh_filecheck *)items)[i];
    bh_msg *m = bh_msg_new();
    bh_err err = m ? add_text(m, "field", f->field) : BH_ENOMEM;
    if (!err)
        err = add_text(m, "url", f->url);
    if (!err)
        err = add_text(m, "md5_expected", f->md5_expected);
    if (!err)
        err = add_text(m, "md5_actual", f->md5_actual);
    if (!err)
        err = add_bool(m, "ok", f->ok);
    if (!err)
        err = add_text(m, "detail", f->detail);
    if (!err)
        err = bh_msg_to_json(m, 0, out);
    bh_msg_free(m);
    return err;
}

/* An application as the platform sees it; `v` NULL-lists for the short form. */
static bh_err papp_json(const bh_papp *a, const plat_view *v, bh_buf *out)
{
    bh_msg *m = bh_msg_new();
    bh_buf part;
    bh_buf_init(&part, (size_t)8 * 1024 * 1024);
    bh_err err = m ? add_int(m, "id", a->id) : BH_ENOMEM;
    if (!err)
        err = add_text(m, "institution", a->institution);
    if (!err)
        err = add_text(m, "appkey", a->appkey);
    if (!err)
        err = add_text(m, "applyno", a->applyno);
    if (!err)
        err = add_text(m, "state", bh_papp_state_name(a->state));
    if (!err)
        err = add_text(m, "payurl", a->payurl);
    if (!err)
        err = add_text(m, "baohanno", a->baohanno);
    if (!err && a->last_code >= 0)
        err = add_int(m, "last_code", a->last_code);
    else if (!err)
        err = bh_msg_set(m, "last_code", NULL, 0, BH_JNULL);
    if (!err)
        err = add_text(m, "last_message", a->last_message);
    if (!err)
        err = add_time(m, "created_at", a->created_at);
    if (!err)
        err = add_time(m, "updated_at", a->updated_at);
    if (!err && v)
        err = add_object(m, "request", a->request_json);
    if (!err && v)
        err = json_array(&part, v->nnotices, notice_item, v->notices);
    if (!err && v)
        err = bh_msg_set(m, "notices", part.data, part.len, BH_JARRAY);
    if (!err && v)
        err = add_object(m, "info", a->info_json);
    if (!err && v)
        err = add_time(m, "info_at", a->info_at);
    bh_buf_reset(&part);
    if (!err && v)
        err = json_array(&part, v->nchecks, check_item, v->checks);
    if (!err && v)
        err = bh_msg_set(m, "file_checks", part.data, part.len, BH_JARRAY);
    if (!err)
        err = bh_msg_to_json(m, 0, out);
    bh_buf_release(&part);
    bh_msg_free(m);
    return err;
}

/* {"ok":true,"application":{…}} plus the institution's code and message
 * when `ans` is given. */
static void plat_show(bh_platform *p, int64_t id, const bh_plat_answer *ans,
                      bh_http_response *resp)
{
    plat_view v = {id, {0}, NULL, 0, NULL, 0};
    bh_err err = bh_store_read(p->store, read_plat_view, &v);
    bh_buf out;
    bh_buf_init(&out, (size_t)16 * 1024 * 1024);
    if (err == BH_ENOTFOUND) {
        reply_error(resp, 404, "id", "no such application");
    } else if (err || bh_buf_addstr(&out, "\"application\":") || papp_json(&v.app, &v, &out)) {
        reply_error(resp, 500, "", "the store cannot be read");
    } else {
        err = ans ? bh_buf_addf(&out, ",\"code\":%d,\"msg\":", ans->code) : BH_OK;
        if (!err && ans)
            err = bh_json_quote(ans->message, strlen(ans->message), &out);
        if (err)
            reply_error(resp, 500, "", "the answer is too large");
        else
            reply_ok(resp, out.data);
    }
    plat_view_release(&v);
    bh_buf_release(&out);
}

typedef struct plat_listing {
    bh_papp_state state;
    int by_state;
    const char *appkey;
    size_t limit, offset;
    bh_papp *list;
    size_t count;
} plat_listing;

static bh_err read_plat_list(bh_tx *tx, void *arg)
{
    plat_listing *l = arg;
    return bh_tx_papp_list(tx, l->by_state ? &l->state : NULL, l->appkey, l->limit, l->offset,
                           &l->list, &l->count);
}

static void plat_list(bh_platform *p, const bh_http_request *req, bh_http_response *resp)
{
    plat_listing l = {0};
    bh_buf v, out;
    bh_buf_init(&v, 1024);
    bh_buf_init(&out, (size_t)64 * 1024 * 1024);
    const char *bad = NULL;
    if (query_value(req->query, "state", &v)) {
        l.by_state = 1;
        if (bh_papp_state_parse(v.data, &l.state))
            bad = "state";
    }
    if (query_value(req->query, "institution", &v)) {
        const bh_counterpart *cp = bh_config_counterpart_named(p->config, v.data);
        if (cp)
            l.appkey = cp->appkey;
        else
            bad = "institution";
    }
    if (query_value(req->query, "limit", &v) && !parse_count(v.data, &l.limit))
        bad = "limit";
    if (query_value(req->query, "offset", &v) && !parse_count(v.data, &l.offset))
        bad = "offset";
    if (bad) {
        reply_error(resp, 400, bad,
                         "state: sending, sent, refused, issued, rejected, given_up, "
                         "quit_requested, quit or claimed; institution: a configured NAME; "
                         "limit/offset: 0..10000");
    } else if (bh_store_read(p->store, read_plat_list, &l)) {
        reply_error(resp, 500, "", "the store cannot be read");
    } else {
        bh_err err = bh_buf_addstr(&out, "\"applications\":[");
        for (size_t i = 0; !err && i < l.count; i++) {
            if (i)
                err = bh_buf_addch(&out, ',');
            if (!err)
                err = papp_json(&l.list[i], NULL, &out);
        }
        if (!err)
            err = bh_buf_addch(&out, ']');
        if (err)
            reply_error(resp, 500, "", "the answer is too large");
        else
            reply_ok(resp, out.data);
    }
    bh_papp_list_free(l.list, l.count);
    bh_buf_release(&v);
    bh_buf_release(&out);
}

/* POST bodies: a JSON object (empty: {}), nested values allowed. */
static bh_err plat_body(const bh_http_request *req, bh_msg **m, bh_diag *d)
{
    const char *body = req->body_len ? req->body : "{}";
    size_t len = req->body_len ? req->body_len : 2;
    return bh_msg_parse(body, len, len, BH_PARSE_ALLOW_NESTED, m, d);
}

static void plat_apply(bh_platform *p, const bh_http_request *req, bh_http_response *resp)
{
    bh_diag d = BH_DIAG_INIT;
    bh_msg *m = NULL, *fields = NULL;
    bh_plat_answer ans;
    int64_t id = 0;
    bh_err err = plat_body(req, &m, &d);
    const bh_field *f = err ? NULL : bh_msg_get(m, "fields");
    if (!err && (!f || f->type != BH_JOBJECT))
        err = bh_diag_add(&d, BH_EMISSING, "fields",
                          "required: an object with the business fields of baohanapply");
    if (!err)
        err = bh_msg_parse(f->value, f->value_len, f->value_len, 0, &fields, &d);
    if (!err)
        err = bh_plat_apply(p, bh_msg_text(m, "institution"), fields, &id, &ans, &d);
    if (err)
        reply_problems(resp, plat_status_of(&d), &d);
    else
        plat_show(p, id, &ans, resp);
    bh_msg_free(fields);
    bh_msg_free(m);
    bh_diag_release(&d);
}

static void plat_act(bh_platform *p, int64_t id, const char *verb, const bh_http_request *req,
                     bh_http_response *resp)
{
    bh_diag d = BH_DIAG_INIT;
    bh_msg *m = NULL;
    bh_plat_answer ans;
    bh_err err = plat_body(req, &m, &d);
    if (!err) {
        if (strcmp(verb, "getbaohaninfo") == 0)
            err = bh_plat_getbaohaninfo(p, id, &ans, &d);
        else if (strcmp(verb, "giveup") == 0)
            err = bh_plat_giveup(p, id, &ans, &d);
        else if (strcmp(verb, "quitapply") == 0)
            err = bh_plat_quitapply(p, id, m, &ans, &d);
        else if (strcmp(verb, "claims") == 0)
            err = bh_plat_claims(p, id, m, &ans, &d);
        else
            err = bh_diag_add(&d, BH_ENOTFOUND, "path", "no such action: %s", verb);
    }
    if (err)
        reply_problems(resp, plat_status_of(&d), &d);
    else
        plat_show(p, id, &ans, resp);
    bh_msg_free(m);
    bh_diag_release(&d);
}

void bh_admin_platform_handle(bh_platform *p, const bh_http_request *req, bh_http_response *resp)
{
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    int64_t id;
    const char *verb;
    if (gate(p->config, req, resp))
        return;
    if (post && strcmp(req->path, "/admin/platform/apply") == 0)
        plat_apply(p, req, resp);
    else if (get && strcmp(req->path, "/admin/platform/applications") == 0)
        plat_list(p, req, resp);
    else if (route(req->path, "/admin/platform/applications/", &id, &verb) && get && !*verb)
        plat_show(p, id, NULL, resp);
    else if (route(req->path, "/admin/platform/applications/", &id, &verb) && post && *verb)
        plat_act(p, id, verb, req, resp);
    else
        reply_error(resp, 404, "path", "no such endpoint");
}
