"""Calibration helper: weighted MC yields of the analysis regions at N_K fiducial K+ decays.

Produces (or reuses) weighted MC samples of the rare streams with the generator preselection,
then runs the analysis selection (selections/*.yaml, plus optional extra YAML files with
proposed cuts) through the ordinary engine (nutag.engine.graph) and prints, per sample and region,
the expected count N_K * sum(w) / n_generated and the raw MC count. Used to tune the
parameters of the CALIBRATION section of simulation/default.yaml (docs/simulation.md).

    PYTHONPATH=analysis python -m nutag.simulate.calibrate --out /tmp/calib-mc \\
        --events signal=200000,overlay=400000,misreco=400000 [--extra my_cuts.yaml]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .config import REPO_ROOT, load_sim_config
from .dataset import Dataset, McDef, produce_dataset

SELECTIONS = [REPO_ROOT / "selections" / "kmu2.yaml", REPO_ROOT / "selections" / "nutag.yaml"]
REGIONS = ("signal", "sb_dlkr", "sb_mmiss", "signal_relaxed", "sb_dlkr_relaxed",
           "sb_mmiss_relaxed", "tagged", "tagged_relaxed")


def produce_mc(out: Path, events: dict[str, int], *, threads: int = 2,
               sim_config: str | None = None, seed0: int = 900) -> Path:
    mc = tuple(McDef(name, name, n, seed0 + i, "nu") for i, (name, n) in enumerate(events.items()))
    ds = Dataset(path="<calibrate>", sim_config=sim_config or str(REPO_ROOT / "simulation" /
                                                                  "default.yaml"),
                 output=str(out), chunk_size=100_000, mc=mc, data=None)
    return produce_dataset(ds, out, threads=threads, cfg=load_sim_config(ds.sim_config)
                           ).samples_yaml


def yields(samples_yaml: Path, *, n_k: float = 5e12, extra: list[str] | None = None,
           threads: int = 2, regions: tuple[str, ...] = REGIONS) -> dict[str, Any]:
    from ..engine import graph, run  # noqa: PLC0415
    from ..config.analysis import load_samples, load_selection  # noqa: PLC0415
    from ..engine.cpp import load_cpp  # noqa: PLC0415

    eff = run.configure_threads(threads)
    samples = load_samples(samples_yaml)
    sel = load_selection([*map(str, SELECTIONS), *(extra or [])])
    # MC only: this tool never reads pseudo-data (blinding)
    graphs = [graph.build_graph(s, sel, blinded=False, declare=load_cpp)
              for s in samples.values() if s.kind == "mc"]
    res = run.run(graphs, eff)
    out: dict[str, Any] = {}
    for name, s in res.samples.items():
        ngen = samples[name].meta["n_generated"]
        out[name] = {}
        for r in regions:
            if r not in s.regions:
                continue
            last = s.regions[r].cutflow[-1]
            scale = n_k / float(ngen)
            out[name][r] = {"expected": last["sumw"] * scale,
                            "error": (last["sumw2"] ** 0.5) * scale, "raw": last["raw"]}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/nutag-calib")
    ap.add_argument("--events", default="signal=200000,overlay=400000,misreco=400000")
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-k", type=float, default=5e12)
    ap.add_argument("--sim-config", default=None)
    a = ap.parse_args(argv)
    ev = {k: int(float(v)) for k, v in (x.split("=") for x in a.events.split(","))}
    sy = produce_mc(Path(a.out), ev, threads=a.threads, sim_config=a.sim_config)
    y = yields(sy, n_k=a.n_k, extra=a.extra, threads=a.threads)
    print(json.dumps(y, indent=1))
    for name, regs in y.items():
        print(f"{name:10s} " + "  ".join(f"{r}={v['expected']:.3g}({v['raw']})"
                                          for r, v in regs.items()))


if __name__ == "__main__":
    main()
