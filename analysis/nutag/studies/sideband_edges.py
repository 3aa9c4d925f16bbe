"""Fit the outer edges of the two side-bands to the paper's inferred extrapolation factors.

Why a fit: the paper publishes neither its side-band regions nor its factors. Its asymmetric
background errors are what one side-band event gives (Garwood n = 1), so its factors were
about 0.030 (overlaid Kmu2, d_LKr side-band) and 0.004 (mis-reconstruction, m_miss2
side-bands) [est] (shared physics spec, section 9; docs/method.md section 6). nutag's signal
box is fixed by its own optimisation; the factor of a side-band is then set by how far the
side-band reaches. This scan gives, on the MC of a results directory (relaxed selection, the
factor's definition), the factor as a function of the outer edge:

* d_LKr side-band (|m_miss2| < box_m2_sr, box_dlkr_sb_lo <= d_LKr < edge), overlay MC. The
  accidentals are flat in area around the neutrino line, so the factor is close to the area
  ratio box_dlkr_sr^2 / (edge^2 - box_dlkr_sb_lo^2), also printed;
* m_miss2 side-bands (box_m2_sb_lo <= |m_miss2| < box_m2_sb_hi, d_LKr < edge), misreco MC.

The edge whose factor is nearest the target is reported; the committed edges
(selections/nutag.yaml, tagged [fit]) are round values near it. Reads only MC histograms
(``m2_vs_dlkr_fine``, region ``tagged_relaxed``): nothing of the blinded data.

Usage: ``python -m nutag.studies.sideband_edges results/<run> [--json out.json]``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .optimise import expected_planes, study_main

#: the paper's inferred factors [est]: published background / one side-band event
TARGETS = {"overlaid_kmu2": 0.030, "misreco": 0.004}


def _sum(c: np.ndarray, xe: np.ndarray, ye: np.ndarray, m2_lo: float, m2_hi: float,
         d_lo: float, d_hi: float) -> float:
    """Sum of the bins with m2_lo <= |m2| < m2_hi and d_lo <= d < d_hi (edges on bin edges)."""
    xc = 0.5 * (xe[:-1] + xe[1:])
    yc = 0.5 * (ye[:-1] + ye[1:])
    xs = (np.abs(xc) >= m2_lo) & (np.abs(xc) < m2_hi)
    ys = (yc >= d_lo) & (yc < d_hi)
    return float(c[np.ix_(xs, ys)].sum())


def scan_edges(overlay: np.ndarray, misreco: np.ndarray, xe: np.ndarray, ye: np.ndarray,
               boxes: dict[str, float], edges_dlkr: Sequence[float],
               edges_m2: Sequence[float]) -> dict[str, Any]:
    """Factor (relaxed signal box / side-band) of each background against its outer edge."""
    b = boxes
    out: dict[str, Any] = {}
    box_ov = _sum(overlay, xe, ye, 0.0, b["box_m2_sr"], 0.0, b["box_dlkr_sr"])
    rows = []
    for e in edges_dlkr:
        sb = _sum(overlay, xe, ye, 0.0, b["box_m2_sr"], b["box_dlkr_sb_lo"], e)
        rows.append({"edge": e, "sideband": sb, "factor": box_ov / sb if sb > 0 else None,
                     "area_ratio": b["box_dlkr_sr"] ** 2 / (e ** 2 - b["box_dlkr_sb_lo"] ** 2)})
    out["overlaid_kmu2"] = {"box": box_ov, "scan": rows}
    box_mr = _sum(misreco, xe, ye, 0.0, b["box_m2_sr"], 0.0, b["box_dlkr_sr"])
    rows = []
    for e in edges_m2:
        sb = _sum(misreco, xe, ye, b["box_m2_sb_lo"], b["box_m2_sb_hi"], 0.0, e)
        rows.append({"edge": e, "sideband": sb, "factor": box_mr / sb if sb > 0 else None})
    out["misreco"] = {"box": box_mr, "scan": rows}
    for name, res in out.items():
        ok = [r for r in res["scan"] if r["factor"]]
        best = min(ok, key=lambda r: abs(np.log(r["factor"] / TARGETS[name]))) if ok else None
        res["target"] = TARGETS[name]
        res["best_edge"] = best["edge"] if best else None
    return out


def fit_edges(results_dir: Path, region: str = "tagged_relaxed") -> dict[str, Any]:
    """The scans of :func:`scan_edges` on the MC histograms of a results directory (expected
    counts at the run's N_K), with the box edges of the run's selection."""
    expected, _ = expected_planes(results_dir, region)
    stored = json.loads((Path(results_dir) / "results.json").read_text())
    boxes = stored.get("boxes") or {}
    ov, xe, ye = expected("overlay")
    mr, _, _ = expected("misreco")
    res = scan_edges(ov, mr, xe, ye, boxes, [float(e) for e in range(150, 601, 25)],
                     [float(e) for e in range(50, 301, 10)])
    res["region"] = region
    res["boxes"] = boxes
    return res


def main(argv: list[str] | None = None) -> int:
    return study_main("python -m nutag.studies.sideband_edges", __doc__, "tagged_relaxed", fit_edges,
                      argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
