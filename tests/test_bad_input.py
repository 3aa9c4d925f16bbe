"""Bad input -> a clear error, nothing lost: every case through the CLI, as a user meets it.

Each case runs ``nutag run`` (or ``simulate``/``report``) on a toy analysis with one thing
broken, and checks: non-zero exit status, no Python traceback, a message on stderr naming
*what* is wrong (file:line and key for configuration) and *how to fix it*, and that no results
directory appeared.

Most cases call ``nutag.cli.main`` in this process: the same code path as the ``nutag`` command
(``python -m nutag.cli`` is ``sys.exit(main())``), the same exit status and stderr, without a
ROOT start-up per case. Cases that run an event loop share this process's cling as well, so the
default selection is jitted once for the module instead of once per case. Three cases stay
subprocesses, each saying why: one ordinary error through the real command (exit status 1 and
no traceback on the process's own stderr), and the two integer divisions by zero, whose guard
ends the process on SIGFPE. tests/test_config.py holds the unit-level versions of some.
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import _robust_toy as rt

REPO = rt.REPO
KMU2, NUTAG = REPO / "selections" / "kmu2.yaml", REPO / "selections" / "nutag.yaml"


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Toy samples shared by every case (read-only: cases copy what they change)."""
    return rt.write_toy(tmp_path_factory.mktemp("bad_input_toy") / "toy")


@dataclass
class Case:
    work: Path
    toy_samples: Path
    capsys: pytest.CaptureFixture[str]

    def selection(self, name: str, old: str, new: str) -> Path:
        """A copy of selections/<name> with ``old`` replaced by ``new`` (exactly once)."""
        src = KMU2 if name == "kmu2.yaml" else NUTAG
        text = src.read_text()
        assert text.count(old) == 1, f"{old!r} not unique in {src}"
        path = self.work / name
        path.write_text(text.replace(old, new))
        return path

    def line_of(self, path: Path, needle: str) -> int:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if needle in line:
                return i
        raise AssertionError(f"{needle!r} not in {path}")

    def config(self, *, kmu2: Path = KMU2, nutag: Path = NUTAG, samples: Path | None = None,
               edit: Callable[[str], str] | None = None) -> Path:
        cfg = rt.write_config(self.work, samples or self.toy_samples, selections=[kmu2, nutag])
        if edit is not None:
            cfg.write_text(edit(cfg.read_text()))
        return cfg

    def samples(self, old: str, new: str) -> Path:
        text = self.toy_samples.read_text()
        assert old in text, old
        text = text.replace(old, new)
        # absolute paths: the copy lives elsewhere
        text = re.sub(r"files: \[(\w+\.root)\]",
                      lambda m: f"files: [{self.toy_samples.parent / m.group(1)}]", text)
        path = self.work / "samples.yaml"
        path.write_text(text)
        return path

    def run(self, cfg: Path, *extra: str, subprocess: bool = False,
            output: Path | None = None) -> tuple[str, Path]:
        """``nutag run`` of ``cfg`` that must fail: (stderr, the results directory asked for).
        In this process unless ``subprocess`` (see the module docstring)."""
        out = output or self.work / "results"
        args = ("run", str(cfg), "--threads", "1", "--output", str(out), *extra)
        if subprocess:
            return _failed(rt.nutag(*args)), out
        return self.main(*args), out

    def main(self, *args: str) -> str:
        """``nutag ARGS`` in this process, which must fail as the command would: a non-zero
        status, ``nutag: error:`` and no traceback on stderr; returns stderr. An exception that
        the command would have shown as a traceback propagates and fails the test."""
        from nutag import cli

        # the log on stderr, as the command writes it (logging.basicConfig in cli.main is a
        # no-op here: pytest's own handlers are already on the root logger)
        root = logging.getLogger()
        level = root.level
        self.capsys.readouterr()
        stream = logging.StreamHandler(sys.stderr)  # capsys's stderr, set for this test
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
        root.setLevel(logging.INFO)
        try:
            status = cli.main(list(args))
        finally:
            root.removeHandler(stream)
            root.setLevel(level)
        captured = self.capsys.readouterr()
        assert status != 0, f"expected a failure, got:\n{captured.out[-2000:]}"
        assert "Traceback" not in captured.err, captured.err[-4000:]
        assert "nutag: error:" in captured.err, captured.err[-4000:]
        return captured.err


def _failed(proc) -> str:
    assert proc.returncode != 0, f"expected a failure, got:\n{proc.stdout[-2000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr[-4000:]
    assert "nutag: error:" in proc.stderr, proc.stderr[-4000:]
    return proc.stderr


@pytest.fixture
def case(tmp_path: Path, toy: Path, capsys: pytest.CaptureFixture[str]) -> Case:
    return Case(tmp_path, toy, capsys)


def _no_results(out: Path) -> None:
    assert not out.exists(), "a failed run must not leave a results directory"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


# --------------------------------------------------------------------------- YAML and schema
def test_yaml_syntax_error_names_file_and_line(case: Case) -> None:
    sel = case.selection("nutag.yaml", "bins: [80, -0.04, 0.04]", "bins: [80, -0.04, 0.04")
    # A subprocess on purpose: the one ordinary error (status 1) checked through the real
    # command, on the process's own stderr (every other case calls the same main() in-process).
    err, out = case.run(case.config(nutag=sel), subprocess=True)
    assert f"{sel}:" in err and "(yaml syntax)" in err
    line = int(re.search(rf"{re.escape(str(sel))}:(\d+):", err).group(1))
    assert abs(line - case.line_of(sel, "bins: [80, -0.04, 0.04")) <= 3
    _no_results(out)


def test_duplicate_key(case: Case) -> None:
    sel = case.selection("nutag.yaml", "  sb_mmiss:\n", "  sb_dlkr:\n")
    err, out = case.run(case.config(nutag=sel))
    assert re.search(rf"{re.escape(str(sel))}:\d+: sb_dlkr: duplicate key \(first at line \d+\)",
                     err), err
    _no_results(out)


def test_unknown_key_did_you_mean(case: Case) -> None:
    sel = case.selection("nutag.yaml", "    doc: \"m_miss2 side-bands (mis-reconstructed K+ "
                         "decays)\"\n    based_on: signal",
                         "    doc: \"m_miss2 side-bands (mis-reconstructed K+ decays)\"\n"
                         "    based_onn: signal")
    err, out = case.run(case.config(nutag=sel))
    line = case.line_of(sel, "based_onn")
    assert f"{sel}:{line}: regions.sb_mmiss.based_onn: unknown key in region" in err
    assert "did you mean 'based_on'?" in err
    _no_results(out)


def test_unknown_key_in_analysis_config(case: Case) -> None:
    cfg = case.config(edit=lambda t: t.replace("options:\n", "optoins:\n"))
    err, _ = case.run(cfg)
    assert f"{cfg}:" in err and "optoins: unknown key in analysis" in err
    assert "did you mean 'options'?" in err


def test_unknown_column_did_you_mean(case: Case) -> None:
    sel = case.selection("nutag.yaml", 'expr: "e_had > 5.0"', 'expr: "e_hadd > 5.0"')
    err, out = case.run(case.config(nutag=sel))
    line = case.line_of(sel, "e_hadd > 5.0")
    assert f"{sel}:{line - 1}: cuts.e_had_min: unknown column 'e_hadd'" in err
    assert "did you mean 'e_had'?" in err
    _no_results(out)


def test_wrong_type(case: Case) -> None:
    sel = case.selection("nutag.yaml", "    blind: true\n    cuts: [box_signal",
                         "    blind: \"yes\"\n    cuts: [box_signal")
    err, _ = case.run(case.config(nutag=sel))
    line = case.line_of(sel, 'blind: "yes"')
    assert f"{sel}:{line}: regions.signal.blind: expected true|false, got str" in err


def test_cut_that_does_not_compile_shown_against_the_yaml_line(case: Case) -> None:
    sel = case.selection("nutag.yaml", 'expr: "e_had > 5.0"', 'expr: "e_had > > 5.0"')
    err, out = case.run(case.config(nutag=sel))
    line = case.line_of(sel, "e_had_min:")
    assert f"{sel}:{line}: cuts.e_had_min: cut expression 'e_had > > 5.0' does not compile" in err
    assert "error" in err.split("does not compile", 1)[1]  # cling's own diagnostic follows
    _no_results(out)


# --------------------------------------------------------------------------- regions and boxes
def test_region_without_cuts(case: Case) -> None:
    sel = case.selection("nutag.yaml", "regions:\n", "regions:\n  nothing_cut: {cuts: []}\n")
    err, _ = case.run(case.config(nutag=sel))
    assert f"{sel}:{case.line_of(sel, 'nothing_cut')}: regions.nothing_cut: the region has " \
           "no cut" in err
    assert "box_none" in err  # the fix names the explicit way


def test_two_regions_with_identical_cuts(case: Case) -> None:
    sel = case.selection("nutag.yaml", "histograms:\n",
                         "  sb_dlkr_again: {based_on: sb_dlkr}\n\nhistograms:\n")
    err, _ = case.run(case.config(nutag=sel))
    assert "regions.sb_dlkr_again: the region has the same cuts as region 'sb_dlkr'" in err
    assert "remove one of them" in err


def test_identical_cuts_blind_and_not_blind_is_a_blinding_leak(case: Case) -> None:
    sel = case.selection("nutag.yaml", "histograms:\n",
                         "  peek: {based_on: signal, blind: false}\n\nhistograms:\n")
    err, _ = case.run(case.config(nutag=sel))
    assert "same cuts as region 'signal'" in err and "blind events would be read" in err


def test_signal_region_overlapping_a_sideband(case: Case) -> None:
    # the d_LKr side-band now starts at 40 mm, inside the 50 mm signal box
    sel = case.selection("nutag.yaml", 'box_dlkr_sb_lo: {expr: "100.0"', 'box_dlkr_sb_lo: {expr: "40.0"')
    cfg = case.config(nutag=sel)
    err, out = case.run(cfg)
    line = case.line_of(cfg, "sideband_region: sb_dlkr")
    assert f"{cfg}:{line}: options.backgrounds.overlaid_kmu2.sideband_region: region 'sb_dlkr' " \
           "(the data side-band of background overlaid_kmu2) overlaps the blind box box_signal" \
           in err
    assert "box_dlkr_sb_lo = 40" in err and "move the region's edges out of the box" in err
    _no_results(out)


def test_empty_sideband_box(case: Case) -> None:
    sel = case.selection("nutag.yaml", 'box_dlkr_sb_hi: {expr: "300.0"', 'box_dlkr_sb_hi: {expr: "80.0"')
    err, _ = case.run(case.config(nutag=sel))
    assert "regions.sb_dlkr: the region selects nothing" in err
    assert "box_dlkr_sb_hi = 80" in err and "lower edge below its upper edge" in err


def test_signal_region_must_be_blind(case: Case) -> None:
    sel = case.selection("nutag.yaml", "    blind: true\n    cuts: [box_signal",
                         "    blind: false\n    cuts: [box_signal")
    err, _ = case.run(case.config(nutag=sel))
    assert "regions.signal: the signal region (options.signal.region) is not blind" in err
    assert "add 'blind: true'" in err


def test_unknown_region_in_options(case: Case) -> None:
    cfg = case.config(edit=lambda t: t.replace("sideband_region: sb_dlkr", "sideband_region: sb_dlrk"))
    err, _ = case.run(cfg)
    line = case.line_of(cfg, "sb_dlrk")
    assert f"{cfg}:{line}: options.backgrounds.overlaid_kmu2.sideband_region: unknown region " \
           "'sb_dlrk'" in err and "did you mean 'sb_dlkr'?" in err


def test_unknown_sample_in_options(case: Case) -> None:
    cfg = case.config(edit=lambda t: t.replace("data_sample: data", "data_sample: dat"))
    err, _ = case.run(cfg)
    assert "options.normalisation.data_sample: unknown sample 'dat'" in err
    assert "did you mean 'data'?" in err


# --------------------------------------------------------------------------- units
def test_unit_inside_a_box_constant(case: Case) -> None:
    sel = case.selection("nutag.yaml", 'box_dlkr_sr:   {expr: "50.0"', 'box_dlkr_sr:   {expr: "50 mm"')
    err, _ = case.run(case.config(nutag=sel))
    line = case.line_of(sel, "box_dlkr_sr:")
    assert f"{sel}:{line}: columns.box_dlkr_sr.expr: '50 mm' carries a unit" in err
    assert 'expr: "50", unit: mm' in err


def test_box_constant_in_the_wrong_unit(case: Case) -> None:
    sel = case.selection("nutag.yaml", 'box_dlkr_sr:   {expr: "50.0", unit: mm',
                         'box_dlkr_sr:   {expr: "5.0", unit: cm')
    err, _ = case.run(case.config(nutag=sel))
    line = case.line_of(sel, "box_dlkr_sr:")
    assert f"{sel}:{line}: columns.box_dlkr_sr.unit: the constant is in cm but cuts.box_signal" \
           in err
    assert "which is in mm" in err and "give box_dlkr_sr in mm" in err


def test_sample_meta_with_a_unit(case: Case) -> None:
    samples = case.samples("n_generated: 1500}", "n_generated: 1500 events}")
    err, _ = case.run(case.config(samples=samples))
    assert f"{samples}:" in err and ".meta.n_generated: expected a number" in err
    assert "write the plain number 1500" in err


def test_fixed_systematic_in_percent(case: Case) -> None:
    cfg = case.config(edit=lambda t: t.replace("relaxed_selection_shape: 0.10",
                                               "relaxed_selection_shape: 10 %"))
    err, _ = case.run(cfg)
    assert "options.backgrounds.overlaid_kmu2.systematics.relaxed_selection_shape: expected a " \
           "fraction" in err and "write the fraction 0.1 for 10 %" in err


def test_simulation_value_with_a_unit(case: Case) -> None:
    from nutag.config.checks import quantity_error

    cfg = case.work / "sim.yaml"
    cfg.write_text("# my simulation\nbeam_momentum: 75 GeV\n")
    err = case.main("simulate", str(cfg), "--events", "10", "--output", str(case.work / "out"))
    assert f"{cfg}:2: beam_momentum:" in err and "'75 GeV'" in err
    # the message every loader gives (nutag.config.checks.quantity_error) names the expected unit
    msg, fix = quantity_error("75 GeV", "GeV/c")
    assert "expected unit: GeV/c" in msg and fix == "write 75 (the unit is implied)"
    if "expected unit" not in err:
        pytest.xfail("simulate/config.py does not call nutag.config.checks.quantity_error yet")


# --------------------------------------------------------------------------- input files
def test_missing_analysis_config(case: Case) -> None:
    err, _ = case.run(case.work / "nope.yaml")
    assert "nope.yaml:0: (file): analysis config not found" in err


def test_missing_input_file(case: Case) -> None:
    samples = case.samples("files: [data.root]", "files: [nope.root]")
    err, out = case.run(case.config(samples=samples))
    assert f"{samples}:" in err and "samples.data.files[0]: input file" in err
    assert "does not exist" in err
    _no_results(out)


def test_truncated_input_file(case: Case) -> None:
    bad = case.work / "data_truncated.root"
    bad.write_bytes((case.toy_samples.parent / "data.root").read_bytes()[:30000])
    samples = case.samples("files: [data.root]", f"files: [{bad}]")
    err, _ = case.run(case.config(samples=samples))
    assert "samples.data.files:" in err and "is truncated or was not closed" in err
    assert "re-copy or re-produce" in err


def test_corrupt_input_file(case: Case) -> None:
    bad = case.work / "data_corrupt.root"
    bad.write_bytes(b"this is not a ROOT file at all" * 20)
    samples = case.samples("files: [data.root]", f"files: [{bad}]")
    err, _ = case.run(case.config(samples=samples))
    assert "samples.data.files:" in err and "cannot open" in err and "as a ROOT file" in err


def test_missing_tree(case: Case) -> None:
    samples = case.samples("{kind: data, files: [data.root]", "{kind: data, tree: nutga, "
                           "files: [data.root]")
    err, _ = case.run(case.config(samples=samples))
    assert "samples.data.tree: no tree or RNTuple 'nutga'" in err
    assert "did you mean 'nutag'?" in err


def _rntuple_copy(case: Case) -> Path:
    """The toy data sample as an RNTuple, the format `nutag simulate` writes."""
    from nutag.core.rootenv import import_root

    ROOT = import_root()
    dst = case.work / "data_rntuple.root"
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kRNTuple
    ROOT.RDataFrame("nutag", str(case.toy_samples.parent / "data.root")).Snapshot(
        "nutag", str(dst), "", opts)
    return dst


@pytest.mark.parametrize("keep", [30000, 0.9])
def test_truncated_rntuple_input_file(case: Case, keep: float) -> None:
    """A truncated RNTuple file, cut early (no anchor) or late (anchor and footer lost)."""
    src = _rntuple_copy(case).read_bytes()
    bad = case.work / "data_rntuple_truncated.root"
    bad.write_bytes(src[:int(keep if keep > 1 else keep * len(src))])
    samples = case.samples("files: [data.root]", f"files: [{bad}]")
    err, out = case.run(case.config(samples=samples))
    assert "samples.data.files:" in err and str(bad) in err and "re-copy or re-produce" in err
    # ROOT either recovers the keys it finds (refused: events would be missing) or gives up
    assert "is truncated or was not closed" in err or "cannot open" in err
    _no_results(out)


def test_rntuple_input_with_another_name(case: Case) -> None:
    good = _rntuple_copy(case)
    samples = case.samples("{kind: data, files: [data.root]", "{kind: data, tree: nutga, "
                           f"files: [{good}]")
    err, _ = case.run(case.config(samples=samples))
    assert "samples.data.tree: no tree or RNTuple 'nutga'" in err
    assert "did you mean 'nutag'?" in err


def _rewrite(src: Path, dst: Path, edit: str) -> Path:
    """A copy of a toy file through RDataFrame (``edit``: a Python expression on ``df``)."""
    from nutag.core.rootenv import import_root

    ROOT = import_root()
    df = ROOT.RDataFrame("nutag", str(src))
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kTTree  # a TTree input, on purpose
    eval(edit, {"df": df}).Snapshot("nutag", str(dst), "", opts)  # noqa: S307 (test code)
    return dst


def test_empty_data_sample(case: Case) -> None:
    empty = _rewrite(case.toy_samples.parent / "data.root", case.work / "empty.root",
                     'df.Filter("false")')
    samples = case.samples("files: [data.root]", f"files: [{empty}]")
    err, _ = case.run(case.config(samples=samples))
    assert "samples.data.files: sample 'data' has no entry: its 1 file(s) hold 0 events" in err


def test_zero_normalisation_events(case: Case) -> None:
    """An event loop runs (nothing is wrong before), then N_K is undefined: a clear error."""
    nocontrol = _rewrite(case.toy_samples.parent / "data.root", case.work / "nocontrol.root",
                         'df.Redefine("trigger_control", "false")')
    samples = case.samples("files: [data.root]", f"files: [{nocontrol}]")
    err, out = case.run(case.config(samples=samples))
    # 1509 events in the file, 4 of them inside the blind box: a blinded run never reads those
    assert "the normalisation region 'kmu2_norm' selected no event of the data sample 'data' " \
           "(of 1505 events read)" in err
    assert "N_K, and with it every expected yield, is undefined" in err
    assert "control_downscaling" in err
    _no_results(out)


# --------------------------------------------------------------------------- outputs
def test_unwritable_output_directory(case: Case) -> None:
    blocker = case.work / "a_file"
    blocker.write_text("not a directory")
    out = blocker / "results"
    err, _ = case.run(case.config(), output=out)
    assert f"cannot write the results directory {out}: {blocker} is a file" in err
    assert "choose a writable --output" in err
    assert blocker.read_text() == "not a directory"


def test_output_directory_that_is_not_a_results_directory(case: Case) -> None:
    """nutag replaces its results directory as a whole: never someone else's directory."""
    from nutag.core.errors import NutagError
    from nutag.outputs.report import check_output_dir

    mine = case.work / "my_thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    with pytest.raises(NutagError, match="is not a nutag results directory") as exc:
        check_output_dir(mine)
    assert "choose another --output" in str(exc.value)
    assert (mine / "chapter1.tex").read_text() == "precious"
    check_output_dir(case.work / "new_results")  # absent or a results directory: fine


def test_report_of_a_directory_without_results(case: Case) -> None:
    err = case.main("report", str(case.work))
    assert "results.json not found" in err and "not a nutag results directory" in err
    assert "run `nutag run` first" in err


def test_report_of_a_damaged_results_directory(case: Case) -> None:
    (case.work / "results.json").write_text("{not json")
    err = case.main("report", str(case.work))
    assert "is not valid JSON" in err and "rerun `nutag run`" in err
    shutil.rmtree(case.work / "results.json", ignore_errors=True)


# --------------------------------------------------------------------------- issue 22
def test_regression_same_file_twice_in_a_sample_is_an_error(case: Case) -> None:
    """The same file listed twice (here once through ./) would double N_K silently."""
    d = case.toy_samples.parent
    samples = case.samples("files: [data.root]", f"files: [{d}/data.root,\n    {d}/./data.root]")
    err, out = case.run(case.config(samples=samples))
    first, second = case.line_of(samples, f"[{d}/data.root"), case.line_of(samples, "/./data")
    assert f"{samples}:{second}: samples.data.files[1]: '{d}/./data.root' is already listed " \
           f"as samples.data.files[0] (line {first})" in err
    assert "counted twice" in err and "list each file once" in err
    _no_results(out)


@pytest.mark.parametrize("bins, message", [
    ("[-5, -0.04, 0.04]", "the number of bins must be a whole number from 1 to 1,000,000, "
                          "got -5"),
    ("[10, -1.0e+308, 1.0e+308]", "the axis range [-1e+308, 1e+308] is not finite"),
    ("[1.0e+9, -0.04, 0.04]", "the number of bins must be a whole number from 1 to "
                              "1,000,000, got 1e+09"),
    ("[1e9, -0.04, 0.04]", "the number of bins must be a whole number from 1 to 1,000,000, "
                           "got 1e+09"),
    ("[true, -0.04, 0.04]", "invalid binning"),
    ("{edges: [-0.04, .nan, 0.04]}", "bin edges [-0.04, nan, 0.04] are not all finite"),
    ("[160, 0.04, -0.04]", "the lower edge 0.04 is not below the upper edge -0.04"),
])
def test_regression_histogram_binning_that_cannot_be_booked_is_an_error(
        case: Case, bins: str, message: str) -> None:
    """Bins that silently changed meaning (2 edges), gave NaN edges or exhausted the memory."""
    sel = case.selection("nutag.yaml", "bins: [160, -0.04, 0.04]", f"bins: {bins}")
    err, out = case.run(case.config(nutag=sel))
    line = case.line_of(sel, f"bins: {bins}")
    assert f"{sel}:{line}: histograms.m_miss2.bins: {message}" in err, err
    _no_results(out)


def test_regression_2d_histogram_with_too_many_bins_is_an_error(case: Case) -> None:
    sel = case.selection("nutag.yaml", "ybins: [300, 0.0, 600.0]", "ybins: [300000, 0.0, 600.0]")
    err, _ = case.run(case.config(nutag=sel))
    line = case.line_of(sel, "ybins: [300000")
    assert f"{sel}:{line}: histograms.m2_vs_dlkr_fine.ybins: 400 x 300,000 = 120,000,000 bins " \
           "is more than 10,000,000" in err


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_regression_meta_n_generated_not_finite_is_an_error(case: Case, value: str) -> None:
    """meta.n_generated: .nan passed the checks and failed after the event loop."""
    samples = case.samples("n_generated: 1500}", f"n_generated: {value}}}")
    err, out = case.run(case.config(samples=samples))
    assert f"{samples}:" in err and ".meta.n_generated: expected a finite positive number" in err
    _no_results(out)


def test_regression_yaml_merge_key_is_not_a_duplicate(case: Case) -> None:
    """``<<: *anchor`` was refused as a duplicate key; keys written beside it win."""
    from nutag.config.analysis import load_selection

    sel = case.selection("nutag.yaml", "  m_miss2:\n    x: m_miss2\n    bins: [160, -0.04, 0.04]\n",
                         "  m_miss2: &m2\n    x: m_miss2\n    bins: [160, -0.04, 0.04]\n"
                         "  m_miss2_coarse:\n    <<: *m2\n    bins: [16, -0.04, 0.04]\n")
    hists = load_selection([KMU2, sel]).histograms
    assert (hists["m_miss2_coarse"].x, hists["m_miss2_coarse"].bins.n) == ("m_miss2", 16)
    assert hists["m_miss2"].bins.n == 160
    # a key written twice beside the merge is still a duplicate
    dup = case.selection("nutag.yaml", "  m_miss2:\n    x: m_miss2\n",
                         "  m_miss2: &m2\n    x: m_miss2\n  again:\n    <<: *m2\n    x: d_lkr\n"
                         "    x: e_nu\n")
    err, _ = case.run(case.config(nutag=dup))
    assert f"{dup}:{case.line_of(dup, 'x: e_nu')}: x: duplicate key" in err


def test_regression_yaml_alias_bomb_is_refused(case: Case) -> None:
    """A 'billion laughs' document was accepted and exhausted the memory after the loop."""
    bomb = ["laughs:", '  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        bomb.append(f"  {name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    cfg = case.config(edit=lambda t: t.replace("options:\n", "\n".join(bomb) + "\noptions:\n"))
    err, out = case.run(cfg)
    line = case.line_of(cfg, "  i: &i")
    assert f"{cfg}:{line}: (yaml aliases): the aliases expand the document to " in err
    assert "'*h' here alone stands for 48,427,561" in err and "alias bomb" in err
    _no_results(out)


@pytest.mark.parametrize("command", [["run"], ["simulate"], ["closure"]])
@pytest.mark.parametrize("threads", ["4294967297", "1e20", "1025", "0"])
def test_regression_threads_out_of_range_is_an_argparse_error(
        command: list[str], threads: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--threads 4294967297 wrapped to 1 thread, 1e20 gave a cppyy traceback."""
    from nutag.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([*command, "--threads", threads])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --threads: must be from 1 to 1024, got" in err and threads in err
    assert build_parser().parse_args([*command, "--threads", "1024"]).threads == 1024


def test_regression_cut_running_a_shell_command_is_refused(case: Case) -> None:
    """A cut calling std::system ran the shell command once per event."""
    from nutag.config.analysis import load_selection

    marker = case.work / "pwned"
    sel = case.selection("nutag.yaml", 'expr: "e_had > 5.0"',
                         f'expr: "e_had > 5.0 && std::system(\\"touch {marker}\\") >= 0"')
    err, out = case.run(case.config(nutag=sel))
    line = case.line_of(sel, "e_had_min:")
    assert f"{sel}:{line}: cuts.e_had_min: expression " in err
    assert "uses 'system', which can run programs or write files" in err
    assert "--allow-unsafe-expressions" in err
    assert not marker.exists()
    _no_results(out)
    # the flag lifts the check (loaded only here: no event loop runs the command)
    cuts = load_selection([KMU2, sel], allow_unsafe_expressions=True).cuts
    assert "std::system" in cuts["e_had_min"].expr
    from nutag.cli import build_parser

    assert build_parser().parse_args(["run", "--allow-unsafe-expressions"]).allow_unsafe_expressions


@pytest.mark.parametrize("expr", ['gSystem->Exec(\\"ls\\") == 0', "fopen(0, 0) != nullptr",
                                  "std::ofstream(0).good()", "popen(0, 0) != nullptr"])
def test_regression_column_writing_files_is_refused(case: Case, expr: str) -> None:
    sel = case.selection("nutag.yaml", 'expr: "e_had > 5.0"', f'expr: "{expr}"')
    err, _ = case.run(case.config(nutag=sel))
    assert f"{sel}:{case.line_of(sel, 'e_had_min:')}: cuts.e_had_min: expression " in err
    assert "which can run programs or write files" in err


def test_regression_damaged_bytes_inside_an_input_file_name_the_files(case: Case) -> None:
    """4 KB overwritten inside a data file passed the checks and failed the loop, naming no file."""
    import random

    bad = case.work / "data_damaged.root"
    data = bytearray((case.toy_samples.parent / "data.root").read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4096] = random.Random(1).randbytes(4096)
    bad.write_bytes(bytes(data))
    samples = case.samples("files: [data.root]", f"files: [{bad}]")
    err, out = case.run(case.config(samples=samples))
    assert "the event loop stopped on an error (ROOT: " in err
    assert f"sample data ({samples}:{case.line_of(samples, 'data_damaged')}): {bad}" in err
    assert "re-copy or re-produce the damaged file" in err
    _no_results(out)


def test_regression_damaged_second_file_of_a_sample_is_named_alone(case: Case) -> None:
    """A sample of two files, the second damaged inside: the error named both files; it now
    reads them one by one after the failure and names only the damaged one."""
    import random

    good = case.toy_samples.parent / "data.root"
    bad = case.work / "data_2.root"
    data = bytearray(good.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4096] = random.Random(2).randbytes(4096)
    bad.write_bytes(bytes(data))
    samples = case.samples("files: [data.root]", f"files: [{good}, {bad}]")
    err, out = case.run(case.config(samples=samples))
    line = case.line_of(samples, "data_2.root")
    assert f"sample data ({samples}:{line}): {bad}, which is damaged: " in err, err[-3000:]
    assert str(good) not in err
    assert "re-copy or re-produce the damaged file" in err
    _no_results(out)


DIVIDING_CUT = "10 / lav_n_intime > 1 || sav_n_intime == 0"


def _dividing_analysis(case: Case) -> tuple[Path, int]:
    """The toy data behind a selection of one cut, photon_veto, that divides an integer by
    zero on most events: (analysis config, the cut's line in its YAML).

    Why not the default analysis with its photon_veto changed: the SIGFPE guard ends the
    process, so these cases run the command in a subprocess of their own, which would jit the
    whole default selection (5 samples, 10 regions, the systematic variations: 20-40 s) only to
    die on its first event. The guard and its message do not depend on the rest of the
    selection: it lists every YAML expression that divides, with file, line and key."""
    samples = case.work / "samples.yaml"
    samples.write_text(f"samples:\n  data: {{kind: data, files: "
                       f"[{case.toy_samples.parent / 'data.root'}]}}\n")
    sel = case.work / "selection.yaml"
    sel.write_text(f'cuts:\n  photon_veto:\n    expr: "{DIVIDING_CUT}"\n'
                   "regions:\n  vetoed: {cuts: [photon_veto]}\n")
    cfg = case.work / "analysis.yaml"
    cfg.write_text(f"name: divides\nsamples: {samples}\nselections: [{sel}]\n")
    return cfg, case.line_of(sel, "  photon_veto:")


def test_regression_integer_division_by_zero_with_max_events_names_the_cut(case: Case) -> None:
    """``--max-events`` makes its own dataframe: the fault is still named by the YAML cut.

    A subprocess on purpose: the SIGFPE guard ends the process (status 136, as the signal
    would), which in this process would end the test session."""
    cfg, line = _dividing_analysis(case)
    sel = cfg.parent / "selection.yaml"
    proc = rt.nutag("run", str(cfg), "--threads", "2", "--max-events", "1000",
                    "--output", str(case.work / "results"))
    assert proc.returncode == 136, proc.stderr[-3000:]
    assert f"{sel}:{line}: cuts.photon_veto: `{DIVIDING_CUT}`" in proc.stderr
    assert "Fix: guard the divisor" in proc.stderr
    _no_results(case.work / "results")


def test_regression_integer_division_by_zero_names_the_cut(case: Case) -> None:
    """A cut dividing an integer by zero died with SIGFPE, naming the cut only in a gdb frame;
    now the process still ends on the signal (136) but says which YAML expressions divide.

    A subprocess on purpose: the guard is a signal handler that ends the process."""
    cfg, line = _dividing_analysis(case)  # the cut's line in the YAML
    sel = cfg.parent / "selection.yaml"
    proc = rt.nutag("run", str(cfg), "--threads", "1", "--output", str(case.work / "results"))
    assert proc.returncode == 136, proc.stderr[-3000:]
    assert "arithmetic fault (SIGFPE: an integer division or remainder by zero)" in proc.stderr
    assert f"{sel}:{line}: cuts.photon_veto: `{DIVIDING_CUT}`" in proc.stderr
    assert "Fix: guard the divisor" in proc.stderr
    _no_results(case.work / "results")


def test_regression_exception_in_a_cut_names_the_yaml_line(case: Case) -> None:
    """``lkr_e.at(3)`` on an event with fewer clusters gave a raw traceback without the YAML
    line; the exception is rethrown naming the file, line and cut (jitted here; compiled:
    tests/test_compiled_selection.py)."""
    old = 'expr: "lav_n_intime == 0 && sav_n_intime == 0"'
    sel = case.selection("nutag.yaml", old, 'expr: "lkr_e.at(3) > -1.0"')
    line = case.line_of(sel, "  photon_veto:")
    err, out = case.run(case.config(nutag=sel))
    assert f"a YAML expression failed during the event loop: {sel}:{line}: cuts.photon_veto:" \
        in err, err[-3000:]
    assert "Fix: guard the expression" in err
    _no_results(out)
