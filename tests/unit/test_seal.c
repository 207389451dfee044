/* Sealing and opening: round trips for every interface, and the order of
 * checks when opening (signature before anything else). */
#include <string.h>

#include "baohan/baohan.h"
#include "check.h"

static const char *const names[] = {"baohanapply", "baohannotice", "getbaohaninfo", "giveupnotice",
                                    "quitapply",   "quitnotice",   "claimsnotice"};

/* 2026-11-28 10:00:00 CST */
#define NOW 1795831200

static bh_msg *load_example(const char *iface)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.plain.json", BH_SPEC_EXAMPLES_DIR, iface);
    size_t len;
    char *json = check_read_file(path, &len);
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(json, len, BH_MSG_MAX_REQUEST, 0, &m, NULL), BH_OK);
    free(json);
    return m;
}

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
        const bh_iface *iface = bh_iface_find(names[i]);
        bh_msg *plain = load_example(names[i]);
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
            fprintf(stderr, "  %s: %s: %s\n", names[i], d.items[p].field, d.items[p].message);
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

static void test_seal_uses_given_timestamp_and_refuses_bad_input(void)
{
    bh_credentials c = creds();
    const bh_iface *iface = bh_iface_find("quitapply");
    bh_msg *plain = load_example("quitapply");
    CHECK_EQ(bh_msg_set_str(plain, "timestamp", "2026-11-28 10:00:00"), BH_OK);
    CHECK_EQ(bh_msg_set_str(plain, "sign", "stale"), BH_OK);
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
        CHECK(strstr(d.items[i].message, "secret") == NULL ||
              strstr(d.items[i].message, "not-the-secret") == NULL);
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
    RUN(test_seal_uses_given_timestamp_and_refuses_bad_input);
    RUN(test_open_checks_signature_first);
    RUN(test_timestamp_window);
    return CHECK_DONE();
}
