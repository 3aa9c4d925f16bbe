"""The cheap cutflow bookings give the numbers of Count + Sum(w) + Sum(w^2), bit for bit.

Why bit for bit and not approx: the cutflow's last row is the yield every result and reference
test reads, and 1-thread/2-thread/backend comparisons use ==. Weights here are NOT dyadic (so a
different summation order or a missing Kahan step would show), include zeros (a row must count
zero-weight events) and negative values.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from nutag.engine import graph
from nutag.engine.graph import ACTIONS, SUMS, UNIT, CutflowEntry, book_cutflow_row, cutflow_mode
from nutag.core.rootenv import import_root

N = 20000
WEIGHT_EXPR = ("rdfentry_ % 7 == 0 ? 0.0 : "
               "(rdfentry_ % 5 == 0 ? -0.3 : 1.0) * (0.1 + 1e-3 * ((rdfentry_ * 7919) % 1009) / 3.0)")


def _book(ROOT, weight: str) -> tuple[object, list[tuple[CutflowEntry, CutflowEntry]]]:
    df = ROOT.RDataFrame(N)
    node = (df.Define("x", "double((rdfentry_ * 104729) % 1000) / 1000.")
            .Define(graph.WEIGHT, f"static_cast<double>({weight})")
            .Define(graph.WEIGHT2, f"{graph.WEIGHT} * {graph.WEIGHT}"))
    pairs = []
    for i, cut in enumerate(["x > 0.1", "x < 0.8", "x > 0.45"]):
        node = node.Filter(cut, f"c{i}")
        mode = SUMS if weight != "1.0" else UNIT
        pairs.append((book_cutflow_row(ROOT, f"c{i}", node, mode),
                      book_cutflow_row(ROOT, f"c{i}", node, ACTIONS)))
    return df, pairs


@pytest.mark.parametrize("weight", [WEIGHT_EXPR, "1.0"])
def test_one_action_per_cut_equals_three(weight: str) -> None:
    ROOT = import_root()
    df, pairs = _book(ROOT, weight)
    ROOT.RDF.RunGraphs([r for pair in pairs for e in pair for r in e.results])
    assert df.GetNRuns() == 1
    for cheap, full in pairs:
        assert cheap.values() == full.values(), cheap.cut  # exact, not approx
        assert len(cheap.results) == 1 and len(full.results) == 3
    assert pairs[-1][0].values()[0] > 0


def test_zero_weights_are_counted() -> None:
    ROOT = import_root()
    df = ROOT.RDataFrame(10).Define(graph.WEIGHT, "0.0")
    e = book_cutflow_row(ROOT, "all", df, SUMS)
    assert e.values() == (10, 0.0, 0.0)


def test_variations_of_the_cutflow_action() -> None:
    """VariationsFor of the one-action row varies sum w exactly as it varies Sum(w)."""
    ROOT = import_root()
    df = ROOT.RDataFrame(N)
    node = (df.Define("x", "double((rdfentry_ * 104729) % 1000) / 1000.")
            .Define("w0", f"static_cast<double>({WEIGHT_EXPR})")
            .Vary("w0", "ROOT::RVecD{w0 * 0.9, w0 * 1.1}", ["down", "up"], "wsf")
            .Define(graph.WEIGHT, "w0").Define(graph.WEIGHT2, f"{graph.WEIGHT} * {graph.WEIGHT}")
            .Filter("x > 0.3"))
    cheap = book_cutflow_row(ROOT, "c", node, SUMS)
    full = book_cutflow_row(ROOT, "c", node, ACTIONS)
    vfor = ROOT.RDF.Experimental.VariationsFor
    maps = [vfor(cheap.sumw_result), vfor(full.sumw_result)]
    ROOT.RDF.RunGraphs([*cheap.results, *full.results])
    got = [{str(k): graph.sumw_of(m[k]) for k in m.GetKeys()} for m in maps]
    assert set(got[0]) == {"nominal", "wsf:down", "wsf:up"}
    assert got[0] == got[1]
    assert got[0]["nominal"] == cheap.values()[1]


def test_multithreaded_equals_three_actions() -> None:
    """With 2 threads each slot's partial sums and their merge follow ROOT's SumHelper."""
    code = textwrap.dedent("""
        from nutag.core.rootenv import import_root
        ROOT = import_root()
        ROOT.EnableImplicitMT(2)
        import tests.test_cutflow_booking as t
        df, pairs = t._book(ROOT, t.WEIGHT_EXPR)
        ROOT.RDF.RunGraphs([r for pair in pairs for e in pair for r in e.results])
        assert df.GetNSlots() == 2, df.GetNSlots()
        for cheap, full in pairs:
            assert cheap.values() == full.values(), (cheap.values(), full.values())
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ok" in out.stdout


def test_cutflow_mode() -> None:
    assert cutflow_mode("data", varied=False, distributed=False) == UNIT
    assert cutflow_mode("data", varied=False, distributed=True) == UNIT
    assert cutflow_mode("data", varied=True, distributed=False) == SUMS
    assert cutflow_mode("mc", varied=False, distributed=False) == SUMS
    assert cutflow_mode("mc", varied=True, distributed=True) == ACTIONS
