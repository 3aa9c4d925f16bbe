"""Corrections and systematics wired into the engine: graph, one event loop, results, report.

The small files written here have 80 events, k = 0..79:
  x = 40 + 0.25 k    e = 0.1 k    weight = 1 + 0.01 k    flag = (k even)
and the selection (written here too) defines ee = 2 e, cuts x > 50 ("high") and flag ("even").
The correction set 'sysint' holds
  xscale  (shape on x):   1 / 1.02 / 0.98          nominal / up / down
  escale  (shape on e):   1 / 1.10 / 0.90
  wsf     (weight):       0.95 / 1.0 / 0.90
  eff(ee) (weight, reads the analysis column ee):  1 below ee = 10, above 0.8 / 1.0 / 0.6
Expectations are worked out by hand where short (sum of weights of k = 41..79 is 62.4) and
otherwise by :func:`expected`, a plain-Python evaluation of the same definitions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import correctionlib.schemav2 as schema
import pytest
import yaml

from nutag.config import analysis as config

from nutag.engine import graph, run

from nutag.results import physics as results
from nutag.engine.corrections import declare_corrections
from nutag.core.errors import ConfigError
from nutag.core.rootenv import import_root
from nutag.engine.systematics import Source, Systematics

REPO = Path(__file__).resolve().parents[1]
N = 80
SCALES = {"xscale": (1.0, 1.02, 0.98), "escale": (1.0, 1.10, 0.90), "wsf": (0.95, 1.0, 0.90)}
EFF_HIGH = (0.8, 1.0, 0.6)
TAGS = ("nominal", "up", "down")

SELECTION = """\
columns:
  xx: "x"
  ee: "2.0 * e"
  sf_check: "nutag_corr::sysint::wsf(\\"nominal\\")"
cuts:
  high: "xx > 50.0"
  even: "flag"
regions:
  high: {cuts: [high]}
  box: {cuts: [high, even], blind: true}
histograms:
  h_x: {x: xx, bins: [4, 40.0, 60.0]}
"""
SOURCES = [
    Source("xscale", "shape", "sysint.xscale", ("x",), {}, ("mc",)),
    Source("escale", "shape", "sysint.escale", ("e",), {}, ("mc",)),
    Source("wsf", "weight", "sysint.wsf", (), {}, ("mc",)),
    Source("eff", "weight", "sysint.eff", (), {"ee": "ee"}, ("mc",)),
]


def _const(name: str, values: tuple[float, float, float]) -> schema.Correction:
    return schema.Correction(
        name=name, version=1, inputs=[schema.Variable(name="syst", type="string")],
        output=schema.Variable(name="f", type="real"),
        data=schema.Category(nodetype="category", input="syst", content=[
            schema.CategoryItem(key=t, value=v) for t, v in zip(TAGS, values)]))


def _eff() -> schema.Correction:
    def above(v: float) -> schema.Binning:
        return schema.Binning(nodetype="binning", input="ee", edges=[0.0, 10.0, 1000.0],
                              content=[1.0, v], flow="clamp")

    return schema.Correction(
        name="eff", version=1, output=schema.Variable(name="f", type="real"),
        inputs=[schema.Variable(name="ee", type="real"),
                schema.Variable(name="syst", type="string")],
        data=schema.Category(nodetype="category", input="syst", content=[
            schema.CategoryItem(key=t, value=above(v)) for t, v in zip(TAGS, EFF_HIGH)]))


def expected(variation: str = "nominal", *, region: str = "high", corrections: bool = True
             ) -> tuple[int, float]:
    """(count, sum of weights) of a region under one variation, in plain Python."""
    src, _, tag = variation.partition(":")
    pick = {name: vals[TAGS.index(tag) if src == name else 0] for name, vals in SCALES.items()}
    eff_hi = EFF_HIGH[TAGS.index(tag) if src == "eff" else 0]
    n, sumw = 0, 0.0
    for k in range(N):
        x, e, w = 40.0 + 0.25 * k, 0.1 * k, 1.0 + 0.01 * k
        if corrections:
            x, e = x * pick["xscale"], e * pick["escale"]
            w *= pick["wsf"] * (eff_hi if 2.0 * e >= 10.0 else 1.0)
        if x > 50.0 and (region == "high" or k % 2 == 0):
            n, sumw = n + 1, sumw + w
    return n, sumw


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("sysint")
    cset = schema.CorrectionSet(schema_version=2, corrections=[
        *(_const(n, v) for n, v in SCALES.items()), _eff()])
    (d / "sysint.json").write_text(cset.model_dump_json(exclude_unset=True))
    declare_corrections([d / "sysint.json"])
    ROOT = import_root()
    for name in ("mc", "data"):
        (ROOT.RDataFrame(N).Define("k", "int(rdfentry_)").Define("x", "40.0 + 0.25 * k")
         .Define("e", "0.1 * k").Define("weight", "1.0 + 0.01 * k").Define("flag", "k % 2 == 0")
         .Snapshot("nutag", str(d / f"{name}.root"), ["k", "x", "e", "weight", "flag"]))
    (d / "samples.yaml").write_text(
        "samples:\n"
        "  mc: {kind: mc, files: [mc.root], weight: weight, meta: {n_generated: 80}}\n"
        "  data: {kind: data, files: [data.root]}\n")
    (d / "sel.yaml").write_text(SELECTION)
    return {"dir": d, "samples": config.load_samples(d / "samples.yaml"),
            "selection": config.load_selection([d / "sel.yaml"])}


def _run(inputs: dict, systematics: Systematics | None, blinded: bool = True) -> run.RunResults:
    graphs = [graph.build_graph(s, inputs["selection"], blinded=blinded, systematics=systematics)
              for s in inputs["samples"].values()]
    graph.book_variations(graphs)
    return run.run(graphs, 1)


# --------------------------------------------------------------------------- hand-computed
def test_expected_helper_matches_the_hand_numbers() -> None:
    # k = 41..79: 39 events, sum w = 39 + 0.01 * (41 + 79) * 39 / 2 = 62.4
    assert expected(corrections=False) == (39, pytest.approx(62.4))
    # xscale: 1.02 (40 + 0.25k) > 50 <=> k >= 37 (43 events); 0.98: k >= 45 (35 events)
    assert expected("xscale:up")[0] == 43 and expected("xscale:down")[0] == 35
    # wsf up (1.0) with eff nominal: ee = 0.2k >= 10 <=> k >= 50, sum w there
    # 30 + 0.01 * (50 + 79) * 30 / 2 = 49.35 -> 62.4 - 0.2 * 49.35 = 52.53
    assert expected("wsf:up")[1] == pytest.approx(52.53)
    assert expected()[1] == pytest.approx(0.95 * 52.53)


def test_correction_off_on_and_shifted(inputs: dict) -> None:
    off = _run(inputs, None).samples["mc"].regions["high"]
    assert off.cutflow[-1]["raw"] == 39
    assert off.cutflow[-1]["sumw"] == pytest.approx(62.4)
    assert off.variations == {}

    only_wsf = _run(inputs, Systematics([SOURCES[2]])).samples["mc"].regions["high"]
    assert only_wsf.cutflow[-1]["sumw"] == pytest.approx(0.95 * 62.4)         # on: nominal
    assert only_wsf.variations == pytest.approx(                              # shifted
        {"nominal": 0.95 * 62.4, "wsf:up": 62.4, "wsf:down": 0.90 * 62.4})
    assert only_wsf.cutflow[-1]["raw"] == 39


def test_every_source_against_the_plain_python_evaluation(inputs: dict) -> None:
    res = _run(inputs, Systematics(SOURCES)).samples["mc"]
    for region in ("high", "box"):
        out = res.regions[region]
        assert out.cutflow[-1]["raw"] == expected(region=region)[0]
        assert out.cutflow[-1]["sumw"] == pytest.approx(expected(region=region)[1])
        assert set(out.variations) == {"nominal"} | {f"{s.name}:{t}" for s in SOURCES
                                                       for t in ("up", "down")}
        for key, value in out.variations.items():
            assert value == pytest.approx(expected(key, region=region)[1]), (region, key)
    # the weight-squared column follows the corrected weight
    w2 = sum(((1 + 0.01 * k) * 0.95 * (0.8 if 0.2 * k >= 10 else 1.0)) ** 2 for k in range(41, N))
    assert res.regions["high"].cutflow[-1]["sumw2"] == pytest.approx(w2)


def test_all_variations_one_event_loop_and_blinding(inputs: dict) -> None:
    res = _run(inputs, Systematics(SOURCES), blinded=True)
    assert {n: s.n_runs for n, s in res.samples.items()} == {"mc": 1, "data": 1}
    data = res.samples["data"]
    assert data.blinded_regions == ["box"] and "box" not in data.regions
    assert all(out.variations == {} for out in data.regions.values())   # data never varied
    assert data.regions["high"].cutflow[-1]["sumw"] == 39.0
    # the histogram is filled with the nominal (corrected) weight
    h = res.samples["mc"].regions["high"].histos["h_x"]
    assert h.Integral(0, h.GetNbinsX() + 1) == pytest.approx(expected()[1])


# --------------------------------------------------------------------------- configuration
def test_analysis_yaml_systematics_inline_and_by_file(inputs: dict, tmp_path: Path) -> None:
    d = inputs["dir"]
    base = (f"name: t\nsamples: {d / 'samples.yaml'}\nselections: [{d / 'sel.yaml'}]\n"
            f"corrections: [{d / 'sysint.json'}]\n")
    (tmp_path / "inline.yaml").write_text(
        base + "systematics:\n  - {name: wsf, kind: weight, correction: sysint.wsf}\n")
    ana = config.load_analysis(tmp_path / "inline.yaml")
    assert [s.name for s in ana.systematics] == ["wsf"]
    assert ana.corrections == [str(d / "sysint.json")]
    (tmp_path / "s.yaml").write_text(
        "systematics:\n  - {name: xs, kind: shape, correction: sysint.xscale, columns: [x]}\n")
    (tmp_path / "byfile.yaml").write_text(base + "systematics: s.yaml\n")
    assert [s.name for s in config.load_analysis(tmp_path / "byfile.yaml").systematics] == ["xs"]
    (tmp_path / "missing.yaml").write_text(base + "systematics: nope.yaml\n")
    with pytest.raises(ConfigError, match="missing.yaml:5: systematics: .*does not exist"):
        config.load_analysis(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- results
def _doc(kmu2_var: dict, sig_var: dict, num_var: dict) -> dict:
    def y(raw: int, sumw: float) -> dict:
        return {"raw": raw, "sumw": sumw, "sumw2": sumw * sumw / max(raw, 1)}

    return {"samples": {
        "data": {"kind": "data", "meta": {"control_downscaling": 10.0}, "blinded_regions": [],
                 "yields": {"norm": y(1000, 1000.0), "sb": y(4, 4.0)}},
        "kmu2": {"kind": "mc", "meta": {"n_generated": 100}, "blinded_regions": [],
                 "yields": {"norm": y(50, 50.0)}, "variations": {"norm": kmu2_var}},
        "signal": {"kind": "mc", "meta": {"n_generated": 1000}, "blinded_regions": [],
                   "yields": {"sr": y(20, 2.0), "sb": y(0, 0.0)},
                   "variations": {"sr": sig_var}},
        "bkg": {"kind": "mc", "meta": {"n_generated": 10}, "blinded_regions": [],
                "yields": {"num": y(100, 1.0), "den": y(100, 10.0)},
                "variations": {"num": num_var}},
    }}


OPTIONS = {"normalisation": {"region": "norm", "data_sample": "data", "mc_sample": "kmu2"},
           "signal": {"sample": "signal", "region": "sr", "systematics": {"fixed_one": 0.03}},
           "backgrounds": {"b": {"sideband_region": "sb", "systematics": {"shape": 0.10},
                                 "extrapolation": {"numerator_region": "num",
                                                   "denominator_region": "den",
                                                   "samples": ["bkg"]}}}}


def test_results_propagate_correlated_variations_by_hand() -> None:
    # N_K = 1000 * 10 / (50 / 100) = 20000; N_sig = 20000 * 2 / 1000 = 40
    # eff: +10 % on kmu2 AND signal -> cancels in N_sig; N_K -> 20000 / 1.1
    # sig: +5 % / -5 % on the signal only; fixed_one: 3 % of 40 = 1.2
    # background: 4 x (1/10) = 0.4; nv: numerator +20 % -> +0.08; MC stat of the factor:
    # rel sqrt(1/100 + 1/100) -> 0.4 * 0.1414 = 0.0566; shape 10 % -> 0.04
    doc = _doc({"nominal": 50.0, "eff:up": 55.0, "eff:down": 45.0},
               {"nominal": 2.0, "eff:up": 2.2, "eff:down": 1.8, "sig:up": 2.1, "sig:down": 1.9},
               {"nominal": 1.0, "nv:up": 1.2})
    s = results.compute(doc, OPTIONS, blinded=True)
    assert s["n_kaon_decays"] == pytest.approx(20000.0) and s["n_sig"]["value"] == pytest.approx(40)
    t = s["systematics"]["n_sig"]["sources"]
    assert t["eff"]["up"] == pytest.approx(0.0, abs=1e-12)
    assert t["sig"]["up"] == pytest.approx(2.0) and t["sig"]["down"] == pytest.approx(-2.0)
    assert t["fixed_one"]["kind"] == "fixed" and t["fixed_one"]["max_abs"] == pytest.approx(1.2)
    assert t["sig"]["kind"] == "variation"
    assert s["n_sig"]["syst"] == pytest.approx((2.0 ** 2 + 1.2 ** 2) ** 0.5)
    nk = s["systematics"]["n_kaon_decays"]["sources"]["eff"]
    assert nk["up"] == pytest.approx(20000 / 1.1 - 20000)
    b = s["systematics"]["backgrounds"]["b"]
    assert b["nominal"] == pytest.approx(0.4)
    assert b["sources"]["nv"]["up"] == pytest.approx(0.08)
    assert b["sources"]["extrapolation_mc_stat"]["kind"] == "mc_stat"
    assert b["sources"]["shape"]["max_abs"] == pytest.approx(0.04)
    stat = 0.4 * (0.02 ** 0.5)
    total = (0.08 ** 2 + stat ** 2 + 0.04 ** 2) ** 0.5
    assert s["backgrounds"]["b"]["syst"] == pytest.approx(total)
    json.dumps(s, allow_nan=False)  # the summary stays valid JSON


# --------------------------------------------------------------------------- the main job
def test_main_job_writes_the_systematic_table(tmp_path: Path) -> None:
    """`nutag run` on the toy data set: the table in summary.json/.md, one loop per sample."""
    sys.path.insert(0, str(REPO / "tests"))
    import toy_samples  # noqa: PLC0415

    samples = toy_samples.write_dataset(tmp_path / "toy", n=800, seed=3)
    text = (REPO / "configs" / "default.yaml").read_text()
    text = text.replace("../data/default/samples.yaml", str(samples))
    (tmp_path / "analysis.yaml").write_text(text.replace("../", str(REPO) + "/"))
    env = dict(os.environ, PYTHONPATH=str(REPO / "analysis"))
    out = tmp_path / "res"
    proc = subprocess.run([sys.executable, "-m", "nutag.cli", "-q", "run",
                           str(tmp_path / "analysis.yaml"), "--threads", "2", "--output", str(out)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    assert set(s["provenance"]["n_runs"].values()) == {1}
    syst = s["systematics"]
    names = {src.name for src in config.load_systematics(REPO / "configs" / "systematics.yaml")}
    fixed = set(yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
                ["options"]["signal"].get("systematics") or {})
    assert set(syst["n_sig"]["sources"]) == names | fixed  # every source reaches N_sig
    assert s["n_sig"]["syst"] == pytest.approx(syst["n_sig"]["total"])
    for key, b in s["backgrounds"].items():
        if b["value"] is not None:
            table = syst["backgrounds"][key]
            assert b["syst"] == pytest.approx(table["total"])
            assert table["sources"]["relaxed_selection_shape"]["kind"] == "fixed"
    assert syst["published"] == {"n_sig": 0.009, "overlaid_kmu2": 0.004, "misreco": 0.001}
    md = (out / "summary.md").read_text()
    assert "## Systematic uncertainties" in md and "| sigma_cc |" in md
    assert "relaxed_selection_shape (fixed fraction)" in md
    stored = json.loads((out / "results.json").read_text())["doc"]["samples"]
    assert "variations" not in stored["data"]                # data are never varied
    assert "signal" not in stored["data"]["yields"]          # still blind
