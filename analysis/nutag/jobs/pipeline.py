"""``nutag run``: config -> (default data set) -> graphs -> ONE event loop -> results -> report.

Why one function owns the order: blinding, the single event loop and the thread count are
decided here once, before any RDataFrame exists, and recorded in every output. Nothing here
prints; the CLI prints the returned table.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import platform
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .. import __version__
from ..outputs import report
from ..results import physics as _results
from ..config.blinding import blind_box_of
from ..config.analysis import Analysis, Sample, load_analysis, load_samples, load_yaml
from ..core.errors import ConfigError, NutagError
from ..config.input_files import stored_entries
from ..engine.partial import Partial, check_partial, first_entries, truncate_samples
from ..core.locations import installed, source_root
from ..core.options import RouteOptions
from ..core.provenance import git_state

log = logging.getLogger("nutag.jobs.pipeline")

#: the embedded default analysis (in the checkout, or in an installed package's sources)
DEFAULT_CONFIG = source_root() / "configs" / "default.yaml"


class RunOutcome(NamedTuple):
    """What ``run_analysis`` returns: the results directory and the summary table text.

    A tuple (the CLI unpacks it) that is also path-like, so ``Path(outcome)`` and
    ``outcome / "summary.json"`` work where a Path is expected.
    """

    results_dir: Path
    table: str

    def __fspath__(self) -> str:
        return os.fspath(self.results_dir)

    def __truediv__(self, other: str) -> Path:
        return self.results_dir / other


# --------------------------------------------------------------------------- inputs
def _is_default(config_path: Path | None) -> bool:
    return config_path is None or Path(config_path).resolve() == DEFAULT_CONFIG.resolve()


def _samples_present(samples_yaml: Path) -> bool:
    if not samples_yaml.is_file():
        return False
    try:
        load_samples(samples_yaml, check_files=True)
    except ConfigError:
        return False
    return True


def ensure_inputs(config_path: Path, threads: int | None) -> Path:
    """For the embedded default config, simulate the default data set when missing or outdated.

    Outdated means the data set YAML, the simulation config, the C++ generator or the ntuple
    schema changed since the samples were written (the manifest's hashes): the main job must
    never analyse a data set the current code would not produce. Up-to-date samples are reused
    (checking costs well under a second); only the outdated ones are simulated again.

    Returns the samples YAML to read. An installed package's sources are read-only: its default
    data set is made in the user's work root (:func:`nutag.core.locations.work_root`) instead of
    beside the config.
    """
    from ..simulate.dataset import default_output_dir, ensure_default_dataset  # noqa: PLC0415

    node = load_yaml(config_path)
    samples = Path(str(node.get("samples", "")))
    samples = samples if samples.is_absolute() else (config_path.parent / samples).resolve()
    if installed():
        samples = default_output_dir() / samples.name
    if not _samples_present(samples):
        log.info("default data set missing at %s: simulating it (once)", samples.parent)
    return ensure_default_dataset(samples.parent, threads=threads)


def load(config_path: Path | None, threads: int | None = None,
         allow_unsafe_expressions: bool = False) -> Analysis:
    """Load and validate the analysis (producing the default data set first if needed)."""
    path = Path(config_path) if config_path is not None else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(str(path), 0, "(file)", "analysis config not found",
                          "give the path of an analysis YAML, e.g. configs/default.yaml")
    samples = ensure_inputs(path, threads) if _is_default(path) else None
    from ..engine.cpp import load_cpp  # noqa: PLC0415

    load_cpp()  # helpers must exist before expressions are checked against inputs
    analysis = load_analysis(path, allow_unsafe_expressions=allow_unsafe_expressions,
                             samples_file=samples)
    declare(analysis)
    return analysis


def declare(analysis: Analysis) -> None:
    """Make the C++ side complete: nutag's helpers and the analysis' correction sets.

    Idempotent (a builder may call it per sample); the systematic sources are checked against
    the declared corrections here, so a wrong correction name fails before any graph is built.
    """
    from ..engine.corrections import CorrectionError, declare_corrections  # noqa: PLC0415
    from ..engine.cpp import load_cpp  # noqa: PLC0415

    load_cpp()
    try:
        declare_corrections(analysis.corrections)
    except CorrectionError as exc:
        raise ConfigError(analysis.file, 0, "corrections", str(exc),
                          "fix the list of correction files (paths relative to this file)"
                          ) from None
    if analysis.systematics:
        systematics_of(analysis).validate()


def systematics_of(analysis: Analysis) -> Any:
    """The analysis' sources as a :class:`nutag.engine.systematics.Systematics` (None without any)."""
    from ..engine.graph import WEIGHT, WEIGHT2  # noqa: PLC0415
    from ..engine.systematics import Systematics  # noqa: PLC0415

    if not analysis.systematics:
        return None
    return Systematics(analysis.systematics, weight_column=WEIGHT, weight2_column=WEIGHT2)


# --------------------------------------------------------------------------- graphs
#: the graph builder by name, for the distributed backends (HTCondor jobs import it)
BUILDER = "nutag.jobs.pipeline:build_sample_graph"
#: extras key of the candidate listing booked as one AsNumpy (distributed dataframes)
ASNUMPY = "asnumpy"


def candidate_hook(analysis: Analysis, sample: Sample, blinded: bool
                   ) -> Callable[[str, Any], Mapping[str, Any]] | None:
    """Book the candidate columns of the unblinded data signal region only.

    Locally (and in HTCondor chunks) one ``Take`` per column; on a distributed dataframe, which
    has no ``Take``, one lazy ``AsNumpy`` of the same columns (distributed RDF supports it and
    concatenates the partitions' arrays). Both are exact copies of the values; ``run_document``
    sorts the rows, so the order in which partitions are merged does not matter.
    """
    cand = analysis.options.get("candidate") or {}
    if blinded or sample.name != cand.get("sample") or sample.kind != "data":
        return None
    region = cand.get("region")
    columns = dict(cand.get("columns") or _results.CANDIDATE_COLUMNS)

    def hook(reg: str, node: Any) -> Mapping[str, Any]:
        from ..engine.backends import is_distributed  # noqa: PLC0415

        if reg != region:
            return {}
        names = sorted(set(columns.values()))
        if is_distributed(node):
            return {ASNUMPY: node.AsNumpy([*names, "event_id"], lazy=True)}
        out = {f"take:{c}": node.Take["double"](c) for c in names}
        # the column's own type: ULong64_t in a TTree, std::uint64_t (unsigned long, a
        # different C++ type) in an RNTuple, and Take must name it exactly
        out["take:event_id"] = node.Take[str(node.GetColumnType("event_id"))]("event_id")
        return out

    return hook


def build_sample_graph(analysis: Analysis, sample: Sample, *, blinded: bool,
                       make_df: Callable[[Sample], Any] | None = None,
                       route: RouteOptions | None = None) -> Any:
    """THE graph of one sample of the analysis: YAML columns, cuts, regions and histograms, the
    correction weights and systematic ``Vary``s, and the candidate listing when unblinded.

    Every way of running uses it: ``nutag run`` locally, on Dask (``make_df`` gives a distributed
    dataframe), in HTCondor chunk jobs (imported by name, :data:`BUILDER`), and
    :func:`nutag.jobs.interactive.open_analysis`. Declares nutag's C++ and the correction sets
    first (idempotent, so also right in a fresh batch job).
    """
    from ..engine.graph import build_graph  # noqa: PLC0415

    return build_graph(sample, analysis.selection, blinded=blinded,
                       declare=lambda: declare(analysis),
                       extra=candidate_hook(analysis, sample, blinded),
                       systematics=systematics_of(analysis), make_df=make_df, route=route,
                       blind_box=blind_box_of(analysis.selection, analysis.options,
                                              analysis.file))


def build_graphs(analysis: Analysis, *, blinded: bool,
                 make_df: Callable[[Sample], Any] | None = None,
                 route: RouteOptions | None = None) -> list[Any]:
    """Every sample's graph (:func:`build_sample_graph`) plus the varied yields, nothing run."""
    from ..engine.backends import build_graphs as _build  # noqa: PLC0415

    graphs = _build(analysis, blinded=blinded, make_df=make_df, builder=build_sample_graph,
                    route=route)
    log.info("%d samples, %d systematic sources, %d varied yields booked", len(graphs),
             len(analysis.systematics), sum(len(g.variations) for g in graphs))
    return graphs


def _row_key(row: Mapping[str, Any]) -> tuple:
    """Total order of candidate rows (NaN sorts last, not at random), so every backend lists
    them identically whatever order its partitions or chunks were merged in."""
    return tuple((1, 0.0) if isinstance(v, float) and math.isnan(v) else (0, v)
                 for v in row.values())


def run_document(analysis: Analysis, res: Any) -> dict[str, Any]:
    """Plain-data view of a run (what results.compute and report_from_dir read)."""
    from ..results.cutflow import cutflow_document  # noqa: PLC0415

    samples: dict[str, Any] = {}
    candidates: list[dict[str, float]] = []
    cand_opt = analysis.options.get("candidate") or {}
    mapping = dict(cand_opt.get("columns") or _results.CANDIDATE_COLUMNS)
    for name, s in res.samples.items():
        yields = {r: {k: out.cutflow[-1][k] for k in ("raw", "sumw", "sumw2")}
                  for r, out in s.regions.items()}
        samples[name] = {"kind": s.kind, "meta": dict(analysis.samples[name].meta),
                         "n_runs": s.n_runs, "blinded_regions": list(s.blinded_regions),
                         "yields": yields}
        variations = {r: dict(out.variations) for r, out in s.regions.items() if out.variations}
        for r, values in variations.items():
            bad = sorted(k for k, v in values.items() if not math.isfinite(v))
            if bad:
                raise NutagError(f"sample {name!r}, region {r!r}: the varied sum of weights is "
                                 f"not finite for {bad}; a correction returned NaN/inf for some "
                                 "events (check its inputs and range in configs/systematics.yaml)")
        if variations:  # {region: {"nominal": sumw, "<source>:up": sumw, ...}}
            samples[name]["variations"] = variations
        for r, out in s.regions.items():
            if out.extras:
                cols: dict[str, Any] = {}
                for k, v in out.extras.items():  # take:<column> lists, or one AsNumpy dict
                    if isinstance(v, Mapping):
                        cols.update(v)
                    else:
                        cols[k.split(":", 1)[1]] = v
                rows = _results.candidate_rows(cols, mapping)
                for row, eid in zip(rows, cols.get("event_id", [])):
                    row["event_id"] = int(eid)
                candidates += sorted(rows, key=_row_key)
    return {"samples": samples, "candidates": candidates,
            "cutflows": cutflow_document(res.samples)}


# --------------------------------------------------------------------------- provenance
def config_hash(analysis: Analysis) -> str:
    """sha256 of every configuration file the result depends on (analysis, samples, selections,
    corrections, systematics)."""
    h = hashlib.sha256()
    syst_files = sorted({s.loc.file for s in analysis.systematics} - {analysis.file})
    for f in [analysis.file, analysis.samples_file, *analysis.selection.files,
              *analysis.corrections, *syst_files]:
        h.update(Path(f).name.encode())
        h.update(Path(f).read_bytes())
    return h.hexdigest()


def _entries(path: str, name: str) -> int | None:
    """Entries of an input file for the provenance (:func:`nutag.config.input_files.stored_entries`)."""
    n, _ = stored_entries(path, name)
    if n is None:  # the provenance must not fail the run
        log.warning("could not count the entries of %s:%s", path, name)
    return n


def input_records(analysis: Analysis) -> list[dict[str, Any]]:
    """Every input file with its size and entries, for the provenance: read BEFORE the event
    loop, so that an input deleted or rewritten during the loop neither loses the finished
    loop nor is described by what it became."""
    return [{"sample": s.name, "kind": s.kind, "file": os.path.abspath(f),
             "size": os.path.getsize(f), "entries": _entries(f, s.tree)}
            for s in analysis.samples.values() for f in s.files]


def provenance(analysis: Analysis, *, blinded: bool, threads: int, backend: str,
               n_runs: Mapping[str, int], routes: Mapping[str, str] | None = None,
               backend_options: Mapping[str, Any] | None = None,
               inputs: list[dict[str, Any]] | None = None,
               partial: Mapping[str, Any] | None = None) -> dict[str, Any]:
    from ..core.rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    try:
        import correctionlib  # noqa: PLC0415

        cl_version = correctionlib.__version__
    except ImportError:  # pragma: no cover
        cl_version = None
    inputs = input_records(analysis) if inputs is None else inputs
    return {"analysis": analysis.name, "config": os.path.abspath(analysis.file),
            "config_hash": config_hash(analysis), **git_state(),
            "versions": {"nutag": __version__, "root": str(ROOT.gROOT.GetVersion()),
                         "correctionlib": cl_version, "python": platform.python_version()},
            "inputs": inputs, "blinded": blinded, **_blind_box_record(analysis, blinded),
            "threads": threads, "backend": backend,
            **({"backend_options": dict(backend_options)} if backend_options else {}),
            **({"partial": dict(partial)} if partial else {}),
            "n_runs": dict(n_runs), "routes": dict(routes or {}),
            "command_line": list(sys.argv)}


def _blind_box_record(analysis: Analysis, blinded: bool) -> dict[str, Any]:
    """The box a blinded run removed from data, for the provenance (nothing when unblinded)."""
    box = blind_box_of(analysis.selection, analysis.options, analysis.file)
    return {"blind_box": box.record()} if blinded and box is not None else {}


# --------------------------------------------------------------------------- entry point
#: third-party modules only the distributed backends need
_OPTIONAL = ("dask", "distributed", "dask_jobqueue", "htcondor", "htcondor2")
#: the batch options of every HTCondor job (nutag.engine.htcondor.BatchOptions)
_BATCH = ("flavour", "memory_mb", "disk_mb", "max_retries", "accounting_group", "setup", "extra")
#: backend options recorded in the provenance, per backend: whatever decides where and how
#: the jobs ran (a rerun with other batch options is then told apart)
_RECORDED = {"dask": ("scheduler", "workers", "partitions", "cluster"),
             "condor": ("condor_dir", "chunk_size", "output", "python", *_BATCH)}


def _recorded_options(backend: str, opts: Mapping[str, Any]) -> dict[str, Any]:
    """The options of ``_RECORDED`` that were given; for Dask on a batch cluster, also the
    HTCondor options of its worker jobs (``condor``)."""
    keys = list(_RECORDED.get(backend, ()))
    if backend == "dask" and opts.get("cluster") not in (None, "local") and not opts.get(
            "scheduler"):
        keys.append("condor")
    out = {k: opts.get(k) for k in keys if opts.get(k) not in (None, "", [], (), {})}
    return {k: (os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in out.items()}


def _execute(analysis: Analysis, *, blinded: bool, threads: int, backend: str,
             opts: Mapping[str, Any], route: RouteOptions, partial: Partial = Partial()) -> Any:
    """Book and run every sample on ``backend``: ONE event loop per sample whatever it is.

    The local loop of a run shows ROOT's progress bar on a terminal and ends at once on
    Ctrl-C (``interactive``): nothing is written yet while it runs."""
    from ..engine.backends import make_backend  # noqa: PLC0415

    if backend == "local":
        make_df = first_entries(partial.max_events) if partial.max_events is not None else None
        chosen = make_backend("local", threads=threads, make_df=make_df, interactive=True)
    else:
        chosen = make_backend(backend, threads=threads, **opts)
    return chosen.run(analysis, blinded=blinded, builder=BUILDER, route=route)


def run_analysis(config_path: Path | None, *, unblind: bool = False, threads: int | None = None,
                 output: Path | None = None, backend: str = "local",
                 backend_opts: Mapping[str, Any] | None = None,
                 allow_unsafe_expressions: bool = False, max_files: int | None = None,
                 max_events: int | None = None, force_partial_unblind: bool = False,
                 route: RouteOptions | None = None) -> RunOutcome:
    """Run the whole analysis; returns (results dir, summary table). Raises NutagError.

    ``backend``: "local" (this process, ``threads`` threads), "dask" (ROOT's distributed
    RDataFrame; ``backend_opts`` scheduler, workers, partitions, cluster, condor) or "condor"
    (chunked HTCondor jobs + exact merge; condor_dir, chunk_size, output, setup, flavour,
    memory_mb, wait). Whatever the backend, the same graphs (:func:`build_sample_graph`) and
    the same outputs. With ``wait=False`` on condor, returns the job directory and how to
    continue instead of results. ``max_files``/``max_events`` make a quick, partial run
    (:class:`Partial`: recorded, warned about, not normalised; ``--unblind`` on it needs
    ``force_partial_unblind``). ``route``: the execution switches of the run (compile, fuse,
    direct read; :class:`nutag.core.options.RouteOptions`), made here once from the environment
    when not given, and passed to every graph, local, on Dask or in HTCondor jobs.
    """
    from ..engine.backends import BACKENDS  # noqa: PLC0415

    route = route if route is not None else RouteOptions.from_environment()

    if backend not in BACKENDS:
        raise NutagError(f"unknown backend {backend!r} (available: {', '.join(BACKENDS)})")
    opts = dict(backend_opts or {})
    if backend == "condor":  # every chunk job loads the YAML again, with the same permission
        opts.setdefault("allow_unsafe_expressions", allow_unsafe_expressions)
    partial = Partial(max_files, max_events)
    check_partial(partial, unblind=unblind, force_unblind=force_partial_unblind, backend=backend)
    n_threads = int(threads or os.cpu_count() or 1)
    if backend == "local":
        from ..engine import run  # noqa: PLC0415

        effective = run.configure_threads(n_threads)  # before any RDataFrame exists
    else:  # the event loops run in worker processes / batch jobs, each single-threaded
        effective = 1
    analysis = load(config_path, n_threads, allow_unsafe_expressions)
    truncate_samples(analysis, max_files)
    if partial:
        log.warning("partial run (%s): yields, expected signal and background are NOT "
                    "normalised to the full samples; use it as a quick check only",
                    partial.describe())
    blinded = not unblind  # options.blinded can only be true (nutag.config.blinding.check_blinding)
    out_dir = Path(output) if output is not None else Path("results") / analysis.name
    writes_results = backend != "condor" or opts.get("wait", True)
    if writes_results:
        report.check_output_dir(out_dir)  # before the event loop: a bad --output costs a second
    # one run per results directory, held until the new directory is swapped in
    with report.output_lock(out_dir) if writes_results else contextlib.nullcontext():
        inputs = input_records(analysis)  # before the loop: what was read, even if it changes
        return _run_and_write(analysis, out_dir, blinded=blinded, threads=effective,
                              backend=backend, opts=opts, inputs=inputs, partial=partial,
                              route=route)


def _run_and_write(analysis: Analysis, out_dir: Path, *, blinded: bool, threads: int,
                   backend: str, opts: Mapping[str, Any], inputs: list[dict[str, Any]],
                   route: RouteOptions, partial: Partial = Partial()) -> RunOutcome:
    """The event loop, the results and the results directory of :func:`run_analysis`."""
    from ..engine.backends.condor import Submitted  # noqa: PLC0415

    try:
        res = _execute(analysis, blinded=blinded, threads=threads, backend=backend, opts=opts,
                       route=route, partial=partial)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in _OPTIONAL:
            raise
        raise NutagError(f"--backend {backend} needs the Python module {exc.name!r}: install it "
                         "(dask: distributed, and dask-jobqueue for --dask-cluster condor; "
                         "condor: the HTCondor bindings, htcondor) or use --backend local"
                         ) from None
    except Submitted as sub:  # --no-wait: the jobs run in the batch system
        return RunOutcome(Path(sub.jobdir), str(sub))
    n_runs = {name: s.n_runs for name, s in res.samples.items()}
    bad = {k: v for k, v in n_runs.items() if v != 1}
    if bad:
        raise NutagError(f"expected exactly one event loop per sample, got {bad}: a result was "
                         "read before RunGraphs; report this as a bug")
    doc = run_document(analysis, res)
    summary = _results.compute(doc, analysis.options, blinded=blinded)
    prov = provenance(analysis, blinded=blinded, threads=threads, backend=backend,
                      n_runs=n_runs, routes={n: s.route for n, s in res.samples.items()},
                      backend_options=_recorded_options(backend, opts),
                      inputs=inputs, partial=partial.record())
    histos = {(name, region): out.histos for name, s in res.samples.items()
              for region, out in s.regions.items()}
    table = report.write_results(out_dir, doc=doc, summary=summary, provenance=prov,
                                 histograms=histos, options=analysis.options,
                                 boxes=report.boxes_from_selection(analysis.selection))
    return RunOutcome(out_dir, table)
