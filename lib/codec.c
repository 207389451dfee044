/* Hexadecimal, Base64 and UTF-8 (see include/baohan/codec.h).
 *
 * The decoders are strict on purpose: every byte string has exactly one
 * accepted text form, so two different texts can never decode to the same
 * bytes (or one text to bytes the peer reads differently). See
 * docs/internals/codec.md. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "baohan/codec.h"
#include "banned.h"

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void bh_hex_encode_to(const void *data, size_t len, int upper, char *out)
{
    const uint8_t *p = data;
    const char *digits = upper ? hex_upper : hex_lower;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

bh_err bh_hex_encode(const void *data, size_t len, int upper, bh_buf *out)
{
    if (len > (SIZE_MAX - 1) / 2)
        return BH_ETOOBIG;
    bh_err err = bh_buf_reserve(out, 2 * len);
    if (err)
        return err;
    /* reserve guaranteed room for the NUL that bh_hex_encode_to writes. */
    bh_hex_encode_to(data, len, upper, out->data + out->len);
    out->len += 2 * len;
    return BH_OK;
}

int bh_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bh_err bh_hex_decode(const char *text, size_t len, bh_buf *out)
{
    if (len % 2 != 0)
        return BH_EHEX;
    /* Validate before touching `out`, so an error leaves it unchanged. */
    for (size_t i = 0; i < len; i++)
        if (bh_hex_digit((unsigned char)text[i]) < 0)
            return BH_EHEX;
    bh_err err = bh_buf_reserve(out, len / 2);
    if (err)
        return err;
    uint8_t *dst = (uint8_t *)out->data + out->len;
    for (size_t i = 0; i < len; i += 2)
        dst[i / 2] = (uint8_t)(bh_hex_digit((unsigned char)text[i]) << 4 |
                               bh_hex_digit((unsigned char)text[i + 1]));
    out->len += len / 2;
    out->data[out->len] = '\0';
    return BH_OK;
}

bh_err bh_base64_encode(const void *data, size_t len, bh_buf *out)
{
    if (len / 3 >= (SIZE_MAX - 1) / 4 - 1)
        return BH_ETOOBIG;
    size_t n = (len + 2) / 3 * 4;
    bh_err err = bh_buf_reserve(out, n);
    if (err)
        return err;
    const uint8_t *p = data;
    char *dst = out->data + out->len;
    size_t i = 0;
    for (; len - i >= 3; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *dst++ = b64_alphabet[v >> 18];
        *dst++ = b64_alphabet[(v >> 12) & 63];
        *dst++ = b64_alphabet[(v >> 6) & 63];
        *dst++ = b64_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *dst++ = b64_alphabet[v >> 18];
        *dst++ = b64_alphabet[(v >> 12) & 63];
        *dst++ = '=';
        *dst++ = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *dst++ = b64_alphabet[v >> 18];
        *dst++ = b64_alphabet[(v >> 12) & 63];
        *dst++ = b64_alphabet[(v >> 6) & 63];
        *dst++ = '=';
    }
    out->len += n;
    out->data[out->len] = '\0';
    return BH_OK;
}

/* The 6-bit value of each byte as a Base64 character, or X (bit 7 set) for
 * any byte outside the alphabet, '=' included: padding is handled by
 * position, never by lookup. One table load a character instead of a chain
 * of range tests; OR-ing the values of a run tells at once whether any of
 * them was outside the alphabet. */
#define X 0xff
static const uint8_t b64_value[256] = {
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
#undef X

/* The number of '=' that end `len` (> 0) characters: at most two count as
 * padding; any other '=' is an invalid data character. */
static size_t b64_padding(const unsigned char *s, size_t len)
{
    if (s[len - 1] != '=')
        return 0;
    return s[len - 2] == '=' ? 2 : 1;
}

/* Whether the bits of the last data character that fall beyond the final
 * byte are zero, as they must be, or "Zg==" and "Zh==" would both decode to
 * "f". */
static int b64_tail_bits_zero(const unsigned char *s, size_t len, size_t pad)
{
    if (pad == 2)
        return (b64_value[s[len - 3]] & 0x0f) == 0;
    if (pad == 1)
        return (b64_value[s[len - 2]] & 0x03) == 0;
    return 1;
}

/* Checks every rule and returns the number of bytes the text decodes to, or
 * -1 (as SIZE_MAX) when it is malformed. Kept apart from the decoding so that
 * `out` of bh_base64_decode is only touched once the input is known to be
 * good. */
static size_t b64_decoded_len(const unsigned char *s, size_t len)
{
    if (len % 4 != 0)
        return SIZE_MAX;
    if (len == 0)
        return 0;
    size_t pad = b64_padding(s, len);
    unsigned bad = 0;
    for (size_t i = 0; i < len - pad; i++)
        bad |= b64_value[s[i]];
    if ((bad & 0x80) || !b64_tail_bits_zero(s, len, pad))
        return SIZE_MAX;
    return len / 4 * 3 - pad;
}

/* Decodes `len` characters (a positive multiple of 4, the last `pad` of them
 * '=') into their len / 4 * 3 - pad bytes, and returns the OR of the table
 * values of the data characters: bit 7 set means one was outside the
 * alphabet, and the bytes written are then meaningless. */
static unsigned b64_decode_quads(const unsigned char *s, size_t len, size_t pad, uint8_t *dst)
{
    unsigned bad = 0;
    size_t o = 0;
    /* Every quad but the last is four data characters. */
    for (size_t i = 0; i + 4 < len; i += 4, o += 3) {
        unsigned a = b64_value[s[i]], b = b64_value[s[i + 1]], c = b64_value[s[i + 2]],
                 d = b64_value[s[i + 3]];
        bad |= a | b | c | d;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        dst[o] = (uint8_t)(v >> 16);
        dst[o + 1] = (uint8_t)(v >> 8);
        dst[o + 2] = (uint8_t)v;
    }
    /* The last quad: padding positions read as zero. */
    const unsigned char *q = s + len - 4;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        unsigned x = k < 4 - pad ? b64_value[q[k]] : 0u;
        bad |= x;
        v = v << 6 | (x & 63);
    }
    uint8_t bytes[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    for (size_t k = 0; k < 3 - pad; k++)
        dst[o++] = bytes[k];
    return bad;
}

bh_err bh_base64_decode_to(const char *text, size_t len, void *out, size_t size, size_t *n)
{
    /* One pass that decodes and validates together: `out` is the caller's
     * scratch, which an error may leave written. */
    const unsigned char *s = (const unsigned char *)text;
    if (len % 4 != 0)
        return BH_EBASE64;
    if (len == 0) {
        *n = 0;
        return BH_OK;
    }
    size_t pad = b64_padding(s, len), want = len / 4 * 3 - pad;
    if (want > size)
        return b64_decoded_len(s, len) == SIZE_MAX ? BH_EBASE64 : BH_ETOOBIG;
    if ((b64_decode_quads(s, len, pad, out) & 0x80) || !b64_tail_bits_zero(s, len, pad))
        return BH_EBASE64;
    *n = want;
    return BH_OK;
}

bh_err bh_base64_check(const char *text, size_t len, size_t *n)
{
    size_t got = b64_decoded_len((const unsigned char *)text, len);
    if (got == SIZE_MAX)
        return BH_EBASE64;
    *n = got;
    return BH_OK;
}

bh_err bh_base64_decode(const char *text, size_t len, bh_buf *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = b64_decoded_len(s, len);
    if (n == SIZE_MAX)
        return BH_EBASE64;
    if (n == 0)
        return BH_OK;
    bh_err err = bh_buf_reserve(out, n);
    if (err)
        return err;
    (void)b64_decode_quads(s, len, len / 4 * 3 - n, (uint8_t *)out->data + out->len);
    out->len += n;
    out->data[out->len] = '\0';
    return BH_OK;
}

/* The length of the well-formed UTF-8 sequence at s[0..avail), or 0 when it
 * is malformed. Follows the Unicode Standard's table 3-7 of well-formed byte
 * sequences, which excludes overlongs, surrogates and values over U+10FFFF by
 * narrowing the range of the second byte. */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c < 0xc2) /* continuation byte, or C0/C1 (overlong two-byte forms) */
        return 0;
    if (c < 0xe0) {
        n = 2;
    } else if (c < 0xf0) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* E0 80..9F would be overlong */
        else if (c == 0xed)
            hi = 0x9f; /* ED A0..BF would be a surrogate */
    } else if (c < 0xf5) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* F0 80..8F would be overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* F4 90.. would exceed U+10FFFF */
    } else {
        return 0; /* F5..FF can only encode values over U+10FFFF */
    }
    if (avail < n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Eight bytes as one word; memcpy is how C reads unaligned memory, and the
 * compiler makes it one load. */
static uint64_t load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

#define HIGH_BITS 0x8080808080808080u

int bh_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path: eight bytes without a high bit are eight
         * one-byte sequences. */
        if (len - i >= 8 && (load8(p + i) & HIGH_BITS) == 0) {
            i += 8;
            continue;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        /* The common three-byte case (all of CJK): a lead byte that puts no
         * limit on the second byte (E1..EC, EE, EF), then two continuation
         * bytes. Everything else takes the full table below. */
        if (len - i >= 3 && p[i] >= 0xe1 && p[i] <= 0xef && p[i] != 0xed &&
            (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80) {
            i += 3;
            continue;
        }
        size_t n = utf8_sequence(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

size_t bh_utf8_length(const char *s, size_t len)
{
    /* In valid UTF-8 every code point has exactly one byte that is not a
     * continuation byte (10xxxxxx). Eight bytes at a time: a byte is a
     * continuation byte when its bit 7 is set and its bit 6 is clear. */
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0, i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w = load8(p + i);
        uint64_t cont = (w & ~(w << 1) & HIGH_BITS) >> 7; /* 1 in each such byte */
        /* The multiplication sums the eight bytes into the top one. */
        count += 8 - (size_t)((cont * 0x0101010101010101u) >> 56);
    }
    for (; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            count++;
    return count;
}

/* The length of the UTF-8 sequence led by `b`, or 0 for a byte that cannot
 * lead one. */
static size_t sequence_length(unsigned char b)
{
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF)
        return 2;
    if (b >= 0xE0 && b <= 0xEF)
        return 3;
    if (b >= 0xF0 && b <= 0xF4)
        return 4;
    return 0;
}

void bh_utf8_printable(const char *s, size_t len, char *out, size_t size)
{
    static const char ellipsis[] = "\xE2\x80\xA6"; /* … */
    size_t i = 0, o = 0, room = size - 1 - (sizeof ellipsis - 1);
    while (i < len) {
        unsigned char b = (unsigned char)s[i];
        size_t n = sequence_length(b);
        if (n > 1 && (i + n > len || !bh_utf8_valid(s + i, n)))
            n = 0;
        size_t width = n ? n : 1;
        if (o + width > room)
            break;
        if (n == 0) {
            out[o++] = '?';
        } else if (b < 0x20 || b == 0x7F || (b == 0xC2 && (unsigned char)s[i + 1] < 0xA0)) {
            out[o++] = ' '; /* C0 and C1 controls and DEL */
        } else {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += width;
    }
    if (i < len) {
        memcpy(out + o, ellipsis, sizeof ellipsis - 1);
        o += sizeof ellipsis - 1;
    }
    out[o] = '\0';
}
