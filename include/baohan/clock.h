/* Date-times on the wire: "yyyy-MM-dd HH:mm:ss" in China Standard Time (UTC+8,
 * no daylight saving), whatever the host's own time zone. Conversion is pure
 * arithmetic; TZ and the C library's time-zone database are never consulted. */
#ifndef BAOHAN_CLOCK_H
#define BAOHAN_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BH_TIME_TEXT_LEN 19 /* strlen("2026-11-28 10:00:00") */
#define BH_CST_OFFSET_SECONDS (8 * 3600)

/* Parses exactly "yyyy-MM-dd HH:mm:ss" (two-digit fields zero-padded, years
 * 1970..9999) as China Standard Time into seconds since the Unix epoch.
 * BH_EFORMAT, naming `field`, for any other shape or an impossible date or
 * time (2026-02-29, 24:00:00, 12:60:00). Leap seconds are refused. */
bh_err bh_time_parse(const char *text, size_t len, int64_t *unix_seconds, bh_diag *d,
                     const char *field) BH_MUST_CHECK;

/* Writes seconds since the epoch as CST "yyyy-MM-dd HH:mm:ss" plus NUL.
 * Values outside years 1970..9999 are clamped to that range. */
void bh_time_format(int64_t unix_seconds, char out[BH_TIME_TEXT_LEN + 1]);

/* The current time, seconds since the Unix epoch. */
int64_t bh_time_now(void);

#ifdef __cplusplus
}
#endif
#endif
