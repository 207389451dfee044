/* A deliberately wrong institution: it verifies signatures with the keys
 * sorted without regard to case (PROTOCOL.md §4 step 3 says by byte value),
 * and otherwise passes each request unchanged to a real institution
 * (--upstream, our baohand). So it is wrong exactly for requests carrying a
 * key whose case-insensitive order differs from its byte order, and
 * `baohan conform --role institution` must report exactly those checks.
 *
 *   double_inst_casefold --listen 127.0.0.1:0 --upstream URL --appsecret S */
#include <pthread.h>
#include <strings.h>

#include "double.h"

typedef struct proxy {
    const char *upstream, *appsecret;
} proxy;

static int by_key_nocase(const void *a, const void *b)
{
    const bh_field *x = *(const bh_field *const *)a, *y = *(const bh_field *const *)b;
    return strcasecmp(x->key, y->key);
}

/* The wrong string to hash: the right fields, sorted ignoring case. */
static bh_err casefold_sign(const bh_msg *m, const char *secret, char out[BH_SM3_HEX_LEN + 1])
{
    size_t n = bh_msg_count(m), k = 0;
    const bh_field **fs = calloc(n ? n : 1, sizeof *fs);
    bh_buf s;
    bh_buf_init(&s, BH_MSG_MAX_REQUEST * 2);
    bh_err err = fs ? BH_OK : BH_ENOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        const bh_field *f = bh_msg_at(m, i);
        if (strcmp(f->key, "sign") != 0 && f->type != BH_JNULL && f->value_len > 0)
            fs[k++] = f;
    }
    if (!err)
        qsort(fs, k, sizeof *fs, by_key_nocase);
    for (size_t i = 0; !err && i < k; i++)
        err = bh_buf_addf(&s, "%s%s=%s", i ? "&" : "", fs[i]->key, fs[i]->value);
    err = err ? err : bh_buf_addf(&s, "&appsecret=%s", secret);
    err = err ? err : bh_sm3_hex(s.data, s.len, out);
    bh_buf_wipe(&s);
    bh_buf_release(&s);
    free(fs);
    return err;
}

static void forward(const proxy *p, const conform_http_req *req, int *status, bh_buf *out)
{
    char url[1200], ct[300];
    snprintf(url, sizeof url, "%s%s", p->upstream, req->path);
    snprintf(ct, sizeof ct, "Content-Type: %s", req->content_type);
    const char *headers[] = {ct, NULL};
    bh_client *c = bh_client_new(NULL);
    bh_diag d = BH_DIAG_INIT;
    if (!c || bh_client_request(c, req->method, url, headers, req->body, req->body_len, status, out,
                                &d) != BH_OK) {
        *status = 502;
        conform_http_reply(out, 0, "the upstream institution did not answer");
    }
    bh_diag_release(&d);
    bh_client_free(c);
}

static void handle(void *ctx, const conform_http_req *req, conform_http_resp *resp)
{
    int *status = &resp->status;
    bh_buf *out = &resp->body;
    const proxy *p = ctx;
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    bh_msg *m = NULL;
    char want[BH_SM3_HEX_LEN + 1];
    if (bh_body_json(req->content_type, req->body, req->body_len, &json, NULL) != BH_OK ||
        bh_msg_parse(json.data ? json.data : "", json.len, BH_MSG_MAX_REQUEST, 0, &m, NULL)) {
        conform_http_reply(out, 0, "malformed request: not one flat JSON object");
    } else {
        const char *sign = bh_msg_text(m, "sign");
        if (!sign || !*sign)
            conform_http_reply(out, 0, "sign: required");
        else if (casefold_sign(m, p->appsecret, want) != BH_OK)
            conform_http_reply(out, 0, "out of memory");
        else if (strlen(sign) != BH_SM3_HEX_LEN || strcasecmp(sign, want) != 0)
            conform_http_reply(out, 0, "sign: signature mismatch");
        else
            forward(p, req, status, out);
    }
    bh_msg_free(m);
    bh_buf_release(&json);
}

int main(int argc, char **argv)
{
    proxy p = {double_arg(argc, argv, "upstream"), double_arg(argc, argv, "appsecret")};
    const char *listen = double_arg(argc, argv, "listen");
    if (!p.upstream || !p.appsecret || !listen) {
        fprintf(stderr, "usage: double_inst_casefold --listen ADDR --upstream URL --appsecret S\n");
        return 2;
    }
    return double_serve("double_inst_casefold", listen, handle, &p);
}
