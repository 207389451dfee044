/* Fixtures shared by the unit tests: the specification's example plaintext
 * requests (tests/data/examples/<interface>.plain.json). */
#ifndef BAOHAN_TEST_FIXTURES_H
#define BAOHAN_TEST_FIXTURES_H

#include "baohan/baohan.h"
#include "check.h"

/* The example plaintext request of `iface`, parsed; NULL (and a failed check)
 * when it does not parse. */
__attribute__((unused)) static bh_msg *load_example(const char *iface)
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

/* Moves `key` (it must be there) to the end of `m`, value unchanged: the
 * same request with its fields in another order. */
__attribute__((unused)) static void move_to_end(bh_msg *m, const char *key)
{
    const char *value = bh_msg_text(m, key);
    char *copy = value ? strdup(value) : NULL;
    CHECK(copy && bh_msg_remove(m, key));
    CHECK_EQ(bh_msg_set_str(m, key, copy ? copy : ""), BH_OK);
    free(copy);
}

/* The interfaces in specification order. */
static const char *const example_names[] = {"baohanapply",  "baohannotice", "getbaohaninfo",
                                            "giveupnotice", "quitapply",    "quitnotice",
                                            "claimsnotice"};

#endif
