"""The YAML schema as data: allowed keys, types, defaults, and the generated reference.

Why data and not code: the same table validates every block (:func:`check_fields`) and writes
docs/yaml-reference.md (:func:`yaml_reference`), so the documentation cannot drift.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from ..core.errors import ConfigError
from .expressions import NAMESPACES, UNSAFE_FLAG, UNSAFE_NAMES
from .yamlio import EXPANSION_RATIO, MAX_EXPANDED_NODES, LineList, did_you_mean

IDENT = re.compile(r"[A-Za-z_]\w*\Z")


KINDS: tuple[str, ...] = ("data", "mc")


@dataclass(frozen=True)
class Field:
    """One allowed key of a YAML block: its types, whether required, default, and meaning."""

    types: tuple[type, ...]
    doc: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] | None = None

    def type_name(self) -> str:
        names = {str: "string", int: "integer", float: "number", bool: "true|false",
                 list: "list", dict: "mapping"}
        return " or ".join(names.get(t, t.__name__) for t in self.types)


_S, _L, _D = (str,), (list,), (dict,)
SCHEMA: dict[str, dict[str, Field]] = {
    "analysis": {
        "name": Field(_S, "name of the analysis, copied into every output", required=True),
        "samples": Field(_S, "path of the sample file, relative to this file", required=True),
        "selections": Field(_S + _L, "selection files merged in order (names unique across them)",
                            required=True),
        "corrections": Field(_L, "correctionlib JSON files (relative to this file), declared to "
                             "C++ as `nutag_corr::<file stem>::<correction>(...)` before any "
                             "expression is compiled (docs/corrections.md)", default=[]),
        "systematics": Field(_S + _L, "systematic sources, each one RDataFrame Vary in the same "
                             "event loop: the path of a YAML file holding a 'systematics:' list "
                             "(relative to this file) or the list itself "
                             "(docs/corrections.md#systematic-variations)", default=[]),
        "options": Field(_D, "free mapping read by later stages (e.g. luminosity, seeds)",
                         default={}),
        "doc": Field(_S, "free text", default=""),
    },
    "samples file": {
        "samples": Field(_D, "mapping sample name -> sample block", required=True),
    },
    "sample": {
        "kind": Field(_S, "data or mc; decides blinding and whether 'weight' applies",
                      required=True, choices=KINDS),
        "files": Field(_S + _L, "paths or globs, relative to the sample file; a glob must "
                       "match at least one file", required=True),
        "tree": Field(_S, "TTree or RNTuple name in every file", default="nutag"),
        "weight": Field(_S, "C++ event-weight expression over input columns (mc only)",
                        default="1.0"),
        "meta": Field(_D, "free mapping for normalisation (n_generated, downscaling, ...)",
                      default={}),
        "doc": Field(_S, "free text", default=""),
    },
    "selection file": {
        "columns": Field(_D, "ordered name -> C++ expression (or column block); a column may "
                         "use input columns and the columns above it", default={}),
        "cuts": Field(_D, "name -> C++ boolean expression (or cut block)", default={}),
        "regions": Field(_D, "name -> region block", default={}),
        "histograms": Field(_D, "name -> histogram block", default={}),
    },
    "column": {
        "expr": Field(_S, "C++ expression", required=True),
        "doc": Field(_S, "meaning of the column", default=""),
        "unit": Field(_S, "unit, e.g. GeV or mm", default=""),
        "kinds": Field(_S + _L, "sample kinds the column is defined for (data, mc)",
                       default=list(KINDS)),
    },
    "cut": {
        "expr": Field(_S, "C++ boolean expression", required=True),
        "doc": Field(_S, "meaning of the cut", default=""),
        "kinds": Field(_S + _L, "sample kinds the cut can be used for (data, mc)",
                       default=list(KINDS)),
    },
    "region": {
        "cuts": Field(_L, "cut names applied in order (either this or based_on)"),
        "based_on": Field(_S, "region this one relaxes; the list of cuts starts from its cuts"),
        "drop": Field(_L, "with based_on: cut names removed from the base list", default=[]),
        "replace": Field(_D, "with based_on: {cut: other cut} swapped in place", default={}),
        "add": Field(_L, "with based_on: cut names appended at the end", default=[]),
        "samples": Field(_L, "restrict the region to these samples (default: all)"),
        "blind": Field((bool,), "if true, data samples are not read in this region while the "
                       "analysis is blinded (inherited from based_on when not given)"),
        "doc": Field(_S, "free text", default=""),
    },
    "histogram": {
        "x": Field(_S, "column filled on the x axis (RVec columns fill every element)",
                   required=True),
        "bins": Field(_L + _D, "[n, lo, hi] for uniform bins (n from 1 to 1,000,000), a list of "
                      ">= 2 edges (not of the form [int, lo, hi]) or {edges: [...]}",
                      required=True),
        "title": Field(_S, "ROOT title, 'title;x label;y label'", default=""),
        "regions": Field(_S + _L, "region names, or 'all'", default="all"),
        "y": Field(_S, "column on the y axis: makes a TH2D"),
        "ybins": Field(_L + _D, "binning of y, required with y (same forms as bins)"),
        "weight": Field(_S, "column multiplied with the sample weight"),
        "kinds": Field(_S + _L, "sample kinds the histogram is booked for (data, mc)",
                       default=list(KINDS)),
        "doc": Field(_S, "free text", default=""),
    },
}


def _type_ok(value: Any, spec: Field) -> bool:
    for typ in spec.types:
        if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if typ is int and isinstance(value, bool):
            continue
        if isinstance(value, typ):
            return True
    return False


def check_fields(file: str, node: Any, block: str, key: str, line: int) -> dict[str, Any]:
    """Check a mapping against SCHEMA[block]; return it with defaults filled in."""
    spec = SCHEMA[block]
    if not isinstance(node, dict):
        raise ConfigError(file, getattr(node, "line", line), key,
                          f"expected a mapping for {block}, got {type(node).__name__}",
                          f"write it as '{key.split('.')[-1]}: {{{', '.join(spec)}}}'")
    for k in node:
        if k not in spec:
            raise ConfigError(file, node.line_of(k), f"{key}.{k}" if key else str(k),
                              f"unknown key in {block}", did_you_mean(k, spec))
    out: dict[str, Any] = {}
    for name, fld in spec.items():
        sub = f"{key}.{name}" if key else name
        if name not in node or (node[name] is None and not fld.required):  # 'columns:' empty
            if fld.required:
                raise ConfigError(file, node.line, sub, f"missing required key in {block}",
                                  f"add '{name}:' ({fld.doc})")
            out[name] = fld.default
            continue
        value = node[name]
        if not _type_ok(value, fld):
            raise ConfigError(file, node.line_of(name), sub,
                              f"expected {fld.type_name()}, got {type(value).__name__}",
                              f"{fld.doc}")
        if fld.choices and value not in fld.choices:
            raise ConfigError(file, node.line_of(name), sub, f"invalid value {value!r}",
                              did_you_mean(str(value), fld.choices))
        out[name] = value
    return out


def _check_name(file: str, line: int, key: str, name: Any) -> str:
    if not isinstance(name, str) or not IDENT.match(name) or name.startswith("_"):
        raise ConfigError(file, line, key, f"invalid name {name!r}",
                          "use a C++ identifier (letters, digits, '_') not starting with '_'")
    return name


def _str_list(file: str, node: Any, key: str, line: int) -> LineList:
    if isinstance(node, str):
        lst = LineList([node])
        lst.line, lst.item_lines = line, [line]
        node = lst
    if not isinstance(node, list) or not all(isinstance(x, str) for x in node):
        raise ConfigError(file, getattr(node, "line", line), key, "expected a list of strings",
                          f"write '{key.split('.')[-1]}: [a, b]'")
    return node


def _kinds(file: str, node: Any, key: str, line: int) -> tuple[str, ...]:
    if node is None:
        return KINDS
    items = _str_list(file, node, key, line)
    for i, k in enumerate(items):
        if k not in KINDS:
            raise ConfigError(file, items.line_of(i), f"{key}[{i}]", f"unknown kind {k!r}",
                              did_you_mean(k, KINDS))
    return tuple(items)


# --------------------------------------------------------------------------- reference docs
_BLOCKS = [
    ("analysis", "Analysis file (configs/*.yaml)", "The top level: what to read and which "
     "selections to apply. Paths are relative to this file."),
    ("samples file", "Sample file (samples/*.yaml)", "Top level of a sample file."),
    ("sample", "Sample block (`samples.<name>`)", "One dataset read as one RDataFrame."),
    ("selection file", "Selection file (selections/*.yaml)", "Several files may be merged in "
     "order; names must be unique across them."),
    ("column", "Column block (`columns.<name>`)", "A bare string is the same as `{expr: ...}`."),
    ("cut", "Cut block (`cuts.<name>`)", "A bare string is the same as `{expr: ...}`."),
    ("region", "Region block (`regions.<name>`)", "Either an explicit `cuts` list or a relaxed "
     "variant of another region (`based_on` with `drop`, `replace`, `add`, applied in that "
     "order). `samples` and `blind` are inherited from `based_on` unless given. A blind "
     "region is not booked at all for data samples while the analysis is blinded."),
    ("histogram", "Histogram block (`histograms.<name>`)", "Booked in every listed region that "
     "applies to a sample, weighted by the sample weight (times `weight`)."),
]


def yaml_reference() -> str:
    """Markdown reference of every YAML block, generated from SCHEMA (docs/yaml-reference.md)."""
    lines = ["# nutag YAML reference", "",
             "Generated from `nutag.config.analysis.SCHEMA` by `nutag.config.analysis.yaml_reference()`; "
             "do not edit by hand.", "",
             "Every file is validated before any event is read: errors name the file, the line "
             "and the key. Expressions are C++ (RDataFrame); the names they use must be input "
             "columns, columns defined above them, or C++/RVec names "
             f"(namespaces: {', '.join(sorted(NAMESPACES))}).", ""]
    for block, title, intro in _BLOCKS:
        lines += [f"## {title}", "", intro, "", "| key | type | required | default | meaning |",
                  "|---|---|---|---|---|"]
        for key, fld in SCHEMA[block].items():
            default = ("" if fld.required or fld.default is None
                       else f"`{json.dumps(fld.default)}`")
            choices = f" One of: {', '.join(fld.choices)}." if fld.choices else ""
            lines.append(f"| `{key}` | {fld.type_name()} | {'yes' if fld.required else 'no'} "
                         f"| {default} | {fld.doc}.{choices} |")
        lines.append("")
    lines += _CHECKS + _CPP_CODE
    return "\n".join(lines)


#: what is checked beyond the key table (nutag.config.checks, nutag.config.analysis); part of the generated page
_CHECKS = [
    "## Checks beyond the keys", "",
    "Run before any event is read (`nutag run` fails with `file:line: key: message. Fix: ...`):",
    "",
    "| check | rule |", "|---|---|",
    "| region without cuts | a region must have at least one cut (`cuts: []`, or `based_on` "
    "dropping every cut, is an error); to select the whole plane on purpose use a cut whose "
    "expr is `\"true\"` |",
    "| identical regions | two regions with the same set of cuts on the same samples are an "
    "error (and a blinding leak when only one is blind) |",
    "| box constants | a column whose expr is a number (or arithmetic on such columns) is a "
    "*box constant*; a cut using one is a *box cut* |",
    "| blind box | `options.blind_box` names the cut that defines the blind box (e.g. "
    "`box_signal`); it must compare selection columns (the *box columns*) with constants only. "
    "An analysis with `options.signal.region` must declare it, and the signal region must "
    "contain that cut. While blinded, data events inside the box are removed where the data are "
    "read (docs/method.md, Blinding) |",
    "| blinding | `options.blinded` may only be `true`: a configuration cannot unblind; "
    "`nutag run --unblind` is the only way |",
    "| side-bands outside the box | each background's `sideband_region` must provably select "
    "no point of the blind box, decided on the box columns alone from the region's terms that "
    "compare them with constants; a side-band that cannot be decided is an error |",
    "| overlapping boxes | the box cuts of each background's "
    "`extrapolation.numerator_region` and `denominator_region` must not both pass anywhere in "
    "the plane; they are evaluated on every cell of the grid the constants cut the plane into |",
    "| empty boxes | the box cuts of those regions must admit at least one point (each lower "
    "edge below its upper edge) |",
    "| blind signal region | `options.signal.region` must be `blind: true` |",
    "| names in options | every region and sample named under `options:` must exist "
    "(did-you-mean) |",
    "| units | numbers carry no unit: `expr: \"60 mm\"` is an error (write `expr: \"60\", "
    "unit: mm`); a box constant's `unit` must match the unit of the column it is compared with "
    "(`GeV^2/c^4` = `GeV^2`; nutag never converts); sample `meta.n_generated`, "
    "`meta.control_downscaling`, `meta.n_kaon_decays` are plain positive numbers; fixed "
    "systematics in `options` are fractions in [0, 1) (`0.10`, not `10 %`) |",
    "| input files | every local file opens as a complete ROOT file (a truncated file that ROOT "
    "had to recover is refused) and holds the tree or RNTuple; a data sample (or an MC sample "
    "without `meta.n_generated`) with no entry is an error |",
    "| C++ | a column or cut that cling cannot compile is reported against its YAML line, "
    "with cling's diagnostic |",
    "| files listed once | a sample must not list the same file twice (compared by real path: "
    "`./a.root`, a symlink or a glob matching it count), its events would be counted twice |",
    "| histogram bins | `[n, lo, hi]`: an integer first is the bin count, a whole number from 1 "
    "to 1,000,000 (`[-5, 0, 5]` is an error: write edges as `{edges: [-5, 0, 5]}`; `1e3` is "
    "read as 1000 when the three numbers are not increasing edges), `lo < hi`, both finite, "
    "bins wider than the floating-point resolution; edges: finite, strictly increasing, at "
    "most 1,000,000 bins; a 2D histogram at most 10,000,000 bins (nx x ny): each region, "
    "sample and thread holds its own copy |",
    "| finite meta numbers | sample `meta.n_generated`, `meta.control_downscaling`, "
    "`meta.n_kaon_decays` must be finite (`.nan` and `.inf` are errors) |",
    "| YAML anchors | anchors, aliases and merge keys work (`<<: *name`, `<<: [*a, *b]`): a key "
    "written beside a merge overrides it, and the first of several merged mappings wins; a key "
    "written twice in one mapping is an error; aliases may expand a file to at most "
    f"{MAX_EXPANDED_NODES:,} nodes or {EXPANSION_RATIO} times the nodes written, whichever is "
    "larger (an alias bomb is refused), and an alias may not name what contains it |",
    ""]

#: the section on what an expression may do; part of the generated page
_CPP_CODE = [
    "## The YAML is C++ code", "",
    "Every `expr` of a column or cut, a sample's `weight` and the `inputs`, `over` and `when` of "
    "a systematic source is C++ compiled into the event loop and run once per event, with your "
    "permissions. Run only YAML you trust, as you would run a script.", "",
    "As a guard against accidents and obvious abuse, nutag refuses before the event loop any of "
    "these expressions that uses one of the following names anywhere (as an identifier, also "
    "after `std::`, `.` or `->`; not inside string literals), because they run programs, load "
    "code, or write, rename or delete files:", "",
    ", ".join(f"`{n}`" for n in sorted(UNSAFE_NAMES, key=str.lower)), "",
    "A column named like one of them must be renamed. For YAML you trust that needs one of "
    f"them, `nutag run {UNSAFE_FLAG}` lifts the check. The check is not a sandbox: C++ has "
    "other ways to do the same.", ""]


def write_yaml_reference(path: str | os.PathLike) -> None:
    """Regenerate docs/yaml-reference.md."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(yaml_reference())
