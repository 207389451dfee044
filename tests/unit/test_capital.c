/* Unit tests of lib/capital.c: amounts in Chinese capital numerals. */
#include <stdint.h>
#include <string.h>

#include "baohan/money.h"
#include "check.h"

/* Returns the capital text of `fen` in a static buffer ("" on error). */
static const char *capital(int64_t fen)
{
    static char text[256];
    bh_buf b;
    bh_buf_init(&b, 1024);
    text[0] = '\0';
    if (bh_money_capital(fen, &b) == BH_OK && b.len < sizeof text)
        memcpy(text, b.data, b.len + 1);
    bh_buf_release(&b);
    return text;
}

#define YUAN(y, f) ((int64_t)(y)*100 + (f))

static void test_capital_examples(void)
{
    static const struct {
        int64_t fen;
        const char *want;
    } cases[] = {
        /* The header's and the brief's examples. */
        {YUAN(20000, 0), "人民币贰万元整"},
        {YUAN(1234, 56), "人民币壹仟贰佰叁拾肆元伍角陆分"},
        {YUAN(100000, 5), "人民币壹拾万元零伍分"},
        {YUAN(10005, 0), "人民币壹万零伍元整"},
        {YUAN(1010, 0), "人民币壹仟零壹拾元整"},
        {YUAN(0, 50), "人民币伍角整"},
        {YUAN(0, 0), "人民币零元整"},
        {YUAN(100000000, 0), "人民币壹亿元整"},
        {YUAN(1000010000, 0), "人民币壹拾亿零壹万元整"},
        {YUAN(1234, 50), "人民币壹仟贰佰叁拾肆元伍角整"},
        {YUAN(200000, 0), "人民币贰拾万元整"},
        /* The examples of 《正确填写票据和结算凭证的基本规定》 rule 4, in the
         * spelling we chose where two are allowed. */
        {YUAN(1409, 50), "人民币壹仟肆佰零玖元伍角整"},
        {YUAN(6007, 14), "人民币陆仟零柒元壹角肆分"},
        {YUAN(1680, 32), "人民币壹仟陆佰捌拾元叁角贰分"},
        {YUAN(107000, 53), "人民币壹拾万柒仟元伍角叁分"},
        {YUAN(16409, 2), "人民币壹万陆仟肆佰零玖元零贰分"},
        {YUAN(325, 4), "人民币叁佰贰拾伍元零肆分"},
        /* Small amounts. */
        {1, "人民币壹分"},
        {5, "人民币伍分"},
        {10, "人民币壹角整"},
        {11, "人民币壹角壹分"},
        {99, "人民币玖角玖分"},
        {YUAN(1, 0), "人民币壹元整"},
        {YUAN(1, 1), "人民币壹元零壹分"},
        {YUAN(1, 10), "人民币壹元壹角整"},
        {YUAN(9, 99), "人民币玖元玖角玖分"},
        /* A leading 1 in the tens is written 壹拾. */
        {YUAN(10, 0), "人民币壹拾元整"},
        {YUAN(11, 0), "人民币壹拾壹元整"},
        {YUAN(15, 30), "人民币壹拾伍元叁角整"},
        {YUAN(19, 0), "人民币壹拾玖元整"},
        {YUAN(20, 0), "人民币贰拾元整"},
        {YUAN(110, 0), "人民币壹佰壹拾元整"},
        {YUAN(100010, 0), "人民币壹拾万零壹拾元整"},
        {YUAN(10, 5), "人民币壹拾元零伍分"},
        {YUAN(100, 0), "人民币壹佰元整"},
        {YUAN(101, 0), "人民币壹佰零壹元整"},
        {YUAN(1000, 0), "人民币壹仟元整"},
        {YUAN(1001, 0), "人民币壹仟零壹元整"},
        {YUAN(1100, 0), "人民币壹仟壹佰元整"},
        {YUAN(10000, 0), "人民币壹万元整"},
        {YUAN(10001, 0), "人民币壹万零壹元整"},
        {YUAN(10010, 0), "人民币壹万零壹拾元整"},
        {YUAN(10100, 0), "人民币壹万零壹佰元整"},
        {YUAN(11000, 0), "人民币壹万壹仟元整"},
        /* Zeros ending a group are closed by 万/亿; zeros opening one write 零. */
        {YUAN(107000, 0), "人民币壹拾万柒仟元整"},
        {YUAN(100700, 0), "人民币壹拾万零柒佰元整"},
        {YUAN(1000000, 0), "人民币壹佰万元整"},
        {YUAN(1000001, 0), "人民币壹佰万零壹元整"},
        {YUAN(1020304, 0), "人民币壹佰零贰万零叁佰零肆元整"},
        {YUAN(18650000, 0), "人民币壹仟捌佰陆拾伍万元整"},
        {YUAN(50000000, 0), "人民币伍仟万元整"},
        {YUAN(100000001, 0), "人民币壹亿零壹元整"},
        {YUAN(100010000, 0), "人民币壹亿零壹万元整"},
        {YUAN(101000000, 0), "人民币壹亿零壹佰万元整"},
        {YUAN(110000000, 0), "人民币壹亿壹仟万元整"},
        {YUAN(1000000000, 0), "人民币壹拾亿元整"},
        {YUAN(1000000005, 0), "人民币壹拾亿零伍元整"},
        {YUAN(1200003400, 0), "人民币壹拾贰亿零叁仟肆佰元整"},
        {YUAN(123456789, 12), "人民币壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"},
        /* The 万亿 place (10^12): the 亿 count runs to 99999. */
        {YUAN(1000000000000, 0), "人民币壹万亿元整"},
        {YUAN(1000000000001, 0), "人民币壹万亿零壹元整"},
        {YUAN(1000000010000, 0), "人民币壹万亿零壹万元整"},
        {YUAN(1000100000000, 0), "人民币壹万零壹亿元整"},
        {YUAN(1100000000000, 0), "人民币壹万壹仟亿元整"},
        {YUAN(9000000000000, 1), "人民币玖万亿元零壹分"},
        {YUAN(9999999999999, 99),
         "人民币玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = capital(cases[i].fen);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "  fen %lld\n", (long long)cases[i].fen);
        CHECK_STR(got, cases[i].want);
    }
}

static void test_capital_range(void)
{
    bh_buf b;
    bh_buf_init(&b, 1024);
    CHECK_EQ(bh_money_capital(-1, &b), BH_ERANGE);
    CHECK_EQ(bh_money_capital(INT64_MIN, &b), BH_ERANGE);
    CHECK_EQ(bh_money_capital(YUAN(10000000000000, 0), &b), BH_ERANGE);
    CHECK_EQ(bh_money_capital(INT64_MAX, &b), BH_ERANGE);
    CHECK_EQ(b.len, 0); /* nothing written on refusal */
    CHECK_EQ(bh_money_capital(0, NULL), BH_EINVAL);
    CHECK_EQ(bh_money_capital(YUAN(9999999999999, 99), &b), BH_OK);
    bh_buf_release(&b);
}

/* The result is appended; a buffer too small is refused and left as it was. */
static void test_capital_appends(void)
{
    bh_buf b;
    bh_buf_init(&b, 64);
    CHECK_EQ(bh_buf_addstr(&b, "金额："), BH_OK);
    CHECK_EQ(bh_money_capital(YUAN(20000, 0), &b), BH_OK);
    CHECK_STR(b.data, "金额：人民币贰万元整");
    size_t before = b.len;
    CHECK_EQ(bh_money_capital(YUAN(9999999999999, 99), &b), BH_ETOOBIG);
    CHECK_EQ(b.len, before);
    CHECK_STR(b.data, "金额：人民币贰万元整");
    bh_buf_release(&b);
}

/* An independent reader of capital numerals: 零 is skipped, a digit is
 * multiplied by the 拾/佰/仟 after it, and the text before the last 亿 (or,
 * within it, the last 万) is a count of that unit. Returns -1 on a character
 * it does not know. */
static int64_t read_number(const char *s, size_t len)
{
    static const char *const unit_chars[] = {"亿", "万"};
    static const int64_t unit_values[] = {100000000, 10000};
    for (int u = 0; u < 2; u++) {
        /* Every character here is 3 bytes of UTF-8. */
        for (size_t i = len; i >= 3; i -= 3) {
            if (memcmp(s + i - 3, unit_chars[u], 3) == 0) {
                int64_t high = read_number(s, i - 3);
                int64_t low = read_number(s + i, len - i);
                if (high <= 0 || low < 0)
                    return -1;
                return high * unit_values[u] + low;
            }
        }
    }
    static const char *const digits[] = {"零", "壹", "贰", "叁", "肆",
                                         "伍", "陆", "柒", "捌", "玖"};
    int64_t value = 0, digit = 0;
    for (size_t i = 0; i + 3 <= len; i += 3) {
        int known = 0;
        for (int d = 0; d < 10; d++) {
            if (memcmp(s + i, digits[d], 3) == 0) {
                digit = d;
                known = 1;
            }
        }
        if (memcmp(s + i, "拾", 3) == 0 || memcmp(s + i, "佰", 3) == 0 ||
            memcmp(s + i, "仟", 3) == 0) {
            int64_t place = memcmp(s + i, "拾", 3) == 0   ? 10
                            : memcmp(s + i, "佰", 3) == 0 ? 100
                                                          : 1000;
            if (digit == 0)
                return -1; /* a unit without its digit: 拾 instead of 壹拾 */
            value += digit * place;
            digit = 0;
            known = 1;
        }
        if (!known)
            return -1;
    }
    return value + digit;
}

/* Reads a whole capital amount back to fen, or -1. */
static int64_t read_capital(const char *s)
{
    size_t len = strlen(s);
    if (len < 9 || memcmp(s, "人民币", 9) != 0)
        return -1;
    s += 9;
    len -= 9;
    int64_t fen = 0;
    const char *yuan = strstr(s, "元");
    if (yuan) {
        int64_t y = read_number(s, (size_t)(yuan - s));
        if (y < 0)
            return -1;
        fen = y * 100;
        len -= (size_t)(yuan + 3 - s);
        s = yuan + 3;
    }
    const char *jiao = strstr(s, "角");
    if (jiao) {
        int64_t j = read_number(s, (size_t)(jiao - s));
        if (j < 0 || j > 9)
            return -1;
        fen += j * 10;
        len -= (size_t)(jiao + 3 - s);
        s = jiao + 3;
    }
    const char *f = strstr(s, "分");
    if (f) {
        int64_t v = read_number(s, (size_t)(f - s));
        if (v < 0 || v > 9)
            return -1;
        fen += v;
        len -= (size_t)(f + 3 - s);
        s = f + 3;
    }
    if (len == 3 && strcmp(s, "整") == 0)
        return fen;
    return len == 0 ? fen : -1;
}

/* Properties that hold for every amount, checked over values of every
 * magnitude with an independent reader rather than a second copy of the
 * writer: the text reads back to the amount; 零 is never doubled, never
 * leads, never stands before a unit; 整 ends exactly the amounts without 分. */
static void test_capital_properties(void)
{
    uint64_t state = 0x2545F4914F6CDD1DULL;
    int failures = 0;
    for (int i = 0; i < 20000 && failures < 5; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t max = 1;
        for (int k = (int)((state >> 59) % 16); k > 0; k--)
            max *= 10;
        int64_t fen = (int64_t)((state >> 8) % (uint64_t)max);
        /* Sprinkle zeros: knock out random digits. */
        int64_t mask = 1;
        for (int k = 0; k < 15; k++, mask *= 10) {
            if ((state >> (k * 2 + 3)) % 3 == 0)
                fen -= (fen / mask % 10) * mask;
        }
        const char *s = capital(fen);
        int ok = read_capital(s) == fen;
        ok = ok && strstr(s, "零零") == NULL;
        ok = ok && (fen == 0 || strncmp(s, "人民币零", strlen("人民币零")) != 0);
        ok = ok && (fen == 0 || strstr(s, "零元") == NULL);
        ok = ok && strstr(s, "零万") == NULL && strstr(s, "零亿") == NULL;
        ok = ok && strstr(s, "零整") == NULL && strstr(s, "零角") == NULL;
        int has_fen = fen % 10 != 0;
        size_t n = strlen(s);
        ok = ok && n >= 3 && memcmp(s + n - 3, has_fen ? "分" : "整", 3) == 0;
        /* Every written 拾 has a digit before it (壹拾, never a bare 拾). */
        for (const char *p = strstr(s, "拾"); ok && p; p = strstr(p + 3, "拾"))
            ok = p - s >= 12 && read_number(p - 3, 3) > 0;
        if (!ok) {
            failures++;
            fprintf(stderr, "  fen %lld: %s\n", (long long)fen, s);
        }
        CHECK(ok);
    }
}

int main(void)
{
    RUN(test_capital_examples);
    RUN(test_capital_range);
    RUN(test_capital_appends);
    RUN(test_capital_properties);
    return CHECK_DONE();
}
