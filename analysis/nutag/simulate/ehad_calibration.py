"""Response calibration of the hadronic energy E_had: weights for the LKr and the MUVs, from signal MC.

Why: the LKr and the MUV1/MUV2 are calibrated on the electromagnetic scale (the MUVs on the
muon MIP), a hadronic shower is seen at f_em + (1 - f_em) h/e of it (non-compensation) and
part of it leaks out of MUV2 or stops in the cryostat between LKr and MUV1. The plain sum
E_LKr + E_MUV1 + E_MUV2 therefore reads the hadronic energy y E_nu low (median -31 % with the
previous shower model). A real analysis corrects the sum with weights per detector fixed on
simulation; this command fixes them on the signal MC of a data set, in the relaxed tagged
region (the analysis selection without the timing and E_had cuts, the whole plane):

    python -m nutag.simulate.ehad_calibration data/default [--write]

E_had = w_LKr (E_LKr - MIP_LKr) + w_MUV (E_MUV1 + E_MUV2 - MIP_MUV1 - MIP_MUV2), the MIPs being
the outgoing mu-'s expected deposits (0.6, 1.38, 1.25 GeV [NA62]). MUV1 and MUV2 share one
weight: they are the same iron-scintillator technology with the same h/e, and a separate MUV2
weight, fitted freely, comes out negative (MUV2 rarely sees more than the mu- MIP, so its term
acts as an intercept), which would read the published candidate's 10.7 GeV in MUV2 as negative
hadronic energy. The weights are
the weighted least-squares solution for the true hadronic energy y_true E_nu,true, then scaled
by one common factor so that the weighted median of y_reco / y_true is 1 (the least-squares
solution is unbiased on the mean; the distribution of the ratio is skewed by the f_em
fluctuations). ``--write`` puts the two numbers into selections/nutag.yaml (columns
``had_w_lkr``, ``had_w_muv``), where E_had and y are defined.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import REPO_ROOT

SELECTIONS = (REPO_ROOT / "selections" / "kmu2.yaml", REPO_ROOT / "selections" / "nutag.yaml")
NUTAG_SELECTION = SELECTIONS[1]
REGION = "tagged_relaxed"
#: the selection columns holding the weights: LKr, MUV1+MUV2
WEIGHT_COLUMNS = ("had_w_lkr", "had_w_muv")
#: the mu-'s expected MIP deposits [GeV] (NA62; nutag::kMipLkr, kMipMuv1, kMipMuv2)
MIPS = (0.6, 1.38, 1.25)
ENERGIES = ("e_lkr", "e_muv1", "e_muv2")


def above_mips(energies: np.ndarray) -> np.ndarray:
    """(n, 3) deposits E_LKr, E_MUV1, E_MUV2 -> (n, 2) LKr and MUV1+MUV2 above the mu- MIPs."""
    x = np.atleast_2d(energies) - np.asarray(MIPS)
    return np.column_stack([x[:, 0], x[:, 1] + x[:, 2]])


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value below which half of the total weight lies."""
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def fit_weights(energies: np.ndarray, e_nu: np.ndarray, true_y: np.ndarray,
                true_e_nu: np.ndarray, event_weight: np.ndarray) -> np.ndarray:
    """Weights (LKr, MUV): least squares for y_true E_nu,true, then the common factor that
    makes the weighted median of y_reco / y_true equal to 1. ``energies`` is (n, 3)."""
    x = above_mips(energies)
    target = true_y * true_e_nu
    sw = np.sqrt(event_weight)
    w, *_ = np.linalg.lstsq(x * sw[:, None], target * sw, rcond=None)
    ratio = (x @ w) / e_nu / true_y
    return w / weighted_median(ratio, event_weight)


def y_bias(energies: np.ndarray, e_nu: np.ndarray, true_y: np.ndarray,
           event_weight: np.ndarray, w: Sequence[float]) -> dict[str, float]:
    """Weighted median and 16/84 % quantiles of y_reco / y_true - 1 for the weights ``w``."""
    ratio = (above_mips(energies) @ np.asarray(w)) / e_nu / true_y
    q = {}
    order = np.argsort(ratio)
    cum = np.cumsum(event_weight[order]) / event_weight.sum()
    for name, p in (("q16", 0.16), ("median", 0.5), ("q84", 0.84)):
        q[name] = float(ratio[order][np.searchsorted(cum, p)] - 1.0)
    return q


def signal_arrays(data_dir: Path, threads: int = 2) -> dict[str, np.ndarray]:
    """The calorimeter energies, E_nu, the truth and the event weight of the signal sample in
    the relaxed tagged region (the analysis graph, MC only: never reads pseudo-data)."""
    from ..engine import graph, run  # noqa: PLC0415
    from ..config.analysis import load_samples, load_selection  # noqa: PLC0415
    from ..engine.cpp import load_cpp  # noqa: PLC0415

    run.configure_threads(threads)
    samples = load_samples(data_dir / "samples.yaml")
    sel = load_selection([str(p) for p in SELECTIONS])
    g = graph.build_graph(samples["signal"], sel, blinded=False, declare=load_cpp)
    node = g.regions[REGION].node
    cols = [*ENERGIES, "e_nu", "true_y", "true_e_nu", "_w"]
    arrays = node.AsNumpy(cols)
    return {c: np.asarray(arrays[c], dtype=float) for c in cols}


def current_weights(path: Path = NUTAG_SELECTION) -> tuple[float, float]:
    """The committed weights, read from the selection YAML."""
    import yaml  # noqa: PLC0415

    cols = yaml.safe_load(path.read_text(encoding="utf-8"))["columns"]
    return tuple(float(cols[c]["expr"]) for c in WEIGHT_COLUMNS)  # type: ignore[return-value]


def write_weights(w: Sequence[float], path: Path = NUTAG_SELECTION) -> None:
    """Replace the three weight expressions in the selection YAML, nothing else."""
    text = path.read_text(encoding="utf-8")
    for name, value in zip(WEIGHT_COLUMNS, w):
        text, n = re.subn(rf'^(\s*{name}:\s*{{expr:\s*")[^"]*(")', rf"\g<1>{value:.3f}\g<2>",
                          text, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"{path}: column {name} not found")
    path.write_text(text, encoding="utf-8")


def calibrated_y(candidate: Mapping[str, Any], w: Sequence[float] | None = None) -> float:
    """y of an event listed as E_LKr, E_MUV1, E_MUV2, E_nu (the published candidate's keys),
    with the analysis' calibrated E_had."""
    w = current_weights() if w is None else w
    e = np.array([candidate["E_LKr"], candidate["E_MUV1"], candidate["E_MUV2"]], dtype=float)
    return float((above_mips(e) @ np.asarray(w))[0] / float(candidate["E_nu"]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nutag.simulate.ehad_calibration",
                                description=__doc__.splitlines()[0])
    p.add_argument("data_dir", type=Path, help="a data set directory (samples.yaml) with signal MC")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--write", action="store_true", help="write the weights into selections/nutag.yaml")
    a = p.parse_args(argv)
    arr = signal_arrays(a.data_dir, a.threads)
    energies = np.column_stack([arr[c] for c in ENERGIES])
    ok = arr["true_y"] > 0
    energies, e_nu, ty, te, ew = (energies[ok], arr["e_nu"][ok], arr["true_y"][ok],
                                  arr["true_e_nu"][ok], arr["_w"][ok])
    committed = current_weights()
    w = fit_weights(energies, e_nu, ty, te, ew)
    print(f"signal MC in {REGION}: {len(ew)} events")
    for label, ws in (("unit weights", (1.0, 1.0)), ("committed", committed), ("fit", w)):
        b = y_bias(energies, e_nu, ty, ew, ws)
        print(f"{label:12s} w_LKr = {ws[0]:.3f}, w_MUV = {ws[1]:.3f}: y_reco/y_true - 1 median "
              f"{100 * b['median']:+.1f} %, 16-84 % [{100 * b['q16']:+.1f}, {100 * b['q84']:+.1f}] %")
    if a.write:
        write_weights(w)
        print(f"written to {NUTAG_SELECTION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
