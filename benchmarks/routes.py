"""nutag's execution routes as the benchmark races them, and the switches that select them.

Why: the same YAML selection runs on several routes with identical results (nutag.engine.routes):
jitted by cling, compiled with one RDataFrame node per cut, or fused into one compiled kernel
fed by RDataFrame's column readers or reading its RNTuple inputs itself. The benchmark races
nutag itself on each of them rather than hand-made copies of what nutag generates, so a ratio
in BENCHMARKS.md is always the ratio of code a user runs. A route is chosen by the run's
environment (NUTAG_COMPILE, NUTAG_FUSE, NUTAG_DIRECT_READ), and the job checks that the graph
took the route it asked for (:func:`check`): a silent fallback to the JIT would otherwise be
raced under a compiled route's name.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from nutag.engine.routes import FUSED_DIRECT, FUSED_RDF, JIT, NODE_PER_CUT

SWITCHES = ("NUTAG_COMPILE", "NUTAG_FUSE", "NUTAG_DIRECT_READ")


@dataclass(frozen=True)
class Route:
    """One way of running the selection: its switches and what nutag must report for it."""

    #: NUTAG_COMPILE, NUTAG_FUSE, NUTAG_DIRECT_READ in this order; "" leaves a switch unset
    switches: tuple[str, str, str]
    #: the start of nutag.engine.routes.choose_route()'s answer on RNTuple input ("" = not checked)
    expect: str
    #: what the tables call it
    label: str

    def env(self) -> dict[str, str]:
        """The switches as environment variables (unset ones are absent)."""
        return {k: v for k, v in zip(SWITCHES, self.switches) if v}


#: compiled routes ask for NUTAG_COMPILE=on: a compiler failure fails the job instead of
#: racing the JIT under their name
ROUTES: dict[str, Route] = {
    "fused": Route(("on", "auto", "auto"), FUSED_DIRECT,
                   "fused kernel reading its RNTuple inputs itself (the default)"),
    "rdfread": Route(("on", "auto", "off"), FUSED_RDF,
                     "fused kernel fed by RDataFrame's column readers (NUTAG_DIRECT_READ=off)"),
    "node": Route(("on", "off", "auto"), NODE_PER_CUT,
                  "compiled, one RDataFrame node per column and cut (NUTAG_FUSE=off)"),
    "jit": Route(("off", "auto", "auto"), JIT,
                 "jitted by cling, one node per column and cut (NUTAG_COMPILE=off)"),
    # nutag's own choice with every switch at its default: what the TTree copy gets
    "auto": Route(("", "", ""), "", "nutag's choice for the input (switches at their defaults)"),
}

#: the routes raced besides the default one (each on 1 and 2 threads)
OTHER_ROUTES = ("rdfread", "node", "jit")


def select(route: str, environ: MutableMapping[str, str]) -> None:
    """Set ``route``'s switches in ``environ`` and clear the others (a switch exported in the
    user's shell must not change what the benchmark races)."""
    for name in SWITCHES:
        environ.pop(name, None)
    environ.update(ROUTES[route].env())


def check(route: str, described: str) -> None:
    """Raise if the graph did not take ``route`` (``described``: its nutag.engine.routes text)."""
    expect = ROUTES[route].expect
    if expect and not described.startswith(expect):
        raise RuntimeError(f"route {route!r} asked for {expect!r} but nutag took {described!r}")


def job_name(route: str, threads: int) -> str:
    """Name of a race entry: ``nutag-1`` for the default route, ``nutag-node-2`` etc."""
    return f"nutag-{threads}" if route == "fused" else f"nutag-{route}-{threads}"
