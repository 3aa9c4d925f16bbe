"""nutag.results.stats against known numbers: Garwood intervals and the paper's Poisson probabilities."""

from __future__ import annotations

import math

import pytest

from nutag.results import stats


def test_garwood_zero():
    g = stats.garwood(0)
    assert g.low == 0.0
    assert g.high == pytest.approx(1.841, abs=1e-3)  # -ln(0.1587) = 1.8410


def test_garwood_one():
    g = stats.garwood(1)
    assert g.low == pytest.approx(0.173, abs=1e-3)
    assert g.high == pytest.approx(3.300, abs=1e-3)
    assert g.up == pytest.approx(2.300, abs=1e-3)   # the spec's [0.173, 2.30] x 0.030 check
    assert g.down == pytest.approx(0.827, abs=1e-3)


def test_garwood_large_n_approaches_sqrt_n():
    g = stats.garwood(10000)
    assert g.up == pytest.approx(100.0, rel=0.02)
    assert g.down == pytest.approx(100.0, rel=0.02)


def test_garwood_rejects_bad_input():
    with pytest.raises(ValueError):
        stats.garwood(-1)
    with pytest.raises(ValueError):
        stats.garwood(1.5)
    with pytest.raises(ValueError):
        stats.garwood(1, cl=1.0)


def test_paper_probabilities():
    # P(1 | s+b = 0.242) = 0.242 e^-0.242 = 0.19; P(1 | b = 0.034) = 0.034 e^-0.034 = 0.03
    assert stats.p_exactly(1, 0.242) == pytest.approx(0.242 * math.exp(-0.242), rel=1e-12)
    assert round(stats.p_exactly(1, 0.242), 2) == 0.19
    assert round(stats.p_exactly(1, 0.034), 2) == 0.03


def test_p_at_least():
    assert stats.p_at_least(0, 0.3) == 1.0
    assert stats.p_at_least(1, 0.034) == pytest.approx(1 - math.exp(-0.034), rel=1e-12)
    assert stats.p_at_least(2, 1.0) == pytest.approx(1 - 2 * math.exp(-1.0), rel=1e-12)
    with pytest.raises(ValueError):
        stats.p_exactly(1, -0.1)


def test_weighted_and_ratio_errors():
    assert stats.weighted_error(4.0) == 2.0
    # r = 2/4 = 0.5; rel = sqrt((0.2/2)^2 + (0.4/4)^2) = sqrt(0.02) -> 0.5 * 0.141421
    assert stats.ratio_error(2.0, 0.2, 4.0, 0.4) == pytest.approx(0.5 * math.sqrt(0.02))
    assert stats.ratio_error(0.0, 0.3, 3.0, 0.1) == pytest.approx(0.1)
    # empty box of a sample with 10 events of total weight 5: 1.841 * 0.5
    assert stats.zero_count_weighted_error(5.0, 10) == pytest.approx(1.841 * 0.5, abs=1e-3)
    assert stats.quadrature(3.0, 4.0) == 5.0
