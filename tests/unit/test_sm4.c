/* Tests of lib/sm4.c, our SM4 block cipher: its S-box against the
 * algebraic definition, and the cipher against OpenSSL's SM4-ECB (an
 * independent implementation) on random keys and every block count from 1
 * to 40, both directions, in place and not. The standard's known answers
 * (one block, and a million encryptions) are in test_gm.c. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "baohan/gm.h"
#include "check.h"
#include "sm4.h"

/* Multiplication in GF(2^8) modulo x^8+x^7+x^6+x^5+x^4+x^2+1 (0x1f5). */
static unsigned gf_mul(unsigned a, unsigned b)
{
    unsigned r = 0;
    for (; b; b >>= 1) {
        if (b & 1)
            r ^= a;
        a <<= 1;
        if (a & 0x100)
            a ^= 0x1f5;
    }
    return r;
}

static unsigned gf_inv(unsigned x)
{
    for (unsigned y = 1; y < 256 && x; y++)
        if (gf_mul(x, y) == 1)
            return y;
    return 0; /* 0 maps to 0 */
}

/* The affine map of the S-box: output bit 7-i is the parity of x AND the
 * byte 0xd3 rotated right by i (a circulant matrix), then XOR 0xd3. */
static unsigned affine(unsigned x)
{
    unsigned out = 0;
    for (unsigned i = 0; i < 8; i++) {
        unsigned row = ((0xd3u >> i) | (0xd3u << (8 - i))) & 0xff;
        unsigned v = row & x, parity = 0;
        for (; v; v >>= 1)
            parity ^= v & 1;
        out |= parity << (7 - i);
    }
    return out ^ 0xd3;
}

/* S(x) = A(inverse(A(x))): every entry of the table. */
static void test_sbox_is_its_definition(void)
{
    int wrong = 0;
    for (unsigned x = 0; x < 256; x++)
        if (bh__sm4_sbox[x] != affine(gf_inv(affine(x))))
            wrong++;
    CHECK_EQ(wrong, 0);
    CHECK_EQ(bh__sm4_sbox[0x00], 0xd6); /* GB/T 32907-2016, table 1 */
    CHECK_EQ(bh__sm4_sbox[0xff], 0x48);
}

/* OpenSSL's SM4-ECB without padding, the reference. */
static int reference(const uint8_t key[16], int encrypt, const uint8_t *in, uint8_t *out,
                     size_t len)
{
    EVP_CIPHER *sm4 = EVP_CIPHER_fetch(NULL, "SM4-ECB", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok = sm4 && ctx && EVP_CipherInit_ex(ctx, sm4, NULL, key, NULL, encrypt) &&
                    EVP_CIPHER_CTX_set_padding(ctx, 0) &&
                    EVP_CipherUpdate(ctx, out, &n, in, (int)len) && (size_t)n == len;
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(sm4);
    return ok;
}

static void test_against_openssl(void)
{
    enum { MAX_BLOCKS = 40 };
    uint8_t key[16], in[16 * MAX_BLOCKS], want[sizeof in], got[sizeof in];
    int mismatches = 0, refused = 0;
    for (int trial = 0; trial < 20; trial++) {
        check_random_bytes(key, sizeof key);
        bh__sm4_schedule enc, dec;
        bh__sm4_expand(key, &enc, &dec);
        for (size_t nb = 1; nb <= MAX_BLOCKS; nb++) {
            size_t len = 16 * nb;
            check_random_bytes(in, len);
            for (int encrypt = 0; encrypt <= 1; encrypt++) {
                if (!reference(key, encrypt, in, want, len)) {
                    refused++;
                    continue;
                }
                bh__sm4_ecb(encrypt ? &enc : &dec, in, got, nb);
                mismatches += memcmp(got, want, len) != 0;
                memcpy(got, in, len); /* in place */
                bh__sm4_ecb(encrypt ? &enc : &dec, got, got, nb);
                mismatches += memcmp(got, want, len) != 0;
            }
        }
    }
    CHECK_EQ(refused, 0);
    CHECK_EQ(mismatches, 0);
}

/* Only the schedule asked for is written. */
static void test_one_schedule(void)
{
    uint8_t key[16] = {0};
    bh__sm4_schedule enc, dec, only;
    bh__sm4_expand(key, &enc, &dec);
    bh__sm4_expand(key, &only, NULL);
    CHECK(memcmp(&only, &enc, sizeof only) == 0);
    bh__sm4_expand(key, NULL, &only);
    CHECK(memcmp(&only, &dec, sizeof only) == 0);
    for (int i = 0; i < BH__SM4_ROUNDS; i++)
        CHECK_EQ(enc.rk[i], dec.rk[BH__SM4_ROUNDS - 1 - i]);
}

int main(void)
{
    RUN(test_sbox_is_its_definition);
    RUN(test_against_openssl);
    RUN(test_one_schedule);
    return CHECK_DONE();
}
