"""The nutag performance benchmark: one command, one input, every implementation side by side.

    .venv/bin/python -m benchmarks.run [--events N] [--repeats R] [--quick] [--markdown FILE]

On the same cached input (>= N control-trigger Kmu2 events as `nutag simulate` writes them:
RNTuple, benchmarks/input.py) it times, in fresh processes and interleaved round-robin so that
the noise of a shared machine hits every implementation alike:

  read           hand-written C++ RNTupleReader pure read of the columns the selection uses
  hand           hand-written C++ RNTupleReader loop doing benchmarks/kmu2_norm.yaml (-O2)
  uproot         uproot + numpy/awkward doing the same (benchmarks/uproot_numpy.py)
  nutag 1T / 2T  nutag (config + graph + RunGraphs) on benchmarks/kmu2_norm.yaml, on its
                 default route: the fused kernel reading its RNTuple inputs itself
  nutag-ROUTE    the same on nutag's other routes (benchmarks/routes.py), 1T / 2T: the fused
                 kernel fed by RDataFrame (rdfread), compiled node per cut (node), jitted (jit)
  full 1T / 2T   nutag on the default config's selections (every region and histogram that a
                 blinded data sample books), the input treated as the data sample
  *-ttree        the TTreeReader loops and nutag on a TTree copy of the input (what the format
                 is worth; the simulation wrote TTree before)

then checks that the yields agree (cutflow of kmu2_norm, every cut, and the histograms),
reads the storage-format study (TTree/RNTuple x ZSTD/zlib pure read on a subset), times the
simulation per stream and `nutag simulate` for the default data set, and writes the tables
(Markdown) into BENCHMARKS.md between the generated-table markers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import report
from .formats import FORMATS, convert
from .input import WORK, ensure_input
from .routes import OTHER_ROUTES, ROUTES, job_name

log = logging.getLogger("nutag.bench")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable


# --------------------------------------------------------------------------- set-up
def root_dirs() -> tuple[Path, Path, Path]:
    """(include, lib, site-packages) of the ROOT the venv imports (wheel or system)."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("ROOT")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("ROOT is not importable from this Python")
    base = Path(list(spec.submodule_search_locations)[0])
    return base / "include", base / "lib", base.parent


def build_library() -> None:
    """`cmake --build build` when a build tree exists: the benchmark must use a fresh libnutag."""
    if (REPO / "build" / "CMakeCache.txt").is_file():
        r = subprocess.run(["cmake", "--build", str(REPO / "build"), "-j", "2"], cwd=REPO,
                           capture_output=True, text=True)
        if r.returncode != 0:
            log.warning("cmake --build failed; nutag may use its JIT path:\n%s", r.stdout[-2000:])


def compile_hand_loop(work: Path = WORK) -> Path:
    """Compile hand_loop.cxx at -O2 against the ROOT in use and build/libnutag.so, cached in
    ``work`` by the hash of its sources (written under a temporary name and renamed, so two
    benchmark commands can share the cache: the profile reuses the race's executable)."""
    inc, lib, site = root_dirs()
    name = "hand_loop"
    src = HERE / f"{name}.cxx"
    h = hashlib.sha256(src.read_bytes())
    for hdr in [*sorted((REPO / "cpp" / "include" / "nutag").glob("*.hpp")),
                *sorted(HERE.glob("*.hpp"))]:
        h.update(hdr.read_bytes())
    work.mkdir(parents=True, exist_ok=True)
    exe = work / f"{name}-{h.hexdigest()[:12]}"
    if exe.is_file():
        return exe
    nutag_lib = REPO / "build"
    tmp = exe.with_name(f".{exe.name}.tmp-{os.getpid()}")
    cmd = [os.environ.get("CXX", "g++"), "-O2", "-std=c++17", "-pthread", "-m64",
           "-fsized-deallocation", f"-I{inc}", f"-I{REPO / 'cpp' / 'include'}", f"-I{HERE}",
           str(src),
           "-o", str(tmp), f"-L{lib}", "-lCore", "-lRIO", "-lTree", "-lTreePlayer", "-lHist",
           "-lROOTNTuple", "-lROOTVecOps", "-lMathCore", "-lROOTDataFrame", "-lImt",
           f"-L{nutag_lib}", "-lnutag",
           f"-Wl,-rpath,{lib}", f"-Wl,-rpath,{nutag_lib}", f"-Wl,-rpath-link,{site / 'root.libs'}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"compiling the hand-written loop failed:\n{' '.join(cmd)}\n{r.stderr}")
    os.replace(tmp, exe)
    return exe


def write_configs(work: Path, files: dict[str, Path]) -> dict[str, Path]:
    """Analysis YAMLs: {norm,full} x {input format} -> path (one data sample each)."""
    out = {}
    for fmt, f in files.items():
        samples = work / f"samples-{fmt}.yaml"
        samples.write_text(f"samples:\n  data: {{kind: data, files: ['{f}'], tree: nutag}}\n")
        for name, sels in (("norm", [REPO / "selections/kmu2.yaml", HERE / "kmu2_norm.yaml"]),
                           ("full", [REPO / "selections/kmu2.yaml",
                                     REPO / "selections/nutag.yaml"])):
            cfg = work / f"bench-{name}-{fmt}.yaml"
            cfg.write_text(f"name: bench_{name}\nsamples: '{samples}'\n"
                           f"selections: [{', '.join(repr(str(s)) for s in sels)}]\n"
                           "options: {blinded: true}\n")
            out[f"{name}-{fmt}"] = cfg
    return out


# --------------------------------------------------------------------------- running
def run_child(cmd: list[str], json_out: Path | None, env: dict[str, str]) -> dict[str, Any]:
    """Run one implementation; returns its JSON plus wall, CPU and peak RSS of the process."""
    t0 = time.perf_counter()
    with open(json_out.with_suffix(".log") if json_out else os.devnull, "w") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=REPO)
        stdout = p.stdout.read() if p.stdout else b""
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}); see "
                           f"{json_out.with_suffix('.log') if json_out else 'its stderr'}")
    data = json.loads(json_out.read_text() if json_out else stdout.decode())
    # the child's own peak RSS as it reports it (VmHWM, benchmarks/peak_rss.py): wait4's and the
    # child's getrusage ru_maxrss both include this parent's peak, carried over the exec
    data.update(wall_s=wall, cpu_s=ru.ru_utime + ru.ru_stime,
                child_maxrss_kb=data.get("maxrss_kb", ru.ru_maxrss))
    return data


def plan(exe: Path, cfgs: dict[str, Path], files: dict[str, Path], work: Path,
         with_full: bool, with_ttree: bool, other_routes: tuple[str, ...] = OTHER_ROUTES
         ) -> dict[str, tuple[list[str], Path | None]]:
    """name -> (command, JSON output or None for stdout). Every nutag route writes the
    histograms of its 1-thread run, which :func:`agreement` compares bin by bin."""
    main = str(files["rntuple"])
    jobs: dict[str, tuple[list[str], Path | None]] = {
        "read": ([str(exe), "read-ntuple", main], None),
        "hand": ([str(exe), "kmu2-ntuple", main, str(work / "hand.hist.root")], None),
        "uproot": ([PY, "-m", "benchmarks.uproot_numpy", main, "--json",
                    str(work / "uproot.json")], work / "uproot.json"),
    }

    def nutag(name: str, cfg: str, threads: int, hist: bool = False,
              route: str = "fused") -> None:
        out = work / f"{name}.json"
        cmd = [PY, "-m", "benchmarks.nutag_job", str(cfgs[cfg]), "--threads", str(threads),
               "--json", str(out), "--route", route]
        if hist:
            cmd += ["--hist", str(work / f"{name}.hist.root")]
        jobs[name] = (cmd, out)

    for route in ("fused", *other_routes):
        nutag(job_name(route, 1), "norm-rntuple", 1, hist=True, route=route)
        nutag(job_name(route, 2), "norm-rntuple", 2, route=route)
    if with_full:
        nutag("full-1", "full-rntuple", 1)
        nutag("full-2", "full-rntuple", 2)
    if with_ttree:
        tt = str(files["ttree"])
        jobs["read-ttree"] = ([str(exe), "read", tt], None)
        jobs["hand-ttree"] = ([str(exe), "kmu2", tt], None)
        nutag("nutag-ttree-1", "norm-ttree", 1, route="auto")
    return jobs


CORE = ("read", "hand", "uproot", "nutag-1", "nutag-2")


def warm_up(builds: dict[str, tuple[Path, str]], work: Path, env: dict[str, str]
            ) -> dict[str, Any]:
    """Build every nutag graph once before the race, untimed for the race, with a cold cache.

    ``builds``: name -> (config, route). Why: the first run of a new selection compiles it
    (``nutag.engine.compiled``, g++ ~10 s; node per cut is a library of its own, the fused kernel
    serves both of its routes) and the later runs load the cached library; mixed into the
    timed repetitions that one compile would dominate a median of two. Its cost is reported on its own instead. The cache of the
    benchmark lives in WORK/compiled, emptied first, so the number is a true cold start. A
    route nutag does not take (a compiler failure, a fallback) fails here already.
    """
    cache = work / "compiled"
    shutil.rmtree(cache, ignore_errors=True)
    env["NUTAG_COMPILE_CACHE"] = str(cache)
    out: dict[str, Any] = {}
    for name, (cfg, route) in builds.items():
        js = work / f"warmup-{name}.json"
        cmd = [PY, "-m", "benchmarks.nutag_job", str(cfg), "--json", str(js), "--build-only",
               "--route", route]
        try:
            out[name] = run_child(cmd, js, env)
        except RuntimeError as exc:
            log.error("warm-up %s: %s", name, exc)
            continue
        log.info("warm-up %-14s first build (cold compile cache) %.1f s", name,
                 out[name]["graph_s"])
    return out


def run_all(jobs: dict[str, tuple[list[str], Path | None]], repeats: int,
            env: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Round-robin; the race's core (read, hand, uproot, nutag on its default route) ``repeats``
    times, the full analysis, the TTree copy and nutag's other routes once less (at least
    once) to keep the run within ~15 min."""
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in jobs}
    for rep in range(repeats):
        for name, (cmd, out) in jobs.items():
            if rep and rep == repeats - 1 and name not in CORE:
                continue
            try:
                res = run_child(cmd, out, env)
            except RuntimeError as exc:  # a failed job must not cost the whole run
                log.error("rep %d %s: %s", rep + 1, name, exc)
                continue
            log.info("rep %d %-16s wall %6.1f s  loop %6.1f s  cpu %6.1f s", rep + 1, name,
                     res["wall_s"], res.get("loop_s", float("nan")), res["cpu_s"])
            runs[name].append(res)
    return runs


def median(runs: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in runs if key in r and r[key] is not None]
    return statistics.median(vals) if vals else float("nan")


# --------------------------------------------------------------------------- checks
def _th1_contents(path: Path) -> dict[str, list[float]]:
    from nutag.core.rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    f = ROOT.TFile.Open(str(path))
    out = {}
    for key in f.GetListOfKeys():
        h = key.ReadObj()
        out[str(key.GetName())] = [h.GetBinContent(i) for i in range(1, h.GetNbinsX() + 1)]
    f.Close()
    return out


def agreement(runs: dict[str, list[dict[str, Any]]], work: Path) -> dict[str, Any]:
    """Cutflows of kmu2_norm (every cut, raw and weighted) and histogram bins, vs the hand loop."""
    ref = runs["hand"][0]["cutflow"]
    cutflows = {}
    for name, rs in runs.items():
        for r in rs:
            cf = r.get("cutflow")
            if not cf:
                continue
            same = [row[:2] for row in cf] == [row[:2] for row in ref] and all(
                abs(a[2] - b[2]) <= 1e-9 * max(1.0, abs(b[2])) for a, b in zip(cf, ref))
            cutflows[name] = cutflows.get(name, True) and same
    hand_h = _th1_contents(work / "hand.hist.root")

    def largest_diff(h: dict[str, list[float]]) -> float:
        return max(max(abs(a - b) for a, b in zip(hand_h[k], h[k])) for k in hand_h)

    # every nutag route's 1-thread histograms ("nutag" = the default route, "nutag-node", ...)
    hist_diff = {name.removesuffix("-1"): largest_diff(_th1_contents(Path(rs[0]["hist"])))
                 for name, rs in runs.items() if rs and isinstance(rs[0].get("hist"), str)}
    hist_diff["uproot"] = largest_diff(runs["uproot"][0]["hist"])
    return {"reference": ref, "cutflow_equal": cutflows, "max_bin_diff": hist_diff,
            "ok": all(cutflows.values()) and max(hist_diff.values()) == 0}


# --------------------------------------------------------------------------- extras
def format_study(exe: Path, src: Path, entries: int, repeats: int, env: dict[str, str]
                 ) -> dict[str, Any]:
    """Pure read of the selection's columns on TTree/RNTuple x ZSTD/zlib copies of a subset
    (the measurement behind the simulation's output format)."""
    files = {fmt: convert(src, fmt, entries=entries) for fmt in FORMATS}
    out: dict[str, Any] = {"entries": entries}
    runs: dict[str, list[dict[str, Any]]] = {fmt: [] for fmt in files}
    for _ in range(repeats):
        for fmt, f in files.items():
            mode = "read-ntuple" if fmt.startswith("rntuple") else "read"
            runs[fmt].append(run_child([str(exe), mode, str(f)], None, env))
    for fmt, f in files.items():
        out[fmt] = {"size_bytes": f.stat().st_size, "loop_s": median(runs[fmt], "loop_s"),
                    "cpu_s": median(runs[fmt], "cpu_s"), "runs": [r["loop_s"] for r in runs[fmt]]}
    return out


def simulation(work: Path, events: int, env: dict[str, str], full: bool) -> dict[str, Any]:
    """Per-stream rates (one core) and, if ``full``, `nutag simulate` of the default data set."""
    out: dict[str, Any] = {"streams": run_child(
        [PY, "-m", "benchmarks.simbench", "--events", str(events), "--json",
         str(work / "simbench.json")], work / "simbench.json", env)}
    if full:
        target = work / "sim-default"
        shutil.rmtree(target, ignore_errors=True)
        t0 = time.perf_counter()
        r = subprocess.run([PY, "-m", "nutag.cli", "simulate", "--output", str(target),
                            "--threads", "2", "--force"], cwd=REPO, env=env,
                           capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            out["default_error"] = (r.stderr or r.stdout)[-1500:]
        else:
            man = json.loads((target / "manifest.json").read_text())
            out["default"] = {"wall_s": wall, "threads": 2, "entries": {
                k: v.get("n_entries") for k, v in man.get("samples", {}).items()},
                "generated": sum(v["sample"]["meta"].get("n_generated") or 0
                                 for v in man.get("samples", {}).values())}
        shutil.rmtree(target, ignore_errors=True)
    return out


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from nutag.core.rootenv import import_root  # noqa: PLC0415

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "root": str(import_root().gROOT.GetVersion()), "load_before": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=float, default=1e7,
                    help="control-trigger events in the input (default 1e7; generated once)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per implementation")
    ap.add_argument("--quick", action="store_true",
                    help="1e6 events, 1 repeat, no full analysis, TTree copy, other nutag "
                         "routes or format study")
    ap.add_argument("--work", type=Path, default=WORK, help="cache and scratch directory")
    ap.add_argument("--no-full", action="store_true", help="skip the full-analysis runs")
    ap.add_argument("--no-ttree", action="store_true",
                    help="skip the runs on the TTree copy of the input")
    ap.add_argument("--routes", default=",".join(OTHER_ROUTES),
                    help="nutag's routes raced besides the default fused kernel, comma-"
                    f"separated (default {','.join(OTHER_ROUTES)}; '' for none)")
    ap.add_argument("--no-formats", action="store_true", help="skip the storage-format study")
    ap.add_argument("--no-sim", action="store_true", help="skip the simulation timing")
    ap.add_argument("--format-events", type=int, default=2_000_000)
    ap.add_argument("--regenerate", action="store_true", help="regenerate the cached input")
    ap.add_argument("--markdown", type=Path, default=REPO / "BENCHMARKS.md",
                    help="file whose generated section receives the tables ('-': stdout only)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    if args.quick:
        args.events, args.repeats = min(args.events, 1e6), 1
        args.no_full = args.no_ttree = args.no_formats = True
        args.routes = ""
    other_routes = tuple(r for r in args.routes.split(",") if r)
    unknown = [r for r in other_routes if r not in ROUTES or r in ("fused", "auto")]
    if unknown:
        ap.error(f"--routes: unknown {unknown}; choose from {', '.join(OTHER_ROUTES)}")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "analysis"), str(REPO),
                                         env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    t_start = time.perf_counter()
    build_library()
    n = int(args.events)
    inp = ensure_input(n, work=work, regenerate=args.regenerate)
    main_file = inp.path
    if inp.n_entries > 1.2 * n:  # a bigger cached input: use a copy of its first n entries
        main_file = convert(inp.path, "rntuple-zstd", entries=n)
    files = {"rntuple": main_file}
    if not args.no_ttree:
        files["ttree"] = convert(main_file, "ttree-zstd")
    exe = compile_hand_loop()  # content-addressed: shared with benchmarks.profile
    cfgs = write_configs(work, files)
    info = machine()
    jobs = plan(exe, cfgs, files, work, not args.no_full, not args.no_ttree, other_routes)
    builds = {"norm-rntuple": (cfgs["norm-rntuple"], "fused")}
    if not args.no_full:
        builds["full-rntuple"] = (cfgs["full-rntuple"], "fused")
    if not args.no_ttree:
        builds["norm-ttree"] = (cfgs["norm-ttree"], "auto")
    for route in other_routes:  # the JIT compiles nothing ahead of time
        if ROUTES[route].switches[0] == "on":
            builds[f"norm-rntuple {route}"] = (cfgs["norm-rntuple"], route)
    warm = warm_up(builds, work, env)
    runs = run_all(jobs, args.repeats, env)
    check = agreement(runs, work)
    if not check["ok"]:
        log.error("implementations DISAGREE: %s", json.dumps(
            {k: v for k, v in check.items() if k != "reference"}))
    fmt = None if args.no_formats else format_study(exe, inp.path, args.format_events,
                                                    args.repeats, env)
    sim = None if args.no_sim else simulation(work, 40_000 if not args.quick else 5_000, env,
                                              full=not args.quick)
    doc = {"machine": info, "input": {"file": str(main_file), "entries": runs["hand"][0]["entries"],
                                      "size_bytes": main_file.stat().st_size,
                                      "format": "RNTuple",
                                      "generated": inp.n_generated,
                                      "gen_seconds": inp.gen_seconds, "gen_threads": inp.threads},
           "repeats": args.repeats, "warm_up": warm, "runs": runs, "agreement": check,
           "formats": fmt,
           "simulation": sim, "load_after": os.getloadavg(),
           "benchmark_seconds": time.perf_counter() - t_start}
    (work / "results.json").write_text(json.dumps(doc, indent=1, default=str))
    text = report.markdown(doc)
    if str(args.markdown) == "-":
        sys.stdout.write(text)
    else:
        report.update_file(args.markdown, text)
        log.info("tables written to %s", args.markdown)
    sys.stdout.write(report.summary(doc))
    return 0 if check["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
