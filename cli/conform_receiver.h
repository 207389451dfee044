/* The platform suite's receiver: the institution's side of the wire as the
 * conformance suite plays it (conform_platform.c). It records every request
 * the platform under test sends, answers baohanapply with code 1 and a Payurl
 * (code 0 for the one applyno the suite refuses on purpose), answers
 * getbaohaninfo with a complete data object whose files it serves itself
 * (GET /files/<applyno>/<name>; one applyno may get a wrong ordermd5), and
 * code 1 to giveupnotice, quitapply and claimsnotice. */
#ifndef BAOHAN_CLI_CONFORM_RECEIVER_H
#define BAOHAN_CLI_CONFORM_RECEIVER_H

#include <pthread.h>

#include "conform.h"
#include "conform_http.h"

#define RX_WAIT 10 /* seconds a request the admin API says it sent may take to arrive */

/* One request the platform sent to the suite's receiver. */
typedef struct rx {
    char iface[32]; /* the path's last segment; "GET" for a file download */
    char content_type[128];
    char path[300];
    char *body;
    size_t len;
    char applyno[80];
    char answer[600];
    int taken;
} rx;

typedef struct pstate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rx *rx;
    size_t nrx, cap;
    char refuse[80];  /* the applyno whose baohanapply is answered code 0 */
    char bad_md5[80]; /* the applyno whose getbaohaninfo carries a wrong ordermd5 */
    const char *listen_url;
    int nwanted; /* applications asked of the operator so far (--wait) */
    /* The application the refusal checks send notices for, made once. */
    int neg_got; /* 0 not tried, 1 ok, otherwise what obtain_app returned */
    char neg_applyno[80], neg_why[300];
    /* The issued guarantee after quitapply, for the quitnotice checks. */
    char quit_applyno[80], quit_baohanno[128];
} pstate;

/* The conform_http_fn of the receiver; `ctx` is the pstate. */
void conform_rx_handle(void *ctx, const conform_http_req *req, conform_http_resp *resp);

/* The first request of `iface` not yet taken (for `applyno`, when given;
 * otherwise one whose applyno no earlier request carried) that arrives by
 * `until` (unix seconds); 1 and a copy in `*out` (free out->body), or 0. */
int conform_rx_take(pstate *s, const char *iface, const char *applyno, int64_t until, rx *out);

/* How many of the CONFORM_FILES files of `applyno` have been downloaded, waiting
 * until all have or `until` passes. */
int conform_rx_downloads(pstate *s, const char *applyno, int64_t until);

/* Frees what the receiver recorded. */
void conform_rx_release(pstate *s);

#endif
