"""Every output of a results directory carries the same provenance (architecture invariant).

histograms.root (TNamed "provenance"), results.json, summary.json, cutflows.json
("_provenance") and the Markdown files (a "## Provenance" section) all say: the config hash,
git commit and dirty flag, versions (nutag, ROOT, correctionlib, Python), every input file with
its size and entries, blinding, threads, the samples' seeds and the command line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import _robust_toy as rt

KEYS = ("analysis", "config", "config_hash", "git_commit", "git_dirty", "versions", "inputs",
        "blinded", "threads", "backend", "n_runs", "routes", "seeds", "command_line", "created_utc")


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return rt.good_run(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def prov(good: tuple[Path, Path]) -> dict:
    return json.loads((good[1] / "summary.json").read_text())["provenance"]


def test_provenance_content(good: tuple[Path, Path], prov: dict) -> None:
    from nutag.config import analysis as config
    from nutag.jobs.pipeline import config_hash

    cfg, _ = good
    for key in KEYS:
        assert key in prov, key
    assert prov["config_hash"] == config_hash(config.load_analysis(cfg, check_inputs=False))
    assert len(prov["git_commit"]) == 40 and isinstance(prov["git_dirty"], bool)
    assert set(prov["versions"]) >= {"nutag", "root", "correctionlib", "python"}
    assert all(prov["versions"].values())
    assert prov["blinded"] is True and prov["threads"] == 1
    assert "run" in prov["command_line"] and str(cfg) in prov["command_line"]
    samples = config.load_samples(cfg.parent / "toy" / "samples.yaml")
    assert prov["seeds"] == {n: {"seed": s.meta["seed"]} for n, s in samples.items()}
    # the route of every sample and why: the suite runs jitted (tests/conftest.py)
    assert prov["routes"] == {n: "jitted (NUTAG_COMPILE=off)" for n in samples}
    summary_md = (good[1] / "summary.md").read_text()
    assert all(f"- route of sample {n}: jitted (NUTAG_COMPILE=off)" in summary_md
               for n in samples)
    files = {i["file"]: i for i in prov["inputs"]}
    assert set(files) == {os.path.abspath(f) for s in samples.values() for f in s.files}
    for path, item in files.items():
        assert item["size"] == os.path.getsize(path) and item["entries"] > 0


def test_every_json_output_carries_it(good: tuple[Path, Path], prov: dict) -> None:
    out = good[1]
    assert json.loads((out / "results.json").read_text())["provenance"] == prov
    assert json.loads((out / "cutflows.json").read_text())["_provenance"] == prov


def test_every_markdown_output_carries_it(good: tuple[Path, Path], prov: dict) -> None:
    for name in ("summary.md", "cutflows.md"):
        text = (good[1] / name).read_text()
        assert "## Provenance" in text, name
        for needle in (prov["config_hash"], prov["git_commit"], "BLINDED",
                       f"root {prov['versions']['root']}", "seeds:", "command line:"):
            assert needle in text, (name, needle)
        for item in prov["inputs"]:
            assert f"`{item['file']}`" in text and str(item["entries"]) in text


def test_histogram_file_carries_it(good: tuple[Path, Path], prov: dict) -> None:
    from nutag.core.rootenv import import_root

    ROOT = import_root()
    f = ROOT.TFile.Open(str(good[1] / "histograms.root"))
    try:
        stored = json.loads(str(f.Get("provenance").GetTitle()))
        blinded = str(f.Get("blinded").GetTitle())
    finally:
        f.Close()
    assert stored == json.loads(json.dumps(prov, default=str))
    assert blinded == "true"


@pytest.mark.parametrize("backend,expected", [
    ("condor", {"flavour": "longlunch", "memory_mb": 4000, "disk_mb": 3000, "max_retries": 4,
                "accounting_group": "group_u_NA62.users", "extra": ["+MaxRuntime=7200"],
                "chunk_size": 1000}),
    ("dask", {"cluster": "lxplus", "workers": 7,
              "condor": {"flavour": "longlunch", "memory": "4000MB", "disk": "3000MB",
                         "extra_directives": {"+MaxRuntime": "7200",
                                              "+AccountingGroup": '"group_u_NA62.users"'},
                         "prologue": []}}),
])
def test_regression_provenance_records_the_batch_options(backend: str, expected: dict) -> None:
    """The provenance recorded the flavour and memory of a condor run but not its disk,
    retries, accounting group or extra submit lines, and nothing of the worker jobs of Dask on
    HTCondor: two runs with other batch options could not be told apart."""
    from nutag import cli
    from nutag.jobs.pipeline import _recorded_options

    args = cli.build_parser().parse_args([
        "run", "--backend", backend, "--flavour", "longlunch", "--condor-memory", "4000",
        "--condor-disk", "3000", "--max-retries", "4", "--accounting-group",
        "group_u_NA62.users", "--condor-extra", "+MaxRuntime=7200", "--condor-setup", "",
        "--chunk-size", "1000", "--dask-cluster", "lxplus", "--workers", "7"])
    recorded = _recorded_options(backend, cli._backend_options(args))
    assert {k: recorded.get(k) for k in expected} == expected
    json.dumps(recorded)  # it goes into results.json
