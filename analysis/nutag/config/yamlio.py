"""YAML with line numbers: every mapping and list remembers where it was written.

Why its own module: every loader (analysis, samples, selections, systematics, simulation
configs) reports errors as file:line:key, so they all parse through :func:`load_yaml`; it
refuses duplicate keys that plain YAML would silently overwrite, supports merge keys
(``<<: *defaults``, whose keys are not duplicates), and refuses a document whose aliases
expand far beyond what was written (an alias bomb that would exhaust the memory later).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from ..core.errors import ConfigError


@dataclass(frozen=True)
class Loc:
    """Where something was written: file and 1-based line."""

    file: str
    line: int


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


#: the tag PyYAML's resolver gives a ``<<`` key
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: aliases may expand a document to this many nodes, or to EXPANSION_RATIO times the nodes
#: written, whichever is larger; beyond is an alias bomb ("billion laughs"), refused
MAX_EXPANDED_NODES = 10_000
EXPANSION_RATIO = 10


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that builds LineDict/LineList, refuses duplicate keys and records aliases."""

    nutag_file = "<yaml>"

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        #: every alias met while composing: (line, anchor name, node it points to)
        self.nutag_aliases: list[tuple[int, str, yaml.Node]] = []

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self.anchors:
                self.nutag_aliases.append((event.start_mark.line + 1, event.anchor,
                                           self.anchors[event.anchor]))
        return super().compose_node(parent, index)


def _merge_sources(loader: _LineLoader, node: yaml.Node) -> list[yaml.MappingNode]:
    """The mappings a ``<<:`` value names (one mapping or a list of them), in order."""
    subs = node.value if isinstance(node, yaml.SequenceNode) else [node]
    for sub in subs:
        if not isinstance(sub, yaml.MappingNode):
            raise ConfigError(loader.nutag_file, sub.start_mark.line + 1, "<<",
                              f"a merge key takes a mapping or a list of mappings, got {sub.id}",
                              "write '<<: *anchor' where the anchor names a mapping")
    return subs


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    """A LineDict; ``<<: *anchor`` merges the anchored mapping(s) under the keys written here.

    YAML merge rules: a key written in this mapping wins over a merged one, and among merged
    mappings the first listed wins. Only keys written twice in this mapping are duplicates.
    """
    out = LineDict()
    out.line, out.key_lines = node.start_mark.line + 1, {}
    own = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
    for knode, vnode in node.value:
        if knode.tag != _MERGE_TAG:
            continue
        for sub in _merge_sources(loader, vnode):
            merged = loader.construct_object(sub, deep=True)
            for key, value in merged.items():
                if key not in out:
                    out[key] = value
                    out.key_lines[key] = merged.line_of(key)
    written: dict[Any, int] = {}
    for knode, vnode in own:
        key = loader.construct_object(knode, deep=True)
        kline = knode.start_mark.line + 1
        if key in written:
            raise ConfigError(loader.nutag_file, kline, str(key),
                              f"duplicate key (first at line {written[key]})",
                              "remove or rename one of them; YAML would silently keep the last")
        written[key] = kline
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


class _RecursiveAlias(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _expanded_sizes(root: yaml.Node) -> dict[int, int]:
    """Nodes under each node (by id) once every alias is expanded; raises on a cycle.

    Computed on the composed graph, where an alias is the very node it names, so the cost is
    linear in what was written however large the expansion.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _RecursiveAlias(node)
        active.add(key)
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = []
        sizes[key] = 1 + sum(size(child) for child in children)
        active.discard(key)
        return sizes[key]

    size(root)
    return sizes


def _check_aliases(loader: _LineLoader, root: yaml.Node) -> None:
    """Refuse alias bombs and recursive aliases before anything is built from the document."""
    if not loader.nutag_aliases:
        return
    file = loader.nutag_file
    try:
        sizes = _expanded_sizes(root)
    except _RecursiveAlias as exc:
        raise ConfigError(file, exc.node.start_mark.line + 1, "(yaml aliases)",
                          "an alias refers to the mapping or list that contains it",
                          "write the values out; an alias must name something complete") from None
    written, expanded = len(sizes), sizes[id(root)]
    limit = max(MAX_EXPANDED_NODES, EXPANSION_RATIO * written)
    if expanded > limit:
        line, anchor, node = max(loader.nutag_aliases, key=lambda a: sizes[id(a[2])])
        raise ConfigError(file, line, "(yaml aliases)",
                          f"the aliases expand the document to {expanded:,} nodes from "
                          f"{written:,} written (limit {limit:,}); '*{anchor}' here alone "
                          f"stands for {sizes[id(node)]:,}",
                          "write the values out or use fewer, smaller aliases: a document "
                          "this large would exhaust the memory (an alias bomb)")


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
        root = loader.get_single_node()
        if root is None:
            return None
        _check_aliases(loader, root)
        return loader.construct_document(root)
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


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return "did you mean 'x'?" for the closest choice, or list what is allowed."""
    choices = sorted({str(c) for c in choices})
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"use one of: {shown}" if choices else "nothing is defined under this name"

