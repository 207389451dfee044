/* baohan: the command line of libbaohan. Dispatches argv[1] to a command;
 * the commands live in cli/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "common.h"

static int run_help(int argc, char **argv);
static int run_version(int argc, char **argv);

static const cli_cmd cmd_help = {
    "help",
    "show the commands, or one command's help",
    "usage: baohan help [COMMAND]\n",
    "Without COMMAND, lists the commands; with it, prints its help (the same as\n"
    "`baohan COMMAND --help`).\n",
    run_help,
};

static const cli_cmd cmd_version = {
    "version",
    "print the version",
    "usage: baohan version\n",
    "Prints \"baohan\" and the version of the program and library.\n",
    run_version,
};

static const cli_cmd *const commands[] = {
    &cli_cmd_sign, &cli_cmd_verify,  &cli_cmd_canon,  &cli_cmd_encrypt,    &cli_cmd_decrypt,
    &cli_cmd_seal, &cli_cmd_open,    &cli_cmd_keygen, &cli_cmd_interfaces, &cli_cmd_selfcheck,
    &cli_cmd_send, &cli_cmd_conform, &cli_cmd_admin,  &cli_cmd_pki,        &cli_cmd_verify_pdf,
    &cmd_version,  &cmd_help,
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void usage(FILE *f)
{
    fputs("usage: baohan COMMAND [OPTIONS] [ARGUMENTS]\n"
          "\n"
          "The Zhangzhou e-guarantee docking protocol (V2.3) from the command line.\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-11s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\n"
          "Secrets come from options or the environment (an option wins):\n"
          "  BAOHAN_APPSECRET  the appsecret (--appsecret)\n"
          "  BAOHAN_SM4_KEY    the SM4 key, 32 hex characters or Base64 of 16 bytes (--key)\n"
          "  BAOHAN_APPKEY     the appkey (--appkey)\n"
          "\n"
          "Exit status: 0 success; 1 refused (wrong signature, invalid request,\n"
          "undecryptable value, failed self-check); 2 usage error or unusable input;\n"
          "3 internal error.\n"
          "\n"
          "Run 'baohan COMMAND --help' for a command's options.\n",
          f);
}

static int run_help(int argc, char **argv)
{
    const char *pos[1];
    size_t npos;
    const cli_opt opts[] = {{NULL, NULL, NULL}};
    int rc = cli_parse_args(&cmd_help, argc, argv, opts, 0, 1, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    if (npos == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    const cli_cmd *cmd = find_command(pos[0]);
    if (!cmd)
        return cli_usage_error(&cmd_help, "unknown command '%s'", pos[0]);
    cli_print_help(cmd, stdout);
    return CLI_EXIT_OK;
}

static int run_version(int argc, char **argv)
{
    size_t npos;
    const cli_opt opts[] = {{NULL, NULL, NULL}};
    int rc = cli_parse_args(&cmd_version, argc, argv, opts, 0, 0, NULL, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    printf("baohan %s\n", BAOHAN_VERSION);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        rc = CLI_EXIT_OK;
    } else if (strcmp(name, "--version") == 0) {
        rc = run_version(1, argv + 1);
    } else {
        const cli_cmd *cmd = find_command(name);
        if (!cmd) {
            fprintf(stderr, "baohan: unknown command '%s'\n\n", name);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        rc = cmd->run(argc - 1, argv + 1);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("baohan: cannot write standard output\n", stderr);
        if (rc == CLI_EXIT_OK)
            rc = CLI_EXIT_INTERNAL;
    }
    return rc;
}
