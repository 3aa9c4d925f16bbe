"""Peak resident memory of this process since its exec, for the benchmark's JSON reports.

Why not ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the peak RSS of the
process image before exec over into the new one, so a job started by a benchmark parent that
holds 800 MB reports at least 800 MB. ``VmHWM`` in ``/proc/self/status`` is the high-water mark
of the current address space only; getrusage is the fallback where ``/proc`` is missing.
"""

from __future__ import annotations

import resource
from pathlib import Path

STATUS = Path("/proc/self/status")


def peak_rss_kb() -> int:
    """Peak RSS of this process in kB (VmHWM; getrusage where /proc is not available)."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
