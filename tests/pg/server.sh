#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL server for the test suite.
#
#   tests/pg/server.sh start   # prints the database URL on stdout
#   tests/pg/server.sh stop
#
# initdb/pg_ctl refuse to run as root, so as root the server runs as the
# `postgres` user (or a `djxtest` user created for it). Data lives in a temp
# dir; the port is a free one. The same script serves developers and CI.
set -euo pipefail

STATE=${DJX_PG_STATE:-${TMPDIR:-/tmp}/djx-test-pg}
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
stop)
    [ -d "$STATE/data" ] && as_owner "$BIN/pg_ctl" -D "$STATE/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$STATE"
    ;;
restart)
    as_owner "$BIN/pg_ctl" -D "$STATE/data" -m fast -w restart >/dev/null
    ;;
*)
    echo "usage: $0 start|stop|restart" >&2
    exit 2
    ;;
esac
