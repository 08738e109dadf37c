"""Report figures (drawn from given arrays) and their scripts, with tiny freshly built models and tiny
data in tmp_path."""

from __future__ import annotations

import ast
import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig
from ddpm.errors import ConfigError, DataError
from ddpm.factory import build_model
from ddpm.figure_data import NoiseLevels
from ddpm.report import figures
from ddpm.report.figures import (
    fid_series,
    plot_denoiser,
    plot_fid_vs_steps,
    plot_forward_process,
    plot_loss_curves,
    plot_samples_by_steps,
    plot_schedules,
)
from ddpm.report.results import RunResult, SamplingSpeed, TrainLog, Unavailable
from ddpm.report.style import PNG_DPI, TEXT_WIDTH
from ddpm.training import save_model_checkpoint

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
CLASSES = ("zero", "one", "two")
# Cosine allows a tiny T (the linear schedule needs T > 20), which keeps every chain short.
GAUSSIAN = DiffusionConfig(schedule="cosine", timesteps=10)
TINY_UNET = dict(base_channels=8, channel_mult=(1,), num_res_blocks=1, dropout=0.0)


def _checkpoint(path: Path, model_config: ModelConfig, data: DataSpec, diffusion: DiffusionConfig) -> Path:
    torch.manual_seed(0)
    save_model_checkpoint(path, build_model(model_config, data), model_config, data, diffusion, {"experiment": "tiny_exp"})
    return path


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: for these tiny networks, waking a second thread costs more than it gains,
    and many times more when other processes share the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("checkpoints")
    grey = DataSpec(1, (8, 8), 3, CLASSES)
    return {
        "class": _checkpoint(folder / "class.pt", ModelConfig(conditioning="class", **TINY_UNET), grey, GAUSSIAN),
        "text": _checkpoint(
            folder / "text.pt",
            ModelConfig(conditioning="text", text_dim=8, text_layers=1, **TINY_UNET),
            DataSpec(1, (8, 8), alphabet="ab", text_length=2),
            GAUSSIAN,
        ),
        "toy": _checkpoint(folder / "toy.pt", ModelConfig(architecture="toy_unet", toy_channels=(4, 4, 4)), DataSpec(3, (8, 8)), DiffusionConfig(kind="toy")),
    }


def _split(folder: Path, labels: np.ndarray, channels: int = 1, **meta: object) -> Path:
    """A prepared test split as docs/contracts.md describes it."""
    folder.mkdir(parents=True, exist_ok=True)
    images = np.random.default_rng(0).integers(0, 256, (len(labels), 8, 8, channels)).astype(np.uint8)
    np.savez(folder / "test.npz", images=images, labels=labels)
    sidecar = {"dataset": "tiny", "source": "test", "split": "test", "count": len(labels), "image_shape": [8, 8, channels], **meta}
    (folder / "test.json").write_text(json.dumps(sidecar))
    return folder / "test.npz"


@pytest.fixture
def class_split(tmp_path) -> Path:
    return _split(tmp_path / "data", np.arange(9) % 3, label_kind="class", num_classes=3, class_names=list(CLASSES))


def _script(monkeypatch, name: str, *args: object) -> None:
    monkeypatch.setattr(sys, "argv", [name, *map(str, args)])
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


# -- library ------------------------------------------------------------------------------------------


def test_plot_schedules(tmp_path):
    plot_schedules(tmp_path / "s.png", ["linear", "cosine"], 100, description="tiny")
    width, height = _png_size(tmp_path / "s.png")
    # Text width (7 inches) at the PNG's resolution, less the trimmed margins.
    assert 0.9 * TEXT_WIDTH * PNG_DPI < width <= TEXT_WIDTH * PNG_DPI and height < width
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ConfigError, match="unknown beta schedule"):
        plot_schedules(tmp_path / "bad.png", ["lineer"], 100)


def test_figures_module_computes_nothing():
    """The figures draw what they are given: no torch, no sampling, no network evaluation there
    (those are in ddpm.figure_data); only the image check of ddpm.images."""
    tree = ast.parse(Path(figures.__file__).read_text())
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update({alias.name: set() for alias in node.names})
        elif isinstance(node, ast.ImportFrom):
            imported.setdefault(node.module or "", set()).update(alias.name for alias in node.names)
    computing = ("torch", "ddpm.generation", "ddpm.labels", "ddpm.runtime", "ddpm.diffusion", "ddpm.toy_diffusion", "ddpm.training", "ddpm.samplers")
    assert "numpy" in imported  # the walk sees the module's imports
    assert not [m for m in imported if m.split(".")[0] == "torch" or m.startswith(computing)]
    assert imported.get("ddpm.images", set()) <= {"check_images"}


def _levels(count: int, toy: bool = False) -> NoiseLevels:
    return NoiseLevels(tuple(float(k) for k in range(count)), tuple(f"t = {k}" for k in range(count)), toy)


def _frames(*shape: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, shape).astype(np.uint8)


def test_plot_forward_process_draws_one_row_per_image(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(figures, "image_rows_figure", lambda rows, **kw: drawn.append((rows, kw)) or "figure")
    monkeypatch.setattr(figures, "save_figure", lambda figure, path: None)
    frames = _frames(3, 2, 8, 8, 1)  # 3 levels of 2 images
    plot_forward_process(tmp_path / "f.png", frames, _levels(3), description="tiny")
    rows, kw = drawn[0]
    assert len(rows) == 2 and all(np.array_equal(rows[b], frames[:, b]) for b in range(2))
    assert kw["column_titles"] == ("t = 0", "t = 1", "t = 2") and "Forward process" in kw["title"]
    plot_forward_process(tmp_path / "toy.png", frames, _levels(3, toy=True))
    assert "Toy corruption" in drawn[1][1]["title"]
    with pytest.raises(DataError, match="3 noise levels but 2 column titles"):
        plot_forward_process(tmp_path / "bad.png", frames, _levels(2))
    with pytest.raises(DataError, match="uint8 array of shape"):
        plot_forward_process(tmp_path / "bad.png", frames[0], _levels(3))


def test_plot_forward_process_writes_the_figure(tmp_path):
    plot_forward_process(tmp_path / "f.png", _frames(4, 3, 8, 8, 3), _levels(4), description="tiny")
    width, height = _png_size(tmp_path / "f.png")
    assert width > height > 100 and (tmp_path / "f.pdf").exists()


def test_plot_denoiser_pairs_input_and_prediction_rows(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(figures, "image_rows_figure", lambda rows, **kw: drawn.append((rows, kw)) or "figure")
    monkeypatch.setattr(figures, "save_figure", lambda figure, path: None)
    images, inputs, outputs = _frames(2, 8, 8, 1), _frames(3, 2, 8, 8, 1), 255 - _frames(3, 2, 8, 8, 1)
    plot_denoiser(tmp_path / "d.png", images, inputs, outputs, _levels(3), image_names=["one", "two"])
    rows, kw = drawn[0]
    assert kw["row_labels"] == ["one: input", "predicted x0", "two: input", "predicted x0"]
    assert kw["column_titles"] == ("clean", "t = 0", "t = 1", "t = 2")
    np.testing.assert_array_equal(rows[3], np.concatenate([images[1:2], outputs[:, 1]]))  # clean, then predictions
    np.testing.assert_array_equal(rows[0], np.concatenate([images[0:1], inputs[:, 0]]))
    with pytest.raises(DataError, match="pass one name per image"):
        plot_denoiser(tmp_path / "d.png", images, inputs, outputs, _levels(3), image_names=["one"])
    with pytest.raises(DataError, match="3 images per level but 2 clean images"):
        plot_denoiser(tmp_path / "d.png", images, _frames(3, 3, 8, 8, 1), outputs, _levels(3), image_names=["one", "two"])


def test_plot_samples_by_steps_marks_the_full_chain(tmp_path, monkeypatch):
    plot_samples_by_steps(tmp_path / "s.png", _frames(2, 3, 8, 8, 1), [5, 10], ["a", "b", "c"], all_steps=10)
    assert _png_size(tmp_path / "s.png")[1] > 100
    drawn = []
    monkeypatch.setattr(figures, "image_rows_figure", lambda rows, **kw: drawn.append(kw) or "figure")
    monkeypatch.setattr(figures, "save_figure", lambda figure, path: None)
    plot_samples_by_steps(tmp_path / "s.png", _frames(2, 3, 8, 8, 1), [5, 10], ["a", "b", "c"], all_steps=10)
    assert drawn[0]["row_labels"] == ["5 steps", "10 steps (all)"] and drawn[0]["column_titles"] == ["a", "b", "c"]
    with pytest.raises(DataError, match="one row of samples per step count"):
        plot_samples_by_steps(tmp_path / "s.png", _frames(2, 3, 8, 8, 1), [5], ["a", "b", "c"])


def test_plot_loss_curves(tmp_path):
    log = TrainLog(np.array([10, 20, 30]), np.array([1.0, 0.5, 0.2]), np.array([np.nan, 0.6, 0.3]))
    plot_loss_curves(tmp_path / "loss.png", log, description="tiny")
    assert _png_size(tmp_path / "loss.png")[0] > 600


def _run(steps: int, fid: dict, sampler: str = "ddim") -> RunResult:
    return RunResult("e", f"{sampler}{steps}", sampler, steps, 0.0, "small", "uniform", None, 100, SamplingSpeed(), fid, {}, None)


def test_fid_series_one_per_sampler_family():
    runs = [_run(s, {"classifier": 10.0 / s}) for s in (50, 5)] + [_run(1000, {"classifier": 0.1}, "ddpm"), _run(10, {"inception": 1.0})]
    assert fid_series(runs, "classifier") == {"DDIM, eta 0": [(5, 2.0), (50, 0.2)], "DDPM, small variance": [(1000, 0.1)]}


def test_plot_fid_vs_steps_draws_a_single_run_as_a_point(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda figure, path: drawn.append(figure))
    plot_fid_vs_steps(tmp_path / "fid.png", [_run(50, {"classifier": 5.2}), _run(5, {"classifier": 9.0}, "ddpm"), _run(10, {"classifier": 8.0}, "ddpm")])
    lines = {line.get_label(): line for line in drawn[0].axes[0].get_lines()}
    assert lines["DDIM, eta 0"].get_linestyle() == "None" and lines["DDPM, small variance"].get_linestyle() == "-"


def test_plot_fid_vs_steps_puts_a_long_legend_below_the_panels(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda figure, path: drawn.append(figure))
    few = [_run(5, {"classifier": 9.0}, sampler) for sampler in ("ddim", "ddpm")]
    many = [_run(5, {"classifier": 9.0, "inception": 20.0}, sampler) for sampler in ("ddim", "ddpm", "dpmpp_2m", "heun", "toy")]
    plot_fid_vs_steps(tmp_path / "few.png", few)
    plot_fid_vs_steps(tmp_path / "many.png", many)
    (few_figure,), (many_figure,) = drawn[:1], drawn[1:]
    assert few_figure.axes[0].get_legend() is not None and not few_figure.legends
    assert all(ax.get_legend() is None for ax in many_figure.axes)
    (legend,) = many_figure.legends  # one legend for both panels, each series once
    assert len(legend.get_texts()) == 5
    assert many_figure.get_size_inches()[1] > few_figure.get_size_inches()[1]


def test_plot_fid_vs_steps_leaves_out_unavailable_feature_sets(tmp_path):
    missing = Unavailable("no Inception weights")
    runs = [_run(s, {"classifier": 10.0 / s, "inception": missing}) for s in (5, 10, 50)] + [_run(1000, {"classifier": 0.1, "inception": missing}, "ddpm")]
    plot_fid_vs_steps(tmp_path / "fid.png", runs, description="tiny")
    assert _png_size(tmp_path / "fid.png")[0] > 600
    plot_fid_vs_steps(tmp_path / "none.png", [_run(5, {"inception": missing})])  # nothing to plot: a note
    assert (tmp_path / "none.png").exists()
    with pytest.raises(DataError, match="no evaluated runs"):
        plot_fid_vs_steps(tmp_path / "empty.png", [])


# -- scripts ------------------------------------------------------------------------------------------


def test_plot_schedules_script(monkeypatch, tmp_path):
    _script(monkeypatch, "plot_schedules.py", "--schedules", "linear", "cosine", "sigmoid", "--timesteps", "50", "--out", tmp_path / "s.png")
    assert _png_size(tmp_path / "s.png")[0] > 1200


def test_plot_forward_process_script(monkeypatch, tmp_path, checkpoints, class_split):
    _script(monkeypatch, "plot_forward_process.py", "--data", class_split, "--checkpoint", checkpoints["class"], "--out", tmp_path / "f.png", "--num-images", 3)
    _script(monkeypatch, "plot_forward_process.py", "--data", class_split, "--diffusion", '{"kind": "toy"}', "--out", tmp_path / "toy.png")
    for name in ("f.png", "toy.png"):
        width, height = _png_size(tmp_path / name)
        assert width > 200 and height > 100


def test_plot_denoiser_script(monkeypatch, tmp_path, checkpoints, class_split):
    _script(
        monkeypatch, "plot_denoiser.py",
        "--checkpoint", checkpoints["class"], "--data", class_split, "--num-images", 2, "--out", tmp_path / "d.png", "--device", "cpu",
    )
    toy_split = _split(tmp_path / "rgb", np.zeros(3, np.int64), channels=3, label_kind="none")
    _script(monkeypatch, "plot_denoiser.py", "--checkpoint", checkpoints["toy"], "--data", toy_split, "--num-images", 2, "--out", tmp_path / "toy.png")
    assert _png_size(tmp_path / "d.png")[1] > 200 and _png_size(tmp_path / "toy.png")[1] > 200


def test_plot_steps_script(monkeypatch, tmp_path, checkpoints):
    _script(monkeypatch, "plot_steps.py", "--checkpoint", checkpoints["class"], "--steps", "2", "5", "all", "--num-images", 3,
            "--sampling", '{"guidance_scale": 2.0}', "--out", tmp_path / "steps.png")
    _script(monkeypatch, "plot_steps.py", "--checkpoint", checkpoints["toy"], "--steps", "2", "3", "--num-images", 2, "--out", tmp_path / "toy.png")
    assert _png_size(tmp_path / "steps.png")[1] > 150 and (tmp_path / "toy.png").exists()


def test_sample_script_draws_every_run_and_the_trajectory_in_one_process(monkeypatch, tmp_path, checkpoints):
    out = tmp_path / "samples"
    runs = '[{"sampler": "ddim", "steps": 4}, {"sampler": "ddim", "steps": 2, "name": "short"}]'
    _script(monkeypatch, "sample.py", "--checkpoint", checkpoints["text"], "--runs", runs,
            "--sampling", '{"num_images": 6, "batch_size": 2, "trajectory_images": 3, "texts": ["ab", "ba"]}',
            "--out-dir", out, "--frames", 4, "--trajectory-npz", out / "t.npz", "--trajectory-gif", out / "t.gif")
    for label, steps in (("ddim4", 4), ("short", 2)):
        info = json.loads((out / f"{label}.json").read_text())
        assert info["run"] == label and info["num_images"] == 6
        # Two guidance-free text passes per step: the network ran once per image and step.
        assert info["network_evaluations_per_image"] == steps
        assert info["timed_batches"] == 2 and info["images_per_second"] > 0 and info["startup_seconds"] > 0
        with np.load(out / f"{label}.npz", allow_pickle=False) as z:
            assert z["images"].shape == (6, 8, 8, 1) and z["seeds"].tolist() == list(range(6))
        assert _png_size(out / f"{label}.png")[0] > 100
    with np.load(out / "t.npz", allow_pickle=False) as z:
        frames = len(z["timesteps"])
        assert z["x_t"].shape == z["x0"].shape == (frames, 3, 8, 8, 1) and z["x_t"].dtype == np.uint8
        assert list(z["timesteps"]) == sorted(z["timesteps"], reverse=True) and z["timesteps"][-1] == 0
        assert z["labels"].tolist() == ["ab", "ba", "ab"] and z["seeds"].tolist() == [0, 1, 2] and z["images"].shape == (3, 8, 8, 1)
    with Image.open(out / "t.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == frames
    assert (out / "t.gif").stat().st_size < 100_000


def test_a_failed_write_on_the_writer_thread_stops_the_sample_script(monkeypatch, tmp_path, checkpoints):
    import ddpm.report.grids

    calls = []

    def full_disk(path, *args, **kwargs):
        calls.append(path)
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(ddpm.report.grids, "write_sample_grid", full_disk)
    runs = '[{"sampler": "ddim", "steps": 2}, {"sampler": "ddim", "steps": 3}, {"sampler": "ddim", "steps": 4}]'
    with pytest.raises(OSError, match="No space left"):
        _script(monkeypatch, "sample.py", "--checkpoint", checkpoints["class"], "--runs", runs,
                "--sampling", '{"num_images": 2, "batch_size": 2}', "--out-dir", tmp_path / "samples")
    assert calls and not list((tmp_path / "samples").glob("*.json")), "no set is reported as written"


def test_plot_loss_curves_and_fid_scripts(monkeypatch, tmp_path):
    log = tmp_path / "train_log.csv"
    log.write_text("step,train_loss,val_loss,lr,images_per_s,elapsed_s\n10,0.5,,1e-4,100,1\n20,0.25,0.3,1e-4,100,2\n")
    _script(monkeypatch, "plot_loss_curves.py", "--log", log, "--out", tmp_path / "loss.png", "--description", "tiny")
    info, metrics = tmp_path / "ddim5.json", tmp_path / "eval_ddim5.json"
    info.write_text(json.dumps({"run": "ddim5", "sampler": {"sampler": "ddim", "steps": 5}, "images_per_s": 3.0, "requested": None}))
    metrics.write_text(
        json.dumps(
            {
                "fid": {"classifier": 3.5, "inception": None},
                "fid_unavailable": {"inception": "unavailable: no Inception weights"},
                "kid": {},
                "conditional": None,
            }
        )
    )
    _script(monkeypatch, "plot_fid_vs_steps.py", "--metrics", metrics, "--info", info, "--out", tmp_path / "fid.png")
    assert _png_size(tmp_path / "loss.png")[0] > 600 and _png_size(tmp_path / "fid.png")[0] > 600
    assert (tmp_path / "loss.pdf").exists() and (tmp_path / "fid.pdf").exists()


@pytest.mark.parametrize(
    "name, args",
    [
        ("plot_denoiser.py", ["--checkpoint", "{missing}", "--data", "{split}", "--out", "{out}"]),
        ("plot_steps.py", ["--checkpoint", "{missing}", "--steps", "5", "--out", "{out}"]),
        ("sample.py", ["--checkpoint", "{missing}", "--runs", "[{{}}]", "--out-dir", "{out}.d", "--trajectory-npz", "{out}.npz", "--trajectory-gif", "{out}"]),
        ("plot_forward_process.py", ["--data", "{missing}", "--diffusion", "{{}}", "--out", "{out}"]),
        ("plot_loss_curves.py", ["--log", "{missing}", "--out", "{out}"]),
        ("plot_fid_vs_steps.py", ["--metrics", "{missing}", "--info", "{missing}", "--out", "{out}"]),
    ],
)
def test_scripts_exit_2_naming_a_missing_input(monkeypatch, tmp_path, capsys, class_split, name, args):
    missing, out = tmp_path / "missing.file", tmp_path / "out.png"
    with pytest.raises(SystemExit) as exit_info:
        _script(monkeypatch, name, *(a.format(missing=missing, split=class_split, out=out) for a in args))
    assert exit_info.value.code == 2
    assert str(missing) in capsys.readouterr().err
    assert not out.exists()


def test_sample_script_wants_both_trajectory_files_or_neither(monkeypatch, tmp_path, capsys, checkpoints):
    with pytest.raises(SystemExit) as exit_info:
        _script(monkeypatch, "sample.py", "--checkpoint", checkpoints["class"], "--runs", "[{}]",
                "--out-dir", tmp_path / "out", "--trajectory-npz", tmp_path / "t.npz")
    assert exit_info.value.code == 2
    assert "--trajectory-npz and --trajectory-gif go together" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_log_axis_labels_never_overlap_and_prefer_round_numbers():
    from ddpm.report.figures import readable_log_ticks

    assert readable_log_ticks([10, 19, 20, 35, 50, 100, 1000]) == [10, 20, 35, 50, 100, 1000]
    assert readable_log_ticks([5]) == [5] and readable_log_ticks([]) == []


def test_titles_wrap_between_words_never_inside_a_hyphenated_one():
    from ddpm.report.style import wrap_title

    text = "Hoda Persian handwritten digits, class-conditional with classifier-free guidance"
    for width in (3.0, 4.0, 5.0, 6.5):
        lines = wrap_title(text, width).split("\n")
        assert not any(line.endswith("-") for line in lines), lines
        assert " ".join(lines) == text
