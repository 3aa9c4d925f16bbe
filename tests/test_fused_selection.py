"""A fused selection (one compiled kernel per sample, nutag.compiled) means exactly what the
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
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import toy_samples  # noqa: E402

from nutag import compiled, config, cpp, graph  # noqa: E402
from nutag.rootenv import import_root  # noqa: E402

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


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fused_toy")
    toy_samples.write_dataset(d / "toy", n=1200, seed=11)
    (d / "tree.yaml").write_text(TREE)
    return d


def _graph(toy: Path, kind: str, fuse: str, monkeypatch: pytest.MonkeyPatch,
           blinded: bool = False) -> graph.SampleGraph:
    monkeypatch.setenv("NUTAG_COMPILE", "on")
    monkeypatch.setenv("NUTAG_FUSE", fuse)
    monkeypatch.setenv("NUTAG_COMPILE_CACHE", str(toy / "cache"))
    samples = config.load_samples(toy / "toy" / "samples.yaml")
    sample = next(s for s in samples.values() if s.kind == kind)
    return graph.build_graph(sample, config.load_selection([toy / "tree.yaml"]),
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


@pytest.mark.parametrize(("kind", "blinded"), [("mc", False), ("data", True)])
def test_fused_equals_node_per_cut(toy: Path, kind: str, blinded: bool,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Weighted MC (Kahan sums) and blinded data (counts): every cutflow row and histogram
    bin bit-identical; the guarded column is never computed outside its guard (the loop would
    throw std::out_of_range)."""
    fused = _graph(toy, kind, "auto", monkeypatch, blinded)
    nodes = _graph(toy, kind, "off", monkeypatch, blinded)
    rows = [e for reg in fused.regions.values() for e in reg.cutflow]
    assert {e.mode for e in rows} == {graph.FUSED}
    assert {e.mode for reg in nodes.regions.values() for e in reg.cutflow} == \
        {graph.SUMS if kind == "mc" else graph.UNIT}
    assert len(fused.booked) < len(nodes.booked)  # one cutflow action instead of one per row
    a, b = _numbers([fused]), _numbers([nodes])
    assert a == b
    assert a["s/cutflow"][-1][1][0] > 0 and a["s/cutflow"][-1][1][0] < a["r/cutflow"][-1][1][0]
    if kind == "mc":
        assert a["r/cutflow"][-1][1][1] != a["r/cutflow"][-1][1][0]  # really weighted
        assert a["t/cutflow"][-1][1][0] == 0
    # the rows of the one fused action: (all), beam, one, high (+ two, second unless blind)
    n_rows = len(rows[0].source.GetValue())
    assert n_rows == (4 if blinded else 6)
    assert ("t" in fused.regions) is not blinded and fused.blinded_regions == \
        (["t"] if blinded else [])


def test_blind_cuts_are_not_in_the_data_kernel(toy: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated kernel of blinded data evaluates no cut of the blind region alone."""
    _graph(toy, "data", "auto", monkeypatch, blinded=True)
    sources = [p.read_text() for p in (toy / "cache").glob("nutag_sel_*.cxx")]
    kernels = [s[s.index("void kernel("):] for s in sources if "void kernel(" in s]
    blind = [k for k in kernels if "_two(" not in k]
    assert blind, "a data kernel without the blind region's cuts was generated"
    assert all("_second(" not in k and "_high(" in k for k in blind)

