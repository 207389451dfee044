/* The request pipeline shared by both roles (see serve.h). Moved here from
 * institution.c so the platform role serves its notices the same way. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "banned.h"

const bh_iface *bh_served_iface(const char *path, bh_side side)
{
    const char *slash = strrchr(path, '/');
    const bh_iface *iface = bh_iface_find(slash ? slash + 1 : path);
    return iface && iface->served_by == side ? iface : NULL;
}

bh_err bh_content_hash(const bh_msg *business, char out[BH_SM3_HEX_LEN + 1])
{
    bh_buf text;
    bh_buf_init(&text, BH_BUF_MAX_DEFAULT);
    bh_err err = bh_sign_string(business, "", &text);
    if (!err)
        err = bh_sm3_hex(text.data, text.len, out);
    bh_buf_release(&text);
    return err;
}

bh_err bh_app_content_hash(const bh_app *app, char out[BH_SM3_HEX_LEN + 1])
{
    if (app->content_hash && app->content_hash[0]) {
        snprintf(out, BH_SM3_HEX_LEN + 1, "%s", app->content_hash);
        return BH_OK;
    }
    if (!app->request_json)
        return BH_EINVAL;
    bh_msg *m = NULL;
    size_t len = strlen(app->request_json);
    bh_err err = bh_msg_parse(app->request_json, len, len, 0, &m, NULL);
    if (!err)
        err = bh_content_hash(m, out);
    bh_msg_free(m);
    return err;
}

bh_err bh_req_hash(bh_request *r)
{
    return r->hash[0] ? BH_OK : bh_content_hash(r->business, r->hash);
}

void bh_req_say(bh_request *r, int code, const char *fmt, ...)
{
    r->code = code;
    bh_buf_reset(&r->message);
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (bh_buf_addstr(&r->message, text))
        bh_buf_reset(&r->message);
}

/* Joins every problem as "field: message; field: message" for the answer. */
static void say_problems(bh_request *r, const bh_diag *d)
{
    r->code = 0;
    bh_buf_reset(&r->message);
    for (size_t i = 0; i < d->count && r->message.len < 1500; i++) {
        const bh_problem *p = &d->items[i];
        if (bh_buf_addf(&r->message, "%s%s%s%s", i ? "; " : "", p->field, *p->field ? ": " : "",
                        p->message))
            break;
    }
    if (r->message.len == 0 && bh_buf_addstr(&r->message, "request refused"))
        bh_buf_reset(&r->message);
}

bh_err bh_req_audit_in(bh_tx *tx, const bh_request *r)
{
    bh_audit a = {r->now,
                  "in",
                  r->iface ? r->iface->name : "",
                  r->appkey ? r->appkey : "",
                  r->applyno ? r->applyno : "",
                  r->code,
                  r->http_status,
                  r->message.data ? r->message.data : ""};
    return bh_tx_audit_add(tx, &a);
}

bh_err bh_req_unit_audit(bh_tx *tx, void *arg)
{
    return bh_req_audit_in(tx, arg);
}

/* The answer as JSON: code, message, then any extra fields. */
static void write_answer(const bh_request *r, bh_http_response *resp)
{
    bh_msg *m = bh_msg_new();
    char code[2] = {(char)('0' + r->code), '\0'};
    bh_err err = m ? bh_msg_set(m, "code", code, 1, BH_JNUMBER) : BH_ENOMEM;
    if (!err)
        err = bh_msg_set_str(m, "message", r->message.data ? r->message.data : "");
    for (size_t i = 0; !err && r->answer && i < bh_msg_count(r->answer); i++) {
        const bh_field *f = bh_msg_at(r->answer, i);
        err = bh_msg_set(m, f->key, f->value, f->value_len, f->type);
    }
    resp->status = r->http_status;
    bh_buf_reset(&resp->body);
    if (!err)
        err = bh_msg_to_json(m, 0, &resp->body);
    if (err)
        bh_http_reply(resp, 500, 0, "internal error: cannot write the answer");
    bh_msg_free(m);
}

bh_err bh_req_repeat_answer(bh_tx *tx, bh_request *r, int *answered)
{
    char *json = NULL;
    *answered = 0;
    bh_err err = bh_req_hash(r);
    if (!err)
        err = bh_tx_answer_get(tx, r->appkey, r->iface->name, r->applyno, r->hash, &json);
    if (err == BH_ENOTFOUND)
        return BH_OK;
    if (err)
        return err;
    bh_msg *m = NULL;
    err = bh_msg_parse(json, strlen(json), strlen(json), BH_PARSE_ALLOW_NESTED, &m, NULL);
    free(json);
    if (err)
        return err;
    const char *message = bh_msg_text(m, "message");
    bh_req_say(r, 1, "%s", message ? message : BH_OK_MESSAGE);
    bh_msg_free(m);
    *answered = 1;
    return BH_OK;
}

bh_err bh_req_keep_answer(bh_tx *tx, bh_request *r)
{
    bh_buf json;
    bh_buf_init(&json, BH_BUF_MAX_DEFAULT);
    bh_err err = bh_req_hash(r);
    if (!err)
        err = bh_http_reply_json(&json, 1, r->message.data ? r->message.data : "");
    if (!err)
        err = bh_tx_answer_put(tx, r->appkey, r->iface->name, r->applyno, r->hash, json.data,
                               r->now);
    bh_buf_release(&json);
    return err;
}

/* Copies text for the access log, keeping it on one printable line. */
static void log_safe(char *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; s && *s && i + 1 < n; s++)
        out[i++] = (unsigned char)*s < 0x21 || *s == 0x7F ? '?' : *s;
    out[i] = '\0';
}

/* A failure of ours, not the counterpart's: nothing was stored, so the
 * counterpart may retry. */
static void say_internal_error(bh_request *r, bh_err err)
{
    bh_req_say(r, 0, "internal error (%s); nothing was stored, please retry", bh_strerror(err));
    r->http_status = 500;
    bh_msg_free(r->answer);
    r->answer = NULL;
}

/* The answer for a refusal; its audit row is the unit of work. */
static void refuse(bh_request *r, const bh_diag *d)
{
    say_problems(r, d);
    r->refused = 1;
    r->unit = bh_req_unit_audit;
}

/* Everything before the unit of work: leaves the unit to run in r->unit
 * (the role's, or a refusal's audit row), or an answer without one. */
static void run_pipeline(bh_request *r, const bh_http_request *req, bh_serve_fn dispatch)
{
    const bh_config *config = r->config;
    bh_diag d = BH_DIAG_INIT;
    bh_buf json;
    bh_buf_init(&json, config->max_body);

    if (bh_body_json(req->content_type, req->body, req->body_len, &json, &d) ||
        bh_msg_parse(json.data ? json.data : "", json.len, config->max_body, 0, &r->wire, &d)) {
        refuse(r, &d);
        goto out;
    }
    bh_msg *wire = r->wire;
    r->applyno = bh_msg_text(wire, "applyno");
    const char *appkey = bh_msg_text(wire, "appkey");
    const bh_counterpart *cp = appkey ? bh_config_counterpart(config, appkey) : NULL;
    if (!cp) {
        bh_diag_add(&d, appkey ? BH_ENOTFOUND : BH_EMISSING, "appkey",
                    !appkey                              ? "required (应用标识)"
                    : config->role == BH_ROLE_INSTITUTION ? "unknown appkey: not a configured platform"
                                                          : "unknown appkey: not a configured "
                                                            "institution");
        refuse(r, &d);
        goto out;
    }
    r->appkey = cp->appkey;
    if (bh_check_timestamp(wire, r->now, config->timestamp_window, &d)) {
        refuse(r, &d);
        goto out;
    }
    bh_credentials cred = {cp->appkey, cp->appsecret, cp->key};
    if (bh_open(r->iface, &cred, wire, &r->business, &d)) {
        refuse(r, &d);
        goto out;
    }
    /* The opened request without its envelope is its business content. */
    bh_msg_remove(r->business, "appkey");
    bh_msg_remove(r->business, "timestamp");
    bh_msg_remove(r->business, "sign");
    r->applyno = bh_msg_text(r->business, "applyno");
    bh_err err = dispatch(r);
    if (err) {
        say_internal_error(r, err);
        r->unit = NULL;
    }
out:
    bh_diag_release(&d);
    bh_buf_release(&json);
}

/* The unit of work ended with `rc`. */
static void unit_done(bh_request *r, bh_err rc)
{
    if (rc == BH_OK)
        return;
    if (r->refused)
        r->http_status = 500; /* the refusal stands; only its audit row is lost */
    else
        say_internal_error(r, rc);
}

/* Starts serving: 0 when the method alone settles the answer. */
static int begin(bh_request *r, const bh_http_request *req)
{
    r->now = bh_time_now();
    r->http_status = 200;
    bh_buf_init(&r->message, 4096);
    if (strcmp(req->method, "POST") == 0)
        return 1;
    bh_req_say(r, 0, "%s must be called with POST", r->iface->name);
    r->http_status = 405;
    return 0;
}

/* Writes the answer and the access-log note, and releases what `r` holds. */
static void end(bh_request *r, bh_http_response *resp)
{
    write_answer(r, resp);
    char appkey[65], applyno[65];
    log_safe(appkey, sizeof appkey, r->appkey);
    log_safe(applyno, sizeof applyno, r->applyno);
    snprintf(resp->note, sizeof resp->note, "%s %s %s code=%d", r->iface->name,
             *appkey ? appkey : "-", *applyno ? applyno : "-", r->code);
    bh_buf_release(&r->message);
    if (r->prep_free)
        r->prep_free(r->prep);
    bh_msg_free(r->answer);
    bh_msg_free(r->business);
    bh_msg_free(r->wire);
}

void bh_serve(bh_request *r, const bh_http_request *req, bh_http_response *resp,
              bh_serve_fn dispatch)
{
    if (begin(r, req))
        run_pipeline(r, req, dispatch);
    if (r->unit)
        unit_done(r, bh_store_write(r->store, r->unit, r));
    end(r, resp);
}

/* The asynchronous ending, on the call's event thread (bh_http_call_on_answer):
 * the answer, the access-log note, and the request freed where it was
 * allocated. */
static void answer_call(void *ctx, bh_http_response *resp)
{
    bh_request *r = ctx;
    if (r->unit)
        unit_done(r, r->unit_rc);
    end(r, resp);
    free(r);
}

/* The store's completion of the unit (on its thread): it is durable, or
 * failed. */
static void unit_durable(void *ctx, bh_err rc)
{
    bh_request *r = ctx;
    r->unit_rc = rc;
    bh_http_call_finish(r->call);
}

void bh_serve_call(const bh_request *proto, bh_http_call *call, bh_serve_fn dispatch)
{
    bh_request *r = malloc(sizeof *r);
    if (!r) {
        bh_http_reply(bh_http_call_response(call), 503, 0, "out of memory; please retry");
        bh_http_call_finish(call);
        return;
    }
    *r = *proto;
    r->call = call;
    bh_http_call_on_answer(call, answer_call, r);
    const bh_http_request *req = bh_http_call_request(call);
    if (begin(r, req))
        run_pipeline(r, req, dispatch);
    if (r->unit) {
        /* The protocol units answer refusals with BH_OK and fail only on
         * errors that mean "retry": no savepoint needed. */
        r->unit_rc = bh_store_submit_whole(r->store, r->unit, r, unit_durable, r);
        if (r->unit_rc == BH_OK)
            return; /* unit_durable finishes it */
    }
    bh_http_call_finish(call);
}
