/* Request bodies: JSON as is, or requestData from a form. */
#include <string.h>

#include "baohan/baohan.h"
#include "baohan/body.h"
#include "check.h"

static bh_err body(const char *content_type, const char *text, char *got, size_t n, char field[32])
{
    bh_buf json;
    bh_buf_init(&json, 4096);
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_body_json(content_type, text, strlen(text), &json, &d);
    snprintf(got, n, "%s", json.data ? json.data : "");
    snprintf(field, 32, "%s", d.count ? d.items[0].field : "");
    if (err)
        CHECK(d.count == 1 && json.len == 0);
    bh_diag_release(&d);
    bh_buf_release(&json);
    return err;
}

static void test_json_bodies(void)
{
    char got[256], field[32];
    CHECK_EQ(body("application/json; charset=utf-8", "{\"a\":\"b\"}", got, sizeof got, field),
             BH_OK);
    CHECK_STR(got, "{\"a\":\"b\"}");
    /* anything but a form is taken as the JSON itself */
    CHECK_EQ(body("text/plain", "{\"a\":1}", got, sizeof got, field), BH_OK);
    CHECK_STR(got, "{\"a\":1}");
    CHECK_EQ(body(NULL, "{}", got, sizeof got, field), BH_OK);
    CHECK_STR(got, "{}");
}

static void test_form_bodies(void)
{
    char got[256], field[32];
    const char *form = "x=1&requestData=%7B%22applyno%22%3A%22ZZ+1%22%2C%22u%22%3A%22a%26b%3Dc"
                       "%22%2C%22n%22%3A%22%E6%BC%B3%22%7D&requestData=ignored";
    CHECK_EQ(
        body("Application/X-WWW-Form-Urlencoded ; charset=UTF-8", form, got, sizeof got, field),
        BH_OK);
    CHECK_STR(got, "{\"applyno\":\"ZZ 1\",\"u\":\"a&b=c\",\"n\":\"漳\"}");
    CHECK_EQ(body("application/x-www-form-urlencoded", "requestData={}", got, sizeof got, field),
             BH_OK);
    CHECK_STR(got, "{}");
    CHECK_EQ(body("application/x-www-form-urlencoded", "a=1&b=2", got, sizeof got, field),
             BH_EMISSING);
    CHECK_STR(field, "requestData");
    CHECK_EQ(body("application/x-www-form-urlencoded", "requestData=%7", got, sizeof got, field),
             BH_EFORMAT);
    CHECK_STR(field, "requestData");
    CHECK_EQ(body("application/x-www-form-urlencoded", "requestData=%zz", got, sizeof got, field),
             BH_EFORMAT);
    CHECK_EQ(body("application/x-www-form-urlencoded", "requestDatax=1", got, sizeof got, field),
             BH_EMISSING);
}

static void test_form_field(void)
{
    bh_buf out;
    bh_buf_init(&out, 100);
    const char *f = "a=1&empty=&flag&b=x%20y";
    CHECK_EQ(bh_form_field(f, strlen(f), "b", &out), BH_OK);
    CHECK_STR(out.data, "x y");
    bh_buf_reset(&out);
    CHECK_EQ(bh_form_field(f, strlen(f), "empty", &out), BH_OK);
    CHECK_EQ(out.len, 0);
    CHECK_EQ(bh_form_field(f, strlen(f), "flag", &out), BH_OK);
    CHECK_EQ(bh_form_field(f, strlen(f), "c", &out), BH_ENOTFOUND);
    CHECK_EQ(bh_form_field("", 0, "a", &out), BH_ENOTFOUND);
    CHECK_EQ(bh_buf_addstr(&out, "keep"), BH_OK);
    CHECK_EQ(bh_form_decode("ab%4", 4, &out), BH_EFORMAT);
    CHECK_STR(out.data, "keep"); /* an error appends nothing */
    bh_buf_release(&out);
}

/* What real clients send besides the textbook form. */
static void test_lenient_bodies(void)
{
    char got[256], field[32];
    /* requestData not percent-encoded: '+' and '=' of Base64 must survive */
    const char *raw = "requestData={\"zbr\":\"ab+c/d==\",\"u\":\"x&y=z\"}&other=1";
    CHECK_EQ(body("application/x-www-form-urlencoded", raw, got, sizeof got, field), BH_OK);
    CHECK_STR(got, "{\"zbr\":\"ab+c/d==\",\"u\":\"x&y=z\"}");
    CHECK_EQ(body("application/x-www-form-urlencoded", "a=1&requestData={\"k\":1}", got, sizeof got,
                  field),
             BH_OK);
    CHECK_STR(got, "{\"k\":1}");
    /* JSON labelled as a form */
    CHECK_EQ(body("application/x-www-form-urlencoded", "  {\"a\":\"b+c\"}", got, sizeof got, field),
             BH_OK);
    CHECK_STR(got, "  {\"a\":\"b+c\"}");
    /* an unencoded value that is not a whole object falls back to decoding */
    CHECK_EQ(
        body("application/x-www-form-urlencoded", "requestData={broken", got, sizeof got, field),
        BH_OK);
    CHECK_STR(got, "{broken");
}

int main(void)
{
    RUN(test_json_bodies);
    RUN(test_form_bodies);
    RUN(test_form_field);
    RUN(test_lenient_bodies);
    return CHECK_DONE();
}
