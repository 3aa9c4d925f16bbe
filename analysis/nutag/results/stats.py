"""Small-count statistics for a rare-event search.

Why a module of its own: the published numbers (asymmetric background errors, P(exactly 1 |
s+b) = 19 %) are Poisson statements about O(1) counts, where Gaussian sqrt(n) errors are wrong.
Everything here is a pure function of numbers (no ROOT), so it is unit-tested against the
paper's own arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special as _special
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


# --------------------------------------------------------------------------- on/off with
# the background uncertainty integrated over (docs/method.md, section 9)
#: Shift a of the side-band posterior Gamma(n_SB + a, 1): a = 1 is the flat prior on the
#: side-band mean, a = 1/2 Jeffreys' prior.
SIDEBAND_PRIORS: dict[str, float] = {"flat": 1.0, "jeffreys": 0.5}

#: Quadrature nodes over the extrapolation factor's distribution (Gauss-Hermite in ln f for
#: the log-normal, Gauss-Laguerre for the exponential of an empty MC box).
FACTOR_NODES = 96

#: Largest count the tail sum of P(N >= n) runs to before it gives up refining.
_TAIL_CAP = 100_000


@dataclass(frozen=True)
class SidebandEstimate:
    """One data-driven background b = (side-band mean) x (extrapolation factor).

    n_sideband is the data count in the side-band; factor and factor_err are the factor's
    central value and absolute 1-sigma uncertainty (MC statistics and systematics together).
    """

    n_sideband: int
    factor: float
    factor_err: float

    def __post_init__(self) -> None:
        if self.n_sideband < 0 or int(self.n_sideband) != self.n_sideband:
            raise ValueError(f"the side-band count must be a non-negative integer, got "
                             f"{self.n_sideband!r}")
        for name in ("factor", "factor_err"):
            v = getattr(self, name)
            if not v >= 0.0 or math.isinf(v):
                raise ValueError(f"the extrapolation {name} must be finite and >= 0, got {v!r}")


def factor_model(factor: float, factor_err: float) -> str:
    """Which distribution stands for the extrapolation factor's uncertainty.

    "log-normal" (mean factor, relative sd factor_err/factor) for a measured factor: positive
    and multiplicative; "exponential" for an empty MC numerator (factor 0 with an upper
    error): the flat-prior posterior Gamma(0 + 1) of an empty box, scaled so that its 84.13 %
    quantile is the quoted Garwood(0) upper error; "fixed" when there is no uncertainty.
    """
    if factor_err <= 0.0:
        return "fixed"
    return "log-normal" if factor > 0.0 else "exponential"


def factor_quadrature(factor: float, factor_err: float, n_nodes: int = FACTOR_NODES
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Nodes f_i and weights w_i (sum 1) with sum_i w_i g(f_i) ~ E[g(f)] over the factor.

    Log-normal with mean f and relative sd r: ln f' ~ N(ln f - s^2/2, s^2), s^2 = ln(1 + r^2),
    integrated by Gauss-Hermite in the standard normal variable. Exponential of mean
    factor_err / Garwood(0).high: Gauss-Laguerre. Fixed: one node.
    """
    model = factor_model(factor, factor_err)
    if model == "fixed":
        return np.array([float(factor)]), np.array([1.0])
    if model == "exponential":
        x, w = np.polynomial.laguerre.laggauss(n_nodes)
        return x * (factor_err / garwood(0).high), w / w.sum()
    s2 = math.log1p((factor_err / factor) ** 2)
    z, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    return np.exp(math.log(factor) - s2 / 2.0 + math.sqrt(s2) * z), w / w.sum()


def sideband_count_pmf(est: SidebandEstimate, m_max: int, prior: str = "flat") -> np.ndarray:
    """P(N = m | side-band data), m = 0..m_max, for this background's signal-region count.

    For a fixed factor f, a Poisson count of mean lambda*f with lambda ~ Gamma(n_SB + a, 1) is
    negative binomial: Gamma(m + k)/(Gamma(k) m!) p^m (1 - p)^k with k = n_SB + a and
    p = f / (1 + f); the factor's distribution is then integrated by quadrature.
    """
    k = est.n_sideband + _prior_shift(prior)
    f, w = factor_quadrature(est.factor, est.factor_err)
    m = np.arange(m_max + 1, dtype=float)[:, None]
    pos = f > 0.0
    logp = np.full_like(f, -np.inf)
    logp[pos] = np.log(f[pos]) - np.log1p(f[pos])
    with np.errstate(invalid="ignore"):
        m_logp = np.where(m == 0.0, 0.0, m * logp)
    log_nb = (_special.gammaln(m + k) - _special.gammaln(k) - _special.gammaln(m + 1.0)
              + m_logp - k * np.log1p(f))
    return np.exp(log_nb) @ w


def integrated_pmf(m_max: int, s: float, backgrounds: Sequence[SidebandEstimate],
                   prior: str = "flat") -> np.ndarray:
    """P(N = m), m = 0..m_max, for signal Poisson(s) plus independent side-band backgrounds.

    The signal-region count is the sum of independent counts, so its distribution is the
    discrete convolution of theirs (truncated at m_max, which is exact for m <= m_max).
    """
    if not s >= 0.0 or math.isinf(s):
        raise ValueError(f"the expected signal must be finite and >= 0, got {s!r}")
    pmf = _st.poisson.pmf(np.arange(m_max + 1), s) if s > 0 else _delta0(m_max)
    for est in backgrounds:
        pmf = np.convolve(pmf, sideband_count_pmf(est, m_max, prior))[: m_max + 1]
    return pmf


def p_exactly_integrated(n: int, s: float, backgrounds: Sequence[SidebandEstimate],
                         prior: str = "flat") -> float:
    """P(N = n | s + b) with b's side-band and extrapolation uncertainties integrated over."""
    _check_count_mean(n, s)
    return float(integrated_pmf(int(n), s, backgrounds, prior)[int(n)])


def p_at_least_integrated(n: int, s: float, backgrounds: Sequence[SidebandEstimate],
                          prior: str = "flat") -> float:
    """P(N >= n | s + b), b integrated over; with s = 0 the on/off p-value of n observed.

    Why two ways: 1 - P(N < n) is exact but rounds to 0 for a far tail, so when that tail is
    the small side it is summed term by term until the terms stop mattering.
    """
    _check_count_mean(n, s)
    n = int(n)
    if n <= 0:
        return 1.0
    below = float(integrated_pmf(n - 1, s, backgrounds, prior).sum())
    if below < 0.5:
        return 1.0 - below
    m_max = 2 * n + 16
    while True:
        pmf = integrated_pmf(m_max, s, backgrounds, prior)
        tail = float(pmf[n:].sum())
        if pmf[-1] <= 1e-17 * tail or m_max >= _TAIL_CAP:
            return tail
        m_max = min(2 * m_max, _TAIL_CAP)


def posterior_mean_background(backgrounds: Sequence[SidebandEstimate], prior: str = "flat"
                              ) -> float:
    """Mean of b under the integration: sum over backgrounds of (n_SB + a) x mean factor.

    The mean factor is the central one for the log-normal, factor_err/Garwood(0).high for the
    exponential of an empty MC box.
    """
    a = _prior_shift(prior)
    total = 0.0
    for est in backgrounds:
        f, w = factor_quadrature(est.factor, est.factor_err)
        total += (est.n_sideband + a) * float(f @ w)
    return total


def _prior_shift(prior: str) -> float:
    try:
        return SIDEBAND_PRIORS[prior]
    except KeyError:
        raise ValueError(f"unknown side-band prior {prior!r}; one of "
                         f"{sorted(SIDEBAND_PRIORS)}") from None


def _delta0(m_max: int) -> np.ndarray:
    out = np.zeros(m_max + 1)
    out[0] = 1.0
    return out
