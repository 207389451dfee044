/* The conformance suite's small HTTP server (conform_http.h). */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform_http.h"

struct conform_http {
    struct MHD_Daemon *mhd;
    size_t max_body;
    conform_http_fn fn;
    void *ctx;
};

/* One request in flight: its body so far. */
typedef struct pending {
    bh_buf body;
    int too_big, oom;
} pending;

void conform_http_reply(bh_buf *out, int code, const char *message)
{
    bh_buf_reset(out);
    if (bh_buf_addf(out, "{\"code\":%d,\"message\":", code) != BH_OK ||
        bh_json_quote(message, strlen(message), out) != BH_OK || bh_buf_addch(out, '}') != BH_OK)
        bh_buf_reset(out); /* an empty body beats a truncated one */
}

#define JSON_TYPE "application/json; charset=utf-8"

static enum MHD_Result respond(struct MHD_Connection *conn, const conform_http_resp *resp)
{
    const bh_buf *body = &resp->body;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        body->len, body->data ? body->data : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : JSON_TYPE);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    conform_http *h = cls;
    pending *p = *req_cls;
    (void)version;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        bh_buf_init(&p->body, h->max_body);
        *req_cls = p;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!p->too_big && !p->oom) {
            bh_err e = bh_buf_add(&p->body, upload, *upload_size);
            p->too_big = e == BH_ETOOBIG;
            p->oom = e != BH_OK && e != BH_ETOOBIG;
            if (e)
                bh_buf_release(&p->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    conform_http_resp resp = {200, JSON_TYPE, {0}};
    bh_buf_init(&resp.body, BH_BUF_MAX_DEFAULT);
    if (p->too_big || p->oom) {
        resp.status = p->too_big ? 413 : 500;
        conform_http_reply(&resp.body, 0, p->too_big ? "request body too large" : "out of memory");
    } else {
        const char *ct =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *auth =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        conform_http_req req = {
            method,     url, ct ? ct : "", auth ? auth : "", p->body.data ? p->body.data : "",
            p->body.len};
        h->fn(h->ctx, &req, &resp);
    }
    enum MHD_Result ret = respond(conn, &resp);
    bh_buf_release(&resp.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    pending *p = *req_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (p) {
        bh_buf_release(&p->body);
        free(p);
        *req_cls = NULL;
    }
}

/* Parses "IPV4:PORT" or "localhost:PORT". */
static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    char host[64];
    if (!colon || (size_t)(colon - listen) >= sizeof host || !colon[1])
        return 0;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return 0;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

bh_err conform_http_start(const char *listen, size_t max_body, conform_http_fn fn, void *ctx,
                          conform_http **out, unsigned *port, char *why, size_t why_len)
{
    *out = NULL;
    struct sockaddr_in sa;
    if (!parse_listen(listen, &sa)) {
        snprintf(why, why_len, "the listen address must be IPV4:PORT or localhost:PORT");
        return BH_EINVAL;
    }
    conform_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(why, why_len, "out of memory");
        return BH_ENOMEM;
    }
    h->max_body = max_body;
    h->fn = fn;
    h->ctx = ctx;
    h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                  MHD_USE_AUTO,
                              0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                              MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(why, why_len, "cannot listen on %s (in use, or not an address of this machine)",
                 listen);
        free(h);
        return BH_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    *port = di ? di->port : ntohs(sa.sin_port);
    *out = h;
    return BH_OK;
}

void conform_http_stop(conform_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    free(h);
}
