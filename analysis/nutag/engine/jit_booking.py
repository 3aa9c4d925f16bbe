"""One RDataFrame booking call that cling compiles, its failure reported at the YAML line.

Why one place: a YAML expression reaches cling through several bookings (a column, a cut, a
histogram, a blind-box veto, a systematic source's factors). When cling rejects one, what a
user needs is the same everywhere: the YAML file:line and key of the expression and cling's
own error lines, without cling's meaningless ``input_line_N`` prefixes, as a ConfigError
raised while the graph is built (before any event is read).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from ..config.expressions import guarded_jit_expression
from ..config.yamlio import Loc
from ..core.errors import ConfigError
from ..core.rootenv import capture_stderr

log = logging.getLogger("nutag.engine.jit_booking")

#: the hint of a ConfigError for an expression that does not compile
EXPRESSION_HINT = ("fix the C++ expression (run it in a ROOT prompt to experiment); names from "
                   "nutag:: need the C++ helpers declared")
_DIAG = re.compile(r"^input_line_\d+:\d+:\d+:\s*")


def cling_diagnostics(text: str, limit: int = 3) -> str:
    """The distinct cling 'error:' lines, without the meaningless input_line prefix."""
    seen: list[str] = []
    for line in text.splitlines():
        if "error" in line:
            msg = _DIAG.sub("", line.strip())
            if msg not in seen:
                seen.append(msg)
    return "; ".join(seen[:limit])


def guarded(expr: str, loc: Loc, key: str) -> str:
    """A YAML expression as jitted, its exceptions in the loop naming ``loc`` and ``key``."""
    return guarded_jit_expression(expr, f"{loc.file}:{loc.line}: {key}")


def jit_call(call: Callable[[], Any], loc: Loc, key: str, what: str,
             hint: str = EXPRESSION_HINT) -> Any:
    """Run one RDataFrame booking call; a cling failure becomes a ConfigError at ``loc``
    (``key``: the YAML key, ``what``: the expression in words), cling's warnings a log line."""
    error: Exception | None = None
    with capture_stderr() as cap:
        try:
            result = call()
        except Exception as exc:  # cppyy raises std::runtime_error / TypeError variants
            error = exc
    if error is None:
        if cap.text.strip():
            log.warning("%s:%d: %s: cling said: %s", loc.file, loc.line, key, cap.text.strip())
        return result
    diag = cling_diagnostics(cap.text) or str(error).strip().splitlines()[-1]
    raise ConfigError(loc.file, loc.line, key, f"{what} does not compile: {diag}", hint)
