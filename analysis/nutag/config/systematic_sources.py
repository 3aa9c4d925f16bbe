"""The ``systematics:`` YAML block as validated :class:`Source` records (no ROOT).

Why apart from :mod:`nutag.engine.systematics`: reading and checking the YAML is configuration (the
analysis' model dataclasses hold the sources, and ``nutag check`` validates them without
ROOT); turning sources into ``Vary`` calls on a graph is the engine's job.

The block (a list; see docs/corrections.md)::

    systematics:
      - name: lkr_scale                     # variation name: results are "lkr_scale:up/down"
        kind: shape                         # shape: scale columns | weight: scale the event weight
        correction: detector.lkr_energy_scale   # <file stem>.<correction>
        columns: [lkr_e]                    # shape: columns multiplied by the correction
        inputs: {}                          # correction input -> C++ expression; `{syst}` is
                                            # nominal/up/down (the default for an input named
                                            # syst), `{x}` the element of the column (shape) or
                                            # of `over` (weight)
        over: null                          # weight: RVec expression; weight = product over it
        when: null                          # weight: C++ condition; factor 1 where false
        nominal: true                       # apply the nominal value (false: it is already in
                                            # the sample weight; variations become up/nominal)
        applies_to: [mc]                    # sample names and/or kinds (mc, data)
        doc: "..."
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import ConfigError
from .yamlio import Loc, did_you_mean, load_yaml

__all__ = ["KINDS", "TAGS", "Source", "parse_systematics", "load_systematics", "source_error"]

KINDS = ("weight", "shape")
TAGS = ("up", "down")
_KEYS = ("name", "kind", "correction", "columns", "inputs", "over", "when", "nominal",
         "applies_to", "doc")
_NAME = re.compile(r"[A-Za-z]\w*\Z")


@dataclass(frozen=True)
class Source:
    """One systematic source, validated (see the module docstring for the YAML)."""

    name: str
    kind: str
    correction: str
    columns: tuple[str, ...]
    inputs: dict[str, str]
    applies_to: tuple[str, ...]
    over: str | None = None
    when: str | None = None
    nominal: bool = True
    doc: str = ""
    loc: Loc = field(default=Loc("<code>", 0), compare=False)

    @property
    def set_name(self) -> str:
        return self.correction.split(".", 1)[0]

    @property
    def corr_name(self) -> str:
        return self.correction.split(".", 1)[1]

    @property
    def elementwise(self) -> bool:
        return any("{x}" in e for e in self.inputs.values())

    def applies(self, sample: Any) -> bool:
        """True for a sample (name/kind attributes, or a plain name) listed in ``applies_to``."""
        if isinstance(sample, str):
            return sample in self.applies_to
        return sample.name in self.applies_to or sample.kind in self.applies_to


def source_error(loc: Loc, key: str, msg: str, hint: str) -> ConfigError:
    """The error for key ``key`` of a source at ``loc`` (its YAML file and line)."""
    return ConfigError(loc.file, loc.line, key, msg, hint)


def parse_systematics(node: Any, file: str = "<yaml>") -> list[Source]:
    """Validate a ``systematics:`` list (from :func:`nutag.config.analysis.load_yaml`) into Sources."""
    line = getattr(node, "line", 0)
    if node is None:
        return []
    if not isinstance(node, list):
        raise source_error(Loc(file, line), "systematics", "expected a list of sources",
                   "write 'systematics:' followed by '- {name: ..., kind: ..., ...}' items")
    out: list[Source] = []
    for i, item in enumerate(node):
        iline = node.line_of(i) if hasattr(node, "line_of") else line
        key = f"systematics[{i}]"
        loc = Loc(file, iline)
        if not isinstance(item, dict):
            raise source_error(loc, key, "expected a mapping", "write '- {name: ..., kind: ...}'")

        def at(k: str) -> Loc:
            return Loc(file, item.line_of(k)) if hasattr(item, "line_of") else loc

        for k in item:
            if k not in _KEYS:
                raise source_error(at(k), f"{key}.{k}", "unknown key", did_you_mean(k, _KEYS))
        for k in ("name", "kind", "correction"):
            if not isinstance(item.get(k), str):
                raise source_error(loc, f"{key}.{k}", "missing or not a string", f"add '{k}: ...'")
        name, kind, corr = item["name"], item["kind"], item["correction"]
        if not _NAME.match(name) or name in {s.name for s in out}:
            raise source_error(at("name"), f"{key}.name", f"invalid or duplicate name {name!r}",
                       "use a unique identifier (letters, digits, '_')")
        if kind not in KINDS:
            raise source_error(at("kind"), f"{key}.kind", f"invalid kind {kind!r}", did_you_mean(kind, KINDS))
        if corr.count(".") != 1:
            raise source_error(at("correction"), f"{key}.correction", f"{corr!r} is not <set>.<name>",
                       "write the correction file stem, a dot, the correction name")
        cols = item.get("columns") or []
        cols = [cols] if isinstance(cols, str) else cols
        if kind == "shape" and not cols:
            raise source_error(loc, f"{key}.columns", "a shape source needs the columns it scales",
                       "add 'columns: [lkr_e]'")
        if kind == "weight" and cols:
            raise source_error(at("columns"), f"{key}.columns", "a weight source scales the event "
                       "weight, not columns", "remove 'columns' or use kind: shape")
        inputs = item.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise source_error(at("inputs"), f"{key}.inputs", "expected a mapping", "{input: C++ expr}")
        applies = item.get("applies_to", ["mc"])
        applies = [applies] if isinstance(applies, str) else applies
        for k in ("over", "when", "doc"):
            if item.get(k) is not None and not isinstance(item[k], str):
                raise source_error(at(k), f"{key}.{k}", "expected a string", "quote the expression")
        if item.get("over") and kind != "weight":
            raise source_error(at("over"), f"{key}.over", "'over' is for weight sources",
                       "shape sources use {x} for the element of each column")
        nominal = item.get("nominal", True)
        if not isinstance(nominal, bool):
            raise source_error(at("nominal"), f"{key}.nominal", "expected true or false", "true|false")
        out.append(Source(name, kind, corr, tuple(str(c) for c in cols),
                          {str(k): str(v) for k, v in inputs.items()},
                          tuple(str(a) for a in applies), item.get("over"), item.get("when"),
                          nominal, item.get("doc", ""), loc))
    return out


def load_systematics(path: str | os.PathLike) -> list[Source]:
    """The ``systematics:`` list of a YAML file (an analysis config or a standalone file)."""
    file = os.fspath(path)
    node = load_yaml(file)
    if not isinstance(node, dict) or "systematics" not in node:
        raise ConfigError(file, 0, "systematics", "no 'systematics:' key in the file",
                          "add a 'systematics:' list (docs/corrections.md)")
    return parse_systematics(node["systematics"], file)
