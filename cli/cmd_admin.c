/* baohan admin: the institution's workflow from the command line, on top of
 * baohand's admin API (docs/institution.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define ENV_ADMIN_URL "BAOHAN_ADMIN_URL"
#define ENV_ADMIN_TOKEN "BAOHAN_ADMIN_TOKEN"
#define DEFAULT_ADMIN_URL "http://127.0.0.1:8081"

typedef struct admin_opts {
    const char *url, *token, *state, *bidder, *from, *to, *limit, *offset;
    const char *payer_name, *payer_account, *amount, *paytype, *proof, *reason, *account,
        *reference;
    const char *institution, *file; /* the platform role's commands */
    int json;
} admin_opts;

/* Appends `key` and `value` as a JSON member when value is set. */
static bh_err member(bh_msg *m, const char *key, const char *value)
{
    return value ? bh_msg_set_str(m, key, value) : BH_OK;
}

/* Prints the API's errors, one a line, field first; returns the exit status. */
static int print_errors(const cli_cmd *cmd, int status, const bh_msg *answer)
{
    const bh_field *errors = answer ? bh_msg_get(answer, "errors") : NULL;
    if (!errors || errors->type != BH_JARRAY) {
        cli_error(cmd, "the admin API answered HTTP %d", status);
        return CLI_EXIT_REFUSED;
    }
    /* Each element is {"field":…,"message":…}: print as a problem list. */
    bh_diag d = BH_DIAG_INIT;
    const char *p = errors->value;
    while ((p = strstr(p, "{"))) {
        const char *end = strchr(p, '}');
        bh_msg *e = NULL;
        if (!end || bh_msg_parse(p, (size_t)(end - p + 1), BH_MSG_MAX_REQUEST, 0, &e, NULL)) {
            bh_msg_free(e);
            break;
        }
        const char *field = bh_msg_text(e, "field"), *message = bh_msg_text(e, "message");
        bh_diag_add(&d, BH_EINVAL, field ? field : "", "%s", message ? message : "");
        bh_msg_free(e);
        p = end + 1;
    }
    cli_print_problems(stderr, "", &d);
    bh_diag_release(&d);
    return status == 401 || status == 400 ? CLI_EXIT_USAGE : CLI_EXIT_REFUSED;
}

/* One exchange with the admin API; the parsed answer goes to `*answer`. */
static int call(const cli_cmd *cmd, const admin_opts *o, const char *method, const char *path,
                const bh_msg *body, bh_msg **answer)
{
    char auth[600];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    bh_buf url, request, response;
    bh_buf_init(&url, 4096);
    bh_buf_init(&request, (size_t)32 * 1024 * 1024);
    bh_buf_init(&response, (size_t)64 * 1024 * 1024);
    bh_client *c = bh_client_new(NULL);
    bh_diag d = BH_DIAG_INIT;
    int status = 0, rc = CLI_EXIT_OK;
    bh_err err = c ? bh_buf_addf(&url, "%s%s", o->url, path) : BH_ENOMEM;
    if (!err && body)
        err = bh_msg_to_json(body, 0, &request);
    if (!err)
        err = bh_client_request(c, method, url.data, headers, request.data, request.len, &status,
                                &response, &d);
    if (!err)
        err = bh_msg_parse(response.data ? response.data : "", response.len, response.len,
                           BH_PARSE_ALLOW_NESTED, answer, &d);
    if (err) {
        cli_print_problems(stderr, "baohan admin: ", &d);
        rc = err == BH_ENOMEM ? cli_internal(cmd, err) : CLI_EXIT_REFUSED;
    } else if (status != 200) {
        rc = print_errors(cmd, status, *answer);
    }
    bh_wipe(auth, sizeof auth);
    bh_diag_release(&d);
    bh_client_free(c);
    bh_buf_release(&url);
    bh_buf_release(&request);
    bh_buf_release(&response);
    return rc;
}

static int print_answer(const cli_cmd *cmd, const bh_msg *answer, const char *key)
{
    const bh_field *f = bh_msg_get(answer, key);
    bh_msg *inner = NULL;
    if (f && f->type == BH_JOBJECT &&
        bh_msg_parse(f->value, f->value_len, f->value_len, BH_PARSE_ALLOW_NESTED, &inner, NULL) !=
            BH_OK)
        inner = NULL;
    int rc = cli_print_msg(cmd, inner ? inner : answer, BH_JSON_PRETTY);
    bh_msg_free(inner);
    return rc;
}

/* The list as a table: one application a line. */
static bh_err print_row(const char *element, size_t len, void *ctx)
{
    (void)ctx;
    bh_msg *a = NULL;
    bh_err err = bh_msg_parse(element, len, len, BH_PARSE_ALLOW_NESTED, &a, NULL);
    if (err)
        return err;
    const char *baohanno = bh_msg_text(a, "baohanno");
    printf("%-6s %-15s %-22s %12s %10s %-20s %s  %s\n", bh_msg_text(a, "id"),
           bh_msg_text(a, "state"), bh_msg_text(a, "applyno"), bh_msg_text(a, "bzjamount"),
           bh_msg_text(a, "premium"), baohanno ? baohanno : "-", bh_msg_text(a, "created_at"),
           bh_msg_text(a, "biddername"));
    bh_msg_free(a);
    return BH_OK;
}

/* GET `base` with key=value& for each value set (percent-encoded), then
 * the answer's applications as a table (`header`, then `row` each), or the
 * answer itself with --json. */
static int list_table(const cli_cmd *cmd, const admin_opts *o, const char *base,
                      const char *const *keys, const char *const *values, size_t n,
                      void (*header)(void), bh_json_element_fn row)
{
    bh_buf path;
    bh_buf_init(&path, 4096);
    bh_err err = bh_buf_addstr(&path, base);
    for (size_t i = 0; !err && i < n; i++) {
        if (!values[i])
            continue;
        err = bh_buf_addf(&path, "%s=", keys[i]);
        for (const unsigned char *p = (const unsigned char *)values[i]; !err && *p; p++)
            err = (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                          (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '_'
                      ? bh_buf_addch(&path, (char)*p)
                      : bh_buf_addf(&path, "%%%02X", *p);
        if (!err)
            err = bh_buf_addch(&path, '&');
    }
    bh_msg *answer = NULL;
    int rc = err ? cli_internal(cmd, err) : call(cmd, o, "GET", path.data, NULL, &answer);
    if (rc == CLI_EXIT_OK && o->json) {
        rc = print_answer(cmd, answer, "");
    } else if (rc == CLI_EXIT_OK) {
        const bh_field *apps = bh_msg_get(answer, "applications");
        header();
        if (apps && bh_json_array_each(apps->value, apps->value_len, row, NULL, NULL,
                                       "applications") != BH_OK)
            rc = cli_internal(cmd, BH_EJSON);
    }
    bh_msg_free(answer);
    bh_buf_release(&path);
    return rc;
}

static void list_header(void)
{
    printf("%-6s %-15s %-22s %12s %10s %-20s %-19s  %s\n", "ID", "STATE", "APPLYNO", "AMOUNT",
           "PREMIUM", "BAOHANNO", "CREATED", "BIDDER");
}

static int list(const cli_cmd *cmd, const admin_opts *o)
{
    const char *keys[] = {"state", "bidder", "from", "to", "limit", "offset"};
    const char *values[] = {o->state, o->bidder, o->from, o->to, o->limit, o->offset};
    return list_table(cmd, o, "/admin/applications?", keys, values, 6, list_header, print_row);
}

/* An action on one application: POST /admin/applications/ID/VERB. */
static int act(const cli_cmd *cmd, const admin_opts *o, const char *id, const char *verb,
               const bh_msg *body)
{
    char path[128];
    snprintf(path, sizeof path, "/admin/applications/%s%s%s", id, *verb ? "/" : "", verb);
    bh_msg *answer = NULL;
    int rc = call(cmd, o, *verb ? "POST" : "GET", path, body, &answer);
    if (rc == CLI_EXIT_OK)
        rc = print_answer(cmd, answer, "application");
    bh_msg_free(answer);
    return rc;
}

static int pay(const cli_cmd *cmd, const admin_opts *o, const char *id)
{
    if (!o->payer_name || !o->payer_account || !o->amount || !o->paytype || !o->proof)
        return cli_usage_error(cmd, "pay needs --payer-name, --payer-account, --amount, "
                                    "--paytype and --proof FILE");
    bh_buf file, b64;
    bh_buf_init(&file, (size_t)16 * 1024 * 1024);
    bh_buf_init(&b64, (size_t)24 * 1024 * 1024);
    int rc = cli_read_input(cmd, o->proof, file.max, &file);
    bh_msg *body = rc == CLI_EXIT_OK ? bh_msg_new() : NULL;
    bh_err err = rc != CLI_EXIT_OK ? BH_OK
                 : body            ? bh_base64_encode(file.data, file.len, &b64)
                                   : BH_ENOMEM;
    if (rc == CLI_EXIT_OK && !err) {
        err = member(body, "payername", o->payer_name);
        if (!err)
            err = member(body, "payeraccount", o->payer_account);
        if (!err)
            err = member(body, "amount", o->amount);
        if (!err)
            err = member(body, "paytype", o->paytype);
        if (!err)
            err = member(body, "proof", b64.data);
        rc = err ? cli_internal(cmd, err) : act(cmd, o, id, "payment", body);
    } else if (err) {
        rc = cli_internal(cmd, err);
    }
    bh_msg_free(body);
    bh_buf_release(&file);
    bh_buf_release(&b64);
    return rc;
}

static int with_fields(const cli_cmd *cmd, const admin_opts *o, const char *id, const char *verb,
                       const char *const *keys, const char *const *values, size_t n)
{
    bh_msg *body = bh_msg_new();
    bh_err err = body ? BH_OK : BH_ENOMEM;
    for (size_t i = 0; !err && i < n; i++)
        err = member(body, keys[i], values[i]);
    int rc = err ? cli_internal(cmd, err) : act(cmd, o, id, verb, body);
    bh_msg_free(body);
    return rc;
}

static int outbox(const cli_cmd *cmd, const admin_opts *o, const char *sub, const char *id)
{
    bh_msg *answer = NULL;
    char path[128];
    int rc;
    if (sub && strcmp(sub, "retry") == 0) {
        if (!id)
            return cli_usage_error(cmd, "outbox retry needs the notice's ID");
        snprintf(path, sizeof path, "/admin/outbox/%s/retry", id);
        rc = call(cmd, o, "POST", path, NULL, &answer);
    } else if (sub) {
        return cli_usage_error(cmd, "outbox takes no argument but 'retry ID'");
    } else {
        snprintf(path, sizeof path, "/admin/outbox%s%s", o->state ? "?state=" : "",
                 o->state ? o->state : "");
        rc = call(cmd, o, "GET", path, NULL, &answer);
    }
    if (rc == CLI_EXIT_OK)
        rc = print_answer(cmd, answer, "");
    bh_msg_free(answer);
    return rc;
}

/* ---- the platform role ---------------------------------------------------------- */

/* Prints the application and, on stderr, what the institution answered;
 * exit status 1 unless it answered code 1. */
static int print_sent(const cli_cmd *cmd, const bh_msg *answer)
{
    int rc = print_answer(cmd, answer, "application");
    const char *code = bh_msg_text(answer, "code"), *msg = bh_msg_text(answer, "msg");
    if (rc == CLI_EXIT_OK && (!code || strcmp(code, "1") != 0)) {
        cli_error(cmd, "the institution answered code %s: %s", code ? code : "?", msg ? msg : "");
        rc = CLI_EXIT_REFUSED;
    }
    return rc;
}

/* One platform call; `json` (may be NULL) is the body. */
static int platform_call(const cli_cmd *cmd, const admin_opts *o, const char *method,
                         const char *path, const bh_msg *body, int sent)
{
    bh_msg *answer = NULL;
    int rc = call(cmd, o, method, path, body, &answer);
    if (rc == CLI_EXIT_OK)
        rc = sent ? print_sent(cmd, answer) : print_answer(cmd, answer, "application");
    bh_msg_free(answer);
    return rc;
}

static bh_err print_platform_row(const char *element, size_t len, void *ctx)
{
    (void)ctx;
    bh_msg *a = NULL;
    bh_err err = bh_msg_parse(element, len, len, BH_PARSE_ALLOW_NESTED, &a, NULL);
    if (err)
        return err;
    const char *baohanno = bh_msg_text(a, "baohanno");
    printf("%-6s %-12s %-15s %-22s %-20s %s\n", bh_msg_text(a, "id"),
           bh_msg_text(a, "institution"), bh_msg_text(a, "state"), bh_msg_text(a, "applyno"),
           baohanno ? baohanno : "-", bh_msg_text(a, "updated_at"));
    bh_msg_free(a);
    return BH_OK;
}

static void platform_header(void)
{
    printf("%-6s %-12s %-15s %-22s %-20s %s\n", "ID", "INSTITUTION", "STATE", "APPLYNO",
           "BAOHANNO", "UPDATED");
}

static int platform_list(const cli_cmd *cmd, const admin_opts *o)
{
    const char *keys[] = {"state", "institution", "limit", "offset"};
    const char *values[] = {o->state, o->institution, o->limit, o->offset};
    return list_table(cmd, o, "/admin/platform/applications?", keys, values, 4, platform_header,
                      print_platform_row);
}

/* apply: {"institution":NAME,"fields":<the file's object>}. */
static int platform_apply(const cli_cmd *cmd, const admin_opts *o)
{
    if (!o->institution || !o->file)
        return cli_usage_error(cmd, "platform apply needs --institution NAME and --file "
                                    "FIELDS.json");
    bh_msg *fields = NULL, *body = NULL;
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    int rc = cli_read_request(cmd, o->file, &fields);
    bh_err err = BH_OK;
    if (rc == CLI_EXIT_OK) {
        body = bh_msg_new();
        err = body ? bh_msg_set_str(body, "institution", o->institution) : BH_ENOMEM;
        if (!err)
            err = bh_msg_to_json(fields, 0, &json);
        if (!err)
            err = bh_msg_set(body, "fields", json.data, json.len, BH_JOBJECT);
        rc = err ? cli_internal(cmd, err)
                 : platform_call(cmd, o, "POST", "/admin/platform/apply", body, 1);
    }
    bh_msg_free(fields);
    bh_msg_free(body);
    bh_buf_release(&json);
    return rc;
}

static int platform(const cli_cmd *cmd, const admin_opts *o, const char *const *pos, size_t npos)
{
    const char *sub = npos > 1 ? pos[1] : "", *id = npos > 2 ? pos[2] : NULL;
    if (strcmp(sub, "apply") == 0)
        return platform_apply(cmd, o);
    if (strcmp(sub, "list") == 0)
        return platform_list(cmd, o);
    static const char *const verbs[][2] = {
        {"show", ""},          {"getbaohaninfo", "getbaohaninfo"}, {"giveup", "giveup"},
        {"quitapply", "quitapply"}, {"claims", "claims"},
    };
    size_t v = 0;
    while (v < sizeof verbs / sizeof *verbs && strcmp(sub, verbs[v][0]) != 0)
        v++;
    if (v == sizeof verbs / sizeof *verbs)
        return cli_usage_error(cmd, "platform takes apply, list, show, getbaohaninfo, giveup, "
                                    "quitapply or claims");
    if (!id || !*id || strspn(id, "0123456789") != strlen(id))
        return cli_usage_error(cmd, "platform %s needs an application ID (a number)", sub);
    char path[128];
    snprintf(path, sizeof path, "/admin/platform/applications/%s%s%s", id, *verbs[v][1] ? "/" : "",
             verbs[v][1]);
    if (!*verbs[v][1])
        return platform_call(cmd, o, "GET", path, NULL, 0);
    bh_msg *body = NULL;
    int rc = CLI_EXIT_OK;
    if (strcmp(sub, "quitapply") == 0) {
        if (!o->reason)
            return cli_usage_error(cmd, "platform quitapply needs --reason R");
        body = bh_msg_new();
        if (!body || bh_msg_set_str(body, "reason", o->reason))
            rc = cli_internal(cmd, BH_ENOMEM);
    } else if (strcmp(sub, "claims") == 0) {
        if (!o->file)
            return cli_usage_error(cmd, "platform claims needs --file CLAIM.json (applyusername, "
                                        "applyuserphone, …)");
        rc = cli_read_request(cmd, o->file, &body);
    }
    if (rc == CLI_EXIT_OK)
        rc = platform_call(cmd, o, "POST", path, body, 1);
    bh_msg_free(body);
    return rc;
}

static int run_admin(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_admin;
    admin_opts o = {0};
    const char *pos[4];
    size_t npos;
    const cli_opt opts[] = {
        {"url", &o.url, NULL},
        {"token", &o.token, NULL},
        {"state", &o.state, NULL},
        {"bidder", &o.bidder, NULL},
        {"from", &o.from, NULL},
        {"to", &o.to, NULL},
        {"limit", &o.limit, NULL},
        {"offset", &o.offset, NULL},
        {"payer-name", &o.payer_name, NULL},
        {"payer-account", &o.payer_account, NULL},
        {"amount", &o.amount, NULL},
        {"paytype", &o.paytype, NULL},
        {"proof", &o.proof, NULL},
        {"reason", &o.reason, NULL},
        {"account", &o.account, NULL},
        {"reference", &o.reference, NULL},
        {"institution", &o.institution, NULL},
        {"file", &o.file, NULL},
        {"json", NULL, &o.json},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse_args(cmd, argc, argv, opts, 1, 4, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!o.url)
        o.url = getenv(ENV_ADMIN_URL) ? getenv(ENV_ADMIN_URL) : DEFAULT_ADMIN_URL;
    rc = cli_secret(cmd, o.token, "token", ENV_ADMIN_TOKEN, &o.token);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *sub = pos[0], *id = npos > 1 ? pos[1] : NULL;
    if (strcmp(sub, "list") == 0)
        return list(cmd, &o);
    if (strcmp(sub, "platform") == 0)
        return platform(cmd, &o, pos, npos);
    if (strcmp(sub, "outbox") == 0)
        return outbox(cmd, &o, npos > 1 ? pos[1] : NULL, npos > 2 ? pos[2] : NULL);
    if (!id || strspn(id, "0123456789") != strlen(id))
        return cli_usage_error(cmd, "%s needs an application ID (a number)", sub);
    if (strcmp(sub, "show") == 0)
        return act(cmd, &o, id, "", NULL);
    if (strcmp(sub, "pay") == 0)
        return pay(cmd, &o, id);
    if (strcmp(sub, "approve") == 0)
        return act(cmd, &o, id, "approve", NULL);
    if (strcmp(sub, "reject") == 0) {
        const char *k[] = {"reason"}, *v[] = {o.reason};
        return with_fields(cmd, &o, id, "reject", k, v, 1);
    }
    if (strcmp(sub, "withdrawal") == 0) {
        const char *decision = npos > 2 ? pos[2] : NULL;
        if (!decision || (strcmp(decision, "approve") && strcmp(decision, "refuse")))
            return cli_usage_error(cmd, "withdrawal ID approve|refuse [--reason R]");
        const char *k[] = {"decision", "reason"}, *v[] = {decision, o.reason};
        return with_fields(cmd, &o, id, "withdrawal", k, v, 2);
    }
    if (strcmp(sub, "claim-paid") == 0) {
        const char *k[] = {"amount", "account", "reference"};
        const char *v[] = {o.amount, o.account, o.reference};
        return with_fields(cmd, &o, id, "claim-paid", k, v, 3);
    }
    return cli_usage_error(cmd, "unknown admin command");
}

const cli_cmd cli_cmd_admin = {
    "admin",
    "operate an institution's baohand: applications, payments, underwriting",
    "usage: baohan admin list [--state S] [--bidder B] [--from DATE] [--to DATE]\n"
    "                         [--limit N] [--offset N] [--json]\n"
    "       baohan admin show ID\n"
    "       baohan admin pay ID --payer-name N --payer-account A --amount YUAN\n"
    "                           --paytype T --proof FILE\n"
    "       baohan admin approve ID\n"
    "       baohan admin reject ID --reason R\n"
    "       baohan admin withdrawal ID approve|refuse [--reason R]\n"
    "       baohan admin claim-paid ID --amount YUAN --account A [--reference R]\n"
    "       baohan admin outbox [--state pending|delivered|flagged]\n"
    "       baohan admin outbox retry ID\n"
    "       baohan admin platform apply --institution NAME --file FIELDS.json\n"
    "       baohan admin platform list [--state S] [--institution NAME] [--limit N]\n"
    "                                  [--offset N] [--json]\n"
    "       baohan admin platform show|getbaohaninfo|giveup ID\n"
    "       baohan admin platform quitapply ID --reason R\n"
    "       baohan admin platform claims ID --file CLAIM.json\n",
    "Talks to baohand's admin API (docs/institution.md). Every command takes\n"
    "  --url URL      the admin listener (default: $BAOHAN_ADMIN_URL, else\n"
    "                 " DEFAULT_ADMIN_URL ")\n"
    "  --token T      the admin token (default: $BAOHAN_ADMIN_TOKEN; prefer the\n"
    "                 environment: options show in the process list)\n"
    "\n"
    "States: applied, submitted, paid, issued, rejected, given_up, quit_requested,\n"
    "quit, claimed. Dates: yyyy-MM-dd (China Standard Time).\n"
    "\n"
    "pay records the premium: refused unless the payer is the bidder, the account\n"
    "is the bidder's declared basic account and the amount is the premium. approve\n"
    "issues the guarantee and notifies the platform; reject notifies a refusal.\n"
    "A refused action prints each problem as \"field: message\" and exits 1.\n"
    "\n"
    "The platform commands talk to a baohand with role = platform\n"
    "(docs/platform.md): apply sends baohanapply with the plaintext business\n"
    "fields in FIELDS.json to the [institution NAME] of its configuration;\n"
    "getbaohaninfo fetches the guarantee's data and checks every file; giveup,\n"
    "quitapply and claims send giveupnotice, quitapply and claimsnotice (CLAIM.json:\n"
    "applyusername, applyuserphone and the optional claim fields). Each prints the\n"
    "application as the platform sees it and exits 1 unless the institution\n"
    "answered code 1. Platform states: sending, sent, refused, issued, rejected,\n"
    "given_up, quit_requested, quit, claimed.\n"
    "\n"
    "Example:\n"
    "  export BAOHAN_ADMIN_TOKEN=...\n"
    "  baohan admin list --state submitted\n"
    "  baohan admin pay 12 --payer-name 某某建设有限公司 --payer-account 6222... \\\n"
    "      --amount 300.00 --paytype 银行转账 --proof receipt.pdf\n"
    "  baohan admin approve 12\n",
    run_admin,
};
