"""Atomic file output: write to a temporary file beside the target, then rename.

A crash or an error mid-write therefore never leaves a half-written output that a later run
(or Snakemake) would mistake for a finished one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ddpm.errors import DataError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temporary name keeps the target's suffix so that libraries which pick a format from the
    suffix (PIL, matplotlib, numpy) behave as they would for the target.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates the file readable by its owner only; outputs get the usual umask-based mode.
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Standard JSON only: a NaN or infinite number is refused (:class:`DataError` naming where it is).

    Such a value is a diverged model or a bug, never a result; a value that was not measured is
    written as ``None`` (null) by its caller, with the reason beside it where it is not obvious.
    """
    try:
        text = json.dumps(obj, indent=2, sort_keys=False, default=_json_default, allow_nan=False)
    except ValueError:
        where = _non_finite_key(json.loads(json.dumps(obj, default=_json_default)))
        raise DataError(f"{path}: the value at {where} is not a finite number; JSON output holds only finite numbers") from None
    write_text(path, text + "\n")


def _non_finite_key(obj: Any, where: str = "$") -> str | None:
    """The JSON path of the first NaN or infinite number in ``obj`` (``$.a[2].b``)."""
    if isinstance(obj, float) and not np.isfinite(obj):
        return where
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        found = _non_finite_key(value, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}")
        if found:
            return found
    return None


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file; a missing or malformed file is a :class:`DataError` naming it."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; run the step that writes it") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable JSON file ({exc}); delete it and write it again") from None


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Save arrays with ``np.savez_compressed``, atomically; object arrays (pickles) are refused on load."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz``; a missing or corrupt file is a :class:`DataError` naming it."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; run the step that writes it") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc}); delete it and write it again") from None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
