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
SMK_ARGS=${SMK_ARGS:-"--cores all --resources gpu=4 --prioritize results/experiments/captcha_text/model.pt results/experiments/mnist_uncond/model.pt --configfile config/config.yaml config/gpu.yaml --config mirror=.carry/mirror device=cuda"}
