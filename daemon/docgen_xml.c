/* The guarantee's structured data as XML in the namespace
 * urn:baohan:guarantee:1 (share/baohan-guarantee.xsd, docs/guarantee-xml.md),
 * written with libxml2's xmlTextWriter, which escapes text and attribute
 * values. Every fact was checked first (docgen.c), so whatever is written
 * conforms to the schema. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlwriter.h>

#include "docgen_impl.h"
#include "banned.h"

#define NS "urn:baohan:guarantee:1"

/* libxml2 2.9 wants xmlInitParser() to have run before threads use it; it
 * is idempotent but not safe to race on its first call. */
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/* A writer plus the first failure: each step is skipped once one failed, so
 * the sequence of calls reads like the document. */
struct xw {
    xmlTextWriterPtr w;
    int failed;
};

static void start(struct xw *x, const char *name)
{
    if (!x->failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->failed = 1;
}

static void end(struct xw *x)
{
    if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
        x->failed = 1;
}

static void attr(struct xw *x, const char *name, const char *value)
{
    if (!x->failed && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->failed = 1;
}

/* <name>value</name>; nothing when value is NULL or empty (optional facts). */
static void elem(struct xw *x, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    if (!x->failed && xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->failed = 1;
}

/* CST "2026-11-28 15:42:10" → xs:dateTime "2026-11-28T15:42:10+08:00". */
static void datetime(struct xw *x, const char *name, const char *cst)
{
    char text[BH_TIME_TEXT_LEN + 7];
    snprintf(text, sizeof text, "%.10sT%.8s+08:00", cst, cst + 11);
    elem(x, name, text);
}

/* <name currency="CNY" fen="…"><figures>…</figures><words>…</words></name> */
static void amount(struct xw *x, const char *name, int64_t fen, bh_err *err)
{
    char figures[BH_MONEY_TEXT_MAX], fen_text[24];
    bh_money_format(fen, figures);
    snprintf(fen_text, sizeof fen_text, "%" PRId64, fen);
    bh_buf words;
    bh_buf_init(&words, 1024);
    bh_err e = bh_money_capital(fen, &words);
    if (e) {
        *err = e;
        x->failed = 1;
    }
    start(x, name);
    attr(x, "currency", "CNY");
    attr(x, "fen", fen_text);
    elem(x, "figures", figures);
    elem(x, "words", words.data);
    end(x);
    bh_buf_release(&words);
}

static void party(struct xw *x, const char *name, const char *party_name, const char *code)
{
    start(x, name);
    elem(x, "name", party_name);
    elem(x, "creditCode", code);
    end(x);
}

bh_err bh_doc_guarantee_xml(const bh_guarantee_facts *g, bh_buf *out, bh_diag *d)
{
    if (!out)
        return bh_diag_add(d, BH_EINVAL, "", "no output buffer given");
    bh_err err = bh__doc_check_facts(g, d);
    if (err)
        return err;
    pthread_once(&xml_once, xml_init);

    xmlBufferPtr xb = xmlBufferCreate();
    struct xw x = {xb ? xmlNewTextWriterMemory(xb, 0) : NULL, 0};
    if (!x.w) {
        if (xb)
            xmlBufferFree(xb);
        return bh_diag_add(d, BH_ENOMEM, "", "cannot create the XML writer");
    }
    char days[16];
    snprintf(days, sizeof days, "%d", g->tbyxq_days);

    if (xmlTextWriterSetIndent(x.w, 1) < 0 ||
        xmlTextWriterSetIndentString(x.w, BAD_CAST "  ") < 0 ||
        xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL) < 0 ||
        xmlTextWriterStartElementNS(x.w, NULL, BAD_CAST "guarantee", BAD_CAST NS) < 0)
        x.failed = 1;
    attr(&x, "version", "1");
    elem(&x, "baohanno", g->baohanno);
    elem(&x, "applyno", g->applyno);
    elem(&x, "kind", "bid");
    start(&x, "issuer");
    elem(&x, "name", g->issuer);
    end(&x);
    datetime(&x, "issueTime", g->issue_time);
    party(&x, "principal", g->principal, g->principal_code);
    party(&x, "beneficiary", g->beneficiary, g->beneficiary_code);
    start(&x, "project");
    elem(&x, "no", g->project_no);
    elem(&x, "name", g->project_name);
    start(&x, "section");
    elem(&x, "no", g->section_no);
    elem(&x, "name", g->section_name);
    end(&x);
    end(&x);
    amount(&x, "amount", g->amount_fen, &err);
    amount(&x, "premium", g->premium_fen, &err);
    datetime(&x, "bidOpeningTime", g->kaibiaotime);
    elem(&x, "bidValidityDays", days);
    start(&x, "validity");
    datetime(&x, "from", g->valid_from);
    datetime(&x, "to", g->valid_to);
    end(&x);
    start(&x, "terms");
    attr(&x, "irrevocable", "true");
    attr(&x, "onFirstDemand", "true");
    end(&x);
    elem(&x, "verifyUrl", g->verify_url);
    if (!x.failed && xmlTextWriterEndDocument(x.w) < 0)
        x.failed = 1;
    /* Freeing the writer flushes it into xb. */
    xmlFreeTextWriter(x.w);

    if (!x.failed) {
        size_t start = out->len;
        err = bh_buf_add(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
        /* A text file ends with a newline; xmlTextWriter leaves it out. */
        if (!err && (out->len == 0 || out->data[out->len - 1] != '\n'))
            err = bh_buf_addch(out, '\n');
        if (err)
            bh__doc_truncate(out, start);
        if (err)
            bh_diag_add(d, err, "", "the XML does not fit in the output buffer");
    } else {
        if (!err)
            err = BH_ENOMEM;
        bh_diag_add(d, err, "", "writing the XML failed");
    }
    xmlBufferFree(xb);
    return err;
}
