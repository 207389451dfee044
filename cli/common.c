/* Shared plumbing of the command line (see common.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void cli_print_help(const cli_cmd *cmd, FILE *f)
{
    fputs(cmd->synopsis, f);
    fputs("\n", f);
    fputs(cmd->help, f);
}

void cli_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "baohan %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "baohan %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fputs(cmd->synopsis, stderr);
    fprintf(stderr, "Run 'baohan %s --help' for more.\n", cmd->name);
    return CLI_EXIT_USAGE;
}

int cli_internal(const cli_cmd *cmd, bh_err err)
{
    cli_error(cmd, "internal error: %s", bh_strerror(err));
    return CLI_EXIT_INTERNAL;
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t len)
{
    for (; opts && opts->name; opts++)
        if (strlen(opts->name) == len && memcmp(opts->name, name, len) == 0)
            return opts;
    return NULL;
}

int cli_parse_args(const cli_cmd *cmd, int argc, char **argv, const cli_opt *opts, size_t minpos,
                   size_t maxpos, const char **pos, size_t *npos)
{
    int only_positional = 0;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && a[0] == '-' && a[1] != '\0') {
            if (strcmp(a, "--") == 0) {
                only_positional = 1;
                continue;
            }
            if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                cli_print_help(cmd, stdout);
                return CLI_EXIT_OK;
            }
            /* Only the option's name is ever echoed, never what follows '='. */
            const char *name = a[1] == '-' ? a + 2 : a + 1;
            size_t len = strcspn(name, "=");
            const cli_opt *o = a[1] == '-' ? find_opt(opts, name, len) : NULL;
            if (!o)
                return cli_usage_error(cmd, "unknown option '%.*s'",
                                       (int)(len + (size_t)(name - a)), a);
            if (o->value) {
                if (name[len] == '=')
                    *o->value = name + len + 1;
                else if (i + 1 < argc)
                    *o->value = argv[++i];
                else
                    return cli_usage_error(cmd, "option --%s needs a value", o->name);
            } else {
                if (name[len] == '=')
                    return cli_usage_error(cmd, "option --%s takes no value", o->name);
                *o->flag = 1;
            }
            continue;
        }
        if (*npos >= maxpos) {
            if (maxpos == 0)
                return cli_usage_error(cmd, "unexpected argument (this command takes none)");
            return cli_usage_error(cmd, "too many arguments (at most %zu)", maxpos);
        }
        pos[(*npos)++] = a;
    }
    if (*npos < minpos)
        return cli_usage_error(cmd, "missing argument");
    return CLI_CONTINUE;
}

void cli_print_problems(FILE *f, const char *prefix, const bh_diag *d)
{
    for (size_t i = 0; i < d->count; i++) {
        const bh_problem *p = &d->items[i];
        if (p->field && p->field[0])
            fprintf(f, "%s%s: %s\n", prefix, p->field, p->message);
        else
            fprintf(f, "%s%s\n", prefix, p->message);
    }
    if (d->dropped)
        fprintf(f, "%s(%zu more problems not shown: out of memory)\n", prefix, d->dropped);
}

int cli_secret(const cli_cmd *cmd, const char *flag_value, const char *flag, const char *env,
               const char **out)
{
    *out = NULL;
    if (flag_value) {
        if (!flag_value[0]) {
            cli_error(cmd, "--%s is empty", flag);
            return CLI_EXIT_USAGE;
        }
        *out = flag_value;
        return CLI_EXIT_OK;
    }
    const char *e = getenv(env);
    if (!e || !e[0]) {
        cli_error(cmd, "no %s: give --%s or set %s", flag, flag, env);
        return CLI_EXIT_USAGE;
    }
    *out = e;
    return CLI_EXIT_OK;
}

const char *cli_appkey(const char *flag_value)
{
    if (flag_value && flag_value[0])
        return flag_value;
    const char *e = getenv(CLI_ENV_APPKEY);
    return e && e[0] ? e : NULL;
}

int cli_sm4_key(const cli_cmd *cmd, const char *flag_value, bh_sm4_key *key)
{
    const char *text = NULL;
    int rc = cli_secret(cmd, flag_value, "key", CLI_ENV_SM4_KEY, &text);
    if (rc != CLI_EXIT_OK)
        return rc;
    /* The field named in the library's message is where the key came from. */
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_sm4_key_parse(text, key, &d, flag_value ? "--key" : CLI_ENV_SM4_KEY);
    if (err == BH_OK) {
        bh_diag_release(&d);
        return CLI_EXIT_OK;
    }
    bh_wipe(key, sizeof *key);
    if (d.count) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "baohan %s: ", cmd->name);
        cli_print_problems(stderr, prefix, &d);
    } else {
        cli_error(cmd, "%s: %s", flag_value ? "--key" : CLI_ENV_SM4_KEY, bh_strerror(err));
    }
    bh_diag_release(&d);
    return err == BH_EKEY ? CLI_EXIT_USAGE : cli_internal(cmd, err);
}

const char *cli_input_name(const char *path)
{
    return !path || strcmp(path, "-") == 0 ? "standard input" : path;
}

int cli_read_input(const cli_cmd *cmd, const char *path, size_t max, bh_buf *out)
{
    int from_stdin = !path || strcmp(path, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error(cmd, "cannot open %s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    bh_buf_init(out, max);
    bh_err err = bh_buf_read_file(out, f);
    int saved = errno;
    if (!from_stdin)
        fclose(f);
    if (err == BH_OK)
        return CLI_EXIT_OK;
    bh_buf_release(out);
    if (err == BH_ETOOBIG) {
        cli_error(cmd, "%s: input larger than %zu bytes", cli_input_name(path), max);
        return CLI_EXIT_USAGE;
    }
    if (err == BH_EIO) {
        cli_error(cmd, "cannot read %s: %s", cli_input_name(path), strerror(saved));
        return CLI_EXIT_USAGE;
    }
    return cli_internal(cmd, err);
}

int cli_read_request(const cli_cmd *cmd, const char *path, bh_msg **out)
{
    bh_buf in;
    *out = NULL;
    int rc = cli_read_input(cmd, path, BH_MSG_MAX_REQUEST, &in);
    if (rc != CLI_EXIT_OK)
        return rc;
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_msg_parse(in.data ? in.data : "", in.len, BH_MSG_MAX_REQUEST, 0, out, &d);
    bh_buf_release(&in);
    if (err == BH_OK) {
        bh_diag_release(&d);
        return CLI_EXIT_OK;
    }
    *out = NULL;
    if (err == BH_ENOMEM) {
        bh_diag_release(&d);
        return cli_internal(cmd, err);
    }
    char prefix[512];
    snprintf(prefix, sizeof prefix, "baohan %s: %s: ", cmd->name, cli_input_name(path));
    if (d.count || d.dropped)
        cli_print_problems(stderr, prefix, &d);
    else
        fprintf(stderr, "%s%s\n", prefix, bh_strerror(err));
    bh_diag_release(&d);
    return CLI_EXIT_USAGE;
}

void cli_strip_newline(bh_buf *b)
{
    if (b->len && b->data[b->len - 1] == '\n') {
        b->len--;
        if (b->len && b->data[b->len - 1] == '\r')
            b->len--;
        b->data[b->len] = '\0';
    }
}

int cli_find_iface(const cli_cmd *cmd, const char *name, const bh_iface **out)
{
    *out = bh_iface_find(name);
    if (*out)
        return CLI_EXIT_OK;
    cli_error(cmd, "unknown interface '%s'; the interfaces are:", name);
    for (size_t i = 0; i < bh_iface_count(); i++)
        fprintf(stderr, "  %s\n", bh_iface_at(i)->name);
    return CLI_EXIT_USAGE;
}

int cli_print_line(const cli_cmd *cmd, const char *text, size_t len)
{
    if ((len && fwrite(text, 1, len, stdout) != len) || putchar('\n') == EOF) {
        cli_error(cmd, "cannot write standard output");
        return CLI_EXIT_INTERNAL;
    }
    return CLI_EXIT_OK;
}

int cli_print_msg(const cli_cmd *cmd, const bh_msg *m, unsigned flags)
{
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    bh_err err = bh_msg_to_json(m, flags, &out);
    int rc = err ? cli_internal(cmd, err) : cli_print_line(cmd, out.data ? out.data : "", out.len);
    bh_buf_release(&out);
    return rc;
}

int cli_credentials(const cli_cmd *cmd, const char *secret_flag, const char *key_flag,
                    const char *appkey_flag, bh_credentials *cred)
{
    memset(cred, 0, sizeof *cred);
    cred->appkey = cli_appkey(appkey_flag);
    int rc = cli_secret(cmd, secret_flag, "appsecret", CLI_ENV_APPSECRET, &cred->appsecret);
    if (rc != CLI_EXIT_OK)
        return rc;
    return cli_sm4_key(cmd, key_flag, &cred->key);
}
