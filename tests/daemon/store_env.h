/* Helpers shared by the store's tests (test_store*.c): a fresh temporary
 * directory per test, opening the store there, removing it afterwards, and
 * reading the database file directly. Header-only; every function is
 * static, and unused ones are fine. */
#ifndef BAOHAN_TESTS_STORE_ENV_H
#define BAOHAN_TESTS_STORE_ENV_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

struct env {
    char dir[64];
    char db[128];
    char files[128];
};

__attribute__((unused)) static void env_init(struct env *e)
{
    snprintf(e->dir, sizeof(e->dir), "/tmp/bh-store-XXXXXX");
    if (!mkdtemp(e->dir)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(e->db, sizeof(e->db), "%s/baohan.db", e->dir);
    snprintf(e->files, sizeof(e->files), "%s/files", e->dir);
}

__attribute__((unused)) static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[512];
            snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

__attribute__((unused)) static bh_store *open_store(const struct env *e)
{
    bh_store *s = NULL;
    bh_diag d = BH_DIAG_INIT;
    bh_err err = bh_store_open(e->db, e->files, &s, &d);
    if (err) {
        fprintf(stderr, "bh_store_open: %s: %s\n", bh_strerror(err),
                d.count ? d.items[0].message : "");
        exit(2);
    }
    bh_diag_release(&d);
    return s;
}

__attribute__((unused)) static int64_t raw_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open(db, &h) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* A thread that closes a store (close while units are queued). */
struct closer {
    bh_store *s;
};

__attribute__((unused)) static void *closer_main(void *arg)
{
    bh_store_close(((struct closer *)arg)->s);
    return NULL;
}

#endif
