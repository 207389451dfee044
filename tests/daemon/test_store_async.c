/* Tests of the store's asynchronous side (daemon/store.h): bh_store_submit
 * and its done callbacks, the syncer thread that makes batches durable
 * (fdatasync) while the writer runs the next one, reads that see only
 * durable data, a failed fdatasync, and close draining everything. The
 * syncer's test hook (bh__store_set_hook) observes and holds the syncs, so
 * no assertion depends on timing. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "store.h"
#include "store_env.h"

/* ---- helpers ------------------------------------------------------------- */

static bh_err audit_count_fn(bh_tx *tx, void *ctx)
{
    return bh_tx_audit_count(tx, ctx);
}

static int64_t count_audit(bh_store *s)
{
    int64_t n = -1;
    CHECK_EQ(bh_store_read(s, audit_count_fn, &n), BH_OK);
    return n;
}

/* A flag one thread raises and another waits for. */
struct flag {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int up;
};
#define FLAG_INIT                                                                                  \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0                                     \
    }

static void flag_raise(struct flag *f)
{
    pthread_mutex_lock(&f->mu);
    f->up = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void flag_wait(struct flag *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->up)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

/* ---- the sync hook -------------------------------------------------------- */

/* Counts syncs begun and completed; can hold the next sync until released
 * (`hold`), fail every sync with EIO (`fail`), and reports a read that
 * waits for a sync. */
struct hook {
    atomic_int begun;     /* syncs begun */
    atomic_int completed; /* the number (1, 2, …) of the last sync completed */
    atomic_int fail;
    atomic_int hold;
    struct flag holding; /* the syncer is held */
    struct flag release; /* let it go on */
    struct flag reader;  /* a read is waiting for a sync */
};

static int hook_fn(void *ctx, int event)
{
    struct hook *h = ctx;
    switch (event) {
    case BH__STORE_SYNC_BEFORE:
        atomic_fetch_add(&h->begun, 1);
        if (atomic_exchange(&h->hold, 0)) {
            flag_raise(&h->holding);
            flag_wait(&h->release);
        }
        return atomic_load(&h->fail) ? EIO : 0;
    case BH__STORE_SYNC_AFTER:
        atomic_store(&h->completed, atomic_load(&h->begun));
        return 0;
    case BH__STORE_READ_WAITS:
        flag_raise(&h->reader);
        return 0;
    default:
        return 0;
    }
}

static void hook_init(struct hook *h)
{
    memset(h, 0, sizeof(*h));
    h->holding = (struct flag)FLAG_INIT;
    h->release = (struct flag)FLAG_INIT;
    h->reader = (struct flag)FLAG_INIT;
}

/* ---- submitted units ------------------------------------------------------ */

enum { N = 300, JOBS_MAX = 10000 };

/* What the done callbacks saw, for up to JOBS_MAX units. */
struct tracker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct hook *hook;
    int calls[JOBS_MAX];
    bh_err rc[JOBS_MAX];
    int order[JOBS_MAX];
    int norder;
    int early; /* done before a sync that began after the unit ran */
};

struct job {
    struct tracker *t;
    int n;
    int fail;         /* the unit returns BH_EFORMAT after writing */
    int begun_at_run; /* syncs begun when the unit ran */
};

static bh_err job_fn(bh_tx *tx, void *ctx)
{
    struct job *j = ctx;
    if (j->t->hook)
        j->begun_at_run = atomic_load(&j->t->hook->begun);
    char applyno[16];
    snprintf(applyno, sizeof(applyno), "J%d", j->n);
    bh_audit a = {j->n, "in", "job", "plat1", applyno, 1, 200, NULL};
    bh_err err = bh_tx_audit_add(tx, &a);
    if (!err && j->fail)
        return BH_EFORMAT;
    return err;
}

static void job_done(void *ctx, bh_err rc)
{
    struct job *j = ctx;
    struct tracker *t = j->t;
    pthread_mutex_lock(&t->mu);
    t->calls[j->n]++;
    t->rc[j->n] = rc;
    if (t->norder < JOBS_MAX)
        t->order[t->norder] = j->n;
    t->norder++;
    /* The sync that makes this unit durable began after it ran: the last
     * sync completed by now must be a later one. */
    if (t->hook && atomic_load(&t->hook->completed) <= j->begun_at_run)
        t->early++;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static void tracker_init(struct tracker *t, struct hook *h)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    t->hook = h;
}

static void tracker_wait(struct tracker *t, int n)
{
    pthread_mutex_lock(&t->mu);
    while (t->norder < n)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void tracker_release(struct tracker *t)
{
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
}

/* A fresh store in a fresh directory, its callbacks tracked in `t`; with
 * `h`, the sync hook installed too. */
static bh_store *setup(struct env *e, struct tracker *t, struct hook *h)
{
    env_init(e);
    bh_store *s = open_store(e);
    if (h) {
        hook_init(h);
        bh__store_set_hook(s, hook_fn, h);
    }
    tracker_init(t, h);
    return s;
}

/* ---- tests ---------------------------------------------------------------- */

static void noop_done(void *ctx, bh_err rc)
{
    (void)ctx;
    (void)rc;
}

static void test_submit_args(void)
{
    struct env e;
    static struct tracker t;
    bh_store *s = setup(&e, &t, NULL);
    struct job j = {&t, 0, 0, 0};
    CHECK_EQ(bh_store_submit(NULL, job_fn, &j, job_done, &j), BH_EINVAL);
    CHECK_EQ(bh_store_submit(s, NULL, &j, job_done, &j), BH_EINVAL);
    CHECK_EQ(bh_store_submit(s, job_fn, &j, NULL, &j), BH_EINVAL);
    CHECK_EQ(t.norder, 0);
    bh_store_close(s);
    tracker_release(&t);
    remove_tree(e.dir);
}

/* N units from one thread: each done callback exactly once, in submission
 * order, after the sync that covers it; a failing unit (every fifth) rolls
 * back only itself. */
static void test_submit_order(void)
{
    struct env e;
    struct hook h;
    static struct tracker t;
    bh_store *s = setup(&e, &t, &h);
    static struct job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct job){&t, i, i % 5 == 0, 0};
        CHECK_EQ(bh_store_submit(s, job_fn, &jobs[i], job_done, &jobs[i]), BH_OK);
    }
    tracker_wait(&t, N);
    int failing = 0;
    for (int i = 0; i < N; i++) {
        CHECK_EQ(t.calls[i], 1);
        CHECK_EQ(t.order[i], i);
        CHECK_EQ(t.rc[i], i % 5 == 0 ? BH_EFORMAT : BH_OK);
        failing += i % 5 == 0;
    }
    CHECK_EQ(t.early, 0);
    CHECK(atomic_load(&h.completed) >= 1);
    CHECK_EQ(count_audit(s), N - failing);
    uint64_t units;
    bh_store_stats(s, &units, NULL, NULL); /* batching: test_batch_held_open */
    CHECK_EQ(units, N);
    bh_store_close(s);
    /* The failing units' rows are gone, the others' all there. */
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM audit WHERE at % 5 = 0"), 0);
    CHECK_EQ(raw_int(e.db, "SELECT count(DISTINCT at) FROM audit"), N - failing);
    /* No more calls after close. */
    for (int i = 0; i < N; i++)
        CHECK_EQ(t.calls[i], 1);
    tracker_release(&t);
    remove_tree(e.dir);
}

/* Units from two threads interleaved with bh_store_write callers: every
 * unit reported once, each thread's own in its order. */
struct submitter {
    bh_store *s;
    struct tracker *t;
    struct job *jobs;
    int from, to;
};

static void *submitter_main(void *arg)
{
    struct submitter *m = arg;
    for (int i = m->from; i < m->to; i++) {
        if (i % 7 == 0) {
            /* Mixed in: the blocking call on the same queue. */
            m->jobs[i].fail = 0;
            bh_err rc = bh_store_write(m->s, job_fn, &m->jobs[i]);
            job_done(&m->jobs[i], rc);
        } else if (bh_store_submit(m->s, job_fn, &m->jobs[i], job_done, &m->jobs[i]) != BH_OK) {
            job_done(&m->jobs[i], BH_EIO);
        }
    }
    return NULL;
}

static void test_two_submitters(void)
{
    struct env e;
    static struct tracker t;
    bh_store *s = setup(&e, &t, NULL);
    static struct job jobs[N];
    for (int i = 0; i < N; i++)
        jobs[i] = (struct job){&t, i, 0, 0};
    struct submitter m[2] = {{s, &t, jobs, 0, N / 2}, {s, &t, jobs, N / 2, N}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, submitter_main, &m[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    tracker_wait(&t, N);
    int last[2] = {-1, -1};
    for (int k = 0; k < N; k++) {
        int i = t.order[k], half = i >= N / 2;
        CHECK(i > last[half]);
        last[half] = i;
    }
    for (int i = 0; i < N; i++) {
        CHECK_EQ(t.calls[i], 1);
        CHECK_EQ(t.rc[i], BH_OK);
    }
    CHECK_EQ(count_audit(s), N);
    bh_store_close(s);
    tracker_release(&t);
    remove_tree(e.dir);
}

/* A read started while a batch is committed but not yet synced waits for
 * the sync: it sees the batch, and only once the sync has completed. */
struct reader {
    bh_store *s;
    struct hook *h;
    int64_t count;
    int completed_seen;
    bh_err rc;
};

static bh_err reader_fn(bh_tx *tx, void *ctx)
{
    struct reader *r = ctx;
    r->completed_seen = atomic_load(&r->h->completed);
    return bh_tx_audit_count(tx, &r->count);
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    r->rc = bh_store_read(r->s, reader_fn, r);
    return NULL;
}

static void test_read_waits_for_sync(void)
{
    struct env e;
    struct hook h;
    static struct tracker t;
    bh_store *s = setup(&e, &t, &h);
    static struct job j;
    j = (struct job){&t, 1, 0, 0};

    atomic_store(&h.hold, 1);
    CHECK_EQ(bh_store_submit(s, job_fn, &j, job_done, &j), BH_OK);
    flag_wait(&h.holding); /* committed, its sync not done */
    CHECK_EQ(t.norder, 0);
    CHECK_EQ(atomic_load(&h.completed), 0);

    struct reader r = {s, &h, -1, -1, BH_EIO};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, reader_main, &r), 0);
    flag_wait(&h.reader); /* the read is waiting for the sync */
    flag_raise(&h.release);
    pthread_join(th, NULL);
    tracker_wait(&t, 1);

    CHECK_EQ(r.rc, BH_OK);
    CHECK_EQ(r.count, 1);
    CHECK_EQ(r.completed_seen, 1);
    CHECK_EQ(t.rc[1], BH_OK);
    CHECK_EQ(t.early, 0);
    bh_store_close(s);
    tracker_release(&t);
    remove_tree(e.dir);
}

/* A failed fdatasync: the units it covered fail with BH_EIO, and so does
 * every later write, submit and read of data it may have lost. */
static void test_sync_failure(void)
{
    struct env e;
    struct hook h;
    static struct tracker t;
    bh_store *s = setup(&e, &t, &h);
    t.hook = NULL; /* the hook fails syncs here: no ordering to check */
    static struct job jobs[3];
    for (int i = 0; i < 3; i++)
        jobs[i] = (struct job){&t, i, 0, 0};

    CHECK_EQ(bh_store_submit(s, job_fn, &jobs[0], job_done, &jobs[0]), BH_OK);
    tracker_wait(&t, 1);
    CHECK_EQ(t.rc[0], BH_OK);
    CHECK_EQ(count_audit(s), 1);

    atomic_store(&h.fail, 1);
    fprintf(stderr, "test_sync_failure: an fsync failure message is expected here:\n");
    CHECK_EQ(bh_store_submit(s, job_fn, &jobs[1], job_done, &jobs[1]), BH_OK);
    tracker_wait(&t, 2);
    CHECK_EQ(t.rc[1], BH_EIO);
    CHECK_EQ(t.calls[1], 1);

    CHECK_EQ(bh_store_submit(s, job_fn, &jobs[2], job_done, &jobs[2]), BH_EIO);
    CHECK_EQ(bh_store_write(s, job_fn, &jobs[2]), BH_EIO);
    int64_t n = -1;
    CHECK_EQ(bh_store_read(s, audit_count_fn, &n), BH_EIO);
    CHECK_EQ(t.calls[2], 0);
    bh_store_close(s);
    CHECK_EQ(t.calls[2], 0);
    tracker_release(&t);
    remove_tree(e.dir);
}

/* Closing drains: units queued behind a unit that holds the writer all
 * run, are synced and reported before close returns; once close has begun
 * a submit is refused and its callback never called. */
struct holder {
    struct flag entered, go;
};

/* A batch held open while the sync before it fails is not committed. */
static void test_sync_failure_held_batch(void)
{
    struct env e;
    struct hook h;
    static struct tracker t;
    bh_store *s = setup(&e, &t, &h);
    t.hook = NULL;
    static struct job jobs[4];
    for (int i = 0; i < 4; i++)
        jobs[i] = (struct job){&t, i, 0, 0};
    atomic_store(&h.hold, 1);
    CHECK_EQ(bh_store_submit(s, job_fn, &jobs[0], job_done, &jobs[0]), BH_OK);
    flag_wait(&h.holding); /* batch 1 committed, its sync held */
    for (int i = 1; i < 4; i++)
        CHECK_EQ(bh_store_submit(s, job_fn, &jobs[i], job_done, &jobs[i]), BH_OK);
    atomic_store(&h.fail, 1);
    fprintf(stderr, "test_sync_failure_held_batch: an fsync failure message is expected here:\n");
    flag_raise(&h.release);
    tracker_wait(&t, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(t.rc[i], BH_EIO);
    bh_store_close(s);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM audit WHERE at >= 1"), 0);
    tracker_release(&t);
    remove_tree(e.dir);
}

/* While the syncer works, the writer keeps its batch open: every unit that
 * arrives meanwhile joins one transaction, committed once the sync ends. */
static void test_batch_held_open(void)
{
    struct env e;
    struct hook h;
    static struct tracker t;
    bh_store *s = setup(&e, &t, &h);
    enum { HELD = 20 };
    static struct job jobs[HELD + 1];
    for (int i = 0; i <= HELD; i++)
        jobs[i] = (struct job){&t, i, 0, 0};
    atomic_store(&h.hold, 1);
    CHECK_EQ(bh_store_submit(s, job_fn, &jobs[0], job_done, &jobs[0]), BH_OK);
    flag_wait(&h.holding); /* batch 1 committed, its sync held */
    for (int i = 1; i <= HELD; i++)
        CHECK_EQ(bh_store_submit(s, job_fn, &jobs[i], job_done, &jobs[i]), BH_OK);
    pthread_mutex_lock(&t.mu);
    CHECK_EQ(t.norder, 0); /* nothing is reported before its sync */
    pthread_mutex_unlock(&t.mu);
    flag_raise(&h.release);
    tracker_wait(&t, HELD + 1);
    for (int i = 0; i <= HELD; i++)
        CHECK_EQ(t.rc[i], BH_OK);
    CHECK_EQ(t.early, 0);
    uint64_t units, commits;
    bh_store_stats(s, &units, &commits, NULL);
    CHECK_EQ(units, HELD + 1);
    CHECK_EQ(commits, 2);
    bh_store_close(s);
    tracker_release(&t);
    remove_tree(e.dir);
}

static bh_err hold_fn(bh_tx *tx, void *ctx)
{
    (void)tx;
    struct holder *g = ctx;
    flag_raise(&g->entered);
    flag_wait(&g->go);
    return BH_OK;
}

static void test_close_drains(void)
{
    struct env e;
    static struct tracker t;
    bh_store *s = setup(&e, &t, NULL);
    static struct job jobs[JOBS_MAX];
    struct holder g = {FLAG_INIT, FLAG_INIT};
    CHECK_EQ(bh_store_submit(s, hold_fn, &g, noop_done, NULL), BH_OK);
    flag_wait(&g.entered);
    int queued = 0;
    for (; queued < N; queued++) {
        jobs[queued] = (struct job){&t, queued, 0, 0};
        CHECK_EQ(bh_store_submit(s, job_fn, &jobs[queued], job_done, &jobs[queued]), BH_OK);
    }
    struct closer cl = {s};
    pthread_t cth;
    CHECK_EQ(pthread_create(&cth, NULL, closer_main, &cl), 0);
    /* Submit until close has begun (the writer is held, so the store is
     * still there): the first refusal must be BH_EINVAL. */
    bh_err rc = BH_OK;
    while (queued < JOBS_MAX) {
        jobs[queued] = (struct job){&t, queued, 0, 0};
        rc = bh_store_submit(s, job_fn, &jobs[queued], job_done, &jobs[queued]);
        if (rc != BH_OK)
            break;
        queued++;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ(rc, BH_EINVAL);
    flag_raise(&g.go);
    pthread_join(cth, NULL);
    /* Every queued unit was reported exactly once, OK, and is stored. */
    CHECK_EQ(t.norder, queued);
    for (int i = 0; i < queued; i++) {
        CHECK_EQ(t.calls[i], 1);
        CHECK_EQ(t.rc[i], BH_OK);
    }
    if (queued < JOBS_MAX)
        CHECK_EQ(t.calls[queued], 0);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM audit"), queued);
    tracker_release(&t);
    remove_tree(e.dir);
}

/* A done callback runs on the syncer: waiting there for a write or a
 * durable read would wait for itself, so both are refused. */
struct reentry {
    bh_store *s;
    bh_err write_rc, read_rc;
    struct flag called;
};

/* bh_store_submit_whole: no savepoint, so a failing unit takes its whole
 * transaction with it; the units behind it start a new one. */
static void test_submit_whole(void)
{
    struct env e;
    static struct tracker t;
    bh_store *s = setup(&e, &t, NULL);
    static struct job jobs[10];
    struct holder g = {FLAG_INIT, FLAG_INIT};
    /* Hold the writer so that the ten below queue up and are taken into one
     * transaction together. */
    CHECK_EQ(bh_store_submit(s, hold_fn, &g, noop_done, NULL), BH_OK);
    flag_wait(&g.entered);
    for (int i = 0; i < 10; i++) {
        jobs[i] = (struct job){&t, i, i == 5, 0};
        bh_err rc = i < 3 ? bh_store_submit(s, job_fn, &jobs[i], job_done, &jobs[i])
                          : bh_store_submit_whole(s, job_fn, &jobs[i], job_done, &jobs[i]);
        CHECK_EQ(rc, BH_OK);
    }
    flag_raise(&g.go);
    tracker_wait(&t, 10);
    /* 0–5 shared the transaction 5 broke: none of them is stored, each
     * reported BH_EIO; 6–9 ran in the next one. */
    for (int i = 0; i < 10; i++) {
        CHECK_EQ(t.calls[i], 1);
        CHECK_EQ(t.rc[i], i <= 5 ? BH_EIO : BH_OK);
    }
    CHECK_EQ(count_audit(s), 4);
    bh_store_close(s);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM audit WHERE at >= 6"), 4);
    CHECK_EQ(bh_store_submit_whole(NULL, job_fn, NULL, job_done, NULL), BH_EINVAL);
    tracker_release(&t);
    remove_tree(e.dir);
}

static bh_err nothing_fn(bh_tx *tx, void *ctx)
{
    (void)tx;
    (void)ctx;
    return BH_OK;
}

static void reentry_done(void *ctx, bh_err rc)
{
    (void)rc;
    struct reentry *r = ctx;
    r->write_rc = bh_store_write(r->s, nothing_fn, NULL);
    r->read_rc = bh_store_read(r->s, nothing_fn, NULL);
    flag_raise(&r->called);
}

static void test_no_reentry(void)
{
    struct env e;
    static struct tracker t;
    bh_store *s = setup(&e, &t, NULL);
    struct reentry r = {s, BH_OK, BH_OK, FLAG_INIT};
    CHECK_EQ(bh_store_submit(s, nothing_fn, NULL, reentry_done, &r), BH_OK);
    flag_wait(&r.called);
    CHECK_EQ(r.write_rc, BH_EINVAL);
    CHECK_EQ(r.read_rc, BH_EINVAL);
    bh_store_close(s);
    tracker_release(&t);
    remove_tree(e.dir);
}

int main(void)
{
    RUN(test_submit_args);
    RUN(test_submit_order);
    RUN(test_two_submitters);
    RUN(test_read_waits_for_sync);
    RUN(test_sync_failure);
    RUN(test_sync_failure_held_batch);
    RUN(test_batch_held_open);
    RUN(test_close_drains);
    RUN(test_submit_whole);
    RUN(test_no_reentry);
    return CHECK_DONE();
}
