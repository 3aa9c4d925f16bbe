"""An interrupted run never replaces good results with partial ones, nor leaves temporaries.

The real thing: a ``nutag run`` subprocess is interrupted (SIGINT, SIGTERM) once it has
started its event loop (the ``-v`` log line says so) over a results directory holding a
previous good run; afterwards that directory is byte-for-byte what it was and no hidden
temporary is left next to it. Then the pieces: an interrupt while results are written, the
prompt exit during the C++ event loop (nutag.core.progress.exit_on_interrupt), stale temporaries
of a killed run, and a second run over an existing results directory.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import _robust_toy as rt


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir()) if p.is_file()}


def _temporaries(out: Path) -> list[str]:
    return [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return rt.good_run(tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_keeps_the_previous_results(good: tuple[Path, Path], tmp_path: Path,
                                                    signum: int) -> None:
    cfg, previous = good
    out = tmp_path / "results"
    shutil.copytree(previous, out)
    before = _digest(out)
    # the same analysis over 15 copies of each file: an event loop long enough to interrupt
    samples = rt.repeat_files(cfg.parent / "toy" / "samples.yaml", 15, tmp_path / "long.yaml")
    long_cfg = rt.write_config(tmp_path, samples, "long_analysis.yaml")
    proc = subprocess.Popen([sys.executable, "-m", "nutag.cli", "-v", "run", str(long_cfg),
                             "--threads", "2", "--output", str(out)], env=rt.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "in one event loop" in line:
                break
        else:
            pytest.fail("the run ended before its event loop:\n" + "".join(seen[-30:]))
        time.sleep(1.0)  # midway: the loop (JIT, then events) takes longer than this
        assert proc.poll() is None, "the run finished before it could be interrupted"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, "an interrupted run must not report success"
    assert "Traceback" not in err, err[-3000:]
    assert _digest(out) == before, "the previous results were modified"
    assert _temporaries(out) == []


def test_interrupt_while_writing_results(good: tuple[Path, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C half-way through writing (after the tables, during the plots): nothing changes."""
    from nutag.outputs import plots, report

    out = tmp_path / "results"
    shutil.copytree(good[1], out)
    before = _digest(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "make_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.report_from_dir(out)
    assert _digest(out) == before and _temporaries(out) == []


def test_exit_on_interrupt_ends_the_cpp_event_loop_at_once(tmp_path: Path) -> None:
    """Python handles signals between bytecodes, i.e. after a C++ event loop; the guard ends
    the process within the loop instead (safe: nothing is written during it)."""
    script = tmp_path / "loop.py"
    script.write_text(
        "import time\n"
        "from nutag.core.progress import exit_on_interrupt\n"
        "from nutag.core.rootenv import import_root\n"
        "ROOT = import_root()\n"
        "total = ROOT.RDataFrame(2_000_000_000).Define('x', 'sqrt(rdfentry_ * 1.0)').Sum('x')\n"
        "print('loop', flush=True)\n"
        "with exit_on_interrupt():\n"
        "    total.GetValue()\n"
        "print('finished', flush=True)\n")
    proc = subprocess.Popen([sys.executable, str(script)], env=rt.env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == "loop"
        time.sleep(1.0)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "finished" not in out
    assert time.monotonic() - sent < 10
    assert "interrupted during the event loop" in err


def test_python_handlers_are_back_after_the_loop() -> None:
    from nutag.core.progress import exit_on_interrupt

    # Python's C-level handler first, SIGINT deliverable: libraries imported by earlier tests
    # of this process (ROOT, TBB, Dask) may have put their own handler underneath Python's
    # record (signal.getsignal does not see it) or blocked the signal in this thread, and
    # exit_on_interrupt restores whatever C handler it found
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    before = signal.getsignal(signal.SIGINT)
    with exit_on_interrupt():
        pass
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
        time.sleep(0.1)
    assert signal.getsignal(signal.SIGINT) is before


def test_stale_temporaries_of_a_killed_run_are_removed(good: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    from nutag.outputs import report

    out = tmp_path / "results"
    shutil.copytree(good[1], out)
    dead = tmp_path / f".results.tmp-{2**22 + 12345}-abc"  # no such pid
    dead.mkdir()
    (dead / "summary.json").write_text("{}")
    unrelated = tmp_path / ".other.tmp-1-x"
    unrelated.mkdir()
    report.report_from_dir(out)
    assert not dead.exists() and unrelated.exists()


def test_second_run_replaces_the_results_directory_atomically(good: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    """A rerun over an existing results directory replaces what nutag wrote there: nothing
    stale of nutag's survives (what nutag did not write is kept: tests/test_report.py)."""
    from nutag.outputs.results_dir import MANIFEST_FILE

    cfg, previous = good
    out = tmp_path / "results"
    shutil.copytree(previous, out)
    (out / "plane_old_sample.png").write_text("stale plot of a sample that no longer exists")
    manifest = json.loads((out / MANIFEST_FILE).read_text())  # as an earlier run had written it
    manifest["written_by_nutag"].append("plane_old_sample.png")
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    rt.nutag("-q", "run", str(cfg), "--threads", "1", "--output", str(out), check=True)
    assert not (out / "plane_old_sample.png").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in previous.iterdir())
    old = json.loads((previous / "summary.json").read_text())
    new = json.loads((out / "summary.json").read_text())
    assert new["n_kaon_decays"] == old["n_kaon_decays"]
    assert _temporaries(out) == []
