"""The side-band edge scan (nutag.studies.sideband_edges) on hand-made histograms: a background flat in
area around the neutrino line must give the area ratio as its d_LKr factor, and the scan must
pick the edge whose factor is nearest the paper's inferred one."""

from __future__ import annotations

import numpy as np
import pytest

from nutag.studies.sideband_edges import TARGETS, scan_edges

BOXES = {"box_m2_sr": 0.0022, "box_m2_sb_lo": 0.006, "box_m2_sb_hi": 0.03, "box_dlkr_sr": 50.0,
         "box_dlkr_sb_lo": 100.0, "box_dlkr_sb_hi": 300.0}


def _edges() -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(-0.04, 0.04, 401), np.linspace(0.0, 600.0, 301)


def test_flat_in_area_gives_the_area_ratio() -> None:
    xe, ye = _edges()
    yc = 0.5 * (ye[:-1] + ye[1:])
    # density flat in area: counts per d_LKr bin proportional to d (2 pi d dd)
    overlay = np.outer(np.ones(len(xe) - 1), yc)
    misreco = np.ones((len(xe) - 1, len(ye) - 1))
    res = scan_edges(overlay, misreco, xe, ye, BOXES, [300.0, 600.0], [50.0])
    rows = {r["edge"]: r for r in res["overlaid_kmu2"]["scan"]}
    for e in (300.0, 600.0):
        assert rows[e]["factor"] == pytest.approx(rows[e]["area_ratio"], rel=1e-9)
    assert rows[300.0]["area_ratio"] == pytest.approx(2500.0 / 80000.0)
    assert res["overlaid_kmu2"]["best_edge"] == 300.0  # 0.031 is nearer 0.030 than 0.0071


def test_misreco_edge_nearest_the_target() -> None:
    xe, ye = _edges()
    misreco = np.ones((len(xe) - 1, len(ye) - 1))
    # uniform density: box has 22 x 25 bins, side-band 2 x 120 x (edge / 2) bins
    res = scan_edges(np.ones_like(misreco), misreco, xe, ye, BOXES, [300.0],
                     [50.0, 100.0, 200.0, 300.0])
    rows = {r["edge"]: r["factor"] for r in res["misreco"]["scan"]}
    assert rows[50.0] == pytest.approx((22 * 25) / (240 * 25))
    assert rows[300.0] == pytest.approx((22 * 25) / (240 * 150))
    best = res["misreco"]["best_edge"]
    assert best == min(rows, key=lambda e: abs(np.log(rows[e] / TARGETS["misreco"])))
