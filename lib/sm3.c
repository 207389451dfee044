/* SM3 (GB/T 32905-2016).
 *
 * Why our own and not OpenSSL's (see docs/internals/gm.md): the daemon
 * hashes twice a request (the signature over ~1.5 KB, and the content of an
 * application), and through EVP each digest also paid for a context, the
 * provider's dispatch and its freeing. This is the plain algorithm with the
 * 64 rounds unrolled so that the register renaming is free and each round's
 * constant T_j <<< j is folded at compile time. SM3 is additions, rotations
 * and Boolean functions only: no table look-ups and no branches on the
 * data, so its time does not depend on what it hashes (the appsecret
 * among it). */
#include <string.h>

#include "sm3.h"
#include "word32.h"
#include "banned.h"

#define P0(x) ((x) ^ bh__rotl32((x), 9) ^ bh__rotl32((x), 17))
#define P1(x) ((x) ^ bh__rotl32((x), 15) ^ bh__rotl32((x), 23))
#define FF0(x, y, z) ((x) ^ (y) ^ (z))
#define GG0(x, y, z) ((x) ^ (y) ^ (z))
#define FF1(x, y, z) (((x) & (y)) | (((x) | (y)) & (z)))
#define GG1(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))

/* Message word i >= 16. */
#define EXPAND(i)                                                                                  \
    (w[i] = P1(w[(i)-16] ^ w[(i)-9] ^ bh__rotl32(w[(i)-3], 15)) ^ bh__rotl32(w[(i)-13], 7) ^       \
            w[(i)-6])

/* Round j, written so that nothing moves between rounds: the new A goes
 * where D was and the new E where H was, B and F are rotated in place, and
 * the next round is called with the names shifted (see ROUNDS4). Round j
 * needs message word j + 4, made just before: expanding all 52 words in a
 * loop first let the compiler vectorise that loop, whose stores then
 * stalled the loads of the words three back (SM3 at half OpenSSL's speed);
 * made here, each word's expansion also overlaps the rounds' own chain. */
#define ROUND(A, B, C, D, E, F, G, H, FF, GG, T, j)                                                \
    do {                                                                                           \
        if ((j) >= 12)                                                                             \
            EXPAND((j) + 4);                                                                       \
        uint32_t a12 = bh__rotl32(A, 12);                                                          \
        uint32_t ss1 = bh__rotl32(a12 + E + bh__rotl32(T, (j) % 32), 7);                           \
        uint32_t ss2 = ss1 ^ a12;                                                                  \
        D = FF(A, B, C) + D + ss2 + (w[j] ^ w[(j) + 4]);                                           \
        H = GG(E, F, G) + H + ss1 + w[j];                                                          \
        B = bh__rotl32(B, 9);                                                                      \
        F = bh__rotl32(F, 19);                                                                     \
        H = P0(H);                                                                                 \
    } while (0)

#define ROUNDS4(FF, GG, T, j)                                                                      \
    do {                                                                                           \
        ROUND(a, b, c, d, e, f, g, h, FF, GG, T, (j) + 0);                                         \
        ROUND(d, a, b, c, h, e, f, g, FF, GG, T, (j) + 1);                                         \
        ROUND(c, d, a, b, g, h, e, f, FF, GG, T, (j) + 2);                                         \
        ROUND(b, c, d, a, f, g, h, e, FF, GG, T, (j) + 3);                                         \
    } while (0)

#define T_LOW 0x79cc4519u  /* rounds 0..15 */
#define T_HIGH 0x7a879d8au /* rounds 16..63 */

static void compress(uint32_t v[8], const uint8_t *p, size_t nblocks)
{
    uint32_t w[68];
    for (; nblocks > 0; nblocks--, p += 64) {
        for (int j = 0; j < 16; j++)
            w[j] = bh__load_be32(p + 4 * j);
        uint32_t a = v[0], b = v[1], c = v[2], d = v[3];
        uint32_t e = v[4], f = v[5], g = v[6], h = v[7];
        ROUNDS4(FF0, GG0, T_LOW, 0);
        ROUNDS4(FF0, GG0, T_LOW, 4);
        ROUNDS4(FF0, GG0, T_LOW, 8);
        ROUNDS4(FF0, GG0, T_LOW, 12);
        ROUNDS4(FF1, GG1, T_HIGH, 16);
        ROUNDS4(FF1, GG1, T_HIGH, 20);
        ROUNDS4(FF1, GG1, T_HIGH, 24);
        ROUNDS4(FF1, GG1, T_HIGH, 28);
        ROUNDS4(FF1, GG1, T_HIGH, 32);
        ROUNDS4(FF1, GG1, T_HIGH, 36);
        ROUNDS4(FF1, GG1, T_HIGH, 40);
        ROUNDS4(FF1, GG1, T_HIGH, 44);
        ROUNDS4(FF1, GG1, T_HIGH, 48);
        ROUNDS4(FF1, GG1, T_HIGH, 52);
        ROUNDS4(FF1, GG1, T_HIGH, 56);
        ROUNDS4(FF1, GG1, T_HIGH, 60);
        /* Four rounds bring the names back to where they started. */
        v[0] ^= a;
        v[1] ^= b;
        v[2] ^= c;
        v[3] ^= d;
        v[4] ^= e;
        v[5] ^= f;
        v[6] ^= g;
        v[7] ^= h;
    }
    /* The expanded words are the message (and so, for a signature, the
     * appsecret): not left on the stack. */
    volatile uint32_t *wipe = w;
    for (int j = 0; j < 68; j++)
        wipe[j] = 0;
}

void bh__sm3_init(bh__sm3 *h)
{
    static const uint32_t iv[8] = {0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
                                   0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e};
    memcpy(h->v, iv, sizeof iv);
    h->total = 0;
    h->held = 0;
}

void bh__sm3_update(bh__sm3 *h, const void *data, size_t len)
{
    if (len == 0)
        return; /* and `data` may be NULL, which memcpy must never see */
    const uint8_t *p = data;
    h->total += len;
    if (h->held) {
        size_t take = 64 - h->held < len ? 64 - h->held : len;
        memcpy(h->block + h->held, p, take);
        h->held += take;
        p += take;
        len -= take;
        if (h->held < 64)
            return;
        compress(h->v, h->block, 1);
        h->held = 0;
    }
    if (len >= 64) {
        compress(h->v, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    if (len) {
        memcpy(h->block, p, len);
        h->held = len;
    }
}

void bh__sm3_final(bh__sm3 *h, uint8_t out[32])
{
    uint64_t bits = h->total * 8;
    /* Padding: 0x80, zeros up to 56 mod 64, the length in bits (big-endian). */
    h->block[h->held++] = 0x80;
    if (h->held > 56) {
        memset(h->block + h->held, 0, 64 - h->held);
        compress(h->v, h->block, 1);
        h->held = 0;
    }
    memset(h->block + h->held, 0, 56 - h->held);
    for (int i = 0; i < 8; i++)
        h->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(h->v, h->block, 1);
    for (int i = 0; i < 8; i++)
        bh__store_be32(out + 4 * i, h->v[i]);
    volatile uint8_t *wipe = (volatile uint8_t *)h;
    for (size_t i = 0; i < sizeof *h; i++)
        wipe[i] = 0;
}
