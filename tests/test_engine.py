"""End-to-end engine test: 3 samples x 3 regions, one event loop, numbers checked by numpy.

Weights are multiples of 1/4 so every sum is exact in double precision in any order: that
is what lets 1-thread and 2-thread runs be compared bin by bin with ==.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nutag.config import analysis as config

from nutag.engine import graph, run
from nutag.core.rootenv import import_root

N = {"mc_a_0": 1500, "mc_a_1": 1300, "mc_b": 2000, "data": 2500}
SEEDS = {"mc_a_0": 1, "mc_a_1": 2, "mc_b": 3, "data": 4}

SAMPLES_YAML = """\
samples:
  mc_a: {kind: mc, files: ["mc_a_*.root"], weight: "tw", meta: {n_generated: 2800}}
  mc_b: {kind: mc, files: [mc_b.root], weight: "tw * 2"}
  data: {kind: data, files: [data.root], doc: pseudo-data}
"""
SELECTION_YAML = """\
columns:
  s: {expr: "Sum(trk)", unit: GeV, doc: "sum of the two track values"}
  half_tw: {expr: "tw * 0.5", kinds: [mc]}
cuts:
  c_p: "p > 5"
  c_n: {expr: "n >= 2", doc: "at least two tracks"}
  c_m: "abs(m2) < 0.5"
  c_side: "abs(m2) >= 0.5 && abs(m2) < 1.5"
regions:
  signal: {cuts: [c_p, c_n, c_m], blind: true}
  relaxed: {based_on: signal, drop: [c_n], blind: false}
  control: {cuts: [c_p, c_side]}
histograms:
  h_p: {x: p, bins: [20, 0, 20], title: "p;p [GeV]"}
  h_m2: {x: m2, bins: [-2, -1, -0.5, 0, 0.5, 1, 2], regions: [signal, relaxed, control]}
  h_2d: {x: p, y: m2, bins: [10, 0, 20], ybins: [8, -2, 2], regions: [relaxed]}
  h_w: {x: s, bins: [10, 0, 30], weight: n, regions: [control]}
  h_mc: {x: half_tw, bins: [10, 0, 5], kinds: [mc]}
"""
ANALYSIS_YAML = """\
name: engine-test
samples: samples.yaml
selections: [selection.yaml]
options: {blinded: true}
"""


def generate(name: str) -> dict[str, np.ndarray]:
    """Deterministic values; p and m2 on a grid that never hits a bin edge or a cut value."""
    rng = np.random.default_rng(SEEDS[name])
    n = N[name]
    cols = {
        "p": np.round(rng.uniform(0, 20, n), 2) + 0.003,
        "m2": np.round(rng.normal(0, 1.0, n), 2) + 0.0005,
        "n": rng.integers(0, 4, n).astype(np.int32),
        "tw": rng.integers(1, 9, n) * 0.25,
    }
    if name == "data":
        del cols["tw"]
    return cols


def write_inputs(d: Path) -> dict[str, dict[str, np.ndarray]]:
    ROOT = import_root()
    values = {}
    for name in N:
        cols = generate(name)
        values[name] = cols
        opts = ROOT.RDF.RSnapshotOptions()
        opts.fAutoFlush = 200  # many clusters: lets 2 threads really split the work
        df = ROOT.RDF.FromNumpy(dict(cols)).Define("trk", "ROOT::RVecD{p * 0.5, m2}")
        df.Snapshot("nutag", str(d / f"{name}.root"), list(cols) + ["trk"], opts)
    (d / "samples.yaml").write_text(SAMPLES_YAML)
    (d / "selection.yaml").write_text(SELECTION_YAML)
    (d / "analysis.yaml").write_text(ANALYSIS_YAML)
    return values


def histo_dump(h) -> dict:
    cells = range(h.GetNcells())
    return {"name": h.GetName(), "entries": h.GetEntries(),
            "content": [h.GetBinContent(i) for i in cells],
            "error": [h.GetBinError(i) for i in cells]}


def analyse(d: Path, threads: int, blinded: bool) -> dict:
    """Full pipeline in this process; returns a JSON-able summary."""
    run.configure_threads(threads)
    ana = config.load_analysis(d / "analysis.yaml")
    graphs = [graph.build_graph(s, ana.selection, blinded=blinded) for s in ana.samples.values()]
    res = run.run(graphs, threads)
    run.write_cutflows(res, d / f"out_{threads}_{int(blinded)}")
    return {name: {"n_runs": s.n_runs, "blinded_regions": s.blinded_regions,
                   "regions": {r: {"cutflow": o.cutflow,
                                   "histos": {h: histo_dump(v) for h, v in o.histos.items()}}
                               for r, o in s.regions.items()}}
            for name, s in res.samples.items()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("engine")
    return d, write_inputs(d)


@pytest.fixture(scope="module")
def unblinded(inputs):
    return analyse(inputs[0], 1, blinded=False)


def test_one_event_loop_per_sample(unblinded):
    assert set(unblinded) == {"mc_a", "mc_b", "data"}
    for s in unblinded.values():
        assert s["n_runs"] == 1


def hand_cutflow(v: dict[str, np.ndarray], w: np.ndarray, region: str) -> list[dict]:
    masks = {"c_p": v["p"] > 5, "c_n": v["n"] >= 2, "c_m": np.abs(v["m2"]) < 0.5,
             "c_side": (np.abs(v["m2"]) >= 0.5) & (np.abs(v["m2"]) < 1.5)}
    order = {"signal": ["c_p", "c_n", "c_m"], "relaxed": ["c_p", "c_m"],
             "control": ["c_p", "c_side"]}[region]
    mask = np.ones(len(w), bool)
    rows = [("(all)", mask.copy())]
    for cut in order:
        mask &= masks[cut]
        rows.append((cut, mask.copy()))
    return [{"cut": c, "raw": int(m.sum()), "sumw": float(w[m].sum()),
             "sumw2": float((w[m] ** 2).sum())} for c, m in rows]


def test_cutflows_match_numpy(inputs, unblinded):
    _, values = inputs
    cat = {k: np.concatenate([values["mc_a_0"][k], values["mc_a_1"][k]]) for k in values["mc_a_0"]}
    per_sample = {"mc_a": (cat, cat["tw"]), "mc_b": (values["mc_b"], values["mc_b"]["tw"] * 2),
                  "data": (values["data"], np.ones(N["data"]))}
    for name, (v, w) in per_sample.items():
        for region in ("signal", "relaxed", "control"):
            got = unblinded[name]["regions"][region]["cutflow"]
            assert got == hand_cutflow(v, w, region), (name, region)
    # one histogram against numpy as well (exact: weights are multiples of 1/4)
    v, w = per_sample["mc_b"]
    m = (v["p"] > 5) & (np.abs(v["m2"]) < 0.5)
    ref, _ = np.histogram(v["p"][m], bins=20, range=(0, 20), weights=w[m])
    h = unblinded["mc_b"]["regions"]["relaxed"]["histos"]["h_p"]
    assert h["content"][1:-1] == list(ref)
    v, _ = per_sample["data"]
    m = (v["p"] > 5) & (np.abs(v["m2"]) >= 0.5) & (np.abs(v["m2"]) < 1.5)
    ref, _ = np.histogram(0.5 * v["p"][m] + v["m2"][m], bins=10, range=(0, 30),
                          weights=v["n"][m].astype(float))
    assert np.allclose(unblinded["data"]["regions"]["control"]["histos"]["h_w"]["content"][1:-1],
                       ref, rtol=0, atol=0)


def test_histograms_booked_where_configured(unblinded):
    mc = unblinded["mc_a"]["regions"]
    assert set(mc["relaxed"]["histos"]) == {"h_p", "h_m2", "h_2d", "h_mc"}
    assert set(mc["control"]["histos"]) == {"h_p", "h_m2", "h_w", "h_mc"}
    assert "h_mc" not in unblinded["data"]["regions"]["control"]["histos"]
    assert len(mc["relaxed"]["histos"]["h_2d"]["content"]) == 12 * 10


def test_blinding(inputs, unblinded):
    ROOT = import_root()
    ana = config.load_analysis(inputs[0] / "analysis.yaml")
    g = graph.build_graph(ana.samples["data"], ana.selection, blinded=True)
    assert g.blinded_regions == ["signal"] and "signal" not in g.regions
    assert set(g.regions) == {"relaxed", "control"}
    # the blind region's cut chain is not in the data graph at all (no Filter named c_n)
    names = [str(n) for n in ROOT.RDF.AsRNode(g.df).GetFilterNames()]
    assert "c_n" not in names
    gmc = graph.build_graph(ana.samples["mc_a"], ana.selection, blinded=True)
    assert "signal" in gmc.regions and gmc.blinded_regions == []
    assert unblinded["data"]["blinded_regions"] == []
    assert unblinded["data"]["regions"]["signal"]["cutflow"][-1]["raw"] > 0


def test_cutflow_files(inputs, unblinded):
    out = inputs[0] / "out_1_0"
    doc = json.loads((out / "cutflows.json").read_text())
    assert doc["data"]["regions"]["signal"] == unblinded["data"]["regions"]["signal"]["cutflow"]
    md = (out / "cutflows.md").read_text()
    assert "## mc_b (mc) — relaxed" in md
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]


def _subprocess_main(directory: str, threads: int, out: str) -> None:
    """Entry point of the thread-count subprocesses (IMT is process-global)."""
    Path(out).write_text(json.dumps(analyse(Path(directory), threads, blinded=True)))


def test_threads_bin_identical(inputs):
    d = inputs[0]
    outs = {}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(config.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]))
    for threads in (1, 2):
        out = d / f"summary_{threads}.json"
        code = textwrap.dedent(f"""
            import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})
            import test_engine; test_engine._subprocess_main({str(d)!r}, {threads}, {str(out)!r})
        """)
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs[threads] = json.loads(out.read_text())
    assert outs[1] == outs[2]
    assert outs[2]["data"]["blinded_regions"] == ["signal"]
    assert "signal" not in outs[2]["data"]["regions"]
    assert all(s["n_runs"] == 1 for s in outs[2].values())


def test_extra_hook_books_per_region(inputs):
    ana = config.load_analysis(inputs[0] / "analysis.yaml")
    sample = ana.samples["mc_b"]

    def extra(region, node):
        return {"p": node.Take["double"]("p")}

    g = graph.build_graph(sample, ana.selection, blinded=True, extra=extra)
    assert g.df.GetNRuns() == 0
    res = run.run([g], 1).samples["mc_b"]
    assert res.n_runs == 1
    for region, out in res.regions.items():
        assert len(out.extras["p"]) == out.cutflow[-1]["raw"], region
        assert min(out.extras["p"]) > 5
