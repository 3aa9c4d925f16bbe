"""docs/interactive.md's example must run as written (on small toy inputs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "interactive.md"


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1, "docs/interactive.md should hold exactly one python example"
    return blocks[0]


def _toy_config(work: Path, output_format: str = "ttree") -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    import toy_samples  # noqa: PLC0415

    samples = toy_samples.write_dataset(work / "toy", n=1500, seed=11)
    if output_format == "rntuple":
        toy_samples.to_rntuple(work / "toy")
    text = (REPO / "configs" / "default.yaml").read_text()
    text = text.replace("../data/default/samples.yaml", str(samples))
    text = text.replace("../", str(REPO) + "/")
    path = work / "analysis.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("output_format", ["ttree", "rntuple"])
def test_interactive_example_in_docs_runs(tmp_path: Path, output_format: str) -> None:
    config = _toy_config(tmp_path, output_format)
    code = _example()
    assert 'config = "configs/default.yaml"' in code
    code = code.replace('config = "configs/default.yaml"', f"config = {str(config)!r}")
    env = dict(os.environ, PYTHONPATH=str(REPO / "analysis"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    weighted = float(re.search(r"weighted events in my histogram: (\S+)", proc.stdout).group(1))
    assert weighted > 0
    assert (tmp_path / "p_mu.png").stat().st_size > 1000


def test_blind_region_of_data_is_refused(tmp_path: Path) -> None:
    from nutag.core.errors import NutagError  # noqa: PLC0415
    from nutag.jobs.interactive import InteractiveAnalysis  # noqa: PLC0415

    class FakeGraph:
        regions = {"kmu2_norm": object()}
        blinded_regions = ["signal"]

    ana = InteractiveAnalysis(analysis=None, graphs={"data": FakeGraph()}, threads=1, blinded=True)
    with pytest.raises(NutagError, match="blinded"):
        ana.region("signal", sample="data")
    with pytest.raises(NutagError, match="no region"):
        ana.region("nonexistent", sample="data")
