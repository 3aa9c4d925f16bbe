"""`nutag run --backend condor` with its output on EOS, as on lxplus, through the fake condor tools.

EOS is a directory of the test (``nutag.engine.htcondor.EOS_MOUNT`` and the shim's
``CONDOR_SHIM_EOS_MOUNT`` point at it). The chunk jobs must write in their scratch directory and
leave the transfer to HTCondor's ``output_destination`` (the fake condor_submit copies
``transfer_output_files`` and the jobs' stdout/stderr there, and holds a job whose listed output
is missing); the job directory stays off EOS; the set-up script is sourced by every job; a
failed chunk is reported with its log at the EOS output, resubmitted alone, and the merge then
equals a local run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _backends_data import load, shim_env, write_analysis

from nutag.engine import htcondor
from nutag.engine.backends import run_analysis_on, summary
from nutag.engine.backends.merge import IncompleteMerge

pytest.importorskip("htcondor2")

CHUNK = 2000  # mc: 2800 entries in 2 files -> 2 chunks; data: 2500 -> 2


def test_eos_output_goes_through_output_destination(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "inputs").mkdir()
    analysis = load(write_analysis(tmp_path / "inputs"))
    local = summary(run_analysis_on("local", analysis, blinded=False))
    eos = tmp_path / "eos"
    monkeypatch.setattr(htcondor, "EOS_MOUNT", str(eos))
    shim = tmp_path / "shim"
    for k, v in {**shim_env(shim), "CONDOR_SHIM_EOS_MOUNT": str(eos)}.items():
        monkeypatch.setenv(k, v)
    marker = tmp_path / "sourced.txt"
    setup = tmp_path / "setup.sh"
    setup.write_text(f'echo "$$" >> {marker}\n')
    out = eos / "user" / "j" / "jdoe" / "nutag" / "out"
    jobdir = tmp_path / "afs" / "job"
    kw = dict(blinded=False, condor_dir=jobdir, chunk_size=CHUNK, poll=0.1, max_retries=0,
              output=str(out), setup=str(setup), accounting_group="group_u_NA62.users")

    monkeypatch.setenv("NUTAG_FAIL_CHUNKS", "3")
    with pytest.raises(IncompleteMerge) as err:
        run_analysis_on("condor", analysis, **kw)
    monkeypatch.delenv("NUTAG_FAIL_CHUNKS")
    assert err.value.missing == [3]
    assert f"see {out}/chunk_3.*.err" in str(err.value)  # stderr travelled with the outputs
    assert "fails on purpose" in next(out.glob("chunk_3.*.err")).read_text()
    assert (out / "chunk_00003").is_dir() and not (out / "chunk_00003" / "DONE").exists()

    sub = (jobdir / "submit-0.sub").read_text().splitlines()
    assert "output_destination = root://eosuser.cern.ch//eos/user/j/jdoe/nutag/out/" in sub
    assert "transfer_output_files = chunk_$INT(chunk,%05d)" in sub
    assert '+AccountingGroup = "group_u_NA62.users"' in sub
    assert f"log = {jobdir}/logs/submit-0.log" in sub
    man = json.loads((jobdir / "manifest.json").read_text())
    assert man["output"] == "." and man["transfer_to"] == str(out)
    script = (jobdir / "job.sh").read_text()
    assert f"source {setup}" in script and 'mkdir -p "$OUT"' in script
    # each job wrote its chunk in its own scratch directory; the fake HTCondor sent it to EOS
    written = sorted(p.parent.name for p in (shim / "scratch").glob("*/chunk_*/DONE"))
    assert written == ["chunk_00000", "chunk_00001", "chunk_00002"]
    assert sorted(p.parent.name for p in out.glob("chunk_*/DONE")) == written

    res = run_analysis_on("condor", analysis, **kw)  # resumes: only chunk 3 runs again
    assert summary(res) == local
    assert (out / "chunk_00003" / "DONE").is_file()
    assert len(json.loads((jobdir / "submissions.json").read_text())) == 2
    assert len(marker.read_text().split()) == 5  # 4 jobs, then the resubmitted one
