/* Tests of the pipeline's content hash (daemon/serve.c): the identity of
 * "the same request", made from the opened request, and for a stored
 * application from its content_hash or, when that is empty (stored since
 * schema version 4), from its request_json. The ways must agree for any
 * content, or a retry would be refused as different. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"
#include "serve.h"

/* The hash of `m` as unit_apply stores it (no content_hash, its JSON). */
static void stored_hash(const bh_msg *m, char out[BH_SM3_HEX_LEN + 1])
{
    bh_buf json;
    bh_buf_init(&json, BH_MSG_MAX_REQUEST);
    CHECK_EQ(bh_msg_to_json(m, 0, &json), BH_OK);
    bh_app app = {.content_hash = (char *)"", .request_json = json.data};
    CHECK_EQ(bh_app_content_hash(&app, out), BH_OK);
    bh_buf_release(&json);
}

static void check_round_trip(const bh_msg *m)
{
    char direct[BH_SM3_HEX_LEN + 1], stored[BH_SM3_HEX_LEN + 1];
    CHECK_EQ(bh_content_hash(m, direct), BH_OK);
    stored_hash(m, stored);
    CHECK_STR(stored, direct);
}

static void test_stored_json_round_trips(void)
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

/* A row stored before schema version 4 answers with its own hash, not
 * one made from its JSON; a row with neither is an error, not a match. */
static void test_stored_hash_wins(void)
{
    static const char legacy[] = "3ac5b6f1173c414153af277acd6c912e4737e01f57c3b7a0dbaa98aea1fa9435";
    char out[BH_SM3_HEX_LEN + 1];
    bh_app app = {.content_hash = (char *)legacy, .request_json = (char *)"{}"};
    CHECK_EQ(bh_app_content_hash(&app, out), BH_OK);
    CHECK_STR(out, legacy);
    bh_app broken = {.content_hash = (char *)"", .request_json = (char *)"{not json"};
    CHECK(bh_app_content_hash(&broken, out) != BH_OK);
    bh_app none = {.content_hash = NULL, .request_json = NULL};
    CHECK_EQ(bh_app_content_hash(&none, out), BH_EINVAL);
}

/* The order of the fields does not matter; their content does. */
static void test_order_and_content(void)
{
    bh_msg *m = load_example("baohanapply");
    if (!m)
        return;
    char first[BH_SM3_HEX_LEN + 1], moved[BH_SM3_HEX_LEN + 1], changed[BH_SM3_HEX_LEN + 1];
    CHECK_EQ(bh_content_hash(m, first), BH_OK);
    move_to_end(m, "biddername");
    stored_hash(m, moved);
    CHECK_STR(moved, first);
    CHECK_EQ(bh_msg_set_str(m, "bzjamount", "1.00"), BH_OK);
    CHECK_EQ(bh_content_hash(m, changed), BH_OK);
    CHECK(strcmp(changed, first) != 0);
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
    bh_msg_free(m);
}

int main(void)
{
    RUN(test_stored_json_round_trips);
    RUN(test_stored_hash_wins);
    RUN(test_order_and_content);
    RUN(test_req_hash);
    return CHECK_DONE();
}
