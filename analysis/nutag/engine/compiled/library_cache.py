"""Compiled selection libraries on disk: compile a source once, keep it by content, reuse it.

Why a content-addressed cache: compiling a selection takes the system compiler seconds to tens
of seconds, while a rerun of the same selection (or another sample sharing its library) only
needs to ``dlopen`` the result. Every file is written atomically and a library is checked
against its recorded digest before use, so concurrent runs and a damaged file never load a
partial library.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

from ...core.atomic import atomic_write
from .compiler import ERROR_LINE, CompileError, Toolchain, first_error, toolchain

log = logging.getLogger("nutag.engine.compiled")


def cache_dir() -> Path:
    """``$NUTAG_COMPILE_CACHE`` or ``build/compiled`` of the work root (in a checkout: the
    source tree's, gitignored; installed: the user's data directory)."""
    env = os.environ.get("NUTAG_COMPILE_CACHE")
    if env:
        return Path(env)
    from ...core.locations import work_root  # noqa: PLC0415

    return work_root() / "build" / "compiled"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: str, path: Path, mode: int) -> None:
    """Rename a finished temporary file into place with ordinary permissions (mkstemp's are
    0600: a shared cache must be readable by whoever shares it)."""
    os.chmod(tmp, mode & ~_umask())
    os.replace(tmp, path)


#: number of compiler runs in this process (tests check the cache is reused)
compiler_runs = 0


def _digest_file(lib: Path) -> Path:
    return lib.with_suffix(".sha256")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _intact(lib: Path) -> bool:
    """Whether a cached library is the one the compiler wrote: its SHA-256 matches the digest
    recorded beside it. Why: loading a truncated or overwritten shared library crashes the
    process (a bus error) on every run until someone deletes it by hand; a damaged one is
    rebuilt instead."""
    try:
        ok = _digest_file(lib).read_text().strip() == _sha256(lib)
    except OSError:
        ok = False
    if not ok:
        log.warning("the cached selection library %s is damaged or has no digest: rebuilding it",
                    lib)
    return ok


def build(source: str, tc: Toolchain | None = None, *, reuse_failure: bool = False) -> Path:
    """The shared library of ``source``, from the cache or compiled into it. The cache key is
    :meth:`.compiler.Toolchain.library_key`: sources differing only in ``#line`` share one library.

    Atomic: the compiler writes a temporary file in the cache directory that is renamed into
    place, so two processes compiling the same key at once both end with a whole library.

    A compiler error is remembered for the exact source (``nutag_sel_<key>.failed``: the first
    error line, then the compiler's output): with ``reuse_failure`` (``auto``) the same source
    is not compiled again, its error is raised at once, so a broken selection costs the
    compiler's time once and not on every run. A compiler that did not finish (killed by a
    signal) leaves nothing behind.
    """
    global compiler_runs
    tc = tc or toolchain()
    out_dir = cache_dir()
    lib = out_dir / f"nutag_sel_{tc.library_key(source)[:32]}.so"
    if lib.is_file() and _intact(lib):
        return lib
    src = lib.with_suffix(".cxx")
    # a failure is remembered for this exact source: its error names this source's file:line
    failed = out_dir / f"nutag_sel_{tc.key(source)[:32]}.failed"
    if reuse_failure and failed.is_file():
        first, _, text = failed.read_text(errors="replace").partition("\n")
        raise CompileError(f"compiling the selection failed before ({src}, remembered in "
                           f"{failed}; delete it to retry):\n{text[-4000:]}", first)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(src, source, mode=0o644)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{lib.name}.", suffix=".tmp")
    os.close(fd)
    cmd = [tc.cxx, *tc.flags, *(f"-I{i}" for i in tc.includes), str(src), "-o", tmp]
    t0 = time.perf_counter()
    try:
        compiler_runs += 1
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            first = first_error(r.stderr)
            if r.returncode > 0 and ERROR_LINE.search(r.stderr):
                atomic_write(failed, f"{first}\n{r.stderr}", mode=0o644)
            raise CompileError(f"compiling the selection failed ({src}):\n{r.stderr[-4000:]}",
                               first)
        atomic_write(_digest_file(lib), _sha256(Path(tmp)), mode=0o644)
        _publish(tmp, lib, 0o755)
    finally:
        Path(tmp).unlink(missing_ok=True)
    failed.unlink(missing_ok=True)
    log.info("compiled the selection in %.1f s: %s", time.perf_counter() - t0, lib)
    return lib

