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

/* An independent reference decoder: one character at a time, by strchr on
 * the alphabet. Returns the byte count, or -1 when the text is not strict
 * Base64 (length, alphabet, padding only at the end, zero unused bits). */
static long ref_base64_decode(const unsigned char *s, size_t len, uint8_t *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len % 4 != 0)
        return -1;
    size_t data = len;
    while (data > 0 && len - data < 2 && s[data - 1] == '=')
        data--;
    uint32_t acc = 0;
    int bits = 0;
    long n = 0;
    for (size_t i = 0; i < data; i++) {
        const char *at = s[i] ? strchr(alphabet, s[i]) : NULL;
        if (!at)
            return -1;
        acc = acc << 6 | (uint32_t)(at - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, and one data character alone in the last
     * quad (three '=') cannot occur: "A===" is refused by the '=' check. */
    if (acc != 0)
        return -1;
    return n;
}

/* Decodes with both entry points (and checks with bh_base64_check) and
 * compares with the reference; on error the output must be untouched. */
static int base64_agrees(const unsigned char *s, size_t len)
{
    uint8_t want[64], got_to[64] = {0};
    long n = ref_base64_decode(s, len, want);
    bh_buf b;
    bh_buf_init(&b, 1024);
    int ok = bh_buf_addstr(&b, "pre") == BH_OK;
    bh_err err = bh_base64_decode((const char *)s, len, &b);
    size_t n_to = 12345;
    bh_err err_to = bh_base64_decode_to((const char *)s, len, got_to, sizeof got_to, &n_to);
    size_t n_check = 12345;
    bh_err err_check = bh_base64_check((const char *)s, len, &n_check);
    if (n < 0) {
        ok = ok && err == BH_EBASE64 && b.len == 3 && strcmp(b.data, "pre") == 0;
        ok = ok && err_to == BH_EBASE64 && n_to == 12345;
        ok = ok && err_check == BH_EBASE64 && n_check == 12345;
    } else {
        ok = ok && err_check == BH_OK && n_check == (size_t)n;
        ok = ok && err == BH_OK && b.len == 3 + (size_t)n && memcmp(b.data + 3, want, n) == 0 &&
             b.data[b.len] == '\0';
        ok = ok && err_to == BH_OK && n_to == (size_t)n && memcmp(got_to, want, n) == 0;
    }
    bh_buf_release(&b);
    return ok;
}

/* Every byte value at every position of a quad, in the last quad and in a
 * quad before it, with '=' anywhere: the table-driven decoder must accept
 * and refuse exactly what the reference does. */
static void test_base64_every_character(void)
{
    long mismatches = 0, accepted = 0;
    unsigned char s[12];
    const char *prefix = "Zm9vYmFy"; /* two quads before the one varied */
    for (size_t lead = 0; lead <= 8; lead += 4) {
        memcpy(s, prefix, lead);
        for (int pos = 0; pos < 4; pos++) {
            for (int c = 0; c < 256; c++) {
                /* The varied character among three fixed ones, which are a
                 * plain quad, or a quad ending in one or two '='. */
                static const char *const quads[] = {"QUJD", "QUI=", "QQ==", "AAAA", "+/+/"};
                for (size_t q = 0; q < sizeof quads / sizeof quads[0]; q++) {
                    memcpy(s + lead, quads[q], 4);
                    s[lead + pos] = (unsigned char)c;
                    mismatches += !base64_agrees(s, lead + 4);
                    accepted += ref_base64_decode(s, lead + 4, (uint8_t[12]){0}) >= 0;
                    /* The same quad followed by another: padding inside. */
                    if (lead + 8 <= sizeof s) {
                        memcpy(s + lead + 4, "QUJD", 4);
                        mismatches += !base64_agrees(s, lead + 8);
                    }
                }
            }
        }
    }
    CHECK_EQ(mismatches, 0);
    CHECK(accepted > 1000); /* the loop did exercise valid text */
    /* Every arrangement of data characters and '=' over two quads. */
    static const char pieces[] = {'A', 'g', 'Q', '=', '+', '/', '*', '\0'};
    mismatches = 0;
    for (unsigned long k = 0; k < 8ul * 8 * 8 * 8 * 8 * 8; k++) {
        unsigned char t[8] = {'Z', 'm', '9', 'v'};
        unsigned long x = k;
        for (int i = 2; i < 8; i++, x /= 8)
            t[i] = (unsigned char)pieces[x % 8];
        mismatches += !base64_agrees(t, 8);
    }
    CHECK_EQ(mismatches, 0);
    /* Too small an array for bh_base64_decode_to. */
    uint8_t three[3];
    size_t n = 7;
    CHECK_EQ(bh_base64_decode_to("Zm9vYg==", 8, three, sizeof three, &n), BH_ETOOBIG);
    CHECK_EQ(n, 7);
    CHECK_EQ(bh_base64_decode_to("Zm9v", 4, three, sizeof three, &n), BH_OK);
    CHECK_EQ(n, 3);
    CHECK(memcmp(three, "foo", 3) == 0);
    CHECK_EQ(bh_base64_decode_to("", 0, three, 0, &n), BH_OK);
    CHECK_EQ(n, 0);
}

/* Long inputs whose one odd sequence sits at every offset from an eight-byte
 * boundary, so that the ASCII fast path hands over to the sequence table
 * (and back) at every phase. */
static void test_utf8_fast_path_boundaries(void)
{
    static const char *const odd[] = {
        "\xc3\xa9",         "\xe6\xbc\xb3",     "\xf0\x9f\x98\x80", "\xed\x9f\xbf",
        "\xee\x80\x80",     "\xef\xbf\xbf",     "\xe0\xa0\x80",     "\xf4\x8f\xbf\xbf",
        /* malformed: */
        "\x80",             "\xc0\xaf",         "\xe0\x80\xaf",     "\xed\xa0\x80",
        "\xe6\xbc",         "\xe6\x3c\xb3",     "\xe6\xbc\x33",     "\xef\xbf",
        "\xf4\x90\x80\x80", "\xf0\x9f\x98",     "\xff",             "\xe1\xc0\x80",
    };
    long mismatches = 0, count_mismatches = 0;
    char s[64];
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
        size_t n = strlen(odd[k]);
        for (size_t before = 0; before <= 17; before++) {
            for (size_t after = 0; after <= 9; after++) {
                memset(s, 'a', before);
                memcpy(s + before, odd[k], n);
                /* after: ASCII, or another CJK character, cut or not */
                size_t len = before + n;
                for (size_t i = 0; i < after; i++)
                    s[len++] = (char)('A' + i);
                for (int cut = 0; cut <= 3; cut++) {
                    size_t l = len;
                    if (cut) {
                        memcpy(s + l, "\xe5\xb7\x9e", 3);
                        l += (size_t)cut;
                    }
                    int want = ref_utf8_valid((const unsigned char *)s, l);
                    mismatches += bh_utf8_valid(s, l) != want;
                    if (want) {
                        size_t chars = 0;
                        for (size_t i = 0; i < l; i++)
                            chars += ((unsigned char)s[i] & 0xc0) != 0x80;
                        count_mismatches += bh_utf8_length(s, l) != chars;
                    }
                }
            }
        }
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(count_mismatches, 0);
    /* A high byte in each position of one word of ASCII. */
    for (int pos = 0; pos < 16; pos++) {
        memset(s, 'x', 16);
        s[pos] = (char)0x80;
        CHECK_EQ(bh_utf8_valid(s, 16), 0);
        s[pos] = 0x7f;
        CHECK_EQ(bh_utf8_valid(s, 16), 1);
    }
}

int main(void)
{
    RUN(test_hex_encode);
    RUN(test_hex_decode);
    RUN(test_base64_rfc4648);
    RUN(test_base64_round_trip);
    RUN(test_base64_strict);
    RUN(test_base64_every_character);
    RUN(test_utf8_cases);
    RUN(test_utf8_exhaustive);
    RUN(test_utf8_length);
    RUN(test_utf8_fast_path_boundaries);
    RUN(test_utf8_printable);
    return CHECK_DONE();
}
