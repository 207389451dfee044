/* baohand's configuration file (see daemon/config.h and
 * docs/internals/config.md).
 *
 * inih splits lines into sections and NAME = VALUE pairs; everything else is
 * ours. inih as packaged does not pass line numbers to its handler, folds an
 * indented line into the previous value, silently splits lines longer than
 * its buffer and reports only the first malformed line. So the file is read
 * into memory and fed to inih through our own line reader, which numbers the
 * lines, refuses what inih would misread (over-long, indented, NUL bytes,
 * malformed section headers) before inih sees it, and notices a line that
 * should have produced a setting but did not. Every problem is collected;
 * nothing stops at the first. */
#define _DEFAULT_SOURCE /* realpath() */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "http.h"
#include "banned.h"

/* A configuration file is small; anything bigger is a mistake. */
#define FILE_MAX ((size_t)1024 * 1024)
#define NAME_MAX_LEN 64 /* a counterpart's NAME */
#define APPKEY_MAX 64   /* the schema's limit for appkey */
#define SECRET_MAX 256
#define TEXT_MAX 200 /* the schema's limit for names of organisations and banks */
#define URL_MAX 2048
#define TOKEN_MIN 16    /* the admin token: long enough not to be guessed */
#define BAOHANNO_MAX 64 /* the schema's limit for baohanno */
#define MAX_BODY_MIN ((size_t)1024)

enum section {
    SEC_NONE,   /* before the first header */
    SEC_IGNORE, /* a malformed, unknown or repeated header: its settings are skipped */
    SEC_SERVER,
    SEC_ADMIN,
    SEC_INSTITUTION,
    SEC_OUTBOX,
    SEC_SIGNING,
    SEC_PEER, /* [platform NAME] or [institution NAME] */
    SEC_COUNT
};

static const char *const section_name[SEC_COUNT] = {
    [SEC_SERVER] = "server",
    [SEC_ADMIN] = "admin",
    [SEC_INSTITUTION] = "institution",
    [SEC_OUTBOX] = "outbox",
    [SEC_SIGNING] = "signing",
};

enum key {
    K_LISTEN,
    K_PUBLIC_URL,
    K_DATA_DIR,
    K_STORE,
    K_TIMESTAMP_WINDOW,
    K_MAX_BODY,
    K_THREADS,
    K_CONNECTIONS,
    K_ROLE,
    K_ADMIN_LISTEN,
    K_ADMIN_TOKEN,
    K_INST_NAME,
    K_INST_BANK,
    K_INST_ACCOUNT_NAME,
    K_INST_ACCOUNT_NO,
    K_PREMIUM_RATE,
    K_MIN_PREMIUM,
    K_BAOHANNO_PATTERN,
    K_UNDERWRITING,
    K_AUTO_MAX_AMOUNT,
    K_RETRY_BASE,
    K_RETRY_MAX,
    K_FLAG_AFTER,
    K_SIGN_CERT,
    K_SIGN_KEY,
    K_SIGN_CHAIN,
    K_SIGN_ALLOW_UNSIGNED,
    K_FIXED_COUNT, /* keys below are per counterpart */
    K_APPKEY = K_FIXED_COUNT,
    K_APPSECRET,
    K_SM4_KEY,
    K_URL,
    K_COUNT
};
#define PEER_KEYS (K_COUNT - K_FIXED_COUNT)

static const struct keydef {
    enum section sec;
    const char *name;
    int secret; /* holding it makes the file's permissions matter */
} keys[K_COUNT] = {
    [K_LISTEN] = {SEC_SERVER, "listen", 0},
    [K_PUBLIC_URL] = {SEC_SERVER, "public_url", 0},
    [K_DATA_DIR] = {SEC_SERVER, "data_dir", 0},
    [K_STORE] = {SEC_SERVER, "store", 0},
    [K_TIMESTAMP_WINDOW] = {SEC_SERVER, "timestamp_window", 0},
    [K_MAX_BODY] = {SEC_SERVER, "max_body", 0},
    [K_THREADS] = {SEC_SERVER, "threads", 0},
    [K_CONNECTIONS] = {SEC_SERVER, "connections", 0},
    [K_ROLE] = {SEC_SERVER, "role", 0},
    [K_ADMIN_LISTEN] = {SEC_ADMIN, "listen", 0},
    [K_ADMIN_TOKEN] = {SEC_ADMIN, "token", 1},
    [K_INST_NAME] = {SEC_INSTITUTION, "name", 0},
    [K_INST_BANK] = {SEC_INSTITUTION, "bank", 0},
    [K_INST_ACCOUNT_NAME] = {SEC_INSTITUTION, "account_name", 0},
    [K_INST_ACCOUNT_NO] = {SEC_INSTITUTION, "account_no", 0},
    [K_PREMIUM_RATE] = {SEC_INSTITUTION, "premium_rate", 0},
    [K_MIN_PREMIUM] = {SEC_INSTITUTION, "min_premium", 0},
    [K_BAOHANNO_PATTERN] = {SEC_INSTITUTION, "baohanno_pattern", 0},
    [K_UNDERWRITING] = {SEC_INSTITUTION, "underwriting", 0},
    [K_AUTO_MAX_AMOUNT] = {SEC_INSTITUTION, "auto_max_amount", 0},
    [K_RETRY_BASE] = {SEC_OUTBOX, "retry_base", 0},
    [K_RETRY_MAX] = {SEC_OUTBOX, "retry_max", 0},
    [K_FLAG_AFTER] = {SEC_OUTBOX, "flag_after", 0},
    [K_SIGN_CERT] = {SEC_SIGNING, "cert", 0},
    [K_SIGN_KEY] = {SEC_SIGNING, "key", 0},
    [K_SIGN_CHAIN] = {SEC_SIGNING, "chain", 0},
    [K_SIGN_ALLOW_UNSIGNED] = {SEC_SIGNING, "allow_unsigned", 0},
    [K_APPKEY] = {SEC_PEER, "appkey", 0},
    [K_APPSECRET] = {SEC_PEER, "appsecret", 1},
    [K_SM4_KEY] = {SEC_PEER, "sm4_key", 1},
    [K_URL] = {SEC_PEER, "url", 0},
};

/* A counterpart section while it is read. */
struct peer {
    int line;            /* of its header */
    int platform;        /* 1: [platform NAME], 0: [institution NAME] */
    int seen[PEER_KEYS]; /* line of each setting, 0 when absent */
};

/* What a line handed to inih is. */
enum line_kind { LINE_OTHER, LINE_PAIR };

struct parser {
    const char *path;
    bh_config *c;
    bh_diag *d;
    int failed;

    /* The line reader. */
    const char *data;
    size_t len, pos;
    int line;            /* number of the line last handed to inih */
    enum line_kind kind; /* of that line */
    int handled;         /* inih called us for it */

    /* Where we are. */
    enum section sec;
    size_t peer;             /* index into c->counterparts when sec == SEC_PEER */
    int sec_line[SEC_COUNT]; /* header line of each fixed section, 0: absent */
    int seen[K_FIXED_COUNT]; /* line of each fixed setting, 0: absent */
    int has_secret;
    struct peer *peers; /* parallel to c->counterparts */
    size_t npeers_cap;
};

/* ---- reporting ---- */

BH_PRINTF(4, 5)
static void problem(struct parser *p, bh_err code, int line, const char *fmt, ...)
{
    char field[PATH_MAX + 16];
    if (line > 0)
        snprintf(field, sizeof(field), "%s:%d", p->path, line);
    else
        snprintf(field, sizeof(field), "%s", p->path);
    va_list ap;
    va_start(ap, fmt);
    bh_diag_addv(p->d, code, field, fmt, ap);
    va_end(ap);
    p->failed = 1;
}

/* "server.listen" or "platform.NAME.appkey": how messages name a setting. */
static void label(const struct parser *p, enum key k, char *out, size_t n)
{
    if (keys[k].sec == SEC_PEER) {
        const struct peer *pe = &p->peers[p->peer];
        snprintf(out, n, "%s.%s.%s", pe->platform ? "platform" : "institution",
                 p->c->counterparts[p->peer].name, keys[k].name);
    } else {
        snprintf(out, n, "%s.%s", section_name[keys[k].sec], keys[k].name);
    }
}

/* Copies text from the file into a message, keeping it on one printable line. */
static void printable(const char *s, size_t len, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (len > 0 && o + 4 >= n && o >= 3) {
        out[o - 3] = out[o - 2] = out[o - 1] = '.';
    }
    out[o] = '\0';
}

/* ---- value checks: each returns NULL or the rule the value breaks ---- */

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* A whole number in [min, max], ASCII digits only: 0, or -1 when it is not. */
static int parse_int(const char *v, int64_t min, int64_t max, int64_t *out)
{
    int64_t n = 0;
    if (!*v)
        return -1;
    for (const char *s = v; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*s - '0');
    }
    if (n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* An http or https URL with a host, no query, fragment, user or spaces; a
 * trailing '/' is dropped (the interface name is appended after one). */
static const char *check_url(char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return "is empty";
    if (n > URL_MAX)
        return "is longer than 2048 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return "must not contain spaces, control or non-ASCII characters "
                   "(percent-encode them)";
    }
    const char *rest;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    else
        return "must start with http:// or https://";
    size_t hlen = strcspn(rest, "/");
    if (hlen == 0)
        return "has no host after the scheme";
    if (memchr(rest, '@', hlen))
        return "must not carry a user name or password";
    if (strpbrk(v, "?#"))
        return "must not have a query (?) or fragment (#)";
    /* An explicit port must be a number from 1 to 65535. */
    const char *host_end = rest + hlen;
    const char *colon = NULL;
    if (rest[0] == '[') {
        const char *close = memchr(rest, ']', hlen);
        if (!close)
            return "has an IPv6 host without its closing ]";
        if (close + 1 < host_end) {
            if (close[1] != ':')
                return "has text after the IPv6 host that is not :PORT";
            colon = close + 1;
        }
    } else {
        colon = memchr(rest, ':', hlen);
        if (colon == rest)
            return "has no host after the scheme";
    }
    if (colon) {
        long port = 0;
        const char *s = colon + 1;
        if (s == host_end || host_end - s > 5)
            return "has a port that is not a number from 1 to 65535";
        for (; s < host_end; s++) {
            if (*s < '0' || *s > '9')
                return "has a port that is not a number from 1 to 65535";
            port = port * 10 + (*s - '0');
        }
        if (port < 1 || port > 65535)
            return "has a port that is not a number from 1 to 65535";
    }
    while (n > 0 && v[n - 1] == '/' && v + n - 1 >= rest + hlen)
        v[--n] = '\0';
    return NULL;
}

/* Printable text without control characters, valid UTF-8, 1..max bytes. */
static const char *check_text(const char *v, size_t max)
{
    size_t n = strlen(v);
    if (n == 0)
        return "is empty";
    if (n > max)
        return "is too long";
    if (has_control(v))
        return "must not contain control characters";
    if (!bh_utf8_valid(v, n))
        return "is not valid UTF-8";
    return NULL;
}

/* An identifier on the wire (appkey) or a name in a section header. */
static const char *check_id(const char *v, size_t max)
{
    size_t n = strlen(v);
    if (n == 0)
        return "is empty";
    if (n > max)
        return "is too long";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return "must be printable ASCII without spaces";
    }
    return NULL;
}

/* Bank account numbers: digits, with spaces or '-' as separators. */
static const char *check_account_no(const char *v)
{
    size_t digits = 0;
    for (const char *s = v; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s != ' ' && *s != '-')
            return "must be digits, optionally grouped with spaces or '-'";
    }
    if (digits == 0)
        return "must be digits, optionally grouped with spaces or '-'";
    if (strlen(v) > APPKEY_MAX)
        return "is longer than 64 characters";
    return NULL;
}

/* Guarantee-number patterns: letters, digits, '-' and '_', with the
 * placeholders {yyyy} {yy} {MM} {dd} and exactly one {seq:N} (N from 1 to 12
 * digits, zero-padded); at most 64 characters once expanded. */
static const char *check_pattern(const char *v)
{
    size_t out = 0;
    int seqs = 0;
    if (!*v)
        return "is empty";
    for (const char *s = v; *s;) {
        if (*s == '{') {
            const char *close = strchr(s, '}');
            if (!close)
                return "has a '{' without its '}'";
            size_t n = (size_t)(close - s - 1);
            const char *in = s + 1;
            if (n == 4 && memcmp(in, "yyyy", 4) == 0) {
                out += 4;
            } else if (n == 2 && (memcmp(in, "yy", 2) == 0 || memcmp(in, "MM", 2) == 0 ||
                                  memcmp(in, "dd", 2) == 0)) {
                out += 2;
            } else if (n >= 5 && memcmp(in, "seq:", 4) == 0) {
                int width = 0;
                for (const char *w = in + 4; w < close; w++) {
                    if (*w < '0' || *w > '9' || width > 12)
                        return "has {seq:N} where N is not a number from 1 to 12";
                    width = width * 10 + (*w - '0');
                }
                if (width < 1 || width > 12)
                    return "has {seq:N} where N is not a number from 1 to 12";
                out += (size_t)width;
                seqs++;
            } else {
                return "has an unknown placeholder; use {yyyy} {yy} {MM} {dd} {seq:N}";
            }
            s = close + 1;
            continue;
        }
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return "may hold only letters, digits, '-', '_' and placeholders";
        out++;
        s++;
    }
    if (seqs != 1)
        return "must contain exactly one {seq:N} so that numbers are unique";
    if (out > BAOHANNO_MAX)
        return "expands to more than 64 characters";
    return NULL;
}

/* ---- paths ---- */

/* The directory holding the configuration file, absolute and resolved. */
static char *config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    char resolved[PATH_MAX];
    if (!realpath(dir, resolved))
        return NULL;
    return strdup(resolved);
}

/* `value` if absolute, else `base`/`value`. Leading "./" and "../" of the
 * value are applied to `base` by text, which is exact because `base` is
 * already resolved (no symbolic links); later components are kept as written. */
static char *resolve_path(const char *base, const char *value)
{
    if (value[0] == '/') {
        char *copy = strdup(value);
        size_t n = copy ? strlen(copy) : 0;
        while (n > 1 && copy[n - 1] == '/')
            copy[--n] = '\0';
        return copy;
    }
    size_t blen = strlen(base);
    const char *v = value;
    for (;;) {
        if (strncmp(v, "./", 2) == 0) {
            v += 2;
        } else if (strcmp(v, ".") == 0) {
            v += 1;
        } else if (strncmp(v, "../", 3) == 0 || strcmp(v, "..") == 0) {
            while (blen > 1 && base[blen - 1] != '/')
                blen--;
            if (blen > 1)
                blen--; /* the slash, unless it is the root's */
            v += v[2] == '/' ? 3 : 2;
        } else {
            break;
        }
        while (*v == '/')
            v++;
    }
    size_t vlen = strlen(v);
    while (vlen > 0 && v[vlen - 1] == '/')
        vlen--;
    int root = blen == 1 && base[0] == '/';
    size_t total = blen + 1 + vlen + 1;
    char *out = malloc(total);
    if (!out)
        return NULL;
    if (vlen == 0)
        snprintf(out, total, "%.*s", (int)blen, base);
    else
        snprintf(out, total, "%.*s%s%.*s", (int)blen, base, root ? "" : "/", (int)vlen, v);
    return out;
}

/* ---- settings ---- */

static void set_string(struct parser *p, char **slot, const char *v, int line)
{
    char *copy = strdup(v);
    if (!copy) {
        problem(p, BH_ENOMEM, line, "out of memory");
        return;
    }
    if (*slot) {
        bh_wipe(*slot, strlen(*slot));
        free(*slot);
    }
    *slot = copy;
}

/* Parses with a library parser that reports on its own field, and reports
 * again with our field and the setting's name. */
static void relay(struct parser *p, bh_diag *tmp, bh_err code, int line, const char *name)
{
    const char *msg = tmp->count ? tmp->items[0].message : bh_strerror(code);
    problem(p, code, line, "%s: %s", name, msg);
    bh_diag_release(tmp);
}

static void set_fixed(struct parser *p, enum key k, const char *v, int line, const char *name)
{
    bh_config *c = p->c;
    const char *rule = NULL;
    bh_err code = BH_EFORMAT;
    int64_t n = 0;

    switch (k) {
    case K_LISTEN:
    case K_ADMIN_LISTEN:
        if (bh_http_listen_check(v, &rule) == BH_OK)
            set_string(p, k == K_LISTEN ? &c->listen : &c->admin_listen, v, line);
        break;
    case K_PUBLIC_URL: {
        char *copy = strdup(v);
        if (!copy) {
            rule = "cannot be stored: out of memory";
            code = BH_ENOMEM;
        } else if ((rule = check_url(copy)) == NULL) {
            free(c->public_url);
            c->public_url = copy;
        } else {
            free(copy);
        }
        break;
    }
    case K_DATA_DIR:
    case K_STORE:
    case K_SIGN_CERT:
    case K_SIGN_KEY:
    case K_SIGN_CHAIN:
        if (!*v)
            rule = "is empty";
        else if (has_control(v))
            rule = "must not contain control characters";
        else if (strlen(v) >= PATH_MAX)
            rule = "is longer than a path may be";
        else
            set_string(p, k == K_DATA_DIR    ? &c->data_dir
                          : k == K_STORE     ? &c->store
                          : k == K_SIGN_CERT ? &c->sign_cert
                          : k == K_SIGN_KEY  ? &c->sign_key
                                             : &c->sign_chain,
                       v, line);
        break;
    case K_SIGN_ALLOW_UNSIGNED:
        if (strcmp(v, "yes") == 0)
            c->sign_allow_unsigned = 1;
        else if (strcmp(v, "no") == 0)
            c->sign_allow_unsigned = 0;
        else
            rule = "must be yes or no";
        break;
    case K_TIMESTAMP_WINDOW:
        if (parse_int(v, 1, 86400, &n))
            rule = "must be a whole number of seconds from 1 to 86400", code = BH_ERANGE;
        else
            c->timestamp_window = n;
        break;
    case K_MAX_BODY:
        if (parse_int(v, (int64_t)MAX_BODY_MIN, (int64_t)BH_BUF_MAX_DEFAULT, &n))
            rule = "must be a whole number of bytes from 1024 to 67108864", code = BH_ERANGE;
        else
            c->max_body = (size_t)n;
        break;
    case K_THREADS:
        if (parse_int(v, 0, 4096, &n))
            rule = "must be a whole number from 0 (automatic) to 4096", code = BH_ERANGE;
        else
            c->threads = (int)n;
        break;
    case K_CONNECTIONS:
        if (parse_int(v, 0, 65536, &n))
            rule = "must be a whole number from 0 (automatic) to 65536", code = BH_ERANGE;
        else
            c->connections = (int)n;
        break;
    case K_ROLE:
        if (strcmp(v, "institution") == 0)
            c->role = BH_ROLE_INSTITUTION;
        else if (strcmp(v, "platform") == 0)
            c->role = BH_ROLE_PLATFORM;
        else
            rule = "must be institution or platform";
        break;
    case K_ADMIN_TOKEN: {
        size_t len = strlen(v);
        int ok = len >= TOKEN_MIN && len <= SECRET_MAX;
        for (size_t i = 0; ok && i < len; i++)
            ok = (unsigned char)v[i] > 0x20 && (unsigned char)v[i] < 0x7f;
        if (ok)
            set_string(p, &c->admin_token, v, line);
        else
            rule = "must be 16 to 256 printable ASCII characters without spaces "
                   "(e.g. the output of: openssl rand -hex 32)";
        break;
    }
    case K_INST_NAME:
    case K_INST_BANK:
    case K_INST_ACCOUNT_NAME: {
        char **slot = k == K_INST_NAME   ? &c->inst_name
                      : k == K_INST_BANK ? &c->inst_bank
                                         : &c->inst_account_name;
        if ((rule = check_text(v, TEXT_MAX)) == NULL)
            set_string(p, slot, v, line);
        break;
    }
    case K_INST_ACCOUNT_NO:
        if ((rule = check_account_no(v)) == NULL)
            set_string(p, &c->inst_account_no, v, line);
        break;
    case K_PREMIUM_RATE: {
        bh_diag tmp = BH_DIAG_INIT;
        bh_rate r;
        code = bh_rate_parse(v, strlen(v), &r, &tmp, name);
        if (code == BH_OK)
            c->premium_rate = r;
        else
            relay(p, &tmp, code, line, name);
        return;
    }
    case K_MIN_PREMIUM:
    case K_AUTO_MAX_AMOUNT: {
        bh_diag tmp = BH_DIAG_INIT;
        int64_t fen;
        code = bh_money_parse(v, strlen(v), &fen, &tmp, name);
        if (code == BH_OK)
            *(k == K_MIN_PREMIUM ? &c->min_premium_fen : &c->auto_max_amount_fen) = fen;
        else
            relay(p, &tmp, code, line, name);
        return;
    }
    case K_BAOHANNO_PATTERN:
        if ((rule = check_pattern(v)) == NULL)
            set_string(p, &c->baohanno_pattern, v, line);
        break;
    case K_UNDERWRITING:
        if (strcmp(v, "manual") == 0)
            c->underwriting = BH_UNDERWRITE_MANUAL;
        else if (strcmp(v, "auto") == 0)
            c->underwriting = BH_UNDERWRITE_AUTO;
        else
            rule = "must be manual or auto";
        break;
    case K_RETRY_BASE:
        if (parse_int(v, 1, 86400000, &n))
            rule = "must be a whole number of milliseconds from 1 to 86400000", code = BH_ERANGE;
        else
            c->retry_base_ms = n;
        break;
    case K_RETRY_MAX:
        if (parse_int(v, 1, 604800000, &n))
            rule = "must be a whole number of milliseconds from 1 to 604800000 (7 days)",
            code = BH_ERANGE;
        else
            c->retry_max_ms = n;
        break;
    case K_FLAG_AFTER:
        if (parse_int(v, 1, 31536000, &n))
            rule = "must be a whole number of seconds from 1 to 31536000 (a year)",
            code = BH_ERANGE;
        else
            c->flag_after = n;
        break;
    default:
        break;
    }
    if (rule)
        problem(p, code, line, "%s: %s", name, rule);
}

static void set_peer(struct parser *p, enum key k, const char *v, int line, const char *name)
{
    bh_counterpart *cp = &p->c->counterparts[p->peer];
    const char *rule = NULL;
    switch (k) {
    case K_APPKEY:
        if ((rule = check_id(v, APPKEY_MAX)) == NULL)
            set_string(p, &cp->appkey, v, line);
        break;
    case K_APPSECRET: {
        size_t len = strlen(v);
        if (len == 0)
            rule = "is empty";
        else if (len > SECRET_MAX)
            rule = "is longer than 256 characters";
        else if (has_control(v) || !bh_utf8_valid(v, len))
            rule = "must be UTF-8 text without control characters";
        else
            set_string(p, &cp->appsecret, v, line);
        break;
    }
    case K_SM4_KEY: {
        bh_diag tmp = BH_DIAG_INIT;
        bh_sm4_key key;
        bh_err e = bh_sm4_key_parse(v, &key, &tmp, name);
        if (e == BH_OK)
            cp->key = key;
        else
            relay(p, &tmp, e, line, name);
        bh_wipe(&key, sizeof(key));
        return;
    }
    case K_URL: {
        char *copy = strdup(v);
        if (!copy) {
            problem(p, BH_ENOMEM, line, "%s: out of memory", name);
            return;
        }
        if ((rule = check_url(copy)) == NULL) {
            free(cp->url);
            cp->url = copy;
        } else {
            free(copy);
        }
        break;
    }
    default:
        break;
    }
    if (rule)
        problem(p, BH_EFORMAT, line, "%s: %s", name, rule);
}

/* inih's callback: one NAME = VALUE. The section is our own reader's. */
static int on_setting(void *user, const char *section, const char *name, const char *value)
{
    struct parser *p = user;
    (void)section;
    int line = p->line;
    p->handled = 1;
    /* By name, whatever the section: a secret in a refused section is still
     * in the file. */
    for (int i = 0; i < K_COUNT; i++)
        if (keys[i].secret && strcmp(keys[i].name, name) == 0)
            p->has_secret = 1;
    if (p->sec == SEC_IGNORE)
        return 1;
    if (p->sec == SEC_NONE) {
        problem(p, BH_EFORMAT, line, "a setting before any [section] header");
        return 1;
    }

    enum key k = K_COUNT;
    for (int i = 0; i < K_COUNT; i++) {
        if (keys[i].sec == p->sec && strcmp(keys[i].name, name) == 0) {
            k = (enum key)i;
            break;
        }
    }
    if (k == K_COUNT) {
        /* The name is quoted only when it looks like a name: a line such as
         * "appsecret s3cr3t = x" must not put the secret in a message. */
        char shown[48];
        size_t nlen = strlen(name);
        int plain = nlen > 0 && nlen < sizeof(shown);
        for (size_t i = 0; plain && i < nlen; i++)
            plain = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
                    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-' ||
                    name[i] == '.';
        if (plain)
            printable(name, nlen, shown, sizeof(shown));
        else
            snprintf(shown, sizeof(shown), "(a name with spaces or symbols)");
        if (p->sec == SEC_PEER) {
            const struct peer *pe = &p->peers[p->peer];
            problem(p, BH_ENOTFOUND, line,
                    "unknown setting \"%s\" in [%s %s]; known: appkey, appsecret, sm4_key, url",
                    shown, pe->platform ? "platform" : "institution",
                    p->c->counterparts[p->peer].name);
        } else {
            problem(p, BH_ENOTFOUND, line, "unknown setting \"%s\" in [%s]", shown,
                    section_name[p->sec]);
        }
        return 1;
    }
    char lab[NAME_MAX_LEN + 48];
    label(p, k, lab, sizeof(lab));
    int *seen = k < K_FIXED_COUNT ? &p->seen[k] : &p->peers[p->peer].seen[k - K_FIXED_COUNT];
    if (*seen) {
        problem(p, BH_EDUPKEY, line, "%s is set twice (first at line %d); keep one", lab, *seen);
        return 1;
    }
    *seen = line;
    if (k < K_FIXED_COUNT)
        set_fixed(p, k, value, line, lab);
    else
        set_peer(p, k, value, line, lab);
    return 1;
}

/* ---- the line reader ---- */

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* A section header: "[server]", "[platform NAME]", "[institution NAME]".
 * Sets p->sec (SEC_IGNORE when it is refused). */
static void on_header(struct parser *p, const char *s, size_t len)
{
    int line = p->line;
    p->sec = SEC_IGNORE;
    const char *close = memchr(s, ']', len);
    if (!close) {
        problem(p, BH_EFORMAT, line, "a section header must end with ']'");
        return;
    }
    for (const char *t = close + 1; t < s + len; t++) {
        if (*t == ';' || *t == '#')
            break;
        if (!is_blank(*t)) {
            problem(p, BH_EFORMAT, line, "text after the section header's ']'");
            return;
        }
    }
    /* Words inside the brackets. */
    const char *a = s + 1, *e = close;
    while (a < e && is_blank(*a))
        a++;
    while (e > a && is_blank(e[-1]))
        e--;
    const char *w1e = a;
    while (w1e < e && !is_blank(*w1e))
        w1e++;
    const char *w2 = w1e;
    while (w2 < e && is_blank(*w2))
        w2++;
    size_t w1len = (size_t)(w1e - a), w2len = (size_t)(e - w2);
    char shown[80];
    printable(a, (size_t)(e - a), shown, sizeof(shown));

    if (w2len == 0) {
        for (int i = SEC_SERVER; i < SEC_PEER; i++) {
            if (strlen(section_name[i]) == w1len && memcmp(section_name[i], a, w1len) == 0) {
                if (p->sec_line[i]) {
                    problem(p, BH_EDUPKEY, line,
                            "section [%s] appears twice (first at line %d); keep one",
                            section_name[i], p->sec_line[i]);
                    return;
                }
                p->sec_line[i] = line;
                p->sec = (enum section)i;
                return;
            }
        }
        if (w1len == 8 && memcmp(a, "platform", 8) == 0) {
            problem(p, BH_EFORMAT, line,
                    "a counterpart section needs a name: [platform NAME], e.g. [platform zzggzy]");
            return;
        }
        problem(p, BH_ENOTFOUND, line,
                "unknown section [%s]; known: server, admin, institution, outbox, "
                "signing, platform NAME",
                shown);
        return;
    }

    int platform;
    if (w1len == 8 && memcmp(a, "platform", 8) == 0)
        platform = 1;
    else if (w1len == 11 && memcmp(a, "institution", 11) == 0)
        platform = 0;
    else {
        problem(p, BH_ENOTFOUND, line,
                "unknown section [%s]; known: server, admin, institution, outbox, "
                "signing, platform NAME",
                shown);
        return;
    }
    const char *kind = platform ? "platform" : "institution";
    char name[NAME_MAX_LEN + 1];
    int ok = w2len <= NAME_MAX_LEN;
    for (size_t i = 0; ok && i < w2len; i++) {
        char ch = w2[i];
        ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
             ch == '-' || ch == '_' || ch == '.';
    }
    if (!ok) {
        problem(p, BH_EFORMAT, line,
                "[%s NAME]: NAME must be 1 to 64 letters, digits, '-', '_' or '.'", kind);
        return;
    }
    memcpy(name, w2, w2len);
    name[w2len] = '\0';
    bh_config *c = p->c;
    for (size_t i = 0; i < c->ncounterparts; i++) {
        if (p->peers[i].platform == platform && strcmp(c->counterparts[i].name, name) == 0) {
            problem(p, BH_EDUPKEY, line, "section [%s %s] appears twice (first at line %d)", kind,
                    name, p->peers[i].line);
            return;
        }
    }
    if (c->ncounterparts == p->npeers_cap) {
        size_t cap = p->npeers_cap ? p->npeers_cap * 2 : 4;
        bh_counterpart *ncp = realloc(c->counterparts, cap * sizeof(*ncp));
        if (ncp)
            c->counterparts = ncp;
        struct peer *npe = ncp ? realloc(p->peers, cap * sizeof(*npe)) : NULL;
        if (!npe) {
            problem(p, BH_ENOMEM, line, "out of memory");
            return;
        }
        p->peers = npe;
        p->npeers_cap = cap;
    }
    bh_counterpart *cp = &c->counterparts[c->ncounterparts];
    memset(cp, 0, sizeof(*cp));
    cp->name = strdup(name);
    if (!cp->name) {
        problem(p, BH_ENOMEM, line, "out of memory");
        return;
    }
    struct peer *pe = &p->peers[c->ncounterparts];
    memset(pe, 0, sizeof(*pe));
    pe->line = line;
    pe->platform = platform;
    p->peer = c->ncounterparts++;
    p->sec = SEC_PEER;
}

/* Called by inih at the end of each line it has processed, to check it, and
 * hands it the next line (fgets-like). Lines we refuse reach inih blank. */
static char *next_line(char *str, int num, void *stream)
{
    struct parser *p = stream;
    if (p->line > 0 && p->kind == LINE_PAIR && !p->handled)
        problem(p, BH_EFORMAT, p->line,
                "expected NAME = VALUE, a [section] header, a comment (# or ;) or a blank line");
    if (p->pos >= p->len || num < 3)
        return NULL;

    const char *s = p->data + p->pos;
    size_t avail = p->len - p->pos;
    const char *nl = memchr(s, '\n', avail);
    size_t len = nl ? (size_t)(nl - s) + 1 : avail; /* with its newline */
    p->pos += len;
    p->line++;
    p->kind = LINE_OTHER;
    p->handled = 0;

    size_t text = len - (nl ? 1 : 0);
    if (text > 0 && s[text - 1] == '\r')
        text--;
    const char *t = s;
    size_t tlen = text;
    if (p->line == 1 && tlen >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0) {
        t += 3; /* a UTF-8 byte order mark, which inih skips too */
        tlen -= 3;
    }
    size_t lead = 0;
    while (lead < tlen && is_blank(t[lead]))
        lead++;
    int refuse = 0;

    if (memchr(s, '\0', len)) {
        problem(p, BH_EFORMAT, p->line, "a NUL byte in the line");
        refuse = 1;
    } else if (len + 1 > (size_t)num) {
        problem(p, BH_ETOOLONG, p->line, "the line is longer than %d characters", num - 2);
        refuse = 1;
    } else if (lead == tlen || t[lead] == '#' || t[lead] == ';') {
        /* blank or a comment */
    } else if (lead > 0) {
        problem(p, BH_EFORMAT, p->line,
                "an indented line; settings and [section] headers start at the beginning "
                "of the line (an indented line would continue the previous value)");
        refuse = 1;
    } else if (t[0] == '[') {
        on_header(p, t, tlen);
        refuse = 1; /* inih need not see headers: the section is ours */
    } else {
        p->kind = LINE_PAIR;
    }

    if (refuse) {
        str[0] = '\n';
        str[1] = '\0';
    } else {
        memcpy(str, s, len);
        str[len] = '\0';
    }
    return str;
}

/* ---- load ---- */

static void missing(struct parser *p, int line, const char *what, const char *hint)
{
    problem(p, BH_EMISSING, line, "%s is required but not set%s%s", what, hint ? "; " : "",
            hint ? hint : "");
}

/* Checks after the whole file is read: required settings, cross-setting
 * rules, defaults and paths. */
static void finish(struct parser *p, const char *dir)
{
    bh_config *c = p->c;
    int server = p->sec_line[SEC_SERVER], admin = p->sec_line[SEC_ADMIN];
    int inst = p->sec_line[SEC_INSTITUTION];

    if (!p->seen[K_PUBLIC_URL] && c->role == BH_ROLE_INSTITUTION)
        missing(p, server, "server.public_url",
                "the base URL bidders and the platform reach this server at");
    if (!p->seen[K_DATA_DIR])
        missing(p, server, "server.data_dir", NULL);
    if (!p->seen[K_ADMIN_TOKEN])
        missing(p, admin, "admin.token", "generate one with: openssl rand -hex 32");

    if (c->role == BH_ROLE_INSTITUTION) {
        static const enum key need[] = {K_INST_NAME, K_INST_BANK, K_INST_ACCOUNT_NAME,
                                        K_INST_ACCOUNT_NO, K_PREMIUM_RATE};
        for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
            if (!p->seen[need[i]]) {
                char what[64];
                snprintf(what, sizeof(what), "institution.%s", keys[need[i]].name);
                missing(p, inst, what, NULL);
            }
        }
        if (c->underwriting == BH_UNDERWRITE_AUTO && !p->seen[K_AUTO_MAX_AMOUNT])
            missing(p, p->seen[K_UNDERWRITING], "institution.auto_max_amount",
                    "underwriting = auto approves applications up to this bid security amount");
    }
    if (p->seen[K_RETRY_BASE] || p->seen[K_RETRY_MAX]) {
        if (c->retry_max_ms < c->retry_base_ms)
            problem(p, BH_ERANGE,
                    p->seen[K_RETRY_MAX] ? p->seen[K_RETRY_MAX] : p->seen[K_RETRY_BASE],
                    "outbox.retry_max must not be smaller than outbox.retry_base");
    }

    /* Counterparts: of the right kind for the role, complete, distinct appkeys. */
    size_t usable = 0;
    const char *want = c->role == BH_ROLE_INSTITUTION ? "platform" : "institution";
    for (size_t i = 0; i < c->ncounterparts; i++) {
        struct peer *pe = &p->peers[i];
        bh_counterpart *cp = &c->counterparts[i];
        const char *kind = pe->platform ? "platform" : "institution";
        if (pe->platform != (c->role == BH_ROLE_INSTITUTION)) {
            problem(p, BH_EFORMAT, pe->line,
                    "[%s %s] describes a counterpart of the %s role, but server.role is %s; "
                    "use [%s NAME]",
                    kind, cp->name, pe->platform ? "institution" : "platform",
                    c->role == BH_ROLE_INSTITUTION ? "institution" : "platform", want);
            continue;
        }
        usable++;
        for (int k = K_APPKEY; k < K_COUNT; k++) {
            if (!pe->seen[k - K_FIXED_COUNT]) {
                char what[NAME_MAX_LEN + 48];
                snprintf(what, sizeof(what), "%s.%s.%s", kind, cp->name, keys[k].name);
                missing(p, pe->line, what, NULL);
            }
        }
        if (!cp->appkey)
            continue;
        for (size_t j = 0; j < i; j++) {
            const bh_counterpart *o = &c->counterparts[j];
            if (o->appkey && strcmp(o->appkey, cp->appkey) == 0) {
                problem(p, BH_EDUPKEY, pe->seen[K_APPKEY - K_FIXED_COUNT],
                        "%s.%s.appkey is the same as that of [%s %s] (line %d); each "
                        "counterpart needs its own appkey",
                        kind, cp->name, p->peers[j].platform ? "platform" : "institution", o->name,
                        p->peers[j].seen[K_APPKEY - K_FIXED_COUNT]);
                break;
            }
        }
    }
    if (usable == 0)
        problem(p, BH_EMISSING, 0,
                "no [%s NAME] section: at least one counterpart %s (appkey, appsecret, "
                "sm4_key, url) is required",
                want, want);

    /* Defaults. */
    if (!c->listen)
        set_string(p, &c->listen, "127.0.0.1:8080", 0);
    if (!c->admin_listen)
        set_string(p, &c->admin_listen, "127.0.0.1:8081", 0);
    if (!c->baohanno_pattern)
        set_string(p, &c->baohanno_pattern, "BH{yyyy}{seq:6}", 0);

    if (!!p->seen[K_SIGN_CERT] != !!p->seen[K_SIGN_KEY])
        missing(p, p->sec_line[SEC_SIGNING], p->seen[K_SIGN_CERT] ? "signing.key" : "signing.cert",
                "a signing certificate and its key go together");
    if (p->seen[K_SIGN_CHAIN] && !p->seen[K_SIGN_CERT])
        missing(p, p->seen[K_SIGN_CHAIN], "signing.cert", "signing.chain is the chain above it");
    if (p->seen[K_SIGN_CERT] && c->sign_allow_unsigned)
        problem(p, BH_EFORMAT, p->seen[K_SIGN_ALLOW_UNSIGNED],
                "signing.allow_unsigned = yes with a certificate set: remove one of them");

    /* Paths, relative to the file's own directory. */
    char **paths[] = {&c->data_dir, &c->store, &c->sign_cert, &c->sign_key, &c->sign_chain};
    for (size_t i = 0; dir && i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (!*paths[i])
            continue;
        char *abs = resolve_path(dir, *paths[i]);
        free(*paths[i]);
        *paths[i] = abs;
        if (!abs)
            problem(p, BH_ENOMEM, 0, "out of memory");
    }
    /* The default store lives in the (now absolute) data directory. */
    if (!c->store && c->data_dir) {
        c->store = resolve_path(c->data_dir, "baohan.db");
        if (!c->store)
            problem(p, BH_ENOMEM, 0, "out of memory");
    }
}

static void defaults(bh_config *c)
{
    c->role = BH_ROLE_INSTITUTION;
    c->timestamp_window = 300;
    c->max_body = 1048576;
    c->threads = 0;
    c->connections = 0;
    c->underwriting = BH_UNDERWRITE_MANUAL;
    c->retry_base_ms = 1000;
    c->retry_max_ms = 600000;
    c->flag_after = 86400;
}

bh_err bh_config_load(const char *path, bh_config *out, bh_diag *d)
{
    memset(out, 0, sizeof(*out));
    if (!path || !*path)
        return bh_diag_add(d, BH_EINVAL, "config", "no configuration file given");

    struct parser p = {.path = path, .c = out, .d = d};
    bh_buf file;
    bh_buf_init(&file, FILE_MAX);
    char *dir = NULL;
    struct stat st;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        problem(&p, BH_EIO, 0, "cannot open the configuration file: %s", strerror(errno));
        goto out;
    }
    /* fstat on the descriptor read from: the mode checked is the file's read. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        problem(&p, BH_EIO, 0, "the configuration file is not a regular file");
        close(fd);
        goto out;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        problem(&p, BH_EIO, 0, "cannot read the configuration file: %s", strerror(errno));
        close(fd);
        goto out;
    }
    bh_err e = bh_buf_read_file(&file, f);
    fclose(f);
    if (e == BH_ETOOBIG) {
        problem(&p, BH_ETOOBIG, 0, "the configuration file is larger than 1 MiB");
        goto out;
    } else if (e != BH_OK) {
        problem(&p, e, 0, "cannot read the configuration file");
        goto out;
    }

    out->path = strdup(path);
    dir = config_dir(path);
    if (!out->path || !dir) {
        problem(&p, BH_EIO, 0, "cannot resolve the configuration file's directory");
        goto out;
    }
    defaults(out);
    p.data = file.data ? file.data : "";
    p.len = file.len;
    int rc = ini_parse_stream(next_line, &p, on_setting, &p);
    if (rc == -2)
        problem(&p, BH_ENOMEM, 0, "out of memory");
    else if (rc != 0 && !p.failed)
        problem(&p, BH_EFORMAT, rc, "the line cannot be read");

    if (p.has_secret && (st.st_mode & 077))
        problem(&p, BH_EFORMAT, 0,
                "the file holds secrets (admin.token, appsecret, sm4_key) but its permissions "
                "(%04o) let group or others access it; run: chmod 600 %s",
                (unsigned)(st.st_mode & 0777), path);
    finish(&p, dir);

out:
    bh_buf_wipe(&file);
    free(dir);
    free(p.peers);
    if (p.failed) {
        bh_config_release(out);
        return bh_diag_first_code(d) != BH_OK ? bh_diag_first_code(d) : BH_EFORMAT;
    }
    return BH_OK;
}

static void free_secret(char *s)
{
    if (s) {
        bh_wipe(s, strlen(s));
        free(s);
    }
}

void bh_config_release(bh_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->listen);
    free(c->public_url);
    free(c->data_dir);
    free(c->store);
    free(c->admin_listen);
    free_secret(c->admin_token);
    free(c->inst_name);
    free(c->inst_bank);
    free(c->inst_account_name);
    free(c->inst_account_no);
    free(c->baohanno_pattern);
    free(c->sign_cert);
    free(c->sign_key);
    free(c->sign_chain);
    for (size_t i = 0; i < c->ncounterparts; i++) {
        bh_counterpart *cp = &c->counterparts[i];
        free(cp->name);
        free(cp->appkey);
        free_secret(cp->appsecret);
        free(cp->url);
        bh_wipe(&cp->key, sizeof(cp->key));
    }
    free(c->counterparts);
    memset(c, 0, sizeof(*c));
}

const bh_counterpart *bh_config_counterpart(const bh_config *c, const char *appkey)
{
    if (!c || !appkey)
        return NULL;
    for (size_t i = 0; i < c->ncounterparts; i++)
        if (c->counterparts[i].appkey && strcmp(c->counterparts[i].appkey, appkey) == 0)
            return &c->counterparts[i];
    return NULL;
}

const bh_counterpart *bh_config_counterpart_named(const bh_config *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->ncounterparts; i++)
        if (strcmp(c->counterparts[i].name, name) == 0)
            return &c->counterparts[i];
    return NULL;
}
