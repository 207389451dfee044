/* Black-box: automatic underwriting. With underwriting = auto, a paid
 * application within auto_max_amount is issued by itself, and the platform
 * is notified; a larger one waits for an operator. */
#include "e2e.h"

#define BIDDER "福建省漳州市恒泰建设工程有限公司"

static e2e_daemon daemon_;
static e2e_receiver receiver;
static bh_buf out;

static int64_t apply_and_submit(const char *applyno, const char *amount)
{
    return e2e_apply_and_submit(&daemon_, applyno, amount, &out);
}

static long pay(int64_t id, const char *amount)
{
    return e2e_pay(&daemon_, id, BIDDER, amount, &out);
}

static void test_auto_underwriting(void)
{
    char small[32], large[32];
    snprintf(small, sizeof small, "AUTO%d-1", (int)getpid());
    snprintf(large, sizeof large, "AUTO%d-2", (int)getpid());

    int64_t id = apply_and_submit(small, "100000.00"); /* premium: the 300.00 minimum */
    CHECK_EQ(pay(id, "300.00"), 200);
    CHECK(out.data && strstr(out.data, "\"state\":\"issued\""));
    e2e_notice n;
    CHECK_EQ(e2e_notices(&receiver, "baohannotice", small, 10000, &n), 1);
    CHECK_STR(n.applystatus, "1");

    id = apply_and_submit(large, "1000000.00"); /* over auto_max_amount: premium 1500.00 */
    CHECK_EQ(pay(id, "1500.00"), 200);
    CHECK(out.data && strstr(out.data, "\"state\":\"paid\""));
    CHECK_EQ(e2e_notices(&receiver, "baohannotice", large, 500, NULL), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bh_buf_init(&out, 64 << 20);
    e2e_receiver_start(&receiver, 0);
    e2e_daemon_start(&daemon_, receiver.port, "underwriting = auto\nauto_max_amount = 500000");
    RUN(test_auto_underwriting);
    CHECK_EQ(receiver.bad_signatures, 0);
    e2e_daemon_cleanup(&daemon_);
    e2e_receiver_stop(&receiver);
    bh_buf_release(&out);
    curl_global_cleanup();
    return CHECK_DONE();
}
