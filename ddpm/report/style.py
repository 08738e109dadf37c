"""The one look of every report figure, and the one way to save it.

Figures are sized in inches for a two-column paper (:data:`COLUMN_WIDTH` for one column,
:data:`TEXT_WIDTH` for both) with fonts that stay legible at that size when printed. Matplotlib
figures are plain :class:`Figure` objects on their own Agg canvas (no pyplot: report scripts only
write files, and pyplot keeps global state and picks a GUI backend). :func:`save_figure` writes
each figure twice: a PDF (vector, for the paper) and a PNG beside it (for the HTML report).
"""

from __future__ import annotations

import io
import logging
import os
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ddpm.errors import ConfigError
from ddpm.io import atomic_path

COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper
TEXT_WIDTH = 7.0  # inches: both columns
PNG_DPI = 300
FONT_SIZE = 8  # points: axis labels and legends; the smallest a printed figure should use
TITLE_SIZE = 9

RC = {
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE - 1,
    "ytick.labelsize": FONT_SIZE - 1,
    "legend.fontsize": FONT_SIZE - 1,
    "legend.frameon": False,
    "figure.titlesize": TITLE_SIZE,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    # TrueType fonts in the PDF: text stays text (searchable, editable) rather than Type 3 glyphs.
    "pdf.fonttype": 42,
    "savefig.pad_inches": 0.02,
}


def new_figure(width: float, height: float, *, constrained: bool = True) -> Figure:
    """A ``width`` x ``height`` inch figure in the report's style; ``constrained`` lays out axes,
    labels and legends itself."""
    # Artists read the rc settings when they are created, so they are set before anything is drawn.
    matplotlib.rcParams.update(RC)
    figure = Figure(figsize=(width, height), layout="constrained" if constrained else None)
    FigureCanvasAgg(figure)
    return figure


def set_title(figure: Figure, what: str, description: str = "") -> None:
    """The figure's title: what it shows, and under it the experiment's description, wrapped to
    the figure's width."""
    figure.suptitle(wrap_title(title_text(what, description), figure.get_figwidth()), fontsize=TITLE_SIZE)


def wrap_title(text: str, width_inches: float) -> str:
    """``text`` with each line broken into lines that fit ``width_inches`` at the title's size."""
    # An average character of the default sans-serif font is about 0.55 em wide.
    chars = max(20, int(width_inches * 72 / (0.55 * TITLE_SIZE)))
    # Hyphenated words stay whole: "classifier-free" split over two lines reads badly.
    return "\n".join(textwrap.fill(line, chars, break_on_hyphens=False) for line in text.split("\n"))


def title_text(what: str, description: str = "") -> str:
    """The text :func:`set_title` shows, for layouts that place their title themselves."""
    return what if not description else f"{what}\n{_sentence_case(description)}"


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def pdf_path(png_path: str | os.PathLike) -> Path:
    """Where :func:`save_figure` writes the PDF of a figure whose PNG goes to ``png_path``."""
    return Path(png_path).with_suffix(".pdf")


def compact_png(image: Image.Image) -> Image.Image:
    """The same pixels in the fewest channels: Agg draws RGBA, but a figure is opaque, and an image
    grid is grey; a grey sample grid then takes a quarter of the bytes."""
    pixels = np.asarray(image.convert("RGBA"))
    if (pixels[..., 3] != 255).any():
        return image
    rgb = pixels[..., :3]
    if (rgb == rgb[..., :1]).all():
        return Image.fromarray(np.ascontiguousarray(rgb[..., 0]), mode="L")
    return Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")


def save_figure(figure: Figure, png_path: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``figure`` as PNG (``PNG_DPI``) at ``png_path`` and as PDF beside it, each atomically."""
    png = Path(png_path)
    if png.suffix.lower() != ".png":
        raise ConfigError(f"{png}: a figure's path must end in .png (its PDF is written beside it)")
    pdf = pdf_path(png)
    # Embedding TrueType fonts in the PDF logs every subsetting step at INFO: noise in job logs.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    with atomic_path(png) as tmp:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight")
        compact_png(Image.open(buffer)).save(tmp, format="png", dpi=(PNG_DPI, PNG_DPI))
    with atomic_path(pdf) as tmp:
        figure.savefig(tmp, format="pdf", bbox_inches="tight")
    return png, pdf
