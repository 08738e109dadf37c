"""Matplotlib figures without pyplot: a Figure on its own Agg canvas, written atomically as PNG.

pyplot keeps global state between calls and picks a GUI backend; report scripts only write files,
so every figure is a plain :class:`Figure` that nothing else holds on to.
"""

from __future__ import annotations

import os

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ddpm.io import atomic_path

DPI = 100


def new_figure(width: float, height: float, *, constrained: bool = True) -> Figure:
    """A ``width`` x ``height`` inch figure; ``constrained`` lays out axes, labels and legends itself."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained" if constrained else None)
    FigureCanvasAgg(figure)
    return figure


def save_png(figure: Figure, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=DPI)
