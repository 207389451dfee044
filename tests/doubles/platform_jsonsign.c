/* A deliberately wrong platform: right in everything `baohan conform --role
 * platform` checks, except that what it sends (baohanapply, quitapply) is
 * signed over the JSON text of the request instead of the sorted key=value
 * string of PROTOCOL.md §4. The suite must report exactly the two
 * "… sent: signature verifies" checks.
 *
 * It holds applications in memory and serves, on one port, baohannotice and
 * quitnotice (authenticated, validated, idempotent, state-checked like the
 * real platform role) and the admin API of docs' platform contract:
 * POST /admin/platform/apply, GET /admin/platform/applications/ID and
 * POST /admin/platform/applications/ID/quitapply.
 *
 *   double_platform_jsonsign --listen 127.0.0.1:0 --institution-url URL
 *       --name NAME --appkey K --appsecret S --key SM4KEY --token T */
#include <pthread.h>

#include "double.h"

typedef struct app {
    long long id;
    char applyno[80], state[24], payurl[1024], baohanno[128], applystatus[4];
} app;

typedef struct platform {
    const char *url, *name, *token;
    bh_credentials cred;
    pthread_mutex_t mu;
    app apps[512];
    size_t napps;
} platform;

static app *find_app(platform *p, const char *applyno)
{
    for (size_t i = 0; applyno && i < p->napps; i++)
        if (strcmp(p->apps[i].applyno, applyno) == 0)
            return &p->apps[i];
    return NULL;
}

static int app_json(const app *a, bh_buf *out)
{
    return bh_buf_addf(out, "{\"id\":%lld,\"applyno\":", a->id) == BH_OK &&
           bh_json_quote(a->applyno, strlen(a->applyno), out) == BH_OK &&
           bh_buf_addstr(out, ",\"state\":") == BH_OK &&
           bh_json_quote(a->state, strlen(a->state), out) == BH_OK &&
           bh_buf_addstr(out, ",\"payurl\":") == BH_OK &&
           bh_json_quote(a->payurl, strlen(a->payurl), out) == BH_OK &&
           bh_buf_addstr(out, ",\"baohanno\":") == BH_OK &&
           bh_json_quote(a->baohanno, strlen(a->baohanno), out) == BH_OK &&
           bh_buf_addch(out, '}') == BH_OK;
}

static void admin_error(int *status, bh_buf *out, int http, const char *error)
{
    *status = http;
    bh_buf_reset(out);
    if (bh_buf_addstr(out, "{\"ok\":false,\"error\":") != BH_OK ||
        bh_json_quote(error, strlen(error), out) != BH_OK || bh_buf_addch(out, '}') != BH_OK)
        bh_buf_reset(out);
}

/* THE BUG: seals `plain` correctly, then replaces the signature with SM3 of
 * the request's JSON text (without sign) and "&appsecret=…". Sends it to the
 * institution; 1 with the answer's code and Payurl, 0 when no answer came. */
static int send_wrong(platform *p, const char *iface, const bh_msg *plain, int *code,
                      char payurl[1024])
{
    bh_msg *wire = NULL, *answer = NULL;
    bh_buf text, resp;
    bh_buf_init(&text, BH_MSG_MAX_REQUEST);
    bh_buf_init(&resp, BH_BUF_MAX_DEFAULT);
    char url[1200], sign[BH_SM3_HEX_LEN + 1];
    int ok = 0, status = 0;
    *code = -1;
    bh_client *c = bh_client_new(NULL);
    if (c && bh_seal(bh_iface_find(iface), &p->cred, plain, bh_time_now(), &wire, NULL) == BH_OK) {
        bh_msg_remove(wire, "sign");
        if (bh_msg_to_json(wire, 0, &text) == BH_OK &&
            bh_buf_addf(&text, "&appsecret=%s", p->cred.appsecret) == BH_OK &&
            bh_sm3_hex(text.data, text.len, sign) == BH_OK &&
            bh_msg_set_str(wire, "sign", sign) == BH_OK) {
            bh_buf_reset(&text);
            snprintf(url, sizeof url, "%s/%s", p->url, iface);
            ok = bh_msg_to_json(wire, 0, &text) == BH_OK &&
                 bh_client_post(c, url, text.data, text.len, &status, &resp, NULL) == BH_OK;
        }
    }
    if (ok && bh_msg_parse(resp.data ? resp.data : "", resp.len, resp.len, BH_PARSE_ALLOW_NESTED,
                           &answer, NULL) == BH_OK) {
        const char *cd = bh_msg_text(answer, "code");
        const bh_field *pu = bh_msg_get_nocase(answer, "Payurl");
        *code = cd && strcmp(cd, "1") == 0 ? 1 : 0;
        if (payurl)
            snprintf(payurl, 1024, "%s", pu && pu->type == BH_JSTRING ? pu->value : "");
    }
    bh_msg_free(answer);
    bh_msg_free(wire);
    bh_buf_wipe(&text);
    bh_buf_release(&text);
    bh_buf_release(&resp);
    bh_client_free(c);
    return ok;
}

static void admin_answer(platform *p, const app *a, int code, int *status, bh_buf *out)
{
    (void)p;
    *status = 200;
    bh_buf_reset(out);
    if (bh_buf_addstr(out, "{\"ok\":true,\"application\":") != BH_OK || !app_json(a, out) ||
        bh_buf_addf(out, ",\"code\":%d,\"msg\":\"\"}", code) != BH_OK)
        admin_error(status, out, 500, "out of memory");
}

static void admin_apply(platform *p, const bh_msg *body, int *status, bh_buf *out)
{
    const char *inst = bh_msg_text(body, "institution");
    const bh_field *f = bh_msg_get(body, "fields");
    bh_msg *fields = NULL;
    bh_diag d = BH_DIAG_INIT;
    if (!inst || strcmp(inst, p->name) != 0) {
        admin_error(status, out, 400, "institution: not configured");
    } else if (!f || f->type != BH_JOBJECT ||
               bh_msg_parse(f->value, f->value_len, f->value_len, 0, &fields, NULL) != BH_OK) {
        admin_error(status, out, 400, "fields: a flat JSON object is required");
    } else if (bh_validate(bh_iface_find("baohanapply"), BH_PART_PLAIN_REQUEST, fields, &d)) {
        admin_error(status, out, 400, d.count ? d.items[0].message : "fields: invalid");
    } else {
        const char *applyno = bh_msg_text(fields, "applyno");
        pthread_mutex_lock(&p->mu);
        app *a = find_app(p, applyno) || p->napps == 512 ? NULL : &p->apps[p->napps++];
        if (a) {
            memset(a, 0, sizeof *a);
            a->id = (long long)p->napps;
            snprintf(a->applyno, sizeof a->applyno, "%s", applyno);
            snprintf(a->state, sizeof a->state, "sending");
        }
        pthread_mutex_unlock(&p->mu);
        int code = -1;
        char payurl[1024] = "";
        if (!a) {
            admin_error(status, out, 409, "applyno: already applied");
        } else if (!send_wrong(p, "baohanapply", fields, &code, payurl) || code < 0) {
            admin_error(status, out, 502, "the institution did not answer");
        } else {
            pthread_mutex_lock(&p->mu);
            snprintf(a->state, sizeof a->state, "%s", code == 1 ? "sent" : "refused");
            snprintf(a->payurl, sizeof a->payurl, "%s", payurl);
            admin_answer(p, a, code, status, out);
            pthread_mutex_unlock(&p->mu);
        }
    }
    bh_diag_release(&d);
    bh_msg_free(fields);
}

static void admin_quitapply(platform *p, app *a, const bh_msg *body, int *status, bh_buf *out)
{
    const char *reason = body ? bh_msg_text(body, "reason") : NULL;
    bh_msg *plain = bh_msg_new();
    pthread_mutex_lock(&p->mu);
    int issued = strcmp(a->state, "issued") == 0;
    int ok = plain && bh_msg_set_str(plain, "applyno", a->applyno) == BH_OK &&
             bh_msg_set_str(plain, "baohanno", a->baohanno) == BH_OK &&
             bh_msg_set_str(plain, "reason", reason ? reason : "退保") == BH_OK;
    pthread_mutex_unlock(&p->mu);
    int code = -1;
    if (!issued)
        admin_error(status, out, 409, "state: quitapply needs an issued guarantee");
    else if (!ok || !send_wrong(p, "quitapply", plain, &code, NULL) || code < 0)
        admin_error(status, out, 502, "the institution did not answer");
    else {
        pthread_mutex_lock(&p->mu);
        if (code == 1)
            snprintf(a->state, sizeof a->state, "quit_requested");
        admin_answer(p, a, code, status, out);
        pthread_mutex_unlock(&p->mu);
    }
    bh_msg_free(plain);
}

static void admin(platform *p, const conform_http_req *req, int *status, bh_buf *out)
{
    char want[300];
    snprintf(want, sizeof want, "Bearer %s", p->token);
    if (strcmp(req->authorization, want) != 0) {
        admin_error(status, out, 401, "unauthorized");
        return;
    }
    bh_msg *body = NULL;
    if (req->body_len && bh_msg_parse(req->body, req->body_len, req->body_len,
                                      BH_PARSE_ALLOW_NESTED, &body, NULL) != BH_OK) {
        admin_error(status, out, 400, "malformed JSON");
        return;
    }
    static const char prefix[] = "/admin/platform/applications/";
    if (strcmp(req->path, "/admin/platform/apply") == 0 && body) {
        admin_apply(p, body, status, out);
    } else if (strncmp(req->path, prefix, sizeof prefix - 1) == 0) {
        char *end = NULL;
        long long id = strtoll(req->path + sizeof prefix - 1, &end, 10);
        app *a = id > 0 && (size_t)id <= p->napps ? &p->apps[id - 1] : NULL;
        if (!a)
            admin_error(status, out, 404, "no such application");
        else if (strcmp(end, "/quitapply") == 0)
            admin_quitapply(p, a, body, status, out);
        else if (*end == '\0') {
            pthread_mutex_lock(&p->mu);
            admin_answer(p, a, 1, status, out);
            pthread_mutex_unlock(&p->mu);
        } else
            admin_error(status, out, 404, "no such action");
    } else {
        admin_error(status, out, 404, "no such path");
    }
    bh_msg_free(body);
}

/* A notice, after authentication: the state rules (PROTOCOL.md §8). */
static void notice(platform *p, const char *iface, const bh_msg *m, bh_buf *out)
{
    const char *applyno = bh_msg_text(m, "applyno"), *bno = bh_msg_text(m, "baohanno");
    const char *st = bh_msg_text(m, "applystatus");
    pthread_mutex_lock(&p->mu);
    app *a = find_app(p, applyno);
    if (!a || strcmp(a->state, "sending") == 0)
        conform_http_reply(out, 0, "applyno: no such application was sent");
    else if (strcmp(iface, "quitnotice") == 0) {
        int quit = strcmp(a->state, "quit") == 0, req = strcmp(a->state, "quit_requested") == 0;
        if ((quit || req) && strcmp(a->baohanno, bno) == 0) {
            snprintf(a->state, sizeof a->state, "quit");
            conform_http_reply(out, 1, "成功");
        } else {
            conform_http_reply(out, 0, "state: no quitapply for this guarantee");
        }
    } else if (strcmp(a->state, "sent") == 0) {
        snprintf(a->state, sizeof a->state, "%s", strcmp(st, "1") == 0 ? "issued" : "rejected");
        snprintf(a->baohanno, sizeof a->baohanno, "%s", bno);
        snprintf(a->applystatus, sizeof a->applystatus, "%s", st);
        conform_http_reply(out, 1, "成功");
    } else if (strcmp(a->state, "refused") != 0 && strcmp(a->baohanno, bno) == 0 &&
               strcmp(a->applystatus, st) == 0) {
        conform_http_reply(out, 1, "成功");
    } else {
        conform_http_reply(out, 0, "applyno: contradicts what the platform knows");
    }
    pthread_mutex_unlock(&p->mu);
}

static void handle(void *ctx, const conform_http_req *req, conform_http_resp *resp)
{
    int *status = &resp->status;
    bh_buf *out = &resp->body;
    platform *p = ctx;
    if (strncmp(req->path, "/admin/", 7) == 0) {
        admin(p, req, status, out);
        return;
    }
    const char *iface = req->path + 1;
    if (strcmp(iface, "baohannotice") != 0 && strcmp(iface, "quitnotice") != 0) {
        *status = 404;
        conform_http_reply(out, 0, "no such interface");
        return;
    }
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    bh_msg *m = NULL, *plain = NULL;
    bh_diag d = BH_DIAG_INIT;
    char msg[400];
    const char *appkey = NULL;
    if (bh_body_json(req->content_type, req->body, req->body_len, &json, &d) != BH_OK ||
        bh_msg_parse(json.data ? json.data : "", json.len, BH_MSG_MAX_REQUEST, 0, &m, &d)) {
        snprintf(msg, sizeof msg, "malformed request: %s", d.count ? d.items[0].message : "");
        conform_http_reply(out, 0, msg);
    } else if (!(appkey = bh_msg_text(m, "appkey")) || strcmp(appkey, p->cred.appkey) != 0) {
        conform_http_reply(out, 0, "appkey: required, and must be a configured counterpart");
    } else if (bh_check_timestamp(m, bh_time_now(), 300, &d) != BH_OK ||
               bh_open(bh_iface_find(iface), &p->cred, m, &plain, &d) != BH_OK) {
        snprintf(msg, sizeof msg, "%s: %s", d.count ? d.items[0].field : "",
                 d.count ? d.items[0].message : "refused");
        conform_http_reply(out, 0, msg);
    } else {
        notice(p, iface, plain, out);
    }
    bh_diag_release(&d);
    bh_msg_free(plain);
    bh_msg_free(m);
    bh_buf_release(&json);
}

int main(int argc, char **argv)
{
    static platform p;
    const char *listen = double_arg(argc, argv, "listen");
    const char *key = double_arg(argc, argv, "key");
    p.url = double_arg(argc, argv, "institution-url");
    p.name = double_arg(argc, argv, "name");
    p.token = double_arg(argc, argv, "token");
    p.cred.appkey = double_arg(argc, argv, "appkey");
    p.cred.appsecret = double_arg(argc, argv, "appsecret");
    if (!listen || !key || !p.url || !p.name || !p.token || !p.cred.appkey || !p.cred.appsecret ||
        bh_sm4_key_parse(key, &p.cred.key, NULL, "key") != BH_OK) {
        fprintf(stderr, "usage: double_platform_jsonsign --listen ADDR --institution-url URL "
                        "--name NAME --appkey K --appsecret S --key SM4KEY --token T\n");
        return 2;
    }
    pthread_mutex_init(&p.mu, NULL);
    int rc = double_serve("double_platform_jsonsign", listen, handle, &p);
    pthread_mutex_destroy(&p.mu);
    return rc;
}
