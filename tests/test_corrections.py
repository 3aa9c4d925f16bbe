"""corrections/*.json: built by the script, valid schema v2, evaluated in C++ inside the loop.

The C++ path is what the analysis uses, so the tests compare it with correctionlib's own Python
evaluator and with hand-computed sums of weights on a small file written here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import correctionlib
import correctionlib.schemav2 as schema
import pytest

from nutag.engine.corrections import (CorrectionError, correction_expr, corrections_payload,
                               cpp_literal, declare_corrections, declare_payload)
from nutag.core.rootenv import import_root

REPO = Path(__file__).resolve().parents[1]
CORR_DIR = REPO / "corrections"
SHIPPED = sorted(CORR_DIR.glob("*.json"))


def _builder():
    spec = importlib.util.spec_from_file_location("build_corrections",
                                                  CORR_DIR / "build_corrections.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _const_set(stem_desc: str, name: str, nominal: float, up: float, down: float) -> str:
    """A one-correction set returning a constant per syst value (hand-checkable)."""
    corr = schema.Correction(
        name=name, version=1, inputs=[schema.Variable(name="syst", type="string")],
        output=schema.Variable(name="w", type="real"),
        data=schema.Category(nodetype="category", input="syst", content=[
            schema.CategoryItem(key="nominal", value=nominal),
            schema.CategoryItem(key="up", value=up), schema.CategoryItem(key="down", value=down)]))
    return schema.CorrectionSet(schema_version=2, description=stem_desc,
                                corrections=[corr]).model_dump_json(exclude_unset=True)


# --------------------------------------------------------------------------- the files
def test_shipped_files_exist() -> None:
    assert {p.stem for p in SHIPPED} >= {"physics", "detector"}


def test_committed_json_equals_a_fresh_build() -> None:
    mod = _builder()
    for stem, cset in mod.build().items():
        assert (CORR_DIR / f"{stem}.json").read_text() == mod.render(cset), (
            f"corrections/{stem}.json is stale: run python corrections/build_corrections.py")


def test_build_is_deterministic() -> None:
    mod = _builder()
    assert {k: mod.render(v) for k, v in mod.build().items()} == \
           {k: mod.render(v) for k, v in mod.build().items()}


def test_build_script_check_mode(tmp_path: Path) -> None:
    script = str(CORR_DIR / "build_corrections.py")
    assert subprocess.run([sys.executable, script, "--check"]).returncode == 0
    assert subprocess.run([sys.executable, script, "--outdir", str(tmp_path)],
                          capture_output=True).returncode == 0
    assert (tmp_path / "physics.json").read_text() == (CORR_DIR / "physics.json").read_text()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_pydantic_schema_validates(path: Path) -> None:
    cset = schema.CorrectionSet.model_validate_json(path.read_text())
    assert cset.schema_version == 2 and cset.corrections


def test_correction_validate_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "correctionlib.cli", "validate", "--quiet",
                           *map(str, SHIPPED)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_correction_is_documented() -> None:
    doc = (REPO / "docs" / "corrections.md").read_text()
    for path in SHIPPED:
        for corr in json.loads(path.read_text())["corrections"]:
            assert f"`{corr['name']}`" in doc, f"{corr['name']} missing from docs/corrections.md"


def test_conventions_syst_last_and_nominal_values() -> None:
    ev = {p.stem: correctionlib.CorrectionSet.from_file(str(p)) for p in SHIPPED}
    for cset in ev.values():
        for name, corr in cset.items():
            assert corr.inputs[-1].name == "syst", name
    phys = ev["physics"]["sigma_cc_ratio"]
    for e in (5.0, 20.0, 52.09, 70.0):
        assert phys.evaluate(e, "nominal") == 1.0
        assert phys.evaluate(e, "up") > 1.0 > phys.evaluate(e, "down")
    # above 30 GeV: sqrt((0.014/0.677)^2 + 0.003^2) = sqrt(4.2764e-4 + 9e-6) = 2.0896 %
    assert phys.evaluate(52.09, "up") == pytest.approx(1.020896, abs=1e-6)
    det = ev["detector"]
    assert det["trigger_lkr_eff"].evaluate(10.0, "nominal") == pytest.approx(0.5)
    assert det["trigger_lkr_eff"].evaluate(11.0, "nominal") == pytest.approx(0.841345, abs=1e-6)
    assert det["straw_momentum_scale"].evaluate("up") == pytest.approx(1.001)
    with pytest.raises(Exception):
        det["lkr_energy_scale"].evaluate("sideways")  # no silent default


# --------------------------------------------------------------------------- C++ binding
def test_declare_is_idempotent_and_returns_handles() -> None:
    h1 = declare_corrections(SHIPPED)
    h2 = declare_corrections(SHIPPED)
    assert h1 == h2
    assert h1["detector"] == "nutag_corr::detector::cset"
    assert h1["detector.muon_id_sf"] == "nutag_corr::detector::muon_id_sf"
    ROOT = import_root()
    # 7 detector corrections + the shower model's two hadron responses
    assert ROOT.gInterpreter.Calc("(long)nutag_corr::detector::cset->size()") == 9


def test_same_stem_other_content_is_refused(tmp_path: Path) -> None:
    a = tmp_path / "a" / "clash.json"
    b = tmp_path / "b" / "clash.json"
    for p, v in ((a, 1.0), (b, 2.0)):
        p.parent.mkdir()
        p.write_text(_const_set("clash", "k", v, v, v))
    declare_corrections([a])
    declare_corrections([a])
    with pytest.raises(CorrectionError, match="already declared"):
        declare_corrections([b])


def test_payload_declares_without_files() -> None:
    payload = {"payloadtest": (_const_set("p", "k", 3.0, 4.0, 2.0), "<memory>")}
    handles = declare_payload(payload)
    ROOT = import_root()
    assert handles["payloadtest.k"] == "nutag_corr::payloadtest::k"
    assert ROOT.nutag_corr.payloadtest.k("up") == 4.0
    shipped = corrections_payload(SHIPPED)  # what a client sends to distributed workers
    assert set(shipped) == {p.stem for p in SHIPPED}
    assert declare_payload(shipped) == declare_corrections(SHIPPED)


def test_correction_expr_checks_inputs() -> None:
    declare_corrections(SHIPPED)
    assert correction_expr("detector", "muon_id_sf", {"syst": '"up"', "p_mu": "p"}) == \
        'nutag_corr::detector::muon_id_sf(p, "up")'
    assert correction_expr("physics", "sigma_cc_ratio", ["e", cpp_literal("down")]) == \
        'nutag_corr::physics::sigma_cc_ratio(e, "down")'
    with pytest.raises(CorrectionError, match="missing"):
        correction_expr("detector", "muon_id_sf", {"syst": '"up"'})
    with pytest.raises(CorrectionError, match="no correction"):
        correction_expr("detector", "muon_idsf", {})
    with pytest.raises(CorrectionError, match="not declared"):
        correction_expr("nosuchset", "x", {})


def test_cpp_matches_python_evaluator() -> None:
    """Every shipped correction, C++ (in an RDataFrame loop) vs correctionlib's Python."""
    declare_corrections(SHIPPED)
    ROOT = import_root()
    py = correctionlib.CorrectionSet.from_file(str(CORR_DIR / "detector.json"))
    phys = correctionlib.CorrectionSet.from_file(str(CORR_DIR / "physics.json"))
    df = ROOT.RDataFrame(152).Define("t", "int(rdfentry_)").Define("e", "0.5 * rdfentry_")
    cols = {}
    for s in ("nominal", "up", "down"):
        lit = cpp_literal(s)
        cols[f"lkr_{s}"] = f"nutag_corr::detector::trigger_lkr_eff(e, {lit})"
        cols[f"tile_{s}"] = f"nutag_corr::detector::trigger_muv3_tile_eff(t, {lit})"
        cols[f"mu_{s}"] = correction_expr("detector", "muon_id_sf", {"p_mu": "e", "syst": lit})
        cols[f"xs_{s}"] = correction_expr("physics", "sigma_cc_ratio", ["e", lit])
    for k, v in cols.items():
        df = df.Define(k, v)
    got = df.AsNumpy(list(cols))
    for i in range(152):
        e = 0.5 * i
        for s in ("nominal", "up", "down"):
            assert got[f"lkr_{s}"][i] == pytest.approx(py["trigger_lkr_eff"].evaluate(e, s))
            assert got[f"tile_{s}"][i] == py["trigger_muv3_tile_eff"].evaluate(i, s)
            assert got[f"mu_{s}"][i] == py["muon_id_sf"].evaluate(e, s)
            assert got[f"xs_{s}"][i] == phys["sigma_cc_ratio"].evaluate(e, s)


def test_weight_correction_scales_sum_of_weights_exactly(tmp_path: Path) -> None:
    """A 0.95 weight correction turned on scales sum(w) by 0.95; off leaves it alone."""
    ROOT = import_root()
    path = tmp_path / "wcorr.json"
    path.write_text(_const_set("weight test", "sf", 0.95, 1.0, 0.9))
    declare_corrections([path])
    f = str(tmp_path / "events.root")
    ROOT.RDataFrame(100).Define("weight", "1.0 + 0.01 * rdfentry_").Snapshot("nutag", f)
    df = ROOT.RDataFrame("nutag", f)
    expr = correction_expr("wcorr", "sf", ['"nominal"'])
    off = df.Sum("weight")
    on = df.Define("w_corr", f"weight * {expr}").Sum("w_corr")
    # hand-computed: sum_{i<100} (1 + 0.01 i) = 100 + 0.01 * 4950 = 149.5
    assert off.GetValue() == pytest.approx(149.5)
    assert on.GetValue() == pytest.approx(0.95 * 149.5)
    assert df.GetNRuns() == 1
