/* Sealing and opening: round trips for every interface, and the order of
 * checks when opening (signature before anything else). */
#include <stdint.h>
#include <string.h>

#include "baohan/baohan.h"
#include "check.h"
#include "fixtures.h"

/* 2026-11-28 10:00:00 CST */
#define NOW 1795831200

static bh_credentials creds(void)
{
    bh_credentials c = {"FI001", "s3cr3t-FI001", {{0}}};
    CHECK_EQ(bh_sm4_key_parse("qhAej/h6yk3mVsUpM+khUQ==", &c.key, NULL, "key"), BH_OK);
    return c;
}

/* Seals, writes the wire JSON, parses it back as a server would, opens it. */
static void test_round_trip_every_interface(void)
{
    bh_credentials c = creds();
    for (size_t i = 0; i < 7; i++) {
        const bh_iface *iface = bh_iface_find(example_names[i]);
        bh_msg *plain = load_example(example_names[i]);
        bh_msg *wire = NULL, *received = NULL, *opened = NULL;
        bh_diag d = BH_DIAG_INIT;
        CHECK_EQ(bh_seal(iface, &c, plain, NOW, &wire, &d), BH_OK);
        CHECK_EQ(d.count, 0);
        if (!wire) {
            bh_msg_free(plain);
            continue;
        }
        CHECK_STR(bh_msg_at(wire, 0)->key, "appkey");
        CHECK_STR(bh_msg_text(wire, "appkey"), "FI001");
        CHECK_STR(bh_msg_text(wire, "timestamp"), "2026-11-28 10:00:00");
        CHECK_STR(bh_msg_at(wire, bh_msg_count(wire) - 1)->key, "sign");
        bh_buf json;
        bh_buf_init(&json, BH_MSG_MAX_REQUEST);
        CHECK_EQ(bh_msg_to_json(wire, 0, &json), BH_OK);
        CHECK_EQ(bh_msg_parse(json.data, json.len, BH_MSG_MAX_REQUEST, 0, &received, NULL), BH_OK);
        CHECK_EQ(bh_check_timestamp(received, NOW + 299, 300, NULL), BH_OK);
        CHECK_EQ(bh_open(iface, &c, received, &opened, &d), BH_OK);
        for (size_t p = 0; p < d.count; p++)
            fprintf(stderr, "  %s: %s: %s\n", example_names[i], d.items[p].field,
                    d.items[p].message);
        for (size_t f = 0; opened && f < bh_msg_count(plain); f++) {
            const bh_field *want = bh_msg_at(plain, f);
            const bh_field *got = bh_msg_get(opened, want->key);
            CHECK(got != NULL);
            if (got)
                CHECK_STR(got->value, want->value);
        }
        if (opened)
            CHECK_EQ(bh_msg_count(opened), bh_msg_count(plain) + 3);
        bh_buf_release(&json);
        bh_diag_release(&d);
        bh_msg_free(opened);
        bh_msg_free(received);
        bh_msg_free(wire);
        bh_msg_free(plain);
    }
}

/* A small deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

static void put_cp(bh_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    CHECK_EQ(bh_buf_add(b, u, n), BH_OK);
}

/* Random text of 1..max characters from every plane, with the characters
 * that stress signing and JSON escaping (quote, backslash, &, =, controls). */
static void random_text(bh_buf *b, size_t max)
{
    size_t n = 1 + rnd((uint32_t)(max < 40 ? max : 40));
    for (size_t i = 0; i < n; i++) {
        uint32_t cp;
        switch (rnd(6)) {
        case 0:
            cp = (uint32_t) "\"\\&= \n\t/%+"[rnd(10)];
            break;
        case 1:
            cp = 0x20 + rnd(0x5F);
            break;
        case 2:
            cp = 0x4E00 + rnd(0x5000); /* CJK */
            break;
        case 3:
            cp = 0x80 + rnd(0xD800 - 0x80);
            break;
        case 4:
            cp = 0xE000 + rnd(0x10000 - 0xE000);
            break;
        default:
            cp = 0x10000 + rnd(0x100000); /* planes 1..16 */
            break;
        }
        put_cp(b, cp);
    }
}

static void random_value(const bh_fspec *spec, bh_buf *b, bh_jtype *type)
{
    static const char code_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    *type = BH_JSTRING;
    switch (spec->type) {
    case BH_T_MONEY: {
        char text[BH_MONEY_TEXT_MAX];
        bh_money_format((int64_t)rnd(1000000000) * rnd(1000), text);
        CHECK_EQ(bh_buf_addstr(b, text), BH_OK);
        if (rnd(2))
            *type = BH_JNUMBER; /* deployments send amounts both ways */
        break;
    }
    case BH_T_DATETIME: {
        char text[BH_TIME_TEXT_LEN + 1];
        bh_time_format((int64_t)rnd(2000000000) + rnd(2000000000), text);
        CHECK_EQ(bh_buf_addstr(b, text), BH_OK);
        break;
    }
    case BH_T_INT:
        CHECK_EQ(bh_buf_addf(b, "%lld", spec->min + rnd((uint32_t)(spec->max - spec->min + 1))),
                 BH_OK);
        if (rnd(2))
            *type = BH_JNUMBER;
        break;
    case BH_T_ENUM:
        CHECK_EQ(bh_buf_addstr(b, spec->enum_values[rnd(2)]), BH_OK);
        break;
    case BH_T_URL:
        CHECK_EQ(
            bh_buf_addf(b, "https://h%u.example.cn/p/%u?a=%u&b=%%E6", rnd(100), rnd(1000), rnd(10)),
            BH_OK);
        break;
    case BH_T_CREDITCODE: {
        char code[19];
        int sum = 0;
        for (int i = 0; i < 17; i++) {
            int v = (int)rnd(31);
            code[i] = code_alphabet[v];
            sum += v * weights[i];
        }
        code[17] = code_alphabet[(31 - sum % 31) % 31];
        code[18] = '\0';
        CHECK_EQ(bh_buf_addstr(b, code), BH_OK);
        break;
    }
    case BH_T_DIVISION:
        CHECK_EQ(bh_buf_addf(b, "%06u", 1 + rnd(999999)), BH_OK);
        break;
    case BH_T_JSONARRAY:
        CHECK_EQ(bh_buf_addf(b, "[{\"fileurl\":\"https://a/%u.pdf\"},{\"fileurl\":\"http://b/\"}]",
                             rnd(100)),
                 BH_OK);
        break;
    default:
        random_text(b, spec->max_len ? spec->max_len : 100);
        break;
    }
}

/* Generated plaintexts for every interface: random values of every field's
 * type (optional fields sometimes left out, unknown fields sometimes added),
 * sealed, written as JSON, parsed, opened: the plaintext comes back. */
static void test_round_trip_generated(void)
{
    bh_credentials c = creds();
    bh_buf value, json;
    bh_buf_init(&value, 1 << 20);
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    for (int round = 0; round < 300; round++) {
        const bh_iface *iface = bh_iface_at((size_t)round % bh_iface_count());
        bh_msg *plain = bh_msg_new();
        for (size_t f = 0; f < iface->nrequest; f++) {
            const bh_fspec *spec = &iface->request[f];
            if (!(spec->flags & BH_F_REQUIRED) && rnd(3) == 0)
                continue;
            bh_jtype type;
            bh_buf_reset(&value);
            random_value(spec, &value, &type);
            CHECK_EQ(bh_msg_set(plain, spec->name, value.data, value.len, type), BH_OK);
        }
        if (rnd(2)) {
            bh_buf_reset(&value);
            random_text(&value, 30);
            CHECK_EQ(bh_msg_set_str(plain, "platformcode", value.data), BH_OK);
        }
        bh_msg *wire = NULL, *received = NULL, *opened = NULL;
        bh_diag d = BH_DIAG_INIT;
        CHECK_EQ(bh_seal(iface, &c, plain, NOW, &wire, &d), BH_OK);
        for (size_t p = 0; p < d.count; p++)
            fprintf(stderr, "  round %d %s: %s: %s\n", round, iface->name, d.items[p].field,
                    d.items[p].message);
        bh_buf_reset(&json);
        if (wire)
            CHECK_EQ(bh_msg_to_json(wire, round % 2 ? BH_JSON_PRETTY : 0, &json), BH_OK);
        if (wire && bh_msg_parse(json.data, json.len, BH_MSG_MAX_REQUEST, 0, &received, &d) == 0)
            CHECK_EQ(bh_open(iface, &c, received, &opened, &d), BH_OK);
        CHECK(opened != NULL);
        for (size_t f = 0; opened && f < bh_msg_count(plain); f++) {
            const bh_field *want = bh_msg_at(plain, f);
            const bh_field *got = bh_msg_get(opened, want->key);
            CHECK(got && got->value_len == want->value_len &&
                  memcmp(got->value, want->value, want->value_len) == 0);
            /* encrypted fields travel as strings; the rest keep their JSON kind */
            const bh_fspec *spec = bh_fspec_find(iface->request, iface->nrequest, want->key);
            if (got && !(spec && (spec->flags & BH_F_ENCRYPTED)))
                CHECK_EQ(got->type, want->type);
        }
        bh_diag_release(&d);
        bh_msg_free(opened);
        bh_msg_free(received);
        bh_msg_free(wire);
        bh_msg_free(plain);
    }
    bh_buf_release(&value);
    bh_buf_release(&json);
}

static void test_seal_uses_given_timestamp_and_refuses_bad_input(void)
{
    bh_credentials c = creds();
    const bh_iface *iface = bh_iface_find("quitapply");
    bh_msg *plain = load_example("quitapply");
    CHECK_EQ(bh_msg_set_str(plain, "timestamp", "2026-11-28 10:00:00"), BH_OK);
    /* A stale sign, even one the wire would refuse (over 128 characters),
     * is replaced, not checked. */
    char stale[201];
    memset(stale, 'x', sizeof stale - 1);
    stale[sizeof stale - 1] = '\0';
    CHECK_EQ(bh_msg_set_str(plain, "sign", stale), BH_OK);
    bh_msg *wire = NULL;
    CHECK_EQ(bh_seal(iface, &c, plain, 0, &wire, NULL), BH_OK);
    /* PROTOCOL.md §4's worked example has these very fields */
    CHECK_EQ(bh_msg_set_str(wire, "applyno", "ZZBH202611280001"), BH_OK);
    CHECK_EQ(bh_msg_set_str(wire, "baohanno", "BH-2026-000123"), BH_OK);
    CHECK_EQ(bh_msg_set_str(wire, "reason", "项目终止，申请退保"), BH_OK);
    CHECK_EQ(bh_sign_apply(wire, c.appsecret), BH_OK);
    CHECK_STR(bh_msg_text(wire, "sign"),
              "3ac5b6f1173c414153af277acd6c912e4737e01f57c3b7a0dbaa98aea1fa9435");
    bh_msg_free(wire);

    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_msg_remove(plain, "reason"), 1);
    CHECK_EQ(bh_msg_set_str(plain, "timestamp", "yesterday"), BH_OK);
    CHECK(bh_seal(iface, &c, plain, NOW, &wire, &d) != BH_OK);
    CHECK(wire == NULL);
    CHECK(bh_diag_find(&d, "reason") && bh_diag_find(&d, "timestamp"));
    bh_diag_release(&d);

    bh_credentials no_key = c;
    no_key.appkey = NULL;
    CHECK_EQ(bh_msg_set_str(plain, "reason", "r"), BH_OK);
    CHECK_EQ(bh_msg_remove(plain, "timestamp"), 1);
    CHECK_EQ(bh_seal(iface, &no_key, plain, NOW, &wire, &d), BH_EMISSING);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "appkey") == 0);
    bh_diag_release(&d);
    CHECK_EQ(bh_msg_set_str(plain, "appkey", "OTHER"), BH_OK);
    CHECK_EQ(bh_seal(iface, &c, plain, NOW, &wire, &d), BH_EINVAL);
    bh_diag_release(&d);
    bh_msg_free(plain);
}

static void test_open_checks_signature_first(void)
{
    bh_credentials c = creds();
    const bh_iface *iface = bh_iface_find("baohanapply");
    bh_msg *plain = load_example("baohanapply");
    bh_msg *wire = NULL, *opened = NULL;
    CHECK_EQ(bh_seal(iface, &c, plain, NOW, &wire, NULL), BH_OK);
    if (!wire)
        return;

    /* a field changed after signing: only the signature is reported */
    bh_msg *tampered = bh_msg_dup(wire);
    CHECK_EQ(bh_msg_set_str(tampered, "bzjamount", "1.001"), BH_OK);
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_open(iface, &c, tampered, &opened, &d), BH_ESIGN);
    CHECK(opened == NULL);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "sign") == 0);
    bh_diag_release(&d);

    /* re-signed by someone holding the secret but a bad ciphertext: named */
    CHECK_EQ(bh_msg_set_str(tampered, "bzjamount", "200000.00"), BH_OK);
    CHECK_EQ(bh_msg_set_str(tampered, "projectname", "AAAAAAAAAAAAAAAAAAAAAA=="), BH_OK);
    CHECK_EQ(bh_sign_apply(tampered, c.appsecret), BH_OK);
    CHECK_EQ(bh_open(iface, &c, tampered, &opened, &d), BH_EDECRYPT);
    CHECK(opened == NULL);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "projectname") == 0);
    bh_diag_release(&d);

    /* a valid ciphertext of an invalid value: validation names it */
    bh_buf cipher;
    bh_buf_init(&cipher, 1024);
    CHECK_EQ(bh_sm4_encrypt_field(&c.key, "2026-13-01 00:00:00", 19, &cipher), BH_OK);
    CHECK_EQ(bh_msg_set_str(tampered, "projectname", bh_msg_text(wire, "projectname")), BH_OK);
    CHECK_EQ(bh_msg_set_str(tampered, "kaibiaotime", cipher.data), BH_OK);
    CHECK_EQ(bh_sign_apply(tampered, c.appsecret), BH_OK);
    CHECK_EQ(bh_open(iface, &c, tampered, &opened, &d), BH_EFORMAT);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "kaibiaotime") == 0);
    bh_diag_release(&d);
    bh_buf_release(&cipher);

    /* the wrong appkey is refused before the signature is looked at */
    bh_credentials other = c;
    other.appkey = "FI002";
    CHECK_EQ(bh_open(iface, &other, wire, &opened, &d), BH_ENOTFOUND);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "appkey") == 0);
    bh_diag_release(&d);
    other = c;
    other.appsecret = "not-the-secret";
    CHECK_EQ(bh_open(iface, &other, wire, &opened, &d), BH_ESIGN);
    for (size_t i = 0; i < d.count; i++)
        CHECK(strstr(d.items[i].message, "not-the-secret") == NULL); /* never echoed */
    bh_diag_release(&d);

    bh_msg_free(tampered);
    bh_msg_free(wire);
    bh_msg_free(plain);
}

static void test_timestamp_window(void)
{
    bh_msg *m = bh_msg_new();
    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_check_timestamp(m, NOW, 300, &d), BH_EMISSING);
    bh_diag_release(&d);
    CHECK_EQ(bh_msg_set_str(m, "timestamp", "2026-11-28 10:00:00"), BH_OK);
    CHECK_EQ(bh_check_timestamp(m, NOW, 300, NULL), BH_OK);
    CHECK_EQ(bh_check_timestamp(m, NOW + 300, 300, NULL), BH_OK);
    CHECK_EQ(bh_check_timestamp(m, NOW - 300, 300, NULL), BH_OK);
    CHECK_EQ(bh_check_timestamp(m, NOW + 301, 300, &d), BH_ERANGE);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "timestamp") == 0 &&
          strstr(d.items[0].message, "behind"));
    bh_diag_release(&d);
    CHECK_EQ(bh_check_timestamp(m, NOW - 301, 300, &d), BH_ERANGE);
    CHECK(d.count == 1 && strstr(d.items[0].message, "ahead"));
    bh_diag_release(&d);
    CHECK_EQ(bh_msg_set_str(m, "timestamp", "2026-11-28 10:00"), BH_OK);
    CHECK_EQ(bh_check_timestamp(m, NOW, 300, NULL), BH_EFORMAT);
    CHECK_EQ(bh_msg_set(m, "timestamp", "1764295200", 10, BH_JNUMBER), BH_OK);
    CHECK_EQ(bh_check_timestamp(m, NOW, 300, NULL), BH_ETYPE);
    bh_msg_free(m);
}

int main(void)
{
    RUN(test_round_trip_every_interface);
    RUN(test_round_trip_generated);
    RUN(test_seal_uses_given_timestamp_and_refuses_bad_input);
    RUN(test_open_checks_signature_first);
    RUN(test_timestamp_window);
    return CHECK_DONE();
}
