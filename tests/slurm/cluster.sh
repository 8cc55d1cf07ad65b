#!/usr/bin/env bash
# Starts or stops a throwaway single-node Slurm cluster for the test suite:
# Debian's slurmctld, slurmd and munge (apt-get install slurmctld slurmd
# slurm-client munge), as root, with no cgroups and no systemd.
#
#   tests/slurm/cluster.sh start   # prints the path of slurm.conf on stdout
#   tests/slurm/cluster.sh stop
#
# Give the path to every Slurm command as SLURM_CONF (the tests read it from
# DJX_TEST_SLURM_CONF). Everything lives in one directory
# (DJX_SLURM_STATE): its own munge key and socket, free ports, state and
# logs, so it collides with no other cluster or munged. The node declares 8
# CPUs whatever the machine has (SlurmdParameters=config_overrides), so a few
# small job arrays run side by side on a 2-core machine.
set -euo pipefail

STATE=${DJX_SLURM_STATE:-${TMPDIR:-/tmp}/djx-test-slurm}
CONF=$STATE/slurm.conf

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Kills the process whose pid is in file $1, if it is still there.
kill_pidfile() {
    local pid
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
start)
    if [ "$(id -u)" != 0 ]; then
        echo "$0: run as root (slurmd starts jobs as their users)" >&2
        exit 1
    fi
    if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null ||
        ! [ -x /usr/sbin/munged ]; then
        echo "$0: installing Debian's slurmctld, slurmd, slurm-client and munge" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >&2
    fi
    if [ -f "$STATE/slurmctld.pid" ] && kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null; then
        echo "$CONF"
        exit 0
    fi
    rm -rf "$STATE"
    mkdir -p "$STATE/state" "$STATE/spool" "$STATE/log" "$STATE/munge"
    chmod 755 "$STATE"

    # munge, with a key and socket of its own.
    dd if=/dev/urandom bs=1 count=1024 of="$STATE/munge/munge.key" status=none
    chown -R munge:munge "$STATE/munge"
    chmod 700 "$STATE/munge"
    chmod 400 "$STATE/munge/munge.key"
    runuser -u munge -- /usr/sbin/munged --force \
        --socket="$STATE/munge/munge.sock" --key-file="$STATE/munge/munge.key" \
        --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" \
        --seed-file="$STATE/munge/munged.seed"
    chmod 755 "$STATE/munge"

    host=$(hostname -s)
    cat >"$CONF" <<CONF
ClusterName=djxtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.sock
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
NodeName=$host CPUs=8 RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$CONF
    slurmctld -f "$CONF"
    slurmd -f "$CONF"
    for _ in $(seq 100); do
        if sinfo --noheader --format=%T 2>/dev/null | grep -qx idle; then
            echo "$CONF"
            exit 0
        fi
        sleep 0.2
    done
    echo "$0: the node did not come up; see $STATE/log" >&2
    tail -20 "$STATE"/log/*.log >&2 || true
    exit 1
    ;;
stop)
    if [ -f "$CONF" ]; then
        export SLURM_CONF=$CONF
        # Cancel what still runs, and give its workers time to put jobs back.
        scancel --full --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 50); do
            [ -z "$(squeue --noheader 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    kill_pidfile "$STATE/slurmd.pid"
    kill_pidfile "$STATE/slurmctld.pid"
    kill_pidfile "$STATE/munge/munged.pid"
    rm -rf "$STATE"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
