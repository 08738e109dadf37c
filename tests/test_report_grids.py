"""Image grids and the trajectory GIF, on tiny synthetic images in tmp_path."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ddpm.errors import DataError
from ddpm.report.animation import write_trajectory_gif
from ddpm.config import SamplerConfig
from ddpm.report.grids import image_rows_figure, label_titles, sample_grid_figure, sample_grid_title, split_grid_figure, tile_images, write_sample_grid
from ddpm.report.style import PNG_DPI, TEXT_WIDTH


def _images(n: int, h: int = 8, w: int = 8, c: int = 1, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c)).astype(np.uint8)


def _texts(figure) -> list[str]:
    return [t.get_text() for ax in figure.axes for t in ax.texts]


def test_tile_images_places_images_row_major_with_background_gaps():
    images = np.stack([np.full((2, 3, 1), v, np.uint8) for v in (10, 20, 30)])
    canvas = tile_images(images, cols=2, gap=1, background=128)
    assert canvas.shape == (2 * 2 + 1, 2 * 3 + 1, 1)
    assert canvas[0, 0, 0] == 10 and canvas[0, 4, 0] == 20 and canvas[3, 0, 0] == 30
    assert canvas[2, 0, 0] == 128  # gap row
    assert canvas[3, 4, 0] == 128  # the empty fourth cell


def test_image_rows_figure_has_one_axes_per_row_and_all_titles():
    rows = [_images(3), _images(2, seed=1)]
    figure = image_rows_figure(rows, title="t", row_labels=["first", "second"], cell_titles=[["a", "b", "c"], ["d", "e"]])
    assert len(figure.axes) == 2
    assert set(_texts(figure)) == {"first", "second", "a", "b", "c", "d", "e"}
    with pytest.raises(DataError, match="one shape"):
        image_rows_figure([_images(2), _images(2, h=4)])


def test_label_titles():
    assert label_titles(np.array([1, 0]), ["cat", "dog"], ()) == ["dog", "cat"]
    assert label_titles(np.array(["ab", "ba"]), [], ()) == ["ab", "ba"]
    assert label_titles(None, [], ["seed 0"]) == ["seed 0"]


@pytest.mark.parametrize(
    "labels, names",
    [
        (np.arange(30) % 3, ["zero", "one", "two"]),  # one row per class
        (np.array(["fngff", "gnfcd"] * 15), []),  # one row per string
        (None, []),  # a plain grid
    ],
)
def test_write_sample_grid_writes_png_and_pdf(tmp_path, labels, names):
    path = tmp_path / "grid.png"
    write_sample_grid(path, _images(30), labels, names, "tiny: ddim10")
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert 100 < image.width <= TEXT_WIDTH * PNG_DPI and 50 < image.height < 2000
        dpi = image.info["dpi"][0]
        assert round(dpi) == PNG_DPI >= 200
    assert path.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind



def test_sample_grid_layouts():
    unconditional = sample_grid_figure(_images(120), None, [], "t")
    assert len(unconditional.axes) == 10  # 100 images, 10 x 10
    classes = sample_grid_figure(_images(40), np.arange(40) % 4, ["a", "b", "c", "d"], "t")
    assert [t for t in _texts(classes) if t in "abcd"] == ["a", "b", "c", "d"]  # one labelled row per class
    texts = sample_grid_figure(_images(6), np.array(["xy", "zz", "xy", "zz", "q", "xy"]), [], "t")
    assert len(texts.axes) == 3 and [t for t in _texts(texts)] == ["xy", "zz", "q"]  # one row per string, in order asked


def test_sample_grid_title_is_readable():
    assert sample_grid_title(SamplerConfig("ddim", 50)) == "Samples: DDIM, eta 0, 50 steps"
    title = sample_grid_title(SamplerConfig("ddpm", 1000, variance="large"), 3.0, "MNIST, class-conditional")
    assert title == "Samples: DDPM, large variance, 1000 steps, guidance scale 3\nMNIST, class-conditional"


def test_split_grid_is_a_seeded_random_selection():
    images = np.stack([np.full((4, 12, 1), i, np.uint8) for i in range(200)])
    texts = np.array([f"s{i:03d}" for i in range(200)])
    meta = {"dataset": "captcha", "split": "train", "label_kind": "text"}
    first = split_grid_figure(images, texts, meta, seed=0, max_images=12)
    again = split_grid_figure(images, texts, meta, seed=0, max_images=12)
    other = split_grid_figure(images, texts, meta, seed=1, max_images=12)
    shown = [t for t in _texts(first) if t.startswith("s")]
    assert len(shown) == 12 and shown == [t for t in _texts(again) if t.startswith("s")]
    assert shown != [t for t in _texts(other) if t.startswith("s")]
    assert shown != [f"s{i:03d}" for i in range(12)]  # not the first strings in stored order
    assert "(captcha)" not in first._suptitle.get_text()
    classes = split_grid_figure(images, np.arange(200) % 3, {"label_kind": "class", "class_names": ["a", "b", "c"]}, seed=0)
    assert [t for t in _texts(classes) if t in "abc"] == ["a", "b", "c"]


def test_write_sample_grid_refuses_bad_input(tmp_path):
    with pytest.raises(DataError, match="uint8"):
        write_sample_grid(tmp_path / "g.png", _images(4).astype(np.float32), None, [], "")
    with pytest.raises(DataError, match="one label per image"):
        write_sample_grid(tmp_path / "g.png", _images(4), np.arange(3), [], "")
    with pytest.raises(DataError, match="class names"):
        write_sample_grid(tmp_path / "g.png", _images(4), np.array([0, 1, 2, 5]), ["a", "b", "c"], "")
    assert not (tmp_path / "g.png").exists()


def _trajectory(frames: int, batch: int, size: int, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """x_t fading from noise to a bar, and x0 the bar: like a real chain, noise dominates early frames."""
    rng = np.random.default_rng(0)
    clean = np.zeros((batch, size, size, channels))
    clean[:, size // 4 : 3 * size // 4, size // 2 - 2 : size // 2 + 2] = 1.0
    signal = np.linspace(0, 1, frames)[:, None, None, None, None]
    x_t = signal * clean + (1 - signal) * rng.random((frames, batch, size, size, channels))
    return (x_t * 255).astype(np.uint8), np.broadcast_to(clean * 255, x_t.shape).astype(np.uint8)


def test_trajectory_gif_is_small_and_holds_its_last_frame(tmp_path):
    x_t, x0 = _trajectory(frames=41, batch=16, size=28)
    path = tmp_path / "trajectory.gif"
    write_trajectory_gif(path, x_t, x0, [f"t = {t}" for t in range(41)], image_labels=[str(i % 10) for i in range(16)], hold_ms=1500)
    assert path.stat().st_size < 300_000
    with Image.open(path) as gif:
        assert gif.format == "GIF" and 2 <= gif.n_frames <= 20
        first = gif.info["duration"]
        gif.seek(gif.n_frames - 1)
        assert gif.info["duration"] == 1500 > first
        assert gif.width > 2 * 4 * 28  # both panels of a 4x4 grid


def test_trajectory_gif_in_colour(tmp_path):
    x_t, x0 = _trajectory(frames=5, batch=4, size=8, channels=3)
    write_trajectory_gif(tmp_path / "t.gif", x_t, x0, list("abcde"))
    with Image.open(tmp_path / "t.gif") as gif:
        assert gif.n_frames == 5


def test_trajectory_gif_refuses_mismatched_input(tmp_path):
    x_t, x0 = _trajectory(frames=3, batch=2, size=8)
    with pytest.raises(DataError, match="one label per frame"):
        write_trajectory_gif(tmp_path / "t.gif", x_t, x0, ["only one"])
    with pytest.raises(DataError, match="must both be uint8"):
        write_trajectory_gif(tmp_path / "t.gif", x_t, x0[:, :1], ["a", "b", "c"])
    with pytest.raises(DataError, match="one label per image"):
        write_trajectory_gif(tmp_path / "t.gif", x_t, x0, ["a", "b", "c"], image_labels=["x"])


@pytest.mark.parametrize("title_lines", [1, 2, 3])
def test_image_rows_figure_leaves_no_empty_band_under_the_title(title_lines):
    title = "\n".join(["Forward process, one noise draw per row"] * title_lines)
    column_titles = [f"t = {t}\n" + r"$\sqrt{\bar\alpha_t}$ = 0.50" for t in range(6)]
    figure = image_rows_figure([np.zeros((6, 28, 28, 1), np.uint8)] * 4, title=title, column_titles=column_titles)
    renderer = figure.canvas.get_renderer()
    (suptitle,) = figure.texts
    title_bottom = suptitle.get_window_extent(renderer).y0
    row = figure.axes[0]
    heads = [text.get_window_extent(renderer) for text in row.texts]
    heads_top = max(box.y1 for box in heads)
    gap_inches = (title_bottom - heads_top) / figure.dpi
    assert 0 < gap_inches < 0.12, gap_inches
    # The column titles sit above the images and inside the figure.
    assert min(box.y0 for box in heads) >= row.get_window_extent(renderer).y1 - 1


def test_pngs_keep_their_pixels_in_the_fewest_channels(tmp_path):
    from ddpm.report.style import compact_png, new_figure, save_figure

    grey = np.random.default_rng(0).integers(0, 256, (20, 28, 28, 1), dtype=np.uint8)
    write_sample_grid(tmp_path / "grey.png", grey, None, [], "Samples")
    figure = new_figure(3.0, 2.0)
    figure.subplots().plot([0, 1], [1, 0], color="tab:orange")
    save_figure(figure, tmp_path / "plot.png")
    with Image.open(tmp_path / "grey.png") as image, Image.open(tmp_path / "plot.png") as plot:
        assert image.mode == "L" and plot.mode == "RGB"
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[0, 0] = (10, 20, 30, 255)
    assert np.array_equal(np.asarray(compact_png(Image.fromarray(rgba)).convert("RGBA")), rgba)
    rgba[1, 1, 3] = 0  # transparency is kept as it is
    assert compact_png(Image.fromarray(rgba)).mode == "RGBA"
