/* Black-box crash test: baohand is killed with SIGKILL while requests are in
 * flight and notices are pending. After a restart every request that was
 * answered with code 1 is in the store (a retry gets the very same Payurl),
 * and every pending notice reaches the platform, with one effect however
 * often it is delivered. */
#include "e2e.h"

#define BIDDER "福建省漳州市恒泰建设工程有限公司"
#define THREADS 8
#define MAX_ANSWERED 20000

static e2e_daemon daemon_;
static e2e_receiver receiver;

static pthread_mutex_t answered_mu = PTHREAD_MUTEX_INITIALIZER;
static int answered_count;
static struct {
    char applyno[32];
    char payurl[160];
} answered[MAX_ANSWERED];
static volatile int stop_load;

static bh_msg *application(const char *applyno)
{
    bh_msg *m = load_example("baohanapply");
    CHECK_EQ(bh_msg_set_str(m, "applyno", applyno), BH_OK);
    return m;
}

/* Applies; returns the Payurl's code and copies it. */
static int apply(const char *applyno, char payurl[160])
{
    bh_msg *m = application(applyno), *answer = NULL;
    int code = e2e_call(&daemon_, "baohanapply", m, &answer);
    const bh_field *url = answer ? bh_msg_get_nocase(answer, "payurl") : NULL;
    snprintf(payurl, 160, "%s", url ? url->value : "");
    bh_msg_free(answer);
    bh_msg_free(m);
    return code;
}

static void *load(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; !stop_load && i < MAX_ANSWERED / THREADS; i++) {
        char applyno[32], payurl[160];
        snprintf(applyno, sizeof applyno, "K%d-%d-%d", (int)getpid(), t, i);
        int code = apply(applyno, payurl);
        if (code == 1) {
            pthread_mutex_lock(&answered_mu);
            snprintf(answered[answered_count].applyno, 32, "%s", applyno);
            snprintf(answered[answered_count].payurl, 160, "%s", payurl);
            answered_count++;
            pthread_mutex_unlock(&answered_mu);
        } else if (code == -1) {
            break; /* the daemon is gone */
        }
    }
    return NULL;
}

/* ---- issuing through the admin API (as in the lifecycle test) ---------------- */

static bh_buf out;

static int64_t find_id(const char *applyno)
{
    CHECK_EQ(e2e_admin(&daemon_, "GET", "/admin/applications?limit=10000", NULL, &out), 200);
    char key[160];
    snprintf(key, sizeof key, "\"applyno\":\"%s\"", applyno);
    const char *at = out.data ? strstr(out.data, key) : NULL;
    /* the id field precedes applyno in each record */
    const char *id = NULL;
    for (const char *p = out.data; p && at && (p = strstr(p, "\"id\":")) && p < at; p++)
        id = p;
    return id ? atoll(id + 5) : 0;
}

static void issue(const char *applyno)
{
    char payurl[160], path[96], json[512];
    CHECK_EQ(apply(applyno, payurl), 1);
    CHECK_EQ(e2e_submit_form(payurl), 303);
    int64_t id = find_id(applyno);
    CHECK(id > 0);
    /* proof: a one-line PDF, Base64 */
    snprintf(json, sizeof json,
             "{\"payername\":\"%s\",\"payeraccount\":\"%s\",\"amount\":\"300.00\","
             "\"paytype\":\"银行转账\",\"proof\":\"JVBERi0xLjQKJSVFT0YK\"}",
             BIDDER, E2E_ACCOUNT);
    snprintf(path, sizeof path, "/admin/applications/%lld/payment", (long long)id);
    CHECK_EQ(e2e_admin(&daemon_, "POST", path, json, &out), 200);
    snprintf(path, sizeof path, "/admin/applications/%lld/approve", (long long)id);
    CHECK_EQ(e2e_admin(&daemon_, "POST", path, NULL, &out), 200);
}

static void test_kill_with_requests_in_flight_and_notices_pending(void)
{
    /* notices pile up while the platform is down */
    e2e_receiver_fail(&receiver, 1);
    char issued[3][32];
    for (int i = 0; i < 3; i++) {
        snprintf(issued[i], sizeof issued[i], "N%d-%d", (int)getpid(), i);
        issue(issued[i]);
    }
    CHECK_EQ(e2e_admin(&daemon_, "GET", "/admin/outbox?state=pending", NULL, &out), 200);
    CHECK(out.data && strstr(out.data, "\"baohannotice\"") != NULL);

    /* requests in flight from 8 connections, then SIGKILL */
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&threads[t], NULL, load, (void *)(intptr_t)t);
    e2e_sleep_ms(1500);
    e2e_daemon_signal(&daemon_, SIGKILL);
    stop_load = 1;
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    CHECK(answered_count > 0);
    fprintf(stderr, "  %d requests answered with code 1 before the kill\n", answered_count);

    /* restart: every answered request is there, with the same Payurl */
    e2e_daemon_run(&daemon_);
    int missing = 0;
    for (int i = 0; i < answered_count; i++) {
        char payurl[160];
        int code = apply(answered[i].applyno, payurl);
        if (code != 1 || strcmp(payurl, answered[i].payurl) != 0)
            missing++;
    }
    CHECK_EQ(missing, 0);

    /* the platform comes back: each pending notice arrives, with one effect */
    e2e_receiver_fail(&receiver, 0);
    for (int i = 0; i < 3; i++) {
        e2e_notice first;
        CHECK(e2e_notices(&receiver, "baohannotice", issued[i], 20000, &first) >= 1);
        CHECK_STR(first.applystatus, "1");
        pthread_mutex_lock(&receiver.mu);
        for (int k = 0; k < receiver.count; k++)
            if (strcmp(receiver.notices[k].applyno, issued[i]) == 0)
                CHECK_STR(receiver.notices[k].baohanno, first.baohanno);
        pthread_mutex_unlock(&receiver.mu);
    }
    /* and the outbox knows they are delivered */
    for (int tries = 0; tries < 100; tries++) {
        CHECK_EQ(e2e_admin(&daemon_, "GET", "/admin/outbox?state=pending", NULL, &out), 200);
        if (out.data && !strstr(out.data, "\"baohannotice\""))
            break;
        e2e_sleep_ms(100);
    }
    CHECK(out.data && strstr(out.data, "\"baohannotice\"") == NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bh_buf_init(&out, 64 << 20);
    e2e_receiver_start(&receiver, 0);
    e2e_daemon_start(&daemon_, receiver.port, NULL);
    RUN(test_kill_with_requests_in_flight_and_notices_pending);
    CHECK_EQ(receiver.bad_signatures, 0);
    e2e_daemon_cleanup(&daemon_);
    e2e_receiver_stop(&receiver);
    bh_buf_release(&out);
    curl_global_cleanup();
    return CHECK_DONE();
}
