"""The whole analysis on a SMALL simulated data set: blinded and unblinded, 1 and 2 threads,
on the RNTuple files `nutag simulate` writes and on a TTree production of the same data set.

Each run is a subprocess (`python -m nutag.cli run`), because ROOT's implicit multithreading
is process-global: that is also how a user runs it. The data set is produced once per session
with the simulation API (nutag.simulate.dataset) from a small definition.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLIND_REGIONS = ("signal", "tagged", "signal_relaxed", "tagged_relaxed")

SMALL_DATASET = """\
doc: small data set for the integration test
output: {out}
chunk_size: 4000
mc:
  kmu2:    {{stream: kmu2,    events: 8000, seed: 101}}
  signal:  {{stream: signal,  events: 8000, seed: 102}}
  overlay: {{stream: overlay, events: 8000, seed: 103}}
  misreco: {{stream: misreco, events: 8000, seed: 104}}
data:
  name: data
  seed: 2022
  n_kaon_decays: 1.0e8
  control_downscaling: 1.0e3
  events: {{signal: 8000, overlay: 8000, misreco: 8000}}
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "analysis"), env.get("PYTHONPATH", "")])
    return env


def _small_config(d: Path, output_format: str | None = None) -> Path:
    """The small data set produced into ``d`` (in ``output_format``, default: the data set
    default) and an analysis config pointing at it."""
    dataset = pytest.importorskip("nutag.simulate.dataset")
    text = SMALL_DATASET.format(out=d / "samples")
    if output_format:
        text = f"format: {output_format}\n" + text
    (d / "dataset.yaml").write_text(text)
    ds = dataset.load_dataset(d / "dataset.yaml")
    res = dataset.produce_dataset(ds, d / "samples", threads=2)
    text = (REPO / "configs" / "default.yaml").read_text()
    text = text.replace("../data/default/samples.yaml", str(res.samples_yaml))
    text = text.replace("../", str(REPO) + "/")  # selections, corrections, systematics
    cfg = d / "analysis.yaml"
    cfg.write_text(text)
    return cfg


@pytest.fixture(scope="session")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small data set as `nutag simulate` writes it by default (RNTuple)."""
    return _small_config(tmp_path_factory.mktemp("small_dataset"))


def _run(cfg: Path, out: Path, threads: int, unblind: bool) -> Path:
    cmd = [sys.executable, "-m", "nutag.cli", "-q", "run", str(cfg), "--threads", str(threads),
           "--output", str(out)] + (["--unblind"] if unblind else [])
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    return out


@pytest.fixture(scope="session")
def runs(small_config: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("results")
    return {"blind1": _run(small_config, base / "blind1", 1, False),
            "blind2": _run(small_config, base / "blind2", 2, False),
            "open2": _run(small_config, base / "open2", 2, True)}


EXPECTED = ["summary.json", "summary.md", "results.json", "histograms.root", "cutflows.json",
            "cutflows.md", "plane_data.png", "plane_data.pdf", "plane_signal.png",
            "projection_m_miss2.png", "projection_d_lkr.pdf", "e_nu_selected.png"]


@pytest.mark.parametrize("name", ["blind1", "open2"])
def test_every_output_exists(runs: dict[str, Path], name: str) -> None:
    for f in EXPECTED:
        assert (runs[name] / f).is_file(), f
        assert (runs[name] / f).stat().st_size > 0, f


def test_one_event_loop_per_sample(runs: dict[str, Path]) -> None:
    for name in runs:
        prov = json.loads((runs[name] / "summary.json").read_text())["provenance"]
        assert prov["n_runs"] and set(prov["n_runs"].values()) == {1}


def test_blinded_outputs_hold_no_signal_region_data(runs: dict[str, Path]) -> None:
    from nutag.core.rootenv import import_root

    blind = json.loads((runs["blind1"] / "summary.json").read_text())
    opened = json.loads((runs["open2"] / "summary.json").read_text())
    assert blind["blinded"] is True and opened["blinded"] is False
    assert blind["observed"] is None and blind["candidates"] == []
    assert blind["p_exactly_observed_sb"] is None
    assert opened["observed"] is not None
    # the data yields of blind regions are absent from every stored document
    stored = json.loads((runs["blind1"] / "results.json").read_text())
    data_yields = stored["doc"]["samples"]["data"]["yields"]
    cutflows = json.loads((runs["blind1"] / "cutflows.json").read_text())["data"]["regions"]
    for region in BLIND_REGIONS:
        assert region not in data_yields and region not in cutflows
    # no data directory of a blind region in the ROOT file
    ROOT = import_root()
    f = ROOT.TFile.Open(str(runs["blind1"] / "histograms.root"))
    try:
        data_dir = f.Get("data")
        names = {k.GetName() for k in data_dir.GetListOfKeys()}
        assert not names & set(BLIND_REGIONS), names
        assert f.Get("blinded").GetTitle() == "true"
    finally:
        f.Close()
    # the candidate values of the unblinded run appear in no blinded text output
    needles = [f"{c[k]:.6g}" for c in opened["candidates"] for k in ("p_K", "p_mu", "E_nu")]
    for path in runs["blind1"].iterdir():
        if path.suffix in (".json", ".md"):
            text = path.read_text()
            for needle in needles:
                assert needle not in text, (needle, path.name)
    # blinding state recorded in every text output
    for name in ("summary.md", "cutflows.md"):
        text = (runs["blind1"] / name).read_text().lower()
        assert "blind" in text, name


def _strip(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "provenance"}


def _close(a, b, path: str = "") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-300), path
    else:
        assert a == b, path


def test_threads_do_not_change_the_result(runs: dict[str, Path]) -> None:
    one = json.loads((runs["blind1"] / "summary.json").read_text())
    two = json.loads((runs["blind2"] / "summary.json").read_text())
    assert one["provenance"]["threads"] == 1 and two["provenance"]["threads"] == 2
    _close(_strip(one), _strip(two))


def test_report_from_dir_reproduces_the_summary(runs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(runs["open2"], copy)
    proc = subprocess.run([sys.executable, "-m", "nutag.cli", "-q", "report", str(copy)],
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _close(json.loads((runs["open2"] / "summary.json").read_text()),
           json.loads((copy / "summary.json").read_text()))
    assert (copy / "plane_data.png").is_file()


def fixed_signal_fractions() -> set[str]:
    """The fixed-fraction sources of N_sig declared in configs/default.yaml (the shower-shape
    parameters, which no correction varies)."""
    import yaml

    doc = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    return set(doc["options"]["signal"].get("systematics") or {})


def test_systematic_table_in_the_main_output(runs: dict[str, Path]) -> None:
    """Every source of configs/systematics.yaml is propagated in the same single event loop;
    the quoted syst is the table's total; data are never varied."""
    from nutag.config.analysis import load_systematics

    names = {s.name for s in load_systematics(REPO / "configs" / "systematics.yaml")}
    names |= fixed_signal_fractions()
    for name in ("blind1", "open2"):
        s = json.loads((runs[name] / "summary.json").read_text())
        syst = s["systematics"]
        assert set(syst["n_sig"]["sources"]) == names
        assert s["n_sig"]["syst"] == pytest.approx(syst["n_sig"]["total"])
        assert s["n_sig"]["syst"] > 0
        for key, b in s["backgrounds"].items():
            if b["value"] is not None:
                assert b["syst"] == pytest.approx(syst["backgrounds"][key]["total"])
        assert syst["published"]["n_sig"] == 0.009
        assert "## Systematic uncertainties" in (runs[name] / "summary.md").read_text()
        doc = json.loads((runs[name] / "results.json").read_text())["doc"]["samples"]
        assert "variations" not in doc["data"]
        assert set(doc["signal"]["variations"]["signal"]) >= {"nominal", "sigma_cc:up"}


def _ntuple_class(path: Path) -> str:
    from nutag.core.rootenv import import_root

    f = import_root().TFile.Open(str(path))
    try:
        return str(f.GetKey("nutag").GetClassName()).replace("ROOT::", "")
    finally:
        f.Close()


def test_ttree_production_gives_the_same_result(runs: dict[str, Path], small_config: Path,
                                                tmp_path: Path) -> None:
    """The default production is RNTuple; the same data set written as TTree must give the
    same unblinded result (yields, cutflows, systematics, candidate list), 2 threads each."""
    samples = small_config.parent / "samples"
    assert {_ntuple_class(f) for f in samples.glob("*.root")} == {"RNTuple"}
    (tmp_path / "ttree").mkdir()
    ttree_cfg = _small_config(tmp_path / "ttree", "ttree")
    assert {_ntuple_class(f) for f in (tmp_path / "ttree" / "samples").glob("*.root")} == \
        {"TTree"}
    out = _run(ttree_cfg, tmp_path / "open2_ttree", 2, True)
    rnt = json.loads((runs["open2"] / "summary.json").read_text())
    tt = json.loads((out / "summary.json").read_text())
    assert rnt["candidates"] == tt["candidates"]
    _close(_strip(rnt), _strip(tt))
    flows = [json.loads((d / "cutflows.json").read_text()) for d in (runs["open2"], out)]
    _close(*({k: v for k, v in f.items() if k != "_provenance"} for f in flows))
