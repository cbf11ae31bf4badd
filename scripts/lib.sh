# Shared by scripts/dev and scripts/test: packages, build, and a private PostgreSQL cluster.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin

# The Debian packages the project needs to build, run and test (Dockerfile lists the same).
PACKAGES=(build-essential cmake pkg-config git ca-certificates curl openssl
          libh2o-evloop-dev libjwt-dev libjansson-dev libssl-dev libpq-dev libcurl4-openssl-dev
          postgresql-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
          valgrind)

log() { printf '==> %s\n' "$*" >&2; }

# Installs whichever of PACKAGES is missing (apt-get; needs root when something is missing).
ensure_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
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

# build DIR [cmake args...]: configures and builds the project into DIR.
build() {
    local dir=$1; shift
    cmake -S "$TOP" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)" >/dev/null
}

# Runs a PostgreSQL program as an ordinary user: initdb and postgres refuse root.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# cluster_start DATADIR SOCKDIR PORT [postgres options]: creates (when new) and starts a
# cluster listening only on a Unix socket in SOCKDIR; exports PGHOST, PGPORT, PGUSER and
# PGDATABASE (database todo, created when missing) for it.
cluster_start() {
    local data=$1 sock=$2 port=$3 extra=${4:-}
    mkdir -p "$data" "$sock"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$data" "$sock" && chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$sock' -p $port -c max_connections=200 $extra" start >/dev/null
    export PGHOST=$sock PGPORT=$port PGUSER=postgres PGDATABASE=todo
    psql -X -q -d postgres -tAc "select 1 from pg_database where datname = 'todo'" | grep -q 1 ||
        psql -X -q -d postgres -c 'create database todo' >/dev/null
}

cluster_stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}
