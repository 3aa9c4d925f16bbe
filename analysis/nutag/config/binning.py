"""Histogram binning from YAML: ``[n, lo, hi]`` or edges, checked so that it can be booked.

Why checked here and not by ROOT: a negative count silently became 2 bins, infinite edges
NaN bins, and 1e9 bins gigabytes of memory after the whole event loop; each is now an error
naming the file, line and key before any event is read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..core.errors import ConfigError


@dataclass(frozen=True)
class Binning:
    """Uniform (n, lo, hi) or variable (edges) binning of one axis."""

    n: int
    lo: float
    hi: float
    edges: tuple[float, ...] | None = None


#: twice with weights), so 1e6 bins are tens of MB and 1e8 several GB
MAX_BINS = 1_000_000
#: most bins (nx * ny) of one 2D histogram, for the same reason
MAX_CELLS = 10_000_000
_BINNING_FORMS = "write [n, lo, hi] (uniform) or a list of at least 2 increasing edges"


def _bin_number(value: Any) -> float | None:
    """A YAML number as float; YAML 1.1 reads 1e3 (no dot) as a string, so accept that too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _is_count(node: list, nums: list[float]) -> bool:
    """Whether a 3-number list is [n, lo, hi] rather than 3 edges.

    An integer first is a count (so [-5, 0, 5] is a wrong count, not 2 edges); so is a whole
    number written as 1e3 or 1.0e+3 when the three numbers are not increasing edges.
    """
    if len(node) != 3:
        return False
    if isinstance(node[0], int):
        return True
    increasing = nums[0] < nums[1] < nums[2]
    return nums[0].is_integer() and not increasing


def parse_binning(file: str, node: Any, key: str, line: int) -> Binning:
    """[n, lo, hi] is uniform; any other list (or {edges: [...]}) is the list of bin edges.

    Checked so that the histogram can be booked and holds what was meant: a whole positive
    count within MAX_BINS, finite edges, lo < hi, edges strictly increasing.
    """
    explicit_edges = isinstance(node, dict)
    if explicit_edges:
        if set(node) != {"edges"}:
            raise ConfigError(file, line, key, "a binning mapping takes only 'edges'",
                              "write 'bins: {edges: [0, 1, 5]}' or 'bins: [n, lo, hi]'")
        node = node["edges"]
    nums = [_bin_number(v) for v in node] if isinstance(node, list) else []
    if len(nums) < 2 or any(v is None for v in nums):
        raise ConfigError(file, line, key, f"invalid binning {node!r}", _BINNING_FORMS)
    if not explicit_edges and _is_count(node, nums):
        return _uniform(file, key, line, nums)
    return _edges(file, key, line, nums)


def _uniform(file: str, key: str, line: int, nums: list[float]) -> Binning:
    count, lo, hi = nums
    if not (count.is_integer() and 1 <= count <= MAX_BINS):
        raise ConfigError(file, line, key, f"the number of bins must be a whole number from 1 "
                          f"to {MAX_BINS:,}, got {count:g}",
                          "give a positive bin count (for edges write {edges: [...]})"
                          if count < 1 else f"use at most {MAX_BINS:,} bins per axis")
    if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(hi - lo)):
        raise ConfigError(file, line, key, f"the axis range [{lo:g}, {hi:g}] is not finite",
                          "give finite edges whose difference is finite too")
    if not lo < hi:
        raise ConfigError(file, line, key, f"the lower edge {lo:g} is not below the upper edge "
                          f"{hi:g}", "write [n, lo, hi] with lo < hi")
    width = (hi - lo) / count
    if not (lo + width > lo and hi - width < hi):
        raise ConfigError(file, line, key, f"{count:g} bins in [{lo:g}, {hi:g}] are narrower "
                          "than the floating-point resolution", "use fewer bins or a wider range")
    return Binning(int(count), lo, hi)


def _edges(file: str, key: str, line: int, edges: list[float]) -> Binning:
    if len(edges) - 1 > MAX_BINS:
        raise ConfigError(file, line, key, f"{len(edges) - 1:,} bins is more than "
                          f"{MAX_BINS:,}", f"use at most {MAX_BINS:,} bins per axis")
    if not all(math.isfinite(v) for v in edges) or not math.isfinite(edges[-1] - edges[0]):
        raise ConfigError(file, line, key, f"bin edges {edges} are not all finite",
                          "give finite edges whose difference is finite too")
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise ConfigError(file, line, key, f"bin edges {edges} are not strictly increasing",
                          "sort the edges, or use [n, lo, hi] with integer n > 0 and lo < hi")
    return Binning(len(edges) - 1, edges[0], edges[-1], tuple(edges))


def check_cells(file: str, key: str, line: int, x: Binning, y: Binning) -> None:
    """A 2D histogram holds nx * ny bins per copy: bounded like one axis is."""
    if x.n * y.n > MAX_CELLS:
        raise ConfigError(file, line, key, f"{x.n:,} x {y.n:,} = {x.n * y.n:,} bins is "
                          f"more than {MAX_CELLS:,}",
                          f"use at most {MAX_CELLS:,} bins in a 2D histogram (fewer bins on "
                          "either axis)")
