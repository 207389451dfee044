/* The cryptography of the wire: SM3 (signatures), SM4-ECB with PKCS#7 padding
 * (field encryption), MD5 (file fingerprints) and a CSPRNG. SM3 and SM4 are
 * libbaohan's own (checked against the standards' known answers and against
 * OpenSSL in the tests); MD5 is OpenSSL's. Every call is independent and
 * thread-safe; the only global state is SM4's round table, built once. */
#ifndef BAOHAN_GM_H
#define BAOHAN_GM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BH_SM3_LEN 32
#define BH_SM3_HEX_LEN 64
#define BH_MD5_LEN 16
#define BH_MD5_HEX_LEN 32
#define BH_SM4_KEY_LEN 16
#define BH_SM4_BLOCK 16

/* SM3 digest of `len` bytes. */
bh_err bh_sm3(const void *data, size_t len, uint8_t out[BH_SM3_LEN]) BH_MUST_CHECK;

/* SM3 digest as 64 lower-case hexadecimal characters plus NUL. */
bh_err bh_sm3_hex(const void *data, size_t len, char out[BH_SM3_HEX_LEN + 1]) BH_MUST_CHECK;

/* MD5 digest as 32 upper-case hexadecimal characters plus NUL (the form the
 * specification uses for file fingerprints). */
bh_err bh_md5_hex(const void *data, size_t len, char out[BH_MD5_HEX_LEN + 1]) BH_MUST_CHECK;

/* An SM4 key: 16 bytes. */
typedef struct bh_sm4_key {
    uint8_t bytes[BH_SM4_KEY_LEN];
} bh_sm4_key;

/* Parses a key written as 32 hexadecimal characters (either case) or as
 * standard Base64 of exactly 16 bytes; anything else is BH_EKEY, reported on
 * `field` (e.g. "key") without echoing the text. */
bh_err bh_sm4_key_parse(const char *text, bh_sm4_key *out, bh_diag *d,
                        const char *field) BH_MUST_CHECK;

/* Raw SM4-ECB over whole blocks, no padding: `len` must be a multiple of 16.
 * `out` receives `len` bytes and may equal `in`. For known-answer tests and
 * anything that needs the bare cipher. */
bh_err bh_sm4_ecb_raw(const bh_sm4_key *key, int encrypt, const uint8_t *in, uint8_t *out,
                      size_t len) BH_MUST_CHECK;

/* SM4-ECB with PKCS#7 padding (Java's SM4/ECB/PKCS5Padding): a whole block of
 * padding is added when `len` is a multiple of 16. Appends to `out`. */
bh_err bh_sm4_encrypt(const bh_sm4_key *key, const void *plain, size_t len,
                      bh_buf *out) BH_MUST_CHECK;

/* The reverse: BH_EDECRYPT when `len` is not a positive multiple of 16 or the
 * padding is wrong. Appends the plaintext to `out`. */
bh_err bh_sm4_decrypt(const bh_sm4_key *key, const void *cipher, size_t len,
                      bh_buf *out) BH_MUST_CHECK;

/* Field encryption as the wire uses it: UTF-8 text → SM4-ECB/PKCS#7 →
 * standard Base64 with padding. Appends the Base64 text to `out`. */
bh_err bh_sm4_encrypt_field(const bh_sm4_key *key, const char *plain, size_t len,
                            bh_buf *out) BH_MUST_CHECK;

/* Field decryption: Base64 → SM4 → plaintext that must be valid UTF-8 without
 * NUL. On failure returns BH_EBASE64 or BH_EDECRYPT (or BH_EUTF8) and appends
 * nothing to `out`; the caller names the field. */
bh_err bh_sm4_decrypt_field(const bh_sm4_key *key, const char *b64, size_t len,
                            bh_buf *out) BH_MUST_CHECK;

/* A keyed SM4 cipher for many operations under one key (the fields of a
 * message): the key schedule happens once instead
 * of per value. Not thread-safe: one per thread or per message. The key-taking
 * functions above make a temporary one per call. */
typedef struct bh_sm4 bh_sm4;

bh_err bh_sm4_new(const bh_sm4_key *key, bh_sm4 **out) BH_MUST_CHECK;
void bh_sm4_free(bh_sm4 *c);

/* bh_sm4_ecb_raw with a keyed cipher. */
bh_err bh_sm4_blocks(bh_sm4 *c, int encrypt, const uint8_t *in, uint8_t *out,
                     size_t len) BH_MUST_CHECK;

/* bh_sm4_encrypt_field and bh_sm4_decrypt_field with a keyed cipher. */
bh_err bh_sm4_encrypt_field_with(bh_sm4 *c, const char *plain, size_t len,
                                 bh_buf *out) BH_MUST_CHECK;
bh_err bh_sm4_decrypt_field_with(bh_sm4 *c, const char *b64, size_t len, bh_buf *out) BH_MUST_CHECK;

/* `len` bytes from the operating system's CSPRNG (getrandom(2)). */
bh_err bh_random_bytes(void *out, size_t len) BH_MUST_CHECK;

/* Compares two byte strings in time that depends only on `len`. 1 when equal. */
int bh_ct_equal(const void *a, const void *b, size_t len);

/* Overwrites memory in a way the compiler may not optimise away. */
void bh_wipe(void *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif
