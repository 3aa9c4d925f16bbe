"""Small-count statistics for a rare-event search.

Why a module of its own: the published numbers (asymmetric background errors, P(exactly 1 |
s+b) = 19 %) are Poisson statements about O(1) counts, where Gaussian sqrt(n) errors are wrong.
Everything here is a pure function of numbers (no ROOT), so it is unit-tested against the
paper's own arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as _st

#: Central confidence level of the "1 sigma" intervals (two-sided 68.27 %).
CL_1SIGMA = 0.6826894921370859


@dataclass(frozen=True)
class Interval:
    """A confidence interval [low, high] around a central value."""

    value: float
    low: float
    high: float

    @property
    def up(self) -> float:
        """Distance from the value to the upper edge (the "+" error)."""
        return self.high - self.value

    @property
    def down(self) -> float:
        """Distance from the value to the lower edge (the "-" error)."""
        return self.value - self.low


def garwood(n: int, cl: float = CL_1SIGMA) -> Interval:
    """Garwood (exact, central) Poisson interval for an observed count n.

    Lower edge chi2.ppf(a/2, 2n)/2 (0 for n = 0), upper edge chi2.ppf(1 - a/2, 2n + 2)/2 with
    a = 1 - cl. Why Garwood: it never undercovers, and the paper's asymmetric background error
    on one side-band event is reproduced by it (spec section 1).
    """
    if n < 0 or int(n) != n:
        raise ValueError(f"garwood: the count must be a non-negative integer, got {n!r}")
    if not 0.0 < cl < 1.0:
        raise ValueError(f"garwood: the confidence level must be in (0, 1), got {cl!r}")
    n = int(n)
    alpha = 1.0 - cl
    low = 0.0 if n == 0 else float(_st.chi2.ppf(alpha / 2.0, 2 * n)) / 2.0
    high = float(_st.chi2.ppf(1.0 - alpha / 2.0, 2 * n + 2)) / 2.0
    return Interval(float(n), low, high)


def p_exactly(n: int, mu: float) -> float:
    """P(N = n | Poisson mean mu), e.g. P(1 | 0.242) = 0.19 in the paper."""
    _check_count_mean(n, mu)
    return float(_st.poisson.pmf(int(n), mu))


def p_at_least(n: int, mu: float) -> float:
    """P(N >= n | mu): the p-value of observing n or more events (1 for n = 0)."""
    _check_count_mean(n, mu)
    if n <= 0:
        return 1.0
    return float(_st.poisson.sf(int(n) - 1, mu))


def _check_count_mean(n: int, mu: float) -> None:
    if n < 0 or int(n) != n:
        raise ValueError(f"the observed count must be a non-negative integer, got {n!r}")
    if not mu >= 0.0 or math.isinf(mu):
        raise ValueError(f"the Poisson mean must be finite and >= 0, got {mu!r}")


def weighted_error(sumw2: float) -> float:
    """Statistical error of a sum of weights: sqrt(sum w^2)."""
    if sumw2 < 0.0:
        raise ValueError(f"sum of squared weights must be >= 0, got {sumw2!r}")
    return math.sqrt(sumw2)


def ratio_error(num: float, num_err: float, den: float, den_err: float) -> float:
    """Error of num/den for independent num and den (first-order propagation).

    Used for extrapolation factors whose numerator (signal-region box) and denominator
    (side-band box) are disjoint sets of events, hence independent.
    """
    if den <= 0.0:
        raise ValueError(f"ratio_error: the denominator must be > 0, got {den!r}")
    r = num / den
    rel2 = (den_err / den) ** 2
    if num != 0.0:
        rel2 += (num_err / num) ** 2
        return abs(r) * math.sqrt(rel2)
    return num_err / den


def zero_count_weighted_error(sumw: float, raw: int, cl: float = CL_1SIGMA) -> float:
    """Upper error of a weighted sum that is empty: Garwood(0) upper edge times the mean weight.

    Why: sqrt(sum w^2) = 0 for an empty box would claim a perfectly known zero; the MC sample
    only says the content is below ~1.84 events of typical weight.
    """
    if raw <= 0:
        raise ValueError("zero_count_weighted_error needs the reference sample's raw count > 0")
    return garwood(0, cl).high * sumw / raw


def quadrature(*values: float) -> float:
    """sqrt(sum of squares): combine independent uncertainties."""
    return math.sqrt(sum(v * v for v in values))
