/* baohan selfcheck: known-answer tests through the public API, so an operator
 * can see that this build's SM3, SM4, signatures and sealing agree with the
 * standards and with PROTOCOL.md before trusting it with real traffic. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

/* A check returns 1 when it passes; otherwise 0 with the reason in `why`. */
typedef int (*check_fn)(char *why, size_t n);

typedef struct check {
    const char *name;
    const char *what;
    check_fn fn;
} check;

#define KAT_KEY_HEX "0123456789abcdeffedcba9876543210"
#define KAT_KEY_BASE64 "ASNFZ4mrze/+3LqYdlQyEA=="
#define SIGN_SECRET "s3cr3t-FI001"

static int fail(char *why, size_t n, const char *what, bh_err err)
{
    if (err != BH_OK)
        snprintf(why, n, "%s (%s)", what, bh_strerror(err));
    else
        snprintf(why, n, "%s", what);
    return 0;
}

static int check_sm3(char *why, size_t n)
{
    char hex[BH_SM3_HEX_LEN + 1];
    bh_err err = bh_sm3_hex("abc", 3, hex);
    if (err != BH_OK)
        return fail(why, n, "bh_sm3_hex failed", err);
    if (strcmp(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0") != 0)
        return fail(why, n, "wrong digest of \"abc\"", BH_OK);
    static const char sixty_four[] =
        "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd";
    err = bh_sm3_hex(sixty_four, 64, hex);
    if (err != BH_OK)
        return fail(why, n, "bh_sm3_hex failed", err);
    if (strcmp(hex, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732") != 0)
        return fail(why, n, "wrong digest of the 64-byte message", BH_OK);
    return 1;
}

static int check_sm4_block(char *why, size_t n)
{
    static const uint8_t want[BH_SM4_BLOCK] = {0x68, 0x1e, 0xdf, 0x34, 0xd2, 0x06, 0x96, 0x5e,
                                               0x86, 0xb3, 0xe9, 0x4f, 0x53, 0x6e, 0x42, 0x46};
    bh_sm4_key key;
    uint8_t block[BH_SM4_BLOCK];
    bh_err err = bh_sm4_key_parse(KAT_KEY_HEX, &key, NULL, "key");
    if (err != BH_OK)
        return fail(why, n, "the test key does not parse", err);
    memcpy(block, key.bytes, sizeof block); /* the plaintext equals the key */
    err = bh_sm4_ecb_raw(&key, 1, block, block, sizeof block);
    if (err != BH_OK)
        return fail(why, n, "encryption failed", err);
    if (memcmp(block, want, sizeof block) != 0)
        return fail(why, n, "wrong ciphertext", BH_OK);
    err = bh_sm4_ecb_raw(&key, 0, block, block, sizeof block);
    if (err != BH_OK)
        return fail(why, n, "decryption failed", err);
    if (memcmp(block, key.bytes, sizeof block) != 0)
        return fail(why, n, "decryption does not give the plaintext back", BH_OK);
    return 1;
}

/* GB/T 32907-2016 appendix A, example 2: the example block encrypted
 * 1,000,000 times with the same key. */
static int check_sm4_million(char *why, size_t n)
{
    static const uint8_t want[BH_SM4_BLOCK] = {0x59, 0x52, 0x98, 0xc7, 0xc6, 0xfd, 0x27, 0x1f,
                                               0x04, 0x02, 0xf8, 0x04, 0xc3, 0x3d, 0x3f, 0x66};
    bh_sm4_key key;
    uint8_t block[BH_SM4_BLOCK];
    bh_err err = bh_sm4_key_parse(KAT_KEY_HEX, &key, NULL, "key");
    if (err != BH_OK)
        return fail(why, n, "the test key does not parse", err);
    memcpy(block, key.bytes, sizeof block);
    bh_sm4 *c;
    err = bh_sm4_new(&key, &c);
    for (long i = 0; i < 1000000 && err == BH_OK; i++)
        err = bh_sm4_blocks(c, 1, block, block, sizeof block);
    bh_sm4_free(c);
    if (err != BH_OK)
        return fail(why, n, "encryption failed", err);
    if (memcmp(block, want, sizeof block) != 0)
        return fail(why, n, "wrong ciphertext after 1,000,000 encryptions", BH_OK);
    return 1;
}

static int check_sm4_key(char *why, size_t n)
{
    bh_sm4_key hex, b64, bad;
    if (bh_sm4_key_parse(KAT_KEY_HEX, &hex, NULL, "key") != BH_OK ||
        bh_sm4_key_parse(KAT_KEY_BASE64, &b64, NULL, "key") != BH_OK)
        return fail(why, n, "a valid key is refused", BH_OK);
    if (memcmp(hex.bytes, b64.bytes, sizeof hex.bytes) != 0)
        return fail(why, n, "the hex and Base64 forms give different keys", BH_OK);
    if (bh_sm4_key_parse("0123456789abcdef", &bad, NULL, "key") != BH_EKEY)
        return fail(why, n, "an 8-byte key is not refused", BH_OK);
    return 1;
}

static int sign_of(const char *json, const char *secret, char out[BH_SM3_HEX_LEN + 1])
{
    bh_msg *m = NULL;
    int ok = bh_msg_parse(json, strlen(json), BH_MSG_MAX_REQUEST, 0, &m, NULL) == BH_OK &&
             bh_sign_compute(m, secret, out) == BH_OK;
    bh_msg_free(m);
    return ok;
}

static int check_sign(char *why, size_t n)
{
    static const char full[] =
        "{\"appkey\":\"FI001\",\"timestamp\":\"2026-11-28 10:00:00\","
        "\"applyno\":\"ZZBH202611280001\",\"baohanno\":\"BH-2026-000123\","
        "\"reason\":\"项目终止，申请退保\","
        "\"sign\":\"3AC5B6F1173C414153AF277ACD6C912E4737E01F57C3B7A0DBAA98AEA1FA9435\"}";
    static const char short_form[] = "{\"appkey\":\"FI001\",\"timestamp\":\"2026-11-28 10:00:00\","
                                     "\"applyno\":\"ZZBH202611280001\"}";
    static const char string[] =
        "appkey=FI001&applyno=ZZBH202611280001&baohanno=BH-2026-000123&reason=项目终止，"
        "申请退保&timestamp=2026-11-28 10:00:00&appsecret=" SIGN_SECRET;
    char sig[BH_SM3_HEX_LEN + 1];
    int ok = 0;
    bh_msg *m = NULL;
    bh_buf s;
    bh_buf_init(&s, BH_MSG_MAX_REQUEST);
    if (bh_msg_parse(full, strlen(full), BH_MSG_MAX_REQUEST, 0, &m, NULL) != BH_OK) {
        fail(why, n, "the example does not parse", BH_OK);
        goto out;
    }
    if (bh_sign_string(m, SIGN_SECRET, &s) != BH_OK || !s.data || strcmp(s.data, string) != 0) {
        fail(why, n, "wrong string to hash for the worked example", BH_OK);
        goto out;
    }
    if (bh_sign_compute(m, SIGN_SECRET, sig) != BH_OK ||
        strcmp(sig, "3ac5b6f1173c414153af277acd6c912e4737e01f57c3b7a0dbaa98aea1fa9435") != 0) {
        fail(why, n, "wrong signature for the worked example", BH_OK);
        goto out;
    }
    if (bh_sign_verify(m, SIGN_SECRET, NULL) != BH_OK) {
        fail(why, n, "the upper-case signature is not accepted", BH_OK);
        goto out;
    }
    if (bh_sign_verify(m, "s3cr3t-FI002", NULL) != BH_ESIGN) {
        fail(why, n, "a wrong appsecret is not detected", BH_OK);
        goto out;
    }
    if (!sign_of(short_form, SIGN_SECRET, sig) ||
        strcmp(sig, "0e4a7c923701666d83e537945b34be773b4adee49f650b36f3c618a9c3bce97b") != 0) {
        fail(why, n, "wrong signature for the three-field example", BH_OK);
        goto out;
    }
    ok = 1;
out:
    bh_msg_free(m);
    bh_buf_release(&s);
    return ok;
}

static int check_encrypt(char *why, size_t n)
{
    static const char *const pairs[][2] = {
        {"ZZ-2026-0001-01", "AgpubKMdybsuh8jfX3SkCg=="},
        {"漳州市某某道路工程施工",
         "Lknn0cPQCzgcm6ayMrx3blw9agwx8hYfF8LvpsA8LEu7+4ljIe/NCxRU0tcU+2vr"},
        {"2026-12-20 09:30:00", "jcNZwoss8F1I0/vB1FaDxkecALPK4FySCpzhkGOq21c="},
    };
    bh_sm4_key key;
    if (bh_sm4_key_parse(KAT_KEY_HEX, &key, NULL, "key") != BH_OK)
        return fail(why, n, "the test key does not parse", BH_OK);
    int ok = 1;
    bh_buf b;
    bh_buf_init(&b, BH_MSG_MAX_REQUEST);
    for (size_t i = 0; ok && i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *plain = pairs[i][0], *cipher = pairs[i][1];
        bh_buf_reset(&b);
        if (bh_sm4_encrypt_field(&key, plain, strlen(plain), &b) != BH_OK || !b.data ||
            strcmp(b.data, cipher) != 0) {
            ok = 0;
            snprintf(why, n, "wrong ciphertext for example %zu", i + 1);
            break;
        }
        bh_buf_reset(&b);
        if (bh_sm4_decrypt_field(&key, cipher, strlen(cipher), &b) != BH_OK || !b.data ||
            strcmp(b.data, plain) != 0) {
            ok = 0;
            snprintf(why, n, "example %zu does not decrypt back", i + 1);
        }
    }
    bh_buf_release(&b);
    return ok;
}

/* tests/data/examples/baohanapply.plain.json */
static const char apply_plain[] =
    "{\"applyno\":\"ZZBH2026112800017\","
    "\"biddername\":\"福建省漳州市恒泰建设工程有限公司\","
    "\"biddercode\":\"91350602MA2Y3K7P18\","
    "\"biaoduanno\":\"ZZGC-2026-0412-01\","
    "\"biaoduanname\":\"漳州市芗城区九龙江西岸道路提升工程施工第一标段\","
    "\"bzjamount\":\"200000.00\","
    "\"zbr\":\"漳州市芗城区城市建设投资有限公司\","
    "\"zbrorgnum\":\"91350600154321876F\","
    "\"approvalcode\":\"漳芗发改审〔2026〕118号\","
    "\"projectcode\":\"2026-350602-48-01-012345\","
    "\"projectno\":\"ZZGC-2026-0412\","
    "\"projectname\":\"漳州市芗城区九龙江西岸道路提升工程\","
    "\"reckonprice\":\"18650000.00\","
    "\"tendererbankcode\":\"35050166010700001234\","
    "\"tendereropenbank\":\"中国建设银行股份有限公司漳州芗城支行\","
    "\"tendererbankaccount\":\"漳州市芗城区城市建设投资有限公司\","
    "\"tenderercontact\":\"林建国\","
    "\"tenderercontacttel\":\"0596-2031234\","
    "\"citycode\":\"350602\","
    "\"projecttype\":\"施工\","
    "\"bzjendtime\":\"2026-12-18 17:00:00\","
    "\"kaibiaotime\":\"2026-12-21 09:30:00\","
    "\"tbyxq\":\"90\","
    "\"tendernoticeurl\":\"https://ggzy.example.gov.cn/zbgg/2026/ZZGC-2026-0412.html\","
    "\"tenderfileurl\":\"https://ggzy.example.gov.cn/zbwj/2026/ZZGC-2026-0412.zip\"}";

/* Every field of `plain` is in `opened` with the same value. */
static int same_fields(const bh_msg *plain, const bh_msg *opened)
{
    for (size_t i = 0; i < bh_msg_count(plain); i++) {
        const bh_field *a = bh_msg_at(plain, i), *b = bh_msg_get(opened, a->key);
        if (!b || a->type != b->type || a->value_len != b->value_len ||
            memcmp(a->value, b->value, a->value_len) != 0)
            return 0;
    }
    return 1;
}

static int check_seal_open(char *why, size_t n)
{
    const bh_iface *iface = bh_iface_find("baohanapply");
    bh_credentials cred = {"FI001", SIGN_SECRET, {{0}}};
    bh_msg *plain = NULL, *wire = NULL, *opened = NULL;
    bh_diag d = BH_DIAG_INIT;
    int ok = 0;
    int64_t now;
    if (!iface)
        return fail(why, n, "no baohanapply interface", BH_OK);
    if (bh_sm4_key_parse(KAT_KEY_HEX, &cred.key, NULL, "key") != BH_OK ||
        bh_time_parse("2026-11-28 10:00:00", BH_TIME_TEXT_LEN, &now, NULL, "now") != BH_OK ||
        bh_msg_parse(apply_plain, strlen(apply_plain), BH_MSG_MAX_REQUEST, 0, &plain, NULL) !=
            BH_OK)
        return fail(why, n, "the test data does not parse", BH_OK);
    bh_err err = bh_seal(iface, &cred, plain, now, &wire, &d);
    if (err != BH_OK) {
        fail(why, n, "the example does not seal", err);
        goto out;
    }
    const char *sealed = bh_msg_text(wire, "biaoduanname");
    const char *bidder = bh_msg_text(wire, "biddername");
    if (!sealed || strcmp(sealed, bh_msg_text(plain, "biaoduanname")) == 0 || !bidder ||
        strcmp(bidder, bh_msg_text(plain, "biddername")) != 0) {
        fail(why, n, "密文 fields are not encrypted, or others are", BH_OK);
        goto out;
    }
    const char *ts = bh_msg_text(wire, "timestamp");
    if (!ts || strcmp(ts, "2026-11-28 10:00:00") != 0) {
        fail(why, n, "the timestamp is not filled in", BH_OK);
        goto out;
    }
    err = bh_open(iface, &cred, wire, &opened, &d);
    if (err != BH_OK) {
        fail(why, n, "the sealed example does not open", err);
        goto out;
    }
    if (!same_fields(plain, opened)) {
        fail(why, n, "opening does not give the plaintext back", BH_OK);
        goto out;
    }
    /* Tampering: a changed field breaks the signature; a bad ciphertext under
     * a valid signature is refused naming the field. */
    bh_msg_free(opened);
    opened = NULL;
    bh_diag_release(&d);
    if (bh_msg_set_str(wire, "biaoduanname", "AAAA") != BH_OK) {
        fail(why, n, "out of memory", BH_ENOMEM);
        goto out;
    }
    if (bh_open(iface, &cred, wire, &opened, &d) != BH_ESIGN || !bh_diag_find(&d, "sign")) {
        fail(why, n, "a tampered request is not refused on its signature", BH_OK);
        goto out;
    }
    bh_diag_release(&d);
    if (bh_sign_apply(wire, SIGN_SECRET) != BH_OK) {
        fail(why, n, "re-signing failed", BH_OK);
        goto out;
    }
    if (bh_open(iface, &cred, wire, &opened, &d) == BH_OK || !bh_diag_find(&d, "biaoduanname")) {
        fail(why, n, "an undecryptable field is not refused by name", BH_OK);
        goto out;
    }
    ok = 1;
out:
    bh_wipe(&cred.key, sizeof cred.key);
    bh_diag_release(&d);
    bh_msg_free(plain);
    bh_msg_free(wire);
    bh_msg_free(opened);
    return ok;
}

static const check checks[] = {
    {"sm3", "SM3 of \"abc\" and of the 64-byte message, GB/T 32905 examples", check_sm3},
    {"sm4", "SM4 block encrypt and decrypt, GB/T 32907 example 1", check_sm4_block},
    {"sm4-million", "SM4 encryption iterated 1,000,000 times, GB/T 32907 example 2",
     check_sm4_million},
    {"sm4-key", "SM4 key in hex and Base64 forms, PROTOCOL.md section 3", check_sm4_key},
    {"sign", "SM3 signature worked examples, PROTOCOL.md section 4", check_sign},
    {"encrypt", "field encryption examples, PROTOCOL.md section 5", check_encrypt},
    {"seal-open", "baohanapply seal, open and tamper detection", check_seal_open},
};

static int run_selfcheck(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_selfcheck;
    size_t npos;
    const cli_opt opts[] = {{NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 0, NULL, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    size_t total = sizeof checks / sizeof checks[0], failed = 0;
    for (size_t i = 0; i < total; i++) {
        char why[256] = "";
        if (checks[i].fn(why, sizeof why)) {
            printf("ok    %-12s %s\n", checks[i].name, checks[i].what);
        } else {
            printf("FAIL  %-12s %s: %s\n", checks[i].name, checks[i].what, why);
            failed++;
        }
    }
    if (failed) {
        fflush(stdout);
        fprintf(stderr, "selfcheck: %zu of %zu checks failed\n", failed, total);
        return CLI_EXIT_REFUSED;
    }
    printf("selfcheck: all %zu checks passed\n", total);
    return CLI_EXIT_OK;
}

const cli_cmd cli_cmd_selfcheck = {
    "selfcheck",
    "run the known-answer tests of this build",
    "usage: baohan selfcheck\n",
    "Runs known-answer tests through the library: SM3 and SM4 against their\n"
    "national standards' examples, both SM4 key forms, the signature and field\n"
    "encryption examples of PROTOCOL.md, and a baohanapply request sealed,\n"
    "opened and tampered with. Prints one line per check (\"ok\" or \"FAIL\"),\n"
    "then \"selfcheck: all N checks passed\" and exits 0, or exits 1.\n",
    run_selfcheck,
};
