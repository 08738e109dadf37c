"""Datasets: fetch raw files (verified), prepare train / val / test splits, read them back.

Training and evaluation need only :func:`load_split` and :class:`Split`; the workflow's scripts
call :func:`fetch_raw` and :func:`prepare_dataset` (dataset grids: :func:`ddpm.report.grids.split_grid_figure`). Every dataset
fact (files, URLs, checksums, options and defaults) lives in :mod:`ddpm.data.registry`.
"""

from ddpm.data.fetch import fetch_raw
from ddpm.data.build import prepare_dataset
from ddpm.data.prepared_files import SPLITS, Split, load_split
from ddpm.data.registry import SOURCES, RawFile, Source, get_source, parse_entry

__all__ = [
    "SOURCES",
    "SPLITS",
    "RawFile",
    "Source",
    "Split",
    "fetch_raw",
    "get_source",
    "load_split",
    "parse_entry",
    "prepare_dataset",
]
