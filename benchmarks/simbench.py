"""Throughput of the fast simulation: events/s per core per stream, and `nutag simulate` wall time.

Per stream, one process produces two single-threaded chunks of different sizes with the
default simulation config and the selection the default data set uses (MC streams:
preselection; minimum bias: the control trigger, as the pseudo-data's control part). The rate
is the difference of events over the difference of times, so the per-chunk constant (JIT of
the generator call, Snapshot set-up) cancels: it is what a core sustains.

Run as ``python -m benchmarks.simbench --json OUT [--events N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

#: stream -> (sample kind, selection) as in nutag.simulate.dataset.sample_specs
STREAMS = {"kmu2": ("mc", "preselection"), "signal": ("mc", "preselection"),
           "overlay": ("mc", "preselection"), "misreco": ("mc", "preselection"),
           "minbias": ("data", "trigger_control")}


def stream_rates(n_events: int, out_dir: Path) -> dict[str, dict[str, float]]:
    from nutag.simulate.config import DEFAULT_SIM_CONFIG, load_sim_config  # noqa: PLC0415
    from nutag.simulate.chunk_graph import produce_chunk  # noqa: PLC0415
    from nutag.simulate.spec import STREAMS as IDS  # noqa: PLC0415
    from nutag.simulate.spec import Chunk, ChunkJob, Part  # noqa: PLC0415

    cfg = load_sim_config(DEFAULT_SIM_CONFIG)
    small = max(n_events // 10, 100)
    rates: dict[str, dict[str, float]] = {}
    for stream, (kind, sel) in STREAMS.items():
        part = Part(IDS[stream], 4242, small + n_events, sel)
        runs = []
        # the first chunk of a stream JITs its generator call: a warm-up, not timed
        for i, n in enumerate((small, small, small + n_events)):
            job = ChunkJob(part, Chunk(0, n), kind, dict(cfg.values), dict(cfg.fields))
            t0 = time.perf_counter()
            res = produce_chunk(job, out_dir / f"{stream}-{i}.root")
            runs.append((time.perf_counter() - t0, res.n_written))
        runs = runs[1:]
        dt = runs[1][0] - runs[0][0]
        rates[stream] = {"events": n_events, "seconds": dt,
                         "events_per_s": n_events / dt if dt > 0 else float("nan"),
                         "kept_fraction": runs[1][1] / (small + n_events),
                         "chunk_overhead_s": runs[0][0] - small * dt / n_events}
    return rates


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=40_000, help="events per stream (timed part)")
    ap.add_argument("--json", required=True)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nutag-simbench-") as tmp:
        rates = stream_rates(args.events, Path(tmp))
    Path(args.json).write_text(json.dumps(rates), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
