"""What nutag's graph shape costs per event: the cutflow booking variants, measured.

``nutag.graph.build_graph`` books a weighted cutflow row (count, sum w, sum w^2) after every cut
of every region, and the histograms with the weight column. This script books the same
selection (benchmarks/kmu2_norm.yaml) in variants and times each event loop in one process
(JIT excluded, RDataFrame's own timer), so the cost of each design choice is a measurement:

  three-actions Count + Sum(_w) + Sum(_w2) per cut (nutag before; distributed MC)  (51 results)
  sums          1 compiled nutag::CutflowHelper action per cut (nutag, local MC)    (21 results)
  count-only    1 Count per cut; sum w = sum w^2 = count (nutag, data)             (21 results)
  hist-cutflow  1 action per cut: a 1-bin TH1D filled with _w (bamboo style)       (21 results)
  stats         1 Stats(_one, _w) per cut (TStatistic)                             (21 results)
  final-only    no cutflow: the final Count and the histograms                     (7 results)

Not used by nutag, measured for the record: hist-cutflow and stats sum without Kahan
compensation (their sum w differs from Sum's in the last digits) and TStatistic::Fill skips
zero-weight events (its count is not the raw count).

Run as ``python -m benchmarks.proto_graph CONFIG.yaml [--threads N] [--variants ...]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

VARIANTS = ("three-actions", "sums", "count-only", "hist-cutflow", "stats", "final-only")
#: variants booked by nutag.graph.book_cutflow_row
_GRAPH_MODES = {"three-actions": "actions", "sums": "sums", "count-only": "unit"}
_LOOP = re.compile(r"Finished event loop number \d+ \(([0-9.]+)s CPU, ([0-9.]+)s elapsed\)")


def book(ROOT: Any, sample: Any, selection: Any, region: str, variant: str) -> tuple[Any, list]:
    from nutag.graph import book_cutflow_row  # noqa: PLC0415

    df = ROOT.RDataFrame(sample.tree, sample.files[0])
    node = df.Define("_w", "static_cast<double>(1.0)").Define("_w2", "_w * _w")
    for col in selection.columns.values():
        node = node.Define(col.name, col.expr)
    booked: list[Any] = []

    def cutflow(n: Any) -> None:
        if variant in _GRAPH_MODES:
            booked.extend(book_cutflow_row(ROOT, "", n, _GRAPH_MODES[variant]).results)
        elif variant == "hist-cutflow":
            booked.append(n.Histo1D(ROOT.RDF.TH1DModel(f"cf{len(booked)}", "", 1, 0.0, 1.0),
                                    "_one", "_w"))
        elif variant == "stats":
            booked.append(n.Stats("_one", "_w"))

    if variant in ("hist-cutflow", "stats"):
        node = node.Define("_one", "0.5")
    cutflow(node)
    for cut in selection.regions[region].cuts:
        node = node.Filter(selection.cuts[cut].expr, cut)
        cutflow(node)
    if variant == "final-only":
        booked.append(node.Count())
    for h in selection.histograms.values():
        if region in h.regions:
            m = ROOT.RDF.TH1DModel(h.name, h.title, h.bins.n, h.bins.lo, h.bins.hi)
            booked.append(node.Histo1D(m, h.x, "_w"))
    return df, booked


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    from nutag import run  # noqa: PLC0415
    from nutag.config import load_analysis  # noqa: PLC0415
    from nutag.cpp import load_cpp  # noqa: PLC0415
    from nutag.rootenv import capture_stderr, import_root  # noqa: PLC0415

    ROOT = import_root()
    run.configure_threads(args.threads)
    load_cpp()
    analysis = load_analysis(args.config)
    sample = next(iter(analysis.samples.values()))
    out: dict[str, Any] = {}
    for _ in range(args.repeats):
        for v in args.variants:
            df, booked = book(ROOT, sample, analysis.selection, "kmu2_norm", v)
            verbosity = ROOT.ROOT.RLogScopedVerbosity(ROOT.ROOT.Detail.RDF.RDFLogChannel(),
                                                      ROOT.ROOT.ELogLevel.kInfo)
            t0 = time.perf_counter()
            with capture_stderr() as cap:
                ROOT.RDF.RunGraphs(booked)
            del verbosity
            m = _LOOP.search(cap.text)
            cpu, loop = (float(m.group(1)), float(m.group(2))) if m else (float("nan"),) * 2
            out.setdefault(v, []).append({"loop_s": loop, "loop_cpu_s": cpu,
                                          "call_s": time.perf_counter() - t0,
                                          "results": len(booked)})
            print(f"{v:<14} results {len(booked):3d}  loop {loop:7.2f} s  cpu {cpu:7.2f} s",
                  flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
