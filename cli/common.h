/* What every command needs: option parsing, reading the input, taking
 * secrets and keys from flags or the environment, and reporting problems.
 *
 * Every function that can fail prints its own message on stderr, prefixed
 * "baohan CMD: ", and returns the exit status the command should end with
 * (CLI_EXIT_OK when it did not fail). Secrets and keys are never printed. */
#ifndef BAOHAN_CLI_COMMON_H
#define BAOHAN_CLI_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include "baohan/baohan.h"
#include "cli.h"

/* Environment variables read where the flag is absent (the flag wins). */
#define CLI_ENV_APPSECRET "BAOHAN_APPSECRET"
#define CLI_ENV_SM4_KEY "BAOHAN_SM4_KEY"
#define CLI_ENV_APPKEY "BAOHAN_APPKEY"

/* cli_parse_args() returns this when the command should go on. */
#define CLI_CONTINUE (-1)

/* One long option. Options that take a value store a pointer into argv in
 * `*value`; flags set `*flag` to 1. Tables end with a NULL name. */
typedef struct cli_opt {
    const char *name; /* without the leading "--" */
    const char **value;
    int *flag;
} cli_opt;

/* Parses argv[1..]: "--name value", "--name=value", flags, "-h"/"--help",
 * "--" (everything after it is positional) and positional arguments, which
 * go into pos[] (at least `minpos`, at most `maxpos`; `*npos` says how many).
 * Options and positionals may be mixed. Returns CLI_CONTINUE, CLI_EXIT_OK
 * after printing help to stdout, or CLI_EXIT_USAGE after printing what was
 * wrong and the synopsis to stderr. Values of options are never echoed, nor
 * are unexpected positional arguments (one might be a misplaced secret). */
int cli_parse_args(const cli_cmd *cmd, int argc, char **argv, const cli_opt *opts, size_t minpos,
                   size_t maxpos, const char **pos, size_t *npos);

/* Prints the command's synopsis and help. */
void cli_print_help(const cli_cmd *cmd, FILE *f);

/* Prints "baohan CMD: message" and a newline on stderr. */
void cli_error(const cli_cmd *cmd, const char *fmt, ...) BH_PRINTF(2, 3);

/* Prints a usage error, the synopsis and a pointer to --help on stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...) BH_PRINTF(2, 3);

/* Reports an unexpected library failure (out of memory, crypto library)
 * and returns CLI_EXIT_INTERNAL. */
int cli_internal(const cli_cmd *cmd, bh_err err);

/* Prints every problem on `f`, one a line: "field: message", or just the
 * message when the problem concerns no field; each line after `prefix`
 * (may be ""). Mentions problems dropped for want of memory. */
void cli_print_problems(FILE *f, const char *prefix, const bh_diag *d);

/* Takes a secret from `flag_value` (the value of --`flag`) or else from the
 * environment variable `env`. Missing or empty: an error naming both places,
 * CLI_EXIT_USAGE. `*out` points into argv or the environment. */
int cli_secret(const cli_cmd *cmd, const char *flag_value, const char *flag, const char *env,
               const char **out);

/* The optional appkey: --appkey's value, else $BAOHAN_APPKEY, else NULL.
 * An empty value counts as absent. */
const char *cli_appkey(const char *flag_value);

/* Parses the SM4 key from --key's value or else $BAOHAN_SM4_KEY, in either
 * form of PROTOCOL.md §3. Missing or malformed: CLI_EXIT_USAGE, with a
 * message naming where the key came from, never the key itself. */
int cli_sm4_key(const cli_cmd *cmd, const char *flag_value, bh_sm4_key *key);

/* All three: the optional appkey, the appsecret and the SM4 key, from their
 * flags or else the environment (cli_appkey, cli_secret, cli_sm4_key). */
int cli_credentials(const cli_cmd *cmd, const char *secret_flag, const char *key_flag,
                    const char *appkey_flag, bh_credentials *cred);

/* A name for the input in messages: the path, or "standard input". */
const char *cli_input_name(const char *path);

/* Reads all of `path` (NULL or "-" for standard input) into `out`, which
 * must be initialised; `max` caps the size. CLI_EXIT_USAGE when the file
 * cannot be read or is larger. */
int cli_read_input(const cli_cmd *cmd, const char *path, size_t max, bh_buf *out);

/* Reads and parses a flat JSON request (at most BH_MSG_MAX_REQUEST bytes).
 * On success `*out` is a message the caller frees; otherwise every parse
 * problem is printed and CLI_EXIT_USAGE returned. */
int cli_read_request(const cli_cmd *cmd, const char *path, bh_msg **out);

/* Removes one trailing "\n" or "\r\n", if present, from the buffer. */
void cli_strip_newline(bh_buf *b);

/* The interface called `name`; unknown: an error listing the valid names,
 * CLI_EXIT_USAGE. */
int cli_find_iface(const cli_cmd *cmd, const char *name, const bh_iface **out);

/* Writes `len` bytes and then a newline to stdout. */
int cli_print_line(const cli_cmd *cmd, const char *text, size_t len);

/* Prints a message as one JSON line (BH_JSON_PRETTY in `flags`: indented);
 * an exit status. */
int cli_print_msg(const cli_cmd *cmd, const bh_msg *m, unsigned flags);

#endif
