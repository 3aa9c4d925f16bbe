"""Systematic variations with RDataFrame Vary: hand-computed shifts, all in one event loop.

The file written here has 80 events, k = 0..79:
  straw_pz = {40 + 0.25 k}   lkr_e = {2.0, 0.1 k}   weight = 1 + 0.01 k   tiles = {k, k+1}
so sum(weight) = 80 + 0.01 * 3160 = 111.6, and every expectation below is worked out by hand.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import correctionlib.schemav2 as schema
import pytest

from nutag.engine.corrections import declare_corrections
from nutag.core.errors import ConfigError
from nutag.core.rootenv import import_root
from nutag.engine.systematics import (Source, Systematics, book_variations, load_systematics,
                               parse_systematics, propagate, systematic_markdown,
                               systematic_table, variation_values)
from nutag.config.analysis import Loc, load_yaml

REPO = Path(__file__).resolve().parents[1]
MC = SimpleNamespace(name="sig", kind="mc")
DATA = SimpleNamespace(name="data", kind="data")
SUMW = 111.6


def _syst(values: dict[str, object]) -> schema.Category:
    return schema.Category(nodetype="category", input="syst", content=[
        schema.CategoryItem(key=k, value=values[k]) for k in ("nominal", "up", "down")])


def _bins(inp: str, edges: list[float], content: list[float]) -> schema.Binning:
    return schema.Binning(nodetype="binning", input=inp, edges=edges, content=content,
                          flow="clamp")


def _corr(name: str, inputs: list[tuple[str, str]], data: object) -> schema.Correction:
    return schema.Correction(name=name, version=1, output=schema.Variable(name="o", type="real"),
                             inputs=[schema.Variable(name=n, type=t) for n, t in inputs]
                             + [schema.Variable(name="syst", type="string")], data=data)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Declare the test corrections (set 'systtest') and write the 80-event file."""
    d = tmp_path_factory.mktemp("syst")
    cset = schema.CorrectionSet(schema_version=2, corrections=[
        _corr("pscale", [], _syst({"nominal": 1.0, "up": 1.02, "down": 0.98})),
        _corr("wsf", [], _syst({"nominal": 0.95, "up": 1.0, "down": 0.9})),
        _corr("escale", [("e", "real")], _syst({
            "nominal": 1.0, "up": _bins("e", [0, 5, 100], [1.0, 1.1]),
            "down": _bins("e", [0, 5, 100], [1.0, 0.9])})),
        _corr("teff", [("tile", "int")], _syst({"nominal": 0.5, "up": 1.0, "down": 0.25})),
        _corr("pw", [("p", "real")], _syst({
            "nominal": _bins("p", [0, 10, 100], [1.0, 2.0]),
            "up": _bins("p", [0, 10, 100], [1.0, 3.0]),
            "down": _bins("p", [0, 10, 100], [1.0, 1.0])})),
        _corr("zeff", [("p", "real")], _syst({
            "nominal": _bins("p", [0, 10, 100], [0.0, 1.0]),
            "up": _bins("p", [0, 10, 100], [0.5, 1.0]),
            "down": _bins("p", [0, 10, 100], [0.0, 0.5])})),
    ])
    (d / "systtest.json").write_text(cset.model_dump_json(exclude_unset=True))
    declare_corrections([d / "systtest.json"])
    ROOT = import_root()
    path = str(d / "events.root")
    (ROOT.RDataFrame(80).Define("k", "int(rdfentry_)")
     .Define("straw_pz", "ROOT::RVecD{40.0 + 0.25 * k}")
     .Define("lkr_e", "ROOT::RVecD{2.0, 0.1 * k}")
     .Define("weight", "1.0 + 0.01 * k")
     .Define("is_sig", "k % 2 == 0")
     .Define("muv3_tile", "ROOT::RVecI{k, k + 1}")
     .Snapshot("nutag", path, ["k", "straw_pz", "lkr_e", "weight", "is_sig", "muv3_tile"]))
    return path


def _df(path: str):
    return import_root().RDataFrame("nutag", path)


def _src(name: str, kind: str, corr: str, **kw) -> Source:
    return Source(name=name, kind=kind, correction=f"systtest.{corr}",
                  columns=tuple(kw.pop("columns", ())), inputs=kw.pop("inputs", {}),
                  applies_to=tuple(kw.pop("applies_to", ("mc",))), **kw)


def _values(result) -> dict[str, float]:
    return variation_values(book_variations([result])[0])


# --------------------------------------------------------------------------- shape
def test_momentum_scale_moves_known_events_across_a_cut(events: str) -> None:
    # cut 40 + 0.25k > 50: k > 40 -> 39 events; x1.02: 40 + 0.25k > 49.0196 -> k >= 37 -> 43;
    # x0.98: 40 + 0.25k > 51.0204 -> k >= 45 -> 35
    syst = Systematics([_src("pscale", "shape", "pscale", columns=["straw_pz"])],
                       weight_column="weight", weight2_column=None)
    node = syst.apply_variations(_df(events), MC).Filter("straw_pz[0] > 50.0")
    assert _values(node.Count()) == {"nominal": 39, "pscale:up": 43, "pscale:down": 35}
    # weights of k = 41..79: 39 + 0.01 * (41 + 79) * 39 / 2 = 62.4
    assert _values(node.Sum("weight"))["nominal"] == pytest.approx(62.4)


def test_elementwise_shape_scales_only_elements_above_5(events: str) -> None:
    # sum of all clusters: 80 * 2.0 + 0.1 * 3160 = 476; clusters >= 5 GeV are 0.1k, k >= 50:
    # 0.1 * (50 + 79) * 30 / 2 = 193.5 -> up 476 + 19.35, down 476 - 19.35
    syst = Systematics([_src("escale", "shape", "escale", columns=["lkr_e"],
                             inputs={"e": "{x}"})], weight_column="weight")
    node = syst.apply_shapes(_df(events), MC).Define("e_tot", "ROOT::VecOps::Sum(lkr_e)")
    got = _values(node.Sum("e_tot"))
    assert got == pytest.approx({"nominal": 476.0, "escale:up": 495.35, "escale:down": 456.65})


# --------------------------------------------------------------------------- weights
def test_weight_correction_scales_sum_of_weights_exactly(events: str) -> None:
    syst = Systematics([_src("wsf", "weight", "wsf")], weight_column="weight")
    got = _values(syst.apply_weights(_df(events), MC).Sum("weight"))
    assert got["nominal"] == pytest.approx(0.95 * SUMW, rel=1e-12)
    assert got["wsf:up"] == pytest.approx(SUMW, rel=1e-12)
    assert got["wsf:down"] == pytest.approx(0.9 * SUMW, rel=1e-12)
    off = _values(_df(events).Sum("weight"))  # correction off: untouched, no variations
    assert off == {"nominal": pytest.approx(SUMW)}


def test_nominal_false_varies_relative_to_nominal(events: str) -> None:
    syst = Systematics([_src("wsf", "weight", "wsf", nominal=False)], weight_column="weight")
    got = _values(syst.apply_weights(_df(events), MC).Sum("weight"))
    assert got == pytest.approx({"nominal": SUMW, "wsf:up": SUMW / 0.95,
                                 "wsf:down": SUMW * 0.9 / 0.95})


def test_nominal_false_is_one_where_the_nominal_is_zero(events: str) -> None:
    # zeff(p), p = straw_pz[0] - 40 = 0.25k: nominal 0 below p = 10 (k < 40) -> factor 1 there
    # (not 0/0); above: up 1/1, down 0.5/1 on sum w(k >= 40) = 63.8
    syst = Systematics([_src("z", "weight", "zeff", inputs={"p": "straw_pz[0] - 40.0"},
                             nominal=False)], weight_column="weight")
    got = _values(syst.apply_weights(_df(events), MC).Sum("weight"))
    assert got == pytest.approx({"nominal": SUMW, "z:up": SUMW, "z:down": SUMW - 0.5 * 63.8})


def test_when_restricts_the_weight(events: str) -> None:
    # even k: 40 + 0.01 * 1560 = 55.6, odd k: 56.0 -> 0.95 * 55.6 + 56.0 = 108.82
    syst = Systematics([_src("wsf", "weight", "wsf", when="is_sig")], weight_column="weight")
    got = _values(syst.apply_weights(_df(events), MC).Sum("weight"))
    assert got == pytest.approx({"nominal": 108.82, "wsf:up": SUMW, "wsf:down": 106.04})


def test_over_multiplies_one_factor_per_element(events: str) -> None:
    # two tiles per event: 0.5^2, 1^2, 0.25^2
    syst = Systematics([_src("teff", "weight", "teff", inputs={"tile": "{x}"},
                             over="muv3_tile")], weight_column="weight")
    got = _values(syst.apply_weights(_df(events), MC).Sum("weight"))
    assert got == pytest.approx({"nominal": 0.25 * SUMW, "teff:up": SUMW,
                                 "teff:down": 0.0625 * SUMW})


def test_sample_not_listed_is_untouched(events: str) -> None:
    syst = Systematics([_src("wsf", "weight", "wsf"),
                        _src("pscale", "shape", "pscale", columns=["straw_pz"])],
                       weight_column="weight")
    df = _df(events)
    assert syst.apply_variations(df, DATA) is df
    named = Systematics([_src("wsf", "weight", "wsf", applies_to=["sig"])], weight_column="weight")
    assert _values(named.apply_weights(_df(events), MC).Sum("weight"))["nominal"] == \
        pytest.approx(0.95 * SUMW)


# --------------------------------------------------------------------------- everything at once
def test_all_variations_in_one_event_loop(events: str) -> None:
    """Shapes, analysis column, weights, several results: one loop, correlated as expected.

    p = straw_pz[0] - 40 (= 0.25k) feeds the weight pw(p): factor 2 (up 3, down 1) for p >= 10.
    nominal p >= 10 <=> k >= 40; pscale:up k >= 37; pscale:down k >= 45 (see the cut test).
    sum w, k = 40..79: 63.8; k = 37..79: 67.94; k = 45..79: 56.7.
    """
    syst = Systematics([
        _src("pscale", "shape", "pscale", columns=["straw_pz"]),
        _src("escale", "shape", "escale", columns=["lkr_e"], inputs={"e": "{x}"}),
        _src("pw", "weight", "pw", inputs={"p": "p"}),
        _src("wsf", "weight", "wsf"),
    ], weight_column="weight", weight2_column="w2")
    df = _df(events)
    node = syst.apply_shapes(df, MC)
    node = node.Define("w2", "weight * weight").Define("p", "straw_pz[0] - 40.0")
    node = node.Define("e_tot", "ROOT::VecOps::Sum(lkr_e)")
    node = syst.apply_weights(node, MC)
    cut = node.Filter("straw_pz[0] > 50.0")
    booked = [node.Sum("weight"), cut.Count(), node.Sum("e_tot"), node.Sum("w2"),
              node.Histo1D(("h", "", 4, 40.0, 60.0), "straw_pz", "weight")]
    maps = book_variations(booked)
    sumw, count, etot, sumw2, hist = (variation_values(m, convert=lambda v: v) for m in maps)
    assert df.GetNRuns() == 1
    # RDataFrame lists only the variations a result depends on: escale moves no weight
    assert set(sumw) == {"nominal", *(f"{s}:{t}" for s in ("pscale", "pw", "wsf")
                                      for t in ("up", "down"))}
    base = SUMW + 63.8
    assert sumw["nominal"] == pytest.approx(0.95 * base)
    assert sumw["pscale:up"] == pytest.approx(0.95 * (SUMW + 67.94))
    assert sumw["pscale:down"] == pytest.approx(0.95 * (SUMW + 56.7))
    assert sumw["pw:up"] == pytest.approx(0.95 * (SUMW + 2 * 63.8))
    assert sumw["pw:down"] == pytest.approx(0.95 * SUMW)
    assert sumw["wsf:up"] == pytest.approx(base)
    assert dict(count) == {"nominal": 39, "pscale:up": 43, "pscale:down": 35}
    assert etot["escale:up"] == pytest.approx(495.35) and etot["nominal"] == pytest.approx(476.0)
    # w2 is redefined from the corrected weight: sum of (0.95 w f)^2, f = 2 for k >= 40
    w2 = sum((0.95 * (1 + 0.01 * k) * (2.0 if k >= 40 else 1.0)) ** 2 for k in range(80))
    assert sumw2["nominal"] == pytest.approx(w2)
    # every nominal straw_pz (40..59.75) is inside the histogram range [40, 60)
    assert hist["nominal"].Integral() == pytest.approx(sumw["nominal"])
    assert hist["wsf:up"].Integral() == pytest.approx(sumw["wsf:up"])
    assert df.GetNRuns() == 1


# --------------------------------------------------------------------------- tables
def test_systematic_table_by_hand() -> None:
    t = systematic_table(10.0, {"nominal": 10.0, "a:up": 10.3, "a:down": 9.6,
                                "b:up": 10.4, "b:down": 10.1})
    assert t["sources"]["a"]["up"] == pytest.approx(0.3)
    assert t["sources"]["a"]["down"] == pytest.approx(-0.4)
    assert t["total_up"] == pytest.approx((0.3 ** 2 + 0.4 ** 2) ** 0.5)   # 0.5
    assert t["total_down"] == pytest.approx(0.4)                          # b has no down shift
    assert t["total"] == pytest.approx((0.4 ** 2 + 0.4 ** 2) ** 0.5)
    assert t["rel_total"] == pytest.approx(t["total"] / 10.0)
    md = systematic_markdown({"N_sig": t})
    assert "| a | +3 % / -4 % |" in md and "**total**" in md


def test_propagate_correlates_samples() -> None:
    # N = signal / norm: a source on both cancels, a source on one does not
    sig = {"nominal": 2.0, "x:up": 2.2, "y:up": 2.0}
    norm = {"nominal": 4.0, "x:up": 4.4}
    got = propagate(lambda s, n: s / n, {"s": sig, "n": norm})
    assert got == pytest.approx({"nominal": 0.5, "x:up": 0.5, "y:up": 0.5})
    got = propagate(lambda s, n: s / n, {"s": {"nominal": 2.0, "z:up": 3.0}, "n": norm})
    assert got["z:up"] == pytest.approx(0.75) and got["x:up"] == pytest.approx(2.0 / 4.4)


# --------------------------------------------------------------------------- YAML
def test_shipped_systematics_config_validates() -> None:
    declare_corrections(sorted((REPO / "corrections").glob("*.json")))
    sources = load_systematics(REPO / "configs" / "systematics.yaml")
    assert {s.name for s in sources} >= {"sigma_cc", "straw_scale", "lkr_scale", "muon_id",
                                         "control_trigger"}
    Systematics(sources).validate()


@pytest.mark.parametrize("text,match", [
    ("- {name: a, kind: shape, correction: systtest.pscale}\n", "needs the columns"),
    ("- {name: a, kind: wieght, correction: systtest.wsf}\n", "did you mean 'weight'"),
    ("- {name: a, kind: weight, correction: wsf}\n", "is not <set>.<name>"),
    ("- {name: a, kind: weight, correction: systtest.wsf}\n"
     "- {name: a, kind: weight, correction: systtest.wsf}\n", "duplicate"),
    ("- name: a\n  kind: weight\n  corection: systtest.wsf\n", ":4: systematics\\[0\\].corection"),
])
def test_yaml_errors_name_file_and_line(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("systematics:\n" + "\n".join("  " + ln for ln in text.splitlines()) + "\n")
    with pytest.raises(ConfigError, match=match):
        parse_systematics(load_yaml(f)["systematics"], str(f))


def test_validate_against_declared_corrections(events: str) -> None:
    with pytest.raises(ConfigError, match="no correction 'nope'"):
        Systematics([_src("a", "weight", "nope")]).validate()
    with pytest.raises(ConfigError, match="not given \\['p'\\]"):
        Systematics([_src("a", "weight", "pw")]).validate()
    with pytest.raises(ConfigError, match="needs 'over'"):
        Systematics([_src("a", "weight", "teff", inputs={"tile": "{x}"})]).validate()
    syst = Systematics([_src("a", "shape", "pscale", columns=["strawpz"])])
    with pytest.raises(ConfigError, match="did you mean 'straw_pz'"):
        syst.apply_shapes(_df(events), MC)


def test_bad_expression_is_a_config_error_at_the_source(events: str) -> None:
    src = Source("bad", "weight", "systtest.pw", (), {"p": "no_such_column + 1"}, ("mc",),
                 loc=Loc("s.yaml", 7))
    with pytest.raises(ConfigError, match="s.yaml:7: systematics.bad: .*does not compile"):
        Systematics([src], weight_column="weight").apply_weights(_df(events), MC)
