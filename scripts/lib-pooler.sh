# Sourced by scripts/test, after lib.sh: the database as a deployment reaches it, for the
# ctest labels pgbouncer and pgtls. A second throwaway cluster that also takes TCP on
# 127.0.0.1, TLS only (a certificate from a CA made here with openssl) with a SCRAM password,
# and Debian's PgBouncer in transaction mode in front of it (reaching it over TLS too, with
# verify-full), as Neon's and Supabase's poolers are.
#
# Nothing here is usable by another local user: every folder is private (private_dir), the
# keys and password files are 0600, the password is generated, and the cluster's TCP listener
# takes only todo_gateway, on todo, over TLS, with that password (pg_hba.conf), PgBouncer's
# only the same role with the same password. The Unix socket stays peer-only as in lib.sh.
# shellcheck shell=bash

# free_port: prints a TCP port of 127.0.0.1 on which nothing listens now: a random one below
# the kernel's ephemeral range (whose ports outgoing connections take without listening), tried
# by a connect. Another program may take it before the caller does: callers retry.
free_port() {
    local p i low
    read -r low _ < /proc/sys/net/ipv4/ip_local_port_range || low=32768
    for i in $(seq 1 100); do
        p=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# pooler_tls_files DIR: in DIR (made private), with openssl: a CA (ca.crt; its key ca.key), a
# certificate it signs for IP 127.0.0.1 and DNS localhost (server.crt, and server.key owned by
# the server's OS user, 0600), and a CA that signed nothing here (wrong-ca.crt).
pooler_tls_files() {
    local dir=$1 ca
    private_dir "$dir"
    for ca in ca wrong-ca; do
        (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj "/CN=todo-gateway test $ca" -keyout "$dir/$ca.key" -out "$dir/$ca.crt" 2>/dev/null)
    done
    (umask 077 && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null)
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -out "$dir/server.crt" -extfile <(printf '%s\n' 'subjectAltName = IP:127.0.0.1, DNS:localhost' \
            'basicConstraints = CA:FALSE' 'extendedKeyUsage = serverAuth') 2>/dev/null
    chmod 644 "$dir/ca.crt" "$dir/wrong-ca.crt" "$dir/server.crt"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/server.key"; fi
}

# pooler_start DIR: the cluster (DIR/data, socket DIR/sock) and PgBouncer (DIR/pgbouncer),
# each on a free TCP port of 127.0.0.1; the TLS files in DIR/tls, todo_gateway's password in
# DIR/passfile (libpq's format, 0600). Exports the tests' URLs: TEST_PGTLS_DATABASE_URL
# (verify-full against the CA), TEST_PGTLS_WRONG_CA_DATABASE_URL (another CA),
# TEST_POOLER_ADMIN_DATABASE_URL (the superuser, Unix socket), TEST_PGBOUNCER_DATABASE_URL
# and TEST_PGBOUNCER_ONE_DATABASE_URL (a pool of one server connection), and
# TEST_PGBOUNCER_STATS_URL (PgBouncer's console, SHOW commands only).
pooler_start() {
    local dir=$1 port bport password secret
    local PGHOST PGPORT PGUSER PGDATABASE # cluster_start exports them for this cluster: here only
    private_dir "$dir"
    pooler_tls_files "$dir/tls"
    local tries
    for tries in 1 2 3; do # a port taken meanwhile by another program: another one
        port=$(free_port) || { log "no free TCP port on 127.0.0.1"; return 1; }
        CLUSTER_HBA_EXTRA="hostssl todo todo_gateway 127.0.0.1/32 scram-sha-256" \
            cluster_start "$dir/data" "$dir/sock" "$port" "-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key \
                -c ssl_min_protocol_version=TLSv1.2 -c password_encryption=scram-sha-256" && break
        [ "$tries" -lt 3 ] || return 1
    done
    MIGRATE_QUIET=1 "$TOP/db/migrate"
    password=$(openssl rand -hex 24)
    psql -X -q -v ON_ERROR_STOP=1 -c "alter role todo_gateway password '$password'" >/dev/null
    secret=$(psql -X -q -tA -c "select rolpassword from pg_authid where rolname = 'todo_gateway'")
    (umask 077 && printf '127.0.0.1:*:*:todo_gateway:%s\n' "$password" > "$dir/passfile")
    for tries in 1 2 3; do
        bport=$(free_port) || { log "no free TCP port on 127.0.0.1"; return 1; }
        pgbouncer_start "$dir/pgbouncer" "$port" "$bport" "$secret" "$dir/tls/ca.crt" && break
        [ "$tries" -lt 3 ] || return 1
    done

    local tcp="postgresql://todo_gateway@127.0.0.1:$port/todo?passfile=$dir/passfile&sslmode=verify-full"
    export TEST_PGTLS_DATABASE_URL="$tcp&sslrootcert=$dir/tls/ca.crt"
    export TEST_PGTLS_WRONG_CA_DATABASE_URL="$tcp&sslrootcert=$dir/tls/wrong-ca.crt"
    export TEST_POOLER_ADMIN_DATABASE_URL="postgresql:///todo?host=$dir/sock&port=$port&user=postgres"
    export TEST_PGBOUNCER_DATABASE_URL="postgresql://todo_gateway@127.0.0.1:$bport/todo?passfile=$dir/passfile"
    export TEST_PGBOUNCER_ONE_DATABASE_URL="postgresql://todo_gateway@127.0.0.1:$bport/todo_one?passfile=$dir/passfile"
    export TEST_PGBOUNCER_STATS_URL="postgresql://todo_gateway@127.0.0.1:$bport/pgbouncer?passfile=$dir/passfile"
}

# pgbouncer_start DIR PORT LISTEN_PORT SCRAM_SECRET CA_FILE: PgBouncer as the server's OS user
# (it refuses root), transaction mode, on 127.0.0.1:LISTEN_PORT only, in front of the cluster on
# 127.0.0.1:PORT (TLS, verify-full against CA_FILE). Clients authenticate as todo_gateway with
# SCRAM-SHA-256 against SCRAM_SECRET, the cluster's own, which PgBouncer then passes on to the
# cluster. Databases: todo (pools of up to 8), todo_one (a pool of one server connection).
pgbouncer_start() {
    local dir=$1 port=$2 bport=$3 secret=$4 ca=$5
    (umask 077 && mkdir -p "$dir")
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    printf '"todo_gateway" "%s"\n' "$secret" | as_pg sh -c 'umask 077 && cat > "$1"' sh "$dir/userlist.txt"
    as_pg sh -c 'umask 077 && cat > "$1"' sh "$dir/pgbouncer.ini" <<INI
; Written by scripts/lib-pooler.sh for one run of scripts/test.
[databases]
todo = host=127.0.0.1 port=$port dbname=todo
todo_one = host=127.0.0.1 port=$port dbname=todo pool_size=1 reserve_pool=0
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
stats_users = todo_gateway
pool_mode = transaction
default_pool_size = 8
max_client_conn = 400
server_tls_sslmode = verify-full
server_tls_ca_file = $ca
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    as_pg pgbouncer -q -d "$dir/pgbouncer.ini"
    local i
    for i in $(seq 1 50); do
        psql -X -q -tA -d "postgresql://todo_gateway@127.0.0.1:$bport/pgbouncer?passfile=$(dirname "$dir")/passfile" \
            -c 'show version' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    log "PgBouncer did not start: $(as_pg tail -5 "$dir/pgbouncer.log" 2>&1)"
    return 1
}

# pooler_stop DIR: stops PgBouncer (by the pid in its pid file) and the cluster, when started.
pooler_stop() {
    local dir=$1 pid
    pid=$(cat "$dir/pgbouncer/pgbouncer.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
    [ -f "$dir/data/PG_VERSION" ] && cluster_stop "$dir/data"
    return 0
}
