/* Signatures: PROTOCOL.md §4, its worked examples and every rule. */
#include <string.h>

#include "baohan/baohan.h"
#include "check.h"

static bh_msg *parse(const char *json)
{
    bh_msg *m = NULL;
    bh_err err = bh_msg_parse(json, strlen(json), BH_MSG_MAX_REQUEST, 0, &m, NULL);
    CHECK_EQ(err, BH_OK);
    return m;
}

/* The string to sign with the secret masked. */
static void check_string(const char *json, const char *want)
{
    bh_msg *m = parse(json);
    if (!m)
        return;
    bh_buf b;
    bh_buf_init(&b, 4096);
    CHECK_EQ(bh_sign_string(m, NULL, &b), BH_OK);
    CHECK_STR(b.data, want);
    bh_buf_release(&b);
    bh_msg_free(m);
}

static const char *const example =
    "{\"appkey\":\"FI001\",\"timestamp\":\"2026-11-28 10:00:00\",\"applyno\":\"ZZBH202611280001\","
    "\"baohanno\":\"BH-2026-000123\",\"reason\":\"项目终止，申请退保\",\"sign\":\"…\"}";

static void test_worked_examples(void)
{
    bh_msg *m = parse(example);
    if (!m)
        return;
    bh_buf b;
    bh_buf_init(&b, 4096);
    CHECK_EQ(bh_sign_string(m, "s3cr3t-FI001", &b), BH_OK);
    CHECK_STR(b.data, "appkey=FI001&applyno=ZZBH202611280001&baohanno=BH-2026-000123&reason=项目终"
                      "止，申请退保&timestamp=2026-11-28 10:00:00&appsecret=s3cr3t-FI001");
    bh_buf_release(&b);
    char sig[65];
    CHECK_EQ(bh_sign_compute(m, "s3cr3t-FI001", sig), BH_OK);
    CHECK_STR(sig, "3ac5b6f1173c414153af277acd6c912e4737e01f57c3b7a0dbaa98aea1fa9435");
    bh_msg_free(m);

    m = parse("{\"appkey\":\"FI001\",\"timestamp\":\"2026-11-28 10:00:00\","
              "\"applyno\":\"ZZBH202611280001\"}");
    CHECK_EQ(bh_sign_compute(m, "s3cr3t-FI001", sig), BH_OK);
    CHECK_STR(sig, "0e4a7c923701666d83e537945b34be773b4adee49f650b36f3c618a9c3bce97b");
    bh_msg_free(m);
}

static void test_rules(void)
{
    /* byte order: upper case before lower case */
    check_string("{\"appkey\":\"k\",\"Reason\":\"r\",\"a\":\"1\",\"B\":\"2\"}",
                 "B=2&Reason=r&a=1&appkey=k&appsecret=***");
    /* null and "" dropped; sign excluded; unknown fields kept */
    check_string("{\"z\":null,\"y\":\"\",\"sign\":\"abc\",\"platformcode\":\"P1\",\"x\":\" \"}",
                 "platformcode=P1&x= &appsecret=***");
    /* numbers and literals as written; & and = inside values as they are */
    check_string("{\"amount\":1000.50,\"ok\":true,\"no\":false,\"exp\":1E+2,"
                 "\"url\":\"https://h/p?a=1&b=2\"}",
                 "amount=1000.50&exp=1E+2&no=false&ok=true&url=https://h/p?a=1&b=2&appsecret=***");
    /* no trimming, no URL-encoding, escapes decoded to the text they stand for */
    check_string("{\"a\":\"  x y+z%20\\u6f33\"}", "a=  x y+z%20漳&appsecret=***");
    /* only the lower-case "sign" is the signature */
    check_string("{\"Sign\":\"S\"}", "Sign=S&appsecret=***");
    check_string("{}", "&appsecret=***");
}

static void test_nested_refused(void)
{
    bh_msg *m = NULL;
    const char *json = "{\"a\":{\"b\":1}}";
    CHECK_EQ(bh_msg_parse(json, strlen(json), 100, BH_PARSE_ALLOW_NESTED, &m, NULL), BH_OK);
    bh_buf b;
    bh_buf_init(&b, 4096);
    CHECK_EQ(bh_sign_string(m, "s", &b), BH_ENESTED);
    bh_buf_release(&b);
    bh_msg_free(m);
}

static bh_err verify(const char *json, const char *secret, char field[16])
{
    bh_msg *m = parse(json);
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_sign_verify(m, secret, &d);
    CHECK(err == BH_OK ? d.count == 0 : d.count == 1);
    snprintf(field, 16, "%s", d.count ? d.items[0].field : "");
    bh_diag_release(&d);
    bh_msg_free(m);
    return err;
}

static void test_verify(void)
{
    char field[16];
    const char *lower = "{\"appkey\":\"FI001\",\"timestamp\":\"2026-11-28 10:00:00\","
                        "\"applyno\":\"ZZBH202611280001\",\"sign\":"
                        "\"0e4a7c923701666d83e537945b34be773b4adee49f650b36f3c618a9c3bce97b\"}";
    CHECK_EQ(verify(lower, "s3cr3t-FI001", field), BH_OK);
    const char *upper = "{\"appkey\":\"FI001\",\"timestamp\":\"2026-11-28 10:00:00\","
                        "\"applyno\":\"ZZBH202611280001\",\"sign\":"
                        "\"0E4A7C923701666D83E537945B34BE773B4ADEE49F650B36F3C618A9C3BCE97B\"}";
    CHECK_EQ(verify(upper, "s3cr3t-FI001", field), BH_OK);
    CHECK_EQ(verify(lower, "wrong-secret", field), BH_ESIGN);
    CHECK_STR(field, "sign");
    const char *flipped = "{\"appkey\":\"FI001\",\"timestamp\":\"2026-11-28 10:00:00\","
                          "\"applyno\":\"ZZBH202611280001\",\"sign\":"
                          "\"0e4a7c923701666d83e537945b34be773b4adee49f650b36f3c618a9c3bce97c\"}";
    CHECK_EQ(verify(flipped, "s3cr3t-FI001", field), BH_ESIGN);
    const char *changed = "{\"appkey\":\"FI001\",\"timestamp\":\"2026-11-28 10:00:01\","
                          "\"applyno\":\"ZZBH202611280001\",\"sign\":"
                          "\"0e4a7c923701666d83e537945b34be773b4adee49f650b36f3c618a9c3bce97b\"}";
    CHECK_EQ(verify(changed, "s3cr3t-FI001", field), BH_ESIGN);
    CHECK_EQ(verify("{\"appkey\":\"FI001\"}", "s", field), BH_EMISSING);
    CHECK_STR(field, "sign");
    CHECK_EQ(verify("{\"appkey\":\"FI001\",\"sign\":\"\"}", "s", field), BH_EMISSING);
    CHECK_EQ(verify("{\"appkey\":\"FI001\",\"sign\":123}", "s", field), BH_ETYPE);
    CHECK_EQ(
        verify("{\"sign\":\"0e4a7c923701666d83e537945b34be773b4adee49f650b36f3c618a9c3bce97\"}",
               "s", field),
        BH_EFORMAT);
    CHECK_EQ(
        verify("{\"sign\":\"0e4a7c923701666d83e537945b34be773b4adee49f650b36f3c618a9c3bce97g\"}",
               "s", field),
        BH_EFORMAT);
}

static void test_apply(void)
{
    bh_msg *m = parse(example);
    CHECK_EQ(bh_sign_apply(m, "s3cr3t-FI001"), BH_OK);
    CHECK_STR(bh_msg_text(m, "sign"),
              "3ac5b6f1173c414153af277acd6c912e4737e01f57c3b7a0dbaa98aea1fa9435");
    CHECK_EQ(bh_sign_verify(m, "s3cr3t-FI001", NULL), BH_OK);
    /* an unknown field added after signing breaks the signature: it is signed */
    CHECK_EQ(bh_msg_set_str(m, "jbrname", "张三"), BH_OK);
    CHECK_EQ(bh_sign_verify(m, "s3cr3t-FI001", NULL), BH_ESIGN);
    /* but an empty one does not */
    CHECK_EQ(bh_msg_remove(m, "jbrname"), 1);
    CHECK_EQ(bh_msg_set_str(m, "jbrname", ""), BH_OK);
    CHECK_EQ(bh_sign_verify(m, "s3cr3t-FI001", NULL), BH_OK);
    bh_msg_free(m);
}

int main(void)
{
    RUN(test_worked_examples);
    RUN(test_rules);
    RUN(test_nested_refused);
    RUN(test_verify);
    RUN(test_apply);
    return CHECK_DONE();
}
