/* Sealing and opening requests: the whole path between a plaintext request
 * and the wire, for either side.
 *
 *   seal: validate the plaintext → encrypt 密文 fields → fill appkey and
 *         timestamp if absent → sign.
 *   open: verify the signature → decrypt 密文 fields → validate.
 *
 * Authentication policy that needs state (is the appkey known, is the
 * timestamp inside the window, is this a replay) belongs to the server; the
 * timestamp check is offered here as a pure function. */
#ifndef BAOHAN_SEAL_H
#define BAOHAN_SEAL_H

#include <stdint.h>

#include "error.h"
#include "gm.h"
#include "msg.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bh_credentials {
    const char *appkey;    /* may be NULL when the message carries its own */
    const char *appsecret;
    bh_sm4_key key;
} bh_credentials;

/* Seals a plaintext request of `iface` into a new wire message. `now` is used
 * for `timestamp` when the plaintext has none. Every problem is reported. */
bh_err bh_seal(const bh_iface *iface, const bh_credentials *cred, const bh_msg *plain,
               int64_t now, bh_msg **wire, bh_diag *d) BH_MUST_CHECK;

/* Opens a received request into a new plaintext message: the signature first
 * (nothing else is looked at when it fails), then decryption and validation,
 * reporting every problem. */
bh_err bh_open(const bh_iface *iface, const bh_credentials *cred, const bh_msg *wire,
               bh_msg **plain, bh_diag *d) BH_MUST_CHECK;

/* Checks that the request's `timestamp` is a valid date-time within
 * `window_seconds` of `now` (either side). */
bh_err bh_check_timestamp(const bh_msg *m, int64_t now, int64_t window_seconds, bh_diag *d)
    BH_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
