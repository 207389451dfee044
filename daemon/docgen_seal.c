/* The guarantee's signature and its visible form, the institution's
 * electronic seal (see docgen.h, docs/signing.md).
 *
 * The seal is the signature widget's appearance stream: a red ring, the
 * issuer's name along the top of the rim, a five-pointed star in the middle
 * and "保函专用章" under it. Everything is drawn as filled paths: the name's
 * glyphs are laid out with pango, turned into outlines with
 * pango_cairo_layout_path() on a scratch cairo context, read back with
 * cairo_copy_path() and written as PDF path operators (m l c h f). So the
 * appearance needs no font (nothing to embed, nothing a reader could
 * substitute) and no image someone has to supply. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cairo.h>
#include <pango/pangocairo.h>

#include "docgen_impl.h"
#include "banned.h"

#define MM (72.0 / 25.4)
#define SEAL (BH_DOC_SEAL_SIZE_MM * MM)
#define SEAL_FONT "Noto Sans CJK SC, Noto Serif CJK SC, sans-serif"
#define RED "0.85 0.07 0.09 rg\n"
#define PI 3.14159265358979323846

/* Appends one number with three decimals, the way PDF wants it (no
 * exponent, '.' whatever the locale). */
static bh_err num(bh_buf *b, double v)
{
    long long milli = llround(v * 1000.0);
    const char *sign = milli < 0 ? "-" : "";
    if (milli < 0)
        milli = -milli;
    return bh_buf_addf(b, "%s%lld.%03lld ", sign, milli / 1000, milli % 1000);
}

/* A circle of radius r around (cx, cy) as four Bézier arcs, in PDF
 * coordinates; clockwise when `cw`. */
static bh_err circle(bh_buf *b, double cx, double cy, double r, int cw)
{
    const double k = 0.5522847498 * r;
    double s = cw ? -1.0 : 1.0;
    /* Start at the right, go round through top (or bottom when clockwise). */
    double pts[4][6] = {
        {cx + r, cy + s * k, cx + k, cy + s * r, cx, cy + s * r},
        {cx - k, cy + s * r, cx - r, cy + s * k, cx - r, cy},
        {cx - r, cy - s * k, cx - k, cy - s * r, cx, cy - s * r},
        {cx + k, cy - s * r, cx + r, cy - s * k, cx + r, cy},
    };
    bh_err err = num(b, cx + r);
    if (!err)
        err = num(b, cy);
    if (!err)
        err = bh_buf_addstr(b, "m\n");
    for (int i = 0; !err && i < 4; i++) {
        for (int j = 0; !err && j < 6; j++)
            err = num(b, pts[i][j]);
        if (!err)
            err = bh_buf_addstr(b, "c\n");
    }
    return err ? err : bh_buf_addstr(b, "h\n");
}

/* A five-pointed star of outer radius r, one point up. */
static bh_err star(bh_buf *b, double cx, double cy, double r)
{
    double inner = r * 0.382;
    bh_err err = BH_OK;
    for (int i = 0; i < 10 && !err; i++) {
        double a = PI / 2 + i * PI / 5, rr = i % 2 ? inner : r;
        err = num(b, cx + rr * cos(a));
        if (!err)
            err = num(b, cy + rr * sin(a));
        if (!err)
            err = bh_buf_addstr(b, i == 0 ? "m\n" : "l\n");
    }
    return err ? err : bh_buf_addstr(b, "h f\n");
}

/* The current cairo path (y down, SEAL high) as PDF operators (y up). */
static bh_err emit_path(bh_buf *b, cairo_t *cr)
{
    cairo_path_t *path = cairo_copy_path(cr);
    if (!path || path->status != CAIRO_STATUS_SUCCESS) {
        cairo_path_destroy(path);
        return BH_ENOMEM;
    }
    bh_err err = BH_OK;
    for (int i = 0; i < path->num_data && !err; i += path->data[i].header.length) {
        cairo_path_data_t *p = &path->data[i];
        static const char *const ops[] = {"m\n", "l\n", "c\n", "h\n"};
        int points = p->header.type == CAIRO_PATH_CURVE_TO ? 3
                     : p->header.type == CAIRO_PATH_CLOSE_PATH ? 0
                                                                : 1;
        for (int k = 1; k <= points && !err; k++) {
            err = num(b, p[k].point.x);
            if (!err)
                err = num(b, SEAL - p[k].point.y);
        }
        if (!err)
            err = bh_buf_addstr(b, ops[p->header.type]);
    }
    cairo_path_destroy(path);
    return err;
}

static PangoLayout *glyph_layout(PangoContext *ctx, const char *text, size_t len, double size)
{
    PangoLayout *layout = pango_layout_new(ctx);
    PangoFontDescription *font = pango_font_description_from_string(SEAL_FONT);
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    pango_font_description_set_weight(font, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_text(layout, text, (int)len);
    return layout;
}

/* Adds the outline of `text` centred at (x, y), turned by `angle` (radians,
 * clockwise, 0 upright), to the cairo path. */
static void add_text(cairo_t *cr, PangoContext *ctx, const char *text, size_t len, double size,
                     double x, double y, double angle)
{
    PangoLayout *layout = glyph_layout(ctx, text, len, size);
    PangoRectangle ink, logical;
    pango_layout_get_extents(layout, &ink, &logical);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    cairo_move_to(cr, -(double)logical.width / PANGO_SCALE / 2,
                  -(double)logical.height / PANGO_SCALE / 2);
    pango_cairo_layout_path(cr, layout);
    cairo_restore(cr);
    g_object_unref(layout);
}

/* The name's characters (UTF-8 sequences) spread over the top of the rim. */
static void rim_text(cairo_t *cr, PangoContext *ctx, const char *name, double cx, double cy,
                     double r_outer)
{
    size_t n = bh_utf8_length(name, strlen(name));
    if (n == 0)
        return;
    /* Longer names take more of the circle and smaller characters. */
    double span = n <= 4 ? PI * 0.6 : n >= 20 ? PI * 1.55 : PI * (0.6 + 0.95 * (double)(n - 4) / 16);
    double size = fmin(r_outer * 0.26, 0.9 * (r_outer * 0.72) * span / (double)n);
    double r_text = r_outer - size * 0.75;
    const char *p = name;
    for (size_t i = 0; i < n; i++) {
        size_t len = 1;
        unsigned char c = (unsigned char)*p;
        len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        double theta = -span / 2 + span * ((double)i + 0.5) / (double)n;
        add_text(cr, ctx, p, len, size, cx + r_text * sin(theta), cy - r_text * cos(theta),
                 theta);
        p += len;
    }
}

bh_err bh__doc_seal_appearance(const char *issuer, bh_buf *out)
{
    double c = SEAL / 2, r = SEAL / 2 - 1.0, ring = 1.3 * MM;
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
    cairo_t *cr = cairo_create(surface);
    PangoContext *ctx = pango_cairo_create_context(cr);
    bh_err err = cairo_status(cr) == CAIRO_STATUS_SUCCESS && ctx ? BH_OK : BH_ENOMEM;
    if (!err) {
        cairo_font_options_t *opts = cairo_font_options_create();
        cairo_font_options_set_hint_style(opts, CAIRO_HINT_STYLE_NONE);
        cairo_font_options_set_hint_metrics(opts, CAIRO_HINT_METRICS_OFF);
        pango_cairo_context_set_font_options(ctx, opts);
        cairo_font_options_destroy(opts);
        pango_cairo_context_set_resolution(ctx, 72.0);
        pango_context_set_language(ctx, pango_language_from_string("zh-cn"));
    }
    /* The ring: two circles of opposite directions filled with the
     * non-zero rule leave the band between them. */
    if (!err)
        err = bh_buf_addstr(out, "q\n" RED);
    if (!err)
        err = circle(out, c, c, r, 0);
    if (!err)
        err = circle(out, c, c, r - ring, 1);
    if (!err)
        err = bh_buf_addstr(out, "f\n");
    if (!err)
        err = star(out, c, c + r * 0.05, r * 0.3);
    if (!err) {
        cairo_new_path(cr);
        rim_text(cr, ctx, issuer, c, c, r - ring - 1.2);
        add_text(cr, ctx, "保函专用章", strlen("保函专用章"), r * 0.17, c, c + r * 0.5, 0);
        err = emit_path(out, cr);
    }
    if (!err)
        err = bh_buf_addstr(out, "f\nQ\n");
    if (ctx)
        g_object_unref(ctx);
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    return err;
}

bh_err bh_doc_sign_guarantee(const void *pdf, size_t len, const bh_signer *signer,
                             const char *issuer, int64_t when, bh_buf *out, bh_diag *d)
{
    if (!pdf || !signer || !issuer || !out)
        return bh_diag_add(d, BH_EINVAL, "", "no PDF, signer, issuer or output given");
    bh_buf ap;
    bh_buf_init(&ap, (size_t)4 * 1024 * 1024);
    bh_err err = bh__doc_seal_appearance(issuer, &ap);
    if (err) {
        bh_buf_release(&ap);
        return bh_diag_add(d, err, "", "cannot draw the seal");
    }
    /* PDF's y runs up from the bottom of the 297 mm page. */
    double x0 = BH_DOC_SEAL_X_MM * MM;
    double y0 = (297.0 - BH_DOC_SEAL_Y_MM - BH_DOC_SEAL_SIZE_MM) * MM;
    bh_pdf_sig_opts o = {
        {x0, y0, x0 + SEAL, y0 + SEAL}, ap.data, ap.len, "出具投标保函（电子签章）", NULL, when,
    };
    err = bh_pdf_sign(pdf, len, signer, &o, out, d);
    bh_buf_release(&ap);
    return err;
}
