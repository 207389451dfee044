/* The bidder's page (Payurl): <public_url>/pay/<pay_token>.
 *
 * A server-rendered page in Chinese that works without JavaScript: the
 * application as the bidder will recognise it (decrypted project and section
 * names, bid security amount, premium), a form for what getbaohaninfo later
 * returns (contact, phone, address, e-mail, legal representative's name, ID
 * card number and phone, the bidder's basic account: bank and number) with
 * uploads of the qualification file and business licence (PDF, JPEG or PNG,
 * type checked by content, size capped), and the payment instructions (the
 * institution's account, the exact premium, a reference, and the warning that
 * the premium must come from the bidder's basic account). Invalid input
 * re-shows the form with every error beside its field and changes nothing.
 *
 * A valid submission stores the details (bh_app.form_json, see below) and the
 * two files (kinds "qualification" and "business_license") and moves the
 * application from applied to submitted; while submitted the bidder may
 * submit again (corrections). From paid on, the page only shows the status.
 *
 * form_json is a JSON object with exactly these string fields (named as
 * getbaohaninfo's data fields where one exists):
 *   biddercontact, biddercontacttel, bidderaddress, bidderemail,
 *   bidderpersonname, bidderpersoncard, bidderpersontel,
 *   basicbank, basicaccount                          */
#ifndef BAOHAN_DAEMON_WEB_H
#define BAOHAN_DAEMON_WEB_H

#include "config.h"
#include "http.h"
#include "store.h"

/* The largest upload accepted per file, and for the whole form. */
#define BH_WEB_MAX_FILE ((size_t)10 * 1024 * 1024)
#define BH_WEB_MAX_BODY ((size_t)24 * 1024 * 1024)
/* The path prefix the page lives under. */
#define BH_WEB_PREFIX "/pay/"

/* A pay token: 12 hex digits of its creation time in milliseconds, then 128
 * random bits as 32 hex digits. The random part makes the page's URL
 * unguessable; the time part makes each new token sort after the ones before
 * it, so the store's unique index on tokens grows at its end instead of at a
 * random leaf that must be read, rewritten and synced (on SQLite that halves
 * the CPU of a durable baohanapply insert once the table is large). Tokens of
 * 32 hex digits (random only, made before this scheme) stay valid. */
#define BH_PAY_TOKEN_LEN 44
#define BH_PAY_TOKEN_LEN_RANDOM_ONLY 32

/* Makes a new pay token into `out`. BH_EIO when the system has no randomness. */
bh_err bh_web_new_token(char out[BH_PAY_TOKEN_LEN + 1]) BH_MUST_CHECK;

typedef struct bh_web {
    bh_store *store;
    const bh_config *config;
} bh_web;

/* Serves GET and POST of BH_WEB_PREFIX<token>. Returns 1 when the request was
 * the page's (the response is filled: 200 page, 303 after a successful POST,
 * 404 for an unknown token, 405 for other methods), 0 when the path is not
 * under the prefix (the response is untouched). */
int bh_web_handle(const bh_web *web, const bh_http_request *req, bh_http_response *resp);

/* For the other public pages (verify.c), the same look and headers: */
#include "html.h"
/* Status, content type and the pages' security headers plus `extra`. */
int bh_web_page_headers(bh_http_response *resp, int status, const char *extra);
/* A page with a title and one message. */
void bh_web_message_page(bh_http_response *resp, int status, const char *extra,
                         const char *title, const char *message);
/* A table row "label | value" (escaped; "—" when empty), and one for an
 * amount in figures and capital numerals. */
void bh_web_row(bh_html *h, const char *label, const char *value);
void bh_web_money_row(bh_html *h, const char *label, int64_t fen);
/* Whether a Content-Type header is of media type `type` (lower case). */
int bh_web_media_type_is(const char *content_type, const char *type);

#endif
