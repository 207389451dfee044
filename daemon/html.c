/* HTML escaping and the page frame (see html.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "banned.h"

/* The length of the UTF-8 sequence a lead byte announces, 0 for a byte that
 * cannot start one. */
static size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

bh_err bh_html_escape(const char *s, size_t len, bh_buf *out)
{
    size_t start = out->len;
    size_t run = 0; /* bytes at s[i - run .. i) still to copy as they are */
    bh_err err = BH_OK;
    size_t i = 0;
    while (i < len && !err) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        size_t n = 1;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                rep = "";
            } else if (c == 0x7F) {
                rep = "";
            } else if (c >= 0x80) {
                n = utf8_seq_len(c);
                if (n == 0 || n > len - i || !bh_utf8_valid(s + i, n)) {
                    rep = "\xEF\xBF\xBD"; /* U+FFFD: one per bad byte */
                    n = 1;
                }
            }
        }
        if (!rep) {
            run += n;
            i += n;
            continue;
        }
        if (run)
            err = bh_buf_add(out, s + i - run, run);
        if (!err)
            err = bh_buf_addstr(out, rep);
        run = 0;
        i += n;
    }
    if (!err && run)
        err = bh_buf_add(out, s + i - run, run);
    if (err) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return err;
}

void bh_html_raw(bh_html *h, const char *markup)
{
    if (!h->err)
        h->err = bh_buf_addstr(h->out, markup);
}

void bh_html_rawf(bh_html *h, const char *fmt, ...)
{
    if (h->err)
        return;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof small) {
        /* Markup fragments are short by construction; longer is a bug. */
        h->err = BH_EINVAL;
        return;
    }
    h->err = bh_buf_add(h->out, small, (size_t)n);
}

void bh_html_textn(bh_html *h, const char *text, size_t len)
{
    if (!h->err && text)
        h->err = bh_html_escape(text, len, h->out);
}

void bh_html_text(bh_html *h, const char *text)
{
    if (text)
        bh_html_textn(h, text, strlen(text));
}

/* Small, readable on a phone and on a desktop, printable; no external
 * resources (the Content-Security-Policy allows none). */
static const char STYLE[] =
    "body{font-family:system-ui,-apple-system,\"PingFang SC\",\"Microsoft YaHei\","
    "\"Noto Sans CJK SC\",sans-serif;margin:0;background:#f4f5f7;color:#222;line-height:1.6}"
    "main{max-width:46rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.4rem;margin:.5rem 0 1rem}"
    "h2{font-size:1.15rem;margin:0 0 .75rem}"
    "section{background:#fff;border:1px solid #dde;border-radius:6px;padding:1rem 1.25rem;"
    "margin:0 0 1rem}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #eee}"
    "th{width:9rem;color:#555;font-weight:normal;white-space:nowrap}"
    ".state{display:inline-block;padding:.1rem .6rem;border-radius:4px;background:#e8f0fe;"
    "color:#1a4fa0;font-weight:bold}"
    ".done{background:#e6f4ea;color:#17692f}"
    ".pay{border:2px solid #c0392b}"
    ".pay td{font-size:1.05rem}"
    ".amount{font-size:1.3rem;font-weight:bold;color:#c0392b}"
    ".warn{color:#c0392b}"
    ".field{margin:0 0 .9rem}"
    "label{display:block;font-weight:bold;margin:0 0 .2rem}"
    "input[type=text],input[type=email],input[type=tel]{width:100%;box-sizing:border-box;"
    "padding:.45rem;border:1px solid #aab;border-radius:4px;font-size:1rem}"
    ".invalid input{border-color:#c0392b;background:#fff6f5}"
    ".error{color:#c0392b;margin:.2rem 0 0}"
    ".hint{color:#666;font-size:.9rem;margin:.2rem 0 0}"
    ".errors{border:1px solid #c0392b;background:#fff6f5}"
    "button{font-size:1.05rem;padding:.5rem 1.5rem;border:0;border-radius:4px;"
    "background:#1a4fa0;color:#fff;cursor:pointer}"
    "summary{cursor:pointer;font-weight:bold}"
    "footer{color:#888;font-size:.85rem;text-align:center;padding:1rem}";

void bh_html_begin(bh_html *h, const char *title)
{
    bh_html_raw(h, "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
    bh_html_text(h, title);
    bh_html_raw(h, "</title>\n<style>");
    bh_html_raw(h, STYLE);
    bh_html_raw(h, "</style>\n</head>\n<body>\n<main>\n");
}

void bh_html_end(bh_html *h)
{
    bh_html_raw(h, "</main>\n</body>\n</html>\n");
}
