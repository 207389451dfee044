/* Error codes and the problem list (see include/baohan/error.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baohan/error.h"
#include "banned.h"

static const char *const messages[BH_ERR_COUNT_] = {
    [BH_OK] = "success",
    [BH_ENOMEM] = "out of memory",
    [BH_EINVAL] = "invalid argument",
    [BH_ETOOBIG] = "input too large",
    [BH_EJSON] = "malformed JSON",
    [BH_EUTF8] = "invalid UTF-8",
    [BH_EDUPKEY] = "duplicate key",
    [BH_ENESTED] = "nested value not allowed",
    [BH_EMISSING] = "required field missing",
    [BH_ETYPE] = "wrong type",
    [BH_ETOOLONG] = "value too long",
    [BH_EFORMAT] = "invalid format",
    [BH_ERANGE] = "value out of range",
    [BH_EHEX] = "malformed hexadecimal",
    [BH_EBASE64] = "malformed Base64",
    [BH_EKEY] = "invalid SM4 key",
    [BH_EDECRYPT] = "decryption failed",
    [BH_ESIGN] = "signature mismatch",
    [BH_ECRYPTO] = "cryptographic library failure",
    [BH_EIO] = "input/output error",
    [BH_ENOTFOUND] = "not found",
};

const char *bh_strerror(bh_err err)
{
    if ((unsigned)err < BH_ERR_COUNT_ && messages[err])
        return messages[err];
    return "unknown error";
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

bh_err bh_diag_addv(bh_diag *d, bh_err code, const char *field, const char *fmt, va_list ap)
{
    if (!d)
        return code;
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        bh_problem *items = realloc(d->items, cap * sizeof *items);
        if (!items) {
            d->dropped++;
            return code;
        }
        d->items = items;
        d->cap = cap;
    }
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    bh_problem *p = &d->items[d->count];
    p->code = code;
    p->field = dup_or_empty(field);
    p->message = strdup(text);
    if (!p->field || !p->message) {
        free(p->field);
        free(p->message);
        d->dropped++;
        return code;
    }
    d->count++;
    return code;
}

bh_err bh_diag_add(bh_diag *d, bh_err code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bh_diag_addv(d, code, field, fmt, ap);
    va_end(ap);
    return code;
}

bh_err bh_diag_first_code(const bh_diag *d)
{
    if (!d || d->count == 0)
        return d && d->dropped ? BH_ENOMEM : BH_OK;
    return d->items[0].code;
}

const bh_problem *bh_diag_find(const bh_diag *d, const char *field)
{
    if (!d)
        return NULL;
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->items[i].field, field) == 0)
            return &d->items[i];
    return NULL;
}

void bh_diag_release(bh_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].field);
        free(d->items[i].message);
    }
    free(d->items);
    d->items = NULL;
    d->count = d->cap = d->dropped = 0;
}
