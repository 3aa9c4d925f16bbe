"""Semantic checks of a loaded analysis, before any event is read: regions, boxes, units, options.

Why beyond the schema: a YAML can be well-formed and still be a wrong analysis — two regions
that select the same events, a side-band that overlaps the signal box (its background estimate
then counts signal and, worse, reads blinded data), a box constant written in cm where the
column is in mm, an options: block naming a region that does not exist. Each is found here
in a second, against the file and line to edit, instead of as a strange number after the loop.

What "overlap" and "empty" mean (docs/method.md): a *box cut* is a cut that uses a box constant
(a column whose expression is a number, e.g. ``box_dlkr_sr: "60.0"``). The box cuts of the
signal region and of each side-band named in ``options:`` must be disjoint on the constants,
whatever the events: they are evaluated on every cell of the grid the constants cut the plane
into (:func:`nutag.config.expressions.common_point`). A region whose box cuts admit no point at all
selects nothing and is an error too, as is a region with no cut, and two regions with the
same cuts on the same samples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .blinding import check_blinding
from ..core.errors import ConfigError
from .expressions import common_point, constant_columns, expression_names
from .yamlio import LineDict, Loc, did_you_mean

if TYPE_CHECKING:
    from .model import Region, Sample, Selection

#: a number followed by a unit, e.g. "75 GeV", "60mm", "1e6 events", "10 %"
QUANTITY = re.compile(r"^\s*(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
                      r"(?P<unit>[A-Za-z%\u00b5][\w^/*.%\u00b5]*)\s*$")
_CPP_SUFFIX = re.compile(r"[fFlLuU]+\Z")
#: sample meta keys read as numbers by nutag.results.physics (name -> what it counts)
NUMERIC_META = {"n_generated": "events generated (a count)",
                "control_downscaling": "downscaling factor of the control trigger (a ratio)",
                "n_kaon_decays": "nominal number of K+ decays (a count)"}


def split_quantity(value: Any) -> tuple[float, str] | None:
    """``"75 GeV"`` -> ``(75.0, "GeV")``; None for a plain number or anything else."""
    if not isinstance(value, str):
        return None
    m = QUANTITY.match(value)
    if not m or _CPP_SUFFIX.fullmatch(m.group("unit")):
        return None
    return float(m.group("num")), m.group("unit")


#: units nutag's configs are written in (simulation/default.yaml, samples/ntuple-schema.yaml)
KNOWN_UNITS = ("GeV", "GeV/c", "GeV/c^2", "GeV^2/c^4", "GeV^0.5", "MeV", "mm", "m", "ns",
               "MHz", "rad", "g/cm^3", "e")
_DIMENSIONLESS = ("relative", "probability", "fraction", "branching", "number", "count")


def field_unit(doc: str) -> str | None:
    """The unit a documented field is in, from its comment (``"GeV/c, central K+ momentum"``
    -> ``"GeV/c"``; ``"relative rms spread"`` -> ``""``); None if the comment does not say."""
    words = doc.replace(",", " ").split()
    if not words:
        return None
    if words[0] in KNOWN_UNITS or words[0].rstrip(".") in KNOWN_UNITS:
        return words[0].rstrip(".")
    if words[0].lower().startswith(_DIMENSIONLESS):
        return ""
    return None


def quantity_error(value: Any, unit: str | None) -> tuple[str, str] | None:
    """(message, fix) for a number written with a unit where a plain number is expected.

    nutag's numbers carry no unit: each value is in the unit of its field (``unit``), which
    the message names so the fix is obvious (``"75 GeV"`` for a GeV/c field: write 75).
    """
    q = split_quantity(value)
    if q is None:
        return None
    number, given = q
    expected = ("dimensionless" if unit == "" else unit) or "the unit documented for this key"
    msg = (f"{value!r} carries a unit; values here are plain numbers in the key's unit "
           f"(expected unit: {expected})")
    if unit and canonical_unit(given) == canonical_unit(unit):
        fix = f"write {number:g} (the unit is implied)"
    elif unit:
        fix = f"convert {given} to {unit} and write the plain number"
    else:
        fix = f"write the plain number {number:g} if {given} is meant"
    return msg, fix


def canonical_unit(unit: str) -> str:
    """Compare units as physicists write them: ``GeV^2/c^4`` == ``GeV2`` == ``GeV^2``."""
    u = re.sub(r"\s+", "", unit)
    u = re.sub(r"/c(\^?\d)?", "", u)
    return u.replace("^", "")


# --------------------------------------------------------------------------- selection
def check_regions(selection: Selection) -> None:
    """No region without cuts; no two regions selecting the same events on the same samples."""
    seen: dict[tuple[frozenset[str], tuple[str, ...] | None], Region] = {}
    for region in selection.regions.values():
        loc = region.loc
        if not region.cuts:
            raise ConfigError(loc.file, loc.line, f"regions.{region.name}",
                              "the region has no cut: it would select every event",
                              "list at least one cut; to select the whole plane on purpose use "
                              "a cut whose expr is \"true\" (e.g. box_none), so it is explicit")
        key = (frozenset(region.cuts), region.samples)
        first = seen.get(key)
        if first is not None:
            leak = (" — and one is blind while the other is not, so the blind events would be "
                    "read" if first.blind != region.blind else "")
            raise ConfigError(loc.file, loc.line, f"regions.{region.name}",
                              f"the region has the same cuts as region '{first.name}' "
                              f"({first.loc.file}:{first.loc.line}){leak}",
                              "remove one of them (a histogram may list several regions) or "
                              "change its cuts")
        seen[key] = region


def check_units(selection: Selection) -> None:
    """Constants are plain numbers in their column's unit, the unit of what they are compared to.

    nutag never converts units: ``box_dlkr_sr: {expr: "6.0", unit: cm}`` compared with
    ``d_lkr`` (mm) would silently cut at 6 mm, so it is an error.
    """
    cols = selection.columns
    for col in cols.values():
        q = split_quantity(col.expr)
        if q is not None:
            unit = col.unit or q[1]
            raise ConfigError(col.loc.file, col.loc.line, f"columns.{col.name}.expr",
                              f"{col.expr!r} carries a unit inside the C++ expression",
                              f"write the number alone and the unit in 'unit:', e.g. "
                              f"{{expr: \"{q[0]:g}\", unit: {unit}}}; nutag does not convert "
                              "units, so give it in the unit of the column it is compared with")
    consts = constant_columns(cols)
    for cut in selection.cuts.values():
        for atom in re.split(r"&&|\|\||\band\b|\bor\b", cut.expr):
            names = [n for n, role in expression_names(atom) if role == "name"]
            used = [cols[n] for n in names if n in consts and cols[n].unit]
            compared = [cols[n] for n in names if n in cols and n not in consts and cols[n].unit]
            for c in used:
                for v in compared:
                    if canonical_unit(c.unit) != canonical_unit(v.unit):
                        raise ConfigError(
                            c.loc.file, c.loc.line, f"columns.{c.name}.unit",
                            f"the constant is in {c.unit} but cuts.{cut.name} "
                            f"({cut.loc.file}:{cut.loc.line}) compares it with {v.name}, "
                            f"which is in {v.unit}",
                            f"give {c.name} in {v.unit} (unit: {v.unit}); nutag does not "
                            "convert units")


def box_cuts(selection: Selection, region: Region, consts: Mapping[str, float]) -> list[str]:
    """Names of the region's cuts that use a box constant."""
    return [c for c in region.cuts
            if any(n in consts for n, _ in expression_names(selection.cuts[c].expr))]


def _constants_text(selection: Selection, cuts: list[str], consts: Mapping[str, float]) -> str:
    names = sorted({n for c in cuts for n, _ in expression_names(selection.cuts[c].expr)
                    if n in consts})
    return ", ".join(f"{n} = {consts[n]:g} ({selection.columns[n].loc.file}:"
                     f"{selection.columns[n].loc.line})" for n in names)


def check_box_empty(selection: Selection, region: Region, consts: Mapping[str, float]) -> None:
    cuts = box_cuts(selection, region, consts)
    if cuts and common_point([selection.cuts[c].expr for c in cuts], consts) is False:
        raise ConfigError(region.loc.file, region.loc.line, f"regions.{region.name}",
                          f"the region selects nothing: its box cuts {cuts} exclude every "
                          "point of the plane with the box constants "
                          f"({_constants_text(selection, cuts, consts)})",
                          "check the box constants (each lower edge below its upper edge) "
                          "and the comparisons in those cuts")


def check_disjoint(selection: Selection, a: Region, b: Region, consts: Mapping[str, float],
                   why: str, where: Loc, key: str) -> None:
    """The box cuts of ``a`` and ``b`` must not both pass at any point of the plane."""
    cuts_a, cuts_b = box_cuts(selection, a, consts), box_cuts(selection, b, consts)
    if not cuts_a or not cuts_b:
        return
    both = list(dict.fromkeys(cuts_a + cuts_b))
    point = common_point([selection.cuts[c].expr for c in both], consts)
    if isinstance(point, dict):
        at = ", ".join(f"{k} = {v:g}" for k, v in point.items())
        raise ConfigError(where.file, where.line, key,
                          f"region '{a.name}' and region '{b.name}' overlap ({why}): at "
                          f"{at} an event passes both box cuts {cuts_a} and {cuts_b}; "
                          f"constants: {_constants_text(selection, both, consts)}",
                          "make the boxes disjoint: move the side-band edge away from the "
                          "signal box (the columns box_*), or fix the comparison in the cut")


# --------------------------------------------------------------------------- samples
def check_meta(file: str, node: Any, key: str) -> dict[str, Any]:
    """A sample's meta mapping with its numeric entries as numbers (YAML 1.1 reads 1.0e6 as a
    string); a value with a unit or text is an error naming the key, and so is a value that is
    not finite (``.nan``, ``.inf``), which would only fail after the event loop."""
    from math import isfinite  # noqa: PLC0415

    meta = dict(node or {})
    for name, what in NUMERIC_META.items():
        if name not in meta:
            continue
        value = meta[name]
        line = node.line_of(name) if isinstance(node, LineDict) else 0
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                q = split_quantity(value)
                hint = (f"write the plain number {q[0]:g}" if q else "write a plain number, "
                        "e.g. 1.0e+6")
                raise ConfigError(file, line, f"{key}.meta.{name}",
                                  f"expected a number ({what}, no unit), got {value!r}",
                                  hint) from None
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not isfinite(value) or value <= 0):
            raise ConfigError(file, line, f"{key}.meta.{name}",
                              f"expected a finite positive number ({what}), got {value!r}",
                              "write a positive plain number, e.g. 1.0e+6")
        meta[name] = value
    return meta


# --------------------------------------------------------------------------- options
class _Options:
    """Walks ``options:`` with file:line for every key (the mapping is a LineDict)."""

    def __init__(self, file: str, node: Any, regions: Mapping[str, Region],
                 samples: Mapping[str, Sample]) -> None:
        self.file, self.node, self.regions, self.samples = file, node, regions, samples

    def line(self, parent: Any, key: Any) -> int:
        return parent.line_of(key) if isinstance(parent, (LineDict,)) else getattr(
            parent, "line", 0)

    def get(self, parent: Any, key: str) -> Any:
        return parent.get(key) if isinstance(parent, Mapping) else None

    def region(self, parent: Any, key: str, path: str) -> Region | None:
        name = self.get(parent, key)
        if name is None:
            return None
        if name not in self.regions:
            raise ConfigError(self.file, self.line(parent, key), f"{path}.{key}",
                              f"unknown region {name!r}", did_you_mean(str(name), self.regions))
        return self.regions[name]

    def sample(self, parent: Any, key: str, path: str) -> None:
        value = self.get(parent, key)
        names = value if isinstance(value, list) else [] if value is None else [value]
        for i, name in enumerate(names):
            if name not in self.samples:
                line = value.line_of(i) if hasattr(value, "line_of") and isinstance(
                    value, list) else self.line(parent, key)
                raise ConfigError(self.file, line, f"{path}.{key}", f"unknown sample {name!r}",
                                  did_you_mean(str(name), self.samples))

    def fractions(self, parent: Any, key: str, path: str) -> None:
        table = self.get(parent, key)
        if not isinstance(table, Mapping):
            return
        for name, value in table.items():
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not 0.0 <= value < 1.0:
                q = split_quantity(value)
                hint = (f"write the fraction {q[0] / 100:g} for {q[0]:g} %" if q and q[1] == "%"
                        else "write a relative uncertainty as a fraction, e.g. 0.10 for 10 %")
                raise ConfigError(self.file, self.line(table, name), f"{path}.{key}.{name}",
                                  f"expected a fraction in [0, 1), got {value!r}", hint)


def check_options(file: str, node: Any, selection: Selection,
                  samples: Mapping[str, Sample]) -> None:
    """Names in ``options:`` exist; the signal region is blind and inside the blind box; every
    side-band is provably outside the box (:mod:`nutag.config.blinding`); boxes are not empty."""
    if not isinstance(node, Mapping):
        return
    o = _Options(file, node, selection.regions, samples)
    norm, sig = o.get(node, "normalisation"), o.get(node, "signal")
    o.region(norm, "region", "options.normalisation")
    o.sample(norm, "data_sample", "options.normalisation")
    o.sample(norm, "mc_sample", "options.normalisation")
    signal = o.region(sig, "region", "options.signal")
    o.sample(sig, "sample", "options.signal")
    o.fractions(sig, "systematics", "options.signal")
    o.sample(node, "mc_truth_backgrounds", "options")
    cand = o.get(node, "candidate")
    o.region(cand, "region", "options.candidate")
    o.sample(cand, "sample", "options.candidate")
    if signal is not None and not signal.blind:
        raise ConfigError(signal.loc.file, signal.loc.line, f"regions.{signal.name}",
                          "the signal region (options.signal.region) is not blind: a blinded "
                          "run would read data in it",
                          f"add 'blind: true' to regions.{signal.name}")
    consts = constant_columns(selection.columns)
    backgrounds = o.get(node, "backgrounds")
    named = [(bname, f"options.backgrounds.{bname}", b) for bname, b in
             (backgrounds.items() if isinstance(backgrounds, Mapping) else ())]
    sidebands: list[tuple[str, Region, int, str]] = []
    for bname, path, b in named:
        side = o.region(b, "sideband_region", path)
        if side is not None:
            sidebands.append((f"{path}.sideband_region", side, o.line(b, "sideband_region"),
                              f"the data side-band of background {bname}"))
    # blinding first: a side-band reaching into the box is the error to report, whatever else
    check_blinding(file, node, selection, signal, sidebands)
    for bname, path, b in named:
        side = o.region(b, "sideband_region", path)
        ex = o.get(b, "extrapolation")
        num = o.region(ex, "numerator_region", f"{path}.extrapolation")
        den = o.region(ex, "denominator_region", f"{path}.extrapolation")
        o.sample(ex, "samples", f"{path}.extrapolation")
        o.fractions(b, "systematics", path)
        for region in (signal, side, num, den):
            if region is not None:
                check_box_empty(selection, region, consts)
        if num is not None and den is not None:
            check_disjoint(selection, num, den, consts,
                           f"numerator and denominator of the {bname} extrapolation factor",
                           Loc(file, o.line(ex, "denominator_region")),
                           f"{path}.extrapolation.denominator_region")
