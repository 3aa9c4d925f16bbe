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
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from . import cutflow as _cutflow
from . import results as _results
from .config import Selection
from .errors import NutagError
from .variations import systematic_markdown

HISTO_FILE = "histograms.root"
RESULTS_FILE = "results.json"
#: columns of the selection holding the box edges (single source of the numbers)
BOX_COLUMNS = ("box_m2_sr", "box_m2_sb_lo", "box_m2_sb_hi", "box_dlkr_sr", "box_dlkr_sb_lo",
               "box_dlkr_sb_hi")

Histos = Mapping[tuple[str, str], Mapping[str, Any]]


def published() -> dict[str, Any]:
    """The published numbers (PLB 863 (2025) 139345), shipped as package data."""
    return json.loads(resources.files("nutag.data").joinpath("published.json")
                      .read_text(encoding="utf-8"))


def boxes_from_selection(selection: Selection) -> dict[str, float] | None:
    """Box edges from the selection's constant columns, or None if a selection has no boxes."""
    try:
        return {c: float(selection.columns[c].expr) for c in BOX_COLUMNS}
    except (KeyError, ValueError):
        return None


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
    lines.append(f"| S/B | {_num(s['s_over_b'], 2)} | about {pub['s_over_b']} |")
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
    for w in s.get("warnings") or []:
        lines += ["", f"**Warning:** {w}"]
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
    prov = s.get("provenance") or {}
    lines += ["", "## Provenance", "",
              f"config hash `{prov.get('config_hash')}`, git `{prov.get('git_commit')}`"
              f"{' (dirty)' if prov.get('git_dirty') else ''}, threads {prov.get('threads')}, "
              f"versions {prov.get('versions')}", ""]
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
    """Objects shaped like nutag.run.SampleResult, rebuilt from the stored cutflow document."""
    return {name: SimpleNamespace(kind=s["kind"], n_runs=s["n_runs"],
                                  blinded_regions=s["blinded_regions"],
                                  regions={r: SimpleNamespace(cutflow=rows)
                                           for r, rows in s["regions"].items()})
            for name, s in doc["cutflows"].items()}


def write_histograms(path: Path, histograms: Histos, provenance: Mapping[str, Any]) -> None:
    """One TDirectory per sample/region; provenance and blinding as TNamed at the top."""
    from .rootenv import import_root  # noqa: PLC0415

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
    from .rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    f = ROOT.TFile.Open(str(path))
    if not f or f.IsZombie():
        raise NutagError(f"cannot open {path}; rerun `nutag run` to recreate it")
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


def _swap_in(tmp: Path, out_dir: Path) -> None:
    """Rename the complete tmp dir over out_dir (the old one is removed only afterwards)."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _render(out: Path, stored: Mapping[str, Any], histograms: Histos) -> str:
    """Tables, cutflows and plots into ``out`` from stored inputs; returns the summary table."""
    from . import plots  # noqa: PLC0415 (ROOT graphics)

    summary = dict(_results.compute(stored["doc"], stored["options"],
                                    blinded=stored["provenance"]["blinded"]))
    summary["provenance"] = stored["provenance"]
    pub = published()
    if "systematics" in summary:  # the published totals beside nutag's, in the JSON too
        summary["systematics"] = {**summary["systematics"],
                                  "published": published_systematics(pub)}
    table = summary_markdown(summary, pub)
    _cutflow.atomic_write(out / "summary.json", _json(summary))
    _cutflow.atomic_write(out / "summary.md", table)
    _cutflow.write_cutflows(_samples_for_cutflows(stored["doc"]), out)
    plots.make_all(out, histograms, summary, stored["doc"], stored["options"], stored["boxes"])
    return table


def write_results(out_dir: Path, *, doc: Mapping[str, Any], summary: Mapping[str, Any],
                  provenance: Mapping[str, Any], histograms: Histos,
                  options: Mapping[str, Any], boxes: Mapping[str, float] | None) -> str:
    """Write the whole results directory atomically; returns the summary table (Markdown)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        stored = {"doc": doc, "options": options, "boxes": boxes, "provenance": provenance,
                  "summary_at_run": dict(summary)}
        _cutflow.atomic_write(tmp / RESULTS_FILE, _json(stored))
        write_histograms(tmp / HISTO_FILE, histograms, provenance)
        table = _render(tmp, stored, histograms)
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return table


def report_from_dir(results_dir: Path) -> str:
    """Remake summary, cutflows and plots from results.json + histograms.root (no events)."""
    results_dir = Path(results_dir)
    stored_path = results_dir / RESULTS_FILE
    if not stored_path.is_file():
        raise NutagError(f"{stored_path} not found: {results_dir} is not a nutag results "
                         "directory (run `nutag run` first)")
    stored = json.loads(stored_path.read_text(encoding="utf-8"))
    histograms = read_histograms(results_dir / HISTO_FILE)
    tmp = Path(tempfile.mkdtemp(prefix=f".{results_dir.name}.tmp-", dir=results_dir.parent))
    try:
        shutil.copy2(stored_path, tmp / RESULTS_FILE)
        shutil.copy2(results_dir / HISTO_FILE, tmp / HISTO_FILE)
        table = _render(tmp, stored, histograms)
        _swap_in(tmp, results_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return table
