"""Where does the published candidate fall on the simulated signal and background distributions?

Why: the paper shows one event; the question a reader asks is whether it looks like a neutrino
interaction or like the backgrounds. For each of its 13 published properties (published.json
"candidate"), the percentile of the candidate's value in the weighted simulated distribution
(fraction of events below it) of the signal MC in the signal region, and of each background
source MC in a relaxed region (``tagged_relaxed`` by default: the whole plane with the relaxed
selection, where the background MC has enough events to have a shape at all).

Works only from stored histograms (a results dir's histograms.root, or the closure run's), so
no event is read and no blinded data are involved: the candidate values are the published ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.atomic import atomic_write
from ..results.physics import CANDIDATE_COLUMNS

Histos = Mapping[tuple[str, str], Mapping[str, Any]]


@dataclass
class Comparison:
    """Numbers (JSON-able) and the unit-area shapes used for the plot, per property."""

    numbers: dict[str, Any]
    shapes: dict[str, dict[str, Any]] = field(default_factory=dict)


def percentile(h: Any, x: float) -> float | None:
    """Weighted fraction of the histogram's content below x (linear inside the bin).

    Under- and overflow count (they are events below/above the axis range). None if empty.
    """
    n = h.GetNbinsX()
    total = sum(max(h.GetBinContent(i), 0.0) for i in range(n + 2))
    if total <= 0.0:
        return None
    ax = h.GetXaxis()
    below = max(h.GetBinContent(0), 0.0)
    if x < ax.GetXmin():
        return 0.0
    for i in range(1, n + 1):
        lo, hi = ax.GetBinLowEdge(i), ax.GetBinUpEdge(i)
        c = max(h.GetBinContent(i), 0.0)
        if x >= hi:
            below += c
        else:
            below += c * (x - lo) / (hi - lo)
            break
    else:
        if x >= ax.GetXmax():
            below += 0.0  # the overflow lies above the axis, position unknown: not counted
    return below / total


def _merged(histos: Histos, doc: Mapping[str, Any], samples: list[str], region: str,
            name: str, tag: str) -> Any | None:
    """Sum of the samples' histograms as expected counts per decay (1/n_generated each)."""
    out = None
    for s in samples:
        h = histos.get((s, region), {}).get(name)
        if h is None:
            continue
        meta = doc["samples"].get(s, {}).get("meta", {})
        ng = float(meta.get("n_generated") or 1.0)
        c = h.Clone(f"{h.GetName()}_{tag}")
        c.SetDirectory(0)
        c.Scale(1.0 / ng)
        if out is None:
            out = c
        else:
            out.Add(c)
    return out


def compare_from_histograms(histos: Histos, doc: Mapping[str, Any],
                            candidate: Mapping[str, float], *, signal: str,
                            backgrounds: Mapping[str, list[str]],
                            signal_region: str = "signal",
                            background_region: str = "tagged_relaxed",
                            columns: Mapping[str, str] = CANDIDATE_COLUMNS) -> Comparison:
    """Percentiles of every candidate property in signal and background distributions."""
    rows: dict[str, Any] = {}
    shapes: dict[str, dict[str, Any]] = {}
    for prop, value in candidate.items():
        col = columns.get(prop)
        if col is None:
            continue
        shapes[prop] = {}
        row: dict[str, Any] = {"value": value, "histogram": col}
        groups = [("signal", [signal], signal_region)] + \
            [(b, list(s), background_region) for b, s in backgrounds.items()]
        for label, samples, region in groups:
            h = _merged(histos, doc, samples, region, col, f"{prop}_{label}")
            if h is None:
                row[label] = None
                continue
            p = percentile(h, float(value))
            row[label] = {"percentile": p, "region": region, "entries": int(h.GetEntries()),
                          "mean": h.GetMean()}
            if h.Integral(0, h.GetNbinsX() + 1) > 0:
                h.Scale(1.0 / h.Integral(0, h.GetNbinsX() + 1))
            shapes[prop][label] = h
        rows[prop] = row
    return Comparison({"signal_sample": signal, "signal_region": signal_region,
                       "background_region": background_region,
                       "backgrounds": {b: list(s) for b, s in backgrounds.items()},
                       "properties": rows}, shapes)


def comparison_markdown(numbers: Mapping[str, Any]) -> str:
    """Table: property, candidate value, percentile in signal and in each background."""
    bkgs = list(numbers["backgrounds"])

    def pc(cell: Any) -> str:
        if not cell or cell.get("percentile") is None:
            return "—"
        return f"{100 * cell['percentile']:.0f} % ({cell['entries']} MC ev.)"

    lines = ["| property | candidate | signal MC percentile | "
             + " | ".join(f"{b} MC percentile" for b in bkgs) + " |",
             "|---|---:|---:|" + "---:|" * len(bkgs)]
    for prop, row in numbers["properties"].items():
        lines.append(f"| {prop} | {row['value']} | {pc(row.get('signal'))} | "
                     + " | ".join(pc(row.get(b)) for b in bkgs) + " |")
    return "\n".join(lines) + "\n"


def comparison_plot(out_dir: Path, cmp: Comparison, stem: str = "candidate") -> list[Path]:
    """4x4 grid: unit-area signal (red) and background shapes, the candidate as a line."""
    from ..outputs.display import save_canvas  # noqa: PLC0415
    from ..core.rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    ROOT.gROOT.SetBatch(True)
    c = ROOT.TCanvas(f"c_{stem}", "", 1600, 1400)
    c.Divide(4, 4)
    keep: list[Any] = []
    colors = [2, 4, 8, 6, 7]
    for k, (prop, hs) in enumerate(cmp.shapes.items()):
        c.cd(k + 1)
        hmax = max([h.GetMaximum() for h in hs.values()] + [1e-9])
        first = True
        leg = ROOT.TLegend(0.55, 0.72, 0.88, 0.88)
        leg.SetTextSize(0.05)
        for j, (label, h) in enumerate(hs.items()):
            h.SetStats(0)
            h.SetLineColor(colors[j % len(colors)])
            h.SetLineWidth(2)
            h.SetMaximum(1.25 * hmax)
            h.SetTitle(prop)
            h.Draw("HIST" if first else "HIST same")
            leg.AddEntry(h, label, "l")
            first = False
        value = float(cmp.numbers["properties"][prop]["value"])
        line = ROOT.TLine(value, 0.0, value, 1.1 * hmax)
        line.SetLineWidth(3)
        line.SetLineStyle(2)
        line.Draw()
        leg.Draw()
        keep += [line, leg]
    return save_canvas(c, out_dir, stem)


def write_comparison(out_dir: Path, cmp: Comparison) -> list[Path]:
    """candidate.json, candidate.md, candidate.png/.pdf, atomically."""
    out_dir = Path(out_dir)

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        return x

    text = "# The published candidate on the simulated distributions\n\n" + \
        comparison_markdown(cmp.numbers)
    return [atomic_write(out_dir / "candidate.json",
                         json.dumps(clean(cmp.numbers), indent=2) + "\n"),
            atomic_write(out_dir / "candidate.md", text)] + comparison_plot(out_dir, cmp)
