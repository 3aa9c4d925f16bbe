"""Observed-count probabilities with the background uncertainty integrated over, checked
against hand calculations and independent numerical integrations (docs/method.md, section 9)."""

from __future__ import annotations

import math

import pytest
from scipy import integrate
from scipy import stats as st

from nutag.results import observation, physics as results, stats

from nutag.outputs import report

from test_results import OPTIONS, make_doc, y

SB = stats.SidebandEstimate


# --------------------------------------------------------------------------- nutag.results.stats
def test_no_uncertainty_at_all_is_the_plain_poisson():
    # n_SB large and a fixed factor: Gamma(n + 1) has relative width 1/sqrt(n + 1) -> 0, so b
    # -> (n_SB + 1) f. Exactly: a background with factor 0 and no error adds nothing.
    zero = SB(5, 0.0, 0.0)
    for n in range(4):
        assert stats.p_exactly_integrated(n, 0.242, [zero]) == pytest.approx(
            stats.p_exactly(n, 0.242), rel=1e-12)
        assert stats.p_at_least_integrated(n, 0.242, [zero]) == pytest.approx(
            stats.p_at_least(n, 0.242), rel=1e-12)
    big = SB(10**6, 0.034e-6, 0.0)
    assert stats.p_exactly_integrated(1, 0.208, [big]) == pytest.approx(
        stats.p_exactly(1, 0.242), rel=1e-3)


def test_fixed_factor_is_the_negative_binomial_by_hand():
    # n_SB = 0, flat prior: lambda ~ Exp(1), so P(N = m) = p^m (1 - p), p = f / (1 + f)
    f = 0.0089
    p = f / (1 + f)
    for m in range(4):
        assert stats.p_exactly_integrated(m, 0.0, [SB(0, f, 0.0)]) == pytest.approx(
            p**m * (1 - p), rel=1e-12)
    # n_SB = 1: Gamma(2, 1) -> P(N = 1) = 2 p (1 - p)^2
    assert stats.p_exactly_integrated(1, 0.0, [SB(1, 0.03, 0.0)]) == pytest.approx(
        2 * (0.03 / 1.03) * (1 / 1.03) ** 2, rel=1e-12)
    # Jeffreys: Gamma(1/2, 1) -> P(N = 0) = (1 - p)^(1/2)
    assert stats.p_exactly_integrated(0, 0.0, [SB(0, f, 0.0)], "jeffreys") == pytest.approx(
        math.sqrt(1 - p), rel=1e-12)


@pytest.mark.parametrize("n_on,n_sb,f", [(2, 0, 0.0089), (1, 1, 0.03), (3, 4, 0.2),
                                         (2, 0, 0.0715)])
def test_flat_prior_p_value_is_the_binomial_on_off_test(n_on, n_sb, f):
    # Known factor: P(N >= n_on | b) equals the conditional binomial test of n_on among
    # n_on + n_SB events with probability f / (1 + f) of being "on" (Z_Bi of Cousins,
    # Linnemann, Tucker 2008), i.e. the regularised incomplete beta I_p(n_on, n_SB + 1).
    p = f / (1 + f)
    assert stats.p_at_least_integrated(n_on, 0.0, [SB(n_sb, f, 0.0)]) == pytest.approx(
        st.binom.sf(n_on - 1, n_on + n_sb, p), rel=1e-10)


def test_empty_sideband_never_collapses_to_zero():
    # the default data set: both data side-bands empty, observed 2
    bkgs = [SB(0, 0.0089, 0.0016), SB(0, 0.0715, 0.0164)]
    for n in (1, 2, 5):
        for s in (0.0, 0.212):
            pe = stats.p_exactly_integrated(n, s, bkgs)
            pa = stats.p_at_least_integrated(n, s, bkgs)
            assert 0.0 < pe < 1.0 and 0.0 < pa < 1.0 and pe <= pa
    # central b = 0 gives exactly 0 in the plain convention, hence the integrated one
    assert stats.p_exactly(2, 0.0) == 0.0


def test_lognormal_factor_against_independent_double_integral():
    # P(1 | s + lambda f), lambda ~ Gamma(2, 1), f log-normal with mean 0.03, rel sd 0.5
    est, s = SB(1, 0.03, 0.015), 0.2
    s2 = math.log1p(0.5**2)
    lognorm = st.lognorm(math.sqrt(s2), scale=math.exp(math.log(0.03) - s2 / 2))

    def integrand(f: float, lam: float) -> float:
        return st.poisson.pmf(1, s + lam * f) * st.gamma.pdf(lam, 2) * lognorm.pdf(f)

    ref, err = integrate.dblquad(integrand, 0.0, 40.0, 0.0, 0.5, epsabs=1e-9, epsrel=1e-8)
    assert stats.p_exactly_integrated(1, s, [est]) == pytest.approx(ref, rel=1e-6)


def test_empty_mc_numerator_factor_against_independent_double_integral():
    # factor 0 with a Garwood(0) upper error e: f ~ Exp(mean e / 1.841), its 84.13 % quantile
    # is e. With n_SB = 0 (lambda ~ Exp(1)): P(2) by a double integral.
    e = 0.01
    theta = e / stats.garwood(0).high
    assert -math.log(1 - stats.CL_1SIGMA / 2 - 0.5) * theta == pytest.approx(e, rel=1e-12)

    def integrand(f: float, lam: float) -> float:
        return st.poisson.pmf(2, lam * f) * math.exp(-lam) * math.exp(-f / theta) / theta

    ref, err = integrate.dblquad(integrand, 0.0, 60.0, 0.0, 1.0, epsabs=1e-14)
    assert stats.p_exactly_integrated(2, 0.0, [SB(0, 0.0, e)]) == pytest.approx(ref, rel=1e-6)


def test_two_backgrounds_convolve():
    # with fixed factors and n_SB = 0 each count is geometric; P(N = 1) of the sum by hand
    p1, p2 = 0.01 / 1.01, 0.07 / 1.07
    q0 = (1 - p1) * (1 - p2)
    expected = q0 * (p1 + p2)
    assert stats.p_exactly_integrated(1, 0.0, [SB(0, 0.01, 0.0), SB(0, 0.07, 0.0)]) == (
        pytest.approx(expected, rel=1e-12))
    # with a signal: P(1) = e^-s (P_b(1) + s P_b(0))
    s = 0.2
    assert stats.p_exactly_integrated(1, s, [SB(0, 0.01, 0.0), SB(0, 0.07, 0.0)]) == (
        pytest.approx(math.exp(-s) * (expected + s * q0), rel=1e-12))


def test_far_tail_is_not_rounded_to_zero():
    # 1 - P(N < 30) would round to 0; the tail is summed instead
    p = stats.p_at_least_integrated(30, 0.01, [])
    assert p == pytest.approx(st.poisson.sf(29, 0.01), rel=1e-9) and p > 0.0
    # geometric tail: P(N >= n) = p^n for n_SB = 0 and a fixed factor
    q = 0.0089 / 1.0089
    assert stats.p_at_least_integrated(12, 0.0, [SB(0, 0.0089, 0.0)]) == pytest.approx(
        q**12, rel=1e-9)


def test_posterior_mean_and_models():
    assert stats.posterior_mean_background([SB(0, 0.0089, 0.002), SB(2, 0.0715, 0.02)]) == (
        pytest.approx(0.0089 + 3 * 0.0715, rel=1e-9))
    assert stats.posterior_mean_background([SB(0, 0.0089, 0.0)], "jeffreys") == (
        pytest.approx(0.0089 / 2))
    assert stats.factor_model(0.03, 0.01) == "log-normal"
    assert stats.factor_model(0.0, 0.01) == "exponential"
    assert stats.factor_model(0.03, 0.0) == "fixed"
    with pytest.raises(ValueError):
        SB(-1, 0.03, 0.0)
    with pytest.raises(ValueError):
        stats.p_exactly_integrated(1, 0.1, [SB(0, 0.03, 0.0)], "uniformish")


# --------------------------------------------------------------------------- nutag.results.physics
def _empty_sidebands(blinded: bool) -> dict:
    doc = make_doc(blinded)
    doc["samples"]["data"]["yields"]["sb_dlkr"] = y(0)
    doc["samples"]["data"]["yields"]["sb_mmiss"] = y(0)
    if not blinded:
        doc["samples"]["data"]["yields"]["signal"] = y(2)
    return doc


def _probabilities(obj, path=""):
    """Every (path, value) of a key that names a probability."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _probabilities(v, f"{path}.{k}")
    elif isinstance(obj, float) and ".p_" in path and "recomputed" not in path:
        yield path, obj


def test_old_keys_unchanged_new_keys_added():
    r = results.compute(make_doc(False), OPTIONS, blinded=False)
    # plain Poisson at the central b: the existing convention, unchanged
    assert r["p_exactly_observed_b"] == pytest.approx(0.03 * math.exp(-0.03))
    # integrated: overlay n_SB = 1, f = 0.03 with rel sd sqrt((1/3)^2 + 0.05^2 + 0.1^2);
    # misreco n_SB = 2, f = 0 with error e -> exponential
    b = r["backgrounds"]
    est = [SB(1, 0.03, b["overlaid_kmu2"]["syst"]), SB(2, 0.0, b["misreco"]["syst"] / 2)]
    assert r["p_exactly_observed_b_integrated"] == pytest.approx(
        stats.p_exactly_integrated(1, 0.0, est), rel=1e-12)
    assert r["p_at_least_observed_sb_integrated"] == pytest.approx(
        stats.p_at_least_integrated(1, 0.2, est), rel=1e-12)
    integ = r["background_integrated"]
    assert integ["prior"] == "flat" and integ["complete"] is True
    assert integ["backgrounds"]["overlaid_kmu2"]["mean"] == pytest.approx(2 * 0.03)
    assert integ["backgrounds"]["misreco"]["factor_model"] == "exponential"


def test_empty_sidebands_give_no_zero_probability():
    r = results.compute(_empty_sidebands(False), OPTIONS, blinded=False)
    assert r["background_total"]["value"] == 0.0 and r["s_over_b"] is None
    assert r["p_exactly_observed_b"] == 0.0          # the plain convention, kept as it was
    for key in ("p_exactly_observed_sb", "p_exactly_observed_b", "p_at_least_observed_sb",
                "p_at_least_observed_b"):
        v = r[key + "_integrated"]
        assert 0.0 < v < 1.0, key
    # hand check of P(2 | b): overlay n_SB = 0 with a log-normal factor (mean 0.03), misreco
    # factor 0 +e: by a Monte Carlo of the model
    import numpy as np
    rng = np.random.default_rng(1)
    n = 400_000
    e_ov = r["backgrounds"]["overlaid_kmu2"]["syst"]
    e_mr = r["backgrounds"]["misreco"]["syst"]
    s2 = math.log1p((e_ov / 0.03) ** 2)
    f_ov = np.exp(math.log(0.03) - s2 / 2 + math.sqrt(s2) * rng.standard_normal(n))
    f_mr = rng.exponential(e_mr / stats.garwood(0).high, n)
    mu = rng.exponential(1.0, n) * f_ov + rng.exponential(1.0, n) * f_mr
    mc = float(np.mean(mu**2 * np.exp(-mu) / 2))
    assert r["p_exactly_observed_b_integrated"] == pytest.approx(mc, rel=0.02)


def test_every_probability_is_strictly_between_0_and_1_for_realistic_input():
    doc = _empty_sidebands(False)
    # make the MC truth realistic (the made-up weights of make_doc give b = 5e9)
    doc["samples"]["overlay"]["yields"]["signal"] = y(2, 2e-12, 2e-24)
    r = results.compute(doc, OPTIONS, blinded=False)
    found = dict(_probabilities(r))
    assert len(found) >= 10, found
    for path, v in found.items():
        if path in (".p_exactly_observed_b", ".p_at_least_observed_b"):
            continue  # plain Poisson at central b = 0: degenerate by construction
        assert 0.0 < v < 1.0, path


def test_s_over_b_mc_expected():
    doc = make_doc(True)
    doc["samples"]["overlay"]["yields"]["signal"] = y(2, 2e-12, 2e-24)
    r = results.compute(doc, OPTIONS, blinded=True)
    # MC truth: 1e13 * 2e-12 / 1000 = 0.02; s = 0.2 -> 10
    assert r["mc_truth_background"]["total"] == pytest.approx(0.02)
    assert r["s_over_b_mc_expected"] == pytest.approx(10.0)
    assert observation.s_over_b_mc_expected(0.2, {"samples": {}, "total": 0.0}) is None


def test_published_observation_available_while_blinded():
    doc = make_doc(True)
    doc["samples"]["overlay"]["yields"]["signal"] = y(2, 2e-12, 2e-24)
    r = results.compute(doc, OPTIONS, blinded=True)
    po = r["published_observation"]
    assert po["n"] == 1 and po["b_source"] == "mc_truth"
    assert po["s"] == pytest.approx(0.2) and po["b"] == pytest.approx(0.02)
    assert po["p_exactly_sb"] == pytest.approx(0.22 * math.exp(-0.22))
    assert po["p_exactly_b"] == pytest.approx(0.02 * math.exp(-0.02))
    assert 0.0 < po["p_exactly_b_integrated"] < 1.0
    pub = po["published"]
    assert (pub["p_exactly_sb"], pub["p_exactly_b"]) == (0.19, 0.03)
    assert round(pub["p_exactly_sb_recomputed"], 2) == 0.19
    assert round(pub["p_exactly_b_recomputed"], 2) == 0.03


def test_published_observation_falls_back_to_data_driven_b():
    total = {"value": 0.03}
    bkgs = {"x": {"value": 0.03, "sideband_count": 1, "factor": 0.03, "syst": 0.0}}
    pub = report.published()
    po = observation.published_observation(0.2, total, {"samples": {}}, bkgs, pub)
    assert po["b_source"] == "data_driven" and po["b"] == 0.03
    empty = {"x": {"value": 0.0, "sideband_count": 0, "factor": 0.03, "syst": 0.0}}
    po = observation.published_observation(0.2, {"value": 0.0}, {"samples": {}}, empty, pub)
    assert po["b_source"] == "sideband_posterior_mean" and po["b"] == pytest.approx(0.03)
    assert po["p_exactly_b"] == pytest.approx(0.03 * math.exp(-0.03))


def test_sideband_comparison_with_paper_estimates():
    r = results.compute(make_doc(True), OPTIONS, blinded=True)
    ov = r["sideband_comparison"]["overlaid_kmu2"]
    # expected sb_dlkr from MC: overlay 1e13 * 10 / 1000 + signal 1e13 * 1e-10 / 1e5 = 1e11 + 10
    assert ov["expected_mc"] == pytest.approx(1e11 + 10)
    assert ov["expected_background_mc"] == pytest.approx((1e11 + 10) * 0.03)
    est = ov["paper_est"]
    assert est["estimated"] is True and est["sideband_count"] == 1 and est["factor"] == 0.030
    # Garwood(1) = [0.1727, 3.2995] x 0.030 -> -0.0248 / +0.0690 (published -0.023 / +0.041)
    assert est["garwood_stat_down"] == pytest.approx(0.0248, abs=1e-4)
    assert est["garwood_stat_up"] == pytest.approx(0.0690, abs=1e-4)
    assert (est["published_stat_up"], est["published_stat_down"]) == (0.041, 0.023)
    assert r["sideband_comparison"]["misreco"]["paper_est"]["factor"] == 0.004
    # nutag over the paper's inferred structure [est]: expected count / 1, factor / 0.030
    assert ov["expected_mc_over_paper_est"] == pytest.approx(1e11 + 10)
    assert ov["factor_over_paper_est"] == pytest.approx(ov["factor"] / 0.030)
    md = report.summary_markdown(r, report.published())
    assert "| nutag / paper [est]: count, factor |" in md


# --------------------------------------------------------------------------- summary.md
def test_summary_markdown_shows_both_conventions():
    doc = _empty_sidebands(False)
    doc["samples"]["overlay"]["yields"]["signal"] = y(2, 2e-12, 2e-24)
    r = results.compute(doc, OPTIONS, blinded=False)
    md = report.summary_markdown(r, report.published())
    assert "| S/B | — (data-driven b = 0) | about 6 |" in md
    assert "| S/B, MC-expected b (simulation, not data-driven) | 10 | about 6 |" in md
    assert "| P(exactly 2 given b) | 0 | 0.03 |" in md           # old line kept
    assert "| P(≥ 2 given b), b integrated" in md
    assert "## The published observation (1 event) under nutag's model" in md
    assert "[est]" in md and "+0.069 −0.025 [est]" in md and "+0.041 −0.023" in md


def test_summary_markdown_blinded_has_published_observation():
    doc = make_doc(True)
    doc["samples"]["overlay"]["yields"]["signal"] = y(2, 2e-12, 2e-24)
    r = results.compute(doc, OPTIONS, blinded=True)
    md = report.summary_markdown(r, report.published())
    assert "| P(exactly n_obs given s+b) | blinded | 0.19 |" in md
    assert "b integrated over its side-band" not in md      # needs the observed count
    line = next(x for x in md.splitlines() if x.startswith("| P(exactly 1 given s+b) |"))
    assert "0.19" in line
    assert f"| {stats.p_exactly(1, 0.22):.3g} |" in line
