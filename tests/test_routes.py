"""nutag.engine.routes: the route a sample's graph took is named with the reason a user can act on
(the graphs of tests/test_fused_selection.py check the real routes end to end)."""

from __future__ import annotations

from types import SimpleNamespace

from nutag.engine import routes


def _compiled(fused: bool, direct_read: bool = False, jitted: tuple[str, ...] = ()):
    return SimpleNamespace(fused=object() if fused else None, direct_read=direct_read,
                           plan=SimpleNamespace(jitted=list(jitted)))


def _describe(**kw) -> str:
    facts = dict(distributed=False, compile_mode="auto", compiled=None, sources=False,
                 extra_columns=False, fusable_cutflow=True, fuse_mode="auto",
                 own_dataframe=False, direct_read_mode="auto")
    facts.update(kw)
    return routes.describe(**facts)


def test_jitted_routes_say_why() -> None:
    assert _describe(distributed=True, compiled=_compiled(True)).startswith(
        "jitted (distributed RDataFrame")
    assert _describe(compile_mode="off") == "jitted (NUTAG_COMPILE=off)"
    assert "compiler failed" in _describe(compile_mode="auto")


def test_fused_routes_say_how_the_inputs_are_read() -> None:
    assert _describe(compiled=_compiled(True, direct_read=True)) == \
        f"{routes.FUSED_DIRECT} (RNTuple input)"
    assert _describe(compiled=_compiled(True), own_dataframe=True) == \
        f"{routes.FUSED_RDF} (the dataframe is a chunk's or a partial run's)"
    assert _describe(compiled=_compiled(True), direct_read_mode="off") == \
        f"{routes.FUSED_RDF} (NUTAG_DIRECT_READ=off)"
    assert "not an RNTuple" in _describe(compiled=_compiled(True))


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
