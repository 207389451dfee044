/* Shared between docgen.c, docgen_pdf.c and docgen_xml.c; not part of the
 * daemon's interface (that is docgen.h). */
#ifndef BAOHAN_DAEMON_DOCGEN_IMPL_H
#define BAOHAN_DAEMON_DOCGEN_IMPL_H

#include <stdint.h>

#include "docgen.h"

/* Character limits of the facts, as on the wire where the fact comes from the
 * wire (lib/schema_tables.c), so that anything the platform may send can be
 * issued. The verification URL is our own and kept short enough to print. */
#define BH__DOC_ID_MAX 64
#define BH__DOC_NAME_MAX 200
#define BH__DOC_LONG_NAME_MAX 300 /* project and section names */
#define BH__DOC_NO_MAX 100        /* project and section numbers */
#define BH__DOC_PERSON_MAX 100
#define BH__DOC_PHONE_MAX 50
#define BH__DOC_ADDRESS_MAX 300
#define BH__DOC_URL_MAX 512
#define BH__DOC_CARD_MAX 32
#define BH__DOC_DAYS_MAX 3650

/* "¥" + "9,999,999,999,999.99" + NUL, with room to spare. */
#define BH__DOC_FIGURES_MAX 40
/* "2026年11月28日 15:42:10" + NUL (年月日 are 3 bytes each). */
#define BH__DOC_DATE_TEXT_MAX 40

/* Checks every fact of the guarantee, recording one problem per bad field.
 * Returns the first problem's code, BH_OK when all are well formed. */
bh_err bh__doc_check_facts(const bh_guarantee_facts *g, bh_diag *d) BH_MUST_CHECK;

/* The same for the applicant's details. */
bh_err bh__doc_check_applicant(const bh_applicant_details *a, bh_diag *d) BH_MUST_CHECK;

/* Writes a non-negative amount as "¥200,000.00". */
void bh__doc_figures(int64_t fen, char out[BH__DOC_FIGURES_MAX]);

/* Rewrites a checked CST date-time "2026-03-05 09:30:00" as "2026年3月5日"
 * (with_time 0) or "2026年3月5日 09:30:00" (with_time 1). */
void bh__doc_date(const char *cst, int with_time, char out[BH__DOC_DATE_TEXT_MAX]);

/* Drops everything appended to `b` after its first `len` bytes. */
void bh__doc_truncate(bh_buf *b, size_t len);

/* Appends the seal's appearance stream (PDF path operators in a square of
 * BH_DOC_SEAL_SIZE_MM, origin bottom-left) for the issuer's name. */
bh_err bh__doc_seal_appearance(const char *issuer, bh_buf *out) BH_MUST_CHECK;

#endif
