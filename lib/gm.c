/* SM3, SM4-ECB/PKCS#7, MD5 and randomness (see include/baohan/gm.h and
 * docs/internals/gm.md).
 *
 * SM3 and SM4 are our own (lib/sm3.c, lib/sm4.c: no allocation, no shared
 * state but SM4's 1 KB table, built once); MD5, the constant-time compare
 * and the wipe are OpenSSL's. Every function is thread-safe without locks
 * of our own. Padding is added and checked here, so that a bad padding is a
 * precise BH_EDECRYPT and the check is the strict PKCS#7 one (every padding
 * byte equal to the count). */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>
#include <sys/types.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "baohan/codec.h"
#include "baohan/gm.h"
#include "sm3.h"
#include "sm4.h"
#include "banned.h"

bh_err bh_sm3(const void *data, size_t len, uint8_t out[BH_SM3_LEN])
{
    if ((!data && len) || !out)
        return BH_EINVAL;
    bh__sm3 h;
    bh__sm3_init(&h);
    bh__sm3_update(&h, data, len);
    bh__sm3_final(&h, out);
    return BH_OK;
}

bh_err bh_sm3_hex(const void *data, size_t len, char out[BH_SM3_HEX_LEN + 1])
{
    uint8_t md[BH_SM3_LEN];
    bh_err err = bh_sm3(data, len, md);
    if (err)
        return err;
    bh_hex_encode_to(md, sizeof md, 0, out);
    return BH_OK;
}

bh_err bh_md5_hex(const void *data, size_t len, char out[BH_MD5_HEX_LEN + 1])
{
    if (!data && len)
        return BH_EINVAL;
    uint8_t md[BH_MD5_LEN];
    unsigned int n = 0;
    /* Never hand OpenSSL a NULL pointer, even for zero bytes. MD5 is absent
     * when OpenSSL runs in FIPS mode: that is BH_ECRYPTO. */
    static const uint8_t empty[1] = {0};
    const EVP_MD *md5 = EVP_md5();
    if (!md5 || !EVP_Digest(data ? data : empty, len, md, &n, md5, NULL) || n != BH_MD5_LEN)
        return BH_ECRYPTO;
    bh_hex_encode_to(md, sizeof md, 1, out);
    return BH_OK;
}

static int all_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (bh_hex_digit((unsigned char)s[i]) < 0)
            return 0;
    return 1;
}

bh_err bh_sm4_key_parse(const char *text, bh_sm4_key *out, bh_diag *d, const char *field)
{
    /* The message names the rule only: the text is a secret, and a typo in a
     * key is still most of the key. */
    static const char rule[] = "must be 32 hexadecimal characters or Base64 of 16 bytes";
    if (!out)
        return BH_EINVAL;
    if (!text)
        return bh_diag_add(d, BH_EKEY, field, "%s", rule);
    size_t len = strlen(text);
    bh_buf tmp;
    /* The cap of 16 also rejects Base64 of more than 16 bytes. */
    bh_buf_init(&tmp, BH_SM4_KEY_LEN);
    bh_err err;
    if (len == 2 * BH_SM4_KEY_LEN && all_hex(text, len))
        err = bh_hex_decode(text, len, &tmp);
    else
        err = bh_base64_decode(text, len, &tmp);
    if (err == BH_OK && tmp.len == BH_SM4_KEY_LEN)
        memcpy(out->bytes, tmp.data, BH_SM4_KEY_LEN);
    else if (err != BH_ENOMEM)
        err = bh_diag_add(d, BH_EKEY, field, "%s", rule);
    bh_buf_wipe(&tmp);
    return err;
}

/* A keyed cipher: both key schedules, expanded once per key (a schedule is
 * 32 words; expanding costs about as much as one block). ECB without
 * padding keeps no state between calls, so one serves any number of
 * operations. */
struct bh_sm4 {
    bh__sm4_schedule enc, dec;
};

void bh_sm4_free(bh_sm4 *c)
{
    if (!c)
        return;
    /* The round keys give the key back: wiped like it. */
    bh_wipe(c, sizeof *c);
    free(c);
}

bh_err bh_sm4_new(const bh_sm4_key *key, bh_sm4 **out)
{
    if (!out)
        return BH_EINVAL;
    *out = NULL;
    if (!key)
        return BH_EINVAL;
    bh_sm4 *c = malloc(sizeof *c);
    if (!c)
        return BH_ENOMEM;
    bh__sm4_expand(key->bytes, &c->enc, &c->dec);
    *out = c;
    return BH_OK;
}

bh_err bh_sm4_blocks(bh_sm4 *c, int encrypt, const uint8_t *in, uint8_t *out, size_t len)
{
    if (!c || len % BH_SM4_BLOCK != 0 || (len && (!in || !out)))
        return BH_EINVAL;
    bh__sm4_ecb(encrypt ? &c->enc : &c->dec, in, out, len / BH_SM4_BLOCK);
    return BH_OK;
}

bh_err bh_sm4_ecb_raw(const bh_sm4_key *key, int encrypt, const uint8_t *in, uint8_t *out,
                      size_t len)
{
    if (!key || len % BH_SM4_BLOCK != 0 || (len && (!in || !out)))
        return BH_EINVAL;
    if (len == 0)
        return BH_OK;
    bh_sm4 *c;
    bh_err err = bh_sm4_new(key, &c);
    if (!err)
        err = bh_sm4_blocks(c, encrypt, in, out, len);
    bh_sm4_free(c);
    return err;
}

static bh_err encrypt_with(bh_sm4 *c, const void *plain, size_t len, bh_buf *out)
{
    if (!c || !out || (!plain && len))
        return BH_EINVAL;
    if (len > SIZE_MAX - 2 * BH_SM4_BLOCK)
        return BH_ETOOBIG;
    size_t pad = BH_SM4_BLOCK - len % BH_SM4_BLOCK; /* 1..16: never zero */
    size_t total = len + pad;
    bh_err err = bh_buf_reserve(out, total);
    if (err)
        return err;
    /* Pad and encrypt in place at the end of `out`, which is exactly the
     * ciphertext's size: no temporary copy of the plaintext to wipe. */
    uint8_t *dst = (uint8_t *)out->data + out->len;
    if (len)
        memcpy(dst, plain, len);
    memset(dst + len, (int)pad, pad);
    err = bh_sm4_blocks(c, 1, dst, dst, total);
    if (err) {
        bh_wipe(dst, total);
        out->data[out->len] = '\0';
        return err;
    }
    out->len += total;
    out->data[out->len] = '\0';
    return BH_OK;
}

bh_err bh_sm4_encrypt(const bh_sm4_key *key, const void *plain, size_t len, bh_buf *out)
{
    if (!key || !out || (!plain && len))
        return BH_EINVAL;
    bh_sm4 *c;
    bh_err err = bh_sm4_new(key, &c);
    if (!err)
        err = encrypt_with(c, plain, len, out);
    bh_sm4_free(c);
    return err;
}

/* Decrypts `len` bytes of `cipher` into `p` (which may be `cipher`) and
 * checks the padding; `*plain_len` receives the plaintext length. On error
 * the caller wipes `p`. */
static bh_err decrypt_into(bh_sm4 *c, const void *cipher, size_t len, uint8_t *p,
                           size_t *plain_len)
{
    *plain_len = 0;
    if (len == 0 || len % BH_SM4_BLOCK != 0)
        return BH_EDECRYPT;
    bh_err err = bh_sm4_blocks(c, 0, cipher, p, len);
    if (err)
        return err;
    /* Strict PKCS#7: the count is 1..16 and every padding byte equals it.
     * Checked without early exit so a wrong key and a wrong byte take the
     * same time. */
    unsigned pad = p[len - 1];
    unsigned bad = (pad == 0) | (pad > BH_SM4_BLOCK);
    for (unsigned i = 1; i <= BH_SM4_BLOCK; i++) {
        unsigned in_pad = i <= pad;
        bad |= in_pad & (p[len - i] != pad);
    }
    if (bad)
        return BH_EDECRYPT;
    *plain_len = len - pad;
    return BH_OK;
}

/* Decrypts into a fresh heap block, checks the padding, and hands back the
 * block and the plaintext length. The caller wipes and frees the block. */
static bh_err decrypt_block(bh_sm4 *c, const void *cipher, size_t len, uint8_t **plain,
                            size_t *plain_len)
{
    *plain = NULL;
    *plain_len = 0;
    if (len == 0 || len % BH_SM4_BLOCK != 0)
        return BH_EDECRYPT;
    uint8_t *p = malloc(len);
    if (!p)
        return BH_ENOMEM;
    bh_err err = decrypt_into(c, cipher, len, p, plain_len);
    if (err) {
        bh_wipe(p, len);
        free(p);
        return err;
    }
    *plain = p;
    return BH_OK;
}

bh_err bh_sm4_decrypt(const bh_sm4_key *key, const void *cipher, size_t len, bh_buf *out)
{
    if (!key || !out || (!cipher && len))
        return BH_EINVAL;
    uint8_t *p;
    size_t n;
    bh_sm4 *c;
    bh_err err = bh_sm4_new(key, &c);
    if (!err)
        err = decrypt_block(c, cipher, len, &p, &n);
    bh_sm4_free(c);
    if (err)
        return err;
    err = bh_buf_add(out, p, n);
    bh_wipe(p, len);
    free(p);
    return err;
}

bh_err bh_sm4_encrypt_field_with(bh_sm4 *c, const char *plain, size_t len, bh_buf *out)
{
    if (!c || !out || (!plain && len))
        return BH_EINVAL;
    /* Refuse what the peer's bh_sm4_decrypt_field would refuse, so we never
     * put ciphertext on the wire that cannot be read back. */
    if (len && (!bh_utf8_valid(plain, len) || memchr(plain, '\0', len)))
        return BH_EUTF8;
    bh_buf cipher;
    bh_buf_init(&cipher, SIZE_MAX - 1);
    bh_err err = encrypt_with(c, plain, len, &cipher);
    if (!err)
        err = bh_base64_encode(cipher.data, cipher.len, out);
    bh_buf_release(&cipher); /* ciphertext: nothing secret to wipe */
    return err;
}

bh_err bh_sm4_encrypt_field(const bh_sm4_key *key, const char *plain, size_t len, bh_buf *out)
{
    if (!key)
        return BH_EINVAL;
    bh_sm4 *c;
    bh_err err = bh_sm4_new(key, &c);
    if (!err)
        err = bh_sm4_encrypt_field_with(c, plain, len, out);
    bh_sm4_free(c);
    return err;
}

/* Field values are short (a name, an account number): up to this many
 * bytes of ciphertext are decoded and decrypted on the stack, with no heap
 * block to allocate. */
#define FIELD_STACK 768

bh_err bh_sm4_decrypt_field_with(bh_sm4 *c, const char *b64, size_t len, bh_buf *out)
{
    if (!c || !out || (!b64 && len))
        return BH_EINVAL;
    /* The Base64 is decoded into one private block and decrypted in place. */
    uint8_t small[FIELD_STACK];
    size_t size = len / 4 * 3, cipher_len = 0, n = 0;
    uint8_t *p = small;
    if (size > sizeof small && !(p = malloc(size)))
        return BH_ENOMEM;
    bh_err err = bh_base64_decode_to(b64, len, p, size, &cipher_len);
    if (err)
        goto out;
    err = decrypt_into(c, p, cipher_len, p, &n);
    if (err)
        goto out;
    /* The padding was right, so the key almost surely was: what is left to
     * go wrong is the text itself. A NUL is valid UTF-8 but would cut the
     * value short wherever it is used as a C string, so it is BH_EUTF8 too. */
    if (!bh_utf8_valid((const char *)p, n) || (n && memchr(p, '\0', n))) {
        err = BH_EUTF8;
        goto out;
    }
    /* All checks passed before `out` is touched, so errors append nothing. */
    err = bh_buf_add(out, p, n);
out:
    bh_wipe(p, cipher_len);
    if (p != small)
        free(p);
    return err;
}

bh_err bh_sm4_decrypt_field(const bh_sm4_key *key, const char *b64, size_t len, bh_buf *out)
{
    if (!key)
        return BH_EINVAL;
    bh_sm4 *c;
    bh_err err = bh_sm4_new(key, &c);
    if (!err)
        err = bh_sm4_decrypt_field_with(c, b64, len, out);
    bh_sm4_free(c);
    return err;
}

/* The kernel's CSPRNG, getrandom(2): no locks and no fork check, where
 * OpenSSL's RAND_bytes cost ~5 us a pay token under load (its DRBG's lock
 * and a getpid() a call). */
bh_err bh_random_bytes(void *out, size_t len)
{
    if (!out && len)
        return BH_EINVAL;
    uint8_t *p = out;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return BH_ECRYPTO;
        p += n;
        len -= (size_t)n;
    }
    return BH_OK;
}

int bh_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return 1;
    return CRYPTO_memcmp(a, b, len) == 0;
}

void bh_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}
