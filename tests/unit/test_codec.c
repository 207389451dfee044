/* Tests of lib/codec.c: hexadecimal, Base64 (RFC 4648 vectors and every
 * strictness rule) and the UTF-8 validator, checked exhaustively against an
 * independent reference decoder. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "baohan/codec.h"
#include "check.h"

static void test_hex_encode(void)
{
    static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    bh_buf b;
    bh_buf_init(&b, 100);
    CHECK_EQ(bh_hex_encode(bytes, sizeof bytes, 0, &b), BH_OK);
    CHECK_STR(b.data, "00017f80abcdefff");
    CHECK_EQ(b.len, 16);
    CHECK_EQ(bh_hex_encode(bytes, sizeof bytes, 1, &b), BH_OK); /* appends */
    CHECK_STR(b.data, "00017f80abcdefff00017F80ABCDEFFF");
    CHECK_EQ(bh_hex_encode("", 0, 0, &b), BH_OK);
    CHECK_EQ(b.len, 32);
    bh_buf_release(&b);

    char out[17];
    memset(out, 'x', sizeof out);
    bh_hex_encode_to(bytes, sizeof bytes, 1, out);
    CHECK_STR(out, "00017F80ABCDEFFF");
    bh_hex_encode_to(bytes, 0, 0, out);
    CHECK_STR(out, "");

    /* over the maximum: refused, unchanged */
    bh_buf small;
    bh_buf_init(&small, 15);
    CHECK_EQ(bh_hex_encode(bytes, sizeof bytes, 0, &small), BH_ETOOBIG);
    CHECK_EQ(small.len, 0);
    bh_buf_release(&small);
}

static void test_hex_decode(void)
{
    bh_buf b;
    bh_buf_init(&b, 100);
    CHECK_EQ(bh_hex_decode("00017f80abcdefff", 16, &b), BH_OK);
    CHECK_EQ(b.len, 8);
    CHECK(memcmp(b.data, "\x00\x01\x7f\x80\xab\xcd\xef\xff", 8) == 0);
    bh_buf_reset(&b);
    CHECK_EQ(bh_hex_decode("00017F80ABCDEFFF", 16, &b), BH_OK);
    CHECK(memcmp(b.data, "\x00\x01\x7f\x80\xab\xcd\xef\xff", 8) == 0);
    bh_buf_reset(&b);
    CHECK_EQ(bh_hex_decode("aBcD", 4, &b), BH_OK); /* mixed case */
    CHECK(memcmp(b.data, "\xab\xcd", 2) == 0);
    CHECK_EQ(b.data[b.len], '\0');
    CHECK_EQ(bh_hex_decode("", 0, &b), BH_OK);
    CHECK_EQ(b.len, 2);

    /* every byte value round-trips in both cases */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    for (int upper = 0; upper <= 1; upper++) {
        bh_buf h, back;
        bh_buf_init(&h, 1024);
        bh_buf_init(&back, 1024);
        CHECK_EQ(bh_hex_encode(all, sizeof all, upper, &h), BH_OK);
        CHECK_EQ(bh_hex_decode(h.data, h.len, &back), BH_OK);
        CHECK_EQ(back.len, 256);
        CHECK(memcmp(back.data, all, 256) == 0);
        bh_buf_release(&h);
        bh_buf_release(&back);
    }

    /* failures leave `out` as it was */
    static const char *const bad[] = {"0", "abc", "0g", "g0", " 00", "00 ", "0x00", "+1", "zz"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ(bh_hex_decode(bad[i], strlen(bad[i]), &b), BH_EHEX);
        CHECK_EQ(b.len, 2);
        CHECK_EQ(b.data[2], '\0');
    }
    static const char nul_inside[4] = {'0', '0', '\0', '1'};
    CHECK_EQ(bh_hex_decode(nul_inside, sizeof nul_inside, &b), BH_EHEX);
    CHECK_EQ(b.len, 2);
    bh_buf_release(&b);
}

static void test_base64_rfc4648(void)
{
    /* RFC 4648 §10 */
    static const char *const vec[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof vec / sizeof *vec; i++) {
        bh_buf e, d;
        bh_buf_init(&e, 100);
        bh_buf_init(&d, 100);
        CHECK_EQ(bh_base64_encode(vec[i][0], strlen(vec[i][0]), &e), BH_OK);
        CHECK_STR(e.data ? e.data : "", vec[i][1]);
        CHECK_EQ(bh_base64_decode(vec[i][1], strlen(vec[i][1]), &d), BH_OK);
        CHECK_EQ(d.len, strlen(vec[i][0]));
        CHECK_STR(d.data ? d.data : "", vec[i][0]);
        bh_buf_release(&e);
        bh_buf_release(&d);
    }
}

static void test_base64_round_trip(void)
{
    /* all byte values, every length 0..256, both alphabet ends ('+', '/') */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)(255 - i);
    for (size_t n = 0; n <= sizeof all; n++) {
        bh_buf e, d;
        bh_buf_init(&e, 1024);
        bh_buf_init(&d, 1024);
        CHECK_EQ(bh_base64_encode(all, n, &e), BH_OK);
        CHECK_EQ(e.len, (n + 2) / 3 * 4);
        CHECK_EQ(bh_base64_decode(e.data, e.len, &d), BH_OK);
        CHECK_EQ(d.len, n);
        CHECK(n == 0 || memcmp(d.data, all, n) == 0);
        bh_buf_release(&e);
        bh_buf_release(&d);
    }
    bh_buf e;
    bh_buf_init(&e, 100);
    CHECK_EQ(bh_base64_encode("\xfb\xff\xbf", 3, &e), BH_OK);
    CHECK_STR(e.data, "+/+/");
    bh_buf_release(&e);
}

static void test_base64_strict(void)
{
    static const char *const bad[] = {
        "Zg",         "Zg=",      "Zm9",   "Zm9vY",   /* length not a multiple of 4 */
        "Zg==Zg==",   "Zm8=Zm9v",                     /* padding before the end */
        "=Zg=",       "Z===",     "====",  "Zm=v",    /* '=' out of place */
        "Zh==",       "Zv==",     "Zm9=",  "Zm+=",    /* unused bits not zero */
        "Zm9v\n",     "Zm9 v",    " Zm9v", "Zm9\t",   /* whitespace */
        "Zm9-",       "Zm9_",     "Zm9.",  "Zm9\x80", /* outside the alphabet */
        "Zm9vYg==\n",
    };
    bh_buf b;
    bh_buf_init(&b, 100);
    CHECK_EQ(bh_buf_addstr(&b, "kept"), BH_OK);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ(bh_base64_decode(bad[i], strlen(bad[i]), &b), BH_EBASE64);
        CHECK_STR(b.data, "kept");
    }
    CHECK_EQ(bh_base64_decode("Zm\0v", 4, &b), BH_EBASE64);
    CHECK_STR(b.data, "kept");
    /* the legal neighbours of the bad ones, for contrast */
    CHECK_EQ(bh_base64_decode("Zg==", 4, &b), BH_OK);
    CHECK_EQ(bh_base64_decode("Zm8=", 4, &b), BH_OK);
    CHECK_STR(b.data, "keptffo");
    /* over the maximum: refused, unchanged */
    bh_buf small;
    bh_buf_init(&small, 5);
    CHECK_EQ(bh_base64_decode("Zm9vYmFy", 8, &small), BH_ETOOBIG);
    CHECK_EQ(small.len, 0);
    CHECK_EQ(bh_base64_encode("foob", 4, &small), BH_ETOOBIG);
    CHECK_EQ(small.len, 0);
    bh_buf_release(&small);
    bh_buf_release(&b);
}

/* An independent reference: decode by bit patterns, then reject by value. */
static int ref_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp, min;
        if ((c & 0x80) == 0) {
            n = 1, cp = c, min = 0;
        } else if ((c & 0xe0) == 0xc0) {
            n = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i < n)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n;
    }
    return 1;
}

static void test_utf8_cases(void)
{
    static const char *const good[] = {
        "",
        "plain ASCII",
        "\x7f",
        "\xc2\x80",         /* U+0080 */
        "\xdf\xbf",         /* U+07FF */
        "\xe0\xa0\x80",     /* U+0800 */
        "\xed\x9f\xbf",     /* U+D7FF, below the surrogates */
        "\xee\x80\x80",     /* U+E000, above them */
        "\xef\xbf\xbf",     /* U+FFFF */
        "\xf0\x90\x80\x80", /* U+10000 */
        "\xf4\x8f\xbf\xbf", /* U+10FFFF */
        "漳州市某某道路工程施工",
        "项目终止，申请退保",
        "\xf0\x9f\x98\x80 emoji",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK_EQ(bh_utf8_valid(good[i], strlen(good[i])), 1);

    static const char *const bad[] = {
        "\x80",             /* stray continuation */
        "\xbf",             /* stray continuation */
        "a\x80z",           /* stray continuation inside text */
        "\xc0\x80",         /* overlong NUL */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\x80",     /* overlong three-byte */
        "\xe0\x9f\xbf",     /* overlong three-byte, top */
        "\xed\xa0\x80",     /* U+D800 */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf0\x80\x80\x80", /* overlong four-byte */
        "\xf0\x8f\xbf\xbf", /* overlong four-byte, top */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* beyond U+10FFFF */
        "\xf8\x88\x80\x80\x80",
        "\xfe",
        "\xff",
        "\xc3",             /* truncated */
        "\xe6\xbc",         /* truncated */
        "\xf0\x9f\x98",     /* truncated */
        "\xe6\xbc\x61",     /* continuation expected */
        "\xc3\xc3\xa9",     /* continuation expected */
        "\xf0\x9f\x98\x41", /* last continuation missing */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ(bh_utf8_valid(bad[i], strlen(bad[i])), 0);

    /* a NUL is a valid code point; rejecting it is the field layer's job */
    CHECK_EQ(bh_utf8_valid("a\0b", 3), 1);
    /* the length bounds the check: a cut through a sequence is invalid */
    CHECK_EQ(bh_utf8_valid("\xe6\xbc\xb3", 2), 0);
    CHECK_EQ(bh_utf8_valid("\xe6\xbc\xb3", 3), 1);
    CHECK_EQ(bh_utf8_valid(NULL, 0), 1);
}

static void test_utf8_exhaustive(void)
{
    /* Every sequence of one and two bytes, every three-byte sequence with a
     * three-byte lead, and four-byte sequences over all first and second
     * bytes with a selection of the rest, compared with the reference. */
    unsigned char s[4];
    size_t mismatches = 0;
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        mismatches += bh_utf8_valid((char *)s, 1) != ref_utf8_valid(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            mismatches += bh_utf8_valid((char *)s, 2) != ref_utf8_valid(s, 2);
        }
    }
    for (unsigned a = 0xe0; a <= 0xef; a++)
        for (unsigned b = 0; b < 256; b++)
            for (unsigned c = 0; c < 256; c++) {
                s[0] = (unsigned char)a, s[1] = (unsigned char)b, s[2] = (unsigned char)c;
                mismatches += bh_utf8_valid((char *)s, 3) != ref_utf8_valid(s, 3);
            }
    static const unsigned char tails[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
                                          0x9f, 0xa0, 0xbf, 0xc0, 0xf4, 0xff};
    for (unsigned a = 0xf0; a <= 0xff; a++)
        for (unsigned b = 0; b < 256; b++)
            for (size_t c = 0; c < sizeof tails; c++)
                for (size_t d = 0; d < sizeof tails; d++) {
                    s[0] = (unsigned char)a, s[1] = (unsigned char)b;
                    s[2] = tails[c], s[3] = tails[d];
                    mismatches += bh_utf8_valid((char *)s, 4) != ref_utf8_valid(s, 4);
                }
    CHECK_EQ(mismatches, 0);
}

static void test_utf8_length(void)
{
    CHECK_EQ(bh_utf8_length("", 0), 0);
    CHECK_EQ(bh_utf8_length("abc", 3), 3);
    CHECK_EQ(bh_utf8_length("漳州市", strlen("漳州市")), 3);
    CHECK_EQ(strlen("漳州市"), 9);
    CHECK_EQ(bh_utf8_length("a\xf0\x9f\x98\x80z", 6), 3);
    CHECK_EQ(bh_utf8_length("\xc2\x80\xdf\xbf", 4), 2);
    const char *s = "项目终止，申请退保";
    CHECK_EQ(bh_utf8_length(s, strlen(s)), 9);
}

/* Text from elsewhere, made safe to quote in a log line or a message. */
static void test_utf8_printable(void)
{
    char out[16];
    bh_utf8_printable("ok", 2, out, sizeof out);
    CHECK_STR(out, "ok");
    bh_utf8_printable("a\nb\tc\x7f\xc2\x85" "d", 9, out, sizeof out); /* C0, DEL, C1 */
    CHECK_STR(out, "a b c  d");
    bh_utf8_printable("x\xff\xc3" "(y", 5, out, sizeof out); /* invalid bytes */
    CHECK_STR(out, "x?" "?(y");
    /* 12 bytes of room before "…": the fifth 漳 does not fit and is dropped whole */
    bh_utf8_printable("漳漳漳漳漳", 15, out, sizeof out);
    CHECK_STR(out, "漳漳漳漳…");
    CHECK(bh_utf8_valid(out, strlen(out)));
    bh_utf8_printable("\xe6\xbc", 2, out, sizeof out); /* a character cut at the end */
    CHECK_STR(out, "?" "?");
    bh_utf8_printable("", 0, out, 4);
    CHECK_STR(out, "");
}

int main(void)
{
    RUN(test_hex_encode);
    RUN(test_hex_decode);
    RUN(test_base64_rfc4648);
    RUN(test_base64_round_trip);
    RUN(test_base64_strict);
    RUN(test_utf8_cases);
    RUN(test_utf8_exhaustive);
    RUN(test_utf8_length);
    RUN(test_utf8_printable);
    return CHECK_DONE();
}
