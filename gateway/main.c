/* main.c: start-up only: arguments, configuration, then the server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jwks.h"
#include "log.h"
#include "server.h"

static const char *env(const char *name)
{
    return getenv(name);
}

int main(int argc, char **argv)
{
    gw_config_t cfg;
    char err[512];

    int check_only = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
            printf("todo-gateway %s\n", GW_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(gw_config_help(), stdout);
            return 0;
        }
        if (strcmp(argv[i], "--check-config") == 0) {
            check_only = 1; /* load, print the effective configuration (secrets masked), exit */
            continue;
        }
        fprintf(stderr, "todo-gateway: unknown argument '%s' (try --help)\n", argv[i]);
        return 2;
    }
    if (gw_config_load(&cfg, env, err, sizeof(err)) != 0) {
        fprintf(stderr, "todo-gateway: configuration error: %s\n", err);
        return 2;
    }
    if (check_only) {
        static char text[16384];
        fputs(gw_config_describe(&cfg, text, sizeof(text)), stdout);
        return 0;
    }
    gw_log_set_level(cfg.log_level);
    gw_log_set_format(cfg.log_format);
    if (gw_jwks_start(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "todo-gateway: configuration error: %s\n", err);
        return 2;
    }
    int rc = gw_server_run(&cfg);
    gw_jwks_stop();
    return rc;
}
