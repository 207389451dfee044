/* loadgen: drives baohand's baohanapply over loopback with many keep-alive
 * connections and reports requests per second and latency percentiles.
 * A benchmark, not a test. bench/run-apply builds it, starts a daemon and
 * runs it; see bench/README.md.
 *
 *   loadgen -p PORT [-c CONNS] [-T THREADS] [-w WARMUP_S] [-d DURATION_S] [-n REQUESTS]
 *           [-f PLAIN.json] [-a APPKEY] [-s APPSECRET] [-k SM4KEY] [-r RUN_ID]
 *           [--path /baohanapply] [--pid DAEMON_PID] [--cycle] [--json]
 *
 * Before any timing, it seals REQUESTS distinct baohanapply requests with
 * libbaohan (the plaintext example with applyno "B<run-id>-<i>", i zero-padded
 * to 9 digits so that applynos arrive in order, as a platform's serial
 * numbers do; SM4-encrypted fields, SM3 signature, the current timestamp), on
 * as many threads as there are CPUs, and formats each as one complete
 * HTTP/1.1 request. Then it opens CONNS keep-alive connections to
 * 127.0.0.1:PORT and shares them out among THREADS event-loop threads
 * (epoll, non-blocking sockets). Each connection has one request outstanding
 * at a time (a closed loop, as CONNS clients waiting for their answers):
 * it takes the next request, sends it with one send(), reads the answer
 * (Content-Length; pipelining is not used), checks that it is HTTP 200 with
 * "code":1, records the latency and sends the next. The generator shares
 * the machine with the daemon, so its CPU a request is kept small and
 * reported. A connection the server closes is made again and counted as a
 * connection error (after "Connection: close" it is made again without
 * error). Answers completed during the warm-up are not counted; the
 * measurement covers answers completed in the DURATION_S seconds after it,
 * or until the requests run out (reported as such). With --cycle the
 * requests are reused when they run out: a reused request is an idempotent
 * repeat (a lookup, no insert), a different workload, and the number reused
 * is reported.
 *
 * Latencies go into per-thread log-linear histograms (exact below 128 us,
 * then 64 buckets per power of two: under 1.6 % error); percentiles are the
 * upper edge of their bucket (never above the maximum). With --pid it also
 * reports the CPU the daemon used during the measurement (/proc/PID/stat),
 * split into its connection threads and its other threads (the store's
 * writer is the busiest of those); always its own. When GET /healthz answers
 * the store's counters ("units", "commits", as bh_store_stats gives them) it
 * reports commits per second and the mean group-commit batch. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "baohan/baohan.h"

/* ---- histogram -------------------------------------------------------------- */

#define SUB_BITS 6
#define SUB (1 << SUB_BITS) /* buckets per power of two above the exact range */
#define EXACT (2 * SUB)     /* values below this have a bucket each */
#define NBUCKETS (EXACT + 40 * SUB)

static int bucket_of(uint64_t v)
{
    if (v < EXACT)
        return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - SUB_BITS;
    int idx = (shift + 1) * SUB + (int)((v >> shift) - SUB);
    return idx < NBUCKETS ? idx : NBUCKETS - 1;
}

/* The largest value that falls in bucket `idx`. */
static uint64_t bucket_high(int idx)
{
    if (idx < EXACT)
        return (uint64_t)idx;
    int shift = idx / SUB - 1;
    uint64_t mant = (uint64_t)(idx % SUB + SUB);
    return ((mant + 1) << shift) - 1;
}

/* ---- options and shared state --------------------------------------------------- */

typedef struct options {
    int port;
    int conns;
    int threads; /* loop threads; the connections are shared out among them */
    double warmup_s, duration_s;
    long long nreq; /* 0: 50,000 per second of warm-up and measurement */
    const char *plain_path;
    const char *appkey, *appsecret, *sm4key;
    const char *run_id;
    const char *path;
    int daemon_pid;
    int cycle;
    int json;
} options;

typedef struct request_text {
    char *data;
    size_t len;
} request_text;

static request_text *requests;
static long long nrequests;
static atomic_llong next_request;
static atomic_int seal_failed;

static int64_t t_measure_start, t_measure_end; /* CLOCK_MONOTONIC ns */
static atomic_int stop;
static atomic_int loops_done;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- sealing ---------------------------------------------------------------------- */

typedef struct seal_job {
    const options *o;
    const bh_msg *plain;
    long long from, to;
    int64_t now;
} seal_job;

static void *seal_range(void *arg)
{
    seal_job *j = arg;
    const bh_iface *iface = bh_iface_find("baohanapply");
    bh_credentials cred = {j->o->appkey, j->o->appsecret, {{0}}};
    bh_diag d = BH_DIAG_INIT;
    bh_msg *plain = bh_msg_dup(j->plain);
    bh_buf body;
    bh_buf_init(&body, BH_MSG_MAX_REQUEST);
    if (!plain || bh_sm4_key_parse(j->o->sm4key, &cred.key, &d, "sm4_key") != BH_OK)
        goto fail;
    for (long long i = j->from; i < j->to; i++) {
        char applyno[64];
        snprintf(applyno, sizeof applyno, "B%s-%09lld", j->o->run_id, i);
        bh_msg *wire = NULL;
        bh_buf_reset(&body);
        if (bh_msg_set_str(plain, "applyno", applyno) ||
            bh_seal(iface, &cred, plain, j->now, &wire, &d) || bh_msg_to_json(wire, 0, &body)) {
            bh_msg_free(wire);
            goto fail;
        }
        bh_msg_free(wire);
        char head[256];
        int hl = snprintf(head, sizeof head,
                          "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                          "Content-Type: application/json; charset=utf-8\r\n"
                          "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                          j->o->path, j->o->port, body.len);
        char *text = malloc((size_t)hl + body.len);
        if (!text)
            goto fail;
        memcpy(text, head, (size_t)hl);
        memcpy(text + hl, body.data, body.len);
        requests[i].data = text;
        requests[i].len = (size_t)hl + body.len;
    }
    bh_buf_release(&body);
    bh_msg_free(plain);
    return NULL;
fail:
    for (size_t k = 0; k < d.count; k++)
        fprintf(stderr, "loadgen: seal: %s: %s\n", d.items[k].field, d.items[k].message);
    atomic_store(&seal_failed, 1);
    bh_diag_release(&d);
    bh_buf_release(&body);
    bh_msg_free(plain);
    return NULL;
}

static int seal_all(const options *o)
{
    FILE *f = fopen(o->plain_path, "rb");
    if (!f) {
        fprintf(stderr, "loadgen: cannot open %s: %s\n", o->plain_path, strerror(errno));
        return -1;
    }
    bh_buf text;
    bh_buf_init(&text, BH_MSG_MAX_REQUEST);
    bh_err err = bh_buf_read_file(&text, f);
    fclose(f);
    bh_msg *plain = NULL;
    bh_diag d = BH_DIAG_INIT;
    if (!err)
        err = bh_msg_parse(text.data ? text.data : "", text.len, BH_MSG_MAX_REQUEST, 0, &plain, &d);
    bh_buf_release(&text);
    if (err) {
        fprintf(stderr, "loadgen: %s: cannot read the plaintext request (%s)\n", o->plain_path,
                bh_strerror(err));
        bh_diag_release(&d);
        return -1;
    }
    requests = calloc((size_t)nrequests, sizeof *requests);
    if (!requests) {
        bh_msg_free(plain);
        return -1;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = ncpu > 0 && ncpu < 16 ? (int)ncpu : 2;
    pthread_t th[16];
    seal_job jobs[16];
    int64_t now = bh_time_now();
    for (int t = 0; t < nthreads; t++) {
        jobs[t] =
            (seal_job){o, plain, nrequests * t / nthreads, nrequests * (t + 1) / nthreads, now};
        pthread_create(&th[t], NULL, seal_range, &jobs[t]);
    }
    for (int t = 0; t < nthreads; t++)
        pthread_join(th[t], NULL);
    bh_msg_free(plain);
    return atomic_load(&seal_failed) ? -1 : 0;
}

static void free_requests(void)
{
    for (long long i = 0; requests && i < nrequests; i++)
        free(requests[i].data);
    free(requests);
    requests = NULL;
}

/* ---- connections ------------------------------------------------------------------- */

/* Each loop thread owns some of the connections and drives them with epoll:
 * non-blocking sockets, one request outstanding per connection (closed loop:
 * a connection sends its next request when the answer to the last one has
 * arrived). The generator's CPU a request counts against the daemon on a
 * shared machine, so a request costs one send(), an answer usually one
 * recv(), and an epoll_wait() is shared by all the answers it reports. */

/* Measured against 1 (run-apply --path /nothing, interleaved runs on the
 * shared 2-core machine): the same CPU a request within the noise, and 1
 * thread often left the daemon short of work when other processes were
 * runnable (a single thread gets a single share of the cores). */
#define LOOP_THREADS_DEFAULT 2
#define CONN_BUF_INITIAL 4096
#define CONN_BUF_MAX (16u << 20) /* an answer larger than this is an error */
#define HEAD_MAX 65536           /* the head of an answer, status line to blank line */
#define RECONNECT_DELAY_NS 10000000

typedef struct loop loop;

typedef struct conn {
    loop *owner;
    int fd;           /* -1 while down */
    int done;         /* the requests ran out: sends no more */
    int want_out;     /* registered for EPOLLOUT: a send was partial */
    long long req;    /* the request outstanding, -1 when none */
    size_t sent;      /* bytes of it sent so far */
    int64_t t0;       /* when it was sent */
    int64_t retry_ns; /* while down: when to connect again */
    char *buf;        /* the answer being received */
    size_t cap, have;
    size_t scanned;  /* bytes of buf already searched for the end of the head */
    size_t head_len; /* 0 until the head is complete */
    size_t content_length;
    int status;
    int close_after; /* the answer said Connection: close */
} conn;

struct loop {
    int id;
    const options *o;
    int epfd;
    conn *conns;
    int nconns;
    int active; /* connections not done */
    int down;   /* connections waiting to reconnect */
    uint64_t hist[NBUCKETS];
    uint64_t max_us;
    uint64_t ok;         /* measured, HTTP 200 and code 1 */
    uint64_t bad_code;   /* measured, an answer without code 1 */
    uint64_t bad_status; /* measured, HTTP status other than 200 */
    uint64_t io_errors;  /* connect/send/receive failures and malformed answers (any phase) */
    uint64_t reconnects; /* after an error or Connection: close */
    uint64_t total;      /* answers in any phase */
    int64_t last_ns;     /* when its last measured answer arrived */
    char first_error[256];
};

/* A blocking connection to 127.0.0.1:port with TCP_NODELAY, or -1. */
static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void note_error(loop *l, const char *what, const char *detail)
{
    if (!l->first_error[0])
        snprintf(l->first_error, sizeof l->first_error, "%s: %s", what, detail);
}

static void conn_reset_answer(conn *c)
{
    c->have = c->scanned = c->head_len = c->content_length = 0;
    c->status = c->close_after = 0;
}

/* Connects (blocking: on loopback the handshake is the kernel's alone),
 * then makes the socket non-blocking and watches it. 0, or -1 with errno. */
static int conn_open(conn *c)
{
    int fd = connect_to(c->owner->o->port);
    if (fd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
        epoll_ctl(c->owner->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    c->fd = fd;
    c->want_out = 0;
    conn_reset_answer(c);
    return 0;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also takes it out of the epoll set */
    c->fd = -1;
    c->req = -1;
    c->sent = 0;
}

/* The connection failed (or the server broke the protocol): counted as a
 * connection error; the request outstanding is dropped and the connection
 * made again, at once or, if that fails, a little later. */
static void conn_fail(conn *c, const char *what, const char *detail, int64_t now)
{
    loop *l = c->owner;
    l->io_errors++;
    note_error(l, what, detail);
    conn_close(c);
    c->retry_ns = now;
    if (!c->done)
        l->down++;
}

/* Sends what is left of the request outstanding, taking the next request
 * first if there is none. One send() unless the socket buffer is full. */
static void conn_send(conn *c, int64_t now)
{
    loop *l = c->owner;
    if (c->req < 0) {
        long long i = atomic_fetch_add_explicit(&next_request, 1, memory_order_relaxed);
        if (i >= nrequests) {
            if (!l->o->cycle) {
                c->done = 1; /* ran out */
                l->active--;
                return;
            }
            i %= nrequests;
        }
        c->req = i;
        c->sent = 0;
        c->t0 = now;
    }
    const request_text *r = &requests[c->req];
    for (;;) {
        ssize_t n = send(c->fd, r->data + c->sent, r->len - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
            if (c->sent == r->len)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
                    conn_fail(c, "epoll", strerror(errno), now);
                    return;
                }
                c->want_out = 1;
            }
            return;
        }
        conn_fail(c, "send", n < 0 ? strerror(errno) : "nothing sent", now);
        return;
    }
    if (c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
            conn_fail(c, "epoll", strerror(errno), now);
            return;
        }
        c->want_out = 0;
    }
}

/* Whether the header value [v, end) lists `token` (comma-separated,
 * case-insensitive). */
static int header_has_token(const char *v, const char *end, const char *token)
{
    size_t tl = strlen(token);
    while (v < end) {
        while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
            v++;
        const char *t = v;
        while (v < end && *v != ',')
            v++;
        const char *te = v;
        while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if ((size_t)(te - t) == tl && strncasecmp(t, token, tl) == 0)
            return 1;
    }
    return 0;
}

/* Parses the head of an answer, c->buf[0, head_len): the status line and the
 * headers loadgen needs. Returns NULL, or what is wrong with it. */
static const char *parse_head(conn *c)
{
    const char *p = c->buf, *end = c->buf + c->head_len - 2; /* up to the blank line */
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    /* "HTTP/1.x SSS reason" */
    if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
        (eol - p > 12 && p[12] != ' '))
        return "malformed status line";
    int status = 0;
    for (int k = 9; k < 12; k++) {
        if (p[k] < '0' || p[k] > '9')
            return "malformed status code";
        status = status * 10 + (p[k] - '0');
    }
    int have_length = 0, keep_alive = 0;
    unsigned long long length = 0;
    for (p = eol + 2; p < end; p = eol + 2) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2); /* the region ends with one */
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p)
            return "malformed header line";
        size_t nl = (size_t)(colon - p);
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (nl == 14 && strncasecmp(p, "Content-Length", nl) == 0) {
            unsigned long long n = 0;
            if (v == ve || ve - v > 12)
                return "Content-Length not a number of bytes";
            for (const char *d = v; d < ve; d++) {
                if (*d < '0' || *d > '9')
                    return "Content-Length not a number of bytes";
                n = n * 10 + (unsigned)(*d - '0');
            }
            if (have_length && n != length)
                return "two different Content-Length headers";
            length = n;
            have_length = 1;
        } else if (nl == 17 && strncasecmp(p, "Transfer-Encoding", nl) == 0) {
            return "Transfer-Encoding (baohand answers with Content-Length)";
        } else if (nl == 10 && strncasecmp(p, "Connection", nl) == 0) {
            c->close_after = c->close_after || header_has_token(v, ve, "close");
            keep_alive = keep_alive || header_has_token(v, ve, "keep-alive");
        }
    }
    if (!have_length)
        return "no Content-Length (baohand answers with one)";
    if (length > CONN_BUF_MAX - c->head_len - 1)
        return "answer too large";
    if (c->buf[7] == '0' && !keep_alive)
        c->close_after = 1; /* HTTP/1.0 closes unless it says otherwise */
    c->status = status;
    c->content_length = (size_t)length;
    return NULL;
}

/* "code":1 as a whole number (not 10, not "code":0) in a NUL-terminated body. */
static int answer_ok(const char *body)
{
    const char *p = strstr(body, "\"code\":");
    if (!p)
        return 0;
    p += 7;
    while (*p == ' ')
        p++;
    return p[0] == '1' && (p[1] < '0' || p[1] > '9');
}

/* A whole answer is in c->buf: counts it, then sends the next request. */
static void conn_answered(conn *c, int64_t now)
{
    loop *l = c->owner;
    char *body = c->buf + c->head_len;
    body[c->content_length] = '\0';
    l->total++;
    if (now >= t_measure_start && now < t_measure_end) {
        l->last_ns = now;
        uint64_t us = (uint64_t)(now - c->t0) / 1000;
        l->hist[bucket_of(us)]++;
        if (us > l->max_us)
            l->max_us = us;
        if (c->status != 200) {
            l->bad_status++;
            note_error(l, "HTTP status not 200", body);
        } else if (!answer_ok(body)) {
            l->bad_code++;
            note_error(l, "answer", body);
        } else {
            l->ok++;
        }
    }
    c->req = -1;
    if (now >= t_measure_end)
        return; /* the loop stops */
    if (c->close_after) {
        conn_close(c);
        if (conn_open(c) != 0) {
            conn_fail(c, "connect", strerror(errno), now);
            return;
        }
        l->reconnects++;
    }
    conn_reset_answer(c);
    /* Its send time is this answer's arrival: the parse in between is a
     * fraction of a microsecond, and it saves a clock read a request. */
    conn_send(c, now);
}

/* The socket is readable: one recv() into the connection's buffer, then as
 * much of the answer as that completes. */
static void conn_readable(conn *c)
{
    size_t need = c->head_len ? c->head_len + c->content_length + 1 : c->have + 2048 + 1;
    if (need > c->cap) {
        size_t ncap = c->cap * 2 > need ? c->cap * 2 : need;
        char *nb = realloc(c->buf, ncap);
        if (!nb) {
            conn_fail(c, "memory", "cannot grow the answer buffer", now_ns());
            return;
        }
        c->buf = nb;
        c->cap = ncap;
    }
    ssize_t n = recv(c->fd, c->buf + c->have, c->cap - c->have - 1, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* level-triggered: epoll reports it again */
    int64_t now = now_ns();
    if (n <= 0 && c->done) {
        conn_close(c); /* idle since the requests ran out: not an error */
        return;
    }
    if (n <= 0) {
        conn_fail(c, "connection", n < 0 ? strerror(errno) : "closed by the server", now);
        return;
    }
    if (c->req < 0) {
        conn_fail(c, "connection", "bytes with no request outstanding", now);
        return;
    }
    c->have += (size_t)n;
    if (!c->head_len) {
        size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
        const char *e = memmem(c->buf + from, c->have - from, "\r\n\r\n", 4);
        if (!e && c->have <= HEAD_MAX) {
            c->scanned = c->have;
            return;
        }
        if (!e || (size_t)(e - c->buf) + 4 > HEAD_MAX) {
            conn_fail(c, "answer", "head longer than 64 KiB", now);
            return;
        }
        c->head_len = (size_t)(e - c->buf) + 4;
        const char *why = parse_head(c);
        if (why) {
            conn_fail(c, "answer", why, now);
            return;
        }
    }
    size_t whole = c->head_len + c->content_length;
    if (c->have < whole)
        return;
    if (c->have > whole) { /* no pipelining: nothing may follow the answer */
        conn_fail(c, "answer", "bytes after the answer's Content-Length", now);
        return;
    }
    conn_answered(c, now);
}

/* Connections that are down and due are made again, and send. */
static void loop_reconnect(loop *l, int64_t now)
{
    for (int i = 0; i < l->nconns && l->down; i++) {
        conn *c = &l->conns[i];
        if (c->fd >= 0 || c->done || c->retry_ns > now)
            continue;
        if (conn_open(c) != 0) {
            l->io_errors++;
            note_error(l, "connect", strerror(errno));
            c->retry_ns = now + RECONNECT_DELAY_NS;
            continue;
        }
        l->down--;
        l->reconnects++;
        conn_send(c, now);
    }
}

/* How long epoll_wait may sleep: until the measurement ends or the next
 * reconnection is due, 10 ms at most (so that `stop` is seen). */
static int loop_timeout_ms(const loop *l, int64_t now)
{
    int64_t until = now + 10000000;
    if (t_measure_end < until)
        until = t_measure_end;
    for (int i = 0; i < l->nconns && l->down; i++)
        if (l->conns[i].fd < 0 && !l->conns[i].done && l->conns[i].retry_ns < until)
            until = l->conns[i].retry_ns;
    return until > now ? (int)((until - now + 999999) / 1000000) : 0;
}

static void *loop_main(void *arg)
{
    loop *l = arg;
    struct epoll_event ev[64];
    int64_t now = now_ns();
    for (int i = 0; i < l->nconns; i++)
        conn_send(&l->conns[i], now);
    for (;;) {
        now = now_ns();
        if (now >= t_measure_end || l->active == 0 ||
            atomic_load_explicit(&stop, memory_order_relaxed))
            break;
        if (l->down)
            loop_reconnect(l, now);
        int n = epoll_wait(l->epfd, ev, 64, loop_timeout_ms(l, now));
        if (n < 0 && errno != EINTR) {
            note_error(l, "epoll_wait", strerror(errno));
            break;
        }
        for (int k = 0; k < n; k++) {
            conn *c = ev[k].data.ptr;
            if (c->fd < 0)
                continue; /* closed by an earlier event of this batch */
            if ((ev[k].events & EPOLLOUT) && c->want_out)
                conn_send(c, now_ns());
            if (c->fd >= 0 && (ev[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                conn_readable(c);
        }
    }
    atomic_fetch_add(&loops_done, 1);
    return NULL;
}

/* Closes and frees what main made for the loops (any of it may be NULL). */
static void loops_free(loop *loops, int nloops, conn *conns, int nconns)
{
    for (int i = 0; conns && i < nconns; i++) {
        if (conns[i].fd >= 0)
            close(conns[i].fd);
        free(conns[i].buf);
    }
    for (int t = 0; loops && t < nloops; t++)
        if (loops[t].epfd > 0) /* 0 (stdin): never created */
            close(loops[t].epfd);
    free(conns);
    free(loops);
}

/* ---- CPU accounting -------------------------------------------------------------------- */

/* utime + stime of a process in clock ticks, or -1. */
static long long proc_cpu_ticks(int pid)
{
    char path[64], line[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    char *p = strrchr(line, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
     * cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* Per-thread CPU of the daemon, with the threads' names: MHD's event
 * threads (MHD-worker or MHD-single), the store's writer, syncer and
 * checkpointer, the HTTP workers, the outbox (baohand names its threads
 * bh-…). */
#define MAX_TASKS 8192
typedef struct task_cpu {
    int tid;
    char name[32];
    long long ticks;
} task_cpu;

static int task_cpu_read(int pid, task_cpu *out, int max)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *dir = opendir(path);
    if (!dir)
        return 0;
    int n = 0;
    struct dirent *e;
    while (n < max && (e = readdir(dir))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char stat_path[128], line[1024];
        snprintf(stat_path, sizeof stat_path, "/proc/%d/task/%d/stat", pid, atoi(e->d_name));
        FILE *f = fopen(stat_path, "r");
        if (!f)
            continue;
        size_t len = fread(line, 1, sizeof line - 1, f);
        fclose(f);
        line[len] = '\0';
        char *open_paren = strchr(line, '('), *close_paren = strrchr(line, ')');
        unsigned long long ut = 0, st = 0;
        if (!open_paren || !close_paren ||
            sscanf(close_paren + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                   &st) != 2)
            continue;
        out[n].tid = atoi(e->d_name);
        snprintf(out[n].name, sizeof out[n].name, "%.*s", (int)(close_paren - open_paren - 1),
                 open_paren + 1);
        out[n].ticks = (long long)(ut + st);
        n++;
    }
    closedir(dir);
    return n;
}

static int by_ticks_desc(const void *a, const void *b)
{
    long long x = ((const task_cpu *)a)->ticks, y = ((const task_cpu *)b)->ticks;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Prints the CPU each busy thread used between two samples, in cores, the
 * busiest first (an uneven split between event threads shows here). */
static void task_cpu_report(task_cpu *before, int nb, task_cpu *after, int na, double seconds)
{
    long hz = sysconf(_SC_CLK_TCK);
    task_cpu *used = calloc((size_t)na + 1, sizeof *used);
    if (!used)
        return;
    for (int i = 0; i < na; i++) {
        long long base = 0;
        for (int j = 0; j < nb; j++)
            if (before[j].tid == after[i].tid)
                base = before[j].ticks;
        used[i] = after[i];
        used[i].ticks = after[i].ticks - base;
    }
    qsort(used, (size_t)na, sizeof *used, by_ticks_desc);
    printf("  threads     ");
    for (int i = 0, shown = 0; i < na && shown < 8; i++)
        if (used[i].ticks > 0)
            printf("%s %s %.2f", shown++ ? ";" : "", used[i].name,
                   (double)used[i].ticks / hz / seconds);
    printf(" (cores)\n");
    free(used);
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ---- the store's counters ------------------------------------------------------------ */

/* GET /healthz on a connection of its own; when the answer carries the
 * store's counters ("units", "commits": see bh_store_stats), sets them and
 * returns 0. -1 when it does not (older daemons) or on any problem. */
static int store_counters(int port, unsigned long long *units, unsigned long long *commits)
{
    int fd = connect_to(port);
    if (fd < 0)
        return -1;
    /* A daemon that does not answer must not hang the report. */
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[128], buf[4096];
    int n =
        snprintf(req, sizeof req,
                 "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", port);
    size_t have = 0;
    if (send_all(fd, req, (size_t)n) == 0) {
        ssize_t got;
        while (have < sizeof buf - 1 && (got = recv(fd, buf + have, sizeof buf - 1 - have, 0)) > 0)
            have += (size_t)got;
    }
    close(fd);
    buf[have] = '\0';
    const char *u = strstr(buf, "\"units\":"), *c = strstr(buf, "\"commits\":");
    if (!u || !c)
        return -1;
    *units = strtoull(u + 8, NULL, 10);
    *commits = strtoull(c + 10, NULL, 10);
    return 0;
}

/* ---- main ------------------------------------------------------------------------------ */

static const char usage[] =
    "usage: loadgen -p PORT [-c CONNS] [-T THREADS] [-w WARMUP_S] [-d DURATION_S] [-n REQUESTS]\n"
    "               [-f PLAIN.json] [-a APPKEY] [-s APPSECRET] [-k SM4KEY] [-r RUN_ID]\n"
    "               [--path /baohanapply] [--pid DAEMON_PID] [--cycle] [--json]\n"
    "Defaults: 64 connections on 2 threads, 3 s warm-up, 10 s measured, REQUESTS =\n"
    "50000 per second of warm-up and measurement, the example request and the test\n"
    "credentials of etc/baohand.ini (FI001). See bench/README.md.\n";

static int parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "-p") == 0 && v)
            o->port = atoi(v);
        else if (strcmp(a, "-c") == 0 && v)
            o->conns = atoi(v);
        else if (strcmp(a, "-T") == 0 && v)
            o->threads = atoi(v);
        else if (strcmp(a, "-w") == 0 && v)
            o->warmup_s = atof(v);
        else if (strcmp(a, "-d") == 0 && v)
            o->duration_s = atof(v);
        else if (strcmp(a, "-n") == 0 && v)
            o->nreq = atoll(v);
        else if (strcmp(a, "-f") == 0 && v)
            o->plain_path = v;
        else if (strcmp(a, "-a") == 0 && v)
            o->appkey = v;
        else if (strcmp(a, "-s") == 0 && v)
            o->appsecret = v;
        else if (strcmp(a, "-k") == 0 && v)
            o->sm4key = v;
        else if (strcmp(a, "-r") == 0 && v)
            o->run_id = v;
        else if (strcmp(a, "--path") == 0 && v)
            o->path = v;
        else if (strcmp(a, "--pid") == 0 && v)
            o->daemon_pid = atoi(v);
        else if (strcmp(a, "--cycle") == 0)
            o->cycle = 1, takes = 0;
        else if (strcmp(a, "--json") == 0)
            o->json = 1, takes = 0;
        else
            return -1;
        i += takes;
    }
    if (o->port <= 0 || o->port > 65535 || o->conns <= 0 || o->conns > 4096 || o->threads <= 0 ||
        o->threads > 64 || o->warmup_s < 0 || o->duration_s <= 0 || o->nreq < 0)
        return -1;
    if (o->threads > o->conns)
        o->threads = o->conns; /* a thread without connections has nothing to do */
    return 0;
}

int main(int argc, char **argv)
{
    static char run_id_default[32];
    options o = {0,
                 64,
                 LOOP_THREADS_DEFAULT,
                 3,
                 10,
                 0,
                 "tests/data/examples/baohanapply.plain.json",
                 "FI001",
                 "s3cr3t-FI001",
                 "0123456789abcdeffedcba9876543210",
                 NULL,
                 "/baohanapply",
                 0,
                 0,
                 0};
    if (parse_args(argc, argv, &o) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    if (!o.run_id) {
        snprintf(run_id_default, sizeof run_id_default, "%lx%x", (long)time(NULL) & 0xFFFFFF,
                 (unsigned)getpid() & 0xFFF);
        o.run_id = run_id_default;
    }
    nrequests = o.nreq ? o.nreq : (long long)(50000 * (o.warmup_s + o.duration_s));
    if (nrequests < 1)
        nrequests = 1;

    int64_t t = now_ns();
    if (seal_all(&o) != 0) {
        free_requests();
        return 1;
    }
    double seal_s = (double)(now_ns() - t) / 1e9;
    if (!o.json)
        fprintf(stderr, "loadgen: sealed %lld requests (applyno B%s-000000000..) in %.1f s\n",
                nrequests, o.run_id, seal_s);

    int nloops = o.threads;
    loop *loops = calloc((size_t)nloops, sizeof *loops);
    conn *conns = calloc((size_t)o.conns, sizeof *conns);
    pthread_t *th = calloc((size_t)nloops, sizeof *th);
    int ready = loops && conns && th;
    for (int t = 0; ready && t < nloops; t++) {
        loop *l = &loops[t];
        int from = o.conns * t / nloops, to = o.conns * (t + 1) / nloops;
        l->id = t;
        l->o = &o;
        l->conns = conns + from;
        l->nconns = l->active = to - from;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0)
            ready = 0;
        for (int i = from; i < to; i++) {
            conns[i].owner = l;
            conns[i].fd = -1;
            conns[i].req = -1;
        }
    }
    int connected = 0;
    while (ready && connected < o.conns) {
        conn *c = &conns[connected];
        c->cap = CONN_BUF_INITIAL;
        c->buf = malloc(c->cap);
        if (!c->buf || conn_open(c) != 0)
            break;
        connected++;
    }
    if (connected < o.conns) {
        if (ready)
            fprintf(stderr, "loadgen: cannot connect to 127.0.0.1:%d: %s\n", o.port,
                    strerror(errno));
        loops_free(loops, nloops, conns, o.conns);
        free(th);
        free_requests();
        return 1;
    }
    int64_t start = now_ns();
    t_measure_start = start + (int64_t)(o.warmup_s * 1e9);
    t_measure_end = t_measure_start + (int64_t)(o.duration_s * 1e9);
    for (int t = 0; t < nloops; t++)
        pthread_create(&th[t], NULL, loop_main, &loops[t]);

    /* Sample CPU use at the measurement's edges. */
    struct timespec ts = {(time_t)o.warmup_s, (long)((o.warmup_s - (time_t)o.warmup_s) * 1e9)};
    nanosleep(&ts, NULL);
    static task_cpu tasks0[MAX_TASKS], tasks1[MAX_TASKS];
    int ntasks0 = o.daemon_pid ? task_cpu_read(o.daemon_pid, tasks0, MAX_TASKS) : 0, ntasks1 = 0;
    long long d0 = o.daemon_pid ? proc_cpu_ticks(o.daemon_pid) : -1;
    double s0 = self_cpu_s();
    unsigned long long units0 = 0, commits0 = 0, units1 = 0, commits1 = 0;
    int have_counters = store_counters(o.port, &units0, &commits0) == 0;
    /* Until the end of the measurement, or until every connection is done
     * (the requests ran out). */
    while (now_ns() < t_measure_end && atomic_load(&loops_done) < nloops) {
        ts = (struct timespec){0, 10000000};
        nanosleep(&ts, NULL);
    }
    double cpu_window = (double)(now_ns() - t_measure_start) / 1e9;
    long long d1 = o.daemon_pid ? proc_cpu_ticks(o.daemon_pid) : -1;
    double s1 = self_cpu_s();
    ntasks1 = o.daemon_pid ? task_cpu_read(o.daemon_pid, tasks1, MAX_TASKS) : 0;
    have_counters = have_counters && store_counters(o.port, &units1, &commits1) == 0;
    long long issued1 = atomic_load(&next_request);
    atomic_store(&stop, 1);
    for (int t = 0; t < nloops; t++)
        pthread_join(th[t], NULL);

    uint64_t hist[NBUCKETS] = {0}, ok = 0, bad_code = 0, bad_status = 0, io = 0, total = 0;
    uint64_t max_us = 0, reconnects = 0;
    int64_t last_ns = t_measure_start;
    const char *first_error = NULL;
    for (int t = 0; t < nloops; t++) {
        const loop *l = &loops[t];
        for (int b = 0; b < NBUCKETS; b++)
            hist[b] += l->hist[b];
        ok += l->ok;
        bad_code += l->bad_code;
        bad_status += l->bad_status;
        io += l->io_errors;
        total += l->total;
        reconnects += l->reconnects;
        if (l->max_us > max_us)
            max_us = l->max_us;
        if (l->last_ns > last_ns)
            last_ns = l->last_ns;
        if (!first_error && l->first_error[0])
            first_error = l->first_error;
    }
    uint64_t measured = ok + bad_code + bad_status;
    /* When the requests ran out, the measurement ended with the last answer. */
    int ran_out = !o.cycle && atomic_load(&next_request) >= nrequests;
    double window = (double)((ran_out ? last_ns : t_measure_end) - t_measure_start) / 1e9;
    if (window <= 0)
        window = 1e-9;
    double rps = (double)measured / window;
    const double pct[] = {50, 90, 99, 99.9};
    uint64_t pv[4] = {0};
    for (int k = 0; k < 4; k++) {
        uint64_t want = (uint64_t)((double)measured * pct[k] / 100.0 + 0.999999);
        uint64_t seen = 0;
        for (int b = 0; b < NBUCKETS && measured; b++) {
            seen += hist[b];
            if (seen >= want) {
                /* The bucket's upper edge, but never above the largest seen. */
                pv[k] = bucket_high(b) < max_us ? bucket_high(b) : max_us;
                break;
            }
        }
    }
    long hz = sysconf(_SC_CLK_TCK);
    if (cpu_window <= 0)
        cpu_window = 1e-9;
    double daemon_cpu = d0 >= 0 && d1 >= 0 ? (double)(d1 - d0) / (double)hz / cpu_window : -1;
    double self_cpu = (s1 - s0) / cpu_window;
    double commits_per_s = have_counters ? (double)(commits1 - commits0) / cpu_window : -1;
    double batch = have_counters && commits1 > commits0
                       ? (double)(units1 - units0) / (double)(commits1 - commits0)
                       : -1;
    long long reused = o.cycle && issued1 > nrequests ? issued1 - nrequests : 0;

    if (o.json) {
        printf("{\"connections\":%d,\"threads\":%d,\"warmup_s\":%.1f,\"duration_s\":%.3f,"
               "\"requests_sealed\":%lld,"
               "\"measured\":%llu,\"requests_per_s\":%.0f,\"ok\":%llu,\"errors\":%llu,"
               "\"bad_code\":%llu,\"bad_status\":%llu,\"io_errors\":%llu,"
               "\"latency_us\":{\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p99.9\":%llu,"
               "\"max\":%llu},\"ran_out\":%s,\"reused\":%lld,\"daemon_cpu\":%.2f,"
               "\"loadgen_cpu\":%.2f,\"reconnects\":%llu,\"commits_per_s\":%.0f,"
               "\"mean_batch\":%.1f}\n",
               o.conns, nloops, o.warmup_s, window, nrequests, (unsigned long long)measured, rps,
               (unsigned long long)ok, (unsigned long long)(bad_code + bad_status + io),
               (unsigned long long)bad_code, (unsigned long long)bad_status, (unsigned long long)io,
               (unsigned long long)pv[0], (unsigned long long)pv[1], (unsigned long long)pv[2],
               (unsigned long long)pv[3], (unsigned long long)max_us, ran_out ? "true" : "false",
               reused, daemon_cpu, self_cpu, (unsigned long long)reconnects, commits_per_s, batch);
    } else {
        printf("baohanapply, %d connections on %d thread%s, %.1f s warm-up, %.2f s measured%s\n",
               o.conns, nloops, nloops == 1 ? "" : "s", o.warmup_s, window,
               ran_out ? " (the requests ran out: measured until the last answer; raise -n)" : "");
        printf("  requests/s   %.0f   (%llu answers; %llu in all phases)\n", rps,
               (unsigned long long)measured, (unsigned long long)total);
        printf("  latency      p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   p99.9 %.2f ms   "
               "max %.2f ms\n",
               pv[0] / 1e3, pv[1] / 1e3, pv[2] / 1e3, pv[3] / 1e3, max_us / 1e3);
        printf("  errors       %llu   (answer not code 1: %llu, HTTP status not 200: %llu, "
               "connection: %llu)\n",
               (unsigned long long)(bad_code + bad_status + io), (unsigned long long)bad_code,
               (unsigned long long)bad_status, (unsigned long long)io);
        if (reused)
            printf("  reused       %lld requests sent again (idempotent repeats, not inserts)\n",
                   reused);
        /* CPU per answer moves much less than requests/s when other work
         * shares the machine: the figure to compare two builds by. */
        if (daemon_cpu >= 0)
            printf("  cpu          baohand %.2f cores (%.0f us a request), loadgen %.2f cores "
                   "(%.1f us a request), of %ld\n",
                   daemon_cpu, rps > 0 ? daemon_cpu * 1e6 / rps : 0.0, self_cpu,
                   rps > 0 ? self_cpu * 1e6 / rps : 0.0, sysconf(_SC_NPROCESSORS_ONLN));
        else
            printf("  cpu          loadgen %.2f cores (%.1f us a request), of %ld\n", self_cpu,
                   rps > 0 ? self_cpu * 1e6 / rps : 0.0, sysconf(_SC_NPROCESSORS_ONLN));
        if (ntasks0 && ntasks1)
            task_cpu_report(tasks0, ntasks0, tasks1, ntasks1, cpu_window);
        if (have_counters)
            printf("  store        %.0f commits/s, %.1f units per commit\n", commits_per_s,
                   batch);
        if (first_error)
            printf("  first error  %.200s\n", first_error);
    }
    loops_free(loops, nloops, conns, o.conns);
    free_requests();
    free(th);
    return bad_code + bad_status + io ? 1 : 0;
}
