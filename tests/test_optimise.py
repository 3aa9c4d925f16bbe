"""Signal-box optimisation (nutag.studies.optimise): the figure of merit and the scan, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nutag.studies.optimise import asimov_significance, scan


def test_asimov_significance_by_hand() -> None:
    # s = b = 1: sqrt(2 (2 ln 2 - 1)) = sqrt(0.7725887) = 0.8789700
    assert asimov_significance(1.0, 1.0) == pytest.approx(0.8789700, rel=1e-6)
    # s = 0.2, b = 0.03 (the analysis' scale): sqrt(2 (0.23 ln(1 + 20/3) - 0.2)) = 0.7328
    assert asimov_significance(0.2, 0.03) == pytest.approx(
        math.sqrt(2 * (0.23 * math.log(1 + 0.2 / 0.03) - 0.2)), rel=1e-12)
    assert asimov_significance(0.2, 0.03) == pytest.approx(0.73278, abs=1e-4)


def test_asimov_tends_to_s_over_sqrt_b_for_small_signal() -> None:
    s, b = 1e-3, 100.0
    assert asimov_significance(s, b) == pytest.approx(s / math.sqrt(b), rel=1e-5)


def test_asimov_is_zero_without_background_or_signal() -> None:
    assert asimov_significance(0.5, 0.0) == 0.0
    assert asimov_significance(0.0, 0.5) == 0.0


def test_scan_prefers_the_box_around_the_signal_and_never_an_empty_background_box() -> None:
    # 4 x 4 bins of a (m2, d) plane: m2 edges -0.004..0.004, d edges 0..80 mm
    xe = np.array([-0.004, -0.002, 0.0, 0.002, 0.004])
    ye = np.array([0.0, 20.0, 40.0, 60.0, 80.0])
    sig = np.zeros((4, 4))
    sig[1:3, 0:2] = 0.05            # all signal in |m2| < 0.002, d < 40: 0.2 events
    bkg = np.full((4, 4), 0.01)     # flat background, 0.01 per bin
    sig[1, 3] = 1e-4                # a lone signal MC sliver far out, as MC fluctuations leave
    ranking = scan(sig, bkg, xe, ye, [0.002, 0.004], [20.0, 40.0, 60.0, 80.0])
    best = ranking[0]
    assert (best.m2_half_width, best.dlkr_max) == (0.002, 40.0)
    assert best.signal == pytest.approx(0.2) and best.background == pytest.approx(0.04)
    assert best.z_asimov == pytest.approx(asimov_significance(0.2, 0.04))
    # the scores are sorted, best first
    assert all(a.z_asimov >= b.z_asimov for a, b in zip(ranking, ranking[1:]))
    # a box with signal but no background MC scores 0, so it cannot win
    empty = scan(sig, np.zeros((4, 4)), xe, ye, [0.002], [40.0])[0]
    assert empty.z_asimov == 0.0 and empty.s_over_sqrt_b == math.inf
