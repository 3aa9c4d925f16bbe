#!/usr/bin/env python3
"""Build nutag's correctionlib JSON files (schema v2) from the documented inputs below.

Why a script and not hand-written JSON: every number lives once, here, next to its source tag
([NA62], [PDG], [est], as in docs/corrections.md and the physics spec); the JSON is derived,
deterministic (same inputs -> byte-identical files) and validated by correctionlib's own pydantic
schema before it is written. ``tests/test_corrections.py`` rebuilds and compares with the
committed files, so a number changed here but not rebuilt (or edited in the JSON by hand) fails.

Conventions shared by every correction (nutag.engine.systematics relies on them):

* the last input is ``syst`` (string): ``nominal``, ``up`` or ``down``; an unknown value is an
  error, never a silent default;
* ``up`` means "the quantity is larger" (larger efficiency, larger scale, larger cross-section);
* weights are multiplicative event weights on simulation; scales multiply a column (shape).

Run: ``python corrections/build_corrections.py`` (writes next to this file), ``--check`` to only
compare, ``--outdir DIR`` to write elsewhere.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import correctionlib.schemav2 as cs

HERE = Path(__file__).resolve().parent
SYSTS = ("nominal", "up", "down")

# ----------------------------------------------------------------------------- documented inputs
# Every number used below, with its source. docs/corrections.md explains each one.
INPUTS: dict[str, dict[str, Any]] = {
    "sigma_cc": {
        "sim_sigma_over_e": 0.677e-38,  # cm^2/GeV per nucleon, the simulation's value [PDG]
        "pdg_rel_unc": 0.014 / 0.677,   # world average 0.677 +- 0.014, E > 30 GeV [PDG]
        "isoscalar_rel_unc": 0.003,     # Kr neutron-excess factor, sigma(nu n)/sigma(nu p) [est]
        # energy dependence below the PDG range: flat within ~3 % over 10-70 GeV (spec) taken
        # as a uniform +-3 % band -> 3/sqrt(3) = 1.7 % (1 sigma) in 10-30 GeV [est];
        # below 10 GeV (not flat, QE/resonances) 5 % [est]
        "edges": [0.0, 10.0, 30.0, 80.0],
        "shape_rel_unc": [0.05, 0.03 / math.sqrt(3.0), 0.0],
    },
    "trigger_lkr": {
        "threshold": 10.0,       # GeV, LKr trigger energy threshold [est from LKr10 + candidate]
        "width": 1.0,            # GeV, gaussian width of the turn-on (L0 energy resolution) [est]
        "plateau": 1.0,          # efficiency far above threshold [est]
        "threshold_unc": 0.5,    # GeV, threshold calibration uncertainty [est]
    },
    "trigger_muv3": {
        "outer_eff": 0.995,      # per-tile efficiency, outer tiles 0..143 [est]
        "inner_eff": 0.990,      # inner tiles 144..151 (not in the nu trigger) [est]
        "unc": 0.003,            # absolute, both [est]
        "n_outer": 144,
        "n_tiles": 152,
    },
    "lkr_scale": {"unc": 0.02},        # hadronic response of LKr, sim vs data [est]
    # The simulation's non-compensation (simulation/default.yaml had_h_over_e_*, [est]) moves the
    # EM-scale reading of a hadronic shower by (1 - <f_em>) dh / (<f_em> + (1 - <f_em>) h/e), with
    # <f_em> = 1 - E^-0.17 = 0.42 at the signal's typical 25 GeV of hadronic energy [PDG/Groom].
    "lkr_hadron_response": {"h_over_e": 0.5, "h_over_e_unc": 0.1, "f_em": 0.421},  # [est]
    "muv_hadron_response": {"h_over_e": 0.7, "h_over_e_unc": 0.1, "f_em": 0.421},  # [est]
    "muv_scale": {"unc": 0.05},        # MUV1/MUV2 hadronic scale after MIP calibration [est]
    "straw_scale": {"unc": 0.001},     # spectrometer momentum scale (K3pi mass calib.) [est]
    "muon_id": {
        "edges": [0.0, 10.0, 20.0, 80.0],  # GeV/c, muon momentum
        "unc": [0.010, 0.005, 0.003],      # data/sim scale factor uncertainty [est]
    },
    "control_trigger": {"unc": 0.005},  # Kmu2 control-line efficiency, data/sim [est]
}


# ----------------------------------------------------------------------------- helpers
def _syst_input() -> cs.Variable:
    return cs.Variable(name="syst", type="string",
                       description="variation: nominal, up or down")


def _by_syst(contents: dict[str, Any]) -> cs.Category:
    """A category node on ``syst`` with exactly nominal/up/down and no default."""
    return cs.Category(nodetype="category", input="syst",
                       content=[cs.CategoryItem(key=k, value=contents[k]) for k in SYSTS])


def _scale(name: str, unc: float, what: str, source: str) -> cs.Correction:
    """A flat multiplicative scale 1 +- unc (shape systematic)."""
    return cs.Correction(
        name=name, version=1,
        description=f"{what}: multiplicative scale, nominal 1, up/down 1 +- {unc:g}. {source}",
        inputs=[_syst_input()],
        output=cs.Variable(name="scale", type="real", description="factor on the column"),
        data=_by_syst({"nominal": 1.0, "up": 1.0 + unc, "down": 1.0 - unc}))


def hadron_response_unc(name: str) -> float:
    """Relative change of a calorimeter's reading of a hadronic shower when its h/e moves by
    its uncertainty: (1 - f_em) dh / (f_em + (1 - f_em) h/e)."""
    p = INPUTS[name]
    f = p["f_em"]
    return (1.0 - f) * p["h_over_e_unc"] / (f + (1.0 - f) * p["h_over_e"])


def _binned(inp: str, edges: list[float], values: list[float]) -> cs.Binning:
    return cs.Binning(nodetype="binning", input=inp, edges=edges, content=values, flow="clamp")


# ----------------------------------------------------------------------------- physics.json
def sigma_cc_ratio() -> cs.Correction:
    p = INPUTS["sigma_cc"]
    rel = [math.hypot(math.hypot(p["pdg_rel_unc"], p["isoscalar_rel_unc"]), s)
           for s in p["shape_rel_unc"]]
    rel = [round(r, 6) for r in rel]
    return cs.Correction(
        name="sigma_cc_ratio", version=1,
        description=("nu_mu CC cross-section sigma/E relative to the simulation's "
                     f"{p['sim_sigma_over_e'] / 1e-38:g}e-38 cm^2/GeV per nucleon [PDG]; nominal 1; up/down "
                     "= PDG 2.1 % (+) Kr isoscalar 0.3 % (+) energy dependence below 30 GeV "
                     "[est]. See docs/corrections.md."),
        inputs=[cs.Variable(name="e_nu", type="real", description="true neutrino energy (GeV)"),
                _syst_input()],
        output=cs.Variable(name="ratio", type="real", description="sigma/E over the sim's"),
        data=_by_syst({
            "nominal": 1.0,
            "up": _binned("e_nu", p["edges"], [1.0 + r for r in rel]),
            "down": _binned("e_nu", p["edges"], [1.0 - r for r in rel]),
        }))


# ----------------------------------------------------------------------------- detector.json
def trigger_lkr_eff() -> cs.Correction:
    p = INPUTS["trigger_lkr"]
    expr = "[0]*0.5*(1+erf((x-[1])/[2]))"

    def turn_on(threshold: float) -> cs.Formula:
        return cs.Formula(nodetype="formula", expression=expr, parser="TFormula",
                          variables=["e_lkr"],
                          parameters=[p["plateau"], threshold, p["width"] * math.sqrt(2.0)])

    t, d = p["threshold"], p["threshold_unc"]
    return cs.Correction(
        name="trigger_lkr_eff", version=1,
        description=(f"LKr energy trigger turn-on: plateau*0.5*(1+erf((E-E0)/(sqrt2*w))), "
                     f"E0={t:g} GeV, w={p['width']:g} GeV, plateau={p['plateau']:g} [est]; "
                     f"up/down: E0 -/+ {d:g} GeV [est]. Efficiency (weight)."),
        inputs=[cs.Variable(name="e_lkr", type="real",
                            description="LKr energy seen by the trigger (GeV)"),
                _syst_input()],
        output=cs.Variable(name="eff", type="real", description="trigger efficiency"),
        data=_by_syst({"nominal": turn_on(t), "up": turn_on(t - d), "down": turn_on(t + d)}))


def trigger_muv3_tile_eff() -> cs.Correction:
    p = INPUTS["trigger_muv3"]
    edges = [-0.5, p["n_outer"] - 0.5, p["n_tiles"] - 0.5]

    def effs(shift: float) -> cs.Binning:
        vals = [round(min(1.0, p["outer_eff"] + shift), 6), round(min(1.0, p["inner_eff"] + shift), 6)]
        return cs.Binning(nodetype="binning", input="tile", edges=edges, content=vals,
                          flow="error")

    return cs.Correction(
        name="trigger_muv3_tile_eff", version=1,
        description=(f"MUV3 tile efficiency for a muon: outer tiles {p['outer_eff']:g}, inner "
                     f"{p['inner_eff']:g} [est]; up/down +- {p['unc']:g} [est]. Weight, one "
                     "factor per required hit. A tile id outside 0..151 is an error."),
        inputs=[cs.Variable(name="tile", type="int", description="MUV3 tile id (0..151)"),
                _syst_input()],
        output=cs.Variable(name="eff", type="real", description="tile efficiency"),
        data=_by_syst({"nominal": effs(0.0), "up": effs(p["unc"]), "down": effs(-p["unc"])}))


def muon_id_sf() -> cs.Correction:
    p = INPUTS["muon_id"]
    return cs.Correction(
        name="muon_id_sf", version=1,
        description=("muon identification (MUV3 match, E/p(LKr) < 0.2) efficiency, data/sim "
                     "scale factor vs p_mu: nominal 1, up/down 1 +- "
                     f"{'/'.join(f'{u:g}' for u in p['unc'])} in p bins {p['edges']} GeV/c "
                     "(clamped outside) [est]. Weight."),
        inputs=[cs.Variable(name="p_mu", type="real", description="muon momentum (GeV/c)"),
                _syst_input()],
        output=cs.Variable(name="sf", type="real", description="data/sim scale factor"),
        data=_by_syst({
            "nominal": 1.0,
            "up": _binned("p_mu", p["edges"], [1.0 + u for u in p["unc"]]),
            "down": _binned("p_mu", p["edges"], [1.0 - u for u in p["unc"]]),
        }))


def control_trigger_sf() -> cs.Correction:
    u = INPUTS["control_trigger"]["unc"]
    return cs.Correction(
        name="control_trigger_sf", version=1,
        description=("Kmu2 control-trigger efficiency, data/sim scale factor (normalisation): "
                     f"nominal 1, up/down 1 +- {u:g} [est]. Weight on the normalisation sample."),
        inputs=[_syst_input()],
        output=cs.Variable(name="sf", type="real", description="data/sim scale factor"),
        data=_by_syst({"nominal": 1.0, "up": 1.0 + u, "down": 1.0 - u}))


def build() -> dict[str, cs.CorrectionSet]:
    """Every correction set nutag ships, by file stem (the stem names the C++ namespace)."""
    physics = cs.CorrectionSet(
        schema_version=2,
        description="nutag physics corrections: neutrino CC cross-section (built by "
                    "corrections/build_corrections.py; see docs/corrections.md)",
        corrections=[sigma_cc_ratio()])
    detector = cs.CorrectionSet(
        schema_version=2,
        description="nutag detector corrections: trigger efficiencies, energy and momentum "
                    "scales, muon ID, normalisation (built by corrections/build_corrections.py; "
                    "see docs/corrections.md)",
        corrections=[
            trigger_lkr_eff(), trigger_muv3_tile_eff(),
            _scale("lkr_energy_scale", INPUTS["lkr_scale"]["unc"], "LKr cluster energy scale",
                   "EM scale known to ~0.1 % [NA62]; hadronic response of the simulation "
                   "vs data +-2 % [est]."),
            _scale("muv_energy_scale", INPUTS["muv_scale"]["unc"], "MUV1/MUV2 energy scale",
                   "MIP-calibrated [NA62]; hadronic scale +-5 % [est]."),
            _scale("lkr_hadron_response", round(hadron_response_unc("lkr_hadron_response"), 4),
                   "LKr response to hadronic showers (non-compensation)",
                   "h/e = 0.5 +- 0.1 of the shower model [est], at <f_em> = 0.42 (25 GeV)."),
            _scale("muv_hadron_response", round(hadron_response_unc("muv_hadron_response"), 4),
                   "MUV1/MUV2 response to hadronic showers (non-compensation)",
                   "h/e = 0.7 +- 0.1 of the shower model [est], at <f_em> = 0.42 (25 GeV)."),
            _scale("straw_momentum_scale", INPUTS["straw_scale"]["unc"],
                   "STRAW spectrometer momentum scale",
                   "calibrated on the K3pi mass [NA62]; residual +-0.1 % [est]."),
            muon_id_sf(), control_trigger_sf(),
        ])
    return {"physics": physics, "detector": detector}


def render(cset: cs.CorrectionSet) -> str:
    """Deterministic JSON text: explicit fields only, fixed key order, trailing newline."""
    return json.dumps(cset.model_dump(mode="json", exclude_unset=True), indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outdir", type=Path, default=HERE, help="where to write (default: here)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if a file differs from a fresh build")
    args = ap.parse_args(argv)
    stale = []
    for stem, cset in build().items():
        text = render(cset)
        cs.CorrectionSet.model_validate_json(text)  # round trip through the schema
        path = args.outdir / f"{stem}.json"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale (run python corrections/build_corrections.py): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
