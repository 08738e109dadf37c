"""The speed comparison quoted in the README and the docs is the recorded one (results/reference/speed/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "results" / "reference" / "speed" / "unet.json"
QUOTING = ["README.md", "results/reference/README.md", "docs/benchmarks.md", "docs/performance.md"]


def recorded_rows() -> dict[str, tuple[str, str]]:
    """Each recorded row ("train, batch 128", ...): our images/s and our ratio against the fastest
    diffusers column of the row, formatted as the tables print them."""
    rows = json.loads(RECORDED.read_text())["rows"]
    printed = {}
    for row, values in rows.items():
        ours = values.pop("ours")
        printed[row] = (f"{ours:,.0f}", f"{ours / max(values.values()):.2f}x")
    return printed


@pytest.mark.parametrize("document", QUOTING)
def test_the_quoted_speed_table_is_the_recorded_one(document):
    text = (ROOT / document).read_text()
    for row, (ours, ratio) in recorded_rows().items():
        kind, batch = row.split(", ")
        # The README and the docs name the training rows "train" or "training".
        pattern = re.compile(rf"^\| {kind}(?:ing)?, {batch}(?: \([^)]*\))? \|.*\| {ours} \| \**{ratio}\** \|", re.MULTILINE)
        assert pattern.search(text), f"{document} does not quote {row!r} as recorded ({ours} img/s, {ratio}) in {RECORDED.name}"
