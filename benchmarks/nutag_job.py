"""One timed nutag analysis job (run in a fresh process by benchmarks/run.py).

It does what ``nutag run`` does for one data sample, through the same public API
(``nutag.config.analysis.load_analysis``, ``nutag.engine.cpp.load_cpp``, ``nutag.engine.graph.build_graph``, then
``RunGraphs`` on every booked result as ``nutag.engine.run``'s local backend does), and times every
start-up phase separately:

* import   — interpreter start to ``import ROOT`` + nutag done (process creation time from /proc)
* config   — YAML load + validation (opens the input for its schema) and ``load_cpp``
* graph    — ``build_graph``: every Define/Filter/Histo booked (cling parses each expression)
* jit      — RDataFrame's just-in-time compilation before the first event (from ROOT's RDF log)
* loop     — the event loop itself (from ROOT's RDF log: "Finished event loop ... elapsed")

``first_event_s`` = process start to the end of the JIT, i.e. when the first event is read.

The route (``--route``, benchmarks/routes.py) is chosen by nutag's own switches, set before
nutag is imported, and checked against the route the graph reports: the job fails rather than
time another route under this one's name.

Run as ``python -m benchmarks.nutag_job CONFIG.yaml --threads N --json OUT [--hist OUT.root]
[--route fused|rdfread|node|jit|auto] [--callgrind-loop]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from . import routes
from .peak_rss import peak_rss_kb

T0 = time.time()


def _process_start() -> float:
    """Wall-clock time this process was created (Linux /proc), else the module import time."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return time.time() - uptime + start_ticks / ticks
    except (OSError, ValueError, IndexError):
        return T0


_JIT = re.compile(r"Just-in-time compilation phase[^\n]*? completed in ([0-9.eE+-]+) seconds")
_JIT_FAST = re.compile(r"Just-in-time compilation phase completed in less than 1ms")
_LOOP = re.compile(r"Finished event loop number \d+ \(([0-9.eE+-]+)s CPU, ([0-9.eE+-]+)s elapsed\)")


def parse_rdf_log(text: str) -> dict[str, float]:
    """JIT and event-loop times from ROOT's RDF info log (summed over loops, should be one)."""
    jit = sum(float(m) for m in _JIT.findall(text))
    loops = _LOOP.findall(text)
    return {"jit_s": jit, "loop_cpu_s": sum(float(c) for c, _ in loops),
            "loop_s": sum(float(e) for _, e in loops), "n_loops": len(loops)}


def run_graphs_instrumented(ROOT: Any, booked: list[Any]) -> None:
    """RunGraphs with callgrind's instrumentation on for the call only, from C++.

    Why: under ``valgrind --tool=callgrind --instr-atstart=no`` the interpreter, ROOT, cling
    and the graph build then run uninstrumented (seconds instead of minutes). The marks
    (benchmarks/callgrind_marks.hpp) sit inside one C++ function declared to cling, and the
    results are converted to ``RResultHandle``s before it is called: cppyy's conversions and
    wrappers (cling compiling code) would otherwise run instrumented. Outside valgrind (or
    without valgrind/callgrind.h) this is RunGraphs.
    """
    header = Path(__file__).resolve().parent / "callgrind_marks.hpp"
    if not ROOT.gInterpreter.Declare(
            f'#include "{header}"\n#include <ROOT/RDFHelpers.hxx>\n'
            "namespace nutag_bench {\n"
            "inline void run_graphs(std::vector<ROOT::RDF::RResultHandle>& handles) {\n"
            "  BENCH_LOOP_STARTS();\n  ROOT::RDF::RunGraphs(handles);\n  BENCH_LOOP_ENDS();\n"
            "}\n}\n"):
        raise RuntimeError(f"cling could not declare the loop marks of {header}")
    handles = ROOT.std.vector["ROOT::RDF::RResultHandle"]()
    for ptr in booked:
        handles.push_back(ROOT.RDF.RResultHandle(ptr))
    ROOT.nutag_bench.run_graphs(handles)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", help="analysis YAML (one data sample)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", required=True, help="write the timings and yields here")
    ap.add_argument("--hist", help="write the kmu2_norm histograms into this ROOT file")
    ap.add_argument("--region", default="kmu2_norm", help="region whose cutflow is reported")
    ap.add_argument("--build-only", action="store_true",
                    help="stop after the graph build: time the first build of a selection, "
                         "which compiles it into the cache (nutag.engine.compiled)")
    ap.add_argument("--route", choices=sorted(routes.ROUTES), default="fused",
                    help="execution route (benchmarks/routes.py; default: the fused kernel "
                    "reading RNTuple, checked)")
    ap.add_argument("--callgrind-loop", action="store_true",
                    help="under callgrind (--instr-atstart=no): instrument only the event loop")
    args = ap.parse_args(argv)
    t_start = _process_start()
    routes.select(args.route, os.environ)  # before nutag reads its switches

    from nutag.engine import graph  # noqa: PLC0415
    from nutag.results.cutflow import make_rows  # noqa: PLC0415
    from nutag.config.blinding import blind_box_of  # noqa: PLC0415
    from nutag.config.analysis import load_analysis  # noqa: PLC0415
    from nutag.engine.cpp import load_cpp  # noqa: PLC0415
    from nutag.core.rootenv import capture_stderr, import_root  # noqa: PLC0415

    ROOT = import_root()
    ROOT.gROOT.SetBatch(True)
    t_import = time.time()
    if args.threads > 1:  # as nutag.engine.run.configure_threads: before any RDataFrame exists
        ROOT.EnableImplicitMT(args.threads)
    threads = int(ROOT.GetThreadPoolSize()) if ROOT.IsImplicitMTEnabled() else 1
    mode = load_cpp()
    analysis = load_analysis(args.config)
    box = blind_box_of(analysis.selection, analysis.options, analysis.file)
    t_config = time.time()
    graphs = [graph.build_graph(s, analysis.selection, blinded=True, declare=load_cpp,
                                blind_box=box)
              for s in analysis.samples.values()]
    t_graph = time.time()
    route = graphs[0].route
    routes.check(args.route, route)
    if args.build_only:
        Path(args.json).write_text(json.dumps({
            "threads": threads, "cpp_mode": mode, "route": route, "import_s": t_import - t_start,
            "config_s": t_config - t_import, "graph_s": t_graph - t_config,
            "total_s": time.time() - t_start}), encoding="utf-8")
        return 0
    verbosity = ROOT.ROOT.RLogScopedVerbosity(ROOT.ROOT.Detail.RDF.RDFLogChannel(),
                                              ROOT.ROOT.ELogLevel.kInfo)
    booked = [ptr for g in graphs for ptr in g.booked]
    with capture_stderr() as cap:
        # what nutag.engine.run's local backend does (called directly: the benchmark must not depend
        # on the result-collection layer, which changes more often than the event loop)
        if args.callgrind_loop:
            run_graphs_instrumented(ROOT, booked)
        else:
            ROOT.RDF.RunGraphs(booked)
    del verbosity
    t_run = time.time()
    rdf = parse_rdf_log(cap.text)
    g = graphs[0]
    region = g.regions[args.region]
    cutflow = make_rows(region.cutflow)
    n_booked = len(booked)
    if args.hist:
        f = ROOT.TFile(args.hist, "RECREATE")
        for name, h in region.histos.items():
            h.GetValue().Write(name)
        f.Close()
    out: dict[str, Any] = {
        "threads": threads, "cpp_mode": mode, "route": route, "hist": args.hist,
        "n_runs": int(g.df.GetNRuns()),
        "regions": sorted(g.regions), "results_booked": n_booked,
        "import_s": t_import - t_start, "config_s": t_config - t_import,
        "graph_s": t_graph - t_config, "run_call_s": t_run - t_graph, **rdf,
        "first_event_s": t_graph - t_start + rdf["jit_s"],
        "total_s": time.time() - t_start,
        "cutflow": [[r["cut"], int(r["raw"]), float(r["sumw"]), float(r["sumw2"])]
                    for r in cutflow],
        "entries": int(cutflow[0]["raw"]),
        "maxrss_kb": peak_rss_kb(),
    }
    Path(args.json).write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
