"""``nutag validate``: the published-versus-nutag comparison, generated from a run.

Why generated: a hand-written comparison goes stale the moment a cut or a simulation parameter
changes. docs/validation.md is the output of ``nutag validate RESULTS_DIR --write
docs/validation.md`` and says which run (config hash, git commit) it was made from.

It gathers, from a results directory (``nutag run``) and optionally a closure directory
(``nutag closure``): the paper's numbers beside nutag's, the closure test, the tagged-neutrino
energy resolution, where the published candidate falls on the simulated distributions, the
projection to 3x and 10x the data, and the calibration choices of the simulation (read from
simulation/default.yaml and the Calibration section of docs/simulation.md).
:func:`validation_document` computes, :func:`validation_markdown` formats; nothing prints.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import project
from ..core.atomic import atomic_write
from ..core.errors import NutagError
from ..core.locations import source_root

#: where the committed calibration choices are read (the checkout, or the installed sources)
REPO_ROOT = source_root()


def _num(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.{digits}g}" if isinstance(x, (int, float)) else str(x)


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


# --------------------------------------------------------------------------- pieces
def comparison_rows(summary: Mapping[str, Any], pub: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Published vs nutag, quantity by quantity, with the ratio nutag/published."""
    def row(name: str, p: float | None, n: float | None, p_txt: str, n_txt: str) -> dict:
        ratio = n / p if (p and n is not None) else None
        return {"quantity": name, "published": p, "nutag": n, "published_text": p_txt,
                "nutag_text": n_txt, "ratio": ratio}

    sig = summary["n_sig"]
    rows = [row("K+ decays N_K", pub["n_kaon_decays"], summary["n_kaon_decays"],
                _num(pub["n_kaon_decays"]), f"{_num(summary['n_kaon_decays'])} ± "
                f"{_num(summary['normalisation']['stat'])}"),
            row("expected signal N_sig", pub["n_sig"]["value"], sig["value"],
                f"{pub['n_sig']['value']} ± {pub['n_sig']['stat']} ± {pub['n_sig']['syst']}",
                f"{_num(sig['value'])} ± {_num(sig['stat'])} ± {_num(sig['syst'])}")]
    for key, b in summary["backgrounds"].items():
        p = pub["backgrounds"].get(key)
        txt = ("not measurable" if b["value"] is None else
               f"{_num(b['value'])} +{_num(b['stat_up'])} −{_num(b['stat_down'])} ± "
               f"{_num(b['syst'])}")
        ptxt = f"{p['value']} +{p['stat_up']} −{p['stat_down']} ± {p['syst']}" if p else "—"
        rows.append(row(f"background: {b.get('label', key)}", p["value"] if p else None,
                        b["value"], ptxt, txt))
    tot = summary["background_total"]
    pb = sum(x["value"] for x in pub["backgrounds"].values())
    rows.append(row("background total", pb, tot["value"], _num(pb), _num(tot["value"])))
    rows.append(row("S/B", pub["s_over_b"], summary.get("s_over_b"), f"about {pub['s_over_b']}",
                    _num(summary.get("s_over_b"), 2)))
    # the expectation from simulation: what the data-driven estimate of one (pseudo-)data set
    # fluctuates around (with empty side-bands the data-driven estimate is 0)
    mc = summary.get("mc_truth_background") or {}
    b_expected = mc.get("total")
    if b_expected is not None:
        for key, b in summary["backgrounds"].items():
            p = pub["backgrounds"].get(key)
            parts = [mc["samples"][x] for x in (b.get("extrapolation") or {}).get("samples", [])
                     if x in mc.get("samples", {})]
            if not parts:
                continue
            v = sum(x["value"] for x in parts)
            err = math.sqrt(sum(x["stat"] ** 2 for x in parts))
            raw = sum(int(x.get("raw", 0)) for x in parts)
            rows.append(row(f"background: {b.get('label', key)}, simulation (MC truth in the "
                            "signal region)", p["value"] if p else None, v,
                            f"{p['value']}" if p else "—",
                            f"{_num(v)} ± {_num(err)} ({raw} MC events)"))
        rows.append(row("background total, simulation", pb, b_expected, _num(pb),
                        f"{_num(b_expected)} ± {_num(mc.get('total_stat'))}"))
        sb = sig["value"] / b_expected if b_expected > 0 else None
        rows.append(row("S/B, simulation", pub["s_over_b"], sb, f"about {pub['s_over_b']}",
                        _num(sb, 2)))
    blinded = summary.get("blinded", True)
    obs = summary.get("observed")
    rows.append(row("observed in signal region", pub["observed"], None if blinded else obs,
                    str(pub["observed"]), "blinded" if blinded else str(obs)))
    for key, label in (("p_exactly_observed_sb", "P(exactly n_obs | s+b)"),
                       ("p_exactly_observed_b", "P(exactly n_obs | b)")):
        v = None if blinded else summary.get(key)
        rows.append(row(label, pub[key], v, str(pub[key]), "blinded" if blinded else _num(v)))
    # the paper's probabilities for ONE observed event, with nutag's s and expected b
    s = sig["value"]
    b, which = (b_expected, "simulated") if b_expected is not None else (tot["value"], "data-driven")
    rows.append(row(f"P(1 event | s+b) with nutag's s and {which} b", pub["p_exactly_observed_sb"],
                    (s + b) * math.exp(-(s + b)), str(pub["p_exactly_observed_sb"]),
                    _num((s + b) * math.exp(-(s + b)))))
    rows.append(row(f"P(1 event | b) with nutag's {which} b", pub["p_exactly_observed_b"],
                    b * math.exp(-b), str(pub["p_exactly_observed_b"]), _num(b * math.exp(-b))))
    return rows


def calibration_choices(repo: Path = REPO_ROOT) -> dict[str, Any]:
    """The simulation's fitted (calibration) parameters and the docs' Calibration section."""
    params, notes = [], []
    sim = repo / "simulation" / "default.yaml"
    in_note = False
    if sim.is_file():
        for line in sim.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^([a-z0-9_]+):\s*([^#]+?)\s*#\s*(.*)$", line)
            if m and re.search(r"\[fit\b|calibrat|downscal", m.group(3), re.I):
                params.append({"name": m.group(1), "value": m.group(2), "comment": m.group(3)})
            # comment blocks about the calibration, kept verbatim
            is_comment = line.lstrip().startswith("#")
            in_note = is_comment and (in_note or bool(re.search(r"calibrat", line, re.I)))
            if in_note:
                notes.append(line.lstrip()[1:].strip())
    section = ""
    doc = repo / "docs" / "simulation.md"
    if doc.is_file():
        text = doc.read_text(encoding="utf-8")
        m = re.search(r"^(#+)\s[^\n]*[Cc]alibration[^\n]*\n(.*?)(?=^#{1,2}\s|\Z)", text,
                      re.S | re.M)
        if m:
            section = m.group(2).strip()
    return {"parameters": params, "yaml_notes": notes, "docs_section": section,
            "sources": ["simulation/default.yaml", "docs/simulation.md"]}


def candidate_from_results(results_dir: Path, out_dir: Path) -> dict[str, Any] | None:
    """Candidate percentiles from the run's stored histograms (figures into out_dir)."""
    from . import candidate_compare  # noqa: PLC0415
    from ..outputs.report import HISTO_FILE, RESULTS_FILE, published, read_histograms  # noqa: PLC0415

    stored = _read_json(results_dir / RESULTS_FILE)
    if stored is None or not (results_dir / HISTO_FILE).is_file():
        return None
    options = stored["options"]
    histos = read_histograms(results_dir / HISTO_FILE)
    candidate = candidate_with_analysis_y(published()["candidate"])
    cmp = candidate_compare.compare_from_histograms(
        histos, stored["doc"], candidate, signal=options["signal"]["sample"],
        signal_region=options["signal"]["region"],
        backgrounds={b: list(o["extrapolation"]["samples"])
                     for b, o in options["backgrounds"].items()})
    cmp.numbers["y_published"] = published()["candidate"]["y"]
    cmp.numbers["y_definition"] = ("calibrated E_had (selections/nutag.yaml had_w_*, python -m "
                                   "nutag.simulate.ehad_calibration) / E_nu, as for the MC")
    candidate_compare.write_comparison(out_dir, cmp)
    return cmp.numbers


def candidate_with_analysis_y(candidate: Mapping[str, Any]) -> dict[str, Any]:
    """The published candidate with its y recomputed from its E_LKr, E_MUV1, E_MUV2 and E_nu
    with the analysis' calibrated E_had: the MC's y and the candidate's must be the same
    quantity for a percentile to mean anything (the paper's own definition is not public)."""
    from ..simulate.ehad_calibration import calibrated_y  # noqa: PLC0415

    out = dict(candidate)
    out["y"] = round(calibrated_y(candidate), 3)
    return out


#: the figures of `nutag run` shown on the page (nutag.outputs.plots)
RUN_FIGURES = ("plane.png", "plane_zoom.png", "projection_m_miss2_log.png",
               "projection_d_lkr_log.png")
#: the figures of `nutag toys` shown on the page
TOYS_FIGURES = ("toys_background.png", "toys_p_b.png", "toys_counts.png")


def validation_document(results_dir: Path, closure_dir: Path | None = None,
                        out_dir: Path | None = None, repo: Path = REPO_ROOT) -> dict[str, Any]:
    """Every number of the validation page (figures go to out_dir, default RESULTS_DIR/validation)."""
    from ..outputs.report import published  # noqa: PLC0415

    results_dir = Path(results_dir)
    summary = project.read_summary(results_dir)
    pub = published()
    out_dir = Path(out_dir or results_dir / "validation")
    closure = resolution = None
    for d in [p for p in (closure_dir, results_dir) if p is not None]:
        closure = closure or _read_json(Path(d) / "closure.json")
        resolution = resolution or _read_json(Path(d) / "resolution.json")
    if closure_dir is not None and closure is None:
        raise NutagError(f"{closure_dir}/closure.json not found; run `nutag closure --output "
                         f"{closure_dir}` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    copied: set[str] = set()
    for d in [p for p in (closure_dir, results_dir) if p is not None]:
        for name in ("closure.png", "closure.pdf", "resolution.png", "resolution.pdf"):
            src = Path(d) / name
            if name not in copied and src.is_file() and \
                    src.resolve() != (out_dir / name).resolve():
                copied.add(name)
                tmp = out_dir / f".{name}.tmp"
                shutil.copy2(src, tmp)  # the page's figures live together, next to it
                os.replace(tmp, out_dir / name)
    run_figures = [name for name in RUN_FIGURES if (results_dir / name).is_file()]
    for name in run_figures:  # the run's own figures (nutag.outputs.plots), the same on the page
        tmp = out_dir / f".{name}.tmp"
        shutil.copy2(results_dir / name, tmp)
        os.replace(tmp, out_dir / name)
    toys = _read_json(results_dir / "toys" / "toys.json")  # `nutag toys RESULTS_DIR`, if run
    for name in TOYS_FIGURES if toys is not None else ():
        src = results_dir / "toys" / name
        if src.is_file():
            tmp = out_dir / f".{name}.tmp"
            shutil.copy2(src, tmp)
            os.replace(tmp, out_dir / name)
    projections = [project.projection_from_summary(summary, reference_n_k=pub["n_kaon_decays"]),
                   project.projection_from_published(pub)]
    project.write_projection(out_dir, projections)
    return {"results_dir": str(results_dir), "closure_dir": str(closure_dir or ""),
            "figures_dir": str(out_dir), "provenance": summary.get("provenance", {}),
            "comparison": comparison_rows(summary, pub), "closure": closure,
            "resolution": resolution, "candidate": candidate_from_results(results_dir, out_dir),
            "projections": projections, "calibration": calibration_choices(repo),
            "toys": toys, "run_figures": run_figures,
            "warnings": summary.get("warnings", [])}


# --------------------------------------------------------------------------- text
def _rel(path: str, base: Path | None) -> str:
    if base is None:
        return path
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return path


def validation_markdown(doc: Mapping[str, Any], link_base: Path | None = None) -> str:
    """docs/validation.md from :func:`validation_document` (links relative to link_base)."""
    from . import candidate_compare, closure  # noqa: PLC0415

    prov = doc["provenance"]
    fig = _rel(doc["figures_dir"], link_base)
    # the command that regenerates this page, with --figures when they are not the default
    default_figures = Path(doc["results_dir"]) / "validation"
    figures_arg = ("" if Path(doc["figures_dir"]).resolve() == default_figures.resolve()
                   else f" --figures {doc['figures_dir']}")
    lines = ["# Validation: nutag versus the publication", "",
             "_Generated by `nutag validate " + _rel(doc["results_dir"], link_base)
             + (f" --closure {_rel(doc['closure_dir'], link_base)}" if doc["closure_dir"] else "")
             + figures_arg + " --write docs/validation.md`; do not edit by hand._", "",
             f"Run: analysis `{prov.get('analysis')}`, config hash `{str(prov.get('config_hash'))[:12]}`, "
             f"git `{str(prov.get('git_commit'))[:12]}`{' (dirty)' if prov.get('git_dirty') else ''}, "
             f"{'blinded' if prov.get('blinded', True) else 'UNBLINDED'}.", "",
             "## Published (PLB 863 (2025) 139345) versus nutag", "",
             "| quantity | published | nutag | nutag / published |", "|---|---|---|---:|"]
    for r in doc["comparison"]:
        cells = [str(x).replace("|", "\\|") for x in (r["quantity"], r["published_text"],
                                                       r["nutag_text"], _num(r["ratio"], 2))]
        lines.append("| " + " | ".join(cells) + " |")
    for w in doc.get("warnings") or []:
        lines += ["", f"**Warning from the run:** {w}"]
    lines += ["", "## Closure test of the side-band method", ""]
    if doc["closure"]:
        lines.append(closure.closure_markdown(doc["closure"]).split("\n", 2)[2])
        lines.append(f"![closure]({fig}/closure.png)")
    else:
        lines.append("_not run: `nutag closure` then `nutag validate ... --closure DIR`_")
    lines += ["", "## Tagged-neutrino energy resolution (signal MC, signal region)", ""]
    res = doc["resolution"]
    if res:
        lines += ["| estimator | σ68/E | median bias | MC events |", "|---|---:|---:|---:|"]
        names = {"tag": "E_ν from tagging (E_K − E_μ)",
                 "calo": "E_had + E_μ− (calorimetric; E_μ− from truth: best case)",
                 "had": "E_had vs true y·E_ν (calorimeter alone)"}
        for k, e in res["estimators"].items():
            lines.append(f"| {names.get(k, k)} | {100 * e['sigma68']:.2f} % | "
                         f"{100 * e['median']:.2f} % | {e['entries']} |")
        lines += ["", f"Tagging is {_num(res.get('ratio_calo_over_tag'), 2)}× more precise than "
                  "the best calorimetric estimate; σ/E below 1 %: "
                  f"**{'yes' if res.get('tag_below_1_percent') else 'NO'}** "
                  "(spec estimate 0.35 % at 52 GeV).", ""]
        lines.append(f"![resolution]({fig}/resolution.png)")
    else:
        lines.append("_no resolution.json (produced by `nutag closure`)_")
    if doc.get("run_figures"):
        lines += ["", "## The run's figures", "",
                  "_The figures of `nutag run` (results directory), in expected events: the "
                  "(m²_miss, d_LKr) plane with every region box and the published candidate, "
                  "and the projections with Poisson errors and a data/MC panel._", ""]
        lines += [f"![{name}]({fig}/{name})" + "\n" for name in doc["run_figures"]]
    lines += ["", "## Where the published candidate falls", ""]
    if doc["candidate"]:
        c = doc["candidate"]
        lines += [f"Percentile = weighted fraction of simulated events below the candidate's "
                  f"value; signal MC in region `{c['signal_region']}`, background MC in "
                  f"`{c['background_region']}` (relaxed: enough MC to have a shape). The "
                  f"candidate's y is recomputed with the analysis' calibrated E_had (published "
                  f"{c.get('y_published', '—')}).", "",
                  candidate_compare.comparison_markdown(c), f"![candidate]({fig}/candidate.png)"]
    else:
        lines.append("_no histograms in the results directory_")
    lines += ["", "## Projection: 1x, 3x (the data NA62 has) and 10x the 2022 sample", "",
              project.projection_markdown(doc["projections"])]
    if doc.get("toys"):
        from .toys_report import toys_markdown  # noqa: PLC0415 (numpy and ROOT for the plots)

        figures = Path(doc["figures_dir"])
        lines += ["", "## Pseudo-experiments", "",
                  f"_From `nutag toys {doc['results_dir']}`; no event loop._", "",
                  toys_markdown(doc["toys"]), ""]
        lines += [f"![{name}]({_rel(str(figures / name), link_base)})" + "\n"
                  for name in TOYS_FIGURES]
    cal = doc["calibration"]
    lines += ["## Calibration choices of the simulation", "",
              "Parameters marked [fit] in `simulation/default.yaml` (the yields they are "
              "fitted to are calibrated, not predicted):", "",
              "| parameter | value | comment |", "|---|---|---|"]
    lines += [f"| `{p['name']}` | {p['value']} | {p['comment']} |" for p in cal["parameters"]]
    if cal.get("yaml_notes"):
        lines += ["", "Calibration notes in `simulation/default.yaml`:", ""]
        lines += ["> " + ln if ln else ">" for ln in cal["yaml_notes"]]
    if cal["docs_section"]:
        lines += ["", "From the Calibration section of `docs/simulation.md`:", ""]
        lines += ["> " + ln if ln else ">" for ln in cal["docs_section"].splitlines()]
    return "\n".join(lines) + "\n"


def write_validation(path: Path, doc: Mapping[str, Any]) -> Path:
    """Write the page atomically (links relative to the page's directory)."""
    path = Path(path)
    return atomic_write(path, validation_markdown(doc, link_base=path.parent))
