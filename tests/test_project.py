"""nutag project: Poisson projections to 1x, 3x, 10x the data (pure numbers, no ROOT)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nutag.studies import project
from nutag.core.errors import NutagError
from nutag.outputs.report import published
from nutag.validate_cli import main


def test_asimov_significance_limits() -> None:
    assert project.asimov_significance(0.0, 1.0) == 0.0
    assert math.isinf(project.asimov_significance(1.0, 0.0))
    # s << b: Z -> s / sqrt(b)
    assert project.asimov_significance(0.1, 100.0) == pytest.approx(0.01, rel=1e-3)
    with pytest.raises(ValueError):
        project.asimov_significance(-1.0, 1.0)


def test_published_projection_reproduces_the_paper() -> None:
    p = project.projection_from_published(published())
    one, three, ten = p["rows"]
    assert one["n_sig"] == pytest.approx(0.208)
    assert one["n_bkg"] == pytest.approx(0.034)
    assert one["p_signal_at_least_1"] == pytest.approx(1 - math.exp(-0.208))
    assert three["n_sig"] == pytest.approx(3 * 0.208)
    assert ten["p_at_least_1_given_b"] == pytest.approx(1 - math.exp(-0.34))
    # more data, more significance; the side-band statistical error shrinks as 1/sqrt(k)
    assert one["expected_significance"] < three["expected_significance"] < \
        ten["expected_significance"]
    assert ten["n_bkg_err"] / ten["n_bkg"] < one["n_bkg_err"] / one["n_bkg"]


SUMMARY = {"n_kaon_decays": 5e12, "n_sig": {"value": 0.3, "stat": 0.02, "syst": 0.01},
           "background_total": {"value": 0.05, "stat_up": 0.04, "stat_down": 0.02,
                                "syst": 0.005, "complete": True}}


def test_projection_from_summary_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    p = project.projection_from_summary(SUMMARY)
    assert [r["factor"] for r in p["rows"]] == [1.0, 3.0, 10.0]
    assert p["rows"][2]["p_signal_at_least_1"] == pytest.approx(1 - math.exp(-3.0))
    assert main(["project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| nutag | 3x" in out and "| published | 10x" in out
    doc = json.loads((tmp_path / "projection.json").read_text())
    assert [x["source"] for x in doc["projections"]] == ["nutag", "published"]
    assert (tmp_path / "projection.md").read_text().startswith("# Projection")


def test_incomplete_summary_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps({"n_sig": {"value": None}}))
    assert main(["project", str(tmp_path)]) == 1
    assert main(["project", str(tmp_path / "missing")]) == 1


def test_projection_takes_the_expected_background_from_simulation() -> None:
    # a pseudo-data set whose side-bands came out empty: data-driven b = 0 (+ an upper error)
    summary = {**SUMMARY,
               "background_total": {"value": 0.0, "stat_up": 0.016, "stat_down": 0.0,
                                    "syst": 0.002, "complete": True},
               "mc_truth_background": {"total": 0.034, "total_stat": 0.005}}
    auto = project.projection_from_summary(summary)
    assert auto["background_source"] == "simulation" and auto["n_bkg"] == pytest.approx(0.034)
    one = auto["rows"][0]
    assert one["expected_significance"] == pytest.approx(project.asimov_significance(0.3, 0.034))
    assert one["n_bkg_err"] == pytest.approx(0.005)  # MC statistics: does not shrink with k
    assert auto["rows"][2]["n_bkg_err"] == pytest.approx(10 * 0.005)
    data = project.projection_from_summary(summary, background="data")
    assert data["background_source"] == "data" and data["n_bkg"] == 0.0
    assert math.isinf(data["rows"][0]["expected_significance"])
    assert "b is the MC-truth background" in project.projection_markdown([auto])
    with pytest.raises(NutagError):
        project.projection_from_summary(SUMMARY, background="simulation")  # no MC truth in it
