"""Choose the signal box on simulation only: scan (|m_miss2| < a, d_LKr < d) on MC histograms.

Why MC only: the box must be fixed before unblinding; the data's signal region is never read
here. Inputs are the fine MC histograms ``m2_vs_dlkr_fine`` (region ``tagged`` or
``tagged_relaxed``) of a results directory, scaled to expected counts with N_K / n_generated.

Figure of merit (ranking): the median discovery significance of a counting experiment,
Z_A = sqrt(2 ((s + b) ln(1 + s/b) - s)) (Asimov; Cowan, Cranmer, Gross, Vitells, EPJ C 71 (2011)
1554). It is the small-count form of the S / sqrt(B) the method calls for: S / sqrt(B) is its
limit for s << b, but diverges when b -> 0, so on finite MC histograms it would pick a box
around a single signal MC event with no background MC in it. With s ~ 0.2 and b ~ 0.03 events
the difference matters. Also reported: S / sqrt(B) and the Punzi FOM eps_s / (a/2 + sqrt(B))
(a = 1.64), which is independent of the signal normalisation but, for b << a^2/4, barely
weighs the background (it prefers the largest box).

Usage: ``python -m nutag.studies.optimise results/<run> [--region tagged] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .project import asimov_significance as _asimov

HIST = "m2_vs_dlkr_fine"
PUNZI_A = 1.64


@dataclass(frozen=True)
class BoxScore:
    m2_half_width: float
    dlkr_max: float
    signal: float
    background: float
    eff_signal: float
    punzi: float
    s_over_sqrt_b: float
    z_asimov: float


def asimov_significance(s: float, b: float) -> float:
    """Z_A of :func:`nutag.studies.project.asimov_significance`, but 0 when s <= 0 or b <= 0.

    Why 0 without background: a box with no background MC in it has a significance the
    histograms cannot estimate (not an infinite one), and such a box must not win the scan.
    """
    if s <= 0.0 or b <= 0.0:
        return 0.0
    return _asimov(s, b)


def _array(h: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(content[x, y], x edges, y edges) of a TH2 without under/overflow."""
    nx, ny = h.GetNbinsX(), h.GetNbinsY()
    c = np.array([[h.GetBinContent(i, j) for j in range(1, ny + 1)] for i in range(1, nx + 1)])
    ax, ay = h.GetXaxis(), h.GetYaxis()
    xe = np.array([ax.GetBinLowEdge(i) for i in range(1, nx + 2)])
    ye = np.array([ay.GetBinLowEdge(j) for j in range(1, ny + 2)])
    return c, xe, ye


def scan(signal: np.ndarray, background: np.ndarray, xe: np.ndarray, ye: np.ndarray,
         m2_widths: Sequence[float], dlkr_maxes: Sequence[float]) -> list[BoxScore]:
    """Score every box |m2| < w, 0 <= d < dmax whose edges fall on bin edges, best Z_A first."""
    total_s = float(signal.sum())
    out = []
    for w in m2_widths:
        xs = (xe[:-1] >= -w - 1e-12) & (xe[1:] <= w + 1e-12)
        for dmax in dlkr_maxes:
            ys = (ye[:-1] >= -1e-12) & (ye[1:] <= dmax + 1e-9)
            s = float(signal[np.ix_(xs, ys)].sum())
            b = float(background[np.ix_(xs, ys)].sum())
            eff = s / total_s if total_s > 0 else 0.0
            out.append(BoxScore(w, dmax, s, b, eff, eff / (PUNZI_A / 2 + math.sqrt(b)),
                                s / math.sqrt(b) if b > 0 else math.inf,
                                asimov_significance(s, b)))
    # ties: the smaller box
    return sorted(out, key=lambda r: (-r.z_asimov, r.m2_half_width, r.dlkr_max))


def optimise(results_dir: Path, region: str = "tagged",
             background_samples: Sequence[str] = ("overlay", "misreco"),
             signal_sample: str = "signal") -> dict[str, Any]:
    """Scan the boxes from a results directory; returns the ranking and the best box."""
    expected, n_k = expected_planes(results_dir, region)
    sig, xe, ye = expected(signal_sample)
    bkg = sum(expected(s)[0] for s in background_samples)
    widths = [float(w) for w in xe[xe > 0][:40]]
    dmaxes = [float(d) for d in ye[1:][ye[1:] <= 200.0]]
    ranking = scan(sig, bkg, xe, ye, widths, dmaxes)
    return {"region": region, "n_kaon_decays": n_k, "background_samples": list(background_samples),
            "best": asdict(ranking[0]) if ranking else None,
            "top10": [asdict(r) for r in ranking[:10]]}


def expected_planes(results_dir: Path, region: str,
                    ) -> tuple[Callable[[str], tuple[np.ndarray, ...]], float]:
    """(``expected(sample)`` -> the (m2, d_LKr) plane of ``sample`` in ``region`` as expected
    counts at the run's N_K with its bin edges, N_K) from a results directory's MC histograms
    (``HIST``). Shared by the box optimisation and the side-band edge scan
    (:mod:`nutag.studies.sideband_edges`)."""
    from ..outputs.report import read_histograms  # noqa: PLC0415 (ROOT)

    stored = json.loads((Path(results_dir) / "results.json").read_text())
    n_k = float(stored["summary_at_run"]["n_kaon_decays"])
    hists = read_histograms(Path(results_dir) / "histograms.root")
    meta: Mapping[str, Any] = {k: v["meta"] for k, v in stored["doc"]["samples"].items()}

    def expected(sample: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = hists.get((sample, region), {}).get(HIST)
        if h is None:
            raise KeyError(f"no {HIST} for {sample}/{region} in {results_dir}; book it for MC")
        c, xe, ye = _array(h)
        return c * n_k / float(meta[sample]["n_generated"]), xe, ye

    return expected, n_k


def study_main(prog: str, doc: str | None, default_region: str,
               study: Callable[[Path, str], dict[str, Any]], argv: list[str] | None) -> int:
    """``python -m PROG RESULTS_DIR [--region R] [--json OUT]``: run ``study`` on a results
    directory and print its result as JSON (also written to OUT)."""
    p = argparse.ArgumentParser(prog=prog, description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results_dir", type=Path)
    p.add_argument("--region", default=default_region)
    p.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = p.parse_args(argv)
    text = json.dumps(study(args.results_dir, args.region), indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    return study_main("python -m nutag.studies.optimise", __doc__, "tagged", optimise, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
