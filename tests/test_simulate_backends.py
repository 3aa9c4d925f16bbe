"""`nutag simulate --backend local|dask|condor`: the same chunks (entry ranges with their seeds)
run in local processes, on a Dask LocalCluster and as (shim) HTCondor jobs, merged in order on
the client, give identical samples entry by entry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nutag import simulate as P
from nutag.simulate.config import load_sim_config
from nutag.simulate.distributed import CondorExecutor, DistributedError, backend_executor

from _backends_data import shim_env
from test_simulate import column_hashes, needs_generator

N = 6_000
CHUNK = 2_000


@pytest.fixture(scope="module")
def cfg():
    return load_sim_config(None)


@pytest.fixture(scope="module")
def spec():
    return P.mc_sample("kmu2", "kmu2", N, 21)


@pytest.fixture(scope="module")
def local(cfg, spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    return P.produce_sample(spec, cfg, out, threads=1, chunk_size=CHUNK)


def _same(a: str, b: str) -> None:
    ha, hb = column_hashes(a), column_hashes(b)
    assert sorted(ha) == sorted(hb)
    n = len(next(iter(ha.values())))
    assert n > 0
    for c in ha:
        assert len(hb[c]) == n, c
        assert np.array_equal(ha[c], hb[c]), f"column {c} differs"


def _same_meta(a: P.SampleResult, b: P.SampleResult) -> None:
    skip = {"created", "git_commit", "git_dirty"}
    ma = {k: v for k, v in P.read_metadata(a.path).items() if k not in skip}
    mb = {k: v for k, v in P.read_metadata(b.path).items() if k not in skip}
    assert ma == mb


@needs_generator
def test_dask_equals_local(cfg, spec, local, tmp_path):
    pytest.importorskip("distributed")
    with backend_executor("dask", workers=2) as ex:
        res = P.produce_sample(spec, cfg, tmp_path / "dask", chunk_size=CHUNK, executor=ex)
    assert res.n_entries == local.n_entries
    _same(local.path, res.path)
    _same_meta(local, res)
    assert not list((tmp_path / "dask").glob(".nutag-scratch-*"))


@needs_generator
def test_condor_equals_local(cfg, spec, local, tmp_path, monkeypatch):
    pytest.importorskip("htcondor2")
    for k, v in shim_env(tmp_path / "shim").items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("CONDOR_SHIM_SLOTS", "2")
    jobdir = tmp_path / "jobs"
    with backend_executor("condor", condor_dir=jobdir, poll=0.2) as ex:
        assert isinstance(ex, CondorExecutor)
        res = P.produce_sample(spec, cfg, tmp_path / "condor", chunk_size=CHUNK, executor=ex)
    assert res.n_entries == local.n_entries
    _same(local.path, res.path)
    _same_meta(local, res)
    assert sorted(p.name for p in (jobdir / "done").glob("*.pkl")) == ["0.pkl", "1.pkl",
                                                                        "2.pkl"]
    assert "queue chunk from" in (jobdir / "submit-0.sub").read_text()


@needs_generator
def test_condor_eos_output_and_setup_script(cfg, spec, local, tmp_path, monkeypatch):
    """An output on EOS: each job sources the set-up script, writes its chunk file in its
    scratch directory and HTCondor's output_destination sends it to the EOS directory (the
    fake EOS of the test); the merge waits for whole files and equals a local production."""
    pytest.importorskip("htcondor2")
    from nutag.engine import htcondor

    eos = tmp_path / "eos"
    monkeypatch.setattr(htcondor, "EOS_MOUNT", str(eos))
    shim = tmp_path / "shim"
    for k, v in {**shim_env(shim), "CONDOR_SHIM_EOS_MOUNT": str(eos)}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("CONDOR_SHIM_SLOTS", "2")
    marker = tmp_path / "sourced.txt"
    setup = tmp_path / "setup.sh"
    setup.write_text(f'echo "$$" >> {marker}\n')
    out = eos / "user" / "j" / "jdoe" / "sim"
    jobdir = tmp_path / "jobs"
    batch = htcondor.BatchOptions(setup=str(setup), flavour="microcentury")
    with backend_executor("condor", condor_dir=jobdir, poll=0.2, batch=batch) as ex:
        res = P.produce_sample(spec, cfg, out, chunk_size=CHUNK, executor=ex)
    _same(local.path, res.path)
    _same_meta(local, res)
    sub = (jobdir / "submit-0.sub").read_text().splitlines()
    dest = next(ln for ln in sub if ln.startswith("output_destination = "))
    assert dest.startswith("output_destination = root://eosuser.cern.ch//eos/user/j/jdoe/sim/"
                           ".nutag-scratch-")
    assert "arguments = $(chunk) --scratch" in sub and "transfer_output_files = $(outfile)" in sub
    assert sub[-1].startswith("queue chunk,outfile from ")
    assert f"source {setup}" in (jobdir / "job.sh").read_text().splitlines()
    assert len(marker.read_text().split()) == 3  # every job sourced it
    assert len(list((shim / "scratch").glob("*/00_kmu2_00_0000?.root"))) == 3


def test_condor_failed_chunk_is_reported(tmp_path, monkeypatch):
    """A chunk that keeps failing (a config field unknown to C++) is reported with its error."""
    pytest.importorskip("htcondor2")
    for k, v in shim_env(tmp_path / "shim").items():
        monkeypatch.setenv(k, v)
    bad = P.SampleSpec("bad", "mc", (P.Part(0, 5, 10, "preselection"),))
    ex = CondorExecutor(tmp_path / "jobs", poll=0.2, max_retries=0, timeout=120)
    job = P.ChunkJob(bad.parts[0], P.Chunk(0, 10), "mc", {"no_such_field": 1.0}, {})
    fut = ex.submit(P.produce_chunk, job, str(tmp_path / "chunk.root"))
    with pytest.raises(DistributedError, match="chunk 0 failed"):
        fut.result()
    assert "no_such_field" in (tmp_path / "jobs" / "done" / "0.failed").read_text()
    with pytest.raises(DistributedError, match="earlier production"):  # stale markers
        CondorExecutor(tmp_path / "jobs").submit(P.produce_chunk, job, "x.root").result()


def test_cli_options():
    import argparse

    from nutag.simulate.cli import add_simulate_parser

    parser = argparse.ArgumentParser()
    add_simulate_parser(parser.add_subparsers())
    a = parser.parse_args(["simulate", "--backend", "dask", "--scheduler", "tcp://h:1",
                           "--workers", "3"])
    assert (a.backend, a.scheduler, a.workers) == ("dask", "tcp://h:1", 3)
    a = parser.parse_args(["simulate", "--backend", "condor", "--condor-dir", "j",
                           "--flavour", "longlunch"])
    assert (a.backend, a.condor_dir, a.flavour) == ("condor", Path("j"), "longlunch")
    assert parser.parse_args(["simulate"]).backend == "local"
