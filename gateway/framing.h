/* framing.h: refuses HTTP/1.x requests whose message framing is ambiguous (request
 * smuggling, RFC 9112 section 6.1 and 6.3), which Debian's h2o 2.2.5 accepts. Unit-tested
 * in tests/unit/test_framing.c. */
#ifndef GW_FRAMING_H
#define GW_FRAMING_H

#include <stddef.h>

#include <h2o.h>

/* Checks the header section of one HTTP/1.x request, as it arrived (head: the bytes from
 * the request line on, len: how many there are; the body may follow). Parsed with
 * picohttpparser, the parser h2o itself uses, so both read the same headers.
 * Returns NULL when the framing is unambiguous, or a short static reason:
 *   - more than one Content-Length, or one that is not 1*DIGIT (RFC 9112 6.3 item 5);
 *   - Content-Length together with Transfer-Encoding (6.3 item 3: "MUST close");
 *   - Transfer-Encoding in an HTTP/1.0 request (6.1: "MUST treat as faulty");
 *   - more than one Transfer-Encoding, or one that is not exactly "chunked";
 *   - an obsolete line folding (obs-fold, RFC 9112 5.2);
 *   - a header section that does not parse. */
const char *gw_framing_check(const char *head, size_t len);

/* gw_framing_check on an HTTP/1.x request h2o has parsed: its header section is still at
 * the start of the socket's input buffer (h2o consumes it once the request is answered).
 * NULL for HTTP/2 and for unambiguous framing. */
const char *gw_framing_check_request(h2o_req_t *req);

#endif
