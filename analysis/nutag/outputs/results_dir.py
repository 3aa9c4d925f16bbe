"""The results directory: replaced as a whole and atomically, locked while a run writes it,
and never losing what nutag did not write there.

Why a module of its own: a results directory is where a physicist also keeps what other
commands wrote beside a run (``nutag project``'s projection, ``nutag display``'s pictures) and
their own notes. nutag writes a complete new directory next to it and swaps it in (an
interrupt leaves the previous results intact); entries of the previous directory that nutag
did not write (not listed in its manifest) are carried over into the new one first. One run
at a time: an exclusive lock next to the directory is held from the check before the event
loop to the swap. A symlinked results directory is followed: the swap happens at its target
and the link stays.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.errors import NutagError

log = logging.getLogger("nutag.outputs.results_dir")

RESULTS_FILE = "results.json"
#: the top-level names nutag wrote into a results directory (what a rewrite may replace)
MANIFEST_FILE = ".nutag-manifest.json"


def resolve(out_dir: Path) -> Path:
    """The directory a results path stands for: a symlink is followed (the link is kept)."""
    out_dir = Path(out_dir)
    return Path(os.path.realpath(out_dir)) if out_dir.is_symlink() else out_dir


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for the few system calls that swap the directories in.

    Python runs handlers between bytecodes of the main thread, so a handler that only records
    the signal makes the swap all-or-nothing; the interrupt is raised right after it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    sigs = [signal.SIGINT, signal.SIGTERM]
    old = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if caught:
            raise KeyboardInterrupt(f"signal {caught[0]} received while writing results")


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While a temporary directory exists, SIGTERM unwinds like Ctrl-C (so it is removed)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def swap_in(tmp: Path, out_dir: Path) -> None:
    """Put the complete tmp dir in place of out_dir: atomically where the kernel can (Linux
    renameat2), else by two renames with signals held. The old one is removed afterwards."""
    with _signals_deferred():
        if out_dir.exists() and _exchange(tmp, out_dir):
            old: Path | None = tmp
        else:
            old = None
            if out_dir.exists():
                old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
                os.replace(out_dir, old)
            os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


_TMP_NAME = re.compile(r"\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)(?:-.*)?\Z")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(out_dir: Path) -> list[Path]:
    """Remove hidden temporaries next to out_dir left by a run that was killed (SIGKILL, power
    cut): ``.<name>.tmp-<pid>-*`` / ``.<name>.old-<pid>`` whose process no longer exists."""
    removed = []
    parent = out_dir.parent
    if not parent.is_dir():
        return removed
    for p in parent.iterdir():
        m = _TMP_NAME.match(p.name)
        if m and m.group("name") == out_dir.name and not _pid_alive(int(m.group("pid"))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
            log.info("removed %s, left by an interrupted run", p)
    return removed


def check_output_dir(out_dir: Path) -> Path:
    """Fail early (before any event is read) if ``out_dir`` cannot become a results directory.

    nutag replaces its results directory as a whole, so it refuses to replace anything that is
    not a results directory (an existing non-empty directory without results.json, a file).
    """
    out_dir = resolve(Path(out_dir))
    hint = "choose another --output, or remove it first if it is really yours to replace"
    if out_dir.exists() and not out_dir.is_dir():
        raise NutagError(f"output {out_dir} exists and is not a directory; {hint}")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / RESULTS_FILE).is_file():
        raise NutagError(f"output directory {out_dir} exists, is not empty and is not a nutag "
                         f"results directory (no {RESULTS_FILE}); nutag would replace it as a "
                         f"whole, so it refuses; {hint}")
    blocker = next((p for p in out_dir.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise NutagError(f"cannot write the results directory {out_dir}: {blocker} is a file, "
                         "not a directory; choose a writable --output")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-", dir=out_dir.parent)
        os.rmdir(probe)
    except OSError as exc:
        raise NutagError(f"cannot write the results directory {out_dir}: "
                         f"{exc.strerror or exc} ({exc.filename or out_dir.parent}); choose a "
                         "writable --output (e.g. on your own disk space)") from None
    return out_dir


def make_tmp(out_dir: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-",
                                 dir=out_dir.parent))


def write_manifest(tmp: Path) -> None:
    """List what nutag wrote into ``tmp`` (before anything else is carried over)."""
    names = sorted(p.name for p in tmp.iterdir())
    (tmp / MANIFEST_FILE).write_text(json.dumps({"written_by_nutag": names}, indent=1) + "\n",
                                     encoding="utf-8")


def _nutag_names(out_dir: Path) -> set[str]:
    """What nutag wrote into an existing results directory (its manifest; without one, an
    older results directory: the files nutag has always written)."""
    try:
        doc = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        return set(doc["written_by_nutag"]) | {MANIFEST_FILE}
    except (OSError, ValueError, KeyError, TypeError):
        legacy = {RESULTS_FILE, "histograms.root", "summary.json", "summary.md", "cutflows.json",
                  "cutflows.md", MANIFEST_FILE}
        return legacy | {p.name for p in out_dir.glob("*.png")} | {
            p.name for p in out_dir.glob("*.pdf")}


def carry_over(out_dir: Path, tmp: Path) -> list[str]:
    """Copy into ``tmp`` every entry of ``out_dir`` that nutag did not write (a projection,
    displays, one's notes), unless ``tmp`` has the same name; returns their names."""
    if not out_dir.is_dir():
        return []
    ours, kept = _nutag_names(out_dir), []
    for entry in sorted(out_dir.iterdir()):
        if entry.name in ours or (tmp / entry.name).exists():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, tmp / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, tmp / entry.name, follow_symlinks=False)
        kept.append(entry.name)
    if kept:
        log.info("kept in %s what nutag did not write: %s", out_dir, ", ".join(kept))
    return kept


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold the results directory for one run: a second nutag writing the same directory
    fails at once with a clear error instead of both succeeding with mixed-up paths.

    The lock is ``flock`` on a hidden file next to the directory; the kernel releases it when
    the process ends, however it ends, so a killed run never leaves it held.
    """
    out_dir = resolve(Path(out_dir))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    path = out_dir.parent / f".nutag-lock-{out_dir.name}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise NutagError(f"another nutag process (pid {holder}) is writing the results "
                             f"directory {out_dir}; wait for it to finish, or give this run "
                             "another --output") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
