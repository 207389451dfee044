/* baohand: the daemon. Reads the configuration, opens the store, starts the
 * outbox worker and the public and admin HTTP listeners, and runs until
 * SIGTERM or SIGINT, then stops cleanly: listeners stop accepting and finish
 * in-flight requests, the outbox finishes its attempt, the store drains its
 * pending commits. Only this file exits. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "config.h"
#include "http.h"
#include "institution.h"
#include "outbox.h"
#include "platform.h"
#include "store.h"
#include "verify.h"
#include "web.h"
#include "banned.h"

static const char usage[] =
    "usage: baohand --config FILE [--check]\n"
    "\n"
    "Runs the baohan daemon (institution or platform role, as [server] role says)\n"
    "with the configuration in FILE.\n"
    "  --config FILE  the INI configuration (see etc/baohand.ini)\n"
    "  --check        check the configuration and exit\n"
    "  --help         this text\n";

typedef struct service {
    bh_institution inst;
    bh_web web;
    bh_verify verify;
    bh_platform plat; /* role = platform: its store is inst.store */
} service;

/* GET /healthz: alive, with the store's counters (for operators and
 * bench/loadgen: mean batch = units / commits). */
static void healthz(service *s, bh_http_response *resp)
{
    bh_buf_reset(&resp->body);
    uint64_t units = 0, commits = 0, queued = 0;
    bh_store_stats(s->inst.store, &units, &commits, &queued);
    if (bh_buf_addf(&resp->body,
                    "{\"ok\":true,\"status\":\"ok\",\"store\":{\"units\":%llu,"
                    "\"commits\":%llu,\"queued\":%llu}}",
                    (unsigned long long)units, (unsigned long long)commits,
                    (unsigned long long)queued))
        resp->status = 500;
}

static int is_healthz(const bh_http_request *req)
{
    return strcmp(req->path, "/healthz") == 0 && strcmp(req->method, "GET") == 0;
}

/* On an event thread: the health check, and the protocol interfaces whose
 * work is one store unit. Everything else (pages, downloads, getbaohaninfo)
 * may block and goes to public_handler on a worker. */
static int public_quick(void *ctx, bh_http_call *call)
{
    service *s = ctx;
    const bh_http_request *req = bh_http_call_request(call);
    if (is_healthz(req)) {
        healthz(s, bh_http_call_response(call));
        bh_http_call_finish(call);
        return 1;
    }
    if (s->inst.config->role == BH_ROLE_PLATFORM)
        return bh_platform_take(&s->plat, call);
    if (strncmp(req->path, BH_WEB_PREFIX, strlen(BH_WEB_PREFIX)) == 0 ||
        strncmp(req->path, BH_VERIFY_PATH, strlen(BH_VERIFY_PATH)) == 0)
        return 0;
    return bh_institution_take(&s->inst, call);
}

static void public_handler(void *ctx, const bh_http_request *req, bh_http_response *resp)
{
    service *s = ctx;
    if (is_healthz(req)) {
        healthz(s, resp);
        return;
    }
    /* The platform serves nothing that may block: public_quick took its
     * notices. */
    if (s->inst.config->role == BH_ROLE_INSTITUTION &&
        (bh_web_handle(&s->web, req, resp) || bh_verify_handle(&s->verify, req, resp) ||
         bh_institution_handle(&s->inst, req, resp)))
        return;
    bh_http_reply(resp, 404, 0, "no such interface or page");
}

static void admin_handler(void *ctx, const bh_http_request *req, bh_http_response *resp)
{
    service *s = ctx;
    if (s->inst.config->role == BH_ROLE_PLATFORM)
        bh_admin_platform_handle(&s->plat, req, resp);
    else
        bh_admin_handle(&s->inst, req, resp);
}

static void print_problems(const bh_diag *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "baohand: %s%s%s\n", d->items[i].field, *d->items[i].field ? ": " : "",
                d->items[i].message);
}

/* A guarantee without a signature has no legal effect: without a
 * certificate an institution does not start, unless the configuration says
 * in so many words that this is development (allow_unsigned = yes; *out
 * stays NULL). A platform issues nothing and is not asked. 0, or 2 with the
 * reason on stderr. */
static int load_signer(const bh_config *config, const char *config_path, bh_signer **out)
{
    if (!config->sign_cert) {
        if (config->sign_allow_unsigned)
            return 0;
        fprintf(stderr,
                "baohand: %s: [signing] cert and key are not set: guarantees must be signed "
                "(docs/signing.md). For test material run: baohan pki init DIR; for "
                "development without signatures set [signing] allow_unsigned = yes\n",
                config_path);
        return 2;
    }
    bh_diag d = BH_DIAG_INIT;
    if (bh_signer_load(config->sign_cert, config->sign_key, config->sign_chain, bh_time_now(),
                       out, &d) != BH_OK) {
        for (size_t i = 0; i < d.count; i++)
            fprintf(stderr, "baohand: signing.%s: %s\n", d.items[i].field, d.items[i].message);
        fprintf(stderr, "baohand: %s: the signing identity cannot be used\n", config_path);
        bh_diag_release(&d);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int check_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0) {
            check_only = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!config_path) {
        fputs(usage, stderr);
        return 2;
    }

    bh_config config;
    bh_diag d = BH_DIAG_INIT;
    if (bh_config_load(config_path, &config, &d) != BH_OK) {
        print_problems(&d);
        fprintf(stderr, "baohand: %s: configuration refused\n", config_path);
        bh_diag_release(&d);
        return 2;
    }
    bh_signer *signer = NULL;
    if (config.role == BH_ROLE_INSTITUTION && load_signer(&config, config_path, &signer) != 0) {
        bh_config_release(&config);
        return 2;
    }
    if (check_only) {
        printf("baohand: %s: configuration OK\n", config_path);
        bh_signer_free(signer);
        bh_config_release(&config);
        return 0;
    }

    /* Signals are taken by sigtimedwait() below; every thread inherits the mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* stdout carries the access log: written a block at a time (a write()
     * a line cost ~8 us a request under load, see bench/README.md), and
     * flushed twice a second by the loop at the end, so `tail -f` lags by
     * at most half a second. */
    setvbuf(stdout, NULL, _IOFBF, (size_t)1 << 16);

    int rc = 1;
    char files_dir[4096];
    snprintf(files_dir, sizeof files_dir, "%s/files", config.data_dir);
    service s = {{NULL, &config, NULL, signer}, {NULL, &config}, {NULL, &config}, {NULL, &config}};
    bh_http_server *public_server = NULL, *admin_server = NULL;
    if (bh_mkdir_p(config.data_dir, 0700, "data_dir", &d) ||
        bh_mkdir_p(files_dir, 0700, "data_dir", &d)) {
        print_problems(&d);
        goto out;
    }
    if (bh_store_open(config.store, files_dir, &s.inst.store, &d) != BH_OK) {
        print_problems(&d);
        goto out;
    }
    s.web.store = s.inst.store;
    s.verify.store = s.inst.store;
    s.plat.store = s.inst.store;
    /* The platform sends nothing on its own: no outbox worker. */
    if (config.role == BH_ROLE_INSTITUTION &&
        bh_outbox_start(s.inst.store, &config, stderr, &s.inst.outbox) != BH_OK) {
        fprintf(stderr, "baohand: cannot start the outbox worker\n");
        goto out;
    }
    /* Uploads: the bidder's files on the pay page, a guarantee to check on the
     * verification page; every other body is capped at [server] max_body. */
    bh_http_options pub = {
        .listen = config.listen,
        .max_body = config.max_body,
        .large = {{BH_WEB_PREFIX, BH_WEB_MAX_BODY}, {BH_VERIFY_PATH, BH_VERIFY_MAX_BODY}},
        .threads = config.threads,
        .connections = config.connections,
        .access_log = stdout,
        .handler = public_handler,
        .ctx = &s,
        .quick = public_quick,
    };
    bh_http_options adm = {.listen = config.admin_listen,
                           .max_body = (size_t)24 * 1024 * 1024,
                           .threads = 4,
                           .access_log = stdout,
                           .handler = admin_handler,
                           .ctx = &s};
    /* The admin server first: once /healthz answers, everything is up. */
    if (bh_http_start(&adm, &admin_server, &d) != BH_OK ||
        bh_http_start(&pub, &public_server, &d) != BH_OK) {
        print_problems(&d);
        goto out;
    }
    if (signer)
        fprintf(stderr, "baohand: guarantees are signed by %s%s\n", bh_signer_subject(signer),
                strstr(bh_signer_subject(signer), "NOT FOR PRODUCTION")
                    ? " — TEST CERTIFICATE, NOT FOR PRODUCTION"
                    : "");
    else if (config.role == BH_ROLE_INSTITUTION)
        fprintf(stderr, "baohand: WARNING: guarantees are issued UNSIGNED "
                        "([signing] allow_unsigned = yes): development only\n");
    /* Until 2026-11-28 `threads` counted connections (a thread each); a
     * configuration written then for many connections now asks for that
     * many workers, and its connection cap is `connections`. */
    if (config.threads > 256 && config.connections == 0)
        fprintf(stderr,
                "baohand: note: [server] threads = %d is the number of worker threads for "
                "pages that may block; the connections open at once are [server] connections "
                "(now the default, 1024)\n",
                config.threads);
    fprintf(stderr,
            "baohand: %s%s%s listening on %s (port %d), admin on %s (port %d); data in %s\n",
            config.role == BH_ROLE_PLATFORM ? "platform" : "institution \"",
            config.role == BH_ROLE_PLATFORM ? "" : config.inst_name,
            config.role == BH_ROLE_PLATFORM ? "" : "\"", config.listen,
            bh_http_port(public_server), config.admin_listen, bh_http_port(admin_server),
            config.data_dir);

    int sig;
    for (;;) {
        struct timespec half_second = {0, 500 * 1000 * 1000};
        sig = sigtimedwait(&stop_signals, NULL, &half_second);
        if (sig > 0)
            break;
        fflush(stdout);
    }
    fprintf(stderr, "baohand: signal %d: stopping\n", sig);
    rc = 0;
out:
    bh_http_stop(public_server);
    bh_http_stop(admin_server);
    bh_outbox_stop(s.inst.outbox);
    bh_store_close(s.inst.store);
    bh_signer_free(signer);
    bh_config_release(&config);
    bh_diag_release(&d);
    return rc;
}
