"""Calibration of the default data set against the published result (PLB 863 (2025) 139345).

Runs the main job (``nutag run --threads 2`` on configs/default.yaml, blinded) on the DEFAULT
data set (data/default/, or $NUTAG_DATA) into a temporary directory and pins the calibrated
simulation to the targets of the calibration issue, at N_K ~ 5e12 fiducial K+ decays:

* expected signal N_sig within +-20 % of the published 0.208 (0.166-0.250): the only knob is
  the named neutrino-line downscaling nu_trigger_downscaling (simulation/default.yaml,
  CALIBRATION section), never a factor on a yield;
* overlaid-Kmu2 background, MC truth in the signal box, inside the published 68 % interval
  0.007-0.071 (0.030 +0.041 -0.023);
* mis-reconstruction background, MC truth in the signal box, inside the published interval
  0.001-0.010 (0.004 +0.006 -0.003), with no tuned parameter (radiative Kmu2 whose photon
  crosses the NA62MC material before the LKr unconverted and interacts photonuclearly there);
* S/B = N_sig / (MC-truth background) between 3 and 12 (published ~6, i.e. within a factor 2);
* the side-band method closes for the overlaid Kmu2: the extrapolation factor times the
  MC-expected side-band count agrees with the MC truth in the signal box within 3 combined
  standard deviations, and so does the m_miss2 side-band method for the mis-reconstruction
  (whose extrapolation has >= 30 MC events in the relaxed signal box and side-band).

The tolerances below ARE those targets (docs/simulation.md, "Calibration"). The default data
set is produced once (~2 min on 2 cores) and cached under data/default; this test produces it
if missing or outdated (same code path as ``nutag run``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# --- the calibration targets (published values; see the module docstring) ---
N_SIG_PUBLISHED = 0.208
N_SIG_RANGE = (0.8 * N_SIG_PUBLISHED, 1.2 * N_SIG_PUBLISHED)      # +-20 %: [0.166, 0.250]
OVERLAY_RANGE = (0.007, 0.071)      # 0.030 +0.041 -0.023 [pub]
MISRECO_RANGE = (0.001, 0.010)      # 0.004 +0.006 -0.003 [pub]
S_OVER_B_RANGE = (3.0, 12.0)        # published ~6, within a factor 2
N_K_RANGE = (4.0e12, 6.5e12)        # "about 5e12" K+ decays (measured N_K of the default set)
CLOSURE_NSIGMA = 3.0

def _env() -> dict[str, str]:
    """The environment of the main job: the selection compiled as ``make run`` compiles it
    (NUTAG_COMPILE=auto), not jitted as elsewhere in the suite (tests/conftest.py). On the
    default data set the compiled event loop takes about a third of the CPU time of the jitted
    one, and the libraries it compiles are those of every other run of configs/default.yaml
    with compiled selections (tests/test_regression_yields.py), which then reuse them."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "analysis"), env.get("PYTHONPATH", "")])
    env["NUTAG_COMPILE"] = "auto"
    return env


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("calibration") / "results"
    # produce (or reuse) the default data set, then the main job into tmp
    subprocess.run([sys.executable, "-c", "from nutag.simulate.dataset import "
                    "ensure_default_dataset; ensure_default_dataset(threads=2)"],
                   check=True, cwd=REPO, env=_env(), timeout=1800)
    subprocess.run([sys.executable, "-c", "import sys; from nutag.cli import main; "
                    "sys.exit(main())", "run", "--threads", "2", "--output", str(out)],
                   check=True, cwd=REPO, env=_env(), timeout=1800, capture_output=True)
    return json.loads((out / "summary.json").read_text())


def test_default_dataset_manifest_and_weights(summary: dict) -> None:
    """The default data set the calibration ran on (data/default or $NUTAG_DATA): manifest
    complete, every sample listed, pseudo-data parts within limits and N_K*max(w)/M << 1 for the
    forced streams whose events are written. (Was tests/test_simulate.py::
    test_default_dataset_manifest_and_weights, which skipped unless an earlier test had produced
    the data set; here the ``summary`` fixture produces it.)"""
    from nutag import simulate as P
    from nutag.simulate.dataset import (DEFAULT_DATASET, RARE_STREAMS, dataset_complete,
                                        default_output_dir, load_dataset, read_manifest)

    ds = load_dataset(DEFAULT_DATASET)
    out = default_output_dir(ds)
    assert dataset_complete(ds, out), out
    man = read_manifest(out)
    assert list(man["samples"]) == ds.sample_names
    for name, e in man["samples"].items():
        assert (out / e["file"]).stat().st_size == e["size"] and e["n_entries"] >= 0
    meta = P.read_metadata(out / "data.root")
    assert meta["n_kaon_decays"] == ds.data.n_kaon_decays
    parts = {p["stream"]: p for p in meta["parts"]}
    assert set(parts) == {"minbias", *RARE_STREAMS}
    for s in RARE_STREAMS:
        assert parts[s]["n_written"] <= ds.data.max_events
    # the forced streams: each written entry stands for << 1 expected data events
    assert parts["signal"]["max_copies_mean"] < 0.05
    assert parts["overlay"]["max_copies_mean"] < 1.0
    assert parts["misreco"]["max_copies_mean"] < 0.5
    # the MC samples are small: preselected neutrino-trigger events only for the rare streams
    for s in RARE_STREAMS:
        assert man["samples"][s]["size"] < 50e6


def test_normalisation(summary: dict) -> None:
    assert N_K_RANGE[0] < summary["normalisation"]["value"] < N_K_RANGE[1]


def test_regression_normalisation_agrees_with_the_pseudo_data_truth(summary: dict) -> None:
    """N_K counted every control-trigger event passing the muon selection as Kmu2, so the
    other K+ decays of the pseudo-data biased it by +5.8 % (5.29e12 for a true 5e12, 14x its
    statistical error); with the Kmu2 m_miss2 window (cut kmu2_peak) it must agree with the
    truth the pseudo-data were generated for within 1 %."""
    import yaml

    data_dir = Path(os.environ.get("NUTAG_DATA", REPO / "data" / "default"))
    meta = yaml.safe_load((data_dir / "samples.yaml").read_text())["samples"]["data"]["meta"]
    truth = float(meta["n_kaon_decays"])
    n_k = summary["normalisation"]["value"]
    assert abs(n_k / truth - 1.0) < 0.01, (n_k, truth)


def test_signal_expectation(summary: dict) -> None:
    n_sig = summary["n_sig"]["value"]
    assert N_SIG_RANGE[0] <= n_sig <= N_SIG_RANGE[1], n_sig


def test_overlay_mc_truth(summary: dict) -> None:
    ov = summary["mc_truth_background"]["samples"]["overlay"]["value"]
    assert OVERLAY_RANGE[0] <= ov <= OVERLAY_RANGE[1], ov


def test_misreco_mc_truth(summary: dict) -> None:
    mr = summary["mc_truth_background"]["samples"]["misreco"]
    assert mr["raw"] > 0
    assert MISRECO_RANGE[0] <= mr["value"] <= MISRECO_RANGE[1], mr


def test_s_over_b(summary: dict) -> None:
    s_over_b = summary["n_sig"]["value"] / summary["mc_truth_background"]["total"]
    assert S_OVER_B_RANGE[0] <= s_over_b <= S_OVER_B_RANGE[1], s_over_b


def test_overlay_sideband_closure(summary: dict) -> None:
    """factor x (MC-expected side-band) vs MC truth in the signal box."""
    bkg = summary["backgrounds"]["overlaid_kmu2"]
    check = summary["sideband_checks"]["overlaid_kmu2"]
    predicted = bkg["factor"] * check["expected_mc"]
    truth = summary["mc_truth_background"]["samples"]["overlay"]
    sigma = math.hypot(truth["stat"], bkg["factor_stat"] * check["expected_mc"])
    assert abs(predicted - truth["value"]) < CLOSURE_NSIGMA * sigma, (predicted, truth, sigma)


def test_misreco_extrapolation_has_mc_statistics(summary: dict) -> None:
    ext = summary["backgrounds"]["misreco"]["extrapolation"] or {}
    assert (ext.get("numerator_raw") or 0) >= 30 and (ext.get("denominator_raw") or 0) >= 30, ext
    assert summary["sideband_checks"]["misreco"]["expected_mc"] > 0.0


def test_misreco_sideband_closure(summary: dict) -> None:
    """The m_miss2 side-band method closes on the misreco MC: factor x (MC-expected side-band)
    agrees with the MC truth in the signal box within 3 combined standard deviations."""
    bkg = summary["backgrounds"]["misreco"]
    check = summary["sideband_checks"]["misreco"]
    predicted = bkg["factor"] * check["expected_mc"]
    truth = summary["mc_truth_background"]["samples"]["misreco"]
    sigma = math.hypot(truth["stat"], bkg["factor_stat"] * check["expected_mc"])
    assert truth["raw"] >= 30, truth
    assert abs(predicted - truth["value"]) < CLOSURE_NSIGMA * sigma, (predicted, truth, sigma)


def test_fitted_parameters_are_what_the_refit_gives(summary: dict) -> None:
    """The two [fit] parameters of simulation/default.yaml (D to N_sig, the accidental rate to
    the overlaid-Kmu2 background) lie inside the 68 % interval of their refit on this run
    (python -m nutag.simulate.fit RESULTS_DIR): a model change that moves the yields shows
    up here, and the values must be refitted (and the docs' numbers with them)."""
    import yaml

    from nutag.results.observation import published_numbers
    from nutag.simulate.fit import SIM_CONFIG, refit

    params = yaml.safe_load(SIM_CONFIG.read_text())
    fits = refit(summary, params, published_numbers())
    assert set(fits) == {"nu_trigger_downscaling", "neutral_accidental_rate"}
    for name, f in fits.items():
        assert f["committed_inside"], (name, f)
    no_tag = [line for line in SIM_CONFIG.read_text().splitlines()
              if "[tuned" in line and not line.lstrip().startswith("#")]
    assert no_tag == [], "a parameter adjusted to a published number is a [fit]"


# --- the side-band structure of the paper (docs/method.md section 6) ---
# The paper's asymmetric errors are those of ONE side-band event each, so its factors were about
# 0.030 (overlaid Kmu2) and 0.004 (mis-reconstruction) [est]. nutag's side-band outer edges are
# fitted to those factors (selections/nutag.yaml, [fit]; python -m nutag.studies.sideband_edges), so
# the factors are pinned within the MC statistics of the default data set, and the expected
# side-band counts -- which follow from the models -- must be of order one.
PAPER_FACTORS = {"overlaid_kmu2": 0.030, "misreco": 0.004}   # [est], published.json inferred_est
FACTOR_RANGE = (0.5, 2.0)           # nutag factor / paper's inferred factor
SIDEBAND_EXPECTED_RANGE = (0.2, 5.0)  # MC-expected side-band count (paper: 1 each [est])


def test_sideband_structure(summary: dict) -> None:
    comp = summary["sideband_comparison"]
    for name, f_paper in PAPER_FACTORS.items():
        row = comp[name]
        est = row["paper_est"]
        assert est["estimated"] and est["sideband_count"] == 1 and est["factor"] == f_paper
        ratio = row["factor_over_paper_est"]
        assert ratio == pytest.approx(row["factor"] / f_paper)
        assert FACTOR_RANGE[0] < ratio < FACTOR_RANGE[1], (name, row["factor"], f_paper)
        assert SIDEBAND_EXPECTED_RANGE[0] < row["expected_mc"] < SIDEBAND_EXPECTED_RANGE[1], \
            (name, row["expected_mc"])
        assert row["expected_mc_over_paper_est"] == pytest.approx(row["expected_mc"])
        # the old keys stay
        assert row["sideband_region"] == summary["backgrounds"][name]["sideband_region"]
        assert row["expected_mc"] == summary["sideband_checks"][name]["expected_mc"]
