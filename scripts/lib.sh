# Shared by scripts/dev and scripts/test: packages, build, and a private PostgreSQL cluster.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin

# The Debian packages the project needs, by what needs them. The Dockerfile installs the
# same lists in its stages (tests/ops/test_container checks that they stay equal).
# Building the gateway (the Dockerfile's build stage); npm fetches swagger-ui-dist for /docs.
BUILD_PACKAGES=(build-essential cmake pkg-config ca-certificates npm
                libh2o-evloop-dev libjwt-dev libjansson-dev libssl-dev libpq-dev libcurl4-openssl-dev)
# Running the built gateway (the Dockerfile's runtime stage): its libraries, and curl for
# the HEALTHCHECK.
RUNTIME_PACKAGES=(ca-certificates curl libh2o-evloop0.13 libjwt0 libjansson4 libssl3 libpq5 libcurl4)
# Running db/migrate (the Dockerfile's migrate stage).
MIGRATE_PACKAGES=(postgresql-client-15)
# Developing and testing: the server, pgTAP, valgrind, the lint of PL/pgSQL, coverage, the
# compose file's check, the browser of the /docs test, the conformance test's Python.
DEV_PACKAGES=(git openssl curl postgresql-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl valgrind
              postgresql-15-plpgsql-check gcovr docker-compose chromium python3-hypothesis python3-jsonschema
              pgbouncer)
PACKAGES=("${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}" "${MIGRATE_PACKAGES[@]}" "${DEV_PACKAGES[@]}")

log() { printf '==> %s\n' "$*" >&2; }

# Installs whichever of PACKAGES is missing (apt-get; needs root when something is missing).
ensure_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        # npm: any npm on the PATH will do (NodeSource's nodejs carries its own, and conflicts
        # with Debian's npm package)
        [ "$p" = npm ] && command -v npm >/dev/null && continue
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_test_tools: tests/tools' npm packages (Redocly CLI, playwright-core), by npm ci from
# the committed lock file, when node_modules is missing or older than the lock.
ensure_test_tools() {
    local tools=$TOP/tests/tools
    if [ ! -d "$tools/node_modules" ] || [ "$tools/package-lock.json" -nt "$tools/node_modules" ]; then
        log "npm ci (tests/tools: Redocly CLI, playwright-core)"
        (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules)
    fi
}

# redocly_lint: Redocly CLI's recommended rules (tests/tools/redocly.yaml) over
# gateway/openapi.json; fails on any error or warning (redocly exits non-zero on errors only).
redocly_lint() {
    local json totals
    json=$(cd "$TOP/tests/tools" && npx --no-install redocly lint --format=json "$TOP/gateway/openapi.json" 2>/dev/null) || true
    totals=$(/usr/bin/python3 -c 'import json, sys; t = json.load(sys.stdin)["totals"]; print(t["errors"], t["warnings"])' \
        <<<"$json" 2>/dev/null) || totals="? ?"
    log "Redocly CLI: errors and warnings: $totals"
    if [ "$totals" != "0 0" ]; then
        (cd "$TOP/tests/tools" && npx --no-install redocly lint "$TOP/gateway/openapi.json") >&2 || true
        return 1
    fi
}

# coverage_report BUILD_DIR FLOOR: gcovr's line coverage of gateway/ from BUILD_DIR's gcov
# counters, a line per file and the total; fails when the total is under FLOOR percent.
coverage_report() {
    gcovr --root "$TOP" --object-directory "$1" --filter "$TOP/gateway/" --gcov-ignore-parse-errors \
        --print-summary --fail-under-line "$2" --txt - | sed -n '/^File/,$p'
}

# build DIR [cmake args...]: configures and builds the project into DIR (coverage counters
# off unless the arguments turn them on).
build() {
    local dir=$1; shift
    cmake -S "$TOP" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_COVERAGE=OFF "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)" >/dev/null
}

# Runs a PostgreSQL program as an ordinary user: initdb and postgres refuse root. As root
# the cluster belongs to the OS user postgres; otherwise to the user running the script.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# private_dir DIR: creates DIR (when missing) closed to every other local user: 0700, or
# as root 0710 with the group of the OS user postgres, so that the server may pass through
# it to the data and socket directories inside, and list or read nothing.
private_dir() {
    (umask 077 && mkdir -p "$1")
    if [ "$(id -u)" -eq 0 ]; then
        chown "root:$(id -gn postgres)" "$1" && chmod 710 "$1"
    else
        chmod 700 "$1"
    fi
}

# The database roles the OS user running the scripts may connect as (peer authentication,
# pg_ident.conf): the superuser, the gateway's role (db/roles.sql), and a role named after
# the OS user, for a person's own login (GRANT todo_admin TO it).
CLUSTER_LOGIN_ROLES=(postgres todo_gateway "$(id -un)")

# cluster_write_auth DATADIR: (re)writes pg_hba.conf and pg_ident.conf so that only the OS
# user running this script connects, over the Unix socket, by peer authentication, as one of
# CLUSTER_LOGIN_ROLES. Run on every start, so it also closes clusters that older checkouts
# created with --auth=trust. The server reads both files when it starts. CLUSTER_HBA_EXTRA,
# when set, is one more line before the final reject (scripts/lib-pooler.sh's TLS listener).
cluster_write_auth() {
    local data=$1 me role
    me=$(id -un)
    as_pg sh -c 'umask 077 && cat > "$1"' sh "$data/pg_hba.conf" <<HBA
# Written by scripts/lib.sh (cluster_write_auth) on every start: edits here are lost.
# Unix socket only (listen_addresses = ''), and only the OS user "$me" (who ran the
# script), by peer authentication, as a role its lines in pg_ident.conf allow.
# TYPE  DATABASE  USER  ADDRESS  METHOD
local   all       all            peer map=owner
${CLUSTER_HBA_EXTRA:-}
host    all       all   all      reject
HBA
    {
        echo '# Written by scripts/lib.sh (cluster_write_auth) on every start: edits here are lost.'
        echo '# MAPNAME  SYSTEM-USERNAME  PG-USERNAME'
        for role in "${CLUSTER_LOGIN_ROLES[@]}"; do printf 'owner  "%s"  "%s"\n' "$me" "$role"; done
    } | as_pg sh -c 'umask 077 && cat > "$1"' sh "$data/pg_ident.conf"
}

# cluster_start DATADIR SOCKDIR PORT [postgres options]: creates (when new) and starts a
# cluster listening only on a Unix socket in SOCKDIR; exports PGHOST, PGPORT, PGUSER and
# PGDATABASE (database todo, created when missing) for it. DATADIR and SOCKDIR become 0700,
# owned by the server's OS user (as_pg); their parent must let that user pass (private_dir).
# Only the OS user running this connects (cluster_write_auth). The server runs with
# PG_MALLOC_ENV in its environment (default: glibc's malloc keeps allocations under 4 MiB in
# its heap and up to 8 MiB of it free, as docker-compose.yml's db service does; set it to ""
# for glibc's defaults): a big answer (a page of 1,000 tasks is ~270 KB, copied several times
# per request) then reuses the backend's memory instead of mapping fresh pages for every copy
# and returning them (docs/performance.md, "glibc's malloc").
PG_MALLOC_ENV=${PG_MALLOC_ENV-MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=8388608}
cluster_start() {
    local data=$1 sock=$2 port=$3 extra=${4:-}
    (umask 077 && mkdir -p "$data" "$sock")
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data" "$sock"; fi
    chmod 700 "$data" "$sock"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=reject -E UTF8 \
            --locale=C.UTF-8 >/dev/null
    fi
    cluster_write_auth "$data"
    # shellcheck disable=SC2086 # PG_MALLOC_ENV is a list of NAME=value words
    as_pg env $PG_MALLOC_ENV "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$sock' -c unix_socket_permissions=0700 -p $port -c max_connections=200 $extra" start >/dev/null
    export PGHOST=$sock PGPORT=$port PGUSER=postgres PGDATABASE=todo
    psql -X -q -d postgres -tAc "select 1 from pg_database where datname = 'todo'" | grep -q 1 ||
        psql -X -q -d postgres -c 'create database todo' >/dev/null
}

cluster_stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}
