/* A signed HTTP client for the protocol (libcurl).
 *
 * A bh_client wraps one libcurl easy handle (connections are kept alive and
 * reused between calls). It is not thread-safe: use one per thread. */
#ifndef BAOHAN_CLIENT_H
#define BAOHAN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "msg.h"
#include "schema.h"
#include "seal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bh_client bh_client;

typedef struct bh_client_options {
    long connect_timeout_ms; /* 0: 5000 */
    long timeout_ms;         /* whole exchange; 0: 30000 */
    size_t max_response;     /* 0: 64 MiB (getbaohaninfo carries a file in Base64) */
    const char *ca_file;     /* extra CA bundle for HTTPS, or NULL for the system's */
} bh_client_options;

/* A new client; NULL when out of memory or libcurl cannot start. `opts` may
 * be NULL for the defaults. */
bh_client *bh_client_new(const bh_client_options *opts);
void bh_client_free(bh_client *c);

/* POSTs `len` bytes of JSON to `url` (Content-Type application/json;
 * charset=utf-8). `*http_status` gets the status (0 when no answer came);
 * the response body is appended to `response`. BH_EIO, with libcurl's reason
 * in `d` (field "url"), when no HTTP answer came; BH_ETOOBIG when the answer
 * is over max_response. A non-200 status is not an error here. */
bh_err bh_client_post(bh_client *c, const char *url, const char *body, size_t len,
                      int *http_status, bh_buf *response, bh_diag *d) BH_MUST_CHECK;

/* GETs `url` (a download), appending the body to `out`. Same errors. */
bh_err bh_client_get(bh_client *c, const char *url, int *http_status, bh_buf *out, bh_diag *d)
    BH_MUST_CHECK;

/* Any HTTP exchange (the admin API, downloads): `method` ("GET", "POST",
 * …), extra header lines ("Name: value", NULL-terminated array, may be NULL)
 * and an optional body (sent for any method but GET). Same errors as
 * bh_client_post; the status is not interpreted. */
bh_err bh_client_request(bh_client *c, const char *method, const char *url,
                         const char *const *headers, const char *body, size_t len,
                         int *http_status, bh_buf *out, bh_diag *d) BH_MUST_CHECK;

/* One protocol call: seals the plaintext request with `cred`, POSTs it to
 * `base_url` + "/" + iface->name, parses the JSON answer (nested values
 * allowed, e.g. getbaohaninfo's data) into `*response`. `wire_out`, when not
 * NULL, receives the JSON text that was sent (for --dry-run and audit).
 * Errors: those of bh_seal; BH_EIO when no answer; BH_EJSON when the answer
 * is not a JSON object (the status and the start of the body are in `d`). The
 * answer's `code` is not interpreted here. */
bh_err bh_client_call(bh_client *c, const char *base_url, const bh_iface *iface,
                      const bh_credentials *cred, const bh_msg *plain, int64_t now,
                      bh_msg **response, int *http_status, bh_buf *wire_out, bh_diag *d)
    BH_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
