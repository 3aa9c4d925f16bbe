"""The ROOT versions nutag needs, per feature, in one table checked when a command starts.

Why a table: an older ROOT does not fail cleanly. The compiled fused kernel fails in the
compiler with pages of template errors, and on ROOT 6.36 cppyy accepts the unknown
``RSnapshotOptions.fApproxZippedClusterSize`` silently, so ``nutag simulate`` would write files
with other cluster sizes than documented. Checking the version first turns each of these into
one line naming the feature, the ROOT found and the ROOT needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .errors import NutagError


class Requirement(NamedTuple):
    """The oldest ROOT a feature works with, and the ROOT interfaces that set it."""

    minimum: tuple[int, int]
    uses: str


#: feature -> minimum ROOT (major, minor) and why. README.md, environment.yml and
#: cmake/NutagFindROOT.cmake state the largest of these (tests/test_versions.py checks it).
REQUIREMENTS: dict[str, Requirement] = {
    "analysis": Requirement((6, 36), "the compiled fused kernel reads RNTuple through "
                            "ROOT::RNTupleReader, RNTupleView, RNTupleReadOptions::EImplicitMT "
                            "and RFieldBase::RValue; input entries via RNTupleReader.Open"),
    "simulate": Requirement((6, 38), "RSnapshotOptions.fApproxZippedClusterSize (6.38), "
                            "RDF.ESnapshotOutputFormat (6.34), RNTupleReader.Open (6.36)"),
    "dask": Requirement((6, 36), "ROOT.RDF.Distributed and RDataFrame(..., executor=)"),
}

#: what each command uses; commands not listed only read histograms and JSON (any ROOT 6)
COMMAND_FEATURES: dict[str, tuple[str, ...]] = {
    "run": ("analysis",),
    "simulate": ("simulate",),
    "closure": ("simulate", "analysis"),
    "display": ("analysis",),
}


class RootVersionError(NutagError):
    """The ROOT in this environment is older than a feature needs."""


def root_version_int() -> int:
    """ROOT's version as ``major*10000 + minor*100 + patch`` (6.40.00 -> 64000).

    The one place that asks ROOT, so tests can fake an older ROOT by replacing this function.
    """
    from .rootenv import import_root

    return int(import_root().gROOT.GetVersionInt())


def version_text(code: int) -> str:
    """``64000`` -> ``"6.40.00"`` (ROOT's own spelling since 6.30)."""
    return f"{code // 10000}.{code // 100 % 100:02d}.{code % 100:02d}"


def minimum_overall() -> tuple[int, int]:
    """The ROOT every nutag command works with: the largest minimum of the table."""
    return max(r.minimum for r in REQUIREMENTS.values())


def features_of(command: str | None, backend: str | None = None,
                default_config: bool = False) -> tuple[str, ...]:
    """The features ``nutag COMMAND [--backend BACKEND]`` uses (see :data:`COMMAND_FEATURES`).

    ``nutag run`` of the embedded default config (``default_config``) simulates the default
    data set when it is missing or outdated, so it needs the simulation's ROOT as well.
    ``nutag simulate --backend dask`` distributes plain Python tasks, not a distributed
    RDataFrame, so only ``run`` on Dask needs the ``dask`` feature.
    """
    features = COMMAND_FEATURES.get(command or "", ())
    if command == "run" and default_config:
        features = (*features, "simulate")
    if command == "run" and backend == "dask":
        features = (*features, "dask")
    return features


def require(features: Iterable[str], found: int | None = None) -> None:
    """Raise :class:`RootVersionError` (one line) if ROOT is older than any of ``features``
    needs; ``found`` defaults to the ROOT imported by nutag."""
    wanted: Sequence[str] = list(features)
    if not wanted:
        return
    code = root_version_int() if found is None else found
    for name in wanted:
        req = REQUIREMENTS[name]
        need = req.minimum[0] * 10000 + req.minimum[1] * 100
        if code < need:
            raise RootVersionError(
                f"{name} needs ROOT >= {req.minimum[0]}.{req.minimum[1]:02d}, found ROOT "
                f"{version_text(code)} ({req.uses}); use a newer LCG view or the PyPI wheel "
                "(docs/lxplus.md, troubleshooting)")
