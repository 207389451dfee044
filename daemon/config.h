/* baohand's configuration: an INI file read with inih.
 *
 *   [server]        listen, public_url, data_dir, store, timestamp_window,
 *                   max_body, threads, connections, role (institution | platform)
 *   [admin]         listen (default 127.0.0.1:8081), token
 *   [institution]   name, bank, account_name, account_no, premium_rate,
 *                   min_premium, baohanno_pattern, underwriting (manual | auto),
 *                   auto_max_amount
 *   [outbox]        retry_base, retry_max, flag_after
 *   [signing]       cert, key, chain (PEM paths), allow_unsigned
 *   [platform NAME] one per counterpart platform: appkey, appsecret, sm4_key, url
 *   [institution NAME] on a platform (role = platform), one per institution:
 *                   appkey, appsecret, sm4_key, url ([institution] and [outbox]
 *                   are checked but unused there: a platform issues nothing)
 *
 * bh_config_load() refuses, naming "file:line" and the setting, a missing or
 * malformed value, an unknown section or key, a duplicate, and a file that
 * holds secrets (appsecret, sm4_key, token) while readable by group or others.
 * etc/baohand.ini documents every setting with its default;
 * etc/baohand-platform.ini the platform role's. */
#ifndef BAOHAN_DAEMON_CONFIG_H
#define BAOHAN_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "baohan/baohan.h"

typedef enum bh_role { BH_ROLE_INSTITUTION, BH_ROLE_PLATFORM } bh_role;
typedef enum bh_underwriting { BH_UNDERWRITE_MANUAL, BH_UNDERWRITE_AUTO } bh_underwriting;

/* One counterpart: for an institution, a platform that calls it and that it
 * notifies; for a platform, an institution. */
typedef struct bh_counterpart {
    char *name; /* the section's NAME */
    char *appkey;
    char *appsecret;
    bh_sm4_key key;
    char *url; /* the counterpart's base URL: POST <url>/<interface> */
} bh_counterpart;

typedef struct bh_config {
    char *path;               /* the file it was read from */
    bh_role role;             /* [server] role, default institution */
    char *listen;             /* [server] listen "HOST:PORT", default 127.0.0.1:8080 */
    char *public_url;         /* [server] public_url: base of pay and download URLs, required
                               * for the institution role (NULL on a platform without it) */
    char *data_dir;           /* [server] data_dir, required; files in <data_dir>/files */
    char *store;              /* [server] store: SQLite path, default <data_dir>/baohan.db */
    int64_t timestamp_window; /* [server] timestamp_window seconds, default 300 */
    size_t max_body;          /* [server] max_body bytes, default 1048576 */
    int threads;              /* [server] threads (workers for pages), default 0 = automatic */
    int connections;          /* [server] connections (open at once), default 0 = automatic */

    char *admin_listen; /* [admin] listen, default 127.0.0.1:8081 */
    char *admin_token;  /* [admin] token, required (a secret) */

    char *inst_name;         /* [institution] name (出函机构), required for the institution */
    char *inst_bank;         /* [institution] bank: the premium's receiving bank */
    char *inst_account_name; /* [institution] account_name */
    char *inst_account_no;   /* [institution] account_no */
    bh_rate premium_rate;    /* [institution] premium_rate, e.g. 0.0015 */
    int64_t min_premium_fen; /* [institution] min_premium in yuan, e.g. 300.00 */
    char *baohanno_pattern;  /* [institution] baohanno_pattern, default "BH{yyyy}{seq:6}" */
    bh_underwriting underwriting; /* [institution] underwriting, default manual */
    int64_t auto_max_amount_fen;  /* [institution] auto_max_amount: auto-approve up to this */

    char *sign_cert;        /* [signing] cert: the signing certificate (PEM), absolute */
    char *sign_key;         /* [signing] key: its private key (PEM, owner-only), absolute */
    char *sign_chain;       /* [signing] chain: CA certificates above it (PEM) or NULL */
    int sign_allow_unsigned; /* [signing] allow_unsigned = yes: issue unsigned guarantees
                              * when no certificate is set (development only) */

    int64_t retry_base_ms; /* [outbox] retry_base ms, default 1000 */
    int64_t retry_max_ms;  /* [outbox] retry_max ms, default 600000 */
    int64_t flag_after;    /* [outbox] flag_after seconds, default 86400 */

    bh_counterpart *counterparts; /* [platform NAME] (or [institution NAME] on a platform) */
    size_t ncounterparts;
} bh_config;

/* Reads and checks the file. On failure every problem is in `d` with field
 * "PATH:LINE" (or "PATH" for file-level problems), the return value is the
 * first problem's code, and `out` is released (all zero). On success the
 * caller owns `out` and releases it with bh_config_release(). data_dir and
 * store come out absolute: relative values are resolved against the
 * directory of the file. */
bh_err bh_config_load(const char *path, bh_config *out, bh_diag *d) BH_MUST_CHECK;

/* Frees everything, wiping secrets. */
void bh_config_release(bh_config *c);

/* The counterpart with this appkey, or NULL. Constant-time in the secret is
 * not needed: appkeys are not secrets. */
const bh_counterpart *bh_config_counterpart(const bh_config *c, const char *appkey);
/* The counterpart of section NAME ([platform NAME] / [institution NAME]), or NULL. */
const bh_counterpart *bh_config_counterpart_named(const bh_config *c, const char *name);

#endif
