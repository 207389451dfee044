/* File types by their leading bytes (see filetype.h). */
#include <string.h>

#include "filetype.h"
#include "banned.h"

static const struct {
    const char *magic;
    size_t len;
    const char *type;
    const char *extension;
} signatures[] = {
    {"%PDF-", 5, "application/pdf", "pdf"},
    {"\xFF\xD8\xFF", 3, "image/jpeg", "jpg"},
    {"\x89PNG\r\n\x1A\n", 8, "image/png", "png"},
};

const char *bh_sniff_type(const void *data, size_t len)
{
    for (size_t i = 0; i < sizeof signatures / sizeof *signatures; i++)
        if (len >= signatures[i].len && memcmp(data, signatures[i].magic, signatures[i].len) == 0)
            return signatures[i].type;
    return NULL;
}

const char *bh_type_extension(const char *content_type)
{
    for (size_t i = 0; i < sizeof signatures / sizeof *signatures; i++)
        if (strcmp(content_type, signatures[i].type) == 0)
            return signatures[i].extension;
    return "bin";
}
