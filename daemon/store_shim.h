/* TEMPORARY: bh_store_submit until the asynchronous store lands (perf-store). */
#ifndef BAOHAN_DAEMON_STORE_SHIM_H
#define BAOHAN_DAEMON_STORE_SHIM_H
#include "store.h"
typedef void (*bh_store_done_fn)(void *done_ctx, bh_err rc);
bh_err bh_store_submit(bh_store *s, bh_tx_fn fn, void *ctx, bh_store_done_fn done,
                       void *done_ctx) BH_MUST_CHECK;
#endif
