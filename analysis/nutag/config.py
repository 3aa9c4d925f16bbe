"""Load and validate the analysis YAML (samples, selections, analysis) before any event is read.

Why this module is strict: a typo in a cut name or a column found after an hour-long event
loop wastes the hour; found here it costs a second. Every error is a :class:`ConfigError`
naming the file, the line and the key, with a did-you-mean where a name was mistyped.
The schema below is data, so the same table drives validation and docs/yaml-reference.md.
"""

from __future__ import annotations

import difflib
import glob
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import ConfigError

log = logging.getLogger("nutag.config")

IDENT = re.compile(r"[A-Za-z_]\w*\Z")


# --------------------------------------------------------------------------- schema (as data)
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
        "corrections": Field(_L, "correctionlib JSON files, passed through to later stages",
                             default=[]),
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
        "bins": Field(_L + _D, "[n, lo, hi] for uniform bins, a list of >= 2 edges (not of the "
                      "form [int, lo, hi]) or {edges: [...]}", required=True),
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


# --------------------------------------------------------------------------- YAML with lines
class LineDict(dict):
    """A YAML mapping that remembers its own line and the line of every key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A YAML sequence that remembers its own line and the line of every item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that builds LineDict/LineList and refuses duplicate keys."""

    nutag_file = "<yaml>"


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line, out.key_lines = node.start_mark.line + 1, {}
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=True)
        kline = knode.start_mark.line + 1
        if key in out:
            raise ConfigError(loader.nutag_file, kline, str(key),
                              f"duplicate key (first at line {out.key_lines[key]})",
                              "remove or rename one of them; YAML would silently keep the last")
        out[key] = loader.construct_object(vnode, deep=True)
        out.key_lines[key] = kline
    return out


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: str | os.PathLike) -> Any:
    """Parse one YAML file into LineDict/LineList; syntax errors become ConfigError with line."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(path, 0, "(file)", f"cannot read the file: {exc.strerror}",
                          "check the path; relative paths are relative to the including YAML")
    loader = _LineLoader(text)
    loader.nutag_file = path
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        message = str(exc.problem or exc.context)
        if exc.context and exc.context_mark is not None:
            message += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        raise ConfigError(path, line, "(yaml syntax)", message,
                          "check indentation, quoting, brackets and ':' around this line")
    finally:
        loader.dispose()


# --------------------------------------------------------------------------- generic checks
def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return "did you mean 'x'?" for the closest choice, or list what is allowed."""
    choices = sorted({str(c) for c in choices})
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"use one of: {shown}" if choices else "nothing is defined under this name"


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


# --------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class Loc:
    """Where something was written: file and 1-based line."""

    file: str
    line: int


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


@dataclass(frozen=True)
class Binning:
    """Uniform (n, lo, hi) or variable (edges) binning of one axis."""

    n: int
    lo: float
    hi: float
    edges: tuple[float, ...] | None = None


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


# --------------------------------------------------------------------------- loaders
def _resolve_path(base_file: str, path: str) -> str:
    if "://" in path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(base_file)), path))


def _expand_files(file: str, node: Any, key: str, line: int) -> list[str]:
    patterns = _str_list(file, node, key, line)
    out: list[str] = []
    for i, pat in enumerate(patterns):
        path, where = _resolve_path(file, pat), patterns.line_of(i)
        if "://" in path:
            out.append(path)
        elif glob.has_magic(path):
            matched = sorted(glob.glob(path))
            if not matched:
                raise ConfigError(file, where, f"{key}[{i}]", f"no file matches {path!r}",
                                  "check the pattern; it is relative to the sample YAML")
            out.extend(matched)
        elif not os.path.isfile(path):
            raise ConfigError(file, where, f"{key}[{i}]", f"input file {path!r} does not exist",
                              "check the path (relative to the sample YAML) or produce the file")
        else:
            out.append(path)
    return out


def load_samples(path: str | os.PathLike, *, check_files: bool = True) -> dict[str, Sample]:
    """Load a sample file; expand globs relative to it; check the files exist."""
    file = os.fspath(path)
    top = check_fields(file, load_yaml(file), "samples file", "", 1)
    raw = top["samples"]
    out: dict[str, Sample] = {}
    for name, node in raw.items():
        key = f"samples.{name}"
        _check_name(file, raw.line_of(name), key, name)
        vals = check_fields(file, node, "sample", key, raw.line_of(name))
        if vals["kind"] == "data" and "weight" in node:
            raise ConfigError(file, node.line_of("weight"), f"{key}.weight",
                              "a data sample cannot have a weight", "remove 'weight:' or use kind: mc")
        files = (_expand_files(file, node["files"], f"{key}.files", node.line_of("files"))
                 if check_files else list(_str_list(file, node["files"], key, node.line)))
        weight = vals["weight"] if vals["kind"] == "mc" else "1.0"
        out[name] = Sample(name, vals["kind"], files, vals["tree"], str(weight),
                           dict(vals["meta"] or {}), vals["doc"], Loc(file, node.line),
                           {k: Loc(file, node.line_of(k)) for k in node})
    return out


def load_analysis(path: str | os.PathLike, *, check_inputs: bool = True,
                  allowed: Iterable[str] = ()) -> Analysis:
    """Load the top-level analysis YAML and everything it names, and validate it all.

    With ``check_inputs`` the first file of every sample is opened (schema only, no events)
    and every expression is checked against its columns: the whole configuration is known
    good before :func:`nutag.graph.build_graph` JITs anything.
    """
    file = os.fspath(path)
    node = load_yaml(file)
    vals = check_fields(file, node, "analysis", "", 1)
    samples_file = _resolve_path(file, vals["samples"])
    if not os.path.isfile(samples_file):
        raise ConfigError(file, node.line_of("samples"), "samples",
                          f"sample file {samples_file!r} does not exist", "fix the path")
    samples = load_samples(samples_file, check_files=check_inputs)
    sel_list = _str_list(file, vals["selections"], "selections", node.line_of("selections"))
    sel_files = []
    for i, p in enumerate(sel_list):
        full = _resolve_path(file, p)
        if not os.path.isfile(full):
            raise ConfigError(file, sel_list.line_of(i), f"selections[{i}]",
                              f"selection file {full!r} does not exist", "fix the path")
        sel_files.append(full)
    selection = load_selection(sel_files)
    validate_region_samples(selection, samples)
    corr = [_resolve_path(file, p) for p in _str_list(file, vals["corrections"] or [],
                                                       "corrections", node.line)]
    analysis = Analysis(vals["name"], file, samples_file, samples, selection, corr,
                        dict(vals["options"] or {}), vals["doc"])
    if check_inputs:
        validate_inputs(analysis, allowed=allowed)
    return analysis


def validate_region_samples(selection: Selection, samples: Mapping[str, Sample]) -> None:
    """Regions restricted to samples must name existing samples."""
    for region in selection.regions.values():
        for name in region.samples or ():
            if name not in samples:
                raise ConfigError(region.loc.file, region.loc.line,
                                  f"regions.{region.name}.samples", f"unknown sample {name!r}",
                                  did_you_mean(name, samples))


def validate_inputs(analysis: Analysis, *, allowed: Iterable[str] = ()) -> dict[str, list[str]]:
    """Open each sample's first file (schema only) and check every expression against it."""
    schemas: dict[str, list[str]] = {}
    for sample in analysis.samples.values():
        schemas[sample.name] = read_input_columns(sample)
        check_expressions(sample, analysis.selection, schemas[sample.name], allowed=allowed)
    log.info("validated %d samples against %s", len(schemas), analysis.file)
    return schemas


# --------------------------------------------------------------------------- selections
def _entry(file: str, raw: LineDict, name: str, block: str, section: str) -> dict[str, Any]:
    """A column/cut given either as a bare expression string or as a block."""
    node, line = raw[name], raw.line_of(name)
    _check_name(file, line, f"{section}.{name}", name)
    if isinstance(node, str):
        vals = {k: f.default for k, f in SCHEMA[block].items()}
        vals["expr"] = node
    else:
        vals = check_fields(file, node, block, f"{section}.{name}", line)
    kinds_line = node.line_of("kinds") if isinstance(node, LineDict) else line
    vals["kinds"] = _kinds(file, vals["kinds"], f"{section}.{name}.kinds", kinds_line)
    return vals


def _binning(file: str, node: Any, key: str, line: int) -> Binning:
    """[n, lo, hi] is uniform; any other list (or {edges: [...]}) is the list of bin edges."""
    if isinstance(node, dict):
        if set(node) != {"edges"}:
            raise ConfigError(file, line, key, "a binning mapping takes only 'edges'",
                              "write 'bins: {edges: [0, 1, 5]}' or 'bins: [n, lo, hi]'")
        node = node["edges"]
    nums = isinstance(node, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in node)
    if not nums or len(node) < 2:
        raise ConfigError(file, line, key, f"invalid binning {node!r}",
                          "write [n, lo, hi] (uniform) or a list of at least 2 increasing edges")
    if len(node) == 3 and isinstance(node[0], int) and node[0] > 0 and node[1] < node[2]:
        return Binning(int(node[0]), float(node[1]), float(node[2]))
    edges = tuple(float(v) for v in node)
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise ConfigError(file, line, key, f"bin edges {list(node)} are not strictly increasing",
                          "sort the edges, or use [n, lo, hi] with integer n > 0 and lo < hi")
    return Binning(len(edges) - 1, edges[0], edges[-1], edges)


def _resolve_region(name: str, raw: dict[str, tuple[str, LineDict, int]],
                    cuts: Mapping[str, Cut], done: dict[str, Region], stack: tuple[str, ...]
                    ) -> Region:
    if name in done:
        return done[name]
    file, node, line = raw[name]
    key = f"regions.{name}"
    vals = check_fields(file, node, "region", key, line)
    base: Region | None = None
    if ("cuts" in node) == ("based_on" in node):
        raise ConfigError(file, node.line, key, "a region needs exactly one of 'cuts' or 'based_on'",
                          "list its cuts, or relax another region with based_on/drop/replace/add")
    if "cuts" in node:
        for extra in ("drop", "replace", "add"):
            if extra in node:
                raise ConfigError(file, node.line_of(extra), f"{key}.{extra}",
                                  f"'{extra}' only makes sense with 'based_on'",
                                  "edit the 'cuts' list directly, or use based_on")
        listed = _str_list(file, node["cuts"], f"{key}.cuts", node.line_of("cuts"))
        order = []
        for i, cut in enumerate(listed):
            if cut not in cuts:
                raise ConfigError(file, listed.line_of(i), f"{key}.cuts[{i}]",
                                  f"unknown cut {cut!r}", did_you_mean(cut, cuts))
            if cut in order:
                raise ConfigError(file, listed.line_of(i), f"{key}.cuts[{i}]",
                                  f"cut {cut!r} is listed twice", "remove the duplicate")
            order.append(cut)
    else:
        parent = vals["based_on"]
        if parent not in raw:
            raise ConfigError(file, node.line_of("based_on"), f"{key}.based_on",
                              f"unknown region {parent!r}", did_you_mean(parent, raw))
        if parent in stack or parent == name:
            raise ConfigError(file, node.line_of("based_on"), f"{key}.based_on",
                              f"circular based_on: {' -> '.join(stack + (name, parent))}",
                              "base one of these regions on an explicit 'cuts' list")
        base = _resolve_region(parent, raw, cuts, done, stack + (name,))
        order = list(base.cuts)
        drop = _str_list(file, vals["drop"], f"{key}.drop", node.line_of("drop"))
        for i, cut in enumerate(drop):
            if cut not in order:
                raise ConfigError(file, drop.line_of(i), f"{key}.drop[{i}]",
                                  f"cut {cut!r} is not in region {parent!r}", did_you_mean(cut, order))
            order.remove(cut)
        replace = vals["replace"]
        for old, new in replace.items():
            where = replace.line_of(old) if isinstance(replace, LineDict) else node.line
            if old not in order:
                raise ConfigError(file, where, f"{key}.replace.{old}",
                                  f"cut {old!r} is not in region {parent!r}", did_you_mean(old, order))
            if new not in cuts:
                raise ConfigError(file, where, f"{key}.replace.{old}", f"unknown cut {new!r}",
                                  did_you_mean(str(new), cuts))
            order[order.index(old)] = new
        add = _str_list(file, vals["add"], f"{key}.add", node.line_of("add"))
        for i, cut in enumerate(add):
            if cut not in cuts or cut in order:
                raise ConfigError(file, add.line_of(i), f"{key}.add[{i}]",
                                  f"cut {cut!r} is unknown or already in the region",
                                  did_you_mean(cut, cuts) if cut not in cuts else "remove it")
            order.append(cut)
    samples = vals["samples"]
    if samples is not None:
        samples = tuple(_str_list(file, samples, f"{key}.samples", node.line_of("samples")))
    elif base is not None:
        samples = base.samples
    blind = vals["blind"] if vals["blind"] is not None else (base.blind if base else False)
    region = Region(name, tuple(order), samples, bool(blind), vals["doc"], Loc(file, line),
                    base.name if base else None)
    done[name] = region
    return region


def _histogram(file: str, name: str, node: Any, line: int, regions: Mapping[str, Region]
               ) -> Histogram:
    key = f"histograms.{name}"
    vals = check_fields(file, node, "histogram", key, line)
    for axis in ("x", "y", "weight"):
        if vals[axis] is not None and not IDENT.match(vals[axis]):
            raise ConfigError(file, node.line_of(axis), f"{key}.{axis}",
                              f"{vals[axis]!r} is not a column name",
                              "define the expression under 'columns:' and use its name here")
    if (vals["y"] is None) != (vals["ybins"] is None):
        raise ConfigError(file, node.line, key, "'y' and 'ybins' go together",
                          "give both for a 2D histogram, or neither for 1D")
    sel = vals["regions"]
    if sel == "all":
        names = tuple(regions)
    else:
        listed = _str_list(file, sel, f"{key}.regions", node.line_of("regions"))
        for i, reg in enumerate(listed):
            if reg not in regions:
                raise ConfigError(file, listed.line_of(i), f"{key}.regions[{i}]",
                                  f"unknown region {reg!r}", did_you_mean(reg, regions))
        names = tuple(listed)
    ybins = (_binning(file, vals["ybins"], f"{key}.ybins", node.line_of("ybins"))
             if vals["y"] else None)
    return Histogram(name, vals["x"], _binning(file, vals["bins"], f"{key}.bins",
                                               node.line_of("bins")),
                     vals["title"] or name, names, vals["y"], ybins, vals["weight"],
                     _kinds(file, vals["kinds"], f"{key}.kinds", node.line_of("kinds")),
                     vals["doc"], Loc(file, line))


def load_selection(paths: Iterable[str | os.PathLike]) -> Selection:
    """Merge selection files in order; names must be unique across files."""
    sel = Selection()
    seen: dict[tuple[str, str], Loc] = {}
    raw_regions: dict[str, tuple[str, LineDict, int]] = {}
    raw_hists: list[tuple[str, str, Any, int]] = []
    for path in paths:
        file = os.fspath(path)
        sel.files.append(file)
        top = check_fields(file, load_yaml(file), "selection file", "", 1)
        for section in ("columns", "cuts", "regions", "histograms"):
            raw = top[section]
            for name in raw:
                line = raw.line_of(name) if isinstance(raw, LineDict) else 1
                if (section, name) in seen:
                    first = seen[section, name]
                    raise ConfigError(file, line, f"{section}.{name}", "name already defined "
                                      f"at {first.file}:{first.line}",
                                      "names must be unique across selection files; rename one")
                seen[section, name] = Loc(file, line)
                if section == "columns":
                    v = _entry(file, raw, name, "column", section)
                    sel.columns[name] = Column(name, v["expr"], v["doc"], v["unit"], v["kinds"],
                                               Loc(file, line))
                elif section == "cuts":
                    v = _entry(file, raw, name, "cut", section)
                    sel.cuts[name] = Cut(name, v["expr"], v["doc"], v["kinds"], Loc(file, line))
                elif section == "regions":
                    _check_name(file, line, f"regions.{name}", name)
                    raw_regions[name] = (file, raw[name], line)
                else:
                    _check_name(file, line, f"histograms.{name}", name)
                    raw_hists.append((file, name, raw[name], line))
    for name in raw_regions:
        _resolve_region(name, raw_regions, sel.cuts, sel.regions, ())
    sel.regions = {name: sel.regions[name] for name in raw_regions}  # keep file order
    for file, name, node, line in raw_hists:
        sel.histograms[name] = _histogram(file, name, node, line, sel.regions)
    return sel


# --------------------------------------------------------------------------- expressions
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
NAMESPACES: frozenset[str] = frozenset({"nutag", "ROOT", "std", "TMath"})
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


def read_input_columns(sample: Sample) -> list[str]:
    """Column names of the sample's first file, read from its schema (no events)."""
    from .rootenv import capture_stderr, import_root  # noqa: PLC0415 (ROOT only when needed)

    ROOT = import_root()
    loc = sample.where("files")
    key = f"samples.{sample.name}.files"
    if not sample.files:
        raise ConfigError(loc.file, loc.line, key, "no input files", "list at least one file")
    first = sample.files[0]
    with capture_stderr():
        tfile = ROOT.TFile.Open(first)
    if not tfile or tfile.IsZombie():
        raise ConfigError(loc.file, loc.line, key, f"cannot open {first!r} as a ROOT file",
                          "check the file exists and is not truncated")
    try:
        if not tfile.Get(sample.tree):
            names = [k.GetName() for k in tfile.GetListOfKeys()]
            tloc = sample.where("tree")
            raise ConfigError(tloc.file, tloc.line, f"samples.{sample.name}.tree",
                              f"no tree or RNTuple '{sample.tree}' in {first!r}",
                              did_you_mean(sample.tree, names))
    finally:
        tfile.Close()
    return [str(c) for c in ROOT.RDataFrame(sample.tree, first).GetColumnNames()]


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
             "Generated from `nutag.config.SCHEMA` by `nutag.config.yaml_reference()`; "
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
    return "\n".join(lines)


def write_yaml_reference(path: str | os.PathLike) -> None:
    """Regenerate docs/yaml-reference.md."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(yaml_reference())
