"""nutag.engine.htcondor: the one HTCondor submit module of ``nutag run`` and ``nutag simulate``.

Fast checks (no event loop): the CERN batch rules of a submit description, checked by the
module and, independently, by the fake condor_submit of the tests, line by line; a job
directory on EOS refused; EOS outputs as ``output_destination`` with the instance's xrootd
URL; ``--condor-extra`` passed through or refused; the LCG view of the shell as default
set-up; the validation and user-log fallbacks without the bindings; both commands' options
and submit text from the one module; ``--allow-unsafe-expressions`` reaching the chunk job.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

from _backends_data import SHIM, shim_env

from nutag.engine import htcondor
from nutag.engine.backends import condor
from nutag.engine.htcondor import BatchOptions, CondorError, EosTransfer
from nutag.engine.htcondor_log import _events_from_text, user_log_events
from nutag.simulate import distributed


def _shim_module():
    """The fake condor_submit as a module, for its own (independent) rule check."""
    loader = SourceFileLoader("fake_condor_submit", str(SHIM / "condor_submit"))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mod)
    return mod


SHIM_RULES = _shim_module()
EOS_OUT = EosTransfer("chunk_$INT(chunk,%05d)", "/eos/user/j/jdoe/nutag/out")


def _text(tmp_path: Path, **kw) -> str:
    opts = BatchOptions(accounting_group="group_u_NA62.users",
                        extra=(("+MaxRuntime", "3600"),), **kw)
    return htcondor.submit_description(jobdir=tmp_path, k=0, title="test", opts=opts,
                                       eos=EOS_OUT)


# --------------------------------------------------------------------------- the rules
def test_generated_submit_text_follows_every_rule(tmp_path: Path) -> None:
    text = _text(tmp_path)
    htcondor.check_rules(text)
    assert SHIM_RULES.rule_errors(text) == []
    sub = htcondor.check_submit(text) if _has_bindings() else None
    lines = dict(ln.split(" = ", 1) for ln in text.splitlines()[1:-1])
    assert lines["output_destination"] == "root://eosuser.cern.ch//eos/user/j/jdoe/nutag/out/"
    assert lines["transfer_output_files"] == "chunk_$INT(chunk,%05d)"
    assert lines["MY.XRDCP_CREATE_DIR"] == "True"
    assert lines["+AccountingGroup"] == '"group_u_NA62.users"'
    assert lines["+MaxRuntime"] == "3600"
    assert lines["request_disk"] == "2000MB" and lines["max_retries"] == "2"
    # with an EOS output, stdout/stderr travel with the outputs (relative names), the user
    # log stays in the job directory (written on the submit side)
    assert lines["output"] == "chunk_$(chunk).$(ClusterId).$(ProcId).out"
    assert lines["log"] == f"{tmp_path}/logs/submit-0.log"
    if sub is not None:
        sub["chunk"] = "7"
        assert sub.expand("transfer_output_files") == condor.chunk_dirname(7)


def _has_bindings() -> bool:
    return importlib.util.find_spec("htcondor2") is not None


BAD_LINES = [
    ("log = /eos/user/j/jdoe/jobs/submit-0.log", "log on EOS"),
    ("output = /eos/user/j/jdoe/x.out", "output on EOS"),
    ("initialdir = /eos/user/j/jdoe/jobs", "initialdir on EOS"),
    ("executable = /eos/user/j/jdoe/job.sh", "executable on EOS"),
    ('+JobFlavour = "coffee"', "unknown flavour"),
    ("+JobFlavour = espresso", "unquoted flavour"),
    ('+AccountingGroup = "na62"', "group without group_u_"),
    ("output_destination = /eos/user/j/jdoe/out/", "destination not a URL"),
    ("output_destination = root://eosproject.cern.ch//eos/user/j/jdoe/out/", "wrong instance"),
    ("request_memory = 0", "no memory"),
    ("request_disk = 2 PB", "unknown unit"),
    ("request_cpus = 1.5", "fractional cpus"),
    ("max_retries = -1", "negative retries"),
    ("universe = standard", "universe"),
    ("when_to_transfer_output = NEVER", "transfer time"),
    ("not a key = 1", "key with spaces"),
    ("just words", "no ="),
]


def _with_line(text: str, line: str) -> tuple[str, int]:
    """``text`` with ``line`` instead of the line of the same key (else before the queue);
    returns the new text and the line's number."""
    lines = text.splitlines()
    key = htcondor.canonical_key(line.split("=")[0]) if "=" in line else None
    at = next((i for i, ln in enumerate(lines)
               if key and htcondor.canonical_key(ln.split("=")[0]) == key), None)
    if at is None:
        at = len(lines) - 1
        lines.insert(at, line)
    else:
        lines[at] = line
    return "\n".join(lines) + "\n", at + 1


@pytest.mark.parametrize("line,why", BAD_LINES, ids=[w for _, w in BAD_LINES])
def test_both_checkers_refuse_a_line_cern_batch_refuses(tmp_path: Path, line: str,
                                                        why: str) -> None:
    bad, n = _with_line(_text(tmp_path), line)
    with pytest.raises(CondorError, match=f"submit description line {n} "):
        htcondor.check_rules(bad)
    errors = SHIM_RULES.rule_errors(bad)
    assert errors and all(e.startswith(f"line {n}:") for e in errors), errors


def test_a_key_twice_is_refused(tmp_path: Path) -> None:
    text = _text(tmp_path)
    twice = text.replace("queue chunk", "RequestMemory = 4000\nqueue chunk")
    with pytest.raises(CondorError, match="RequestMemory already set on line 10"):
        htcondor.check_rules(twice)
    assert any("set twice" in e for e in SHIM_RULES.rule_errors(twice))


def test_queue_must_come_last(tmp_path: Path) -> None:
    text = _text(tmp_path)
    moved = text.replace("universe = vanilla\n", "") + "universe = vanilla\n"
    with pytest.raises(CondorError, match="last line"):
        htcondor.check_rules(moved)
    assert SHIM_RULES.rule_errors(moved)


def test_dask_jobqueue_style_lines_are_accepted() -> None:
    """What dask-jobqueue writes (expressions, CamelCase keys) is valid for both checkers."""
    text = ('MY.DaskWorkerName = "htcondor--$F(MY.JobId)--"\nRequestCpus = MY.DaskWorkerCores\n'
            "RequestMemory = floor(MY.DaskWorkerMemory / 1048576)\n+JobFlavour = \"espresso\"\n"
            'Environment = ""\nExecutable = /bin/sh\nQueue\n')
    htcondor.check_rules(text)
    assert SHIM_RULES.rule_errors(text) == []


# --------------------------------------------------------------------------- EOS
@pytest.mark.parametrize("path,url", [
    ("/eos/user/j/jdoe/out", "root://eosuser.cern.ch//eos/user/j/jdoe/out/"),
    ("/eos/home-j/jdoe/out", "root://eosuser.cern.ch//eos/home-j/jdoe/out/"),
    ("/eos/project/n/na62/out", "root://eosproject.cern.ch//eos/project/n/na62/out/"),
    ("/eos/project-n/na62/out", "root://eosproject.cern.ch//eos/project-n/na62/out/"),
    ("/eos/experiment/na62/user/out", "root://eospublic.cern.ch//eos/experiment/na62/user/out/"),
    ("/eos/cms/store/user/x", "root://eoscms.cern.ch//eos/cms/store/user/x/"),
])
def test_xrootd_url_of_each_eos_area(path: str, url: str) -> None:
    assert htcondor.xrootd_url(path) == url
    text = f"executable = /bin/true\noutput_destination = {url}\nqueue\n"
    htcondor.check_rules(text)
    assert SHIM_RULES.rule_errors(text) == []


def test_unknown_eos_area_needs_eos_mgm_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EOS_MGM_URL", raising=False)
    with pytest.raises(CondorError, match="EOS_MGM_URL"):
        htcondor.xrootd_url("/eos/somewhere/x")
    monkeypatch.setenv("EOS_MGM_URL", "root://eossomewhere.cern.ch")
    assert htcondor.xrootd_url("/eos/somewhere/x") == \
        "root://eossomewhere.cern.ch//eos/somewhere/x/"
    with pytest.raises(CondorError, match="not on EOS"):
        htcondor.xrootd_url("/afs/cern.ch/work/j/jdoe")


def test_job_directory_on_eos_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    for make in (lambda: condor.JobDir.create("/eos/user/j/jdoe/jobs", None, blinded=True,
                                              builder="x", chunk_size=1,
                                              opts=condor.JobOptions()),
                 lambda: distributed.CondorExecutor("/eos/user/j/jdoe/jobs"),
                 lambda: htcondor.submit_description(jobdir=Path("/eos/user/j/jdoe/jobs"),
                                                     k=0, title="t", opts=BatchOptions())):
        with pytest.raises(CondorError) as err:
            make()
        assert "--condor-dir /eos/user/j/jdoe/jobs is on EOS" in str(err.value)
        assert "AFS or a local disk" in str(err.value)
    # a symlink into EOS is EOS too (e.g. ~/eos -> /eos/user/j/jdoe)
    monkeypatch.setattr(htcondor, "EOS_MOUNT", str(tmp_path / "eos"))
    (tmp_path / "eos" / "user").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "eos" / "user")
    with pytest.raises(CondorError, match="is on EOS"):
        htcondor.refuse_eos_jobdir(tmp_path / "link" / "jobs")
    # the command line says it before anything runs
    from nutag.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "--backend", "condor", "--condor-dir",
                 str(tmp_path / "eos" / "user" / "jobs"), "--events", "10"]) == 1
    err = capsys.readouterr().err
    assert "nutag: error: --condor-dir" in err and "is on EOS" in err


def test_simulation_job_dir_defaults_off_eos(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Default job directory: hidden in the output directory, or here when that is on EOS."""
    monkeypatch.setattr(htcondor, "EOS_MOUNT", str(tmp_path / "eos"))
    monkeypatch.chdir(tmp_path)
    with distributed.backend_executor("condor", out_dir=tmp_path / "eos" / "user" / "o") as ex:
        assert ex.jobdir.parent == tmp_path
    with distributed.backend_executor("condor", out_dir=tmp_path / "data") as ex:
        assert ex.jobdir.parent == tmp_path / "data"


# --------------------------------------------------------------------------- --condor-extra
def test_condor_extra_pass_through_and_refusals(tmp_path: Path) -> None:
    ok = htcondor.parse_extra(['+MaxRuntime=3600',
                               'requirements = (OpSysAndVer =?= "AlmaLinux9")'])
    assert ok == [("+MaxRuntime", "3600"), ("requirements", '(OpSysAndVer =?= "AlmaLinux9")')]
    text = htcondor.submit_description(jobdir=tmp_path, k=0, title="t",
                                       opts=BatchOptions(extra=tuple(ok)))
    assert text.splitlines()[-3:-1] == ["+MaxRuntime = 3600",
                                        'requirements = (OpSysAndVer =?= "AlmaLinux9")']
    htcondor.check_rules(text)
    for item, match in [("request_memory=4000", "use --condor-memory"),
                        ("RequestMemory=4000", "use --condor-memory"),
                        ('+JobFlavour="workday"', "use --flavour"),
                        ('MY.AccountingGroup="group_u_X.y"', "use --accounting-group"),
                        ("output_destination=root://eosuser.cern.ch//eos/user/x/",
                         "nutag needs its own value"),
                        ("executable=/bin/sh", "nutag needs its own value"),
                        ("queue=3", "nutag writes queue itself"),
                        ("bad key=1", "submit-description name"),
                        ("noequals", "expected KEY=VALUE"),
                        ("+MaxRuntime=", "expected KEY=VALUE")]:
        with pytest.raises(CondorError, match=match):
            htcondor.parse_extra([item])
    with pytest.raises(CondorError, match="given twice"):
        htcondor.parse_extra(["+MaxRuntime=1", "+maxruntime=2"])


@pytest.mark.parametrize("command", [["run"], ["simulate"]])
def test_both_commands_take_the_same_batch_options(command: list[str], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from nutag.cli import build_parser

    setup = tmp_path / "setup.sh"
    setup.write_text("true\n")
    args = build_parser().parse_args([
        *command, "--backend", "condor", "--condor-dir", "jobs", "--condor-setup", str(setup),
        "--flavour", "workday", "--condor-memory", "3000", "--condor-disk", "5000",
        "--accounting-group", "group_u_NA62.users", "--max-retries", "1",
        "--condor-extra", "+MaxRuntime=3600", "--condor-extra", "requirements=(Arch==\"X86_64\")"])
    b = htcondor.batch_options(args)
    assert b == BatchOptions(flavour="workday", memory_mb=3000, disk_mb=5000, max_retries=1,
                             accounting_group="group_u_NA62.users", setup=str(setup),
                             extra=(("+MaxRuntime", "3600"), ("requirements", '(Arch=="X86_64")')))
    assert args.condor_dir == Path("jobs")
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--condor-extra", "request_memory=9"])
    err = capsys.readouterr().err
    assert "argument --condor-extra" in err and "use --condor-memory" in err
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--flavour", "coffee"])


def test_one_function_adds_the_batch_options_to_both_parsers() -> None:
    from nutag import cli
    from nutag.simulate import cli as sim_cli

    for module in (cli, sim_cli):
        assert module.add_batch_arguments is htcondor.add_batch_arguments
    names = {"--condor-dir", "--condor-setup", "--flavour", "--condor-memory", "--condor-disk",
             "--accounting-group", "--max-retries", "--condor-extra"}
    parser = argparse.ArgumentParser()
    htcondor.add_batch_arguments(parser, condor_dir_help="x")
    assert names <= set(parser._option_string_actions)


# --------------------------------------------------------------------------- set-up script
def _fake_view(tmp_path: Path) -> Path:
    view = tmp_path / "cvmfs" / "sft.cern.ch" / "lcg" / "views" / "LCG_109" / \
        "x86_64-el9-gcc13-opt"
    (view / "bin").mkdir(parents=True)
    (view / "setup.sh").write_text("export NUTAG_FAKE_VIEW=1\n")
    return view


def test_default_setup_is_the_active_lcg_view(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    view = _fake_view(tmp_path)
    sourced = {"LCG_VERSION": "109", "PATH": f"{view}/bin:/usr/bin",
               "CMAKE_PREFIX_PATH": "", "LD_LIBRARY_PATH": f"{view}/lib"}
    assert htcondor.active_lcg_view(sourced) == str(view / "setup.sh")
    assert htcondor.active_lcg_view({**sourced, "PATH": "/usr/bin",
                                     "CMAKE_PREFIX_PATH": str(view)}) == str(view / "setup.sh")
    assert htcondor.active_lcg_view({"PATH": f"{view}/bin"}) == ""  # not sourced: no view
    assert htcondor.active_lcg_view({"LCG_VIEW": str(view)}) == str(view / "setup.sh")
    assert htcondor.active_lcg_view({}) == ""
    for key, value in sourced.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LCG_VIEW", raising=False)
    assert htcondor.resolve_setup(None) == str(view / "setup.sh")
    assert htcondor.resolve_setup("none") == "" and htcondor.resolve_setup("") == ""
    with pytest.raises(CondorError, match="give the script itself"):
        htcondor.resolve_setup(f"source {view}/setup.sh")
    with pytest.raises(CondorError, match="--condor-setup .* no such file"):
        htcondor.resolve_setup(str(tmp_path / "missing.sh"))


def test_both_job_scripts_source_the_setup(tmp_path: Path) -> None:
    setup = _fake_view(tmp_path) / "setup.sh"
    ex = distributed.CondorExecutor(tmp_path / "sim", opts=BatchOptions(setup=str(setup)))
    ana = condor._job_script(tmp_path / "ana", condor.JobOptions(setup=str(setup)))
    for script in (ex._script(), ana):
        lines = script.splitlines()
        assert f"source {setup}" in lines
        assert lines.index(f"source {setup}") < next(i for i, ln in enumerate(lines)
                                                     if ln.startswith("exec "))
    assert "\nsource " not in distributed.CondorExecutor(tmp_path / "s2")._script()


# --------------------------------------------------------------------------- one module
def test_run_and_simulate_generate_submit_text_through_the_one_module(tmp_path: Path) -> None:
    assert condor.submit_description is htcondor.submit_description
    assert distributed.submit_description is htcondor.submit_description
    for module in (condor, distributed):  # no second generator hidden in the backends
        assert "universe" not in inspect.getsource(module)
    opts = BatchOptions(flavour="longlunch", accounting_group="group_u_NA62.users")
    sim = distributed.CondorExecutor(tmp_path / "j", opts=opts).submit_description(0)
    run = htcondor.submit_description(jobdir=tmp_path / "j", k=0, title="nutag run", opts=opts)
    keys = [[ln.split(" = ")[0] for ln in t.splitlines()[1:]] for t in (sim, run)]
    assert keys[0] == keys[1]
    assert sim.splitlines()[1:] == run.splitlines()[1:]


# --------------------------------------------------------------------------- fallbacks
def test_validation_without_bindings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = htcondor.submit_description(jobdir=tmp_path, k=0, title="t", opts=BatchOptions())
    (tmp_path / "chunks-0.txt").write_text("0\n")
    assert htcondor.validate_submit(text, workdir=tmp_path) == \
        ("htcondor2" if _has_bindings() else "rules")
    monkeypatch.setitem(sys.modules, "htcondor2", None)  # as if not installed
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert htcondor.validate_submit(text, workdir=tmp_path) == "rules"
    if _has_bindings():  # the fake condor_submit -dry-run itself needs the bindings
        monkeypatch.setenv("PATH", shim_env(tmp_path / "shim")["PATH"])
        assert htcondor.validate_submit(text, workdir=tmp_path) == "condor_submit -dry-run"
        bad = text.replace('"espresso"', '"coffee"')
        with pytest.raises(CondorError, match="submit description line"):
            htcondor.validate_submit(bad, workdir=tmp_path)
    assert not list(tmp_path.glob(".dry-run-*"))


USER_LOG = "".join([
    "000 (012.000.000) 2026-01-01 10:00:00 Job submitted from host: <127.0.0.1:9618>\n...\n",
    "005 (012.000.000) 2026-01-01 10:00:02 Job terminated.\n",
    SHIM_RULES.TERMINATED.format(rc=0), "...\n",
    "005 (012.001.000) 2026-01-01 10:00:02 Job terminated.\n",
    SHIM_RULES.TERMINATED.format(rc=3), "...\n",
    "012 (012.002.000) 2026-01-01 10:00:03 Job was held.\n\tmemory usage exceeded "
    "request_memory\n\tCode 34 Subcode 0\n...\n",
    "012 (012.003.000) 2026-01-01 10:00:03 Job was held.\n\tlost\n\tCode 1 Subcode 0\n...\n",
    "013 (012.003.000) 2026-01-01 10:00:04 Job was released.\n\tvia condor_release\n...\n",
    "009 (012.004.000) 2026-01-01 10:00:05 Job was aborted.\n\tvia condor_rm (by user j)\n...\n",
])


def test_user_log_with_and_without_bindings(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "submit-0.log"
    log.write_text(USER_LOG)
    expected = {(12, 0): "ok", (12, 1): "exit code 3",
                (12, 2): "held: memory usage exceeded request_memory",
                (12, 4): "aborted (condor_rm)"}
    assert _events_from_text(log) == expected
    assert user_log_events(log) == expected  # JobEventLog when installed
    monkeypatch.setitem(sys.modules, "htcondor2", None)
    assert user_log_events(log) == expected


# --------------------------------------------------------------------------- unsafe flag
def test_allow_unsafe_expressions_reaches_the_chunk_command(tmp_path: Path) -> None:
    def exec_line(opts: condor.JobOptions) -> str:
        script = condor._job_script(tmp_path, opts)
        return script.split("exec ", 1)[1]

    assert "--allow-unsafe-expressions" in exec_line(
        condor.JobOptions(allow_unsafe_expressions=True))
    assert "--allow-unsafe-expressions" not in exec_line(condor.JobOptions())


def test_allow_unsafe_expressions_from_the_command_line_to_run_condor(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cli -> pipeline -> run_condor: the flag is not dropped on the way to the batch jobs."""
    from _backends_data import write_analysis

    from nutag.cli import main

    cfg = write_analysis(tmp_path)
    seen: dict = {}

    class Stop(Exception):
        pass

    def fake_run_condor(analysis, **kw):
        seen.update(kw)
        raise Stop

    monkeypatch.setattr(condor, "run_condor", fake_run_condor)
    monkeypatch.chdir(tmp_path)
    for flag in ([], ["--allow-unsafe-expressions"]):
        with pytest.raises(Stop):
            main(["run", str(cfg), "--backend", "condor", "--condor-dir", str(tmp_path / "j"),
                  "--condor-setup", "none", "--output", str(tmp_path / "res"), *flag])
        assert seen["allow_unsafe_expressions"] is bool(flag)
        assert seen["setup"] == "" and seen["flavour"] == "espresso"


def test_unsafe_expression_runs_in_condor_chunks(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the chunk jobs reloaded the YAML without the submitting run's
    --allow-unsafe-expressions and refused an expression the run had been allowed."""
    pytest.importorskip("htcondor2")
    from _backends_data import write_analysis

    from nutag.engine.backends import run_analysis_on
    from nutag.config.analysis import load_analysis

    cfg = write_analysis(tmp_path)
    sel = tmp_path / "selection.yaml"
    # std::remove("") removes nothing (and fails), but is a name that can delete files
    sel.write_text(sel.read_text().replace('c_p: "p > 5"',
                                           'c_p: "p > 5 && std::remove(\\"\\") != 12345"'))
    for k, v in shim_env(tmp_path / "shim").items():
        monkeypatch.setenv(k, v)
    ana = load_analysis(cfg, allow_unsafe_expressions=True)
    res = run_analysis_on("condor", ana, blinded=True, condor_dir=tmp_path / "jobs",
                          chunk_size=10**9, poll=0.1, allow_unsafe_expressions=True,
                          samples=["mc"])
    assert res.samples["mc"].regions["control"].cutflow[0]["raw"] == 2800
    assert os.access(tmp_path / "jobs" / "job.sh", os.X_OK)


# --------------------------------------------------------------------------- Dask on lxplus
def test_lxplus_dask_cluster_is_cern_cluster_with_the_batch_options() -> None:
    """``--dask-cluster lxplus``: dask-lxplus' CernCluster as ROOT's lxbatch tutorial sets it
    up (no nanny, fixed worker ports, LCG set-up line), with the run's HTCondor options; its
    submit description passes both rule checkers. Nothing is submitted (no scale)."""
    pytest.importorskip("dask_lxplus")
    import warnings

    from nutag.engine.backends import dask_backend

    setup = "/cvmfs/sft.cern.ch/lcg/views/LCG_108/x86_64-el9-gcc13-opt/setup.sh"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # this Python is not the LCG view's
        cluster = dask_backend.lxplus_cluster(
            3, flavour="microcentury", memory="2000MB", disk="3000MB", prologue=[f"source {setup}"],
            port=0, scale=False,
            extra_directives={"+AccountingGroup": '"group_u_NA62.users"'})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert type(cluster).__name__ == "CernCluster"
    assert 'MY.JobFlavour = "microcentury"' in script
    assert '+AccountingGroup = "group_u_NA62.users"' in script
    assert "MY.DaskWorkerMemory = 2000000000" in script
    assert "MY.DaskWorkerDisk = 3000000000" in script
    assert f"source {setup};" in script and "--no-nanny" in script
    assert "--worker-port 10000:10100" in script and "--death-timeout 60" in script
    submit = "".join(line + "\n" for line in script.splitlines() if not line.startswith("#!"))
    htcondor.check_rules(submit)
    assert SHIM_RULES.rule_errors(submit) == []
    assert dask_backend.CLUSTERS == cli_dask_clusters()


def cli_dask_clusters() -> tuple[str, ...]:
    from nutag.cli import DASK_CLUSTERS

    return DASK_CLUSTERS


def test_lxplus_dask_cluster_without_dask_lxplus_names_the_fix(monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    from nutag.engine.backends import dask_backend
    from nutag.core.errors import NutagError

    monkeypatch.setitem(sys.modules, "dask_lxplus", None)  # an import of it raises ImportError
    with pytest.raises(NutagError, match=r"pip install dask-lxplus.*--dask-cluster condor"):
        dask_backend.lxplus_cluster(1, scale=False)
