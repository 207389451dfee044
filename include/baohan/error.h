/* Error codes and diagnostics of libbaohan.
 *
 * Every fallible function returns a bh_err (BH_OK == 0 on success) and, where it
 * can say more, appends a problem to a caller-supplied bh_diag: the field it is
 * about and a message naming the rule that was broken. A bh_diag collects any
 * number of problems, so validation can report every failing field at once.
 *
 * Messages never contain secrets, keys or the values of confidential fields:
 * they name fields and rules, not contents. */
#ifndef BAOHAN_ERROR_H
#define BAOHAN_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BH_MUST_CHECK __attribute__((warn_unused_result))
#define BH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BH_MUST_CHECK
#define BH_PRINTF(f, a)
#endif

typedef enum bh_err {
    BH_OK = 0,
    BH_ENOMEM,     /* out of memory */
    BH_EINVAL,     /* invalid argument (a caller's mistake, not bad input) */
    BH_ETOOBIG,    /* input or output over its size limit */
    BH_EJSON,      /* malformed JSON */
    BH_EUTF8,      /* invalid UTF-8 */
    BH_EDUPKEY,    /* the same key twice in one object */
    BH_ENESTED,    /* an object or array where the interface has a plain value */
    BH_EMISSING,   /* a required field is absent, null or empty */
    BH_ETYPE,      /* a JSON value of the wrong kind (e.g. a boolean for a text) */
    BH_ETOOLONG,   /* a value longer than its field allows */
    BH_EFORMAT,    /* a value that breaks its field's format rule */
    BH_ERANGE,     /* a number out of range, or an overflow */
    BH_EHEX,       /* malformed hexadecimal */
    BH_EBASE64,    /* malformed Base64 */
    BH_EKEY,       /* an SM4 key that is neither 32 hex digits nor Base64 of 16 bytes */
    BH_EDECRYPT,   /* ciphertext that does not decrypt to valid UTF-8 */
    BH_ESIGN,      /* signature mismatch */
    BH_ECRYPTO,    /* the crypto library failed */
    BH_EIO,        /* reading or writing failed */
    BH_ENOTFOUND,  /* no such interface, field or entry */
    BH_ERR_COUNT_  /* not an error: the number of codes */
} bh_err;

/* A short English description of an error code; never NULL. */
const char *bh_strerror(bh_err err);

/* One problem: which field (may be "" when it concerns the whole input), the
 * error code, and a message naming the rule that was broken. */
typedef struct bh_problem {
    bh_err code;
    char *field;
    char *message;
} bh_problem;

/* A list of problems. Zero-initialise (BH_DIAG_INIT) before use; release with
 * bh_diag_release(). Adding never fails from the caller's point of view: on
 * out-of-memory the problem is counted in `dropped` instead. */
typedef struct bh_diag {
    bh_problem *items;
    size_t count;
    size_t cap;
    size_t dropped;
} bh_diag;

#define BH_DIAG_INIT {NULL, 0, 0, 0}

/* Appends a problem and returns `code`, so callers can write
 * `return bh_diag_add(d, BH_EFORMAT, "bzjamount", "more than two decimals");`.
 * `d` may be NULL (the problem is then discarded). `field` may be NULL. */
bh_err bh_diag_add(bh_diag *d, bh_err code, const char *field, const char *fmt, ...)
    BH_PRINTF(4, 5);
bh_err bh_diag_addv(bh_diag *d, bh_err code, const char *field, const char *fmt,
                    va_list ap) BH_PRINTF(4, 0);

/* The first problem's code, or BH_OK when there is none. */
bh_err bh_diag_first_code(const bh_diag *d);

/* Whether a problem about `field` (exact name) has been recorded; returns it or NULL. */
const bh_problem *bh_diag_find(const bh_diag *d, const char *field);

/* Frees every problem; the diag is empty and reusable afterwards. */
void bh_diag_release(bh_diag *d);

#ifdef __cplusplus
}
#endif
#endif
