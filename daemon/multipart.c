/* multipart/form-data parsing (see multipart.h). */
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "banned.h"

/* When the caller passes no limits. */
#define DEFAULT_MAX_PARTS 64
#define DEFAULT_MAX_PART ((size_t)16 * 1024 * 1024)
#define DEFAULT_MAX_HEADER ((size_t)8 * 1024)

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t';
}

/* Whether `n` bytes at `s` equal the lower-case ASCII `word`, ignoring case. */
static int equals_nocase(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != word[i])
            return 0;
    return 1;
}

/* RFC 2046 bchars: what a boundary may hold (a space, but not last). */
static int is_bchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

/* RFC 7230 tchar: what an unquoted parameter value may hold. */
static int is_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* One "; name=value" parameter list walker over [p, end). Returns 1 with the
 * next parameter's name and value (quotes removed) or 0 at the end; -1 when
 * the list is malformed. Quoted values run to the next '"' with no escapes:
 * that is what browsers send (they percent-encode '"', CR and LF in names
 * and file names, and do not escape backslashes). */
static int next_param(const char **p, const char *end, const char **name, size_t *name_len,
                      const char **value, size_t *value_len)
{
    const char *s = *p;
    while (s < end && is_space((unsigned char)*s))
        s++;
    if (s == end)
        return 0;
    if (*s != ';')
        return -1;
    s++;
    while (s < end && is_space((unsigned char)*s))
        s++;
    const char *n = s;
    while (s < end && is_tchar((unsigned char)*s))
        s++;
    if (s == n || s == end || *s != '=')
        return -1;
    *name = n;
    *name_len = (size_t)(s - n);
    s++;
    if (s < end && *s == '"') {
        const char *v = ++s;
        const char *q = memchr(s, '"', (size_t)(end - s));
        if (!q)
            return -1;
        *value = v;
        *value_len = (size_t)(q - v);
        s = q + 1;
    } else {
        const char *v = s;
        while (s < end && is_tchar((unsigned char)*s))
            s++;
        if (s == v)
            return -1;
        *value = v;
        *value_len = (size_t)(s - v);
    }
    *p = s;
    return 1;
}

/* The end of a media type (before parameters), after checking it is `type`. */
static const char *media_type(const char *ct, const char *end, const char *type)
{
    while (ct < end && is_space((unsigned char)*ct))
        ct++;
    const char *t = ct;
    while (ct < end && *ct != ';' && !is_space((unsigned char)*ct))
        ct++;
    return equals_nocase(t, (size_t)(ct - t), type) ? ct : NULL;
}

bh_err bh_multipart_boundary(const char *content_type, char out[BH_MP_BOUNDARY_MAX + 1], bh_diag *d)
{
    out[0] = '\0';
    if (!content_type)
        return bh_diag_add(d, BH_EFORMAT, "Content-Type", "not multipart/form-data");
    const char *end = content_type + strlen(content_type);
    const char *p = media_type(content_type, end, "multipart/form-data");
    if (!p)
        return bh_diag_add(d, BH_EFORMAT, "Content-Type", "not multipart/form-data");
    const char *name, *value;
    size_t name_len, value_len;
    int r;
    int found = 0;
    while ((r = next_param(&p, end, &name, &name_len, &value, &value_len)) == 1) {
        if (!equals_nocase(name, name_len, "boundary"))
            continue;
        if (found)
            return bh_diag_add(d, BH_EFORMAT, "Content-Type", "boundary given twice");
        if (value_len == 0 || value_len > BH_MP_BOUNDARY_MAX)
            return bh_diag_add(d, BH_EFORMAT, "Content-Type", "boundary must be 1 to %d characters",
                               BH_MP_BOUNDARY_MAX);
        for (size_t i = 0; i < value_len; i++)
            if (!is_bchar((unsigned char)value[i]))
                return bh_diag_add(d, BH_EFORMAT, "Content-Type",
                                   "boundary holds a character RFC 2046 does not allow");
        if (value[value_len - 1] == ' ')
            return bh_diag_add(d, BH_EFORMAT, "Content-Type", "boundary ends with a space");
        memcpy(out, value, value_len);
        out[value_len] = '\0';
        found = 1;
    }
    if (r < 0) {
        out[0] = '\0';
        return bh_diag_add(d, BH_EFORMAT, "Content-Type", "malformed parameters");
    }
    if (!found)
        return bh_diag_add(d, BH_EFORMAT, "Content-Type", "no boundary parameter");
    return BH_OK;
}

/* The first occurrence of `needle` (n bytes, n > 0) in [hay, hay + len), or NULL. */
static const char *find(const char *hay, size_t len, const char *needle, size_t n)
{
    const char *p = hay;
    const char *end = hay + len;
    while ((size_t)(end - p) >= n) {
        p = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
        p++;
    }
    return NULL;
}

static char *dup_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

static void part_release(bh_mp_part *part)
{
    free(part->name);
    free(part->filename);
    free(part->content_type);
    memset(part, 0, sizeof *part);
}

/* Reads a Content-Disposition value into the part. */
static bh_err parse_disposition(const char *v, const char *end, bh_mp_part *part, bh_diag *d)
{
    const char *p = media_type(v, end, "form-data");
    if (!p)
        return bh_diag_add(d, BH_EFORMAT, "body", "a part's Content-Disposition is not form-data");
    const char *name, *value;
    size_t name_len, value_len;
    int r;
    while ((r = next_param(&p, end, &name, &name_len, &value, &value_len)) == 1) {
        char **slot = NULL;
        if (equals_nocase(name, name_len, "name"))
            slot = &part->name;
        else if (equals_nocase(name, name_len, "filename"))
            slot = &part->filename;
        else
            continue; /* filename* and extensions: RFC 7578 §4.2 says ignore */
        if (*slot)
            return bh_diag_add(d, BH_EFORMAT, "body", "a Content-Disposition parameter twice");
        if (!(*slot = dup_n(value, value_len)))
            return BH_ENOMEM;
    }
    if (r < 0)
        return bh_diag_add(d, BH_EFORMAT, "body", "malformed Content-Disposition parameters");
    if (!part->name)
        return bh_diag_add(d, BH_EFORMAT, "body", "a part without a name");
    return BH_OK;
}

/* Parses a part's header block [h, end): CRLF-separated "Name: value" lines. */
static bh_err parse_headers(const char *h, const char *end, bh_mp_part *part, bh_diag *d)
{
    int seen_disposition = 0;
    while (h < end) {
        const char *eol = find(h, (size_t)(end - h), "\r\n", 2);
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(h, ':', (size_t)(line_end - h));
        if (!colon || colon == h)
            return bh_diag_add(d, BH_EFORMAT, "body", "a part header line without a name");
        for (const char *c = h; c < line_end; c++)
            if (*c == '\0' || *c == '\r' || *c == '\n')
                return bh_diag_add(d, BH_EFORMAT, "body", "a control character in part headers");
        for (const char *c = h; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                return bh_diag_add(d, BH_EFORMAT, "body", "a malformed part header name");
        const char *v = colon + 1;
        while (v < line_end && is_space((unsigned char)*v))
            v++;
        const char *v_end = line_end;
        while (v_end > v && is_space((unsigned char)v_end[-1]))
            v_end--;
        size_t name_len = (size_t)(colon - h);
        if (equals_nocase(h, name_len, "content-disposition")) {
            if (seen_disposition)
                return bh_diag_add(d, BH_EFORMAT, "body", "Content-Disposition twice in a part");
            seen_disposition = 1;
            bh_err err = parse_disposition(v, v_end, part, d);
            if (err)
                return err;
        } else if (equals_nocase(h, name_len, "content-type")) {
            if (part->content_type)
                return bh_diag_add(d, BH_EFORMAT, "body", "Content-Type twice in a part");
            if (!(part->content_type = dup_n(v, (size_t)(v_end - v))))
                return BH_ENOMEM;
        }
        /* Other headers (Content-Transfer-Encoding is deprecated by RFC 7578
         * and not sent by browsers) are ignored. */
        h = eol ? eol + 2 : end;
    }
    if (!seen_disposition)
        return bh_diag_add(d, BH_EFORMAT, "body", "a part without Content-Disposition");
    return BH_OK;
}

static bh_err add_part(bh_mp_form *form, size_t *cap, const bh_mp_part *part)
{
    if (form->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        bh_mp_part *np = realloc(form->parts, ncap * sizeof *np);
        if (!np)
            return BH_ENOMEM;
        form->parts = np;
        *cap = ncap;
    }
    form->parts[form->count++] = *part;
    return BH_OK;
}

static bh_err parse(const char *body, size_t len, const char *boundary, const bh_mp_limits *lim,
                    bh_mp_form *out, bh_diag *d)
{
    /* "\r\n--" + boundary: the delimiter as it appears after the first. */
    char delim[BH_MP_BOUNDARY_MAX + 5];
    size_t blen = strlen(boundary);
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen + 1);
    size_t dlen = blen + 4;

    const char *end = body + len;
    const char *p; /* at the "--" of the current delimiter */
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body;
    } else {
        const char *f = find(body, len, delim, dlen);
        if (!f)
            return bh_diag_add(d, BH_EFORMAT, "body", "no boundary delimiter in the body");
        p = f + 2;
    }
    size_t cap = 0;
    for (;;) {
        const char *q = p + dlen - 2;
        if (end - q >= 2 && q[0] == '-' && q[1] == '-')
            return BH_OK; /* close delimiter: the epilogue is ignored */
        while (q < end && is_space((unsigned char)*q))
            q++; /* transport padding */
        if (end - q < 2 || q[0] != '\r' || q[1] != '\n')
            return bh_diag_add(d, BH_EFORMAT, "body",
                               end - q < 2 ? "the closing boundary is missing"
                                           : "a boundary delimiter not followed by CRLF");
        q += 2;
        if (out->count == lim->max_parts)
            return bh_diag_add(d, BH_ETOOBIG, "body", "more than %zu parts", lim->max_parts);

        const char *content;
        const char *hend;
        if (end - q >= 2 && q[0] == '\r' && q[1] == '\n') {
            hend = q; /* no headers at all: refused below for lack of a name */
            content = q + 2;
        } else {
            /* Look no further than the cap (plus the blank line). */
            size_t avail = (size_t)(end - q);
            int capped = avail > lim->max_header + 4;
            hend = find(q, capped ? lim->max_header + 4 : avail, "\r\n\r\n", 4);
            if (!hend && capped)
                return bh_diag_add(d, BH_ETOOBIG, "body", "a part's headers are too long");
            if (!hend)
                return bh_diag_add(d, BH_EFORMAT, "body", "a part's headers do not end");
            content = hend + 4;
        }
        bh_mp_part part = {0};
        bh_err err = parse_headers(q, hend, &part, d);
        if (err) {
            part_release(&part);
            return err;
        }
        const char *next = find(content, (size_t)(end - content), delim, dlen);
        if (!next) {
            err = bh_diag_add(d, BH_EFORMAT, part.name, "the closing boundary is missing");
            part_release(&part);
            return err;
        }
        part.data = content;
        part.len = (size_t)(next - content);
        if (part.len > lim->max_part) {
            err = bh_diag_add(d, BH_ETOOBIG, part.name, "a part longer than %zu bytes",
                              lim->max_part);
            part_release(&part);
            return err;
        }
        if ((err = add_part(out, &cap, &part))) {
            part_release(&part);
            return err;
        }
        p = next + 2;
    }
}

bh_err bh_multipart_parse(const char *content_type, const char *body, size_t len,
                          const bh_mp_limits *limits, bh_mp_form *out, bh_diag *d)
{
    out->parts = NULL;
    out->count = 0;
    bh_mp_limits lim = {DEFAULT_MAX_PARTS, DEFAULT_MAX_PART, DEFAULT_MAX_HEADER};
    if (limits)
        lim = *limits;
    char boundary[BH_MP_BOUNDARY_MAX + 1];
    bh_err err = bh_multipart_boundary(content_type, boundary, d);
    if (err)
        return err;
    if (!body && len)
        return BH_EINVAL;
    err = parse(body ? body : "", len, boundary, &lim, out, d);
    if (err)
        bh_multipart_release(out);
    return err;
}

const bh_mp_part *bh_multipart_get(const bh_mp_form *form, const char *name)
{
    for (size_t i = 0; i < form->count; i++)
        if (strcmp(form->parts[i].name, name) == 0)
            return &form->parts[i];
    return NULL;
}

void bh_multipart_release(bh_mp_form *form)
{
    if (!form)
        return;
    for (size_t i = 0; i < form->count; i++)
        part_release(&form->parts[i]);
    free(form->parts);
    form->parts = NULL;
    form->count = 0;
}
