/* The documents of an issued guarantee, generated as real files:
 *
 *   - the guarantee (投标保函) as a PDF in Chinese, typeset with cairo + pango
 *     and a CJK font (fonts-noto-cjk);
 *   - the electronic application form (电子申请单) as a PDF;
 *   - the guarantee's structured data as XML in our own documented schema
 *     (share/baohan-guarantee.xsd; validated in tests with libxml2).
 *
 * The guarantee PDF is then signed (bh_doc_sign_guarantee, docgen_seal.c):
 * a PDF signature with the institution's certificate whose visible form is
 * its electronic seal in the seal area; the verification QR code is drawn by
 * bh_doc_guarantee_pdf itself when the facts carry a verification URL. */
#ifndef BAOHAN_DAEMON_DOCGEN_H
#define BAOHAN_DAEMON_DOCGEN_H

#include <stdint.h>

#include "baohan/baohan.h"

/* Everything the documents show. Text is UTF-8; date-times are CST text
 * "yyyy-MM-dd HH:mm:ss". */
typedef struct bh_guarantee_facts {
    const char *baohanno;         /* 保函编号 */
    const char *applyno;          /* 业务流水号 */
    const char *beneficiary;      /* 受益人 = 招标人 (zbr) */
    const char *beneficiary_code; /* 招标人统一社会信用代码, may be NULL */
    const char *principal;        /* 被保证人/投标人 (biddername) */
    const char *principal_code;   /* biddercode */
    const char *project_name;     /* projectname */
    const char *project_no;       /* projectno */
    const char *section_name;     /* biaoduanname */
    const char *section_no;       /* biaoduanno */
    int64_t amount_fen;           /* 保证金金额 (bzjamount) */
    int64_t premium_fen;          /* 保费 */
    const char *valid_from;       /* 保函生效: issue time */
    const char *valid_to;         /* 保函失效: bid opening + tbyxq days */
    int tbyxq_days;               /* 投标有效期 */
    const char *kaibiaotime;      /* 开标时间 */
    const char *issuer;           /* 出函机构 (institution name) */
    const char *issue_time;       /* 出函时间 */
    const char *verify_url;       /* 验真 URL, printed on the guarantee; may be NULL */
} bh_guarantee_facts;

/* The bidder's details for the application form (from the pay page). */
typedef struct bh_applicant_details {
    const char *contact, *contact_tel, *address, *email;
    const char *legal_person, *legal_person_tel;
    const char *legal_person_card_masked; /* e.g. "350602********1234": never the full number */
    const char *basic_account_bank, *basic_account_no;
} bh_applicant_details;

/* Empty areas reserved on the guarantee page for a later signing step: the
 * visible electronic seal (with the signature) just below the issuer's name
 * and date, and a verification QR code beside the printed verification URL.
 * Millimetres from the top-left corner of the A4 page (210 × 297 mm); nothing
 * is ever drawn inside them. One millimetre is 72 / 25.4 PDF points; PDF's own
 * coordinates start at the bottom-left, so a box's PDF y is 297 - y - size. */
#define BH_DOC_SEAL_X_MM 140.0
#define BH_DOC_SEAL_Y_MM 240.0
#define BH_DOC_SEAL_SIZE_MM 45.0
#define BH_DOC_QR_X_MM 25.0
#define BH_DOC_QR_Y_MM 260.0
#define BH_DOC_QR_SIZE_MM 25.0

/* Each function checks every fact first and refuses, with one problem per
 * bad field (named as the struct member, e.g. "principal"), a required text
 * that is NULL or empty (BH_EMISSING), invalid UTF-8 (BH_EUTF8), control
 * characters or a broken format (BH_EFORMAT), text over its length
 * (BH_ETOOLONG), an amount or period out of range (BH_ERANGE); the PDFs also
 * refuse text the document font cannot show (BH_EFORMAT). Limits and rules:
 * docs/internals/docgen.md. On any failure `out` is left as it was. */

/* Appends the guarantee PDF to `out`. */
bh_err bh_doc_guarantee_pdf(const bh_guarantee_facts *g, bh_buf *out, bh_diag *d) BH_MUST_CHECK;

/* Appends the electronic application form PDF to `out`. */
bh_err bh_doc_application_pdf(const bh_guarantee_facts *g, const bh_applicant_details *a,
                              bh_buf *out, bh_diag *d) BH_MUST_CHECK;

/* Signs a guarantee PDF made by bh_doc_guarantee_pdf(): appends to `out` the
 * PDF with an incremental update holding a PDF signature by `signer`
 * (signing time `when`, Unix seconds) whose appearance is the electronic
 * seal of `issuer` in the seal area (BH_DOC_SEAL_*). Errors as
 * bh_pdf_sign(); on failure `out` is left as it was. */
bh_err bh_doc_sign_guarantee(const void *pdf, size_t len, const bh_signer *signer,
                             const char *issuer, int64_t when, bh_buf *out,
                             bh_diag *d) BH_MUST_CHECK;

/* Appends the guarantee's XML (UTF-8, conforming to share/baohan-guarantee.xsd). */
bh_err bh_doc_guarantee_xml(const bh_guarantee_facts *g, bh_buf *out, bh_diag *d) BH_MUST_CHECK;

#endif
