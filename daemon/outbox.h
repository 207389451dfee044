/* The outbox worker: delivers queued notices (baohannotice, quitnotice) to
 * the counterpart platform until it answers code 1.
 *
 * A notice row is written in the same transaction as the state change that
 * causes it (bh_tx_notice_add), so a crash never loses one. The worker thread
 * takes due rows, seals each with a fresh timestamp and signature, POSTs it,
 * and records the attempt: delivered on code 1; otherwise pending again at
 * now + backoff, where backoff = min(retry_max, retry_base * 2^(attempts-1))
 * with ±50% jitter; flagged for the operator once the notice is older than
 * flag_after. Delivering the same notice twice is harmless: the platform
 * treats repeats idempotently, so redelivery never changes an outcome twice. */
#ifndef BAOHAN_DAEMON_OUTBOX_H
#define BAOHAN_DAEMON_OUTBOX_H

#include <stdio.h>

#include "config.h"
#include "store.h"

typedef struct bh_outbox bh_outbox;

/* Starts the worker. `log` (may be NULL) receives one line per attempt. */
bh_err bh_outbox_start(bh_store *store, const bh_config *config, FILE *log,
                       bh_outbox **out) BH_MUST_CHECK;

/* Wakes the worker now (after a commit that queued a notice). */
void bh_outbox_kick(bh_outbox *o);

/* Runs one pass synchronously: delivers what is due now. Returns the number
 * of notices attempted. For tests and `baohan admin outbox retry`. */
size_t bh_outbox_run_once(bh_outbox *o);

/* Stops the worker (an attempt in progress finishes). NULL is fine. */
void bh_outbox_stop(bh_outbox *o);

/* The delay before attempt number `attempts`+1, without jitter (for tests). */
int64_t bh_outbox_backoff_ms(const bh_config *config, int attempts);

#endif
