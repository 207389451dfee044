/* Money and rates as exact integers.
 *
 * Amounts travel as decimal text in yuan ("20000", "20000.5", "20000.00") and
 * are held as integer fen (1 yuan = 100 fen); floating point is never used.
 * Rates ("0.007") are exact decimals. */
#ifndef BAOHAN_MONEY_H
#define BAOHAN_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text bh_money_format() writes, with its NUL: "-92233720368547758.08". */
#define BH_MONEY_TEXT_MAX 24
/* The most decimal places a rate may have. */
#define BH_RATE_MAX_SCALE 9
#define BH_RATE_TEXT_MAX 32

/* Parses an amount in yuan: one or more ASCII digits, optionally '.' and one or
 * two digits. Refused with BH_EFORMAT, naming `field` and the rule: a sign,
 * an exponent, spaces, more than two decimals, a bare or trailing '.', any
 * other character, empty text. BH_ERANGE when the fen value overflows int64. */
bh_err bh_money_parse(const char *text, size_t len, int64_t *fen, bh_diag *d,
                      const char *field) BH_MUST_CHECK;

/* Writes `fen` as yuan with exactly two decimals ("20000.00"). */
void bh_money_format(int64_t fen, char out[BH_MONEY_TEXT_MAX]);

/* Appends the amount in Chinese capital numerals as written on financial
 * documents: 20000.00 → "人民币贰万元整", 1234.56 → "人民币壹仟贰佰叁拾肆元伍角陆分",
 * 100000.05 → "人民币壹拾万元零伍分". BH_ERANGE for negative amounts or above
 * 9999999999999.99 yuan. */
bh_err bh_money_capital(int64_t fen, bh_buf *out) BH_MUST_CHECK;

/* An exact non-negative decimal: value = units / 10^scale. */
typedef struct bh_rate {
    uint64_t units;
    unsigned scale; /* 0..BH_RATE_MAX_SCALE */
} bh_rate;

/* Parses a rate between 0 and 1 inclusive: digits, optionally '.' and up to
 * BH_RATE_MAX_SCALE digits ("0.007", "0.0125", "1"). Same refusals as money;
 * BH_ERANGE above 1. Trailing zeros are kept in `scale` so the text
 * round-trips. */
bh_err bh_rate_parse(const char *text, size_t len, bh_rate *out, bh_diag *d,
                     const char *field) BH_MUST_CHECK;

/* Writes the rate with exactly its scale's decimals ("0.007"). */
void bh_rate_format(const bh_rate *rate, char out[BH_RATE_TEXT_MAX]);

/* base_fen × rate, rounded half up to the nearest fen. BH_ERANGE on overflow
 * or a negative base. */
bh_err bh_rate_apply(const bh_rate *rate, int64_t base_fen, int64_t *out_fen) BH_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
