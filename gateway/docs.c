/* docs.c: GET /docs, the API reference page FastAPI users open first.
 *
 * The page is Swagger UI (swagger-ui-dist, pinned in gateway/docs/package.json, never a
 * hand-written viewer) reading the built-in /openapi.json; "Try it out" calls this origin.
 * Where its two files come from is DOCS_ASSETS:
 *   local  /docs/assets/ (h2o's file handler over DOCS_ASSETS_DIR, which the build fills
 *          with npm, and the container ships in /usr/share/todo-gateway/docs): works offline
 *   cdn    the same version from cdn.jsdelivr.net (FastAPI's default), nothing to ship
 *   off    /docs is 404
 * The page carries its own Content-Security-Policy: scripts only from the assets' origin and
 * the one inline script, allowed by its SHA-256 (CSP Level 3 hash source), so no nonce and
 * no 'unsafe-inline' for scripts; Swagger UI sets style attributes, hence 'unsafe-inline'
 * for styles alone. Every other answer keeps the headers respond.c gives it, CORS included.
 */
#include "docs.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#ifndef GW_SWAGGER_UI_VERSION
#error "GW_SWAGGER_UI_VERSION: gateway/CMakeLists.txt reads it from gateway/docs/package.json"
#endif

#define CDN "https://cdn.jsdelivr.net"

/* The inline script, hashed into the CSP: any change to it changes the hash, computed here. */
static const char init_script[] = "window.onload = function () {\n"
                                  "  window.ui = SwaggerUIBundle({url: \"/openapi.json\", dom_id: \"#swagger-ui\",\n"
                                  "    deepLinking: true, validatorUrl: null, tryItOutEnabled: false});\n"
                                  "};\n";

static char page[2048], csp[512];
static size_t page_len;

/* 'sha256-<base64>' of the inline script (CSP Level 3, 2.3.1 hash-source). */
static int script_hash(char *out, size_t cap)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    if (!EVP_Digest(init_script, strlen(init_script), digest, &n, EVP_sha256(), NULL))
        return -1;
    EVP_EncodeBlock(b64, digest, (int)n);
    return snprintf(out, cap, "'sha256-%s'", b64) < (int)cap ? 0 : -1;
}

int gw_docs_register(h2o_hostconf_t *host, const gw_config_t *cfg)
{
    char hash[128];
    const char *base = cfg->docs_assets == GW_DOCS_CDN ? CDN "/npm/swagger-ui-dist@" GW_SWAGGER_UI_VERSION "/" : "/docs/assets/";
    const char *origin = cfg->docs_assets == GW_DOCS_CDN ? " " CDN : "";

    if (cfg->docs_assets == GW_DOCS_OFF)
        return 0;
    if (script_hash(hash, sizeof(hash)) != 0) {
        gw_log_error("docs: cannot hash the page's script");
        return -1;
    }
    snprintf(csp, sizeof(csp),
             "default-src 'none'; script-src 'self'%s %s; style-src 'self'%s 'unsafe-inline'; img-src 'self'%s data:; "
             "connect-src 'self'; font-src 'self'%s data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
             origin, hash, origin, origin, origin);
    int n = snprintf(page, sizeof(page),
                     "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>todo-gateway API reference</title>\n"
                     "<link rel=\"stylesheet\" href=\"%sswagger-ui.css\">\n"
                     "<link rel=\"icon\" type=\"image/png\" href=\"%sfavicon-32x32.png\">\n"
                     "</head>\n<body>\n<div id=\"swagger-ui\"></div>\n"
                     "<script src=\"%sswagger-ui-bundle.js\"></script>\n<script>%s</script>\n</body>\n</html>\n",
                     base, base, base, init_script);
    if (n < 0 || (size_t)n >= sizeof(page)) {
        gw_log_error("docs: the page does not fit its buffer");
        return -1;
    }
    page_len = (size_t)n;
    if (cfg->docs_assets == GW_DOCS_LOCAL) {
        h2o_pathconf_t *assets = h2o_config_register_path(host, "/docs/assets", 0);
        h2o_file_register(assets, cfg->docs_assets_dir, NULL, NULL, 0);
    }
    return 0;
}

void gw_docs_serve(gw_exchange_t *x, const gw_config_t *cfg)
{
    if (cfg->docs_assets == GW_DOCS_OFF || page_len == 0) {
        gw_respond_error(x, 404, h2o_iovec_init(NULL, 0));
        return;
    }
    gw_respond_header(x, "content-security-policy", h2o_iovec_init(csp, strlen(csp)));
    gw_respond_header(x, "x-content-type-options", h2o_iovec_init(H2O_STRLIT("nosniff")));
    gw_respond_body(x, 200, "text/html; charset=utf-8", h2o_iovec_init(page, page_len));
}
