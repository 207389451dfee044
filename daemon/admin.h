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

void bh_admin_handle(bh_institution *inst, const bh_http_request *req, bh_http_response *resp);

#endif
