/* TEMPORARY: synchronous stand-in for bh_store_submit. */
#include "store_shim.h"
bh_err bh_store_submit(bh_store *s, bh_tx_fn fn, void *ctx, bh_store_done_fn done, void *done_ctx)
{
    bh_err rc = bh_store_write(s, fn, ctx);
    done(done_ctx, rc);
    return BH_OK;
}
