/* A growable byte buffer with a mandatory maximum size.
 *
 * Anything read from the network goes through a bh_buf whose `max` caps it, so
 * a hostile peer cannot make us allocate without bound. Growth is checked for
 * overflow. The contents are always NUL-terminated (the NUL is not counted in
 * `len` and not in `max`), so `data` can be used as a C string when the
 * contents hold no NUL. */
#ifndef BAOHAN_BUF_H
#define BAOHAN_BUF_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bh_buf {
    char *data;   /* NULL until the first byte is added, then NUL-terminated */
    size_t len;   /* bytes held, not counting the terminating NUL */
    size_t cap;   /* bytes allocated */
    size_t max;   /* the most `len` may ever reach */
} bh_buf;

/* Sizes used across the project. */
#define BH_BUF_MAX_DEFAULT ((size_t)64 * 1024 * 1024)

/* Initialises an empty buffer that will refuse to grow beyond `max` bytes. */
void bh_buf_init(bh_buf *b, size_t max);

/* Appends bytes. BH_ETOOBIG when the result would exceed `max` (the buffer is
 * then unchanged), BH_ENOMEM when allocation fails. */
bh_err bh_buf_add(bh_buf *b, const void *data, size_t len) BH_MUST_CHECK;
bh_err bh_buf_addstr(bh_buf *b, const char *s) BH_MUST_CHECK;
bh_err bh_buf_addch(bh_buf *b, char c) BH_MUST_CHECK;
bh_err bh_buf_addf(bh_buf *b, const char *fmt, ...) BH_PRINTF(2, 3) BH_MUST_CHECK;

/* Makes room for `extra` more bytes without changing the contents. */
bh_err bh_buf_reserve(bh_buf *b, size_t extra) BH_MUST_CHECK;

/* Appends everything readable from `f` until end of file. */
bh_err bh_buf_read_file(bh_buf *b, FILE *f) BH_MUST_CHECK;

/* Empties the buffer, keeping its allocation and maximum. */
void bh_buf_reset(bh_buf *b);

/* Frees the contents; the buffer is empty and reusable with the same maximum. */
void bh_buf_release(bh_buf *b);

/* Hands the contents to the caller (who frees them with free()) and empties the
 * buffer. Never NULL: an empty buffer yields an allocated "". Returns NULL only
 * when that allocation fails. `len` may be NULL. */
char *bh_buf_detach(bh_buf *b, size_t *len);

/* Overwrites the contents with zeros before freeing them: for secrets. */
void bh_buf_wipe(bh_buf *b);

#ifdef __cplusplus
}
#endif
#endif
