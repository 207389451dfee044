/* baohand's HTTP server over GNU libmicrohttpd (see daemon/http.h and
 * docs/internals/http.md).
 *
 * One request = one `struct bh_http_call`, created by MHD's URI-log callback
 * (the first thing MHD calls once the request line is read, and the only
 * place the raw query string is available) and freed by the completion
 * callback, which MHD calls once the answer has been written to the socket or
 * the connection has gone away. That callback also writes the access-log line
 * and counts the request out, which is what bh_http_stop() waits for.
 *
 * Threads: a few event threads (MHD's epoll thread pool) serve every
 * connection. A complete request goes to the quick handler on its event
 * thread, or to the blocking handler on a worker thread; either way, unless it
 * is answered on the spot, its connection is suspended (MHD watches it no
 * more) until bh_http_call_finish() resumes it, from whichever thread. */
#define _GNU_SOURCE /* pthread_setname_np: the workers' name in top and /proc */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "banned.h"

/* How the server runs; see docs/internals/http.md for the measurements behind
 * the choice. */
#define DEFAULT_CONNECTIONS 1024
#define MAX_CONNECTIONS 65536
#define DEFAULT_WORKERS 16
#define MAX_WORKERS 4096
#define MAX_EVENT_THREADS 64
/* Idle keep-alive connections and stalled uploads are closed after this. */
#define CONNECTION_TIMEOUT_S 60u
/* bh_http_stop() waits at most this long for in-flight requests. */
#define DRAIN_TIMEOUT_S 30
/* Response bodies (getbaohaninfo carries files in Base64). */
#define RESPONSE_MAX BH_BUF_MAX_DEFAULT
/* The most memory reserved for a body before its bytes arrive. */
#define RESERVE_MAX ((size_t)1024 * 1024)
/* The longest access-log line; the path is cut well before that. */
#define LOG_LINE_MAX 4096
#define LOG_PATH_MAX 1024

static const char JSON_TYPE[] = "application/json; charset=utf-8";

struct bh_http_server {
    /* One MHD daemon per event thread; our acceptor hands them the
     * connections in turn (see acceptor_main). */
    struct MHD_Daemon *mhd[MAX_EVENT_THREADS];
    int nmhd;
    int listen_fd;
    pthread_t acceptor;
    int acceptor_started;
    int port;
    size_t max_body;
    struct {
        char *prefix; /* NULL: the end of the list */
        size_t prefix_len, max_body;
    } large[BH_HTTP_LARGE_MAX];
    FILE *access_log;
    bh_http_handler handler;
    bh_http_quick_handler quick;
    void *ctx;

    atomic_int stopping;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    size_t inflight; /* requests between the request line and the completion callback */
    size_t handed;   /* of those, calls given to a handler (until they end) */

    /* The workers that run `handler`: a queue of calls, oldest first. */
    pthread_t *workers;
    int nworkers;
    pthread_mutex_t work_mu;
    pthread_cond_t work_cv;
    bh_http_call *work_head, *work_tail;
    int workers_stop;
};

/* Where a call handed to a handler stands (see hand_off() and
 * bh_http_call_finish(): the two race, and these settle who resumes). */
enum handoff {
    RUNNING = 0, /* a handler has it; the connection is not suspended */
    SUSPENDED,   /* the connection is suspended, waiting for the answer */
    FINISHED     /* the answer is ready in `resp` */
};

struct bh_http_call {
    bh_http_server *srv;
    struct MHD_Connection *conn;
    bh_http_call *next_work; /* the workers' queue */
    bh_http_request req;
    bh_http_response resp;
    int handed;             /* a handler has (had) it: the next access callback answers */
    void (*on_answer)(void *ctx, bh_http_response *resp); /* see bh_http_call_on_answer */
    void *on_answer_ctx;
    atomic_int handoff;     /* enum handoff */
    char *uri; /* the raw request target, as received */
    struct timespec start;
    char remote[INET6_ADDRSTRLEN];
    char *method; /* copies for the access log */
    char *path;
    bh_buf body;
    int called;  /* the access callback has seen this request */
    int too_big; /* the body went over its cap: discard the rest, answer 413 */
    int oom;
    int status; /* the status queued, 0 until then */
    char note[sizeof(((bh_http_response *)0)->note)];
};


/* ---- listen addresses ---- */

struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int family;
};

static bh_err parse_listen(const char *text, struct listen_addr *out, const char **rule)
{
    const char *why = NULL;
    char host[INET6_ADDRSTRLEN + 2];
    const char *port_text;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (!text || !*text) {
        why = "is empty; write HOST:PORT, e.g. 127.0.0.1:8080";
        goto bad;
    }
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') {
            why = "an IPv6 address must be written [ADDRESS]:PORT";
            goto bad;
        }
        hlen = (size_t)(close - text - 1);
        port_text = close + 2;
        if (hlen == 0 || hlen >= sizeof(host)) {
            why = "is not a valid IPv6 address in brackets";
            goto bad;
        }
        memcpy(host, text + 1, hlen);
        host[hlen] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->ss;
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
            why = "is not a valid IPv6 address in brackets";
            goto bad;
        }
        a6->sin6_family = AF_INET6;
        out->family = AF_INET6;
        out->len = sizeof(*a6);
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon) {
            why = "has no port; write HOST:PORT, e.g. 127.0.0.1:8080";
            goto bad;
        }
        hlen = (size_t)(colon - text);
        port_text = colon + 1;
        if (hlen == 0) {
            why = "has no host; write e.g. 127.0.0.1:PORT, or 0.0.0.0:PORT for every interface";
            goto bad;
        }
        if (hlen >= sizeof(host)) {
            why = "host must be an IPv4 address, [IPv6 address] or localhost";
            goto bad;
        }
        memcpy(host, text, hlen);
        host[hlen] = '\0';
        struct sockaddr_in *a4 = (struct sockaddr_in *)&out->ss;
        if (strcmp(host, "localhost") == 0) {
            a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        } else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
            why = strchr(host, ':') ? "an IPv6 address must be written [ADDRESS]:PORT"
                                    : "host must be an IPv4 address, [IPv6 address] or localhost";
            goto bad;
        }
        a4->sin_family = AF_INET;
        out->family = AF_INET;
        out->len = sizeof(*a4);
    }

    /* The port: 1 to 5 ASCII digits, 0..65535. */
    unsigned long port = 0;
    size_t n = 0;
    for (; port_text[n]; n++) {
        if (port_text[n] < '0' || port_text[n] > '9' || n >= 5) {
            why = "port must be a number from 0 to 65535";
            goto bad;
        }
        port = port * 10 + (unsigned long)(port_text[n] - '0');
    }
    if (n == 0 || port > 65535) {
        why = "port must be a number from 0 to 65535";
        goto bad;
    }
    if (out->family == AF_INET6)
        ((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)port);
    if (rule)
        *rule = NULL;
    return BH_OK;

bad:
    if (rule)
        *rule = why;
    return BH_EINVAL;
}

bh_err bh_http_listen_check(const char *text, const char **rule)
{
    struct listen_addr a;
    return parse_listen(text, &a, rule);
}

/* Creates, binds and listens; the socket is close-on-exec. */
static bh_err open_listener(const struct listen_addr *a, const char *text, int *fd_out,
                            int *port_out, bh_diag *d)
{
    int fd = socket(a->family, SOCK_STREAM, 0);
    if (fd < 0)
        return bh_diag_add(d, BH_EIO, "listen", "cannot create a socket for %s: %s", text,
                           strerror(errno));
    int one = 1;
    /* Restart without waiting for TIME_WAIT connections of the last run. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        goto fail;
    /* Blocking: the acceptor thread sleeps in accept(). */
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0)
        goto fail;
    if (listen(fd, SOMAXCONN) != 0)
        goto fail;

    struct sockaddr_storage got;
    socklen_t glen = sizeof(got);
    if (getsockname(fd, (struct sockaddr *)&got, &glen) != 0)
        goto fail;
    *port_out = got.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
                                          : ntohs(((struct sockaddr_in *)&got)->sin_port);
    *fd_out = fd;
    return BH_OK;

fail:;
    int e = errno;
    close(fd);
    return bh_diag_add(d, BH_EIO, "listen", "cannot listen on %s: %s", text, strerror(e));
}

/* ---- the access log ---- */

static int64_t elapsed_us(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - start->tv_sec) * 1000000 + (now.tv_nsec - start->tv_nsec) / 1000;
}

/* Appends `s`, writing bytes that would break the line's shape (controls,
 * and with `strict` also space and non-ASCII) as %XX, up to `max` bytes of output. */
static void log_escaped(bh_buf *line, const char *s, int strict, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = line->len;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        int esc = c < 0x20 || c == 0x7f || (strict && (c == ' ' || c >= 0x80));
        if (line->len - start + 3 > max) {
            if (bh_buf_addstr(line, "...") != BH_OK)
                return;
            return;
        }
        if (esc) {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (bh_buf_add(line, e, 3) != BH_OK)
                return;
        } else if (bh_buf_addch(line, (char)c) != BH_OK) {
            return;
        }
    }
    if (line->len == start && bh_buf_addch(line, '-') != BH_OK)
        return;
}

/* Why a request ended without its answer being fully sent, or NULL. */
static const char *aborted(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return NULL;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "(aborted: connection timed out)";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "(aborted: server stopped)";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "(aborted: client closed the connection)";
    default:
        return "(aborted: connection error)";
    }
}

/* Copies the path with every long hexadecimal segment cut to its first four
 * characters and "****": pay and download URLs carry their secret token in
 * the path, and a log must not hand it out. */
static void mask_tokens(const char *path, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = path; *p && o + 1 < n;) {
        size_t seg = strcspn(p, "/");
        size_t hex = strspn(p, "0123456789abcdefABCDEF");
        if (seg >= 24 && hex == seg) {
            int w = snprintf(out + o, n - o, "%.4s****", p);
            o += w > 0 ? (size_t)w : 0;
            p += seg;
        } else {
            size_t take = seg + (p[seg] == '/');
            if (take > n - 1 - o)
                take = n - 1 - o;
            memcpy(out + o, p, take);
            o += take;
            p += take;
        }
        if (seg == 0 && *p == '/' && o + 1 < n)
            out[o++] = *p++;
    }
    out[o] = '\0';
}

static void write_access_log(bh_http_call *r, const char *abort_reason)
{
    FILE *f = r->srv->access_log;
    if (!f)
        return;
    char when[BH_TIME_TEXT_LEN + 1];
    bh_time_format(bh_time_now(), when);
    int64_t us = elapsed_us(&r->start);
    if (us < 0)
        us = 0;

    /* Built whole, then written with one fwrite: stdio locks the stream for
     * the call, so lines from different threads never interleave. */
    bh_buf line;
    bh_buf_init(&line, LOG_LINE_MAX);
    bh_err e = bh_buf_addf(&line, "%s %s ", when, r->remote[0] ? r->remote : "-");
    if (e == BH_OK) {
        log_escaped(&line, r->method, 1, 32);
        e = bh_buf_addch(&line, ' ');
    }
    if (e == BH_OK) {
        char masked[LOG_PATH_MAX + 1];
        mask_tokens(r->path, masked, sizeof masked);
        log_escaped(&line, masked, 1, LOG_PATH_MAX);
        if (r->status > 0)
            e = bh_buf_addf(&line, " %d", r->status);
        else
            e = bh_buf_addstr(&line, " -");
    }
    if (e == BH_OK)
        e = bh_buf_addf(&line, " %" PRId64 ".%02" PRId64 "ms", us / 1000, (us % 1000) / 10);
    if (e == BH_OK && r->note[0]) {
        e = bh_buf_addch(&line, ' ');
        if (e == BH_OK)
            log_escaped(&line, r->note, 0, sizeof(r->note) * 3);
    }
    if (e == BH_OK && abort_reason)
        e = bh_buf_addf(&line, " %s", abort_reason);
    /* The line always ends with its newline, even when cut short (the
     * per-field limits above keep it well under LOG_LINE_MAX). */
    if (bh_buf_addch(&line, '\n') != BH_OK && line.len > 0)
        line.data[line.len - 1] = '\n';
    if (line.len > 0)
        fwrite(line.data, 1, line.len, f);
    bh_buf_release(&line);
}

/* ---- MHD callbacks ---- */

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "baohand: http: ");
    int m = vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(msg) - 2)
        len = sizeof(msg) - 2;
    /* MHD's messages usually end with a newline; make sure of exactly one. */
    while (len > 0 && msg[len - 1] == '\n')
        len--;
    msg[len++] = '\n';
    fwrite(msg, 1, len, stderr);
}

static void *uri_started(void *cls, const char *uri, struct MHD_Connection *conn)
{
    bh_http_server *s = cls;
    bh_http_call *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL; /* the access callback answers 500 */
    r->conn = conn;
    atomic_init(&r->handoff, RUNNING);
    r->srv = s;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    size_t ulen = strlen(uri);
    r->uri = malloc(ulen + 1);
    if (r->uri)
        memcpy(r->uri, uri, ulen + 1);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->remote,
                      sizeof(r->remote));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      r->remote, sizeof(r->remote));
    }
    pthread_mutex_lock(&s->mu);
    s->inflight++;
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* Runs the call's answer hook, once. */
static void run_on_answer(bh_http_call *r)
{
    void (*fn)(void *, bh_http_response *) = r->on_answer;
    r->on_answer = NULL;
    if (fn)
        fn(r->on_answer_ctx, &r->resp);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode toe)
{
    bh_http_server *s = cls;
    bh_http_call *r = *req_cls;
    (void)conn;
    *req_cls = NULL;
    if (!r)
        return;
    /* The connection went away before the answer was queued: the hook
     * still runs (it frees what its handler kept), and its note still
     * goes to the log line. */
    if (r->on_answer) {
        run_on_answer(r);
        memcpy(r->note, r->resp.note, sizeof(r->note));
        r->note[sizeof(r->note) - 1] = '\0';
    }
    write_access_log(r, aborted(toe));
    int handed = r->handed;
    bh_buf_release(&r->resp.body); /* answered calls released it already */
    bh_buf_release(&r->body);
    free(r->uri);
    free(r->method);
    free(r->path);
    free(r);

    pthread_mutex_lock(&s->mu);
    if (s->inflight > 0)
        s->inflight--;
    if (handed && s->handed > 0)
        s->handed--;
    if (s->inflight == 0 || (handed && s->handed == 0))
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

/* Adds "Name: value\r\n" lines from the handler to the MHD response. */
static void add_extra_headers(struct MHD_Response *mr, const char *extra)
{
    char copy[sizeof(((bh_http_response *)0)->extra_headers)];
    size_t n = strnlen(extra, sizeof(copy) - 1);
    memcpy(copy, extra, n);
    copy[n] = '\0';
    char *p = copy;
    while (*p) {
        char *eol = p + strcspn(p, "\r\n");
        char *next = eol;
        while (*next == '\r' || *next == '\n')
            next++;
        *eol = '\0';
        char *colon = strchr(p, ':');
        if (colon && colon > p) {
            *colon = '\0';
            char *value = colon + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            char *end = colon;
            while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                *--end = '\0';
            end = value + strlen(value);
            while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
                *--end = '\0';
            /* MHD refuses control characters and empty values; such a
             * header is dropped (a handler bug, not the client's). */
            (void)MHD_add_response_header(mr, p, value);
        }
        p = next;
    }
}

/* Queues `resp` (taking its body) on the connection. */
static enum MHD_Result send_response(struct MHD_Connection *conn, bh_http_call *r,
                                     bh_http_response *resp, int close_after)
{
    size_t len = 0;
    char *data = bh_buf_detach(&resp->body, &len);
    struct MHD_Response *mr =
        data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!mr) {
        free(data);
        return MHD_NO; /* MHD closes the connection */
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : JSON_TYPE);
    if (resp->extra_headers[0])
        add_extra_headers(mr, resp->extra_headers);
    if (close_after)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    /* MHD refuses codes outside 100..999 by dropping the connection; a
     * handler that sets one has a bug, and the client deserves an answer. */
    int status = resp->status == 0 ? 200 : resp->status;
    if (status < 100 || status > 599)
        status = 500;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, mr);
    MHD_destroy_response(mr);
    if (r && ret == MHD_YES) {
        r->status = status;
        memcpy(r->note, resp->note, sizeof(r->note));
        r->note[sizeof(r->note) - 1] = '\0';
    }
    return ret;
}

static void response_init(bh_http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    resp->content_type = JSON_TYPE;
    bh_buf_init(&resp->body, RESPONSE_MAX);
}

/* Answers without calling the handler (413, 500, 503). */
static enum MHD_Result send_error(struct MHD_Connection *conn, bh_http_call *r, int status,
                                  const char *message, int close_after)
{
    bh_http_response resp;
    response_init(&resp);
    bh_http_reply(&resp, status, 0, message);
    enum MHD_Result ret = send_response(conn, r, &resp, close_after);
    bh_buf_release(&resp.body);
    return ret;
}

static enum MHD_Result send_too_big(struct MHD_Connection *conn, bh_http_call *r, size_t cap)
{
    char msg[96];
    snprintf(msg, sizeof(msg), "request body larger than %zu bytes", cap);
    return send_error(conn, r, 413, msg, 1);
}

static void free_large(bh_http_server *s)
{
    for (int i = 0; i < BH_HTTP_LARGE_MAX; i++)
        free(s->large[i].prefix);
}

static size_t body_cap(const bh_http_server *s, const char *path)
{
    for (int i = 0; i < BH_HTTP_LARGE_MAX && s->large[i].prefix; i++)
        if (strncmp(path, s->large[i].prefix, s->large[i].prefix_len) == 0)
            return s->large[i].max_body;
    return s->max_body;
}

/* Content-Length as a number, or -1 when absent or not a plain number. */
static int64_t content_length(struct MHD_Connection *conn)
{
    const char *v =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v || !*v)
        return -1;
    int64_t n = 0;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return -1;
        if (n > (INT64_MAX - 9) / 10)
            return INT64_MAX;
        n = n * 10 + (*v - '0');
    }
    return n;
}

static enum MHD_Result hand_off(struct MHD_Connection *conn, bh_http_call *r);
static enum MHD_Result answer(struct MHD_Connection *conn, bh_http_call *r);
static void queue_work(bh_http_server *s, bh_http_call *r);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    bh_http_server *s = cls;
    bh_http_call *r = *req_cls;
    (void)version;

    if (!r) /* the URI callback could not allocate */
        return send_error(conn, NULL, 500, "out of memory", 1);

    size_t cap = body_cap(s, url);
    if (!r->called) {
        /* First call: headers are in, nothing of the body yet. */
        r->called = 1;
        r->method = strdup(method);
        r->path = strdup(url);
        if (!r->method || !r->path)
            return send_error(conn, r, 500, "out of memory", 1);
        if (atomic_load(&s->stopping))
            return send_error(conn, r, 503, "server is shutting down; try again", 1);
        bh_buf_init(&r->body, cap);
        int64_t declared = content_length(conn);
        if (declared > 0 && (uint64_t)declared > cap)
            return send_too_big(conn, r, cap); /* MHD then closes the connection unread */
        /* Reserve what is announced, but not more than RESERVE_MAX before the
         * bytes arrive: a client announcing 24 MiB and sending nothing must
         * not cost 24 MiB. */
        size_t reserve = declared > 0 ? (size_t)declared : 0;
        if (reserve > RESERVE_MAX)
            reserve = RESERVE_MAX;
        if (reserve > 0 && bh_buf_reserve(&r->body, reserve) != BH_OK)
            return send_error(conn, r, 500, "out of memory", 1);
        return MHD_YES;
    }

    if (r->handed) {
        /* Called again after bh_http_call_finish() resumed the connection. */
        return answer(conn, r);
    }

    if (*upload_data_size > 0) {
        if (!r->too_big && !r->oom) {
            bh_err e = bh_buf_add(&r->body, upload_data, *upload_data_size);
            if (e == BH_ETOOBIG) {
                r->too_big = 1;
                bh_buf_release(&r->body);
            } else if (e != BH_OK) {
                r->oom = 1;
                bh_buf_release(&r->body);
            }
        }
        *upload_data_size = 0; /* consumed (or discarded) */
        return MHD_YES;
    }

    /* The whole request is in. */
    if (r->too_big)
        return send_too_big(conn, r, cap);
    if (r->oom)
        return send_error(conn, r, 500, "out of memory", 1);

    const char *q = r->uri ? strchr(r->uri, '?') : NULL;
    const char *ctype =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    r->req = (bh_http_request){
        .method = r->method,
        .path = r->path,
        .query = q ? q + 1 : "",
        .content_type = ctype ? ctype : "",
        .remote_addr = r->remote,
        .body = r->body.data ? r->body.data : "",
        .body_len = r->body.len,
        .conn = conn,
    };
    response_init(&r->resp);
    r->handed = 1;
    pthread_mutex_lock(&s->mu);
    s->handed++;
    pthread_mutex_unlock(&s->mu);
    if (!s->quick || !s->quick(s->ctx, r))
        queue_work(s, r);
    return hand_off(conn, r);
}

/* ---- handing calls to handlers ---- */

/* The access callback's side of the race with bh_http_call_finish(): after
 * a handler took the call, suspend the connection unless the answer is
 * already there. Whoever comes second resumes (or answers). */
static enum MHD_Result hand_off(struct MHD_Connection *conn, bh_http_call *r)
{
    if (atomic_load(&r->handoff) == FINISHED)
        return answer(conn, r);
    MHD_suspend_connection(conn);
    int expected = RUNNING;
    if (!atomic_compare_exchange_strong(&r->handoff, &expected, SUSPENDED)) {
        /* Finished between the load and the exchange: nobody else will
         * resume it. MHD calls the access callback again, which answers. */
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

/* Queues the handler's answer (after the hand-off) and frees the body. */
static enum MHD_Result answer(struct MHD_Connection *conn, bh_http_call *r)
{
    run_on_answer(r);
    enum MHD_Result ret = send_response(conn, r, &r->resp, 0);
    bh_buf_release(&r->resp.body);
    bh_buf_release(&r->body);
    return ret;
}

void bh_http_call_finish(bh_http_call *r)
{
    int expected = RUNNING;
    /* Still RUNNING: the access callback has not suspended yet, and will
     * answer itself. Once the connection resumes, `r` may be gone. */
    if (!atomic_compare_exchange_strong(&r->handoff, &expected, FINISHED)) {
        atomic_store(&r->handoff, FINISHED);
        MHD_resume_connection(r->conn);
    }
}

void bh_http_call_on_answer(bh_http_call *r, void (*fn)(void *ctx, bh_http_response *resp),
                            void *ctx)
{
    r->on_answer = fn;
    r->on_answer_ctx = ctx;
}

const bh_http_request *bh_http_call_request(const bh_http_call *r)
{
    return &r->req;
}

bh_http_response *bh_http_call_response(bh_http_call *r)
{
    return &r->resp;
}

static void queue_work(bh_http_server *s, bh_http_call *r)
{
    pthread_mutex_lock(&s->work_mu);
    r->next_work = NULL;
    if (s->work_tail)
        s->work_tail->next_work = r;
    else
        s->work_head = r;
    s->work_tail = r;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->work_mu);
}

/* A worker: runs the blocking handler for one queued call after another. */
static void *worker_main(void *arg)
{
    bh_http_server *s = arg;
    pthread_setname_np(pthread_self(), "bh-http-worker");
    pthread_mutex_lock(&s->work_mu);
    for (;;) {
        while (!s->work_head && !s->workers_stop)
            pthread_cond_wait(&s->work_cv, &s->work_mu);
        bh_http_call *r = s->work_head;
        if (!r)
            break; /* stopping, and nothing is left */
        s->work_head = r->next_work;
        if (!s->work_head)
            s->work_tail = NULL;
        pthread_mutex_unlock(&s->work_mu);
        s->handler(s->ctx, &r->req, &r->resp);
        bh_http_call_finish(r);
        pthread_mutex_lock(&s->work_mu);
    }
    pthread_mutex_unlock(&s->work_mu);
    return NULL;
}

static void stop_workers(bh_http_server *s)
{
    pthread_mutex_lock(&s->work_mu);
    s->workers_stop = 1;
    pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->work_mu);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    s->nworkers = 0;
}

/* ---- public ---- */

const char *bh_http_header(const bh_http_request *req, const char *name)
{
    if (!req || !req->conn || !name)
        return NULL;
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

bh_err bh_http_reply_json(bh_buf *out, int code, const char *message)
{
    if (!message)
        message = "";
    bh_err err = bh_buf_addf(out, "{\"code\":%d,\"message\":", code);
    if (!err)
        err = bh_json_quote(message, strlen(message), out);
    return err ? err : bh_buf_addch(out, '}');
}

void bh_http_reply(bh_http_response *resp, int status, int code, const char *message)
{
    resp->status = status;
    resp->content_type = JSON_TYPE;
    bh_buf_reset(&resp->body);
    /* Out of memory or over the cap: an empty body beats a truncated one. */
    if (bh_http_reply_json(&resp->body, code, message) != BH_OK)
        bh_buf_reset(&resp->body);
}

/* ---- accepting ---- */

/* The acceptor: takes each new connection off the listening socket and gives
 * it to the event threads in turn. MHD's own thread pool shares one
 * listening socket between its threads, and whichever wakes first accepts
 * everything waiting: under a burst of connections (64 from a platform's
 * pool) one thread got them all and the others idled. */
static void *acceptor_main(void *arg)
{
    bh_http_server *s = arg;
    pthread_setname_np(pthread_self(), "bh-http-accept");
    unsigned next = 0;
    int said_full = 0;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (atomic_load(&s->stopping))
                break; /* stop_accepting shut the socket down */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (!said_full++)
                    fprintf(stderr, "baohand: http: cannot accept connections: %s\n",
                            strerror(errno));
                struct timespec pause = {0, 50 * 1000 * 1000};
                nanosleep(&pause, NULL);
            }
            continue; /* EINTR, ECONNABORTED and the like: the next one */
        }
        said_full = 0;
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        /* MHD closes the socket itself when it refuses it (over the
         * connection limit, out of memory), and says why in the log. */
        (void)MHD_add_connection(s->mhd[next++ % (unsigned)s->nmhd], fd, (struct sockaddr *)&ss,
                                 len);
    }
    return NULL;
}

/* Stops accepting and closes the listening socket: new connections are
 * refused from here on. */
static void stop_accepting(bh_http_server *s)
{
    if (s->listen_fd < 0)
        return;
    atomic_store(&s->stopping, 1);
    if (s->acceptor_started) {
        /* Wakes the acceptor out of accept(): it fails with EINVAL. */
        shutdown(s->listen_fd, SHUT_RDWR);
        pthread_join(s->acceptor, NULL);
        s->acceptor_started = 0;
    }
    close(s->listen_fd);
    s->listen_fd = -1;
}

/* Checks a count option: 0 (automatic) or 1..max. */
static bh_err check_count(const char *name, int value, int max, bh_diag *d)
{
    if (value < 0 || value > max)
        return bh_diag_add(d, BH_EINVAL, name, "%s must be from 0 (automatic) to %d", name, max);
    return BH_OK;
}

/* The event threads: one per core, so the quick handlers' CPU work spreads
 * over the machine. */
static int default_event_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_EVENT_THREADS ? MAX_EVENT_THREADS : (int)n;
}

static void server_free(bh_http_server *s)
{
    stop_accepting(s);
    for (int i = 0; i < s->nmhd; i++)
        MHD_stop_daemon(s->mhd[i]);
    stop_workers(s);
    free(s->workers);
    pthread_cond_destroy(&s->work_cv);
    pthread_mutex_destroy(&s->work_mu);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free_large(s);
    free(s);
}

bh_err bh_http_start(const bh_http_options *opts, bh_http_server **out, bh_diag *d)
{
    *out = NULL;
    if (!opts || !opts->handler)
        return bh_diag_add(d, BH_EINVAL, "handler", "a handler is required");
    struct listen_addr addr;
    const char *rule = NULL;
    if (parse_listen(opts->listen, &addr, &rule) != BH_OK)
        return bh_diag_add(d, BH_EINVAL, "listen", "listen address %s", rule);
    bh_err err = check_count("threads", opts->threads, MAX_WORKERS, d);
    if (!err)
        err = check_count("connections", opts->connections, MAX_CONNECTIONS, d);
    if (!err)
        err = check_count("event_threads", opts->event_threads, MAX_EVENT_THREADS, d);
    if (err)
        return err;

    bh_http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return bh_diag_add(d, BH_ENOMEM, "http", "out of memory");
    s->listen_fd = -1;
    s->max_body = opts->max_body;
    s->access_log = opts->access_log;
    s->handler = opts->handler;
    s->quick = opts->quick;
    s->ctx = opts->ctx;
    atomic_init(&s->stopping, 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->idle, NULL);
    pthread_mutex_init(&s->work_mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    for (int i = 0, n = 0; i < BH_HTTP_LARGE_MAX && opts->large[i].prefix; i++) {
        if (!*opts->large[i].prefix)
            continue;
        s->large[n].prefix = strdup(opts->large[i].prefix);
        if (!s->large[n].prefix) {
            err = bh_diag_add(d, BH_ENOMEM, "http", "out of memory");
            goto fail;
        }
        s->large[n].prefix_len = strlen(s->large[n].prefix);
        s->large[n++].max_body = opts->large[i].max_body;
    }

    int nworkers = opts->threads > 0 ? opts->threads : DEFAULT_WORKERS;
    s->workers = calloc((size_t)nworkers, sizeof(*s->workers));
    if (!s->workers) {
        err = bh_diag_add(d, BH_ENOMEM, "http", "out of memory");
        goto fail;
    }
    for (; s->nworkers < nworkers; s->nworkers++) {
        if (pthread_create(&s->workers[s->nworkers], NULL, worker_main, s) != 0) {
            err = bh_diag_add(d, BH_EIO, "threads", "cannot start %d worker threads", nworkers);
            goto fail;
        }
    }

    err = open_listener(&addr, opts->listen, &s->listen_fd, &s->port, d);
    if (err != BH_OK)
        goto fail;

    unsigned limit = opts->connections > 0 ? (unsigned)opts->connections : DEFAULT_CONNECTIONS;
    unsigned pool = opts->event_threads > 0 ? (unsigned)opts->event_threads
                                            : (unsigned)default_event_threads();
    /* An event thread holds at least one connection of the limit. */
    if (pool > limit)
        pool = limit;
    /* epoll: any number of descriptors, and a cost per event rather than per
     * connection. Suspend/resume (which brings MHD's inter-thread channel)
     * parks a connection whose answer a handler is still working on. No
     * listening socket: the acceptor adds each connection. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG;
    if (addr.family == AF_INET6)
        flags |= MHD_USE_IPv6;
    for (; s->nmhd < (int)pool; s->nmhd++) {
        struct MHD_OptionItem o[8];
        size_t n = 0;
        /* The logger first, so that MHD's own option checks go through it. */
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_started, s};
        o[n++] =
            (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, s};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                         (limit + pool - 1 - (unsigned)s->nmhd) / pool, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        s->mhd[s->nmhd] = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY,
                                           o, MHD_OPTION_END);
        if (!s->mhd[s->nmhd]) {
            err = bh_diag_add(d, BH_EIO, "listen", "cannot start the HTTP server on %s",
                              opts->listen);
            goto fail;
        }
    }
    if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) {
        err = bh_diag_add(d, BH_EIO, "listen", "cannot start the HTTP server on %s", opts->listen);
        goto fail;
    }
    s->acceptor_started = 1;
    *out = s;
    return BH_OK;

fail:
    server_free(s);
    return err;
}

int bh_http_port(const bh_http_server *s)
{
    return s ? s->port : 0;
}

void bh_http_stop(bh_http_server *s)
{
    if (!s)
        return;
    /* New requests on open keep-alive connections are answered 503 with
     * "Connection: close" from here on, so the wait below ends. */
    atomic_store(&s->stopping, 1);
    stop_accepting(s);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DRAIN_TIMEOUT_S;
    pthread_mutex_lock(&s->mu);
    /* A call given to a handler is waited for whatever the deadline, until
     * its answer is written: it would otherwise come back to a server that
     * is gone, or its answer (its unit durable) would be lost. */
    while (s->inflight > 0) {
        if (s->handed > 0)
            pthread_cond_wait(&s->idle, &s->mu);
        else if (pthread_cond_timedwait(&s->idle, &s->mu, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    stop_workers(s);

    /* server_free's MHD_stop_daemon closes idle connections and joins
     * every event thread. */
    if (s->access_log)
        fflush(s->access_log);
    server_free(s);
}
