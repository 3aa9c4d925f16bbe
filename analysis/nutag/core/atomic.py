"""Write a file so that a reader sees the old content or the new, never half of it.

Why one function for every output: a crashed or concurrent run must never leave a
half-written table, manifest or job file that a later step would trust. The text goes to a
temporary file in the same directory (same filesystem), is flushed to disk, then
``os.replace``-d over the target, which POSIX makes atomic.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike, text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` to a temporary file in the same directory, then ``os.replace`` it.

    ``mode``: permissions of the result (masked by the umask); without it the file keeps
    mkstemp's owner-only 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, mode & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
