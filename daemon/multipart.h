/* multipart/form-data bodies (RFC 7578 on RFC 2046's multipart syntax), as
 * browsers send them for forms with file inputs.
 *
 * The parser works on a body already held in memory (the HTTP layer caps its
 * size) and copies nothing but the part headers it keeps: each part's `data`
 * points into the body. It is strict where leniency would let two parsers
 * disagree about what was sent: every delimiter must be preceded by CRLF
 * (except the first, which may open the body), be followed by CRLF or by
 * "--" (the close delimiter), and the close delimiter must be present. A
 * delimiter line followed by anything else is refused, as is a part without
 * a Content-Disposition of form-data with a name. */
#ifndef BAOHAN_DAEMON_MULTIPART_H
#define BAOHAN_DAEMON_MULTIPART_H

#include <stddef.h>

#include "baohan/baohan.h"

/* RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
#define BH_MP_BOUNDARY_MAX 70

typedef struct bh_mp_part {
    char *name;         /* Content-Disposition name, NUL-terminated (owned) */
    char *filename;     /* Content-Disposition filename (owned), NULL when absent */
    char *content_type; /* the part's Content-Type value (owned), NULL when absent */
    const char *data;   /* the part's bytes: points into the parsed body */
    size_t len;
} bh_mp_part;

typedef struct bh_mp_form {
    bh_mp_part *parts;
    size_t count;
} bh_mp_form;

typedef struct bh_mp_limits {
    size_t max_parts;  /* more parts than this: BH_ETOOBIG */
    size_t max_part;   /* a part's content longer than this: BH_ETOOBIG naming the part */
    size_t max_header; /* a part's header block longer than this: BH_ETOOBIG */
} bh_mp_limits;

/* Extracts the boundary parameter from a Content-Type value whose media type
 * is multipart/form-data (case-insensitive); the value may be a token or a
 * quoted string. Writes it NUL-terminated into `out`. BH_EFORMAT (in `d`,
 * field "Content-Type") for another media type, a missing, empty, overlong
 * or malformed boundary. */
bh_err bh_multipart_boundary(const char *content_type, char out[BH_MP_BOUNDARY_MAX + 1],
                             bh_diag *d) BH_MUST_CHECK;

/* Parses `len` bytes of `body` sent with `content_type`. On success `*out`
 * holds the parts in order (release with bh_multipart_release(); the parts'
 * data stay valid only as long as `body`). On failure `*out` is empty and the
 * problem is in `d`: BH_EFORMAT for malformed input (field "Content-Type" or
 * "body", or the part's name), BH_ETOOBIG past a limit, BH_ENOMEM. */
bh_err bh_multipart_parse(const char *content_type, const char *body, size_t len,
                          const bh_mp_limits *limits, bh_mp_form *out, bh_diag *d) BH_MUST_CHECK;

/* The first part named `name`, or NULL. */
const bh_mp_part *bh_multipart_get(const bh_mp_form *form, const char *name);

/* Frees the parts; the form is empty afterwards. NULL is fine. */
void bh_multipart_release(bh_mp_form *form);

#endif
