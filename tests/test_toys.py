"""nutag toys: pseudo-experiments from a results directory (no event loop, no simulation)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from nutag.results import physics as results, stats

from nutag.studies import toys
from nutag.cli import main

ONE_SIGMA = stats.CL_1SIGMA


def exact_garwood_coverage(mu: float) -> float:
    """Coverage of the central Garwood interval, written out independently of nutag."""
    a = 1.0 - ONE_SIGMA
    total = 0.0
    for n in range(200):
        low = 0.0 if n == 0 else st.chi2.ppf(a / 2, 2 * n) / 2
        high = st.chi2.ppf(1 - a / 2, 2 * n + 2) / 2
        if low <= mu <= high:
            total += st.poisson.pmf(n, mu)
    return total


def one_background(mu: float, factor: float, factor_stat: float = 0.0) -> toys.ToyModel:
    b = toys.BackgroundModel(name="bkg", label="bkg", sideband_region="sb",
                             expected_sideband=mu, factor=factor, factor_stat=factor_stat,
                             syst_per_event=factor_stat, truth=mu * factor,
                             observed_sideband=0)
    return toys.ToyModel(n_norm=1e5, kaons_per_norm_event=1e8, signal_per_kaon=2e-14,
                         signal=0.2, backgrounds=(b,), observed_signal=None)


@pytest.mark.parametrize("mu", [0.3, 1.7, 2.62, 6.0])
def test_garwood_coverage_is_the_exact_sum(mu: float) -> None:
    exact = exact_garwood_coverage(mu)
    assert toys.garwood_coverage(mu) == pytest.approx(exact, abs=1e-12)
    assert exact >= ONE_SIGMA  # Garwood never undercovers


def test_toy_coverage_matches_the_exact_coverage() -> None:
    """Known factor, known side-band mean: the toys' coverage of b = mu x f is the Poisson sum."""
    mu, f, n = 1.7, 0.02, 4000
    model = one_background(mu, f)
    t = toys.run_toys(model, n_toys=n, seed=11, n_integrated=0)
    cov = toys.summarise(model, t)["coverage"]["bkg"]
    exact = exact_garwood_coverage(mu)
    assert cov["garwood_exact_fixed_factor"] == pytest.approx(exact, abs=1e-12)
    toy = cov["method"]["stat"]
    sigma = math.sqrt(exact * (1 - exact) / n)
    assert abs(toy["value"] - exact) < 3.5 * sigma, (toy, exact)
    assert toy["value"] > ONE_SIGMA - 3.5 * sigma
    # the estimate is side-band count x factor, with Garwood edges x factor
    k = t["n_sb.bkg"]
    assert np.allclose(t["value.bkg"], k * f)
    assert np.allclose(t["stat_up.bkg"], [stats.garwood(int(x)).up * f for x in k])


def test_seed_reproduces_the_ensemble() -> None:
    model = one_background(2.0, 0.01, 0.002)
    a = toys.run_toys(model, n_toys=300, seed=5, n_integrated=2)
    b = toys.run_toys(model, n_toys=300, seed=5, n_integrated=2)
    c = toys.run_toys(model, n_toys=300, seed=6, n_integrated=2)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key], equal_nan=True), key
    assert not np.array_equal(a["factor.bkg"], c["factor.bkg"])
    assert np.isfinite(a["p_exactly_observed_b_integrated"][:2]).all()
    assert np.isnan(a["p_exactly_observed_b_integrated"][2:]).all()


def test_factor_draws_follow_the_mc_statistics() -> None:
    rng = np.random.default_rng(1)
    g = toys.draw_factors(rng, 0.05, 0.01, 200_000)
    assert g.min() >= 0.0
    assert g.mean() == pytest.approx(0.05, rel=0.01)
    assert g.std() == pytest.approx(0.01, rel=0.02)
    e = toys.draw_factors(rng, 0.0, 0.004, 200_000)  # empty MC numerator
    assert e.mean() == pytest.approx(0.004 / stats.garwood(0).high, rel=0.02)
    assert np.all(toys.draw_factors(rng, 0.03, 0.0, 10) == 0.03)


# --------------------------------------------------------------------------- end to end
OPTIONS = {
    "blinded": True,
    "normalisation": {"region": "kmu2_norm", "data_sample": "data", "mc_sample": "kmu2"},
    "signal": {"sample": "signal", "region": "signal", "systematics": {}},
    "backgrounds": {
        "overlaid_kmu2": {"label": "overlay", "sideband_region": "sb_dlkr",
                          "systematics": {"shape": 0.10},
                          "extrapolation": {"numerator_region": "signal_relaxed",
                                            "denominator_region": "sb_dlkr_relaxed",
                                            "samples": ["overlay"]}},
        "misreco": {"label": "misreco", "sideband_region": "sb_mmiss",
                    "extrapolation": {"numerator_region": "signal_relaxed",
                                      "denominator_region": "sb_mmiss_relaxed",
                                      "samples": ["misreco"]}},
    },
    "mc_truth_backgrounds": ["overlay", "misreco"],
}


def y(raw: int, sumw: float) -> dict:
    return {"raw": raw, "sumw": sumw, "sumw2": sumw * sumw / raw if raw else 0.0}


def stored_run(blinded: bool) -> dict:
    """N_K = 1e5 x 1e7 / 0.1 = 1e13; expectations N_K x sum_w / n_generated."""
    data = {"kmu2_norm": y(100000, 1e5), "sb_dlkr": y(1, 1.0), "sb_mmiss": y(0, 0.0)}
    if not blinded:
        data["signal"] = y(2, 2.0)
    mc = {"kind": "mc", "blinded_regions": []}
    return {"doc": {"samples": {
        "data": {"kind": "data", "meta": {"control_downscaling": 1e7},
                 "blinded_regions": ["signal"] if blinded else [], "yields": data},
        "kmu2": {**mc, "meta": {"n_generated": 200000},
                 "yields": {"kmu2_norm": y(40000, 20000.0)}},
        "signal": {**mc, "meta": {"n_generated": 100000},           # s = 0.2
                   "yields": {"signal": y(400, 2e-9), "sb_dlkr": y(2, 1e-11),
                              "sb_mmiss": y(0, 0.0)}},
        "overlay": {**mc, "meta": {"n_generated": 1000000},        # 2 in sb_dlkr, 0.02 in SR
                    "yields": {"signal": y(20, 2e-9), "sb_dlkr": y(200, 2e-7),
                               "sb_mmiss": y(0, 0.0), "signal_relaxed": y(10, 3e-9),
                               "sb_dlkr_relaxed": y(300, 3e-7)}},
        "misreco": {**mc, "meta": {"n_generated": 1000000},        # empty relaxed SR: f = 0
                    "yields": {"signal": y(10, 1e-9), "sb_dlkr": y(0, 0.0),
                               "sb_mmiss": y(50, 5e-8), "signal_relaxed": y(0, 0.0),
                               "sb_mmiss_relaxed": y(100, 1e-7)}},
    }, "candidates": []}, "options": {**OPTIONS, "blinded": blinded},
        "provenance": {"blinded": blinded}}


def test_model_uses_the_runs_own_expectations() -> None:
    stored = stored_run(blinded=True)
    summary = results.compute(stored["doc"], stored["options"], blinded=True)
    model = toys.build_model(stored)
    assert model.signal == pytest.approx(0.2)
    assert model.signal_box_expected == pytest.approx(0.2 + 0.02 + 0.01)
    over, mis = model.backgrounds
    assert over.expected_sideband == pytest.approx(
        summary["sideband_checks"]["overlaid_kmu2"]["expected_mc"])
    assert over.expected_sideband == pytest.approx(2.0 + 1e-3)  # overlay + signal leakage
    assert over.factor == pytest.approx(0.01) and over.truth == pytest.approx(0.02)
    assert mis.factor == 0.0 and mis.factor_stat > 0.0 and mis.truth == pytest.approx(0.01)
    assert (over.observed_sideband, mis.observed_sideband) == (1, 0)
    assert model.observed_signal is None


def test_blinded_run_never_reads_the_signal_box() -> None:
    stored = stored_run(blinded=True)
    stored["doc"]["samples"]["data"]["yields"]["signal"] = y(7, 7.0)  # must stay unread
    assert toys.build_model(stored).observed_signal is None
    assert toys.build_model(stored_run(blinded=False)).observed_signal == 2


def test_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(stored_run(blinded=False)))
    assert main(["toys", str(run), "--n", "300", "--seed", "3", "--integrated", "4"]) == 0
    printed = capsys.readouterr().out
    out = run / "toys"
    assert printed.rstrip().endswith(str(out))
    assert "| this run | signal-box count = 2 |" in printed
    for name in ("toys.json", "toys.md", "toys_background.png", "toys_p_b.png",
                 "toys_counts.png"):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*"))  # no temporary file left behind
    doc = json.loads((out / "toys.json").read_text())
    assert doc["n_toys"] == 300 and doc["n_integrated"] == 4 and doc["seed"] == 3
    assert len(doc["toys"]["b_hat"]) == 300
    assert doc["toys"]["p_exactly_observed_b_integrated"][4] is None
    assert doc["published_outcome"]["sideband_counts"] == {"overlaid_kmu2": 1, "misreco": 1}
    assert doc["realisation"]["sideband_counts"] == {"overlaid_kmu2": 1, "misreco": 0}
    assert doc["realisation"]["signal_box"] == 2
    at1 = doc["signal_box_at_least_1"]
    assert at1["model"] == pytest.approx(1 - math.exp(-0.23))
    assert abs(at1["toys"]["value"] - at1["model"]) < 4 * at1["toys"]["error"]
    # the same seed gives the same file; the blinded run reports no signal-box count
    blind = tmp_path / "blind"
    blind.mkdir()
    (blind / "results.json").write_text(json.dumps(stored_run(blinded=True)))
    assert main(["toys", str(blind), "--n", "300", "--seed", "3", "--integrated", "0",
                 "--no-plots", "--output", str(tmp_path / "b")]) == 0
    assert "blinded (not read)" in capsys.readouterr().out
    again = json.loads((tmp_path / "b" / "toys.json").read_text())
    assert again["realisation"]["signal_box"] is None
    assert again["toys"]["n_sb.overlaid_kmu2"] == doc["toys"]["n_sb.overlaid_kmu2"]


def test_missing_results_is_an_error(tmp_path: Path) -> None:
    assert main(["toys", str(tmp_path), "--n", "10"]) == 1


def test_validation_page_shows_the_ensemble(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`nutag validate` puts the ensemble of `nutag toys` on the page (docs/validation.md is
    generated, so a hand-written section would not survive)."""
    import test_validation as tv

    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(stored_run(blinded=True)))
    (run / "summary.json").write_text(json.dumps(tv.SUMMARY))
    assert main(["toys", str(run), "--n", "50", "--seed", "1", "--integrated", "0"]) == 0
    page = tmp_path / "docs" / "validation.md"
    assert main(["validate", str(run), "--write", str(page)]) == 0
    text = page.read_text()
    assert "## Pseudo-experiments" in text and "50 pseudo-experiments of" in text
    for name in ("toys_background.png", "toys_p_b.png", "toys_counts.png"):
        assert (run / "validation" / name).is_file() and name in text
