/* The signed HTTP client against a small libmicrohttpd server running inside
 * the test on 127.0.0.1: the server checks each request's signature and
 * opens its encrypted fields as a real counterpart would, and answers in the
 * ways a counterpart can (JSON, HTML, too much, too late, a redirect). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "baohan/baohan.h"
#include "baohan/client.h"
#include "check.h"
#include "fixtures.h"

/* 2026-11-28 10:00:00 CST */
#define NOW 1795831200
#define APPKEY "FI001"
#define APPSECRET "s3cr3t-FI001"
#define SM4KEY "0123456789abcdeffedcba9876543210"
#define PAYURL "https://fi.example.com/pay/0123456789abcdef0123456789abcdef"
#define BIG_BYTES 10000

/* Parsed once in main(): the server threads must not run CHECKs. */
static bh_credentials test_cred = {APPKEY, APPSECRET, {{0}}};

static bh_credentials creds(void)
{
    return test_cred;
}

/* ---- the test server ------------------------------------------------- */

typedef struct server {
    struct MHD_Daemon *mhd;
    unsigned short port;
    pthread_mutex_t mu;
    /* What the last request under /api/ looked like. */
    int requests;
    int connections;
    char last_url[256];
    char last_content_type[128];
    bh_err last_sign;
    bh_err last_open;
    bh_msg *last_wire;  /* as received */
    bh_msg *last_plain; /* opened */
    char *last_body;
} server;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static ssize_t spaces(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    if (pos >= BIG_BYTES)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = BIG_BYTES - (size_t)pos < max ? BIG_BYTES - (size_t)pos : max;
    memset(buf, ' ', n);
    return (ssize_t)n;
}

/* Verifies a request to /api/<interface> as the counterpart would, records
 * what it saw, and answers like a counterpart. */
static enum MHD_Result serve_api(server *sv, struct MHD_Connection *conn, const char *url,
                                 const bh_buf *body)
{
    const char *name = strrchr(url, '/') + 1;
    const bh_iface *iface = bh_iface_find(name);
    if (!iface)
        return reply(conn, 404, "application/json", "{\"code\":0,\"message\":\"no such path\"}");
    bh_credentials c = creds();
    bh_msg *wire = NULL, *plain = NULL;
    bh_err sign = BH_EJSON, open = BH_EJSON;
    if (bh_msg_parse(body->data ? body->data : "", body->len, BH_MSG_MAX_REQUEST, 0, &wire, NULL) ==
        BH_OK) {
        sign = bh_sign_verify(wire, APPSECRET, NULL);
        open = bh_open(iface, &c, wire, &plain, NULL);
    }
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");

    pthread_mutex_lock(&sv->mu);
    sv->requests++;
    snprintf(sv->last_url, sizeof sv->last_url, "%s", url);
    snprintf(sv->last_content_type, sizeof sv->last_content_type, "%s", ct ? ct : "");
    sv->last_sign = sign;
    sv->last_open = open;
    bh_msg_free(sv->last_wire);
    bh_msg_free(sv->last_plain);
    free(sv->last_body);
    sv->last_wire = wire;
    sv->last_plain = plain;
    sv->last_body = strdup(body->data ? body->data : "");
    pthread_mutex_unlock(&sv->mu);

    if (sign || open)
        return reply(conn, 200, "application/json", "{\"code\":0,\"message\":\"bad request\"}");
    if (!strcmp(name, "baohanapply"))
        return reply(conn, 200, "application/json",
                     "{\"code\":\"1\",\"message\":\"成功\",\"Payurl\":\"" PAYURL "\"}");
    if (!strcmp(name, "getbaohaninfo"))
        return reply(conn, 200, "application/json",
                     "{\"code\":1,\"message\":\"成功\",\"data\":{\"baohanurl\":"
                     "\"https://fi.example.com/f/abc\",\"baohanfile\":\"JVBERi0=\","
                     "\"cost\":300.00,\"list\":[1,2,{\"x\":null}]}}");
    return reply(conn, 200, "application/json", "{\"code\":\"1\",\"message\":\"ok\"}");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    server *sv = cls;
    bh_buf *body = *con_cls;
    if (!body) {
        body = malloc(sizeof *body);
        if (!body)
            return MHD_NO;
        bh_buf_init(body, BH_MSG_MAX_REQUEST);
        *con_cls = body;
        return MHD_YES;
    }
    if (*upload_size) {
        if (bh_buf_add(body, upload, *upload_size) != BH_OK)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }

    if (!strncmp(url, "/api/", 5) && !strcmp(method, "POST"))
        return serve_api(sv, conn, url, body);
    if (!strncmp(url, "/html/", 6))
        /* A proxy's error page, with a control character and a broken
         * UTF-8 byte the client must not copy into its message. */
        return reply(conn, 502, "text/html",
                     "<html><body>Bad Gateway\x1b[31m \xff\xfe nginx</body></html>");
    if (!strncmp(url, "/long/", 6)) {
        /* 300 bytes of three-byte characters: the quote is cut at 200 bytes,
         * which falls inside a character. */
        char text[301];
        for (size_t i = 0; i < 100; i++)
            memcpy(text + 3 * i, "\xE9\x94\x99", 3); /* 错 */
        text[300] = '\0';
        return reply(conn, 500, "text/plain", text);
    }
    if (!strncmp(url, "/big/", 5)) {
        char *big = malloc(BIG_BYTES + 1);
        if (!big)
            return MHD_NO;
        memset(big, ' ', BIG_BYTES);
        big[BIG_BYTES] = '\0';
        enum MHD_Result ret = reply(conn, 200, "application/json", big);
        free(big);
        return ret;
    }
    if (!strncmp(url, "/chunked/", 9)) {
        /* No Content-Length: only the write callback can stop it. */
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, spaces, NULL, NULL);
        if (!r)
            return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(conn, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strncmp(url, "/slow/", 6)) {
        sleep_ms(1500);
        return reply(conn, 200, "application/json", "{\"code\":\"1\",\"message\":\"late\"}");
    }
    if (!strncmp(url, "/redirect/", 10)) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "Location", "https://elsewhere.example/");
        enum MHD_Result ret = MHD_queue_response(conn, 302, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strncmp(url, "/file/", 6) && !strcmp(method, "GET"))
        return reply(conn, 200, "application/pdf", "%PDF-1.7 test");
    return reply(conn, 404, "application/json", "{\"code\":0,\"message\":\"no such path\"}");
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    bh_buf *body = *con_cls;
    if (body) {
        bh_buf_release(body);
        free(body);
        *con_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)conn, (void)socket_context;
    server *sv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&sv->mu);
        sv->connections++;
        pthread_mutex_unlock(&sv->mu);
    }
}

static int server_start(server *sv)
{
    memset(sv, 0, sizeof *sv);
    pthread_mutex_init(&sv->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sv->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                               NULL, NULL, handler, sv, MHD_OPTION_SOCK_ADDR,
                               (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                               MHD_OPTION_NOTIFY_CONNECTION, on_connection, sv, MHD_OPTION_END);
    if (!sv->mhd)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(sv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port)
        return -1;
    sv->port = info->port;
    return 0;
}

static void server_stop(server *sv)
{
    MHD_stop_daemon(sv->mhd);
    bh_msg_free(sv->last_wire);
    bh_msg_free(sv->last_plain);
    free(sv->last_body);
    pthread_mutex_destroy(&sv->mu);
}

static server srv;

static void base_url(char *out, size_t size, const char *path)
{
    snprintf(out, size, "http://127.0.0.1:%u%s", (unsigned)srv.port, path);
}

/* The first problem's message, or "". */
static const char *first_message(const bh_diag *d)
{
    return d->count ? d->items[0].message : "";
}

static const char *first_field(const bh_diag *d)
{
    return d->count ? d->items[0].field : "";
}

/* ---- tests -------------------------------------------------------------- */

static void test_round_trip(void)
{
    bh_client *c = bh_client_new(NULL);
    CHECK(c != NULL);
    bh_credentials cred = creds();
    bh_msg *plain = load_example("baohanapply");
    const bh_iface *iface = bh_iface_find("baohanapply");
    char base[128];
    base_url(base, sizeof base, "/api");

    bh_msg *resp = NULL;
    int status = -1;
    bh_buf wire;
    bh_buf_init(&wire, BH_MSG_MAX_REQUEST);
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_client_call(c, base, iface, &cred, plain, NOW, &resp, &status, &wire, &d), BH_OK);
    CHECK_EQ(d.count, 0);
    CHECK_EQ(status, 200);
    CHECK(resp != NULL);
    if (resp) {
        CHECK_STR(bh_msg_text(resp, "code"), "1");
        /* Payurl read without regard to case, as PROTOCOL.md §2 asks. */
        const bh_field *f = bh_msg_get_nocase(resp, "payurl");
        CHECK(f != NULL);
        if (f)
            CHECK_STR(f->value, PAYURL);
    }

    pthread_mutex_lock(&srv.mu);
    CHECK_EQ(srv.requests, 1);
    CHECK_STR(srv.last_url, "/api/baohanapply");
    CHECK_STR(srv.last_content_type, "application/json; charset=utf-8");
    CHECK_EQ(srv.last_sign, BH_OK);
    CHECK_EQ(srv.last_open, BH_OK);
    CHECK_STR(srv.last_body, wire.data); /* wire_out is exactly what was sent */
    if (srv.last_wire && srv.last_plain) {
        CHECK_STR(bh_msg_text(srv.last_wire, "appkey"), APPKEY);
        CHECK_STR(bh_msg_text(srv.last_wire, "timestamp"), "2026-11-28 10:00:00");
        CHECK(bh_msg_text(srv.last_wire, "sign") != NULL);
        /* 密文 fields travel encrypted, plain ones as they are. */
        const char *sent = bh_msg_text(srv.last_wire, "projectname");
        const char *want = bh_msg_text(plain, "projectname");
        CHECK(sent && want && strcmp(sent, want) != 0);
        CHECK_STR(bh_msg_text(srv.last_plain, "projectname"), want);
        CHECK_STR(bh_msg_text(srv.last_wire, "applyno"), bh_msg_text(plain, "applyno"));
        CHECK_STR(bh_msg_text(srv.last_plain, "tenderercontact"),
                  bh_msg_text(plain, "tenderercontact"));
    } else {
        CHECK(!"the server did not record the request");
    }
    pthread_mutex_unlock(&srv.mu);
    bh_msg_free(resp);
    resp = NULL;

    /* A second call reuses the connection (keep-alive). */
    int before;
    pthread_mutex_lock(&srv.mu);
    before = srv.connections;
    pthread_mutex_unlock(&srv.mu);
    CHECK_EQ(bh_client_call(c, base, iface, &cred, plain, NOW + 1, &resp, &status, NULL, &d),
             BH_OK);
    pthread_mutex_lock(&srv.mu);
    CHECK_EQ(srv.connections, before);
    CHECK_EQ(srv.requests, 2);
    pthread_mutex_unlock(&srv.mu);

    bh_msg_free(resp);
    bh_buf_release(&wire);
    bh_diag_release(&d);
    bh_msg_free(plain);
    bh_client_free(c);
}

static void test_nested_answer(void)
{
    bh_client *c = bh_client_new(NULL);
    bh_credentials cred = creds();
    bh_msg *plain = load_example("getbaohaninfo");
    char base[128];
    base_url(base, sizeof base, "/api");
    bh_msg *resp = NULL;
    int status = 0;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_client_call(c, base, bh_iface_find("getbaohaninfo"), &cred, plain, NOW, &resp,
                            &status, NULL, &d),
             BH_OK);
    CHECK_EQ(status, 200);
    if (resp) {
        const bh_field *code = bh_msg_get(resp, "code");
        CHECK(code && code->type == BH_JNUMBER && !strcmp(code->value, "1"));
        const bh_field *data = bh_msg_get(resp, "data");
        CHECK(data && data->type == BH_JOBJECT);
        bh_msg *inner = NULL;
        if (data)
            CHECK_EQ(bh_msg_parse(data->value, data->value_len, BH_MSG_MAX_REQUEST,
                                  BH_PARSE_ALLOW_NESTED, &inner, NULL),
                     BH_OK);
        if (inner) {
            CHECK_STR(bh_msg_text(inner, "baohanurl"), "https://fi.example.com/f/abc");
            CHECK_STR(bh_msg_text(inner, "cost"), "300.00"); /* the number's text, as sent */
            const bh_field *list = bh_msg_get(inner, "list");
            CHECK(list && list->type == BH_JARRAY);
        }
        bh_msg_free(inner);
    }
    pthread_mutex_lock(&srv.mu);
    CHECK_STR(srv.last_url, "/api/getbaohaninfo");
    CHECK_EQ(srv.last_sign, BH_OK);
    pthread_mutex_unlock(&srv.mu);
    bh_msg_free(resp);
    bh_diag_release(&d);
    bh_msg_free(plain);
    bh_client_free(c);
}

static void test_trailing_slash(void)
{
    bh_client *c = bh_client_new(NULL);
    bh_credentials cred = creds();
    bh_msg *plain = load_example("quitnotice");
    const char *paths[] = {"/api/", "/api//"};
    for (size_t i = 0; i < 2; i++) {
        char base[128];
        base_url(base, sizeof base, paths[i]);
        bh_msg *resp = NULL;
        bh_diag d = BH_DIAG_INIT;
        CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp,
                                NULL, NULL, &d),
                 BH_OK);
        pthread_mutex_lock(&srv.mu);
        CHECK_STR(srv.last_url, "/api/quitnotice");
        CHECK_EQ(srv.last_sign, BH_OK);
        CHECK_EQ(srv.last_open, BH_OK);
        pthread_mutex_unlock(&srv.mu);
        if (resp)
            CHECK_STR(bh_msg_text(resp, "code"), "1");
        bh_msg_free(resp);
        bh_diag_release(&d);
    }
    bh_msg_free(plain);
    bh_client_free(c);
}

static void test_not_json(void)
{
    bh_client *c = bh_client_new(NULL);
    bh_credentials cred = creds();
    bh_msg *plain = load_example("quitnotice");
    char base[128];
    base_url(base, sizeof base, "/html");
    bh_msg *resp = NULL;
    int status = 0;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp, &status,
                            NULL, &d),
             BH_EJSON);
    CHECK(resp == NULL);
    CHECK_EQ(status, 502);
    CHECK_STR(first_field(&d), "response");
    const char *m = first_message(&d);
    CHECK(strstr(m, "502") != NULL);
    CHECK(strstr(m, "Bad Gateway") != NULL);
    /* Printable UTF-8 only: the escape and the broken bytes are gone. */
    CHECK(strchr(m, '\x1b') == NULL);
    CHECK(bh_utf8_valid(m, strlen(m)));
    bh_diag_release(&d);

    /* A long answer is quoted up to 200 bytes, whole characters only. */
    base_url(base, sizeof base, "/long");
    CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp, &status,
                            NULL, &d),
             BH_EJSON);
    CHECK_EQ(status, 500);
    m = first_message(&d);
    const char *q = strchr(m, '"');
    CHECK(q != NULL);
    if (q) {
        size_t n = strlen(q + 1);
        /* 66 characters (198 bytes), "…" and the closing quote */
        CHECK_EQ(n, 198 + 3 + 1);
        CHECK(bh_utf8_valid(q + 1, n));
        CHECK(strstr(q, "\xE2\x80\xA6\"") != NULL);
    }
    bh_diag_release(&d);

    /* A redirect is reported, not followed. */
    base_url(base, sizeof base, "/redirect");
    CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp, &status,
                            NULL, &d),
             BH_EJSON);
    CHECK_EQ(status, 302);
    CHECK(strstr(first_message(&d), "302") != NULL);
    CHECK(strstr(first_message(&d), "redirect") != NULL);
    bh_diag_release(&d);

    /* A 404 with a JSON body is an answer: the status is the caller's. */
    base_url(base, sizeof base, "/nowhere");
    CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp, &status,
                            NULL, &d),
             BH_OK);
    CHECK_EQ(status, 404);
    if (resp)
        CHECK_STR(bh_msg_text(resp, "code"), "0");
    bh_msg_free(resp);
    bh_diag_release(&d);
    bh_msg_free(plain);
    bh_client_free(c);
}

static void test_refused(void)
{
    /* A port bound but not listening: connecting to it is refused, and
     * nobody else can take it while we hold it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    CHECK_EQ(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%u/api", (unsigned)ntohs(sa.sin_port));

    bh_client *c = bh_client_new(NULL);
    bh_credentials cred = creds();
    bh_msg *plain = load_example("quitnotice");
    bh_msg *resp = NULL;
    int status = -1;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp, &status,
                            NULL, &d),
             BH_EIO);
    CHECK(resp == NULL);
    CHECK_EQ(status, 0);
    CHECK_STR(first_field(&d), "url");
    CHECK(strstr(first_message(&d), "127.0.0.1") != NULL);
    bh_diag_release(&d);
    close(fd);
    bh_msg_free(plain);
    bh_client_free(c);
}

static void test_too_big(void)
{
    bh_client_options o = {0, 0, 1000, NULL};
    bh_client *c = bh_client_new(&o);
    bh_credentials cred = creds();
    bh_msg *plain = load_example("quitnotice");
    const char *paths[] = {"/big", "/chunked"};
    for (size_t i = 0; i < 2; i++) {
        char base[128];
        base_url(base, sizeof base, paths[i]);
        bh_msg *resp = NULL;
        int status = 0;
        bh_diag d = BH_DIAG_INIT;
        CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp,
                                &status, NULL, &d),
                 BH_ETOOBIG);
        CHECK(resp == NULL);
        CHECK_STR(first_field(&d), "response");
        CHECK(strstr(first_message(&d), "1000 bytes") != NULL);
        bh_diag_release(&d);
    }

    /* bh_client_post leaves the buffer as it was. */
    char url[128];
    base_url(url, sizeof url, "/chunked/x");
    bh_buf out;
    bh_buf_init(&out, 1 << 20);
    CHECK_EQ(bh_buf_addstr(&out, "kept"), BH_OK);
    int status = 0;
    CHECK_EQ(bh_client_post(c, url, "{}", 2, &status, &out, NULL), BH_ETOOBIG);
    CHECK_STR(out.data, "kept");
    bh_buf_release(&out);

    /* And the handle still works afterwards. */
    base_url(url, sizeof url, "/file/x");
    bh_buf_init(&out, 1 << 20);
    CHECK_EQ(bh_client_get(c, url, &status, &out, NULL), BH_OK);
    CHECK_EQ(status, 200);
    CHECK_STR(out.data, "%PDF-1.7 test");
    bh_buf_release(&out);
    bh_msg_free(plain);
    bh_client_free(c);
}

static void test_timeout(void)
{
    bh_client_options o = {1000, 200, 0, NULL};
    bh_client *c = bh_client_new(&o);
    bh_credentials cred = creds();
    bh_msg *plain = load_example("quitnotice");
    char base[128];
    base_url(base, sizeof base, "/slow");
    bh_msg *resp = NULL;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp, NULL,
                            NULL, &d),
             BH_EIO);
    CHECK(resp == NULL);
    CHECK_STR(first_field(&d), "url");
    CHECK(strstr(first_message(&d), "200 ms") != NULL);
    bh_diag_release(&d);
    bh_msg_free(plain);
    bh_client_free(c);
}

static void test_seal_error_sends_nothing(void)
{
    bh_client *c = bh_client_new(NULL);
    bh_credentials cred = creds();
    bh_msg *plain = load_example("quitnotice");
    CHECK_EQ(bh_msg_remove(plain, "baohanno"), 1);
    char base[128];
    base_url(base, sizeof base, "/api");
    pthread_mutex_lock(&srv.mu);
    int before = srv.requests;
    pthread_mutex_unlock(&srv.mu);
    bh_msg *resp = NULL;
    bh_buf wire;
    bh_buf_init(&wire, 1 << 20);
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_client_call(c, base, bh_iface_find("quitnotice"), &cred, plain, NOW, &resp, NULL,
                            &wire, &d),
             BH_EMISSING);
    CHECK(bh_diag_find(&d, "baohanno") != NULL);
    CHECK_EQ(wire.len, 0);
    pthread_mutex_lock(&srv.mu);
    CHECK_EQ(srv.requests, before);
    pthread_mutex_unlock(&srv.mu);
    bh_buf_release(&wire);
    bh_diag_release(&d);
    bh_msg_free(plain);
    bh_client_free(c);
}

int main(void)
{
    CHECK_EQ(bh_sm4_key_parse(SM4KEY, &test_cred.key, NULL, "key"), BH_OK);
    if (server_start(&srv) != 0) {
        fprintf(stderr, "cannot start the test server on 127.0.0.1\n");
        return 2;
    }
    RUN(test_round_trip);
    RUN(test_nested_answer);
    RUN(test_trailing_slash);
    RUN(test_not_json);
    RUN(test_refused);
    RUN(test_too_big);
    RUN(test_timeout);
    RUN(test_seal_error_sends_nothing);
    server_stop(&srv);
    return CHECK_DONE();
}
