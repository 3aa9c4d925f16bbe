"""A readable end for an arithmetic fault inside a YAML expression during the event loop.

Why: an integer division or remainder by zero in a column or cut (``10 / lav_n_intime > 1``
with lav_n_intime = 0) raises SIGFPE in the middle of the event loop; ROOT's handler prints a
stack trace whose only mention of the cut is a gdb frame, and the process dies. The signal
cannot be turned into a Python error (the loop is C++ on several threads), so for the length
of the loop a handler names the YAML expressions that divide — with file, line and key — and
ends the process with the usual status for SIGFPE (136). Written with ``write`` and ``_exit``
only: nothing that is unsafe in a signal handler.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from .rootenv import import_root

#: a division or remainder operator (not a ``//`` comment)
_DIVIDES = re.compile(r"(?<![/*])[/%](?![/*])")

_DECLARATION = r"""
#include <algorithm>
#include <csignal>
#include <cstring>
#include <unistd.h>
namespace nutag_fpe_guard {
inline char message[16384];
inline std::size_t length = 0;
inline struct sigaction previous;
inline void on_fpe(int) {
  ssize_t written = ::write(2, message, length);
  (void)written;
  ::_exit(128 + SIGFPE);
}
inline void install(const char* text) {
  length = std::min(std::strlen(text), sizeof(message));
  std::memcpy(message, text, length);
  struct sigaction sa {};
  sa.sa_handler = on_fpe;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGFPE, &sa, &previous);
}
inline void restore() { ::sigaction(SIGFPE, &previous, nullptr); }
}
"""


def dividing_expressions(items: Iterable[tuple[str, str]]) -> list[str]:
    """``"file:line: key: `expr`"`` for every (where, expr) whose expression divides."""
    return [f"{where}: `{expr}`" for where, expr in items if _DIVIDES.search(expr)]


def fault_message(suspects: list[str]) -> str:
    """What the handler prints: the fault, the expressions that may have caused it, the fix."""
    listed = "\n".join(f"  {s}" for s in dict.fromkeys(suspects)) or "  (none divides)"
    return ("nutag: error: the event loop stopped on an arithmetic fault (SIGFPE: an integer "
            "division or remainder by zero) in a YAML expression. The expressions that divide:\n"
            f"{listed}\nFix: guard the divisor, e.g. `n > 0 ? 10 / n : 0`, or divide as "
            "floating point (`10.0 / n`)\n")


#: what a Dask worker prints when its loop faults: it does not know the YAML of the graph it
#: runs (the client does, and lists the expressions that divide: nutag.engine.run.worker_died_error)
WORKER_FAULT = ("nutag: error: this Dask worker stopped on an arithmetic fault (SIGFPE: an "
                "integer division or remainder by zero) in the event loop of a nutag task; the "
                "client's error lists the YAML expressions that divide. Fix: guard the divisor, "
                "e.g. `n > 0 ? 10 / n : 0`, or divide as floating point (`10.0 / n`)\n")


def _install(message: str) -> Any:
    ROOT = import_root()
    if not hasattr(ROOT, "nutag_fpe_guard"):
        ROOT.gInterpreter.Declare(_DECLARATION)
    ROOT.nutag_fpe_guard.install(message.encode())
    return ROOT


def guard_worker() -> None:
    """SIGFPE ends this (Dask worker) process with :data:`WORKER_FAULT`, for good.

    Why for good: a worker process exists to run nutag's tasks, there is no hook at the end of
    a task to restore the previous handler, and ROOT's own handler would spend seconds on a
    gdb stack trace before the worker dies anyway, at every retry.
    """
    _install(WORKER_FAULT)


@contextlib.contextmanager
def fpe_named(suspects: list[str]) -> Iterator[None]:
    """While inside, SIGFPE ends the process with :func:`fault_message` instead of a trace."""
    ROOT = _install(fault_message(suspects))
    try:
        yield
    finally:
        ROOT.nutag_fpe_guard.restore()
