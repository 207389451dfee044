/* Tests of lib/gm.c: SM3, SM4 and MD5 against the national standards' known
 * answers and the protocol's own examples, round trips on generated input,
 * and every failure with its exact code. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "baohan/codec.h"
#include "baohan/gm.h"
#include "check.h"

#define SPEC_KEY_HEX "0123456789abcdeffedcba9876543210"
#define SPEC_KEY_B64 "ASNFZ4mrze/+3LqYdlQyEA==" /* the same 16 bytes */
#define OTHER_KEY_B64 "qhAej/h6yk3mVsUpM+khUQ=="

static bh_sm4_key key_of(const char *text)
{
    bh_sm4_key k;
    memset(&k, 0, sizeof k);
    CHECK_EQ(bh_sm4_key_parse(text, &k, NULL, "key"), BH_OK);
    return k;
}

static void hex_of(const void *data, size_t len, char *out)
{
    bh_hex_encode_to(data, len, 0, out);
}

/* Encrypting `plain` as a field must give exactly `want`. */
static void check_encrypts_to(const bh_sm4_key *k, const char *plain, const char *want)
{
    bh_buf out;
    bh_buf_init(&out, 4096);
    CHECK_EQ(bh_sm4_encrypt_field(k, plain, strlen(plain), &out), BH_OK);
    CHECK_STR(out.data, want);
    bh_buf_release(&out);
}

static void check_decrypts_to(const bh_sm4_key *k, const char *b64, const char *want)
{
    bh_buf out;
    bh_buf_init(&out, 4096);
    CHECK_EQ(bh_sm4_decrypt_field(k, b64, strlen(b64), &out), BH_OK);
    CHECK_STR(out.data, want);
    CHECK_EQ(out.len, strlen(want));
    bh_buf_release(&out);
}

/* Decrypting must fail with `want` and leave a pre-filled `out` untouched. */
static void check_decrypt_fails(const bh_sm4_key *k, const char *b64, size_t len, bh_err want)
{
    bh_buf out;
    bh_buf_init(&out, 4096);
    CHECK_EQ(bh_buf_addstr(&out, "prefix"), BH_OK);
    CHECK_EQ(bh_sm4_decrypt_field(k, b64, len, &out), want);
    CHECK_EQ(out.len, 6);
    CHECK_STR(out.data, "prefix");
    bh_buf_release(&out);
}

static void test_sm3_known_answers(void)
{
    char hex[BH_SM3_HEX_LEN + 1];
    /* GB/T 32905-2016 appendix A, example 1 */
    CHECK_EQ(bh_sm3_hex("abc", 3, hex), BH_OK);
    CHECK_STR(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    /* example 2: "abcd" sixteen times, 64 bytes */
    char msg[65] = "";
    for (int i = 0; i < 16; i++)
        memcpy(msg + 4 * i, "abcd", 4);
    msg[64] = '\0';
    CHECK_EQ(bh_sm3_hex(msg, 64, hex), BH_OK);
    CHECK_STR(hex, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
    /* the empty message, given as NULL and as a pointer */
    CHECK_EQ(bh_sm3_hex(NULL, 0, hex), BH_OK);
    CHECK_STR(hex, "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b");
    CHECK_EQ(bh_sm3_hex("", 0, hex), BH_OK);
    CHECK_STR(hex, "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b");
    /* raw digest agrees with the hex form */
    uint8_t md[BH_SM3_LEN];
    char again[BH_SM3_HEX_LEN + 1];
    CHECK_EQ(bh_sm3("abc", 3, md), BH_OK);
    hex_of(md, sizeof md, again);
    CHECK_STR(again, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    CHECK_EQ(bh_sm3(NULL, 5, md), BH_EINVAL);
}

static void test_sm3_protocol_example(void)
{
    /* PROTOCOL.md §4, the worked signature example */
    const char *s = "appkey=FI001&applyno=ZZBH202611280001&baohanno=BH-2026-000123&"
                    "reason=项目终止，申请退保&timestamp=2026-11-28 10:00:00&"
                    "appsecret=s3cr3t-FI001";
    char hex[BH_SM3_HEX_LEN + 1];
    CHECK_EQ(bh_sm3_hex(s, strlen(s), hex), BH_OK);
    CHECK_STR(hex, "3ac5b6f1173c414153af277acd6c912e4737e01f57c3b7a0dbaa98aea1fa9435");
}

static void test_md5(void)
{
    char hex[BH_MD5_HEX_LEN + 1];
    CHECK_EQ(bh_md5_hex("", 0, hex), BH_OK);
    CHECK_STR(hex, "D41D8CD98F00B204E9800998ECF8427E");
    CHECK_EQ(bh_md5_hex("abc", 3, hex), BH_OK);
    CHECK_STR(hex, "900150983CD24FB0D6963F7D28E17F72");
}

static void test_sm4_known_answer(void)
{
    /* GB/T 32907-2016 appendix A, example 1 */
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    uint8_t block[16], back[16];
    char hex[33];
    memcpy(block, k.bytes, 16);                               /* plaintext equals key */
    CHECK_EQ(bh_sm4_ecb_raw(&k, 1, block, block, 16), BH_OK); /* in place */
    hex_of(block, 16, hex);
    CHECK_STR(hex, "681edf34d206965e86b3e94f536e4246");
    CHECK_EQ(bh_sm4_ecb_raw(&k, 0, block, back, 16), BH_OK);
    hex_of(back, 16, hex);
    CHECK_STR(hex, SPEC_KEY_HEX);

    /* several blocks at once equal block-by-block */
    uint8_t many[48], one[16];
    for (int i = 0; i < 3; i++)
        memcpy(many + 16 * i, k.bytes, 16);
    CHECK_EQ(bh_sm4_ecb_raw(&k, 1, many, many, sizeof many), BH_OK);
    CHECK_EQ(bh_sm4_ecb_raw(&k, 1, k.bytes, one, 16), BH_OK);
    for (int i = 0; i < 3; i++)
        CHECK(memcmp(many + 16 * i, one, 16) == 0);

    /* only whole blocks */
    CHECK_EQ(bh_sm4_ecb_raw(&k, 1, block, block, 15), BH_EINVAL);
    CHECK_EQ(bh_sm4_ecb_raw(&k, 1, block, block, 17), BH_EINVAL);
    CHECK_EQ(bh_sm4_ecb_raw(&k, 1, block, block, 0), BH_OK);
    CHECK_EQ(bh_sm4_ecb_raw(NULL, 1, block, block, 16), BH_EINVAL);
}

static void test_sm4_million(void)
{
    /* GB/T 32907-2016 appendix A, example 2: one million encryptions */
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    uint8_t block[16];
    char hex[33];
    memcpy(block, k.bytes, 16);
    bh_err err = BH_OK;
    for (long i = 0; i < 1000000 && !err; i++)
        err = bh_sm4_ecb_raw(&k, 1, block, block, 16);
    CHECK_EQ(err, BH_OK);
    hex_of(block, 16, hex);
    CHECK_STR(hex, "595298c7c6fd271f0402f804c33d3f66");
}

static void test_key_parse(void)
{
    bh_sm4_key a = key_of(SPEC_KEY_HEX);
    bh_sm4_key b = key_of("0123456789ABCDEFFEDCBA9876543210");
    bh_sm4_key c = key_of("0123456789abcdefFEDCBA9876543210");
    bh_sm4_key d = key_of(SPEC_KEY_B64);
    static const uint8_t want[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                     0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    CHECK(memcmp(a.bytes, want, 16) == 0);
    CHECK(memcmp(b.bytes, want, 16) == 0);
    CHECK(memcmp(c.bytes, want, 16) == 0);
    CHECK(memcmp(d.bytes, want, 16) == 0);
    bh_sm4_key e = key_of(OTHER_KEY_B64);
    static const uint8_t other[16] = {0xaa, 0x10, 0x1e, 0x8f, 0xf8, 0x7a, 0xca, 0x4d,
                                      0xe6, 0x56, 0xc5, 0x29, 0x33, 0xe9, 0x21, 0x51};
    CHECK(memcmp(e.bytes, other, 16) == 0);
}

static void test_key_parse_failures(void)
{
    static const char *const bad[] = {
        "",
        "0123456789abcdeffedcba987654321",   /* 31 hex */
        "0123456789abcdeffedcba98765432100", /* 33 hex */
        "0123456789abcdeffedcba987654321g",  /* 32 chars, one not hex */
        "0123456789abcdef fedcba987654321",  /* a space */
        "0x0123456789abcdeffedcba98765432",  /* 0x prefix */
        "AAECAwQFBgcICQoLDA0O",              /* Base64 of 15 bytes */
        "AAECAwQFBgcICQoLDA0ODxA=",          /* Base64 of 17 bytes */
        "AAECAwQFBgcICQoLDA0ODw",            /* 16 bytes, padding missing */
        "AAECAwQFBgcICQoLDA0ODx==",          /* 16 bytes, trailing bits not zero */
        " AAECAwQFBgcICQoLDA0ODw==",         /* leading space */
        "AAECAwQFBgcICQoLDA0ODw==\n",        /* trailing newline */
        "0123456789abcdeffedcba9876543210\n",
        "not a key at all",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bh_diag d = BH_DIAG_INIT;
        bh_sm4_key k;
        memset(&k, 0x5a, sizeof k);
        CHECK_EQ(bh_sm4_key_parse(bad[i], &k, &d, "sm4key"), BH_EKEY);
        CHECK_EQ(d.count, 1);
        const bh_problem *p = bh_diag_find(&d, "sm4key");
        CHECK(p != NULL);
        if (p) {
            CHECK_EQ(p->code, BH_EKEY);
            /* the message names the rule but never echoes the key */
            CHECK(strstr(p->message, "32 hexadecimal") != NULL);
            if (bad[i][0])
                CHECK(strstr(p->message, bad[i]) == NULL);
            CHECK(strstr(p->message, "0123456789") == NULL);
            CHECK(strstr(p->message, "AAEC") == NULL);
        }
        bh_diag_release(&d);
    }
    /* a NULL diag is allowed; a NULL text is a bad key */
    bh_sm4_key k;
    CHECK_EQ(bh_sm4_key_parse("abc", &k, NULL, "key"), BH_EKEY);
    CHECK_EQ(bh_sm4_key_parse(NULL, &k, NULL, "key"), BH_EKEY);
    /* the 16-byte control case of the list above does parse */
    CHECK_EQ(bh_sm4_key_parse("AAECAwQFBgcICQoLDA0ODw==", &k, NULL, "key"), BH_OK);
    CHECK_EQ(k.bytes[0], 0);
    CHECK_EQ(k.bytes[15], 15);
}

static void test_protocol_examples(void)
{
    /* PROTOCOL.md §5, with the key in each accepted form */
    static const char *const keys[] = {SPEC_KEY_HEX, "0123456789ABCDEFFEDCBA9876543210",
                                       SPEC_KEY_B64};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        bh_sm4_key k = key_of(keys[i]);
        check_encrypts_to(&k, "ZZ-2026-0001-01", "AgpubKMdybsuh8jfX3SkCg==");
        check_encrypts_to(&k, "漳州市某某道路工程施工",
                          "Lknn0cPQCzgcm6ayMrx3blw9agwx8hYfF8LvpsA8LEu7+4ljIe/NCxRU0tcU+2vr");
        check_encrypts_to(&k, "2026-12-20 09:30:00",
                          "jcNZwoss8F1I0/vB1FaDxkecALPK4FySCpzhkGOq21c=");
        check_decrypts_to(&k, "AgpubKMdybsuh8jfX3SkCg==", "ZZ-2026-0001-01");
        check_decrypts_to(&k, "Lknn0cPQCzgcm6ayMrx3blw9agwx8hYfF8LvpsA8LEu7+4ljIe/NCxRU0tcU+2vr",
                          "漳州市某某道路工程施工");
        check_decrypts_to(&k,
                          "jcNZwoss8F1I0/vB1FaDxkecALPK4FySCpzhkGOq21c=", "2026-12-20 09:30:00");
    }
    /* a different key gives a different ciphertext */
    bh_sm4_key other = key_of(OTHER_KEY_B64);
    check_encrypts_to(&other, "ZZ-2026-0001-01", "pk3cepJMXwp4/SQU/5UZew==");
}

static void test_appends(void)
{
    /* both directions append after what `out` already holds */
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    bh_buf out;
    bh_buf_init(&out, 4096);
    CHECK_EQ(bh_buf_addstr(&out, "x="), BH_OK);
    CHECK_EQ(bh_sm4_encrypt_field(&k, "ZZ-2026-0001-01", 15, &out), BH_OK);
    CHECK_STR(out.data, "x=AgpubKMdybsuh8jfX3SkCg==");
    CHECK_EQ(bh_buf_addstr(&out, ";"), BH_OK);
    CHECK_EQ(bh_sm4_decrypt_field(&k, "AgpubKMdybsuh8jfX3SkCg==", 24, &out), BH_OK);
    CHECK_STR(out.data, "x=AgpubKMdybsuh8jfX3SkCg==;ZZ-2026-0001-01");
    bh_buf_release(&out);
}

static void test_padding_full_block(void)
{
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    bh_buf c, p;
    bh_buf_init(&c, 1024);
    bh_buf_init(&p, 1024);
    CHECK_EQ(bh_sm4_encrypt(&k, "0123456789abcdef", 16, &c), BH_OK);
    CHECK_EQ(c.len, 32);
    /* the second block is sixteen bytes of 0x10 */
    uint8_t pad[16];
    memset(pad, 16, sizeof pad);
    CHECK_EQ(bh_sm4_ecb_raw(&k, 0, (uint8_t *)c.data + 16, (uint8_t *)c.data + 16, 16), BH_OK);
    CHECK(memcmp(c.data + 16, pad, 16) == 0);
    bh_buf_reset(&c);
    /* every plaintext length gives the next multiple of 16 strictly above it */
    for (size_t n = 0; n <= 48; n++) {
        uint8_t data[48] = {0};
        bh_buf_reset(&c);
        CHECK_EQ(bh_sm4_encrypt(&k, data, n, &c), BH_OK);
        CHECK_EQ(c.len, (n / 16 + 1) * 16);
    }
    bh_buf_release(&c);
    bh_buf_release(&p);
}

static void test_binary_round_trips(void)
{
    bh_sm4_key k;
    CHECK_EQ(bh_random_bytes(k.bytes, sizeof k.bytes), BH_OK);
    static uint8_t data[4096];
    CHECK_EQ(bh_random_bytes(data, sizeof data), BH_OK);
    data[3] = 0; /* NUL bytes are fine for the binary interface */
    static const size_t big[] = {80, 96, 128, 256, 1024, 4095, 4096};
    for (size_t i = 0; i <= 64 + sizeof big / sizeof *big; i++) {
        size_t n = i <= 64 ? i : big[i - 65];
        bh_buf c, p;
        bh_buf_init(&c, 8192);
        bh_buf_init(&p, 8192);
        CHECK_EQ(bh_sm4_encrypt(&k, data, n, &c), BH_OK);
        CHECK_EQ(bh_sm4_decrypt(&k, c.data, c.len, &p), BH_OK);
        CHECK_EQ(p.len, n);
        CHECK(p.data && memcmp(p.data, data, n) == 0);
        bh_buf_release(&c);
        bh_buf_wipe(&p);
    }
}

static void check_field_round_trip(const bh_sm4_key *k, const char *text, size_t len)
{
    bh_buf c, p;
    bh_buf_init(&c, BH_BUF_MAX_DEFAULT);
    bh_buf_init(&p, BH_BUF_MAX_DEFAULT);
    CHECK_EQ(bh_sm4_encrypt_field(k, text, len, &c), BH_OK);
    CHECK_EQ(c.len, (len / 16 + 1) * 16 / 3 * 4 + ((len / 16 + 1) * 16 % 3 ? 4 : 0));
    CHECK_EQ(bh_sm4_decrypt_field(k, c.data, c.len, &p), BH_OK);
    CHECK_EQ(p.len, len);
    CHECK(p.data && memcmp(p.data, text, len) == 0);
    bh_buf_release(&c);
    bh_buf_release(&p);
}

/* Appends the UTF-8 form of a code point. */
static size_t put_utf8(char *s, uint32_t cp)
{
    unsigned char *u = (unsigned char *)s;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    u[0] = (unsigned char)(0xf0 | cp >> 18);
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    u[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

static void test_field_round_trips(void)
{
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    static char text[4096];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('!' + i % 94);
    /* every length 0..64, then larger multiples of 16 and 4 KiB */
    for (size_t n = 0; n <= 64; n++)
        check_field_round_trip(&k, text, n);
    for (size_t n = 80; n <= 1024; n += 16)
        check_field_round_trip(&k, text, n);
    check_field_round_trip(&k, text, sizeof text);
    check_field_round_trip(&k, text, sizeof text - 1);
    /* one byte; NULL with zero length is the empty field */
    check_field_round_trip(&k, "a", 1);
    bh_buf c;
    bh_buf_init(&c, 1024);
    CHECK_EQ(bh_sm4_encrypt_field(&k, NULL, 0, &c), BH_OK);
    CHECK_EQ(c.len, 24);
    bh_buf_release(&c);
}

static void test_unicode_planes(void)
{
    /* Code points from every plane 0..16, skipping surrogates (and NUL, which
     * a field may not hold): per plane, a stride through it plus its edges. */
    bh_sm4_key k = key_of(SPEC_KEY_B64);
    bh_buf all;
    bh_buf_init(&all, BH_BUF_MAX_DEFAULT);
    size_t points = 0;
    for (uint32_t plane = 0; plane <= 16; plane++) {
        bh_buf one;
        bh_buf_init(&one, BH_BUF_MAX_DEFAULT);
        size_t plane_points = 0;
        for (uint32_t off = 0; off <= 0xffff; off += off < 0x100 ? 1 : 251) {
            uint32_t cp = plane << 16 | off;
            if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                continue;
            char u[4];
            size_t n = put_utf8(u, cp);
            CHECK_EQ(bh_buf_add(&one, u, n), BH_OK);
            plane_points++;
        }
        char u[4];
        size_t n = put_utf8(u, plane << 16 | 0xffff); /* the plane's last */
        CHECK_EQ(bh_buf_add(&one, u, n), BH_OK);
        plane_points++;
        CHECK(bh_utf8_valid(one.data, one.len));
        CHECK_EQ(bh_utf8_length(one.data, one.len), plane_points);
        check_field_round_trip(&k, one.data, one.len);
        CHECK_EQ(bh_buf_add(&all, one.data, one.len), BH_OK);
        points += plane_points;
        bh_buf_release(&one);
    }
    /* the edges of the encoding lengths and the surrogate gap */
    static const uint32_t edges[] = {0x7f,   0x80,   0x7ff,   0x800,    0xd7ff,
                                     0xe000, 0xfffd, 0x10000, 0x10ffff, 0x1};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        char u[4];
        size_t n = put_utf8(u, edges[i]);
        CHECK_EQ(bh_buf_add(&all, u, n), BH_OK);
        points++;
        check_field_round_trip(&k, u, n);
    }
    CHECK_EQ(bh_utf8_length(all.data, all.len), points);
    check_field_round_trip(&k, all.data, all.len);
    bh_buf_release(&all);
}

static void test_base64_failures(void)
{
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    /* the good one, for contrast */
    check_decrypts_to(&k, "AgpubKMdybsuh8jfX3SkCg==", "ZZ-2026-0001-01");
    static const char *const bad[] = {
        "AgpubKMdybsuh8jfX3SkCg=",                      /* length not a multiple of 4 */
        "AgpubKMdybsuh8jfX3SkCg",                       /* padding left off */
        "AgpubKMdybsuh8jfX3SkCg===",                    /* too much padding */
        "AgpubKMd ybsuh8jfX3SkCg==",                    /* space */
        "AgpubKMdybsuh8jf\nX3SkCg==",                   /* line break */
        "AgpubKMdybsuh8jfX3SkCg==\n",                   /* trailing newline */
        "Agpub-MdybSuh8jfX3SkCg==",                     /* URL-safe alphabet */
        "Agpub_MdybSuh8jfX3SkCg==",                     /* URL-safe alphabet */
        "Agpu=KMdybsuh8jfX3SkCg==",                     /* '=' in the middle */
        "AgpubKMdybsuh8jfX3Sk=g==",                     /* '=' in the last group, not at the end */
        "AgpubKMdybsuh8jfX3SkCh==",                     /* unused bits of the last character set */
        "AgpubKMdybsuh8jfX3SkCv==",                     /* unused bits of the last character set */
        "jcNZwoss8F1I0/vB1FaDxkecALPK4FySCpzhkGOq21d=", /* unused bits, one '=' */
        "AgpubKMdybsuh8jfX3SkCg%%",                     /* not Base64 at all */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        check_decrypt_fails(&k, bad[i], strlen(bad[i]), BH_EBASE64);
    /* a NUL inside the given length is not in the alphabet */
    check_decrypt_fails(&k, "AgpubKMd\0bsuh8jfX3SkCg==", 24, BH_EBASE64);
}

static void test_length_failures(void)
{
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    /* valid Base64 whose bytes are not a positive multiple of 16 */
    check_decrypt_fails(&k, "", 0, BH_EDECRYPT);
    check_decrypt_fails(&k, "AgpubKMdybsuh8jfX3Sk", 20, BH_EDECRYPT);     /* 15 bytes */
    check_decrypt_fails(&k, "AgpubKMdybsuh8jfX3SkCgA=", 24, BH_EDECRYPT); /* 17 bytes */
    check_decrypt_fails(&k, "AgpubKMdybsuh8jfX3SkCgAA", 24, BH_EDECRYPT); /* 18 bytes */
    check_decrypt_fails(&k, "AA==", 4, BH_EDECRYPT);
    bh_buf out;
    bh_buf_init(&out, 100);
    CHECK_EQ(bh_sm4_decrypt(&k, "0123456789abcde", 15, &out), BH_EDECRYPT);
    CHECK_EQ(bh_sm4_decrypt(&k, "", 0, &out), BH_EDECRYPT);
    CHECK_EQ(out.len, 0);
    bh_buf_release(&out);
}

/* Base64 of one block that decrypts to `block` under `k`. */
static void b64_of_block(const bh_sm4_key *k, const uint8_t *block, size_t len, bh_buf *b64)
{
    uint8_t c[64];
    CHECK(len <= sizeof c && len % 16 == 0);
    CHECK_EQ(bh_sm4_ecb_raw(k, 1, block, c, len), BH_OK);
    CHECK_EQ(bh_base64_encode(c, len, b64), BH_OK);
}

static void test_padding_failures(void)
{
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    struct {
        uint8_t last[16]; /* the final block's plaintext */
    } cases[5];
    memset(cases, 'a', sizeof cases);
    cases[0].last[15] = 0x00; /* count 0 */
    cases[1].last[15] = 0x11; /* count 17 */
    cases[2].last[15] = 0xff; /* count 255 */
    cases[3].last[14] = 0x03; /* count 2, but the bytes differ */
    cases[3].last[15] = 0x02;
    memset(cases[4].last, 0x10, 16); /* count 16, one byte off */
    cases[4].last[0] = 0x0f;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bh_buf b64;
        bh_buf_init(&b64, 1024);
        b64_of_block(&k, cases[i].last, 16, &b64);
        check_decrypt_fails(&k, b64.data, b64.len, BH_EDECRYPT);
        bh_buf_release(&b64);
    }
    /* and the accepted extremes: count 1 and a full block of 16 */
    uint8_t ok[32];
    memset(ok, 'a', sizeof ok);
    ok[15] = 0x01;
    memset(ok + 16, 0x10, 16);
    bh_buf b64;
    bh_buf_init(&b64, 1024);
    b64_of_block(&k, ok, 32, &b64);
    check_decrypts_to(&k, b64.data, "aaaaaaaaaaaaaaa\x01");

    /* the wrong key: the padding does not check out */
    bh_sm4_key other = key_of(OTHER_KEY_B64);
    check_decrypt_fails(&other, "AgpubKMdybsuh8jfX3SkCg==", 24, BH_EDECRYPT);
    check_decrypt_fails(&other, "jcNZwoss8F1I0/vB1FaDxkecALPK4FySCpzhkGOq21c=", 44, BH_EDECRYPT);
    /* the first and the middle block of a three-block ciphertext, on their own */
    check_decrypt_fails(&k, "Lknn0cPQCzgcm6ayMrx3bg==", 24, BH_EDECRYPT);
    check_decrypt_fails(&k, "XD1qDDHyFh8Xwu+mwDwsSw==", 24, BH_EDECRYPT);
    /* Ciphertext too long for the decryptor's stack block (it takes a heap
     * one): the same refusals, the output still untouched. */
    static char text[2000];
    memset(text, 'x', sizeof text);
    bh_buf_release(&b64);
    bh_buf_init(&b64, 4096);
    CHECK_EQ(bh_sm4_encrypt_field(&k, text, sizeof text, &b64), BH_OK);
    check_decrypt_fails(&other, b64.data, b64.len, BH_EDECRYPT);
    b64.data[b64.len - 30] = '*';
    check_decrypt_fails(&k, b64.data, b64.len, BH_EBASE64);
    bh_buf_release(&b64);
}

static void test_utf8_failures(void)
{
    /* ciphertexts with correct padding whose plaintext is not acceptable text */
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\xff\xfe", 2},     {"abc\x80", 4},      {"\xc0\xaf", 2},
        {"\xe0\x80\xaf", 3}, {"\xed\xa0\x80", 3}, {"\xf4\x90\x80\x80", 4},
        {"\xe6\xbc", 2},     {"a\0b", 3},         {"\0", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bh_buf c, b64;
        bh_buf_init(&c, 1024);
        bh_buf_init(&b64, 1024);
        CHECK_EQ(bh_sm4_encrypt(&k, bad[i].bytes, bad[i].len, &c), BH_OK);
        CHECK_EQ(bh_base64_encode(c.data, c.len, &b64), BH_OK);
        check_decrypt_fails(&k, b64.data, b64.len, BH_EUTF8);
        /* and encrypt_field refuses to make such a ciphertext */
        bh_buf_reset(&c);
        CHECK_EQ(bh_sm4_encrypt_field(&k, bad[i].bytes, bad[i].len, &c), BH_EUTF8);
        CHECK_EQ(c.len, 0);
        bh_buf_release(&c);
        bh_buf_release(&b64);
    }
}

static void test_output_cap(void)
{
    /* an `out` too small for the result is BH_ETOOBIG and left unchanged */
    bh_sm4_key k = key_of(SPEC_KEY_HEX);
    bh_buf out;
    bh_buf_init(&out, 32);
    CHECK_EQ(bh_buf_addstr(&out, "12345678"), BH_OK);
    CHECK_EQ(bh_sm4_encrypt_field(&k, "ZZ-2026-0001-01", 15, &out), BH_OK); /* 8 + 24 */
    bh_buf_reset(&out);
    CHECK_EQ(bh_buf_addstr(&out, "123456789"), BH_OK);
    CHECK_EQ(bh_sm4_encrypt_field(&k, "ZZ-2026-0001-01", 15, &out), BH_ETOOBIG);
    CHECK_STR(out.data, "123456789");
    CHECK_EQ(bh_sm4_encrypt(&k, "0123456789abcdef0123", 20, &out), BH_ETOOBIG);
    CHECK_STR(out.data, "123456789");
    /* decryption needs only room for the plaintext, not the ciphertext */
    bh_buf small;
    bh_buf_init(&small, 15);
    CHECK_EQ(bh_sm4_decrypt_field(&k, "AgpubKMdybsuh8jfX3SkCg==", 24, &small), BH_OK);
    CHECK_STR(small.data, "ZZ-2026-0001-01");
    CHECK_EQ(bh_sm4_decrypt_field(&k, "AgpubKMdybsuh8jfX3SkCg==", 24, &small), BH_ETOOBIG);
    CHECK_STR(small.data, "ZZ-2026-0001-01");
    bh_buf_release(&small);
    bh_buf_release(&out);
}

static void test_random(void)
{
    uint8_t a[32], b[32];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK_EQ(bh_random_bytes(a, sizeof a), BH_OK);
    CHECK_EQ(bh_random_bytes(b, sizeof b), BH_OK);
    /* 2^-256 chance of a false failure */
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK_EQ(bh_random_bytes(NULL, 0), BH_OK);
    CHECK_EQ(bh_random_bytes(NULL, 1), BH_EINVAL);
}

static void test_ct_equal_and_wipe(void)
{
    CHECK_EQ(bh_ct_equal("abc", "abc", 3), 1);
    CHECK_EQ(bh_ct_equal("abc", "abd", 3), 0);
    CHECK_EQ(bh_ct_equal("xbc", "abc", 3), 0);
    CHECK_EQ(bh_ct_equal("abc", "abd", 2), 1); /* only `len` bytes count */
    CHECK_EQ(bh_ct_equal("a", "b", 0), 1);
    CHECK_EQ(bh_ct_equal(NULL, NULL, 0), 1);
    uint8_t x[64], y[64];
    memset(x, 7, sizeof x);
    memcpy(y, x, sizeof y);
    CHECK_EQ(bh_ct_equal(x, y, sizeof x), 1);
    y[63] ^= 0x80;
    CHECK_EQ(bh_ct_equal(x, y, sizeof x), 0);

    bh_wipe(x, sizeof x);
    for (size_t i = 0; i < sizeof x; i++)
        CHECK_EQ(x[i], 0);
    bh_wipe(NULL, 0);
}

/* A keyed cipher gives exactly what the key-taking functions give, for any
 * number of operations in a row, in both directions. */
static void test_keyed_cipher(void)
{
    bh_sm4_key key;
    CHECK_EQ(bh_sm4_key_parse("0123456789abcdeffedcba9876543210", &key, NULL, "key"), BH_OK);
    bh_sm4 *c = (bh_sm4 *)&key; /* anything: a refusal must set it to NULL */
    CHECK_EQ(bh_sm4_new(NULL, &c), BH_EINVAL);
    CHECK(c == NULL);
    CHECK_EQ(bh_sm4_new(&key, &c), BH_OK);
    uint8_t block[16], raw[16];
    memcpy(block, key.bytes, 16);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(bh_sm4_ecb_raw(&key, 1, block, raw, 16), BH_OK);
        CHECK_EQ(bh_sm4_blocks(c, 1, block, block, 16), BH_OK);
        CHECK(memcmp(block, raw, 16) == 0);
    }
    CHECK_EQ(bh_sm4_blocks(c, 1, block, block, 15), BH_EINVAL);
    static const char *const values[] = {"ZZ-2026-0001-01", "漳州市某某道路工程施工", "",
                                         "2026-12-20 09:30:00"};
    static const char *const wire[] = {
        "AgpubKMdybsuh8jfX3SkCg==",
        "Lknn0cPQCzgcm6ayMrx3blw9agwx8hYfF8LvpsA8LEu7+4ljIe/NCxRU0tcU+2vr", NULL,
        "jcNZwoss8F1I0/vB1FaDxkecALPK4FySCpzhkGOq21c="};
    bh_buf b64, back;
    bh_buf_init(&b64, 1024);
    bh_buf_init(&back, 1024);
    for (size_t i = 0; i < 4; i++) {
        bh_buf_reset(&b64);
        bh_buf_reset(&back);
        CHECK_EQ(bh_sm4_encrypt_field_with(c, values[i], strlen(values[i]), &b64), BH_OK);
        if (wire[i])
            CHECK_STR(b64.data, wire[i]);
        CHECK_EQ(bh_sm4_decrypt_field_with(c, b64.data, b64.len, &back), BH_OK);
        CHECK_STR(back.data ? back.data : "", values[i]);
    }
    CHECK_EQ(bh_sm4_decrypt_field_with(c, "AAAA", 4, &back), BH_EDECRYPT);
    bh_buf_release(&b64);
    bh_buf_release(&back);
    bh_sm4_free(c);
    bh_sm4_free(NULL);
}

int main(void)
{
    RUN(test_sm3_known_answers);
    RUN(test_sm3_protocol_example);
    RUN(test_md5);
    RUN(test_sm4_known_answer);
    RUN(test_sm4_million);
    RUN(test_key_parse);
    RUN(test_key_parse_failures);
    RUN(test_protocol_examples);
    RUN(test_appends);
    RUN(test_padding_full_block);
    RUN(test_binary_round_trips);
    RUN(test_field_round_trips);
    RUN(test_unicode_planes);
    RUN(test_base64_failures);
    RUN(test_length_failures);
    RUN(test_padding_failures);
    RUN(test_utf8_failures);
    RUN(test_output_cap);
    RUN(test_random);
    RUN(test_ct_equal_and_wipe);
    RUN(test_keyed_cipher);
    return CHECK_DONE();
}
