#include "framing.h"

#include <string.h>
#include <strings.h>

/* picohttpparser, built into libh2o-evloop (its symbols are exported) but its header is not
 * packaged: the two declarations below are those of h2o 2.2.5's
 * deps/picohttpparser/picohttpparser.h. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path, size_t *path_len,
                      int *minor_version, struct phr_header *headers, size_t *num_headers, size_t last_len);

#define MAX_HEADERS 100 /* h2o's H2O_MAX_HEADERS: h2o refused the request itself beyond it */

static int is_name(const struct phr_header *h, const char *lower)
{
    size_t n = strlen(lower);
    return h->name_len == n && strncasecmp(h->name, lower, n) == 0;
}

static int all_digits(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

const char *gw_framing_check(const char *head, size_t len)
{
    struct phr_header headers[MAX_HEADERS];
    size_t nheaders = MAX_HEADERS, method_len, path_len;
    const char *method, *path;
    int minor;
    int content_lengths = 0, transfer_encodings = 0, hosts = 0;

    if (phr_parse_request(head, len, &method, &method_len, &path, &path_len, &minor, headers, &nheaders, 0) < 0)
        return "the header section does not parse";
    for (size_t i = 0; i < nheaders; i++) {
        const struct phr_header *h = headers + i;
        if (h->name == NULL || h->name_len == 0)
            return "obsolete line folding (obs-fold)";
        if (is_name(h, "host")) {
            hosts++;
        } else if (is_name(h, "content-length")) {
            if (++content_lengths > 1)
                return "more than one Content-Length";
            if (!all_digits(h->value, h->value_len))
                return "a Content-Length that is not a number";
        } else if (is_name(h, "transfer-encoding")) {
            if (++transfer_encodings > 1)
                return "more than one Transfer-Encoding";
            if (h->value_len != 7 || strncasecmp(h->value, "chunked", 7) != 0)
                return "a Transfer-Encoding other than chunked";
        }
    }
    if (transfer_encodings > 0 && content_lengths > 0)
        return "Content-Length together with Transfer-Encoding";
    if (transfer_encodings > 0 && minor == 0)
        return "Transfer-Encoding in an HTTP/1.0 request";
    if (hosts > 1 || (hosts == 0 && minor == 1)) /* RFC 9112 3.2: a server MUST answer 400 */
        return hosts > 1 ? "more than one Host" : "an HTTP/1.1 request without Host";
    return NULL;
}

const char *gw_framing_check_request(h2o_req_t *req)
{
    if (req->version >= 0x200)
        return NULL;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL)
        return "the request's bytes are gone";
    return gw_framing_check(sock->input->bytes, sock->input->size);
}
