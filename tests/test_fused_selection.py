"""A fused selection (one compiled kernel per sample, nutag.engine.compiled) means exactly what the
node-per-cut graph means.

Why: the fused kernel replaces every Define and Filter of a compiled sample by one Define that
evaluates the cut tree of all booked regions as straight-line code, and every cutflow row by
one action. It is the default wherever the whole graph compiles, so it must give the same
numbers bit for bit (cutflows, Kahan-summed weights, histogram bins), compute a column only
for the events on which the node graph would (a column may be undefined elsewhere), and keep
a blind region's cuts out of the event loop of data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import toy_samples  # noqa: E402

from nutag.engine import compiled, cpp, graph, routes

from nutag.config import analysis as config  # noqa: E402
from nutag.core.rootenv import import_root  # noqa: E402

#: regions sharing leading cuts (r, s and all share beam; s extends r), a blind region, a
#: column that only exists behind its guard (straw_px.at(1) throws for the toys' one track,
#: whose straw_n is 1: evaluated anywhere else, the loop fails), a column of a column, a
#: weighted histogram and a 2D one
TREE = """\
columns:
  p_k:       {expr: "std::sqrt(gtk_px * gtk_px + gtk_py * gtk_py + gtk_pz * gtk_pz)"}
  n_pos:     {expr: "(int)Sum(straw_charge > 0)"}
  second_px: {expr: "straw_px.at(1)"}
  pk2:       {expr: "p_k * 2.0"}
cuts:
  beam:   {expr: "p_k > 72.0 && p_k < 78.0"}
  one:    {expr: "n_pos == 1"}
  two:    {expr: "straw_n > 1"}
  second: {expr: "second_px > 0.0"}
  high:   {expr: "pk2 > 150.5"}
regions:
  r:   {cuts: [beam, one]}
  s:   {cuts: [beam, one, high]}
  t:   {cuts: [beam, two, second], blind: true}
  all: {cuts: [beam]}
histograms:
  p_k:    {x: p_k, bins: [30, 72.0, 78.0], regions: [r, s, all]}
  n_pos:  {x: n_pos, bins: [4, 0, 4], weight: p_k}
  second: {x: second_px, bins: [4, 0, 4], regions: [t]}
  px_pk:  {x: gtk_px, bins: [20, -0.2, 0.2], y: p_k, ybins: [6, 72.0, 78.0], regions: [s]}
"""


def test_cut_tree_shares_leading_cuts() -> None:
    """Rows in booking order, one per distinct cut prefix, parents first; each region's path
    starts at (all) and ends at the row of its whole cut list."""
    tree = compiled.CutTree.of([("r", ["a", "b"]), ("s", ["a", "b", "c"]), ("t", ["a", "d"]),
                                ("u", ["b"]), ("v", ["a", "b"])], "(all)")
    assert tree.rows == ((-1, "(all)"), (0, "a"), (1, "b"), (2, "c"), (1, "d"), (0, "b"))
    assert tree.regions == {"r": (0, 1, 2), "s": (0, 1, 2, 3), "t": (0, 1, 4), "u": (0, 5),
                            "v": (0, 1, 2)}
    assert tree.cuts() == {"a", "b", "c", "d"}


@pytest.fixture(scope="module", autouse=True)
def compile_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One compile cache for the module (NUTAG_COMPILE_CACHE): every test here compiles the
    selection TREE for the toys, and the same library serves all that ask for it (the
    compiler costs 15-40 s per library). No test here checks the cache itself
    (tests/test_compiled_selection.py does)."""
    cache = tmp_path_factory.mktemp("fused_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NUTAG_COMPILE_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="module")
def tree_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The selection TREE in one file for the module: a library's source names the file it
    was generated from, so a copy of the selection at another path is compiled again."""
    path = tmp_path_factory.mktemp("fused_selection") / "tree.yaml"
    path.write_text(TREE)
    return path


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fused_toy")
    toy_samples.write_dataset(d / "toy", n=1200, seed=11)
    return d


def _graph(toy: Path, tree: Path, kind: str, fuse: str, monkeypatch: pytest.MonkeyPatch,
           blinded: bool = False) -> graph.SampleGraph:
    monkeypatch.setenv("NUTAG_COMPILE", "on")
    monkeypatch.setenv("NUTAG_FUSE", fuse)
    samples = config.load_samples(toy / "toy" / "samples.yaml")
    sample = next(s for s in samples.values() if s.kind == kind)
    return graph.build_graph(sample, config.load_selection([tree]),
                             blinded=blinded, declare=cpp.load_cpp)


def _bins(hist: Any) -> list[tuple[float, float]]:
    return [(hist.GetBinContent(i), hist.GetBinError(i)) for i in range(hist.GetNcells())]


def _numbers(graphs: list[graph.SampleGraph]) -> dict[str, Any]:
    import_root().RDF.RunGraphs([r for g in graphs for r in g.booked])
    out: dict[str, Any] = {}
    for g in graphs:
        assert int(g.df.GetNRuns()) == 1
        for name, reg in g.regions.items():
            out[f"{name}/cutflow"] = [(e.cut, e.values()) for e in reg.cutflow]
            for h, ptr in reg.histos.items():
                out[f"{name}/{h}"] = _bins(ptr.GetValue())
    return out


def test_one_action_and_region_filters_made_on_demand(
        toy: Path, tree_yaml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cutflow row and every histogram of every region is filled by the kernel's one
    action, the histograms read through views that behave as ``RResultPtr``; no
    Filter is booked until a region's node is asked for (RDataFrame evaluates every named
    Filter for every event, used or not), and then one per region, shared by regions ending at
    the same cutflow row."""
    g = _graph(toy, tree_yaml, "mc", "auto", monkeypatch)
    assert len(g.booked) == 1  # the cutflow and the histograms: one action
    views = [ptr for reg in g.regions.values() for ptr in reg.histos.values()]
    assert len(views) == 9 and all(isinstance(v, compiled.FusedHistogram) for v in views)
    assert list(g.df.GetFilterNames()) == []
    assert not views[0].IsReady()
    count = g.regions["r"].node.Count()
    assert list(g.df.GetFilterNames()) == ["r"]
    assert g.regions["r"].node is g.regions["r"].node
    import_root().RDF.RunGraphs([*g.booked, count])
    assert int(g.df.GetNRuns()) == 1 and views[0].IsReady()
    p_k = g.regions["r"].histos["p_k"]
    assert p_k.GetEntries() == count.GetValue() == g.regions["r"].cutflow[-1].values()[0]
    assert p_k.GetName() == f"{g.name}__r__p_k"  # other attributes: the histogram's
    px_pk = g.regions["s"].histos["px_pk"].GetValue()
    assert px_pk.GetDimension() == 2 and px_pk.GetEntries() > 0


def test_blind_cuts_are_not_in_the_data_kernel(toy: Path, compile_cache: Path,
                                               tree_yaml: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated kernel of blinded data evaluates no cut of the blind region alone (the
    kernels of unblinded graphs in the module's cache evaluate ``two``)."""
    _graph(toy, tree_yaml, "data", "auto", monkeypatch, blinded=True)
    sources = [p.read_text() for p in compile_cache.glob("nutag_sel_*.cxx")]
    kernels = [s[s.index("void rows("):] for s in sources if "void rows(" in s]
    blind = [k for k in kernels if "_two(" not in k]
    assert blind, "a data kernel without the blind region's cuts was generated"
    assert all("_second(" not in k and "_high(" in k for k in blind)



@pytest.fixture(scope="module")
def toy_chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toys as RNTuple (as `nutag simulate` writes them), each sample a chain of two
    files of different length, so that entries map to files by the chain's entry offsets."""
    d = tmp_path_factory.mktemp("fused_chain")
    for part, (n, seed) in {"a": (700, 21), "b": (1100, 22)}.items():
        toy_samples.write_dataset(d / part, n=n, seed=seed)
        toy_samples.to_rntuple(d / part)
    toy_samples.write_chain_samples(d, 1800)
    return d


def _chain_graph(toy: Path, tree: Path, kind: str, fuse: str, direct: str,
                 monkeypatch: pytest.MonkeyPatch, blinded: bool = False) -> graph.SampleGraph:
    monkeypatch.setenv("NUTAG_DIRECT_READ", direct)
    monkeypatch.setenv("NUTAG_COMPILE", "on")
    monkeypatch.setenv("NUTAG_FUSE", fuse)
    sample = next(s for s in config.load_samples(toy / "samples.yaml").values()
                  if s.kind == kind)
    return graph.build_graph(sample, config.load_selection([tree]),
                             blinded=blinded, declare=cpp.load_cpp)


def test_weighted_mc_fused_equals_node_per_cut(toy_chain: Path, tree_yaml: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Weighted MC (Kahan sums) through the fused kernel, reading its RNTuple inputs itself
    over a chain of two files and fed by RDataFrame's readers, against the node-per-cut
    graph: every cutflow row and histogram bin bit-identical; the guarded column is never
    computed outside its guard (the loop would throw std::out_of_range).

    The real analysis runs every route against one reference in tests/test_equality_matrix.py,
    blinded data included; there the MC samples have systematic sources and are never fused,
    so the fused kernel's weighted sums are checked here, on the toy selection TREE. Covers the
    mc-False cases of test_fused_equals_node_per_cut and test_direct_read_equals_rdataframe_read
    (their data-True cases: the matrix)."""
    direct = _chain_graph(toy_chain, tree_yaml, "mc", "auto", "auto", monkeypatch)
    through = _chain_graph(toy_chain, tree_yaml, "mc", "auto", "off", monkeypatch)
    nodes = _chain_graph(toy_chain, tree_yaml, "mc", "off", "auto", monkeypatch)
    assert direct.direct_read and not through.direct_read and not nodes.direct_read
    # each graph names the route it took and why (recorded in the provenance)
    assert direct.route == f"{routes.FUSED_DIRECT} (RNTuple input)"
    assert through.route == f"{routes.FUSED_RDF} (NUTAG_DIRECT_READ=off)"
    assert nodes.route == f"{routes.NODE_PER_CUT} (NUTAG_FUSE=off)"
    for fused in (direct, through):
        assert {e.mode for reg in fused.regions.values() for e in reg.cutflow} == {graph.FUSED}
        assert len(fused.booked) == 1  # one action instead of one per cutflow row and histogram
        assert "t" in fused.regions and fused.blinded_regions == []
    assert {e.mode for reg in nodes.regions.values() for e in reg.cutflow} == {graph.SUMS}
    a = _numbers([direct])
    assert a == _numbers([through]) == _numbers([nodes])
    # the rows of the one fused action: (all), beam, one, high, two, second
    assert [len(g.regions["r"].cutflow[0].source.GetValue()) for g in (direct, through)] == [6, 6]
    assert a["r/cutflow"][0][1][0] == 1800  # (all): both files, 700 + 1100 events
    assert 0 < a["s/cutflow"][-1][1][0] < a["r/cutflow"][-1][1][0]
    assert a["r/cutflow"][-1][1][1] != a["r/cutflow"][-1][1][0]  # really weighted
    assert a["t/cutflow"][-1][1][0] == 0


def test_direct_read_with_two_threads(toy_chain: Path, tree_yaml: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processing slots, each with its own reader, moving between the chain's files: the
    counts of the single-threaded run exactly, the weighted sums to rounding (the slots' partial
    sums are merged in another order)."""
    ROOT = import_root()
    reference = _numbers([_chain_graph(toy_chain, tree_yaml, "mc", "off", "off", monkeypatch)])
    ROOT.EnableImplicitMT(2)
    try:
        g = _chain_graph(toy_chain, tree_yaml, "mc", "auto", "auto", monkeypatch)
        assert g.direct_read and int(g.df.GetNSlots()) == 2
        mt = _numbers([g])
    finally:
        ROOT.DisableImplicitMT()
    assert set(mt) == set(reference)
    for key, rows in reference.items():
        if not key.endswith("/cutflow"):  # histogram bins: (content, error)
            flat = [v for b in rows for v in b]
            assert [v for b in mt[key] for v in b] == pytest.approx(flat, rel=1e-12, abs=1e-12)
            continue
        for (cut, ref), (cut_mt, got) in zip(rows, mt[key]):
            assert cut == cut_mt and got[0] == ref[0]
            assert got[1] == pytest.approx(ref[1], rel=1e-12)
            assert got[2] == pytest.approx(ref[2], rel=1e-12)


def test_tree_input_is_read_through_rdataframe(toy_chain: Path, tmp_path: Path,
                                               tree_yaml: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A TTree sample cannot be read through RNTuple views: the kernel falls back to
    RDataFrame's readers, with the same numbers as the kernel reading the RNTuple chain."""
    ROOT = import_root()
    d = tmp_path / "tree"
    d.mkdir()
    for part in ("a", "b"):  # the same events as TTree (RDataFrame's default Snapshot format)
        ROOT.RDataFrame("nutag", str(toy_chain / part / "data.root")).Snapshot(
            "nutag", str(d / f"{part}.root"))
    (d / "samples.yaml").write_text(
        "samples:\n  data: {kind: data, files: [a.root, b.root], meta: {n_kaon_decays: 1.0e6, "
        "control_downscaling: 100.0}}\n")
    tree = _chain_graph(d, tree_yaml, "data", "auto", "auto", monkeypatch, blinded=True)
    chain = _chain_graph(toy_chain, tree_yaml, "data", "auto", "auto", monkeypatch, blinded=True)
    assert not tree.direct_read and chain.direct_read
    # the route is chosen before booking, by probing the files; the reason names the file
    assert tree.route == (f"{routes.FUSED_RDF} (the input is not an RNTuple holding every "
                          "input column, e.g. a TTree: no RNTuple named 'nutag' in file "
                          f"'{d / 'a.root'}')")
    assert tree.regions["r"].cutflow[-1].mode == graph.FUSED
    assert _numbers([tree]) == _numbers([chain])
