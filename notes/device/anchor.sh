# Issue 6's anchor comparison (bench/anchor_comparison.py) on the device machine, in three calls:
#   bash notes/device/anchor.sh setup      carry .carry/wheels .carry/anchor-wheels .carry/mirror/mnist
#   bash notes/device/anchor.sh start 300  carry .carry/scipy-wheel (install, a short smoke, then the run)
#   bash notes/device/anchor.sh poll 540   no carry; copies the JSON and the log into $OUT when done
# The contenders' wheels (and their dependencies the image may lack) are installed into /tmp/anchor,
# only those whose distribution the image does not already have, so the image's torch stays.
. notes/device/env.sh
install_missing() {  # install the wheels in $1 whose distributions python3 cannot find
  python3 - "$1" <<'EOF' | xargs -r python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/anchor
import importlib.metadata as md, pathlib, re, sys
for wheel in sorted(pathlib.Path(sys.argv[1]).glob("*.whl")):
    name = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()
    try:
        md.distribution(name)
    except md.PackageNotFoundError:
        print(wheel)
EOF
}
export PYTHONPATH=/tmp/sm:/tmp/anchor
RUN="python bench/anchor_comparison.py --data results/data/mnist --classifier results/classifiers/mnist/classifier.pt --reference results/fid_refs/mnist/classifier.npz"
case "$1" in
setup)
  mkdir -p results /tmp/anchor
  install_missing .carry/anchor-wheels; ls /tmp/anchor | grep dist-info | tr '\n' ' '; echo
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  T0=$(date +%s)
  timeout 400 python -m snakemake results/classifiers/mnist/classifier.pt results/fid_refs/mnist/classifier.npz \
    $SMK_PREP_ARGS > results/anchor-prep.log 2>&1
  echo "prep rc=$? after $(( $(date +%s) - T0 )) s"; tail -3 results/anchor-prep.log
  cat results/classifiers/mnist/metrics.json; echo ;;
start)
  install_missing .carry/scipy-wheel
  python -c "import scipy, diffusers, denoising_diffusion_pytorch, ema_pytorch; print('imports ok', diffusers.__version__)" || exit 1
  # The smoke compiles into its own cache, so that the run's own compilation is cold (it counts
  # against ours' four minutes).
  T0=$(date +%s)
  TORCHINDUCTOR_CACHE_DIR=/tmp/inductor-smoke timeout 300 $RUN --minutes 0.1 --samples 1000 2>&1 | grep -vE "Warning|warn" | tail -8
  rc=${PIPESTATUS[0]}; echo "smoke rc=$rc after $(( $(date +%s) - T0 )) s"; [ "$rc" -eq 0 ] || exit 1
  run_detached results/anchor.log results/anchor.rc 1500 $RUN --json results/anchor_comparison.json
  sleep 5; bash notes/device/anchor.sh poll "${2:-300}" ;;
poll)
  anchor_progress() { grep -E '^(ours|ddpm_pytorch|diffusers):' results/anchor.log | tr '\n' ' '; }
  wait_for results/anchor.rc "${2:-540}" anchor_progress
  [ -f results/anchor.rc ] || exit 0
  echo "anchor rc=$(cat results/anchor.rc)"; tail -12 results/anchor.log
  cp results/anchor.log results/anchor-prep.log "$OUT/"; [ -f results/anchor_comparison.json ] && cp results/anchor_comparison.json "$OUT/" ;;
*) echo "usage: bash notes/device/anchor.sh setup|start [seconds]|poll [seconds]" >&2; exit 2 ;;
esac
