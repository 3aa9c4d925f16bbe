"""Progress of the event loop in a terminal, and a prompt Ctrl-C while it runs.

Why a module of its own: whether to draw a progress bar is a decision about the terminal, not
about the analysis — a bar is useful when a person watches a terminal and noise in a log file,
a batch job or a pipe (``nutag run | tail -1`` must still end with the results path). The
decision is :func:`should_show_progress`; the bar itself is ROOT's
(``ROOT.RDF.Experimental.AddProgressBar``, ROOT >= 6.30), attached by :func:`attach_progress`.

Why :func:`exit_on_interrupt`: the event loop is one long C++ call, and Python only runs its
signal handlers between bytecodes, so Ctrl-C would wait for the whole loop to finish. While the
loop runs nothing has been written yet (results are written to a temporary directory *after*
it), so ending the process at once is safe: the previous results stay untouched.

Environment: ``NUTAG_PROGRESS=1`` forces the bar (e.g. in a log you tail), ``NUTAG_PROGRESS=0``
disables it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

log = logging.getLogger("nutag.core.progress")

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def should_show_progress(stream: TextIO | None = None) -> bool:
    """True when a person is watching: the output is a terminal and nutag is not ``--quiet``.

    ROOT's bar writes to standard output, so that is the stream tested by default.
    ``NUTAG_PROGRESS`` (1/0) overrides everything; ``TERM=dumb`` and ``CI`` turn it off.
    """
    env = os.environ.get("NUTAG_PROGRESS", "").strip().lower()
    if env in _FALSE:
        return False
    if env in _TRUE:
        return True
    if logging.getLogger("nutag").getEffectiveLevel() > logging.INFO:  # --quiet
        return False
    if os.environ.get("TERM") == "dumb" or os.environ.get("CI"):
        return False
    stream = stream if stream is not None else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def attach_progress(df: Any, *, force: bool | None = None) -> bool:
    """Attach ROOT's progress bar to a dataframe (any node) if :func:`should_show_progress`.

    Call before the event loop. Returns whether a bar was attached. A dataframe that cannot
    carry one (e.g. a distributed dataframe) is left alone.
    """
    if not (should_show_progress() if force is None else force):
        return False
    from .rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    try:
        ROOT.RDF.Experimental.AddProgressBar(ROOT.RDF.AsRNode(df))
    except Exception as exc:  # noqa: BLE001 - a progress bar must never fail a run
        log.debug("no progress bar for %r: %s", df, exc)
        return False
    return True


def _size(files: Iterable[str]) -> int:
    total = 0
    for f in files:
        with contextlib.suppress(OSError):
            total += os.path.getsize(f)
    return total


def attach_progress_to_graphs(graphs: Iterable[Any], *, force: bool | None = None) -> str | None:
    """One bar for a whole run: on the largest sample (by file size), which finishes last.

    ``RunGraphs`` runs every sample's loop concurrently; one bar per sample would overwrite
    each other on the same terminal line. Returns the name of the sample carrying the bar.
    """
    graphs = list(graphs)
    if not graphs or not (should_show_progress() if force is None else force):
        return None
    largest = max(graphs, key=lambda g: _size(getattr(getattr(g, "sample", None), "files", ())))
    return largest.name if attach_progress(largest.df, force=True) else None


# --------------------------------------------------------------------------- interrupts
_HANDLER = r"""
#include <csignal>
#include <cstdint>
#include <unistd.h>
namespace nutag_progress {
inline void abort_event_loop(int sig) {
  static const char msg[] =
      "\nnutag: interrupted during the event loop: nothing was written, the previous results "
      "are untouched\n";
  ssize_t ignored = ::write(2, msg, sizeof(msg) - 1);
  (void)ignored;
  ::_exit(128 + sig);
}
inline std::uintptr_t abort_event_loop_address() {
  return reinterpret_cast<std::uintptr_t>(&abort_event_loop);
}
}
"""
_declared = False


def _handler_address() -> int:
    global _declared
    from .rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    if not _declared:
        if not ROOT.gInterpreter.Declare(_HANDLER):
            raise RuntimeError("could not declare the event-loop signal handler")
        _declared = True
    return int(ROOT.nutag_progress.abort_event_loop_address())


@contextlib.contextmanager
def exit_on_interrupt(signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM end the process at once (exit status 128 + signal).

    Only for a block that writes nothing (the event loop): the C-level handler calls
    ``_exit`` without unwinding Python. Outside the block Python's handlers are back, so an
    interrupt while results are written unwinds and removes the temporary directory. A no-op
    outside the main thread or where the handler cannot be installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        address = _handler_address()
        libc = ctypes.CDLL(None, use_errno=True)
        install = libc.signal
        install.restype, install.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_void_p]
    except Exception as exc:  # noqa: BLE001 - keep Python's (deferred) handling
        log.debug("event-loop interrupt handler unavailable: %s", exc)
        yield
        return
    old = {int(s): install(int(s), address) for s in signals}
    try:
        yield
    finally:
        for s, handler in old.items():
            install(s, handler)
