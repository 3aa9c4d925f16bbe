"""What HTCondor says happened to each job: the verdicts of a user log (``log =`` file).

``nutag condor status`` tells a failed chunk from a missing one with these verdicts; the
log is read with ``htcondor2.JobEventLog`` when the bindings are installed, and by a text
parser of the same events otherwise (no bindings, or a log the bindings cannot read, e.g.
one being written).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("nutag.engine.htcondor_log")


def user_log_events(path: Path) -> dict[tuple[int, int], str]:
    """Last verdict per (cluster, proc) of an HTCondor user log: 'ok' or why it failed.

    Read with ``htcondor2.JobEventLog`` when the bindings are installed; a text parser of the
    same events is the fallback (no bindings, or a log they cannot read).
    """
    try:
        import htcondor2  # noqa: PLC0415
    except ImportError:
        return _events_from_text(path)
    try:
        return _events_from_bindings(htcondor2, path)
    except Exception as exc:  # noqa: BLE001 - e.g. a log still being written
        log.debug("JobEventLog could not read %s (%s); parsing the text", path, exc)
        return _events_from_text(path)


def _events_from_bindings(htcondor2: Any, path: Path) -> dict[tuple[int, int], str]:
    out: dict[tuple[int, int], str] = {}
    kind = htcondor2.JobEventType
    for ev in htcondor2.JobEventLog(str(path)).events(stop_after=0):
        key = (int(ev.cluster), int(ev.proc))
        if ev.type == kind.JOB_TERMINATED:
            if ev.get("TerminatedNormally", False):
                rv = int(ev.get("ReturnValue", -1))
                out[key] = "ok" if rv == 0 else f"exit code {rv}"
            else:
                out[key] = f"killed by signal {ev.get('TerminatedBySignal', '?')}"
        elif ev.type == kind.JOB_ABORTED:
            out[key] = "aborted (condor_rm)"
        elif ev.type == kind.JOB_HELD:
            reason = ev.get("HoldReason", "")
            out[key] = f"held: {reason}" if reason else "held"
        elif ev.type == kind.JOB_RELEASED:
            out.pop(key, None)
    return out


def _events_from_text(path: Path) -> dict[tuple[int, int], str]:
    out: dict[tuple[int, int], str] = {}
    head = re.compile(r"^(\d{3}) \((\d+)\.(\d+)\.\d+\)")
    lines = path.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        m = head.match(line)
        if not m:
            continue
        code, key = m.group(1), (int(m.group(2)), int(m.group(3)))
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if code == "005":
            rv = re.search(r"return value (-?\d+)", nxt)
            sig = re.search(r"signal (\d+)", nxt)
            out[key] = ("ok" if rv.group(1) == "0" else f"exit code {rv.group(1)}") if rv \
                else f"killed by signal {sig.group(1)}" if sig else "abnormal termination"
        elif code == "009":
            out[key] = "aborted (condor_rm)"
        elif code == "012":
            out[key] = f"held: {nxt}" if nxt and nxt != "..." else "held"
        elif code == "013":
            out.pop(key, None)  # released
    return out
