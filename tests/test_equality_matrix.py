"""The equality matrix: the real analysis gives the same numbers on every execution route.

Why one matrix: nutag runs the same YAML selection on six routes (nutag.engine.routes, docs/
architecture.md): jitted; compiled with one node per cut; one fused kernel fed by RDataFrame's
readers; the fused kernel reading its RNTuple inputs itself; Dask (distributed RDataFrame);
HTCondor chunk jobs and their exact merge. Each must give the cutflow counts and histograms of
every other, on RNTuple and on TTree inputs. Proven pairwise on different inputs (the fused
routes on a toy selection, the real one only jitted vs compiled), most pairs were never
compared with each other; here every route runs the REAL
configs/default.yaml -- its selection, regions, histograms, blinding, correction weights and
systematic ``Vary``s -- booked by the builder ``nutag run`` uses
(:data:`nutag.jobs.pipeline.BUILDER`), on the same small inputs, against one reference: the jitted
route on the same format (and the two formats' references against each other).

Equal means: identical raw counts in every cutflow row; every sum of weights, varied sum of
weights and histogram cell (content, error, entries) equal to 1e-12 relative -- and, on the
single-threaded local routes, bit for bit (the same additions in the same order: any
difference there is a bug, not rounding). Each case also asserts the route nutag reports for
every sample (the provenance "routes"), so a route that silently falls back fails.

Which route a sample can take is part of what is checked: the MC samples have systematic
sources, whose ``Vary`` needs one node per cut, so on the compiled routes they stay node per
cut and only the data sample (no source) is fused; a TTree cannot be read through RNTuple
views, so the direct-read case on TTree reports the fused kernel fed by RDataFrame. The fused
kernel on weighted MC is checked on a toy selection (tests/test_fused_selection.py).

Blinding: every case runs blinded, as ``nutag run`` does by default: the data sample's blind
box is removed where its events are read and its blind regions are not booked. The MC graphs
do not depend on blinding (the pairwise tests this matrix replaces ran MC unblinded: the same
graphs); unblinded data, every region and the candidate listing, are compared local vs Dask vs
HTCondor in tests/test_backends_pipeline.py.

Inputs: the toy generator (tests/toy_samples.py: the real schema, seconds to write), every
sample a chain of two files of different length, written once per module as RNTuple and as
TTree. Cost control (2-core CI): one parametrized test per cell sharing the module's inputs and
its jitted references; the compiled libraries of the default selection in the usual cache
(build/compiled: shared with `nutag run` and every later run); on the fused routes only the
data sample (the MC samples take the node-per-cut route there, the graph of the node_per_cut
cells); on Dask (one single-worker LocalCluster for the module) and HTCondor one MC sample and
the data: two partitions each (one per file); three HTCondor jobs (a chunk spanning both files
of each sample, and the rest of the data).
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import toy_samples  # noqa: E402
from _backends_data import shim_env  # noqa: E402

from nutag.engine import compiled, graph, routes

from nutag.jobs import pipeline  # noqa: E402
from nutag.engine.backends import build_graphs, run_analysis_on  # noqa: E402
from nutag.engine.compiled import loading  # noqa: E402
from nutag.core.options import RouteOptions  # noqa: E402
from nutag.core.rootenv import import_root  # noqa: E402
from nutag.engine.run import RunResults, collect, run_booked  # noqa: E402
from nutag.engine.systematics import variation_values  # noqa: E402

REL = 1e-12
FORMATS = ("rntuple", "ttree")
#: entries per MC sample in each of its two files (data: these kmu2 events plus 9 rare ones)
PARTS = {"a": (500, 21), "b": (700, 22)}
MC_ENTRIES = sum(n for n, _ in PARTS.values())
#: HTCondor chunks of an MC sample's entries: one job spanning both files per MC sample; the
#: data (18 entries more) two, the second a range inside its second file
CHUNK_SIZE = MC_ENTRIES

Numbers = dict[str, Any]


# --------------------------------------------------------------------------- the routes
@dataclass(frozen=True)
class Route:
    """One column of the matrix: where the loop runs, the switches, the route expected."""

    name: str
    backend: str
    options: RouteOptions

    def expected(self, kind: str, fmt: str) -> str:
        """The route (and reason) nutag must report for a sample of ``kind`` on ``fmt``."""
        if self.backend == "dask":
            return f"{routes.JIT} (distributed RDataFrame: the workers run cling's code)"
        if self.options.compile == "off":
            return f"{routes.JIT} (NUTAG_COMPILE=off)"
        if kind == "mc":  # systematic sources: never fused
            return f"{routes.NODE_PER_CUT} (systematic variations need one node per cut)"
        if self.options.fuse == "off":
            return f"{routes.NODE_PER_CUT} (NUTAG_FUSE=off)"
        if self.backend == "condor":
            return f"{routes.FUSED_RDF} (the dataframe is a chunk's or a partial run's)"
        if self.options.direct_read == "off":
            return f"{routes.FUSED_RDF} (NUTAG_DIRECT_READ=off)"
        if fmt == "ttree":  # the route falls back: a TTree is not read through RNTuple views;
            # the reason goes on with the probe's message, naming the sample's file
            return (f"{routes.FUSED_RDF} (the input is not an RNTuple holding every input "
                    "column, e.g. a TTree: no RNTuple named ")
        return f"{routes.FUSED_DIRECT} (RNTuple input)"


ON = {"compile": "on"}
ROUTES = {r.name: r for r in (
    Route("jit", "local", RouteOptions(compile="off")),
    Route("node_per_cut", "local", RouteOptions(**ON, fuse="off")),
    Route("fused_rdf", "local", RouteOptions(**ON, direct_read="off")),
    Route("fused_direct", "local", RouteOptions(**ON)),
    Route("dask", "dask", RouteOptions(**ON)),  # distributed: jitted whatever the switches
    Route("condor", "condor", RouteOptions(**ON)),
)}


# --------------------------------------------------------------------------- inputs
def _config(directory: Path) -> Path:
    """configs/default.yaml as it is, reading the samples of ``directory``."""
    text = (REPO / "configs" / "default.yaml").read_text()
    assert "../data/default/samples.yaml" in text, "configs/default.yaml: samples moved"
    text = text.replace("../data/default/samples.yaml", str(directory / "samples.yaml"))
    text = text.replace("../", f"{REPO}/")
    cfg = directory / "analysis.yaml"
    cfg.write_text(text)
    return cfg


def _to_ttree(directory: Path) -> None:
    """Rewrite every ``*.root`` file of ``directory`` as a TTree ``nutag``: the same columns,
    entries and order (the toy generator's uproot writes RNTuple)."""
    ROOT = import_root()
    for path in sorted(directory.glob("*.root")):
        opts = ROOT.RDF.RSnapshotOptions()
        opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kTTree
        tmp = path.with_name(f".{path.name}.ttree")
        ROOT.RDataFrame("nutag", str(path)).Snapshot("nutag", str(tmp), "", opts)
        tmp.replace(path)


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The analysis config of each format: the same toy events as RNTuple (as `nutag simulate`
    writes them) and as TTree."""
    base = tmp_path_factory.mktemp("equality_matrix")
    convert = {"rntuple": toy_samples.to_rntuple, "ttree": _to_ttree}
    for part, (n, seed) in PARTS.items():
        toy_samples.write_dataset(base / "toy" / part, n=n, seed=seed)
        for fmt in FORMATS:
            shutil.copytree(base / "toy" / part, base / fmt / part)
            convert[fmt](base / fmt / part)
    out: dict[str, Path] = {}
    for fmt in FORMATS:
        toy_samples.write_chain_samples(base / fmt, MC_ENTRIES)
        out[fmt] = _config(base / fmt)
    return out


@pytest.fixture(scope="module")
def analyses(configs: dict[str, Path]) -> dict[str, Any]:
    """The loaded analysis of each format, as `nutag run` loads it (C++ and corrections
    declared, systematic sources checked)."""
    return {fmt: pipeline.load(cfg) for fmt, cfg in configs.items()}


# --------------------------------------------------------------------------- numbers
def _array(view: Any, n: int) -> np.ndarray:
    """A copy of ``n`` doubles from a C++ array (a histogram's cells, read in one go)."""
    view.reshape((n,))
    return np.frombuffer(view, dtype=np.float64, count=n).copy()


def _cells(h: Any) -> tuple[float, np.ndarray, np.ndarray]:
    """(entries, content of every cell, error of every cell), under/overflow included.
    Why arrays: a run has ~10^3 histograms (the varied ones included), read cell by cell
    through Python that is most of a case's time."""
    n = h.GetNcells()
    content = _array(h.GetArray(), n)
    sumw2 = _array(h.GetSumw2().GetArray(), n) if h.GetSumw2N() else np.abs(content)
    return float(h.GetEntries()), content, np.sqrt(sumw2)


def _numbers(res: RunResults, varied: Numbers | None = None) -> Numbers:
    """Every number of a run, flat: per sample its blind regions and event loops; per region
    every cutflow row (cut, raw, sum w, sum w^2), every histogram (:func:`_cells`) and the
    varied final sums of weights; ``varied``: the varied histograms, where the run booked
    them."""
    out: Numbers = {}
    for name, s in res.samples.items():
        out[f"{name}/blinded_regions"] = list(s.blinded_regions)
        out[f"{name}/n_runs"] = s.n_runs
        for r, o in s.regions.items():
            out[f"{name}/{r}/cutflow"] = [(row["cut"], row["raw"], row["sumw"], row["sumw2"])
                                          for row in o.cutflow]
            for h, v in o.histos.items():
                out[f"{name}/{r}/{h}"] = _cells(v)
            if o.variations:
                out[f"{name}/{r}/variations"] = dict(o.variations)
    out.update(varied or {})
    return out


def _equal(a: Any, b: Any, path: str, *, exact: bool) -> None:
    """Same structure; integers and strings equal; floats (and arrays of them) bit for bit
    (``exact``) or to REL relative (NaN equals NaN)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, a.keys() ^ b.keys())
        for k in a:
            _equal(a[k], b[k], f"{path}/{k}", exact=exact)
    elif isinstance(a, np.ndarray):
        assert a.shape == b.shape, (path, a.shape, b.shape)
        same = a == b if exact else np.abs(a - b) <= REL * np.maximum(np.abs(a), np.abs(b))
        bad = np.flatnonzero(~(same | (np.isnan(a) & np.isnan(b))))
        assert not bad.size, (path, [(int(i), a[i], b[i]) for i in bad[:5]])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            _equal(x, y, f"{path}[{i}]", exact=exact)
    elif isinstance(a, float) and not exact:
        assert isinstance(b, float), (path, a, b)
        if math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), (path, a, b)
        else:
            assert abs(a - b) <= REL * max(abs(a), abs(b)), (path, a, b)
    else:
        nan = isinstance(a, float) and math.isnan(a) and math.isnan(b)
        assert type(a) is type(b) and (a == b or nan), (path, a, b)


def _assert_equal(got: Numbers, ref: Numbers, *, exact: bool) -> None:
    """Equal to the reference: bit for bit (``exact``) or raw counts identical and every
    float to REL (sums in another order: Dask partitions, HTCondor chunks)."""
    assert got.keys() == ref.keys(), sorted(set(got) ^ set(ref))
    for key in ref:
        _equal(got[key], ref[key], key, exact=exact)


# --------------------------------------------------------------------------- running
@dataclass
class LocalRun:
    """A local run: its numbers, its graphs (the route, cutflow modes and booked results of
    each sample) and the histograms a compiled library booked one by one."""

    numbers: Numbers
    graphs: list[graph.SampleGraph]
    typed: list[str]


def _run_local(analysis: Any, route: RouteOptions, *, blinded: bool,
               samples: list[str] | None = None) -> LocalRun:
    """What `nutag run` does locally (:func:`nutag.jobs.pipeline.build_graphs`: the builder
    :data:`nutag.jobs.pipeline.BUILDER`, the varied yields; one event loop, one thread), for every
    sample or the named ones, plus the bins of every varied histogram of the samples with
    sources (``VariationsFor`` of each histogram, filled in the same loop)."""
    typed: list[str] = []  # histograms booked by a compiled library
    book = compiled.CompiledSelection.book_histogram

    def counting(self: Any, node: Any, name: str, model: Any) -> Any:
        typed.append(name)
        return book(self, node, name, model)

    ROOT = import_root()
    assert not ROOT.IsImplicitMTEnabled()  # one slot: the same additions in the same order
    with mock.patch.object(compiled.CompiledSelection, "book_histogram", counting):
        graphs = build_graphs(analysis, blinded=blinded, builder=pipeline.BUILDER,
                              samples=samples, route=route)
    varied = {f"{g.name}/{r}/{h}/variations": ROOT.RDF.Experimental.VariationsFor(ptr)
              for g in graphs if g.sources for r, reg in g.regions.items()
              for h, ptr in reg.histos.items()}
    run_booked(graphs)
    res = collect(graphs, threads=1, backend="local")
    bins = {k: variation_values(rmap, _cells) for k, rmap in varied.items()}
    return LocalRun(_numbers(res, bins), graphs, typed)


@pytest.fixture(scope="module")
def references() -> dict[str, LocalRun]:
    """The jitted run of each format, filled by :func:`_reference` when first needed."""
    return {}


def _reference(analyses: dict[str, Any], references: dict[str, LocalRun], fmt: str) -> LocalRun:
    """The jitted run of ``fmt``, made once per module: the first case that needs it pays
    (test_jitted_reference, the first of the module, in a whole run)."""
    if fmt not in references:
        references[fmt] = _run_local(analyses[fmt], ROUTES["jit"].options, blinded=True)
    return references[fmt]


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """One LocalCluster of one single-threaded worker process for the module: the two
    partitions of a sample still run as two tasks merged by ROOT, and a second worker would
    only pay nutag's set-up and the JIT of every graph a second time on two cores."""
    pytest.importorskip("distributed")
    from _backends_data import dask_client as local_client  # noqa: PLC0415

    with local_client(1) as client:
        yield client


# --------------------------------------------------------------------------- the matrix
def _kinds(analysis: Any) -> dict[str, str]:
    return {name: s.kind for name, s in analysis.samples.items()}


def _check_routes(reported: dict[str, str], analysis: Any, route: Route, fmt: str) -> None:
    """Every sample run reports the route asked for: a silent fallback fails here."""
    kinds = _kinds(analysis)
    expected = {name: route.expected(kinds[name], fmt) for name in reported}
    # an expectation ending in the start of a message is a prefix (the rest names a file)
    assert {name: text[:len(expected[name])] if expected[name].endswith(" ") else text
            for name, text in reported.items()} == expected


def _blind_regions(analysis: Any) -> list[str]:
    return [r.name for r in analysis.selection.regions.values()
            if r.blind and r.applies_to("data")]


def _entries(analysis: Any, name: str) -> int:
    from nutag.config.input_files import stored_entries  # noqa: PLC0415

    s = analysis.samples[name]
    return sum(stored_entries(f, s.tree)[0] for f in s.files)


@pytest.mark.parametrize("fmt", FORMATS)
def test_jitted_reference(fmt: str, analyses: dict[str, Any],
                          references: dict[str, LocalRun]) -> None:
    """The reference every other route is compared with: the jitted route, which must itself
    be a real test -- systematic sources that move bins and yields, events passing the final
    cuts, the whole chain of files read, the blind box removed from data and its blind regions
    not booked -- and must give bit for bit the same numbers on RNTuple as on TTree.

    Covers what tests/test_compiled_selection.py::test_compiled_equals_jit_on_the_default_selection
    asserted of its jitted run."""
    analysis = analyses[fmt]
    ref = _reference(analyses, references, fmt)
    _check_routes({g.name: g.route for g in ref.graphs}, analysis, ROUTES["jit"], fmt)
    assert not ref.typed
    for g in ref.graphs:
        modes = {e.mode for r in g.regions.values() for e in r.cutflow}
        assert modes == ({graph.UNIT} if g.kind == "data" else {graph.SUMS}), g.name
        assert bool(g.sources) is (g.kind == "mc"), g.name
    n = ref.numbers
    assert {n[k] for k in n if k.endswith("/n_runs")} == {1}  # one event loop per sample
    varied = [k for k in n if k.endswith("/variations")]
    assert varied and any(len(n[k]) > 1 for k in varied)
    hvaried = [k for k in varied if k.count("/") == 3]  # sample/region/histogram/variations
    assert any(not np.array_equal(n[k]["nominal"][1], v[1]) for k in hvaried
               for s, v in n[k].items() if s != "nominal"), "a source must move some bin"
    assert any(v != n[k]["nominal"] for k in varied for s, v in n[k].items()
               if s.startswith("straw_scale")), "a shape source must move some yield"
    finals = {k: rows[-1][1] for k, rows in n.items() if k.endswith("/cutflow")}
    data_rows = [rows for k, rows in n.items() if k.startswith("data/") and
                 k.endswith("/cutflow")]
    assert any(0 < rows[-1][1] < rows[0][1] for rows in data_rows)
    assert any(v > 0 for k, v in finals.items() if not k.startswith("data/"))
    mc_rows = [rows for k, rows in n.items() if k.endswith("/cutflow") and
               not k.startswith("data/")]
    assert any(r[2] != r[1] for rows in mc_rows for r in rows), "MC must be weighted"
    blind = _blind_regions(analysis)
    assert blind and n["data/blinded_regions"] == blind
    assert not any(f"data/{r}/cutflow" in n for r in blind)
    for name, kind in _kinds(analysis).items():
        first = next(rows[0] for k, rows in n.items() if k.startswith(f"{name}/") and
                     k.endswith("/cutflow"))
        assert first[0] == graph.ALL_CUT
        if kind == "mc":  # both files of the chain, every entry
            assert first[1] == _entries(analysis, name) == MC_ENTRIES
            assert n[f"{name}/blinded_regions"] == []
        else:  # the blind box is removed before the first row
            assert 0 < first[1] < _entries(analysis, name)
    other = "ttree" if fmt == "rntuple" else "rntuple"
    if other == "rntuple":  # the second format's reference: the first's numbers, bit for bit
        _assert_equal(n, _reference(analyses, references, other).numbers, exact=True)


#: (route, samples): the MC samples (systematic sources) take the node-per-cut route whatever
#: the fuse and direct-read switches -- the graph of the node_per_cut case -- so the fused
#: routes book the data sample only
GROUPS = {"mc": ["kmu2", "signal", "overlay", "misreco"], "data": ["data"]}
COMPILED = [pytest.param(r, g, f, id=f"{r}-{g}-{f}")
            for r, g in (("node_per_cut", "mc"), ("node_per_cut", "data"), ("fused_rdf", "data"),
                         ("fused_direct", "data")) for f in FORMATS]


def _of(numbers: Numbers, samples: list[str]) -> Numbers:
    return {k: v for k, v in numbers.items() if k.split("/", 1)[0] in samples}


@pytest.mark.parametrize(("route_name", "group", "fmt"), COMPILED)
def test_compiled_route_equals_jitted(route_name: str, group: str, fmt: str,
                                      analyses: dict[str, Any],
                                      references: dict[str, LocalRun]) -> None:
    """A compiled route gives every number of the jitted one bit for bit: cutflows,
    histograms (booked by the library: typed actions node per cut, views of the kernel's one
    action when fused), varied yields and the bins of every varied histogram (shape ``Vary``s
    of straw_px... flowing through the compiled Defines). The MC samples (systematic sources)
    keep one node per cut; the data sample is fused unless NUTAG_FUSE=off, reading its RNTuple
    inputs itself unless NUTAG_DIRECT_READ=off or the input is a TTree. The blinded data
    kernel holds only the rows of the booked regions (no cut of a blind region alone).

    Covers tests/test_compiled_selection.py::test_compiled_equals_jit_on_the_default_selection
    (node per cut), tests/test_fused_selection.py::test_fused_equals_node_per_cut[data-True]
    and test_direct_read_equals_rdataframe_read[data-True] (fused, both readers, over a chain
    of two files): every route equals the same reference, so each pair of them is equal."""
    analysis, route, samples = analyses[fmt], ROUTES[route_name], GROUPS[group]
    ref = _reference(analyses, references, fmt)
    loaded = len(loading._LOADED)
    run = _run_local(analysis, route.options, blinded=True, samples=samples)
    assert [g.name for g in run.graphs] == samples
    _check_routes({g.name: g.route for g in run.graphs}, analysis, route, fmt)
    assert len(loading._LOADED) >= max(loaded, 1)  # the compiled path was taken
    fused = route_name != "node_per_cut"
    direct = route_name == "fused_direct" and fmt == "rntuple"
    blind = _blind_regions(analysis)
    for g in run.graphs:
        modes = {e.mode for r in g.regions.values() for e in r.cutflow}
        assert g.direct_read is (direct and g.kind == "data"), g.name
        if g.kind == "mc" or not fused:
            assert modes == ({graph.UNIT} if g.kind == "data" else {graph.SUMS}), g.name
            continue
        assert modes == {graph.FUSED}
        assert len(g.booked) == 1  # one action: every cutflow row and histogram
        views = [p for r in g.regions.values() for p in r.histos.values()]
        assert views and all(isinstance(v, compiled.FusedHistogram) for v in views)
        # the kernel's rows: one per distinct cut prefix of the booked regions, none of a
        # blind region alone
        booked = [(r.name, r.cuts) for r in analysis.selection.regions.values()
                  if r.applies_to(g.name) and r.name not in blind]
        rows = g.regions[booked[0][0]].cutflow[0].source.GetValue()
        every = [(r.name, r.cuts) for r in analysis.selection.regions.values()
                 if r.applies_to(g.name)]
        assert len(rows) == len(compiled.CutTree.of(booked, graph.ALL_CUT).rows) < \
            len(compiled.CutTree.of(every, graph.ALL_CUT).rows)
        assert g.blinded_regions == blind and not set(blind) & set(g.regions)
    histos = {h for g in run.graphs for r in g.regions.values() for h in r.histos}
    typed = set(run.typed)  # node per cut: every histogram; fused: none booked one by one
    assert typed == (set() if fused else histos) and histos
    _assert_equal(run.numbers, _of(ref.numbers, samples), exact=True)


#: the samples of the distributed cases: one MC sample with weight and shape sources (sigma_cc,
#: the trigger weights, the detector scales: merged variations) and the blinded data (on
#: HTCondor: a compiled fused kernel per chunk); the other MC samples differ from signal only in
#: which sources apply, and every job or task costs seconds of nutag's set-up and JIT
DISTRIBUTED = ["signal", "data"]


def _distributed_reference(numbers: Numbers) -> Numbers:
    """The reference numbers a distributed run also reports (varied histograms are booked on
    the local routes only)."""
    return {k: v for k, v in _of(numbers, DISTRIBUTED).items()
            if not (k.endswith("/variations") and k.count("/") == 3)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_dask_equals_jitted(fmt: str, analyses: dict[str, Any],
                            references: dict[str, LocalRun], dask_client: Any) -> None:
    """ROOT's distributed RDataFrame on a Dask LocalCluster, two partitions per sample merged
    by ROOT, the varied yields booked with the distributed ``VariationsFor``: the counts of
    the local run, every sum to 1e-12."""
    analysis, route = analyses[fmt], ROUTES["dask"]
    ref = _reference(analyses, references, fmt)
    res = run_analysis_on("dask", analysis, blinded=True, builder=pipeline.BUILDER,
                          samples=DISTRIBUTED, client=dask_client, partitions=2,
                          route=route.options)
    assert list(res.samples) == DISTRIBUTED
    _check_routes({n: s.route for n, s in res.samples.items()}, analysis, route, fmt)
    _assert_equal(_numbers(res), _distributed_reference(ref.numbers), exact=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_condor_equals_jitted(fmt: str, analyses: dict[str, Any],
                              references: dict[str, LocalRun], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """HTCondor chunk jobs through the shim (tests/condor_shim), each rebuilding the graph
    from the YAML on its entry range with the run's switches (compiled: the data chunks are
    fused kernels fed by RDataFrame), merged exactly: the counts of the local run, every sum
    to 1e-12. Three jobs: the signal sample's, spanning both of its files, and the data's two,
    merged."""
    analysis, route = analyses[fmt], ROUTES["condor"]
    ref = _reference(analyses, references, fmt)
    for k, v in shim_env(tmp_path / "shim").items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("NUTAG_FAIL_CHUNKS", raising=False)
    jobdir = tmp_path / "job"
    res = run_analysis_on("condor", analysis, blinded=True, builder=pipeline.BUILDER,
                          samples=DISTRIBUTED, condor_dir=jobdir, chunk_size=CHUNK_SIZE,
                          poll=0.1, route=route.options)
    chunks = json.loads((jobdir / "manifest.json").read_text())["chunks"]
    assert [(c["sample"], len(c["files"]), c["entries"]) for c in chunks] == [
        ("signal", 2, MC_ENTRIES), ("data", 2, MC_ENTRIES), ("data", 1, 18)]
    assert list(res.samples) == DISTRIBUTED
    _check_routes({n: s.route for n, s in res.samples.items()}, analysis, route, fmt)
    _assert_equal(_numbers(res), _distributed_reference(ref.numbers), exact=False)
