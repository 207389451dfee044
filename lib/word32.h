/* 32-bit words as SM3 and SM4 use them: big-endian loads and stores, and
 * rotation. Internal to libbaohan. */
#ifndef BAOHAN_LIB_WORD32_H
#define BAOHAN_LIB_WORD32_H

#include <stdint.h>

/* `x` rotated left by `n` (any n; taken mod 32). */
static inline uint32_t bh__rotl32(uint32_t x, unsigned n)
{
    n &= 31;
    return n ? (x << n) | (x >> (32 - n)) : x;
}

static inline uint32_t bh__load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void bh__store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
