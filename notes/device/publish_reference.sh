#!/usr/bin/env bash
# Replace results/reference/ with a run's outputs: the three archives poll.sh packed, unpacked
# into RUN_DIR (tar xzf each there). Keeps the key figures, every sample grid, all small JSON/CSV files,
# every rule's log and benchmark. results/reference/README.md and anchor/ (the anchor comparison,
# made by its own script) are kept; the README must be brought up to date by hand (its numbers,
# times and hardware).
#   bash notes/device/publish_reference.sh RUN_DIR
set -euo pipefail
src=$1; dest=results/reference
experiments=$(ls "$src/results/experiments")
datasets=$(ls "$src/results/data")
find "$dest" -mindepth 1 -maxdepth 1 ! -name README.md ! -name anchor -exec rm -rf {} +
cp -r "$src/results/tables" "$dest/tables"
mkdir -p "$dest/figures" "$dest/run"
cp "$src/results/figures/schedules.png" "$dest/figures/"
for e in $experiments; do
  mkdir -p "$dest/figures/$e" "$dest/samples/$e" "$dest/experiments/$e/samples"
  cp "$src/results/figures/$e/"{steps,loss_curves,fid_vs_steps}.png "$dest/figures/$e/"
  cp "$src/results/experiments/$e/"{provenance.json,train_log.csv,test_loss.json} "$dest/experiments/$e/"
  cp -r "$src/results/experiments/$e/metrics" "$dest/experiments/$e/"
  cp "$src/results/experiments/$e/samples/"*.json "$dest/experiments/$e/samples/"
  cp "$src/results/experiments/$e/samples/"*.png "$dest/samples/$e/"
done
if [ -d "$src/results/experiments/mnist_uncond" ]; then
  cp "$src/results/figures/mnist_uncond/"{denoiser,forward_process}.png "$dest/figures/mnist_uncond/"
fi
for e in mnist_cond captcha_text; do
  if [ -f "$src/results/experiments/$e/trajectory.gif" ]; then cp "$src/results/experiments/$e/trajectory.gif" "$dest/samples/$e/"; fi
done
for d in $datasets; do
  mkdir -p "$dest/data/$d" "$dest/classifiers/$d"
  cp "$src/results/data/$d/"{grid.png,train.json,val.json,test.json} "$src/results/raw/$d/MANIFEST.json" "$dest/data/$d/"
  cp "$src/results/classifiers/$d/metrics.json" "$dest/classifiers/$d/"
done
cp -r "$src/logs" "$dest/run/logs"; cp -r "$src/benchmarks" "$dest/run/benchmarks"
cp "$src/results/gpu.txt" "$dest/run/"
cp "$src/results/run.log" "$dest/run/snakemake.log"; cp "$src/results/prep.log" "$dest/run/snakemake-prep.log"
du -sh "$dest"
