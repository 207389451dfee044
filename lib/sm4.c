/* SM4 (GB/T 32907-2016): key schedule and ECB over whole blocks.
 *
 * Why our own and not OpenSSL's (see docs/internals/gm.md): every
 * baohanapply decrypts 17 short fields, and through EVP that cost ~13 us a
 * request in the daemon (a provider context per message, EVP's per-call
 * dispatch, and OpenSSL 3.0's one-block-at-a-time loop), about a sixth of
 * all its CPU. Here four blocks go through the rounds side by side, so the
 * processor overlaps four chains of dependent table look-ups, and a
 * schedule is 32 words with no allocation.
 *
 * The round function is T(x) = L(tau(x)): tau applies the S-box to each
 * byte, L(b) = b ^ b<<<2 ^ b<<<10 ^ b<<<18 ^ b<<<24. L is built of
 * rotations, so it commutes with them, and T(x) is four look-ups in one
 * table T0[a] = L(S(a) << 24), rotated into place: 1 KB of table.
 *
 * Side channels: the first and the last four rounds use the 256-byte S-box
 * (four cache lines) and compute L, and only the middle rounds use the
 * larger table, which narrows what cache timing can observe where the state
 * is closest to the input and the output. Ciphertext reaches the
 * daemon's decryption only after the request's signature has verified, i.e.
 * from a counterpart that already holds the key. */
#include <pthread.h>
#include <string.h>

#include "sm4.h"
#include "word32.h"
#include "banned.h"

/* The S-box. It is the affine-inverse-affine map of GF(2^8) modulo
 * x^8+x^7+x^6+x^5+x^4+x^2+1; tests/unit/test_sm4.c derives it from that
 * definition and checks every entry. */
const uint8_t bh__sm4_sbox[256] = {
    0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
    0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
    0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
    0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
    0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
    0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
    0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
    0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
    0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
    0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
    0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
    0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
    0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
    0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
    0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
    0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
};

/* The key schedule's constants: FK, and CK_i whose bytes are (4i + j) * 7
 * mod 256, j = 0..3. */
static const uint32_t FK[4] = {0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc};

static uint32_t T0[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static inline uint32_t tau(uint32_t x)
{
    const uint8_t *S = bh__sm4_sbox;
    return (uint32_t)S[x >> 24] << 24 | (uint32_t)S[(x >> 16) & 0xff] << 16 |
           (uint32_t)S[(x >> 8) & 0xff] << 8 | S[x & 0xff];
}

static inline uint32_t L(uint32_t b)
{
    return b ^ bh__rotl32(b, 2) ^ bh__rotl32(b, 10) ^ bh__rotl32(b, 18) ^ bh__rotl32(b, 24);
}

/* The round function from the S-box (first and last rounds). */
static inline uint32_t t_sbox(uint32_t x)
{
    return L(tau(x));
}

/* The round function from the table (middle rounds). */
static inline uint32_t t_table(uint32_t x)
{
    return T0[x >> 24] ^ bh__rotl32(T0[(x >> 16) & 0xff], 24) ^
           bh__rotl32(T0[(x >> 8) & 0xff], 16) ^ bh__rotl32(T0[x & 0xff], 8);
}

static void make_tables(void)
{
    for (unsigned a = 0; a < 256; a++)
        T0[a] = L((uint32_t)bh__sm4_sbox[a] << 24);
}

void bh__sm4_expand(const uint8_t key[16], bh__sm4_schedule *enc, bh__sm4_schedule *dec)
{
    pthread_once(&tables_once, make_tables);
    uint32_t k[4];
    for (int i = 0; i < 4; i++)
        k[i] = bh__load_be32(key + 4 * i) ^ FK[i];
    for (unsigned i = 0; i < BH__SM4_ROUNDS; i++) {
        uint32_t ck = 0;
        for (unsigned j = 0; j < 4; j++)
            ck = ck << 8 | (((4 * i + j) * 7) & 0xff);
        /* The schedule's own linear map: L'(b) = b ^ b<<<13 ^ b<<<23. */
        uint32_t b = tau(k[1] ^ k[2] ^ k[3] ^ ck);
        uint32_t rk = k[0] ^ b ^ bh__rotl32(b, 13) ^ bh__rotl32(b, 23);
        k[0] = k[1];
        k[1] = k[2];
        k[2] = k[3];
        k[3] = rk;
        if (enc)
            enc->rk[i] = rk;
        if (dec)
            dec->rk[BH__SM4_ROUNDS - 1 - i] = rk;
    }
    /* The key words are as secret as the key. */
    volatile uint32_t *wipe = k;
    for (int i = 0; i < 4; i++)
        wipe[i] = 0;
}

/* Four rounds on each of N states x[n][0..3], with round keys rk[r..r+3]
 * and round function F. After them every state has moved on by four words,
 * which puts each back in the same order: no shuffling between groups. */
#define ROUNDS4(N, x, rk, r, F)                                                                    \
    do {                                                                                           \
        for (int n_ = 0; n_ < (N); n_++)                                                           \
            x[n_][0] ^= F(x[n_][1] ^ x[n_][2] ^ x[n_][3] ^ (rk)[(r) + 0]);                         \
        for (int n_ = 0; n_ < (N); n_++)                                                           \
            x[n_][1] ^= F(x[n_][2] ^ x[n_][3] ^ x[n_][0] ^ (rk)[(r) + 1]);                         \
        for (int n_ = 0; n_ < (N); n_++)                                                           \
            x[n_][2] ^= F(x[n_][3] ^ x[n_][0] ^ x[n_][1] ^ (rk)[(r) + 2]);                         \
        for (int n_ = 0; n_ < (N); n_++)                                                           \
            x[n_][3] ^= F(x[n_][0] ^ x[n_][1] ^ x[n_][2] ^ (rk)[(r) + 3]);                         \
    } while (0)

/* N blocks at once (N is a constant at each call, so the loops unroll and
 * the N chains interleave). */
static inline void blocks(const uint32_t *rk, const uint8_t *in, uint8_t *out, int N)
{
    uint32_t x[4][4];
    for (int n = 0; n < N; n++)
        for (int w = 0; w < 4; w++)
            x[n][w] = bh__load_be32(in + 16 * n + 4 * w);
    ROUNDS4(N, x, rk, 0, t_sbox);
    for (int r = 4; r < 28; r += 4)
        ROUNDS4(N, x, rk, r, t_table);
    ROUNDS4(N, x, rk, 28, t_sbox);
    /* The output is the last four words in reverse order. */
    for (int n = 0; n < N; n++)
        for (int w = 0; w < 4; w++)
            bh__store_be32(out + 16 * n + 4 * w, x[n][3 - w]);
    /* After decryption the state is plaintext: not left on the stack. */
    volatile uint32_t *wipe = &x[0][0];
    for (int i = 0; i < 4 * N; i++)
        wipe[i] = 0;
}

void bh__sm4_ecb(const bh__sm4_schedule *ks, const uint8_t *in, uint8_t *out, size_t nblocks)
{
    /* T0 is built: every schedule comes from bh__sm4_expand (sm4.h). */
    for (; nblocks >= 4; nblocks -= 4, in += 64, out += 64)
        blocks(ks->rk, in, out, 4);
    /* A field is typically 1 to 4 blocks: the rest in one pass too. */
    switch (nblocks) {
    case 3:
        blocks(ks->rk, in, out, 3);
        break;
    case 2:
        blocks(ks->rk, in, out, 2);
        break;
    case 1:
        blocks(ks->rk, in, out, 1);
        break;
    default:
        break;
    }
}
