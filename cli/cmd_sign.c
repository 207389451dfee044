/* baohan sign / verify / canon: the SM3 request signature of PROTOCOL.md §4. */
#include <stdio.h>

#include "common.h"

static int run_sign(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_sign;
    const char *secret_flag = NULL, *secret = NULL, *pos[1];
    size_t npos;
    const cli_opt opts[] = {{"appsecret", &secret_flag, NULL}, {NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 1, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_secret(cmd, secret_flag, "appsecret", CLI_ENV_APPSECRET, &secret);
    if (rc != CLI_EXIT_OK)
        return rc;
    bh_msg *m = NULL;
    rc = cli_read_request(cmd, npos ? pos[0] : NULL, &m);
    if (rc != CLI_EXIT_OK)
        return rc;
    char sig[BH_SM3_HEX_LEN + 1];
    bh_err err = bh_sign_compute(m, secret, sig);
    bh_msg_free(m);
    if (err != BH_OK)
        return cli_internal(cmd, err);
    return cli_print_line(cmd, sig, BH_SM3_HEX_LEN);
}

static int run_verify(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_verify;
    const char *secret_flag = NULL, *secret = NULL, *pos[1];
    size_t npos;
    int quiet = 0;
    const cli_opt opts[] = {
        {"appsecret", &secret_flag, NULL}, {"quiet", NULL, &quiet}, {NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 1, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_secret(cmd, secret_flag, "appsecret", CLI_ENV_APPSECRET, &secret);
    if (rc != CLI_EXIT_OK)
        return rc;
    bh_msg *m = NULL;
    rc = cli_read_request(cmd, npos ? pos[0] : NULL, &m);
    if (rc != CLI_EXIT_OK)
        return rc;
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_sign_verify(m, secret, &d);
    bh_msg_free(m);
    switch (err) {
    case BH_OK:
        rc = quiet ? CLI_EXIT_OK : cli_print_line(cmd, "signature OK", 12);
        break;
    case BH_ESIGN:
    case BH_EMISSING:
    case BH_ETYPE:
    case BH_EFORMAT:
        if (d.count || d.dropped)
            cli_print_problems(stderr, "", &d);
        else
            fprintf(stderr, "sign: %s\n", bh_strerror(err));
        rc = CLI_EXIT_REFUSED;
        break;
    default:
        rc = cli_internal(cmd, err);
        break;
    }
    bh_diag_release(&d);
    return rc;
}

static int run_canon(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_canon;
    const char *pos[1];
    size_t npos;
    const cli_opt opts[] = {{NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 1, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    bh_msg *m = NULL;
    rc = cli_read_request(cmd, npos ? pos[0] : NULL, &m);
    if (rc != CLI_EXIT_OK)
        return rc;
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    bh_err err = bh_sign_string(m, NULL, &out);
    bh_msg_free(m);
    if (err == BH_OK)
        rc = cli_print_line(cmd, out.data ? out.data : "", out.len);
    else
        rc = cli_internal(cmd, err);
    bh_buf_release(&out);
    return rc;
}

const cli_cmd cli_cmd_sign = {
    "sign",
    "print the SM3 signature of a request",
    "usage: baohan sign [--appsecret S] [FILE]\n",
    "Prints the signature of the JSON request in FILE (standard input when FILE\n"
    "is absent or \"-\") as 64 lower-case hexadecimal characters and a newline.\n"
    "Any \"sign\" field in the request is ignored (PROTOCOL.md section 4).\n"
    "\n"
    "Options:\n"
    "  --appsecret S  the appsecret (default: $BAOHAN_APPSECRET)\n"
    "\n"
    "Example:\n"
    "  BAOHAN_APPSECRET=s3cr3t-FI001 baohan sign request.json\n",
    run_sign,
};

const cli_cmd cli_cmd_verify = {
    "verify",
    "check the signature of a request",
    "usage: baohan verify [--appsecret S] [--quiet] [FILE]\n",
    "Checks the \"sign\" field of the JSON request in FILE (standard input when\n"
    "FILE is absent or \"-\"); upper- or lower-case hexadecimal is accepted.\n"
    "Prints \"signature OK\" and exits 0 when it is right; prints the problem\n"
    "(e.g. \"sign: signature mismatch\") on stderr and exits 1 when it is wrong\n"
    "or missing; exits 2 when the input cannot be read or parsed.\n"
    "\n"
    "Options:\n"
    "  --appsecret S  the appsecret (default: $BAOHAN_APPSECRET)\n"
    "  --quiet        print nothing on success\n",
    run_verify,
};

const cli_cmd cli_cmd_canon = {
    "canon",
    "print the string a request's signature is computed over",
    "usage: baohan canon [FILE]\n",
    "Prints the exact string that is hashed to sign the JSON request in FILE\n"
    "(standard input when FILE is absent or \"-\"), with the secret shown as\n"
    "\"&appsecret=***\", and a newline. Useful to compare with a counterpart's\n"
    "string when signatures disagree.\n",
    run_canon,
};
