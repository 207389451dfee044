/* The facts the documents show, checked once for all three documents (see
 * docgen.h and docs/internals/docgen.md). The PDFs are in docgen_pdf.c, the
 * XML in docgen_xml.c.
 *
 * Everything is checked before anything is drawn or written: a guarantee is
 * a legal document, so a fact that cannot be shown faithfully (text cut short,
 * a control character, a malformed number) refuses the document rather than
 * producing a slightly wrong one. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "docgen_impl.h"
#include "banned.h"

/* 9999999999999.99 yuan, the largest amount bh_money_capital() writes. */
#define AMOUNT_MAX_FEN INT64_C(999999999999999)

enum need { OPTIONAL, REQUIRED };

/* Whether the UTF-8 text holds a character that has no place in a one-line
 * fact or in XML 1.0: C0 controls (tabs and newlines too), DEL, C1 controls
 * (U+0080..U+009F, encoded C2 80..C2 9F) and the non-characters U+FFFE/U+FFFF
 * (EF BF BE/BF). */
static int has_control(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; u[i]; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return 1;
        if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            return 1;
        if (u[i] == 0xef && u[i + 1] == 0xbf && (u[i + 2] == 0xbe || u[i + 2] == 0xbf))
            return 1;
    }
    return 0;
}

/* Checks one text fact. NULL and "" both count as absent. */
static bh_err check_text(const char *v, const char *field, enum need need, size_t max_chars,
                         bh_diag *d)
{
    if (!v || !*v) {
        if (need == REQUIRED)
            return bh_diag_add(d, BH_EMISSING, field, "is required and was not given");
        return BH_OK;
    }
    size_t n = strlen(v);
    if (!bh_utf8_valid(v, n))
        return bh_diag_add(d, BH_EUTF8, field, "is not valid UTF-8");
    if (has_control(v))
        return bh_diag_add(d, BH_EFORMAT, field,
                           "holds a control character (line breaks and tabs included)");
    if (bh_utf8_length(v, n) > max_chars)
        return bh_diag_add(d, BH_ETOOLONG, field, "longer than %zu characters", max_chars);
    return BH_OK;
}

/* Runs every check, keeping the first failure's code. */
static void keep(bh_err *first, bh_err err)
{
    if (!*first)
        *first = err;
}

/* The guarantee number goes into file names, URLs and the XML: ASCII letters
 * and digits first, then also - _ . / (share/baohan-guarantee.xsd, BaohanNo). */
static int baohanno_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > BH__DOC_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (!alnum && (i == 0 || !strchr("-_./", c)))
            return 0;
    }
    return 1;
}

/* The shape of a unified social credit code (GB 32100-2015): 18 characters
 * from its 31-symbol alphabet. The check character was verified when the
 * application arrived (lib/schema.c); the XML schema can only say the shape. */
static int credit_code_shape(const char *s)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    if (strlen(s) != 18)
        return 0;
    for (size_t i = 0; i < 18; i++) {
        if (!strchr(alphabet, s[i]))
            return 0;
    }
    return 1;
}

static bh_err check_credit_code(const char *v, const char *field, enum need need, bh_diag *d)
{
    bh_err err = check_text(v, field, need, 18, d);
    if (err || !v || !*v)
        return err;
    if (!credit_code_shape(v))
        return bh_diag_add(d, BH_EFORMAT, field,
                           "must be an 18-character unified social credit code "
                           "(digits and upper-case letters but I, O, S, V, Z)");
    return BH_OK;
}

static bh_err check_time(const char *v, const char *field, int64_t *at, bh_diag *d)
{
    bh_err err = check_text(v, field, REQUIRED, BH_TIME_TEXT_LEN, d);
    if (err)
        return err;
    return bh_time_parse(v, strlen(v), at, d, field);
}

static bh_err check_amount(int64_t fen, const char *field, int64_t min, bh_diag *d)
{
    if (fen < min || fen > AMOUNT_MAX_FEN)
        return bh_diag_add(d, BH_ERANGE, field, "must be from %s to 9999999999999.99 yuan",
                           min > 0 ? "0.01" : "0.00");
    return BH_OK;
}

/* Our own URL, printed in small type: http(s) and then the characters
 * RFC 3986 allows in a URI (percent-encoding for anything else), at least
 * one of them. */
static bh_err check_url(const char *v, const char *field, bh_diag *d)
{
    static const char uri_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-._~:/?#[]@!$&'()*+,;=%";
    bh_err err = check_text(v, field, OPTIONAL, BH__DOC_URL_MAX, d);
    if (err || !v || !*v)
        return err;
    size_t scheme = strncmp(v, "https://", 8) == 0 ? 8 : strncmp(v, "http://", 7) == 0 ? 7 : 0;
    if (!scheme || !v[scheme] || strspn(v + scheme, uri_chars) != strlen(v + scheme))
        return bh_diag_add(d, BH_EFORMAT, field,
                           "must be an http:// or https:// URL of the characters RFC 3986 "
                           "allows (others percent-encoded)");
    return BH_OK;
}

bh_err bh__doc_check_facts(const bh_guarantee_facts *g, bh_diag *d)
{
    if (!g)
        return bh_diag_add(d, BH_EINVAL, "", "no guarantee facts given");
    bh_err first = BH_OK, err;

    err = check_text(g->baohanno, "baohanno", REQUIRED, BH__DOC_ID_MAX, d);
    if (!err && !baohanno_valid(g->baohanno))
        err = bh_diag_add(d, BH_EFORMAT, "baohanno",
                          "must be ASCII letters and digits, then also - _ . /, "
                          "at most 64 characters");
    keep(&first, err);
    keep(&first, check_text(g->applyno, "applyno", REQUIRED, BH__DOC_ID_MAX, d));
    keep(&first, check_text(g->beneficiary, "beneficiary", REQUIRED, BH__DOC_NAME_MAX, d));
    keep(&first, check_credit_code(g->beneficiary_code, "beneficiary_code", OPTIONAL, d));
    keep(&first, check_text(g->principal, "principal", REQUIRED, BH__DOC_NAME_MAX, d));
    keep(&first, check_credit_code(g->principal_code, "principal_code", REQUIRED, d));
    keep(&first, check_text(g->project_name, "project_name", REQUIRED, BH__DOC_LONG_NAME_MAX, d));
    keep(&first, check_text(g->project_no, "project_no", REQUIRED, BH__DOC_NO_MAX, d));
    keep(&first, check_text(g->section_name, "section_name", REQUIRED, BH__DOC_LONG_NAME_MAX, d));
    keep(&first, check_text(g->section_no, "section_no", REQUIRED, BH__DOC_NO_MAX, d));
    keep(&first, check_amount(g->amount_fen, "amount_fen", 1, d));
    keep(&first, check_amount(g->premium_fen, "premium_fen", 0, d));

    int64_t from = 0, to = 0, at = 0;
    bh_err from_err = check_time(g->valid_from, "valid_from", &from, d);
    bh_err to_err = check_time(g->valid_to, "valid_to", &to, d);
    keep(&first, from_err);
    keep(&first, to_err);
    if (!from_err && !to_err && to <= from)
        keep(&first, bh_diag_add(d, BH_ERANGE, "valid_to", "must be later than valid_from"));
    if (g->tbyxq_days < 1 || g->tbyxq_days > BH__DOC_DAYS_MAX)
        keep(&first, bh_diag_add(d, BH_ERANGE, "tbyxq_days", "must be from 1 to %d days",
                                 BH__DOC_DAYS_MAX));
    keep(&first, check_time(g->kaibiaotime, "kaibiaotime", &at, d));
    keep(&first, check_text(g->issuer, "issuer", REQUIRED, BH__DOC_NAME_MAX, d));
    keep(&first, check_time(g->issue_time, "issue_time", &at, d));
    keep(&first, check_url(g->verify_url, "verify_url", d));
    return first;
}

/* A masked ID number keeps some digits (and a final X) and replaces the rest
 * with '*'. Without a '*' it would be the full number, which never goes on a
 * document; the message does not quote it. */
static bh_err check_card(const char *v, const char *field, bh_diag *d)
{
    bh_err err = check_text(v, field, REQUIRED, BH__DOC_CARD_MAX, d);
    if (err)
        return err;
    int stars = 0, other = 0;
    for (const char *p = v; *p; p++) {
        if (*p == '*')
            stars++;
        else if (!(*p >= '0' && *p <= '9') && *p != 'X' && *p != 'x')
            other = 1;
    }
    if (stars < 4 || other)
        return bh_diag_add(d, BH_EFORMAT, field,
                           "must be a masked ID number such as 350602********1234 "
                           "(at least four '*'); the full number never goes on a document");
    return BH_OK;
}

bh_err bh__doc_check_applicant(const bh_applicant_details *a, bh_diag *d)
{
    if (!a)
        return bh_diag_add(d, BH_EINVAL, "", "no applicant details given");
    bh_err first = BH_OK;
    keep(&first, check_text(a->contact, "contact", REQUIRED, BH__DOC_PERSON_MAX, d));
    keep(&first, check_text(a->contact_tel, "contact_tel", REQUIRED, BH__DOC_PHONE_MAX, d));
    keep(&first, check_text(a->address, "address", OPTIONAL, BH__DOC_ADDRESS_MAX, d));
    keep(&first, check_text(a->email, "email", OPTIONAL, BH__DOC_NAME_MAX, d));
    keep(&first, check_text(a->legal_person, "legal_person", REQUIRED, BH__DOC_PERSON_MAX, d));
    keep(&first,
         check_text(a->legal_person_tel, "legal_person_tel", OPTIONAL, BH__DOC_PHONE_MAX, d));
    keep(&first, check_card(a->legal_person_card_masked, "legal_person_card_masked", d));
    keep(&first,
         check_text(a->basic_account_bank, "basic_account_bank", REQUIRED, BH__DOC_NAME_MAX, d));
    keep(&first, check_text(a->basic_account_no, "basic_account_no", REQUIRED, BH__DOC_ID_MAX, d));
    return first;
}

void bh__doc_figures(int64_t fen, char out[BH__DOC_FIGURES_MAX])
{
    char plain[BH_MONEY_TEXT_MAX];
    bh_money_format(fen < 0 ? 0 : fen, plain);
    size_t int_len = strcspn(plain, ".");
    size_t o = 0;
    /* "¥" is U+00A5, two bytes; the full-width ￥ would look out of place
     * next to ASCII digits. */
    out[o++] = (char)0xc2;
    out[o++] = (char)0xa5;
    for (size_t i = 0; i < int_len && o + 2 < BH__DOC_FIGURES_MAX; i++) {
        if (i > 0 && (int_len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = plain[i];
    }
    for (size_t i = int_len; plain[i] && o + 1 < BH__DOC_FIGURES_MAX; i++)
        out[o++] = plain[i];
    out[o] = '\0';
}

void bh__doc_date(const char *cst, int with_time, char out[BH__DOC_DATE_TEXT_MAX])
{
    /* cst was checked by bh_time_parse: "yyyy-MM-dd HH:mm:ss". Month and day
     * lose a leading zero, as dates are written in Chinese prose. */
    int month = (cst[5] - '0') * 10 + (cst[6] - '0');
    int day = (cst[8] - '0') * 10 + (cst[9] - '0');
    if (with_time)
        snprintf(out, BH__DOC_DATE_TEXT_MAX, "%.4s年%d月%d日 %.8s", cst, month, day, cst + 11);
    else
        snprintf(out, BH__DOC_DATE_TEXT_MAX, "%.4s年%d月%d日", cst, month, day);
}

void bh__doc_truncate(bh_buf *b, size_t len)
{
    if (b->len > len) {
        b->len = len;
        b->data[len] = '\0';
    }
}
