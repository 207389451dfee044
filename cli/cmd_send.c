/* baohan send: one signed request to any URL — the tool to reach for first
 * when an integration does not work. */
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* A counterpart's section in a baohand configuration: [platform NAME] on an
 * institution, [institution NAME] on a platform. */
typedef struct peer_section {
    const char *name;
    int found;
    char *appkey, *appsecret, *sm4_key, *url;
} peer_section;

static int on_setting(void *user, const char *section, const char *key, const char *value)
{
    peer_section *p = user;
    char want_platform[160], want_institution[160];
    snprintf(want_platform, sizeof want_platform, "platform %s", p->name);
    snprintf(want_institution, sizeof want_institution, "institution %s", p->name);
    if (strcmp(section, want_platform) && strcmp(section, want_institution))
        return 1;
    p->found = 1;
    char **slot = strcmp(key, "appkey") == 0      ? &p->appkey
                  : strcmp(key, "appsecret") == 0 ? &p->appsecret
                  : strcmp(key, "sm4_key") == 0   ? &p->sm4_key
                  : strcmp(key, "url") == 0       ? &p->url
                                                  : NULL;
    if (slot) {
        free(*slot);
        *slot = strdup(value);
    }
    return 1;
}

static void peer_release(peer_section *p)
{
    if (p->appsecret)
        bh_wipe(p->appsecret, strlen(p->appsecret));
    if (p->sm4_key)
        bh_wipe(p->sm4_key, strlen(p->sm4_key));
    free(p->appkey);
    free(p->appsecret);
    free(p->sm4_key);
    free(p->url);
}

/* The plaintext from FILE, or from field=value arguments. */
static int read_plaintext(const cli_cmd *cmd, const char *const *args, size_t n, bh_msg **out)
{
    if (n == 0 || (n == 1 && !strchr(args[0], '=')))
        return cli_read_request(cmd, n ? args[0] : NULL, out);
    bh_msg *m = bh_msg_new();
    if (!m)
        return cli_internal(cmd, BH_ENOMEM);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(args[i], '=');
        if (!eq || eq == args[i]) {
            bh_msg_free(m);
            return cli_usage_error(cmd, "give one FILE, or field=value arguments");
        }
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - args[i]), args[i]);
        bh_err err = bh_msg_set_str(m, key, eq + 1);
        if (err) {
            bh_msg_free(m);
            return err == BH_EUTF8 ? cli_usage_error(cmd, "%s: not valid UTF-8", key)
                                   : cli_internal(cmd, err);
        }
    }
    *out = m;
    return CLI_EXIT_OK;
}

/* --dry-run: what would be sent, and the string its signature is over. */
static int dry_run(const cli_cmd *cmd, const bh_iface *iface, const bh_credentials *cred,
                   const char *url, const bh_msg *plain, int64_t now)
{
    bh_msg *wire = NULL;
    bh_diag d = BH_DIAG_INIT;
    bh_buf canon;
    bh_buf_init(&canon, BH_BUF_MAX_DEFAULT);
    int rc;
    bh_err err = bh_seal(iface, cred, plain, now, &wire, &d);
    if (err) {
        cli_print_problems(stderr, "", &d);
        rc = CLI_EXIT_REFUSED;
    } else {
        if (url)
            printf("POST %s/%s\n", url, iface->name);
        rc = cli_print_msg(cmd, wire, BH_JSON_PRETTY);
        if (rc == CLI_EXIT_OK && !(err = bh_sign_string(wire, NULL, &canon)))
            printf("string to sign (appsecret masked):\n%s\n", canon.data);
        else if (rc == CLI_EXIT_OK)
            rc = cli_internal(cmd, err);
    }
    bh_buf_release(&canon);
    bh_diag_release(&d);
    bh_msg_free(wire);
    return rc;
}

static int call(const cli_cmd *cmd, const bh_iface *iface, const bh_credentials *cred,
                const char *url, const bh_msg *plain, int64_t now, int pretty)
{
    bh_client *client = bh_client_new(NULL);
    bh_msg *answer = NULL;
    bh_diag d = BH_DIAG_INIT;
    int status = 0, rc;
    bh_err err =
        client ? bh_client_call(client, url, iface, cred, plain, now, &answer, &status, NULL, &d)
               : BH_ENOMEM;
    if (err == BH_ENOMEM) {
        rc = cli_internal(cmd, err);
    } else if (err) {
        cli_print_problems(stderr, "", &d);
        rc = CLI_EXIT_REFUSED;
    } else {
        rc = cli_print_msg(cmd, answer, pretty ? BH_JSON_PRETTY : 0);
        const char *code = bh_msg_text(answer, "code");
        if (rc == CLI_EXIT_OK && (!code || strcmp(code, "1") != 0)) {
            fprintf(stderr, "baohan send: HTTP %d, code %s\n", status, code ? code : "absent");
            rc = CLI_EXIT_REFUSED;
        }
    }
    bh_diag_release(&d);
    bh_msg_free(answer);
    bh_client_free(client);
    return rc;
}

static int run_send(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_send;
    const char *secret_flag = NULL, *key_flag = NULL, *appkey_flag = NULL, *url = NULL;
    const char *config = NULL, *peer = NULL, *ts_flag = NULL;
    const char *pos[64];
    size_t npos;
    int dry = 0, pretty = 0;
    const cli_opt opts[] = {
        {"appsecret", &secret_flag, NULL}, {"key", &key_flag, NULL},
        {"appkey", &appkey_flag, NULL},    {"url", &url, NULL},
        {"config", &config, NULL},         {"peer", &peer, NULL},
        {"timestamp", &ts_flag, NULL},     {"dry-run", NULL, &dry},
        {"pretty", NULL, &pretty},         {NULL, NULL, NULL},
    };
    int rc = cli_parse_args(cmd, argc, argv, opts, 1, 64, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    const bh_iface *iface;
    if ((rc = cli_find_iface(cmd, pos[0], &iface)) != CLI_EXIT_OK)
        return rc;
    if (!config != !peer)
        return cli_usage_error(cmd, "--config and --peer go together");
    int64_t now = bh_time_now();
    if (ts_flag && bh_time_parse(ts_flag, strlen(ts_flag), &now, NULL, NULL) != BH_OK)
        return cli_usage_error(cmd, "--timestamp must be \"yyyy-MM-dd HH:mm:ss\" (CST)");

    /* Flags win, then the environment, then the configuration's section. */
    peer_section ps = {peer, 0, NULL, NULL, NULL, NULL};
    if (config) {
        int line = ini_parse(config, on_setting, &ps);
        if (line != 0 || !ps.found) {
            if (line < 0)
                cli_error(cmd, "cannot read %s", config);
            else if (line > 0)
                cli_error(cmd, "%s:%d: cannot parse this line", config, line);
            else
                cli_error(cmd, "%s: no [platform %s] or [institution %s] section", config, peer,
                          peer);
            peer_release(&ps);
            return CLI_EXIT_USAGE;
        }
    }
    bh_credentials cred;
    rc = cli_credentials(cmd, secret_flag || getenv(CLI_ENV_APPSECRET) ? secret_flag : ps.appsecret,
                         key_flag || getenv(CLI_ENV_SM4_KEY) ? key_flag : ps.sm4_key, appkey_flag,
                         &cred);
    if (!cred.appkey)
        cred.appkey = ps.appkey;
    if (!url)
        url = ps.url;
    bh_msg *plain = NULL;
    if (rc == CLI_EXIT_OK && !url && !dry)
        rc = cli_usage_error(cmd, "the counterpart's base URL: --url, or --config with --peer");
    if (rc == CLI_EXIT_OK)
        rc = read_plaintext(cmd, pos + 1, npos - 1, &plain);
    if (rc == CLI_EXIT_OK && ts_flag)
        rc = bh_msg_set_str(plain, "timestamp", ts_flag) ? cli_internal(cmd, BH_ENOMEM) : rc;
    if (rc == CLI_EXIT_OK)
        rc = dry ? dry_run(cmd, iface, &cred, url, plain, now)
                 : call(cmd, iface, &cred, url, plain, now, pretty);
    bh_wipe(&cred.key, sizeof cred.key);
    bh_msg_free(plain);
    peer_release(&ps);
    return rc;
}

const cli_cmd cli_cmd_send = {
    "send",
    "send one signed request to a counterpart and print its answer",
    "usage: baohan send INTERFACE [--url BASE] [--appsecret S] [--key K] [--appkey A]\n"
    "                   [--config FILE --peer NAME] [--timestamp T] [--dry-run]\n"
    "                   [--pretty] [FILE | field=value ...]\n",
    "Seals the plaintext request of INTERFACE (encrypts its 密文 fields, adds\n"
    "appkey and timestamp, signs it) and POSTs it to BASE/INTERFACE, then prints\n"
    "the answer. The plaintext is a JSON file (standard input when absent or \"-\")\n"
    "or field=value arguments.\n"
    "\n"
    "Credentials and URL: options first, then $BAOHAN_APPSECRET, $BAOHAN_SM4_KEY and\n"
    "$BAOHAN_APPKEY, then the [platform NAME] or [institution NAME] section of a\n"
    "baohand configuration given with --config FILE --peer NAME.\n"
    "\n"
    "Options:\n"
    "  --url BASE        the counterpart's base URL (POST BASE/INTERFACE)\n"
    "  --dry-run         send nothing: print the wire request and the string its\n"
    "                    signature is computed over (appsecret masked)\n"
    "  --timestamp T     the timestamp to send, \"yyyy-MM-dd HH:mm:ss\" CST\n"
    "  --pretty          indent the answer\n"
    "\n"
    "Exit status: 0 when the answer's code is 1; 1 when it is not, or no answer\n"
    "came (the reason on stderr); 2 for bad usage or input.\n"
    "\n"
    "Examples:\n"
    "  baohan send giveupnotice --url https://fi.example.com/api applyno=ZZBH2026112800017\n"
    "  baohan send baohanapply --config /etc/baohan/baohand.ini --peer zzggzy apply.json\n"
    "  baohan send quitapply --dry-run applyno=… baohanno=… reason=项目终止\n",
    run_send,
};
