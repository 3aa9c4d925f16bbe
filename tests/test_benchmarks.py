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
    work = tmp_path_factory.mktemp("bench")
    md = work / "BENCHMARKS.md"
    md.write_text("# title\n\nprose kept\n")
    r = subprocess.run([sys.executable, "-m", "benchmarks.run", "--events", "3000",
                        "--repeats", "1", "--no-full", "--no-formats", "--no-sim",
                        "--work", str(work), "--markdown", str(md)],
                       cwd=REPO, capture_output=True, text=True, timeout=900)
    return r, md


def test_benchmark_command_runs_and_implementations_agree(bench_run) -> None:
    r, md = bench_run
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "agreement: ok" in r.stdout
    text = md.read_text()
    assert text.startswith("# title\n\nprose kept\n")  # the generated section is appended
    for row in ("hand-written C++ loop", "uproot + numpy", "nutag, 1 thread", "nutag, 2 threads",
                "pure read", "RNTuple"):
        assert row in text


def test_markdown_section_is_replaced_not_duplicated(tmp_path: Path) -> None:
    from benchmarks import report

    f = tmp_path / "B.md"
    f.write_text(f"head\n{report.BEGIN}\nold\n{report.END}\ntail\n")
    report.update_file(f, f"{report.BEGIN}\nnew\n{report.END}\n")
    assert f.read_text() == f"head\n{report.BEGIN}\nnew\n{report.END}\ntail\n"


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
