/* The request pipeline both roles share for the interfaces they serve
 * (PROTOCOL.md §4–§8): body (JSON or requestData form) → message → appkey →
 * timestamp window → SM3 signature → SM4 decryption and schema validation
 * (bh_open) → the role's dispatch, which chooses the store unit holding its
 * state change, the audit row and the answer kept for idempotent repeats →
 * reply, only once that unit is durable.
 *
 * bh_serve_call() runs on an HTTP event thread and never blocks: the unit
 * goes to the store with bh_store_submit_whole(), and the store's completion
 * answers the call. bh_serve() is the blocking form, for a worker thread,
 * and the only one in which a dispatch may do blocking work of its own
 * (getbaohaninfo reads files).
 *
 * The institution role (institution.c) serves baohanapply, getbaohaninfo,
 * giveupnotice, quitapply and claimsnotice; the platform role (platform.c)
 * serves baohannotice and quitnotice. Each calls bh_serve() with its own
 * dispatch function; everything role-independent lives here. */
#ifndef BAOHAN_DAEMON_SERVE_H
#define BAOHAN_DAEMON_SERVE_H

#include "baohan/baohan.h"
#include "config.h"
#include "http.h"
#include "store.h"

#define BH_OK_MESSAGE "成功"

struct bh_institution;
struct bh_platform;

/* One request being served. The pipeline fills the first part; the role's
 * handler sets the answer through bh_req_say() and friends. */
typedef struct bh_request {
    struct bh_institution *inst; /* the role serving it: exactly one of these is set */
    struct bh_platform *plat;
    bh_store *store;
    const bh_config *config;
    const bh_iface *iface;
    const char *appkey; /* the configured counterpart's appkey, once known */
    const char *applyno;
    bh_msg *wire;     /* the request as received */
    bh_msg *business; /* the opened request's business fields (no appkey, timestamp, sign) */
    char hash[BH_SM3_HEX_LEN + 1]; /* content_hash of `business`; "" until bh_req_hash() */
    int64_t now;
    /* the answer */
    int code;
    bh_buf message;
    bh_msg *answer; /* extra answer fields (Payurl, data) */
    int http_status;
    /* the work */
    bh_tx_fn unit;  /* the store unit to run (ctx: this request), or NULL */
    int refused;    /* the pipeline refused it: `unit` only keeps the audit row */
    void *prep;     /* the role's work done before its unit (institution: apply_prep) */
    void (*prep_free)(void *prep); /* releases `prep` when the request ends */
    bh_http_call *call; /* bh_serve_call's call */
    bh_err unit_rc;     /* bh_serve_call: how the unit ended */
} bh_request;

/* The role's part: runs after the request is authenticated and opened, on
 * the thread that serves it; it calls bh_req_hash() when its unit needs the
 * content hash, so that SM3 stays off the store's one writer thread (the
 * units' own calls are a fallback that then does nothing; a repeated
 * baohanapply hashes there on purpose, see institution.c). It sets
 * `r->unit` to the store unit
 * that sets the answer (bh_req_say) and stores what it accepted, the audit
 * row included (bh_req_audit_in); the pipeline runs it. Only under
 * bh_serve() may it instead do its own (blocking) store work and leave
 * `unit` NULL. An error return means nothing was stored: the pipeline
 * answers "internal error … please retry" with 500. */
typedef bh_err (*bh_serve_fn)(bh_request *r);

/* Serves one request of `r->iface` (r->inst or r->plat, store, config and
 * iface set by the caller; the rest zero): checks the method, runs the
 * pipeline, `dispatch` and its unit (waiting for it to be durable), writes
 * the answer into `resp` with an access-log note, and releases what `r`
 * holds. Blocks. */
void bh_serve(bh_request *r, const bh_http_request *req, bh_http_response *resp,
              bh_serve_fn dispatch);

/* The same without blocking, for the quick handler: serves `call` with a
 * copy of `proto` (set up as for bh_serve). The unit goes to the store
 * (bh_store_submit_whole); its completion finishes the call once the unit
 * is durable, and the answer is written on the call's event thread. */
void bh_serve_call(const bh_request *proto, bh_http_call *call, bh_serve_fn dispatch);

/* The interface a request path ends with (any prefix before it), when
 * `side` serves it; else NULL. */
const bh_iface *bh_served_iface(const char *path, bh_side side);

/* Sets the answer's code and message (printf-style). */
void bh_req_say(bh_request *r, int code, const char *fmt, ...) BH_PRINTF(3, 4);

/* The audit row of a received request ("in"), with the answer as detail. */
bh_err bh_req_audit_in(bh_tx *tx, const bh_request *r) BH_MUST_CHECK;

/* A unit of work holding only that audit row (refusals, reads); ctx is the
 * bh_request. */
bh_err bh_req_unit_audit(bh_tx *tx, void *ctx) BH_MUST_CHECK;

/* A repeat of a request already answered with code 1 (same appkey,
 * interface, applyno and content hash): sets the same answer and
 * `*answered` = 1; otherwise leaves the answer alone and `*answered` = 0. */
bh_err bh_req_repeat_answer(bh_tx *tx, bh_request *r, int *answered) BH_MUST_CHECK;

/* Keeps the current (code 1) answer for repeats, in the caller's unit. */
bh_err bh_req_keep_answer(bh_tx *tx, bh_request *r) BH_MUST_CHECK;

/* SM3 of the business content in signing order (so key order and the
 * envelope do not matter): the identity of "the same request". */
bh_err bh_content_hash(const bh_msg *business, char out[BH_SM3_HEX_LEN + 1]) BH_MUST_CHECK;

/* A stored application's content hash: its content_hash when it has one
 * (rows stored before schema version 4), else that of its request_json,
 * which is exactly its business content. */
bh_err bh_app_content_hash(const bh_app *app, char out[BH_SM3_HEX_LEN + 1]) BH_MUST_CHECK;

/* Fills r->hash with bh_content_hash(r->business) unless it is set
 * already. */
bh_err bh_req_hash(bh_request *r) BH_MUST_CHECK;

#endif
