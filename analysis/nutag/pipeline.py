"""``nutag run``: config -> (default data set) -> graphs -> ONE event loop -> results -> report.

Why one function owns the order: blinding, the single event loop and the thread count are
decided here once, before any RDataFrame exists, and recorded in every output. Nothing here
prints; the CLI prints the returned table.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from . import __version__, report
from . import results as _results
from .config import Analysis, Sample, load_analysis, load_samples, load_yaml
from .errors import ConfigError, NutagError

log = logging.getLogger("nutag.pipeline")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.yaml"


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


def ensure_inputs(config_path: Path, threads: int | None) -> None:
    """For the embedded default config, simulate the default data set when it is missing."""
    node = load_yaml(config_path)
    samples = Path(str(node.get("samples", "")))
    samples = samples if samples.is_absolute() else (config_path.parent / samples).resolve()
    if _samples_present(samples):
        return
    from .simulate.dataset import ensure_default_dataset  # noqa: PLC0415 (heavy, rarely needed)

    log.info("default data set missing at %s: simulating it (once)", samples.parent)
    ensure_default_dataset(samples.parent, threads=threads)


def load(config_path: Path | None, threads: int | None = None) -> Analysis:
    """Load and validate the analysis (producing the default data set first if needed)."""
    path = Path(config_path) if config_path is not None else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(str(path), 0, "(file)", "analysis config not found",
                          "give the path of an analysis YAML, e.g. configs/default.yaml")
    if _is_default(path):
        ensure_inputs(path, threads)
    from .cpp import load_cpp  # noqa: PLC0415

    load_cpp()  # helpers must exist before expressions are checked against inputs
    analysis = load_analysis(path)
    declare(analysis)
    return analysis


def declare(analysis: Analysis) -> None:
    """Make the C++ side complete: nutag's helpers and the analysis' correction sets.

    Idempotent (a builder may call it per sample); the systematic sources are checked against
    the declared corrections here, so a wrong correction name fails before any graph is built.
    """
    from .corrections import CorrectionError, declare_corrections  # noqa: PLC0415
    from .cpp import load_cpp  # noqa: PLC0415

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
    """The analysis' sources as a :class:`nutag.systematics.Systematics` (None without any)."""
    from .graph import WEIGHT, WEIGHT2  # noqa: PLC0415
    from .systematics import Systematics  # noqa: PLC0415

    if not analysis.systematics:
        return None
    return Systematics(analysis.systematics, weight_column=WEIGHT, weight2_column=WEIGHT2)


# --------------------------------------------------------------------------- graphs
def candidate_hook(analysis: Analysis, sample: Sample, blinded: bool
                   ) -> Callable[[str, Any], Mapping[str, Any]] | None:
    """Book Take() of the candidate columns for the unblinded data signal region only."""
    cand = analysis.options.get("candidate") or {}
    if blinded or sample.name != cand.get("sample") or sample.kind != "data":
        return None
    region = cand.get("region")
    columns = dict(cand.get("columns") or _results.CANDIDATE_COLUMNS)

    def hook(reg: str, node: Any) -> Mapping[str, Any]:
        if reg != region:
            return {}
        out = {f"take:{c}": node.Take["double"](c) for c in sorted(set(columns.values()))}
        out["take:event_id"] = node.Take["ULong64_t"]("event_id")
        return out

    return hook


def run_document(analysis: Analysis, res: Any) -> dict[str, Any]:
    """Plain-data view of a run (what results.compute and report_from_dir read)."""
    from .cutflow import cutflow_document  # noqa: PLC0415

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
                cols = {k.split(":", 1)[1]: v for k, v in out.extras.items()}
                rows = _results.candidate_rows(cols, mapping)
                for row, eid in zip(rows, cols.get("event_id", [])):
                    row["event_id"] = int(eid)
                candidates += sorted(rows, key=lambda d: tuple(d.values()))
    return {"samples": samples, "candidates": candidates,
            "cutflows": cutflow_document(res.samples)}


# --------------------------------------------------------------------------- provenance
def _git() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": bool(status) if status is not None else None}


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


def _entries(ROOT: Any, path: str, name: str) -> int | None:
    """Entries of a TTree or RNTuple from its metadata (no event is read)."""
    tf = ROOT.TFile.Open(path)
    try:
        obj = tf.Get(name) if tf and not tf.IsZombie() else None
        if obj and hasattr(obj, "GetEntries"):
            return int(obj.GetEntries())
        if obj:
            reader = ROOT.RNTupleReader.Open(obj)
            return int(reader.GetNEntries())
    except Exception:  # noqa: BLE001 - provenance must not fail the run
        log.warning("could not count the entries of %s:%s", path, name)
    finally:
        if tf:
            tf.Close()
    return None


def provenance(analysis: Analysis, *, blinded: bool, threads: int, backend: str,
               n_runs: Mapping[str, int]) -> dict[str, Any]:
    from .rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    try:
        import correctionlib  # noqa: PLC0415

        cl_version = correctionlib.__version__
    except ImportError:  # pragma: no cover
        cl_version = None
    inputs = [{"sample": s.name, "kind": s.kind, "file": os.path.abspath(f),
               "size": os.path.getsize(f), "entries": _entries(ROOT, f, s.tree)}
              for s in analysis.samples.values() for f in s.files]
    return {"analysis": analysis.name, "config": os.path.abspath(analysis.file),
            "config_hash": config_hash(analysis), **_git(),
            "versions": {"nutag": __version__, "root": str(ROOT.gROOT.GetVersion()),
                         "correctionlib": cl_version, "python": platform.python_version()},
            "inputs": inputs, "blinded": blinded, "threads": threads, "backend": backend,
            "n_runs": dict(n_runs), "command_line": list(sys.argv)}


# --------------------------------------------------------------------------- entry point
def run_analysis(config_path: Path | None, *, unblind: bool = False, threads: int | None = None,
                 output: Path | None = None, backend: str = "local",
                 backend_opts: Mapping[str, Any] | None = None) -> RunOutcome:
    """Run the whole analysis; returns (results dir, summary table). Raises NutagError.

    ``backend_opts`` (the CLI's distributed options) are accepted for the distributed
    backends; the local backend has none and ignores them.
    """
    from . import graph, run  # noqa: PLC0415

    if backend not in run.BACKENDS:
        raise NutagError(f"backend {backend!r} is not available here (available: "
                         f"{', '.join(run.BACKENDS)}); use --backend local")
    n_threads = int(threads or os.cpu_count() or 1)
    effective = run.configure_threads(n_threads)  # before any RDataFrame exists
    analysis = load(config_path, n_threads)
    blinded = bool(analysis.options.get("blinded", True)) and not unblind
    syst = systematics_of(analysis)
    graphs = [graph.build_graph(s, analysis.selection, blinded=blinded,
                                declare=lambda: declare(analysis),
                                extra=candidate_hook(analysis, s, blinded), systematics=syst)
              for s in analysis.samples.values()]
    n_var = graph.book_variations(graphs)  # after the whole graph, before the one event loop
    log.info("%d systematic sources, %d varied yields booked",
             len(analysis.systematics), n_var)
    res = run.run(graphs, effective, backend=backend)
    n_runs = {name: s.n_runs for name, s in res.samples.items()}
    bad = {k: v for k, v in n_runs.items() if v != 1}
    if bad:
        raise NutagError(f"expected exactly one event loop per sample, got {bad}: a result was "
                         "read before RunGraphs; report this as a bug")
    doc = run_document(analysis, res)
    summary = _results.compute(doc, analysis.options, blinded=blinded)
    prov = provenance(analysis, blinded=blinded, threads=effective, backend=backend,
                      n_runs=n_runs)
    out_dir = Path(output) if output is not None else Path("results") / analysis.name
    histos = {(name, region): out.histos for name, s in res.samples.items()
              for region, out in s.regions.items()}
    table = report.write_results(out_dir, doc=doc, summary=summary, provenance=prov,
                                 histograms=histos, options=analysis.options,
                                 boxes=report.boxes_from_selection(analysis.selection))
    return RunOutcome(out_dir, table)
