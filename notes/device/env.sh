# Sourced by the other scripts (run from the checkout's root on the device machine; the checkout's
# tracked files travel with every call, so these need no `carry`). Installs snakemake from the
# carried wheels into /tmp/sm once per machine and makes `python` the image's python3 (the rules
# call `python`; a symlink to python3 loses its environment, a wrapper does not).
if [ ! -d /tmp/sm/snakemake ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/sm .carry/wheels/*.whl 2>&1 | tail -2
fi
mkdir -p /tmp/bin && printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v python3)" > /tmp/bin/python && chmod +x /tmp/bin/python
export PYTHONPATH=/tmp/sm
export PATH=/tmp/bin:$PATH
# Up to four jobs compile at once on 16 cores: keep each one's inductor worker pool small.
export TORCHINDUCTOR_COMPILE_THREADS=${TORCHINDUCTOR_COMPILE_THREADS:-4}
# The reference run's arguments (config/gpu.yaml's header); override SMK_ARGS for other runs.
# SMK_PREP_ARGS leaves out --prioritize: Snakemake adds prioritized files to the run's targets, so
# with it a preparation of a few targets would also build (and fetch the raw files of) those.
# Probes put their own config file last in SMK_CONFIGFILES before sourcing this file.
SMK_CONFIGFILES=${SMK_CONFIGFILES:-"config/config.yaml config/gpu.yaml"}
SMK_PREP_ARGS=${SMK_PREP_ARGS:-"--cores all --resources gpu=4 --configfile $SMK_CONFIGFILES --config mirror=.carry/mirror device=cuda"}
SMK_ARGS=${SMK_ARGS:-"--prioritize results/experiments/captcha_text/model.pt results/experiments/mnist_uncond/model.pt $SMK_PREP_ARGS"}
# run_detached LOG RC SECONDS CMD...: start CMD apart from this call (it outlives the call while
# the machine is held), its output in LOG, its exit status written to RC when it ends.
run_detached() {
  local log=$1 rc=$2 limit=$3; shift 3
  rm -f "$rc"
  setsid nohup bash -c 'log=$1 rc=$2 limit=$3; shift 3; timeout "$limit" "$@" > "$log" 2>&1; echo $? > "$rc"' \
    _ "$log" "$rc" "$limit" "$@" > /dev/null 2>&1 < /dev/null &
}
# wait_for RC SECONDS PROGRESS: every 30 s print the time, PROGRESS's output (a command) and the
# GPU's load, until RC exists (status 0) or SECONDS have passed (status 1).
wait_for() {
  local rc=$1 limit=$2 progress=$3 t0 now
  t0=$(date +%s)
  while :; do
    now=$(( $(date +%s) - t0 ))
    echo "[$(date +%T) +${now}s] $($progress) | gpu $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader)"
    [ -f "$rc" ] && return 0
    [ "$now" -ge "$limit" ] && return 1
    sleep 30
  done
}
