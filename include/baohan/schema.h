/* The seven interfaces as data.
 *
 * One table per interface lists every field of its request and response (and
 * of getbaohaninfo's `data` object): whether it is required, whether it
 * travels encrypted (密文), and its type with its limits. Validation,
 * encryption, decryption and the documentation are all driven from these
 * tables, so a field's rules live in exactly one place (lib/schema_tables.c). */
#ifndef BAOHAN_SCHEMA_H
#define BAOHAN_SCHEMA_H

#include <stddef.h>

#include "error.h"
#include "gm.h"
#include "msg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bh_ftype {
    BH_T_TEXT,        /* UTF-8 text, at most max_len characters */
    BH_T_MONEY,       /* yuan, at most two decimals (see money.h) */
    BH_T_RATE,        /* exact decimal rate 0..1 (see money.h) */
    BH_T_DATETIME,    /* "yyyy-MM-dd HH:mm:ss", CST (see clock.h) */
    BH_T_INT,         /* decimal integer between min and max */
    BH_T_ENUM,        /* one of enum_values */
    BH_T_URL,         /* absolute http:// or https:// URL, at most max_len characters */
    BH_T_CREDITCODE,  /* 18-character unified social credit code, check digit verified */
    BH_T_JSONARRAY,   /* a string holding a JSON array of {"fileurl": URL} objects */
    BH_T_MD5,         /* 32 upper-case hexadecimal characters */
    BH_T_BASE64,      /* standard Base64 of at most max_len decoded bytes */
    BH_T_OBJECT,      /* a nested JSON object checked against the interface's data table */
    BH_T_DIVISION     /* 6-digit administrative division code (GB/T 2260) */
} bh_ftype;

/* Field flags. */
#define BH_F_REQUIRED 1u       /* must be present and not null or "" */
#define BH_F_ENCRYPTED 2u      /* travels SM4-encrypted (密文) */
#define BH_F_ON_SUCCESS 4u     /* required in a response whose code is 1 */

typedef struct bh_fspec {
    const char *name;         /* wire name, exact case */
    bh_ftype type;
    unsigned flags;
    size_t max_len;           /* characters (TEXT, URL), bytes (BASE64); 0 = type default */
    long long min, max;       /* INT range */
    const char *const *enum_values; /* ENUM: NULL-terminated list */
    const char *label;        /* the specification's Chinese name, e.g. "业务流水号" */
} bh_fspec;

typedef enum bh_side { BH_SIDE_INSTITUTION, BH_SIDE_PLATFORM } bh_side;

typedef struct bh_iface {
    const char *name;         /* e.g. "baohanapply" */
    bh_side served_by;        /* who answers it */
    const char *title;        /* the specification's Chinese title */
    const bh_fspec *request;  /* business fields, without appkey/timestamp/sign */
    size_t nrequest;
    const bh_fspec *response; /* code, message and the interface's own fields */
    size_t nresponse;
    const bh_fspec *data;     /* getbaohaninfo's data object; NULL elsewhere */
    size_t ndata;
} bh_iface;

/* The common request fields every interface has: appkey, timestamp, sign. */
const bh_fspec *bh_common_fields(size_t *count);

/* The interfaces in specification order; bh_iface_find() is by exact name. */
size_t bh_iface_count(void);
const bh_iface *bh_iface_at(size_t i);
const bh_iface *bh_iface_find(const char *name);

/* A field's spec in a table, by exact name, or NULL. */
const bh_fspec *bh_fspec_find(const bh_fspec *table, size_t n, const char *name);

/* Checks one value against its spec (the value's JSON kind and text), adding a
 * problem naming the field and rule to `d`. Returns the first error or BH_OK. */
bh_err bh_field_check(const bh_fspec *spec, const bh_field *f, bh_diag *d) BH_MUST_CHECK;

/* What a validation covers. */
typedef enum bh_part {
    BH_PART_PLAIN_REQUEST,  /* a plaintext request before sealing: common fields optional */
    BH_PART_REQUEST,        /* a complete plaintext request: appkey, timestamp, sign required */
    BH_PART_RESPONSE        /* a response (data object checked when code is 1) */
} bh_part;

/* Validates a plaintext message against the interface: every required field
 * present, every known field of the right type and length. Every failing field
 * is reported (one problem each, field first). Unknown fields are accepted
 * (they are signed and otherwise ignored) provided they are plain values.
 * Returns BH_OK or the first problem's code. */
bh_err bh_validate(const bh_iface *iface, bh_part part, const bh_msg *m, bh_diag *d)
    BH_MUST_CHECK;

/* Encrypts the 密文 request fields of a plaintext message into a new message
 * (same order; fields that are absent, null or "" are left as they are).
 * Strings only: an encrypted field holding another kind is BH_ETYPE. */
bh_err bh_encrypt_fields(const bh_iface *iface, const bh_sm4_key *key, const bh_msg *plain,
                         bh_msg **out, bh_diag *d) BH_MUST_CHECK;

/* Decrypts the 密文 request fields of a received message into a new message.
 * Every field that fails (not a string, not Base64, wrong length, bad padding,
 * not UTF-8) is reported by name; on any failure nothing is returned. */
bh_err bh_decrypt_fields(const bh_iface *iface, const bh_sm4_key *key, const bh_msg *wire,
                         bh_msg **out, bh_diag *d) BH_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
