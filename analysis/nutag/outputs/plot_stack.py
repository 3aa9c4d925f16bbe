"""A 1D figure: stacked MC expectation with its uncertainty band, data with Poisson errors,
and a data/MC ratio panel underneath when there are data.

Why Garwood intervals for data: the counts are small (a handful of tagged events), where
sqrt(n) errors are wrong and zero bins still carry an upper error; the MC band is the
simulation's statistical uncertainty (sqrt(sum w^2) scaled to N_K).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import plot_style as st
from ..core.rootenv import import_root


def _total(mc: Sequence[tuple[str, Any]], name: str) -> Any | None:
    """Sum of the MC expectations with its statistical errors (None without MC)."""
    total = None
    for _, h in mc:
        if total is None:
            total = h.Clone(f"total_{name}")
            total.SetDirectory(0)
        else:
            total.Add(h)
    return total


def _y_range(total: Any | None, data: Any | None, logy: bool) -> tuple[float, float]:
    """Axis range from the largest MC+error or data+error and the smallest positive entry."""
    top, low = 0.0, float("inf")
    for h in (x for x in (total, data) if x is not None):
        for i in range(1, h.GetNbinsX() + 1):
            v = h.GetBinContent(i)
            top = max(top, v + h.GetBinErrorUp(i))
            if v > 0:
                low = min(low, v)
    low = 0.5 * low if low < float("inf") else 0.0
    if logy and top > 0:
        low = max(low, top * 1e-6)
    return st.headroom(top, logy, low)


def data_graph(data: Any) -> Any:
    """Observed counts as points with Garwood 68.3 % intervals; empty bins are not drawn
    (their upper error would fill the plot with bars at 1.84 events)."""
    ROOT = import_root()
    st.data_style(data)
    g = ROOT.TGraphAsymmErrors()
    for i in range(1, data.GetNbinsX() + 1):
        n = data.GetBinContent(i)
        if n > 0:
            k = g.GetN()
            g.SetPoint(k, data.GetBinCenter(i), n)
            g.SetPointError(k, 0.0, 0.0, data.GetBinErrorLow(i), data.GetBinErrorUp(i))
    g.SetMarkerStyle(20)
    g.SetMarkerSize(1.0)
    return g


def _band(total: Any, name: str) -> Any:
    """The MC uncertainty as a hatched band around the total."""
    band = total.Clone(f"band_{name}")
    band.SetDirectory(0)
    band.SetFillColor(import_root().kBlack)
    band.SetFillStyle(3354)
    band.SetMarkerSize(0)
    band.SetLineWidth(0)
    return band


def _ratio(data: Any, total: Any, name: str) -> tuple[Any, Any]:
    """(data/MC points with Poisson errors, MC relative-uncertainty band around 1)."""
    ROOT = import_root()
    points = ROOT.TGraphAsymmErrors()
    band = total.Clone(f"ratio_band_{name}")
    band.SetDirectory(0)
    for i in range(1, total.GetNbinsX() + 1):
        m = total.GetBinContent(i)
        band.SetBinContent(i, 1.0 if m > 0 else 0.0)
        band.SetBinError(i, total.GetBinError(i) / m if m > 0 else 0.0)
        d = data.GetBinContent(i)
        if m > 0 and d > 0:
            n = points.GetN()
            points.SetPoint(n, total.GetBinCenter(i), d / m)
            points.SetPointError(n, 0.0, 0.0, data.GetBinErrorLow(i) / m,
                                 data.GetBinErrorUp(i) / m)
    band.SetFillColor(st.color("grey"))
    band.SetFillStyle(1001)
    band.SetMarkerSize(0)
    band.SetLineWidth(0)
    points.SetMarkerStyle(20)
    points.SetMarkerSize(1.0)
    return points, band


def ratio_range(points: Any) -> tuple[float, float]:
    """0 to a bit above the largest ratio (at least 2, at most 10): small samples scatter."""
    top = max([points.GetPointY(i) for i in range(points.GetN())] + [1.6])
    return 0.0, min(10.0, max(2.0, 1.2 * top))


def _main_pad(c: Any, with_ratio: bool, logy: bool) -> Any:
    ROOT = import_root()
    pad = ROOT.TPad("main", "", 0, 0.3 if with_ratio else 0, 1, 1)
    pad.SetTopMargin(0.07 if with_ratio else 0.06)
    pad.SetBottomMargin(0.02 if with_ratio else 0.13)
    pad.SetLogy(logy)
    pad.Draw()
    return pad


def _ratio_pad(c: Any) -> Any:
    ROOT = import_root()
    c.cd()
    pad = ROOT.TPad("ratio", "", 0, 0, 1, 0.3)
    pad.SetTopMargin(0.03)
    pad.SetBottomMargin(0.36)
    pad.SetGridy(True)
    pad.Draw()
    return pad


def _legend(mc: Sequence[tuple[str, Any]], data: Any | None, band: Any | None,
            blinded: bool) -> Any:
    """Legend at the top right, inside the headroom the y range leaves free."""
    n = len(mc) + (band is not None) + 1
    leg = st.legend(0.58, 0.91 - 0.05 * n, 0.93, 0.91)
    leg.SetTextSize(st.SMALL_PX - 1)
    if data is not None:
        leg.AddEntry(data, f"{st.sample_label('data')} ({data.Integral():.0f} events)", "pe")
    elif blinded:
        leg.AddEntry(0, "data: blinded", "")
    for sample, h in reversed(mc):
        leg.AddEntry(h, f"{st.sample_label(sample)} ({h.Integral():.3g})", "f")
    if band is not None:
        leg.AddEntry(band, "MC statistical uncertainty", "f")
    return leg


def stack_figure(out: Path, name: str, mc: Sequence[tuple[str, Any]], data: Any | None, *,
                 caption: str, n_k: float, blinded: bool, logy: bool,
                 save: Callable[[Any, Path, str], list[Path]], rebin: int = 1) -> list[Path]:
    """Draw and save one stacked-MC-versus-data figure; nothing when there is nothing.

    ``rebin``: bins merged for display (a handful of data events in fine bins says nothing)."""
    ROOT = import_root()
    if rebin > 1:
        mc = [(s, h.Rebin(rebin, f"{h.GetName()}_r{rebin}")) for s, h in mc]
        data = data.Rebin(rebin, f"{data.GetName()}_r{rebin}") if data is not None else None
    mc = [(s, h) for s, h in mc if h.Integral() > 0]  # an empty sample adds nothing
    if not mc and data is None:
        return []
    total = _total(mc, name)
    like = total if total is not None else data
    with_ratio = data is not None and total is not None
    c = ROOT.TCanvas(f"c_{name}", "", 800, 800 if with_ratio else 650)
    keep: list[Any] = [c]
    pad = _main_pad(c, with_ratio, logy)
    pad.cd()
    frame = st.restyle(like.Clone(f"frame_{name}"))
    frame.Reset()
    frame.SetDirectory(0)
    lo, hi = _y_range(total, data, logy)
    frame.SetMinimum(lo if logy else 0.0)
    frame.SetMaximum(hi)
    what = "expected events" if data is None else "events"
    frame.GetYaxis().SetTitle(st.per_bin_title(like.GetXaxis(), what))
    if with_ratio:
        frame.GetXaxis().SetLabelSize(0)
        frame.GetXaxis().SetTitleSize(0)
    frame.Draw("AXIS")
    stack = ROOT.THStack(f"stack_{name}", "")
    for sample, h in mc:
        st.restyle(h)
        st.mc_style(h, sample)
        stack.Add(h)
    band = None
    if total is not None:
        stack.Draw("HIST same")
        band = _band(total, name)
        band.Draw("E2 same")
    graph = None
    if data is not None:
        graph = data_graph(data)
        graph.Draw("PZ same")
    leg = _legend(mc, data, band, blinded)
    leg.Draw()
    pad.RedrawAxis()
    keep += [frame, stack, band, leg, graph]
    keep += st.experiment_label(n_k, blinded, x=0.18, y=0.87)
    keep.append(st.caption(caption, 0.18, 0.87 - (0.11 if blinded else 0.055)))
    if with_ratio:
        keep += _draw_ratio(c, data, total, like, name)
    c._keep = keep
    return save(c, out, name)


def _draw_ratio(c: Any, data: Any, total: Any, like: Any, name: str) -> list[Any]:
    """The data/MC panel under the main pad, with the MC uncertainty band around 1."""
    pad = _ratio_pad(c)
    pad.cd()
    points, band = _ratio(data, total, name)
    lo, hi = ratio_range(points)
    frame = st.restyle(like.Clone(f"rframe_{name}"))
    frame.Reset()
    frame.SetDirectory(0)
    frame.SetMinimum(lo)
    frame.SetMaximum(hi - 1e-3 * (hi - lo))
    frame.GetYaxis().SetTitle("data / MC")
    frame.GetYaxis().SetNdivisions(505)
    frame.GetYaxis().CenterTitle()
    frame.GetXaxis().SetTitleOffset(1.1)
    frame.Draw("AXIS")
    band.Draw("E2 same")
    points.Draw("PZ same")
    pad.RedrawAxis()
    return [pad, frame, points, band]
