"""Projection to larger data sets: what NA62 can expect with 1x, 3x and 10x the 2022 sample.

Why: with s ~ 0.2 expected signal events per 2022-sized sample the question is not "what is
the error" but "how likely is it to see anything at all". Expectations scale with the number of
K+ decays; the probabilities are Poisson:

* P(>= 1 signal event) = 1 - exp(-s);
* P(>= 1 event | b) = 1 - exp(-b): how often background alone gives at least one event;
* P(>= 1 event | s + b);
* expected (Asimov, median) significance Z_A = sqrt(2 ((s + b) ln(1 + s/b) - s)) — the standard
  approximation for a counting experiment with known b (Cowan et al., EPJC 71 (2011) 1554).

Errors: systematic and MC-statistical errors scale with the expectation (relative error
constant); the data-driven background's statistical (side-band) error shrinks as 1/sqrt(k)
because the side-bands grow with the data. Pure functions of numbers, no ROOT.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.atomic import atomic_write
from ..core.errors import NutagError

#: 1x the 2022 sample, 3x (the data NA62 already has), 10x
FACTORS: tuple[float, ...] = (1.0, 3.0, 10.0)
FACTOR_NOTES = {1.0: "2022 sample", 3.0: "data NA62 already has", 10.0: "10x 2022"}


def asimov_significance(s: float, b: float) -> float:
    """Median discovery significance of a counting experiment with expected s and known b."""
    if s < 0 or b < 0:
        raise ValueError(f"expectations must be >= 0, got s={s}, b={b}")
    if s == 0:
        return 0.0
    if b == 0:
        return math.inf
    return math.sqrt(2.0 * ((s + b) * math.log1p(s / b) - s))


def project(s: float, b: float, *, s_err: float = 0.0, b_err: float = 0.0,
            b_stat_rel: float = 0.0, factors: Sequence[float] = FACTORS) -> list[dict[str, Any]]:
    """One row per factor k: expectations k s, k b with errors, and the probabilities."""
    rows = []
    for k in factors:
        sk, bk = k * s, k * b
        b_syst_rel = math.sqrt(max((b_err / b) ** 2 - b_stat_rel**2, 0.0)) if b > 0 else 0.0
        rows.append({
            "factor": k, "note": FACTOR_NOTES.get(k, ""),
            "n_sig": sk, "n_sig_err": k * s_err,
            "n_bkg": bk, "n_bkg_err": bk * math.hypot(b_stat_rel / math.sqrt(k), b_syst_rel),
            "p_signal_at_least_1": -math.expm1(-sk),
            "p_at_least_1_given_b": -math.expm1(-bk),
            "p_at_least_1_given_sb": -math.expm1(-(sk + bk)),
            "expected_significance": asimov_significance(sk, bk),
        })
    return rows


def _err(d: Mapping[str, Any], *keys: str) -> float:
    return math.sqrt(sum(float(d.get(k) or 0.0) ** 2 for k in keys))


def projection_from_summary(summary: Mapping[str, Any], *, reference_n_k: float | None = None,
                            factors: Sequence[float] = FACTORS,
                            background: str = "auto") -> dict[str, Any]:
    """Projection of a results directory's summary.json (nutag's own s and b).

    With ``reference_n_k`` (e.g. the 2022 sample's 5e12) the run's expectations are first
    rescaled from its own N_K to it, so "1x" means the 2022 sample whatever the run's size.

    ``background``: ``"simulation"`` takes b from the MC-truth background in the signal region
    (``mc_truth_background``; its MC-statistics error does not shrink with more data),
    ``"data"`` the data-driven side-band estimate (``background_total``; its side-band error
    shrinks as 1/sqrt(k)), ``"auto"`` the simulation when the summary has it. Why simulation
    first: a projection is an expectation, and the data-driven estimate of one (pseudo-)data set
    is a Poisson draw of its side-bands — with 0 side-band events it is 0, which would project
    a background-free experiment with infinite significance.
    """
    if background not in ("auto", "simulation", "data"):
        raise ValueError(f"background={background!r}: use 'auto', 'simulation' or 'data'")
    sig = summary.get("n_sig") or {}
    mc = summary.get("mc_truth_background") or {}
    use_mc = background == "simulation" or (background == "auto" and mc.get("total") is not None)
    if use_mc and mc.get("total") is None:
        raise NutagError("summary.json has no MC-truth background (mc_truth_background); rerun "
                         "`nutag run` with background MC samples, or project the data-driven one")
    tot = {} if use_mc else (summary.get("background_total") or {})
    if sig.get("value") is None or (not use_mc and tot.get("value") is None):
        raise NutagError("summary.json has no signal or background expectation; rerun "
                         "`nutag run` to produce a complete results directory")
    n_k = summary.get("n_kaon_decays")
    r = reference_n_k / n_k if (reference_n_k and n_k) else 1.0
    s = r * float(sig["value"])
    s_err = r * _err(sig, "stat", "syst")
    if use_mc:
        b, b_stat = r * float(mc["total"]), 0.0
        b_err = r * float(mc.get("total_stat") or 0.0)
        complete = True
    else:
        b = r * float(tot["value"])
        b_stat = r * 0.5 * (float(tot.get("stat_up") or 0) + float(tot.get("stat_down") or 0))
        b_err = math.hypot(b_stat, r * float(tot.get("syst") or 0))
        complete = bool(tot.get("complete", True))
    out = {"source": "nutag", "n_kaon_decays_1x": r * n_k if n_k else None,
           "rescaled_from_n_kaon_decays": n_k if r != 1.0 else None,
           "background_source": "simulation" if use_mc else "data",
           "n_sig": s, "n_bkg": b, "background_complete": complete,
           "rows": project(s, b, s_err=s_err, b_err=b_err,
                           b_stat_rel=b_stat / b if b > 0 else 0.0, factors=factors)}
    return out


def projection_from_published(pub: Mapping[str, Any], *,
                              factors: Sequence[float] = FACTORS) -> dict[str, Any]:
    """The same projection from the published numbers (the reference row of the table)."""
    sig = pub["n_sig"]
    bk = pub["backgrounds"].values()
    b = sum(x["value"] for x in bk)
    b_stat = math.sqrt(sum((0.5 * (x["stat_up"] + x["stat_down"])) ** 2 for x in bk))
    b_syst = sum(x["syst"] for x in bk)
    return {"source": "published", "n_kaon_decays_1x": pub["n_kaon_decays"],
            "n_sig": sig["value"], "n_bkg": b, "background_complete": True,
            "rows": project(sig["value"], b, s_err=math.hypot(sig["stat"], sig["syst"]),
                            b_err=math.hypot(b_stat, b_syst), b_stat_rel=b_stat / b,
                            factors=factors)}


def projection_markdown(projections: Sequence[Mapping[str, Any]]) -> str:
    """One table row per (source, factor)."""
    lines = ["| source | sample | K+ decays | signal s | background b | P(≥1 signal) "
             "| P(≥1 event \\| b) | P(≥1 event \\| s+b) | expected Z |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in projections:
        nk = p.get("n_kaon_decays_1x")
        for r in p["rows"]:
            nk_txt = f"{r['factor'] * nk:.3g}" if nk else "—"
            z = r["expected_significance"]
            lines.append(
                f"| {p['source']} | {r['factor']:g}x ({r['note']}) | {nk_txt} | "
                f"{r['n_sig']:.3g} ± {r['n_sig_err']:.2g} | {r['n_bkg']:.3g} ± "
                f"{r['n_bkg_err']:.2g} | {100 * r['p_signal_at_least_1']:.1f} % | "
                f"{100 * r['p_at_least_1_given_b']:.1f} % | "
                f"{100 * r['p_at_least_1_given_sb']:.1f} % | "
                f"{'∞' if math.isinf(z) else f'{z:.2f}'} |")
    sources = {"simulation": "MC-truth background in the signal region",
               "data": "data-driven side-band estimate"}
    for p in projections:
        if p.get("background_source") in sources:
            lines += ["", f"{p['source']}: b is the {sources[p['background_source']]}."]
    notes = [p for p in projections if not p.get("background_complete", True)]
    if notes:
        lines += ["", "**Warning:** a background of the nutag run could not be measured; "
                  "its projection is a lower bound."]
    return "\n".join(lines) + "\n"


def read_summary(results_dir: Path) -> dict[str, Any]:
    path = Path(results_dir) / "summary.json"
    if not path.is_file():
        raise NutagError(f"{path} not found: give a nutag results directory (`nutag run` "
                         "writes one)")
    return json.loads(path.read_text(encoding="utf-8"))


def write_projection(out_dir: Path, projections: Sequence[Mapping[str, Any]]) -> list[Path]:
    """projection.json and projection.md, atomically."""
    out_dir = Path(out_dir)
    doc = {"factors": list(FACTORS), "projections": [
        {**p, "rows": [{k: (None if isinstance(v, float) and math.isinf(v) else v)
                        for k, v in r.items()} for r in p["rows"]]} for p in projections]}
    text = "# Projection to larger data sets\n\n" + projection_markdown(projections)
    return [atomic_write(out_dir / "projection.json", json.dumps(doc, indent=2) + "\n"),
            atomic_write(out_dir / "projection.md", text)]
