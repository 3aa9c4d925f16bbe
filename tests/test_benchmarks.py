"""Smoke test of the benchmark (benchmarks/): the command runs on a tiny generated input and the
implementations agree on the yields. No timing is asserted: timings belong in BENCHMARKS.md."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ROOT") is None or importlib.util.find_spec("uproot") is None
    or shutil.which("g++") is None or not (REPO / "build" / "libnutag.so").is_file(),
    reason="needs ROOT, uproot, g++ and build/libnutag.so (make build)")


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """One small run. Of nutag's other routes only ``rdfread``: it loads the default route's
    library (each other compiled route costs a cold g++ compile) and goes through the same
    route selection, check and comparison as the others; the TTree copy's nutag job covers a
    second library."""
    work = tmp_path_factory.mktemp("bench")
    md = work / "BENCHMARKS.md"
    md.write_text("# title\n\nprose kept\n")
    r = subprocess.run([sys.executable, "-m", "benchmarks.run", "--events", "3000",
                        "--repeats", "1", "--no-full", "--no-formats", "--no-sim",
                        "--routes", "rdfread", "--work", str(work), "--markdown", str(md)],
                       cwd=REPO, capture_output=True, text=True, timeout=900)
    return r, md


def test_benchmark_command_runs_and_implementations_agree(bench_run) -> None:
    import json

    r, md = bench_run
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "agreement: ok" in r.stdout
    text = md.read_text()
    assert text.startswith("# title\n\nprose kept\n")  # the generated section is appended
    for row in ("hand-written C++ loop", "uproot + numpy", "nutag, 1 thread", "nutag, 2 threads",
                "pure read", "RNTuple", "TTree copy: nutag, 1 thread",
                "nutag, fused kernel fed by RDataFrame's column readers (NUTAG_DIRECT_READ=off), "
                "1 thread"):
        assert row in text
    # each route's cutflow and histogram bins are checked against the hand loop
    assert "nutag-rdfread-1 yes" in text and "nutag-rdfread 0" in text and "nutag 0" in text
    # the jobs ran the routes they asked for, in nutag's own words
    runs = json.loads((md.parent / "results.json").read_text())["runs"]
    assert runs["nutag-1"][0]["route"].startswith("fused kernel reading its RNTuple inputs")
    assert runs["nutag-rdfread-2"][0]["route"].startswith(
        "fused kernel, inputs read by RDataFrame (NUTAG_DIRECT_READ=off)")
    assert runs["nutag-ttree-1"][0]["route"].startswith("fused kernel, inputs read by RDataFrame")
    assert "| fused kernel reading its RNTuple inputs itself (the default) |" in text
    # no prototype is raced any more
    assert "prototype" not in text


def test_routes_select_and_check_nutags_switches() -> None:
    """benchmarks.routes: a route sets all three switches (an exported one must not leak into
    another route) and a job that did not get its route fails instead of being raced under
    its name."""
    from benchmarks import routes

    env = {"NUTAG_FUSE": "off", "PATH": "/bin"}
    routes.select("rdfread", env)
    assert env == {"NUTAG_COMPILE": "on", "NUTAG_FUSE": "auto", "NUTAG_DIRECT_READ": "off",
                   "PATH": "/bin"}
    routes.select("auto", env)
    assert env == {"PATH": "/bin"}
    routes.check("node", "compiled, one node per cut (NUTAG_FUSE=off)")
    routes.check("auto", "anything nutag chose")
    with pytest.raises(RuntimeError, match="jitted"):
        routes.check("fused", "jitted (nothing to compile, or the compiler failed)")
    assert routes.job_name("fused", 2) == "nutag-2" and routes.job_name("jit", 1) == "nutag-jit-1"


def test_markdown_section_is_replaced_not_duplicated(tmp_path: Path) -> None:
    from benchmarks import report

    f = tmp_path / "B.md"
    f.write_text(f"head\n{report.BEGIN}\nold\n{report.END}\ntail\n")
    report.update_file(f, f"{report.BEGIN}\nnew\n{report.END}\n")
    assert f.read_text() == f"head\n{report.BEGIN}\nnew\n{report.END}\ntail\n"


def test_peak_rss_is_not_inherited_from_the_benchmark_parent(tmp_path: Path) -> None:
    """Regression: every implementation reported the benchmark parent's peak RSS (837 MB after
    the parent had converted the input) because getrusage's ru_maxrss survives exec."""
    ballast = bytearray(400 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page: resident
    py = subprocess.run([sys.executable, "-c", "from benchmarks.peak_rss import peak_rss_kb; "
                         "import resource; print(peak_rss_kb(), "
                         "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                        cwd=REPO, capture_output=True, text=True, check=True)
    cxx_src = tmp_path / "rss.cxx"
    cxx_src.write_text('#include "peak_rss.hpp"\n#include <cstdio>\n'
                       'int main() { std::printf("%ld\\n", bench::peak_rss_kb()); }\n')
    exe = tmp_path / "rss"
    subprocess.run(["g++", "-std=c++17", f"-I{REPO / 'benchmarks'}", str(cxx_src), "-o", str(exe)],
                   check=True)
    cxx = subprocess.run([str(exe)], capture_output=True, text=True, check=True)
    del ballast
    py_hwm, py_getrusage = (int(x) for x in py.stdout.split())
    assert py_getrusage > 400 * 1024  # the kernel behaviour the fix is about
    assert py_hwm < 200 * 1024        # a bare Python interpreter, not the 400 MB parent
    assert 0 < int(cxx.stdout) < 50 * 1024


def test_rdf_log_parsing() -> None:
    from benchmarks.nutag_job import parse_rdf_log

    text = ("Info in <...>: Just-in-time compilation phase for RunGraphs (1 unique computation "
            "graphs) completed in 3.088438 seconds.\nInfo in <...>: Finished event loop number 0 "
            "(0.59s CPU, 0.620292s elapsed).\n")
    assert parse_rdf_log(text) == {"jit_s": 3.088438, "loop_cpu_s": 0.59, "loop_s": 0.620292,
                                   "n_loops": 1}


def test_benchmark_selection_matches_the_analysis() -> None:
    """benchmarks/kmu2_norm.yaml copies definitions of selections/nutag.yaml: they must not drift,
    or the benchmark would race on other work than the analysis does."""
    import yaml

    bench = yaml.safe_load((REPO / "benchmarks" / "kmu2_norm.yaml").read_text())
    ana = yaml.safe_load((REPO / "selections" / "nutag.yaml").read_text())
    for name, col in bench["columns"].items():
        assert col["expr"] == ana["columns"][name]["expr"], name
    for name, cut in bench["cuts"].items():
        assert cut["expr"] == ana["cuts"][name]["expr"], name
    assert bench["regions"]["kmu2_norm"]["cuts"] == ana["regions"]["kmu2_norm"]["cuts"]
    on_norm = {k: h for k, h in ana["histograms"].items()
               if "kmu2_norm" in h.get("regions", ["kmu2_norm"]) and "mc" != h.get("kinds")}
    assert set(bench["histograms"]) == set(on_norm)
    for name, h in bench["histograms"].items():
        assert (h["x"], h["bins"]) == (on_norm[name]["x"], on_norm[name]["bins"]), name


ANNOTATE = """\
--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
1,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                      file:function
--------------------------------------------------------------------------------
400,000 (40.00%)  ???:(anonymous namespace)::RColumnElementSplitLE<double, double>::Unpack(void*) [/x/libROOTNTuple.so]
250,000 (25.00%)  ???:ROOT::Internal::RDF::RNTupleColumnReader::GetImpl(long long) [/x/libROOTDataFrame.so]
150,000 (15.00%)  ???:ROOT::Detail::RDF::RFilter<bool (*)(double&), ROOT::Detail::RDF::RNodeBase>::CheckFilters(unsigned int, long long) [/x/nutag_sel_ab.so]
 50,000 ( 5.00%)  ???:ROOT::Internal::RDF::RDefineReader::GetImpl(long long) [/x/libROOTDataFrame.so]
 40,000 ( 4.00%)  ???:nutag::closest_approach(nutag::Line const&, nutag::Line const&) [/x/libnutag.so]
 30,000 ( 3.00%)  ???:TAxis::FindBin(double) [/x/libHist.so]
 20,000 ( 2.00%)  ???:long long (anonymous namespace)::kmu2<(anonymous namespace)::NTupleSource>(int&) [/x/hand_loop]
  3,000 ( 0.30%)  ???:nutag_gen_0123::kernel(bool&, double&) [/x/nutag_sel_ab.so]
  2,000 ( 0.20%)  ???:nutag_gen_0123::Event::c_p_k() [/x/nutag_sel_ab.so]
  1,000 ( 0.10%)  ???:nutag_gen_0123::rows(nutag_gen_0123::Event&) [/x/nutag_sel_ab.so]
    700 ( 0.07%)  ???:nutag_gen_0123::fill(nutag_gen_0123::Event&, TH1D* const*, TH2D* const*) [/x/nutag_sel_ab.so]
    200 ( 0.02%)  ???:nutag_gen_0123::kernel_direct(nutag_gen_0123::Event&, unsigned long) [/x/nutag_sel_ab.so]
    100 ( 0.01%)  ???:nutag_gen_0123::nutag_cut_4_mu_acceptance(double&) [/x/nutag_sel_ab.so]
 10,000 ( 1.00%)  ???:something_else [/x/libfoo.so]
"""


def test_profile_parses_and_categorises_callgrind_output() -> None:
    """The instruction accounting of benchmarks.profile: every function lands in exactly one
    category (the first pattern that matches), the totals line is not a function, nothing is
    lost, and RDataFrame's RNTuple column reader counts as column reading (it inlines the
    field read the hand loop does through RNTupleView) while RDefineReader is node machinery.
    nutag's fused kernel is straight-line selection code although its library's other
    functions are nodes."""
    from benchmarks import profile

    costs = profile.parse_annotate(ANNOTATE)
    assert len(costs) == 14 and sum(costs.values()) == 957_000
    cats = profile.categorise(costs)
    names = [c for c, _ in profile.CATEGORIES]
    assert cats[names[0]] == 650_000          # Unpack + RNTupleColumnReader
    assert cats[names[1]] == 200_000          # RFilter in the compiled selection + RDefineReader
    assert cats[names[2]] == 40_000           # libnutag
    assert cats[names[3]] == 30_000           # libHist
    # the hand loop's own code; the fused kernel's entry bookkeeping, cut tree, histogram
    # fills, accessors and expressions (rows/fill/kernel_direct were once counted as nodes)
    assert cats[names[4]] == 27_000
    assert cats[profile.OTHER] == 10_000
    assert sum(cats.values()) == sum(costs.values())


def test_profile_table_is_per_event_and_relative_to_the_first_column() -> None:
    from collections import Counter

    from benchmarks import profile

    a, b = profile.CATEGORIES[0][0], profile.CATEGORIES[1][0]
    text = profile.table({"hand": Counter({a: 1000}), "rdf": Counter({a: 1000, b: 1500})}, 10,
                         "meta")
    assert f"| {a} | 100 | 100 |" in text
    assert f"| {b} | 0 | 150 |" in text
    assert "| **total** | **100** | **250** |" in text
    assert "| total / hand | 1.00 | 2.50 |" in text


def test_profile_markdown_section_is_replaced_atomically(tmp_path: Path) -> None:
    from benchmarks import profile, report

    f = tmp_path / "B.md"
    f.write_text(f"head\n{report.BEGIN}\nrun\n{report.END}\nmid\n")
    for body in ("first", "second"):
        report.update_file(f, f"{profile.BEGIN}\n{body}\n{profile.END}\n", profile.BEGIN,
                           profile.END)
    text = f.read_text()
    assert text.count(profile.BEGIN) == 1 and "second" in text and "first" not in text
    assert text.startswith(f"head\n{report.BEGIN}\nrun\n{report.END}\nmid\n")
    assert not list(tmp_path.glob(".*.tmp"))


def _table_row(text: str, first_cell: str) -> list[float]:
    """The numbers of the Markdown table row starting with ``first_cell``."""
    line = next(x for x in text.splitlines() if x.startswith(f"| {first_cell} |"))
    return [float(c.strip(" *").replace(",", "")) for c in line.split("|")[2:-1]]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_profile_command_runs_and_cutflows_agree(tmp_path: Path, bench_run) -> None:
    """End to end under callgrind: the hand loop and nutag's own event loop (default route;
    the other routes are the same job with other switches), only the loop instrumented,
    cutflows compared, and the counts are real: the same physics helpers and column reading
    per event in both programs, totals of the magnitude the full profile finds (~8,000
    instructions per event). It reuses the benchmark run's input (3000 events) and compile
    cache, which already holds the selection's library (the same YAML and schema)."""
    from benchmarks import profile

    md = tmp_path / "B.md"
    md.write_text("# prose\n")
    bench_work = bench_run[1].parent
    r = subprocess.run([sys.executable, "-m", "benchmarks.profile", "--routes", "fused",
                        "--input", str(bench_work / "kmu2_control.root"),
                        "--compile-cache", str(bench_work / "compiled"),
                        "--work", str(tmp_path), "--markdown", str(md)],
                       cwd=REPO, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    nutag = profile.COLUMN["fused"]
    assert f"| instructions per event | hand-written loop | {nutag} |" in out
    assert 'nutag reported "fused kernel reading its RNTuple inputs itself' in out
    hand_total, nutag_total = _table_row(out, "**total**")
    assert 2_000 < hand_total < 50_000 and 2_000 < nutag_total < 50_000
    assert 0.8 < _table_row(out, "total / hand-written loop")[1] < 2.0
    cats = [c for c, _ in profile.CATEGORIES]
    helpers, reading = _table_row(out, cats[2]), _table_row(out, cats[0])
    assert helpers[0] > 0 and helpers[0] == pytest.approx(helpers[1], rel=0.02)  # same physics
    assert reading[0] > 1_000 and reading[1] > 1_000
    text = md.read_text()
    assert text.startswith("# prose\n") and profile.BEGIN in text and nutag in text


def test_suite_time_tables_group_by_module_and_flag_the_budget() -> None:
    """benchmarks.suite_time: fixture (setup + teardown) and test (call) seconds summed per
    module, slowest module first; a test over the 60 s budget is marked."""
    from benchmarks import suite_time

    record = {"wall_s": 100.0, "workers": 2, "tests": {
        "tests/test_a.py::t1": {"setup": 50.0, "call": 20.0, "teardown": 1.0},
        "tests/test_a.py::t2": {"setup": 0.0, "call": 3.0, "teardown": 0.0},
        "tests/test_b.py::t1": {"setup": 0.5, "call": 90.0, "teardown": 0.0},
        "tests/test_c.py::t1": {"setup": 0.0, "call": 1.0, "teardown": 0.0}}}
    rows = suite_time.per_module(record["tests"])
    assert rows == [("tests/test_b.py", 0.5, 90.0, 1), ("tests/test_a.py", 51.0, 23.0, 2),
                    ("tests/test_c.py", 0.0, 1.0, 1)]
    text = suite_time.markdown(record, [("a unit", 1.25)], "host", top=2, modules=2)
    assert "| tests/test_b.py | 0 | 90 | 1 | 55 % |" in text
    assert "| 1 other modules | 0 | 1 | 1 | 1 % |" in text
    assert "`tests/test_b.py::t1` **over budget**" in text   # 90.5 s
    assert "`tests/test_a.py::t1` **over budget**" in text   # 71 s
    assert "test_a.py::t2" not in text                       # only the top 2
    assert "| a unit | 1.2 |" in text and "2 worker(s), 4 tests" in text


def test_time_budget_record_and_whole_modules_per_worker(tmp_path: Path) -> None:
    """``pytest -n 2 --time-budget`` (tests/conftest.py) records every test's phases and its
    worker, and the scheduler keeps each module on one worker (its module fixtures made once)."""
    import json

    out = tmp_path / "times.json"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                        "--time-budget", str(out), "tests/test_stats.py", "tests/test_results.py",
                        "tests/test_cli_help.py"], cwd=REPO, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["workers"] == 2 and record["exitstatus"] == 0 and record["wall_s"] > 0
    tests = record["tests"]
    assert len(tests) >= 20 and all({"setup", "call", "teardown"} <= set(t) for t in tests.values())
    workers: dict[str, set[str]] = {}
    for nodeid, worker in record["worker_of"].items():
        workers.setdefault(nodeid.split("::")[0], set()).add(worker)
    assert len(workers) == 3 and all(len(w) == 1 for w in workers.values()), workers


def test_slow_modules_first_names_existing_modules() -> None:
    """A renamed module left in conftest.SLOW_MODULES_FIRST would silently lose its place."""
    from conftest import SLOW_MODULES_FIRST

    missing = [m for m in SLOW_MODULES_FIRST if not (REPO / "tests" / m).is_file()]
    assert not missing and len(set(SLOW_MODULES_FIRST)) == len(SLOW_MODULES_FIRST), missing
