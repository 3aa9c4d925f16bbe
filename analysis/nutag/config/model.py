"""The analysis as plain data: samples, columns, cuts, regions, histograms, the selection.

Why a module of its own: every layer reads these records (the checks, the expression analysis,
the blinding rules, the input-file checks, the graph, the report), while only nutag.config.analysis
builds them from YAML. Kept here, without the loaders, they import nothing of nutag above the
YAML locations and the binning, so no module needs the loader to name a type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .binning import Binning
from .yamlio import Loc

if TYPE_CHECKING:
    from .systematic_sources import Source


@dataclass
class Sample:
    """One dataset: the files of one kind (data or mc) read as one RDataFrame."""

    name: str
    kind: str
    files: list[str]
    tree: str
    weight: str
    meta: dict[str, Any]
    doc: str
    loc: Loc
    key_locs: dict[str, Loc] = field(default_factory=dict)

    def where(self, key: str) -> Loc:
        return self.key_locs.get(key, self.loc)


@dataclass
class Column:
    name: str
    expr: str
    doc: str
    unit: str
    kinds: tuple[str, ...]
    loc: Loc


@dataclass
class Cut:
    name: str
    expr: str
    doc: str
    kinds: tuple[str, ...]
    loc: Loc


@dataclass
class Region:
    """An ordered list of cut names; relaxed variants are resolved to a plain list at load."""

    name: str
    cuts: tuple[str, ...]
    samples: tuple[str, ...] | None
    blind: bool
    doc: str
    loc: Loc
    based_on: str | None = None

    def applies_to(self, sample: str) -> bool:
        return self.samples is None or sample in self.samples


@dataclass
class Histogram:
    name: str
    x: str
    bins: Binning
    title: str
    regions: tuple[str, ...]
    y: str | None
    ybins: Binning | None
    weight: str | None
    kinds: tuple[str, ...]
    doc: str
    loc: Loc


@dataclass
class Selection:
    """The merged content of one or more selection files (names unique across files)."""

    columns: dict[str, Column] = field(default_factory=dict)
    cuts: dict[str, Cut] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    name: str
    file: str
    samples_file: str
    samples: dict[str, Sample]
    selection: Selection
    corrections: list[str]
    options: dict[str, Any]
    doc: str
    #: systematic sources (nutag.engine.systematics.Source), applied to the samples they name
    systematics: list[Source] = field(default_factory=list)
