/* Unit tests of lib/money.c: amounts in fen and exact rates. */
#include <stdint.h>
#include <string.h>

#include "baohan/money.h"
#include "check.h"

static bh_err parse(const char *text, int64_t *fen)
{
    return bh_money_parse(text, strlen(text), fen, NULL, "bzjamount");
}

/* Parses `text` expecting a refusal: checks the code, that the field is named,
 * that the message names `rule`, and that it does not echo the value. The
 * messages' own example is 20000.00 (0.007 for rates), so refusal tests use
 * other numbers, or an echo could not be told from the example. */
static void expect_money_refused(const char *text, size_t len, bh_err code, const char *rule)
{
    bh_diag d = BH_DIAG_INIT;
    int64_t fen = -12345;
    CHECK_EQ(bh_money_parse(text, len, &fen, &d, "bzjamount"), code);
    CHECK_EQ(fen, -12345); /* untouched on failure */
    CHECK_EQ(d.count, 1);
    if (d.count == 1) {
        CHECK_EQ(d.items[0].code, code);
        CHECK_STR(d.items[0].field, "bzjamount");
        if (!strstr(d.items[0].message, rule))
            fprintf(stderr, "  input %s: message \"%s\" lacks \"%s\"\n", text, d.items[0].message,
                    rule);
        CHECK(strstr(d.items[0].message, rule) != NULL);
        /* Values may be confidential: the message must never quote them. */
        if (len >= 3)
            CHECK(strstr(d.items[0].message, text) == NULL);
    }
    bh_diag_release(&d);
}

static void refused(const char *text, bh_err code, const char *rule)
{
    expect_money_refused(text, strlen(text), code, rule);
}

static void test_money_parse_valid(void)
{
    static const struct {
        const char *text;
        int64_t fen;
    } cases[] = {
        {"0", 0},
        {"0.0", 0},
        {"0.00", 0},
        {"1", 100},
        {"20000", 2000000},
        {"20000.5", 2000050},
        {"20000.50", 2000050},
        {"20000.00", 2000000},
        {"20000.05", 2000005},
        {"0.01", 1},
        {"0.1", 10},
        {"1.99", 199},
        /* Leading zeros are accepted and do not change the value. */
        {"020000", 2000000},
        {"00", 0},
        {"000000000000000000000000000000000000001.23", 123},
        {"92233720368547758.07", INT64_MAX},
        {"92233720368547758", 9223372036854775800},
        {"92233720368547758.0", 9223372036854775800},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t fen = -1;
        bh_err err = parse(cases[i].text, &fen);
        CHECK_EQ(err, BH_OK);
        if (err != BH_OK || fen != cases[i].fen)
            fprintf(stderr, "  input: %s\n", cases[i].text);
        CHECK_EQ(fen, cases[i].fen);
    }
}

static void test_money_parse_uses_len_not_nul(void)
{
    int64_t fen = 0;
    /* Only the first len bytes count: the text need not be NUL-terminated. */
    CHECK_EQ(bh_money_parse("12.34xyz", 5, &fen, NULL, "f"), BH_OK);
    CHECK_EQ(fen, 1234);
    CHECK_EQ(bh_money_parse("12.345", 4, &fen, NULL, "f"), BH_OK);
    CHECK_EQ(fen, 1230);
    /* An embedded NUL inside len is a character like any other. */
    expect_money_refused("12\00034", 5, BH_EFORMAT, "other than a digit or '.'");
}

static void test_money_refuses_sign(void)
{
    refused("-1", BH_EFORMAT, "sign");
    refused("+1", BH_EFORMAT, "sign");
    refused("-20000.00", BH_EFORMAT, "sign");
    refused("+20000.00", BH_EFORMAT, "sign");
    refused("1-2", BH_EFORMAT, "sign");
    refused("-0", BH_EFORMAT, "sign");
}

static void test_money_refuses_exponent(void)
{
    refused("2e4", BH_EFORMAT, "exponent");
    refused("2E4", BH_EFORMAT, "exponent");
    refused("2.0e4", BH_EFORMAT, "exponent");
    refused("1e-2", BH_EFORMAT, "sign"); /* the sign is reported before the exponent */
}

static void test_money_refuses_whitespace(void)
{
    refused(" 31415", BH_EFORMAT, "whitespace");
    refused("31415 ", BH_EFORMAT, "whitespace");
    refused("31 415", BH_EFORMAT, "whitespace");
    refused("31415\n", BH_EFORMAT, "whitespace");
    refused("\t1", BH_EFORMAT, "whitespace");
    refused("1.0\r", BH_EFORMAT, "whitespace");
    refused(" ", BH_EFORMAT, "whitespace");
}

static void test_money_refuses_too_many_decimals(void)
{
    refused("31415.000", BH_EFORMAT, "more than two decimal places");
    refused("31415.001", BH_EFORMAT, "more than two decimal places");
    refused("0.125", BH_EFORMAT, "more than two decimal places");
}

static void test_money_refuses_bare_dot(void)
{
    refused("31415.", BH_EFORMAT, "no digit after '.'");
    /* "20000." is inside the example "20000.00", so no echo check here. */
    bh_diag d = BH_DIAG_INIT;
    int64_t fen;
    CHECK_EQ(bh_money_parse("20000.", 6, &fen, &d, "bzjamount"), BH_EFORMAT);
    CHECK(d.count == 1 && strstr(d.items[0].message, "no digit after '.'"));
    CHECK(d.count == 1 && strcmp(d.items[0].field, "bzjamount") == 0);
    bh_diag_release(&d);
    refused(".5", BH_EFORMAT, "no digit before '.'");
    refused(".50", BH_EFORMAT, "no digit before '.'");
    refused(".", BH_EFORMAT, "no digit before '.'");
    refused("1.2.3", BH_EFORMAT, "more than one '.'");
    refused("1..2", BH_EFORMAT, "more than one '.'");
}

static void test_money_refuses_empty(void)
{
    refused("", BH_EFORMAT, "empty");
    expect_money_refused(NULL, 0, BH_EFORMAT, "empty");
}

static void test_money_refuses_other_characters(void)
{
    /* Full-width digits (U+FF12 U+FF10) and Arabic-Indic digits are not digits here. */
    refused("\xef\xbc\x92\xef\xbc\x90", BH_EFORMAT, "non-ASCII");
    refused("\xd9\xa1", BH_EFORMAT, "non-ASCII");
    refused("20000\xe5\x85\x83", BH_EFORMAT, "non-ASCII"); /* "20000元" */
    refused("1,000.00", BH_EFORMAT, "other than a digit or '.'");
    refused("0x10", BH_EFORMAT, "other than a digit or '.'");
    refused("NaN", BH_EFORMAT, "other than a digit or '.'");
    refused("inf", BH_EFORMAT, "other than a digit or '.'");
    refused("\302\245100", BH_EFORMAT, "non-ASCII"); /* "¥100" */
}

static void test_money_refuses_overflow(void)
{
    refused("92233720368547758.08", BH_ERANGE, "fits in 64-bit fen");
    refused("92233720368547759", BH_ERANGE, "fits in 64-bit fen");
    refused("92233720368547760.00", BH_ERANGE, "fits in 64-bit fen");
    refused("100000000000000000", BH_ERANGE, "fits in 64-bit fen");
    refused("9223372036854775807", BH_ERANGE, "fits in 64-bit fen");
    /* Forty digits: must be refused without overflowing anything (UBSan). */
    refused("1234567890123456789012345678901234567890", BH_ERANGE, "fits in 64-bit fen");
    refused("9999999999999999999999999999999999999999.99", BH_ERANGE, "fits in 64-bit fen");
    /* Shape is checked before size: a huge number with a sign is a format error. */
    refused("-1234567890123456789012345678901234567890", BH_EFORMAT, "sign");
}

static void test_money_diag_null_field_and_null_diag(void)
{
    bh_diag d = BH_DIAG_INIT;
    int64_t fen = 0;
    CHECK_EQ(bh_money_parse("1.234", 5, &fen, &d, NULL), BH_EFORMAT);
    CHECK_EQ(d.count, 1);
    if (d.count == 1)
        CHECK_STR(d.items[0].field, "");
    bh_diag_release(&d);
    /* A NULL diag only discards the detail; the code is still returned. */
    CHECK_EQ(bh_money_parse("-1", 2, &fen, NULL, "f"), BH_EFORMAT);
    CHECK_EQ(bh_money_parse("1", 1, NULL, NULL, "f"), BH_EINVAL);
    CHECK_EQ(bh_money_parse(NULL, 3, &fen, NULL, "f"), BH_EINVAL);
}

static void test_money_each_rule_has_its_own_message(void)
{
    static const char *const inputs[] = {
        "", " 1", "-1", "1e2", "\xef\xbc\x91", "1,0", "1.2.3", ".5", "1.", "1.234",
    };
    enum { N = sizeof inputs / sizeof inputs[0] };
    char *messages[N] = {0};
    for (size_t i = 0; i < N; i++) {
        bh_diag d = BH_DIAG_INIT;
        int64_t fen;
        CHECK_EQ(bh_money_parse(inputs[i], strlen(inputs[i]), &fen, &d, "x"), BH_EFORMAT);
        CHECK_EQ(d.count, 1);
        if (d.count == 1) {
            messages[i] = d.items[0].message;
            d.items[0].message = NULL; /* keep it; bh_diag_release frees NULL fine */
        }
        bh_diag_release(&d);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            CHECK(messages[i] && messages[j] && strcmp(messages[i], messages[j]) != 0);
    for (size_t i = 0; i < N; i++)
        free(messages[i]);
}

static void test_money_format(void)
{
    char out[BH_MONEY_TEXT_MAX];
    static const struct {
        int64_t fen;
        const char *text;
    } cases[] = {
        {0, "0.00"},
        {1, "0.01"},
        {10, "0.10"},
        {100, "1.00"},
        {2000050, "20000.50"},
        {2000000, "20000.00"},
        {-1, "-0.01"},
        {-2000005, "-20000.05"},
        {INT64_MAX, "92233720368547758.07"},
        {INT64_MIN, "-92233720368547758.08"},
        {INT64_MIN + 1, "-92233720368547758.07"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bh_money_format(cases[i].fen, out);
        CHECK_STR(out, cases[i].text);
    }
    CHECK(strlen("-92233720368547758.08") + 1 <= BH_MONEY_TEXT_MAX);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717u;
}

static void test_money_round_trip(void)
{
    char out[BH_MONEY_TEXT_MAX];
    for (int i = 0; i < 100000; i++) {
        /* Mix small and huge magnitudes. */
        uint64_t r = rng();
        int64_t fen = (int64_t)(r >> (r % 63 + 1));
        bh_money_format(fen, out);
        int64_t back = -1;
        CHECK_EQ(parse(out, &back), BH_OK);
        if (back != fen) {
            CHECK_EQ(back, fen);
            break;
        }
    }
}

static bh_rate rate_of(const char *text)
{
    bh_rate r = {0, 0};
    bh_err err = bh_rate_parse(text, strlen(text), &r, NULL, "rate");
    if (err != BH_OK)
        fprintf(stderr, "  rate_of(%s): %s\n", text, bh_strerror(err));
    CHECK_EQ(err, BH_OK);
    return r;
}

static void test_rate_parse_and_format(void)
{
    static const struct {
        const char *text;
        uint64_t units;
        unsigned scale;
        const char *formatted;
    } cases[] = {
        {"0.007", 7, 3, "0.007"},
        {"0.0070", 70, 4, "0.0070"},
        {"0.0125", 125, 4, "0.0125"},
        {"1", 1, 0, "1"},
        {"0", 0, 0, "0"},
        {"1.0", 10, 1, "1.0"},
        {"1.000000000", 1000000000, 9, "1.000000000"},
        {"0.000000001", 1, 9, "0.000000001"},
        {"0.999999999", 999999999, 9, "0.999999999"},
        {"0.5", 5, 1, "0.5"},
        {"00.5", 5, 1, "0.5"}, /* leading zeros accepted, not kept */
        {"0000000000000000000000000001", 1, 0, "1"},
    };
    char out[BH_RATE_TEXT_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bh_rate r = rate_of(cases[i].text);
        CHECK_EQ(r.units, cases[i].units);
        CHECK_EQ(r.scale, cases[i].scale);
        bh_rate_format(&r, out);
        CHECK_STR(out, cases[i].formatted);
    }
    /* A hand-built rate with an impossible scale formats as nothing rather
     * than as a different number. */
    bh_rate bad = {5, BH_RATE_MAX_SCALE + 1};
    bh_rate_format(&bad, out);
    CHECK_STR(out, "");
}

static void rate_refused(const char *text, bh_err code, const char *rule)
{
    bh_diag d = BH_DIAG_INIT;
    bh_rate r = {42, 1};
    CHECK_EQ(bh_rate_parse(text, strlen(text), &r, &d, "rate"), code);
    CHECK_EQ(r.units, 42);
    CHECK_EQ(r.scale, 1);
    CHECK_EQ(d.count, 1);
    if (d.count == 1) {
        CHECK_EQ(d.items[0].code, code);
        CHECK_STR(d.items[0].field, "rate");
        if (!strstr(d.items[0].message, rule))
            fprintf(stderr, "  input %s: message \"%s\" lacks \"%s\"\n", text, d.items[0].message,
                    rule);
        CHECK(strstr(d.items[0].message, rule) != NULL);
        if (strlen(text) >= 3)
            CHECK(strstr(d.items[0].message, text) == NULL);
    }
    bh_diag_release(&d);
}

static void test_rate_refusals(void)
{
    rate_refused("", BH_EFORMAT, "empty");
    rate_refused("-0.007", BH_EFORMAT, "sign");
    rate_refused("+0.007", BH_EFORMAT, "sign");
    rate_refused("7e-3", BH_EFORMAT, "sign");
    rate_refused("7E3", BH_EFORMAT, "exponent");
    rate_refused(" 0.0123", BH_EFORMAT, "whitespace");
    rate_refused("0.007 ", BH_EFORMAT, "whitespace");
    rate_refused("0.0000000001", BH_EFORMAT, "more than nine decimal places");
    rate_refused("0.", BH_EFORMAT, "no digit after '.'");
    rate_refused(".0123", BH_EFORMAT, "no digit before '.'");
    rate_refused("0.0.7", BH_EFORMAT, "more than one '.'");
    rate_refused("0.7%", BH_EFORMAT, "other than a digit or '.'");
    rate_refused("\xef\xbc\x90.5", BH_EFORMAT, "non-ASCII");
    rate_refused("1.000000001", BH_ERANGE, "above 1");
    rate_refused("1.01", BH_ERANGE, "above 1");
    rate_refused("2", BH_ERANGE, "above 1");
    rate_refused("10", BH_ERANGE, "above 1");
    rate_refused("99999999999999999999999999999999999999999", BH_ERANGE, "above 1");
    rate_refused("18446744073709551617.5", BH_ERANGE, "above 1");
}

static void test_rate_apply_vectors(void)
{
    static const struct {
        const char *rate;
        int64_t base, want;
    } cases[] = {
        {"0.007", 20000000, 140000},
        {"0.5", 1, 1}, /* 0.5 fen rounds half up */
        {"0.5", 3, 2}, /* 1.5 fen rounds half up */
        {"0.5", 5, 3},
        {"0.5", 0, 0},
        {"0.0070", 20000000, 140000},
        {"0.49", 1, 0},
        {"0.51", 1, 1},
        {"0.007", 71, 0},  /* 0.497 */
        {"0.007", 72, 1},  /* 0.504 */
        {"0.0125", 40, 1}, /* 0.5 exactly */
        {"0.0125", 39, 0}, /* 0.4875 */
        {"1", 123456, 123456},
        {"1.000000000", INT64_MAX, INT64_MAX},
        {"0", INT64_MAX, 0},
        {"0.999999999", INT64_MAX, 9223372027631403770},
        {"0.000000001", 500000000, 1},
        {"0.000000001", 499999999, 0},
        {"0.5", INT64_MAX, 4611686018427387904},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bh_rate r = rate_of(cases[i].rate);
        int64_t got = -1;
        CHECK_EQ(bh_rate_apply(&r, cases[i].base, &got), BH_OK);
        if (got != cases[i].want)
            fprintf(stderr, "  %s x %lld\n", cases[i].rate, (long long)cases[i].base);
        CHECK_EQ(got, cases[i].want);
    }
}

static void test_rate_apply_refusals(void)
{
    bh_rate r = rate_of("0.007");
    int64_t got = 99;
    CHECK_EQ(bh_rate_apply(&r, -1, &got), BH_ERANGE);
    CHECK_EQ(bh_rate_apply(&r, INT64_MIN, &got), BH_ERANGE);
    CHECK_EQ(got, 99);
    /* Hand-built rates above 1 can overflow: refused, not wrapped. */
    bh_rate big = {3, 0};
    CHECK_EQ(bh_rate_apply(&big, INT64_MAX / 3 + 1, &got), BH_ERANGE);
    CHECK_EQ(bh_rate_apply(&big, INT64_MAX / 3, &got), BH_OK);
    CHECK_EQ(got, INT64_MAX / 3 * 3);
    bh_rate huge = {UINT64_MAX, 9};
    CHECK_EQ(bh_rate_apply(&huge, INT64_MAX, &got), BH_ERANGE);
    CHECK_EQ(bh_rate_apply(&huge, 0, &got), BH_OK);
    CHECK_EQ(got, 0);
    bh_rate badscale = {1, BH_RATE_MAX_SCALE + 1};
    CHECK_EQ(bh_rate_apply(&badscale, 1, &got), BH_EINVAL);
    CHECK_EQ(bh_rate_apply(NULL, 1, &got), BH_EINVAL);
    CHECK_EQ(bh_rate_apply(&r, 1, NULL), BH_EINVAL);
}

#if defined(__SIZEOF_INT128__)
/* Cross-checks bh_rate_apply against 128-bit arithmetic on random inputs,
 * including hand-built rates above 1 where overflow is possible. */
static void test_rate_apply_against_int128(void)
{
    static const uint64_t pow10[] = {1,      10,      100,      1000,      10000,
                                     100000, 1000000, 10000000, 100000000, 1000000000};
    for (int i = 0; i < 200000; i++) {
        unsigned scale = (unsigned)(rng() % 10);
        /* One rng() call per statement: the order of evaluation is fixed. */
        uint64_t units = rng();
        uint64_t shift = rng() % 64;
        units = i % 4 == 0 ? units >> shift : units % (pow10[scale] + 1);
        shift = rng() % 63 + 1;
        int64_t base = (int64_t)(rng() >> shift);
        bh_rate r = {units, scale};
        unsigned __int128 exact = (unsigned __int128)(uint64_t)base * units;
        unsigned __int128 want = (exact + pow10[scale] / 2) / pow10[scale];
        int64_t got = -1;
        bh_err err = bh_rate_apply(&r, base, &got);
        if (want > (unsigned __int128)INT64_MAX) {
            CHECK_EQ(err, BH_ERANGE);
            if (err != BH_ERANGE)
                break;
        } else {
            CHECK_EQ(err, BH_OK);
            CHECK_EQ(got, (int64_t)want);
            if (err != BH_OK || got != (int64_t)want) {
                fprintf(stderr, "  units %llu scale %u base %lld\n", (unsigned long long)units,
                        scale, (long long)base);
                break;
            }
        }
    }
}
#endif

int main(void)
{
    RUN(test_money_parse_valid);
    RUN(test_money_parse_uses_len_not_nul);
    RUN(test_money_refuses_sign);
    RUN(test_money_refuses_exponent);
    RUN(test_money_refuses_whitespace);
    RUN(test_money_refuses_too_many_decimals);
    RUN(test_money_refuses_bare_dot);
    RUN(test_money_refuses_empty);
    RUN(test_money_refuses_other_characters);
    RUN(test_money_refuses_overflow);
    RUN(test_money_diag_null_field_and_null_diag);
    RUN(test_money_each_rule_has_its_own_message);
    RUN(test_money_format);
    RUN(test_money_round_trip);
    RUN(test_rate_parse_and_format);
    RUN(test_rate_refusals);
    RUN(test_rate_apply_vectors);
    RUN(test_rate_apply_refusals);
#if defined(__SIZEOF_INT128__)
    RUN(test_rate_apply_against_int128);
#endif
    return CHECK_DONE();
}
