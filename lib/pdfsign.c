/* PDF signatures (see include/baohan/pdfsign.h, docs/internals/pdfsign.md).
 *
 * Signing reads only what it must of the PDF — startxref, the classic xref
 * table, the trailer's /Size /Root /Info, the catalog and the first page —
 * and appends one incremental update: the signature dictionary, the field
 * (merged with its widget), the widget's appearance, the /AcroForm, and new
 * versions of the catalog and the page. The original bytes are never
 * changed, so a reader that ignores the update sees the document as cairo
 * wrote it.
 *
 * The /Contents placeholder is sized from a trial signature over nothing, so
 * any chain fits; the real signature (over the final byte range) is written
 * into it as hex, zero-padded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "baohan/clock.h"
#include "baohan/codec.h"
#include "baohan/pdfsign.h"
#include "banned.h"

struct bh_signer {
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) *chain;
    bh_key_alg alg;
    char subject[512];
    /* The room a signature needs in the file: a trial signature's size,
     * plus the few bytes an ECDSA/SM2 signature's DER or the time's
     * encoding varies by. Depends only on the signer, so made once. */
    size_t sig_max;
};

static bh_err cms_sign(const bh_signer *s, const unsigned char *data, size_t len, int64_t when,
                       unsigned char **der, size_t *der_len, bh_diag *d);

/* ---- the signing identity ---- */

/* A certificate name on one line, UTF-8 as is: "C = CN, O = …, CN = …". */
static void name_line(X509_NAME *n, char *out, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    out[0] = '\0';
    if (!b)
        return;
    X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    int k = BIO_read(b, out, (int)size - 1);
    out[k > 0 ? k : 0] = '\0';
    BIO_free(b);
}


static bh_err read_pem_certs(const char *path, const char *field, STACK_OF(X509) **out,
                             bh_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return bh_diag_add(d, BH_EIO, field, "cannot open %s", path);
    STACK_OF(X509) *certs = sk_X509_new_null();
    X509 *x;
    while (certs && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(certs, x)) {
            X509_free(x);
            break;
        }
    }
    fclose(f);
    ERR_clear_error();
    if (!certs || sk_X509_num(certs) == 0) {
        sk_X509_pop_free(certs, X509_free);
        return bh_diag_add(d, BH_EFORMAT, field, "%s holds no PEM certificate", path);
    }
    *out = certs;
    return BH_OK;
}

static bh_err key_alg(EVP_PKEY *key, bh_key_alg *alg, bh_diag *d)
{
    if (EVP_PKEY_is_a(key, "SM2")) {
        *alg = BH_KEY_SM2;
        return BH_OK;
    }
    if (EVP_PKEY_is_a(key, "RSA")) {
        if (EVP_PKEY_get_bits(key) < 2048)
            return bh_diag_add(d, BH_EFORMAT, "key", "an RSA key must have at least 2048 bits");
        *alg = BH_KEY_RSA;
        return BH_OK;
    }
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = "";
        size_t n = 0;
        if (!EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &n))
            group[0] = '\0';
        if (strcmp(group, "SM2") == 0) {
            *alg = BH_KEY_SM2;
            return BH_OK;
        }
        if (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)
            return bh_diag_add(d, BH_EFORMAT, "key",
                               "an ECDSA key must be on the P-256 curve (prime256v1)");
        *alg = BH_KEY_EC;
        return BH_OK;
    }
    return bh_diag_add(d, BH_EFORMAT, "key",
                       "the key must be RSA (2048 bits or more), ECDSA P-256 or SM2");
}

/* Whether the certificate is within its validity at `when`. */
static int valid_at(X509 *cert, int64_t when)
{
    time_t t = (time_t)when;
    return X509_cmp_time(X509_get0_notBefore(cert), &t) <= 0 &&
           X509_cmp_time(X509_get0_notAfter(cert), &t) >= 0;
}

bh_err bh_signer_load(const char *cert_path, const char *key_path, const char *chain_path,
                      int64_t now, bh_signer **out, bh_diag *d)
{
    *out = NULL;
    if (!cert_path || !key_path)
        return bh_diag_add(d, BH_EINVAL, "cert", "a certificate and a key are both needed");
    bh_signer *s = calloc(1, sizeof *s);
    if (!s)
        return BH_ENOMEM;
    STACK_OF(X509) *certs = NULL;
    bh_err err = read_pem_certs(cert_path, "cert", &certs, d);
    if (err)
        goto out;
    s->cert = sk_X509_shift(certs);
    sk_X509_pop_free(certs, X509_free);

    /* The key: owner-only, like the secrets in the configuration file. */
    struct stat st;
    FILE *f = fopen(key_path, "rb");
    if (!f) {
        err = bh_diag_add(d, BH_EIO, "key", "cannot open %s", key_path);
        goto out;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        err = bh_diag_add(d, BH_EIO, "key", "%s is not a regular file", key_path);
        goto out;
    }
    if (st.st_mode & 077) {
        fclose(f);
        err = bh_diag_add(d, BH_EFORMAT, "key",
                          "%s holds a private key but its permissions (%04o) let group or "
                          "others access it; run: chmod 600 %s",
                          key_path, (unsigned)(st.st_mode & 0777), key_path);
        goto out;
    }
    s->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    if (!s->key) {
        err = bh_diag_add(d, BH_EFORMAT, "key",
                          "%s holds no unencrypted PEM private key", key_path);
        goto out;
    }
    if ((err = key_alg(s->key, &s->alg, d)))
        goto out;
    if (X509_check_private_key(s->cert, s->key) != 1) {
        ERR_clear_error();
        err = bh_diag_add(d, BH_EFORMAT, "key", "the key in %s is not the key of the certificate %s",
                          key_path, cert_path);
        goto out;
    }
    if (!valid_at(s->cert, now)) {
        err = bh_diag_add(d, BH_ERANGE, "cert",
                          "the certificate in %s is not valid now (outside its notBefore and "
                          "notAfter)",
                          cert_path);
        goto out;
    }
    if (chain_path && *chain_path) {
        if ((err = read_pem_certs(chain_path, "chain", &s->chain, d)))
            goto out;
    } else if (!(s->chain = sk_X509_new_null())) {
        err = BH_ENOMEM;
        goto out;
    }
    name_line(X509_get_subject_name(s->cert), s->subject, sizeof s->subject);
    unsigned char *der = NULL;
    size_t der_len = 0;
    if ((err = cms_sign(s, (const unsigned char *)"", 0, now, &der, &der_len, d)))
        goto out;
    OPENSSL_free(der);
    s->sig_max = der_len + 256;
out:
    if (err) {
        bh_signer_free(s);
        return err;
    }
    *out = s;
    return BH_OK;
}

void bh_signer_free(bh_signer *s)
{
    if (!s)
        return;
    X509_free(s->cert);
    EVP_PKEY_free(s->key);
    sk_X509_pop_free(s->chain, X509_free);
    free(s);
}

const char *bh_signer_subject(const bh_signer *s)
{
    return s->subject;
}

bh_key_alg bh_signer_alg(const bh_signer *s)
{
    return s->alg;
}

/* ---- CMS ---- */

/* A detached CMS SignedData over `data`: the signer's certificate and the
 * chain, signed attributes content-type, message-digest and signing-time.
 * OpenSSL 3.0's CMS leaves the SignerInfo's signatureAlgorithm empty for an
 * SM2 key (its EC method has no CMS hook for SM2), which makes the result
 * unencodable; we name it ourselves (SM2-with-SM3, GM/T 0010) before the
 * signature is computed. *der is OPENSSL_malloc'd. */
static bh_err cms_sign(const bh_signer *s, const unsigned char *data, size_t len, int64_t when,
                       unsigned char **der, size_t *der_len, bh_diag *d)
{
    bh_err err = BH_ECRYPTO;
    const int flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
    ASN1_TIME *at = NULL;
    BIO *in = NULL;
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    if (!cms)
        goto out;
    for (int i = 0; i < sk_X509_num(s->chain); i++)
        if (!CMS_add1_cert(cms, sk_X509_value(s->chain, i)))
            goto out;
    const EVP_MD *md = s->alg == BH_KEY_SM2 ? EVP_sm3() : EVP_sha256();
    CMS_SignerInfo *si = CMS_add1_signer(cms, s->cert, s->key, md, flags);
    if (!si)
        goto out;
    if (s->alg == BH_KEY_SM2) {
        X509_ALGOR *sig_alg = NULL;
        CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sig_alg);
        if (!sig_alg || !X509_ALGOR_set0(sig_alg, OBJ_nid2obj(NID_SM2_with_SM3), V_ASN1_UNDEF, NULL))
            goto out;
    }
    at = ASN1_TIME_set(NULL, (time_t)when);
    if (!at || !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, at->type, at, -1))
        goto out;
    in = BIO_new_mem_buf(data, (int)len);
    if (!in || !CMS_final(cms, in, NULL, CMS_DETACHED | CMS_BINARY))
        goto out;
    int n = i2d_CMS_ContentInfo(cms, der);
    if (n <= 0)
        goto out;
    *der_len = (size_t)n;
    err = BH_OK;
out:
    if (err) {
        char why[256] = "";
        ERR_error_string_n(ERR_peek_last_error(), why, sizeof why);
        bh_diag_add(d, BH_ECRYPTO, "signature", "OpenSSL could not make the CMS signature: %s",
                    why);
    }
    ERR_clear_error();
    ASN1_TIME_free(at);
    BIO_free(in);
    CMS_ContentInfo_free(cms);
    return err;
}

/* ---- reading PDF syntax ---- */

typedef struct span {
    size_t at, end; /* [at, end) */
} span;

typedef struct pdf {
    const char *s;
    size_t n;
} pdf;

static int is_ws(int c)
{
    return c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32;
}

static int is_delim(int c)
{
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
           c == '}' || c == '/' || c == '%';
}

static int is_regular(int c)
{
    return !is_ws(c) && !is_delim(c);
}

/* Skips white space and comments. */
static size_t skip_ws(const pdf *p, size_t i)
{
    while (i < p->n) {
        if (is_ws((unsigned char)p->s[i])) {
            i++;
        } else if (p->s[i] == '%') {
            while (i < p->n && p->s[i] != '\n' && p->s[i] != '\r')
                i++;
        } else {
            break;
        }
    }
    return i;
}

/* The end of the object starting at i (after white space), or 0 when it is
 * malformed. A reference "n g R" counts as three objects here. */
static size_t skip_obj(const pdf *p, size_t i, int depth)
{
    if (depth > 64 || i >= p->n)
        return 0;
    char c = p->s[i];
    if (c == '(') {
        int nest = 0;
        for (; i < p->n; i++) {
            if (p->s[i] == '\\')
                i++;
            else if (p->s[i] == '(')
                nest++;
            else if (p->s[i] == ')' && --nest == 0)
                return i + 1;
        }
        return 0;
    }
    if (c == '<' && i + 1 < p->n && p->s[i + 1] == '<') {
        i += 2;
        for (;;) {
            i = skip_ws(p, i);
            if (i + 1 < p->n && p->s[i] == '>' && p->s[i + 1] == '>')
                return i + 2;
            size_t e = skip_obj(p, i, depth + 1);
            if (!e)
                return 0;
            i = e;
        }
    }
    if (c == '<') {
        const char *gt = memchr(p->s + i, '>', p->n - i);
        return gt ? (size_t)(gt - p->s) + 1 : 0;
    }
    if (c == '[') {
        i++;
        for (;;) {
            i = skip_ws(p, i);
            if (i < p->n && p->s[i] == ']')
                return i + 1;
            size_t e = skip_obj(p, i, depth + 1);
            if (!e)
                return 0;
            i = e;
        }
    }
    if (c == '/') {
        i++;
        while (i < p->n && is_regular((unsigned char)p->s[i]))
            i++;
        return i;
    }
    if (is_regular((unsigned char)c)) {
        while (i < p->n && is_regular((unsigned char)p->s[i]))
            i++;
        return i;
    }
    return 0;
}

/* Reads a non-negative integer token at i (after white space). */
static int read_uint(const pdf *p, size_t *i, size_t *value)
{
    size_t j = skip_ws(p, *i), v = 0, start = j;
    while (j < p->n && p->s[j] >= '0' && p->s[j] <= '9') {
        if (v > (SIZE_MAX - 9) / 10)
            return 0;
        v = v * 10 + (size_t)(p->s[j] - '0');
        j++;
    }
    if (j == start || (j < p->n && is_regular((unsigned char)p->s[j])))
        return 0;
    *value = v;
    *i = j;
    return 1;
}

/* Whether the keyword `kw` stands at i (after white space); moves past it. */
static int read_keyword(const pdf *p, size_t *i, const char *kw)
{
    size_t j = skip_ws(p, *i), n = strlen(kw);
    if (j + n > p->n || memcmp(p->s + j, kw, n) != 0 ||
        (j + n < p->n && is_regular((unsigned char)p->s[j + n])))
        return 0;
    *i = j + n;
    return 1;
}

/* An indirect reference "n g R" at i. */
static int read_ref(const pdf *p, size_t i, size_t *num, size_t *gen)
{
    return read_uint(p, &i, num) && read_uint(p, &i, gen) && read_keyword(p, &i, "R");
}

/* The value of /key at the top level of the dictionary at `dict`. */
static int dict_get(const pdf *p, size_t dict, const char *key, span *value)
{
    size_t i = skip_ws(p, dict), klen = strlen(key);
    if (i + 1 >= p->n || p->s[i] != '<' || p->s[i + 1] != '<')
        return 0;
    i += 2;
    for (;;) {
        i = skip_ws(p, i);
        if (i >= p->n || p->s[i] != '/')
            return 0;
        size_t kend = skip_obj(p, i, 0);
        if (!kend)
            return 0;
        size_t v = skip_ws(p, kend);
        size_t vend = skip_obj(p, v, 0);
        if (!vend)
            return 0;
        /* "n g R": three tokens, one value. */
        size_t j = v, num, gen;
        if (read_uint(p, &j, &num) && read_uint(p, &j, &gen) && read_keyword(p, &j, "R"))
            vend = j;
        if (kend - i - 1 == klen && memcmp(p->s + i + 1, key, klen) == 0) {
            value->at = v;
            value->end = vend;
            return 1;
        }
        i = vend;
    }
}

static int span_is(const pdf *p, span v, const char *text)
{
    size_t n = strlen(text);
    return v.end - v.at == n && memcmp(p->s + v.at, text, n) == 0;
}

/* The cross-reference table: offsets of objects in use, by number. */
typedef struct xref {
    size_t *offset; /* 0: free or absent */
    size_t size;
} xref;

#define PDF_OBJECTS_MAX 1000000

static bh_err refuse(bh_diag *d, const char *what)
{
    return bh_diag_add(d, BH_EFORMAT, "pdf", "cannot sign this PDF: %s", what);
}

/* startxref's value: the last "startxref" in the file's last kilobyte. */
static bh_err find_startxref(const pdf *p, size_t *at, bh_diag *d)
{
    size_t from = p->n > 1024 ? p->n - 1024 : 0;
    size_t found = SIZE_MAX;
    for (size_t i = from; i + 9 <= p->n; i++)
        if (memcmp(p->s + i, "startxref", 9) == 0)
            found = i;
    if (found == SIZE_MAX)
        return refuse(d, "no startxref at the end of the file");
    size_t i = found + 9;
    if (!read_uint(p, &i, at) || *at >= p->n)
        return refuse(d, "startxref does not point into the file");
    /* "%%EOF" is a comment to the tokenizer: compared as bytes. */
    while (i < p->n && is_ws((unsigned char)p->s[i]))
        i++;
    if (i + 5 > p->n || memcmp(p->s + i, "%%EOF", 5) != 0)
        return refuse(d, "no %%EOF after startxref");
    return BH_OK;
}

/* Reads the classic xref table at `at` and the trailer after it. */
static bh_err read_xref(const pdf *p, size_t at, xref *x, size_t *trailer, bh_diag *d)
{
    size_t i = at;
    if (!read_keyword(p, &i, "xref"))
        return refuse(d, "the cross-reference is not a classic xref table (a cross-reference "
                         "stream, PDF 1.5+, is not supported)");
    for (;;) {
        size_t j = i;
        if (read_keyword(p, &j, "trailer")) {
            *trailer = skip_ws(p, j);
            return BH_OK;
        }
        size_t first, count;
        if (!read_uint(p, &i, &first) || !read_uint(p, &i, &count))
            return refuse(d, "a malformed xref subsection header");
        if (first > PDF_OBJECTS_MAX || count > PDF_OBJECTS_MAX - first)
            return refuse(d, "too many objects");
        if (first + count > x->size) {
            size_t *grown = realloc(x->offset, (first + count) * sizeof *grown);
            if (!grown)
                return BH_ENOMEM;
            memset(grown + x->size, 0, (first + count - x->size) * sizeof *grown);
            x->offset = grown;
            x->size = first + count;
        }
        i = skip_ws(p, i);
        for (size_t k = 0; k < count; k++) {
            /* "oooooooooo ggggg n" and a two-byte end of line: 20 bytes. */
            if (i + 20 > p->n || p->s[i + 10] != ' ' || p->s[i + 16] != ' ' ||
                (p->s[i + 17] != 'n' && p->s[i + 17] != 'f'))
                return refuse(d, "a malformed xref entry");
            size_t off = 0;
            for (int c = 0; c < 10; c++) {
                char ch = p->s[i + c];
                if (ch < '0' || ch > '9')
                    return refuse(d, "a malformed xref entry");
                off = off * 10 + (size_t)(ch - '0');
            }
            if (p->s[i + 17] == 'n') {
                if (off >= p->n)
                    return refuse(d, "an xref entry points outside the file");
                x->offset[first + k] = off;
            }
            i += 20;
        }
    }
}

/* The dictionary of object `num` (generation 0): where its "<<" starts. */
static bh_err object_dict(const pdf *p, const xref *x, size_t num, const char *what,
                          size_t *dict, bh_diag *d)
{
    if (num == 0 || num >= x->size || !x->offset[num])
        return bh_diag_add(d, BH_EFORMAT, "pdf", "cannot sign this PDF: the %s (object %zu) "
                                                 "is not in the xref table",
                           what, num);
    size_t i = x->offset[num], n, g;
    if (!read_uint(p, &i, &n) || !read_uint(p, &i, &g) || !read_keyword(p, &i, "obj") ||
        n != num || g != 0)
        return bh_diag_add(d, BH_EFORMAT, "pdf",
                           "cannot sign this PDF: the xref entry of the %s (object %zu) does "
                           "not point at \"%zu 0 obj\"",
                           what, num, num);
    i = skip_ws(p, i);
    size_t end = skip_obj(p, i, 0);
    if (i + 1 >= p->n || p->s[i] != '<' || p->s[i + 1] != '<' || !end)
        return bh_diag_add(d, BH_EFORMAT, "pdf",
                           "cannot sign this PDF: the %s (object %zu) is not a dictionary", what,
                           num);
    *dict = i;
    return BH_OK;
}

static int get_ref(const pdf *p, size_t dict, const char *key, size_t *num)
{
    span v;
    size_t gen;
    return dict_get(p, dict, key, &v) && read_ref(p, v.at, num, &gen) && gen == 0;
}

/* What the update needs to know of the original. */
typedef struct plan {
    size_t startxref, size, root, info, page;
    span id; /* the trailer's /ID value, empty when it has none */
    size_t root_dict, page_dict; /* where their "<<" start */
} plan;

static bh_err read_plan(const pdf *p, plan *pl, bh_diag *d)
{
    xref x = {NULL, 0};
    size_t trailer = 0;
    span v;
    bh_err err = find_startxref(p, &pl->startxref, d);
    if (!err)
        err = read_xref(p, pl->startxref, &x, &trailer, d);
    if (err)
        goto out;
    if (dict_get(p, trailer, "Prev", &v) || dict_get(p, trailer, "XRefStm", &v)) {
        err = refuse(d, "it already has incremental updates (/Prev or /XRefStm in the trailer)");
        goto out;
    }
    if (dict_get(p, trailer, "Encrypt", &v)) {
        err = refuse(d, "it is encrypted");
        goto out;
    }
    size_t i;
    if (!dict_get(p, trailer, "Size", &v) || (i = v.at, !read_uint(p, &i, &pl->size)) ||
        pl->size < 1 || pl->size > PDF_OBJECTS_MAX) {
        err = refuse(d, "the trailer has no valid /Size");
        goto out;
    }
    if (!get_ref(p, trailer, "Root", &pl->root)) {
        err = refuse(d, "the trailer has no /Root reference");
        goto out;
    }
    if (!get_ref(p, trailer, "Info", &pl->info))
        pl->info = 0;
    /* An update's trailer repeats the previous one's entries (PDF 32000
     * 7.5.6); of those a cairo-like file may have, only /ID is not ours. */
    if (!dict_get(p, trailer, "ID", &pl->id))
        pl->id.at = pl->id.end = 0;
    if ((err = object_dict(p, &x, pl->root, "catalog", &pl->root_dict, d)))
        goto out;
    if (!dict_get(p, pl->root_dict, "Type", &v) || !span_is(p, v, "/Catalog")) {
        err = refuse(d, "the trailer's /Root is not a /Type /Catalog");
        goto out;
    }
    if (dict_get(p, pl->root_dict, "AcroForm", &v)) {
        err = refuse(d, "the catalog already has an /AcroForm");
        goto out;
    }
    /* Down the page tree to the first page. */
    size_t node;
    if (!get_ref(p, pl->root_dict, "Pages", &node)) {
        err = refuse(d, "the catalog has no /Pages reference");
        goto out;
    }
    for (int depth = 0;; depth++) {
        size_t dict;
        if (depth > 32) {
            err = refuse(d, "the page tree is too deep");
            goto out;
        }
        if ((err = object_dict(p, &x, node, "page tree node", &dict, d)))
            goto out;
        if (!dict_get(p, dict, "Type", &v)) {
            err = refuse(d, "a page tree node has no /Type");
            goto out;
        }
        if (span_is(p, v, "/Page")) {
            pl->page = node;
            pl->page_dict = dict;
            break;
        }
        size_t k;
        if (!span_is(p, v, "/Pages") || !dict_get(p, dict, "Kids", &v) || p->s[v.at] != '[' ||
            (k = v.at + 1, !read_ref(p, k, &node, &(size_t){0}))) {
            err = refuse(d, "a page tree node is neither /Page nor /Pages with /Kids");
            goto out;
        }
    }
    if (dict_get(p, pl->page_dict, "Annots", &v)) {
        err = refuse(d, "the first page already has /Annots");
        goto out;
    }
out:
    free(x.offset);
    return err;
}

/* ---- writing ---- */

/* A UTF-8 text as a PDF text string: <FEFF…> in UTF-16BE. */
static bh_err text_string(bh_buf *b, const char *s)
{
    bh_err err = bh_buf_addstr(b, "<FEFF");
    const unsigned char *u = (const unsigned char *)s;
    while (!err && *u) {
        uint32_t cp;
        int n = *u < 0x80 ? 1 : *u < 0xe0 ? 2 : *u < 0xf0 ? 3 : 4;
        cp = n == 1 ? *u : n == 2 ? (*u & 0x1fu) : n == 3 ? (*u & 0x0fu) : (*u & 0x07u);
        for (int k = 1; k < n; k++) {
            if ((u[k] & 0xc0) != 0x80)
                return BH_EUTF8;
            cp = (cp << 6) | (u[k] & 0x3fu);
        }
        u += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            err = bh_buf_addf(b, "%04X%04X", 0xd800u + (cp >> 10), 0xdc00u + (cp & 0x3ffu));
        } else {
            err = bh_buf_addf(b, "%04X", cp);
        }
    }
    return err ? err : bh_buf_addch(b, '>');
}

/* "D:20261128154210+08'00'" in China Standard Time. */
static void pdf_date(int64_t when, char out[32])
{
    char t[BH_TIME_TEXT_LEN + 1];
    bh_time_format(when, t);
    snprintf(out, 32, "D:%.4s%.2s%.2s%.2s%.2s%.2s+08'00'", t, t + 5, t + 8, t + 11, t + 14,
             t + 17);
}

/* A dictionary as it was, with `extra` inserted before its closing ">>". */
static bh_err rewrite_dict(bh_buf *b, const pdf *p, size_t num, size_t dict, const char *extra)
{
    size_t end = skip_obj(p, dict, 0); /* just after ">>" */
    bh_err err = bh_buf_addf(b, "%zu 0 obj\n", num);
    if (!err)
        err = bh_buf_add(b, p->s + dict, end - 2 - dict);
    if (!err)
        err = bh_buf_addf(b, "\n%s>>\nendobj\n", extra);
    return err;
}

#define BR_WIDTH 10 /* digits of each /ByteRange number, space-padded */

typedef struct layout {
    size_t byterange; /* where the four placeholder numbers start */
    size_t contents;  /* the '<' of /Contents */
    size_t contents_end; /* just after its '>' */
} layout;

/* Appends the update for a signature of at most `sig_max` DER bytes; the
 * file starts at b->data + base (offsets in the xref count from there). */
static bh_err write_update(bh_buf *b, size_t base, const pdf *p, const plan *pl,
                           const bh_pdf_sig_opts *o, size_t sig_max, layout *lay)
{
    size_t sig = pl->size, widget = pl->size + 1, ap = pl->size + 2, form = pl->size + 3;
    size_t off[6], num[6] = {sig, widget, ap, form, pl->root, pl->page};
    char date[32], extra[96];
    pdf_date(o->signing_time, date);
    double w = o->rect[2] - o->rect[0], h = o->rect[3] - o->rect[1];
    bh_err err = BH_OK;
    if (b->len == base || b->data[b->len - 1] != '\n')
        err = bh_buf_addch(b, '\n');

    off[0] = b->len - base;
    if (!err)
        err = bh_buf_addf(b,
                          "%zu 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite "
                          "/SubFilter /adbe.pkcs7.detached\n/ByteRange [0 ",
                          sig);
    lay->byterange = b->len;
    for (int k = 0; !err && k < 3; k++)
        err = bh_buf_addf(b, "%*s%s", BR_WIDTH, "", k < 2 ? " " : "]\n/Contents ");
    lay->contents = b->len;
    if (!err)
        err = bh_buf_addch(b, '<');
    for (size_t k = 0; !err && k < 2 * sig_max; k++)
        err = bh_buf_addch(b, '0');
    if (!err)
        err = bh_buf_addch(b, '>');
    lay->contents_end = b->len;
    if (!err)
        err = bh_buf_addf(b, "\n/M (%s)", date);
    if (!err && o->reason) {
        err = bh_buf_addstr(b, "\n/Reason ");
        if (!err)
            err = text_string(b, o->reason);
    }
    if (!err && o->location) {
        err = bh_buf_addstr(b, "\n/Location ");
        if (!err)
            err = text_string(b, o->location);
    }
    if (!err)
        err = bh_buf_addstr(b, "\n>>\nendobj\n");

    off[1] = b->len - base;
    if (!err)
        err = bh_buf_addf(b,
                          "%zu 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) "
                          "/V %zu 0 R /F 132 /P %zu 0 R\n/Rect [%.3f %.3f %.3f %.3f] "
                          "/AP << /N %zu 0 R >> >>\nendobj\n",
                          widget, sig, pl->page, o->rect[0], o->rect[1], o->rect[2], o->rect[3],
                          ap);
    off[2] = b->len - base;
    size_t ap_len = o->appearance ? o->appearance_len : 0;
    if (!err)
        err = bh_buf_addf(b,
                          "%zu 0 obj\n<< /Type /XObject /Subtype /Form /BBox [0 0 %.3f %.3f] "
                          "/Resources << >> /Length %zu >>\nstream\n",
                          ap, w, h, ap_len);
    if (!err && ap_len)
        err = bh_buf_add(b, o->appearance, ap_len);
    if (!err)
        err = bh_buf_addstr(b, "\nendstream\nendobj\n");
    off[3] = b->len - base;
    if (!err)
        err = bh_buf_addf(b, "%zu 0 obj\n<< /Fields [%zu 0 R] /SigFlags 3 >>\nendobj\n", form,
                          widget);
    off[4] = b->len - base;
    snprintf(extra, sizeof extra, "/AcroForm %zu 0 R\n", form);
    if (!err)
        err = rewrite_dict(b, p, pl->root, pl->root_dict, extra);
    off[5] = b->len - base;
    snprintf(extra, sizeof extra, "/Annots [%zu 0 R]\n", widget);
    if (!err)
        err = rewrite_dict(b, p, pl->page, pl->page_dict, extra);

    /* The xref section: the free head, then each object in number order. */
    size_t xref_at = b->len - base;
    if (!err)
        err = bh_buf_addstr(b, "xref\n0 1\n0000000000 65535 f\r\n");
    for (int done = 0; !err && done < 6; done++) {
        int best = -1;
        for (int k = 0; k < 6; k++)
            if (num[k] && (best < 0 || num[k] < num[best]))
                best = k;
        err = bh_buf_addf(b, "%zu 1\n%010zu 00000 n\r\n", num[best], off[best]);
        num[best] = 0;
    }
    if (!err)
        err = bh_buf_addf(b, "trailer\n<< /Size %zu /Root %zu 0 R", form + 1, pl->root);
    if (!err && pl->info)
        err = bh_buf_addf(b, " /Info %zu 0 R", pl->info);
    if (!err && pl->id.end > pl->id.at) {
        err = bh_buf_addstr(b, " /ID ");
        if (!err)
            err = bh_buf_add(b, p->s + pl->id.at, pl->id.end - pl->id.at);
    }
    if (!err)
        err = bh_buf_addf(b, " /Prev %zu >>\nstartxref\n%zu\n%%%%EOF\n", pl->startxref, xref_at);
    return err;
}


bh_err bh_pdf_sign(const void *data, size_t len, const bh_signer *s, const bh_pdf_sig_opts *o,
                   bh_buf *out, bh_diag *d)
{
    if (!data || !s || !o || !out)
        return bh_diag_add(d, BH_EINVAL, "", "no PDF, signer, options or output given");
    if (!(o->rect[0] < o->rect[2] && o->rect[1] < o->rect[3]))
        return bh_diag_add(d, BH_EINVAL, "rect", "the widget rectangle is empty");
    /* A signature made outside the certificate's validity is worthless: a
     * daemon running past its certificate's expiry must stop issuing. */
    if (!valid_at(s->cert, o->signing_time))
        return bh_diag_add(d, BH_ERANGE, "cert",
                           "the signing certificate is not valid at the signing time (expired "
                           "or not yet valid): renew it and restart");
    pdf p = {data, len};
    if (len < 8 || memcmp(data, "%PDF-1.", 7) != 0)
        return refuse(d, "it does not start with %PDF-1.");
    plan pl;
    bh_err err = read_plan(&p, &pl, d);
    if (err)
        return err;

    unsigned char *der = NULL;
    size_t der_len = 0, sig_max = s->sig_max;

    size_t start = out->len;
    layout lay;
    err = bh_buf_add(out, data, len);
    if (!err)
        err = write_update(out, start, &p, &pl, o, sig_max, &lay);
    if (err)
        goto fail;

    /* The byte range, then the signature over it. */
    char *f = out->data + start;
    size_t total = out->len - start;
    size_t a = lay.contents - start, b = lay.contents_end - start;
    size_t nums[3] = {a, b, total - b};
    for (int k = 0; k < 3; k++) {
        char tmp[BR_WIDTH + 1];
        int n = snprintf(tmp, sizeof tmp, "%zu", nums[k]);
        if (n < 0 || n > BR_WIDTH) {
            err = bh_diag_add(d, BH_ETOOBIG, "pdf", "the signed file would be too large");
            goto fail;
        }
        memcpy(out->data + lay.byterange + (size_t)k * (BR_WIDTH + 1), tmp, (size_t)n);
    }
    unsigned char *signed_bytes = malloc(a + (total - b) + 1);
    if (!signed_bytes) {
        err = BH_ENOMEM;
        goto fail;
    }
    memcpy(signed_bytes, f, a);
    memcpy(signed_bytes + a, f + b, total - b);
    err = cms_sign(s, signed_bytes, a + (total - b), o->signing_time, &der, &der_len, d);
    free(signed_bytes);
    if (err)
        goto fail;
    if (der_len > sig_max) {
        OPENSSL_free(der);
        err = bh_diag_add(d, BH_ECRYPTO, "signature", "the signature outgrew its placeholder");
        goto fail;
    }
    /* bh_hex_encode_to ends with a NUL where the placeholder's zeros go on. */
    bh_hex_encode_to(der, der_len, 1, f + a + 1);
    f[a + 1 + 2 * der_len] = '0';
    OPENSSL_free(der);
    return BH_OK;
fail:
    if (out->len > start) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return err;
}

/* ---- checking ---- */

int bh_pdf_check_valid(const bh_pdf_check *c)
{
    return c->found && c->whole_file && c->intact && c->in_validity &&
           (!c->chain_checked || c->trusted);
}


/* The CMS signing-time as text into `out` and as Unix seconds into *when;
 * 0 when the signature has none. */
static int signing_time(CMS_SignerInfo *si, char out[32], int64_t *when)
{
    out[0] = '\0';
    int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
    X509_ATTRIBUTE *attr = idx >= 0 ? CMS_signed_get_attr(si, idx) : NULL;
    ASN1_TYPE *t = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
    if (!t || (t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME))
        return 0;
    /* Seconds since the epoch, counted by OpenSSL: the host's zone plays no
     * part. */
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, secs = 0;
    int ok = epoch && ASN1_TIME_diff(&days, &secs, epoch, (const ASN1_TIME *)t->value.asn1_string);
    ASN1_TIME_free(epoch);
    if (!ok)
        return 0;
    int64_t at = (int64_t)days * 86400 + secs;
    char text[BH_TIME_TEXT_LEN + 1];
    bh_time_format(at, text);
    snprintf(out, 32, "%s +08:00", text);
    *when = at;
    return 1;
}

static void problem(bh_pdf_check *c, const char *what)
{
    if (!c->problem[0])
        snprintf(c->problem, sizeof c->problem, "%s", what);
}

/* What CMS_verify lets pass although a byte of the signature was changed:
 * the zero padding after the DER and the signatureAlgorithm (OpenSSL takes
 * the algorithm from the key); the embedded certificates are certs_changed's.
 * A changed byte of a signed guarantee must never leave it valid, so each is
 * checked: NULL when none was changed, else why. */
static const char *cms_tampered(CMS_ContentInfo *cms, CMS_SignerInfo *si, X509 *signer,
                                const unsigned char *der, size_t used, size_t total)
{
    for (size_t k = used; k < total; k++)
        if (der[k])
            return "bytes after the CMS signature in /Contents were changed (not zeros)";
    (void)cms;
    const char *why = NULL;
    X509_ALGOR *dig = NULL, *sig = NULL;
    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
    EVP_PKEY *key = signer ? X509_get0_pubkey(signer) : NULL;
    int sig_nid = sig ? OBJ_obj2nid(sig->algorithm) : NID_undef, md = NID_undef, pk = NID_undef;
    if (!why && key && dig) {
        char oid[64] = "";
        if (sig)
            OBJ_obj2txt(oid, sizeof oid, sig->algorithm, 1);
        if (!OBJ_find_sigid_algs(sig_nid, &md, &pk))
            pk = sig_nid; /* a key algorithm alone, e.g. rsaEncryption */
        /* GM/T 0010's SM2 signature (sm2-1), which OpenSSL has no name for,
         * is what Chinese CAs' tools write. */
        if (strcmp(oid, "1.2.156.10197.1.301.1") == 0)
            pk = NID_sm2;
        int key_fits = pk != NID_undef &&
                       (EVP_PKEY_is_a(key, OBJ_nid2sn(pk)) ||
                        (pk == NID_sm2 && EVP_PKEY_is_a(key, "EC")) ||
                        (pk == NID_rsassaPss && EVP_PKEY_is_a(key, "RSA")));
        if (!key_fits || (md != NID_undef && md != OBJ_obj2nid(dig->algorithm)))
            why = "the signature algorithm does not match the signer's key and digest";
    }
    ERR_clear_error();
    return why;
}

/* Whether `by` names itself the issuer of `x`: by name, or by key
 * identifier (x's authority key ID is by's subject key ID). */
static int claims_issuer(X509 *by, X509 *x)
{
    if (X509_NAME_cmp(X509_get_subject_name(by), X509_get_issuer_name(x)) == 0)
        return 1;
    const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);
    const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(by);
    return akid && skid && ASN1_OCTET_STRING_cmp(akid, skid) == 0;
}

/* No signature covers the certificates embedded in a CMS signature, and
 * CMS_verify checks the chain with the CA file's copy of the root, or not at
 * all. So each embedded certificate must verify under the key of one that
 * names itself its issuer — embedded, itself (a root), or trusted from the
 * CA file — by name or by key identifier: a byte changed in any of them,
 * names and identifiers included, then shows. One no certificate claims
 * (an intermediate whose issuer is left out) passes without a CA file, and
 * with one must verify under some trusted or embedded key. NULL when none
 * was changed, else why. */
static const char *certs_changed(CMS_ContentInfo *cms, X509_STORE *store)
{
    STACK_OF(X509) *certs = CMS_get1_certs(cms);
    STACK_OF(X509_OBJECT) *objs = store ? X509_STORE_get0_objects(store) : NULL;
    int n = sk_X509_num(certs), ntrusted = objs ? sk_X509_OBJECT_num(objs) : 0;
    const char *why = NULL;
    for (int i = 0; !why && i < n; i++) {
        X509 *x = sk_X509_value(certs, i);
        int claimed = 0, signed_by = 0;
        for (int j = 0; !signed_by && j < n + ntrusted; j++) {
            X509 *by = j < n ? sk_X509_value(certs, j)
                             : X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, j - n));
            if (!by || (!claims_issuer(by, x) && !store))
                continue;
            claimed |= claims_issuer(by, x);
            signed_by = X509_verify(x, X509_get0_pubkey(by)) == 1;
        }
        if (!signed_by && (claimed || store))
            why = "a certificate in the signature was changed (no issuer's signature on it "
                  "verifies)";
    }
    sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
    return why;
}

/* The signed bytes as CMS_verify's content. Not a memory BIO itself:
 * OpenSSL 3.0's CMS_verify copies a memory BIO and leaks the copy when the
 * SignedData names a digest it does not know, which anyone can upload; a
 * null filter in front makes it read ours. Free with BIO_free_all(). */
static BIO *content_bio(const unsigned char *content, size_t len)
{
    BIO *mem = BIO_new_mem_buf(content, (int)len), *null = BIO_new(BIO_f_null());
    if (!mem || !null) {
        BIO_free(mem);
        BIO_free(null);
        return NULL;
    }
    return BIO_push(null, mem);
}

/* Finds the last /ByteRange and its /Contents hole. */
static int find_signature(const pdf *p, size_t r[4], bh_pdf_check *c)
{
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + 10 <= p->n; i++)
        if (p->s[i] == '/' && memcmp(p->s + i, "/ByteRange", 10) == 0)
            at = i;
    if (at == SIZE_MAX) {
        problem(c, "no signature (/ByteRange) in the file");
        return 0;
    }
    size_t i = skip_ws(p, at + 10);
    if (i >= p->n || p->s[i] != '[') {
        problem(c, "a malformed /ByteRange");
        return 0;
    }
    i++;
    for (int k = 0; k < 4; k++) {
        if (!read_uint(p, &i, &r[k])) {
            problem(c, "a malformed /ByteRange");
            return 0;
        }
    }
    i = skip_ws(p, i);
    if (i >= p->n || p->s[i] != ']') {
        problem(c, "/ByteRange must hold exactly four numbers");
        return 0;
    }
    return 1;
}

bh_err bh_pdf_verify(const void *data, size_t len, const char *ca_path, bh_pdf_check *c,
                     bh_diag *d)
{
    memset(c, 0, sizeof *c);
    pdf p = {data, len};
    size_t r[4];
    bh_err err = BH_OK;
    unsigned char *der = NULL, *content = NULL;
    CMS_ContentInfo *cms = NULL;
    X509_STORE *store = NULL;
    STACK_OF(X509) *signers = NULL;
    BIO *in = NULL;

    if (!find_signature(&p, r, c))
        goto out;
    /* The hole must be exactly one hex string, and the ranges must not
     * overflow or overlap. */
    if (r[0] != 0 || r[1] >= len || r[2] <= r[1] + 1 || r[2] > len || r[3] > len - r[2]) {
        problem(c, "the /ByteRange does not fit the file");
        goto out;
    }
    if (p.s[r[1]] != '<' || p.s[r[2] - 1] != '>') {
        problem(c, "the /ByteRange's gap is not the /Contents hex string");
        goto out;
    }
    c->found = 1;
    c->whole_file = r[2] + r[3] == len;
    if (!c->whole_file)
        problem(c, "the signature does not cover the whole file: bytes were added after signing");
    size_t hex_len = r[2] - r[1] - 2;
    if (hex_len % 2) {
        problem(c, "the /Contents hex string has an odd length");
        goto out;
    }
    der = malloc(hex_len / 2 + 1);
    content = malloc(r[1] + r[3] + 1);
    if (!der || !content) {
        err = BH_ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < hex_len / 2; k++) {
        int hi = bh_hex_digit((unsigned char)p.s[r[1] + 1 + 2 * k]);
        int lo = bh_hex_digit((unsigned char)p.s[r[1] + 2 + 2 * k]);
        if (hi < 0 || lo < 0) {
            problem(c, "/Contents is not a hex string");
            goto out;
        }
        der[k] = (unsigned char)(hi << 4 | lo);
    }
    const unsigned char *q = der;
    cms = d2i_CMS_ContentInfo(NULL, &q, (long)(hex_len / 2));
    if (!cms || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
        problem(c, "/Contents is not a CMS SignedData");
        goto out;
    }
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    if (!sis || sk_CMS_SignerInfo_num(sis) != 1) {
        problem(c, "the CMS signature must have exactly one signer");
        goto out;
    }
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
    X509_ALGOR *dig = NULL;
    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
    if (dig)
        snprintf(c->digest, sizeof c->digest, "%s",
                 OBJ_nid2sn(OBJ_obj2nid(dig->algorithm)));
    int64_t signed_at = 0;
    int has_time = signing_time(si, c->signing_time, &signed_at);

    memcpy(content, p.s, r[1]);
    memcpy(content + r[1], p.s + r[2], r[3]);
    in = content_bio(content, r[1] + r[3]);
    if (!in) {
        err = BH_ENOMEM;
        goto out;
    }
    c->intact = CMS_verify(cms, NULL, NULL, in, NULL,
                           CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
    ERR_clear_error();
    if (!c->intact)
        problem(c, "the signature does not match the signed bytes: the file was changed");
    signers = CMS_get0_signers(cms);
    const char *changed = cms_tampered(cms, si, signers && sk_X509_num(signers) > 0
                                                    ? sk_X509_value(signers, 0)
                                                    : NULL,
                                       der, (size_t)(q - der), hex_len / 2);
    if (ca_path) {
        store = X509_STORE_new();
        if (!store || X509_STORE_load_file(store, ca_path) != 1) {
            ERR_clear_error();
            err = bh_diag_add(d, BH_EIO, "ca", "cannot read CA certificates from %s", ca_path);
            goto out;
        }
        /* Document-signing certificates need not carry the S/MIME purpose
         * CMS_verify checks by default. */
        X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
    }
    if (!changed)
        changed = certs_changed(cms, store);
    if (changed && c->intact) {
        c->intact = 0;
        problem(c, changed);
    }
    /* A certificate signs only within its validity: a key kept past its
     * certificate's expiry makes no valid signature, CA file or not. */
    c->in_validity = 1;
    if (has_time && signers && sk_X509_num(signers) > 0 &&
        !valid_at(sk_X509_value(signers, 0), signed_at)) {
        c->in_validity = 0;
        if (c->intact)
            problem(c, "the signer's certificate was not valid at the signing time (expired or "
                       "not yet valid)");
    }
    if (signers && sk_X509_num(signers) > 0) {
        X509 *x = sk_X509_value(signers, 0);
        name_line(X509_get_subject_name(x), c->signer, sizeof c->signer);
        name_line(X509_get_issuer_name(x), c->issuer, sizeof c->issuer);
    } else if (c->intact) {
        problem(c, "the signer's certificate is not in the signature");
    }
    if (store) {
        c->chain_checked = 1;
        BIO_free_all(in);
        in = content_bio(content, r[1] + r[3]);
        if (!in) {
            err = BH_ENOMEM;
            goto out;
        }
        c->trusted = CMS_verify(cms, NULL, store, in, NULL, CMS_BINARY) == 1;
        if (!c->trusted && c->intact) {
            /* CMS puts X509_verify_cert's reason ("certificate has
             * expired", "unable to get local issuer certificate") in the
             * error's data, not its text. */
            char why[200] = "";
            const char *reason = NULL;
            int flags = 0;
            unsigned long e = ERR_peek_last_error_data(&reason, &flags);
            ERR_error_string_n(e, why, sizeof why);
            char msg[400];
            snprintf(msg, sizeof msg, "the signer's certificate does not chain to the CA: %s%s%s",
                     why, reason && (flags & ERR_TXT_STRING) ? ": " : "",
                     reason && (flags & ERR_TXT_STRING) ? reason : "");
            problem(c, msg);
        }
        ERR_clear_error();
    }
out:
    sk_X509_free(signers);
    BIO_free_all(in);
    X509_STORE_free(store);
    CMS_ContentInfo_free(cms);
    free(der);
    free(content);
    return err;
}
