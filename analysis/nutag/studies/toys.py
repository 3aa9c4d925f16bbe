"""Pseudo-experiments: how nutag's background estimate and probabilities behave over an
ensemble of pseudo-data sets drawn from the simulation, without a new event loop.

Why: one (pseudo-)data set gives one side-band count per background, often 0 or 1, so one
background estimate and one probability. Whether the quoted Garwood 68 % interval covers the
true background, how often a 2022-sized sample has an event in the signal box, and how unusual
the published outcome (one event in each side-band, one candidate) or the run's own side-band
counts are, are statements about the ensemble.

Model (the expectation of every data region the estimate uses, from the booked MC):

* normalisation region: N_K x acceptance / downscaling, i.e. the data count the run measured;
* side-band k: the MC-truth side-band expectation (``sideband_checks``: background MC + signal
  MC, N_K x sum_w / n_generated);
* signal box: s + the MC-truth background in it (``mc_truth_background``);
* extrapolation factor k: Gamma with the factor's mean and its MC-statistics error (exponential
  of mean error / Garwood(0) upper edge for an empty MC numerator), as if the background MC had
  been generated anew.

Each toy is then analysed as ``nutag run`` analyses data (:mod:`nutag.results.physics`): background =
side-band count x factor with the Garwood interval, N_K and s from the toy's normalisation
count, plain Poisson probabilities of the toy's signal-box count, and the integrated ones
(:mod:`nutag.results.observation`) on the first toys only (about 0.05 s per toy). No ROOT here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..results import physics as results, stats
from ..core.errors import NutagError
from ..results.observation import (INTEGRATED_SUFFIX, OBSERVED_P_KEYS, integrated_probabilities,
                          published_numbers)
from ..outputs.results_dir import RESULTS_FILE

DEFAULT_SEED = 20_220_139  # any fixed number: the ensemble is reproducible
DEFAULT_TOYS = 1000
DEFAULT_INTEGRATED = 200
PLAIN_KEYS = OBSERVED_P_KEYS
INTEGRATED_KEYS = tuple(k + INTEGRATED_SUFFIX for k in PLAIN_KEYS)


@dataclass(frozen=True)
class BackgroundModel:
    """One side-band background: its true side-band mean, factor and signal-box truth."""

    name: str
    label: str
    sideband_region: str
    expected_sideband: float  # events, MC-truth side-band expectation (the Poisson mean)
    factor: float
    factor_stat: float        # MC-statistics error of the factor (what the toys draw)
    syst_per_event: float     # quoted syst per side-band event (all sources), at the factor
    truth: float              # events, MC-truth background in the signal box
    observed_sideband: int    # the run's own data count (the drawn default realisation)

    @property
    def method_truth(self) -> float:
        """What side-band x factor estimates on average: expected side-band x factor."""
        return self.expected_sideband * self.factor


@dataclass(frozen=True)
class ToyModel:
    """Everything a toy needs, taken once from a results directory's run document."""

    n_norm: float             # expected data count in the normalisation region
    kaons_per_norm_event: float  # N_K per normalisation event = downscaling / acceptance
    signal_per_kaon: float    # expected signal events per K+ decay
    signal: float             # events, expected signal s at the run's N_K
    backgrounds: tuple[BackgroundModel, ...]
    observed_signal: int | None  # the run's signal-box count; None for a blinded run
    other_truth: float = 0.0  # events, MC-truth background of samples no side-band estimates

    @property
    def truth(self) -> float:
        """Events, the true expected background in the signal box (MC truth, all samples)."""
        return sum(b.truth for b in self.backgrounds) + self.other_truth

    @property
    def signal_box_expected(self) -> float:
        return self.signal + self.truth


# --------------------------------------------------------------------------- the model
def read_results(results_dir: Path) -> dict[str, Any]:
    """results.json of a results directory (the run document, options and provenance)."""
    path = Path(results_dir) / RESULTS_FILE
    if not path.is_file():
        raise NutagError(f"{path} not found: give a nutag results directory (`nutag run` "
                         "writes one)")
    return json.loads(path.read_text(encoding="utf-8"))


def is_blinded(stored: Mapping[str, Any]) -> bool:
    """Blinded unless the run says otherwise: provenance first, then the data's blind regions."""
    prov = (stored.get("provenance") or {}).get("blinded")
    if prov is not None:
        return bool(prov)
    return any(s.get("blinded_regions") for s in stored["doc"]["samples"].values())


def build_model(stored: Mapping[str, Any]) -> ToyModel:
    """The toy model from a stored run: ``nutag.results.physics.compute`` once, then its numbers.

    A blinded run is computed blinded, so the data signal box is never read (and a blinded
    results.json does not hold it).
    """
    blinded = is_blinded(stored)
    summary = results.compute(stored["doc"], stored["options"], blinded=blinded)
    truth = summary["mc_truth_background"]
    if not truth.get("samples"):
        raise NutagError("the run has no MC-truth background (options.mc_truth_backgrounds): "
                         "the toys need the background MC to know the true signal-box "
                         "background")
    checks, used = summary["sideband_checks"], set()
    bkgs = []
    for name, b in summary["backgrounds"].items():
        if b.get("value") is None:
            raise NutagError(f"background {name}: its extrapolation factor could not be "
                             f"measured ({b.get('error')}); the toys need every factor")
        samples = [s for s in b["extrapolation"]["samples"] if s in truth["samples"]]
        used.update(samples)
        n_obs = int(b["sideband_count"])
        bkgs.append(BackgroundModel(
            name=name, label=str(b.get("label", name)), sideband_region=b["sideband_region"],
            expected_sideband=float(checks[name]["expected_mc"]), factor=float(b["factor"]),
            factor_stat=float(b["factor_stat"]), syst_per_event=float(b["syst"]) / max(n_obs, 1),
            truth=sum(truth["samples"][s]["value"] for s in samples),
            observed_sideband=n_obs))
    norm = summary["normalisation"]
    return ToyModel(
        n_norm=float(norm["n_data"]),
        kaons_per_norm_event=float(norm["downscaling"]) / float(norm["acceptance"]),
        signal_per_kaon=float(summary["n_sig"]["value"]) / float(summary["n_kaon_decays"]),
        signal=float(summary["n_sig"]["value"]), backgrounds=tuple(bkgs),
        observed_signal=None if blinded else int(summary["observed"]),
        other_truth=sum(v["value"] for s, v in truth["samples"].items() if s not in used))


# --------------------------------------------------------------------------- drawing
def draw_factors(rng: np.random.Generator, factor: float, error: float, n: int) -> np.ndarray:
    """n draws of an extrapolation factor from its MC-statistics uncertainty.

    Gamma with mean ``factor`` and sd ``error`` (positive, and the shape of a ratio of MC sums
    of weights); for an empty MC numerator (factor 0 with an upper error) the exponential
    nutag.results.stats integrates over; without an error the factor itself.
    """
    if error <= 0.0:
        return np.full(n, float(factor))
    if factor <= 0.0:
        return rng.exponential(error / stats.garwood(0).high, n)
    shape = (factor / error) ** 2
    return rng.gamma(shape, factor / shape, n)


def garwood_coverage(mu: float, cl: float = stats.CL_1SIGMA) -> float:
    """Exact probability that the Garwood interval of a Poisson(mu) count contains mu.

    Sum of P(n | mu) over the counts n whose interval [low(n), high(n)] holds mu: the coverage
    of side-band x factor for an exactly known factor (>= cl by construction of Garwood).
    """
    n_max = int(mu + 12.0 * math.sqrt(mu + 1.0) + 12)
    total = 0.0
    for n in range(n_max + 1):
        g = stats.garwood(n, cl)
        if g.low <= mu <= g.high:
            total += stats.p_exactly(n, mu)
    return total


def draw_ensemble(model: ToyModel, n_toys: int, seed: int) -> dict[str, np.ndarray]:
    """The random part of every toy, in a fixed order: counts, then factors, then signal box."""
    if n_toys < 1:
        raise NutagError(f"the number of toys must be >= 1, got {n_toys}")
    rng = np.random.default_rng(seed)
    k = len(model.backgrounds)
    draws = {"n_norm": rng.poisson(model.n_norm, n_toys)}
    draws["n_sb"] = (rng.poisson([b.expected_sideband for b in model.backgrounds],
                                 (n_toys, k)) if k else np.zeros((n_toys, 0), int))
    draws["factor"] = np.column_stack(
        [draw_factors(rng, b.factor, b.factor_stat, n_toys) for b in model.backgrounds]
    ) if k else np.zeros((n_toys, 0))
    draws["n_sr"] = rng.poisson(model.signal_box_expected, n_toys)
    return draws


# --------------------------------------------------------------------------- analysing a toy
def analyse_toy(model: ToyModel, n_norm: int, n_sb: np.ndarray, factors: np.ndarray,
                n_sr: int, integrated: bool) -> dict[str, Any]:
    """One toy analysed as nutag analyses data: N_K, s, backgrounds, probabilities."""
    if n_norm <= 0:
        raise NutagError("a toy has no normalisation event: the model's normalisation count is "
                         "too small for N_K")
    s_hat = n_norm * model.kaons_per_norm_event * model.signal_per_kaon
    bkgs: dict[str, dict[str, Any]] = {}
    for b, n, f in zip(model.backgrounds, n_sb, factors):
        scale = f / b.factor if b.factor > 0 else 1.0  # quoted errors follow the drawn factor
        est = results.sideband_background(int(n), float(f), b.factor_stat * scale)
        est["syst"] = max(int(n), 1) * b.syst_per_event * scale
        bkgs[b.name] = est
    b_hat = sum(e["value"] for e in bkgs.values())
    out: dict[str, Any] = {
        "s_hat": s_hat, "b_hat": b_hat, "backgrounds": bkgs,
        "stat_up": stats.quadrature(*(e["stat_up"] for e in bkgs.values())),
        "stat_down": stats.quadrature(*(e["stat_down"] for e in bkgs.values())),
        "syst": sum(e["syst"] for e in bkgs.values()),
        "p_exactly_observed_sb": stats.p_exactly(n_sr, s_hat + b_hat),
        "p_exactly_observed_b": stats.p_exactly(n_sr, b_hat),
        "p_at_least_observed_sb": stats.p_at_least(n_sr, s_hat + b_hat),
        "p_at_least_observed_b": stats.p_at_least(n_sr, b_hat)}
    out.update(integrated_probabilities(n_sr, s_hat, bkgs) if integrated
               else dict.fromkeys(INTEGRATED_KEYS, math.nan))
    return out


def run_toys(model: ToyModel, n_toys: int = DEFAULT_TOYS, seed: int = DEFAULT_SEED,
             n_integrated: int = DEFAULT_INTEGRATED) -> dict[str, np.ndarray]:
    """Every toy's draws and estimates as columns (one entry per toy; NaN where not computed)."""
    d = draw_ensemble(model, n_toys, seed)
    rows = [analyse_toy(model, int(d["n_norm"][i]), d["n_sb"][i], d["factor"][i],
                        int(d["n_sr"][i]), i < n_integrated) for i in range(n_toys)]
    cols: dict[str, np.ndarray] = {"n_norm": d["n_norm"], "n_sr": d["n_sr"]}
    for j, b in enumerate(model.backgrounds):
        cols[f"n_sb.{b.name}"] = d["n_sb"][:, j]
        cols[f"factor.{b.name}"] = d["factor"][:, j]
        for key in ("value", "stat_up", "stat_down", "syst"):
            cols[f"{key}.{b.name}"] = np.array([r["backgrounds"][b.name][key] for r in rows])
    for key in ("s_hat", "b_hat", "stat_up", "stat_down", "syst", *PLAIN_KEYS, *INTEGRATED_KEYS):
        cols[key] = np.array([r[key] for r in rows], dtype=float)
    return cols


# --------------------------------------------------------------------------- the ensemble
def fraction(mask: np.ndarray) -> dict[str, float]:
    """Fraction of toys and its binomial error."""
    n = mask.size
    p = float(np.count_nonzero(mask)) / n
    return {"value": p, "error": math.sqrt(p * (1.0 - p) / n), "toys": n}


def rank(values: np.ndarray, x: float) -> dict[str, float]:
    """Where x sits: fractions of toys below and equal, and the mid-percentile below + equal/2."""
    v = values[np.isfinite(values)]
    eq = np.isclose(v, x, rtol=1e-9, atol=1e-15)
    below = float(np.count_nonzero((v < x) & ~eq)) / v.size
    equal = float(np.count_nonzero(eq)) / v.size
    return {"value": float(x), "below": below, "equal": equal, "percentile": below + equal / 2}


def coverage(b: np.ndarray, up: np.ndarray, down: np.ndarray, truth: float) -> dict[str, float]:
    """How often [b - down, b + up] contains the true background."""
    return fraction((b - down <= truth) & (truth <= b + up))


def quantiles(v: np.ndarray) -> dict[str, float | None]:
    """Mean, sd, median and the central 68 % of the computed (finite) entries."""
    v = v[np.isfinite(v)]
    if v.size == 0:
        return dict.fromkeys(("mean", "sd", "q16", "median", "q84", "fraction_zero"),
                             None) | {"toys": 0}
    q = np.quantile(v, [0.16, 0.5, 0.84])
    return {"mean": float(v.mean()), "sd": float(v.std()), "q16": float(q[0]),
            "median": float(q[1]), "q84": float(q[2]), "fraction_zero": float(np.mean(v == 0)),
            "toys": int(v.size)}


def _coverages(model: ToyModel, t: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Coverage of the stat (Garwood) and stat (+) syst intervals, per background and total."""
    def both(b: np.ndarray, up: np.ndarray, down: np.ndarray, syst: np.ndarray,
             truth: float) -> dict[str, dict[str, float]]:
        return {"stat": coverage(b, up, down, truth),
                "stat_syst": coverage(b, np.hypot(up, syst), np.hypot(down, syst), truth)}

    out: dict[str, Any] = {}
    for b in model.backgrounds:
        cols = [t[f"{k}.{b.name}"] for k in ("value", "stat_up", "stat_down", "syst")]
        out[b.name] = {"truth_mc": b.truth, "truth_method": b.method_truth,
                       "mc": both(*cols, b.truth), "method": both(*cols, b.method_truth),
                       "garwood_exact_fixed_factor": garwood_coverage(b.expected_sideband)}
    cols = [t[k] for k in ("b_hat", "stat_up", "stat_down", "syst")]
    method = sum(b.method_truth for b in model.backgrounds)
    out["total"] = {"truth_mc": model.truth, "truth_method": method,
                    "mc": both(*cols, model.truth), "method": both(*cols, method)}
    return out


def _outcome(model: ToyModel, t: Mapping[str, np.ndarray], n_sb: Mapping[str, int],
             n_sr: int | None) -> dict[str, Any]:
    """How often the toys give these side-band (and signal-box) counts, and where the
    resulting background estimate and P(n | b) sit (nutag's own factors)."""
    sb = np.ones(t["n_sr"].size, bool)
    model_p = 1.0
    for b in model.backgrounds:
        sb &= t[f"n_sb.{b.name}"] == n_sb[b.name]
        model_p *= stats.p_exactly(n_sb[b.name], b.expected_sideband)
    b_hat = sum(n_sb[b.name] * b.factor for b in model.backgrounds)
    out: dict[str, Any] = {"sideband_counts": dict(n_sb), "signal_box": n_sr,
                           "sidebands": {"toys": fraction(sb), "model": model_p},
                           "b_hat": rank(t["b_hat"], b_hat),
                           "sideband_each": {b.name: {"observed": n_sb[b.name], **rank(
                               t[f"n_sb.{b.name}"].astype(float), n_sb[b.name])}
                               for b in model.backgrounds}}
    if n_sr is not None:
        mu = model.signal_box_expected
        out["signal_box_count"] = {"toys": fraction(t["n_sr"] == n_sr),
                                   "model": stats.p_exactly(n_sr, mu),
                                   **rank(t["n_sr"].astype(float), n_sr)}
        out["all"] = {"toys": fraction(sb & (t["n_sr"] == n_sr)),
                      "model": model_p * stats.p_exactly(n_sr, mu)}
        p_b = stats.p_exactly(n_sr, b_hat)
        out["p_exactly_observed_b"] = rank(t["p_exactly_observed_b"], p_b)
    return out


def summarise(model: ToyModel, t: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The ensemble in numbers: background, coverage, probabilities, outcomes."""
    pub = published_numbers()
    inferred = (pub.get("inferred_est") or {}).get("backgrounds") or {}
    pub_sb = {b.name: int((inferred.get(b.name) or {}).get("sideband_count", 1))
              for b in model.backgrounds}
    n_int = int(np.count_nonzero(np.isfinite(t[INTEGRATED_KEYS[0]])))
    published = _outcome(model, t, pub_sb, int(pub["observed"]))
    published["paper_p_exactly_observed_b"] = rank(t["p_exactly_observed_b"],
                                                   float(pub["p_exactly_observed_b"]))
    return {
        "n_toys": int(t["n_sr"].size), "n_integrated": n_int,
        "model": {"signal": model.signal, "truth": model.truth,
                  "signal_box_expected": model.signal_box_expected,
                  "backgrounds": {b.name: {"label": b.label, "sideband_region": b.sideband_region,
                                           "expected_sideband": b.expected_sideband,
                                           "factor": b.factor, "factor_stat": b.factor_stat,
                                           "truth": b.truth, "method_truth": b.method_truth}
                                  for b in model.backgrounds}},
        "background": {"total": quantiles(t["b_hat"]),
                       **{b.name: quantiles(t[f"value.{b.name}"]) for b in model.backgrounds}},
        "coverage": _coverages(model, t),
        "probabilities": {k: quantiles(t[k]) for k in (*PLAIN_KEYS, *INTEGRATED_KEYS)},
        "signal_box_at_least_1": {"toys": fraction(t["n_sr"] >= 1),
                                  "model": -math.expm1(-model.signal_box_expected)},
        "published_outcome": published,
        "realisation": _outcome(model, t, {b.name: b.observed_sideband
                                           for b in model.backgrounds},
                                model.observed_signal),
    }


def toys_document(results_dir: Path, n_toys: int = DEFAULT_TOYS, seed: int = DEFAULT_SEED,
                  n_integrated: int = DEFAULT_INTEGRATED) -> dict[str, Any]:
    """Model, ensemble summary and the per-toy columns of a results directory."""
    stored = read_results(results_dir)
    model = build_model(stored)
    t = run_toys(model, n_toys, seed, min(n_integrated, n_toys))
    doc = {"results_dir": str(results_dir), "seed": seed, "blinded": is_blinded(stored),
           **summarise(model, t)}
    doc["toys"] = {k: [None if not math.isfinite(x) else float(f"{x:.6g}") for x in
                       v.astype(float).tolist()] for k, v in t.items()}
    return doc
