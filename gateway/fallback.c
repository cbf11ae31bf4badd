/*
 * fallback.c: h2o answers some requests itself, before any handler runs, with
 * h2o_send_error_generic: a plain-text body, no X-Request-Id. It binds such a request to
 * its host's fallback path, where no handler of ours is registered, so an output filter
 * there sees exactly those answers and nothing else, and rewrites them: the same status,
 * the contract's JSON error body, and the headers every answer of the gateway carries.
 * What h2o writes straight to the socket without a request (a request line it cannot parse:
 * "400 Bad Request" and the connection closed) cannot be reached; README "Known limits".
 */
#include "fallback.h"

#include "handler.h"
#include "respond.h"

typedef struct fallback_filter {
    h2o_filter_t super;
    const gw_config_t *cfg;
} fallback_filter_t;

/* Sends the JSON body in place of the text h2o hands down. */
typedef struct json_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body; /* sent with the first call, then empty */
} json_ostream_t;

static void on_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state)
{
    json_ostream_t *os = (json_ostream_t *)self;
    h2o_iovec_t body = os->body;
    (void)bufs, (void)bufcnt; /* h2o's plain text: replaced */
    os->body = h2o_iovec_init(NULL, 0);
    if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        body.len = 0;
    h2o_ostream_send_next(&os->super, req, &body, body.len > 0 ? 1 : 0, state);
}

/* The code and message of each status h2o sends by itself. */
static void describe(int status, const char **code, const char **message)
{
    switch (status) {
    case 400:
        *code = "bad_request", *message = "the request could not be read (broken chunked encoding or headers)";
        break;
    case 413:
        *code = "payload_too_large", *message = "request body is too large";
        break;
    case 417:
        *code = "expectation_failed", *message = "the only expectation supported is 100-continue";
        break;
    default:
        *code = status < 500 ? "bad_request" : "internal_error", *message = "the request could not be served";
        break;
    }
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    const fallback_filter_t *f = (const fallback_filter_t *)self;
    gw_worker_t *w = (gw_worker_t *)req->conn->ctx;
    gw_exchange_t *x = h2o_mem_alloc_pool(&req->pool, sizeof(*x));
    const char *code, *message;
    int status = req->res.status;

    memset(x, 0, sizeof(*x));
    gw_respond_start(x, req, &w->metrics, f->cfg->cors_origins, w->id_prefix, &w->id_counter);
    describe(status, &code, &message);
    json_ostream_t *os = (json_ostream_t *)h2o_add_ostream(req, sizeof(*os), slot);
    os->super.do_send = on_send;
    os->body = gw_respond_adopt_error(x, status, code, message);
    h2o_setup_next_ostream(req, &os->super.next);
}

void gw_fallback_register(h2o_hostconf_t *host, const gw_config_t *cfg)
{
    fallback_filter_t *f = (fallback_filter_t *)h2o_create_filter(&host->fallback_path, sizeof(*f));
    f->super.on_setup_ostream = on_setup_ostream;
    f->cfg = cfg;
}
