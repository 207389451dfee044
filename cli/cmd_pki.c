/* baohan pki init: test material for signing guarantees; baohan verify-pdf:
 * checks a signed guarantee (docs/signing.md). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

#define PDF_MAX ((size_t)64 * 1024 * 1024)

static int all_present(const char *dir, int *some)
{
    static const char *const files[] = {BH_PKI_CA_CERT, BH_PKI_CA_KEY, BH_PKI_CERT, BH_PKI_KEY,
                                        BH_PKI_CHAIN};
    int n = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        n += stat(path, &st) == 0;
    }
    *some = n > 0;
    return n == (int)(sizeof files / sizeof *files);
}

static int run_pki(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_pki;
    const char *pos[2], *alg_name = NULL, *name = NULL;
    size_t npos;
    int if_missing = 0;
    const cli_opt opts[] = {{"alg", &alg_name, NULL},
                            {"name", &name, NULL},
                            {"if-missing", NULL, &if_missing},
                            {NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 2, 2, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    if (strcmp(pos[0], "init") != 0)
        return cli_usage_error(cmd, "unknown subcommand (only 'init' exists)");
    bh_key_alg alg = BH_KEY_EC;
    if (!alg_name || strcmp(alg_name, "ec") == 0)
        alg = BH_KEY_EC;
    else if (strcmp(alg_name, "rsa") == 0)
        alg = BH_KEY_RSA;
    else if (strcmp(alg_name, "sm2") == 0)
        alg = BH_KEY_SM2;
    else
        return cli_usage_error(cmd, "--alg must be rsa, ec or sm2");
    if (!name)
        name = "示例保险股份有限公司漳州中心支公司";
    if (!*name || !bh_utf8_valid(name, strlen(name)) ||
        bh_utf8_length(name, strlen(name)) > BH_PKI_NAME_MAX)
        return cli_usage_error(cmd, "--name must be 1 to %d characters of UTF-8", BH_PKI_NAME_MAX);

    int some = 0;
    if (if_missing && all_present(pos[1], &some)) {
        printf("baohan pki: TEST material already in %s, kept (NOT FOR PRODUCTION)\n", pos[1]);
        return CLI_EXIT_OK;
    }
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_pki_init(pos[1], alg, name, bh_time_now(), &d);
    if (err) {
        cli_print_problems(stderr, "baohan pki: ", &d);
        bh_diag_release(&d);
        return err == BH_ECRYPTO || err == BH_ENOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_USAGE;
    }
    bh_diag_release(&d);
    printf("baohan pki: made TEST material in %s — NOT FOR PRODUCTION\n"
           "  %s/%s   the test CA (O=%s TEST CA — NOT FOR PRODUCTION)\n"
           "  %s/%s   its key\n"
           "  %s/%s  the institution's signing certificate (%s)\n"
           "  %s/%s  its key (mode 600)\n"
           "  %s/%s  the chain to put in [signing] chain\n"
           "A guarantee signed with these is marked as test material in every verifier.\n",
           pos[1], pos[1], BH_PKI_CA_CERT, name, pos[1], BH_PKI_CA_KEY, pos[1], BH_PKI_CERT,
           alg == BH_KEY_RSA ? "RSA 2048" : alg == BH_KEY_EC ? "ECDSA P-256" : "SM2", pos[1],
           BH_PKI_KEY, pos[1], BH_PKI_CHAIN);
    return CLI_EXIT_OK;
}

const cli_cmd cli_cmd_pki = {
    "pki",
    "make TEST signing material (a local CA and an institution certificate)",
    "usage: baohan pki init DIR [--alg rsa|ec|sm2] [--name NAME] [--if-missing]\n",
    "Creates DIR (if needed) and writes a local test CA and an institution\n"
    "certificate issued by it, for signing guarantees in development and tests:\n"
    "  ca.pem, ca.key              the test CA, O=\"NAME TEST CA — NOT FOR PRODUCTION\"\n"
    "  institution.pem, .key       the signing certificate and key (key mode 600)\n"
    "  chain.pem                   the chain ([signing] chain)\n"
    "Made with OpenSSL's X509 API; valid ten years. Existing files are never\n"
    "overwritten: the command refuses unless --if-missing is given and all five\n"
    "files exist, in which case it keeps them and succeeds.\n"
    "\n"
    "  --alg ALG     rsa (2048 bits), ec (ECDSA P-256, the default) or sm2\n"
    "  --name NAME   the institution's name (default: the example configuration's)\n"
    "\n"
    "Never use this material in production: a real certificate comes from a CA\n"
    "(docs/signing.md).\n",
    run_pki,
};

static int run_verify_pdf(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_verify_pdf;
    const char *pos[1], *ca = NULL;
    size_t npos;
    const cli_opt opts[] = {{"ca", &ca, NULL}, {NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 1, 1, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    bh_buf pdf;
    bh_buf_init(&pdf, PDF_MAX);
    rc = cli_read_input(cmd, pos[0], PDF_MAX, &pdf);
    if (rc != CLI_EXIT_OK) {
        bh_buf_release(&pdf);
        return rc;
    }
    bh_pdf_check c;
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_pdf_verify(pdf.data ? pdf.data : "", pdf.len, ca, &c, &d);
    bh_buf_release(&pdf);
    if (err) {
        cli_print_problems(stderr, "baohan verify-pdf: ", &d);
        bh_diag_release(&d);
        return err == BH_ENOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_USAGE;
    }
    bh_diag_release(&d);
    int valid = bh_pdf_check_valid(&c);
    printf("file:          %s\n", cli_input_name(pos[0]));
    if (c.found) {
        printf("signer:        %s\n", c.signer[0] ? c.signer : "(unknown)");
        printf("issuer:        %s\n", c.issuer[0] ? c.issuer : "(unknown)");
        printf("signing time:  %s\n", c.signing_time[0] ? c.signing_time : "(not given)");
        printf("digest:        %s\n", c.digest[0] ? c.digest : "(unknown)");
        printf("byte range:    %s\n",
               c.whole_file ? "covers the whole file except the signature"
                            : "does NOT cover the whole file");
        printf("signature:     %s\n", c.intact ? "intact" : "BROKEN");
        printf("certificate:   %s\n", c.in_validity ? "valid at the signing time"
                                                   : "NOT valid at the signing time");
        printf("chain:         %s\n", !c.chain_checked ? "not checked (untrusted: no --ca given)"
                                      : c.trusted      ? "trusted (leads to --ca)"
                                                       : "NOT trusted");
    }
    if (c.problem[0])
        printf("problem:       %s\n", c.problem);
    printf("result:        %s\n",
           valid ? (c.chain_checked ? "VALID" : "VALID signature, signer not checked against a CA")
                 : "INVALID");
    return valid ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
}

const cli_cmd cli_cmd_verify_pdf = {
    "verify-pdf",
    "check a signed guarantee PDF: signature, byte range, certificate chain",
    "usage: baohan verify-pdf FILE [--ca CAFILE]\n",
    "Finds the PDF's last signature and checks that its byte range covers the\n"
    "whole file except the signature itself, that the CMS signature verifies\n"
    "over those bytes, and, with --ca, that the signer's certificate chains to\n"
    "a certificate in CAFILE (PEM). Prints the signer, its issuer, the signing\n"
    "time (China Standard Time), the digest and the result.\n"
    "\n"
    "Without --ca the chain is not checked: an intact signature is reported as\n"
    "such, with the signer untrusted.\n"
    "\n"
    "Exit status: 0 valid; 1 invalid (no signature, changed file, broken\n"
    "signature, untrusted chain with --ca); 2 usage error or unreadable file.\n",
    run_verify_pdf,
};
