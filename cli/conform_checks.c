/* baohan conform: the checks every server of the protocol owes whatever its
 * role — missing fields, signatures, unknown fields, JSON numbers, form
 * bodies and the transport faults — run on one interface of the side under
 * test. The request each starts from comes from the role's `fresh` function
 * (conform.h), which knows what state makes it right. */
#include <stdio.h>
#include <string.h>

#include "conform.h"

static bh_msg *fresh(conform *c, const char *name, const char *rule, const char *iface, int64_t now,
                     int accept)
{
    return c->fresh(c, name, rule, iface, now, accept);
}

void conform_check_missing(conform *c, const char *iface, const char *field)
{
    char name[96];
    snprintf(name, sizeof name, "%s: without %s", iface, field);
    bh_msg *wire = fresh(c, name, R_MISSING, iface, bh_time_now(), 0);
    if (!wire)
        return;
    bh_msg_remove(wire, field);
    if (strcmp(field, "sign") == 0 || conform_resign(c, wire))
        conform_expect_refusal(c, name, R_MISSING, iface, wire, field);
    bh_msg_free(wire);
}

void conform_check_all_missing(conform *c, const char *name)
{
    const bh_iface *iface = bh_iface_find(name);
    for (size_t i = 0; iface && i < iface->nrequest; i++)
        if (iface->request[i].flags & BH_F_REQUIRED)
            conform_check_missing(c, name, iface->request[i].name);
}

void conform_check_changed(conform *c, const char *name, const char *rule, const char *iface,
                           const char *field, const char *value, int accept)
{
    bh_msg *wire = fresh(c, name, rule, iface, bh_time_now(), accept);
    if (!wire)
        return;
    if (bh_msg_set_str(wire, field, value) == BH_OK && conform_resign(c, wire)) {
        if (accept)
            conform_expect_accept(c, name, rule, iface, wire);
        else /* refused for that field, not for anything (a signature) */
            conform_expect_refusal(c, name, rule, iface, wire, field);
    }
    bh_msg_free(wire);
}

/* The wire's sign with one change: `upper` turns its hex digits upper case,
 * otherwise its first digit is replaced. */
static int change_sign(bh_msg *wire, int upper)
{
    char sig[BH_SM3_HEX_LEN + 1];
    const char *s = bh_msg_text(wire, "sign");
    snprintf(sig, sizeof sig, "%s", s ? s : "");
    if (!upper)
        sig[0] = sig[0] == '0' ? '1' : '0';
    for (char *p = sig; upper && *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    return bh_msg_set_str(wire, "sign", sig) == BH_OK;
}

void conform_check_signatures(conform *c, const char *iface)
{
    const char *name = "signature: wrong signature refused";
    bh_msg *wire = fresh(c, name, R_BADSIGN, iface, bh_time_now(), 0);
    if (wire && change_sign(wire, 0))
        conform_expect_refusal(c, name, R_BADSIGN, iface, wire, NULL);
    bh_msg_free(wire);
    name = "signature: upper-case hex accepted";
    wire = fresh(c, name, R_UPPER, iface, bh_time_now(), 1);
    if (wire && change_sign(wire, 1))
        conform_expect_accept(c, name, R_UPPER, iface, wire);
    bh_msg_free(wire);
    conform_check_missing(c, iface, "sign");
}

void conform_check_unknown_field(conform *c, const char *iface, const char *field,
                                 const char *value, const char *rule)
{
    char name[96];
    snprintf(name, sizeof name, "%s: unknown field %s accepted", iface, field);
    conform_check_changed(c, name, rule, iface, field, value, 1);
}

void conform_check_numbers(conform *c, const char *iface, const char *name,
                           const char *const *fields)
{
    bh_msg *wire = fresh(c, name, R_NUMBERS, iface, bh_time_now(), 1);
    if (!wire)
        return;
    int ok = 1;
    for (size_t i = 0; ok && fields[i]; i += 2)
        ok = bh_msg_set(wire, fields[i], fields[i + 1], strlen(fields[i + 1]), BH_JNUMBER) == BH_OK;
    if (ok && conform_resign(c, wire))
        conform_expect_accept(c, name, R_NUMBERS, iface, wire);
    bh_msg_free(wire);
}

void conform_check_form(conform *c, const char *iface)
{
    char name[96];
    snprintf(name, sizeof name, "%s: requestData form body accepted", iface);
    bh_msg *wire = fresh(c, name, R_FORM, iface, bh_time_now(), 1);
    if (!wire)
        return;
    exchange e;
    conform_ex_init(&e);
    bh_buf form;
    bh_buf_init(&form, (size_t)8 * 1024 * 1024);
    if (bh_msg_to_json(wire, 0, &e.sent) == BH_OK &&
        bh_buf_addstr(&form, "requestData=") == BH_OK &&
        conform_percent_encode(e.sent.data, e.sent.len, &form)) {
        conform_post_raw(c, iface, "application/x-www-form-urlencoded", form.data, form.len, &e);
        conform_record(c, name, conform_code_of(&e) == 1, R_FORM, &e,
                       "expected code 1 (sent as a form body)");
    } else {
        c->oom = 1;
    }
    bh_buf_release(&form);
    conform_ex_release(&e);
    bh_msg_free(wire);
}

static void check_stale(conform *c, const char *iface)
{
    const char *name = "timestamp: stale (now - 1 hour) refused";
    bh_msg *wire = fresh(c, name, R_STALE, iface, bh_time_now() - 3600, 0);
    if (wire)
        conform_expect_refusal(c, name, R_STALE, iface, wire, NULL);
    bh_msg_free(wire);
}

static void check_malformed(conform *c, const char *iface)
{
    const char *name = "transport: malformed JSON refused";
    exchange e;
    conform_ex_init(&e);
    static const char body[] = "{\"appkey\":\"FI001\",\"applyno\":";
    if (bh_buf_addstr(&e.sent, body) == BH_OK) {
        conform_post_raw(c, iface, "application/json; charset=utf-8", body, sizeof body - 1, &e);
        int status_ok = e.status == 200 || (e.status >= 400 && e.status < 500);
        conform_record(c, name, status_ok && conform_code_of(&e) == 0, R_MALFORMED, &e,
                       "expected HTTP 200 or 4xx and a JSON body with code 0");
    }
    conform_ex_release(&e);
}

static void check_oversized(conform *c, const char *iface)
{
    const char *name = "transport: 2 MiB body refused";
    size_t pad = (size_t)2 * 1024 * 1024;
    bh_buf body;
    bh_buf_init(&body, pad + 1024);
    exchange e;
    conform_ex_init(&e);
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
        conform_post_raw(c, iface, "application/json; charset=utf-8", body.data, body.len, &e);
        conform_record(c, name, e.status == 413 || (e.status != 0 && conform_code_of(&e) == 0),
                       R_OVERSIZE, &e, "expected HTTP 413, or code 0");
    } else {
        c->oom = 1;
    }
    bh_buf_release(&body);
    conform_ex_release(&e);
}

void conform_check_transport(conform *c, const char *iface)
{
    check_stale(c, iface);
    conform_check_changed(c, "appkey: unknown appkey refused", R_APPKEY, iface, "appkey",
                          "CF-NO-SUCH-APPKEY", 0);
    check_malformed(c, iface);
    check_oversized(c, iface);
}
