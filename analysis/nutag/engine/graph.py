"""Build the lazy RDataFrame computation graph of one sample: columns, cuts, regions, results.

Why everything is booked and nothing is run here: a full analysis must be ONE event loop
over every sample and region (``run.run`` calls ``RunGraphs`` once); a single ``GetValue``
while building would trigger a loop per call. Blinding is applied here, where the events
are read: while blinded, a data graph starts with the blind-box veto (:mod:`nutag.config.blinding`),
before its ``(all)`` row and every region, and a blind region is not booked for data at all.
"""

from __future__ import annotations

import functools
import logging
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..config.analysis import Binning, Cut, Histogram, Sample, Selection, check_expressions
from ..config.blinding import BLIND_VETO, BlindBox
from ..config.input_files import sample_dataframe
from ..core.fpe_guard import dividing_expressions
from ..core.options import RouteOptions
from ..core.rootenv import import_root
from .compiled import CutTree
from .cutflow_booking import (ACTIONS, FUSED, SUMS, UNIT, WEIGHT, WEIGHT2,  # noqa: F401
                              CutflowEntry, book_cutflow_row, cutflow_mode, sumw_of)
from .jit_booking import guarded as _guarded
from .jit_booking import jit_call as _jit
from .rdf_nodes import is_distributed
from .routes import FUSED_DIRECT, choose_route

if TYPE_CHECKING:
    from .systematics import Systematics

log = logging.getLogger("nutag.engine.graph")

ALL_CUT = "(all)"  # first cutflow row: the events read, before any cut

ExtraHook = Callable[[str, Any], Mapping[str, Any]]
DataFrameFactory = Callable[[Sample], Any]


@dataclass
class RegionResults:
    """Booked (not yet computed) results of one region of one sample.

    ``cutflow`` rows are :class:`CutflowEntry` after each cut, the first row ``ALL_CUT`` being
    before any cut. ``node`` is the dataframe after the last cut, made by ``make_node`` on
    first use: a fused graph fills its histograms without a region Filter, and RDataFrame
    evaluates every named Filter for every event even with nothing booked on it.
    """

    name: str
    histos: dict[str, Any]
    cutflow: list[CutflowEntry]
    make_node: Callable[[], Any]
    extras: dict[str, Any] = field(default_factory=dict)
    _node: Any = field(default=None, init=False, repr=False)

    @property
    def node(self) -> Any:
        if self._node is None:
            self._node = self.make_node()
        return self._node


@dataclass
class SampleGraph:
    """The graph of one sample; ``booked`` holds every result pointer, for ``RunGraphs``."""

    name: str
    kind: str
    df: Any
    regions: dict[str, RegionResults]
    blinded_regions: list[str]
    booked: list[Any]
    blinded: bool
    sample: Sample | None = None
    #: names of the systematic sources applied to this sample (empty: nominal only)
    sources: list[str] = field(default_factory=list)
    #: ``{region: RResultMap}`` of the final sum of weights, from :func:`book_variations`
    variations: dict[str, Any] = field(default_factory=dict)
    #: the fused kernel reads its inputs itself (RNTuple views), not through RDataFrame
    direct_read: bool = False
    #: the sample's YAML expressions that divide, "file:line: key: `expr`" (named if the loop
    #: stops on an integer division by zero: nutag.core.fpe_guard)
    dividing: list[str] = field(default_factory=list)
    #: makes the node every region starts from: the dataframe with the selection's columns,
    #: after the blind-box veto for blinded data (what an interactive user may book on)
    make_source: Callable[[], Any] | None = field(default=None, repr=False)
    #: the execution route and why (:mod:`nutag.engine.routes`), recorded in the provenance
    route: str = ""
    #: "file:line" of each of the selection's expressions, by key ("columns.NAME",
    #: "cuts.NAME"): where an expression that throws in the loop is, in THIS analysis (a
    #: compiled library shared with a copy of the analysis names the copy's; nutag.engine.run)
    locations: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> Any:
        """The node every region of this sample starts from (blinded data: the box removed)."""
        return self.make_source() if self.make_source is not None else self.df


def default_dataframe(sample: Sample) -> Any:
    """One local RDataFrame over all files of the sample, TTree or RNTuple alike, empty
    RNTuples left out (:func:`nutag.config.input_files.sample_dataframe`)."""
    return sample_dataframe(sample)


def _model(ROOT: Any, name: str, title: str, x: Binning, y: Binning | None) -> Any:
    def axis(b: Binning) -> tuple:
        return (b.n, array("d", b.edges)) if b.edges else (b.n, b.lo, b.hi)

    if y is None:
        return ROOT.RDF.TH1DModel(name, title, *axis(x))
    return ROOT.RDF.TH2DModel(name, title, *axis(x), *axis(y))


def _hist_weight_column(h: Histogram) -> str:
    return f"{WEIGHT}_x_{h.weight}" if h.weight else WEIGHT


def _compiled_selection(sample: Sample, selection: Selection, node: Any, route: RouteOptions,
                        veto: Cut | None = None, **extra: Any) -> Any:
    """The selection's columns and cuts (and the ``extra`` of :func:`nutag.engine.compiled.plan`:
    weights, histograms) compiled ahead of time for this sample's inputs
    (:mod:`nutag.engine.compiled`), or None: compile ``off``, or ``auto`` and it failed.
    ``veto``: the blind-box veto, compiled with the cuts."""
    from .compiled import applicable, prepare  # noqa: PLC0415

    columns, cuts = applicable(selection, sample)
    return prepare(columns, [*cuts, *((veto,) if veto else ())], node, mode=route.compile,
                   fusing=route.fuse, origin=", ".join(selection.files), **extra)


def blind_veto(sample: Sample, blinded: bool, box: BlindBox | None) -> Cut | None:
    """The Filter a sample's graph starts with: the blind-box veto for data while blinded."""
    if not blinded or sample.kind != "data":
        return None
    if box is None:
        log.warning("sample %s: the analysis declares no blind box (options.blind_box): only its "
                    "blind regions are hidden, other regions may read the box", sample.name)
        return None
    return Cut(BLIND_VETO, box.veto_expr,
               f"blinding: data events inside the blind box ({box.cut}) are never read",
               ("data",), box.loc)


def _apply_veto(node: Any, veto: Cut, aot: Any) -> Any:
    """``node`` without the blind box: a compiled Filter when the selection is compiled."""
    if aot is not None and aot.has_cut(veto.name):
        return aot.filter(node, veto.name)
    return _jit(lambda: node.Filter(veto.expr, veto.name), veto.loc, "options.blind_box",
                f"blind-box veto {veto.expr!r}")


def _book_node_per_cut(ROOT: Any, aot: Any, node: Any, regions: list[Any],
                       selection: Selection, mode: str, booked: list[Any]
                       ) -> tuple[dict[str, Any], dict[str, list[CutflowEntry]]]:
    """One Filter per cut and a cutflow row after each, regions sharing leading cuts sharing
    the nodes; returns each region's last node and its cutflow rows (``(all)`` first)."""
    total = book_cutflow_row(ROOT, ALL_CUT, node, mode, aot)
    booked += total.results
    prefixes: dict[tuple[str, ...], tuple[Any, CutflowEntry]] = {}
    nodes: dict[str, Any] = {}
    cutflows: dict[str, list[CutflowEntry]] = {}
    for region in regions:
        cur, cutflow = node, [total]
        for i, cut_name in enumerate(region.cuts):
            prefix = region.cuts[: i + 1]
            if prefix not in prefixes:  # regions sharing leading cuts share filter nodes
                cut = selection.cuts[cut_name]
                if aot is not None and aot.has_cut(cut_name):
                    nxt = aot.filter(cur, cut_name)
                else:
                    guarded = _guarded(cut.expr, cut.loc, f"cuts.{cut.name}")
                    nxt = _jit(lambda n=cur, c=cut, g=guarded: n.Filter(g, c.name), cut.loc,
                               f"cuts.{cut.name}", f"cut expression {cut.expr!r}")
                row = book_cutflow_row(ROOT, cut_name, nxt, mode, aot)
                booked += row.results
                prefixes[prefix] = (nxt, row)
            cur, row = prefixes[prefix]
            cutflow.append(row)
        nodes[region.name], cutflows[region.name] = cur, cutflow
    return nodes, cutflows


def _book_fused(aot: Any, node: Any, regions: list[Any], mode: str, booked: list[Any],
                models: list[tuple[str, str, Any]]
                ) -> tuple[dict[str, Callable[[], Any]], dict[str, list[CutflowEntry]],
                           dict[tuple[str, str], Any]]:
    """The fused kernel's graph: one action for every row of the cut tree and every histogram
    (``models``: region, histogram name, model) and, made when first asked for, one Filter per
    region on the row it ends at (regions ending at the same row share it). Returns each
    region's node factory, its cutflow rows and the views of the histograms."""
    tree = aot.fused
    sums, views = aot.fused_action(node, weighted=mode == SUMS, models=models)
    booked.append(sums)
    rows = [CutflowEntry(cut, FUSED, (), sums, k) for k, (_, cut) in enumerate(tree.rows)]
    filters: dict[int, Any] = {0: node}

    def region_node(row: int, name: str) -> Any:
        if row not in filters:
            filters[row] = aot.fused_region(node, row, name)
        return filters[row]

    nodes: dict[str, Callable[[], Any]] = {}
    cutflows: dict[str, list[CutflowEntry]] = {}
    for region in regions:
        path = tree.regions[region.name]
        nodes[region.name] = functools.partial(region_node, path[-1], region.name)
        cutflows[region.name] = [rows[k] for k in path]
    return nodes, cutflows, views


def build_graph(sample: Sample, selection: Selection, *, blinded: bool,
                declare: Callable[[], None] | None = None,
                extra_columns: Mapping[str, str] | None = None,
                extra: ExtraHook | None = None,
                make_df: DataFrameFactory | None = None,
                allowed: Iterable[str] = (),
                systematics: Systematics | None = None,
                blind_box: BlindBox | None = None,
                route: RouteOptions | None = None) -> SampleGraph:
    """Book every column, cut, histogram and weighted cutflow of one sample, lazily.

    ``declare`` is called before anything is JIT-compiled (e.g. ``nutag.engine.cpp.load_cpp``).
    ``extra_columns`` ({name: C++ expr}) are defined after the weight and before the
    selection columns (e.g. correction weights). ``extra(region, node)`` may book more
    results per region (returned dict goes to ``RegionResults.extras`` and must hold only
    result pointers). ``make_df`` builds the root dataframe (default: local RDataFrame;
    a distributed one for Dask). Expressions are checked against the input columns first.

    ``systematics`` (:class:`nutag.engine.systematics.Systematics`): its sources for this sample become
    RDataFrame ``Vary``s of the same graph. Shapes are applied to the root dataframe, before the
    weight and every column (a column defined before a ``Vary`` of its input never sees the
    variation); weights after the selection columns (their inputs may be analysis columns) and
    before the histogram-weight columns, the ``(all)`` row and the first ``Filter``. Data
    samples get none unless a source names them, so blind regions stay unbooked for data.

    ``blind_box`` (:mod:`nutag.config.blinding`): while ``blinded``, a data sample's events inside it
    are removed before the ``(all)`` row, every region, histogram and extra: no region can
    read them, whatever its cuts or their order.

    ``route`` (:class:`nutag.core.options.RouteOptions`): the run's switches for compiling and
    fusing the selection; None: as the environment says (an interactive session, the tests).
    """
    if route is None:
        route = RouteOptions.from_environment()
    ROOT = import_root()
    if declare is not None:
        declare()
    df = (make_df or default_dataframe)(sample)
    inputs = [str(c) for c in df.GetColumnNames()]
    check_expressions(sample, selection, inputs, extra_columns=extra_columns, allowed=allowed)
    kind, booked = sample.kind, []
    sources = [s.name for s in systematics.sources_for(sample)] if systematics else []
    root = systematics.apply_shapes(df, sample) if sources else df

    wexpr = sample.weight if kind == "mc" else "1.0"
    wloc = sample.where("weight")
    histos = [h for h in selection.histograms.values() if kind in h.kinds]
    from .compiled import Column  # noqa: PLC0415

    distributed = is_distributed(df)
    # the weight, its square and the histogram weights: compiled with the selection when the
    # dataframe is local (the weight is then planned before the selection, so not when extra
    # columns, always jitted, come between the two)
    weights = [Column(WEIGHT, f"static_cast<double>({wexpr})", wloc),
               Column(WEIGHT2, f"{WEIGHT} * {WEIGHT}", wloc)]
    hist_weights = [Column(f"{WEIGHT}_x_{w}", f"{WEIGHT} * ({w})", wloc)
                    for w in sorted({h.weight for h in histos if h.weight})]

    weight_columns = {c.name: c for c in (*weights, *hist_weights)}

    def jit_weight(n: Any, name: str) -> Any:
        col = weight_columns[name]
        if name == WEIGHT:  # the one a user writes (the sample's weight): errors name it
            return _jit(lambda: n.Define(WEIGHT, col.expr), wloc,
                        f"samples.{sample.name}.weight", f"weight {wexpr!r}")
        return n.Define(col.name, col.expr)

    def jit_column(n: Any, col: Any) -> Any:
        return _jit(lambda: n.Define(col.name, _guarded(col.expr, col.loc, f"columns.{col.name}")),
                    col.loc, f"columns.{col.name}",
                    f"column expression {col.expr!r}")

    def jit_step(n: Any, name: str) -> Any:
        if name in selection.columns:
            return jit_column(n, selection.columns[name])
        return jit_weight(n, name)

    def run_steps(n: Any, steps: list[tuple[str, Any]]) -> Any:
        for step, what in steps:
            n = aot.define_columns(n, what) if step == "lib" else jit_step(n, what)
        return n

    mode = cutflow_mode(kind, varied=bool(sources), distributed=distributed)
    veto = blind_veto(sample, blinded, blind_box)
    booked_regions: list[Any] = []
    blinded_regions: list[str] = []
    for region in selection.regions.values():
        if not region.applies_to(sample.name):
            continue
        if region.blind and blinded and kind == "data":
            blinded_regions.append(region.name)
            log.info("sample %s: region %s is blind, not booked", sample.name, region.name)
            continue
        booked_regions.append(region)

    #: every (region, histogram) booked, in booking order
    region_histos = [(r, h) for r in booked_regions for h in histos if r.name in h.regions]

    def model(region: Any, h: Histogram) -> Any:
        return _model(ROOT, f"{sample.name}__{region.name}__{h.name}", h.title, h.bins, h.ybins)

    node = root
    compile_weights = not extra_columns and not distributed
    if not compile_weights:
        for col in weights:
            node = jit_weight(node, col.name)
    for name, expr in (extra_columns or {}).items():
        node = _jit(lambda n=node, k=name, e=expr: n.Define(k, e), sample.loc,
                    f"extra_columns.{name}", f"column {expr!r}")
    aot = None
    if not distributed:
        # a fused kernel (nutag.engine.compiled) needs every node compiled and no Vary in the graph;
        # its tree holds only the booked regions: a blind region's cuts are never evaluated
        fusable = compile_weights and not sources and mode in (UNIT, SUMS)
        tree = (CutTree.of([(r.name, r.cuts) for r in booked_regions], ALL_CUT,
                           root_cut=veto.name if veto else None)
                if fusable else None)
        aot = _compiled_selection(
            sample, selection, node, route, veto, weights=weights if compile_weights else (),
            hist_weights=hist_weights,
            histograms=[(h.name, (h.x, *((h.y,) if h.y else ()), _hist_weight_column(h)))
                        for h in histos],
            fixed_types={WEIGHT: "double", WEIGHT2: "double"}, tree=tree, fused_weight=WEIGHT,
            fills=[(r.name, h.name) for r, h in region_histos])
    # the route, chosen before anything below is booked; a fused kernel on the chain of the
    # sample's files may read them itself: probed once, the chain kept for the kernel
    probed: list[Any] = []

    def direct_read_problem() -> str:
        chain, problem = aot.probe_direct(sample.tree, list(sample.files))
        probed.append(chain)
        return problem

    taken = choose_route(distributed=distributed, compile_mode=route.compile, compiled=aot,
                         sources=bool(sources), extra_columns=bool(extra_columns),
                         fusable_cutflow=mode in (UNIT, SUMS), fuse_mode=route.fuse,
                         own_dataframe=make_df is not None, direct_read_mode=route.direct_read,
                         direct_read_problem=direct_read_problem)
    log.info("sample %s: %s", sample.name, taken)
    fused = taken.fused
    if fused:
        node = aot.fused_define(node, probed[0] if taken.name == FUSED_DIRECT else None)
    elif compile_weights:  # planned with the selection: defined before its columns
        node = (run_steps(node, aot.plan.weight_steps) if aot is not None else
                run_steps(node, [("jit", c.name) for c in weights]))

    if fused:
        pass
    elif aot is None:
        for col in selection.columns.values():
            if kind in col.kinds:
                node = jit_column(node, col)
    else:
        node = run_steps(node, aot.plan.steps)
    if sources:
        node = systematics.apply_weights(node, sample)  # redefines WEIGHT and WEIGHT2
    # the compiled histogram weights and histograms read the weight as a double, as the
    # cutflow action does: a systematic weight redefined as anything else leaves them jitted
    typed = aot is not None and (not sources or str(node.GetColumnType(WEIGHT)) == "double")
    if not fused:
        node = run_steps(node, aot.plan.hist_weight_steps if typed else
                         [("jit", c.name) for c in hist_weights])

    fused_views: dict[tuple[str, str], Any] = {}
    if fused:
        region_nodes, region_cutflows, fused_views = _book_fused(
            aot, node, booked_regions, mode, booked,
            [(r.name, h.name, model(r, h)) for r, h in region_histos])
        make_source = (functools.partial(aot.fused_region, node, 0, BLIND_VETO) if veto
                       else (lambda n=node: n))
    else:
        if veto is not None:  # before the (all) row: no row or region ever counts the box
            node = _apply_veto(node, veto, aot)
        make_source = (lambda n=node: n)
        last_nodes, region_cutflows = _book_node_per_cut(
            ROOT, aot, node, booked_regions, selection, mode, booked)
        region_nodes = {r: (lambda n=n: n) for r, n in last_nodes.items()}
    regions: dict[str, RegionResults] = {}
    for region in booked_regions:
        regions[region.name] = RegionResults(region.name, {}, region_cutflows[region.name],
                                             region_nodes[region.name])
    for region, h in region_histos:
        res = regions[region.name]
        if (region.name, h.name) in fused_views:
            res.histos[h.name] = fused_views[(region.name, h.name)]
            continue
        m = model(region, h)
        if typed and aot.has_histogram(h.name):
            res.histos[h.name] = aot.book_histogram(res.node, h.name, m)
        else:
            wcol = _hist_weight_column(h)
            if h.y is None:
                call = (lambda n=res.node, m=m, h=h, w=wcol: n.Histo1D(m, h.x, w))
            else:
                call = (lambda n=res.node, m=m, h=h, w=wcol: n.Histo2D(m, h.x, h.y, w))
            res.histos[h.name] = _jit(call, h.loc, f"histograms.{h.name}", "histogram")
        booked.append(res.histos[h.name])
    for res in regions.values() if extra is not None else ():
        res.extras = dict(extra(res.name, res.node))
        booked += res.extras.values()
    log.debug("sample %s: %d regions, %d results booked (cutflow: %s)", sample.name,
              len(regions), len(booked), mode)
    if sources:
        log.info("sample %s: systematic sources %s", sample.name, sources)
    return SampleGraph(sample.name, kind, df, regions, blinded_regions, booked, blinded, sample,
                       sources, direct_read=taken.name == FUSED_DIRECT,
                       make_source=make_source, route=str(taken),
                       locations={f"{part}.{e.name}": f"{e.loc.file}:{e.loc.line}"
                                  for part, exprs in (("columns", selection.columns),
                                                      ("cuts", selection.cuts))
                                  for e in exprs.values()},
                       dividing=dividing_expressions(
                           [(f"{c.loc.file}:{c.loc.line}: columns.{c.name}", c.expr)
                            for c in selection.columns.values() if kind in c.kinds]
                           + [(f"{c.loc.file}:{c.loc.line}: cuts.{c.name}", c.expr)
                              for c in selection.cuts.values() if kind in c.kinds]
                           + [(f"{wloc.file}:{wloc.line}: samples.{sample.name}.weight",
                               wexpr)]))


def book_variations(graphs: Iterable[SampleGraph], *, distributed: bool = False) -> int:
    """``VariationsFor`` of every region's final sum of weights, for graphs with sources.

    Call once every graph is built and before the run: the varied results then fill in the
    same single event loop as the nominal ones (``GetNRuns() == 1``). Returns the number of
    result maps booked; they land in ``SampleGraph.variations``.
    """
    from .systematics import book_variations as _vfor  # noqa: PLC0415

    vfor = None
    if distributed:  # ROOT >= 6.36: RDF.Distributed (the Experimental alias warns)
        vfor = getattr(getattr(import_root().RDF, "Distributed", None), "VariationsFor", None)
    n = 0
    for g in graphs:
        if not g.sources:
            continue
        names = list(g.regions)
        finals = [g.regions[r].cutflow[-1].sumw_result for r in names]
        # a sample with nothing to read is booked locally even in a distributed run
        # (nutag.config.input_files.sample_dataframe)
        dist = distributed and is_distributed(g.df)
        maps = ([vfor(r) for r in finals] if vfor and dist
                else _vfor(finals, distributed=dist))
        g.variations = dict(zip(names, maps))
        n += len(maps)
    return n
