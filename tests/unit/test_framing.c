/* test_framing: ambiguous HTTP/1.x framing (RFC 9112 6.1, 6.3, 5.2) is refused; every
 * well-formed request the gateway serves is not. */
#include <string.h>

#include "check.h"
#include "framing.h"

static const char *check(const char *head)
{
    return gw_framing_check(head, strlen(head));
}

#define OK(head) CHECK(check(head) == NULL)
#define REFUSED(head) CHECK(check(head) != NULL)

int main(void)
{
    /* unambiguous: no body, one Content-Length, chunked alone on HTTP/1.1 */
    OK("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    OK("GET /healthz HTTP/1.0\r\n\r\n");
    OK("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    OK("POST /a HTTP/1.1\r\nHost: x\r\ncontent-length: 0\r\n\r\n");
    OK("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    OK("POST /a HTTP/1.1\r\nHost: x\r\ntransfer-encoding: CHUNKED\r\n\r\n0\r\n\r\n");
    OK("POST /a HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}");
    OK("GET /a HTTP/1.1\r\nHost: x\r\nX-Content-Length: 1\r\nX-Content-Length: 2\r\n\r\n"); /* other names repeat freely */
    OK("GET /a HTTP/1.1\r\nhost: x\r\n\r\n");

    /* RFC 9112 3.2: Host exactly once in HTTP/1.1 (HTTP/1.0 may leave it out) */
    REFUSED("GET /a HTTP/1.1\r\n\r\n");
    REFUSED("GET /a HTTP/1.1\r\nX-Host: x\r\n\r\n");
    REFUSED("GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    REFUSED("GET /a HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n");

    /* two Content-Length, equal or not, in any case of the name */
    REFUSED("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 225\r\n\r\n");
    REFUSED("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n{}");
    /* a Content-Length that is not 1*DIGIT: a list, a sign, a space inside, empty */
    REFUSED("POST /a HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n{}");
    REFUSED("POST /a HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}");
    REFUSED("POST /a HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n{}");
    REFUSED("POST /a HTTP/1.1\r\nContent-Length:\r\n\r\n");
    /* Content-Length with Transfer-Encoding, in either order, even a bad Content-Length */
    REFUSED("POST /a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    REFUSED("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
    REFUSED("POST /a HTTP/1.1\r\nContent-Length: blah\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    /* chunked in HTTP/1.0 */
    REFUSED("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    /* Transfer-Encoding twice, or other than exactly chunked */
    REFUSED("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    REFUSED("POST /a HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    REFUSED("POST /a HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n");
    REFUSED("POST /a HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n");
    /* obs-fold: a header line continued on the next (any header, framing or not) */
    REFUSED("GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n");
    REFUSED("POST /a HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n");
    /* what does not parse */
    REFUSED("GET /a HTTP/1.1\r\nHost x\r\n\r\n");
    REFUSED("");
    return check_report("test_framing");
}
