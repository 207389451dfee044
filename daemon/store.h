/* The store: everything baohand keeps, behind one interface with an SQLite
 * backend (store_sqlite.c, the embedded default) and, later, a PostgreSQL
 * one. SQL lives only in the backends; handlers speak in these operations.
 *
 * Writes run as units of work: bh_store_write(store, fn, ctx) runs fn inside
 * a write transaction and returns only when that transaction is durable (on
 * disk, fsync'd); bh_store_submit() queues the same and returns at once, its
 * done callback reporting the result once durable. Concurrent units are
 * batched into one transaction and one fsync (group commit), and the fsync
 * of one batch overlaps the next batch's work; each unit runs inside its own
 * savepoint, so a unit that returns an error rolls back only its own
 * changes. A unit must do only store work (no network, no sleeping): other
 * units wait behind it.
 *
 * Reads run in bh_store_read(store, fn, ctx) against a consistent snapshot
 * of durable data and may run concurrently with writes (WAL).
 *
 * Strings returned in records are owned by the record; release it with the
 * matching *_release(). All times are Unix seconds. */
#ifndef BAOHAN_DAEMON_STORE_H
#define BAOHAN_DAEMON_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "baohan/baohan.h"

typedef struct bh_store bh_store;
typedef struct bh_tx bh_tx;

/* ---- applications --------------------------------------------------- */

/* The life of an application on the institution side (PROTOCOL.md §8). */
typedef enum bh_app_state {
    BH_APP_APPLIED = 0,    /* baohanapply accepted; the bidder has the pay URL */
    BH_APP_SUBMITTED,      /* the bidder completed the form on the pay page */
    BH_APP_PAID,           /* the premium payment is recorded */
    BH_APP_ISSUED,         /* approved; guarantee number and files exist */
    BH_APP_REJECTED,       /* underwriting refused */
    BH_APP_GIVEN_UP,       /* giveupnotice before issue */
    BH_APP_QUIT_REQUESTED, /* quitapply received on an issued guarantee */
    BH_APP_QUIT,           /* withdrawal approved (quitnotice queued) */
    BH_APP_CLAIMED,        /* claimsnotice received on an issued guarantee */
    BH_APP_STATE_COUNT_
} bh_app_state;

/* "applied", "submitted", … (the names used in the store, the admin API and
 * the documentation); NULL for an invalid value. */
const char *bh_app_state_name(bh_app_state s);
/* The reverse; BH_ENOTFOUND for an unknown name. */
bh_err bh_app_state_parse(const char *name, bh_app_state *out);

typedef struct bh_app {
    int64_t id;
    char *appkey;       /* the counterpart platform that sent it */
    char *applyno;      /* unique per appkey */
    char *content_hash; /* SM3 hex of the business content (idempotency), or "":
                         * that of request_json, made when needed */
    bh_app_state state;
    char *pay_token;    /* 44 hex characters (12 of time, 128 random bits): the pay URL's secret */
    char *request_json; /* the decrypted plaintext request (business fields only) */
    char *form_json;    /* the bidder's details from the pay page, or NULL */
    char *payment_json; /* the recorded premium payment, or NULL */
    char *claim_json;   /* the claim received, or NULL */
    char *biddername;   /* copied out of request_json for listing and filtering */
    char *biddercode;
    int64_t bzjamount_fen;
    int64_t premium_fen;
    char *baohanno;    /* NULL until issued */
    char *reason;      /* rejection, withdrawal or refusal reason, or NULL */
    int64_t issued_at; /* 0 until issued */
    int64_t created_at;
    int64_t updated_at;
} bh_app;

void bh_app_release(bh_app *app);

/* Inserts a new application (id, created_at, updated_at are set by the
 * store; `app->id` receives the new id). created_at is the current time, or
 * `app->created_at` when that is positive (imports, tests); updated_at
 * equals it. appkey, applyno, content_hash, pay_token and request_json are
 * required (BH_EINVAL). BH_EDUPKEY when (appkey, applyno), pay_token or
 * baohanno already exists. */
bh_err bh_tx_app_insert(bh_tx *tx, bh_app *app) BH_MUST_CHECK;

/* Finds by (appkey, applyno), by pay token, by guarantee number or by id.
 * BH_ENOTFOUND when there is none. `out` is filled (release it). */
bh_err bh_tx_app_by_applyno(bh_tx *tx, const char *appkey, const char *applyno,
                            bh_app *out) BH_MUST_CHECK;
bh_err bh_tx_app_by_token(bh_tx *tx, const char *pay_token, bh_app *out) BH_MUST_CHECK;
bh_err bh_tx_app_by_baohanno(bh_tx *tx, const char *baohanno, bh_app *out) BH_MUST_CHECK;
bh_err bh_tx_app_by_id(bh_tx *tx, int64_t id, bh_app *out) BH_MUST_CHECK;

/* Writes every mutable field of `app` (state, form_json, payment_json,
 * claim_json, premium_fen, baohanno, reason, issued_at; updated_at = now)
 * provided the stored state is still `expected`: BH_ESTATE-like conflicts are
 * BH_EINVAL ("the application changed meanwhile"). BH_ENOTFOUND when there
 * is no application `app->id`. BH_EDUPKEY when the guarantee number is taken. */
bh_err bh_tx_app_update(bh_tx *tx, const bh_app *app, bh_app_state expected,
                        int64_t now) BH_MUST_CHECK;

/* Listing for operators. Any filter may be NULL/0 (no filter). Newest first.
 * `*out` is an array of `*count` records; free with bh_app_list_free(). */
typedef struct bh_app_filter {
    const bh_app_state *state; /* NULL: any state */
    const char *bidder;        /* substring of biddername, or exact biddercode */
    int64_t created_from;      /* inclusive, 0: no bound */
    int64_t created_to;        /* exclusive, 0: no bound */
    size_t limit;              /* 0: 100 */
    size_t offset;
} bh_app_filter;
bh_err bh_tx_app_list(bh_tx *tx, const bh_app_filter *filter, bh_app **out,
                      size_t *count) BH_MUST_CHECK;
void bh_app_list_free(bh_app *apps, size_t count);

/* The next value of a named counter (guarantee-number sequences), starting at 1. */
bh_err bh_tx_next_seq(bh_tx *tx, const char *name, int64_t *out) BH_MUST_CHECK;

/* ---- idempotent answers ------------------------------------------------ */

/* A request that was answered: (appkey, interface, applyno, content_hash) →
 * the response JSON. A repeat with the same content is answered the same.
 * get: BH_ENOTFOUND when there is none; `*response_json` is malloc'd (free
 * it). put: BH_EDUPKEY when an answer is already stored under that key (the
 * first one stands). */
bh_err bh_tx_answer_get(bh_tx *tx, const char *appkey, const char *iface, const char *applyno,
                        const char *content_hash, char **response_json) BH_MUST_CHECK;
bh_err bh_tx_answer_put(bh_tx *tx, const char *appkey, const char *iface, const char *applyno,
                        const char *content_hash, const char *response_json,
                        int64_t now) BH_MUST_CHECK;

/* ---- files ------------------------------------------------------------- */

/* A stored file: the bytes live in the content store under the data
 * directory (named by their SM3), the row maps an unguessable download token
 * to them. */
typedef struct bh_file {
    int64_t id;
    int64_t app_id;
    char *kind;         /* "guarantee", "guarantee_xml", "order", "qualification",
                           "business_license", "payment_proof", "claim" */
    char *token;        /* 32 hex characters: the download URL's secret */
    char *content_type; /* "application/pdf", "image/png", … */
    char *filename;     /* for Content-Disposition */
    char *md5;          /* upper-case hex of the bytes */
    char *sm3;          /* lower-case hex: the content store's name for the bytes */
    int64_t size;
    int64_t created_at;
} bh_file;

void bh_file_release(bh_file *f);

/* Stores `len` bytes (written to the content store and fsync'd before the
 * row is inserted) and records them for `app_id` as `kind`, replacing any
 * earlier file of that kind. `out` (may be NULL) receives the record.
 * BH_ENOTFOUND when there is no application `app_id`. The by_* lookups give
 * BH_ENOTFOUND when there is no such file. */
bh_err bh_tx_file_put(bh_tx *tx, int64_t app_id, const char *kind, const char *content_type,
                      const char *filename, const void *data, size_t len, int64_t now,
                      bh_file *out) BH_MUST_CHECK;
bh_err bh_tx_file_by_token(bh_tx *tx, const char *token, bh_file *out) BH_MUST_CHECK;
bh_err bh_tx_file_by_kind(bh_tx *tx, int64_t app_id, const char *kind, bh_file *out) BH_MUST_CHECK;
/* Appends a stored file's bytes to `out`, verifying their size and SM3:
 * BH_EIO when the bytes on disk are not the ones stored, BH_ENOTFOUND when
 * they are missing, BH_ETOOBIG when `out` cannot hold them. Needs no
 * transaction. */
bh_err bh_store_file_read(bh_store *s, const bh_file *f, bh_buf *out) BH_MUST_CHECK;

/* ---- outbox: notices to deliver ----------------------------------------- */

typedef enum bh_notice_state {
    BH_NOTICE_PENDING = 0, /* to be (re)tried at next_attempt_at */
    BH_NOTICE_DELIVERED,   /* the counterpart answered code 1 */
    BH_NOTICE_FLAGGED      /* still undelivered past the limit: an operator must look */
} bh_notice_state;

typedef struct bh_notice {
    int64_t id;
    int64_t app_id;
    char *appkey;     /* which counterpart to deliver to */
    char *iface;      /* "baohannotice" or "quitnotice" */
    char *plain_json; /* the plaintext business fields; sealed at each attempt */
    bh_notice_state state;
    int attempts;
    int64_t next_attempt_at;
    char *last_error; /* what the last failed attempt saw, or NULL */
    int64_t created_at;
    int64_t delivered_at;
} bh_notice;

void bh_notice_release(bh_notice *n);
void bh_notice_list_free(bh_notice *list, size_t count);

/* Queues a notice (state pending, next_attempt_at = now). Call it in the
 * same unit of work as the state change that causes it. */
bh_err bh_tx_notice_add(bh_tx *tx, int64_t app_id, const char *appkey, const char *iface,
                        const char *plain_json, int64_t now, int64_t *id) BH_MUST_CHECK;
/* Pending notices due at `now` (next_attempt_at <= now), the longest due
 * first, at most `limit` (0: 100). */
bh_err bh_tx_notice_due(bh_tx *tx, int64_t now, size_t limit, bh_notice **out,
                        size_t *count) BH_MUST_CHECK;
/* All notices in a state (NULL: any), newest first, at most `limit` (0: 100). */
bh_err bh_tx_notice_list(bh_tx *tx, const bh_notice_state *state, size_t limit, bh_notice **out,
                         size_t *count) BH_MUST_CHECK;
/* Records an attempt: delivered, or failed with `error` and the next try at
 * `next_attempt_at` (state pending), or flagged. attempts is incremented,
 * last_error becomes `error` (NULL clears it), delivered_at becomes `now`
 * when delivered. Only a pending notice takes an attempt: BH_EINVAL when it
 * is delivered or flagged meanwhile, BH_ENOTFOUND when there is none. */
bh_err bh_tx_notice_attempt(bh_tx *tx, int64_t id, bh_notice_state new_state,
                            int64_t next_attempt_at, const char *error, int64_t now) BH_MUST_CHECK;
/* An operator's retry: pending again, due now (attempts kept). BH_EINVAL for
 * a notice already delivered, BH_ENOTFOUND when there is none. */
bh_err bh_tx_notice_retry(bh_tx *tx, int64_t id, int64_t now) BH_MUST_CHECK;

/* ---- audit -------------------------------------------------------------- */

/* One row per request received and per notice attempt. `detail` must already
 * be masked (no secrets, no full ID numbers): the store writes what it is
 * given. */
typedef struct bh_audit {
    int64_t at;
    const char *direction; /* "in" (requests), "out" (notice attempts), "admin" (operators) */
    const char *iface;
    const char *appkey;
    const char *applyno;
    int code; /* the protocol code answered or received, -1 if none */
    int http_status;
    const char *detail;
} bh_audit;
bh_err bh_tx_audit_add(bh_tx *tx, const bh_audit *a) BH_MUST_CHECK;
/* The number of audit rows (for tests and the health page). */
bh_err bh_tx_audit_count(bh_tx *tx, int64_t *out) BH_MUST_CHECK;

/* ---- the platform role: applications it sent (migration 2) ------------------ */

/* The life of an application as the platform sees it (docs/platform.md):
 * sending → sent (the institution answered baohanapply with code 1 and a
 * pay URL) | refused (code 0); sent → issued | rejected (baohannotice
 * applystatus 1 | 0); sending, sent, rejected → given_up (giveupnotice
 * answered 1); issued → quit_requested (quitapply answered 1) → quit
 * (quitnotice received); issued, quit_requested → claimed (claimsnotice
 * answered 1). A transport failure leaves the state as it was. */
typedef enum bh_papp_state {
    BH_PAPP_SENDING = 0,    /* recorded; baohanapply not answered yet (or not reachable) */
    BH_PAPP_SENT,           /* the institution accepted it; payurl is set */
    BH_PAPP_REFUSED,        /* the institution answered baohanapply with code 0 */
    BH_PAPP_ISSUED,         /* baohannotice applystatus 1: baohanno is set */
    BH_PAPP_REJECTED,       /* baohannotice applystatus 0 */
    BH_PAPP_GIVEN_UP,       /* giveupnotice accepted */
    BH_PAPP_QUIT_REQUESTED, /* quitapply accepted; waiting for quitnotice */
    BH_PAPP_QUIT,           /* quitnotice received: the guarantee is withdrawn */
    BH_PAPP_CLAIMED,        /* claimsnotice accepted */
    BH_PAPP_STATE_COUNT_
} bh_papp_state;

/* "sending", "sent", … (store, admin API, documentation); NULL when invalid. */
const char *bh_papp_state_name(bh_papp_state s);
/* The reverse; BH_ENOTFOUND for an unknown name. */
bh_err bh_papp_state_parse(const char *name, bh_papp_state *out);

typedef struct bh_papp {
    int64_t id;
    char *institution;  /* the [institution NAME] it was sent to */
    char *appkey;       /* that institution's appkey; (appkey, applyno) is unique */
    char *applyno;
    char *content_hash; /* SM3 hex of the business fields sent */
    bh_papp_state state;
    char *request_json; /* the plaintext business fields of baohanapply */
    char *payurl;       /* from the baohanapply answer, or NULL */
    char *baohanno;     /* from baohannotice, or NULL */
    char *info_json;    /* the last getbaohaninfo data (baohanfile left out), or NULL */
    int64_t info_at;    /* when it was fetched, 0: never */
    int last_code;      /* the institution's last answer code: 1, 0, or -1 (none yet) */
    char *last_message; /* and its message, or NULL */
    int64_t created_at;
    int64_t updated_at;
} bh_papp;

void bh_papp_release(bh_papp *a);
void bh_papp_list_free(bh_papp *list, size_t count);

/* Inserts (id, created_at = updated_at = now set by the store). institution,
 * appkey, applyno, content_hash and request_json are required (BH_EINVAL).
 * BH_EDUPKEY when (appkey, applyno) exists. */
bh_err bh_tx_papp_insert(bh_tx *tx, bh_papp *a, int64_t now) BH_MUST_CHECK;
/* Lookups; BH_ENOTFOUND when there is none. `out` is filled (release it). */
bh_err bh_tx_papp_by_applyno(bh_tx *tx, const char *appkey, const char *applyno,
                             bh_papp *out) BH_MUST_CHECK;
bh_err bh_tx_papp_by_id(bh_tx *tx, int64_t id, bh_papp *out) BH_MUST_CHECK;
/* Writes state, payurl, baohanno, info_json, info_at, last_code,
 * last_message (updated_at = now) provided the stored state is still
 * `expected` (BH_EINVAL otherwise: it changed meanwhile). BH_ENOTFOUND when
 * there is no application `a->id`. */
bh_err bh_tx_papp_update(bh_tx *tx, const bh_papp *a, bh_papp_state expected,
                         int64_t now) BH_MUST_CHECK;
/* Newest first; `state` and `appkey` may be NULL (no filter); limit 0: 100. */
bh_err bh_tx_papp_list(bh_tx *tx, const bh_papp_state *state, const char *appkey, size_t limit,
                       size_t offset, bh_papp **out, size_t *count) BH_MUST_CHECK;

/* A notice the platform accepted (baohannotice, quitnotice): one row per
 * distinct content, so a repeat never adds a second. */
typedef struct bh_pnotice {
    int64_t id;
    int64_t app_id;
    char *iface;
    char *content_hash;
    char *plain_json; /* the business fields received */
    int64_t received_at;
} bh_pnotice;

void bh_pnotice_release(bh_pnotice *n);
void bh_pnotice_list_free(bh_pnotice *list, size_t count);
/* BH_EDUPKEY when this (app, iface, content) is already recorded;
 * BH_ENOTFOUND when there is no application `app_id`. */
bh_err bh_tx_pnotice_add(bh_tx *tx, int64_t app_id, const char *iface, const char *content_hash,
                         const char *plain_json, int64_t now) BH_MUST_CHECK;
/* The notices of one application, oldest first. */
bh_err bh_tx_pnotice_list(bh_tx *tx, int64_t app_id, bh_pnotice **out,
                          size_t *count) BH_MUST_CHECK;

/* One check of a file named in a getbaohaninfo answer: the bytes at `url`
 * against the MD5 the answer gave (and, for the guarantee, against the
 * Base64 copy in baohanfile). */
typedef struct bh_filecheck {
    int64_t id;
    int64_t app_id;
    char *field;        /* "baohanurl", "orderurl", …, or "baohanfile" */
    char *url;          /* what was downloaded ("" for baohanfile) */
    char *md5_expected; /* from the answer, or NULL when it gives none (payfileurl) */
    char *md5_actual;   /* of the bytes received, or NULL when none came */
    int ok;
    char *detail;       /* what was wrong, or NULL */
    int64_t checked_at;
} bh_filecheck;

void bh_filecheck_release(bh_filecheck *f);
void bh_filecheck_list_free(bh_filecheck *list, size_t count);
/* Replaces the application's checks with `checks` (the last fetch wins;
 * the audit rows keep the history). id and app_id of the items are ignored. */
bh_err bh_tx_filecheck_replace(bh_tx *tx, int64_t app_id, const bh_filecheck *checks, size_t n,
                               int64_t now) BH_MUST_CHECK;
/* The application's checks, in the order they were made. */
bh_err bh_tx_filecheck_list(bh_tx *tx, int64_t app_id, bh_filecheck **out,
                            size_t *count) BH_MUST_CHECK;

/* ---- the store itself ----------------------------------------------------- */

/* Opens (creating if needed) the store at `location`: a path to an SQLite
 * file. Applies pending schema migrations (each in its own transaction,
 * recorded in schema_version). `files_dir` is the content store's directory
 * (created if needed). Problems go to `d`. */
bh_err bh_store_open(const char *location, const char *files_dir, bh_store **out,
                     bh_diag *d) BH_MUST_CHECK;

/* Finishes pending writes, closes. NULL is fine. Calls already running
 * (waiting writers, readers) finish first; none may start once it is called. */
void bh_store_close(bh_store *s);

/* The current schema version (the number of migrations applied). */
int bh_store_schema_version(bh_store *s);

typedef bh_err (*bh_tx_fn)(bh_tx *tx, void *ctx);

/* Runs `fn` as a unit of work in a write transaction; returns fn's result
 * once the transaction holding it is durable (or rolled back). BH_EIO when
 * the commit itself fails (then fn's changes are not stored). BH_EINVAL when
 * called from inside a unit or a done callback (it would wait for itself).
 * Built on bh_store_submit: the same queue, batches and durability; BH_EIO
 * without running fn once an fsync of the store has failed. */
bh_err bh_store_write(bh_store *s, bh_tx_fn fn, void *ctx) BH_MUST_CHECK;

/* Called exactly once per submitted unit, after its batch is durable: rc is the unit's own
 * result (BH_OK or the error it returned; its savepoint was rolled back), or BH_EIO when
 * the batch could not be committed (then nothing of the unit is stored) or made durable
 * (an fsync failed: then whether it is stored is unknown, as the kernel may or may not
 * have written it; the store refuses every write after that).
 * Runs on a store thread, in submission order: it must be quick, must not block and must
 * not call into the store (no bh_store_write/read/submit). */
typedef void (*bh_store_done_fn)(void *done_ctx, bh_err rc);
/* Queues `fn(tx, ctx)` as a unit of work (run on the writer exactly like bh_store_write's
 * units) and returns at once. BH_EINVAL when the store is closing, BH_ENOMEM: then the unit
 * is not queued and `done` is never called. `ctx` and `done_ctx` must stay valid until
 * `done` has been called. BH_EIO (not queued either) once an fsync of the store has
 * failed: then every write fails until baohand restarts. */
bh_err bh_store_submit(bh_store *s, bh_tx_fn fn, void *ctx, bh_store_done_fn done,
                       void *done_ctx) BH_MUST_CHECK;
/* The same for a unit that needs no savepoint of its own because nothing it
 * does on success can conflict and it has nothing to undo on a refusal (it
 * answers refusals with BH_OK). A savepoint costs ~15 us on the writer, a
 * third of a new application's store work. The price: should the unit
 * return an error (out of memory, an I/O error), the whole transaction it
 * shares with other units is rolled back, and every unit in it ends with
 * BH_EIO — nothing of them is stored, and their callers may retry. For the
 * protocol interfaces' units (serve.c), whose errors mean "retry". */
bh_err bh_store_submit_whole(bh_store *s, bh_tx_fn fn, void *ctx, bh_store_done_fn done,
                             void *done_ctx) BH_MUST_CHECK;

/* Runs `fn` against a read-only snapshot; the bh_tx_* writers return
 * BH_EINVAL inside it. A read sees only durable data: a batch that is
 * committed but not yet fsync'd is visible to no read, so before `fn`
 * runs the read waits until every batch its snapshot may hold is durable
 * (the sync under way and, at most, the one after it). BH_EIO when that can no longer happen (an fsync of
 * the store failed); BH_EINVAL from a done callback. */
bh_err bh_store_read(bh_store *s, bh_tx_fn fn, void *ctx) BH_MUST_CHECK;

/* Counters since open, for tests, benchmarks and the health page: units of
 * work run, write transactions committed (units / commits is the mean batch
 * size) and units waiting in the queue now. Any pointer may be NULL. */
void bh_store_stats(bh_store *s, uint64_t *units, uint64_t *commits, uint64_t *queued);

/* Tests only: a hook the syncer calls just before each fdatasync of the WAL
 * (BH__STORE_SYNC_BEFORE; a nonzero return is taken as that fdatasync
 * failing with that errno value) and after it succeeded
 * (BH__STORE_SYNC_AFTER), and that a read calls, on its own thread, before
 * it waits for a sync (BH__STORE_READ_WAITS). NULL removes it. */
enum { BH__STORE_SYNC_BEFORE, BH__STORE_SYNC_AFTER, BH__STORE_READ_WAITS };
typedef int (*bh__store_hook_fn)(void *ctx, int event);
void bh__store_set_hook(bh_store *s, bh__store_hook_fn fn, void *ctx);

#endif
