/* The public verification page (保函验真): <public_url>/verify.
 *
 * GET /verify shows two forms; GET /verify?no=<保函编号> shows the
 * guarantee's key facts — principal, beneficiary, project and section,
 * amount, validity, issuer — and its status (valid, withdrawn, claimed, …),
 * never personal data (no ID numbers, phones or accounts). POST /verify with
 * a multipart form (no = the number, or left out for the number the file's
 * title names; pdf = the file) says whether the file
 * is the genuine unmodified guarantee (its SM3 equals that of the signed
 * file the institution stored) and whether its PDF signature verifies
 * (against the configured chain). Chinese, server-rendered, no JavaScript.
 * The QR code on every issued guarantee points here (bh_verify_url). */
#ifndef BAOHAN_DAEMON_VERIFY_H
#define BAOHAN_DAEMON_VERIFY_H

#include "config.h"
#include "http.h"
#include "store.h"

#define BH_VERIFY_PATH "/verify"
/* Room for <public_url>/verify?no=<baohanno>. */
#define BH_VERIFY_URL_MAX 1024
/* The largest PDF checked (a guarantee is about 250 KB), and the largest
 * upload the public listener takes for this page: the PDF and the form
 * around it. */
#define BH_VERIFY_MAX_PDF ((size_t)4 * 1024 * 1024)
#define BH_VERIFY_MAX_BODY (BH_VERIFY_MAX_PDF + 64 * 1024)

typedef struct bh_verify {
    bh_store *store;
    const bh_config *config;
} bh_verify;

/* Writes <public_url>/verify?no=<baohanno> (public_url's trailing '/'
 * dropped; guarantee numbers need no escaping: letters, digits, - _ . /). */
void bh_verify_url(const bh_config *c, const char *baohanno, char *out, size_t n);

/* Serves GET/HEAD/POST of BH_VERIFY_PATH. Returns 1 when the path was the
 * page's (the response is filled), 0 otherwise. */
int bh_verify_handle(const bh_verify *v, const bh_http_request *req, bh_http_response *resp);

#endif
