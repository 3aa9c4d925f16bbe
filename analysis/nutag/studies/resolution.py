"""Energy resolution of the tagged neutrino versus the calorimetric estimate, on signal MC.

Why this module exists: the selling point of neutrino tagging is that E_nu = E_K - E_mu comes
from two precisely measured momenta (GTK 0.2 %, STRAW 0.3 %), so sigma_E/E is well below 1 %
(spec: ~0.35 % at 52 GeV), while any calorimetric estimate of the interaction is limited by the
hadronic resolution (10 % (+) 40 %/sqrt(E)). This module shows it with numbers.

Two halves, so it can join the analysis' single event loop:

* :func:`book_resolution` books weighted histograms lazily on any RDataFrame node that carries
  the analysis columns (``e_nu``, ``e_had``) and the MC truth (``true_e_nu``, ``true_y``);
  nothing runs. ``nutag.jobs.pipeline`` / ``nutag closure`` pass it as a graph ``extra`` hook.
* :func:`resolution_numbers` turns the filled histograms into numbers (no ROOT event loop).

Estimators compared with the true E_nu:

* ``tag``: E_nu from tagging (the analysis column ``e_nu``);
* ``calo``: E_had + E_mu-, where E_mu- (not measured by NA62: the mu- is only seen as a MUV3
  hit) is taken from the MC truth, (1 - y) E_nu. This is the *best case* of a calorimetric
  estimate — its whole error is the hadronic-energy measurement;
* ``had``: E_had versus the true hadronic energy y E_nu (the calorimeter alone).

The resolution quoted is sigma68, the half-width of the central 68.27 % of the weighted
distribution of (E_est - E_true)/E_true: robust against the non-Gaussian tails of the
calorimetric estimate, equal to sigma for a Gaussian.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.rootenv import import_root

#: relative-residual definitions, C++ over the analysis columns and the MC truth
RESIDUALS: dict[str, tuple[str, str]] = {
    "tag": ("(e_nu - true_e_nu) / true_e_nu", "E_{#nu} from tagging"),
    "calo": ("(e_had + (1.0 - true_y) * true_e_nu - true_e_nu) / true_e_nu",
             "E_{had} + E_{#mu^{-}} (calorimetric, E_{#mu^{-}} from truth)"),
    "had": ("true_y > 0.0 ? (e_had - true_y * true_e_nu) / (true_y * true_e_nu) : -9.0",
            "E_{had} vs y E_{#nu} (calorimeter alone)"),
}
#: histogram ranges of the relative residuals (tag resolution ~0.35 %, calorimetric ~30 %)
RANGES: dict[str, tuple[int, float, float]] = {"tag": (400, -0.04, 0.04),
                                                "calo": (200, -1.0, 1.0),
                                                "had": (200, -1.5, 1.5)}
E_BINS = (7, 0.0, 70.0)  # true E_nu bins for resolution versus energy
PREFIX = "res_"
WEIGHT = "_w"  # the weight column nutag.engine.graph defines on every node


def book_resolution(node: Any, tag: str = "signal", weight: str = WEIGHT) -> dict[str, Any]:
    """Book (lazily) the resolution histograms on ``node``; returns {name: result pointer}.

    Needs columns e_nu, e_had (analysis) and true_e_nu, true_y (MC truth). Column names
    carry ``tag`` so the same node can be booked twice under different tags.
    """
    ROOT = import_root()
    out: dict[str, Any] = {}
    for key, (expr, title) in RESIDUALS.items():
        col = f"_{PREFIX}{key}_{tag}"
        node = node.Define(col, expr)
        n, lo, hi = RANGES[key]
        m1 = ROOT.RDF.TH1DModel(f"{PREFIX}{key}_{tag}", f"{title};(E - E_{{true}})/E_{{true}};events",
                                n, lo, hi)
        out[f"{PREFIX}{key}"] = node.Histo1D(m1, col, weight)
        m2 = ROOT.RDF.TH2DModel(f"{PREFIX}{key}_vs_e_{tag}",
                                f"{title};true E_{{#nu}} [GeV];(E - E_{{true}})/E_{{true}}",
                                *E_BINS, n, lo, hi)
        out[f"{PREFIX}{key}_vs_e"] = node.Histo2D(m2, "true_e_nu", col, weight)
    return out


# --------------------------------------------------------------------------- numbers
def _quantile(h: Any, q: float) -> float:
    """Weighted quantile of a TH1 (linear inside the bin), over- and underflow included."""
    n = h.GetNbinsX()
    contents = [max(h.GetBinContent(i), 0.0) for i in range(0, n + 2)]
    total = sum(contents)
    if total <= 0.0:
        return math.nan
    target, acc = q * total, 0.0
    for i, c in enumerate(contents):
        if acc + c >= target and c > 0.0:
            if i == 0:
                return h.GetXaxis().GetXmin()
            if i == n + 1:
                return h.GetXaxis().GetXmax()
            lo, width = h.GetXaxis().GetBinLowEdge(i), h.GetXaxis().GetBinWidth(i)
            return lo + width * (target - acc) / c
        acc += c
    return h.GetXaxis().GetXmax()


def spread(h: Any) -> dict[str, float]:
    """Median, sigma68 (half-width of the central 68.27 %), mean, RMS of a weighted TH1."""
    p = 0.6826894921370859
    lo, med, hi = (_quantile(h, q) for q in ((1 - p) / 2, 0.5, (1 + p) / 2))
    entries = int(h.GetEntries())
    return {"median": med, "sigma68": (hi - lo) / 2.0, "mean": h.GetMean(), "rms": h.GetRMS(),
            "entries": entries, "sumw": h.Integral(0, h.GetNbinsX() + 1)}


def resolution_numbers(histos: Mapping[str, Any]) -> dict[str, Any]:
    """Numbers from the filled histograms of :func:`book_resolution` (no event loop).

    Per estimator: the overall spread and sigma68 in bins of true E_nu; ``ratio_calo_over_tag``
    says how much better tagging is.
    """
    out: dict[str, Any] = {"estimators": {}, "definitions": {k: v[0] for k, v in RESIDUALS.items()}}
    for key in RESIDUALS:
        h1, h2 = histos.get(f"{PREFIX}{key}"), histos.get(f"{PREFIX}{key}_vs_e")
        if h1 is None:
            continue
        est = spread(h1)
        bins = []
        if h2 is not None:
            for ix in range(1, h2.GetNbinsX() + 1):
                proj = h2.ProjectionY(f"{h2.GetName()}_py{ix}", ix, ix)
                proj.SetDirectory(0)
                s = spread(proj)
                bins.append({"e_lo": h2.GetXaxis().GetBinLowEdge(ix),
                             "e_hi": h2.GetXaxis().GetBinUpEdge(ix),
                             "sigma68": s["sigma68"], "median": s["median"],
                             "entries": s["entries"]})
        est["vs_true_e_nu"] = bins
        out["estimators"][key] = est
    tag = out["estimators"].get("tag", {}).get("sigma68")
    calo = out["estimators"].get("calo", {}).get("sigma68")
    out["sigma_over_e_tag"] = tag
    out["sigma_over_e_calo"] = calo
    out["ratio_calo_over_tag"] = (calo / tag if tag and calo and tag > 0 else None)
    out["tag_below_1_percent"] = bool(tag is not None and math.isfinite(tag) and tag < 0.01)
    return out


def resolution_plot(out_dir: Path, histos: Mapping[str, Any], numbers: Mapping[str, Any],
                    stem: str = "resolution") -> list[Path]:
    """Three pads: tag residual, calorimetric residual, sigma68 versus true E_nu (PNG + PDF)."""
    from ..outputs.display import save_canvas  # noqa: PLC0415

    ROOT = import_root()
    ROOT.gROOT.SetBatch(True)
    c = ROOT.TCanvas(f"c_{stem}", "", 1500, 500)
    c.Divide(3, 1)
    keep: list[Any] = []
    for pad, key, color in ((1, "tag", 2), (2, "calo", 4)):
        h = histos.get(f"{PREFIX}{key}")
        if h is None:
            continue
        c.cd(pad)
        h = h.Clone(f"{h.GetName()}_draw")
        h.SetDirectory(0)
        h.SetStats(0)
        h.SetLineColor(color)
        h.SetLineWidth(2)
        s = numbers["estimators"][key]["sigma68"]
        h.SetTitle(f"{h.GetTitle()}: #sigma_{{68}}/E = {100 * s:.2f} %")
        h.Draw("HIST")
        keep.append(h)
    c.cd(3)
    ROOT.gPad.SetLogy()
    legend = ROOT.TLegend(0.45, 0.72, 0.88, 0.88)
    frame = ROOT.gPad.DrawFrame(0.0, 5e-4, 70.0, 2.0,
                                "resolution vs energy;true E_{#nu} [GeV];#sigma_{68}/E")
    keep += [frame, legend]
    for key, color, marker in (("tag", 2, 20), ("calo", 4, 21), ("had", 8, 22)):
        pts = [b for b in numbers["estimators"].get(key, {}).get("vs_true_e_nu", [])
               if b["entries"] >= 5 and b["sigma68"] > 0]
        if not pts:
            continue
        g = ROOT.TGraph(len(pts))
        for i, b in enumerate(pts):
            g.SetPoint(i, 0.5 * (b["e_lo"] + b["e_hi"]), b["sigma68"])
        g.SetMarkerStyle(marker)
        g.SetMarkerColor(color)
        g.SetLineColor(color)
        g.Draw("LP same")
        legend.AddEntry(g, {"tag": "tagging", "calo": "E_{had}+E_{#mu^{-}}",
                            "had": "E_{had} alone"}[key], "lp")
        keep.append(g)
    line = ROOT.TLine(0.0, 0.01, 70.0, 0.01)
    line.SetLineStyle(2)
    line.Draw()
    keep.append(line)
    legend.Draw()
    return save_canvas(c, out_dir, stem)
