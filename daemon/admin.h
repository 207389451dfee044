/* The operator's HTTP API (JSON), on its own listener (default loopback
 * only), every request authenticated with "Authorization: Bearer <token>".
 *
 *   GET  /healthz
 *   GET  /admin/applications?state=&bidder=&from=&to=&limit=&offset=
 *   GET  /admin/applications/ID
 *   POST /admin/applications/ID/payment     {payername, payeraccount, amount, paytype,
 *                                            proof (Base64 of PDF/JPEG/PNG)}
 *   POST /admin/applications/ID/approve
 *   POST /admin/applications/ID/reject      {reason}
 *   POST /admin/applications/ID/withdrawal  {decision: "approve" | "refuse", reason}
 *   POST /admin/applications/ID/claim-paid  {amount, account, reference}
 *   GET  /admin/outbox?state=pending|delivered|flagged
 *   POST /admin/outbox/ID/retry
 *
 * Answers: {"ok":true, …} or {"ok":false,"errors":[{"field":…,"message":…}]}
 * with 400 (bad input), 401 (token), 404 (no such thing), 409 (wrong state). */
#ifndef BAOHAN_DAEMON_ADMIN_H
#define BAOHAN_DAEMON_ADMIN_H

#include "http.h"
#include "institution.h"
#include "platform.h"

void bh_admin_handle(bh_institution *inst, const bh_http_request *req, bh_http_response *resp);

/* The platform role's admin API (same listener, token and answers):
 *
 *   POST /admin/platform/apply                      {institution, fields: {…}}
 *   GET  /admin/platform/applications?state=&institution=&limit=&offset=
 *   GET  /admin/platform/applications/ID
 *   POST /admin/platform/applications/ID/getbaohaninfo
 *   POST /admin/platform/applications/ID/giveup
 *   POST /admin/platform/applications/ID/quitapply  {reason}
 *   POST /admin/platform/applications/ID/claims     {applyusername, applyuserphone,
 *                                                    payeraccount, payeramount, filelist, Reason}
 *
 * Each action answers {"ok":true,"application":{…},"code":C,"msg":"…"} with
 * what the institution answered; a refusal {"ok":false,"error":…,
 * "problems":[…],"errors":[…]} with 400, 404, 409 (state, duplicate) or 502
 * (the institution did not answer). */
void bh_admin_platform_handle(bh_platform *p, const bh_http_request *req, bh_http_response *resp);

#endif
