"""nutag.engine.routes: the route of a sample's graph is chosen before anything is booked and
named with the reason a user can act on (the graphs of tests/test_fused_selection.py and
tests/test_equality_matrix.py check the real routes end to end)."""

from __future__ import annotations

from types import SimpleNamespace

from nutag.engine import routes


def _compiled(fused: bool, jitted: tuple[str, ...] = (), why: dict[str, str] | None = None):
    return SimpleNamespace(fused=object() if fused else None,
                           plan=SimpleNamespace(jitted=list(jitted), jitted_why=why or {}))


def _describe(**kw) -> str:
    facts = dict(distributed=False, compile_mode="auto", compiled=None, sources=False,
                 extra_columns=False, fusable_cutflow=True, fuse_mode="auto",
                 own_dataframe=False, direct_read_mode="auto",
                 direct_read_problem=lambda: "no RNTuple named 'events' in file 'a.root'")
    facts.update(kw)
    return str(routes.choose_route(**facts))


def test_jitted_routes_say_why() -> None:
    assert _describe(distributed=True, compiled=_compiled(True)).startswith(
        "jitted (distributed RDataFrame")
    assert _describe(compile_mode="off") == "jitted (NUTAG_COMPILE=off)"
    assert "compiler failed" in _describe(compile_mode="auto")


def test_fused_routes_say_how_the_inputs_are_read() -> None:
    assert _describe(compiled=_compiled(True), direct_read_problem=lambda: "") == \
        f"{routes.FUSED_DIRECT} (RNTuple input)"
    assert _describe(compiled=_compiled(True), own_dataframe=True) == \
        f"{routes.FUSED_RDF} (the dataframe is a chunk's or a partial run's)"
    assert _describe(compiled=_compiled(True), direct_read_mode="off") == \
        f"{routes.FUSED_RDF} (NUTAG_DIRECT_READ=off)"
    assert _describe(compiled=_compiled(True)) == (
        f"{routes.FUSED_RDF} (the input is not an RNTuple holding every input column, e.g. a "
        "TTree: no RNTuple named 'events' in file 'a.root')")


def test_the_files_are_probed_only_when_the_kernel_could_read_them() -> None:
    """Opening every file of a sample costs time: the probe runs only for a fused kernel on
    the sample's own chain with direct reading allowed, and then exactly once."""
    calls: list[int] = []

    def probe() -> str:
        calls.append(1)
        return ""

    for facts in (dict(compile_mode="off"), dict(compiled=_compiled(False)),
                  dict(compiled=_compiled(True), own_dataframe=True),
                  dict(compiled=_compiled(True), direct_read_mode="off"),
                  dict(distributed=True, compiled=_compiled(True))):
        _describe(direct_read_problem=probe, **facts)
    assert calls == []
    route = routes.choose_route(
        distributed=False, compile_mode="auto", compiled=_compiled(True), sources=False,
        extra_columns=False, fusable_cutflow=True, fuse_mode="auto", own_dataframe=False,
        direct_read_mode="auto", direct_read_problem=probe)
    assert calls == [1]
    assert route.fused and route.name == routes.FUSED_DIRECT and route.reason == "RNTuple input"


def test_node_per_cut_names_what_prevented_fusing() -> None:
    node = _compiled(False)
    assert _describe(compiled=node, sources=True) == \
        f"{routes.NODE_PER_CUT} (systematic variations need one node per cut)"
    assert "correction columns" in _describe(compiled=node, extra_columns=True)
    assert "cutflow mode" in _describe(compiled=node, fusable_cutflow=False)
    assert _describe(compiled=node, fuse_mode="off") == f"{routes.NODE_PER_CUT} (NUTAG_FUSE=off)"
    left = _compiled(False, jitted=("corr_w", "p_corr"))
    assert _describe(compiled=left) == \
        f"{routes.NODE_PER_CUT} (2 expression(s) stay jitted: corr_w, p_corr)"
    assert _describe(compiled=left, sources=True) == (
        f"{routes.NODE_PER_CUT} (systematic variations need one node per cut; 2 expression(s) "
        "stay jitted)")
    why = _compiled(False, jitted=("corr_w",),
                    why={"corr_w": "uses nutag_corr::, declared to cling only"})
    assert _describe(compiled=why) == (f"{routes.NODE_PER_CUT} (1 expression(s) stay jitted: "
                                       "corr_w (uses nutag_corr::, declared to cling only))")
