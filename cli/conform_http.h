/* A small HTTP server for the conformance suite's receiver (the platform
 * suite plays the institution) and for the test doubles: GNU libmicrohttpd,
 * one thread per connection, each request body collected up to a cap and
 * handed to one callback. Bodies over the cap are answered 413 with a JSON
 * body of the protocol's shape, without calling the callback.
 *
 * Deliberately not daemon/http.c: the command line does not link the
 * daemon, and this needs no access log, no large-upload paths and no
 * graceful drain. */
#ifndef BAOHAN_CLI_CONFORM_HTTP_H
#define BAOHAN_CLI_CONFORM_HTTP_H

#include <stddef.h>

#include "baohan/baohan.h"

typedef struct conform_http conform_http;

typedef struct conform_http_req {
    const char *method;
    const char *path;          /* without the query string */
    const char *content_type;  /* or "" */
    const char *authorization; /* or "" */
    const char *body;          /* NUL-terminated, `body_len` bytes */
    size_t body_len;
} conform_http_req;

/* What the callback answers: the status (200 on entry), the body, and its
 * Content-Type (static storage; JSON on entry). */
typedef struct conform_http_resp {
    int status;
    const char *content_type;
    bh_buf body;
} conform_http_resp;

/* Fills `resp`. Called from the server's threads, several at once: the
 * callback locks what it shares. */
typedef void (*conform_http_fn)(void *ctx, const conform_http_req *req, conform_http_resp *resp);

/* Binds "IPV4:PORT" or "localhost:PORT" (PORT 0: any free port) and starts
 * serving. On failure returns BH_EINVAL (malformed address) or BH_EIO and
 * says why in `why`. `*port` gets the bound port. */
bh_err conform_http_start(const char *listen, size_t max_body, conform_http_fn fn, void *ctx,
                          conform_http **out, unsigned *port, char *why,
                          size_t why_len) BH_MUST_CHECK;

/* Stops serving (waits for the threads) and frees the server; NULL is fine. */
void conform_http_stop(conform_http *h);

/* `{"code":C,"message":M}` into `out` (reset first). */
void conform_http_reply(bh_buf *out, int code, const char *message);

#endif
