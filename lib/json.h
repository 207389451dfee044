/* Internal: the strict JSON reader behind bh_msg_parse() and
 * bh_json_array_each(). It validates as it goes and never builds a tree: a
 * caller walks one level and gets each value's kind and text. */
#ifndef BAOHAN_JSON_INTERNAL_H
#define BAOHAN_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "baohan/buf.h"
#include "baohan/error.h"
#include "baohan/msg.h"

typedef struct bh__json {
    const char *start; /* the whole input, for byte offsets in messages */
    const char *p;     /* the next byte to read */
    const char *end;
    bh_diag *d;
    const char *field; /* what errors are reported on ("" for the whole input) */
} bh__json;

/* Starts reading `len` bytes; checks the whole input is UTF-8 and skips one
 * leading byte-order mark (which some Windows clients send and which is not
 * part of any value). */
bh_err bh__json_begin(bh__json *j, const char *text, size_t len, bh_diag *d, const char *field);

void bh__json_skip_ws(bh__json *j);

/* Consumes `c` after optional whitespace, or reports "expected 'c'". */
bh_err bh__json_expect(bh__json *j, char c, const char *what);

/* Reads one value at the cursor. Strings are unescaped into `text` (which is
 * reset first); numbers and literals are copied there as written; objects and
 * arrays are validated to depth `max_depth` and their raw text copied there.
 * `*type` receives the kind. `key` names the value in error messages. */
bh_err bh__json_value(bh__json *j, bh_buf *text, bh_jtype *type, int max_depth,
                      const char *key);

/* Reports a syntax error at the cursor. */
bh_err bh__json_syntax(bh__json *j, const char *what);

/* After the last value: only whitespace may remain. */
bh_err bh__json_end(bh__json *j);

/* 1 when `s` is exactly one JSON number as RFC 8259 writes it. */
int bh__json_is_number(const char *s, size_t len);

/* The first byte in [p, end) that a JSON string cannot hold as it is — '"',
 * '\\' or a control character below 0x20 — or `end`. Both the reader and
 * bh_json_quote() copy the plain run before it in one go. Eight bytes at a
 * time: for a word w, (w - 0x01..01 * n) & ~w & 0x80..80 is non-zero exactly
 * when some byte of w is below n (n <= 0x80), so a byte equal to c is a zero
 * byte of w ^ (0x01..01 * c). The word test only says whether the word holds
 * such a byte; the byte loop then finds which. */
static inline const char *bh__json_plain_end(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, sizeof w);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        if (((w - ones * 0x20) & ~w & high) | ((q - ones) & ~q & high) | ((b - ones) & ~b & high))
            break;
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return p;
}

#endif
