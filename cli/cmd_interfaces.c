/* baohan interfaces: the interface list and field tables, printed from the
 * library's schema tables (the same tables that drive validation). */
#include <stdio.h>
#include <string.h>

#include "common.h"

/* The type column: the type and its limits, e.g. "text(64)", "int(1..3650)";
 * in Markdown the "|" between enum values is escaped. */
static bh_err type_text(const bh_fspec *f, int markdown, bh_buf *out)
{
    switch (f->type) {
    case BH_T_TEXT:
        return f->max_len ? bh_buf_addf(out, "text(%zu)", f->max_len) : bh_buf_addstr(out, "text");
    case BH_T_MONEY:
        return bh_buf_addstr(out, "money");
    case BH_T_RATE:
        return bh_buf_addstr(out, "rate");
    case BH_T_DATETIME:
        return bh_buf_addstr(out, "datetime");
    case BH_T_INT:
        return bh_buf_addf(out, "int(%lld..%lld)", f->min, f->max);
    case BH_T_ENUM: {
        bh_err err = bh_buf_addstr(out, "enum(");
        for (size_t i = 0; !err && f->enum_values && f->enum_values[i]; i++)
            err = bh_buf_addf(out, "%s%s", !i ? "" : markdown ? "\\|" : "|", f->enum_values[i]);
        return err ? err : bh_buf_addch(out, ')');
    }
    case BH_T_URL:
        return f->max_len ? bh_buf_addf(out, "url(%zu)", f->max_len) : bh_buf_addstr(out, "url");
    case BH_T_CREDITCODE:
        return bh_buf_addstr(out, "creditcode");
    case BH_T_JSONARRAY:
        return bh_buf_addstr(out, "jsonarray");
    case BH_T_MD5:
        return bh_buf_addstr(out, "md5");
    case BH_T_BASE64:
        return f->max_len ? bh_buf_addf(out, "base64(%zu bytes)", f->max_len)
                          : bh_buf_addstr(out, "base64");
    case BH_T_OBJECT:
        return bh_buf_addstr(out, "object");
    case BH_T_DIVISION:
        return bh_buf_addstr(out, "division");
    }
    return bh_buf_addstr(out, "?");
}

static const char *required_text(const bh_fspec *f)
{
    if (f->flags & BH_F_REQUIRED)
        return "required";
    if (f->flags & BH_F_ON_SUCCESS)
        return "if code=1";
    return "optional";
}

/* The spec of row `i` of a section: the common fields first, then the table. */
static const bh_fspec *row_at(const bh_fspec *common, size_t ncommon, const bh_fspec *table,
                              size_t i)
{
    return i < ncommon ? &common[i] : &table[i - ncommon];
}

/* One section of the table ("request", "response", "data"), aligned or as
 * Markdown. The common fields, when given, come first. */
static bh_err print_table(const char *title, const bh_fspec *common, size_t ncommon,
                          const bh_fspec *table, size_t n, int markdown, bh_buf *out)
{
    size_t width = strlen("field"), twidth = strlen("type");
    bh_buf type;
    bh_buf_init(&type, 4096);
    bh_err err = BH_OK;
    /* Column widths for the aligned form. */
    for (size_t i = 0; i < ncommon + n && !err; i++) {
        const bh_fspec *f = row_at(common, ncommon, table, i);
        bh_buf_reset(&type);
        err = type_text(f, markdown, &type);
        width = strlen(f->name) > width ? strlen(f->name) : width;
        twidth = type.len > twidth ? type.len : twidth;
    }
    if (!err && markdown)
        err = bh_buf_addf(out,
                          "\n%s:\n\n| field | required | encrypted | type | label |\n"
                          "|---|---|---|---|---|\n",
                          title);
    else if (!err)
        err = bh_buf_addf(out, "\n%s:\n  %-*s  %-9s  %-9s  %-*s  %s\n", title, (int)width, "field",
                          "required", "encrypted", (int)twidth, "type", "label");
    for (size_t i = 0; i < ncommon + n && !err; i++) {
        const bh_fspec *f = row_at(common, ncommon, table, i);
        const char *enc = (f->flags & BH_F_ENCRYPTED) ? "yes" : "-";
        const char *label = f->label ? f->label : "";
        bh_buf_reset(&type);
        err = type_text(f, markdown, &type);
        if (!err && markdown)
            err = bh_buf_addf(out, "| %s | %s | %s | %s | %s |\n", f->name, required_text(f), enc,
                              type.data, label);
        else if (!err)
            err = bh_buf_addf(out, "  %-*s  %-9s  %-9s  %-*s  %s\n", (int)width, f->name,
                              required_text(f), enc, (int)twidth, type.data, label);
    }
    bh_buf_release(&type);
    return err;
}

static bh_err describe(const bh_iface *it, int markdown, bh_buf *out)
{
    size_t ncommon;
    const bh_fspec *common = bh_common_fields(&ncommon);
    const char *who = it->served_by == BH_SIDE_INSTITUTION ? "institution" : "platform";
    bh_err err =
        markdown ? bh_buf_addf(out, "### %s — %s\n\nServed by the %s.\n", it->name, it->title, who)
                 : bh_buf_addf(out, "%s  %s  (served by the %s)\n", it->name, it->title, who);
    if (!err)
        err = print_table("request", common, ncommon, it->request, it->nrequest, markdown, out);
    if (!err)
        err = print_table("response", NULL, 0, it->response, it->nresponse, markdown, out);
    if (!err && it->data)
        err = print_table("response data object", NULL, 0, it->data, it->ndata, markdown, out);
    return err;
}

static bh_err list(int markdown, bh_buf *out)
{
    bh_err err =
        markdown ? bh_buf_addstr(out, "| interface | served by | title |\n|---|---|---|\n") : BH_OK;
    for (size_t i = 0; i < bh_iface_count() && !err; i++) {
        const bh_iface *it = bh_iface_at(i);
        const char *who = it->served_by == BH_SIDE_INSTITUTION ? "institution" : "platform";
        err = markdown ? bh_buf_addf(out, "| %s | %s | %s |\n", it->name, who, it->title)
                       : bh_buf_addf(out, "%-14s %-12s %s\n", it->name, who, it->title);
    }
    return err;
}

static int run_interfaces(int argc, char **argv)
{
    const cli_cmd *cmd = &cli_cmd_interfaces;
    const char *pos[1];
    size_t npos;
    int markdown = 0;
    const cli_opt opts[] = {{"markdown", NULL, &markdown}, {NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, 0, 1, pos, &npos);
    if (rc != CLI_CONTINUE)
        return rc;
    const bh_iface *it = NULL;
    if (npos) {
        rc = cli_find_iface(cmd, pos[0], &it);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    bh_buf out;
    bh_buf_init(&out, BH_BUF_MAX_DEFAULT);
    bh_err err = it ? describe(it, markdown, &out) : list(markdown, &out);
    if (err != BH_OK)
        rc = cli_internal(cmd, err);
    else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = CLI_EXIT_INTERNAL;
    else
        rc = CLI_EXIT_OK;
    bh_buf_release(&out);
    return rc;
}

const cli_cmd cli_cmd_interfaces = {
    "interfaces",
    "list the interfaces, or show one's field table",
    "usage: baohan interfaces [--markdown] [NAME]\n",
    "Without NAME, lists the seven interfaces: name, which side serves it, and\n"
    "the specification's title. With NAME, prints its field tables (request,\n"
    "response, and getbaohaninfo's data object): field, required, encrypted\n"
    "(密文), type with its limits, and the specification's label. The tables are\n"
    "the ones validation and encryption use.\n"
    "\n"
    "Options:\n"
    "  --markdown  print Markdown tables\n",
    run_interfaces,
};
