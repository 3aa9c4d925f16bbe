"""Per-stream bookkeeping: what each part of a sample wrote, checked against its limits.

Why after the chunks and not inside them: a part's totals (events written, sum and maximum of
the weights, worst expected number of copies) exist only once all its chunks are done, and
they are what the sample's metadata records (:func:`part_record`) and what decides whether the
production is acceptable (:func:`check_part`). A single chunk that alone exceeds the limit is
refused earlier, by :func:`nutag.simulate.chunk_graph.produce_chunk`, before it is written.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from .chunk_graph import ChunkResult
from .spec import STREAM_NAMES, Part

log = logging.getLogger("nutag.simulate")

#: warn when an entry's expected number of copies in the pseudo-data exceeds this
UNWEIGHT_MEAN_WARN = 0.1


def check_part(sample: str, part: Part, results: Sequence[ChunkResult]) -> None:
    """Refuse a part that wrote more than its ``max_written`` (ValueError); warn when the
    unweighting duplicates events often (N_K * max(w) / M not << 1)."""
    written = sum(r.n_written for r in results)
    if part.max_written is not None and written > part.max_written:
        raise ValueError(f"{sample}: stream {STREAM_NAMES[part.stream]} would "
                         f"write {written} events (limit {part.max_written}); "
                         "tighten data.skim or lower n_kaon_decays")
    if part.unweight_scale is not None:
        worst = max((r.max_copies_mean for r in results), default=0.0)
        if worst > UNWEIGHT_MEAN_WARN:
            log.warning(
                "%s: stream %s: N_K*max(w)/M = %.3g is not << 1, so events are "
                "duplicated often; raise the number of generated events (M = %d)",
                sample, STREAM_NAMES[part.stream], worst, part.n_events)


def part_record(kind: str, part: Part, results: Sequence[ChunkResult]) -> dict[str, Any]:
    """The metadata entry of one part of a ``kind`` ("mc" or "data") sample: its stream, seed,
    selection and what its chunks generated and wrote (weights for weighted streams)."""
    d: dict[str, Any] = {
        "stream": STREAM_NAMES[part.stream], "stream_id": part.stream, "seed": part.seed,
        "n_generated": part.n_events, "selection": part.selection,
        "n_written": sum(r.n_written for r in results)}
    if kind == "mc" or part.unweight_scale is not None:
        d["sum_weight_generated"] = math.fsum(r.sum_weight for r in results)
        d["max_weight"] = max((r.max_weight for r in results), default=0.0)
    if part.control_downscaling is not None:
        d["control_downscaling"] = part.control_downscaling
    if part.skim:
        d["skim"] = part.skim
    if part.unweight_scale is not None:
        d["unweighted"] = True
        d["max_copies_mean"] = max((r.max_copies_mean for r in results), default=0.0)
    return d


__all__ = ["UNWEIGHT_MEAN_WARN", "check_part", "part_record"]
