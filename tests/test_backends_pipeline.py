"""`nutag run` of the REAL analysis (configs/default.yaml: corrections, systematic Vary, every
region) on a small simulated data set: local vs --backend dask vs --backend condor.

The three must write the same results: summary.json (everything but provenance) and
cutflows.json equal to 1e-12 relative for floating sums and identical raw counts, histograms
bin-identical where the sums are integer-weighted (data) and to 1e-12 otherwise (MC weights
are not binary fractions: chunks and partitions add them in another order). The unblinded
candidate listing (Take locally and in HTCondor chunks, AsNumpy on Dask, which has no Take) is
the same list everywhere.

Cost control (2-core CI): one Dask LocalCluster for the module (the CLI connects to it with
--scheduler), a chunk size giving one HTCondor job per sample for the full run, and the
unblinded listings run on the data sample only (the MC graphs do not depend on blinding).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("htcondor2")

from _backends_data import REPO, shim_env  # noqa: E402
from _project import project_copy  # noqa: E402

TINY_DATASET = """\
doc: tiny data set for the backend equality test
output: {out}
chunk_size: 5000
mc:
  kmu2:    {{stream: kmu2,    events: 5000, seed: 301}}
  signal:  {{stream: signal,  events: 5000, seed: 302}}
  overlay: {{stream: overlay, events: 5000, seed: 303}}
  misreco: {{stream: misreco, events: 5000, seed: 304}}
data:
  name: data
  seed: 2024
  n_kaon_decays: 5.0e6
  control_downscaling: 1.0e3
  events: {{signal: 5000, overlay: 5000, misreco: 5000}}
"""
#: the data signal region of a data set this small is empty: list the candidates of the
#: (non-blind, ~10^3 events) normalisation region instead, to compare real lists
CANDIDATE_BLOCK = ("  candidate:\n    sample: data\n    region: signal\n",
                   "  candidate:\n    sample: data\n    region: kmu2_norm\n")
REL = 1e-12


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "analysis"), env.get("PYTHONPATH", "")])
    env.pop("NUTAG_FAIL_CHUNKS", None)
    return env


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dataset = pytest.importorskip("nutag.simulate.dataset")
    d = tmp_path_factory.mktemp("backends_pipeline")
    (d / "dataset.yaml").write_text(TINY_DATASET.format(out=d / "samples"))
    res = dataset.produce_dataset(dataset.load_dataset(d / "dataset.yaml"), d / "samples",
                                  threads=2)
    text = (REPO / "configs" / "default.yaml").read_text()
    assert CANDIDATE_BLOCK[0] in text, "configs/default.yaml: options.candidate changed"
    text = text.replace(*CANDIDATE_BLOCK)
    text = text.replace("../data/default/samples.yaml", str(res.samples_yaml))
    text = text.replace("../", str(REPO) + "/")
    cfg = d / "analysis.yaml"
    cfg.write_text(text)
    return cfg


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of 2 single-threaded worker processes for the whole module."""
    from _backends_data import dask_client

    with dask_client(2) as client:
        yield client


def _nutag_run(cfg: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> Path:
    cmd = [sys.executable, "-m", "nutag.cli", "-q", "run", str(cfg), "--output", str(out), *args]
    proc = subprocess.run(cmd, env=_env(env), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.strip().splitlines()[-1] == str(out)  # the CLI contract holds
    assert "Completed" not in proc.stdout + proc.stderr  # no progress bar off a terminal
    return out


@pytest.fixture(scope="module")
def runs(config: Path, cluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    shim = shim_env(base / "shim")
    return {
        "local": _nutag_run(config, base / "local", "--threads", "2"),
        "dask": _nutag_run(config, base / "dask", "--backend", "dask", "--scheduler",
                           cluster.scheduler.address),
        "condor": _nutag_run(config, base / "condor", "--backend", "condor", "--condor-dir",
                             str(base / "jobs"), "--chunk-size", "1000000", env=shim),
    }


# --------------------------------------------------------------------------- comparisons
def _close(a, b, path: str = "") -> None:
    """Equal structure; floats to REL relative (NaN == NaN); everything else ==."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), (path, sorted(set(a) ^ set(b)))
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        if isinstance(a, float) and math.isnan(a):
            assert isinstance(b, float) and math.isnan(b), (path, a, b)
            return
        assert abs(a - b) <= REL * max(abs(a), abs(b)), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _doc(d: Path, name: str) -> dict:
    doc = json.loads((d / name).read_text())
    return {k: v for k, v in doc.items() if "provenance" not in k}  # where/how it ran


def _histograms(d: Path) -> dict[str, dict]:
    from nutag.engine.backends import histo_cells
    from nutag.core.rootenv import import_root

    ROOT = import_root()
    f = ROOT.TFile.Open(str(d / "histograms.root"))
    out: dict[str, dict] = {}

    def walk(directory, prefix: str) -> None:
        for key in directory.GetListOfKeys():
            obj = key.ReadObj()
            if obj.InheritsFrom("TDirectory"):
                walk(obj, f"{prefix}{key.GetName()}/")
            elif obj.InheritsFrom("TH1"):
                out[prefix + key.GetName()] = histo_cells(obj)

    try:
        walk(f, "")
    finally:
        f.Close()
    return out


@pytest.mark.parametrize("backend", ["dask", "condor"])
def test_same_results_as_local(runs: dict[str, Path], backend: str) -> None:
    local, other = runs["local"], runs[backend]
    for name in ("summary.json", "cutflows.json", "results.json"):
        _close(_doc(local, name), _doc(other, name), name)
    prov = json.loads((other / "summary.json").read_text())["provenance"]
    assert prov["backend"] == backend and prov["blinded"] is True
    assert set(prov["n_runs"].values()) == {1}  # one event loop (job) per sample
    routes = prov["routes"]  # the execution route of every sample, with its reason
    assert set(routes) == set(prov["n_runs"]) and all(routes.values())
    if backend == "dask":
        assert set(routes.values()) == {"jitted (distributed RDataFrame: the workers run "
                                        "cling's code)"}
    # histograms: data (weight 1) bin for bin; MC to REL
    hl, ho = _histograms(local), _histograms(other)
    assert hl.keys() == ho.keys() and any(k.startswith("data/") for k in hl)
    for key, cells in hl.items():
        if key.startswith("data/"):
            assert ho[key] == cells, key
        else:
            _close(cells, ho[key], key)
    summary = json.loads((other / "summary.json").read_text())
    assert summary["systematics"]["n_sig"]["sources"]  # the Vary's were propagated
    stored = json.loads((other / "results.json").read_text())["doc"]["samples"]
    assert "variations" in stored["signal"] and "variations" not in stored["data"]


def test_every_output_written(runs: dict[str, Path]) -> None:
    names = {p.name for p in runs["local"].iterdir()}
    for backend in ("dask", "condor"):
        assert {p.name for p in runs[backend].iterdir()} == names, backend


# --------------------------------------------------------------------------- unblinded
@pytest.fixture(scope="module")
def data_only(config: Path):
    from nutag.jobs import pipeline

    analysis = pipeline.load(config, 1)
    return analysis


def _candidates(analysis, res) -> list[dict]:
    from nutag.jobs import pipeline

    assert {n: s.n_runs for n, s in res.samples.items()} == {"data": 1}
    return pipeline.run_document(analysis, res)["candidates"]


@pytest.fixture(scope="module")
def local_candidates(data_only) -> list[dict]:
    from nutag.jobs import pipeline
    from nutag.engine.backends import run_analysis_on

    res = run_analysis_on("local", data_only, blinded=False, samples=["data"],
                          builder=pipeline.BUILDER)
    cands = _candidates(data_only, res)
    assert len(cands) > 100 and len({c["event_id"] for c in cands}) == len(cands)
    return cands


def test_unblinded_candidates_on_dask(data_only, local_candidates, cluster) -> None:
    """Distributed RDataFrame has no Take: the listing is one lazy AsNumpy, same values."""
    from nutag.jobs import pipeline
    from nutag.engine.backends import run_analysis_on

    res = run_analysis_on("dask", data_only, blinded=False, samples=["data"], client=cluster,
                          partitions=3, builder=pipeline.BUILDER)
    _close(local_candidates, _candidates(data_only, res), "candidates")


def test_unblinded_candidates_on_condor(data_only, local_candidates, tmp_path,
                                        monkeypatch) -> None:
    """Take in every chunk job, lists concatenated by the merge (2 chunks), same rows."""
    from nutag.jobs import pipeline
    from nutag.engine.backends import condor, run_analysis_on

    for k, v in shim_env(tmp_path / "shim").items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("NUTAG_FAIL_CHUNKS", raising=False)
    n = sum(c["entries"] for c in condor.plan_chunks(data_only, 10**9, ["data"]))
    res = run_analysis_on("condor", data_only, blinded=False, samples=["data"],
                          builder=pipeline.BUILDER, condor_dir=tmp_path / "job",
                          chunk_size=n // 2 + 1, poll=0.2)
    assert len(json.loads((tmp_path / "job" / "manifest.json").read_text())["chunks"]) == 2
    _close(local_candidates, _candidates(data_only, res), "candidates")


def test_progress_bar_only_on_a_terminal() -> None:
    import io

    from nutag.engine.backends.dask_backend import progress_wanted

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_wanted(Tty()) and not progress_wanted(io.StringIO())


# --------------------------------------------------------------------------- installed package
def test_installed_package_gives_the_same_results(config: Path, runs: dict[str, Path],
                                                  tmp_path: Path) -> None:
    """`pip install .` (not editable) and `nutag run`: the package carries its C++ and the
    embedded analysis (configs, selections, corrections, simulation, schema) in
    nutag/_source, reads them there when no checkout is around it, writes nothing into the
    installation (compiled selections and the default data set go to the user's data
    directory), and gives the checkout's numbers."""
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--target", str(site), str(project_copy(tmp_path / "build"))],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    source = site / "nutag" / "_source"
    for part in ("cpp/include/nutag/rdf/kernel", "cpp/src", "configs/default.yaml",
                 "selections", "corrections/physics.json", "simulation/datasets/default.yaml",
                 "samples/ntuple-schema.yaml"):
        assert (source / part).exists(), part
    installed_files = sorted(p for p in site.rglob("*") if p.is_file())
    cfg = tmp_path / "analysis.yaml"
    cfg.write_text(config.read_text().replace(f"{REPO}/", f"{source}/"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUTAG_SOURCE_DIR", "NUTAG_HOME", "NUTAG_DATA", "NUTAG_COMPILE_CACHE",
                        "NUTAG_LIBRARY", "XDG_DATA_HOME", "NUTAG_FAIL_CHUNKS")}
    env.update(PYTHONPATH=str(site), HOME=str(tmp_path / "home"))

    def python(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return proc

    where = python("-c", "import nutag, nutag.core.locations as L, nutag.jobs.pipeline as P, "
                         "nutag.simulate.dataset as D; print(nutag.__file__); "
                         "print(L.source_root()); print(L.work_root()); "
                         "print(P.DEFAULT_CONFIG); print(D.default_output_dir())")
    assert where.stdout.split() == [
        str(site / "nutag" / "__init__.py"), str(source),
        str(tmp_path / "home" / ".local" / "share" / "nutag"),
        str(source / "configs" / "default.yaml"),
        str(tmp_path / "home" / ".local" / "share" / "nutag" / "data" / "default")]
    assert "ROOT" in python("-m", "nutag", "--version").stdout
    python("-m", "nutag", "-q", "run", str(cfg), "--threads", "1", "--output",
           str(tmp_path / "results"))
    for name in ("summary.json", "cutflows.json", "results.json"):
        _close(_doc(runs["local"], name), _doc(tmp_path / "results", name), name)
    assert sorted(p for p in site.rglob("*") if p.is_file()) == installed_files
