"""Plots of a results directory (PNG + PDF, ROOT TCanvas in batch mode, style of plot_style).

Why plots take only stored histograms and the summary: ``nutag report`` redraws them from
histograms.root without events, and a blinded run simply has no data histogram of a blind
region to draw — blinding is never a matter of what the plotting code chooses to hide.
MC is drawn as expected data counts: N_K / n_generated times the weighted histogram (the
histograms hold sums of weights, the branching ratio inside the weight).

Figures: ``plane`` (the paper's figure: MC expectation in colour, data as markers, every box,
the published candidate), ``plane_<sample>``, ``projection_m_miss2``/``projection_d_lkr``
(+ ``_log``) with a data/MC ratio, ``e_nu_selected`` and ``cutflow_<sample>``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import plot_style as st
from .plot_cutflow import cutflow_plots
from .plot_stack import stack_figure
from ..core.rootenv import import_root

log = logging.getLogger("nutag.outputs.plots")

Histos = Mapping[tuple[str, str], Mapping[str, Any]]
PLANE = "m2_vs_dlkr"
#: box name -> (legend label, Okabe-Ito colour, line style)
BOX_STYLE = {"signal": ("signal box", "vermillion", 1),
             "sb_dlkr": ("d_{LKr} side-band", "blue", 1),
             "sb_mmiss": ("m^{2}_{miss} side-bands", "purple", 2)}


def save(canvas: Any, out: Path, name: str) -> list[Path]:
    """PNG + PDF of a canvas; the canvas is closed so a second report reuses the name."""
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for p in paths:
        canvas.SaveAs(str(p))
    canvas.Close()
    return paths


def expected(h: Any, sample: Mapping[str, Any], n_k: float, tag: str) -> Any:
    """Clone of h as expected data counts (MC: times N_K / n_generated) or as is (data)."""
    c = h.Clone(f"{h.GetName()}_{tag}")
    c.SetDirectory(0)
    if sample["kind"] == "mc":
        n_gen = float(sample["meta"].get("n_generated") or 0)
        if n_gen > 0:
            c.Scale(n_k / n_gen)
    return c


def mc_samples(doc: Mapping[str, Any]) -> list[str]:
    """MC sample names in the run's order."""
    return [n for n, s in doc["samples"].items() if s["kind"] == "mc"]


def data_samples(doc: Mapping[str, Any]) -> list[str]:
    """Data sample names in the run's order."""
    return [n for n, s in doc["samples"].items() if s["kind"] == "data"]


# --------------------------------------------------------------------------- the plane
def box_rectangles(boxes: Mapping[str, float]) -> dict[str, list[tuple[float, ...]]]:
    """(x1, y1, x2, y2) of every region box in the (m2_miss [GeV2/c4], d_LKr [mm]) plane."""
    b = boxes
    dm2 = b.get("box_dlkr_sb_m2", b["box_dlkr_sr"])  # d_LKr extent of the m_miss2 side-bands
    return {"signal": [(-b["box_m2_sr"], 0.0, b["box_m2_sr"], b["box_dlkr_sr"])],
            "sb_dlkr": [(-b["box_m2_sr"], b["box_dlkr_sb_lo"], b["box_m2_sr"],
                         b["box_dlkr_sb_hi"])],
            "sb_mmiss": [(b["box_m2_sb_lo"], 0.0, b["box_m2_sb_hi"], dm2),
                         (-b["box_m2_sb_hi"], 0.0, -b["box_m2_sb_lo"], dm2)]}


def clip(rect: tuple[float, ...], window: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """The part of a rectangle inside the drawn window (a TBox is not clipped to the frame)."""
    if window is None:
        return rect
    x1, y1 = max(rect[0], window[0]), max(rect[1], window[1])
    x2, y2 = min(rect[2], window[2]), min(rect[3], window[3])
    return (x1, y1, x2, y2) if x1 < x2 and y1 < y2 else None


def draw_boxes(boxes: Mapping[str, float], blinded: bool, leg: Any,
               window: tuple[float, ...] | None = None) -> list[Any]:
    """Outline every box, hatch the signal box while blinded, name each in the legend."""
    ROOT = import_root()
    keep = []
    for name, rects in box_rectangles(boxes).items():
        label, colour, style = BOX_STYLE[name]
        clipped = [r for r in (clip(r, window) for r in rects) if r is not None]
        for i, (x1, y1, x2, y2) in enumerate(clipped):
            hatched = name == "signal" and blinded
            if hatched:
                fill = ROOT.TBox(x1, y1, x2, y2)
                fill.SetFillColor(st.color("grey"))
                fill.SetFillStyle(3354)
                fill.Draw()
                keep.append(fill)
            box = ROOT.TBox(x1, y1, x2, y2)
            box.SetFillStyle(0)
            box.SetLineColor(st.color(colour))
            box.SetLineStyle(style)
            box.SetLineWidth(3)
            box.Draw("l")
            keep.append(box)
            if i == 0:
                entry = ROOT.TBox(x1, y1, x2, y2)  # legend swatch: outline (+ hatch)
                entry.SetLineColor(st.color(colour))
                entry.SetLineStyle(style)
                entry.SetLineWidth(3)
                entry.SetFillColor(st.color("grey"))
                entry.SetFillStyle(3354 if hatched else 0)
                leg.AddEntry(entry, label + (" (blinded)" if hatched else ""), "lf")
                keep.append(entry)
    return keep


def data_markers(h: Any, leg: Any | None, label: str) -> list[Any]:
    """One marker per filled bin at its centre, the count written beside bins with more."""
    ROOT = import_root()
    g, keep = ROOT.TGraph(), []
    for ix in range(1, h.GetNbinsX() + 1):
        for iy in range(1, h.GetNbinsY() + 1):
            n = h.GetBinContent(ix, iy)
            if n <= 0:
                continue
            x, y = h.GetXaxis().GetBinCenter(ix), h.GetYaxis().GetBinCenter(iy)
            g.AddPoint(x, y)
            if n > 1.5:
                t = ROOT.TLatex(x, y, f" {n:.0f}")
                t.SetTextFont(st.FONT)
                t.SetTextSize(st.SMALL_PX - 4)
                t.SetTextAlign(12)
                t.Draw()
                keep.append(t)
    g.SetMarkerStyle(20)  # white disc under a black ring: visible on every palette colour
    g.SetMarkerSize(1.3)
    g.SetMarkerColor(ROOT.kWhite)
    ring = g.Clone()
    ring.SetMarkerStyle(24)
    ring.SetMarkerColor(ROOT.kBlack)
    if g.GetN():
        g.Draw("P same")
        ring.Draw("P same")
    if leg is not None:
        leg.AddEntry(ring, f"{label} ({h.Integral():.0f} events)", "p")
    return keep + [g, ring]


def candidate_marker(candidate: Mapping[str, Any] | None, leg: Any) -> list[Any]:
    """The published candidate (public while blinded) as a star, outlined to show on colour."""
    if not candidate or candidate.get("m_miss2") is None or candidate.get("d_LKr") is None:
        return []
    ROOT = import_root()
    x, y = float(candidate["m_miss2"]), float(candidate["d_LKr"])
    fill = ROOT.TMarker(x, y, 29)
    fill.SetMarkerColor(st.color("yellow"))
    fill.SetMarkerSize(3.2)
    edge = ROOT.TMarker(x, y, 30)
    edge.SetMarkerColor(ROOT.kBlack)
    edge.SetMarkerSize(3.2)
    fill.Draw()
    edge.Draw()
    leg.AddEntry(fill, "NA62 candidate (PLB 863 (2025) 139345)", "p")
    return [fill, edge]


def _plane_frame(ROOT: Any, like: Any, name: str) -> Any:
    """Empty frame with the plane's axes, so data-only planes have the same look."""
    frame = st.restyle(like.Clone(f"frame_{name}"))
    frame.Reset()
    frame.SetDirectory(0)
    frame.GetXaxis().SetTitle("m^{2}_{miss} [GeV^{2}/c^{4}]")
    frame.GetYaxis().SetTitle("d_{LKr} [mm]")
    frame.GetXaxis().SetNdivisions(505)
    return frame


def plane_canvas(name: str, mc: Any | None, data: Any | None, *, boxes: Mapping | None,
                 blinded: bool, n_k: float, candidate: Mapping[str, Any] | None,
                 caption: str, data_label: str,
                 zoom: tuple[float, float, float, float] | None = None) -> Any:
    """The (m2_miss, d_LKr) plane: MC expectation in colour (log z), data as markers, boxes,
    the candidate; labels and legend above the frame, clear of the events."""
    ROOT = import_root()
    c = ROOT.TCanvas(f"c_{name}", "", 900, 800)
    c.SetTopMargin(0.25)
    c.SetRightMargin(0.21 if mc is not None else 0.05)
    keep: list[Any] = [c]
    like = mc if mc is not None else data
    frame = _plane_frame(ROOT, like, name)
    if zoom:
        frame.GetXaxis().SetRangeUser(zoom[0], zoom[2])
        frame.GetYaxis().SetRangeUser(zoom[1], zoom[3])
    keep.append(frame)
    if mc is not None:
        st.restyle(mc)
        mc.GetZaxis().SetTitleOffset(1.9)
        mc.GetXaxis().SetTitle(frame.GetXaxis().GetTitle())
        mc.GetYaxis().SetTitle(frame.GetYaxis().GetTitle())
        mc.GetXaxis().SetNdivisions(505)
        if zoom:
            mc.GetXaxis().SetRangeUser(zoom[0], zoom[2])
            mc.GetYaxis().SetRangeUser(zoom[1], zoom[3])
        mc.GetZaxis().SetTitle(st.per_cell_title(mc.GetXaxis(), mc.GetYaxis()))
        top = mc.GetMaximum()
        positive = [mc.GetBinContent(i) for i in range(mc.GetNcells()) if mc.GetBinContent(i) > 0]
        mc.SetMinimum(max(min(positive), top * 1e-5) * 0.9 if positive else 1e-6)
        mc.SetMaximum(top * 1.5 if top > 0 else 1.0)
        c.SetLogz(bool(positive))
        mc.Draw("COLZ")
    else:
        frame.Draw("AXIS")
    leg = st.legend(0.13, 0.765, 0.95 - c.GetRightMargin() + 0.05, 0.89, columns=2)
    keep.append(leg)
    if boxes:
        keep += draw_boxes(boxes, blinded, leg, zoom)
    if data is not None:
        keep += data_markers(data, leg, data_label)
    keep += candidate_marker(candidate, leg)
    c.RedrawAxis()
    keep.append(leg)
    leg.Draw()
    keep += st.experiment_label(n_k, blinded and data is not None, x=0.13, y=0.955)
    keep.append(st.caption(caption, 0.95 - c.GetRightMargin() + 0.05, 0.955, align=31))
    c._keep = keep  # the primitives live as long as the canvas
    return c


def plane_plots(out: Path, histos: Histos, doc: Mapping[str, Any], boxes: Mapping | None,
                blinded: bool, n_k: float, candidate: Mapping[str, Any] | None) -> list[Path]:
    """The paper's figure ``plane`` (all MC summed) and one plane per sample."""
    written: list[Path] = []
    mc_total = None
    for sample in mc_samples(doc):
        h = histos.get((sample, "tagged"), {}).get(PLANE)
        if h is None:
            continue
        h = expected(h, doc["samples"][sample], n_k, "plane")
        if h.Integral() <= 0:  # e.g. the normalisation sample: none is tagged
            continue
        c = plane_canvas(f"plane_{sample}", h, None, boxes=boxes, blinded=False, n_k=n_k,
                         candidate=None, caption=st.sample_label(sample), data_label="")
        written += save(c, out, f"plane_{sample}")
        if mc_total is None:
            mc_total = h.Clone("plane_mc_total")
            mc_total.SetDirectory(0)
        else:
            mc_total.Add(h)
    data, data_region = None, "tagged_outside" if blinded else "tagged"
    for sample in data_samples(doc):
        data = histos.get((sample, data_region), {}).get(PLANE)
        if data is None:
            continue
        c = plane_canvas(f"plane_{sample}", None, data, boxes=boxes, blinded=blinded, n_k=n_k,
                         candidate=candidate, caption=st.region_label(data_region),
                         data_label=st.sample_label(sample))
        written += save(c, out, f"plane_{sample}")
    if mc_total is None and data is None:
        return written
    for name, zoom in (("plane", None), ("plane_zoom", zoom_window(boxes))):
        if name == "plane_zoom" and zoom is None:
            continue
        c = plane_canvas(name, mc_total, data, boxes=boxes, blinded=blinded, n_k=n_k,
                         candidate=candidate, caption="colour: all simulated samples",
                         data_label=st.sample_label("data"), zoom=zoom)
        written += save(c, out, name)
    return written


def zoom_window(boxes: Mapping[str, float] | None) -> tuple[float, float, float, float] | None:
    """Around the signal box: to its m2_miss side-bands' inner edges and above, where the
    signal, the candidate and the hatched box are big enough to see."""
    if not boxes:
        return None
    half = 1.7 * boxes["box_m2_sb_lo"]
    return (-half, 0.0, half, 1.5 * boxes["box_dlkr_sb_lo"])


# --------------------------------------------------------------------------- 1D figures
def projection_plots(out: Path, histos: Histos, doc: Mapping[str, Any], n_k: float,
                     blinded: bool) -> list[Path]:
    """Projections of the plane on m2_miss and d_LKr (linear and log y), one region for data
    and MC: outside the signal box while blinded, the whole plane once unblinded."""
    region = "tagged_outside" if blinded else "tagged"
    written: list[Path] = []
    for axis, name in (("X", "projection_m_miss2"), ("Y", "projection_d_lkr")):
        mc, data = [], None
        for sample, info in doc["samples"].items():
            h2 = histos.get((sample, region), {}).get(PLANE)
            if h2 is None:
                continue
            other = h2.GetNbinsY() if axis == "X" else h2.GetNbinsX()
            # inside the other axis's range only: the events of the plane figure, no overflow
            proj = (h2.ProjectionX if axis == "X" else h2.ProjectionY)(f"{sample}_{name}", 1,
                                                                        other, "e")
            proj.SetDirectory(0)
            if info["kind"] == "data":
                data = proj
            else:
                mc.append((sample, expected(proj, info, n_k, "exp")))
        for logy in (False, True):
            written += stack_figure(out, name + ("_log" if logy else ""), mc, data,
                                    caption=st.region_label(region), n_k=n_k, blinded=blinded,
                                    logy=logy, save=save, rebin=2)
    return written


def enu_plot(out: Path, histos: Histos, doc: Mapping[str, Any], options: Mapping[str, Any],
             n_k: float, blinded: bool) -> list[Path]:
    """E_nu of selected events in the signal region: the MC expectation (and data once
    unblinded)."""
    region = options.get("signal", {}).get("region", "signal")
    mc, data = [], None
    for sample, info in doc["samples"].items():
        h = histos.get((sample, region), {}).get("e_nu")
        if h is None:
            continue
        if info["kind"] == "data":
            data = h.Clone(f"{sample}_enu")
            data.SetDirectory(0)
        else:
            mc.append((sample, expected(h, info, n_k, "enu")))
    return stack_figure(out, "e_nu_selected", mc, data, caption=st.region_label(region),
                        n_k=n_k, blinded=blinded, logy=False, save=save, rebin=3)


def make_all(out: Path, histos: Histos, summary: Mapping[str, Any], doc: Mapping[str, Any],
             options: Mapping[str, Any], boxes: Mapping[str, float] | None,
             candidate: Mapping[str, Any] | None = None) -> list[Path]:
    """Every plot of the report; returns the files written."""
    st.apply()
    blinded = bool(summary["blinded"])
    n_k = st.meta_n_k(summary)
    if candidate is None:
        from ..results.observation import published_numbers  # noqa: PLC0415

        candidate = published_numbers().get("candidate")
    written = plane_plots(out, histos, doc, boxes, blinded, n_k, candidate)
    written += projection_plots(out, histos, doc, n_k, blinded)
    written += enu_plot(out, histos, doc, options, n_k, blinded)
    written += cutflow_plots(out, doc, options, n_k, blinded, save=save)
    log.info("wrote %d plot files to %s", len(written), out)
    return written
