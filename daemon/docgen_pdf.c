/* The guarantee (投标保函) and the electronic application form (电子申请单)
 * as one-page A4 PDFs, typeset with pango on a cairo PDF surface that writes
 * into a bh_buf (see docgen.h, docs/internals/docgen.md).
 *
 * Layout model: text is laid out in pango layouts of a fixed width, so long
 * names wrap; a page is drawn in two passes, the first only measuring. When
 * the flowing part is taller than its region (only very long names do that)
 * every font in it is scaled down a step at a time until it fits, so one page
 * always holds the whole document and nothing is cut off. The guarantee's
 * bottom block (issuer, date, verification URL) has fixed positions around
 * the areas reserved for the seal and the QR code (BH_DOC_SEAL_*, BH_DOC_QR_*
 * in docgen.h), so the signing step can place the seal without reading the
 * layout; the QR code of the verification URL is drawn in its area here. */
#include <stdint.h>
#include <string.h>
#include <stdio.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include "docgen_impl.h"
#include "banned.h"

#define MM (72.0 / 25.4)
#define PAGE_W (210.0 * MM)
#define PAGE_H (297.0 * MM)
#define MARGIN_X (25.0 * MM)
#define TEXT_W (PAGE_W - 2 * MARGIN_X)
#define TOP (20.0 * MM)
#define BOTTOM (PAGE_H - 10.0 * MM)

/* The guarantee's bottom: the issuer's name and date end right above the
 * seal area (a long name grows the block upwards, up to SIGN_MAX_H), the
 * verification URL stands right of the QR area. The flowing part ends a
 * little above the issuer's block. */
#define SIGN_BOTTOM ((BH_DOC_SEAL_Y_MM - 1.0) * MM)
#define SIGN_MAX_H (40.0 * MM)
#define FLOW_GAP (3.0 * MM)
#define URL_X ((BH_DOC_QR_X_MM + BH_DOC_QR_SIZE_MM + 3.0) * MM)
#define URL_W ((BH_DOC_SEAL_X_MM - 5.0) * MM - URL_X)
#define URL_TOP (BH_DOC_QR_Y_MM * MM)
#define URL_BOTTOM ((BH_DOC_QR_Y_MM + BH_DOC_QR_SIZE_MM) * MM)

/* Serif (宋体-like) for text, sans (黑体-like) for table labels; both from
 * fonts-noto-cjk, with fontconfig's generic families as the fallback. */
#define SERIF "Noto Serif CJK SC, Noto Sans CJK SC, serif"
#define SANS "Noto Sans CJK SC, Noto Serif CJK SC, sans-serif"

/* Scaling steps when a part does not fit; below MIN_SCALE text would be too
 * small to read, and the length limits keep us above it. */
#define SCALE_STEP 0.04
#define MIN_SCALE 0.4

#define MARKUP_MAX ((size_t)64 * 1024)

struct style {
    const char *family;
    double size; /* points at scale 1 */
    int bold;
    PangoAlignment align;
    int justify;
    double indent_em; /* first-line indent */
    double spacing;   /* line spacing factor; 0 for the font's own */
};

static const struct style st_title = {SERIF, 22, 1, PANGO_ALIGN_CENTER, 0, 0, 0};
static const struct style st_number = {SERIF, 10, 0, PANGO_ALIGN_RIGHT, 0, 0, 0};
static const struct style st_subtitle = {SERIF, 11, 0, PANGO_ALIGN_CENTER, 0, 0, 0};
static const struct style st_to = {SERIF, 11.5, 1, PANGO_ALIGN_LEFT, 0, 0, 0};
static const struct style st_body = {SERIF, 10, 0, PANGO_ALIGN_LEFT, 1, 2, 0};
static const struct style st_heading = {SANS, 11, 1, PANGO_ALIGN_LEFT, 0, 0, 0};
static const struct style st_label = {SANS, 9, 0, PANGO_ALIGN_CENTER, 0, 0, 0};
static const struct style st_value = {SERIF, 9.5, 0, PANGO_ALIGN_LEFT, 0, 0, 0};
static const struct style st_sign = {SERIF, 10.5, 0, PANGO_ALIGN_RIGHT, 0, 0, 0};
static const struct style st_small = {SERIF, 7.5, 0, PANGO_ALIGN_LEFT, 0, 0, 0};

/* One document being drawn. */
struct doc {
    cairo_t *cr;
    PangoContext *ctx;
    double scale; /* applies to every font of the part being drawn */
    int draw;     /* 0: measure only */
    bh_err err;   /* first failure while building markup */
};

/* Lays out `markup` `width` points wide at (x, y), draws it unless only
 * measuring, and returns its height. */
static double text(struct doc *dc, double x, double y, double width, const char *markup,
                   const struct style *st)
{
    if (dc->err || !markup)
        return 0;
    PangoLayout *layout = pango_layout_new(dc->ctx);
    PangoFontDescription *font = pango_font_description_from_string(st->family);
    pango_font_description_set_size(font, (gint)(st->size * dc->scale * PANGO_SCALE));
    pango_font_description_set_weight(font, st->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
    /* Chinese breaks between any two characters; long Latin runs (numbers,
     * URLs) break at word boundaries when they can, anywhere when not. */
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout, st->align);
    pango_layout_set_justify(layout, st->justify);
    pango_layout_set_indent(layout, (int)(st->indent_em * st->size * dc->scale * PANGO_SCALE));
    if (st->spacing > 0)
        pango_layout_set_line_spacing(layout, (float)st->spacing);
    pango_layout_set_markup(layout, markup, -1);
    if (dc->draw) {
        cairo_move_to(dc->cr, x, y);
        pango_cairo_show_layout(dc->cr, layout);
    }
    int w = 0, h = 0;
    pango_layout_get_size(layout, &w, &h);
    g_object_unref(layout);
    return (double)h / PANGO_SCALE;
}

/* Markup building: fixed text as is, facts escaped. */
static void raw(struct doc *dc, bh_buf *m, const char *s)
{
    if (!dc->err)
        dc->err = bh_buf_addstr(m, s);
}

static void esc(struct doc *dc, bh_buf *m, const char *s)
{
    for (; s && *s && !dc->err; s++) {
        switch (*s) {
        case '&':
            dc->err = bh_buf_addstr(m, "&amp;");
            break;
        case '<':
            dc->err = bh_buf_addstr(m, "&lt;");
            break;
        case '>':
            dc->err = bh_buf_addstr(m, "&gt;");
            break;
        case '"':
            dc->err = bh_buf_addstr(m, "&quot;");
            break;
        case '\'':
            dc->err = bh_buf_addstr(m, "&#39;");
            break;
        default:
            dc->err = bh_buf_addch(m, *s);
        }
    }
}

/* Escaped fact in bold. */
static void bold(struct doc *dc, bh_buf *m, const char *s)
{
    raw(dc, m, "<b>");
    esc(dc, m, s);
    raw(dc, m, "</b>");
}

/* The markup as a C string, or NULL after a failure. */
static const char *str(struct doc *dc, bh_buf *m)
{
    return dc->err ? NULL : m->data ? m->data : "";
}

/* Markup of a plain fact, in a buffer of its own (released by the caller). */
static const char *plain(struct doc *dc, bh_buf *m, const char *s)
{
    bh_buf_reset(m);
    esc(dc, m, s);
    return str(dc, m);
}

/* A body paragraph and the small gap after it. */
static double para(struct doc *dc, double y, const char *markup)
{
    return text(dc, MARGIN_X, y, TEXT_W, markup, &st_body) + 0.8 * MM * dc->scale;
}

/* ---- Tables ---- */

/* A row of a four-column key-value table: label | value | label | value, or
 * label | value over the three other columns when label2 is NULL. */
struct row {
    const char *label1, *value1; /* markup */
    const char *label2, *value2;
};

#define LABEL_W (26.0 * MM)
#define PAD_X (2.0 * MM)
#define PAD_Y (1.2 * MM)

static double table_row(struct doc *dc, double y, const struct row *r)
{
    double x0 = MARGIN_X, s = dc->scale;
    double value_w = (TEXT_W - 2 * LABEL_W) / 2;
    double xs[5] = {x0, x0 + LABEL_W, x0 + LABEL_W + value_w, x0 + 2 * LABEL_W + value_w,
                    x0 + TEXT_W};
    int cells = r->label2 ? 4 : 2;
    double cx[4], cw[4];
    const char *markup[4] = {r->label1, r->value1, r->label2, r->value2};
    for (int i = 0; i < cells; i++) {
        cx[i] = xs[i];
        cw[i] = (cells == 2 && i == 1 ? xs[4] : xs[i + 1]) - xs[i];
    }

    /* Measure, then draw each cell centred vertically in the row. */
    int draw = dc->draw;
    dc->draw = 0;
    double h[4], row_h = 0;
    for (int i = 0; i < cells; i++) {
        const struct style *st = i % 2 ? &st_value : &st_label;
        h[i] = text(dc, cx[i] + PAD_X, y, cw[i] - 2 * PAD_X, markup[i], st);
        if (h[i] > row_h)
            row_h = h[i];
    }
    dc->draw = draw;
    row_h += 2 * PAD_Y * s;
    if (!dc->draw)
        return row_h;

    cairo_t *cr = dc->cr;
    for (int i = 0; i < cells; i += 2) {
        cairo_rectangle(cr, cx[i], y, cw[i], row_h);
        cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int i = 0; i < cells; i++) {
        const struct style *st = i % 2 ? &st_value : &st_label;
        text(dc, cx[i] + PAD_X, y + (row_h - h[i]) / 2, cw[i] - 2 * PAD_X, markup[i], st);
        cairo_rectangle(cr, cx[i], y, cw[i], row_h);
    }
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);
    return row_h;
}

static double table(struct doc *dc, double y, const struct row *rows, size_t n)
{
    double top = y;
    for (size_t i = 0; i < n; i++)
        y += table_row(dc, y, &rows[i]);
    /* The outer frame a little heavier than the grid. */
    if (dc->draw) {
        cairo_rectangle(dc->cr, MARGIN_X, top, TEXT_W, y - top);
        cairo_set_line_width(dc->cr, 1.0);
        cairo_stroke(dc->cr);
    }
    return y - top;
}

/* ---- Fitting ---- */

typedef double (*part_fn)(struct doc *dc, double y, const void *ctx);

/* Draws a part in the region from `top` to `bottom` at the largest scale (1
 * or less) at which it fits: from `top` down, or, with `from_bottom`, ending
 * at `bottom`. Sets *drawn_top to where it starts. BH_ETOOBIG when it does
 * not fit even at MIN_SCALE. */
static bh_err fit(struct doc *dc, part_fn fn, const void *ctx, double top, double bottom,
                  int from_bottom, double *drawn_top)
{
    dc->draw = 0;
    for (dc->scale = 1.0; dc->scale >= MIN_SCALE - 1e-9; dc->scale -= SCALE_STEP) {
        double h = fn(dc, top, ctx);
        if (dc->err)
            return dc->err;
        if (top + h <= bottom) {
            double y = from_bottom ? bottom - h : top;
            dc->draw = 1;
            fn(dc, y, ctx);
            if (drawn_top)
                *drawn_top = y;
            return dc->err;
        }
    }
    return BH_ETOOBIG;
}

/* ---- Shared pieces of both documents ---- */

/* An amount in its two written forms: "¥200,000.00" and "人民币贰拾万元整". */
struct amounts {
    char figures[BH__DOC_FIGURES_MAX];
    bh_buf words;
};

/* Everything both documents show, formatted once. */
struct facts {
    const bh_guarantee_facts *g;
    const bh_applicant_details *a;
    struct amounts amount, premium;
    char valid_from[BH__DOC_DATE_TEXT_MAX], valid_to[BH__DOC_DATE_TEXT_MAX];
    char opening[BH__DOC_DATE_TEXT_MAX], issued[BH__DOC_DATE_TEXT_MAX];
    char issue_date[BH__DOC_DATE_TEXT_MAX];
};

static bh_err facts_init(struct facts *f, const bh_guarantee_facts *g,
                         const bh_applicant_details *a)
{
    f->g = g;
    f->a = a;
    bh__doc_figures(g->amount_fen, f->amount.figures);
    bh__doc_figures(g->premium_fen, f->premium.figures);
    bh_buf_init(&f->amount.words, 1024);
    bh_buf_init(&f->premium.words, 1024);
    bh__doc_date(g->valid_from, 1, f->valid_from);
    bh__doc_date(g->valid_to, 1, f->valid_to);
    bh__doc_date(g->kaibiaotime, 1, f->opening);
    bh__doc_date(g->issue_time, 1, f->issued);
    bh__doc_date(g->issue_time, 0, f->issue_date);
    bh_err err = bh_money_capital(g->amount_fen, &f->amount.words);
    if (!err)
        err = bh_money_capital(g->premium_fen, &f->premium.words);
    return err;
}

static void facts_release(struct facts *f)
{
    bh_buf_release(&f->amount.words);
    bh_buf_release(&f->premium.words);
}

/* Markup for a party: "name（统一社会信用代码：code）". */
static const char *party(struct doc *dc, bh_buf *m, const char *name, const char *code)
{
    bh_buf_reset(m);
    esc(dc, m, name);
    if (code && *code) {
        raw(dc, m, "（统一社会信用代码：");
        esc(dc, m, code);
        raw(dc, m, "）");
    }
    return str(dc, m);
}

static const char *amount_markup(struct doc *dc, bh_buf *m, const struct amounts *am)
{
    bh_buf_reset(m);
    raw(dc, m, "<b>");
    esc(dc, m, am->figures);
    raw(dc, m, "</b>（");
    esc(dc, m, am->words.data);
    raw(dc, m, "）");
    return str(dc, m);
}

static const char *validity_markup(struct doc *dc, bh_buf *m, const struct facts *f)
{
    bh_buf_reset(m);
    esc(dc, m, f->valid_from);
    raw(dc, m, " 至 ");
    esc(dc, m, f->valid_to);
    return str(dc, m);
}

static const char *days_markup(struct doc *dc, bh_buf *m, int days)
{
    bh_buf_reset(m);
    if (!dc->err)
        dc->err = bh_buf_addf(m, "%d日", days);
    return str(dc, m);
}

/* Markup buffers for table values, released together. */
#define SLOTS 12
struct slots {
    bh_buf b[SLOTS];
};

static void slots_init(struct slots *s)
{
    for (int i = 0; i < SLOTS; i++)
        bh_buf_init(&s->b[i], MARKUP_MAX);
}

static void slots_release(struct slots *s)
{
    for (int i = 0; i < SLOTS; i++)
        bh_buf_release(&s->b[i]);
}

/* ---- The guarantee ---- */

/* The body of the guarantee: the undertaking in the usual form of a bid
 * guarantee on first demand, then the key facts as a table. */
static double guarantee_flow(struct doc *dc, double y0, const void *ctx)
{
    const struct facts *f = ctx;
    const bh_guarantee_facts *g = f->g;
    double y = y0, s = dc->scale;
    bh_buf m;
    bh_buf_init(&m, MARKUP_MAX);

    y += text(dc, MARGIN_X, y, TEXT_W, "<span letter_spacing=\"12288\">投标保</span>函", &st_title);
    y += 5 * MM * s;

    raw(dc, &m, "保函编号：");
    esc(dc, &m, g->baohanno);
    y += text(dc, MARGIN_X, y, TEXT_W, str(dc, &m), &st_number);
    y += 3 * MM * s;

    bh_buf_reset(&m);
    raw(dc, &m, "致：");
    esc(dc, &m, g->beneficiary);
    y += text(dc, MARGIN_X, y, TEXT_W, str(dc, &m), &st_to);
    y += 1.5 * MM * s;

    /* Whereas… */
    bh_buf_reset(&m);
    raw(dc, &m, "鉴于");
    bold(dc, &m, g->principal);
    raw(dc, &m, "（统一社会信用代码：");
    esc(dc, &m, g->principal_code);
    raw(dc, &m, "，以下简称“投标人”）参加");
    bold(dc, &m, g->project_name);
    raw(dc, &m, "（项目编号：");
    esc(dc, &m, g->project_no);
    raw(dc, &m, "）");
    bold(dc, &m, g->section_name);
    raw(dc, &m, "（标段编号：");
    esc(dc, &m, g->section_no);
    raw(dc, &m, "）的投标，应投标人的申请，");
    bold(dc, &m, g->issuer);
    raw(dc, &m,
        "（以下简称“我方”）就投标人履行招标文件规定的投标义务，向贵方（以下简称"
        "“受益人”）提供无条件、不可撤销的投标保证担保，特出具本保函。");
    y += para(dc, y, str(dc, &m));

    /* The amount, in figures and in capital numerals. */
    bh_buf_reset(&m);
    raw(dc, &m, "一、本保函的担保金额为");
    bold(dc, &m, f->amount.words.data);
    raw(dc, &m, "（");
    bold(dc, &m, f->amount.figures);
    raw(dc, &m, "），我方在本保函项下累计承担的保证责任以该金额为限。");
    y += para(dc, y, str(dc, &m));

    /* The undertaking. */
    y += para(dc, y,
              "二、在本保函有效期内，投标人有下列情形之一的，我方在收到受益人的首次书面索赔"
              "通知后七个工作日内，无条件向受益人支付索赔金额（<b>见索即付</b>）："
              "（一）投标人在投标有效期内撤销或者修改其投标文件的；"
              "（二）投标人在收到中标通知书后无正当理由拒绝签订合同，或者未按照招标文件规定"
              "签订合同的；（三）投标人在收到中标通知书后未按照招标文件规定提交履约担保的；"
              "（四）招标文件规定的不予退还投标保证金的其他情形。受益人的索赔通知应当载明"
              "索赔金额及投标人发生的上述情形，无需另附证明材料，我方不以投标人的任何抗辩"
              "为由拒绝付款。");

    /* Validity. */
    bh_buf_reset(&m);
    raw(dc, &m, "三、本保函自");
    bold(dc, &m, f->valid_from);
    raw(dc, &m, "起生效，至");
    bold(dc, &m, f->valid_to);
    raw(dc, &m, "止失效（开标时间为");
    esc(dc, &m, f->opening);
    if (!dc->err)
        dc->err = bh_buf_addf(&m, "，投标有效期为%d日）。", g->tbyxq_days);
    raw(dc, &m,
        "索赔通知应当在本保函有效期内送达我方；有效期届满，我方的保证责任自动解除，"
        "本保函自动失效。");
    y += para(dc, y, str(dc, &m));

    y += para(dc, y,
              "四、本保函项下的权利不得转让。本保函为电子保函，与纸质保函具有同等法律效力；"
              "因本保函发生的争议适用中华人民共和国法律。本保函主要信息如下：");
    y += 2 * MM * s;

    struct slots v;
    slots_init(&v);
    const struct row rows[] = {
        {"保函编号", plain(dc, &v.b[0], g->baohanno), "业务流水号", plain(dc, &v.b[1], g->applyno)},
        {"项目名称", plain(dc, &v.b[2], g->project_name), NULL, NULL},
        {"项目编号", plain(dc, &v.b[3], g->project_no), "标段编号",
         plain(dc, &v.b[4], g->section_no)},
        {"标段名称", plain(dc, &v.b[5], g->section_name), NULL, NULL},
        {"投标人", party(dc, &v.b[6], g->principal, g->principal_code), NULL, NULL},
        {"受益人", party(dc, &v.b[7], g->beneficiary, g->beneficiary_code), NULL, NULL},
        {"担保金额", amount_markup(dc, &v.b[8], &f->amount), NULL, NULL},
        {"开标时间", f->opening, "投标有效期", days_markup(dc, &v.b[9], g->tbyxq_days)},
        {"保函有效期", validity_markup(dc, &v.b[10], f), NULL, NULL},
    };
    y += table(dc, y, rows, sizeof rows / sizeof rows[0]);
    slots_release(&v);
    bh_buf_release(&m);
    return y - y0;
}

/* Issuer and date, right-aligned over the seal area (whose right edge is the
 * right margin). */
static double guarantee_sign(struct doc *dc, double y, const void *ctx)
{
    const struct facts *f = ctx;
    bh_buf m;
    bh_buf_init(&m, MARKUP_MAX);
    raw(dc, &m, "出函机构：");
    esc(dc, &m, f->g->issuer);
    raw(dc, &m, "\n出函日期：");
    esc(dc, &m, f->issue_date);
    double h = text(dc, MARGIN_X, y, TEXT_W, str(dc, &m), &st_sign);
    bh_buf_release(&m);
    return h;
}

/* The verification URL in small type, right of the QR area. */
static double guarantee_url(struct doc *dc, double y, const void *ctx)
{
    const struct facts *f = ctx;
    bh_buf m;
    bh_buf_init(&m, MARKUP_MAX);
    raw(dc, &m, "本保函可通过以下地址验证真伪：\n");
    esc(dc, &m, f->g->verify_url);
    double h = text(dc, URL_X, y, URL_W, str(dc, &m), &st_small);
    bh_buf_release(&m);
    return h;
}

/* The verification URL as a QR code (error correction level M) filling the
 * QR area with its four-module quiet zone: dark modules as filled
 * rectangles, one per horizontal run, so it is vectors like the rest. */
static bh_err draw_qr(cairo_t *cr, const char *url)
{
    QRcode *qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return BH_ETOOBIG;
    int n = qr->width;
    double m = BH_DOC_QR_SIZE_MM * MM / (n + 8);
    double x0 = BH_DOC_QR_X_MM * MM + 4 * m, y0 = BH_DOC_QR_Y_MM * MM + 4 * m;
    for (int y = 0; y < n; y++) {
        for (int x = 0; x < n;) {
            if (!(qr->data[y * n + x] & 1)) {
                x++;
                continue;
            }
            int run = x;
            while (run < n && (qr->data[y * n + run] & 1))
                run++;
            cairo_rectangle(cr, x0 + x * m, y0 + y * m, (run - x) * m, m);
            x = run;
        }
    }
    QRcode_free(qr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_fill(cr);
    return cairo_status(cr) == CAIRO_STATUS_SUCCESS ? BH_OK : BH_ENOMEM;
}

/* ---- The application form ---- */

static const char *or_dash(const char *s)
{
    return s && *s ? s : "—";
}

static double application_flow(struct doc *dc, double y0, const void *ctx)
{
    const struct facts *f = ctx;
    const bh_guarantee_facts *g = f->g;
    const bh_applicant_details *a = f->a;
    double y = y0, s = dc->scale;
    bh_buf m;
    bh_buf_init(&m, MARKUP_MAX);
    struct slots v;
    slots_init(&v);

    y += text(dc, MARGIN_X, y, TEXT_W, "投标保函电子申请单", &st_title);
    y += 2 * MM * s;
    y += text(dc, MARGIN_X, y, TEXT_W, "（投保申请书）", &st_subtitle);
    y += 4 * MM * s;

    y += text(dc, MARGIN_X, y, TEXT_W, "一、申请事项", &st_heading);
    y += 2 * MM * s;
    const struct row apply[] = {
        {"业务流水号", plain(dc, &v.b[0], g->applyno), "保函编号", plain(dc, &v.b[1], g->baohanno)},
        {"保函类型", "投标保函（见索即付、不可撤销）", "出函机构", plain(dc, &v.b[2], g->issuer)},
        {"项目名称", plain(dc, &v.b[3], g->project_name), NULL, NULL},
        {"项目编号", plain(dc, &v.b[4], g->project_no), "标段编号",
         plain(dc, &v.b[5], g->section_no)},
        {"标段名称", plain(dc, &v.b[6], g->section_name), NULL, NULL},
        {"受益人", party(dc, &v.b[7], g->beneficiary, g->beneficiary_code), NULL, NULL},
        {"担保金额", amount_markup(dc, &v.b[8], &f->amount), NULL, NULL},
        {"开标时间", f->opening, "投标有效期", days_markup(dc, &v.b[9], g->tbyxq_days)},
        {"保函有效期", validity_markup(dc, &v.b[10], f), NULL, NULL},
    };
    y += table(dc, y, apply, sizeof apply / sizeof apply[0]);
    y += 5 * MM * s;

    y += text(dc, MARGIN_X, y, TEXT_W, "二、申请人信息", &st_heading);
    y += 2 * MM * s;
    for (int i = 0; i < SLOTS; i++)
        bh_buf_reset(&v.b[i]);
    const struct row applicant[] = {
        {"申请人", plain(dc, &v.b[0], g->principal), NULL, NULL},
        {"统一社会\n信用代码", plain(dc, &v.b[1], g->principal_code), "法定代表人",
         plain(dc, &v.b[2], a->legal_person)},
        {"法定代表人\n身份证号", plain(dc, &v.b[3], a->legal_person_card_masked),
         "法定代表人\n联系电话", plain(dc, &v.b[4], or_dash(a->legal_person_tel))},
        {"联系人", plain(dc, &v.b[5], a->contact), "联系电话", plain(dc, &v.b[6], a->contact_tel)},
        {"电子邮箱", plain(dc, &v.b[7], or_dash(a->email)), NULL, NULL},
        {"联系地址", plain(dc, &v.b[8], or_dash(a->address)), NULL, NULL},
    };
    y += table(dc, y, applicant, sizeof applicant / sizeof applicant[0]);
    y += 5 * MM * s;

    y += text(dc, MARGIN_X, y, TEXT_W, "三、保费及付款账户", &st_heading);
    y += 2 * MM * s;
    for (int i = 0; i < SLOTS; i++)
        bh_buf_reset(&v.b[i]);
    const struct row pay[] = {
        {"保费", amount_markup(dc, &v.b[0], &f->premium), NULL, NULL},
        {"基本账户\n开户行", plain(dc, &v.b[1], a->basic_account_bank), NULL, NULL},
        {"基本账户\n账号", plain(dc, &v.b[2], a->basic_account_no), "付款要求",
         "须由申请人基本账户支付"},
    };
    y += table(dc, y, pay, sizeof pay / sizeof pay[0]);
    y += 5 * MM * s;

    y += text(dc, MARGIN_X, y, TEXT_W,
              "申请人声明：本申请单所列信息真实、准确、完整；申请人已阅读并同意投标保函的全部"
              "条款，保费由申请人的基本账户支付，自其他账户支付的，保函视为无效。",
              &st_body);
    y += 6 * MM * s;

    bh_buf_reset(&m);
    raw(dc, &m, "申请人：");
    esc(dc, &m, g->principal);
    raw(dc, &m, "\n生成时间：");
    esc(dc, &m, f->issued);
    y += text(dc, MARGIN_X, y, TEXT_W, str(dc, &m), &st_sign);

    slots_release(&v);
    bh_buf_release(&m);
    return y - y0;
}

/* ---- Surfaces ---- */

struct sink {
    bh_buf *out;
    bh_err err;
};

static cairo_status_t write_sink(void *closure, const unsigned char *data, unsigned int length)
{
    struct sink *s = closure;
    if (!s->err)
        s->err = bh_buf_add(s->out, data, length);
    return s->err ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* Text the font cannot show would print as empty boxes: a wrong name on a
 * legal document. Each fact is laid out alone and refused if pango finds no
 * glyph for a character in any installed font. */
static bh_err check_glyphs(struct doc *dc, const char *value, const char *field, bh_diag *d)
{
    if (!value || !*value)
        return BH_OK;
    PangoLayout *layout = pango_layout_new(dc->ctx);
    PangoFontDescription *font = pango_font_description_from_string(SERIF);
    pango_font_description_set_size(font, 10 * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_text(layout, value, -1);
    int unknown = pango_layout_get_unknown_glyphs_count(layout);
    g_object_unref(layout);
    if (unknown > 0)
        return bh_diag_add(d, BH_EFORMAT, field,
                           "holds %d character(s) no installed font can show "
                           "(fonts-noto-cjk provides the CJK characters)",
                           unknown);
    return BH_OK;
}

static bh_err check_all_glyphs(struct doc *dc, const struct facts *f, bh_diag *d)
{
    const bh_guarantee_facts *g = f->g;
    const struct {
        const char *value, *field;
    } texts[] = {
        {g->baohanno, "baohanno"},
        {g->applyno, "applyno"},
        {g->beneficiary, "beneficiary"},
        {g->beneficiary_code, "beneficiary_code"},
        {g->principal, "principal"},
        {g->principal_code, "principal_code"},
        {g->project_name, "project_name"},
        {g->project_no, "project_no"},
        {g->section_name, "section_name"},
        {g->section_no, "section_no"},
        {g->issuer, "issuer"},
        {g->verify_url, "verify_url"},
        {f->a ? f->a->contact : NULL, "contact"},
        {f->a ? f->a->contact_tel : NULL, "contact_tel"},
        {f->a ? f->a->address : NULL, "address"},
        {f->a ? f->a->email : NULL, "email"},
        {f->a ? f->a->legal_person : NULL, "legal_person"},
        {f->a ? f->a->legal_person_tel : NULL, "legal_person_tel"},
        {f->a ? f->a->legal_person_card_masked : NULL, "legal_person_card_masked"},
        {f->a ? f->a->basic_account_bank : NULL, "basic_account_bank"},
        {f->a ? f->a->basic_account_no : NULL, "basic_account_no"},
    };
    bh_err first = BH_OK;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        bh_err err = check_glyphs(dc, texts[i].value, texts[i].field, d);
        if (!first)
            first = err;
    }
    return first;
}

enum kind { GUARANTEE, APPLICATION };

/* Creates the PDF surface writing into `out`, draws the document, and on any
 * failure removes what was appended. */
static bh_err render(enum kind kind, const struct facts *f, bh_buf *out, bh_diag *d)
{
    const bh_guarantee_facts *g = f->g;
    size_t start = out->len;
    struct sink sink = {out, BH_OK};
    cairo_surface_t *surface =
        cairo_pdf_surface_create_for_stream(write_sink, &sink, PAGE_W, PAGE_H);
    cairo_t *cr = cairo_create(surface);
    PangoContext *ctx = pango_cairo_create_context(cr);
    bh_err err = cairo_status(cr) == CAIRO_STATUS_SUCCESS && ctx ? BH_OK : BH_ENOMEM;
    if (err) {
        bh_diag_add(d, err, "", "cannot create the PDF surface");
        goto out;
    }

    /* Metrics independent of any device: no hinting, unrounded positions, so
     * measuring and drawing agree and the PDF scales cleanly. Simplified
     * Chinese glyph forms. */
    cairo_font_options_t *opts = cairo_font_options_create();
    cairo_font_options_set_hint_style(opts, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(opts, CAIRO_HINT_METRICS_OFF);
    pango_cairo_context_set_font_options(ctx, opts);
    cairo_font_options_destroy(opts);
    pango_context_set_round_glyph_positions(ctx, FALSE);
    /* Font sizes are in points and so is the PDF's user space; pango's
     * default of 96 dpi would make every font a third larger. */
    pango_cairo_context_set_resolution(ctx, 72.0);
    pango_context_set_language(ctx, pango_language_from_string("zh-cn"));

    struct doc dc = {cr, ctx, 1.0, 0, BH_OK};
    err = check_all_glyphs(&dc, f, d);
    if (err)
        goto out;

    bh_buf title;
    bh_buf_init(&title, MARKUP_MAX);
    err = bh_buf_addstr(&title, kind == GUARANTEE ? "投标保函 " : "投标保函电子申请单 ");
    if (!err)
        err = bh_buf_addstr(&title, g->baohanno);
    if (!err) {
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title.data);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, g->issuer);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, g->project_name);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR,
                                       "baohand " BAOHAN_VERSION);
        /* No CREATE_DATE: cairo 1.16 turns the ISO 8601 date it is given into
         * a malformed PDF date (no "D:", no closing apostrophe). Left alone
         * it writes the current time correctly (D:…Z), which is the time of
         * issue give or take the rendering; the issue time itself is in the
         * text and the signature's /M. */
    }
    bh_buf_release(&title);
    if (err)
        goto out;

    cairo_set_source_rgb(cr, 0, 0, 0);
    if (kind == GUARANTEE) {
        double sign_top = SIGN_BOTTOM;
        err = fit(&dc, guarantee_sign, f, SIGN_BOTTOM - SIGN_MAX_H, SIGN_BOTTOM, 1, &sign_top);
        if (!err)
            err = fit(&dc, guarantee_flow, f, TOP, sign_top - FLOW_GAP, 0, NULL);
        if (!err && g->verify_url && *g->verify_url)
            err = fit(&dc, guarantee_url, f, URL_TOP, URL_BOTTOM, 0, NULL);
        if (!err && g->verify_url && *g->verify_url)
            err = draw_qr(cr, g->verify_url);
    } else {
        err = fit(&dc, application_flow, f, TOP, BOTTOM, 0, NULL);
    }
    if (err) {
        bh_diag_add(d, err, "",
                    err == BH_ETOOBIG ? "the facts do not fit on one page even in small type"
                                      : "drawing the document failed");
        goto out;
    }
    cairo_show_page(cr);

out:
    if (ctx)
        g_object_unref(ctx);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    cairo_status_t st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (!err && (sink.err || st != CAIRO_STATUS_SUCCESS)) {
        err = sink.err ? sink.err : BH_EIO;
        bh_diag_add(d, err, "", "writing the PDF failed: %s",
                    sink.err ? bh_strerror(sink.err) : cairo_status_to_string(st));
    }
    if (err)
        bh__doc_truncate(out, start);
    return err;
}

static bh_err generate(enum kind kind, const bh_guarantee_facts *g, const bh_applicant_details *a,
                       bh_buf *out, bh_diag *d)
{
    if (!out)
        return bh_diag_add(d, BH_EINVAL, "", "no output buffer given");
    bh_err err = bh__doc_check_facts(g, d);
    if (kind == APPLICATION) {
        bh_err aerr = bh__doc_check_applicant(a, d);
        if (!err)
            err = aerr;
    }
    if (err)
        return err;
    struct facts f;
    err = facts_init(&f, g, a);
    if (!err)
        err = render(kind, &f, out, d);
    else
        bh_diag_add(d, err, "", "cannot write the amounts in capital numerals");
    facts_release(&f);
    return err;
}

bh_err bh_doc_guarantee_pdf(const bh_guarantee_facts *g, bh_buf *out, bh_diag *d)
{
    return generate(GUARANTEE, g, NULL, out, d);
}

bh_err bh_doc_application_pdf(const bh_guarantee_facts *g, const bh_applicant_details *a,
                              bh_buf *out, bh_diag *d)
{
    return generate(APPLICATION, g, a, out, d);
}
