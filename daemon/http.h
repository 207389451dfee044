/* baohand's HTTP server: a thin layer over GNU libmicrohttpd.
 *
 * It accepts connections on a few event threads, collects each request body
 * up to a cap, and gives each complete request to a handler:
 *  - the quick handler, when there is one, on the event thread itself. It
 *    must not block (the thread serves many connections). It either declines
 *    the request or takes it, and the answer goes out when it (or whatever it
 *    passed the request on to, e.g. the store's completion of a durable unit)
 *    calls bh_http_call_finish(), from any thread;
 *  - otherwise the blocking handler, on one of a pool of worker threads,
 *    where it may block (disk, network, waiting for a durable commit).
 * Meanwhile the connection is parked: a waiting request costs no thread.
 * Bodies over the cap are answered 413 with a JSON body of the protocol's
 * shape without calling a handler. Every request produces one access-log
 * line on the server's log stream:
 *
 *   2026-11-28 10:00:00 127.0.0.1 POST /baohanapply 200 1.23ms <handler's note>
 *
 * bh_http_stop() stops accepting, lets in-flight requests finish, and
 * returns. */
#ifndef BAOHAN_DAEMON_HTTP_H
#define BAOHAN_DAEMON_HTTP_H

#include <stddef.h>
#include <stdio.h>

#include "baohan/baohan.h"

typedef struct bh_http_server bh_http_server;

typedef struct bh_http_request {
    const char *method;       /* "POST", "GET", … */
    const char *path;         /* without the query string, percent-decoded by MHD */
    const char *query;        /* raw query string without '?', or "" */
    const char *content_type; /* the Content-Type header, or "" */
    const char *remote_addr;  /* "127.0.0.1" */
    const char *body;         /* NUL-terminated; `body_len` bytes (may hold NULs) */
    size_t body_len;
    void *conn; /* for bh_http_header() */
} bh_http_request;

/* A request header by name (case-insensitive), or NULL. */
const char *bh_http_header(const bh_http_request *req, const char *name);

typedef struct bh_http_response {
    int status;               /* default 200 */
    const char *content_type; /* default "application/json; charset=utf-8"; static storage */
    bh_buf body;              /* the handler appends here */
    char extra_headers[512];  /* "Name: value\r\n" lines, e.g. Content-Disposition;
                               * lines with an empty value are dropped (MHD refuses them) */
    char note[256];           /* appended to the access-log line: "iface appkey applyno code" */
} bh_http_response;

typedef void (*bh_http_handler)(void *ctx, const bh_http_request *req, bh_http_response *resp);

/* One request handed to the quick handler, until bh_http_call_finish(). */
typedef struct bh_http_call bh_http_call;

/* Runs on an event thread; must not block. Returns 0 to decline (the
 * blocking handler gets the request on a worker thread), or 1 when it took
 * the call: then it, or what it handed the call to, fills the call's
 * response and calls bh_http_call_finish() exactly once. */
typedef int (*bh_http_quick_handler)(void *ctx, bh_http_call *call);

/* The request (valid until bh_http_call_finish) and the response to fill. */
const bh_http_request *bh_http_call_request(const bh_http_call *call);
bh_http_response *bh_http_call_response(bh_http_call *call);
/* Sends the call's response; any thread, once. The call is gone after it. */
void bh_http_call_finish(bh_http_call *call);
/* Optional, set before bh_http_call_finish: `fn(ctx, resp)` runs once on
 * the call's event thread just before its response goes out (or, when the
 * client is gone by then, when the call ends), to fill the response and
 * free what the handler allocated. A handler finishing from another thread
 * (the store's) leaves the building and freeing to it: glibc's malloc pays
 * dearly for memory freed by another thread than the one that allocated
 * it, and the other thread's time is often the scarcer. */
void bh_http_call_on_answer(bh_http_call *call, void (*fn)(void *ctx, bh_http_response *resp),
                            void *ctx);

/* A path prefix whose request bodies may be up to `max_body` bytes. */
typedef struct bh_http_large {
    const char *prefix;
    size_t max_body;
} bh_http_large;

#define BH_HTTP_LARGE_MAX 4

typedef struct bh_http_options {
    const char *listen; /* "HOST:PORT"; HOST may be an IPv4 address, "[::1]" or "localhost" */
    size_t max_body;    /* bodies above this are 413 */
    /* Paths whose bodies may be larger (uploads: the bidder's page, the
     * verification page): each a prefix and its cap; the first that matches
     * wins, and an entry with a NULL prefix ends the list. */
    bh_http_large large[BH_HTTP_LARGE_MAX];
    /* Worker threads running `handler`: requests it serves at once (more
     * wait in a queue); 0: automatic (16). */
    int threads;
    /* NULL: no access log. One fwrite per line (stdio's lock keeps lines
     * whole across threads); buffering is the caller's choice (line-buffered
     * for `tail -f`); bh_http_stop() flushes. */
    FILE *access_log;
    bh_http_handler handler; /* required */
    void *ctx;               /* for both handlers */
    bh_http_quick_handler quick; /* optional */
    /* Open connections at once; 0: automatic (1024). MHD closes connections
     * beyond it at once. */
    int connections;
    /* Event threads; 0: one per core. */
    int event_threads;
} bh_http_options;

/* Checks a listen address the way bh_http_start() reads it, without binding
 * or resolving anything: "IPV4:PORT", "[IPV6]:PORT" or "localhost:PORT"
 * (127.0.0.1), PORT 0..65535 (0: any free port). BH_OK, or BH_EINVAL with
 * *rule (if `rule` is not NULL) set to a static text naming the broken rule.
 * For the configuration's checks. */
bh_err bh_http_listen_check(const char *listen, const char **rule) BH_MUST_CHECK;

/* Binds and starts serving. BH_EINVAL (field "listen") for a malformed listen
 * address, BH_EIO (with the reason in `d`) when the address cannot be bound
 * or the server cannot start. `opts` is copied; its strings need not outlive
 * the call, but `access_log`, `handler` and `ctx` must outlive the server. */
bh_err bh_http_start(const bh_http_options *opts, bh_http_server **out, bh_diag *d) BH_MUST_CHECK;

/* The port actually bound (useful with port 0 in tests). */
int bh_http_port(const bh_http_server *s);

/* Stops accepting, waits for in-flight requests, frees. NULL is fine.
 * In-flight requests (the request line was read) finish and get their whole
 * answer; a new request arriving meanwhile on an open keep-alive connection
 * is answered 503 with "Connection: close" without calling the handler. The
 * wait is bounded (30 s); then remaining connections are closed. Flushes the
 * access log. */
void bh_http_stop(bh_http_server *s);

/* Appends the protocol-shaped JSON answer {"code":code,"message":message}. */
bh_err bh_http_reply_json(bh_buf *out, int code, const char *message) BH_MUST_CHECK;

/* Writes that answer into `resp` with `status`. */
void bh_http_reply(bh_http_response *resp, int status, int code, const char *message);

#endif
