/* A minimal assertion kit for unit tests: each test file is one executable
 * with several test functions; a failed CHECK prints the file, line and the
 * expression and marks the run failed, and main() exits non-zero. */
#ifndef BAOHAN_TEST_CHECK_H
#define BAOHAN_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Compares two C strings, printing both on mismatch. */
#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *check_g_ = (got), *check_w_ = (want);                                          \
        check_count++;                                                                             \
        if (!check_g_ || !check_w_ || strcmp(check_g_, check_w_) != 0) {                           \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n  got:  %s\n  want: %s\n", __FILE__,     \
                    __LINE__, #got, check_g_ ? check_g_ : "(null)",                                \
                    check_w_ ? check_w_ : "(null)");                                               \
        }                                                                                          \
    } while (0)

/* Compares two integers (e.g. bh_err codes), printing both on mismatch. */
#define CHECK_EQ(got, want)                                                                        \
    do {                                                                                           \
        long long check_g_ = (long long)(got), check_w_ = (long long)(want);                       \
        check_count++;                                                                             \
        if (check_g_ != check_w_) {                                                                \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s\n  got:  %lld\n  want: %lld\n", __FILE__,  \
                    __LINE__, #got, check_g_, check_w_);                                           \
        }                                                                                          \
    } while (0)

/* Runs one test function and names it in the output. */
#define RUN(test)                                                                                  \
    do {                                                                                           \
        int check_before_ = check_failures;                                                        \
        test();                                                                                    \
        printf("%s %s\n", check_failures == check_before_ ? "ok  " : "FAIL", #test);               \
    } while (0)

/* Ends main(): prints the tally and returns the exit status. */
#define CHECK_DONE()                                                                               \
    (printf("%d checks, %d failed\n", check_count, check_failures),                                \
     check_failures ? EXIT_FAILURE : EXIT_SUCCESS)

/* Deterministic pseudo-random bytes (xorshift64), for tests that compare
 * two implementations on many inputs: the same run every time. */
__attribute__((unused)) static void check_random_bytes(void *out, size_t n)
{
    static unsigned long long state = 0x9e3779b97f4a7c15ull;
    unsigned char *p = out;
    for (size_t i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        p[i] = (unsigned char)state;
    }
}

/* Reads a stream to its end into a NUL-terminated malloc'd string (its
 * length in *len when len is not NULL); NULL when out of memory. */
__attribute__((unused)) static char *check_read_stream(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0, got;
    char *data = malloc(cap);
    while (data && (got = fread(data + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *bigger = realloc(data, cap * 2);
            if (!bigger) {
                free(data);
                return NULL;
            }
            data = bigger;
            cap *= 2;
        }
    }
    if (!data)
        return NULL;
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

/* Reads a whole file into a NUL-terminated malloc'd string; aborts the test
 * run if it cannot (a missing fixture is a broken test, not a failed check). */
__attribute__((unused)) static char *check_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open fixture %s\n", path);
        exit(2);
    }
    char *data = check_read_stream(f, len);
    fclose(f);
    if (!data) {
        fprintf(stderr, "out of memory reading %s\n", path);
        exit(2);
    }
    return data;
}

#endif
