"""Check C++ expressions of the YAML against the columns they may use, before any JIT.

Why a lexical check: cling's errors for a mistyped column arrive late and name an
``input_line_NN``; this scan names the file, line and key, with a did-you-mean. It is not a
C++ parser: what it cannot judge it lets through, and cling has the last word.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigError
from .yamlio import Loc, did_you_mean

if TYPE_CHECKING:
    from .model import Sample, Selection

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
#: ``nutag_corr``: the correctionlib sets declared by nutag.engine.corrections (docs/corrections.md)
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


#: names that run programs, load code or write, rename or delete files. An expression is
#: C++ compiled into the event loop, run once per event: ``std::system("...")`` in a cut runs
#: a shell command millions of times. Matched as identifiers anywhere in the expression
#: (also after ``::``, ``.``, ``->``); ``--allow-unsafe-expressions`` lifts the check.
UNSAFE_NAMES: frozenset[str] = frozenset("""
    system popen _popen pclose execl execle execlp execv execve execvp execvpe fexecve
    fork vfork clone posix_spawn posix_spawnp dlopen asm __asm__ syscall kill
    fopen freopen fdopen open openat creat fwrite fputs fputc fprintf write pwrite
    remove unlink unlinkat rmdir rename renameat truncate ftruncate mkdir symlink link chmod
    chown tmpfile ofstream fstream wofstream wfstream filebuf basic_ofstream basic_fstream
    filesystem TSystem gSystem TUnixSystem gROOT ProcessLine ProcessLineSync ProcessLineFast
    gInterpreter TInterpreter TPython TMacro gApplication GetROOT Exec TFile
""".split())
UNSAFE_FLAG = "--allow-unsafe-expressions"


def unsafe_names(expr: str) -> list[str]:
    """The UNSAFE_NAMES an expression uses, in order (string literals are not looked into)."""
    found: list[str] = []
    for m in _TOKEN.finditer(_STRING_LIT.sub(' "" ', expr)):
        if m.lastgroup == "id" and m.group() in UNSAFE_NAMES and m.group() not in found:
            found.append(m.group())
    return found


def check_safe_expression(expr: str | None, loc: Loc, key: str) -> None:
    """Refuse an expression that can run programs or write files (see UNSAFE_NAMES)."""
    names = unsafe_names(expr or "")
    if names:
        raise ConfigError(loc.file, loc.line, key, f"expression {expr!r} uses "
                          f"{', '.join(repr(n) for n in names)}, which can run programs or "
                          "write files, once per event",
                          "remove it (a column named so must be renamed); if you trust this "
                          f"YAML and mean it, run `nutag run {UNSAFE_FLAG}` "
                          "(docs/yaml-reference.md, 'The YAML is C++ code')")


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


# --------------------------------------------------------------------------- boxes on constants
#: C++ spellings of |x| that a box cut may use (std::abs, TMath::Abs, fabs, abs)
_ABS = {"abs", "fabs", "Abs"}
_NUM_SUFFIX = re.compile(r"[fFlLuU]+\Z")
_PY_OPS = frozenset("<>=()+-*/")


def _number(text: str) -> float | None:
    try:
        return float(_NUM_SUFFIX.sub("", text))
    except ValueError:
        return None


def to_python(expr: str, constants: Mapping[str, float]) -> tuple[Any, list[str]] | None:
    """Compile a simple C++ boolean/arithmetic expression to Python, or None if it is not simple.

    Simple means: comparisons, ``&& || !``, arithmetic, ``abs`` and names. Names in
    ``constants`` become their values; every other name is a free variable (returned, in order).
    Why: the box cuts of the (m_miss2, d_LKr) plane are simple, and evaluating them on their
    constants finds overlapping or empty regions before any event is read.
    """
    toks = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(expr)]
    out: list[str] = []
    variables: list[str] = []
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if kind == "num":
            value = _number(text)
            if value is None:
                return None
            out.append(repr(value))
        elif kind == "id":
            if text in ("std", "TMath") and nxt == "::":
                i += 2
                continue
            if text in _ABS and nxt == "(":
                out.append("abs")
            elif text in ("true", "false"):
                out.append("True" if text == "true" else "False")
            elif text == "M_PI":
                out.append(repr(math.pi))
            elif text in constants:
                out.append(repr(float(constants[text])))
            elif nxt in ("(", "::", ".", "->", "[") or text in CPP_NAMES:
                return None  # a call, member, type or keyword: not a simple expression
            else:
                if text not in variables:
                    variables.append(text)
                out.append(text)
        elif text in ("&&", "||"):
            out.append(" and " if text == "&&" else " or ")
        elif text == "!":
            out.append("!" if nxt == "=" else " not ")
        elif text in _PY_OPS:
            out.append(text)
        else:
            return None  # ?:, [], &, |, ... : leave it to cling
        i += 1
    try:
        return compile("".join(out).strip(), "<cut>", "eval"), variables
    except SyntaxError:
        return None


def constant_columns(columns: Mapping[str, Any]) -> dict[str, float]:
    """Columns whose expression is a number or arithmetic on earlier constants (box edges)."""
    consts: dict[str, float] = {}
    for name, col in columns.items():
        compiled = to_python(col.expr, consts)
        if compiled is None or compiled[1]:
            continue
        try:
            value = eval(compiled[0], {"__builtins__": {"abs": abs}})  # noqa: S307 (no names)
        except Exception:  # noqa: BLE001 - e.g. 1/0: not a constant we can use
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            consts[name] = float(value)
    return consts


def _test_points(values: Iterable[float]) -> list[float]:
    """Every cell of the line cut at ``values`` (and their negatives, for abs): the values,
    the midpoints and one point beyond each end."""
    crit = sorted({0.0} | {v for x in values for v in (x, -x)})
    pts = list(crit) + [(a + b) / 2 for a, b in zip(crit, crit[1:])]
    pts += [crit[0] - 1.0 - abs(crit[0]), crit[-1] + 1.0 + abs(crit[-1])]
    return sorted(set(pts))


def common_point(exprs: Iterable[str], constants: Mapping[str, float],
                 max_points: int = 200_000) -> dict[str, float] | None | bool:
    """A point where every expression is true, False if there is none, None if undecidable.

    The expressions are evaluated on a grid made of the constants they compare with: between
    two consecutive constants nothing changes, so the grid visits every cell of the plane.
    """
    compiled = [to_python(e, constants) for e in exprs]
    if any(c is None for c in compiled):
        return None
    variables = sorted({v for c in compiled for v in c[1]})
    numbers = [v for e in exprs for m in _TOKEN.finditer(e)
               if m.lastgroup == "num" and (v := _number(m.group())) is not None]
    used = [constants[n] for e in exprs for n, _ in expression_names(e) if n in constants]
    pts = _test_points(numbers + used)
    if len(pts) ** len(variables) > max_points:
        return None
    env: dict[str, Any] = {"__builtins__": {"abs": abs}}
    for combo in itertools.product(pts, repeat=len(variables)):
        point = dict(zip(variables, combo))
        try:
            if all(eval(c[0], env, point) for c in compiled):  # noqa: S307 (names checked)
                return point
        except (ArithmeticError, TypeError):
            continue
    return False


#: how an exception thrown inside a YAML expression during the event loop starts its message
#: (nutag.engine.run recognises it and names the expression instead of the input files)
EXPRESSION_ERROR = "nutag expression error: "


def guard_catch(where: str) -> str:
    """The C++ handler closing ``try { <expression> }``: an exception thrown by the expression
    (``lkr_e.at(3)`` on a shorter vector, a helper's range check) is rethrown with the YAML
    file, line and key in front of its message, so the error after the loop names the
    expression instead of a frame inside ROOT."""
    text = '"' + (EXPRESSION_ERROR + where + ": ").replace("\\", "\\\\").replace('"', '\\"') + '"'
    return ("} catch (const std::exception& nutag_e_) { "
            f"throw std::runtime_error(std::string({text}) + nutag_e_.what()); }}")


def guarded_jit_expression(expr: str, where: str) -> str:
    """A jitted column or cut expression whose exceptions name ``where`` (:func:`guard_catch`).

    Written as a ``return`` of an immediately called lambda: RDataFrame then takes the string
    as a function body as it is, and the lambda sees the same column names."""
    body = expr if re.search(r"\breturn\b", expr) else f"return {expr};"
    return f"return [&]() {{ try {{ {body} {guard_catch(where)} }}();"
