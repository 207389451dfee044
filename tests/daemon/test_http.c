/* Tests of daemon/http.c over real sockets on 127.0.0.1 with libcurl: round
 * trips, exact bodies, caps, headers, keep-alive, concurrency with blocking
 * handlers, a graceful stop with a request in flight, the access log, and
 * listen addresses. */
#define _DEFAULT_SOURCE /* mkdtemp, nanosleep */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check.h"
#include "http.h"

/* ---- the handler under test ---- */

#define SLOW_BODY 100000
#define PARALLEL 32

struct ctx {
    atomic_int calls;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;      /* /block handlers that have started */
    int slow_entered; /* /slow has started */
    int slow_release; /* /slow may answer */
};

/* Waits on the context's condition until `*flag >= want`, for at most 10 s
 * (a safety net against hanging, not a timing assertion). */
static void wait_for(struct ctx *c, int *flag, int want)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&c->mu);
    while (*flag < want)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &deadline) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&c->mu);
}

static void bump(struct ctx *c, int *flag)
{
    pthread_mutex_lock(&c->mu);
    (*flag)++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void handler(void *vctx, const bh_http_request *req, bh_http_response *resp)
{
    struct ctx *c = vctx;
    atomic_fetch_add(&c->calls, 1);

    if (strcmp(req->path, "/block") == 0) {
        /* Answers only once PARALLEL of these run at the same time. */
        bump(c, &c->arrived);
        wait_for(c, &c->arrived, PARALLEL);
        pthread_mutex_lock(&c->mu);
        char msg[32];
        snprintf(msg, sizeof(msg), "%d", c->arrived);
        pthread_mutex_unlock(&c->mu);
        bh_http_reply(resp, 200, 1, msg);
        return;
    }
    if (strcmp(req->path, "/slow") == 0) {
        bump(c, &c->slow_entered);
        wait_for(c, &c->slow_release, 1);
        resp->content_type = "text/plain";
        for (int i = 0; i < SLOW_BODY; i++)
            if (bh_buf_addch(&resp->body, 'x') != BH_OK)
                break;
        snprintf(resp->note, sizeof(resp->note), "slow");
        return;
    }
    if (strcmp(req->path, "/status") == 0) {
        resp->status = 201;
        resp->content_type = "text/plain; charset=utf-8";
        snprintf(resp->extra_headers, sizeof(resp->extra_headers),
                 "X-One: 1\r\nX-Two:   two words  \r\nContent-Disposition: attachment; "
                 "filename=\"a.pdf\"\r\n");
        if (bh_buf_addstr(&resp->body, "created") != BH_OK)
            return;
        snprintf(resp->note, sizeof(resp->note), "iface FI001 applyno\n1");
        return;
    }
    if (strcmp(req->path, "/reply") == 0) {
        bh_http_reply(resp, 400, 0, "字段 \"a\\b\"\n\x01");
        return;
    }
    /* Everything else echoes the request. */
    const char *test = bh_http_header(req, "x-TEST-header");
    snprintf(resp->extra_headers, sizeof(resp->extra_headers),
             "X-Method: %s\r\nX-Path: %s\r\nX-Query: [%s]\r\nX-CT: [%s]\r\nX-Test: %s\r\n"
             "X-Remote: %s\r\nX-Terminated: %s\r\n",
             req->method, req->path, req->query, req->content_type, test ? test : "none",
             req->remote_addr, req->body[req->body_len] == '\0' ? "yes" : "no");
    resp->content_type = "application/octet-stream";
    if (bh_buf_add(&resp->body, req->body, req->body_len) != BH_OK)
        bh_http_reply(resp, 500, 0, "echo failed");
    snprintf(resp->note, sizeof(resp->note), "echo %zu", req->body_len);
}

static void ctx_init(struct ctx *c)
{
    memset(c, 0, sizeof(*c));
    atomic_init(&c->calls, 0);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static void ctx_release(struct ctx *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

/* ---- a small client ---- */

struct reply {
    long status;
    bh_buf body;
    char headers[4096];
    size_t hlen;
    long connects; /* new connections curl opened for this request */
    CURLcode rc;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    return bh_buf_add(&r->body, p, size * n) == BH_OK ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;
    if (len >= 7 && strncmp(p, "HTTP/1.", 7) == 0)
        r->hlen = 0; /* a new response (after 100 Continue) */
    if (r->hlen + len < sizeof(r->headers)) {
        memcpy(r->headers + r->hlen, p, len);
        r->hlen += len;
        r->headers[r->hlen] = '\0';
    }
    return len;
}

/* The value of a response header (case-insensitive name), in a static buffer;
 * NULL when absent. */
static const char *header(const struct reply *r, const char *name)
{
    static char value[512];
    size_t nlen = strlen(name);
    const char *p = r->headers;
    while (p && *p) {
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            snprintf(value, sizeof(value), "%.*s", (int)len, v);
            return value;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

struct upload {
    const char *data;
    size_t len, pos;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t want = size * n, left = u->len - u->pos;
    if (want > left)
        want = left;
    if (want > 7)
        want = 7; /* several small chunks */
    memcpy(buf, u->data + u->pos, want);
    u->pos += want;
    return want;
}

/* One request. `body` NULL: no body. `chunked`: send the body with chunked
 * transfer encoding (no Content-Length). */
static void request(CURL *h, int port, const char *method, const char *target, const void *body,
                    size_t len, int chunked, struct curl_slist *hdrs, struct reply *r)
{
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, target);
    memset(r, 0, sizeof(*r));
    bh_buf_init(&r->body, 1024 * 1024);
    struct upload up = {body, len, 0};
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    struct curl_slist *all = NULL;
    for (struct curl_slist *s = hdrs; s; s = s->next)
        all = curl_slist_append(all, s->data);
    all = curl_slist_append(all, "Expect:"); /* no 100-continue round trip */
    if (chunked) {
        all = curl_slist_append(all, "Transfer-Encoding: chunked");
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &up);
    } else if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "GET") == 0 && !body)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, all);
    r->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->connects);
    curl_slist_free_all(all);
}

static int body_is(const struct reply *r, const char *want)
{
    return r->body.len == strlen(want) && memcmp(r->body.data, want, r->body.len) == 0;
}

/* ---- the tests ---- */

static char tmpdir[256];
static char logpath[300];

static bh_http_server *start(struct ctx *c, FILE *log, size_t max_body)
{
    bh_http_options o = {
        .listen = "127.0.0.1:0",
        .max_body = max_body,
        .large = {{"/pay/", 2000}, {"/up/", 3000}},
        .threads = PARALLEL, /* test_concurrency: PARALLEL blocking handlers at once */
        .access_log = log,
        .handler = handler,
        .ctx = c,
    };
    bh_http_server *s = NULL;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_http_start(&o, &s, &d), BH_OK);
    for (size_t i = 0; i < d.count; i++)
        fprintf(stderr, "  %s: %s\n", d.items[i].field, d.items[i].message);
    bh_diag_release(&d);
    CHECK(s != NULL);
    CHECK(bh_http_port(s) > 0);
    return s;
}

static int requests_made;

/* RUN for a test function that takes arguments. */
#define RUN_ARG(test, ...)                                                                         \
    do {                                                                                           \
        int before_ = check_failures;                                                              \
        test(__VA_ARGS__);                                                                         \
        printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test);                     \
    } while (0)

static void test_round_trips(bh_http_server *s, struct ctx *c)
{
    int port = bh_http_port(s);
    CURL *h = curl_easy_init();
    struct reply r;
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-Test-Header: hello there");
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json; charset=utf-8");

    /* GET with a query: path decoded, query raw. */
    request(h, port, "GET", "/hello/%E4%BD%A0?a=1&b=%20x", NULL, 0, 0, hdrs, &r);
    requests_made++;
    CHECK_EQ(r.rc, CURLE_OK);
    CHECK_EQ(r.status, 200);
    CHECK_STR(header(&r, "X-Method"), "GET");
    CHECK_STR(header(&r, "X-Path"), "/hello/你");
    CHECK_STR(header(&r, "X-Query"), "[a=1&b=%20x]");
    CHECK_STR(header(&r, "X-Test"), "hello there");
    CHECK_STR(header(&r, "X-Remote"), "127.0.0.1");
    CHECK_STR(header(&r, "X-Terminated"), "yes");
    CHECK_STR(header(&r, "Content-Length"), "0");
    CHECK_STR(header(&r, "Content-Type"), "application/octet-stream");
    CHECK_EQ(r.body.len, 0);
    bh_buf_release(&r.body);

    /* POST: the body exactly, NUL bytes included; keep-alive reuses the
     * connection. */
    static const char bin[] = "a\0b\0\0c{\"x\":1}";
    request(h, port, "POST", "/echo", bin, sizeof(bin) - 1, 0, hdrs, &r);
    requests_made++;
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.connects, 0);
    CHECK_EQ(r.body.len, sizeof(bin) - 1);
    CHECK(r.body.data && memcmp(r.body.data, bin, sizeof(bin) - 1) == 0);
    CHECK_STR(header(&r, "X-Method"), "POST");
    CHECK_STR(header(&r, "X-Query"), "[]");
    CHECK_STR(header(&r, "X-CT"), "[application/json; charset=utf-8]");
    CHECK_STR(header(&r, "X-Terminated"), "yes");
    CHECK_STR(header(&r, "Content-Length"), "13");
    bh_buf_release(&r.body);

    /* No Content-Type, no custom header; any method reaches the handler. */
    request(h, port, "DELETE", "/x", NULL, 0, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.connects, 0);
    CHECK_STR(header(&r, "X-Method"), "DELETE");
    CHECK_STR(header(&r, "X-CT"), "[]");
    CHECK_STR(header(&r, "X-Test"), "none");
    bh_buf_release(&r.body);

    /* Status, content type and extra headers from the handler. */
    request(h, port, "GET", "/status", NULL, 0, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 201);
    CHECK(body_is(&r, "created"));
    CHECK_STR(header(&r, "Content-Type"), "text/plain; charset=utf-8");
    CHECK_STR(header(&r, "X-One"), "1");
    CHECK_STR(header(&r, "X-Two"), "two words");
    CHECK_STR(header(&r, "Content-Disposition"), "attachment; filename=\"a.pdf\"");
    CHECK_STR(header(&r, "Content-Length"), "7");
    bh_buf_release(&r.body);

    /* bh_http_reply: the protocol's shape, escaped. */
    request(h, port, "POST", "/reply", "{}", 2, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 400);
    CHECK(body_is(&r, "{\"code\":0,\"message\":\"字段 \\\"a\\\\b\\\"\\n\\u0001\"}"));
    if (!body_is(&r, "{\"code\":0,\"message\":\"字段 \\\"a\\\\b\\\"\\n\\u0001\"}"))
        fprintf(stderr, "  got %s\n", r.body.data ? r.body.data : "");
    CHECK_STR(header(&r, "Content-Type"), "application/json; charset=utf-8");
    bh_buf_release(&r.body);

    /* A percent-encoded newline in the path reaches the handler decoded (and
     * the access log escaped, checked later). */
    request(h, port, "GET", "/a%0Ab", NULL, 0, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 200);
    bh_buf_release(&r.body);

    CHECK_EQ(atomic_load(&c->calls), requests_made);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
}

static void test_caps(bh_http_server *s, struct ctx *c)
{
    int port = bh_http_port(s);
    CURL *h = curl_easy_init();
    struct reply r;
    char big[3000];
    memset(big, 'b', sizeof(big));
    int before = atomic_load(&c->calls);

    /* max_body is 100 for these servers. */
    request(h, port, "POST", "/echo", big, 100, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.body.len, 100);
    bh_buf_release(&r.body);

    request(h, port, "POST", "/echo", big, 101, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 413);
    CHECK(body_is(&r, "{\"code\":0,\"message\":\"request body larger than 100 bytes\"}"));
    CHECK_STR(header(&r, "Content-Type"), "application/json; charset=utf-8");
    bh_buf_release(&r.body);

    /* Chunked, no Content-Length: found over the cap while reading. */
    request(h, port, "POST", "/echo", big, 150, 1, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 413);
    CHECK(body_is(&r, "{\"code\":0,\"message\":\"request body larger than 100 bytes\"}"));
    bh_buf_release(&r.body);
    request(h, port, "POST", "/echo", "0123456789abcdefghijklmnopqrstuvwxyz", 36, 1, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 200);
    CHECK(body_is(&r, "0123456789abcdefghijklmnopqrstuvwxyz"));
    bh_buf_release(&r.body);

    /* The large prefix has its own cap. */
    request(h, port, "POST", "/pay/abc", big, 2000, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.body.len, 2000);
    bh_buf_release(&r.body);
    request(h, port, "POST", "/pay/abc", big, 2001, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 413);
    CHECK(body_is(&r, "{\"code\":0,\"message\":\"request body larger than 2000 bytes\"}"));
    bh_buf_release(&r.body);
    request(h, port, "POST", "/pay/abc", big, 2500, 1, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 413);
    bh_buf_release(&r.body);
    /* Only under the prefix. */
    request(h, port, "POST", "/payx", big, 101, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 413);
    bh_buf_release(&r.body);
    /* A second prefix, with a cap of its own. */
    request(h, port, "POST", "/up/file", big, 2500, 0, NULL, &r);
    requests_made++;
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.body.len, 2500);
    bh_buf_release(&r.body);

    /* The handler saw only the bodies within their caps. */
    CHECK_EQ(atomic_load(&c->calls) - before, 4);
    curl_easy_cleanup(h);
}

struct worker {
    pthread_t t;
    int port;
    const char *target;
    struct reply r;
};

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    CURL *h = curl_easy_init();
    request(h, w->port, "POST", w->target, "{}", 2, 0, NULL, &w->r);
    curl_easy_cleanup(h);
    return NULL;
}

static void test_concurrency(bh_http_server *s)
{
    /* Every /block handler waits until all PARALLEL are running at once, so
     * they are all answered only if the server runs them concurrently. */
    struct worker w[PARALLEL];
    for (int i = 0; i < PARALLEL; i++) {
        w[i].port = bh_http_port(s);
        w[i].target = "/block";
        CHECK_EQ(pthread_create(&w[i].t, NULL, run_worker, &w[i]), 0);
    }
    char want[64];
    snprintf(want, sizeof(want), "{\"code\":1,\"message\":\"%d\"}", PARALLEL);
    for (int i = 0; i < PARALLEL; i++) {
        pthread_join(w[i].t, NULL);
        requests_made++;
        CHECK_EQ(w[i].r.status, 200);
        CHECK(body_is(&w[i].r, want));
        bh_buf_release(&w[i].r.body);
    }
}

/* Checks every access-log line's shape and that the expected ones are there. */
static void check_access_log(const char *path, int expected_lines)
{
    size_t len;
    char *text = check_read_file(path, &len);
    int lines = 0, saw_echo = 0, saw_413 = 0, saw_escaped = 0, saw_note = 0, saw_post = 0;
    int64_t now = bh_time_now();
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        CHECK(nl != NULL); /* every line ends with a newline */
        if (!nl)
            break;
        *nl = '\0';
        lines++;
        /* "yyyy-MM-dd HH:mm:ss 127.0.0.1 METHOD PATH STATUS N.NNms[ NOTE]" */
        int64_t when = 0;
        CHECK(strlen(line) > 20);
        CHECK_EQ(bh_time_parse(line, 19, &when, NULL, "time"), BH_OK);
        CHECK(when > now - 3600 && when <= now + 1);
        char remote[64], method[32], target[1100], status[8], latency[32];
        int used = 0;
        CHECK_EQ(sscanf(line + 20, "%63s %31s %1099s %7s %31s%n", remote, method, target, status,
                        latency, &used),
                 5);
        CHECK_STR(remote, "127.0.0.1");
        CHECK(target[0] == '/');
        CHECK(strlen(status) == 3 && status[0] >= '1' && status[0] <= '5');
        size_t ll = strlen(latency);
        CHECK(ll >= 6 && strcmp(latency + ll - 2, "ms") == 0 && latency[ll - 5] == '.');
        for (char *q = line; *q; q++)
            CHECK((unsigned char)*q >= 0x20);
        const char *note = line + 20 + used;
        if (strcmp(method, "POST") == 0 && strcmp(target, "/echo") == 0 &&
            strcmp(status, "200") == 0 && strcmp(note, " echo 13") == 0)
            saw_echo = 1;
        if (strcmp(status, "413") == 0 && strcmp(target, "/pay/abc") == 0)
            saw_413 = 1;
        if (strcmp(target, "/a%0Ab") == 0)
            saw_escaped = 1;
        if (strcmp(target, "/status") == 0 && strcmp(note, " iface FI001 applyno%0A1") == 0)
            saw_note = 1;
        if (strcmp(target, "/slow") == 0 && strcmp(note, " slow") == 0 &&
            strcmp(status, "200") == 0)
            saw_post = 1;
        line = nl + 1;
    }
    CHECK_EQ(lines, expected_lines);
    CHECK(saw_echo);
    CHECK(saw_413);
    CHECK(saw_escaped);
    CHECK(saw_note);
    CHECK(saw_post);
    free(text);
}

struct stopper {
    pthread_t t;
    bh_http_server *s;
};

static void *run_stop(void *arg)
{
    struct stopper *st = arg;
    bh_http_stop(st->s);
    return NULL;
}

/* Whether a new connection to the port is refused (the server stopped listening). */
static int refused(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    int e = errno;
    close(fd);
    return r != 0 && e == ECONNREFUSED;
}

/* Waits (bounded: 10 s) until the listening socket is gone. */
static int wait_refused(int port)
{
    for (int i = 0; i < 1000; i++) {
        if (refused(port))
            return 1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void test_server(void)
{
    struct ctx c;
    ctx_init(&c);
    FILE *log = fopen(logpath, "w");
    CHECK(log != NULL);
    bh_http_server *s = start(&c, log, 100);
    if (!s) {
        fclose(log);
        ctx_release(&c);
        return;
    }
    int port = bh_http_port(s);
    requests_made = 0;
    RUN_ARG(test_round_trips, s, &c);
    RUN_ARG(test_caps, s, &c);
    RUN_ARG(test_concurrency, s);
    int before = check_failures;

    /* Graceful stop: a request is inside the handler when the stop begins; a
     * keep-alive connection that sends another request meanwhile is told 503
     * and closed; the first request still gets its whole answer. */
    CURL *keep = curl_easy_init();
    struct reply kr;
    request(keep, port, "GET", "/first", NULL, 0, 0, NULL, &kr);
    requests_made++;
    CHECK_EQ(kr.status, 200);
    bh_buf_release(&kr.body);

    struct worker slow = {.port = port, .target = "/slow"};
    CHECK_EQ(pthread_create(&slow.t, NULL, run_worker, &slow), 0);
    wait_for(&c, &c.slow_entered, 1);
    CHECK_EQ(c.slow_entered, 1);

    struct stopper st = {.s = s};
    CHECK_EQ(pthread_create(&st.t, NULL, run_stop, &st), 0);
    CHECK(wait_refused(port));
    request(keep, port, "GET", "/second", NULL, 0, 0, NULL, &kr);
    requests_made++;
    CHECK_EQ(kr.rc, CURLE_OK);
    CHECK_EQ(kr.connects, 0); /* the kept-alive connection, not a new one */
    CHECK_EQ(kr.status, 503);
    CHECK(body_is(&kr, "{\"code\":0,\"message\":\"server is shutting down; try again\"}"));
    CHECK_STR(header(&kr, "Connection"), "close");
    bh_buf_release(&kr.body);
    curl_easy_cleanup(keep);

    bump(&c, &c.slow_release);
    pthread_join(slow.t, NULL);
    requests_made++;
    pthread_join(st.t, NULL);
    CHECK_EQ(slow.r.rc, CURLE_OK);
    CHECK_EQ(slow.r.status, 200);
    CHECK_EQ(slow.r.body.len, SLOW_BODY);
    int all_x = slow.r.body.len == SLOW_BODY;
    for (size_t i = 0; all_x && i < slow.r.body.len; i++)
        all_x = slow.r.body.data[i] == 'x';
    CHECK(all_x);
    CHECK_STR(header(&slow.r, "Content-Length"), "100000");
    bh_buf_release(&slow.r.body);
    CHECK(refused(port));
    printf("%s test_graceful_stop\n", check_failures == before ? "ok  " : "FAIL");

    fclose(log);
    RUN_ARG(check_access_log, logpath, requests_made);
    ctx_release(&c);
}

static void test_listen(void)
{
    static const char *const bad[] = {
        "",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:+80",
        "127.0.0.1:80x",
        "127.0.0.1:123456",
        "::1:80",
        "[::1]80",
        "[::1]",
        "[]:80",
        "[nonsense]:80",
        "example.com:80",
        "1.2.3:80",
        ":80",
        "*:80",
        "127.0.0.01:80",
        "localhost",
        " 127.0.0.1:80",
    };
    struct ctx c;
    ctx_init(&c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bh_http_options o = {.listen = bad[i], .max_body = 100, .handler = handler, .ctx = &c};
        bh_http_server *s = (bh_http_server *)&c;
        bh_diag d = BH_DIAG_INIT;
        CHECK_EQ(bh_http_start(&o, &s, &d), BH_EINVAL);
        CHECK(s == NULL);
        CHECK(d.count == 1 && strcmp(d.items[0].field, "listen") == 0);
        if (d.count != 1)
            fprintf(stderr, "  listen \"%s\" was accepted\n", bad[i]);
        bh_diag_release(&d);
        const char *rule = NULL;
        CHECK_EQ(bh_http_listen_check(bad[i], &rule), BH_EINVAL);
        CHECK(rule != NULL && *rule);
    }
    const char *rule = "x";
    CHECK_EQ(bh_http_listen_check(NULL, &rule), BH_EINVAL);
    static const char *const good[] = {"127.0.0.1:0", "0.0.0.0:8080", "[::1]:0",
                                       "[::]:65535",  "localhost:1",  "[fe80::1]:80"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_EQ(bh_http_listen_check(good[i], NULL), BH_OK);

    /* localhost binds the IPv4 loopback. */
    bh_http_options o = {.listen = "localhost:0", .max_body = 100, .handler = handler, .ctx = &c};
    bh_http_server *s = NULL;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_http_start(&o, &s, &d), BH_OK);
    bh_diag_release(&d);
    if (s) {
        CURL *h = curl_easy_init();
        struct reply r;
        request(h, bh_http_port(s), "GET", "/x", NULL, 0, 0, NULL, &r);
        CHECK_EQ(r.status, 200);
        bh_buf_release(&r.body);
        curl_easy_cleanup(h);

        /* The same port again: refused with the reason. */
        char taken[64];
        snprintf(taken, sizeof(taken), "127.0.0.1:%d", bh_http_port(s));
        bh_http_options o2 = o;
        o2.listen = taken;
        bh_http_server *s2 = NULL;
        CHECK_EQ(bh_http_start(&o2, &s2, &d), BH_EIO);
        CHECK(s2 == NULL);
        CHECK(d.count == 1 && strcmp(d.items[0].field, "listen") == 0 &&
              strstr(d.items[0].message, "in use") && strstr(d.items[0].message, taken));
        bh_diag_release(&d);
        bh_http_stop(s);
    }
    bh_http_stop(NULL);
    CHECK_EQ(bh_http_port(NULL), 0);
    ctx_release(&c);
}

/* `connections` caps the connections open at once; MHD closes the ones beyond. */
static void test_connection_limit(void)
{
    struct ctx c;
    ctx_init(&c);
    bh_http_options o = {
        .listen = "127.0.0.1:0", .max_body = 100, .connections = 2, .event_threads = 1,
        .handler = handler, .ctx = &c};
    bh_http_server *s = NULL;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_http_start(&o, &s, &d), BH_OK);
    bh_diag_release(&d);
    if (!s) {
        ctx_release(&c);
        return;
    }
    CURL *h[3];
    struct reply r;
    for (int i = 0; i < 3; i++) {
        h[i] = curl_easy_init();
        request(h[i], bh_http_port(s), "GET", "/x", NULL, 0, 0, NULL, &r);
        /* The first two stay open (keep-alive); the third is one too many. */
        if (i < 2)
            CHECK_EQ(r.status, 200);
        else
            CHECK(r.rc != CURLE_OK && r.status == 0);
        bh_buf_release(&r.body);
    }
    curl_easy_cleanup(h[0]); /* frees a slot */
    struct timespec ts = {0, 100 * 1000 * 1000};
    int ok = 0;
    for (int i = 0; i < 100 && !ok; i++) {
        request(h[2], bh_http_port(s), "GET", "/x", NULL, 0, 0, NULL, &r);
        ok = r.status == 200;
        bh_buf_release(&r.body);
        if (!ok)
            nanosleep(&ts, NULL);
    }
    CHECK(ok);
    curl_easy_cleanup(h[1]);
    curl_easy_cleanup(h[2]);
    bh_http_stop(s);
    ctx_release(&c);
}

static void test_reply(void)
{
    bh_http_response resp;
    memset(&resp, 0, sizeof(resp));
    bh_buf_init(&resp.body, 1024);
    CHECK(bh_buf_addstr(&resp.body, "old") == BH_OK);
    bh_http_reply(&resp, 404, 0, "no such interface: /x\t");
    CHECK_EQ(resp.status, 404);
    CHECK_STR(resp.body.data, "{\"code\":0,\"message\":\"no such interface: /x\\t\"}");
    CHECK_STR(resp.content_type, "application/json; charset=utf-8");
    bh_http_reply(&resp, 200, 1, "成功");
    CHECK_STR(resp.body.data, "{\"code\":1,\"message\":\"成功\"}");
    bh_buf_release(&resp.body);
}

/* ---- the quick handler ---- */

/* Calls the quick handler keeps waiting at once: far more than the one
 * worker and one event thread of the server below, so they are answered
 * only if a waiting call holds no thread. */
#define PARKED 64

struct quick_ctx {
    struct ctx base; /* for the blocking handler */
    pthread_mutex_t mu;
    bh_http_call *parked[PARKED];
    int nparked;
    atomic_int quick_calls;
    bh_http_call *held[PARKED]; /* /hold: kept until the test finishes them */
    int nheld;
    atomic_int hooks; /* answer hooks run */
};

static void count_hook(void *ctx, bh_http_response *resp)
{
    struct quick_ctx *q = ctx;
    atomic_fetch_add(&q->hooks, 1);
    bh_http_reply(resp, 200, 1, "hooked");
}

static void *finish_soon(void *arg)
{
    bh_http_call *call = arg;
    bh_http_reply(bh_http_call_response(call), 200, 1, "raced");
    bh_http_call_finish(call);
    return NULL;
}

static int quick(void *vctx, bh_http_call *call)
{
    struct quick_ctx *q = vctx;
    const bh_http_request *req = bh_http_call_request(call);
    atomic_fetch_add(&q->quick_calls, 1);
    if (strcmp(req->path, "/now") == 0) {
        bh_http_response *resp = bh_http_call_response(call);
        bh_http_reply(resp, 200, 1, req->body);
        snprintf(resp->note, sizeof(resp->note), "now");
        bh_http_call_finish(call);
        return 1;
    }
    if (strcmp(req->path, "/race") == 0) {
        /* Finished from another thread while this one returns: either may
         * come first. */
        pthread_t t;
        if (pthread_create(&t, NULL, finish_soon, call) != 0)
            return 0;
        pthread_detach(t);
        return 1;
    }
    if (strcmp(req->path, "/who") == 0) {
        /* Which event thread runs it. */
        char msg[32];
        snprintf(msg, sizeof(msg), "%lu", (unsigned long)pthread_self());
        bh_http_reply(bh_http_call_response(call), 200, 1, msg);
        bh_http_call_finish(call);
        return 1;
    }
    if (strcmp(req->path, "/hold") == 0 || strcmp(req->path, "/hook") == 0) {
        if (strcmp(req->path, "/hook") == 0)
            bh_http_call_on_answer(call, count_hook, q);
        pthread_mutex_lock(&q->mu);
        q->held[q->nheld++] = call;
        pthread_mutex_unlock(&q->mu);
        return 1;
    }
    if (strcmp(req->path, "/park") == 0) {
        pthread_mutex_lock(&q->mu);
        q->parked[q->nparked++] = call;
        if (q->nparked == PARKED) {
            /* The last one arrived: answer them all, in reverse order. */
            for (int i = PARKED - 1; i >= 0; i--) {
                char msg[16];
                snprintf(msg, sizeof(msg), "parked %d", PARKED);
                bh_http_reply(bh_http_call_response(q->parked[i]), 200, 1, msg);
                bh_http_call_finish(q->parked[i]);
            }
            q->nparked = 0;
        }
        pthread_mutex_unlock(&q->mu);
        return 1;
    }
    return 0; /* the blocking handler's */
}

/* Waits (bounded: 10 s) until the quick handler holds `n` calls. */
static int wait_held(struct quick_ctx *q, int n)
{
    int held = 0;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&q->mu);
        held = q->nheld;
        pthread_mutex_unlock(&q->mu);
        if (held >= n)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return held;
}

/* A server with the quick handler above, one worker and `event_threads`. */
static bh_http_server *start_quick(struct quick_ctx *q, int event_threads)
{
    memset(q, 0, sizeof(*q));
    ctx_init(&q->base);
    pthread_mutex_init(&q->mu, NULL);
    atomic_init(&q->quick_calls, 0);
    atomic_init(&q->hooks, 0);
    bh_http_options o = {.listen = "127.0.0.1:0",
                         .max_body = 100,
                         .threads = 1,
                         .event_threads = event_threads,
                         .handler = handler,
                         .ctx = q,
                         .quick = quick};
    bh_http_server *s = NULL;
    CHECK_EQ(bh_http_start(&o, &s, NULL), BH_OK);
    return s;
}

static void quick_release(struct quick_ctx *q)
{
    pthread_mutex_destroy(&q->mu);
    ctx_release(&q->base);
}

static void test_quick(void)
{
    struct quick_ctx q;
    bh_http_server *s = start_quick(&q, 1);
    if (!s)
        return;
    int port = bh_http_port(s);

    /* Answered on the event thread. */
    CURL *h = curl_easy_init();
    struct reply r;
    request(h, port, "POST", "/now", "hi", 2, 0, NULL, &r);
    CHECK_EQ(r.status, 200);
    CHECK(body_is(&r, "{\"code\":1,\"message\":\"hi\"}"));
    bh_buf_release(&r.body);

    /* Declined: the blocking handler echoes it. */
    request(h, port, "POST", "/echo", "abc", 3, 0, NULL, &r);
    CHECK_EQ(r.status, 200);
    CHECK(body_is(&r, "abc"));
    CHECK_EQ(atomic_load(&q.base.calls), 1);
    bh_buf_release(&r.body);

    /* Finished from another thread, racing the hand-off, many times over
     * one keep-alive connection. */
    int raced = 0;
    for (int i = 0; i < 200; i++) {
        request(h, port, "POST", "/race", "", 0, 0, NULL, &r);
        raced += r.status == 200 && body_is(&r, "{\"code\":1,\"message\":\"raced\"}");
        bh_buf_release(&r.body);
    }
    CHECK_EQ(raced, 200);
    curl_easy_cleanup(h);

    /* PARKED calls waiting at once, on one event thread and one worker. */
    struct worker w[PARKED];
    for (int i = 0; i < PARKED; i++) {
        w[i].port = port;
        w[i].target = "/park";
        CHECK_EQ(pthread_create(&w[i].t, NULL, run_worker, &w[i]), 0);
    }
    char want[64];
    snprintf(want, sizeof(want), "{\"code\":1,\"message\":\"parked %d\"}", PARKED);
    int answered = 0;
    for (int i = 0; i < PARKED; i++) {
        pthread_join(w[i].t, NULL);
        answered += w[i].r.status == 200 && body_is(&w[i].r, want);
        bh_buf_release(&w[i].r.body);
    }
    CHECK_EQ(answered, PARKED);
    CHECK_EQ(atomic_load(&q.quick_calls), 2 + 200 + PARKED);
    bh_http_stop(s);
    quick_release(&q);
}

/* Connections are spread over the event threads in turn, and a stop waits
 * for the calls a quick handler still holds: their clients get the whole
 * answer while new connections are refused. */
static void test_quick_threads_and_stop(void)
{
    struct quick_ctx q;
    bh_http_server *s = start_quick(&q, 2);
    if (!s)
        return;
    int port = bh_http_port(s);

    /* Four connections, one after another: two on each event thread. */
    CURL *h[4];
    char who[4][64];
    for (int i = 0; i < 4; i++) {
        struct reply r;
        h[i] = curl_easy_init();
        request(h[i], port, "POST", "/who", "", 0, 0, NULL, &r);
        CHECK_EQ(r.status, 200);
        snprintf(who[i], sizeof who[i], "%.*s", (int)r.body.len, r.body.data ? r.body.data : "");
        bh_buf_release(&r.body);
    }
    CHECK(strcmp(who[0], who[1]) != 0);
    CHECK_STR(who[0], who[2]);
    CHECK_STR(who[1], who[3]);
    for (int i = 0; i < 4; i++)
        curl_easy_cleanup(h[i]);

    /* Four calls held by the quick handler when the stop begins. */
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i].port = port;
        w[i].target = "/hold";
        CHECK_EQ(pthread_create(&w[i].t, NULL, run_worker, &w[i]), 0);
    }
    CHECK_EQ(wait_held(&q, 4), 4);
    struct stopper st = {.s = s};
    CHECK_EQ(pthread_create(&st.t, NULL, run_stop, &st), 0);
    CHECK(wait_refused(port));
    /* Finished only now, with the stop under way: still answered. */
    for (int i = 0; i < 4; i++) {
        bh_http_reply(bh_http_call_response(q.held[i]), 200, 1, "held");
        bh_http_call_finish(q.held[i]);
    }
    int answered = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(w[i].t, NULL);
        answered += w[i].r.status == 200 && body_is(&w[i].r, "{\"code\":1,\"message\":\"held\"}");
        bh_buf_release(&w[i].r.body);
    }
    CHECK_EQ(answered, 4);
    pthread_join(st.t, NULL);
    quick_release(&q);
}

/* The answer hook runs exactly once: before the answer goes out, also for a
 * call whose client hung up while it was held. (MHD resumes such a call
 * and the access callback answers into the closed socket; the completion
 * callback's run of the hook, for a call MHD ends before that, cannot be
 * forced from here: this proves the "once", not which path ran it.) */
static void test_answer_hook(void)
{
    struct quick_ctx q;
    bh_http_server *s = start_quick(&q, 1);
    if (!s)
        return;
    int port = bh_http_port(s);
    struct worker w = {.port = port, .target = "/hook"};
    CHECK_EQ(pthread_create(&w.t, NULL, run_worker, &w), 0);
    CHECK_EQ(wait_held(&q, 1), 1);
    bh_http_call_finish(q.held[0]);
    pthread_join(w.t, NULL);
    CHECK_EQ(w.r.status, 200);
    CHECK(body_is(&w.r, "{\"code\":1,\"message\":\"hooked\"}"));
    bh_buf_release(&w.r.body);
    CHECK_EQ(atomic_load(&q.hooks), 1);

    /* A client that hangs up while its call is held. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    static const char req[] = "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ(send(fd, req, sizeof(req) - 1, 0), (ssize_t)(sizeof(req) - 1));
    CHECK_EQ(wait_held(&q, 2), 2);
    close(fd);
    bh_http_call_finish(q.held[1]);
    bh_http_stop(s); /* waits for the call to end, one way or the other */
    CHECK_EQ(atomic_load(&q.hooks), 2);
    quick_release(&q);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bh-http-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(logpath, sizeof(logpath), "%s/access.log", tmpdir);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_reply);
    RUN(test_listen);
    RUN(test_connection_limit);
    RUN(test_quick);
    RUN(test_quick_threads_and_stop);
    RUN(test_answer_hook);
    test_server();
    curl_global_cleanup();
    unlink(logpath);
    rmdir(tmpdir);
    return CHECK_DONE();
}
