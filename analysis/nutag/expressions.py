"""Check C++ expressions of the YAML against the columns they may use, before any JIT.

Why a lexical check: cling's errors for a mistyped column arrive late and name an
``input_line_NN``; this scan names the file, line and key, with a did-you-mean. It is not a
C++ parser: what it cannot judge it lets through, and cling has the last word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .errors import ConfigError
from .yamlio import Loc, did_you_mean

if TYPE_CHECKING:  # the dataclasses live in nutag.config, which imports this module
    from .config import Sample, Selection

# Names an expression may use besides columns: C++ keywords and types, the RVec helpers and
# math functions RDataFrame brings into scope, and the entry/slot columns.
CPP_NAMES: frozenset[str] = frozenset("""
    true false and or not xor bitand bitor compl not_eq and_eq or_eq auto const constexpr
    return if else for while do switch case default break continue sizeof new delete nullptr
    this static_cast const_cast reinterpret_cast dynamic_cast decltype mutable
    bool char short int long float double unsigned signed void size_t
    int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t
    Bool_t Char_t Short_t Int_t Long_t Long64_t UInt_t ULong_t ULong64_t Float_t Double_t
    RVec RVecD RVecF RVecI RVecB RVecL RVecU RVecC
    Sum Max Min ArgMax ArgMin Any All Nonzero Take Where Mean StdDev Var Sort Argsort
    StableArgsort Reverse Map Filter Concatenate Intersect Combinations DeltaR DeltaR2 DeltaPhi
    InvariantMass InvariantMasses Construct Dot Drop Enumerate Range Head Tail IsInIndices
    Product Accumulate Stack
    abs fabs sqrt cbrt pow exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan atan2
    sinh cosh tanh asinh acosh atanh hypot floor ceil round trunc fmod min max fmin fmax
    isnan isinf isfinite erf erfc tgamma lgamma copysign signbit
    M_PI M_E NAN INFINITY
    rdfentry_ rdfslot_
    TVector2 TVector3 TLorentzVector
""".split())
#: ``nutag_corr``: the correctionlib sets declared by nutag.corrections (docs/corrections.md)
NAMESPACES: frozenset[str] = frozenset({"nutag", "nutag_corr", "ROOT", "std", "TMath"})
_OPERATOR_WORDS = frozenset("and or not xor bitand bitor compl not_eq and_eq or_eq return "
                            "else case new delete sizeof".split())
_TYPE_WORDS = frozenset("auto bool char short int long float double unsigned signed size_t "
                        "const RVecD RVecF RVecI RVecB".split())
_STRING_LIT = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_TOKEN = re.compile(r"(?P<num>\.?\d[\w.]*)|(?P<id>[A-Za-z_]\w*)|(?P<op>::|->|&&|\|\||[^\s\w])")


def expression_names(expr: str) -> list[tuple[str, str]]:
    """Free names an expression uses, as (name, "name"|"namespace").

    A lexical scan, not a C++ parser: member names (after ``.``/``->``), qualified tails
    (after ``::``), literals and names the expression declares itself (``auto v = ...``,
    lambda parameters) are skipped; what is left must be a column or a known C++ name.
    """
    toks = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(_STRING_LIT.sub(' "" ', expr))]
    local: set[str] = set()
    out: list[tuple[str, str]] = []
    for i, (kind, text) in enumerate(toks):
        if kind != "id":
            continue
        prev = toks[i - 1] if i > 0 else ("", "")
        prev2 = toks[i - 2] if i > 1 else ("", "")
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if prev[1] in ("::", ".", "->"):
            continue
        if nxt == "::":
            out.append((text, "namespace"))
            continue
        declared = (prev[0] == "id" and prev[1] not in _OPERATOR_WORDS) or (
            prev[1] in ("&", "*", "&&") and prev2[1] in _TYPE_WORDS)
        if declared:
            local.add(text)
        elif text not in local:
            out.append((text, "name"))
    return out


def _check_expr(expr: str, known: set[str], allowed: frozenset[str], loc: Loc, key: str,
                context: str, hints: Mapping[str, str]) -> None:
    for name, role in expression_names(expr):
        if role == "namespace":
            if name not in NAMESPACES:
                raise ConfigError(loc.file, loc.line, key, f"unknown namespace '{name}::' in "
                                  f"expression {expr!r}", did_you_mean(name, NAMESPACES))
        elif name not in known and name not in allowed:
            hint = hints.get(name) or did_you_mean(name, known)
            raise ConfigError(loc.file, loc.line, key, f"unknown column '{name}' in expression "
                              f"{expr!r} ({context})", hint)


def check_expressions(sample: Sample, selection: Selection, input_columns: Iterable[str], *,
                      extra_columns: Mapping[str, str] | None = None,
                      allowed: Iterable[str] = ()) -> None:
    """Check every expression that applies to ``sample`` against its columns, before JIT.

    Columns are checked in order (a column may only use the ones above it); cuts, histogram
    axes and weights against all columns defined for the sample's kind.
    """
    inputs = {str(c) for c in input_columns}
    allow = CPP_NAMES | frozenset(allowed)
    context = f"sample '{sample.name}', kind {sample.kind}"
    cols = selection.columns
    hints: dict[str, str] = {}
    for c in cols.values():
        if sample.kind not in c.kinds:
            hints[c.name] = (f"column '{c.name}' is defined only for kinds {list(c.kinds)} "
                             f"({c.loc.file}:{c.loc.line}); add '{sample.kind}' to its kinds or "
                             "restrict what uses it")
    _check_expr(sample.weight, inputs, allow, sample.where("weight"),
                f"samples.{sample.name}.weight", context, {})
    known = set(inputs) | set(extra_columns or {})
    for c in cols.values():
        if sample.kind not in c.kinds:
            continue
        if c.name in known:
            raise ConfigError(c.loc.file, c.loc.line, f"columns.{c.name}", f"column '{c.name}' "
                              f"already exists in the input ({context})", "choose another name")
        later = {n: f"column '{n}' is defined below ({d.loc.file}:{d.loc.line}); move it above "
                 f"'{c.name}'" for n, d in cols.items() if n not in known}
        _check_expr(c.expr, known, allow, c.loc, f"columns.{c.name}", context, {**later, **hints})
        known.add(c.name)
    for cut in selection.cuts.values():
        if sample.kind in cut.kinds:
            _check_expr(cut.expr, known, allow, cut.loc, f"cuts.{cut.name}", context, hints)
    for region in selection.regions.values():
        if not region.applies_to(sample.name):
            continue
        for cut in region.cuts:
            if sample.kind not in selection.cuts[cut].kinds:
                raise ConfigError(region.loc.file, region.loc.line, f"regions.{region.name}",
                                  f"cut '{cut}' is not defined for {context}",
                                  "restrict the region with 'samples:' or widen the cut's kinds")
    for h in selection.histograms.values():
        if sample.kind not in h.kinds:
            continue
        for axis in ("x", "y", "weight"):
            name = getattr(h, axis)
            if name is not None and name not in known:
                raise ConfigError(h.loc.file, h.loc.line, f"histograms.{h.name}.{axis}",
                                  f"unknown column '{name}' ({context})",
                                  hints.get(name) or did_you_mean(name, known))
