"""The published reference results name no path of the machine they were made on."""

from __future__ import annotations

import re
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "results" / "reference"
TEXT_SUFFIXES = {".json", ".csv", ".md", ".log", ".tsv", ".tex", ".txt"}
# An absolute path: a slash at the start of a token, then at least one folder.
ABSOLUTE_PATH = re.compile(r"(?:^|[\s\"'(=:,\[])(/[A-Za-z0-9_.-]+/[^\s\"',)\]]*)", re.MULTILINE)
# Snakemake's log names the shell it runs jobs with; that path is the same on every machine.
ALLOWED = {"/usr/bin/bash"}


def test_published_files_hold_no_machine_paths():
    files = [p for p in REFERENCE.rglob("*") if p.suffix in TEXT_SUFFIXES and p.is_file()]
    assert files, f"no published text files under {REFERENCE}"
    found = {
        f"{path.relative_to(REFERENCE)}: {match}"
        for path in files
        for match in ABSOLUTE_PATH.findall(path.read_text(encoding="utf-8", errors="replace"))
        if match not in ALLOWED
    }
    assert not found, "machine paths in the published results (publish with scripts/publish_reference.py):\n" + "\n".join(
        sorted(found)[:20]
    )
