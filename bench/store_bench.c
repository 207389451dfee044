/* store_bench: how many durable units of work per second the SQLite store
 * takes from many concurrent threads (group commit at work). Not a test.
 *
 *   store_bench [-t THREADS] [-s SECONDS] [-u apply|audit] [-d DIR]
 *   store_bench -a K [-t THREADS] ...
 *
 * Each thread loops on bh_store_write() with one small unit: "apply" (the
 * default) is what a baohanapply costs the store — one application row, one
 * idempotent answer, one audit row; "audit" is a single audit row. With -a,
 * each thread (default 1 there) instead keeps K units in flight through
 * bh_store_submit_whole() (no savepoint, as serve.c submits protocol units),
 * submitting a new one as each done callback arrives — the shape of the
 * event-driven server. Prints units/s, commits and
 * the mean batch, latency percentiles and CPU a unit.
 * Build and run: see docs/internals/store.md. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define LAT_MAX 200000 /* latency samples kept per thread */

static atomic_int stop_flag;
static int unit_kind; /* 0 apply, 1 audit */

struct worker {
    bh_store *s;
    int id;
    uint64_t done;
    uint64_t failed;
    uint32_t *lat_us;
    size_t nlat;
};

struct unit_ctx {
    int thread;
    uint64_t n;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static bh_err unit_fn(bh_tx *tx, void *ctx)
{
    struct unit_ctx *u = ctx;
    char applyno[48], token[33], hash[65];
    snprintf(applyno, sizeof(applyno), "B%02d-%012llu", u->thread, (unsigned long long)u->n);
    bh_audit a = {bh_time_now(), "in", "baohanapply", "bench", applyno, 1, 200, "bench"};
    if (unit_kind == 1)
        return bh_tx_audit_add(tx, &a);
    snprintf(token, sizeof(token), "%02x%030llx", u->thread, (unsigned long long)u->n);
    snprintf(hash, sizeof(hash), "%064llx", (unsigned long long)u->n);
    bh_app app;
    memset(&app, 0, sizeof(app));
    app.appkey = (char *)"bench";
    app.applyno = applyno;
    app.content_hash = hash;
    app.state = BH_APP_APPLIED;
    app.pay_token = token;
    /* About the size of a real baohanapply's business fields. */
    char request[1024];
    snprintf(request, sizeof(request),
             "{\"applyno\":\"%s\",\"biddername\":\"漳州市某某建设工程有限公司\","
             "\"biddercode\":\"91350600MA00000000\",\"bidderaddress\":\"福建省漳州市芗城区"
             "某某路88号\",\"biddercontact\":\"张三\",\"biddertel\":\"13800000000\","
             "\"projectname\":\"漳州市某某道路工程施工\",\"projectcode\":\"ZZ-2026-0001\","
             "\"sectionname\":\"第一标段\",\"sectioncode\":\"ZZ-2026-0001-01\","
             "\"tenderername\":\"漳州市某某局\",\"tenderercode\":\"11350600000000000X\","
             "\"agentname\":\"某某招标代理有限公司\",\"bzjamount\":\"20000.00\","
             "\"bidopentime\":\"2026-12-20 09:30:00\",\"validdays\":\"90\","
             "\"paytype\":\"1\",\"platformcode\":\"ZZGGZY\"}",
             applyno);
    app.request_json = request;
    app.biddername = (char *)"某某建设有限公司";
    app.biddercode = (char *)"91350600MA00000000";
    app.bzjamount_fen = 2000000;
    app.premium_fen = 14000;
    bh_err err = bh_tx_app_insert(tx, &app);
    if (!err)
        err = bh_tx_answer_put(tx, "bench", "baohanapply", applyno, hash,
                               "{\"code\":1,\"message\":\"ok\"}", a.at);
    if (!err)
        err = bh_tx_audit_add(tx, &a);
    return err;
}

/* -a: a driver thread with `inflight` units in flight. Done callbacks (on
 * the store's syncer thread) record the latency and free the slot. */
struct slot {
    struct unit_ctx u;
    double t0;
    struct worker *w;
};

static int inflight;
static pthread_mutex_t async_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t async_cv = PTHREAD_COND_INITIALIZER;

struct async_state {
    struct slot *slots;
    int *free_slots;
    int nfree;
};

static struct async_state *async_of; /* per worker, indexed by id */

static void async_done(void *ctx, bh_err rc)
{
    struct slot *sl = ctx;
    struct worker *w = sl->w;
    double dt = now_s() - sl->t0;
    pthread_mutex_lock(&async_mu);
    if (rc)
        w->failed++;
    else
        w->done++;
    if (w->nlat < LAT_MAX)
        w->lat_us[w->nlat++] = (uint32_t)(dt * 1e6);
    struct async_state *a = &async_of[w->id];
    a->free_slots[a->nfree++] = (int)(sl - a->slots);
    pthread_cond_broadcast(&async_cv);
    pthread_mutex_unlock(&async_mu);
}

static void *async_main(void *arg)
{
    struct worker *w = arg;
    struct async_state *a = &async_of[w->id];
    uint64_t n = 0;
    pthread_mutex_lock(&async_mu);
    while (!atomic_load(&stop_flag)) {
        while (a->nfree == 0)
            pthread_cond_wait(&async_cv, &async_mu);
        struct slot *sl = &a->slots[a->free_slots[--a->nfree]];
        pthread_mutex_unlock(&async_mu);
        sl->u = (struct unit_ctx){w->id, n++};
        sl->w = w;
        sl->t0 = now_s();
        bh_err err = bh_store_submit_whole(w->s, unit_fn, &sl->u, async_done, sl);
        pthread_mutex_lock(&async_mu);
        if (err) {
            w->failed++;
            a->free_slots[a->nfree++] = (int)(sl - a->slots);
        }
    }
    /* Every slot must come back before its memory goes. */
    while (a->nfree < inflight)
        pthread_cond_wait(&async_cv, &async_mu);
    pthread_mutex_unlock(&async_mu);
    return NULL;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while (!atomic_load(&stop_flag)) {
        struct unit_ctx u = {w->id, w->done + w->failed};
        double t0 = now_s();
        bh_err err = bh_store_write(w->s, unit_fn, &u);
        double dt = now_s() - t0;
        if (err)
            w->failed++;
        else
            w->done++;
        if (w->nlat < LAT_MAX)
            w->lat_us[w->nlat++] = (uint32_t)(dt * 1e6);
    }
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int threads = 64;
    double seconds = 5;
    const char *dir = NULL;
    int opt;
    int threads_set = 0;
    while ((opt = getopt(argc, argv, "t:s:u:d:a:")) != -1) {
        switch (opt) {
        case 'a':
            inflight = atoi(optarg);
            if (inflight < 1 || inflight > 100000) {
                fprintf(stderr, "store_bench: bad -a\n");
                return 2;
            }
            break;
        case 't':
            threads = atoi(optarg);
            threads_set = 1;
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'u':
            unit_kind = strcmp(optarg, "audit") == 0;
            break;
        case 'd':
            dir = optarg;
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-a INFLIGHT] [-t THREADS] [-s SECONDS] [-u apply|audit] [-d DIR]\n",
                    argv[0]);
            return 2;
        }
    }
    if (inflight && !threads_set)
        threads = 1;
    if (threads < 1 || threads > 4096 || seconds <= 0) {
        fprintf(stderr, "store_bench: bad -t or -s\n");
        return 2;
    }
    char tmpl[] = "/tmp/bh-store-bench-XXXXXX";
    if (!dir) {
        dir = mkdtemp(tmpl);
        if (!dir) {
            perror("mkdtemp");
            return 1;
        }
    }
    char db[512], files[512];
    snprintf(db, sizeof(db), "%s/bench.db", dir);
    snprintf(files, sizeof(files), "%s/files", dir);

    bh_store *s = NULL;
    bh_diag d = BH_DIAG_INIT;
    if (bh_store_open(db, files, &s, &d) != BH_OK) {
        fprintf(stderr, "store_bench: %s\n", d.count ? d.items[0].message : "cannot open");
        bh_diag_release(&d);
        return 1;
    }
    struct worker *w = calloc((size_t)threads, sizeof(*w));
    pthread_t *th = calloc((size_t)threads, sizeof(*th));
    if (!w || !th)
        return 1;
    if (inflight) {
        async_of = calloc((size_t)threads, sizeof(*async_of));
        if (!async_of)
            return 1;
        for (int i = 0; i < threads; i++) {
            async_of[i].slots = calloc((size_t)inflight, sizeof(struct slot));
            async_of[i].free_slots = calloc((size_t)inflight, sizeof(int));
            if (!async_of[i].slots || !async_of[i].free_slots)
                return 1;
            for (int k = 0; k < inflight; k++)
                async_of[i].free_slots[k] = k;
            async_of[i].nfree = inflight;
        }
    }
    uint64_t units0, commits0;
    bh_store_stats(s, &units0, &commits0, NULL);
    double t0 = now_s(), cpu0 = cpu_s();
    for (int i = 0; i < threads; i++) {
        w[i].s = s;
        w[i].id = i;
        w[i].lat_us = malloc(LAT_MAX * sizeof(uint32_t));
        if (!w[i].lat_us ||
            pthread_create(&th[i], NULL, inflight ? async_main : worker_main, &w[i]) != 0) {
            fprintf(stderr, "store_bench: cannot start thread %d\n", i);
            return 1;
        }
    }
    struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&nap, NULL);
    atomic_store(&stop_flag, 1);
    uint64_t done = 0, failed = 0;
    size_t nlat = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        done += w[i].done;
        failed += w[i].failed;
        nlat += w[i].nlat;
    }
    double elapsed = now_s() - t0, cpu = cpu_s() - cpu0;
    uint64_t units1, commits1;
    bh_store_stats(s, &units1, &commits1, NULL);
    uint32_t *all = malloc((nlat ? nlat : 1) * sizeof(uint32_t));
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        if (all)
            memcpy(all + k, w[i].lat_us, w[i].nlat * sizeof(uint32_t));
        k += w[i].nlat;
        free(w[i].lat_us);
    }
    if (all && nlat)
        qsort(all, nlat, sizeof(uint32_t), cmp_u32);
    uint64_t commits = commits1 - commits0;
    if (inflight)
        printf("unit %s, %d threads x %d in flight (bh_store_submit_whole), %.1f s, database %s\n",
               unit_kind ? "audit" : "apply", threads, inflight, elapsed, db);
    else
        printf("unit %s, %d threads (bh_store_write), %.1f s, database %s\n",
               unit_kind ? "audit" : "apply", threads, elapsed, db);
    printf("units      %llu ok, %llu failed\n", (unsigned long long)done,
           (unsigned long long)failed);
    printf("throughput %.0f units/s\n", (double)done / elapsed);
    /* CPU of the whole process (callers, writer, checkpointer) per unit: the
     * store's share of a request's CPU, and steadier than units/s. */
    printf("cpu        %.2f cores, %.1f us a unit\n", cpu / elapsed,
           done ? cpu * 1e6 / (double)done : 0.0);
    printf("commits    %llu (%.0f/s), mean batch %.1f units\n", (unsigned long long)commits,
           (double)commits / elapsed, commits ? (double)(units1 - units0) / (double)commits : 0.0);
    if (all && nlat)
        printf("latency    p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", all[nlat / 2] / 1e3,
               all[nlat * 99 / 100] / 1e3, all[nlat - 1] / 1e3);
    free(all);
    for (int i = 0; inflight && i < threads; i++) {
        free(async_of[i].slots);
        free(async_of[i].free_slots);
    }
    free(async_of);
    free(w);
    free(th);
    bh_store_close(s);
    if (dir == tmpl) {
        /* Our own temporary directory: leave nothing behind. */
        unlink(db);
        rmdir(files);
        rmdir(dir);
    }
    return failed ? 1 : 0;
}
