/* A deliberately wrong platform: right in everything `baohan conform --role
 * platform` checks, except that what it sends (every interface) is
 * signed over the JSON text of the request instead of the sorted key=value
 * string of PROTOCOL.md §4. The suite must report exactly the
 * "… sent: signature verifies" checks, one per interface it sends.
 *
 * It holds applications in memory and serves, on one port, baohannotice and
 * quitnotice (authenticated, validated, idempotent, state-checked like the
 * real platform role) and the admin API of docs' platform contract:
 * POST /admin/platform/apply, GET /admin/platform/applications/ID and
 * POST /admin/platform/applications/ID/{getbaohaninfo,giveup,quitapply,claims}
 * (getbaohaninfo downloads every file and checks its MD5).
 *
 *   double_platform_jsonsign --listen 127.0.0.1:0 --institution-url URL
 *       --name NAME --appkey K --appsecret S --key SM4KEY --token T */
#include <pthread.h>

#include "double.h"

typedef struct app {
    long long id;
    char applyno[80], state[24], payurl[1024], baohanno[128], applystatus[4];
    char file_checks[2048]; /* JSON array, after getbaohaninfo */
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
           bh_buf_addf(out, ",\"file_checks\":%s}", a->file_checks[0] ? a->file_checks : "[]") ==
               BH_OK;
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
 * institution; returns its parsed answer (NULL when none came) and sets
 * `*code` (1, 0, or -1 when no answer). */
static bh_msg *send_wrong(platform *p, const char *iface, const bh_msg *plain, int *code)
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
        *code = cd && strcmp(cd, "1") == 0 ? 1 : 0;
    }
    bh_msg_free(wire);
    bh_buf_wipe(&text);
    bh_buf_release(&text);
    bh_buf_release(&resp);
    bh_client_free(c);
    return answer;
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
        bh_msg *answer = a ? send_wrong(p, "baohanapply", fields, &code) : NULL;
        const bh_field *pu = answer ? bh_msg_get_nocase(answer, "Payurl") : NULL;
        if (!a) {
            admin_error(status, out, 409, "applyno: already applied");
        } else if (code < 0) {
            admin_error(status, out, 502, "the institution did not answer");
        } else {
            pthread_mutex_lock(&p->mu);
            snprintf(a->state, sizeof a->state, "%s", code == 1 ? "sent" : "refused");
            snprintf(a->payurl, sizeof a->payurl, "%s",
                     pu && pu->type == BH_JSTRING ? pu->value : "");
            admin_answer(p, a, code, status, out);
            pthread_mutex_unlock(&p->mu);
        }
        bh_msg_free(answer);
    }
    bh_diag_release(&d);
    bh_msg_free(fields);
}

/* Downloads every file of getbaohaninfo's data and checks it against its
 * MD5 (and baohanfile against baohanurl), as file_checks JSON into `fc`. */
static void check_files(const bh_msg *answer, char *fc, size_t n)
{
    /* Its own table, not the suite's: a double stands for someone else's code. */
    static const char *const files[][2] = {
        {"baohanurl", "guaranteemd5"},
        {"orderurl", "ordermd5"},
        {"qualficationfileurl", "qualficationfilemd5"},
        {"businesslicenseurl", "businesslicensemd5"},
        {"guaranteexmlurl", "guaranteexmlmd5"},
        {"payfileurl", NULL},
    };
    const bh_field *f = bh_msg_get(answer, "data");
    bh_msg *data = NULL;
    bh_client *c = bh_client_new(NULL);
    bh_buf bytes, guarantee, copy;
    bh_buf_init(&bytes, BH_BUF_MAX_DEFAULT);
    bh_buf_init(&guarantee, BH_BUF_MAX_DEFAULT);
    bh_buf_init(&copy, BH_BUF_MAX_DEFAULT);
    size_t len = (size_t)snprintf(fc, n, "[");
    if (c && f && f->type == BH_JOBJECT &&
        bh_msg_parse(f->value, f->value_len, f->value_len, 0, &data, NULL) == BH_OK) {
        for (size_t i = 0; i < sizeof files / sizeof *files && len < n; i++) {
            const char *url = bh_msg_text(data, files[i][0]);
            const char *want = files[i][1] ? bh_msg_text(data, files[i][1]) : NULL;
            char md5[BH_MD5_HEX_LEN + 1] = "";
            int status = 0;
            bh_buf *into = i == 0 ? &guarantee : &bytes;
            bh_buf_reset(&bytes);
            int ok = url && bh_client_get(c, url, &status, into, NULL) == BH_OK && status == 200 &&
                     bh_md5_hex(into->data ? into->data : "", into->len, md5) == BH_OK &&
                     (!files[i][1] || (want && strcmp(want, md5) == 0));
            len += (size_t)snprintf(fc + len, n - len, "%s{\"field\":\"%s\",\"ok\":%s}",
                                    i ? "," : "", files[i][0], ok ? "true" : "false");
        }
        const char *b64 = bh_msg_text(data, "baohanfile");
        int same = b64 && bh_base64_decode(b64, strlen(b64), &copy) == BH_OK &&
                   copy.len == guarantee.len &&
                   (copy.len == 0 || memcmp(copy.data, guarantee.data, copy.len) == 0);
        if (len < n)
            len += (size_t)snprintf(fc + len, n - len, ",{\"field\":\"baohanfile\",\"ok\":%s}",
                                    same ? "true" : "false");
    }
    if (len < n)
        snprintf(fc + len, n - len, "]");
    bh_msg_free(data);
    bh_buf_release(&bytes);
    bh_buf_release(&guarantee);
    bh_buf_release(&copy);
    bh_client_free(c);
}

/* POST /admin/platform/applications/ID/VERB: sends the interface to the
 * institution (with the body's fields) when the application's state allows. */
static void admin_action(platform *p, app *a, const char *verb, const bh_msg *body, int *status,
                         bh_buf *out)
{
    static const char *const verbs[][4] = {
        /* verb, interface, state needed, state after code 1 */
        {"/giveup", "giveupnotice", "sent", "given_up"},
        {"/quitapply", "quitapply", "issued", "quit_requested"},
        {"/claims", "claimsnotice", "issued", "issued"},
        {"/getbaohaninfo", "getbaohaninfo", "issued", "issued"},
    };
    size_t k = 0;
    while (k < sizeof verbs / sizeof *verbs && strcmp(verbs[k][0], verb) != 0)
        k++;
    if (k == sizeof verbs / sizeof *verbs) {
        admin_error(status, out, 404, "no such action");
        return;
    }
    bh_msg *plain = bh_msg_new();
    pthread_mutex_lock(&p->mu);
    int allowed = strcmp(a->state, verbs[k][2]) == 0;
    int ok = plain && bh_msg_set_str(plain, "applyno", a->applyno) == BH_OK &&
             (k == 0 || bh_msg_set_str(plain, "baohanno", a->baohanno) == BH_OK);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; ok && body && i < bh_msg_count(body); i++) {
        const bh_field *f = bh_msg_at(body, i);
        ok = bh_msg_set(plain, f->key, f->value, f->value_len, f->type) == BH_OK;
    }
    int code = -1;
    bh_msg *answer = allowed && ok ? send_wrong(p, verbs[k][1], plain, &code) : NULL;
    char fc[2048] = "";
    if (code == 1 && k == 3)
        check_files(answer, fc, sizeof fc);
    if (!allowed)
        admin_error(status, out, 409, "state: this action is not allowed in this state");
    else if (code < 0)
        admin_error(status, out, 502, "the institution did not answer");
    else {
        pthread_mutex_lock(&p->mu);
        if (code == 1)
            snprintf(a->state, sizeof a->state, "%s", verbs[k][3]);
        if (fc[0])
            snprintf(a->file_checks, sizeof a->file_checks, "%s", fc);
        admin_answer(p, a, code, status, out);
        pthread_mutex_unlock(&p->mu);
    }
    bh_msg_free(answer);
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
        else if (*end == '\0') {
            pthread_mutex_lock(&p->mu);
            admin_answer(p, a, 1, status, out);
            pthread_mutex_unlock(&p->mu);
        } else
            admin_action(p, a, end, body, status, out);
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
