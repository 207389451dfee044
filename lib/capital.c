/* Amounts in Chinese capital numerals (人民币大写金额), as the People's Bank
 * of China's 《支付结算办法》 attachment 《正确填写票据和结算凭证的基本规定》
 * prescribes for bills and settlement vouchers. The rules and the choices
 * made where the standard allows two spellings are in docs/internals/docgen.md
 * ("Capital numerals"). */
#include <stdint.h>
#include <string.h>

#include "baohan/money.h"
#include "banned.h"

/* 9999999999999.99 yuan: thirteen integer digits, the most a 万亿 (10^12)
 * place can hold with single digits. */
#define CAPITAL_MAX_FEN INT64_C(999999999999999)
#define CAPITAL_INT_DIGITS 13

static const char *const digit_text[10] = {"零", "壹", "贰", "叁", "肆",
                                           "伍", "陆", "柒", "捌", "玖"};

/* The unit inside a four-digit group, by position mod 4. */
static const char *const place_text[4] = {"", "拾", "佰", "仟"};

/* The longest result is 人民币 + 13 digits with their units, 亿 + 万 twice,
 * 元, 角 and 分: under 50 characters of 3 bytes each. */
#define CAPITAL_TEXT_MAX 192

struct text {
    char data[CAPITAL_TEXT_MAX];
    size_t len;
};

static void put(struct text *t, const char *s)
{
    size_t n = strlen(s);
    /* Cannot overflow: CAPITAL_TEXT_MAX bounds the longest result. */
    if (t->len + n < sizeof t->data) {
        memcpy(t->data + t->len, s, n);
        t->len += n;
    }
}

/* Writes the integer part, at most CAPITAL_INT_DIGITS digits, in groups of
 * four: the group of units, of 万 (10^4) and of 亿 (10^8); the thirteenth
 * digit counts 万 of 亿, so 10^12 reads 壹万亿.
 *
 * One 零 stands for any run of zeros between two written digits, except that
 * zeros ending a group are closed by the group's unit (万 or 亿): 107000 is
 * 壹拾万柒仟, while 100700 is 壹拾万零柒佰 and 1000010000 壹拾亿零壹万, because
 * the zeros there open the next group. An all-zero group writes no unit and
 * its zeros join the run. */
static void put_integer(struct text *t, int64_t yuan)
{
    int digits[CAPITAL_INT_DIGITS];
    for (int p = 0; p < CAPITAL_INT_DIGITS; p++) {
        digits[p] = (int)(yuan % 10);
        yuan /= 10;
    }

    int started = 0, zero_pending = 0;
    for (int p = CAPITAL_INT_DIGITS - 1; p >= 0; p--) {
        int d = digits[p];
        if (d == 0) {
            if (started)
                zero_pending = 1;
        } else {
            if (zero_pending)
                put(t, "零");
            zero_pending = 0;
            started = 1;
            put(t, digit_text[d]);
            put(t, place_text[p % 4]);
        }
        /* Group units. The 万 at p == 12 belongs to the count of 亿, so it is
         * written only when that digit is non-zero; 亿 closes positions 8..12
         * and 万 positions 4..7, each only when some digit in it is non-zero. */
        if (p == 12 && d != 0) {
            put(t, "万");
            zero_pending = 0;
        } else if (p == 8 || p == 4) {
            int any = 0;
            int top = p == 8 ? 12 : 7;
            for (int q = p; q <= top; q++)
                any |= digits[q] != 0;
            if (any) {
                put(t, p == 8 ? "亿" : "万");
                zero_pending = 0;
            }
        }
    }
}

bh_err bh_money_capital(int64_t fen, bh_buf *out)
{
    if (!out)
        return BH_EINVAL;
    if (fen < 0 || fen > CAPITAL_MAX_FEN)
        return BH_ERANGE;

    int64_t yuan = fen / 100;
    int jiao = (int)(fen / 10 % 10);
    int fen_digit = (int)(fen % 10);

    struct text t = {.len = 0};
    put(&t, "人民币");
    if (fen == 0) {
        put(&t, "零元整");
    } else {
        if (yuan > 0) {
            put_integer(&t, yuan);
            put(&t, "元");
        }
        if (jiao == 0 && fen_digit == 0) {
            put(&t, "整");
        } else if (jiao != 0) {
            /* A zero 元 digit before a non-zero 角 may be written 零 or not
             * (rule 4(3)); we do not, like the spoken form: 壹仟陆佰捌拾元叁角贰分. */
            put(&t, digit_text[jiao]);
            put(&t, "角");
            if (fen_digit != 0) {
                put(&t, digit_text[fen_digit]);
                put(&t, "分");
            } else {
                /* 整 after 角 is allowed (rule 2) and closes the amount
                 * against an added 分, as it does after 元. */
                put(&t, "整");
            }
        } else {
            /* 角 zero, 分 not: 零 after 元 is required (rule 4(4)). With no
             * 元 at all there is nothing for it to separate. */
            if (yuan > 0)
                put(&t, "零");
            put(&t, digit_text[fen_digit]);
            put(&t, "分");
        }
    }
    return bh_buf_add(out, t.data, t.len);
}
