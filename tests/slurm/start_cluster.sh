#!/usr/bin/env bash
# A one-node SLURM cluster on 127.0.0.1 from Debian's packages (slurmctld, slurmd, slurm-client,
# munge), started by hand: no systemd, no slurmdbd, no accounting. Used by tests/test_slurm.py and
# by .ci/run.
#
#   tests/slurm/start_cluster.sh [start]   start the cluster, or reuse it if it is already up
#   tests/slurm/start_cluster.sh status    exit 0 when the controller answers and the node is usable
#   tests/slurm/start_cluster.sh stop      stop the daemons start started (by their pid files)
#   tests/slurm/start_cluster.sh env       print what a client needs (SLURM_CONF=...)
#
# Files: everything in $DDPM_SLURM_DIR (default /tmp/ddpm-slurm): slurm.conf and gres.conf made from
# slurm.conf.in (etc/), a munge key (munge/), state, spool, pid files and logs (log/). Outside it
# only munged's socket (/run/munge, unless a munged is running already, which is then used) and
# slurmd's link to its configless copy of slurm.conf (/run/slurm/conf). Nothing under /etc: on a
# machine with /etc/slurm/slurm.conf (a real SLURM) it refuses to start (exit 3).
# Needs root (slurmd runs jobs as their submitter); exit 3 without root or without the programs.
# Clients: SLURM_CONF=$DDPM_SLURM_DIR/etc/slurm.conf, or nothing (they find /run/slurm/conf).
# Settings, all optional, from the environment:
#   DDPM_SLURM_DIR        state folder                          (/tmp/ddpm-slurm)
#   DDPM_SLURM_PORT       slurmctld port; slurmd uses port + 1  (16817: not SLURM's default 6817)
#   DDPM_SLURM_CPUS       CPUs the node declares                (32)
#   DDPM_SLURM_MEM_MB     memory the node declares (MB)         (262144)
#   DDPM_SLURM_GPUS       GPUs the node declares                (4)
#   DDPM_SLURM_PARTITION  its (default) partition               (debug)
# The node declares more than the machine has, and GPUs it may not have (see slurm.conf.in), so
# that the SLURM profile's requests are scheduled as they are. On failure the daemons' last log
# lines are printed and the exit status is 1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${DDPM_SLURM_DIR:-/tmp/ddpm-slurm}"
port="${DDPM_SLURM_PORT:-16817}"
cpus="${DDPM_SLURM_CPUS:-32}"
mem_mb="${DDPM_SLURM_MEM_MB:-262144}"
gpus="${DDPM_SLURM_GPUS:-4}"
partition="${DDPM_SLURM_PARTITION:-debug}"
node="ddpmnode"
conf="$dir/etc/slurm.conf"
export SLURM_CONF="$conf"

log() { echo "start_cluster: $*" >&2; }

need() {
  local missing=()
  for program in munged munge unmunge slurmctld slurmd sbatch squeue scontrol sinfo srun; do
    command -v "$program" >/dev/null 2>&1 || [ -x "/usr/sbin/$program" ] || missing+=("$program")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "missing programs: ${missing[*]} (apt-get install slurmctld slurmd slurm-client munge)"
    exit 3
  fi
  if [ "$(id -u)" -ne 0 ]; then
    log "needs root (slurmd runs jobs as the user who submits them)"
    exit 3
  fi
}

sbin() { command -v "$1" 2>/dev/null || echo "/usr/sbin/$1"; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Client commands retry for a long time when a daemon is down: bound them.
client() { timeout 10 "$@"; }

node_state() { client sinfo -h -n "$node" -o %t 2>/dev/null | head -n 1; }

ready() {
  [ -f "$conf" ] && client scontrol ping 2>/dev/null | grep -q "is UP" || return 1
  case "$(node_state)" in
    idle* | mix* | alloc*) return 0 ;;
    *) return 1 ;;
  esac
}

show_logs() {
  # (the daemons' own logs, and what they printed before opening them)
  for f in "$dir"/log/munged.{out,log} "$dir"/log/slurmctld.{out,log} "$dir"/log/slurmd.{out,log}; do
    [ -f "$f" ] && { echo "---- $f" >&2; tail -n 25 "$f" >&2; }
  done
  client sinfo -N -l >&2 2>/dev/null || true
}

write_config() {
  local host
  host="$(hostname -s 2>/dev/null || hostname)"
  sed -e "s|@DIR@|$dir|g" -e "s|@HOST@|$host|g" -e "s|@CTLD_PORT@|$port|g" \
    -e "s|@SLURMD_PORT@|$((port + 1))|g" -e "s|@NODE@|$node|g" -e "s|@CPUS@|$cpus|g" \
    -e "s|@MEM_MB@|$mem_mb|g" -e "s|@GPUS@|$gpus|g" -e "s|@PARTITION@|$partition|g" \
    "$here/slurm.conf.in" > "$conf.tmp"
  mv "$conf.tmp" "$conf"
  # SLURM drops a GPU without a device file, so each declared GPU gets a stand-in (/dev/null);
  # with TaskPlugin=task/none nothing is bound to it. Enough for --gpus=N to be scheduled.
  mkdir -p "$dir/dev"
  local i
  for ((i = 0; i < gpus; i++)); do ln -sfn /dev/null "$dir/dev/gpu$i"; done
  echo "NodeName=$node Name=gpu File=$dir/dev/gpu[0-$((gpus - 1))]" > "$dir/etc/gres.conf"
}

munge_ok() { client munge -n 2>/dev/null | client unmunge >/dev/null 2>&1; }

# munged on its default socket (/run/munge/munge.socket.2): slurmd, started configless (see
# slurm.conf.in), authenticates its first request before it has any configuration to name another.
# A munged that is already running is used as it is; else one is started with a key of our own.
start_munge() {
  munge_ok && return 0
  mkdir -p "$dir/munge" /run/munge
  if [ ! -s "$dir/munge/munge.key" ]; then
    (umask 077 && head -c 1024 /dev/urandom > "$dir/munge/munge.key")
  fi
  chmod 0700 "$dir/munge"
  chmod 0400 "$dir/munge/munge.key"
  # --force: munged refuses to run as root without it.
  if ! "$(sbin munged)" --force --key-file="$dir/munge/munge.key" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" </dev/null >>"$dir/log/munged.out" 2>&1; then
    log "munged failed to start"
    show_logs
    exit 1
  fi
  local deadline=$((SECONDS + 10))
  while [ "$SECONDS" -lt "$deadline" ]; do
    munge_ok && return 0
    sleep 0.1
  done
  log "munged does not answer"
  show_logs
  exit 1
}

start() {
  need
  if ready; then
    log "reusing the cluster that is up ($conf)"
    return 0
  fi
  mkdir -p "$dir"/{etc,state,spool,run,log}
  if [ -e /etc/slurm/slurm.conf ]; then
    # Client commands inside a job read it before the configless copy (and srun there would talk
    # to the cluster it names).
    log "/etc/slurm/slurm.conf exists: this machine belongs to another SLURM; not starting a test cluster"
    exit 3
  fi
  write_config
  start_munge
  if ! alive "$dir/run/slurmctld.pid"; then
    # -i: ignore state the last (killed) controller left; -c: start with a clean job list.
    "$(sbin slurmctld)" -f "$conf" -i -c </dev/null >>"$dir/log/slurmctld.out" 2>&1 ||
      { log "slurmctld failed to start"; show_logs; exit 1; }
  fi
  if ! alive "$dir/run/slurmd.pid"; then
    "$(sbin slurmd)" --conf-server "127.0.0.1:$port" -N "$node" </dev/null >>"$dir/log/slurmd.out" 2>&1 ||
      { log "slurmd failed to start"; show_logs; exit 1; }
  fi
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ready; then
      log "up: node $node ($cpus CPUs, $mem_mb MB, $gpus GPUs declared), partition $partition; SLURM_CONF=$conf"
      return 0
    fi
    if ! alive "$dir/run/slurmctld.pid" || ! alive "$dir/run/slurmd.pid"; then
      sleep 0.5  # a daemon that just forked may not have written its pid file yet
      if ! alive "$dir/run/slurmctld.pid" || ! alive "$dir/run/slurmd.pid"; then
        log "a daemon exited (slurmctld alive: $(alive "$dir/run/slurmctld.pid" && echo yes || echo no)," \
          "slurmd alive: $(alive "$dir/run/slurmd.pid" && echo yes || echo no))"
        show_logs
        exit 1
      fi
    fi
    # A node that came back after a crash may be DOWN: it is ours, resume it.
    case "$(node_state)" in
      down* | drain*) client scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  log "the cluster did not come up within 30 s"
  show_logs
  exit 1
}

stop() {
  local name pidfile pid
  for name in slurmd slurmctld munged; do
    pidfile="$dir/run/$name.pid"
    if alive "$pidfile"; then
      pid="$(cat "$pidfile")"
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  # slurmd leaves its link to the configless copy behind; clients would read a dead cluster's file.
  if [ "$(readlink /run/slurm/conf 2>/dev/null)" = "$dir/spool/conf-cache" ]; then
    rm -f /run/slurm/conf
  fi
  log "stopped ($dir)"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) ready ;;
  env) echo "SLURM_CONF=$conf" ;;
  *)
    echo "usage: $0 [start|stop|status|env]" >&2
    exit 2
    ;;
esac
