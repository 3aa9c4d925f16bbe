"""Load and validate the analysis YAML (samples, selections, analysis) before any event is read.

Why this module is strict: a typo in a cut name or a column found after an hour-long event
loop wastes the hour; found here it costs a second. Every error is a :class:`ConfigError`
naming the file, the line and the key, with a did-you-mean where a name was mistyped.
The schema (nutag.config.schema) is data, so the same table drives validation and docs/yaml-reference.md;
YAML parsing with line numbers is nutag.config.yamlio, the expression check nutag.config.expressions.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .binning import MAX_BINS, MAX_CELLS, Binning, check_cells, parse_binning  # noqa: F401 (limits re-exported)
from .checks import check_meta, check_options, check_regions, check_units
from ..core.errors import ConfigError
# Re-exported: the file checks and the entry counter live in nutag.config.input_files.
from .input_files import check_input_file, read_input_columns, stored_entries  # noqa: F401
# Re-exported: the records this module builds live in nutag.config.model.
from .model import Analysis, Column, Cut, Histogram, Region, Sample, Selection  # noqa: F401
# Re-exported: `from nutag.config.analysis import X` keeps working for every name that lived here.
from .expressions import (CPP_NAMES, NAMESPACES, check_expressions,  # noqa: F401
                          check_safe_expression, expression_names)
from .schema import (IDENT, KINDS, SCHEMA, Field, _check_name, _kinds, _str_list,  # noqa: F401
                     check_fields, write_yaml_reference, yaml_reference)
from .systematic_sources import Source, load_systematics, parse_systematics
from .yamlio import LineDict, LineList, Loc, did_you_mean, load_yaml  # noqa: F401

log = logging.getLogger("nutag.config.analysis")


# --------------------------------------------------------------------------- loaders
def _resolve_path(base_file: str, path: str) -> str:
    if "://" in path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(base_file)), path))


def _expand_files(file: str, node: Any, key: str, line: int) -> list[str]:
    patterns = _str_list(file, node, key, line)
    out: list[str] = []
    listed: dict[str, tuple[int, int]] = {}  # real path -> (list position, line) first naming it
    for i, pat in enumerate(patterns):
        path, where = _resolve_path(file, pat), patterns.line_of(i)
        if "://" in path:
            found = [path]
        elif glob.has_magic(path):
            found = sorted(glob.glob(path))
            if not found:
                raise ConfigError(file, where, f"{key}[{i}]", f"no file matches {path!r}",
                                  "check the pattern; it is relative to the sample YAML")
        elif not os.path.isfile(path):
            raise ConfigError(file, where, f"{key}[{i}]", f"input file {path!r} does not exist",
                              "check the path (relative to the sample YAML) or produce the file")
        else:
            found = [path]
        for one in found:
            _refuse_listed_twice(file, key, listed, one, i, where)
        out.extend(found)
    return out


def _refuse_listed_twice(file: str, key: str, listed: dict[str, tuple[int, int]], path: str,
                         index: int, line: int) -> None:
    """A file read twice counts its events twice (N_K doubled, yields doubled): an error.

    Compared by real path, so ``a.root``, ``./a.root``, a symlink to it and a glob matching it
    are the same file.
    """
    real = path if "://" in path else os.path.realpath(path)
    if real not in listed:
        listed[real] = (index, line)
        return
    first, first_line = listed[real]
    raise ConfigError(file, line, f"{key}[{index}]",
                      f"{path!r} is already listed as {key}[{first}] (line {first_line}): both "
                      f"name {real!r}, whose events would be counted twice",
                      "list each file once (remove one of the two entries, or narrow the glob)")


def load_samples(path: str | os.PathLike, *, check_files: bool = True,
                 allow_unsafe_expressions: bool = False) -> dict[str, Sample]:
    """Load a sample file; expand globs relative to it; check the files exist.

    A weight that can run programs or write files is refused unless
    ``allow_unsafe_expressions`` (nutag.config.expressions.UNSAFE_NAMES).
    """
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
        if not allow_unsafe_expressions:
            check_safe_expression(str(weight), Loc(file, node.line_of("weight")), f"{key}.weight")
        meta = check_meta(file, node.get("meta"), key)
        out[name] = Sample(name, vals["kind"], files, vals["tree"], str(weight),
                           meta, vals["doc"], Loc(file, node.line),
                           {k: Loc(file, node.line_of(k)) for k in node})
    return out


def load_analysis(path: str | os.PathLike, *, check_inputs: bool = True,
                  allowed: Iterable[str] = (), check_result_options: bool = True,
                  allow_unsafe_expressions: bool = False,
                  samples_file: str | os.PathLike | None = None) -> Analysis:
    """Load the top-level analysis YAML and everything it names, and validate it all.

    With ``check_inputs`` the first file of every sample is opened (schema only, no events)
    and every expression is checked against its columns: the whole configuration is known
    good before :func:`nutag.engine.graph.build_graph` JITs anything. ``check_result_options=False``
    skips the checks of ``options`` (normalisation, signal and background samples and regions):
    tools that only look at events, like the event display of one sample, do not compute results
    and must work on a configuration that names a single sample. Expressions that can run
    programs or write files are refused unless ``allow_unsafe_expressions`` (``nutag run
    --allow-unsafe-expressions``). ``samples_file`` replaces the YAML's ``samples`` (the embedded
    default analysis of an installed package reads its data set from the user's work root).
    """
    file = os.fspath(path)
    node = load_yaml(file)
    vals = check_fields(file, node, "analysis", "", 1)
    samples_file = (os.fspath(samples_file) if samples_file is not None
                    else _resolve_path(file, vals["samples"]))
    if not os.path.isfile(samples_file):
        raise ConfigError(file, node.line_of("samples"), "samples",
                          f"sample file {samples_file!r} does not exist", "fix the path")
    unsafe = allow_unsafe_expressions
    samples = load_samples(samples_file, check_files=check_inputs, allow_unsafe_expressions=unsafe)
    sel_list = _str_list(file, vals["selections"], "selections", node.line_of("selections"))
    sel_files = []
    for i, p in enumerate(sel_list):
        full = _resolve_path(file, p)
        if not os.path.isfile(full):
            raise ConfigError(file, sel_list.line_of(i), f"selections[{i}]",
                              f"selection file {full!r} does not exist", "fix the path")
        sel_files.append(full)
    selection = load_selection(sel_files, allow_unsafe_expressions=unsafe)
    validate_region_samples(selection, samples)
    if check_result_options:
        check_options(file, node.get("options"), selection, samples)
    corr = [_resolve_path(file, p) for p in _str_list(file, vals["corrections"] or [],
                                                       "corrections", node.line)]
    analysis = Analysis(vals["name"], file, samples_file, samples, selection, corr,
                        dict(vals["options"] or {}), vals["doc"],
                        _systematics(file, node, vals["systematics"]))
    if not unsafe:
        _check_safe_systematics(analysis.systematics)
    if check_inputs:
        validate_inputs(analysis, allowed=allowed)
    return analysis


def _systematics(file: str, node: LineDict, value: Any) -> list[Source]:
    """The ``systematics:`` of an analysis: a file path (relative to it) or an inline list.

    Parsed and checked here (names, kinds, keys, file:line errors); checked against the
    declared corrections later (``Systematics.validate``, once the sets are declared).
    """
    if isinstance(value, str):
        path = _resolve_path(file, value)
        if not os.path.isfile(path):
            raise ConfigError(file, node.line_of("systematics"), "systematics",
                              f"systematics file {path!r} does not exist",
                              "fix the path (relative to this file) or list the sources inline")
        return load_systematics(path)
    return parse_systematics(value or [], file)


def _check_safe_systematics(sources: Iterable[Source]) -> None:
    """The C++ of the systematic sources (inputs, over, when) is checked like any expression."""
    for s in sources:
        exprs = {**{f"inputs.{k}": v for k, v in s.inputs.items()}, "over": s.over,
                 "when": s.when}
        for part, expr in exprs.items():
            check_safe_expression(expr, s.loc, f"systematics.{s.name}.{part}")


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


#: most bins of one histogram axis; every region x sample x thread holds a copy (8 bytes a bin,
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
    xbins = parse_binning(file, vals["bins"], f"{key}.bins", node.line_of("bins"))
    ybins = (parse_binning(file, vals["ybins"], f"{key}.ybins", node.line_of("ybins"))
             if vals["y"] else None)
    if ybins is not None:
        check_cells(file, f"{key}.ybins", node.line_of("ybins"), xbins, ybins)
    return Histogram(name, vals["x"], xbins,
                     vals["title"] or name, names, vals["y"], ybins, vals["weight"],
                     _kinds(file, vals["kinds"], f"{key}.kinds", node.line_of("kinds")),
                     vals["doc"], Loc(file, line))


def load_selection(paths: Iterable[str | os.PathLike], *,
                   allow_unsafe_expressions: bool = False) -> Selection:
    """Merge selection files in order; names must be unique across files.

    Columns and cuts that can run programs or write files are refused unless
    ``allow_unsafe_expressions`` (nutag.config.expressions.UNSAFE_NAMES).
    """
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
                    if not allow_unsafe_expressions:
                        check_safe_expression(v["expr"], Loc(file, line), f"columns.{name}")
                    sel.columns[name] = Column(name, v["expr"], v["doc"], v["unit"], v["kinds"],
                                               Loc(file, line))
                elif section == "cuts":
                    v = _entry(file, raw, name, "cut", section)
                    if not allow_unsafe_expressions:
                        check_safe_expression(v["expr"], Loc(file, line), f"cuts.{name}")
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
    check_regions(sel)
    check_units(sel)
    return sel
