/* The baohan command line: what a command is, and the exit statuses every
 * command shares (docs/cli.md documents them for users).
 *
 * Each command lives in its own cli/cmd_*.c file and exports one cli_cmd;
 * cli/main.c holds the table and dispatches on argv[1]. A command's run()
 * gets argv with argv[0] being the command's name and returns the process
 * exit status; only main() turns it into the exit. */
#ifndef BAOHAN_CLI_H
#define BAOHAN_CLI_H

/* Exit statuses. */
enum {
    CLI_EXIT_OK = 0,      /* done; for verify: the signature is right */
    CLI_EXIT_REFUSED = 1, /* the answer is no: wrong signature, invalid request,
                             undecryptable value, failed self-check */
    CLI_EXIT_USAGE = 2,   /* bad command line, missing secret, bad key, unreadable
                             or unparseable input, unknown interface */
    CLI_EXIT_INTERNAL = 3 /* out of memory, crypto library failure, write error */
};

typedef struct cli_cmd {
    const char *name;     /* e.g. "sign" */
    const char *summary;  /* one line for `baohan help` */
    const char *synopsis; /* "usage: baohan sign ..." lines, newline-terminated */
    const char *help;     /* the rest of --help: description, options, examples */
    int (*run)(int argc, char **argv);
} cli_cmd;

extern const cli_cmd cli_cmd_sign;
extern const cli_cmd cli_cmd_verify;
extern const cli_cmd cli_cmd_canon;
extern const cli_cmd cli_cmd_encrypt;
extern const cli_cmd cli_cmd_decrypt;
extern const cli_cmd cli_cmd_seal;
extern const cli_cmd cli_cmd_open;
extern const cli_cmd cli_cmd_keygen;
extern const cli_cmd cli_cmd_interfaces;
extern const cli_cmd cli_cmd_selfcheck;
extern const cli_cmd cli_cmd_admin;
extern const cli_cmd cli_cmd_send;
extern const cli_cmd cli_cmd_conform;
extern const cli_cmd cli_cmd_pki;
extern const cli_cmd cli_cmd_verify_pdf;

#endif
