"""Write a results directory: summary.json/.md, results.json, cutflows, histograms.root, plots.

Why a whole directory swapped in at the end: a results directory is either complete and
consistent (one run, one blinding state) or absent — a crash half-way leaves the previous one.
Everything is built in a hidden sibling directory, then renamed over the old one.

Why results.json: it holds the yields, options and provenance the numbers were made from, so
``nutag report DIR`` (:func:`report_from_dir`) redoes the arithmetic, tables and plots from the
directory alone, without reading an event.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..results import cutflow as _cutflow
from ..core.atomic import atomic_write
from ..results import physics as _results
from ..config.analysis import Selection
from ..core.errors import NutagError
from ..results.observation import published_numbers
from ..core.provenance import complete_provenance, provenance_markdown
from .results_dir import (RESULTS_FILE, carry_over, check_output_dir, make_tmp, output_lock,
                          remove_stale_temporaries, resolve, swap_in, terminate_as_interrupt,
                          write_manifest)
from ..results.variations import systematic_markdown

log = logging.getLogger("nutag.outputs.report")

HISTO_FILE = "histograms.root"
#: columns of the selection holding the box edges (single source of the numbers)
BOX_COLUMNS = ("box_m2_sr", "box_m2_sb_lo", "box_m2_sb_hi", "box_dlkr_sr", "box_dlkr_sb_lo",
               "box_dlkr_sb_hi")
#: optional box columns and the column standing in when a selection lacks them: the d_LKr
#: extent of the m_miss2 side-bands (the signal box's, before it was a separate edge)
OPTIONAL_BOX_COLUMNS = {"box_dlkr_sb_m2": "box_dlkr_sr"}

Histos = Mapping[tuple[str, str], Mapping[str, Any]]


def published() -> dict[str, Any]:
    """The published numbers (PLB 863 (2025) 139345), shipped as package data."""
    return published_numbers()


def boxes_from_selection(selection: Selection) -> dict[str, float] | None:
    """Box edges from the selection's constant columns, or None if a selection has no boxes."""
    try:
        boxes = {c: float(selection.columns[c].expr) for c in BOX_COLUMNS}
    except (KeyError, ValueError):
        return None
    for c, fallback in OPTIONAL_BOX_COLUMNS.items():
        try:
            boxes[c] = float(selection.columns[c].expr)
        except (KeyError, ValueError):
            boxes[c] = boxes[fallback]
    return boxes


# --------------------------------------------------------------------------- text
def _num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def _bkg(b: Mapping[str, Any]) -> str:
    if b["value"] is None:
        return "not measurable (see warnings)"
    return (f"{_num(b['value'])} +{_num(b['stat_up'])} −{_num(b['stat_down'])} (stat) "
            f"± {_num(b['syst'])} (syst)")


def _s_over_b(s: Mapping[str, Any]) -> str:
    """The data-driven S/B, or why there is none (an empty side-band makes b = 0)."""
    if s.get("s_over_b") is not None:
        return _num(s["s_over_b"], 2)
    total = (s.get("background_total") or {}).get("value")
    return "— (data-driven b = 0)" if total == 0 else "—"


def _integrated_rows(s: Mapping[str, Any], obs: str) -> list[str]:
    """Table rows of the probabilities with b's uncertainty integrated over (unblinded)."""
    if s.get("p_exactly_observed_sb_integrated") is None:
        return []
    label = "b integrated over its side-band and factor uncertainties"
    return [f"| P(exactly {obs} given s+b), {label} | "
            f"{_num(s['p_exactly_observed_sb_integrated'])} | — |",
            f"| P(exactly {obs} given b), {label} | "
            f"{_num(s['p_exactly_observed_b_integrated'])} | — |",
            f"| P(≥ {obs} given s+b), {label} | "
            f"{_num(s['p_at_least_observed_sb_integrated'])} | — |",
            f"| P(≥ {obs} given b), {label} (on/off p-value) | "
            f"{_num(s['p_at_least_observed_b_integrated'])} | — |"]


def _probability_notes(s: Mapping[str, Any]) -> list[str]:
    """Below the table: the two probability conventions, and what b the integration used."""
    integ = s.get("background_integrated") or {}
    if not integ.get("backgrounds"):
        return []
    parts = ", ".join(f"{name} {_num(v['mean'])} ({v['sideband_posterior']} x "
                      f"{v['factor_model']} factor {_num(v['factor'])} ± {_num(v['factor_err'])})"
                      for name, v in integ["backgrounds"].items())
    lines = ["", "Probabilities: the plain ones take b at its data-driven central value (the "
             "paper's convention); the integrated ones average the Poisson probability over "
             f"the side-band mean ({integ['prior']} prior) and the extrapolation factor "
             f"(docs/method.md, section 9). Mean b of the integration: "
             f"{_num(integ['mean'])} = {parts}."]
    total = (s.get("background_total") or {}).get("value")
    if total == 0 and not s.get("blinded"):
        lines += ["", "The data-driven b is 0 (empty side-bands), so the plain P(n ≥ 1 given "
                  "b) is 0 by construction; quote the integrated ones."]
    return lines


def published_observation_markdown(po: Mapping[str, Any] | None) -> list[str]:
    """The paper's one observed event under nutag's s and b (no signal-box data: also blinded)."""
    if not po:
        return []
    n, p = po["n"], po["published"]
    b_label = {"mc_truth": "MC-expected (simulation truth in the signal region)",
               "data_driven": "data-driven (side-bands)",
               "sideband_posterior_mean": "side-band posterior mean (data-driven b is 0)"
               }.get(po["b_source"], po["b_source"])
    return ["", f"## The published observation ({n} event) under nutag's model", "",
            f"s = {_num(po['s'])} (nutag N_sig), b = {_num(po['b'])} ({b_label}); the paper: "
            f"s = {p['s']}, b = {_num(p['b'])}. Uses no data in the signal box.", "",
            "| probability | nutag, plain Poisson | nutag, b integrated (side-bands) | "
            "published |", "|---|---:|---:|---:|",
            f"| P(exactly {n} given s+b) | {_num(po['p_exactly_sb'])} | "
            f"{_num(po['p_exactly_sb_integrated'])} | {p['p_exactly_sb']} "
            f"({_num(p['p_exactly_sb_recomputed'])}) |",
            f"| P(exactly {n} given b) | {_num(po['p_exactly_b'])} | "
            f"{_num(po['p_exactly_b_integrated'])} | {p['p_exactly_b']} "
            f"({_num(p['p_exactly_b_recomputed'])}) |"]


def sideband_comparison_markdown(comp: Mapping[str, Any], pub: Mapping[str, Any]) -> list[str]:
    """nutag's side-band counts and factors beside the paper's inferred ones, marked [est]."""
    if not comp:
        return []
    note = (pub.get("inferred_est") or {}).get("note", "")
    lines = ["", "## Side-band counts and extrapolation factors beside the paper's", "",
             "| background | data count | expected (MC) | factor | MC-expected background "
             "(expected count x factor) | paper [est]: count, factor | nutag / paper [est]: "
             "count, factor | paper [est]: Garwood errors | published errors |",
             "|---|---:|---:|---|---:|---|---|---|---|"]
    for key, v in comp.items():
        est = v.get("paper_est")
        if est:
            paper = (f"{est['sideband_count']} [est], {_num(est['factor'])} [est]",
                     f"{_num(v.get('expected_mc_over_paper_est'), 2)}, "
                     f"{_num(v.get('factor_over_paper_est'), 2)}",
                     f"+{_num(est['garwood_stat_up'], 2)} −{_num(est['garwood_stat_down'], 2)}"
                     " [est]",
                     f"+{est['published_stat_up']} −{est['published_stat_down']}")
        else:
            paper = ("—", "—", "—", "—")
        lines.append(f"| {key} | {v['observed']} | {_num(v['expected_mc'])} | "
                     f"{_num(v['factor'])} ± {_num(v['factor_stat'])} | "
                     f"{_num(v['expected_background_mc'])} | " + " | ".join(paper) + " |")
    if note:
        lines += ["", f"{note}."]
    return lines


#: which of the table's simulated numbers are calibrated rather than predicted
FITTED_NOTE = ("Fitted, not predicted: the simulation's neutrino-line downscaling D is fitted to "
               "the published N_sig and its accidental-shower rate to the published overlaid-Kμ2 "
               "background (`[fit]` in simulation/default.yaml; `python -m nutag.simulate.fit`), so "
               "the expected signal and the overlaid-Kμ2 MC truth are calibrated; the outer "
               "edges of the two side-bands (d_LKr < 300 mm, and d_LKr < 160 mm for the "
               "m_miss² side-bands) are fitted to the paper's inferred factors 0.030 and 0.004 "
               "[est] (`[fit]` in selections/nutag.yaml), so the factors are calibrated and the "
               "side-band counts follow from them; the mis-reconstruction background, S/B and "
               "every shape are predictions (docs/simulation.md §10).")


def summary_markdown(summary: Mapping[str, Any], pub: Mapping[str, Any]) -> str:
    """Paper-style table of nutag's numbers beside the published ones."""
    s, blinded = summary, summary["blinded"]
    ps, pb = pub["n_sig"], pub["backgrounds"]
    sig = s["n_sig"]
    lines = [f"# nutag result — {s.get('provenance', {}).get('analysis', '')}", "",
             f"**Blinding: {'BLINDED (signal region of data not read)' if blinded else 'UNBLINDED'}**",
             "", "| quantity | nutag | published (PLB 863 (2025) 139345) |", "|---|---|---|",
             f"| K+ decays N_K | {_num(s['n_kaon_decays'])} ± "
             f"{_num(s['normalisation']['stat'])} (stat) | {_num(pub['n_kaon_decays'])} |",
             f"| expected signal N_sig | {_num(sig['value'])} ± {_num(sig['stat'])} (stat) ± "
             f"{_num(sig['syst'])} (syst) | {ps['value']} ± {ps['stat']} ± {ps['syst']} |"]
    names = {"overlaid_kmu2": "background: overlaid Kmu2",
             "misreco": "background: mis-reconstructed K+ decays"}
    for key, b in s["backgrounds"].items():
        p = pb.get(key)
        ptxt = (f"{p['value']} +{p['stat_up']} −{p['stat_down']} ± {p['syst']}" if p else "—")
        lines.append(f"| {names.get(key, key)} | {_bkg(b)} | {ptxt} |")
    lines.append(f"| S/B | {_s_over_b(s)} | about {pub['s_over_b']} |")
    if s.get("s_over_b_mc_expected") is not None:
        lines.append(f"| S/B, MC-expected b (simulation, not data-driven) | "
                     f"{_num(s['s_over_b_mc_expected'], 2)} | about {pub['s_over_b']} |")
    obs = "blinded" if blinded else str(s["observed"])
    lines.append(f"| observed in signal region | {obs} | {pub['observed']} |")
    if blinded:
        lines += ["| P(exactly n_obs given s+b) | blinded | 0.19 |",
                  "| P(exactly n_obs given b) | blinded | 0.03 |"]
    else:
        lines += [f"| P(exactly {obs} given s+b) | {_num(s['p_exactly_observed_sb'])} | "
                  f"{pub['p_exactly_observed_sb']} |",
                  f"| P(exactly {obs} given b) | {_num(s['p_exactly_observed_b'])} | "
                  f"{pub['p_exactly_observed_b']} |",
                  f"| P(≥ {obs} given s+b) | {_num(s['p_at_least_observed_sb'])} | — |",
                  f"| P(≥ {obs} given b) | {_num(s['p_at_least_observed_b'])} | — |"]
        lines += _integrated_rows(s, obs)
    for w in s.get("warnings") or []:
        lines += ["", f"**Warning:** {w}"]
    lines += _probability_notes(s)
    lines += ["", FITTED_NOTE]
    lines += published_observation_markdown(s.get("published_observation"))
    lines += systematics_markdown(s.get("systematics") or {}, pub)
    lines += ["", "## Background extrapolation", "",
              "| background | side-band | data count | factor (relaxed SR/SB) | source |",
              "|---|---|---:|---|---|"]
    for key, b in s["backgrounds"].items():
        ex = b["extrapolation"]
        lines.append(f"| {key} | {b['sideband_region']} | {b['sideband_count']} | "
                     f"{_num(b['factor'])} ± {_num(b['factor_stat'])} | "
                     f"{ex['numerator_region']}/{ex['denominator_region']} on "
                     f"{', '.join(ex['samples'])} ({ex.get('numerator_raw')}/"
                     f"{ex.get('denominator_raw')} MC events) |")
    mt = s.get("mc_truth_background") or {}
    if mt.get("samples"):
        lines += ["", "## Closure: MC-truth background in the signal region", "",
                  "| sample | expected | MC events |", "|---|---:|---:|"]
        for name, v in mt["samples"].items():
            lines.append(f"| {name} | {_num(v['value'])} ± {_num(v['stat'])} | {v['raw']} |")
        lines.append(f"| total | {_num(mt['total'])} ± {_num(mt['total_stat'])} | |")
    checks = s.get("sideband_checks") or {}
    if checks:
        lines += ["", "## Side-bands: data vs MC expectation", "",
                  "| side-band | observed | expected (MC) |", "|---|---:|---:|"]
        for v in checks.values():
            lines.append(f"| {v['region']} | {v['observed']} | {_num(v['expected_mc'])} |")
    lines += sideband_comparison_markdown(s.get("sideband_comparison") or {}, pub)
    lines += ["", "## Candidate events", ""]
    if blinded:
        lines.append("_blinded_")
    else:
        cand = pub["candidate"]
        rows = s.get("candidates") or []
        if not rows:
            lines += ["_no data event in the signal region_", ""]
        cols = [f"event {i + 1}" for i in range(len(rows))] + ["published"]
        lines += ["| property | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        for prop, val in cand.items():
            vals = [_num(r.get(prop), 4) for r in rows] + [str(val)]
            lines.append(f"| {prop} | " + " | ".join(vals) + " |")
    lines += provenance_markdown(s.get("provenance") or {})
    return "\n".join(lines)


def published_systematics(pub: Mapping[str, Any]) -> dict[str, float]:
    """The published absolute systematic uncertainties, keyed like summary.json's table."""
    out = {"n_sig": float(pub["n_sig"]["syst"])}
    out.update({k: float(v["syst"]) for k, v in pub["backgrounds"].items()})
    return out


def systematics_markdown(syst: Mapping[str, Any], pub: Mapping[str, Any]) -> list[str]:
    """The systematic table: relative shifts per source and yield, then absolute totals
    beside the published ones."""
    tables = {"N_K": syst.get("n_kaon_decays"), "N_sig": syst.get("n_sig"),
              **(syst.get("backgrounds") or {})}
    tables = {k: v for k, v in tables.items() if v}
    if not tables:
        return []
    published_abs = published_systematics(pub)
    keys = {"N_K": None, "N_sig": "n_sig"}
    lines = ["", "## Systematic uncertainties", "",
             "Relative shift of each yield when a source moves up / down (RDataFrame `Vary`, "
             "all in the same event loop; docs/corrections.md). Fixed fractions are sources "
             "without a correction to vary (docs/method.md, section 8).", "",
             systematic_markdown(tables).rstrip("\n"), "",
             "| yield | nominal | total syst (+ / −) | quoted ± syst | published ± syst |",
             "|---|---:|---|---:|---:|"]
    for name, tab in tables.items():
        ref = published_abs.get(keys.get(name, name))
        lines.append(f"| {name} | {_num(tab['nominal'])} | +{_num(tab['total_up'])} / "
                     f"−{_num(tab['total_down'])} | {_num(tab['total'])} | "
                     f"{'—' if ref is None else ref} |")
    return lines


# --------------------------------------------------------------------------- files
def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False, allow_nan=False, default=str) + "\n"


def _samples_for_cutflows(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Objects shaped like nutag.engine.run.SampleResult, rebuilt from the stored cutflow document."""
    return {name: SimpleNamespace(kind=s["kind"], n_runs=s["n_runs"],
                                  blinded_regions=s["blinded_regions"],
                                  regions={r: SimpleNamespace(cutflow=rows)
                                           for r, rows in s["regions"].items()})
            for name, s in doc["cutflows"].items()}


def write_histograms(path: Path, histograms: Histos, provenance: Mapping[str, Any]) -> None:
    """One TDirectory per sample/region; provenance and blinding as TNamed at the top."""
    from ..core.rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    f = ROOT.TFile.Open(str(path), "RECREATE")
    if not f or f.IsZombie():
        raise NutagError(f"cannot create {path}; check the output directory is writable")
    try:
        ROOT.TNamed("provenance", json.dumps(provenance, default=str)).Write()
        ROOT.TNamed("blinded", "true" if provenance.get("blinded") else "false").Write()
        for (sample, region), hs in sorted(histograms.items()):
            d = f.GetDirectory(sample) or f.mkdir(sample)
            sub = d.mkdir(region)
            sub.cd()
            for name, h in sorted(hs.items()):
                h.Write(name)
            f.cd()
    finally:
        f.Close()


def read_histograms(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Inverse of :func:`write_histograms` (histograms detached from the file)."""
    from ..core.rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    try:
        f = ROOT.TFile.Open(str(path))
    except OSError:  # the pythonised TFile.Open raises where C++ returns nullptr
        f = None
    if not f or f.IsZombie():
        raise NutagError(f"cannot open {path} (missing or damaged); rerun `nutag run` to "
                         "recreate the results directory")
    out: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for skey in f.GetListOfKeys():
            if skey.GetClassName() != "TDirectoryFile":
                continue
            sdir = f.Get(skey.GetName())
            for rkey in sdir.GetListOfKeys():
                rdir = sdir.Get(rkey.GetName())
                hs = {}
                for hkey in rdir.GetListOfKeys():
                    h = rdir.Get(hkey.GetName())
                    h.SetDirectory(0)
                    hs[hkey.GetName()] = h
                out[(skey.GetName(), rkey.GetName())] = hs
    finally:
        f.Close()
    return out


def _render(out: Path, stored: Mapping[str, Any], histograms: Histos) -> str:
    """Tables, cutflows and plots into ``out`` from stored inputs; returns the summary table."""
    from . import html_report, plots  # noqa: PLC0415 (ROOT graphics)

    summary = dict(_results.compute(stored["doc"], stored["options"],
                                    blinded=stored["provenance"]["blinded"]))
    summary["provenance"] = stored["provenance"]
    pub = published()
    if "systematics" in summary:  # the published totals beside nutag's, in the JSON too
        summary["systematics"] = {**summary["systematics"],
                                  "published": published_systematics(pub)}
    table = summary_markdown(summary, pub)
    atomic_write(out / "summary.json", _json(summary))
    atomic_write(out / "summary.md", table)
    n_k = float(summary["n_kaon_decays"])
    _cutflow.write_cutflows(_samples_for_cutflows(stored["doc"]), out,
                            provenance=stored["provenance"], n_k=n_k,
                            scales=_cutflow.expected_scales(stored["doc"], n_k))
    written = plots.make_all(out, histograms, summary, stored["doc"], stored["options"],
                             stored["boxes"], pub.get("candidate"))
    html_report.write_run_page(out, summary, pub, written, stored["doc"], stored["options"])
    return table


def write_results(out_dir: Path, *, doc: Mapping[str, Any], summary: Mapping[str, Any],
                  provenance: Mapping[str, Any], histograms: Histos,
                  options: Mapping[str, Any], boxes: Mapping[str, float] | None) -> str:
    """Write the whole results directory atomically; returns the summary table (Markdown).

    Everything goes to a hidden temporary sibling first; only a complete directory replaces the
    previous one, so an interrupt (Ctrl-C, SIGTERM, a crash) leaves the previous results intact
    and no temporary behind.
    """
    out_dir = check_output_dir(Path(out_dir))
    remove_stale_temporaries(out_dir)
    provenance = complete_provenance(provenance, doc)
    with terminate_as_interrupt():
        tmp = make_tmp(out_dir)
        try:
            stored = {"doc": doc, "options": options, "boxes": boxes, "provenance": provenance,
                      "summary_at_run": dict(summary)}
            atomic_write(tmp / RESULTS_FILE, _json(stored))
            write_histograms(tmp / HISTO_FILE, histograms, provenance)
            table = _render(tmp, stored, histograms)
            write_manifest(tmp)
            carry_over(out_dir, tmp)
            swap_in(tmp, out_dir)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise NutagError(f"cannot write the results into {out_dir}: {exc}; check the disk "
                             "space and permissions (the previous results are untouched)"
                             ) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return table


def report_from_dir(results_dir: Path) -> str:
    """Remake summary, cutflows and plots from results.json + histograms.root (no events).

    The new directory is swapped in atomically, like a run's; what nutag did not write there
    (a projection, displays, notes) is kept.
    """
    results_dir = resolve(Path(results_dir))
    with output_lock(results_dir):
        return _report_locked(results_dir)


def _report_locked(results_dir: Path) -> str:
    stored_path = results_dir / RESULTS_FILE
    if not stored_path.is_file():
        raise NutagError(f"{stored_path} not found: {results_dir} is not a nutag results "
                         "directory (run `nutag run` first, or give the directory it printed)")
    try:
        stored = json.loads(stored_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise NutagError(f"{stored_path} is not valid JSON ({exc}); it was damaged: rerun "
                         "`nutag run` to recreate the results directory") from None
    missing = [k for k in ("doc", "options", "provenance") if k not in stored]
    if missing:
        raise NutagError(f"{stored_path} lacks {missing}: written by another nutag version? "
                         "rerun `nutag run` to recreate it")
    histograms = read_histograms(results_dir / HISTO_FILE)
    stored.setdefault("boxes", None)
    remove_stale_temporaries(results_dir)
    with terminate_as_interrupt():
        tmp = make_tmp(results_dir)
        try:
            shutil.copy2(stored_path, tmp / RESULTS_FILE)
            shutil.copy2(results_dir / HISTO_FILE, tmp / HISTO_FILE)
            table = _render(tmp, stored, histograms)
            write_manifest(tmp)
            carry_over(results_dir, tmp)
            swap_in(tmp, results_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return table
