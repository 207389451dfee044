/* Messages: flat, ordered fields with their wire text kept (see
 * include/baohan/msg.h). */
#include <stdlib.h>
#include <string.h>

#include "baohan/codec.h"
#include "baohan/msg.h"
#include "json.h"
#include "banned.h"

/* No interface has more than about thirty fields. The cap bounds the
 * quadratic duplicate-key check against a hostile megabyte of tiny keys. */
#define MAX_FIELDS 512

/* A message's keys and values live in its own arena: a list of blocks
 * carved front to back and freed together with the message. A request is
 * parsed, read and freed whole, so per-field malloc/free was most of the
 * cost of a message (about 3 allocations a field); the arena makes it one
 * or two a message. A replaced or removed value stays in the arena until
 * the message is freed, which is bounded by MAX_FIELDS sets in practice. */
typedef struct block {
    struct block *next;
    size_t used, cap;
    char data[];
} block;

#define BLOCK_MIN 1024

struct bh_msg {
    bh_field *fields;
    size_t count;
    size_t cap;
    block *blocks; /* newest first: carving happens in the head only */
};

bh_msg *bh_msg_new(void)
{
    return calloc(1, sizeof(bh_msg));
}

void bh_msg_free(bh_msg *m)
{
    if (!m)
        return;
    for (block *b = m->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(m->fields);
    free(m);
}

/* Makes sure the head block has `need` free bytes, adding a block of at
 * least `hint` bytes when it has not. */
static bh_err arena_reserve(bh_msg *m, size_t need, size_t hint)
{
    block *b = m->blocks;
    if (b && b->cap - b->used >= need)
        return BH_OK;
    size_t cap = hint > need ? hint : need;
    if (cap < BLOCK_MIN)
        cap = BLOCK_MIN;
    if (cap > SIZE_MAX - sizeof(block))
        return BH_ENOMEM;
    block *fresh = malloc(sizeof(block) + cap);
    if (!fresh)
        return BH_ENOMEM;
    fresh->next = b;
    fresh->used = 0;
    fresh->cap = cap;
    m->blocks = fresh;
    return BH_OK;
}

/* A NUL-terminated copy of `len` bytes in the message's arena, or NULL. */
static char *arena_dup(bh_msg *m, const char *s, size_t len)
{
    if (len == SIZE_MAX || arena_reserve(m, len + 1, m->blocks ? m->blocks->cap * 2 : 0))
        return NULL;
    block *b = m->blocks;
    char *p = b->data + b->used;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

size_t bh_msg_count(const bh_msg *m)
{
    return m->count;
}

const bh_field *bh_msg_at(const bh_msg *m, size_t i)
{
    return i < m->count ? &m->fields[i] : NULL;
}

/* Whether field `f` is named `key`. Lookups are many (every spec of an
 * interface, every set) and keys of one length are common: the first byte
 * rules most out before memcmp. */
static int named(const bh_field *f, const char *key, size_t key_len)
{
    return f->key_len == key_len && (key_len == 0 || f->key[0] == key[0]) &&
           memcmp(f->key, key, key_len) == 0;
}

static bh_field *find(const bh_msg *m, const char *key, size_t key_len)
{
    for (size_t i = 0; i < m->count; i++)
        if (named(&m->fields[i], key, key_len))
            return &m->fields[i];
    return NULL;
}

const bh_field *bh_msg_get(const bh_msg *m, const char *key)
{
    return find(m, key, strlen(key));
}

const bh_field *bh_msg_get_hinted(const bh_msg *m, const char *key, size_t *hint)
{
    size_t key_len = strlen(key), n = m->count;
    size_t start = *hint < n ? *hint : 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = start + k < n ? start + k : start + k - n;
        if (named(&m->fields[i], key, key_len)) {
            *hint = i + 1;
            return &m->fields[i];
        }
    }
    return NULL;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int equal_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
            return 0;
    return *a == *b;
}

const bh_field *bh_msg_get_nocase(const bh_msg *m, const char *key)
{
    for (size_t i = 0; i < m->count; i++)
        if (equal_nocase(m->fields[i].key, key))
            return &m->fields[i];
    return NULL;
}

const char *bh_msg_text(const bh_msg *m, const char *key)
{
    const bh_field *f = bh_msg_get(m, key);
    if (!f || (f->type != BH_JSTRING && f->type != BH_JNUMBER))
        return NULL;
    return f->value;
}

/* Appends a field, copying key and value into the arena. */
static bh_err append(bh_msg *m, const char *key, size_t key_len, const char *value,
                     size_t value_len, bh_jtype type)
{
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        bh_field *fields = realloc(m->fields, cap * sizeof *fields);
        if (!fields)
            return BH_ENOMEM;
        m->fields = fields;
        m->cap = cap;
    }
    char *key_copy = arena_dup(m, key, key_len);
    char *value_copy = key_copy ? arena_dup(m, value, value_len) : NULL;
    if (!value_copy)
        return BH_ENOMEM;
    m->fields[m->count++] = (bh_field){key_copy, key_len, value_copy, value_len, type};
    return BH_OK;
}

/* Checks that `value` is acceptable text for a value of `type`. */
static bh_err check_value(const char *value, size_t len, bh_jtype type)
{
    switch (type) {
    case BH_JSTRING:
        return bh_utf8_valid(value, len) && !memchr(value, '\0', len) ? BH_OK : BH_EUTF8;
    case BH_JNUMBER:
        return bh__json_is_number(value, len) ? BH_OK : BH_EJSON;
    case BH_JTRUE:
    case BH_JFALSE:
    case BH_JNULL:
        return BH_OK;
    case BH_JOBJECT:
    case BH_JARRAY: {
        bh_msg *tmp = NULL;
        bh_err err = BH_OK;
        if (type == BH_JOBJECT) {
            err = bh_msg_parse(value, len, len, BH_PARSE_ALLOW_NESTED, &tmp, NULL);
            bh_msg_free(tmp);
        } else {
            bh__json j;
            bh_buf text;
            bh_jtype got;
            bh_buf_init(&text, len);
            err = bh__json_begin(&j, value, len, NULL, NULL);
            if (!err)
                err = bh__json_value(&j, &text, &got, BH_MSG_MAX_DEPTH, NULL);
            if (!err)
                err = bh__json_end(&j);
            if (!err && got != BH_JARRAY)
                err = BH_EJSON;
            bh_buf_release(&text);
        }
        return err ? BH_EJSON : BH_OK;
    }
    }
    return BH_EINVAL;
}

bh_err bh_msg_set(bh_msg *m, const char *key, const char *value, size_t len, bh_jtype type)
{
    static const char *const words[] = {
        [BH_JTRUE] = "true", [BH_JFALSE] = "false", [BH_JNULL] = "null"};
    if (type == BH_JTRUE || type == BH_JFALSE || type == BH_JNULL) {
        value = words[type];
        len = strlen(value);
    }
    size_t key_len = strlen(key);
    if (key_len == 0 || !bh_utf8_valid(key, key_len))
        return BH_EINVAL;
    bh_err err = check_value(value, len, type);
    if (err)
        return err;
    bh_field *f = find(m, key, key_len);
    if (f) {
        char *copy = arena_dup(m, value, len);
        if (!copy)
            return BH_ENOMEM;
        f->value = copy;
        f->value_len = len;
        f->type = type;
        return BH_OK;
    }
    if (m->count >= MAX_FIELDS)
        return BH_ETOOBIG;
    return append(m, key, key_len, value, len, type);
}

bh_err bh_msg_set_str(bh_msg *m, const char *key, const char *value)
{
    return bh_msg_set(m, key, value, strlen(value), BH_JSTRING);
}

int bh_msg_remove(bh_msg *m, const char *key)
{
    bh_field *f = find(m, key, strlen(key));
    if (!f)
        return 0;
    size_t i = (size_t)(f - m->fields);
    memmove(&m->fields[i], &m->fields[i + 1], (m->count - i - 1) * sizeof *f);
    m->count--;
    return 1;
}

bh_msg *bh_msg_dup(const bh_msg *m)
{
    bh_msg *copy = bh_msg_new();
    if (!copy)
        return NULL;
    size_t bytes = 0;
    for (size_t i = 0; i < m->count; i++)
        bytes += m->fields[i].key_len + m->fields[i].value_len + 2;
    if (arena_reserve(copy, bytes, bytes)) {
        bh_msg_free(copy);
        return NULL;
    }
    for (size_t i = 0; i < m->count; i++) {
        const bh_field *f = &m->fields[i];
        if (append(copy, f->key, f->key_len, f->value, f->value_len, f->type)) {
            bh_msg_free(copy);
            return NULL;
        }
    }
    return copy;
}

/* Parses the members of the top-level object into `m`. */
static bh_err parse_members(bh__json *j, bh_msg *m, unsigned flags, bh_buf *key, bh_buf *text)
{
    bh_err err;
    if ((err = bh__json_expect(j, '{', "expected '{' (a request is a JSON object)")))
        return err;
    bh__json_skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return bh__json_end(j);
    }
    for (;;) {
        bh_jtype type;
        bh__json_skip_ws(j);
        if (j->p >= j->end || *j->p != '"')
            return bh__json_syntax(j, "expected a string key");
        if ((err = bh__json_value(j, key, &type, 0, NULL)))
            return err;
        if (key->len == 0)
            return bh_diag_add(j->d, BH_EFORMAT, "", "a field name must not be empty");
        if ((err = bh__json_expect(j, ':', "expected ':' after a key")))
            return err;
        if (find(m, key->data, key->len))
            return bh_diag_add(j->d, BH_EDUPKEY, key->data, "field appears more than once");
        if (m->count >= MAX_FIELDS)
            return bh_diag_add(j->d, BH_ETOOBIG, "", "more than %d fields", MAX_FIELDS);
        bh__json_skip_ws(j);
        if (!(flags & BH_PARSE_ALLOW_NESTED) && j->p < j->end && (*j->p == '{' || *j->p == '['))
            return bh_diag_add(j->d, BH_ENESTED, key->data, "must be a plain value, not a JSON %s",
                               *j->p == '{' ? "object" : "array");
        /* A string without escapes (nearly every value) is taken straight
         * from the input: the reader would only copy it unchanged. */
        const char *value = j->p < j->end && *j->p == '"'
                                ? bh__json_plain_end(j->p + 1, j->end)
                                : NULL;
        size_t value_len;
        if (value && value < j->end && *value == '"') {
            value_len = (size_t)(value - (j->p + 1));
            value = j->p + 1;
            j->p += value_len + 2;
            type = BH_JSTRING;
        } else {
            if ((err = bh__json_value(j, text, &type, BH_MSG_MAX_DEPTH, key->data)))
                return err;
            value = text->data ? text->data : "";
            value_len = text->len;
        }
        if ((err = append(m, key->data, key->len, value, value_len, type)))
            return err;
        bh_buf_reset(key);
        bh_buf_reset(text);
        bh__json_skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return bh__json_end(j);
        }
        return bh__json_syntax(j, "expected ',' or '}'");
    }
}

bh_err bh_msg_parse(const char *json, size_t len, size_t max_bytes, unsigned flags, bh_msg **out,
                    bh_diag *d)
{
    *out = NULL;
    if (len > max_bytes)
        return bh_diag_add(d, BH_ETOOBIG, "", "message of %zu bytes is over the limit of %zu", len,
                           max_bytes);
    bh__json j;
    bh_err err = bh__json_begin(&j, json, len, d, "");
    if (err)
        return err;
    bh_msg *m = bh_msg_new();
    /* Unescaped keys and values are never longer than the text they come
     * from, so one block of the input's size (plus NULs) nearly always
     * holds them all. */
    if (!m || arena_reserve(m, 0, len + 2 * 64)) {
        bh_msg_free(m);
        return BH_ENOMEM;
    }
    bh_buf key, text;
    bh_buf_init(&key, len);
    bh_buf_init(&text, len);
    err = parse_members(&j, m, flags, &key, &text);
    bh_buf_release(&key);
    bh_buf_release(&text);
    if (err) {
        if (err == BH_ENOMEM)
            bh_diag_add(d, err, "", "out of memory while parsing");
        bh_msg_free(m);
        return err;
    }
    *out = m;
    return BH_OK;
}

bh_err bh_json_quote(const char *s, size_t len, bh_buf *out)
{
    /* Every byte is written at least once, between two quotes: room for
     * that at once, so the runs below rarely grow the buffer. */
    if (len > SIZE_MAX - 2)
        return BH_ETOOBIG;
    bh_err err = bh_buf_reserve(out, len + 2);
    if (!err)
        err = bh_buf_addch(out, '"');
    const char *p = s, *end = s + len;
    while (!err) {
        const char *q = bh__json_plain_end(p, end);
        if (q > p)
            err = bh_buf_add(out, p, (size_t)(q - p));
        if (err || q == end)
            break;
        unsigned char c = (unsigned char)*q;
        p = q + 1;
        switch (c) {
        case '"':
            err = bh_buf_addstr(out, "\\\"");
            break;
        case '\\':
            err = bh_buf_addstr(out, "\\\\");
            break;
        case '\n':
            err = bh_buf_addstr(out, "\\n");
            break;
        case '\r':
            err = bh_buf_addstr(out, "\\r");
            break;
        case '\t':
            err = bh_buf_addstr(out, "\\t");
            break;
        case '\b':
            err = bh_buf_addstr(out, "\\b");
            break;
        case '\f':
            err = bh_buf_addstr(out, "\\f");
            break;
        default:
            err = bh_buf_addf(out, "\\u%04x", c);
            break;
        }
    }
    if (!err)
        err = bh_buf_addch(out, '"');
    return err;
}

/* The length of bh_msg_to_json's output when no string needs an escape,
 * which escapes only lengthen: reserving it up front leaves the appends
 * below no reallocation to do, and never refuses what would have fit. */
static size_t json_length_floor(const bh_msg *m, int pretty)
{
    size_t n = 2; /* {} */
    for (size_t i = 0; i < m->count; i++) {
        const bh_field *f = &m->fields[i];
        n += f->key_len + 2 + (pretty ? 2 : 1) + f->value_len; /* "key": value */
        n += f->type == BH_JSTRING ? 2 : 0;
        n += (i > 0) + (pretty ? 3 : 0); /* , and \n plus two spaces */
    }
    return n + (pretty && m->count);
}

bh_err bh_msg_to_json(const bh_msg *m, unsigned flags, bh_buf *out)
{
    int pretty = (flags & BH_JSON_PRETTY) != 0;
    bh_err err = bh_buf_reserve(out, json_length_floor(m, pretty));
    if (!err)
        err = bh_buf_addch(out, '{');
    for (size_t i = 0; i < m->count && !err; i++) {
        const bh_field *f = &m->fields[i];
        if (i > 0)
            err = bh_buf_addch(out, ',');
        if (!err && pretty)
            err = bh_buf_addstr(out, "\n  ");
        if (!err)
            err = bh_json_quote(f->key, f->key_len, out);
        if (!err)
            err = bh_buf_addstr(out, pretty ? ": " : ":");
        if (!err)
            err = f->type == BH_JSTRING ? bh_json_quote(f->value, f->value_len, out)
                                        : bh_buf_add(out, f->value, f->value_len);
    }
    if (!err && pretty && m->count)
        err = bh_buf_addch(out, '\n');
    if (!err)
        err = bh_buf_addch(out, '}');
    return err;
}

bh_err bh_msg_to_json_str(const bh_msg *m, size_t max, char **out)
{
    bh_buf json;
    bh_buf_init(&json, max);
    bh_err err = bh_msg_to_json(m, 0, &json);
    *out = err ? NULL : bh_buf_detach(&json, NULL);
    if (!err && !*out)
        err = BH_ENOMEM;
    bh_buf_release(&json);
    return err;
}

bh_err bh_json_array_each(const char *json, size_t len, bh_json_element_fn fn, void *ctx,
                          bh_diag *d, const char *field)
{
    bh__json j;
    bh_err err = bh__json_begin(&j, json, len, d, field);
    if (err)
        return err;
    if ((err = bh__json_expect(&j, '[', "expected '[' (a JSON array)")))
        return err;
    bh_buf text;
    bh_buf_init(&text, len);
    bh__json_skip_ws(&j);
    if (j.p < j.end && *j.p == ']') {
        j.p++;
        err = bh__json_end(&j);
        goto out;
    }
    for (;;) {
        bh_jtype type;
        bh__json_skip_ws(&j);
        const char *element = j.p;
        if ((err = bh__json_value(&j, &text, &type, BH_MSG_MAX_DEPTH, field)))
            goto out;
        /* The callback gets the element's raw JSON text, whatever its kind. */
        err = fn(element, (size_t)(j.p - element), ctx);
        if (err)
            goto out;
        bh__json_skip_ws(&j);
        if (j.p < j.end && *j.p == ',') {
            j.p++;
            continue;
        }
        if (j.p < j.end && *j.p == ']') {
            j.p++;
            err = bh__json_end(&j);
            goto out;
        }
        err = bh__json_syntax(&j, "expected ',' or ']'");
        goto out;
    }
out:
    bh_buf_release(&text);
    return err;
}
