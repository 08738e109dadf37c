"""Conventions every rule follows: its log holds stdout and stderr; a rule that runs a network has a benchmark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[1] / "workflow" / "rules"
# Rule files held to the conventions (all that define rules with a shell command).
CHECKED = ("data.smk", "train.smk", "sample.smk", "evaluate.smk", "report.smk")


def rules_of(path: Path) -> dict[str, str]:
    """Rule name -> its text, for a snakefmt-formatted file (a rule ends where the next top-level line starts)."""
    found = {}
    # Also the rules made in a loop (indented, named by a `name:` directive).
    for match in re.finditer(r"^( *)rule(?: (\w+))?:\n((?:\1[ \t]+.*\n|\n)*)", path.read_text(), re.MULTILINE):
        name = match.group(2) or re.search(r"name:\s*\n\s*(.+)", match.group(3)).group(1).strip()
        found[name] = match.group(3)
    return found


@pytest.mark.parametrize("name", CHECKED)
def test_every_log_captures_stdout_and_stderr(name):
    rules = rules_of(RULES / name)
    assert rules
    for rule, text in rules.items():
        if "shell:" not in text:
            continue
        assert "    log:" in text, f"{name}: rule {rule} has no log"
        redirects = re.findall(r"[0-9]?>+\s*\{log(?::q)?\}(?:\s*2>&1)?", text)
        assert redirects == ["> {log:q} 2>&1"], f"{name}: rule {rule} must end its command with > {{log:q}} 2>&1, has {redirects}"


@pytest.mark.parametrize("name", CHECKED)
def test_every_rule_that_runs_a_network_has_a_benchmark(name):
    for rule, text in rules_of(RULES / name).items():
        if re.search(r"^\s+gpu=", text, re.MULTILINE):
            assert "    benchmark:" in text, f"{name}: rule {rule} runs a network (gpu resource) but has no benchmark"
