"""Tables and plots of a pseudo-experiment ensemble (:mod:`nutag.studies.toys`), written atomically.

Why apart from the computation: the numbers are testable without ROOT; only the figures need
it (batch mode, PNG).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..results import stats
from ..core.atomic import atomic_write
from ..core.rootenv import import_root

PLOTS = ("toys_background", "toys_p_b", "toys_counts")


# --------------------------------------------------------------------------- table
def _pct(f: Mapping[str, float]) -> str:
    """Share of toys ± binomial error; for none, the Garwood 68 % upper edge of 0 instead."""
    if f["value"] == 0.0:
        return f"0 (< {100 * stats.garwood(0).high / f['toys']:.2g} %)"
    return f"{100 * f['value']:.1f} ± {100 * f['error']:.1f} %"


def _g(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


def _rank(r: Mapping[str, float]) -> str:
    return (f"{100 * r['percentile']:.1f} % (below {100 * r['below']:.1f} %, "
            f"equal {100 * r['equal']:.1f} %)")


def _coverage_rows(doc: Mapping[str, Any]) -> list[str]:
    """Coverage of [b - down, b + up] for both truths: the MC's and what the method estimates."""
    labels = {n: b["label"] for n, b in doc["model"]["backgrounds"].items()}
    rows = ["| background | true b [events] | stat (Garwood) interval | stat ⊕ syst interval "
            "| exact, factor fixed |", "|---|---|---:|---:|---:|"]
    for name, c in doc["coverage"].items():
        label = labels.get(name, "total")
        exact = c.get("garwood_exact_fixed_factor")
        rows.append(f"| {label} | MC truth {_g(c['truth_mc'])} | {_pct(c['mc']['stat'])} | "
                    f"{_pct(c['mc']['stat_syst'])} | |")
        rows.append(f"| {label} | side-band mean × factor {_g(c['truth_method'])} | "
                    f"{_pct(c['method']['stat'])} | {_pct(c['method']['stat_syst'])} | "
                    f"{'' if exact is None else f'{100 * exact:.1f} %'} |")
    return rows


def _outcome_rows(o: Mapping[str, Any], what: str) -> list[str]:
    """How often the toys give an outcome, and the percentiles of its numbers."""
    counts = ", ".join(f"{n} {c}" for n, c in o["sideband_counts"].items())
    rows = [f"| {what} | side-band counts ({counts}) | {_pct(o['sidebands']['toys'])} | "
            f"{100 * o['sidebands']['model']:.2f} % |"]
    for name, r in o["sideband_each"].items():
        rows.append(f"| {what} | percentile of side-band count {name} = {r['observed']} | "
                    f"{_rank(r)} | |")
    rows.append(f"| {what} | percentile of b̂ = {_g(o['b_hat']['value'])} (nutag's factors) | "
                f"{_rank(o['b_hat'])} | |")
    if o.get("signal_box_count"):
        sb = o["signal_box_count"]
        rows += [f"| {what} | signal-box count = {o['signal_box']} | {_pct(sb['toys'])} | "
                 f"{100 * sb['model']:.2f} % |",
                 f"| {what} | percentile of signal-box count | {_rank(sb)} | |",
                 f"| {what} | side-bands and signal box together | {_pct(o['all']['toys'])} | "
                 f"{100 * o['all']['model']:.3f} % |",
                 f"| {what} | percentile of P(n \\| b̂) = "
                 f"{_g(o['p_exactly_observed_b']['value'])} | "
                 f"{_rank(o['p_exactly_observed_b'])} | |"]
    else:
        rows.append(f"| {what} | signal-box count | blinded (not read) | |")
    return rows


def toys_markdown(doc: Mapping[str, Any]) -> str:
    """The ensemble as three Markdown tables: estimate and probabilities, coverage, outcomes."""
    m, bg, p = doc["model"], doc["background"]["total"], doc["probabilities"]
    lines = [f"{doc['n_toys']} pseudo-experiments of `{doc['results_dir']}` "
             f"({'blinded' if doc['blinded'] else 'unblinded'} run), seed {doc['seed']}; "
             f"integrated probabilities on the first {doc['n_integrated']} toys.", "",
             f"Model: s = {_g(m['signal'])}, MC-truth background b = {_g(m['truth'])} "
             f"(signal-box mean {_g(m['signal_box_expected'])}); "
             + "; ".join(f"{b['label']}: side-band mean {_g(b['expected_sideband'])}, factor "
                         f"{_g(b['factor'])} ± {_g(b['factor_stat'], 2)}"
                         for b in m["backgrounds"].values()) + ".", "",
             "| quantity | toys | model (exact) |", "|---|---:|---:|",
             f"| estimated background b̂ [events]: mean, median [16 %, 84 %] | {_g(bg['mean'])}, "
             f"{_g(bg['median'])} [{_g(bg['q16'])}, {_g(bg['q84'])}] | "
             f"{_g(doc['coverage']['total']['truth_method'])} (mean) |",
             f"| toys with b̂ = 0 (all side-bands empty) | {100 * bg['fraction_zero']:.1f} % | |"]
    for key, label in (("p_exactly_observed_b", "P(n \\| b̂)"),
                       ("p_exactly_observed_sb", "P(n \\| s + b̂)"),
                       ("p_at_least_observed_b", "P(≥ n \\| b̂)"),
                       ("p_exactly_observed_b_integrated", "P(n \\| b), b integrated"),
                       ("p_exactly_observed_sb_integrated", "P(n \\| s + b), b integrated")):
        q = p[key]
        if not q["toys"]:
            lines.append(f"| {label} | not computed (--integrated 0) | |")
            continue
        lines.append(f"| {label}: median [16 %, 84 %] ({q['toys']} toys; share = 0) | "
                     f"{_g(q['median'])} [{_g(q['q16'])}, {_g(q['q84'])}]; "
                     f"{100 * q['fraction_zero']:.1f} % | |")
    at1 = doc["signal_box_at_least_1"]
    lines += [f"| toys with ≥ 1 signal-box event | {_pct(at1['toys'])} | "
              f"{100 * at1['model']:.1f} % |", "", "Coverage of the quoted 68 % interval "
              "[b̂ − down, b̂ + up]:", ""]
    lines += _coverage_rows(doc)
    po = doc["published_outcome"]
    lines += ["", "Outcomes (percentile = share of toys below + half the share equal):", "",
              "| outcome | quantity | toys | model (exact) |", "|---|---|---:|---:|"]
    lines += _outcome_rows(po, "published")
    lines.append(f"| published | percentile of the paper's P(1 \\| b) = "
                 f"{_g(po['paper_p_exactly_observed_b']['value'])} | "
                 f"{_rank(po['paper_p_exactly_observed_b'])} | |")
    lines += _outcome_rows(doc["realisation"], "this run")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- plots
def _save_png(canvas: Any, out: Path, name: str) -> Path:
    """PNG written under a temporary name and renamed: a reader never sees half a file."""
    path = out / f"{name}.png"
    tmp = out / f".{name}.tmp.png"
    canvas.SaveAs(str(tmp))
    canvas.Close()
    os.replace(tmp, path)
    return path


def _vline(ROOT: Any, x: float, ymax: float, color: int, style: int = 1) -> Any:
    line = ROOT.TLine(x, 0.0, x, ymax)
    line.SetLineColor(color)
    line.SetLineStyle(style)
    line.SetLineWidth(2)
    line.Draw()
    return line


def _hist(ROOT: Any, name: str, title: str, values: np.ndarray, nbins: int, lo: float,
          hi: float) -> Any:
    h = ROOT.TH1D(name, title, nbins, lo, hi)
    h.SetDirectory(0)
    for v in values[np.isfinite(values)]:
        h.Fill(min(float(v), hi - 1e-12 * (hi - lo)))  # overflow into the last bin
    h.SetStats(0)
    h.SetLineWidth(2)
    return h


def _plot_background(ROOT: Any, doc: Mapping[str, Any], out: Path) -> Path:
    b = np.array(doc["toys"]["b_hat"], dtype=float)
    pub, real = doc["published_outcome"]["b_hat"]["value"], doc["realisation"]["b_hat"]["value"]
    hi = 1.1 * max(float(np.quantile(b, 0.995)), pub, doc["model"]["truth"])
    c = ROOT.TCanvas("c_toys_background", "", 800, 600)
    c.SetLogy()
    # one bin below 0, so that the toys with empty side-bands (b = 0) and the line stand free
    h = _hist(ROOT, "h_toys_b", f"{doc['n_toys']} pseudo-experiments;estimated background "
              "b = #Sigma n_{SB} f [events];toys", b, 61, -hi / 60, hi)
    h.SetMinimum(0.5)
    h.Draw("HIST")
    ymax = 2 * h.GetMaximum()
    keep = [_vline(ROOT, doc["coverage"]["total"]["truth_mc"], ymax, 2),
            _vline(ROOT, doc["coverage"]["total"]["truth_method"], ymax, 4, 2),
            _vline(ROOT, pub, ymax, 8, 7), _vline(ROOT, real, ymax, 6, 3)]
    leg = ROOT.TLegend(0.45, 0.62, 0.88, 0.88)
    for line, label in zip(keep, ("true b (MC truth)", "side-band mean #times factor",
                                  "published outcome (1, 1)", "this run's side-bands")):
        leg.AddEntry(line, label, "l")
    leg.Draw()
    return _save_png(c, out, "toys_background")


def _plot_p_b(ROOT: Any, doc: Mapping[str, Any], out: Path) -> Path:
    c = ROOT.TCanvas("c_toys_p_b", "", 800, 600)
    c.SetLogy()
    h = _hist(ROOT, "h_toys_pb", f"{doc['n_toys']} pseudo-experiments;P(n_{{obs}} | b) of "
              "each toy;toys", np.array(doc["toys"]["p_exactly_observed_b"], float),
              50, 0.0, 1.0)
    h.SetMinimum(0.5)
    h.Draw("HIST")
    ymax = 2 * h.GetMaximum()
    po = doc["published_outcome"]
    keep = [_vline(ROOT, po["p_exactly_observed_b"]["value"], ymax, 8, 7),
            _vline(ROOT, po["paper_p_exactly_observed_b"]["value"], ymax, 2)]
    labels = ["published outcome, nutag's factors", "published P(1 | b) = 0.03"]
    real = doc["realisation"].get("p_exactly_observed_b")
    if real:
        keep.append(_vline(ROOT, real["value"], ymax, 6, 3))
        labels.append("this run")
    leg = ROOT.TLegend(0.2, 0.7, 0.6, 0.88)
    for line, label in zip(keep, labels):
        leg.AddEntry(line, label, "l")
    leg.Draw()
    return _save_png(c, out, "toys_p_b")


def _model_counts(ROOT: Any, name: str, mean: float, n_toys: int, top: int) -> Any:
    """Expected number of toys per count, n_toys x Poisson(count | mean), as markers."""
    h = ROOT.TH1D(name, "", top, -0.5, top - 0.5)
    h.SetDirectory(0)
    for n in range(top):
        h.SetBinContent(n + 1, n_toys * stats.p_exactly(n, mean))
    h.SetMarkerStyle(20)
    h.SetMarkerColor(1)
    return h


def _plot_counts(ROOT: Any, doc: Mapping[str, Any], out: Path) -> Path:
    m = doc["model"]
    cols = [(f"n_sb.{n}", f"side-band {b['sideband_region']}", n, b["expected_sideband"])
            for n, b in m["backgrounds"].items()]
    cols.append(("n_sr", "signal box", None, m["signal_box_expected"]))
    c = ROOT.TCanvas("c_toys_counts", "", 400 * len(cols), 400)
    c.Divide(len(cols), 1)
    keep: list[Any] = []
    real_line = None
    pub, real = doc["published_outcome"], doc["realisation"]
    for i, (col, title, name, mean) in enumerate(cols, start=1):
        c.cd(i)
        v = np.array(doc["toys"][col], float)
        top = int(max(v.max(), 2)) + 2
        h = _hist(ROOT, f"h_toys_{i}", f"{title};events;toys", v, top, -0.5, top - 0.5)
        model = _model_counts(ROOT, f"h_toys_model_{i}", mean, doc["n_toys"], top)
        h.SetMaximum(1.15 * max(h.GetMaximum(), model.GetMaximum()))
        h.Draw("HIST")
        model.Draw("P same")
        ymax = h.GetMaximum()
        x_pub = pub["sideband_counts"][name] if name else pub["signal_box"]
        x_real = real["sideband_counts"][name] if name else real["signal_box"]
        pub_line = _vline(ROOT, x_pub, ymax, 8, 7)
        if x_real is not None:  # shifted off the published line when both are drawn
            real_line = _vline(ROOT, x_real + 0.1, ymax, 6, 3)
            keep.append(real_line)
        keep += [h, model, pub_line]
        if i == len(cols):
            leg = ROOT.TLegend(0.4, 0.6, 0.88, 0.88)
            leg.AddEntry(h, "toys", "l")
            leg.AddEntry(model, "model (Poisson)", "p")
            leg.AddEntry(pub_line, "published outcome", "l")
            if real_line is not None:
                leg.AddEntry(real_line, "this run", "l")
            leg.Draw()
            keep.append(leg)
    return _save_png(c, out, "toys_counts")


def toys_plots(out: Path, doc: Mapping[str, Any]) -> list[Path]:
    """Background estimate, P(n | b) and the counts over the ensemble (green dashed: published
    outcome, magenta dotted: this run), ROOT in batch mode."""
    ROOT = import_root()
    ROOT.gROOT.SetBatch(True)
    ROOT.gErrorIgnoreLevel = ROOT.kWarning
    return [_plot_background(ROOT, doc, out), _plot_p_b(ROOT, doc, out),
            _plot_counts(ROOT, doc, out)]


def write_toys(out: Path, doc: Mapping[str, Any], plots: bool = True) -> list[Path]:
    """toys.json, toys.md and the PNGs into ``out``, each file atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clean = json.loads(json.dumps(doc, default=float),
                       parse_constant=lambda c: None)  # NaN/inf -> null
    written = [atomic_write(out / "toys.json", json.dumps(clean, indent=1) + "\n", mode=0o644),
               atomic_write(out / "toys.md", "# Pseudo-experiments\n\n" + toys_markdown(doc),
                            mode=0o644)]
    if plots:
        written += toys_plots(out, doc)
    return written
