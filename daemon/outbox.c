/* The outbox worker (see outbox.h and docs/internals/outbox.md).
 *
 * One thread. Each pass reads the due notices in a read snapshot, delivers
 * them one by one outside any transaction (a store write unit must never wait
 * on the network: every other writer would queue behind it), and records each
 * attempt in its own write unit together with its audit row. Between passes
 * the thread sleeps on a condition variable for at most a second, or until
 * kicked. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baohan/client.h"
#include "outbox.h"
#include "banned.h"

/* Notices read per snapshot. */
#define BATCH 32
/* The longest sleep between passes. Due times are whole seconds and the store
 * has no "earliest pending" query, so waking once a second finds every
 * notice as soon as it is due, including rows queued by another process
 * that cannot kick us. */
#define IDLE_WAIT_MS 1000
/* A notice's answer is two short fields: a platform that takes longer than
 * this is retried later rather than holding the queue (and a stop) up. */
#define CONNECT_TIMEOUT_MS 5000
#define DELIVERY_TIMEOUT_MS 10000
/* Bytes of error text kept in last_error, the audit row and the log. */
#define ERROR_TEXT 400

#define DEFAULT_RETRY_BASE_MS 1000
#define DEFAULT_RETRY_MAX_MS 600000
#define DEFAULT_FLAG_AFTER 86400

struct bh_outbox {
    bh_store *store;
    const bh_config *config;
    FILE *log;
    bh_client *client;       /* used only under pass_mu: a bh_client is single-threaded */
    pthread_mutex_t pass_mu; /* one pass at a time (the worker or bh_outbox_run_once) */
    pthread_mutex_t mu;      /* guards stopping and kicked */
    pthread_cond_t cv;
    int stopping;
    int kicked;
    pthread_t thread;
};

/* ---- backoff --------------------------------------------------------------- */

int64_t bh_outbox_backoff_ms(const bh_config *config, int attempts)
{
    int64_t base =
        config && config->retry_base_ms > 0 ? config->retry_base_ms : DEFAULT_RETRY_BASE_MS;
    int64_t max = config && config->retry_max_ms > 0 ? config->retry_max_ms : DEFAULT_RETRY_MAX_MS;
    if (attempts <= 0)
        return 0; /* the first attempt is due at once */
    int64_t d = base;
    for (int i = 1; i < attempts && d < max; i++) {
        if (d > INT64_MAX / 2) {
            d = max;
            break;
        }
        d *= 2;
    }
    return d < max ? d : max;
}

/* `ms` scaled by a uniform factor in [0.5, 1.5), so that notices that failed
 * together (a platform outage) do not all come back in the same second. */
static int64_t jitter(int64_t ms)
{
    uint32_t r;
    if (ms <= 1 || bh_random_bytes(&r, sizeof r) != BH_OK)
        return ms;
    return ms / 2 + (int64_t)((double)ms * ((double)r / 4294967296.0));
}

/* ---- text -------------------------------------------------------------- */

/* ---- one attempt ------------------------------------------------------------ */

typedef struct attempt {
    const bh_notice *notice;
    const char *applyno; /* for the audit row and the log; may be NULL */
    int64_t now;
    bh_notice_state state;
    int64_t next_attempt_at;
    int code;        /* the answer's code, -1 when none */
    int http_status; /* 0 when no answer */
    char error[ERROR_TEXT];
} attempt;

static bh_err record(bh_tx *tx, void *ctx)
{
    const attempt *a = ctx;
    bh_err err = bh_tx_notice_attempt(tx, a->notice->id, a->state, a->next_attempt_at,
                                      a->state == BH_NOTICE_DELIVERED ? NULL : a->error, a->now);
    if (err)
        return err;
    const bh_audit au = {
        .at = a->now,
        .direction = "out",
        .iface = a->notice->iface,
        .appkey = a->notice->appkey,
        .applyno = a->applyno,
        .code = a->code,
        .http_status = a->http_status,
        .detail = a->state == BH_NOTICE_DELIVERED ? "delivered" : a->error,
    };
    return bh_tx_audit_add(tx, &au);
}

/* The answer's code as an int, or -1 when it is absent or not an integer. */
static int code_number(const char *text)
{
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < -1000000 || v > 1000000)
        return -1;
    return (int)v;
}

/* Delivers one notice: fills a->code, a->http_status and, when it was not
 * delivered, a->error. Returns 1 when the counterpart answered code 1. */
static int deliver(bh_outbox *o, const bh_msg *plain, attempt *a)
{
    const bh_notice *n = a->notice;
    const bh_counterpart *cp = n->appkey ? bh_config_counterpart(o->config, n->appkey) : NULL;
    if (!cp) {
        snprintf(a->error, sizeof a->error,
                 "no counterpart with appkey \"%s\" in the configuration",
                 n->appkey ? n->appkey : "");
        return 0;
    }
    if (!cp->url || !*cp->url) {
        snprintf(a->error, sizeof a->error, "counterpart \"%s\" has no url",
                 cp->name ? cp->name : cp->appkey);
        return 0;
    }
    const bh_iface *iface = bh_iface_find(n->iface);
    if (!iface) {
        snprintf(a->error, sizeof a->error, "unknown interface \"%s\"", n->iface);
        return 0;
    }
    if (!plain) {
        snprintf(a->error, sizeof a->error, "the stored notice is not a JSON object");
        return 0;
    }

    bh_credentials cred = {cp->appkey, cp->appsecret, cp->key};
    bh_msg *resp = NULL;
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_client_call(o->client, cp->url, iface, &cred, plain, a->now, &resp,
                                &a->http_status, NULL, &d);
    bh_wipe(&cred, sizeof cred);
    int delivered = 0;
    if (err) {
        /* The client's own messages (fields "url", "response") say it all;
         * sealing problems name the field they are about. */
        const bh_problem *p = d.count ? &d.items[0] : NULL;
        int plain_msg = p && (!p->field || !*p->field || !strcmp(p->field, "url") ||
                              !strcmp(p->field, "response"));
        if (!p)
            snprintf(a->error, sizeof a->error, "%s", bh_strerror(err));
        else if (plain_msg)
            snprintf(a->error, sizeof a->error, "%s", p->message);
        else
            snprintf(a->error, sizeof a->error, "cannot seal: %s: %s", p->field, p->message);
    } else {
        /* The answer's code may be a string or a number (deployments differ). */
        const bh_field *code = bh_msg_get_nocase(resp, "code");
        const char *text =
            code && (code->type == BH_JSTRING || code->type == BH_JNUMBER) ? code->value : NULL;
        a->code = code_number(text);
        delivered = text && !strcmp(text, "1");
        if (!delivered) {
            const char *message = bh_msg_text(resp, "message");
            if (!message)
                message = bh_msg_text(resp, "msg");
            snprintf(a->error, sizeof a->error, "HTTP %d, code %s: %s", a->http_status,
                     text ? text : "(none)", message ? message : "(no message)");
        }
    }
    bh_msg_free(resp);
    bh_diag_release(&d);
    return delivered;
}

/* One line per attempt. The error text, when there is one, comes last and
 * runs to the end of the line (it has no control characters left). */
static void log_attempt(bh_outbox *o, const attempt *a, int attempts, bh_err recorded)
{
    const bh_notice *n = a->notice;
    char when[BH_TIME_TEXT_LEN + 1], next[BH_TIME_TEXT_LEN + 1];
    bh_time_format(a->now, when);
    bh_time_format(a->next_attempt_at, next);
    char applyno[80], appkey[80];
    const char *raw_applyno = a->applyno ? a->applyno : "-",
               *raw_appkey = n->appkey ? n->appkey : "-";
    bh_utf8_printable(raw_applyno, strlen(raw_applyno), applyno, sizeof applyno);
    bh_utf8_printable(raw_appkey, strlen(raw_appkey), appkey, sizeof appkey);
    const char *note = recorded == BH_OK       ? ""
                       : recorded == BH_EINVAL ? " (not recorded: the notice changed meanwhile)"
                                               : " NOT RECORDED (store error)";
    flockfile(o->log);
    fprintf(o->log, "%s outbox %s appkey=%s applyno=%s ", when, n->iface, appkey, applyno);
    if (a->state == BH_NOTICE_DELIVERED)
        fprintf(o->log, "delivered attempts=%d%s", attempts, note);
    else if (a->state == BH_NOTICE_FLAGGED)
        fprintf(o->log,
                "flagged attempts=%d (undelivered for %lld s: an operator must retry it)%s "
                "error: %s",
                attempts, (long long)(a->now - n->created_at), note, a->error);
    else
        fprintf(o->log, "failed attempts=%d next=\"%s\"%s error: %s", attempts, next, note,
                a->error);
    fputc('\n', o->log);
    fflush(o->log);
    funlockfile(o->log);
}

/* Delivers one notice and records the attempt. Returns the store's error
 * when the attempt could not be recorded (the pass then stops: the same
 * notice would come back as due at once). */
static bh_err attempt_one(bh_outbox *o, const bh_notice *n)
{
    attempt a;
    memset(&a, 0, sizeof a);
    a.notice = n;
    a.now = bh_time_now();
    a.code = -1;

    bh_msg *plain = NULL;
    if (n->plain_json && bh_msg_parse(n->plain_json, strlen(n->plain_json), BH_MSG_MAX_REQUEST, 0,
                                      &plain, NULL) != BH_OK)
        plain = NULL;
    a.applyno = plain ? bh_msg_text(plain, "applyno") : NULL;

    int attempts = n->attempts + 1;
    int64_t flag_after = o->config->flag_after > 0 ? o->config->flag_after : DEFAULT_FLAG_AFTER;
    if (deliver(o, plain, &a)) {
        a.state = BH_NOTICE_DELIVERED;
        a.next_attempt_at = a.now;
    } else {
        int64_t ms = jitter(bh_outbox_backoff_ms(o->config, attempts));
        int64_t secs = (ms + 999) / 1000;
        a.next_attempt_at = a.now + (secs > 0 ? secs : 1);
        a.state = a.now - n->created_at > flag_after ? BH_NOTICE_FLAGGED : BH_NOTICE_PENDING;
        char cleaned[ERROR_TEXT];
        bh_utf8_printable(a.error, strlen(a.error), cleaned, sizeof cleaned);
        memcpy(a.error, cleaned, sizeof a.error);
    }

    bh_err err = bh_store_write(o->store, record, &a);

    if (o->log)
        log_attempt(o, &a, attempts, err);
    bh_msg_free(plain);
    return err;
}

/* ---- passes and the thread ------------------------------------------------- */

typedef struct due {
    int64_t now;
    bh_notice *list;
    size_t count;
} due;

static bh_err read_due(bh_tx *tx, void *ctx)
{
    due *q = ctx;
    return bh_tx_notice_due(tx, q->now, BATCH, &q->list, &q->count);
}

static int stopping(bh_outbox *o)
{
    pthread_mutex_lock(&o->mu);
    int s = o->stopping;
    pthread_mutex_unlock(&o->mu);
    return s;
}

static void log_problem(bh_outbox *o, const char *what, bh_err err)
{
    if (!o->log)
        return;
    char when[BH_TIME_TEXT_LEN + 1];
    bh_time_format(bh_time_now(), when);
    flockfile(o->log);
    fprintf(o->log, "%s outbox %s: %s\n", when, what, bh_strerror(err));
    fflush(o->log);
    funlockfile(o->log);
}

/* Delivers everything due at the pass's start. A notice that fails is due
 * again at the earliest a second later, so the loop ends. */
static size_t pass(bh_outbox *o)
{
    pthread_mutex_lock(&o->pass_mu);
    size_t attempted = 0;
    int64_t now = bh_time_now();
    for (;;) {
        due q = {now, NULL, 0};
        bh_err err = bh_store_read(o->store, read_due, &q);
        if (err) {
            log_problem(o, "cannot read the due notices", err);
            bh_notice_list_free(q.list, q.count);
            break;
        }
        size_t i = 0;
        for (; i < q.count && !stopping(o); i++) {
            attempted++;
            err = attempt_one(o, &q.list[i]);
            /* BH_EINVAL: the row is no longer pending (an operator or another
             * process got there first), so it will not come back as due. Any
             * other failure means the store is in trouble: stop, and let the
             * next pass try again. */
            if (err == BH_EINVAL)
                err = BH_OK;
            if (err)
                break;
        }
        int more = !err && i == q.count && q.count == BATCH;
        bh_notice_list_free(q.list, q.count);
        if (!more)
            break;
    }
    pthread_mutex_unlock(&o->pass_mu);
    return attempted;
}

static void *worker(void *arg)
{
    bh_outbox *o = arg;
    pthread_setname_np(pthread_self(), "bh-outbox");
    while (!stopping(o)) {
        pass(o);
        pthread_mutex_lock(&o->mu);
        if (!o->stopping && !o->kicked) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += IDLE_WAIT_MS / 1000;
            until.tv_nsec += (IDLE_WAIT_MS % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (!o->stopping && !o->kicked)
                if (pthread_cond_timedwait(&o->cv, &o->mu, &until) == ETIMEDOUT)
                    break;
        }
        o->kicked = 0;
        pthread_mutex_unlock(&o->mu);
    }
    return NULL;
}

bh_err bh_outbox_start(bh_store *store, const bh_config *config, FILE *log, bh_outbox **out)
{
    *out = NULL;
    if (!store || !config)
        return BH_EINVAL;
    bh_outbox *o = calloc(1, sizeof *o);
    if (!o)
        return BH_ENOMEM;
    o->store = store;
    o->config = config;
    o->log = log;
    bh_client_options opts = {CONNECT_TIMEOUT_MS, DELIVERY_TIMEOUT_MS, BH_MSG_MAX_REQUEST, NULL};
    o->client = bh_client_new(&opts);
    if (!o->client) {
        free(o);
        return BH_ENOMEM;
    }

    pthread_condattr_t ca;
    int inited = 0;
    if (pthread_mutex_init(&o->pass_mu, NULL) == 0)
        inited++;
    if (inited == 1 && pthread_mutex_init(&o->mu, NULL) == 0)
        inited++;
    if (inited == 2 && pthread_condattr_init(&ca) == 0) {
        /* A monotonic clock: a wall-clock jump must not stall the worker. */
        if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
            pthread_cond_init(&o->cv, &ca) == 0)
            inited++;
        pthread_condattr_destroy(&ca);
    }
    if (inited == 3) {
        /* Signals (SIGTERM, SIGINT) belong to the main thread: the worker
         * inherits a mask that blocks them all. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&o->thread, NULL, worker, o) == 0)
            inited++;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (inited < 4) {
        if (inited >= 3)
            pthread_cond_destroy(&o->cv);
        if (inited >= 2)
            pthread_mutex_destroy(&o->mu);
        if (inited >= 1)
            pthread_mutex_destroy(&o->pass_mu);
        bh_client_free(o->client);
        free(o);
        return BH_EIO;
    }
    *out = o;
    return BH_OK;
}

void bh_outbox_kick(bh_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    o->kicked = 1;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

size_t bh_outbox_run_once(bh_outbox *o)
{
    return o ? pass(o) : 0;
}

void bh_outbox_stop(bh_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    o->stopping = 1;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->thread, NULL);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    pthread_mutex_destroy(&o->pass_mu);
    bh_client_free(o->client);
    free(o);
}
