# One call: install, then a few targets with an extra config file on top of the reference run's,
# e.g. bash notes/device/probe.sh notes/bench/2026-12-03-h200-probe-mnist_uncond/probe.yaml \
#          results/experiments/mnist_uncond/metrics/{ddpm1000,ddim50}.json
# Copies the targets, the experiments' provenance and train logs, and the log into $OUT.
extra=$1; shift
SMK_CONFIGFILES="config/config.yaml config/gpu.yaml $extra"
. notes/device/env.sh
T0=$(date +%s); mkdir -p results
timeout 530 python -m snakemake "$@" $SMK_PREP_ARGS > results/probe.log 2>&1
echo "probe rc=$? after $(( $(date +%s) - T0 )) s"; tail -4 results/probe.log
for target in "$@"; do [ -f "$target" ] && cp "$target" "$OUT/" && echo "$target: $(head -c 300 "$target")"; done
for exp in $(printf '%s\n' "$@" | sed -n 's#^results/experiments/\([^/]*\)/.*#\1#p' | sort -u); do
  cp "results/experiments/$exp/provenance.json" "$OUT/$exp-provenance.json"
  cp "results/experiments/$exp/train_log.csv" "$OUT/$exp-train_log.csv"
done
cp results/probe.log "$OUT/"
