/* Writing HTML safely: a page is built by appending trusted markup (string
 * literals in the code) and untrusted text, which is always escaped.
 *
 * A bh_html writer is "sticky": the first failure (out of memory, over the
 * buffer's maximum) is kept in `err` and every later call does nothing, so a
 * page can be written as a straight sequence of calls and checked once. */
#ifndef BAOHAN_DAEMON_HTML_H
#define BAOHAN_DAEMON_HTML_H

#include <stddef.h>

#include "baohan/baohan.h"

typedef struct bh_html {
    bh_buf *out; /* where the page goes (not owned) */
    bh_err err;  /* the first failure, BH_OK so far */
} bh_html;

/* Appends `s` HTML-escaped to `out`: & < > " ' become entities, so the result
 * is safe both as element text and inside a quoted attribute value. Bytes
 * that are not valid UTF-8 are written as U+FFFD, and control characters
 * other than tab, LF and CR are dropped, so the page stays well-formed
 * UTF-8 whatever the input. */
bh_err bh_html_escape(const char *s, size_t len, bh_buf *out) BH_MUST_CHECK;

/* Trusted markup, appended as is. Never pass data from outside. */
void bh_html_raw(bh_html *h, const char *markup);
/* Trusted markup with printf formatting; arguments must be numbers or
 * trusted literals (use bh_html_text for anything else). */
void bh_html_rawf(bh_html *h, const char *fmt, ...) BH_PRINTF(2, 3);
/* Untrusted text, escaped. NULL writes nothing. */
void bh_html_text(bh_html *h, const char *text);
void bh_html_textn(bh_html *h, const char *text, size_t len);

/* "<!doctype html>…<body>" with the page's title (escaped), UTF-8, zh-CN and
 * the shared inline style sheet; bh_html_end closes body and html. */
void bh_html_begin(bh_html *h, const char *title);
void bh_html_end(bh_html *h);

#endif
