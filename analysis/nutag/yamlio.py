"""YAML with line numbers: every mapping and list remembers where it was written.

Why its own module: every loader (analysis, samples, selections, systematics, simulation
configs) reports errors as file:line:key, so they all parse through :func:`load_yaml`; it
refuses duplicate keys that plain YAML would silently overwrite.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import ConfigError


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


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return "did you mean 'x'?" for the closest choice, or list what is allowed."""
    choices = sorted({str(c) for c in choices})
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"use one of: {shown}" if choices else "nothing is defined under this name"

