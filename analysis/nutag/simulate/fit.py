"""The declared fits of the simulation: the parameters set from a published number, refitted.

Why a command: two numbers of simulation/default.yaml have no source and are set so that one
published yield comes out — the 2022 neutrino-line downscaling D (to N_sig = 0.208) and the
rate of isolated accidental neutral showers in the LKr (to the overlaid-Kmu2 background
0.030). Such a number is a fit, and from then on the yield it was fitted to is calibrated, not
a prediction. This module says what each fit gives on a run of the default data set, with its
uncertainty, so that the committed values can be checked against it (tests/test_calibration.py)
and refitted after any change of the model or the selection:

    python -m nutag.simulate.fit results/default

Each yield is a power of its parameter, exactly: D thins the events the neutrino line keeps at
random (yield proportional to 1/D), and every overlaid-Kmu2 event of the model comes from one
accidental shower (yield proportional to the rate; the other accidental mechanisms are
vetoed). So one run at the committed value gives the fit: p_fit = p * (Y_pub / Y_model)^(1/k)
for a yield proportional to p^k.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..results.observation import published_numbers
from .config import REPO_ROOT

SIM_CONFIG = REPO_ROOT / "simulation" / "default.yaml"


@dataclass(frozen=True)
class Fit:
    """One fitted parameter: the yield it sets, and the power of the parameter in that yield."""

    parameter: str
    target: str     # what it is fitted to, as the docs name it
    power: int      # yield proportional to parameter ** power


FITS = (Fit("nu_trigger_downscaling", "N_sig = 0.208 (PLB 863 (2025) 139345)", -1),
        Fit("neutral_accidental_rate", "overlaid-Kmu2 background 0.030 (PLB 863 (2025) 139345)",
            1))


def _model_yield(summary: Mapping[str, Any], fit: Fit) -> tuple[float, float]:
    """(value, relative uncertainty) of the run's yield that ``fit`` sets."""
    if fit.parameter == "nu_trigger_downscaling":
        s = summary["n_sig"]
        return float(s["value"]), float(s["stat"]) / float(s["value"])
    o = summary["mc_truth_background"]["samples"]["overlay"]
    return float(o["value"]), float(o["stat"]) / float(o["value"])


def _published_yield(pub: Mapping[str, Any], fit: Fit) -> tuple[float, float, float]:
    """(value, relative down, relative up) uncertainty of the published yield."""
    if fit.parameter == "nu_trigger_downscaling":
        n = pub["n_sig"]
        rel = math.hypot(n["stat"], n["syst"]) / n["value"]
        return float(n["value"]), rel, rel
    b = pub["backgrounds"]["overlaid_kmu2"]
    v = float(b["value"])
    return v, math.hypot(b["stat_down"], b["syst"]) / v, math.hypot(b["stat_up"], b["syst"]) / v


def refit(summary: Mapping[str, Any], params: Mapping[str, Any],
          pub: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every declared fit on one run: the fitted value and its 68 % interval (published and
    model uncertainties combined, on the log scale), beside the committed value."""
    out: dict[str, dict[str, Any]] = {}
    for fit in FITS:
        committed = float(params[fit.parameter])
        y_model, rel_model = _model_yield(summary, fit)
        y_pub, rel_down, rel_up = _published_yield(pub, fit)
        value = committed * (y_pub / y_model) ** (1.0 / fit.power)
        # the parameter moves as a power of the ratio: a relative error r of the ratio is r/|k|
        lo_rel = math.hypot(math.log1p(-min(rel_down, 0.999)), rel_model) / abs(fit.power)
        hi_rel = math.hypot(math.log1p(rel_up), rel_model) / abs(fit.power)
        if fit.power < 0:  # a larger published yield means a smaller parameter
            lo_rel, hi_rel = hi_rel, lo_rel
        lo, hi = value * math.exp(-lo_rel), value * math.exp(hi_rel)
        out[fit.parameter] = {"target": fit.target, "committed": committed, "fit": value,
                              "interval": [lo, hi], "model_yield": y_model,
                              "published_yield": y_pub,
                              "committed_inside": lo <= committed <= hi}
    return out


def table(fits: Mapping[str, Mapping[str, Any]]) -> str:
    lines = ["| parameter | fitted to | committed | fit (68 % interval) | committed inside |",
             "|---|---|---:|---:|---|"]
    for name, f in fits.items():
        lo, hi = f["interval"]
        lines.append(f"| {name} | {f['target']} | {f['committed']:g} | {f['fit']:.3g} "
                     f"[{lo:.3g}, {hi:.3g}] | {'yes' if f['committed_inside'] else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m nutag.simulate.fit",
        description="Refit the declared [fit] parameters of the simulation from a run of the "
                    "default data set (docs/simulation.md, Calibration).")
    p.add_argument("results_dir", type=Path, help="a results directory of `nutag run` on the "
                   "default data set (summary.json)")
    p.add_argument("--sim-config", type=Path, default=SIM_CONFIG,
                   help="the simulation parameters the data set was made with")
    args = p.parse_args(argv)
    summary = json.loads((args.results_dir / "summary.json").read_text(encoding="utf-8"))
    params = yaml.safe_load(args.sim_config.read_text(encoding="utf-8"))
    print(table(refit(summary, params, published_numbers())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
