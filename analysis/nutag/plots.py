"""Plots of a results directory (PNG + PDF, ROOT TCanvas in batch mode).

Why plots take only stored histograms and the summary: ``nutag report`` redraws them from
histograms.root without events, and a blinded run simply has no data histogram of a blind
region to draw — blinding is never a matter of what the plotting code chooses to hide.
MC is drawn as expected data counts: N_K / n_generated times the weighted histogram.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .rootenv import import_root

log = logging.getLogger("nutag.plots")

Histos = Mapping[tuple[str, str], Mapping[str, Any]]
COLORS = {"signal": 2, "overlay": 4, "misreco": 8, "kmu2": 6}  # kRed, kBlue, kGreen+?, kMagenta


def _save(canvas: Any, out: Path, name: str) -> list[Path]:
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for p in paths:
        canvas.SaveAs(str(p))
    canvas.Close()  # off gROOT's list: a second report in the same process reuses the name
    return paths


def _scaled(h: Any, sample: Mapping[str, Any], n_k: float, tag: str) -> Any:
    """Clone of h as expected data counts (MC) or as is (data)."""
    c = h.Clone(f"{h.GetName()}_{tag}")
    c.SetDirectory(0)
    if sample["kind"] == "mc":
        n_gen = float(sample["meta"].get("n_generated") or 0)
        if n_gen > 0:
            c.Scale(n_k / n_gen)
    return c


def _box_outlines(ROOT: Any, boxes: Mapping[str, float]) -> list[Any]:
    """TBox outlines: signal (red), d_LKr side-band (blue), m_miss2 side-bands (green)."""
    b = boxes
    spec = [((-b["box_m2_sr"], 0.0, b["box_m2_sr"], b["box_dlkr_sr"]), 2),
            ((-b["box_m2_sr"], b["box_dlkr_sb_lo"], b["box_m2_sr"], b["box_dlkr_sb_hi"]), 4),
            ((b["box_m2_sb_lo"], 0.0, b["box_m2_sb_hi"], b["box_dlkr_sr"]), 8),
            ((-b["box_m2_sb_hi"], 0.0, -b["box_m2_sb_lo"], b["box_dlkr_sr"]), 8)]
    out = []
    for (x1, y1, x2, y2), color in spec:
        box = ROOT.TBox(x1, y1, x2, y2)
        box.SetFillStyle(0)
        box.SetLineColor(color)
        box.SetLineWidth(2)
        out.append(box)
    return out


def plane_plots(out: Path, histos: Histos, doc: Mapping[str, Any], boxes: Mapping[str, float] | None,
                blinded: bool) -> list[Path]:
    """The m_miss2-d_LKr plane of every sample with the signal and side-band boxes."""
    ROOT = import_root()
    written: list[Path] = []
    for sample, info in doc["samples"].items():
        region = "tagged" if (sample, "tagged") in histos else "tagged_outside"
        h = histos.get((sample, region), {}).get("m2_vs_dlkr")
        if h is None:
            continue
        c = ROOT.TCanvas(f"c_plane_{sample}", "", 800, 650)
        c.SetRightMargin(0.15)
        h.SetStats(0)
        h.SetTitle(f"{sample} ({info['kind']}), region {region}"
                   f"{' [signal box blinded]' if info['kind'] == 'data' and blinded else ''}")
        h.Draw("COLZ")
        keep = _box_outlines(ROOT, boxes) if boxes else []
        for box in keep:
            box.Draw("same")
        written += _save(c, out, f"plane_{sample}")
    return written


def _overlay(out: Path, name: str, title: str, hists: list[tuple[str, Any, bool]]) -> list[Path]:
    """MC expectations stacked, data (if any) as points on top."""
    ROOT = import_root()
    c = ROOT.TCanvas(f"c_{name}", "", 800, 600)
    stack = ROOT.THStack(f"s_{name}", title)
    legend = ROOT.TLegend(0.65, 0.7, 0.88, 0.88)
    data = None
    for label, h, is_data in hists:
        if is_data:
            data = h
            h.SetMarkerStyle(20)
            legend.AddEntry(h, label, "p")
            continue
        h.SetFillColor(COLORS.get(label, 17))
        h.SetLineColor(COLORS.get(label, 17))
        stack.Add(h)
        legend.AddEntry(h, label, "f")
    if not stack.GetHists() and data is None:
        return []
    ymax = max([stack.GetMaximum() if stack.GetHists() else 0.0] +
               ([data.GetMaximum()] if data else []))
    if stack.GetHists():
        stack.SetMaximum(1.3 * ymax if ymax > 0 else 1.0)
        stack.Draw("HIST")
        if data is not None:
            data.Draw("E1 same")
    else:
        data.SetTitle(title)
        data.Draw("E1")
    legend.Draw()
    return _save(c, out, name)


def projection_plots(out: Path, histos: Histos, doc: Mapping[str, Any], n_k: float,
                     blinded: bool) -> list[Path]:
    """Projections of the plane on m_miss2 and d_LKr, same region for data and MC."""
    region = "tagged_outside" if blinded else "tagged"
    written: list[Path] = []
    for axis, name in (("X", "projection_m_miss2"), ("Y", "projection_d_lkr")):
        hists = []
        for sample, info in doc["samples"].items():
            h2 = histos.get((sample, region), {}).get("m2_vs_dlkr")
            if h2 is None:
                continue
            proj = h2.ProjectionX(f"{sample}_{name}") if axis == "X" else \
                h2.ProjectionY(f"{sample}_{name}")
            proj.SetDirectory(0)
            hists.append((sample, _scaled(proj, info, n_k, "exp"), info["kind"] == "data"))
        label = "m_{miss}^{2} [GeV^{2}/c^{4}]" if axis == "X" else "d_{LKr} [mm]"
        written += _overlay(out, name, f"region {region};{label};events", hists)
    return written


def enu_plot(out: Path, histos: Histos, doc: Mapping[str, Any], options: Mapping[str, Any],
             n_k: float) -> list[Path]:
    """E_nu of selected events: signal MC expectation (and data when unblinded) in the SR."""
    region = options.get("signal", {}).get("region", "signal")
    hists = []
    for sample, info in doc["samples"].items():
        h = histos.get((sample, region), {}).get("e_nu")
        if h is not None:
            hists.append((sample, _scaled(h, info, n_k, "enu"), info["kind"] == "data"))
    return _overlay(out, "e_nu_selected", f"E_{{#nu}}, region {region};E_{{#nu}} [GeV];events",
                    hists)


def make_all(out: Path, histos: Histos, summary: Mapping[str, Any], doc: Mapping[str, Any],
             options: Mapping[str, Any], boxes: Mapping[str, float] | None) -> list[Path]:
    """Every plot of the report; returns the files written."""
    ROOT = import_root()
    ROOT.gROOT.SetBatch(True)
    ROOT.gErrorIgnoreLevel = ROOT.kWarning  # no "Info in <TCanvas::Print>" per file
    blinded = bool(summary["blinded"])
    n_k = float(summary["n_kaon_decays"])
    written = plane_plots(out, histos, doc, boxes, blinded)
    written += projection_plots(out, histos, doc, n_k, blinded)
    written += enu_plot(out, histos, doc, options, n_k)
    log.info("wrote %d plot files to %s", len(written), out)
    return written
