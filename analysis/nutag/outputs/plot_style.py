"""One look for every figure of a results directory: fonts, margins, colours, labels, axis titles.

Why one module: a figure goes on a slide or into a note beside figures of other runs; the same
fonts, the same colour for the same sample and the same sample label on every one of them make
them comparable at a glance. Colours are the Okabe-Ito set and the 2D palette is Cividis, both
readable with the common colour-vision deficiencies and in grey-scale print.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ..core.rootenv import import_root

#: Okabe-Ito colours (Okabe & Ito 2008), as hex
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
             "green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999"}

#: sample -> (legend label in words, Okabe-Ito colour); unknown samples get grey
SAMPLES: dict[str, tuple[str, str]] = {
    "signal": ("#nu_{#mu} signal (tagged #nu)", "vermillion"),
    "overlay": ("overlaid K^{+}#rightarrow#mu^{+}#nu", "sky_blue"),
    "misreco": ("mis-reconstructed K^{+} decays", "green"),
    "kmu2": ("K^{+}#rightarrow#mu^{+}#nu (normalisation)", "purple"),
    "data": ("pseudo-data", "black"),
}

#: region -> what it is, in words (figure captions, never the internal name alone)
REGIONS: dict[str, str] = {
    "signal": "signal region",
    "tagged": "all tagged events (whole plane)",
    "tagged_outside": "tagged events outside the signal box",
    "sb_dlkr": "d_{LKr} side-band",
    "sb_mmiss": "m^{2}_{miss} side-bands",
    "kmu2_norm": "K_{#mu2} normalisation sample",
    "signal_relaxed": "signal box, relaxed selection",
    "tagged_relaxed": "whole plane, relaxed selection",
}

FONT = 43  # Helvetica, size in pixels: the same text size on every pad whatever its height
TEXT_PX = 20
SMALL_PX = 17


def color(name: str) -> int:
    """ROOT colour index of an Okabe-Ito colour name (or of a sample name)."""
    ROOT = import_root()
    key = SAMPLES[name][1] if name in SAMPLES else name
    return int(ROOT.TColor.GetColor(OKABE_ITO.get(key, OKABE_ITO["grey"])))


def sample_label(sample: str) -> str:
    """The legend label of a sample in words."""
    return SAMPLES.get(sample, (sample, "grey"))[0]


def region_label(region: str) -> str:
    """A region in words, for captions."""
    return REGIONS.get(region, region.replace("_", " "))


def apply() -> None:
    """Set the global ROOT style once before drawing (batch mode, no stat box, no title)."""
    ROOT = import_root()
    ROOT.gROOT.SetBatch(True)
    ROOT.gErrorIgnoreLevel = ROOT.kWarning  # no "Info in <TCanvas::Print>" per file
    s = ROOT.gStyle
    s.SetOptStat(0)
    s.SetOptTitle(0)
    for axis in ("X", "Y", "Z"):
        s.SetLabelFont(FONT, axis)
        s.SetTitleFont(FONT, axis)
        s.SetLabelSize(SMALL_PX, axis)
        s.SetTitleSize(TEXT_PX, axis)
    s.SetTextFont(FONT)
    s.SetTextSize(TEXT_PX)
    s.SetLegendFont(FONT)
    s.SetLegendTextSize(SMALL_PX)
    s.SetLegendBorderSize(0)
    s.SetLegendFillColor(0)
    s.SetTitleOffset(1.2, "X")
    s.SetTitleOffset(1.6, "Y")
    s.SetTitleOffset(1.5, "Z")
    s.SetPadTickX(1)
    s.SetPadTickY(1)
    s.SetPadLeftMargin(0.14)
    s.SetPadRightMargin(0.05)
    s.SetPadTopMargin(0.06)
    s.SetPadBottomMargin(0.13)
    s.SetFrameLineWidth(1)
    s.SetHatchesLineWidth(1)
    s.SetHatchesSpacing(1.0)
    s.SetEndErrorSize(0)
    s.SetPalette(ROOT.kCividis)
    s.SetNumberContours(64)


def power_of_ten(x: float, digits: int = 2) -> str:
    """5.0#times10^{12} style (TLatex) with ``digits`` significant digits."""
    if x <= 0 or not math.isfinite(x):
        return f"{x:g}"
    exp = math.floor(math.log10(x))
    mant = x / 10 ** exp
    if round(mant, digits - 1) >= 10:
        mant, exp = mant / 10, exp + 1
    return f"{mant:.{digits - 1}f}#times10^{{{exp}}}"


def experiment_label(n_k: float, blinded: bool, x: float = 0.17, y: float = 0.89) -> list[Any]:
    """"NA62 simulation, N_K = 5.0x10^12" (+ "blinded") at the top left of the current pad."""
    ROOT = import_root()
    head = ROOT.TLatex(x, y, f"#bf{{NA62 simulation,}} N_{{K}} = {power_of_ten(n_k)}")
    head.SetNDC()
    head.SetTextFont(FONT)
    head.SetTextSize(TEXT_PX)
    out = [head]
    if blinded:
        tag = ROOT.TLatex(x, y - 0.055, "#it{blinded: no data in the signal box}")
        tag.SetNDC()
        tag.SetTextFont(FONT)
        tag.SetTextSize(SMALL_PX)
        tag.SetTextColor(color("vermillion"))
        out.append(tag)
    for t in out:
        t.Draw()
    return out


def caption(text: str, x: float, y: float, size: int = SMALL_PX, align: int = 11) -> Any:
    """A line of text in NDC on the current pad (what the figure shows, in words)."""
    ROOT = import_root()
    t = ROOT.TLatex(x, y, text)
    t.SetNDC()
    t.SetTextFont(FONT)
    t.SetTextSize(size)
    t.SetTextAlign(align)
    t.Draw()
    return t


def split_unit(title: str) -> tuple[str, str]:
    """("d_{LKr}", "mm") from "d_{LKr} [mm]"; no unit gives ""."""
    m = re.match(r"^(.*?)\s*\[(.+)\]\s*$", title or "")
    return (m.group(1), m.group(2)) if m else (title or "", "")


def bin_width(axis: Any) -> float | None:
    """The bin width of a uniform axis, None for variable bins."""
    if axis.GetXbins().GetSize() > 0:
        return None
    return (axis.GetXmax() - axis.GetXmin()) / axis.GetNbins()


def _width_text(width: float) -> str:
    return f"{float(f'{width:.6g}'):g}"


def per_bin_title(axis: Any, what: str = "expected events") -> str:
    """"expected events / (10 mm)" for a uniform axis, "... / bin" otherwise."""
    width = bin_width(axis)
    if width is None:
        return f"{what} / bin"
    unit = split_unit(axis.GetTitle())[1]
    return f"{what} / ({_width_text(width)}{' ' + unit if unit else ''})"


def per_cell_title(xaxis: Any, yaxis: Any, what: str = "expected events") -> str:
    """z title of a 2D histogram: events per (x width) x (y width) cell, with units."""
    wx, wy = bin_width(xaxis), bin_width(yaxis)
    if wx is None or wy is None:
        return f"{what} / bin"
    ux, uy = split_unit(xaxis.GetTitle())[1], split_unit(yaxis.GetTitle())[1]
    cell = (f"{_width_text(wx)}{' ' + ux if ux else ''} #times "
            f"{_width_text(wy)}{' ' + uy if uy else ''}")
    return f"{what} / ({cell})"


def restyle(h: Any) -> Any:
    """A histogram made before the style was set (RDataFrame, a file) drawn in the style."""
    h.UseCurrentStyle()
    return h


def legend(x1: float, y1: float, x2: float, y2: float, columns: int = 1) -> Any:
    """An empty, borderless legend in the house style."""
    ROOT = import_root()
    leg = ROOT.TLegend(x1, y1, x2, y2)
    leg.SetBorderSize(0)
    leg.SetFillStyle(0)
    leg.SetTextFont(FONT)
    leg.SetTextSize(SMALL_PX)
    leg.SetNColumns(columns)
    return leg


def mc_style(h: Any, sample: str) -> None:
    """Filled, outlined histogram of one MC sample in its colour."""
    h.SetFillColor(color(sample))
    h.SetLineColor(import_root().kBlack)
    h.SetLineWidth(1)


def data_style(h: Any) -> None:
    """Black markers with Poisson (Garwood) intervals, the convention for observed counts."""
    ROOT = import_root()
    h.SetBinErrorOption(ROOT.TH1.kPoisson)
    h.SetMarkerStyle(20)
    h.SetMarkerSize(1.0)
    h.SetMarkerColor(ROOT.kBlack)
    h.SetLineColor(ROOT.kBlack)


def headroom(ymax: float, log: bool, ymin: float = 0.0) -> tuple[float, float]:
    """(minimum, maximum) of the y axis leaving the top ~40 % free for labels and legend."""
    if not log:
        return 0.0, (ymax * 1.75 if ymax > 0 else 1.0)
    lo = ymin if ymin > 0 else (ymax * 1e-4 if ymax > 0 else 1e-3)
    hi = max(ymax, lo * 10)
    return lo, lo * (hi / lo) ** 1.7


def meta_n_k(summary: Mapping[str, Any]) -> float:
    """N_K of the run (the measured one, what every expected number is scaled to)."""
    return float(summary["n_kaon_decays"])
