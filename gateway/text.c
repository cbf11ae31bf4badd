/* text.c: see text.h. */
#include "text.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>
#include <time.h>

long gw_text_utf8_length(const char *s, size_t len, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    long count = 0;

    while (p < end) {
        uint32_t c = *p++;
        size_t more;
        uint32_t min;
        if (c < 0x80)
            more = 0, min = 0;
        else if ((c & 0xe0) == 0xc0)
            more = 1, min = 0x80, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0)
            more = 2, min = 0x800, c &= 0x0f;
        else if ((c & 0xf8) == 0xf0)
            more = 3, min = 0x10000, c &= 0x07;
        else
            return -1;
        if ((size_t)(end - p) < more)
            return -1;
        for (size_t i = 0; i < more; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            c = c << 6 | (*p & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return -1;
        if ((flags & GW_UTF8_NO_CONTROLS) && (c < 0x20 || (c >= 0x7f && c <= 0x9f)))
            return -1;
        count++;
    }
    return count;
}

uint64_t gw_text_fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037u; /* the offset basis */
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long gw_text_unescape(const char *src, size_t src_len, char *dst, int plus_is_space)
{
    size_t n = 0;
    for (size_t i = 0; i < src_len; i++) {
        char c = src[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= src_len)
                return -1;
            if ((hi = hex_value(src[i + 1])) < 0 || (lo = hex_value(src[i + 2])) < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        dst[n++] = c;
    }
    return (long)n;
}

gw_str_t gw_text_target_path(const char *target, size_t len)
{
    const char *q = memchr(target, '?', len);
    return (gw_str_t){target, q != NULL ? (size_t)(q - target) : len};
}

gw_str_t gw_text_target_query(const char *target, size_t len)
{
    const char *q = memchr(target, '?', len);
    if (q == NULL)
        return (gw_str_t){NULL, 0};
    return (gw_str_t){q + 1, len - (size_t)(q - target) - 1};
}

int gw_text_query_next(gw_str_t *rest, gw_str_t *pair, gw_str_t *name, gw_str_t *value)
{
    if (rest->base == NULL || rest->len == 0)
        return 0;
    const char *p = rest->base, *end = p + rest->len;
    const char *amp = memchr(p, '&', rest->len), *pair_end = amp ? amp : end;
    const char *eq = memchr(p, '=', (size_t)(pair_end - p)), *name_end = eq ? eq : pair_end;

    *pair = (gw_str_t){p, (size_t)(pair_end - p)};
    *name = (gw_str_t){p, (size_t)(name_end - p)};
    *value = eq ? (gw_str_t){eq + 1, (size_t)(pair_end - eq - 1)} : (gw_str_t){pair_end, 0};
    *rest = amp ? (gw_str_t){amp + 1, (size_t)(end - amp - 1)} : (gw_str_t){end, 0};
    return 1;
}

int gw_text_query_param(gw_str_t query, const char *name, gw_str_t *value)
{
    size_t name_len = strlen(name);
    gw_str_t pair, key, v;
    while (gw_text_query_next(&query, &pair, &key, &v)) {
        if (key.len == name_len && memcmp(key.base, name, name_len) == 0) {
            *value = v;
            return 1;
        }
    }
    return 0;
}

static int is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

size_t gw_text_b64url_span(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_b64url((unsigned char)s[i]))
        i++;
    return i;
}

long gw_text_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    unsigned char buf[GW_B64URL_MAX + 3];
    size_t i, padded = (len + 3) & ~(size_t)3;

    if (len > GW_B64URL_MAX || len % 4 == 1 || cap < len / 4 * 3 + 3)
        return -1;
    /* OpenSSL decodes the standard alphabet, padded: map, then pad */
    if (gw_text_b64url_span(in, len) != len)
        return -1;
    for (i = 0; i < len; i++)
        buf[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : (unsigned char)in[i];
    for (; i < padded; i++)
        buf[i] = '=';
    if (EVP_DecodeBlock(out, buf, (int)padded) < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as output bytes; the true length follows from the input length */
    return (long)(len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1));
}

int gw_text_b64url_is_canonical(const char *in, size_t len, const unsigned char *raw, size_t n)
{
    unsigned char again[GW_B64URL_MAX + 4];
    if (n > GW_B64URL_MAX / 4 * 3 || (n + 2) / 3 * 4 + 1 > sizeof(again))
        return 0;
    int m = EVP_EncodeBlock(again, raw, (int)n);
    while (m > 0 && again[m - 1] == '=')
        m--;
    if ((size_t)m != len)
        return 0;
    for (int i = 0; i < m; i++) {
        unsigned char c = again[i] == '+' ? '-' : again[i] == '/' ? '_' : again[i];
        if (c != (unsigned char)in[i])
            return 0;
    }
    return 1;
}

uint64_t gw_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int gw_text_is_json_media_type(const char *s, size_t len)
{
    static const char json[] = "application/json";
    size_t n = sizeof(json) - 1;
    if (s == NULL || len < n || strncasecmp(s, json, n) != 0)
        return 0;
    for (size_t i = n; i < len; i++) {
        if (s[i] == ';')
            return 1;
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    }
    return 1;
}

int gw_text_sha256_hex(const gw_str_t *parts, size_t n, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i].base, parts[i].len) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    for (unsigned i = 0; i < len; i++) {
        hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

int gw_text_is_idempotency_key(const char *s, size_t len)
{
    if (len == 0 || len > 255)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}
