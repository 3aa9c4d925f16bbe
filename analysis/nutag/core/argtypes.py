"""Argument types shared by every ``nutag`` sub-command, so counts and sizes parse alike.

Counts accept scientific notation (``--events 1e6``) because physicists write event numbers
that way; a value that is not a whole number is an error rather than silently truncated.
"""

from __future__ import annotations

import argparse
import os


def _whole(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text}")
    return int(value)


def positive_int(text: str) -> int:
    """A whole number >= 1 (workers, chunk sizes, counts of things to draw)."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number >= 0 (events to generate, seeds)."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def positive_float(text: str) -> float:
    """A number > 0 (statistics multipliers, numbers of K+ decays)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


#: most threads (or worker processes) --threads accepts; far above any machine nutag runs on,
#: far below the values that wrap around (2**32 + 1 -> 1) or overflow in ROOT
MAX_THREADS = 1024


def thread_count(text: str) -> int:
    """A whole number of threads from 1 to MAX_THREADS (--threads of every command).

    Range-checked here because ROOT takes an unsigned int: 4294967297 silently became 1
    thread and 1e20 failed deep inside cppyy.
    """
    value = _whole(text)
    if not 1 <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_THREADS}, got {text} "
                                         "(omit --threads for the default)")
    return value


#: most threads ``nutag run`` takes when --threads is not given
POLITE_THREADS = 4


def usable_cores() -> int:
    """Cores this process may run on: the CPU affinity (what a batch slot or ``taskset``
    grants) where the platform has it, else every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """The thread count when --threads is not given: min(4, usable cores).

    Why not every core: lxplus login nodes and batch worker nodes are shared, and an event
    loop on all 32+ cores of a login node slows everyone's session. Four threads already get
    most of the speed of the analysis; ask for more with --threads N.
    """
    return min(POLITE_THREADS, usable_cores())
