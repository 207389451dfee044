/* File types by content, never by name: the uploads and proofs we accept. */
#ifndef BAOHAN_DAEMON_FILETYPE_H
#define BAOHAN_DAEMON_FILETYPE_H

#include <stddef.h>

/* "application/pdf", "image/jpeg" or "image/png" when the bytes start with
 * that format's signature; NULL for anything else. */
const char *bh_sniff_type(const void *data, size_t len);

/* The usual file extension for one of those types ("pdf", "jpg", "png"). */
const char *bh_type_extension(const char *content_type);

#endif
