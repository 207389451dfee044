/* The growable, capped, NUL-terminated buffer (see include/baohan/buf.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baohan/buf.h"
#include "baohan/gm.h"
#include "banned.h"

void bh_buf_init(bh_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

bh_err bh_buf_reserve(bh_buf *b, size_t extra)
{
    /* The last test keeps room for the NUL even when max is SIZE_MAX. */
    if (extra > b->max || b->len > b->max - extra || b->len + extra == SIZE_MAX)
        return BH_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return BH_OK;
    size_t limit = b->max == SIZE_MAX ? SIZE_MAX : b->max + 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > limit)
        cap = limit; /* never below need: need <= max + 1 */
    char *data = realloc(b->data, cap);
    if (!data)
        return BH_ENOMEM;
    b->data = data;
    b->cap = cap;
    return BH_OK;
}

bh_err bh_buf_add(bh_buf *b, const void *data, size_t len)
{
    /* Most appends fit in what is already allocated (cap never exceeds
     * max + 1): no need for the overflow-checked growth below. */
    if (len < b->cap - b->len) {
        if (len)
            memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return BH_OK;
    }
    bh_err err = bh_buf_reserve(b, len);
    if (err)
        return err;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return BH_OK;
}

bh_err bh_buf_addstr(bh_buf *b, const char *s)
{
    return bh_buf_add(b, s, strlen(s));
}

bh_err bh_buf_addch(bh_buf *b, char c)
{
    return bh_buf_add(b, &c, 1);
}

bh_err bh_buf_addf(bh_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return BH_EINVAL;
    if ((size_t)n < sizeof small)
        return bh_buf_add(b, small, (size_t)n);
    bh_err err = bh_buf_reserve(b, (size_t)n);
    if (err)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return BH_OK;
}

bh_err bh_buf_read_file(bh_buf *b, FILE *f)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        bh_err err = bh_buf_add(b, chunk, n);
        if (err)
            return err;
    }
    return ferror(f) ? BH_EIO : BH_OK;
}

void bh_buf_reset(bh_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void bh_buf_release(bh_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void bh_buf_wipe(bh_buf *b)
{
    if (b->data)
        bh_wipe(b->data, b->cap);
    bh_buf_release(b);
}

char *bh_buf_detach(bh_buf *b, size_t *len)
{
    char *data = b->data;
    if (!data)
        data = calloc(1, 1);
    if (len)
        *len = data ? b->len : 0;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}
