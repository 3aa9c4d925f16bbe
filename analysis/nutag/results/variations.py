"""Numbers from variation results: per-source shifts, quadrature totals, propagation, markdown.

Why separate from :mod:`nutag.engine.systematics`: results and reports work on plain numbers
(``{"nominal": v, "<source>:up": v, ...}``, what ``VariationsFor`` gives) and must not need ROOT,
so ``nutag report`` can redo the tables from stored numbers. Re-exported by nutag.engine.systematics.
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


def with_fixed(nominal: float, variations: Mapping[str, float], shifts: Mapping[str, float]
               ) -> dict[str, float]:
    """``variations`` plus a symmetric ``±shift`` per name (``"<name>:up"/"<name>:down"``).

    For sources that have no correction to vary (a documented fixed fraction, an MC-statistics
    error): they enter the table like the propagated ones and are labelled by ``kinds``.
    """
    out = dict(variations)
    for name, shift in shifts.items():
        out[f"{name}:up"], out[f"{name}:down"] = nominal + shift, nominal - shift
    return out


def systematic_table(nominal: float, variations: Mapping[str, float],
                     kinds: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Each source's signed shifts (varied - nominal) and the totals in quadrature.

    ``variations`` maps ``"<source>:<tag>"`` to the varied value (a ``"nominal"`` key is
    ignored). Totals: ``up`` adds, per source, the largest positive shift in quadrature,
    ``down`` the largest negative; ``total`` the largest absolute shift per source (the
    symmetric, conservative number to quote as "± syst"). ``kinds`` labels sources (e.g.
    ``"fixed"``, ``"mc_stat"``); the others are ``"variation"`` (propagated from a ``Vary``).
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
        rows[src] = {**shifts, "max_abs": max(hi, -lo),
                     "kind": (kinds or {}).get(src, "variation")}
    total_up, total_down, total = math.sqrt(up2), math.sqrt(down2), math.sqrt(tot2)
    return {"nominal": float(nominal), "sources": rows, "total_up": total_up,
            "total_down": total_down, "total": total,
            "rel_total": total / nominal if nominal else None}  # None: JSON has no NaN


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
        # rounding noise of a source that does not move the yield is shown as 0
        tiny = max(1e-9 * abs(t["nominal"]), 1e-300)
        up, down = ((v if v is not None and abs(v) > tiny else 0.0) for v in (up, down))
        return f"{up * scale:+.{digits}g}{unit} / {down * scale:+.{digits}g}{unit}"

    labels = {"fixed": " (fixed fraction)", "mc_stat": " (MC statistics)"}
    kind = {src: t["sources"][src].get("kind", "variation") for t in tables.values()
            for src in t["sources"]}
    lines = ["| source | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines.append("| nominal | " + " | ".join(f"{tables[n]['nominal']:.{digits + 1}g}"
                                             for n in names) + " |")
    for src in sources:
        cells = []
        for n in names:
            row = tables[n]["sources"].get(src)
            cells.append(cell(tables[n], row.get("up"), row.get("down")) if row else "—")
        lines.append(f"| {src}{labels.get(kind[src], '')} | " + " | ".join(cells) + " |")
    lines.append("| **total** | " + " | ".join(
        cell(tables[n], tables[n]["total_up"], -tables[n]["total_down"]) for n in names) + " |")
    return "\n".join(lines) + "\n"
