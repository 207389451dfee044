/* Messages and the strict JSON reader: what is kept, what is refused. */
#include <stdint.h>
#include <string.h>

#include "baohan/baohan.h"
#include "check.h"

/* Parses and returns the first problem's code (BH_OK when it parsed); the
 * field the problem names goes to `field`. */
static bh_err parse_err(const char *json, unsigned flags, char field[64])
{
    bh_msg *m = NULL;
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_msg_parse(json, strlen(json), BH_MSG_MAX_REQUEST, flags, &m, &d);
    if (field)
        snprintf(field, 64, "%s", d.count ? d.items[0].field : "");
    if (err)
        CHECK(m == NULL && d.count == 1);
    bh_msg_free(m);
    bh_diag_release(&d);
    return err;
}

static void test_keeps_wire_text(void)
{
    const char *json = " {\"b\":\"x\\\"y\",\"a\" : 1000.50 ,\"c\":true,\"d\":null,\"e\":false,"
                       "\"f\":\"\\u6f33\\u5dde\",\"g\":\"\\ud83d\\ude00\",\"h\":-0.5e+3,"
                       "\"i\":\"\\/\\b\\f\\n\\r\\t\\\\\",\"j\":\"\"} ";
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(json, strlen(json), 4096, 0, &m, NULL), BH_OK);
    if (!m)
        return;
    CHECK_EQ(bh_msg_count(m), 10);
    CHECK_STR(bh_msg_at(m, 0)->key, "b"); /* input order is kept */
    CHECK_STR(bh_msg_at(m, 0)->value, "x\"y");
    CHECK_STR(bh_msg_at(m, 1)->value, "1000.50"); /* the literal, never re-formatted */
    CHECK_EQ(bh_msg_at(m, 1)->type, BH_JNUMBER);
    CHECK_STR(bh_msg_get(m, "c")->value, "true");
    CHECK_EQ(bh_msg_get(m, "d")->type, BH_JNULL);
    CHECK_STR(bh_msg_get(m, "e")->value, "false");
    CHECK_STR(bh_msg_get(m, "f")->value, "漳州");
    CHECK_STR(bh_msg_get(m, "g")->value, "\xF0\x9F\x98\x80");
    CHECK_STR(bh_msg_get(m, "h")->value, "-0.5e+3");
    CHECK_STR(bh_msg_get(m, "i")->value, "/\b\f\n\r\t\\");
    CHECK_EQ(bh_msg_get(m, "j")->value_len, 0);
    CHECK_STR(bh_msg_get(m, "j")->value, "");
    CHECK_STR(bh_msg_text(m, "a"), "1000.50");
    CHECK(bh_msg_text(m, "c") == NULL);
    CHECK(bh_msg_get(m, "A") == NULL);
    bh_msg_free(m);
}

static void test_empty_object_and_bom(void)
{
    CHECK_EQ(parse_err("{}", 0, NULL), BH_OK);
    CHECK_EQ(parse_err(" \r\n\t{ }\n", 0, NULL), BH_OK);
    CHECK_EQ(parse_err("\xEF\xBB\xBF{\"a\":\"b\"}", 0, NULL), BH_OK);
}

static void test_refuses_duplicates(void)
{
    char field[64];
    CHECK_EQ(parse_err("{\"applyno\":\"1\",\"x\":2,\"applyno\":\"1\"}", 0, field), BH_EDUPKEY);
    CHECK_STR(field, "applyno");
    /* the same key spelled with an escape is still the same key */
    CHECK_EQ(parse_err("{\"ab\":1,\"a\\u0062\":2}", 0, field), BH_EDUPKEY);
    CHECK_STR(field, "ab");
    /* keys differing in case are different fields */
    CHECK_EQ(parse_err("{\"reason\":1,\"Reason\":2}", 0, NULL), BH_OK);
}

static void test_refuses_nesting(void)
{
    char field[64];
    CHECK_EQ(parse_err("{\"a\":1,\"data\":{\"x\":1}}", 0, field), BH_ENESTED);
    CHECK_STR(field, "data");
    CHECK_EQ(parse_err("{\"filelist\":[1,2]}", 0, field), BH_ENESTED);
    CHECK_STR(field, "filelist");

    const char *json = "{\"code\":1,\"data\":{ \"k\" : [1, {\"z\":null}] }}";
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(json, strlen(json), 4096, BH_PARSE_ALLOW_NESTED, &m, NULL), BH_OK);
    if (m) {
        CHECK_EQ(bh_msg_get(m, "data")->type, BH_JOBJECT);
        CHECK_STR(bh_msg_get(m, "data")->value, "{ \"k\" : [1, {\"z\":null}] }");
    }
    bh_msg_free(m);

    /* Even where nesting is allowed, depth is bounded. */
    char deep[200] = "{\"a\":";
    for (int i = 0; i < BH_MSG_MAX_DEPTH + 1; i++)
        deep[5 + i] = '[';
    size_t n = 5 + BH_MSG_MAX_DEPTH + 1;
    for (int i = 0; i < BH_MSG_MAX_DEPTH + 1; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    CHECK_EQ(parse_err(deep, BH_PARSE_ALLOW_NESTED, field), BH_ENESTED);
    CHECK_STR(field, "a");
}

static void test_refuses_bad_utf8(void)
{
    char field[64];
    CHECK_EQ(parse_err("{\"a\":\"\xC3\x28\"}", 0, field), BH_EUTF8);        /* bad continuation */
    CHECK_EQ(parse_err("{\"a\":\"\xC0\xAF\"}", 0, NULL), BH_EUTF8);         /* overlong */
    CHECK_EQ(parse_err("{\"a\":\"\xED\xA0\x80\"}", 0, NULL), BH_EUTF8);     /* raw surrogate */
    CHECK_EQ(parse_err("{\"a\":\"\xF4\x90\x80\x80\"}", 0, NULL), BH_EUTF8); /* > U+10FFFF */
    CHECK_EQ(parse_err("{\"\xFF\":\"x\"}", 0, NULL), BH_EUTF8);
    CHECK_EQ(parse_err("{\"a\":\"\\ud800\"}", 0, field), BH_EUTF8); /* lone high surrogate */
    CHECK_STR(field, "a");
    CHECK_EQ(parse_err("{\"a\":\"\\udc00x\"}", 0, NULL), BH_EUTF8); /* lone low surrogate */
    CHECK_EQ(parse_err("{\"a\":\"\\ud800\\u0041\"}", 0, NULL), BH_EUTF8);
}

static void test_refuses_malformed(void)
{
    static const char *const bad[] = {
        "",
        "   ",
        "[]",
        "\"a\"",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{,\"a\":1}",
        "{\"a\":1 \"b\":2}",
        "{'a':1}",
        "{a:1}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":-}",
        "{\"a\":1e}",
        "{\"a\":NaN}",
        "{\"a\":tru}",
        "{\"a\":True}",
        "{\"a\":\"x}",
        "{\"a\":\"x\ty\"}",
        "{\"a\":\"\\x41\"}",
        "{\"a\":\"\\u12G4\"}",
        "{\"a\":1}x",
        "{\"a\":1}{}",
        "{\"a\":[1,]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bh_err err = parse_err(bad[i], BH_PARSE_ALLOW_NESTED, NULL);
        if (err != BH_EJSON)
            fprintf(stderr, "  input %zu: %s\n", i, bad[i]);
        CHECK_EQ(err, BH_EJSON);
    }
}

static void test_refuses_nul_and_empty_key(void)
{
    char field[64];
    CHECK_EQ(parse_err("{\"a\":\"x\\u0000y\"}", 0, field), BH_EFORMAT);
    CHECK_STR(field, "a");
    CHECK_EQ(parse_err("{\"\":\"x\"}", 0, NULL), BH_EFORMAT);
}

static void test_size_cap(void)
{
    bh_msg *m = NULL;
    bh_diag d = BH_DIAG_INIT;
    const char *json = "{\"a\":\"0123456789\"}";
    CHECK_EQ(bh_msg_parse(json, strlen(json), strlen(json) - 1, 0, &m, &d), BH_ETOOBIG);
    CHECK(m == NULL);
    CHECK(d.count == 1 && strstr(d.items[0].message, "limit"));
    bh_diag_release(&d);
    CHECK_EQ(bh_msg_parse(json, strlen(json), strlen(json), 0, &m, NULL), BH_OK);
    bh_msg_free(m);

    /* thousands of tiny fields are refused, not hashed quadratically */
    bh_buf b;
    bh_buf_init(&b, 1 << 20);
    CHECK_EQ(bh_buf_addch(&b, '{'), BH_OK);
    for (int i = 0; i < 5000; i++)
        CHECK_EQ(bh_buf_addf(&b, "%s\"k%d\":1", i ? "," : "", i), BH_OK);
    CHECK_EQ(bh_buf_addch(&b, '}'), BH_OK);
    CHECK_EQ(bh_msg_parse(b.data, b.len, b.len, 0, &m, NULL), BH_ETOOBIG);
    bh_buf_release(&b);
}

static void test_write_round_trip(void)
{
    bh_msg *m = bh_msg_new();
    CHECK_EQ(bh_msg_set_str(m, "name", "引号\"反斜杠\\换行\n制表\t\x01"), BH_OK);
    CHECK_EQ(bh_msg_set(m, "amount", "200000.00", 9, BH_JNUMBER), BH_OK);
    CHECK_EQ(bh_msg_set(m, "flag", NULL, 0, BH_JTRUE), BH_OK);
    CHECK_EQ(bh_msg_set(m, "nothing", NULL, 0, BH_JNULL), BH_OK);
    CHECK_EQ(bh_msg_set(m, "bad", "1.", 2, BH_JNUMBER), BH_EJSON);
    CHECK_EQ(bh_msg_set(m, "bad", "\xC3", 1, BH_JSTRING), BH_EUTF8);
    CHECK_EQ(bh_msg_set(m, "bad", "{\"a\":", 5, BH_JOBJECT), BH_EJSON);
    CHECK_EQ(bh_msg_set(m, "obj", "{\"a\":[1]}", 9, BH_JOBJECT), BH_OK);
    CHECK_EQ(bh_msg_count(m), 5);

    bh_buf out;
    bh_buf_init(&out, 4096);
    CHECK_EQ(bh_msg_to_json(m, 0, &out), BH_OK);
    CHECK_STR(out.data,
              "{\"name\":\"引号\\\"反斜杠\\\\换行\\n制表\\t\\u0001\",\"amount\":200000.00,"
              "\"flag\":true,\"nothing\":null,\"obj\":{\"a\":[1]}}");
    bh_msg *back = NULL;
    CHECK_EQ(bh_msg_parse(out.data, out.len, out.len, BH_PARSE_ALLOW_NESTED, &back, NULL), BH_OK);
    if (back) {
        CHECK_EQ(bh_msg_count(back), 5);
        for (size_t i = 0; i < bh_msg_count(back); i++) {
            CHECK_STR(bh_msg_at(back, i)->key, bh_msg_at(m, i)->key);
            CHECK_STR(bh_msg_at(back, i)->value, bh_msg_at(m, i)->value);
            CHECK_EQ(bh_msg_at(back, i)->type, bh_msg_at(m, i)->type);
        }
    }
    bh_msg_free(back);

    bh_buf_reset(&out);
    bh_msg *small = bh_msg_new();
    CHECK_EQ(bh_msg_set_str(small, "a", "1"), BH_OK);
    CHECK_EQ(bh_msg_set_str(small, "b", "2"), BH_OK);
    CHECK_EQ(bh_msg_to_json(small, BH_JSON_PRETTY, &out), BH_OK);
    CHECK_STR(out.data, "{\n  \"a\": \"1\",\n  \"b\": \"2\"\n}");
    bh_msg_free(small);
    bh_buf_release(&out);
    bh_msg_free(m);
}

static void test_set_replace_remove_dup(void)
{
    bh_msg *m = bh_msg_new();
    CHECK_EQ(bh_msg_set_str(m, "a", "1"), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "b", "2"), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "c", "3"), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "a", "one"), BH_OK); /* replaced in place */
    CHECK_STR(bh_msg_at(m, 0)->value, "one");
    CHECK_EQ(bh_msg_remove(m, "b"), 1);
    CHECK_EQ(bh_msg_remove(m, "b"), 0);
    CHECK_EQ(bh_msg_count(m), 2);
    CHECK_STR(bh_msg_at(m, 1)->key, "c");
    CHECK_EQ(bh_msg_set_str(m, "", "x"), BH_EINVAL);
    CHECK_EQ(bh_msg_set_str(m, "Payurl", "https://x"), BH_OK);
    CHECK_STR(bh_msg_get_nocase(m, "payurl")->value, "https://x");
    CHECK_STR(bh_msg_get_nocase(m, "PAYURL")->key, "Payurl");
    CHECK(bh_msg_get(m, "payurl") == NULL);
    bh_msg *copy = bh_msg_dup(m);
    CHECK(copy != NULL);
    if (copy) {
        CHECK_EQ(bh_msg_count(copy), 3);
        CHECK_EQ(bh_msg_set_str(copy, "a", "changed"), BH_OK);
        CHECK_STR(bh_msg_text(m, "a"), "one"); /* a deep copy */
    }
    bh_msg_free(copy);
    bh_msg_free(m);
}

struct collected {
    int count;
    char texts[4][64];
};

static bh_err collect(const char *element, size_t len, void *ctx)
{
    struct collected *c = ctx;
    if (c->count < 4)
        snprintf(c->texts[c->count], 64, "%.*s", (int)len, element);
    c->count++;
    return BH_OK;
}

static bh_err refuse_second(const char *element, size_t len, void *ctx)
{
    (void)element;
    (void)len;
    return ++*(int *)ctx == 2 ? BH_EFORMAT : BH_OK;
}

static void test_array_each(void)
{
    struct collected c = {0};
    const char *json = " [ {\"fileurl\":\"https://a\"}, \"s\\u0041\" ,12.0,[]] ";
    CHECK_EQ(bh_json_array_each(json, strlen(json), collect, &c, NULL, "filelist"), BH_OK);
    CHECK_EQ(c.count, 4);
    CHECK_STR(c.texts[0], "{\"fileurl\":\"https://a\"}");
    CHECK_STR(c.texts[1], "\"s\\u0041\"");
    CHECK_STR(c.texts[2], "12.0");
    CHECK_STR(c.texts[3], "[]");

    struct collected none = {0};
    CHECK_EQ(bh_json_array_each("[]", 2, collect, &none, NULL, "x"), BH_OK);
    CHECK_EQ(none.count, 0);

    bh_diag d = BH_DIAG_INIT;
    CHECK_EQ(bh_json_array_each("{\"a\":1}", 7, collect, &none, &d, "filelist"), BH_EJSON);
    CHECK(d.count == 1 && strcmp(d.items[0].field, "filelist") == 0);
    bh_diag_release(&d);
    CHECK_EQ(bh_json_array_each("[1,2", 4, collect, &none, NULL, "x"), BH_EJSON);

    int calls = 0;
    CHECK_EQ(bh_json_array_each("[1,2,3]", 7, refuse_second, &calls, NULL, "x"), BH_EFORMAT);
    CHECK_EQ(calls, 2);
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

/* Mutated JSON (bytes flipped, inserted, deleted) never crashes the reader:
 * it either parses, and then writes and re-reads to the same fields, or it
 * is refused with exactly one problem. ASan/UBSan runs make this a fuzz test. */
static void test_mutations(void)
{
    static const char seed[] =
        "{\"appkey\":\"FI001\",\"amount\":1000.50,\"name\":\"漳州\\u5e02\\\"x\\\"\","
        "\"ok\":true,\"n\":null,\"list\":[1,{\"a\":\"b\"}],\"e\":-1.5e-3}";
    static const char tokens[] = "{}[]\":,\\u0123456789.eE-+tfn \xE6\xBC\xB3\xF0\x80\xFF";
    char text[256];
    int parsed = 0, refused = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = sizeof seed - 1;
        memcpy(text, seed, len);
        int edits = 1 + (int)rnd(4);
        for (int e = 0; e < edits; e++) {
            size_t at = rnd((uint32_t)len);
            char c = tokens[rnd(sizeof tokens - 1)];
            switch (rnd(3)) {
            case 0:
                text[at] = c;
                break;
            case 1:
                if (len < sizeof text - 1) {
                    memmove(text + at + 1, text + at, len - at);
                    text[at] = c;
                    len++;
                }
                break;
            default:
                memmove(text + at, text + at + 1, len - at - 1);
                len--;
                break;
            }
        }
        unsigned flags = round % 2 ? BH_PARSE_ALLOW_NESTED : 0;
        bh_msg *m = NULL;
        bh_diag d = BH_DIAG_INIT;
        bh_err err = bh_msg_parse(text, len, sizeof text, flags, &m, &d);
        if (err) {
            refused++;
            CHECK(m == NULL && d.count == 1 && d.items[0].code == err);
        } else {
            parsed++;
            bh_buf out;
            bh_buf_init(&out, 4096);
            bh_msg *again = NULL;
            CHECK_EQ(bh_msg_to_json(m, 0, &out), BH_OK);
            CHECK_EQ(bh_msg_parse(out.data, out.len, out.len, flags, &again, NULL), BH_OK);
            CHECK(again && bh_msg_count(again) == bh_msg_count(m));
            for (size_t i = 0; again && i < bh_msg_count(m); i++) {
                CHECK_STR(bh_msg_at(again, i)->key, bh_msg_at(m, i)->key);
                CHECK_STR(bh_msg_at(again, i)->value, bh_msg_at(m, i)->value);
            }
            bh_msg_free(again);
            bh_buf_release(&out);
        }
        bh_diag_release(&d);
        bh_msg_free(m);
    }
    /* the mutations exercise both outcomes */
    CHECK(parsed > 100);
    CHECK(refused > 10000);
}

/* One special thing (an escape, a raw control byte, raw UTF-8) at every
 * position of strings up to three words long, so the reader's and
 * bh_json_quote's eight-byte scans meet it at every phase and at the end. */
static void test_escapes_at_every_position(void)
{
    static const struct {
        const char *wire, *value; /* value NULL: must be refused */
    } specials[] = {
        {"\\\"", "\""},         {"\\\\", "\\"},          {"\\/", "/"},
        {"\\n", "\n"},          {"\\t", "\t"},           {"\\u00e9", "\xc3\xa9"},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},          {"\xe6\xbc\xb3", "\xe6\xbc\xb3"},
        {"\x7f", "\x7f"},       {" ", " "},              {"\x1f", NULL},
        {"\x01", NULL},         {"\\x", NULL},           {"\\u0000", NULL},
    };
    long bad = 0;
    char wire[128], want[64];
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        for (size_t len = 0; len <= 24; len++) {
            for (size_t pos = 0; pos <= len; pos++) {
                /* "k": a..a SPECIAL a..a, `pos` plain bytes before it. */
                size_t w = (size_t)snprintf(wire, sizeof wire, "{\"k\":\"%.*s%s%.*s\"}", (int)pos,
                                            "abcdefghijklmnopqrstuvwxyz", specials[k].wire,
                                            (int)(len - pos), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
                bh_msg *m = NULL;
                bh_err err = bh_msg_parse(wire, w, sizeof wire, 0, &m, NULL);
                if (!specials[k].value) {
                    bad += err == BH_OK;
                    bh_msg_free(m);
                    continue;
                }
                snprintf(want, sizeof want, "%.*s%s%.*s", (int)pos, "abcdefghijklmnopqrstuvwxyz",
                         specials[k].value, (int)(len - pos), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
                const bh_field *f = m ? bh_msg_get(m, "k") : NULL;
                bad += err != BH_OK || !f || f->value_len != strlen(want) ||
                       strcmp(f->value, want) != 0;
                bh_msg_free(m);
            }
        }
    }
    CHECK_EQ(bad, 0);
}

/* A plain reference for bh_json_quote: one byte at a time. */
static void ref_quote(const char *s, size_t len, char *out)
{
    *out++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b"
                      : c == '\f' ? "\\f" : NULL;
        if (e) {
            memcpy(out, e, 2);
            out += 2;
        } else if (c < 0x20) {
            out += snprintf(out, 7, "\\u%04x", c);
        } else
            *out++ = (char)c;
    }
    *out++ = '"';
    *out = '\0';
}

static void test_quote_every_byte_at_every_position(void)
{
    long bad = 0, round_trip_bad = 0;
    char value[32], want[256];
    bh_buf out;
    bh_buf_init(&out, 1024);
    for (int c = 0; c < 256; c++) {
        for (size_t len = 1; len <= 20; len++) {
            for (size_t pos = 0; pos < len; pos++) {
                memset(value, 'v', len);
                value[pos] = (char)c;
                if (c >= 0x80) /* keep it UTF-8: a two-byte sequence */
                    value[pos] = (char)0xc3, value[pos + 1 < len ? pos + 1 : pos] = (char)0xa9;
                bh_buf_reset(&out);
                ref_quote(value, len, want);
                bad += bh_json_quote(value, len, &out) != BH_OK || strcmp(out.data, want) != 0 ||
                       out.len != strlen(want);
                /* What was written reads back as the same bytes. */
                char doc[300];
                int n = snprintf(doc, sizeof doc, "{\"k\":%s}", out.data);
                bh_msg *m = NULL;
                bh_err err = bh_msg_parse(doc, (size_t)n, sizeof doc, 0, &m, NULL);
                int utf8 = bh_utf8_valid(value, len);
                if (c == 0 || !utf8)
                    round_trip_bad += err == BH_OK; /* U+0000 or a cut sequence */
                else
                    round_trip_bad += err != BH_OK || bh_msg_get(m, "k")->value_len != len ||
                                      memcmp(bh_msg_get(m, "k")->value, value, len) != 0;
                bh_msg_free(m);
            }
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(round_trip_bad, 0);
    /* Quoting into a buffer that cannot hold the result fails whole. */
    bh_buf tight;
    bh_buf_init(&tight, 5);
    CHECK_EQ(bh_json_quote("abcd", 4, &tight), BH_ETOOBIG);
    CHECK_EQ(tight.len, 0);
    CHECK_EQ(bh_json_quote("abc", 3, &tight), BH_OK);
    CHECK_STR(tight.data, "\"abc\"");
    bh_buf_release(&tight);
    bh_buf_release(&out);
}

static void test_get_hinted(void)
{
    const char *json = "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\"}";
    bh_msg *m = NULL;
    CHECK_EQ(bh_msg_parse(json, strlen(json), 4096, 0, &m, NULL), BH_OK);
    if (!m)
        return;
    /* In order: each found where the hint points, the hint just after it. */
    size_t hint = 0;
    static const char *const names[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++) {
        const bh_field *f = bh_msg_get_hinted(m, names[i], &hint);
        CHECK(f && f == bh_msg_get(m, names[i]));
        CHECK_EQ(hint, i + 1);
    }
    /* Out of order, from past the end, from any value: still found. */
    static const size_t starts[] = {0, 2, 3, 4, 5, SIZE_MAX};
    for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
        for (size_t i = 0; i < 4; i++) {
            hint = starts[s];
            CHECK(bh_msg_get_hinted(m, names[3 - i], &hint) == bh_msg_get(m, names[3 - i]));
            CHECK_EQ(hint, 4 - i);
        }
        hint = starts[s];
        CHECK(bh_msg_get_hinted(m, "e", &hint) == NULL);
        CHECK(bh_msg_get_hinted(m, "", &hint) == NULL);
        CHECK(bh_msg_get_hinted(m, "ab", &hint) == NULL);
        CHECK_EQ(hint, starts[s]); /* untouched when nothing is found */
    }
    bh_msg *empty = bh_msg_new();
    hint = 7;
    CHECK(empty && bh_msg_get_hinted(empty, "a", &hint) == NULL);
    bh_msg_free(empty);
    bh_msg_free(m);
}

int main(void)
{
    RUN(test_keeps_wire_text);
    RUN(test_empty_object_and_bom);
    RUN(test_refuses_duplicates);
    RUN(test_refuses_nesting);
    RUN(test_refuses_bad_utf8);
    RUN(test_refuses_malformed);
    RUN(test_refuses_nul_and_empty_key);
    RUN(test_size_cap);
    RUN(test_write_round_trip);
    RUN(test_escapes_at_every_position);
    RUN(test_quote_every_byte_at_every_position);
    RUN(test_set_replace_remove_dup);
    RUN(test_get_hinted);
    RUN(test_array_each);
    RUN(test_mutations);
    return CHECK_DONE();
}
