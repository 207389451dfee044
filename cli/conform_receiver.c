/* The platform suite's receiver (conform_receiver.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conform_receiver.h"

/* The bytes served as file `name` of `applyno`: made from both, so that no
 * two are alike and nothing needs keeping. */
static bh_err file_bytes(const char *applyno, const char *name, bh_buf *out)
{
    if (strstr(name, ".xml"))
        return bh_buf_addf(out,
                           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<guarantee><!-- conform %s --></guarantee>\n",
                           applyno);
    return bh_buf_addf(out, "%%PDF-1.4\n%% conform %s %s\n%%%%EOF\n", applyno, name);
}

/* URL of file `name` of `applyno` on the receiver. */
static bh_err file_url(const pstate *s, const char *applyno, const char *name, bh_buf *out)
{
    bh_buf_reset(out);
    bh_err err = bh_buf_addf(out, "%s/files/", s->listen_url);
    if (!err && !conform_percent_encode(applyno, strlen(applyno), out))
        err = BH_ENOMEM;
    return err ? err : bh_buf_addf(out, "/%s", name);
}

static bh_err md5_of(const char *applyno, const char *name, char md5[BH_MD5_HEX_LEN + 1])
{
    bh_buf b;
    bh_buf_init(&b, 1 << 16);
    bh_err err = file_bytes(applyno, name, &b);
    err = err ? err : bh_md5_hex(b.data, b.len, md5);
    bh_buf_release(&b);
    return err;
}

/* getbaohaninfo's answer for `applyno`: code 1 and every field of §7.3. */
static bh_err info_answer(const pstate *s, const char *applyno, bh_buf *out)
{
    static const char *const fixed[][2] = {
        {"payername", "福建省漳州市恒泰建设工程有限公司"},
        {"payeraccount", "6222020200112233445"},
        {"rate", "0.0015"},
        {"cost", "300.00"},
        {"paytype", "银行转账"},
        {"tbysq", "自投标截止之日起90日"},
        {"servicebegintime", "2026-12-20 09:30:00"},
        {"serviceendtime", "2027-03-20 09:30:00"},
        {"biddercontact", "王小明"},
        {"biddercontacttel", "13906951234"},
        {"bidderaddress", "福建省漳州市芗城区胜利西路1号"},
        {"bidderemail", "wang@example.com"},
        {"bidderpersonname", "陈大海"},
        {"bidderpersoncard", "350602198001011230"},
        {"bidderpersontel", "13800000000"},
    };
    bh_msg *data = bh_msg_new();
    bh_buf url, bytes, b64;
    bh_buf_init(&url, 4096);
    bh_buf_init(&bytes, 1 << 16);
    bh_buf_init(&b64, 1 << 17);
    char md5[BH_MD5_HEX_LEN + 1];
    bh_err err = data ? BH_OK : BH_ENOMEM;
    for (size_t i = 0; !err && i < sizeof fixed / sizeof *fixed; i++)
        err = bh_msg_set_str(data, fixed[i][0], fixed[i][1]);
    for (size_t i = 0; !err && i < CONFORM_FILES; i++) {
        const char *const *f = conform_files[i];
        err = file_url(s, applyno, f[2], &url);
        err = err ? err : bh_msg_set_str(data, f[0], url.data);
        /* The one application the suite spoils: an MD5 of other bytes. */
        int spoil = f[1] && strcmp(f[1], "ordermd5") == 0 && s->bad_md5[0] &&
                    strcmp(applyno, s->bad_md5) == 0;
        if (!err && f[1])
            err = md5_of(applyno, spoil ? "not-the-order.pdf" : f[2], md5);
        if (!err && f[1])
            err = bh_msg_set_str(data, f[1], md5);
    }
    err = err ? err : file_bytes(applyno, conform_files[0][2], &bytes);
    err = err ? err : bh_base64_encode(bytes.data, bytes.len, &b64);
    err = err ? err : bh_msg_set_str(data, "baohanfile", b64.data);
    bh_buf_reset(out);
    err = err ? err : bh_buf_addstr(out, "{\"code\":1,\"message\":\"成功\",\"data\":");
    err = err ? err : bh_msg_to_json(data, 0, out);
    err = err ? err : bh_buf_addch(out, '}');
    bh_msg_free(data);
    bh_buf_release(&url);
    bh_buf_release(&bytes);
    bh_buf_release(&b64);
    return err;
}

/* GET /files/<applyno>/<name>: the file's bytes. */
static void serve_file(const conform_http_req *req, conform_http_resp *resp, char applyno[80])
{
    const char *rest = req->path + strlen("/files/");
    const char *slash = strrchr(rest, '/');
    applyno[0] = '\0';
    int known = 0;
    for (size_t i = 0; slash && i < CONFORM_FILES; i++)
        known |= strcmp(slash + 1, conform_files[i][2]) == 0;
    if (!known || (size_t)(slash - rest) >= 80) {
        resp->status = 404;
        conform_http_reply(&resp->body, 0, "no such file");
        return;
    }
    snprintf(applyno, 80, "%.*s", (int)(slash - rest), rest);
    resp->content_type = strstr(slash, ".xml") ? "application/xml" : "application/pdf";
    bh_buf_reset(&resp->body);
    if (file_bytes(applyno, slash + 1, &resp->body) != BH_OK) {
        resp->status = 500;
        resp->content_type = NULL;
        conform_http_reply(&resp->body, 0, "out of memory");
    }
}

void conform_rx_handle(void *ctx, const conform_http_req *req, conform_http_resp *resp)
{
    int *status = &resp->status;
    bh_buf *out = &resp->body;
    pstate *s = ctx;
    const char *slash = strrchr(req->path, '/');
    const char *iface = slash ? slash + 1 : req->path;
    char file_applyno[80] = "";
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    bh_msg *m = NULL;
    int get = strcmp(req->method, "GET") == 0;
    if (get && strncmp(req->path, "/files/", 7) == 0) {
        serve_file(req, resp, file_applyno);
        iface = "GET";
    } else if (strcmp(req->method, "POST") != 0) {
        *status = 405;
        conform_http_reply(out, 0, "the conformance suite's receiver takes POST, and GET of files");
        bh_buf_release(&json);
        return;
    }
    if (!get && (bh_body_json(req->content_type, req->body, req->body_len, &json, NULL) != BH_OK ||
                 bh_msg_parse(json.data ? json.data : "", json.len, BH_MSG_MAX_REQUEST, 0, &m,
                              NULL) != BH_OK))
        m = NULL;
    const char *applyno = get ? file_applyno : m ? bh_msg_text(m, "applyno") : NULL;

    pthread_mutex_lock(&s->mu);
    if (strcmp(iface, "baohanapply") == 0 && applyno && s->refuse[0] &&
        strcmp(applyno, s->refuse) == 0) {
        conform_http_reply(out, 0,
                           "一致性检查：机构有意拒绝此申请 (conform refuses this one "
                           "application on purpose)");
    } else if (strcmp(iface, "baohanapply") == 0) {
        bh_buf url;
        bh_buf_init(&url, 4096);
        int ok =
            bh_buf_addf(&url, "%s/pay/", s->listen_url) == BH_OK &&
            conform_percent_encode(applyno ? applyno : "", applyno ? strlen(applyno) : 0, &url) &&
            bh_buf_addstr(out, "{\"code\":1,\"message\":\"成功\",\"Payurl\":") == BH_OK &&
            bh_json_quote(url.data, url.len, out) == BH_OK && bh_buf_addch(out, '}') == BH_OK;
        if (!ok)
            conform_http_reply(out, 0, "out of memory");
        bh_buf_release(&url);
    } else if (get) {
        /* served above */
    } else if (strcmp(iface, "getbaohaninfo") == 0) {
        if (!applyno || info_answer(s, applyno, out) != BH_OK)
            conform_http_reply(out, 0, applyno ? "out of memory" : "applyno: required");
    } else if (strcmp(iface, "quitapply") == 0 || strcmp(iface, "giveupnotice") == 0 ||
               strcmp(iface, "claimsnotice") == 0) {
        conform_http_reply(out, 1, "成功");
    } else {
        *status = 404;
        conform_http_reply(out, 0, "the conformance suite does not serve this interface");
    }
    if (s->nrx == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        rx *r = realloc(s->rx, cap * sizeof *r);
        if (r) {
            s->rx = r;
            s->cap = cap;
        }
    }
    char *copy = malloc(req->body_len + 1);
    if (s->nrx < s->cap && copy) {
        rx *r = &s->rx[s->nrx++];
        memset(r, 0, sizeof *r);
        snprintf(r->iface, sizeof r->iface, "%s", iface);
        snprintf(r->content_type, sizeof r->content_type, "%s", req->content_type);
        snprintf(r->path, sizeof r->path, "%s", req->path);
        memcpy(copy, req->body, req->body_len);
        copy[req->body_len] = '\0';
        r->body = copy;
        r->len = req->body_len;
        copy = NULL;
        snprintf(r->applyno, sizeof r->applyno, "%s", applyno ? applyno : "");
        snprintf(r->answer, sizeof r->answer, "%.*s", get ? 0 : (int)out->len,
                 out->data ? out->data : "");
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    free(copy);
    bh_msg_free(m);
    bh_buf_release(&json);
}

/* Whether an earlier request of the same interface carried the applyno of
 * request `i` (a platform's retry is not a new application). */
static int seen_before(const pstate *s, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(s->rx[j].iface, s->rx[i].iface) == 0 &&
            strcmp(s->rx[j].applyno, s->rx[i].applyno) == 0)
            return 1;
    return 0;
}

int conform_rx_take(pstate *s, const char *iface, const char *applyno, int64_t until, rx *out)
{
    struct timespec ts = {(time_t)until, 0};
    int found = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        for (size_t i = 0; !found && i < s->nrx; i++) {
            rx *r = &s->rx[i];
            if (r->taken || strcmp(r->iface, iface) != 0 ||
                (applyno && strcmp(r->applyno, applyno) != 0) || (!applyno && seen_before(s, i)))
                continue;
            r->taken = 1;
            *out = *r;
            out->body = malloc(r->len + 1);
            if (out->body)
                memcpy(out->body, r->body, r->len + 1);
            found = out->body != NULL;
        }
        if (found || pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

int conform_rx_downloads(pstate *s, const char *applyno, int64_t until)
{
    struct timespec ts = {(time_t)until, 0};
    int n = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        n = 0;
        for (size_t f = 0; f < CONFORM_FILES; f++) {
            int seen = 0;
            for (size_t i = 0; !seen && i < s->nrx; i++) {
                const char *p = strrchr(s->rx[i].path, '/');
                seen = strcmp(s->rx[i].iface, "GET") == 0 &&
                       strcmp(s->rx[i].applyno, applyno) == 0 && p &&
                       strcmp(p + 1, conform_files[f][2]) == 0;
            }
            n += seen;
        }
        if (n == CONFORM_FILES || pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

void conform_rx_release(pstate *s)
{
    for (size_t i = 0; i < s->nrx; i++)
        free(s->rx[i].body);
    free(s->rx);
    s->rx = NULL;
    s->nrx = s->cap = 0;
}
