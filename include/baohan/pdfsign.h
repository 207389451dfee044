/* PDF signatures: an institution's signing identity, a detached CMS signature
 * appended to a PDF as an incremental update, and the check of such a
 * signature (docs/signing.md, docs/internals/pdfsign.md).
 *
 * Signing needs no PDF library: the input must be a single-revision PDF with
 * a classic cross-reference table (what cairo writes); anything else is
 * refused with a message saying what was not understood. The signature is a
 * /FT /Sig field whose widget sits on the first page, a /Type /Sig dictionary
 * with /SubFilter /adbe.pkcs7.detached over a /ByteRange covering the whole
 * file but the /Contents hex string, and a CMS SignedData (OpenSSL CMS) with
 * the signer's certificate, its chain and the signing time.
 *
 * Keys: RSA of at least 2048 bits and ECDSA P-256 (signed with SHA-256), and
 * SM2 (signed with SM3, the default distinguishing ID 1234567812345678). */
#ifndef BAOHAN_PDFSIGN_H
#define BAOHAN_PDFSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

typedef struct bh_signer bh_signer;

typedef enum bh_key_alg { BH_KEY_RSA, BH_KEY_EC, BH_KEY_SM2 } bh_key_alg;

/* Loads a signing identity from PEM files: the signer's certificate, its
 * private key (unencrypted PKCS#8 or traditional PEM) and, optionally
 * (chain_path NULL), the CA certificates above it. Refuses, naming the file
 * (field "cert", "key" or "chain") and the rule: a file that cannot be read
 * (BH_EIO), a key file that group or others may access (BH_EFORMAT: chmod
 * 600), a key type or size not listed above, a key that is not the
 * certificate's, a certificate not valid at `now` (BH_ERANGE). The key never
 * appears in a message. On success the caller frees `*out` with
 * bh_signer_free(). */
bh_err bh_signer_load(const char *cert_path, const char *key_path, const char *chain_path,
                      int64_t now, bh_signer **out, bh_diag *d) BH_MUST_CHECK;

void bh_signer_free(bh_signer *s);

/* The certificate's subject as one line ("CN=…, O=…"), for logs. Owned by
 * the signer. */
const char *bh_signer_subject(const bh_signer *s);

/* The key's algorithm. */
bh_key_alg bh_signer_alg(const bh_signer *s);

/* Where and how the signature shows. */
typedef struct bh_pdf_sig_opts {
    /* The widget's rectangle on the first page, in PDF points from the
     * bottom-left corner: x0, y0, x1, y1 (x0 < x1, y0 < y1). */
    double rect[4];
    /* The appearance stream's content (PDF graphics operators) drawn in the
     * rectangle's own coordinates (0 0 width height); NULL for none. It must
     * use no resources (no fonts or images): paths and colours only. */
    const char *appearance;
    size_t appearance_len;
    const char *reason;   /* /Reason, UTF-8; may be NULL */
    const char *location; /* /Location, UTF-8; may be NULL */
    int64_t signing_time; /* Unix seconds: /M and the CMS signing-time */
} bh_pdf_sig_opts;

/* Appends to `out` the PDF `pdf` (len bytes) followed by an incremental
 * update holding the signature. BH_EFORMAT (field "pdf") for a PDF the
 * module does not understand, BH_ERANGE (field "cert") when the signing
 * time is outside the certificate's validity, BH_ECRYPTO when OpenSSL
 * fails. On failure `out` is left as it was. */
bh_err bh_pdf_sign(const void *pdf, size_t len, const bh_signer *s, const bh_pdf_sig_opts *o,
                   bh_buf *out, bh_diag *d) BH_MUST_CHECK;

/* What a check found. Text fields are NUL-terminated, possibly empty. */
typedef struct bh_pdf_check {
    int found;        /* a signature (/ByteRange and /Contents) was found */
    int whole_file;   /* the byte range covers the whole file but /Contents */
    int intact;       /* the CMS signature verifies over the byte range */
    int chain_checked; /* a CA file was given */
    int trusted;       /* the signer's chain leads to a certificate of the CA file */
    int in_validity;   /* the signing time (if given) is within the signer's certificate's
                          validity */
    char signer[512];  /* the signer's subject */
    char issuer[512];  /* its issuer */
    char signing_time[32]; /* CMS signing-time in China Standard Time, "" if absent */
    char digest[16];       /* "SHA256", "SM3", … */
    char problem[512];     /* why it is not valid, "" when it is */
} bh_pdf_check;

/* Checks the last signature of `pdf`: found, covering the whole file,
 * intact, and, when ca_path is not NULL, trusted (chain to a certificate in
 * that PEM file). Returns BH_OK when the check ran (read the result in
 * `out`: valid means found && whole_file && intact && in_validity &&
 * (!chain_checked || trusted)); BH_EIO when the CA file cannot be read, BH_ENOMEM. */
bh_err bh_pdf_verify(const void *pdf, size_t len, const char *ca_path, bh_pdf_check *out,
                     bh_diag *d) BH_MUST_CHECK;

/* Whether a check result is a valid signature. */
int bh_pdf_check_valid(const bh_pdf_check *c);

/* ---- test material (baohan pki init) ---- */

/* File names written into the directory by bh_pki_init(). */
#define BH_PKI_CA_CERT "ca.pem"
#define BH_PKI_CA_KEY "ca.key"
#define BH_PKI_CERT "institution.pem"
#define BH_PKI_KEY "institution.key"
#define BH_PKI_CHAIN "chain.pem"

/* The longest institution name bh_pki_init takes, in characters: the CA's
 * O is the name and " TEST CA — NOT FOR PRODUCTION" (29 characters), and an
 * X.509 organisation name holds at most 64. */
#define BH_PKI_NAME_MAX 35

/* Creates `dir` and its parents (mode 0700) if missing and writes a test CA (self-signed,
 * "O=<name> TEST CA — NOT FOR PRODUCTION") and an institution certificate
 * it issued for `name` (document signing: digitalSignature and
 * nonRepudiation), both of `alg`, valid for ten years from `now`, with their
 * keys (mode 0600) and the chain. Refuses (BH_EDUPKEY) when any of the
 * files exists: test material is never overwritten; a name that is not
 * 1 to BH_PKI_NAME_MAX characters of UTF-8 (BH_EUTF8, BH_ETOOLONG). */
bh_err bh_pki_init(const char *dir, bh_key_alg alg, const char *name, int64_t now,
                   bh_diag *d) BH_MUST_CHECK;

#endif
