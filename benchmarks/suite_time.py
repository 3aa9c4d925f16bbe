"""Where the test suite's time goes: per module (fixtures vs tests), the slowest tests, and what
the recurring fixed costs (a ROOT start-up, a simulation, an analysis run, a compile of the
selection, a Dask cluster) cost one at a time on this machine.

    python -m benchmarks.suite_time --markdown docs/development.md        # runs the suite
    python -m benchmarks.suite_time --from times.json --markdown docs/development.md

The suite is run as ``make test`` runs it (``-n`` cores, whole modules per worker) with
``--time-budget``, the option tests/conftest.py adds to record every test's setup, call and
teardown seconds. The table goes between this module's markers in the markdown file, written
atomically; the prose around it is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import report

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
BEGIN = "<!-- BEGIN GENERATED: python -m benchmarks.suite_time -->"
END = "<!-- END GENERATED: python -m benchmarks.suite_time -->"
#: a test (setup + call + teardown) over this many seconds breaks the suite's budget
TEST_BUDGET_S = 60.0


def cpu_model() -> str:
    """The CPU's model name (Linux), which tells the CI hosts apart."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_suite(json_out: Path, workers: int, extra: list[str]) -> None:
    """The suite as ``make test`` runs it, recording its times into ``json_out``."""
    cmd = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers),
           "--time-budget", str(json_out), *extra]
    subprocess.run(cmd, cwd=REPO, check=False)
    if not json_out.is_file():
        raise SystemExit(f"pytest wrote no time record {json_out}: see its output above")


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def unit_costs(work: Path) -> list[tuple[str, float]]:
    """Seconds of each fixed cost the tests pay repeatedly, measured one at a time."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "analysis"),
                                                       os.environ.get("PYTHONPATH", "")]))
    env.pop("NUTAG_COMPILE_CACHE", None)
    out: list[tuple[str, float]] = []
    out.append(("Python start-up + `import ROOT` + first cling call",
                _timed([PY, "-c", "import ROOT; ROOT.gInterpreter.ProcessLine('1;')"], env)))
    out.append(("`nutag --help` (the CLI without ROOT)",
                _timed([PY, "-m", "nutag.cli", "--help"], env)))
    sim = work / "sim"
    out.append(("`nutag simulate`: 3000 events per MC sample and rare stream, N_K = 1e8, 2 "
                "processes", _timed([PY, "-m", "nutag.cli", "-q", "simulate", "--events", "3000",
                                     "--n-kaon-decays", "1e8", "--threads", "2", "--output",
                                     str(sim)], env)))
    text = (REPO / "configs" / "default.yaml").read_text()
    text = text.replace("../data/default/samples.yaml", str(sim / "samples.yaml"))
    cfg = work / "analysis.yaml"
    cfg.write_text(text.replace("../", f"{REPO}/"))
    run = [PY, "-m", "nutag.cli", "-q", "run", str(cfg), "--threads", "2", "--output"]
    jit = _timed(run + [str(work / "jit")], dict(env, NUTAG_COMPILE="off"))
    out.append(("`nutag run` of configs/default.yaml on it, selection jitted (as in most "
                "tests)", jit))
    comp = _timed(run + [str(work / "compiled")],
                  dict(env, NUTAG_COMPILE="on", NUTAG_COMPILE_CACHE=str(work / "cache")))
    out.append(("`nutag run`, selection compiled with an empty cache (g++ of every library)",
                comp))
    hit = _timed(run + [str(work / "cached")],
                 dict(env, NUTAG_COMPILE="on", NUTAG_COMPILE_CACHE=str(work / "cache")))
    out.append(("`nutag run`, selection compiled, libraries from the cache", hit))
    out.append(("Dask LocalCluster of 2 workers: start and close",
                _timed([PY, "-c", "from distributed import Client\n"
                        "from nutag.engine.backends.dask_backend import local_cluster\n"
                        "c = local_cluster(2); Client(c).close(); c.close()"], env)))
    return out


def per_module(tests: dict[str, dict[str, float]]) -> list[tuple[str, float, float, int]]:
    """(module, fixture seconds, test seconds, tests), slowest module first."""
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for nodeid, t in tests.items():
        a = acc[nodeid.split("::", 1)[0]]
        a[0] += t.get("setup", 0.0) + t.get("teardown", 0.0)
        a[1] += t.get("call", 0.0)
        a[2] += 1
    rows = [(m, s, c, int(n)) for m, (s, c, n) in acc.items()]
    return sorted(rows, key=lambda r: -(r[1] + r[2]))


def markdown(record: dict[str, Any], units: list[tuple[str, float]] | None, host: str,
             top: int = 15, modules: int = 20) -> str:
    tests: dict[str, dict[str, float]] = record["tests"]
    total = sum(sum(t.values()) for t in tests.values())
    wall = record["wall_s"]
    lines = [f"Measured {time.strftime('%Y-%m-%d', time.gmtime())} on {host}: pytest with "
             f"{record['workers']} worker(s), {len(tests)} tests, wall time **{wall / 60:.1f} "
             f"min**; the tests' own times add up to {total / 60:.1f} min, {total / wall:.2f}x "
             "the wall time. Fixtures = setup + teardown: where the samples are simulated and "
             "the analysis runs that several tests read are made.", "",
             "| module | fixtures s | tests s | tests | share |", "|---|---:|---:|---:|---:|"]
    rows = per_module(tests)
    for m, s, c, n in rows[:modules]:
        lines.append(f"| {m} | {s:.0f} | {c:.0f} | {n} | {100 * (s + c) / total:.0f} % |")
    rest = rows[modules:]
    if rest:
        s, c, n = (sum(r[i] for r in rest) for i in (1, 2, 3))
        lines.append(f"| {len(rest)} other modules | {s:.0f} | {c:.0f} | {n} | "
                     f"{100 * (s + c) / total:.0f} % |")
    lines += ["", f"The {top} slowest tests (setup + call + teardown; budget "
              f"{TEST_BUDGET_S:.0f} s each, the setup is the module's shared fixtures "
              "when it is the module's first test):", "", "| test | setup s | call s |",
              "|---|---:|---:|"]
    slow = sorted(tests.items(), key=lambda kv: -sum(kv[1].values()))[:top]
    for nodeid, t in slow:
        flag = " **over budget**" if sum(t.values()) > TEST_BUDGET_S else ""
        lines.append(f"| `{nodeid}`{flag} | {t.get('setup', 0):.1f} | {t.get('call', 0):.1f} |")
    if units:
        lines += ["", "The fixed costs behind them, measured one at a time (each a fresh "
                  "process):", "", "| what | s |", "|---|---:|"]
        lines += [f"| {what} | {s:.1f} |" for what, s in units]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="record", type=Path,
                    help="a time record written by pytest --time-budget (default: run the suite)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="pytest-xdist workers (default: the cores, as make test)")
    ap.add_argument("--no-units", action="store_true",
                    help="skip the one-at-a-time measurement of the fixed costs (~3 min)")
    ap.add_argument("--markdown", type=Path, help="write the tables into this file between "
                    "this module's markers (e.g. docs/development.md)")
    ap.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nutag-suite-time-") as tmp:
        work = Path(tmp)
        path = args.record
        if path is None:
            path = work / "times.json"
            run_suite(path, args.workers, args.pytest_args)
        record = json.loads(path.read_text())
        units = None if args.no_units else unit_costs(work)
    host = f"{cpu_model()}, {os.cpu_count()} cores"
    text = markdown(record, units, host)
    print(text)
    if args.markdown:
        report.update_file(args.markdown, f"{BEGIN}\n\n{text}\n{END}\n", BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
