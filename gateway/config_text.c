/* config_text.c: the configuration table (config.c) as text for people: `--help` and
 * `--check-config` (the effective values, secrets masked). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* ---- --help ---- */

static size_t append(char *buf, size_t n, size_t cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t n, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = n < cap ? vsnprintf(buf + n, cap - n, fmt, ap) : 0;
    va_end(ap);
    return n + (w > 0 ? (size_t)w : 0);
}

/* One variable's lines: name, default, help (its later lines under the first). */
static size_t help_lines(const gw_config_var_t *var, char *buf, size_t n, size_t cap)
{
    char shown[64];
    if (var->shown != NULL)
        snprintf(shown, sizeof(shown), "%s", var->shown);
    else
        snprintf(shown, sizeof(shown), "default %s", var->def == NULL ? "unset" : var->def[0] == '\0' ? "\"\"" : var->def);
    n = append(buf, n, cap, "  %-21s %-18s ", var->name, shown);
    for (const char *line = var->help; line != NULL;) {
        const char *nl = strchr(line, '\n');
        int len = nl != NULL ? (int)(nl - line) : (int)strlen(line);
        n = append(buf, n, cap, "%.*s\n", len, line);
        line = nl != NULL ? nl + 1 : NULL;
        if (line != NULL)
            n = append(buf, n, cap, "%43s", "");
    }
    return n;
}

const char *gw_config_help(void)
{
    static char buf[8192];
    size_t n = 0, cap = sizeof(buf);

    if (buf[0] != '\0')
        return buf;
    n = append(buf, n, cap,
               "Usage: todo-gateway [--help] [--version] [--check-config]\n"
               "\n"
               "An HTTP/1.1 and HTTP/2 gateway for the todo API: it checks bearer tokens and hands each request\n"
               "to PostgreSQL as one pipelined transaction. Configured only through the environment;\n"
               "an empty variable counts as unset.\n");
    for (size_t i = 0; i < gw_config_vars_count; i++) {
        const gw_config_var_t *var = &gw_config_vars[i];
        if (i == 0 || strcmp(var->section, gw_config_vars[i - 1].section) != 0)
            n = append(buf, n, cap, "\n%s:\n", var->section);
        n = help_lines(var, buf, n, cap);
    }
    append(buf, n, cap, "\nOn/off values also accept true/false, yes/no and 1/0.\n");
    return buf;
}

/* ---- --check-config ---- */

/* A connection string with its passwords masked: the URI's user:password@ and every
 * password=... (libpq's key/value form, or a URI query parameter). */
static void mask_conninfo(const char *v, char *out, size_t cap)
{
    const char *scheme = strstr(v, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    size_t n = 0;
    for (size_t i = 0; v[i] != '\0' && n + 5 < cap;) {
        out[n++] = v[i++];
        const char *end = NULL; /* where the password to hide ends */
        if (colon != NULL && v + i == colon + 1)
            end = at;
        else if (i >= 9 && strncmp(v + i - 9, "password=", 9) == 0)
            end = v + i + strcspn(v + i, " &");
        if (end != NULL) {
            memcpy(out + n, "****", 4), n += 4;
            i = (size_t)(end - v);
        }
    }
    if (cap > 0)
        out[n < cap ? n : cap - 1] = '\0';
}

/* One variable's effective value, as the environment would spell it. */
static void describe_value(const gw_config_var_t *var, const gw_config_t *cfg, char *out, size_t cap)
{
    const void *field = (const char *)cfg + var->offset;
    const char *s;
    switch (var->type) {
    case GW_CONF_STRING:
        s = *(const char *const *)field;
        if (s == NULL)
            snprintf(out, cap, "(unset)");
        else if (var->secret)
            snprintf(out, cap, "****");
        else if (strcmp(var->name, "DATABASE_URL") == 0 || strcmp(var->name, "DATABASE_LISTEN_URL") == 0)
            mask_conninfo(s, out, cap);
        else
            snprintf(out, cap, "%s", s);
        return;
    case GW_CONF_INT:
        snprintf(out, cap, "%d", *(const int *)field);
        return;
    case GW_CONF_BOOL:
        snprintf(out, cap, "%s", *(const int *)field ? "on" : "off");
        return;
    case GW_CONF_SIZE:
        snprintf(out, cap, "%zu", *(const size_t *)field);
        return;
    case GW_CONF_DURATION:
        snprintf(out, cap, "%llds", (long long)*(const int64_t *)field);
        return;
    case GW_CONF_ENUM:
        snprintf(out, cap, "%s", var->choices[*(const int *)field]);
        return;
    }
    snprintf(out, cap, "?");
}

const char *gw_config_describe(const gw_config_t *cfg, char *buf, size_t cap)
{
    size_t n = 0;
    char value[1024];
    if (cap > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < gw_config_vars_count; i++) {
        describe_value(&gw_config_vars[i], cfg, value, sizeof(value));
        n = append(buf, n, cap, "%s=%s\n", gw_config_vars[i].name, value);
    }
    return buf;
}
