/* Request bodies: JSON, or a form with requestData (see include/baohan/body.h). */
#include <string.h>

#include "baohan/body.h"
#include "baohan/codec.h"
#include "json.h"
#include "banned.h"

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Whether the media type (before any ';') is `type`, ignoring case and
 * surrounding spaces. */
static int media_type_is(const char *content_type, const char *type)
{
    if (!content_type)
        return 0;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    size_t n = strlen(type);
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)content_type[i]) != type[i])
            return 0;
    const char *rest = content_type + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* Undoes a partial append, so errors leave `out` as it was. */
static void truncate_to(bh_buf *out, size_t len)
{
    out->len = len;
    if (out->data)
        out->data[len] = '\0';
}

bh_err bh_form_decode(const char *text, size_t len, bh_buf *out)
{
    size_t start = out->len;
    bh_err err = BH_OK;
    for (size_t i = 0; i < len && !err; i++) {
        char c = text[i];
        if (c == '+') {
            err = bh_buf_addch(out, ' ');
        } else if (c != '%') {
            err = bh_buf_addch(out, c);
        } else {
            int hi = i + 2 < len ? bh_hex_digit((unsigned char)text[i + 1]) : -1;
            int lo = i + 2 < len ? bh_hex_digit((unsigned char)text[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                err = BH_EFORMAT;
            else
                err = bh_buf_addch(out, (char)(hi << 4 | lo));
            i += 2;
        }
    }
    if (err)
        truncate_to(out, start);
    return err;
}

bh_err bh_form_field(const char *form, size_t len, const char *name, bh_buf *out)
{
    size_t name_len = strlen(name);
    size_t i = 0;
    while (i <= len) {
        const char *pair = form + i;
        const char *amp = memchr(pair, '&', len - i);
        size_t pair_len = amp ? (size_t)(amp - pair) : len - i;
        const char *eq = memchr(pair, '=', pair_len);
        size_t key_len = eq ? (size_t)(eq - pair) : pair_len;
        /* Field names are compared as sent; requestData is plain ASCII. */
        if (key_len == name_len && memcmp(pair, name, name_len) == 0) {
            if (!eq)
                return bh_form_decode("", 0, out);
            return bh_form_decode(eq + 1, pair_len - key_len - 1, out);
        }
        i += pair_len + 1;
    }
    return BH_ENOTFOUND;
}

/* The extent of a JSON object starting at `p` (which is '{'), or 0. */
static size_t object_length(const char *p, size_t len)
{
    bh__json j;
    bh_buf scratch;
    bh_jtype type;
    bh_buf_init(&scratch, len);
    size_t n = 0;
    if (bh__json_begin(&j, p, len, NULL, NULL) == BH_OK &&
        bh__json_value(&j, &scratch, &type, BH_MSG_MAX_DEPTH, NULL) == BH_OK && type == BH_JOBJECT)
        n = (size_t)(j.p - p);
    bh_buf_release(&scratch);
    return n;
}

/* Some clients post requestData=<JSON> without percent-encoding it. Encoded
 * JSON never starts with a raw '{' (form encoding writes %7B), so a raw '{'
 * means the value is the JSON itself, as sent: decoding it would turn the
 * '+' of Base64 ciphertext into spaces. Its end is where the object ends. */
static bh_err raw_request_data(const char *body, size_t len, bh_buf *json)
{
    static const char name[] = "requestData=";
    for (size_t i = 0; i + sizeof name - 1 < len; i++) {
        if ((i == 0 || body[i - 1] == '&') && memcmp(body + i, name, sizeof name - 1) == 0) {
            const char *v = body + i + sizeof name - 1;
            size_t rest = len - (size_t)(v - body);
            if (rest == 0 || *v != '{')
                return BH_ENOTFOUND;
            size_t n = object_length(v, rest);
            return n ? bh_buf_add(json, v, n) : BH_ENOTFOUND;
        }
    }
    return BH_ENOTFOUND;
}

bh_err bh_body_json(const char *content_type, const char *body, size_t len, bh_buf *json,
                    bh_diag *d)
{
    size_t lead = 0;
    while (lead < len && body[lead] && strchr(" \t\r\n", body[lead]))
        lead++;
    /* A JSON object is the JSON, whatever the Content-Type says. */
    int looks_like_json = lead < len && body[lead] == '{';
    if (looks_like_json || !media_type_is(content_type, "application/x-www-form-urlencoded")) {
        bh_err err = bh_buf_add(json, body, len);
        if (err)
            bh_diag_add(d, err, "", "cannot hold the request body: %s", bh_strerror(err));
        return err;
    }
    bh_err err = raw_request_data(body, len, json);
    if (err == BH_ENOTFOUND)
        err = bh_form_field(body, len, "requestData", json);
    if (err == BH_ENOTFOUND)
        return bh_diag_add(d, BH_EMISSING, "requestData",
                           "a form-encoded request must carry the JSON in requestData");
    if (err == BH_EFORMAT)
        return bh_diag_add(d, BH_EFORMAT, "requestData",
                           "malformed percent-encoding ('%%' must be followed by two hex digits)");
    if (err)
        bh_diag_add(d, err, "requestData", "cannot decode: %s", bh_strerror(err));
    return err;
}
