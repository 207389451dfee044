/* Validation, encryption and decryption driven by the interface tables (see
 * include/baohan/schema.h; the tables are in schema_tables.c). Messages name
 * the field and the rule, never the value: values may be confidential. */
#include <string.h>

#include "baohan/clock.h"
#include "baohan/codec.h"
#include "baohan/money.h"
#include "baohan/schema.h"
#include "banned.h"

const bh_iface *bh_iface_find(const char *name)
{
    for (size_t i = 0; i < bh_iface_count(); i++)
        if (strcmp(bh_iface_at(i)->name, name) == 0)
            return bh_iface_at(i);
    return NULL;
}

const bh_fspec *bh_fspec_find(const bh_fspec *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

static int is_empty(const bh_field *f)
{
    return !f || f->type == BH_JNULL || (f->type == BH_JSTRING && f->value_len == 0);
}

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return len > 0;
}

/* GB 32100-2015: 18 characters from a 31-symbol alphabet (no I, O, S, V, Z);
 * the last is a check character over the first 17. */
static int credit_code_valid(const char *s, size_t len)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    if (len != 18)
        return 0;
    int sum = 0, value[18];
    for (size_t i = 0; i < 18; i++) {
        /* Digits, most of a code, without the search. */
        if (s[i] >= '0' && s[i] <= '9') {
            value[i] = s[i] - '0';
            continue;
        }
        const char *at = s[i] ? strchr(alphabet, s[i]) : NULL;
        if (!at)
            return 0;
        value[i] = (int)(at - alphabet);
    }
    for (int i = 0; i < 17; i++)
        sum += value[i] * weights[i];
    return value[17] == (31 - sum % 31) % 31;
}

/* Whether `c` ends a URL's host: the path, query or fragment begins (or
 * the text ends). */
static int ends_host(char c)
{
    return c == '\0' || c == '/' || c == '?' || c == '#';
}

static int url_valid(const char *s, size_t len)
{
    size_t scheme;
    if (len >= 7 && strncmp(s, "http://", 7) == 0)
        scheme = 7;
    else if (len >= 8 && strncmp(s, "https://", 8) == 0)
        scheme = 8;
    else
        return 0;
    size_t host = 0;
    while (scheme + host < len && !ends_host(s[scheme + host]))
        host++;
    if (host == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return 0;
    return 1;
}

static int md5_valid(const char *s, size_t len)
{
    if (len != 32)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

/* Each element of a filelist: an object with a "fileurl" that is a URL. */
static bh_err check_file_entry(const char *element, size_t len, void *ctx)
{
    (void)ctx;
    bh_msg *entry = NULL;
    bh_err err = bh_msg_parse(element, len, len, 0, &entry, NULL);
    if (err) {
        bh_msg_free(entry);
        return BH_EFORMAT;
    }
    const char *url = bh_msg_text(entry, "fileurl");
    if (!url || !url_valid(url, strlen(url)))
        err = BH_EFORMAT;
    bh_msg_free(entry);
    return err;
}

static bh_err check_text(const bh_fspec *spec, const bh_field *f, bh_diag *d)
{
    size_t limit = spec->max_len ? spec->max_len : 1000;
    if (bh_utf8_length(f->value, f->value_len) > limit)
        return bh_diag_add(d, BH_ETOOLONG, spec->name, "longer than %zu characters", limit);
    return BH_OK;
}

bh_err bh_field_check(const bh_fspec *spec, const bh_field *f, bh_diag *d)
{
    const char *name = spec->name;
    const char *v = f->value;
    size_t n = f->value_len;

    if (spec->type == BH_T_OBJECT) {
        if (f->type != BH_JOBJECT)
            return bh_diag_add(d, BH_ETYPE, name, "must be a JSON object");
        return BH_OK;
    }
    if (f->type == BH_JOBJECT || f->type == BH_JARRAY)
        return bh_diag_add(d, BH_ENESTED, name, "must be a plain value, not a JSON %s",
                           f->type == BH_JOBJECT ? "object" : "array");
    if (f->type != BH_JSTRING && f->type != BH_JNUMBER)
        return bh_diag_add(d, BH_ETYPE, name, "must be a string, not %s", v);

    int64_t i64;
    bh_rate rate;
    switch (spec->type) {
    case BH_T_TEXT:
        return check_text(spec, f, d);
    case BH_T_MONEY:
        return bh_money_parse(v, n, &i64, d, name);
    case BH_T_RATE:
        return bh_rate_parse(v, n, &rate, d, name);
    case BH_T_DATETIME:
        return bh_time_parse(v, n, &i64, d, name);
    case BH_T_INT: {
        long long value = 0;
        if (!all_digits(v, n))
            return bh_diag_add(d, BH_EFORMAT, name, "must be a whole number of digits");
        for (size_t i = 0; i < n && value <= spec->max; i++)
            value = value * 10 + (v[i] - '0');
        if (value < spec->min || value > spec->max)
            return bh_diag_add(d, BH_ERANGE, name, "must be between %lld and %lld", spec->min,
                               spec->max);
        return BH_OK;
    }
    case BH_T_ENUM:
        for (const char *const *e = spec->enum_values; *e; e++)
            if (strcmp(*e, v) == 0)
                return BH_OK;
        {
            char allowed[128] = "";
            size_t used = 0;
            for (const char *const *e = spec->enum_values; *e && used < sizeof allowed; e++) {
                int w = snprintf(allowed + used, sizeof allowed - used, "%s\"%s\"",
                                 e == spec->enum_values ? "" : ", ", *e);
                used += w > 0 ? (size_t)w : 0;
            }
            return bh_diag_add(d, BH_EFORMAT, name, "must be one of %s", allowed);
        }
    case BH_T_URL:
        if (!url_valid(v, n))
            return bh_diag_add(d, BH_EFORMAT, name,
                               "must be an absolute http:// or https:// URL without control "
                               "characters");
        return check_text(spec, f, d);
    case BH_T_CREDITCODE:
        if (!credit_code_valid(v, n))
            return bh_diag_add(d, BH_EFORMAT, name,
                               "must be an 18-character unified social credit code with a "
                               "valid check character (GB 32100-2015)");
        return BH_OK;
    case BH_T_JSONARRAY: {
        size_t limit = spec->max_len ? spec->max_len : 65536;
        if (n > limit)
            return bh_diag_add(d, BH_ETOOLONG, name, "longer than %zu bytes", limit);
        if (bh_json_array_each(v, n, check_file_entry, NULL, NULL, name) != BH_OK)
            return bh_diag_add(d, BH_EFORMAT, name,
                               "must be a JSON array of objects like "
                               "[{\"fileurl\":\"https://…\"}], each fileurl an http(s) URL");
        return BH_OK;
    }
    case BH_T_MD5:
        if (!md5_valid(v, n))
            return bh_diag_add(d, BH_EFORMAT, name,
                               "must be 32 upper-case hexadecimal characters (an MD5)");
        return BH_OK;
    case BH_T_BASE64: {
        /* Checked, not decoded: a guarantee file is up to tens of MB. */
        size_t bytes = 0, max = spec->max_len ? spec->max_len : BH_BUF_MAX_DEFAULT;
        if (bh_base64_check(v, n, &bytes))
            return bh_diag_add(d, BH_EFORMAT, name, "must be standard Base64 with padding");
        if (bytes > max)
            return bh_diag_add(d, BH_ETOOLONG, name, "holds more than %zu bytes", max);
        return BH_OK;
    }
    case BH_T_DIVISION:
        if (n != 6 || !all_digits(v, n) || strcmp(v, "000000") == 0)
            return bh_diag_add(d, BH_EFORMAT, name,
                               "must be a 6-digit administrative division code (e.g. 350602)");
        return BH_OK;
    case BH_T_OBJECT:
        break;
    }
    return bh_diag_add(d, BH_EINVAL, name, "has no known type");
}

/* Looks a field up by its spec name: exactly in requests (from `*hint`, as
 * a table's specs mostly come in the message's order); ignoring case in
 * responses, whose field names deployments spell variously (Payurl, payurl). */
static const bh_field *lookup(const bh_msg *m, const char *name, int nocase, size_t *hint)
{
    return nocase ? bh_msg_get_nocase(m, name) : bh_msg_get_hinted(m, name, hint);
}

/* Checks every field of a table; a field is required when its flags share a
 * bit with `required` (BH_F_REQUIRED, plus BH_F_ON_SUCCESS in a successful
 * response, or nothing for a plaintext's envelope). */
static bh_err check_table(const bh_fspec *table, size_t n, const bh_msg *m, unsigned required,
                          int nocase, bh_diag *d)
{
    bh_err first = BH_OK;
    size_t hint = 0;
    for (size_t i = 0; i < n; i++) {
        const bh_fspec *spec = &table[i];
        const bh_field *f = lookup(m, spec->name, nocase, &hint);
        bh_err err = BH_OK;
        if (is_empty(f)) {
            if (spec->flags & required)
                err = bh_diag_add(d, BH_EMISSING, spec->name, "required (%s)", spec->label);
        } else {
            err = bh_field_check(spec, f, d);
        }
        if (err && !first)
            first = err;
    }
    return first;
}

/* Checks getbaohaninfo's data object against its table; problems are named
 * "data.<field>". */
static bh_err check_data(const bh_iface *iface, const bh_field *f, bh_diag *d)
{
    bh_msg *data = NULL;
    bh_diag inner = BH_DIAG_INIT;
    bh_err err = bh_msg_parse(f->value, f->value_len, f->value_len, 0, &data, &inner);
    if (!err)
        err = check_table(iface->data, iface->ndata, data, BH_F_REQUIRED, 1, &inner);
    for (size_t i = 0; i < inner.count; i++) {
        char field[96];
        snprintf(field, sizeof field, "data%s%s", inner.items[i].field[0] ? "." : "",
                 inner.items[i].field);
        bh_diag_add(d, inner.items[i].code, field, "%s", inner.items[i].message);
    }
    bh_diag_release(&inner);
    bh_msg_free(data);
    return err;
}

bh_err bh_validate(const bh_iface *iface, bh_part part, const bh_msg *m, bh_diag *d)
{
    bh_err first = BH_OK, err;

    if (part == BH_PART_RESPONSE) {
        const bh_field *code = bh_msg_get_nocase(m, "code");
        int success = code && !is_empty(code) && strcmp(code->value, "1") == 0;
        first = check_table(iface->response, iface->nresponse, m,
                            BH_F_REQUIRED | (success ? BH_F_ON_SUCCESS : 0u), 1, d);
        const bh_field *data = iface->data ? bh_msg_get_nocase(m, "data") : NULL;
        if (success && data && data->type == BH_JOBJECT) {
            err = check_data(iface, data, d);
            if (!first)
                first = err;
        }
        return first;
    }

    /* appkey, timestamp and sign: required on the wire, optional in a
     * plaintext about to be sealed (which fills or replaces them). */
    size_t ncommon;
    const bh_fspec *common = bh_common_fields(&ncommon);
    for (size_t i = 0; i < ncommon; i++) {
        if (part == BH_PART_PLAIN_REQUEST && strcmp(common[i].name, "sign") == 0)
            continue; /* a plaintext's sign is replaced when it is sealed */
        err = check_table(&common[i], 1, m, part == BH_PART_REQUEST ? BH_F_REQUIRED : 0u, 0, d);
        if (!first)
            first = err;
    }
    err = check_table(iface->request, iface->nrequest, m, BH_F_REQUIRED, 0, d);
    if (!first)
        first = err;

    /* Unknown fields are signed and otherwise ignored, but must still be plain. */
    for (size_t i = 0; i < bh_msg_count(m); i++) {
        const bh_field *f = bh_msg_at(m, i);
        if ((f->type == BH_JOBJECT || f->type == BH_JARRAY) &&
            !bh_fspec_find(iface->request, iface->nrequest, f->key)) {
            err = bh_diag_add(d, BH_ENESTED, f->key, "must be a plain value, not a JSON %s",
                              f->type == BH_JOBJECT ? "object" : "array");
            if (!first)
                first = err;
        }
    }
    return first;
}

bh_err bh_encrypt_fields(const bh_iface *iface, const bh_sm4_key *key, const bh_msg *plain,
                         bh_msg **out, bh_diag *d)
{
    *out = NULL;
    bh_msg *wire = bh_msg_dup(plain);
    if (!wire)
        return bh_diag_add(d, BH_ENOMEM, "", "out of memory");
    bh_buf cipher;
    bh_buf_init(&cipher, BH_BUF_MAX_DEFAULT);
    bh_sm4 *sm4 = NULL;
    bh_err first = bh_sm4_new(key, &sm4);
    if (first)
        bh_diag_add(d, first, "", "cannot set up SM4: %s", bh_strerror(first));
    size_t hint = 0;
    for (size_t i = 0; sm4 && i < iface->nrequest; i++) {
        const bh_fspec *spec = &iface->request[i];
        if (!(spec->flags & BH_F_ENCRYPTED))
            continue; /* before the lookup: most fields are plain */
        const bh_field *f = bh_msg_get_hinted(wire, spec->name, &hint);
        if (is_empty(f))
            continue;
        bh_err err;
        if (f->type != BH_JSTRING) {
            err = bh_diag_add(d, BH_ETYPE, spec->name,
                              "an encrypted (密文) field must be a JSON string");
        } else {
            bh_buf_reset(&cipher);
            err = bh_sm4_encrypt_field_with(sm4, f->value, f->value_len, &cipher);
            if (!err)
                err = bh_msg_set(wire, spec->name, cipher.data, cipher.len, BH_JSTRING);
            if (err)
                bh_diag_add(d, err, spec->name, "cannot encrypt: %s", bh_strerror(err));
        }
        if (err && !first)
            first = err;
    }
    bh_buf_release(&cipher);
    bh_sm4_free(sm4);
    if (first) {
        bh_msg_free(wire);
        return first;
    }
    *out = wire;
    return BH_OK;
}

bh_err bh_decrypt_fields(const bh_iface *iface, const bh_sm4_key *key, const bh_msg *wire,
                         bh_msg **out, bh_diag *d)
{
    *out = NULL;
    bh_msg *plain = bh_msg_dup(wire);
    if (!plain)
        return bh_diag_add(d, BH_ENOMEM, "", "out of memory");
    bh_buf text;
    bh_buf_init(&text, BH_MSG_MAX_REQUEST);
    /* One keyed cipher for every field of the message. */
    bh_sm4 *sm4 = NULL;
    bh_err first = bh_sm4_new(key, &sm4);
    if (first)
        bh_diag_add(d, first, "", "cannot set up SM4: %s", bh_strerror(first));
    size_t hint = 0;
    for (size_t i = 0; sm4 && i < iface->nrequest; i++) {
        const bh_fspec *spec = &iface->request[i];
        if (!(spec->flags & BH_F_ENCRYPTED))
            continue;
        const bh_field *f = bh_msg_get_hinted(plain, spec->name, &hint);
        if (is_empty(f))
            continue;
        bh_err err;
        if (f->type != BH_JSTRING) {
            err = bh_diag_add(d, BH_ETYPE, spec->name,
                              "an encrypted (密文) field must be a string of Base64 ciphertext");
        } else {
            bh_buf_reset(&text);
            err = bh_sm4_decrypt_field_with(sm4, f->value, f->value_len, &text);
            if (!err)
                err = bh_msg_set(plain, spec->name, text.data, text.len, BH_JSTRING);
            if (err == BH_EBASE64)
                bh_diag_add(d, err, spec->name, "encrypted (密文) field is not valid Base64");
            else if (err == BH_EUTF8)
                bh_diag_add(d, BH_EDECRYPT, spec->name,
                            "encrypted (密文) field decrypts to text that is not valid UTF-8 "
                            "(wrong SM4 key?)");
            else if (err == BH_EDECRYPT)
                bh_diag_add(d, err, spec->name,
                            "encrypted (密文) field cannot be decrypted with the agreed SM4 "
                            "key (wrong key, wrong length or bad padding)");
            else if (err)
                bh_diag_add(d, err, spec->name, "cannot decrypt: %s", bh_strerror(err));
            if (err == BH_EUTF8)
                err = BH_EDECRYPT;
        }
        if (err && !first)
            first = err;
    }
    bh_buf_wipe(&text);
    bh_sm4_free(sm4);
    if (first) {
        bh_msg_free(plain);
        return first;
    }
    *out = plain;
    return BH_OK;
}
