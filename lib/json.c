/* The strict JSON reader (see json.h). RFC 8259, with these refusals that
 * matter for signatures: invalid UTF-8 (including escaped lone surrogates),
 * raw control characters in strings, and U+0000 anywhere in a string, since a
 * value with an embedded NUL would sign differently in C and in Java. */
#include <string.h>

#include "baohan/codec.h"
#include "json.h"
#include "banned.h"

bh_err bh__json_syntax(bh__json *j, const char *what)
{
    if (j->p >= j->end)
        return bh_diag_add(j->d, BH_EJSON, j->field, "malformed JSON: %s, but the input ended",
                           what);
    return bh_diag_add(j->d, BH_EJSON, j->field, "malformed JSON at byte %zu: %s",
                       (size_t)(j->p - j->start), what);
}

bh_err bh__json_begin(bh__json *j, const char *text, size_t len, bh_diag *d, const char *field)
{
    j->start = j->p = text;
    j->end = text + len;
    j->d = d;
    j->field = field ? field : "";
    if (!bh_utf8_valid(text, len))
        return bh_diag_add(d, BH_EUTF8, j->field, "input is not valid UTF-8");
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        j->p += 3;
    return BH_OK;
}

void bh__json_skip_ws(bh__json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

bh_err bh__json_expect(bh__json *j, char c, const char *what)
{
    bh__json_skip_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return BH_OK;
    }
    return bh__json_syntax(j, what);
}

bh_err bh__json_end(bh__json *j)
{
    bh__json_skip_ws(j);
    if (j->p != j->end)
        return bh__json_syntax(j, "unexpected text after the end of the JSON value");
    return BH_OK;
}

/* Reads the 4 hex digits of a \u escape at p; -1 when malformed. */
static long read_u4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = bh_hex_digit((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static bh_err put_utf8(bh_buf *out, unsigned long cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return bh_buf_add(out, b, n);
}

/* Reads a string whose opening quote is at the cursor; unescapes it into
 * `out` when `out` is not NULL. The input is already known to be UTF-8. */
static bh_err read_string(bh__json *j, bh_buf *out, const char *key)
{
    bh_err err;
    j->p++; /* the opening quote */
    for (;;) {
        const char *run = j->p;
        j->p = bh__json_plain_end(j->p, j->end);
        if (out && j->p > run && (err = bh_buf_add(out, run, (size_t)(j->p - run))))
            return err;
        if (j->p >= j->end)
            return bh__json_syntax(j, "unterminated string");
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            return BH_OK;
        }
        if (c < 0x20)
            return bh__json_syntax(j, "control character in a string (must be escaped)");
        /* a backslash escape */
        if (j->end - j->p < 2)
            return bh__json_syntax(j, "unterminated escape");
        char e = j->p[1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            if (out && (err = bh_buf_addch(out, decoded[simple - "\"\\/bfnrt"])))
                return err;
            j->p += 2;
            continue;
        }
        if (e != 'u')
            return bh__json_syntax(j, "invalid escape in a string");
        long cp = read_u4(j->p + 2, j->end);
        if (cp < 0)
            return bh__json_syntax(j, "\\u must be followed by four hexadecimal digits");
        j->p += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return bh_diag_add(j->d, BH_EUTF8, key ? key : j->field,
                               "escaped lone low surrogate \\u%04lX in a string", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = (j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u')
                          ? read_u4(j->p + 2, j->end)
                          : -1;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return bh_diag_add(j->d, BH_EUTF8, key ? key : j->field,
                                   "escaped lone high surrogate \\u%04lX in a string", cp);
            j->p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp == 0)
            return bh_diag_add(j->d, BH_EFORMAT, key ? key : j->field,
                               "a string must not contain U+0000");
        if (out && (err = put_utf8(out, (unsigned long)cp)))
            return err;
    }
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the JSON number at s, or 0 when there is none. */
static size_t number_length(const char *s, const char *end)
{
    const char *p = s;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !is_digit(*p))
        return 0;
    if (*p == '0')
        p++;
    else
        while (p < end && is_digit(*p))
            p++;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p))
            return 0;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return 0;
        while (p < end && is_digit(*p))
            p++;
    }
    return (size_t)(p - s);
}

int bh__json_is_number(const char *s, size_t len)
{
    return len > 0 && number_length(s, s + len) == len;
}

static bh_err skip_value(bh__json *j, int depth, const char *key);

/* Validates an object or array at the cursor ('{' or '['), to `depth` levels. */
static bh_err skip_container(bh__json *j, int depth, const char *key)
{
    char close = *j->p == '{' ? '}' : ']';
    int is_object = close == '}';
    bh_err err;
    if (depth <= 0)
        return bh_diag_add(j->d, BH_ENESTED, key ? key : j->field,
                           "JSON nested deeper than %d levels", BH_MSG_MAX_DEPTH);
    j->p++;
    bh__json_skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return BH_OK;
    }
    for (;;) {
        if (is_object) {
            bh__json_skip_ws(j);
            if (j->p >= j->end || *j->p != '"')
                return bh__json_syntax(j, "expected a string key");
            if ((err = read_string(j, NULL, key)))
                return err;
            if ((err = bh__json_expect(j, ':', "expected ':' after a key")))
                return err;
        }
        if ((err = skip_value(j, depth - 1, key)))
            return err;
        bh__json_skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return BH_OK;
        }
        return bh__json_syntax(j, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int literal_at(const bh__json *j, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(j->end - j->p) >= n && memcmp(j->p, word, n) == 0;
}

static bh_err skip_value(bh__json *j, int depth, const char *key)
{
    bh__json_skip_ws(j);
    if (j->p >= j->end)
        return bh__json_syntax(j, "expected a value");
    switch (*j->p) {
    case '"':
        return read_string(j, NULL, key);
    case '{':
    case '[':
        return skip_container(j, depth, key);
    case 't':
    case 'f':
    case 'n': {
        const char *word = *j->p == 't' ? "true" : *j->p == 'f' ? "false" : "null";
        if (!literal_at(j, word))
            return bh__json_syntax(j, "invalid literal");
        j->p += strlen(word);
        return BH_OK;
    }
    default: {
        size_t n = number_length(j->p, j->end);
        if (n == 0)
            return bh__json_syntax(j, "expected a value");
        j->p += n;
        return BH_OK;
    }
    }
}

bh_err bh__json_value(bh__json *j, bh_buf *text, bh_jtype *type, int max_depth, const char *key)
{
    bh__json_skip_ws(j);
    bh_buf_reset(text);
    if (j->p >= j->end)
        return bh__json_syntax(j, "expected a value");
    const char *begin = j->p;
    bh_err err;
    switch (*begin) {
    case '"':
        *type = BH_JSTRING;
        if ((err = read_string(j, text, key)))
            return err;
        /* an empty string still gets an allocated "" */
        return bh_buf_add(text, "", 0);
    case '{':
        *type = BH_JOBJECT;
        break;
    case '[':
        *type = BH_JARRAY;
        break;
    case 't':
        *type = BH_JTRUE;
        break;
    case 'f':
        *type = BH_JFALSE;
        break;
    case 'n':
        *type = BH_JNULL;
        break;
    default:
        *type = BH_JNUMBER;
        break;
    }
    if ((err = skip_value(j, max_depth, key)))
        return err;
    return bh_buf_add(text, begin, (size_t)(j->p - begin));
}
