/* The interface tables and everything driven from them: validation of every
 * field type, every required field, responses, encryption and decryption. */
#include <string.h>

#include "baohan/baohan.h"
#include "check.h"
#include "fixtures.h"

static bh_msg *parse(const char *json, unsigned flags)
{
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(json, strlen(json), BH_MSG_MAX_REQUEST, flags, &m, NULL), BH_OK);
    return m;
}

static void test_tables(void)
{
    CHECK_EQ(bh_iface_count(), 7);
    for (size_t i = 0; i < 7; i++) {
        const bh_iface *iface = bh_iface_at(i);
        CHECK_STR(iface->name, example_names[i]);
        CHECK(bh_iface_find(example_names[i]) == iface);
        CHECK(iface->nrequest > 0 && iface->nresponse >= 2);
        CHECK_STR(iface->response[0].name, "code");
        CHECK_STR(iface->response[1].name, "message");
        for (size_t f = 0; f < iface->nrequest; f++)
            CHECK(iface->request[f].label && *iface->request[f].label);
    }
    CHECK(bh_iface_at(7) == NULL);
    CHECK(bh_iface_find("BaohanApply") == NULL);
    CHECK_EQ(bh_iface_find("baohannotice")->served_by, BH_SIDE_PLATFORM);
    CHECK_EQ(bh_iface_find("quitnotice")->served_by, BH_SIDE_PLATFORM);
    CHECK_EQ(bh_iface_find("claimsnotice")->served_by, BH_SIDE_INSTITUTION);

    /* the 密文 fields of baohanapply are exactly those the document marks */
    static const char *const encrypted[] = {
        "biaoduanno",         "biaoduanname",        "zbr",
        "zbrorgnum",          "approvalcode",        "projectcode",
        "projectno",          "projectname",         "tendererbankcode",
        "tendereropenbank",   "tendererbankaccount", "tenderercontact",
        "tenderercontacttel", "bzjendtime",          "kaibiaotime",
        "tendernoticeurl",    "tenderfileurl"};
    const bh_iface *apply = bh_iface_find("baohanapply");
    size_t count = 0;
    for (size_t f = 0; f < apply->nrequest; f++)
        if (apply->request[f].flags & BH_F_ENCRYPTED)
            count++;
    CHECK_EQ(count, sizeof encrypted / sizeof encrypted[0]);
    for (size_t i = 0; i < sizeof encrypted / sizeof encrypted[0]; i++) {
        const bh_fspec *s = bh_fspec_find(apply->request, apply->nrequest, encrypted[i]);
        CHECK(s && (s->flags & BH_F_ENCRYPTED));
    }
    CHECK_EQ(apply->nrequest, 25);
    CHECK_EQ(bh_iface_find("getbaohaninfo")->ndata, 27);
    CHECK(bh_fspec_find(bh_iface_find("claimsnotice")->request, 8, "Reason") != NULL);
}

static void test_examples_valid(void)
{
    for (size_t i = 0; i < 7; i++) {
        bh_msg *m = load_example(example_names[i]);
        bh_diag d = BH_DIAG_INIT;
        CHECK_EQ(bh_validate(bh_iface_find(example_names[i]), BH_PART_PLAIN_REQUEST, m, &d), BH_OK);
        for (size_t p = 0; p < d.count; p++)
            fprintf(stderr, "  %s: %s: %s\n", example_names[i], d.items[p].field,
                    d.items[p].message);
        /* a complete request also needs appkey, timestamp and sign */
        bh_diag_release(&d);
        CHECK_EQ(bh_validate(bh_iface_find(example_names[i]), BH_PART_REQUEST, m, &d), BH_EMISSING);
        CHECK_EQ(d.count, 3);
        CHECK(bh_diag_find(&d, "appkey") && bh_diag_find(&d, "timestamp") &&
              bh_diag_find(&d, "sign"));
        bh_diag_release(&d);
        bh_msg_free(m);
    }
}

/* Each required field removed in turn, then set to null and to "": exactly
 * that field is reported, as missing. */
static void test_every_required_field(void)
{
    for (size_t i = 0; i < 7; i++) {
        const bh_iface *iface = bh_iface_find(example_names[i]);
        for (size_t f = 0; f < iface->nrequest; f++) {
            const bh_fspec *spec = &iface->request[f];
            if (!(spec->flags & BH_F_REQUIRED))
                continue;
            for (int how = 0; how < 3; how++) {
                bh_msg *m = load_example(example_names[i]);
                if (how == 0)
                    CHECK_EQ(bh_msg_remove(m, spec->name), 1);
                else if (how == 1)
                    CHECK_EQ(bh_msg_set(m, spec->name, NULL, 0, BH_JNULL), BH_OK);
                else
                    CHECK_EQ(bh_msg_set_str(m, spec->name, ""), BH_OK);
                bh_diag d = BH_DIAG_INIT;
                CHECK_EQ(bh_validate(iface, BH_PART_PLAIN_REQUEST, m, &d), BH_EMISSING);
                CHECK_EQ(d.count, 1);
                if (d.count == 1) {
                    CHECK_STR(d.items[0].field, spec->name);
                    CHECK(strstr(d.items[0].message, "required") != NULL);
                }
                bh_diag_release(&d);
                bh_msg_free(m);
            }
        }
        /* and optional fields may be absent */
        bh_msg *m = load_example(example_names[i]);
        for (size_t f = 0; f < iface->nrequest; f++)
            if (!(iface->request[f].flags & BH_F_REQUIRED))
                bh_msg_remove(m, iface->request[f].name);
        CHECK_EQ(bh_validate(iface, BH_PART_PLAIN_REQUEST, m, NULL), BH_OK);
        bh_msg_free(m);
    }
}

/* Sets one field of an example to a JSON value and validates. Returns the
 * code of the problem reported on that field (BH_OK when none) and checks no
 * other field is blamed. */
static bh_err try_value(const char *iface_name, const char *field, const char *json_value)
{
    bh_msg *m = load_example(iface_name);
    char json[8192];
    snprintf(json, sizeof json, "{\"v\":%s}", json_value);
    bh_msg *one = parse(json, 0);
    if (!one) {
        bh_msg_free(m);
        return BH_EINVAL;
    }
    const bh_field *v = bh_msg_get(one, "v");
    CHECK_EQ(bh_msg_set(m, field, v->value, v->value_len, v->type), BH_OK);
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_validate(bh_iface_find(iface_name), BH_PART_PLAIN_REQUEST, m, &d);
    const bh_problem *p = bh_diag_find(&d, field);
    CHECK_EQ(d.count, p ? 1 : 0);
    if (p) {
        CHECK_EQ(p->code, err);
        CHECK(strlen(p->message) > 0);
    }
    bh_diag_release(&d);
    bh_msg_free(one);
    bh_msg_free(m);
    return err;
}

static void test_types(void)
{
    /* money */
    CHECK_EQ(try_value("baohanapply", "bzjamount", "\"200000\""), BH_OK);
    CHECK_EQ(try_value("baohanapply", "bzjamount", "200000.50"), BH_OK); /* a JSON number */
    CHECK_EQ(try_value("baohanapply", "bzjamount", "\"12.345\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "bzjamount", "\"-1\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "bzjamount", "2e5"), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "bzjamount", "\"99999999999999999999\""), BH_ERANGE);
    CHECK_EQ(try_value("baohanapply", "reckonprice", "true"), BH_ETYPE);
    CHECK_EQ(try_value("claimsnotice", "payeramount", "\"1,000\""), BH_EFORMAT);
    /* integer with a range */
    CHECK_EQ(try_value("baohanapply", "tbyxq", "90"), BH_OK);
    CHECK_EQ(try_value("baohanapply", "tbyxq", "\"0\""), BH_ERANGE);
    CHECK_EQ(try_value("baohanapply", "tbyxq", "\"3651\""), BH_ERANGE);
    CHECK_EQ(try_value("baohanapply", "tbyxq", "\"99999999999999999999999\""), BH_ERANGE);
    CHECK_EQ(try_value("baohanapply", "tbyxq", "\"90天\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "tbyxq", "-5"), BH_EFORMAT);
    /* date-time */
    CHECK_EQ(try_value("baohanapply", "kaibiaotime", "\"2026-12-21 09:30\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "bzjendtime", "\"2026-02-29 17:00:00\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohannotice", "generatetime", "\"2026-11-28T15:42:10\""), BH_EFORMAT);
    /* credit code: length, alphabet, check character */
    CHECK_EQ(try_value("baohanapply", "biddercode", "\"91350602MA2Y3K7P18\""), BH_OK);
    CHECK_EQ(try_value("baohanapply", "biddercode", "\"91350602MA2Y3K7P17\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "biddercode", "\"91350602MA2Y3K7P1\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "biddercode", "\"91350602ma2y3k7p18\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "biddercode", "\"91350602MA2Y3KIP18\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "zbrorgnum", "\"91350600154321876F\""), BH_OK);
    /* division code */
    CHECK_EQ(try_value("baohanapply", "citycode", "350602"), BH_OK);
    CHECK_EQ(try_value("baohanapply", "citycode", "\"35060\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "citycode", "\"35060a\""), BH_EFORMAT);
    /* URL */
    CHECK_EQ(try_value("baohanapply", "tenderfileurl", "\"http://h/a?x=1&y=2\""), BH_OK);
    CHECK_EQ(try_value("baohanapply", "tenderfileurl", "\"ftp://h/a\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "tenderfileurl", "\"https:///a\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohanapply", "tendernoticeurl", "\"https://h/a\\nb\""), BH_EFORMAT);
    /* enumeration */
    CHECK_EQ(try_value("baohannotice", "applystatus", "0"), BH_OK);
    CHECK_EQ(try_value("baohannotice", "applystatus", "\"2\""), BH_EFORMAT);
    CHECK_EQ(try_value("baohannotice", "applystatus", "\"yes\""), BH_EFORMAT);
    /* JSON-array string */
    CHECK_EQ(try_value("claimsnotice", "filelist", "\"[]\""), BH_OK);
    CHECK_EQ(try_value("claimsnotice", "filelist", "\"[{\\\"fileurl\\\":\\\"https://a/b\\\"}]\""),
             BH_OK);
    CHECK_EQ(try_value("claimsnotice", "filelist", "\"[{\\\"url\\\":\\\"https://a/b\\\"}]\""),
             BH_EFORMAT);
    CHECK_EQ(try_value("claimsnotice", "filelist", "\"[{\\\"fileurl\\\":\\\"nope\\\"}]\""),
             BH_EFORMAT);
    CHECK_EQ(try_value("claimsnotice", "filelist", "\"{\\\"fileurl\\\":\\\"https://a\\\"}\""),
             BH_EFORMAT);
    CHECK_EQ(try_value("claimsnotice", "filelist", "\"[\""), BH_EFORMAT);
    /* text and its length, counted in characters */
    CHECK_EQ(try_value("quitapply", "reason", "12345"), BH_OK); /* a number's text is text */
    CHECK_EQ(try_value("quitapply", "reason", "false"), BH_ETYPE);
    char long_id[80], ok_id[3 * 64 + 3];
    memset(long_id + 1, 'A', 65);
    long_id[0] = '"';
    long_id[66] = '"';
    long_id[67] = '\0';
    CHECK_EQ(try_value("giveupnotice", "applyno", long_id), BH_ETOOLONG);
    ok_id[0] = '"';
    for (int i = 0; i < 64; i++)
        memcpy(ok_id + 1 + 3 * i, "漳", 3);
    ok_id[1 + 3 * 64] = '"';
    ok_id[2 + 3 * 64] = '\0';
    CHECK_EQ(try_value("giveupnotice", "applyno", ok_id), BH_OK); /* 64 characters, 192 bytes */
    CHECK_EQ(try_value("quitapply", "baohanno", "null"), BH_EMISSING);
}

static void test_every_problem_reported(void)
{
    bh_msg *m = load_example("baohanapply");
    CHECK_EQ(bh_msg_set_str(m, "bzjamount", "1.234"), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "tbyxq", "x"), BH_OK);
    CHECK_EQ(bh_msg_remove(m, "projectname"), 1);
    CHECK_EQ(bh_msg_set_str(m, "citycode", "1"), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "platformcode", "P001"), BH_OK); /* unknown: fine */
    bh_diag d = BH_DIAG_INIT;
    CHECK(bh_validate(bh_iface_find("baohanapply"), BH_PART_PLAIN_REQUEST, m, &d) != BH_OK);
    CHECK_EQ(d.count, 4);
    CHECK(bh_diag_find(&d, "bzjamount") && bh_diag_find(&d, "tbyxq") &&
          bh_diag_find(&d, "projectname") && bh_diag_find(&d, "citycode"));
    bh_diag_release(&d);
    bh_msg_free(m);
}

static void test_responses(void)
{
    const bh_iface *apply = bh_iface_find("baohanapply");
    bh_diag d = BH_DIAG_INIT;
    bh_msg *m = parse("{\"code\":1,\"message\":\"成功\",\"Payurl\":\"https://fi/pay/abc\"}", 0);
    CHECK_EQ(bh_validate(apply, BH_PART_RESPONSE, m, &d), BH_OK);
    bh_msg_free(m);
    m = parse("{\"code\":\"1\",\"message\":\"ok\",\"payurl\":\"https://fi/pay/abc\"}", 0);
    CHECK_EQ(bh_validate(apply, BH_PART_RESPONSE, m, &d), BH_OK);
    bh_msg_free(m);
    m = parse("{\"code\":1,\"message\":\"ok\"}", 0);
    CHECK_EQ(bh_validate(apply, BH_PART_RESPONSE, m, &d), BH_EMISSING);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "Payurl") == 0);
    bh_diag_release(&d);
    bh_msg_free(m);
    m = parse("{\"code\":0,\"message\":\"bzjamount: 格式错误\"}", 0);
    CHECK_EQ(bh_validate(apply, BH_PART_RESPONSE, m, &d), BH_OK);
    bh_msg_free(m);
    m = parse("{\"code\":2,\"message\":\"x\"}", 0);
    CHECK_EQ(bh_validate(apply, BH_PART_RESPONSE, m, &d), BH_EFORMAT);
    bh_diag_release(&d);
    bh_msg_free(m);

    const bh_iface *info = bh_iface_find("getbaohaninfo");
    m = parse(
        "{\"code\":1,\"message\":\"ok\",\"data\":{\"baohanurl\":\"https://fi/f/1\","
        "\"baohanfile\":\"JVBERi0xLjcK\",\"guaranteemd5\":\"d41d8cd98f00b204e9800998ecf8427e\"}}",
        BH_PARSE_ALLOW_NESTED);
    CHECK(bh_validate(info, BH_PART_RESPONSE, m, &d) != BH_OK);
    const bh_problem *p = bh_diag_find(&d, "data.guaranteemd5");
    CHECK(p && p->code == BH_EFORMAT && strstr(p->message, "upper-case"));
    p = bh_diag_find(&d, "data.payfileurl");
    CHECK(p && p->code == BH_EMISSING);
    CHECK(bh_diag_find(&d, "data.baohanurl") == NULL);
    CHECK(bh_diag_find(&d, "data.baohanfile") == NULL);
    CHECK_EQ(d.count, 27 - 2);
    bh_diag_release(&d);
    bh_msg_free(m);
    m = parse("{\"code\":1,\"message\":\"ok\"}", 0);
    CHECK_EQ(bh_validate(info, BH_PART_RESPONSE, m, &d), BH_EMISSING);
    CHECK(bh_diag_find(&d, "data") != NULL);
    bh_diag_release(&d);
    bh_msg_free(m);
    m = parse("{\"code\":1,\"message\":\"ok\",\"data\":\"x\"}", 0);
    CHECK_EQ(bh_validate(info, BH_PART_RESPONSE, m, &d), BH_ETYPE);
    bh_diag_release(&d);
    bh_msg_free(m);
}

static bh_sm4_key test_key(void)
{
    bh_sm4_key key;
    CHECK_EQ(bh_sm4_key_parse("0123456789abcdeffedcba9876543210", &key, NULL, "key"), BH_OK);
    return key;
}

static void test_encrypt_decrypt(void)
{
    bh_sm4_key key = test_key();
    const bh_iface *apply = bh_iface_find("baohanapply");
    bh_msg *plain = load_example("baohanapply");
    CHECK_EQ(bh_msg_set_str(plain, "biaoduanno", "ZZ-2026-0001-01"), BH_OK);
    CHECK_EQ(bh_msg_set_str(plain, "kaibiaotime", "2026-12-20 09:30:00"), BH_OK);
    CHECK_EQ(bh_msg_set_str(plain, "approvalcode", ""), BH_OK); /* empty stays empty */
    bh_msg *wire = NULL, *back = NULL;
    CHECK_EQ(bh_encrypt_fields(apply, &key, plain, &wire, NULL), BH_OK);
    if (!wire)
        return;
    CHECK_STR(bh_msg_text(wire, "biaoduanno"), "AgpubKMdybsuh8jfX3SkCg==");
    CHECK_STR(bh_msg_text(wire, "kaibiaotime"), "jcNZwoss8F1I0/vB1FaDxkecALPK4FySCpzhkGOq21c=");
    CHECK_STR(bh_msg_text(wire, "approvalcode"), "");
    CHECK_EQ(bh_msg_count(wire), bh_msg_count(plain));
    for (size_t i = 0; i < bh_msg_count(plain); i++) {
        const bh_field *p = bh_msg_at(plain, i), *w = bh_msg_at(wire, i);
        const bh_fspec *s = bh_fspec_find(apply->request, apply->nrequest, p->key);
        CHECK_STR(w->key, p->key); /* order kept */
        int changed = strcmp(w->value, p->value) != 0;
        CHECK_EQ(changed, (s->flags & BH_F_ENCRYPTED) && p->value_len > 0);
    }
    CHECK_EQ(bh_decrypt_fields(apply, &key, wire, &back, NULL), BH_OK);
    for (size_t i = 0; back && i < bh_msg_count(plain); i++)
        CHECK_STR(bh_msg_at(back, i)->value, bh_msg_at(plain, i)->value);
    bh_msg_free(back);

    /* every undecryptable field is named; nothing is returned */
    CHECK_EQ(bh_msg_set_str(wire, "zbr", "not base64!"), BH_OK);
    CHECK_EQ(bh_msg_set_str(wire, "projectno", "AgpubKMdybsuh8jfX3SkCg=="), BH_OK); /* fine */
    CHECK_EQ(bh_msg_set_str(wire, "projectname", "AgpubKMdybsuh8jf"), BH_OK);       /* 12 bytes */
    CHECK_EQ(bh_msg_set(wire, "tenderercontact", "12", 2, BH_JNUMBER), BH_OK);
    bh_diag d = BH_DIAG_INIT;
    back = (bh_msg *)1;
    CHECK_EQ(bh_decrypt_fields(apply, &key, wire, &back, &d), BH_EBASE64);
    CHECK(back == NULL);
    CHECK_EQ(d.count, 3);
    const bh_problem *p = bh_diag_find(&d, "zbr");
    CHECK(p && p->code == BH_EBASE64);
    p = bh_diag_find(&d, "projectname");
    CHECK(p && p->code == BH_EDECRYPT);
    p = bh_diag_find(&d, "tenderercontact");
    CHECK(p && p->code == BH_ETYPE);
    bh_diag_release(&d);

    /* the wrong key: padding fails (or, rarely, the text is not UTF-8) */
    bh_msg_free(wire);
    wire = NULL;
    CHECK_EQ(bh_encrypt_fields(apply, &key, plain, &wire, NULL), BH_OK);
    bh_sm4_key other;
    CHECK_EQ(bh_sm4_key_parse("00000000000000000000000000000000", &other, NULL, "key"), BH_OK);
    CHECK_EQ(bh_decrypt_fields(apply, &other, wire, &back, &d), BH_EDECRYPT);
    CHECK(bh_diag_find(&d, "projectname") != NULL);
    for (size_t i = 0; i < d.count; i++)
        CHECK(strstr(d.items[i].message, "0123456789") == NULL);
    bh_diag_release(&d);

    /* encrypting a non-string 密文 field is refused */
    CHECK_EQ(bh_msg_set(plain, "zbr", "5", 1, BH_JNUMBER), BH_OK);
    CHECK_EQ(bh_encrypt_fields(apply, &key, plain, &back, &d), BH_ETYPE);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "zbr") == 0);
    bh_diag_release(&d);
    bh_msg_free(wire);
    bh_msg_free(plain);
}

int main(void)
{
    RUN(test_tables);
    RUN(test_examples_valid);
    RUN(test_every_required_field);
    RUN(test_types);
    RUN(test_every_problem_reported);
    RUN(test_responses);
    RUN(test_encrypt_decrypt);
    return CHECK_DONE();
}
