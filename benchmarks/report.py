"""Markdown tables of a benchmark run (benchmarks/run.py) and their place in BENCHMARKS.md."""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path
from typing import Any

from .routes import OTHER_ROUTES, ROUTES, job_name

BEGIN = "<!-- BEGIN GENERATED: python -m benchmarks.run -->"
END = "<!-- END GENERATED -->"

LABELS = {
    "read": "pure read, C++ RNTupleReader (I/O limit)",
    "hand": "hand-written C++ loop, RNTupleReader, -O2",
    "uproot": "uproot + numpy/awkward",
    "nutag-1": "nutag, 1 thread",
    "nutag-2": "nutag, 2 threads",
    "full-1": "nutag full analysis (all regions), 1 thread",
    "full-2": "nutag full analysis (all regions), 2 threads",
    "read-ttree": "TTree copy: pure read, C++ TTreeReader",
    "hand-ttree": "TTree copy: hand-written C++ loop, TTreeReader, -O2",
    "nutag-ttree-1": "TTree copy: nutag, 1 thread",
    **{job_name(r, t): f"nutag, {ROUTES[r].label}, {t} thread{'s' if t > 1 else ''}"
       for r in OTHER_ROUTES for t in (1, 2)},
}


def _med(rs: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else math.nan


def _f(x: float, fmt: str = ".2f") -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def stats(doc: dict[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for name, rs in doc["runs"].items():
        loop = _med(rs, "loop_s")
        out[name] = {"loop": loop, "wall": _med(rs, "wall_s"), "cpu": _med(rs, "cpu_s"),
                     "startup": _med([{"s": r["wall_s"] - r["loop_s"]} for r in rs], "s"),
                     "first": _med(rs, "first_event_s"), "jit": _med(rs, "jit_s"),
                     "graph": _med(rs, "graph_s"), "config": _med(rs, "config_s"),
                     "import": _med(rs, "import_s"),
                     # CPU time of the loop: RDataFrame's timer for nutag, else the process CPU
                     # minus its start-up (wall - loop); robust when the machine is oversubscribed
                     "loop_cpu": _med([{"c": r["loop_cpu_s"] if r.get("loop_cpu_s") else
                                        r["cpu_s"] - (r["wall_s"] - r["loop_s"])} for r in rs],
                                      "c"),
                     "rss_mb": max(r["child_maxrss_kb"] for r in rs) / 1024,
                     "entries": rs[0].get("entries", math.nan),
                     "runs": [r["loop_s"] for r in rs]}
    return out


def targets(s: dict[str, dict[str, float]]) -> list[tuple[str, str, str, bool]]:
    """(target, measured, how, met) for the issue's performance targets.

    Single-thread ratios are given on wall time and, in brackets, on loop CPU time (the fair
    measure when other jobs compete for the cores); ``met`` uses the better-defined CPU ratio
    for 1-thread races and wall time for thread scaling.
    """
    rows = []

    def ratio(a: str, b: str, key: str = "loop") -> float:
        return s[a][key] / s[b][key] if a in s and b in s else math.nan

    def add(name: str, value: float, goal: float, how: str, fmt: str = ".2f",
            above: bool = True) -> None:
        met = value >= goal if above else value <= goal
        rows.append((name, _f(value, fmt), how, bool(met) and not math.isnan(value)))

    def add2(name: str, a: str, b: str, goal: float, how: str) -> None:
        wall, cpu = ratio(a, b), ratio(a, b, "loop_cpu")
        rows.append((name, f"{_f(wall)} ({_f(cpu)})", how + " — wall (CPU)",
                     not math.isnan(cpu) and cpu >= goal))

    add2("nutag 1T >= 1.0x hand-written loop", "hand", "nutag-1", 1.0, "loop hand / nutag")
    add2("nutag 1T >= 1.0x uproot+numpy", "uproot", "nutag-1", 1.0, "loop uproot / nutag")
    add2("nutag 1T >= 0.9x pure read", "read", "nutag-1", 0.9, "loop read / nutag")
    add("nutag 2T >= 1.8x 1T", ratio("nutag-1", "nutag-2"), 1.8, "loop time 1T / 2T")
    add("full analysis 2T >= 1.8x 1T", ratio("full-1", "full-2"), 1.8, "loop time 1T / 2T")
    add("time to first event <= 3 s (nutag 1T)", s["nutag-1"]["first"], 3.0,
        "process start -> end of JIT [s]", above=False)
    if "full-1" in s:
        add("time to first event <= 3 s (full analysis)", s["full-1"]["first"], 3.0,
            "process start -> end of JIT [s]", above=False)
    main = [k for k in ("full-1", "full-2", "nutag-1", "nutag-2") if k in s]
    add("peak RSS <= 2 GB (main job)", max(s[k]["rss_mb"] for k in main) / 1024, 2.0,
        "max over nutag runs [GiB]", above=False)
    if "nutag-ttree-1" in s:
        add2("RNTuple vs TTree copy: nutag 1T", "nutag-ttree-1", "nutag-1", 1.0,
             "loop nutag on TTree / on RNTuple")
        add2("RNTuple vs TTree copy: hand-written loop", "hand-ttree", "hand", 1.0,
             "loop TTreeReader / RNTupleReader")
    return rows


def _ratio(s: dict[str, dict[str, float]], ref: str, row: str) -> str:
    """"wall (CPU)" ratio of loop times ref / row, "–" if either did not run."""
    if ref not in s or row not in s:
        return "–"
    return f"{_f(s[ref]['loop'] / s[row]['loop'])} ({_f(s[ref]['loop_cpu'] / s[row]['loop_cpu'])})"


def route_rows(doc: dict[str, Any], s: dict[str, dict[str, float]]) -> list[str]:
    """Markdown rows comparing nutag's routes on ``kmu2_norm``, each as nutag reported it."""
    out = []
    for route in ("fused", *OTHER_ROUTES):
        one, two = job_name(route, 1), job_name(route, 2)
        if one not in s:
            continue
        said = doc["runs"][one][0].get("route", "–")
        two_loop = _f(s[two]["loop"]) if two in s else "–"
        scaling = _f(s[one]["loop"] / s[two]["loop"]) if two in s else "–"
        out.append(f"| {ROUTES[route].label} | {said} | {_f(s[one]['loop'])} | {two_loop} | "
                   f"{_ratio(s, 'hand', one)} | {_ratio(s, job_name('fused', 1), one)} | "
                   f"{scaling} | {_f(s[one]['first'])} |")
    return out


def markdown(doc: dict[str, Any]) -> str:
    m, inp = doc["machine"], doc["input"]
    s = stats(doc)
    n = inp["entries"]
    lines = [
        BEGIN, "",
        f"Run of {m['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB "
        f"(kernel {m['kernel']}, Python {m['python']}, ROOT {m['root']}); load average "
        f"before/after {m['load_before'][0]:.1f}/{doc['load_after'][0]:.1f} (shared machine). "
        f"Input: {n:,} control-trigger Kmu2 events, {inp['size_bytes'] / 2**30:.2f} GiB "
        f"({inp.get('format', 'TTree')}, ZSTD 5, as nutag simulate writes it). Medians of "
        f"{doc['repeats']} runs, "
        f"interleaved; benchmark wall time {doc['benchmark_seconds'] / 60:.1f} min.", "",
        "| implementation | loop [s] | loop CPU [s] | events/s | start-up [s] | "
        "first event [s] | CPU [s] | peak RSS [MB] | vs hand | vs uproot | vs read |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, st in s.items():
        lines.append(
            f"| {LABELS.get(name, name)} | {_f(st['loop'])} | {_f(st['loop_cpu'])} | "
            f"{_f(n / st['loop'], ',.0f')} | "
            f"{_f(st['startup'])} | {_f(st['first'])} | {_f(st['cpu'])} | "
            f"{_f(st['rss_mb'], '.0f')} | {_ratio(s, 'hand', name)} | "
            f"{_ratio(s, 'uproot', name)} | {_ratio(s, 'read', name)} |")
    lines += ["", "Loop = event loop only (nutag: RDataFrame's own timer, after the JIT); start-up "
              "= process wall time minus loop (imports, configuration, graph, JIT, file open, "
              "writing results); \"vs X\" = loop time of X / loop time of the row (> 1: the row "
              "is faster), in brackets the same ratio on loop CPU time. Loop CPU: RDataFrame's own "
              "CPU timer for nutag, else process CPU minus start-up. CPU = user + system time of "
              "the whole process. Peak RSS = the job's own high-water mark (VmHWM, largest of "
              "the repetitions). When the machine is oversubscribed (load average above the "
              "core count) wall times stretch by whatever the other jobs take; CPU ratios do not.",
              ""]
    nut = [k for k in s if k.startswith(("nutag", "full"))]
    lines += ["Start-up of the nutag jobs (medians, seconds):", "",
              "| job | import | config + C++ | graph build | JIT | first event |",
              "|---|---:|---:|---:|---:|---:|"]
    for k in nut:
        st = s[k]
        lines.append(f"| {LABELS.get(k, k)} | {_f(st['import'])} | {_f(st['config'])} | "
                     f"{_f(st['graph'])} | {_f(st['jit'])} | {_f(st['first'])} |")
    warm = doc.get("warm_up") or {}
    if warm:
        names = {"norm-rntuple": "`kmu2_norm` (RNTuple)", "full-rntuple": "full analysis (RNTuple)",
                 "norm-ttree": "`kmu2_norm` (TTree copy)",
                 **{f"norm-rntuple {r}": f"`kmu2_norm`, {r} route" for r in OTHER_ROUTES}}
        lines += ["", "First build of each selection with an empty compile cache (run once before "
                  "the timed runs, which then load the cached library): graph build "
                  + ", ".join(f"{names.get(k, k)} {_f(v['graph_s'])} s" for k, v in warm.items())
                  + " — the one-off g++ compile of the selection (nutag.engine.compiled)."]
    routes = route_rows(doc, s)
    if len(routes) > 1:
        lines += ["", "nutag's routes (benchmarks/routes.py; the same YAML, the same yields, "
                  "chosen by NUTAG_COMPILE / NUTAG_FUSE / NUTAG_DIRECT_READ; each job checks "
                  "that nutag took the route it asked for and records nutag's own words for "
                  "it). \"vs hand\" = loop time of the hand-written loop / the route's, 1 thread; "
                  "\"default / route\" = loop time of the default route / this route's (< 1: "
                  "slower than the default); wall (CPU):", "",
                  "| route | as nutag reports it | loop 1T [s] | loop 2T [s] | vs hand, 1T | "
                  "default / route, 1T | 2T / 1T | first event 1T [s] |",
                  "|---|---|---:|---:|---:|---:|---:|---:|", *routes]
    lines += ["", "Targets (ratios from this run):", "", "| target | measured | how | met |",
              "|---|---:|---|---|"]
    for name, val, how, met in targets(s):
        lines.append(f"| {name} | {val} | {how} | {'yes' if met else '**no**'} |")
    ag = doc["agreement"]
    lines += ["", "Agreement (region kmu2_norm; every implementation against the hand-written "
              "loop): cutflows equal at every cut: "
              + ", ".join(f"{k} {'yes' if v else '**NO**'}" for k, v in ag["cutflow_equal"].items())
              + "; largest histogram bin difference: "
              + ", ".join(f"{k} {v:g}" for k, v in ag["max_bin_diff"].items()) + ". Final yield "
              f"{ag['reference'][-1][1]:,} of {n:,}.", ""]
    fmt = doc.get("formats")
    if fmt:
        base = fmt["ttree-zstd"]["loop_s"]
        lines += [f"Storage formats on nutag's schema (pure read of the selection's 26 columns, "
                  f"C++, {fmt['entries']:,} events, medians):", "",
                  "| format | file size [MB] | read [s] | events/s | speed vs TTree+ZSTD |",
                  "|---|---:|---:|---:|---:|"]
        for k, v in fmt.items():
            if k == "entries":
                continue
            lines.append(f"| {k} | {v['size_bytes'] / 1e6:.0f} | {_f(v['loop_s'])} | "
                         f"{_f(fmt['entries'] / v['loop_s'], ',.0f')} | "
                         f"{_f(base / v['loop_s'])} |")
        lines.append("")
    sim = doc.get("simulation")
    if sim:
        lines += ["Simulation (`nutag.simulate`, default config, one core per stream; the "
                  "per-chunk start-up cancels in the difference of two chunk sizes):", "",
                  "| stream | selection kept | events/s per core |", "|---|---:|---:|"]
        for k, v in sim["streams"].items():
            if isinstance(v, dict) and "events_per_s" in v:
                lines.append(f"| {k} | {v['kept_fraction']:.3f} | {v['events_per_s']:,.0f} |")
        d = sim.get("default")
        if d:
            lines += ["", f"`nutag simulate --force` of the default data set: "
                      f"{d['generated']:,} events generated in {d['wall_s']:.1f} s wall with "
                      f"{d['threads']} workers ({d['generated'] / d['wall_s'] / d['threads']:,.0f}"
                      f" events/s per core, start-up and merging included)."]
        elif sim.get("default_error"):
            lines += ["", f"`nutag simulate` of the default data set failed: "
                      f"`{sim['default_error'].splitlines()[-1]}`"]
        if doc["input"].get("gen_seconds"):
            i = doc["input"]
            lines += ["", f"Benchmark input: {i['generated']:,} kmu2 events generated in "
                      f"{i['gen_seconds']:.0f} s with {i['gen_threads']} workers "
                      f"({i['generated'] / i['gen_seconds'] / i['gen_threads']:,.0f} events/s "
                      "per core)."]
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def update_file(path: Path, text: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the section of ``path`` between ``begin`` and ``end`` by ``text`` (which carries
    the markers), or append it if the markers are missing; written atomically (the prose around
    it is never half-overwritten)."""
    old = path.read_text(encoding="utf-8") if path.is_file() else "# nutag benchmarks\n\n"
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        tail = rest.split(end, 1)[1]
        new = head + text.rstrip("\n") + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)


def summary(doc: dict[str, Any]) -> str:
    s = stats(doc)
    out = [f"{'implementation':<18}{'loop s':>9}{'start s':>9}{'RSS MB':>8}"]
    for k, st in s.items():
        out.append(f"{k:<18}{st['loop']:>9.2f}{st['startup']:>9.2f}{st['rss_mb']:>8.0f}")
    out += [f"{name}: {val} ({'met' if met else 'NOT met'})" for name, val, _, met in targets(s)]
    out.append(f"agreement: {'ok' if doc['agreement']['ok'] else 'DISAGREE'}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # re-render from a stored run: python -m benchmarks.report RESULTS [MD]
    import json
    import sys

    _doc = json.loads(Path(sys.argv[1]).read_text())
    _text = markdown(_doc)
    if len(sys.argv) > 2:
        update_file(Path(sys.argv[2]), _text)
    else:
        sys.stdout.write(_text)
