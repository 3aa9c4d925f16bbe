"""``nutag report RESULTS_DIR`` remakes tables and plots from the stored histograms alone.

Proof that no event is read: the input files are moved away first; the remade summary.json,
summary.md and cutflows are byte-identical to the run's, and every plot is back.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import _robust_toy as rt


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return rt.good_run(tmp_path_factory.getbasetemp())


def test_report_without_events_gives_identical_tables(good: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    cfg, run_dir = good
    out = tmp_path / "results"
    shutil.copytree(run_dir, out)
    kept = {n: (out / n).read_bytes() for n in ("summary.json", "summary.md", "cutflows.json",
                                                "cutflows.md", "results.json")}
    plots = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".pdf"))
    assert plots, "the run made no plot"
    for name in ["summary.md", "summary.json", "cutflows.md", "cutflows.json", *plots]:
        (out / name).unlink()
    inputs = cfg.parent / "toy"
    hidden = cfg.parent / "toy.hidden-during-report"
    inputs.rename(hidden)  # no event can be read: the inputs are gone
    try:
        proc = rt.nutag("-q", "report", str(out), check=True)
    finally:
        hidden.rename(inputs)
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    for name, content in kept.items():
        assert (out / name).read_bytes() == content, f"{name} differs after nutag report"
    for name in plots:
        assert (out / name).stat().st_size > 0, name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".results.")]


def test_report_is_repeatable(good: tuple[Path, Path], tmp_path: Path) -> None:
    from nutag import report

    out = tmp_path / "results"
    shutil.copytree(good[1], out)
    first = report.report_from_dir(out)
    assert report.report_from_dir(out) == first == (out / "summary.md").read_text()
