"""How a run executes its selection: the route switches, made once and passed down.

Why one place: the same YAML selection runs jitted, compiled node per cut, or fused into one
kernel that may read its RNTuple inputs itself (nutag.engine.routes names the outcome). Which one is
allowed is a choice of the run — `nutag run --compile`, the Python API, or for an interactive
session and the test suite the environment (NUTAG_COMPILE, NUTAG_FUSE, NUTAG_DIRECT_READ).
The environment is read here and nowhere else, never written; the graph builder receives a
:class:`RouteOptions` and HTCondor chunk jobs get the submitting run's in their manifest, so
every part of a run takes the same route whatever the environment of the process it runs in.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: the choices of each switch, and the environment variable that sets it
MODES = ("auto", "on", "off")
FUSE_MODES = ("auto", "off")
DIRECT_READ_MODES = ("auto", "off")
SWITCHES: dict[str, tuple[str, tuple[str, ...]]] = {
    "compile": ("NUTAG_COMPILE", MODES),
    "fuse": ("NUTAG_FUSE", FUSE_MODES),
    "direct_read": ("NUTAG_DIRECT_READ", DIRECT_READ_MODES),
}


def _checked(switch: str, value: str) -> str:
    variable, choices = SWITCHES[switch]
    clean = str(value).strip().lower()
    if clean not in choices:
        raise ValueError(f"{variable}={value!r} is not one of {choices} (the {switch} switch "
                         "of nutag's execution route)")
    return clean


def compile_mode(mode: str = "auto") -> str:
    """The compile policy, checked: ``auto`` compiles and falls back to the JIT on a compiler
    error, ``on`` compiles or fails, ``off`` jits."""
    return _checked("compile", mode)


def fuse_mode(mode: str = "auto") -> str:
    """``auto``: fuse every sample whose graph is compiled whole into one kernel; ``off``:
    always one RDataFrame node per column and cut."""
    return _checked("fuse", mode)


def direct_read_mode(mode: str = "auto") -> str:
    """``auto``: a fused kernel over a local chain of RNTuple files reads its inputs itself;
    ``off``: through RDataFrame's column readers."""
    return _checked("direct_read", mode)


@dataclass(frozen=True)
class RouteOptions:
    """The switches of a run's execution route (none of them changes a number)."""

    compile: str = "auto"
    fuse: str = "auto"
    direct_read: str = "auto"

    def __post_init__(self) -> None:
        for switch in SWITCHES:
            object.__setattr__(self, switch, _checked(switch, getattr(self, switch)))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None,
                         **given: str | None) -> RouteOptions:
        """The switches given (a command-line flag, not None), else their environment
        variable, else ``auto``."""
        env = os.environ if environ is None else environ
        values = {}
        for switch, (variable, _choices) in SWITCHES.items():
            value = given.get(switch)
            values[switch] = value if value is not None else (env.get(variable) or "auto")
        return cls(**values)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | None) -> RouteOptions:
        """Rebuild from :meth:`to_dict` (an HTCondor job manifest); missing keys: ``auto``."""
        return cls(**{k: v for k, v in (doc or {}).items() if k in SWITCHES})

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)
