"""The physics result from the engine's plain yields: normalisation, signal, backgrounds, p-values.

Why it works on plain numbers (no ROOT): the arithmetic of the paper — N_K from the control
trigger, N_sig from the signal MC, backgrounds = side-band count x extrapolation factor — is
where a mistake changes the answer, so it must be testable on hand-made inputs, and
``nutag report`` must be able to redo it from the stored ``results.json`` without events.

Input ("run document", what :func:`nutag.jobs.pipeline.run_document` makes from a run)::

    {"samples": {name: {"kind": "data"|"mc", "meta": {...},
                        "blinded_regions": [...],
                        "yields": {region: {"raw": int, "sumw": float, "sumw2": float}}}},
     "candidates": [ {property: value, ...}, ... ]}        # only when unblinded

Weight convention (nutag.simulate): the expected data count of an MC stream passing S is
N_K * sum_S w / n_generated, the branching ratio being inside w.

Systematics: an MC sample may carry ``"variations": {region: {"nominal": sumw,
"<source>:up": sumw, ...}}`` (RDataFrame ``Vary``, nutag.engine.systematics). Every derived number
(N_K, N_sig, each background's extrapolation factor) is recomputed per variation with
:func:`nutag.results.variations.propagate`, so a source acting on several samples stays correlated
(a Kmu2 selection efficiency cancels between N_K and N_sig). Sources without a correction are
documented fixed fractions (``options.signal.systematics``, ``options.backgrounds.*.systematics``),
labelled ``fixed`` in the table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import stats
from .observation import (INTEGRATED_SUFFIX, OBSERVED_P_KEYS, background_integrated,
                          integrated_probabilities, published_observation,
                          s_over_b_mc_expected, sideband_comparison)
from ..core.errors import NutagError
from .variations import propagate, systematic_table, with_fixed

#: The 13 candidate properties of the paper (published.json "candidate") -> nutag columns.
CANDIDATE_COLUMNS: dict[str, str] = {
    "p_K": "p_k", "p_mu": "p_mu", "z_vtx_m": "z_vtx_m", "E_nu": "e_nu",
    "lkr_distance_to_z_axis": "lkr_r", "E_LKr": "e_lkr", "E_MUV1": "e_muv1",
    "E_MUV2": "e_muv2", "y": "y", "phi_lkr_muv3": "phi_lkr_muv3", "d_LKr": "d_lkr",
    "d_MUV3": "d_muv3", "m_miss2": "m_miss2",
}


class AnalysisError(NutagError):
    """The yields do not allow the requested computation (empty normalisation, missing region)."""


@dataclass(frozen=True)
class Yield:
    """Events after the last cut of a region: raw count, sum of weights, sum of squared weights."""

    raw: int
    sumw: float
    sumw2: float

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> "Yield":
        return cls(int(d["raw"]), float(d["sumw"]), float(d["sumw2"]))


# --------------------------------------------------------------------------- look-ups
def _sample(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    try:
        return doc["samples"][name]
    except KeyError:
        raise AnalysisError(f"sample {name!r} is not in the run (samples: "
                            f"{sorted(doc['samples'])}); fix the sample names under options: in "
                            "the analysis config") from None


def region_yield(doc: Mapping[str, Any], sample: str, region: str) -> Yield:
    """Yield of ``region`` in ``sample``; refuses blind regions instead of returning zero."""
    s = _sample(doc, sample)
    if region in s.get("blinded_regions", ()):
        raise AnalysisError(f"region {region!r} of sample {sample!r} is blind and was not read; "
                            "this quantity needs an unblinded run (--unblind)")
    try:
        return Yield.of(s["yields"][region])
    except KeyError:
        raise AnalysisError(f"region {region!r} was not booked for sample {sample!r} (regions: "
                            f"{sorted(s['yields'])}); check the region's samples: list and the "
                            "region names in options:") from None


def yield_variations(doc: Mapping[str, Any], sample: str, region: str) -> dict[str, float]:
    """``{"nominal": sumw, "<source>:<tag>": sumw}`` of a region (nominal only if not varied)."""
    varied = _sample(doc, sample).get("variations", {}).get(region, {})
    out = {k: float(v) for k, v in varied.items()}
    out["nominal"] = region_yield(doc, sample, region).sumw
    return out


def n_generated(doc: Mapping[str, Any], sample: str) -> float:
    meta = _sample(doc, sample).get("meta", {})
    n = meta.get("n_generated")
    if not n or n <= 0:
        raise AnalysisError(f"MC sample {sample!r} has no positive meta.n_generated; the "
                            "samples file must carry it (nutag simulate writes it)")
    return float(n)


# --------------------------------------------------------------------------- normalisation
def kaon_decays(n_data: int, downscaling: float, mc: Yield, n_gen: float) -> dict[str, float]:
    """N_K = N_Kmu2(data) * D / (sum_w(MC) / n_generated); stat: Poisson data (+) MC statistics.

    Why this form: in MC the control condition is not downscaled, so sum_w/n_generated is the
    probability per fiducial decay (BR x acceptance x trigger) of entering the control region;
    the data saw one decay in D of those.
    """
    if mc.sumw <= 0.0:
        raise AnalysisError("the Kmu2 MC has no weight in the normalisation region; check the "
                            "region's cuts or generate more Kmu2 events")
    if n_data <= 0:
        raise AnalysisError("no data event in the normalisation region: N_K cannot be measured; "
                            "check the control trigger cut and the data sample")
    acc = mc.sumw / n_gen
    value = n_data * downscaling / acc
    rel = math.sqrt(1.0 / n_data + mc.sumw2 / mc.sumw**2)
    return {"value": value, "stat": value * rel, "n_data": n_data, "downscaling": downscaling,
            "acceptance": acc, "acceptance_stat": math.sqrt(mc.sumw2) / n_gen}


def _events_read(doc: Mapping[str, Any], sample: str, region: str) -> int | None:
    try:
        return int(doc["cutflows"][sample]["regions"][region][0]["raw"])
    except (KeyError, IndexError, TypeError):
        return None


def check_normalisation(doc: Mapping[str, Any], data_name: str, mc_name: str,
                        region: str) -> None:
    """An empty normalisation region is an error naming the region, the samples and the fix.

    Why an error and not a null: N_K scales every expected yield (signal and MC truth), so
    without it the result has no number at all; a warning in an otherwise empty table is
    easier to miss than a failed run that says what to change.
    """
    data, mc = region_yield(doc, data_name, region), region_yield(doc, mc_name, region)
    if data.raw <= 0:
        read = _events_read(doc, data_name, region)
        seen = f" (of {read} events read)" if read is not None else ""
        raise AnalysisError(
            f"the normalisation region '{region}' selected no event of the data sample "
            f"'{data_name}'{seen}: N_K, and with it every expected yield, is undefined. Fix: "
            f"check that the data hold control-trigger events (meta.control_downscaling, the "
            f"trigger cut of regions.{region}), that the region's cuts are not too tight (see "
            f"cutflows of a run with options.normalisation.region set to a looser region), or "
            f"that options.normalisation.data_sample names the right sample")
    if mc.sumw <= 0.0:
        raise AnalysisError(
            f"the normalisation region '{region}' has no weighted event of the Kmu2 MC "
            f"'{mc_name}' (raw {mc.raw}, sum w {mc.sumw:g}): the acceptance, and so N_K, is "
            f"undefined. Fix: generate more events of '{mc_name}', check its weight "
            f"expression, or options.normalisation.mc_sample")


def expected_from_mc(n_k: float, n_k_stat: float, mc: Yield, n_gen: float) -> dict[str, float]:
    """N = N_K * sum_w / n_generated; stat from MC sum_w^2 (+) the N_K statistical error."""
    value = n_k * mc.sumw / n_gen
    mc_err = n_k * math.sqrt(mc.sumw2) / n_gen
    if mc.raw == 0:
        mc_err = 0.0
    nk_err = value * (n_k_stat / n_k if n_k > 0 else 0.0)
    return {"value": value, "stat": stats.quadrature(mc_err, nk_err), "stat_mc": mc_err,
            "stat_norm": nk_err, "raw": mc.raw}


# --------------------------------------------------------------------------- backgrounds
def extrapolation_factor(doc: Mapping[str, Any], numerator: str, denominator: str,
                         samples: list[str]) -> dict[str, Any]:
    """SR/SB ratio of the relaxed selection on the source sample(s), with its error.

    Several MC samples are combined at their expected rates (sum_w / n_generated each); data
    samples count events. The boxes are disjoint, so numerator and denominator are independent.
    An empty numerator gives factor 0 with the Garwood(0) upper edge x mean weight as error.
    """
    num = den = num_w2 = den_w2 = 0.0
    num_raw = den_raw = 0
    for s in samples:
        scale = 1.0 if _sample(doc, s)["kind"] == "data" else 1.0 / n_generated(doc, s)
        yn, yd = region_yield(doc, s, numerator), region_yield(doc, s, denominator)
        num, num_w2, num_raw = num + yn.sumw * scale, num_w2 + yn.sumw2 * scale**2, num_raw + yn.raw
        den, den_w2, den_raw = den + yd.sumw * scale, den_w2 + yd.sumw2 * scale**2, den_raw + yd.raw
    if den <= 0.0:
        raise AnalysisError(f"extrapolation denominator {denominator!r} is empty in {samples}; "
                            "widen the side-band, relax the selection further or generate more "
                            "events of the source sample")
    num_err = math.sqrt(num_w2) if num_raw > 0 else stats.zero_count_weighted_error(den, den_raw)
    factor = num / den
    err = stats.ratio_error(num, num_err, den, math.sqrt(den_w2))
    return {"value": factor, "stat": err, "numerator": num, "denominator": den,
            "numerator_raw": num_raw, "denominator_raw": den_raw,
            "numerator_region": numerator, "denominator_region": denominator,
            "samples": list(samples)}


def sideband_background(n_sideband: int, factor: float, factor_err: float,
                        rel_syst: Mapping[str, float] | None = None) -> dict[str, float]:
    """Background = side-band count x factor.

    stat: the Garwood 68.27 % interval of the side-band count times the factor (the paper's
    asymmetric errors); syst: the factor's own (MC statistics) error (+) the configured
    relative systematics, times the value.
    """
    g = stats.garwood(n_sideband)
    value = n_sideband * factor
    rel = [factor_err / factor] if factor > 0 else []
    rel += list((rel_syst or {}).values())
    syst = value * stats.quadrature(*rel) if value > 0 else factor_err * max(n_sideband, 1)
    return {"value": value, "stat_up": g.up * factor, "stat_down": g.down * factor,
            "syst": syst, "sideband_count": n_sideband, "factor": factor,
            "factor_stat": factor_err}


# --------------------------------------------------------------------------- the whole result
def _opt(options: Mapping[str, Any], *keys: str) -> Any:
    node: Any = options
    for k in keys:
        if not isinstance(node, Mapping) or k not in node:
            raise AnalysisError(f"options.{'.'.join(keys)} is missing from the analysis config; "
                                "see configs/default.yaml for the expected layout")
        node = node[k]
    return node


def compute(doc: Mapping[str, Any], options: Mapping[str, Any], *, blinded: bool
            ) -> dict[str, Any]:
    """Every number of summary.json (except provenance) from a run document and the options."""
    norm = _opt(options, "normalisation")
    data_name, mc_name, norm_region = norm["data_sample"], norm["mc_sample"], norm["region"]
    data_meta = _sample(doc, data_name).get("meta", {})
    downscaling = float(data_meta.get("control_downscaling", 1.0))
    check_normalisation(doc, data_name, mc_name, norm_region)
    n_k = kaon_decays(region_yield(doc, data_name, norm_region).raw, downscaling,
                      region_yield(doc, mc_name, norm_region), n_generated(doc, mc_name))
    n_k["nominal"] = data_meta.get("n_kaon_decays")

    sig_opt = _opt(options, "signal")
    sig = expected_from_mc(n_k["value"], n_k["stat"],
                           region_yield(doc, sig_opt["sample"], sig_opt["region"]),
                           n_generated(doc, sig_opt["sample"]))
    tables = signal_systematics(doc, options, n_k, sig["value"])
    sig["syst"] = tables["n_sig"]["total"]
    sig["syst_sources"] = {k: v["max_abs"] for k, v in tables["n_sig"]["sources"].items()}

    backgrounds: dict[str, Any] = {}
    warnings: list[str] = []
    for name, b in _opt(options, "backgrounds").items():
        ex = b["extrapolation"]
        n_sb = region_yield(doc, data_name, b["sideband_region"]).raw
        try:
            f = extrapolation_factor(doc, ex["numerator_region"], ex["denominator_region"],
                                     list(ex["samples"]))
        except AnalysisError as err:
            # An unmeasurable factor (empty relaxed side-band in the source MC) must not hide
            # the rest of the result: the background is reported as null with the reason.
            warnings.append(f"background {name}: {err}")
            backgrounds[name] = {"value": None, "stat_up": None, "stat_down": None,
                                 "syst": None, "sideband_count": n_sb, "factor": None,
                                 "factor_stat": None, "sideband_region": b["sideband_region"],
                                 "extrapolation": {**ex, "numerator_raw": None,
                                                   "denominator_raw": None},
                                 "label": b.get("label", name), "error": str(err)}
            continue
        bkg = sideband_background(n_sb, f["value"], f["stat"], b.get("systematics"))
        tables[name] = background_systematics(doc, ex, n_sb, f, b.get("systematics"))
        bkg["syst"] = tables[name]["total"]
        bkg.update(sideband_region=b["sideband_region"], extrapolation=f,
                   label=b.get("label", name))
        backgrounds[name] = bkg
    ok = [b for b in backgrounds.values() if b["value"] is not None]
    b_tot = sum(b["value"] for b in ok)
    total = {"value": b_tot,
             "stat_up": stats.quadrature(*(b["stat_up"] for b in ok)),
             "stat_down": stats.quadrature(*(b["stat_down"] for b in ok)),
             "syst": sum(b["syst"] for b in ok),  # correlated: linear
             "complete": len(ok) == len(backgrounds)}

    mc_truth = mc_truth_background(doc, options, n_k["value"])
    checks = sideband_checks(doc, options, n_k["value"], data_name)
    integrated = background_integrated(backgrounds)
    out: dict[str, Any] = {
        "n_kaon_decays": n_k["value"], "normalisation": n_k, "n_sig": sig,
        "backgrounds": backgrounds, "background_total": total,
        "s_over_b": sig["value"] / b_tot if b_tot > 0 else None,
        "s_over_b_mc_expected": s_over_b_mc_expected(sig["value"], mc_truth),
        "blinded": blinded, "observed": None, "candidates": [], "warnings": warnings,
        "mc_truth_background": mc_truth,
        "sideband_checks": checks,
        "background_integrated": integrated,
        "published_observation": published_observation(sig["value"], total, mc_truth,
                                                        backgrounds),
        "sideband_comparison": sideband_comparison(backgrounds, checks),
        "systematics": {"n_kaon_decays": tables["n_kaon_decays"], "n_sig": tables["n_sig"],
                        "backgrounds": {k: v for k, v in tables.items()
                                        if k in backgrounds}},
    }
    for key in (*OBSERVED_P_KEYS, *(k + INTEGRATED_SUFFIX for k in OBSERVED_P_KEYS)):
        out[key] = None
    if not blinded:
        n_obs = region_yield(doc, data_name, sig_opt["region"]).raw
        mu_sb, mu_b = sig["value"] + b_tot, b_tot
        out.update(observed=n_obs,
                   p_exactly_observed_sb=stats.p_exactly(n_obs, mu_sb),
                   p_exactly_observed_b=stats.p_exactly(n_obs, mu_b),
                   p_at_least_observed_sb=stats.p_at_least(n_obs, mu_sb),
                   p_at_least_observed_b=stats.p_at_least(n_obs, mu_b),
                   candidates=list(doc.get("candidates", [])))
        out.update(integrated_probabilities(n_obs, sig["value"], backgrounds))
    return out


# --------------------------------------------------------------------------- systematics
def signal_systematics(doc: Mapping[str, Any], options: Mapping[str, Any],
                       n_k: Mapping[str, Any], n_sig: float) -> dict[str, Any]:
    """Systematic tables of N_K and N_sig: propagated variations (+) fixed fractions.

    N_K = n_data * D * n_gen(Kmu2) / sumw(Kmu2) and N_sig = N_K * sumw(signal) / n_gen(signal)
    are recomputed for every variation of either MC yield (data counts are not varied).
    """
    norm, sig_opt = _opt(options, "normalisation"), _opt(options, "signal")
    scale = n_k["n_data"] * n_k["downscaling"] * n_generated(doc, norm["mc_sample"])
    ng_sig = n_generated(doc, sig_opt["sample"])
    mc = yield_variations(doc, norm["mc_sample"], norm["region"])
    sig = yield_variations(doc, sig_opt["sample"], sig_opt["region"])
    nk_var = propagate(lambda mc: scale / mc, {"mc": mc})
    sig_var = propagate(lambda mc, sig: scale / mc * sig / ng_sig, {"mc": mc, "sig": sig})
    fixed = {k: float(v) for k, v in (sig_opt.get("systematics") or {}).items()}
    sig_var = with_fixed(n_sig, sig_var, {k: n_sig * v for k, v in fixed.items()})
    return {"n_kaon_decays": systematic_table(n_k["value"], nk_var),
            "n_sig": systematic_table(n_sig, sig_var, dict.fromkeys(fixed, "fixed"))}


def background_systematics(doc: Mapping[str, Any], ex: Mapping[str, Any], n_sb: int,
                           factor: Mapping[str, Any], fixed: Mapping[str, float] | None
                           ) -> dict[str, Any]:
    """Systematic table of one side-band background = n_sb x factor.

    The factor is recomputed for every variation of its MC yields (numerator and denominator
    move together: only what changes their ratio counts); its MC-statistics error and the fixed
    fractions are symmetric sources. An empty side-band (n_sb = 0) is treated as one event for
    the systematics, as for the statistics of an empty numerator (the quoted value stays 0).
    """
    samples = list(ex["samples"])
    inputs: dict[str, dict[str, float]] = {}
    weights: dict[str, float] = {}
    for i, s in enumerate(samples):
        w = 1.0 if _sample(doc, s)["kind"] == "data" else 1.0 / n_generated(doc, s)
        inputs[f"n{i}"] = yield_variations(doc, s, ex["numerator_region"])
        inputs[f"d{i}"] = yield_variations(doc, s, ex["denominator_region"])
        weights[f"n{i}"] = weights[f"d{i}"] = w

    def ratio(**y: float) -> float:
        den = sum(weights[k] * v for k, v in y.items() if k[0] == "d")
        num = sum(weights[k] * v for k, v in y.items() if k[0] == "n")
        return num / den if den > 0 else factor["value"]

    scale = n_sb if n_sb > 0 else 1
    value = n_sb * factor["value"]
    varied = {k: value + scale * (f - factor["value"])
              for k, f in propagate(ratio, inputs).items() if k != "nominal"}
    shifts = {"extrapolation_mc_stat": scale * factor["stat"]}
    shifts.update({k: scale * factor["value"] * float(v) for k, v in (fixed or {}).items()})
    kinds = {"extrapolation_mc_stat": "mc_stat", **dict.fromkeys(fixed or {}, "fixed")}
    return systematic_table(value, with_fixed(value, varied, shifts), kinds)


def mc_truth_background(doc: Mapping[str, Any], options: Mapping[str, Any], n_k: float
                        ) -> dict[str, Any]:
    """Expected background in the signal region straight from the background MC (closure test).

    Not the analysis estimate — the data-driven side-band method is — but what it should agree
    with on simulation.
    """
    region = _opt(options, "signal")["region"]
    per: dict[str, Any] = {}
    for s in options.get("mc_truth_backgrounds", []) or []:
        y = region_yield(doc, s, region)
        ng = n_generated(doc, s)
        per[s] = {"value": n_k * y.sumw / ng, "stat": n_k * math.sqrt(y.sumw2) / ng,
                  "raw": y.raw}
    return {"region": region, "samples": per,
            "total": sum(v["value"] for v in per.values()),
            "total_stat": stats.quadrature(*(v["stat"] for v in per.values()))}


def sideband_checks(doc: Mapping[str, Any], options: Mapping[str, Any], n_k: float,
                    data_name: str) -> dict[str, Any]:
    """Observed data vs MC expectation in each side-band: validates the background model."""
    out: dict[str, Any] = {}
    samples = list(options.get("mc_truth_backgrounds", []) or [])
    sig = _opt(options, "signal")["sample"]
    for name, b in _opt(options, "backgrounds").items():
        region = b["sideband_region"]
        exp = sum(n_k * region_yield(doc, s, region).sumw / n_generated(doc, s)
                  for s in samples + [sig])
        out[name] = {"region": region, "observed": region_yield(doc, data_name, region).raw,
                     "expected_mc": exp}
    return out


def candidate_rows(columns: Mapping[str, list[float]],
                   mapping: Mapping[str, str] = CANDIDATE_COLUMNS) -> list[dict[str, float]]:
    """Turn per-column lists (from Take) into one dict per event, with the paper's names."""
    missing = [c for c in mapping.values() if c not in columns]
    if missing:
        raise AnalysisError(f"candidate columns {missing} were not taken; define them in the "
                            "selection or fix options.candidate.columns")
    n = len(next(iter(columns.values()))) if columns else 0
    return [{name: float(columns[col][i]) for name, col in mapping.items()} for i in range(n)]
