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
    from nutag.outputs import report

    out = tmp_path / "results"
    shutil.copytree(good[1], out)
    first = report.report_from_dir(out)
    assert report.report_from_dir(out) == first == (out / "summary.md").read_text()


def test_regression_report_keeps_what_nutag_did_not_write(good: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    """`nutag report` used to delete everything else in the directory: a projection, the
    displays, one's notes. They are carried over; nutag's own files are rewritten."""
    from nutag.outputs import report

    out = tmp_path / "results"
    shutil.copytree(good[1], out)
    (out / "projection.json").write_text('{"mine": 1}')
    (out / "displays").mkdir()
    (out / "displays" / "display_data_1.png").write_bytes(b"png")
    (out / "notes.txt").write_text("my notes")
    (out / "summary.md").write_text("stale")
    report.report_from_dir(out)
    assert (out / "projection.json").read_text() == '{"mine": 1}'
    assert (out / "displays" / "display_data_1.png").read_bytes() == b"png"
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "summary.md").read_text() != "stale"
    report.report_from_dir(out)  # and again, now with a manifest of nutag's own files
    assert (out / "notes.txt").read_text() == "my notes"


def test_regression_symlinked_results_dir_is_followed_not_replaced(good: tuple[Path, Path],
                                                                   tmp_path: Path) -> None:
    from nutag.outputs import report

    target = tmp_path / "storage" / "results"
    shutil.copytree(good[1], target)
    link = tmp_path / "results"
    link.symlink_to(target)
    (target / "summary.md").write_text("stale")
    report.report_from_dir(link)
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert (target / "summary.md").read_text() != "stale"


def test_regression_second_writer_of_one_results_dir_is_refused(good: tuple[Path, Path],
                                                                tmp_path: Path) -> None:
    """Two runs into the same --output both succeeded, the first printing a path that held the
    other's results; now the second one is refused at once, and the first's lock ends with it."""
    from nutag.outputs import report
    from nutag.core.errors import NutagError
    from nutag.outputs.results_dir import output_lock

    out = tmp_path / "results"
    shutil.copytree(good[1], out)
    with output_lock(out):
        with pytest.raises(NutagError, match="another nutag process .* is writing the results"):
            report.report_from_dir(out)
    report.report_from_dir(out)  # released


def test_regression_input_deleted_during_the_loop_keeps_the_run(tmp_path: Path,
                                                                monkeypatch) -> None:
    """The provenance read file sizes after the event loop: deleting an input during the loop
    threw the finished loop away. Inputs are now described before the loop."""
    from nutag.jobs import pipeline

    samples = rt.write_toy(tmp_path / "toy", n=300)
    cfg = rt.write_config(tmp_path, samples)
    real = pipeline._execute

    def execute_then_delete(*args, **kw):
        res = real(*args, **kw)
        (tmp_path / "toy" / "overlay.root").unlink()
        return res

    monkeypatch.setattr(pipeline, "_execute", execute_then_delete)
    monkeypatch.setenv("NUTAG_COMPILE", "off")
    out, _ = pipeline.run_analysis(cfg, threads=1, output=tmp_path / "results")
    import json

    prov = json.loads((out / "summary.json").read_text())["provenance"]
    sizes = {Path(i["file"]).name: i["size"] for i in prov["inputs"]}
    assert sizes["overlay.root"] > 0
