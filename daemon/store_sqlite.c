/* The store (store.h) on SQLite 3: one database file in WAL mode plus a
 * content-addressed directory of file bytes. See docs/internals/store.md.
 *
 * Writes: one connection, owned by one writer thread. bh_store_submit()
 * queues a unit of work and returns (bh_store_write() submits and sleeps);
 * the writer takes everything queued (up to BATCH_MAX units), runs each unit
 * inside its own SAVEPOINT of one BEGIN IMMEDIATE transaction and commits
 * once (synchronous=NORMAL: no fsync), then hands the batch to the syncer
 * thread and goes on with the next batch. The syncer fdatasyncs the WAL once
 * for every batch handed over and only then reports the results (done
 * callbacks, in submission order). Units that arrive while a batch runs join
 * it until it is full.
 *
 * Reads: a small pool of query-only connections; each bh_store_read() is one
 * deferred transaction, a consistent snapshot that never waits for the
 * writer (WAL), but does wait for the syncer when it may hold a batch that
 * is committed and not yet durable.
 *
 * Every statement is prepared once per connection and cached; values are
 * always bound, never spliced into SQL text. */
#define _GNU_SOURCE /* pthread_setname_np, SCHED_BATCH */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqlite3.h>

#include "baohan/baohan.h"
#include "store.h"
#include "banned.h"

/* The most units one transaction holds: bounds the latency a unit can add
 * to the others in its batch. */
#define BATCH_MAX 256
/* Finished units kept for reuse (the rest are freed). */
#define FREE_MAX 1024
/* Read connections kept open; more concurrent readers wait for one. */
#define READERS_MAX 16
/* How long a connection waits for a lock held by another process (an
 * operator's sqlite3 shell, a backup) before giving up. */
#define BUSY_TIMEOUT_MS 5000
/* While the writer holds a batch open for the syncer, it is woken to run
 * the queued units once this many wait (see enqueue). */
#define HOLD_WAKE 8
/* Checkpoints (copying the WAL back into the database file, with an fsync
 * of that file) run on their own thread every CKPT_SOFT new pages of WAL,
 * so that the writer never stalls on them. Small and frequent: the fsync of
 * the database file holds up the WAL's own fsync behind it on the disk, so
 * its size is a latency every batch in flight then pays (bench/run-apply,
 * p99: 22–24 ms at 1000 pages, 14–15 ms at 250, 13 ms with no checkpoints
 * at all). Under sustained load such a checkpoint never quite catches up,
 * and SQLite only restarts the WAL from the beginning when everything in it
 * is copied; past CKPT_HARD pages the writer copies the rest itself between
 * two batches (see writer_main). A small WAL is also a cheaper one to
 * fsync: rewriting blocks the file already has needs no file-system
 * metadata, appending does. */
#define CKPT_SOFT 250
#define CKPT_HARD 4096
/* The largest file bh_tx_file_put accepts (SQLite itself is not involved,
 * but a size must fit an int64 column and we read files back whole). */
#define FILE_MAX ((size_t)1 << 30)

/* ---- schema ---------------------------------------------------------------- */

/* Migration i (1-based) is migrations[i - 1]. Append only: never edit a
 * migration that has shipped; add a new one that alters what it made. */
static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE applications ("
    "  id INTEGER PRIMARY KEY,"
    "  appkey TEXT NOT NULL,"
    "  applyno TEXT NOT NULL,"
    "  content_hash TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('applied', 'submitted', 'paid', 'issued',"
    "    'rejected', 'given_up', 'quit_requested', 'quit', 'claimed')),"
    "  pay_token TEXT NOT NULL,"
    "  request_json TEXT NOT NULL,"
    "  form_json TEXT,"
    "  payment_json TEXT,"
    "  claim_json TEXT,"
    "  biddername TEXT,"
    "  biddercode TEXT,"
    "  bzjamount_fen INTEGER NOT NULL,"
    "  premium_fen INTEGER NOT NULL,"
    "  baohanno TEXT,"
    "  reason TEXT,"
    "  issued_at INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE (appkey, applyno),"
    "  UNIQUE (pay_token)"
    ");"
    "CREATE UNIQUE INDEX applications_baohanno ON applications (baohanno)"
    "  WHERE baohanno IS NOT NULL;"
    "CREATE INDEX applications_state ON applications (state, created_at);"
    "CREATE INDEX applications_created ON applications (created_at);"
    "CREATE INDEX applications_biddercode ON applications (biddercode);"
    "CREATE TABLE answers ("
    "  appkey TEXT NOT NULL,"
    "  iface TEXT NOT NULL,"
    "  applyno TEXT NOT NULL,"
    "  content_hash TEXT NOT NULL,"
    "  response_json TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (appkey, iface, applyno, content_hash)"
    ") WITHOUT ROWID;"
    "CREATE TABLE files ("
    "  id INTEGER PRIMARY KEY,"
    "  app_id INTEGER NOT NULL REFERENCES applications (id),"
    "  kind TEXT NOT NULL,"
    "  token TEXT NOT NULL UNIQUE,"
    "  content_type TEXT NOT NULL,"
    "  filename TEXT NOT NULL,"
    "  md5 TEXT NOT NULL,"
    "  sm3 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (app_id, kind)"
    ");"
    "CREATE TABLE notices ("
    "  id INTEGER PRIMARY KEY,"
    "  app_id INTEGER NOT NULL REFERENCES applications (id),"
    "  appkey TEXT NOT NULL,"
    "  iface TEXT NOT NULL,"
    "  plain_json TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'flagged')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  delivered_at INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX notices_due ON notices (state, next_attempt_at);"
    "CREATE INDEX notices_app ON notices (app_id);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'admin')),"
    "  iface TEXT,"
    "  appkey TEXT,"
    "  applyno TEXT,"
    "  code INTEGER NOT NULL,"
    "  http_status INTEGER NOT NULL,"
    "  detail TEXT"
    ");"
    "CREATE TABLE sequences ("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ") WITHOUT ROWID;",
    /* 2: the platform role — the applications it sent, the notices it
     * received, the file checks of its last getbaohaninfo. */
    "CREATE TABLE platform_apps ("
    "  id INTEGER PRIMARY KEY,"
    "  institution TEXT NOT NULL,"
    "  appkey TEXT NOT NULL,"
    "  applyno TEXT NOT NULL,"
    "  content_hash TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'refused', 'issued',"
    "    'rejected', 'given_up', 'quit_requested', 'quit', 'claimed')),"
    "  request_json TEXT NOT NULL,"
    "  payurl TEXT,"
    "  baohanno TEXT,"
    "  info_json TEXT,"
    "  info_at INTEGER NOT NULL DEFAULT 0,"
    "  last_code INTEGER NOT NULL DEFAULT -1,"
    "  last_message TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE (appkey, applyno)"
    ");"
    "CREATE INDEX platform_apps_state ON platform_apps (state, created_at);"
    "CREATE TABLE platform_notices ("
    "  id INTEGER PRIMARY KEY,"
    "  app_id INTEGER NOT NULL REFERENCES platform_apps (id),"
    "  iface TEXT NOT NULL,"
    "  content_hash TEXT NOT NULL,"
    "  plain_json TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  UNIQUE (app_id, iface, content_hash)"
    ");"
    "CREATE TABLE platform_file_checks ("
    "  id INTEGER PRIMARY KEY,"
    "  app_id INTEGER NOT NULL REFERENCES platform_apps (id),"
    "  field TEXT NOT NULL,"
    "  url TEXT NOT NULL,"
    "  md5_expected TEXT,"
    "  md5_actual TEXT,"
    "  ok INTEGER NOT NULL CHECK (ok IN (0, 1)),"
    "  detail TEXT,"
    "  checked_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX platform_file_checks_app ON platform_file_checks (app_id, id);",
    /* 3: applications_biddercode never served a query — the bidder filter,
     * instr(biddername, ?) > 0 OR biddercode = ?, cannot use an index on one
     * side of the OR — yet every new application paid for it on the
     * writer thread. */
    "DROP INDEX applications_biddercode;",
    /* 4: applications.content_hash may be '': the hash of the row's
     * request_json, made when a repeat needs it (institution.c,
     * apply_again). Nothing in the schema changes; the version does, so a
     * baohand from before refuses the database instead of comparing a
     * retry against '' and refusing every retry as "different content". */
    "SELECT 1;",
};

#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- statements -------------------------------------------------------------- */

#define APP_COLS                                                                                   \
    "id, appkey, applyno, content_hash, state, pay_token, request_json, form_json,"                \
    " payment_json, claim_json, biddername, biddercode, bzjamount_fen, premium_fen, baohanno,"     \
    " reason, issued_at, created_at, updated_at"
#define FILE_COLS "id, app_id, kind, token, content_type, filename, md5, sm3, size, created_at"
#define NOTICE_COLS                                                                                \
    "id, app_id, appkey, iface, plain_json, state, attempts, next_attempt_at, last_error,"         \
    " created_at, delivered_at"

enum stmt_id {
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_APP_INSERT,
    ST_APP_BY_APPLYNO,
    ST_APP_BY_TOKEN,
    ST_APP_BY_BAOHANNO,
    ST_APP_BY_ID,
    ST_APP_UPDATE,
    ST_APP_EXISTS,
    ST_SEQ_NEXT,
    ST_ANSWER_GET,
    ST_ANSWER_PUT,
    ST_FILE_DELETE_KIND,
    ST_FILE_INSERT,
    ST_FILE_BY_TOKEN,
    ST_FILE_BY_KIND,
    ST_NOTICE_ADD,
    ST_NOTICE_DUE,
    ST_NOTICE_LIST,
    ST_NOTICE_LIST_STATE,
    ST_NOTICE_ATTEMPT,
    ST_NOTICE_RETRY,
    ST_NOTICE_EXISTS,
    ST_AUDIT_ADD,
    ST_AUDIT_COUNT,
    ST_SNAPSHOT,
    ST_COUNT_
};

static const char *const stmt_sql[ST_COUNT_] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT unit",
    [ST_RELEASE] = "RELEASE unit",
    [ST_ROLLBACK_TO] = "ROLLBACK TO unit",
    [ST_APP_INSERT] =
        "INSERT INTO applications (appkey, applyno, content_hash, state, pay_token,"
        " request_json, form_json, payment_json, claim_json, biddername, biddercode,"
        " bzjamount_fen, premium_fen, baohanno, reason, issued_at, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)",
    [ST_APP_BY_APPLYNO] =
        "SELECT " APP_COLS " FROM applications WHERE appkey = ?1 AND applyno = ?2",
    [ST_APP_BY_TOKEN] = "SELECT " APP_COLS " FROM applications WHERE pay_token = ?1",
    [ST_APP_BY_BAOHANNO] = "SELECT " APP_COLS " FROM applications WHERE baohanno = ?1",
    [ST_APP_BY_ID] = "SELECT " APP_COLS " FROM applications WHERE id = ?1",
    [ST_APP_UPDATE] = "UPDATE applications SET state = ?3, form_json = ?4, payment_json = ?5,"
                      " claim_json = ?6, premium_fen = ?7, baohanno = ?8, reason = ?9,"
                      " issued_at = ?10, updated_at = ?11 WHERE id = ?1 AND state = ?2",
    [ST_APP_EXISTS] = "SELECT 1 FROM applications WHERE id = ?1",
    [ST_SEQ_NEXT] = "INSERT INTO sequences (name, value) VALUES (?1, 1)"
                    " ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
    [ST_ANSWER_GET] = "SELECT response_json FROM answers WHERE appkey = ?1 AND iface = ?2"
                      " AND applyno = ?3 AND content_hash = ?4",
    [ST_ANSWER_PUT] = "INSERT INTO answers (appkey, iface, applyno, content_hash,"
                      " response_json, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_FILE_DELETE_KIND] = "DELETE FROM files WHERE app_id = ?1 AND kind = ?2",
    [ST_FILE_INSERT] = "INSERT INTO files (app_id, kind, token, content_type, filename, md5, sm3,"
                       " size, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_FILE_BY_TOKEN] = "SELECT " FILE_COLS " FROM files WHERE token = ?1",
    [ST_FILE_BY_KIND] = "SELECT " FILE_COLS " FROM files WHERE app_id = ?1 AND kind = ?2",
    [ST_NOTICE_ADD] = "INSERT INTO notices (app_id, appkey, iface, plain_json, state, attempts,"
                      " next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)",
    [ST_NOTICE_DUE] = "SELECT " NOTICE_COLS " FROM notices WHERE state = 'pending'"
                      " AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
    [ST_NOTICE_LIST] = "SELECT " NOTICE_COLS " FROM notices ORDER BY id DESC LIMIT ?1",
    [ST_NOTICE_LIST_STATE] = "SELECT " NOTICE_COLS " FROM notices WHERE state = ?2"
                             " ORDER BY id DESC LIMIT ?1",
    [ST_NOTICE_ATTEMPT] =
        "UPDATE notices SET state = ?2, attempts = attempts + 1, next_attempt_at = ?3,"
        " last_error = ?4, delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 ELSE delivered_at END"
        " WHERE id = ?1 AND state = 'pending'",
    [ST_NOTICE_RETRY] = "UPDATE notices SET state = 'pending', next_attempt_at = ?2"
                        " WHERE id = ?1 AND state <> 'delivered'",
    [ST_NOTICE_EXISTS] = "SELECT 1 FROM notices WHERE id = ?1",
    [ST_AUDIT_ADD] = "INSERT INTO audit (at, direction, iface, appkey, applyno, code, http_status,"
                     " detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_AUDIT_COUNT] = "SELECT count(*) FROM audit",
    /* Any read starts a deferred transaction's snapshot. */
    [ST_SNAPSHOT] = "SELECT 1 FROM sqlite_schema LIMIT 1",
};

/* bh_tx_app_list filters, one cached statement per combination. */
enum { LIST_STATE = 1, LIST_BIDDER = 2, LIST_FROM = 4, LIST_TO = 8, LIST_VARIANTS = 16 };

/* ---- connections and the store ----------------------------------------------- */

struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT_];
    sqlite3_stmt *list[LIST_VARIANTS];
    struct conn *next; /* in the reader pool's free list */
};

/* A queued unit of work. Taken from the store's pool of free units (or
 * malloc'd when the pool is empty) by enqueue(), owned by the writer from
 * the moment it is taken off the queue, by the syncer once its batch is
 * handed over, and returned to the pool after its done callback. */
struct unit {
    bh_tx_fn fn;
    void *ctx;
    bh_store_done_fn done;
    void *done_ctx;
    bh_err rc;
    int whole;     /* no savepoint: its failure fails its whole transaction */
    int committed; /* its batch's COMMIT succeeded (it needs a sync) */
    uint64_t seq;  /* its batch's number (1, 2, …) */
    struct unit *next;
};

struct bh_tx {
    bh_store *store;
    struct conn *c;
    int writable;
};

struct bh_store {
    char *path;
    char *files_dir;
    char *wal_path;
    int schema_version;

    /* The writer: its connection, thread and queue, all under `mu`. */
    struct conn w;
    pthread_t writer;
    int writer_started;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* the writer waits here for units */
    int writer_holding;     /* the writer holds a batch open until the syncer is free */
    pthread_cond_t idle_cv; /* bh_store_close waits here for callers */
    struct unit *head, *tail;
    uint64_t queued;
    uint64_t writers_active; /* callers inside bh_store_write */
    int closing;
    uint64_t units;
    uint64_t commits;
    struct unit *free_units; /* the pool: recycled units, no malloc a unit */
    size_t nfree;
    uint64_t batch_seq; /* writer thread only: the last batch's number */
    /* The number of the last batch whose COMMIT began (written by the writer
     * before COMMIT, read by readers after their snapshot is established). */
    _Atomic uint64_t committing;

    /* The syncer: batches committed and waiting for their fdatasync, in
     * order, and what is durable, all under `sync_mu`. */
    pthread_t syncer;
    int syncer_started;
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;    /* the syncer waits here for batches */
    pthread_cond_t durable_cv; /* readers wait here for `durable` */
    struct unit *sync_head, *sync_tail;
    _Atomic uint64_t in_flight; /* batches handed over, not yet done (read unlocked) */
    int sync_closing;
    _Atomic uint64_t durable; /* every batch up to this number is done */
    _Atomic int failed;       /* an fdatasync failed: nothing more is written */
    int wal_fd;               /* our descriptor of <db>-wal (open_wal), or -1 */
    bh__store_hook_fn hook;
    void *hook_ctx;

    /* The checkpointer: its connection and thread, under `ckpt_mu`. */
    struct conn ck;
    pthread_t checkpointer;
    int checkpointer_started;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    int ckpt_wanted;
    int ckpt_closing;
    int wal_frames; /* writer thread only: the WAL's size after the last commit */
    int ckpt_asked_at; /* writer thread only: the WAL's size when a checkpoint was last asked for */

    /* The reader pool, under `pool_mu`. */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    struct conn *free_readers;
    size_t readers_open;
    size_t readers_active;
    int pool_closing;
};

/* ---- SQLite helpers ------------------------------------------------------------ */

/* Maps an SQLite result to a bh_err. Constraint failures are the caller's
 * (duplicates, references to missing rows, bad values); anything else is an
 * I/O-class failure worth a line on stderr, since no diag reaches here. */
static bh_err sql_err(sqlite3 *db, int rc, const char *what)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return BH_EDUPKEY;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return BH_ENOTFOUND;
    case SQLITE_NOMEM:
        return BH_ENOMEM;
    case SQLITE_TOOBIG:
        return BH_ETOOBIG;
    default:
        break;
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return BH_EINVAL;
    fprintf(stderr, "baohand: store: %s: %s (SQLite %d)\n", what,
            db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
    return BH_EIO;
}

static bh_err prepare(struct conn *c, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return sql_err(c->db, rc, "prepare");
    }
    return BH_OK;
}

/* The connection's cached statement `id`, prepared on first use. `*out` is
 * NULL on failure. */
static bh_err stmt(struct conn *c, enum stmt_id id, sqlite3_stmt **out)
{
    bh_err err = BH_OK;
    if (!c->st[id])
        err = prepare(c, stmt_sql[id], &c->st[id]);
    *out = c->st[id];
    return err;
}

/* A statement for use inside a unit or a read. Every bh_tx runs inside an
 * open transaction; if SQLite has rolled it back (an I/O error, disk full),
 * nothing more may run, or it would commit on its own outside any batch. */
static bh_err tx_stmt(bh_tx *tx, enum stmt_id id, sqlite3_stmt **out)
{
    *out = NULL;
    if (sqlite3_get_autocommit(tx->c->db))
        return BH_EIO;
    return stmt(tx->c, id, out);
}

/* Returns a statement to its cache: reset, bindings cleared (so no pointer
 * to a caller's string outlives the call). */
static void done_with(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static bh_err bind_text(sqlite3 *db, sqlite3_stmt *st, int i, const char *s)
{
    int rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
    return rc == SQLITE_OK ? BH_OK : sql_err(db, rc, "bind");
}

static bh_err bind_int(sqlite3 *db, sqlite3_stmt *st, int i, int64_t v)
{
    int rc = sqlite3_bind_int64(st, i, v);
    return rc == SQLITE_OK ? BH_OK : sql_err(db, rc, "bind");
}

/* Runs a statement that returns no rows; always resets it. */
static bh_err run(struct conn *c, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    bh_err err = rc == SQLITE_DONE ? BH_OK : sql_err(c->db, rc, what);
    done_with(st);
    return err;
}

/* Runs one of the parameterless control statements (BEGIN, SAVEPOINT, …). */
static bh_err control(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *st;
    bh_err err = stmt(c, id, &st);
    return err ? err : run(c, st, stmt_sql[id]);
}

/* Copies a text column (NULL stays NULL). */
static bh_err col_text(sqlite3_stmt *st, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return BH_OK;
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return BH_ENOMEM;
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *p = malloc(n + 1);
    if (!p)
        return BH_ENOMEM;
    memcpy(p, t, n);
    p[n] = '\0';
    *out = p;
    return BH_OK;
}

static void conn_close(struct conn *c)
{
    if (!c->db)
        return;
    for (int i = 0; i < ST_COUNT_; i++)
        sqlite3_finalize(c->st[i]);
    for (int i = 0; i < LIST_VARIANTS; i++)
        sqlite3_finalize(c->list[i]);
    sqlite3_close(c->db);
    memset(c, 0, sizeof(*c));
}

/* Runs a PRAGMA and, when `want` is not NULL, checks the text it answers. */
static bh_err pragma(struct conn *c, const char *sql, const char *want, bh_diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *got = (const char *)sqlite3_column_text(st, 0);
            if (want && (!got || strcmp(got, want) != 0)) {
                sqlite3_finalize(st);
                return bh_diag_add(d, BH_EIO, "store", "%s answered \"%s\", expected \"%s\"", sql,
                                   got ? got : "", want);
            }
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return bh_diag_add(d, BH_EIO, "store", "%s failed: %s", sql, sqlite3_errmsg(c->db));
    return BH_OK;
}

/* Opens a connection with the settings every connection needs. */
enum role { ROLE_READER, ROLE_WRITER, ROLE_CHECKPOINTER };

static bh_err conn_open(struct conn *c, const char *path, enum role role, bh_diag *d)
{
    int writer = role == ROLE_WRITER;
    memset(c, 0, sizeof(*c));
    /* NOMUTEX: each connection is used by one thread at a time (the writer
     * thread, or the reader that took it from the pool). */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        bh_err err = bh_diag_add(d, BH_EIO, "store", "cannot open the database %s: %s", path,
                                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        c->db = NULL;
        return err;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    bh_err err = BH_OK;
    if (writer) {
        /* WAL is a property of the file: set once here, readers inherit it. */
        if (!err)
            err = pragma(c, "PRAGMA journal_mode = WAL", "wal", d);
        /* After a checkpoint the WAL is truncated back to 64 MiB. */
        if (!err)
            err = pragma(c, "PRAGMA journal_size_limit = 67108864", NULL, d);
        /* 64 MiB of page cache: the indexes a unit touches stay in memory. */
        if (!err)
            err = pragma(c, "PRAGMA cache_size = -65536", NULL, d);
        /* The schema's CHECK (x IN ('a', 'b', …)) constraints make SQLite
         * build a temporary table of the list for every row written: ~5 us
         * an INSERT, ~10 us of every request's unit on this one thread. The
         * values this code writes are never free text (bh_app_state_name,
         * the notice state names, the audit directions, all checked before
         * binding, and NOT NULL still catches a NULL from a bad enum), so
         * the writer skips them; they stay in the schema for every other
         * connection, e.g. an operator's sqlite3 shell. */
        if (!err)
            err = pragma(c, "PRAGMA ignore_check_constraints = ON", NULL, d);
    } else if (role == ROLE_READER) {
        if (!err)
            err = pragma(c, "PRAGMA query_only = ON", NULL, d);
        if (!err)
            err = pragma(c, "PRAGMA cache_size = -8192", NULL, d);
    }
    /* FULL: in WAL mode every COMMIT fsyncs the WAL, so a committed batch
     * survives a power cut. The writer runs its migrations so, then switches
     * to NORMAL (commits do not sync; the syncer thread does, see
     * syncer_main), every other connection stays FULL. */
    if (!err)
        err = pragma(c, "PRAGMA synchronous = FULL", NULL, d);
    if (!err)
        err = pragma(c, "PRAGMA foreign_keys = ON", NULL, d);
    if (err)
        conn_close(c);
    return err;
}

/* ---- migrations ---------------------------------------------------------------- */

/* Brings the schema up to date, one transaction per migration. The version
 * is read inside each transaction (BEGIN IMMEDIATE holds the write lock), so
 * two processes opening the same file at once cannot both apply one. */
static bh_err migrate(struct conn *c, const char *path, int *version, bh_diag *d)
{
    for (;;) {
        char *msg = NULL;
        int rc = sqlite3_exec(c->db,
                              "BEGIN IMMEDIATE;"
                              "CREATE TABLE IF NOT EXISTS schema_version ("
                              "  version INTEGER PRIMARY KEY,"
                              "  applied_at INTEGER NOT NULL)",
                              NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            bh_err err = bh_diag_add(d, BH_EIO, "store", "cannot read the schema version of %s: %s",
                                     path, msg ? msg : sqlite3_errstr(rc));
            sqlite3_free(msg);
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return err;
        }
        sqlite3_stmt *st = NULL;
        int64_t current = -1;
        rc = sqlite3_prepare_v2(c->db, "SELECT coalesce(max(version), 0) FROM schema_version", -1,
                                &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
            current = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (current < 0) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return bh_diag_add(d, BH_EIO, "store", "cannot read the schema version of %s: %s", path,
                               sqlite3_errmsg(c->db));
        }
        if (current > MIGRATION_COUNT) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return bh_diag_add(d, BH_EINVAL, "store",
                               "the database %s has schema version %lld, newer than this baohand "
                               "knows (%d): run a baohand at least as new as the one that "
                               "upgraded it",
                               path, (long long)current, MIGRATION_COUNT);
        }
        if (current == MIGRATION_COUNT) {
            *version = (int)current;
            rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
            if (rc != SQLITE_OK) {
                sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
                return bh_diag_add(d, BH_EIO, "store", "cannot commit on %s: %s", path,
                                   sqlite3_errmsg(c->db));
            }
            return BH_OK;
        }
        int next = (int)current + 1;
        rc = sqlite3_exec(c->db, migrations[next - 1], NULL, NULL, &msg);
        if (rc == SQLITE_OK) {
            rc = sqlite3_prepare_v2(
                c->db, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", -1, &st,
                NULL);
            if (rc == SQLITE_OK) {
                sqlite3_bind_int(st, 1, next);
                sqlite3_bind_int64(st, 2, bh_time_now());
                rc = sqlite3_step(st);
                if (rc == SQLITE_DONE)
                    rc = SQLITE_OK;
            }
            sqlite3_finalize(st);
        }
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            bh_err err = bh_diag_add(d, BH_EIO, "store", "migration %d failed on %s: %s", next,
                                     path, msg ? msg : sqlite3_errmsg(c->db));
            sqlite3_free(msg);
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return err;
        }
    }
}

/* ---- the writer thread ------------------------------------------------------------ */

/* Names the calling store thread (in top and /proc) and makes it a batch
 * thread for the scheduler. The store's threads are throughput work; the
 * request threads are what a client waits on. Under SCHED_OTHER the syncer
 * waking from its fdatasync, or the writer from its queue, preempted
 * whichever request thread was running, dozens of times a millisecond on
 * two cores; SCHED_BATCH (same priority, no privilege needed) lets a woken
 * store thread wait for the running one's slice instead: 21.0-21.2k
 * baohanapply/s became 22.0-22.9k in bench/run-apply. Refused (not Linux,
 * a seccomp filter), it only stays as fast as before. */
static void store_thread(const char *name)
{
    pthread_setname_np(pthread_self(), name);
    /* Only from the default policy: an operator who runs baohand under a
     * real-time policy (chrt, systemd's CPUSchedulingPolicy=) keeps it on
     * every thread, or the request threads could starve the store's. */
    int policy;
    struct sched_param param;
    if (pthread_getschedparam(pthread_self(), &policy, &param) == 0 && policy == SCHED_OTHER) {
        struct sched_param none = {0};
        (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
    }
}

/* Takes up to `max` units off the front of the queue (the whole queue in
 * one step when it fits). Call with `mu` held. */
static struct unit *take(bh_store *s, size_t max)
{
    struct unit *first = s->head;
    if (!first)
        return NULL;
    if (s->queued <= max) {
        s->head = s->tail = NULL;
        s->queued = 0;
        return first;
    }
    struct unit *last = first;
    for (size_t n = 1; n < max; n++)
        last = last->next;
    s->head = last->next;
    last->next = NULL;
    s->queued -= max;
    return first;
}

/* Fails every unit from `first` to `last` (inclusive) with BH_EIO. */
static void fail_range(struct unit *first, const struct unit *last)
{
    for (struct unit *u = first; u; u = u->next) {
        u->rc = BH_EIO;
        if (u == last)
            break;
    }
}

/* Runs one unit inside its own savepoint of the open transaction. Returns
 * 1 when the transaction must not be committed: it ended (SQLite rolled it
 * back) or it may still hold a failed unit's changes. */
static int run_unit(bh_store *s, struct unit *u)
{
    bh_tx tx = {s, &s->w, 1};
    if (u->whole) {
        /* bh_store_submit_whole: a savepoint costs ~15 us a unit, a third
         * of a new application's store work. Without one, a failure can
         * only be undone with the whole transaction. */
        u->rc = u->fn(&tx, u->ctx);
        return u->rc != BH_OK || sqlite3_get_autocommit(s->w.db);
    }
    if (control(&s->w, ST_SAVEPOINT) != BH_OK) {
        u->rc = BH_EIO;
        return sqlite3_get_autocommit(s->w.db);
    }
    u->rc = u->fn(&tx, u->ctx);
    if (sqlite3_get_autocommit(s->w.db))
        return 1; /* the transaction itself is gone */
    if (u->rc == BH_OK && control(&s->w, ST_RELEASE) == BH_OK)
        return 0;
    if (u->rc == BH_OK)
        u->rc = BH_EIO;
    /* ROLLBACK TO keeps the savepoint open; RELEASE pops it. Should either
     * fail, this unit's changes might still be in the transaction: then
     * nothing of it may be committed, and the whole transaction goes (the
     * batch sees it ended and fails every unit in it). */
    if (control(&s->w, ST_ROLLBACK_TO) == BH_OK && control(&s->w, ST_RELEASE) == BH_OK)
        return 0;
    if (!sqlite3_get_autocommit(s->w.db))
        (void)control(&s->w, ST_ROLLBACK);
    return 1;
}

/* Hands a finished batch (its units in submission order, every result
 * set) to the syncer. */
static void hand_to_syncer(bh_store *s, struct unit *batch, struct unit *last)
{
    pthread_mutex_lock(&s->sync_mu);
    if (s->sync_tail)
        s->sync_tail->next = batch;
    else
        s->sync_head = batch;
    s->sync_tail = last;
    s->in_flight++;
    pthread_cond_signal(&s->sync_cv);
    pthread_mutex_unlock(&s->sync_mu);
}

/* One batch: as many queued units as arrive before it is full, one
 * transaction, one COMMIT (no fsync: synchronous=NORMAL), then the batch
 * goes to the syncer, which makes it durable and reports the results. */
static void write_batch(bh_store *s)
{
    struct unit *batch = NULL, *last = NULL; /* every unit taken, in order */
    struct unit *tx_first = NULL;            /* the open transaction's first unit */
    size_t taken = 0;
    int open = 0, poisoned = 0, committed = 0;
    /* After a failed fdatasync nothing more is written (see syncer_main). */
    int failed = atomic_load(&s->failed);

    for (;;) {
        pthread_mutex_lock(&s->mu);
        struct unit *got = take(s, BATCH_MAX - taken);
        if (!got && open && !poisoned && taken < BATCH_MAX && !s->closing &&
            atomic_load(&s->in_flight) > 0) {
            /* The syncer is busy with earlier batches: committing now would
             * make this batch wait for the next sync all the same. Keep the
             * transaction open and run what arrives until the syncer is free
             * (it signals work_cv) — fewer, larger commits for one fsync. */
            s->writer_holding = 1;
            pthread_cond_wait(&s->work_cv, &s->mu);
            s->writer_holding = 0;
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        if (!got)
            break;
        if (last)
            last->next = got;
        else
            batch = got;
        for (struct unit *u = got; u; u = u->next) {
            last = u;
            taken++;
            if (failed || poisoned) {
                u->rc = BH_EIO;
                continue;
            }
            if (!open) {
                if (control(&s->w, ST_BEGIN_IMMEDIATE) != BH_OK) {
                    u->rc = BH_EIO;
                    continue;
                }
                open = 1;
                tx_first = u;
            }
            if (run_unit(s, u)) {
                /* The transaction is lost (an I/O error, disk full, or a
                 * savepoint that would not roll back): every unit in it
                 * fails. The rest of the batch starts a new one. */
                if (!sqlite3_get_autocommit(s->w.db))
                    (void)control(&s->w, ST_ROLLBACK);
                open = !sqlite3_get_autocommit(s->w.db);
                fail_range(tx_first, u);
                tx_first = NULL;
                if (open) {
                    /* Even ROLLBACK failed: nothing more can safely run in
                     * this transaction, and COMMIT below must not happen.
                     * Fail the rest of the batch. */
                    poisoned = 1;
                }
            }
        }
    }
    if (!batch)
        return;
    uint64_t seq = ++s->batch_seq;
    /* A sync may have failed while this batch was held open: nothing more
     * is committed after that (see syncer_main). */
    if (open && !poisoned && atomic_load(&s->failed)) {
        poisoned = 1;
        fail_range(tx_first, last);
    }
    if (open && poisoned) {
        (void)control(&s->w, ST_ROLLBACK);
    } else if (open) {
        /* Published before COMMIT: a reader whose snapshot shows this batch
         * reads at least `seq` here afterwards, and waits for its sync. */
        atomic_store(&s->committing, seq);
        if (control(&s->w, ST_COMMIT) == BH_OK) {
            committed = 1;
        } else {
            if (!sqlite3_get_autocommit(s->w.db))
                (void)control(&s->w, ST_ROLLBACK);
            fail_range(tx_first, last);
        }
    }
    for (struct unit *u = batch; u; u = u->next) {
        u->seq = seq;
        u->committed = committed;
    }
    pthread_mutex_lock(&s->mu);
    s->units += taken;
    s->commits += (uint64_t)committed;
    pthread_mutex_unlock(&s->mu);
    hand_to_syncer(s, batch, last);
}

/* Called by SQLite on the writer's connection after every commit with the
 * WAL's size in pages (and replacing its automatic checkpoints). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    bh_store *s = arg;
    s->wal_frames = frames;
    if (frames < s->ckpt_asked_at)
        s->ckpt_asked_at = 0; /* the WAL started over */
    /* Every CKPT_SOFT new frames, not after every commit past CKPT_SOFT: each
     * checkpoint ends with an fsync of the database file, and one per commit
     * cost more CPU than copying the pages and slowed the WAL's own fsyncs. */
    if (frames >= s->ckpt_asked_at + CKPT_SOFT && s->checkpointer_started) {
        s->ckpt_asked_at = frames;
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_wanted = 1;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->ckpt_mu);
    }
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    bh_store *s = arg;
    store_thread("bh-checkpoint");
    pthread_mutex_lock(&s->ckpt_mu);
    for (;;) {
        while (!s->ckpt_wanted && !s->ckpt_closing)
            pthread_cond_wait(&s->ckpt_cv, &s->ckpt_mu);
        if (s->ckpt_closing)
            break;
        s->ckpt_wanted = 0;
        pthread_mutex_unlock(&s->ckpt_mu);
        /* PASSIVE: copies what it can without waiting for the writer or
         * readers. Failure (a reader on an old snapshot, another process
         * checkpointing) is harmless: the next commit asks again. This
         * connection is synchronous=FULL, so the checkpoint fsyncs the WAL
         * before copying frames (committed ones the syncer may not have
         * reached yet included) and the database before the WAL may be
         * reused. */
        (void)sqlite3_wal_checkpoint_v2(s->ck.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&s->ckpt_mu);
    }
    pthread_mutex_unlock(&s->ckpt_mu);
    return NULL;
}

static void *writer_main(void *arg)
{
    bh_store *s = arg;
    store_thread("bh-store-writer");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->closing)
            pthread_cond_wait(&s->work_cv, &s->mu);
        if (!s->head)
            break; /* closing and drained */
        pthread_mutex_unlock(&s->mu);
        write_batch(s);
        if (s->wal_frames >= CKPT_HARD && !atomic_load(&s->failed)) {
            /* The WAL starts over at the next BEGIN once every frame in it
             * is in the database, which the checkpointer never quite
             * reaches under load (frames keep coming while it copies).
             * Between two batches nothing is being written, so a PASSIVE
             * checkpoint here copies the rest — only what the checkpointer
             * has not, and it returns at once (BUSY) while the checkpointer
             * is at work: the next batch tries again. Only a WAL that still
             * grows to 4 × CKPT_HARD (readers holding old snapshots) gets
             * the blocking RESTART, which waits for them. Either way the
             * checkpoint syncs: the WAL before copying, the database after. */
            int restart = s->wal_frames >= 4 * CKPT_HARD;
            int rc = sqlite3_wal_checkpoint_v2(
                s->w.db, NULL, restart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE,
                NULL, NULL);
            if (rc != SQLITE_OK && rc != SQLITE_BUSY)
                (void)sql_err(s->w.db, rc, "checkpoint");
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the syncer thread --------------------------------------------------------------- */

static bh_err fsync_dir(const char *dir);

/* The test hook, read under sync_mu. */
static bh__store_hook_fn get_hook(bh_store *s, void **ctx)
{
    pthread_mutex_lock(&s->sync_mu);
    bh__store_hook_fn fn = s->hook;
    *ctx = s->hook_ctx;
    pthread_mutex_unlock(&s->sync_mu);
    return fn;
}

/* Makes everything committed so far durable: fdatasync of the WAL on our
 * own descriptor (see open_wal). Returns 0 or an errno value; `what` names
 * what failed. */
static int sync_wal(bh_store *s, const char **what)
{
    *what = s->wal_path;
    void *hctx;
    bh__store_hook_fn hook = get_hook(s, &hctx);
    if (hook) {
        int e = hook(hctx, BH__STORE_SYNC_BEFORE);
        if (e)
            return e;
    }
    if (fdatasync(s->wal_fd) != 0)
        return errno;
    if (hook)
        (void)hook(hctx, BH__STORE_SYNC_AFTER);
    return 0;
}

/* Opens the syncer's descriptor of <db>-wal and fsyncs the database's
 * directory once, so that the WAL's name survives a crash too. The WAL
 * exists by now (migrate ran a transaction in WAL mode) and stays the same
 * file while our connections are open: each holds a shared lock on the
 * database, and SQLite deletes the WAL only when the last one closes. */
static bh_err open_wal(bh_store *s, bh_diag *d)
{
    s->wal_fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
    if (s->wal_fd < 0)
        return bh_diag_add(d, BH_EIO, "store", "cannot open %s: %s", s->wal_path,
                           strerror(errno));
    char *dir = strdup(s->path);
    if (!dir)
        return BH_ENOMEM;
    char *slash = strrchr(dir, '/');
    const char *name = !slash ? "." : slash == dir ? "/" : dir;
    if (slash > dir)
        *slash = '\0';
    bh_err err = fsync_dir(name);
    if (err)
        err = bh_diag_add(d, err, "store", "cannot fsync the directory of %s: %s", s->path,
                          strerror(errno));
    free(dir);
    return err;
}

/* Puts units back into the pool (up to FREE_MAX of them; the rest are
 * freed). */
static void recycle(bh_store *s, struct unit *list)
{
    pthread_mutex_lock(&s->mu);
    while (list && s->nfree < FREE_MAX) {
        struct unit *u = list;
        list = u->next;
        u->next = s->free_units;
        s->free_units = u;
        s->nfree++;
    }
    pthread_mutex_unlock(&s->mu);
    while (list) {
        struct unit *u = list;
        list = u->next;
        free(u);
    }
}

/* Takes every batch the writer has committed, makes them durable with one
 * fdatasync, marks them durable (readers wait for that) and calls their
 * done callbacks in order. While it syncs, the writer runs the next batch.
 *
 * Durability equals synchronous=FULL's: a unit's result is reported only
 * after an fdatasync of the WAL that began after its COMMIT returned, and a
 * COMMIT in WAL mode has written every frame of the transaction (with its
 * commit marker) to the WAL file by then. Checkpoints move frames into the
 * database only after syncing the WAL (every checkpointing connection is
 * FULL or NORMAL, never OFF), and sync the database before the WAL is
 * reused, exactly as under FULL; and the header of a restarted WAL is
 * synced before the frames after it under NORMAL too. What NORMAL gives up alone — a commit
 * being durable when COMMIT returns — no caller ever sees.
 *
 * A failed fdatasync leaves the fate of the data unknown (the kernel may
 * have dropped the dirty pages and cleared the error: "fsyncgate"), so
 * retrying proves nothing: every unit not yet reported fails with BH_EIO,
 * and the store refuses every later write until baohand restarts. */
static void *syncer_main(void *arg)
{
    bh_store *s = arg;
    store_thread("bh-store-syncer");
    pthread_mutex_lock(&s->sync_mu);
    for (;;) {
        while (!s->sync_head && !s->sync_closing)
            pthread_cond_wait(&s->sync_cv, &s->sync_mu);
        if (!s->sync_head)
            break; /* closing and drained */
        struct unit *list = s->sync_head;
        s->sync_head = s->sync_tail = NULL;
        pthread_mutex_unlock(&s->sync_mu);

        int need = 0;
        uint64_t last = 0, batches = 0;
        for (struct unit *u = list; u; u = u->next) {
            need |= u->committed;
            if (u->seq != last) {
                batches++;
                last = u->seq;
            }
        }
        int ok = !atomic_load(&s->failed);
        if (need && ok) {
            const char *what;
            int e = sync_wal(s, &what);
            if (e) {
                ok = 0;
                if (!atomic_exchange(&s->failed, 1))
                    fprintf(stderr, "baohand: store: fsync of %s failed: %s; restart baohand\n",
                            what, strerror(e));
            }
        }
        pthread_mutex_lock(&s->sync_mu);
        if (ok)
            atomic_store(&s->durable, last);
        s->in_flight -= batches;
        int idle = s->in_flight == 0;
        pthread_cond_broadcast(&s->durable_cv);
        pthread_mutex_unlock(&s->sync_mu);
        if (idle) {
            /* A writer holding a batch open for us may commit it now. */
            pthread_mutex_lock(&s->mu);
            pthread_cond_signal(&s->work_cv);
            pthread_mutex_unlock(&s->mu);
        }

        for (struct unit *u = list; u; u = u->next)
            u->done(u->done_ctx, ok ? u->rc : BH_EIO);
        recycle(s, list);
        pthread_mutex_lock(&s->sync_mu);
    }
    pthread_mutex_unlock(&s->sync_mu);
    return NULL;
}

/* Waits until every batch up to `seq` is durable: BH_EIO when that can no
 * longer happen (an fdatasync failed). */
static bh_err wait_durable(bh_store *s, uint64_t seq)
{
    if (atomic_load(&s->durable) >= seq)
        return BH_OK;
    void *hctx;
    bh__store_hook_fn hook = get_hook(s, &hctx);
    if (hook)
        (void)hook(hctx, BH__STORE_READ_WAITS);
    pthread_mutex_lock(&s->sync_mu);
    while (atomic_load(&s->durable) < seq && !atomic_load(&s->failed))
        pthread_cond_wait(&s->durable_cv, &s->sync_mu);
    pthread_mutex_unlock(&s->sync_mu);
    return atomic_load(&s->durable) >= seq ? BH_OK : BH_EIO;
}

/* ---- open, close, run --------------------------------------------------------------- */

/* SQLite's process-wide settings, once, before its first use. Memory
 * statistics off: with them on (the default) every sqlite3_malloc and
 * sqlite3_free takes one global mutex to count bytes nobody here reads —
 * the writer, the checkpointer and every reader contending for it, a few
 * per statement. sqlite3_config refuses (SQLITE_MISUSE) once the library
 * is initialised, e.g. when the embedding program used SQLite first; then
 * the default stays, which is only slower. */
static pthread_once_t sqlite_config_once = PTHREAD_ONCE_INIT;

static void sqlite_config(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void store_free(bh_store *s)
{
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    conn_close(&s->ck);
    conn_close(&s->w);
    while (s->free_readers) {
        struct conn *c = s->free_readers;
        s->free_readers = c->next;
        conn_close(c);
        free(c);
    }
    while (s->free_units) {
        struct unit *u = s->free_units;
        s->free_units = u->next;
        free(u);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->idle_cv);
    pthread_mutex_destroy(&s->sync_mu);
    pthread_cond_destroy(&s->sync_cv);
    pthread_cond_destroy(&s->durable_cv);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->ckpt_mu);
    pthread_cond_destroy(&s->ckpt_cv);
    free(s->path);
    free(s->files_dir);
    free(s->wal_path);
    free(s);
}

/* Stops one of our threads: sets its `closing` flag under its mutex, wakes
 * it and waits for it (it finishes what it was handed first). */
static void stop_thread(int *started, pthread_t th, pthread_mutex_t *mu, pthread_cond_t *cv,
                        int *closing)
{
    if (!*started)
        return;
    pthread_mutex_lock(mu);
    *closing = 1;
    pthread_cond_signal(cv);
    pthread_mutex_unlock(mu);
    pthread_join(th, NULL);
    *started = 0;
}

static void stop_checkpointer(bh_store *s)
{
    stop_thread(&s->checkpointer_started, s->checkpointer, &s->ckpt_mu, &s->ckpt_cv,
                &s->ckpt_closing);
}

/* Lets the syncer finish every batch handed to it, then stops it. */
static void stop_syncer(bh_store *s)
{
    stop_thread(&s->syncer_started, s->syncer, &s->sync_mu, &s->sync_cv, &s->sync_closing);
}

bh_err bh_store_open(const char *location, const char *files_dir, bh_store **out, bh_diag *d)
{
    if (!location || !*location || !files_dir || !*files_dir || !out)
        return bh_diag_add(d, BH_EINVAL, "store",
                           "a database path and a files directory are needed");
    *out = NULL;
    if (!sqlite3_threadsafe())
        return bh_diag_add(d, BH_EINVAL, "store", "the SQLite library was built without threads");
    pthread_once(&sqlite_config_once, sqlite_config);
    bh_store *s = calloc(1, sizeof(*s));
    if (!s)
        return BH_ENOMEM;
    s->wal_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    pthread_mutex_init(&s->sync_mu, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    pthread_cond_init(&s->durable_cv, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    pthread_mutex_init(&s->ckpt_mu, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    s->path = strdup(location);
    s->files_dir = strdup(files_dir);
    size_t n = strlen(location);
    s->wal_path = malloc(n + sizeof("-wal"));
    if (!s->path || !s->files_dir || !s->wal_path) {
        store_free(s);
        return BH_ENOMEM;
    }
    memcpy(s->wal_path, location, n);
    memcpy(s->wal_path + n, "-wal", sizeof("-wal"));
    bh_err err = bh_mkdir_p(files_dir, 0750, "files_dir", d);
    if (!err)
        err = conn_open(&s->w, location, ROLE_WRITER, d);
    if (!err)
        err = migrate(&s->w, location, &s->schema_version, d);
    /* From here on the writer's COMMITs do not fsync: the syncer does. */
    if (!err)
        err = pragma(&s->w, "PRAGMA synchronous = NORMAL", NULL, d);
    if (!err)
        err = open_wal(s, d);
    if (!err)
        err = conn_open(&s->ck, location, ROLE_CHECKPOINTER, d);
    if (!err) {
        sqlite3_wal_hook(s->w.db, wal_hook, s);
        /* Our threads must never take the process's signals: block them all
         * while creating them (they inherit the mask). */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int rc = pthread_create(&s->checkpointer, NULL, checkpointer_main, s);
        if (rc == 0) {
            s->checkpointer_started = 1;
            rc = pthread_create(&s->syncer, NULL, syncer_main, s);
        }
        if (rc == 0) {
            s->syncer_started = 1;
            rc = pthread_create(&s->writer, NULL, writer_main, s);
            if (rc == 0)
                s->writer_started = 1;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0)
            err = bh_diag_add(d, BH_EIO, "store", "cannot start a store thread: %s", strerror(rc));
    }
    if (err) {
        stop_syncer(s);
        stop_checkpointer(s);
        store_free(s);
        return err;
    }
    *out = s;
    return BH_OK;
}

void bh_store_close(bh_store *s)
{
    if (!s)
        return;
    /* The writer drains the queue before it exits, the syncer then makes
     * the last batches durable and calls their done callbacks; callers
     * already waiting get their results, new ones are refused. */
    pthread_mutex_lock(&s->mu);
    s->closing = 1;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->writer_started)
        pthread_join(s->writer, NULL);
    stop_syncer(s);
    stop_checkpointer(s);
    pthread_mutex_lock(&s->mu);
    while (s->writers_active)
        pthread_cond_wait(&s->idle_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);

    pthread_mutex_lock(&s->pool_mu);
    s->pool_closing = 1;
    while (s->readers_active)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    pthread_mutex_unlock(&s->pool_mu);
    store_free(s);
}

int bh_store_schema_version(bh_store *s)
{
    return s ? s->schema_version : 0;
}

void bh_store_stats(bh_store *s, uint64_t *units, uint64_t *commits, uint64_t *queued)
{
    if (!s) {
        if (units)
            *units = 0;
        if (commits)
            *commits = 0;
        if (queued)
            *queued = 0;
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (units)
        *units = s->units;
    if (commits)
        *commits = s->commits;
    if (queued)
        *queued = s->queued;
    pthread_mutex_unlock(&s->mu);
}

void bh__store_set_hook(bh_store *s, bh__store_hook_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->sync_mu);
    s->hook = fn;
    s->hook_ctx = ctx;
    pthread_mutex_unlock(&s->sync_mu);
}

/* Queues a unit; `waiter` counts it among the bh_store_write callers that
 * close must wait for. A unit comes from the pool, so in the steady state
 * a unit costs no malloc. */
static bh_err enqueue(bh_store *s, bh_tx_fn fn, void *ctx, bh_store_done_fn done, void *done_ctx,
                      int waiter, int whole)
{
    struct unit *u = NULL;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->closing) {
            pthread_mutex_unlock(&s->mu);
            free(u);
            return BH_EINVAL;
        }
        if (atomic_load(&s->failed)) {
            pthread_mutex_unlock(&s->mu);
            free(u);
            return BH_EIO;
        }
        if (u)
            break;
        if (s->free_units) {
            u = s->free_units;
            s->free_units = u->next;
            s->nfree--;
            break;
        }
        pthread_mutex_unlock(&s->mu);
        u = malloc(sizeof(*u));
        if (!u)
            return BH_ENOMEM;
        pthread_mutex_lock(&s->mu);
    }
    *u = (struct unit){
        .fn = fn, .ctx = ctx, .done = done, .done_ctx = done_ctx, .rc = BH_OK, .whole = whole};
    if (s->tail)
        s->tail->next = u;
    else
        s->head = u;
    s->tail = u;
    s->queued++;
    s->writers_active += (uint64_t)waiter;
    /* A writer holding its batch open runs what is queued when the syncer
     * is free, or once HOLD_WAKE units wait: waking it for every unit cost
     * a thread switch a unit, waking it only when the syncer is free left
     * all the units' work between that and the next commit. */
    if (!s->writer_holding || s->queued % HOLD_WAKE == 0)
        pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    return BH_OK;
}

bh_err bh_store_submit(bh_store *s, bh_tx_fn fn, void *ctx, bh_store_done_fn done, void *done_ctx)
{
    if (!s || !fn || !done)
        return BH_EINVAL;
    return enqueue(s, fn, ctx, done, done_ctx, 0, 0);
}

bh_err bh_store_submit_whole(bh_store *s, bh_tx_fn fn, void *ctx, bh_store_done_fn done,
                             void *done_ctx)
{
    if (!s || !fn || !done)
        return BH_EINVAL;
    return enqueue(s, fn, ctx, done, done_ctx, 0, 1);
}

/* bh_store_write: a submitted unit whose done callback wakes the caller. */
struct waiter {
    bh_store *s;
    bh_err rc;
    int done;
    pthread_cond_t cv;
};

static void waiter_done(void *ctx, bh_err rc)
{
    struct waiter *w = ctx;
    bh_store *s = w->s;
    pthread_mutex_lock(&s->mu);
    w->rc = rc;
    w->done = 1;
    /* After the unlock below the caller may return and free `w`. */
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&s->mu);
}

bh_err bh_store_write(bh_store *s, bh_tx_fn fn, void *ctx)
{
    if (!s || !fn)
        return BH_EINVAL;
    /* From inside a unit (or a done callback) this would wait for itself
     * forever. */
    if ((s->writer_started && pthread_equal(pthread_self(), s->writer)) ||
        (s->syncer_started && pthread_equal(pthread_self(), s->syncer)))
        return BH_EINVAL;
    struct waiter w = {.s = s, .rc = BH_OK, .done = 0};
    if (pthread_cond_init(&w.cv, NULL) != 0)
        return BH_ENOMEM;
    bh_err err = enqueue(s, fn, ctx, waiter_done, &w, 1, 0);
    if (err) {
        pthread_cond_destroy(&w.cv);
        return err;
    }
    pthread_mutex_lock(&s->mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &s->mu);
    if (--s->writers_active == 0 && s->closing)
        pthread_cond_signal(&s->idle_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&w.cv);
    return w.rc;
}

bh_err bh_store_read(bh_store *s, bh_tx_fn fn, void *ctx)
{
    if (!s || !fn)
        return BH_EINVAL;
    /* From a done callback this could wait for the syncer, itself. */
    if (s->syncer_started && pthread_equal(pthread_self(), s->syncer))
        return BH_EINVAL;
    struct conn *c = NULL;
    pthread_mutex_lock(&s->pool_mu);
    while (!s->pool_closing && !s->free_readers && s->readers_open >= READERS_MAX)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    if (s->pool_closing) {
        pthread_mutex_unlock(&s->pool_mu);
        return BH_EINVAL;
    }
    s->readers_active++;
    if (s->free_readers) {
        c = s->free_readers;
        s->free_readers = c->next;
        c->next = NULL;
    } else {
        s->readers_open++;
    }
    pthread_mutex_unlock(&s->pool_mu);

    bh_err err = BH_OK;
    if (!c) {
        c = malloc(sizeof(*c));
        if (!c)
            err = BH_ENOMEM;
        else {
            bh_diag d = BH_DIAG_INIT;
            err = conn_open(c, s->path, ROLE_READER, &d);
            if (err) {
                fprintf(stderr, "baohand: store: %s\n",
                        d.count ? d.items[0].message : "cannot open a read connection");
                free(c);
                c = NULL;
            }
            bh_diag_release(&d);
        }
    }
    int begun = 0;
    if (!err) {
        err = control(c, ST_BEGIN);
        begun = !err;
    }
    /* Only durable data may be seen: start the snapshot (BEGIN is
     * deferred), then wait for the sync of the last batch whose COMMIT had
     * begun by then — the newest the snapshot can hold. */
    sqlite3_stmt *st = NULL;
    if (!err)
        err = stmt(c, ST_SNAPSHOT, &st);
    if (!err) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            err = sql_err(c->db, rc, "snapshot");
        done_with(st);
    }
    if (!err)
        err = wait_durable(s, atomic_load(&s->committing));
    if (!err) {
        bh_tx tx = {s, c, 0};
        err = fn(&tx, ctx);
    }
    /* A read transaction has nothing to commit; COMMIT just ends the
     * snapshot. If it fails, ROLLBACK must: the connection goes back to the
     * pool and must not hold an old snapshot. */
    if (begun && control(c, ST_COMMIT) != BH_OK && !sqlite3_get_autocommit(c->db))
        (void)control(c, ST_ROLLBACK);

    pthread_mutex_lock(&s->pool_mu);
    if (c) {
        c->next = s->free_readers;
        s->free_readers = c;
    } else {
        s->readers_open--;
    }
    s->readers_active--;
    pthread_cond_broadcast(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
    return err;
}

/* ---- applications ------------------------------------------------------------------- */

static bh_err read_app(sqlite3_stmt *st, bh_app *a)
{
    memset(a, 0, sizeof(*a));
    char *state = NULL;
    bh_err err = BH_OK;
    a->id = sqlite3_column_int64(st, 0);
    if (!err)
        err = col_text(st, 1, &a->appkey);
    if (!err)
        err = col_text(st, 2, &a->applyno);
    if (!err)
        err = col_text(st, 3, &a->content_hash);
    if (!err)
        err = col_text(st, 4, &state);
    if (!err)
        err = col_text(st, 5, &a->pay_token);
    if (!err)
        err = col_text(st, 6, &a->request_json);
    if (!err)
        err = col_text(st, 7, &a->form_json);
    if (!err)
        err = col_text(st, 8, &a->payment_json);
    if (!err)
        err = col_text(st, 9, &a->claim_json);
    if (!err)
        err = col_text(st, 10, &a->biddername);
    if (!err)
        err = col_text(st, 11, &a->biddercode);
    a->bzjamount_fen = sqlite3_column_int64(st, 12);
    a->premium_fen = sqlite3_column_int64(st, 13);
    if (!err)
        err = col_text(st, 14, &a->baohanno);
    if (!err)
        err = col_text(st, 15, &a->reason);
    a->issued_at = sqlite3_column_int64(st, 16);
    a->created_at = sqlite3_column_int64(st, 17);
    a->updated_at = sqlite3_column_int64(st, 18);
    /* The CHECK constraint keeps unknown names out; a failure here means the
     * file was edited behind our back. */
    if (!err && (!state || bh_app_state_parse(state, &a->state) != BH_OK))
        err = BH_EIO;
    free(state);
    if (err)
        bh_app_release(a);
    return err;
}

static int app_valid(const bh_app *a)
{
    return a && bh_app_state_name(a->state) != NULL;
}

bh_err bh_tx_app_insert(bh_tx *tx, bh_app *app)
{
    if (!tx || !tx->writable || !app_valid(app) || !app->appkey || !app->applyno ||
        !app->content_hash || !app->pay_token || !app->request_json)
        return BH_EINVAL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_APP_INSERT, &st);
    if (err)
        return err;
    int64_t created = app->created_at > 0 ? app->created_at : bh_time_now();
    if (!err)
        err = bind_text(c->db, st, 1, app->appkey);
    if (!err)
        err = bind_text(c->db, st, 2, app->applyno);
    if (!err)
        err = bind_text(c->db, st, 3, app->content_hash);
    if (!err)
        err = bind_text(c->db, st, 4, bh_app_state_name(app->state));
    if (!err)
        err = bind_text(c->db, st, 5, app->pay_token);
    if (!err)
        err = bind_text(c->db, st, 6, app->request_json);
    if (!err)
        err = bind_text(c->db, st, 7, app->form_json);
    if (!err)
        err = bind_text(c->db, st, 8, app->payment_json);
    if (!err)
        err = bind_text(c->db, st, 9, app->claim_json);
    if (!err)
        err = bind_text(c->db, st, 10, app->biddername);
    if (!err)
        err = bind_text(c->db, st, 11, app->biddercode);
    if (!err)
        err = bind_int(c->db, st, 12, app->bzjamount_fen);
    if (!err)
        err = bind_int(c->db, st, 13, app->premium_fen);
    if (!err)
        err = bind_text(c->db, st, 14, app->baohanno);
    if (!err)
        err = bind_text(c->db, st, 15, app->reason);
    if (!err)
        err = bind_int(c->db, st, 16, app->issued_at);
    if (!err)
        err = bind_int(c->db, st, 17, created);
    if (err) {
        done_with(st);
        return err;
    }
    err = run(c, st, "insert application");
    if (err)
        return err;
    app->id = sqlite3_last_insert_rowid(c->db);
    app->created_at = created;
    app->updated_at = created;
    return BH_OK;
}

/* Runs a prepared, bound SELECT of APP_COLS expecting at most one row. */
static bh_err app_one(struct conn *c, sqlite3_stmt *st, bh_app *out)
{
    int rc = sqlite3_step(st);
    bh_err err;
    if (rc == SQLITE_ROW)
        err = read_app(st, out);
    else if (rc == SQLITE_DONE)
        err = BH_ENOTFOUND;
    else
        err = sql_err(c->db, rc, "read application");
    done_with(st);
    return err;
}

static bh_err app_by(bh_tx *tx, enum stmt_id id, const char *a, const char *b, bh_app *out)
{
    if (!tx || !a || !out)
        return BH_EINVAL;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, id, &st);
    if (!err)
        err = bind_text(tx->c->db, st, 1, a);
    if (!err && b)
        err = bind_text(tx->c->db, st, 2, b);
    if (err) {
        if (st)
            done_with(st);
        return err;
    }
    return app_one(tx->c, st, out);
}

bh_err bh_tx_app_by_applyno(bh_tx *tx, const char *appkey, const char *applyno, bh_app *out)
{
    if (!applyno)
        return BH_EINVAL;
    return app_by(tx, ST_APP_BY_APPLYNO, appkey, applyno, out);
}

bh_err bh_tx_app_by_token(bh_tx *tx, const char *pay_token, bh_app *out)
{
    return app_by(tx, ST_APP_BY_TOKEN, pay_token, NULL, out);
}

bh_err bh_tx_app_by_baohanno(bh_tx *tx, const char *baohanno, bh_app *out)
{
    return app_by(tx, ST_APP_BY_BAOHANNO, baohanno, NULL, out);
}

bh_err bh_tx_app_by_id(bh_tx *tx, int64_t id, bh_app *out)
{
    if (!tx || !out)
        return BH_EINVAL;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_APP_BY_ID, &st);
    if (!err)
        err = bind_int(tx->c->db, st, 1, id);
    if (err) {
        if (st)
            done_with(st);
        return err;
    }
    return app_one(tx->c, st, out);
}

/* Whether a row with this id exists (`which` is ST_APP_EXISTS or
 * ST_NOTICE_EXISTS): tells "not found" from "changed meanwhile" after an
 * UPDATE matched nothing. */
static bh_err row_exists(struct conn *c, enum stmt_id which, int64_t id)
{
    sqlite3_stmt *st;
    bh_err err = stmt(c, which, &st);
    if (!err)
        err = bind_int(c->db, st, 1, id);
    if (err) {
        if (st)
            done_with(st);
        return err;
    }
    int rc = sqlite3_step(st);
    err = rc == SQLITE_ROW ? BH_OK : rc == SQLITE_DONE ? BH_ENOTFOUND : sql_err(c->db, rc, "find");
    done_with(st);
    return err;
}

bh_err bh_tx_app_update(bh_tx *tx, const bh_app *app, bh_app_state expected, int64_t now)
{
    if (!tx || !tx->writable || !app_valid(app) || !bh_app_state_name(expected))
        return BH_EINVAL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_APP_UPDATE, &st);
    if (err)
        return err;
    if (!err)
        err = bind_int(c->db, st, 1, app->id);
    if (!err)
        err = bind_text(c->db, st, 2, bh_app_state_name(expected));
    if (!err)
        err = bind_text(c->db, st, 3, bh_app_state_name(app->state));
    if (!err)
        err = bind_text(c->db, st, 4, app->form_json);
    if (!err)
        err = bind_text(c->db, st, 5, app->payment_json);
    if (!err)
        err = bind_text(c->db, st, 6, app->claim_json);
    if (!err)
        err = bind_int(c->db, st, 7, app->premium_fen);
    if (!err)
        err = bind_text(c->db, st, 8, app->baohanno);
    if (!err)
        err = bind_text(c->db, st, 9, app->reason);
    if (!err)
        err = bind_int(c->db, st, 10, app->issued_at);
    if (!err)
        err = bind_int(c->db, st, 11, now);
    if (err) {
        done_with(st);
        return err;
    }
    err = run(c, st, "update application");
    if (err)
        return err;
    if (sqlite3_changes(c->db) == 1)
        return BH_OK;
    err = row_exists(c, ST_APP_EXISTS, app->id);
    return err == BH_OK ? BH_EINVAL : err; /* exists: its state moved on meanwhile */
}

/* The list statement for a combination of filters. The SQL text is built
 * from fixed fragments only; every value is a bound parameter. */
static bh_err app_list_stmt(struct conn *c, unsigned mask, sqlite3_stmt **out)
{
    if (c->list[mask]) {
        *out = c->list[mask];
        return BH_OK;
    }
    bh_buf sql;
    bh_buf_init(&sql, 4096);
    bh_err err = bh_buf_addstr(&sql, "SELECT " APP_COLS " FROM applications WHERE 1");
    if (!err && (mask & LIST_STATE))
        err = bh_buf_addstr(&sql, " AND state = ?1");
    if (!err && (mask & LIST_BIDDER))
        err = bh_buf_addstr(&sql, " AND (instr(biddername, ?2) > 0 OR biddercode = ?2)");
    if (!err && (mask & LIST_FROM))
        err = bh_buf_addstr(&sql, " AND created_at >= ?3");
    if (!err && (mask & LIST_TO))
        err = bh_buf_addstr(&sql, " AND created_at < ?4");
    if (!err)
        err = bh_buf_addstr(&sql, " ORDER BY created_at DESC, id DESC LIMIT ?5 OFFSET ?6");
    if (!err)
        err = prepare(c, sql.data, &c->list[mask]);
    bh_buf_release(&sql);
    *out = c->list[mask];
    return err;
}

static int64_t clamp_size(size_t n)
{
    return n > (size_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

bh_err bh_tx_app_list(bh_tx *tx, const bh_app_filter *filter, bh_app **out, size_t *count)
{
    if (!tx || !out || !count)
        return BH_EINVAL;
    *out = NULL;
    *count = 0;
    bh_app_filter none = {0};
    const bh_app_filter *f = filter ? filter : &none;
    if (f->state && !bh_app_state_name(*f->state))
        return BH_EINVAL;
    unsigned mask = (f->state ? LIST_STATE : 0u) | (f->bidder && *f->bidder ? LIST_BIDDER : 0u) |
                    (f->created_from ? LIST_FROM : 0u) | (f->created_to ? LIST_TO : 0u);
    struct conn *c = tx->c;
    if (sqlite3_get_autocommit(c->db))
        return BH_EIO; /* see tx_stmt() */
    sqlite3_stmt *st;
    bh_err err = app_list_stmt(c, mask, &st);
    if (err)
        return err;
    if (!err && (mask & LIST_STATE))
        err = bind_text(c->db, st, 1, bh_app_state_name(*f->state));
    if (!err && (mask & LIST_BIDDER))
        err = bind_text(c->db, st, 2, f->bidder);
    if (!err && (mask & LIST_FROM))
        err = bind_int(c->db, st, 3, f->created_from);
    if (!err && (mask & LIST_TO))
        err = bind_int(c->db, st, 4, f->created_to);
    if (!err)
        err = bind_int(c->db, st, 5, f->limit ? clamp_size(f->limit) : 100);
    if (!err)
        err = bind_int(c->db, st, 6, clamp_size(f->offset));
    bh_app *list = NULL;
    size_t n = 0, cap = 0;
    int rc = SQLITE_DONE;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            bh_app *bigger = realloc(list, ncap * sizeof(*list));
            if (!bigger) {
                err = BH_ENOMEM;
                break;
            }
            list = bigger;
            cap = ncap;
        }
        err = read_app(st, &list[n]);
        if (!err)
            n++;
    }
    if (!err && rc != SQLITE_DONE)
        err = sql_err(c->db, rc, "list applications");
    done_with(st);
    if (err) {
        bh_app_list_free(list, n);
        return err;
    }
    *out = list;
    *count = n;
    return BH_OK;
}

bh_err bh_tx_next_seq(bh_tx *tx, const char *name, int64_t *out)
{
    if (!tx || !tx->writable || !name || !out)
        return BH_EINVAL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_SEQ_NEXT, &st);
    if (!err)
        err = bind_text(c->db, st, 1, name);
    if (err) {
        if (st)
            done_with(st);
        return err;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st); /* finish the statement: RETURNING commits its row on DONE */
    }
    err = rc == SQLITE_DONE ? BH_OK : sql_err(c->db, rc, "next sequence value");
    done_with(st);
    return err;
}

/* ---- answers ---------------------------------------------------------------------- */

static bh_err bind_answer_key(struct conn *c, sqlite3_stmt *st, const char *appkey,
                              const char *iface, const char *applyno, const char *content_hash)
{
    bh_err err = bind_text(c->db, st, 1, appkey);
    if (!err)
        err = bind_text(c->db, st, 2, iface);
    if (!err)
        err = bind_text(c->db, st, 3, applyno);
    if (!err)
        err = bind_text(c->db, st, 4, content_hash);
    return err;
}

bh_err bh_tx_answer_get(bh_tx *tx, const char *appkey, const char *iface, const char *applyno,
                        const char *content_hash, char **response_json)
{
    if (!tx || !appkey || !iface || !applyno || !content_hash || !response_json)
        return BH_EINVAL;
    *response_json = NULL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_ANSWER_GET, &st);
    if (!err)
        err = bind_answer_key(c, st, appkey, iface, applyno, content_hash);
    if (!err) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            err = col_text(st, 0, response_json);
        else
            err = rc == SQLITE_DONE ? BH_ENOTFOUND : sql_err(c->db, rc, "read answer");
    }
    if (st)
        done_with(st);
    return err;
}

bh_err bh_tx_answer_put(bh_tx *tx, const char *appkey, const char *iface, const char *applyno,
                        const char *content_hash, const char *response_json, int64_t now)
{
    if (!tx || !tx->writable || !appkey || !iface || !applyno || !content_hash || !response_json)
        return BH_EINVAL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_ANSWER_PUT, &st);
    if (err)
        return err;
    err = bind_answer_key(c, st, appkey, iface, applyno, content_hash);
    if (!err)
        err = bind_text(c->db, st, 5, response_json);
    if (!err)
        err = bind_int(c->db, st, 6, now);
    if (err) {
        done_with(st);
        return err;
    }
    return run(c, st, "store answer");
}

/* ---- files -------------------------------------------------------------------------- */

static bh_err read_file_row(sqlite3_stmt *st, bh_file *f)
{
    memset(f, 0, sizeof(*f));
    bh_err err = BH_OK;
    f->id = sqlite3_column_int64(st, 0);
    f->app_id = sqlite3_column_int64(st, 1);
    if (!err)
        err = col_text(st, 2, &f->kind);
    if (!err)
        err = col_text(st, 3, &f->token);
    if (!err)
        err = col_text(st, 4, &f->content_type);
    if (!err)
        err = col_text(st, 5, &f->filename);
    if (!err)
        err = col_text(st, 6, &f->md5);
    if (!err)
        err = col_text(st, 7, &f->sm3);
    f->size = sqlite3_column_int64(st, 8);
    f->created_at = sqlite3_column_int64(st, 9);
    if (err)
        bh_file_release(f);
    return err;
}

static bh_err file_one(struct conn *c, sqlite3_stmt *st, bh_file *out)
{
    int rc = sqlite3_step(st);
    bh_err err;
    if (rc == SQLITE_ROW)
        err = read_file_row(st, out);
    else
        err = rc == SQLITE_DONE ? BH_ENOTFOUND : sql_err(c->db, rc, "read file record");
    done_with(st);
    return err;
}

/* 64 lower-case hex digits: the only names the content store uses, checked
 * before a record's sm3 becomes part of a path. */
static int sm3_name_valid(const char *s)
{
    if (!s || strlen(s) != BH_SM3_HEX_LEN)
        return 0;
    for (size_t i = 0; i < BH_SM3_HEX_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* files_dir/<first two hex>/<sm3>, or with `subdir_only` the directory. */
static char *content_path(const bh_store *s, const char *sm3, int subdir_only)
{
    size_t n = strlen(s->files_dir) + 1 + 2 + 1 + BH_SM3_HEX_LEN + 1;
    char *p = malloc(n);
    if (!p)
        return NULL;
    if (subdir_only)
        snprintf(p, n, "%s/%.2s", s->files_dir, sm3);
    else
        snprintf(p, n, "%s/%.2s/%s", s->files_dir, sm3, sm3);
    return p;
}

static bh_err fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return BH_EIO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? BH_OK : BH_EIO;
}

static bh_err write_all(int fd, const unsigned char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return BH_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return BH_OK;
}

/* Puts the bytes into the content store under their SM3, durably: a temp
 * file, fsync, rename, fsync of the directory. Content already there (same
 * name, same size) is left alone. */
static bh_err content_write(bh_store *s, const char *sm3, const void *data, size_t len)
{
    char *dir = content_path(s, sm3, 1);
    char *final = content_path(s, sm3, 0);
    char *tmp = NULL;
    bh_err err = dir && final ? BH_OK : BH_ENOMEM;
    struct stat sb;
    if (!err && stat(final, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == len)
        goto out;
    if (!err && mkdir(dir, 0750) == 0)
        err = fsync_dir(s->files_dir);
    else if (!err && errno != EEXIST)
        err = BH_EIO;
    unsigned char rnd[8];
    char rnd_hex[2 * sizeof(rnd) + 1];
    if (!err)
        err = bh_random_bytes(rnd, sizeof(rnd));
    if (!err) {
        bh_hex_encode_to(rnd, sizeof(rnd), 0, rnd_hex);
        size_t n = strlen(dir) + 1 + 5 + BH_SM3_HEX_LEN + 1 + sizeof(rnd_hex);
        tmp = malloc(n);
        if (!tmp)
            err = BH_ENOMEM;
        else
            snprintf(tmp, n, "%s/.tmp-%s-%s", dir, sm3, rnd_hex);
    }
    if (!err) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd < 0) {
            err = BH_EIO;
        } else {
            err = write_all(fd, data, len);
            if (!err && fsync(fd) != 0)
                err = BH_EIO;
            if (close(fd) != 0 && !err)
                err = BH_EIO;
            if (!err && rename(tmp, final) != 0)
                err = BH_EIO;
            if (err)
                unlink(tmp);
        }
    }
    if (!err)
        err = fsync_dir(dir);
    if (err == BH_EIO)
        fprintf(stderr, "baohand: store: cannot write %s: %s\n", final ? final : sm3,
                strerror(errno));
out:
    free(dir);
    free(final);
    free(tmp);
    return err;
}

bh_err bh_tx_file_put(bh_tx *tx, int64_t app_id, const char *kind, const char *content_type,
                      const char *filename, const void *data, size_t len, int64_t now, bh_file *out)
{
    if (out)
        memset(out, 0, sizeof(*out));
    if (!tx || !tx->writable || !kind || !*kind || !content_type || !filename || (!data && len))
        return BH_EINVAL;
    if (len > FILE_MAX)
        return BH_ETOOBIG;
    struct conn *c = tx->c;
    /* Refuse before touching the disk if the application does not exist. */
    bh_err err = row_exists(c, ST_APP_EXISTS, app_id);
    if (err)
        return err;
    static const unsigned char empty[1] = {0};
    const void *bytes = data ? data : empty;
    char sm3[BH_SM3_HEX_LEN + 1], md5[BH_MD5_HEX_LEN + 1], token[33];
    unsigned char rnd[16];
    err = bh_sm3_hex(bytes, len, sm3);
    if (!err)
        err = bh_md5_hex(bytes, len, md5);
    if (!err)
        err = bh_random_bytes(rnd, sizeof(rnd));
    if (err)
        return err;
    bh_hex_encode_to(rnd, sizeof(rnd), 0, token);
    err = content_write(tx->store, sm3, bytes, len);
    if (err)
        return err;

    /* The row replaces any earlier file of this kind. The old bytes stay:
     * content-addressed, they may be another record's too. */
    sqlite3_stmt *st;
    err = tx_stmt(tx, ST_FILE_DELETE_KIND, &st);
    if (!err)
        err = bind_int(c->db, st, 1, app_id);
    if (!err)
        err = bind_text(c->db, st, 2, kind);
    if (!err)
        err = run(c, st, "replace file record");
    else if (st)
        done_with(st);
    if (err)
        return err;
    err = tx_stmt(tx, ST_FILE_INSERT, &st);
    if (err)
        return err;
    err = bind_int(c->db, st, 1, app_id);
    if (!err)
        err = bind_text(c->db, st, 2, kind);
    if (!err)
        err = bind_text(c->db, st, 3, token);
    if (!err)
        err = bind_text(c->db, st, 4, content_type);
    if (!err)
        err = bind_text(c->db, st, 5, filename);
    if (!err)
        err = bind_text(c->db, st, 6, md5);
    if (!err)
        err = bind_text(c->db, st, 7, sm3);
    if (!err)
        err = bind_int(c->db, st, 8, (int64_t)len);
    if (!err)
        err = bind_int(c->db, st, 9, now);
    if (err) {
        done_with(st);
        return err;
    }
    err = run(c, st, "insert file record");
    if (err || !out)
        return err;
    out->id = sqlite3_last_insert_rowid(c->db);
    out->app_id = app_id;
    out->size = (int64_t)len;
    out->created_at = now;
    out->kind = strdup(kind);
    out->token = strdup(token);
    out->content_type = strdup(content_type);
    out->filename = strdup(filename);
    out->md5 = strdup(md5);
    out->sm3 = strdup(sm3);
    if (!out->kind || !out->token || !out->content_type || !out->filename || !out->md5 ||
        !out->sm3) {
        /* The row is in; failing the unit rolls it back with everything else. */
        bh_file_release(out);
        return BH_ENOMEM;
    }
    return BH_OK;
}

bh_err bh_tx_file_by_token(bh_tx *tx, const char *token, bh_file *out)
{
    if (!tx || !token || !out)
        return BH_EINVAL;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_FILE_BY_TOKEN, &st);
    if (!err)
        err = bind_text(tx->c->db, st, 1, token);
    if (err) {
        if (st)
            done_with(st);
        return err;
    }
    return file_one(tx->c, st, out);
}

bh_err bh_tx_file_by_kind(bh_tx *tx, int64_t app_id, const char *kind, bh_file *out)
{
    if (!tx || !kind || !out)
        return BH_EINVAL;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_FILE_BY_KIND, &st);
    if (!err)
        err = bind_int(tx->c->db, st, 1, app_id);
    if (!err)
        err = bind_text(tx->c->db, st, 2, kind);
    if (err) {
        if (st)
            done_with(st);
        return err;
    }
    return file_one(tx->c, st, out);
}

bh_err bh_store_file_read(bh_store *s, const bh_file *f, bh_buf *out)
{
    if (!s || !f || !out || !sm3_name_valid(f->sm3) || f->size < 0)
        return BH_EINVAL;
    if ((uint64_t)f->size > out->max - out->len)
        return BH_ETOOBIG;
    char *path = content_path(s, f->sm3, 0);
    if (!path)
        return BH_ENOMEM;
    FILE *fp = fopen(path, "rb");
    free(path);
    if (!fp)
        return errno == ENOENT ? BH_ENOTFOUND : BH_EIO;
    bh_buf tmp;
    /* One byte of slack so that a file that grew is seen as different. */
    bh_buf_init(&tmp, (size_t)f->size + 1);
    bh_err err = bh_buf_read_file(&tmp, fp);
    fclose(fp);
    if (err == BH_ETOOBIG || (!err && tmp.len != (size_t)f->size))
        err = BH_EIO;
    char sm3[BH_SM3_HEX_LEN + 1];
    if (!err)
        err = bh_sm3_hex(tmp.data ? tmp.data : "", tmp.len, sm3);
    if (!err && strcmp(sm3, f->sm3) != 0)
        err = BH_EIO; /* the bytes on disk are not the ones stored */
    if (!err)
        err = bh_buf_add(out, tmp.data ? tmp.data : "", tmp.len);
    bh_buf_release(&tmp);
    return err;
}

/* ---- notices ------------------------------------------------------------------------ */

static const char *const notice_states[] = {
    [BH_NOTICE_PENDING] = "pending",
    [BH_NOTICE_DELIVERED] = "delivered",
    [BH_NOTICE_FLAGGED] = "flagged",
};

static const char *notice_state_name(bh_notice_state s)
{
    if ((int)s < 0 || (size_t)s >= sizeof(notice_states) / sizeof(notice_states[0]))
        return NULL;
    return notice_states[s];
}

static bh_err read_notice(sqlite3_stmt *st, bh_notice *n)
{
    memset(n, 0, sizeof(*n));
    bh_err err = BH_OK;
    char *state = NULL;
    n->id = sqlite3_column_int64(st, 0);
    n->app_id = sqlite3_column_int64(st, 1);
    if (!err)
        err = col_text(st, 2, &n->appkey);
    if (!err)
        err = col_text(st, 3, &n->iface);
    if (!err)
        err = col_text(st, 4, &n->plain_json);
    if (!err)
        err = col_text(st, 5, &state);
    n->attempts = sqlite3_column_int(st, 6);
    n->next_attempt_at = sqlite3_column_int64(st, 7);
    if (!err)
        err = col_text(st, 8, &n->last_error);
    n->created_at = sqlite3_column_int64(st, 9);
    n->delivered_at = sqlite3_column_int64(st, 10);
    if (!err) {
        err = BH_EIO;
        for (int i = 0; i <= BH_NOTICE_FLAGGED; i++) {
            if (state && strcmp(state, notice_states[i]) == 0) {
                n->state = (bh_notice_state)i;
                err = BH_OK;
            }
        }
    }
    free(state);
    if (err)
        bh_notice_release(n);
    return err;
}

static bh_err notice_rows(struct conn *c, sqlite3_stmt *st, bh_notice **out, size_t *count)
{
    bh_notice *list = NULL;
    size_t n = 0, cap = 0;
    bh_err err = BH_OK;
    int rc = SQLITE_DONE;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            bh_notice *bigger = realloc(list, ncap * sizeof(*list));
            if (!bigger) {
                err = BH_ENOMEM;
                break;
            }
            list = bigger;
            cap = ncap;
        }
        err = read_notice(st, &list[n]);
        if (err)
            break;
        n++;
    }
    if (!err && rc != SQLITE_DONE)
        err = sql_err(c->db, rc, "read notices");
    done_with(st);
    if (err) {
        bh_notice_list_free(list, n);
        return err;
    }
    *out = list;
    *count = n;
    return BH_OK;
}

bh_err bh_tx_notice_add(bh_tx *tx, int64_t app_id, const char *appkey, const char *iface,
                        const char *plain_json, int64_t now, int64_t *id)
{
    if (!tx || !tx->writable || !appkey || !iface || !plain_json)
        return BH_EINVAL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_NOTICE_ADD, &st);
    if (err)
        return err;
    err = bind_int(c->db, st, 1, app_id);
    if (!err)
        err = bind_text(c->db, st, 2, appkey);
    if (!err)
        err = bind_text(c->db, st, 3, iface);
    if (!err)
        err = bind_text(c->db, st, 4, plain_json);
    if (!err)
        err = bind_int(c->db, st, 5, now);
    if (err) {
        done_with(st);
        return err;
    }
    err = run(c, st, "queue notice");
    if (!err && id)
        *id = sqlite3_last_insert_rowid(c->db);
    return err;
}

bh_err bh_tx_notice_due(bh_tx *tx, int64_t now, size_t limit, bh_notice **out, size_t *count)
{
    if (!tx || !out || !count)
        return BH_EINVAL;
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_NOTICE_DUE, &st);
    if (!err)
        err = bind_int(tx->c->db, st, 1, now);
    if (!err)
        err = bind_int(tx->c->db, st, 2, limit ? clamp_size(limit) : 100);
    if (err) {
        if (st)
            done_with(st);
        return err;
    }
    return notice_rows(tx->c, st, out, count);
}

bh_err bh_tx_notice_list(bh_tx *tx, const bh_notice_state *state, size_t limit, bh_notice **out,
                         size_t *count)
{
    if (!tx || !out || !count || (state && !notice_state_name(*state)))
        return BH_EINVAL;
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, state ? ST_NOTICE_LIST_STATE : ST_NOTICE_LIST, &st);
    if (!err)
        err = bind_int(tx->c->db, st, 1, limit ? clamp_size(limit) : 100);
    if (!err && state)
        err = bind_text(tx->c->db, st, 2, notice_state_name(*state));
    if (err) {
        if (st)
            done_with(st);
        return err;
    }
    return notice_rows(tx->c, st, out, count);
}

bh_err bh_tx_notice_attempt(bh_tx *tx, int64_t id, bh_notice_state new_state,
                            int64_t next_attempt_at, const char *error, int64_t now)
{
    if (!tx || !tx->writable || !notice_state_name(new_state))
        return BH_EINVAL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_NOTICE_ATTEMPT, &st);
    if (err)
        return err;
    err = bind_int(c->db, st, 1, id);
    if (!err)
        err = bind_text(c->db, st, 2, notice_state_name(new_state));
    if (!err)
        err = bind_int(c->db, st, 3, next_attempt_at);
    if (!err)
        err = bind_text(c->db, st, 4, error);
    if (!err)
        err = bind_int(c->db, st, 5, now);
    if (err) {
        done_with(st);
        return err;
    }
    err = run(c, st, "record notice attempt");
    if (err)
        return err;
    if (sqlite3_changes(c->db) == 1)
        return BH_OK;
    err = row_exists(c, ST_NOTICE_EXISTS, id);
    return err == BH_OK ? BH_EINVAL : err; /* exists but no longer pending */
}

bh_err bh_tx_notice_retry(bh_tx *tx, int64_t id, int64_t now)
{
    if (!tx || !tx->writable)
        return BH_EINVAL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_NOTICE_RETRY, &st);
    if (err)
        return err;
    err = bind_int(c->db, st, 1, id);
    if (!err)
        err = bind_int(c->db, st, 2, now);
    if (err) {
        done_with(st);
        return err;
    }
    err = run(c, st, "retry notice");
    if (err)
        return err;
    if (sqlite3_changes(c->db) == 1)
        return BH_OK;
    err = row_exists(c, ST_NOTICE_EXISTS, id);
    return err == BH_OK ? BH_EINVAL : err; /* exists but already delivered */
}

/* ---- audit -------------------------------------------------------------------------- */

/* The schema's CHECK on audit.direction, in C: the writer does not run
 * CHECK constraints (see conn_open). */
static int direction_valid(const char *d)
{
    return d && (strcmp(d, "in") == 0 || strcmp(d, "out") == 0 || strcmp(d, "admin") == 0);
}

bh_err bh_tx_audit_add(bh_tx *tx, const bh_audit *a)
{
    if (!tx || !tx->writable || !a || !direction_valid(a->direction))
        return BH_EINVAL;
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_AUDIT_ADD, &st);
    if (err)
        return err;
    err = bind_int(c->db, st, 1, a->at);
    if (!err)
        err = bind_text(c->db, st, 2, a->direction);
    if (!err)
        err = bind_text(c->db, st, 3, a->iface);
    if (!err)
        err = bind_text(c->db, st, 4, a->appkey);
    if (!err)
        err = bind_text(c->db, st, 5, a->applyno);
    if (!err)
        err = bind_int(c->db, st, 6, a->code);
    if (!err)
        err = bind_int(c->db, st, 7, a->http_status);
    if (!err)
        err = bind_text(c->db, st, 8, a->detail);
    if (err) {
        done_with(st);
        return err;
    }
    return run(c, st, "add audit row");
}

bh_err bh_tx_audit_count(bh_tx *tx, int64_t *out)
{
    if (!tx || !out)
        return BH_EINVAL;
    sqlite3_stmt *st;
    bh_err err = tx_stmt(tx, ST_AUDIT_COUNT, &st);
    if (err)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    err = rc == SQLITE_ROW ? BH_OK : sql_err(tx->c->db, rc, "count audit rows");
    done_with(st);
    return err;
}

/* ---- the platform role ---------------------------------------------------------------- */

/* These statements are prepared for each call rather than cached per
 * connection: none is on a hot path, and it keeps the platform's tables out
 * of the institution's statement cache. */
#define PAPP_COLS                                                                                  \
    "id, institution, appkey, applyno, content_hash, state, request_json, payurl, baohanno,"      \
    " info_json, info_at, last_code, last_message, created_at, updated_at"

static bh_err pstmt(bh_tx *tx, const char *sql, sqlite3_stmt **out)
{
    *out = NULL;
    if (sqlite3_get_autocommit(tx->c->db))
        return BH_EIO;
    return prepare(tx->c, sql, out);
}

/* Runs a statement that returns no rows and finalizes it. */
static bh_err pstmt_run(bh_tx *tx, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    bh_err err = rc == SQLITE_DONE ? BH_OK : sql_err(tx->c->db, rc, what);
    sqlite3_finalize(st);
    return err;
}

static bh_err read_papp(sqlite3_stmt *st, void *out)
{
    bh_papp *a = out;
    memset(a, 0, sizeof(*a));
    char *state = NULL;
    a->id = sqlite3_column_int64(st, 0);
    bh_err err = col_text(st, 1, &a->institution);
    if (!err)
        err = col_text(st, 2, &a->appkey);
    if (!err)
        err = col_text(st, 3, &a->applyno);
    if (!err)
        err = col_text(st, 4, &a->content_hash);
    if (!err)
        err = col_text(st, 5, &state);
    if (!err)
        err = col_text(st, 6, &a->request_json);
    if (!err)
        err = col_text(st, 7, &a->payurl);
    if (!err)
        err = col_text(st, 8, &a->baohanno);
    if (!err)
        err = col_text(st, 9, &a->info_json);
    a->info_at = sqlite3_column_int64(st, 10);
    a->last_code = sqlite3_column_int(st, 11);
    if (!err)
        err = col_text(st, 12, &a->last_message);
    a->created_at = sqlite3_column_int64(st, 13);
    a->updated_at = sqlite3_column_int64(st, 14);
    if (!err && (!state || bh_papp_state_parse(state, &a->state) != BH_OK))
        err = BH_EIO;
    free(state);
    if (err)
        bh_papp_release(a);
    return err;
}

static bh_err read_pnotice(sqlite3_stmt *st, void *out)
{
    bh_pnotice *n = out;
    memset(n, 0, sizeof(*n));
    n->id = sqlite3_column_int64(st, 0);
    n->app_id = sqlite3_column_int64(st, 1);
    bh_err err = col_text(st, 2, &n->iface);
    if (!err)
        err = col_text(st, 3, &n->content_hash);
    if (!err)
        err = col_text(st, 4, &n->plain_json);
    n->received_at = sqlite3_column_int64(st, 5);
    if (err)
        bh_pnotice_release(n);
    return err;
}

static bh_err read_filecheck(sqlite3_stmt *st, void *out)
{
    bh_filecheck *f = out;
    memset(f, 0, sizeof(*f));
    f->id = sqlite3_column_int64(st, 0);
    f->app_id = sqlite3_column_int64(st, 1);
    bh_err err = col_text(st, 2, &f->field);
    if (!err)
        err = col_text(st, 3, &f->url);
    if (!err)
        err = col_text(st, 4, &f->md5_expected);
    if (!err)
        err = col_text(st, 5, &f->md5_actual);
    f->ok = sqlite3_column_int(st, 6);
    if (!err)
        err = col_text(st, 7, &f->detail);
    f->checked_at = sqlite3_column_int64(st, 8);
    if (err)
        bh_filecheck_release(f);
    return err;
}

/* Steps a bound SELECT to the end, reading each row with `read` into a
 * growing array of `size`-byte records; finalizes the statement. On failure
 * the records read so far are released with `free_list`. */
static bh_err prows(bh_tx *tx, sqlite3_stmt *st, size_t size, bh_err (*read)(sqlite3_stmt *, void *),
                    void (*free_list)(void *, size_t), void **out, size_t *count)
{
    char *list = NULL;
    size_t n = 0, cap = 0;
    bh_err err = BH_OK;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char *grown = realloc(list, ncap * size);
            if (!grown) {
                err = BH_ENOMEM;
                break;
            }
            list = grown;
            cap = ncap;
        }
        err = read(st, list + n * size);
        if (!err)
            n++;
    }
    if (!err && rc != SQLITE_DONE)
        err = sql_err(tx->c->db, rc, "read rows");
    sqlite3_finalize(st);
    if (err) {
        free_list(list, n);
        list = NULL;
        n = 0;
    }
    *out = list;
    *count = n;
    return err;
}

static void free_papps(void *list, size_t n)
{
    bh_papp_list_free(list, n);
}

static void free_pnotices(void *list, size_t n)
{
    bh_pnotice_list_free(list, n);
}

static void free_filechecks(void *list, size_t n)
{
    bh_filecheck_list_free(list, n);
}

bh_err bh_tx_papp_insert(bh_tx *tx, bh_papp *a, int64_t now)
{
    if (!tx || !tx->writable || !a || !bh_papp_state_name(a->state) || !a->institution ||
        !a->appkey || !a->applyno || !a->content_hash || !a->request_json)
        return BH_EINVAL;
    sqlite3 *db = tx->c->db;
    sqlite3_stmt *st;
    bh_err err = pstmt(tx,
                       "INSERT INTO platform_apps (institution, appkey, applyno, content_hash,"
                       " state, request_json, payurl, baohanno, info_json, info_at, last_code,"
                       " last_message, created_at, updated_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
                       &st);
    if (err)
        return err;
    err = bind_text(db, st, 1, a->institution);
    if (!err)
        err = bind_text(db, st, 2, a->appkey);
    if (!err)
        err = bind_text(db, st, 3, a->applyno);
    if (!err)
        err = bind_text(db, st, 4, a->content_hash);
    if (!err)
        err = bind_text(db, st, 5, bh_papp_state_name(a->state));
    if (!err)
        err = bind_text(db, st, 6, a->request_json);
    if (!err)
        err = bind_text(db, st, 7, a->payurl);
    if (!err)
        err = bind_text(db, st, 8, a->baohanno);
    if (!err)
        err = bind_text(db, st, 9, a->info_json);
    if (!err)
        err = bind_int(db, st, 10, a->info_at);
    if (!err)
        err = bind_int(db, st, 11, a->last_code);
    if (!err)
        err = bind_text(db, st, 12, a->last_message);
    if (!err)
        err = bind_int(db, st, 13, now);
    if (err) {
        sqlite3_finalize(st);
        return err;
    }
    err = pstmt_run(tx, st, "insert platform application");
    if (!err) {
        a->id = sqlite3_last_insert_rowid(db);
        a->created_at = a->updated_at = now;
    }
    return err;
}

static bh_err papp_one(bh_tx *tx, sqlite3_stmt *st, bh_papp *out)
{
    int rc = sqlite3_step(st);
    bh_err err = rc == SQLITE_ROW    ? read_papp(st, out)
                 : rc == SQLITE_DONE ? BH_ENOTFOUND
                                     : sql_err(tx->c->db, rc, "read platform application");
    sqlite3_finalize(st);
    return err;
}

bh_err bh_tx_papp_by_applyno(bh_tx *tx, const char *appkey, const char *applyno, bh_papp *out)
{
    if (!tx || !appkey || !applyno || !out)
        return BH_EINVAL;
    sqlite3_stmt *st;
    bh_err err = pstmt(
        tx, "SELECT " PAPP_COLS " FROM platform_apps WHERE appkey = ?1 AND applyno = ?2", &st);
    if (err)
        return err;
    err = bind_text(tx->c->db, st, 1, appkey);
    if (!err)
        err = bind_text(tx->c->db, st, 2, applyno);
    if (err) {
        sqlite3_finalize(st);
        return err;
    }
    return papp_one(tx, st, out);
}

bh_err bh_tx_papp_by_id(bh_tx *tx, int64_t id, bh_papp *out)
{
    if (!tx || !out)
        return BH_EINVAL;
    sqlite3_stmt *st;
    bh_err err = pstmt(tx, "SELECT " PAPP_COLS " FROM platform_apps WHERE id = ?1", &st);
    if (err)
        return err;
    err = bind_int(tx->c->db, st, 1, id);
    if (err) {
        sqlite3_finalize(st);
        return err;
    }
    return papp_one(tx, st, out);
}

bh_err bh_tx_papp_update(bh_tx *tx, const bh_papp *a, bh_papp_state expected, int64_t now)
{
    if (!tx || !tx->writable || !a || !bh_papp_state_name(a->state) ||
        !bh_papp_state_name(expected))
        return BH_EINVAL;
    sqlite3 *db = tx->c->db;
    sqlite3_stmt *st;
    bh_err err = pstmt(tx,
                       "UPDATE platform_apps SET state = ?3, payurl = ?4, baohanno = ?5,"
                       " info_json = ?6, info_at = ?7, last_code = ?8, last_message = ?9,"
                       " updated_at = ?10 WHERE id = ?1 AND state = ?2",
                       &st);
    if (err)
        return err;
    err = bind_int(db, st, 1, a->id);
    if (!err)
        err = bind_text(db, st, 2, bh_papp_state_name(expected));
    if (!err)
        err = bind_text(db, st, 3, bh_papp_state_name(a->state));
    if (!err)
        err = bind_text(db, st, 4, a->payurl);
    if (!err)
        err = bind_text(db, st, 5, a->baohanno);
    if (!err)
        err = bind_text(db, st, 6, a->info_json);
    if (!err)
        err = bind_int(db, st, 7, a->info_at);
    if (!err)
        err = bind_int(db, st, 8, a->last_code);
    if (!err)
        err = bind_text(db, st, 9, a->last_message);
    if (!err)
        err = bind_int(db, st, 10, now);
    if (err) {
        sqlite3_finalize(st);
        return err;
    }
    err = pstmt_run(tx, st, "update platform application");
    if (err || sqlite3_changes(db) == 1)
        return err;
    bh_papp cur = {0};
    err = bh_tx_papp_by_id(tx, a->id, &cur);
    bh_papp_release(&cur);
    return err == BH_OK ? BH_EINVAL : err; /* exists but in another state */
}

bh_err bh_tx_papp_list(bh_tx *tx, const bh_papp_state *state, const char *appkey, size_t limit,
                       size_t offset, bh_papp **out, size_t *count)
{
    if (!tx || !out || !count || (state && !bh_papp_state_name(*state)))
        return BH_EINVAL;
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st;
    bh_err err = pstmt(tx,
                       "SELECT " PAPP_COLS " FROM platform_apps WHERE (?1 IS NULL OR state = ?1)"
                       " AND (?2 IS NULL OR appkey = ?2) ORDER BY id DESC LIMIT ?3 OFFSET ?4",
                       &st);
    if (err)
        return err;
    err = bind_text(tx->c->db, st, 1, state ? bh_papp_state_name(*state) : NULL);
    if (!err)
        err = bind_text(tx->c->db, st, 2, appkey);
    if (!err)
        err = bind_int(tx->c->db, st, 3, clamp_size(limit ? limit : 100));
    if (!err)
        err = bind_int(tx->c->db, st, 4, clamp_size(offset));
    if (err) {
        sqlite3_finalize(st);
        return err;
    }
    void *list;
    err = prows(tx, st, sizeof(bh_papp), read_papp, free_papps, &list, count);
    *out = list;
    return err;
}

bh_err bh_tx_pnotice_add(bh_tx *tx, int64_t app_id, const char *iface, const char *content_hash,
                         const char *plain_json, int64_t now)
{
    if (!tx || !tx->writable || !iface || !content_hash || !plain_json)
        return BH_EINVAL;
    sqlite3 *db = tx->c->db;
    sqlite3_stmt *st;
    bh_err err = pstmt(tx,
                       "INSERT INTO platform_notices (app_id, iface, content_hash, plain_json,"
                       " received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                       &st);
    if (err)
        return err;
    err = bind_int(db, st, 1, app_id);
    if (!err)
        err = bind_text(db, st, 2, iface);
    if (!err)
        err = bind_text(db, st, 3, content_hash);
    if (!err)
        err = bind_text(db, st, 4, plain_json);
    if (!err)
        err = bind_int(db, st, 5, now);
    if (err) {
        sqlite3_finalize(st);
        return err;
    }
    return pstmt_run(tx, st, "add platform notice");
}

/* The rows of one application from a SELECT whose ?1 is its id. */
static bh_err rows_of_app(bh_tx *tx, const char *sql, int64_t app_id, size_t size,
                          bh_err (*read)(sqlite3_stmt *, void *), void (*free_list)(void *, size_t),
                          void **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st;
    bh_err err = pstmt(tx, sql, &st);
    if (err)
        return err;
    if ((err = bind_int(tx->c->db, st, 1, app_id))) {
        sqlite3_finalize(st);
        return err;
    }
    return prows(tx, st, size, read, free_list, out, count);
}

bh_err bh_tx_pnotice_list(bh_tx *tx, int64_t app_id, bh_pnotice **out, size_t *count)
{
    if (!tx || !out || !count)
        return BH_EINVAL;
    void *list;
    bh_err err = rows_of_app(tx,
                             "SELECT id, app_id, iface, content_hash, plain_json, received_at"
                             " FROM platform_notices WHERE app_id = ?1 ORDER BY id",
                             app_id, sizeof(bh_pnotice), read_pnotice, free_pnotices, &list, count);
    *out = list;
    return err;
}

bh_err bh_tx_filecheck_replace(bh_tx *tx, int64_t app_id, const bh_filecheck *checks, size_t n,
                               int64_t now)
{
    if (!tx || !tx->writable || (n && !checks))
        return BH_EINVAL;
    sqlite3 *db = tx->c->db;
    sqlite3_stmt *st;
    bh_err err = pstmt(tx, "DELETE FROM platform_file_checks WHERE app_id = ?1", &st);
    if (err)
        return err;
    if ((err = bind_int(db, st, 1, app_id))) {
        sqlite3_finalize(st);
        return err;
    }
    err = pstmt_run(tx, st, "clear file checks");
    for (size_t i = 0; !err && i < n; i++) {
        const bh_filecheck *f = &checks[i];
        if (!f->field || !f->url)
            return BH_EINVAL;
        err = pstmt(tx,
                    "INSERT INTO platform_file_checks (app_id, field, url, md5_expected,"
                    " md5_actual, ok, detail, checked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    &st);
        if (err)
            break;
        err = bind_int(db, st, 1, app_id);
        if (!err)
            err = bind_text(db, st, 2, f->field);
        if (!err)
            err = bind_text(db, st, 3, f->url);
        if (!err)
            err = bind_text(db, st, 4, f->md5_expected);
        if (!err)
            err = bind_text(db, st, 5, f->md5_actual);
        if (!err)
            err = bind_int(db, st, 6, f->ok ? 1 : 0);
        if (!err)
            err = bind_text(db, st, 7, f->detail);
        if (!err)
            err = bind_int(db, st, 8, now);
        if (err)
            sqlite3_finalize(st);
        else
            err = pstmt_run(tx, st, "add file check");
    }
    return err;
}

bh_err bh_tx_filecheck_list(bh_tx *tx, int64_t app_id, bh_filecheck **out, size_t *count)
{
    if (!tx || !out || !count)
        return BH_EINVAL;
    void *list;
    bh_err err = rows_of_app(tx,
                             "SELECT id, app_id, field, url, md5_expected, md5_actual, ok, detail,"
                             " checked_at FROM platform_file_checks WHERE app_id = ?1 ORDER BY id",
                             app_id, sizeof(bh_filecheck), read_filecheck, free_filechecks, &list,
                             count);
    *out = list;
    return err;
}
