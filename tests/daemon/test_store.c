/* Tests of the store (daemon/store.h) on its SQLite backend: migrations,
 * every table's operations and error codes, units of work (savepoints, group
 * commit, snapshots), the content store, and concurrent writers. */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
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

/* A minimal valid application; `n` makes applyno, token and bidder unique. */
struct app_buf {
    char applyno[32];
    char token[33];
    char biddername[64];
    char biddercode[32];
    bh_app app;
};

static void make_app(struct app_buf *b, const char *appkey, int n)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->applyno, sizeof(b->applyno), "AP%06d", n);
    snprintf(b->token, sizeof(b->token), "%032x", n);
    snprintf(b->biddername, sizeof(b->biddername), "投标人%d有限公司", n);
    snprintf(b->biddercode, sizeof(b->biddercode), "91350600MA%08d", n);
    b->app.appkey = (char *)appkey;
    b->app.applyno = b->applyno;
    b->app.content_hash = (char *)"c0ffee";
    b->app.state = BH_APP_APPLIED;
    b->app.pay_token = b->token;
    b->app.request_json = (char *)"{\"applyno\":\"x\"}";
    b->app.biddername = b->biddername;
    b->app.biddercode = b->biddercode;
    b->app.bzjamount_fen = 2000000;
    b->app.premium_fen = 14000;
}

struct insert_ctx {
    bh_app *app;
};

static bh_err insert_fn(bh_tx *tx, void *ctx)
{
    return bh_tx_app_insert(tx, ((struct insert_ctx *)ctx)->app);
}

static bh_err insert_app(bh_store *s, bh_app *app)
{
    struct insert_ctx c = {app};
    return bh_store_write(s, insert_fn, &c);
}

struct count_ctx {
    int64_t n;
};

static bh_err count_apps_fn(bh_tx *tx, void *ctx)
{
    bh_app *list = NULL;
    size_t n = 0;
    bh_app_filter f = {0};
    f.limit = 1000000;
    bh_err err = bh_tx_app_list(tx, &f, &list, &n);
    bh_app_list_free(list, n);
    ((struct count_ctx *)ctx)->n = (int64_t)n;
    return err;
}

static int64_t count_apps(bh_store *s)
{
    struct count_ctx c = {-1};
    CHECK_EQ(bh_store_read(s, count_apps_fn, &c), BH_OK);
    return c.n;
}

static bh_err audit_count_fn(bh_tx *tx, void *ctx)
{
    return bh_tx_audit_count(tx, &((struct count_ctx *)ctx)->n);
}

static int64_t count_audit(bh_store *s)
{
    struct count_ctx c = {-1};
    CHECK_EQ(bh_store_read(s, audit_count_fn, &c), BH_OK);
    return c.n;
}

/* Runs a small SQL statement directly on the file (for setting up
 * situations the store itself never creates). */
static int raw_sql(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    int rc = sqlite3_open(db, &h);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

static void raw_text(const char *db, const char *sql, char *out, size_t cap)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(out, cap, "(none)");
    if (sqlite3_open(db, &h) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* ---- migrations ----------------------------------------------------------- */

static void test_migrations(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    int v = bh_store_schema_version(s);
    CHECK(v >= 1);
    bh_store_close(s);
    CHECK_EQ(raw_int(e.db, "SELECT max(version) FROM schema_version"), v);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM schema_version"), v);
    char text[64];
    raw_text(e.db, "PRAGMA journal_mode", text, sizeof(text));
    CHECK_STR(text, "wal");

    /* Reopening applies nothing and keeps the version. */
    s = open_store(&e);
    CHECK_EQ(bh_store_schema_version(s), v);
    bh_store_close(s);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM schema_version"), v);

    /* A database newer than the code is refused with a clear message. */
    CHECK_EQ(raw_sql(e.db, "INSERT INTO schema_version VALUES (999, 0)"), SQLITE_OK);
    bh_diag d = BH_DIAG_INIT;
    s = (bh_store *)1;
    CHECK_EQ(bh_store_open(e.db, e.files, &s, &d), BH_EINVAL);
    CHECK(s == NULL);
    CHECK(d.count == 1 && strstr(d.items[0].message, "newer") && strstr(d.items[0].message, "999"));
    bh_diag_release(&d);
    remove_tree(e.dir);

    /* An older database (here: version 0, a schema_version table and
     * nothing else) is upgraded, and what it held is kept. */
    env_init(&e);
    CHECK_EQ(raw_sql(e.db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
                           " applied_at INTEGER NOT NULL);"
                           "CREATE TABLE keepme (x); INSERT INTO keepme VALUES (42);"),
             SQLITE_OK);
    s = open_store(&e);
    CHECK_EQ(bh_store_schema_version(s), v);
    bh_store_close(s);
    CHECK_EQ(raw_int(e.db, "SELECT x FROM keepme"), 42);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM applications"), 0);

    /* Not a database at all. */
    FILE *f = fopen(e.db, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("this is not an SQLite database, just some text long enough to look like one\n", f);
        fclose(f);
    }
    unlink(e.db); /* drop the -wal/-shm pairing too */
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", e.db);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", e.db);
    unlink(wal);
    f = fopen(e.db, "w");
    if (f) {
        for (int i = 0; i < 200; i++)
            fputs("garbage garbage garbage garbage\n", f);
        fclose(f);
    }
    CHECK(bh_store_open(e.db, e.files, &s, &d) != BH_OK);
    CHECK(d.count >= 1);
    bh_diag_release(&d);

    /* Arguments. */
    CHECK_EQ(bh_store_open(NULL, e.files, &s, NULL), BH_EINVAL);
    CHECK_EQ(bh_store_open(e.db, "", &s, NULL), BH_EINVAL);
    bh_store_close(NULL);
    remove_tree(e.dir);
}

/* ---- applications ---------------------------------------------------------- */

struct app_ops {
    bh_err got[16];
    bh_app found;
};

static bh_err lookups_fn(bh_tx *tx, void *ctx)
{
    struct app_ops *o = ctx;
    bh_app a;
    o->got[0] = bh_tx_app_by_applyno(tx, "plat1", "AP000001", &o->found);
    o->got[1] = bh_tx_app_by_applyno(tx, "plat1", "nope", &a);
    o->got[2] = bh_tx_app_by_applyno(tx, "plat3", "AP000001", &a);
    o->got[3] = bh_tx_app_by_token(tx, "no-such-token", &a);
    o->got[4] = bh_tx_app_by_baohanno(tx, "no-such-number", &a);
    o->got[5] = bh_tx_app_by_id(tx, 987654, &a);
    return BH_OK;
}

struct update_ctx {
    bh_app *app;
    bh_app_state expected;
    int64_t now;
};

static bh_err update_fn(bh_tx *tx, void *ctx)
{
    struct update_ctx *u = ctx;
    return bh_tx_app_update(tx, u->app, u->expected, u->now);
}

static bh_err writers_in_read_fn(bh_tx *tx, void *ctx)
{
    bh_err *got = ctx;
    struct app_buf b;
    make_app(&b, "plat1", 77);
    bh_audit a = {1, "in", "baohanapply", "plat1", "AP1", 1, 200, "x"};
    int64_t v;
    got[0] = bh_tx_app_insert(tx, &b.app);
    got[1] = bh_tx_app_update(tx, &b.app, BH_APP_APPLIED, 1);
    got[2] = bh_tx_next_seq(tx, "seq", &v);
    got[3] = bh_tx_answer_put(tx, "a", "i", "n", "h", "{}", 1);
    got[4] = bh_tx_file_put(tx, 1, "order", "application/pdf", "x.pdf", "x", 1, 1, NULL);
    got[5] = bh_tx_notice_add(tx, 1, "a", "baohannotice", "{}", 1, NULL);
    got[6] = bh_tx_notice_attempt(tx, 1, BH_NOTICE_DELIVERED, 0, NULL, 1);
    got[7] = bh_tx_notice_retry(tx, 1, 1);
    got[8] = bh_tx_audit_add(tx, &a);
    return BH_OK;
}

static bh_err seq_fn(bh_tx *tx, void *ctx)
{
    int64_t *v = ctx;
    bh_err err = bh_tx_next_seq(tx, "BH2026", &v[0]);
    if (!err)
        err = bh_tx_next_seq(tx, "BH2026", &v[1]);
    if (!err)
        err = bh_tx_next_seq(tx, "other", &v[2]);
    return err;
}

static void test_apps(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);

    struct app_buf b1, b2;
    make_app(&b1, "plat1", 1);
    b1.app.form_json = (char *)"{\"f\":1}";
    CHECK_EQ(insert_app(s, &b1.app), BH_OK);
    CHECK(b1.app.id > 0);
    CHECK(b1.app.created_at > 1700000000);
    CHECK_EQ(b1.app.updated_at, b1.app.created_at);

    /* Duplicates: (appkey, applyno), pay_token, baohanno. */
    make_app(&b2, "plat1", 1);
    snprintf(b2.token, sizeof(b2.token), "%032x", 999);
    CHECK_EQ(insert_app(s, &b2.app), BH_EDUPKEY);
    make_app(&b2, "plat1", 2);
    snprintf(b2.token, sizeof(b2.token), "%032x", 1);
    CHECK_EQ(insert_app(s, &b2.app), BH_EDUPKEY);
    make_app(&b2, "plat2", 1); /* same applyno, another platform: fine */
    snprintf(b2.token, sizeof(b2.token), "%032x", 1001);
    b2.app.baohanno = (char *)"BH-0001";
    CHECK_EQ(insert_app(s, &b2.app), BH_OK);
    make_app(&b2, "plat2", 3);
    b2.app.baohanno = (char *)"BH-0001";
    CHECK_EQ(insert_app(s, &b2.app), BH_EDUPKEY);
    /* Missing required fields, bad state. */
    make_app(&b2, "plat2", 4);
    b2.app.request_json = NULL;
    CHECK_EQ(insert_app(s, &b2.app), BH_EINVAL);
    make_app(&b2, "plat2", 4);
    b2.app.state = BH_APP_STATE_COUNT_;
    CHECK_EQ(insert_app(s, &b2.app), BH_EINVAL);
    make_app(&b2, "plat2", 4);
    b2.app.pay_token = NULL;
    CHECK_EQ(insert_app(s, &b2.app), BH_EINVAL);
    CHECK_EQ(count_apps(s), 2);

    /* Lookups. */
    struct app_ops o;
    memset(&o, 0, sizeof(o));
    CHECK_EQ(bh_store_read(s, lookups_fn, &o), BH_OK);
    CHECK_EQ(o.got[0], BH_OK);
    for (int i = 1; i <= 5; i++)
        CHECK_EQ(o.got[i], BH_ENOTFOUND);
    CHECK_EQ(o.found.id, b1.app.id);
    CHECK_STR(o.found.appkey, "plat1");
    CHECK_STR(o.found.applyno, "AP000001");
    CHECK_STR(o.found.content_hash, "c0ffee");
    CHECK_EQ(o.found.state, BH_APP_APPLIED);
    CHECK_STR(o.found.pay_token, b1.token);
    CHECK_STR(o.found.request_json, "{\"applyno\":\"x\"}");
    CHECK_STR(o.found.form_json, "{\"f\":1}");
    CHECK(o.found.payment_json == NULL && o.found.claim_json == NULL);
    CHECK(o.found.baohanno == NULL && o.found.reason == NULL);
    CHECK_STR(o.found.biddername, "投标人1有限公司");
    CHECK_STR(o.found.biddercode, "91350600MA00000001");
    CHECK_EQ(o.found.bzjamount_fen, 2000000);
    CHECK_EQ(o.found.premium_fen, 14000);
    CHECK_EQ(o.found.issued_at, 0);
    CHECK_EQ(o.found.created_at, b1.app.created_at);

    /* Update: right expected state; then a stale one; then a missing id. */
    bh_app *a = &o.found;
    a->state = BH_APP_ISSUED;
    a->payment_json = malloc(8);
    memcpy(a->payment_json, "{\"p\":1}", 8);
    free(a->baohanno);
    a->baohanno = malloc(8);
    memcpy(a->baohanno, "BH-0002", 8);
    a->issued_at = 1800000000;
    a->premium_fen = 15000;
    struct update_ctx u = {a, BH_APP_APPLIED, 1800000001};
    CHECK_EQ(bh_store_write(s, update_fn, &u), BH_OK);
    CHECK_EQ(bh_store_write(s, update_fn, &u), BH_EINVAL); /* no longer applied */
    u.expected = BH_APP_ISSUED;
    int64_t real_id = a->id;
    a->id = 424242;
    CHECK_EQ(bh_store_write(s, update_fn, &u), BH_ENOTFOUND);
    a->id = real_id;
    memcpy(a->baohanno, "BH-0001", 8); /* taken by plat2's application */
    CHECK_EQ(bh_store_write(s, update_fn, &u), BH_EDUPKEY);
    u.expected = BH_APP_STATE_COUNT_;
    CHECK_EQ(bh_store_write(s, update_fn, &u), BH_EINVAL);
    bh_app_release(a);

    memset(&o, 0, sizeof(o));
    CHECK_EQ(bh_store_read(s, lookups_fn, &o), BH_OK);
    CHECK_EQ(o.found.state, BH_APP_ISSUED);
    CHECK_STR(o.found.baohanno, "BH-0002");
    CHECK_STR(o.found.payment_json, "{\"p\":1}");
    CHECK_EQ(o.found.issued_at, 1800000000);
    CHECK_EQ(o.found.premium_fen, 15000);
    CHECK_EQ(o.found.updated_at, 1800000001);
    CHECK_EQ(o.found.created_at, b1.app.created_at);
    bh_app_release(&o.found);

    /* No transaction, no lookup. */
    bh_app none;
    CHECK_EQ(bh_tx_app_by_id(NULL, 1, &none), BH_EINVAL);

    /* Every writer refuses a read transaction. */
    bh_err got[9];
    for (int i = 0; i < 9; i++)
        got[i] = BH_OK;
    CHECK_EQ(bh_store_read(s, writers_in_read_fn, got), BH_OK);
    for (int i = 0; i < 9; i++)
        CHECK_EQ(got[i], BH_EINVAL);

    /* Sequences start at 1, count per name, survive. */
    int64_t v[3] = {0, 0, 0};
    CHECK_EQ(bh_store_write(s, seq_fn, v), BH_OK);
    CHECK_EQ(v[0], 1);
    CHECK_EQ(v[1], 2);
    CHECK_EQ(v[2], 1);
    bh_store_close(s);
    s = open_store(&e);
    CHECK_EQ(bh_store_write(s, seq_fn, v), BH_OK);
    CHECK_EQ(v[0], 3);
    CHECK_EQ(v[1], 4);
    CHECK_EQ(v[2], 2);

    /* State names round trip; unknown ones are refused. */
    for (int i = 0; i < BH_APP_STATE_COUNT_; i++) {
        bh_app_state st;
        CHECK_EQ(bh_app_state_parse(bh_app_state_name((bh_app_state)i), &st), BH_OK);
        CHECK_EQ(st, i);
    }
    bh_app_state st;
    CHECK_EQ(bh_app_state_parse("approved", &st), BH_ENOTFOUND);
    CHECK(bh_app_state_name(BH_APP_STATE_COUNT_) == NULL);
    CHECK_STR(bh_app_state_name(BH_APP_QUIT_REQUESTED), "quit_requested");
    bh_store_close(s);
    remove_tree(e.dir);
}

struct lookup3 {
    const char *token;
    const char *baohanno;
    int64_t id;
    bh_err got[3];
    int64_t ids[3];
};

static bh_err lookup3_fn(bh_tx *tx, void *ctx)
{
    struct lookup3 *l = ctx;
    bh_app a;
    l->got[0] = bh_tx_app_by_token(tx, l->token, &a);
    if (!l->got[0]) {
        l->ids[0] = a.id;
        bh_app_release(&a);
    }
    l->got[1] = bh_tx_app_by_baohanno(tx, l->baohanno, &a);
    if (!l->got[1]) {
        l->ids[1] = a.id;
        bh_app_release(&a);
    }
    l->got[2] = bh_tx_app_by_id(tx, l->id, &a);
    if (!l->got[2]) {
        l->ids[2] = a.id;
        bh_app_release(&a);
    }
    return BH_OK;
}

static void test_app_lookups(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    struct app_buf b;
    make_app(&b, "plat1", 5);
    b.app.baohanno = (char *)"BH-0005";
    CHECK_EQ(insert_app(s, &b.app), BH_OK);
    struct lookup3 l = {b.token, "BH-0005", b.app.id, {0}, {0}};
    CHECK_EQ(bh_store_read(s, lookup3_fn, &l), BH_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(l.got[i], BH_OK);
        CHECK_EQ(l.ids[i], b.app.id);
    }
    /* The same lookups inside a write unit see the same thing. */
    memset(l.got, 0xff, sizeof(l.got));
    CHECK_EQ(bh_store_write(s, lookup3_fn, &l), BH_OK);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(l.got[i], BH_OK);
    bh_store_close(s);
    remove_tree(e.dir);
}

/* ---- listing ------------------------------------------------------------------ */

struct list_ctx {
    bh_app_filter f;
    bh_app *list;
    size_t n;
};

static bh_err list_fn(bh_tx *tx, void *ctx)
{
    struct list_ctx *l = ctx;
    return bh_tx_app_list(tx, &l->f, &l->list, &l->n);
}

/* Lists with `f` and returns the applyno numbers in order, e.g. "9,7,5". */
static void list_str(bh_store *s, const bh_app_filter *f, char *out, size_t cap)
{
    struct list_ctx l;
    memset(&l, 0, sizeof(l));
    l.f = *f;
    out[0] = '\0';
    CHECK_EQ(bh_store_read(s, list_fn, &l), BH_OK);
    size_t used = 0;
    for (size_t i = 0; i < l.n; i++) {
        int n = atoi(l.list[i].applyno + 2);
        int w = snprintf(out + used, cap - used, "%s%d", i ? "," : "", n);
        if (w > 0 && (size_t)w < cap - used)
            used += (size_t)w;
    }
    bh_app_list_free(l.list, l.n);
}

static void test_list(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    /* Ten applications, created at 1000, 1100, … 1900; even ones paid;
     * bidder names all share "有限公司". */
    for (int i = 0; i < 10; i++) {
        struct app_buf b;
        make_app(&b, "plat1", i);
        b.app.created_at = 1000 + 100 * i;
        b.app.state = i % 2 ? BH_APP_APPLIED : BH_APP_PAID;
        CHECK_EQ(insert_app(s, &b.app), BH_OK);
    }
    char got[256];
    bh_app_filter f = {0};
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "9,8,7,6,5,4,3,2,1,0"); /* newest first */

    bh_app_state paid = BH_APP_PAID;
    f.state = &paid;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "8,6,4,2,0");
    bh_app_state issued = BH_APP_ISSUED;
    f.state = &issued;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "");
    f.state = NULL;

    f.bidder = "投标人3有"; /* substring of a name */
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "3");
    f.bidder = "91350600MA00000007"; /* exact code */
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "7");
    f.bidder = "91350600MA0000000"; /* a code prefix is not a code */
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "");
    f.bidder = "有限公司";
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "9,8,7,6,5,4,3,2,1,0");
    f.bidder = "%"; /* no wildcard meaning */
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "");
    f.bidder = NULL;

    f.created_from = 1300; /* inclusive */
    f.created_to = 1700;   /* exclusive */
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "6,5,4,3");
    f.state = &paid;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "6,4");
    f.state = NULL;
    f.created_to = 0;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "9,8,7,6,5,4,3");
    f.created_from = 0;
    f.created_to = 1200;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "1,0");
    f.created_to = 0;

    f.limit = 3;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "9,8,7");
    f.offset = 3;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "6,5,4");
    f.offset = 9;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "0");
    f.offset = 10;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "");
    f.offset = 0;
    f.limit = 0;

    /* All filters at once. */
    f.state = &paid;
    f.bidder = "投标人";
    f.created_from = 1000;
    f.created_to = 2000;
    f.limit = 2;
    f.offset = 1;
    list_str(s, &f, got, sizeof(got));
    CHECK_STR(got, "6,4");

    /* An invalid state filter. */
    struct list_ctx l;
    memset(&l, 0, sizeof(l));
    bh_app_state bad = BH_APP_STATE_COUNT_;
    l.f.state = &bad;
    CHECK_EQ(bh_store_read(s, list_fn, &l), BH_EINVAL);

    /* The default limit is 100. */
    for (int i = 10; i < 130; i++) {
        struct app_buf b;
        make_app(&b, "plat1", i);
        CHECK_EQ(insert_app(s, &b.app), BH_OK);
    }
    memset(&l, 0, sizeof(l));
    CHECK_EQ(bh_store_read(s, list_fn, &l), BH_OK);
    CHECK_EQ(l.n, 100);
    bh_app_list_free(l.list, l.n);
    CHECK_EQ(count_apps(s), 130);
    bh_store_close(s);
    remove_tree(e.dir);
}

/* ---- answers ------------------------------------------------------------------- */

struct answer_ctx {
    const char *applyno;
    const char *hash;
    const char *json;
    char *got;
};

static bh_err answer_get_fn(bh_tx *tx, void *ctx)
{
    struct answer_ctx *a = ctx;
    return bh_tx_answer_get(tx, "plat1", "baohanapply", a->applyno, a->hash, &a->got);
}

static bh_err answer_put_fn(bh_tx *tx, void *ctx)
{
    struct answer_ctx *a = ctx;
    return bh_tx_answer_put(tx, "plat1", "baohanapply", a->applyno, a->hash, a->json, 1234);
}

static void test_answers(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    struct answer_ctx a = {"AP1", "h1", "{\"code\":1}", NULL};
    CHECK_EQ(bh_store_read(s, answer_get_fn, &a), BH_ENOTFOUND);
    CHECK(a.got == NULL);
    CHECK_EQ(bh_store_write(s, answer_put_fn, &a), BH_OK);
    CHECK_EQ(bh_store_read(s, answer_get_fn, &a), BH_OK);
    CHECK_STR(a.got, "{\"code\":1}");
    free(a.got);
    a.got = NULL;
    /* The first answer stands. */
    a.json = "{\"code\":0}";
    CHECK_EQ(bh_store_write(s, answer_put_fn, &a), BH_EDUPKEY);
    CHECK_EQ(bh_store_read(s, answer_get_fn, &a), BH_OK);
    CHECK_STR(a.got, "{\"code\":1}");
    free(a.got);
    a.got = NULL;
    /* Other content under the same applyno is another key. */
    a.hash = "h2";
    CHECK_EQ(bh_store_read(s, answer_get_fn, &a), BH_ENOTFOUND);
    CHECK_EQ(bh_store_write(s, answer_put_fn, &a), BH_OK);
    CHECK_EQ(bh_store_read(s, answer_get_fn, &a), BH_OK);
    CHECK_STR(a.got, "{\"code\":0}");
    free(a.got);
    a.json = NULL;
    CHECK_EQ(bh_store_write(s, answer_put_fn, &a), BH_EINVAL);
    bh_store_close(s);
    remove_tree(e.dir);
}

/* ---- files ------------------------------------------------------------------------ */

struct file_ctx {
    int64_t app_id;
    const char *kind;
    const char *data;
    size_t len;
    bh_file out;
    bh_err got_token, got_kind;
    bh_file by_token, by_kind;
    const char *token;
};

static bh_err file_put_fn(bh_tx *tx, void *ctx)
{
    struct file_ctx *f = ctx;
    return bh_tx_file_put(tx, f->app_id, f->kind, "application/pdf", "保函.pdf", f->data, f->len,
                          5555, &f->out);
}

static bh_err file_get_fn(bh_tx *tx, void *ctx)
{
    struct file_ctx *f = ctx;
    f->got_token = bh_tx_file_by_token(tx, f->token, &f->by_token);
    f->got_kind = bh_tx_file_by_kind(tx, f->app_id, f->kind, &f->by_kind);
    return BH_OK;
}

static void test_files(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    struct app_buf b;
    make_app(&b, "plat1", 1);
    CHECK_EQ(insert_app(s, &b.app), BH_OK);

    struct file_ctx f;
    memset(&f, 0, sizeof(f));
    f.app_id = b.app.id;
    f.kind = "guarantee";
    f.data = "hello world";
    f.len = 11;
    CHECK_EQ(bh_store_write(s, file_put_fn, &f), BH_OK);
    CHECK(f.out.id > 0);
    CHECK_EQ(f.out.app_id, b.app.id);
    CHECK_STR(f.out.kind, "guarantee");
    CHECK_STR(f.out.content_type, "application/pdf");
    CHECK_STR(f.out.filename, "保函.pdf");
    CHECK_STR(f.out.md5, "5EB63BBBE01EEED093CB22BB8F5ACDC3");
    CHECK_EQ(f.out.size, 11);
    CHECK_EQ(f.out.created_at, 5555);
    CHECK(f.out.token && strlen(f.out.token) == 32 &&
          strspn(f.out.token, "0123456789abcdef") == 32);
    char sm3[BH_SM3_HEX_LEN + 1];
    CHECK_EQ(bh_sm3_hex("hello world", 11, sm3), BH_OK);
    CHECK_STR(f.out.sm3, sm3);

    /* The bytes are in the content store under their SM3. */
    char path[512];
    snprintf(path, sizeof(path), "%s/%.2s/%s", e.files, sm3, sm3);
    size_t n = 0;
    char *disk = check_read_file(path, &n);
    CHECK_EQ(n, 11);
    CHECK(memcmp(disk, "hello world", 11) == 0);
    free(disk);

    /* Lookups by token and by kind; and misses. */
    f.token = f.out.token;
    CHECK_EQ(bh_store_read(s, file_get_fn, &f), BH_OK);
    CHECK_EQ(f.got_token, BH_OK);
    CHECK_EQ(f.got_kind, BH_OK);
    CHECK_EQ(f.by_token.id, f.out.id);
    CHECK_EQ(f.by_kind.id, f.out.id);
    CHECK_STR(f.by_kind.md5, f.out.md5);
    CHECK_STR(f.by_kind.filename, "保函.pdf");
    CHECK_EQ(f.by_kind.size, 11);
    bh_file_release(&f.by_token);
    bh_file_release(&f.by_kind);

    /* Round trip of the bytes. */
    bh_buf buf;
    bh_buf_init(&buf, 1024);
    CHECK_EQ(bh_store_file_read(s, &f.out, &buf), BH_OK);
    CHECK_EQ(buf.len, 11);
    CHECK(buf.data && memcmp(buf.data, "hello world", 11) == 0);
    bh_buf_release(&buf);
    bh_buf_init(&buf, 10); /* too small */
    CHECK_EQ(bh_store_file_read(s, &f.out, &buf), BH_ETOOBIG);
    bh_buf_release(&buf);

    /* Replacing the file of that kind: the old token no longer resolves. */
    bh_file first = f.out;
    memset(&f.out, 0, sizeof(f.out));
    f.data = "hello world, second edition";
    f.len = strlen(f.data);
    CHECK_EQ(bh_store_write(s, file_put_fn, &f), BH_OK);
    CHECK(strcmp(f.out.token, first.token) != 0);
    f.token = first.token;
    CHECK_EQ(bh_store_read(s, file_get_fn, &f), BH_OK);
    CHECK_EQ(f.got_token, BH_ENOTFOUND);
    CHECK_EQ(f.got_kind, BH_OK);
    CHECK_EQ(f.by_kind.id, f.out.id);
    CHECK_EQ(f.by_kind.size, (int64_t)f.len);
    bh_file_release(&f.by_kind);

    /* The same bytes again (another kind) share the content file. */
    bh_file second = f.out;
    memset(&f.out, 0, sizeof(f.out));
    f.kind = "order";
    CHECK_EQ(bh_store_write(s, file_put_fn, &f), BH_OK);
    CHECK_STR(f.out.sm3, second.sm3);
    CHECK(strcmp(f.out.token, second.token) != 0);
    bh_file_release(&f.out);

    /* A missing kind, a missing application, bad arguments. */
    f.kind = "claim";
    f.token = "00000000000000000000000000000000";
    CHECK_EQ(bh_store_read(s, file_get_fn, &f), BH_OK);
    CHECK_EQ(f.got_token, BH_ENOTFOUND);
    CHECK_EQ(f.got_kind, BH_ENOTFOUND);
    f.app_id = 999;
    CHECK_EQ(bh_store_write(s, file_put_fn, &f), BH_ENOTFOUND);
    f.app_id = b.app.id;
    f.kind = "";
    CHECK_EQ(bh_store_write(s, file_put_fn, &f), BH_EINVAL);

    /* An empty file is a file. */
    f.kind = "qualification";
    f.data = NULL;
    f.len = 0;
    CHECK_EQ(bh_store_write(s, file_put_fn, &f), BH_OK);
    CHECK_STR(f.out.md5, "D41D8CD98F00B204E9800998ECF8427E");
    bh_buf_init(&buf, 16);
    CHECK_EQ(bh_store_file_read(s, &f.out, &buf), BH_OK);
    CHECK_EQ(buf.len, 0);
    bh_buf_release(&buf);
    bh_file_release(&f.out);

    /* Tampering on disk is detected: same size, other bytes; then another
     * size; then gone. */
    snprintf(path, sizeof(path), "%s/%.2s/%s", e.files, second.sm3, second.sm3);
    FILE *fp = fopen(path, "r+b");
    CHECK(fp != NULL);
    if (fp) {
        fputc('H', fp);
        fclose(fp);
    }
    bh_buf_init(&buf, 1024);
    CHECK_EQ(bh_store_file_read(s, &second, &buf), BH_EIO);
    CHECK_EQ(buf.len, 0);
    fp = fopen(path, "ab");
    if (fp) {
        fputc('!', fp);
        fclose(fp);
    }
    CHECK_EQ(bh_store_file_read(s, &second, &buf), BH_EIO);
    unlink(path);
    CHECK_EQ(bh_store_file_read(s, &second, &buf), BH_ENOTFOUND);
    /* A record whose sm3 is not a content name is refused outright. */
    bh_file evil = second;
    evil.sm3 = (char *)"../../../../../../../etc/passwd";
    CHECK_EQ(bh_store_file_read(s, &evil, &buf), BH_EINVAL);
    bh_buf_release(&buf);

    /* The first file's bytes are still there (content-addressed). */
    bh_buf_init(&buf, 1024);
    CHECK_EQ(bh_store_file_read(s, &first, &buf), BH_OK);
    bh_buf_release(&buf);

    /* A put whose content file exists with the wrong size rewrites it. */
    fp = fopen(path, "wb"); /* `second`'s name, truncated content */
    if (fp) {
        fputs("x", fp);
        fclose(fp);
    }
    f.kind = "claim";
    f.data = "hello world, second edition";
    f.len = strlen(f.data);
    CHECK_EQ(bh_store_write(s, file_put_fn, &f), BH_OK);
    bh_buf_init(&buf, 1024);
    CHECK_EQ(bh_store_file_read(s, &f.out, &buf), BH_OK);
    CHECK_EQ(buf.len, f.len);
    bh_buf_release(&buf);
    bh_file_release(&f.out);

    bh_file_release(&first);
    bh_file_release(&second);
    bh_store_close(s);
    remove_tree(e.dir);
}

/* ---- notices ------------------------------------------------------------------------ */

struct notice_ctx {
    int64_t app_id;
    int64_t id;
    int64_t now;
    bh_notice_state state;
    int64_t next;
    const char *error;
    const bh_notice_state *filter;
    size_t limit;
    bh_notice *list;
    size_t n;
};

static bh_err notice_add_fn(bh_tx *tx, void *ctx)
{
    struct notice_ctx *c = ctx;
    return bh_tx_notice_add(tx, c->app_id, "plat1", "baohannotice", "{\"applystatus\":\"1\"}",
                            c->now, &c->id);
}

static bh_err notice_due_fn(bh_tx *tx, void *ctx)
{
    struct notice_ctx *c = ctx;
    return bh_tx_notice_due(tx, c->now, c->limit, &c->list, &c->n);
}

static bh_err notice_list_fn(bh_tx *tx, void *ctx)
{
    struct notice_ctx *c = ctx;
    return bh_tx_notice_list(tx, c->filter, c->limit, &c->list, &c->n);
}

static bh_err notice_attempt_fn(bh_tx *tx, void *ctx)
{
    struct notice_ctx *c = ctx;
    return bh_tx_notice_attempt(tx, c->id, c->state, c->next, c->error, c->now);
}

static bh_err notice_retry_fn(bh_tx *tx, void *ctx)
{
    struct notice_ctx *c = ctx;
    return bh_tx_notice_retry(tx, c->id, c->now);
}

static size_t due_count(bh_store *s, int64_t now, int64_t *first_id)
{
    struct notice_ctx c;
    memset(&c, 0, sizeof(c));
    c.now = now;
    CHECK_EQ(bh_store_read(s, notice_due_fn, &c), BH_OK);
    if (first_id)
        *first_id = c.n ? c.list[0].id : -1;
    size_t n = c.n;
    bh_notice_list_free(c.list, c.n);
    return n;
}

static void test_notices(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    struct app_buf b;
    make_app(&b, "plat1", 1);
    CHECK_EQ(insert_app(s, &b.app), BH_OK);

    struct notice_ctx c;
    memset(&c, 0, sizeof(c));
    c.app_id = b.app.id;
    c.now = 1000;
    CHECK_EQ(bh_store_write(s, notice_add_fn, &c), BH_OK);
    int64_t n1 = c.id;
    c.now = 1010;
    CHECK_EQ(bh_store_write(s, notice_add_fn, &c), BH_OK);
    int64_t n2 = c.id;
    CHECK(n1 > 0 && n2 > n1);
    c.app_id = 4242;
    CHECK_EQ(bh_store_write(s, notice_add_fn, &c), BH_ENOTFOUND);
    c.app_id = b.app.id;

    /* Due: none before 1000, one at 1000, both at 1010, oldest first. */
    int64_t first;
    CHECK_EQ(due_count(s, 999, NULL), 0);
    CHECK_EQ(due_count(s, 1000, &first), 1);
    CHECK_EQ(first, n1);
    CHECK_EQ(due_count(s, 1010, &first), 2);
    CHECK_EQ(first, n1);

    /* The fields as stored. */
    memset(&c, 0, sizeof(c));
    c.now = 2000;
    c.limit = 1;
    CHECK_EQ(bh_store_read(s, notice_due_fn, &c), BH_OK);
    CHECK_EQ(c.n, 1);
    if (c.n == 1) {
        CHECK_EQ(c.list[0].id, n1);
        CHECK_EQ(c.list[0].app_id, b.app.id);
        CHECK_STR(c.list[0].appkey, "plat1");
        CHECK_STR(c.list[0].iface, "baohannotice");
        CHECK_STR(c.list[0].plain_json, "{\"applystatus\":\"1\"}");
        CHECK_EQ(c.list[0].state, BH_NOTICE_PENDING);
        CHECK_EQ(c.list[0].attempts, 0);
        CHECK_EQ(c.list[0].next_attempt_at, 1000);
        CHECK(c.list[0].last_error == NULL);
        CHECK_EQ(c.list[0].created_at, 1000);
        CHECK_EQ(c.list[0].delivered_at, 0);
    }
    bh_notice_list_free(c.list, c.n);

    /* A failed attempt pushes n1 back to 1500. */
    memset(&c, 0, sizeof(c));
    c.id = n1;
    c.state = BH_NOTICE_PENDING;
    c.next = 1500;
    c.error = "HTTP 502";
    c.now = 1020;
    CHECK_EQ(bh_store_write(s, notice_attempt_fn, &c), BH_OK);
    CHECK_EQ(due_count(s, 1499, &first), 1);
    CHECK_EQ(first, n2);
    CHECK_EQ(due_count(s, 1500, &first), 2);
    CHECK_EQ(first, n2); /* n2 has been due longer */

    /* Flagged after another failure: no longer due. */
    c.state = BH_NOTICE_FLAGGED;
    c.error = "timeout";
    c.now = 1600;
    CHECK_EQ(bh_store_write(s, notice_attempt_fn, &c), BH_OK);
    CHECK_EQ(due_count(s, 99999, &first), 1);
    CHECK_EQ(first, n2);
    /* A flagged notice takes no attempt. */
    CHECK_EQ(bh_store_write(s, notice_attempt_fn, &c), BH_EINVAL);

    /* The operator retries it: pending, due now, attempts kept. */
    c.now = 1700;
    CHECK_EQ(bh_store_write(s, notice_retry_fn, &c), BH_OK);
    CHECK_EQ(due_count(s, 1700, &first), 2);
    CHECK_EQ(first, n2);
    /* Delivered. */
    c.state = BH_NOTICE_DELIVERED;
    c.error = NULL;
    c.now = 1800;
    c.next = 0;
    CHECK_EQ(bh_store_write(s, notice_attempt_fn, &c), BH_OK);
    CHECK_EQ(due_count(s, 99999, &first), 1);
    /* Delivered is final: neither attempts nor retries. */
    CHECK_EQ(bh_store_write(s, notice_attempt_fn, &c), BH_EINVAL);
    CHECK_EQ(bh_store_write(s, notice_retry_fn, &c), BH_EINVAL);
    /* Unknown ids, bad states. */
    c.id = 77777;
    c.state = BH_NOTICE_PENDING;
    CHECK_EQ(bh_store_write(s, notice_attempt_fn, &c), BH_ENOTFOUND);
    CHECK_EQ(bh_store_write(s, notice_retry_fn, &c), BH_ENOTFOUND);
    c.id = n2;
    c.state = (bh_notice_state)7;
    CHECK_EQ(bh_store_write(s, notice_attempt_fn, &c), BH_EINVAL);

    /* Listing: delivered n1 with its history. */
    memset(&c, 0, sizeof(c));
    bh_notice_state delivered = BH_NOTICE_DELIVERED;
    c.filter = &delivered;
    CHECK_EQ(bh_store_read(s, notice_list_fn, &c), BH_OK);
    CHECK_EQ(c.n, 1);
    if (c.n == 1) {
        CHECK_EQ(c.list[0].id, n1);
        CHECK_EQ(c.list[0].state, BH_NOTICE_DELIVERED);
        CHECK_EQ(c.list[0].attempts, 3);
        CHECK_EQ(c.list[0].delivered_at, 1800);
        CHECK(c.list[0].last_error == NULL);
    }
    bh_notice_list_free(c.list, c.n);
    bh_notice_state pending = BH_NOTICE_PENDING;
    memset(&c, 0, sizeof(c));
    c.filter = &pending;
    CHECK_EQ(bh_store_read(s, notice_list_fn, &c), BH_OK);
    CHECK_EQ(c.n, 1);
    if (c.n == 1)
        CHECK_EQ(c.list[0].id, n2);
    bh_notice_list_free(c.list, c.n);
    bh_notice_state flagged = BH_NOTICE_FLAGGED;
    memset(&c, 0, sizeof(c));
    c.filter = &flagged;
    CHECK_EQ(bh_store_read(s, notice_list_fn, &c), BH_OK);
    CHECK_EQ(c.n, 0);
    CHECK(c.list == NULL);
    memset(&c, 0, sizeof(c));
    CHECK_EQ(bh_store_read(s, notice_list_fn, &c), BH_OK); /* any state, newest first */
    CHECK_EQ(c.n, 2);
    if (c.n == 2) {
        CHECK_EQ(c.list[0].id, n2);
        CHECK_EQ(c.list[1].id, n1);
    }
    bh_notice_list_free(c.list, c.n);
    memset(&c, 0, sizeof(c));
    c.limit = 1;
    CHECK_EQ(bh_store_read(s, notice_list_fn, &c), BH_OK);
    CHECK_EQ(c.n, 1);
    bh_notice_list_free(c.list, c.n);
    bh_notice_state bad = (bh_notice_state)9;
    memset(&c, 0, sizeof(c));
    c.filter = &bad;
    CHECK_EQ(bh_store_read(s, notice_list_fn, &c), BH_EINVAL);

    /* Flagged with a message, then listed as such. */
    memset(&c, 0, sizeof(c));
    c.id = n2;
    c.state = BH_NOTICE_FLAGGED;
    c.error = "code 0: 签名错误";
    c.now = 1900;
    CHECK_EQ(bh_store_write(s, notice_attempt_fn, &c), BH_OK);
    memset(&c, 0, sizeof(c));
    c.filter = &flagged;
    CHECK_EQ(bh_store_read(s, notice_list_fn, &c), BH_OK);
    CHECK_EQ(c.n, 1);
    if (c.n == 1) {
        CHECK_STR(c.list[0].last_error, "code 0: 签名错误");
        CHECK_EQ(c.list[0].attempts, 1);
    }
    bh_notice_list_free(c.list, c.n);
    bh_store_close(s);
    remove_tree(e.dir);
}

/* ---- audit ------------------------------------------------------------------------ */

struct audit_ctx {
    bh_audit a;
};

static bh_err audit_fn(bh_tx *tx, void *ctx)
{
    return bh_tx_audit_add(tx, &((struct audit_ctx *)ctx)->a);
}

static void test_audit(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    CHECK_EQ(count_audit(s), 0);
    struct audit_ctx c = {{1000, "in", "baohanapply", "plat1", "AP1", 1, 200, "ok"}};
    CHECK_EQ(bh_store_write(s, audit_fn, &c), BH_OK);
    c.a.direction = "out";
    c.a.iface = NULL; /* optional parts */
    c.a.applyno = NULL;
    c.a.detail = NULL;
    c.a.code = -1;
    CHECK_EQ(bh_store_write(s, audit_fn, &c), BH_OK);
    c.a.direction = "sideways";
    CHECK_EQ(bh_store_write(s, audit_fn, &c), BH_EINVAL);
    c.a.direction = NULL;
    CHECK_EQ(bh_store_write(s, audit_fn, &c), BH_EINVAL);
    CHECK_EQ(count_audit(s), 2);
    bh_store_close(s);
    CHECK_EQ(raw_int(e.db, "SELECT code FROM audit WHERE direction = 'out'"), -1);
    /* The writer checks the direction in C (it skips CHECK constraints); the
     * schema's CHECK still holds for every other connection. */
    sqlite3 *h = NULL;
    CHECK_EQ(sqlite3_open(e.db, &h), SQLITE_OK);
    CHECK(sqlite3_exec(h,
                       "INSERT INTO audit (at, direction, code, http_status) "
                       "VALUES (1, 'sideways', 0, 0)",
                       NULL, NULL, NULL) != SQLITE_OK);
    sqlite3_close(h);
    remove_tree(e.dir);
}

/* ---- units of work ---------------------------------------------------------------- */

/* A unit that holds the writer until released, so that the test can line
 * up other units behind it deterministically. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered;
    int released;
};

static bh_err gate_fn(bh_tx *tx, void *ctx)
{
    struct gate *g = ctx;
    bh_audit a = {1, "in", "gate", NULL, NULL, 0, 0, NULL};
    bh_err err = bh_tx_audit_add(tx, &a);
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->released)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return err;
}

struct gate_thread {
    bh_store *s;
    struct gate *g;
    bh_err rc;
};

static void *gate_thread_main(void *arg)
{
    struct gate_thread *t = arg;
    t->rc = bh_store_write(t->s, gate_fn, t->g);
    return NULL;
}

static void gate_wait_entered(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->entered)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_release(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->released = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Waits (without a time limit) until `n` units are queued. */
static void wait_queued(bh_store *s, uint64_t n)
{
    uint64_t q = 0;
    for (;;) {
        bh_store_stats(s, NULL, NULL, &q);
        if (q >= n)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Inserts an application and an audit row, then fails when asked to: its
 * changes must vanish, nobody else's. */
struct mixed {
    bh_store *s;
    int n;
    int fail;
    bh_err rc;
};

static bh_err mixed_fn(bh_tx *tx, void *ctx)
{
    struct mixed *m = ctx;
    struct app_buf b;
    make_app(&b, "plat1", 100 + m->n);
    bh_err err = bh_tx_app_insert(tx, &b.app);
    bh_audit a = {2, "in", "mixed", "plat1", b.applyno, 1, 200, NULL};
    if (!err)
        err = bh_tx_audit_add(tx, &a);
    int64_t v;
    if (!err)
        err = bh_tx_next_seq(tx, "mixed", &v);
    if (!err && m->fail)
        return BH_EFORMAT;
    return err;
}

static void *mixed_main(void *arg)
{
    struct mixed *m = arg;
    m->rc = bh_store_write(m->s, mixed_fn, m);
    return NULL;
}

struct exists_ctx {
    int n;
    bh_err got;
};

static bh_err exists_fn(bh_tx *tx, void *ctx)
{
    struct exists_ctx *x = ctx;
    char applyno[32];
    snprintf(applyno, sizeof(applyno), "AP%06d", x->n);
    bh_app a;
    x->got = bh_tx_app_by_applyno(tx, "plat1", applyno, &a);
    if (!x->got)
        bh_app_release(&a);
    return BH_OK;
}

static void test_batch_rollback(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    uint64_t units0, commits0;
    bh_store_stats(s, &units0, &commits0, NULL);

    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    struct gate_thread gt = {s, &g, BH_EIO};
    pthread_t gth;
    CHECK_EQ(pthread_create(&gth, NULL, gate_thread_main, &gt), 0);
    gate_wait_entered(&g);

    /* Eight units queue behind the gate; every third one fails. */
    enum { N = 8 };
    struct mixed m[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        m[i] = (struct mixed){s, i, i % 3 == 0, BH_EIO};
        CHECK_EQ(pthread_create(&th[i], NULL, mixed_main, &m[i]), 0);
    }
    wait_queued(s, N);
    gate_release(&g);
    pthread_join(gth, NULL);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ(gt.rc, BH_OK);

    /* All nine units shared one transaction: one commit. */
    uint64_t units1, commits1;
    bh_store_stats(s, &units1, &commits1, NULL);
    CHECK_EQ(units1 - units0, N + 1);
    CHECK_EQ(commits1 - commits0, 1);

    int ok = 0;
    for (int i = 0; i < N; i++) {
        CHECK_EQ(m[i].rc, i % 3 == 0 ? BH_EFORMAT : BH_OK);
        struct exists_ctx x = {100 + i, BH_EIO};
        CHECK_EQ(bh_store_read(s, exists_fn, &x), BH_OK);
        CHECK_EQ(x.got, i % 3 == 0 ? BH_ENOTFOUND : BH_OK);
        ok += i % 3 != 0;
    }
    CHECK_EQ(count_apps(s), ok);
    CHECK_EQ(count_audit(s), ok + 1); /* + the gate's own row */
    bh_store_close(s);
    /* The sequence advanced once per surviving unit: rolled-back increments
     * are gone too. */
    CHECK_EQ(raw_int(e.db, "SELECT value FROM sequences WHERE name = 'mixed'"), ok);
    remove_tree(e.dir);
}

/* Writing from inside a unit would deadlock: refused. */
static bh_err nested_fn(bh_tx *tx, void *ctx)
{
    (void)tx;
    bh_store *s = ctx;
    return bh_store_write(s, nested_fn, s);
}

struct snapshot_ctx {
    bh_store *s;
    int64_t before, after;
};

static bh_err audit_one_fn(bh_tx *tx, void *ctx)
{
    (void)ctx;
    bh_audit a = {3, "out", "baohannotice", "plat1", "AP9", 1, 200, NULL};
    return bh_tx_audit_add(tx, &a);
}

/* Inside one read: count, let a write commit, count again. */
static bh_err snapshot_fn(bh_tx *tx, void *ctx)
{
    struct snapshot_ctx *c = ctx;
    bh_err err = bh_tx_audit_count(tx, &c->before);
    if (!err)
        err = bh_store_write(c->s, audit_one_fn, NULL);
    if (!err)
        err = bh_tx_audit_count(tx, &c->after);
    return err;
}

static bh_err fail_fn(bh_tx *tx, void *ctx)
{
    (void)ctx;
    bh_audit a = {4, "in", "x", NULL, NULL, 0, 0, NULL};
    bh_err err = bh_tx_audit_add(tx, &a);
    return err ? err : BH_ENOTFOUND;
}

static void test_units(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    CHECK_EQ(bh_store_write(s, nested_fn, s), BH_EINVAL);
    CHECK_EQ(bh_store_write(s, NULL, NULL), BH_EINVAL);
    CHECK_EQ(bh_store_read(s, NULL, NULL), BH_EINVAL);

    /* A unit's own error is returned and its changes are gone. */
    CHECK_EQ(bh_store_write(s, fail_fn, NULL), BH_ENOTFOUND);
    CHECK_EQ(count_audit(s), 0);

    /* A read is a snapshot: a write committed meanwhile is not seen. */
    struct snapshot_ctx c = {s, -1, -1};
    CHECK_EQ(bh_store_read(s, snapshot_fn, &c), BH_OK);
    CHECK_EQ(c.before, 0);
    CHECK_EQ(c.after, 0);
    CHECK_EQ(count_audit(s), 1);
    bh_store_close(s);
    remove_tree(e.dir);
}

/* ---- durability, concurrency ------------------------------------------------------ */

static void test_reopen(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    struct app_buf b;
    make_app(&b, "plat1", 1);
    CHECK_EQ(insert_app(s, &b.app), BH_OK);
    struct audit_ctx c = {{1000, "in", "baohanapply", "plat1", "AP1", 1, 200, "ok"}};
    CHECK_EQ(bh_store_write(s, audit_fn, &c), BH_OK);
    bh_store_close(s);
    s = open_store(&e);
    struct exists_ctx x = {1, BH_EIO};
    CHECK_EQ(bh_store_read(s, exists_fn, &x), BH_OK);
    CHECK_EQ(x.got, BH_OK);
    CHECK_EQ(count_audit(s), 1);
    bh_store_close(s);
    remove_tree(e.dir);
}

/* Closing while units are queued: they all finish, and are stored. */
static void test_close_drains(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    struct gate_thread gt = {s, &g, BH_EIO};
    pthread_t gth, cth;
    CHECK_EQ(pthread_create(&gth, NULL, gate_thread_main, &gt), 0);
    gate_wait_entered(&g);
    enum { N = 6 };
    struct mixed m[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        m[i] = (struct mixed){s, i, 0, BH_EIO};
        CHECK_EQ(pthread_create(&th[i], NULL, mixed_main, &m[i]), 0);
    }
    wait_queued(s, N);
    struct closer cl = {s};
    CHECK_EQ(pthread_create(&cth, NULL, closer_main, &cl), 0);
    gate_release(&g);
    pthread_join(gth, NULL);
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(m[i].rc, BH_OK);
    }
    pthread_join(cth, NULL);
    CHECK_EQ(gt.rc, BH_OK);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM applications"), N);
    remove_tree(e.dir);
}

struct worker {
    bh_store *s;
    int t;
    int failures;
};

enum { WORKERS = 8, PER_WORKER = 500 };

struct worker_unit {
    int t, i;
};

static bh_err worker_fn(bh_tx *tx, void *ctx)
{
    struct worker_unit *u = ctx;
    struct app_buf b;
    make_app(&b, "plat1", u->t * 100000 + u->i);
    bh_err err = bh_tx_app_insert(tx, &b.app);
    char applyno[32];
    snprintf(applyno, sizeof(applyno), "AP%06d", u->t * 100000 + u->i);
    bh_audit a = {5, "in", "baohanapply", "plat1", applyno, 1, 200, NULL};
    if (!err)
        err = bh_tx_audit_add(tx, &a);
    if (!err)
        err = bh_tx_answer_put(tx, "plat1", "baohanapply", applyno, "h", "{\"code\":1}", 5);
    return err;
}

static bh_err worker_read_fn(bh_tx *tx, void *ctx)
{
    struct worker_unit *u = ctx;
    char applyno[32];
    snprintf(applyno, sizeof(applyno), "AP%06d", u->t * 100000 + u->i);
    char *json = NULL;
    bh_err err = bh_tx_answer_get(tx, "plat1", "baohanapply", applyno, "h", &json);
    if (!err && strcmp(json, "{\"code\":1}") != 0)
        err = BH_EIO;
    free(json);
    return err;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_WORKER; i++) {
        struct worker_unit u = {w->t, i};
        if (bh_store_write(w->s, worker_fn, &u) != BH_OK)
            w->failures++;
        /* What was answered is readable at once, from any connection. */
        else if (i % 10 == 0 && bh_store_read(w->s, worker_read_fn, &u) != BH_OK)
            w->failures++;
    }
    return NULL;
}

static void test_concurrent(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    uint64_t units0, commits0;
    bh_store_stats(s, &units0, &commits0, NULL);
    struct worker w[WORKERS];
    pthread_t th[WORKERS];
    for (int t = 0; t < WORKERS; t++) {
        w[t] = (struct worker){s, t, 0};
        CHECK_EQ(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
    }
    for (int t = 0; t < WORKERS; t++) {
        pthread_join(th[t], NULL);
        CHECK_EQ(w[t].failures, 0);
    }
    uint64_t units1, commits1, queued;
    bh_store_stats(s, &units1, &commits1, &queued);
    CHECK_EQ(units1 - units0, WORKERS * PER_WORKER);
    CHECK(commits1 - commits0 >= 1 && commits1 - commits0 <= WORKERS * PER_WORKER);
    CHECK_EQ(queued, 0);
    printf("  %d units in %llu commits\n", WORKERS * PER_WORKER,
           (unsigned long long)(commits1 - commits0));
    CHECK_EQ(count_apps(s), WORKERS * PER_WORKER);
    CHECK_EQ(count_audit(s), WORKERS * PER_WORKER);
    bh_store_close(s);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM answers"), WORKERS * PER_WORKER);
    char text[64];
    raw_text(e.db, "PRAGMA integrity_check", text, sizeof(text));
    CHECK_STR(text, "ok");
    remove_tree(e.dir);
}

/* Enough writing to pass both checkpoint thresholds (1000 and 4096 WAL
 * pages) while readers keep reading: nothing is lost, nothing hangs. */
struct big_ctx {
    int rows;
};

static bh_err big_fn(bh_tx *tx, void *ctx)
{
    struct big_ctx *b = ctx;
    static char detail[4001];
    memset(detail, 'x', sizeof(detail) - 1);
    for (int i = 0; i < b->rows; i++) {
        bh_audit a = {i, "in", "big", NULL, NULL, 0, 0, detail};
        bh_err err = bh_tx_audit_add(tx, &a);
        if (err)
            return err;
    }
    return BH_OK;
}

struct reader {
    bh_store *s;
    int stop; /* under mu */
    pthread_mutex_t mu;
    int reads;
    int failures;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        struct count_ctx c = {-1};
        if (bh_store_read(r->s, audit_count_fn, &c) != BH_OK || c.n < 0)
            r->failures++;
        r->reads++;
    }
    return NULL;
}

static void test_checkpoints(void)
{
    struct env e;
    env_init(&e);
    bh_store *s = open_store(&e);
    struct reader r = {s, 0, PTHREAD_MUTEX_INITIALIZER, 0, 0};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, reader_main, &r), 0);
    struct big_ctx b = {1500};
    int64_t total = 0;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(bh_store_write(s, big_fn, &b), BH_OK);
        total += b.rows;
    }
    b.rows = 5000; /* one commit over the hard limit by itself */
    CHECK_EQ(bh_store_write(s, big_fn, &b), BH_OK);
    total += b.rows;
    b.rows = 10;
    CHECK_EQ(bh_store_write(s, big_fn, &b), BH_OK);
    total += b.rows;
    pthread_mutex_lock(&r.mu);
    r.stop = 1;
    pthread_mutex_unlock(&r.mu);
    pthread_join(th, NULL);
    CHECK_EQ(r.failures, 0);
    CHECK_EQ(count_audit(s), total);
    bh_store_close(s);
    CHECK_EQ(raw_int(e.db, "SELECT count(*) FROM audit"), total);
    char text[64];
    raw_text(e.db, "PRAGMA integrity_check", text, sizeof(text));
    CHECK_STR(text, "ok");
    remove_tree(e.dir);
}

int main(void)
{
    RUN(test_migrations);
    RUN(test_apps);
    RUN(test_app_lookups);
    RUN(test_list);
    RUN(test_answers);
    RUN(test_files);
    RUN(test_notices);
    RUN(test_audit);
    RUN(test_units);
    RUN(test_batch_rollback);
    RUN(test_reopen);
    RUN(test_close_drains);
    RUN(test_concurrent);
    RUN(test_checkpoints);
    return CHECK_DONE();
}
