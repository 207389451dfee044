/* File-system helpers shared by the library, the CLI and the daemon. */
#ifndef BAOHAN_FS_H
#define BAOHAN_FS_H

#include <sys/types.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mkdir -p: creates `path` and every missing parent with `mode` (existing
 * ones are left as they are). BH_EIO, named `field` in `d`, with the path
 * that could not be created and why, or when `path` exists but is not a
 * directory. */
bh_err bh_mkdir_p(const char *path, mode_t mode, const char *field, bh_diag *d) BH_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif
