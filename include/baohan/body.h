/* Request bodies as they arrive: a JSON object, or (some deployments) an
 * application/x-www-form-urlencoded body with one field requestData=<JSON>
 * (PROTOCOL.md §2). */
#ifndef BAOHAN_BODY_H
#define BAOHAN_BODY_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends the JSON text carried by a request body to `json`. With a
 * Content-Type of application/x-www-form-urlencoded (parameters ignored,
 * case-insensitive) the body must hold a `requestData` field, which is
 * percent-decoded ('+' is a space); other fields are ignored. A requestData
 * value that starts with a raw '{' was not encoded by its sender and is taken
 * as it is, up to the end of its JSON object. A body that starts with '{' is
 * the JSON itself whatever the Content-Type says, and so is any body with
 * another Content-Type (or none) — deployments send text/plain and worse.
 * Errors name the field "requestData": BH_EMISSING when absent, BH_EFORMAT
 * for a bad %-escape. */
bh_err bh_body_json(const char *content_type, const char *body, size_t len, bh_buf *json,
                    bh_diag *d) BH_MUST_CHECK;

/* Percent-decodes a form value ('+' is a space), appending to `out`.
 * BH_EFORMAT on '%' not followed by two hex digits. */
bh_err bh_form_decode(const char *text, size_t len, bh_buf *out) BH_MUST_CHECK;

/* Finds `name` in an application/x-www-form-urlencoded string and appends its
 * decoded value to `out`. BH_ENOTFOUND when absent. The first occurrence wins. */
bh_err bh_form_field(const char *form, size_t len, const char *name, bh_buf *out)
    BH_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
