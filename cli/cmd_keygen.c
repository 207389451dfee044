/* baohan keygen: fresh credentials for a counterpart, from the CSPRNG. */
#include <stdint.h>
#include <stdio.h>

#include "common.h"

#define APPKEY_BYTES 8     /* 16 hex characters */
#define APPSECRET_BYTES 32 /* 256 bits, 64 hex characters */

static int run_keygen(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_keygen;
    size_t npos;
    const cli_opt opts[] = {{NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 0, NULL, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = CLI_EXIT_OK;

    uint8_t appkey[APPKEY_BYTES], secret[APPSECRET_BYTES], key[BH_SM4_KEY_LEN];
    char appkey_hex[2 * APPKEY_BYTES + 1], secret_hex[2 * APPSECRET_BYTES + 1];
    char key_hex[2 * BH_SM4_KEY_LEN + 1];
    bh_err err = bh_random_bytes(appkey, sizeof appkey);
    if (err == BH_OK)
        err = bh_random_bytes(secret, sizeof secret);
    if (err == BH_OK)
        err = bh_random_bytes(key, sizeof key);
    if (err != BH_OK) {
        rc = cli_internal(cmd, err);
    } else {
        bh_hex_encode_to(appkey, sizeof appkey, 0, appkey_hex);
        bh_hex_encode_to(secret, sizeof secret, 0, secret_hex);
        bh_hex_encode_to(key, sizeof key, 0, key_hex);
        if (printf("appkey=%s\nappsecret=%s\nsm4key=%s\n", appkey_hex, secret_hex, key_hex) < 0) {
            cli_error(cmd, "cannot write standard output");
            rc = CLI_EXIT_INTERNAL;
        }
        bh_wipe(secret_hex, sizeof secret_hex);
        bh_wipe(key_hex, sizeof key_hex);
    }
    bh_wipe(secret, sizeof secret);
    bh_wipe(key, sizeof key);
    return rc;
}

const cli_cmd cli_cmd_keygen = {
    "keygen",
    "generate a new appkey, appsecret and SM4 key",
    "usage: baohan keygen\n",
    "Prints fresh credentials for one counterpart from the operating system's\n"
    "cryptographic random number generator, one a line:\n"
    "\n"
    "  appkey=<16 lower-case hex characters>\n"
    "  appsecret=<64 lower-case hex characters: 256 bits>\n"
    "  sm4key=<32 lower-case hex characters: the 16-byte SM4 key>\n"
    "\n"
    "The output is secret: write it straight to a file only you can read, e.g.\n"
    "  (umask 077; baohan keygen > fi001.keys)\n",
    run_keygen,
};
