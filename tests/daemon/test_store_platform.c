/* Tests of the platform role's store operations (store.h, migration 2):
 * applications as the platform sees them, the notices it received, the file
 * checks of getbaohaninfo — every operation, its error codes, and that a
 * failing unit leaves nothing behind. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store_env.h"

static struct env env;
static bh_store *store;

/* One operation run as a unit (write) or a read, with its arguments. */
typedef struct op {
    bh_papp *app;
    bh_papp_state expected;
    const char *appkey, *applyno;
    int64_t id;
    bh_papp got;
    const bh_papp_state *state;
    size_t limit, offset;
    bh_papp *list;
    size_t count;
    const char *iface, *hash, *json;
    bh_pnotice *notices;
    bh_filecheck *checks;
    size_t nchecks;
} op;

static bh_err insert_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    return bh_tx_papp_insert(tx, o->app, 1000);
}

static bh_err by_applyno_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    bh_papp_release(&o->got);
    return bh_tx_papp_by_applyno(tx, o->appkey, o->applyno, &o->got);
}

static bh_err by_id_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    bh_papp_release(&o->got);
    return bh_tx_papp_by_id(tx, o->id, &o->got);
}

static bh_err update_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    return bh_tx_papp_update(tx, o->app, o->expected, 2000);
}

static bh_err list_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    bh_papp_list_free(o->list, o->count);
    o->list = NULL;
    o->count = 0;
    return bh_tx_papp_list(tx, o->state, o->appkey, o->limit, o->offset, &o->list, &o->count);
}

static bh_err notice_add_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    return bh_tx_pnotice_add(tx, o->id, o->iface, o->hash, o->json, 3000);
}

static bh_err notice_list_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    bh_pnotice_list_free(o->notices, o->count);
    o->notices = NULL;
    o->count = 0;
    return bh_tx_pnotice_list(tx, o->id, &o->notices, &o->count);
}

static bh_err checks_put_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    return bh_tx_filecheck_replace(tx, o->id, o->checks, o->nchecks, 4000);
}

static bh_err checks_list_fn(bh_tx *tx, void *ctx)
{
    op *o = ctx;
    bh_filecheck_list_free(o->checks, o->count);
    o->checks = NULL;
    o->count = 0;
    return bh_tx_filecheck_list(tx, o->id, &o->checks, &o->count);
}

static bh_papp new_app(const char *appkey, const char *applyno)
{
    bh_papp a = {0};
    a.institution = (char *)"fi";
    a.appkey = (char *)appkey;
    a.applyno = (char *)applyno;
    a.content_hash = (char *)"abc";
    a.state = BH_PAPP_SENDING;
    a.request_json = (char *)"{\"applyno\":\"x\"}";
    a.last_code = -1;
    return a;
}

static void test_state_names(void)
{
    bh_papp_state s;
    for (int i = 0; i < BH_PAPP_STATE_COUNT_; i++) {
        CHECK(bh_papp_state_name((bh_papp_state)i) != NULL);
        CHECK_EQ(bh_papp_state_parse(bh_papp_state_name((bh_papp_state)i), &s), BH_OK);
        CHECK_EQ(s, i);
    }
    CHECK(bh_papp_state_name(BH_PAPP_STATE_COUNT_) == NULL);
    CHECK_EQ(bh_papp_state_parse("applied", &s), BH_ENOTFOUND);
    CHECK_STR(bh_papp_state_name(BH_PAPP_QUIT_REQUESTED), "quit_requested");
    CHECK(bh_store_schema_version(store) >= 2);
}

static void test_apps(void)
{
    op o = {0};
    bh_papp a = new_app("FI001", "P1");
    o.app = &a;
    /* Required fields. */
    a.request_json = NULL;
    CHECK_EQ(bh_store_write(store, insert_fn, &o), BH_EINVAL);
    a.request_json = (char *)"{}";
    a.state = BH_PAPP_STATE_COUNT_;
    CHECK_EQ(bh_store_write(store, insert_fn, &o), BH_EINVAL);
    a.state = BH_PAPP_SENDING;
    CHECK_EQ(bh_store_write(store, insert_fn, &o), BH_OK);
    CHECK(a.id > 0);
    CHECK_EQ(a.created_at, 1000);
    int64_t first = a.id;
    /* (appkey, applyno) is unique; the same applyno at another institution is not the same. */
    CHECK_EQ(bh_store_write(store, insert_fn, &o), BH_EDUPKEY);
    bh_papp b = new_app("FI002", "P1");
    o.app = &b;
    CHECK_EQ(bh_store_write(store, insert_fn, &o), BH_OK);
    CHECK(b.id != first);
    /* Inside a read, writers refuse. */
    CHECK_EQ(bh_store_read(store, insert_fn, &o), BH_EINVAL);

    o.appkey = "FI001";
    o.applyno = "P1";
    CHECK_EQ(bh_store_read(store, by_applyno_fn, &o), BH_OK);
    CHECK_EQ(o.got.id, first);
    CHECK_STR(o.got.institution, "fi");
    CHECK_STR(bh_papp_state_name(o.got.state), "sending");
    CHECK(o.got.payurl == NULL && o.got.baohanno == NULL && o.got.info_json == NULL);
    CHECK_EQ(o.got.last_code, -1);
    o.applyno = "P2";
    CHECK_EQ(bh_store_read(store, by_applyno_fn, &o), BH_ENOTFOUND);
    o.id = 999999;
    CHECK_EQ(bh_store_read(store, by_id_fn, &o), BH_ENOTFOUND);

    /* Update: only from the expected state. */
    o.id = first;
    CHECK_EQ(bh_store_read(store, by_id_fn, &o), BH_OK);
    bh_papp u = o.got; /* borrows o.got's strings; the literals below stay ours */
    u.state = BH_PAPP_SENT;
    u.payurl = (char *)"http://fi/pay/1";
    u.last_code = 1;
    u.last_message = (char *)"成功";
    o.app = &u;
    o.expected = BH_PAPP_SENT;
    CHECK_EQ(bh_store_write(store, update_fn, &o), BH_EINVAL);
    o.expected = BH_PAPP_SENDING;
    CHECK_EQ(bh_store_write(store, update_fn, &o), BH_OK);
    int64_t id = u.id;
    u.id = 424242;
    CHECK_EQ(bh_store_write(store, update_fn, &o), BH_ENOTFOUND);
    u.id = id;
    CHECK_EQ(bh_store_read(store, by_id_fn, &o), BH_OK);
    CHECK_STR(bh_papp_state_name(o.got.state), "sent");
    CHECK_STR(o.got.payurl, "http://fi/pay/1");
    CHECK_STR(o.got.last_message, "成功");
    CHECK_EQ(o.got.last_code, 1);
    CHECK_EQ(o.got.updated_at, 2000);
    CHECK_EQ(o.got.created_at, 1000);
    bh_papp_release(&o.got);
}

static void test_list(void)
{
    op o = {0};
    char applyno[16];
    for (int i = 0; i < 5; i++) {
        snprintf(applyno, sizeof applyno, "L%d", i);
        bh_papp a = new_app(i % 2 ? "FI002" : "FI001", applyno);
        a.state = i < 3 ? BH_PAPP_ISSUED : BH_PAPP_REJECTED;
        o.app = &a;
        CHECK_EQ(bh_store_write(store, insert_fn, &o), BH_OK);
    }
    bh_papp_state issued = BH_PAPP_ISSUED;
    o.state = &issued;
    CHECK_EQ(bh_store_read(store, list_fn, &o), BH_OK);
    CHECK_EQ(o.count, 3);
    CHECK_STR(o.count ? o.list[0].applyno : "", "L2"); /* newest first */
    o.appkey = "FI002";
    CHECK_EQ(bh_store_read(store, list_fn, &o), BH_OK);
    CHECK_EQ(o.count, 1);
    CHECK_STR(o.count ? o.list[0].applyno : "", "L1");
    o.state = NULL;
    o.appkey = NULL;
    o.limit = 2;
    o.offset = 1;
    CHECK_EQ(bh_store_read(store, list_fn, &o), BH_OK);
    CHECK_EQ(o.count, 2);
    CHECK_STR(o.count ? o.list[0].applyno : "", "L3");
    bh_papp_state bad = BH_PAPP_STATE_COUNT_;
    o.state = &bad;
    CHECK_EQ(bh_store_read(store, list_fn, &o), BH_EINVAL);
    bh_papp_list_free(o.list, o.count);
}

/* The id of test_apps's application FI001/P1 (the tests build on it). */
static int64_t p1_id(void)
{
    op o = {0};
    o.appkey = "FI001";
    o.applyno = "P1";
    CHECK_EQ(bh_store_read(store, by_applyno_fn, &o), BH_OK);
    int64_t id = o.got.id;
    bh_papp_release(&o.got);
    return id;
}

static void test_notices(void)
{
    op o = {0};
    o.id = p1_id();
    o.iface = "baohannotice";
    o.hash = "h1";
    o.json = "{\"applyno\":\"P1\",\"applystatus\":\"1\"}";
    CHECK_EQ(bh_store_write(store, notice_add_fn, &o), BH_OK);
    CHECK_EQ(bh_store_write(store, notice_add_fn, &o), BH_EDUPKEY); /* the same notice again */
    o.hash = "h2";
    CHECK_EQ(bh_store_write(store, notice_add_fn, &o), BH_OK);
    o.iface = "quitnotice";
    CHECK_EQ(bh_store_write(store, notice_add_fn, &o), BH_OK);
    o.iface = NULL;
    CHECK_EQ(bh_store_write(store, notice_add_fn, &o), BH_EINVAL);
    CHECK_EQ(bh_store_read(store, notice_list_fn, &o), BH_OK);
    CHECK_EQ(o.count, 3);
    CHECK_STR(o.count ? o.notices[0].iface : "", "baohannotice");
    CHECK_STR(o.count ? o.notices[0].plain_json : "", "{\"applyno\":\"P1\",\"applystatus\":\"1\"}");
    CHECK_EQ(o.count ? o.notices[0].received_at : 0, 3000);
    CHECK_STR(o.count > 2 ? o.notices[2].iface : "", "quitnotice");
    int64_t id = o.id;
    o.id = 777777; /* no such application */
    o.iface = "baohannotice";
    CHECK_EQ(bh_store_write(store, notice_add_fn, &o), BH_ENOTFOUND);
    CHECK_EQ(bh_store_read(store, notice_list_fn, &o), BH_OK);
    CHECK_EQ(o.count, 0);
    o.id = id;
    bh_pnotice_list_free(o.notices, o.count);
}

static void test_file_checks(void)
{
    op o = {0};
    o.id = p1_id();
    bh_filecheck in[2] = {
        {0, 0, (char *)"baohanurl", (char *)"http://fi/files/a", (char *)"AA", (char *)"AA", 1,
         NULL, 0},
        {0, 0, (char *)"orderurl", (char *)"http://fi/files/b", (char *)"BB", (char *)"CC", 0,
         (char *)"the MD5 differs", 0},
    };
    o.checks = in;
    o.nchecks = 2;
    CHECK_EQ(bh_store_write(store, checks_put_fn, &o), BH_OK);
    o.checks = NULL;
    CHECK_EQ(bh_store_read(store, checks_list_fn, &o), BH_OK);
    CHECK_EQ(o.count, 2);
    if (o.count == 2) {
        CHECK_STR(o.checks[0].field, "baohanurl");
        CHECK_EQ(o.checks[0].ok, 1);
        CHECK(o.checks[0].detail == NULL);
        CHECK_STR(o.checks[1].md5_actual, "CC");
        CHECK_EQ(o.checks[1].ok, 0);
        CHECK_STR(o.checks[1].detail, "the MD5 differs");
        CHECK_EQ(o.checks[1].checked_at, 4000);
    }
    bh_filecheck_list_free(o.checks, o.count);
    /* A failing replacement (a check without its field) leaves the old set. */
    in[1].field = NULL;
    o.checks = in;
    CHECK_EQ(bh_store_write(store, checks_put_fn, &o), BH_EINVAL);
    o.checks = NULL;
    CHECK_EQ(bh_store_read(store, checks_list_fn, &o), BH_OK);
    CHECK_EQ(o.count, 2);
    bh_filecheck_list_free(o.checks, o.count);
    /* A new fetch replaces the set. */
    o.checks = in;
    o.nchecks = 1;
    CHECK_EQ(bh_store_write(store, checks_put_fn, &o), BH_OK);
    o.checks = NULL;
    CHECK_EQ(bh_store_read(store, checks_list_fn, &o), BH_OK);
    CHECK_EQ(o.count, 1);
    bh_filecheck_list_free(o.checks, o.count);
}

int main(void)
{
    env_init(&env);
    store = open_store(&env);
    RUN(test_state_names);
    RUN(test_apps);
    RUN(test_list);
    RUN(test_notices);
    RUN(test_file_checks);
    bh_store_close(store);
    remove_tree(env.dir);
    return CHECK_DONE();
}
