/* baohan encrypt / decrypt: one 密文 field value, PROTOCOL.md §5. */
#include <stdio.h>
#include <string.h>

#include "common.h"

/* The longest value accepted on standard input. */
#define CRYPT_INPUT_MAX BH_MSG_MAX_REQUEST

/* Parses the command line and the key, and reads standard input without its
 * one trailing newline. Returns CLI_CONTINUE when the command should go on
 * (`key` and `in` are then set), else the exit status (help was printed, or
 * an error). */
static int prepare(const cli_cmd *cmd, int argc, char **argv, bh_sm4_key *key, bh_buf *in)
{
    const char *key_flag = NULL;
    size_t npos;
    const cli_opt opts[] = {{"key", &key_flag, NULL}, {NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 0, NULL, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_sm4_key(cmd, key_flag, key);
    if (rc != CLI_EXIT_OK)
        return rc;
    rc = cli_read_input(cmd, NULL, CRYPT_INPUT_MAX, in);
    if (rc != CLI_EXIT_OK) {
        bh_wipe(key, sizeof *key);
        return rc;
    }
    cli_strip_newline(in);
    return CLI_CONTINUE;
}

static int run_encrypt(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_encrypt;
    bh_sm4_key key;
    bh_buf in, out;
    int rc = prepare(cmd, argc, argv, &key, &in);
    if (rc != CLI_CONTINUE)
        return rc;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    const char *text = in.data ? in.data : "";
    if (!bh_utf8_valid(text, in.len) || memchr(text, '\0', in.len)) {
        /* The receiver would refuse it (PROTOCOL.md §5), so refuse it here. */
        cli_error(cmd, "standard input is not valid UTF-8 text");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    bh_err err = bh_sm4_encrypt_field(&key, text, in.len, &out);
    if (err != BH_OK) {
        rc = cli_internal(cmd, err);
        goto out;
    }
    rc = cli_print_line(cmd, out.data, out.len);
out:
    bh_wipe(&key, sizeof key);
    bh_buf_wipe(&in);
    bh_buf_release(&out);
    return rc;
}

static int run_decrypt(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_decrypt;
    bh_sm4_key key;
    bh_buf in, out;
    int rc = prepare(cmd, argc, argv, &key, &in);
    if (rc != CLI_CONTINUE)
        return rc;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    bh_err err = bh_sm4_decrypt_field(&key, in.data ? in.data : "", in.len, &out);
    switch (err) {
    case BH_OK:
        rc = cli_print_line(cmd, out.data ? out.data : "", out.len);
        break;
    case BH_EBASE64:
        cli_error(cmd, "the ciphertext is not valid Base64");
        rc = CLI_EXIT_REFUSED;
        break;
    case BH_EDECRYPT:
        cli_error(cmd, "the ciphertext does not decrypt (wrong length or bad padding: "
                       "a wrong key, or not SM4 ciphertext)");
        rc = CLI_EXIT_REFUSED;
        break;
    case BH_EUTF8:
        cli_error(cmd, "the ciphertext decrypts to something that is not UTF-8 text "
                       "(a wrong key?)");
        rc = CLI_EXIT_REFUSED;
        break;
    default:
        rc = cli_internal(cmd, err);
        break;
    }
    bh_wipe(&key, sizeof key);
    bh_buf_release(&in);
    bh_buf_wipe(&out);
    return rc;
}

const cli_cmd cli_cmd_encrypt = {
    "encrypt",
    "encrypt one field value (SM4-ECB, PKCS#7, Base64)",
    "usage: baohan encrypt [--key K] < VALUE\n",
    "Reads one UTF-8 value from standard input and prints its ciphertext as a\n"
    "密文 field carries it: SM4-ECB with PKCS#7 padding, then standard Base64,\n"
    "and a newline (PROTOCOL.md section 5). Exactly one trailing newline (\"\\n\"\n"
    "or \"\\r\\n\") is removed from the input first, so `echo VALUE | baohan\n"
    "encrypt` and `printf %s VALUE | baohan encrypt` both encrypt VALUE; a value\n"
    "that itself ends in a newline needs one more.\n"
    "\n"
    "Options:\n"
    "  --key K  the SM4 key, 32 hexadecimal characters or Base64 of 16 bytes\n"
    "           (default: $BAOHAN_SM4_KEY)\n"
    "\n"
    "Example:\n"
    "  echo ZZ-2026-0001-01 | baohan encrypt --key 0123456789abcdeffedcba9876543210\n"
    "  AgpubKMdybsuh8jfX3SkCg==\n",
    run_encrypt,
};

const cli_cmd cli_cmd_decrypt = {
    "decrypt",
    "decrypt one field value",
    "usage: baohan decrypt [--key K] < CIPHERTEXT\n",
    "Reads one Base64 ciphertext from standard input (one trailing newline is\n"
    "removed) and prints the plaintext and a newline. Exits 1, saying why, when\n"
    "the text is not Base64, does not decrypt with the key, or is not UTF-8.\n"
    "\n"
    "Options:\n"
    "  --key K  the SM4 key, 32 hexadecimal characters or Base64 of 16 bytes\n"
    "           (default: $BAOHAN_SM4_KEY)\n"
    "\n"
    "Example:\n"
    "  echo AgpubKMdybsuh8jfX3SkCg== | baohan decrypt --key ASNFZ4mrze/+3LqYdlQyEA==\n"
    "  ZZ-2026-0001-01\n",
    run_decrypt,
};
