"""Regression: bad input ends the same way on every route, not only on the local one.

Three inputs that a local ``nutag run`` already handled broke the other routes:

* an RNTuple without entries (``nutag simulate --events 3`` writes one for a rare stream)
  killed every Dask worker that read it (Fatal in ``GetClustersAndEntries``) and segfaulted an
  HTCondor chunk over the file alone;
* an integer division by zero in a cut ended an HTCondor chunk with ROOT's stack trace and
  killed Dask workers without a word about the YAML;
* a damaged file (bytes overwritten inside) was named, if at all, together with every other
  file of its sample.

The routes: Dask (a LocalCluster of process workers), the HTCondor chunk (its entry point,
in this process or as the batch job runs it) and ``--max-events`` (its dataframe factory).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from _backends_data import REPO, write_analysis

from nutag.config import analysis as config
from nutag.engine.backends import build_graphs, run_analysis_on, summary
from nutag.engine.backends import chunk as chunk_mod
from nutag.core.errors import NutagError
from nutag.core.rootenv import import_root

EMPTY_SAMPLE = '  empty: {kind: mc, files: [empty.root], weight: "tw", meta: {n_generated: 10}}\n'
DIVIDING_CUT = '  c_n: "10 / n > 4"\n'


def _empty_rntuple_like(source: Path, target: Path) -> None:
    """An RNTuple with the columns of ``source`` and no entry, as nutag simulate writes one."""
    ROOT = import_root()
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kRNTuple
    ROOT.RDataFrame("nutag", str(source)).Filter("false").Snapshot("nutag", str(target), "", opts)


@pytest.fixture(scope="module")
def with_empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backend test analysis on RNTuple, plus an empty RNTuple among the mc files (the
    ``mc_*.root`` glob lists it last) and a sample whose only file is an empty RNTuple."""
    d = tmp_path_factory.mktemp("empty_rntuple")
    cfg = write_analysis(d, "rntuple")
    _empty_rntuple_like(d / "mc_0.root", d / "mc_9.root")
    _empty_rntuple_like(d / "mc_0.root", d / "empty.root")
    with (d / "samples.yaml").open("a") as f:
        f.write(EMPTY_SAMPLE)
    return cfg


@pytest.fixture(scope="module")
def expected(with_empty: Path) -> dict:
    """The local run: every other route must give exactly these numbers."""
    res = summary(run_analysis_on("local", config.load_analysis(with_empty), blinded=True))
    assert res["empty"]["regions"]["control"]["cutflow"][0]["raw"] == 0
    assert res["mc"]["regions"]["control"]["cutflow"][0]["raw"] == 1500 + 1300
    return res


def _damaged(d: Path, fmt: str) -> Path:
    """The backend test analysis whose data sample lists two files, the second one damaged:
    4 KB of random bytes written into its middle."""
    cfg = write_analysis(d, fmt)
    data = bytearray((d / "data.root").read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4096] = random.Random(1).randbytes(4096)
    (d / "data_2.root").write_bytes(bytes(data))
    text = (d / "samples.yaml").read_text()
    (d / "samples.yaml").write_text(text.replace("[data.root]", "[data.root, data_2.root]"))
    return cfg


def _assert_names_only_the_damaged_file(message: str, d: Path) -> None:
    assert f"sample data ({d / 'samples.yaml'}:3): {d / 'data_2.root'}, which is damaged: " \
        in message, message
    assert str(d / "data.root") not in message
    assert "Fix: re-copy or re-produce the damaged file" in message


def _dividing(d: Path) -> tuple[Path, int]:
    """A copy of the backend test analysis in ``d`` (TTree) whose cut c_n divides by n, which
    is 0 for a quarter of the events; returns the config and the cut's line."""
    cfg = write_analysis(d, "ttree")
    sel = d / "selection.yaml"
    text = sel.read_text().replace('  c_n: "n >= 2"\n', DIVIDING_CUT)
    assert DIVIDING_CUT in text
    sel.write_text(text)
    return cfg, text.splitlines().index(DIVIDING_CUT.rstrip("\n")) + 1


# --------------------------------------------------------------------------- HTCondor chunks
def _chunk_cutflows(cfg: Path, sample: str, files: list[str], out: Path,
                    entry_range: tuple[int, int] | None = None) -> dict:
    """Run one chunk through the job's entry point, in this process; its cutflows."""
    argv = ["--config", str(cfg), "--sample", sample, "--files", *files, "--out", str(out)]
    argv += ["--range", *map(str, entry_range)] if entry_range else []
    assert chunk_mod.main(argv) == 0
    doc = json.loads((out / chunk_mod.RESULTS).read_text())
    return {r: v["cutflow"] for r, v in doc["regions"].items()}


def test_empty_rntuple_in_condor_chunks(with_empty: Path, expected: dict,
                                        tmp_path: Path) -> None:
    """The chunk of a sample whose only file is an empty RNTuple segfaulted without a range;
    chunks listing an empty RNTuple with other files read exactly the entries of the others."""
    d = with_empty.parent
    empty = _chunk_cutflows(with_empty, "empty", [str(d / "empty.root")], tmp_path / "e")
    assert empty == {r: v["cutflow"] for r, v in expected["empty"]["regions"].items()}
    ranged = _chunk_cutflows(with_empty, "empty", [str(d / "empty.root")], tmp_path / "e0",
                             (0, 0))
    assert ranged == empty
    mc = [str(d / f) for f in ("mc_0.root", "mc_1.root", "mc_9.root")]
    whole = _chunk_cutflows(with_empty, "mc", mc, tmp_path / "m")
    assert whole == {r: v["cutflow"] for r, v in expected["mc"]["regions"].items()}
    tail = _chunk_cutflows(with_empty, "mc", mc[1:], tmp_path / "t", (1000, 1300))
    assert tail["control"][0]["raw"] == 300


def test_division_by_zero_in_a_condor_chunk_names_the_cut(tmp_path: Path) -> None:
    """The chunk, run as the batch job runs it, ends on the signal (136) naming the cut."""
    cfg, line = _dividing(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "nutag.engine.backends.chunk", "--config", str(cfg), "--sample", "mc",
         "--files", str(tmp_path / "mc_0.root"), "--range", "0", "1000",
         "--out", str(tmp_path / "out")],
        check=False, capture_output=True, text=True, timeout=600, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "analysis")})
    assert proc.returncode == 136, proc.stderr[-3000:]
    assert "arithmetic fault (SIGFPE: an integer division or remainder by zero)" in proc.stderr
    assert f"{tmp_path / 'selection.yaml'}:{line}: cuts.c_n: `10 / n > 4`" in proc.stderr
    assert "Fix: guard the divisor" in proc.stderr
    assert not (tmp_path / "out" / chunk_mod.DONE).exists()


@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
def test_damaged_file_in_a_condor_chunk_is_named(tmp_path: Path, fmt: str) -> None:
    cfg = _damaged(tmp_path, fmt)
    with pytest.raises(NutagError) as err:
        chunk_mod.run_chunk(cfg, "data", [str(tmp_path / "data.root"),
                                          str(tmp_path / "data_2.root")], None, tmp_path / "out")
    _assert_names_only_the_damaged_file(str(err.value), tmp_path)


# --------------------------------------------------------------------------- --max-events
def test_empty_rntuple_with_max_events(with_empty: Path, expected: dict) -> None:
    from nutag.engine.partial import first_entries
    from nutag.engine.run import run

    analysis = config.load_analysis(with_empty)
    res = run(build_graphs(analysis, blinded=True, make_df=first_entries(1000)), 1)
    assert res.samples["mc"].regions["control"].cutflow[0]["raw"] == 1000
    assert res.samples["empty"].regions["control"].cutflow[0]["raw"] == 0
    whole = run(build_graphs(analysis, blinded=True, make_df=first_entries(10**6)), 1)
    assert summary(whole) == expected


# --------------------------------------------------------------------------- Dask
@pytest.fixture(scope="module")
def client():
    """Two process workers; a task whose worker dies is not retried (the default retries it
    on three more workers, each restarted, for the same KilledWorker)."""
    pytest.importorskip("distributed")
    import dask
    from distributed import Client
    from nutag.engine.backends import dask_backend as db

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = db.local_cluster(2)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_empty_rntuple_on_dask(with_empty: Path, expected: dict, client) -> None:
    """Every Dask worker reading an empty RNTuple died (Fatal in GetClustersAndEntries)."""
    res = run_analysis_on("dask", config.load_analysis(with_empty), blinded=True, client=client,
                          partitions=3)
    assert {n: s.n_runs for n, s in res.samples.items()} == {"mc": 1, "data": 1, "empty": 1}
    assert summary(res) == expected


def test_damaged_file_on_dask_is_named(tmp_path: Path, client) -> None:
    cfg = _damaged(tmp_path, "rntuple")
    with pytest.raises(NutagError) as err:
        run_analysis_on("dask", config.load_analysis(cfg), blinded=True, client=client,
                        partitions=2)
    _assert_names_only_the_damaged_file(str(err.value), tmp_path)


def test_division_by_zero_on_dask_names_the_sample_and_the_cut(tmp_path: Path, client) -> None:
    """A SIGFPE ends a worker process (it cannot be caught there): the error names the sample
    whose workers died, its YAML expressions that divide, and the fix."""
    cfg, line = _dividing(tmp_path)
    samples = tmp_path / "samples.yaml"  # mc alone: the sample whose workers die is known
    samples.write_text(samples.read_text().replace("  data: {kind: data, files: [data.root]}\n", ""))
    with pytest.raises(NutagError) as err:
        run_analysis_on("dask", config.load_analysis(cfg), blinded=True, client=client,
                        partitions=2)
    message = str(err.value)
    assert f"the Dask workers running sample mc ({tmp_path / 'samples.yaml'}:2) died" in message
    assert "arithmetic fault (SIGFPE" in message and "runs out of memory" in message
    assert f"{tmp_path / 'selection.yaml'}:{line}: cuts.c_n: `10 / n > 4`" in message
    assert "Fix: guard the divisor" in message


def test_regression_killed_worker_hidden_by_the_cache_cleanup_is_still_named(tmp_path: Path
                                                                           ) -> None:
    """ROOT's distributed RDataFrame clears its worker caches in a ``finally`` (``client.run``):
    with every worker dying, that broadcast failed with a closed connection, replaced the
    ``KilledWorker`` and the error blamed the files. The worker death behind it is named."""
    distributed = pytest.importorskip("distributed")
    from distributed.comm.core import CommClosedError

    from nutag.engine.run import loop_error

    cfg, _line = _dividing(tmp_path)
    graphs = build_graphs(config.load_analysis(cfg), blinded=True)
    try:
        try:
            worker = SimpleNamespace(address="tcp://127.0.0.1:1")  # a WorkerState to the error
            raise distributed.scheduler.KilledWorker("dask_mapper-1", worker, 0)
        finally:
            raise CommClosedError("in <TCP (closed) Scheduler Broadcast local=tcp://127.0.0.1:2>")
    except CommClosedError as exc:
        message = str(loop_error(graphs, exc))
    assert "the Dask workers running sample mc" in message and "died" in message
    assert f"{tmp_path / 'selection.yaml'}" in message and "Fix: guard the divisor" in message
    assert "none is damaged" not in message
