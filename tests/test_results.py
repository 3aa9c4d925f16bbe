"""nutag.results.physics arithmetic on constructed yields, against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from nutag.results import physics as results, stats

OPTIONS = {
    "normalisation": {"region": "kmu2_norm", "data_sample": "data", "mc_sample": "kmu2"},
    "signal": {"sample": "signal", "region": "signal", "systematics": {"a": 0.03, "b": 0.04}},
    "backgrounds": {
        "overlaid_kmu2": {"sideband_region": "sb_dlkr", "systematics": {"shape": 0.10},
                          "extrapolation": {"numerator_region": "signal_relaxed",
                                            "denominator_region": "sb_dlkr_relaxed",
                                            "samples": ["overlay"]}},
        "misreco": {"sideband_region": "sb_mmiss",
                    "extrapolation": {"numerator_region": "signal_relaxed",
                                      "denominator_region": "sb_mmiss_relaxed",
                                      "samples": ["misreco"]}},
    },
    "mc_truth_backgrounds": ["overlay", "misreco"],
}


def y(raw: int, sumw: float | None = None, sumw2: float | None = None) -> dict:
    return {"raw": raw, "sumw": float(raw if sumw is None else sumw),
            "sumw2": float(raw if sumw2 is None else sumw2)}


def make_doc(blinded: bool) -> dict:
    data_yields = {"kmu2_norm": y(100000), "sb_dlkr": y(1), "sb_mmiss": y(2)}
    if not blinded:
        data_yields["signal"] = y(1)
    return {"samples": {
        "data": {"kind": "data", "meta": {"n_kaon_decays": 5e12, "control_downscaling": 1e7},
                 "blinded_regions": ["signal"] if blinded else [], "yields": data_yields},
        "kmu2": {"kind": "mc", "meta": {"n_generated": 200000}, "blinded_regions": [],
                 "yields": {"kmu2_norm": y(40000, 20000.0, 4000.0)}},
        "signal": {"kind": "mc", "meta": {"n_generated": 100000}, "blinded_regions": [],
                   "yields": {"signal": y(50, 2e-9, 1e-20), "sb_dlkr": y(1, 1e-10, 1e-20),
                              "sb_mmiss": y(0, 0.0, 0.0)}},
        "overlay": {"kind": "mc", "meta": {"n_generated": 1000}, "blinded_regions": [],
                    "yields": {"signal_relaxed": y(9, 3.0, 1.0),
                               "sb_dlkr_relaxed": y(400, 100.0, 25.0),
                               "signal": y(2, 0.5, 0.125), "sb_dlkr": y(30, 10.0, 4.0),
                               "sb_mmiss": y(0, 0.0, 0.0)}},
        "misreco": {"kind": "mc", "meta": {"n_generated": 500}, "blinded_regions": [],
                    "yields": {"signal_relaxed": y(0, 0.0, 0.0),
                               "sb_mmiss_relaxed": y(100, 50.0, 25.0),
                               "signal": y(0, 0.0, 0.0), "sb_dlkr": y(0, 0.0, 0.0),
                               "sb_mmiss": y(3, 1.0, 0.4)}},
    }, "candidates": [{"p_K": 77.34}] if not blinded else []}


def test_normalisation():
    # acceptance = 20000 / 200000 = 0.1; N_K = 1e5 * 1e7 / 0.1 = 1e13
    # stat: sqrt(1/1e5 + 4000/20000^2) = sqrt(2e-5) relative
    r = results.compute(make_doc(True), OPTIONS, blinded=True)
    assert r["n_kaon_decays"] == pytest.approx(1e13)
    assert r["normalisation"]["stat"] == pytest.approx(1e13 * math.sqrt(2e-5))


def test_signal_expectation():
    # N_sig = 1e13 * 2e-9 / 1e5 = 0.2; MC stat 1e13 * 1e-10 / 1e5 = 0.01;
    # N_K part 0.2 * sqrt(2e-5) = 8.944e-4; syst 0.2 * sqrt(0.03^2 + 0.04^2) = 0.01
    r = results.compute(make_doc(True), OPTIONS, blinded=True)
    s = r["n_sig"]
    assert s["value"] == pytest.approx(0.2)
    assert s["stat_mc"] == pytest.approx(0.01)
    assert s["stat"] == pytest.approx(math.hypot(0.01, 0.2 * math.sqrt(2e-5)))
    assert s["syst"] == pytest.approx(0.01)


def test_overlay_extrapolation():
    # factor = (3/1000) / (100/1000) = 0.03; rel error sqrt((1/3)^2 + (5/100)^2)
    # background = 1 side-band event x 0.03; Garwood(1) = [0.1727, 3.2995]
    r = results.compute(make_doc(True), OPTIONS, blinded=True)
    b = r["backgrounds"]["overlaid_kmu2"]
    rel = math.sqrt((1 / 3) ** 2 + 0.05**2)
    assert b["factor"] == pytest.approx(0.03)
    assert b["factor_stat"] == pytest.approx(0.03 * rel)
    assert b["value"] == pytest.approx(0.03)
    g = stats.garwood(1)
    assert b["stat_up"] == pytest.approx((g.high - 1) * 0.03)
    assert b["stat_down"] == pytest.approx((1 - g.low) * 0.03)
    assert b["stat_up"] == pytest.approx(0.069, abs=5e-4)
    assert b["syst"] == pytest.approx(0.03 * math.hypot(rel, 0.10))


def test_empty_numerator_gives_zero_with_upper_error():
    # misreco: numerator empty -> factor 0 with error 1.841 * (mean weight 0.5/500) / (50/500)
    r = results.compute(make_doc(True), OPTIONS, blinded=True)
    b = r["backgrounds"]["misreco"]
    assert b["value"] == 0.0 and b["factor"] == 0.0
    den = 50.0 / 500
    expected = stats.garwood(0).high * den / 100 / den
    assert b["factor_stat"] == pytest.approx(expected)
    assert b["syst"] == pytest.approx(expected * 2)


def test_blinded_has_no_observation():
    r = results.compute(make_doc(True), OPTIONS, blinded=True)
    assert r["observed"] is None and r["candidates"] == []
    assert r["p_exactly_observed_sb"] is None
    assert r["s_over_b"] == pytest.approx(0.2 / 0.03)


def test_unblinded_probabilities():
    r = results.compute(make_doc(False), OPTIONS, blinded=False)
    assert r["observed"] == 1
    assert r["p_exactly_observed_sb"] == pytest.approx(0.23 * math.exp(-0.23))
    assert r["p_exactly_observed_b"] == pytest.approx(0.03 * math.exp(-0.03))
    assert r["p_at_least_observed_b"] == pytest.approx(1 - math.exp(-0.03))
    assert r["candidates"] == [{"p_K": 77.34}]


def test_mc_truth_and_sideband_checks():
    r = results.compute(make_doc(True), OPTIONS, blinded=True)
    mt = r["mc_truth_background"]
    # overlay: 1e13 * 0.5 / 1000 = 5e9 (made-up weights; the arithmetic is what is tested)
    assert mt["samples"]["overlay"]["value"] == pytest.approx(5e9)
    assert mt["samples"]["misreco"]["value"] == 0.0
    chk = r["sideband_checks"]["misreco"]
    assert chk["observed"] == 2
    # sb_mmiss expected: overlay 0 + misreco 1e13 * 1.0 / 500 + signal 0 = 2e10
    assert chk["expected_mc"] == pytest.approx(2e10)


def test_blind_region_is_refused():
    doc = make_doc(True)
    with pytest.raises(results.AnalysisError, match="blind"):
        results.region_yield(doc, "data", "signal")
    with pytest.raises(results.AnalysisError, match="not booked"):
        results.region_yield(doc, "kmu2", "nonexistent")


def test_errors_name_the_fix():
    doc = make_doc(True)
    doc["samples"]["kmu2"]["yields"]["kmu2_norm"] = y(0, 0.0, 0.0)
    with pytest.raises(results.AnalysisError, match="Kmu2 MC"):
        results.compute(doc, OPTIONS, blinded=True)


def test_candidate_rows():
    cols = {c: [1.0, 2.0] for c in results.CANDIDATE_COLUMNS.values()}
    rows = results.candidate_rows(cols)
    assert len(rows) == 2 and rows[1]["p_K"] == 2.0 and set(rows[0]) == set(results.CANDIDATE_COLUMNS)
    with pytest.raises(results.AnalysisError):
        results.candidate_rows({"p_k": [1.0]})


def test_unmeasurable_factor_is_reported_not_fatal():
    doc = make_doc(True)
    doc["samples"]["overlay"]["yields"]["sb_dlkr_relaxed"] = y(0, 0.0, 0.0)
    r = results.compute(doc, OPTIONS, blinded=True)
    assert r["backgrounds"]["overlaid_kmu2"]["value"] is None
    assert r["background_total"]["complete"] is False
    assert any("sb_dlkr_relaxed" in w for w in r["warnings"])
