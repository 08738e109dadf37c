#!/usr/bin/env python3
"""Several trainings on one GPU at once: taking turns (time slicing) against MPS.

Starts P copies of ``bench/check_determinism.py`` at the same moment (one deterministic training
each, seed 0, the MNIST U-Net by default), waits for all of them and prints each one's images/s
and weights digest, then their sum; first with the processes taking turns on the GPU, then as
clients of an MPS daemon that this script starts for them and quits (``ddpm.mps``, as the
workflow's ``gpu_sharing: auto`` does). Every training runs the same seed, so every digest, in
both modes, should be the same. The processes share one compile cache; images/s leaves out each
training's first logged interval (compilation).

Usage: python bench/gpu_sharing.py [--processes 3] [--steps 1000] [--conditioning none|class|text]
       [--modes time_slicing mps] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from ddpm.mps import MpsUnavailable, start_daemon, stop_daemon
from ddpm.processes import env_with_package

CHECK = Path(__file__).resolve().parent / "check_determinism.py"
MODES = ("time_slicing", "mps")
# check_determinism.py's line for its one run.
RESULT = re.compile(r"^run 1 +\w+: +(?P<rate>[\d.]+) img/s .* weights (?P<digest>[0-9a-f]+)$", re.MULTILINE)


def parse_result(output: str) -> tuple[float, str]:
    """(images/s, weights digest) from the output of one check_determinism.py run."""
    match = RESULT.search(output)
    if match is None:
        raise RuntimeError("no result line in the training's output:\n" + "\n".join(output.splitlines()[-20:]))
    return float(match["rate"]), match["digest"]


def run_at_once(count: int, command: list[str], env: dict[str, str]) -> list[tuple[float, str]]:
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(count)]
    outputs = [process.communicate()[0] for process in processes]
    for process, output in zip(processes, outputs):
        if process.returncode != 0:
            raise RuntimeError(f"a training exited with {process.returncode}:\n" + "\n".join(output.splitlines()[-20:]))
    return [parse_result(output) for output in outputs]


def report(mode: str, results: list[tuple[float, str]]) -> list[str]:
    lines = [f"{mode:>12} process {i + 1}: {rate:8.0f} img/s  weights {digest}" for i, (rate, digest) in enumerate(results)]
    lines.append(f"{mode:>12} together: {sum(rate for rate, _ in results):8.0f} img/s")
    return lines


def comparison(totals: dict[str, float], digests: set[str]) -> list[str]:
    lines = []
    if len(totals) == 2:
        lines.append(f"MPS / time slicing: {totals['mps'] / totals['time_slicing']:.2f}x images/s together")
    lines.append("every training wrote the same weights" if len(digests) == 1 else f"{len(digests)} different weights")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--conditioning", default="none", choices=["none", "class", "text"])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--quick", action="store_true", help="a tiny U-Net (a check of the harness)")
    args = parser.parse_args()
    command = [sys.executable, str(CHECK), "--modes", "deterministic", "--steps", str(args.steps), "--conditioning", args.conditioning]
    command += ["--quick"] * args.quick
    totals, digests = {}, set()
    with tempfile.TemporaryDirectory() as cache:
        env = env_with_package({**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache})
        for mode in args.modes:
            daemon = None
            if mode == "mps":
                try:
                    daemon = start_daemon()
                except MpsUnavailable as exc:
                    sys.exit(f"{exc}: MPS cannot be measured here (try --modes time_slicing)")
            try:
                results = run_at_once(args.processes, command, {**env, **(daemon.env if daemon else {})})
            finally:
                if daemon is not None:
                    stop_daemon(daemon)
            for line in report(mode, results):
                print(line, flush=True)
            totals[mode] = sum(rate for rate, _ in results)
            digests |= {digest for _, digest in results}
    for line in comparison(totals, digests):
        print(line)


if __name__ == "__main__":
    main()
