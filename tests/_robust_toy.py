"""Small toy analyses for the robustness tests (bad input, interrupt, provenance, report).

Why a helper of its own: those tests need a complete, *runnable* analysis config over toy
inputs (tests/toy_samples.py) that keeps working while the ntuple schema grows. Columns the
toy does not simulate (samples/ntuple-schema.yaml lists them all) are added as zeros of their
declared type, which every veto-like cut reads as "nothing there".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import toy_samples  # noqa: E402

_NUMPY = {"bool": "bool", "int": "int32", "Int_t": "int32", "double": "float64",
          "float": "float32", "ULong64_t": "uint64", "unsigned int": "uint32"}


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO / "analysis"), e.get("PYTHONPATH", "")])
    e.pop("NUTAG_PROGRESS", None)
    return e


def _complete(path: Path, kind: str) -> None:
    """Add the schema's scalar columns the toy lacks (zeros), rewriting the file."""
    import awkward as ak
    import numpy as np
    import uproot

    schema = yaml.safe_load((REPO / "samples" / "ntuple-schema.yaml").read_text())["columns"]
    with uproot.open(path) as f:
        arrays = f["nutag"].arrays(library="ak")
    n = len(arrays)
    cols = {k: arrays[k] for k in arrays.fields}
    added = False
    for name, spec in schema.items():
        wanted = spec.get("kinds", "all") in ("all", kind)
        if name in cols or not wanted or spec["type"] not in _NUMPY:
            continue
        cols[name] = np.zeros(n, dtype=_NUMPY[spec["type"]])
        added = True
    if added:
        with uproot.recreate(path) as f:
            f["nutag"] = {k: (v if isinstance(v, np.ndarray) else ak.Array(v))
                          for k, v in cols.items()}


def write_toy(directory: Path, n: int = 1500, seed: int = 11) -> Path:
    """Toy samples (every schema column present); returns samples.yaml."""
    samples = toy_samples.write_dataset(directory, n=n, seed=seed)
    for f in directory.glob("*.root"):
        _complete(f, "data" if f.stem == "data" else "mc")
    # the seeds into meta, as `nutag simulate` writes them (provenance reports them)
    text = samples.read_text()
    for i, s in enumerate(("kmu2", "signal", "overlay", "misreco")):
        text = text.replace(f"meta: {{stream: {s}, ", f"meta: {{stream: {s}, seed: {seed + i}, ")
    text = text.replace("meta: {n_kaon_decays", f"meta: {{seed: {seed + 10}, n_kaon_decays")
    samples.write_text(text)
    return samples


def write_config(directory: Path, samples: Path, name: str = "analysis.yaml",
                 selections: list[Path] | None = None) -> Path:
    """configs/default.yaml pointing at ``samples`` (and optionally other selection files)."""
    text = (REPO / "configs" / "default.yaml").read_text()
    text = text.replace("../data/default/samples.yaml", str(samples))
    text = text.replace("../", str(REPO) + "/")
    if selections is not None:
        listed = "".join(f"\n  - {p}" for p in selections)
        text = re.sub(r"selections:\n(  - .*\n)+", f"selections:{listed}\n", text)
    path = directory / name
    path.write_text(text)
    return path


def repeat_files(samples: Path, times: int, out: Path) -> Path:
    """A samples file listing ``times`` copies of every file: a longer event loop for free.
    The copies are hard links (no disk space): one path listed twice is an error."""
    text = samples.read_text()

    def copies(m: re.Match) -> str:
        src = samples.parent / m.group(1)
        paths = []
        for k in range(times):
            p = out.parent / f"{src.stem}.copy{k}{src.suffix}"
            if not p.exists():
                os.link(src, p)
            paths.append(str(p))
        return "files: [" + ", ".join(paths) + "]"

    out.write_text(re.sub(r"files: \[([\w.]+)\]", copies, text))
    return out


def nutag(*args: str, timeout: float = 600, check: bool | None = None,
          **kw) -> subprocess.CompletedProcess:
    """Run the ``nutag`` CLI in a subprocess (ROOT's thread pool is process-global)."""
    proc = subprocess.run([sys.executable, "-m", "nutag.cli", *args], env=env(),
                          capture_output=True, text=True, timeout=timeout, **kw)
    if check is True:
        assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def good_run(base: Path) -> tuple[Path, Path]:
    """One complete blinded toy run, made once per test session: (config, results dir)."""
    work = base / "good_run"
    out = work / "results"
    if not (out / "summary.json").is_file():
        work.mkdir(parents=True, exist_ok=True)
        samples = write_toy(work / "toy")
        cfg = write_config(work, samples)
        nutag("-q", "run", str(cfg), "--threads", "1", "--output", str(out), check=True)
    return work / "analysis.yaml", out
