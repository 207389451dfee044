/* libbaohan: the Zhangzhou e-guarantee docking protocol (V2.3) as a library.
 * Include this header for the whole public API. */
#ifndef BAOHAN_H
#define BAOHAN_H

#include "body.h"
#include "buf.h"
#include "client.h"
#include "clock.h"
#include "codec.h"
#include "error.h"
#include "fs.h"
#include "gm.h"
#include "money.h"
#include "pdfsign.h"
#include "msg.h"
#include "schema.h"
#include "seal.h"
#include "sign.h"

#define BAOHAN_VERSION "0.1.0"

#endif
