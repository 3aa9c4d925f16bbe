"""Session-wide test settings.

The selection is JIT-compiled by default in the tests (``NUTAG_COMPILE=off``, inherited by the
subprocesses they start): many tests write their own small selections, and compiling each one
ahead of time (several seconds of g++ per distinct selection) would slow the suite for nothing
they check. The compiled path is tested where it matters: tests/test_compiled_selection.py and
the reference yields (tests/test_regression_yields.py). ``NUTAG_COMPILE=auto pytest`` runs the
whole suite compiled.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUTAG_COMPILE", "off")
# Printing the report page to PDF starts Chromium (1.5-2 s) in every run and report; only
# tests/test_html_report.py needs it, and it turns it back on for its own run.
os.environ.setdefault("NUTAG_PDF", "off")
