#!/usr/bin/env bash
# A single-host Slurm cluster from Debian's packages, for tests and for trying the Slurm scripts
# in scripts/cluster on one machine (Tests/cluster/slurm-e2e.sh uses it).
#
#   bash scripts/cluster/local-slurm.sh start  DIR   # install if missing, start, wait until idle
#   bash scripts/cluster/local-slurm.sh status DIR   # exit 0 when the cluster is up, 1 otherwise
#   bash scripts/cluster/local-slurm.sh stop   DIR   # cancel its jobs, stop the daemons it started
#
# Then `export SLURM_CONF=DIR/slurm.conf` (start prints it; DIR/env holds it) and use sbatch,
# squeue, scontrol as usual. DIR holds everything: slurm.conf, the controller's state, the
# node's spool, logs (DIR/log: slurmctld.log, slurmd.log, jobcomp.txt; munged's stays in
# /var/log/munge) and the pids of the daemons this script started (DIR/pids); `stop` stops only
# those (checking each pid still runs the program it recorded), never a Slurm or munge it did
# not start.
#
# Runs as root (SlurmUser=root, slurmd must be root to start jobs). Installs `slurm-wlm` and
# `munge` with apt-get when a program is missing (idempotent). Works without systemd: Debian
# 12's Slurm 22.05 runs when started by hand (measured on the project's machines). Ports 6817
# (slurmctld) and 6818 (slurmd) unless LOCAL_SLURM_CTLD_PORT / LOCAL_SLURM_D_PORT say
# otherwise. What the plain recipe misses, and this script does:
#   * munged refuses to start without /run/munge (tmpfs, gone after a reboot) and without a
#     key; a munged that already answers is reused and never stopped;
#   * SelectTypeParameters=CR_Core: 22.05's default for cons_tres is CR_Core_Memory with
#     DefMemPerNode=UNLIMITED, so each job takes the node's whole memory and jobs run one at a
#     time (measured: two one-CPU jobs on the 2-CPU node, the second pending on Resources);
#   * no accounting database, so `sacct` cannot answer: MinJobAge=3600 keeps finished jobs
#     (state, exit code) visible to `scontrol show job` for an hour, and jobcomp/filetxt
#     keeps one line per finished job in DIR/log/jobcomp.txt;
#   * ReturnToService=2: a node marked down by an earlier run in the same DIR comes back;
#   * stop cancels the cluster's jobs first: slurmstepd processes outlive slurmd by design.
set -euo pipefail

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
case "$action" in start | stop | status) ;; *) usage ;; esac
mkdir -p "$2"
dir=$(cd "$2" && pwd)
conf="$dir/slurm.conf"
pids="$dir/pids"
ctld_port=${LOCAL_SLURM_CTLD_PORT:-6817}
d_port=${LOCAL_SLURM_D_PORT:-6818}
export SLURM_CONF="$conf"

say() { echo "local-slurm: $*"; }
fail() { echo "local-slurm: $*" >&2; exit 1; }

# pid_alive NAME: the recorded pid of NAME still runs a program called NAME.
pid_alive() {
  local file="$pids/$1" pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}

# wait_for_pid_file FILE: the daemon writes it after forking; echo its content.
wait_for_pid_file() {
  local _
  for _ in $(seq 1 100); do
    if [ -s "$1" ]; then cat "$1"; return 0; fi
    sleep 0.1
  done
  return 1
}

install_if_missing() {
  local missing=0 program
  for program in slurmctld slurmd sbatch squeue sinfo scontrol scancel munged mungekey munge unmunge; do
    command -v "$program" >/dev/null 2>&1 || missing=1
  done
  [ "$missing" -eq 0 ] && return 0
  say "installing slurm-wlm and munge (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

munge_answers() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_answers; then
    say "munged already running (reused, not ours to stop)"
    return 0
  fi
  # /run is a tmpfs: the package made /run/munge at install time, a reboot removed it.
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0600 /etc/munge/munge.key
  fi
  rm -f /run/munge/munged.pid
  # As munge, with munge's own log: munged cannot reach a log under DIR (mktemp -d is 0700).
  runuser -u munge -- munged --pid-file=/run/munge/munged.pid
  local pid
  pid=$(wait_for_pid_file /run/munge/munged.pid) || fail "munged did not start (see /var/log/munge/munged.log)"
  echo "$pid" >"$pids/munged"
  local _
  for _ in $(seq 1 50); do
    munge_answers && return 0
    sleep 0.1
  done
  fail "munged started (pid $pid) but does not answer (see /var/log/munge/munged.log)"
}

write_conf() {
  cat >"$conf" <<EOF
# Written by scripts/cluster/local-slurm.sh: one node, this host, everything under $dir.
ClusterName=headstart
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MinJobAge=3600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

# node_state: the node's state as sinfo reports it (empty while the controller does not answer).
node_state() { timeout 5 sinfo -h -N -n localhost -o '%T' 2>/dev/null | head -n 1 || true; }

show_logs() {
  local log
  for log in "$dir"/log/slurmctld.log "$dir"/log/slurmd.log /var/log/munge/munged.log; do
    [ -f "$log" ] || continue
    echo "---- last lines of $log" >&2
    tail -n 15 "$log" >&2
  done
}

start() {
  [ "$(id -u)" -eq 0 ] || fail "must run as root (SlurmUser=root; slurmd starts jobs)"
  install_if_missing
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/run" "$pids"
  echo "export SLURM_CONF=$conf" >"$dir/env"
  if pid_alive slurmctld && pid_alive slurmd; then
    say "already running in $dir"
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  start_munge
  write_conf
  if ! pid_alive slurmctld; then
    rm -f "$dir/run/slurmctld.pid"
    slurmctld -f "$conf" || { show_logs; fail "slurmctld did not start"; }
    wait_for_pid_file "$dir/run/slurmctld.pid" >"$pids/slurmctld" \
      || { show_logs; fail "slurmctld wrote no pid file"; }
  fi
  if ! pid_alive slurmd; then
    rm -f "$dir/run/slurmd.pid"
    slurmd -f "$conf" -N localhost || { show_logs; fail "slurmd did not start"; }
    wait_for_pid_file "$dir/run/slurmd.pid" >"$pids/slurmd" \
      || { show_logs; fail "slurmd wrote no pid file"; }
  fi
  local _ state=""
  for _ in $(seq 1 60); do
    state=$(node_state)
    case "$state" in
      idle* | mixed* | allocated*) break ;;
    esac
    sleep 0.5
  done
  case "$state" in
    idle* | mixed* | allocated*) ;;
    *) show_logs; fail "node not ready after 30 s (state '${state:-no answer}')" ;;
  esac
  say "up in $dir: node localhost $state, $(nproc) CPUs, MaxArraySize $(max_array_size)"
  echo "export SLURM_CONF=$conf"
}

max_array_size() { scontrol show config 2>/dev/null | awk '$1 == "MaxArraySize" { print $3 }'; }

# stop_daemon NAME: TERM, then KILL after 10 s, the daemon this script started.
stop_daemon() {
  local name=$1 pid _
  if pid_alive "$name"; then
    pid=$(cat "$pids/$name")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$pids/$name"
}

stop() {
  if pid_alive slurmctld; then
    # Jobs' slurmstepd processes outlive slurmd; cancel what this cluster still runs.
    if [ -n "$(timeout 5 squeue -h -o %i 2>/dev/null || true)" ]; then
      timeout 10 scancel --user="$(id -un)" 2>/dev/null || true
      local _
      for _ in $(seq 1 50); do
        [ -z "$(timeout 5 squeue -h -t running,completing -o %i 2>/dev/null || true)" ] && break
        sleep 0.2
      done
    fi
  fi
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon munged
}

status() {
  local name up=0
  for name in munged slurmctld slurmd; do
    if pid_alive "$name"; then
      say "$name running (pid $(cat "$pids/$name"), started by this script)"
    elif [ "$name" = munged ] && munge_answers; then
      say "munged running (not started by this script)"
    else
      say "$name not running"
      [ "$name" = munged ] || up=1
    fi
  done
  if [ "$up" -eq 0 ]; then
    sinfo
    echo "export SLURM_CONF=$conf"
  fi
  return "$up"
}

"$action"
