"""The switches of the compiled selection, each read from its environment variable.

Why apart: the graph reads them while it decides how to book a sample, before (and whether)
anything is generated or compiled, and a command-line flag sets the variable for every
process of a run (``nutag run --compile``).
"""

from __future__ import annotations

import os

MODES = ("auto", "on", "off")
FUSE_MODES = ("auto", "off")
DIRECT_READ_MODES = ("auto", "off")


def compile_mode(mode: str | None = None) -> str:
    """The policy: ``mode`` if given, else ``NUTAG_COMPILE``, else ``auto``."""
    value = (mode or os.environ.get("NUTAG_COMPILE") or "auto").strip().lower()
    if value not in MODES:
        raise ValueError(f"NUTAG_COMPILE={value!r} is not one of {MODES}")
    return value


def direct_read_mode(mode: str | None = None) -> str:
    """``mode`` if given, else ``NUTAG_DIRECT_READ``, else ``auto``: a fused kernel over a local
    chain of RNTuple files reads its inputs itself
    (:meth:`.booking.CompiledSelection.fused_define`); ``off``: through RDataFrame's column
    readers."""
    value = (mode or os.environ.get("NUTAG_DIRECT_READ") or "auto").strip().lower()
    if value not in DIRECT_READ_MODES:
        raise ValueError(f"NUTAG_DIRECT_READ={value!r} is not one of {DIRECT_READ_MODES}")
    return value


def fuse_mode(mode: str | None = None) -> str:
    """``mode`` if given, else ``NUTAG_FUSE``, else ``auto``: fuse every sample whose graph is
    compiled whole (:func:`.planning.fuse`); ``off``: always one node per column and cut."""
    value = (mode or os.environ.get("NUTAG_FUSE") or "auto").strip().lower()
    if value not in FUSE_MODES:
        raise ValueError(f"NUTAG_FUSE={value!r} is not one of {FUSE_MODES}")
    return value

