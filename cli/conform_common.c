/* baohan conform: results, exchanges with the side under test, admin calls
 * and output, shared by both role suites (conform.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

void conform_ex_init(exchange *e)
{
    bh_buf_init(&e->sent, (size_t)4 * 1024 * 1024);
    bh_buf_init(&e->body, BH_BUF_MAX_DEFAULT);
    e->status = 0;
    e->answer = NULL;
    e->transport[0] = '\0';
}

void conform_ex_release(exchange *e)
{
    bh_buf_release(&e->sent);
    bh_buf_release(&e->body);
    bh_msg_free(e->answer);
    e->answer = NULL;
}

/* The answer's code: 1, 0, or -1 when absent or neither. */
int conform_code_of(const exchange *e)
{
    const bh_field *f = e->answer ? bh_msg_get_nocase(e->answer, "code") : NULL;
    if (!f || (f->type != BH_JNUMBER && f->type != BH_JSTRING))
        return -1;
    return strcmp(f->value, "1") == 0 ? 1 : strcmp(f->value, "0") == 0 ? 0 : -1;
}

const char *conform_text_nocase(const exchange *e, const char *key)
{
    const bh_field *f = e->answer ? bh_msg_get_nocase(e->answer, key) : NULL;
    return f && (f->type == BH_JSTRING || f->type == BH_JNUMBER) ? f->value : NULL;
}

void conform_next_applyno(conform *c, char out[64])
{
    snprintf(out, 64, "CF%lld-%ld-%d", c->run_id, c->pid, ++c->seq);
}

/* Records one check's outcome; `e` (may be NULL) is shown when it failed. */
void conform_record(conform *c, const char *name, int pass, const char *rule, const exchange *e,
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
void conform_record_skip(conform *c, const char *name, const char *rule, const char *why)
{
    conform_record(c, name, 0, rule, NULL, why);
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
void conform_post_raw(conform *c, const char *iface, const char *content_type, const char *body,
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
void conform_post_msg(conform *c, const char *iface, const bh_msg *wire, exchange *e)
{
    bh_buf_reset(&e->sent);
    if (bh_msg_to_json(wire, 0, &e->sent)) {
        snprintf(e->transport, sizeof e->transport, "conform could not write the request");
        e->status = 0;
        return;
    }
    conform_post_raw(c, iface, "application/json; charset=utf-8", e->sent.data, e->sent.len, e);
}

/* Seals `plain` at time `now`; on failure records the check as failed. */
bh_msg *conform_seal_or_fail(conform *c, const char *name, const char *rule, const char *iface,
                             const bh_msg *plain, int64_t now)
{
    bh_msg *wire = NULL;
    bh_diag d = BH_DIAG_INIT;
    if (!plain || bh_seal(bh_iface_find(iface), &c->cred, plain, now, &wire, &d)) {
        char why[300];
        snprintf(why, sizeof why, "conform could not build the request: %s",
                 d.count ? d.items[0].message : "out of memory");
        conform_record(c, name, 0, rule, NULL, why);
        wire = NULL;
    }
    bh_diag_release(&d);
    return wire;
}

/* Seals and sends a valid request; returns its code (-1 on any trouble). */
int conform_send_plain(conform *c, const char *iface, const bh_msg *plain, int64_t now, exchange *e)
{
    bh_msg *wire = NULL;
    bh_diag d = BH_DIAG_INIT;
    int code = -1;
    if (plain && !bh_seal(bh_iface_find(iface), &c->cred, plain, now, &wire, &d)) {
        conform_post_msg(c, iface, wire, e);
        code = conform_code_of(e);
    }
    bh_msg_free(wire);
    bh_diag_release(&d);
    return code;
}

static int is_word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

int conform_is_http_url(const char *s)
{
    return s && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
           strlen(s) > (s[4] == 's' ? 8u : 7u);
}

/* Whether `message` names `field` as a word of its own (so "zbr" is not found in
 * "zbrorgnum"). */
int conform_names_field(const char *message, const char *field)
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
void conform_expect_refusal(conform *c, const char *name, const char *rule, const char *iface,
                            const bh_msg *wire, const char *field)
{
    exchange e;
    conform_ex_init(&e);
    conform_post_msg(c, iface, wire, &e);
    int code = conform_code_of(&e);
    const char *message = conform_text_nocase(&e, "message");
    char why[200];
    if (code != 0)
        snprintf(why, sizeof why, "expected code 0");
    else
        snprintf(why, sizeof why, "code 0, but the message does not name %s", field ? field : "");
    conform_record(c, name, code == 0 && (!field || conform_names_field(message, field)), rule, &e,
                   why);
    conform_ex_release(&e);
}

/* Sends `wire` and expects code 1. */
void conform_expect_accept(conform *c, const char *name, const char *rule, const char *iface,
                           const bh_msg *wire)
{
    exchange e;
    conform_ex_init(&e);
    conform_post_msg(c, iface, wire, &e);
    conform_record(c, name, conform_code_of(&e) == 1, rule, &e, "expected code 1");
    conform_ex_release(&e);
}

/* Signs `wire` again after a check changed it; 0 (out of memory, recorded) on failure. */
int conform_resign(conform *c, bh_msg *wire)
{
    if (bh_sign_apply(wire, c->cred.appsecret) == BH_OK)
        return 1;
    c->oom = 1;
    return 0;
}

int conform_percent_encode(const char *s, size_t len, bh_buf *out)
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

int conform_admin_call(conform *c, const char *method, const char *path, const char *body,
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

/* ---- output --------------------------------------------------------------------------- */

static const char *verdict(const result *r)
{
    return r->pass ? "PASS" : r->skipped ? "SKIPPED" : "FAIL";
}

void conform_print_table(const conform *c, size_t passed, size_t skipped)
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

int conform_add_member(bh_buf *out, const char *key, const char *value, int comma)
{
    return bh_buf_addf(out, "%s\"%s\":", comma ? "," : "", key) == BH_OK &&
           bh_json_quote(value, strlen(value), out) == BH_OK;
}

int conform_print_json(const conform *c, size_t passed, size_t skipped)
{
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    int ok = bh_buf_addch(&out, '{') == BH_OK && conform_add_member(&out, "role", c->role, 0) &&
             conform_add_member(&out, "url", c->url, 1) &&
             bh_buf_addf(&out, ",\"passed\":%zu,\"failed\":%zu,\"skipped\":%zu,\"checks\":[",
                         passed, c->count - passed - skipped, skipped) == BH_OK;
    for (size_t i = 0; ok && i < c->count; i++) {
        const result *r = &c->results[i];
        ok = bh_buf_addstr(&out, i ? ",{" : "{") == BH_OK &&
             conform_add_member(&out, "name", r->name, 0) &&
             conform_add_member(&out, "result", verdict(r), 1) &&
             conform_add_member(&out, "rule", r->rule, 1);
        if (ok && r->skipped)
            ok = conform_add_member(&out, "why", r->why, 1);
        else if (ok && !r->pass)
            ok = conform_add_member(&out, "why", r->why, 1) &&
                 conform_add_member(&out, "sent", r->sent, 1) &&
                 conform_add_member(&out, "answer", r->answer, 1);
        ok = ok && bh_buf_addch(&out, '}') == BH_OK;
    }
    ok = ok && bh_buf_addstr(&out, "]}") == BH_OK;
    if (ok)
        printf("%s\n", out.data);
    bh_buf_release(&out);
    return ok;
}

bh_msg *conform_member_object(const bh_msg *m, const char *key)
{
    const bh_field *f = m ? bh_msg_get(m, key) : NULL;
    bh_msg *out = NULL;
    if (f && f->type == BH_JOBJECT &&
        bh_msg_parse(f->value, f->value_len, f->value_len, BH_PARSE_ALLOW_NESTED, &out, NULL) !=
            BH_OK)
        out = NULL;
    return out;
}

bh_msg *conform_admin_json(conform *c, const char *method, const char *path, const char *body,
                           int *status, bh_buf *raw)
{
    bh_buf_reset(raw);
    *status = conform_admin_call(c, method, path, body, raw);
    bh_msg *m = NULL;
    if (!raw->len ||
        bh_msg_parse(raw->data, raw->len, raw->len, BH_PARSE_ALLOW_NESTED, &m, NULL) != BH_OK)
        m = NULL;
    return m;
}

int conform_admin_show(conform *c, const char *path, const char *key, char *out, size_t n)
{
    bh_buf body;
    bh_buf_init(&body, BH_BUF_MAX_DEFAULT);
    int status = 0;
    bh_msg *m = conform_admin_json(c, "GET", path, NULL, &status, &body);
    bh_msg *app = status == 200 ? conform_member_object(m, "application") : NULL;
    const char *v = app ? bh_msg_text(app, key) : NULL;
    snprintf(out, n, "%s", v ? v : "");
    bh_msg_free(app);
    bh_msg_free(m);
    bh_buf_release(&body);
    return out[0] != '\0';
}

bh_err conform_add_claim(bh_msg *m)
{
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
    bh_err err = BH_OK;
    for (size_t i = 0; !err && i < sizeof claim / sizeof *claim; i++)
        err = bh_msg_set_str(m, claim[i][0], claim[i][1]);
    return err;
}

const char *const conform_files[CONFORM_FILES][3] = {
    {"baohanurl", "guaranteemd5", "guarantee.pdf"},
    {"orderurl", "ordermd5", "order.pdf"},
    {"qualficationfileurl", "qualficationfilemd5", "qualification.pdf"},
    {"businesslicenseurl", "businesslicensemd5", "license.pdf"},
    {"guaranteexmlurl", "guaranteexmlmd5", "guarantee.xml"},
    {"payfileurl", NULL, "payment.pdf"},
};
