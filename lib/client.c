/* The signed HTTP client (see include/baohan/client.h).
 *
 * libcurl version assumption: 7.84 or later (Debian 12 ships 7.88). From
 * 7.84 on, curl_global_init() and curl_global_cleanup() are thread-safe and
 * reference-counted, which is what lets every bh_client call them itself in
 * bh_client_new()/bh_client_free() without a process-wide init step: the
 * library keeps no global state of its own. CURLOPT_PROTOCOLS_STR needs 7.85;
 * older versions fall back to the (later deprecated) CURLOPT_PROTOCOLS. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "baohan/baohan.h"
#include "baohan/client.h"
#include "baohan/codec.h"
#include "baohan/msg.h"
#include "baohan/seal.h"
#include "banned.h"

#if LIBCURL_VERSION_NUM < 0x075400
#error "libbaohan needs libcurl 7.84 or later (thread-safe, counted curl_global_init)"
#endif

#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_RESPONSE BH_BUF_MAX_DEFAULT
/* How much of an unexpected answer a diagnostic quotes. */
#define EXCERPT_BYTES 200

struct bh_client {
    CURL *curl;
    struct curl_slist *post_headers;
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response;
    char *ca_file;
    char errbuf[CURL_ERROR_SIZE];
};

/* What the write callback needs: where the body goes and how much of it may
 * come. `start` is the length `out` had before this transfer, so the cap
 * counts this answer only. */
typedef struct sink {
    bh_buf *out;
    size_t start;
    size_t max;
    bh_err err; /* BH_ETOOBIG or BH_ENOMEM when the callback aborted */
} sink;

static size_t on_write(char *data, size_t size, size_t nmemb, void *ctx)
{
    sink *s = ctx;
    size_t n = size * nmemb; /* libcurl guarantees size == 1 */
    if (n > s->max - (s->out->len - s->start)) {
        s->err = BH_ETOOBIG;
        return 0; /* anything but n aborts the transfer (CURLE_WRITE_ERROR) */
    }
    bh_err err = bh_buf_add(s->out, data, n);
    if (err) {
        s->err = err;
        return 0;
    }
    return n;
}

bh_client *bh_client_new(const bh_client_options *opts)
{
    bh_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(c);
        return NULL;
    }
    c->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                                                 : DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->max_response = opts && opts->max_response > 0 ? opts->max_response : DEFAULT_MAX_RESPONSE;
    if (opts && opts->ca_file && !(c->ca_file = strdup(opts->ca_file)))
        goto fail;

    c->curl = curl_easy_init();
    if (!c->curl)
        goto fail;
    struct curl_slist *h = NULL, *next;
    /* "Expect:" stops libcurl from waiting for 100-continue on large bodies;
     * the protocol's servers answer in one go. */
    static const char *const headers[] = {"Content-Type: application/json; charset=utf-8",
                                          "Accept: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
        next = curl_slist_append(h, headers[i]);
        if (!next) {
            curl_slist_free_all(h);
            goto fail;
        }
        h = next;
    }
    c->post_headers = h;
    return c;

fail:
    bh_client_free(c);
    return NULL;
}

void bh_client_free(bh_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->post_headers);
    free(c->ca_file);
    free(c);
    curl_global_cleanup();
}

/* The scheme, host and port of `url` (no path, no query: a download URL's
 * path is its secret), for messages. Writes at most `size` bytes. */
static void url_origin(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://");
    size_t n = p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : strcspn(url, "/?#");
    /* Credentials in the authority ("user:pass@host") are never shown. */
    const char *at = memchr(url, '@', n);
    if (p && at) {
        size_t scheme = (size_t)(p + 3 - url);
        snprintf(out, size, "%.*s%.*s", (int)scheme, url, (int)(n - (size_t)(at + 1 - url)),
                 at + 1);
        return;
    }
    snprintf(out, size, "%.*s", (int)n, url);
}

/* Applies the options every transfer shares. */
static CURLcode setup(bh_client *c, const char *url, sink *s)
{
    CURL *h = c->curl;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM for DNS timeouts: we run in threads */
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* A protocol endpoint that redirects is misconfigured: report the 3xx
     * instead of following it somewhere the operator did not configure. */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file)
        SET(CURLOPT_CAINFO, c->ca_file);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, "baohan/" BAOHAN_VERSION);
    /* Refuses early when the server announces a length over the cap; the
     * write callback enforces it when it does not. */
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, s);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
#undef SET
    c->errbuf[0] = '\0';
    return rc;
}

/* Runs the prepared transfer and turns its outcome into a bh_err. On any
 * error `out` is restored to what it held before. */
static bh_err perform(bh_client *c, const char *method, const char *url, sink *s, int *http_status,
                      bh_diag *d)
{
    CURLcode rc = curl_easy_perform(c->curl);
    long status = 0;
    if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    if (http_status)
        *http_status = (int)status;
    if (rc == CURLE_OK)
        return BH_OK;

    /* Drop whatever part of the body arrived. */
    s->out->len = s->start;
    if (s->out->data)
        s->out->data[s->start] = '\0';

    char origin[256];
    url_origin(url, origin, sizeof origin);
    if (s->err == BH_ENOMEM)
        return bh_diag_add(d, BH_ENOMEM, "response", "out of memory reading the answer of %s",
                           origin);
    if (s->err == BH_ETOOBIG || rc == CURLE_FILESIZE_EXCEEDED)
        return bh_diag_add(d, BH_ETOOBIG, "response",
                           "the answer of %s (HTTP %ld) is over the limit of %zu bytes", origin,
                           status, s->max);
    const char *reason = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return bh_diag_add(d, BH_EIO, "url", "%s %s: no complete answer within %ld ms (%s)", method,
                           origin, c->timeout_ms, reason);
    return bh_diag_add(d, BH_EIO, "url", "%s %s: no answer (%s)", method, origin, reason);
}

bh_err bh_client_post(bh_client *c, const char *url, const char *body, size_t len, int *http_status,
                      bh_buf *response, bh_diag *d)
{
    if (http_status)
        *http_status = 0;
    if (!c || !url || (!body && len) || !response)
        return bh_diag_add(d, BH_EINVAL, "url", "bh_client_post: missing argument");
    sink s = {response, response->len, c->max_response, BH_OK};
    CURLcode rc = setup(c, url, &s);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->post_headers);
    if (rc != CURLE_OK)
        return bh_diag_add(d, BH_EIO, "url", "cannot prepare the request: %s",
                           curl_easy_strerror(rc));
    return perform(c, "POST", url, &s, http_status, d);
}

bh_err bh_client_request(bh_client *c, const char *method, const char *url,
                         const char *const *headers, const char *body, size_t len, int *http_status,
                         bh_buf *out, bh_diag *d)
{
    if (http_status)
        *http_status = 0;
    if (!c || !method || !url || (!body && len) || !out)
        return bh_diag_add(d, BH_EINVAL, "url", "bh_client_request: missing argument");
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *more = curl_slist_append(list, headers[i]);
        if (!more) {
            curl_slist_free_all(list);
            return bh_diag_add(d, BH_ENOMEM, "url", "out of memory");
        }
        list = more;
    }
    sink s = {out, out->len, c->max_response, BH_OK};
    CURLcode rc = setup(c, url, &s);
    int get = strcmp(method, "GET") == 0;
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->curl, get ? CURLOPT_HTTPGET : CURLOPT_POST, 1L);
    if (rc == CURLE_OK && !get) {
        rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    /* POST is the default once a body is set; anything else is named. */
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST,
                              get || strcmp(method, "POST") == 0 ? NULL : method);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, list);
    bh_err err = rc == CURLE_OK ? perform(c, method, url, &s, http_status, d)
                                : bh_diag_add(d, BH_EIO, "url", "cannot prepare the request: %s",
                                              curl_easy_strerror(rc));
    /* The handle must not keep pointing at the list we free. */
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    curl_slist_free_all(list);
    return err;
}

bh_err bh_client_get(bh_client *c, const char *url, int *http_status, bh_buf *out, bh_diag *d)
{
    return bh_client_request(c, "GET", url, NULL, NULL, 0, http_status, out, d);
}

/* base_url + "/" + name, with trailing slashes of base_url dropped. */
static bh_err endpoint(const char *base_url, const char *name, bh_buf *url)
{
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    bh_err err = bh_buf_add(url, base_url, n);
    if (!err)
        err = bh_buf_addch(url, '/');
    if (!err)
        err = bh_buf_addstr(url, name);
    return err;
}

bh_err bh_client_call(bh_client *c, const char *base_url, const bh_iface *iface,
                      const bh_credentials *cred, const bh_msg *plain, int64_t now,
                      bh_msg **response, int *http_status, bh_buf *wire_out, bh_diag *d)
{
    *response = NULL;
    if (http_status)
        *http_status = 0;
    if (!c || !base_url || !iface || !cred || !plain)
        return bh_diag_add(d, BH_EINVAL, "", "bh_client_call: missing argument");

    bh_msg *wire = NULL;
    bh_buf body, url, answer;
    bh_buf_init(&body, BH_BUF_MAX_DEFAULT);
    bh_buf_init(&url, 8192);
    bh_buf_init(&answer, c->max_response);
    int status = 0;

    bh_err err = bh_seal(iface, cred, plain, now, &wire, d);
    if (err)
        goto out;
    err = bh_msg_to_json(wire, 0, &body);
    if (!err && wire_out)
        err = bh_buf_add(wire_out, body.data, body.len);
    if (!err)
        err = endpoint(base_url, iface->name, &url);
    if (err) {
        bh_diag_add(d, err, "", "cannot build the request: %s", bh_strerror(err));
        goto out;
    }

    err = bh_client_post(c, url.data, body.data, body.len, &status, &answer, d);
    if (err)
        goto out;

    bh_diag parse = BH_DIAG_INIT;
    err = bh_msg_parse(answer.data ? answer.data : "", answer.len, c->max_response,
                       BH_PARSE_ALLOW_NESTED, response, &parse);
    if (err) {
        char quoted[EXCERPT_BYTES + 4]; /* the excerpt, and room for "…" */
        bh_utf8_printable(answer.data ? answer.data : "", answer.len, quoted, sizeof quoted);
        const char *why = parse.count ? parse.items[0].message : bh_strerror(err);
        if (status >= 300 && status < 400) {
            char *target = NULL;
            char where[256] = "elsewhere";
            if (curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &target) == CURLE_OK && target)
                url_origin(target, where, sizeof where);
            bh_diag_add(d, BH_EJSON, "response",
                        "HTTP %d: a redirect to %s, not followed (the configured URL is wrong)",
                        status, where);
        } else if (answer.len == 0) {
            bh_diag_add(d, BH_EJSON, "response", "HTTP %d with an empty body, not a JSON object",
                        status);
        } else {
            bh_diag_add(d, BH_EJSON, "response",
                        "HTTP %d: the answer is not a JSON object (%s): \"%s\"", status, why,
                        quoted);
        }
        bh_diag_release(&parse);
        err = BH_EJSON;
    }

out:
    if (http_status)
        *http_status = status;
    bh_msg_free(wire);
    bh_buf_release(&body);
    bh_buf_release(&url);
    bh_buf_release(&answer);
    return err;
}
