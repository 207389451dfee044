/* File-system helpers (see include/baohan/fs.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "baohan/fs.h"
#include "banned.h"

bh_err bh_mkdir_p(const char *path, mode_t mode, const char *field, bh_diag *d)
{
    if (!path || !*path)
        return bh_diag_add(d, BH_EINVAL, field, "no directory given");
    char *p = strdup(path);
    if (!p)
        return BH_ENOMEM;
    bh_err err = BH_OK;
    size_t n = strlen(p);
    /* Each prefix ending at a slash, then the whole path. */
    for (size_t i = 1; !err && i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            err = bh_diag_add(d, BH_EIO, field, "cannot create %s: %s", p, strerror(errno));
        p[i] = saved;
    }
    free(p);
    struct stat sb;
    if (!err && (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)))
        err = bh_diag_add(d, BH_EIO, field, "%s is not a directory", path);
    return err;
}
