# Call 1: install, record the machine, prepare what the first batch of carried raw files allows
# (the targets given, e.g. results/data/fashion_mnist/grid.png).
. notes/device/env.sh
START=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python -c "import torch, torchvision, torchmetrics; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name(), 'tv', torchvision.__version__, 'tm', torchmetrics.__version__)"
python -m snakemake --version
mkdir -p results
{ nvidia-smi; lscpu | head -20; } > results/gpu.txt
timeout 300 python -m snakemake "$@" $SMK_PREP_ARGS > results/prep.log 2>&1
echo "prep rc=$? after $(( $(date +%s) - START )) s"; tail -4 results/prep.log
