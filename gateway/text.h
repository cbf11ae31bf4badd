/* text.h: the small pure helpers several files need, in one place: UTF-8 (RFC 3629),
 * FNV-1a and SHA-256 hashing, the Idempotency-Key's syntax, percent-decoding and query strings (RFC 3986), the request target split
 * at '?', base64url (RFC 4648 section 5, done by OpenSSL), and the monotonic clock.
 * No event loop, no database, no allocation; unit-tested in tests/unit/test_text.c. */
#ifndef GW_TEXT_H
#define GW_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* A span of bytes, not NUL-terminated. */
typedef struct gw_str {
    const char *base;
    size_t len;
} gw_str_t;

/* gw_text_utf8_length's flags. */
#define GW_UTF8_NO_CONTROLS 0x01 /* a C0 or C1 control character or DEL (NUL among them) is invalid too */

/* Counts the characters (code points) of s[0..len) when it is well-formed UTF-8 (RFC 3629: no
 * overlong form, no surrogate, nothing above U+10FFFF); returns -1 when it is not. */
long gw_text_utf8_length(const char *s, size_t len, unsigned flags);

/* The 64-bit FNV-1a hash of len bytes (for hash tables, not for anything an attacker must not forge). */
uint64_t gw_text_fnv1a(const void *data, size_t len);

/* Decodes %XX escapes (RFC 3986 2.1) and, when plus_is_space, '+' (HTML forms) into dst (room
 * for src_len bytes). Returns the decoded length, or -1 when an escape is malformed or the
 * result holds a NUL. */
long gw_text_unescape(const char *src, size_t src_len, char *dst, int plus_is_space);

/* A request target ("/path?query") without its query: everything before the first '?'. */
gw_str_t gw_text_target_path(const char *target, size_t len);

/* Whether a Content-Type value (s, len; s may be NULL: absent) names JSON: application/json
 * in any case, optionally followed by parameters such as charset=utf-8 (RFC 9110 8.3.1). */
int gw_text_is_json_media_type(const char *s, size_t len);

/* A request target's query: everything after the first '?' (base NULL when there is no '?'). */
gw_str_t gw_text_target_query(const char *target, size_t len);

/* Walks a query string (still percent-encoded) one '&'-separated pair at a time: returns 1
 * with the pair, its name and its value (empty when it has no '='), and advances *rest past
 * it; returns 0 when nothing is left. Empty pairs ("a=1&&b=2") are returned too, empty. */
int gw_text_query_next(gw_str_t *rest, gw_str_t *pair, gw_str_t *name, gw_str_t *value);

/* Finds the first query parameter called name (compared as it came, still encoded). Returns
 * 1 and its raw value in *value, or 0 when absent. */
int gw_text_query_param(gw_str_t query, const char *name, gw_str_t *value);

/* The largest input gw_text_b64url_decode takes, in characters. */
#define GW_B64URL_MAX 8192

/* The number of leading characters of s[0..len) in the base64url alphabet (A-Z a-z 0-9 - _). */
size_t gw_text_b64url_span(const char *s, size_t len);

/* Decodes unpadded base64url (RFC 4648 section 5; at most GW_B64URL_MAX characters, nothing
 * but the alphabet) into out, which must hold len / 4 * 3 + 3 bytes (cap). Returns the
 * decoded length, or -1. */
long gw_text_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap);

/* Whether in[0..len) is the one canonical base64url spelling of the n bytes raw it decoded to
 * (the unused low bits of its last character zero), checked by encoding raw again. */
int gw_text_b64url_is_canonical(const char *in, size_t len, const unsigned char *raw, size_t n);

/* The SHA-256 (FIPS 180-4, by OpenSSL) of the n spans one after another, as 64 lowercase hex
 * digits and a NUL in hex (65 bytes). Returns 0, or -1 when OpenSSL fails. */
int gw_text_sha256_hex(const gw_str_t *parts, size_t n, char hex[65]);

/* Whether s[0..len) is an Idempotency-Key the gateway accepts: 1 to 255 printable ASCII
 * characters (0x20 to 0x7e), taken as they are (a quoted Structured Field string, as the
 * IETF draft writes it, keeps its quotes; a bare key, as Stripe's clients send it, is fine). */
int gw_text_is_idempotency_key(const char *s, size_t len);

/* CLOCK_MONOTONIC in nanoseconds: for durations and deadlines, never for dates. (The one
 * helper here that is not about text; too small for a file of its own.) */
uint64_t gw_monotonic_ns(void);

#endif
