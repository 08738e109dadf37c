"""Shared plumbing for the thin command-line programs in ``scripts/``."""

from __future__ import annotations

import logging
import sys
from typing import Callable

from ddpm.errors import DdpmError


def run(main: Callable[[], None]) -> None:
    """Run a script's ``main``: a :class:`DdpmError` becomes ``error: ...`` on stderr and a non-zero exit (2 unless the error says otherwise)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        main()
    except DdpmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 2))
