/* Request bodies: JSON, or a form with requestData (see include/baohan/body.h). */
#include <string.h>

#include "baohan/body.h"
#include "baohan/codec.h"
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

bh_err bh_body_json(const char *content_type, const char *body, size_t len, bh_buf *json,
                    bh_diag *d)
{
    if (!media_type_is(content_type, "application/x-www-form-urlencoded")) {
        bh_err err = bh_buf_add(json, body, len);
        if (err)
            bh_diag_add(d, err, "", "cannot hold the request body: %s", bh_strerror(err));
        return err;
    }
    bh_err err = bh_form_field(body, len, "requestData", json);
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
