"""nutag closure: the side-band method's arithmetic, and a small end-to-end run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nutag.studies.closure import ALL, closure_markdown, closure_numbers

REPO = Path(__file__).resolve().parents[1]
OPTIONS = {"signal": {"sample": "signal", "region": "signal"},
           "backgrounds": {"overlaid_kmu2": {
               "label": "overlay", "sideband_region": "sb",
               "extrapolation": {"numerator_region": "sr_rel", "denominator_region": "sb_rel",
                                 "samples": ["overlay"]},
               "systematics": {"shape": 0.1}}}}


def _y(raw: int, w: float) -> dict:
    return {"raw": raw, "sumw": raw * w, "sumw2": raw * w * w}


def _doc(a: dict, b: dict) -> dict:
    return {"samples": {f"overlay_{h}": {"kind": "mc", "meta": {"n_generated": 1000},
                                         "yields": {ALL: _y(1000, 1.0), **y}}
                        for h, y in (("a", a), ("b", b))}}


def test_perfect_closure_has_zero_pull() -> None:
    # SR/SB = 0.1 in both halves, relaxed and full selection alike
    half = {"sb": _y(100, 1.0), "signal": _y(10, 1.0), "sr_rel": _y(20, 1.0),
            "sb_rel": _y(200, 1.0)}
    res = closure_numbers(_doc(half, half), OPTIONS, n_k=1000.0)
    rows = res["backgrounds"]["overlaid_kmu2"]["rows"]
    assert len(rows) == 2
    for r in rows:
        assert r["predicted"] == pytest.approx(10.0)
        assert r["true"] == pytest.approx(10.0)
        assert r["pull"] == pytest.approx(0.0)
        # sigma_pred = 10 * sqrt(1/100 + 1/20 + 1/200), sigma_true = sqrt(10)
        assert r["predicted_err"] == pytest.approx(10 * math.sqrt(0.01 + 0.05 + 0.005))
    assert res["backgrounds"]["overlaid_kmu2"]["verdict"].startswith("closes")
    assert "overlay" in closure_markdown(res)


def test_non_closure_is_flagged() -> None:
    a = {"sb": _y(100, 1.0), "signal": _y(100, 1.0), "sr_rel": _y(20, 1.0), "sb_rel": _y(200, 1.0)}
    res = closure_numbers(_doc(a, a), OPTIONS, n_k=1000.0)
    b = res["backgrounds"]["overlaid_kmu2"]
    assert all(r["pull"] < -2 for r in b["rows"])
    assert b["verdict"].startswith("does not close")


def test_empty_boxes_are_not_informative() -> None:
    empty = {"sb": _y(0, 1.0), "signal": _y(0, 1.0), "sr_rel": _y(0, 1.0), "sb_rel": _y(5, 1.0)}
    res = closure_numbers(_doc(empty, empty), OPTIONS, n_k=1000.0)
    b = res["backgrounds"]["overlaid_kmu2"]
    assert all(r["true_err"] > 0 and not r["informative"] for r in b["rows"])
    assert b["verdict"].startswith("untested")


@pytest.fixture(scope="module")
def closure_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`nutag closure` on 4000 events per half and stream (a subprocess, like a user)."""
    out = tmp_path_factory.mktemp("closure")
    env = dict(os.environ, PYTHONPATH=str(REPO / "analysis"))
    cmd = [sys.executable, "-m", "nutag.validate_cli", "closure", "--events", "4000",
           "--scale", "1", "--threads", "2", "--output", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    return out


def test_closure_cli_writes_every_output(closure_run: Path) -> None:
    for stem in ("closure", "resolution", "candidate"):
        for ext in ("json", "png", "pdf"):
            assert (closure_run / f"{stem}.{ext}").stat().st_size > 0, (stem, ext)
    res = json.loads((closure_run / "closure.json").read_text())
    assert set(res["backgrounds"]) == {"overlaid_kmu2", "misreco"}
    assert set(res["n_runs"].values()) == {1}  # one event loop
    assert len(res["backgrounds"]["misreco"]["rows"]) == 2


def test_tagging_resolution_below_one_percent(closure_run: Path) -> None:
    res = json.loads((closure_run / "resolution.json").read_text())
    assert res["estimators"]["tag"]["entries"] > 0
    assert res["sigma_over_e_tag"] < 0.01
    assert res["sigma_over_e_calo"] > res["sigma_over_e_tag"]


def test_candidate_percentiles(closure_run: Path) -> None:
    cand = json.loads((closure_run / "candidate.json").read_text())
    assert len(cand["properties"]) == 13
    p = cand["properties"]["d_LKr"]["signal"]["percentile"]
    assert 0.0 <= p <= 1.0
