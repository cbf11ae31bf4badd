/* test_text: the small helpers of gateway/text.c: UTF-8, FNV-1a, percent-decoding, the request
 * target and its query string, base64url, the monotonic clock. */
#include <string.h>

#include "check.h"
#include "text.h"

static int str_is(gw_str_t s, const char *want)
{
    return s.base != NULL && s.len == strlen(want) && memcmp(s.base, want, s.len) == 0;
}

static long utf8(const char *s, unsigned flags)
{
    return gw_text_utf8_length(s, strlen(s), flags);
}

static void test_utf8(void)
{
    CHECK_EQ(utf8("", 0), 0);
    CHECK_EQ(utf8("abc", 0), 3);
    CHECK_EQ(utf8("caf\xc3\xa9", 0), 4);                               /* e-acute: two bytes, one character */
    CHECK_EQ(utf8("\xe2\x82\xac", 0), 1);                              /* the euro sign: three bytes */
    CHECK_EQ(utf8("\xf0\x9f\x98\x80", 0), 1);                          /* U+1F600: four bytes */
    CHECK_EQ(utf8("\xf4\x8f\xbf\xbf", 0), 1);                          /* U+10FFFF, the last code point */
    CHECK_EQ(utf8("\xf4\x90\x80\x80", 0), -1);                         /* beyond U+10FFFF */
    CHECK_EQ(utf8("\xc0\xaf", 0), -1);                                 /* overlong '/' */
    CHECK_EQ(utf8("\xe0\x80\xaf", 0), -1);                             /* overlong, three bytes */
    CHECK_EQ(utf8("\xf0\x80\x80\xaf", 0), -1);                         /* overlong, four bytes */
    CHECK_EQ(utf8("\xed\xa0\x80", 0), -1);                             /* a surrogate (U+D800) */
    CHECK_EQ(utf8("\x80", 0), -1);                                     /* a lone continuation byte */
    CHECK_EQ(utf8("\xc3", 0), -1);                                     /* cut short */
    CHECK_EQ(utf8("\xe2\x82", 0), -1);                                 /* cut short */
    CHECK_EQ(utf8("\xc3\x28", 0), -1);                                 /* not a continuation byte */
    CHECK_EQ(utf8("\xff", 0), -1);                                     /* never in UTF-8 */
    CHECK_EQ(gw_text_utf8_length("a\0b", 3, 0), 3);                    /* NUL is a character... */
    CHECK_EQ(gw_text_utf8_length("a\0b", 3, GW_UTF8_NO_CONTROLS), -1); /* ...and a control one */
    CHECK_EQ(utf8("tab\there", 0), 8);
    CHECK_EQ(utf8("tab\there", GW_UTF8_NO_CONTROLS), -1);
    CHECK_EQ(utf8("del\x7f", GW_UTF8_NO_CONTROLS), -1);
    CHECK_EQ(utf8("c1 \xc2\x85", GW_UTF8_NO_CONTROLS), -1); /* NEL, a C1 control */
    CHECK_EQ(utf8("nbsp\xc2\xa0", GW_UTF8_NO_CONTROLS), 5); /* U+00A0 is not a control */
}

static void test_fnv1a(void)
{
    /* the published FNV-1a 64-bit test vectors */
    CHECK(gw_text_fnv1a("", 0) == 0xcbf29ce484222325u);
    CHECK(gw_text_fnv1a("a", 1) == 0xaf63dc4c8601ec8cu);
    CHECK(gw_text_fnv1a("foobar", 6) == 0x85944171f73967e8u);
}

static void test_sha256(void)
{
    char hex[65];
    /* FIPS 180-4's example "abc", whole and in parts (the fingerprint hashes several spans) */
    gw_str_t whole[] = {{"abc", 3}}, split[] = {{"a", 1}, {"", 0}, {"bc", 2}};
    CHECK(gw_text_sha256_hex(whole, 1, hex) == 0);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    CHECK(gw_text_sha256_hex(split, 3, hex) == 0);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    CHECK(gw_text_sha256_hex(NULL, 0, hex) == 0);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
}

static void test_idempotency_key(void)
{
    char k[256];
    memset(k, 'k', sizeof(k));
    CHECK(gw_text_is_idempotency_key("8e03978e-40d5-43e8-bc93-6894a57f9324", 36));
    CHECK(gw_text_is_idempotency_key("\"quoted as the draft writes it\"", 31));
    CHECK(gw_text_is_idempotency_key(" ~", 2)); /* space and tilde: the ends of printable ASCII */
    CHECK(gw_text_is_idempotency_key(k, 255));
    CHECK(!gw_text_is_idempotency_key(k, 256));
    CHECK(!gw_text_is_idempotency_key("", 0));
    CHECK(!gw_text_is_idempotency_key("tab\there", 8));
    CHECK(!gw_text_is_idempotency_key("del\x7f", 4));
    CHECK(!gw_text_is_idempotency_key("caf\xc3\xa9", 5)); /* not ASCII */
}

static void test_unescape(void)
{
    char out[64];
    long n;
    n = gw_text_unescape("buy%20milk", 10, out, 0);
    CHECK(n == 8 && memcmp(out, "buy milk", 8) == 0);
    n = gw_text_unescape("a+b", 3, out, 1);
    CHECK(n == 3 && memcmp(out, "a b", 3) == 0);
    n = gw_text_unescape("a+b", 3, out, 0);
    CHECK(n == 3 && memcmp(out, "a+b", 3) == 0);
    n = gw_text_unescape("%C3%A9", 6, out, 0);
    CHECK(n == 2 && (unsigned char)out[0] == 0xc3 && (unsigned char)out[1] == 0xa9);
    CHECK_EQ(gw_text_unescape("%", 1, out, 0), -1);
    CHECK_EQ(gw_text_unescape("%4", 2, out, 0), -1);
    CHECK_EQ(gw_text_unescape("%zz", 3, out, 0), -1);
    CHECK_EQ(gw_text_unescape("a%00b", 5, out, 0), -1); /* NUL never reaches SQL */
    CHECK_EQ(gw_text_unescape("", 0, out, 0), 0);
}

static void test_target(void)
{
    const char *t = "/api/u/tasks?status=all&q=a?b";
    CHECK(str_is(gw_text_target_path(t, strlen(t)), "/api/u/tasks"));
    CHECK(str_is(gw_text_target_query(t, strlen(t)), "status=all&q=a?b")); /* the first '?' splits */
    CHECK(str_is(gw_text_target_path("/healthz", 8), "/healthz"));
    CHECK(gw_text_target_query("/healthz", 8).base == NULL);
    gw_str_t empty = gw_text_target_query("/x?", 3);
    CHECK(empty.base != NULL && empty.len == 0);
    CHECK(str_is(gw_text_target_path("/x?", 3), "/x"));
}

static void test_query(void)
{
    const char *raw = "status=completed&sort=title&q=buy%20milk&empty=&flag";
    gw_str_t q = {raw, strlen(raw)}, v;
    CHECK(gw_text_query_param(q, "status", &v) && str_is(v, "completed"));
    CHECK(gw_text_query_param(q, "sort", &v) && str_is(v, "title"));
    CHECK(gw_text_query_param(q, "q", &v) && str_is(v, "buy%20milk"));
    CHECK(gw_text_query_param(q, "empty", &v) && v.len == 0);
    CHECK(gw_text_query_param(q, "flag", &v) && v.len == 0);
    CHECK(!gw_text_query_param(q, "order", &v));
    CHECK(!gw_text_query_param(q, "stat", &v)); /* no prefix matches */
    gw_str_t dup = {"limit=5&limit=9", 15};
    CHECK(gw_text_query_param(dup, "limit", &v) && str_is(v, "5")); /* the first one wins */
    gw_str_t none = {"", 0};
    CHECK(!gw_text_query_param(none, "q", &v));
    gw_str_t absent = {NULL, 0};
    CHECK(!gw_text_query_param(absent, "q", &v));

    /* walking pair by pair: empty pairs come out empty, a trailing '&' adds nothing */
    gw_str_t rest = {"a=1&&b&c=x=y&", 13}, pair, name, value;
    CHECK(gw_text_query_next(&rest, &pair, &name, &value) && str_is(pair, "a=1") && str_is(name, "a") && str_is(value, "1"));
    CHECK(gw_text_query_next(&rest, &pair, &name, &value) && pair.len == 0 && name.len == 0 && value.len == 0);
    CHECK(gw_text_query_next(&rest, &pair, &name, &value) && str_is(pair, "b") && str_is(name, "b") && value.len == 0);
    CHECK(gw_text_query_next(&rest, &pair, &name, &value) && str_is(name, "c") && str_is(value, "x=y"));
    CHECK(!gw_text_query_next(&rest, &pair, &name, &value));
}

static void test_b64url(void)
{
    unsigned char out[64];
    CHECK_EQ(gw_text_b64url_decode("", 0, out, sizeof(out)), 0);
    CHECK_EQ(gw_text_b64url_decode("Zm9vYmFy", 8, out, sizeof(out)), 6); /* RFC 4648 10: "foobar" */
    CHECK(memcmp(out, "foobar", 6) == 0);
    CHECK_EQ(gw_text_b64url_decode("Zm9vYg", 6, out, sizeof(out)), 4); /* "foob", unpadded */
    CHECK(memcmp(out, "foob", 4) == 0);
    CHECK_EQ(gw_text_b64url_decode("Zg", 2, out, sizeof(out)), 1);
    CHECK_EQ(gw_text_b64url_decode("-_8", 3, out, sizeof(out)), 2); /* the URL alphabet: fb ff */
    CHECK(out[0] == 0xfb && out[1] == 0xff);
    CHECK_EQ(gw_text_b64url_decode("+/8", 3, out, sizeof(out)), -1);   /* the standard alphabet is not base64url */
    CHECK_EQ(gw_text_b64url_decode("Zg==", 4, out, sizeof(out)), -1);  /* no padding */
    CHECK_EQ(gw_text_b64url_decode("Zm9vY", 5, out, sizeof(out)), -1); /* a length of 4n + 1 is impossible */
    CHECK_EQ(gw_text_b64url_decode("Zm 9", 4, out, sizeof(out)), -1);
    CHECK_EQ(gw_text_b64url_decode("Zm9vYmFy", 8, out, 8), -1); /* cap below len / 4 * 3 + 3 */
    CHECK_EQ(gw_text_b64url_span("abc.def", 7), 3);
    CHECK_EQ(gw_text_b64url_span("-_09AZaz", 8), 8);
    CHECK_EQ(gw_text_b64url_span("=", 1), 0);

    /* canonical spellings only: "Zh" decodes to "f" too, with a stray low bit */
    long n = gw_text_b64url_decode("Zh", 2, out, sizeof(out));
    CHECK(n == 1 && out[0] == 'f');
    CHECK(!gw_text_b64url_is_canonical("Zh", 2, out, 1));
    CHECK(gw_text_b64url_is_canonical("Zg", 2, (const unsigned char *)"f", 1));
    CHECK(gw_text_b64url_is_canonical("Zm9vYmFy", 8, (const unsigned char *)"foobar", 6));
    CHECK(!gw_text_b64url_is_canonical("Zm9vYmFy", 8, (const unsigned char *)"foobaz", 6));
}

static void test_media_type(void)
{
#define JSON_TYPE(s) gw_text_is_json_media_type(s, strlen(s))
    CHECK(JSON_TYPE("application/json"));
    CHECK(JSON_TYPE("Application/JSON"));
    CHECK(JSON_TYPE("application/json; charset=utf-8"));
    CHECK(JSON_TYPE("application/json ;charset=UTF-8"));
    CHECK(!JSON_TYPE("application/jsonp"));
    CHECK(!JSON_TYPE("application/json-patch+json"));
    CHECK(!JSON_TYPE("text/json"));
    CHECK(!JSON_TYPE("text/plain"));
    CHECK(!JSON_TYPE(""));
    CHECK(!gw_text_is_json_media_type(NULL, 0));
#undef JSON_TYPE
}

static void test_clock(void)
{
    uint64_t a = gw_monotonic_ns(), b = gw_monotonic_ns();
    CHECK(a > 0 && b >= a); /* it never goes back */
}

int main(void)
{
    test_utf8();
    test_fnv1a();
    test_sha256();
    test_idempotency_key();
    test_unescape();
    test_target();
    test_query();
    test_b64url();
    test_media_type();
    test_clock();
    return check_report("test_text");
}
