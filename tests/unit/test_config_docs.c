/* test_config_docs: the configuration table (gateway/config.c) and the files that name its
 * variables say the same: README.md's configuration table lists every variable once, with
 * the table's default where that is a value; the Dockerfile, docker-compose.yml (and .env,
 * when there is one) set only variables the gateway reads (or db/migrate and scripts/dev
 * do), and docker-compose.yml's gateway passes every one through; .env.example documents
 * every one once; gateway/openapi.json names only variables that exist. A variable added, renamed or
 * given another default in one place and not the other fails here.
 * argv[1]: the source tree. */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"

static const char *top;

/* A whole file of the source tree, NUL-terminated (freed at exit by nobody: a test). NULL when absent. */
static char *slurp(const char *path)
{
    char full[4096];
    snprintf(full, sizeof(full), "%s/%s", top, path);
    FILE *f = fopen(full, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s == NULL || fread(s, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    fclose(f);
    if (s != NULL)
        s[n] = '\0';
    return s;
}

static const gw_config_var_t *find_var(const char *name, size_t len)
{
    for (size_t i = 0; i < gw_config_vars_count; i++)
        if (strlen(gw_config_vars[i].name) == len && memcmp(gw_config_vars[i].name, name, len) == 0)
            return &gw_config_vars[i];
    return NULL;
}

static int known(const char *name, size_t len, const char *where)
{
    if (find_var(name, len) != NULL)
        return 1;
    check_diag("%s names %.*s, which is not a variable of gateway/config.c", where, (int)len, name);
    return 0;
}

/* The n-th ", "-separated part of a table cell [cell, end), or NULL. */
static const char *cell_part(const char *cell, const char *end, size_t n, size_t *len)
{
    const char *p = cell;
    for (size_t i = 0; i < n && p != NULL; i++) {
        p = strstr(p, ", ");
        p = p != NULL && p < end ? p + 2 : NULL;
    }
    if (p == NULL)
        return NULL;
    const char *q = strstr(p, ", ");
    *len = (size_t)((q != NULL && q < end ? q : end) - p);
    return p;
}

/* One row of the README's table: | `A`, `B` | default of A, default of B | meaning | */
static void readme_row(const char *row, const char *eol, int *seen)
{
    const char *bar1 = memchr(row + 1, '|', (size_t)(eol - row - 1));
    const char *bar2 = bar1 ? memchr(bar1 + 1, '|', (size_t)(eol - bar1 - 1)) : NULL;
    size_t k = 0;
    if (!CHECK(bar1 != NULL && bar2 != NULL))
        return;
    for (const char *p = row + 1; p < bar1; k++) {
        const char *a = memchr(p, '`', (size_t)(bar1 - p)), *b = a ? memchr(a + 1, '`', (size_t)(bar1 - a - 1)) : NULL;
        if (a == NULL || b == NULL)
            break;
        const gw_config_var_t *var = find_var(a + 1, (size_t)(b - a - 1));
        CHECK(known(a + 1, (size_t)(b - a - 1), "README.md's configuration table"));
        if (var != NULL) {
            seen[var - gw_config_vars]++;
            size_t len = 0;
            const char *part = cell_part(bar1 + 1, bar2, k, &len);
            char want[128];
            snprintf(want, sizeof(want), "`%s`", var->def ? var->def : "");
            if (var->def != NULL && var->def[0] != '\0' && !CHECK(part != NULL && memmem(part, len, want, strlen(want)) != NULL))
                check_diag("README.md: %s's default is not %s", var->name, want);
        }
        p = b + 1;
    }
}

static void test_readme(void)
{
    char *readme = slurp("README.md");
    int seen[256] = {0};
    if (!CHECK(readme != NULL && gw_config_vars_count < 256))
        return;
    const char *start = strstr(readme, "\n## Configuration\n"), *end = start ? strstr(start + 1, "\n## ") : NULL;
    if (!CHECK(start != NULL && end != NULL))
        return;
    for (const char *line = start; line != NULL && line < end; line = strchr(line + 1, '\n')) {
        const char *row = line + 1, *eol = strchr(row, '\n');
        if (eol != NULL && strncmp(row, "| `", 3) == 0)
            readme_row(row, eol, seen);
    }
    for (size_t i = 0; i < gw_config_vars_count; i++)
        if (!CHECK(seen[i] == 1))
            check_diag("README.md lists %s %d times, not once", gw_config_vars[i].name, seen[i]);
    free(readme);
}

/* Variables set in the Dockerfile (ENV NAME=value ...) and .env (NAME=value lines). */
static void test_dockerfile_and_env(void)
{
    char *docker = slurp("Dockerfile"), *env = slurp(".env");
    if (!CHECK(docker != NULL))
        return;
    for (const char *p = strstr(docker, "\nENV "); p != NULL; p = strstr(p + 1, "\nENV ")) {
        const char *eol = strchr(p + 1, '\n');
        for (const char *q = p + 5; q != NULL && q < eol;) {
            const char *eq = strchr(q, '=');
            if (eq == NULL || eq > eol)
                break;
            CHECK(known(q, (size_t)(eq - q), "the Dockerfile"));
            q = strchr(eq, ' ');
            q = q != NULL && q < eol ? q + 1 : NULL;
        }
    }
    for (const char *line = env; line != NULL && *line != '\0'; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *eq = strchr(line, '='), *eol = strchr(line, '\n');
        if (line[0] != '#' && eq != NULL && (eol == NULL || eq < eol))
            CHECK(known(line, (size_t)(eq - line), ".env"));
    }
    free(docker);
    free(env);
}

/* .env.example documents every variable once, as "NAME=" or "# NAME=" (set, or left at its
 * default); any other variable it sets is docker-compose.yml's own (${NAME...} there). */
static void test_env_example(void)
{
    char *env = slurp(".env.example"), *compose = slurp("docker-compose.yml");
    int seen[256] = {0};
    if (!CHECK(env != NULL && compose != NULL && gw_config_vars_count < 256))
        return;
    for (const char *line = env; line != NULL && *line != '\0'; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *name = strncmp(line, "# ", 2) == 0 ? line + 2 : line, *end = name;
        while (isupper((unsigned char)*end) || isdigit((unsigned char)*end) || *end == '_')
            end++;
        if (end == name || *end != '=')
            continue;
        const gw_config_var_t *var = find_var(name, (size_t)(end - name));
        char ref[128];
        snprintf(ref, sizeof(ref), "${%.*s", (int)(end - name), name);
        if (var != NULL)
            seen[var - gw_config_vars]++;
        else if (name == line && !CHECK(strstr(compose, ref) != NULL))
            check_diag(".env.example sets %.*s, which neither the gateway nor docker-compose.yml reads", (int)(end - name), name);
    }
    for (size_t i = 0; i < gw_config_vars_count; i++)
        if (!CHECK(seen[i] == 1))
            check_diag(".env.example documents %s %d times, not once", gw_config_vars[i].name, seen[i]);
    free(env);
    free(compose);
}

/* docker-compose.yml's gateway service: each variable is the gateway's, or one that db/migrate
 * or scripts/dev reads (the container runs scripts/dev, which migrates). */
static void test_compose(void)
{
    char *compose = slurp("docker-compose.yml"), *migrate = slurp("db/migrate"), *dev = slurp("scripts/dev");
    size_t n = 0;
    int seen[256] = {0};
    if (!CHECK(compose != NULL && migrate != NULL && dev != NULL))
        return;
    const char *svc = strstr(compose, "\n  gateway:\n"), *env = svc ? strstr(svc, "\n    environment:\n") : NULL;
    if (!CHECK(env != NULL))
        return;
    for (const char *line = strchr(env + 1, '\n') + 1; strncmp(line, "      ", 6) == 0; line = strchr(line, '\n') + 1) {
        const char *name = line + 6, *colon = strchr(name, ':');
        if (name[0] == '#' || colon == NULL)
            continue;
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(colon - name), name);
        n++;
        const gw_config_var_t *var = find_var(key, strlen(key));
        if (var != NULL)
            seen[var - gw_config_vars]++;
        if (find_var(key, strlen(key)) == NULL && !CHECK(strstr(migrate, key) != NULL || strstr(dev, key) != NULL))
            check_diag("docker-compose.yml sets %s, which neither the gateway, db/migrate nor scripts/dev reads", key);
    }
    CHECK(n >= 4);                                    /* the parse found the list */
    for (size_t i = 0; i < gw_config_vars_count; i++) /* so that .env reaches every one */
        if (!CHECK(seen[i] == 1))
            check_diag("docker-compose.yml's gateway environment passes %s %d times, not once", gw_config_vars[i].name, seen[i]);
    free(compose);
    free(migrate);
    free(dev);
}

/* Words like MAX_BODY in the OpenAPI document's descriptions. */
static void test_openapi(void)
{
    char *doc = slurp("gateway/openapi.json");
    size_t n = 0;
    if (!CHECK(doc != NULL))
        return;
    for (const char *p = doc; *p != '\0';) {
        const char *q = p;
        while (isupper((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_')
            q++;
        int word_start = p == doc || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        if (q > p && word_start && isupper((unsigned char)*p) && memchr(p, '_', (size_t)(q - p)) != NULL && q[-1] != '_' &&
            !isalnum((unsigned char)*q)) {
            CHECK(known(p, (size_t)(q - p), "gateway/openapi.json"));
            n++;
        }
        p = q > p ? q : p + 1;
    }
    CHECK(n > 0); /* it does name some */
    free(doc);
}

int main(int argc, char **argv)
{
    if (!CHECK(argc == 2))
        return check_report("test_config_docs");
    top = argv[1];
    test_readme();
    test_dockerfile_and_env();
    test_env_example();
    test_compose();
    test_openapi();
    return check_report("test_config_docs");
}
