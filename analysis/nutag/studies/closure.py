"""Closure test of the side-band background method on high-statistics simulation.

Why: the published backgrounds are side-band counts times extrapolation factors. The method
is only trustworthy if, on simulation where the truth is known, the prediction from the
side-band agrees with the true background in the signal region within its uncertainty.

How (``nutag closure``):

1. Produce, with ``nutag.simulate`` and seeds of their own, two independent halves A and B of
   every background source MC (``scale`` x the default data set's MC events each), and a
   signal MC sample (energy resolution and candidate distributions ride along).
2. Run the analysis selection (the config's selections/*.yaml) on all of them in ONE event
   loop, treating the background MC as pseudo-data.
3. Per background and orientation (A->B: side-band count and truth from A, factor from B;
   B->A the reverse): predicted = SB x f, true = SR yield, both as expected counts at
   N_K decays; pull = (pred - true) / sqrt(sigma_pred^2 + sigma_true^2). Empty boxes get the
   Garwood(0) upper edge x mean weight (of the relaxed box, else of every event read) as their
   error, never a zero error.

:func:`closure_numbers` is plain arithmetic on yields (unit-tested); :func:`run_closure`
produces, runs and writes closure.json/.md/.png/.pdf (+ resolution and candidate outputs).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..results import physics as _results
from ..results import stats
from ..core.atomic import atomic_write

log = logging.getLogger("nutag.studies.closure")

HALVES = ("a", "b")
#: pseudo-region of a run document: every event read (the first cutflow row); the last resort
#: for the typical weight that sizes the error of an empty box
ALL = "(all)"
DEFAULT_SEED = 7_000_000  # far from the default data set's seeds (101-104, 2022)


@dataclass(frozen=True)
class Measured:
    """An expected count at N_K with its (symmetric) error."""

    value: float
    error: float
    raw: int


def _measure(doc: Mapping[str, Any], samples: list[str], region: str, ref_region: str,
             n_k: float) -> Measured:
    """N_K sum_w / n_gen over ``samples``; an empty box gets Garwood(0) x mean weight of ref."""
    value = err2 = 0.0
    raw = 0
    ref_w = ref_raw = 0.0
    for s in samples:
        y = _results.region_yield(doc, s, region)
        ng = _results.n_generated(doc, s)
        value += n_k * y.sumw / ng
        err2 += (n_k / ng) ** 2 * y.sumw2
        raw += y.raw
        r = _results.region_yield(doc, s, ref_region)
        ref_w += n_k * r.sumw / ng
        ref_raw += r.raw
    err = math.sqrt(err2)
    if raw == 0 and ref_raw == 0 and ref_region != ALL:
        return Measured(value, _measure(doc, samples, ALL, ALL, n_k).error, raw)
    if raw == 0:
        err = stats.zero_count_weighted_error(ref_w, int(ref_raw)) if ref_raw > 0 else math.inf
    return Measured(value, err, raw)


def _pull(pred: float, pred_err: float, true: float, true_err: float) -> float | None:
    sigma = math.hypot(pred_err, true_err)
    return (pred - true) / sigma if sigma > 0 and math.isfinite(sigma) else None


def closure_numbers(doc: Mapping[str, Any], options: Mapping[str, Any], n_k: float
                    ) -> dict[str, Any]:
    """Predicted vs true background per background and orientation, from a run document.

    ``doc["samples"]`` must hold ``<source>_a`` and ``<source>_b`` for every source sample of
    ``options["backgrounds"][*]["extrapolation"]["samples"]``.
    """
    signal_region = options["signal"]["region"]
    out: dict[str, Any] = {"n_kaon_decays": n_k, "signal_region": signal_region,
                           "backgrounds": {}}
    for name, b in options["backgrounds"].items():
        ex, sb = b["extrapolation"], b["sideband_region"]
        rel_syst = stats.quadrature(*(b.get("systematics") or {}).values())
        rows = []
        for use, fac in (("a", "b"), ("b", "a")):
            src = [f"{s}_{use}" for s in ex["samples"]]
            sideband = _measure(doc, src, sb, ex["denominator_region"], n_k)
            truth = _measure(doc, src, signal_region, ex["numerator_region"], n_k)
            try:
                f = _results.extrapolation_factor(doc, ex["numerator_region"],
                                                  ex["denominator_region"],
                                                  [f"{s}_{fac}" for s in ex["samples"]])
            except _results.AnalysisError as err:  # empty relaxed side-band: not testable
                rows.append({"orientation": f"SB+truth {use.upper()}, factor {fac.upper()}",
                             "sideband": sideband.value, "sideband_err": sideband.error,
                             "sideband_raw": sideband.raw, "factor": None, "factor_err": None,
                             "factor_raw": [0, 0], "predicted": None, "predicted_err": None,
                             "true": truth.value, "true_err": truth.error,
                             "true_raw": truth.raw, "pull": None, "pull_with_syst": None,
                             "error": str(err)})
                continue
            pred = sideband.value * f["value"]
            if sideband.value > 0 and f["value"] > 0:
                pred_err = pred * math.hypot(sideband.error / sideband.value,
                                             f["stat"] / f["value"])
            else:  # one factor is zero: the error is the other times the empty one's error
                pred_err = math.hypot(sideband.error * f["value"], sideband.value * f["stat"])
                if sideband.value == 0 and f["value"] == 0:
                    pred_err = sideband.error * f["stat"]
            pull = _pull(pred, pred_err, truth.value, truth.error)
            pull_syst = _pull(pred, math.hypot(pred_err, pred * rel_syst), truth.value,
                              truth.error)
            rows.append({"orientation": f"SB+truth {use.upper()}, factor {fac.upper()}",
                         "sideband": sideband.value, "sideband_err": sideband.error,
                         "sideband_raw": sideband.raw, "factor": f["value"],
                         "factor_err": f["stat"], "factor_raw": [f["numerator_raw"],
                                                                 f["denominator_raw"]],
                         "predicted": pred, "predicted_err": pred_err, "true": truth.value,
                         "true_err": truth.error, "true_raw": truth.raw, "pull": pull,
                         "pull_with_syst": pull_syst})
        for r in rows:  # a 0-vs-0 comparison with huge errors proves nothing
            r["informative"] = bool(r["pull"] is not None and (
                r["true_raw"] > 0 or (r["sideband_raw"] > 0 and r["factor_raw"][0] > 0)))
        pulls = [r["pull"] for r in rows if r["informative"]]
        out["backgrounds"][name] = {
            "label": b.get("label", name), "sideband_region": sb,
            "relaxed_regions": [ex["numerator_region"], ex["denominator_region"]],
            "samples": list(ex["samples"]), "relative_syst": rel_syst, "rows": rows,
            "max_abs_pull": max((abs(p) for p in pulls), default=None),
            "verdict": verdict(pulls)}
    return out


def verdict(pulls: list[float]) -> str:
    """Verdict from the informative pulls: within 1 sigma, within 2 sigma, or not; untested."""
    if not pulls:
        return ("untested: no MC event in the signal region nor in the predicting boxes "
                "(increase --scale)")
    worst = max(abs(p) for p in pulls)
    return ("closes (all pulls within 1 sigma)" if worst < 1 else
            "closes within 2 sigma" if worst < 2 else "does not close (a pull beyond 2 sigma)")


def closure_markdown(res: Mapping[str, Any]) -> str:
    """The closure table (expected counts at N_K fiducial K+ decays)."""
    def f(x: Any) -> str:
        if x is None:
            return "—"
        return "∞" if isinstance(x, float) and math.isinf(x) else f"{x:.3g}"

    lines = [f"# Closure test of the side-band method (N_K = {res['n_kaon_decays']:.3g})", "",
             f"Background MC treated as pseudo-data: {res.get('statistics', '')}", "",
             "| background | orientation | side-band (MC ev.) | factor (MC ev. num/den) | "
             "predicted | true in SR (MC ev.) | pull | pull (⊕ syst) |",
             "|---|---|---|---|---|---|---:|---:|"]
    for b in res["backgrounds"].values():
        for r in b["rows"]:
            lines.append(
                f"| {b['label']} | {r['orientation']} | {f(r['sideband'])} ± "
                f"{f(r['sideband_err'])} ({r['sideband_raw']}) | {f(r['factor'])} ± "
                f"{f(r['factor_err'])} ({r['factor_raw'][0]}/{r['factor_raw'][1]}) | "
                f"{f(r['predicted'])} ± {f(r['predicted_err'])} | {f(r['true'])} ± "
                f"{f(r['true_err'])} ({r['true_raw']}) | {f(r['pull'])} | "
                f"{f(r['pull_with_syst'])} |")
    lines += ["", "| background | verdict |", "|---|---|"]
    lines += [f"| {b['label']} | {b['verdict']} |" for b in res["backgrounds"].values()]
    return "\n".join(lines) + "\n"


def closure_plot(out_dir: Path, res: Mapping[str, Any], stem: str = "closure") -> list[Path]:
    """Predicted (red) vs true (black) per background and orientation, pulls below."""
    from ..outputs.display import save_canvas  # noqa: PLC0415
    from ..core.rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    ROOT.gROOT.SetBatch(True)
    every = [(b["label"], r) for b in res["backgrounds"].values() for r in b["rows"]]
    # Untested rows (no MC event anywhere) only carry a Garwood(0) limit times the mean weight,
    # which for a coarsely weighted sample dwarfs every measured point: they stay in the table.
    rows = [(label, r) for label, r in every if r["pull"] is not None] or every
    n = len(rows)
    c = ROOT.TCanvas(f"c_{stem}", "", 900, 750)
    top = ROOT.TPad("top", "", 0, 0.35, 1, 1)
    bot = ROOT.TPad("bot", "", 0, 0, 1, 0.35)
    keep: list[Any] = [top, bot]
    for p in (top, bot):
        p.SetLeftMargin(0.12)
        p.Draw()
    finite = [a + e for _, r in rows for a, e in ((r["predicted"], r["predicted_err"]),
                                                   (r["true"], r["true_err"]))
              if a is not None and e is not None and math.isfinite(a + e)]
    ymax = 1.3 * max(finite + [1e-12])
    top.cd()
    frame = top.DrawFrame(0, 0, n, ymax, "closure: predicted (red) vs true (black) "
                          "background in the signal region;;expected events at N_K")
    keep.append(frame)
    for k, (label, r) in enumerate(rows):
        for dx, val, err, color, marker in ((0.4, r["predicted"], r["predicted_err"], 2, 21),
                                            (0.6, r["true"], r["true_err"], 1, 20)):
            if val is None:
                continue
            g = ROOT.TGraphErrors(1)
            g.SetPoint(0, k + dx, val)
            g.SetPointError(0, 0, min(err, ymax) if err is not None and math.isfinite(err) else ymax)
            g.SetMarkerStyle(marker)
            g.SetMarkerColor(color)
            g.SetLineColor(color)
            g.Draw("P same")
            keep.append(g)
        t = ROOT.TLatex(k + 0.05, 0.92 * ymax, f"{label} [{r['orientation'][9:10]}]")
        t.SetTextSize(0.03)
        t.Draw()
        keep.append(t)
    bot.cd()
    fb = bot.DrawFrame(0, -4, n, 4, ";;pull")
    keep.append(fb)
    for lvl, style in ((1, 2), (-1, 2), (2, 3), (-2, 3), (0, 1)):
        ln = ROOT.TLine(0, lvl, n, lvl)
        ln.SetLineStyle(style)
        ln.Draw()
        keep.append(ln)
    for k, (_, r) in enumerate(rows):
        if r["pull"] is None:
            continue
        m = ROOT.TMarker(k + 0.5, max(-3.9, min(3.9, r["pull"])), 20)
        m.SetMarkerColor(2)
        m.Draw()
        keep.append(m)
    return save_canvas(c, out_dir, stem)


def finite_json(obj: Any) -> Any:
    """Replace inf/nan (an unbounded error) by None, so the JSON is strict."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Mapping):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    return obj


def write_closure(out_dir: Path, res: Mapping[str, Any]) -> list[Path]:
    """closure.json, closure.md, closure.png/.pdf, atomically."""
    out_dir = Path(out_dir)
    files = [atomic_write(out_dir / "closure.json",
                          json.dumps(finite_json(res), indent=2, default=str) + "\n"),
             atomic_write(out_dir / "closure.md", closure_markdown(res))]
    return files + closure_plot(out_dir, res)


# --------------------------------------------------------------------------- the whole test
def _stream_of(name: str, default_mc: Mapping[str, Any]) -> str:
    from ..simulate.spec import STREAMS  # noqa: PLC0415

    if name in default_mc:
        return default_mc[name].stream
    if name in STREAMS:
        return name
    raise _results.AnalysisError(f"cannot tell which simulation stream sample {name!r} is; "
                                 f"name the source samples after a stream ({', '.join(STREAMS)})")


def closure_mc(options: Mapping[str, Any], *, scale: float, events: int | None,
               signal_events: int | None, seed: int) -> list[Any]:
    """The McDefs of the closure data set: two halves per background source, one signal."""
    from ..simulate.dataset import DEFAULT_DATASET, McDef, load_dataset  # noqa: PLC0415

    default_mc = {m.name: m for m in load_dataset(DEFAULT_DATASET).mc}
    sources = sorted({s for b in options["backgrounds"].values()
                      for s in b["extrapolation"]["samples"]})
    mc = []
    for i, src in enumerate(sources):
        base = events or (default_mc[src].events if src in default_mc else 200_000)
        for j, half in enumerate(HALVES):
            mc.append(McDef(f"{src}_{half}", _stream_of(src, default_mc),
                            max(1, int(round(scale * base))), seed + 2 * i + j))
    sig = options["signal"]["sample"]
    n_sig = signal_events or events or (default_mc[sig].events if sig in default_mc else 200_000)
    mc.append(McDef(sig, _stream_of(sig, default_mc), int(n_sig), seed + 2 * len(sources)))
    return mc


def run_closure(config: Path | None = None, *, scale: float = 100.0, events: int | None = None,
                signal_events: int | None = None, seed: int = DEFAULT_SEED,
                threads: int | None = None, output: Path = Path("results/closure"),
                samples_dir: Path | None = None, n_kaon_decays: float | None = None
                ) -> dict[str, Any]:
    """Produce the closure MC, run the selection once over it, write every output.

    Returns the closure result (also in output/closure.json). Resolution and candidate
    comparison outputs land in the same directory (resolution.*, candidate.*).
    """
    import os  # noqa: PLC0415

    from . import candidate_compare, resolution
    from ..engine import graph, run  # noqa: PLC0415
    from ..config.analysis import load_samples, load_selection, load_yaml  # noqa: PLC0415
    from ..engine.cpp import load_cpp  # noqa: PLC0415
    from ..jobs.pipeline import DEFAULT_CONFIG  # noqa: PLC0415
    from ..outputs.report import published  # noqa: PLC0415
    from ..simulate.config import load_sim_config  # noqa: PLC0415
    from ..simulate.dataset import DEFAULT_DATASET, Dataset, load_dataset, produce_dataset  # noqa: PLC0415,E501

    config = Path(config or DEFAULT_CONFIG)
    node = load_yaml(config)
    options = dict(node.get("options") or {})
    sel_files = [str((config.parent / p).resolve()) for p in node.get("selections", [])]
    n_k = float(n_kaon_decays or published()["n_kaon_decays"])
    output = Path(output)
    samples_dir = Path(samples_dir or output / "samples")
    mc = closure_mc(options, scale=scale, events=events, signal_events=signal_events, seed=seed)
    default = load_dataset(DEFAULT_DATASET)
    ds = Dataset(path="<nutag closure>", sim_config=default.sim_config, output=str(samples_dir),
                 chunk_size=default.chunk_size, mc=tuple(mc), data=None,
                 format=default.format)
    n_threads = int(threads or os.cpu_count() or 1)
    produced = produce_dataset(ds, samples_dir, threads=n_threads,
                               cfg=load_sim_config(ds.sim_config))
    eff = run.configure_threads(n_threads)
    load_cpp()
    samples = load_samples(produced.samples_yaml)
    selection = load_selection(sel_files)
    sig_name, sig_region = options["signal"]["sample"], options["signal"]["region"]

    def hook(region: str, nd: Any) -> dict[str, Any]:
        return resolution.book_resolution(nd) if region == sig_region else {}

    graphs = [graph.build_graph(s, selection, blinded=False, declare=load_cpp,
                                extra=hook if s.name == sig_name else None)
              for s in samples.values()]
    res = run.run(graphs, eff)
    doc = {"samples": {name: {"kind": "mc", "meta": dict(samples[name].meta),
                              "yields": {ALL: next(iter(s.regions.values())).cutflow[0],
                                         **{r: out.cutflow[-1] for r, out in s.regions.items()}}}
                       for name, s in res.samples.items()}}
    result = closure_numbers(doc, options, n_k)
    base = {m.name: m.events for m in default.mc}
    result["statistics"] = (f"each half {', '.join(f'{m.name}: {m.events:.3g}' for m in mc)} "
                            f"generated events (scale {scale:g} x the default data set's "
                            f"{', '.join(f'{k} {v:.3g}' for k, v in base.items())})")
    result["samples"] = {m.name: {"stream": m.stream, "events": m.events, "seed": m.seed}
                         for m in mc}
    result["n_runs"] = {name: s.n_runs for name, s in res.samples.items()}
    write_closure(output, result)
    extras = res.samples[sig_name].regions[sig_region].extras
    numbers = resolution.resolution_numbers(extras)
    atomic_write(output / "resolution.json", json.dumps(finite_json(numbers), indent=2) + "\n")
    resolution.resolution_plot(output, extras, numbers)
    histos = {(name, r): out.histos for name, s in res.samples.items()
              for r, out in s.regions.items()}
    cmp = candidate_compare.compare_from_histograms(
        histos, doc, published()["candidate"], signal=sig_name,
        backgrounds={b: [f"{s}_{h}" for s in opt["extrapolation"]["samples"] for h in HALVES]
                     for b, opt in options["backgrounds"].items()})
    candidate_compare.write_comparison(output, cmp)
    result["resolution"] = {k: numbers.get(k) for k in ("sigma_over_e_tag", "sigma_over_e_calo",
                                                        "ratio_calo_over_tag")}
    return result
