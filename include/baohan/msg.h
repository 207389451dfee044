/* A message: the flat, ordered fields of one request or response.
 *
 * Each field keeps its value exactly as it travelled, because a signature is
 * checked over what was actually sent: a string's unescaped UTF-8 text, a
 * number's literal text ("1000.50" stays "1000.50"), true/false/null as those
 * words, and, where nesting is allowed, an object's or array's raw JSON text.
 * Field order is the order of the input (or of insertion). */
#ifndef BAOHAN_MSG_H
#define BAOHAN_MSG_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bh_jtype {
    BH_JSTRING,
    BH_JNUMBER,
    BH_JTRUE,
    BH_JFALSE,
    BH_JNULL,
    BH_JOBJECT, /* value is the raw JSON text of the object */
    BH_JARRAY   /* value is the raw JSON text of the array */
} bh_jtype;

typedef struct bh_field {
    char *key;        /* NUL-terminated */
    size_t key_len;
    char *value;      /* NUL-terminated; see above for what it holds */
    size_t value_len;
    bh_jtype type;
} bh_field;

typedef struct bh_msg bh_msg; /* opaque */

/* Default cap on the JSON text of a request. */
#define BH_MSG_MAX_REQUEST ((size_t)1024 * 1024)
/* Nested values deeper than this are refused even where nesting is allowed. */
#define BH_MSG_MAX_DEPTH 32

/* Parse options. */
#define BH_PARSE_ALLOW_NESTED 1u /* accept object/array values (kept as raw text) */

/* Parses one JSON object. Refuses, with a problem in `d`:
 *   - input over `max_bytes` (BH_ETOOBIG), checked before anything else;
 *   - invalid UTF-8 anywhere (BH_EUTF8), including escaped lone surrogates;
 *   - malformed JSON, trailing garbage, a top level that is not an object (BH_EJSON);
 *   - the same key twice (BH_EDUPKEY, naming the key);
 *   - an object or array value without BH_PARSE_ALLOW_NESTED (BH_ENESTED, naming the key);
 *   - a string containing U+0000 (BH_EFORMAT).
 * On success `*out` is a new message the caller frees with bh_msg_free(). */
bh_err bh_msg_parse(const char *json, size_t len, size_t max_bytes, unsigned flags,
                    bh_msg **out, bh_diag *d) BH_MUST_CHECK;

/* A new, empty message; NULL when out of memory. */
bh_msg *bh_msg_new(void);

/* A deep copy; NULL when out of memory. */
bh_msg *bh_msg_dup(const bh_msg *m);

void bh_msg_free(bh_msg *m);

size_t bh_msg_count(const bh_msg *m);

/* The i-th field in order, or NULL past the end. */
const bh_field *bh_msg_at(const bh_msg *m, size_t i);

/* The field named exactly `key`, or NULL. */
const bh_field *bh_msg_get(const bh_msg *m, const char *key);

/* bh_msg_get for a series of lookups: the search starts at field `*hint`
 * (wrapping round) and leaves `*hint` just after the field found, so names
 * looked up in the message's own order cost one comparison each (the
 * interface tables list fields in the order requests carry them). Start
 * `*hint` at 0; any value is safe. */
const bh_field *bh_msg_get_hinted(const bh_msg *m, const char *key, size_t *hint);

/* The first field whose name equals `key` ignoring ASCII case, or NULL (for
 * response fields such as Payurl/payurl). */
const bh_field *bh_msg_get_nocase(const bh_msg *m, const char *key);

/* A string or number field's value, or NULL when absent, null, or of another
 * kind. Convenience for code that only wants text. */
const char *bh_msg_text(const bh_msg *m, const char *key);

/* Sets `key` to a value of the given kind: replaces the value in place when the
 * key exists (keeping its position), appends otherwise. For BH_JNUMBER the
 * value must be a valid JSON number and for BH_JOBJECT/BH_JARRAY valid JSON of
 * that kind (BH_EJSON otherwise); for strings it must be valid UTF-8. */
bh_err bh_msg_set(bh_msg *m, const char *key, const char *value, size_t len, bh_jtype type)
    BH_MUST_CHECK;

/* bh_msg_set() with a NUL-terminated string value. */
bh_err bh_msg_set_str(bh_msg *m, const char *key, const char *value) BH_MUST_CHECK;

/* Removes `key` if present; returns 1 when something was removed. */
int bh_msg_remove(bh_msg *m, const char *key);

/* Output options. */
#define BH_JSON_PRETTY 1u /* two-space indentation, one field a line */

/* Appends the message as a JSON object to `out`. Strings are escaped
 * minimally (quote, backslash, control characters), non-ASCII is written as
 * UTF-8, numbers and nested values as their kept text. */
bh_err bh_msg_to_json(const bh_msg *m, unsigned flags, bh_buf *out) BH_MUST_CHECK;

/* The same as a new malloc'd string of at most `max` bytes (free it);
 * `*out` is NULL on error. */
bh_err bh_msg_to_json_str(const bh_msg *m, size_t max, char **out) BH_MUST_CHECK;

/* Appends `s` as a JSON string literal, quotes included. */
bh_err bh_json_quote(const char *s, size_t len, bh_buf *out) BH_MUST_CHECK;

/* Calls `fn` with the raw JSON text of each element of a JSON array, in order,
 * and stops at the first callback that does not return BH_OK, returning its
 * code. BH_EJSON (reported on `field`) when `json` is not a well-formed array;
 * the same UTF-8 and depth rules as bh_msg_parse() apply. */
typedef bh_err (*bh_json_element_fn)(const char *element, size_t len, void *ctx);
bh_err bh_json_array_each(const char *json, size_t len, bh_json_element_fn fn, void *ctx,
                          bh_diag *d, const char *field) BH_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
