/* Request signatures (报文签名), exactly as PROTOCOL.md §4:
 *
 *   every top-level field but `sign`, unknown fields included; null and ""
 *   dropped; keys sorted by byte value; "key=value" joined with '&', values as
 *   they travel (no encoding, no trimming, numbers as written); then
 *   "&appsecret=" and the secret; SM3 over the UTF-8 bytes; 64 lower-case hex.
 *
 * Responses are not signed. */
#ifndef BAOHAN_SIGN_H
#define BAOHAN_SIGN_H

#include "buf.h"
#include "error.h"
#include "gm.h"
#include "msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The field that carries the signature. */
#define BH_SIGN_FIELD "sign"

/* Appends the exact string that is hashed. With `appsecret` NULL the tail is
 * written "&appsecret=***", for showing to a person without leaking the secret.
 * BH_ENESTED if a field holds an object or array (requests are flat). */
bh_err bh_sign_string(const bh_msg *m, const char *appsecret, bh_buf *out) BH_MUST_CHECK;

/* The signature of `m` (any `sign` field in it is ignored). */
bh_err bh_sign_compute(const bh_msg *m, const char *appsecret, char out[BH_SM3_HEX_LEN + 1])
    BH_MUST_CHECK;

/* Computes the signature and sets (or replaces) `sign` in `m`. */
bh_err bh_sign_apply(bh_msg *m, const char *appsecret) BH_MUST_CHECK;

/* Checks `m`'s `sign`: BH_OK when it matches (upper- or lower-case hex,
 * compared in constant time); BH_EMISSING when there is no sign, BH_ETYPE when
 * it is not a string, BH_EFORMAT when it is not 64 hex digits, BH_ESIGN when it
 * does not match. Each failure is also added to `d` on field "sign". */
bh_err bh_sign_verify(const bh_msg *m, const char *appsecret, bh_diag *d) BH_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
