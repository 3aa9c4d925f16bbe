"""The ``nutag`` command line: one entry point, one sub-command per job.

Contract for scripts (kept stable): exit status 0 on success and non-zero on any error; for
``nutag run`` the last line printed is the path of the results directory.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from nutag import __version__
from nutag.core.argtypes import default_threads, positive_int, thread_count
from nutag.engine.htcondor import add_batch_arguments, batch_options

#: the --dask-cluster choices (nutag.engine.backends.dask_backend.CLUSTERS, not imported here: dask and
#: ROOT load only when a run needs them)
DASK_CLUSTERS = ("local", "condor", "lxplus")

log = logging.getLogger("nutag.cli")

EPILOG_RUN = """examples:
  nutag run                          blind analysis of the embedded default (simulates it if missing)
  nutag run --unblind --threads 2    adds the observed count, probabilities and candidate table
  nutag run configs/default.yaml --output results/mine
  nutag run configs/mine.yaml --max-files 1 --output results/check
                                     quick check on the first file of each sample (not normalised)
"""


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="run the blind analysis and print the result table",
        description="Build every sample's RDataFrame graph from the YAML, fill all histograms and "
                    "yields in ONE event loop, extrapolate backgrounds, normalise to Kmu2 and write "
                    "results/<name>/.",
        epilog=EPILOG_RUN, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", type=Path, default=None,
                   help="top-level analysis YAML (default: the embedded configs/default.yaml)")
    p.add_argument("--unblind", action="store_true", help="book and report the signal region of data")
    p.add_argument("--threads", type=thread_count, default=default_threads(),
                   help="threads for the event loop, 1 to 1024 (default: min(4, usable cores) "
                        f"= {default_threads()} here, polite on shared login and batch nodes)")
    p.add_argument("--output", type=Path, default=None, help="results directory (default results/<name>)")
    p.add_argument("--compile", dest="compile", action="store_const", const="on", default=None,
                   help="compile the selection ahead of time or fail (default: NUTAG_COMPILE, "
                        "else auto: compile, and fall back to the JIT if that fails)")
    p.add_argument("--no-compile", dest="compile", action="store_const", const="off",
                   help="JIT-compile every expression in cling (NUTAG_COMPILE=off)")
    p.add_argument("--allow-unsafe-expressions", action="store_true",
                   help="accept YAML expressions that run programs or write files (system, "
                        "popen, fopen, gSystem, ...); only for YAML you trust "
                        "(docs/yaml-reference.md, 'The YAML is C++ code')")
    p.add_argument("--backend", choices=("local", "dask", "condor"), default="local",
                   help="where the event loop runs (default: local)")
    q = p.add_argument_group("quick check on part of the inputs (yields are NOT normalised; "
                             "recorded as partial in the provenance)")
    q.add_argument("--max-files", type=positive_int, default=None, metavar="N",
                   help="read only the first N files of each sample (any backend)")
    q.add_argument("--max-events", type=positive_int, default=None, metavar="N",
                   help="read only the first N entries of each sample (--backend local; any "
                        "--threads)")
    q.add_argument("--force-partial-unblind", action="store_true",
                   help="allow --unblind together with --max-files/--max-events")
    d = p.add_argument_group("distributed (--backend dask|condor; docs/dask.md, docs/lxplus.md)")
    d.add_argument("--scheduler", default=None, help="dask: address of an existing scheduler")
    d.add_argument("--workers", type=positive_int, default=2,
                   help="dask: worker processes (or HTCondor jobs with --dask-cluster condor)")
    d.add_argument("--partitions", type=positive_int, default=None, help="dask: tasks per sample")
    d.add_argument("--dask-cluster", choices=DASK_CLUSTERS, default="local",
                   help="dask: LocalCluster, dask-jobqueue HTCondorCluster, or lxplus: "
                        "dask-lxplus' CernCluster (CERN batch, scheduler on port 8786)")
    c = p.add_argument_group("HTCondor (--backend condor, and the worker jobs of "
                             "--dask-cluster condor; docs/lxplus.md)")
    add_batch_arguments(c, condor_dir_help="job directory (default: condor/<name>; rerun the "
                                           "same command to resume)")
    c.add_argument("--chunk-size", type=positive_int, default=500_000,
                   help="condor: entries per job (default: 500000)")
    c.add_argument("--condor-output", default="", metavar="DIR",
                   help="condor: where the chunk outputs go (default: <condor-dir>/out; on "
                        "/eos/... HTCondor sends them there)")
    c.add_argument("--no-wait", action="store_true", help="condor: submit and return")
    p.set_defaults(func=_cmd_run)


def _backend_options(args: argparse.Namespace) -> dict:
    """Options of the distributed backends; each backend ignores the keys it does not use.
    The HTCondor jobs of both (condor chunks, dask-jobqueue workers) get the same batch
    options and set-up."""
    batch = batch_options(args)
    directives = dict(batch.extra)
    if batch.accounting_group:
        directives["+AccountingGroup"] = f'"{batch.accounting_group}"'
    return {"scheduler": args.scheduler, "workers": args.workers, "partitions": args.partitions,
            "cluster": args.dask_cluster,
            "condor": {"flavour": batch.flavour, "memory": f"{batch.memory_mb}MB",
                       "disk": f"{batch.disk_mb}MB", "extra_directives": directives,
                       "prologue": [f"source {shlex.quote(batch.setup)}"] if batch.setup else []},
            "condor_dir": args.condor_dir, "chunk_size": args.chunk_size,
            "output": args.condor_output, "wait": not args.no_wait,
            **{k: v for k, v in batch.to_dict().items() if k != "extra"},
            "extra": [f"{k}={v}" for k, v in batch.extra],
            "allow_unsafe_expressions": args.allow_unsafe_expressions}


def _cmd_run(args: argparse.Namespace) -> int:
    from nutag.core.options import RouteOptions
    from nutag.jobs.pipeline import run_analysis

    # the run's execution switches, made once: --compile, else the environment
    route = RouteOptions.from_environment(compile=args.compile or None)
    outcome = run_analysis(args.config, unblind=args.unblind, threads=args.threads,
                           output=args.output, backend=args.backend,
                           backend_opts=_backend_options(args) if args.backend != "local"
                           else {},
                           allow_unsafe_expressions=args.allow_unsafe_expressions,
                           max_files=args.max_files, max_events=args.max_events,
                           force_partial_unblind=args.force_partial_unblind, route=route)
    results_dir, table = outcome if isinstance(outcome, tuple) else (outcome, None)
    if table:
        print(table)
    if args.max_files is not None or args.max_events is not None:
        print("nutag: warning: partial run: the yields above are NOT normalised to the full "
              "samples (quick check only; recorded as 'partial' in the provenance)",
              file=sys.stderr)
    print(results_dir)
    return 0


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="remake tables and plots from a results directory without reading events",
        description="Rebuild summary.md, cutflows and plots from the histograms and results "
                    "stored in RESULTS_DIR (no event loop).",
        epilog="example:\n  nutag report results/default",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results_dir", type=Path)
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from nutag.outputs.report import report_from_dir

    outcome = report_from_dir(args.results_dir)
    if isinstance(outcome, str):
        print(outcome)
    print(args.results_dir)
    return 0


def version_text() -> str:
    """``nutag 0.1.0, ROOT 6.40.00 (/path/to/ROOT)``: what a bug report or a batch log needs.

    ROOT is imported only here (``--version`` is not worth a second of start-up otherwise);
    a ROOT that does not import is reported, not raised.
    """
    try:
        from nutag.core.rootenv import import_root  # noqa: PLC0415

        ROOT = import_root()
        where = Path(str(ROOT.__file__)).resolve().parent
        root = f"ROOT {ROOT.gROOT.GetVersion()} ({where})"
    except Exception as exc:  # noqa: BLE001 - any failure to import ROOT is worth printing
        root = f"ROOT not importable ({type(exc).__name__}: {exc})"
    return f"nutag {__version__}, {root}"


class _VersionAction(argparse.Action):
    """``--version`` computed when asked for (argparse's own action wants the text upfront)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:  # noqa: A002
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nutag",
        description="NA62 neutrino tagging: fast simulation and blind RDataFrame analysis.",
        epilog="Run `nutag <command> --help` for each command's options and examples.")
    parser.add_argument("--version", action=_VersionAction,
                        help="print nutag's and ROOT's versions and exit")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(sub)
    try:
        from nutag.simulate.cli import add_simulate_parser
    except ImportError:  # pragma: no cover - the simulation package is part of nutag
        add_simulate_parser = None
    if add_simulate_parser is not None:
        add_simulate_parser(sub)
    _add_report(sub)
    from nutag.engine.backends.condor_cli import add_condor_parser
    from nutag.validate_cli import (add_closure_parser, add_display_parser, add_project_parser,
                                    add_toys_parser, add_validate_parser)

    for add in (add_closure_parser, add_project_parser, add_display_parser, add_validate_parser,
                add_condor_parser, add_toys_parser):
        add(sub)
    return parser


def _configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    _configure_logging(args.verbose, args.quiet)
    from nutag.core.errors import NutagError

    try:
        from nutag.core.versions import features_of, require  # noqa: PLC0415

        require(features_of(args.command, getattr(args, "backend", None),
                            default_config=getattr(args, "config", "") is None))
        return int(args.func(args) or 0)
    except NutagError as exc:
        print(f"nutag: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nutag: interrupted; previous results were left untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
