"""Where the event loop's instructions go: callgrind on the hand loop and on nutag's own event
loop on each of its routes, per event and by category.

    .venv/bin/python -m benchmarks.profile [--events N] [--routes fused,rdfread,node]
                                           [--markdown BENCHMARKS.md]

Why instructions and not perf samples: this machine is a VM without hardware counters, so
``perf`` samples on a timer and attributes the time of a slow instruction to its neighbours
(skid). Counting executed instructions (valgrind's callgrind) is exact and immune to the
shared machine's noise. It is not time — cache misses, branch mispredictions and the different
cost of instructions are not in it — so it answers "how much work does each implementation do
per event, and where", which the timed race in ``benchmarks.run`` cannot.

Only the event loop is counted (``--toggle-collect``): the hand loop's ``kmu2`` function and
RDataFrame's ``RLoopManager::RunDataSource`` (the single-thread loop over the RNTuple data
source: every node for every entry, the column reads and the cluster loading included) inside
nutag's RunGraphs (``benchmarks.nutag_job``, the job ``benchmarks.run`` times) — process
start-up, opening the file, graph building and the JIT are not in the numbers. Every program
starts callgrind's instrumentation itself where its loop starts (benchmarks/callgrind_marks.hpp;
nutag's job declares it to cling around RunGraphs), so Python, ROOT and cling start up
uninstrumented. All run the same work (``benchmarks/kmu2_norm.yaml``) on the same small input
(``benchmarks.input``, RNTuple as ``nutag simulate`` writes it), and their cutflows must agree,
else the run fails. The callgrind runs go two at a time (``--jobs``): instruction counts do not
depend on what else the machine runs.

Needs ``valgrind`` (Debian: ``apt-get install valgrind``) on PATH; the loop is ~40x slower
under it, so the default is 2e5 events (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import report
from .input import WORK, ensure_input
from .routes import ROUTES
from .run import PY, REPO, build_library, compile_hand_loop, write_configs

log = logging.getLogger("nutag.bench.profile")

BEGIN = "<!-- BEGIN GENERATED: python -m benchmarks.profile -->"
END = "<!-- END GENERATED: python -m benchmarks.profile -->"

#: per-entry function of each kind of program: callgrind collects only inside it
LOOP_FUNCTION = {
    "hand": "*kmu2<*",  # the hand loop's loop over entries
    "rdf": "ROOT::Detail::RDF::RLoopManager::RunDataSource*",
}

#: nutag's routes profiled by default (the JIT is left out: cling compiles inside RunGraphs,
#: instrumented, which takes minutes, and its code has no symbols to sort by category)
DEFAULT_ROUTES = ("fused", "rdfread", "node")

#: column headings of the table
COLUMN = {"fused": "nutag (default: fused kernel reading RNTuple)",
          "rdfread": "nutag, fused kernel fed by RDataFrame",
          "node": "nutag, one node per cut", "jit": "nutag, jitted"}

#: (category, predicate on "function [object]") in order: the first match wins
CATEGORIES: list[tuple[str, re.Pattern[str]]] = [
    ("reading the columns: RNTuple decompression, unpacking, field reads into the values "
     "(RDataFrame: its RNTuple data source's column readers, which inline the field read)",
     re.compile(r"libROOTNTuple|ZSTD|HUF_|XXH|libz\.|memmove|memcpy|RFieldBase::Read"
                r"|RNTupleView<|ResizeRVec|RNTupleColumnReader|RNTupleDS")),
    ("RDataFrame nodes: Define, Filter, actions, defined-column readers, loop dispatch "
     "(the YAML expressions inlined)",
     re.compile(r"RDF::RDefine|RDF::RFilter|RDF::RAction|RLoopManager|CountHelper|FillHelper"
                r"|SumHelper|RJitted|RDefineReader|RDF::RVariation|nutag_sel_")),
    ("nutag:: helpers (libnutag: vertex, extrapolation, missing mass)", re.compile(r"libnutag")),
    ("histogram filling (TH1::Fill, TAxis::FindBin)", re.compile(r"libHist")),
    ("the selection as straight-line code (benchmarks/kmu2_event.hpp; nutag's fused kernel: "
     "cuts, column expressions)",
     # the hand loop's kmu2(); nutag's kernel()/kernel_direct() (entry bookkeeping), rows()
     # (the cut tree), fill() (the histograms), the memoised Event::c_ accessors and the YAML
     # expressions (nutag_cut_/nutag_col_, also called by the node-per-cut route's nodes)
     # where the compiler did not inline them
     re.compile(r"kmu2_event|kmu2<|(^|[\s:])kernel\(|nutag_gen_\w+::(Event::c_|rows\(|fill\(|"
                r"kernel_direct\(|nutag_cut_|nutag_col_)")),
    ("libm (hypot, sqrt)", re.compile(r"libm\.so|libm-")),
    ("memory allocation (malloc/free)", re.compile(r"malloc|free|_int_")),
]
OTHER = "other"

_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+)$")


def require_valgrind() -> tuple[str, str]:
    """Paths of valgrind and callgrind_annotate, or a clear error."""
    vg, ann = shutil.which("valgrind"), shutil.which("callgrind_annotate")
    if not vg or not ann:
        raise SystemExit("benchmarks.profile needs valgrind (callgrind) on PATH: "
                         "`apt-get install valgrind` (Debian/Ubuntu) or `dnf install valgrind`")
    return vg, ann


def loop_marks_compiled_in() -> bool:
    """Whether the compiler finds valgrind/callgrind.h, i.e. whether the benchmark programs ask
    for instrumentation where their event loop starts (benchmarks/callgrind_marks.hpp)."""
    r = subprocess.run([os.environ.get("CXX", "g++"), "-E", "-x", "c++", "-", "-o", os.devnull],
                       input="#include <valgrind/callgrind.h>\n", capture_output=True, text=True)
    return r.returncode == 0


def callgrind(cmd: list[str], loop_function: str, out: Path, env: dict[str, str],
              instrument_from_loop: bool = False) -> str:
    """Run ``cmd`` under callgrind collecting only inside ``loop_function``; returns its stdout.

    ``instrument_from_loop``: the program starts callgrind's instrumentation itself where its
    event loop starts (benchmarks/callgrind_marks.hpp), so its start-up runs uninstrumented. The
    counts are the same: only the loop function is collected either way."""
    vg, _ = require_valgrind()
    full = [vg, "--tool=callgrind", f"--callgrind-out-file={out}",
            f"--toggle-collect={loop_function}",
            *(["--instr-atstart=no"] if instrument_from_loop else []), *cmd]
    t0 = time.perf_counter()
    r = subprocess.run(full, capture_output=True, text=True, env=env, cwd=REPO)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    log.info("callgrind %s (%s): %.0f s", Path(cmd[0]).name if cmd[0] != PY else cmd[2], out.name,
             time.perf_counter() - t0)
    return r.stdout


def self_costs(out: Path) -> dict[str, int]:
    """Self instruction count of every function in a callgrind output ("function [object]")."""
    _, ann = require_valgrind()
    r = subprocess.run([ann, "--threshold=100", "--inclusive=no", str(out)],
                       capture_output=True, text=True, check=True)
    costs = parse_annotate(r.stdout)
    if not costs:
        raise RuntimeError(f"no function costs in {out} (did the loop function run?)")
    return costs


def parse_annotate(text: str) -> dict[str, int]:
    """``callgrind_annotate`` text -> {"function [object]": self instructions}, totals excluded."""
    costs: dict[str, int] = {}
    started = False
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        if "PROGRAM TOTALS" in m.group(2):
            started = True
            continue
        if started:
            costs[m.group(2)] = costs.get(m.group(2), 0) + int(m.group(1).replace(",", ""))
    return costs


#: matching order: the straight-line selection first, because nutag's fused kernel lives in
#: the generated library (``nutag_sel_*``) whose other functions are RDataFrame nodes
_MATCH_ORDER = sorted(CATEGORIES, key=lambda c: not c[0].startswith("the selection as"))


def categorise(costs: dict[str, int]) -> Counter[str]:
    """Instruction counts summed per category (first matching pattern in :data:`_MATCH_ORDER`)."""
    out: Counter[str] = Counter()
    for fn, n in costs.items():
        for name, pat in _MATCH_ORDER:
            if pat.search(fn):
                out[name] += n
                break
        else:
            out[OTHER] += n
    return out


def cutflow(stdout_or_json: str | Path) -> list[int]:
    """The kmu2_norm cutflow counts from the hand loop's stdout or a nutag_job JSON."""
    if isinstance(stdout_or_json, Path):
        return [int(r[1]) for r in json.loads(stdout_or_json.read_text())["cutflow"]]
    return [int(r[1]) for r in json.loads(stdout_or_json.strip().splitlines()[-1])["cutflow"]]


def table(per_event: dict[str, Counter[str]], entries: int, meta: str) -> str:
    """Markdown: instructions per event by category, one column per implementation."""
    names = list(per_event)
    cats = [c for c, _ in CATEGORIES if any(per_event[n][c] for n in names)]
    if any(per_event[n][OTHER] for n in names):
        cats.append(OTHER)
    lines = [meta, "",
             "| instructions per event | " + " | ".join(names) + " |",
             "|---|" + "---:|" * len(names)]
    for c in cats:
        lines.append(f"| {c} | " + " | ".join(f"{per_event[n][c] / entries:,.0f}"
                                              for n in names) + " |")
    totals = {n: sum(per_event[n].values()) / entries for n in names}
    lines.append("| **total** | " + " | ".join(f"**{totals[n]:,.0f}**" for n in names) + " |")
    ref = totals[names[0]]
    lines.append(f"| total / {names[0]} | " + " | ".join(f"{totals[n] / ref:.2f}" for n in names)
                 + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=float, default=2e5, help="input events (default 2e5)")
    ap.add_argument("--markdown", type=Path, help="write the table into this file (e.g. "
                    "BENCHMARKS.md) between the benchmarks.profile markers")
    ap.add_argument("--work", type=Path, default=WORK / "profile")
    ap.add_argument("--routes", default=",".join(DEFAULT_ROUTES),
                    help=f"nutag's routes to profile, comma-separated, of {', '.join(COLUMN)} "
                    f"(default {','.join(DEFAULT_ROUTES)}; '' profiles the hand loop only)")
    ap.add_argument("--input", type=Path, help="profile this RNTuple file (the benchmark "
                    "input's format, e.g. a benchmarks.run work directory's) instead of the "
                    "cached profile input of --events")
    ap.add_argument("--jobs", type=int, default=2, help="callgrind runs at a time (default 2)")
    ap.add_argument("--compile-cache", type=Path, default=WORK / "compiled",
                    help="nutag's compiled-selection cache (NUTAG_COMPILE_CACHE; default "
                    "benchmarks/work/compiled): a benchmarks.run work directory's 'compiled' "
                    "saves compiling the same selection again")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    require_valgrind()
    routes = [r for r in args.routes.split(",") if r]
    if any(r not in COLUMN for r in routes):
        ap.error(f"--routes: choose from {', '.join(COLUMN)}")

    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    build_library()
    source = args.input or ensure_input(int(args.events), work=work,
                                        name="kmu2_control-profile.root").path
    hand = compile_hand_loop()
    cfg = write_configs(work, {"rntuple": source})["norm-rntuple"]
    env = dict(os.environ, NUTAG_COMPILE_CACHE=str(args.compile_cache.resolve()))
    for route in routes:  # build (and cache) each compiled selection outside the profile
        if ROUTES[route].switches[0] == "on":
            subprocess.run([PY, "-m", "benchmarks.nutag_job", str(cfg), "--json",
                            str(work / f"build-{route}.json"), "--build-only", "--route", route],
                           env=env, cwd=REPO, check=True, capture_output=True)

    marks = loop_marks_compiled_in()  # else every program is instrumented from its start
    runs: dict[str, tuple[list[str], str, Path | None]] = {
        "hand-written loop": ([str(hand), "kmu2-ntuple", str(source)], "hand", None)}
    for route in routes:
        js = work / f"nutag-{route}.json"
        runs[COLUMN[route]] = ([PY, "-m", "benchmarks.nutag_job", str(cfg), "--threads", "1",
                                "--json", str(js), "--route", route,
                                *(["--callgrind-loop"] if marks else [])], "rdf", js)

    def profile_one(i: int, name: str) -> tuple[Counter[str], list[int]]:
        cmd, kind, js = runs[name]
        out = work / f"callgrind.{kind}.{i}"
        stdout = callgrind(cmd, LOOP_FUNCTION[kind], out, env, marks)
        return categorise(self_costs(out)), cutflow(js if js is not None else stdout)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        done = [pool.submit(profile_one, i, name) for i, name in enumerate(runs)]
        results = dict(zip(runs, (f.result() for f in done)))
    per_event = {name: r[0] for name, r in results.items()}
    flows = {name: r[1] for name, r in results.items()}
    ref = flows["hand-written loop"]
    bad = [n for n, f in flows.items() if f != ref]
    if bad:
        raise SystemExit(f"cutflows differ from the hand loop's: {bad}: {flows}")
    entries = ref[0]
    said = {COLUMN[r]: json.loads((work / f"nutag-{r}.json").read_text())["route"] for r in routes}
    meta = (f"Profile of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: callgrind "
            f"(valgrind), event loop only, 1 thread, {entries:,} events of "
            f"`{source.name}` (RNTuple, ZSTD), work = `benchmarks/kmu2_norm.yaml`; cutflows "
            "equal at every cut. Self instructions summed by category, divided by the events."
            + "".join(f" {name}: nutag reported \"{r}\"." for name, r in said.items()))
    text = table(per_event, entries, meta)
    print(text)
    if args.markdown:
        report.update_file(args.markdown, f"{BEGIN}\n\n{text}\n{END}\n", BEGIN, END)
        log.info("wrote %s", args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
