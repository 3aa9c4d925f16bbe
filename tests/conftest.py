"""Session-wide test settings.

The selection is JIT-compiled by default in the tests (``NUTAG_COMPILE=off``, inherited by the
subprocesses they start): many tests write their own small selections, and compiling each one
ahead of time (several seconds of g++ per distinct selection) would slow the suite for nothing
they check. The compiled path is tested where it matters: tests/test_equality_matrix.py (every
route of the real analysis), tests/test_compiled_selection.py, the reference yields
(tests/test_regression_yields.py) and the main job of tests/test_calibration.py.
``NUTAG_COMPILE=auto pytest`` runs the whole suite compiled.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("NUTAG_COMPILE", "off")
# Printing the report page to PDF starts Chromium (1.5-2 s) in every run and report; only
# tests/test_html_report.py needs it, and it turns it back on for its own run.
os.environ.setdefault("NUTAG_PDF", "off")


# --------------------------------------------------------------------------- test-time budget
#: The modules whose fixtures or tests take longest (docs/development.md, measured by
#: ``python -m benchmarks.suite_time``), run first: with the suite split by module over both
#: cores (``make test``: pytest-xdist), a long module started last would leave one core idle
#: at the end. The rest keep their alphabetical order.
SLOW_MODULES_FIRST: tuple[str, ...] = (
    "test_benchmarks.py", "test_calibration.py", "test_backends_pipeline.py",
    "test_equality_matrix.py", "test_fused_selection.py", "test_compiled_selection.py", "test_analysis_integration.py",
    "test_bad_input.py", "test_regression_bad_input_routes.py", "test_backends_condor.py",
    "test_blinding_leaks.py", "test_simulate.py", "test_interrupt.py",
    "test_simulate_backends.py", "test_interactive.py", "test_display.py")


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001
    """The slow modules first (stable: a module's own tests keep their order)."""
    rank = {name: i for i, name in enumerate(SLOW_MODULES_FIRST)}
    items.sort(key=lambda it: rank.get(Path(str(it.fspath)).name, len(rank)))


@pytest.hookimpl(optionalhook=True)  # without pytest-xdist (-p no:xdist) the hook is unused
def pytest_xdist_make_scheduler(config, log):  # noqa: ANN001, ANN201
    """Whole modules per worker (their module- and session-scoped fixtures are made once), in
    the collection order above."""
    from xdist.scheduler import LoadFileScheduling  # noqa: PLC0415

    config.option.loadscopereorder = False  # keep the slow-first order, not the test count's
    return LoadFileScheduling(config, log)


def pytest_addoption(parser) -> None:  # noqa: ANN001
    parser.addoption("--time-budget", metavar="JSON", default=None,
                     help="write every test's setup/call/teardown seconds and the session's "
                     "wall time to JSON (read by python -m benchmarks.suite_time)")


_TIMES: dict[str, dict[str, float]] = {}
_WORKERS: dict[str, str] = {}
_START = time.monotonic()


def pytest_runtest_logreport(report) -> None:  # noqa: ANN001
    """Collected in the controlling process: pytest-xdist hands the workers' reports to it."""
    _TIMES.setdefault(report.nodeid, {})[report.when] = report.duration
    node = getattr(report, "node", None)  # the xdist worker that ran it (None: no xdist)
    if node is not None:
        _WORKERS[report.nodeid] = node.gateway.id


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ANN001
    out = session.config.getoption("--time-budget")
    if not out or hasattr(session.config, "workerinput"):  # workers report to the controller
        return
    numprocesses = getattr(session.config.option, "numprocesses", None) or 1
    record = {"wall_s": time.monotonic() - _START, "workers": numprocesses,
              "exitstatus": int(exitstatus), "tests": _TIMES, "worker_of": _WORKERS}
    path = Path(out)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
    os.replace(tmp, path)
