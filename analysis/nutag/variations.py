"""Numbers from variation results: per-source shifts, quadrature totals, propagation, markdown.

Why separate from :mod:`nutag.systematics`: results and reports work on plain numbers
(``{"nominal": v, "<source>:up": v, ...}``, what ``VariationsFor`` gives) and must not need ROOT,
so ``nutag report`` can redo the tables from stored numbers. Re-exported by nutag.systematics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any


def propagate(fn: Callable[..., float], inputs: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Evaluate ``fn(**inputs)`` for nominal and each variation key found in any input.

    An input without a key (the source does not touch it, e.g. data) takes its nominal. This
    is how a derived number (N_sig from the signal yield and the Kmu2 normalisation) gets
    correlated variations across samples.
    """
    keys = {"nominal"}.union(*(m.keys() for m in inputs.values()))
    return {k: fn(**{n: m.get(k, m["nominal"]) for n, m in inputs.items()})
            for k in sorted(keys, key=lambda k: (k != "nominal", k))}


def systematic_table(nominal: float, variations: Mapping[str, float]) -> dict[str, Any]:
    """Each source's signed shifts (varied - nominal) and the totals in quadrature.

    ``variations`` maps ``"<source>:<tag>"`` to the varied value (a ``"nominal"`` key is
    ignored). Totals: ``up`` adds, per source, the largest positive shift in quadrature,
    ``down`` the largest negative; ``total`` the largest absolute shift per source (the
    symmetric, conservative number to quote as "± syst").
    """
    sources: dict[str, dict[str, float]] = {}
    for key, val in variations.items():
        if key == "nominal":
            continue
        src, sep, tag = key.rpartition(":")
        if not sep:
            raise ValueError(f"variation key {key!r} is not '<source>:<tag>'")
        sources.setdefault(src, {})[tag] = float(val) - float(nominal)
    rows, up2, down2, tot2 = {}, 0.0, 0.0, 0.0
    for src in sorted(sources):
        shifts = sources[src]
        hi, lo = max(0.0, *shifts.values()), min(0.0, *shifts.values())
        up2, down2, tot2 = up2 + hi * hi, down2 + lo * lo, tot2 + max(hi, -lo) ** 2
        rows[src] = {**shifts, "max_abs": max(hi, -lo)}
    total_up, total_down, total = math.sqrt(up2), math.sqrt(down2), math.sqrt(tot2)
    rel = (lambda x: x / nominal) if nominal else (lambda x: float("nan"))
    return {"nominal": float(nominal), "sources": rows, "total_up": total_up,
            "total_down": total_down, "total": total, "rel_total": rel(total)}


def systematic_markdown(tables: Mapping[str, Mapping[str, Any]], *, relative: bool = True,
                        digits: int = 3) -> str:
    """Markdown table: one row per source, one column per yield, "+up / -down" cells."""
    names = list(tables)
    sources = sorted(set().union(*(t["sources"] for t in tables.values()))) if tables else []

    def cell(t: Mapping[str, Any], up: float | None, down: float | None) -> str:
        if up is None and down is None:
            return "—"
        scale = (100.0 / t["nominal"]) if relative and t["nominal"] else 1.0
        unit = " %" if relative and t["nominal"] else ""
        return f"{(up or 0.0) * scale:+.{digits}g}{unit} / {(down or 0.0) * scale:+.{digits}g}{unit}"

    lines = ["| source | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines.append("| nominal | " + " | ".join(f"{tables[n]['nominal']:.{digits + 1}g}"
                                             for n in names) + " |")
    for src in sources:
        cells = []
        for n in names:
            row = tables[n]["sources"].get(src)
            cells.append(cell(tables[n], row.get("up"), row.get("down")) if row else "—")
        lines.append(f"| {src} | " + " | ".join(cells) + " |")
    lines.append("| **total** | " + " | ".join(
        cell(tables[n], tables[n]["total_up"], -tables[n]["total_down"]) for n in names) + " |")
    return "\n".join(lines) + "\n"
