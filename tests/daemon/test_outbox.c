/* The outbox worker against the SQLite store and a test receiver (a small
 * libmicrohttpd server on 127.0.0.1 standing in for the platform): it checks
 * every notice's signature and opens its encrypted fields, and can be told
 * to fail, to answer code 0 or to answer slowly. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "baohan/baohan.h"
#include "check.h"
#include "config.h"
#include "outbox.h"
#include "store.h"

#define APPKEY "PF001"
#define APPSECRET "s3cr3t-PF001"
#define SM4KEY "qhAej/h6yk3mVsUpM+khUQ=="
/* A generous limit for the worker to get somewhere (liveness, not speed). */
#define WAIT_LIMIT_MS 20000

/* ---- the receiver ------------------------------------------------------------ */

#define MAX_SEEN 128

typedef struct seen {
    char applyno[64];
    char iface[32];
    int valid; /* requests that passed signature and decryption */
    int ok;    /* of which answered code 1 */
} seen;

typedef struct receiver {
    struct MHD_Daemon *mhd;
    unsigned short port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* knobs */
    int fail_next;  /* the next N requests fail */
    int fail_code0; /* fail with code 0 (HTTP 200) rather than HTTP 500; 2: a long message */
    long delay_ms;  /* answer this late */
    /* what it saw */
    int entered; /* requests that reached the handler */
    int invalid; /* requests that failed signature or decryption */
    seen seen[MAX_SEEN];
    size_t nseen;
} receiver;

static receiver rx;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Parsed once in main(): the server threads must not run CHECKs. */
static bh_credentials test_cred = {APPKEY, APPSECRET, {{0}}};

static bh_credentials creds(void)
{
    return test_cred;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json;charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static seen *seen_for(const char *iface, const char *applyno)
{
    for (size_t i = 0; i < rx.nseen; i++)
        if (!strcmp(rx.seen[i].applyno, applyno) && !strcmp(rx.seen[i].iface, iface))
            return &rx.seen[i];
    if (rx.nseen == MAX_SEEN)
        return NULL;
    seen *s = &rx.seen[rx.nseen++];
    memset(s, 0, sizeof *s);
    snprintf(s->applyno, sizeof s->applyno, "%s", applyno);
    snprintf(s->iface, sizeof s->iface, "%s", iface);
    return s;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)cls, (void)version, (void)method;
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

    pthread_mutex_lock(&rx.mu);
    rx.entered++;
    long delay = rx.delay_ms;
    pthread_cond_broadcast(&rx.cv);
    pthread_mutex_unlock(&rx.mu);
    if (delay)
        sleep_ms(delay);

    /* Check the notice as the platform would. */
    const char *name = strrchr(url, '/') + 1;
    const bh_iface *iface = bh_iface_find(name);
    bh_credentials c = creds();
    bh_msg *wire = NULL, *plain = NULL;
    int valid = iface &&
                bh_msg_parse(body->data ? body->data : "", body->len, BH_MSG_MAX_REQUEST, 0, &wire,
                             NULL) == BH_OK &&
                bh_sign_verify(wire, APPSECRET, NULL) == BH_OK &&
                bh_open(iface, &c, wire, &plain, NULL) == BH_OK &&
                bh_check_timestamp(wire, bh_time_now(), 300, NULL) == BH_OK;

    pthread_mutex_lock(&rx.mu);
    const char *answer = "{\"code\":\"1\",\"message\":\"成功\"}";
    unsigned status = 200;
    if (!valid) {
        rx.invalid++;
        answer = "{\"code\":\"0\",\"message\":\"签名错误\"}";
    } else {
        seen *s = seen_for(name, bh_msg_text(plain, "applyno"));
        if (s)
            s->valid++;
        if (rx.fail_next > 0) {
            rx.fail_next--;
            if (rx.fail_code0 == 2) {
                /* 601 bytes of message: more than last_error keeps, and the cut
                 * falls inside a character. */
                static char long_answer[1024];
                size_t n = (size_t)snprintf(long_answer, sizeof long_answer,
                                            "{\"code\":\"0\",\"message\":\"x");
                for (int k = 0; k < 200; k++, n += 3)
                    memcpy(long_answer + n, "\xE9\x94\x99", 3);
                snprintf(long_answer + n, sizeof long_answer - n, "\"}");
                answer = long_answer;
            } else if (rx.fail_code0) {
                answer = "{\"code\":0,\"message\":\"系统繁忙\\n请稍后\"}";
            } else {
                status = 500;
                answer = "<html>Internal Server Error</html>";
            }
        } else if (s) {
            s->ok++;
        }
    }
    pthread_cond_broadcast(&rx.cv);
    pthread_mutex_unlock(&rx.mu);
    bh_msg_free(wire);
    bh_msg_free(plain);
    return reply(conn, status, answer);
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

static int receiver_start(void)
{
    pthread_mutex_init(&rx.mu, NULL);
    pthread_cond_init(&rx.cv, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rx.mhd =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!rx.mhd)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(rx.mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port)
        return -1;
    rx.port = info->port;
    return 0;
}

static void receiver_reset(int fail_next, int fail_code0, long delay_ms)
{
    pthread_mutex_lock(&rx.mu);
    rx.fail_next = fail_next;
    rx.fail_code0 = fail_code0;
    rx.delay_ms = delay_ms;
    pthread_mutex_unlock(&rx.mu);
}

/* What the receiver saw for one notice. */
static seen receiver_seen(const char *iface, const char *applyno)
{
    seen out;
    memset(&out, 0, sizeof out);
    pthread_mutex_lock(&rx.mu);
    for (size_t i = 0; i < rx.nseen; i++)
        if (!strcmp(rx.seen[i].applyno, applyno) && !strcmp(rx.seen[i].iface, iface))
            out = rx.seen[i];
    pthread_mutex_unlock(&rx.mu);
    return out;
}

static int receiver_entered(void)
{
    pthread_mutex_lock(&rx.mu);
    int n = rx.entered;
    pthread_mutex_unlock(&rx.mu);
    return n;
}

/* ---- the store and the configuration ------------------------------------------- */

static char tmpdir[64];
static bh_store *store;
static bh_counterpart counterpart;
static bh_config cfg;
static char receiver_url[64];

static bh_store *open_store(void)
{
    char db[128], files[128];
    snprintf(db, sizeof db, "%s/baohan.db", tmpdir);
    snprintf(files, sizeof files, "%s/files", tmpdir);
    bh_store *s = NULL;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_store_open(db, files, &s, &d), BH_OK);
    for (size_t i = 0; i < d.count; i++)
        fprintf(stderr, "store: %s: %s\n", d.items[i].field, d.items[i].message);
    bh_diag_release(&d);
    return s;
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bh-outbox-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(2);
    }
    store = open_store();
    if (!store)
        exit(2);
    snprintf(receiver_url, sizeof receiver_url, "http://127.0.0.1:%u/notify/", (unsigned)rx.port);
    counterpart.name = "zhangzhou";
    counterpart.appkey = APPKEY;
    counterpart.appsecret = APPSECRET;
    counterpart.key = creds().key;
    counterpart.url = receiver_url;
    cfg.role = BH_ROLE_INSTITUTION;
    cfg.counterparts = &counterpart;
    cfg.ncounterparts = 1;
    cfg.retry_base_ms = 1000;
    cfg.retry_max_ms = 600000;
    cfg.flag_after = 86400;
}

static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        remove_tree(sub);
    }
    closedir(dir);
    rmdir(path);
}

/* Queues a notice the way a handler does: an application and its notice in
 * one unit of work. */
typedef struct queue_ctx {
    const char *appkey, *iface, *applyno;
    int64_t created_at;
    int64_t notice_id;
} queue_ctx;

static bh_err queue_fn(bh_tx *tx, void *arg)
{
    queue_ctx *q = arg;
    static int serial;
    char token[33], plain[512];
    snprintf(token, sizeof token, "%032x", ++serial);
    bh_app app;
    memset(&app, 0, sizeof app);
    app.appkey = (char *)q->appkey;
    app.applyno = (char *)q->applyno;
    app.content_hash = "0";
    app.state = BH_APP_ISSUED;
    app.pay_token = token;
    app.request_json = "{}";
    app.bzjamount_fen = 2000000;
    app.premium_fen = 30000;
    app.created_at = q->created_at;
    bh_err err = bh_tx_app_insert(tx, &app);
    if (err)
        return err;
    if (!strcmp(q->iface, "quitnotice"))
        snprintf(plain, sizeof plain, "{\"applyno\":\"%s\",\"baohanno\":\"BH%s\"}", q->applyno,
                 q->applyno);
    else
        snprintf(plain, sizeof plain,
                 "{\"applyno\":\"%s\",\"baohanno\":\"BH%s\",\"instname\":\"某某财产保险股份有限"
                 "公司漳州中心支公司\",\"generatetime\":\"2026-11-28 15:42:10\","
                 "\"applystatus\":\"1\"}",
                 q->applyno, q->applyno);
    return bh_tx_notice_add(tx, app.id, q->appkey, q->iface, plain, q->created_at, &q->notice_id);
}

static int64_t queue(const char *appkey, const char *iface, const char *applyno, int64_t created_at)
{
    queue_ctx q = {appkey, iface, applyno, created_at, 0};
    CHECK_EQ(bh_store_write(store, queue_fn, &q), BH_OK);
    return q.notice_id;
}

typedef struct find_ctx {
    int64_t id;
    bh_notice found;
    int have;
} find_ctx;

static bh_err find_fn(bh_tx *tx, void *arg)
{
    find_ctx *f = arg;
    bh_notice *list = NULL;
    size_t n = 0;
    bh_err err = bh_tx_notice_list(tx, NULL, 1000, &list, &n);
    for (size_t i = 0; !err && i < n; i++) {
        if (list[i].id == f->id) {
            f->found = list[i];
            memset(&list[i], 0, sizeof list[i]); /* ownership moves to f */
            f->have = 1;
        }
    }
    bh_notice_list_free(list, n);
    return err;
}

/* The notice's current row (release it); attempts == -1 when not found. */
static bh_notice notice(int64_t id)
{
    find_ctx f;
    memset(&f, 0, sizeof f);
    f.id = id;
    CHECK_EQ(bh_store_read(store, find_fn, &f), BH_OK);
    if (!f.have)
        f.found.attempts = -1;
    return f.found;
}

/* Waits until the notice has at least `attempts` attempts recorded. */
static bh_notice wait_attempts(int64_t id, int attempts)
{
    for (int waited = 0;; waited += 20) {
        bh_notice n = notice(id);
        if (n.attempts >= attempts || waited >= WAIT_LIMIT_MS) {
            CHECK(n.attempts >= attempts);
            return n;
        }
        bh_notice_release(&n);
        sleep_ms(20);
    }
}

static bh_err retry_fn(bh_tx *tx, void *arg)
{
    return bh_tx_notice_retry(tx, *(int64_t *)arg, bh_time_now());
}

/* An operator's retry: due now. */
static void operator_retry(int64_t id)
{
    CHECK_EQ(bh_store_write(store, retry_fn, &id), BH_OK);
}

static bh_err audit_fn(bh_tx *tx, void *arg)
{
    return bh_tx_audit_count(tx, arg);
}

static int64_t audit_rows(void)
{
    int64_t n = -1;
    CHECK_EQ(bh_store_read(store, audit_fn, &n), BH_OK);
    return n;
}

/* A log that the test can read back. */
typedef struct logbuf {
    char *text;
    size_t len;
    FILE *f;
} logbuf;

static void log_open(logbuf *l)
{
    l->text = NULL;
    l->len = 0;
    l->f = open_memstream(&l->text, &l->len);
    CHECK(l->f != NULL);
}

static void log_close(logbuf *l)
{
    fclose(l->f);
    free(l->text);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_backoff(void)
{
    bh_config c;
    memset(&c, 0, sizeof c);
    c.retry_base_ms = 1000;
    c.retry_max_ms = 600000;
    CHECK_EQ(bh_outbox_backoff_ms(&c, 0), 0);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 1), 1000);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 2), 2000);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 3), 4000);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 10), 512000);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 11), 600000);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 1000), 600000);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 2147483647), 600000);
    c.retry_base_ms = 250;
    c.retry_max_ms = 3000;
    CHECK_EQ(bh_outbox_backoff_ms(&c, 4), 2000);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 5), 3000);
    /* No overflow when the cap is huge. */
    c.retry_base_ms = 1000;
    c.retry_max_ms = INT64_MAX;
    CHECK_EQ(bh_outbox_backoff_ms(&c, 40), 1000LL << 39);
    CHECK(bh_outbox_backoff_ms(&c, 100) > 0);
    /* Unset values take the documented defaults (1 s, 10 min). */
    memset(&c, 0, sizeof c);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 1), 1000);
    CHECK_EQ(bh_outbox_backoff_ms(&c, 30), 600000);
}

static void test_delivered_once(void)
{
    receiver_reset(0, 0, 0);
    int64_t audit_before = audit_rows();
    int64_t id = queue(APPKEY, "baohannotice", "ONCE-1", bh_time_now());
    logbuf log;
    log_open(&log);
    bh_outbox *o = NULL;
    CHECK_EQ(bh_outbox_start(store, &cfg, log.f, &o), BH_OK);
    bh_outbox_kick(o);
    bh_notice n = wait_attempts(id, 1);
    CHECK_EQ(n.state, BH_NOTICE_DELIVERED);
    CHECK_EQ(n.attempts, 1);
    CHECK(n.delivered_at > 0);
    CHECK(n.last_error == NULL);
    bh_notice_release(&n);

    /* Nothing more to do, and nothing is sent again. */
    CHECK_EQ(bh_outbox_run_once(o), 0);
    bh_outbox_kick(o);
    bh_outbox_stop(o);
    seen s = receiver_seen("baohannotice", "ONCE-1");
    CHECK_EQ(s.valid, 1);
    CHECK_EQ(s.ok, 1);
    CHECK_EQ(audit_rows(), audit_before + 1);

    fflush(log.f);
    CHECK(log.text && strstr(log.text, "outbox baohannotice appkey=PF001 applyno=ONCE-1 "
                                       "delivered attempts=1") != NULL);
    CHECK(log.text && strstr(log.text, APPSECRET) == NULL);
    log_close(&log);
}

static void test_retry_with_backoff(void)
{
    /* A long base so that the worker never retries on its own during the
     * test: each next try is made due by an operator's retry instead. */
    cfg.retry_base_ms = 60000;
    receiver_reset(1, 0, 0); /* the first attempt fails with HTTP 500 … */
    int64_t id = queue(APPKEY, "quitnotice", "RETRY-1", bh_time_now());
    bh_outbox *o = NULL;
    int64_t before = bh_time_now();
    CHECK_EQ(bh_outbox_start(store, &cfg, NULL, &o), BH_OK);
    bh_notice n = wait_attempts(id, 1);
    int64_t after = bh_time_now();
    CHECK_EQ(n.state, BH_NOTICE_PENDING);
    CHECK_EQ(n.attempts, 1);
    /* 60 s ± 50% */
    CHECK(n.next_attempt_at >= before + 30 && n.next_attempt_at <= after + 90);
    CHECK(n.last_error && strstr(n.last_error, "500") != NULL);
    bh_notice_release(&n);

    receiver_reset(1, 1, 0); /* … the second answers code 0 … */
    before = bh_time_now();
    operator_retry(id);
    bh_outbox_kick(o);
    n = wait_attempts(id, 2);
    after = bh_time_now();
    CHECK_EQ(n.state, BH_NOTICE_PENDING);
    CHECK_EQ(n.attempts, 2);
    /* 120 s ± 50% */
    CHECK(n.next_attempt_at >= before + 60 && n.next_attempt_at <= after + 180);
    CHECK(n.last_error && strstr(n.last_error, "code 0") != NULL);
    CHECK(n.last_error && strstr(n.last_error, "系统繁忙") != NULL);
    CHECK(n.last_error && strchr(n.last_error, '\n') == NULL);
    bh_notice_release(&n);

    /* Not due yet: a pass leaves it alone. */
    CHECK_EQ(bh_outbox_run_once(o), 0);

    receiver_reset(0, 0, 0); /* … and then the platform recovers. */
    operator_retry(id);
    bh_outbox_kick(o);
    n = wait_attempts(id, 3);
    CHECK_EQ(n.state, BH_NOTICE_DELIVERED);
    CHECK_EQ(n.attempts, 3);
    bh_notice_release(&n);
    bh_outbox_stop(o);

    seen s = receiver_seen("quitnotice", "RETRY-1");
    CHECK_EQ(s.valid, 3);
    CHECK_EQ(s.ok, 1);
    cfg.retry_base_ms = 1000;
}

static void test_flagged(void)
{
    cfg.flag_after = 600;
    receiver_reset(1, 2, 0);
    /* Queued 15 minutes ago and never delivered. */
    int64_t id = queue(APPKEY, "baohannotice", "FLAG-1", bh_time_now() - 900);
    logbuf log;
    log_open(&log);
    bh_outbox *o = NULL;
    CHECK_EQ(bh_outbox_start(store, &cfg, log.f, &o), BH_OK);
    bh_notice n = wait_attempts(id, 1);
    CHECK_EQ(n.state, BH_NOTICE_FLAGGED);
    CHECK_EQ(n.attempts, 1);
    CHECK(n.last_error && strstr(n.last_error, "code 0") != NULL);
    /* The long message is cut, between characters. */
    CHECK(n.last_error && strlen(n.last_error) < 400 && strlen(n.last_error) > 300);
    CHECK(n.last_error && bh_utf8_valid(n.last_error, strlen(n.last_error)));
    bh_notice_release(&n);

    /* Flagged notices wait for an operator. */
    CHECK_EQ(bh_outbox_run_once(o), 0);
    n = notice(id);
    CHECK_EQ(n.state, BH_NOTICE_FLAGGED);
    bh_notice_release(&n);

    /* The operator's retry sends it again. */
    operator_retry(id);
    bh_outbox_kick(o);
    n = wait_attempts(id, 2);
    CHECK_EQ(n.state, BH_NOTICE_DELIVERED);
    bh_notice_release(&n);
    bh_outbox_stop(o);
    seen s = receiver_seen("baohannotice", "FLAG-1");
    CHECK_EQ(s.valid, 2);
    CHECK_EQ(s.ok, 1);
    fflush(log.f);
    CHECK(log.text && strstr(log.text, "applyno=FLAG-1 flagged attempts=1") != NULL);
    log_close(&log);
    cfg.flag_after = 86400;
}

static void test_unknown_appkey(void)
{
    receiver_reset(0, 0, 0);
    int before = receiver_entered();
    int64_t id = queue("NOPE9", "baohannotice", "UNKNOWN-1", bh_time_now() - 60);
    bh_outbox *o = NULL;
    CHECK_EQ(bh_outbox_start(store, &cfg, NULL, &o), BH_OK);
    bh_notice n = wait_attempts(id, 1);
    CHECK_EQ(n.state, BH_NOTICE_PENDING);
    CHECK(n.last_error && strstr(n.last_error, "no counterpart") != NULL);
    CHECK(n.last_error && strstr(n.last_error, "NOPE9") != NULL);
    CHECK(n.next_attempt_at > n.created_at);
    bh_notice_release(&n);
    bh_outbox_stop(o);
    CHECK_EQ(receiver_entered(), before);

    /* Undeliverable notices still end up flagged (this one is retried a
     * second or two later, 1 s ± 50% rounded up to whole seconds). */
    cfg.flag_after = 30;
    CHECK_EQ(bh_outbox_start(store, &cfg, NULL, &o), BH_OK);
    n = wait_attempts(id, 2);
    CHECK_EQ(n.state, BH_NOTICE_FLAGGED);
    CHECK_EQ(n.attempts, 2);
    bh_notice_release(&n);
    bh_outbox_stop(o);
    cfg.flag_after = 86400;
}

static void test_stop(void)
{
    /* Stopping an idle worker, at once and after it has slept a little. */
    bh_outbox *o = NULL;
    CHECK_EQ(bh_outbox_start(store, &cfg, NULL, &o), BH_OK);
    bh_outbox_stop(o);
    CHECK_EQ(bh_outbox_start(store, &cfg, NULL, &o), BH_OK);
    sleep_ms(50);
    bh_outbox_kick(o);
    bh_outbox_stop(o);
    bh_outbox_stop(NULL);
    CHECK_EQ(bh_outbox_run_once(NULL), 0);
}

/* Stops while a delivery is in flight: that attempt finishes and is
 * recorded, the others are left for later; then a new worker on a reopened
 * store delivers what was pending, each notice once. */
static void test_stop_in_flight_and_restart(void)
{
    receiver_reset(0, 0, 800);
    int entered = receiver_entered();
    int64_t ids[3];
    const char *applynos[3] = {"STOP-1", "STOP-2", "STOP-3"};
    for (int i = 0; i < 3; i++)
        ids[i] = queue(APPKEY, "baohannotice", applynos[i], bh_time_now());
    bh_outbox *o = NULL;
    CHECK_EQ(bh_outbox_start(store, &cfg, NULL, &o), BH_OK);
    pthread_mutex_lock(&rx.mu);
    for (int waited = 0; rx.entered == entered && waited < WAIT_LIMIT_MS; waited += 10) {
        pthread_mutex_unlock(&rx.mu);
        sleep_ms(10);
        pthread_mutex_lock(&rx.mu);
    }
    CHECK(rx.entered == entered + 1);
    pthread_mutex_unlock(&rx.mu);
    bh_outbox_stop(o);

    /* Exactly one request was made; it completed and was recorded. */
    CHECK_EQ(receiver_entered(), entered + 1);
    int delivered = 0, untouched = 0;
    for (int i = 0; i < 3; i++) {
        bh_notice n = notice(ids[i]);
        if (n.state == BH_NOTICE_DELIVERED && n.attempts == 1)
            delivered++;
        if (n.state == BH_NOTICE_PENDING && n.attempts == 0)
            untouched++;
        bh_notice_release(&n);
    }
    CHECK_EQ(delivered, 1);
    CHECK_EQ(untouched, 2);

    /* A restart: the store closed and reopened, a new worker. */
    bh_store_close(store);
    store = open_store();
    receiver_reset(0, 0, 0);
    CHECK_EQ(bh_outbox_start(store, &cfg, NULL, &o), BH_OK);
    for (int i = 0; i < 3; i++) {
        bh_notice n = wait_attempts(ids[i], 1);
        CHECK_EQ(n.state, BH_NOTICE_DELIVERED);
        CHECK_EQ(n.attempts, 1);
        bh_notice_release(&n);
    }
    CHECK_EQ(bh_outbox_run_once(o), 0);
    bh_outbox_stop(o);
    for (int i = 0; i < 3; i++) {
        seen s = receiver_seen("baohannotice", applynos[i]);
        CHECK_EQ(s.valid, 1);
        CHECK_EQ(s.ok, 1);
    }
}

/* bh_outbox_run_once delivers what is due, synchronously, alongside the
 * worker (passes never overlap). */
static void test_run_once(void)
{
    receiver_reset(0, 0, 0);
    bh_outbox *o = NULL;
    CHECK_EQ(bh_outbox_start(store, &cfg, NULL, &o), BH_OK);
    size_t attempted = 0;
    int64_t ids[40];
    char applyno[40][16];
    /* More than one batch. */
    for (int i = 0; i < 40; i++) {
        snprintf(applyno[i], sizeof applyno[i], "RUN-%d", i);
        ids[i] = queue(APPKEY, "quitnotice", applyno[i], bh_time_now());
    }
    attempted = bh_outbox_run_once(o);
    CHECK(attempted <= 40);
    for (int i = 0; i < 40; i++) {
        bh_notice n = wait_attempts(ids[i], 1);
        CHECK_EQ(n.state, BH_NOTICE_DELIVERED);
        CHECK_EQ(n.attempts, 1);
        bh_notice_release(&n);
        seen s = receiver_seen("quitnotice", applyno[i]);
        CHECK_EQ(s.valid, 1);
    }
    bh_outbox_stop(o);
    pthread_mutex_lock(&rx.mu);
    CHECK_EQ(rx.invalid, 0);
    pthread_mutex_unlock(&rx.mu);
}

int main(void)
{
    CHECK_EQ(bh_sm4_key_parse(SM4KEY, &test_cred.key, NULL, "key"), BH_OK);
    if (receiver_start() != 0) {
        fprintf(stderr, "cannot start the test receiver on 127.0.0.1\n");
        return 2;
    }
    setup();
    RUN(test_backoff);
    RUN(test_delivered_once);
    RUN(test_retry_with_backoff);
    RUN(test_flagged);
    RUN(test_unknown_appkey);
    RUN(test_stop);
    RUN(test_stop_in_flight_and_restart);
    RUN(test_run_once);
    bh_store_close(store);
    MHD_stop_daemon(rx.mhd);
    pthread_cond_destroy(&rx.cv);
    pthread_mutex_destroy(&rx.mu);
    remove_tree(tmpdir);
    return CHECK_DONE();
}
