"""The observed count under nutag's model: probabilities with the background uncertainty
integrated over, the published observation's probabilities, and the side-band structure beside
the paper's inferred one.

Why apart from :mod:`nutag.results.physics`: these are statements about one observed count (or the
paper's), not the yields the event loop measured; they take the computed backgrounds and
signal and add the statistical conventions of docs/method.md section 9. No ROOT here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from . import stats


#: The plain-Poisson keys (the paper's convention: b at its central value).
OBSERVED_P_KEYS = ("p_exactly_observed_sb", "p_exactly_observed_b", "p_at_least_observed_sb",
                   "p_at_least_observed_b")
#: Suffix of the same probabilities with the background uncertainty integrated over.
INTEGRATED_SUFFIX = "_integrated"
#: Prior on each side-band mean in the integration (docs/method.md, section 9).
SIDEBAND_PRIOR = "flat"


def sideband_estimates(backgrounds: Mapping[str, Mapping[str, Any]]
                       ) -> dict[str, stats.SidebandEstimate]:
    """The measurable backgrounds as (side-band count, factor, factor uncertainty).

    The factor's absolute uncertainty is the background's quoted syst (extrapolation MC
    statistics (+) propagated variations (+) fixed fractions) per side-band event: that table
    is n_SB x the factor's, with an empty side-band counted as one event.
    """
    out = {}
    for name, b in backgrounds.items():
        if b.get("value") is None:
            continue
        n_sb = int(b["sideband_count"])
        out[name] = stats.SidebandEstimate(n_sb, float(b["factor"]),
                                           float(b["syst"]) / max(n_sb, 1))
    return out


def background_integrated(backgrounds: Mapping[str, Mapping[str, Any]],
                          prior: str = SIDEBAND_PRIOR) -> dict[str, Any]:
    """What the integrated probabilities assume, per background and in total.

    Each side-band mean has the posterior Gamma(n_SB + a, 1) (a = 1: flat prior), each factor
    the distribution of :func:`nutag.results.stats.factor_model`; ``mean`` is the resulting mean of b
    (with n_SB = 0 it is a x the factor, not 0).
    """
    a = stats.SIDEBAND_PRIORS[prior]
    per = {}
    for name, est in sideband_estimates(backgrounds).items():
        per[name] = {"sideband_count": est.n_sideband,
                     "sideband_posterior": f"Gamma({est.n_sideband} + {a:g}, 1)",
                     "factor": est.factor, "factor_err": est.factor_err,
                     "factor_model": stats.factor_model(est.factor, est.factor_err),
                     "mean": stats.posterior_mean_background([est], prior)}
    return {"prior": prior, "backgrounds": per,
            "mean": sum(v["mean"] for v in per.values()),
            "complete": len(per) == len(backgrounds)}


def integrated_probabilities(n_obs: int, s: float, backgrounds: Mapping[str, Any],
                             prior: str = SIDEBAND_PRIOR) -> dict[str, float]:
    """The four observed-count probabilities with b's uncertainty integrated over.

    Keys are the plain ones + ``_integrated``; with b's side-band and factor uncertainties in,
    an empty side-band no longer makes b exactly 0, so none of them is 0 or 1 unless the input
    is (n_obs = 0 gives P(>= 0) = 1).
    """
    est = list(sideband_estimates(backgrounds).values())
    sfx = INTEGRATED_SUFFIX
    return {f"p_exactly_observed_sb{sfx}": stats.p_exactly_integrated(n_obs, s, est, prior),
            f"p_exactly_observed_b{sfx}": stats.p_exactly_integrated(n_obs, 0.0, est, prior),
            f"p_at_least_observed_sb{sfx}": stats.p_at_least_integrated(n_obs, s, est, prior),
            f"p_at_least_observed_b{sfx}": stats.p_at_least_integrated(n_obs, 0.0, est, prior)}


def s_over_b_mc_expected(s: float, mc_truth: Mapping[str, Any]) -> float | None:
    """S/B with the MC-expected background in the signal region (None without MC truth).

    Why beside the data-driven S/B: with empty data side-bands the data-driven b is 0 and
    S/B undefined, while the simulation still says what b to expect.
    """
    b = mc_truth.get("total") if mc_truth.get("samples") else None
    return s / b if b else None


def published_numbers() -> dict[str, Any]:
    """published.json (PLB 863 (2025) 139345), shipped as package data."""
    return json.loads(resources.files("nutag.data").joinpath("published.json")
                      .read_text(encoding="utf-8"))


def expected_background(total: Mapping[str, Any], mc_truth: Mapping[str, Any],
                        backgrounds: Mapping[str, Any]) -> tuple[float, str]:
    """The background to compare with the paper's: MC truth, else data-driven, else posterior.

    Why this order: the published observation is one draw; what nutag's model predicts for it
    is the expectation, which the simulation gives directly. Without background MC the
    data-driven central value stands in, and if that is 0 (empty side-bands) the mean of the
    integrated background (n_SB + 1) x factor, so that the comparison never uses b = 0.
    """
    if mc_truth.get("samples") and mc_truth.get("total", 0.0) > 0.0:
        return float(mc_truth["total"]), "mc_truth"
    if total.get("value", 0.0) > 0.0:
        return float(total["value"]), "data_driven"
    return background_integrated(backgrounds)["mean"], "sideband_posterior_mean"


def published_observation(s: float, total: Mapping[str, Any], mc_truth: Mapping[str, Any],
                          backgrounds: Mapping[str, Any],
                          pub: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """P(exactly n_pub | s+b) and P(exactly n_pub | b) with nutag's s and b, n_pub the paper's.

    Uses no data in the signal box (n_pub is the published count), so it is filled while
    blinded too. Plain Poisson at the expected b (source in ``b_source``), and integrated over
    the data-driven side-band background, beside the paper's 19 % and 3 %.
    """
    pub = published_numbers() if pub is None else pub
    n = int(pub["observed"])
    b, source = expected_background(total, mc_truth, backgrounds)
    est = list(sideband_estimates(backgrounds).values())
    p_s, p_b = float(pub["n_sig"]["value"]), sum(float(v["value"])
                                                  for v in pub["backgrounds"].values())
    return {"n": n, "s": s, "b": b, "b_source": source,
            "p_exactly_sb": stats.p_exactly(n, s + b), "p_exactly_b": stats.p_exactly(n, b),
            "p_exactly_sb_integrated": stats.p_exactly_integrated(n, s, est, SIDEBAND_PRIOR),
            "p_exactly_b_integrated": stats.p_exactly_integrated(n, 0.0, est, SIDEBAND_PRIOR),
            "published": {"s": p_s, "b": p_b,
                          "p_exactly_sb": float(pub["p_exactly_observed_sb"]),
                          "p_exactly_b": float(pub["p_exactly_observed_b"]),
                          "p_exactly_sb_recomputed": stats.p_exactly(n, p_s + p_b),
                          "p_exactly_b_recomputed": stats.p_exactly(n, p_b),
                          "source": pub.get("source", "")}}


def sideband_comparison(backgrounds: Mapping[str, Any], checks: Mapping[str, Any],
                        pub: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Side-band counts and extrapolation factors, nutag's beside the paper's inferred ones.

    The paper publishes neither; ``paper_est`` is inferred (marked [est]) assuming one data
    side-band event per background, so that its factor is the published background and its
    Garwood errors can be set beside the published ones. ``expected_background_mc`` is
    nutag's factor applied to the MC-expected side-band count.
    """
    pub = published_numbers() if pub is None else pub
    inferred = (pub.get("inferred_est") or {}).get("backgrounds") or {}
    published_bkg = pub.get("backgrounds") or {}
    out: dict[str, Any] = {}
    for name, b in backgrounds.items():
        chk = checks.get(name) or {}
        exp_sb = chk.get("expected_mc")
        f = b.get("factor")
        row: dict[str, Any] = {
            "sideband_region": b.get("sideband_region"), "observed": b.get("sideband_count"),
            "expected_mc": exp_sb, "factor": f, "factor_stat": b.get("factor_stat"),
            "expected_background_mc": exp_sb * f if exp_sb is not None and f is not None
            else None, "paper_est": None}
        if name in inferred:
            row["paper_est"] = paper_inferred(inferred[name], published_bkg.get(name))
        # nutag's expected side-band count and factor over the paper's inferred ones [est]:
        # 1 is the published structure (one side-band event, factor = published background)
        est = row["paper_est"] or {}
        row["expected_mc_over_paper_est"] = (exp_sb / est["sideband_count"]
                                             if exp_sb is not None and est.get("sideband_count")
                                             else None)
        row["factor_over_paper_est"] = (f / est["factor"] if f is not None and est.get("factor")
                                        else None)
        out[name] = row
    return out


def paper_inferred(inferred: Mapping[str, Any], published_bkg: Mapping[str, Any] | None
                   ) -> dict[str, Any]:
    """[est] side-band count and factor of one published background, with Garwood errors.

    The Garwood 68.27 % interval of the inferred count times the inferred factor is what
    nutag's convention would quote for the paper's background; ``published_stat_*`` are the
    paper's own errors, for comparison.
    """
    n, f = int(inferred["sideband_count"]), float(inferred["factor"])
    g = stats.garwood(n)
    return {"sideband_count": n, "factor": f, "estimated": True,
            "garwood_stat_up": g.up * f, "garwood_stat_down": g.down * f,
            "published_stat_up": (published_bkg or {}).get("stat_up"),
            "published_stat_down": (published_bkg or {}).get("stat_down")}
