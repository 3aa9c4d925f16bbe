"""Weighted cutflows as plain data: rows, JSON, Markdown, written atomically.

Why weighted: for MC the physics number is sum(w) with its error sqrt(sum(w^2)), not the
raw count; both are booked per cut in the same event loop (see ``graph.build_graph``), so
the table costs nothing extra. Files are written atomically so a crashed or concurrent run
never leaves a half-written table that a later ``report`` would trust.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..core.atomic import atomic_write
from ..core.provenance import provenance_markdown

CutflowRow = dict[str, Any]  # {"cut": str, "raw": int, "sumw": float, "sumw2": float}


def make_rows(entries: Iterable[Any]) -> list[CutflowRow]:
    """Turn booked cutflow entries (``graph.CutflowEntry``) into rows (after the loop ran)."""
    rows = []
    for entry in entries:
        raw, sumw, sumw2 = entry.values()
        rows.append({"cut": entry.cut, "raw": raw, "sumw": sumw, "sumw2": sumw2})
    return rows


def with_efficiencies(rows: list[CutflowRow]) -> list[CutflowRow]:
    """Add relative (to the previous row) and cumulative (to the first row) weighted efficiency."""
    out = []
    for i, row in enumerate(rows):
        prev, first = rows[i - 1]["sumw"] if i else row["sumw"], rows[0]["sumw"]
        out.append({**row, "eff_rel": row["sumw"] / prev if prev else math.nan,
                    "eff_cum": row["sumw"] / first if first else math.nan})
    return out


def cutflow_document(samples: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-able cutflows of a run: {sample: {kind, n_runs, blinded_regions, regions}}."""
    return {
        name: {"kind": s.kind, "n_runs": s.n_runs, "blinded_regions": list(s.blinded_regions),
               "regions": {r: list(out.cutflow) for r, out in s.regions.items()}}
        for name, s in samples.items()
    }


def expected_scales(doc: Mapping[str, Any], n_k: float) -> dict[str, float]:
    """MC sample -> N_K / n_generated, the factor from sum of weights to expected events
    (data samples have none: their count is the observation)."""
    out = {}
    for name, s in (doc.get("samples") or {}).items():
        n_gen = float((s.get("meta") or {}).get("n_generated") or 0)
        if s.get("kind") == "mc" and n_gen > 0 and math.isfinite(n_k):
            out[name] = n_k / n_gen
    return out


def _ratio(x: float) -> str:
    """An efficiency, or a dash where it is undefined (nothing before the cut)."""
    return f"{x:.4g}" if math.isfinite(x) else "—"


def to_markdown(samples: Mapping[str, Any], scales: Mapping[str, float] | None = None,
                n_k: float | None = None) -> str:
    """One table per sample and region; blind regions are listed, not tabulated.

    ``scales`` (sample -> N_K / n_generated) adds the expected-events column of MC samples.
    """
    scales = scales or {}
    lines = ["# Cutflows", ""]
    if scales and n_k:
        lines += [(f"Expected events: MC sum of weights x N_K / n_generated, N_K = {n_k:.4g} "
                   "(the run's normalisation). Data: observed events."), ""]
    for name, s in samples.items():
        scale = scales.get(name)
        for region, out in s.regions.items():
            lines += [f"## {name} ({s.kind}) — {region}", "",
                      ("| cut | raw | sum w | err (sqrt sum w²) | expected events | eff rel | "
                       "eff cum |"), "|---|---:|---:|---:|---:|---:|---:|"]
            for row in with_efficiencies(out.cutflow):
                exp = (f"{row['sumw'] * scale:.4g} ± {math.sqrt(row['sumw2']) * scale:.2g}"
                       if scale is not None else "—")
                lines.append(f"| {row['cut']} | {row['raw']} | {row['sumw']:.6g} | "
                             f"{math.sqrt(row['sumw2']):.6g} | {exp} | "
                             f"{_ratio(row['eff_rel'])} | {_ratio(row['eff_cum'])} |")
            lines.append("")
        for region in s.blinded_regions:
            lines += [f"## {name} ({s.kind}) — {region}", "", "_blinded: not read_", ""]
    return "\n".join(lines)


def write_cutflows(samples: Mapping[str, Any], out_dir: str | os.PathLike, *,
                   provenance: Mapping[str, Any] | None = None,
                   scales: Mapping[str, float] | None = None,
                   n_k: float | None = None) -> tuple[Path, Path]:
    """Write cutflows.json and cutflows.md into ``out_dir`` atomically; return both paths.

    With ``provenance`` the JSON gets it under ``"_provenance"`` (no sample name starts with
    ``_``) and the Markdown ends with it, like every output of a results directory.
    ``scales`` and ``n_k``: see :func:`to_markdown`.
    """
    out = Path(out_dir)
    doc: dict[str, Any] = cutflow_document(samples)
    text = to_markdown(samples, scales, n_k)
    if provenance:
        doc["_provenance"] = dict(provenance)
        text = text.rstrip("\n") + "\n" + "\n".join(provenance_markdown(provenance))
    js = atomic_write(out / "cutflows.json",
                      json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n")
    md = atomic_write(out / "cutflows.md", text)
    return js, md
