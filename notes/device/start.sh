# Call 2: dry run, then the whole workflow in the background (it outlives this call while the
# machine is held), then poll it for up to $1 seconds.
. notes/device/env.sh
echo "dry run:"; timeout 120 python -m snakemake -n $SMK_ARGS 2>&1 | grep -E "^total|Error|error" | head -5
mkdir -p results; rm -f results/run.rc
setsid nohup bash -c "timeout 1560 python -m snakemake $SMK_ARGS --keep-going > results/run.log 2>&1; echo \$? > results/run.rc" > /dev/null 2>&1 < /dev/null &
sleep 5; echo started; bash notes/device/poll.sh "${1:-500}"
