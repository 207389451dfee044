/* Test material for PDF signing (bh_pki_init, see pdfsign.h): a local CA and
 * an institution certificate it issued, made with OpenSSL's X509 API.
 *
 * Everything says it is test material: the CA's organisation ends in
 * "TEST CA — NOT FOR PRODUCTION", the institution certificate's
 * organisational unit is "TEST CERTIFICATE — NOT FOR PRODUCTION". A
 * verifier shows these names, so a guarantee signed with them can never pass
 * for a real one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "baohan/codec.h"
#include "baohan/fs.h"
#include "baohan/pdfsign.h"
#include "banned.h"

#define TEN_YEARS (10L * 365 * 86400 + 3 * 86400)

static EVP_PKEY *new_key(bh_key_alg alg)
{
    switch (alg) {
    case BH_KEY_RSA:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case BH_KEY_EC:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case BH_KEY_SM2:
        return EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    }
    return NULL;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static int add_name(X509_NAME *n, const char *field, const char *value)
{
    return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)value, -1,
                                      -1, 0);
}

/* A certificate for `key` named `subject`, issued by `issuer` (NULL: self)
 * with `issuer_key`. */
static X509 *new_cert(EVP_PKEY *key, X509_NAME *subject, X509 *issuer, EVP_PKEY *issuer_key,
                      int ca, bh_key_alg alg, int64_t now)
{
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    int ok = x && serial && X509_set_version(x, 2) && BN_rand(serial, 127, BN_RAND_TOP_ANY,
                                                                BN_RAND_BOTTOM_ANY) &&
             BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
             X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &(time_t){(time_t)now}) &&
             X509_time_adj_ex(X509_getm_notAfter(x), 0, TEN_YEARS, &(time_t){(time_t)now}) &&
             X509_set_subject_name(x, subject) &&
             X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) &&
             X509_set_pubkey(x, key);
    X509 *signer = issuer ? issuer : x;
    ok = ok && add_ext(x, signer, NID_subject_key_identifier, "hash") &&
         add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
    if (ca)
        ok = ok && add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    else
        ok = ok && add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, signer, NID_key_usage, "critical,digitalSignature,nonRepudiation");
    ok = ok && X509_sign(x, issuer_key, alg == BH_KEY_SM2 ? EVP_sm3() : EVP_sha256()) > 0;
    BN_free(serial);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Creates `path` exclusively with `mode` and writes PEM into it. */
static bh_err write_pem(const char *dir, const char *name, mode_t mode, X509 *cert,
                        EVP_PKEY *key, bh_diag *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return bh_diag_add(d, errno == EEXIST ? BH_EDUPKEY : BH_EIO, name, "cannot create %s: %s",
                           path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return bh_diag_add(d, BH_EIO, name, "cannot write %s", path);
    }
    int ok = 1;
    if (cert)
        ok = PEM_write_X509(f, cert);
    if (ok && key)
        ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0)
        ok = 0;
    if (!ok)
        return bh_diag_add(d, BH_EIO, name, "cannot write %s", path);
    return BH_OK;
}

bh_err bh_pki_init(const char *dir, bh_key_alg alg, const char *name, int64_t now, bh_diag *d)
{
    static const char *const files[] = {BH_PKI_CA_CERT, BH_PKI_CA_KEY, BH_PKI_CERT, BH_PKI_KEY,
                                        BH_PKI_CHAIN};
    if (!dir || !*dir || !name || !*name)
        return bh_diag_add(d, BH_EINVAL, "", "a directory and a name are needed");
    if (!bh_utf8_valid(name, strlen(name)))
        return bh_diag_add(d, BH_EUTF8, "name", "not valid UTF-8");
    if (bh_utf8_length(name, strlen(name)) > BH_PKI_NAME_MAX)
        return bh_diag_add(d, BH_ETOOLONG, "name", "longer than %d characters", BH_PKI_NAME_MAX);
    bh_err err = bh_mkdir_p(dir, 0700, "dir", d); /* owner-only */
    if (err)
        return err;
    err = BH_ECRYPTO;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (stat(path, &st) == 0)
            return bh_diag_add(d, BH_EDUPKEY, files[i],
                               "%s exists; test material is never overwritten", path);
    }

    EVP_PKEY *ca_key = new_key(alg), *key = new_key(alg);
    X509_NAME *ca_name = X509_NAME_new(), *inst_name = X509_NAME_new();
    X509 *ca = NULL, *cert = NULL;
    char o[256];
    snprintf(o, sizeof o, "%s TEST CA — NOT FOR PRODUCTION", name);
    if (!ca_key || !key || !ca_name || !inst_name || !add_name(ca_name, "C", "CN") ||
        !add_name(ca_name, "O", o) || !add_name(ca_name, "CN", "baohan test CA") ||
        !add_name(inst_name, "C", "CN") || !add_name(inst_name, "O", name) ||
        !add_name(inst_name, "OU", "TEST CERTIFICATE — NOT FOR PRODUCTION") ||
        !add_name(inst_name, "CN", name))
        goto out;
    if (!(ca = new_cert(ca_key, ca_name, NULL, ca_key, 1, alg, now)) ||
        !(cert = new_cert(key, inst_name, ca, ca_key, 0, alg, now)))
        goto out;
    err = write_pem(dir, BH_PKI_CA_CERT, 0644, ca, NULL, d);
    if (!err)
        err = write_pem(dir, BH_PKI_CA_KEY, 0600, NULL, ca_key, d);
    if (!err)
        err = write_pem(dir, BH_PKI_CERT, 0644, cert, NULL, d);
    if (!err)
        err = write_pem(dir, BH_PKI_KEY, 0600, NULL, key, d);
    if (!err)
        err = write_pem(dir, BH_PKI_CHAIN, 0644, ca, NULL, d);
out:
    if (err == BH_ECRYPTO) {
        char why[256] = "";
        ERR_error_string_n(ERR_peek_last_error(), why, sizeof why);
        bh_diag_add(d, err, "", "OpenSSL could not make the test material: %s", why);
    }
    ERR_clear_error();
    X509_free(ca);
    X509_free(cert);
    X509_NAME_free(ca_name);
    X509_NAME_free(inst_name);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return err;
}
