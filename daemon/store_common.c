/* The parts of the store interface (store.h) that every backend shares:
 * application state names and the release functions of the records. No SQL
 * here, so the PostgreSQL backend links the same file. */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "banned.h"

/* Indexed by bh_app_state; these are the texts stored in the state column,
 * so they must never change once a database holds them. */
static const char *const state_names[BH_APP_STATE_COUNT_] = {
    [BH_APP_APPLIED] = "applied",
    [BH_APP_SUBMITTED] = "submitted",
    [BH_APP_PAID] = "paid",
    [BH_APP_ISSUED] = "issued",
    [BH_APP_REJECTED] = "rejected",
    [BH_APP_GIVEN_UP] = "given_up",
    [BH_APP_QUIT_REQUESTED] = "quit_requested",
    [BH_APP_QUIT] = "quit",
    [BH_APP_CLAIMED] = "claimed",
};

const char *bh_app_state_name(bh_app_state s)
{
    if ((int)s < 0 || s >= BH_APP_STATE_COUNT_)
        return NULL;
    return state_names[s];
}

bh_err bh_app_state_parse(const char *name, bh_app_state *out)
{
    if (!name || !out)
        return BH_EINVAL;
    for (int i = 0; i < BH_APP_STATE_COUNT_; i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (bh_app_state)i;
            return BH_OK;
        }
    }
    return BH_ENOTFOUND;
}

void bh_app_release(bh_app *app)
{
    if (!app)
        return;
    free(app->appkey);
    free(app->applyno);
    free(app->content_hash);
    free(app->pay_token);
    free(app->request_json);
    free(app->form_json);
    free(app->payment_json);
    free(app->claim_json);
    free(app->biddername);
    free(app->biddercode);
    free(app->baohanno);
    free(app->reason);
    memset(app, 0, sizeof(*app));
}

void bh_app_list_free(bh_app *apps, size_t count)
{
    if (!apps)
        return;
    for (size_t i = 0; i < count; i++)
        bh_app_release(&apps[i]);
    free(apps);
}

void bh_file_release(bh_file *f)
{
    if (!f)
        return;
    free(f->kind);
    free(f->token);
    free(f->content_type);
    free(f->filename);
    free(f->md5);
    free(f->sm3);
    memset(f, 0, sizeof(*f));
}

void bh_notice_release(bh_notice *n)
{
    if (!n)
        return;
    free(n->appkey);
    free(n->iface);
    free(n->plain_json);
    free(n->last_error);
    memset(n, 0, sizeof(*n));
}

void bh_notice_list_free(bh_notice *list, size_t count)
{
    if (!list)
        return;
    for (size_t i = 0; i < count; i++)
        bh_notice_release(&list[i]);
    free(list);
}

/* ---- the platform role ------------------------------------------------------ */

/* Indexed by bh_papp_state; stored texts, never to change. */
static const char *const papp_state_names[BH_PAPP_STATE_COUNT_] = {
    [BH_PAPP_SENDING] = "sending",
    [BH_PAPP_SENT] = "sent",
    [BH_PAPP_REFUSED] = "refused",
    [BH_PAPP_ISSUED] = "issued",
    [BH_PAPP_REJECTED] = "rejected",
    [BH_PAPP_GIVEN_UP] = "given_up",
    [BH_PAPP_QUIT_REQUESTED] = "quit_requested",
    [BH_PAPP_QUIT] = "quit",
    [BH_PAPP_CLAIMED] = "claimed",
};

const char *bh_papp_state_name(bh_papp_state s)
{
    if ((int)s < 0 || s >= BH_PAPP_STATE_COUNT_)
        return NULL;
    return papp_state_names[s];
}

bh_err bh_papp_state_parse(const char *name, bh_papp_state *out)
{
    if (!name || !out)
        return BH_EINVAL;
    for (int i = 0; i < BH_PAPP_STATE_COUNT_; i++) {
        if (strcmp(name, papp_state_names[i]) == 0) {
            *out = (bh_papp_state)i;
            return BH_OK;
        }
    }
    return BH_ENOTFOUND;
}

void bh_papp_release(bh_papp *a)
{
    if (!a)
        return;
    free(a->institution);
    free(a->appkey);
    free(a->applyno);
    free(a->content_hash);
    free(a->request_json);
    free(a->payurl);
    free(a->baohanno);
    free(a->info_json);
    free(a->last_message);
    memset(a, 0, sizeof(*a));
}

void bh_papp_list_free(bh_papp *list, size_t count)
{
    if (!list)
        return;
    for (size_t i = 0; i < count; i++)
        bh_papp_release(&list[i]);
    free(list);
}

void bh_pnotice_release(bh_pnotice *n)
{
    if (!n)
        return;
    free(n->iface);
    free(n->content_hash);
    free(n->plain_json);
    memset(n, 0, sizeof(*n));
}

void bh_filecheck_release(bh_filecheck *f)
{
    if (!f)
        return;
    free(f->field);
    free(f->url);
    free(f->md5_expected);
    free(f->md5_actual);
    free(f->detail);
    memset(f, 0, sizeof(*f));
}

void bh_pnotice_list_free(bh_pnotice *list, size_t count)
{
    for (size_t i = 0; list && i < count; i++)
        bh_pnotice_release(&list[i]);
    free(list);
}

void bh_filecheck_list_free(bh_filecheck *list, size_t count)
{
    for (size_t i = 0; list && i < count; i++)
        bh_filecheck_release(&list[i]);
    free(list);
}
