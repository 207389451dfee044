/* open_bench: what the protocol work of one baohanapply costs, alone, on one
 * core — reading the wire JSON, checking the timestamp and the SM3
 * signature, SM4-decrypting the 密文 fields, validating, and writing the
 * business content as the JSON stored with the application. (Its content
 * hash, the identity of idempotent repeats, is made only for a repeat:
 * docs/internals/institution.md.)
 * Not a test. Together with the HTTP layer alone (`run-apply --path
 * /nothing`) and the store alone (`store_bench`) it gives the floor under
 * what `run-apply` can reach: the work no design of the daemon can skip.
 *
 *   open_bench [-n ITERATIONS] [-f PLAIN.json]
 *
 * Build: see bench/README.md. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baohan/baohan.h"

static double clock_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* The cryptography alone in one request, the part no parsing or
 * validation code can make cheaper: SM3 over the string to sign, and SM4
 * over each 密文 field's ciphertext. */
static double crypto_floor_us(const bh_iface *iface, const bh_credentials *cred,
                              const bh_msg *wire, long iterations)
{
    bh_buf sign, cipher;
    bh_buf_init(&sign, BH_MSG_MAX_REQUEST);
    bh_buf_init(&cipher, BH_MSG_MAX_REQUEST);
    size_t ends[64], nfields = 0;
    bh_sm4 *sm4 = NULL;
    double us = -1;
    if (bh_sign_string(wire, cred->appsecret, &sign) || bh_sm4_new(&cred->key, &sm4))
        goto out;
    /* Each encrypted field's ciphertext, back to back; ends[] marks them. */
    for (size_t i = 0; i < iface->nrequest && nfields < 64; i++) {
        const bh_field *f = bh_msg_get(wire, iface->request[i].name);
        if (!(iface->request[i].flags & BH_F_ENCRYPTED) || !f || !f->value_len)
            continue;
        if (bh_base64_decode(f->value, f->value_len, &cipher))
            goto out;
        ends[nfields++] = cipher.len;
    }
    uint8_t *scratch = malloc(cipher.len ? cipher.len : 1);
    if (!scratch)
        goto out;
    char hex[BH_SM3_HEX_LEN + 1];
    double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < iterations; i++) {
        if (bh_sm3_hex(sign.data, sign.len, hex))
            break;
        for (size_t k = 0, from = 0; k < nfields; from = ends[k++])
            if (bh_sm4_blocks(sm4, 0, (const uint8_t *)cipher.data + from, scratch + from,
                              ends[k] - from))
                goto free_scratch;
    }
    us = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (double)iterations * 1e6;
free_scratch:
    free(scratch);
out:
    bh_sm4_free(sm4);
    bh_buf_wipe(&sign);
    bh_buf_release(&cipher);
    return us;
}

static void die(const char *what, const bh_diag *d)
{
    fprintf(stderr, "open_bench: %s%s%s\n", what, d && d->count ? ": " : "",
            d && d->count ? d->items[0].message : "");
    exit(1);
}

int main(int argc, char **argv)
{
    long iterations = 50000;
    const char *path = "tests/data/examples/baohanapply.plain.json";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            iterations = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
            path = argv[++i];
        else {
            fprintf(stderr, "usage: open_bench [-n ITERATIONS] [-f PLAIN.json]\n");
            return 2;
        }
    }
    if (iterations < 1)
        iterations = 1;

    bh_diag d = BH_DIAG_INIT;
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open the plaintext (run from the source tree, or give -f)", NULL);
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);

    /* The same test credentials as run-apply's daemon. */
    bh_sm4_key key;
    if (bh_sm4_key_parse("0123456789abcdeffedcba9876543210", &key, &d, "sm4_key"))
        die("key", &d);
    bh_credentials cred = {"FI001", "s3cr3t-FI001", key};
    const bh_iface *iface = bh_iface_find("baohanapply");
    bh_msg *plain = NULL, *wire = NULL;
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    int64_t now = bh_time_now();
    if (bh_msg_parse(text, len, sizeof text, 0, &plain, &d) ||
        bh_msg_set_str(plain, "appkey", cred.appkey) ||
        bh_seal(iface, &cred, plain, now, &wire, &d) || bh_msg_to_json(wire, 0, &json))
        die("sealing the request", &d);

    double t_parse = 0, t_open = 0, t_json = 0;
    bh_buf business;
    bh_buf_init(&business, BH_MSG_MAX_REQUEST);
    /* The phases are timed by the wall clock (reading a CPU clock costs a
     * system call, more than the phases' differences); the whole loop also
     * by the process's CPU clock, which time spent preempted on a busy
     * machine does not inflate. */
    double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < iterations; i++) {
        double t0 = now_s();
        bh_msg *w = NULL, *p = NULL;
        if (bh_msg_parse(json.data, json.len, BH_MSG_MAX_REQUEST, 0, &w, &d))
            die("parse", &d);
        double t1 = now_s();
        if (bh_check_timestamp(w, now, 300, &d) || bh_open(iface, &cred, w, &p, &d))
            die("open", &d);
        double t2 = now_s();
        /* What daemon/serve.c and institution.c then do: the envelope
         * removed, and the JSON stored with the application. */
        bh_msg_remove(p, "appkey");
        bh_msg_remove(p, "timestamp");
        bh_msg_remove(p, "sign");
        bh_buf_reset(&business);
        if (bh_msg_to_json(p, 0, &business))
            die("business JSON", NULL);
        double t3 = now_s();
        bh_msg_free(p);
        bh_msg_free(w);
        t_parse += t1 - t0;
        t_open += t2 - t1;
        t_json += t3 - t2;
    }
    double cpu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (double)iterations * 1e6;
    double total = (t_parse + t_open + t_json) / (double)iterations * 1e6;
    printf("baohanapply protocol work, %ld iterations, %zu-byte request, one thread\n", iterations,
           json.len);
    printf("  parse        %6.1f us\n", t_parse / (double)iterations * 1e6);
    printf("  open         %6.1f us   (timestamp, SM3 signature, SM4 of the 密文 fields, "
           "validation)\n",
           t_open / (double)iterations * 1e6);
    printf("  stored JSON  %6.1f us   (the business fields)\n", t_json / (double)iterations * 1e6);
    printf("  total        %6.1f us a request: at most %.0f requests/s a core for this alone\n",
           total, 1e6 / total);
    printf("  cpu          %6.1f us a request of CPU time over the loop (the lines above are "
           "wall-clock)\n",
           cpu);
    double floor_us = crypto_floor_us(iface, &cred, wire, iterations);
    if (floor_us < 0)
        die("timing the cryptography alone", NULL);
    printf("  crypto alone %6.1f us of that CPU time (SM3 of the string to sign, SM4 of the 密文 "
           "fields)\n",
           floor_us);
    bh_buf_release(&business);
    bh_buf_release(&json);
    bh_msg_free(wire);
    bh_msg_free(plain);
    return 0;
}
