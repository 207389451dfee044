/* Money in integer fen and exact decimal rates (see include/baohan/money.h and
 * docs/internals/money.md). No floating point anywhere: a premium computed in
 * double can be off by a fen, and the wire carries signed decimal text. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "baohan/money.h"
#include "banned.h"

/* Why a decimal text was refused. One rule per value so that each refusal has
 * its own message and callers (and tests) can tell them apart. */
enum rule {
    RULE_OK = 0,
    RULE_EMPTY,
    RULE_SPACE,
    RULE_SIGN,
    RULE_EXPONENT,
    RULE_NONASCII,
    RULE_OTHER,
    RULE_TWO_DOTS,
    RULE_NO_INT_DIGIT,
    RULE_NO_FRAC_DIGIT,
    RULE_TOO_MANY_DECIMALS,
};

/* The part after the fixed prefix of each message. None of them quotes the
 * input: values may be confidential, so messages name the rule only. */
static const char *const rule_text[] = {
    [RULE_OK] = "",
    [RULE_EMPTY] = "got empty text",
    [RULE_SPACE] = "got whitespace",
    [RULE_SIGN] = "got a sign (+ or -)",
    [RULE_EXPONENT] = "got an exponent (e or E)",
    [RULE_NONASCII] = "got a non-ASCII character (full-width digits are not accepted)",
    [RULE_OTHER] = "got a character other than a digit or '.'",
    [RULE_TWO_DOTS] = "got more than one '.'",
    [RULE_NO_INT_DIGIT] = "got no digit before '.'",
    [RULE_NO_FRAC_DIGIT] = "got no digit after '.'",
    /* Unused: callers say how many decimals their kind of number allows. */
    [RULE_TOO_MANY_DECIMALS] = "got too many decimal places",
};

/* The shape of a well-formed decimal: [0, int_end) are the integer digits,
 * [frac_begin, frac_begin + scale) the decimals. */
struct decimal {
    size_t int_end;
    size_t frac_begin;
    unsigned scale;
};

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Checks `text` against ^[0-9]+(\.[0-9]{1,max_scale})?$. The character
 * classes are checked over the whole text before the structure, so "-1.5e3"
 * is reported as a sign rather than as whatever comes first: the most telling
 * rule wins, whatever its position. */
static enum rule scan_decimal(const char *text, size_t len, unsigned max_scale, struct decimal *out)
{
    if (len == 0)
        return RULE_EMPTY;

    int space = 0, sign = 0, exponent = 0, nonascii = 0, other = 0;
    size_t dots = 0, dot = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (is_digit(c))
            continue;
        if (c == '.') {
            if (dots++ == 0)
                dot = i;
        } else if (is_space(c)) {
            space = 1;
        } else if (c == '+' || c == '-') {
            sign = 1;
        } else if (c == 'e' || c == 'E') {
            exponent = 1;
        } else if (c >= 0x80) {
            nonascii = 1;
        } else {
            other = 1;
        }
    }
    if (space)
        return RULE_SPACE;
    if (sign)
        return RULE_SIGN;
    if (exponent)
        return RULE_EXPONENT;
    if (nonascii)
        return RULE_NONASCII;
    if (other)
        return RULE_OTHER;
    if (dots > 1)
        return RULE_TWO_DOTS;

    if (dots == 0) {
        out->int_end = len;
        out->frac_begin = len;
        out->scale = 0;
        return RULE_OK;
    }
    if (dot == 0)
        return RULE_NO_INT_DIGIT;
    if (dot == len - 1)
        return RULE_NO_FRAC_DIGIT;
    if (len - dot - 1 > max_scale)
        return RULE_TOO_MANY_DECIMALS;
    out->int_end = dot;
    out->frac_begin = dot + 1;
    out->scale = (unsigned)(len - dot - 1);
    return RULE_OK;
}

static const char money_prefix[] =
    "must be an amount in yuan: digits, optionally '.' and one or two decimals (e.g. 20000.00)";

bh_err bh_money_parse(const char *text, size_t len, int64_t *fen, bh_diag *d, const char *field)
{
    if (!fen || (!text && len))
        return bh_diag_add(d, BH_EINVAL, field, "internal error: NULL argument to money parser");

    struct decimal dec;
    enum rule r = scan_decimal(text, len, 2, &dec);
    if (r == RULE_TOO_MANY_DECIMALS)
        return bh_diag_add(d, BH_EFORMAT, field, "%s; got more than two decimal places",
                           money_prefix);
    if (r != RULE_OK)
        return bh_diag_add(d, BH_EFORMAT, field, "%s; %s", money_prefix, rule_text[r]);

    /* Leading zeros are harmless ("020000" is 20000 yuan) and some senders pad,
     * so any number of digits is read; overflow is checked per digit, which
     * also keeps a 40-digit number from ever overflowing the accumulator. */
    int64_t yuan = 0;
    for (size_t i = 0; i < dec.int_end; i++) {
        int digit = text[i] - '0';
        if (yuan > (INT64_MAX - digit) / 10)
            goto range;
        yuan = yuan * 10 + digit;
    }
    int64_t part_fen = 0;
    for (unsigned i = 0; i < 2; i++)
        part_fen = part_fen * 10 + (i < dec.scale ? text[dec.frac_begin + i] - '0' : 0);
    if (yuan > (INT64_MAX - part_fen) / 100)
        goto range;
    *fen = yuan * 100 + part_fen;
    return BH_OK;

range:
    return bh_diag_add(d, BH_ERANGE, field,
                       "must be an amount in yuan that fits in 64-bit fen; got one too large");
}

void bh_money_format(int64_t fen, char out[BH_MONEY_TEXT_MAX])
{
    /* Negate in unsigned arithmetic so INT64_MIN has a magnitude too. */
    uint64_t magnitude = fen < 0 ? 0 - (uint64_t)fen : (uint64_t)fen;
    snprintf(out, BH_MONEY_TEXT_MAX, "%s%" PRIu64 ".%02" PRIu64, fen < 0 ? "-" : "",
             magnitude / 100, magnitude % 100);
}

static const uint64_t pow10_table[BH_RATE_MAX_SCALE + 1] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
};

static const char rate_prefix[] =
    "must be a rate between 0 and 1: digits, optionally '.' and one to nine decimals (e.g. 0.007)";

bh_err bh_rate_parse(const char *text, size_t len, bh_rate *out, bh_diag *d, const char *field)
{
    if (!out || (!text && len))
        return bh_diag_add(d, BH_EINVAL, field, "internal error: NULL argument to rate parser");

    struct decimal dec;
    enum rule r = scan_decimal(text, len, BH_RATE_MAX_SCALE, &dec);
    if (r == RULE_TOO_MANY_DECIMALS)
        return bh_diag_add(d, BH_EFORMAT, field, "%s; got more than nine decimal places",
                           rate_prefix);
    if (r != RULE_OK)
        return bh_diag_add(d, BH_EFORMAT, field, "%s; %s", rate_prefix, rule_text[r]);

    /* The integer part can only be 0 or 1; saturate instead of accumulating so
     * a long run of digits cannot overflow. */
    uint64_t whole = 0;
    for (size_t i = 0; i < dec.int_end; i++) {
        whole = whole * 10 + (uint64_t)(text[i] - '0');
        if (whole > 1)
            goto range;
    }
    uint64_t frac = 0;
    for (unsigned i = 0; i < dec.scale; i++)
        frac = frac * 10 + (uint64_t)(text[dec.frac_begin + i] - '0');
    if (whole == 1 && frac != 0)
        goto range;
    out->units = whole * pow10_table[dec.scale] + frac;
    out->scale = dec.scale;
    return BH_OK;

range:
    return bh_diag_add(d, BH_ERANGE, field, "must be a rate between 0 and 1; got one above 1");
}

void bh_rate_format(const bh_rate *rate, char out[BH_RATE_TEXT_MAX])
{
    /* A scale above the maximum is a caller's mistake (bh_rate_parse never
     * makes one); write nothing rather than a number with a different value. */
    if (!rate || rate->scale > BH_RATE_MAX_SCALE) {
        out[0] = '\0';
        return;
    }
    uint64_t div = pow10_table[rate->scale];
    if (rate->scale == 0)
        snprintf(out, BH_RATE_TEXT_MAX, "%" PRIu64, rate->units);
    else
        snprintf(out, BH_RATE_TEXT_MAX, "%" PRIu64 ".%0*" PRIu64, rate->units / div,
                 (int)rate->scale, rate->units % div);
}

/* a + b for non-negative int64 values, refusing overflow. */
static int add_ok(int64_t a, int64_t b, int64_t *sum)
{
    if (a > INT64_MAX - b)
        return 0;
    *sum = a + b;
    return 1;
}

bh_err bh_rate_apply(const bh_rate *rate, int64_t base_fen, int64_t *out_fen)
{
    if (!rate || !out_fen || rate->scale > BH_RATE_MAX_SCALE)
        return BH_EINVAL;
    if (base_fen < 0)
        return BH_ERANGE;

    /* With D = 10^scale, write base = q*D + r and units = a*D + b (r, b < D).
     * Then base*units/D = base*a + q*b + r*b/D exactly, where r*b < 10^18 fits
     * in 64 bits and q*b < base. Only base*a and the sums can overflow, and
     * only for a rate above 1, which a parsed rate never is. Rounding half up
     * is adding D/2 before the last division (D is even whenever r*b != 0). */
    uint64_t div = pow10_table[rate->scale];
    uint64_t base = (uint64_t)base_fen;
    uint64_t q = base / div, r = base % div;
    uint64_t a = rate->units / div, b = rate->units % div;

    if (a != 0 && base > (uint64_t)INT64_MAX / a)
        return BH_ERANGE;
    int64_t whole = (int64_t)(base * a);
    int64_t middle = (int64_t)(q * b);
    int64_t tail = (int64_t)((r * b + div / 2) / div);
    int64_t sum;
    if (!add_ok(whole, middle, &sum) || !add_ok(sum, tail, &sum))
        return BH_ERANGE;
    *out_fen = sum;
    return BH_OK;
}
