/* baohan seal / open: a whole request between plaintext and the wire
 * (validate, encrypt the 密文 fields, sign; and back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* The longest --window accepted: ten years. */
#define WINDOW_MAX ((int64_t)10 * 366 * 24 * 3600)

/* Failures of the library that are not about the request. */
static int is_internal(bh_err err)
{
    return err == BH_ENOMEM || err == BH_ECRYPTO || err == BH_EIO;
}

/* Prints a refused request's problems on stderr and returns the exit status. */
static int report(const cli_cmd *cmd, bh_err err, const bh_diag *d)
{
    if (d->count || d->dropped)
        cli_print_problems(stderr, "", d);
    if (is_internal(err))
        return cli_internal(cmd, err);
    if (!d->count && !d->dropped)
        cli_error(cmd, "%s", bh_strerror(err ? err : BH_EINVAL));
    return CLI_EXIT_REFUSED;
}

/* Parses --window: a decimal number of seconds. */
static int parse_window(const cli_cmd *cmd, const char *text, int64_t *out)
{
    size_t n = strlen(text);
    if (n == 0 || n > 12 || strspn(text, "0123456789") != n)
        return cli_usage_error(cmd, "--window must be a number of seconds");
    long long v = strtoll(text, NULL, 10);
    if (v > WINDOW_MAX)
        return cli_usage_error(cmd, "--window is over ten years");
    *out = (int64_t)v;
    return CLI_EXIT_OK;
}

static int run_seal(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_seal;
    const char *secret_flag = NULL, *key_flag = NULL, *appkey_flag = NULL, *ts_flag = NULL;
    const char *pos[2];
    size_t npos;
    int pretty = 0;
    const cli_opt opts[] = {
        {"appsecret", &secret_flag, NULL}, {"key", &key_flag, NULL},
        {"appkey", &appkey_flag, NULL},    {"timestamp", &ts_flag, NULL},
        {"pretty", NULL, &pretty},         {NULL, NULL, NULL},
    };
    int rc = cli_parse_args(cmd, argc, argv, opts, 1, 2, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    const bh_iface *iface;
    rc = cli_find_iface(cmd, pos[0], &iface);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (ts_flag) {
        bh_diag d = BH_DIAG_INIT;
        int64_t t;
        if (bh_time_parse(ts_flag, strlen(ts_flag), &t, &d, "--timestamp") != BH_OK) {
            cli_print_problems(stderr, "baohan seal: ", &d);
            bh_diag_release(&d);
            return CLI_EXIT_USAGE;
        }
        bh_diag_release(&d);
    }
    bh_credentials cred;
    rc = cli_credentials(cmd, secret_flag, key_flag, appkey_flag, &cred);
    if (rc != CLI_EXIT_OK)
        return rc;

    bh_msg *plain = NULL, *wire = NULL;
    bh_diag d = BH_DIAG_INIT;
    rc = cli_read_request(cmd, npos > 1 ? pos[1] : NULL, &plain);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ts_flag) {
        bh_err err = bh_msg_set_str(plain, "timestamp", ts_flag);
        if (err != BH_OK) {
            rc = cli_internal(cmd, err);
            goto out;
        }
    }
    bh_err err = bh_seal(iface, &cred, plain, bh_time_now(), &wire, &d);
    if (err != BH_OK)
        rc = report(cmd, err, &d);
    else
        rc = cli_print_msg(cmd, wire, pretty ? BH_JSON_PRETTY : 0u);
out:
    bh_wipe(&cred.key, sizeof cred.key);
    bh_diag_release(&d);
    bh_msg_free(plain);
    bh_msg_free(wire);
    return rc;
}

static int run_open(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_open;
    const char *secret_flag = NULL, *key_flag = NULL, *appkey_flag = NULL, *window_flag = NULL;
    const char *pos[2];
    size_t npos;
    int pretty = 0;
    int64_t window = 0;
    const cli_opt opts[] = {
        {"appsecret", &secret_flag, NULL}, {"key", &key_flag, NULL},
        {"appkey", &appkey_flag, NULL},    {"window", &window_flag, NULL},
        {"pretty", NULL, &pretty},         {NULL, NULL, NULL},
    };
    int rc = cli_parse_args(cmd, argc, argv, opts, 1, 2, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    const bh_iface *iface;
    rc = cli_find_iface(cmd, pos[0], &iface);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (window_flag) {
        rc = parse_window(cmd, window_flag, &window);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    bh_credentials cred;
    rc = cli_credentials(cmd, secret_flag, key_flag, appkey_flag, &cred);
    if (rc != CLI_EXIT_OK)
        return rc;

    bh_msg *wire = NULL, *plain = NULL;
    bh_diag d = BH_DIAG_INIT;
    rc = cli_read_request(cmd, npos > 1 ? pos[1] : NULL, &wire);
    if (rc != CLI_EXIT_OK)
        goto out;
    /* A server looks at the clock before the signature; report both. */
    bh_err first = BH_OK;
    if (window_flag)
        first = bh_check_timestamp(wire, bh_time_now(), window, &d);
    bh_err err = bh_open(iface, &cred, wire, &plain, &d);
    if (first == BH_OK)
        first = err;
    if (first != BH_OK)
        rc = report(cmd, is_internal(err) ? err : first, &d);
    else
        rc = cli_print_msg(cmd, plain, pretty ? BH_JSON_PRETTY : 0u);
out:
    bh_wipe(&cred.key, sizeof cred.key);
    bh_diag_release(&d);
    bh_msg_free(wire);
    bh_msg_free(plain);
    return rc;
}

const cli_cmd cli_cmd_seal = {
    "seal",
    "turn a plaintext request into a signed wire request",
    "usage: baohan seal INTERFACE [--appsecret S] [--key K] [--appkey A]\n"
    "                   [--timestamp \"yyyy-MM-dd HH:mm:ss\"] [--pretty] [FILE]\n",
    "Reads the plaintext JSON request of INTERFACE from FILE (standard input\n"
    "when FILE is absent or \"-\"), validates it against the interface's field\n"
    "table, encrypts its 密文 fields with the SM4 key, puts appkey and timestamp\n"
    "first (timestamp: --timestamp, else the request's own, else now in CST),\n"
    "signs it and prints the wire JSON. An invalid request is refused with exit\n"
    "status 1 and every problem on stderr, one a line: \"field: message\".\n"
    "\n"
    "Options:\n"
    "  --appsecret S  the appsecret (default: $BAOHAN_APPSECRET)\n"
    "  --key K        the SM4 key, 32 hex characters or Base64 of 16 bytes\n"
    "                 (default: $BAOHAN_SM4_KEY)\n"
    "  --appkey A     the appkey, used when the request has none; a request whose\n"
    "                 appkey differs is refused (default: $BAOHAN_APPKEY)\n"
    "  --timestamp T  the timestamp to send (CST), replacing the request's own\n"
    "  --pretty       indent the output, one field a line\n"
    "\n"
    "Run 'baohan interfaces' for the interface names and 'baohan interfaces NAME'\n"
    "for a field table.\n"
    "\n"
    "Example:\n"
    "  baohan seal baohanapply --appkey FI001 apply.plain.json > apply.json\n",
    run_seal,
};

const cli_cmd cli_cmd_open = {
    "open",
    "check and decrypt a received wire request",
    "usage: baohan open INTERFACE [--appsecret S] [--key K] [--appkey A]\n"
    "                   [--window SECONDS] [--pretty] [FILE]\n",
    "Reads a wire JSON request of INTERFACE from FILE (standard input when FILE\n"
    "is absent or \"-\"), verifies its signature, decrypts its 密文 fields,\n"
    "validates it and prints the plaintext JSON (appkey, timestamp and sign\n"
    "included). When the signature is wrong nothing else is looked at. A\n"
    "refused request exits 1 with every problem on stderr, one a line:\n"
    "\"field: message\"; unreadable or malformed input exits 2.\n"
    "\n"
    "Options:\n"
    "  --appsecret S     the appsecret (default: $BAOHAN_APPSECRET)\n"
    "  --key K           the SM4 key (default: $BAOHAN_SM4_KEY)\n"
    "  --appkey A        refuse a request whose appkey is not A\n"
    "                    (default: $BAOHAN_APPKEY; no check when neither is set)\n"
    "  --window SECONDS  also refuse a timestamp more than SECONDS away from now\n"
    "  --pretty          indent the output, one field a line\n"
    "\n"
    "Example:\n"
    "  baohan open baohanapply --window 300 apply.json\n",
    run_open,
};
