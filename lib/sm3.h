/* The SM3 hash (GB/T 32905-2016), incrementally. Internal to libbaohan;
 * lib/gm.c builds bh_sm3 and bh_sm3_hex on it. See docs/internals/gm.md
 * for why this is our own code and not OpenSSL's. */
#ifndef BAOHAN_LIB_SM3_H
#define BAOHAN_LIB_SM3_H

#include <stddef.h>
#include <stdint.h>

typedef struct bh__sm3 {
    uint32_t v[8];     /* the chaining value */
    uint64_t total;    /* bytes hashed so far */
    uint8_t block[64]; /* a partial block */
    size_t held;       /* bytes in `block` */
} bh__sm3;

void bh__sm3_init(bh__sm3 *h);
/* `data` may be NULL when `len` is 0. */
void bh__sm3_update(bh__sm3 *h, const void *data, size_t len);
/* Writes the 32-byte digest and wipes `h` (it may have hashed a secret:
 * signatures hash the appsecret). */
void bh__sm3_final(bh__sm3 *h, uint8_t out[32]);

#endif
