"""The compiled library and cling's JIT of the same sources must give the same numbers.

An interactive session without a build JITs cpp/src; `make` builds libnutag.so at -O2. If the
two ever disagreed, results would depend on whether someone ran `make` first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nutag.engine import cpp

REPO = Path(__file__).resolve().parents[1]

PROBE = r"""
import json
from nutag.engine.cpp import load_cpp
from nutag.core.rootenv import import_root
mode = load_cpp()
ROOT = import_root()
n = ROOT.nutag
V, P = ROOT.Math.XYZVector, ROOT.Math.XYZPoint
out = {"mode": mode}
out["e_nu"] = n.neutrino_energy(77.34, 25.26)
out["mmiss2"] = n.missing_mass2(V(0.09, 0.0, 75.0), V(0.05, 0.02, 25.0))
vtx = n.closest_approach(n.Line(P(0, 0, 102400), V(1.2e-3, 0, 1)), n.Line(P(40, 10, 183508), V(2e-3, 1e-4, 1)))
out["vertex"] = [vtx.point.x(), vtx.point.y(), vtx.point.z(), vtx.cda]
out["tiles"] = [n.muv3_tile(x, y) for x, y in [(-1300, -1300), (50, 150), (500, -700), (0, 0)]]
df = ROOT.RDataFrame(1000).Define("p", "20.0 + 0.05 * rdfentry_").Define(
    "m2", "nutag::missing_mass2(ROOT::Math::XYZVector(0.09, 0.0, 75.0), ROOT::Math::XYZVector(0.001 * p, 0.0, p))")
out["sum_m2"] = df.Sum("m2").GetValue()
print("RESULT" + json.dumps(out))
"""


def _probe(mode: str) -> dict:
    env = dict(os.environ, NUTAG_CPP=mode, PYTHONPATH=str(REPO / "analysis"))
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def test_jit_path_works_without_a_build() -> None:
    result = _probe("jit")
    assert result["mode"] == "jit"
    assert result["e_nu"] == pytest.approx(52.0814, abs=1e-3)  # the published candidate


@pytest.mark.skipif(cpp.library_path() is None, reason="libnutag.so not built (run `make build`)")
def test_library_and_jit_give_identical_numbers() -> None:
    lib, jit = _probe("library"), _probe("jit")
    assert lib.pop("mode") == "library" and jit.pop("mode") == "jit"
    for key in lib:
        assert lib[key] == pytest.approx(jit[key], rel=1e-13, abs=1e-15), key
