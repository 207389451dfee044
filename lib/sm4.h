/* The SM4 block cipher (GB/T 32907-2016) itself: the key schedule and ECB
 * over whole blocks. Internal to libbaohan; lib/gm.c builds the public
 * SM4 functions (padding, fields, keyed ciphers) on it. See
 * docs/internals/gm.md for why this is our own code and not OpenSSL's. */
#ifndef BAOHAN_LIB_SM4_H
#define BAOHAN_LIB_SM4_H

#include <stddef.h>
#include <stdint.h>

#define BH__SM4_ROUNDS 32

/* The round keys of one direction. */
typedef struct bh__sm4_schedule {
    uint32_t rk[BH__SM4_ROUNDS];
} bh__sm4_schedule;

/* Expands a 16-byte key into the encryption and the decryption schedule
 * (the same round keys in reverse order). Either pointer may be NULL. */
void bh__sm4_expand(const uint8_t key[16], bh__sm4_schedule *enc, bh__sm4_schedule *dec);

/* `nblocks` 16-byte blocks of `in` through SM4 with `ks` into `out`; `out`
 * may equal `in` (not overlap it otherwise). Encrypts or decrypts according
 * to the schedule given, which must come from bh__sm4_expand (that also
 * builds the round table, once per process). */
void bh__sm4_ecb(const bh__sm4_schedule *ks, const uint8_t *in, uint8_t *out, size_t nblocks);

/* The S-box, for the test that derives it from its algebraic definition. */
extern const uint8_t bh__sm4_sbox[256];

#endif
