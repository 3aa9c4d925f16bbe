"""HTCondor backend through fake condor_submit/condor_q/condor_rm that run the jobs here.

Checks: chunk plans partition every sample; every generated submit file passes
htcondor2.Submit; the merged chunks equal a local run bin by bin; a failing chunk is reported,
``nutag condor resubmit`` reruns only it, and the merge then equals the local run; a second
run on the same job directory resumes instead of resubmitting.

Where the time goes: every chunk job is a process of its own (as on a batch node) that starts
ROOT and jits the selection, ~10 s of CPU each. So one job directory per input format goes
through the whole life of a run (a failed chunk, its resubmission, the merge, the resumption),
and the ``nutag condor`` commands and the chunk worker's ``main`` run in this process, where
the selection is already jitted; the chunk jobs themselves, and one ``nutag condor status`` as
a process (its exit status and stdout), stay processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from _backends_data import FORMATS, load, shim_env, write_analysis

from nutag.engine.backends import chunk, condor, condor_cli, run_analysis_on, summary
from nutag.engine.backends.chunk import DONE, chunk_dirname
from nutag.engine.backends.merge import IncompleteMerge, merge_chunks

pytest.importorskip("htcondor2")

CHUNK = 2000  # mc: 2800 entries in 2 files -> 2 chunks (one spans both); data: 2500 -> 2


@pytest.fixture(scope="module", params=FORMATS)
def analysis(tmp_path_factory, request):
    """The test analysis on TTree and on RNTuple inputs: every test runs on both."""
    return load(write_analysis(tmp_path_factory.mktemp("condor_inputs"), request.param))


@pytest.fixture(scope="module")
def local_summary(analysis):
    return summary(run_analysis_on("local", analysis, blinded=False))


@pytest.fixture
def shim(tmp_path, monkeypatch):
    env = shim_env(tmp_path / "shim")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("NUTAG_FAIL_CHUNKS", raising=False)
    return tmp_path / "shim"


def _cli(*args: str) -> subprocess.CompletedProcess:
    """``nutag condor ARGS`` as a process, as a person at a terminal runs it."""
    return subprocess.run([sys.executable, "-m", "nutag.engine.backends.condor_cli", *args],
                          capture_output=True, text=True, env=dict(os.environ))


def _condor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``nutag condor ARGS`` in this process (the same ``main`` as :func:`_cli`, without a
    Python and ROOT start-up): (exit status, stdout, stderr)."""
    capsys.readouterr()
    status = condor_cli.main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def _submitted(shim_state: Path) -> list[int]:
    return [int(line.split()[1]) for line in (shim_state / "submissions.log").read_text()
            .splitlines()]


def test_plan_partitions_every_sample(analysis):
    chunks = condor.plan_chunks(analysis, CHUNK)
    assert [c["id"] for c in chunks] == list(range(len(chunks)))
    per = {}
    for c in chunks:
        per[c["sample"]] = per.get(c["sample"], 0) + c["entries"]
        assert c["range"][1] - c["range"][0] == c["entries"] <= CHUNK
    assert per == {"mc": 2800, "data": 2500}
    spanning = [c for c in chunks if len(c["files"]) == 2]
    assert spanning and spanning[0]["range"] == [0, 2000]
    assert [c["range"] for c in chunks if c["sample"] == "mc"][1] == [500, 1300]


def test_failed_chunk_resubmitted_alone_then_condor_equals_local(
        analysis, local_summary, shim, tmp_path, monkeypatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """One job directory through a whole run: chunk 3 fails, is reported and resubmitted alone
    (the done chunks untouched), the merge equals the local run bin by bin, every generated
    submit file is valid HTCondor, the same run again resumes (submits nothing, merges the same
    result) and a changed run is refused.

    Merges test_condor_equals_local_and_submit_files_valid, test_failed_chunk_resubmitted_alone
    and test_regression_chunk_jobs_take_the_route_of_the_submitting_run, which ran the same
    analysis through the shim three times (about 10 chunk jobs each). The last one's point,
    kept here for every job including the resubmitted one: the chunk jobs chose their execution
    route from their own environment (the batch node's), so `nutag run --backend condor
    --no-compile` still compiled in every job; the run's RouteOptions now travel in the
    manifest."""
    from nutag.core.options import RouteOptions

    jobdir = tmp_path / "job"
    monkeypatch.setenv("NUTAG_COMPILE", "on")  # what the jobs' environment says
    run = dict(blinded=False, condor_dir=jobdir, chunk_size=CHUNK, poll=0.1,
               flavour="microcentury", route=RouteOptions(compile="off"))
    monkeypatch.setenv("NUTAG_FAIL_CHUNKS", "3")
    with pytest.raises(IncompleteMerge) as err:
        run_analysis_on("condor", analysis, **run)
    assert err.value.missing == [3]
    assert f"nutag condor resubmit {jobdir}" in str(err.value)
    monkeypatch.delenv("NUTAG_FAIL_CHUNKS")
    manifest = json.loads((jobdir / "manifest.json").read_text())
    assert manifest["route"] == {"compile": "off", "fuse": "auto", "direct_read": "auto"}

    st = _cli("status", str(jobdir), "--json")  # the command as a process: status and stdout
    assert st.returncode == 1, st.stderr
    doc = json.loads(st.stdout)
    assert doc["to_resubmit"] == [3] and doc["failed"] == {"3": "exit code 3"}
    assert "fails on purpose" in (jobdir / "logs").joinpath(
        next(p.name for p in (jobdir / "logs").glob("chunk_3.*.err"))).read_text()
    assert _condor(capsys, "merge", str(jobdir))[0] == 1  # never merge an incomplete set

    out = Path(manifest["output"])
    stamps = {i: (out / chunk_dirname(i) / DONE).stat().st_mtime_ns for i in (0, 1, 2)}
    status, _, stderr = _condor(capsys, "resubmit", str(jobdir))
    assert status == 0, stderr
    subs = json.loads((jobdir / "submissions.json").read_text())
    assert [s["chunks"] for s in subs] == [[0, 1, 2, 3], [3]]
    assert _submitted(shim)[-1] == 1
    assert {i: (out / chunk_dirname(i) / DONE).stat().st_mtime_ns for i in (0, 1, 2)} == stamps
    condor.check_submit((jobdir / "submit-1.sub").read_text())

    assert _condor(capsys, "status", str(jobdir))[0] == 0
    status, _, stderr = _condor(capsys, "merge", str(jobdir))
    assert status == 0, stderr
    merged = merge_chunks([out / chunk_dirname(i) for i in range(4)],
                          sample_order=["mc", "data"])
    assert summary(merged) == local_summary
    assert (jobdir / "merged" / "histograms.root").is_file()

    subs = sorted(jobdir.glob("submit-*.sub"))
    assert len(subs) == 2
    for f in subs:  # every generated submit file is valid HTCondor
        sub = condor.check_submit(f.read_text())
        assert sub["MY.JobFlavour"] == '"microcentury"'
        assert sub["max_retries"] == "2" and sub["request_memory"] == "2000"
        assert sub.getQArgs().startswith("chunk from ")

    # resumption: the same run again submits nothing and merges the same result
    n_before = len(_submitted(shim))
    again = run_analysis_on("condor", analysis, **run)
    assert len(_submitted(shim)) == n_before
    assert summary(again) == local_summary
    assert {n: s.n_runs for n, s in again.samples.items()} == {"mc": 1, "data": 1}
    assert again.samples["data"].route == "jitted (NUTAG_COMPILE=off)"
    merged = json.loads((jobdir / "merged" / "cutflows.json").read_text())
    assert merged["mc"]["regions"]["control"] == local_summary["mc"]["regions"]["control"][
        "cutflow"]
    # a changed run refuses the directory instead of mixing results
    with pytest.raises(condor.CondorError, match="different run"):
        run_analysis_on("condor", analysis, blinded=True, condor_dir=jobdir, chunk_size=CHUNK)


def test_chunk_cli_explicit_arguments(analysis, tmp_path, local_summary):
    """The chunk worker by hand: same graph on an entry range, atomic outputs + DONE.

    Its ``main`` in this process (``local_summary`` has jitted the same selection here): the
    worker as a process, ``python -m nutag.engine.backends.chunk``, is what every chunk job of the shim
    runs."""
    mc = analysis.samples["mc"]
    status = chunk.main(["--config", analysis.file, "--sample", "mc", "--files", *mc.files,
                         "--range", "100", "1700", "--out", str(tmp_path / "c")])
    assert status == 0
    done = json.loads((tmp_path / "c" / DONE).read_text())
    assert done["entries"] == 1600 and done["range"] == [100, 1700]
    assert not [p for p in (tmp_path / "c").iterdir() if p.name.startswith(".")]


def test_regression_a_resumed_run_submits_with_its_own_batch_options(analysis, tmp_path):
    """A rerun into an existing job directory kept the first run's batch options: a chunk
    resubmitted with more memory or a longer flavour went out with the old ones. Now the
    manifest and job.sh take the new options; another output directory or another permission
    for unsafe expressions is refused (done chunks depend on them)."""
    jobdir = tmp_path / "job"
    first = condor.JobOptions(flavour="espresso", memory_mb=2000, setup="")
    kw = dict(blinded=False, builder="nutag.engine.booking:default_builder", chunk_size=CHUNK)
    condor.JobDir.create(jobdir, analysis, opts=first, **kw)
    script = (jobdir / "job.sh").read_text()

    second = condor.JobOptions(flavour="longlunch", memory_mb=4000, max_retries=5, setup="")
    jd = condor.JobDir.create(jobdir, analysis, opts=second, **kw)
    assert jd.options() == second
    assert (jobdir / "job.sh").read_text() == script  # nothing in it changed
    text = condor.submit_description(jobdir=jobdir, k=1, title="nutag run", opts=jd.options())
    assert '+JobFlavour = "longlunch"' in text.splitlines()
    assert "request_memory = 4000" in text.splitlines()

    with pytest.raises(condor.CondorError, match="--condor-output .* differs"):
        condor.JobDir.create(jobdir, analysis, opts=condor.JobOptions(
            output=str(tmp_path / "elsewhere")), **kw)
    with pytest.raises(condor.CondorError, match="without --allow-unsafe-expressions"):
        condor.JobDir.create(jobdir, analysis, opts=condor.JobOptions(
            allow_unsafe_expressions=True), **kw)
    assert condor.JobDir(jobdir).options() == second  # a refused rerun changes nothing
