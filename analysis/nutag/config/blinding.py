"""The blind box: defined once, on the box columns, and removed from data where they are read.

Why blinding lives here and not in the regions: a blind analysis promises that no data event
of the signal box is looked at before the collaboration decides to unblind. Hiding the
*signal region* (not booking it for data) is not enough: any other region that overlaps the
box — the signal cuts minus one veto, the box cut moved last, a side-band whose edge slipped
into the box, a ``<`` for a ``>`` — would count and draw the box events. So the box is one
cut named in ``options.blind_box`` (for NA62: ``box_signal``, |m_miss2| < box_m2_sr and
0 <= d_LKr < box_dlkr_sr), written only with comparisons of the *box columns* (its free
variables, m_miss2 and d_lkr) against constants, and while blinded every data sample is
filtered by its negation (:data:`BLIND_VETO`) before any region, histogram, cutflow row,
candidate listing, display or interactive node exists (:func:`nutag.engine.graph.build_graph`).
No region, cut order or config option can bring those events back: only
``nutag run --unblind`` (recorded in the provenance) builds the data graphs without the veto.

Because the box is simple C++ on constants, everything about it is decided exactly before any
event is read (:func:`check_blinding`): the signal region must contain the box cut, and every
side-band must be provably outside the box on the box columns — a side-band cut that cannot
be decided is an error, not a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigError
from .expressions import common_point, constant_columns, expression_names, to_python
from .yamlio import Loc, did_you_mean

if TYPE_CHECKING:
    from .model import Region, Selection

#: the name of the Filter that removes the blind box from data (never a YAML name: a leading
#: underscore is not a valid cut name there)
BLIND_VETO = "_blind_box_veto"


@dataclass(frozen=True)
class BlindBox:
    """The blind box: the cut ``cut`` (expression ``expr``) on the box columns ``columns``."""

    cut: str
    expr: str
    columns: tuple[str, ...]
    loc: Loc

    @property
    def veto_expr(self) -> str:
        """C++ that is true for events OUTSIDE the box (the events a blinded run may read)."""
        return f"!({self.expr})"

    def record(self) -> dict[str, Any]:
        """What the provenance says about the box."""
        return {"cut": self.cut, "expr": self.expr, "columns": list(self.columns),
                "defined_at": f"{self.loc.file}:{self.loc.line}"}


def top_level_terms(expr: str) -> list[str]:
    """``a && (b || c) && d`` -> ``["a", "(b || c)", "d"]``: the terms of a conjunction.

    Why: a side-band cut may mix decidable box comparisons with other C++ (``&& std::isfinite(
    d_lkr)``); each decidable term alone already bounds the events, so the box check uses the
    decidable terms and ignores the rest only in the safe direction (fewer terms admit more
    points, never fewer).
    """
    terms, depth, start, i = [], 0, 0, 0
    while i < len(expr):
        ch = expr[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and expr.startswith("&&", i):
            terms.append(expr[start:i].strip())
            start = i + 2
            i += 1
        i += 1
    terms.append(expr[start:].strip())
    return [t for t in terms if t]


def blind_box_of(selection: Selection, options: Mapping[str, Any] | None,
                 file: str = "") -> BlindBox | None:
    """The analysis' blind box from ``options.blind_box`` (a cut name), checked; None if the
    analysis declares none."""
    if not isinstance(options, Mapping) or options.get("blind_box") is None:
        return None
    name = options["blind_box"]
    line = options.line_of("blind_box") if hasattr(options, "line_of") else 0
    if not isinstance(name, str) or name not in selection.cuts:
        raise ConfigError(file, line, "options.blind_box", f"unknown cut {name!r}",
                         did_you_mean(str(name), selection.cuts) if isinstance(name, str) else
                         "name the cut that defines the signal box, e.g. blind_box: box_signal")
    cut = selection.cuts[name]
    consts = constant_columns(selection.columns)
    compiled = to_python(cut.expr, consts)
    names = [n for n, role in expression_names(cut.expr) if role == "name"]
    if compiled is None:
        raise ConfigError(cut.loc.file, cut.loc.line, f"cuts.{name}",
                         f"the blind box {cut.expr!r} is not a simple comparison of columns "
                         "with constants, so nutag cannot decide which events it holds",
                         "write the box with comparisons (< <= > >=), abs, && and || of the box "
                         "columns and constant columns only, e.g. \"abs(m_miss2) < box_m2_sr && "
                         "d_lkr >= 0.0 && d_lkr < box_dlkr_sr\"")
    columns = tuple(compiled[1])  # the free names: selection or input columns
    if not columns:
        raise ConfigError(cut.loc.file, cut.loc.line, f"cuts.{name}",
                          f"the blind box {cut.expr!r} uses no column (names: {names}): it is "
                          "either every event or none",
                          "define the box on the analysis columns (m_miss2, d_lkr)")
    return BlindBox(name, cut.expr, columns, cut.loc)


def _decidable_terms(selection: Selection, region: Region, box: BlindBox,
                     consts: Mapping[str, float]) -> list[str]:
    """The region's cut terms that compare only box columns with constants."""
    terms: list[str] = []
    for cut_name in region.cuts:
        for term in top_level_terms(selection.cuts[cut_name].expr):
            compiled = to_python(term, consts)
            if compiled is not None and set(compiled[1]) <= set(box.columns):
                terms.append(term)
    return terms


def check_outside_box(selection: Selection, region: Region, box: BlindBox, file: str,
                      line: int, key: str, why: str) -> None:
    """``region`` must provably select no event of the box, decided on the box columns alone.

    Undecidable is an error: the region's decidable terms (comparisons of the box columns with
    constants) must leave no point of the box, on the grid of every constant involved
    (:func:`nutag.config.expressions.common_point`, exact for such comparisons).
    """
    consts = constant_columns(selection.columns)
    terms = _decidable_terms(selection, region, box, consts)
    fix_overlap = ("move the region's edges out of the box (the constant columns box_*), or fix "
                   "the comparison in its cuts")
    if not terms:
        raise ConfigError(file, line, key,
                          f"region '{region.name}' ({why}) has no cut nutag can compare with the "
                          f"blind box {box.cut} ({', '.join(box.columns)}): whether it reads "
                          "events of the box cannot be decided",
                          "give the region a cut written only as comparisons of "
                          f"{' and '.join(box.columns)} with constants (e.g. its box cut alone, "
                          "without other C++ in the same expression)")
    point = common_point([box.expr, *terms], consts)
    if point is None:
        raise ConfigError(file, line, key,
                          f"region '{region.name}' ({why}): its box terms {terms} cannot be "
                          f"compared with the blind box {box.cut} exactly",
                          "write the region's box cut with fewer distinct constants")
    if isinstance(point, dict):
        at = ", ".join(f"{k} = {v:g}" for k, v in point.items())
        raise ConfigError(file, line, key,
                          f"region '{region.name}' ({why}) overlaps the blind box {box.cut}: "
                          f"at {at} an event passes {terms} and is inside the box; constants: "
                          f"{_constants_text(selection, [box.expr, *terms], consts)}",
                          fix_overlap)


def _constants_text(selection: Selection, exprs: list[str], consts: Mapping[str, float]) -> str:
    """``box_dlkr_sb_lo = 40 (file:line), ...``: the constants the expressions compare with."""
    names = sorted({n for e in exprs for n, _ in expression_names(e) if n in consts})
    return ", ".join(f"{n} = {consts[n]:g} ({selection.columns[n].loc.file}:"
                     f"{selection.columns[n].loc.line})" for n in names) or "none"


def check_blinding(file: str, options: Mapping[str, Any], selection: Selection,
                   signal: Region | None, sidebands: list[tuple[str, Region, int, str]]) -> None:
    """The blinding rules of ``options:``, before any event is read.

    - ``blinded`` may only be ``true``: a config can make a run more blind, never less
      (``nutag run --unblind`` is the one way to open the box, and it is recorded);
    - an analysis with a signal region declares its ``blind_box``, and the signal region
      contains that cut (so the signal region lies inside the box);
    - every side-band (``sidebands``: (key, region, line, why)) is provably outside the box.
    """
    line_of = options.line_of if hasattr(options, "line_of") else (lambda _k: 0)
    if "blinded" in options and options["blinded"] is not True:
        raise ConfigError(file, line_of("blinded"), "options.blinded",
                          f"expected true, got {options['blinded']!r}: a configuration cannot "
                          "unblind the analysis",
                          "write 'blinded: true' or remove the key; open the box only with "
                          "`nutag run --unblind`, which the provenance records")
    box = blind_box_of(selection, options, file)
    if signal is None:
        return
    if box is None:
        raise ConfigError(file, line_of("signal"), "options.blind_box",
                          "the analysis has a signal region but declares no blind box, so its "
                          "data could be read in the box through another region",
                          f"add 'blind_box: <the box cut of regions.{signal.name}>' to options:, "
                          "e.g. blind_box: box_signal")
    if box.cut not in signal.cuts:
        raise ConfigError(signal.loc.file, signal.loc.line, f"regions.{signal.name}",
                          f"the signal region does not contain the blind box cut {box.cut}, so "
                          "it may select events outside the box that a blinded run never reads",
                          f"put {box.cut} first in regions.{signal.name}.cuts")
    for key, region, line, why in sidebands:
        check_outside_box(selection, region, box, file, line, key, why)
