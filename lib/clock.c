/* Wire date-times in China Standard Time (see include/baohan/clock.h and
 * docs/internals/clock.md). Conversion is plain calendar arithmetic: mktime(),
 * localtime() and friends follow the host's TZ, and a server outside China (or
 * a container with TZ unset) would then shift every timestamp by hours. */
#include <stdint.h>
#include <time.h>

#include "baohan/clock.h"
#include "banned.h"

#define MIN_YEAR 1970
#define MAX_YEAR 9999
#define SECONDS_PER_DAY 86400

static const char prefix[] =
    "must be a date-time \"yyyy-MM-dd HH:mm:ss\" in China Standard Time (e.g. 2026-11-28 10:00:00)";

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil, restricted to years >= 1 so every division is of a
 * non-negative number and truncation equals floor). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil, for dates from 0000-03-01 on (again so that
 * every division is of a non-negative number). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* One numeric field of the layout: how many digits, and the separator
 * expected right after it ('\0' for the end of the text). */
struct slot {
    unsigned char width;
    char after;
};

static const struct slot layout[6] = {
    {4, '-'}, {2, '-'}, {2, ' '}, {2, ':'}, {2, ':'}, {2, '\0'},
};

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Walks the text field by field so a refusal can name what is wrong (a sign,
 * a missing zero pad, a 'T' for the space) instead of only "bad shape". */
static bh_err scan(const char *text, size_t len, int64_t v[6], bh_diag *d, const char *field)
{
    if (len == 0)
        return bh_diag_add(d, BH_EFORMAT, field, "%s; got empty text", prefix);

    size_t pos = 0;
    for (int f = 0; f < 6; f++) {
        size_t start = pos;
        int64_t value = 0;
        /* Read at most one digit past the width: enough to know it is too
         * wide, and the value cannot overflow. */
        while (pos < len && pos - start <= layout[f].width && is_digit((unsigned char)text[pos]))
            value = value * 10 + (text[pos++] - '0');
        size_t width = pos - start;
        if (width == 0) {
            if (pos == len)
                return bh_diag_add(d, BH_EFORMAT, field, "%s; got text that ends early", prefix);
            unsigned char c = (unsigned char)text[pos];
            if (c == '+' || c == '-')
                return bh_diag_add(d, BH_EFORMAT, field, "%s; got a sign (+ or -)", prefix);
            if (is_space(c))
                return bh_diag_add(d, BH_EFORMAT, field, "%s; got whitespace where a digit belongs",
                                   prefix);
            return bh_diag_add(d, BH_EFORMAT, field, "%s; got a non-digit where a digit belongs",
                               prefix);
        }
        if (width != layout[f].width)
            return bh_diag_add(d, BH_EFORMAT, field,
                               "%s; got a field of the wrong width (year four digits, the others "
                               "two, zero-padded)",
                               prefix);
        v[f] = value;
        if (layout[f].after == '\0') {
            if (pos != len)
                return bh_diag_add(d, BH_EFORMAT, field, "%s; got trailing characters", prefix);
        } else {
            if (pos == len)
                return bh_diag_add(d, BH_EFORMAT, field, "%s; got text that ends early", prefix);
            if (text[pos] != layout[f].after)
                return bh_diag_add(d, BH_EFORMAT, field,
                                   "%s; got a wrong separator ('-' in the date, one space, ':' in "
                                   "the time)",
                                   prefix);
            pos++;
        }
    }
    return BH_OK;
}

bh_err bh_time_parse(const char *text, size_t len, int64_t *unix_seconds, bh_diag *d,
                     const char *field)
{
    if (!unix_seconds || (!text && len))
        return bh_diag_add(d, BH_EINVAL, field, "internal error: NULL argument to time parser");

    int64_t v[6];
    bh_err err = scan(text, len, v, d, field);
    if (err)
        return err;

    int64_t year = v[0];
    int month = (int)v[1], day = (int)v[2], hour = (int)v[3], minute = (int)v[4],
        second = (int)v[5];
    /* A well-formed date outside the supported years is a range problem, not
     * a shape problem: say so with BH_ERANGE. */
    if (year < MIN_YEAR || year > MAX_YEAR)
        return bh_diag_add(d, BH_ERANGE, field, "must have a year from 1970 to 9999");
    if (month < 1 || month > 12)
        return bh_diag_add(d, BH_EFORMAT, field, "%s; got a month outside 01..12", prefix);
    if (day < 1 || day > days_in_month(year, month))
        return bh_diag_add(d, BH_EFORMAT, field, "%s; got a day that does not exist in its month",
                           prefix);
    if (hour > 23)
        return bh_diag_add(d, BH_EFORMAT, field, "%s; got an hour outside 00..23", prefix);
    if (minute > 59)
        return bh_diag_add(d, BH_EFORMAT, field, "%s; got a minute outside 00..59", prefix);
    if (second > 59)
        return bh_diag_add(d, BH_EFORMAT, field,
                           "%s; got a second outside 00..59 (leap seconds are refused)", prefix);

    int64_t days = days_from_civil(year, month, day);
    *unix_seconds =
        days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - BH_CST_OFFSET_SECONDS;
    return BH_OK;
}

/* Writes the low `width` decimal digits of non-negative `v`, zero-padded. */
static void put_digits(char *dst, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        dst[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void bh_time_format(int64_t unix_seconds, char out[BH_TIME_TEXT_LEN + 1])
{
    /* Clamp before adding the offset so INT64_MIN/INT64_MAX cannot overflow. */
    const int64_t lo = days_from_civil(MIN_YEAR, 1, 1) * SECONDS_PER_DAY - BH_CST_OFFSET_SECONDS;
    const int64_t hi =
        (days_from_civil(MAX_YEAR, 12, 31) + 1) * SECONDS_PER_DAY - 1 - BH_CST_OFFSET_SECONDS;
    if (unix_seconds < lo)
        unix_seconds = lo;
    if (unix_seconds > hi)
        unix_seconds = hi;

    int64_t local = unix_seconds + BH_CST_OFFSET_SECONDS; /* >= 0 after clamping */
    int64_t days = local / SECONDS_PER_DAY;
    int64_t rem = local % SECONDS_PER_DAY;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);

    /* Every field is in range here, so the digits are placed directly: no
     * snprintf whose output length the compiler (or a reader) must bound. */
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = ' ';
    put_digits(out + 11, rem / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, rem / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, rem % 60, 2);
    out[BH_TIME_TEXT_LEN] = '\0';
}

int64_t bh_time_now(void)
{
    struct timespec ts;
    /* CLOCK_REALTIME cannot fail on a supported system; fall back to time()
     * rather than return garbage if it somehow does. */
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL);
    return (int64_t)ts.tv_sec;
}
