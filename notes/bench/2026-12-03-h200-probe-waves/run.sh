# Device call (carry .carry/wheels .carry/mirror/mnist .carry/mirror/hoda_digits):
#   bash notes/bench/2026-12-03-h200-probe-waves/run.sh
SMK_CONFIGFILES="config/config.yaml config/gpu.yaml notes/bench/2026-12-03-h200-probe-waves/probe.yaml"
. notes/device/env.sh
T0=$(date +%s); mkdir -p results
timeout 240 python -m snakemake results/experiments/{mnist_uncond,mnist_cond,hoda_uncond,hoda_cond}/model.pt $SMK_PREP_ARGS > results/probe.log 2>&1
echo "probe rc=$? after $(( $(date +%s) - T0 )) s"; tail -3 results/probe.log
for e in mnist_uncond mnist_cond hoda_uncond hoda_cond; do echo "== $e"; head -2 logs/train/$e.log; tail -2 logs/train/$e.log; done
tar czf "$OUT/probe.tar.gz" results/experiments/*/train_log.csv logs benchmarks results/probe.log
