"""Reference-yield regression: pinned toy inputs -> yields and histograms, bin by bin.

The inputs are the seeded numpy toy of tests/toy_samples.py (independent of the evolving C++
generator), so a change here means the *analysis* (selection YAML, C++ helpers, engine,
corrections applied at their nominal values) changed. If the change is intended, regenerate the
reference and commit it:

    NUTAG_REGENERATE_REFERENCE=1 python -m pytest tests/test_regression_yields.py
    # or: python tests/test_regression_yields.py --regenerate
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "reference" / "toy_yields.json"
HISTOS = ("m_miss2", "d_lkr", "e_nu")
REGENERATE = os.environ.get("NUTAG_REGENERATE_REFERENCE") == "1"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "analysis"), str(REPO / "tests"),
                                         env.get("PYTHONPATH", "")])
    env["NUTAG_COMPILE"] = "on"  # the reference holds for the main job's compiled selection
    return env


def produce(work: Path, output_format: str = "ttree") -> dict:
    """Toy inputs -> blinded 1-thread run -> {sample: {region: {raw, sumw, <histo>: bins}}}.

    ``output_format`` "rntuple" converts the toy files (written by uproot as TTree) to RNTuple
    first: the same events must give the same reference, whatever the storage format.
    """
    sys.path.insert(0, str(REPO / "tests"))
    import toy_samples  # noqa: PLC0415

    samples = toy_samples.write_dataset(work / "toy", n=1500, seed=7)
    if output_format == "rntuple":
        toy_samples.to_rntuple(work / "toy")
    text = (REPO / "configs" / "default.yaml").read_text()
    text = text.replace("../data/default/samples.yaml", str(samples))
    text = text.replace("../", str(REPO) + "/")  # selections, corrections, systematics
    (work / "analysis.yaml").write_text(text)
    out = work / "res"
    proc = subprocess.run([sys.executable, "-m", "nutag.cli", "-q", "run",
                           str(work / "analysis.yaml"), "--threads", "1", "--output", str(out)],
                          env=_env(), capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    from nutag.outputs.report import read_histograms  # noqa: PLC0415

    doc = json.loads((out / "results.json").read_text())["doc"]
    hists = read_histograms(out / "histograms.root")
    ref: dict = {}
    for sample, s in sorted(doc["samples"].items()):
        for region, y in sorted(s["yields"].items()):
            entry = {"raw": y["raw"], "sumw": y["sumw"]}
            for h in HISTOS:
                obj = hists.get((sample, region), {}).get(h)
                if obj is not None:
                    entry[h] = [obj.GetBinContent(i) for i in range(obj.GetNbinsX() + 2)]
            ref.setdefault(sample, {})[region] = entry
    return ref


@pytest.mark.parametrize("output_format", ["ttree", "rntuple"])
def test_yields_match_reference(tmp_path: Path, output_format: str) -> None:
    pytest.importorskip("uproot")
    pytest.importorskip("awkward")
    got = produce(tmp_path, output_format)
    if output_format == "ttree" and (REGENERATE or not REFERENCE.exists()):
        REFERENCE.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        if not REGENERATE:
            pytest.skip(f"reference created at {REFERENCE}; commit it")
    ref = json.loads(REFERENCE.read_text())
    assert sorted(got) == sorted(ref)
    for sample in ref:
        assert sorted(got[sample]) == sorted(ref[sample]), sample
        for region, exp in ref[sample].items():
            have = got[sample][region]
            assert have["raw"] == exp["raw"], (sample, region)
            assert have["sumw"] == pytest.approx(exp["sumw"], rel=1e-9), (sample, region)
            for h in HISTOS:
                if h in exp:
                    assert have[h] == pytest.approx(exp[h], rel=1e-9, abs=1e-300), \
                        (sample, region, h)


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    if "--regenerate" not in sys.argv:
        sys.exit("usage: python tests/test_regression_yields.py --regenerate")
    with tempfile.TemporaryDirectory() as d:
        REFERENCE.write_text(json.dumps(produce(Path(d)), indent=1, sort_keys=True) + "\n")
    print(REFERENCE)
