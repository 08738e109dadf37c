"""bench/benchmark_unet.py measured in parts (one process each) prints one table from their JSON; asked
for the peer where diffusers is missing, it says so before measuring anything."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench_scripts import load_bench_script
from ddpm.models.layers import ChannelsLastGroupNorm, FusedGroupNorm, SubpixelUpsample, Upsample

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    return load_bench_script("benchmark_unet")


def part(rows, **extra):
    return {"device": "GPU X", "torch": "2.x", "peak_flops": 1e15, "ours_gflop_per_image": 10.0, "rows": rows, **extra}


def test_parts_merge_cell_by_cell_and_the_ratio_is_against_the_best_peer(bench, capsys):
    theirs = part({"train, batch 128": {"diffusers eager": 1000.0, "diffusers compiled + CUDA graphs": 4000.0}})
    ours = part(
        {"train, batch 128": {"ours": 6000.0}, "sampling forward, batch 1024": {"ours": 30000.0}},
        loss_curve={"steps": 200, "window": 20, "fp32_window_means": [1.0], "fast_window_means": [1.01],
                    "max_relative_difference": 0.01},
    )
    merged = bench.merge_reports([theirs, ours])
    assert merged["rows"]["train, batch 128"] == {
        "diffusers eager": 1000.0, "diffusers compiled + CUDA graphs": 4000.0, "ours": 6000.0,
    }
    bench.print_table(merged)
    table = capsys.readouterr().out
    assert "| train, batch 128 | 1,000 | 4,000 | 6,000 | 1.50x | 18.0% |" in table
    # A row without a peer has no ratio; a part that was not run prints nothing.
    assert "| sampling forward, batch 1024 | - | - | 30,000 | - | 30.0% |" in table
    assert "Loss curve" in table and "MNIST samples" not in table


def test_parts_from_different_machines_are_refused(bench):
    with pytest.raises(SystemExit, match="different devices"):
        bench.merge_reports([part({}), {**part({}), "device": "GPU Y"}])


@pytest.mark.parametrize(
    "settings, printed",
    [
        (dict(ours_group_norm="fused"), "(ours with model.group_norm: fused)"),
        (dict(ours_upsample="subpixel"), "(ours with model.upsample: subpixel)"),
        (dict(ours_group_norm="fused", ours_upsample="subpixel"), "(ours with model.group_norm: fused, model.upsample: subpixel)"),
    ],
)
def test_parts_with_other_settings_of_ours_are_refused_and_the_variant_is_printed(bench, capsys, settings, printed):
    candidate = part({"train, batch 128": {"ours": 5000.0}}, **settings)
    with pytest.raises(SystemExit, match="settings of ours"):
        bench.merge_reports([part({}), candidate])
    bench.print_table(bench.merge_reports([candidate]))
    assert printed in capsys.readouterr().out


def test_the_group_norm_option_swaps_only_our_networks_norms(bench):
    def kinds(spec):
        return {type(m) for m in spec.ours().modules() if isinstance(m, torch.nn.GroupNorm)}

    assert kinds(bench.TINY_UNET) == {torch.nn.GroupNorm}
    assert kinds(dataclasses.replace(bench.TINY_UNET, group_norm="channels_last")) == {ChannelsLastGroupNorm}
    assert kinds(dataclasses.replace(bench.TINY_UNET, group_norm="fused")) == {FusedGroupNorm}


def test_the_upsample_option_swaps_our_upsampling_and_mfu_counts_the_architectures_flops(bench):
    spec = dataclasses.replace(bench.TINY_UNET, upsample="subpixel")
    assert {type(m) for m in spec.ours().modules() if isinstance(m, Upsample)} == {SubpixelUpsample}
    direct = bench.forward_flops(bench.TINY_UNET.ours(), bench.TINY_UNET)
    assert bench.forward_flops(spec.ours(), spec) < direct  # the subpixel form does fewer FLOPs
    settings = bench.Settings(
        device=torch.device("cpu"), spec=spec, train_batches=(2,), sample_batch=2, iters=1, repeats=1, loss_steps=2,
        loss_window=1, mnist_images=1, small_batch=1, small_batch_images=1, graph_mode="reduce-overhead",
    )  # fmt: skip
    report = bench.run(settings, [bench.OURS], [], bench.DEFAULT_CONFIG, "mnist_uncond", quick=True)
    assert report["ours_upsample"] == "subpixel" and report["ours_gflop_per_image"] == direct / 1e9


def test_asking_for_the_peer_without_diffusers_is_a_clear_error_before_any_measurement():
    # diffusers set to None in sys.modules: importing it raises ImportError, as where it is not installed;
    # bench/ first on the path, as `python bench/benchmark_unet.py` puts it.
    code = (
        "import runpy, sys; sys.modules['diffusers'] = None; sys.path.insert(0, 'bench'); "
        "sys.argv = ['benchmark_unet.py', '--device', 'cpu', '--quick', '--columns', 'eager', 'ours']; "
        "runpy.run_path('bench/benchmark_unet.py', run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "pip install diffusers" in result.stderr and "--columns ours" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing measured


def test_the_compared_unet_is_the_cifar10_experiments_model(bench):
    spec = bench.UNetSpec.from_experiment(bench.DEFAULT_CONFIG, "cifar10_ddpm")
    # Ho et al.'s CIFAR-10 U-Net: 128 channels, multipliers 1,2,2,2, two blocks per level, attention at 16x16.
    assert (spec.base_channels, spec.channel_mult, spec.num_res_blocks, spec.attention_resolutions) == (128, (1, 2, 2, 2), 2, (16,))
    assert (spec.size, spec.channels, spec.dropout) == (32, 3, 0.1)
    assert sum(p.numel() for p in spec.ours().parameters()) == 35_746_307


@pytest.mark.parametrize("experiment, message", [("mnist_cond", "unconditional unet with one head"), ("no_such", "has no experiment")])
def test_an_experiment_without_a_diffusers_peer_is_refused(bench, experiment, message):
    with pytest.raises(SystemExit, match=message):
        bench.UNetSpec.from_experiment(bench.DEFAULT_CONFIG, experiment)


def test_our_settings_come_from_the_experiment(bench, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("experiments:\n  tiny:\n    model: {base_channels: 8, channel_mult: [1], group_norm: channels_last, upsample: subpixel}\n")
    spec = bench.UNetSpec.from_experiment(config, "tiny", size=8, channels=1)
    assert (spec.base_channels, spec.channel_mult, spec.group_norm, spec.upsample) == (8, (1,), "channels_last", "subpixel")


def test_a_report_without_throughput_rows_prints_no_empty_table(bench, capsys):
    mnist = {"images": 10_000, "batch_size": 1000, "small_batch": 16, "small_batch_images": 256,
             "small_batch_no_graphs": 1.7, "small_batch_graphs": 0.6}
    mnist.update({bench.FAST_SAMPLER.label: 3.0, bench.BASELINE_SAMPLER.label: 15.0})
    bench.print_table(part({}, mnist_sampling_s=mnist))
    printed = capsys.readouterr().out
    assert "GPU X, torch 2.x" in printed and "10,000 MNIST samples" in printed
    assert "| images/s" not in printed and "MFU" not in printed
