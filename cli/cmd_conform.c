/* baohan conform: the command — options, credentials and output; the
 * suites are in conform_institution.c and conform_platform.c (conform.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

/* ---- the command ---------------------------------------------------------------------- */

static int run_conform(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_conform;
    const char *role = NULL, *url = NULL, *secret_flag = NULL, *key_flag = NULL;
    const char *appkey_flag = NULL, *admin_url = NULL, *admin_token = NULL, *wait = NULL;
    const char *listen = NULL, *institution = NULL;
    int json = 0;
    size_t npos;
    const cli_opt opts[] = {
        {"role", &role, NULL},
        {"url", &url, NULL},
        {"appsecret", &secret_flag, NULL},
        {"key", &key_flag, NULL},
        {"appkey", &appkey_flag, NULL},
        {"admin-url", &admin_url, NULL},
        {"admin-token", &admin_token, NULL},
        {"wait", &wait, NULL},
        {"listen", &listen, NULL},
        {"institution", &institution, NULL},
        {"json", NULL, &json},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 0, NULL, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!role)
        return cli_usage_error(cmd, "--role is required (institution or platform)");
    int platform = strcmp(role, "platform") == 0;
    if (!platform && strcmp(role, "institution") != 0)
        return cli_usage_error(cmd, "--role must be institution or platform");
    if (!url || !*url)
        return cli_usage_error(cmd, "--url BASE is required (the %s's base URL)", role);
    if (platform && (!listen || !*listen))
        return cli_usage_error(cmd, "--role platform needs --listen ADDR: the suite plays the "
                                    "institution there");
    if (!platform && (listen || institution))
        return cli_usage_error(cmd, "--listen and --institution are for --role platform");
    if (platform && admin_url && (!institution || !*institution))
        return cli_usage_error(cmd, "--admin-url needs --institution NAME: the platform's name "
                                    "for the institution the suite plays");
    if (!admin_url != !admin_token)
        return cli_usage_error(cmd, "--admin-url and --admin-token go together");
    long long wait_s = 0;
    if (wait) {
        char *end = NULL;
        wait_s = strtoll(wait, &end, 10);
        if (end == wait || *end || wait_s <= 0 || wait_s > 86400)
            return cli_usage_error(cmd, "--wait must be a number of seconds, 1 to 86400");
    }

    conform c;
    memset(&c, 0, sizeof c);
    snprintf(c.url, sizeof c.url, "%s", url);
    for (size_t n = strlen(c.url); n > 0 && c.url[n - 1] == '/'; n--)
        c.url[n - 1] = '\0';
    c.admin_url = admin_url;
    c.role = platform ? "platform" : "institution";
    c.listen = listen;
    c.institution = institution;
    c.admin_token = admin_token;
    c.wait = wait_s;
    c.stdin_open = 1;
    if ((rc = cli_credentials(cmd, secret_flag, key_flag, appkey_flag, &c.cred)) != CLI_EXIT_OK)
        return rc;
    if (!c.cred.appkey) {
        bh_wipe(&c.cred.key, sizeof c.cred.key);
        return cli_usage_error(cmd, "the appkey is required: --appkey or $%s", CLI_ENV_APPKEY);
    }
    c.run_id = (long long)bh_time_now();
    c.pid = (long)getpid();
    const bh_client_options copts = {5000, 60000, (size_t)16 * 1024 * 1024, NULL};
    c.client = bh_client_new(&copts);
    if (!c.client) {
        bh_wipe(&c.cred.key, sizeof c.cred.key);
        return cli_internal(cmd, BH_ENOMEM);
    }

    if (platform)
        rc = conform_platform(cmd, &c);
    else
        conform_institution(&c);
    if (rc != CLI_EXIT_OK) {
        bh_client_free(c.client);
        free(c.results);
        bh_wipe(&c.cred.key, sizeof c.cred.key);
        return rc;
    }

    size_t passed = 0, skipped = 0;
    for (size_t i = 0; i < c.count; i++) {
        passed += c.results[i].pass != 0;
        skipped += c.results[i].skipped != 0;
    }
    if (c.oom) {
        rc = cli_internal(cmd, BH_ENOMEM);
    } else if (json ? !conform_print_json(&c, passed, skipped)
                    : (conform_print_table(&c, passed, skipped), 0)) {
        rc = cli_internal(cmd, BH_ENOMEM);
    } else {
        /* Skipped checks are not failures, but --wait asked for them to run;
         * against a platform nearly everything needs an application, so
         * there only a full pass is a pass. */
        int skip_ok = !skipped || (!c.wait && !platform);
        rc = passed + skipped == c.count && skip_ok ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
    }
    bh_client_free(c.client);
    free(c.results);
    bh_wipe(&c.cred.key, sizeof c.cred.key);
    return rc;
}

const cli_cmd cli_cmd_conform = {
    "conform",
    "test an implementation of the protocol over the network (conformance suite)",
    "usage: baohan conform --role institution --url BASE [--appkey A] [--appsecret S]\n"
    "                      [--key K] [--admin-url URL --admin-token T] [--wait SECONDS]\n"
    "                      [--json]\n"
    "       baohan conform --role platform --url BASE --listen ADDR [--appkey A]\n"
    "                      [--appsecret S] [--key K] [--admin-url URL --admin-token T\n"
    "                      --institution NAME] [--wait SECONDS] [--json]\n",
    "--role institution runs the conformance checks against the institution at\n"
    "BASE (POST BASE/INTERFACE): the happy path of baohanapply, idempotent retries,\n"
    "every required field missing in turn, wrong types and lengths, wrong,\n"
    "upper-case and missing signatures, unknown fields (platformcode, Zextra), JSON\n"
    "numbers, requestData form bodies, stale timestamps, an unknown appkey,\n"
    "undecryptable ciphertext, malformed JSON, a 2 MiB body, replays and the state\n"
    "rules; with an issued guarantee (admin API or --wait) also getbaohaninfo, its\n"
    "files and MD5s, claimsnotice and quitapply. Each check uses its own applyno\n"
    "(CF<time>-<pid>-<n>), so reruns do not collide.\n"
    "\n"
    "--role platform plays the institution: it serves baohanapply, getbaohaninfo\n"
    "(and its files), giveupnotice, quitapply and claimsnotice on --listen ADDR\n"
    "(the platform must have http://ADDR as the URL of the institution whose\n"
    "credentials are given), makes the platform send them through its admin API\n"
    "(or asks an operator to, with --wait), checks what arrives (body, appkey, SM3\n"
    "signature, timestamp, 密文 fields, required fields), that every file is\n"
    "downloaded and checked against its MD5, and sends baohannotice and quitnotice\n"
    "to BASE: happy path, rejection, retries, contradicting notices, every field\n"
    "missing, types and lengths, signatures, unknown fields, JSON numbers, form\n"
    "bodies, stale timestamps, an unknown appkey, malformed and oversized bodies,\n"
    "replays, notices for applications never sent, quitnotice before and after\n"
    "quitapply.\n"
    "\n"
    "Prints one line per check, PASS, FAIL or SKIPPED; a failure shows the rule of\n"
    "PROTOCOL.md it breaks, the request sent and the answer (each cut to 300\n"
    "bytes; secrets are never shown).\n"
    "\n"
    "Credentials are the pair the two sides agreed for the institution: options\n"
    "first, then $BAOHAN_APPKEY, $BAOHAN_APPSECRET and $BAOHAN_SM4_KEY.\n"
    "\n"
    "Options:\n"
    "  --role ROLE         the side under test: institution or platform\n"
    "  --url BASE          its base URL\n"
    "  --admin-url URL     baohand's admin API. Institution: the suite completes the\n"
    "  --admin-token T     bidder's page, records the premium and approves or rejects\n"
    "                      applications itself. Platform: it makes the platform send\n"
    "                      each request (POST /admin/platform/...)\n"
    "  --institution NAME  platform: the platform's name for the institution the\n"
    "                      suite plays (its [institution NAME] section)\n"
    "  --listen ADDR       platform: IPV4:PORT or localhost:PORT to serve the\n"
    "                      institution's interfaces on (port 0: any, printed)\n"
    "  --wait SECONDS      without an admin API: asks on stderr for an operator to\n"
    "                      act (institution: issue each guarantee and write its\n"
    "                      baohanno on stdin; platform: send each request it\n"
    "                      names); what does not happen in time is SKIPPED\n"
    "  --json              one JSON object: passed, failed and every check\n"
    "\n"
    "Exit status: 0 when no check fails (and, with --wait or --role platform,\n"
    "none was skipped); 1 otherwise; 2 for bad usage.\n"
    "\n"
    "Examples:\n"
    "  BAOHAN_APPSECRET=… BAOHAN_SM4_KEY=… \\\n"
    "    baohan conform --role institution --url https://fi.example.com/api --appkey FI001\n"
    "  baohan conform --role platform --url https://plat.example.com/api --appkey FI001 \\\n"
    "    --listen 10.0.0.5:9600 --admin-url http://127.0.0.1:8081 --admin-token … \\\n"
    "    --institution fi\n",
    run_conform,
};
