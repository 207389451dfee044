/* What the deliberately wrong test doubles share: a command line of
 * "--name value" pairs, serving with cli/conform_http.c until SIGTERM, and
 * JSON answers. Test-only: built for tests/cli/test_conform_doubles.sh, never
 * installed, not tests themselves. */
#ifndef BAOHAN_TESTS_DOUBLE_H
#define BAOHAN_TESTS_DOUBLE_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baohan/baohan.h"
#include "conform_http.h"

/* The value of --`name` in argv, or NULL. */
static inline const char *double_arg(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i += 2)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            return argv[i + 1];
    return NULL;
}

/* Serves on `listen` until SIGTERM or SIGINT; prints "listening on port N"
 * on stderr once bound (the test reads the port there). Returns the exit status. */
static inline int double_serve(const char *prog, const char *listen, conform_http_fn fn, void *ctx)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the server's threads inherit it */
    conform_http *h = NULL;
    unsigned port = 0;
    char why[300];
    if (conform_http_start(listen, BH_MSG_MAX_REQUEST, fn, ctx, &h, &port, why, sizeof why)) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 2;
    }
    fprintf(stderr, "%s: listening on port %u\n", prog, port);
    int sig = 0;
    sigwait(&set, &sig);
    conform_http_stop(h);
    return 0;
}

#endif
