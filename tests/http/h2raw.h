/* h2raw.h: HTTP/2 frames written by hand, for the tests that must misbehave as no HTTP/2
 * library lets a client do (Rapid Reset floods). Only what those tests send and read. */
#ifndef GW_TEST_H2RAW_H
#define GW_TEST_H2RAW_H

#include <stddef.h>

#define H2_DATA 0
#define H2_HEADERS 1
#define H2_RST_STREAM 3
#define H2_SETTINGS 4
#define H2_GOAWAY 7
#define H2_END_STREAM 0x1
#define H2_END_HEADERS 0x4

/* The client connection preface: the magic, an empty SETTINGS and a SETTINGS ACK (h2o
 * sends its SETTINGS at once). Writes into out (at least 64 bytes); returns the length. */
size_t h2_preface(unsigned char *out);
/* One frame (RFC 9113 4.1) into out (9 + len bytes); returns its length. */
size_t h2_frame(unsigned char *out, int type, int flags, unsigned stream, const unsigned char *payload, size_t len);
/* One header as an HPACK literal without indexing, its name from the static table
 * (RFC 7541 appendix A: 1 :authority, 2 :method GET, 4 :path, 23 authorization, 31
 * content-type); returns the length written. */
size_t hpack_literal(unsigned char *out, int name_index, const char *value);
/* A request header block: :method (GET or POST, static), :scheme http, :path, :authority,
 * and, when token is not NULL, authorization: Bearer token; content-type JSON for POST.
 * out must hold 1024 + strlen(path) + strlen(token) bytes. Returns its length. */
size_t h2_request_block(unsigned char *out, int post, const char *path, const char *token);

/* Reads what the server sent on fd for up to timeout_ms (0: what is there now) or until it
 * closed, reading whole frames (a frame split across calls is not seen). Sets *closed when
 * it closed, *goaway_error to the error code of a GOAWAY seen (left alone otherwise), and
 * adds the HEADERS frames (answers) seen to *headers. Returns the bytes read. */
size_t h2_drain(int fd, long timeout_ms, int *closed, long *goaway_error, int *headers);

#endif
