# Later calls: wait for the background workflow up to $1 seconds, printing progress; once it has
# exited, show failed jobs' logs and pack the small outputs into $OUT (three files, a few MB).
. notes/device/env.sh
workflow_progress() {
  echo "$(grep -E "steps \([0-9]+%\) done" results/run.log 2>/dev/null | tail -1) | running: $(pgrep -fc "python scripts/")"
}
wait_for results/run.rc "${1:-540}" workflow_progress
grep -E "^Error in rule|Exiting because|WorkflowError|Traceback" results/run.log | head -10
# PACK_ANYWAY=1 packs what exists even while the workflow still runs (when device time runs out).
[ -f results/run.rc ] || [ -n "${PACK_ANYWAY:-}" ] || exit 0
echo "workflow rc=$(cat results/run.rc 2>/dev/null || echo running)"; tail -5 results/run.log
for f in $(grep -rlE "Error|Traceback" logs 2>/dev/null | head -5); do echo "== $f"; tail -15 "$f"; done
tar czf "$OUT/text.tar.gz" --ignore-failed-read results/tables results/experiments/*/provenance.json results/experiments/*/train_log.csv \
  results/experiments/*/test_loss.json results/experiments/*/metrics results/experiments/*/samples/*.json \
  results/classifiers/*/metrics.json results/data/*/*.json results/raw/*/MANIFEST.json \
  logs benchmarks results/run.log results/prep.log results/gpu.txt .snakemake/log
tar czf "$OUT/figures.tar.gz" --ignore-failed-read results/figures results/data/*/grid.png
tar czf "$OUT/samples.tar.gz" --ignore-failed-read results/experiments/*/samples/*.png results/experiments/*/trajectory.gif
ls -la "$OUT"
