"""bench/gpu_sharing.py's reading and summing of the trainings' results."""

import pytest

from bench_scripts import load_bench_script


@pytest.fixture(scope="module")
def bench():
    return load_bench_script("gpu_sharing")


def test_the_result_line_of_check_determinism_is_read(bench):
    output = "compiling...\nrun 1    deterministic:     3941 img/s  final loss 0.206609  weights 24a9d24b3422b92e\n"
    assert bench.parse_result(output) == (3941.0, "24a9d24b3422b92e")


def test_output_without_a_result_is_an_error_quoting_its_end(bench):
    with pytest.raises(RuntimeError, match="no result line(.|\n)*CUDA error: out of memory"):
        bench.parse_result("Traceback (most recent call last):\nRuntimeError: CUDA error: out of memory\n")


def test_totals_ratio_and_digests(bench):
    slicing = [(3263.0, "a"), (3256.0, "a"), (3255.0, "a")]
    mps = [(3941.0, "a"), (3960.0, "a"), (3941.0, "a")]
    assert bench.report("mps", mps)[-1] == "         mps together:    11842 img/s"
    assert bench.comparison({"time_slicing": 9774.0, "mps": 11842.0}, {"a"}) == [
        "MPS / time slicing: 1.21x images/s together",
        "every training wrote the same weights",
    ]
    assert bench.comparison({"time_slicing": sum(r for r, _ in slicing)}, {"a", "b"}) == ["2 different weights"]
