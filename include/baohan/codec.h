/* Text codecs: hexadecimal, standard Base64 (RFC 4648 §4, with padding) and a
 * UTF-8 validator. Decoders are strict: they reject any malformed input
 * rather than guess, because a lenient decoder is a way to smuggle two
 * different byte strings past one signature. */
#ifndef BAOHAN_CODEC_H
#define BAOHAN_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends the hex form of `len` bytes (lower case unless `upper`). */
bh_err bh_hex_encode(const void *data, size_t len, int upper, bh_buf *out) BH_MUST_CHECK;

/* Writes hex into `out`, which must hold 2*len+1 bytes; cannot fail. */
void bh_hex_encode_to(const void *data, size_t len, int upper, char *out);

/* The value 0..15 of one hexadecimal digit (either case), or -1. */
int bh_hex_digit(int c);

/* Decodes hex (either case). BH_EHEX on odd length or a non-hex character.
 * Appends the bytes to `out`; on error `out` is unchanged. */
bh_err bh_hex_decode(const char *text, size_t len, bh_buf *out) BH_MUST_CHECK;

/* Appends the standard Base64 form of `len` bytes, with '=' padding. */
bh_err bh_base64_encode(const void *data, size_t len, bh_buf *out) BH_MUST_CHECK;

/* Checks standard Base64 (the rules of bh_base64_decode) without decoding:
 * BH_OK with the decoded size in `*n`, or BH_EBASE64. */
bh_err bh_base64_check(const char *text, size_t len, size_t *n) BH_MUST_CHECK;

/* Decodes standard Base64. BH_EBASE64 when the length is not a multiple of 4,
 * a character is outside the alphabet (whitespace included), '=' appears
 * anywhere but in the last two places, or the unused bits of the last
 * character are not zero. Appends the bytes to `out`; on error `out` is
 * unchanged. The empty string decodes to nothing. */
bh_err bh_base64_decode(const char *text, size_t len, bh_buf *out) BH_MUST_CHECK;

/* bh_base64_decode into a caller's array of `size` bytes (len / 4 * 3 is
 * always enough), for callers that decode small values on the stack. `*n`
 * receives the byte count. BH_EBASE64 as above, then BH_ETOOBIG when the
 * bytes do not fit. It validates while it decodes, so on error `*n` is
 * untouched but `out` may have been written: scratch, not a result. */
bh_err bh_base64_decode_to(const char *text, size_t len, void *out, size_t size,
                           size_t *n) BH_MUST_CHECK;

/* 1 when `len` bytes are well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), else 0. */
int bh_utf8_valid(const char *s, size_t len);

/* The number of code points in valid UTF-8 text (field lengths are counted in
 * characters, not bytes). */
size_t bh_utf8_length(const char *s, size_t len);

/* Writes `s` (`len` bytes, any content) into `out` (`size` bytes, NUL
 * included) as printable, valid UTF-8: control characters become a space,
 * invalid bytes '?', a character that does not fit is dropped whole, and
 * "…" ends text that was cut short. For quoting text that came from
 * elsewhere in a log line or a message without letting it forge lines or
 * break a terminal. `size` must be at least 4. */
void bh_utf8_printable(const char *s, size_t len, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
