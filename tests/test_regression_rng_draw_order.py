"""Regression: the simulated events depended on the compiler (random draws in unsequenced order).

Bug: several statements of the simulation drew two random numbers inside one expression, e.g.
``Vector(rng.gauss(..), rng.gauss(..), 1.0)`` or ``add(x + rng.gauss(..), y + rng.gauss(..))``.
C++ leaves the evaluation order of function arguments and of the operands of ``+`` unspecified:
g++ (libnutag.so) drew the y smearing first, clang (cling's JIT, used without a build) the x
smearing, so the same (cfg, stream, seed, entry) gave different events — 533 vs 552 entries of
a 200k misreco sample. Every draw is now a statement of its own (docs/simulation.md §1).

Two pins: the sources contain no statement with two draws (cheap, names the line), and the JIT
and the compiled library write identical samples.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nutag.engine import cpp

REPO = Path(__file__).resolve().parents[1]
SIM_SOURCES = sorted([*(REPO / "cpp" / "src" / "sim").glob("*.cpp"),
                      *(REPO / "cpp" / "include" / "nutag" / "sim").glob("*.hpp")])
_RNG = re.compile(r"\brng_?\b")
_STATEMENT = re.compile(r"[^;{}]*;")
# `if (draw) x = draw(..)`: the condition is sequenced before the body
_SEQUENCED = re.compile(r"^\s*if\s*\(")


def unsequenced_draws(path: Path) -> list[str]:
    """'file:line: statement' for every statement that uses the generator twice."""
    src = re.sub(r"//[^\n]*", "", path.read_text())
    out = []
    for m in _STATEMENT.finditer(src):
        stmt = m.group()
        if len(_RNG.findall(stmt)) >= 2 and not _SEQUENCED.match(" ".join(stmt.split())):
            line = src.count("\n", 0, m.start() + len(stmt) - len(stmt.lstrip())) + 1
            out.append(f"{path.relative_to(REPO)}:{line}: {' '.join(stmt.split())[:160]}")
    return out


def test_scanner_flags_two_draws_in_one_call() -> None:
    bad = REPO / "build" / "_scan_probe.cpp"
    bad.parent.mkdir(exist_ok=True)
    try:
        bad.write_text("void f(Rng& rng) {\n  g(rng.gauss(), rng.gauss());\n"
                       "  if (rng.bernoulli(0.5)) x = rng.uniform();\n}\n")
        assert unsequenced_draws(bad) == ["build/_scan_probe.cpp:2: g(rng.gauss(), rng.gauss());"]
    finally:
        bad.unlink(missing_ok=True)


def test_no_statement_draws_twice() -> None:
    assert SIM_SOURCES
    found = [hit for p in SIM_SOURCES for hit in unsequenced_draws(p)]
    assert not found, "draw each random number in a statement of its own:\n" + "\n".join(found)


def _simulate(mode: str, out: Path) -> None:
    env = dict(os.environ, NUTAG_CPP=mode,
               PYTHONPATH=os.pathsep.join([str(REPO / "analysis"), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-c", "import sys; from nutag.cli import main; sys.exit(main())",
           "simulate", "--events", "30000", "--samples", "signal", "overlay", "misreco",
           "--output", str(out), "--threads", "1", "--force"]
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=900,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.skipif(cpp.library_path() is None, reason="libnutag.so not built (run `make build`)")
def test_jit_and_library_simulate_identical_events(tmp_path: Path) -> None:
    uproot = pytest.importorskip("uproot")
    ak = pytest.importorskip("awkward")
    _simulate("library", tmp_path / "library")
    _simulate("jit", tmp_path / "jit")
    for sample in ("signal", "overlay", "misreco"):
        a = uproot.open(tmp_path / "library" / f"{sample}.root")["nutag"]
        b = uproot.open(tmp_path / "jit" / f"{sample}.root")["nutag"]
        assert a.num_entries == b.num_entries > 0, sample
        differ = [c for c in a.keys()
                  if not ak.all(ak.ravel(a[c].array(library="ak") == b[c].array(library="ak")))]
        assert not differ, f"{sample}: columns differ between JIT and library: {differ[:10]}"
