/* Sealing and opening requests (see include/baohan/seal.h). */
#include <string.h>

#include "baohan/clock.h"
#include "baohan/seal.h"
#include "baohan/sign.h"
#include "banned.h"

/* Builds the wire message: appkey and timestamp first (as deployments write
 * them), then the business fields in their order, `sign` added last. */
static bh_err assemble(const bh_msg *encrypted, const char *appkey, const char *timestamp,
                       bh_msg **out)
{
    bh_msg *wire = bh_msg_new();
    if (!wire)
        return BH_ENOMEM;
    bh_err err = bh_msg_set_str(wire, "appkey", appkey);
    if (!err)
        err = bh_msg_set_str(wire, "timestamp", timestamp);
    for (size_t i = 0; i < bh_msg_count(encrypted) && !err; i++) {
        const bh_field *f = bh_msg_at(encrypted, i);
        if (strcmp(f->key, "appkey") && strcmp(f->key, "timestamp") && strcmp(f->key, "sign"))
            err = bh_msg_set(wire, f->key, f->value, f->value_len, f->type);
    }
    if (err) {
        bh_msg_free(wire);
        return err;
    }
    *out = wire;
    return BH_OK;
}

bh_err bh_seal(const bh_iface *iface, const bh_credentials *cred, const bh_msg *plain, int64_t now,
               bh_msg **wire, bh_diag *d)
{
    *wire = NULL;
    bh_err err = bh_validate(iface, BH_PART_PLAIN_REQUEST, plain, d);

    const char *appkey = bh_msg_text(plain, "appkey");
    if (appkey && !*appkey)
        appkey = NULL;
    if (appkey && cred->appkey && strcmp(appkey, cred->appkey) != 0)
        err = bh_diag_add(d, BH_EINVAL, "appkey", "differs from the appkey of the credentials");
    if (!appkey)
        appkey = cred->appkey;
    if (!appkey)
        err = bh_diag_add(d, BH_EMISSING, "appkey",
                          "required: give it in the request or the "
                          "credentials");
    if (!cred->appsecret)
        err = bh_diag_add(d, BH_EINVAL, "appsecret", "required to sign");
    if (err)
        return err;

    char now_text[BH_TIME_TEXT_LEN + 1];
    const char *timestamp = bh_msg_text(plain, "timestamp");
    if (!timestamp || !*timestamp) {
        bh_time_format(now, now_text);
        timestamp = now_text;
    }

    bh_msg *encrypted = NULL;
    err = bh_encrypt_fields(iface, &cred->key, plain, &encrypted, d);
    if (!err)
        err = assemble(encrypted, appkey, timestamp, wire);
    if (!err)
        err = bh_sign_apply(*wire, cred->appsecret);
    bh_msg_free(encrypted);
    if (err) {
        if (!bh_diag_first_code(d))
            bh_diag_add(d, err, "", "cannot seal: %s", bh_strerror(err));
        bh_msg_free(*wire);
        *wire = NULL;
    }
    return err;
}

bh_err bh_open(const bh_iface *iface, const bh_credentials *cred, const bh_msg *wire,
               bh_msg **plain, bh_diag *d)
{
    *plain = NULL;
    const char *appkey = bh_msg_text(wire, "appkey");
    if (!appkey || !*appkey)
        return bh_diag_add(d, BH_EMISSING, "appkey", "required (应用标识)");
    if (cred->appkey && strcmp(appkey, cred->appkey) != 0)
        return bh_diag_add(d, BH_ENOTFOUND, "appkey", "is not the expected appkey");
    if (!cred->appsecret)
        return bh_diag_add(d, BH_EINVAL, "appsecret", "required to verify");

    /* Nothing else is looked at until the sender is authenticated. */
    bh_err err = bh_sign_verify(wire, cred->appsecret, d);
    if (err)
        return err;

    bh_msg *decrypted = NULL;
    err = bh_decrypt_fields(iface, &cred->key, wire, &decrypted, d);
    if (err)
        return err;
    err = bh_validate(iface, BH_PART_REQUEST, decrypted, d);
    if (err) {
        bh_msg_free(decrypted);
        return err;
    }
    *plain = decrypted;
    return BH_OK;
}

bh_err bh_check_timestamp(const bh_msg *m, int64_t now, int64_t window_seconds, bh_diag *d)
{
    const bh_field *f = bh_msg_get(m, "timestamp");
    if (!f || f->type == BH_JNULL || (f->type == BH_JSTRING && f->value_len == 0))
        return bh_diag_add(d, BH_EMISSING, "timestamp", "required (请求时间)");
    if (f->type != BH_JSTRING)
        return bh_diag_add(d, BH_ETYPE, "timestamp", "must be a string");
    int64_t t;
    bh_err err = bh_time_parse(f->value, f->value_len, &t, d, "timestamp");
    if (err)
        return err;
    int64_t skew = t > now ? t - now : now - t;
    if (skew > window_seconds) {
        char now_text[BH_TIME_TEXT_LEN + 1];
        bh_time_format(now, now_text);
        return bh_diag_add(d, BH_ERANGE, "timestamp",
                           "%s is %lld s %s the server's clock (%s CST); the window is %lld s",
                           f->value, (long long)skew, t > now ? "ahead of" : "behind", now_text,
                           (long long)window_seconds);
    }
    return BH_OK;
}
