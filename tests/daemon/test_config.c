/* Tests of daemon/config.c: the example configuration loads; every kind of
 * problem is reported on its exact line, naming the setting and the rule,
 * without echoing secrets; permissions; defaults; paths; lookups. */
#define _DEFAULT_SOURCE /* mkdtemp, realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static char tmpdir[PATH_MAX];

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fwrite(text, 1, len, f);
    fclose(f);
    chmod(path, mode);
}

/* Writes `text` as <tmpdir>/NAME (mode 0600) and returns the path (static). */
static const char *conf(const char *name, const char *text)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    write_file(path, text, strlen(text), 0600);
    return path;
}

/* The problem reported on `field` whose message contains `part`, or NULL. */
static const bh_problem *find(const bh_diag *d, const char *field, const char *part)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->items[i].field, field) == 0 && strstr(d->items[i].message, part))
            return &d->items[i];
    return NULL;
}

static void dump(const bh_diag *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "    %s: %s\n", d->items[i].field, d->items[i].message);
}

/* Checks that a problem on PATH:LINE mentions every one of `parts`. */
#define EXPECT_AT(d, path, line, ...)                                                              \
    do {                                                                                           \
        char f_[PATH_MAX + 80];                                                                    \
        if ((line) > 0)                                                                            \
            snprintf(f_, sizeof(f_), "%s:%d", (path), (line));                                     \
        else                                                                                       \
            snprintf(f_, sizeof(f_), "%s", (path));                                                \
        const char *parts_[] = {__VA_ARGS__, NULL};                                                \
        const bh_problem *p_ = find((d), f_, parts_[0]);                                           \
        CHECK(p_ != NULL);                                                                         \
        for (int i_ = 1; p_ && parts_[i_]; i_++)                                                   \
            CHECK(strstr(p_->message, parts_[i_]) != NULL);                                        \
        if (!p_) {                                                                                 \
            fprintf(stderr, "  expected a problem at %s about \"%s\"; got:\n", f_, parts_[0]);     \
            dump(d);                                                                               \
        }                                                                                          \
    } while (0)

/* A complete, valid configuration; tests append to it or replace lines. */
static const char BASE[] = "[server]\n"                                 /* 1 */
                           "public_url = https://fi.example.com/api/\n" /* 2 */
                           "data_dir = data\n"                          /* 3 */
                           "[admin]\n"                                  /* 4 */
                           "token = 0123456789abcdef0123456789abcdef\n" /* 5 */
                           "[institution]\n"                            /* 6 */
                           "name = 某保险公司\n"                        /* 7 */
                           "bank = 某银行\n"                            /* 8 */
                           "account_name = 某保险公司\n"                /* 9 */
                           "account_no = 6222-0000-1111\n"              /* 10 */
                           "premium_rate = 0.007\n"                     /* 11 */
                           "[platform zz]\n"                            /* 12 */
                           "appkey = FI001\n"                           /* 13 */
                           "appsecret = s3cr3t-FI001\n"                 /* 14 */
                           "sm4_key = qhAej/h6yk3mVsUpM+khUQ==\n"       /* 15 */
                           "url = http://127.0.0.1:9090/api\n";         /* 16 */

static void test_example_loads(void)
{
    char src[PATH_MAX];
    snprintf(src, sizeof(src), "%s/baohand.ini", BH_ETC_DIR);
    size_t len;
    char *text = check_read_file(src, &len);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/etc/baohand.ini", tmpdir);
    char etc[PATH_MAX + 16];
    snprintf(etc, sizeof(etc), "%s/etc", tmpdir);
    CHECK_EQ(mkdir(etc, 0700), 0);
    write_file(path, text, len, 0600);
    free(text);

    bh_config c;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_config_load(path, &c, &d), BH_OK);
    CHECK_EQ(d.count, 0);
    dump(&d);
    if (d.count == 0) {
        char want[PATH_MAX + 64];
        CHECK_STR(c.path, path);
        CHECK_EQ(c.role, BH_ROLE_INSTITUTION);
        CHECK_STR(c.listen, "127.0.0.1:8080");
        CHECK_STR(c.public_url, "http://127.0.0.1:8080");
        /* data_dir = ../var/baohan, against the file's directory <tmp>/etc */
        snprintf(want, sizeof(want), "%s/var/baohan", tmpdir);
        CHECK_STR(c.data_dir, want);
        snprintf(want, sizeof(want), "%s/var/baohan/baohan.db", tmpdir);
        CHECK_STR(c.store, want);
        CHECK_STR(c.admin_listen, "127.0.0.1:8081");
        CHECK(c.admin_token && strlen(c.admin_token) >= 16);
        CHECK_STR(c.inst_name, "示例保险股份有限公司漳州中心支公司");
        CHECK(c.inst_bank && c.inst_account_name && c.inst_account_no);
        CHECK_EQ(c.premium_rate.units, 15);
        CHECK_EQ(c.premium_rate.scale, 4);
        CHECK_EQ(c.min_premium_fen, 0);
        CHECK_STR(c.baohanno_pattern, "BH{yyyy}{seq:6}");
        CHECK_EQ(c.underwriting, BH_UNDERWRITE_MANUAL);
        /* the test material the README's command makes, next to the data */
        snprintf(want, sizeof(want), "%s/var/baohan/test-pki/institution.pem", tmpdir);
        CHECK_STR(c.sign_cert, want);
        snprintf(want, sizeof(want), "%s/var/baohan/test-pki/institution.key", tmpdir);
        CHECK_STR(c.sign_key, want);
        snprintf(want, sizeof(want), "%s/var/baohan/test-pki/chain.pem", tmpdir);
        CHECK_STR(c.sign_chain, want);
        CHECK_EQ(c.sign_allow_unsigned, 0);
        CHECK_EQ(c.ncounterparts, 1);
        const bh_counterpart *cp = bh_config_counterpart(&c, "FI001");
        CHECK(cp != NULL);
        if (cp) {
            static const unsigned char key[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                                  0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
            CHECK_STR(cp->name, "zzggzy");
            CHECK_STR(cp->appsecret, "s3cr3t-FI001");
            CHECK_STR(cp->url, "http://127.0.0.1:9090/api");
            CHECK(memcmp(cp->key.bytes, key, 16) == 0);
        }
        bh_config_release(&c);
    }
    bh_diag_release(&d);

    /* As git checks it out (0644) it is refused, naming the file and the fix. */
    chmod(path, 0644);
    CHECK(bh_config_load(path, &c, &d) != BH_OK);
    EXPECT_AT(&d, path, 0, "chmod 600", path, "0644");
    CHECK_EQ(d.count, 1);
    bh_diag_release(&d);
}

static void test_defaults_and_paths(void)
{
    const char *path = conf("base.ini", BASE);
    bh_config c;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_config_load(path, &c, &d), BH_OK);
    dump(&d);
    if (d.count == 0) {
        char want[PATH_MAX + 64];
        CHECK_EQ(c.role, BH_ROLE_INSTITUTION);
        CHECK_STR(c.listen, "127.0.0.1:8080");
        CHECK_STR(c.admin_listen, "127.0.0.1:8081");
        CHECK_STR(c.public_url, "https://fi.example.com/api"); /* trailing '/' dropped */
        snprintf(want, sizeof(want), "%s/data", tmpdir);
        CHECK_STR(c.data_dir, want);
        snprintf(want, sizeof(want), "%s/data/baohan.db", tmpdir);
        CHECK_STR(c.store, want);
        CHECK_EQ(c.timestamp_window, 300);
        CHECK_EQ(c.max_body, 1048576);
        CHECK_EQ(c.threads, 0);
        CHECK_EQ(c.connections, 0);
        CHECK_EQ(c.min_premium_fen, 0);
        CHECK_STR(c.baohanno_pattern, "BH{yyyy}{seq:6}");
        CHECK_EQ(c.underwriting, BH_UNDERWRITE_MANUAL);
        CHECK_EQ(c.auto_max_amount_fen, 0);
        CHECK_EQ(c.retry_base_ms, 1000);
        CHECK_EQ(c.retry_max_ms, 600000);
        CHECK_EQ(c.flag_after, 86400);
        CHECK_EQ(c.premium_rate.units, 7);
        CHECK_EQ(c.premium_rate.scale, 3);
        CHECK_STR(c.inst_account_no, "6222-0000-1111");
        /* Base64 key */
        CHECK_EQ(c.counterparts[0].key.bytes[0], 0xaa);
        CHECK_EQ(c.counterparts[0].key.bytes[15], 0x51);
        bh_config_release(&c);
        CHECK(c.counterparts == NULL && c.path == NULL);
    }
    bh_diag_release(&d);

    /* Every setting given; absolute data_dir, relative store with ./ and ../ */
    char text[4096];
    snprintf(text, sizeof(text),
             "%s"
             "[server]\n"
             "role = institution\n"
             "listen = [::1]:0\n"
             "public_url = http://[::1]:8443\n"
             "data_dir = /srv/baohan/\n"
             "store = ./x/../db/main.db\n"
             "timestamp_window = 60\n"
             "max_body = 2048\n"
             "threads = 8\n"
             "connections = 4000\n"
             "[admin]\n"
             "listen = localhost:0\n"
             "token = 0123456789abcdef\n"
             "[institution]\n"
             "name = n\nbank = b\naccount_name = a\naccount_no = 1\n"
             "premium_rate = 1\n"
             "min_premium = 300.5\n"
             "baohanno_pattern = ZZ-{yy}{MM}{dd}-{seq:12}\n"
             "underwriting = auto\n"
             "auto_max_amount = 500000.00\n"
             "[outbox]\nretry_base = 5\nretry_max = 5\nflag_after = 60\n"
             "[platform a]\nappkey = A\nappsecret = x y\nsm4_key = "
             "0123456789ABCDEFFEDCBA9876543210\nurl = https://a.example\n"
             "[platform b.2_x-y]\nappkey = B\nappsecret = 密钥\nsm4_key = "
             "0123456789abcdeffedcba9876543210\nurl = https://b.example:8443/x/y/\n",
             "");
    path = conf("full.ini", text);
    CHECK_EQ(bh_config_load(path, &c, &d), BH_OK);
    dump(&d);
    if (d.count == 0) {
        char want[PATH_MAX + 64];
        CHECK_STR(c.listen, "[::1]:0");
        CHECK_STR(c.public_url, "http://[::1]:8443");
        CHECK_STR(c.data_dir, "/srv/baohan");
        /* Only the leading ./ and ../ are applied; later ones stay as written. */
        snprintf(want, sizeof(want), "%s/x/../db/main.db", tmpdir);
        CHECK_STR(c.store, want);
        CHECK_EQ(c.timestamp_window, 60);
        CHECK_EQ(c.max_body, 2048);
        CHECK_EQ(c.threads, 8);
        CHECK_EQ(c.connections, 4000);
        CHECK_STR(c.admin_listen, "localhost:0");
        CHECK_EQ(c.min_premium_fen, 30050);
        CHECK_STR(c.baohanno_pattern, "ZZ-{yy}{MM}{dd}-{seq:12}");
        CHECK_EQ(c.underwriting, BH_UNDERWRITE_AUTO);
        CHECK_EQ(c.auto_max_amount_fen, 50000000);
        CHECK_EQ(c.retry_base_ms, 5);
        CHECK_EQ(c.retry_max_ms, 5);
        CHECK_EQ(c.flag_after, 60);
        CHECK_EQ(c.ncounterparts, 2);
        const bh_counterpart *b = bh_config_counterpart(&c, "B");
        CHECK(b && strcmp(b->name, "b.2_x-y") == 0);
        CHECK(b && strcmp(b->url, "https://b.example:8443/x/y") == 0);
        CHECK(b && strcmp(b->appsecret, "密钥") == 0);
        const bh_counterpart *a = bh_config_counterpart(&c, "A");
        CHECK(a && strcmp(a->appsecret, "x y") == 0 && a->key.bytes[1] == 0x23);
        CHECK(bh_config_counterpart(&c, "a") == NULL); /* appkeys are exact */
        CHECK(bh_config_counterpart(&c, "") == NULL);
        CHECK(bh_config_counterpart(&c, NULL) == NULL);
        bh_config_release(&c);
    }
    bh_diag_release(&d);

    /* A relative configuration path: paths still come out absolute. */
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK_EQ(chdir(tmpdir), 0);
    CHECK_EQ(bh_config_load("base.ini", &c, &d), BH_OK);
    if (d.count == 0) {
        char want[PATH_MAX + 64];
        snprintf(want, sizeof(want), "%s/data", tmpdir);
        CHECK_STR(c.data_dir, want);
        CHECK_STR(c.path, "base.ini");
        bh_config_release(&c);
    }
    bh_diag_release(&d);
    CHECK_EQ(chdir(cwd), 0);

    /* Comments, blank lines, CRLF, a BOM and an inline " ;" comment. */
    char crlf[4096];
    size_t o = 0;
    o += (size_t)snprintf(crlf + o, sizeof(crlf) - o,
                          "\xEF\xBB\xBF# comment\r\n\r\n  ; indented "
                          "comment\r\n");
    for (const char *s = BASE; *s; s++) {
        if (*s == '\n')
            crlf[o++] = '\r';
        crlf[o++] = *s;
    }
    o += (size_t)snprintf(crlf + o, sizeof(crlf) - o, "[outbox]\r\nretry_max = 2000 ; ms\r\n");
    crlf[o] = '\0';
    path = conf("crlf.ini", crlf);
    CHECK_EQ(bh_config_load(path, &c, &d), BH_OK);
    dump(&d);
    if (d.count == 0) {
        CHECK_EQ(c.retry_max_ms, 2000);
        CHECK_STR(c.inst_name, "某保险公司");
        bh_config_release(&c);
    }
    bh_diag_release(&d);
}

/* Replaces line `n` (1-based) of BASE with `with` (which may hold several
 * lines, or be "" to delete it). */
static char *base_with(int n, const char *with)
{
    static char out[8192];
    const char *s = BASE;
    size_t o = 0;
    for (int line = 1; *s; line++) {
        const char *nl = strchr(s, '\n');
        size_t len = (size_t)(nl - s) + 1;
        if (line == n)
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", with);
        else
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%.*s", (int)len, s);
        s += len;
    }
    return out;
}

/* Loads text that must fail; the caller inspects `d`. Also checks that the
 * output was released and that no message echoes a secret. */
static bh_err load_bad(const char *path, bh_diag *d)
{
    bh_config c;
    memset(&c, 0x5a, sizeof(c));
    bh_err e = bh_config_load(path, &c, d);
    CHECK(e != BH_OK);
    CHECK(d->count > 0);
    CHECK(c.path == NULL && c.counterparts == NULL && c.ncounterparts == 0 &&
          c.admin_token == NULL);
    for (size_t i = 0; i < d->count; i++) {
        CHECK(strstr(d->items[i].message, "s3cr3t") == NULL);
        CHECK(strstr(d->items[i].message, "0123456789abcdef0123") == NULL);
        CHECK(strstr(d->items[i].message, "qhAej") == NULL);
        CHECK(strstr(d->items[i].message, "TOPSECRET") == NULL);
    }
    if (e == BH_OK)
        bh_config_release(&c);
    return e;
}

static void test_values(void)
{
    bh_diag d = BH_DIAG_INIT;
    const char *p;

    /* Many problems at once, each on its own line. */
    char text[8192];
    snprintf(text, sizeof(text),
             "[server]\n"                             /* 1 */
             "listen = 127.0.0.1:70000\n"             /* 2 */
             "public_url = ftp://x\n"                 /* 3 */
             "data_dir = data\n"                      /* 4 */
             "timestamp_window = 5m\n"                /* 5 */
             "max_body = 10\n"                        /* 6 */
             "threads = -1\n"                         /* 7 */
             "role = bank\n"                          /* 8 */
             "[admin]\n"                              /* 9 */
             "listen = example.com:80\n"              /* 10 */
             "token = TOPSECRET\n"                    /* 11 */
             "[institution]\n"                        /* 12 */
             "name = n\n"                             /* 13 */
             "bank = b\n"                             /* 14 */
             "account_name = a\n"                     /* 15 */
             "account_no = 62x2\n"                    /* 16 */
             "premium_rate = 1.5\n"                   /* 17 */
             "min_premium = 1.234\n"                  /* 18 */
             "baohanno_pattern = BH{yyyy}\n"          /* 19 */
             "underwriting = maybe\n"                 /* 20 */
             "auto_max_amount = -5\n"                 /* 21 */
             "[outbox]\n"                             /* 22 */
             "retry_base = 0\n"                       /* 23 */
             "retry_max = 1e3\n"                      /* 24 */
             "flag_after = 99999999999999999999999\n" /* 25 */
             "[platform zz]\n"                        /* 26 */
             "appkey = FI 001\n"                      /* 27 */
             "appsecret = s3cr3t\x01TOPSECRET\n"      /* 28 */
             "sm4_key = TOPSECRETTOPSECRET\n"         /* 29 */
             "url = http://127.0.0.1:0/api\n");       /* 30 */
    p = conf("values.ini", text);
    load_bad(p, &d);
    EXPECT_AT(&d, p, 2, "server.listen", "port");
    EXPECT_AT(&d, p, 3, "server.public_url", "http:// or https://");
    EXPECT_AT(&d, p, 5, "server.timestamp_window", "seconds");
    EXPECT_AT(&d, p, 6, "server.max_body", "1024");
    EXPECT_AT(&d, p, 7, "server.threads", "4096");
    EXPECT_AT(&d, p, 8, "server.role", "institution or platform");
    EXPECT_AT(&d, p, 10, "admin.listen", "host");
    EXPECT_AT(&d, p, 11, "admin.token", "16");
    EXPECT_AT(&d, p, 16, "institution.account_no", "digits");
    EXPECT_AT(&d, p, 17, "institution.premium_rate", "between 0 and 1");
    EXPECT_AT(&d, p, 18, "institution.min_premium", "two decimal");
    EXPECT_AT(&d, p, 19, "institution.baohanno_pattern", "{seq:N}");
    EXPECT_AT(&d, p, 20, "institution.underwriting", "manual or auto");
    EXPECT_AT(&d, p, 21, "institution.auto_max_amount", "sign");
    EXPECT_AT(&d, p, 23, "outbox.retry_base", "milliseconds");
    EXPECT_AT(&d, p, 24, "outbox.retry_max", "milliseconds");
    EXPECT_AT(&d, p, 25, "outbox.flag_after", "seconds");
    EXPECT_AT(&d, p, 27, "platform.zz.appkey", "without spaces");
    EXPECT_AT(&d, p, 28, "platform.zz.appsecret", "control characters");
    EXPECT_AT(&d, p, 29, "platform.zz.sm4_key", "32 hexadecimal");
    EXPECT_AT(&d, p, 30, "platform.zz.url", "port");
    /* role = bank is refused, so the role stays institution and nothing else
     * is reported: exactly one problem per bad line. */
    CHECK_EQ(d.count, 21);
    if (d.count != 21)
        dump(&d);
    bh_diag_release(&d);

    /* More URL, listen and pattern rules, one file each for clarity. */
    static const struct {
        int line;
        const char *text;
        const char *part;
    } cases[] = {
        {2, "public_url = http://user:pw@host/\n", "user name"},
        {2, "public_url = http://host/a?b=1\n", "query"},
        {2, "public_url = http://host/a b\n", "spaces"},
        {2, "public_url = https://\n", "no host"},
        {2, "public_url = http://[::1/\n", "]"},
        {2, "public_url = http://host:0/\n", "port"},
        {2, "public_url = http://host:x/\n", "port"},
        {2, "public_url =\n", "empty"},
        {2, "public_url = http://a/\nlisten = 1.2.3:80\n", "listen"},
        {2, "public_url = http://a/\nlisten = 127.0.0.1\n", "port"},
        {2, "public_url = http://a/\nlisten = [::1]80\n", "[ADDRESS]:PORT"},
        {2, "public_url = http://a/\nlisten = ::1:80\n", "[ADDRESS]:PORT"},
        {2, "public_url = http://a/\nlisten = :80\n", "host"},
        {2, "public_url = http://a/\nlisten =\n", "empty"},
        {11, "premium_rate = 0.0000000001\n", "nine decimal"},
        {11, "premium_rate = ０.１\n", "non-ASCII"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        p = conf("case.ini", base_with(cases[i].line, cases[i].text));
        load_bad(p, &d);
        int line = cases[i].line;
        if (strncmp(cases[i].text, "public_url = http://a/\n", 23) == 0)
            line++;
        EXPECT_AT(&d, p, line, cases[i].part);
        CHECK_EQ(d.count, 1);
        if (d.count != 1)
            fprintf(stderr, "  case %zu\n", i);
        bh_diag_release(&d);
    }

    static const struct {
        const char *pattern;
        const char *part;
    } patterns[] = {
        {"BH{yyyy}{seq:6}{seq:2}", "exactly one"},
        {"BH{seq:0}", "1 to 12"},
        {"BH{seq:13}", "1 to 12"},
        {"BH{seq:}", "placeholder"},
        {"BH{YYYY}{seq:6}", "unknown placeholder"},
        {"BH {seq:6}", "letters"},
        {"BH{seq:6", "without its"},
        {"BH-{yyyy}-{MM}-{dd}-{seq:12}-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "64"},
    };
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        char line[256];
        snprintf(line, sizeof(line), "premium_rate = 0.007\nbaohanno_pattern = %s\n",
                 patterns[i].pattern);
        p = conf("pattern.ini", base_with(11, line));
        load_bad(p, &d);
        EXPECT_AT(&d, p, 12, "institution.baohanno_pattern", patterns[i].part);
        bh_diag_release(&d);
    }
}

static void test_structure(void)
{
    bh_diag d = BH_DIAG_INIT;
    const char *p;
    char text[8192];

    snprintf(text, sizeof(text),
             "stray = 1\n"                                  /* 1: before any section */
             "[server]\n"                                   /* 2 */
             "public_url = http://a\n"                      /* 3 */
             "data_dir = d\n"                               /* 4 */
             "lisen = 127.0.0.1:1\n"                        /* 5: unknown key */
             "data_dir = e\n"                               /* 6: duplicate */
             "  listen = 127.0.0.1:1\n"                     /* 7: indented */
             "just words\n"                                 /* 8: no '=' */
             "[admin\n"                                     /* 9: no ']' */
             "token = 0123456789abcdef0123456789abcdef\n"   /* 10: skipped */
             "[admin] x\n"                                  /* 11: text after ']' */
             "[admin]\n"                                    /* 12 */
             "token = 0123456789abcdef0123456789abcdef\n"   /* 13 */
             "[server]\n"                                   /* 14: repeated section */
             "listen = 1:2\n"                               /* 15: skipped with it */
             "[database]\n"                                 /* 16: unknown section */
             "host = x\n"                                   /* 17: skipped with it */
             "[institution]\n"                              /* 18 */
             "name = n\n"                                   /* 19 */
             "[platform]\n"                                 /* 20: no name */
             "[platform a b]\n"                             /* 21: bad name */
             "[platform one]\n"                             /* 22 */
             "appkey = K1\n"                                /* 23 */
             "appsecret = s3cr3t-1\n"                       /* 24 */
             "sm4_key = 0123456789abcdeffedcba9876543210\n" /* 25 */
             "url = http://p1\n"                            /* 26 */
             "colour = blue\n"                              /* 27: unknown key */
             "[platform two]\n"                             /* 28: no url */
             "appkey = K1\n"                                /* 29: duplicate appkey */
             "appsecret = s3cr3t-2\n"                       /* 30 */
             "sm4_key = 0123456789abcdeffedcba9876543210\n" /* 31 */
             "[platform one]\n"                             /* 32: repeated */
             "[institution other]\n"                        /* 33: wrong kind for the role */
             "[outbox]\n"                                   /* 34 */
             "retry_base = 5000\n"                          /* 35 */
             "retry_max = 4000\n"                           /* 36: smaller than base */
             "%s\n",                                        /* 37: too long */
             "url_is_much_too_long = "
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    p = conf("structure.ini", text);
    load_bad(p, &d);
    EXPECT_AT(&d, p, 1, "before any [section]");
    EXPECT_AT(&d, p, 5, "unknown setting", "lisen", "[server]");
    EXPECT_AT(&d, p, 6, "server.data_dir", "twice", "line 4");
    EXPECT_AT(&d, p, 7, "indented");
    EXPECT_AT(&d, p, 8, "NAME = VALUE");
    EXPECT_AT(&d, p, 9, "]");
    EXPECT_AT(&d, p, 11, "after the section header");
    EXPECT_AT(&d, p, 14, "[server]", "twice", "line 2");
    EXPECT_AT(&d, p, 16, "unknown section", "database");
    /* [institution] is incomplete: reported on its header line */
    EXPECT_AT(&d, p, 18, "institution.bank", "required");
    EXPECT_AT(&d, p, 18, "institution.account_name", "required");
    EXPECT_AT(&d, p, 18, "institution.account_no", "required");
    EXPECT_AT(&d, p, 18, "institution.premium_rate", "required");
    EXPECT_AT(&d, p, 20, "needs a name");
    EXPECT_AT(&d, p, 21, "NAME must be");
    EXPECT_AT(&d, p, 27, "unknown setting", "colour", "[platform one]");
    EXPECT_AT(&d, p, 28, "platform.two.url", "required");
    EXPECT_AT(&d, p, 29, "platform.two.appkey", "same", "[platform one]", "line 23");
    EXPECT_AT(&d, p, 32, "[platform one]", "twice", "line 22");
    EXPECT_AT(&d, p, 33, "[institution other]", "server.role is institution");
    EXPECT_AT(&d, p, 36, "outbox.retry_max", "outbox.retry_base");
    EXPECT_AT(&d, p, 37, "longer than");
    CHECK_EQ(d.count, 22);
    if (d.count != 22)
        dump(&d);
    bh_diag_release(&d);

    /* An unknown name that may hold a secret is not quoted. */
    p = conf("odd.ini", base_with(14, "appsecret s3cr3t-FI001 = x\nappsecret = s3cr3t-FI001\n"));
    load_bad(p, &d);
    EXPECT_AT(&d, p, 14, "unknown setting", "spaces or symbols", "[platform zz]");
    CHECK_EQ(d.count, 1);
    bh_diag_release(&d);

    /* Missing sections: reported on the file, not a line. */
    p = conf("empty.ini", "# nothing\n");
    load_bad(p, &d);
    EXPECT_AT(&d, p, 0, "server.public_url", "required");
    EXPECT_AT(&d, p, 0, "server.data_dir", "required");
    EXPECT_AT(&d, p, 0, "admin.token", "required", "openssl rand");
    EXPECT_AT(&d, p, 0, "institution.name", "required");
    EXPECT_AT(&d, p, 0, "no [platform NAME] section");
    bh_diag_release(&d);

    /* Required settings missing from a present section: the section's line. */
    p = conf("missing.ini", base_with(3, ""));
    load_bad(p, &d);
    EXPECT_AT(&d, p, 1, "server.data_dir", "required");
    CHECK_EQ(d.count, 1);
    bh_diag_release(&d);
    p = conf("missing2.ini", base_with(15, ""));
    load_bad(p, &d);
    EXPECT_AT(&d, p, 12, "platform.zz.sm4_key", "required");
    CHECK_EQ(d.count, 1);
    bh_diag_release(&d);

    /* auto underwriting needs its limit: reported on the underwriting line. */
    p = conf("auto.ini", base_with(11, "premium_rate = 0.007\nunderwriting = auto\n"));
    load_bad(p, &d);
    EXPECT_AT(&d, p, 12, "institution.auto_max_amount", "required");
    CHECK_EQ(d.count, 1);
    bh_diag_release(&d);

    /* The platform role: counterparts are [institution NAME]; public_url and
     * the institution's own details are not required. */
    p = conf("platform.ini", "[server]\nrole = platform\ndata_dir = /tmp/x\n[admin]\n"
                             "token = 0123456789abcdef0123456789abcdef\n"
                             "[institution fi1]\nappkey = FI001\nappsecret = s3cr3t-FI001\n"
                             "sm4_key = 0123456789abcdeffedcba9876543210\n"
                             "url = http://127.0.0.1:8080\n");
    bh_config c;
    CHECK_EQ(bh_config_load(p, &c, &d), BH_OK);
    dump(&d);
    if (d.count == 0) {
        CHECK_EQ(c.role, BH_ROLE_PLATFORM);
        CHECK(c.public_url == NULL);
        CHECK(bh_config_counterpart(&c, "FI001") != NULL);
        bh_config_release(&c);
    }
    bh_diag_release(&d);
    p = conf("platform2.ini", "[server]\nrole = platform\ndata_dir = /tmp/x\n[admin]\n"
                              "token = 0123456789abcdef0123456789abcdef\n"
                              "[platform p]\nappkey = FI001\nappsecret = s3cr3t-FI001\n"
                              "sm4_key = 0123456789abcdeffedcba9876543210\n"
                              "url = http://127.0.0.1:8080\n");
    load_bad(p, &d);
    EXPECT_AT(&d, p, 6, "[platform p]", "server.role is platform", "[institution NAME]");
    EXPECT_AT(&d, p, 0, "no [institution NAME] section");
    bh_diag_release(&d);

    /* A NUL byte in a line. */
    char nul[sizeof(BASE) + 16];
    memcpy(nul, BASE, sizeof(BASE));
    size_t at = (size_t)(strstr(nul, "某银行") - nul);
    nul[at] = '\0';
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/nul.ini", tmpdir);
    write_file(path, nul, sizeof(BASE) - 1, 0600);
    load_bad(path, &d);
    EXPECT_AT(&d, path, 8, "NUL");
    EXPECT_AT(&d, path, 6, "institution.bank", "required");
    bh_diag_release(&d);
}

/* [signing]: paths against the file's directory, a certificate and its key
 * together, allow_unsigned only without them. */
static void test_signing(void)
{
    bh_diag d = BH_DIAG_INIT;
    bh_buf text;
    bh_buf_init(&text, 1 << 16);
    CHECK_EQ(bh_buf_addf(&text, "%s[signing]\ncert = pki/c.pem\nkey = /abs/k.pem\n"
                                "chain = ../chain.pem\n",
                         BASE),
             BH_OK);
    const char *p = conf("signing.ini", text.data);
    bh_config c;
    CHECK_EQ(bh_config_load(p, &c, &d), BH_OK);
    dump(&d);
    if (d.count == 0) {
        char want[PATH_MAX + 64];
        snprintf(want, sizeof(want), "%s/pki/c.pem", tmpdir);
        CHECK_STR(c.sign_cert, want);
        CHECK_STR(c.sign_key, "/abs/k.pem");
        CHECK(c.sign_chain && strstr(c.sign_chain, "/chain.pem") &&
              !strstr(c.sign_chain, ".."));
        bh_config_release(&c);
    }
    bh_diag_release(&d);

    /* Neither is fine for the loader (baohand then refuses to start unless
     * allow_unsigned = yes: tests/cli/test_pki.sh). */
    bh_buf_reset(&text);
    CHECK_EQ(bh_buf_addf(&text, "%s[signing]\nallow_unsigned = yes\n", BASE), BH_OK);
    p = conf("unsigned.ini", text.data);
    CHECK_EQ(bh_config_load(p, &c, &d), BH_OK);
    if (d.count == 0) {
        CHECK_EQ(c.sign_allow_unsigned, 1);
        CHECK(c.sign_cert == NULL);
        bh_config_release(&c);
    }
    bh_diag_release(&d);

    bh_buf_reset(&text);
    CHECK_EQ(bh_buf_addf(&text, "%s[signing]\ncert = c.pem\nallow_unsigned = yes\n"
                                "chain = x.pem\n",
                         BASE),
             BH_OK);
    p = conf("signing-bad.ini", text.data);
    CHECK(bh_config_load(p, &c, &d) != BH_OK);
    EXPECT_AT(&d, p, 17, "signing.key", "required", "go together");
    EXPECT_AT(&d, p, 19, "allow_unsigned = yes with a certificate");
    bh_diag_release(&d);

    bh_buf_reset(&text);
    CHECK_EQ(bh_buf_addf(&text, "%s[signing]\nallow_unsigned = maybe\nkey = k.pem\n", BASE),
             BH_OK);
    p = conf("signing-bad2.ini", text.data);
    CHECK(bh_config_load(p, &c, &d) != BH_OK);
    EXPECT_AT(&d, p, 18, "signing.allow_unsigned", "yes or no");
    EXPECT_AT(&d, p, 17, "signing.cert", "required");
    bh_diag_release(&d);
    bh_buf_release(&text);
}

static void test_files(void)
{
    bh_diag d = BH_DIAG_INIT;
    bh_config c;
    char path[PATH_MAX + 32];

    /* No such file. */
    snprintf(path, sizeof(path), "%s/absent.ini", tmpdir);
    CHECK_EQ(bh_config_load(path, &c, &d), BH_EIO);
    EXPECT_AT(&d, path, 0, "cannot open");
    bh_diag_release(&d);

    /* Over 1 MiB. */
    {
        size_t n = 1100000;
        char *big = malloc(n);
        CHECK(big != NULL);
        if (big) {
            for (size_t i = 0; i < n; i++)
                big[i] = i % 64 == 63 ? '\n' : '#';
            snprintf(path, sizeof(path), "%s/big.ini", tmpdir);
            write_file(path, big, n, 0600);
            free(big);
            CHECK_EQ(bh_config_load(path, &c, &d), BH_ETOOBIG);
            EXPECT_AT(&d, path, 0, "larger than 1 MiB");
            bh_diag_release(&d);
        }
    }

    /* A directory. */
    CHECK_EQ(bh_config_load(tmpdir, &c, &d), BH_EIO);
    EXPECT_AT(&d, tmpdir, 0, "not a regular file");
    bh_diag_release(&d);

    /* Any access for group or others is refused while the file holds secrets,
     * alongside the other problems. */
    static const mode_t modes[] = {0640, 0604, 0620, 0660, 0700 | 0001};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        const char *p = conf("perm.ini", BASE);
        chmod(p, modes[i]);
        load_bad(p, &d);
        EXPECT_AT(&d, p, 0, "secrets", "chmod 600");
        CHECK_EQ(d.count, 1);
        bh_diag_release(&d);
    }
    /* 0400 is fine. */
    const char *p = conf("ro.ini", BASE);
    chmod(p, 0400);
    CHECK_EQ(bh_config_load(p, &c, &d), BH_OK);
    if (d.count == 0)
        bh_config_release(&c);
    bh_diag_release(&d);
    /* A secret in a refused section still counts. */
    p = conf("perm2.ini", "[nonsense]\ntoken = abcdefabcdefabcdef\n");
    chmod(p, 0644);
    load_bad(p, &d);
    EXPECT_AT(&d, p, 0, "chmod 600");
    bh_diag_release(&d);
    /* No secrets at all (the missing token is reported, not the mode). */
    p = conf("nosecret.ini", "[server]\npublic_url = http://a\ndata_dir = d\n[admin]\n");
    chmod(p, 0644);
    load_bad(p, &d);
    for (size_t i = 0; i < d.count; i++)
        CHECK(strstr(d.items[i].message, "chmod") == NULL);
    EXPECT_AT(&d, p, 4, "admin.token", "required");
    bh_diag_release(&d);
}

static void cleanup(const char *dir)
{
    /* The test writes only plain files and etc/: remove them all. */
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* The platform role: its example loads as a platform with one institution;
 * a platform's counterparts are institutions. */
static void test_platform_role(void)
{
    char src[PATH_MAX];
    snprintf(src, sizeof(src), "%s/baohand-platform.ini", BH_ETC_DIR);
    size_t len;
    char *text = check_read_file(src, &len);
    const char *path = conf("platform.ini", text);
    bh_config c;
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_config_load(path, &c, &d), BH_OK);
    dump(&d);
    if (d.count == 0) {
        CHECK_EQ(c.role, BH_ROLE_PLATFORM);
        CHECK_STR(c.listen, "127.0.0.1:9090");
        CHECK_STR(c.admin_listen, "127.0.0.1:9091");
        CHECK(c.public_url == NULL);
        CHECK_EQ(c.ncounterparts, 1);
        const bh_counterpart *cp = bh_config_counterpart(&c, "FI001");
        CHECK(cp && strcmp(cp->name, "demo") == 0 && strcmp(cp->url, "http://127.0.0.1:8080") == 0);
        bh_config_release(&c);
    }
    bh_diag_release(&d);

    /* [institution] and [outbox] may be present (checked, unused); a
     * [platform NAME] is the wrong kind of counterpart. */
    char more[8192];
    snprintf(more, sizeof(more), "%s\n[institution]\nname = x\n[outbox]\nretry_base = 100\n",
             text);
    path = conf("platform-more.ini", more);
    CHECK_EQ(bh_config_load(path, &c, &d), BH_OK);
    dump(&d);
    if (d.count == 0)
        bh_config_release(&c);
    bh_diag_release(&d);
    snprintf(more, sizeof(more), "%s\n[platform zz]\nappkey = Z\nappsecret = z\n"
             "sm4_key = 0123456789abcdeffedcba9876543210\nurl = http://127.0.0.1:1\n",
             text);
    int base = 1;
    for (const char *q = text; *q; q++)
        base += *q == '\n';
    path = conf("platform-bad.ini", more);
    CHECK(bh_config_load(path, &c, &d) != BH_OK);
    EXPECT_AT(&d, path, base + 1, "[platform zz] describes a counterpart of the institution role");
    bh_diag_release(&d);
    free(text);
}

int main(void)
{
    char templ[] = "/tmp/bh-config-XXXXXX";
    if (!mkdtemp(templ) || !realpath(templ, tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    RUN(test_example_loads);
    RUN(test_defaults_and_paths);
    RUN(test_values);
    RUN(test_structure);
    RUN(test_files);
    RUN(test_platform_role);
    RUN(test_signing);
    cleanup(tmpdir);
    return CHECK_DONE();
}
