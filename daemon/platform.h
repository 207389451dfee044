/* The platform role: the trading centre's side of the wire.
 *
 * It serves baohannotice and quitnotice through the shared pipeline
 * (serve.h): authenticated, opened and validated like every request, then
 * checked against what the platform sent — a notice for an application it
 * never sent to that institution, or one that contradicts what it knows
 * (a second, different baohannotice; a quitnotice without a quitapply), is
 * refused and changes nothing; an exact repeat gets its first answer.
 *
 * It sends baohanapply, getbaohaninfo, giveupnotice, quitapply and
 * claimsnotice for the operator (admin API, `baohan admin platform …`),
 * recording each application's state as the platform sees it (store.h,
 * bh_papp_state) and every call and answer in the audit table (direction
 * "out"). getbaohaninfo downloads every file the answer names and checks it
 * against its MD5, and the guarantee against its Base64 copy. */
#ifndef BAOHAN_DAEMON_PLATFORM_H
#define BAOHAN_DAEMON_PLATFORM_H

#include "config.h"
#include "http.h"
#include "store.h"

typedef struct bh_platform {
    bh_store *store;
    const bh_config *config;
} bh_platform;

/* For the quick handler (event thread): serves POST /<interface> for
 * baohannotice and quitnotice (under any path prefix) without blocking.
 * Returns 1 when it took the call (answered once its unit is durable), 0
 * when the request is none of these. */
int bh_platform_take(bh_platform *p, bh_http_call *call);

/* What the institution answered a call. code -1: no usable answer. */
typedef struct bh_plat_answer {
    int code;
    char message[1024];
} bh_plat_answer;

/* Records a new application to the institution named `institution` (a
 * configured [institution NAME]) with the plaintext business fields of
 * baohanapply, sends it and records the answer: code 1 → sent with its
 * Payurl, code 0 → refused. Sending the same fields again (same applyno and
 * content) re-sends it while it is sending, sent or refused. `*id` gets the
 * application's id. Refusals (in `d`, field and rule; nothing changes): an
 * unknown institution, invalid fields, the applyno already used for other
 * content (BH_EDUPKEY). BH_EIO when no answer came (the URL and cause in
 * `d`); the application then stays as it was. */
bh_err bh_plat_apply(bh_platform *p, const char *institution, const bh_msg *fields, int64_t *id,
                     bh_plat_answer *ans, bh_diag *d) BH_MUST_CHECK;

/* Sends getbaohaninfo for an application with a guarantee number, keeps the
 * data (without the Base64 file) and the file checks. */
bh_err bh_plat_getbaohaninfo(bh_platform *p, int64_t id, bh_plat_answer *ans,
                             bh_diag *d) BH_MUST_CHECK;

/* Sends giveupnotice; code 1 → given_up (from sending, sent or rejected). */
bh_err bh_plat_giveup(bh_platform *p, int64_t id, bh_plat_answer *ans, bh_diag *d) BH_MUST_CHECK;

/* Sends quitapply with `extra` (reason required); code 1 on an issued
 * application → quit_requested. */
bh_err bh_plat_quitapply(bh_platform *p, int64_t id, const bh_msg *extra, bh_plat_answer *ans,
                         bh_diag *d) BH_MUST_CHECK;

/* Sends claimsnotice with `extra` (applyusername, applyuserphone required;
 * payeraccount, payeramount, filelist, Reason optional); code 1 on an issued
 * or quit_requested application → claimed. */
bh_err bh_plat_claims(bh_platform *p, int64_t id, const bh_msg *extra, bh_plat_answer *ans,
                      bh_diag *d) BH_MUST_CHECK;

#endif
