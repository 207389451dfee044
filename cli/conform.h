/* baohan conform: what the role suites share — the table of results, one HTTP
 * exchange with the side under test, sealing and breaking requests, the
 * checks every server of the protocol owes whatever its role, and the output.
 *
 *   cmd_conform.c          the command: options, credentials, output
 *   conform_common.c       results, exchanges, admin calls, output
 *   conform_checks.c       checks shared by both roles (signatures, transport, …)
 *   conform_institution.c  the suite against an institution
 *   conform_platform.c     the suite against a platform (plays the institution)
 *   conform_receiver.c     the institution's side of the wire as the suite plays it
 *   conform_http.c         the small HTTP server the receiver (and test doubles) use
 *
 * Every check is independent: it makes its own application, so a failure
 * does not cascade and reruns against the same server do not collide. */
#ifndef BAOHAN_CLI_CONFORM_H
#define BAOHAN_CLI_CONFORM_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define SHOW_MAX 300 /* bytes of a request or answer shown for a failure */

typedef struct result {
    char name[96];
    int pass;
    int skipped; /* not run: what it needs did not happen in time (`why` says) */
    const char *rule;
    char why[400];
    char sent[SHOW_MAX + 8];
    char answer[SHOW_MAX + 320]; /* "HTTP 200 " or the transport failure, then the body */
} result;

typedef struct conform conform;

/* A valid sealed request of `iface` for the checks that break one thing in
 * it: `accept` says whether the check expects it to be accepted once broken
 * in an allowed way (so it needs a state in which the request is right), or
 * refused (any state will do). NULL after recording the check as failed or
 * skipped. */
typedef bh_msg *(*conform_fresh_fn)(conform *c, const char *name, const char *rule,
                                    const char *iface, int64_t now, int accept);

struct conform {
    bh_client *client;
    const char *role; /* "institution" or "platform" */
    char url[1024];
    const char *admin_url, *admin_token;
    const char *institution; /* --institution NAME (platform role, admin API) */
    const char *listen;      /* --listen ADDR (platform role) */
    char listen_url[300];    /* http://ADDR:PORT, what the platform must call (once bound) */
    int64_t wait;            /* --wait SECONDS, 0 when not given */
    int64_t deadline;        /* when waiting for the operator ends, 0 before the first wait */
    int stdin_open;          /* standard input may still give a guarantee number */
    bh_credentials cred;
    long long run_id;
    long pid;
    int seq;
    conform_fresh_fn fresh;
    void *role_state; /* the role suite's own state */
    result *results;
    size_t count, cap;
    int oom;
};

/* One HTTP exchange and what came of it. */
typedef struct exchange {
    bh_buf sent; /* the request as it travelled (JSON), for showing */
    int status;
    bh_buf body;
    bh_msg *answer; /* the parsed answer, NULL when it is not a JSON object */
    char transport[256];
} exchange;

void conform_ex_init(exchange *e);
void conform_ex_release(exchange *e);

/* The answer's code: 1, 0, or -1 when absent or neither. */
int conform_code_of(const exchange *e);

/* A text or number member of the answer, its name matched without regard to case. */
const char *conform_text_nocase(const exchange *e, const char *key);

/* A fresh applyno, "CF<time>-<pid>-<n>" (64 bytes with the NUL at most). */
void conform_next_applyno(conform *c, char out[64]);

/* Records one check's outcome; `e` (may be NULL) is shown when it failed.
 * `why` says what was expected; secrets are never in it. */
void conform_record(conform *c, const char *name, int pass, const char *rule, const exchange *e,
                    const char *why);

/* Records a check that was not run, and why. */
void conform_record_skip(conform *c, const char *name, const char *rule, const char *why);

/* POSTs `body` to BASE/iface with the given content type. */
void conform_post_raw(conform *c, const char *iface, const char *content_type, const char *body,
                      size_t len, exchange *e);

/* POSTs a wire message as JSON; `e->sent` gets its text. */
void conform_post_msg(conform *c, const char *iface, const bh_msg *wire, exchange *e);

/* Seals `plain` at time `now`; on failure records the check as failed. */
bh_msg *conform_seal_or_fail(conform *c, const char *name, const char *rule, const char *iface,
                             const bh_msg *plain, int64_t now);

/* Seals and sends a valid request; returns its code (-1 on any trouble). */
int conform_send_plain(conform *c, const char *iface, const bh_msg *plain, int64_t now,
                       exchange *e);

/* Re-signs a wire message after a change; 0 (and c->oom) on failure. */
int conform_resign(conform *c, bh_msg *wire);

/* Whether `message` names `field` as a word of its own ("zbr" is not in "zbrorgnum"). */
int conform_names_field(const char *message, const char *field);

/* Sends `wire` and expects a refusal; with `field`, the message must name it. */
void conform_expect_refusal(conform *c, const char *name, const char *rule, const char *iface,
                            const bh_msg *wire, const char *field);

/* Sends `wire` and expects code 1. */
void conform_expect_accept(conform *c, const char *name, const char *rule, const char *iface,
                           const bh_msg *wire);

int conform_is_http_url(const char *s);

/* Percent-encodes (RFC 3986 unreserved kept) onto `out`; 0 when out of room. */
int conform_percent_encode(const char *s, size_t len, bh_buf *out);

/* One call to the admin API (bearer token, JSON body or none): the HTTP
 * status, 0 when no answer came. The token is never kept or shown. */
int conform_admin_call(conform *c, const char *method, const char *path, const char *body,
                       bh_buf *out);

/* The admin API's JSON answer parsed (NULL when none came); `raw` gets the
 * body, `*status` the HTTP status (0: no answer). */
bh_msg *conform_admin_json(conform *c, const char *method, const char *path, const char *body,
                           int *status, bh_buf *raw);

/* The member `key` of `m`, itself a JSON object, parsed; NULL when absent. */
bh_msg *conform_member_object(const bh_msg *m, const char *key);

/* A text member of the "application" object GET `path` answers; 0 when absent. */
int conform_admin_show(conform *c, const char *path, const char *key, char *out, size_t n);

/* A valid plaintext request of `iface` for `applyno` (tests/data/examples
 * values; bzjendtime and kaibiaotime in the future); NULL when out of memory. */
bh_msg *conform_plain_for(const char *iface, const char *applyno);

/* Adds the claim fields of claimsnotice (tests/data/examples; with "Reason",
 * capital R as the specification writes it) to `m`. */
bh_err conform_add_claim(bh_msg *m) BH_MUST_CHECK;

/* The files of getbaohaninfo's data (PROTOCOL.md §7.3): URL field, the MD5
 * field that vouches for it (NULL for payfileurl), and the name the platform
 * suite's receiver serves it under. */
#define CONFORM_FILES 6
extern const char *const conform_files[CONFORM_FILES][3];

/* `"key":"value"` with a leading comma when `comma`; 0 when out of room. */
int conform_add_member(bh_buf *out, const char *key, const char *value, int comma);

/* The table, or one JSON object (0 when out of memory). */
void conform_print_table(const conform *c, size_t passed, size_t skipped);
int conform_print_json(const conform *c, size_t passed, size_t skipped);

/* ---- checks every server of the protocol owes (conform_checks.c), on `iface` ---- */

#define R_MISSING "PROTOCOL.md §7, §8: a missing required field is refused, the message naming it"
#define R_TYPES "PROTOCOL.md §6, §8: a wrong type or length is refused (code 0)"
#define R_BADSIGN "PROTOCOL.md §4: a request whose signature does not match is refused"
#define R_UPPER "PROTOCOL.md §4: a verifier accepts upper- or lower-case hex"
#define R_UNKNOWN "PROTOCOL.md §4 step 1: unknown fields are signed, kept and otherwise ignored"
#define R_UNKNOWN_CASE                                                                             \
    "PROTOCOL.md §4 steps 1, 3: unknown fields are signed; keys sort by byte value (Z before a)"
#define R_NUMBERS "PROTOCOL.md §4 step 4: a JSON number is signed as its literal text"
#define R_FORM "PROTOCOL.md §2: a server accepts a requestData=<JSON> form body"
#define R_STALE "PROTOCOL.md §6: a timestamp outside the window (default 300 s) is refused"
#define R_APPKEY "PROTOCOL.md §6: an appkey that is not a configured counterpart is refused"
#define R_MALFORMED "PROTOCOL.md §2, §8: malformed JSON gets code 0 in a JSON body, HTTP 200 or 4xx"
#define R_OVERSIZE "PROTOCOL.md §2, §8: a body over the size limit is refused (code 0 or HTTP 413)"

/* `iface` without `field` (re-signed unless it is sign): refused, the message naming it. */
void conform_check_missing(conform *c, const char *iface, const char *field);

/* Every required request field of `iface` missing in turn. */
void conform_check_all_missing(conform *c, const char *iface);

/* `iface` with `field` replaced by `value` (re-signed); `accept`: code 1 is right;
 * otherwise code 0 with a message naming `field`. */
void conform_check_changed(conform *c, const char *name, const char *rule, const char *iface,
                           const char *field, const char *value, int accept);

/* A wrong signature refused, upper-case hex accepted, no sign refused. */
void conform_check_signatures(conform *c, const char *iface);

/* An unknown field `field`, signed, accepted (`rule` says why it matters). */
void conform_check_unknown_field(conform *c, const char *iface, const char *field,
                                 const char *value, const char *rule);

/* `fields` (NULL-terminated pairs: name, literal) sent as JSON numbers, accepted. */
void conform_check_numbers(conform *c, const char *iface, const char *name,
                           const char *const *fields);

/* A requestData=<JSON> form body, accepted. */
void conform_check_form(conform *c, const char *iface);

/* Stale timestamp, unknown appkey, malformed JSON, a 2 MiB body: all refused. */
void conform_check_transport(conform *c, const char *iface);

/* ---- the role suites ---- */

/* Run every check of the role; results go to c->results. The platform suite
 * returns CLI_EXIT_USAGE (after printing why) when it cannot listen. */
void conform_institution(conform *c);
int conform_platform(const cli_cmd *cmd, conform *c);

#endif
