/* Tests of lib/sm3.c, our SM3: against OpenSSL's SM3 (an independent
 * implementation) for every length from 0 to 300 bytes and a few large
 * ones, and the incremental interface split at every point. The
 * standard's known answers are in test_gm.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "check.h"
#include "sm3.h"

static int reference(const uint8_t *p, size_t len, uint8_t out[32])
{
    EVP_MD *sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    unsigned n = 0;
    int ok = sm3 && EVP_Digest(p, len, out, &n, sm3, NULL) && n == 32;
    EVP_MD_free(sm3);
    return ok;
}

static void ours(const uint8_t *p, size_t len, uint8_t out[32])
{
    bh__sm3 h;
    bh__sm3_init(&h);
    bh__sm3_update(&h, p, len);
    bh__sm3_final(&h, out);
}

static void test_against_openssl(void)
{
    static const size_t large[] = {1000, 4096, 65536 + 13, 1000000};
    uint8_t *data = malloc(1000000);
    CHECK(data != NULL);
    if (!data)
        return;
    check_random_bytes(data, 1000000);
    int mismatches = 0, refused = 0;
    uint8_t want[32], got[32];
    for (size_t len = 0; len <= 300; len++) {
        if (!reference(data, len, want)) {
            refused++;
            continue;
        }
        ours(data, len, got);
        mismatches += memcmp(got, want, 32) != 0;
    }
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
        if (!reference(data, large[i], want)) {
            refused++;
            continue;
        }
        ours(data, large[i], got);
        mismatches += memcmp(got, want, 32) != 0;
    }
    CHECK_EQ(refused, 0);
    CHECK_EQ(mismatches, 0);
    free(data);
}

/* Fed in two or three pieces, split anywhere, the digest is the same. */
static void test_incremental(void)
{
    uint8_t data[200], whole[32], got[32];
    check_random_bytes(data, sizeof data);
    ours(data, sizeof data, whole);
    int mismatches = 0;
    for (size_t a = 0; a <= sizeof data; a++) {
        for (size_t b = a; b <= sizeof data; b += 7) {
            bh__sm3 h;
            bh__sm3_init(&h);
            bh__sm3_update(&h, data, a);
            bh__sm3_update(&h, NULL, 0);
            bh__sm3_update(&h, data + a, b - a);
            bh__sm3_update(&h, data + b, sizeof data - b);
            bh__sm3_final(&h, got);
            mismatches += memcmp(got, whole, 32) != 0;
        }
    }
    CHECK_EQ(mismatches, 0);
}

/* The context is wiped by final: nothing of the message is left in it. */
static void test_final_wipes(void)
{
    bh__sm3 h;
    bh__sm3_init(&h);
    bh__sm3_update(&h, "appsecret=s3cr3t", 16);
    uint8_t out[32];
    bh__sm3_final(&h, out);
    static const bh__sm3 zero;
    CHECK(memcmp(&h, &zero, sizeof h) == 0);
}

int main(void)
{
    RUN(test_against_openssl);
    RUN(test_incremental);
    RUN(test_final_wipes);
    return CHECK_DONE();
}
