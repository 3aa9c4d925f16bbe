"""Cutflow figures: expected events after each cut of one region per sample, log y.

Why one region per sample: the normalisation MC is read in the normalisation region, the other
MC samples in the signal region (the full selection ending in the box), data in the signal region
once unblinded and outside the signal box while blinded — the cut sequence that sample matters
for. The numbers are those of cutflows.md's expected-events column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import plot_style as st
from ..results.cutflow import expected_scales
from ..core.rootenv import import_root


def cutflow_region(sample: str, info: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
    """The region whose cutflow the sample's figure shows (None: nothing to show)."""
    regions = info["regions"]
    norm = options.get("normalisation") or {}
    if sample == norm.get("mc_sample") and norm.get("region") in regions:
        return norm["region"]
    signal = (options.get("signal") or {}).get("region", "signal")
    for region in (signal, "tagged_outside", *regions):
        if regions.get(region):
            return region
    return None


def _histogram(rows: list[Mapping[str, Any]], scale: float | None, name: str) -> Any:
    """One bin per cut, labelled with the cut, holding the expected (or observed) events."""
    ROOT = import_root()
    h = ROOT.TH1D(name, "", len(rows), 0, len(rows))
    h.SetDirectory(0)
    for i, row in enumerate(rows, start=1):
        value = row["sumw"] * scale if scale is not None else row["sumw"]
        error = (row["sumw2"] ** 0.5) * scale if scale is not None else row["raw"] ** 0.5
        h.SetBinContent(i, value)
        h.SetBinError(i, error)
        h.GetXaxis().SetBinLabel(i, str(row["cut"]))
    return h


def cutflow_figure(out: Path, sample: str, region: str, rows: list[Mapping[str, Any]],
                   scale: float | None, *, n_k: float, blinded: bool,
                   save: Callable[[Any, Path, str], list[Path]]) -> list[Path]:
    """Bars of expected events (MC) or markers of observed events (data) after each cut."""
    ROOT = import_root()
    name = f"cutflow_{sample}"
    h = _histogram(rows, scale, f"h_{name}")
    positive = [h.GetBinContent(i) for i in range(1, h.GetNbinsX() + 1) if h.GetBinContent(i) > 0]
    if not positive:
        return []
    c = ROOT.TCanvas(f"c_{name}", "", 1000, 750)
    c.SetBottomMargin(0.25)
    c.SetLogy(True)
    lo, hi = st.headroom(max(positive), True, 0.3 * min(positive))
    h.SetMinimum(lo)
    h.SetMaximum(hi)
    h.GetXaxis().LabelsOption("v")
    h.GetXaxis().SetLabelSize(st.SMALL_PX - 2)
    h.GetYaxis().SetTitle("expected events" if scale is not None else "events")
    if scale is not None:
        h.SetFillColor(st.color(sample))
        h.SetLineColor(ROOT.kBlack)
        h.Draw("HIST")
        err = h.Clone(f"e_{name}")
        err.SetFillColor(ROOT.kBlack)
        err.SetFillStyle(3354)
        err.SetMarkerSize(0)
        err.Draw("E2 same")
    else:
        st.data_style(h)
        err = None
        h.Draw("PE X0")
    c.RedrawAxis()
    keep = [c, h, err]
    keep += st.experiment_label(n_k, blinded and scale is None, x=0.17, y=0.88)
    keep.append(st.caption(f"{st.sample_label(sample)}, {st.region_label(region)}", 0.17,
                           0.88 - (0.11 if blinded and scale is None else 0.055)))
    c._keep = keep
    return save(c, out, name)


def cutflow_plots(out: Path, doc: Mapping[str, Any], options: Mapping[str, Any], n_k: float,
                  blinded: bool, *, save: Callable[[Any, Path, str], list[Path]]) -> list[Path]:
    """One cutflow figure per sample of the run."""
    scales = expected_scales(doc, n_k)
    written: list[Path] = []
    for sample, info in (doc.get("cutflows") or {}).items():
        if sample.startswith("_"):
            continue
        region = cutflow_region(sample, info, options)
        if region is None:
            continue
        written += cutflow_figure(out, sample, region, info["regions"][region],
                                  scales.get(sample), n_k=n_k, blinded=blinded, save=save)
    return written
