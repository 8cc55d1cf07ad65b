#!/usr/bin/env bash
# Starts or stops a throwaway S3-compatible server for the test suite: Ceph's
# radosgw (Debian's ceph 16.2 "Pacific") on a one-node cluster.
#
#   tests/s3/server.sh start          # prints the endpoint, http://127.0.0.1:PORT
#   tests/s3/server.sh stop
#   tests/s3/server.sh stop-gateway   # only radosgw; the objects stay
#   tests/s3/server.sh start-gateway  # radosgw again, same port; prints the endpoint
#
# Needs the packages ceph-mon ceph-osd radosgw ceph-common (this script
# installs nothing). The cluster is one monitor, one OSD with the `memstore`
# backend (objects live in memory) and the gateway, everything on 127.0.0.1,
# cephx off inside the cluster. Config, logs, pid files and the mon store live
# in $DJX_S3_STATE (default $TMPDIR/djx-test-s3); the mon and gateway ports are
# free ones (the OSD takes ports from Ceph's 6800-7300 range). The same script
# serves developers and CI, as root or not.
#
# S3 clients: access key `djx-test-key`, secret `djx-test-secret`, region
# `us-east-1`, path-style addressing (http://127.0.0.1:PORT/BUCKET/KEY), and
# the bucket `djx-test`, which start creates.
# With curl 7.88 (Debian 12), SigV4 needs the payload-hash header by hand:
#   curl --aws-sigv4 aws:amz:us-east-1:s3 --user djx-test-key:djx-test-secret \
#        -H x-amz-content-sha256:UNSIGNED-PAYLOAD ...
set -euo pipefail

STATE=${DJX_S3_STATE:-${TMPDIR:-/tmp}/djx-test-s3}
CONF=$STATE/ceph.conf
ACCESS_KEY=djx-test-key
SECRET_KEY=djx-test-secret
BUCKET=djx-test
RGW=client.rgw.a
START_TIMEOUT=${DJX_S3_START_TIMEOUT:-90}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

log() {
    echo "s3/server.sh: $*" >&2
}

# Prints the end of a log file on stderr.
show_log() {
    local f
    for f in "$@"; do
        if [ -s "$f" ]; then
            echo "---- last lines of $f ----" >&2
            tail -n 30 "$f" >&2
        fi
    done
}

fail() {
    log "error: $1"
    shift
    show_log "$@"
    exit 1
}

# The cluster's command-line tools, on this cluster only, never hanging.
ceph_() {
    timeout 30 ceph -c "$CONF" --connect-timeout 20 "$@"
}

# True if the gateway on port $1 answers HTTP (any status).
answers() {
    curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$1/"
}

# The pid of daemon $1 (mon.a, osd.0, client.rgw.a) if it runs from this STATE.
daemon_pid() {
    local f=$STATE/run/$1.pid pid
    [ -f "$f" ] || return 1
    pid=$(cat "$f" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    # The pid file may be stale and its pid reused: check the command line.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF" || return 1
    echo "$pid"
}

# Stops daemon $1: SIGTERM, then SIGKILL after 10 s. Quiet if it does not run.
stop_daemon() {
    local pid i
    pid=$(daemon_pid "$1") || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$STATE/run/$1.pid"; return 0; }
        sleep 0.1
    done
    log "$1 (pid $pid) did not exit after SIGTERM in 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$STATE/run/$1.pid"
}

stop_all() {
    stop_daemon "$RGW"
    stop_daemon osd.0
    stop_daemon mon.a
}

# Waits until command "$@" succeeds, or fails with message $what and the log $logf.
wait_for() {
    local what=$1 logf=$2 deadline=$((SECONDS + START_TIMEOUT))
    shift 2
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            fail "timed out after ${START_TIMEOUT}s waiting for $what" "$logf"
        fi
        sleep 0.5
    done
}

osd_up() {
    ceph_ osd dump 2>/dev/null | grep -q '^osd\.0 up'
}

start_gateway() {
    local port
    port=$(cat "$STATE/port")
    daemon_pid mon.a >/dev/null || fail "the monitor does not run; use \`$0 start\`" "$STATE/log/mon.a.log"
    daemon_pid osd.0 >/dev/null || fail "the OSD does not run; use \`$0 start\`" "$STATE/log/osd.0.log"
    if ! daemon_pid "$RGW" >/dev/null; then
        if answers "$port"; then
            fail "port $port is taken by another program"
        fi
        radosgw -c "$CONF" -n "$RGW" </dev/null >>"$STATE/log/$RGW.out" 2>&1 ||
            fail "radosgw did not start" "$STATE/log/$RGW.out" "$STATE/log/$RGW.log"
    fi
    wait_for "the gateway to answer on port $port" "$STATE/log/$RGW.log" answers "$port"
}

case "${1:-}" in
start)
    if [ -f "$STATE/endpoint" ] && [ -f "$STATE/port" ] && daemon_pid "$RGW" >/dev/null &&
        answers "$(cat "$STATE/port")"; then
        cat "$STATE/endpoint"
        exit 0
    fi
    for tool in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool curl python3; do
        command -v "$tool" >/dev/null ||
            fail "$tool not found; install ceph-mon ceph-osd radosgw ceph-common curl python3"
    done
    # Whatever is left of an earlier run (maybe a half-started one) goes.
    if [ -d "$STATE" ]; then
        stop_all
    fi
    rm -rf "$STATE"
    mkdir -p "$STATE"/{run,log,mon,osd/ceph-0,rgw}
    # On failure, stop what was started; the logs stay in $STATE.
    trap 'rc=$?; if [ $rc != 0 ]; then log "start failed; logs are in $STATE/log"; stop_all; fi' EXIT

    fsid=$(cat /proc/sys/kernel/random/uuid)
    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    mon_port=$(free_port)
    port=$(free_port)
    while [ "$port" = "$mon_port" ]; do port=$(free_port); done
    echo "$port" >"$STATE/port"

    cat >"$CONF" <<CONF
# Written by tests/s3/server.sh: a throwaway one-node cluster.
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
keyring = $STATE/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail crit = 0
mon data avail warn = 0
osd crush chooseleaf type = 0
run dir = $STATE/run
log file = $STATE/log/\$name.log
ms bind msgr2 = false
[mon]
mon data = $STATE/mon/ceph-\$id
pid file = $STATE/run/\$name.pid
[osd]
osd data = $STATE/osd/ceph-\$id
pid file = $STATE/run/\$name.pid
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64
osd crush update on start = false
osd class update on start = false
[$RGW]
pid file = $STATE/run/\$name.pid
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $STATE/rgw
CONF
    : >"$STATE/keyring"

    # 1. The monitor.
    monmaptool --create --add a "v1:127.0.0.1:$mon_port" --fsid "$fsid" "$STATE/monmap" \
        >"$STATE/log/monmaptool.out" 2>&1 || fail "monmaptool failed" "$STATE/log/monmaptool.out"
    ceph-mon -c "$CONF" -i a --mkfs --monmap "$STATE/monmap" </dev/null >"$STATE/log/mon.a.out" 2>&1 ||
        fail "ceph-mon --mkfs failed" "$STATE/log/mon.a.out" "$STATE/log/mon.a.log"
    ceph-mon -c "$CONF" -i a </dev/null >>"$STATE/log/mon.a.out" 2>&1 ||
        fail "ceph-mon did not start (port $mon_port)" "$STATE/log/mon.a.out" "$STATE/log/mon.a.log"
    wait_for "the monitor on port $mon_port" "$STATE/log/mon.a.log" ceph_ mon stat

    # 2. The OSD, placed in the CRUSH map by hand before it starts.
    {
        ceph_ osd create "$osd_uuid"
        ceph_ osd crush add-bucket localhost host
        ceph_ osd crush move localhost root=default
        ceph_ osd crush add osd.0 1.0 host=localhost
        ceph_ osd crush set-device-class hdd osd.0
    } >"$STATE/log/setup.out" 2>&1 || fail "setting up the OSD in the monitor failed" "$STATE/log/setup.out"
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" </dev/null >"$STATE/log/osd.0.out" 2>&1 ||
        fail "ceph-osd --mkfs failed" "$STATE/log/osd.0.out" "$STATE/log/osd.0.log"
    ceph-osd -c "$CONF" -i 0 </dev/null >>"$STATE/log/osd.0.out" 2>&1 ||
        fail "ceph-osd did not start" "$STATE/log/osd.0.out" "$STATE/log/osd.0.log"
    wait_for "the OSD to come up" "$STATE/log/osd.0.log" osd_up

    # 3. The gateway (it creates its pools on first start).
    start_gateway

    # 4. The S3 user, with fixed keys.
    timeout 60 radosgw-admin -c "$CONF" user create --uid=djx --display-name=djx \
        --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$STATE/log/user.out" 2>&1 ||
        fail "radosgw-admin user create failed" "$STATE/log/user.out"

    # 5. The tests' bucket (each test keeps to a prefix of its own). curl
    # 7.88 signs with SigV4 only given the payload header.
    curl -sf --max-time 30 -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$ACCESS_KEY:$SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
        "http://127.0.0.1:$port/$BUCKET" >"$STATE/log/bucket.out" 2>&1 ||
        fail "creating the bucket $BUCKET failed" "$STATE/log/bucket.out"

    echo "http://127.0.0.1:$port" >"$STATE/endpoint"
    trap - EXIT
    cat "$STATE/endpoint"
    ;;
stop)
    if [ -d "$STATE" ]; then
        stop_all
    fi
    rm -rf "$STATE"
    ;;
stop-gateway)
    [ -f "$STATE/port" ] || fail "no server in $STATE"
    stop_daemon "$RGW"
    port=$(cat "$STATE/port")
    for ((i = 0; i < 100; i++)); do
        answers "$port" || exit 0
        sleep 0.1
    done
    fail "port $port still answers after the gateway stopped"
    ;;
start-gateway)
    [ -f "$STATE/endpoint" ] || fail "no server in $STATE; use \`$0 start\`"
    start_gateway
    cat "$STATE/endpoint"
    ;;
*)
    echo "usage: $0 start|stop|stop-gateway|start-gateway" >&2
    exit 2
    ;;
esac
