/* A harness for black-box tests: baohand runs as its own process on
 * 127.0.0.1 with a configuration written to a temporary directory; the test
 * talks to it over HTTP only — the protocol with requests sealed by the
 * library, the pay page and downloads with libcurl, the admin API with its
 * bearer token — and plays the platform with a receiver that checks every
 * notice's signature. Include once per test program. */
#ifndef BAOHAN_TEST_E2E_H
#define BAOHAN_TEST_E2E_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "baohan/baohan.h"
#include "check.h"
#include "fixtures.h"
#include "http.h"

/* Every helper may go unused in a given test program. */
#define E2E_FN static __attribute__((unused))

#define E2E_APPKEY "FI001"
#define E2E_APPSECRET "s3cr3t-FI001"
#define E2E_SM4KEY "0123456789abcdeffedcba9876543210"
#define E2E_TOKEN "test-admin-token-0123456789abcdef"
#define E2E_INSTNAME "测试财产保险股份有限公司漳州中心支公司"
#define E2E_ACCOUNT "6222020200112233445"

E2E_FN void e2e_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A port that was free a moment ago (bound to 0, read, closed). */
E2E_FN int e2e_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        fprintf(stderr, "e2e: no free port\n");
        exit(2);
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- the platform's receiver ---------------------------------------------- */

#define E2E_MAX_NOTICES 256

typedef struct e2e_notice {
    char iface[32];
    char applyno[64];
    char baohanno[64];
    char applystatus[4];
} e2e_notice;

typedef struct e2e_receiver {
    bh_http_server *server;
    int port;
    pthread_mutex_t mu;
    int fail; /* answer HTTP 500 while set */
    int bad_signatures;
    int count;
    e2e_notice notices[E2E_MAX_NOTICES];
} e2e_receiver;

E2E_FN void e2e_receive(void *ctx, const bh_http_request *req, bh_http_response *resp)
{
    e2e_receiver *r = ctx;
    pthread_mutex_lock(&r->mu);
    int fail = r->fail;
    pthread_mutex_unlock(&r->mu);
    if (fail) {
        bh_http_reply(resp, 500, 0, "the platform is down (test)");
        return;
    }
    const char *name = strrchr(req->path, '/');
    const bh_iface *iface = bh_iface_find(name ? name + 1 : "");
    bh_msg *wire = NULL, *plain = NULL;
    bh_credentials cred = {E2E_APPKEY, E2E_APPSECRET, {{0}}};
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_sm4_key_parse(E2E_SM4KEY, &cred.key, NULL, "key");
    if (!err && iface)
        err = bh_msg_parse(req->body, req->body_len, BH_MSG_MAX_REQUEST, 0, &wire, &d);
    if (!err && iface)
        err = bh_open(iface, &cred, wire, &plain, &d);
    if (!iface || err) {
        pthread_mutex_lock(&r->mu);
        r->bad_signatures++;
        pthread_mutex_unlock(&r->mu);
        bh_http_reply(resp, 200, 0, d.count ? d.items[0].message : "bad request");
    } else {
        pthread_mutex_lock(&r->mu);
        if (r->count < E2E_MAX_NOTICES) {
            e2e_notice *n = &r->notices[r->count++];
            const char *v;
            snprintf(n->iface, sizeof n->iface, "%s", iface->name);
            snprintf(n->applyno, sizeof n->applyno, "%s",
                     (v = bh_msg_text(plain, "applyno")) ? v : "");
            snprintf(n->baohanno, sizeof n->baohanno, "%s",
                     (v = bh_msg_text(plain, "baohanno")) ? v : "");
            snprintf(n->applystatus, sizeof n->applystatus, "%s",
                     (v = bh_msg_text(plain, "applystatus")) ? v : "");
        }
        pthread_mutex_unlock(&r->mu);
        bh_http_reply(resp, 200, 1, "成功");
    }
    bh_msg_free(wire);
    bh_msg_free(plain);
    bh_diag_release(&d);
}

E2E_FN void e2e_receiver_start(e2e_receiver *r, int port)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    bh_http_options o = {
        .listen = listen, .max_body = 1 << 20, .threads = 4, .handler = e2e_receive, .ctx = r};
    if (bh_http_start(&o, &r->server, NULL) != BH_OK) {
        fprintf(stderr, "e2e: the receiver cannot listen on %s\n", listen);
        exit(2);
    }
    r->port = bh_http_port(r->server);
}

E2E_FN void e2e_receiver_stop(e2e_receiver *r)
{
    bh_http_stop(r->server);
    r->server = NULL;
    pthread_mutex_destroy(&r->mu);
}

E2E_FN void e2e_receiver_fail(e2e_receiver *r, int fail)
{
    pthread_mutex_lock(&r->mu);
    r->fail = fail;
    pthread_mutex_unlock(&r->mu);
}

/* How many notices of `iface` for `applyno` arrived (waiting up to
 * `wait_ms` for at least one). A copy of the last goes to `out`. */
E2E_FN int e2e_notices(e2e_receiver *r, const char *iface, const char *applyno, long wait_ms,
                       e2e_notice *out)
{
    for (long waited = 0;; waited += 50) {
        int found = 0;
        pthread_mutex_lock(&r->mu);
        for (int i = 0; i < r->count; i++)
            if (strcmp(r->notices[i].iface, iface) == 0 &&
                strcmp(r->notices[i].applyno, applyno) == 0) {
                found++;
                if (out)
                    *out = r->notices[i];
            }
        pthread_mutex_unlock(&r->mu);
        if (found || waited >= wait_ms)
            return found;
        e2e_sleep_ms(50);
    }
}

/* ---- the daemon ------------------------------------------------------------- */

typedef struct e2e_daemon {
    char dir[256];
    char config[320];
    char url[64];
    char admin_url[64];
    int port, admin_port;
    pid_t pid;
} e2e_daemon;

/* The key type of the test certificate an institution's guarantees are
 * signed with; set it before e2e_daemon_start() or e2e_write_config(). The
 * test material (bh_pki_init) is in <dir>/pki: ca.pem is the CA to trust. */
static bh_key_alg e2e_signing_alg __attribute__((unused)) = BH_KEY_EC;

/* The daemon's configuration file, open for writing (owner-only once closed). */
E2E_FN FILE *e2e_config_open(const e2e_daemon *d)
{
    FILE *f = fopen(d->config, "w");
    if (!f) {
        fprintf(stderr, "e2e: cannot write %s\n", d->config);
        exit(2);
    }
    return f;
}

E2E_FN void e2e_config_close(const e2e_daemon *d, FILE *f)
{
    fclose(f);
    chmod(d->config, 0600);
}

/* Test signing material in <dir>/pki, made once (a restart keeps it). */
E2E_FN void e2e_make_pki(const e2e_daemon *d)
{
    char pki[300], cert[340];
    snprintf(pki, sizeof pki, "%s/pki", d->dir);
    snprintf(cert, sizeof cert, "%s/" BH_PKI_CERT, pki);
    if (access(cert, F_OK) == 0)
        return;
    bh_diag diag = BH_DIAG_INIT;
    if (bh_pki_init(pki, e2e_signing_alg, E2E_INSTNAME, bh_time_now(), &diag) != BH_OK) {
        fprintf(stderr, "e2e: cannot make the test certificates: %s\n",
                diag.count ? diag.items[0].message : "?");
        exit(2);
    }
    bh_diag_release(&diag);
}

/* An institution's configuration, signing with the test material of
 * e2e_make_pki (made here if it is not there yet). */
E2E_FN void e2e_write_config(e2e_daemon *d, int receiver_port, const char *extra)
{
    e2e_make_pki(d);
    FILE *f = e2e_config_open(d);
    fprintf(f,
            "[server]\nrole = institution\nlisten = 127.0.0.1:%d\npublic_url = %s\n"
            "data_dir = %s/data\ntimestamp_window = 300\n\n"
            "[admin]\nlisten = 127.0.0.1:%d\ntoken = %s\n\n"
            "[institution]\nname = %s\nbank = 中国工商银行漳州分行\naccount_name = %s\n"
            "account_no = 1406020109000012345\npremium_rate = 0.0015\nmin_premium = 300\n"
            "baohanno_pattern = BH{yyyy}{seq:6}\n%s\n\n"
            "[outbox]\nretry_base = 100\nretry_max = 500\nflag_after = 3600\n\n"
            "[signing]\ncert = pki/" BH_PKI_CERT "\nkey = pki/" BH_PKI_KEY
            "\nchain = pki/" BH_PKI_CHAIN "\n\n"
            "[platform zz]\nappkey = %s\nappsecret = %s\nsm4_key = %s\n"
            "url = http://127.0.0.1:%d\n",
            d->port, d->url, d->dir, d->admin_port, E2E_TOKEN, E2E_INSTNAME, E2E_INSTNAME,
            extra ? extra : "underwriting = manual", E2E_APPKEY, E2E_APPSECRET, E2E_SM4KEY,
            receiver_port);
    e2e_config_close(d, f);
}

E2E_FN int e2e_healthy(const char *url)
{
    bh_client *c = bh_client_new(NULL);
    bh_buf out;
    bh_buf_init(&out, 4096);
    char u[128];
    snprintf(u, sizeof u, "%s/healthz", url);
    int status = 0;
    bh_err err = c ? bh_client_get(c, u, &status, &out, NULL) : BH_ENOMEM;
    bh_buf_release(&out);
    bh_client_free(c);
    return err == BH_OK && status == 200;
}

/* Starts (or restarts) the daemon on the configuration already written and
 * waits until it answers /healthz. */
E2E_FN void e2e_daemon_run(e2e_daemon *d)
{
    char log[320];
    snprintf(log, sizeof log, "%s/baohand.log", d->dir);
    d->pid = fork();
    if (d->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(BH_BAOHAND, BH_BAOHAND, "--config", d->config, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        if (e2e_healthy(d->url))
            return;
        int status;
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            fprintf(stderr, "e2e: baohand exited at start; see %s\n", log);
            exit(2);
        }
        e2e_sleep_ms(25);
    }
    fprintf(stderr, "e2e: baohand did not come up; see %s\n", log);
    exit(2);
}

/* A directory, ports and URLs for a daemon, nothing started: two daemons
 * that call each other need each other's ports before either config. */
E2E_FN void e2e_daemon_prepare(e2e_daemon *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/baohan-e2e-XXXXXX");
    if (!mkdtemp(d->dir)) {
        fprintf(stderr, "e2e: mkdtemp failed\n");
        exit(2);
    }
    snprintf(d->config, sizeof d->config, "%s/baohand.ini", d->dir);
    d->port = e2e_free_port();
    d->admin_port = e2e_free_port();
    snprintf(d->url, sizeof d->url, "http://127.0.0.1:%d", d->port);
    snprintf(d->admin_url, sizeof d->admin_url, "http://127.0.0.1:%d", d->admin_port);
}

E2E_FN void e2e_daemon_start(e2e_daemon *d, int receiver_port, const char *extra)
{
    e2e_daemon_prepare(d);
    e2e_write_config(d, receiver_port, extra);
    e2e_daemon_run(d);
}

/* A platform's configuration: one [institution NAME] per entry of `peers`
 * ("NAME APPKEY URL" lines), all with the test secret and key. */
E2E_FN void e2e_write_platform_config(e2e_daemon *d, const char *peers)
{
    FILE *f = e2e_config_open(d);
    fprintf(f,
            "[server]\nrole = platform\nlisten = 127.0.0.1:%d\ndata_dir = %s/data\n"
            "timestamp_window = 300\n\n[admin]\nlisten = 127.0.0.1:%d\ntoken = %s\n",
            d->port, d->dir, d->admin_port, E2E_TOKEN);
    char name[64], appkey[64], url[256];
    int used = 0;
    while (sscanf(peers, "%63s %63s %255s%n", name, appkey, url, &used) == 3) {
        fprintf(f, "\n[institution %s]\nappkey = %s\nappsecret = %s\nsm4_key = %s\nurl = %s\n",
                name, appkey, E2E_APPSECRET, E2E_SM4KEY, url);
        peers += used;
    }
    e2e_config_close(d, f);
}

/* Sends `sig` and waits for the process; returns its wait status. */
E2E_FN int e2e_daemon_signal(e2e_daemon *d, int sig)
{
    int status = 0;
    kill(d->pid, sig);
    waitpid(d->pid, &status, 0);
    d->pid = 0;
    return status;
}

E2E_FN void e2e_daemon_cleanup(e2e_daemon *d)
{
    if (d->pid)
        e2e_daemon_signal(d, SIGKILL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "e2e: could not remove %s\n", d->dir);
}

/* A count from the daemon's own store, read beside the running daemon (-1
 * when it cannot be read). */
E2E_FN long long e2e_store_count(const e2e_daemon *d, const char *sql)
{
    char path[400];
    snprintf(path, sizeof path, "%s/data/baohan.db", d->dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ---- talking to it ------------------------------------------------------------ */

E2E_FN bh_credentials e2e_creds(void)
{
    bh_credentials c = {E2E_APPKEY, E2E_APPSECRET, {{0}}};
    CHECK_EQ(bh_sm4_key_parse(E2E_SM4KEY, &c.key, NULL, "key"), BH_OK);
    return c;
}

/* One protocol call; returns the answer's code (-1 when there was none) and
 * the answer itself in `*answer` when not NULL. */
E2E_FN int e2e_call_as(const e2e_daemon *d, const char *appkey, const char *iface,
                        const bh_msg *plain, bh_msg **answer)
{
    bh_credentials c = e2e_creds();
    c.appkey = appkey;
    bh_client *client = bh_client_new(NULL);
    bh_msg *response = NULL;
    int status = 0, code = -1;
    bh_diag diag = BH_DIAG_INIT;
    bh_err err = bh_client_call(client, d->url, bh_iface_find(iface), &c, plain, bh_time_now(),
                                &response, &status, NULL, &diag);
    if (!err) {
        const char *v = bh_msg_text(response, "code");
        code = v ? atoi(v) : -1;
    } else {
        for (size_t i = 0; i < diag.count; i++)
            fprintf(stderr, "  e2e_call %s: %s: %s\n", iface, diag.items[i].field,
                    diag.items[i].message);
    }
    if (answer)
        *answer = response;
    else
        bh_msg_free(response);
    bh_diag_release(&diag);
    bh_client_free(client);
    return code;
}

/* One protocol call with the test credentials (appkey E2E_APPKEY). */
E2E_FN int e2e_call(const e2e_daemon *d, const char *iface, const bh_msg *plain, bh_msg **answer)
{
    return e2e_call_as(d, E2E_APPKEY, iface, plain, answer);
}

E2E_FN size_t e2e_collect(char *data, size_t size, size_t n, void *userdata)
{
    return bh_buf_add(userdata, data, size * n) == BH_OK ? size * n : 0;
}

/* A raw HTTP exchange with libcurl: method, URL, optional body and content
 * type, optional bearer token. Returns the status; the body goes to `out`. */
E2E_FN long e2e_http(const char *method, const char *url, const char *content_type,
                     const char *body, size_t len, const char *token, bh_buf *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char line[256];
    long status = 0;
    if (content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", content_type);
        h = curl_slist_append(h, line);
    }
    if (token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, line);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, e2e_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

E2E_FN bh_err e2e_find_id(const char *element, size_t len, void *ctx)
{
    int64_t *want = ctx;
    bh_msg *m = NULL;
    if (bh_msg_parse(element, len, len, BH_PARSE_ALLOW_NESTED, &m, NULL) == BH_OK &&
        strcmp(bh_msg_text(m, "applyno"), (const char *)(intptr_t)want[1]) == 0)
        want[0] = atoll(bh_msg_text(m, "id"));
    bh_msg_free(m);
    return BH_OK;
}

#define E2E_ID_CARD "350602198001011230"

/* The bidder completes the pay page: every detail, a PDF as the
 * qualification file and a PNG as the business licence. Returns the status
 * (303 when accepted). */
E2E_FN long e2e_submit_form(const char *payurl)
{
    static const char *const fields[][2] = {
        {"biddercontact", "王小明"},
        {"biddercontacttel", "13906951234"},
        {"bidderaddress", "福建省漳州市芗城区胜利西路1号"},
        {"bidderemail", "wang@example.com"},
        {"bidderpersonname", "陈大海"},
        {"bidderpersoncard", E2E_ID_CARD},
        {"bidderpersontel", "13800000000"},
        {"basicbank", "中国建设银行漳州分行"},
        {"basicaccount", E2E_ACCOUNT},
    };
    static const char pdf[] = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    static const char png[] = "\x89PNG\r\n\x1A\n\0\0\0\rIHDR";
    bh_buf body, page;
    bh_buf_init(&body, 1 << 20);
    bh_buf_init(&page, 1 << 20);
    bh_err err = BH_OK;
    for (size_t i = 0; !err && i < sizeof fields / sizeof *fields; i++)
        err =
            bh_buf_addf(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
                        fields[i][0], fields[i][1]);
    if (!err)
        err =
            bh_buf_addstr(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"qualification\"; "
                                 "filename=\"资质.pdf\"\r\n\r\n");
    if (!err)
        err = bh_buf_add(&body, pdf, sizeof pdf - 1);
    if (!err)
        err = bh_buf_addstr(&body, "\r\n--XyZ\r\nContent-Disposition: form-data; "
                                   "name=\"business_license\"; filename=\"license.png\"\r\n\r\n");
    if (!err)
        err = bh_buf_add(&body, png, sizeof png - 1);
    if (!err)
        err = bh_buf_addstr(&body, "\r\n--XyZ--\r\n");
    CHECK_EQ(err, BH_OK);
    long status = e2e_http("POST", payurl, "multipart/form-data; boundary=XyZ", body.data, body.len,
                           NULL, &page);
    bh_buf_release(&body);
    bh_buf_release(&page);
    return status;
}

/* An admin call: returns the HTTP status; the JSON answer goes to `out`. */
E2E_FN long e2e_admin(const e2e_daemon *d, const char *method, const char *path, const char *json,
                      bh_buf *out)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", d->admin_url, path);
    bh_buf_reset(out);
    return e2e_http(method, url, json ? "application/json" : NULL, json, json ? strlen(json) : 0,
                    E2E_TOKEN, out);
}

/* A field of the "application" object of an admin answer, as text; ""
 * when it is null or absent. Rotating static storage (four values), so two
 * can be compared in one expression. */
E2E_FN const char *e2e_out_app_field(const bh_buf *out, const char *key)
{
    static char values[4][512];
    static int next;
    char *value = values[next++ % 4];
    bh_msg *m = NULL, *a = NULL;
    CHECK_EQ(bh_msg_parse(out->data, out->len, out->len, BH_PARSE_ALLOW_NESTED, &m, NULL), BH_OK);
    const bh_field *f = m ? bh_msg_get(m, "application") : NULL;
    if (f)
        CHECK_EQ(bh_msg_parse(f->value, f->value_len, f->value_len, BH_PARSE_ALLOW_NESTED, &a, NULL),
                 BH_OK);
    const bh_field *v = a ? bh_msg_get(a, key) : NULL;
    snprintf(value, 512, "%.*s", v && v->type != BH_JNULL ? (int)v->value_len : 0,
             v ? v->value : "");
    bh_msg_free(a);
    bh_msg_free(m);
    return value;
}

/* The same for the application the admin API shows at `path`
 * (/admin/applications/ID or /admin/platform/applications/ID); the whole
 * answer stays in `out`. */
E2E_FN const char *e2e_app_field(const e2e_daemon *d, const char *path, const char *key,
                                 bh_buf *out)
{
    CHECK_EQ(e2e_admin(d, "GET", path, NULL, out), 200);
    return e2e_out_app_field(out, key);
}

/* A platform action through its admin API (POST
 * /admin/platform/applications/ID/VERB): returns the institution's code,
 * -1 when the platform refused it (the answer is in `out` either way). */
E2E_FN int e2e_plat_act(const e2e_daemon *d, int64_t id, const char *verb, const char *json,
                        bh_buf *out)
{
    char path[128];
    snprintf(path, sizeof path, "/admin/platform/applications/%lld/%s", (long long)id, verb);
    long status = e2e_admin(d, "POST", path, json, out);
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(out->data, out->len, out->len, BH_PARSE_ALLOW_NESTED, &m, NULL), BH_OK);
    const char *code = m ? bh_msg_text(m, "code") : NULL;
    int c = status == 200 && code ? atoi(code) : -1;
    if (status != 200)
        fprintf(stderr, "  platform %s: HTTP %ld %s\n", verb, status, out->data);
    bh_msg_free(m);
    return c;
}

/* An application's id, from the admin list at `list_path` (either role's). */
E2E_FN int64_t e2e_app_id(const e2e_daemon *d, const char *list_path, const char *applyno,
                          bh_buf *out)
{
    CHECK_EQ(e2e_admin(d, "GET", list_path, NULL, out), 200);
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(out->data, out->len, out->len, BH_PARSE_ALLOW_NESTED, &m, NULL), BH_OK);
    int64_t want[2] = {0, (int64_t)(intptr_t)applyno};
    const bh_field *list = m ? bh_msg_get(m, "applications") : NULL;
    if (list)
        CHECK_EQ(bh_json_array_each(list->value, list->value_len, e2e_find_id, want, NULL, "x"),
                 BH_OK);
    bh_msg_free(m);
    CHECK(want[0] > 0);
    return want[0];
}

/* baohanapply for the example application with `applyno` and `amount`, then
 * the bidder's form; returns the new application's id (0 on failure).
 * `out` holds the admin listing afterwards. */
E2E_FN int64_t e2e_apply_and_submit(const e2e_daemon *d, const char *applyno, const char *amount,
                                    bh_buf *out)
{
    bh_msg *m = load_example("baohanapply"), *answer = NULL;
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "bzjamount", amount), BH_OK);
    CHECK_EQ(e2e_call(d, "baohanapply", m, &answer), 1);
    const bh_field *url = answer ? bh_msg_get_nocase(answer, "payurl") : NULL;
    CHECK_EQ(e2e_submit_form(url ? url->value : ""), 303);
    bh_msg_free(answer);
    bh_msg_free(m);
    return e2e_app_id(d, "/admin/applications", applyno, out);
}

/* The operator records the premium `amount` paid by `payer` from the
 * bidder's account (a one-line PDF as proof); returns the HTTP status, the
 * application's JSON in `out`. */
E2E_FN long e2e_pay(const e2e_daemon *d, int64_t id, const char *payer, const char *amount,
                    bh_buf *out)
{
    char path[96], json[512];
    snprintf(json, sizeof json,
             "{\"payername\":\"%s\",\"payeraccount\":\"%s\",\"amount\":\"%s\","
             "\"paytype\":\"银行转账\",\"proof\":\"JVBERi0xLjQKJSVFT0YK\"}",
             payer, E2E_ACCOUNT, amount);
    snprintf(path, sizeof path, "/admin/applications/%lld/payment", (long long)id);
    return e2e_admin(d, "POST", path, json, out);
}

#endif
