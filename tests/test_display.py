"""nutag display: event pictures from a small signal sample; blinding is respected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3000 signal MC events and an analysis config pointing at them."""
    dataset = pytest.importorskip("nutag.simulate.dataset")
    from nutag.simulate.config import load_sim_config

    d = tmp_path_factory.mktemp("display")
    ds = dataset.Dataset(path="<test>", sim_config=str(REPO / "simulation" / "default.yaml"),
                         output=str(d / "samples"), chunk_size=3000,
                         mc=(dataset.McDef("signal", "signal", 3000, 4242),), data=None)
    res = dataset.produce_dataset(ds, d / "samples", threads=2,
                                  cfg=load_sim_config(ds.sim_config))
    text = (REPO / "configs" / "default.yaml").read_text()
    text = text.replace("../data/default/samples.yaml", str(res.samples_yaml))
    text = text.replace(": ../", f": {REPO}/").replace("- ../", f"- {REPO}/")  # other paths
    cfg = d / "analysis.yaml"
    cfg.write_text(text)
    return cfg


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "analysis"))
    return subprocess.run([sys.executable, "-m", "nutag.validate_cli", *args], env=env,
                          capture_output=True, text=True, timeout=600)


def test_display_named_and_selected_events(small_config: Path, tmp_path: Path) -> None:
    proc = _cli("display", "--config", str(small_config), "--sample", "signal", "--entry", "0",
                "--region", "signal", "--count", "1", "--output", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    written = [Path(p) for p in proc.stdout.split()]
    assert len(written) == 4  # entry 0 and one signal-region event, PNG + PDF each
    assert tmp_path / "display_signal_0.png" in written
    for p in written:
        assert p.stat().st_size > 1000
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_unknown_entry_and_blinded_run_are_errors(small_config: Path, tmp_path: Path) -> None:
    proc = _cli("display", "--config", str(small_config), "--sample", "signal", "--entry",
                "99999999", "--output", str(tmp_path))
    assert proc.returncode == 1 and "no entry" in proc.stderr
    (tmp_path / "summary.json").write_text(json.dumps({"blinded": True, "candidates": []}))
    proc = _cli("display", str(tmp_path))
    assert proc.returncode == 1 and "blinded" in proc.stderr
