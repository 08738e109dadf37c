# Call 2: dry run, then the whole workflow in the background (it outlives this call while the
# machine is held), then poll it for up to $1 seconds.
. notes/device/env.sh
echo "dry run:"; timeout 120 python -m snakemake -n $SMK_ARGS 2>&1 | grep -E "^total|Error|error" | head -5
mkdir -p results
run_detached results/run.log results/run.rc 1560 python -m snakemake $SMK_ARGS --keep-going
sleep 5; echo started; bash notes/device/poll.sh "${1:-500}"
