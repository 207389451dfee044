/* Tests of the pipeline's content hash (daemon/serve.c): the identity of
 * "the same request", made either from the opened request or, for an
 * application stored without one, from its stored request_json. The two
 * must agree for any content, or a retry would be refused as different. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"
#include "serve.h"

/* hash(m) == hash of m written as JSON, which is what unit_apply stores. */
static void check_round_trip(const bh_msg *m)
{
    char direct[BH_SM3_HEX_LEN + 1], stored[BH_SM3_HEX_LEN + 1];
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    CHECK_EQ(bh_content_hash(m, direct), BH_OK);
    CHECK_EQ(bh_msg_to_json(m, 0, &json), BH_OK);
    CHECK_EQ(bh_content_hash_json(json.data, stored), BH_OK);
    CHECK_STR(stored, direct);
    bh_buf_release(&json);
}

static void test_example_round_trips(void)
{
    bh_msg *m = load_example("baohanapply");
    if (!m)
        return;
    check_round_trip(m);
    /* Text that JSON must escape, and text it need not. */
    CHECK_EQ(bh_msg_set_str(m, "projectname", "路\"桥\\工程\t第一/二标段\x01 ☃ 𠀀"), BH_OK);
    CHECK_EQ(bh_msg_set(m, "tbyxq", "90", 2, BH_JNUMBER), BH_OK);
    CHECK_EQ(bh_msg_set_str(m, "reckonprice", ""), BH_OK);
    check_round_trip(m);
    bh_msg_free(m);
}

/* The order of the fields does not matter; their content does. */
static void test_order_and_content(void)
{
    bh_msg *m = load_example("baohanapply");
    if (!m)
        return;
    char first[BH_SM3_HEX_LEN + 1], moved[BH_SM3_HEX_LEN + 1], changed[BH_SM3_HEX_LEN + 1];
    CHECK_EQ(bh_content_hash(m, first), BH_OK);
    char *name = strdup(bh_msg_text(m, "biddername"));
    CHECK(bh_msg_remove(m, "biddername"));
    CHECK_EQ(bh_msg_set_str(m, "biddername", name), BH_OK); /* now the last field */
    CHECK_EQ(bh_content_hash(m, moved), BH_OK);
    CHECK_STR(moved, first);
    CHECK_EQ(bh_msg_set_str(m, "bzjamount", "1.00"), BH_OK);
    CHECK_EQ(bh_content_hash(m, changed), BH_OK);
    CHECK(strcmp(changed, first) != 0);
    free(name);
    bh_msg_free(m);
}

/* bh_req_hash fills the request's hash once and keeps it. */
static void test_req_hash(void)
{
    bh_msg *m = load_example("baohanapply");
    if (!m)
        return;
    bh_request r = {.business = m};
    char want[BH_SM3_HEX_LEN + 1];
    CHECK_EQ(bh_content_hash(m, want), BH_OK);
    CHECK_STR(r.hash, "");
    CHECK_EQ(bh_req_hash(&r), BH_OK);
    CHECK_STR(r.hash, want);
    CHECK_EQ(bh_msg_set_str(m, "bzjamount", "1.00"), BH_OK);
    CHECK_EQ(bh_req_hash(&r), BH_OK); /* already made: not made again */
    CHECK_STR(r.hash, want);
    CHECK(bh_content_hash_json("{not json", want) != BH_OK);
    bh_msg_free(m);
}

int main(void)
{
    RUN(test_example_round_trips);
    RUN(test_order_and_content);
    RUN(test_req_hash);
    return CHECK_DONE();
}
