/* The institution role: the five interfaces it serves and the operator's
 * workflow, on top of the store.
 *
 * A request travels: body (JSON or requestData form) → message → appkey →
 * timestamp window → signature → decryption and schema validation → the
 * application's state machine, in one store unit of work together with the
 * audit row, any notice it queues and the answer kept for idempotent repeats
 * → reply (only once that unit is durable).
 *
 * States (PROTOCOL.md §8): applied → submitted (bidder's form) → paid
 * (operator records the premium) → issued | rejected; giveupnotice before
 * issue → given_up; quitapply on issued → quit_requested → quit (approved,
 * quitnotice queued) | issued (refused); claimsnotice on issued or
 * quit_requested → claimed. */
#ifndef BAOHAN_DAEMON_INSTITUTION_H
#define BAOHAN_DAEMON_INSTITUTION_H

#include <stdio.h>

#include "config.h"
#include "http.h"
#include "outbox.h"
#include "store.h"

typedef struct bh_institution {
    bh_store *store;
    const bh_config *config;
    bh_outbox *outbox; /* kicked when a notice is queued; may be NULL */
    const bh_signer *signer; /* signs issued guarantees; NULL only with
                              * [signing] allow_unsigned (development) */
} bh_institution;

/* The path prefix of download URLs: <public_url>/files/<token>. */
#define BH_FILES_PREFIX "/files/"

/* Serves POST /<interface> for baohanapply, getbaohaninfo, giveupnotice,
 * quitapply and claimsnotice, and GET /files/<token>. Returns 1 when the
 * request was one of these (the response is filled), 0 otherwise. */
int bh_institution_handle(bh_institution *inst, const bh_http_request *req, bh_http_response *resp);
/* For the quick handler (event thread): takes the interfaces whose work is
 * one store unit (all but getbaohaninfo) and answers them once the unit is
 * durable; returns 1 when it took the call, 0 to leave it to
 * bh_institution_handle on a worker. */
int bh_institution_take(bh_institution *inst, bh_http_call *call);

/* The premium for a bid security amount: amount × rate rounded half up,
 * and at least the configured minimum. */
bh_err bh_premium(const bh_config *config, int64_t amount_fen, int64_t *premium_fen) BH_MUST_CHECK;

/* The end of a guarantee's validity: bid opening (kaibiaotime) + the bid
 * validity period (tbyxq days), from the application's business fields.
 * BH_EFORMAT when either is missing or malformed. */
bh_err bh_validity_end(const bh_msg *request_fields, int64_t *end) BH_MUST_CHECK;

/* Writes an ID number masked for display: "350602********1234" — enough to
 * recognise, never the whole number. Short or absent input gives "****". */
void bh_mask_id(const char *id, char *out, size_t n);

/* ---- the operator's workflow (admin API) ----------------------------------- */

typedef struct bh_payment {
    const char *payername;    /* must be the bidder (biddername) */
    const char *payeraccount; /* must be the declared basic account */
    int64_t amount_fen;       /* must be the premium */
    const char *paytype;      /* e.g. "银行转账" */
    const void *proof;        /* the bank's proof of payment (PDF, JPEG or PNG) */
    size_t proof_len;
    const char *proof_filename;
} bh_payment;

/* Records the premium payment of a submitted application: → paid. With
 * automatic underwriting and an amount within auto_max_amount, also issues.
 * Every refusal is named in `d` (field and rule) and changes nothing. */
bh_err bh_inst_record_payment(bh_institution *inst, int64_t app_id, const bh_payment *p,
                              bh_diag *d) BH_MUST_CHECK;

/* Underwrites a paid application. Approve: assigns the guarantee number,
 * generates and stores the guarantee PDF, the application form PDF and the
 * XML, → issued, queues baohannotice (applystatus 1). Reject (reason
 * required): → rejected, queues baohannotice (applystatus 0). */
bh_err bh_inst_underwrite(bh_institution *inst, int64_t app_id, int approve, const char *reason,
                          bh_diag *d) BH_MUST_CHECK;

/* Decides a pending withdrawal: approve → quit and queues quitnotice;
 * refuse (reason required) → back to issued. */
bh_err bh_inst_withdrawal(bh_institution *inst, int64_t app_id, int approve, const char *reason,
                          bh_diag *d) BH_MUST_CHECK;

/* Records that a claim was paid (claimed applications only). */
bh_err bh_inst_claim_paid(bh_institution *inst, int64_t app_id, int64_t amount_fen,
                          const char *account, const char *reference, bh_diag *d) BH_MUST_CHECK;

#endif
