"""nutag validate: the published-versus-nutag page from a (hand-made) results directory."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nutag.outputs.report import published
from nutag.validate_cli import main
from nutag.studies.validation import calibration_choices, comparison_rows

SUMMARY = {
    "n_kaon_decays": 5.1e12, "normalisation": {"stat": 1e11},
    "n_sig": {"value": 0.25, "stat": 0.02, "syst": 0.01},
    "backgrounds": {
        "overlaid_kmu2": {"label": "overlaid Kmu2", "value": 0.02, "stat_up": 0.03,
                          "stat_down": 0.015, "syst": 0.003},
        "misreco": {"label": "misreco", "value": None, "stat_up": None, "stat_down": None,
                    "syst": None}},
    "background_total": {"value": 0.02, "stat_up": 0.03, "stat_down": 0.015, "syst": 0.003,
                         "complete": False},
    "s_over_b": 12.5, "blinded": True, "observed": None,
    "p_exactly_observed_sb": None, "p_exactly_observed_b": None,
    "warnings": ["background misreco: empty side-band"],
    "provenance": {"analysis": "test", "config_hash": "abc", "git_commit": "123",
                   "blinded": True}}
RESOLUTION = {"estimators": {"tag": {"sigma68": 0.004, "median": 0.0, "entries": 100}},
              "sigma_over_e_tag": 0.004, "sigma_over_e_calo": 0.07,
              "ratio_calo_over_tag": 17.5, "tag_below_1_percent": True}


def test_comparison_rows_blinded() -> None:
    rows = {r["quantity"]: r for r in comparison_rows(SUMMARY, published())}
    assert rows["expected signal N_sig"]["ratio"] == pytest.approx(0.25 / 0.208)
    assert rows["observed in signal region"]["nutag_text"] == "blinded"
    assert rows["P(1 event | b) with nutag's data-driven b"]["nutag"] == \
        pytest.approx(0.02 * 2.718281828 ** -0.02)


def test_comparison_rows_show_the_simulated_background_when_the_run_has_it() -> None:
    summary = {**SUMMARY,
               "backgrounds": {k: {**v, "extrapolation": {"samples": [s]}} for (k, v), s in
                               zip(SUMMARY["backgrounds"].items(), ("overlay", "misreco"))},
               "mc_truth_background": {"samples": {
                   "overlay": {"value": 0.018, "stat": 0.004, "raw": 16},
                   "misreco": {"value": 0.016, "stat": 0.002, "raw": 139}},
                   "total": 0.034, "total_stat": 0.0045}}
    rows = {r["quantity"]: r for r in comparison_rows(summary, published())}
    ov = rows["background: overlaid Kmu2, simulation (MC truth in the signal region)"]
    assert ov["nutag"] == pytest.approx(0.018) and ov["ratio"] == pytest.approx(0.018 / 0.030)
    assert "(16 MC events)" in ov["nutag_text"]
    assert rows["background total, simulation"]["nutag"] == pytest.approx(0.034)
    assert rows["S/B, simulation"]["nutag"] == pytest.approx(0.25 / 0.034)
    # the paper's probabilities use the expected (simulated) b, not the data-driven 0.02
    assert rows["P(1 event | b) with nutag's simulated b"]["nutag"] == \
        pytest.approx(0.034 * math.exp(-0.034))


def test_calibration_choices_read_from_the_repository() -> None:
    cal = calibration_choices()
    names = {p["name"] for p in cal["parameters"]}
    assert "nu_trigger_downscaling" in names
    assert cal["sources"] == ["simulation/default.yaml", "docs/simulation.md"]


def test_validate_writes_the_page(tmp_path: Path) -> None:
    run, closure = tmp_path / "run", tmp_path / "closure"
    run.mkdir()
    closure.mkdir()
    (run / "summary.json").write_text(json.dumps(SUMMARY))
    (closure / "resolution.json").write_text(json.dumps(RESOLUTION))
    (closure / "closure.json").write_text(json.dumps({
        "n_kaon_decays": 5e12, "statistics": "test", "backgrounds": {"overlaid_kmu2": {
            "label": "overlay", "verdict": "closes", "rows": [{
                "orientation": "SB+truth A, factor B", "sideband": 1.0, "sideband_err": 0.1,
                "sideband_raw": 100, "factor": 0.1, "factor_err": 0.01, "factor_raw": [10, 100],
                "predicted": 0.1, "predicted_err": 0.014, "true": 0.11, "true_err": 0.03,
                "true_raw": 12, "pull": -0.3, "pull_with_syst": -0.29}]}}}))
    page = tmp_path / "docs" / "validation.md"
    assert main(["validate", str(run), "--closure", str(closure), "--write", str(page)]) == 0
    text = page.read_text()
    assert "# Validation: nutag versus the publication" in text
    assert "| expected signal N_sig | 0.208 ± 0.013 ± 0.009 | 0.25" in text
    assert "Warning from the run" in text
    assert "0.40 %" in text and "**yes**" in text  # resolution
    assert "SB+truth A, factor B" in text  # closure table
    assert "| published | 3x" in text  # projection
    assert "nu_trigger_downscaling" in text  # calibration
    assert (run / "validation" / "projection.json").is_file()
    assert main(["validate", str(run), "--closure", str(tmp_path / "nothing")]) == 1


def test_validation_page_shows_the_runs_figures(tmp_path: Path) -> None:
    """The page uses the figures of the run itself (the same style as results/<name>/)."""
    from nutag.studies.validation import RUN_FIGURES

    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps(SUMMARY))
    for name in RUN_FIGURES:
        (run / name).write_bytes(b"\x89PNG figure")
    page = tmp_path / "docs" / "validation.md"
    assert main(["validate", str(run), "--write", str(page)]) == 0
    text = page.read_text()
    assert "## The run's figures" in text
    for name in RUN_FIGURES:
        assert (run / "validation" / name).read_bytes() == b"\x89PNG figure"
        assert f"/{name})" in text


def test_regression_page_header_names_the_figures_directory(tmp_path: Path) -> None:
    """The page's "Generated by" command omitted --figures, so rerunning it as written put the
    figures beside the results, not where the page links them."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps(SUMMARY))
    page = tmp_path / "docs" / "validation.md"
    figures = tmp_path / "docs" / "validation"
    assert main(["validate", str(run), "--figures", str(figures), "--write", str(page)]) == 0
    assert f" --figures {figures} --write docs/validation.md`" in page.read_text()
    assert main(["validate", str(run), "--write", str(page)]) == 0  # the default: not named
    assert "--figures" not in page.read_text().splitlines()[2]
