"""One place to import ROOT, and to capture what cling writes to stderr.

Why: the PyPI ROOT wheel warns on import (alpha stage); filtering that in every module is
noise, and filtering it *after* the first import is too late. Cling reports compilation
errors on the C-level stderr (not ``sys.stderr``), so turning them into a ``ConfigError``
needs a file-descriptor level capture.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from types import ModuleType

_ROOT: ModuleType | None = None


def import_root() -> ModuleType:
    """Return the ROOT module, importing it once with the wheel's alpha warning silenced."""
    global _ROOT
    if _ROOT is None:
        # cling compiles jitted code at -O1 by default; -O2 made a typical jitted RDataFrame graph
        # ~45 % faster here for a little more compile time. A user's own setting wins.
        os.environ.setdefault("EXTRA_CLING_ARGS", "-O2")
        warnings.filterwarnings(
            "ignore", message=r"\s*This distribution of ROOT", category=UserWarning
        )
        import ROOT  # noqa: PLC0415  (deliberately lazy)

        ROOT.PyConfig.IgnoreCommandLineOptions = True
        _ROOT = ROOT
    return _ROOT


class Captured:
    """Text written to file descriptor 2 inside :func:`capture_stderr` (filled on exit)."""

    def __init__(self) -> None:
        self.text = ""


@contextlib.contextmanager
def capture_stderr() -> Iterator[Captured]:
    """Redirect fd 2 to a temporary file for the duration of the block.

    Used around ``Define``/``Filter`` so cling diagnostics can be attached to the YAML
    location of the expression instead of scrolling past on the terminal.
    """
    out = Captured()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.text = tmp.read().decode("utf-8", "replace")
