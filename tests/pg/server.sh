#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL server for the test suite.
#
#   tests/pg/server.sh start       # prints the database URL on stdout
#   tests/pg/server.sh stop
#   tests/pg/server.sh start-tls   # a second server that takes only TLS
#   tests/pg/server.sh stop-tls
#
# initdb/pg_ctl refuse to run as root, so as root the server runs as the
# `postgres` user (or a `djxtest` user created for it). Data lives in a temp
# dir; the port is a free one. The same script serves developers and CI.
#
# The TLS server: openssl makes a CA and a server certificate for
# `localhost` (DNS name only), and a second, unrelated CA; the server has
# `ssl = on` and a pg_hba.conf with only `hostssl` lines, for the user
# `djx_tls`, who logs in with a password (scram-sha-256). start-tls prints
#   postgres://djx_tls:PASSWORD@localhost:PORT/postgres?sslrootcert=DIR/ca.pem
# and DIR also holds wrong-ca.pem.
set -euo pipefail

STATE=${DJX_PG_STATE:-${TMPDIR:-/tmp}/djx-test-pg}
if [[ "${1:-}" == *-tls ]]; then
    STATE=$STATE-tls
fi
BIN=$(dirname "$(command -v pg_ctl || echo /usr/lib/postgresql/15/bin/pg_ctl)")

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        local user=postgres
        id "$user" >/dev/null 2>&1 || { useradd -r -M djxtest 2>/dev/null || true; user=djxtest; }
        chown -R "$user" "$STATE"
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${1:-}" in
start)
    if [ -f "$STATE/url" ] && as_owner "$BIN/pg_ctl" -D "$STATE/data" status >/dev/null 2>&1; then
        cat "$STATE/url"
        exit 0
    fi
    rm -rf "$STATE"
    mkdir -p "$STATE"
    chmod 755 "$STATE"
    as_owner "$BIN/initdb" -D "$STATE/data" -U djx --auth=trust --no-sync >"$STATE/initdb.log" 2>&1
    port=$(free_port)
    as_owner "$BIN/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w \
        -o "-p $port -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
        start >/dev/null
    echo "postgres://djx@127.0.0.1:$port/postgres" >"$STATE/url"
    cat "$STATE/url"
    ;;
start-tls)
    if [ -f "$STATE/url" ] && as_owner "$BIN/pg_ctl" -D "$STATE/data" status >/dev/null 2>&1; then
        cat "$STATE/url"
        exit 0
    fi
    rm -rf "$STATE"
    mkdir -p "$STATE/tls"
    chmod 755 "$STATE" "$STATE/tls"
    tls=$STATE/tls
    {
        for ca in ca wrong-ca; do
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=djx test $ca" \
                -keyout "$tls/$ca.key" -out "$tls/$ca.pem"
        done
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$tls/server.key" -out "$tls/server.csr"
        printf 'subjectAltName = DNS:localhost\n' >"$tls/server.ext"
        openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
            -CAcreateserial -days 2 -extfile "$tls/server.ext" -out "$tls/server.pem"
    } >"$STATE/openssl.log" 2>&1
    chmod 644 "$tls"/*.pem
    chmod 600 "$tls"/*.key
    password=$(openssl rand -hex 16)
    as_owner "$BIN/initdb" -D "$STATE/data" -U djx --auth=trust --no-sync >"$STATE/initdb.log" 2>&1
    cat >"$STATE/data/pg_hba.conf" <<HBA
# Unix socket: this script sets the server up. TCP: TLS only, with a password.
local   all  all                  trust
hostssl all  djx_tls  127.0.0.1/32  scram-sha-256
hostssl all  djx_tls  ::1/128       scram-sha-256
HBA
    as_owner true
    port=$(free_port)
    as_owner "$BIN/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w \
        -o "-p $port -k $STATE -c listen_addresses=localhost -c fsync=off -c max_connections=100 \
            -c ssl=on -c ssl_cert_file=$tls/server.pem -c ssl_key_file=$tls/server.key" \
        start >/dev/null
    as_owner psql -q -h "$STATE" -p "$port" -U djx -d postgres \
        -c "CREATE ROLE djx_tls LOGIN PASSWORD '$password'; GRANT CREATE ON DATABASE postgres TO djx_tls;" \
        >/dev/null
    echo "postgres://djx_tls:$password@localhost:$port/postgres?sslrootcert=$tls/ca.pem" >"$STATE/url"
    chmod 600 "$STATE/url"
    cat "$STATE/url"
    ;;
stop | stop-tls)
    [ -d "$STATE/data" ] && as_owner "$BIN/pg_ctl" -D "$STATE/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$STATE"
    ;;
restart)
    as_owner "$BIN/pg_ctl" -D "$STATE/data" -m fast -w restart >/dev/null
    ;;
*)
    echo "usage: $0 start|stop|restart|start-tls|stop-tls" >&2
    exit 2
    ;;
esac
