/* Request signatures (see include/baohan/sign.h and PROTOCOL.md §4). */
#include <stdlib.h>
#include <string.h>

#include "baohan/codec.h"
#include "baohan/sign.h"
#include "banned.h"

/* Whether a field takes part in the signature: everything but `sign`
 * itself, JSON null and the empty string. */
static int is_signed(const bh_field *f)
{
    if (strcmp(f->key, BH_SIGN_FIELD) == 0)
        return 0;
    if (f->type == BH_JNULL)
        return 0;
    if (f->type == BH_JSTRING && f->value_len == 0)
        return 0;
    return 1;
}

/* Byte-value order of keys: strcmp compares as unsigned char, and keys
 * never hold NUL (the parser refuses it). */
static int by_key(const void *a, const void *b)
{
    const bh_field *fa = *(const bh_field *const *)a;
    const bh_field *fb = *(const bh_field *const *)b;
    return strcmp(fa->key, fb->key);
}

bh_err bh_sign_string(const bh_msg *m, const char *appsecret, bh_buf *out)
{
    size_t n = bh_msg_count(m), used = 0;
    const bh_field **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return BH_ENOMEM;
    bh_err err = BH_OK;
    for (size_t i = 0; i < n; i++) {
        const bh_field *f = bh_msg_at(m, i);
        if (f->type == BH_JOBJECT || f->type == BH_JARRAY) {
            err = BH_ENESTED;
            goto out;
        }
        if (is_signed(f))
            order[used++] = f;
    }
    qsort(order, used, sizeof *order, by_key);
    /* The string's exact length, reserved at once: one allocation instead of
     * a doubling series, and no copy of the text (whose tail is the secret)
     * left behind in a block that realloc freed. */
    const char *secret = appsecret ? appsecret : "***";
    size_t total = sizeof "&appsecret=" - 1 + strlen(secret);
    for (size_t i = 0; i < used; i++)
        total += (i > 0) + order[i]->key_len + 1 + order[i]->value_len;
    err = bh_buf_reserve(out, total);
    for (size_t i = 0; i < used && !err; i++) {
        if (i > 0)
            err = bh_buf_addch(out, '&');
        if (!err)
            err = bh_buf_add(out, order[i]->key, order[i]->key_len);
        if (!err)
            err = bh_buf_addch(out, '=');
        if (!err)
            err = bh_buf_add(out, order[i]->value, order[i]->value_len);
    }
    if (!err)
        err = bh_buf_addstr(out, "&appsecret=");
    if (!err)
        err = bh_buf_addstr(out, secret);
out:
    free(order);
    return err;
}

bh_err bh_sign_compute(const bh_msg *m, const char *appsecret, char out[BH_SM3_HEX_LEN + 1])
{
    if (!appsecret)
        return BH_EINVAL;
    bh_buf text;
    bh_buf_init(&text, BH_BUF_MAX_DEFAULT);
    bh_err err = bh_sign_string(m, appsecret, &text);
    if (!err)
        err = bh_sm3_hex(text.data, text.len, out);
    /* The string ends with the secret. */
    bh_buf_wipe(&text);
    return err;
}

bh_err bh_sign_apply(bh_msg *m, const char *appsecret)
{
    char sig[BH_SM3_HEX_LEN + 1];
    bh_err err = bh_sign_compute(m, appsecret, sig);
    if (!err)
        err = bh_msg_set_str(m, BH_SIGN_FIELD, sig);
    return err;
}

bh_err bh_sign_verify(const bh_msg *m, const char *appsecret, bh_diag *d)
{
    const bh_field *f = bh_msg_get(m, BH_SIGN_FIELD);
    if (!f || f->type == BH_JNULL || (f->type == BH_JSTRING && f->value_len == 0))
        return bh_diag_add(d, BH_EMISSING, BH_SIGN_FIELD, "required: the request is not signed");
    if (f->type != BH_JSTRING)
        return bh_diag_add(d, BH_ETYPE, BH_SIGN_FIELD, "must be a string");
    char given[BH_SM3_HEX_LEN + 1];
    int well_formed = f->value_len == BH_SM3_HEX_LEN;
    for (size_t i = 0; well_formed && i < BH_SM3_HEX_LEN; i++) {
        int v = bh_hex_digit((unsigned char)f->value[i]);
        well_formed = v >= 0;
        given[i] = "0123456789abcdef"[v & 15];
    }
    if (!well_formed)
        return bh_diag_add(d, BH_EFORMAT, BH_SIGN_FIELD,
                           "must be 64 hexadecimal characters (an SM3 digest)");
    given[BH_SM3_HEX_LEN] = '\0';
    char want[BH_SM3_HEX_LEN + 1];
    bh_err err = bh_sign_compute(m, appsecret, want);
    if (err == BH_ENESTED)
        return bh_diag_add(d, err, BH_SIGN_FIELD, "a signed request must be flat");
    if (err)
        return bh_diag_add(d, err, BH_SIGN_FIELD, "cannot compute the signature: %s",
                           bh_strerror(err));
    if (!bh_ct_equal(given, want, BH_SM3_HEX_LEN))
        return bh_diag_add(d, BH_ESIGN, BH_SIGN_FIELD,
                           "signature mismatch (check the appsecret and the string to sign)");
    return BH_OK;
}
